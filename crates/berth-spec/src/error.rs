//! The crate's one error type.
//!
//! Every variant names the config file as it was built from the bundle
//! argument (`b/config.json`), so a message read in a log points at the file
//! to fix. The cause of an I/O failure is kept as `#[source]`; the binary
//! prints the chain once with `{:#}`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why a bundle's `config.json` could not be turned into a [`crate::Plan`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("read {}", file.display())]
    Read {
        /// The config file.
        file: PathBuf,
        /// What the kernel said.
        #[source]
        source: io::Error,
    },
    /// The bundle directory could not be made absolute.
    #[error("resolve bundle {}", bundle.display())]
    Bundle {
        /// The bundle directory as given.
        bundle: PathBuf,
        /// What the kernel said.
        #[source]
        source: io::Error,
    },
    /// The file is not JSON, or a value has the wrong type or an unknown
    /// name (`linux.namespaces[3].type: unknown namespace "pidd"`).
    #[error("{}", located(file, path, msg))]
    Parse {
        /// The config file.
        file: PathBuf,
        /// The JSON path of the value (`linux.namespaces[3].type`), or
        /// `line L column C` for a syntax error; empty for the whole file.
        path: String,
        /// What is wrong, in lowercase.
        msg: String,
    },
    /// The file is well-formed but asks for something berth refuses.
    #[error("{}", located(file, path, msg))]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// The JSON path of the offending value, e.g. `process.cwd`.
        path: String,
        /// What is wrong, in lowercase.
        msg: String,
    },
}

impl Error {
    /// The JSON path of a [`Error::Parse`] or [`Error::Invalid`] error.
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::Parse { path, .. } | Error::Invalid { path, .. } => Some(path),
            Error::Read { .. } | Error::Bundle { .. } => None,
        }
    }
}

/// `file: path: msg`, without the path when it is empty.
fn located<'a>(file: &'a Path, path: &'a str, msg: &'a str) -> impl fmt::Display + 'a {
    struct Located<'a>(&'a Path, &'a str, &'a str);
    impl fmt::Display for Located<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let Located(file, path, msg) = self;
            if path.is_empty() {
                write!(f, "{}: {msg}", file.display())
            } else {
                write!(f, "{}: {path}: {msg}", file.display())
            }
        }
    }
    Located(file, path, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_and_path() {
        let e = Error::Invalid {
            file: "b/config.json".into(),
            path: "process.cwd".into(),
            msg: "must be an absolute path, got \"tmp\"".into(),
        };
        assert_eq!(
            e.to_string(),
            "b/config.json: process.cwd: must be an absolute path, got \"tmp\""
        );
        assert_eq!(e.path(), Some("process.cwd"));
    }

    #[test]
    fn display_omits_empty_path() {
        let e = Error::Parse {
            file: "config.json".into(),
            path: String::new(),
            msg: "invalid type: sequence, expected struct Spec".into(),
        };
        assert_eq!(
            e.to_string(),
            "config.json: invalid type: sequence, expected struct Spec"
        );
    }

    #[test]
    fn read_does_not_repeat_source() {
        let e = Error::Read {
            file: "b/config.json".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(e.to_string(), "read b/config.json");
    }
}
