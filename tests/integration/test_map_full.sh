#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Full kernel maps, on the two-node testbed under STRICT mTLS, a node
# firewall and a connection rate on web, while pod a1 (a permitted
# client) keeps calling web through both agents; every one of its
# requests must be answered, start to end.
#  - mf_pod_flows (LRU, 65,536): pod a2 opens 100,000 distinct UDP flows
#    (to pods b1 and b2, which STRICT protects): node a's map is full, not
#    over, and the flood's first flow was evicted for its last; node b
#    dropped the plaintext (drop_strict) and counted it in mf_plaintext
#    (LRU, 16,384), full too; a TCP connection a1 opened before the flood
#    to a host outside the mesh (node b's address), in use, still gets
#    its answers (STRICT lets them in only as a flow a1 opened);
#  - mf_xdp_buckets (LRU, 65,536): a host on the wire sends from 80,000
#    spoofed source addresses to node b: a bucket per source, the map
#    full, every packet seen by XDP (xdp_packets), the mesh's own tunnels
#    (a node's address) untouched;
#  - mf_conn_buckets (LRU, 65,536): no pod can make that many keys (one
#    per source pod and rate-limited service; sources are checked against
#    spoofing), so the test fills it with mf_mapfill, past its capacity:
#    a1's connections to web still find (evict for) a bucket;
#  - a policy map (mf_nodes, 1,024 a half: the one a minute has time to
#    fill; the others take the same path, lib/policy/compile.c) filled to
#    capacity by `mfctl apply`: applied and served; one Node more: refused
#    with a clear error, nothing applied (the policy before in force,
#    still served); deleted again.
# At the end both agents hold the file descriptors they held before and
# their memory is back within a bound of where it was.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_map_full
tl_require_testbed
FILL=$O/tests/tools/mf_mapfill
LOAD=$O/tests/tools/mf_load
tl_require_built "$MFCTL" "$AGENT" "$FILL" "$LOAD"
tl_require_cmd curl

RSS_SLACK_KB=$((32 * 1024))
NODES_MAX=1024
{
	sed -e 's|^spec: {trustDomain: mesh.local}$|spec:\n  trustDomain: mesh.local\n  mtls:\n    enabledBackend: ca-1\n    backends: [{name: ca-1, type: builtin, mode: STRICT}]\n    exemptSources: [10.78.1.1/32, 10.78.2.1/32]\n  firewall:\n    perSource:\n      packetRate: {num: 10000000, interval: 1s}|' \
		"$TL_TOP/tests/integration/policy.yaml"
	cat <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshRateLimit
metadata: {name: web-connections}
spec:
  targetRef: {kind: MeshService, name: web}
  from:
    - targetRef: {kind: Mesh}
      default:
        local:
          tcp:
            connectionRate: {num: 1000, interval: 1s}
YAML
} >"$TL_TMP/policy.yaml"
grep -q 'mode: STRICT' "$TL_TMP/policy.yaml" || { fail policy "the Mesh was not rewritten"; tl_finish; }
tl_bed_up --apply "$TL_TMP/policy.yaml" --agents
tl_httpd b1 || { fail httpd_b1 "server did not start"; tl_finish; }
tl_httpd b2 || { fail httpd_b2 "server did not start"; tl_finish; }
pid_a=$("$TB" pid a)
pid_b=$("$TB" pid b)
PIN_A=/sys/fs/bpf/mf-node-a
PIN_B=/sys/fs/bpf/mf-node-b

metric() {
	tb_exec "$1" curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v m="$2" '$1 == m {print $2; f = 1} END {if (!f) print 0}'
}
kstat() { metric "$1" "meshforge_pod_packets_total{reason=\"$2\"}"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# count PIN: the entries of a pinned map; max PIN: its capacity.
count() { "$FILL" info "$1" | sed 's/.*count=//'; }
max() { "$FILL" info "$1" | sed 's/.* max=\([0-9]*\).*/\1/'; }
# full PIN INSERTED: INSERTED keys went in, more than it holds, and it
# holds at least 90% of its capacity (an LRU map evicts a little before
# the last slot), never more.
full() {
	local c m
	c=$(count "$1")
	m=$(max "$1")
	[ "$2" -gt "$m" ] && [ "$c" -le "$m" ] && [ "$c" -ge $((m * 9 / 10)) ]
}

# Warm up (first handshakes, pools), then the baseline.
for _ in 1 2 3; do tb_exec a1 curl -fsS -m 5 -o /dev/null http://10.96.0.10/whoami; done
base_fd_a=$(tl_fd_count "$pid_a")
base_fd_b=$(tl_fd_count "$pid_b")
base_rss_a=$(rss "$pid_a")
base_rss_b=$(rss "$pid_b")

# a1's requests, each on a connection of its own, until $TL_TMP/stop is
# there; one line each: the status or the error.
tl_bg a1 "$TL_TMP/client.out" "$TL_PY" -c '
import http.client, os, sys, time
stop = sys.argv[1]
while not os.path.exists(stop):
    try:
        c = http.client.HTTPConnection("10.96.0.10", 80, timeout=5)
        c.request("GET", "/whoami")
        r = c.getresponse()
        r.read()
        print(r.status, flush=True)
        c.close()
    except Exception as e:
        print(type(e).__name__, e, flush=True)
    time.sleep(0.02)
' "$TL_TMP/stop"
CLIENT=$TL_BG_PID
trap 'rc=$?; touch "$TL_TMP/stop" "$TL_TMP/own.stop"; kill $CLIENT 2>/dev/null; (exit $rc); tl_cleanup' EXIT
wait_for 5 grep -q '^200' "$TL_TMP/client.out" || { fail client_started "$(head -3 "$TL_TMP/client.out")"; tl_finish; }

tl_log "testbed up, baseline taken at ${SECONDS}s"
# ---- mf_pod_flows and mf_plaintext ---------------------------------------------
# A connection of a1's own outside the mesh, kept in use through the
# flood: one message a tenth of a second, each echoed.
tl_bg b "$TL_TMP/echo-b.log" "$LOAD" serve 10.77.0.2 9099
wait_for 5 grep -q listening "$TL_TMP/echo-b.log" || { fail echo_b "$(cat "$TL_TMP/echo-b.log")"; tl_finish; }
tl_bg a1 "$TL_TMP/own.out" "$TL_PY" -c '
import os, socket, sys, time
s = socket.create_connection(("10.77.0.2", 9099), timeout=5)
ok = bad = 0
while not os.path.exists(sys.argv[1]):
    try:
        s.sendall(b"ping\n")
        ok += s.recv(16) == b"ping\n"
    except OSError as e:
        bad += 1
        print("error", e, flush=True)
        break
    time.sleep(0.1)
print("echoed", ok, "failed", bad, flush=True)
' "$TL_TMP/own.stop"
OWN=$TL_BG_PID
s0=$(kstat b drop_strict)
tb_exec a2 "$TL_PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.78.1.12", 0))
sent = err = 0
for peer in ("10.78.2.11", "10.78.2.12"):
    for port in range(1, 50001):
        try:
            s.sendto(b"x", (peer, port)); sent += 1
        except OSError:
            err += 1
print(s.getsockname()[1], sent, err)
' >"$TL_TMP/udp.out" 2>&1
read -r sport sent senderr <"$TL_TMP/udp.out"
# The flood's first flow (a2:sport -> b1:1, UDP) and its last (-> b2:50000).
first=$(printf '0a4e010c0a4e020b%04x%04x11000000' "$sport" 1)
last=$(printf '0a4e010c0a4e020c%04x%04x11000000' "$sport" 50000)
s1=$(kstat b drop_strict)
tl_log "UDP flood from a2: $sent sent ($senderr refused by the socket); node a mf_pod_flows: $(count $PIN_A/mf_pod_flows)/$(max $PIN_A/mf_pod_flows); node b drop_strict +$((s1 - s0)), mf_plaintext $(count $PIN_B/mf_plaintext)/$(max $PIN_B/mf_plaintext)"
if [ "${sent:-0}" -ge 100000 ] && full $PIN_A/mf_pod_flows "$sent" &&
	! "$FILL" has $PIN_A/mf_pod_flows "$first" && "$FILL" has $PIN_A/mf_pod_flows "$last"; then
	pass pod_flows_full_evicts_oldest
else
	fail pod_flows_full_evicts_oldest "sent '$sent'; $("$FILL" info $PIN_A/mf_pod_flows); first there: $("$FILL" has $PIN_A/mf_pod_flows "$first" && echo yes), last there: $("$FILL" has $PIN_A/mf_pod_flows "$last" && echo yes)"
fi
touch "$TL_TMP/own.stop"
wait "$OWN" 2>/dev/null
tl_log "a1's own connection through the flood: $(tail -n 1 "$TL_TMP/own.out")"
if grep -q '^echoed [1-9][0-9]* failed 0$' "$TL_TMP/own.out"; then
	pass own_flow_survives_flood
else
	fail own_flow_survives_flood "$(tail -n 3 "$TL_TMP/own.out" | tr '\n' '|')"
fi
# Most of it crossed the wire (a veth's backlog may drop a burst's
# tail); what did was dropped and counted.
if [ $((s1 - s0)) -ge $((sent / 2)) ] && full $PIN_B/mf_plaintext $((s1 - s0)); then
	pass plaintext_dropped_and_counted_full
else
	fail plaintext_dropped_and_counted_full "drop_strict +$((s1 - s0)) of $sent; $("$FILL" info $PIN_B/mf_plaintext)"
fi

# ---- mf_xdp_buckets ---------------------------------------------------------------
x0=$(kstat b xdp_packets)
tb_exec a "$TL_PY" -c '
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
dst = socket.inet_aton("10.77.0.2")
udp = struct.pack("!HHHH", 4000, 9, 9, 0) + b"x"
sent = 0
for i in range(80000):
    src = struct.pack("!I", (10 << 24) | (200 << 16) | i)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 29, 0, 0, 64, 17, 0, src, dst)
    try:
        s.sendto(ip + udp, ("10.77.0.2", 0)); sent += 1
    except OSError:
        pass
print(sent)
' >"$TL_TMP/xdp.out" 2>&1
xsent=$(cat "$TL_TMP/xdp.out")
x1=$(kstat b xdp_packets)
tl_log "spoofed sources at node b: $xsent sent; xdp_packets +$((x1 - x0)); mf_xdp_buckets $(count $PIN_B/mf_xdp_buckets)/$(max $PIN_B/mf_xdp_buckets)"
if [ "${xsent:-0}" = 80000 ] && [ $((x1 - x0)) -ge $((xsent / 2)) ] &&
	full $PIN_B/mf_xdp_buckets $((x1 - x0)); then
	pass xdp_buckets_full
else
	fail xdp_buckets_full "sent '$xsent', xdp_packets +$((x1 - x0)); $("$FILL" info $PIN_B/mf_xdp_buckets)"
fi

# ---- mf_conn_buckets ----------------------------------------------------------------
r0=$(kstat a drop_conn_rate)
"$FILL" fill $PIN_A/mf_conn_buckets 80000 0xee >"$TL_TMP/conn.out" 2>&1
inserted=$(sed -n 's/^inserted=\([0-9]*\).*/\1/p' "$TL_TMP/conn.out")
n0=$(grep -c '^200' "$TL_TMP/client.out")
wait_for 5 sh -c "[ \$(grep -c '^200' '$TL_TMP/client.out') -ge $((n0 + 20)) ]"
r1=$(kstat a drop_conn_rate)
tl_log "mf_conn_buckets: $(cat "$TL_TMP/conn.out"); now $(count $PIN_A/mf_conn_buckets)/$(max $PIN_A/mf_conn_buckets); a1 answered $(($(grep -c '^200' "$TL_TMP/client.out") - n0)) since"
# a1's bucket for web (VIP 10.96.0.10, source 10.78.1.11, port 80 in
# host order), made again in the full map by its next SYN.
a1_bucket=0a60000a0a4e010b50000000
if full $PIN_A/mf_conn_buckets "${inserted:-0}" &&
	[ "$(grep -c '^200' "$TL_TMP/client.out")" -ge $((n0 + 20)) ] && [ "$r1" = "$r0" ] &&
	"$FILL" has $PIN_A/mf_conn_buckets "$a1_bucket"; then
	pass conn_buckets_full_client_served
else
	fail conn_buckets_full_client_served "$(cat "$TL_TMP/conn.out"); $("$FILL" info $PIN_A/mf_conn_buckets); drop_conn_rate $r0 -> $r1; a1's bucket there: $("$FILL" has $PIN_A/mf_conn_buckets "$a1_bucket" && echo yes || echo no)"
fi

# ---- a policy map to capacity ---------------------------------------------------------
have=$(tl_ctl a get Node | grep -c '^kind: Node')
room=$((NODES_MAX - have))
# fill_yaml N: N Nodes more than the policy's, each with an address of
# its own (outside the testbed's).
fill_yaml() {
	"$TL_PY" -c '
import sys
for i in range(int(sys.argv[1])):
    print("---\napiVersion: meshforge.io/v1alpha1\nkind: Node\nmetadata: {name: mf-fill-%d}\nspec: {address: 10.79.%d.%d}" % (i, i >> 8, i & 255))
' "$1"
}
nodes() { tl_ctl a get Node | grep -c '^kind: Node'; }
fill_yaml "$room" >"$TL_TMP/fill.yaml"
fill_yaml $((room + 1)) >"$TL_TMP/over.yaml"
if tl_ctl a apply -f "$TL_TMP/fill.yaml" >"$TL_TMP/fill.out" 2>&1 &&
	[ "$(nodes)" = "$NODES_MAX" ]; then
	pass policy_map_filled_to_capacity
else
	fail policy_map_filled_to_capacity "$(tail -3 "$TL_TMP/fill.out"); nodes $(nodes)"
fi
epoch() { tl_ctl a status 2>/dev/null | sed -n 's/^epoch: *\([0-9][0-9]*\).*/\1/p'; }
e0=$(epoch)
tl_ctl a apply -f "$TL_TMP/over.yaml" >"$TL_TMP/over.out" 2>&1
rc=$?
n0=$(grep -c '^200' "$TL_TMP/client.out")
wait_for 5 sh -c "[ \$(grep -c '^200' '$TL_TMP/client.out') -ge $((n0 + 10)) ]"
tl_log "one Node over: exit $rc: $(tr '\n' ' ' <"$TL_TMP/over.out")"
if [ "$rc" != 0 ] && grep -q 'over capacity' "$TL_TMP/over.out" &&
	grep -q 'nothing applied' "$TL_TMP/over.out" && [ "$(nodes)" = "$NODES_MAX" ] &&
	[ -n "$e0" ] && [ "$(epoch)" = "$e0" ] && ! tl_ctl a get Node "mf-fill-$room" >/dev/null 2>&1 &&
	[ "$(grep -c '^200' "$TL_TMP/client.out")" -ge $((n0 + 10)) ]; then
	pass policy_over_capacity_refused_old_in_force
else
	fail policy_over_capacity_refused_old_in_force "exit $rc; epoch '$e0' -> '$(epoch)'; nodes $(nodes)"
fi
tl_ctl a delete -f "$TL_TMP/fill.yaml" >"$TL_TMP/delete.out" 2>&1 &&
	[ "$(nodes)" = "$have" ] || fail policy_shrunk "$(tail -3 "$TL_TMP/delete.out")"

# ---- the client, and what the agents hold ---------------------------------------------------
touch "$TL_TMP/stop"
wait "$CLIENT" 2>/dev/null
total=$(wc -l <"$TL_TMP/client.out")
ok=$(grep -c '^200' "$TL_TMP/client.out")
tl_log "a1: $ok of $total requests answered throughout"
if [ "$total" -ge 50 ] && [ "$ok" = "$total" ]; then
	pass client_answered_throughout
else
	fail client_answered_throughout "$ok of $total answered; $(grep -v '^200' "$TL_TMP/client.out" | sort | uniq -c | head -3 | tr '\n' '|')"
fi
at_baseline() {
	[ "$(tl_fd_count "$pid_a")" -le "$base_fd_a" ] && [ "$(tl_fd_count "$pid_b")" -le "$base_fd_b" ]
}
wait_for 10 at_baseline
rss_a=$(rss "$pid_a")
rss_b=$(rss "$pid_b")
tl_log "agent a: fds $(tl_fd_count "$pid_a") (baseline $base_fd_a), RSS $((rss_a / 1024)) MiB (baseline $((base_rss_a / 1024))); agent b: fds $(tl_fd_count "$pid_b") ($base_fd_b), RSS $((rss_b / 1024)) MiB ($((base_rss_b / 1024)))"
if at_baseline && [ "$rss_a" -le $((base_rss_a + RSS_SLACK_KB)) ] &&
	[ "$rss_b" -le $((base_rss_b + RSS_SLACK_KB)) ] &&
	[ "$("$TB" pid a)" = "$pid_a" ] && [ "$("$TB" pid b)" = "$pid_b" ]; then
	pass agents_back_to_baseline
else
	fail agents_back_to_baseline "fds a $(tl_fd_count "$pid_a")/$base_fd_a b $(tl_fd_count "$pid_b")/$base_fd_b; RSS a $rss_a/$base_rss_a KiB b $rss_b/$base_rss_b KiB (slack $RSS_SLACK_KB)"
fi

tl_log "took ${SECONDS}s"
tl_finish
