//! The result of one runtime invocation, with assertions that print everything.

use std::fmt;
use std::process::ExitStatus;

/// What a runtime command did: its command line, exit status and output.
///
/// For `create` and `run` the stdout/stderr also hold whatever the container
/// wrote before the command returned (the container inherits them).
#[derive(Debug, Clone)]
pub struct Output {
    /// The command line, for messages.
    pub cmd: String,
    /// How the runtime exited.
    pub status: ExitStatus,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl Output {
    /// Whether the command exited 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The exit code, `None` if the runtime itself died of a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Panics (printing everything) unless the command exited 0.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert!(self.success(), "expected success:\n{self}");
        self
    }

    /// Panics (printing everything) unless the command exited non-zero.
    /// A runtime killed by a signal is not a clean failure and panics too.
    #[track_caller]
    pub fn fails(self) -> Self {
        assert!(
            matches!(self.code(), Some(c) if c != 0),
            "expected a non-zero exit:\n{self}"
        );
        self
    }

    /// Panics unless the command exited with `code`.
    #[track_caller]
    pub fn exits_with(self, code: i32) -> Self {
        assert_eq!(self.code(), Some(code), "unexpected exit status:\n{self}");
        self
    }

    /// stdout split in trimmed, non-empty lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}", self.cmd)?;
        writeln!(f, "status: {}", self.status)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        write!(f, "--- stderr ---\n{}", self.stderr.trim_end())
    }
}
