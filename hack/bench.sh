#!/bin/bash
# Benchmark berth against Debian's runc and crun on one identical bundle.
#
#   hack/bench.sh [--iterations N] [--runs R] [--runtimes "berth runc crun"]
#
#   --iterations N  timed lifecycles per runtime for (a)         (default 50)
#   --runs R        repetitions of the 100-run loop for (b)      (default 3)
#   --runtimes L    which runtimes, in round-robin order         (default "berth runc crun")
#   BERTH_BIN       use this berth binary instead of building one (cargo build --release)
#
# One run prints, per runtime, with ratios to crun (and (d) for berth alone):
#   (a) create -> start -> wait for exit -> delete of /bin/true: median, p10, p90, min, max
#   (b) wall time of 100 sequential `run`s (`RUNTIME run ID`, then `delete -f` only
#       if the runtime left state behind), repeated R times: median, min, max
#   (c) peak RSS of the runtime command during `create` and during `run`, max of
#       10 untimed samples, as `/usr/bin/time -f %M` reports it (ru_maxrss from
#       wait4: the runtime process and the children it reaps itself)
#   (d) what sealing berth's binary costs (docs/security.md): `create` of an
#       invalid id (seals, then fails) against `state` of it (fails without
#       sealing), medians of 100
# The runtimes alternate (round-robin, rotating who goes first), so machine drift
# hits all alike. A Python helper does the timing: it is a child subreaper, so the
# container's init is reparented to it and it waits for the exit with waitpid()
# instead of polling `state`.
#
# Everything runs inside `unshare -m` (propagation private): on hybrid-cgroup
# hosts whose cgroup2 mount lists a controller, Debian's crun 1.8.1 refuses to
# run ("cgroups in hybrid mode not supported"), so an empty file is bind-mounted
# over /sys/fs/cgroup/unified/cgroup.controllers in that namespace only.
# Containers use a relative cgroupsPath unique to this run, with a 128 MiB memory
# and a 128-pid limit (berth and runc nest it under the bench's own cgroup, crun
# under each hierarchy's root); `delete` removes it,
# and the cleanup (also on Ctrl-C) removes whatever is left: containers, cgroups
# of that name, the state roots (one per runtime) and the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")

iterations=50
runs=3
runtimes="berth runc crun"
usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	--iterations) iterations=${2:?}; shift 2 ;;
	--iterations=*) iterations=${1#*=}; shift ;;
	--runs) runs=${2:?}; shift 2 ;;
	--runs=*) runs=${1#*=}; shift ;;
	--runtimes) runtimes=${2:?}; shift 2 ;;
	--runtimes=*) runtimes=${1#*=}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
done
for n in "$iterations" "$runs"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench: not a positive count: $n" >&2; exit 2; }
done
read -r -a rts <<<"$runtimes"
[ "${#rts[@]}" -gt 0 ] || { echo "bench: --runtimes is empty" >&2; exit 2; }

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then exec sudo -E "$0" "${args[@]}"; fi
	echo "bench: must run as root (containers need it)" >&2
	exit 1
fi

# --- what is needed ----------------------------------------------------------
need=(python3 util-linux time)
for rt in "${rts[@]}"; do
	case $rt in
	berth) ;;
	runc | crun) need+=("$rt") ;;
	*) echo "bench: unknown runtime $rt (berth, runc, crun)" >&2; exit 2 ;;
	esac
done
[ -x hack/mkrootfs.sh ] || need+=(busybox-static)
[ -x hack/mkrootfs.sh ] && [ ! -x "${BERTH_BUSYBOX:-/bin/busybox}" ] && need+=(busybox-static)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "bench: apt-get install ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

declare -A bin
for rt in "${rts[@]}"; do
	case $rt in
	berth)
		if [ -n "${BERTH_BIN:-}" ]; then
			bin[berth]=$BERTH_BIN
		else
			echo "bench: cargo build --release -p berth" >&2
			# shellcheck source=hack/lib.sh
			. "$(dirname "$0")/lib.sh"
			bin[berth]=$(build_berth --release --locked)
		fi
		;;
	*) bin[$rt]=$(command -v "$rt") ;;
	esac
	[ -x "${bin[$rt]}" ] || { echo "bench: $rt binary ${bin[$rt]} is not executable" >&2; exit 1; }
	bin[$rt]=$(readlink -f "${bin[$rt]}")
done

# --- workspace and cleanup ---------------------------------------------------
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
cgname=berth-bench-$$-${work##*.}
helper_pid=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$helper_pid" ] && kill -0 "$helper_pid" 2>/dev/null; then
		kill -TERM "$helper_pid" 2>/dev/null || true
		wait "$helper_pid" 2>/dev/null || true
	fi
	local rt id
	for rt in "${rts[@]}"; do
		[ -d "$work/root-$rt" ] || continue
		for id in $(ls "$work/root-$rt" 2>/dev/null); do
			"${bin[$rt]}" --root "$work/root-$rt" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	# Only the cgroups named after this run, deepest first.
	find /sys/fs/cgroup -depth -type d \( -name "$cgname" -o -path "*/$cgname/*" \) \
		-exec rmdir {} \; 2>/dev/null || true
	if [ -n "$(find /sys/fs/cgroup -type d -name "$cgname" 2>/dev/null | head -1)" ]; then
		echo "bench: could not remove every cgroup named $cgname" >&2
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- bundle --------------------------------------------------------------------
bundle=$work/bundle
mkdir -p "$bundle"
if [ -x hack/mkrootfs.sh ]; then
	hack/mkrootfs.sh "$bundle/rootfs"
else
	# Minimal fallback: static busybox and its applet links.
	mkdir -p "$bundle/rootfs"/{bin,proc,sys,dev,tmp,etc}
	cp /bin/busybox "$bundle/rootfs/bin/busybox"
	/bin/busybox --list | while read -r a; do
		[ "$a" = busybox ] || ln -sf busybox "$bundle/rootfs/bin/$a"
	done
	echo 'root:x:0:0:root:/:/bin/sh' >"$bundle/rootfs/etc/passwd"
	echo 'root:x:0:' >"$bundle/rootfs/etc/group"
fi
[ -x "$bundle/rootfs/bin/true" ] || { echo "bench: rootfs has no /bin/true" >&2; exit 1; }

# runc's `spec` defaults (pid, net, ipc, uts, mount and cgroup namespaces, masked
# and read-only paths, devices cgroup deny-all) with /bin/true, no terminal, and
# a memory and a pids limit.
cat >"$bundle/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": ["/bin/true"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs", "readonly": true },
  "hostname": "bench",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
  ],
  "linux": {
    "cgroupsPath": "$cgname",
    "resources": {
      "devices": [{ "allow": false, "access": "rwm" }],
      "memory": { "limit": 134217728 },
      "pids": { "limit": 128 }
    },
    "namespaces": [
      { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
      { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" }
    ],
    "maskedPaths": [
      "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
    ],
    "readonlyPaths": [
      "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
    ]
  }
}
JSON

# --- the measuring helper --------------------------------------------------------
cat >"$work/measure.py" <<'PY'
import ctypes, os, signal, statistics, sys, time

work, iterations, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = sys.argv[4::2]
bins = dict(zip(sys.argv[4::2], sys.argv[5::2]))
bundle = os.path.join(work, "bundle")
RUNS_PER_LOOP = 100
RSS_SAMPLES = 10

libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    sys.exit("bench: prctl(PR_SET_CHILD_SUBREAPER) failed")
# A background job of a script starts with SIGINT ignored: take it back, so that
# Ctrl-C stops the measuring at once; the runtimes it spawns keep ignoring it.
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

live = {}  # name -> ids that may still exist, for cleanup on interrupt


class Failed(Exception):
    pass


def root(name):
    return os.path.join(work, "root-" + name)


def call(name, *args, rss=False):
    """Run the runtime and wait for it. With rss, run it under /usr/bin/time and
    return its peak RSS in KiB (ru_maxrss: posix_spawn's vfork child would carry
    this process's own high-water mark into the runtime's, time's fork does not)."""
    err = os.path.join(work, "stderr")
    rssfile = os.path.join(work, "rss")
    argv = [bins[name], "--root", root(name), *args]
    if rss:
        argv = ["/usr/bin/time", "-f", "%M", "-o", rssfile, *argv]
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ])
    _, status, _ = os.wait4(pid, 0)
    if status != 0:
        with open(err, errors="replace") as f:
            msg = f.read().strip().splitlines()
        raise Failed(f"`{name} {' '.join(args)}` exited with status {os.waitstatus_to_exitcode(status)}: "
                     + (msg[-1] if msg else "(no stderr)"))
    if rss:
        with open(rssfile) as f:
            return int(f.read().split()[-1])
    return None


def floor_rss():
    """What /usr/bin/time reports for a trivial command: the floor of (c)."""
    rssfile = os.path.join(work, "rss")
    argv = ["/usr/bin/time", "-f", "%M", "-o", rssfile, "/bin/true"]
    os.waitpid(os.posix_spawn(argv[0], argv, os.environ), 0)
    with open(rssfile) as f:
        return int(f.read().split()[-1])


def reap(pid):
    """Wait for the container's init, reparented to us; reap any other orphans."""
    while True:
        try:
            got, _ = os.waitpid(-1, 0)
        except ChildProcessError:
            # Not our child after all: poll until it is gone or a zombie.
            while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split(") ")[-1][0] != "Z":
                time.sleep(0.0002)
            return
        if got == pid:
            return


def reap_orphans():
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def lifecycle(name, cid, rss=False):
    pidfile = os.path.join(work, "pid")
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    live[name].add(cid)
    t0 = time.perf_counter()
    peak = call(name, "create", "--bundle", bundle, "--pid-file", pidfile, cid, rss=rss)
    call(name, "start", cid)
    with open(pidfile) as f:
        reap(int(f.read().strip()))
    call(name, "delete", cid)
    t1 = time.perf_counter()
    live[name].discard(cid)
    reap_orphans()
    return t1 - t0, peak


def run_once(name, cid, rss=False):
    live[name].add(cid)
    peak = call(name, "run", "--bundle", bundle, cid, rss=rss)
    if os.path.exists(os.path.join(root(name), cid)):
        call(name, "delete", "--force", cid)
    live[name].discard(cid)
    return peak


def run100(name, tag):
    t0 = time.perf_counter()
    for i in range(RUNS_PER_LOOP):
        run_once(name, f"{tag}-{i}")
    t1 = time.perf_counter()
    reap_orphans()
    return t1 - t0


SEAL_SAMPLES = 100


def timed(name, *args):
    """Wall time of one runtime command, whatever its exit status."""
    argv = [bins[name], "--root", root(name), *args]
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, fd, "/dev/null", os.O_RDWR, 0) for fd in (0, 1, 2)])
    os.waitpid(pid, 0)
    return time.perf_counter() - t0


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))]


life = {n: [] for n in names}
crss = {n: [] for n in names}
loops = {n: [] for n in names}
rrss = {n: [] for n in names}
failed = {}
sealed, plain = [], []
for n in names:
    live[n] = set()
    os.makedirs(root(n), exist_ok=True)


def progress(msg):
    if sys.stderr.isatty():
        print("\r\033[K" + (f"bench: {msg}" if msg else ""), end="", file=sys.stderr, flush=True)


def rotate(i):
    k = i % len(names)
    return [n for n in names[k:] + names[:k] if n not in failed]


interrupted = False
try:
    # Warm-up (page cache, first-exec costs): two untimed lifecycles each.
    for w in range(2):
        for n in rotate(w):
            try:
                lifecycle(n, f"w{os.getpid()}-{n}-{w}")
            except Failed as e:
                failed[n] = str(e)
    for i in range(iterations):
        for n in rotate(i):
            try:
                life[n].append(lifecycle(n, f"l{os.getpid()}-{n}-{i}")[0])
            except Failed as e:
                failed[n] = str(e)
        progress(f"lifecycles {i + 1}/{iterations}")
    for r in range(runs):
        for n in rotate(r):
            try:
                loops[n].append(run100(n, f"r{os.getpid()}-{n}-{r}"))
            except Failed as e:
                failed[n] = str(e)
        progress(f"{RUNS_PER_LOOP}-run loops {r + 1}/{runs}")
    # Peak RSS, untimed, under /usr/bin/time.
    for k in range(RSS_SAMPLES):
        for n in rotate(k):
            try:
                crss[n].append(lifecycle(n, f"m{os.getpid()}-{n}-{k}", rss=True)[1])
                rrss[n].append(run_once(n, f"n{os.getpid()}-{n}-{k}", rss=True))
            except Failed as e:
                failed[n] = str(e)
        progress(f"RSS samples {k + 1}/{RSS_SAMPLES}")
    # Sealing berth's binary: `create` of an invalid id seals, then fails at
    # once; `state` of it fails the same way without sealing.
    if "berth" in names and "berth" not in failed:
        for k in range(SEAL_SAMPLES):
            sealed.append(timed("berth", "create", "--bundle", bundle, "bad/id"))
            plain.append(timed("berth", "state", "bad/id"))
    progress(None)
except KeyboardInterrupt:
    interrupted = True
finally:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for n in names:
        for cid in list(live[n]):
            try:
                call(n, "delete", "--force", cid)
            except Exception:
                pass
    reap_orphans()
if interrupted:
    print("\nbench: interrupted", file=sys.stderr)
    sys.exit(130)

# --- report ---------------------------------------------------------------------
def version(n):
    import subprocess
    try:
        out = subprocess.run([bins[n], "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.splitlines()[0] if out else "?"
    except Exception:
        return "?"


ref = "crun" if "crun" in names and "crun" not in failed and life["crun"] else None
med = lambda xs: statistics.median(xs) if xs else None


def ratio(n, table, f=med):
    if ref is None or not table[n] or not table[ref]:
        return "    -"
    return f"{f(table[n]) / f(table[ref]):5.2f}x"


ms = lambda s: f"{s * 1000:7.1f}"
mib = lambda k: f"{k / 1024:6.1f}"
print()
print(f"runtimes: " + ", ".join(f"{n} = {bins[n]} ({version(n)})" for n in names))
print(f"kernel {os.uname().release}, {os.cpu_count()} CPUs; config: busybox rootfs, /bin/true, "
      f"runc spec defaults, 128 MiB memory and 128 pids limit; round-robin order")
print()
print(f"(a) lifecycle create -> start -> wait -> delete, {iterations} iterations (ms)")
print(f"    {'runtime':8} {'median':>7} {'p10':>7} {'p90':>7} {'min':>7} {'max':>7}  {'vs crun':>7}")
for n in names:
    xs = life[n]
    if not xs:
        print(f"    {n:8} no data"); continue
    print(f"    {n:8} {ms(med(xs))} {ms(pct(xs, 10))} {ms(pct(xs, 90))} {ms(min(xs))} {ms(max(xs))}  "
          f"{ratio(n, life):>7}")
print()
print(f"(b) {RUNS_PER_LOOP} sequential runs, {runs} repetitions (s)")
print(f"    {'runtime':8} {'median':>7} {'min':>7} {'max':>7}  {'vs crun':>7}")
for n in names:
    xs = loops[n]
    if not xs:
        print(f"    {n:8} no data"); continue
    s = lambda v: f"{v:7.3f}"
    print(f"    {n:8} {s(med(xs))} {s(min(xs))} {s(max(xs))}  {ratio(n, loops):>7}")
print()
time_floor = floor_rss()
print(f"(c) peak RSS of the runtime command, max of {RSS_SAMPLES} (MiB; /usr/bin/time -f %M, "
      f"floor: {mib(time_floor).strip()} for /usr/bin/time /bin/true)")
print(f"    {'runtime':8} {'create':>6} {'vs crun':>7}   {'run':>6} {'vs crun':>7}")
for n in names:
    if not crss[n]:
        print(f"    {n:8} no data"); continue
    c = max(crss[n])
    r = max(rrss[n]) if rrss[n] else None
    print(f"    {n:8} {mib(c)} {ratio(n, crss, max):>7}   {mib(r) if r else '     -'} "
          f"{ratio(n, rrss, max) if r else '    -':>7}")
if sealed and plain:
    print()
    print(f"(d) sealing berth's binary (docs/security.md), medians of {SEAL_SAMPLES}: `create` of an invalid id")
    print(f"    {ms(med(sealed)).strip()} ms (seals, then fails), `state` of it {ms(med(plain)).strip()} ms (fails at once):")
    print(f"    {ms(med(sealed) - med(plain)).strip()} ms per create, run or exec")
for n, why in failed.items():
    print(f"\n{n} FAILED (dropped from the remaining rounds): {why}")
sys.exit(1 if failed else 0)
PY

# --- run it in a private mount namespace ------------------------------------------
helper_args=("$work" "$iterations" "$runs")
for rt in "${rts[@]}"; do helper_args+=("$rt" "${bin[$rt]}"); done
: >"$work/empty"

echo "bench: ${rts[*]}: $iterations lifecycles and $runs x 100 runs each, in round-robin" >&2
unshare --mount --propagation private -- /bin/bash -c '
	set -e
	mount --make-rprivate /
	ctl=/sys/fs/cgroup/unified/cgroup.controllers
	if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
		[ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] && [ -n "$(cat "$ctl")" ]; then
		mount --bind "$1/empty" "$ctl"
	fi
	exec python3 "$1/measure.py" "$@"
' bench "${helper_args[@]}" &
helper_pid=$!
wait "$helper_pid"
