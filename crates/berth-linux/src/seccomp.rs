//! `linux.seccomp`: a filter built with libseccomp before the clone, loaded
//! by init.
//!
//! Building in the parent means a profile libseccomp cannot express fails
//! `create` before anything exists; init, a copy of the parent, only loads
//! it. The rules follow runc (`libcontainer/seccomp/seccomp_linux.go`):
//! a rule whose action is the default action is skipped, a syscall name
//! libseccomp does not know is skipped (profiles list syscalls newer than
//! the library), and several conditions on the same argument become one
//! rule each, since libseccomp cannot AND two conditions on one argument.

use std::str::FromStr;

use berth_spec::plan::{ArgOp, Seccomp, SeccompAction, SeccompFlag, SyscallRule};
use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};

/// A libseccomp call that failed, with the config field it served.
#[derive(Debug, thiserror::Error)]
#[error("{field}")]
pub struct Error {
    /// The JSON path (or step) concerned, e.g. `linux.seccomp.architectures`.
    pub field: String,
    /// What libseccomp said.
    #[source]
    pub source: libseccomp::error::SeccompError,
}

fn at(field: impl Into<String>) -> impl FnOnce(libseccomp::error::SeccompError) -> Error {
    let field = field.into();
    move |source| Error { field, source }
}

/// A compiled-ready filter.
#[derive(Debug)]
pub struct Filter {
    ctx: ScmpFilterContext,
    /// Whether some action is `SCMP_ACT_NOTIFY` (a listener is set).
    notifies: bool,
}

fn action(a: SeccompAction) -> ScmpAction {
    match a {
        SeccompAction::KillThread => ScmpAction::KillThread,
        SeccompAction::KillProcess => ScmpAction::KillProcess,
        SeccompAction::Trap => ScmpAction::Trap,
        SeccompAction::Errno(e) => ScmpAction::Errno(i32::from(e)),
        SeccompAction::Trace(v) => ScmpAction::Trace(v),
        SeccompAction::Log => ScmpAction::Log,
        SeccompAction::Allow => ScmpAction::Allow,
        SeccompAction::Notify => ScmpAction::Notify,
    }
}

fn compare(arg: &berth_spec::plan::SyscallArg) -> ScmpArgCompare {
    let (op, datum) = match arg.op {
        ArgOp::NotEqual => (ScmpCompareOp::NotEqual, arg.value),
        ArgOp::Less => (ScmpCompareOp::Less, arg.value),
        ArgOp::LessOrEqual => (ScmpCompareOp::LessOrEqual, arg.value),
        ArgOp::Equal => (ScmpCompareOp::Equal, arg.value),
        ArgOp::GreaterOrEqual => (ScmpCompareOp::GreaterEqual, arg.value),
        ArgOp::Greater => (ScmpCompareOp::Greater, arg.value),
        ArgOp::MaskedEqual => (ScmpCompareOp::MaskedEqual(arg.value), arg.value_two),
    };
    ScmpArgCompare::new(arg.index, op, datum)
}

/// Builds the filter for `s`.
pub fn compile(s: &Seccomp) -> Result<Filter, Error> {
    let mut ctx = ScmpFilterContext::new(action(s.default_action))
        .map_err(at("linux.seccomp.defaultAction"))?;
    // berth sets no_new_privs itself, only when the config asks for it.
    ctx.set_ctl_nnp(false).map_err(at("linux.seccomp"))?;
    for (i, name) in s.architectures.iter().enumerate() {
        let field = format!("linux.seccomp.architectures[{i}]");
        let arch = ScmpArch::from_str(name).map_err(at(field.clone()))?;
        ctx.add_arch(arch).map_err(at(field))?;
    }
    for (i, flag) in s.flags.iter().enumerate() {
        let field = format!("linux.seccomp.flags[{i}]");
        match flag {
            SeccompFlag::Log => ctx.set_ctl_log(true),
            SeccompFlag::Tsync => ctx.set_ctl_tsync(true),
            SeccompFlag::SpecAllow => ctx.set_ctl_ssb(true),
            SeccompFlag::WaitKillableRecv => ctx.set_ctl_waitkill(true),
        }
        .map_err(at(field))?;
    }
    for (i, rule) in s.syscalls.iter().enumerate() {
        if rule.action != s.default_action {
            add_rule(&mut ctx, i, rule)?;
        }
    }
    let notifies = s.listener_path.is_some();
    Ok(Filter { ctx, notifies })
}

fn add_rule(ctx: &mut ScmpFilterContext, i: usize, rule: &SyscallRule) -> Result<(), Error> {
    let act = action(rule.action);
    let conditions: Vec<ScmpArgCompare> = rule.args.iter().map(compare).collect();
    let repeated = rule
        .args
        .iter()
        .enumerate()
        .any(|(j, a)| rule.args[..j].iter().any(|b| b.index == a.index));
    for name in &rule.names {
        let Ok(syscall) = ScmpSyscall::from_name(name) else {
            tracing::debug!(name, "seccomp: syscall unknown to libseccomp, skipped");
            continue;
        };
        let field = || format!("linux.seccomp.syscalls[{i}] {name}");
        if repeated {
            for cond in &conditions {
                ctx.add_rule_conditional(act, syscall, std::slice::from_ref(cond))
                    .map_err(at(field()))?;
            }
        } else if conditions.is_empty() {
            ctx.add_rule(act, syscall).map_err(at(field()))?;
        } else {
            ctx.add_rule_conditional(act, syscall, &conditions)
                .map_err(at(field()))?;
        }
    }
    Ok(())
}

impl Filter {
    /// Installs the filter on the calling process. Without no_new_privs
    /// this needs CAP_SYS_ADMIN, so it must come before capabilities are
    /// dropped.
    pub fn load(&self) -> Result<(), Error> {
        self.ctx
            .load()
            .map_err(at("linux.seccomp: load the filter"))
    }

    /// Whether the filter notifies a listener: it must then be loaded
    /// before init reports ready, so the notify fd reaches the listener.
    pub fn notifies(&self) -> bool {
        self.notifies
    }

    /// The notify fd of the loaded filter (`SECCOMP_FILTER_FLAG_NEW_LISTENER`).
    pub fn notify_fd(&self) -> Result<std::os::fd::OwnedFd, Error> {
        let fd = self
            .ctx
            .get_notify_fd()
            .map_err(at("linux.seccomp: the notify fd"))?;
        // SAFETY: libseccomp returns the listener fd the kernel made at
        // load; nothing else owns or closes it.
        Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_spec::plan::SyscallArg;

    fn profile(syscalls: Vec<SyscallRule>) -> Seccomp {
        Seccomp {
            default_action: SeccompAction::Allow,
            architectures: vec!["SCMP_ARCH_X86_64".into(), "SCMP_ARCH_X86".into()],
            flags: vec![],
            syscalls,
            listener_path: None,
            listener_metadata: String::new(),
        }
    }

    #[test]
    fn builds_a_docker_like_profile_and_skips_unknown_names() {
        let rules = vec![
            SyscallRule {
                names: vec!["mkdir".into(), "no_such_syscall_x".into()],
                action: SeccompAction::Errno(1),
                args: vec![],
            },
            SyscallRule {
                names: vec!["personality".into()],
                action: SeccompAction::Errno(1),
                args: vec![
                    SyscallArg {
                        index: 0,
                        value: 0,
                        value_two: 0,
                        op: ArgOp::NotEqual,
                    },
                    SyscallArg {
                        index: 0,
                        value: 8,
                        value_two: 0,
                        op: ArgOp::NotEqual,
                    },
                ],
            },
            SyscallRule {
                names: vec!["read".into()],
                action: SeccompAction::Allow,
                args: vec![],
            },
        ];
        compile(&profile(rules)).expect("compiles");
    }

    #[test]
    fn unknown_architecture_names_its_field() {
        let mut p = profile(vec![]);
        p.architectures.push("SCMP_ARCH_NOPE".into());
        let err = compile(&p).expect_err("unknown arch");
        assert_eq!(err.field, "linux.seccomp.architectures[2]");
    }
}
