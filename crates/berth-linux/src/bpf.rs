//! Attaching a cgroup v2 device filter: `bpf(BPF_PROG_LOAD)` of a
//! `BPF_PROG_TYPE_CGROUP_DEVICE` program, then `bpf(BPF_PROG_ATTACH)` to
//! the cgroup directory. The instructions come from `berth-cgroups`.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use crate::error::{Op, SysError, SysResult};

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The head of `union bpf_attr` for `BPF_PROG_LOAD`.
#[repr(C, align(8))]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
}

/// The head of `union bpf_attr` for `BPF_PROG_ATTACH`.
#[repr(C, align(8))]
#[derive(Default)]
struct ProgAttach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

fn bpf<T>(cmd: libc::c_long, attr: &T) -> Result<libc::c_long, Errno> {
    let size = u32::try_from(std::mem::size_of::<T>()).map_err(|_| Errno::E2BIG)?;
    // SAFETY: attr points to a live, initialised repr(C) bpf_attr head of
    // `size` bytes; the kernel only reads it for these commands, and any
    // pointers inside it refer to buffers the caller keeps alive.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, std::ptr::from_ref(attr), size) };
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

/// Loads `insns` (raw `struct bpf_insn`s) as a device filter and attaches
/// it to the cgroup directory `dir` (allowing other programs as well).
pub fn attach_device_filter(dir: &Path, insns: &[[u8; 8]]) -> SysResult<()> {
    let license = c"Apache-2.0";
    let load = ProgLoad {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: u32::try_from(insns.len()).map_err(|_| SysError::new("bpf", Errno::E2BIG))?,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        ..ProgLoad::default()
    };
    let prog = bpf(BPF_PROG_LOAD, &load).map_err(|e| SysError::new("bpf prog load", e))?;
    let prog = i32::try_from(prog).map_err(|_| SysError::new("bpf prog load", Errno::EBADF))?;
    // SAFETY: the kernel just returned this fd; nothing else owns it.
    let prog = unsafe { OwnedFd::from_raw_fd(prog) };
    let cgroup = open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .op_at("open", dir)?;
    let attach = ProgAttach {
        target_fd: u32::try_from(cgroup.as_raw_fd()).unwrap_or_default(),
        attach_bpf_fd: u32::try_from(prog.as_raw_fd()).unwrap_or_default(),
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
    };
    bpf(BPF_PROG_ATTACH, &attach).map_err(|e| SysError::at("bpf prog attach", dir, e))?;
    Ok(())
}
