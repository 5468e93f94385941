#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Policy-map scale benchmark: generates a policy (scripts/gen-policy.py,
# default 10,000 services x 10 workloads on 100 nodes and 10,000 HTTP
# routes), then times, against a
# fresh pin root of its own (/sys/fs/bpf/mf-scale-<pid>):
#   apply fresh, re-apply of the same file, a one-service change on top,
#   `mfctl get`, and the agent's snapshot load (policy_load(), best of 5);
# and sums the policy maps' memory as the kernel accounts it (memlock from
# `bpftool map show pinned`).  Prints a markdown table and writes
# $O/bench/policy.json.  Needs root, bpffs and a built tree (`make tests`).
#
#   scripts/bench-policy.sh [--services N] [--workloads-per-service K] [--nodes M]
#                           [--http-routes R]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac

services=10000 per=10 nodes=100 routes=10000
while [ $# -gt 0 ]; do
	case "$1" in
	--services) services=$2; shift 2 ;;
	--workloads-per-service) per=$2; shift 2 ;;
	--nodes) nodes=$2; shift 2 ;;
	--http-routes) routes=$2; shift 2 ;;
	*) echo "usage: $0 [--services N] [--workloads-per-service K] [--nodes M] [--http-routes R]" >&2; exit 2 ;;
	esac
done

mfctl="$O/bin/mfctl"
loader="$O/tests/bench/mf_policy_load"
for f in "$mfctl" "$loader"; do
	[ -x "$f" ] || { echo "bench-policy: $f missing; run make tests" >&2; exit 2; }
done
command -v bpftool >/dev/null || { echo "bench-policy: needs bpftool" >&2; exit 2; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

root=/sys/fs/bpf/mf-scale-$$
tmp=$(mktemp -d /tmp/mf-bench-policy.XXXXXX)
cleanup() {
	rm -rf "$root" "$tmp"
}
trap cleanup EXIT INT TERM

# Seconds (3 decimals) that "$@" takes; its output goes to $tmp/out.
elapsed() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; return 1; }
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}

python3 "$top/scripts/gen-policy.py" --services "$services" \
	--workloads-per-service "$per" --nodes "$nodes" --http-routes "$routes" \
	-o "$tmp/gen.yaml"
# svc-7 moved to another port: one Service replaced on top of the rest.
cat >"$tmp/change.yaml" <<'EOF'
apiVersion: meshforge.io/v1alpha1
kind: Service
metadata: {name: svc-7}
spec: {vip: 10.96.0.4, port: 9090}
EOF

ctl=("$mfctl" --bpf-root "$root" --state-dir "$tmp/state" --run-dir "$tmp/run")
t_fresh=$(elapsed "${ctl[@]}" apply -f "$tmp/gen.yaml")
t_again=$(elapsed "${ctl[@]}" apply -f "$tmp/gen.yaml")
t_change=$(elapsed "${ctl[@]}" apply -f "$tmp/change.yaml")
t_get=$(elapsed "${ctl[@]}" get)
grep -q '^  port: 9090$' "$tmp/out" || { echo "bench-policy: change not applied" >&2; exit 1; }
load_ms=$("$loader" "$root" 2>/dev/null | sed -n 's/^policy_load_ms=//p')

mem=0
for f in "$root"/mf_*; do
	b=$(bpftool map show pinned "$f" | sed -n 's/.*memlock \([0-9]*\)B.*/\1/p')
	mem=$((mem + ${b:-0}))
done
mem_mib=$(awk -v b="$mem" 'BEGIN { printf "%.1f", b / 1048576 }')

workloads=$((services * per))
echo "### Policy scale: $services services, $workloads workloads, $nodes nodes, $routes HTTP routes"
echo
echo "| step | time |"
echo "|---|---|"
echo "| apply (fresh pin root) | ${t_fresh} s |"
echo "| re-apply (same file) | ${t_again} s |"
echo "| apply one change on top | ${t_change} s |"
echo "| get | ${t_get} s |"
echo "| agent snapshot load (policy_load) | ${load_ms} ms |"
echo "| policy map memory (memlock) | ${mem_mib} MiB |"

mkdir -p "$O/bench"
cat >"$O/bench/policy.json" <<EOF
{"services": $services, "workloads": $workloads, "nodes": $nodes,
 "http_routes": $routes,
 "apply_fresh_s": $t_fresh, "apply_again_s": $t_again,
 "apply_change_s": $t_change, "get_s": $t_get,
 "agent_load_ms": ${load_ms:-null}, "map_memory_bytes": $mem}
EOF
