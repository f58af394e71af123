//! The validated, normalised form of a bundle's `config.json`.
//!
//! A [`Plan`] is what every other crate works from. It is built once by
//! [`crate::load`] before any process is forked, so the code that runs
//! in the container's init never meets an `Option` it has to guess about:
//! defaults are filled in, relative paths resolved, names turned into numbers.
//! Where an `Option` remains it means "leave the kernel's value alone".

use std::collections::BTreeMap;
use std::path::PathBuf;

pub mod knobs;

use serde::{Deserialize, Serialize};

/// Everything berth needs to build one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Absolute path of the bundle directory.
    pub bundle: PathBuf,
    /// `ociVersion` as written in the config.
    pub oci_version: String,
    /// The container's root filesystem.
    pub root: Root,
    /// The process that `start` runs. Without a `process` in the config
    /// (allowed until `start`, config.md) this is [`Process::absent`].
    pub process: Process,
    /// `hooks`, each kind in config order.
    pub hooks: Hooks,
    /// `hostname`; `None` leaves the UTS namespace's value alone.
    pub hostname: Option<String>,
    /// `domainname`; `None` leaves the UTS namespace's value alone.
    pub domainname: Option<String>,
    /// `mounts`, in the order they must be mounted.
    pub mounts: Vec<Mount>,
    /// `linux.namespaces`, in config order, each either new or joined.
    pub namespaces: Vec<Namespace>,
    /// `linux.uidMappings` (empty unless a new user namespace is made).
    pub uid_mappings: Vec<IdMap>,
    /// `linux.gidMappings` (empty unless a new user namespace is made).
    pub gid_mappings: Vec<IdMap>,
    /// `linux.timeOffsets` (empty unless a new time namespace is made).
    pub time_offsets: Vec<TimeOffset>,
    /// `linux.rootfsPropagation` as `MS_*` flags; runc's default is
    /// `MS_SLAVE | MS_REC`.
    pub rootfs_propagation: u64,
    /// `linux.maskedPaths`, absolute paths inside the container.
    pub masked_paths: Vec<PathBuf>,
    /// `linux.readonlyPaths`, absolute paths inside the container.
    pub readonly_paths: Vec<PathBuf>,
    /// Device nodes to create in `/dev`: runc's defaults (null, zero, full,
    /// tty, urandom, random) that the config does not redefine, followed by
    /// `linux.devices` in config order (a config entry replaces a default
    /// with the same path).
    pub devices: Vec<Device>,
    /// Whether berth populates `/dev` (devices, `/dev/fd` etc. symlinks,
    /// `/dev/ptmx`). False when `/dev` is bind-mounted from elsewhere, as
    /// in runc.
    pub setup_dev: bool,
    /// `linux.sysctl`, written under `/proc/sys` inside the container.
    pub sysctl: BTreeMap<String, String>,
    /// `linux.netDevices`, sorted by host name.
    pub net_devices: Vec<NetDevice>,
    /// `linux.cgroupsPath`, unchanged; `None` when absent.
    pub cgroups_path: Option<String>,
    /// `linux.resources`; all empty when absent.
    pub resources: crate::resources::Resources,
    /// `linux.seccomp`; `None` runs the process without a filter.
    pub seccomp: Option<Seccomp>,
    /// `annotations`.
    pub annotations: BTreeMap<String, String>,
    /// Scheduler, I/O priority, CPU affinity, personality, LSM labels.
    pub knobs: knobs::Knobs,
}

/// One `linux.netDevices` entry: a host interface the container gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetDevice {
    /// Its name on the host (the entry's key).
    pub host: String,
    /// Its name inside (`name`, or the host name); may be a `%d` template.
    pub name: String,
}

/// `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// Absolute, canonical path of the rootfs on the host.
    pub path: PathBuf,
    /// `root.readonly`.
    pub readonly: bool,
}

/// `process`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    /// `process.args`; never empty.
    pub args: Vec<String>,
    /// `process.env`, `KEY=value` strings in config order.
    pub env: Vec<String>,
    /// `process.cwd`; absolute.
    pub cwd: PathBuf,
    /// `process.terminal`.
    pub terminal: bool,
    /// `process.consoleSize` as (height, width); `None` leaves the pty alone.
    pub console_size: Option<(u16, u16)>,
    /// `process.user`.
    pub user: User,
    /// `process.capabilities`; all sets empty when the field is absent.
    pub capabilities: Capabilities,
    /// `process.rlimits`, no type twice.
    pub rlimits: Vec<Rlimit>,
    /// `process.noNewPrivileges`.
    pub no_new_privileges: bool,
    /// `process.oomScoreAdj`; `None` inherits the runtime's value.
    pub oom_score_adj: Option<i32>,
    /// `process.apparmorProfile`; `None` (or absent, or "") leaves the
    /// AppArmor confinement alone.
    #[serde(default)]
    pub apparmor_profile: Option<String>,
    /// `process.selinuxLabel`; `None` (or absent, or "") leaves the SELinux
    /// label alone.
    #[serde(default)]
    pub selinux_label: Option<String>,
}

impl Process {
    /// What stands for a config without `process`: no args (so nothing to
    /// start), cwd `/`, root, no capabilities, runc's default umask.
    pub fn absent() -> Self {
        Process {
            args: Vec::new(),
            env: Vec::new(),
            cwd: PathBuf::from("/"),
            terminal: false,
            console_size: None,
            user: User {
                uid: 0,
                gid: 0,
                umask: 0o022,
                additional_gids: Vec::new(),
            },
            capabilities: Capabilities::default(),
            rlimits: Vec::new(),
            no_new_privileges: false,
            oom_score_adj: None,
            apparmor_profile: None,
            selinux_label: None,
        }
    }

    /// Whether the config had a `process` (`args` is never empty then).
    pub fn is_present(&self) -> bool {
        !self.args.is_empty()
    }
}

/// `hooks`: the six kinds of runtime-spec config.md, each in config order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    /// `prestart` (deprecated; run with `createRuntime`, before it).
    pub prestart: Vec<Hook>,
    /// `createRuntime`: runtime namespace, after the namespaces exist.
    pub create_runtime: Vec<Hook>,
    /// `createContainer`: container namespaces, before `pivot_root`.
    pub create_container: Vec<Hook>,
    /// `startContainer`: in the container, after `start`, before exec.
    pub start_container: Vec<Hook>,
    /// `poststart`: runtime namespace, in `start` once the process runs.
    pub poststart: Vec<Hook>,
    /// `poststop`: runtime namespace, in `delete` (and after a failed create).
    pub poststop: Vec<Hook>,
}

impl Hooks {
    /// Whether init must stop before `pivot_root` for hooks (the runtime's
    /// and its own), which also hands it the state for `startContainer`.
    pub fn needed_by_init(&self) -> bool {
        !(self.prestart.is_empty()
            && self.create_runtime.is_empty()
            && self.create_container.is_empty()
            && self.start_container.is_empty())
    }
}

/// One hook (config.md "POSIX-platform Hooks").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hook {
    /// Absolute path of the executable.
    pub path: PathBuf,
    /// argv, `args[0]` included; empty means just the path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// The whole environment, `KEY=value`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Seconds before the hook is killed; `None` waits for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
}

/// `process.user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// `uid`, as seen inside the container.
    pub uid: u32,
    /// `gid`, as seen inside the container.
    pub gid: u32,
    /// `umask`; runc's default is 0o022.
    pub umask: u32,
    /// `additionalGids`, in config order.
    pub additional_gids: Vec<u32>,
}

/// A set of capabilities as a bit mask: bit N is capability number N
/// (`CAP_CHOWN` is bit 0), as in `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapSet(pub u64);

impl CapSet {
    /// Whether capability number `cap` is in the set.
    pub fn contains(self, cap: u8) -> bool {
        cap < 64 && self.0 & (1u64 << cap) != 0
    }

    /// The number of capability `name` (`CAP_KILL`), in the kernel's
    /// numbering (`linux/capability.h`, via the `caps` crate).
    pub fn number_of(name: &str) -> Option<u8> {
        use std::str::FromStr;
        caps::Capability::from_str(name).ok().map(|c| c.index())
    }

    /// The capability numbers in the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = u8> {
        (0u8..64).filter(move |&cap| self.contains(cap))
    }
}

/// `process.capabilities`: the five sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// `bounding`.
    pub bounding: CapSet,
    /// `effective`.
    pub effective: CapSet,
    /// `inheritable`.
    pub inheritable: CapSet,
    /// `permitted`.
    pub permitted: CapSet,
    /// `ambient`.
    pub ambient: CapSet,
}

/// One `process.rlimits` entry. Serialised with its name; read back, the
/// name is looked up again (see [`Rlimit::by_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rlimit {
    /// The `RLIMIT_*` name as written in the config, e.g. `RLIMIT_NOFILE`.
    pub name: &'static str,
    /// The resource number passed to `setrlimit(2)`.
    pub resource: u32,
    /// `soft`.
    pub soft: u64,
    /// `hard`.
    pub hard: u64,
}

/// The `RLIMIT_*` names of `setrlimit(2)` and their resource numbers.
/// `berth-linux` passes the number to glibc's `prlimit`, whose type for it
/// is `u32`.
pub(crate) const RLIMITS: [(&str, u32); 16] = [
    ("RLIMIT_CPU", libc::RLIMIT_CPU),
    ("RLIMIT_FSIZE", libc::RLIMIT_FSIZE),
    ("RLIMIT_DATA", libc::RLIMIT_DATA),
    ("RLIMIT_STACK", libc::RLIMIT_STACK),
    ("RLIMIT_CORE", libc::RLIMIT_CORE),
    ("RLIMIT_RSS", libc::RLIMIT_RSS),
    ("RLIMIT_NPROC", libc::RLIMIT_NPROC),
    ("RLIMIT_NOFILE", libc::RLIMIT_NOFILE),
    ("RLIMIT_MEMLOCK", libc::RLIMIT_MEMLOCK),
    ("RLIMIT_AS", libc::RLIMIT_AS),
    ("RLIMIT_LOCKS", libc::RLIMIT_LOCKS),
    ("RLIMIT_SIGPENDING", libc::RLIMIT_SIGPENDING),
    ("RLIMIT_MSGQUEUE", libc::RLIMIT_MSGQUEUE),
    ("RLIMIT_NICE", libc::RLIMIT_NICE),
    ("RLIMIT_RTPRIO", libc::RLIMIT_RTPRIO),
    ("RLIMIT_RTTIME", libc::RLIMIT_RTTIME),
];

impl Rlimit {
    /// The canonical name and resource number of `RLIMIT_*` name `name`.
    pub fn by_name(name: &str) -> Option<(&'static str, u32)> {
        RLIMITS.iter().find(|(n, _)| *n == name).copied()
    }
}

/// An [`Rlimit`] as stored (in a container's state record).
#[derive(Deserialize)]
struct RlimitRecord {
    name: String,
    soft: u64,
    hard: u64,
}

impl<'de> Deserialize<'de> for Rlimit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RlimitRecord::deserialize(d)?;
        let (name, resource) = Rlimit::by_name(&r.name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown rlimit {:?}", r.name)))?;
        Ok(Rlimit {
            name,
            resource,
            soft: r.soft,
            hard: r.hard,
        })
    }
}

/// The kinds of namespace in `linux.namespaces[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NsKind {
    /// `pid`.
    Pid,
    /// `network`.
    Network,
    /// `mount`.
    Mount,
    /// `ipc`.
    Ipc,
    /// `uts`.
    Uts,
    /// `user`.
    User,
    /// `cgroup`.
    Cgroup,
    /// `time`.
    Time,
}

impl NsKind {
    /// Every kind, in the order the spec lists them.
    pub const ALL: [NsKind; 8] = [
        NsKind::Pid,
        NsKind::Network,
        NsKind::Mount,
        NsKind::Ipc,
        NsKind::Uts,
        NsKind::User,
        NsKind::Cgroup,
        NsKind::Time,
    ];

    /// The name used in `config.json`.
    pub fn name(self) -> &'static str {
        match self {
            NsKind::Pid => "pid",
            NsKind::Network => "network",
            NsKind::Mount => "mount",
            NsKind::Ipc => "ipc",
            NsKind::Uts => "uts",
            NsKind::User => "user",
            NsKind::Cgroup => "cgroup",
            NsKind::Time => "time",
        }
    }

    /// The `CLONE_NEW*` flag for this kind.
    pub fn clone_flag(self) -> u64 {
        // The libc constants are c_int; all are positive and fit in u64.
        let flag = match self {
            NsKind::Pid => libc::CLONE_NEWPID,
            NsKind::Network => libc::CLONE_NEWNET,
            NsKind::Mount => libc::CLONE_NEWNS,
            NsKind::Ipc => libc::CLONE_NEWIPC,
            NsKind::Uts => libc::CLONE_NEWUTS,
            NsKind::User => libc::CLONE_NEWUSER,
            NsKind::Cgroup => libc::CLONE_NEWCGROUP,
            NsKind::Time => libc::CLONE_NEWTIME,
        };
        u64::from(flag.unsigned_abs())
    }

    /// The file name under `/proc/<pid>/ns/`.
    pub fn proc_name(self) -> &'static str {
        match self {
            NsKind::Network => "net",
            NsKind::Mount => "mnt",
            other => other.name(),
        }
    }
}

/// One `linux.namespaces` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// `type`.
    pub kind: NsKind,
    /// `path`: `None` makes a new namespace, `Some` joins the one at the path.
    pub join: Option<PathBuf>,
}

/// One `linux.uidMappings` or `linux.gidMappings` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMap {
    /// `containerID`: first id inside the namespace.
    pub container_id: u32,
    /// `hostID`: first id outside it.
    pub host_id: u32,
    /// `size`: how many ids; never zero.
    pub size: u32,
}

/// The clocks a time namespace can offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// `monotonic` (`CLOCK_MONOTONIC`).
    Monotonic,
    /// `boottime` (`CLOCK_BOOTTIME`).
    Boottime,
}

/// One `linux.timeOffsets` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOffset {
    /// Which clock.
    pub clock: Clock,
    /// `secs`.
    pub secs: i64,
    /// `nanosecs`.
    pub nanosecs: u32,
}

/// One entry of `mounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `destination`: absolute, normalised path inside the container.
    pub destination: PathBuf,
    /// What is mounted.
    pub kind: MountKind,
    /// `MS_*` flags from the options (ro, nosuid, nodev, noexec, relatime…),
    /// without the propagation and bind flags.
    pub flags: u64,
    /// Propagation changes applied after the mount, in option order, each an
    /// `MS_SHARED`/`MS_SLAVE`/`MS_PRIVATE`/`MS_UNBINDABLE` flag, with
    /// `MS_REC` for the `r`-prefixed options.
    pub propagation: Vec<u64>,
    /// The options berth does not know as flags, comma-joined, passed to
    /// the filesystem as mount data (e.g. `mode=755,size=65536k`).
    pub data: String,
    /// The recursive attributes (`rro`, `rnosuid`…): applied with
    /// `mount_setattr(AT_RECURSIVE)` to the mount and everything below it.
    pub recursive_attrs: RecursiveAttrs,
}

/// A recursive `mount_setattr(2)` change, in `MOUNT_ATTR_*` bits, as runc
/// builds it from the `r`-prefixed options (config.md, "Mounts").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecursiveAttrs {
    /// Bits to set.
    pub set: u64,
    /// Bits to clear (`MOUNT_ATTR__ATIME` when an atime mode is set).
    pub clear: u64,
}

impl RecursiveAttrs {
    /// Whether any option asked for a change.
    pub fn is_empty(&self) -> bool {
        self.set == 0 && self.clear == 0
    }
}

/// What a [`Mount`] attaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    /// `bind` or `rbind` (in `type` or `options`): a host path.
    Bind {
        /// Absolute host path (relative sources resolved against the bundle).
        source: PathBuf,
        /// `rbind`: bind the whole subtree.
        recursive: bool,
    },
    /// A new filesystem instance (proc, sysfs, tmpfs, devpts, mqueue, cgroup…).
    Filesystem {
        /// `type`, e.g. `proc`.
        fstype: String,
        /// `source` as given (`proc`, `tmpfs`, a device path…), or the type
        /// when absent.
        source: String,
    },
}

/// The kinds of node in `linux.devices[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// `c` or `u`.
    Char,
    /// `b`.
    Block,
    /// `p`.
    Fifo,
}

/// One device node to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Absolute path inside the container, e.g. `/dev/null`.
    pub path: PathBuf,
    /// `type`.
    pub kind: DeviceKind,
    /// `major`.
    pub major: u64,
    /// `minor`.
    pub minor: u64,
    /// `fileMode` permission bits; 0o666 when absent.
    pub mode: u32,
    /// `uid`; 0 when absent.
    pub uid: u32,
    /// `gid`; 0 when absent.
    pub gid: u32,
}

/// `linux.seccomp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seccomp {
    /// `defaultAction` (with `defaultErrnoRet` folded in).
    pub default_action: SeccompAction,
    /// `architectures`, as libseccomp names them (`SCMP_ARCH_X86_64`).
    pub architectures: Vec<String>,
    /// `flags`.
    pub flags: Vec<SeccompFlag>,
    /// `syscalls`, in config order.
    pub syscalls: Vec<SyscallRule>,
    /// `listenerPath`: the socket that gets the notify fd (absolute).
    pub listener_path: Option<PathBuf>,
    /// `listenerMetadata`, passed on to the listener as is.
    pub listener_metadata: String,
}

/// What a seccomp rule does to a matching system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeccompAction {
    /// `SCMP_ACT_KILL` and `SCMP_ACT_KILL_THREAD`.
    KillThread,
    /// `SCMP_ACT_KILL_PROCESS`.
    KillProcess,
    /// `SCMP_ACT_TRAP`: SIGSYS.
    Trap,
    /// `SCMP_ACT_ERRNO`: fail with this errno (`errnoRet`, EPERM by default).
    Errno(u16),
    /// `SCMP_ACT_TRACE`: notify a tracer with this value (`errnoRet`).
    Trace(u16),
    /// `SCMP_ACT_LOG`: allow and log.
    Log,
    /// `SCMP_ACT_ALLOW`.
    Allow,
    /// `SCMP_ACT_NOTIFY`: a listener decides (`listenerPath`).
    Notify,
}

/// `linux.seccomp.flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeccompFlag {
    /// `SECCOMP_FILTER_FLAG_LOG`.
    Log,
    /// `SECCOMP_FILTER_FLAG_TSYNC`.
    Tsync,
    /// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`.
    SpecAllow,
    /// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` (needs libseccomp 2.6).
    WaitKillableRecv,
}

/// One `linux.seccomp.syscalls` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyscallRule {
    /// `names`: never empty.
    pub names: Vec<String>,
    /// `action` (with `errnoRet` folded in).
    pub action: SeccompAction,
    /// `args`: all must match (but see runc's rule in berth-linux for
    /// several conditions on one argument).
    pub args: Vec<SyscallArg>,
}

/// One condition on a system call argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyscallArg {
    /// `index`: 0 to 5.
    pub index: u32,
    /// `value`; the mask for [`ArgOp::MaskedEqual`].
    pub value: u64,
    /// `valueTwo`: the value for [`ArgOp::MaskedEqual`].
    pub value_two: u64,
    /// `op`.
    pub op: ArgOp,
}

/// `linux.seccomp.syscalls[].args[].op`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArgOp {
    /// `SCMP_CMP_NE`.
    NotEqual,
    /// `SCMP_CMP_LT`.
    Less,
    /// `SCMP_CMP_LE`.
    LessOrEqual,
    /// `SCMP_CMP_EQ`.
    Equal,
    /// `SCMP_CMP_GE`.
    GreaterOrEqual,
    /// `SCMP_CMP_GT`.
    Greater,
    /// `SCMP_CMP_MASKED_EQ`: `(arg & value) == valueTwo`.
    MaskedEqual,
}

impl Plan {
    /// The namespace entry of `kind`, if the config lists one.
    pub fn namespace(&self, kind: NsKind) -> Option<&Namespace> {
        self.namespaces.iter().find(|ns| ns.kind == kind)
    }

    /// The `CLONE_NEW*` flags of the namespaces the config asks to create.
    pub fn new_namespace_flags(&self) -> u64 {
        self.namespaces
            .iter()
            .filter(|ns| ns.join.is_none())
            .fold(0, |acc, ns| acc | ns.kind.clone_flag())
    }

    /// Whether the container shares the runtime's mount namespace (the
    /// config lists none): its mounts are then made, and outlive its
    /// processes, in the runtime's namespace.
    pub fn shares_host_mounts(&self) -> bool {
        self.namespace(NsKind::Mount).is_none()
    }

    /// Whether the config asks for a new namespace of `kind`.
    pub fn creates(&self, kind: NsKind) -> bool {
        self.namespace(kind).is_some_and(|ns| ns.join.is_none())
    }
}
