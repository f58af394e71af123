//! `mounts[].options` → `MS_*` flags, propagation and data, and
//! `linux.rootfsPropagation`, with runc's tables
//! (`libcontainer/specconv/spec_linux.go` `mountFlags`,
//! `mountPropagationMapping`).

use libc::{
    MOUNT_ATTR_NOATIME, MOUNT_ATTR_NODEV, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOEXEC,
    MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSYMFOLLOW, MOUNT_ATTR_RDONLY, MOUNT_ATTR_RELATIME,
    MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME,
};
use libc::{
    MS_DIRSYNC, MS_I_VERSION, MS_LAZYTIME, MS_MANDLOCK, MS_NOATIME, MS_NODEV, MS_NODIRATIME,
    MS_NOEXEC, MS_NOSUID, MS_NOSYMFOLLOW, MS_PRIVATE, MS_RDONLY, MS_REC, MS_RELATIME, MS_REMOUNT,
    MS_SHARED, MS_SILENT, MS_SLAVE, MS_STRICTATIME, MS_SYNCHRONOUS, MS_UNBINDABLE,
};
use oci_spec::runtime::Linux;

use crate::plan::RecursiveAttrs;

use super::{Invalid, Result};

/// Options that set (`false`) or clear (`true`) a flag; `bind` and `rbind`
/// are handled apart.
const FLAGS: [(&str, bool, u64); 31] = [
    ("async", true, MS_SYNCHRONOUS),
    ("atime", true, MS_NOATIME),
    ("dev", true, MS_NODEV),
    ("diratime", true, MS_NODIRATIME),
    ("dirsync", false, MS_DIRSYNC),
    ("exec", true, MS_NOEXEC),
    ("iversion", false, MS_I_VERSION),
    ("lazytime", false, MS_LAZYTIME),
    ("loud", true, MS_SILENT),
    ("mand", false, MS_MANDLOCK),
    ("noatime", false, MS_NOATIME),
    ("nodev", false, MS_NODEV),
    ("nodiratime", false, MS_NODIRATIME),
    ("noexec", false, MS_NOEXEC),
    ("noiversion", true, MS_I_VERSION),
    ("nolazytime", true, MS_LAZYTIME),
    ("nomand", true, MS_MANDLOCK),
    ("norelatime", true, MS_RELATIME),
    ("nostrictatime", true, MS_STRICTATIME),
    ("nosuid", false, MS_NOSUID),
    ("nosymfollow", false, MS_NOSYMFOLLOW),
    ("relatime", false, MS_RELATIME),
    ("remount", false, MS_REMOUNT),
    ("ro", false, MS_RDONLY),
    ("rw", true, MS_RDONLY),
    ("silent", false, MS_SILENT),
    ("strictatime", false, MS_STRICTATIME),
    ("suid", true, MS_NOSUID),
    ("sync", false, MS_SYNCHRONOUS),
    ("symfollow", true, MS_NOSYMFOLLOW),
    // runc lists it with no flag and so passes it on as data; mount(8)
    // treats it as "nothing special", which is what we do.
    ("defaults", false, 0),
];

/// Propagation options; also the values of `linux.rootfsPropagation`.
const PROPAGATION: [(&str, u64); 8] = [
    ("private", MS_PRIVATE),
    ("rprivate", MS_PRIVATE | MS_REC),
    ("slave", MS_SLAVE),
    ("rslave", MS_SLAVE | MS_REC),
    ("shared", MS_SHARED),
    ("rshared", MS_SHARED | MS_REC),
    ("unbindable", MS_UNBINDABLE),
    ("runbindable", MS_UNBINDABLE | MS_REC),
];

/// The recursive attributes, as runc's `recAttrFlags`
/// (`libcontainer/specconv/spec_linux.go`): (option, clear, `MOUNT_ATTR_*`).
/// `MOUNT_ATTR_RELATIME` is 0: `rrelatime` sets the relatime mode by
/// clearing the atime field. The atime mode is one field, not bits, so
/// "clear one atime mode" (`ratime`, `rnorelatime`, `rnostrictatime`) has
/// no mount_setattr(2) form (the kernel refuses a partial `MOUNT_ATTR__ATIME`
/// clear with EINVAL, as runc 1.1.5 gets): those are refused.
const RECURSIVE: [(&str, bool, u64); 15] = [
    ("rro", false, MOUNT_ATTR_RDONLY),
    ("rrw", true, MOUNT_ATTR_RDONLY),
    ("rnosuid", false, MOUNT_ATTR_NOSUID),
    ("rsuid", true, MOUNT_ATTR_NOSUID),
    ("rnodev", false, MOUNT_ATTR_NODEV),
    ("rdev", true, MOUNT_ATTR_NODEV),
    ("rnoexec", false, MOUNT_ATTR_NOEXEC),
    ("rexec", true, MOUNT_ATTR_NOEXEC),
    ("rnodiratime", false, MOUNT_ATTR_NODIRATIME),
    ("rdiratime", true, MOUNT_ATTR_NODIRATIME),
    ("rrelatime", false, MOUNT_ATTR_RELATIME),
    ("rnoatime", false, MOUNT_ATTR_NOATIME),
    ("rstrictatime", false, MOUNT_ATTR_STRICTATIME),
    ("rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW),
    ("rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW),
];

/// Idmapped mounts (passing them on as data would drop them silently on a
/// bind mount: the kernel ignores bind data) and the atime clears above:
/// refused.
const UNSUPPORTED: [&str; 5] = ["idmap", "ridmap", "ratime", "rnorelatime", "rnostrictatime"];

/// Every option [`parse`] turns into flags or a bind: the flag and
/// propagation tables plus `bind` and `rbind` (for `berth features`).
pub(crate) fn names() -> Vec<&'static str> {
    FLAGS
        .iter()
        .map(|(name, _, _)| *name)
        .chain(PROPAGATION.iter().map(|(name, _)| *name))
        .chain(RECURSIVE.iter().map(|(name, _, _)| *name))
        .chain(["bind", "rbind"])
        .collect()
}

/// What one mount's options ask for.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Options {
    /// `MS_*` flags, without bind and propagation.
    pub flags: u64,
    /// `Some(recursive)` when `bind` or `rbind` was given.
    pub bind: Option<bool>,
    /// Propagation flags in option order.
    pub propagation: Vec<u64>,
    /// Everything else, in order (`mode=755`, `size=65536k`…).
    pub data: Vec<String>,
    /// The `r`-prefixed attributes.
    pub recursive: RecursiveAttrs,
}

/// Parses `mounts[index].options` left to right: a later option overrides
/// an earlier one (`ro` then `rw` is read-write), as in runc. The default
/// flags are 0.
pub(super) fn parse(index: usize, options: &[String]) -> Result<Options> {
    let mut out = Options::default();
    for (i, opt) in options.iter().enumerate() {
        let o = opt.as_str();
        if UNSUPPORTED.contains(&o) {
            return Err(Invalid::new(
                format!("mounts[{index}].options[{i}]"),
                format!("{o:?} is not supported yet"),
            ));
        }
        match o {
            // runc's extension (copy the directory's contents into a new
            // tmpfs); not a mount option the kernel knows. Warned about in
            // `warnings.rs`.
            "tmpcopyup" => {}
            "bind" => out.bind = Some(out.bind.unwrap_or(false)),
            "rbind" => out.bind = Some(true),
            _ => {
                if let Some(&(_, clear, attr)) = RECURSIVE.iter().find(|(n, _, _)| *n == o) {
                    recursive(&mut out.recursive, clear, attr);
                } else if let Some(&(_, clear, flag)) = FLAGS.iter().find(|(n, _, _)| *n == o) {
                    if clear {
                        out.flags &= !flag;
                    } else {
                        out.flags |= flag;
                    }
                } else if let Some(&(_, flag)) = PROPAGATION.iter().find(|(n, _)| *n == o) {
                    out.propagation.push(flag);
                } else {
                    out.data.push(opt.clone());
                }
            }
        }
    }
    Ok(out)
}

/// Adds one recursive option to `r`, as runc does: a set bit is also
/// dropped from the clear mask and the other way round (the last option
/// wins), and setting an atime mode clears the whole atime field first
/// (mount_setattr(2) wants `MOUNT_ATTR__ATIME` cleared to change it).
fn recursive(r: &mut RecursiveAttrs, clear: bool, attr: u64) {
    if clear {
        r.clear |= attr;
        r.set &= !attr;
    } else {
        r.set |= attr;
        r.clear &= !attr;
        if attr & MOUNT_ATTR__ATIME == attr {
            r.clear |= MOUNT_ATTR__ATIME;
        }
    }
}

/// `linux.rootfsPropagation` as flags; absent or "" is runc's default,
/// `MS_SLAVE | MS_REC`, so that mounts made by the container never reach
/// the host.
pub(super) fn rootfs_propagation(linux: Option<&Linux>) -> Result<u64> {
    let name = linux
        .and_then(|l| l.rootfs_propagation().as_deref())
        .unwrap_or("");
    if name.is_empty() {
        return Ok(MS_SLAVE | MS_REC);
    }
    PROPAGATION
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, flag)| flag)
        .ok_or_else(|| {
            Invalid::new(
                "linux.rootfsPropagation",
                format!("unknown propagation {name:?}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> Result<Options> {
        parse(
            3,
            &list.iter().map(|s| (*s).to_string()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn flags_set_and_clear_in_order() {
        let o = opts(&[
            "nosuid",
            "nodev",
            "ro",
            "rw",
            "noexec",
            "exec",
            "strictatime",
        ])
        .unwrap();
        assert_eq!(o.flags, MS_NOSUID | MS_NODEV | MS_STRICTATIME);
        let o = opts(&["rw", "ro", "relatime", "sync", "dirsync", "remount", "mand"]).unwrap();
        assert_eq!(
            o.flags,
            MS_RDONLY | MS_RELATIME | MS_SYNCHRONOUS | MS_DIRSYNC | MS_REMOUNT | MS_MANDLOCK
        );
        let o = opts(&[
            "noatime",
            "atime",
            "nodiratime",
            "diratime",
            "sync",
            "async",
            "mand",
            "nomand",
        ])
        .unwrap();
        assert_eq!(o.flags, 0);
        assert_eq!(
            opts(&["relatime", "norelatime", "suid", "dev"])
                .unwrap()
                .flags,
            0
        );
    }

    #[test]
    fn default_is_no_flags() {
        assert_eq!(opts(&[]).unwrap(), Options::default());
        assert_eq!(opts(&["defaults"]).unwrap(), Options::default());
    }

    #[test]
    fn bind_and_rbind() {
        assert_eq!(opts(&["bind"]).unwrap().bind, Some(false));
        assert_eq!(opts(&["rbind"]).unwrap().bind, Some(true));
        assert_eq!(opts(&["rbind", "bind"]).unwrap().bind, Some(true));
        assert_eq!(opts(&["ro"]).unwrap().bind, None);
        assert_eq!(opts(&["rbind", "ro"]).unwrap().flags, MS_RDONLY);
    }

    #[test]
    fn propagation_in_order() {
        let o = opts(&[
            "rprivate",
            "shared",
            "rslave",
            "unbindable",
            "runbindable",
            "private",
            "slave",
            "rshared",
        ])
        .unwrap();
        assert_eq!(
            o.propagation,
            [
                MS_PRIVATE | MS_REC,
                MS_SHARED,
                MS_SLAVE | MS_REC,
                MS_UNBINDABLE,
                MS_UNBINDABLE | MS_REC,
                MS_PRIVATE,
                MS_SLAVE,
                MS_SHARED | MS_REC
            ]
        );
        assert_eq!(o.flags, 0);
    }

    #[test]
    fn unknown_options_are_data() {
        let o = opts(&["mode=755", "nosuid", "tmpcopyup", "size=65536k"]).unwrap();
        // tmpcopyup is runc's extension, not data for the filesystem.
        assert_eq!(o.data, ["mode=755", "size=65536k"]);
        assert_eq!(o.flags, MS_NOSUID);
    }

    #[test]
    fn recursive_attributes_are_runcs() {
        let r = |list: &[&str]| opts(list).unwrap().recursive;
        let ro = r(&["rbind", "rro", "rnosuid"]);
        assert_eq!(ro.set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
        assert_eq!(ro.clear, 0);
        // The last option wins.
        let rw = r(&["rro", "rrw"]);
        assert_eq!((rw.set, rw.clear), (0, MOUNT_ATTR_RDONLY));
        // An atime mode clears the atime field first.
        let atime = r(&["rnoatime"]);
        assert_eq!(
            (atime.set, atime.clear),
            (MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME)
        );
        // Not flags of the mount itself.
        assert_eq!(opts(&["rro"]).unwrap().flags, 0);
        // An atime mode cannot be cleared bit by bit.
        assert!(opts(&["ratime"]).is_err() && opts(&["rnostrictatime"]).is_err());
        assert_eq!(
            opts(&["rbind", "idmap"]),
            Err(Invalid::new(
                "mounts[3].options[1]",
                "\"idmap\" is not supported yet"
            ))
        );
    }

    #[test]
    fn rootfs_propagation_values() {
        let linux = |v: &str| -> Linux {
            serde_json::from_value(serde_json::json!({"rootfsPropagation": v})).unwrap()
        };
        assert_eq!(rootfs_propagation(None), Ok(MS_SLAVE | MS_REC));
        assert_eq!(rootfs_propagation(Some(&linux(""))), Ok(MS_SLAVE | MS_REC));
        assert_eq!(rootfs_propagation(Some(&linux("private"))), Ok(MS_PRIVATE));
        assert_eq!(
            rootfs_propagation(Some(&linux("rshared"))),
            Ok(MS_SHARED | MS_REC)
        );
        assert_eq!(
            rootfs_propagation(Some(&linux("runbindable"))),
            Ok(MS_UNBINDABLE | MS_REC)
        );
        assert_eq!(
            rootfs_propagation(Some(&linux("bogus"))),
            Err(Invalid::new(
                "linux.rootfsPropagation",
                "unknown propagation \"bogus\""
            ))
        );
    }
}
