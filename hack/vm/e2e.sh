#!/bin/bash
# Run end-to-end test files inside the cgroup v2 VM (hack/vm/run.sh), one VM
# per file:
#
#   hack/vm/e2e.sh [OPTIONS] NAME... [-- TEST ARGS...]
#   hack/vm/e2e.sh lifecycle namespaces
#   BERTH_BIN=/usr/sbin/runc hack/vm/e2e.sh namespaces -- user_namespace
#
# NAME is a file tests/e2e/tests/NAME.rs. The test binaries are built on the
# host (cargo test --no-run -p berth-e2e; static executables) and run in the
# guest with BERTH_BIN (default: berth, built in release) and
# BERTH_E2E_STRICT=1; TEST ARGS go to each binary (a name filter, --skip).
# Options: --locked (passed to cargo), and run.sh's --apparmor (sets
# BERTH_E2E_APPARMOR=1 for the tests), --swap SIZE, --timeout SECS (per
# file, default 240; a file whose VM hangs runs again, up to twice). Prints each
# file's output and time, then a summary;
# exits 0 when every file passed.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" -ne 0 ]; then
	exec sudo -E "$0" "$@"
fi

cargo_flags=() vm_flags=() names=() timeout=240
while [ $# -gt 0 ]; do
	case $1 in
	--locked) cargo_flags+=(--locked) ;;
	--apparmor) vm_flags+=(--apparmor) ;;
	--swap) vm_flags+=(--swap "${2:?--swap needs a size}"); shift ;;
	--timeout) timeout=${2:?--timeout needs seconds}; shift ;;
	--) shift; break ;;
	-*) echo "vm/e2e: unknown option $1" >&2; exit 2 ;;
	*)
		[ -f "tests/e2e/tests/$1.rs" ] || { echo "vm/e2e: no test file tests/e2e/tests/$1.rs" >&2; exit 2; }
		names+=("$1")
		;;
	esac
	shift
done
[ ${#names[@]} -gt 0 ] || { echo "usage: hack/vm/e2e.sh [--locked] [--apparmor] [--swap SIZE] NAME... [-- TEST ARGS]" >&2; exit 2; }

if [ -z "${BERTH_BIN:-}" ]; then
	# shellcheck source=hack/lib.sh
	. hack/lib.sh
	BERTH_BIN=$(build_berth --release "${cargo_flags[@]}")
fi
case $BERTH_BIN in
/*) ;;
*) BERTH_BIN=$(command -v "$BERTH_BIN" || echo "$PWD/$BERTH_BIN") ;;
esac
[ -x "$BERTH_BIN" ] || { echo "vm/e2e: $BERTH_BIN is not executable" >&2; exit 1; }

# The test binaries, as cargo names them (the same build as hack/test-e2e.sh).
json=$(cargo test --no-run -p berth-e2e "${cargo_flags[@]}" --message-format=json-render-diagnostics)
declare -A exe=()
for n in "${names[@]}"; do
	exe[$n]=$(echo "$json" | grep -F '"kind":["test"]' | grep -F "\"name\":\"$n\"" |
		sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
	[ -n "${exe[$n]}" ] || { echo "vm/e2e: cargo built no test binary for $n" >&2; exit 1; }
done

BERTH_VM_KERNEL_DIR=$(hack/vm/kernel.sh)
export BERTH_VM_KERNEL_DIR
echo "vm/e2e: runtime $BERTH_BIN, kernel $(cat "$BERTH_VM_KERNEL_DIR/release"), ${vm_flags[*]:-no extra VM options}"
summary=() status=0
for n in "${names[@]}"; do
	echo "vm/e2e: === $n"
	start=$(date +%s)
	hangs=0
	while :; do
		rc=0
		hack/vm/run.sh "${vm_flags[@]}" --timeout "$timeout" \
			--env "BERTH_BIN=$BERTH_BIN" --env BERTH_E2E_STRICT=1 -- "${exe[$n]}" "$@" || rc=$?
		# 124: the guest itself hung: both vCPUs in a soft lockup under
		# software emulation, looping in the kernel's slab allocator under
		# a unix-socket write (docs/testing.md). Seen in about one in ten
		# of runc's files and, once, in berth's; every rerun passed. A third
		# hang fails the file.
		if [ "$rc" -ne 124 ] || [ "$hangs" -ge 2 ]; then
			break
		fi
		hangs=$((hangs + 1))
		echo "vm/e2e: $n: the VM hung (timeout ${timeout}s); running it again"
	done
	hung=
	[ "$hangs" -eq 0 ] || hung=" after $hangs hung VM(s)"
	secs=$(($(date +%s) - start))
	if [ "$rc" -eq 0 ]; then
		summary+=("$n: ok (${secs}s$hung)")
	else
		summary+=("$n: FAILED, exit $rc (${secs}s)")
		status=1
	fi
done
echo
for line in "${summary[@]}"; do echo "vm/e2e: $line"; done
exit "$status"
