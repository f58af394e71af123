//! `linux.seccomp` → [`Seccomp`]: actions with their errno folded in, and
//! what berth cannot do yet refused with the field's path.
//!
//! Syscall names are not checked here: libseccomp knows which exist, and a
//! name it does not know (a syscall newer than the library) is skipped when
//! the filter is built, as runc does.

use oci_spec::runtime::{
    LinuxSeccomp, LinuxSeccompAction as A, LinuxSeccompArg, LinuxSeccompFilterFlag as F,
    LinuxSeccompOperator as Op, LinuxSyscall,
};

use super::{Invalid, Result};
use crate::plan::{ArgOp, Seccomp, SeccompAction, SeccompFlag, SyscallArg, SyscallRule};

/// The errno of `SCMP_ACT_ERRNO` without `errnoRet` (runtime-spec).
const EPERM: u16 = 1;

const AT: &str = "linux.seccomp";

/// The filter flags [`convert`] maps (all oci-spec knows).
pub(crate) const FLAGS: [&str; 4] = [
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];

/// Whether a config may use action `a` (for `berth features`).
pub(crate) fn action_accepted(a: A) -> bool {
    action(AT, a, None).is_ok()
}

/// Converts `linux.seccomp`.
pub(super) fn convert(s: &LinuxSeccomp) -> Result<Seccomp> {
    if s.listener_path().is_some() {
        return Err(Invalid::new(
            format!("{AT}.listenerPath"),
            "seccomp notify is not supported yet",
        ));
    }
    let default_action = action(
        &format!("{AT}.defaultAction"),
        s.default_action(),
        s.default_errno_ret(),
    )?;
    let architectures = s
        .architectures()
        .iter()
        .flatten()
        .map(|a| {
            serde_json::to_value(a)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        })
        .collect();
    let flags = s
        .flags()
        .iter()
        .flatten()
        .map(|f| match f {
            F::SeccompFilterFlagLog => SeccompFlag::Log,
            F::SeccompFilterFlagTsync => SeccompFlag::Tsync,
            F::SeccompFilterFlagSpecAllow => SeccompFlag::SpecAllow,
            F::SeccompFilterFlagWaitKillableRecv => SeccompFlag::WaitKillableRecv,
        })
        .collect();
    let syscalls = s
        .syscalls()
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, sc)| rule(i, sc))
        .collect::<Result<_>>()?;
    Ok(Seccomp {
        default_action,
        architectures,
        flags,
        syscalls,
    })
}

fn rule(i: usize, sc: &LinuxSyscall) -> Result<SyscallRule> {
    let at = format!("{AT}.syscalls[{i}]");
    if sc.names().is_empty() || sc.names().iter().any(String::is_empty) {
        return Err(Invalid::new(
            format!("{at}.names"),
            "must list at least one syscall name",
        ));
    }
    let action = action(&format!("{at}.action"), sc.action(), sc.errno_ret())?;
    let args = sc
        .args()
        .iter()
        .flatten()
        .enumerate()
        .map(|(j, a)| arg(&format!("{at}.args[{j}]"), a))
        .collect::<Result<_>>()?;
    Ok(SyscallRule {
        names: sc.names().clone(),
        action,
        args,
    })
}

/// An action; `errnoRet` only belongs to ERRNO and TRACE.
fn action(at: &str, a: A, errno: Option<u32>) -> Result<SeccompAction> {
    let ret = |what: &str| -> Result<u16> {
        errno.map_or(Ok(EPERM), |e| {
            u16::try_from(e)
                .map_err(|_| Invalid::new(at, format!("{what} value {e} does not fit 16 bits")))
        })
    };
    let plain = |action: SeccompAction| match errno {
        Some(_) => Err(Invalid::new(
            at,
            "errnoRet is only for SCMP_ACT_ERRNO and SCMP_ACT_TRACE",
        )),
        None => Ok(action),
    };
    match a {
        A::ScmpActKill | A::ScmpActKillThread => plain(SeccompAction::KillThread),
        A::ScmpActKillProcess => plain(SeccompAction::KillProcess),
        A::ScmpActTrap => plain(SeccompAction::Trap),
        A::ScmpActLog => plain(SeccompAction::Log),
        A::ScmpActAllow => plain(SeccompAction::Allow),
        A::ScmpActErrno => Ok(SeccompAction::Errno(ret("errnoRet")?)),
        A::ScmpActTrace => Ok(SeccompAction::Trace(ret("errnoRet")?)),
        A::ScmpActNotify => Err(Invalid::new(at, "SCMP_ACT_NOTIFY is not supported yet")),
    }
}

fn arg(at: &str, a: &LinuxSeccompArg) -> Result<SyscallArg> {
    let index = u32::try_from(a.index()).ok().filter(|&i| i < 6);
    let index = index.ok_or_else(|| {
        Invalid::new(
            format!("{at}.index"),
            format!("{} is not 0 to 5", a.index()),
        )
    })?;
    let op = match a.op() {
        Op::ScmpCmpNe => ArgOp::NotEqual,
        Op::ScmpCmpLt => ArgOp::Less,
        Op::ScmpCmpLe => ArgOp::LessOrEqual,
        Op::ScmpCmpEq => ArgOp::Equal,
        Op::ScmpCmpGe => ArgOp::GreaterOrEqual,
        Op::ScmpCmpGt => ArgOp::Greater,
        Op::ScmpCmpMaskedEq => ArgOp::MaskedEqual,
    };
    Ok(SyscallArg {
        index,
        value: a.value(),
        value_two: a.value_two().unwrap_or(0),
        op,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testutil::{err, invalid, minimal, plan};
    use crate::plan::{ArgOp, SeccompAction, SeccompFlag, SyscallArg};

    fn with_seccomp(s: serde_json::Value) -> serde_json::Value {
        let mut c = minimal();
        c["linux"]["seccomp"] = s;
        c
    }

    #[test]
    fn converts_actions_errnos_args_and_flags() {
        let c = with_seccomp(json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 38,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "flags": ["SECCOMP_FILTER_FLAG_LOG"],
            "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 255, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]}
            ]
        }));
        let s = plan(&c).seccomp.expect("seccomp");
        assert_eq!(s.default_action, SeccompAction::Errno(38));
        assert_eq!(s.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]);
        assert_eq!(s.flags, [SeccompFlag::Log]);
        assert_eq!(s.syscalls[0].names, ["read", "write"]);
        assert_eq!(s.syscalls[1].action, SeccompAction::Errno(1));
        let arg = SyscallArg {
            index: 0,
            value: 255,
            value_two: 8,
            op: ArgOp::MaskedEqual,
        };
        assert_eq!(s.syscalls[2].args, [arg]);
    }

    #[test]
    fn errors_name_the_field() {
        let notify = with_seccomp(json!({"defaultAction": "SCMP_ACT_NOTIFY"}));
        assert_eq!(
            invalid(&notify),
            err(
                "linux.seccomp.defaultAction",
                "SCMP_ACT_NOTIFY is not supported yet"
            )
        );
        let errno_on_allow = with_seccomp(json!({"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW", "errnoRet": 5}]}));
        assert_eq!(
            invalid(&errno_on_allow),
            err(
                "linux.seccomp.syscalls[0].action",
                "errnoRet is only for SCMP_ACT_ERRNO and SCMP_ACT_TRACE"
            )
        );
        let bad_index = with_seccomp(json!({"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO",
                          "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}));
        assert_eq!(
            invalid(&bad_index),
            err("linux.seccomp.syscalls[0].args[0].index", "6 is not 0 to 5")
        );
        let no_names = with_seccomp(json!({"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}));
        assert_eq!(
            invalid(&no_names),
            err(
                "linux.seccomp.syscalls[0].names",
                "must list at least one syscall name"
            )
        );
        let listener =
            with_seccomp(json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/x.sock"}));
        assert_eq!(
            invalid(&listener),
            err(
                "linux.seccomp.listenerPath",
                "seccomp notify is not supported yet"
            )
        );
    }
}
