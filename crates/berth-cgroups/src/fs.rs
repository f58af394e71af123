//! Reading and writing cgroup files with errors that name them.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::error::{io, Error, Result};
use crate::resources::Write;

/// Writes `w` into `dir`. A missing file means the host's controller
/// lacks it: that is [`Error::Unsupported`] naming the field.
pub fn write(dir: &Path, w: &Write) -> Result<()> {
    Writer::new(dir).write(w)
}

/// Writes into the files of one cgroup directory, keeping the last file
/// open while the writes go to it: v1 takes one device rule per write,
/// and opening a cgroup file (a path walk and a kernfs open) costs more
/// than the write (17 rules: ~0.13 ms opening each, ~0.05 ms through one
/// fd, on the development VM).
pub struct Writer<'a> {
    dir: &'a Path,
    open: Option<(String, File)>,
}

impl<'a> Writer<'a> {
    /// A writer into the files of `dir`.
    pub fn new(dir: &'a Path) -> Self {
        Writer { dir, open: None }
    }

    /// Writes `w` (see [`write`] for the errors).
    pub fn write(&mut self, w: &Write) -> Result<()> {
        let file = self.dir.join(&w.file);
        let result = self
            .file_for(&w.file, &file)
            .and_then(|f| f.write_all(w.value.as_bytes()));
        tracing::debug!(file = %file.display(), value = %w.value, "cgroup write");
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.dir.is_dir() => {
                Err(Error::Unsupported {
                    field: w.field.clone(),
                    reason: format!("the host's cgroup has no {} file", w.file),
                })
            }
            Err(source) => Err(Error::Write {
                file,
                value: w.value.clone(),
                field: w.field.clone(),
                errno: source,
            }),
        }
    }

    /// The open file `name` (at `path`), opened unless it is the last one.
    fn file_for(&mut self, name: &str, path: &Path) -> io::Result<&mut File> {
        let f = match self.open.take() {
            Some((open, f)) if open == name => f,
            _ => std::fs::OpenOptions::new().write(true).open(path)?,
        };
        Ok(&mut self.open.insert((name.to_string(), f)).1)
    }
}

/// Reads a cgroup file, trimmed.
pub fn read(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(io("read", path))?;
    Ok(text.trim().to_string())
}

/// Makes `dir` and its missing parents; returns the ones it made, top
/// first.
pub fn mkdir_all(dir: &Path) -> Result<Vec<PathBuf>> {
    // Usually only the last component is missing: try it before looking
    // at the ancestors.
    match std::fs::create_dir(dir) {
        Ok(()) => return Ok(vec![dir.to_path_buf()]),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(Vec::new()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("mkdir", dir)(e)),
    }
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur.filter(|d| !d.exists()) {
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    missing.reverse();
    for d in &missing {
        match std::fs::create_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io("mkdir", d)(e)),
        }
    }
    Ok(missing)
}

/// Removes `dir` and the cgroups below it, deepest first (as runc's
/// `RemovePaths`: a sub-cgroup made by `exec --cgroup` or by the
/// container itself must not keep its parent alive). The directory is
/// listed only when a plain rmdir fails: listing a cgroup costs a kernfs
/// walk, and almost every container has no sub-cgroup.
pub fn rmdir_tree(dir: &Path) -> Result<()> {
    match std::fs::remove_dir(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(_) => {}
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                rmdir_tree(&e.path())?;
            }
        }
    }
    rmdir(dir)
}

/// Every directory at and below `dir`. A directory with a link count of 2
/// has no subdirectory (cgroupfs counts them, as ext4 and tmpfs do), so it
/// is not listed: listing a cgroup walks all of its files in kernfs, and
/// `delete` asks this of every container, almost none of which has a
/// sub-cgroup. Any other count (1 on file systems that do not count) is
/// listed.
pub fn tree(dir: &Path) -> Vec<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let mut out = vec![dir.to_path_buf()];
    if std::fs::metadata(dir).is_ok_and(|m| m.nlink() == 2) {
        return out;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(tree(&e.path()));
            }
        }
    }
    out
}

/// Removes `dir`; gone already is fine. The kernel answers EBUSY while
/// the last processes are still exiting, so retry for up to ~1 s.
pub fn rmdir(dir: &Path) -> Result<()> {
    let mut tries = 0;
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(16) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => return Err(io("rmdir", dir)(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_names_file_value_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let w = Write::new("memory.max", "10", "memory.limit");
        let e = write(dir.path(), &w).unwrap_err().to_string();
        assert_eq!(
            e,
            "linux.resources.memory.limit: the host's cgroup has no memory.max file"
        );
        std::fs::create_dir(dir.path().join("memory.max")).unwrap();
        let e = write(dir.path(), &w).unwrap_err().to_string();
        assert_eq!(
            e,
            "memory.max: write \"10\": is a directory (linux.resources.memory.limit)"
        );
    }

    #[test]
    fn writer_keeps_one_file_open_while_the_writes_go_to_it() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["devices.deny", "devices.allow"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let mut writer = Writer::new(dir.path());
        for (file, value) in [
            ("devices.deny", "a"),
            ("devices.allow", "c 1:3 rwm"),
            ("devices.allow", "c 1:5 rwm"),
            ("devices.deny", "c 1:9 rwm"),
        ] {
            writer.write(&Write::new(file, value, "devices")).unwrap();
        }
        // A regular file shows it: one fd's writes follow each other, a
        // reopened file is written from its start again.
        let read = |f| std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert_eq!(read("devices.allow"), "c 1:3 rwmc 1:5 rwm");
        assert_eq!(read("devices.deny"), "c 1:9 rwm");
        let e = writer
            .write(&Write::new("devices.list", "a", "devices"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "linux.resources.devices: the host's cgroup has no devices.list file"
        );
    }

    #[test]
    fn mkdir_all_reports_what_it_made() {
        let dir = tempfile::tempdir().unwrap();
        let made = mkdir_all(&dir.path().join("a/b")).unwrap();
        assert_eq!(made, [dir.path().join("a"), dir.path().join("a/b")]);
        assert_eq!(tree(&dir.path().join("a")).len(), 2);
        assert_eq!(tree(&dir.path().join("a/b")), [dir.path().join("a/b")]);
        rmdir_tree(&dir.path().join("a")).unwrap();
        assert!(!dir.path().join("a").exists());
        rmdir(&dir.path().join("a/b")).unwrap();
    }

    #[test]
    fn mkdir_all_of_a_last_component_or_of_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("one");
        assert_eq!(mkdir_all(&one).unwrap(), std::slice::from_ref(&one));
        assert!(one.is_dir());
        assert!(mkdir_all(&one).unwrap().is_empty());
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let e = mkdir_all(&file.join("below")).unwrap_err().to_string();
        assert!(e.starts_with("mkdir "), "{e}");
    }
}
