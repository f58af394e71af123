//! init's side of the hooks: ask the parent to run the runtime's hooks
//! before `pivot_root`, run `createContainer` there too, and
//! `startContainer` once `start` released init (see `crate::hooks`).

use anyhow::{bail, Context};
use berth_spec::state::{State, Status};

use super::InitContext;
use crate::hooks;
use crate::sync::Msg;

/// Before `pivot_root`, with the mounts in place: the parent runs
/// `prestart` and `createRuntime` in the runtime's namespaces, then init
/// runs `createContainer` in the container's. Returns the state for
/// `startContainer`; `None` when the config has no hook for init.
pub fn before_pivot(ctx: &InitContext<'_>) -> anyhow::Result<Option<State>> {
    if !ctx.plan.hooks.needed_by_init() {
        return Ok(None);
    }
    ctx.chan.send(&Msg::Hooks)?;
    let state = match ctx.chan.recv()? {
        Some(Msg::HooksDone { state }) => state,
        Some(other) => bail!("unexpected message from the parent: {other:?}"),
        None => bail!("the parent went away while running hooks"),
    };
    let hooks = &ctx.plan.hooks.create_container;
    hooks::run_all("createContainer", hooks, &state)?;
    Ok(Some(state))
}

/// After `start`, before the exec: `startContainer`, in the container,
/// with status `created` (as runc: the process has not started yet).
pub fn start_container(ctx: &InitContext<'_>, state: Option<State>) -> anyhow::Result<()> {
    let hooks = &ctx.plan.hooks.start_container;
    let (Some(mut state), false) = (state, hooks.is_empty()) else {
        return Ok(());
    };
    state.status = Status::Created;
    hooks::run_all("startContainer", hooks, &state).context("start")
}
