//! `linux.netDevices`: move a host interface into the container's network
//! namespace (config-linux.md "Network Devices").
//!
//! The spec asks for three things: the move may fail and must be reported
//! (a name already taken inside is an error unless it is a `%d` template);
//! the interface keeps its attributes and its permanent, global addresses;
//! it is up once inside. The kernel moves the link and renames it in one
//! `RTM_NEWLINK`, but drops its addresses on the way, so they are read
//! first and added again inside. Nothing is moved back at delete: the spec
//! says the namespace's owner manages the interface from then on.

mod rtnl;

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope,
};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sched::{setns, CloneFlags};
use nix::sys::stat::Mode;

use rtnl::Rtnl;

/// A step of moving one interface that failed.
#[derive(Debug, thiserror::Error)]
#[error("{step} {device}")]
pub struct Error {
    /// What was attempted, e.g. `"move into the container's namespace"`.
    pub step: &'static str,
    /// The interface concerned (host name, or the name inside).
    pub device: String,
    /// What the kernel said.
    #[source]
    pub source: Errno,
}

fn fail<'a>(step: &'static str, device: &'a str) -> impl FnOnce(io::Error) -> Error + 'a {
    // Every failure here is the kernel's (or netlink's) errno; the rare
    // decode error has none and reads as EIO.
    move |e| Error {
        step,
        device: device.to_string(),
        source: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    }
}

/// Moves the host interface `host` into the network namespace `netns`,
/// named `name` there, with its permanent global addresses, and sets it
/// up. Runs in the host's network namespace and returns to it.
pub fn move_into(host: &str, name: &str, netns: BorrowedFd<'_>) -> Result<(), Error> {
    let mut outside = Rtnl::open().map_err(fail("open rtnetlink for", host))?;
    let index = link_index(&mut outside, host).map_err(fail("find interface", host))?;
    let addresses =
        permanent_addresses(&mut outside, index).map_err(fail("list the addresses of", host))?;
    let mut inside = open_in(netns).map_err(fail("open rtnetlink in the container for", name))?;
    // The kernel renames only after the move, so a clash would be found
    // with the device already gone from the host: look first.
    if !name.contains("%d") && link_index(&mut inside, name).is_ok() {
        return Err(fail("name already used in the container:", name)(
            io::Error::from_raw_os_error(libc::EEXIST),
        ));
    }
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.attributes = vec![
        LinkAttribute::NetNsFd(std::os::fd::AsRawFd::as_raw_fd(&netns)),
        LinkAttribute::IfName(name.to_string()),
    ];
    outside
        .request(RouteNetlinkMessage::NewLink(msg), 0)
        .map_err(fail("move into the container's network namespace:", host))?;
    // A `%d` template got its final name from the kernel: find the link by
    // the index it kept if it could, else by name.
    let index = link_index(&mut inside, name)
        .or_else(|_| find_index(&mut inside, index))
        .map_err(fail("find interface in the container", name))?;
    for mut addr in addresses {
        addr.header.index = index;
        inside
            .request(
                RouteNetlinkMessage::NewAddress(addr),
                NLM_F_CREATE | NLM_F_EXCL,
            )
            .map_err(fail("add an address in the container to", name))?;
    }
    let mut up = LinkMessage::default();
    up.header.index = index;
    up.header.flags = LinkFlags::Up;
    up.header.change_mask = LinkFlags::Up;
    inside
        .request(RouteNetlinkMessage::SetLink(up), 0)
        .map_err(fail("set up in the container", name))?;
    Ok(())
}

/// Opens an rtnetlink socket inside `netns`: a netlink socket belongs to
/// the namespace it was created in. berth is single-threaded, so switching
/// this thread's namespace and back affects nothing else.
fn open_in(netns: BorrowedFd<'_>) -> io::Result<Rtnl> {
    let home = open(
        "/proc/thread-self/ns/net",
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    setns(netns, CloneFlags::CLONE_NEWNET)?;
    let sock = Rtnl::open();
    // Not returning home would leave every later step in the container's
    // namespace: that is worth failing loudly for.
    setns(home.as_fd(), CloneFlags::CLONE_NEWNET)?;
    sock
}

/// The index of the interface called `name`.
fn link_index(rtnl: &mut Rtnl, name: &str) -> io::Result<u32> {
    let mut msg = LinkMessage::default();
    msg.attributes = vec![LinkAttribute::IfName(name.to_string())];
    let answers = rtnl.request(RouteNetlinkMessage::GetLink(msg), 0)?;
    answers
        .into_iter()
        .find_map(|m| match m {
            RouteNetlinkMessage::NewLink(link) => Some(link.header.index),
            _ => None,
        })
        .ok_or_else(|| io::Error::from_raw_os_error(libc::ENODEV))
}

/// Checks that interface `index` exists and returns it.
fn find_index(rtnl: &mut Rtnl, index: u32) -> io::Result<u32> {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    rtnl.request(RouteNetlinkMessage::GetLink(msg), 0)?;
    Ok(index)
}

/// The addresses of interface `index` the spec says must follow it:
/// permanent (`IFA_F_PERMANENT`) with global scope (`RT_SCOPE_UNIVERSE`).
fn permanent_addresses(rtnl: &mut Rtnl, index: u32) -> io::Result<Vec<AddressMessage>> {
    let answers = rtnl.request(
        RouteNetlinkMessage::GetAddress(AddressMessage::default()),
        NLM_F_DUMP,
    )?;
    Ok(answers
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewAddress(a) => Some(a),
            _ => None,
        })
        .filter(|a| a.header.index == index && keeps(a))
        .map(reusable)
        .collect())
}

/// Whether an address is permanent and global. The 32-bit `IFA_FLAGS`
/// attribute, when present, supersedes the header's 8 bits.
fn keeps(addr: &AddressMessage) -> bool {
    let permanent = addr
        .attributes
        .iter()
        .find_map(|a| match a {
            AddressAttribute::Flags(f) => Some(f.contains(AddressFlags::Permanent)),
            _ => None,
        })
        .unwrap_or(addr.header.flags.contains(AddressHeaderFlags::Permanent));
    permanent && addr.header.scope == AddressScope::Universe
}

/// The address as a request to add it: its address, local address,
/// broadcast and label; not the kernel's bookkeeping (cache info, flags of
/// its own state).
fn reusable(mut addr: AddressMessage) -> AddressMessage {
    addr.attributes.retain(|a| {
        matches!(
            a,
            AddressAttribute::Address(_)
                | AddressAttribute::Local(_)
                | AddressAttribute::Broadcast(_)
        )
    });
    addr.header.flags = AddressHeaderFlags::empty();
    addr
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(scope: AddressScope, flags: AddressFlags) -> AddressMessage {
        let mut a = AddressMessage::default();
        a.header.scope = scope;
        a.attributes = vec![
            AddressAttribute::Address(std::net::Ipv4Addr::new(10, 1, 2, 3).into()),
            AddressAttribute::Flags(flags),
            AddressAttribute::Label("veth0".into()),
        ];
        a
    }

    #[test]
    fn only_permanent_global_addresses_follow_the_interface() {
        assert!(keeps(&addr(
            AddressScope::Universe,
            AddressFlags::Permanent
        )));
        assert!(!keeps(&addr(AddressScope::Link, AddressFlags::Permanent)));
        assert!(!keeps(&addr(AddressScope::Universe, AddressFlags::empty())));
    }

    #[test]
    fn the_request_keeps_only_what_defines_the_address() {
        let a = reusable(addr(AddressScope::Universe, AddressFlags::Permanent));
        assert_eq!(a.attributes.len(), 1);
        assert!(matches!(a.attributes[0], AddressAttribute::Address(_)));
    }
}
