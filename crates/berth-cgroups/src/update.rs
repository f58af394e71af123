//! `update`: the same writes as create, after `checkBeforeUpdate`.

use crate::error::{Error, Result};
use crate::fs;
use crate::manager::Manager;
use berth_spec::resources::Resources;

impl Manager {
    /// Applies `r` to the live cgroup. With `memory.checkBeforeUpdate`, a
    /// new limit below the current usage is refused (the kernel would
    /// start reclaiming or OOM-killing at once).
    pub fn update(&self, r: &Resources) -> Result<()> {
        if let (true, Some(limit)) = (r.memory.check_before_update, r.memory.limit) {
            let (dir, _) = self.locate("memory")?;
            let usage = ["memory.usage_in_bytes", "memory.current"]
                .iter()
                .map(|f| dir.join(f))
                .find(|p| p.exists())
                .map(|p| fs::read(&p))
                .transpose()?
                .and_then(|u| u.parse::<i64>().ok());
            if let Some(usage) = usage.filter(|&u| limit >= 0 && u > limit) {
                return Err(Error::Invalid {
                    field: "linux.resources.memory.limit".into(),
                    msg: format!("{limit} is below the current usage {usage} (checkBeforeUpdate)"),
                });
            }
        }
        self.apply(r)
    }
}
