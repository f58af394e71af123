//! What this host's libseccomp and kernel support, for `berth features`.
//! No `unsafe`: the libseccomp crate does the probing.

use std::str::FromStr;

use libseccomp::{ScmpAction, ScmpArch, ScmpFilterContext, ScmpVersion};

/// Architecture names of runtime-spec config-linux.md.
const ARCHES: [&str; 23] = [
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH",
    "SCMP_ARCH_SHEB",
];

/// The filter flags and the libseccomp API level each needs (libseccomp's
/// `seccomp_api_get(3)`, probed against the running kernel; runc's rule).
const FLAG_API: [(&str, u32); 4] = [
    ("SECCOMP_FILTER_FLAG_TSYNC", 2),
    ("SECCOMP_FILTER_FLAG_LOG", 3),
    ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4),
    ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 7),
];

/// The architectures a filter on this host may name: those this libseccomp
/// adds to one filter alongside the native one (the crate knows names the
/// C library may predate, and one filter cannot mix byte orders).
pub fn architectures() -> Vec<&'static str> {
    let Ok(mut ctx) = ScmpFilterContext::new(ScmpAction::Allow) else {
        return Vec::new();
    };
    ARCHES
        .into_iter()
        .filter(|a| {
            ScmpArch::from_str(a).is_ok_and(|arch| {
                ctx.is_arch_present(arch).unwrap_or(false) || ctx.add_arch(arch).is_ok()
            })
        })
        .collect()
}

/// The filter flags this libseccomp and kernel support.
pub fn supported_flags() -> Vec<&'static str> {
    let api = libseccomp::get_api();
    FLAG_API
        .into_iter()
        .filter(|&(_, need)| api >= need)
        .map(|(name, _)| name)
        .collect()
}

/// libseccomp's version, `major.minor.micro`; `None` if it cannot say.
pub fn version() -> Option<String> {
    ScmpVersion::current()
        .ok()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
}
