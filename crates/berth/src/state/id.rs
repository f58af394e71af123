//! Container ids: runc's rules, so an id is always one plain path
//! component under the state root.

/// Why an id was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidId {
    /// Empty string.
    #[error("invalid container id \"\": must not be empty")]
    Empty,
    /// Longer than a file name may be.
    #[error("invalid container id: longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// `.` or `..`, or a character outside `[A-Za-z0-9_+.-]`.
    #[error("invalid container id {id:?}: only letters, digits and _ + - . are allowed, and not \".\" or \"..\"")]
    Chars {
        /// The id given.
        id: String,
    },
}

/// The longest id: one file name (NAME_MAX).
pub const MAX_LEN: usize = 255;

/// Checks `id` against runc's `^[\w+\-\.]+$`, minus `.` and `..`.
pub fn validate(id: &str) -> Result<(), InvalidId> {
    if id.is_empty() {
        return Err(InvalidId::Empty);
    }
    if id.len() > MAX_LEN {
        return Err(InvalidId::TooLong { max: MAX_LEN });
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.');
    if id == "." || id == ".." || !id.chars().all(allowed) {
        return Err(InvalidId::Chars { id: id.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_runc_ids() {
        for id in ["c1", "a.b-c_d+e", "0123456789abcdef", "..x"] {
            assert_eq!(validate(id), Ok(()), "{id}");
        }
    }

    #[test]
    fn refuses_paths_and_oddities() {
        for id in [".", "..", "a/b", "../x", "/abs", "sp ace", "tab\t", "ünï"] {
            assert!(matches!(validate(id), Err(InvalidId::Chars { .. })), "{id}");
        }
        assert_eq!(validate(""), Err(InvalidId::Empty));
        assert_eq!(
            validate(&"x".repeat(256)),
            Err(InvalidId::TooLong { max: 255 })
        );
    }
}
