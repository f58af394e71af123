//! `berth delete ID`.

use anyhow::{bail, Context};
use berth_linux::pidfd;
use berth_spec::state::Status;

use crate::cli::DeleteArgs;
use crate::commands::kill::signal_init;
use crate::commands::state::hook_state;
use crate::container::Container;
use crate::hooks;
use crate::state::{Locked, Record, Store};

/// Deletes a stopped container; with `--force` any container, and a
/// missing one is then no error (runc's rule).
pub fn run(store: &Store, args: &DeleteArgs) -> anyhow::Result<()> {
    let locked = if args.force {
        // Also clears what a crashed create left without a record.
        match store.lock_for_delete(&args.id)? {
            Some(locked) => locked,
            None => return Ok(()),
        }
    } else {
        store.lock(&args.id)?
    };
    let record = locked.record()?;
    match crate::container::derive(&record, &locked.fifo_path()) {
        Status::Stopped => {}
        _ if args.force => {
            // A frozen init cannot die: thaw first.
            if let Some(cgroup) = crate::container::cgroup_of(&record)? {
                cgroup
                    .freeze(false)
                    .with_context(|| format!("container {}", args.id))?;
            }
            kill_and_wait(&record)?
        }
        // runtime-spec "Delete": deleting a container that is not stopped
        // MUST fail, created included (runc 1.1 deletes a created one).
        other => bail!(
            "cannot delete container {}: it is {other}; kill it first or use --force",
            args.id
        ),
    }
    destroy(locked, &record)
}

/// SIGKILLs init (if it is still the process we started) and waits until
/// it has exited.
pub fn kill_and_wait(record: &Record) -> anyhow::Result<()> {
    if let Some(fd) = signal_init(record, libc::SIGKILL)? {
        pidfd::wait_exit(&fd)?;
    }
    Ok(())
}

/// Removes everything the (stopped) container holds on the host: the
/// processes left in its cgroup and the cgroup in every hierarchy, the
/// mounts it made in berth's mount namespace if it had none of its own,
/// and its state directory.
pub fn destroy(locked: Locked, record: &Record) -> anyhow::Result<()> {
    let id = locked.id().to_string();
    let container = Container {
        locked,
        record: record.clone(),
    };
    container.destroy_cgroup()?;
    let locked = container.locked;
    if record.host_mounts {
        berth_linux::mount::unmount_under(&record.rootfs)
            .with_context(|| format!("container {id}"))?;
    }
    locked
        .destroy()
        .with_context(|| format!("container {id}"))?;
    // runtime.md "Delete": poststop after the container is deleted, before
    // delete returns; a failure is a warning.
    let state = hook_state(record, Status::Stopped, 0);
    hooks::run_warn("poststop", &record.hooks.poststop, &state);
    Ok(())
}
