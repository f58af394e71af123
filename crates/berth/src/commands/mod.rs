//! One file per command: glue between the CLI and the lifecycle modules.

pub mod create;
pub mod delete;
pub mod events;
pub mod exec;
pub mod features;
pub mod kill;
pub mod list;
pub mod pause;
pub mod ps;
pub mod run;
pub mod spec;
pub mod start;
pub mod state;
pub mod update;

use crate::cli::CreateFlags;
use crate::create::Options;

impl Options {
    /// The create options of `create`/`run` for container `id`.
    pub fn from_flags(id: &str, flags: &CreateFlags) -> Self {
        Options {
            id: id.to_string(),
            bundle: flags.bundle.clone(),
            console_socket: flags.console_socket.clone(),
            pid_file: flags.pid_file.clone(),
            pidfd_socket: flags.pidfd_socket.clone(),
            no_pivot: flags.no_pivot,
            no_new_keyring: flags.no_new_keyring,
            preserve_fds: flags.preserve_fds,
        }
    }
}
