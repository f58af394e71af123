//! The messages parent and init exchange during `create`.
//!
//! ```text
//!  parent (berth create)                          init (the cloned child)
//!  ─────────────────────                          ───────────────────────
//!  make the cgroups, apply linux.resources
//!  this thread visits the v1 cgroups,
//!  clone3(CLONE_NEW* but cgroup,
//!    CLONE_INTO_CGROUP) ───────────────────────▶  closes inherited fds, waits
//!  back to its own cgroups; the pid
//!  written where the kernel refused
//!  that; CgroupJoined ─────────────────────────▶  fast path: already in its new namespaces
//!                                                 otherwise: setns(joined), unshare(user)
//!                        ◀──────────────────────  IdMapsPlease      (new user namespace only)
//!  write uid_map, gid_map
//!  IdMapsDone ─────────────────────────────────▶
//!                                                 unshare(the other new namespaces);
//!                                                 root in a new user ns: unshare(ipc)
//!                        ◀──────────────────────  NetDevicesPlease  (linux.netDevices only)
//!  move each device in, re-add its addresses, up
//!  NetDevicesDone ─────────────────────────────▶
//!                                                 pid/time namespace pending: clone again;
//!                        ◀──────────────────────  InitPid { pid }   the first child exits
//!                                                 lo up, hostname, mounts, devices
//!                        ◀──────────────────────  Hooks             (only when the config has
//!  run prestart, createRuntime hooks                                 hooks init needs)
//!  HooksDone { state } ────────────────────────▶  run createContainer hooks
//!                                                 pivot_root, sysctl, console, masked and
//!                                                 read-only paths, rlimits, user, caps,
//!                                                 executable and cwd checked
//!                        ◀──────────────────────  SeccompFd + fd    (seccomp notify only)
//!  send fd + state to listenerPath
//!                        ◀──────────────────────  Ready             or Error { errno, msg },
//!  write --pid-file, state "created"                                then _exit(1)
//!  Recorded ───────────────────────────────────▶  withdraw PR_SET_PDEATHSIG
//!                        ◀──────────────────────  Released
//!  exit                                           block on exec.fifo until `berth start`
//!                                                 run startContainer hooks
//!                                                 execve(process.args)
//! ```
//!
//! `exec` speaks the same language over its own pair:
//!
//! ```text
//!  parent (berth exec, on the host)               child (cloned into the unified cgroup)
//!  ────────────────────────────────               ──────────────────────────────────────
//!  (this thread visited the v1 cgroups for
//!  the clone: the child is born in them)
//!  Go ─────────────────────────────────────────▶  setns(init's pidfd, every CLONE_NEW* it differs in)
//!                                                 clone the process (pid namespace applies now)
//!                        ◀──────────────────────  ProcessPid { pid }   then the child exits
//!                                                 the process: chroot to init's root,
//!                        ◀──────────────────────  Console + pty master (SCM_RIGHTS), with -t
//!                                                 cwd, the process step
//!                        ◀──────────────────────  Error { errno, msg }, or EOF at execve
//! ```
//!
//! Messages are JSON, one per SOCK_SEQPACKET datagram, so a message is
//! never split or merged; EOF means every init-side copy of the socket was
//! closed (by exit or by execve, as it is close-on-exec).

use berth_spec::state::State;
use serde::{Deserialize, Serialize};

/// One message of the create handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// parent → init: you are in the container's cgroups; go on.
    CgroupJoined,
    /// init → parent: I am in my new user namespace; write my id maps.
    IdMapsPlease,
    /// parent → init: the maps are written.
    IdMapsDone,
    /// init → parent: I am in my final network namespace; move
    /// `linux.netDevices` into it (sent only when there are some).
    NetDevicesPlease,
    /// parent → init: the devices are in.
    NetDevicesDone,
    /// init → parent: the real init is this pid (the sender, an
    /// intermediate process, exits next).
    InitPid {
        /// Pid of the real init, in the parent's pid namespace.
        pid: i32,
    },
    /// init → parent: the seccomp notify fd follows, in the next datagram
    /// (SCM_RIGHTS); the parent passes it on to `listenerPath`.
    SeccompFd,
    /// init → parent: my mounts are done, before `pivot_root`: run the
    /// `prestart` and `createRuntime` hooks.
    Hooks,
    /// parent → init: those hooks succeeded; here is the state for init's
    /// own hooks (status `creating`, init's pid on the host).
    HooksDone {
        /// The state the parent's hooks got.
        state: State,
    },
    /// init → parent: the container is built.
    Ready,
    /// parent → init: the record says `created`; init may outlive
    /// `create` from now on.
    Recorded,
    /// init → parent: it no longer dies with `create`, and waits for
    /// `start`.
    Released,
    /// exec parent → child: the child is in the container's cgroups; go on
    /// and join its namespaces.
    Go,
    /// exec child → parent: the process that will exec is this pid (the
    /// sender, which joined the namespaces, exits next).
    ProcessPid {
        /// Its pid, in the parent's pid namespace.
        pid: i32,
    },
    /// exec process → parent, with the pty master attached (SCM_RIGHTS):
    /// the process has a terminal.
    Console {
        /// The slave's path inside the container (`/dev/pts/N`), sent on to
        /// the console socket as runc does.
        name: String,
    },
    /// init → parent: setup failed; init exits.
    Error {
        /// The errno behind the failure, 0 when there is none.
        errno: i32,
        /// The whole error chain, one line.
        msg: String,
    },
}
