//! `berth`: an OCI container runtime with runc's command line.
//!
//! berth starts from C's `main`, without Rust's runtime set-up: that reads
//! `/proc/self/maps` and installs a stack-overflow handler in every process
//! (about 45 us of the ~0.8 ms a berth process takes to start on the
//! development VM, docs/performance.md), and it sets SIGPIPE to SIG_IGN,
//! which execve(2) would pass on to the container's process. What berth
//! needs of it is done here: stdio opened if closed, SIGPIPE survived
//! ([`berth_linux::signals::survive_sigpipe`]), and stdout flushed by
//! [`std::process::exit`]. A stack overflow ends in a plain SIGSEGV.
#![no_main]

use berth::cli::{Cli, Command};
use berth::commands;
use berth::state::Store;
use clap::{CommandFactory, Parser};

// SAFETY: `main` is the only symbol of that name in the program (the
// crate is `no_main`), with the signature C's start-up calls it with.
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    let started = berth_linux::fd::open_missing_stdio()
        .and_then(|()| berth_linux::signals::survive_sigpipe());
    let code = match started {
        Ok(()) => run(),
        Err(err) => fail(&err.into(), false),
    };
    std::process::exit(code)
}

fn run() -> i32 {
    let cli = Cli::parse();
    if cli.version {
        println!("{}", berth::version::text());
        return 0;
    }
    let Some(command) = &cli.command else {
        let _ = Cli::command().print_help();
        return 0;
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
    match commands::dispatch(&cli, command, &Store::new(root)) {
        Ok(code) => u8::try_from(code).map_or(255, i32::from),
        Err(err) => fail(&err, to_file),
    }
}

/// One line on stderr, in one write (and an error event in the `--log`
/// file, where containerd looks for it); exit status 1.
fn fail(err: &anyhow::Error, to_file: bool) -> i32 {
    use std::io::Write;
    if to_file {
        tracing::error!("{err:#}");
    }
    let _ = std::io::stderr().write_all(format!("berth: {err:#}\n").as_bytes());
    1
}
