#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# MeshTLS tlsVersion and tlsCiphers between the agents, on the two-node
# testbed.  What a client saw decides: pod a1's request across nodes
# (through both agents) and `openssl s_client` from node a at node b's
# tunnel port with a workload certificate of the mesh CA (its Protocol
# and Cipher lines), and node b's /metrics for what its handshakes agreed.
#  - No MeshTLS: TLS 1.3; a TLS 1.2 client is refused.
#  - {min: TLS12, max: TLS12} with tlsCiphers [ECDHE-ECDSA-AES256-GCM-
#    SHA384]: inspect shows it; a1's request still works and node b counts a TLS 1.2
#    handshake with that suite; s_client -tls1_3 is refused, -tls1_2 with
#    that suite served, -tls1_2 with another suite refused.
#  - A profile the agents cannot speak (TLS 1.2 only, RSA suites) is
#    refused by apply naming tlsCiphers, and TLS 1.2 stays in force.
#  - The MeshTLS deleted: TLS 1.3 again, -tls1_2 refused.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_mesh_tls
tl_require_testbed
tl_require_cmd openssl timeout curl
tl_require_built "$MFCTL" "$AGENT"

CA=$TL_STATE/mf-node-a/ca.crt
CRT=$TL_STATE/mf-node-a/certs/mesh.local+ns+default+sa+client.crt
KEY=$TL_STATE/mf-node-a/certs/mesh.local+ns+default+sa+client.key
AES256=ECDHE-ECDSA-AES256-GCM-SHA384
AES128=ECDHE-ECDSA-AES128-GCM-SHA256

tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
tl_httpd b1 || { fail httpd_b1 "server did not start"; tl_finish; }
tl_httpd b2 || { fail httpd_b2 "server did not start"; tl_finish; }

# tls_try NAME [s_client options]: one tunnel to node b as a source agent
# opens it (a PROXY v2 header for pod b1, then a request), with the
# client's workload certificate; s_client's output in $TL_TMP/NAME.out.
tls_try() {
	local name=$1
	shift
	"$TL_PY" "$TL_TOOLS/mf_pp2.py" --src 10.78.1.11:41000 --dst 10.78.2.11:8080 \
		--orig 10.96.0.10:80 --req-id 4242 --payload 'GET /whoami HTTP/1.0\r\n\r\n' |
		timeout 10 "$TB" exec a openssl s_client -connect 10.77.0.2:15008 \
			-CAfile "$CA" -verify_return_error -cert "$CRT" -key "$KEY" \
			-ign_eof "$@" >"$TL_TMP/$name.out" 2>&1
}

# served NAME VERSION CIPHER: the tunnel of tls_try NAME agreed VERSION and
# CIPHER, as s_client printed them ("New, TLSv1.2, Cipher is ..."; a TLS
# 1.3 session without a ticket prints no SSL-Session block), and pod b1
# answered through it.
served() {
	grep -q '^pod=mf-pod-b1 ' "$TL_TMP/$1.out" &&
		grep -qxF "New, $2, Cipher is $3" "$TL_TMP/$1.out"
}

# refused NAME: no session came of tls_try NAME (s_client says why: an
# alert or an error, and no cipher agreed), and nothing reached b1.
refused() {
	tl_log "$1: $(grep -m1 -E 'alert|error' "$TL_TMP/$1.out")"
	! grep -q '^pod=' "$TL_TMP/$1.out" &&
		! grep -q '^New, TLS' "$TL_TMP/$1.out" &&
		grep -qE 'alert|error' "$TL_TMP/$1.out"
}

# What node b's handshakes agreed so far: its counter for VERSION, CIPHER.
agreed() {
	tb_exec b curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v s="meshforge_tls_negotiated_total{version=\"$1\",cipher=\"$2\"}" \
			'$1 == s { print $2; found = 1 } END { if (!found) print "none" }'
}

# a1_request NAME: pod a1 asks the web service (node b's pods) over the
# agents' tunnel; its answer in $TL_TMP/NAME.req.
a1_request() {
	tb_exec a1 curl -sS -m 5 http://10.96.0.10/whoami >"$TL_TMP/$1.req" 2>&1 &&
		grep -q '^pod=mf-pod-b[12] node=mf-node-b' "$TL_TMP/$1.req"
}

# a1_agrees NAME VERSION CIPHER: a1's request works and node b counted
# one more handshake at VERSION with CIPHER for it.
a1_agrees() {
	local before after
	before=$(agreed "$2" "$3")
	if ! a1_request "$1"; then
		tl_log "$1: $(cat "$TL_TMP/$1.req")"
		return 1
	fi
	after=$(agreed "$2" "$3")
	[ "$before" != none ] && [ "$after" != none ] && [ "$after" -gt "$before" ] ||
		{ tl_log "$1: node b's $2 $3 handshakes: $before -> $after"; return 1; }
}

# The default: TLS 1.3 only.
if a1_agrees default_request TLSv1.3 TLS13-AES128-GCM-SHA256; then
	pass default_request_tls13
else
	fail default_request_tls13
fi
tls_try default_13 -tls1_3
tls_try default_12 -tls1_2
if served default_13 TLSv1.3 TLS_AES_128_GCM_SHA256 && refused default_12; then
	pass default_refuses_tls12
else
	fail default_refuses_tls12 "$(grep -hE 'Protocol|Cipher|alert' "$TL_TMP/default_13.out" "$TL_TMP/default_12.out")"
fi

# TLS 1.2 with one suite.
cat "$TL_TOP/tests/integration/policy.yaml" - >"$TL_TMP/tls12.yaml" <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshTLS
metadata: {name: tls12}
spec:
  targetRef: {kind: Mesh}
  rules:
    - default:
        tlsVersion: {min: TLS12, max: TLS12}
        tlsCiphers: [$AES256]
YAML
if "$TB" apply "$TL_TMP/tls12.yaml" >"$TL_TMP/apply.out" 2>&1; then
	pass apply_tls12
else
	fail apply_tls12 "$(cat "$TL_TMP/apply.out")"
fi
if tl_ctl b inspect >"$TL_TMP/inspect.out" 2>&1 &&
	grep -q "^  agents tls TLS12 to TLS12 ciphers12 $AES256\$" "$TL_TMP/inspect.out"; then
	pass inspect_shows_profile
else
	fail inspect_shows_profile "$(grep 'agents tls' "$TL_TMP/inspect.out")"
fi
if a1_agrees tls12_request TLSv1.2 "$AES256"; then
	pass tls12_request_across_nodes
else
	fail tls12_request_across_nodes
fi
tls_try tls12_13 -tls1_3
tls_try tls12_12 -tls1_2 -cipher "$AES256"
tls_try tls12_other -tls1_2 -cipher "$AES128"
if refused tls12_13; then
	pass tls12_refuses_tls13
else
	fail tls12_refuses_tls13 "$(grep -E 'Protocol|Cipher|^pod' "$TL_TMP/tls12_13.out")"
fi
if served tls12_12 TLSv1.2 "$AES256"; then
	pass tls12_serves_its_suite
else
	fail tls12_serves_its_suite "$(tail -n 20 "$TL_TMP/tls12_12.out")"
fi
if refused tls12_other; then
	pass tls12_refuses_other_suite
else
	fail tls12_refuses_other_suite "$(grep -E 'Protocol|Cipher|^pod' "$TL_TMP/tls12_other.out")"
fi

# A profile the agents cannot speak: refused, TLS 1.2 stays.
cat "$TL_TOP/tests/integration/policy.yaml" - >"$TL_TMP/rsa.yaml" <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshTLS
metadata: {name: tls12}
spec:
  targetRef: {kind: Mesh}
  rules:
    - default:
        tlsVersion: {min: TLS12, max: TLS12}
        tlsCiphers: [ECDHE-RSA-AES128-GCM-SHA256]
YAML
if ! tl_ctl a apply -f "$TL_TMP/rsa.yaml" >"$TL_TMP/rsa.out" 2>&1 &&
	! tl_ctl b apply -f "$TL_TMP/rsa.yaml" >>"$TL_TMP/rsa.out" 2>&1 &&
	[ "$(grep -c 'spec.rules\[0\].default.tlsCiphers: none of these suites can be agreed at TLS 1.2' "$TL_TMP/rsa.out")" = 2 ] &&
	grep -q 'spec.rules\[0\].default.tlsCiphers: none of these suites can be agreed at TLS 1.2' "$TL_TMP/rsa.out"; then
	tl_log "refused: $(head -n 1 "$TL_TMP/rsa.out")"
	pass apply_refuses_rsa_only
else
	fail apply_refuses_rsa_only "$(cat "$TL_TMP/rsa.out")"
fi
if a1_agrees after_refusal TLSv1.2 "$AES256"; then
	pass refused_apply_keeps_tls12
else
	fail refused_apply_keeps_tls12
fi

# Deleted: TLS 1.3 again.  (Node b's delete runs in node b, so that --wait
# asks its agent.)
if tl_ctl a delete meshtls tls12 >"$TL_TMP/delete.out" 2>&1 &&
	tb_exec b "$MFCTL" --bpf-root /sys/fs/bpf/mf-node-b \
		--state-dir "$TL_STATE/mf-node-b/state" --run-dir "$TL_STATE/run" \
		delete meshtls tls12 --wait >>"$TL_TMP/delete.out" 2>&1; then
	pass delete_tls12
else
	fail delete_tls12 "$(cat "$TL_TMP/delete.out")"
fi
if a1_agrees deleted_request TLSv1.3 TLS13-AES128-GCM-SHA256; then
	pass deleted_request_tls13
else
	fail deleted_request_tls13
fi
tls_try deleted_13 -tls1_3
tls_try deleted_12 -tls1_2 -cipher "$AES256"
if served deleted_13 TLSv1.3 TLS_AES_128_GCM_SHA256 && refused deleted_12; then
	pass deleted_back_to_tls13
else
	fail deleted_back_to_tls13 "$(grep -hE 'Protocol|Cipher|alert|^pod' "$TL_TMP/deleted_13.out" "$TL_TMP/deleted_12.out")"
fi

tl_finish
