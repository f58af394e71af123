//! The process step: from a process that is already inside the container
//! (its namespaces, root and cwd) to the exec of the container's program.
//!
//! Both the container's init (after `init` built the container) and
//! `berth exec` (after joining it through init's pidfd) run exactly this,
//! in the order of [`STEPS`]: labels → rlimits → session → stdio → seccomp (early,
//! without no_new_privs) → bounding set → user → capabilities →
//! no_new_privs → program; then, after init's wait for `start`, seccomp
//! (late, with no_new_privs) → execve.

mod cwd;
mod exec;
mod labels;
mod security;

pub use cwd::enter as enter_cwd;
pub use exec::Program;

use berth_linux::seccomp::Filter;
use berth_spec::plan::Process;

/// What the process step works from.
#[derive(Debug, Clone, Copy)]
pub struct ProcessContext<'a> {
    /// The process to become.
    pub process: &'a Process,
    /// Its seccomp filter (the container's `linux.seccomp`), built before
    /// the clone.
    pub seccomp: Option<&'a Filter>,
    /// Whether setgroups(2) is allowed (not denied in a new user namespace).
    pub setgroups_allowed: bool,
    /// `--preserve-fds`: fds 3.. 3+N-1 stay open across exec.
    pub preserve_fds: u32,
    /// Where a notifying filter's listener fd goes: the create handshake,
    /// whose parent hands it to `listenerPath` (init only).
    pub notify_to: Option<&'a crate::sync::Channel>,
}

/// One step, named for what it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// AppArmor profile and SELinux label for the exec.
    Labels,
    /// `process.rlimits`.
    Rlimits,
    /// A session of its own.
    Session,
    /// stdio handed to the container user.
    Stdio,
    /// The seccomp filter, when no_new_privs is off (loading needs
    /// CAP_SYS_ADMIN, dropped below).
    EarlySeccomp,
    /// The bounding set.
    Bounding,
    /// Groups, gid, uid.
    User,
    /// Effective, permitted, inheritable and ambient sets.
    Capabilities,
    /// `process.noNewPrivileges`.
    NoNewPrivs,
    /// The executable found, umask set, fds beyond stdio and
    /// `--preserve-fds` marked close-on-exec.
    Program,
    /// The seccomp filter, when no_new_privs is on: as late as possible.
    LateSeccomp,
    /// execve(2).
    Exec,
}

/// The order of the steps. [`prepare`] runs them up to [`Step::Program`],
/// [`exec`] the rest.
pub const STEPS: [Step; 12] = [
    Step::Labels,
    Step::Rlimits,
    Step::Session,
    Step::Stdio,
    Step::EarlySeccomp,
    Step::Bounding,
    Step::User,
    Step::Capabilities,
    Step::NoNewPrivs,
    Step::Program,
    Step::LateSeccomp,
    Step::Exec,
];

/// Runs the steps up to and including [`Step::Program`]; `None` when there
/// is no process to run (a config without `process`: `start` refuses it).
pub fn prepare(ctx: &ProcessContext<'_>) -> anyhow::Result<Option<Program>> {
    // The environment first: HOME may come from the image's /etc/passwd,
    // opened with openat2(RESOLVE_IN_ROOT), which a seccomp profile loaded
    // in the steps below may refuse (older profiles answer syscalls they
    // do not know with EPERM). runc reads it before its filter too.
    let env = if ctx.process.is_present() {
        exec::environment(ctx.process)?
    } else {
        Vec::new()
    };
    for step in STEPS {
        match step {
            Step::Labels => labels::apply(ctx)?,
            Step::Rlimits => security::rlimits(ctx)?,
            Step::Session => security::session(ctx)?,
            Step::Stdio => security::stdio(ctx)?,
            Step::EarlySeccomp => security::early_seccomp(ctx)?,
            Step::Bounding => security::bounding(ctx)?,
            Step::User => security::user(ctx)?,
            Step::Capabilities => security::capabilities(ctx)?,
            Step::NoNewPrivs => security::no_new_privs(ctx)?,
            Step::Program => return exec::prepare(ctx, env),
            Step::LateSeccomp | Step::Exec => {}
        }
    }
    anyhow::bail!("process steps end before the program is prepared")
}

/// The steps after [`Step::Program`]: the late seccomp filter and execve.
/// Returns only on failure.
pub fn exec(ctx: &ProcessContext<'_>, program: &Program) -> anyhow::Error {
    match security::late_seccomp(ctx) {
        Ok(()) => exec::exec(program),
        Err(err) => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(step: Step) -> usize {
        STEPS.iter().position(|s| *s == step).unwrap_or(usize::MAX)
    }

    #[test]
    fn the_order_is_runcs() {
        // Labels first: they are armed for the exec, while we may still
        // write our own /proc attrs.
        assert_eq!(at(Step::Labels), 0);
        // The bounding set needs CAP_SETPCAP: before the user switch.
        assert!(at(Step::Bounding) < at(Step::User));
        // A filter loaded without no_new_privs needs CAP_SYS_ADMIN: before
        // the capabilities are dropped.
        assert!(at(Step::EarlySeccomp) < at(Step::Capabilities));
        assert!(at(Step::User) < at(Step::Capabilities));
        assert!(at(Step::Capabilities) < at(Step::NoNewPrivs));
        // seccomp with no_new_privs last, then exec.
        assert_eq!(&STEPS[STEPS.len() - 2..], &[Step::LateSeccomp, Step::Exec]);
        assert_eq!(STEPS.len(), 12, "each step once");
    }
}
