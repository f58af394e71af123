//! The `berth` runtime: command line, state store, and both sides of
//! `create` (the parent in `create`, the container's init in `init`).
//!
//! This crate decides the order of things; the kernel calls themselves
//! live in `berth-linux`, the config in `berth-spec`.
#![forbid(unsafe_code)]

pub mod cgroup_visit;
pub mod cli;
pub mod commands;
pub mod console;
pub mod container;
pub mod create;
pub mod exec;
pub mod harden;
pub mod hooks;
pub mod host_cgroups;
pub mod init;
pub mod logging;
pub mod passwd;
pub mod process;
pub mod state;
pub mod sync;
pub mod version;
