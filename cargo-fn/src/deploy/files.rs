//! What a provider writes: one or more files, text or binary, each with its
//! Unix mode, and zips of them made so that the same files always give the
//! same bytes (entries sorted by path, timestamps at the zip epoch
//! 1980-01-01 00:00, modes in the external attributes, no extra fields).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use zip::write::SimpleFileOptions;

/// Mode of a plain file.
pub const FILE_MODE: u32 = 0o644;
/// Mode of an executable.
pub const EXECUTABLE_MODE: u32 = 0o755;

/// One file of an output directory or a zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the output directory (or the zip's root),
    /// `/`-separated, without `.` or `..` segments.
    pub path: String,
    /// The bytes.
    pub contents: Vec<u8>,
    /// Unix permission bits (`0o644`, `0o755`).
    pub mode: u32,
}

impl Entry {
    /// A plain file.
    pub fn file(path: impl Into<String>, contents: impl Into<Vec<u8>>) -> Entry {
        Entry {
            path: path.into(),
            contents: contents.into(),
            mode: FILE_MODE,
        }
    }

    /// An executable file.
    pub fn executable(path: impl Into<String>, contents: impl Into<Vec<u8>>) -> Entry {
        Entry {
            mode: EXECUTABLE_MODE,
            ..Entry::file(path, contents)
        }
    }

    /// `value` as pretty-printed JSON, with a final newline.
    pub fn json(path: impl Into<String>, value: &impl serde::Serialize) -> anyhow::Result<Entry> {
        let mut text = serde_json::to_vec_pretty(value)?;
        text.push(b'\n');
        Ok(Entry::file(path, text))
    }

    /// `value` as YAML.
    pub fn yaml(path: impl Into<String>, value: &impl serde::Serialize) -> anyhow::Result<Entry> {
        Ok(Entry::file(path, serde_norway::to_string(value)?))
    }

    /// The contents as text (for tests and messages).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.contents)
    }
}

/// A provider's output: the files to write and what the user must know.
#[derive(Debug, Clone)]
pub struct Output {
    /// The files, in the order they are written.
    pub files: Vec<Entry>,
    /// The path of the file the user deploys (printed first).
    pub main: String,
    /// What the user must know or still do (printed after writing).
    pub notes: Vec<String>,
}

impl From<super::File> for Output {
    fn from(file: super::File) -> Output {
        let mode = if file.executable {
            EXECUTABLE_MODE
        } else {
            FILE_MODE
        };
        Output {
            main: file.name.to_owned(),
            files: vec![Entry {
                path: file.name.to_owned(),
                contents: file.contents.into_bytes(),
                mode,
            }],
            notes: file.notes,
        }
    }
}

/// Refuses paths that would leave the directory they are written in.
fn check_path(path: &str) -> anyhow::Result<()> {
    let ok = !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if !ok {
        bail!("{path:?} is not a relative path inside the output");
    }
    Ok(())
}

/// A zip of `entries`, the same bytes for the same entries: sorted by path,
/// deflated, dated 1980-01-01 00:00, each with its Unix mode.
pub fn zip(entries: &[Entry]) -> anyhow::Result<Vec<u8>> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(pair) = sorted.windows(2).find(|w| w[0].path == w[1].path) {
        bail!("{} is in the zip twice", pair[0].path);
    }
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for entry in sorted {
        check_path(&entry.path)?;
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9))
            .last_modified_time(zip::DateTime::default())
            .system(zip::System::Unix)
            .unix_permissions(entry.mode)
            .large_file(entry.contents.len() >= u32::MAX as usize);
        zip.start_file(entry.path.as_str(), options)
            .with_context(|| format!("cannot add {} to the zip", entry.path))?;
        zip.write_all(&entry.contents)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// Writes `files` under `dir` (creating folders), each with its mode;
/// returns the paths written.
pub fn write_all(dir: &Path, files: &[Entry]) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::with_capacity(files.len());
    for file in files {
        check_path(&file.path)?;
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(file.mode))
                .with_context(|| format!("cannot set the mode of {}", path.display()))?;
        }
        written.push(path);
    }
    Ok(written)
}

/// The entries of a zip, with their modes, in archive order (for tests and
/// checks).
pub fn unzip(bytes: &[u8]) -> anyhow::Result<Vec<Entry>> {
    use std::io::Read as _;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    let mut entries = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut file = archive.by_index(i)?;
        let mut contents = Vec::new();
        file.read_to_end(&mut contents)?;
        entries.push(Entry {
            path: file.name()?.into_owned(),
            contents,
            mode: file.unix_mode().unwrap_or(0) & 0o7777,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<Entry> {
        vec![
            Entry::file("fn-bundle.json", "{}\n"),
            Entry::executable("bootstrap", vec![0x7f, b'E', b'L', b'F', 0, 1, 2]),
            Entry::file("sub/function.json", "{\"bindings\": []}"),
            Entry::file("fn.wasm", vec![0u8; 4096]),
        ]
    }

    #[test]
    fn zips_are_deterministic_sorted_and_keep_modes() {
        let first = zip(&entries()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let mut reversed = entries();
        reversed.reverse();
        let second = zip(&reversed).unwrap();
        assert_eq!(first, second, "same entries, same bytes, in any order");

        let read = unzip(&first).unwrap();
        let paths: Vec<&str> = read.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "bootstrap",
                "fn-bundle.json",
                "fn.wasm",
                "sub/function.json"
            ]
        );
        assert_eq!(read[0].mode, 0o755);
        assert_eq!(read[1].mode, 0o644);
        assert_eq!(read[2].contents, vec![0u8; 4096]);

        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&first)).unwrap();
        for i in 0..archive.len() {
            let file = archive.by_index(i).unwrap();
            assert_eq!(file.last_modified(), Some(zip::DateTime::default()));
            assert_eq!(file.compression(), zip::CompressionMethod::Deflated);
            // Regular files with Unix modes: the high half is st_mode.
            assert_eq!(file.unix_mode().unwrap() & 0o170000, 0o100000);
        }
    }

    #[test]
    fn paths_stay_inside_and_are_unique() {
        for bad in ["../x", "/etc/passwd", "a//b", "a/./b", ""] {
            let err = zip(&[Entry::file(bad, "")]).unwrap_err().to_string();
            assert!(err.contains("not a relative path"), "{bad}: {err}");
        }
        let twice = [Entry::file("a", "1"), Entry::file("a", "2")];
        assert!(zip(&twice).unwrap_err().to_string().contains("twice"));
    }

    #[test]
    fn files_are_written_with_their_modes() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_all(dir.path(), &entries()).unwrap();
        assert_eq!(written.len(), 4);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("sub/function.json")).unwrap(),
            "{\"bindings\": []}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &str| {
                std::fs::metadata(dir.path().join(p))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777
            };
            assert_eq!(mode("bootstrap"), 0o755);
            assert_eq!(mode("fn.wasm"), 0o644);
        }
    }
}
