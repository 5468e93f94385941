#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The mesh end to end on the two-node testbed with both agents and the
# shipped policy (tests/integration/policy.yaml):
#  - pod a1 reaches the service VIP and gets answers from the web pods on
#    node b (a real HTTP server, a token unique to this run);
#  - the wire between the nodes carries only TLS to :15008, and a marker the
#    client sends never appears in clear (with a control capture proving a
#    cleartext marker would have been found);
#  - node b's agent logs the verified source identity;
#  - pod a2, whose identity no rule allows, is refused, and node b logs the
#    denial with its reason, while a1 still gets through;
#  - a dial to a pod IP (no VIP) bypasses the mesh: under STRICT mTLS the
#    destination node's TC program drops it (counted by reason, and by
#    source, destination and port) while the VIP still works; under
#    PERMISSIVE it gets through, untouched by the agents, and is counted;
#    a MeshTLS in Strict mode for web's pods drops it again;
#  - a packet from a pod with another pod's source address is dropped at
#    its veth and counted, while the same with its own address arrives;
#  - garbage at the tunnel port does not hurt node b's agent.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_mesh
tl_require_testbed
tl_require_cmd tcpdump
tl_require_built "$MFCTL" "$AGENT"

VIP=10.96.0.10
CLIENT_ID=spiffe://mesh.local/ns/default/sa/client
INTRUDER_ID=spiffe://mesh.local/ns/default/sa/intruder
TOKEN=mf-token-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$TL_TMP/token"

# Debug logs: agent a then logs every connection it takes (event=outbound),
# which direct_pod_ip_not_seen_by_agents relies on.
export MF_AGENT_ARGS="--log-level debug"
tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" "$TL_TMP/token" || { fail "httpd_$p" "server did not start"; tl_finish; }
done

# ---- a1 -> VIP -> a web pod on node b ------------------------------------------
mark_b=$(tl_log_mark mf-node-b)
bad=""
for i in 1 2 3 4; do
	body=$(tb_exec a1 curl -sS -m 10 "http://$VIP/token" 2>&1)
	[ "$body" = "$TOKEN" ] || { bad="request $i: got '$body'"; break; }
done
if [ -z "$bad" ]; then pass vip_token_matches; else fail vip_token_matches "$bad"; fi

seen=""
bad=""
for i in 1 2 3 4 5 6; do
	who=$(tb_exec a1 curl -sS -m 10 "http://$VIP/whoami" 2>&1)
	case "$who" in
	"pod=mf-pod-b1 node=mf-node-b "* | "pod=mf-pod-b2 node=mf-node-b "*)
		seen="$seen ${who%% *}" ;;
	*) bad="request $i: got '$who'"; break ;;
	esac
done
if [ -z "$bad" ] && [[ "$seen" == *pod=mf-pod-b1* ]]; then
	pass vip_reaches_b1_on_node_b
else
	fail vip_reaches_b1_on_node_b "${bad:-answers from:$seen}"
fi
if [ -z "$bad" ] && [[ "$seen" == *pod=mf-pod-b1* ]] && [[ "$seen" == *pod=mf-pod-b2* ]]; then
	pass vip_balances_over_b1_b2
else
	fail vip_balances_over_b1_b2 "answers from:$seen"
fi

# ---- node b verified who was calling -------------------------------------------
client_line() { tl_log_since mf-node-b "$mark_b" | grep 'event=authorized' | grep -qF "src_spiffe=$CLIENT_ID "; }
if wait_for 5 client_line; then
	pass dst_agent_logs_source_identity
else
	fail dst_agent_logs_source_identity "no line with $CLIENT_ID in node b's log"
fi

# ---- the wire carries TLS only -------------------------------------------------
# capture FILE CMD...: tcpdump on the wire (node a side) around CMD.
capture() {
	local pcap=$1 pid rc
	shift
	rm -f "$pcap"
	# -Z root: writing the file must not depend on tcpdump's drop to its
	# own user.  --immediate-mode -U: each packet is written as it comes;
	# without them packets wait in the capture ring, and SIGINT drops them.
	tl_bg a "$pcap.log" tcpdump -i mfwa -n -U --immediate-mode -Z root -w "$pcap"
	pid=$TL_BG_PID
	if ! wait_for 10 grep -q 'listening on' "$pcap.log"; then
		tl_log "tcpdump did not start: $(cat "$pcap.log")"
		kill "$pid" 2>/dev/null
		return 1
	fi
	# Once CMD has its answer, every byte the assertions look for has
	# crossed the wire (only trailing ACKs and FINs may still be in flight).
	"$@"
	rc=$?
	# tcpdump may lag behind the wire on a busy machine, and SIGINT drops
	# what it has not read yet: wait until the file stops growing (300 ms
	# the same size, 3 s at most).
	local size=-1 now same=0 n=0
	while [ "$same" -lt 3 ] && [ "$n" -lt 30 ]; do
		sleep 0.1
		now=$(stat -c %s "$pcap" 2>/dev/null || echo 0)
		if [ "$now" = "$size" ]; then same=$((same + 1)); else same=0; fi
		size=$now
		n=$((n + 1))
	done
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return $rc
}
pcap_count() { tcpdump -r "$1" -n "${@:2}" 2>/dev/null | wc -l; }
# The first payload byte of a TCP segment: a TLS record's content type.
TLS_TYPE='tcp[((tcp[12] & 0xf0) >> 2)]'

marker=MF-MARKER-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
post_marker() {
	local out
	out=$(tb_exec a1 curl -sS -m 10 -H "X-MF-Marker: $marker" --data-binary "$marker" "http://$VIP/echo?$marker")
	[ "$out" = "$marker" ] || { tl_log "echo through the VIP returned '$out'"; return 1; }
}
if capture "$TL_TMP/wire.pcap" post_marker; then
	pass marker_echoed_through_mesh
else
	fail marker_echoed_through_mesh
fi
pcap=$TL_TMP/wire.pcap
total=$(pcap_count "$pcap")
tunnel=$(pcap_count "$pcap" tcp port 15008)
hello=$(pcap_count "$pcap" "tcp dst port 15008 and $TLS_TYPE = 0x16")
appdata_out=$(pcap_count "$pcap" "tcp dst port 15008 and $TLS_TYPE = 0x17")
appdata_in=$(pcap_count "$pcap" "tcp src port 15008 and $TLS_TYPE = 0x17")
plain=$(pcap_count "$pcap" "tcp and not port 15008")
tl_log "wire: $total packets, $tunnel on :15008 (handshake->15008 $hello, appdata ->$appdata_out <-$appdata_in), $plain other tcp"
if [ "$total" -gt 0 ] && [ "$tunnel" -gt 0 ] && [ "$hello" -gt 0 ] &&
	[ "$appdata_out" -gt 0 ] && [ "$appdata_in" -gt 0 ]; then
	pass wire_carries_tls_to_15008
else
	fail wire_carries_tls_to_15008 "capture: total $total, :15008 $tunnel, handshake $hello, appdata $appdata_out/$appdata_in"
fi
if [ "$plain" -eq 0 ]; then
	pass wire_has_no_other_tcp
else
	fail wire_has_no_other_tcp "$plain TCP packets outside :15008: $(tcpdump -r "$pcap" -n 'tcp and not port 15008' 2>/dev/null | head -n 3)"
fi
if [ "$total" -gt 0 ] && ! grep -qaF "$marker" "$pcap"; then
	pass marker_never_in_clear
else
	fail marker_never_in_clear "marker found in the capture (or capture empty: $total packets)"
fi

# Control: the same check on a plaintext pod-to-pod request does find its
# marker, so marker_never_in_clear cannot pass because grep misses things.
marker2=MF-CLEAR-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
post_direct() { tb_exec a1 curl -sS -m 10 -o /dev/null --data-binary "$marker2" http://10.78.2.12:8080/echo; }
if capture "$TL_TMP/clear.pcap" post_direct && grep -qaF "$marker2" "$TL_TMP/clear.pcap"; then
	pass control_cleartext_marker_found
else
	fail control_cleartext_marker_found "a cleartext marker was not found in its capture"
fi

# ---- a2 is not allowed ---------------------------------------------------------
mark_b=$(tl_log_mark mf-node-b)
start=$SECONDS
out=$(tb_exec a2 curl -sS -m 10 "http://$VIP/token" 2>"$TL_TMP/a2.err")
rc=$?
tl_log "a2: curl exit $rc after $((SECONDS - start))s: $(cat "$TL_TMP/a2.err")"
# 52: empty reply, 56: connection reset.  A timeout (28) would be a hang,
# which the design forbids; an answer would be a hole in the policy.
case "$rc" in
52 | 56) pass unpermitted_identity_refused ;;
*) fail unpermitted_identity_refused "curl exit $rc, body '$out'" ;;
esac
body=$(tb_exec a1 curl -sS -m 10 "http://$VIP/token" 2>&1)
if [ "$body" = "$TOKEN" ]; then pass permitted_identity_still_served; else fail permitted_identity_still_served "got '$body'"; fi
deny_line() {
	tl_log_since mf-node-b "$mark_b" | grep 'event=denied' | grep -F "src_spiffe=$INTRUDER_ID " | grep -E 'reason="?[a-z]'
}
if wait_for 5 deny_line >/dev/null; then
	tl_log "denial: $(deny_line | head -n 1)"
	pass dst_agent_logs_denial_with_reason
else
	fail dst_agent_logs_denial_with_reason "no deny line naming $INTRUDER_ID with reason= in node b's log"
fi

# ---- a pod IP is no mesh destination: STRICT drops it, PERMISSIVE counts it -----
# mesh_mode MODE: the shipped policy with the mesh's mTLS backend enabled in
# MODE, the nodes' pod gateways (the kubelet's probe source) exempt.
mesh_mode() {
	sed -e "s|^spec: {trustDomain: mesh.local}$|spec:\\n  trustDomain: mesh.local\\n  mtls:\\n    enabledBackend: ca-1\\n    backends: [{name: ca-1, type: builtin, mode: $1}]\\n    exemptSources: [10.78.1.1/32, 10.78.2.1/32]|" \
		"$TL_TOP/tests/integration/policy.yaml"
}
# kstat NODE NAME: kernel counter NAME of NODE's TC programs.
kstat() {
	tb_exec "$1" curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v r="meshforge_pod_packets_total{reason=\"$2\"}" '$1 == r {print $2}'
}
# plaintext dropped|passed: the packets from a1 to b2:8080 that node b's
# TC program counted in mf_plaintext, as `mfctl inspect` shows them.
plaintext() {
	tl_ctl b inspect 2>/dev/null |
		awk -v w="$1" '$1 == "10.78.1.11" && $3 == "10.78.2.12:8080/tcp" && $4 == w {print $5}'
}

mesh_mode STRICT >"$TL_TMP/strict.yaml"
grep -q 'mode: STRICT' "$TL_TMP/strict.yaml" ||
	{ fail mesh_strict_policy "the Mesh of policy.yaml was not found"; tl_finish; }
if ! "$TB" apply "$TL_TMP/strict.yaml" >"$TL_TMP/apply.log" 2>&1; then
	fail mesh_strict_policy "apply: $(cat "$TL_TMP/apply.log")"
	tl_finish
fi
drops0=$(kstat b drop_strict)
if tb_exec a1 curl -sS -m 3 -o /dev/null http://10.78.2.12:8080/whoami 2>/dev/null; then
	fail direct_pod_ip_dropped_under_strict "a1 reached b2's pod IP in plaintext"
else
	drops1=$(kstat b drop_strict)
	n=$(plaintext dropped)
	if [ "${drops1:-0}" -gt "${drops0:-0}" ] && [ "${n:-0}" -ge 1 ]; then
		pass direct_pod_ip_dropped_under_strict
	else
		fail direct_pod_ip_dropped_under_strict "drop_strict ${drops0:-?} -> ${drops1:-?}, mf_plaintext a1->b2:8080 dropped: ${n:-?}"
	fi
fi
body=$(tb_exec a1 curl -sS -m 10 "http://$VIP/token" 2>&1)
who=$(tb_exec b curl -sS -m 5 http://10.78.2.12:8080/whoami 2>&1)
if [ "$body" = "$TOKEN" ] && [ "${who#pod=mf-pod-b2}" != "$who" ]; then
	pass vip_and_exempt_probe_work_under_strict
else
	fail vip_and_exempt_probe_work_under_strict "VIP: '$body', node b's probe: '$who'"
fi

mesh_mode PERMISSIVE >"$TL_TMP/permissive.yaml"
"$TB" apply "$TL_TMP/permissive.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	fail mesh_permissive_policy "apply: $(cat "$TL_TMP/apply.log")"
mark_a=$(tl_log_mark mf-node-a)
mark_b=$(tl_log_mark mf-node-b)
dport=$((20000 + RANDOM % 20000))
bport=$((dport + 1))
seen0=$(plaintext passed)
who=$(tb_exec a1 curl -sS -m 10 --local-port "$dport" http://10.78.2.12:8080/whoami 2>&1)
seen1=$(plaintext passed)
# peer= is the address b2 saw: the pod's own, so no proxy was in between.
if [ "$who" = "pod=mf-pod-b2 node=mf-node-b peer=10.78.1.11" ] &&
	[ "${seen1:-0}" -gt "${seen0:-0}" ]; then
	pass direct_pod_ip_passes_counted_under_permissive
else
	fail direct_pod_ip_passes_counted_under_permissive "got '$who'; mf_plaintext a1->b2:8080 passed: ${seen0:-?} -> ${seen1:-?}"
fi
# A barrier: a VIP request after the direct one, from another known port.
# Agents log each connection they take (event=outbound, at debug level) by
# its source address, so once the barrier's line is there, a line for the
# direct connection would be there too, and its absence means something.
tb_exec a1 curl -sS -m 10 -o /dev/null --local-port "$bport" "http://$VIP/whoami"
barrier() { tl_log_since mf-node-a "$mark_a" | grep -q "event=outbound .*src=10\.78\.1\.11:$bport "; }
if ! wait_for 5 barrier; then
	fail direct_pod_ip_not_seen_by_agents "agent a never logged the barrier connection from port $bport"
else
	logged=$( (tl_log_since mf-node-a "$mark_a"; tl_log_since mf-node-b "$mark_b") | grep -F "10.78.1.11:$dport")
	if [ -z "$logged" ]; then
		pass direct_pod_ip_not_seen_by_agents
	else
		fail direct_pod_ip_not_seen_by_agents "agents logged: $logged"
	fi
fi
# A MeshTLS for web in Strict mode overrides the PERMISSIVE mesh for its
# pods: the same dial is dropped again, the VIP still works.
{
	cat "$TL_TMP/permissive.yaml"
	cat <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshTLS
metadata: {name: web-strict}
spec:
  targetRef: {kind: MeshSubset, tags: {kuma.io/service: web}}
  rules:
    - default: {mode: Strict}
YAML
} >"$TL_TMP/meshtls.yaml"
if "$TB" apply "$TL_TMP/meshtls.yaml" >"$TL_TMP/apply.log" 2>&1; then
	drops0=$(kstat b drop_strict)
	if tb_exec a1 curl -sS -m 3 -o /dev/null http://10.78.2.12:8080/whoami 2>/dev/null; then
		fail meshtls_strict_pod_in_permissive_mesh "a1 reached b2's pod IP in plaintext"
	elif [ "$(kstat b drop_strict)" -gt "${drops0:-0}" ] &&
		[ "$(tb_exec a1 curl -sS -m 10 "http://$VIP/token" 2>&1)" = "$TOKEN" ]; then
		pass meshtls_strict_pod_in_permissive_mesh
	else
		fail meshtls_strict_pod_in_permissive_mesh "no drop_strict counted, or the VIP failed"
	fi
else
	fail meshtls_strict_pod_in_permissive_mesh "apply: $(cat "$TL_TMP/apply.log")"
fi
"$TB" apply "$TL_TOP/tests/integration/policy.yaml" >/dev/null 2>&1

# ---- a spoofed source is dropped at the pod's veth ------------------------------
# udp_from SRC: 5 datagrams from SRC:5555 to b1:9999, written with their IP
# header by pod a1 (a raw socket, as a compromised pod could).
udp_from() {
	tb_exec a1 "$TL_PY" - "$1" <<'PY'
import socket, struct, sys
src = socket.inet_aton(sys.argv[1]); dst = socket.inet_aton("10.78.2.11")
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(5):
    data = b"mf-spoof-%d" % i
    udp = struct.pack("!HHHH", 5555, 9999, 8 + len(data), 0) + data
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64,
                     17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s.sendto(ip + udp, ("10.78.2.11", 0))
PY
}
tl_bg b1 "$TL_TMP/udp.log" "$TL_PY" -u -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.78.2.11", 9999))
print("listening", flush=True)
while True:
    d, a = s.recvfrom(2048)
    print(a[0], d.decode(), flush=True)
'
udp_pid=$TL_BG_PID
if wait_for 5 grep -q listening "$TL_TMP/udp.log"; then
	spoof0=$(kstat a drop_spoofed)
	udp_from 10.78.1.12
	udp_from 10.78.1.11
	got_own() { [ "$(grep -c '^10\.78\.1\.11 mf-spoof' "$TL_TMP/udp.log")" -eq 5 ]; }
	wait_for 5 got_own
	spoof1=$(kstat a drop_spoofed)
	if got_own && ! grep -q '^10\.78\.1\.12 ' "$TL_TMP/udp.log" &&
		[ $((${spoof1:-0} - ${spoof0:-0})) -eq 5 ]; then
		pass spoofed_source_dropped_at_pod_veth
	else
		fail spoofed_source_dropped_at_pod_veth "b1 got: $(tr '\n' '|' <"$TL_TMP/udp.log"); drop_spoofed ${spoof0:-?} -> ${spoof1:-?}"
	fi
else
	fail spoofed_source_dropped_at_pod_veth "no UDP listener in b1"
fi
kill "$udp_pid" 2>/dev/null
wait "$udp_pid" 2>/dev/null

# ---- garbage at the tunnel port ------------------------------------------------
pid_b=$("$TB" pid b)
fds_b=$(tl_fd_count "$pid_b")

# A peer that connects and then says nothing must not stall anyone else.
tl_bg a "$TL_TMP/idle.log" "$TL_PY" -c '
import socket, sys, time
s = socket.create_connection(("10.77.0.2", 15008), timeout=5)
s.sendall(b"\x16\x03\x01")		# the start of a record, then silence
print("connected", flush=True)
time.sleep(30)
'
idle_pid=$TL_BG_PID
if wait_for 5 grep -q connected "$TL_TMP/idle.log" &&
	[ "$(tb_exec a1 curl -sS -m 5 "http://$VIP/token" 2>&1)" = "$TOKEN" ]; then
	pass agent_serves_while_a_handshake_stalls
else
	fail agent_serves_while_a_handshake_stalls "$(cat "$TL_TMP/idle.log")"
fi
kill "$idle_pid" 2>/dev/null
wait "$idle_pid" 2>/dev/null

garbage() {
	tb_exec a "$TL_PY" - <<'PY'
import os, socket, struct, time
def conn():
    s = socket.create_connection(("10.77.0.2", 15008), timeout=5)
    return s
# 1: random bytes, then close
s = conn(); s.sendall(os.urandom(65536)); s.close()
# 2: a TLS handshake record header announcing far more than follows
s = conn(); s.sendall(b"\x16\x03\x01\xff\xff" + os.urandom(100)); s.close()
# 3: connect and close at once
s = conn(); s.close()
# 4: a PROXY v2 header in clear (the tunnel speaks TLS first)
s = conn(); s.sendall(b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes(12)); s.close()
# 5: close with RST in the middle of a record
s = conn(); s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.sendall(b"\x16\x03\x01\x00\x40" + os.urandom(20)); s.close()
# 6: many short connections of random bytes
for i in range(50):
    s = conn(); s.sendall(os.urandom(i * 37 + 1)); s.close()
PY
}
if garbage; then pass garbage_sent; else fail garbage_sent "could not reach 10.77.0.2:15008"; fi
body=$(tb_exec a1 curl -sS -m 10 "http://$VIP/token" 2>&1)
now_b=$("$TB" pid b)
if [ -n "$pid_b" ] && [ "$now_b" = "$pid_b" ] && [ "$body" = "$TOKEN" ]; then
	pass agent_survives_garbage
else
	fail agent_survives_garbage "agent b pid '$pid_b' -> '$now_b', request got '$body'"
fi
fds_back() { [ "$(tl_fd_count "$pid_b")" -le "$fds_b" ]; }
if wait_for 10 fds_back; then
	pass agent_fds_back_after_garbage
else
	fail agent_fds_back_after_garbage "agent b holds $(tl_fd_count "$pid_b") fds, $fds_b before"
fi

tl_finish
