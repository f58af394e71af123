//! blkio (v1) and io (v2): weights and throttles.

use berth_spec::resources::{BlockIo, Throttle};

use super::{Version, Write};
use crate::error::Result;

/// The writes for `b`.
pub(super) fn writes(b: &BlockIo, v: Version) -> Result<Vec<Write>> {
    Ok(match v {
        Version::V1 => v1(b),
        Version::V2 => v2(b),
    })
}

fn v1(b: &BlockIo) -> Vec<Write> {
    let mut out = Vec::new();
    if let Some(w) = b.weight {
        out.push(Write::new("blkio.weight", w, "blockIO.weight"));
    }
    if let Some(w) = b.leaf_weight {
        out.push(Write::new("blkio.leaf_weight", w, "blockIO.leafWeight"));
    }
    for (i, (maj, min, w, lw)) in b.weight_device.iter().enumerate() {
        let field = format!("blockIO.weightDevice[{i}]");
        if let Some(w) = w {
            out.push(Write::new(
                "blkio.weight_device",
                format!("{maj}:{min} {w}"),
                &field,
            ));
        }
        if let Some(lw) = lw {
            let value = format!("{maj}:{min} {lw}");
            out.push(Write::new("blkio.leaf_weight_device", value, &field));
        }
    }
    let lists = [
        ("read_bps_device", "throttleReadBpsDevice", &b.read_bps),
        ("write_bps_device", "throttleWriteBpsDevice", &b.write_bps),
        ("read_iops_device", "throttleReadIOPSDevice", &b.read_iops),
        (
            "write_iops_device",
            "throttleWriteIOPSDevice",
            &b.write_iops,
        ),
    ];
    for (file, name, list) in lists {
        for (i, t) in list.iter().enumerate() {
            let value = format!("{}:{} {}", t.major, t.minor, t.rate);
            let field = format!("blockIO.{name}[{i}]");
            out.push(Write::new(format!("blkio.throttle.{file}"), value, &field));
        }
    }
    out
}

/// runc's `ConvertBlkIOToIOWeightValue`: [10, 1000] onto [1, 10000].
pub fn blkio_to_io_weight(w: u16) -> u64 {
    1 + (u64::from(w).saturating_sub(10)) * 9999 / 990
}

fn v2(b: &BlockIo) -> Vec<Write> {
    let mut out = Vec::new();
    if let Some(w) = b.weight {
        let value = format!("default {}", blkio_to_io_weight(w));
        out.push(Write::new("io.weight", value, "blockIO.weight"));
    }
    for (i, (maj, min, w, _)) in b.weight_device.iter().enumerate() {
        if let Some(w) = w {
            let value = format!("{maj}:{min} {}", blkio_to_io_weight(*w));
            out.push(Write::new(
                "io.weight",
                value,
                &format!("blockIO.weightDevice[{i}]"),
            ));
        }
    }
    let lists: [(&str, &str, &Vec<Throttle>); 4] = [
        ("rbps", "throttleReadBpsDevice", &b.read_bps),
        ("wbps", "throttleWriteBpsDevice", &b.write_bps),
        ("riops", "throttleReadIOPSDevice", &b.read_iops),
        ("wiops", "throttleWriteIOPSDevice", &b.write_iops),
    ];
    for (key, name, list) in lists {
        for (i, t) in list.iter().enumerate() {
            let value = format!("{}:{} {key}={}", t.major, t.minor, t.rate);
            out.push(Write::new("io.max", value, &format!("blockIO.{name}[{i}]")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_and_weights() {
        let b = BlockIo {
            weight: Some(500),
            read_bps: vec![Throttle {
                major: 7,
                minor: 0,
                rate: 1000,
            }],
            ..BlockIo::default()
        };
        let v1 = v1(&b);
        assert_eq!(v1[0].file, "blkio.weight");
        assert_eq!(v1[1].file, "blkio.throttle.read_bps_device");
        assert_eq!(v1[1].value, "7:0 1000");
        assert_eq!(
            v1[1].field,
            "linux.resources.blockIO.throttleReadBpsDevice[0]"
        );
        let v2 = v2(&b);
        assert_eq!(v2[0].value, "default 4950");
        assert_eq!(v2[1].value, "7:0 rbps=1000");
        assert_eq!(blkio_to_io_weight(10), 1);
        assert_eq!(blkio_to_io_weight(1000), 10000);
    }
}
