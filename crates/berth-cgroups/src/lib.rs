//! cgroups for berth: which hierarchies the host has, where a
//! container's cgroup lives in each, and the writes that apply
//! `linux.resources`, on cgroup v1, hybrid and v2 hosts.
//!
//! [`Layout`] is read from mountinfo; [`path::resolve`] places the
//! container; [`Manager`] creates, fills, freezes, lists and removes its
//! cgroups. The resource logic ([`resources`]) is shared by both versions
//! and pure: each controller's fields become (file, value) writes for the
//! version of the hierarchy that holds it, so a hybrid host gets each
//! resource applied wherever its controller lives. Every root path can be
//! injected, so the unit tests run against temp dirs.
#![forbid(unsafe_code)]

mod error;
mod freezer;
pub mod fs;
pub mod layout;
mod manager;
pub mod path;
pub mod resources;
pub mod stats;
mod update;

pub use error::{Error, Result};
pub use layout::{Kind, Layout};
pub use manager::{DeviceFilter, Manager};
