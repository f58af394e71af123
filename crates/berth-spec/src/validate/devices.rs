//! `linux.devices` on top of runc's default device nodes.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

use super::{clean_abs, Invalid, Result};
use crate::plan::{Device, DeviceKind};

/// The nodes every container gets, in runc's order (`AllowedDevices` in
/// `specconv/spec_linux.go`): path, major, minor; all character devices.
const DEFAULTS: [(&str, u64, u64); 6] = [
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/tty", 5, 0),
    ("/dev/urandom", 1, 9),
    ("/dev/random", 1, 8),
];

/// The mode of a node whose `fileMode` is absent.
const DEFAULT_MODE: u32 = 0o666;

/// The defaults that the config does not redefine, then the config's
/// devices in config order (a config entry replaces a default with the
/// same path, as in runc `createDevices`).
pub(super) fn convert(list: &[LinuxDevice]) -> Result<Vec<Device>> {
    let mut configured: Vec<Device> = Vec::with_capacity(list.len());
    for (i, d) in list.iter().enumerate() {
        let dev = device(i, d)?;
        if configured.iter().any(|c| c.path == dev.path) {
            return Err(Invalid::new(
                format!("linux.devices[{i}].path"),
                format!("duplicate device {:?}", dev.path),
            ));
        }
        configured.push(dev);
    }
    let mut out: Vec<Device> = DEFAULTS
        .iter()
        .filter(|(path, ..)| !configured.iter().any(|c| c.path == Path::new(path)))
        .map(|&(path, major, minor)| Device {
            path: PathBuf::from(path),
            kind: DeviceKind::Char,
            major,
            minor,
            mode: DEFAULT_MODE,
            uid: 0,
            gid: 0,
        })
        .collect();
    out.append(&mut configured);
    Ok(out)
}

fn device(i: usize, d: &LinuxDevice) -> Result<Device> {
    let at = |field: &str| format!("linux.devices[{i}].{field}");
    let path = clean_abs(d.path()).map_err(|msg| Invalid::new(at("path"), msg))?;
    if !path.starts_with("/dev") || path == Path::new("/dev") {
        return Err(Invalid::new(
            at("path"),
            format!("must be under /dev, got {:?}", d.path()),
        ));
    }
    let kind = match d.typ() {
        LinuxDeviceType::C | LinuxDeviceType::U => DeviceKind::Char,
        LinuxDeviceType::B => DeviceKind::Block,
        LinuxDeviceType::P => DeviceKind::Fifo,
        // "a" (all) is a cgroup rule, not a node type.
        LinuxDeviceType::A => return Err(Invalid::new(at("type"), "unknown device type \"a\"")),
    };
    let number = |field: &str, v: i64| {
        u64::try_from(v)
            .map_err(|_| Invalid::new(at(field), format!("must not be negative, got {v}")))
    };
    Ok(Device {
        path,
        kind,
        major: number("major", d.major())?,
        minor: number("minor", d.minor())?,
        // Only the permission bits: some engines pass S_IFCHR in fileMode.
        mode: d.file_mode().unwrap_or(DEFAULT_MODE) & 0o777,
        uid: d.uid().unwrap_or(0),
        gid: d.gid().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use crate::plan::{Device, DeviceKind};
    use crate::validate::testutil::{err, invalid, minimal, plan};

    fn with_devices(devices: serde_json::Value) -> serde_json::Value {
        let mut c = minimal();
        c["linux"]["devices"] = devices;
        c
    }

    fn paths(devs: &[Device]) -> Vec<&str> {
        devs.iter().map(|d| d.path.to_str().unwrap()).collect()
    }

    #[test]
    fn defaults_in_runc_order() {
        let d = plan(&minimal()).devices;
        assert_eq!(
            paths(&d),
            [
                "/dev/null",
                "/dev/zero",
                "/dev/full",
                "/dev/tty",
                "/dev/urandom",
                "/dev/random"
            ]
        );
        assert!(d
            .iter()
            .all(|d| d.kind == DeviceKind::Char && d.mode == 0o666 && d.uid == 0 && d.gid == 0));
        assert_eq!((d[3].major, d[3].minor), (5, 0));
        assert_eq!((d[5].major, d[5].minor), (1, 8));
    }

    #[test]
    fn config_devices_follow_and_replace_defaults() {
        let d = plan(&with_devices(json!([
            {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o20660, "uid": 1, "gid": 2},
            {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o600},
            {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0},
            {"path": "/dev/fifo", "type": "p"}
        ])))
        .devices;
        assert_eq!(
            paths(&d),
            [
                "/dev/zero",
                "/dev/full",
                "/dev/tty",
                "/dev/urandom",
                "/dev/random",
                "/dev/fuse",
                "/dev/null",
                "/dev/sda",
                "/dev/fifo"
            ]
        );
        assert_eq!(
            d[5],
            Device {
                path: PathBuf::from("/dev/fuse"),
                kind: DeviceKind::Char,
                major: 10,
                minor: 229,
                mode: 0o660,
                uid: 1,
                gid: 2
            }
        );
        assert_eq!(d[6].mode, 0o600);
        assert_eq!((d[7].kind, d[7].mode), (DeviceKind::Block, 0o666));
        assert_eq!(d[8].kind, DeviceKind::Fifo);
    }

    #[test]
    fn path_must_be_absolute_and_under_dev() {
        let cases = [
            ("dev/x", "must be an absolute path, got \"dev/x\""),
            ("/etc/x", "must be under /dev, got \"/etc/x\""),
            ("/dev", "must be under /dev, got \"/dev\""),
            ("/devices/x", "must be under /dev, got \"/devices/x\""),
            (
                "/dev/../etc/x",
                "must not contain \"..\", got \"/dev/../etc/x\"",
            ),
        ];
        for (path, msg) in cases {
            let c = with_devices(json!([{"path": path, "type": "c", "major": 1, "minor": 1}]));
            assert_eq!(invalid(&c), err("linux.devices[0].path", msg), "{path}");
        }
    }

    #[test]
    fn type_a_and_negative_numbers_are_refused() {
        let c = with_devices(json!([{"path": "/dev/x", "type": "a"}]));
        assert_eq!(
            invalid(&c),
            err("linux.devices[0].type", "unknown device type \"a\"")
        );
        let c = with_devices(json!([{"path": "/dev/x", "type": "c", "major": -1}]));
        assert_eq!(
            invalid(&c),
            err("linux.devices[0].major", "must not be negative, got -1")
        );
    }

    #[test]
    fn duplicate_path_is_refused() {
        let c = with_devices(json!([
            {"path": "/dev/x", "type": "c", "major": 1, "minor": 1},
            {"path": "/dev//x", "type": "c", "major": 1, "minor": 2}
        ]));
        assert_eq!(
            invalid(&c),
            err("linux.devices[1].path", "duplicate device \"/dev/x\"")
        );
    }
}
