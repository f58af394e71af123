//! Process knobs init sets on itself before exec: scheduler, I/O priority,
//! CPU affinity, personality. All are inherited across execve(2).

use berth_spec::plan::knobs::Scheduler;
use nix::errno::Errno;
use nix::sched::CpuSet;
use nix::unistd::Pid;

use crate::error::{Op, SysError, SysResult};

/// `struct sched_attr` (linux/sched/types.h), first version plus the
/// utilisation clamps (SCHED_ATTR_SIZE_VER1).
#[repr(C)]
#[derive(Debug, Default)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
    util_min: u32,
    util_max: u32,
}

/// `sched_setattr(2)` on the calling thread.
pub fn set_scheduler(s: &Scheduler) -> SysResult<()> {
    let mut attr = SchedAttr {
        size: 0,
        policy: s.policy,
        flags: s.flags,
        nice: s.nice,
        priority: s.priority,
        runtime: s.runtime,
        deadline: s.deadline,
        period: s.period,
        util_min: 0,
        // Without an explicit clamp value the kernel would read 0 as the
        // maximum utilisation: keep the clamps at their defaults.
        util_max: 1024,
    };
    attr.size = u32::try_from(std::mem::size_of::<SchedAttr>()).unwrap_or(u32::MAX);
    // SAFETY: `attr` is a valid sched_attr whose `size` says how much of it
    // the kernel may read; it outlives the call. pid 0 is the caller.
    let ret = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) };
    if ret < 0 {
        return Err(SysError::new("sched_setattr", Errno::last()));
    }
    Ok(())
}

/// `ioprio_set(IOPRIO_WHO_PROCESS, 0, value)`.
pub fn set_io_priority(value: u16) -> SysResult<()> {
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    // SAFETY: ioprio_set takes three integers and touches no memory.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            0,
            libc::c_int::from(value),
        )
    };
    if ret < 0 {
        return Err(SysError::new("ioprio_set", Errno::last()));
    }
    Ok(())
}

/// `sched_setaffinity(2)` of the caller to `cpus`.
pub fn set_affinity(cpus: &[usize]) -> SysResult<()> {
    let mut set = CpuSet::new();
    for &cpu in cpus {
        set.set(cpu).op("sched_setaffinity")?;
    }
    nix::sched::sched_setaffinity(Pid::from_raw(0), &set).op("sched_setaffinity")
}

/// `personality(2)`.
pub fn set_personality(persona: u64) -> SysResult<()> {
    let persona = libc::c_ulong::try_from(persona)
        .map_err(|_| SysError::new("personality", Errno::EINVAL))?;
    // SAFETY: personality(2) takes an integer and touches no memory.
    let ret = unsafe { libc::personality(persona) };
    if ret < 0 {
        return Err(SysError::new("personality", Errno::last()));
    }
    Ok(())
}
