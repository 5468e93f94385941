#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The mesh store at scale (docs/store.md): S node syncs following one etcd,
# each `mfctl sync --memory` (its maps in memory, so no kernel is needed
# per node) with a status file, converge on a mesh of N Services and M
# Workloads over K Nodes (scripts/gen-policy.py, plus its
# MeshTrafficPermissions, one per ten Services).  Measured:
#   full load   from the start of `mfctl --store apply` of the whole mesh
#               (in parts of about 4 MiB of YAML, each one etcd
#               transaction under mfctl's 8 MiB: etcd 3.4 cannot restart
#               with a larger one in its log, docs/store.md) to every
#               sync serving the last part's revision;
#   one change  the same for an apply of one changed Service (svc-7 moved
#               to port 9090) on top;
# the writer with a state dir, as on a node: it keeps its copy of the
# mesh there, and each apply after the first reads only what changed;
# and, from /proc, each phase's CPU time and the RSS after it of etcd and
# of every sync (min / median / max over the syncs).  The clock is
# CLOCK_MONOTONIC, the one the syncs stamp their status with.  Prints a
# markdown table and writes $O/bench/scale.json (MF_SCALE_OUT).  Needs no root: etcd
# (Debian's etcd-server) on loopback ports, files under /tmp/mf-bench-scale.*.
#
# Environment (defaults are the issue's figures):
#   MF_SCALE_SYNCS (100)  MF_SCALE_SERVICES (10000)  MF_SCALE_WORKLOADS
#   (100000, a multiple of the services)  MF_SCALE_NODES (the syncs)
#   MF_SCALE_PORT (24790: etcd's client port; the peer port is +1)
#   MF_SCALE_TIMEOUT (600 s a phase at most)
#   MF_SCALE_OUT ($O/bench/scale.json)  MFCTL ($O/bin/mfctl)
# Each sync holds the whole mesh: about 186 MiB between changes at the
# default size and 250 MiB while it compiles, so 100 of them need 18 GiB
# and more; etcd, while it sends the load's parts through its JSON
# gateway, about 55 MiB per watcher (2.7 GiB with 50).  See docs/store.md
# for what a smaller machine runs.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac

S=${MF_SCALE_SYNCS:-100}
N=${MF_SCALE_SERVICES:-10000}
M=${MF_SCALE_WORKLOADS:-100000}
K=${MF_SCALE_NODES:-$S}
PORT=${MF_SCALE_PORT:-24790}
TIMEOUT=${MF_SCALE_TIMEOUT:-600}
PY=/usr/bin/python3
MFCTL=${MFCTL:-$O/bin/mfctl}
OUT=${MF_SCALE_OUT:-$O/bench/scale.json}

die() { echo "bench-scale: $*" >&2; exit 2; }
log() { echo "bench-scale: $*" >&2; }

for v in S:SYNCS N:SERVICES M:WORKLOADS K:NODES PORT:PORT TIMEOUT:TIMEOUT; do
	val=${v%%:*}
	if ! [[ ${!val} =~ ^[0-9]+$ ]] || [ "${!val}" -eq 0 ]; then
		die "MF_SCALE_${v#*:} must be a positive number, not '${!val}'"
	fi
done
[ $((M % N)) = 0 ] || die "MF_SCALE_WORKLOADS ($M) must be a multiple of MF_SCALE_SERVICES ($N)"
[ -x "$MFCTL" ] || die "$MFCTL is not built (make mfctl)"
for c in etcd curl "$PY"; do
	command -v "$c" >/dev/null || die "missing $c (apt-get install etcd-server curl python3)"
done

tmp=$(mktemp -d /tmp/mf-bench-scale.XXXXXX)
ETCD_PID=""
SYNC_PIDS=()
cleanup() {
	local rc=$? p
	for p in "${SYNC_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${SYNC_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "$ETCD_PID" ]; then
		kill "$ETCD_PID" 2>/dev/null || true
		wait "$ETCD_PID" 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mono_ns() { "$PY" -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC))'; }

# The mesh, and the one change on top of it.
"$PY" "$top/scripts/gen-policy.py" --services "$N" \
	--workloads-per-service $((M / N)) --nodes "$K" -o "$tmp/mesh.yaml"
objects=$(grep -c '^kind: ' "$tmp/mesh.yaml")
yaml_bytes=$(stat -c %s "$tmp/mesh.yaml")
cat >"$tmp/change.yaml" <<'EOF'
apiVersion: meshforge.io/v1alpha1
kind: Service
metadata: {name: svc-7}
spec: {vip: 10.96.0.4, port: 9090}
EOF

# The mesh in parts, each valid on top of the ones before it (the
# generator writes the Mesh, Nodes and Services before the Workloads, and
# the permissions last): documents in order, a part closed once it holds
# 4 MiB of YAML, which mfctl writes as about 5.5 MiB.
"$PY" - "$tmp/mesh.yaml" "$tmp/part" <<'PYEOF'
import sys
docs = open(sys.argv[1]).read().split("\n---\n")
parts, cur, size = [], [], 0
for d in docs:
    cur.append(d)
    size += len(d) + 5
    if size >= 4 << 20:
        parts.append(cur)
        cur, size = [], 0
if cur:
    parts.append(cur)
for i, p in enumerate(parts):
    with open("%s-%02d.yaml" % (sys.argv[2], i), "w") as f:
        f.write("\n---\n".join(p).rstrip("\n") + "\n")
PYEOF

# etcd, with room for a part in one transaction: an operation per object
# of the largest part (any count is safe) and 9 MiB a request, under the
# 10 MiB of a log entry that etcd reads back when it starts.  etcd gives
# up on a request after 5 s and two election timeouts: one member alone
# elects nothing, so its timeout is raised, that a large transaction on a
# loaded machine is not cut short.
txn_ops=$((objects + 16))
req_bytes=$((9 << 20))
# shellcheck source=scripts/etcd-member.sh
. "$top/scripts/etcd-member.sh"
etcd_member mf-scale "$tmp/etcd" "http://127.0.0.1:$PORT" \
	"http://127.0.0.1:$((PORT + 1))" "" "$tmp/etcd.log" \
	--max-txn-ops "$txn_ops" --max-request-bytes "$req_bytes" \
	--heartbeat-interval 1000 --election-timeout 20000 \
	--quota-backend-bytes $((8 << 30))
ETCD_PID=$ETCD_MEMBER_PID
STORE=etcd://127.0.0.1:$PORT/mf-scale
up=0
for _ in $(seq 1 300); do
	if curl -sf -m 1 "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then up=1; break; fi
	kill -0 "$ETCD_PID" 2>/dev/null || break
	sleep 0.1
done
[ "$up" = 1 ] || die "etcd did not come up: $(tail -n 5 "$tmp/etcd.log")"

# The syncs, each a node of its own with its maps in memory.
parts=("$tmp"/part-*.yaml)
log "$S syncs, a mesh of $objects objects ($N services, $M workloads, $K nodes, $((yaml_bytes >> 20)) MiB of YAML, applied in ${#parts[@]} parts)"
for i in $(seq 1 "$S"); do
	"$MFCTL" --store "$STORE" sync --memory --status "$tmp/sync-$i.status" \
		>"$tmp/sync-$i.log" 2>&1 </dev/null &
	SYNC_PIDS+=("$!")
done
echo "${SYNC_PIDS[*]}" >"$tmp/sync.pids"

# The measurements: waits for every sync to serve a revision, reads
# /proc, keeps the figures in $tmp/figures.jsonl.
measure() {
	"$PY" - "$@" <<'PYEOF'
import json, os, re, statistics, sys, time

cmd, tmp, etcd_pid, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
pids = [int(p) for p in open(os.path.join(tmp, "sync.pids")).read().split()]
tick = os.sysconf("SC_CLK_TCK")


def proc(pid):
    """CPU seconds so far, RSS now and peak RSS so far (bytes) of @pid."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / tick
    mem = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                mem[line.split(":")[0]] = int(line.split()[1]) * 1024
    return cpu, mem.get("VmRSS", 0), mem.get("VmHWM", 0)


def status(i):
    try:
        with open(os.path.join(tmp, "sync-%d.status" % i)) as f:
            kv = dict(line.split(None, 1) for line in f if line.strip())
        return int(kv["revision"]), int(kv["monotonic_ns"])
    except (OSError, KeyError, ValueError):
        return 0, 0


def snap():
    return {"etcd": proc(etcd_pid), "syncs": [proc(p) for p in pids]}


def mmm(v):
    return {"min": min(v), "median": statistics.median(v), "max": max(v)}


if cmd == "snap":
    json.dump(snap(), open(os.path.join(tmp, sys.argv[5]), "w"))
elif cmd == "wait":
    # wait REV T0 PHASE: every sync at REV or later; figures of PHASE.
    rev, t0, phase = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
    before = json.load(open(os.path.join(tmp, "before.json")))
    deadline = time.monotonic() + timeout
    while True:
        got = [status(i + 1) for i in range(len(pids))]
        if all(r >= rev for r, _ in got):
            break
        for p in pids:
            os.kill(p, 0)   # a sync that died fails the bench
        if time.monotonic() > deadline:
            behind = sum(1 for r, _ in got if r < rev)
            sys.exit("%d of %d syncs still behind revision %d after %g s"
                     % (behind, len(pids), rev, timeout))
        time.sleep(0.05)
    after = snap()
    late = [(ns - t0) / 1e9 for r, ns in got if r == rev]
    # Where each sync's compile of @rev went (its log line, sync.c).
    steps = {"read": [], "parse": [], "compile": [], "write": []}
    pat = re.compile(r"revision %d in force .*; read ([0-9]+) ms, parse ([0-9]+) ms, "
                     r"compile ([0-9]+) ms, write ([0-9]+) ms" % rev)
    for i in range(len(pids)):
        with open(os.path.join(tmp, "sync-%d.log" % (i + 1))) as f:
            for line in f:
                m = pat.search(line)
                if m:
                    for k, v in zip(("read", "parse", "compile", "write"), m.groups()):
                        steps[k].append(int(v))
    fig = {
        "phase": phase, "revision": rev,
        "serving_s": mmm(late) if late else None,
        "all_serving_s": max(late) if late else None,
        "etcd_cpu_s": after["etcd"][0] - before["etcd"][0],
        "etcd_rss": after["etcd"][1],
        "etcd_peak_rss": after["etcd"][2],
        "sync_cpu_s": mmm([a[0] - b[0] for a, b in zip(after["syncs"], before["syncs"])]),
        "sync_rss": mmm([a[1] for a in after["syncs"]]),
        "sync_peak_rss": mmm([a[2] for a in after["syncs"]]),
        "sync_steps_ms": {k: mmm(v) for k, v in steps.items() if v},
    }
    with open(os.path.join(tmp, "figures.jsonl"), "a") as f:
        f.write(json.dumps(fig) + "\n")
elif cmd == "report":
    figs = [json.loads(l) for l in open(os.path.join(tmp, "figures.jsonl"))]
    s, n, m, k, objects, ybytes, out = sys.argv[5:12]
    mib = lambda b: "%.0f MiB" % (b / 1048576)
    tri = lambda d, f: " / ".join(f(d[x]) for x in ("min", "median", "max"))
    print("### Mesh store at scale: %s syncs, %s services, %s workloads, %s nodes"
          " (%s objects, %.1f MiB of YAML)" % (s, n, m, k, objects, int(ybytes) / 1048576))
    print()
    print("| phase | apply returned | all syncs serving | each sync serving (min / median / max) "
          "| etcd CPU | etcd RSS (peak so far) | sync CPU (min / median / max) | sync RSS (min / median / max) "
          "| sync peak RSS so far (min / median / max) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for f in figs:
        if f["phase"] == "start":
            continue
        print("| %s | %.2f s | %.2f s | %s | %.1f s | %s | %s | %s | %s |" % (
            f["phase"], f["apply_s"], f["all_serving_s"],
            tri(f["serving_s"], lambda x: "%.2f s" % x),
            f["etcd_cpu_s"], "%s (%s)" % (mib(f["etcd_rss"]), mib(f["etcd_peak_rss"])),
            tri(f["sync_cpu_s"], lambda x: "%.2f s" % x),
            tri(f["sync_rss"], mib), tri(f["sync_peak_rss"], mib)))
    print()
    print("Where a sync's compile goes (its log; min / median / max over the syncs):")
    print()
    print("| phase | read the maps in force | parse the store's objects | validate + compile | write the maps |")
    print("|---|---|---|---|---|")
    for f in figs:
        st = f.get("sync_steps_ms", {})
        if f["phase"] == "start" or len(st) < 4:
            continue
        print("| %s | %s |" % (f["phase"], " | ".join(
            tri(st[k], lambda x: "%d ms" % x) for k in ("read", "parse", "compile", "write"))))
    json.dump({"syncs": int(s), "services": int(n), "workloads": int(m),
               "nodes": int(k), "objects": int(objects), "yaml_bytes": int(ybytes),
               "phases": figs}, open(out, "w"), indent=1)
elif cmd == "apply_s":
    # apply_s PHASE SECONDS: the apply's own time, into PHASE's figures.
    path = os.path.join(tmp, "figures.jsonl")
    figs = [json.loads(l) for l in open(path)]
    for f in figs:
        if f["phase"] == sys.argv[5]:
            f["apply_s"] = float(sys.argv[6])
    with open(path, "w") as fh:
        fh.writelines(json.dumps(f) + "\n" for f in figs)
PYEOF
}

# phase NAME FILE: applies FILE to the store and waits for every sync.
phase() {
	local name=$1 file t0 t1 rev
	shift
	measure snap "$tmp" "$ETCD_PID" "$TIMEOUT" before.json
	t0=$(mono_ns)
	for file in "$@"; do
		"$MFCTL" --state-dir "$tmp/writer" --store "$STORE" apply -f "$file" \
			>"$tmp/apply-$name.out" 2>&1 ||
			die "apply of the $name ($file) failed: $(tail -n 3 "$tmp/apply-$name.out")"
	done
	t1=$(mono_ns)
	rev=$(sed -n 's/.* revision \([0-9]*\):.*/\1/p' "$tmp/apply-$name.out")
	[ -n "$rev" ] || die "no revision in: $(cat "$tmp/apply-$name.out")"
	log "$name: applied at revision $rev in $(((t1 - t0) / 1000000)) ms; waiting for $S syncs"
	measure wait "$tmp" "$ETCD_PID" "$TIMEOUT" "$rev" "$t0" "$name" ||
		die "the $name did not converge (logs: $tmp/sync-*.log, kept until exit)"
	measure apply_s "$tmp" "$ETCD_PID" "$TIMEOUT" "$name" \
		"$("$PY" -c "print(($t1 - $t0) / 1e9)")"
}

mkdir -p "$tmp/writer"
# Every sync serving the empty mesh first: the phases start from S watches.
measure snap "$tmp" "$ETCD_PID" "$TIMEOUT" before.json
rev0=$("$MFCTL" --store "$STORE" status 2>/dev/null | sed -n 's/^store: .* at revision \([0-9]*\),.*/\1/p')
[ -n "$rev0" ] || die "mfctl --store $STORE status gave no revision"
measure wait "$tmp" "$ETCD_PID" "$TIMEOUT" "$rev0" "$(mono_ns)" start ||
	die "the syncs did not start"
phase "full load" "${parts[@]}"
phase "one-service change" "$tmp/change.yaml"

mkdir -p "$(dirname "$OUT")"
measure report "$tmp" "$ETCD_PID" "$TIMEOUT" "$S" "$N" "$M" "$K" "$objects" \
	"$yaml_bytes" "$OUT"
log "figures: $OUT"
