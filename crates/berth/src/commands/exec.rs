//! `berth exec ID CMD…` / `berth exec --process FILE ID`.

use crate::cli::ExecArgs;
use crate::exec;
use crate::state::Store;

/// Runs a new process in the container; the exit code is the process's
/// (128+N for signal N), or 0 with `--detach`.
pub fn run(store: &Store, args: &ExecArgs) -> anyhow::Result<i32> {
    exec::exec(store, args)
}
