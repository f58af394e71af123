//! `berth`: an OCI container runtime with runc's command line.

use std::process::ExitCode;

use berth::cli::{Cli, Command};
use berth::commands;
use berth::state::Store;
use clap::{CommandFactory, Parser};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.version {
        println!("{}", berth::version::text());
        return ExitCode::SUCCESS;
    }
    let Some(command) = &cli.command else {
        let _ = Cli::command().print_help();
        return ExitCode::SUCCESS;
    };
    if let Err(err) = berth::harden::before(command) {
        return fail(&err, false);
    }
    let to_file = match berth::logging::init(cli.log.as_deref(), cli.log_format, cli.debug) {
        Ok(to_file) => to_file,
        Err(err) => return fail(&err, false),
    };
    let root = cli.root.clone().unwrap_or_else(Store::default_root);
    // `spec` and `features` never touch the state root (runc's neither).
    let uses_root = !matches!(command, Command::Spec(_) | Command::Features);
    if let Err(err) = uses_root
        .then(|| berth::harden::check_root(&root))
        .transpose()
    {
        return fail(&err, to_file);
    }
    let store = Store::new(root);
    match dispatch(&cli, command, &store) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(255)),
        Err(err) => fail(&err, to_file),
    }
}

fn dispatch(cli: &Cli, command: &Command, store: &Store) -> anyhow::Result<i32> {
    if cli.systemd_cgroup {
        anyhow::bail!("--systemd-cgroup: the systemd cgroup driver is not supported yet");
    }
    match command {
        Command::Create(args) => commands::create::run(store, args).map(|()| 0),
        Command::Start(arg) => commands::start::run(store, &arg.id).map(|()| 0),
        Command::Run(args) => commands::run::run(store, args),
        Command::Exec(args) => commands::exec::run(store, args),
        Command::State(arg) => commands::state::run(store, &arg.id).map(|()| 0),
        Command::Kill(args) => commands::kill::run(store, args).map(|()| 0),
        Command::Delete(args) => commands::delete::run(store, args).map(|()| 0),
        Command::Pause(arg) => commands::pause::run(store, &arg.id, true).map(|()| 0),
        Command::Resume(arg) => commands::pause::run(store, &arg.id, false).map(|()| 0),
        Command::Events(args) => commands::events::run(store, args).map(|()| 0),
        Command::Ps(args) => commands::ps::run(store, args).map(|()| 0),
        Command::Update(args) => commands::update::run(store, args).map(|()| 0),
        Command::List(args) => commands::list::run(store, args).map(|()| 0),
        Command::Features => commands::features::run().map(|()| 0),
        Command::Spec(args) => {
            let rootless = cli.rootless.as_deref().is_some_and(|v| v != "false");
            commands::spec::run(&args.bundle, rootless).map(|()| 0)
        }
    }
}

/// One line on stderr (and an error event in the `--log` file, where
/// containerd looks for it); exit status 1.
fn fail(err: &anyhow::Error, to_file: bool) -> ExitCode {
    if to_file {
        tracing::error!("{err:#}");
    }
    eprintln!("berth: {err:#}");
    ExitCode::FAILURE
}
