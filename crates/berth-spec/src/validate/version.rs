//! `ociVersion`: a SemVer 2.0.0 string whose major version berth supports.
//!
//! runtime-spec keeps compatibility within a major version, so every 1.x
//! config (1.0.0-rc5, 1.0.2-dev, 1.2.0…) is accepted and nothing else.
//! A dozen lines of parsing spare us a semver dependency.

use super::{Invalid, Result};

/// The only major version berth implements.
const MAJOR: u64 = 1;

/// Checks `ociVersion`.
pub(super) fn check(version: &str) -> Result<()> {
    if version.is_empty() {
        return Err(Invalid::new("ociVersion", "required"));
    }
    match major(version) {
        None => Err(Invalid::new(
            "ociVersion",
            format!("{version:?} is not a semantic version"),
        )),
        Some(MAJOR) => Ok(()),
        Some(_) => Err(Invalid::new(
            "ociVersion",
            format!("unsupported version {version:?} (berth supports {MAJOR}.x)"),
        )),
    }
}

/// The major version of a SemVer 2.0.0 string, `None` if it is not one.
fn major(v: &str) -> Option<u64> {
    let (v, build) = match v.split_once('+') {
        Some((v, b)) => (v, Some(b)),
        None => (v, None),
    };
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    if !build.is_none_or(|b| identifiers(b, false)) || !pre.is_none_or(|p| identifiers(p, true)) {
        return None;
    }
    let mut parts = core.split('.');
    let major = number(parts.next()?)?;
    number(parts.next()?)?;
    number(parts.next()?)?;
    parts.next().is_none().then_some(major)
}

/// A numeric part: digits, no leading zero.
fn number(s: &str) -> Option<u64> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits && (s == "0" || !s.starts_with('0')))
        .then(|| s.parse().ok())
        .flatten()
}

/// Dot-separated non-empty `[0-9A-Za-z-]` identifiers; in a pre-release a
/// purely numeric one must not have a leading zero.
fn identifiers(s: &str, pre_release: bool) -> bool {
    s.split('.').all(|id| {
        let ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let numeric = id.bytes().all(|b| b.is_ascii_digit());
        ok && !(pre_release && numeric && id.len() > 1 && id.starts_with('0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_1x() {
        for v in [
            "1.0.0",
            "1.0.2-dev",
            "1.2.0",
            "1.0.0-rc5",
            "1.1.0+dev",
            "1.0.0-rc.1+b.2",
        ] {
            assert_eq!(check(v), Ok(()), "{v}");
        }
    }

    #[test]
    fn rejects_other_majors() {
        assert_eq!(
            check("2.0.0"),
            Err(Invalid::new(
                "ociVersion",
                "unsupported version \"2.0.0\" (berth supports 1.x)"
            ))
        );
        assert!(check("0.5.0").is_err());
    }

    #[test]
    fn rejects_missing_and_malformed() {
        assert_eq!(check(""), Err(Invalid::new("ociVersion", "required")));
        for v in [
            "abc", "1", "1.0", "1.0.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.x", "1.0.0+",
        ] {
            assert_eq!(
                check(v),
                Err(Invalid::new(
                    "ociVersion",
                    format!("{v:?} is not a semantic version")
                )),
                "{v}"
            );
        }
    }
}
