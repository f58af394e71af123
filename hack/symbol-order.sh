#!/bin/bash
# Regenerate crates/berth/symbol-order.txt: the functions a container's life
# runs, which the linker places side by side (crates/berth/build.rs), so a
# berth process maps fewer page-cache folios of text (docs/performance.md,
# "Start-up").
#
#   hack/symbol-order.sh [--lifecycles N]     (default 60; needs root and perf)
#
# It builds an unstripped berth (target/symbol-order), binds it read-only in
# a private mount namespace (berth then runs from it as it is, without the
# sealed re-exec, whose copy perf cannot name), and samples the CPU every
# 5 us of user time (perf record -e cpu-clock:u) while N times: create,
# state, start, kill --all (of the stopped container, as containerd sends),
# delete, and run, of a busybox bundle with runc's spec defaults and a
# memory and pids limit. Every function of the berth binary that was
# sampled is written by its linker (mangled) name, sorted (the order among
# them matters little: what counts is that they sit together).
# A function too short to be sampled stays where it was: the file need not
# be complete, and names that vanish with a later build are ignored.
set -euo pipefail
cd "$(dirname "$0")/.."

lifecycles=60
while [ $# -gt 0 ]; do
	case $1 in
	--lifecycles) lifecycles=${2:?}; shift 2 ;;
	-h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "symbol-order: unknown argument $1" >&2; exit 2 ;;
	esac
done
[[ $lifecycles =~ ^[1-9][0-9]*$ ]] || { echo "symbol-order: not a count: $lifecycles" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "symbol-order: must run as root (containers need it)" >&2; exit 1; }
for tool in perf python3 unshare; do
	command -v "$tool" >/dev/null || { echo "symbol-order: $tool is needed" >&2; exit 1; }
done

work=$(mktemp -d /tmp/berth-order.XXXXXX)
cgname=berth-order-$$
cleanup() {
	local rc=$?
	trap - EXIT
	if [ -x "$work/bin/berth" ]; then
		for dir in "$work"/root/*/; do
			[ -d "$dir" ] || continue
			"$work/bin/berth" --root "$work/root" delete --force "$(basename "$dir")" >/dev/null 2>&1 || true
		done
	fi
	find /sys/fs/cgroup -depth -type d -name "$cgname" -exec rmdir {} \; 2>/dev/null || true
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT

echo "symbol-order: cargo build --release -p berth (unstripped)" >&2
CARGO_PROFILE_RELEASE_STRIP=false BERTH_NO_SYMBOL_ORDER=1 \
	cargo build --release --locked -q -p berth --target-dir target/symbol-order
mkdir -p "$work/bin" "$work/bundle"
cp target/symbol-order/x86_64-unknown-linux-gnu/release/berth "$work/bin/berth"
hack/mkrootfs.sh "$work/bundle/rootfs" >/dev/null
"$work/bin/berth" spec --bundle "$work/bundle"
python3 - "$work/bundle/config.json" "$cgname" <<'PY'
import json, sys
path, cg = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["linux"]["cgroupsPath"] = cg
c["linux"].setdefault("resources", {}).update(
    {"memory": {"limit": 134217728}, "pids": {"limit": 128}})
json.dump(c, open(path, "w"), indent=1)
PY

cat >"$work/loop.sh" <<LOOP
#!/bin/bash
set -e
b=$work/bin/berth; r=$work/root
for i in \$(seq $lifecycles); do
	\$b --root \$r create --bundle $work/bundle c\$i </dev/null >/dev/null
	\$b --root \$r state c\$i >/dev/null
	\$b --root \$r start c\$i
	while [ "\$(\$b --root \$r state c\$i | python3 -c 'import json,sys;print(json.load(sys.stdin)["status"])')" != stopped ]; do :; done
	\$b --root \$r kill --all c\$i KILL
	\$b --root \$r delete c\$i
	\$b --root \$r run --bundle $work/bundle r\$i </dev/null >/dev/null
done
LOOP
chmod +x "$work/loop.sh"
echo "symbol-order: $lifecycles lifecycles under perf record" >&2
unshare -m --propagation private sh -c "
	mount --bind '$work/bin' '$work/bin' &&
	mount -o remount,bind,ro '$work/bin' &&
	perf record -q -e cpu-clock:u -c 5000 -o '$work/perf.data' -- '$work/loop.sh'"
out=crates/berth/symbol-order.txt
perf report -q -i "$work/perf.data" --comm berth --dsos berth --no-demangle \
	--sort sym -F overhead,sym --stdio 2>/dev/null |
	awk '$2 == "[.]" { print $3 }' | LC_ALL=C sort -u >"$out.new"
n=$(wc -l <"$out.new")
[ "$n" -gt 100 ] || { echo "symbol-order: only $n functions sampled; keeping $out" >&2; rm -f "$out.new"; exit 1; }
mv "$out.new" "$out"
echo "symbol-order: $n functions written to $out" >&2
