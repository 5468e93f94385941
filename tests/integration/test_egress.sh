#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Egress on the two-node testbed: a host outside the mesh (10.77.0.9, an
# address on node b's wire, as test_firewall.sh makes one) runs a TLS
# server with a certificate this test mints for api.example.test.  Pod a1
# dials MeshExternalServices at VIPs from the Mesh's
# meshExternalServices.vipRange (10.96.64.0/24, inside the range the
# nodes local-route) in plaintext, and node a's agent originates the TLS:
#  - protocol http: a1's request is answered by the server, which saw TLS
#    with SNI api.example.test;
#  - protocol tcp: the same, the bytes relayed;
#  - a caCert of another CA: 503 for http, a reset for tcp, and node a's
#    log says the handshake failed;
#  - the Mesh forbids MeshExternalService access by default: a2, which no
#    permission allows, is refused, and so is a1 on a service no
#    permission targets;
#  - backendRefs to them: a MeshTCPRoute's and a MeshHTTPRoute's, the
#    latter held to the service's permission (403 for a2);
#  - priority failover: a plaintext tcp MeshExternalService with an
#    endpoint of priority 0 (nothing listens yet) and one of priority 1:
#    a1's connection reaches the priority 1 listener (which saw it, and
#    the priority 0 one did not exist); once the priority 0 listener is
#    up and the failed endpoint's hold is over, a1's connections reach
#    it again;
#  - MeshPassthrough: All reaches a plain listener outside the mesh, None
#    blocks it (and leaves the MeshExternalService reachable), Matched
#    admits its /32 and port only; Matched with Domain matches admits
#    curl https://api.example.test (by its SNI) and http://www.web.test
#    (by its Host, *.web.test) to the outside host, whose servers get the
#    client's own bytes, and resets other names (logged, counted), the
#    wildcard's apex included; with an http2 Domain match, curl
#    --http2-prior-knowledge http://h2.test:9081 is admitted by the
#    :authority of its first request, and nghttpd on the outside host
#    answers it (its log shows the request), while another authority is
#    reset (counted, logged) and never reaches it, and so is garbage after
#    the HTTP/2 preface; a request with a 40 KB header (past the agent's
#    16 KiB buffer) is admitted and reaches nghttpd, one whose header
#    block goes past 64 KiB is reset and counted;
#  - MeshPassthrough over IPv6: All, None and an IP match as above;
#    Domain matches admit curl https://api.example.test and
#    http://www.web.test onto the outside host's IPv6 address (its
#    servers see them come from node a's agent) and reset other names
#    (counted, logged), and a port without a match is dropped in the
#    kernel; a MeshSubset one (kuma.io/service: client) that admits
#    api.example.test (tls) and *.web.test (http) over a Mesh-wide
#    Matched that admits other names: a1 (client) reaches both servers
#    over IPv6 (they saw the requests), a2 (intruder) is refused the same
#    names by node a's agent (counted, logged) and never reaches them, and
#    the notes of which pod each connection came from are all taken;
#  - MeshPassthrough for some workloads only: the Mesh says None, a
#    MeshSubset one (kuma.io/service: client) says Matched with the
#    outside host's /32 and port: a1 (client) reaches it, a2 (intruder)
#    is dropped in node a's kernel (counted).
#  - the Mesh's networking.outbound.passthrough: false with no
#    MeshPassthrough: a1's SYN to the outside host is dropped in node a's
#    kernel (counted), the MeshExternalService still answers; a Mesh-wide
#    MeshPassthrough All overrides the flag and a1 gets out.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_egress
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"
tl_require_cmd openssl
tl_require_cmd nghttpd
tl_require_cmd bpftool

OUTSIDE=10.77.0.9
PKI=$TL_TMP/pki
mkdir -p "$PKI"
# mint NAME SUBJECT: an EC key and a self-signed CA certificate.
mint_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj "/CN=$2" -keyout "$PKI/$1.key" \
		-out "$PKI/$1.crt" >/dev/null 2>&1
}
mint_ca ca "mf egress test CA" && mint_ca other "mf other CA" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=api.example.test" -keyout "$PKI/srv.key" \
		-out "$PKI/srv.csr" >/dev/null 2>&1 &&
	printf 'subjectAltName=DNS:api.example.test\n' >"$PKI/ext" &&
	openssl x509 -req -in "$PKI/srv.csr" -CA "$PKI/ca.crt" \
		-CAkey "$PKI/ca.key" -CAcreateserial -days 2 \
		-extfile "$PKI/ext" -out "$PKI/srv.crt" >/dev/null 2>&1 ||
	{ fail mint_certificates "openssl failed"; tl_finish; }

# mes NAME PORT PROTOCOL CAFILE: a MeshExternalService to the outside
# host's TLS server, verified (Secured) against CAFILE as inline PEM.
mes() {
	cat <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshExternalService
metadata: {name: $1}
spec:
  match: {type: HostnameGenerator, port: $2, protocol: $3}
  endpoints: [{address: $OUTSIDE, port: 8443}]
  tls:
    enabled: true
    verification:
      serverName: api.example.test
      caCert:
        inlineString: |
$(sed 's/^/          /' "$4")
YAML
}
# allow NAME: a1's identity may reach MeshExternalService NAME.
allow() {
	cat <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrafficPermission
metadata: {name: $1-allow}
spec:
  targetRef: {kind: MeshExternalService, name: $1}
  from:
    - targetRef: {kind: SpiffeID, name: "spiffe://mesh.local/ns/default/sa/client"}
      default: {action: Allow}
YAML
}
{
	sed -e 's|^spec: {vip: 10.96.0.12, port: 80}$|spec: {vip: 10.96.0.12, port: 80, protocol: http}|' \
	    -e 's|^spec: {trustDomain: mesh.local}$|spec: {trustDomain: mesh.local, meshExternalServices: {vipRange: 10.96.64.0/24}, routing: {defaultForbidMeshExternalServiceAccess: true}}|' \
		"$TL_TOP/tests/integration/policy.yaml"
	mes api 80 http "$PKI/ca.crt"; allow api
	mes api-tcp 81 tcp "$PKI/ca.crt"; allow api-tcp
	mes bad 82 http "$PKI/other.crt"; allow bad
	mes bad-tcp 83 tcp "$PKI/other.crt"; allow bad-tcp
	mes closed 84 http "$PKI/ca.crt"
	cat <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshExternalService
metadata: {name: failover}
spec:
  match: {type: HostnameGenerator, port: 85, protocol: tcp}
  endpoints:
    - {address: $OUTSIDE, port: 9202, priority: 1}
    - {address: $OUTSIDE, port: 9201, priority: 0}
YAML
	allow failover
	cat <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshTCPRoute
metadata: {name: client-to-api}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: client}
      rules:
        - default:
            backendRefs: [{kind: MeshExternalService, name: api-tcp, weight: 1}]
---
apiVersion: kuma.io/v1alpha1
kind: MeshHTTPRoute
metadata: {name: intruder-to-api}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: intruder}
      rules:
        - matches: [{path: {type: PathPrefix, value: /}}]
          default:
            backendRefs: [{kind: MeshExternalService, name: api, weight: 1}]
YAML
} >"$TL_TMP/egress.yaml"
grep -q 'defaultForbidMeshExternalServiceAccess: true' "$TL_TMP/egress.yaml" ||
	{ fail policy_written "no routing in the Mesh"; tl_finish; }

tl_bed_up --apply "$TL_TMP/egress.yaml" --agents
tb_exec b ip addr add "$OUTSIDE/24" dev mfwb
tl_bg b "$TL_TMP/server.log" "$TL_PY" "$TL_TOOLS/mf_tls_origin_server.py" \
	--bind "$OUTSIDE" --port 8443 --cert "$PKI/srv.crt" --key "$PKI/srv.key"
wait_for 10 grep -q listening "$TL_TMP/server.log" ||
	{ fail server_up "$(cat "$TL_TMP/server.log")"; tl_finish; }

# VIPs in name order: api .1, api-tcp .2, bad .3, bad-tcp .4, closed .5.
if tl_ctl a inspect 2>&1 | grep -q '^  10\.96\.64\.1:80/tcp -> id [0-9]* name api .*app http (MeshExternalService)$'; then
	pass inspect_shows_vip
else
	fail inspect_shows_vip "$(tl_ctl a inspect 2>&1 | grep -A8 '^mf_services')"
fi

# get URL [POD]: status code and body of a plaintext HTTP GET from POD.
get() {
	tb_exec "${2:-a1}" curl -sS -m 10 -o - -w ' code=%{http_code}' "$1" 2>&1
}
# raw POD VIP PORT: a plaintext HTTP request over a bare TCP connection;
# prints the reply, or the error that ended it.
raw() {
	tb_exec "$1" "$TL_PY" - "$2" "$3" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"GET / HTTP/1.1\r\nHost: api.example.test\r\nConnection: close\r\n\r\n")
out = b""
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
    print(out.decode(errors="replace").replace("\r\n", " ") or "eof")
except OSError as e:
    print("error", e.__class__.__name__)
PY
}

got=$(get http://10.96.64.1/)
case "$got" in
*"sni=api.example.test tls=TLSv1.3"*"code=200") pass http_tls_origination ;;
*) fail http_tls_origination "$got; server: $(tail -n 3 "$TL_TMP/server.log")" ;;
esac
got=$(raw a1 10.96.64.2 81)
case "$got" in
*"200 OK"*"sni=api.example.test tls=TLSv1.3"*) pass tcp_tls_origination ;;
*) fail tcp_tls_origination "$got; server: $(tail -n 3 "$TL_TMP/server.log")" ;;
esac

# backendRefs: a MeshTCPRoute on client and a MeshHTTPRoute on intruder
# (now http) send their traffic to MeshExternalServices.
got=$(raw a1 10.96.0.11 80)
case "$got" in
*"200 OK"*"sni=api.example.test tls=TLSv1.3"*) pass tcp_route_backend_ref ;;
*) fail tcp_route_backend_ref "$got" ;;
esac
got=$(get http://10.96.0.12/)
case "$got" in
*"sni=api.example.test tls=TLSv1.3"*"code=200") pass http_route_backend_ref ;;
*) fail http_route_backend_ref "$got" ;;
esac
got=$(get http://10.96.0.12/ a2)
case "$got" in
*"code=403") pass http_route_backend_ref_permission ;;
*) fail http_route_backend_ref_permission "$got" ;;
esac

mark=$(tl_log_mark mf-node-a)
got=$(get http://10.96.64.3:82/)
case "$got" in
*"code=503") pass wrong_ca_http_503 ;;
*) fail wrong_ca_http_503 "$got" ;;
esac
got=$(raw a1 10.96.64.4 83)
case "$got" in
"error ConnectionResetError" | eof) pass wrong_ca_tcp_reset ;;
*) fail wrong_ca_tcp_reset "$got" ;;
esac
if wait_for 5 sh -c "tail -n +$((mark + 1)) '$(tl_agent_log mf-node-a)' | grep -q 'event=egress_failed .*service=bad-tcp .*handshake'"; then
	pass wrong_ca_logged
else
	fail wrong_ca_logged "$(tl_log_since mf-node-a "$mark" | tail -n 5)"
fi

mark=$(tl_log_mark mf-node-a)
got=$(raw a2 10.96.64.2 81)
case "$got" in
*"200 OK"*) fail permission_refuses_other_source "$got" ;;
*) pass permission_refuses_other_source ;;
esac
got=$(get http://10.96.64.5:84/)
case "$got" in
*"code=200") fail forbidden_by_default "$got" ;;
*) pass forbidden_by_default ;;
esac
if tl_log_since mf-node-a "$mark" | grep -q 'reason="MeshExternalService closed: no MeshTrafficPermission targets it'; then
	pass forbidden_logged
else
	fail forbidden_logged "$(tl_log_since mf-node-a "$mark" | tail -n 5)"
fi

# Priority failover.  listen PORT NAME: a plain listener on the outside
# host that logs each connection and greets it with NAME.
listen() {
	tl_bg b "$TL_TMP/$2.log" "$TL_PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.9", int(sys.argv[1]))); s.listen(16); print("listening", flush=True)
while True:
    c, a = s.accept(); print("accepted", a[0], flush=True)
    c.sendall(sys.argv[2].encode() + b"\n"); c.close()' "$1" "$2"
	wait_for 10 grep -q listening "$TL_TMP/$2.log" ||
		{ fail "listener_$2_up" "$(cat "$TL_TMP/$2.log")"; tl_finish; }
}
# greet: what a1 reads from MeshExternalService failover (10.96.64.6:85).
greet() {
	tb_exec a1 "$TL_PY" - <<'PY'
import socket
try:
    s = socket.create_connection(("10.96.64.6", 85), timeout=5)
    print(s.recv(64).decode().strip() or "eof")
except OSError as e:
    print("error", e.__class__.__name__)
PY
}
metric() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v m="$1" '$1 == m { print $2 }'
}
listen 9202 prio1
f0=$(metric meshforge_egress_failovers_total)
got=$(greet)
n1=$(grep -c '^accepted' "$TL_TMP/prio1.log")
f1=$(metric meshforge_egress_failovers_total)
if [ "$got" = prio1 ] && [ "$n1" -ge 1 ]; then
	pass priority_fails_over
else
	fail priority_fails_over "read '$got'; the priority 1 server saw $n1 connections"
fi
[ "${f1:-0}" -gt "${f0:-0}" ] 2>/dev/null && pass priority_failover_counted ||
	fail priority_failover_counted "meshforge_egress_failovers_total $f0 -> $f1"
# While the priority 0 endpoint is held, the next connection goes straight
# to priority 1: no failed connect first.
got=$(greet)
f2=$(metric meshforge_egress_failovers_total)
[ "$got" = prio1 ] && [ "$f2" = "$f1" ] && pass priority_held_no_retry ||
	fail priority_held_no_retry "read '$got', failovers $f1 -> $f2"
listen 9201 prio0
recovered=
for _ in $(seq 1 150); do
	got=$(greet)
	[ "$got" = prio0 ] && { recovered=1; break; }
	sleep 0.1
done
n0=$(grep -c '^accepted' "$TL_TMP/prio0.log")
if [ -n "$recovered" ] && [ "$n0" -ge 1 ]; then
	pass priority_recovers
else
	fail priority_recovers "read '$got'; the priority 0 server saw $n0 connections"
fi
got=$(greet)
[ "$got" = prio0 ] && pass priority_stays_recovered ||
	fail priority_stays_recovered "read '$got'"

# MeshPassthrough: a plain TCP listener on the outside host, which is no
# service and no workload.  All lets a1 reach it, None drops the SYN in
# node a's kernel (drop_passthrough), Matched with its /32 and port lets
# it through again while another port stays closed.
tl_bg b "$TL_TMP/plain.log" "$TL_PY" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.9", 9099)); s.listen(16); print("listening", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"outside\n"); c.close()'
wait_for 10 grep -q listening "$TL_TMP/plain.log" ||
	{ fail plain_up "$(cat "$TL_TMP/plain.log")"; tl_finish; }
# reach PORT [POD]: what POD (a1) reads from the outside host's PORT, or
# "blocked".
reach() {
	tb_exec "${2:-a1}" "$TL_PY" - "$1" <<'PY'
import socket, sys
try:
    s = socket.create_connection(("10.77.0.9", int(sys.argv[1])), timeout=2)
    print(s.recv(64).decode().strip() or "eof")
except OSError:
    print("blocked")
PY
}
# passthrough MODE [MATCHES]: the egress policy plus a Mesh-wide
# MeshPassthrough, applied.
passthrough() {
	{
		cat "$TL_TMP/egress.yaml"
		printf -- '---\napiVersion: kuma.io/v1alpha1\nkind: MeshPassthrough\n'
		printf 'metadata: {name: pt}\nspec:\n  targetRef: {kind: Mesh}\n'
		printf '  default: {passthroughMode: %s, appendMatch: [%s]}\n' "$1" "${2:-}"
	} >"$TL_TMP/pt.yaml"
	"$TB" apply "$TL_TMP/pt.yaml" >"$TL_TMP/pt.out" 2>&1 ||
		{ fail "passthrough_apply_$1" "$(cat "$TL_TMP/pt.out")"; tl_finish; }
}
passthrough All
got=$(reach 9099)
[ "$got" = outside ] && pass passthrough_all_reaches || fail passthrough_all_reaches "$got"
passthrough None
got=$(reach 9099)
[ "$got" = blocked ] && pass passthrough_none_blocks || fail passthrough_none_blocks "$got"
if tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
	grep -qE '^meshforge_pod_packets_total\{reason="drop_passthrough"\} [1-9]'; then
	pass passthrough_drop_counted
else
	fail passthrough_drop_counted "$(tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics | grep drop_passthrough)"
fi
got=$(raw a1 10.96.64.2 81)
case "$got" in
*"200 OK"*) pass passthrough_none_keeps_external_service ;;
*) fail passthrough_none_keeps_external_service "$got" ;;
esac
passthrough Matched "{type: CIDR, value: 10.77.0.9/32, port: 9099, protocol: tcp}"
got=$(reach 9099)
[ "$got" = outside ] && pass passthrough_matched_reaches || fail passthrough_matched_reaches "$got"
got=$(reach 9098)
[ "$got" = blocked ] && pass passthrough_matched_other_port_blocked || fail passthrough_matched_other_port_blocked "$got"

# Domain matches: node a's kernel hands a1's connections to the outside
# host on their ports to the agent, which reads the name (the SNI of the
# ClientHello, the Host of the request) and connects on or resets.  The
# TLS server above is on 8443; an HTTP server that answers each request
# with the bytes of its head, as it got them, on 9080.
tl_bg b "$TL_TMP/echo.log" "$TL_PY" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.9", 9080)); s.listen(16); print("listening", flush=True)
while True:
    c, _ = s.accept(); c.settimeout(5); buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            b = c.recv(4096)
            if not b:
                break
            buf += b
        print("request", buf.split(b"\r\n")[0].decode(), flush=True)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n" % len(buf) + buf)
    except OSError:
        pass
    c.close()'
wait_for 10 grep -q listening "$TL_TMP/echo.log" ||
	{ fail echo_up "$(cat "$TL_TMP/echo.log")"; tl_finish; }
passthrough Matched "{type: Domain, value: api.example.test, port: 8443, protocol: tls}, {type: Domain, value: \"*.web.test\", port: 9080, protocol: http}"
# curl_name URL NAME PORT [ARGS...]: curl from a1 to URL, NAME:PORT
# resolved to the outside host; code and body, or curl's error.
curl_name() {
	local url=$1 name=$2 port=$3
	shift 3
	tb_exec a1 curl -sS -m 10 --resolve "$name:$port:$OUTSIDE" \
		-o - -w ' code=%{http_code}' "$@" "$url" 2>&1
}
denied() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk '$1 == "meshforge_connections_refused_total{reason=\"passthrough_denied\"}" { print $2 }'
}
mark=$(tl_log_mark mf-node-a)
d0=$(denied)
got=$(curl_name https://api.example.test:8443/ api.example.test 8443 --cacert "$PKI/ca.crt")
case "$got" in
*"sni=api.example.test tls=TLSv1.3"*"code=200") pass passthrough_domain_tls_sni ;;
*) fail passthrough_domain_tls_sni "$got; server: $(tail -n 3 "$TL_TMP/server.log")" ;;
esac
n_hs=$(grep -c '^handshake' "$TL_TMP/server.log")
got=$(curl_name https://other.example.test:8443/ other.example.test 8443 -k)
case "$got" in
*"code=200"*) fail passthrough_domain_tls_other_refused "$got" ;;
*) pass passthrough_domain_tls_other_refused ;;
esac
[ "$(grep -c '^handshake' "$TL_TMP/server.log")" = "$n_hs" ] &&
	pass passthrough_domain_tls_other_never_reached ||
	fail passthrough_domain_tls_other_never_reached "$(tail -n 2 "$TL_TMP/server.log")"
# A client that sends nothing: reset at the first-byte deadline (4.5 s),
# and the server never sees it.
got=$(tb_exec a1 "$TL_PY" - <<'PY'
import socket, time
s = socket.create_connection(("10.77.0.9", 8443), timeout=15)
t = time.monotonic()
try:
    end = "eof" if not s.recv(1) else "data"
except OSError:
    end = "reset"
print(end, round(time.monotonic() - t))
PY
)
case "$got" in
"reset "[2-5] | "eof "[2-5]) pass passthrough_domain_first_byte_deadline ;;
*) fail passthrough_domain_first_byte_deadline "$got" ;;
esac
[ "$(grep -c '^handshake' "$TL_TMP/server.log")" = "$n_hs" ] &&
	pass passthrough_domain_silent_never_reached ||
	fail passthrough_domain_silent_never_reached "$(tail -n 2 "$TL_TMP/server.log")"
got=$(curl_name http://www.web.test:9080/hello www.web.test 9080 -H 'X-Probe: 17')
case "$got" in
*"GET /hello HTTP/1.1"*"Host: www.web.test:9080"*"X-Probe: 17"*"code=200") pass passthrough_domain_http_host ;;
*) fail passthrough_domain_http_host "$got" ;;
esac
# What the outside server got is what the client sent, byte for byte
# (the bytes the agent read for the name included).
got=$(tb_exec a1 "$TL_PY" - <<'PY'
import socket
req = (b"GET /exact HTTP/1.1\r\nHost: A.Web.Test:9080\r\n"
       b"X-Long: " + b"x" * 3000 + b"\r\nConnection: close\r\n\r\n")
s = socket.create_connection(("10.77.0.9", 9080), timeout=10)
# In pieces: the name is whole only with the second.
s.sendall(req[:20]); import time; time.sleep(0.2); s.sendall(req[20:])
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
print("same" if out.endswith(b"\r\n\r\n" + req) else "differs %r" % out[:200])
PY
)
[ "$got" = same ] && pass passthrough_domain_http_bytes_intact ||
	fail passthrough_domain_http_bytes_intact "$got"
got=$(curl_name http://web.test:9080/ web.test 9080)
case "$got" in
*"code=200"*) fail passthrough_domain_http_apex_refused "$got" ;;
*) pass passthrough_domain_http_apex_refused ;;
esac
got=$(curl_name http://api.example.test:9080/ api.example.test 9080)
case "$got" in
*"code=200"*) fail passthrough_domain_http_other_refused "$got" ;;
*) pass passthrough_domain_http_other_refused ;;
esac
# The right name with another port in its Host: the match is for 9080, so
# Kuma's virtual host takes www.web.test and www.web.test:9080 only.
got=$(curl_name http://www.web.test:9080/ www.web.test 9080 -H 'Host: www.web.test:9081')
if [ "${got%code=200*}" = "$got" ] && tl_log_since mf-node-a "$mark" |
	grep -q 'reason="MeshPassthrough: Host www.web.test: the port named with it is not the match.s"'; then
	pass passthrough_domain_http_host_port_refused
else
	fail passthrough_domain_http_host_port_refused "$got; $(tl_log_since mf-node-a "$mark" | tail -n 2)"
fi
d1=$(denied)
[ "${d1:-0}" -ge $((${d0:-0} + 4)) ] 2>/dev/null &&
	pass passthrough_domain_denied_counted ||
	fail passthrough_domain_denied_counted "passthrough_denied $d0 -> $d1"
if tl_log_since mf-node-a "$mark" | grep -q 'event=refused .*reason="MeshPassthrough: SNI other.example.test: no Domain match has the name"'; then
	pass passthrough_domain_refusal_logged
else
	fail passthrough_domain_refusal_logged "$(tl_log_since mf-node-a "$mark" | tail -n 5)"
fi
# Another port of the outside host: no Domain match has it, the SYN is
# dropped in the kernel as before.
got=$(reach 9099)
[ "$got" = blocked ] && pass passthrough_domain_other_port_blocked ||
	fail passthrough_domain_other_port_blocked "$got"

# HTTP/2 with prior knowledge: nghttpd (cleartext) on the outside host's
# 9081; an http2 Domain match for h2.test there.  The agent reads the
# :authority of the first request from the client's preface and HEADERS
# and relays the bytes it read to the server.
mkdir -p "$TL_TMP/h2docs" && printf 'h2 outside\n' >"$TL_TMP/h2docs/hello"
tl_bg b "$TL_TMP/h2.log" nghttpd --no-tls -v -a "$OUTSIDE" \
	-d "$TL_TMP/h2docs" 9081
wait_for 10 grep -q "listen $OUTSIDE:9081" "$TL_TMP/h2.log" ||
	{ fail h2_server_up "$(cat "$TL_TMP/h2.log")"; tl_finish; }
passthrough Matched "{type: Domain, value: h2.test, port: 9081, protocol: http2}"
mark=$(tl_log_mark mf-node-a)
d0=$(denied)
got=$(curl_name http://h2.test:9081/hello h2.test 9081 --http2-prior-knowledge)
case "$got" in
"h2 outside"?" code=200") pass passthrough_domain_h2_authority ;;
*) fail passthrough_domain_h2_authority "$got; server: $(tail -n 5 "$TL_TMP/h2.log")" ;;
esac
grep -q 'recv (stream_id=1) :authority: h2.test:9081' "$TL_TMP/h2.log" &&
	grep -q 'recv (stream_id=1) :path: /hello' "$TL_TMP/h2.log" &&
	pass passthrough_domain_h2_server_saw_request ||
	fail passthrough_domain_h2_server_saw_request "$(tail -n 20 "$TL_TMP/h2.log")"
# A request with a 40 KB header: its header block (HEADERS and
# CONTINUATION frames) outgrows the agent's 16 KiB buffer, and is read
# whole in a larger one; the server gets it.
big=$(head -c 40000 /dev/zero | tr '\0' '#')
got=$(curl_name http://h2.test:9081/hello h2.test 9081 --http2-prior-knowledge -H "X-Big: $big")
case "$got" in
"h2 outside"?" code=200") pass passthrough_domain_h2_large_header ;;
*) fail passthrough_domain_h2_large_header "${got:0:300}; server: $(tail -n 5 "$TL_TMP/h2.log" | cut -c1-200)" ;;
esac
grep -q "recv (stream_id=[0-9]*) x-big: ${big:0:100}" "$TL_TMP/h2.log" &&
	pass passthrough_domain_h2_large_header_reached ||
	fail passthrough_domain_h2_large_header_reached "$(grep -c x-big "$TL_TMP/h2.log")"
got=$(curl_name http://other.test:9081/hello other.test 9081 --http2-prior-knowledge)
case "$got" in
*"code=200"*) fail passthrough_domain_h2_other_refused "$got" ;;
*) pass passthrough_domain_h2_other_refused ;;
esac
grep -q ':authority: other.test' "$TL_TMP/h2.log" &&
	fail passthrough_domain_h2_other_never_reached "$(grep authority "$TL_TMP/h2.log")" ||
	pass passthrough_domain_h2_other_never_reached
d1=$(denied)
[ "${d1:-0}" -ge $((${d0:-0} + 1)) ] 2>/dev/null &&
	pass passthrough_domain_h2_denied_counted ||
	fail passthrough_domain_h2_denied_counted "passthrough_denied $d0 -> $d1"
if tl_log_since mf-node-a "$mark" | grep -q 'event=refused .*reason="MeshPassthrough: :authority other.test: no Domain match has the name"'; then
	pass passthrough_domain_h2_refusal_logged
else
	fail passthrough_domain_h2_refusal_logged "$(tl_log_since mf-node-a "$mark" | tail -n 5)"
fi
# The HTTP/2 preface, then garbage: reset, counted, never at the server.
n_h2=$(grep -c 'recv HEADERS frame' "$TL_TMP/h2.log")
got=$(tb_exec a1 "$TL_PY" - <<'PY'
import socket
s = socket.create_connection(("10.77.0.9", 9081), timeout=10)
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 64)
try:
    print("eof" if not s.recv(1) else "data")
except OSError:
    print("reset")
PY
)
d2=$(denied)
case "$got" in
reset | eof) pass passthrough_domain_h2_garbage_refused ;;
*) fail passthrough_domain_h2_garbage_refused "$got" ;;
esac
[ "${d2:-0}" -ge $((${d1:-0} + 1)) ] 2>/dev/null &&
	[ "$(grep -c 'recv HEADERS frame' "$TL_TMP/h2.log")" = "$n_h2" ] &&
	pass passthrough_domain_h2_garbage_counted ||
	fail passthrough_domain_h2_garbage_counted "passthrough_denied $d1 -> $d2"
# A request to h2.test whose header block goes past 64 KiB (three
# 30,000-byte headers, HPACK literals, in HEADERS and CONTINUATION
# frames): reset, counted, logged, never at the server.
got=$(tb_exec a1 "$TL_PY" - <<'PY'
import socket, struct
def lit(name, value):
    def n(v):
        if v < 127:
            return bytes([v])
        out, v = [127], v - 127
        while v >= 128:
            out.append(v % 128 + 128); v //= 128
        return bytes(out + [v])
    return b"\x00" + n(len(name)) + name + n(len(value)) + value
def frame(t, flags, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([t, flags]) + \
        struct.pack(">I", 1) + payload
block = lit(b":method", b"GET") + lit(b":scheme", b"http") + \
    lit(b":authority", b"h2.test:9081") + lit(b":path", b"/big") + \
    b"".join(lit(b"x-big-%d" % i, b"#" * 30000) for i in range(3))
out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + \
    b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
pieces = [block[i:i + 16384] for i in range(0, len(block), 16384)]
for i, p in enumerate(pieces):
    out += frame(1 if i == 0 else 9, 4 if i == len(pieces) - 1 else 0, p)
s = socket.create_connection(("10.77.0.9", 9081), timeout=10)
try:
    s.sendall(out)
    print("eof" if not s.recv(1) else "data")
except OSError:
    print("reset")
PY
)
d3=$(denied)
case "$got" in
reset | eof) pass passthrough_domain_h2_past_bound_refused ;;
*) fail passthrough_domain_h2_past_bound_refused "$got" ;;
esac
[ "${d3:-0}" -ge $((${d2:-0} + 1)) ] 2>/dev/null &&
	! grep -q ':path: /big' "$TL_TMP/h2.log" &&
	tl_log_since mf-node-a "$mark" | grep -q 'reason="MeshPassthrough: no name in the first 64 KiB"' &&
	pass passthrough_domain_h2_past_bound_counted ||
	fail passthrough_domain_h2_past_bound_counted "passthrough_denied $d2 -> $d3; $(tl_log_since mf-node-a "$mark" | grep refused | tail -n 2)"

# A MeshPassthrough for some workloads only: the Mesh's says None, a
# MeshSubset one for the client service's workloads (a1) says Matched with
# the plain listener's /32 and port.  a1 gets out; a2, another workload
# (intruder), is held to the Mesh's None: its SYN is dropped in node a's
# kernel.
{
	cat "$TL_TMP/egress.yaml"
	cat <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshPassthrough
metadata: {name: pt}
spec:
  targetRef: {kind: Mesh}
  default: {passthroughMode: None}
---
apiVersion: kuma.io/v1alpha1
kind: MeshPassthrough
metadata: {name: pt-client}
spec:
  targetRef: {kind: MeshSubset, tags: {kuma.io/service: client}}
  default:
    passthroughMode: Matched
    appendMatch: [{type: CIDR, value: 10.77.0.9/32, port: 9099, protocol: tcp}]
YAML
} >"$TL_TMP/pt-subset.yaml"
"$TB" apply "$TL_TMP/pt-subset.yaml" >"$TL_TMP/pt.out" 2>&1 ||
	{ fail passthrough_subset_apply "$(cat "$TL_TMP/pt.out")"; tl_finish; }
dropped() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk '$1 == "meshforge_pod_packets_total{reason=\"drop_passthrough\"}" { print $2 }'
}
# blocked_counted POD PORT CASE COUNT_CASE: POD's connection to the outside
# server's PORT is blocked (CASE), and node a's drop_passthrough count grew
# with it (COUNT_CASE).
blocked_counted() {
	local p0 p1 got
	p0=$(dropped)
	got=$(reach "$2" "$1")
	p1=$(dropped)
	[ "$got" = blocked ] && pass "$3" || fail "$3" "$got"
	[ "${p1:-0}" -gt "${p0:-0}" ] 2>/dev/null && pass "$4" ||
		fail "$4" "drop_passthrough $p0 -> $p1"
}
got=$(reach 9099 a1)
[ "$got" = outside ] && pass passthrough_subset_selected_reaches ||
	fail passthrough_subset_selected_reaches "$got"
blocked_counted a2 9099 passthrough_subset_other_workload_blocked \
	passthrough_subset_drop_counted
got=$(reach 9098 a1)
[ "$got" = blocked ] && pass passthrough_subset_other_port_blocked ||
	fail passthrough_subset_other_port_blocked "$got"
# What inspect shows of it: the Mesh's None, the one profile (Matched, its
# /32 and port), a1's endpoint held to it and a2's to none.
tl_ctl a inspect >"$TL_TMP/inspect-pt.out" 2>&1
if grep -q '^  kernel passthrough mode None nets none domain_ports none$' "$TL_TMP/inspect-pt.out" &&
	grep -q '^  kernel passthrough profile 1 mode Matched nets 10\.77\.0\.9/32:9099 domain_ports none$' "$TL_TMP/inspect-pt.out" &&
	grep -q '^  10\.78\.1\.11 -> name a1 .* passthrough profile 1$' "$TL_TMP/inspect-pt.out" &&
	grep -q '^  10\.78\.1\.12 -> name a2 .*[0-9]$' "$TL_TMP/inspect-pt.out"; then
	pass passthrough_subset_inspect_shows_profiles
else
	fail passthrough_subset_inspect_shows_profiles "$(grep -E 'passthrough|-> name a' "$TL_TMP/inspect-pt.out")"
fi

# The MeshSubset one goes: a1 is held to the Mesh's again.
for n in a b; do
	tb_exec "mf-node-$n" "$MFCTL" --bpf-root "/sys/fs/bpf/mf-node-$n" \
		--state-dir "$TL_STATE/mf-node-$n/state" --run-dir "$TL_STATE/run" \
		delete MeshPassthrough pt-client --wait >>"$TL_TMP/pt.out" 2>&1 ||
		{ fail passthrough_subset_delete "$(cat "$TL_TMP/pt.out")"; tl_finish; }
done

# The Mesh's networking.outbound.passthrough: false.  With no
# MeshPassthrough left, a1 is held to the mesh as under None (its SYN to
# the outside host dropped in node a's kernel, counted; inspect shows the
# Mesh's mode None) and still reaches the MeshExternalService; a
# Mesh-wide MeshPassthrough All overrides the Mesh's flag, as in Kuma,
# and a1 gets out again.
for n in a b; do
	tb_exec "mf-node-$n" "$MFCTL" --bpf-root "/sys/fs/bpf/mf-node-$n" \
		--state-dir "$TL_STATE/mf-node-$n/state" --run-dir "$TL_STATE/run" \
		delete MeshPassthrough pt --wait >>"$TL_TMP/pt.out" 2>&1 ||
		{ fail mesh_passthrough_delete "$(cat "$TL_TMP/pt.out")"; tl_finish; }
done
sed 's|^\(spec: {trustDomain: mesh.local, .*\)}$|\1, networking: {outbound: {passthrough: false}}}|' \
	"$TL_TMP/egress.yaml" >"$TL_TMP/no-passthrough.yaml"
grep -q 'networking: {outbound: {passthrough: false}}}$' "$TL_TMP/no-passthrough.yaml" ||
	{ fail mesh_passthrough_yaml "no Mesh line to add the flag to"; tl_finish; }
"$TB" apply "$TL_TMP/no-passthrough.yaml" >"$TL_TMP/pt.out" 2>&1 ||
	{ fail mesh_passthrough_apply "$(cat "$TL_TMP/pt.out")"; tl_finish; }
blocked_counted a1 9099 mesh_passthrough_false_blocks \
	mesh_passthrough_false_drop_counted
tl_ctl a inspect >"$TL_TMP/inspect-mpt.out" 2>&1
grep -q '^  kernel passthrough mode None nets none domain_ports none$' "$TL_TMP/inspect-mpt.out" &&
	pass mesh_passthrough_false_inspect ||
	fail mesh_passthrough_false_inspect "$(grep passthrough "$TL_TMP/inspect-mpt.out")"
got=$(raw a1 10.96.64.2 81)
case "$got" in
*"200 OK"*) pass mesh_passthrough_false_keeps_external_service ;;
*) fail mesh_passthrough_false_keeps_external_service "$got" ;;
esac
{
	cat "$TL_TMP/no-passthrough.yaml"
	printf -- '---\napiVersion: kuma.io/v1alpha1\nkind: MeshPassthrough\n'
	printf 'metadata: {name: pt}\nspec:\n  targetRef: {kind: Mesh}\n'
	printf '  default: {passthroughMode: All}\n'
} >"$TL_TMP/no-passthrough-all.yaml"
"$TB" apply "$TL_TMP/no-passthrough-all.yaml" >"$TL_TMP/pt.out" 2>&1 ||
	{ fail mesh_passthrough_all_apply "$(cat "$TL_TMP/pt.out")"; tl_finish; }
got=$(reach 9099 a1)
[ "$got" = outside ] && pass mesh_passthrough_false_overridden_by_all ||
	fail mesh_passthrough_false_overridden_by_all "$got"

# MeshPassthrough over IPv6.  The testbed runs without IPv6; a1 and its
# veth on node a get it here, and node a listens on its end, which is no
# destination of the mesh (none is, over IPv6).  All lets a1 connect;
# None drops the SYN in node a's kernel; Matched admits the IP match's
# address and port, and no other port.
tb_exec a sysctl -qw net.ipv6.conf.mfpa1.disable_ipv6=0 &&
	tb_exec a1 sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 &&
	tb_exec a ip -6 addr add fd00:78:1::1/64 dev mfpa1 nodad &&
	tb_exec a1 ip -6 addr add fd00:78:1::11/64 dev eth0 nodad ||
	{ fail ipv6_up "cannot give a1 and node a IPv6 addresses"; tl_finish; }
tl_bg a "$TL_TMP/plain6.log" "$TL_PY" -c '
import socket, threading
def serve(port):
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("fd00:78:1::1", port)); s.listen(16)
    while True:
        c, _ = s.accept(); c.sendall(b"outside6\n"); c.close()
for p in (9096, 9097):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()'
wait_for 10 grep -q listening "$TL_TMP/plain6.log" ||
	{ fail plain6_up "$(cat "$TL_TMP/plain6.log")"; tl_finish; }
# reach6 PORT: what a1 reads from node a's IPv6 address on PORT, or
# "blocked".
reach6() {
	tb_exec a1 "$TL_PY" - "$1" <<'PY'
import socket, sys
try:
    s = socket.create_connection(("fd00:78:1::1", int(sys.argv[1])), timeout=2)
    print(s.recv(64).decode().strip() or "eof")
except OSError:
    print("blocked")
PY
}
passthrough All
got=$(reach6 9097)
[ "$got" = outside6 ] && pass passthrough_ipv6_all_reaches ||
	fail passthrough_ipv6_all_reaches "$got"
passthrough None
p0=$(dropped)
got=$(reach6 9097)
p1=$(dropped)
if [ "$got" = blocked ] && [ "${p1:-0}" -gt "${p0:-0}" ] 2>/dev/null; then
	pass passthrough_ipv6_none_drops_in_kernel
else
	fail passthrough_ipv6_none_drops_in_kernel "$got; drop_passthrough $p0 -> $p1"
fi
passthrough Matched '{type: IP, value: "fd00:78:1::1", port: 9097, protocol: tcp}'
got=$(reach6 9097)
[ "$got" = outside6 ] && pass passthrough_ipv6_matched_reaches ||
	fail passthrough_ipv6_matched_reaches "$got"
got=$(reach6 9096)
[ "$got" = blocked ] && pass passthrough_ipv6_matched_other_port_blocked ||
	fail passthrough_ipv6_matched_other_port_blocked "$got"

# Domain matches over IPv6: the outside host gets an IPv6 address on node
# b's wire (node a's end of the wire one too), a1 a route to it through
# node a; the TLS server and an HTTP server that answers with the head it
# got and the address it came from listen there.  Node a's kernel hands
# a1's connections on the Domain ports to the agent's IPv6 listener, the
# agent reads the name, and connects on over IPv6 from its own address.
OUTSIDE6=fd00:77::9
tb_exec a sysctl -qw net.ipv6.conf.mfwa.disable_ipv6=0 &&
	tb_exec b sysctl -qw net.ipv6.conf.mfwb.disable_ipv6=0 &&
	tb_exec a ip -6 addr add fd00:77::1/64 dev mfwa nodad &&
	tb_exec b ip -6 addr add "$OUTSIDE6/64" dev mfwb nodad &&
	tb_exec a1 ip -6 route add fd00:77::/64 via fd00:78:1::1 dev eth0 ||
	{ fail ipv6_wire_up "cannot give the wire IPv6 addresses"; tl_finish; }
tl_bg b "$TL_TMP/server6.log" "$TL_PY" "$TL_TOOLS/mf_tls_origin_server.py" \
	--bind "$OUTSIDE6" --port 8443 --cert "$PKI/srv.crt" --key "$PKI/srv.key"
tl_bg b "$TL_TMP/echo6.log" "$TL_PY" -c '
import socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("fd00:77::9", 9080)); s.listen(16); print("listening", flush=True)
while True:
    c, peer = s.accept(); c.settimeout(5); buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            b = c.recv(4096)
            if not b:
                break
            buf += b
        print("request", buf.split(b"\r\n")[0].decode(), "from", peer[0],
              flush=True)
        body = b"from " + peer[0].encode() + b"\n" + buf
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n" % len(body) + body)
    except OSError:
        pass
    c.close()'
wait_for 10 grep -q listening "$TL_TMP/server6.log" &&
	wait_for 10 grep -q listening "$TL_TMP/echo6.log" ||
	{ fail servers6_up "$(cat "$TL_TMP/server6.log" "$TL_TMP/echo6.log")"; tl_finish; }
passthrough Matched "{type: Domain, value: api.example.test, port: 8443, protocol: tls}, {type: Domain, value: \"*.web.test\", port: 9080, protocol: http}"
# curl_name6 URL NAME PORT [ARGS...]: curl_name onto the IPv6 address.
curl_name6() {
	local url=$1 name=$2 port=$3
	shift 3
	tb_exec a1 curl -sS -m 10 --resolve "$name:$port:[$OUTSIDE6]" \
		-o - -w ' code=%{http_code}' "$@" "$url" 2>&1
}
mark=$(tl_log_mark mf-node-a)
d0=$(denied)
got=$(curl_name6 https://api.example.test:8443/ api.example.test 8443 --cacert "$PKI/ca.crt")
case "$got" in
*"sni=api.example.test tls=TLSv1.3"*"code=200") pass passthrough_ipv6_domain_tls_sni ;;
*) fail passthrough_ipv6_domain_tls_sni "$got; server: $(tail -n 3 "$TL_TMP/server6.log"); $(tl_log_since mf-node-a "$mark" | tail -n 3)" ;;
esac
n_hs6=$(grep -c '^handshake' "$TL_TMP/server6.log")
got=$(curl_name6 https://other.example.test:8443/ other.example.test 8443 -k)
case "$got" in
*"code=200"*) fail passthrough_ipv6_domain_tls_other_refused "$got" ;;
*) pass passthrough_ipv6_domain_tls_other_refused ;;
esac
[ "$(grep -c '^handshake' "$TL_TMP/server6.log")" = "$n_hs6" ] &&
	pass passthrough_ipv6_domain_tls_other_never_reached ||
	fail passthrough_ipv6_domain_tls_other_never_reached "$(tail -n 2 "$TL_TMP/server6.log")"
# The server saw the request come from node a's address: the agent
# relayed it (a1's own address would mean it went round the agent).
got=$(curl_name6 http://www.web.test:9080/hello www.web.test 9080 -H 'X-Probe: 6')
case "$got" in
"from fd00:77::1"?"GET /hello HTTP/1.1"*"Host: www.web.test:9080"*"X-Probe: 6"*"code=200") pass passthrough_ipv6_domain_http_host ;;
*) fail passthrough_ipv6_domain_http_host "$got; $(tl_log_since mf-node-a "$mark" | tail -n 3)" ;;
esac
n_rq6=$(grep -c '^request' "$TL_TMP/echo6.log")
got=$(curl_name6 http://api.example.test:9080/ api.example.test 9080)
case "$got" in
*"code=200"*) fail passthrough_ipv6_domain_http_other_refused "$got" ;;
*) pass passthrough_ipv6_domain_http_other_refused ;;
esac
[ "$(grep -c '^request' "$TL_TMP/echo6.log")" = "$n_rq6" ] &&
	pass passthrough_ipv6_domain_http_other_never_reached ||
	fail passthrough_ipv6_domain_http_other_never_reached "$(tail -n 2 "$TL_TMP/echo6.log")"
d1=$(denied)
[ "${d1:-0}" -ge $((${d0:-0} + 2)) ] 2>/dev/null &&
	pass passthrough_ipv6_domain_denied_counted ||
	fail passthrough_ipv6_domain_denied_counted "passthrough_denied $d0 -> $d1"
if tl_log_since mf-node-a "$mark" | grep -q 'event=refused .*dst=\[fd00:77::9\]:8443 .*reason="MeshPassthrough: SNI other.example.test: no Domain match has the name"'; then
	pass passthrough_ipv6_domain_refusal_logged
else
	fail passthrough_ipv6_domain_refusal_logged "$(tl_log_since mf-node-a "$mark" | grep refused | tail -n 3)"
fi
# Another port of the outside host over IPv6: no Domain match has it,
# the SYN is dropped in node a's kernel.
p0=$(dropped)
got=$(tb_exec a1 "$TL_PY" - <<'PY'
import socket
try:
    socket.create_connection(("fd00:77::9", 9099), timeout=2)
    print("connected")
except OSError:
    print("blocked")
PY
)
p1=$(dropped)
if [ "$got" = blocked ] && [ "${p1:-0}" -gt "${p0:-0}" ] 2>/dev/null; then
	pass passthrough_ipv6_domain_other_port_dropped
else
	fail passthrough_ipv6_domain_other_port_dropped "$got; drop_passthrough $p0 -> $p1"
fi

# Domain names over IPv6 judged by the client's own workload: the Mesh's
# MeshPassthrough admits other names on the same ports (so node a's kernel
# hands both pods' connections to its agent), a MeshSubset one admits
# api.example.test and *.web.test for the client service's workloads (a1)
# alone.  The agent knows which pod an IPv6 connection comes from by the
# note node a's program wrote on its SYN (mf_pt6_clients, by the veth:
# both pods have spoken IPv4 above); a2 gets an IPv6 address here.
tb_exec a sysctl -qw net.ipv6.conf.mfpa2.disable_ipv6=0 &&
	tb_exec a2 sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 &&
	tb_exec a ip -6 addr add fd00:78:2::1/64 dev mfpa2 nodad &&
	tb_exec a2 ip -6 addr add fd00:78:2::12/64 dev eth0 nodad &&
	tb_exec a2 ip -6 route add fd00:77::/64 via fd00:78:2::1 dev eth0 ||
	{ fail ipv6_a2_up "cannot give a2 an IPv6 address"; tl_finish; }
{
	cat "$TL_TMP/egress.yaml"
	cat <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshPassthrough
metadata: {name: pt}
spec:
  targetRef: {kind: Mesh}
  default:
    passthroughMode: Matched
    appendMatch:
      - {type: Domain, value: mesh.example.test, port: 8443, protocol: tls}
      - {type: Domain, value: mesh.web.test, port: 9080, protocol: http}
---
apiVersion: kuma.io/v1alpha1
kind: MeshPassthrough
metadata: {name: pt-client}
spec:
  targetRef: {kind: MeshSubset, tags: {kuma.io/service: client}}
  default:
    appendMatch:
      - {type: Domain, value: api.example.test, port: 8443, protocol: tls}
      - {type: Domain, value: "*.web.test", port: 9080, protocol: http}
YAML
} >"$TL_TMP/pt6-subset.yaml"
"$TB" apply "$TL_TMP/pt6-subset.yaml" >"$TL_TMP/pt.out" 2>&1 ||
	{ fail passthrough_ipv6_subset_apply "$(cat "$TL_TMP/pt.out")"; tl_finish; }
# curl6 POD URL NAME PORT [ARGS...]: curl_name6 from POD.
curl6() {
	local pod=$1 url=$2 name=$3 port=$4
	shift 4
	tb_exec "$pod" curl -sS -m 10 --resolve "$name:$port:[$OUTSIDE6]" \
		-o - -w ' code=%{http_code}' "$@" "$url" 2>&1
}
mark=$(tl_log_mark mf-node-a)
d0=$(denied)
n_hs6=$(grep -c '^handshake' "$TL_TMP/server6.log")
got=$(curl6 a1 https://api.example.test:8443/ api.example.test 8443 --cacert "$PKI/ca.crt")
case "$got" in
*"sni=api.example.test tls=TLSv1.3"*"code=200") pass passthrough_ipv6_subset_tls_reaches ;;
*) fail passthrough_ipv6_subset_tls_reaches "$got; server: $(tail -n 3 "$TL_TMP/server6.log"); $(tl_log_since mf-node-a "$mark" | grep -E 'refused|passthrough' | tail -n 3)" ;;
esac
[ "$(grep -c '^handshake' "$TL_TMP/server6.log")" -gt "$n_hs6" ] &&
	pass passthrough_ipv6_subset_tls_server_saw_it ||
	fail passthrough_ipv6_subset_tls_server_saw_it "$(tail -n 2 "$TL_TMP/server6.log")"
n_rq6=$(grep -c '^request' "$TL_TMP/echo6.log")
got=$(curl6 a1 http://www.web.test:9080/mine www.web.test 9080 -H 'X-Probe: a1')
case "$got" in
"from fd00:77::1"?"GET /mine HTTP/1.1"*"Host: www.web.test:9080"*"X-Probe: a1"*"code=200") pass passthrough_ipv6_subset_http_reaches ;;
*) fail passthrough_ipv6_subset_http_reaches "$got; $(tl_log_since mf-node-a "$mark" | grep -E 'refused|passthrough' | tail -n 3)" ;;
esac
[ "$(grep -c '^request' "$TL_TMP/echo6.log")" -gt "$n_rq6" ] &&
	pass passthrough_ipv6_subset_http_server_saw_it ||
	fail passthrough_ipv6_subset_http_server_saw_it "$(tail -n 2 "$TL_TMP/echo6.log")"
# a2, the Mesh's names only: the same two refused by node a's agent.
d1=$(denied)
n_hs6=$(grep -c '^handshake' "$TL_TMP/server6.log")
n_rq6=$(grep -c '^request' "$TL_TMP/echo6.log")
got=$(curl6 a2 https://api.example.test:8443/ api.example.test 8443 --cacert "$PKI/ca.crt")
case "$got" in
*"code=200"*) fail passthrough_ipv6_subset_other_tls_refused "$got" ;;
*) pass passthrough_ipv6_subset_other_tls_refused ;;
esac
got=$(curl6 a2 http://www.web.test:9080/theirs www.web.test 9080)
case "$got" in
*"code=200"*) fail passthrough_ipv6_subset_other_http_refused "$got" ;;
*) pass passthrough_ipv6_subset_other_http_refused ;;
esac
[ "$(grep -c '^handshake' "$TL_TMP/server6.log")" = "$n_hs6" ] &&
	[ "$(grep -c '^request' "$TL_TMP/echo6.log")" = "$n_rq6" ] &&
	pass passthrough_ipv6_subset_other_never_reached ||
	fail passthrough_ipv6_subset_other_never_reached "$(tail -n 2 "$TL_TMP/server6.log" "$TL_TMP/echo6.log")"
d2=$(denied)
[ "${d1:-0}" = "${d0:-0}" ] 2>/dev/null &&
	[ "${d2:-0}" -ge $((${d1:-0} + 2)) ] 2>/dev/null &&
	pass passthrough_ipv6_subset_other_denied_counted ||
	fail passthrough_ipv6_subset_other_denied_counted "passthrough_denied $d0 -> $d1 (a1) -> $d2 (a2)"
if tl_log_since mf-node-a "$mark" | grep -q 'event=refused .*src=\[fd00:78:2::12\]:[0-9]* dst=\[fd00:77::9\]:8443 .*reason="MeshPassthrough: SNI api.example.test: no Domain match has the name"' &&
	tl_log_since mf-node-a "$mark" | grep -q 'event=refused .*src=\[fd00:78:2::12\]:[0-9]* dst=\[fd00:77::9\]:9080 .*reason="MeshPassthrough: Host www.web.test: no Domain match has the name"'; then
	pass passthrough_ipv6_subset_other_refusal_logged
else
	fail passthrough_ipv6_subset_other_refusal_logged "$(tl_log_since mf-node-a "$mark" | grep refused | tail -n 3)"
fi
# The Mesh's own name still goes for a2 (the server answers it; its
# certificate is another name's, hence -k).
got=$(curl6 a2 https://mesh.example.test:8443/ mesh.example.test 8443 -k)
case "$got" in
*"sni=mesh.example.test tls=TLSv1.3"*"code=200") pass passthrough_ipv6_subset_other_mesh_name_reaches ;;
*) fail passthrough_ipv6_subset_other_mesh_name_reaches "$got; $(tail -n 2 "$TL_TMP/server6.log")" ;;
esac
# Every note was taken on accept: none is left behind.
notes=$(bpftool -j map dump pinned /sys/fs/bpf/mf-node-a/mf_pt6_clients 2>&1 |
	"$TL_PY" -c 'import json, sys; d = json.load(sys.stdin); print(len(d) if isinstance(d, list) else d)' 2>&1)
[ "$notes" = 0 ] && pass passthrough_ipv6_notes_taken ||
	fail passthrough_ipv6_notes_taken "mf_pt6_clients: $notes"
tl_finish
