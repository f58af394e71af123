//! `linux.sysctl`: written into the container's own namespaces (through
//! the runtime's verified procfs handle), refused where it would change the
//! host: a namespace the container lacks, or the host's joined by path.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use berth_test_harness::{berth_only, json, require, unique_id, Bundle, Runtime};

const FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";

fn with_sysctl(b: Bundle, key: &str, value: &str) -> Bundle {
    b.set(&["linux"], "sysctl", json!({ key: value }))
}

#[test]
fn a_net_sysctl_reaches_the_containers_namespace_only() {
    require!(root);
    let host_before = fs::read_to_string(FORWARD).expect("host value");
    let want = if host_before.trim() == "1" { "0" } else { "1" };
    let b = with_sysctl(
        Bundle::busybox().sh(&format!("cat {FORWARD}")),
        "net.ipv4.ip_forward",
        want,
    );
    let rt = Runtime::new();
    assert_eq!(rt.run_ok(&b).trim(), want);
    assert_eq!(fs::read_to_string(FORWARD).unwrap(), host_before);
}

#[test]
fn an_ipc_sysctl_reaches_the_containers_namespace_only() {
    require!(root);
    let path = "/proc/sys/kernel/msgmax";
    let host_before = fs::read_to_string(path).expect("host value");
    let b = with_sysctl(
        Bundle::busybox().sh(&format!("cat {path}")),
        "kernel.msgmax",
        "4242",
    );
    let rt = Runtime::new();
    assert_eq!(rt.run_ok(&b).trim(), "4242");
    assert_eq!(fs::read_to_string(path).unwrap(), host_before);
}

/// `create` fails and leaves nothing; berth names the sysctl.
fn refused(b: &Bundle, needle: &str) {
    let rt = Runtime::new();
    let id = unique_id();
    let out = rt.create(&id, b, &[]).fails();
    rt.assert_no_residue(&id);
    berth_only!("runc words the error differently");
    assert!(out.stderr.contains(needle), "expected {needle:?}:\n{out}");
}

#[test]
fn a_net_sysctl_in_the_hosts_network_namespace_by_path_is_refused() {
    require!(root);
    let host_net = format!("/proc/{}/ns/net", std::process::id());
    let b = with_sysctl(
        Bundle::busybox()
            .args(["true"])
            .namespace("network", Some(Path::new(&host_net))),
        "net.ipv4.ip_forward",
        "1",
    );
    refused(
        &b,
        "linux.sysctl.net.ipv4.ip_forward: the container joins the host's network namespace",
    );
}

#[test]
fn a_net_sysctl_without_a_network_namespace_is_refused() {
    require!(root);
    let b = with_sysctl(
        Bundle::busybox()
            .args(["true"])
            .without_namespace("network"),
        "net.ipv4.ip_forward",
        "1",
    );
    refused(
        &b,
        "linux.sysctl.net.ipv4.ip_forward: requires a network namespace",
    );
}

#[test]
fn a_uts_sysctl_in_the_hosts_uts_namespace_by_path_is_refused() {
    require!(root);
    // runc 1.1.5 checks only the network namespace's path: it would set
    // the host's domainname.
    berth_only!("runc 1.1.5 writes uts sysctls into a joined host namespace");
    let host_uts = format!("/proc/{}/ns/uts", std::process::id());
    let b = with_sysctl(
        Bundle::busybox()
            .args(["true"])
            .namespace("uts", Some(Path::new(&host_uts))),
        "kernel.domainname",
        "berth-e2e-must-not-land",
    )
    .unset(&[], "hostname");
    refused(&b, "the container joins the host's uts namespace");
}
