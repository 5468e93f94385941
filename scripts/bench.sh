#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make bench`: meshforge against a direct connection and two well-known
# proxy pairs on the two-node testbed (scripts/testbed.sh), all measured in
# one run.  Paths, from pod a1 to the origin server (nginx) in pod b1:
#
#   direct     a1 -> 10.78.2.11:8080, plaintext, no proxy
#   meshforge  a1 -> VIP 10.96.0.10:80 -> agent a =mTLS= agent b -> b1 (L4)
#   meshforge-sockmap  meshforge with the same-node fast path on
#              (--sockmap on): a1's sends reach agent a socket to socket
#   meshforge-free  meshforge with its agents free to run on CPUs
#              $MF_BENCH_CPU_PROXY2 instead of sharing CPU $MF_BENCH_CPU_PROXY:
#              the latency rows of both placements side by side, the
#              artefact of two agents on one CPU apart from the agent's own
#              tail
#   meshforge-2loops  meshforge with two event loops per agent
#              (--threads 2), the agents on CPUs $MF_BENCH_CPU_PROXY2: how
#              the L4 path scales with loops, side by side with one loop
#   meshforge-strict  meshforge with the Mesh's mTLS STRICT: the pods' TC
#              programs towards them enforce it on every packet
#   meshforge-l7  the same, web declared `protocol: http`: agent a speaks
#              HTTP/1.1 with a1 and pools its mTLS connections to agent b
#   meshforge-synflood  meshforge while a host outside the mesh (10.77.0.9,
#              an extra address on node b's wire) floods node a's tunnel
#              port with SYNs (hping3, bounded in time, inside the testbed
#              only), the Mesh's firewall holding each source to
#              $MF_BENCH_SYN_RATE SYNs a second in XDP on node a's uplink:
#              the legitimate flow's figures under the flood, and the SYNs
#              sent and dropped a second
#   meshforge-l7-policy  meshforge-l7 with a MeshRetry, a MeshTimeout and a
#              RateLimit in force (none of them ever firing): what keeping
#              them costs each request
#   local-direct  a1 -> 10.78.1.12:8080, the same-node origin in pod a2,
#              plaintext, no proxy
#   meshforge-local  a1 -> VIP 10.96.0.12:80 -> agent a -> a2: a same-node
#              call, no tunnel (the agent judges a1 as node b would)
#   meshforge-local-sockmap  meshforge-local with the fast path on
#              (--sockmap on): a1's sends reach agent a socket to socket
#   host-direct  a process of node a (no pod) -> 10.78.1.12:8080 (a2)
#   meshforge-frontdoor  the same process in a cgroup given to agent a by
#              --workload-cgroup (bare metal): connect(VIP 10.96.0.12:80)
#              goes to the agent's loopback listener, then to a2
#   nginx      a1 -> 10.78.1.1:18080 nginx (node a) =mTLS= nginx 10.77.0.2:18443 (node b) -> b1
#   haproxy    a1 -> 10.78.1.1:18081 HAProxy (node a) =mTLS= HAProxy 10.77.0.2:18444 (node b) -> b1
#   store-scale  opt-in (named in MF_BENCH_PATHS, not in the default
#              list), and not a path of the testbed: the mesh store at
#              scale, S memory syncs on one etcd (scripts/bench-scale.sh,
#              its MF_SCALE_* settings), run after the others, or alone
#              without the testbed when it is the only one named
#
# The configurations are tests/bench/*.conf, *.cfg and policy.yaml; the
# certificates are the testbed's (mfctl, ECDSA P-256).  Every proxy runs one
# worker/thread.  CPU pinning (taskset): the proxies of both nodes get CPU
# $MF_BENCH_CPU_PROXY (1) to themselves; the load generator and the origin,
# the same on every path, share CPU $MF_BENCH_CPU_LOAD / _ORIGIN (0).
#
# Two phases, each repeated with the paths interleaved (rep 1: A B C D,
# rep 2: A B C D, ...), every path started fresh for each repetition:
#   capacity: RSS idle; max requests/s (closed loop, keep-alive, 1 KiB) with
#             the proxies' CPU time; new connections/s (one request each);
#             three 100 MiB downloads (after one not measured); RSS with
#             $MF_BENCH_IDLE_CONNS idle connections open through the
#             path; for the nginx and HAProxy pairs, new connections/s
#             again with upstream reuse off, so that each one costs an
#             mTLS handshake as it does in meshforge;
#   latency:  open loop at 25% and 50% of the direct path's median maximum;
#             on meshforge paths also where the time went (mf_schedlat and
#             the agents' loop-turn histograms, docs/benchmarks.md "Where
#             the added latency goes").
# Raw results go to $O/bench/raw.jsonl; tests/bench/bench_report.py turns
# them into results.json, results.md (printed) and chart.png in $O/bench.
#
# usage: scripts/bench.sh      (as root, after make; `make bench` does both)
# Environment (defaults): MF_BENCH_DURATION (8 s per measured run),
# MF_BENCH_WARMUP (2 s, excluded), MF_BENCH_REPS (3), MF_BENCH_CONNS (64),
# MF_BENCH_NEWCONN_DURATION (5 s), MF_BENCH_NEWCONN_CONNS (16),
# MF_BENCH_IDLE_CONNS (10000), MF_BENCH_IDLE_STEP (1500 connections opened at once),
# MF_BENCH_PATHS ("direct meshforge meshforge-free meshforge-2loops meshforge-sockmap
# meshforge-strict meshforge-synflood meshforge-l7 meshforge-l7-policy nginx
# haproxy local-direct meshforge-local meshforge-local-sockmap host-direct
# meshforge-frontdoor"), MF_BENCH_SYN_RATE (100 SYNs/s per source),
# MF_BENCH_FLOOD_GAP_US (20 µs between flood SYNs), MF_BENCH_CPU_LOAD (0),
# MF_BENCH_CPU_ORIGIN (0), MF_BENCH_CPU_PROXY (1), MF_BENCH_CPU_PROXY2 (the
# CPUs of meshforge-2loops' and meshforge-free's agents: CPU_PROXY and
# CPU_LOAD, 1,0 here),
# MF_HTTPLOAD (the load generator binary), MF_BENCH_PERF (set: a perf
# profile of the proxies in each max and newconn run, $O/bench/perf-*.data;
# "dwarf": call graphs unwound from DWARF, through code built without frame
# pointers; "stat": counts, $O/bench/perfstat-*.csv).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
export O
TB=$top/scripts/testbed.sh
BENCH=$top/tests/bench
OUT=$O/bench
RUN=$OUT/run
RAW=$OUT/raw.jsonl
PY=/usr/bin/python3
REPORT=$BENCH/bench_report.py
LOAD=${MF_HTTPLOAD:-$O/tests/bench/mf_httpload}
SCHEDLAT=$O/tests/tools/mf_schedlat
SCHEDLAT_BPF=$O/tests/tools/mf_schedlat.bpf.o
STATE=/run/mf-testbed

DURATION=${MF_BENCH_DURATION:-8}
WARMUP=${MF_BENCH_WARMUP:-2}
REPS=${MF_BENCH_REPS:-3}
CONNS=${MF_BENCH_CONNS:-64}
NEWCONN_DURATION=${MF_BENCH_NEWCONN_DURATION:-5}
NEWCONN_CONNS=${MF_BENCH_NEWCONN_CONNS:-16}
IDLE_CONNS=${MF_BENCH_IDLE_CONNS:-10000}
IDLE_STEP=${MF_BENCH_IDLE_STEP:-1500}
# The load generator holds idle connections until we stop it, or this long.
IDLE_HOLD_MAX=300
PATHS=${MF_BENCH_PATHS:-direct meshforge meshforge-free meshforge-2loops meshforge-sockmap meshforge-strict meshforge-synflood meshforge-l7 meshforge-l7-policy nginx haproxy local-direct meshforge-local meshforge-local-sockmap host-direct meshforge-frontdoor}
SYN_RATE=${MF_BENCH_SYN_RATE:-100}
FLOOD_GAP_US=${MF_BENCH_FLOOD_GAP_US:-20}
# The flood's source, an address outside the mesh on node b's wire, and
# its target, node a's tunnel port.  A flood never outlives this many
# seconds, whatever happens to the run.
FLOOD_SRC=10.77.0.9
FLOOD_DST=10.77.0.1
FLOOD_PORT=15008
FLOOD_MAX=900
CPU_LOAD=${MF_BENCH_CPU_LOAD:-0}
CPU_ORIGIN=${MF_BENCH_CPU_ORIGIN:-0}
CPU_PROXY=${MF_BENCH_CPU_PROXY:-1}
CPU_PROXY2=${MF_BENCH_CPU_PROXY2:-$CPU_PROXY,$CPU_LOAD}
# 1: the outbound proxies of the nginx and HAProxy pairs reuse upstream
# mTLS connections (the normal configuration); 0 for the handshake run.
REUSE=1
# Every process of the run inherits the descriptor limit: 10,000
# connections through an L4 proxy hold 20,000 descriptors in each agent
# (both ends), the load generator and the origin 10,000 each.
NOFILE=65536

ORIGIN_IP=10.78.2.11
ORIGIN_PORT=8080
# The same-node paths' origin, in pod a2 beside the load generator's a1.
LOCAL_IP=10.78.1.12
BODY_SMALL=/1k
BODY_BULK=/100m
BULK_BYTES=104857600
BULK_RUNS=3

declare -A URL=(
	[direct]=http://$ORIGIN_IP:$ORIGIN_PORT
	[meshforge]=http://10.96.0.10:80
	[meshforge-free]=http://10.96.0.10:80
	[meshforge-2loops]=http://10.96.0.10:80
	[meshforge-sockmap]=http://10.96.0.10:80
	[meshforge-strict]=http://10.96.0.10:80
	[meshforge-synflood]=http://10.96.0.10:80
	[meshforge-l7]=http://10.96.0.10:80
	[meshforge-l7-policy]=http://10.96.0.10:80
	[local-direct]=http://$LOCAL_IP:$ORIGIN_PORT
	[meshforge-local]=http://10.96.0.12:80
	[meshforge-local-sockmap]=http://10.96.0.12:80
	[host-direct]=http://$LOCAL_IP:$ORIGIN_PORT
	[meshforge-frontdoor]=http://10.96.0.12:80
	[nginx]=http://10.78.1.1:18080
	[haproxy]=http://10.78.1.1:18081
)

# The pids of the running path's proxies, top-level processes only (nginx
# workers are found as their children).
PATH_PIDS=()
# The origins' (b1's, and a2's when a same-node path runs).
ORIGIN_PIDS=()
# The cgroup of meshforge-frontdoor's client, when that path runs.
FD_CGROUP=""
BED=0
# The SYN flood of the meshforge-synflood path while it runs: its pid,
# output, start (s since the epoch, with ns) and node a's drop counter then.
FLOOD_PID=""
FLOOD_OUT=""
FLOOD_T0=0
FLOOD_D0=0
# The repetition being measured, for what path_stop records.
CUR_REP=0

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# wait_for TIMEOUT_S CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

alive() {
	local st
	st=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Stops one process we started, by its pid: TERM, then KILL after 5 s.
stop_pid() {
	local pid=$1 n=50
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	while alive "$pid" && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	local rc=$? pid
	trap '' INT TERM
	path_stop
	for pid in "${ORIGIN_PIDS[@]}"; do
		stop_pid "$pid"
	done
	[ -n "$FD_CGROUP" ] && rmdir "$FD_CGROUP" 2>/dev/null
	rm -f "$RUN/www/100m"
	if [ "$BED" = 1 ]; then
		"$TB" down >&2 || log "testbed down reported errors"
	fi
	exit "$rc"
}

# ---- processes: CPU time and memory ----------------------------------------

# The pids $@ and all their descendants.
proc_tree() {
	local pid kid
	for pid in "$@"; do
		alive "$pid" || continue
		echo "$pid"
		# shellcheck disable=SC2013 # the file is a list of pids
		for kid in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
			proc_tree "$kid"
		done
	done
}

# utime + stime of every thread of the processes $@ and their children, in
# clock ticks (USER_HZ), then utime alone (user space: where the proxies'
# own code runs, the kernel's TCP work aside).  The fields after the ")" of
# the command name: state is 1, utime 12 and stime 13.
cpu_ticks() {
	local pid sum=0 user=0 f
	for pid in $(proc_tree "$@"); do
		f=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
		read -r -a f <<<"$f"
		sum=$((sum + f[11] + f[12]))
		user=$((user + f[11]))
	done
	echo "$sum $user"
}

# Resident set size of the processes $@ and their children, in KiB.
rss_kib() {
	local pid sum=0 kb
	for pid in $(proc_tree "$@"); do
		kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		sum=$((sum + ${kb:-0}))
	done
	echo "$sum"
}

fd_count() {
	local pid n=0
	for pid in $(proc_tree "$@"); do
		n=$((n + $(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)))
	done
	echo "$n"
}

# ---- the testbed and the origin ----------------------------------------------

# Replaces the @NAME@ tokens of tests/bench/$1 into $RUN/$1 (or $RUN/$2).
# origin-nginx.conf's come from origin_start()'s locals.
render() {
	local a_crt b_crt
	a_crt=$(certfile mf-node-a crt) b_crt=$(certfile mf-node-b crt)
	sed -e "s|@RUN@|$RUN|g" -e "s|@WWW@|$RUN/www|g" \
		-e "s|@CA@|$STATE/ca/ca.crt|g" \
		-e "s|@A_CRT@|$a_crt|g" -e "s|@A_KEY@|${a_crt%.crt}.key|g" \
		-e "s|@B_CRT@|$b_crt|g" -e "s|@B_KEY@|${b_crt%.crt}.key|g" \
		-e "s|@A_PEM@|$RUN/mf-node-a.pem|g" -e "s|@B_PEM@|$RUN/mf-node-b.pem|g" \
		-e "s|@MAXCONN@|$((IDLE_CONNS + 128))|g" \
		-e "s|@UPSTREAM_KEEPALIVE@|$([ "$REUSE" = 1 ] && echo 'keepalive 256;' || echo '# no upstream keep-alive: handshake run')|g" \
		-e "s|@HTTP_REUSE@|$([ "$REUSE" = 1 ] && echo always || echo never)|g" \
		-e "s|@ORIGIN_ADDR@|${origin_addr:-}:$ORIGIN_PORT|g" \
		-e "s|@ORIGIN_NAME@|${origin_name:-}|g" \
		"$BENCH/$1" >"$RUN/${2:-$1}"
}

# The node certificate file of node $1 (its .crt; .key beside it).
certfile() {
	echo "$STATE/$1/certs/mesh.local+ns+meshforge-system+sa+$1.$2"
}

bed_up() {
	local ns
	BED=1
	"$TB" up --apply "$BENCH/policy.yaml" >"$RUN/testbed-up.log" 2>&1 ||
		{ cat "$RUN/testbed-up.log" >&2; die "testbed up failed"; }
	cp "$BENCH/policy.yaml" "$RUN/policy-meshforge.yaml"
	cp "$BENCH/policy.yaml" "$RUN/policy-meshforge-free.yaml"
	cp "$BENCH/policy.yaml" "$RUN/policy-meshforge-2loops.yaml"
	cp "$BENCH/policy.yaml" "$RUN/policy-meshforge-sockmap.yaml"
	cp "$BENCH/policy.yaml" "$RUN/policy-meshforge-local.yaml"
	cp "$BENCH/policy.yaml" "$RUN/policy-meshforge-local-sockmap.yaml"
	cp "$BENCH/policy.yaml" "$RUN/policy-meshforge-frontdoor.yaml"
	sed 's/port: 80, protocol: tcp}/port: 80, protocol: http}/' \
		"$BENCH/policy.yaml" >"$RUN/policy-meshforge-l7.yaml"
	grep -q 'protocol: http}' "$RUN/policy-meshforge-l7.yaml" ||
		die "no TCP web service in $BENCH/policy.yaml to make HTTP"
	cat "$RUN/policy-meshforge-l7.yaml" "$BENCH/policy-resilience.yaml" \
		>"$RUN/policy-meshforge-l7-policy.yaml"
	# STRICT, the nodes' pod gateways exempt (the origin's readiness
	# probe comes from node b).
	sed "s|^spec: {trustDomain: mesh.local}$|spec: {trustDomain: mesh.local, mtls: {enabledBackend: ca, backends: [{name: ca, type: builtin, mode: STRICT}], exemptSources: [10.78.1.1/32, 10.78.2.1/32]}}|" \
		"$BENCH/policy.yaml" >"$RUN/policy-meshforge-strict.yaml"
	grep -q 'mode: STRICT' "$RUN/policy-meshforge-strict.yaml" ||
		die "no Mesh in $BENCH/policy.yaml to make STRICT"
	sed "s|^spec: {trustDomain: mesh.local}$|spec: {trustDomain: mesh.local, firewall: {perSource: {synRate: {num: $SYN_RATE, interval: 1s}}}}|" \
		"$BENCH/policy.yaml" >"$RUN/policy-meshforge-synflood.yaml"
	grep -q 'synRate' "$RUN/policy-meshforge-synflood.yaml" ||
		die "no Mesh in $BENCH/policy.yaml to give a firewall"
	if [[ " $PATHS " == *" meshforge-frontdoor "* ]]; then
		FD_CGROUP=$(dirname "$("$TB" cgroup a1)")/mf-bench-frontdoor
		mkdir "$FD_CGROUP" || die "cannot make the front door's cgroup $FD_CGROUP"
	fi
	if [[ " $PATHS " == *" meshforge-synflood "* ]]; then
		"$TB" exec b ip addr add "$FLOOD_SRC/24" dev mfwb ||
			die "cannot add the flood's source address on node b's wire"
	fi
	# New-connection runs open thousands of connections a second: let a
	# client port in TIME_WAIT be reused (it needs timestamps, on by
	# default), and give the idle run room for 10,000 ports from one pod,
	# above every port a server of the run listens on.
	for ns in mf-pod-a1 mf-node-a mf-node-b; do
		nsenter --net="/run/netns/$ns" -- sysctl -qw net.ipv4.tcp_tw_reuse=1 \
			net.ipv4.ip_local_port_range="20000 64999" ||
			die "sysctl in $ns failed"
	done
	# HAProxy wants certificate and key in one file.
	for ns in mf-node-a mf-node-b; do
		cat "$(certfile "$ns" crt)" "$(certfile "$ns" key)" >"$RUN/$ns.pem" || die "no certs for $ns"
		chmod 0600 "$RUN/$ns.pem"
	done
}

# origin_start POD ADDR NAME: the origin nginx in POD, listening on
# ADDR:ORIGIN_PORT, its files named NAME.*.
origin_start() {
	local pod=$1 origin_addr=$2 origin_name=$3 f
	mkdir -p "$RUN/www" "$RUN/$origin_name-tmp"
	# The same bytes on every path: a fixed 1 KiB text and 100 MiB of
	# random data made once per run.
	[ -f "$RUN/www/1k" ] || head -c 1024 /dev/zero | tr '\0' 'm' >"$RUN/www/1k"
	[ -f "$RUN/www/100m" ] || head -c "$BULK_BYTES" /dev/urandom >"$RUN/www/100m"
	render origin-nginx.conf "$origin_name.conf"
	f=$RUN/$origin_name.conf
	"$TB" exec "$pod" taskset -c "$CPU_ORIGIN" nginx -e "$RUN/$origin_name.error.log" -c "$f" \
		>"$RUN/$origin_name.log" 2>&1 </dev/null 9<&- &
	ORIGIN_PIDS+=("$!")
	wait_for 10 "$TB" exec "${pod%%[0-9]*}" curl -fs -o /dev/null -m 2 \
		"http://$origin_addr:$ORIGIN_PORT$BODY_SMALL" ||
		{ cat "$RUN/$origin_name.log" "$RUN/$origin_name.error.log" >&2 2>/dev/null; die "origin $origin_name did not start"; }
}

# ---- the paths ---------------------------------------------------------------

# start_proxy NODE NAME CMD...: a proxy in NODE's namespace on CPU_PROXY.
start_proxy() {
	local node=$1 name=$2
	shift 2
	"$TB" exec "$node" taskset -c "$CPU_PROXY" "$@" >"$RUN/$name.log" 2>&1 </dev/null 9<&- &
	PATH_PIDS+=("$!")
}

# path_start PATH: starts the proxies of PATH and waits until a request
# goes through.  Returns 1 (proxies stopped) when the path does not work.
path_start() {
	local path=$1 pid cpus=$CPU_PROXY loops=1
	PATH_PIDS=()
	case "$path" in
	direct | local-direct | host-direct) ;;
	meshforge | meshforge-free | meshforge-2loops | meshforge-sockmap | meshforge-strict | meshforge-synflood | meshforge-l7 | meshforge-l7-policy | \
		meshforge-local | meshforge-local-sockmap | meshforge-frontdoor)
		# Two loops get two CPUs, and so does one loop set free;
		# every other path one.
		case "$path" in
		meshforge-2loops) cpus=$CPU_PROXY2 loops=2 ;;
		meshforge-free) cpus=$CPU_PROXY2 ;;
		esac
		# The same service, at L4 or at L7 as its policy says.
		"$TB" apply "$RUN/policy-$path.yaml" >"$RUN/apply.log" 2>&1 ||
			{ cat "$RUN/apply.log" >&2; return 1; }
		# The agents inherit the CPU mask (and the descriptor limit).
		# The fast path on: a failed self-test stops the path here.
		# Admission sized to the bench as nginx's and HAProxy's
		# maxconn are: one client holds every idle connection, and a
		# step opens IDLE_STEP at once, each a handshake at node b
		# (the defaults, half the table per listener and half that per
		# source, would refuse what the other pairs take).
		local admit=$((IDLE_CONNS + 128 > 16384 ? 16384 : IDLE_CONNS + 128))
		local extra="--max-conns-per-listener $admit"
		extra+=" --max-conns-per-source $admit"
		extra+=" --max-handshakes $((IDLE_STEP + 128))"
		# The front door is node a's: its cgroup links would rewrite
		# the client's connect() twice were agent b given it too.
		local extra_a=""
		case "$path" in
		meshforge-sockmap | meshforge-local-sockmap) extra+=" --sockmap on" ;;
		meshforge-frontdoor) extra_a=" --workload-cgroup $FD_CGROUP=spiffe://mesh.local/ns/default/sa/client" ;;
		esac
		MF_AGENT_ARGS="${MF_AGENT_ARGS:-} $extra$extra_a" MF_AGENT_THREADS=$loops \
			taskset -c "$cpus" "$TB" agents-start a >"$RUN/agents-start.log" 2>&1 &&
			MF_AGENT_ARGS="${MF_AGENT_ARGS:-} $extra" MF_AGENT_THREADS=$loops \
				taskset -c "$cpus" "$TB" agents-start b >>"$RUN/agents-start.log" 2>&1 ||
			{ cat "$RUN/agents-start.log" >&2; return 1; }
		PATH_PIDS=("$("$TB" pid a)" "$("$TB" pid b)")
		;;
	nginx)
		mkdir -p "$RUN/nginx-out-tmp" "$RUN/nginx-in-tmp"
		render nginx-out.conf
		render nginx-in.conf
		start_proxy b nginx-in nginx -e "$RUN/nginx-in.error.log" -c "$RUN/nginx-in.conf"
		start_proxy a nginx-out nginx -e "$RUN/nginx-out.error.log" -c "$RUN/nginx-out.conf"
		;;
	haproxy)
		render haproxy-out.cfg
		render haproxy-in.cfg
		start_proxy b haproxy-in haproxy -db -f "$RUN/haproxy-in.cfg"
		start_proxy a haproxy-out haproxy -db -f "$RUN/haproxy-out.cfg"
		;;
	*) log "unknown path $path"; return 1 ;;
	esac
	# Pin every thread, io_uring workers included, whatever they inherited.
	for pid in $(proc_tree "${PATH_PIDS[@]}"); do
		taskset -a -p -c "$cpus" "$pid" >/dev/null 2>&1
	done
	client_of "$path"
	if ! wait_for 10 "${CLIENT[@]}" curl -fs -o /dev/null -m 2 "${URL[$path]}$BODY_SMALL"; then
		log "path $path does not answer; logs:"
		tail -n 5 "$RUN"/*.error.log "$RUN"/*-out.log "$RUN"/*-in.log "$STATE"/mf-node-*/agent.log 2>/dev/null >&2
		path_stop
		return 1
	fi
	if [ "$path" = meshforge-synflood ] && ! flood_start; then
		path_stop
		return 1
	fi
	return 0
}

# SYNs node a's XDP program dropped for their source's rate so far.
syn_drops() {
	"$TB" exec a curl -sS -m 5 http://127.0.0.1:15000/metrics 2>/dev/null |
		awk '$1 == "meshforge_pod_packets_total{reason=\"xdp_drop_syn_rate\"}" {print $2; f = 1}
		     END {if (!f) print 0}'
}

# flood_start: SYNs from FLOOD_SRC to node a's tunnel port, one every
# FLOOD_GAP_US, on the load generator's CPU, until flood_stop (or
# FLOOD_MAX seconds).  Fails when the agent shows no firewall.
flood_start() {
	FLOOD_OUT=$RUN/flood-$CUR_REP.txt
	FLOOD_D0=$(syn_drops)
	FLOOD_T0=$(date +%s.%N)
	"$TB" exec b timeout -s INT "$FLOOD_MAX" taskset -c "$CPU_LOAD" \
		hping3 -q -S -a "$FLOOD_SRC" -p "$FLOOD_PORT" -i "u$FLOOD_GAP_US" "$FLOOD_DST" \
		>"$FLOOD_OUT" 2>&1 </dev/null 9<&- &
	FLOOD_PID=$!
	sleep 1
	if ! alive "$FLOOD_PID"; then
		log "the SYN flood did not start: $(tail -n 3 "$FLOOD_OUT")"
		FLOOD_PID=""
		return 1
	fi
	return 0
}

# flood_stop PATH: ends the flood and records what was sent and dropped.
flood_stop() {
	local n=50 t1 d1 sent
	[ -n "$FLOOD_PID" ] || return 0
	d1=$(syn_drops)
	t1=$(date +%s.%N)
	# hping3 prints its count on SIGINT; timeout (the pid: testbed.sh
	# and nsenter exec it) passes INT on to it.
	kill -INT "$FLOOD_PID" 2>/dev/null
	while alive "$FLOOD_PID" && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	stop_pid "$FLOOD_PID"
	FLOOD_PID=""
	sent=$(sed -n 's/^\([0-9][0-9]*\) packets tra.*/\1/p' "$FLOOD_OUT" | tail -n 1)
	record "$1" synflood "$CUR_REP" /dev/null sent="${sent:-0}" \
		dropped=$((d1 - FLOOD_D0)) seconds="$(awk -v a="$t1" -v b="$FLOOD_T0" 'BEGIN {printf "%.3f", a - b}')"
}

# path_check PATH REP: records a proxy of PATH that is gone before we
# stopped it (a crash: its figures of this repetition are suspect).
path_check() {
	local pid
	for pid in "${PATH_PIDS[@]}"; do
		alive "$pid" && continue
		log "path $1: proxy pid $pid exited during repetition $2"
		record "$1" crash "$2" /dev/null pid="$pid"
	done
}

path_stop() {
	local pid node
	flood_stop meshforge-synflood
	if [ -n "$("$TB" pid a 2>/dev/null)$("$TB" pid b 2>/dev/null)" ]; then
		"$TB" agents-stop >/dev/null 2>&1
		# testbed down removes the agents' logs with its state dir.
		for node in mf-node-a mf-node-b; do
			cat "$STATE/$node/agent.log" >>"$RUN/agent-$node.log" 2>/dev/null
			: >"$STATE/$node/agent.log"
		done
	fi
	for pid in "${PATH_PIDS[@]}"; do
		stop_pid "$pid"
	done
	PATH_PIDS=()
	# The other paths dial pods directly: no mode in force for them.
	"$TB" apply "$RUN/policy-meshforge.yaml" >/dev/null 2>&1
}

# ---- measurements ------------------------------------------------------------

# record PATH TEST REP RESULT_FILE [KEY=NUMBER...]: one line of raw.jsonl.
record() {
	"$PY" "$REPORT" record --path "$1" --test "$2" --rep "$3" --result "$4" "${@:5}" >>"$RAW"
}

# client_of PATH: CLIENT becomes the command prefix that runs a command
# as PATH's client does: in pod a1; for host-direct in node a's network
# namespace, as a process of no pod; for meshforge-frontdoor the same in
# the front door's cgroup (the shell moves itself, then execs the command:
# the command keeps the pid, which measure_idle() waits for).
client_of() {
	case "$1" in
	host-direct) CLIENT=("$TB" exec a) ;;
	meshforge-frontdoor)
		CLIENT=("$TB" exec a sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$FD_CGROUP")
		;;
	*) CLIENT=("$TB" exec a1) ;;
	esac
}

# load PATH OUTFILE ARGS...: the load generator as PATH's client, on CPU_LOAD.
load() {
	local out=$2
	client_of "$1"
	shift 2
	"${CLIENT[@]}" taskset -c "$CPU_LOAD" "$LOAD" "$@" >"$out" 2>"$out.err" </dev/null 9<&-
}

# loop_turns NODE: the agent's loop-turn histogram (meshforge_loop_turn_seconds,
# every loop) as its /metrics lines.
loop_turns() {
	"$TB" exec "$1" curl -sS -m 5 http://127.0.0.1:15000/metrics 2>/dev/null |
		grep '^meshforge_loop_turn_seconds'
}

# What mf_schedlat watches, as NAME:PID: the agents (with every process
# below them), the kernel's softirq threads, the load generator and the
# origin.
sched_groups() {
	local pid
	for pid in $(proc_tree "${PATH_PIDS[@]}"); do echo "agents:$pid"; done
	for pid in $(pgrep '^ksoftirqd/'); do echo "ksoftirqd:$pid"; done
	for pid in $(pgrep -x "$(basename "$LOAD")"); do echo "load:$pid"; done
	for pid in $(proc_tree "${ORIGIN_PIDS[@]}"); do echo "origin:$pid"; done
}

# stall_keys FILE: cyclictest's summary in FILE (-q -h) as the record's
# keys stall_count (wake-ups 10 ms late or more, all CPUs) and
# stall_max_us (the latest, µs).
stall_keys() {
	awk '/^# Histogram Overflows:/ {for (i = 4; i <= NF; i++) n += $i}
		/^# Max Latencies:/ {for (i = 4; i <= NF; i++) if ($i + 0 > m) m = $i + 0}
		END {if (m != "") printf "stall_count=%d stall_max_us=%d\n", n, m}' "$1"
}

# measure_loaded PATH TEST REP ARGS...: a load generator run with the
# proxies' CPU time sampled across its measured part (after the warm-up).
# For a meshforge path's latency runs, also where the time went over that
# part (docs/benchmarks.md "Where the added latency goes"): the run-queue
# waits and CPU time of the agents, softirq threads, load generator and
# origin (mf_schedlat), and the agents' loop-turn histograms before and
# after.  For every path's latency runs, the machine's own stalls over
# that part: cyclictest (rt-tests), a timer thread per CPU at the highest
# priority waking every 10 ms, counts the wake-ups that came 10 ms late
# or more.  On a virtual machine whose host stops its CPUs (a CPU quota
# spent, say) a request in flight then waits for all of them, whatever the
# path; cheap enough (200 wake-ups a second) not to move the figures.
measure_loaded() {
	local path=$1 test=$2 rep=$3 out c0 c1 u0 u1 lpid rc spid="" cpid="" extra=()
	shift 3
	out=$RUN/$path-$test-$rep.json
	load "$path" "$out" "$@" &
	lpid=$!
	sleep "$WARMUP"
	read -r c0 u0 <<<"$(cpu_ticks "${PATH_PIDS[@]}")"
	# MF_BENCH_PERF=1: where the proxies' CPU goes in this run, as
	# perf's call graphs (perf report -i FILE), across every thread of
	# the path's processes.
	# MF_BENCH_PERF=stat: counts instead (CPU time, instructions where
	# the CPU has counters for perf, system calls, context switches),
	# which per request, but for CPU time, depend far less on what else
	# the machine runs.
	if [ "${MF_BENCH_PERF:-}" = stat ] && [ "${#PATH_PIDS[@]}" -gt 0 ] &&
		[[ "$test" == max || "$test" == newconn ]]; then
		perf stat -x, -e task-clock,instructions:u,instructions:k,raw_syscalls:sys_enter,context-switches \
			-o "$OUT/perfstat-$path-$test-$rep.csv" \
			-p "$(proc_tree "${PATH_PIDS[@]}" | paste -sd,)" -- sleep "$DURATION" \
			>/dev/null 2>&1 </dev/null 9<&- &
	elif [ -n "${MF_BENCH_PERF:-}" ] && [ "${#PATH_PIDS[@]}" -gt 0 ] &&
		[[ "$test" == max || "$test" == newconn ]]; then
		local cg=fp
		[ "$MF_BENCH_PERF" = dwarf ] && cg=dwarf
		perf record -q --call-graph "$cg" -o "$OUT/perf-$path-$test-$rep.data" \
			-p "$(IFS=,; echo "${PATH_PIDS[*]}")" -- sleep "$DURATION" \
			>/dev/null 2>&1 </dev/null 9<&- &
	fi
	if [[ "$test" == lat* ]] && command -v cyclictest >/dev/null; then
		cyclictest -S -m -p 99 -i 10000 -D "$DURATION" -q -h 10000 \
			>"$out.stalls" 2>&1 </dev/null 9<&- &
		cpid=$!
	fi
	if [[ "$path" == meshforge* && "$test" == lat* ]]; then
		loop_turns a >"$out.turns-a0"
		loop_turns b >"$out.turns-b0"
		"$SCHEDLAT" "$SCHEDLAT_BPF" "$DURATION" $(sched_groups) \
			>"$out.sched" 2>"$out.sched.err" </dev/null 9<&- &
		spid=$!
	fi
	wait "$lpid"
	rc=$?
	read -r c1 u1 <<<"$(cpu_ticks "${PATH_PIDS[@]}")"
	if [ -n "$cpid" ]; then
		wait "$cpid"
		# shellcheck disable=SC2207
		extra+=($(stall_keys "$out.stalls"))
	fi
	if [ -n "$spid" ]; then
		kill -INT "$spid" 2>/dev/null
		wait "$spid" && extra+=(sched="$out.sched")
		loop_turns a >"$out.turns-a1"
		loop_turns b >"$out.turns-b1"
		extra+=(turns="$out.turns")
	fi
	record "$path" "$test" "$rep" "$out" cpu_ticks=$((c1 - c0)) cpu_user_ticks=$((u1 - u0)) \
		clk_tck="$(getconf CLK_TCK)" load_exit="$rc" "${extra[@]}"
}

# The 100 MiB download, BULK_RUNS times (each a figure: one download is
# a third of a second, and varies by a third from one to the next here),
# after one not measured, as the loaded runs have their warm-up: a proxy's
# first bulk transfer also pays the first touch of its buffers (the
# agents' receive rings: 8,000 page faults, a third more CPU for that
# download on the testbed), which later ones do not.
measure_bulk() {
	local path=$1 rep=$2 out i
	client_of "$path"
	"${CLIENT[@]}" taskset -c "$CPU_LOAD" curl -s -o /dev/null -m 120 \
		"${URL[$path]}$BODY_BULK" >/dev/null 2>&1 </dev/null 9<&-
	for i in $(seq 1 "$BULK_RUNS"); do
		out=$RUN/$path-bulk-$rep-$i.txt
		"${CLIENT[@]}" taskset -c "$CPU_LOAD" curl -s -o /dev/null -m 120 \
			-w '{"http_code": %{http_code}, "size_download": %{size_download}, "time_total": %{time_total}}' \
			"${URL[$path]}$BODY_BULK" >"$out" 2>"$out.err" </dev/null 9<&-
		record "$path" bulk "$rep" "$out" curl_exit=$? expect_bytes="$BULK_BYTES"
	done
}

# settle PIDS...: waits (up to 120 s) until the descriptor count of PIDS
# has held still for 1.5 s; prints it.
settle() {
	local prev=-1 n=0 fds=0 deadline=$((SECONDS + 120))
	while [ "$n" -lt 3 ] && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.5
		fds=$(fd_count "$@")
		if [ "$fds" = "$prev" ]; then n=$((n + 1)); else n=0; fi
		prev=$fds
	done
	echo "$fds"
}

# The RSS of the path's proxies with IDLE_CONNS connections open through
# it, against the RSS just before.  The connections are opened in steps of
# IDLE_STEP, one load generator each, the next step only once the proxies'
# descriptor count has settled: a load generator's connect completes at the
# first proxy, and an L4 proxy then still sets up the rest of the path
# (mTLS handshake, upstream connect) under a deadline.  A burst of 10,000
# handshakes would measure that deadline, not memory.
measure_idle() {
	local path=$1 rep=$2 out rss0 rss1=0 fds0 fds1=0 left step i=0 ok=1 lpids=() files=() f rc=0 r
	out=$RUN/$path-idle-$rep.txt
	rss0=$(rss_kib "${PATH_PIDS[@]}")
	fds0=$(fd_count "${PATH_PIDS[@]}")
	left=$IDLE_CONNS
	client_of "$path"
	while [ "$left" -gt 0 ]; do
		step=$((left < IDLE_STEP ? left : IDLE_STEP))
		left=$((left - step))
		i=$((i + 1))
		f=$out.$i
		# Started here, not through load(): $! must be the load
		# generator itself (testbed.sh, nsenter and taskset exec it).
		"${CLIENT[@]}" taskset -c "$CPU_LOAD" "$LOAD" --url "${URL[$path]}$BODY_SMALL" \
			--idle "$step" --hold "$IDLE_HOLD_MAX" --timeout 30 \
			>"$f" 2>"$f.err" </dev/null 9<&- &
		lpids+=("$!")
		files+=("$f")
		until grep -qs '^idle_open=' "$f" || ! alive "$!"; do
			sleep 0.1
		done
		grep -qs '^idle_open=' "$f" || { ok=0; break; }
		fds1=$(settle "${PATH_PIDS[@]}")
	done
	[ "$ok" = 1 ] && rss1=$(rss_kib "${PATH_PIDS[@]}")
	for f in "${lpids[@]}"; do
		kill -TERM "$f" 2>/dev/null
	done
	for f in "${lpids[@]}"; do
		wait "$f"
		r=$?
		[ "$r" = 0 ] || rc=$r
	done
	# One summary for the report: the steps' counts added up.
	"$PY" "$REPORT" idle-sum "${files[@]}" >"$out" 2>"$out.err"
	record "$path" idle "$rep" "$out" rss_before_kib="$rss0" rss_open_kib="$rss1" \
		fds_before="$fds0" fds_open="$fds1" load_exit="$rc" conns="$IDLE_CONNS" steps="$i"
}

capacity_rep() {
	local path=$1 rep=$2 url=${URL[$1]}
	log "capacity rep $rep: $path"
	CUR_REP=$rep
	if ! path_start "$path"; then
		record "$path" start "$rep" /dev/null failed=1
		return
	fi
	# One request so TLS contexts and first-connection setup are in the
	# idle figure, as they would be in a proxy that has served before.
	client_of "$path"
	"${CLIENT[@]}" curl -fs -o /dev/null -m 5 "$url$BODY_SMALL"
	[ "${#PATH_PIDS[@]}" -gt 0 ] &&
		record "$path" rss_idle "$rep" /dev/null rss_kib="$(rss_kib "${PATH_PIDS[@]}")" \
			fds="$(fd_count "${PATH_PIDS[@]}")"
	measure_loaded "$path" max "$rep" --url "$url$BODY_SMALL" --max --conns "$CONNS" \
		--duration "$DURATION" --warmup "$WARMUP"
	if [ "$path" = meshforge-synflood ]; then
		# Under the flood: what a legitimate client still gets, not
		# what the path holds otherwise (the meshforge path says).
		path_check "$path" "$rep"
		path_stop
		return
	fi
	measure_loaded "$path" newconn "$rep" --url "$url$BODY_SMALL" --new-conn \
		--conns "$NEWCONN_CONNS" --duration "$NEWCONN_DURATION" --warmup "$WARMUP"
	measure_bulk "$path" "$rep"
	[ "${#PATH_PIDS[@]}" -gt 0 ] && measure_idle "$path" "$rep"
	path_check "$path" "$rep"
	path_stop
	case "$path" in
	nginx | haproxy)
		REUSE=0
		if path_start "$path"; then
			measure_loaded "$path" newconn_mtls "$rep" --url "$url$BODY_SMALL" --new-conn \
				--conns "$NEWCONN_CONNS" --duration "$NEWCONN_DURATION" --warmup "$WARMUP"
			path_check "$path" "$rep"
			path_stop
		else
			record "$path" start "$rep" /dev/null failed=1 phase=3
		fi
		REUSE=1
		;;
	esac
}

latency_rep() {
	local path=$1 rep=$2 rate25=$3 rate50=$4 url=${URL[$1]}
	log "latency rep $rep: $path ($rate25/s, $rate50/s)"
	CUR_REP=$rep
	if ! path_start "$path"; then
		record "$path" start "$rep" /dev/null failed=1 phase=2
		return
	fi
	measure_loaded "$path" lat25 "$rep" --url "$url$BODY_SMALL" --rate "$rate25" \
		--conns "$CONNS" --duration "$DURATION" --warmup "$WARMUP"
	measure_loaded "$path" lat50 "$rep" --url "$url$BODY_SMALL" --rate "$rate50" \
		--conns "$CONNS" --duration "$DURATION" --warmup "$WARMUP"
	path_check "$path" "$rep"
	path_stop
}

# ---- main --------------------------------------------------------------------

# store-scale is a bench of its own (bench-scale.sh), not a path here.
SCALE=0
rest=""
for path in $PATHS; do
	if [ "$path" = store-scale ]; then
		SCALE=1
	else
		rest+="${rest:+ }$path"
	fi
done
PATHS=$rest
if [ -z "$PATHS" ]; then
	[ "$SCALE" = 1 ] || die "MF_BENCH_PATHS names no path"
	O=$O "$top/scripts/bench-scale.sh"
	exit $?
fi
[ "$(id -u)" = 0 ] || die "must run as root"
for path in $PATHS; do
	[ -n "${URL[$path]+set}" ] || die "unknown path '$path' in MF_BENCH_PATHS (${!URL[*]} store-scale)"
done
for b in "$O/bin/mfctl" "$O/bin/meshforge-agent" "$LOAD" "$SCHEDLAT"; do
	[ -x "$b" ] || die "$b is not built (make bench builds it)"
done
if [[ " $PATHS " == *" meshforge-synflood "* ]] && ! command -v hping3 >/dev/null; then
	die "missing hping3 for the meshforge-synflood path (scripts/deps.sh --bench installs it)"
fi
for c in ip nsenter flock taskset curl nginx haproxy gnuplot "$PY"; do
	command -v "$c" >/dev/null || die "missing $c (scripts/deps.sh --bench installs it)"
done
# Raising the hard limit needs CAP_SYS_RESOURCE; without it the soft limit
# goes up to the hard one, and the idle run shrinks to what fits, saying so.
ulimit -Hn "$NOFILE" 2>/dev/null
ulimit -n "$(ulimit -Hn)" || die "cannot raise the descriptor limit"
fit=$((($(ulimit -n) - 512) / 2))
if [ "$IDLE_CONNS" -gt "$fit" ]; then
	log "descriptor limit $(ulimit -n) (hard; raising it needs CAP_SYS_RESOURCE):" \
		"an L4 proxy holds two per connection, so the idle run uses $fit connections, not $IDLE_CONNS"
	IDLE_CONNS=$fit
fi

# One testbed user at a time: the same lock as the tests (tests/harness/testlib.sh).
exec 9>>/run/mf-testbed.lock
log "waiting for the testbed lock"
flock -w 900 9 || die "another testbed run held the lock for 15 minutes"
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$RUN" "$RAW"
mkdir -p "$RUN" || die "cannot create $RUN"
# The binaries under test, copied: a rebuild during the run must not give
# one repetition another agent than the next.
cp "$O/bin/meshforge-agent" "$O/bin/mfctl" "$RUN/" || die "cannot copy the binaries"
export AGENT=$RUN/meshforge-agent MFCTL=$RUN/mfctl
start=$SECONDS
log "paths: $PATHS; $REPS reps; ${DURATION}s runs after ${WARMUP}s warm-up; CPU: load $CPU_LOAD, origin $CPU_ORIGIN, proxies $CPU_PROXY"
bed_up
origin_start b1 "$ORIGIN_IP" origin
case " $PATHS " in
*" local-direct "* | *" meshforge-local"* | *" host-direct "* | *" meshforge-frontdoor "*)
	origin_start a2 "$LOCAL_IP" origin-local
	;;
esac

for rep in $(seq 1 "$REPS"); do
	for path in $PATHS; do
		capacity_rep "$path" "$rep"
	done
done

# Each path's open-loop rates are 25% and 50% of its direct path's
# maximum (bench_report.py's BASELINE: the same-node paths have their own).
for rep in $(seq 1 "$REPS"); do
	for path in $PATHS; do
		if rates=$("$PY" "$REPORT" rates "$RAW" --path "$path"); then
			read -r rate25 rate50 <<<"$rates"
			latency_rep "$path" "$rep" "$rate25" "$rate50"
		elif [ "$rep" = 1 ]; then
			log "no maximum for $path's direct path: its latency runs are skipped"
		fi
	done
done

settings="runs ${DURATION} s after ${WARMUP} s warm-up, $CONNS connections"
settings+="; new connections: $NEWCONN_CONNS concurrent for ${NEWCONN_DURATION} s"
settings+="; idle: $IDLE_CONNS connections"
settings+="; CPUs: proxies of both nodes $CPU_PROXY (meshforge-2loops, meshforge-free: $CPU_PROXY2), load generator $CPU_LOAD, origin $CPU_ORIGIN"
"$PY" "$REPORT" report "$RAW" --out "$OUT" --seconds $((SECONDS - start)) \
	--command "${MF_BENCH_COMMAND:-make bench}" --settings "$settings" --agent "$AGENT" ||
	die "report failed"
if gnuplot -e "datafile='$OUT/chart.dat'; outfile='$OUT/chart.png'" "$BENCH/chart.gp" 2>"$RUN/gnuplot.log"; then
	log "chart: $OUT/chart.png"
else
	log "gnuplot failed: $(cat "$RUN/gnuplot.log")"
fi
cat "$OUT/results.md"
log "results: $OUT/results.md, $OUT/results.json, raw runs $RAW ($((SECONDS - start)) s)"
if [ "$SCALE" = 1 ]; then
	O=$O "$top/scripts/bench-scale.sh" || die "store-scale failed"
fi
