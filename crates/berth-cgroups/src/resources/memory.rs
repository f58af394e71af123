//! memory: v1 `memory.*_in_bytes`, v2 `memory.max`/`low`/`swap.max`.

use berth_spec::resources::Memory;

use super::{Version, Write};
use crate::error::{Error, Result};

/// The writes for `m`.
pub(super) fn writes(m: &Memory, v: Version) -> Result<Vec<Write>> {
    match v {
        Version::V1 => Ok(v1(m)),
        Version::V2 => v2(m),
    }
}

fn v1(m: &Memory) -> Vec<Write> {
    let mut out = Vec::new();
    if m.swap.is_some() {
        // memsw must stay >= the limit at every step: lift it first.
        out.push(Write::new("memory.memsw.limit_in_bytes", -1, "memory.swap"));
    }
    if let Some(l) = m.limit {
        out.push(Write::new("memory.limit_in_bytes", l, "memory.limit"));
    }
    if let Some(s) = m.swap.filter(|&s| s != -1) {
        out.push(Write::new("memory.memsw.limit_in_bytes", s, "memory.swap"));
    }
    if let Some(r) = m.reservation {
        out.push(Write::new(
            "memory.soft_limit_in_bytes",
            r,
            "memory.reservation",
        ));
    }
    if let Some(s) = m.swappiness {
        out.push(Write::new("memory.swappiness", s, "memory.swappiness"));
    }
    if m.disable_oom_killer {
        out.push(Write::new(
            "memory.oom_control",
            1,
            "memory.disableOOMKiller",
        ));
    }
    out
}

fn max(v: i64) -> String {
    if v == -1 {
        "max".into()
    } else {
        v.to_string()
    }
}

fn v2(m: &Memory) -> Result<Vec<Write>> {
    let refuse = |field: &str, reason: &str| Error::Unsupported {
        field: format!("linux.resources.memory.{field}"),
        reason: reason.to_string(),
    };
    if m.swappiness.is_some() {
        return Err(refuse(
            "swappiness",
            "cgroup v2 has no per-cgroup swappiness",
        ));
    }
    if m.disable_oom_killer {
        return Err(refuse(
            "disableOOMKiller",
            "cgroup v2 cannot disable the OOM killer",
        ));
    }
    let mut out = Vec::new();
    if let Some(s) = m.swap {
        out.push(Write::new(
            "memory.swap.max",
            swap_v2(s, m.limit)?,
            "memory.swap",
        ));
    }
    if let Some(l) = m.limit {
        out.push(Write::new("memory.max", max(l), "memory.limit"));
    }
    if let Some(r) = m.reservation {
        out.push(Write::new("memory.low", max(r), "memory.reservation"));
    }
    Ok(out)
}

/// runc's `ConvertMemorySwapToCgroupV2Value`: the spec's swap is memory
/// plus swap, v2's `memory.swap.max` is swap alone.
fn swap_v2(swap: i64, limit: Option<i64>) -> Result<String> {
    let field = "linux.resources.memory.swap".to_string();
    match (swap, limit) {
        (-1, _) => Ok("max".into()),
        (s, Some(l)) if l > 0 && s >= l => Ok((s - l).to_string()),
        (0, Some(0)) => Ok("0".into()),
        (s, Some(l)) if l > 0 => Err(Error::Invalid {
            field,
            msg: format!("{s} is below memory.limit {l} (swap is memory plus swap)"),
        }),
        _ => Err(Error::Invalid {
            field,
            msg: "a swap limit needs a memory limit on cgroup v2".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(w: &[Write]) -> Vec<(&str, &str)> {
        w.iter()
            .map(|w| (w.file.as_str(), w.value.as_str()))
            .collect()
    }

    #[test]
    fn v1_lifts_memsw_around_the_limit() {
        let m = Memory {
            limit: Some(1 << 20),
            swap: Some(2 << 20),
            reservation: Some(1024),
            swappiness: Some(10),
            disable_oom_killer: true,
            ..Memory::default()
        };
        assert_eq!(
            pairs(&writes(&m, Version::V1).unwrap()),
            [
                ("memory.memsw.limit_in_bytes", "-1"),
                ("memory.limit_in_bytes", "1048576"),
                ("memory.memsw.limit_in_bytes", "2097152"),
                ("memory.soft_limit_in_bytes", "1024"),
                ("memory.swappiness", "10"),
                ("memory.oom_control", "1"),
            ]
        );
    }

    #[test]
    fn v2_converts_swap_and_unlimited() {
        let m = Memory {
            limit: Some(100),
            swap: Some(300),
            reservation: Some(-1),
            ..Memory::default()
        };
        assert_eq!(
            pairs(&writes(&m, Version::V2).unwrap()),
            [
                ("memory.swap.max", "200"),
                ("memory.max", "100"),
                ("memory.low", "max")
            ]
        );
        let bad = Memory {
            limit: Some(100),
            swap: Some(50),
            ..Memory::default()
        };
        let e = writes(&bad, Version::V2).unwrap_err().to_string();
        assert!(
            e.starts_with("linux.resources.memory.swap: 50 is below"),
            "{e}"
        );
    }

    #[test]
    fn v2_refuses_what_it_cannot_do() {
        let m = Memory {
            swappiness: Some(1),
            ..Memory::default()
        };
        let e = writes(&m, Version::V2).unwrap_err().to_string();
        assert!(e.starts_with("linux.resources.memory.swappiness: "), "{e}");
    }
}
