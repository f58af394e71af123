//! Pure translations from the plan's `MS_*` flags and mount data to the
//! new mount API: `fsconfig(2)` parameters, `fsmount(2)` attributes and
//! `mount_setattr(2)` changes. No kernel call here.

/// One `fsconfig(2)` call for one option of a `mounts[]` entry's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param<'a> {
    /// `FSCONFIG_SET_FLAG key` (an option without `=`, e.g. `newinstance`).
    Flag(&'a str),
    /// `FSCONFIG_SET_STRING key value` (`mode=755`; `key=` gives "").
    Str(&'a str, &'a str),
}

impl Param<'_> {
    /// The option as it was written, for messages.
    pub fn text(&self) -> String {
        match self {
            Param::Flag(key) => (*key).to_string(),
            Param::Str(key, value) => format!("{key}={value}"),
        }
    }
}

/// Splits mount data (`mode=755,size=65536k,newinstance`) into one
/// parameter per option, as the kernel's own `generic_parse_monolithic`
/// does for mount(2): empty items and items starting with `=` are skipped,
/// the first `=` separates key and value.
pub fn params(data: &str) -> Vec<Param<'_>> {
    data.split(',')
        .filter(|o| !o.is_empty() && !o.starts_with('='))
        .map(|o| match o.split_once('=') {
            Some((key, value)) => Param::Str(key, value),
            None => Param::Flag(o),
        })
        .collect()
}

/// Whether the data already sets `key` (e.g. `mode`).
pub fn has_param(data: &str, key: &str) -> bool {
    params(data).iter().any(|p| match p {
        Param::Flag(k) | Param::Str(k, _) => *k == key,
    })
}

/// The superblock flags among `flags`, as the `fsconfig` flags the VFS
/// parses itself for every filesystem (`sync`, `dirsync`, `lazytime`,
/// `mand`). `MS_RDONLY` is not among them: a new mount is made read-only
/// as a mount attribute. `MS_SILENT` and `MS_I_VERSION` have no parameter
/// (the first only quiets kernel messages; the second is the filesystem's
/// own choice on current kernels) and are dropped.
pub fn sb_flags(flags: u64) -> Vec<&'static str> {
    let table = [
        (libc::MS_SYNCHRONOUS, "sync"),
        (libc::MS_DIRSYNC, "dirsync"),
        (libc::MS_LAZYTIME, "lazytime"),
        (libc::MS_MANDLOCK, "mand"),
    ];
    table
        .iter()
        .filter(|(ms, _)| flags & ms != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// Per-mount flags and the `MOUNT_ATTR_*` bit for each.
const PER_MOUNT: [(u64, u64); 6] = [
    (libc::MS_RDONLY, libc::MOUNT_ATTR_RDONLY),
    (libc::MS_NOSUID, libc::MOUNT_ATTR_NOSUID),
    (libc::MS_NODEV, libc::MOUNT_ATTR_NODEV),
    (libc::MS_NOEXEC, libc::MOUNT_ATTR_NOEXEC),
    (libc::MS_NODIRATIME, libc::MOUNT_ATTR_NODIRATIME),
    (libc::MS_NOSYMFOLLOW, libc::MOUNT_ATTR_NOSYMFOLLOW),
];

const ATIME_FLAGS: u64 =
    libc::MS_NOATIME | libc::MS_NODIRATIME | libc::MS_RELATIME | libc::MS_STRICTATIME;

/// The atime mode of `flags` as mount(2) reads it: strictatime wins over
/// noatime, and relatime is the default.
fn atime(flags: u64) -> u64 {
    if flags & libc::MS_STRICTATIME != 0 {
        libc::MOUNT_ATTR_STRICTATIME
    } else if flags & libc::MS_NOATIME != 0 {
        libc::MOUNT_ATTR_NOATIME
    } else {
        libc::MOUNT_ATTR_RELATIME
    }
}

/// The `fsmount(2)` attributes of a new filesystem mounted with `flags`:
/// what mount(2) would give the new mount.
pub fn fresh_attrs(flags: u64) -> u64 {
    PER_MOUNT
        .iter()
        .filter(|(ms, _)| flags & ms != 0)
        .fold(atime(flags), |acc, (_, attr)| acc | attr)
}

/// A `mount_setattr(2)` change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attr {
    /// `MOUNT_ATTR_*` bits to set.
    pub set: u64,
    /// `MOUNT_ATTR_*` bits to clear (`MOUNT_ATTR__ATIME` to change atime).
    pub clr: u64,
    /// `MS_SHARED`, `MS_SLAVE`, `MS_PRIVATE`, `MS_UNBINDABLE` or 0.
    pub propagation: u64,
}

/// What a bind remount (`MS_BIND|MS_REMOUNT|flags`) does to a mount, as a
/// `mount_setattr` change: the per-mount flags listed are set and the
/// others cleared; atime is changed only when an atime flag is listed
/// (mount(2) keeps the mount's atime mode otherwise).
pub fn remount_attr(flags: u64) -> Attr {
    let mut attr = Attr::default();
    for (ms, bit) in PER_MOUNT {
        if flags & ms != 0 {
            attr.set |= bit;
        } else {
            attr.clr |= bit;
        }
    }
    if flags & ATIME_FLAGS != 0 {
        attr.clr |= libc::MOUNT_ATTR__ATIME;
        attr.set |= atime(flags);
    }
    attr
}

/// Only `MOUNT_ATTR_RDONLY` set, nothing cleared.
pub fn readonly_attr() -> Attr {
    Attr {
        set: libc::MOUNT_ATTR_RDONLY,
        ..Attr::default()
    }
}

/// A plan propagation flag (`MS_SHARED|MS_REC`, ...) as a `mount_setattr`
/// change and whether it applies to the whole tree (`AT_RECURSIVE`).
pub fn propagation_attr(flag: u64) -> (Attr, bool) {
    let attr = Attr {
        propagation: flag & !libc::MS_REC,
        ..Attr::default()
    };
    (attr, flag & libc::MS_REC != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_split_into_one_param_per_option() {
        assert_eq!(
            params("mode=755,size=65536k,newinstance,ptmxmode=0666"),
            vec![
                Param::Str("mode", "755"),
                Param::Str("size", "65536k"),
                Param::Flag("newinstance"),
                Param::Str("ptmxmode", "0666"),
            ]
        );
        assert_eq!(params(""), vec![]);
        assert_eq!(
            params(",,=x,a=,b=c=d"),
            vec![Param::Str("a", ""), Param::Str("b", "c=d")]
        );
        assert_eq!(Param::Str("b", "c=d").text(), "b=c=d");
        assert_eq!(Param::Flag("newinstance").text(), "newinstance");
        assert!(has_param("size=1m,mode=700", "mode"));
        assert!(!has_param("size=1m,ptmxmode=0666", "mode"));
    }

    #[test]
    fn superblock_flags_become_vfs_flags() {
        let flags = libc::MS_SYNCHRONOUS | libc::MS_LAZYTIME | libc::MS_RDONLY | libc::MS_SILENT;
        assert_eq!(sb_flags(flags), vec!["sync", "lazytime"]);
        assert!(sb_flags(libc::MS_NOSUID).is_empty());
    }

    #[test]
    fn fresh_mount_attributes() {
        let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        let want = libc::MOUNT_ATTR_RDONLY
            | libc::MOUNT_ATTR_NOSUID
            | libc::MOUNT_ATTR_NODEV
            | libc::MOUNT_ATTR_NOEXEC;
        assert_eq!(fresh_attrs(flags), want);
        assert_eq!(fresh_attrs(libc::MS_NOATIME), libc::MOUNT_ATTR_NOATIME);
        let strict = libc::MS_NOATIME | libc::MS_STRICTATIME;
        assert_eq!(fresh_attrs(strict), libc::MOUNT_ATTR_STRICTATIME);
        assert_eq!(fresh_attrs(0), libc::MOUNT_ATTR_RELATIME);
    }

    #[test]
    fn bind_remount_sets_listed_and_clears_the_rest() {
        let attr = remount_attr(libc::MS_RDONLY | libc::MS_NOSUID);
        assert_eq!(attr.set, libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID);
        assert_eq!(attr.clr & libc::MOUNT_ATTR_NODEV, libc::MOUNT_ATTR_NODEV);
        assert_eq!(attr.clr & libc::MOUNT_ATTR_RDONLY, 0);
        // No atime flag: atime is left as it is.
        assert_eq!(attr.clr & libc::MOUNT_ATTR__ATIME, 0);
        let noatime = remount_attr(libc::MS_NOATIME);
        assert_eq!(
            noatime.clr & libc::MOUNT_ATTR__ATIME,
            libc::MOUNT_ATTR__ATIME
        );
        assert_eq!(noatime.set, libc::MOUNT_ATTR_NOATIME);
    }

    #[test]
    fn propagation_flags_split_off_the_recursion() {
        let (attr, rec) = propagation_attr(libc::MS_SLAVE | libc::MS_REC);
        assert_eq!((attr.propagation, rec), (libc::MS_SLAVE, true));
        let (attr, rec) = propagation_attr(libc::MS_PRIVATE);
        assert_eq!(
            (attr.propagation, attr.set, rec),
            (libc::MS_PRIVATE, 0, false)
        );
    }
}
