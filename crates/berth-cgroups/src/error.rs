//! The crate's error: every variant names the cgroup file or directory,
//! and a write names the value and the config field it came from.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A cgroup operation that failed or cannot be done on this host.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `memory.max: write "10": invalid argument (linux.resources.memory.limit)`.
    #[error("{}: write {value:?}: {} ({field})", name(file), io_msg(errno))]
    Write {
        /// The cgroup file.
        file: PathBuf,
        /// What was written.
        value: String,
        /// The config field (JSON path) the value came from.
        field: String,
        /// What the kernel said (in the message, so not a `#[source]`
        /// that would repeat it).
        errno: io::Error,
    },
    /// A cgroup file or directory could not be read, made or removed.
    #[error("{op} {}", path.display())]
    Io {
        /// `read`, `mkdir`, `rmdir`, `open`.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// What the kernel said.
        #[source]
        source: io::Error,
    },
    /// The host cannot honour a field: no hierarchy has its controller,
    /// or the controller lacks the file (`blkio.weight` on some kernels).
    #[error("{field}: {reason}")]
    Unsupported {
        /// The config field (JSON path).
        field: String,
        /// Why, naming the controller or file.
        reason: String,
    },
    /// A value the kernel would misread (a bad cpuset list, an unknown
    /// `unified` key…).
    #[error("{field}: {msg}")]
    Invalid {
        /// The config field (JSON path).
        field: String,
        /// What is wrong.
        msg: String,
    },
}

/// The cgroup file's name with its controller prefix (`memory.max`).
fn name(file: &std::path::Path) -> String {
    file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The kernel's message in lowercase without "(os error N)".
fn io_msg(e: &io::Error) -> impl fmt::Display {
    let text = e.to_string();
    let text = text
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect::<String>(),
        None => text,
    }
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;

/// `map_err` helper for I/O on a path.
pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { op, path, source }
}
