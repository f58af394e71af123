//! Kernel primitives for berth: the only crate with `unsafe` code.
//!
//! Each module wraps one kernel concept (clone, namespaces, id maps,
//! mounts, rootfs, devices, capabilities…) and turns every failed call into
//! a [`SysError`] that names the operation and path. The functions are
//! primitives; the `berth` crate decides their order.

pub mod attrs;
pub mod bpf;
pub mod caps;
pub mod cgroup_member;
pub mod clone;
pub mod cred;
pub mod devices;
pub mod error;
pub mod exe_remap;
pub mod fd;
pub mod idmap;
pub mod lsm;
pub mod mount;
pub mod namespace;
pub mod net;
pub mod netdev;
pub mod openat2;
pub mod pidfd;
pub mod proc;
pub mod procfs;
pub mod rlimit;
pub mod rootfs;
pub mod sched;
pub mod sealed;
pub mod seccomp;
pub mod seccomp_probe;
pub mod signals;
pub mod tty;
pub mod untrusted;

pub use error::{SysError, SysResult};
