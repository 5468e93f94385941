# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # variables for the tests that source it
#
# Helpers for the testbed integration tests (tests/integration/test_*.sh).
# Source it, then call tl_init with the test's name:
#
#	. "$(dirname "$0")/../harness/testlib.sh"
#	tl_init test_mesh
#	tl_require_testbed            # skips unless root + netns/veth/bpffs/cgroup2
#	tl_bed_up --agents            # testbed up; a trap takes it down on any exit
#	...; pass case_name / fail case_name "why"
#	tl_finish                     # exit status: 1 when any case failed
#
# Output lines, counted by tests/run.sh:
#	PASS: <test>/<case>    FAIL: <test>/<case>    SKIP: <test>: <reason>
# Diagnostics go to stderr, which run.sh shows for a failing test.

set -u

TL_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$TL_TOP/$O" ;; esac
export O
TB="$TL_TOP/scripts/testbed.sh"
MFCTL="$O/bin/mfctl"
AGENT="$O/bin/meshforge-agent"
TL_TOOLS="$TL_TOP/tests/tools"
TL_PY=/usr/bin/python3
TL_STATE=/run/mf-testbed
TL_NAME="test"
TL_PASSED=0
TL_FAILED=0
TL_BED=0
TL_TMP=""

tl_init() {
	TL_NAME=$1
	TL_TMP=$(mktemp -d "/tmp/mf-$TL_NAME.XXXXXX") || exit 2
	trap tl_cleanup EXIT
	trap 'exit 130' INT TERM
}

tl_log() { printf '%s: %s\n' "$TL_NAME" "$*" >&2; }

# Ends the whole test as skipped: the machine cannot run it, which is not a
# failure of the code under test.
skip() {
	echo "SKIP: $TL_NAME: $*"
	exit 0
}

pass() {
	echo "PASS: $TL_NAME/$1"
	TL_PASSED=$((TL_PASSED + 1))
}

# fail CASE [WHY...]
fail() {
	local c=$1
	shift
	[ $# -gt 0 ] && tl_log "$c: $*"
	echo "FAIL: $TL_NAME/$c"
	TL_FAILED=$((TL_FAILED + 1))
}

# check CASE CMD...: pass when CMD succeeds, else fail.
check() {
	local c=$1
	shift
	if "$@"; then pass "$c"; else fail "$c" "command failed: $*"; fi
}

tl_finish() {
	[ "$TL_FAILED" -eq 0 ]
	exit $?
}

# wait_for TIMEOUT_S CMD...: polls CMD every 0.1 s until it succeeds (0) or
# TIMEOUT_S seconds have passed (1).
wait_for() {
	local timeout=$1 deadline
	shift
	deadline=$(($(date +%s%N) + timeout * 1000000000))
	until "$@"; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

tl_cleanup() {
	local rc=$?
	# A second Ctrl-C must not cut the teardown short.
	trap '' INT TERM
	if [ "$TL_BED" = 1 ]; then
		# Keep the agents' logs of a failing run for the person reading it.
		if [ "$TL_FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
			local n
			for n in mf-node-a mf-node-b; do
				[ -f "$TL_STATE/$n/agent.log" ] || continue
				echo "---- $n agent.log (last 30 lines) ----" >&2
				tail -n 30 "$TL_STATE/$n/agent.log" >&2
			done
		fi
		"$TB" down >&2 || echo "FAIL: $TL_NAME/testbed_down"
		TL_BED=0
	fi
	[ -n "$TL_TMP" ] && rm -rf "$TL_TMP"
	exec 9<&- 2>/dev/null
	exit "$rc"
}

# ---- requirements ----------------------------------------------------------

tl_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "missing command $c"
	done
}

# Skips unless this machine can build the testbed: root, network namespaces,
# veth, bpffs and a cgroup v2 hierarchy.  The probe names carry the mf prefix
# and are removed at once.
tl_require_testbed() {
	local ns=mf-probe-tl$$ ok=1
	[ "$(id -u)" = 0 ] || skip "needs root"
	tl_require_cmd ip nsenter flock "$TL_PY" curl
	ip netns add "$ns" 2>/dev/null || skip "cannot create network namespaces"
	ip -n "$ns" link add mfprobe0 type veth peer name mfprobe1 2>/dev/null || ok=0
	ip netns del "$ns"
	[ "$ok" = 1 ] || skip "no veth support"
	if [ "$(stat -fc %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
		mount -t bpf bpf /sys/fs/bpf 2>/dev/null || skip "bpffs cannot be mounted"
	fi
	grep -qw cgroup2 /proc/filesystems || skip "no cgroup2 filesystem"
	tl_lock
}

# tl_require_built BIN...: a missing binary is a build failure, which a test
# must report, not skip.
tl_require_built() {
	local b
	for b in "$@"; do
		[ -x "$b" ] && continue
		fail build "$b is not built (run make tests)"
		tl_finish
	done
}

# One testbed at a time on this machine, whichever checkout runs it: hold
# the machine-wide testbed lock for the whole test.  The lock file is the
# one thing a run leaves in place: removing it would race the next holder.
tl_lock() {
	exec 9>>/run/mf-testbed.lock
	flock -w 600 9 || skip "another testbed run held the lock for 10 minutes"
}

# ---- the testbed -----------------------------------------------------------

# tl_bed_up [testbed up options]: up with the shipped policy; a failure to
# come up fails the test (FAIL: <test>/testbed_up) and ends it.
tl_bed_up() {
	TL_BED=1
	if ! "$TB" up "$@" >"$TL_TMP/up.log" 2>&1; then
		cat "$TL_TMP/up.log" >&2
		fail testbed_up "testbed.sh up $* failed"
		tl_finish
	fi
}

# tb_exec NAME CMD...: run CMD in pod or node NAME (a1, b, mf-pod-b1, ...).
tb_exec() { "$TB" exec "$@"; }

# tl_ctl NODE ARGS...: mfctl on node NODE's (a or b) maps and state, from
# the host, as testbed.sh apply runs it.
tl_ctl() {
	local node=mf-node-$1
	shift
	"$MFCTL" --bpf-root "/sys/fs/bpf/$node" \
		--state-dir "$TL_STATE/$node/state" --run-dir "$TL_STATE/run" "$@"
}

# tl_bg NAME LOG CMD...: starts CMD in the background in NAME, output to LOG.
# Its pid goes to TL_BG_PID.  testbed down kills it with its namespace.
tl_bg() {
	local name=$1 log=$2
	shift 2
	"$TB" exec "$name" "$@" >"$log" 2>&1 </dev/null 9<&- &
	TL_BG_PID=$!
}

# The echo server of tests/tools/mf_load.c ($O/tests/tools/mf_load serve)
# in pods b1 and b2 on port 8080; one that does not listen ends the test.
tl_echo_up() {
	local p
	for p in b1 b2; do
		tl_bg "$p" "$TL_TMP/echo-$p.log" "$O/tests/tools/mf_load" serve \
			"10.78.2.1${p#b}" 8080
		wait_for 5 grep -q listening "$TL_TMP/echo-$p.log" ||
			{ fail "echo_$p" "$(cat "$TL_TMP/echo-$p.log")"; tl_finish; }
	done
}

# Starts mf_httpd in pod $1 (a1 .. b2) on port 8080 and waits until its
# node can fetch /whoami.  The token file is served at /token; the pods
# of a test share one state dir (the /flaky counts).
tl_httpd() {
	local pod=$1 token=${2:-/dev/null} node ip
	case "$pod" in a*) node=mf-node-a ;; *) node=mf-node-b ;; esac
	case "$pod" in a1) ip=10.78.1.11 ;; a2) ip=10.78.1.12 ;; b1) ip=10.78.2.11 ;; b2) ip=10.78.2.12 ;; esac
	mkdir -p "$TL_TMP/httpd-state"
	tl_bg "$pod" "$TL_TMP/httpd-$pod.log" "$TL_PY" "$TL_TOOLS/mf_httpd.py" \
		--bind "$ip" --port 8080 --pod "mf-pod-$pod" --node "$node" --token-file "$token" \
		--state-dir "$TL_TMP/httpd-state"
	wait_for 10 tb_exec "$node" curl -fs -o /dev/null -m 1 "http://$ip:8080/whoami" || {
		tl_log "httpd in $pod did not come up"
		cat "$TL_TMP/httpd-$pod.log" >&2
		return 1
	}
}

# tl_proto_py: the Python classes protoc makes of proto/, in $TL_TMP/pb
# (import them with that directory on sys.path).
tl_proto_py() {
	mkdir -p "$TL_TMP/pb"
	(cd "$TL_TOP/proto" && protoc --python_out="$TL_TMP/pb" \
		$(find . -name '*.proto' | sed 's|^\./||'))
}

# tl_otlp NODE GRPC-PORT [HTTP-PORT]: an OpenTelemetry collector
# (tests/tools/mf_otlp.py) on 127.0.0.1 in NODE's namespace, keeping each
# request in $TL_TMP/otlp.out, its pid in $TL_TMP/otlp.pid; and the
# Python classes of proto/ in $TL_TMP/pb, for tl_otlp_read.  Returns 1
# when it does not come up.
tl_otlp() {
	tl_proto_py || return 1
	tl_bg "$1" "$TL_TMP/otlp.log" "$TL_PY" "$TL_TOOLS/mf_otlp.py" serve \
		--grpc-port "$2" ${3:+--http-port "$3"} --out "$TL_TMP/otlp.out" \
		--pid "$TL_TMP/otlp.pid"
	wait_for 10 grep -q listening "$TL_TMP/otlp.log" || {
		cat "$TL_TMP/otlp.log" >&2
		return 1
	}
}

# tl_otlp_read: what the collector of tl_otlp got, one JSON line per log
# record or span (tests/tools/mf_otlp.py read).
tl_otlp_read() {
	"$TL_PY" "$TL_TOOLS/mf_otlp.py" read "$TL_TMP/otlp.out" --pb "$TL_TMP/pb"
}

# tl_tcp_exchange POD VIP: one connection from POD to VIP:80 asking
# GET /bytes/1000 and reading to the end; prints the request's and the
# answer's sizes as the client counted them, and the answer's status.
tl_tcp_exchange() {
	tb_exec "$1" "$TL_PY" - "$2" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
req = b"GET /bytes/1000 HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n"
s.sendall(req)
got = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
s.close()
print(len(req), len(got), got.split(b" ")[1].decode() if got else "-")
PY
}

# tl_web_http: the shipped policy.yaml with the web Service declared
# `protocol: http` (its requests go through the agents' L7 engine), on
# stdout.
tl_web_http() {
	sed -e 's/spec: {vip: 10.96.0.10, port: 80, protocol: tcp}/spec: {vip: 10.96.0.10, port: 80, protocol: http}/' \
		"$TL_TOP/tests/integration/policy.yaml"
}

# The agent's log for node $1 (mf-node-a / mf-node-b).
tl_agent_log() { echo "$TL_STATE/$1/agent.log"; }

# tl_log_mark NODE: the agent log's current line count, for tl_log_since.
tl_log_mark() { wc -l <"$(tl_agent_log "$1")" 2>/dev/null || echo 0; }

# tl_log_since NODE MARK: the agent log's lines after MARK.
tl_log_since() { tail -n +"$(($2 + 1))" "$(tl_agent_log "$1")" 2>/dev/null; }

# tl_fd_count PID: how many file descriptors PID holds.
tl_fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
