//! Which operation each status allows: one table, one error shape
//! (runc `state_linux.go`).

use anyhow::bail;
use berth_spec::state::Status;

/// (operation, statuses it is allowed in).
const TABLE: [(&str, &[Status]); 6] = [
    ("start", &[Status::Created]),
    ("pause", &[Status::Created, Status::Running]),
    ("resume", &[Status::Paused]),
    (
        "update",
        &[Status::Created, Status::Running, Status::Paused],
    ),
    ("kill", &[Status::Created, Status::Running, Status::Paused]),
    ("delete", &[Status::Stopped]),
];

/// Fails unless `op` is allowed on a container in `status`.
pub fn check(op: &str, id: &str, status: Status) -> anyhow::Result<()> {
    let allowed = TABLE
        .iter()
        .find(|(name, _)| *name == op)
        .is_some_and(|(_, ok)| ok.contains(&status));
    if !allowed {
        bail!("cannot {op} container {id}: it is {status}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_and_resume_follow_the_table() {
        assert!(check("pause", "c", Status::Running).is_ok());
        let e = check("pause", "c", Status::Paused).unwrap_err().to_string();
        assert_eq!(e, "cannot pause container c: it is paused");
        assert!(check("pause", "c", Status::Stopped).is_err());
        assert!(check("resume", "c", Status::Running).is_err());
        assert!(check("resume", "c", Status::Paused).is_ok());
        assert!(check("nonsense", "c", Status::Running).is_err());
    }
}
