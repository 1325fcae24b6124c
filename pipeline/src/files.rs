//! The one way hotwasm writes a file that something may read at the same moment (the journal,
//! the host manifest and bundle files, the vars header, cached trampoline objects): into a
//! temporary file of a unique name beside it, flushed to disk, then renamed over it. A reader
//! sees the old file or the new one, never half of one, and two writers never share a temporary.

use std::io::Write;
use std::path::Path;
use tempfile::NamedTempFile;

/// A new temporary file in `path`'s directory, named `.tmp<random>` (a journal that finds one
/// after a crash knows it was never finished). Rename it over `path` with
/// [`NamedTempFile::persist`].
pub fn temp_beside(path: &Path) -> std::io::Result<NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    NamedTempFile::new_in(dir)
}

/// Writes `bytes` to `path` atomically and durably: a unique temporary beside it, synced,
/// renamed over `path`, and the directory synced so the rename survives a crash.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hotwasm-host.json");
        std::fs::write(&path, "old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["hotwasm-host.json"]);
    }

    #[test]
    fn two_writers_of_one_file_get_different_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exports.json");
        let (a, b) = (temp_beside(&path).unwrap(), temp_beside(&path).unwrap());
        assert_ne!(a.path(), b.path());
        assert!(a
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".tmp"));
    }
}
