//! oci-spec's `Spec` → [`Plan`], rejecting everything invalid before any
//! process is forked.
//!
//! runtime-spec `config.md` and `config-linux.md` are the law; where they
//! are silent we follow runc (`libcontainer/specconv/spec_linux.go`,
//! `libcontainer/configs/validate/validator.go`). Each rule lives in the
//! submodule named after the part of the config it checks, and each error
//! names the JSON path of the value as written in the file.

mod caps;
mod devices;
mod hooks;
mod knobs;
mod mount_options;
mod mounts;
mod namespaces;
mod net_devices;
mod process;
pub(crate) mod resources;
mod seccomp;
mod sysctl;
mod version;
mod warnings;

#[cfg(test)]
pub(crate) mod testutil;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::{Linux, Spec};

use crate::plan::{Plan, Root};

pub use sysctl::owner as sysctl_namespace;
pub use warnings::Warning;

// What `crate::features` reads off the validation.
pub(crate) use caps::known as capability_known;
pub(crate) use hooks::KINDS as HOOK_KINDS;
pub(crate) use mount_options::names as mount_option_names;
pub(crate) use seccomp::{action_accepted as seccomp_action_accepted, FLAGS as SECCOMP_FLAGS};

/// One rule broken: the JSON path of the value and what is wrong with it.
/// [`crate::load`] adds the file name and makes it an [`crate::Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    /// e.g. `linux.namespaces[4].type`.
    pub path: String,
    /// e.g. `duplicate namespace "pid"`.
    pub msg: String,
}

impl Invalid {
    pub(crate) fn new(path: impl Into<String>, msg: impl fmt::Display) -> Self {
        Invalid {
            path: path.into(),
            msg: msg.to_string(),
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, Invalid>;

/// Checks `spec` and turns it into a [`Plan`], plus a warning for each
/// field berth accepts but does not implement yet. `bundle` is absolute.
pub(crate) fn validate(spec: &Spec, bundle: &Path) -> Result<(Plan, Vec<Warning>)> {
    version::check(spec.version())?;
    let root = root(spec, bundle)?;
    let process = process::convert(spec.process().as_ref())?;
    let linux = spec.linux().as_ref();

    let namespaces = namespaces::convert(of(linux, Linux::namespaces))?;
    let hostname = non_empty(spec.hostname());
    let domainname = non_empty(spec.domainname());
    namespaces::check_uts(hostname.as_deref(), domainname.as_deref(), &namespaces)?;
    let (uid_mappings, gid_mappings) = namespaces::id_maps(linux, &namespaces, &process.user)?;
    let time_offsets = namespaces::time_offsets(linux, &namespaces)?;
    let sysctl = sysctl::convert(
        linux,
        &namespaces,
        hostname.as_deref(),
        domainname.as_deref(),
    )?;

    let net_devices =
        net_devices::convert(linux.and_then(|l| l.net_devices().as_ref()), &namespaces)?;

    let mounts = mounts::convert(list(spec.mounts()), bundle, &root.path)?;
    let setup_dev = !mounts.iter().any(mounts::binds_dev);
    let devices = devices::convert(of(linux, Linux::devices))?;

    let plan = Plan {
        bundle: bundle.to_path_buf(),
        oci_version: spec.version().clone(),
        root,
        process,
        hooks: hooks::convert(spec.hooks().as_ref())?,
        hostname,
        domainname,
        mounts,
        namespaces,
        uid_mappings,
        gid_mappings,
        time_offsets,
        rootfs_propagation: mount_options::rootfs_propagation(linux)?,
        masked_paths: abs_paths("linux.maskedPaths", of(linux, Linux::masked_paths))?,
        readonly_paths: abs_paths("linux.readonlyPaths", of(linux, Linux::readonly_paths))?,
        devices,
        setup_dev,
        sysctl,
        net_devices,
        cgroups_path: linux
            .and_then(|l| l.cgroups_path().as_ref())
            .map(|p| p.to_string_lossy().into_owned()),
        resources: linux
            .and_then(|l| l.resources().as_ref())
            .map(|r| resources::convert(r, "linux.resources"))
            .transpose()?
            .unwrap_or_default(),
        seccomp: linux
            .and_then(|l| l.seccomp().as_ref())
            .map(seccomp::convert)
            .transpose()?,
        annotations: spec
            .annotations()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        knobs: knobs::convert(spec)?,
    };
    Ok((plan, warnings::collect(spec)))
}

/// A process.json's `process` object on its own (`exec --process`).
pub(crate) fn process_only(p: &oci_spec::runtime::Process) -> Result<crate::plan::Process> {
    process::convert(Some(p))
}

/// `root`: resolved against the bundle, must be an existing directory;
/// stored canonical (runc `validator.go` `rootfs`).
fn root(spec: &Spec, bundle: &Path) -> Result<Root> {
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| Invalid::new("root", "required"))?;
    if root.path().as_os_str().is_empty() {
        return Err(Invalid::new("root.path", "required"));
    }
    let path = bundle.join(root.path());
    let fail =
        |e: io::Error| Invalid::new("root.path", format!("{}: {}", path.display(), io_msg(&e)));
    let meta = fs::metadata(&path).map_err(fail)?;
    if !meta.is_dir() {
        return Err(Invalid::new(
            "root.path",
            format!("{}: not a directory", path.display()),
        ));
    }
    Ok(Root {
        path: fs::canonicalize(&path).map_err(fail)?,
        readonly: root.readonly().unwrap_or(false),
    })
}

/// `linux.maskedPaths` or `linux.readonlyPaths`: absolute, normalised.
fn abs_paths(field: &str, paths: &[String]) -> Result<Vec<PathBuf>> {
    paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            clean_abs(Path::new(p)).map_err(|msg| Invalid::new(format!("{field}[{i}]"), msg))
        })
        .collect()
}

/// The slice in an optional list; absent and empty are the same.
pub(crate) fn list<T>(v: &Option<Vec<T>>) -> &[T] {
    v.as_deref().unwrap_or(&[])
}

/// A list in `linux`, empty when `linux` or the list is absent.
fn of<'a, T>(linux: Option<&'a Linux>, get: fn(&'a Linux) -> &'a Option<Vec<T>>) -> &'a [T] {
    linux.map_or(&[], |l| list(get(l)))
}

/// An optional string, with "" meaning absent (as in runc).
fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().filter(|s| !s.is_empty()).cloned()
}

/// `p` as an absolute path with `//` and `.` collapsed. A `..` component is
/// refused rather than resolved: lexically resolving it would hide what the
/// config meant, and resolving it on disk is the runtime's job (CVE-2019-16884
/// class of bugs). The error is the message for an [`Invalid`].
pub(crate) fn clean_abs(p: &Path) -> std::result::Result<PathBuf, String> {
    if !p.is_absolute() {
        return Err(format!("must be an absolute path, got {p:?}"));
    }
    check_nul(&p.to_string_lossy())?;
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => return Err(format!("must not contain \"..\", got {p:?}")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(out)
}

/// Refuses a string the kernel would cut short at a NUL byte (runc refuses
/// these in mounts for the same reason).
pub(crate) fn check_nul(s: &str) -> std::result::Result<(), String> {
    if s.contains('\0') {
        return Err(format!("must not contain a NUL byte, got {s:?}"));
    }
    Ok(())
}

/// An I/O error's text without the " (os error N)" that std appends, so
/// messages read like `/b/rootfs: No such file or directory`.
pub(crate) fn io_msg(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests;
