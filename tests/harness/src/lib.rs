//! Test harness for berth's end-to-end tests.
//!
//! - [`Runtime`] drives the binary named by `$BERTH_BIN` (runc's CLI), each
//!   instance with its own state root.
//! - [`Bundle::busybox`] makes a bundle with a static busybox rootfs and a
//!   `runc spec`-like config, with builder helpers.
//! - [`require!`] and [`berth_only!`] skip with a printed reason.
//! - [`residue`] finds what a container left behind; [`parse`] reads what a
//!   container printed about itself.
//!
//! A harness reports failure by panicking: `expect`/`unwrap` are the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod bundle;
pub mod cgroup;
pub mod console;
pub mod hostmount;
pub mod notify;
pub mod output;
pub mod parse;
pub mod residue;
pub mod rootfs;
pub mod runtime;
pub mod skip;
pub mod wait;

pub use bundle::{temp_dir, Bundle};
pub use console::ConsoleSocket;
pub use output::Output;
pub use runtime::{Opts, Runtime};
pub use serde_json::json;
pub use tempfile::TempDir;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Writes an executable file (mode 0755) that a container or hook will
/// exec. Never write one from the test process itself: tests run in
/// threads, and a child another thread forks at that moment inherits the
/// open write fd until it execs, so the container's execve of the file
/// fails with ETXTBSY ("Text file busy", golang/go#22315). Here only a
/// short-lived `cp` child ever holds the file open for writing.
pub fn write_executable(path: &Path, bytes: &[u8]) {
    let mut child = Command::new("cp")
        .arg("/dev/stdin")
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn cp");
    child
        .stdin
        .take()
        .expect("cp's stdin")
        .write_all(bytes)
        .expect("write to cp");
    let status = child.wait().expect("wait for cp");
    assert!(
        status.success(),
        "cp /dev/stdin {}: {status}",
        path.display()
    );
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod 0755");
}

/// Whether the runtime under test is berth (for berth-only checks).
pub fn is_berth() -> bool {
    skip::kind() == skip::Kind::Berth
}

/// Whether the runtime under test is runc.
pub fn is_runc() -> bool {
    skip::kind() == skip::Kind::Runc
}

/// A container id unique across parallel tests and test processes: the
/// running test's name, this process's pid and a counter, e.g.
/// `lifecycle_kill-4242-3`.
pub fn unique_id() -> String {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let name = skip::test_name();
    let short = name.rsplit("::").next().unwrap_or(&name);
    let clean: String = short
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    format!(
        "{clean}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}
