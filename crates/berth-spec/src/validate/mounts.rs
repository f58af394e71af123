//! `mounts`: destinations, options, and what is mounted.

use std::fs;
use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::Mount as OciMount;

use super::{check_nul, clean_abs, io_msg, list, mount_options, Invalid, Result};
use crate::plan::{Mount, MountKind};

/// Each entry of `mounts`, in config order (the order they are mounted).
/// `rootfs` is `root.path`, absolute.
pub(super) fn convert(mounts: &[OciMount], bundle: &Path, rootfs: &Path) -> Result<Vec<Mount>> {
    let mut out: Vec<Mount> = Vec::with_capacity(mounts.len());
    for (i, m) in mounts.iter().enumerate() {
        let converted = mount(
            i,
            m,
            bundle,
            &Earlier {
                rootfs,
                mounts: &out,
            },
        )?;
        out.push(converted);
    }
    Ok(out)
}

/// The mounts before the one being converted: a bind source inside the
/// rootfs under one of them may not exist until that mount is made.
struct Earlier<'a> {
    rootfs: &'a Path,
    mounts: &'a [Mount],
}

impl Earlier<'_> {
    /// Whether `source` lies inside the rootfs at or under the destination
    /// of an earlier mount (then init checks it when its turn comes).
    fn may_create(&self, source: &Path) -> bool {
        if source.components().any(|c| c == Component::ParentDir) {
            return false;
        }
        let Ok(inner) = source.strip_prefix(self.rootfs) else {
            return false;
        };
        let inner = Path::new("/").join(inner);
        self.mounts
            .iter()
            .any(|m| inner.starts_with(&m.destination))
    }
}

/// Whether `m` bind-mounts the host's (or a prepared) `/dev`, in which case
/// berth leaves `/dev` alone (runc `needsSetupDev`).
pub(super) fn binds_dev(m: &Mount) -> bool {
    matches!(m.kind, MountKind::Bind { .. }) && m.destination == Path::new("/dev")
}

fn mount(i: usize, m: &OciMount, bundle: &Path, earlier: &Earlier<'_>) -> Result<Mount> {
    let at = |field: &str| format!("mounts[{i}].{field}");
    // runtime-spec: "This value MUST be an absolute path" (runc 1.1 only
    // warns and mounts relative to /).
    let destination =
        clean_abs(m.destination()).map_err(|msg| Invalid::new(at("destination"), msg))?;
    for (field, maps) in [
        ("uidMappings", m.uid_mappings()),
        ("gidMappings", m.gid_mappings()),
    ] {
        if maps.is_some() {
            return Err(Invalid::new(
                at(field),
                "idmapped mounts are not supported yet",
            ));
        }
    }
    let opts = mount_options::parse(i, list(m.options()))?;
    let data = opts.data.join(",");
    check_nul(&data).map_err(|msg| Invalid::new(at("options"), msg))?;
    let typ = m.typ().as_deref().unwrap_or("");
    let bind = opts.bind.is_some() || typ == "bind";
    // The kernel ignores data on a bind mount, as runc 1.1 does (runtime-tools'
    // `mounts` test gives binds `mode=755,size=1k`); `warnings.rs` says so.
    let data = if bind { String::new() } else { data };
    let kind = if bind {
        MountKind::Bind {
            source: bind_source(i, m.source().as_deref(), bundle, earlier)?,
            recursive: opts.bind.unwrap_or(false),
        }
    } else {
        filesystem(i, typ, m.source().as_deref())?
    };
    Ok(Mount {
        destination,
        kind,
        flags: opts.flags,
        propagation: opts.propagation,
        data,
        recursive_attrs: opts.recursive,
    })
}

/// A bind source: resolved against the bundle when relative (runc resolves
/// it against its cwd, the bundle), and it must exist now, unless an
/// earlier mount may create it (runc only looks when it mounts it).
fn bind_source(
    i: usize,
    source: Option<&Path>,
    bundle: &Path,
    earlier: &Earlier<'_>,
) -> Result<PathBuf> {
    let path = format!("mounts[{i}].source");
    let source = source
        .filter(|s| !s.as_os_str().is_empty())
        .ok_or_else(|| Invalid::new(&path, "required for a bind mount"))?;
    check_nul(&source.to_string_lossy()).map_err(|msg| Invalid::new(&path, msg))?;
    let abs = bundle.join(source);
    match fs::metadata(&abs) {
        Err(_) if earlier.may_create(&abs) => Ok(abs),
        Err(e) => Err(Invalid::new(
            &path,
            format!("{}: {}", abs.display(), io_msg(&e)),
        )),
        Ok(_) => Ok(abs),
    }
}

/// A new filesystem instance: `type` is required, `source` defaults to it.
fn filesystem(i: usize, typ: &str, source: Option<&Path>) -> Result<MountKind> {
    if typ.is_empty() {
        return Err(Invalid::new(format!("mounts[{i}].type"), "required"));
    }
    check_nul(typ).map_err(|msg| Invalid::new(format!("mounts[{i}].type"), msg))?;
    let source = source
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| typ.to_string());
    check_nul(&source).map_err(|msg| Invalid::new(format!("mounts[{i}].source"), msg))?;
    Ok(MountKind::Filesystem {
        fstype: typ.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests;
