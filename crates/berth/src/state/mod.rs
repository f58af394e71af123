//! The state store: where containers live between commands.

pub mod id;
pub mod record;
pub mod status;
pub mod store;

pub use record::{ExecConfig, Phase, Record};
pub use store::{Locked, Store, StoreError};
