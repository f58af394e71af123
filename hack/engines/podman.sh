# podman (Debian's 4.3, through conmon) with the runtime under test.
# Sourced by hack/test-engines.sh; uses hack/engines/lib.sh.
#
# podman gets its own storage (vfs), runroot, tmp dir, events log and
# containers.conf, all under PM_DIR; nothing of the machine's podman state
# is read or written. Host facts that shape the setup (see
# /work/shared/reference/host-notes.md):
# - a --runroot longer than 50 characters breaks conmon's cleanup, so
#   ENG_DIR is short;
# - `--runtime-flag root=` is not passed to conmon's cleanup command, so the
#   runtime is reached through a wrapper that adds `--root`;
# - no systemd: the cgroupfs manager; no journald: the file events logger;
# - podman's default nofile/nproc rlimits exceed what this machine lets a
#   process raise (no CAP_SYS_RESOURCE): containers.conf lowers them;
# - conmon stays in our cgroup (`cgroups = "no-conmon"`) and containers get
#   the relative parent ENG_TAG, so every container cgroup nests under ours.

PM_IMAGE=localhost/berth-engines-test

# pm ARGS...: podman with this run's private configuration.
pm() {
	TMPDIR="$PM_DIR/tmp" CONTAINERS_CONF="$PM_DIR/containers.conf" CONTAINERS_STORAGE_CONF="$PM_DIR/storage.conf" \
		timeout 60 podman --root "$PM_DIR/storage" --runroot "$PM_DIR/run" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --runtime "$PM_DIR/bin/runtime" "$@"
}

# pmr ARGS...: `podman run` of the test image nested under our cgroup.
pmr() { pm run --cgroup-parent "$ENG_TAG" "$@"; }

# _rlimit NAME: min(16384, this process's hard limit for `ulimit -H NAME`).
_rlimit() {
	local hard
	hard=$(ulimit -H "$1")
	if [ "$hard" = unlimited ] || [ "$hard" -gt 16384 ]; then hard=16384; fi
	echo "$hard"
}

podman_setup() {
	PM_DIR="$ENG_DIR/p"
	eng_on_exit podman_teardown
	mkdir -p "$PM_DIR/bin" "$PM_DIR/rt" "$PM_DIR/tmp" || return 1
	# podman keeps a blob-info cache there whatever --root says.
	[ -e /var/lib/containers ] || PM_MADE_VARLIB=1
	cat >"$PM_DIR/bin/runtime" <<-EOF
		#!/bin/sh
		echo "\$*" >>"$PM_DIR/runtime-args.log"
		exec "$ENG_RUNTIME" --root "$PM_DIR/rt" "\$@"
	EOF
	chmod 0755 "$PM_DIR/bin/runtime"
	local nofile nproc
	nofile=$(_rlimit -n)
	nproc=$(_rlimit -u)
	cat >"$PM_DIR/containers.conf" <<-EOF
		[containers]
		netns = "none"
		cgroups = "no-conmon"
		default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$PM_DIR/events.log"
		runtime = "under-test"
		tmp_dir = "$PM_DIR/tmp"
		image_copy_tmp_dir = "$PM_DIR/tmp"
		volume_path = "$PM_DIR/volumes"
		static_dir = "$PM_DIR/libpod"
		[engine.runtimes]
		under-test = ["$PM_DIR/bin/runtime"]
	EOF
	cat >"$PM_DIR/storage.conf" <<-EOF
		[storage]
		driver = "vfs"
		graphroot = "$PM_DIR/storage"
		runroot = "$PM_DIR/run"
	EOF
	pm import "$ENG_DIR/rootfs.tar" "$PM_IMAGE" || return 1
}

podman_teardown() {
	if [ -n "${PM_DIR:-}" ] && [ -d "$PM_DIR" ]; then
		pm rm -af -t 0 >/dev/null 2>&1 || true
		# conmon and anything it started carry a path under PM_DIR.
		eng_kill_matching "$PM_DIR/"
		cp "$PM_DIR/runtime-args.log" "$ENG_DIR/logs/podman-runtime-args.log" 2>/dev/null || true
		eng_unmount_under "$PM_DIR"
		rm -rf "$PM_DIR"
	fi
	if [ -n "${PM_MADE_VARLIB:-}" ]; then
		rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
		rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null || true
	fi
}

# pm_gone ID: podman and the runtime no longer know the container (full id).
pm_gone() {
	expect_eq "podman containers with id $1" "$(pm ps -aq --no-trunc | grep -cx "$1" || true)" 0
	if [ -e "$PM_DIR/rt/$1" ]; then
		find "$PM_DIR/rt/$1" -ls
		fail "runtime state $PM_DIR/rt/$1 left behind"
	fi
}

# pm_id NAME: the full container id.
pm_id() { pm inspect -f '{{.Id}}' "$1"; }

# pm_after_case: what a failed case left is removed before the next one.
pm_after_case() { pm rm -af -t 0 >/dev/null 2>&1 || true; }

# pm_pid NAME: host pid of the container's init.
pm_pid() { pm inspect -f '{{.State.Pid}}' "$1"; }

# pm_log_has NAME TEXT: the container's output contains TEXT.
pm_log_has() { pm logs "$1" 2>&1 | grep -qF -- "$2"; }

case_podman_run_rm() {
	local out
	out=$(pmr --rm "$PM_IMAGE" echo hello-from-podman)
	expect_eq "output" "$out" "hello-from-podman"
	expect_eq "containers left" "$(pm ps -aq)" ""
	expect_eq "runtime state root" "$(ls -A "$PM_DIR/rt")" ""
}

case_podman_exit_code() {
	local rc=0
	pmr --rm "$PM_IMAGE" sh -c 'exit 42' || rc=$?
	expect_eq "exit code" "$rc" 42
}

case_podman_detach_exec_stop_rm() {
	local pid id out rc=0
	pmr -d --name d1 "$PM_IMAGE" sh -c 'trap "exit 0" TERM; echo ready; while :; do sleep 0.2; done' >/dev/null
	wait_until 30 pm_log_has d1 ready
	pid=$(pm_pid d1)
	id=$(pm_id d1)
	out=$(pm exec d1 sh -c 'echo exec-ok; readlink /proc/self/ns/pid; exit 4') || rc=$?
	expect_eq "exec exit code" "$rc" 4
	expect_eq "exec output" "$out" "exec-ok
$(readlink "/proc/$pid/ns/pid")"
	# What conmon puts in the exec's process.json besides args.
	# shellcheck disable=SC2016 # expands in the container
	out=$(pm exec --user 1000:1000 -e EXEC_VAR=x1 -w /tmp d1 sh -c 'id -u; id -g; echo "$EXEC_VAR"; pwd')
	expect_eq "exec --user, -e, -w" "$(flat "$out")" "1000 1000 x1 /tmp"
	# A terminal: conmon hands the runtime a --console-socket for the exec too.
	out=$(pm exec -t d1 sh -c '[ -t 0 ] && [ -t 1 ] && tty' | tr -d '\r')
	expect_match "exec -t" "$out" '^/dev/pts/[0-9]+$'
	pm stop -t 30 d1 >/dev/null
	expect_eq "status after stop" "$(pm inspect -f '{{.State.Status}}' d1)" exited
	# 0 only if the TERM reached the trap (a KILL after the timeout is 137).
	expect_eq "exit code after stop" "$(pm inspect -f '{{.State.ExitCode}}' d1)" 0
	pm rm d1 >/dev/null
	[ ! -e "/proc/$pid" ] || fail "init $pid still exists"
	pm_gone "$id"
}

case_podman_user() {
	local out
	out=$(pmr --rm --user 1000:1000 "$PM_IMAGE" sh -c 'id -u; id -g; grep ^Uid: /proc/self/status')
	expect_match "ids" "$(flat "$out")" '^1000 1000 Uid: 1000 1000 1000 1000$'
}

case_podman_read_only() {
	local out
	out=$(pmr --rm --read-only "$PM_IMAGE" sh -c \
		'touch /x 2>/dev/null && echo root-writable || echo root-ro; touch /tmp/y && echo tmp-ok')
	expect_eq "output" "$out" "root-ro
tmp-ok"
}

case_podman_memory_pids() {
	local out
	out=$(pmr --rm --memory 64m --pids-limit 50 "$PM_IMAGE" sh -c \
		'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max')
	expect_eq "memory.limit_in_bytes, pids.max inside" "$(flat "$out")" "67108864 50"
}

case_podman_cap_drop_all() {
	local out
	out=$(pmr --rm --cap-drop ALL "$PM_IMAGE" grep -E '^Cap(Prm|Eff|Bnd|Amb):' /proc/self/status)
	expect_eq "capabilities" "$(flat "$out")" \
		"CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd: 0000000000000000 CapAmb: 0000000000000000"
}

case_podman_tty() {
	local out
	out=$(pmr --rm -t "$PM_IMAGE" sh -c '[ -t 0 ] && [ -t 1 ] && tty' | tr -d '\r')
	expect_match "tty" "$out" '^/dev/pts/[0-9]+$'
}

case_podman_env_workdir() {
	local out
	# shellcheck disable=SC2016 # expands in the container
	out=$(pmr --rm -e FOO=bar -w /tmp "$PM_IMAGE" sh -c 'echo "$FOO"; pwd; echo "$PATH"')
	expect_eq "env, cwd, image PATH" "$out" "bar
/tmp
/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

case_podman_seccomp() {
	local out
	# mkdir and mkdirat fail with EXDEV, an errno mkdir never returns by itself.
	cat >"$PM_DIR/seccomp.json" <<-'EOF'
		{"defaultAction": "SCMP_ACT_ALLOW",
		 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]}
	EOF
	out=$(pmr --rm --security-opt "seccomp=$PM_DIR/seccomp.json" "$PM_IMAGE" sh -c \
		'grep ^Seccomp: /proc/self/status; mkdir /tmp/x 2>&1; [ -d /tmp/x ] && echo made || echo not-made')
	expect_match "output" "$(flat "$out")" '^Seccomp: 2 .*[Cc]ross-device link not-made$'
}

case_podman_kill_signal() {
	local id
	pmr -d --name k1 "$PM_IMAGE" sh -c 'trap "echo got-usr1; exit 7" USR1; echo ready; while :; do sleep 0.2; done' >/dev/null
	wait_until 30 pm_log_has k1 ready
	id=$(pm_id k1)
	pm kill -s USR1 k1 >/dev/null
	expect_eq "exit code" "$(pm wait k1)" 7
	pm_log_has k1 got-usr1 || fail "no got-usr1 in the container's output"
	pm rm k1 >/dev/null
	pm_gone "$id"
}

case_podman_pause_unpause() {
	local pid id
	pmr -d --name p1 "$PM_IMAGE" sh -c "$COUNTER" >/dev/null
	pid=$(pm_pid p1)
	id=$(pm_id p1)
	wait_until 30 test -s "/proc/$pid/root/tmp/c"
	counter_moves "$pid"
	pm pause p1 >/dev/null
	expect_eq "status" "$(pm inspect -f '{{.State.Status}}' p1)" paused
	host_frozen "$pid" || fail "the container's cgroup is not frozen"
	counter_stopped "$pid"
	pm unpause p1 >/dev/null
	expect_eq "status" "$(pm inspect -f '{{.State.Status}}' p1)" running
	counter_moves "$pid"
	pm rm -f -t 0 p1 >/dev/null
	pm_gone "$id"
}

case_podman_uidmap() {
	local out
	out=$(pmr --rm --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$PM_IMAGE" sh -c \
		'cat /proc/self/uid_map /proc/self/gid_map; id -u')
	expect_eq "uid_map, gid_map, uid" "$(flat "$out")" "0 100000 65536 0 100000 65536 0"
}

# "name|function" of every podman case, in order.
PM_CASES=(
	"podman: run --rm echo|case_podman_run_rm"
	"podman: exit code|case_podman_exit_code"
	"podman: run -d, exec, stop, rm|case_podman_detach_exec_stop_rm"
	"podman: --user|case_podman_user"
	"podman: --read-only|case_podman_read_only"
	"podman: --memory and --pids-limit read back inside|case_podman_memory_pids"
	"podman: --cap-drop ALL|case_podman_cap_drop_all"
	"podman: -t|case_podman_tty"
	"podman: env and workdir|case_podman_env_workdir"
	"podman: --security-opt seccomp=profile|case_podman_seccomp"
	"podman: kill -s USR1|case_podman_kill_signal"
	"podman: pause and unpause (host-side counter)|case_podman_pause_unpause"
	"podman: --uidmap/--gidmap|case_podman_uidmap"
)

podman_cases() {
	eng_any_selected "${PM_CASES[@]}" || return 0
	# The setup runs in this shell (PM_DIR and its teardown must outlive the
	# case subshells); its case only reports on it.
	PM_READY=
	if podman_setup >"$ENG_DIR/logs/podman-setup.log" 2>&1; then PM_READY=1; fi
	BERTH_ENGINES_ONLY='' eng_case "podman: setup (own storage, runroot, containers.conf; image imported)" podman_setup_check
	[ -n "$PM_READY" ] || return 0
	ENG_AFTER_CASE=pm_after_case eng_cases "${PM_CASES[@]}"
}

podman_setup_check() {
	cat "$ENG_DIR/logs/podman-setup.log"
	[ -n "$PM_READY" ] || fail "podman setup failed"
}
