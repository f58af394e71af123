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

use crate::cli::{Cli, Command, CreateFlags};
use crate::create::Options;
use crate::state::Store;

/// Runs `command`; its exit status (the container's, for `run` and
/// `exec`).
pub fn dispatch(cli: &Cli, command: &Command, store: &Store) -> anyhow::Result<i32> {
    if cli.systemd_cgroup {
        anyhow::bail!("--systemd-cgroup: the systemd cgroup driver is not supported yet");
    }
    match command {
        Command::Create(args) => create::run(store, args).map(|()| 0),
        Command::Start(arg) => start::run(store, &arg.id).map(|()| 0),
        Command::Run(args) => run::run(store, args),
        Command::Exec(args) => exec::run(store, args),
        Command::State(arg) => state::run(store, &arg.id).map(|()| 0),
        Command::Kill(args) => kill::run(store, args).map(|()| 0),
        Command::Delete(args) => delete::run(store, args).map(|()| 0),
        Command::Pause(arg) => pause::run(store, &arg.id, true).map(|()| 0),
        Command::Resume(arg) => pause::run(store, &arg.id, false).map(|()| 0),
        Command::Events(args) => events::run(store, args).map(|()| 0),
        Command::Ps(args) => ps::run(store, args).map(|()| 0),
        Command::Update(args) => update::run(store, args).map(|()| 0),
        Command::List(args) => list::run(store, args).map(|()| 0),
        Command::Features => features::run().map(|()| 0),
        Command::Spec(args) => spec::run(&args.bundle, args.rootless).map(|()| 0),
    }
}

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
