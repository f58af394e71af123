//! pause/resume: the v1 freezer (`freezer.state`) where mounted, else
//! cgroup v2's `cgroup.freeze`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::fs;
use crate::manager::Manager;
use crate::resources::Write;

/// How long a freeze may take before it is reported as failed.
const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where freezing happens.
enum Freezer<'a> {
    V1(&'a Path),
    V2(&'a Path),
}

impl Manager {
    fn freezer(&self) -> Result<Freezer<'_>> {
        if let Some((_, dir)) = self
            .dirs()
            .v1
            .iter()
            .find(|(c, _)| c.iter().any(|c| c == "freezer"))
        {
            return Ok(Freezer::V1(dir));
        }
        match &self.dirs().unified {
            Some(dir) => Ok(Freezer::V2(dir)),
            None => Err(Error::Unsupported {
                field: "pause".into(),
                reason: "the host has neither a freezer cgroup nor cgroup v2".into(),
            }),
        }
    }

    /// Freezes (`true`) or thaws the container and waits until the kernel
    /// says it is done.
    pub fn freeze(&self, frozen: bool) -> Result<()> {
        let (dir, file, value) = match self.freezer()? {
            Freezer::V1(d) => (d, "freezer.state", if frozen { "FROZEN" } else { "THAWED" }),
            Freezer::V2(d) => (d, "cgroup.freeze", if frozen { "1" } else { "0" }),
        };
        let w = Write {
            file: file.into(),
            value: value.into(),
            field: if frozen { "pause" } else { "resume" }.into(),
        };
        let deadline = Instant::now() + FREEZE_TIMEOUT;
        loop {
            fs::write(dir, &w)?;
            if self.is_frozen()? == frozen {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Invalid {
                    field: w.field,
                    msg: format!("{} did not reach {value}", dir.join(file).display()),
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Whether the container's cgroup is frozen.
    pub fn is_frozen(&self) -> Result<bool> {
        match self.freezer()? {
            Freezer::V1(d) => Ok(fs::read(&d.join("freezer.state"))? == "FROZEN"),
            Freezer::V2(d) => {
                let events = fs::read(&d.join("cgroup.events"))?;
                Ok(events.lines().any(|l| l.trim() == "frozen 1"))
            }
        }
    }
}
