//! What `create`, `run` and `exec` do before anything else: drop the fds
//! the caller left open, and run from a read-only view of the binary (or a
//! sealed copy); and the check of the state root every command makes.
//!
//! Both happen before the config is even read, so nothing of the container
//! is ever resolved while a caller's fd is open, and no process of berth
//! a container could reach runs from the host's berth binary
//! (`berth_linux::sealed`, CVE-2019-5736; see docs/security.md).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{bail, Context};
use berth_linux::{fd, sealed};

use crate::cli::Command;

/// For `create`, `run` and `exec`: closes every fd above stdio and
/// `--preserve-fds`, then moves onto a read-only view of the binary (or
/// re-execs from a sealed copy) unless already running from one. These are the commands whose clones become container
/// processes: an `exec` of `/proc/self/exe` runs the exec child's own
/// binary inside the container. Other commands start nothing a container
/// can see.
pub fn before(command: &Command) -> anyhow::Result<()> {
    let preserve = match command {
        Command::Create(args) => args.flags.preserve_fds,
        Command::Run(args) => args.flags.preserve_fds,
        Command::Exec(args) => args.preserve_fds,
        _ => return Ok(()),
    };
    let first = i32::try_from(preserve)
        .ok()
        .and_then(|n| n.checked_add(3))
        .context("--preserve-fds: too large")?;
    fd::close_from_except(first, &[]).context("close inherited fds")?;
    sealed::ensure_sealed().context("run from a sealed copy of berth")
}

/// The state root (`--root`), when it exists, must be a real directory
/// (not a symlink someone planted) owned by the caller and writable by
/// nobody else: berth trusts what it finds there (pids it signals, fifos
/// it opens).
pub fn check_root(root: &Path) -> anyhow::Result<()> {
    let meta = match std::fs::symlink_metadata(root) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("--root {}", root.display())),
    };
    let shown = root.display();
    if meta.file_type().is_symlink() {
        bail!("--root {shown}: is a symlink");
    }
    if !meta.is_dir() {
        bail!("--root {shown}: not a directory");
    }
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me {
        bail!(
            "--root {shown}: owned by uid {}, not by us ({me})",
            meta.uid()
        );
    }
    if meta.mode() & 0o022 != 0 {
        bail!(
            "--root {shown}: writable by group or others (mode {:o})",
            meta.mode() & 0o7777
        );
    }
    Ok(())
}

/// `process.user.additionalGids` cannot be set where setgroups(2) is
/// denied (a user namespace made without root): an error, as in runc,
/// rather than a process that silently lacks its groups.
pub fn check_groups(plan: &berth_spec::Plan, setgroups_allowed: bool) -> anyhow::Result<()> {
    if !setgroups_allowed && !plan.process.user.additional_gids.is_empty() {
        bail!("process.user.additionalGids: cannot be set in a rootless container (setgroups is denied in its user namespace)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn additional_gids_are_refused_where_setgroups_is_denied() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("rootfs")).expect("mkdir");
        let json = r#"{"ociVersion": "1.0.2", "root": {"path": "rootfs"},
            "process": {"cwd": "/", "args": ["sh"],
                        "user": {"uid": 0, "gid": 0, "additionalGids": [1]}},
            "linux": {}}"#;
        let file = dir.path().join("config.json");
        let plan = berth_spec::load_str(json, dir.path(), &file)
            .expect("load")
            .plan;
        let err = check_groups(&plan, false).expect_err("setgroups denied");
        assert!(
            err.to_string().starts_with("process.user.additionalGids: "),
            "{err}"
        );
        assert!(check_groups(&plan, true).is_ok());
    }

    #[test]
    fn root_must_be_a_private_directory_of_ours() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        assert!(check_root(&root).is_ok(), "missing: created later");
        std::fs::create_dir(&root).expect("mkdir");
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        assert!(check_root(&root).is_ok());
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let err = check_root(&root).expect_err("world-writable");
        assert!(
            err.to_string().contains("writable by group or others"),
            "{err}"
        );
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&root, &link).expect("symlink");
        let err = check_root(&link).expect_err("symlink");
        assert!(err.to_string().ends_with("is a symlink"), "{err}");
        let file = dir.path().join("file");
        std::fs::write(&file, "").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(check_root(&file).is_err());
    }
}
