//! `process.terminal` with `--console-socket`: the runtime sends the pty
//! master over SCM_RIGHTS and the container's stdio is the slave.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth_test_harness::console::Pty;
use berth_test_harness::{berth_only, require, unique_id, Bundle, ConsoleSocket, Runtime};

/// `create --console-socket`, receive the pty master, `start`.
fn create_and_start_with_console(rt: &Runtime, b: &Bundle) -> (String, Pty) {
    let console = ConsoleSocket::new();
    let id = unique_id();
    let socket = console.path().to_string_lossy().into_owned();
    rt.create(&id, b, &["--console-socket", &socket]).ok();
    let pty = console.recv_master();
    rt.start(&id).ok();
    (id, pty)
}

#[test]
fn console_socket_receives_a_working_pty_master() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().terminal(true).args(["sh"]);
    let (id, mut pty) = create_and_start_with_console(&rt, &b);

    // Type commands into the terminal; `$((6*7))` proves the shell ran them
    // (the echo of the typed line shows the unexpanded text).
    pty.write("tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-is-a-tty; echo done-$((6*7))\n");
    let out = pty.read_until("done-42");
    assert!(out.contains("stdio-is-a-tty"), "{out:?}");
    let tty = out
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("/dev/pts/"))
        .unwrap_or_else(|| panic!("tty printed no /dev/pts/N: {out:?}"));
    assert!(tty["/dev/pts/".len()..].parse::<u32>().is_ok(), "{tty}");

    pty.write("exit 0\n");
    pty.read_to_eof();
    rt.wait_status(&id, "stopped");
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn stdio_is_the_pty_and_it_is_the_controlling_terminal() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .terminal(true)
        .sh("for f in 0 1 2; do readlink /proc/self/fd/$f; done; cut -d' ' -f7 /proc/self/stat; echo end-$((1+1))");
    let (id, mut pty) = create_and_start_with_console(&rt, &b);
    let out = pty.read_until("end-2");
    let lines: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // stdio all point at the same pts, and it is the controlling terminal
    // (tty_nr, field 7 of /proc/self/stat, is non-zero).
    assert!(lines.len() >= 4, "{out:?}");
    assert!(lines[0].starts_with("/dev/pts/"), "{out:?}");
    assert!(lines[1] == lines[0] && lines[2] == lines[0], "{out:?}");
    assert_ne!(lines[3], "0", "no controlling terminal: {out:?}");
    rt.wait_status(&id, "stopped");
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn run_without_console_socket_proxies_the_pty() {
    require!(root);
    let rt = Runtime::new();
    // In the foreground without --console-socket the runtime itself holds
    // the pty master and copies it to its own stdout.
    let b = Bundle::busybox()
        .terminal(true)
        .sh("tty; [ -t 1 ] && echo stdout-is-a-tty; echo done-$((6*7))");
    berth_only!("runc 1.1.5 insists on opening /dev/tty, so it needs a terminal of its own here");
    let id = unique_id();
    let out = rt.run(&id, &b).ok();
    assert!(out.stdout.contains("/dev/pts/"), "{out}");
    assert!(out.stdout.contains("stdout-is-a-tty"), "{out}");
    assert!(out.stdout.contains("done-42"), "{out}");
    rt.assert_no_residue(&id);
}
