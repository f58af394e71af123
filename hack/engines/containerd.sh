# containerd (Debian's 1.6, its runc v2 shim) and ctr with the runtime under
# test. Sourced by hack/test-engines.sh; uses hack/engines/lib.sh.
#
# containerd runs from its own config with its own root, state, socket and
# runc root under CD_DIR, its CRI plugin disabled; it is killed by PID at
# the end, and shims by the socket path they carry. Host facts (see
# /work/shared/reference/host-notes.md): containerd 1.6 hard-codes its shim
# sockets under /run/containerd/s (removed afterwards if this run created
# it); ctr's default spec has no cgroup mount and `ctr task pause` reports
# success from bookkeeping alone, so limits and freezing are checked from the
# host (cgroup files, a counter that stops). Every container gets a relative
# cgroupsPath under ENG_TAG, so it nests under our own cgroup.

CD_IMAGE=docker.io/library/berth-engines-test:latest

# cctr ARGS...: ctr against this run's containerd, in its own namespace.
cctr() { timeout 60 ctr --address "$CD_DIR/c.sock" --namespace berth-engines "$@"; }

# crun_ ID CTR-RUN-ARGS...: `ctr run` of the test image with the runtime
# under test (through an argument-logging wrapper) and a relative cgroup.
crun_() {
	local id=$1
	shift
	cctr run --runc-binary "$CD_DIR/bin/runtime" --runc-root "$CD_DIR/rt" --fifo-dir "$CD_DIR/fifo" \
		--cgroup "${CD_CGROUP:-$ENG_TAG/$id}" "$@"
}

containerd_setup() {
	CD_DIR="$ENG_DIR/c"
	eng_on_exit containerd_teardown
	mkdir -p "$CD_DIR/bin" "$CD_DIR/rt" "$CD_DIR/fifo" || return 1
	[ -d /run/containerd ] || CD_MADE_RUN_DIR=1
	cat >"$CD_DIR/bin/runtime" <<-EOF
		#!/bin/sh
		echo "\$*" >>"$CD_DIR/runtime-args.log"
		exec "$ENG_RUNTIME" "\$@"
	EOF
	chmod 0755 "$CD_DIR/bin/runtime"
	cat >"$CD_DIR/config.toml" <<-EOF
		version = 2
		root = "$CD_DIR/root"
		state = "$CD_DIR/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
		  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
		  "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing"]
		[grpc]
		  address = "$CD_DIR/c.sock"
		[ttrpc]
		  address = "$CD_DIR/c.sock.ttrpc"
	EOF
	containerd --config "$CD_DIR/config.toml" >"$CD_DIR/containerd.log" 2>&1 &
	CD_PID=$!
	local i
	for ((i = 0; i < 300; i++)); do
		cctr version >/dev/null 2>&1 && break
		kill -0 "$CD_PID" 2>/dev/null || { tail -n 20 "$CD_DIR/containerd.log"; return 1; }
		sleep 0.1
	done
	cctr version || return 1
	cctr image import "$ENG_DIR/image.oci.tar" || return 1
}

# ctr_remove_all: every task killed and deleted, every container removed.
ctr_remove_all() {
	local id
	for id in $(cctr task ls -q 2>/dev/null); do
		cctr task kill -a -s KILL "$id" >/dev/null 2>&1 || true
		cctr task delete -f "$id" >/dev/null 2>&1 || true
	done
	for id in $(cctr container ls -q 2>/dev/null); do
		cctr container rm "$id" >/dev/null 2>&1 || true
	done
}

# ctr_after_case: what a failed case left is removed before the next one.
ctr_after_case() { ctr_remove_all; }

containerd_teardown() {
	if [ -n "${CD_DIR:-}" ] && [ -d "$CD_DIR" ]; then
		if [ -n "${CD_PID:-}" ] && kill -0 "$CD_PID" 2>/dev/null; then
			ctr_remove_all
			eng_stop_pid "$CD_PID"
		fi
		CD_PID=
		# Shims (and what they still hold) carry our socket path.
		eng_kill_matching "$CD_DIR/c.sock"
		cp "$CD_DIR/runtime-args.log" "$ENG_DIR/logs/containerd-runtime-args.log" 2>/dev/null || true
		cp "$CD_DIR/containerd.log" "$ENG_DIR/logs/containerd.log" 2>/dev/null || true
		eng_unmount_under "$CD_DIR"
		rm -rf "$CD_DIR"
	fi
	if [ -n "${CD_MADE_RUN_DIR:-}" ]; then
		rmdir /run/containerd/s /run/containerd/fifo /run/containerd 2>/dev/null || true
	fi
}

# ctr_status ID: RUNNING, PAUSED, STOPPED... from `ctr task ls`.
ctr_status() { cctr task ls | awk -v id="$1" '$1 == id { print $3 }'; }
ctr_pid() { cctr task ls | awk -v id="$1" '$1 == id { print $2 }'; }
ctr_status_is() { [ "$(ctr_status "$1")" = "$2" ]; }

# ctr_gone ID: the task and container are deleted and the runtime no longer
# knows the id.
ctr_gone() {
	expect_eq "tasks named $1" "$(cctr task ls -q | grep -cx "$1" || true)" 0
	expect_eq "containers named $1" "$(cctr container ls -q | grep -cx "$1" || true)" 0
	[ ! -e "$CD_DIR/rt/berth-engines/$1" ] || fail "runtime state $CD_DIR/rt/berth-engines/$1 left behind"
}

case_ctr_run_exit_code() {
	local out rc=0
	out=$(crun_ r1 --rm "$CD_IMAGE" r1 sh -c 'echo hello-from-ctr; exit 3') || rc=$?
	expect_eq "output" "$out" hello-from-ctr
	expect_eq "exit code" "$rc" 3
	ctr_gone r1
}

case_ctr_exec_kill_delete() {
	local pid out rc=0
	crun_ x1 -d --null-io "$CD_IMAGE" x1 sh -c 'while :; do sleep 0.2; done'
	wait_until 30 ctr_status_is x1 RUNNING
	pid=$(ctr_pid x1)
	out=$(cctr task exec --fifo-dir "$CD_DIR/fifo" --exec-id e1 x1 sh -c 'echo exec-ok; readlink /proc/self/ns/pid; exit 4') || rc=$?
	expect_eq "exec exit code" "$rc" 4
	expect_eq "exec output" "$out" "exec-ok
$(readlink "/proc/$pid/ns/pid")"
	cctr task kill -s KILL x1
	wait_until 30 ctr_status_is x1 STOPPED
	out=$(cctr task delete x1 2>&1)
	expect_match "delete reports the exit status" "$out" 'exit code 137'
	cctr container rm x1
	[ ! -e "/proc/$pid" ] || fail "init $pid still exists"
	ctr_gone x1
}

case_ctr_pause_resume() {
	local pid
	crun_ p1 -d --null-io "$CD_IMAGE" p1 sh -c "$COUNTER"
	wait_until 30 ctr_status_is p1 RUNNING
	pid=$(ctr_pid p1)
	wait_until 30 test -s "/proc/$pid/root/tmp/c"
	counter_moves "$pid"
	cctr task pause p1
	expect_eq "status" "$(ctr_status p1)" PAUSED
	host_frozen "$pid" || fail "the container's cgroup is not frozen"
	counter_stopped "$pid"
	cctr task resume p1
	expect_eq "status" "$(ctr_status p1)" RUNNING
	counter_moves "$pid"
	cctr task kill -s KILL p1
	wait_until 30 ctr_status_is p1 STOPPED
	cctr task delete p1 >/dev/null 2>&1
	cctr container rm p1
	ctr_gone p1
}

case_ctr_memory_limit() {
	local pid dir
	crun_ m1 -d --null-io --memory-limit 67108864 "$CD_IMAGE" m1 sh -c 'while :; do sleep 0.2; done'
	wait_until 30 ctr_status_is m1 RUNNING
	pid=$(ctr_pid m1)
	dir=$(host_cgroup_dir "$pid" memory)
	expect_match "task cgroup" "$dir" "/$ENG_TAG/m1\$"
	expect_eq "host memory.limit_in_bytes" "$(cat "$dir/memory.limit_in_bytes")" 67108864
	cctr task kill -s KILL m1
	wait_until 30 ctr_status_is m1 STOPPED
	cctr task delete m1 >/dev/null 2>&1
	cctr container rm m1
	[ ! -d "$dir" ] || fail "cgroup $dir left behind"
	ctr_gone m1
}
