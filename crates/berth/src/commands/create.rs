//! `berth create ID`.

use crate::cli::CreateArgs;
use crate::create::{self, Options};
use crate::state::Store;

/// Builds the container and returns, leaving init waiting for `start`.
pub fn run(store: &Store, args: &CreateArgs) -> anyhow::Result<()> {
    create::create(store, &Options::from_flags(&args.id, &args.flags), None)?;
    Ok(())
}
