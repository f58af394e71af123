//! `linux.sysctl` when a namespace is joined by path: refused if that
//! namespace is berth's own (the host's), as runc does for the network
//! namespace (`validator.go` `sysctl`, `isHostNetNS`). A container without
//! the namespace at all is refused earlier, by the config validation.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::bail;
use berth_spec::plan::Plan;

/// Checks every sysctl whose namespace the container joins by path.
pub fn check(plan: &Plan) -> anyhow::Result<()> {
    for key in plan.sysctl.keys() {
        let Some(kind) = berth_spec::sysctl_namespace(key) else {
            continue;
        };
        let Some(path) = plan.namespace(kind).and_then(|ns| ns.join.as_deref()) else {
            continue;
        };
        let own = format!("/proc/self/ns/{}", kind.proc_name());
        if same_file(path, Path::new(&own)) {
            bail!(
                "linux.sysctl.{key}: the container joins the host's {} namespace ({}); refusing to change the host",
                kind.name(),
                path.display()
            );
        }
    }
    Ok(())
}

/// Whether two paths name the same inode (a namespace is a dev+inode pair).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
