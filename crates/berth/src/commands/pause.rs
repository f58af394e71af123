//! `berth pause ID` and `berth resume ID`: freeze or thaw every process
//! of the container's cgroup (v1 freezer, or v2 `cgroup.freeze`).

use crate::container::Container;
use crate::state::Store;

/// Freezes (`true`) or thaws container `id`.
pub fn run(store: &Store, id: &str, frozen: bool) -> anyhow::Result<()> {
    Container::open(store, id)?.set_frozen(frozen)
}
