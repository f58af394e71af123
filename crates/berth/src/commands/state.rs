//! `berth state ID`.

use berth_spec::state::{State, Status};

use crate::state::store::fifo_in;
use crate::state::{Record, Store};

/// The OCI state of a record whose exec fifo is at `fifo` (shared with `list`).
pub fn oci_state(record: &Record, fifo: &std::path::Path) -> State {
    let status = crate::container::derive(record, fifo);
    State {
        oci_version: record.oci_version.clone(),
        id: record.id.clone(),
        status,
        pid: if status == Status::Stopped {
            0
        } else {
            record.pid
        },
        bundle: record.bundle.clone(),
        rootfs: record.rootfs.clone(),
        created: record.created.clone(),
        annotations: record.annotations.clone(),
        owner: record.owner.clone(),
    }
}

/// Prints the state as indented JSON, as runc does.
pub fn run(store: &Store, id: &str) -> anyhow::Result<()> {
    let (record, dir) = store.load(id)?;
    let state = oci_state(&record, &fifo_in(&dir));
    println!("{}", serde_json::to_string_pretty(&state)?);
    Ok(())
}
