#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The two-node meshforge demo: builds the testbed (scripts/testbed.sh),
# applies tests/integration/policy.yaml, starts both agents, sends requests
# from pod a1 through the mesh and tells what happened: which pod on which
# node answered, which identity node b's agent verified, that the wire
# carried only TLS, and that pod a2 (an identity the policy does not allow)
# was refused.  Everything is torn down on exit, whatever happens.
#
# usage: scripts/demo.sh        (as root, after `make`; `make demo` does both)
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
export O
TB=$top/scripts/testbed.sh
POLICY=$top/tests/integration/policy.yaml
PY=/usr/bin/python3
VIP=10.96.0.10
STATE=/run/mf-testbed
tmp=""
problems=0

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
bad() { say "   !! $*"; problems=$((problems + 1)); }

cleanup() {
	local rc=$?
	step "teardown"
	"$TB" down && say "   testbed removed: namespaces, veths, cgroups, pins, $STATE"
	[ -n "$tmp" ] && rm -rf "$tmp"
	exit "$rc"
}

# wait_for TIMEOUT_S CMD...: poll CMD every 0.1 s.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

[ "$(id -u)" = 0 ] || { echo "demo: must run as root" >&2; exit 1; }
for b in "$O/bin/mfctl" "$O/bin/meshforge-agent"; do
	[ -x "$b" ] || { echo "demo: $b is not built; run make" >&2; exit 1; }
done
for c in ip nsenter flock curl tcpdump "$PY"; do
	command -v "$c" >/dev/null || { echo "demo: missing $c (scripts/deps.sh installs it)" >&2; exit 1; }
done
# One testbed at a time: the tests hold the same lock (tests/harness/testlib.sh).
exec 9>>/run/mf-testbed.lock
flock -w 600 9 || { echo "demo: another testbed run holds the lock" >&2; exit 1; }
tmp=$(mktemp -d /tmp/mf-demo.XXXXXX) || exit 1
trap cleanup EXIT
trap 'exit 130' INT TERM

say "meshforge demo: two nodes, four pods, mutual TLS between node agents"

step "testbed"
"$TB" up --apply "$POLICY" --agents >"$tmp/up.log" 2>&1 || { cat "$tmp/up.log" >&2; exit 1; }
say "   mf-node-a 10.77.0.1: pods a1 10.78.1.11 (sa/client), a2 10.78.1.12 (sa/intruder)"
say "   mf-node-b 10.77.0.2: pods b1 10.78.2.11, b2 10.78.2.12 (sa/web, service web = $VIP:80)"
say "   policy: only spiffe://mesh.local/ns/default/sa/client may reach web"
say "   mfctl apply on each node's pin root: $(grep -m1 '^applied' "$tmp/up.log")"
say "   agents: mf-node-a pid $("$TB" pid a), mf-node-b pid $("$TB" pid b)"

for p in b1 b2; do
	ip=10.78.2.1${p#b}
	"$TB" exec "$p" "$PY" "$top/tests/tools/mf_httpd.py" --bind "$ip" --port 8080 \
		--pod "mf-pod-$p" --node mf-node-b >"$tmp/httpd-$p.log" 2>&1 </dev/null 9<&- &
	wait_for 10 "$TB" exec b curl -fs -o /dev/null -m 1 "http://$ip:8080/whoami" ||
		{ echo "demo: web server in $p did not start" >&2; exit 1; }
done
say "   web servers: python http servers on b1 and b2, port 8080"

step "a1 -> http://$VIP/ (the service VIP; a1 knows nothing of the mesh)"
for i in 1 2 3 4; do
	who=$("$TB" exec a1 curl -sS -m 10 "http://$VIP/whoami" 2>&1)
	if [[ "$who" =~ ^pod=([^ ]+)\ node=([^ ]+)\ peer=([^ ]+)$ ]]; then
		say "   request $i: answered by ${BASH_REMATCH[1]} on ${BASH_REMATCH[2]} (it saw the connection come from ${BASH_REMATCH[3]})"
	else
		bad "request $i failed: $who"
	fi
done

step "identity"
idline=$(grep -F 'spiffe://mesh.local/ns/default/sa/client' "$STATE/mf-node-b/agent.log" | tail -n 1)
if [ -n "$idline" ]; then
	say "   node b's agent verified the caller's certificate: spiffe://mesh.local/ns/default/sa/client"
	say "   log: $idline"
else
	bad "node b's agent did not log the client identity"
fi

step "the wire between the nodes (tcpdump on mfwa)"
marker=MF-SECRET-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$TB" exec a tcpdump -i mfwa -n -U --immediate-mode -Z root -w "$tmp/wire.pcap" >"$tmp/tcpdump.log" 2>&1 </dev/null 9<&- &
dump=$!
wait_for 10 grep -q 'listening on' "$tmp/tcpdump.log" || bad "tcpdump did not start"
echoed=$("$TB" exec a1 curl -sS -m 10 --data-binary "$marker" "http://$VIP/echo" 2>&1)
kill -INT "$dump" 2>/dev/null
wait "$dump" 2>/dev/null
count() { tcpdump -r "$tmp/wire.pcap" -n "$@" 2>/dev/null | wc -l; }
total=$(count)
tls=$(count tcp port 15008)
app=$(count "tcp port 15008 and tcp[((tcp[12] & 0xf0) >> 2)] = 0x17")
other=$(count "tcp and not port 15008")
found=$(grep -caF "$marker" "$tmp/wire.pcap")
say "   a1 posted the secret \"$marker\"; the server echoed back \"$echoed\""
say "   captured $total packets: $tls on port 15008 ($app carrying TLS application data), $other other TCP"
say "   the secret appears $found times in the capture"
[ "$echoed" = "$marker" ] || bad "the echo did not come back intact"
{ [ "$tls" -gt 0 ] && [ "$other" -eq 0 ] && [ "$found" -eq 0 ]; } || bad "the wire did not carry only TLS"

step "a2 -> http://$VIP/ (identity spiffe://mesh.local/ns/default/sa/intruder)"
mark=$(wc -l <"$STATE/mf-node-b/agent.log")
out=$("$TB" exec a2 curl -sS -m 10 "http://$VIP/whoami" 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then
	say "   refused: curl says \"$out\""
else
	bad "a2 got an answer: $out"
fi
deny_line() { tail -n +"$((mark + 1))" "$STATE/mf-node-b/agent.log" | grep 'event=denied' | grep -F 'sa/intruder' | head -n 1; }
denied() { [ -n "$(deny_line)" ]; }
if wait_for 5 denied; then
	say "   node b's agent: $(deny_line)"
else
	bad "node b's agent logged no denial for a2"
fi

if [ "$problems" -eq 0 ]; then
	step "done: the mesh carried a1's requests over mutual TLS and kept a2 out"
else
	step "done, with $problems problem(s) above"
fi
[ "$problems" -eq 0 ]
