//! `berth ps ID [PS ARGS…]`: the container's processes, as ps(1) shows
//! them (its header, then the lines whose PID is in the container's
//! cgroup), or their pids as a JSON array.

use std::process::Command;

use anyhow::{bail, Context};
use clap::Args;

use crate::container::Container;
use crate::state::Store;

// `ps`.
// No doc comment: clap would make it the help line of the command, and
// with deferred subcommands (cli.rs) it would replace the command's own.
#[allow(missing_docs)]
#[derive(Debug, Args)]
pub struct PsArgs {
    /// The container id.
    pub id: String,
    /// `table` (ps(1) output) or `json` (pids).
    #[arg(short, long, default_value = "table")]
    pub format: String,
    /// Arguments for ps(1) (default `-ef`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

/// Lists the container's processes.
pub fn run(store: &Store, args: &PsArgs) -> anyhow::Result<()> {
    let container = Container::open(store, &args.id)?;
    let pids = match container.cgroup()? {
        Some(cgroup) => cgroup.pids()?,
        None => Vec::new(),
    };
    match args.format.as_str() {
        "json" => {
            println!("{}", serde_json::to_string(&pids)?);
            return Ok(());
        }
        "table" => {}
        other => bail!("--format: {other:?}: want table or json"),
    }
    let ps_args: Vec<String> = if args.ps_args.is_empty() {
        vec!["-ef".into()]
    } else {
        args.ps_args.clone()
    };
    let out = Command::new("ps")
        .args(&ps_args)
        .output()
        .context("run ps(1)")?;
    if !out.status.success() {
        bail!(
            "ps {}: {}",
            ps_args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    print!("{}", filter(&String::from_utf8_lossy(&out.stdout), &pids)?);
    Ok(())
}

/// The header and the lines whose PID column is in `pids`.
fn filter(ps: &str, pids: &[i32]) -> anyhow::Result<String> {
    let mut lines = ps.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|c| c == "PID")
        .context("ps output has no PID column")?;
    let mut out = format!("{header}\n");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(col)
            .and_then(|p| p.parse().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_header_and_the_containers_lines() {
        let ps = "UID PID PPID CMD\nroot 1 0 init\nroot 42 1 sleep\nroot 43 1 sh\n";
        assert_eq!(
            filter(ps, &[42]).unwrap(),
            "UID PID PPID CMD\nroot 42 1 sleep\n"
        );
        assert!(filter("USER CMD\n", &[1]).is_err());
    }
}
