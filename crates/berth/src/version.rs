//! `berth --version`, in runc's three-line shape, which go-runc parses.

/// The runtime-spec version berth implements.
pub const SPEC_VERSION: &str = "1.2.1";

/// `berth version X`, `commit: …`, `spec: …`.
pub fn text() -> String {
    let commit = option_env!("BERTH_COMMIT").unwrap_or("unknown");
    format!(
        "berth version {}\ncommit: {commit}\nspec: {SPEC_VERSION}",
        env!("CARGO_PKG_VERSION")
    )
}
