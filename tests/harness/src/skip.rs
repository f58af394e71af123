//! Skipping: `require!(root, userns)` and `berth_only!("reason")`.
//!
//! A skip is printed straight to the real stderr (libtest captures only the
//! `print!` family), so it shows in a normal `cargo test` run:
//! `SKIP namespaces::time_ns: ...`. With `BERTH_E2E_STRICT=1` a `require!`
//! skip fails the test instead, so CI cannot go green by skipping. A
//! berth-only check is not a skip of that kind: it is a known difference of
//! the reference runtime and never fails, strict or not. If
//! `$BERTH_E2E_SKIP_LOG` names a file, every skip line is appended to it.

use std::io::Write;
use std::path::Path;

/// Which runtime `$BERTH_BIN` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// berth itself.
    Berth,
    /// runc, the reference.
    Runc,
    /// crun.
    Crun,
    /// Anything else.
    Other,
}

/// The kind of the runtime under test: `$BERTH_E2E_RUNTIME` if set, else the
/// first word of `$BERTH_BIN --version`, else the binary's file name.
pub fn kind() -> Kind {
    static KIND: std::sync::OnceLock<Kind> = std::sync::OnceLock::new();
    *KIND.get_or_init(|| {
        let from_word = |w: &str| match w.to_ascii_lowercase() {
            w if w.starts_with("berth") => Some(Kind::Berth),
            w if w.starts_with("runc") => Some(Kind::Runc),
            w if w.starts_with("crun") => Some(Kind::Crun),
            _ => None,
        };
        if let Ok(k) = std::env::var("BERTH_E2E_RUNTIME") {
            return from_word(&k).unwrap_or(Kind::Other);
        }
        let bin = crate::runtime::runtime_bin();
        let version = std::process::Command::new(&bin)
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let first = version.split_whitespace().next().unwrap_or("");
        from_word(first)
            .or_else(|| from_word(&bin.file_name().unwrap_or_default().to_string_lossy()))
            .unwrap_or(Kind::Other)
    })
}

/// The running test as `<test file>::<test fn>`: libtest names each test's
/// thread after the test; the file is the test binary's name minus cargo's
/// hash suffix.
pub fn test_name() -> String {
    let test = std::thread::current()
        .name()
        .unwrap_or("unknown-test")
        .to_string();
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = stem.rsplit_once('-').map_or(stem.as_str(), |(f, _)| f);
    if file.is_empty() {
        test
    } else {
        format!("{file}::{test}")
    }
}

fn emit(line: &str) {
    let line = format!("{line}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    if let Some(log) = std::env::var_os("BERTH_E2E_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// Reports a skip; panics instead under `BERTH_E2E_STRICT=1`.
#[track_caller]
pub fn skip(reason: &str) {
    let line = format!("SKIP {}: {reason}", test_name());
    if std::env::var("BERTH_E2E_STRICT").is_ok_and(|v| v == "1") {
        panic!("{line} (BERTH_E2E_STRICT=1 turns skips into failures)");
    }
    emit(&line);
}

/// Reports that the host lacks something a CI machine of this kind may
/// also lack (a controller, a hugepage size): a SKIP line with the reason,
/// never fatal, strict or not. For what every machine has, use `require!`.
pub fn host_lacks(reason: &str) {
    emit(&format!("SKIP {} (host lacks: {reason})", test_name()));
}

/// Reports a check that cannot run yet because it needs a part of berth
/// that is not there yet; never fatal, even under `BERTH_E2E_STRICT=1`.
pub fn pending(reason: &str) {
    emit(&format!("SKIP (pending: {reason}) {}", test_name()));
}

/// Reports that a berth-only check was not run against this runtime.
pub fn berth_only(reason: &str) {
    emit(&format!("SKIP (berth-only: {reason}) {}", test_name()));
}

/// Checks one named requirement of `require!`. Unknown names panic, so a
/// typo cannot silently skip a test.
pub fn check(req: &str) -> Result<(), String> {
    let ok = |cond: bool, why: &str| if cond { Ok(()) } else { Err(why.to_string()) };
    match req {
        "root" => ok(euid() == 0, "needs root (run as root)"),
        "userns" => ok(
            Path::new("/proc/self/ns/user").exists()
                && std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
                    .map(|s| s.trim() != "0")
                    .unwrap_or(true),
            "kernel without user namespaces",
        ),
        "cgroupns" => ok(
            Path::new("/proc/self/ns/cgroup").exists(),
            "kernel without cgroup namespaces",
        ),
        "timens" => ok(
            Path::new("/proc/self/ns/time").exists(),
            "kernel without time namespaces",
        ),
        "cgroup_v2" => ok(
            crate::residue::cgroup_mounts()
                .iter()
                .any(|m| m.fstype == "cgroup2"),
            "no cgroup2 mount",
        ),
        "unshare" => ok(
            which("unshare"),
            "the unshare(1) binary (util-linux) is not installed",
        ),
        other => panic!("require!: unknown requirement {other:?}"),
    }
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn which(bin: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
        .unwrap_or(false)
}

/// Skips the test (printing why) unless every named requirement holds.
/// Known names: `root`, `userns`, `cgroupns`, `timens`, `cgroup_v2`, `unshare`.
#[macro_export]
macro_rules! require {
    ($($req:ident),+ $(,)?) => {
        $(
            if let Err(reason) = $crate::skip::check(stringify!($req)) {
                $crate::skip::skip(&reason);
                return;
            }
        )+
    };
}

/// Marks the rest of the test as a check that only berth is held to, with the
/// reason the reference runtime differs; against other runtimes it prints
/// `SKIP (berth-only: reason)` and returns.
#[macro_export]
macro_rules! berth_only {
    ($reason:expr) => {
        if !$crate::is_berth() {
            $crate::skip::berth_only($reason);
            return;
        }
    };
}
