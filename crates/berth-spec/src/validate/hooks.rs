//! `hooks`: path absolute, `timeout` positive, env `KEY=value`
//! (config.md "POSIX-platform Hooks").

use oci_spec::runtime::{Hook as OciHook, Hooks as OciHooks};

use super::{check_nul, list, Invalid, Result};
use crate::plan::{Hook, Hooks};

/// The hook kinds of config.md, all of which berth runs.
pub(crate) const KINDS: [&str; 6] = [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

/// Converts every hook list; an absent `hooks` is no hooks.
#[allow(deprecated)] // `prestart` is deprecated but still honoured (runc too).
pub(super) fn convert(hooks: Option<&OciHooks>) -> Result<Hooks> {
    let Some(h) = hooks else {
        return Ok(Hooks::default());
    };
    Ok(Hooks {
        prestart: kind("prestart", list(h.prestart()))?,
        create_runtime: kind("createRuntime", list(h.create_runtime()))?,
        create_container: kind("createContainer", list(h.create_container()))?,
        start_container: kind("startContainer", list(h.start_container()))?,
        poststart: kind("poststart", list(h.poststart()))?,
        poststop: kind("poststop", list(h.poststop()))?,
    })
}

fn kind(name: &str, hooks: &[OciHook]) -> Result<Vec<Hook>> {
    hooks
        .iter()
        .enumerate()
        .map(|(i, h)| hook(&format!("hooks.{name}[{i}]"), h))
        .collect()
}

fn hook(at: &str, h: &OciHook) -> Result<Hook> {
    let path = h.path();
    if !path.is_absolute() {
        return Err(Invalid::new(
            format!("{at}.path"),
            format!("must be an absolute path, got {path:?}"),
        ));
    }
    check_nul(&path.to_string_lossy()).map_err(|m| Invalid::new(format!("{at}.path"), m))?;
    let args = list(h.args()).to_vec();
    for (i, a) in args.iter().enumerate() {
        check_nul(a).map_err(|m| Invalid::new(format!("{at}.args[{i}]"), m))?;
    }
    let env = list(h.env()).to_vec();
    for (i, e) in env.iter().enumerate() {
        let field = format!("{at}.env[{i}]");
        check_nul(e).map_err(|m| Invalid::new(&field, m))?;
        if !e.contains('=') {
            return Err(Invalid::new(field, format!("must be KEY=value, got {e:?}")));
        }
    }
    let timeout = match h.timeout() {
        None => None,
        Some(t) => Some(u32::try_from(t).ok().filter(|&t| t > 0).ok_or_else(|| {
            Invalid::new(format!("{at}.timeout"), format!("must be > 0, got {t}"))
        })?),
    };
    Ok(Hook {
        path: path.clone(),
        args,
        env,
        timeout,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::validate::testutil::{invalid, minimal, Bundle};

    #[test]
    fn hooks_are_converted_in_order() {
        let mut c = minimal();
        c["hooks"] = json!({
            "createRuntime": [{"path": "/bin/a", "args": ["a", "1"], "env": ["K=v"], "timeout": 5}],
            "poststop": [{"path": "/bin/b"}, {"path": "/bin/c"}]
        });
        let plan = Bundle::new().load(&c).plan;
        let h = &plan.hooks;
        assert_eq!(h.create_runtime[0].args, ["a", "1"]);
        assert_eq!(h.create_runtime[0].env, ["K=v"]);
        assert_eq!(h.create_runtime[0].timeout, Some(5));
        assert_eq!(h.poststop.len(), 2);
        assert!(h.needed_by_init());
    }

    #[test]
    fn bad_hooks_name_their_field() {
        for (hooks, (want_path, want_msg)) in [
            (
                json!({"prestart": [{"path": "rel"}]}),
                ("hooks.prestart[0].path", "absolute"),
            ),
            (
                json!({"poststart": [{"path": "/x", "timeout": 0}]}),
                ("hooks.poststart[0].timeout", "> 0"),
            ),
            (
                json!({"poststop": [{"path": "/x"}, {"path": "/y", "env": ["NOEQ"]}]}),
                ("hooks.poststop[1].env[0]", "KEY=value"),
            ),
        ] {
            let mut c = minimal();
            c["hooks"] = hooks;
            let (path, msg) = invalid(&c);
            assert_eq!(path, want_path);
            assert!(msg.contains(want_msg), "{msg}");
        }
    }
}
