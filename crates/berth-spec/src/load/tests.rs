use std::path::Path;

use serde_json::json;

use super::*;
use crate::validate::testutil::{minimal, Bundle};

/// The (path, msg) of the `Parse` error `json` gives.
fn parse_err(json: &str) -> (String, String) {
    let b = Bundle::new();
    match load_str(json, &b.path(), Path::new("b/config.json")) {
        Err(Error::Parse { path, msg, file }) => {
            assert_eq!(file, Path::new("b/config.json"));
            (path, msg)
        }
        other => panic!("expected Parse, got {other:?}"),
    }
}

fn with(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut c = minimal();
    edit(&mut c);
    c.to_string()
}

fn pair(path: &str, msg: &str) -> (String, String) {
    (path.to_string(), msg.to_string())
}

#[test]
fn load_reads_bundle_config() {
    let b = Bundle::new();
    fs::write(b.path().join("config.json"), minimal().to_string()).unwrap();
    let plan = load(&b.path()).unwrap();
    assert_eq!(plan.bundle, b.path());
    assert_eq!(plan.root.path, b.path().join("rootfs"));
    assert!(load_with_warnings(&b.path()).unwrap().warnings.is_empty());
}

#[test]
fn missing_file_is_a_read_error() {
    let b = Bundle::new();
    let bundle = b.path().join("nope");
    let e = load(&bundle).unwrap_err();
    assert!(matches!(&e, Error::Read { file, .. } if *file == bundle.join("config.json")));
    assert_eq!(
        e.to_string(),
        format!("read {}/config.json", bundle.display())
    );
}

#[test]
fn syntax_error_gives_line_and_column() {
    assert_eq!(
        parse_err("{\n  \"ociVersion\": \"1.0.0\",\n    x\n}"),
        pair("line 3 column 5", "key must be a string")
    );
    assert_eq!(
        parse_err("not json"),
        pair("line 1 column 2", "expected ident")
    );
    assert_eq!(
        parse_err("{\"ociVersion\": \"1.0.0\""),
        pair("line 1 column 22", "EOF while parsing an object")
    );
    assert_eq!(
        parse_err("{} {}"),
        pair("line 1 column 4", "trailing characters")
    );
}

#[test]
fn type_error_names_the_json_path() {
    let json = with(|c| c["process"]["user"]["uid"] = json!("root"));
    assert_eq!(
        parse_err(&json),
        pair(
            "process.user.uid",
            "invalid type: string \"root\", expected u32"
        )
    );
    let json = with(|c| {
        c["process"]
            .as_object_mut()
            .unwrap()
            .remove("cwd")
            .map(drop)
            .unwrap()
    });
    assert_eq!(parse_err(&json), pair("process", "missing field `cwd`"));
    assert_eq!(
        parse_err("1"),
        pair("", "invalid type: integer `1`, expected struct Spec")
    );
}

#[test]
fn unknown_namespace_is_named() {
    let json = with(|c| {
        c["linux"]["namespaces"] =
            json!([{"type": "mount"}, {"type": "pid"}, {"type": "ipc"}, {"type": "pidd"}]);
    });
    assert_eq!(
        parse_err(&json),
        pair("linux.namespaces[3].type", "unknown namespace \"pidd\"")
    );
}

#[test]
fn unknown_capability_is_named() {
    let json =
        with(|c| c["process"]["capabilities"] = json!({"effective": ["CAP_CHOWN", "CAP_FOO"]}));
    assert_eq!(
        parse_err(&json),
        pair(
            "process.capabilities.effective[1]",
            "unknown capability \"CAP_FOO\""
        )
    );
}

#[test]
fn unknown_rlimit_is_named() {
    let json =
        with(|c| c["process"]["rlimits"] = json!([{"type": "RLIMIT_FOO", "soft": 1, "hard": 1}]));
    assert_eq!(
        parse_err(&json),
        pair("process.rlimits[0].type", "unknown rlimit \"RLIMIT_FOO\"")
    );
}

#[test]
fn unknown_device_type_is_named() {
    let json = with(|c| c["linux"]["devices"] = json!([{"path": "/dev/x", "type": "x"}]));
    assert_eq!(
        parse_err(&json),
        pair("linux.devices[0].type", "unknown device type \"x\"")
    );
}

#[test]
fn other_unknown_enum_value_is_named() {
    let json = with(|c| c["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_FOO"}));
    assert_eq!(
        parse_err(&json),
        pair(
            "process.ioPriority.class",
            "unknown value \"IOPRIO_CLASS_FOO\""
        )
    );
}

#[test]
fn unknown_properties_are_ignored() {
    let mut c = minimal();
    c["futureField"] = json!({"anything": [1, 2]});
    c["process"]["futureField"] = json!(true);
    c["process"]["user"]["futureField"] = json!(1);
    c["linux"]["futureField"] = json!("x");
    c["linux"]["namespaces"][0]["futureField"] = json!(null);
    c["root"]["futureField"] = json!(1);
    c["mounts"] = json!([{"destination": "/proc", "type": "proc", "futureField": 1}]);
    let mut same = minimal();
    same["mounts"] = json!([{"destination": "/proc", "type": "proc"}]);
    let b = Bundle::new();
    assert_eq!(b.plan(&c), b.plan(&same));
}

#[test]
fn invalid_error_names_the_file() {
    let b = Bundle::new();
    let mut c = minimal();
    c["process"]["cwd"] = json!("tmp");
    let e = load_str(&c.to_string(), &b.path(), Path::new("b/config.json")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "b/config.json: process.cwd: must be an absolute path, got \"tmp\""
    );
}

#[test]
fn missing_bundle_is_a_bundle_error() {
    let b = Bundle::new();
    let gone = b.path().join("gone");
    let e = load_str(&minimal().to_string(), &gone, &gone.join("config.json")).unwrap_err();
    assert_eq!(e.to_string(), format!("resolve bundle {}", gone.display()));
}

/// The error a process.json gives, as printed.
fn process_err(json: &serde_json::Value) -> String {
    load_process_bytes(json.to_string().as_bytes(), Path::new("p/process.json"))
        .expect_err("invalid process.json")
        .to_string()
}

#[test]
fn process_json_is_the_process_object_alone() {
    let p = json!({"args": ["sh"], "cwd": "/", "user": {"uid": 1, "gid": 2},
        "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 5, "hard": 6}],
        "apparmorProfile": ""});
    let got = load_process_bytes(p.to_string().as_bytes(), Path::new("process.json")).unwrap();
    assert_eq!(got.args, ["sh"]);
    assert_eq!((got.user.uid, got.user.gid), (1, 2));
    assert_eq!(got.rlimits[0].name, "RLIMIT_NOFILE");
    assert_eq!(got.apparmor_profile, None, "\"\" means no profile");
}

#[test]
fn process_json_errors_name_the_path_inside_that_file() {
    let base = json!({"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}});
    let mut p = base.clone();
    p["args"] = json!([]);
    assert_eq!(process_err(&p), "p/process.json: args: must not be empty");
    let mut p = base.clone();
    p["user"]["uid"] = json!("root");
    assert!(
        process_err(&p).starts_with("p/process.json: user.uid: invalid type"),
        "{}",
        process_err(&p)
    );
    let mut p = base.clone();
    p["capabilities"] = json!({"bounding": ["CAP_KILL", "CAP_NOPE"]});
    assert_eq!(
        process_err(&p),
        "p/process.json: capabilities.bounding[1]: unknown capability \"CAP_NOPE\""
    );
    let mut p = base;
    p["cwd"] = json!("tmp");
    assert_eq!(
        process_err(&p),
        "p/process.json: cwd: must be an absolute path, got \"tmp\""
    );
    assert_eq!(
        load_process_bytes(b"{\"args\": [", Path::new("p/process.json"))
            .expect_err("syntax")
            .to_string(),
        "p/process.json: line 1 column 10: EOF while parsing a list"
    );
}

#[test]
fn a_plan_process_survives_a_round_trip_through_json() {
    let p = json!({"args": ["sh"], "cwd": "/", "user": {"uid": 1, "gid": 2, "additionalGids": [3]},
        "capabilities": {"bounding": ["CAP_KILL"]}, "noNewPrivileges": true,
        "rlimits": [{"type": "RLIMIT_CORE", "soft": 1, "hard": 2}]});
    let process = load_process_bytes(p.to_string().as_bytes(), Path::new("p.json")).unwrap();
    let text = serde_json::to_string(&process).unwrap();
    let back: crate::plan::Process = serde_json::from_str(&text).unwrap();
    assert_eq!(back, process);
}
