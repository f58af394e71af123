//! The last steps: find the program, close what must not leak, exec.

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use berth_linux::{attrs, fd};
use berth_spec::plan::Process;

use super::ProcessContext;

/// What `execve` gets.
#[derive(Debug)]
pub struct Program {
    path: CString,
    args: Vec<CString>,
    env: Vec<CString>,
}

/// Resolves the executable (an absolute or relative path, or a name looked
/// up in the container's `PATH`), builds argv and envp, sets the umask and
/// marks every fd beyond stdio and `--preserve-fds` close-on-exec. `None`
/// when there is no process (a config without `process`).
/// `env` is [`environment`]'s, computed before any step ran.
pub fn prepare(ctx: &ProcessContext<'_>, env: Vec<String>) -> anyhow::Result<Option<Program>> {
    let process = ctx.process;
    if !process.is_present() {
        return Ok(None);
    }
    let path = find_executable(process)?;
    let cstr = |s: &[u8]| CString::new(s).context("NUL byte in process.args or process.env");
    let program = Program {
        path: cstr(path.as_os_str().as_bytes())?,
        args: process
            .args
            .iter()
            .map(|a| cstr(a.as_bytes()))
            .collect::<anyhow::Result<_>>()?,
        env: env
            .iter()
            .map(|e| cstr(e.as_bytes()))
            .collect::<anyhow::Result<_>>()?,
    };
    attrs::set_umask(process.user.umask);
    let first = 3 + i32::try_from(ctx.preserve_fds).context("--preserve-fds")?;
    fd::cloexec_from(first)?;
    Ok(Some(program))
}

/// runc's rule: a name with a `/` is a path; otherwise search `PATH`.
fn find_executable(process: &Process) -> anyhow::Result<PathBuf> {
    let name = &process.args[0];
    if name.contains('/') {
        let path = PathBuf::from(name);
        check_executable(&path).map_err(|e| anyhow::anyhow!("exec {name}: {e}"))?;
        return Ok(path);
    }
    let search = process
        .env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("");
    search
        .split(':')
        .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(name))
        .find(|candidate| check_executable(candidate).is_ok())
        .ok_or_else(|| anyhow::anyhow!("exec: {name:?}: executable file not found in $PATH"))
}

/// A file that is not a directory and that the kernel would let this
/// process execute: `faccessat(AT_EACCESS)` checks with the effective ids
/// and capabilities, as `execve` will (so `CAP_DAC_OVERRIDE` runs a
/// root-owned `0744` binary, as with runc); plain `access` would use the
/// real ids and drop the capabilities.
fn check_executable(path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| errno_text(&e))?;
    if meta.is_dir() {
        return Err("is a directory".into());
    }
    match nix::unistd::faccessat(
        nix::fcntl::AT_FDCWD,
        path,
        nix::unistd::AccessFlags::X_OK,
        nix::fcntl::AtFlags::AT_EACCESS,
    ) {
        // A seccomp filter already loaded (no no_new_privs) may refuse
        // faccessat2 itself, which glibc needs for AT_EACCESS: Docker-era
        // profiles answer unknown syscalls with EPERM (runtime-tools' default
        // profile does). The question was not answered, so take any execute
        // bit and let execve(2) decide, as runc's Go falls back too.
        Err(nix::errno::Errno::EPERM | nix::errno::Errno::ENOSYS) => {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o111 != 0 {
                Ok(())
            } else {
                Err(nix::errno::Errno::EACCES.desc().to_string())
            }
        }
        other => other.map_err(|e| e.desc().to_string()),
    }
}

/// The message of an io::Error without Rust's " (os error N)" suffix.
fn errno_text(e: &std::io::Error) -> String {
    e.raw_os_error().map_or_else(
        || e.to_string(),
        |n| nix::errno::Errno::from_raw(n).desc().to_string(),
    )
}

/// `process.env` with duplicate names removed (the last value wins, at the
/// first one's place, as runc), plus `HOME` from the container's
/// `/etc/passwd` when the config sets none or an empty one (runc does the
/// same; `/` when the user has no entry). The file is the image's: read as
/// untrusted (`berth_linux::untrusted`: in-root, regular, bounded).
pub fn environment(process: &Process) -> anyhow::Result<Vec<String>> {
    let mut env = dedup_env(&process.env);
    let home_set = env
        .iter()
        .any(|e| e.strip_prefix("HOME=").is_some_and(|v| !v.is_empty()));
    if !home_set {
        env.retain(|e| !e.starts_with("HOME="));
        let root = berth_linux::mount::RootDir::open(Path::new("/"))?;
        let passwd = berth_linux::untrusted::read_text(&root, Path::new("/etc/passwd"))
            .context("HOME from the container's /etc/passwd")?
            .unwrap_or_default();
        let home = crate::passwd::lookup(&passwd, process.user.uid).map_or("/", |e| e.home);
        env.push(format!("HOME={home}"));
    }
    Ok(env)
}

/// `NAME=value` entries with each name once: the last value, at the place
/// of the first occurrence (Go's `os.Setenv` in runc's init).
fn dedup_env(env: &[String]) -> Vec<String> {
    let name = |e: &str| e.split_once('=').map_or(e, |(n, _)| n).to_string();
    let mut out: Vec<String> = Vec::with_capacity(env.len());
    for entry in env {
        let key = name(entry);
        match out.iter_mut().find(|e| name(e) == key) {
            Some(slot) => slot.clone_from(entry),
            None => out.push(entry.clone()),
        }
    }
    out
}

/// `execve(2)`; returns only on failure.
pub fn exec(program: &Program) -> anyhow::Error {
    let Err(err) = nix::unistd::execve(&program.path, &program.args, &program.env);
    let path = OsStr::from_bytes(program.path.as_bytes())
        .to_string_lossy()
        .into_owned();
    anyhow::anyhow!("exec {path}: {}", err.desc())
}

#[cfg(test)]
mod tests {
    use super::dedup_env;

    #[test]
    fn duplicate_env_names_keep_the_last_value_in_the_first_place() {
        let env: Vec<String> = ["ONE=two", "PATH=/bin", "ONE=three", "FLAG"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        assert_eq!(dedup_env(&env), ["ONE=three", "PATH=/bin", "FLAG"]);
    }
}
