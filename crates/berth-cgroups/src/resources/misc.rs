//! The small controllers: pids, hugetlb, net_cls, net_prio, rdma.

use std::collections::BTreeMap;

use berth_spec::resources::HugepageLimit;

use super::{Version, Write};

/// `pids.max`: runc leaves 0 alone and writes `max` for a negative limit.
pub(super) fn pids(limit: Option<i64>) -> Vec<Write> {
    match limit {
        None | Some(0) => Vec::new(),
        Some(n) if n < 0 => vec![Write::new("pids.max", "max", "pids.limit")],
        Some(n) => vec![Write::new("pids.max", n, "pids.limit")],
    }
}

/// `hugetlb.<size>.limit_in_bytes` (v1) or `hugetlb.<size>.max` (v2; the
/// manager adds `.rsvd.max` where the kernel has it).
pub(super) fn hugetlb(limits: &[HugepageLimit], v: Version) -> Vec<Write> {
    limits
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let file = match v {
                Version::V1 => format!("hugetlb.{}.limit_in_bytes", h.page_size),
                Version::V2 => format!("hugetlb.{}.max", h.page_size),
            };
            Write::new(file, h.limit, &format!("hugepageLimits[{i}]"))
        })
        .collect()
}

/// `net_cls.classid`.
pub(super) fn net_cls(class_id: Option<u32>) -> Vec<Write> {
    class_id
        .map(|c| Write::new("net_cls.classid", c, "network.classID"))
        .into_iter()
        .collect()
}

/// `net_prio.ifpriomap`, one write per interface.
pub(super) fn net_prio(prios: &[(String, u32)]) -> Vec<Write> {
    prios
        .iter()
        .enumerate()
        .map(|(i, (name, prio))| {
            let field = format!("network.priorities[{i}]");
            Write::new("net_prio.ifpriomap", format!("{name} {prio}"), &field)
        })
        .collect()
}

/// `rdma.max`, one line per device.
pub(super) fn rdma(rdma: &BTreeMap<String, (Option<u32>, Option<u32>)>) -> Vec<Write> {
    rdma.iter()
        .filter(|(_, (h, o))| h.is_some() || o.is_some())
        .map(|(dev, (handles, objects))| {
            let mut line = dev.clone();
            if let Some(h) = handles {
                line.push_str(&format!(" hca_handle={h}"));
            }
            if let Some(o) = objects {
                line.push_str(&format!(" hca_object={o}"));
            }
            Write::new("rdma.max", line, &format!("rdma.{dev}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_limits() {
        assert!(pids(None).is_empty() && pids(Some(0)).is_empty());
        assert_eq!(pids(Some(-1))[0].value, "max");
        let w = &pids(Some(7))[0];
        assert_eq!((w.file.as_str(), w.value.as_str()), ("pids.max", "7"));
        assert_eq!(w.field, "linux.resources.pids.limit");
    }

    #[test]
    fn hugetlb_files_per_version() {
        let l = [HugepageLimit {
            page_size: "2MB".into(),
            limit: 4194304,
        }];
        assert_eq!(
            hugetlb(&l, Version::V1)[0].file,
            "hugetlb.2MB.limit_in_bytes"
        );
        let w = &hugetlb(&l, Version::V2)[0];
        assert_eq!(
            (w.file.as_str(), w.value.as_str()),
            ("hugetlb.2MB.max", "4194304")
        );
        assert_eq!(w.field, "linux.resources.hugepageLimits[0]");
    }

    #[test]
    fn network_and_rdma() {
        assert_eq!(net_cls(Some(0x100001))[0].value, "1048577");
        assert_eq!(net_prio(&[("eth0".into(), 5)])[0].value, "eth0 5");
        let mut r = BTreeMap::new();
        r.insert("mlx5_1".to_string(), (Some(3), None));
        assert_eq!(rdma(&r)[0].value, "mlx5_1 hca_handle=3");
    }
}
