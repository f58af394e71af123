#!/bin/busybox sh
# /init of berth's test VM (hack/vm/run.sh packs it into the initramfs with a
# static busybox and the virtio/9p modules).
#
# Stage 1 loads the modules and mounts the host's / (9p, read-only, under a
# tmpfs overlay so the guest can write anywhere) at /newroot with fresh proc,
# sys, dev and run over it, cgroup2 at /sys/fs/cgroup with every
# controller enabled in cgroup.subtree_control, and the scratch dir (9p,
# read-write) at its host path; then switch_root makes /newroot the root, so
# every host path, binary and library is where it is on the host. Stage 2
# runs "$scratch/cmd.sh", writes its exit status to "$scratch/status" and
# powers off.
#
# Kernel command line: berth.scratch=PATH berth.modules=PATH (the guest
# kernel's module dir as the host sees it) [berth.share=PATH]
# [berth.apparmor=1] [berth.swap=1].
if [ "${1:-}" = stage2 ]; then
	bb=/run/berth-vm/busybox
	scratch=$($bb sed -n 's/.*berth\.scratch=\([^ ]*\).*/\1/p' /proc/cmdline)
	/bin/sh "$scratch/cmd.sh" </dev/null >/dev/console 2>&1
	echo $? >"$scratch/status"
	$bb sync
	$bb umount "$scratch"
	# No "reboot: Restarting system" after the command's output.
	echo 0 >/proc/sys/kernel/printk
	$bb reboot -f
fi

/bin/busybox mkdir -p /bin /proc /sys /dev /newroot
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

# A failure here leaves no status file: the host reports it with this line.
fail() {
	echo "vm/init: $*" >&2
	reboot -f
}

arg() {
	for w in $(cat /proc/cmdline); do
		case $w in "$1"=*) echo "${w#*=}" ;; esac
	done
}
scratch=$(arg berth.scratch)
moddir=$(arg berth.modules)
apparmor=$(arg berth.apparmor)
swap=$(arg berth.swap)
share=$(arg berth.share)
[ -n "$scratch" ] || fail "no berth.scratch= on the kernel command line"

modprobe -a virtio_pci 9pnet_virtio 9p overlay || fail "modprobe virtio_pci 9pnet_virtio 9p overlay failed"
opts=trans=virtio,version=9p2000.L,msize=262144
# The host's / is the lower layer of an overlay whose upper layer is a tmpfs:
# the guest may write anywhere (mkdir /lib/modules/...), the host never sees it.
mkdir -p /lower /rw
mount -t 9p -o "$opts,ro,cache=loose" hostroot /lower || fail "mount 9p hostroot failed"
mount -t tmpfs tmpfs /rw && mkdir /rw/upper /rw/work || fail "mount tmpfs /rw"
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
	fail "mount overlay on /newroot failed"
r=/newroot

mount -t proc proc $r/proc || fail "mount proc"
mount -t sysfs sysfs $r/sys || fail "mount sysfs"
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup || fail "mount cgroup2"
for c in $(cat $r/sys/fs/cgroup/cgroup.controllers); do
	echo "+$c" >$r/sys/fs/cgroup/cgroup.subtree_control || fail "enable cgroup controller $c"
done
# Four 2 MiB huge pages (8 of the guest's MiB), so that a hugetlb limit can
# be shown to stop an allocation (cgroups_resources.rs); the host has none.
echo 4 >/proc/sys/vm/nr_hugepages || fail "reserve huge pages"
if [ "$apparmor" = 1 ]; then
	mount -t securityfs securityfs $r/sys/kernel/security || fail "mount securityfs"
fi

mount -t devtmpfs devtmpfs $r/dev || fail "mount devtmpfs"
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts $r/dev/pts || fail "mount devpts"
mount -t tmpfs -o mode=1777 tmpfs $r/dev/shm || fail "mount /dev/shm"
ln -sf /proc/self/fd $r/dev/fd
ln -sf /proc/self/fd/0 $r/dev/stdin
ln -sf /proc/self/fd/1 $r/dev/stdout
ln -sf /proc/self/fd/2 $r/dev/stderr
# A fresh /run (no state of the host's runtimes). /tmp stays the host's, seen
# through the overlay: a clone under /tmp has its build there.
mount -t tmpfs -o mode=0755 tmpfs $r/run || fail "mount tmpfs on /run"
mkdir -p $r/run/lock

# The guest kernel's modules where modprobe looks (the host's are useless here).
if [ -n "$moddir" ] && [ -d "$r$moddir" ]; then
	mkdir -p "$r/lib/modules/$(uname -r)"
	mount --bind "$r$moddir" "$r/lib/modules/$(uname -r)" || fail "bind $moddir"
fi

mkdir -p "$r$scratch"
mount -t 9p -o "$opts" scratch "$r$scratch" || fail "mount 9p scratch on $scratch failed"

if [ -n "$share" ]; then
	mkdir -p "$r$share"
	mount -t 9p -o "$opts" share "$r$share" || fail "mount 9p share on $share failed"
fi

if [ "$swap" = 1 ]; then
	modprobe virtio_blk || fail "modprobe virtio_blk failed"
	mkswap /dev/vda >/dev/null && swapon /dev/vda || fail "swapon /dev/vda failed"
fi

# Debian has no kmod by default: modprobe from busybox, where the tests look.
[ -e $r/usr/sbin/modprobe ] || ln -s /bin/busybox $r/usr/sbin/modprobe
hostname berth-vm
ip link set lo up 2>/dev/null
# The serial console would turn every \n into \r\n.
stty -onlcr </dev/console 2>/dev/null

# Not chroot: a chrooted process may not create user namespaces (clone(2),
# EPERM). switch_root makes /newroot the root of the mount namespace and
# runs stage 2 of this script from there.
mkdir -p $r/run/berth-vm
cp /bin/busybox /init $r/run/berth-vm/
exec switch_root $r /run/berth-vm/busybox sh /run/berth-vm/init stage2
