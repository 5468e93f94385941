#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The testbed itself, without agents: pods reach each other across nodes,
# the VIP range is local-routed on the node, `exec` places pod processes in
# the pod's cgroup and keeps bpffs visible, `up` issues certificates signed
# by the mesh CA with the right SPIFFE IDs, the load tool notices corruption,
# and `down` leaves nothing behind (twice in a row, and after a half-built bed).
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_testbed
tl_require_testbed
tl_require_cmd openssl
tl_require_built "$MFCTL" "$O/tests/tools/mf_load"

TD=mesh.local
NODE_A_DIR=$TL_STATE/mf-node-a
NODE_B_DIR=$TL_STATE/mf-node-b

stem() { local s=${1#spiffe://}; echo "${s//\//+}"; }

# A half-built bed from an interrupted run: up must clean it and succeed.
ip netns add mf-node-a 2>/dev/null
ip -n mf-node-a link add mfwa type veth peer name mfwb 2>/dev/null
tl_bed_up
pass up_after_partial

# ---- network ----------------------------------------------------------------
tl_httpd b2 || fail httpd_b2 "server in b2 did not start"
out=$(tb_exec a1 curl -sS -m 5 http://10.78.2.12:8080/whoami)
if [ "$out" = "pod=mf-pod-b2 node=mf-node-b peer=10.78.1.11" ]; then
	pass pod_to_pod_across_nodes
else
	fail pod_to_pod_across_nodes "got '$out'"
fi

# Without an agent nothing listens on the VIP: the local route makes the node
# itself answer with a RST at once (curl 7), instead of the SYN going
# nowhere (curl 28, timeout) or being forwarded.
tb_exec a1 curl -sS -o /dev/null -m 5 http://10.96.0.10/ 2>/dev/null
rc=$?
if [ "$rc" = 7 ]; then pass vip_local_routed; else fail vip_local_routed "curl exit $rc, want 7"; fi

for p in a1 a2 b1 b2; do
	cg=$(tb_exec "$p" cat /proc/self/cgroup | sed -n 's/^0:://p')
	[ "$cg" = "/mf-pod-$p" ] || { fail pod_cgroup "$p in cgroup '$cg'"; cg=bad; break; }
done
[ "$cg" != bad ] && pass pod_cgroup

fs=$(tb_exec a stat -fc %T /sys/fs/bpf)
if [ "$fs" = bpf_fs ]; then pass exec_sees_bpffs; else fail exec_sees_bpffs "fs '$fs'"; fi

# ---- certificates ---------------------------------------------------------------
certs_ok=1
for pair in "mf-node-a spiffe://$TD/ns/meshforge-system/sa/mf-node-a" \
	"mf-node-a spiffe://$TD/ns/default/sa/client" \
	"mf-node-a spiffe://$TD/ns/default/sa/intruder" \
	"mf-node-b spiffe://$TD/ns/meshforge-system/sa/mf-node-b" \
	"mf-node-b spiffe://$TD/ns/default/sa/web"; do
	# shellcheck disable=SC2086 # "node identity" into two words
	set -- $pair
	crt=$TL_STATE/$1/certs/$(stem "$2").crt
	key=$TL_STATE/$1/certs/$(stem "$2").key
	if ! openssl verify -CAfile "$TL_STATE/$1/ca.crt" "$crt" >/dev/null 2>&1; then
		fail certs "$crt does not verify against the mesh CA"; certs_ok=0; continue
	fi
	if ! openssl x509 -in "$crt" -noout -ext subjectAltName 2>/dev/null | grep -qF "URI:$2"; then
		fail certs "$crt lacks URI SAN $2"; certs_ok=0; continue
	fi
	# The key must be the certificate's key.
	if [ "$(openssl x509 -in "$crt" -noout -pubkey | openssl sha256)" != \
		"$(openssl pkey -in "$key" -pubout | openssl sha256)" ]; then
		fail certs "$key does not match $crt"; certs_ok=0
	fi
done
[ "$certs_ok" = 1 ] && pass certs
if [ ! -e "$NODE_A_DIR/ca.key" ] && [ ! -e "$NODE_B_DIR/ca.key" ] &&
	[ "$(cat "$NODE_A_DIR/trust-domain")" = "$TD" ]; then
	pass node_dirs_hold_no_ca_key
else
	fail node_dirs_hold_no_ca_key "a node config dir has ca.key or a wrong trust-domain"
fi

# ---- the load tool catches corruption (so test_load cannot pass vacuously) ----
tl_bg b1 "$TL_TMP/corrupt.log" "$O/tests/tools/mf_load" serve 10.78.2.11 9000 corrupt
wait_for 5 grep -q listening "$TL_TMP/corrupt.log"
if tb_exec a1 "$O/tests/tools/mf_load" client 10.78.2.11 9000 4 65536 10 >"$TL_TMP/c.out" 2>&1; then
	fail load_tool_detects_corruption "client accepted corrupted echoes"
elif grep -q 'mismatch' "$TL_TMP/c.out"; then
	pass load_tool_detects_corruption
else
	fail load_tool_detects_corruption "$(cat "$TL_TMP/c.out")"
fi

# ---- down ---------------------------------------------------------------------
leftovers() {
	local cg
	ip netns list | grep -E '^mf-(node|pod)-' && return 0
	[ -e "$TL_STATE" ] && { echo "$TL_STATE"; return 0; }
	ls -d /sys/fs/bpf/mf-node-* 2>/dev/null && return 0
	for cg in /sys/fs/cgroup /run/meshforge/cgroup /sys/fs/cgroup/unified; do
		ls -d "$cg"/mf-pod-* 2>/dev/null && return 0
	done
	pgrep -f "$TL_TOOLS/mf_httpd.py" && return 0
	return 1
}
"$TB" down >&2
rc1=$?
"$TB" down >&2
rc2=$?
TL_BED=0
what=$(leftovers)
if [ "$rc1" = 0 ] && [ "$rc2" = 0 ] && [ -z "$what" ]; then
	pass down_idempotent_and_complete
else
	fail down_idempotent_and_complete "down rc $rc1/$rc2, left: $what"
fi

tl_finish
