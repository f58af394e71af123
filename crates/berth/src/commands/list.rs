//! `berth list`.

use crate::cli::ListArgs;
use crate::commands::state::oci_state;
use crate::state::store::fifo_in;
use crate::state::Store;

/// Prints the containers as a table (runc's columns), JSON, or ids only.
pub fn run(store: &Store, args: &ListArgs) -> anyhow::Result<()> {
    let states: Vec<_> = store
        .list()?
        .iter()
        .map(|(record, dir)| oci_state(record, &fifo_in(dir)))
        .collect();
    if args.quiet {
        states.iter().for_each(|s| println!("{}", s.id));
        return Ok(());
    }
    if args.format == "json" {
        println!("{}", serde_json::to_string(&states)?);
        return Ok(());
    }
    let mut rows = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from)];
    for s in &states {
        let bundle = s.bundle.display().to_string();
        rows.push([
            s.id.clone(),
            s.pid.to_string(),
            s.status.to_string(),
            bundle,
            s.created.clone(),
            s.owner.clone(),
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

/// Columns padded like runc's tabwriter (minimum width 12, padding 3).
fn table(rows: &[[String; 6]]) -> String {
    let widths: Vec<usize> = (0..6)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len() + 3)
                .max()
                .unwrap_or(0)
                .max(12)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: String = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns() {
        let rows = [
            ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from),
            ["c1", "42", "running", "/b", "T", "root"].map(String::from),
        ];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "ID          PID         STATUS      BUNDLE      CREATED     OWNER"
        );
        assert_eq!(
            lines[1],
            "c1          42          running     /b          T           root"
        );
    }
}
