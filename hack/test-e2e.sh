#!/bin/bash
# Run berth's end-to-end suite (tests/e2e) against a runtime binary.
#
#   hack/test-e2e.sh [CARGO TEST ARGS...]           # builds berth, tests it
#   BERTH_BIN=/usr/sbin/runc hack/test-e2e.sh       # tests runc instead
#   hack/test-e2e.sh --test lifecycle -- kill       # a subset
#
# Needs root (real containers) and a static busybox (busybox-static).
# BERTH_E2E_STRICT=1 is set: a test that would skip for a missing host
# feature fails instead. berth-only checks (known runc differences) still
# print "SKIP (berth-only: ...)" against other runtimes and pass.
# Environment: BERTH_BIN, BERTH_PROFILE (release|debug, default release),
# CARGO_TARGET_DIR, BERTH_E2E_TIMEOUT (seconds per runtime command).
set -euo pipefail

cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		exec sudo -E "$0" "$@"
	fi
	echo "test-e2e: must run as root (containers need it)" >&2
	exit 1
fi

profile=${BERTH_PROFILE:-release}

if [ -z "${BERTH_BIN:-}" ]; then
	# shellcheck source=hack/lib.sh
	. hack/lib.sh
	if [ "$profile" = release ]; then
		BERTH_BIN=$(build_berth --release)
	else
		BERTH_BIN=$(build_berth)
	fi
fi
case $BERTH_BIN in
/*) ;;
*) BERTH_BIN=$(command -v "$BERTH_BIN" || echo "$PWD/$BERTH_BIN") ;;
esac
[ -x "$BERTH_BIN" ] || { echo "test-e2e: $BERTH_BIN is not executable" >&2; exit 1; }
export BERTH_BIN
export BERTH_E2E_STRICT=1

skips=$(mktemp /tmp/berth-e2e-skips.XXXXXX)
log=$(mktemp /tmp/berth-e2e-log.XXXXXX)
trap 'rm -f "$skips" "$log"' EXIT
export BERTH_E2E_SKIP_LOG=$skips

echo "test-e2e: runtime $BERTH_BIN ($("$BERTH_BIN" --version 2>/dev/null | head -n1))"
# Report every failing test binary, not just the first.
args=("$@")
case " $* " in *" --no-fail-fast "*) ;; *) args=(--no-fail-fast "${args[@]}") ;; esac
status=0
cargo test -p berth-test-harness -p berth-e2e "${args[@]}" 2>&1 | tee "$log" || status=$?

# Sum libtest's per-binary "test result: ... N passed; M failed" lines.
sum() { { grep '^test result:' "$log" || true; } | { grep -Eo "[0-9]+ $1" || true; } | awk '{s+=$1} END {print s+0}'; }
passed=$(sum passed)
failed=$(sum failed)
berth_only=$(grep -c '^SKIP (berth-only' "$skips" || true)
skipped=$(grep -vc '^SKIP (berth-only' "$skips" || true)

echo
echo "test-e2e: runtime $BERTH_BIN"
if [ "$berth_only" -gt 0 ]; then
	echo "test-e2e: berth-only checks not run against this runtime:"
	sed 's/^/  /' "$skips" | grep 'berth-only' | sort
fi
echo "test-e2e: $berth_only tests stopped at a berth-only check (what came before it ran)"
echo "test-e2e: $passed passed, $failed failed, $skipped skipped"
exit "$status"
