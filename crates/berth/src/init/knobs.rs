//! The process knobs init sets on itself: the initial CPU affinity first
//! thing, then — while it still has every capability (an RT scheduler or
//! I/O class needs CAP_SYS_NICE/CAP_SYS_ADMIN) and before seccomp can
//! refuse the calls — personality, scheduler, I/O priority and the final
//! CPU affinity. All survive execve(2).

use anyhow::Context;
use berth_linux::sched;

use super::InitContext;

/// `process.execCPUAffinity.initial`, as soon as init runs.
pub fn initial(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    if let Some(cpus) = &ctx.plan.knobs.cpu_affinity_initial {
        sched::set_affinity(cpus).context("process.execCPUAffinity.initial")?;
    }
    Ok(())
}

/// Everything else, before the capabilities are dropped.
pub fn apply(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    let knobs = &ctx.plan.knobs;
    if let Some(persona) = knobs.personality {
        sched::set_personality(persona).context("linux.personality")?;
    }
    if let Some(s) = &knobs.scheduler {
        sched::set_scheduler(s).context("process.scheduler")?;
    }
    if let Some(prio) = knobs.io_priority {
        sched::set_io_priority(prio).context("process.ioPriority")?;
    }
    if let Some(cpus) = &knobs.cpu_affinity_final {
        sched::set_affinity(cpus).context("process.execCPUAffinity.final")?;
    }
    Ok(())
}
