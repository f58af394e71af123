#!/bin/bash
# Install what building and testing berth needs on a Debian machine:
# busybox-static (the test rootfs), runc (the reference runtime the e2e
# suite also runs against), binutils (readelf, to check busybox is static),
# iproute2 and util-linux (namespaces for the tests to join), libseccomp-dev
# and pkg-config (the libseccomp crate links the C library), qemu-system-x86
# and xz-utils (hack/vm/: the cgroup v2 VM; its kernel is fetched into a
# cache by hack/vm/kernel.sh, never installed), apparmor (apparmor_parser,
# for the VM's --apparmor mode; this host's kernel has no AppArmor), podman,
# conmon and containerd (its ctr and runc shim; hack/test-engines.sh runs
# berth under them).
# The Rust toolchain is the machine's own (cargo must already be on PATH).
set -euo pipefail

packages=(busybox-static runc binutils iproute2 util-linux procps ca-certificates libseccomp-dev pkg-config
	qemu-system-x86 xz-utils apparmor podman conmon containerd)

if [ "$(id -u)" -ne 0 ]; then
	exec sudo -E "$0" "$@"
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "install-deps: apt-get install ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
	echo "install-deps: cargo not found: berth builds with the machine's Rust toolchain (rustup)" >&2
	exit 1
fi
