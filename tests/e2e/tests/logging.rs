//! `--log FILE --log-format json`: the lines containerd's shim and podman
//! parse. Each line must be one JSON object with runc's (logrus's) keys
//! `level`, `msg` and `time` (RFC 3339); a failed command must leave its
//! error there as `level: "error"`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use berth_test_harness::{berth_only, json, require, temp_dir, unique_id, Bundle, Opts, Runtime};
use serde_json::Value;

/// Global flags for a JSON log at `path`.
fn json_log(path: &Path, debug: bool) -> Opts {
    let mut global = vec![
        "--log".to_string(),
        path.display().to_string(),
        "--log-format".into(),
        "json".into(),
    ];
    if debug {
        global.push("--debug".into());
    }
    Opts {
        global,
        ..Opts::default()
    }
}

/// Every line of the log, parsed; panics on a line that is not a logrus
/// JSON object.
fn log_lines(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).expect("read log");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            for key in ["level", "msg", "time"] {
                assert!(v[key].is_string(), "no string {key:?} in {line}");
            }
            let time = v["time"].as_str().unwrap();
            assert!(is_rfc3339(time), "time is not RFC 3339: {line}");
            v
        })
        .collect()
}

/// `YYYY-MM-DDTHH:MM:SS` followed by optional fraction and a zone.
fn is_rfc3339(t: &str) -> bool {
    let b = t.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (t.ends_with('Z') || t[19..].contains('+') || t[19..].contains('-'))
}

#[test]
fn failed_create_leaves_its_error_in_the_json_log() {
    require!(root);
    let rt = Runtime::new();
    let dir = temp_dir("berth-e2e-log");
    let log = dir.path().join("log.json");
    let b = Bundle::busybox().set(&["process"], "cwd", json!("relative/cwd"));
    let id = unique_id();
    rt.create_with(&id, &b, &[], json_log(&log, false)).fails();
    rt.assert_no_residue(&id);
    let lines = log_lines(&log);
    let errors: Vec<&Value> = lines.iter().filter(|v| v["level"] == "error").collect();
    assert!(!errors.is_empty(), "no level=error line in {lines:?}");
    berth_only!("runc words the message differently");
    assert!(
        errors
            .iter()
            .any(|v| v["msg"].as_str().unwrap().contains("process.cwd")),
        "the error line does not name process.cwd: {errors:?}"
    );
}

#[test]
fn debug_log_of_a_run_is_all_json() {
    require!(root);
    let rt = Runtime::new();
    let dir = temp_dir("berth-e2e-log");
    let log = dir.path().join("log.json");
    let b = Bundle::busybox().args(["true"]);
    let id = unique_id();
    let out = rt.run_with(&id, &b, &[], json_log(&log, true));
    out.ok();
    rt.assert_no_residue(&id);
    let lines = log_lines(&log);
    assert!(!lines.is_empty(), "--debug wrote nothing to the log");
    assert!(
        lines.iter().all(|v| v["level"] != "error"),
        "errors in a good run: {lines:?}"
    );
}
