#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The ingress gateway on the two-node testbed.  Node a runs a builtin gateway
# instance (a Kuma Dataplane with a BUILTIN gateway, labelled with the node)
# of the seed's MeshGateway, written as Kuma's docs write it: a listener on
# 8080 for example.com, and a MeshGatewayRoute, in the article's shorthand,
# sending /myapi to my-api-service (by Kuma's generated name), whose pods b1
# and b2 are on node b.  Clients outside the mesh run in node b's namespace
# and dial node a's address.  Asserted by what the client saw and what the
# pods received:
#  - `curl -H 'Host: example.com' http://<node>:8080/myapi/...` reaches a pod
#    of the API service, with the path as sent, over the mTLS tunnel;
#  - another host, and a path no route takes, get 404 and reach no pod;
#  - two HTTPS listeners on 8443, *.example.com and www.example.org (the
#    latter with an RSA certificate beside its ECDSA one, presented to
#    clients that take RSA keys alone), each
#    with a certificate of its own from a file: the client's SNI gets its
#    listener's certificate (the subject and SAN openssl s_client saw; curl
#    verifies each against its own file) and its listener's routes alone;
#    a request whose Host is not its listener's gets 421; an SNI no
#    listener takes is refused in the handshake (unrecognized_name);
#  - a TLS listener on 9443 (mode TERMINATE) presents its certificate and
#    relays the plaintext, unread, to a pod of its tcp route's backend;
#    another on the same port (mode PASSTHROUGH, picked by the SNI of the
#    ClientHello) relays the TLS itself to pod a1, whose own server
#    (openssl s_server) the client verifies and talks to, also when the
#    ClientHello comes in two segments;
#  - the requests leave with the gateway's own identity: the destination
#    agent authorizes spiffe://mesh.local/edge-gateway, and once a
#    MeshTrafficPermission no longer allows it, the gateway gets refused
#    (the client sees 502/503, no pod sees the request, node b logs the
#    denial of that identity);
#  - a MeshGatewayRoute's mirror filter: requests to /mirrored are answered
#    by the API pods, and a copy of each (Host suffixed "-shadow") reaches
#    pod a2 of the mirror's service, whose answers the client never sees;
#  - a MeshGatewayRoute of eight rules: each rule's requests (by path
#    prefix, header, query parameter; one rewriting the path, one setting,
#    adding and removing headers) reach the pod of its own backend, with
#    the path and headers that pod saw;
#  - a TCP listener on 9000 relays a connection's bytes, unread, to a pod
#    of its MeshGatewayRoute's tcp backend;
#  - moving the listener to another port with `mfctl apply` closes 8080 and
#    opens the new port while the agent runs;
#  - /metrics counts the gateway's requests by its identity and route;
#  - Kuma's newer form: a MeshHTTPRoute attached to the MeshGateway sends
#    /v2 with x-version: v2 to the v2 pod and the rest to the v1 pod (as
#    the pods saw them), answers 404 for a host of its listener it does
#    not name, and with hostToBackendHostname gives a MeshExternalService
#    known as localhost (a server on node a's loopback) Host: localhost; a
#    MeshTCPRoute takes the TCP listener's connections instead of the
#    MeshGatewayRoute's tcp rule; mfctl effective and /config_dump show
#    them; once the Mesh forbids MeshExternalService access by default,
#    the gateway's request to it gets 403;
#  - a MeshTrace targeting the MeshGateway: a Zipkin collector in node a
#    gets the gateway's CLIENT span of each request it serves, continuing
#    the trace the client sent, its own answers (404) too.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_gateway
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"
tl_require_cmd openssl

NODE_A=10.77.0.1
GW_ID=spiffe://mesh.local/edge-gateway

# ---- the policy -----------------------------------------------------------------
# gw_policy PORT ACTION [new]: the mesh with the gateway listening on PORT
# (HTTP) and 8443 (HTTPS); ACTION (Allow or Deny) is what a
# MeshTrafficPermission says of the gateway's identity reaching
# my-api-service.  With "new", Kuma's newer form too (gw_new_routes), and
# the PORT listener takes *.example.com.
gw_policy() {
	local host=example.com
	[ "${3:-}" = new ] && host='"*.example.com"'
	cat <<EOF
apiVersion: meshforge.io/v1alpha1
kind: Mesh
metadata: {name: default}
spec: {trustDomain: mesh.local, meshExternalServices: {vipRange: 10.96.64.0/24}}
---
apiVersion: meshforge.io/v1alpha1
kind: Node
metadata: {name: mf-node-a}
spec: {address: 10.77.0.1}
---
apiVersion: meshforge.io/v1alpha1
kind: Node
metadata: {name: mf-node-b}
spec: {address: 10.77.0.2}
---
apiVersion: meshforge.io/v1alpha1
kind: Service
metadata: {name: my-api-service}
spec: {vip: 10.96.0.20, port: 8080, protocol: http}
---
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: b1}
spec: {node: mf-node-b, ip: 10.78.2.11, port: 8080, service: my-api-service,
       identity: "spiffe://mesh.local/ns/default/sa/web", tags: {version: v1}}
---
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: b2}
spec: {node: mf-node-b, ip: 10.78.2.12, port: 8080, service: my-api-service,
       identity: "spiffe://mesh.local/ns/default/sa/web", tags: {version: v2}}
---
apiVersion: meshforge.io/v1alpha1
kind: Service
metadata: {name: shadow}
spec: {vip: 10.96.0.21, port: 8080, protocol: http}
---
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: a2}
spec: {node: mf-node-a, ip: 10.78.1.12, port: 8080, service: shadow,
       identity: "spiffe://mesh.local/ns/default/sa/intruder"}
---
apiVersion: meshforge.io/v1alpha1
kind: Service
metadata: {name: pt-backend}
spec: {vip: 10.96.0.22, port: 8443}
---
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: a1}
spec: {node: mf-node-a, ip: 10.78.1.11, port: 8443, service: pt-backend,
       identity: "spiffe://mesh.local/ns/default/sa/pt"}
---
apiVersion: kuma.io/v1alpha1
kind: Dataplane
metadata:
  name: edge-gateway-1
  labels: {meshforge.io/node: mf-node-a}
spec:
  networking:
    address: 10.77.0.1
    gateway:
      type: BUILTIN
      tags: {kuma.io/service: edge-gateway}
---
type: MeshGateway
mesh: default
name: edge-gateway
selectors:
  - match:
      kuma.io/service: edge-gateway
conf:
  listeners:
    - port: $1
      protocol: HTTP
      hostname: $host
    - port: 8443
      protocol: HTTPS
      hostname: "*.example.com"
      tls:
        mode: TERMINATE
        certificates: [{file: $TL_TMP/gw.pem}]
    - port: 8443
      protocol: HTTPS
      hostname: www.example.org
      tags: {vhost: www}
      tls:
        mode: TERMINATE
        certificates: [{file: $TL_TMP/www.pem}, {file: $TL_TMP/www-rsa.pem}]
    - port: 9000
      protocol: TCP
    - port: 9443
      protocol: TLS
      hostname: tls.example.com
      tls:
        mode: TERMINATE
        certificates: [{file: $TL_TMP/tls.pem}]
    - port: 9443
      protocol: TLS
      hostname: pt.example.com
      tags: {vhost: pt}
      tls: {mode: PASSTHROUGH}
---
type: MeshGatewayRoute
mesh: default
name: edge-gateway-pt
selectors:
  - match:
      kuma.io/service: edge-gateway
      vhost: pt
conf:
  tcp:
    rules:
      - backends:
          - destination: {kuma.io/service: pt-backend}
---
type: MeshGatewayRoute
mesh: default
name: edge-gateway-www
selectors:
  - match:
      kuma.io/service: edge-gateway
      vhost: www
conf:
  http:
    rules:
      - matches: [{path: {match: PREFIX, value: /wwwonly}}]
        backends:
          - destination: {kuma.io/service: my-api-service}
---
type: MeshGatewayRoute
mesh: default
name: edge-gateway-route
selectors:
  - match:
      kuma.io/service: edge-gateway
conf:
  http:
    - match:
        - path:
            match: PREFIX
            value: /myapi
      destination:
        - weight: 100
          destination:
            kuma.io/service: my-api-service_default_svc_8080
---
type: MeshGatewayRoute
mesh: default
name: edge-gateway-mirror
selectors:
  - match:
      kuma.io/service: edge-gateway
conf:
  http:
    rules:
      - matches: [{path: {match: PREFIX, value: /mirrored}}]
        filters:
          - mirror:
              percentage: 100
              backend: {destination: {kuma.io/service: shadow}}
        backends:
          - destination: {kuma.io/service: my-api-service}
---
type: MeshGatewayRoute
mesh: default
name: edge-gateway-many
selectors:
  - match:
      kuma.io/service: edge-gateway
conf:
  http:
    hostnames: [example.com]
    rules:
      - matches: [{path: {match: PREFIX, value: /many/v1}}]
        backends:
          - destination: {kuma.io/service: my-api-service, version: v1}
      - matches: [{path: {match: PREFIX, value: /many/v2}}]
        backends:
          - destination: {kuma.io/service: my-api-service, version: v2}
      - matches: [{path: {match: PREFIX, value: /many/shadow}}]
        backends:
          - destination: {kuma.io/service: shadow}
      - matches:
          - path: {match: PREFIX, value: /many/pick}
            headers: [{name: x-pick, value: two}]
        backends:
          - destination: {kuma.io/service: my-api-service, version: v2}
      - matches: [{path: {match: PREFIX, value: /many/pick}}]
        backends:
          - destination: {kuma.io/service: my-api-service, version: v1}
      - matches:
          - path: {match: PREFIX, value: /many/q}
            query_parameters: [{name: to, value: shadow}]
        backends:
          - destination: {kuma.io/service: shadow}
      - matches: [{path: {match: PREFIX, value: /many/old}}]
        filters: [{rewrite: {replace_prefix_match: /many/new}}]
        backends:
          - destination: {kuma.io/service: my-api-service, version: v2}
      - matches: [{path: {match: EXACT, value: /many/hdrs}}]
        filters:
          - rewrite: {replace_full: /headers}
          - request_header:
              set: [{name: x-rule, value: hdrs}]
              add: [{name: x-added, value: one}]
              remove: [x-drop]
        backends:
          - destination: {kuma.io/service: shadow}
---
type: MeshGatewayRoute
mesh: default
name: edge-gateway-tcp
selectors:
  - match:
      kuma.io/service: edge-gateway
conf:
  tcp:
    rules:
      - backends:
          - destination: {kuma.io/service: my-api-service}
EOF
	cat <<EOF
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrafficPermission
metadata: {name: api-allow-gateway}
spec:
  targetRef: {kind: MeshService, name: my-api-service}
  from:
    - targetRef: {kind: SpiffeID, name: "$GW_ID"}
      default: {action: $2}
EOF
	[ "${3:-}" = new ] && gw_new_routes
	return 0
}

# gw_new_routes: Kuma's newer form on the gateway.  A MeshHTTPRoute
# attached to it, serving api.example.com (not the rest of the HTTP
# listener's *.example.com): /v2 with x-version: v2 to the v2 pod (b2), anything else to
# the v1 pod (b1), /ext to a MeshExternalService known by a host name
# (localhost, a server on node a's loopback) with hostToBackendHostname;
# a MeshTCPRoute taking the TCP listener's connections to pod a2.  The
# MeshGatewayRoutes no longer route this gateway (Kuma's rule).
gw_new_routes() {
	cat <<EOF
---
apiVersion: kuma.io/v1alpha1
kind: MeshExternalService
metadata: {name: local-ext}
spec:
  match: {type: HostnameGenerator, port: 80, protocol: http}
  endpoints: [{address: localhost, port: 18080}]
---
apiVersion: kuma.io/v1alpha1
kind: MeshHTTPRoute
metadata: {name: edge-http}
spec:
  targetRef: {kind: MeshGateway, name: edge-gateway}
  to:
    - targetRef: {kind: Mesh}
      hostnames: [api.example.com]
      rules:
        - matches:
            - path: {type: PathPrefix, value: /v2}
              headers: [{type: Exact, name: x-version, value: v2}]
          default:
            backendRefs:
              - {kind: MeshServiceSubset, name: my-api-service, tags: {version: v2}}
        - matches: [{path: {type: PathPrefix, value: /}}]
          default:
            backendRefs:
              - {kind: MeshServiceSubset, name: my-api-service, tags: {version: v1}}
        - matches: [{path: {type: PathPrefix, value: /ext}}]
          default:
            filters:
              - type: URLRewrite
                urlRewrite: {hostToBackendHostname: true}
            backendRefs: [{kind: MeshExternalService, name: local-ext}]
---
apiVersion: kuma.io/v1alpha1
kind: MeshTCPRoute
metadata: {name: edge-tcp-new}
spec:
  targetRef: {kind: MeshGateway, name: edge-gateway}
  to:
    - targetRef: {kind: Mesh}
      rules:
        - default:
            backendRefs: [{kind: MeshService, name: shadow}]
EOF
}

# gw_cert STEM CN SANS [KEY]: a self-signed certificate and its key (KEY:
# openssl's -newkey, an ECDSA P-256 one when not given), in one PEM file
# as Kuma's gateway secrets hold them, $TL_TMP/STEM.pem (the certificate
# alone in STEM.crt, for clients to verify it with).
gw_cert() {
	local key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
	[ -n "${4:-}" ] && key=(-newkey "$4")
	openssl req -x509 "${key[@]}" -nodes \
		-keyout "$TL_TMP/$1.key" -out "$TL_TMP/$1.crt" -days 1 \
		-subj "/CN=$2" -addext "subjectAltName=$3" \
		>"$TL_TMP/openssl.log" 2>&1 ||
		{ fail "gateway_certificate_$1" "$(cat "$TL_TMP/openssl.log")"; tl_finish; }
	cat "$TL_TMP/$1.crt" "$TL_TMP/$1.key" >"$TL_TMP/$1.pem"
}
gw_cert gw api.example.com 'DNS:api.example.com,DNS:*.example.com'
gw_cert www www.example.org DNS:www.example.org
# www.example.org's listener's second certificate, an RSA one.
gw_cert www-rsa rsa.www.example.org 'DNS:www.example.org,DNS:rsa.www.example.org' rsa:2048
gw_cert tls tls.example.com DNS:tls.example.com
gw_cert pt pt.example.com DNS:pt.example.com

gw_policy 8080 Allow >"$TL_TMP/gw.yaml"
tl_bed_up --apply "$TL_TMP/gw.yaml"
# The gateway instance's certificate, in node a's config dir.
"$MFCTL" --config-dir "$TL_STATE/ca" cert issue --identity "$GW_ID" \
	--out "$TL_STATE/mf-node-a" >"$TL_TMP/issue.log" 2>&1 ||
	{ fail gateway_identity_issued "$(cat "$TL_TMP/issue.log")"; tl_finish; }
"$TB" agents-start >"$TL_TMP/agents.log" 2>&1 ||
	{ fail agents_start "$(cat "$TL_TMP/agents.log")"; tl_finish; }
for p in b1 b2 a2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done
# Pod a1 terminates the TLS a PASSTHROUGH listener passes to it, with a
# certificate the gateway never holds.
tl_bg a1 "$TL_TMP/s_server-a1.log" openssl s_server -accept 10.78.1.11:8443 \
	-cert "$TL_TMP/pt.crt" -key "$TL_TMP/pt.key" -www
wait_for 10 tb_exec mf-node-a sh -c "echo | openssl s_client -connect 10.78.1.11:8443 >/dev/null 2>&1" ||
	{ fail s_server_a1 "$(cat "$TL_TMP/s_server-a1.log")"; tl_finish; }

# outside ARGS...: curl from node b's namespace, outside the mesh.
outside() { tb_exec b curl -sS -m 10 "$@"; }
# code ARGS...: the status code the outside client got.
code() { tb_exec b curl -s -o /dev/null -m 10 -w '%{http_code}' "$@"; }
# seen MARKER: whether a pod logged a request carrying MARKER.
seen() { grep -q -- "$1" "$TL_TMP/httpd-b1.log" "$TL_TMP/httpd-b2.log"; }

if wait_for 10 tb_exec b curl -s -o /dev/null -m 1 "http://$NODE_A:8080/"; then
	pass gateway_port_bound
else
	fail gateway_port_bound "nothing listens on $NODE_A:8080: $(grep gateway "$(tl_agent_log mf-node-a)" | tail -n 5)"
	tl_finish
fi

# ---- the seed's example -----------------------------------------------------------
body=$(outside -H 'Host: example.com' "http://$NODE_A:8080/myapi/whoami?seed" 2>&1)
if printf '%s' "$body" | grep -qE '^pod=mf-pod-b[12] node=mf-node-b peer=10\.78\.2\.1 path=/myapi/whoami\?seed$'; then
	pass gateway_seed_example_routes_myapi
else
	fail gateway_seed_example_routes_myapi "client got: $body"
fi

# Both pods of the service serve the gateway's requests.
for i in $(seq 1 6); do outside -H 'Host: example.com' "http://$NODE_A:8080/myapi/whoami"; done \
	>"$TL_TMP/spread" 2>&1
if grep -q pod=mf-pod-b1 "$TL_TMP/spread" && grep -q pod=mf-pod-b2 "$TL_TMP/spread"; then
	pass gateway_requests_spread_over_endpoints
else
	fail gateway_requests_spread_over_endpoints "$(tr '\n' '|' <"$TL_TMP/spread")"
fi

c1=$(code -H 'Host: other.org' "http://$NODE_A:8080/myapi/whoami?other-host")
c2=$(code -H 'Host: example.com' "http://$NODE_A:8080/elsewhere/whoami?other-path")
if [ "$c1" = 404 ] && [ "$c2" = 404 ] && ! seen other-host && ! seen other-path; then
	pass gateway_other_hosts_and_paths_404
else
	fail gateway_other_hosts_and_paths_404 "other host: $c1, other path: $c2 (a pod logged one: $(seen other- && echo yes || echo no))"
fi

# ---- the mirror filter ---------------------------------------------------------
# Each request to /mirrored is answered by a pod of the API service alone,
# and a copy of it, Host "example.com-shadow", reaches a2 (the shadow
# service, on the gateway's own node), whose answers nobody gets.
for i in $(seq 1 5); do
	outside -H 'Host: example.com' "http://$NODE_A:8080/mirrored/whoami?gm=$i"
done >"$TL_TMP/gw-mirror.out" 2>&1
copies() { grep -c 'GET /mirrored/whoami?gm=[1-5] .* host=example.com-shadow$' "$TL_TMP/httpd-a2.log"; }
all_copies() { [ "$(copies)" -ge 5 ]; }
wait_for 10 all_copies
napi=$(grep -cE '^pod=mf-pod-b[12] .* path=/mirrored/whoami\?gm=[1-5]$' "$TL_TMP/gw-mirror.out")
nreq=$(grep -hc 'GET /mirrored/whoami?gm=[1-5] ' "$TL_TMP/httpd-b1.log" "$TL_TMP/httpd-b2.log" | awk '{n += $1} END {print n}')
nc=$(copies)
if [ "$napi" -eq 5 ] && [ "$(wc -l <"$TL_TMP/gw-mirror.out")" -eq 5 ] && [ "$nc" -eq 5 ] &&
	[ "$nreq" -eq 5 ]; then
	pass gateway_mirror_filter_copies_requests
else
	fail gateway_mirror_filter_copies_requests "client got $napi of 5 from the API pods ($(tr '\n' '|' <"$TL_TMP/gw-mirror.out")); API pods saw $nreq, a2 saw $nc copies with Host example.com-shadow"
fi

# ---- a route of many rules ----------------------------------------------------
# edge-gateway-many's eight rules, each sending its requests to its own
# backend: the version v1 pod (b1), the v2 pod (b2) or the shadow pod
# (a2), by path, by a header (the more specific match of /many/pick), by a
# query parameter; one rewriting the path's prefix.  Each answer comes
# from the pod its rule names, with the path that pod saw.  The last
# rule's request reaches a2 as /headers with the header it sets and the
# one it adds, without the one it removes.
many_case() { # EXPECTED-POD EXPECTED-PATH CURL-ARGS...
	local pod=$1 path=$2 body
	shift 2
	body=$(outside -H 'Host: example.com' "$@" 2>&1)
	printf '%s' "$body" | grep -qE "^pod=mf-pod-$pod .* path=$path\$" ||
		echo "$* -> $body (wanted $pod $path)"
}
{
	many_case b1 '/many/v1/whoami\?mr=1' "http://$NODE_A:8080/many/v1/whoami?mr=1"
	many_case b2 '/many/v2/whoami\?mr=2' "http://$NODE_A:8080/many/v2/whoami?mr=2"
	many_case a2 '/many/shadow/whoami\?mr=3' "http://$NODE_A:8080/many/shadow/whoami?mr=3"
	many_case b2 '/many/pick/whoami\?mr=4' -H 'x-pick: two' "http://$NODE_A:8080/many/pick/whoami?mr=4"
	many_case b1 '/many/pick/whoami\?mr=5' "http://$NODE_A:8080/many/pick/whoami?mr=5"
	many_case a2 '/many/q/whoami\?to=shadow&mr=6' "http://$NODE_A:8080/many/q/whoami?to=shadow&mr=6"
	many_case b2 '/many/new/whoami\?mr=7' -H 'x-drop: yes' "http://$NODE_A:8080/many/old/whoami?mr=7"
	hdrs=$(outside -H 'Host: example.com' -H 'x-drop: yes' -H 'x-rule: client' \
		"http://$NODE_A:8080/many/hdrs" 2>&1)
	{ printf '%s\n' "$hdrs" | grep -qix 'x-rule: hdrs' &&
		printf '%s\n' "$hdrs" | grep -qix 'x-added: one' &&
		! printf '%s\n' "$hdrs" | grep -qi '^x-drop:' &&
		! printf '%s\n' "$hdrs" | grep -qi '^x-rule: client' &&
		grep -q 'GET /headers ' "$TL_TMP/httpd-a2.log"; } ||
		echo "/many/hdrs: a2 saw $(printf '%s' "$hdrs" | tr '\n' '|')"
} >"$TL_TMP/gw-many.out"
# Each request reached its pod alone: the one it names logged it.
for m in b1:1 b2:2 a2:3 b2:4 b1:5 a2:6 b2:7; do
	grep -q "?.*mr=${m#*:} " "$TL_TMP/httpd-${m%%:*}.log" ||
		echo "pod ${m%%:*} did not log mr=${m#*:}"
done >>"$TL_TMP/gw-many.out"
if [ ! -s "$TL_TMP/gw-many.out" ]; then
	pass gateway_route_of_many_rules_reaches_each_backend
else
	fail gateway_route_of_many_rules_reaches_each_backend "$(tr '\n' '|' <"$TL_TMP/gw-many.out")"
fi

# ---- a TCP listener -----------------------------------------------------------
# Its bytes are relayed as they come to a pod of the route's backend: a
# request whose Host no HTTP listener takes is answered by the pod, Host
# untouched, since the gateway does not read it.
body=$(outside -H 'Host: tcp.test' "http://$NODE_A:9000/myapi/whoami?over-tcp" 2>&1)
if printf '%s' "$body" | grep -qE '^pod=mf-pod-b[12] .* path=/myapi/whoami\?over-tcp$' &&
	grep -q 'GET /myapi/whoami?over-tcp .* host=tcp.test$' "$TL_TMP/httpd-b1.log" "$TL_TMP/httpd-b2.log"; then
	pass gateway_tcp_listener_relays_to_route_backend
else
	fail gateway_tcp_listener_relays_to_route_backend "client got: $body; $(grep gateway "$(tl_agent_log mf-node-a)" | tail -n 3)"
fi

# ---- HTTPS --------------------------------------------------------------------------
body=$(outside --cacert "$TL_TMP/gw.crt" --resolve "api.example.com:8443:$NODE_A" \
	"https://api.example.com:8443/myapi/whoami?tls" 2>&1)
if printf '%s' "$body" | grep -qE '^pod=mf-pod-b[12] .* path=/myapi/whoami\?tls$'; then
	pass gateway_https_listener_verified_certificate
else
	fail gateway_https_listener_verified_certificate "client got: $body"
fi

# peer_cert NAME [PORT]: the subject and SANs of the certificate a client
# asking for server name NAME got on node a's PORT (8443).
peer_cert() {
	tb_exec b sh -c "openssl s_client -connect $NODE_A:${2:-8443} -servername $1 </dev/null 2>/dev/null |
		openssl x509 -noout -subject -ext subjectAltName 2>&1" 2>&1 | tr '\n' ' '
}
c_www=$(peer_cert www.example.org)
c_api=$(peer_cert api.example.com)
c_sub=$(peer_cert deep.sub.example.com)
if printf '%s' "$c_www" | grep -q 'CN *= *www.example.org.*DNS:www.example.org' &&
	! printf '%s' "$c_www" | grep -q example.com &&
	printf '%s' "$c_api" | grep -q 'CN *= *api.example.com.*DNS:api.example.com, DNS:\*.example.com' &&
	printf '%s' "$c_sub" | grep -q 'CN *= *api.example.com'; then
	pass gateway_https_sni_picks_listener_certificate
else
	fail gateway_https_sni_picks_listener_certificate "www.example.org got: $c_www; api.example.com got: $c_api; deep.sub.example.com got: $c_sub"
fi

# A listener's second certificate: a client whose signature algorithms
# take RSA keys alone gets the RSA one, and its request is served; one
# that takes both got the first (above).
c_rsa=$(tb_exec b sh -c "openssl s_client -connect $NODE_A:8443 -servername www.example.org \
	-sigalgs RSA-PSS+SHA256 </dev/null 2>/dev/null |
	openssl x509 -noout -subject 2>&1" 2>&1 | tr '\n' ' ')
got=$(tb_exec b sh -c "printf 'GET /wwwonly/whoami?rsa HTTP/1.1\r\nHost: www.example.org\r\nConnection: close\r\n\r\n' |
	timeout 10 openssl s_client -quiet -connect $NODE_A:8443 -servername www.example.org \
	-sigalgs RSA-PSS+SHA256 2>/dev/null" 2>&1)
if printf '%s' "$c_rsa" | grep -q 'CN *= *rsa.www.example.org' &&
	printf '%s' "$got" | grep -qE '^pod=mf-pod-b[12] .* path=/wwwonly/whoami\?rsa'; then
	pass gateway_https_second_certificate_for_rsa_clients
else
	fail gateway_https_second_certificate_for_rsa_clients "RSA-only client got: $c_rsa; its request got: $(printf '%s' "$got" | tail -n 2)"
fi

# Each name its listener's routes: /wwwonly is www.example.org's alone.
body=$(outside --cacert "$TL_TMP/www.crt" --resolve "www.example.org:8443:$NODE_A" \
	"https://www.example.org:8443/wwwonly/whoami?www" 2>&1)
c1=$(code --cacert "$TL_TMP/gw.crt" --resolve "api.example.com:8443:$NODE_A" \
	"https://api.example.com:8443/wwwonly/whoami?not-www")
if printf '%s' "$body" | grep -qE '^pod=mf-pod-b[12] .* path=/wwwonly/whoami\?www$' &&
	[ "$c1" = 404 ] && ! seen not-www; then
	pass gateway_https_listener_routes_by_sni
else
	fail gateway_https_listener_routes_by_sni "www.example.org got: $body; api.example.com got $c1 (a pod logged it: $(seen not-www && echo yes || echo no))"
fi

# A request for another host on a connection made for api.example.com.
c1=$(code --cacert "$TL_TMP/gw.crt" --resolve "api.example.com:8443:$NODE_A" \
	-H 'Host: www.example.org' "https://api.example.com:8443/wwwonly/whoami?misdirected")
if [ "$c1" = 421 ] && ! seen misdirected; then
	pass gateway_https_host_not_sni_421
else
	fail gateway_https_host_not_sni_421 "got $c1"
fi

# A name no listener of the port takes: no certificate, no request.
tb_exec b sh -c "openssl s_client -connect $NODE_A:8443 -servername other.org </dev/null" \
	>"$TL_TMP/sni-other.log" 2>&1
c1=$(code -k --resolve "other.org:8443:$NODE_A" "https://other.org:8443/myapi/whoami?tls-other")
if grep -qi 'unrecognized name' "$TL_TMP/sni-other.log" &&
	! grep -q 'BEGIN CERTIFICATE' "$TL_TMP/sni-other.log" &&
	[ "$c1" = 000 ] && ! seen tls-other; then
	pass gateway_https_unknown_sni_refused
else
	fail gateway_https_unknown_sni_refused "curl got $c1; s_client: $(grep -i -m3 'alert\|error\|subject' "$TL_TMP/sni-other.log" | tr '\n' '|')"
fi

# ---- a TLS listener -----------------------------------------------------------
# Its certificate, then the plaintext relayed unread to a pod of its tcp
# route's backend: the pod answers a Host no HTTP listener takes.
c_tls=$(peer_cert tls.example.com 9443)
body=$(outside --cacert "$TL_TMP/tls.crt" --resolve "tls.example.com:9443:$NODE_A" \
	-H 'Host: tls.test' "https://tls.example.com:9443/myapi/whoami?over-tls" 2>&1)
if printf '%s' "$c_tls" | grep -q 'CN *= *tls.example.com.*DNS:tls.example.com' &&
	printf '%s' "$body" | grep -qE '^pod=mf-pod-b[12] .* path=/myapi/whoami\?over-tls$' &&
	grep -q 'GET /myapi/whoami?over-tls .* host=tls.test$' "$TL_TMP/httpd-b1.log" "$TL_TMP/httpd-b2.log"; then
	pass gateway_tls_listener_terminates_and_relays
else
	fail gateway_tls_listener_terminates_and_relays "certificate: $c_tls; client got: $body; $(grep gateway "$(tl_agent_log mf-node-a)" | tail -n 3)"
fi

# PASSTHROUGH on the same port, picked by the ClientHello's SNI: the
# client verifies pod a1's own certificate, which the gateway does not
# hold, and gets its server's answer; the gateway read no byte of it.
c_pt=$(peer_cert pt.example.com 9443)
body=$(outside --cacert "$TL_TMP/pt.crt" --resolve "pt.example.com:9443:$NODE_A" \
	"https://pt.example.com:9443/" 2>&1)
if printf '%s' "$c_pt" | grep -q 'CN *= *pt.example.com.*DNS:pt.example.com' &&
	printf '%s' "$body" | grep -q "^s_server -accept 10.78.1.11:8443 " &&
	printf '%s' "$body" | grep -q 'Ciphers supported in s_server binary'; then
	pass gateway_tls_passthrough_by_sni
else
	fail gateway_tls_passthrough_by_sni "certificate: $c_pt; client got: $(printf '%s' "$body" | head -c 300); $(grep gateway "$(tl_agent_log mf-node-a)" | tail -n 3)"
fi
# A ClientHello in two segments 200 ms apart: the gateway waits for the
# whole of it (it needs the name) and then passes it on intact.
body=$(tb_exec b "$TL_PY" "$TL_TOOLS/mf_split_hello.py" "$NODE_A" 9443 pt.example.com \
	"$TL_TMP/pt.crt" 20 200 2>&1)
if printf '%s' "$body" | grep -q "^s_server -accept 10.78.1.11:8443 "; then
	pass gateway_tls_passthrough_split_client_hello
else
	fail gateway_tls_passthrough_split_client_hello "client got: $(printf '%s' "$body" | head -c 300)"
fi

# ---- the gateway's identity -----------------------------------------------------
admin_a() { tb_exec a curl -sS -m 5 "http://127.0.0.1:15000$1"; }
admin_a /metrics >"$TL_TMP/metrics" 2>&1
n=$(grep -E "^meshforge_http_route_requests_total\{source=\"$GW_ID\",destination=\"my-api-service\",route=\"edge-gateway-route\",class=\"2xx\"\} " \
	"$TL_TMP/metrics" | awk '{print $2}')
if [ "${n:-0}" -ge 8 ]; then
	pass gateway_metrics_by_identity_and_route
else
	fail gateway_metrics_by_identity_and_route "2xx from $GW_ID by edge-gateway-route: '${n:-none}'"
fi

mark=$(tl_log_mark mf-node-b)
gw_policy 8080 Deny >"$TL_TMP/gw-deny.yaml"
if "$TB" apply "$TL_TMP/gw-deny.yaml" >"$TL_TMP/apply.log" 2>&1; then
	c1=$(code -H 'Host: example.com' "http://$NODE_A:8080/myapi/whoami?denied")
	if { [ "$c1" = 502 ] || [ "$c1" = 503 ]; } && ! seen denied &&
		tl_log_since mf-node-b "$mark" | grep -q "event=denied .*src_spiffe=$GW_ID"; then
		pass gateway_identity_authorized_by_destination
	else
		fail gateway_identity_authorized_by_destination "status $c1; node b: $(tl_log_since mf-node-b "$mark" | grep -c event=denied) denials"
	fi
else
	fail gateway_identity_authorized_by_destination "apply: $(cat "$TL_TMP/apply.log")"
fi

# ---- listeners follow the policy ------------------------------------------------
gw_policy 8081 Allow >"$TL_TMP/gw-8081.yaml"
if "$TB" apply "$TL_TMP/gw-8081.yaml" >"$TL_TMP/apply.log" 2>&1 &&
	wait_for 5 tb_exec b curl -s -o /dev/null -m 1 "http://$NODE_A:8081/" &&
	wait_for 5 sh -c "! '$TB' exec b curl -s -o /dev/null -m 1 http://$NODE_A:8080/"; then
	body=$(outside -H 'Host: example.com' "http://$NODE_A:8081/myapi/whoami?moved" 2>&1)
	if printf '%s' "$body" | grep -q '^pod=mf-pod-b'; then
		pass gateway_listener_follows_apply
	else
		fail gateway_listener_follows_apply "on 8081: $body"
	fi
else
	fail gateway_listener_follows_apply "8081 not served or 8080 still open: $(cat "$TL_TMP/apply.log")"
fi

# ---- Kuma's newer form: MeshHTTPRoute and MeshTCPRoute on the gateway ----------
# The server the MeshExternalService names, on node a's loopback.
tl_bg mf-node-a "$TL_TMP/httpd-ext.log" "$TL_PY" "$TL_TOOLS/mf_httpd.py" \
	--bind 127.0.0.1 --port 18080 --pod mf-ext --node mf-node-a \
	--state-dir "$TL_TMP/httpd-state"
wait_for 10 tb_exec mf-node-a curl -fs -o /dev/null -m 1 http://127.0.0.1:18080/whoami ||
	{ fail httpd_ext "$(cat "$TL_TMP/httpd-ext.log")"; tl_finish; }
gw_policy 8081 Allow new >"$TL_TMP/gw-new.yaml"
if ! "$TB" apply "$TL_TMP/gw-new.yaml" >"$TL_TMP/apply.log" 2>&1; then
	fail gateway_new_form_applied "$(cat "$TL_TMP/apply.log")"
	tl_finish
fi
# in_log POD PATTERN: whether pod POD's server logged a request matching it.
in_log() { grep -qE -- "$2" "$TL_TMP/httpd-$1.log"; }
v1_routed() { outside -H 'Host: api.example.com' "http://$NODE_A:8081/v2/whoami?probe" 2>/dev/null | grep -q pod=mf-pod-b1; }
wait_for 5 v1_routed

# /v2 with the header goes to v2 (b2), without it to v1 (b1): the path as
# sent, the Host the client's.
b_v2=$(outside -H 'Host: api.example.com' -H 'x-version: v2' "http://$NODE_A:8081/v2/whoami?hr-v2" 2>&1)
b_v1=$(outside -H 'Host: api.example.com' "http://$NODE_A:8081/v2/whoami?hr-v1" 2>&1)
if printf '%s' "$b_v2" | grep -qE '^pod=mf-pod-b2 .* path=/v2/whoami\?hr-v2$' &&
	printf '%s' "$b_v1" | grep -qE '^pod=mf-pod-b1 .* path=/v2/whoami\?hr-v1$' &&
	in_log b2 'GET /v2/whoami\?hr-v2 .* host=api.example.com$' &&
	! in_log b1 'hr-v2' && ! in_log b2 'hr-v1'; then
	pass gateway_mesh_http_route_by_header
else
	fail gateway_mesh_http_route_by_header "with x-version: v2: $b_v2; without: $b_v1; $(grep gateway "$(tl_agent_log mf-node-a)" | tail -n 3)"
fi

# The listener takes *.example.com; the route serves api.example.com
# alone.
c1=$(code -H 'Host: www.example.com' "http://$NODE_A:8081/shop/whoami?hr-not-served")
if [ "$c1" = 404 ] && ! seen hr-not-served; then
	pass gateway_mesh_http_route_hostname_not_served_404
else
	fail gateway_mesh_http_route_hostname_not_served_404 "www.example.com got $c1 (a pod logged it: $(seen hr-not-served && echo yes || echo no))"
fi

# hostToBackendHostname: the server named localhost sees Host localhost.
b_ext=$(outside -H 'Host: api.example.com' "http://$NODE_A:8081/ext/whoami?hr-ext" 2>&1)
if printf '%s' "$b_ext" | grep -qE '^pod=mf-ext .* path=/ext/whoami\?hr-ext$' &&
	in_log ext 'GET /ext/whoami\?hr-ext .* host=localhost$'; then
	pass gateway_host_to_backend_hostname
else
	fail gateway_host_to_backend_hostname "client got: $b_ext; server saw: $(grep hr-ext "$TL_TMP/httpd-ext.log"); $(grep gateway "$(tl_agent_log mf-node-a)" | tail -n 3)"
fi

# mfctl effective shows each listener's routes, as the agent serves them;
# the agent's /config_dump holds the MeshHTTPRoute with its gateway
# targetRef.
tl_ctl a effective edge-gateway-1 >"$TL_TMP/effective" 2>&1
admin_a /config_dump >"$TL_TMP/config_dump" 2>&1
if grep -qx 'MeshGateway edge-gateway' "$TL_TMP/effective" &&
	grep -qx 'listener 8081 HTTP \*.example.com: MeshHTTPRoute edge-http\[0\] edge-http\[1\] edge-http\[2\] (3 rules)' "$TL_TMP/effective" &&
	grep -qx 'listener 9000 TCP: MeshTCPRoute edge-tcp-new\[0\] (1 rule), edge-tcp-new\[0\] decides' "$TL_TMP/effective" &&
	! grep -q MeshGatewayRoute "$TL_TMP/effective" &&
	python3 - "$TL_TMP/config_dump" >"$TL_TMP/config_dump.check" 2>&1 <<'PY'
import json, sys
pol = json.load(open(sys.argv[1]))["policies"]
recs = [r for r in pol.get("MeshHTTPRoute", []) if r["policy"] == "edge-http"]
assert len(recs) == 3, recs
for r in recs:
    assert r["targetRef"]["kind"] == "MeshGateway", r
    assert r["targetRef"]["name"] == "edge-gateway", r
tcp = [r for r in pol.get("MeshTCPRoute", []) if r["policy"] == "edge-tcp-new"]
assert len(tcp) == 1 and tcp[0]["targetRef"]["kind"] == "MeshGateway", tcp
PY
then
	pass gateway_routes_shown_by_effective_and_config_dump
else
	fail gateway_routes_shown_by_effective_and_config_dump "effective: $(tr '\n' '|' <"$TL_TMP/effective"); config_dump: $(tr '\n' '|' <"$TL_TMP/config_dump.check")"
fi

# The MeshTCPRoute takes the TCP listener's connections (to a2), in place
# of the MeshGatewayRoute's tcp rule (to the API pods).
b_tcp=$(outside -H 'Host: tcp.test' "http://$NODE_A:9000/tcp/whoami?hr-tcp" 2>&1)
if printf '%s' "$b_tcp" | grep -qE '^pod=mf-pod-a2 .* path=/tcp/whoami\?hr-tcp$' &&
	in_log a2 'GET /tcp/whoami\?hr-tcp .* host=tcp.test$' && ! seen hr-tcp; then
	pass gateway_mesh_tcp_route_on_tcp_listener
else
	fail gateway_mesh_tcp_route_on_tcp_listener "client got: $b_tcp; $(grep gateway "$(tl_agent_log mf-node-a)" | tail -n 3)"
fi

# A MeshExternalService is held to its access for the gateway's identity
# too: once the Mesh forbids it by default, the client gets 403 and the
# server sees nothing.
sed 's|meshExternalServices: {vipRange: 10.96.64.0/24}}|meshExternalServices: {vipRange: 10.96.64.0/24}, routing: {defaultForbidMeshExternalServiceAccess: true}}|' \
	"$TL_TMP/gw-new.yaml" >"$TL_TMP/gw-forbid.yaml"
if "$TB" apply "$TL_TMP/gw-forbid.yaml" >"$TL_TMP/apply.log" 2>&1; then
	forbidden() { [ "$(code -H 'Host: api.example.com' "http://$NODE_A:8081/ext/whoami?hr-probe")" = 403 ]; }
	wait_for 5 forbidden
	c1=$(code -H 'Host: api.example.com' "http://$NODE_A:8081/ext/whoami?hr-forbidden")
	if [ "$c1" = 403 ] && ! grep -q hr-forbidden "$TL_TMP/httpd-ext.log"; then
		pass gateway_external_service_access_held
	else
		fail gateway_external_service_access_held "got $c1 (the server saw it: $(grep -c hr-forbidden "$TL_TMP/httpd-ext.log"))"
	fi
else
	fail gateway_external_service_access_held "apply: $(cat "$TL_TMP/apply.log")"
fi

# MeshAccessLog targeting the MeshGateway: a line per request the gateway
# serves, with what the client sent and got, its own answers (404) too.
{
	cat "$TL_TMP/gw-forbid.yaml"
	cat <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshAccessLog
metadata: {name: edge-log}
spec:
  targetRef: {kind: MeshGateway, name: edge-gateway}
  to:
    - targetRef: {kind: Mesh}
      default:
        backends:
          - file:
              path: $TL_TMP/gateway-access.log
              format:
                plain: '%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %KUMA_SOURCE_SERVICE% %KUMA_DESTINATION_SERVICE%'
YAML
} >"$TL_TMP/gw-log.yaml"
logged() { grep -q "$1" "$TL_TMP/gateway-access.log" 2>/dev/null; }
if "$TB" apply "$TL_TMP/gw-log.yaml" >"$TL_TMP/apply.log" 2>&1; then
	b_log=$(outside -H 'Host: api.example.com' "http://$NODE_A:8081/v2/whoami?gw-logged" 2>&1)
	c1=$(code -H 'Host: www.example.com' "http://$NODE_A:8081/shop/whoami?gw-logged-404")
	if printf '%s' "$b_log" | grep -q '^pod=mf-pod-b1' && [ "$c1" = 404 ] &&
		wait_for 5 logged '^GET /v2/whoami?gw-logged 200 edge-gateway my-api-service$' &&
		wait_for 5 logged '^GET /shop/whoami?gw-logged-404 404 edge-gateway -$'; then
		pass gateway_mesh_access_log_lines
	else
		fail gateway_mesh_access_log_lines "client got: $b_log / $c1; log: $(tail -n 3 "$TL_TMP/gateway-access.log" 2>&1)"
	fi
else
	fail gateway_mesh_access_log_lines "apply: $(cat "$TL_TMP/apply.log")"
fi

# MeshTrace targeting the MeshGateway: a CLIENT span per request the
# gateway serves, at a Zipkin collector in node a's namespace (where the
# gateway's agent runs): the trace the client sent continued, the
# gateway's service and the destination's, the status the client got.
{
	cat "$TL_TMP/gw-log.yaml"
	cat <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrace
metadata: {name: edge-trace}
spec:
  targetRef: {kind: MeshGateway, name: edge-gateway}
  default:
    backends:
      - zipkin: {url: 'http://127.0.0.1:15097/api/v2/spans'}
YAML
} >"$TL_TMP/gw-trace.yaml"
tl_bg mf-node-a "$TL_TMP/zipkin.log" "$TL_PY" "$TL_TOOLS/mf_zipkin.py" \
	--port 15097 --spans "$TL_TMP/spans.out" --pid "$TL_TMP/zipkin.pid"
gw_spans() { [ "$(wc -l <"$TL_TMP/spans.out" 2>/dev/null || echo 0)" -ge 1 ] &&
	grep -q '"gw-traced-404' "$TL_TMP/spans.out"; }
if wait_for 5 grep -q listening "$TL_TMP/zipkin.log" &&
	"$TB" apply "$TL_TMP/gw-trace.yaml" >"$TL_TMP/apply.log" 2>&1; then
	b_tr=$(outside -H 'Host: api.example.com' \
		-H 'x-b3-traceid: 463ac35c9f6413ad48485a3953bb6124' \
		-H 'x-b3-spanid: a2fb4a1d1a96d312' \
		"http://$NODE_A:8081/v2/whoami?gw-traced" 2>&1)
	c1=$(code -H 'Host: www.example.com' -H 'x-request-id: gw-traced-404' \
		"http://$NODE_A:8081/shop/whoami?gw-traced-404")
	wait_for 5 gw_spans
	got=$("$TL_PY" - "$TL_TMP/spans.out" <<'PY' 2>&1
import json, sys
spans = [s for l in open(sys.argv[1]) for s in json.loads(l)]
ok = [s for s in spans if s["tags"]["http.url"].endswith("?gw-traced")]
nf = [s for s in spans if s["tags"]["http.url"].endswith("?gw-traced-404")]
assert len(ok) == 1 and len(nf) == 1, spans
s = ok[0]
assert s["kind"] == "CLIENT" and s["traceId"] == "463ac35c9f6413ad48485a3953bb6124", s
assert s["parentId"] == "a2fb4a1d1a96d312", s
assert s["localEndpoint"]["serviceName"] == "edge-gateway", s
assert s["remoteEndpoint"]["serviceName"] == "my-api-service", s
assert all(x["kind"] == "CLIENT" for x in spans), spans
print(s["tags"]["http.status_code"], nf[0]["tags"]["http.status_code"],
      "remoteEndpoint" in nf[0])
PY
)
	if printf '%s' "$b_tr" | grep -q '^pod=mf-pod-b1' && [ "$c1" = 404 ] &&
		[ "$got" = "200 404 False" ]; then
		pass gateway_mesh_trace_spans
	else
		fail gateway_mesh_trace_spans "client got: $b_tr / $c1; spans: $got"
	fi
else
	fail gateway_mesh_trace_spans "collector: $(cat "$TL_TMP/zipkin.log"); apply: $(cat "$TL_TMP/apply.log")"
fi

tl_finish
