#!/bin/bash
# berth as the runtime of real engines: Debian's podman (through conmon) and
# containerd (through its runc v2 shim, driven by ctr), plus the namespace
# sharing containerd's CRI plugin does for a pod.
#
#   hack/test-engines.sh                          # builds berth, tests it
#   BERTH_BIN=/usr/sbin/runc hack/test-engines.sh # the reference runtime
#   BERTH_ENGINES_ONLY='podman: (pause|exec)' hack/test-engines.sh
#
# Needs root, podman, conmon, containerd and ctr (hack/install-deps.sh
# installs them) and busybox-static. Images are built here from busybox: a
# rootfs tar for `podman import`, an OCI archive for `ctr image import`; no
# registry is contacted. Each engine gets its own storage, state and socket
# dirs under one short private dir in /run, and everything started is
# stopped and removed at exit, also on failure (trap): containers, engines
# (containerd killed by PID), shims, mounts, cgroup dirs, files.
#
# Every case prints PASS, FAIL (with its log) or SKIP(reason); the script
# exits non-zero if any case failed. Environment: BERTH_BIN (runtime binary;
# unset: build berth), BERTH_PROFILE (release|debug), BERTH_ENGINES_ONLY
# (extended regex over case names), BERTH_ENGINES_KEEP=1 (keep the private
# dir's logs; engines are still stopped), BERTH_ENGINES_CASE_TIMEOUT and
# BERTH_ENGINES_BUDGET (hang guards, seconds: per case, whole script).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 && exec sudo -E "$0" "$@"
	echo "test-engines: must run as root" >&2
	exit 1
fi

for tool in podman conmon containerd ctr containerd-shim-runc-v2 tar sha256sum timeout; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "test-engines: $tool not found (run hack/install-deps.sh)" >&2; exit 1; }
done

if [ -z "${BERTH_BIN:-}" ]; then
	# shellcheck source=hack/lib.sh
	. hack/lib.sh
	if [ "${BERTH_PROFILE:-release}" = release ]; then
		BERTH_BIN=$(build_berth --release)
	else
		BERTH_BIN=$(build_berth)
	fi
fi
case $BERTH_BIN in
/*) ;;
*) BERTH_BIN=$(command -v "$BERTH_BIN" || echo "$PWD/$BERTH_BIN") ;;
esac
[ -x "$BERTH_BIN" ] || { echo "test-engines: $BERTH_BIN is not executable" >&2; exit 1; }
ENG_RUNTIME=$BERTH_BIN

# shellcheck source=hack/engines/lib.sh
. hack/engines/lib.sh
# shellcheck source=hack/engines/image.sh
. hack/engines/image.sh
# shellcheck source=hack/engines/podman.sh
. hack/engines/podman.sh
# shellcheck source=hack/engines/containerd.sh
. hack/engines/containerd.sh
# shellcheck source=hack/engines/cri.sh
. hack/engines/cri.sh

# Short: podman's runroot must stay under 50 characters.
ENG_DIR=$(mktemp -d /run/be.XXXXXX)
ENG_TAG="berth-eng-${ENG_DIR##*.}"
mkdir -p "$ENG_DIR/logs"
eng_on_exit 'eng_cgroup_cleanup'
# shellcheck disable=SC2016 # expanded when the cleanup runs
eng_on_exit 'eng_unmount_under "$ENG_DIR"; if [ -n "${BERTH_ENGINES_KEEP:-}" ]; then echo "test-engines: logs kept in $ENG_DIR/logs"; else rm -rf "$ENG_DIR"; fi'
trap eng_cleanup EXIT
trap 'exit 130' INT TERM

echo "test-engines: runtime $ENG_RUNTIME ($("$ENG_RUNTIME" --version 2>/dev/null | head -n1))"
echo "test-engines: $(podman --version), conmon $(conmon --version | sed -n 's/^conmon version //p'), $(containerd --version | cut -d' ' -f1,3)"
echo "test-engines: private dir $ENG_DIR, cgroup parent $ENG_TAG"

image_rootfs_tar "$ENG_DIR/rootfs" "$ENG_DIR/rootfs.tar"
image_oci_archive "$ENG_DIR/rootfs.tar" "$ENG_DIR/image.oci.tar" "$CD_IMAGE"
rm -rf "$ENG_DIR/rootfs"

podman_cases
podman_teardown
containerd_cases
containerd_teardown
BERTH_ENGINES_ONLY='' eng_case "no residue: container cgroups, processes, mounts" case_no_residue

echo
echo "test-engines: runtime $ENG_RUNTIME: $ENG_PASS passed, $ENG_FAIL failed, $ENG_SKIP skipped"
if [ "$ENG_FAIL" -gt 0 ]; then
	printf 'test-engines: FAILED: %s\n' "${ENG_FAILED[@]}"
	exit 1
fi
