#!/bin/bash
# Fetch Debian's kernel (linux-image-amd64) into a cache dir, without
# installing it on the host, and print the cache dir's path:
#
#   hack/vm/kernel.sh            # -> /var/cache/berth-vm/linux-image-6.1.0-57-amd64
#
# The cache dir holds:
#   vmlinuz      the bzImage, as packaged
#   vmlinux      the uncompressed ELF kernel, extracted from it (boots via
#                PVH, about twice as fast as the bzImage under TCG); absent
#                when it cannot be extracted or has no PVH entry point
#   release      the kernel release (uname -r in the guest)
#   lib/modules/RELEASE/  every module, with a modules.dep made by busybox's
#                depmod (Debian generates it at install time, it is not in
#                the package)
#
# Environment: BERTH_VM_CACHE (default /var/cache/berth-vm),
# BERTH_VM_KERNEL_PKG (default: what linux-image-amd64 depends on).
# Needs root (apt-get download, the cache under /var/cache).
set -euo pipefail

cache_root=${BERTH_VM_CACHE:-/var/cache/berth-vm}

die() {
	echo "vm/kernel: $*" >&2
	exit 1
}

# The versioned package behind the metapackage, e.g. linux-image-6.1.0-57-amd64.
resolve_pkg() {
	local pkg
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
	if [ -z "$pkg" ]; then
		apt-get update -qq >&2 || die "apt-get update failed"
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
	fi
	[ -n "$pkg" ] || die "cannot resolve linux-image-amd64 with apt-cache (no Debian package lists?)"
	echo "$pkg"
}

# download PKG DIR: apt-get download into DIR; one apt-get update and a retry
# when the package lists are stale.
download() {
	local pkg=$1 dir=$2
	# apt drops privileges to _apt for downloads: let it write there.
	chown _apt "$dir" 2>/dev/null || true
	if ! (cd "$dir" && apt-get download -q "$pkg" >&2); then
		echo "vm/kernel: apt-get download $pkg failed; apt-get update and retry" >&2
		apt-get update -qq >&2 || true
		(cd "$dir" && apt-get download -q "$pkg" >&2) ||
			die "apt-get download $pkg failed: no network or no Debian mirror in /etc/apt/sources.list?"
	fi
}

# extract_vmlinux BZIMAGE OUT: the kernel's scripts/extract-vmlinux idea,
# written again here: find each compression magic in the bzImage, try to
# decompress from there, keep the first result that is an ELF file.
extract_vmlinux() {
	local img=$1 out=$2 magic tool pos
	local -a formats=(
		'\xfd7zXZ\x00:xz -dc'
		'\x1f\x8b\x08:gzip -dc'
		'\x28\xb5\x2f\xfd:zstd -dcq'
		'\x02\x21\x4c\x18:lz4 -dc'
	)
	for f in "${formats[@]}"; do
		magic=${f%%:*}
		tool=${f#*:}
		command -v "${tool%% *}" >/dev/null 2>&1 || continue
		for pos in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1); do
			tail -c "+$((pos + 1))" "$img" | $tool >"$out" 2>/dev/null || true
			if [ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ]; then
				return 0
			fi
		done
	done
	rm -f "$out"
	return 1
}

# has_pvh VMLINUX: the ELF carries XEN_ELFNOTE_PHYS32_ENTRY (type 18), the
# entry point QEMU's -kernel uses to boot an ELF kernel directly.
has_pvh() {
	readelf -n "$1" 2>/dev/null | grep -Eq '0x00000012|PHYS32_ENTRY'
}

fill() {
	local pkg=$1 dest=$2 tmp deb release
	tmp=$(mktemp -d "$cache_root/.fill.XXXXXX")
	fill_tmp=$tmp # removed on exit, also when die() ends the script
	echo "vm/kernel: downloading $pkg into $dest" >&2
	download "$pkg" "$tmp"
	deb=$(ls "$tmp"/"$pkg"_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || die "apt-get download $pkg left no .deb"
	mkdir "$tmp/x"
	dpkg-deb -x "$deb" "$tmp/x" || die "dpkg-deb -x $deb failed"
	rm -f "$deb"
	release=$(ls "$tmp/x/lib/modules" | head -n 1)
	[ -n "$release" ] && [ -f "$tmp/x/boot/vmlinuz-$release" ] || die "$pkg has no boot/vmlinuz-RELEASE"
	busybox depmod -b "$tmp/x" "$release" || die "depmod $release failed"
	mkdir "$tmp/out"
	mv "$tmp/x/boot/vmlinuz-$release" "$tmp/out/vmlinuz"
	mkdir -p "$tmp/out/lib/modules"
	mv "$tmp/x/lib/modules/$release" "$tmp/out/lib/modules/"
	echo "$release" >"$tmp/out/release"
	if extract_vmlinux "$tmp/out/vmlinuz" "$tmp/out/vmlinux.tmp" && has_pvh "$tmp/out/vmlinux.tmp"; then
		mv "$tmp/out/vmlinux.tmp" "$tmp/out/vmlinux"
	else
		rm -f "$tmp/out/vmlinux.tmp"
		echo "vm/kernel: no PVH-bootable vmlinux in $pkg; the VM boots the bzImage" >&2
	fi
	chmod -R a+rX "$tmp/out"
	mv "$tmp/out" "$dest"
}

fill_tmp=''
trap 'rm -rf "$fill_tmp"' EXIT

main() {
	local pkg dest
	[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get download, $cache_root)"
	mkdir -p "$cache_root"
	pkg=${BERTH_VM_KERNEL_PKG:-$(resolve_pkg)}
	dest=$cache_root/$pkg
	if [ ! -f "$dest/release" ]; then
		# One filler at a time; the others wait and then find it done.
		exec 9>"$cache_root/.lock"
		flock 9
		[ -f "$dest/release" ] || fill "$pkg" "$dest"
		exec 9>&-
	fi
	echo "$dest"
}

main "$@"
