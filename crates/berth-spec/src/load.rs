//! `<bundle>/config.json` → [`Plan`]: read, parse with oci-spec, validate.
//!
//! Parsing goes through `serde_path_to_error`, so a type error names the
//! JSON path as written in the file (`linux.namespaces[3].type`), and
//! serde's "unknown variant" messages are rewritten to say what the value
//! was meant to be (`unknown namespace "pidd"`). Unknown properties are
//! ignored, as runtime-spec requires.

use std::fs;
use std::path::Path;

use oci_spec::runtime::{Process as OciProcess, Spec};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::plan::Process;
use crate::validate::{self, Invalid, Warning};
use crate::{Error, Plan};

/// A validated config and what berth ignored in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The container to build.
    pub plan: Plan,
    /// One entry per field present in the config that berth does not
    /// implement and ignores (hooks, `linux.resources`…); the binary logs
    /// them.
    pub warnings: Vec<Warning>,
}

/// Reads and validates `<bundle>/config.json`, dropping the warnings.
pub fn load(bundle: &Path) -> Result<Plan, Error> {
    load_with_warnings(bundle).map(|l| l.plan)
}

/// Reads and validates `<bundle>/config.json`.
pub fn load_with_warnings(bundle: &Path) -> Result<Loaded, Error> {
    let file = bundle.join("config.json");
    let json = fs::read(&file).map_err(|source| Error::Read {
        file: file.clone(),
        source,
    })?;
    load_bytes(&json, bundle, &file)
}

/// Validates `json` as the config of `bundle`. `file` is only used in error
/// messages. Paths in the config (`root.path`, bind sources) are still
/// resolved against `bundle` and checked on the real filesystem.
pub fn load_str(json: &str, bundle: &Path, file: &Path) -> Result<Loaded, Error> {
    load_bytes(json.as_bytes(), bundle, file)
}

/// Reads and validates a process.json (what `exec --process` is given:
/// the `process` object of a config on its own). Errors name the JSON path
/// inside that file (`args`, `user.uid`, `capabilities.bounding[2]`).
pub fn load_process(file: &Path) -> Result<Process, Error> {
    let json = fs::read(file).map_err(|source| Error::Read {
        file: file.to_path_buf(),
        source,
    })?;
    load_process_bytes(&json, file)
}

/// [`load_process`] on the file's contents; `file` names it in errors.
pub fn load_process_bytes(json: &[u8], file: &Path) -> Result<Process, Error> {
    let p: OciProcess = parse(json, "process.").map_err(|(path, msg)| Error::Parse {
        file: file.to_path_buf(),
        path,
        msg,
    })?;
    validate::process_only(&p).map_err(|Invalid { path, msg }| Error::Invalid {
        file: file.to_path_buf(),
        // The rules name paths as in a config.json; this file is the
        // `process` object itself.
        path: path
            .strip_prefix("process.")
            .map_or(path.clone(), str::to_string),
        msg,
    })
}

fn load_bytes(json: &[u8], bundle: &Path, file: &Path) -> Result<Loaded, Error> {
    let spec: Spec = parse(json, "").map_err(|(path, msg)| Error::Parse {
        file: file.to_path_buf(),
        path,
        msg,
    })?;
    // Absolute and clean, as runc's bundle (its cwd) is.
    let abs = fs::canonicalize(bundle).map_err(|source| Error::Bundle {
        bundle: bundle.to_path_buf(),
        source,
    })?;
    let (plan, warnings) =
        validate::validate(&spec, &abs).map_err(|Invalid { path, msg }| Error::Invalid {
            file: file.to_path_buf(),
            path,
            msg,
        })?;
    Ok(Loaded { plan, warnings })
}

/// The value, or the (path, message) of the first problem. `shape_prefix`
/// is where the value sits in a config.json (`process.` for a process.json),
/// for the wording of unknown-name messages.
fn parse<T: DeserializeOwned>(json: &[u8], shape_prefix: &str) -> Result<T, (String, String)> {
    let de = &mut serde_json::Deserializer::from_slice(json);
    let spec: T =
        serde_path_to_error::deserialize(&mut *de).map_err(|e| describe(&e, shape_prefix))?;
    // Trailing garbage after the object is a syntax error too.
    de.end().map_err(|e| located(&e))?;
    Ok(spec)
}

/// A syntax error: where it is, and what.
fn located(e: &serde_json::Error) -> (String, String) {
    (format!("line {} column {}", e.line(), e.column()), bare(e))
}

fn describe(
    e: &serde_path_to_error::Error<serde_json::Error>,
    shape_prefix: &str,
) -> (String, String) {
    let inner = e.inner();
    if inner.classify() != Category::Data {
        return located(inner);
    }
    let path = e.path();
    let shown = if path.iter().next().is_none() {
        String::new()
    } else {
        path.to_string()
    };
    let shape = format!("{shape_prefix}{}", shape(path));
    (shown, friendly(&shape, bare(inner)))
}

/// serde_json's message without the " at line L column C" it appends.
fn bare(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    msg.strip_suffix(&suffix).map(str::to_string).unwrap_or(msg)
}

/// The path with indices erased, `linux.namespaces[].type`, to match on.
fn shape(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path {
        match seg {
            Segment::Seq { .. } => out.push_str("[]"),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// Rewrites an unknown-name message into one that says what the value
/// was meant to name; any other message is kept.
fn friendly(shape: &str, msg: String) -> String {
    let Some(value) = unknown_value(&msg) else {
        return msg;
    };
    let what = if shape == "linux.namespaces[].type" {
        "namespace"
    } else if shape.starts_with("process.capabilities.") {
        "capability"
    } else if shape == "process.rlimits[].type" {
        "rlimit"
    } else if shape.ends_with("devices[].type") {
        "device type"
    } else {
        "value"
    };
    format!("unknown {what} {value:?}")
}

/// The value in serde's "unknown variant `x`, expected …" or oci-spec's
/// capability error "no variant for x (converted to X)".
fn unknown_value(msg: &str) -> Option<&str> {
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let end = rest
            .rfind("`, expected")
            .or_else(|| rest.rfind("`, there are no variants"))?;
        return Some(&rest[..end]);
    }
    let rest = msg.strip_prefix("no variant for ")?;
    Some(&rest[..rest.rfind(" (converted to ")?])
}

#[cfg(test)]
mod tests;
