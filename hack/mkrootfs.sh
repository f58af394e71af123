#!/bin/sh
# Build a minimal busybox root filesystem into DIR for berth's tests.
#
# Usage: hack/mkrootfs.sh DIR
#
# The busybox binary comes from $BERTH_BUSYBOX, or /bin/busybox (Debian's
# busybox-static package). It must be statically linked: a dynamic one has a
# PT_INTERP (e.g. /lib64/ld-linux-x86-64.so.2) that does not exist inside the
# rootfs, and exec then fails with a confusing "no such file or directory".
# Nothing is downloaded; tests/harness builds the same tree in Rust.
set -eu

die() { echo "mkrootfs: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 DIR"
dir=$1
busybox=${BERTH_BUSYBOX:-/bin/busybox}

[ -x "$busybox" ] || die "$busybox not found (apt-get install busybox-static, or set BERTH_BUSYBOX)"
if command -v readelf >/dev/null 2>&1; then
	if readelf -lW "$busybox" | grep -q 'INTERP'; then
		die "$busybox is dynamically linked (has PT_INTERP); install busybox-static"
	fi
elif command -v file >/dev/null 2>&1; then
	file -L "$busybox" | grep -Eq 'statically linked|static-pie' ||
		die "$busybox is not statically linked; install busybox-static"
else
	die "need readelf (binutils) or file to check that $busybox is static"
fi

# Explicit modes, not the umask's: a user-namespaced container's root is an
# unprivileged host uid and must be able to traverse these.
dirs="bin sbin usr/bin usr/sbin proc sys dev tmp etc root run var var/tmp home/test"
mkdir -p "$dir"
for d in $dirs; do
	mkdir -p "$dir/$d"
done
chmod 0755 "$dir" "$dir/usr" "$dir/home"
for d in $dirs; do
	case $d in
	tmp | var/tmp) chmod 1777 "$dir/$d" ;;
	root) chmod 0700 "$dir/$d" ;;
	*) chmod 0755 "$dir/$d" ;;
	esac
done

cp "$busybox" "$dir/bin/busybox"
chmod 0755 "$dir/bin/busybox"

# `busybox --list` prints bare applet names; put them all in /bin, which is
# on every PATH the tests use, and keep /bin/busybox itself.
"$busybox" --list | while read -r applet; do
	[ "$applet" = busybox ] && continue
	ln -sf busybox "$dir/bin/$applet"
done

cat >"$dir/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
test:x:1000:1000:test:/home/test:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$dir/etc/group" <<'GROUP'
root:x:0:
tty:x:5:
test:x:1000:
nogroup:x:65534:
GROUP
chmod 0644 "$dir/etc/passwd" "$dir/etc/group"
chown 1000:1000 "$dir/home/test" 2>/dev/null || true
