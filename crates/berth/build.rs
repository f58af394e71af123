//! Link-time layout of the `berth` binary: the functions a container's
//! life runs are placed side by side (`symbol-order.txt`, written by
//! `hack/symbol-order.sh`), so every berth process maps fewer page-cache
//! folios of text: peak RSS and page faults (docs/performance.md,
//! "Start-up").
//!
//! rust-lld, the default linker of x86_64-unknown-linux-gnu since Rust
//! 1.90, takes the ordering file; GNU ld does not know the option, so the
//! file is only passed for that target and when RUSTFLAGS choose no other
//! linker. `BERTH_NO_SYMBOL_ORDER=1` leaves it out; symbols the file names
//! that no longer exist are ignored, so a stale file costs only the gain.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=symbol-order.txt");
    println!("cargo:rerun-if-env-changed=BERTH_NO_SYMBOL_ORDER");
    let target = env::var("TARGET").unwrap_or_default();
    let rustflags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let other_linker = rustflags.split('\x1f').any(|f| {
        let f = f.trim_start_matches("-C");
        f.starts_with("linker=")
            || f.starts_with("linker-flavor=")
            || f.contains("linker-features=-lld")
            || f.contains("link-self-contained=-linker")
    });
    let opted_out = env::var_os("BERTH_NO_SYMBOL_ORDER").is_some_and(|v| !v.is_empty());
    if target != "x86_64-unknown-linux-gnu" || other_linker || opted_out {
        return;
    }
    let Ok(dir) = env::var("CARGO_MANIFEST_DIR") else {
        return;
    };
    let file = format!("{dir}/symbol-order.txt");
    if std::path::Path::new(&file).is_file() {
        println!("cargo:rustc-link-arg-bin=berth=-Wl,--symbol-ordering-file={file}");
        println!("cargo:rustc-link-arg-bin=berth=-Wl,--no-warn-symbol-ordering");
    }
}
