use serde_json::json;

use crate::plan::{CapSet, User};
use crate::validate::testutil::{err, invalid, minimal, plan};

#[test]
fn process_is_optional_until_start() {
    let mut c = minimal();
    c.as_object_mut().unwrap().remove("process");
    let p = plan(&c);
    assert!(!p.process.is_present());
    assert_eq!(p.process.capabilities.bounding, CapSet(0));
}

#[test]
fn args_must_not_be_empty() {
    let mut c = minimal();
    c["process"]["args"] = json!([]);
    assert_eq!(invalid(&c), err("process.args", "must not be empty"));
    c["process"].as_object_mut().unwrap().remove("args");
    assert_eq!(invalid(&c), err("process.args", "must not be empty"));
}

#[test]
fn args_must_not_contain_nul() {
    let mut c = minimal();
    c["process"]["args"] = json!(["sh", "a\u{0}b"]);
    assert_eq!(
        invalid(&c),
        err(
            "process.args[1]",
            "must not contain a NUL byte, got \"a\\0b\""
        )
    );
}

#[test]
fn cwd_must_be_absolute() {
    let mut c = minimal();
    c["process"]["cwd"] = json!("tmp");
    assert_eq!(
        invalid(&c),
        err("process.cwd", "must be an absolute path, got \"tmp\"")
    );
}

#[test]
fn env_entries_need_an_equals_sign() {
    let mut c = minimal();
    c["process"]["env"] = json!(["PATH=/bin", "EMPTY=", "FOO"]);
    assert_eq!(
        invalid(&c),
        err("process.env[2]", "must be KEY=value, got \"FOO\"")
    );
    c["process"]["env"] = json!(["PATH=/bin", "EMPTY="]);
    assert_eq!(plan(&c).process.env, ["PATH=/bin", "EMPTY="]);
}

#[test]
fn defaults_when_absent() {
    let p = plan(&minimal()).process;
    assert!(!p.terminal);
    assert!(!p.no_new_privileges);
    assert_eq!(p.console_size, None);
    assert_eq!(p.oom_score_adj, None);
    assert!(p.env.is_empty());
    assert!(p.rlimits.is_empty());
    assert_eq!(
        p.user,
        User {
            uid: 0,
            gid: 0,
            umask: 0o022,
            additional_gids: vec![]
        }
    );
    assert_eq!(p.capabilities.bounding, CapSet(0));
}

#[test]
fn user_fields_are_copied() {
    let mut c = minimal();
    c["process"]["user"] =
        json!({"uid": 1000, "gid": 100, "umask": 0o077, "additionalGids": [5, 6]});
    assert_eq!(
        plan(&c).process.user,
        User {
            uid: 1000,
            gid: 100,
            umask: 0o077,
            additional_gids: vec![5, 6]
        }
    );
    c["process"]["user"]["umask"] = json!(0o1777);
    assert_eq!(
        invalid(&c),
        err("process.user.umask", "0o1777 has bits outside 0o777")
    );
}

#[test]
fn console_size_only_with_terminal() {
    let mut c = minimal();
    c["process"]["consoleSize"] = json!({"height": 24, "width": 80});
    assert_eq!(plan(&c).process.console_size, None);
    c["process"]["terminal"] = json!(true);
    assert_eq!(plan(&c).process.console_size, Some((24, 80)));
    c["process"]["consoleSize"]["width"] = json!(70000);
    assert_eq!(
        invalid(&c),
        err("process.consoleSize.width", "70000 is larger than 65535")
    );
}

#[test]
fn flags_are_copied() {
    let mut c = minimal();
    c["process"]["noNewPrivileges"] = json!(true);
    c["process"]["terminal"] = json!(true);
    c["process"]["oomScoreAdj"] = json!(-500);
    let p = plan(&c).process;
    assert!(p.no_new_privileges && p.terminal);
    assert_eq!(p.oom_score_adj, Some(-500));
    c["process"]["oomScoreAdj"] = json!(1001);
    assert_eq!(
        invalid(&c),
        err("process.oomScoreAdj", "1001 is outside -1000..=1000")
    );
}

#[test]
fn capabilities_become_masks() {
    let mut c = minimal();
    c["process"]["capabilities"] = json!({
        "bounding": ["CAP_CHOWN", "CAP_NET_RAW"],
        "ambient": ["CAP_BPF"]
    });
    let caps = plan(&c).process.capabilities;
    assert_eq!(caps.bounding, CapSet(1 | 1 << 13));
    assert_eq!(caps.ambient, CapSet(1 << 39));
    assert_eq!(caps.effective, CapSet(0));
}

#[test]
fn rlimits_are_numbered() {
    let mut c = minimal();
    c["process"]["rlimits"] = json!([
        {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}
    ]);
    let r = plan(&c).process.rlimits;
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].name, "RLIMIT_NOFILE");
    assert_eq!(r[0].resource, libc::RLIMIT_NOFILE);
    assert_eq!((r[0].soft, r[0].hard), (1024, 4096));
    assert_eq!(r[1].resource, libc::RLIMIT_CORE);
}

#[test]
fn every_rlimit_name_is_known() {
    for (name, resource) in crate::plan::RLIMITS {
        let mut c = minimal();
        c["process"]["rlimits"] = json!([{"type": name, "soft": 1, "hard": 2}]);
        assert_eq!(plan(&c).process.rlimits[0].resource, resource, "{name}");
    }
}

#[test]
fn duplicate_rlimit_is_rejected() {
    let mut c = minimal();
    c["process"]["rlimits"] = json!([
        {"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        {"type": "RLIMIT_NOFILE", "soft": 2, "hard": 2}
    ]);
    assert_eq!(
        invalid(&c),
        err("process.rlimits[2].type", "duplicate RLIMIT_NOFILE")
    );
}

#[test]
fn soft_above_hard_is_rejected() {
    let mut c = minimal();
    c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024}]);
    assert_eq!(
        invalid(&c),
        err(
            "process.rlimits[0].soft",
            "2048 is above the hard limit 1024"
        )
    );
}
