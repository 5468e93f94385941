#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Loop-stall benchmark: how long the agents' event loops stall when a policy
# of 10,000 services is applied under load.  Brings up the two-node testbed
# (scripts/testbed.sh) with the mesh of `make bench` (tests/bench/policy.yaml)
# and its agents, serves HTTP from pod b1 (tests/tools/mf_httpd.py) and
# loads the mesh from pod a1 with mf_httpload, one request per connection,
# so that every request is an accept and an mTLS handshake on both agents.
# A third of the way through the load it applies a policy from
# scripts/gen-policy.py (the size of bench-policy.sh's, with its VIPs and
# node addresses moved off the testbed's) on both nodes.
#
# Each agent's meshforge_loop_stall_seconds_max (the longest time one loop
# iteration spent on its completions since the agent started) is read just
# before the apply and again after the load: the first is the stall under
# load alone, the second that of the whole run, the apply included.  Also
# reported: the client's view (errors, latency p99.9 and max).  Prints a
# markdown table and writes $O/bench/stall.json (the load generator's own
# report: stall-load.json).  Needs root and a built
# tree with the load generator (`make bench-stall` builds it and runs this).
#
#   scripts/bench-stall.sh [--services N] [--duration S]
#
# Environment: O (build dir), AGENT (the agent binary, as for testbed.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
export O

services=10000 duration=20
while [ $# -gt 0 ]; do
	case "$1" in
	--services) services=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	*) echo "usage: $0 [--services N] [--duration S]" >&2; exit 2 ;;
	esac
done

TB=$top/scripts/testbed.sh
LOAD=$O/tests/bench/mf_httpload
URL=http://10.96.0.10:80/whoami
WARMUP=2
log() { printf 'bench-stall: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
for f in "$O/bin/mfctl" "${AGENT:-$O/bin/meshforge-agent}" "$LOAD"; do
	[ -x "$f" ] || die "$f is not built (make bench-stall builds it)"
done
for c in curl nsenter flock python3; do
	command -v "$c" >/dev/null || die "missing $c"
done

tmp=$(mktemp -d /tmp/mf-bench-stall.XXXXXX)
httpd_pid="" load_pid="" bed=0
cleanup() {
	local rc=$?
	set +e
	trap '' INT TERM
	for pid in $load_pid $httpd_pid; do
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	[ "$bed" = 1 ] && { "$TB" down >&2 || log "testbed down reported errors"; }
	rm -rf "$tmp"
	exit "$rc"
}

# One testbed user at a time: the same lock as the tests and bench.sh.
exec 9>>/run/mf-testbed.lock
log "waiting for the testbed lock"
flock -w 900 9 || die "another testbed run held the lock for 15 minutes"
trap cleanup EXIT
trap 'exit 130' INT TERM

# The big policy, moved off the testbed's addresses: its Nodes start at
# 10.77.0.1 and its VIPs at 10.96.0.1, which are node a's address and the
# range of the mesh's own services.
python3 "$top/scripts/gen-policy.py" --services "$services" \
	--workloads-per-service 10 --nodes 100 --http-routes "$services" |
	sed -e 's/{vip: 10\.96\./{vip: 10.97./' \
	    -e 's/{address: 10\.77\./{address: 10.79./' >"$tmp/big.yaml"

bed=1
"$TB" up --apply "$top/tests/bench/policy.yaml" --agents >"$tmp/up.log" 2>&1 ||
	{ cat "$tmp/up.log" >&2; die "testbed up failed"; }
# A thousand new connections a second: reuse client ports in TIME_WAIT.
for ns in mf-pod-a1 mf-node-a mf-node-b; do
	nsenter --net="/run/netns/$ns" -- sysctl -qw net.ipv4.tcp_tw_reuse=1 \
		net.ipv4.ip_local_port_range="20000 64999"
done
"$TB" exec b1 python3 "$top/tests/tools/mf_httpd.py" --bind 10.78.2.11 \
	--port 8080 --pod mf-pod-b1 --node mf-node-b \
	>"$tmp/httpd.log" 2>/dev/null </dev/null 9<&- &
httpd_pid=$!
ok=0
for _ in $(seq 100); do
	"$TB" exec a1 curl -fs -o /dev/null -m 1 "$URL" && { ok=1; break; }
	sleep 0.1
done
[ "$ok" = 1 ] || die "no answer through the mesh at $URL"

# metric NODE NAME: the value of metric NAME on NODE's admin endpoint.
metric() {
	"$TB" exec "$1" curl -fsS -m 5 http://127.0.0.1:15000/metrics |
		awk -v m="$2" '$1 == m { print $2 }'
}
# Seconds $1 as milliseconds; "null" when there is no such metric (an agent
# from before the gauge).
ms() {
	if [ -n "$1" ]; then awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; else echo null; fi
}
cell() {
	if [ -n "$1" ]; then echo "$(ms "$1") ms"; else echo "n/a"; fi
}

"$TB" exec a1 "$LOAD" --url "$URL" --new-conn --conns 8 \
	--duration "$duration" --warmup "$WARMUP" \
	>"$tmp/load.json" 2>"$tmp/load.err" </dev/null 9<&- &
load_pid=$!
sleep "$(awk -v w="$WARMUP" -v d="$duration" 'BEGIN { print w + d / 3 }')"

declare -A before after
for n in a b; do
	before[$n]=$(metric "$n" meshforge_loop_stall_seconds_max)
done
log "applying $services services to both nodes under load"
t0=$(date +%s%N)
# The testbed's apply returns once each agent serves the new epoch (mfctl
# apply --wait), well before the load ends.
"$TB" apply "$tmp/big.yaml" >"$tmp/apply.log" 2>&1 ||
	{ cat "$tmp/apply.log" >&2; die "apply failed"; }
t1=$(date +%s%N)
wait "$load_pid" || die "load generator failed: $(cat "$tmp/load.err")"
load_pid=""
for n in a b; do
	after[$n]=$(metric "$n" meshforge_loop_stall_seconds_max)
done

read -r requests errors p999 lmax < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
l = r["latency_us"]
print(r["requests"], r["errors"], "%.1f" % (l["p999"] / 1000), "%.1f" % (l["max"] / 1000))' "$tmp/load.json")
apply_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')

echo "### Loop stall: $services services applied under load (${duration} s, one request per connection)"
echo
echo "| agent | max loop stall before the apply | max loop stall, apply included |"
echo "|---|---|---|"
for n in a b; do
	echo "| node $n | $(cell "${before[$n]}") | $(cell "${after[$n]}") |"
done
echo
echo "apply (both nodes, one after the other, each until its agent serves it): ${apply_s} s; load: $requests requests, $errors errors, latency p99.9 $p999 ms, max $lmax ms"

mkdir -p "$O/bench"
cp "$tmp/load.json" "$O/bench/stall-load.json"
cat >"$O/bench/stall.json" <<EOF
{"services": $services, "duration_s": $duration, "apply_s": $apply_s,
 "stall_before_ms": {"a": $(ms "${before[a]}"), "b": $(ms "${before[b]}")},
 "stall_with_apply_ms": {"a": $(ms "${after[a]}"), "b": $(ms "${after[b]}")},
 "requests": $requests, "errors": $errors,
 "latency_p999_ms": $p999, "latency_max_ms": $lmax}
EOF
