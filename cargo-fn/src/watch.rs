//! `cargo fn serve --watch`: which files to watch, and the stream of
//! "something changed" notices the rebuild loop waits on.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context as _;
use notify::{RecursiveMode, Watcher as _};

/// The folders whose files make the package: its own folder and its path
/// dependencies outside the workspace, each without `target/` and hidden
/// entries (`.git`, editor state).
pub fn watched_dirs(package: &fn_pipeline::cargo::Package) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = package
        .manifest_path
        .parent()
        .into_iter()
        .map(Path::to_path_buf)
        .collect();
    dirs.extend(package.path_deps.iter().map(|(_, dir)| dir.clone()));
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Whether a change at `path` (in one of the watched `dirs`) can change
/// the build: not in a target directory, not hidden below the watched
/// folder, not an editor's backup or swap file.
pub fn relevant(path: &Path, dirs: &[PathBuf], target_dir: &Path) -> bool {
    if path.starts_with(target_dir) {
        return false;
    }
    let below = dirs
        .iter()
        .find_map(|dir| path.strip_prefix(dir).ok())
        .unwrap_or(path);
    let hidden = below.components().any(|c| {
        let name = c.as_os_str().to_string_lossy();
        (name.starts_with('.') && name != "." && name != "..") || name == "target"
    });
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let scratch = name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.starts_with('#')
        || name == "4913";
    !hidden && !scratch
}

/// Watches `dirs`; every relevant change sends its path on the returned
/// channel. Keep the watcher alive as long as notices are wanted.
pub fn watch(
    dirs: &[PathBuf],
    target_dir: &Path,
) -> anyhow::Result<(notify::RecommendedWatcher, mpsc::Receiver<PathBuf>)> {
    let (tx, rx) = mpsc::channel();
    let target = target_dir.to_path_buf();
    let watched = dirs.to_vec();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if event.kind.is_access() {
            return;
        }
        for path in event.paths {
            if relevant(&path, &watched, &target) {
                let _ = tx.send(path);
            }
        }
    })
    .context("cannot watch files on this system")?;
    for dir in dirs {
        // The folder itself (Cargo.toml, build.rs), then each subfolder but
        // the target directory and hidden ones, recursively: a recursive
        // watch on a project's own target/ would cost thousands of watches.
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .with_context(|| format!("cannot watch {}", dir.display()))?;
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && relevant(&path, dirs, target_dir) {
                watcher
                    .watch(&path, RecursiveMode::Recursive)
                    .with_context(|| format!("cannot watch {}", path.display()))?;
            }
        }
    }
    Ok((watcher, rx))
}

/// Waits for the next change and for the burst it starts to settle (an
/// editor's save is several events; so is a `git checkout`): returns the
/// first path changed, or `None` when the watcher is gone.
pub fn next_change(rx: &mpsc::Receiver<PathBuf>, settle: Duration) -> Option<PathBuf> {
    let first = rx.recv().ok()?;
    while rx.recv_timeout(settle).is_ok() {}
    Some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_hidden_and_scratch_files_do_not_count() {
        // The watched folder itself may be hidden (a temp dir): only what
        // is below it counts.
        let dirs = [PathBuf::from("/tmp/.tmpA/w")];
        let target = Path::new("/tmp/.tmpA/w/target");
        let relevant = |p: &str| relevant(Path::new(p), &dirs, target);
        assert!(relevant("/tmp/.tmpA/w/src/lib.rs"));
        assert!(relevant("/tmp/.tmpA/w/Cargo.toml"));
        assert!(!relevant("/tmp/.tmpA/w/target/debug/x"));
        assert!(!relevant("/tmp/.tmpA/w/sub/target/x"));
        assert!(!relevant("/tmp/.tmpA/w/.git/index"));
        assert!(!relevant("/tmp/.tmpA/w/src/.lib.rs.swp"));
        assert!(!relevant("/tmp/.tmpA/w/src/lib.rs~"));
        assert!(!relevant("/tmp/.tmpA/w/src/4913"));
    }

    #[test]
    fn a_burst_of_changes_is_one_notice() {
        let (tx, rx) = mpsc::channel();
        for name in ["a.rs", "b.rs", "c.rs"] {
            tx.send(PathBuf::from(name)).unwrap();
        }
        assert_eq!(
            next_change(&rx, Duration::from_millis(50)),
            Some(PathBuf::from("a.rs"))
        );
        drop(tx);
        assert_eq!(next_change(&rx, Duration::from_millis(50)), None);
    }

    #[test]
    fn a_change_made_on_disk_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::create_dir(dir.path().join("target")).unwrap();
        let target = dir.path().join("target");
        let (_watcher, rx) = watch(&[dir.path().to_path_buf()], &target).unwrap();
        std::fs::write(target.join("ignored"), "x").unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "fn main() {}").unwrap();
        let changed = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(changed.ends_with("src/lib.rs"), "{}", changed.display());
    }
}
