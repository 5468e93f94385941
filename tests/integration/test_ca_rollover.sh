#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A CA rollover on the two-node testbed, with no agent restarted and pod
# a1's connections to web (echo servers in b1 and b2, through both agents)
# answered at every step:
#  1. `mfctl ca rotate`: a new root, the old one kept in ca-previous.crt;
#     `mfctl ca export` to both nodes: each trusts both roots;
#  2. node b's certificates re-issued from the new root (node a's still
#     from the old one): traffic flows both ways of trust, and what node b
#     presents verifies with the new root only;
#  3. node a's re-issued too;
#  4. `mfctl ca prune` and export: the old root is no longer trusted, so a
#     certificate from it (node a's, kept from before) is refused by node
#     b's agent, while traffic still flows.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_ca_rollover
tl_require_testbed
LOAD=$O/tests/tools/mf_load
tl_require_built "$MFCTL" "$AGENT" "$LOAD"
tl_require_cmd openssl

tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
tl_echo_up
pid_a=$("$TB" pid a)
pid_b=$("$TB" pid b)
CA=$TL_STATE/ca
A_DIR=$TL_STATE/mf-node-a
B_DIR=$TL_STATE/mf-node-b
A_STEM=mesh.local+ns+meshforge-system+sa+mf-node-a
ctl() { "$MFCTL" --config-dir "$CA" "$@" >>"$TL_TMP/ctl.log" 2>&1 || { fail "mfctl_$1_$2" "$(tail -5 "$TL_TMP/ctl.log")"; tl_finish; }; }
# traffic: 5 connections from a1 echoed whole through both agents.
traffic() { tb_exec a1 "$LOAD" client 10.96.0.10 80 5 4096 10 >/dev/null 2>&1; }
# issue NODE: the node's identity and its pods' again, from the CA now.
issue() {
	local id
	for id in $(openssl x509 -noout -ext subjectAltName \
			-in "$TL_STATE/$1/certs/"*"$1.crt" 2>/dev/null | grep -o 'spiffe://[^ ,]*') \
		$(for f in "$TL_STATE/$1/certs/"*.crt; do
			openssl x509 -noout -ext subjectAltName -in "$f" | grep -o 'spiffe://[^ ,]*'
		done | sort -u); do
		ctl cert issue --identity "$id" --out "$TL_STATE/$1"
	done
}
# presents NODE_DIR CA_FILE: the certificate agent b presents to node a's
# identity in NODE_DIR verifies with CA_FILE alone.
b_verifies_with() {
	tb_exec mf-node-a openssl s_client -connect 10.77.0.2:15008 -tls1_3 \
		-cert "$A_DIR/certs/$A_STEM.crt" -key "$A_DIR/certs/$A_STEM.key" \
		-CAfile "$1" -verify_return_error </dev/null >/dev/null 2>&1
}
settle() { sleep 1.5; }	# the agents' inotify tick is a second

check traffic_before traffic
cp "$CA/ca.crt" "$TL_TMP/old-ca.crt"
cp "$A_DIR/certs/$A_STEM.crt" "$TL_TMP/old-a.crt"
cp "$A_DIR/certs/$A_STEM.key" "$TL_TMP/old-a.key"

# 1. a new root, both trusted everywhere.
ctl ca rotate
ctl ca export --out "$A_DIR"
ctl ca export --out "$B_DIR"
settle
if [ -f "$A_DIR/ca-previous.crt" ] && [ -f "$B_DIR/ca-previous.crt" ] && traffic; then
	pass both_roots_trusted
else
	fail both_roots_trusted "ca-previous.crt on a: $(test -f "$A_DIR/ca-previous.crt" && echo yes), b: $(test -f "$B_DIR/ca-previous.crt" && echo yes)"
fi

# 2. node b on the new root, node a on the old.
issue mf-node-b
settle
if b_verifies_with "$CA/ca.crt" && ! b_verifies_with "$TL_TMP/old-ca.crt" && traffic; then
	pass mixed_roots_serve
else
	fail mixed_roots_serve "b verifies with the new root: $(b_verifies_with "$CA/ca.crt" && echo yes || echo no); traffic: $(traffic && echo ok || echo failed)"
fi

# 3. node a too.
issue mf-node-a
settle
check all_on_new_root traffic

# 4. the overlap ends.
ctl ca prune
ctl ca export --out "$A_DIR"
ctl ca export --out "$B_DIR"
settle
# refused CRT KEY: agent b refused a handshake with this client
# certificate, as its log says (a TLS 1.3 client is done before the
# server's verdict on its certificate comes).
refused() {
	local mark
	mark=$(tl_log_mark mf-node-b)
	tb_exec mf-node-a openssl s_client -connect 10.77.0.2:15008 -tls1_3 \
		-cert "$1" -key "$2" -CAfile "$CA/ca.crt" </dev/null >/dev/null 2>&1
	sleep 0.3
	tl_log_since mf-node-b "$mark" | grep -q 'event=denied .*certificate verify failed'
}
old_refused=0
refused "$TL_TMP/old-a.crt" "$TL_TMP/old-a.key" && old_refused=1
new_taken=0
refused "$A_DIR/certs/$A_STEM.crt" "$A_DIR/certs/$A_STEM.key" || new_taken=1
if [ ! -f "$A_DIR/ca-previous.crt" ] && [ ! -f "$B_DIR/ca-previous.crt" ] &&
	[ "$old_refused" = 1 ] && [ "$new_taken" = 1 ] && traffic &&
	[ "$("$TB" pid a)" = "$pid_a" ] && [ "$("$TB" pid b)" = "$pid_b" ]; then
	pass old_root_pruned
else
	fail old_root_pruned "old certificate refused: $old_refused, new one taken: $new_taken; pids a $pid_a -> $("$TB" pid a), b $pid_b -> $("$TB" pid b)"
fi

tl_finish
