//! Parsers for what containers print: mountinfo, /proc/self/status,
//! /proc/self/limits, and capability names.

use std::collections::BTreeMap;

/// One line of /proc/<pid>/mountinfo (proc(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// Root of the mount within its filesystem (field 4).
    pub root: String,
    /// Mount point relative to the reader's root (field 5), unescaped.
    pub mount_point: String,
    /// Per-mount options (field 6): `rw`, `ro`, `nosuid`, `relatime`, ...
    pub options: Vec<String>,
    /// Optional fields: `shared:N`, `master:N`, `unbindable`, ...
    pub optional: Vec<String>,
    /// Filesystem type.
    pub fstype: String,
    /// Mount source.
    pub source: String,
    /// Per-superblock options: `mode=755`, `size=1024k`, ...
    pub super_options: Vec<String>,
}

impl MountInfo {
    /// Whether the per-mount options contain `opt`.
    pub fn has_option(&self, opt: &str) -> bool {
        self.options.iter().any(|o| o == opt)
    }

    /// Whether the superblock options contain `opt`.
    pub fn has_super_option(&self, opt: &str) -> bool {
        self.super_options.iter().any(|o| o == opt)
    }
}

/// Undoes mountinfo's octal escapes (`\040` for space, ...).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses mountinfo text; lines that do not parse are skipped.
pub fn mountinfo(text: &str) -> Vec<MountInfo> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 6 || r.len() < 3 {
            continue;
        }
        let split = |s: &str| s.split(',').map(String::from).collect::<Vec<_>>();
        out.push(MountInfo {
            root: unescape(l[3]),
            mount_point: unescape(l[4]),
            options: split(l[5]),
            optional: l[6..].iter().map(|s| s.to_string()).collect(),
            fstype: r[0].to_string(),
            source: unescape(r[1]),
            super_options: split(r[2]),
        });
    }
    out
}

/// The topmost mount at `mount_point` (the last one listed), if any.
pub fn find_mount<'a>(mounts: &'a [MountInfo], mount_point: &str) -> Option<&'a MountInfo> {
    mounts.iter().rev().find(|m| m.mount_point == mount_point)
}

/// Like [`find_mount`] but panics, listing the mounts, when there is none.
#[track_caller]
pub fn expect_mount<'a>(mounts: &'a [MountInfo], mount_point: &str) -> &'a MountInfo {
    find_mount(mounts, mount_point).unwrap_or_else(|| {
        let all: Vec<_> = mounts.iter().map(|m| m.mount_point.as_str()).collect();
        panic!("no mount at {mount_point}; mounts: {all:?}")
    })
}

/// The value of `Key:` in /proc/<pid>/status text, trimmed.
pub fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == key).then(|| v.trim())
    })
}

/// Like [`status_field`] but panics when the key is missing.
#[track_caller]
pub fn expect_status_field<'a>(status: &'a str, key: &str) -> &'a str {
    status_field(status, key).unwrap_or_else(|| panic!("no {key}: in\n{status}"))
}

/// A capability mask field (`CapEff`, ...) of status text as a number.
#[track_caller]
pub fn cap_field(status: &str, key: &str) -> u64 {
    let v = expect_status_field(status, key);
    u64::from_str_radix(v, 16).unwrap_or_else(|e| panic!("{key}: {v:?}: {e}"))
}

/// A shell line that prints `pid pgrp session` of the shell running it
/// (`read` is a builtin, so /proc/self is the shell).
pub const SESSION_OF_SELF: &str =
    "read -r pid comm state ppid pgrp sid rest </proc/self/stat; echo $pid $pgrp $sid";

/// Whether status text's `SigIgn` mask has signal number `signal`.
#[track_caller]
pub fn signal_ignored(status: &str, signal: u32) -> bool {
    let v = expect_status_field(status, "SigIgn");
    let mask = u64::from_str_radix(v, 16).unwrap_or_else(|e| panic!("SigIgn: {v:?}: {e}"));
    mask & (1 << (signal - 1)) != 0
}

/// Capability names in bit order (capability.h, up to CAP_CHECKPOINT_RESTORE).
/// Kept here on purpose rather than taken from berth's crates: the tests
/// check the runtime against an oracle of their own.
pub const CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The bit mask of capability names; panics on an unknown name.
#[track_caller]
pub fn cap_mask(names: &[&str]) -> u64 {
    names.iter().fold(0, |m, n| {
        let bit = CAPABILITIES
            .iter()
            .position(|c| c == n)
            .unwrap_or_else(|| panic!("unknown capability {n}"));
        m | (1u64 << bit)
    })
}

/// /proc/<pid>/limits as `"Max open files" -> ("512", "1024")`.
pub fn limits(text: &str) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for line in text.lines().skip(1) {
        // Columns: name (padded to 26), soft (21), hard (21), units.
        let (name, rest) = line.split_at(line.len().min(26));
        let mut cols = rest.split_whitespace();
        if let (Some(soft), Some(hard)) = (cols.next(), cols.next()) {
            out.insert(
                name.trim().to_string(),
                (soft.to_string(), hard.to_string()),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mountinfo_line() {
        let m = mountinfo(
            "68 67 0:42 / /dev/pts rw,nosuid,noexec,relatime shared:3 - devpts devpts rw,gid=5,mode=620\n\
             70 65 0:39 /a\\040b /mnt/x\\040y ro - tmpfs none ro\n",
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].mount_point, "/dev/pts");
        assert!(m[0].has_option("noexec") && !m[0].has_option("nodev"));
        assert_eq!(m[0].optional, vec!["shared:3"]);
        assert!(m[0].has_super_option("gid=5"));
        assert_eq!(m[1].mount_point, "/mnt/x y");
        assert_eq!(m[1].root, "/a b");
    }

    #[test]
    fn capability_masks() {
        assert_eq!(
            cap_mask(&["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]),
            0x2000_0420
        );
        assert_eq!(cap_field("CapEff:\t00000000000004a1\n", "CapEff"), 0x4a1);
    }

    #[test]
    fn parses_limits() {
        let l = limits(
            "Limit                     Soft Limit           Hard Limit           Units     \n\
             Max open files            512                  1024                 files     \n",
        );
        assert_eq!(l["Max open files"], ("512".into(), "1024".into()));
    }
}
