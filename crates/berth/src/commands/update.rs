//! `berth update ID`: change a live container's resources, from runc's
//! flags or from `-r FILE|-` (the `LinuxResources` JSON containerd sends).
//! Fields not given are left as they are.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context};
use berth_spec::resources::Resources;
use clap::Args;

use crate::container::{transition, Container};
use crate::state::Store;

// `update`'s flags: runc 1.1's, values in bytes (k/m/g suffixes taken)
// or microseconds.
// No doc comment: clap would make it the help line of the command, and
// with deferred subcommands (cli.rs) it would replace the command's own.
#[allow(missing_docs)]
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The container id.
    pub id: String,
    /// A resources JSON file, or `-` for stdin.
    #[arg(short, long)]
    pub resources: Option<PathBuf>,
    /// Memory limit.
    #[arg(long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory plus swap limit; -1 for unlimited swap.
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit.
    #[arg(long, allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,
    /// Obsolete in runc 1.1: accepted, must be unset or 0.
    #[arg(long, hide = true)]
    pub kernel_memory: Option<String>,
    /// Obsolete in runc 1.1: accepted, must be unset or 0.
    #[arg(long, hide = true)]
    pub kernel_memory_tcp: Option<String>,
    /// CPU shares (runc spells it `--cpu-share`).
    #[arg(long, alias = "cpu-shares")]
    pub cpu_share: Option<u64>,
    /// CFS quota in µs per period.
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CFS period in µs.
    #[arg(long)]
    pub cpu_period: Option<u64>,
    /// CFS burst in µs.
    #[arg(long)]
    pub cpu_burst: Option<u64>,
    /// Realtime period in µs.
    #[arg(long)]
    pub cpu_rt_period: Option<u64>,
    /// Realtime runtime in µs.
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_rt_runtime: Option<i64>,
    /// CPUs to use.
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes to use.
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// SCHED_IDLE for the cgroup (0 or 1).
    #[arg(long)]
    pub cpu_idle: Option<i64>,
    /// Maximum number of pids.
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Block IO weight (10-1000).
    #[arg(long)]
    pub blkio_weight: Option<u16>,
    /// Intel RDT L3 cache schema: refused (berth has no intelRdt support).
    #[arg(long)]
    pub l3_cache_schema: Option<String>,
    /// Intel RDT memory bandwidth schema: refused.
    #[arg(long)]
    pub mem_bw_schema: Option<String>,
}

/// Applies the requested resources to the container's cgroups.
pub fn run(store: &Store, args: &UpdateArgs) -> anyhow::Result<()> {
    if args.l3_cache_schema.is_some() || args.mem_bw_schema.is_some() {
        bail!("--l3-cache-schema/--mem-bw-schema: Intel RDT is not supported by berth");
    }
    let mut r = match &args.resources {
        Some(path) => read_resources(path)?,
        None => Resources::default(),
    };
    apply_flags(args, &mut r)?;
    let container = Container::open(store, &args.id)?;
    transition::check("update", &args.id, container.status())?;
    if r.devices != container.record.device_rules && !r.devices.is_empty() {
        bail!("linux.resources.devices: device rules are set at create and cannot be updated");
    }
    let cgroup = container
        .cgroup()?
        .with_context(|| format!("container {}: it has no cgroup", args.id))?;
    cgroup
        .update(&r)
        .with_context(|| format!("container {}", args.id))
}

fn read_resources(path: &std::path::Path) -> anyhow::Result<Resources> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("read resources from stdin")?;
    } else {
        text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    }
    Ok(berth_spec::resources::from_json(&text)?)
}

fn apply_flags(a: &UpdateArgs, r: &mut Resources) -> anyhow::Result<()> {
    for (flag, v) in [
        ("--kernel-memory", &a.kernel_memory),
        ("--kernel-memory-tcp", &a.kernel_memory_tcp),
    ] {
        if v.as_deref().is_some_and(|v| bytes(flag, v).ok() != Some(0)) {
            bail!("{flag}: kernel memory limits are not supported");
        }
    }
    let set = |flag: &str, v: &Option<String>, to: &mut Option<i64>| -> anyhow::Result<()> {
        if let Some(v) = v {
            *to = Some(bytes(flag, v)?);
        }
        Ok(())
    };
    set("--memory", &a.memory, &mut r.memory.limit)?;
    set("--memory-swap", &a.memory_swap, &mut r.memory.swap)?;
    set(
        "--memory-reservation",
        &a.memory_reservation,
        &mut r.memory.reservation,
    )?;
    let c = &mut r.cpu;
    c.shares = a.cpu_share.or(c.shares);
    c.quota = a.cpu_quota.map(|q| q.max(-1)).or(c.quota);
    c.period = a.cpu_period.or(c.period);
    c.burst = a.cpu_burst.or(c.burst);
    c.realtime_period = a.cpu_rt_period.or(c.realtime_period);
    c.realtime_runtime = a.cpu_rt_runtime.or(c.realtime_runtime);
    c.cpus = a.cpuset_cpus.clone().or(c.cpus.take());
    c.mems = a.cpuset_mems.clone().or(c.mems.take());
    c.idle = a.cpu_idle.or(c.idle);
    r.pids_limit = a.pids_limit.or(r.pids_limit);
    r.block_io.weight = a.blkio_weight.or(r.block_io.weight);
    Ok(())
}

/// `1024`, `64m`, `1g`, `512k`, `-1` (runc's `units.RAMInBytes`).
fn bytes(flag: &str, v: &str) -> anyhow::Result<i64> {
    let lower = v.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix('b').unwrap_or(&lower);
    let (num, mult) = match lower.chars().last() {
        Some('k') => (&lower[..lower.len() - 1], 1i64 << 10),
        Some('m') => (&lower[..lower.len() - 1], 1 << 20),
        Some('g') => (&lower[..lower.len() - 1], 1 << 30),
        Some('t') => (&lower[..lower.len() - 1], 1 << 40),
        _ => (lower, 1),
    };
    let n: i64 = num
        .parse()
        .with_context(|| format!("{flag}: invalid size {v:?}"))?;
    if n < -1 {
        bail!("{flag}: {v}: must be -1 or >= 0");
    }
    Ok(if n == -1 { -1 } else { n.saturating_mul(mult) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_runc_reads_them() {
        assert_eq!(bytes("--memory", "1024").unwrap(), 1024);
        assert_eq!(bytes("--memory", "64m").unwrap(), 64 << 20);
        assert_eq!(bytes("--memory", "1G").unwrap(), 1 << 30);
        assert_eq!(bytes("--memory", "-1").unwrap(), -1);
        let e = bytes("--memory", "lots").unwrap_err().to_string();
        assert_eq!(e, "--memory: invalid size \"lots\"");
        assert!(bytes("--memory", "-2").is_err());
    }
}
