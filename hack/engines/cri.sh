# The Kubernetes path as far as this machine allows without crictl (Debian
# does not package it): what containerd's CRI plugin does with a pod, done
# by hand through ctr. Sourced by hack/test-engines.sh; uses
# hack/engines/containerd.sh.
#
# A pod is a sandbox container plus containers that join the sandbox's
# namespaces by `path` and share one cgroupsPath parent. When such a
# container (no pid namespace of its own) exits, the shim runs
# `RUNTIME kill --all ID 9`, and the CRI plugin asks for a `kill --all` of
# the stopped task too; runc answers both with success. If the runtime
# fails them, the container is never seen to finish exiting and
# `crictl stop` hangs.

# ns_links PID: PID's net, ipc, uts and pid namespace links, one line each.
ns_links() {
	local n
	for n in net ipc uts pid; do readlink "/proc/$1/ns/$n"; done
}

case_cri_pod_join_by_path() {
	local sb c out pod
	pod="$ENG_TAG/pod1"
	CD_CGROUP="$pod/sandbox" crun_ sb -d --null-io "$CD_IMAGE" sb \
		sh -c 'trap "exit 0" TERM; while :; do sleep 0.2; done'
	wait_until 30 ctr_status_is sb RUNNING
	sb=$(ctr_pid sb)
	# shellcheck disable=SC2016 # $n expands in the container
	CD_CGROUP="$pod/c1" crun_ c1 -d --log-uri "file://$CD_DIR/c1.out" \
		--with-ns "network:/proc/$sb/ns/net" --with-ns "ipc:/proc/$sb/ns/ipc" \
		--with-ns "uts:/proc/$sb/ns/uts" --with-ns "pid:/proc/$sb/ns/pid" \
		"$CD_IMAGE" c1 sh -c 'for n in net ipc uts pid; do readlink /proc/self/ns/$n; done; exit 7'
	wait_until 30 ctr_status_is c1 STOPPED
	c=$(ctr_pid c1)
	# The shim copies the output to the file on its own time.
	wait_until 30 grep -q '^pid:' "$CD_DIR/c1.out"
	expect_eq "namespaces seen inside the pod container" "$(cat "$CD_DIR/c1.out")" "$(ns_links "$sb")"
	wait_until 30 test ! -e "/proc/$c"
	echo "ok: the pod container's init $c was reaped"
	# What the CRI plugin does after every task exit.
	cctr task kill --all -s KILL c1 || fail "kill --all of the stopped task failed"
	grep -Eq '(^| )kill (--all|-a) c1 (9|KILL)$' "$CD_DIR/runtime-args.log" ||
		fail "the runtime was never asked to kill --all c1 9: $(cat "$CD_DIR/runtime-args.log")"
	out=$(cctr task delete c1 2>&1)
	expect_match "delete reports the exit status" "$out" 'exit code 7'
	cctr container rm c1
	ctr_gone c1
	[ ! -d "$(host_cgroup_dir $$ memory)/$pod/c1" ] || fail "cgroup of c1 left behind"
	expect_eq "sandbox after the pod container exited" "$(ctr_status sb)" RUNNING
	cctr task kill -s TERM sb
	wait_until 30 ctr_status_is sb STOPPED
	cctr task delete sb >/dev/null
	cctr container rm sb
	ctr_gone sb
}

# "name|function" of every containerd case, in order.
CD_CASES=(
	"containerd: ctr run, exit code|case_ctr_run_exit_code"
	"containerd: detached task, task exec, kill, delete|case_ctr_exec_kill_delete"
	"containerd: task pause and resume (host-side counter)|case_ctr_pause_resume"
	"containerd: --memory-limit in the task's cgroup|case_ctr_memory_limit"
	"containerd (CRI-like): pod container joins namespaces by path, exits, reaped, kill --all|case_cri_pod_join_by_path"
)

containerd_cases() {
	eng_any_selected "${CD_CASES[@]}" || return 0
	CD_READY=
	if containerd_setup >"$ENG_DIR/logs/containerd-setup.log" 2>&1; then CD_READY=1; fi
	BERTH_ENGINES_ONLY='' eng_case "containerd: setup (own config, root, state, socket; image imported)" containerd_setup_check
	[ -n "$CD_READY" ] || return 0
	ENG_AFTER_CASE=ctr_after_case eng_cases "${CD_CASES[@]}"
}

containerd_setup_check() {
	cat "$ENG_DIR/logs/containerd-setup.log"
	[ -n "$CD_READY" ] || fail "containerd setup failed"
}
