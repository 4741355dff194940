//! Writing a file so that a failure leaves whatever was there: the contents go to a temporary
//! file beside it (the `tempfile` crate, removed if anything fails), which then replaces the
//! file in one rename.

use std::io::{self, Write};
use std::path::Path;

/// Writes `path` with `write`, replacing it only once everything was written.
pub fn replace(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let folder = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(folder)?;
    {
        let mut out = io::BufWriter::new(&mut file);
        write(&mut out)?;
        out.flush()?;
    }
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_file_and_no_leftovers() {
        let dir = std::env::temp_dir().join(format!("tracedeck-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kept.json");
        replace(&path, |out: &mut dyn Write| out.write_all(b"first")).unwrap();
        let failed = replace(&path, |out: &mut dyn Write| {
            out.write_all(b"half")?;
            Err(io::Error::other("the writer failed"))
        });
        assert_eq!(failed.unwrap_err().to_string(), "the writer failed");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["kept.json"], "the temporary file is gone");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
