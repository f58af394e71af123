#!/bin/bash
# Run one command inside a throwaway QEMU VM with a pure cgroup v2 kernel:
#
#   hack/vm/run.sh [OPTIONS] [--] COMMAND [ARG...]
#
#   --apparmor        boot with apparmor=1 security=apparmor and mount
#                     securityfs (default: apparmor=0, like the CI host)
#   --swap SIZE       give the VM a swap disk of SIZE (truncate(1) sizes: 256M)
#   --env NAME=VALUE  set a variable for COMMAND (repeatable)
#   --share DIR       share the host dir DIR read-write at the same path
#                     (everything else the guest writes is thrown away)
#   --timeout SECS    kill the VM (by pid) after SECS seconds (default 600)
#   --mem MIB         guest memory (default 512), --cpus N (default 2)
#
# The guest is Debian's kernel (hack/vm/kernel.sh caches it) with
# cgroup_no_v1=all; cgroup2 is mounted at /sys/fs/cgroup with every
# controller enabled in cgroup.subtree_control. The host's / is shared
# read-only over 9p and COMMAND runs chrooted into it as root, so host paths
# (binaries built here, /usr/sbin/runc, /bin/busybox) are the same inside;
# /run and /dev/shm are fresh tmpfs in the guest. COMMAND's output is
# printed as it runs and its exit status is this script's exit status; 124
# means the VM timed out, 125 that it ended without running COMMAND to the
# end (boot failure, kernel panic).
#
# Software emulation (TCG): this machine's /dev/kvm is a PVM backend that
# hangs ordinary kernels. The uncompressed vmlinux boots via PVH (~3 s);
# Environment: BERTH_VM_BZIMAGE=1 boots the bzImage instead;
# BERTH_VM_KERNEL_DIR skips hack/vm/kernel.sh (a dir it printed);
# BERTH_VM_EXTRA_CMDLINE is appended to the kernel command line;
# BERTH_VM_CACHE is where hack/vm/kernel.sh caches the kernel.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 && exec sudo -E "$0" "$@"
	echo "vm/run: must run as root (the 9p share exports the host's /)" >&2
	exit 1
fi

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

apparmor=0 swap='' share='' timeout=600 mem=512 cpus=2
envs=()
while [ $# -gt 0 ]; do
	case $1 in
	--apparmor) apparmor=1 ;;
	--swap) swap=${2:?--swap needs a size}; shift ;;
	--share) share=$(cd "${2:?--share needs a dir}" && pwd) || exit 2; shift ;;
	--env) envs+=("${2:?--env needs NAME=VALUE}"); shift ;;
	--timeout) timeout=${2:?--timeout needs seconds}; shift ;;
	--mem) mem=${2:?--mem needs MiB}; shift ;;
	--cpus) cpus=${2:?--cpus needs a number}; shift ;;
	--) shift; break ;;
	-h | --help) usage ;;
	-*) echo "vm/run: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || usage

command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	{ echo "vm/run: qemu-system-x86_64 not found (hack/install-deps.sh installs qemu-system-x86)" >&2; exit 1; }
kdir=${BERTH_VM_KERNEL_DIR:-$("$here/kernel.sh")}
[ -f "$kdir/release" ] || { echo "vm/run: $kdir holds no kernel (see hack/vm/kernel.sh)" >&2; exit 1; }
release=$(cat "$kdir/release")

tmp=$(mktemp -d /tmp/berth-vm.XXXXXX)
qpid=''
cleanup() {
	# The VM is ours: end it by its pid, then drop the temp dir.
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill -KILL "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scratch=$tmp/scratch
mkdir "$scratch"

# The initramfs: busybox, /init and the modules the 9p mounts (and a swap
# disk) need, with every dependency modules.dep names for them.
build_initramfs() {
	local root=$tmp/initramfs moddir=$kdir/lib/modules/$release mod deps
	mkdir -p "$root/bin" "$root/lib/modules/$release"
	cp /bin/busybox "$root/bin/busybox"
	cp "$here/guest-init.sh" "$root/init"
	chmod 755 "$root/init"
	local -A seen=()
	local -a todo=(virtio_pci 9pnet_virtio 9p overlay virtio_blk)
	while [ ${#todo[@]} -gt 0 ]; do
		mod=${todo[0]}
		todo=("${todo[@]:1}")
		[ -z "${seen[$mod]:-}" ] || continue
		seen[$mod]=1
		deps=$(grep -E "(^|/)${mod//-/[-_]}\.ko(\.[a-z]+)?:" "$moddir/modules.dep") ||
			{ echo "vm/run: module $mod not in $moddir/modules.dep" >&2; return 1; }
		echo "$deps" >>"$root/lib/modules/$release/modules.dep"
		for f in ${deps%%:*} ${deps#*:}; do
			mkdir -p "$root/lib/modules/$release/$(dirname "$f")"
			cp "$moddir/$f" "$root/lib/modules/$release/$f"
			f=${f##*/}
			todo+=("${f%%.ko*}")
		done
	done
	(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) >"$tmp/initramfs.cpio"
}
build_initramfs

{
	echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root'
	[ "$apparmor" = 1 ] && echo 'export BERTH_E2E_APPARMOR=1'
	for e in "${envs[@]}"; do printf 'export %q\n' "$e"; done
	printf 'cd %q || exit 125\n' "$PWD"
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$scratch/cmd.sh"

cmdline="console=ttyS0 quiet loglevel=3 panic=-1 ${BERTH_VM_EXTRA_CMDLINE:-} cgroup_no_v1=all berth.scratch=$scratch"
cmdline+=" berth.modules=$kdir/lib/modules/$release"
if [ "$apparmor" = 1 ]; then
	cmdline+=" apparmor=1 security=apparmor berth.apparmor=1"
else
	cmdline+=" apparmor=0"
fi
[ -z "$share" ] || cmdline+=" berth.share=$share"
if [ -n "$swap" ]; then
	truncate -s "$swap" "$tmp/swap.img" || { echo "vm/run: bad --swap size $swap" >&2; exit 2; }
	cmdline+=" berth.swap=1"
fi
kernel=$kdir/vmlinux
if [ ! -f "$kernel" ] || [ -n "${BERTH_VM_BZIMAGE:-}" ]; then
	kernel=$kdir/vmlinuz
fi
qemu=(qemu-system-x86_64 -machine pc -accel tcg,thread=multi -cpu max -smp "$cpus" -m "$mem"
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "$kernel" -initrd "$tmp/initramfs.cpio" -append "$cmdline"
	-chardev stdio,id=con,signal=off -serial chardev:con
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=scratch,path=$scratch,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=scratch,mount_tag=scratch)
if [ -n "$share" ]; then
	qemu+=(-fsdev "local,id=share,path=$share,security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=share,mount_tag=share)
fi
if [ -n "$swap" ]; then
	qemu+=(-drive "file=$tmp/swap.img,format=raw,if=virtio,cache=unsafe")
fi

start=$(date +%s)
"${qemu[@]}" </dev/null &
qpid=$!
# Poll rather than sleep in a watchdog process: nothing is left behind.
while kill -0 "$qpid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$qpid/stat" 2>/dev/null)" != Z ]; do
	if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
		echo "vm/run: timed out after ${timeout}s, killing qemu (pid $qpid)" >&2
		kill -KILL "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
		qpid=''
		exit 124
	fi
	sleep 0.2
done
qstatus=0
wait "$qpid" || qstatus=$?
qpid=''
if [ ! -s "$scratch/status" ]; then
	echo "vm/run: the VM ended (qemu exit $qstatus) without running the command to its end" >&2
	exit 125
fi
exit "$(cat "$scratch/status")"
