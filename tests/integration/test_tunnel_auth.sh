#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Who may speak to an agent's tunnel port (node b, 10.77.0.2:15008), tried
# from node a with `openssl s_client` sending what a source agent sends (a
# PROXY v2 header for pod b1, then an HTTP request):
#  - a client certificate from the mesh CA completes the handshake and the
#    request reaches b1 (so the refusals below are refusals, not a broken
#    setup), and the server presents node b's SPIFFE identity;
#  - a certificate from another CA, for the same identity, is refused;
#  - no client certificate at all is refused;
#  - a permission for one Workload (a Dataplane target) denies the client
#    at that Workload only: b1 refuses it, b2 of the same service serves it;
#  - MeshTrust: the other CA trusted for another trust domain still does not
#    vouch for mesh.local's identities; trusted for mesh.local (a rollover)
#    its certificate is served, and the mesh CA's still is; deleted, it is
#    refused again;
#  - MeshTrafficPermission sni matches: a deny by the client's identity and
#    the name web beats web-allow for a handshake that asks for web, not
#    for one that asks for none; another name is refused; pod a1's own
#    agent asks for web and is denied by that rule.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_tunnel_auth
tl_require_testbed
tl_require_cmd openssl timeout
tl_require_built "$MFCTL" "$AGENT"

CLIENT_ID=spiffe://mesh.local/ns/default/sa/client
NODE_B_ID=spiffe://mesh.local/ns/meshforge-system/sa/mf-node-b
CA=$TL_STATE/mf-node-a/ca.crt
GOOD_CRT=$TL_STATE/mf-node-a/certs/mesh.local+ns+default+sa+client.crt
GOOD_KEY=$TL_STATE/mf-node-a/certs/mesh.local+ns+default+sa+client.key

tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
tl_httpd b1 || { fail httpd_b1 "server did not start"; tl_finish; }

# A second CA with the same trust domain, and a certificate for the very
# identity that policy allows: only the chain tells it apart.
EVIL=$TL_TMP/evil
if "$MFCTL" --config-dir "$EVIL" ca init --trust-domain mesh.local >/dev/null &&
	"$MFCTL" --config-dir "$EVIL" cert issue --identity "$CLIENT_ID" --out "$EVIL" >/dev/null; then
	pass second_ca_made
else
	fail second_ca_made "mfctl ca init / cert issue into $EVIL failed"
fi
EVIL_CRT=$EVIL/certs/mesh.local+ns+default+sa+client.crt
EVIL_KEY=$EVIL/certs/mesh.local+ns+default+sa+client.key
if [ -f "$EVIL_CRT" ] && ! openssl verify -CAfile "$CA" "$EVIL_CRT" >/dev/null 2>&1; then
	pass second_ca_cert_is_foreign
else
	fail second_ca_cert_is_foreign "$EVIL_CRT missing or verifies against the mesh CA"
fi

# tls_try NAME [s_client options]: one tunnel attempt; output in $TL_TMP/NAME.out.
# The PROXY header's destination is $DST, pod b1 by default.
# -ign_eof: keep reading after our request until the server closes, so a
# refusal (an alert) and an answer both arrive before s_client exits.
tls_try() {
	local name=$1
	shift
	"$TL_PY" "$TL_TOOLS/mf_pp2.py" --src 10.78.1.11:41000 --dst "${DST:-10.78.2.11:8080}" \
		--orig 10.96.0.10:80 --req-id 4242 --payload 'GET /whoami HTTP/1.0\r\n\r\n' |
		timeout 10 "$TB" exec a openssl s_client -connect 10.77.0.2:15008 -tls1_3 \
			-CAfile "$CA" -verify_return_error -ign_eof "$@" >"$TL_TMP/$name.out" 2>&1
}

# The one line a refusal shows in s_client's output, for the log.
why() { grep -m1 -iE 'alert|error|errno|closed' "$TL_TMP/$1.out"; }

tls_try good -cert "$GOOD_CRT" -key "$GOOD_KEY"
rc=$?
if grep -q '^pod=mf-pod-b1 node=mf-node-b ' "$TL_TMP/good.out"; then
	pass mesh_ca_cert_accepted
else
	fail mesh_ca_cert_accepted "s_client exit $rc; $(tail -n 5 "$TL_TMP/good.out")"
fi
san=$(openssl x509 -noout -ext subjectAltName <"$TL_TMP/good.out" 2>/dev/null)
if grep -qF "URI:$NODE_B_ID" <<<"$san"; then
	pass server_presents_node_b_identity
else
	fail server_presents_node_b_identity "server SAN: $san"
fi

tls_try evil -cert "$EVIL_CRT" -key "$EVIL_KEY"
rc=$?
if ! grep -q '^pod=' "$TL_TMP/evil.out" && { [ "$rc" -ne 0 ] || why evil >/dev/null; }; then
	tl_log "other CA: s_client exit $rc: $(why evil)"
	pass other_ca_cert_refused
else
	fail other_ca_cert_refused "s_client exit $rc; $(tail -n 5 "$TL_TMP/evil.out")"
fi

tls_try nocert
rc=$?
if ! grep -q '^pod=' "$TL_TMP/nocert.out" && { [ "$rc" -ne 0 ] || why nocert >/dev/null; }; then
	tl_log "no cert: s_client exit $rc: $(why nocert)"
	pass no_client_cert_refused
else
	fail no_client_cert_refused "s_client exit $rc; $(tail -n 5 "$TL_TMP/nocert.out")"
fi

# The refusals did not cost the agent its life or its service.
tls_try again -cert "$GOOD_CRT" -key "$GOOD_KEY"
pid_b=$("$TB" pid b)
if [ -n "$pid_b" ] && grep -q '^pod=mf-pod-b1 ' "$TL_TMP/again.out"; then
	pass agent_serves_after_refusals
else
	fail agent_serves_after_refusals "agent b pid '$pid_b'; $(tail -n 5 "$TL_TMP/again.out")"
fi

# A permission for Workload b1 alone: it denies the client there, next to
# web-allow, which still lets it reach b2.
tl_httpd b2 || { fail httpd_b2 "server did not start"; tl_finish; }
cat "$TL_TOP/tests/integration/policy.yaml" - >"$TL_TMP/b1-deny.yaml" <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrafficPermission
metadata: {name: b1-deny}
spec:
  targetRef: {kind: Dataplane, name: b1}
  from:
    - targetRef: {kind: SpiffeID, name: "spiffe://mesh.local/ns/default/sa/client"}
      default: {action: Deny}
YAML
mark=$(tl_log_mark mf-node-b)
if "$TB" apply "$TL_TMP/b1-deny.yaml" >"$TL_TMP/apply.out" 2>&1; then
	DST=10.78.2.11:8080 tls_try b1 -cert "$GOOD_CRT" -key "$GOOD_KEY"
	if ! grep -q '^pod=' "$TL_TMP/b1.out" &&
		tl_log_since mf-node-b "$mark" | grep -q 'event=denied .*dst=10.78.2.11:8080 .*reason="policy=b1-deny '; then
		pass workload_permission_denies_at_its_workload
	else
		fail workload_permission_denies_at_its_workload "$(tail -n 3 "$TL_TMP/b1.out")"
	fi
	DST=10.78.2.12:8080 tls_try b2 -cert "$GOOD_CRT" -key "$GOOD_KEY"
	if grep -q '^pod=mf-pod-b2 ' "$TL_TMP/b2.out"; then
		pass workload_permission_leaves_other_workloads
	else
		fail workload_permission_leaves_other_workloads "$(tail -n 3 "$TL_TMP/b2.out")"
	fi
else
	fail apply_workload_permission "$(cat "$TL_TMP/apply.out")"
fi

# MeshTrust: the second CA's certificate, trusted for @1, with the shipped
# policy; the agents pick it up with the policy.
trust_policy() {
	cat "$TL_TOP/tests/integration/policy.yaml"
	printf -- '---\napiVersion: kuma.io/v1alpha1\nkind: MeshTrust\n'
	printf 'metadata: {name: evil-ca}\nspec:\n  trustDomain: %s\n' "$1"
	printf '  caBundles:\n    - type: Pem\n      pem:\n        value: |\n'
	sed 's/^/          /' "$EVIL/ca.crt"
}
# For another trust domain, the CA does not vouch for mesh.local's
# identities, though the chain verifies.
trust_policy other.td >"$TL_TMP/trust-other.yaml"
mark=$(tl_log_mark mf-node-b)
if "$TB" apply "$TL_TMP/trust-other.yaml" >"$TL_TMP/apply.out" 2>&1; then
	DST=10.78.2.12:8080 tls_try evil_other -cert "$EVIL_CRT" -key "$EVIL_KEY"
	if ! grep -q '^pod=' "$TL_TMP/evil_other.out" &&
		tl_log_since mf-node-b "$mark" | grep -q 'is not from a CA of trust domain mesh.local'; then
		pass mesh_trust_binds_ca_to_its_domain
	else
		fail mesh_trust_binds_ca_to_its_domain "$(tail -n 3 "$TL_TMP/evil_other.out"; tl_log_since mf-node-b "$mark" | tail -n 3)"
	fi
else
	fail apply_mesh_trust_other "$(cat "$TL_TMP/apply.out")"
fi
# For mesh.local: a CA rollover; both CAs' certificates are served.
trust_policy mesh.local >"$TL_TMP/trust-mesh.yaml"
if "$TB" apply "$TL_TMP/trust-mesh.yaml" >"$TL_TMP/apply.out" 2>&1; then
	# To b2: b1-deny, applied above, still denies the client at b1.
	DST=10.78.2.12:8080 tls_try evil_trusted -cert "$EVIL_CRT" -key "$EVIL_KEY"
	DST=10.78.2.12:8080 tls_try good_trusted -cert "$GOOD_CRT" -key "$GOOD_KEY"
	if grep -q '^pod=mf-pod-b2 ' "$TL_TMP/evil_trusted.out" &&
		grep -q '^pod=mf-pod-b2 ' "$TL_TMP/good_trusted.out"; then
		pass mesh_trust_adds_a_ca
	else
		fail mesh_trust_adds_a_ca "$(tail -n 3 "$TL_TMP/evil_trusted.out" "$TL_TMP/good_trusted.out")"
	fi
else
	fail apply_mesh_trust "$(cat "$TL_TMP/apply.out")"
fi
# Without the MeshTrust, the second CA is foreign again.
# (Node b's delete runs in node b, so that --wait asks its agent.)
if tl_ctl a delete meshtrust evil-ca >"$TL_TMP/apply.out" 2>&1 &&
	tb_exec b "$MFCTL" --bpf-root /sys/fs/bpf/mf-node-b \
		--state-dir "$TL_STATE/mf-node-b/state" --run-dir "$TL_STATE/run" \
		delete meshtrust evil-ca --wait >>"$TL_TMP/apply.out" 2>&1; then
	DST=10.78.2.12:8080 tls_try evil_untrusted -cert "$EVIL_CRT" -key "$EVIL_KEY"
	if ! grep -q '^pod=' "$TL_TMP/evil_untrusted.out"; then
		pass mesh_trust_deleted_ca_refused
	else
		fail mesh_trust_deleted_ca_refused "$(tail -n 3 "$TL_TMP/evil_untrusted.out")"
	fi
else
	fail delete_mesh_trust "$(cat "$TL_TMP/apply.out")"
fi

# MeshTrafficPermission sni matches: the client is denied when it asks for
# web's name (beating web-allow's allow by identity alone), allowed when it
# asks for none; a name that is not web's is refused outright.  Pod a1,
# through node a's agent, is denied by that rule: its tunnel asked for
# "web".  (b1-deny still holds at b1: b2 is the destination.)
cat "$TL_TOP/tests/integration/policy.yaml" - >"$TL_TMP/sni.yaml" <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrafficPermission
metadata: {name: web-sni}
spec:
  targetRef: {kind: MeshService, name: web}
  rules:
    - default:
        deny:
          - spiffeID: {type: Exact, value: "spiffe://mesh.local/ns/default/sa/client"}
            sni: {type: Exact, value: web}
YAML
mark=$(tl_log_mark mf-node-b)
if "$TB" apply "$TL_TMP/sni.yaml" >"$TL_TMP/apply.out" 2>&1; then
	DST=10.78.2.12:8080 tls_try sni_web -cert "$GOOD_CRT" -key "$GOOD_KEY" -servername web
	if ! grep -q '^pod=' "$TL_TMP/sni_web.out" &&
		tl_log_since mf-node-b "$mark" | grep -q 'event=denied .*reason="policy=web-sni rule=spiffe://mesh.local/ns/default/sa/client sni=web"'; then
		pass sni_rule_denies_its_name
	else
		fail sni_rule_denies_its_name "$(tail -n 3 "$TL_TMP/sni_web.out"; tl_log_since mf-node-b "$mark" | tail -n 2)"
	fi
	DST=10.78.2.12:8080 tls_try sni_none -cert "$GOOD_CRT" -key "$GOOD_KEY"
	if grep -q '^pod=mf-pod-b2 ' "$TL_TMP/sni_none.out"; then
		pass sni_rule_leaves_no_name
	else
		fail sni_rule_leaves_no_name "$(tail -n 3 "$TL_TMP/sni_none.out")"
	fi
	mark=$(tl_log_mark mf-node-b)
	DST=10.78.2.12:8080 tls_try sni_other -cert "$GOOD_CRT" -key "$GOOD_KEY" -servername other
	if ! grep -q '^pod=' "$TL_TMP/sni_other.out" &&
		tl_log_since mf-node-b "$mark" | grep -q 'event=denied .*reason="SNI other does not name the destination.s service"'; then
		pass sni_of_another_service_refused
	else
		fail sni_of_another_service_refused "$(tail -n 3 "$TL_TMP/sni_other.out"; tl_log_since mf-node-b "$mark" | tail -n 2)"
	fi
	mark=$(tl_log_mark mf-node-b)
	for _ in 1 2 3 4; do
		tb_exec a1 curl -sS -m 5 -o /dev/null http://10.96.0.10/ >/dev/null 2>&1
	done
	if wait_for 5 sh -c "tail -n +$((mark + 1)) '$(tl_agent_log mf-node-b)' | grep -q 'event=denied .*dst=10.78.2.12:8080 .*sni=web\"'"; then
		pass agent_tunnel_asks_for_service_name
	else
		fail agent_tunnel_asks_for_service_name "$(tl_log_since mf-node-b "$mark" | tail -n 4)"
	fi
else
	fail apply_sni_permission "$(cat "$TL_TMP/apply.out")"
fi

tl_finish
