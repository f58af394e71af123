//! Reading an OCI bundle's `config.json` into a validated [`Plan`].
//!
//! This crate is pure: it touches the filesystem only to read the config and
//! to check that the paths it names exist. Every error names the file and the
//! JSON path of the offending value, e.g.
//! `config.json: linux.namespaces[3].type: unknown namespace "pidd"`.
//!
//! The entry points are [`load`] (the plan only) and [`load_with_warnings`]
//! (the plan and a [`Warning`] for each field berth accepts but ignores, for
//! the binary to log). [`load_str`] does the same from a string, for tests.
//! oci-spec is used to parse and never appears in this API: the rest of
//! berth sees only [`Plan`].
#![forbid(unsafe_code)]

mod error;
pub mod features;
mod load;
pub mod plan;
pub mod resources;
pub mod state;
mod validate;

pub use error::Error;
pub use load::{load, load_process, load_process_bytes, load_str, load_with_warnings, Loaded};
pub use plan::Plan;
pub use validate::{sysctl_namespace, Warning};
