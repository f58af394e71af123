//! `create`: from a bundle to an init waiting for `start`, or to nothing
//! at all.
//!
//! The steps, in order (each owned by the module named):
//! 1. load and validate `config.json` (`berth_spec`), check what needs the
//!    kernel (`preflight`) — before anything exists;
//! 2. claim the id in the state store and record the container as
//!    `creating`, naming its cgroups before they are made; make them and
//!    the exec fifo;
//! 3. clone init (`spawn`) and record its pid;
//! 4. serve init's handshake until it is ready (`parent`);
//! 5. write `--pid-file` and record `created`.
//!
//! If any step fails, [`Cleanup`] kills what was cloned and removes the
//! container's directory. Mounts live in init's mount namespace and vanish
//! with it.

mod cgroups;
mod knobs_check;
mod notify;
mod parent;
mod preflight;
mod proc_mounts;
mod spawn;
mod sysctl_ns;

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use anyhow::Context;
use berth_linux::{pidfd, proc};
use berth_spec::plan::{NsKind, Plan};
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::sys::wait::waitpid;
use nix::unistd::{geteuid, mkfifo};

use crate::commands::state::hook_state;
use crate::hooks;
use crate::host_cgroups::HostCgroups;
use crate::init::InitContext;
use crate::state::record::LaterHooks;
use crate::state::{ExecConfig, Locked, Phase, Record, Store};
use crate::sync;
use berth_spec::state::Status;
pub use parent::Processes;

/// The flags of `create` (and `run`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Container id.
    pub id: String,
    /// Bundle directory.
    pub bundle: PathBuf,
    /// `--console-socket`.
    pub console_socket: Option<PathBuf>,
    /// `--pid-file`.
    pub pid_file: Option<PathBuf>,
    /// `--pidfd-socket`.
    pub pidfd_socket: Option<PathBuf>,
    /// `--no-pivot`.
    pub no_pivot: bool,
    /// `--no-new-keyring`.
    pub no_new_keyring: bool,
    /// `--preserve-fds`.
    pub preserve_fds: u32,
}

/// A container `create` built.
#[derive(Debug)]
pub struct Created {
    /// Its directory, still locked.
    pub locked: Locked,
    /// Its record as saved.
    pub record: Record,
    /// Whether init made a pty (`process.terminal`).
    pub terminal: bool,
}

/// Builds the container; see the module docs. `console_fd`, when given, is
/// the socket init sends a terminal's pty master to (instead of
/// `--console-socket`).
pub fn create(
    store: &Store,
    opts: &Options,
    console_fd: Option<OwnedFd>,
) -> anyhow::Result<Created> {
    // The cheapest check first: a bad id needs no config.
    crate::state::id::validate(&opts.id)?;
    let loaded = berth_spec::load_with_warnings(&opts.bundle)?;
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let plan = loaded.plan;
    proc_mounts::check(&plan)?;
    sysctl_ns::check(&plan)?;
    knobs_check::check(&plan)?;
    let setgroups_allowed = geteuid().is_root() || !plan.creates(NsKind::User);
    crate::harden::check_groups(&plan, setgroups_allowed)?;
    let host = HostCgroups::read()?;
    let mut prepared = preflight::check(&plan, &host, opts.console_socket.as_deref(), console_fd)?;
    let cgroup = cgroups::place(&plan, &opts.id, &host)?;
    let pidfd_socket = opts
        .pidfd_socket
        .as_ref()
        .map(|p| UnixStream::connect(p).with_context(|| format!("--pidfd-socket {}", p.display())))
        .transpose()?;
    let mut cleanup = Cleanup {
        locked: Some(store.create(&opts.id)?),
        procs: Processes::default(),
        host_mounts: plan.shares_host_mounts().then(|| plan.root.path.clone()),
        cgroup: Some(cgroup.clone()),
        poststop: None,
    };
    // Saved before anything is made on the host: a create killed from here
    // on leaves a record naming the cgroups, which `delete -f` removes (a
    // directory without one is removed as a leftover).
    let mut record = new_record(&opts.id, &plan, (0, 0));
    record.cgroups = Some(cgroup.dirs().clone());
    cleanup.locked()?.save(&record)?;
    cgroups::build(&cgroup, &plan)?;
    cgroups::point_mounts_at(&mut prepared.cgroups, &cgroup);
    let locked = cleanup.locked()?;
    let fifo = make_fifo(&locked.fifo_path())?;
    let (chan, init_chan) = sync::pair()?;
    let ctx = InitContext {
        id: &opts.id,
        plan: &plan,
        chan: &init_chan,
        joins: &prepared.joins,
        cloned_flags: spawn::clone_flags(&plan),
        fifo: &fifo,
        console: prepared.console.as_ref(),
        no_pivot: opts.no_pivot,
        no_new_keyring: opts.no_new_keyring,
        preserve_fds: opts.preserve_fds,
        cgroups: &prepared.cgroups,
        setgroups_allowed,
        seccomp: prepared.seccomp.as_ref(),
        bind_sources: &prepared.bind_sources,
    };
    let forks = crate::init::needs_fork(&ctx);
    spawn::spawn_in(&ctx, &cgroup, &host, &mut cleanup.procs, &chan, forks)?;
    // Only init may hold these now: EOF on the socket must mean init is
    // gone, and `start` must find the fifo's reader in init alone.
    drop((init_chan, fifo, prepared));
    (record.pid, record.start_time) = cleanup.init_pid()?;
    cleanup.locked()?.save(&record)?;
    // From here the container exists: a failure runs poststop (runtime.md
    // lifecycle steps 12-13).
    cleanup.poststop = Some(record.clone());
    let hooks = parent::HookContext {
        record: &record,
        forks,
    };
    parent::serve(&chan, &plan, &mut cleanup.procs, &hooks)
        .with_context(|| format!("container {}", opts.id))?;
    // The real init, if an intermediate process cloned it.
    (record.pid, record.start_time) = cleanup.init_pid()?;
    record.phase = Phase::Created;
    if let Some(path) = &opts.pid_file {
        write_pid_file(path, record.pid)?;
    }
    if let Some(sock) = &pidfd_socket {
        send_pidfd(sock, &cleanup.procs)?;
    }
    cleanup.locked()?.save(&record)?;
    parent::release(&chan).with_context(|| format!("container {}", opts.id))?;
    Ok(Created {
        locked: cleanup.disarm()?,
        record,
        terminal: plan.process.terminal,
    })
}

/// Makes the exec fifo and opens both its ends for init (see
/// `init::exec::wait_for_start`).
fn make_fifo(path: &Path) -> anyhow::Result<(OwnedFd, OwnedFd)> {
    mkfifo(path, Mode::from_bits_truncate(0o600))
        .with_context(|| format!("mkfifo {}", path.display()))?;
    let flags = OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let reader = open(path, OFlag::O_RDONLY | flags, Mode::empty())
        .with_context(|| format!("open {}", path.display()))?;
    let writer = open(path, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty())
        .with_context(|| format!("open {}", path.display()))?;
    Ok((reader, writer))
}

fn new_record(id: &str, plan: &Plan, (pid, start_time): (i32, u64)) -> Record {
    Record {
        id: id.to_string(),
        pid,
        start_time,
        phase: Phase::Creating,
        bundle: plan.bundle.clone(),
        rootfs: plan.root.path.clone(),
        created: humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string(),
        owner: crate::passwd::user_name(geteuid().as_raw()),
        oci_version: plan.oci_version.clone(),
        annotations: plan.annotations.clone(),
        host_mounts: plan.shares_host_mounts(),
        version: crate::state::record::VERSION,
        cgroups: None,
        device_rules: plan.resources.devices.clone(),
        no_process: !plan.process.is_present(),
        hooks: LaterHooks {
            start_container: !plan.hooks.start_container.is_empty(),
            poststart: plan.hooks.poststart.clone(),
            poststop: plan.hooks.poststop.clone(),
        },
        exec: Some(ExecConfig {
            process: plan.process.clone(),
            seccomp: plan.seccomp.clone(),
        }),
    }
}

/// Sends a pidfd of init over `--pidfd-socket` (runc 1.2's
/// `sendPidfd`): the one from the clone, or one opened now; init is our
/// child and not reaped, so its pid cannot have been reused.
fn send_pidfd(sock: &UnixStream, procs: &Processes) -> anyhow::Result<()> {
    let init = procs.init().context("no init process")?;
    let opened;
    let fd = match &init.pidfd {
        Some(fd) => fd,
        None => {
            opened = pidfd::open(init.pid)?;
            &opened
        }
    };
    berth_linux::tty::send_fd(sock.as_fd(), fd.as_fd(), "pidfd").context("--pidfd-socket")?;
    Ok(())
}

/// Writes `pid` (no newline, as runc) to `path` atomically: a temp file
/// made with `O_EXCL|O_NOFOLLOW` (a planted file or symlink is removed,
/// never written through), then renamed over `path` (which replaces a
/// symlink there rather than following it).
pub fn write_pid_file(path: &Path, pid: i32) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let name = path.file_name().context("--pid-file has no file name")?;
    let tmp = path.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
    let open = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
    };
    let file = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&tmp).and_then(|()| open())
        }
        other => other,
    };
    file.and_then(|mut f| f.write_all(pid.to_string().as_bytes()))
        .with_context(|| format!("--pid-file {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("--pid-file {}", path.display()))
}

/// Undoes a `create` that failed: kills what was cloned, removes the
/// container's directory. Disarmed once the container is built.
struct Cleanup {
    locked: Option<Locked>,
    procs: Processes,
    /// The rootfs, when the container shares berth's mount namespace and
    /// its mounts would outlive init.
    host_mounts: Option<PathBuf>,
    /// The container's cgroups, removed in every hierarchy.
    cgroup: Option<berth_cgroups::Manager>,
    /// The record, once init exists: its poststop hooks run on failure.
    poststop: Option<Record>,
}

impl Cleanup {
    fn locked(&self) -> anyhow::Result<&Locked> {
        self.locked
            .as_ref()
            .context("container directory already released")
    }

    /// init's pid and start time.
    fn init_pid(&self) -> anyhow::Result<(i32, u64)> {
        let child = self.procs.init().context("no init process")?;
        let stat = proc::stat(child.pid)?.context("init vanished")?;
        Ok((child.pid.as_raw(), stat.start_time))
    }

    fn disarm(mut self) -> anyhow::Result<Locked> {
        self.procs = Processes::default();
        self.host_mounts = None;
        self.cgroup = None;
        self.poststop = None;
        self.locked
            .take()
            .context("container directory already released")
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for child in [self.procs.init.take(), self.procs.first.take()]
            .into_iter()
            .flatten()
        {
            if let Some(fd) = &child.pidfd {
                let _ = pidfd::send_signal(fd, libc::SIGKILL);
            }
            // Our child: reaping it also guarantees it is gone.
            let _ = waitpid(child.pid, None);
        }
        if let Some(cgroup) = self.cgroup.take() {
            if let Err(e) = cgroup.destroy() {
                tracing::error!("cleanup after failed create: {e:#}");
            }
        }
        if let Some(rootfs) = self.host_mounts.take() {
            if let Err(e) = berth_linux::mount::unmount_under(&rootfs) {
                tracing::error!("cleanup after failed create: {e:#}");
            }
        }
        if let Some(record) = self.poststop.take() {
            let state = hook_state(&record, Status::Stopped, 0);
            hooks::run_warn("poststop", &record.hooks.poststop, &state);
        }
        if let Some(locked) = self.locked.take() {
            if let Err(e) = locked.destroy() {
                tracing::error!("cleanup after failed create: {e:#}");
            }
        }
    }
}
