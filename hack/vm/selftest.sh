#!/bin/bash
# Prove that the test VM (hack/vm/run.sh) is what the cgroup v2 tests need:
#   1. cgroup2 alone at /sys/fs/cgroup (no v1 hierarchy), every controller
#      of cgroup.controllers enabled in cgroup.subtree_control, and a child
#      cgroup that can limit memory and pids and hold a process;
#   2. the host's / readable over 9p (busybox has the host's checksum), the
#      guest's writes to / thrown away, a --share dir written through;
#   3. the command's exit status comes back: 0, 37, 137 (killed);
#   4. --apparmor --swap: AppArmor enabled, a profile loaded with
#      apparmor_parser confines a process, swap is on;
#   5. --timeout: a hung guest is killed, the script returns 124 and no
#      qemu of ours is left.
# Prints "vm-selftest: ok" or the first failure, and exits 0 or 1.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" -ne 0 ]; then
	exec sudo -E "$0" "$@"
fi

fail() {
	echo "vm-selftest: FAILED: $*" >&2
	exit 1
}
ok() { echo "vm-selftest: ok: $*"; }

BERTH_VM_KERNEL_DIR=$(hack/vm/kernel.sh)
export BERTH_VM_KERNEL_DIR
share=$(mktemp -d /tmp/berth-vm-selftest.XXXXXX)
trap 'rm -rf "$share"' EXIT
sum=$(sha256sum /bin/busybox | cut -d' ' -f1)
marker=/berth-vm-selftest-$$

# 1 and 2, in one boot.
cat >"$share/check.sh" <<'EOF'
set -eu
cg=/sys/fs/cgroup
fail() { echo "guest: $*"; exit 1; }
[ "$(awk '$2 == "/sys/fs/cgroup" {print $3}' /proc/mounts)" = cgroup2 ] || fail "no cgroup2 at $cg"
! awk '$3 == "cgroup"' /proc/mounts | grep -q . || fail "a cgroup v1 hierarchy is mounted"
[ "$(cat $cg/cgroup.subtree_control)" = "$(cat $cg/cgroup.controllers)" ] ||
	fail "subtree_control '$(cat $cg/cgroup.subtree_control)' != controllers '$(cat $cg/cgroup.controllers)'"
for c in cpu cpuset io memory pids hugetlb; do
	grep -qw "$c" $cg/cgroup.subtree_control || fail "controller $c not enabled"
done
mkdir $cg/selftest
echo 33554432 >$cg/selftest/memory.max
echo 7 >$cg/selftest/pids.max
[ "$(cat $cg/selftest/memory.max)" = 33554432 ] && [ "$(cat $cg/selftest/pids.max)" = 7 ] || fail "limits not kept"
sh -c "echo \$\$ >$cg/selftest/cgroup.procs; cat /proc/self/cgroup" | grep -qx '0::/selftest' || fail "cannot join a cgroup"
rmdir $cg/selftest
[ "$(sha256sum /bin/busybox | cut -d' ' -f1)" = "$1" ] || fail "/bin/busybox differs from the host's"
touch "$2" || fail "cannot write to / (the overlay)"
echo written >"$3/out"
[ ! -e /sys/kernel/security/apparmor ] || fail "AppArmor is on without --apparmor"
echo "guest: $(uname -r), controllers: $(cat $cg/cgroup.subtree_control)"
EOF
hack/vm/run.sh --share "$share" --timeout 300 -- sh "$share/check.sh" "$sum" "$marker" "$share" ||
	fail "the checks in the guest"
[ "$(cat "$share/out" 2>/dev/null)" = written ] || fail "the --share dir was not written through"
[ ! -e "$marker" ] || { rm -f "$marker"; fail "the guest's write to $marker reached the host"; }
ok "cgroup2 with every controller enabled, 9p root and share"

# 3.
for want in 0 37 137; do
	got=0
	case $want in
	137) hack/vm/run.sh --timeout 300 -- sh -c 'kill -KILL $$' || got=$? ;;
	*) hack/vm/run.sh --timeout 300 -- sh -c "exit $want" || got=$? ;;
	esac
	[ "$got" = "$want" ] || fail "exit status $want came back as $got"
done
ok "exit status 0, 37 and 137 propagated"

# 4.
if command -v apparmor_parser >/dev/null 2>&1; then
	cat >"$share/aa.sh" <<'EOF'
set -eu
fail() { echo "guest: $*"; exit 1; }
[ "$(cat /sys/module/apparmor/parameters/enabled)" = Y ] || fail "AppArmor not enabled"
[ "${BERTH_E2E_APPARMOR:-}" = 1 ] || fail "BERTH_E2E_APPARMOR is not set"
grep -q '^/dev/vda ' /proc/swaps || fail "no swap on /dev/vda"
printf 'profile berth-vm-selftest {\n  /** rix,\n  deny /etc/hostname r,\n}\n' | apparmor_parser -r -q ||
	fail "apparmor_parser could not load a profile"
out=$(sh -c 'echo "exec berth-vm-selftest" >/proc/self/attr/exec && exec cat /proc/self/attr/current')
[ "$out" = "berth-vm-selftest (enforce)" ] || fail "not confined: $out"
! sh -c 'echo "exec berth-vm-selftest" >/proc/self/attr/exec && exec cat /etc/hostname' 2>/dev/null ||
	fail "the profile did not deny /etc/hostname"
EOF
	hack/vm/run.sh --apparmor --swap 64M --share "$share" --timeout 300 -- sh "$share/aa.sh" || fail "--apparmor --swap"
	ok "--apparmor (a profile confines a process) and --swap"
else
	echo "vm-selftest: SKIP --apparmor: no apparmor_parser (Debian's apparmor package; hack/install-deps.sh)"
fi

# 5.
got=0
hack/vm/run.sh --share "$share" --timeout 15 -- sleep 1000 >/dev/null 2>&1 || got=$?
[ "$got" = 124 ] || fail "a hung VM returned $got, not 124"
for p in /proc/[0-9]*; do
	if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q "qemu-system.*path=$share"; then
		fail "qemu ${p#/proc/} is still running after the timeout"
	fi
done
ok "a hung VM is killed at its timeout"

echo "vm-selftest: ok"
