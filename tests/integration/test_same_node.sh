#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Same-node pod to pod without a tunnel to itself, on the two-node testbed
# with the shipped policy (the service "intruder" has one endpoint, pod a2,
# on node a, as is its client a1):
#  - a1 -> intruder's VIP: the request reaches a2 and its answer comes
#    back; a2 sees the connection come from the address node a's agent
#    dials it from (the route's source, as the inbound tunnel half dials
#    it), not from a1;
#  - node a's TLS handshake counter does not move meanwhile, while its
#    local upstream counter does, and node a logs the authorization of
#    a1's identity for intruder as the destination agent would;
#  - a MeshTrafficPermission that leaves a1's identity out of intruder:
#    a1's connection is reset, a2 sees nothing, node a logs the denial with
#    the reason node b logs for a2's (unpermitted) connections to web over
#    the tunnel, and counts it; still no handshake;
#  - a1 -> web (pods on node b) still goes over the tunnel: node a's
#    handshake and tunnel counters move;
#  - a1's certificate revoked (`mfctl ca revoke`, the list exported to
#    both nodes): a1 -> intruder is refused by node a with the reason node
#    b gives a1 -> web at its tunnel port (the serial, a1's identity,
#    keyCompromise), after each path's own words, a2 sees nothing, and
#    node a counts a revoked peer.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_same_node
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

WEB=10.96.0.10
INTRUDER=10.96.0.12
A2=10.78.1.12
CLIENT_ID=spiffe://mesh.local/ns/default/sa/client
INTRUDER_ID=spiffe://mesh.local/ns/default/sa/intruder
TOKEN=mf-token-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$TL_TMP/token"

tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
for p in a2 b1 b2; do
	tl_httpd "$p" "$TL_TMP/token" || { fail "httpd_$p" "server did not start"; tl_finish; }
done

# metric NODE NAME{LABELS}: the sample's value in NODE's /metrics (0: none).
metric() {
	tb_exec "$1" curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v m="$2" '$1 == m { v = $2 } END { print v + 0 }'
}
HS='meshforge_tls_handshakes_total{result="ok"}'
LOCAL='meshforge_upstream_connects_total{path="local"}'
TUNNEL='meshforge_upstream_connects_total{path="tunnel"}'
DENY='meshforge_authz_decisions_total{decision="deny"}'

# ---- a1 -> intruder (a2, same node) ------------------------------------------
hs0=$(metric a "$HS")
loc0=$(metric a "$LOCAL")
mark_a=$(tl_log_mark mf-node-a)
bad=""
for i in 1 2 3; do
	body=$(tb_exec a1 curl -sS -m 10 "http://$INTRUDER/token" 2>&1)
	[ "$body" = "$TOKEN" ] || { bad="request $i: got '$body'"; break; }
done
if [ -z "$bad" ]; then pass same_node_bytes_arrive; else fail same_node_bytes_arrive "$bad"; fi

# The address node a reaches a2 from: what a connect() of the agent's,
# bound to nothing, gets.
want_src=$(tb_exec a ip -4 route get "$A2" | sed -n 's/.* src \([0-9.]*\).*/\1/p')
who=$(tb_exec a1 curl -sS -m 10 "http://$INTRUDER/whoami" 2>&1)
if [ -n "$want_src" ] && [ "$who" = "pod=mf-pod-a2 node=mf-node-a peer=$want_src" ]; then
	pass same_node_upstream_sees_agent_source
else
	fail same_node_upstream_sees_agent_source "got '$who', want peer=$want_src (not a1's 10.78.1.11)"
fi

hs1=$(metric a "$HS")
loc1=$(metric a "$LOCAL")
tl_log "node a: handshakes $hs0 -> $hs1, local upstream connects $loc0 -> $loc1"
if [ "$hs1" -eq "$hs0" ] && [ "$loc1" -ge $((loc0 + 4)) ]; then
	pass same_node_no_self_tunnel
else
	fail same_node_no_self_tunnel "handshakes $hs0 -> $hs1 (want no change), local connects $loc0 -> $loc1 (want +4)"
fi

authz_line() {
	tl_log_since mf-node-a "$mark_a" | grep 'event=authorized' |
		grep -F "src_spiffe=$CLIENT_ID service=intruder dst=$A2:8080 "
}
if wait_for 5 authz_line >/dev/null; then
	pass same_node_authorized_by_identity
else
	fail same_node_authorized_by_identity "no authorized line for $CLIENT_ID to intruder in node a's log"
fi

# ---- a permission without a1's identity: denied as at the destination -------------
cat "$TL_TOP/tests/integration/policy.yaml" - >"$TL_TMP/deny.yaml" <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrafficPermission
metadata: {name: intruder-web-only}
spec:
  targetRef: {kind: MeshService, name: intruder}
  from:
    - targetRef: {kind: SpiffeID, name: "spiffe://mesh.local/ns/default/sa/web"}
      default: {action: Allow}
YAML
if ! "$TB" apply "$TL_TMP/deny.yaml" >"$TL_TMP/apply.log" 2>&1; then
	fail same_node_policy_applied "apply: $(cat "$TL_TMP/apply.log")"
	tl_finish
fi
hs0=$(metric a "$HS")
deny0=$(metric a "$DENY")
mark_a=$(tl_log_mark mf-node-a)
reqs0=$(grep -c '"GET /token' "$TL_TMP/httpd-a2.log")
if tb_exec a1 curl -sS -m 10 "http://$INTRUDER/token" >"$TL_TMP/denied.out" 2>&1; then
	fail same_node_deny_refused "got an answer: $(cat "$TL_TMP/denied.out")"
elif [ "$(grep -c '"GET /token' "$TL_TMP/httpd-a2.log")" -ne "$reqs0" ]; then
	fail same_node_deny_refused "a2 served the request"
else
	pass same_node_deny_refused
fi

deny_reason() { # NODE MARK SPIFFE SERVICE: the reason of the first denial
	tl_log_since "$1" "$2" | grep 'event=denied' |
		grep -F "src_spiffe=$3 service=$4 " | head -n 1 | sed -n 's/.* reason=\(.*\)$/\1/p'
}
local_reason() { deny_reason mf-node-a "$mark_a" "$CLIENT_ID" intruder | grep .; }
wait_for 5 local_reason >/dev/null
lr=$(local_reason)
hs1=$(metric a "$HS")
deny1=$(metric a "$DENY")
if [ "$deny1" -ge $((deny0 + 1)) ] && [ "$hs1" -eq "$hs0" ]; then
	pass same_node_deny_counted_no_handshake
else
	fail same_node_deny_counted_no_handshake "denials $deny0 -> $deny1, handshakes $hs0 -> $hs1"
fi
# The tunnel path's denial of an identity no rule names: a2 -> web, at b.
mark_b=$(tl_log_mark mf-node-b)
tb_exec a2 curl -sS -m 10 "http://$WEB/token" >/dev/null 2>&1
tunnel_reason() { deny_reason mf-node-b "$mark_b" "$INTRUDER_ID" web | grep .; }
wait_for 5 tunnel_reason >/dev/null
tr=$(tunnel_reason)
tl_log "denial reasons: same node '$lr', tunnel '$tr'"
if [ -n "$lr" ] && [ "$lr" = "$tr" ]; then
	pass same_node_deny_reason_as_tunnel
else
	fail same_node_deny_reason_as_tunnel "same node '$lr', tunnel '$tr'"
fi

# ---- a1 -> web (node b): the tunnel ------------------------------------------
hs0=$(metric a "$HS")
tun0=$(metric a "$TUNNEL")
body=$(tb_exec a1 curl -sS -m 10 "http://$WEB/token" 2>&1)
hs1=$(metric a "$HS")
tun1=$(metric a "$TUNNEL")
tl_log "node a: handshakes $hs0 -> $hs1, tunnel connects $tun0 -> $tun1"
if [ "$body" = "$TOKEN" ] && [ "$hs1" -gt "$hs0" ] && [ "$tun1" -gt "$tun0" ]; then
	pass other_node_uses_tunnel
else
	fail other_node_uses_tunnel "got '$body'; handshakes $hs0 -> $hs1, tunnel connects $tun0 -> $tun1"
fi

# ---- a1's certificate revoked: refused on both paths alike -------------------
STEM=mesh.local+ns+default+sa+client
CA=$TL_STATE/ca
REVOKED='meshforge_tls_peer_revoked_total'
# The permission above again, a1's identity in it: only the revocation
# stands between a1 and intruder.
cat "$TL_TOP/tests/integration/policy.yaml" - >"$TL_TMP/allow.yaml" <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrafficPermission
metadata: {name: intruder-web-only}
spec:
  targetRef: {kind: MeshService, name: intruder}
  from:
    - targetRef: {kind: SpiffeID, name: "spiffe://mesh.local/ns/default/sa/web"}
      default: {action: Allow}
    - targetRef: {kind: SpiffeID, name: "spiffe://mesh.local/ns/default/sa/client"}
      default: {action: Allow}
YAML
a1_served() { [ "$(tb_exec a1 curl -sS -m 5 "http://$INTRUDER/token" 2>/dev/null)" = "$TOKEN" ]; }
if ! "$TB" apply "$TL_TMP/allow.yaml" >"$TL_TMP/apply2.log" 2>&1 ||
	! wait_for 5 a1_served; then
	fail revoke_policy_back "apply: $(cat "$TL_TMP/apply2.log"); a1 -> intruder not answered"
	tl_finish
fi
mark_a=$(tl_log_mark mf-node-a)
mark_b=$(tl_log_mark mf-node-b)
crl_loaded() { tl_log_since "$1" "$2" | grep -q 'event=crl_loaded .*entries=1'; }
if "$MFCTL" --config-dir "$CA" ca revoke --cert "$TL_STATE/mf-node-a/certs/$STEM.crt" \
	--reason keyCompromise >"$TL_TMP/revoke.out" 2>&1 &&
	"$MFCTL" --config-dir "$CA" ca export --out "$TL_STATE/mf-node-a" >>"$TL_TMP/revoke.out" 2>&1 &&
	"$MFCTL" --config-dir "$CA" ca export --out "$TL_STATE/mf-node-b" >>"$TL_TMP/revoke.out" 2>&1 &&
	wait_for 5 crl_loaded mf-node-a "$mark_a" && wait_for 5 crl_loaded mf-node-b "$mark_b"; then
	pass revoke_list_loaded
else
	fail revoke_list_loaded "$(cat "$TL_TMP/revoke.out")"
	tl_finish
fi
rev0=$(metric a "$REVOKED")
reqs0=$(grep -c '"GET /token' "$TL_TMP/httpd-a2.log")
mark_a=$(tl_log_mark mf-node-a)
mark_b=$(tl_log_mark mf-node-b)
if tb_exec a1 curl -sS -m 10 "http://$INTRUDER/token" >"$TL_TMP/revoked.out" 2>&1; then
	fail same_node_revoked_refused "got an answer: $(cat "$TL_TMP/revoked.out")"
elif [ "$(grep -c '"GET /token' "$TL_TMP/httpd-a2.log")" -ne "$reqs0" ]; then
	fail same_node_revoked_refused "a2 served the request"
else
	pass same_node_revoked_refused
fi
tb_exec a1 curl -sS -m 10 "http://$WEB/token" >/dev/null 2>&1
# revoked_reason NODE MARK PREFIX: the first revocation denial's reason
# past PREFIX, the path's own words.
revoked_reason() {
	tl_log_since "$1" "$2" | grep 'event=denied' | grep -F 'is revoked: keyCompromise' |
		head -n 1 | sed -n "s/.* reason=\"$3\\(.*\\)\"\$/\\1/p" | grep .
}
wait_for 5 revoked_reason mf-node-a "$mark_a" 'source certificate: ' >/dev/null
wait_for 5 revoked_reason mf-node-b "$mark_b" 'tls handshake: handshake: ' >/dev/null
lr=$(revoked_reason mf-node-a "$mark_a" 'source certificate: ')
tr=$(revoked_reason mf-node-b "$mark_b" 'tls handshake: handshake: ')
rev1=$(metric a "$REVOKED")
tl_log "revocation reasons: same node '$lr', tunnel '$tr'; node a revoked peers $rev0 -> $rev1"
if [ -n "$lr" ] && [ "$lr" = "$tr" ] && grep -qF "$CLIENT_ID" <<<"$lr" && [ "$rev1" -gt "$rev0" ]; then
	pass same_node_revoked_reason_as_tunnel
else
	fail same_node_revoked_reason_as_tunnel "same node '$lr', tunnel '$tr', node a revoked $rev0 -> $rev1"
fi

tl_finish
