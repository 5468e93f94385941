#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# testssl.sh scans an agent's tunnel port, :15008, presenting a mesh client
# certificate: only TLS 1.3 is offered, with AEAD suites only, and no
# finding is MEDIUM or worse but those tests/tools/mf_tls_scan.py accepts
# (ACCEPTED, empty: none is), each by id and exact text, with its reason.
# The node certificate names the address it is scanned at (an IP SAN) and
# where the CA's revocation list is (the agent's /ca.crl), which is
# checked to serve that list.  One to four
# minutes on a 2-core machine, nearly all of it the scan, depending on
# what else the machine runs.
#
# No testbed: one agent with its default ports, in a network namespace of
# the test's own that has only lo, so no port of another test or of the
# host is in the way, and nothing outside the namespace reaches the agent.
# Its maps are pinned under a pin root of its own; the namespace, the pins
# and the agent are removed on any exit.
#
# MF_TLS_SCAN_DOC=docs/tls-scan.md: a passing scan also rewrites that
# file's summary (between its BEGIN and END lines).
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_tls_scan
[ "$(id -u)" = 0 ] || skip "needs root"
tl_require_cmd testssl ip nsenter curl openssl timeout "$TL_PY"
tl_require_built "$MFCTL" "$AGENT"
if [ "$(stat -fc %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null || skip "bpffs cannot be mounted"
fi

NS=mf-tlsscan-$$
PIN=/sys/fs/bpf/mf-tlsscan-$$
NODE=mf-tlsscan
SCANNER=spiffe://mesh.local/ns/default/sa/mf-tlsscan-client
SCAN_TIMEOUT=900
AGENT_PID=""
NS_MADE=0

in_ns() { nsenter --net="/run/netns/$NS" -- "$@"; }

scan_down() {
	local rc=$? i
	if [ -n "$AGENT_PID" ]; then
		kill -TERM "$AGENT_PID" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$AGENT_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
		if [ "$TL_FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
			echo "---- agent.log (last 30 lines) ----" >&2
			tail -n 30 "$TL_TMP/agent.log" >&2
		fi
		AGENT_PID=""
	fi
	[ "$NS_MADE" = 1 ] && ip netns del "$NS"
	NS_MADE=0
	rm -rf "$PIN"
	return "$rc"
}
trap 'scan_down; tl_cleanup' EXIT

ip netns add "$NS" 2>/dev/null || skip "cannot create network namespaces"
NS_MADE=1
ip -n "$NS" link set lo up

# The mesh CA, publishing its revocation list at the agent's /ca.crl (an
# empty list, signed); the node's identity (the tunnel's server
# certificate), with the address it is scanned at beside its SPIFFE ID,
# as a client that checks the address it dials needs; and a workload's
# identity for the scanner, the last as one PEM with its key.
CRL_URI=http://127.0.0.1:15000/ca.crl
"$MFCTL" --config-dir "$TL_TMP/ca" ca init --trust-domain mesh.local \
	--crl-uri "$CRL_URI" >/dev/null &&
	"$MFCTL" --config-dir "$TL_TMP/ca" ca revoke >/dev/null &&
	"$MFCTL" --config-dir "$TL_TMP/ca" cert issue \
		--identity "spiffe://mesh.local/ns/meshforge-system/sa/$NODE" \
		--ip 127.0.0.1 --out "$TL_TMP/node" >/dev/null &&
	"$MFCTL" --config-dir "$TL_TMP/ca" cert issue --identity "$SCANNER" \
		--out "$TL_TMP/client" >/dev/null ||
	{ fail certs "mfctl could not make the certificates"; tl_finish; }
cat "$TL_TMP"/client/certs/*.crt "$TL_TMP"/client/certs/*.key >"$TL_TMP/client.pem"
export MF_MTLS_PEM=$TL_TMP/client.pem

cat >"$TL_TMP/policy.yaml" <<'YAML'
apiVersion: meshforge.io/v1alpha1
kind: Mesh
metadata: {name: default}
spec: {trustDomain: mesh.local}
YAML
mkdir -p "$TL_TMP/state" "$TL_TMP/run"
"$MFCTL" --bpf-root "$PIN" --state-dir "$TL_TMP/state" --run-dir "$TL_TMP/run" \
	apply -f "$TL_TMP/policy.yaml" >"$TL_TMP/apply.out" 2>&1 ||
	{ fail apply "$(cat "$TL_TMP/apply.out")"; tl_finish; }

# nsenter itself, not in_ns: a function in the background would be a
# subshell, and $! its pid rather than the agent's (nsenter execs it).
MF_RUN_DIR=$TL_TMP/run nsenter --net="/run/netns/$NS" -- "$AGENT" --node "$NODE" \
	--bpf-root "$PIN" --config-dir "$TL_TMP/node" --state-dir "$TL_TMP/state" \
	>"$TL_TMP/agent.log" 2>&1 </dev/null 9<&- &
AGENT_PID=$!
ready() {
	kill -0 "$AGENT_PID" 2>/dev/null || return 2
	[ "$(in_ns curl -s -m 1 http://127.0.0.1:15000/ready 2>/dev/null)" = ready ]
}
wait_for 15 ready || { fail agent_ready "the agent did not answer /ready"; tl_finish; }

# meshforge_tls_handshakes_total{result=$1} of the agent.
handshakes() {
	in_ns curl -s -m 5 http://127.0.0.1:15000/metrics |
		awk -v r="$1" '$1 == "meshforge_tls_handshakes_total{result=\"" r "\"}" { print $2 }'
}

# handshakes_above RESULT N: more than N handshakes had RESULT.
handshakes_above() { [ "$(handshakes "$1")" -gt "$2" ] 2>/dev/null; }

# The port wants a mesh certificate: without one the handshake fails, with
# the scanner's (through the openssl that testssl.sh is given) it completes.
ok0=$(handshakes ok) failed0=$(handshakes failed)
in_ns timeout 10 openssl s_client -connect 127.0.0.1:15008 </dev/null >/dev/null 2>&1
if wait_for 5 handshakes_above failed "${failed0:-0}" && [ "$(handshakes ok)" = "$ok0" ]; then
	pass no_client_cert_refused
else
	fail no_client_cert_refused "handshakes ok $ok0 -> $(handshakes ok), failed $failed0 -> $(handshakes failed)"
fi
in_ns timeout 10 "$TL_TOOLS/mf_openssl_mtls.sh" s_client -connect 127.0.0.1:15008 \
	-CAfile "$TL_TMP/ca/ca.crt" -verify_return_error </dev/null >/dev/null 2>&1
if wait_for 5 handshakes_above ok "${ok0:-0}"; then
	pass mesh_client_cert_accepted
else
	fail mesh_client_cert_accepted "handshakes ok $ok0 -> $(handshakes ok)"
fi

# The list the scanned certificate names is there: fetched from its
# cRLDistributionPoints URI (the agent's /ca.crl), it is the CA's, and
# openssl's CRL check of the certificate with it passes.
NODE_CRT=$TL_TMP/node/certs/mesh.local+ns+meshforge-system+sa+$NODE.crt
uri=$(openssl x509 -noout -ext crlDistributionPoints -in "$NODE_CRT" 2>/dev/null | sed -n 's/^ *URI://p')
if [ "$uri" = "$CRL_URI" ] &&
	in_ns curl -fsS -m 5 -o "$TL_TMP/fetched.crl" "$uri" 2>"$TL_TMP/fetch.err" &&
	cmp -s "$TL_TMP/fetched.crl" "$TL_TMP/ca/ca.crl" &&
	openssl crl -inform DER -in "$TL_TMP/fetched.crl" -out "$TL_TMP/fetched.pem" 2>/dev/null &&
	openssl verify -crl_check -CAfile "$TL_TMP/ca/ca.crt" -CRLfile "$TL_TMP/fetched.pem" \
		"$NODE_CRT" >"$TL_TMP/verify.out" 2>&1; then
	pass crl_published
else
	fail crl_published "URI '$uri'; $(cat "$TL_TMP/fetch.err" "$TL_TMP/verify.out" 2>/dev/null)"
fi

# The scan: protocols (-p), forward secrecy and groups (-f), server
# preferences (-P), server defaults and certificate (-S), vulnerabilities
# (-U), every cipher per protocol (-E).  Not the cipher categories (-s):
# the list of every cipher accepted says more, and is checked against the
# suites allowed below; they would add a fifth to the scan's time.  The
# mesh CA is added to the trust stores; all else is testssl.sh's defaults.
scan_args=(--quiet --color 0 --warnings off --openssl "$TL_TOOLS/mf_openssl_mtls.sh"
	--add-ca "$TL_TMP/ca/ca.crt" -p -f -P -S -U -E --jsonfile "$TL_TMP/scan.json")
ok1=$(handshakes ok)
start=$SECONDS
# From the temporary dir: testssl.sh prints the git commit of the dir it
# runs in as its own.
(cd "$TL_TMP" && in_ns timeout "$SCAN_TIMEOUT" testssl "${scan_args[@]}" 127.0.0.1:15008) \
	>"$TL_TMP/scan.out" 2>&1
# testssl.sh 3.0's exit status adds up its checks' return codes (7 on a
# clean scan of this port): logged, but the JSON is what is judged.
scan_rc=$?
secs=$((SECONDS - start))
tl_log "testssl.sh exited $scan_rc after ${secs}s"
if [ -s "$TL_TMP/scan.json" ] && grep -q '"scanTime"' "$TL_TMP/scan.json" &&
	! grep -q '"severity" *: *"FATAL"' "$TL_TMP/scan.json"; then
	pass scan_complete
else
	tail -n 40 "$TL_TMP/scan.out" >&2
	fail scan_complete "testssl.sh (exit $scan_rc) did not finish its scan in ${secs}s"
	tl_finish
fi
ok2=$(handshakes ok)
if [ "${ok2:-0}" -gt "${ok1:-0}" ] 2>/dev/null; then
	pass scan_authenticated
else
	fail scan_authenticated "no handshake of the scan completed with the mesh certificate ($ok1 -> $ok2)"
fi

# mf_tls_scan.py CMD on the scan; a case whose tool fails, fails.
scan_tool() { "$TL_PY" "$TL_TOOLS/mf_tls_scan.py" "$@" "$TL_TMP/scan.json"; }

# A check testssl.sh could not make (a client certificate it did not
# present, a connection that timed out) would pass unseen otherwise.
if got=$(scan_tool warnings) && [ -z "$got" ]; then
	pass every_check_made
else
	fail every_check_made "$got"
fi

want='SSLv2 not offered
SSLv3 not offered
TLS1 not offered
TLS1_1 not offered
TLS1_2 not offered
TLS1_3 offered'
if got=$(scan_tool protocols) && [ "$got" = "$want" ]; then
	pass tls13_only
else
	fail tls13_only "protocols: $got"
fi

if got=$(scan_tool ciphers) && [ -n "$got" ] && ! grep -Evx 'tls1_3 (TLS_AES_128_GCM_SHA256|TLS_AES_256_GCM_SHA384|TLS_CHACHA20_POLY1305_SHA256)' <<<"$got" >/dev/null; then
	pass tls13_aead_suites_only
else
	fail tls13_aead_suites_only "suites: ${got:-none}"
fi

if got=$(scan_tool findings 2>"$TL_TMP/accepted") && [ -z "$got" ]; then
	pass no_medium_or_worse
else
	fail no_medium_or_worse "$got"
fi
cat "$TL_TMP/accepted" >&2

if [ -n "${MF_TLS_SCAN_DOC:-}" ] && [ "$TL_FAILED" -eq 0 ]; then
	version=$(dpkg-query -W -f='${Version}' testssl.sh 2>/dev/null) ||
		version=$(testssl --version 2>/dev/null | awk '/testssl +[0-9]/ { print $2; exit }')
	shown=("${scan_args[@]}")
	shown=("${shown[@]/#"$TL_TOP/"/}")
	shown=("${shown[@]/#"$TL_TMP/ca/ca.crt"/CA.crt}")
	shown=("${shown[@]/#"$TL_TMP/scan.json"/scan.json}")
	"$TL_PY" "$TL_TOOLS/mf_tls_scan.py" summary "$TL_TMP/scan.json" \
		--doc "$MF_TLS_SCAN_DOC" --version "$version" --seconds "$secs" \
		--openssl "$(openssl version | awk '{ print $1, $2 }')" \
		--strip "$TL_TOP/" \
		--command "MF_MTLS_PEM=CLIENT.pem testssl ${shown[*]} 127.0.0.1:15008" ||
		fail summary "could not write $MF_TLS_SCAN_DOC"
fi

tl_finish
