//! `berth events ID`: runc's `{"type","id","data"}` JSON lines — a
//! `stats` event every `--interval` (once with `--stats`) and an `oom`
//! event whenever the kernel's OOM killer kills in the container — until
//! the container stops.

use std::time::{Duration, Instant};

use anyhow::Context;
use berth_spec::state::Status;
use clap::Args;
use serde::Serialize;

use crate::container::Container;
use crate::state::Store;

/// How often the OOM counter is read between stats events.
const OOM_POLL: Duration = Duration::from_millis(100);

// `events`.
// No doc comment: clap would make it the help line of the command, and
// with deferred subcommands (cli.rs) it would replace the command's own.
#[allow(missing_docs)]
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The container id.
    pub id: String,
    /// Time between stats events (`5s`, `100ms`).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub interval: Duration,
    /// Print one stats event and exit.
    #[arg(long)]
    pub stats: bool,
}

#[derive(Serialize)]
struct Event<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<T>,
}

fn emit<T: Serialize>(kind: &str, id: &str, data: Option<T>) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(&Event { kind, id, data })?);
    Ok(())
}

/// Streams the container's events.
pub fn run(store: &Store, args: &EventsArgs) -> anyhow::Result<()> {
    let container = Container::open(store, &args.id)?;
    if container.status() == Status::Stopped {
        anyhow::bail!("container {} is not running", args.id);
    }
    let cgroup = container
        .cgroup()?
        .with_context(|| format!("container {}: it has no cgroup", args.id))?;
    // Other commands must not wait for us: keep the record, drop the lock.
    let Container { locked, record } = container;
    let fifo = locked.fifo_path();
    drop(locked);
    if args.stats {
        return emit("stats", &args.id, Some(cgroup.stats()?));
    }
    let mut ooms = cgroup.oom_kills()?;
    let mut next_stats = Instant::now() + args.interval;
    loop {
        let now_ooms = cgroup.oom_kills().unwrap_or(ooms);
        if now_ooms > ooms {
            ooms = now_ooms;
            emit::<()>("oom", &args.id, None)?;
        }
        if crate::container::derive(&record, &fifo) == Status::Stopped {
            return Ok(());
        }
        if Instant::now() >= next_stats {
            emit("stats", &args.id, cgroup.stats().ok())?;
            next_stats += args.interval;
        }
        std::thread::sleep(OOM_POLL.min(args.interval));
    }
}
