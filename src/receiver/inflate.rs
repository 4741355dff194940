//! Request bodies' `Content-Encoding`: gzip, deflate (zlib-wrapped, or raw as some clients send
//! it) and Brotli, each decompressed only up to a limit, so a small body that inflates without
//! end (a "zip bomb") is refused after `max` bytes instead of filling the memory.

use std::borrow::Cow;
use std::io::Read;

/// Why a body could not be decompressed.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum InflateError {
    /// An encoding other than gzip, deflate, br or identity.
    #[error("unsupported content encoding {0:?}: send gzip, deflate, br or no encoding")]
    Unsupported(String),
    /// The bytes are not what the encoding says.
    #[error("the {encoding} body cannot be decompressed: {message}")]
    Corrupt {
        /// The encoding.
        encoding: &'static str,
        /// What the decoder said.
        message: String,
    },
    /// More than the limit came out.
    #[error("the decompressed body is larger than {} MiB", .0 / (1024 * 1024))]
    TooLarge(usize),
}

/// The body decompressed as `encoding` (the `Content-Encoding` header, if any) says, refused
/// once it passes `max` bytes.
pub fn inflate<'a>(encoding: Option<&str>, bytes: &'a [u8], max: usize) -> Result<Cow<'a, [u8]>, InflateError> {
    let encoding = encoding.map(|e| e.trim().to_ascii_lowercase()).unwrap_or_default();
    let (name, reader): (&'static str, Box<dyn Read + 'a>) = match encoding.as_str() {
        "" | "identity" => return Ok(Cow::Borrowed(bytes)),
        "gzip" | "x-gzip" => ("gzip", Box::new(flate2::read::MultiGzDecoder::new(bytes))),
        "deflate" if is_zlib(bytes) => ("deflate", Box::new(flate2::read::ZlibDecoder::new(bytes))),
        "deflate" => ("deflate", Box::new(flate2::read::DeflateDecoder::new(bytes))),
        "br" => ("br", Box::new(brotli_decompressor::Decompressor::new(bytes, 4096))),
        _ => return Err(InflateError::Unsupported(encoding)),
    };
    let mut out = Vec::new();
    reader
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| InflateError::Corrupt { encoding: name, message: e.to_string() })?;
    if out.len() > max {
        return Err(InflateError::TooLarge(max));
    }
    Ok(Cow::Owned(out))
}

/// Whether `bytes` start with a zlib header (RFC 1950: method 8, check bits), as HTTP's
/// `deflate` should; some clients send a raw deflate stream instead.
fn is_zlib(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const TEXT: &[u8] = b"{\"event_id\":\"x\"}\n{\"type\":\"session\"}\n{}\n";

    fn compress(encoding: &str, bytes: &[u8]) -> Vec<u8> {
        let level = flate2::Compression::default();
        match encoding {
            "gzip" => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
                e.write_all(bytes).unwrap();
                e.finish().unwrap()
            }
            "deflate" => {
                let mut e = flate2::write::ZlibEncoder::new(Vec::new(), level);
                e.write_all(bytes).unwrap();
                e.finish().unwrap()
            }
            "raw-deflate" => {
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), level);
                e.write_all(bytes).unwrap();
                e.finish().unwrap()
            }
            "br" => {
                let mut out = Vec::new();
                brotli::BrotliCompress(&mut &bytes[..], &mut out, &Default::default()).unwrap();
                out
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn every_encoding_inflates() {
        for (encoding, name) in [("gzip", "gzip"), ("deflate", "deflate"), ("raw-deflate", "deflate"), ("br", "br")] {
            let body = compress(encoding, TEXT);
            assert_eq!(inflate(Some(name), &body, 1024).unwrap().as_ref(), TEXT, "{encoding}");
        }
        assert!(matches!(inflate(None, TEXT, 1), Ok(Cow::Borrowed(_))), "no encoding: no copy, no limit here");
        assert!(matches!(inflate(Some(" Identity "), TEXT, 1), Ok(Cow::Borrowed(_))));
        // Two gzip members (concatenated files) are one body.
        let twice = [compress("gzip", TEXT), compress("gzip", TEXT)].concat();
        assert_eq!(inflate(Some("gzip"), &twice, 1024).unwrap().len(), 2 * TEXT.len());
    }

    #[test]
    fn bombs_stop_at_the_limit_and_garbage_is_named() {
        let zeros = vec![0u8; 4 * 1024 * 1024];
        for encoding in ["gzip", "deflate", "br"] {
            let bomb = compress(encoding, &zeros);
            assert!(bomb.len() < 64 * 1024, "{encoding}: {}", bomb.len());
            assert_eq!(inflate(Some(encoding), &bomb, 1024 * 1024), Err(InflateError::TooLarge(1024 * 1024)));
            let err = inflate(Some(encoding), b"not compressed at all", 1024).unwrap_err();
            assert!(matches!(err, InflateError::Corrupt { .. }), "{encoding}: {err:?}");
            assert!(err.to_string().contains(encoding), "{err}");
        }
        assert_eq!(inflate(Some("zstd"), TEXT, 1024), Err(InflateError::Unsupported("zstd".into())));
        assert_eq!(InflateError::TooLarge(64 * 1024 * 1024).to_string(), "the decompressed body is larger than 64 MiB");
    }
}
