//! `linux.namespaces` and the fields that only make sense with one:
//! `hostname`/`domainname` (uts), `linux.uidMappings`/`gidMappings` (user),
//! `linux.timeOffsets` (time).

use std::collections::BTreeMap;

use oci_spec::runtime::{Linux, LinuxIdMapping, LinuxNamespace, LinuxNamespaceType};

use super::{list, Invalid, Result};
use crate::plan::{Clock, IdMap, Namespace, NsKind, TimeOffset, User};

/// The most lines a `uid_map`/`gid_map` may have since Linux 4.15
/// (user_namespaces(7)).
const MAX_ID_MAPS: usize = 340;

/// `__NEW_UTS_LEN`: the longest hostname or domainname.
const MAX_UTS_NAME: usize = 64;

/// What `timeOffsets.*.nanosecs` must stay below.
const NANOS_PER_SEC: u32 = 1_000_000_000;

fn kind(t: LinuxNamespaceType) -> NsKind {
    match t {
        LinuxNamespaceType::Pid => NsKind::Pid,
        LinuxNamespaceType::Network => NsKind::Network,
        LinuxNamespaceType::Mount => NsKind::Mount,
        LinuxNamespaceType::Ipc => NsKind::Ipc,
        LinuxNamespaceType::Uts => NsKind::Uts,
        LinuxNamespaceType::User => NsKind::User,
        LinuxNamespaceType::Cgroup => NsKind::Cgroup,
        LinuxNamespaceType::Time => NsKind::Time,
    }
}

/// `linux.namespaces` in config order: no type twice, join paths absolute
/// (whether they exist and hold the right type is checked at create time),
/// and a mount namespace, without which berth cannot build a rootfs.
pub(super) fn convert(list: &[LinuxNamespace]) -> Result<Vec<Namespace>> {
    let mut out: Vec<Namespace> = Vec::with_capacity(list.len());
    for (i, ns) in list.iter().enumerate() {
        let kind = kind(ns.typ());
        if out.iter().any(|n| n.kind == kind) {
            return Err(Invalid::new(
                format!("linux.namespaces[{i}].type"),
                format!("duplicate namespace {:?}", kind.name()),
            ));
        }
        // runc treats an empty path as absent.
        let join = ns.path().as_ref().filter(|p| !p.as_os_str().is_empty());
        if let Some(p) = join.filter(|p| !p.is_absolute()) {
            return Err(Invalid::new(
                format!("linux.namespaces[{i}].path"),
                format!("must be an absolute path, got {p:?}"),
            ));
        }
        out.push(Namespace {
            kind,
            join: join.cloned(),
        });
    }
    Ok(out)
}

fn find(ns: &[Namespace], kind: NsKind) -> Option<&Namespace> {
    ns.iter().find(|n| n.kind == kind)
}

/// Whether the config asks for a new namespace of `kind`.
fn creates(ns: &[Namespace], kind: NsKind) -> bool {
    find(ns, kind).is_some_and(|n| n.join.is_none())
}

/// Setting the hostname or domainname outside a uts namespace would change
/// the host's (runc `validator.go` `uts`); a joined one counts. Both are
/// limited to 64 bytes by sethostname(2)/setdomainname(2).
pub(super) fn check_uts(
    hostname: Option<&str>,
    domainname: Option<&str>,
    ns: &[Namespace],
) -> Result<()> {
    for (field, value) in [("hostname", hostname), ("domainname", domainname)] {
        let Some(value) = value else { continue };
        if find(ns, NsKind::Uts).is_none() {
            return Err(Invalid::new(field, "requires a uts namespace"));
        }
        if value.len() > MAX_UTS_NAME {
            return Err(Invalid::new(
                field,
                format!(
                    "is {} bytes long; the kernel allows {MAX_UTS_NAME}",
                    value.len()
                ),
            ));
        }
    }
    Ok(())
}

/// `linux.uidMappings` and `linux.gidMappings`: required by a new user
/// namespace, refused otherwise; and the process's ids must be mapped, or
/// the kernel would refuse `setresuid` after the fork.
pub(super) fn id_maps(
    linux: Option<&Linux>,
    ns: &[Namespace],
    user: &User,
) -> Result<(Vec<IdMap>, Vec<IdMap>)> {
    let uid = linux.map_or(&[][..], |l| list(l.uid_mappings()));
    let gid = linux.map_or(&[][..], |l| list(l.gid_mappings()));
    let userns = find(ns, NsKind::User);
    for (field, maps) in [("linux.uidMappings", uid), ("linux.gidMappings", gid)] {
        match userns {
            None if !maps.is_empty() => {
                return Err(Invalid::new(field, "requires a user namespace"))
            }
            // runc lets this pass when the mappings match the joined
            // namespace's; we cannot compare without reading /proc, and
            // the mappings would be unused anyway.
            Some(Namespace { join: Some(_), .. }) if !maps.is_empty() => {
                return Err(Invalid::new(
                    field,
                    "must be empty when joining a user namespace",
                ))
            }
            Some(Namespace { join: None, .. }) if maps.is_empty() => {
                return Err(Invalid::new(field, "required for a new user namespace"))
            }
            _ => {}
        }
    }
    if !creates(ns, NsKind::User) {
        return Ok((Vec::new(), Vec::new()));
    }
    let uid = id_map("linux.uidMappings", uid)?;
    let gid = id_map("linux.gidMappings", gid)?;
    check_mapped("process.user.uid", user.uid, &uid, "linux.uidMappings")?;
    check_mapped("process.user.gid", user.gid, &gid, "linux.gidMappings")?;
    for (i, &g) in user.additional_gids.iter().enumerate() {
        check_mapped(
            &format!("process.user.additionalGids[{i}]"),
            g,
            &gid,
            "linux.gidMappings",
        )?;
    }
    Ok((uid, gid))
}

/// One map as the kernel checks it when it is written (`map_write` in
/// kernel/user_namespace.c): at most 340 lines, no empty or 32-bit
/// overflowing range, no overlap on either side.
fn id_map(field: &str, maps: &[LinuxIdMapping]) -> Result<Vec<IdMap>> {
    if maps.len() > MAX_ID_MAPS {
        return Err(Invalid::new(
            field,
            format!(
                "has {} entries; the kernel allows at most {MAX_ID_MAPS}",
                maps.len()
            ),
        ));
    }
    let mut out: Vec<IdMap> = Vec::with_capacity(maps.len());
    for (i, m) in maps.iter().enumerate() {
        let m = IdMap {
            container_id: m.container_id(),
            host_id: m.host_id(),
            size: m.size(),
        };
        if m.size == 0 {
            return Err(Invalid::new(
                format!("{field}[{i}].size"),
                "must not be zero",
            ));
        }
        // The kernel also refuses the id u32::MAX itself ((uid_t)-1).
        if end(m.container_id, m.size) > u64::from(u32::MAX)
            || end(m.host_id, m.size) > u64::from(u32::MAX)
        {
            return Err(Invalid::new(
                format!("{field}[{i}].size"),
                "range goes past 4294967294",
            ));
        }
        if let Some(j) = out.iter().position(|o| overlaps(o, &m)) {
            return Err(Invalid::new(
                format!("{field}[{i}]"),
                format!("overlaps {field}[{j}]"),
            ));
        }
        out.push(m);
    }
    Ok(out)
}

fn end(start: u32, size: u32) -> u64 {
    u64::from(start) + u64::from(size)
}

fn overlaps(a: &IdMap, b: &IdMap) -> bool {
    let meet = |x: u32, y: u32| u64::from(x) < end(y, b.size) && u64::from(y) < end(x, a.size);
    meet(a.container_id, b.container_id) || meet(a.host_id, b.host_id)
}

fn check_mapped(path: &str, id: u32, maps: &[IdMap], field: &str) -> Result<()> {
    let mapped = maps.iter().any(|m| {
        u64::from(id) >= u64::from(m.container_id) && u64::from(id) < end(m.container_id, m.size)
    });
    if mapped {
        Ok(())
    } else {
        Err(Invalid::new(path, format!("{id} is not mapped by {field}")))
    }
}

/// `linux.timeOffsets`, sorted by clock name. Offsets can only be written
/// into a time namespace before its first process runs, so they need a new
/// one (runc refuses them with a joined one too).
pub(super) fn time_offsets(linux: Option<&Linux>, ns: &[Namespace]) -> Result<Vec<TimeOffset>> {
    let Some(offsets) = linux.and_then(|l| l.time_offsets().as_ref()) else {
        return Ok(Vec::new());
    };
    if offsets.is_empty() {
        return Ok(Vec::new());
    }
    if !creates(ns, NsKind::Time) {
        return Err(Invalid::new(
            "linux.timeOffsets",
            "requires a new time namespace",
        ));
    }
    let sorted: BTreeMap<_, _> = offsets.iter().collect();
    sorted
        .into_iter()
        .map(|(name, off)| {
            let path = format!("linux.timeOffsets.{name}");
            let clock = match name.as_str() {
                "monotonic" => Clock::Monotonic,
                "boottime" => Clock::Boottime,
                _ => {
                    return Err(Invalid::new(
                        path,
                        format!("unknown clock {name:?} (monotonic or boottime)"),
                    ))
                }
            };
            let nanosecs = off.nanosecs().unwrap_or(0);
            if nanosecs >= NANOS_PER_SEC {
                return Err(Invalid::new(
                    format!("{path}.nanosecs"),
                    format!("must be below {NANOS_PER_SEC}"),
                ));
            }
            Ok(TimeOffset {
                clock,
                secs: off.secs().unwrap_or(0),
                nanosecs,
            })
        })
        .collect()
}

/// Whether the config gives the container a namespace of `kind`, new or
/// joined.
pub(super) fn has(ns: &[Namespace], kind: NsKind) -> bool {
    find(ns, kind).is_some()
}

#[cfg(test)]
mod tests;
