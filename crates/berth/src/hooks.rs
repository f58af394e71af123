//! Running OCI hooks (runtime-spec config.md "POSIX-platform Hooks").
//!
//! A hook gets the container's state JSON on stdin, exactly its `args`
//! (`args[0]` as argv[0]) and exactly its `env`. stdin, stdout and stderr
//! are memfds, not pipes: the state is written before the hook starts and
//! its output read after it ends, so neither side can block the other
//! however much either writes. Each hook leads its own process group, so a
//! `timeout` kills the hook and whatever it started. Hooks in the runtime
//! namespace run in the bundle directory, as runc's (which works from
//! there); `createContainer` and `startContainer` keep init's.
//!
//! Who calls what, and when (runtime.md "Lifecycle"):
//!
//! | kind | where | by |
//! |---|---|---|
//! | `prestart`, `createRuntime` | runtime namespace, before `pivot_root` | `create` (parent), asked by init |
//! | `createContainer` | container namespaces, before `pivot_root` | init |
//! | `startContainer` | container, after `start`, before exec | init |
//! | `poststart` | runtime namespace | `start`, after init is released |
//! | `poststop` | runtime namespace | `delete`, and a failed `create` |

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use berth_spec::plan::Hook;
use berth_spec::state::State;
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// How much of a failed hook's stdout/stderr goes into the error.
const OUTPUT_LIMIT: u64 = 4096;

/// Runs `hooks` in order; the first failure is the error (the lifecycle
/// step fails). `kind` is the config's name, e.g. `createRuntime`.
pub fn run_all(kind: &str, hooks: &[Hook], state: &State) -> anyhow::Result<()> {
    let json = serde_json::to_vec(state).context("state JSON for hooks")?;
    for (i, hook) in hooks.iter().enumerate() {
        run_one(hook, &json, dir_for(kind, state))
            .with_context(|| format!("hooks.{kind}[{i}] {}", hook.path.display()))?;
    }
    Ok(())
}

/// Runs every hook of `hooks`; a failure is logged as a warning and the
/// rest still run (poststart and poststop, runtime-spec 1.2).
pub fn run_warn(kind: &str, hooks: &[Hook], state: &State) {
    let json = match serde_json::to_vec(state) {
        Ok(json) => json,
        Err(e) => return tracing::warn!("hooks.{kind}: state JSON: {e}"),
    };
    for (i, hook) in hooks.iter().enumerate() {
        if let Err(e) = run_one(hook, &json, dir_for(kind, state)) {
            tracing::warn!("hooks.{kind}[{i}] {}: {e:#}", hook.path.display());
        }
    }
}

/// Where hooks of `kind` run: the bundle for those in the runtime
/// namespace, when it still exists (a poststop after the bundle was
/// removed runs where berth does); `None` (init's directory) for those in
/// the container's namespaces.
fn dir_for<'a>(kind: &str, state: &'a State) -> Option<&'a Path> {
    let in_container = matches!(kind, "createContainer" | "startContainer");
    (!in_container && state.bundle.is_dir()).then_some(state.bundle.as_path())
}

/// Runs one hook to its end (or its timeout), in `dir` if given.
fn run_one(hook: &Hook, state: &[u8], dir: Option<&Path>) -> anyhow::Result<()> {
    let mut stdin = memfd(c"berth-hook-stdin")?;
    stdin.write_all(state).context("write state for stdin")?;
    stdin.seek(SeekFrom::Start(0)).context("seek stdin")?;
    let mut out = memfd(c"berth-hook-stdout")?;
    let mut err = memfd(c"berth-hook-stderr")?;
    let mut cmd = Command::new(&hook.path);
    if let Some((arg0, rest)) = hook.args.split_first() {
        cmd.arg0(arg0).args(rest);
    }
    cmd.env_clear()
        .envs(hook.env.iter().filter_map(|e| e.split_once('=')))
        .stdin(Stdio::from(stdin))
        .stdout(Stdio::from(out.try_clone().context("dup stdout")?))
        .stderr(Stdio::from(err.try_clone().context("dup stderr")?))
        .process_group(0);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let child = cmd
        .spawn()
        .map_err(|e| anyhow::anyhow!("{}", io_text(&e)))?;
    let status = wait(child, hook.timeout)?;
    if status.success() {
        return Ok(());
    }
    let mut msg = match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => format!("{status}"),
    };
    for (name, file) in [("stdout", &mut out), ("stderr", &mut err)] {
        let text = tail(file);
        if !text.is_empty() {
            msg.push_str(&format!(", {name}: {text}"));
        }
    }
    bail!(msg)
}

/// Waits for the hook; past `timeout` seconds kills its process group and
/// reaps it.
fn wait(mut child: Child, timeout: Option<u32>) -> anyhow::Result<ExitStatus> {
    let Some(secs) = timeout else {
        return child.wait().context("wait for hook");
    };
    let deadline = Instant::now() + Duration::from_secs(secs.into());
    loop {
        if let Some(status) = child.try_wait().context("wait for hook")? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let pgid = Pid::from_raw(i32::try_from(child.id()).context("hook pid")?);
            // The hook leads its own group (process_group(0)), so this
            // reaches the hook and everything it started, nothing else.
            let _ = killpg(pgid, Signal::SIGKILL);
            let _ = child.wait();
            bail!("timed out after {secs}s; killed its process group");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn memfd(name: &std::ffi::CStr) -> anyhow::Result<File> {
    let fd = memfd_create(name, MFdFlags::MFD_CLOEXEC).context("memfd_create")?;
    Ok(File::from(fd))
}

/// The last bytes a hook wrote, trimmed, as one line.
fn tail(file: &mut File) -> String {
    let len = file.seek(SeekFrom::End(0)).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(OUTPUT_LIMIT)));
    let mut buf = Vec::new();
    let _ = file.take(OUTPUT_LIMIT).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).trim().replace('\n', "\\n")
}

/// An I/O error's text without Rust's " (os error N)".
fn io_text(e: &std::io::Error) -> String {
    e.raw_os_error().map_or_else(
        || e.to_string(),
        |n| nix::errno::Errno::from_raw(n).desc().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use berth_spec::state::Status;

    use super::*;

    fn state() -> State {
        State {
            oci_version: "1.2.0".into(),
            id: "c1".into(),
            status: Status::Creating,
            pid: 42,
            bundle: PathBuf::from("/b"),
            rootfs: PathBuf::from("/b/rootfs"),
            created: String::new(),
            annotations: Default::default(),
            owner: String::new(),
        }
    }

    fn sh(script: &str, timeout: Option<u32>) -> Hook {
        Hook {
            path: PathBuf::from("/bin/sh"),
            args: vec!["sh".into(), "-c".into(), script.into()],
            env: vec!["K=v".into()],
            timeout,
        }
    }

    #[test]
    fn a_hook_reads_the_state_and_only_its_env() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let script = format!(
            "{{ cat; echo; echo \"$K:${{HOME:-none}}\"; }} > {}",
            out.display()
        );
        run_all("poststop", &[sh(&script, None)], &state()).unwrap();
        let text = std::fs::read_to_string(out).unwrap();
        let (json, env) = text.split_once('\n').unwrap();
        let seen: State = serde_json::from_str(json).unwrap();
        assert_eq!(seen, state());
        assert_eq!(env.trim(), "v:none");
    }

    #[test]
    fn a_failing_hook_reports_status_and_stderr() {
        let err = run_all("prestart", &[sh("echo oops >&2; exit 3", None)], &state()).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("hooks.prestart[0] /bin/sh"), "{msg}");
        assert!(
            msg.contains("exit status 3") && msg.contains("stderr: oops"),
            "{msg}"
        );
    }

    #[test]
    fn a_hook_past_its_timeout_is_killed_with_its_children() {
        let err = run_all(
            "poststart",
            &[sh("sleep 1000 & sleep 1000", Some(1))],
            &state(),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("timed out after 1s"), "{err:#}");
    }

    #[test]
    fn a_missing_hook_binary_is_a_clear_error() {
        let hook = Hook {
            path: PathBuf::from("/nonexistent/hook"),
            args: vec![],
            env: vec![],
            timeout: None,
        };
        let err = run_all("createRuntime", &[hook], &state()).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "hooks.createRuntime[0] /nonexistent/hook: No such file or directory"
        );
    }

    #[test]
    fn stdin_larger_than_a_pipe_does_not_block() {
        let mut s = state();
        s.annotations.insert("big".into(), "x".repeat(1 << 20));
        // The hook ignores its stdin entirely.
        run_all("poststop", &[sh("exit 0", None)], &s).unwrap();
    }
}
