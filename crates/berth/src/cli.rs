//! The command line: runc's commands and flags, so engines that drive runc
//! (containerd's go-runc, podman's conmon) can drive berth unchanged.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::logging::LogFormat;

/// An OCI container runtime.
///
/// The global flags go before the command, as runc's do (its flag parser
/// refuses `runc state --root X ID`) and as containerd and conmon pass
/// them. They are not clap `global` flags: clap copies those into every
/// subcommand at each start, 0.08 ms of each berth process.
#[derive(Debug, Parser)]
#[command(name = "berth", disable_version_flag = true)]
pub struct Cli {
    /// Directory for container state (default /run/berth, or
    /// $XDG_RUNTIME_DIR/berth for non-root users).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Write logs to this file instead of stderr.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Log line format.
    #[arg(long, value_enum, default_value_t)]
    pub log_format: LogFormat,
    /// Log debug messages.
    #[arg(long)]
    pub debug: bool,
    /// Use systemd to manage cgroups (not supported yet).
    #[arg(long)]
    pub systemd_cgroup: bool,
    /// Accepted for runc compatibility (`true|false|auto`); berth decides
    /// from its effective uid.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", hide = true)]
    pub rootless: Option<String>,
    /// Print the version (runc's three-line format).
    #[arg(short = 'v', long)]
    pub version: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands. Each subcommand's flags are defined only when that
/// subcommand is the one given (`defer`): building all of them cost every
/// berth process about 50 page faults (docs/performance.md).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a container: build it and leave its init waiting for `start`.
    Create(CreateArgs),
    /// Start the user process of a created container.
    Start(IdArg),
    /// Create and start a container, wait for it and delete it.
    Run(RunArgs),
    /// Run a new process inside a container.
    Exec(Box<ExecArgs>),
    /// Print the state of a container as JSON.
    State(IdArg),
    /// Send a signal to a container's init (default SIGTERM).
    Kill(KillArgs),
    /// Delete a container and everything it holds.
    Delete(DeleteArgs),
    /// Freeze every process of a container.
    Pause(IdArg),
    /// Thaw a paused container.
    Resume(IdArg),
    /// Stream a container's events (stats, oom) as JSON lines.
    Events(crate::commands::events::EventsArgs),
    /// List the processes of a container.
    Ps(crate::commands::ps::PsArgs),
    /// Change a container's resources.
    Update(Box<crate::commands::update::UpdateArgs>),
    /// List containers.
    #[command(alias = "ls")]
    List(ListArgs),
    /// Write a starter config.json into the bundle directory.
    Spec(SpecArgs),
    /// Print what this berth supports (runtime-spec features.md JSON).
    Features,
}

// `spec`.
// No doc comment: clap would make it the help line of the command, and
// with deferred subcommands (`Command`) it would replace the command's own.
#[allow(missing_docs)]
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// Where to write config.json.
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// A template for running without root.
    #[arg(long)]
    pub rootless: bool,
}

// A container id.
#[allow(missing_docs)] // see SpecArgs
#[derive(Debug, Args)]
pub struct IdArg {
    /// The container id.
    pub id: String,
}

// Flags shared by `create` and `run`.
#[allow(missing_docs)] // see SpecArgs
#[derive(Debug, Args)]
pub struct CreateFlags {
    /// Path to the bundle directory.
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Unix socket to which the pty master of a `terminal` container is sent.
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Write init's pid to this file.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Unix socket to which a pidfd of init is sent (SCM_RIGHTS), as runc 1.2.
    #[arg(long)]
    pub pidfd_socket: Option<PathBuf>,
    /// Use move+chroot instead of pivot_root.
    #[arg(long)]
    pub no_pivot: bool,
    /// Do not give the container a new session keyring.
    #[arg(long)]
    pub no_new_keyring: bool,
    /// Pass this many fds (3, 4, …) on to the container.
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
}

// `create`.
#[allow(missing_docs)] // see SpecArgs
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The container id.
    pub id: String,
    /// The shared create flags.
    #[command(flatten)]
    pub flags: CreateFlags,
    /// Accepted for go-runc compatibility; `create` always returns once
    /// the container is built.
    #[arg(short, long, hide = true)]
    pub detach: bool,
}

// `run`.
#[allow(missing_docs)] // see SpecArgs
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The container id.
    pub id: String,
    /// The shared create flags.
    #[command(flatten)]
    pub flags: CreateFlags,
    /// Return once the container has started, leaving it running.
    #[arg(short, long)]
    pub detach: bool,
    /// Do not delete the container after it exits.
    #[arg(long)]
    pub keep: bool,
    /// Do not become a subreaper for the container's orphans.
    #[arg(long)]
    pub no_subreaper: bool,
}

// `exec`: runc's flags.
#[allow(missing_docs)] // see SpecArgs
#[derive(Debug, Args, Default)]
pub struct ExecArgs {
    /// The container id.
    pub id: String,
    /// The command and its arguments (none with --process).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
    /// A process.json (the `process` object of a config) to run instead of
    /// a command; the other process flags are then ignored, as by runc.
    #[arg(short, long)]
    pub process: Option<PathBuf>,
    /// Allocate a pseudo-terminal.
    #[arg(short, long)]
    pub tty: bool,
    /// Unix socket to which the pty master is sent.
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Return once the process has started.
    #[arg(short, long)]
    pub detach: bool,
    /// Write the process's pid to this file.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Add KEY=value to the environment.
    #[arg(short, long)]
    pub env: Vec<String>,
    /// Working directory inside the container.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// `uid[:gid]`.
    #[arg(short, long)]
    pub user: Option<String>,
    /// Additional group ids.
    #[arg(short = 'g', long)]
    pub additional_gids: Vec<u32>,
    /// Add a capability (bounding, effective, permitted, ambient).
    #[arg(short = 'c', long)]
    pub cap: Vec<String>,
    /// Set no_new_privs for the process.
    #[arg(long)]
    pub no_new_privs: bool,
    /// Pass this many fds (3, 4, …) on to the process.
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// SELinux label for the process.
    #[arg(long)]
    pub process_label: Option<String>,
    /// AppArmor profile for the process.
    #[arg(long)]
    pub apparmor: Option<String>,
    /// Run in an existing sub-cgroup of the container's: `[controller:]path`.
    #[arg(long)]
    pub cgroup: Vec<String>,
    /// Exec even when the container is paused.
    #[arg(long)]
    pub ignore_paused: bool,
    /// Accepted for runc compatibility.
    #[arg(long, hide = true)]
    pub no_subreaper: bool,
}

// `kill`.
#[allow(missing_docs)] // see SpecArgs
#[derive(Debug, Args)]
pub struct KillArgs {
    /// The container id.
    pub id: String,
    /// Signal name or number: `KILL`, `SIGKILL`, `9`.
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
    /// Signal every process in the container's cgroup (and succeed on a
    /// stopped container, as runc does).
    #[arg(short, long)]
    pub all: bool,
}

// `delete`.
#[allow(missing_docs)] // see SpecArgs
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The container id.
    pub id: String,
    /// Kill the container first if it is still running.
    #[arg(short, long)]
    pub force: bool,
}

// `list`.
#[allow(missing_docs)] // see SpecArgs
#[derive(Debug, Args)]
pub struct ListArgs {
    /// `table` or `json`.
    #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Print ids only.
    #[arg(short, long)]
    pub quiet: bool,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_keeps_its_own_help_line() {
        let mut cli = Cli::command();
        // Runs every deferred definition, as `berth CMD --help` does for one.
        cli.build();
        let expected = [
            ("create", "Create a container"),
            ("start", "Start the user process"),
            ("state", "Print the state"),
            ("update", "Change a container's resources"),
            ("events", "Stream a container's events"),
        ];
        for (name, start) in expected {
            let sub = cli
                .find_subcommand(name)
                .unwrap_or_else(|| panic!("{name}"));
            let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
            assert!(about.starts_with(start), "{name}: {about:?}");
        }
    }

    #[test]
    fn runc_style_command_lines_parse() {
        for line in [
            "berth spec",
            "berth spec --rootless",
            "berth --rootless=false --root /r --log /l --log-format json create --bundle /b --pid-file /p c1",
            "berth kill c1 KILL",
            "berth delete --force c1",
            "berth list --format json -q",
            "berth exec -t -e A=1 --cwd /tmp -u 1:2 -g 3 --cap CAP_KILL c1 sh -c true",
            "berth exec --process /p.json --detach --pid-file /pid c1",
        ] {
            let cli = Cli::try_parse_from(line.split(' ')).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert!(cli.command.is_some(), "{line}");
        }
        let cli = Cli::try_parse_from(["berth", "spec", "--rootless"]).expect("parses");
        assert!(matches!(
            cli.command,
            Some(Command::Spec(SpecArgs { rootless: true, .. }))
        ));
        // go-runc's form.
        let cli = Cli::try_parse_from(["berth", "--rootless=false", "list"]).expect("parses");
        assert_eq!(cli.rootless.as_deref(), Some("false"));
    }

    #[test]
    fn global_flags_go_before_the_command_as_runcs() {
        for line in [
            "berth state --root /r c1",
            "berth create --log /l --bundle /b c1",
        ] {
            assert!(Cli::try_parse_from(line.split(' ')).is_err(), "{line}");
        }
    }
}
