//! Bounded waiting. These are safety nets against hangs, never assertions
//! about speed: the limits are generous and only turn a hang into a failure.

use std::time::{Duration, Instant};

/// How long one runtime command may take before it is killed (by PID) and
/// the test fails: `$BERTH_E2E_TIMEOUT` seconds, 120 by default.
pub fn command_timeout() -> Duration {
    std::env::var("BERTH_E2E_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(120))
}

/// How long a condition may take to become true (a container reaching a
/// state, a process disappearing): a quarter of [`command_timeout`].
pub fn condition_timeout() -> Duration {
    command_timeout() / 4
}

/// Polls `cond` until it returns true; panics naming `what` if it never does.
#[track_caller]
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + condition_timeout();
    let mut pause = Duration::from_millis(1);
    loop {
        if cond() {
            return;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Like [`eventually`], but returns the last value seen when the condition
/// failed to hold, so the panic message can show it.
#[track_caller]
pub fn eventually_with<T: std::fmt::Debug>(
    what: &str,
    mut probe: impl FnMut() -> T,
    mut cond: impl FnMut(&T) -> bool,
) -> T {
    let deadline = Instant::now() + condition_timeout();
    let mut pause = Duration::from_millis(1);
    loop {
        let v = probe();
        if cond(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting for {what}; last seen: {v:?}"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
