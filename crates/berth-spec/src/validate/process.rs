//! `process`: args, env, cwd, console, user, capabilities, rlimits.

use std::path::Path;

use oci_spec::runtime::{PosixRlimit, Process as OciProcess};

use super::{caps, check_nul, list, Invalid, Result};
use crate::plan::{Process, Rlimit, User};

/// runc's umask when `process.user.umask` is absent.
const DEFAULT_UMASK: u32 = 0o022;

/// `process`; optional until `start` (config.md), so an absent one is
/// [`Process::absent`] and `start` refuses it.
pub(super) fn convert(p: Option<&OciProcess>) -> Result<Process> {
    let Some(p) = p else {
        return Ok(Process::absent());
    };
    let terminal = p.terminal().unwrap_or(false);
    Ok(Process {
        args: args(list(p.args()))?,
        env: env(list(p.env()))?,
        cwd: cwd(p.cwd())?,
        terminal,
        // runtime-spec: "Runtimes MUST ignore consoleSize if terminal is
        // false or unset."
        console_size: if terminal { console_size(p)? } else { None },
        user: user(p)?,
        capabilities: caps::convert(p.capabilities().as_ref())?,
        rlimits: rlimits(list(p.rlimits()))?,
        no_new_privileges: p.no_new_privileges().unwrap_or(false),
        oom_score_adj: oom_score_adj(p.oom_score_adj())?,
        apparmor_profile: label(p.apparmor_profile(), "process.apparmorProfile")?,
        selinux_label: label(p.selinux_label(), "process.selinuxLabel")?,
    })
}

fn args(args: &[String]) -> Result<Vec<String>> {
    if args.is_empty() {
        return Err(Invalid::new("process.args", "must not be empty"));
    }
    for (i, a) in args.iter().enumerate() {
        check_nul(a).map_err(|m| Invalid::new(format!("process.args[{i}]"), m))?;
    }
    Ok(args.to_vec())
}

fn env(env: &[String]) -> Result<Vec<String>> {
    for (i, e) in env.iter().enumerate() {
        let path = format!("process.env[{i}]");
        check_nul(e).map_err(|m| Invalid::new(&path, m))?;
        if !e.contains('=') {
            return Err(Invalid::new(path, format!("must be KEY=value, got {e:?}")));
        }
    }
    Ok(env.to_vec())
}

fn cwd(cwd: &Path) -> Result<std::path::PathBuf> {
    if !cwd.is_absolute() {
        return Err(Invalid::new(
            "process.cwd",
            format!("must be an absolute path, got {cwd:?}"),
        ));
    }
    check_nul(&cwd.to_string_lossy()).map_err(|m| Invalid::new("process.cwd", m))?;
    Ok(cwd.to_path_buf())
}

/// `consoleSize` as (height, width); a terminal has 16-bit dimensions
/// (`struct winsize`).
fn console_size(p: &OciProcess) -> Result<Option<(u16, u16)>> {
    let Some(size) = p.console_size() else {
        return Ok(None);
    };
    let dim = |field: &str, v: u64| {
        u16::try_from(v).map_err(|_| {
            Invalid::new(
                format!("process.consoleSize.{field}"),
                format!("{v} is larger than {}", u16::MAX),
            )
        })
    };
    Ok(Some((
        dim("height", size.height())?,
        dim("width", size.width())?,
    )))
}

fn user(p: &OciProcess) -> Result<User> {
    let u = p.user();
    let umask = u.umask().unwrap_or(DEFAULT_UMASK);
    if umask > 0o777 {
        return Err(Invalid::new(
            "process.user.umask",
            format!("{umask:#o} has bits outside 0o777"),
        ));
    }
    Ok(User {
        uid: u.uid(),
        gid: u.gid(),
        umask,
        additional_gids: list(u.additional_gids()).to_vec(),
    })
}

/// Each limit: known type, no type twice (runtime-spec), soft <= hard
/// (setrlimit(2) fails with EINVAL otherwise; we say so before forking).
fn rlimits(limits: &[PosixRlimit]) -> Result<Vec<Rlimit>> {
    let mut out: Vec<Rlimit> = Vec::with_capacity(limits.len());
    for (i, l) in limits.iter().enumerate() {
        let typ = l.typ().to_string();
        let Some((name, resource)) = Rlimit::by_name(&typ) else {
            return Err(Invalid::new(
                format!("process.rlimits[{i}].type"),
                format!("unknown rlimit {typ:?}"),
            ));
        };
        if out.iter().any(|r| r.name == name) {
            return Err(Invalid::new(
                format!("process.rlimits[{i}].type"),
                format!("duplicate {name}"),
            ));
        }
        if l.soft() > l.hard() {
            return Err(Invalid::new(
                format!("process.rlimits[{i}].soft"),
                format!("{} is above the hard limit {}", l.soft(), l.hard()),
            ));
        }
        out.push(Rlimit {
            name,
            resource,
            soft: l.soft(),
            hard: l.hard(),
        });
    }
    Ok(out)
}

/// An LSM label: "" is the same as absent (runc).
fn label(v: &Option<String>, field: &str) -> Result<Option<String>> {
    match v.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => {
            check_nul(s).map_err(|m| Invalid::new(field, m))?;
            Ok(Some(s.to_string()))
        }
    }
}

/// `oomScoreAdj`: the kernel accepts -1000..=1000 (proc(5)).
fn oom_score_adj(v: Option<i32>) -> Result<Option<i32>> {
    match v {
        Some(adj) if !(-1000..=1000).contains(&adj) => Err(Invalid::new(
            "process.oomScoreAdj",
            format!("{adj} is outside -1000..=1000"),
        )),
        _ => Ok(v),
    }
}

#[cfg(test)]
mod tests;
