#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Revocation on the two-node testbed, with no agent restarted:
#  - a second certificate for the client identity, issued by `mfctl cert
#    issue` into a directory of its own (the "leaked" one), is accepted at
#    node b's tunnel port (10.77.0.2:15008), as is the node's own one;
#  - `mfctl ca revoke --cert` the leaked one and `ca export` to node b: it
#    is refused once the agent has read the list, and node b's log says
#    why (revoked, its serial and reason), and s_client gets a
#    certificate_revoked alert (44); the other certificate of the
#    same identity is still accepted, pod a1's traffic through both agents
#    still flows, and /metrics shows the list (entries, nextUpdate) and
#    the refusal;
#  - published: with `ca set --crl-uri` naming node b's /ca.crl, a new
#    certificate carries that URI; curl fetches node b's list from it,
#    and `openssl verify -crl_check` with it refuses the leaked
#    certificate and accepts the new one;
#  - a list signed by another CA under the same name, put in place of
#    node b's: not taken (logged and counted), the leaked certificate
#    stays refused;
#  - the other end: node b's own certificate revoked (`ca revoke
#    --identity`, every one recorded for it) and the list exported to
#    node a: agent a refuses node b, so a1's requests fail, and says why;
#    node b's certificate issued again: they are answered again.
# (A list past its nextUpdate is tests/agent/test_crl's: mfctl does not
# make one.)
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_revoke
tl_require_testbed
tl_require_cmd openssl timeout curl
tl_require_built "$MFCTL" "$AGENT"

CLIENT_ID=spiffe://mesh.local/ns/default/sa/client
STEM=mesh.local+ns+default+sa+client
CA=$TL_STATE/ca
B_DIR=$TL_STATE/mf-node-b
GOOD_CRT=$TL_STATE/mf-node-a/certs/$STEM.crt
GOOD_KEY=$TL_STATE/mf-node-a/certs/$STEM.key

tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
tl_httpd b1 || { fail httpd_b1 "server did not start"; tl_finish; }
tl_httpd b2 || { fail httpd_b2 "server did not start"; tl_finish; }
pid_a=$("$TB" pid a)
pid_b=$("$TB" pid b)

LEAK=$TL_TMP/leak
if "$MFCTL" --config-dir "$CA" cert issue --identity "$CLIENT_ID" --out "$LEAK" >"$TL_TMP/issue.out" 2>&1; then
	pass leaked_cert_issued
else
	fail leaked_cert_issued "$(cat "$TL_TMP/issue.out")"
	tl_finish
fi
LEAK_CRT=$LEAK/certs/$STEM.crt
LEAK_KEY=$LEAK/certs/$STEM.key
serial=$(openssl x509 -noout -serial -in "$LEAK_CRT" | sed 's/^serial=//' | tr 'A-F' 'a-f' | sed 's/^0*//')

# tls_try NAME CRT KEY: one tunnel attempt to pod b1 through node b, as a
# source agent makes it; output in $TL_TMP/NAME.out.  Answered: 0.
tls_try() {
	"$TL_PY" "$TL_TOOLS/mf_pp2.py" --src 10.78.1.11:41000 --dst 10.78.2.11:8080 \
		--orig 10.96.0.10:80 --req-id 4242 --payload 'GET /whoami HTTP/1.0\r\n\r\n' |
		timeout 10 "$TB" exec a openssl s_client -connect 10.77.0.2:15008 -tls1_3 \
			-CAfile "$CA/ca.crt" -verify_return_error -ign_eof \
			-cert "$2" -key "$3" >"$TL_TMP/$1.out" 2>&1
	grep -q '^pod=mf-pod-b1 ' "$TL_TMP/$1.out"
}
# pod a1's requests to web, through both agents.
traffic() {
	local i
	for i in 1 2 3 4 5; do
		tb_exec a1 curl -fsS -m 5 -o /dev/null http://10.96.0.10/whoami || return 1
	done
}
admin() { tb_exec b curl -sS -m 5 "http://127.0.0.1:15000$1"; }
sample() { grep -E "^$2" "$1" | head -n 1 | awk '{print $NF}'; }
# settled MARK PATTERN: node b's log has PATTERN after MARK (5 s at most:
# the agent's inotify tick is a second).
settled_on() { wait_for 5 sh -c "tail -n +$(($2 + 1)) '$(tl_agent_log "$1")' | grep -q '$3'"; }
settled() { settled_on mf-node-b "$@"; }

if tls_try leak_before "$LEAK_CRT" "$LEAK_KEY" && tls_try good_before "$GOOD_CRT" "$GOOD_KEY"; then
	pass both_accepted_before
else
	fail both_accepted_before "leaked: $(tail -n 3 "$TL_TMP/leak_before.out"); other: $(tail -n 3 "$TL_TMP/good_before.out")"
fi

mark=$(tl_log_mark mf-node-b)
if "$MFCTL" --config-dir "$CA" ca revoke --cert "$LEAK_CRT" --reason keyCompromise >"$TL_TMP/revoke.out" 2>&1 &&
	"$MFCTL" --config-dir "$CA" ca export --out "$B_DIR" >>"$TL_TMP/revoke.out" 2>&1 &&
	settled "$mark" 'event=crl_loaded .*entries=1'; then
	pass revoked_list_loaded
else
	fail revoked_list_loaded "$(cat "$TL_TMP/revoke.out"); log: $(tl_log_since mf-node-b "$mark" | grep -E 'crl|trust' | tail -n 3)"
fi

mark=$(tl_log_mark mf-node-b)
leak_taken=0
tls_try leak_after "$LEAK_CRT" "$LEAK_KEY" && leak_taken=1
sleep 0.3
line=$(tl_log_since mf-node-b "$mark" | grep 'event=denied' | grep 'revoked' | head -n 1)
if [ "$leak_taken" = 0 ] && grep -q "serial $serial" <<<"$line" &&
	grep -q "keyCompromise" <<<"$line" && grep -qF "$CLIENT_ID" <<<"$line"; then
	tl_log "refusal: $line"
	pass revoked_cert_refused_with_reason
else
	fail revoked_cert_refused_with_reason "answered: $leak_taken; log line: '$line' (serial $serial)"
fi

# The refused client is told why: a certificate_revoked alert (44, RFC
# 8446 6.2), as openssl s_client reports it, not a bare close.
if grep -q 'alert certificate revoked' "$TL_TMP/leak_after.out" &&
	grep -q 'SSL alert number 44' "$TL_TMP/leak_after.out"; then
	pass revoked_peer_told_by_alert
else
	fail revoked_peer_told_by_alert "s_client: $(grep -iE 'alert|error' "$TL_TMP/leak_after.out" | head -n 3)"
fi

if tls_try good_after "$GOOD_CRT" "$GOOD_KEY" && traffic; then
	pass other_cert_still_accepted
else
	fail other_cert_still_accepted "$(tail -n 3 "$TL_TMP/good_after.out"); traffic: $(traffic && echo ok || echo failed)"
fi

admin /metrics >"$TL_TMP/metrics" 2>&1
entries=$(sample "$TL_TMP/metrics" 'meshforge_crl_entries ')
next=$(sample "$TL_TMP/metrics" 'meshforge_crl_next_update_timestamp_seconds ')
refused=$(sample "$TL_TMP/metrics" 'meshforge_tls_peer_revoked_total ')
now=$(date +%s)
if [ "$entries" = 1 ] && [ -n "$next" ] && [ "$next" -gt "$((now + 29 * 86400))" ] &&
	[ "${refused:-0}" -ge 1 ]; then
	pass metrics_show_list
else
	fail metrics_show_list "entries '$entries', next_update '$next' (now $now), revoked refusals '$refused'"
fi

# Publication: with a CRL URI set on the CA (node b's admin listener,
# where its agent serves the list it holds), a certificate issued after
# names it (cRLDistributionPoints, as openssl shows it); fetched from
# that URI with curl, the list is node b's ca.crl, byte for byte, and
# openssl's own CRL check with it refuses the leaked certificate as
# revoked and accepts the new one.
DP_URI=http://127.0.0.1:15000/ca.crl
DP=$TL_TMP/dp
if "$MFCTL" --config-dir "$CA" ca set --crl-uri "$DP_URI" >"$TL_TMP/dp.out" 2>&1 &&
	"$MFCTL" --config-dir "$CA" cert issue --identity "$CLIENT_ID" --out "$DP" >>"$TL_TMP/dp.out" 2>&1 &&
	openssl x509 -noout -text -in "$DP/certs/$STEM.crt" >"$TL_TMP/dp.txt" 2>&1 &&
	grep -A3 'X509v3 CRL Distribution Points:' "$TL_TMP/dp.txt" | grep -qxF "                  URI:$DP_URI"; then
	pass crl_uri_in_new_cert
else
	fail crl_uri_in_new_cert "$(cat "$TL_TMP/dp.out"); $(grep -A3 'CRL Distribution' "$TL_TMP/dp.txt")"
fi
uri=$(grep -A3 'X509v3 CRL Distribution Points:' "$TL_TMP/dp.txt" | sed -n 's/^ *URI://p')
ctype=$(tb_exec b curl -fsS -m 5 -o "$TL_TMP/fetched.crl" -w '%{content_type}' "${uri:-$DP_URI}" 2>&1)
if [ "$ctype" = application/pkix-crl ] && cmp -s "$TL_TMP/fetched.crl" "$B_DIR/ca.crl"; then
	pass crl_fetched_from_agent
else
	fail crl_fetched_from_agent "from '$uri': content type '$ctype'; $(cmp "$TL_TMP/fetched.crl" "$B_DIR/ca.crl" 2>&1)"
fi
if openssl crl -inform DER -in "$TL_TMP/fetched.crl" -out "$TL_TMP/fetched.pem" 2>"$TL_TMP/verify.out" &&
	! openssl verify -crl_check -CAfile "$CA/ca.crt" -CRLfile "$TL_TMP/fetched.pem" \
		"$LEAK_CRT" >>"$TL_TMP/verify.out" 2>&1 &&
	grep -q 'certificate revoked' "$TL_TMP/verify.out" &&
	openssl verify -crl_check -CAfile "$CA/ca.crt" -CRLfile "$TL_TMP/fetched.pem" \
		"$DP/certs/$STEM.crt" >>"$TL_TMP/verify.out" 2>&1; then
	pass fetched_crl_checks
else
	fail fetched_crl_checks "$(cat "$TL_TMP/verify.out")"
fi
"$MFCTL" --config-dir "$CA" ca set --crl-uri "" >/dev/null 2>&1 ||
	fail crl_uri_unset "the CA's CRL URI could not be removed"

# Another CA with the mesh CA's very name signs a list that revokes
# nothing; put where node b reads it, it must lift nothing.
EVIL=$TL_TMP/evil
mark=$(tl_log_mark mf-node-b)
if "$MFCTL" --config-dir "$EVIL" ca init --trust-domain mesh.local >/dev/null 2>&1 &&
	"$MFCTL" --config-dir "$EVIL" ca revoke >/dev/null 2>&1 &&
	cp "$EVIL/ca.crl" "$B_DIR/ca.crl.tmp" && mv "$B_DIR/ca.crl.tmp" "$B_DIR/ca.crl" &&
	settled "$mark" 'event=crl_refused .*no trusted CA signed it'; then
	leak_taken=0
	tls_try leak_forged "$LEAK_CRT" "$LEAK_KEY" && leak_taken=1
	admin /metrics >"$TL_TMP/metrics2" 2>&1
	bad=$(sample "$TL_TMP/metrics2" 'meshforge_crl_refused_total ')
	if [ "$leak_taken" = 0 ] && [ "$bad" = 1 ] && tls_try good_forged "$GOOD_CRT" "$GOOD_KEY"; then
		pass forged_list_not_taken
	else
		fail forged_list_not_taken "leaked answered: $leak_taken; lists refused: '$bad'"
	fi
else
	fail forged_list_not_taken "no crl_refused line: $(tl_log_since mf-node-b "$mark" | grep -E 'crl' | tail -n 3)"
fi

NODE_B_ID=spiffe://mesh.local/ns/meshforge-system/sa/mf-node-b
A_DIR=$TL_STATE/mf-node-a
check traffic_before_node_revoked traffic
mark=$(tl_log_mark mf-node-a)
if "$MFCTL" --config-dir "$CA" ca revoke --identity "$NODE_B_ID" --reason superseded >"$TL_TMP/revoke-b.out" 2>&1 &&
	"$MFCTL" --config-dir "$CA" ca export --out "$A_DIR" >>"$TL_TMP/revoke-b.out" 2>&1 &&
	settled_on mf-node-a "$mark" 'event=crl_loaded .*entries=2'; then
	taken=0
	traffic && taken=1
	line=$(tl_log_since mf-node-a "$mark" | grep 'revoked: superseded' | grep -F "$NODE_B_ID" | head -n 1)
	if [ "$taken" = 0 ] && [ -n "$line" ]; then
		tl_log "node a refuses node b: $line"
		pass revoked_server_refused_by_client
	else
		fail revoked_server_refused_by_client "traffic answered: $taken; log: '$line'"
	fi
else
	fail revoked_server_refused_by_client "$(cat "$TL_TMP/revoke-b.out")"
fi
mark=$(tl_log_mark mf-node-b)
if "$MFCTL" --config-dir "$CA" cert issue --identity "$NODE_B_ID" --out "$B_DIR" >"$TL_TMP/reissue.out" 2>&1 &&
	settled_on mf-node-b "$mark" 'event=certs_reloaded' && wait_for 5 traffic; then
	pass reissued_server_served
else
	fail reissued_server_served "$(cat "$TL_TMP/reissue.out"); traffic: $(traffic && echo ok || echo failed)"
fi

if [ "$("$TB" pid b)" = "$pid_b" ] && [ "$("$TB" pid a)" = "$pid_a" ]; then
	pass agents_not_restarted
else
	fail agents_not_restarted "agent a pid $pid_a -> $("$TB" pid a), b $pid_b -> $("$TB" pid b)"
fi

tl_finish
