# Shared by hack/test-engines.sh and hack/engines/*.sh (source, do not run):
# the case runner, checks, bounded waits, the cleanup stack, and the cgroup
# dirs the engine tests create.
#
# Globals set by hack/test-engines.sh: ENG_DIR (private temp dir), ENG_TAG
# (unique name of the cgroup parent every container nests under),
# ENG_RUNTIME (the runtime binary under test).

# Hang guards, not speed checks: seconds one case may take, and seconds
# after which the remaining cases fail unrun (CI keeps this part ~5 min).
ENG_CASE_TIMEOUT=${BERTH_ENGINES_CASE_TIMEOUT:-90}
ENG_BUDGET=${BERTH_ENGINES_BUDGET:-240}
ENG_PASS=0
ENG_FAIL=0
ENG_SKIP=0
ENG_FAILED=()
ENG_CLEANUP=()

# eng_on_exit CMD: run CMD (a string, eval'd) at exit, last registered first.
eng_on_exit() { ENG_CLEANUP+=("$1"); }

# eng_cleanup: the EXIT trap. Runs every registered command even when some
# fail, so a failed case never leaves an engine running.
eng_cleanup() {
	local i
	for ((i = ${#ENG_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${ENG_CLEANUP[i]}" || echo "test-engines: cleanup step failed: ${ENG_CLEANUP[i]}" >&2
	done
	ENG_CLEANUP=()
}

# eng_case NAME FN [ARGS...]: runs FN in a subshell with `set -e`, its
# output in a log, and prints one line: PASS, FAIL (then the log) or
# SKIP (reason). BERTH_ENGINES_ONLY (an extended regex) selects cases.
# ENG_AFTER_CASE (a command) runs after the case, pass or fail: it removes
# what a failed case left, so one failure does not spill into the next.
eng_case() {
	local name=$1 log rc
	shift
	eng_selected "$name" || return 0
	log="$ENG_DIR/logs/${name//[^A-Za-z0-9_.-]/_}.log"
	rm -f "$ENG_DIR/skip-reason"
	if [ "$SECONDS" -ge "$ENG_BUDGET" ]; then
		echo "not run: the engine tests' time budget (BERTH_ENGINES_BUDGET=${ENG_BUDGET}s) is spent" >"$log"
		rc=124
	else
		eng_run_bounded "$log" "$@"
		rc=$ENG_RC
	fi
	if [ -n "${ENG_AFTER_CASE:-}" ]; then "$ENG_AFTER_CASE"; fi
	case $rc in
	0)
		ENG_PASS=$((ENG_PASS + 1))
		echo "PASS $name"
		;;
	77)
		ENG_SKIP=$((ENG_SKIP + 1))
		echo "SKIP($(cat "$ENG_DIR/skip-reason" 2>/dev/null)) $name"
		;;
	*)
		ENG_FAIL=$((ENG_FAIL + 1))
		ENG_FAILED+=("$name")
		echo "FAIL $name (exit $rc)"
		tail -n 40 "$log" | sed 's/^/    | /'
		;;
	esac
}

# eng_run_bounded LOG FN [ARGS...]: FN in a `set -e` subshell, output in
# LOG; killed by PID (TERM) after ENG_CASE_TIMEOUT seconds, so one hanging
# case cannot eat CI's time (each engine command also has its own timeout).
# Sets ENG_RC.
eng_run_bounded() {
	local log=$1 pid i
	shift
	set +e
	(
		set -euo pipefail
		"$@"
	) >"$log" 2>&1 </dev/null &
	pid=$!
	for ((i = 0; i < ENG_CASE_TIMEOUT * 5; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		echo "FAIL: case timed out after ${ENG_CASE_TIMEOUT}s (BERTH_ENGINES_CASE_TIMEOUT)" >>"$log"
	fi
	wait "$pid"
	ENG_RC=$?
	set -e
}

# eng_selected NAME: BERTH_ENGINES_ONLY is unset or matches NAME.
eng_selected() { [ -z "${BERTH_ENGINES_ONLY:-}" ] || [[ $1 =~ $BERTH_ENGINES_ONLY ]]; }

# eng_any_selected "NAME|FN"...: at least one of these cases is selected
# (else the engine is not even started).
eng_any_selected() {
	local c
	for c in "$@"; do
		eng_selected "${c%|*}" && return 0
	done
	return 1
}

# eng_cases "NAME|FN"...: eng_case for each.
eng_cases() {
	local c
	for c in "$@"; do
		eng_case "${c%|*}" "${c##*|}"
	done
}

# eng_skip REASON: ends the current case as SKIP(REASON). Only for what
# Debian's runc fails here too, or a host that lacks a tool.
eng_skip() {
	echo "$*" >"$ENG_DIR/skip-reason"
	exit 77
}

# fail MSG: ends the current case as FAIL.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1: got '$2', expected '$3'"
	fi
	echo "ok: $1 = '$2'"
}

# flat TEXT: TEXT's words on one line, single spaces.
flat() { tr -s ' \t\n' '   ' <<<"$1" | sed 's/^ //; s/ $//'; }

# expect_match WHAT TEXT ERE
expect_match() {
	if ! grep -Eq -- "$3" <<<"$2"; then
		fail "$1: '$2' does not match /$3/"
	fi
	echo "ok: $1 matches /$3/"
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds; fails
# the case after SECONDS. A hang guard, not a speed check.
wait_until() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 10; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	fail "timed out after ${limit}s waiting for: $*"
}

# counter_of PID: the value the counter loop in PID's container last wrote.
counter_of() { cat "/proc/$1/root/tmp/c"; }

# counter_moves PID: the counter advances (waits for it, bounded).
counter_moves() {
	local start
	start=$(counter_of "$1")
	wait_until 30 counter_differs "$1" "$start"
}
counter_differs() {
	local now
	now=$(counter_of "$1")
	[ -n "$now" ] && [ "$now" != "$2" ]
}

# counter_stopped PID: the counter stays put for 1.5 s (it ticks every 0.1 s).
counter_stopped() {
	local a b
	a=$(counter_of "$1")
	sleep 1.5
	b=$(counter_of "$1")
	expect_eq "counter while paused" "$b" "$a"
}

# host_frozen PID: PID's cgroup is frozen, by the v1 freezer (what runc uses
# on this hybrid host) or by cgroup2's cgroup.freeze.
host_frozen() {
	local v1 v2
	v1=$(host_cgroup_dir "$1" freezer) && [ "$(cat "$v1/freezer.state" 2>/dev/null)" = FROZEN ] && return 0
	v2=$(host_cgroup_dir "$1" unified) && [ "$(cat "$v2/cgroup.freeze" 2>/dev/null)" = 1 ] && return 0
	echo "not frozen: ${v1:-no v1 freezer}/freezer.state=$(cat "$v1/freezer.state" 2>/dev/null)," \
		"${v2:-no cgroup2}/cgroup.freeze=$(cat "$v2/cgroup.freeze" 2>/dev/null)" >&2
	return 1
}

# COUNTER: a loop writing a growing number to /tmp/c every 0.1 s (renamed
# into place, so a reader never sees a half-written file).
# shellcheck disable=SC2034,SC2016 # used by the engine files; expands in the container
COUNTER='i=0; while :; do i=$((i+1)); echo $i >/tmp/c.new; mv /tmp/c.new /tmp/c; sleep 0.1; done'

# host_cgroup_dir PID CONTROLLER: the host path of PID's cgroup in the v1
# hierarchy of CONTROLLER (or the cgroup2 one for "unified").
host_cgroup_dir() {
	local pid=$1 ctrl=$2 path mnt
	if [ "$ctrl" = unified ]; then
		path=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
		mnt=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i+1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
	else
		path=$(awk -F: -v c="$ctrl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")
		mnt=$(awk -v c="$ctrl" '{ for (i = 7; $i != "-"; i++); if ($(i+1) != "cgroup") next;
			n = split($(i+3), a, ","); for (j = 1; j <= n; j++) if (a[j] == c) { print $5; exit } }' /proc/self/mountinfo)
	fi
	[ -n "$mnt" ] && [ -n "$path" ] || return 1
	echo "$mnt${path%/}"
}

# eng_cgroup_cleanup: removes the ENG_TAG dirs under this process's own
# cgroup in every hierarchy (where relative cgroupsPaths nest), first
# killing by PID whatever is still in them.
eng_cgroup_cleanup() {
	local line ctrl first dir d pid
	while IFS= read -r line; do
		ctrl=${line#*:}
		ctrl=${ctrl%%:*}
		first=${ctrl%%,*}
		[ -n "$ctrl" ] || first=unified
		dir=$(host_cgroup_dir $$ "$first") || continue
		dir="$dir/$ENG_TAG"
		[ -d "$dir" ] || continue
		# A paused container's processes cannot die until thawed.
		if [ -f "$dir/freezer.state" ]; then
			find "$dir" -name freezer.state -exec sh -c 'echo THAWED >"$1"' _ {} \; 2>/dev/null || true
		fi
		while IFS= read -r d; do
			while read -r pid; do
				kill -KILL "$pid" 2>/dev/null || true
			done 2>/dev/null <"$d/cgroup.procs"
		done < <(find "$dir" -type d)
		find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null ||
			{ sleep 1 && find "$dir" -depth -type d -exec rmdir {} \; ; } ||
			echo "test-engines: could not remove cgroup $dir" >&2
	done </proc/self/cgroup
}

# eng_unmount_under DIR: unmounts every mount at or below DIR, deepest first.
eng_unmount_under() {
	local dir=$1 m
	[ -n "$dir" ] || return 0
	awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while IFS= read -r m; do
			umount -l "$m" 2>/dev/null || echo "test-engines: could not unmount $m" >&2
		done
}

# eng_stop_pid PID: TERM, up to 10 s to exit, then KILL; reaps it (PID is
# a child of this shell).
eng_stop_pid() {
	local i
	kill -TERM "$1" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# eng_kill_matching TEXT: kills by PID every process whose command line
# contains TEXT (a path unique to this run: the containerd socket), so
# shims this run started do not outlive it.
eng_kill_matching() {
	local text=$1 p
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = $$ ] && continue
		if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$text"; then
			kill -KILL "${p#/proc/}" 2>/dev/null || true
		fi
	done
}

# case_no_residue: after both engines are torn down, nothing the containers
# or engines made is left: no process in, and no container dir under, the
# ENG_TAG cgroups (the runtime may leave the empty parents it created: runc
# does), no process mentioning ENG_DIR, no mount under it.
case_no_residue() {
	local line ctrl dir d p left=""
	while IFS= read -r line; do
		ctrl=${line#*:}
		ctrl=${ctrl%%:*}
		ctrl=${ctrl%%,*}
		dir=$(host_cgroup_dir $$ "${ctrl:-unified}") || continue
		dir="$dir/$ENG_TAG"
		[ -d "$dir" ] || continue
		while IFS= read -r d; do
			[ -s "$d/cgroup.procs" ] && left+=" processes in $d;"
			case ${d#"$dir"} in "" | /pod1) ;; *) left+=" cgroup $d;" ;; esac
		done < <(find "$dir" -type d)
	done </proc/self/cgroup
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = $$ ] && continue
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$ENG_DIR/" && left+=" process ${p#/proc/}: $(tr '\0' ' ' <"$p/cmdline");"
	done
	left+=$(awk -v d="$ENG_DIR" 'index($5, d "/") == 1 { printf " mount %s;", $5 }' /proc/self/mountinfo)
	expect_eq "left behind" "$left" ""
}
