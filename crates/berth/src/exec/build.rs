//! The process `exec` runs: a process.json (`--process`), or the
//! container's own `process` with the command and runc's flags applied.

use std::path::PathBuf;

use anyhow::{bail, Context};
use berth_spec::plan::{CapSet, Process};

use crate::cli::ExecArgs;

/// The process to run; `saved` is the container's `process` at create.
pub fn process(args: &ExecArgs, saved: &Process) -> anyhow::Result<Process> {
    if let Some(file) = &args.process {
        let mut p = berth_spec::load_process(file)?;
        // runc: a process.json without rlimits gets the container's.
        if p.rlimits.is_empty() {
            p.rlimits.clone_from(&saved.rlimits);
        }
        return Ok(p);
    }
    if args.command.is_empty() {
        bail!("exec: no command given (and no --process)");
    }
    let mut p = saved.clone();
    p.args.clone_from(&args.command);
    p.terminal = args.tty;
    p.console_size = None;
    if let Some(cwd) = &args.cwd {
        p.cwd = absolute(cwd)?;
    }
    for e in &args.env {
        if !e.contains('=') || e.contains('\0') {
            bail!("--env: must be KEY=value, got {e:?}");
        }
        p.env.push(e.clone());
    }
    if let Some(user) = &args.user {
        (p.user.uid, p.user.gid) = parse_user(user, p.user.gid)?;
    }
    p.user.additional_gids.extend(&args.additional_gids);
    for name in &args.cap {
        let bit = CapSet(1u64 << cap_number(name)?);
        let c = &mut p.capabilities;
        for set in [
            &mut c.bounding,
            &mut c.effective,
            &mut c.permitted,
            &mut c.ambient,
        ] {
            set.0 |= bit.0;
        }
    }
    p.no_new_privileges |= args.no_new_privs;
    if let Some(profile) = args.apparmor.as_ref().filter(|s| !s.is_empty()) {
        p.apparmor_profile = Some(profile.clone());
    }
    if let Some(label) = args.process_label.as_ref().filter(|s| !s.is_empty()) {
        p.selinux_label = Some(label.clone());
    }
    Ok(p)
}

fn absolute(cwd: &std::path::Path) -> anyhow::Result<PathBuf> {
    if !cwd.is_absolute() {
        bail!("--cwd: must be an absolute path, got {cwd:?}");
    }
    Ok(cwd.to_path_buf())
}

/// `uid[:gid]`, numbers only (runc); without a gid the current one stays.
fn parse_user(text: &str, gid: u32) -> anyhow::Result<(u32, u32)> {
    let (uid, gid) = match text.split_once(':') {
        Some((u, g)) => (
            u,
            g.parse().with_context(|| format!("--user {text:?}: gid"))?,
        ),
        None => (text, gid),
    };
    let uid = uid
        .parse()
        .with_context(|| format!("--user {text:?}: uid"))?;
    Ok((uid, gid))
}

/// `CAP_KILL` (or `KILL`) → its number.
fn cap_number(name: &str) -> anyhow::Result<u8> {
    let full = if name.to_ascii_uppercase().starts_with("CAP_") {
        name.to_ascii_uppercase()
    } else {
        format!("CAP_{}", name.to_ascii_uppercase())
    };
    CapSet::number_of(&full).with_context(|| format!("--cap: unknown capability {name:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved() -> Process {
        let json = br#"{"args": ["init"], "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": 5, "gid": 6, "additionalGids": [7]},
            "capabilities": {"bounding": ["CAP_CHOWN"]}}"#;
        berth_spec::load_process_bytes(json, std::path::Path::new("p.json")).expect("valid")
    }

    #[test]
    fn flags_override_the_containers_process() {
        let args = ExecArgs {
            command: vec!["sh".into(), "-c".into(), "true".into()],
            tty: true,
            cwd: Some("/tmp".into()),
            env: vec!["A=1".into()],
            user: Some("10:20".into()),
            additional_gids: vec![30],
            cap: vec!["CAP_KILL".into(), "net_raw".into()],
            no_new_privs: true,
            ..ExecArgs::default()
        };
        let p = process(&args, &saved()).expect("builds");
        assert_eq!(p.args, ["sh", "-c", "true"]);
        assert!(p.terminal && p.no_new_privileges);
        assert_eq!(p.cwd, PathBuf::from("/tmp"));
        assert_eq!(p.env, ["PATH=/bin", "A=1"]);
        assert_eq!((p.user.uid, p.user.gid), (10, 20));
        assert_eq!(p.user.additional_gids, [7, 30]);
        let want = 1 << 0 | 1 << 5 | 1 << 13; // CHOWN, KILL, NET_RAW
        assert_eq!(p.capabilities.bounding.0, want);
        assert_eq!(p.capabilities.ambient.0, 1 << 5 | 1 << 13);
    }

    #[test]
    fn bad_flags_are_named() {
        let with = |edit: fn(&mut ExecArgs)| {
            let mut args = ExecArgs {
                command: vec!["true".into()],
                ..ExecArgs::default()
            };
            edit(&mut args);
            format!("{:#}", process(&args, &saved()).expect_err("refused"))
        };
        assert!(with(|a| a.user = Some("root".into())).starts_with("--user \"root\": uid"));
        assert!(with(|a| a.cap = vec!["CAP_NOPE".into()]).starts_with("--cap: unknown"));
        assert!(with(|a| a.env = vec!["NOEQUALS".into()]).starts_with("--env: must be"));
        assert!(with(|a| a.cwd = Some("rel".into())).starts_with("--cwd: must be an absolute path"));
        assert!(with(|a| a.command.clear()).starts_with("exec: no command"));
    }
}
