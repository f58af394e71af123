//! The container's cgroups at create: placed, made and filled before init
//! is cloned; init is born in them (or joins them before it runs a single
//! step of its own).

use std::os::fd::OwnedFd;
use std::path::Path;

use anyhow::Context;
use berth_cgroups::path;
use berth_cgroups::resources::{default_rules, Insn};
use berth_cgroups::{DeviceFilter, Manager};
use berth_linux::mount::CgroupLayout;
use berth_spec::plan::{DeviceKind, Plan};
use berth_spec::resources::DeviceRule;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use crate::cgroup_visit::Visit;
use crate::host_cgroups::HostCgroups;

/// Attaches eBPF device filters through `berth-linux`.
pub struct Bpf;

impl DeviceFilter for Bpf {
    fn attach(&self, dir: &Path, prog: &[Insn]) -> std::io::Result<()> {
        berth_linux::bpf::attach_device_filter(dir, prog)
            .map_err(|e| std::io::Error::from_raw_os_error(e.errno as i32))
    }
}

/// Where the container's cgroups go (nothing is made yet).
pub fn place(plan: &Plan, id: &str, host: &HostCgroups) -> anyhow::Result<Manager> {
    let layout = host.layout();
    let dirs = path::resolve(&layout, &host.own(), plan.cgroups_path.as_deref(), id)?;
    Ok(Manager::new(layout, dirs))
}

/// Makes the cgroups and applies `linux.resources` and the device rules:
/// the config's rules, runc's default allow-list, then every node the
/// config asks berth to create (runc's order).
pub fn build(m: &Manager, plan: &Plan) -> anyhow::Result<()> {
    let configured = plan.resources.devices.len();
    let mut rules = plan.resources.devices.clone();
    rules.extend(default_rules());
    rules.extend(plan.devices.iter().filter_map(|d| {
        let kind = match d.kind {
            DeviceKind::Block => 'b',
            DeviceKind::Char => 'c',
            DeviceKind::Fifo => return None,
        };
        Some(DeviceRule {
            allow: true,
            kind,
            major: u32::try_from(d.major).ok(),
            minor: u32::try_from(d.minor).ok(),
            access: "rwm".into(),
        })
    }));
    m.create(&plan.resources, &rules, configured, &Bpf)?;
    Ok(())
}

/// The container's directory in the v2 hierarchy (pure v2 or hybrid),
/// opened for `CLONE_INTO_CGROUP`; `None` without one.
pub fn unified_dir(m: &Manager) -> anyhow::Result<Option<OwnedFd>> {
    let Some(dir) = &m.dirs().unified else {
        return Ok(None);
    };
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let fd = open(dir, flags, Mode::empty()).with_context(|| format!("open {}", dir.display()))?;
    Ok(Some(fd))
}

/// Runs `clone` from inside the container's v1 cgroups
/// ([`crate::cgroup_visit`]); `None` where it cannot or must not.
pub fn visit<T>(
    m: &Manager,
    host: &HostCgroups,
    clone: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<Option<Visit<T>>> {
    // A thread visiting a frozen cgroup (an existing one, joined) would
    // freeze with it; init is then moved by pid.
    if !matches!(
        m.is_frozen(),
        Ok(false) | Err(berth_cgroups::Error::Unsupported { .. })
    ) {
        return Ok(None);
    }
    let dirs: Vec<&Path> = m.dirs().v1.iter().map(|(_, d)| d.as_path()).collect();
    crate::cgroup_visit::clone_inside(host, &dirs, clone)
}

/// Moves `pid` into the container's cgroups the clone did not place it
/// in: the v1 ones unless `in_v1`, the v2 one unless `in_unified`.
pub fn join(m: &Manager, pid: i32, in_v1: bool, in_unified: bool) -> anyhow::Result<()> {
    if !in_v1 {
        m.add_pid_v1(pid).context("join the container's cgroup")?;
    }
    if !in_unified {
        m.add_pid_unified(pid)
            .context("join the container's cgroup")?;
    }
    Ok(())
}

/// A `cgroup` mount inside the container shows the container's own
/// cgroups, not berth's: point each v1 hierarchy's source at them.
pub fn point_mounts_at(layout: &mut CgroupLayout, m: &Manager) {
    let CgroupLayout::V1(hierarchies) = layout else {
        return;
    };
    for h in hierarchies.iter_mut() {
        let own = m.dirs().v1.iter().find(|(_, dir)| {
            dir.ancestors().any(|a| {
                a.file_name().is_some_and(|n| n == h.name.as_str()) && h.source.starts_with(a)
            })
        });
        if let Some((_, dir)) = own {
            h.source = dir.clone();
        }
    }
}
