#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The L7 engine on the two-node testbed: the shipped policy with the web
# service declared `protocol: http`, so agent a speaks HTTP/1.1 with pod a1
# and forwards each request through the mTLS tunnel to a web pod.  Asserted
# by what the web pods received and what the client saw:
#  - requests go through, and the pod sees the forwarded head: its client in
#    X-Forwarded-For, a generated x-request-id, no hop-by-hop field;
#  - the requests of one client connection each go to an endpoint of their
#    own (both pods answer on it);
#  - 10 pipelined requests get their responses in order, and a WebSocket
#    echoes through the mesh;
#  - a 10 MiB chunked upload arrives intact (the pod's SHA-256 of it);
#  - smuggling attempts get 400, and no pod ever logs the request;
#  - a head that trickles in past the header timeout gets 408 while the
#    agent keeps answering another client;
#  - a Kuma TrafficRoute splitting web 90/10 between version v1 (b1) and v2
#    (b2) sends 900 and 100 of 1,000 requests there, within 3%;
#  - a MeshHTTPRoute sends x-canary: on to v2, splits /split 90/10 by
#    MeshServiceSubset, rewrites a path with header modifiers both ways, and
#    redirects with 301; a second MeshHTTPRoute with a rule of identical
#    matches gives it the filters the first does not set (merged field by
#    field: the first's backendRefs, the second's rewrite and header);
#  - /metrics counts the requests, responses and the proxy's own replies,
#    and by source identity, destination and route, with a latency
#    histogram per destination;
#  - node a logs a JSON access line per request, with its request id;
#  - 1,000 short client connections in a row cost a few agent-to-agent
#    handshakes, not 1,000: upstream connections outlive them in a pool.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_l7
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

VIP=10.96.0.10
TOKEN=mf-l7-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$TL_TMP/token"
# web speaks HTTP; b1 is its version v1, b2 its version v2.
sed -e 's/spec: {vip: 10.96.0.10, port: 80, protocol: tcp}/spec: {vip: 10.96.0.10, port: 80, protocol: http}/' \
	-e '/  ip: 10.78.2.11$/a\  tags: {version: v1}' \
	-e '/  ip: 10.78.2.12$/a\  tags: {version: v2}' \
	"$TL_TOP/tests/integration/policy.yaml" >"$TL_TMP/policy.yaml"
[ "$(grep -c 'tags: {version: v[12]}' "$TL_TMP/policy.yaml")" -eq 2 ] ||
	{ fail policy_tags "the b1 and b2 Workloads of policy.yaml were not found"; tl_finish; }
grep -q 'protocol: http' "$TL_TMP/policy.yaml" ||
	{ fail policy_http "the web Service of policy.yaml was not found"; tl_finish; }
# Round robin, so that sequential requests show the per-request pick (the
# default, peak EWMA, keeps them on the faster pod: test_http_balance).
cat >>"$TL_TMP/policy.yaml" <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshLoadBalancingStrategy
metadata: {name: web-round-robin}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        loadBalancer: {type: RoundRobin}
YAML

export MF_AGENT_ARGS="--http-header-timeout 1500 --http-access-log"
tl_bed_up --apply "$TL_TMP/policy.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" "$TL_TMP/token" || { fail "httpd_$p" "server did not start"; tl_finish; }
done

admin() { tb_exec "$1" curl -sS -m 5 "http://127.0.0.1:15000$2"; }
# sample FILE REGEX: the value of the first metric line matching REGEX.
sample() { grep -E "^$2 " "$1" | head -n 1 | awk '{print $2}'; }

# ---- requests through the L7 path ---------------------------------------------
bad=""
for i in 1 2 3 4; do
	body=$(tb_exec a1 curl -sS -m 10 "http://$VIP/token" 2>&1)
	[ "$body" = "$TOKEN" ] || { bad="request $i: got '$body'"; break; }
done
if [ -z "$bad" ]; then pass l7_requests_through_mesh; else fail l7_requests_through_mesh "$bad"; fi

hdrs=$(tb_exec a1 curl -sS -m 10 -H 'Connection: keep-alive, X-Drop' -H 'X-Drop: 1' \
	-H 'Keep-Alive: timeout=5' -H 'X-Keep: yes' "http://$VIP/headers" 2>&1)
printf '%s\n' "$hdrs" >"$TL_TMP/headers"
if grep -qx 'X-Forwarded-For: 10.78.1.11' "$TL_TMP/headers" &&
	grep -qE '^x-request-id: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$TL_TMP/headers" &&
	grep -qx 'X-Keep: yes' "$TL_TMP/headers" &&
	! grep -qiE '^(x-drop|keep-alive|connection):' "$TL_TMP/headers"; then
	pass l7_forwarded_head
else
	fail l7_forwarded_head "the pod saw: $(tr '\n' '|' <"$TL_TMP/headers")"
fi

# ---- one client connection, each request to its own endpoint ------------------
# curl keeps its connection for the six transfers (num_connects 1, then 0);
# the agent picks an endpoint per request, so both pods answer on it.
out=$(tb_exec a1 curl -sS -m 20 -w ' connects=%{num_connects}\n' \
	"http://$VIP/whoami" "http://$VIP/whoami" "http://$VIP/whoami" \
	"http://$VIP/whoami" "http://$VIP/whoami" "http://$VIP/whoami" 2>&1)
printf '%s\n' "$out" >"$TL_TMP/keepalive.out"
conns=$(grep -o 'connects=[0-9]*' "$TL_TMP/keepalive.out" | tr '\n' ' ')
if [ "$(grep -c '^pod=mf-pod-b' "$TL_TMP/keepalive.out")" -eq 6 ] &&
	grep -q '^pod=mf-pod-b1 ' "$TL_TMP/keepalive.out" &&
	grep -q '^pod=mf-pod-b2 ' "$TL_TMP/keepalive.out" &&
	[ "$conns" = "connects=1 connects=0 connects=0 connects=0 connects=0 connects=0 " ]; then
	pass l7_requests_of_one_connection_balanced
else
	fail l7_requests_of_one_connection_balanced "$(tr '\n' '|' <"$TL_TMP/keepalive.out")"
fi

# ---- pipelining: 10 requests in one write, 10 responses in order ---------------
if tb_exec a1 "$TL_PY" -c '
import socket, sys
s = socket.create_connection(("'"$VIP"'", 80), timeout=10)
s.sendall(b"".join(b"GET /headers HTTP/1.1\r\nHost: web\r\nX-Request-Id: pipe-%d\r\n\r\n" % i
                   for i in range(10)))
buf, got = b"", []
while len(got) < 10:
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            sys.exit("closed after %d responses" % len(got))
        buf += b
    head, buf = buf.split(b"\r\n\r\n", 1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(buf) < n:
        buf += s.recv(65536)
    body, buf = buf[:n], buf[n:]
    ids = [l for l in body.split(b"\n") if l.lower().startswith(b"x-request-id:")]
    got.append(ids[0].split(b": ")[1].decode() if ids else "?")
want = ["pipe-%d" % i for i in range(10)]
sys.exit(0 if got == want else "order: %r" % got)
' >"$TL_TMP/pipe.out" 2>&1; then
	pass l7_pipelined_responses_in_order
else
	fail l7_pipelined_responses_in_order "$(cat "$TL_TMP/pipe.out")"
fi

# ---- a WebSocket echo through the mesh -------------------------------------------
if tb_exec a1 "$TL_PY" -c '
import base64, hashlib, os, socket, struct, sys
s = socket.create_connection(("'"$VIP"'", 80), timeout=10)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /ws HTTP/1.1\r\nHost: web\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, buf = buf.split(b"\r\n\r\n", 1)
accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
if not head.startswith(b"HTTP/1.1 101") or accept not in head:
    sys.exit("handshake: %r" % head)
for msg in (b"hello through the mesh", os.urandom(300)):
    mask = os.urandom(4)
    size = bytes([0x80 | len(msg)]) if len(msg) < 126 else bytes([0x80 | 126]) + struct.pack("!H", len(msg))
    s.sendall(bytes([0x82]) + size + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(msg)))
    while len(buf) < 4:
        buf += s.recv(4096)
    n, off = buf[1] & 0x7f, 2
    if n == 126:
        n, off = struct.unpack("!H", buf[2:4])[0], 4
    while len(buf) < off + n:
        buf += s.recv(4096)
    if buf[off:off + n] != msg:
        sys.exit("echo differs")
    buf = buf[off + n:]
' >"$TL_TMP/ws.out" 2>&1; then
	pass l7_websocket_echo_through_mesh
else
	fail l7_websocket_echo_through_mesh "$(cat "$TL_TMP/ws.out")"
fi

# ---- a 10 MiB chunked upload ----------------------------------------------------
head -c $((10 << 20)) /dev/urandom >"$TL_TMP/upload"
want=$(sha256sum "$TL_TMP/upload" | cut -d' ' -f1)
got=$(tb_exec a1 curl -sS -m 60 -H 'Transfer-Encoding: chunked' \
	--data-binary @"$TL_TMP/upload" "http://$VIP/sha256" 2>&1)
if [ "$got" = "$want" ]; then
	pass l7_chunked_upload_10mib_intact
else
	fail l7_chunked_upload_10mib_intact "pod's sha256 '$got', sent $want"
fi

# ---- smuggling: 400, and nothing reaches a pod -------------------------------
# raw_http POD: sends stdin on one connection to the VIP and prints what
# came back (until the agent closes, at most 5 s).
raw_http() {
	tb_exec "$1" "$TL_PY" -c '
import socket, sys
s = socket.create_connection(("'"$VIP"'", 80), timeout=5)
s.sendall(sys.stdin.buffer.read())
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except (socket.timeout, ConnectionResetError):
    pass
sys.stdout.buffer.write(out)
'
}
smuggle_ok=1
n=0
while IFS= read -r req; do
	n=$((n + 1))
	path="/smuggle-$n-$TOKEN"
	out=$(printf "${req//PATH/$path}" | raw_http a1)
	case "$out" in
	"HTTP/1.1 400 Bad Request"*) ;;
	*) smuggle_ok=0; tl_log "smuggling case $n: got '${out%%$'\r'*}'" ;;
	esac
done <<'EOF'
POST PATH HTTP/1.1\r\nHost: web\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n
POST PATH HTTP/1.1\r\nHost: web\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde
POST PATH HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n
GET PATH HTTP/1.1\r\nHost: web\r\nX-A: 1\r\n folded\r\n\r\n
GET PATH HTTP/1.1\r\nHost : web\r\n\r\n
GET PATH HTTP/1.1\r\nX-A: 1\r\n\r\n
POST PATH HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nx\r\n0\r\n\r\n
EOF
# A normal request after them: once the pods logged it, they would have
# logged the smuggled ones too.
tb_exec a1 curl -sS -m 10 -o /dev/null "http://$VIP/whoami?barrier-$TOKEN"
barrier() { grep -q "barrier-$TOKEN" "$TL_TMP"/httpd-b*.log; }
if [ "$smuggle_ok" = 1 ] && wait_for 5 barrier && ! grep -q "smuggle-" "$TL_TMP"/httpd-b*.log; then
	pass l7_smuggling_refused_nothing_upstream
else
	fail l7_smuggling_refused_nothing_upstream "400s: $smuggle_ok; pods logged: $(grep -h smuggle- "$TL_TMP"/httpd-b*.log | head -n 2)"
fi

# ---- a slow head gets 408 while others are served -------------------------------
tb_exec a1 "$TL_PY" -c '
import socket, sys, time
s = socket.create_connection(("'"$VIP"'", 80), timeout=10)
s.sendall(b"GET /whoami HTTP/1.1\r\nHo")
time.sleep(3)
try:
    s.sendall(b"st: web\r\n\r\n")
except OSError:
    pass
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except (socket.timeout, ConnectionResetError):
    pass
sys.stdout.buffer.write(out)
' >"$TL_TMP/slow.out" 2>&1 &
slow=$!
sleep 0.5
who=$(tb_exec a1 curl -sS -m 5 "http://$VIP/whoami" 2>&1)
wait "$slow"
case "$who" in
"pod=mf-pod-b"*) pass l7_others_served_during_slow_head ;;
*) fail l7_others_served_during_slow_head "got '$who'" ;;
esac
if head -c 30 "$TL_TMP/slow.out" | grep -q '^HTTP/1.1 408 Request Timeout'; then
	pass l7_slow_head_gets_408
else
	fail l7_slow_head_gets_408 "got '$(head -c 80 "$TL_TMP/slow.out")'"
fi

# ---- a canary split: 90/10 over 1,000 requests -----------------------------------
# Kuma's TrafficRoute as its users write it on Kubernetes (mesh at the top
# level); the 1,000 requests ride one client connection, each routed on
# its own.
cat >"$TL_TMP/canary.yaml" <<'EOF'
apiVersion: kuma.io/v1alpha1
kind: TrafficRoute
mesh: default
metadata:
  name: web-canary
spec:
  sources:
    - match:
        kuma.io/service: '*'
  destinations:
    - match:
        kuma.io/service: web
  conf:
    split:
      - weight: 90
        destination:
          kuma.io/service: web
          version: v1
      - weight: 10
        destination:
          kuma.io/service: web
          version: v2
EOF
# apply --wait returns once both agents serve the new policy.
if "$TB" apply "$TL_TMP/canary.yaml" >"$TL_TMP/apply.log" 2>&1; then
	tb_exec a1 curl -sS -m 120 "http://$VIP/whoami?n=[1-1000]" >"$TL_TMP/canary.out" 2>&1
	n1=$(grep -c '^pod=mf-pod-b1 ' "$TL_TMP/canary.out")
	n2=$(grep -c '^pod=mf-pod-b2 ' "$TL_TMP/canary.out")
	tl_log "canary: v1 (b1) $n1, v2 (b2) $n2 of 1000"
	if [ $((n1 + n2)) -eq 1000 ] && [ "$n2" -ge 70 ] && [ "$n2" -le 130 ]; then
		pass l7_traffic_route_canary_90_10
	else
		fail l7_traffic_route_canary_90_10 "v1 $n1, v2 $n2 (want 900 and 100, within 30)"
	fi
else
	fail l7_traffic_route_canary_90_10 "apply: $(cat "$TL_TMP/apply.log")"
fi

# ---- MeshHTTPRoute: header route, split, rewrite, modifiers, redirect ----------
cat >"$TL_TMP/routes.yaml" <<'EOF'
apiVersion: kuma.io/v1alpha1
kind: MeshHTTPRoute
metadata:
  name: web-routes
spec:
  targetRef:
    kind: Mesh
  to:
    - targetRef:
        kind: MeshService
        name: web
      rules:
        - matches:
            - path: {type: PathPrefix, value: /}
              headers:
                - {type: Exact, name: x-canary, value: "on"}
          default:
            backendRefs:
              - {kind: MeshServiceSubset, name: web, tags: {version: v2}}
        - matches:
            - path: {type: PathPrefix, value: /split}
          default:
            filters:
              - type: URLRewrite
                urlRewrite:
                  path: {type: ReplaceFullPath, replaceFullPath: /whoami}
              - type: ResponseHeaderModifier
                responseHeaderModifier:
                  set: [{name: x-served-by, value: mesh}]
            backendRefs:
              - {kind: MeshServiceSubset, name: web, tags: {version: v1}, weight: 90}
              - {kind: MeshServiceSubset, name: web, tags: {version: v2}, weight: 10}
        - matches:
            - path: {type: PathPrefix, value: /legacy}
          default:
            filters:
              - type: URLRewrite
                urlRewrite:
                  path: {type: ReplacePrefixMatch, replacePrefixMatch: /headers}
              - type: RequestHeaderModifier
                requestHeaderModifier:
                  set: [{name: x-route, value: legacy}]
                  remove: [x-debug]
        - matches:
            - path: {type: PathPrefix, value: /mirrored}
          default:
            filters:
              - type: RequestMirror
                requestMirror:
                  backendRef: {kind: MeshServiceSubset, name: web, tags: {version: v2}}
            backendRefs:
              - {kind: MeshServiceSubset, name: web, tags: {version: v1}}
        - matches:
            - path: {type: Exact, value: /moved}
          default:
            filters:
              - type: RequestRedirect
                requestRedirect:
                  scheme: https
                  hostname: web.example.com
                  path: {type: ReplaceFullPath, replaceFullPath: /new}
                  statusCode: 301
        - matches:
            - path: {type: PathPrefix, value: /merged}
          default:
            backendRefs:
              - {kind: MeshServiceSubset, name: web, tags: {version: v2}}
---
# Less precedent (its name sorts after web-routes): its /merged rule has
# the same matches, so its filters, which web-routes' rule does not set,
# apply with web-routes' backendRefs.
apiVersion: kuma.io/v1alpha1
kind: MeshHTTPRoute
metadata:
  name: web-routes-z
spec:
  targetRef:
    kind: Mesh
  to:
    - targetRef:
        kind: MeshService
        name: web
      rules:
        - matches:
            - path: {type: PathPrefix, value: /merged}
          default:
            filters:
              - type: URLRewrite
                urlRewrite:
                  path: {type: ReplacePrefixMatch, replacePrefixMatch: /headers}
              - type: RequestHeaderModifier
                requestHeaderModifier:
                  set: [{name: x-merged, value: base}]
            backendRefs:
              - {kind: MeshServiceSubset, name: web, tags: {version: v1}}
EOF
if "$TB" apply "$TL_TMP/routes.yaml" >"$TL_TMP/apply-routes.log" 2>&1; then
	tb_exec a1 curl -sS -m 60 -H 'x-canary: on' "http://$VIP/whoami?n=[1-20]" >"$TL_TMP/hdr.out" 2>&1
	if [ "$(grep -c '^pod=mf-pod-b2 ' "$TL_TMP/hdr.out")" -eq 20 ]; then
		pass l7_mesh_http_route_header_to_v2
	else
		fail l7_mesh_http_route_header_to_v2 "$(sort "$TL_TMP/hdr.out" | uniq -c | tr '\n' '|')"
	fi
	tb_exec a1 curl -sS -m 120 "http://$VIP/split?n=[1-1000]" >"$TL_TMP/split.out" 2>&1
	n1=$(grep -c '^pod=mf-pod-b1 ' "$TL_TMP/split.out")
	n2=$(grep -c '^pod=mf-pod-b2 ' "$TL_TMP/split.out")
	tl_log "MeshHTTPRoute split: v1 (b1) $n1, v2 (b2) $n2 of 1000"
	if [ $((n1 + n2)) -eq 1000 ] && [ "$n2" -ge 70 ] && [ "$n2" -le 130 ]; then
		pass l7_mesh_http_route_split_90_10
	else
		fail l7_mesh_http_route_split_90_10 "v1 $n1, v2 $n2 (want 900 and 100, within 30)"
	fi
	tb_exec a1 curl -sS -m 10 -H 'x-debug: 1' \
		"http://$VIP/legacy" >"$TL_TMP/legacy.out" 2>&1
	tb_exec a1 curl -sS -m 10 -o /dev/null -D "$TL_TMP/split.hdrs" \
		"http://$VIP/split" 2>&1
	if grep -qx 'x-route: legacy' "$TL_TMP/legacy.out" &&
		! grep -qi '^x-debug:' "$TL_TMP/legacy.out" &&
		grep -qi '^x-served-by: mesh' "$TL_TMP/split.hdrs"; then
		pass l7_mesh_http_route_rewrite_and_modifiers
	else
		fail l7_mesh_http_route_rewrite_and_modifiers "pod saw: $(tr '\n' '|' <"$TL_TMP/legacy.out"); client got: $(tr -d '\r' <"$TL_TMP/split.hdrs" | tr '\n' '|')"
	fi
	# RequestMirror: every request answered by v1 (b1) alone, and a copy
	# of each, Host "-shadow", seen by v2 (b2) whose answers nobody gets.
	tb_exec a1 curl -sS -m 30 "http://$VIP/mirrored/whoami?m=$TOKEN-[1-10]" >"$TL_TMP/mirror.out" 2>&1
	copies() { grep "GET /mirrored/whoami?m=$TOKEN-" "$TL_TMP/httpd-b2.log" | grep -c " host=$VIP-shadow\$"; }
	mirror_sent() {
		tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
			awk '$1 == "meshforge_http_mirror_requests_total{result=\"sent\"}" {print $2}'
	}
	all_copies() { [ "$(copies)" -ge 10 ]; }
	wait_for 10 all_copies
	ms=$(mirror_sent)
	nb1=$(grep -c '^pod=mf-pod-b1 ' "$TL_TMP/mirror.out")
	nc=$(copies)
	in_b1=$(grep -c "GET /mirrored/whoami?m=$TOKEN-" "$TL_TMP/httpd-b1.log")
	if [ "$nb1" -eq 10 ] && [ "$(wc -l <"$TL_TMP/mirror.out")" -eq 10 ] && [ "$nc" -eq 10 ] &&
		[ "$in_b1" -eq 10 ] && [ "${ms:-0}" -ge 10 ]; then
		pass l7_mesh_http_route_request_mirror
	else
		fail l7_mesh_http_route_request_mirror "client got b1 $nb1 of 10 ($(sort "$TL_TMP/mirror.out" | uniq -c | tr '\n' '|')); b1 saw $in_b1, b2 saw $nc copies with Host $VIP-shadow; mirrors sent ${ms:-?}"
	fi
	out=$(tb_exec a1 curl -sS -m 10 -o /dev/null -w '%{http_code} %{redirect_url}' "http://$VIP/moved?x=1" 2>&1)
	if [ "$out" = "301 https://web.example.com/new?x=1" ]; then
		pass l7_mesh_http_route_redirect
	else
		fail l7_mesh_http_route_redirect "got '$out'"
	fi
	# Identical matches of two routes merged field by field: web-routes'
	# backendRefs (v2, b2), web-routes-z's filters (the pod saw the path
	# rewritten to /headers and x-merged), each request.
	ok=1
	for i in 1 2 3 4; do
		tb_exec a1 curl -sS -m 10 -D "$TL_TMP/merged.hdrs" "http://$VIP/merged" >"$TL_TMP/merged.out" 2>&1
		tr -d '\r' <"$TL_TMP/merged.hdrs" | grep -qix 'x-mf-pod: mf-pod-b2' &&
			grep -qix 'x-merged: base' "$TL_TMP/merged.out" || { ok=0; break; }
	done
	if [ "$ok" = 1 ]; then
		pass l7_mesh_http_route_identical_matches_merged
	else
		fail l7_mesh_http_route_identical_matches_merged "answer $i: $(tr -d '\r' <"$TL_TMP/merged.hdrs" | tr '\n' '|') body: $(tr '\n' '|' <"$TL_TMP/merged.out")"
	fi
else
	fail l7_mesh_http_route_applies "$(cat "$TL_TMP/apply-routes.log")"
fi

# ---- /metrics -------------------------------------------------------------------
admin a /metrics >"$TL_TMP/metrics-a" 2>&1
reqs=$(sample "$TL_TMP/metrics-a" meshforge_http_requests_total)
ok2xx=$(sample "$TL_TMP/metrics-a" 'meshforge_http_responses_total\{class="2xx"\}')
bad=$(sample "$TL_TMP/metrics-a" 'meshforge_http_local_replies_total\{reason="bad_request"\}')
tmo=$(sample "$TL_TMP/metrics-a" 'meshforge_http_local_replies_total\{reason="timeout"\}')
tl_log "metrics a: requests=$reqs 2xx=$ok2xx bad_request=$bad timeout=$tmo"
if [ "${reqs:-0}" -ge 2046 ] && [ "${ok2xx:-0}" -ge 2046 ] && [ "${bad:-0}" -eq 7 ] && [ "${tmo:-0}" -eq 1 ]; then
	pass l7_metrics_count_requests
else
	fail l7_metrics_count_requests "requests=$reqs 2xx=$ok2xx bad_request=$bad timeout=$tmo"
fi

sample_ge() { # FILE REGEX MIN
	local v
	v=$(sample "$1" "$2")
	[ -n "$v" ] && [ "${v%.*}" -ge "$3" ]
}
if sample_ge "$TL_TMP/metrics-a" 'meshforge_http_route_requests_total\{source="spiffe://mesh.local/ns/default/sa/client",destination="web",route="web-routes",class="2xx"\}' 1020 &&
	sample_ge "$TL_TMP/metrics-a" 'meshforge_http_route_requests_total\{source="spiffe://mesh.local/ns/default/sa/client",destination="web",route="web-routes",class="3xx"\}' 1 &&
	sample_ge "$TL_TMP/metrics-a" 'meshforge_http_request_duration_seconds_count\{destination="web"\}' 2046 &&
	sample_ge "$TL_TMP/metrics-a" 'meshforge_http_request_duration_seconds_bucket\{destination="web",le="\+Inf"\}' 2046; then
	pass l7_metrics_by_route_and_latency
else
	fail l7_metrics_by_route_and_latency "$(grep -E '^meshforge_http_(route_requests|request_duration_seconds_count)' "$TL_TMP/metrics-a" | head -n 8 | tr '\n' '|')"
fi

# ---- the access log line of one request -----------------------------------------
rid=mf-rid-$TOKEN
mark_a=$(tl_log_mark mf-node-a)
tb_exec a1 curl -sS -m 10 -o /dev/null -H "X-Request-Id: $rid" "http://$VIP/whoami?al=1"
access_line() { tl_log_since mf-node-a "$mark_a" | grep -F "\"request_id\": \"$rid\""; }
if wait_for 5 access_line >/dev/null; then
	access_line | head -n 1 >"$TL_TMP/access.json"
	if "$TL_PY" - "$TL_TMP/access.json" <<'EOF'
import json, sys
e = json.loads(open(sys.argv[1]).read())
want = {"level": "info", "event": "http_access", "method": "GET",
        "path": "/whoami?al=1", "authority": "10.96.0.10", "status": 200,
        "src_identity": "spiffe://mesh.local/ns/default/sa/client",
        "dst_identity": "spiffe://mesh.local/ns/default/sa/web"}
bad = {k: e.get(k) for k, v in want.items() if e.get(k) != v}
if bad or not e.get("upstream", "").startswith(("b1 10.78.2.11:8080", "b2 10.78.2.12:8080")) \
        or e.get("bytes_out", 0) <= 0 or not isinstance(e.get("duration_ms"), float) \
        or not e.get("time", "").endswith("Z"):
    sys.exit("unexpected: %r in %r" % (bad, e))
EOF
	then
		pass l7_access_log_json_line
	else
		fail l7_access_log_json_line "$(cat "$TL_TMP/access.json")"
	fi
else
	fail l7_access_log_json_line "no access line with request id $rid in node a's log"
fi

# ---- upstream reuse: 1,000 short client connections, few handshakes ---------------
# Each transfer asks for its connection to close, so curl opens 1,000
# connections one after the other; the agent's upstream connections to
# node b outlive them in its pool.
admin a /metrics >"$TL_TMP/metrics-a0" 2>&1
hs0=$(sample "$TL_TMP/metrics-a0" 'meshforge_tls_handshakes_total\{result="ok"\}')
tb_exec a1 curl -sS -m 120 -H 'Connection: close' -w '%{num_connects}\n' \
	"http://$VIP/whoami?pool=[1-1000]" >"$TL_TMP/pool.out" 2>&1
admin a /metrics >"$TL_TMP/metrics-a1" 2>&1
hs1=$(sample "$TL_TMP/metrics-a1" 'meshforge_tls_handshakes_total\{result="ok"\}')
reused=$(sample "$TL_TMP/metrics-a1" 'meshforge_upstream_pool_total\{event="reused"\}')
answers=$(grep -c '^pod=mf-pod-b' "$TL_TMP/pool.out")
conns=$(grep -cx '1' "$TL_TMP/pool.out")
tl_log "pool: $answers answers over $conns client connections, $((hs1 - hs0)) handshakes, $reused reused"
if [ "$answers" -eq 1000 ] && [ "$conns" -eq 1000 ] && [ $((hs1 - hs0)) -le 50 ] &&
	[ "${reused:-0}" -ge 900 ]; then
	pass l7_pool_few_handshakes_for_1000_connections
else
	fail l7_pool_few_handshakes_for_1000_connections "answers $answers, client connections $conns, handshakes $((hs1 - hs0)), reused $reused"
fi

tl_finish
