//! Reading an OCI bundle's `config.json` into a validated [`Plan`].
//!
//! This crate is pure: it touches the filesystem only to read the config and
//! to check that the paths it names exist. Every error names the file and the
//! JSON path of the offending value, e.g.
//! `config.json: linux.namespaces[3].type: unknown namespace "pidd"`.
#![forbid(unsafe_code)]

pub mod plan;
pub mod state;

pub use plan::Plan;
