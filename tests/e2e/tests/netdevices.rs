//! `linux.netDevices`: a host interface moved into the container, renamed,
//! with its addresses, up, and reachable from a peer. Every interface and
//! namespace here is made by the test: a veth pair whose peer end lives in
//! a network namespace of the test's own (`ip netns add`), so no traffic
//! touches the host's namespace.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use berth_test_harness::{berth_only, json, require, unique_id, Bundle, Output, Runtime};

/// A veth pair: `host` end in the host's namespace (for the runtime to
/// move), `peer` end in the test's own namespace `netns`. Dropping it
/// removes whatever still exists.
struct Veth {
    host: String,
    peer: String,
    netns: String,
    /// Third octet of the pair's /24 in 10.199.0.0/16.
    net: usize,
}

fn ip(args: &[&str]) -> std::process::Output {
    Command::new("ip").args(args).output().expect("run ip(8)")
}

fn ip_ok(args: &[&str]) {
    let out = ip(args);
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Veth {
    fn new() -> Veth {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{:x}{n}", std::process::id() % 0xffff);
        let v = Veth {
            host: format!("bvh{tag}"),
            peer: format!("bvp{tag}"),
            netns: format!("berth-e2e-{tag}"),
            net: 1 + (std::process::id() as usize + n) % 250,
        };
        ip_ok(&["netns", "add", &v.netns]);
        ip_ok(&[
            "link", "add", &v.host, "type", "veth", "peer", "name", &v.peer, "netns", &v.netns,
        ]);
        ip_ok(&["-n", &v.netns, "addr", "add", &v.addr(2), "dev", &v.peer]);
        ip_ok(&["-n", &v.netns, "link", "set", &v.peer, "up"]);
        v
    }

    fn addr(&self, host: u8) -> String {
        format!("10.199.{}.{host}/24", self.net)
    }

    fn on_host(&self) -> bool {
        ip(&["link", "show", &self.host]).status.success()
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        if self.on_host() {
            ip(&["link", "del", &self.host]);
        }
        ip(&["netns", "del", &self.netns]);
    }
}

/// A container with `CAP_NET_RAW` (busybox ping opens a raw socket) that
/// gets `dev` as `name`.
fn bundle(dev: &str, name: &str, script: &str) -> Bundle {
    let mut b = Bundle::busybox()
        .set(&["linux"], "netDevices", json!({ dev: { "name": name } }))
        .sh(script);
    let caps = &mut b.config_mut()["process"]["capabilities"];
    for set in ["bounding", "effective", "permitted"] {
        caps[set].as_array_mut().unwrap().push(json!("CAP_NET_RAW"));
    }
    b
}

#[test]
fn a_veth_end_moves_in_renamed_with_its_address_and_reaches_its_peer() {
    require!(root);
    berth_only!("runc 1.1.5 ignores linux.netDevices (support came in runc 1.3)");
    let veth = Veth::new();
    ip_ok(&["addr", "add", &veth.addr(1), "dev", &veth.host]);
    let rt = Runtime::new();
    let peer = veth.addr(2);
    let peer_ip = peer.trim_end_matches("/24");
    let b = bundle(
        &veth.host,
        "ceth0",
        &format!(
            "cat /sys/class/net/ceth0/flags; ip -o -4 addr show ceth0; \
             ping -c 1 -W 5 {peer_ip} >/dev/null && echo reached"
        ),
    );
    let out = rt.run_ok(&b);
    let lines: Vec<&str> = out.lines().collect();
    let flags = lines
        .first()
        .and_then(|f| u32::from_str_radix(f.trim_start_matches("0x"), 16).ok())
        .unwrap_or_else(|| panic!("no ceth0 flags in {out}"));
    assert_eq!(flags & 1, 1, "IFF_UP is not set on ceth0: {out}");
    assert!(
        out.contains(&format!("inet {}", veth.addr(1))),
        "the address did not follow the interface: {out}"
    );
    assert_eq!(lines.last(), Some(&"reached"), "no ping across: {out}");
    // Never moved back (config-linux.md: the runtime MUST NOT): it went
    // with the container's namespace.
    assert!(!veth.on_host(), "{} is back on the host", veth.host);
}

/// `create` fails naming `field`, leaves nothing, and the interface stays
/// where it was.
#[track_caller]
fn refused(rt: &Runtime, b: &Bundle, field: &str) -> Output {
    let id = unique_id();
    let out = rt.create(&id, b, &[]).fails();
    rt.assert_no_residue(&id);
    assert!(
        out.stderr.contains(field),
        "error does not name {field}:\n{out}"
    );
    out
}

#[test]
fn a_missing_interface_is_a_clear_error() {
    require!(root);
    berth_only!("runc 1.1.5 ignores linux.netDevices");
    let rt = Runtime::new();
    let out = refused(
        &rt,
        &bundle("bvnosuch0", "eth0", "true"),
        "linux.netDevices.bvnosuch0",
    );
    assert!(out.stderr.contains("No such device"), "{out}");
}

#[test]
fn a_name_taken_inside_is_refused_and_the_interface_stays_on_the_host() {
    require!(root);
    berth_only!("runc 1.1.5 ignores linux.netDevices");
    let veth = Veth::new();
    let rt = Runtime::new();
    refused(&rt, &bundle(&veth.host, "lo", "true"), "linux.netDevices");
    assert!(veth.on_host(), "{} vanished from the host", veth.host);
}

#[test]
fn without_a_network_namespace_it_is_refused() {
    require!(root);
    berth_only!("runc 1.1.5 ignores linux.netDevices");
    let veth = Veth::new();
    let rt = Runtime::new();
    let b = bundle(&veth.host, "eth0", "true").without_namespace("network");
    refused(&rt, &b, "linux.netDevices");
    assert!(veth.on_host(), "{} vanished from the host", veth.host);
}

#[test]
fn joining_the_hosts_network_namespace_is_refused() {
    require!(root);
    berth_only!("runc 1.1.5 ignores linux.netDevices");
    let veth = Veth::new();
    let rt = Runtime::new();
    // The test's own network namespace is the host's.
    let host_ns = std::path::PathBuf::from(format!("/proc/{}/ns/net", std::process::id()));
    let b = bundle(&veth.host, "eth0", "true").namespace("network", Some(&host_ns));
    refused(&rt, &b, "host's network namespace");
    assert!(veth.on_host(), "{} vanished from the host", veth.host);
}
