//! Reading one OTLP/HTTP request body: content type, encoding (gzip and the others
//! [`inflate`] knows), then JSON or protobuf into traces.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use super::inflate::{InflateError, inflate};
use crate::formats::otlp;
use crate::model::Trace;

/// The two OTLP/HTTP encodings.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Encoding {
    /// `application/json`.
    Json,
    /// `application/x-protobuf`.
    Protobuf,
}

impl Encoding {
    fn from_content_type(content_type: &str) -> Option<Encoding> {
        let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match media.as_str() {
            "application/json" => Some(Encoding::Json),
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            _ => None,
        }
    }

    /// The content type answers carry.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Protobuf => "application/x-protobuf",
        }
    }

    /// An empty `ExportTraceServiceResponse`.
    pub fn empty_response(self) -> Vec<u8> {
        match self {
            Encoding::Json => b"{}".to_vec(),
            Encoding::Protobuf => Vec::new(),
        }
    }

    /// A `google.rpc.Status` with code 3 (INVALID_ARGUMENT) and `message`, as OTLP/HTTP wants
    /// error bodies.
    pub fn status_body(self, message: &str) -> Vec<u8> {
        let status = RpcStatus { code: 3, message: message.to_owned() };
        match self {
            Encoding::Json => {
                serde_json::json!({ "code": status.code, "message": status.message }).to_string().into_bytes()
            }
            Encoding::Protobuf => status.encode_to_vec(),
        }
    }
}

/// `google.rpc.Status` (code and message; no details).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// Why a body was refused.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum BodyError {
    /// Not `application/json` or `application/x-protobuf`.
    #[error("unsupported content type {0:?}: send application/json or application/x-protobuf")]
    UnsupportedType(String),
    /// Not an encoding [`inflate`](super::inflate) knows.
    #[error("{0}")]
    UnsupportedEncoding(InflateError),
    /// Larger than the limit once decompressed.
    #[error("{0}")]
    TooLarge(InflateError),
    /// The body could not be read.
    #[error("{message}")]
    Bad {
        /// The body's encoding.
        encoding: Encoding,
        /// What was wrong.
        message: String,
    },
}

impl BodyError {
    /// The encoding of the request, when known (for the error body).
    pub fn encoding(&self) -> Option<Encoding> {
        match self {
            BodyError::Bad { encoding, .. } => Some(*encoding),
            _ => None,
        }
    }
}

/// Reads a request body into traces (one per trace id in it): its content type and encoding
/// as the request's headers say, at most `max` bytes once inflated.
pub fn read(
    content_type: &str,
    content_encoding: Option<&str>,
    bytes: &[u8],
    max: usize,
) -> Result<(Encoding, Vec<Trace>), BodyError> {
    let encoding =
        Encoding::from_content_type(content_type).ok_or_else(|| BodyError::UnsupportedType(content_type.to_owned()))?;
    let bad = |message: String| BodyError::Bad { encoding, message };
    let bytes = inflate(content_encoding, bytes, max).map_err(|e| match e {
        InflateError::Unsupported(_) => BodyError::UnsupportedEncoding(e),
        InflateError::TooLarge(_) => BodyError::TooLarge(e),
        InflateError::Corrupt { .. } => bad(e.to_string()),
    })?;
    let bytes = &bytes[..];
    let json;
    let json = match encoding {
        Encoding::Json => bytes,
        Encoding::Protobuf => {
            let request = ExportTraceServiceRequest::decode(bytes)
                .map_err(|e| bad(format!("not an OTLP ExportTraceServiceRequest: {e}")))?;
            // The prost types' serde form is the OTLP JSON encoding (absent messages come out as
            // `null`, which the JSON importer reads as absent, as proto3 JSON has it).
            json = serde_json::to_vec(&request).map_err(|e| bad(format!("cannot re-encode the spans: {e}")))?;
            &json[..]
        }
    };
    let builder = otlp::parse(json).map_err(|e| bad(format!("at {}: {}", e.place, e.message)))?;
    let traces = builder.build().map_err(|e| bad(e.to_string()))?;
    Ok((encoding, traces))
}
