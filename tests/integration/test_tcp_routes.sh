#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Routes of a TCP service on the two-node testbed: the shipped policy, web
# left `protocol: tcp`, b1 tagged version v1 and b2 version v2.  Each curl
# is a connection of its own, which the agent relays as bytes to the
# endpoint its route picked for it:
#  - a Kuma TrafficRoute splitting web 90/10 sends 90 and 10 of 100
#    connections to v1 and v2 (within 5);
#  - a MeshTCPRoute, which goes before the TrafficRoute, sends all of them
#    to v2;
#  - a MeshTCPRoute whose backendRef is a MeshMultiZoneService spreads them
#    over the endpoints of the MeshServices its labels select: b2 (on node
#    b) and a2 (on node a), each a MeshService's, and never b1.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_tcp_routes
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

VIP=10.96.0.10
sed -e '/  ip: 10.78.2.11$/a\  tags: {version: v1}' \
	-e '/  ip: 10.78.2.12$/a\  tags: {version: v2}' \
	"$TL_TOP/tests/integration/policy.yaml" >"$TL_TMP/policy.yaml"
[ "$(grep -c 'tags: {version: v[12]}' "$TL_TMP/policy.yaml")" -eq 2 ] ||
	{ fail policy_tags "the b1 and b2 Workloads of policy.yaml were not found"; tl_finish; }
grep -q 'port: 80, protocol: tcp}' "$TL_TMP/policy.yaml" ||
	{ fail policy_tcp "web is not a TCP service in policy.yaml"; tl_finish; }

tl_bed_up --apply "$TL_TMP/policy.yaml" --agents
for p in b1 b2 a2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done

# count N: N connections to the VIP, one request each; prints "b1 b2".
count() {
	tb_exec a1 bash -c 'for i in $(seq '"$1"'); do curl -sS -m 5 http://'"$VIP"'/whoami; done' \
		>"$TL_TMP/count.out" 2>&1
	echo "$(grep -c '^pod=mf-pod-b1 ' "$TL_TMP/count.out") $(grep -c '^pod=mf-pod-b2 ' "$TL_TMP/count.out")" \
		"$(grep -c '^pod=mf-pod-a2 ' "$TL_TMP/count.out")"
}

cat >"$TL_TMP/split.yaml" <<'EOF'
apiVersion: kuma.io/v1alpha1
kind: TrafficRoute
mesh: default
metadata: {name: web-split}
spec:
  sources: [{match: {kuma.io/service: '*'}}]
  destinations: [{match: {kuma.io/service: web}}]
  conf:
    split:
      - {weight: 90, destination: {kuma.io/service: web, version: v1}}
      - {weight: 10, destination: {kuma.io/service: web, version: v2}}
EOF
if "$TB" apply "$TL_TMP/split.yaml" >"$TL_TMP/apply.log" 2>&1; then
	read -r n1 n2 _ <<<"$(count 100)"
	tl_log "TrafficRoute over 100 connections: v1 (b1) $n1, v2 (b2) $n2"
	if [ $((n1 + n2)) -eq 100 ] && [ "$n2" -ge 5 ] && [ "$n2" -le 15 ]; then
		pass tcp_traffic_route_split_per_connection
	else
		fail tcp_traffic_route_split_per_connection "v1 $n1, v2 $n2 (want 90 and 10, within 5)"
	fi
else
	fail tcp_traffic_route_split_per_connection "apply: $(cat "$TL_TMP/apply.log")"
fi

cat >"$TL_TMP/tcproute.yaml" <<'EOF'
apiVersion: kuma.io/v1alpha1
kind: MeshTCPRoute
metadata: {name: web-to-v2}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      rules:
        - default:
            backendRefs:
              - {kind: MeshServiceSubset, name: web, tags: {version: v2}}
EOF
if "$TB" apply "$TL_TMP/tcproute.yaml" >"$TL_TMP/apply2.log" 2>&1; then
	read -r n1 n2 _ <<<"$(count 20)"
	if [ "$n1" -eq 0 ] && [ "$n2" -eq 20 ]; then
		pass tcp_mesh_tcp_route_backend
	else
		fail tcp_mesh_tcp_route_backend "v1 $n1, v2 $n2 (want 0 and 20)"
	fi
else
	fail tcp_mesh_tcp_route_backend "apply: $(cat "$TL_TMP/apply2.log")"
fi

# b2 and a2 leave web for MeshServices of their own, both labelled
# group: backend, which the MeshMultiZoneService selects.
cat >"$TL_TMP/mzs.yaml" <<'EOF'
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: b2, labels: {app: backend-b}}
spec: {node: mf-node-b, ip: 10.78.2.12, port: 8080,
       identity: "spiffe://mesh.local/ns/default/sa/web"}
---
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: a2, labels: {app: backend-a}}
spec: {node: mf-node-a, ip: 10.78.1.12, port: 8080,
       identity: "spiffe://mesh.local/ns/default/sa/intruder"}
---
apiVersion: kuma.io/v1alpha1
kind: MeshService
metadata: {name: backend-b, labels: {group: backend}}
spec:
  selector: {dataplaneLabels: {matchLabels: {app: backend-b}}}
  ports: [{port: 8080, targetPort: 8080}]
---
apiVersion: kuma.io/v1alpha1
kind: MeshService
metadata: {name: backend-a, labels: {group: backend}}
spec:
  selector: {dataplaneLabels: {matchLabels: {app: backend-a}}}
  ports: [{port: 8080, targetPort: 8080}]
---
apiVersion: kuma.io/v1alpha1
kind: MeshMultiZoneService
metadata: {name: backend}
spec:
  selector: {meshService: {matchLabels: {group: backend}}}
  ports: [{port: 8080}]
---
apiVersion: kuma.io/v1alpha1
kind: MeshTCPRoute
metadata: {name: web-to-v2}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      rules:
        - default:
            backendRefs:
              - {kind: MeshMultiZoneService, name: backend, port: 8080}
EOF
if "$TB" apply "$TL_TMP/mzs.yaml" >"$TL_TMP/apply3.log" 2>&1; then
	read -r n1 n2 na2 <<<"$(count 20)"
	tl_log "MeshMultiZoneService over 20 connections: b1 $n1, b2 $n2, a2 $na2"
	if [ "$n1" -eq 0 ] && [ $((n2 + na2)) -eq 20 ] && [ "$n2" -ge 5 ] && [ "$na2" -ge 5 ]; then
		pass tcp_route_backend_multi_zone_service
	else
		fail tcp_route_backend_multi_zone_service "b1 $n1, b2 $n2, a2 $na2 (want 0, and 20 between b2 and a2, 5 or more each)"
	fi
else
	fail tcp_route_backend_multi_zone_service "apply: $(cat "$TL_TMP/apply3.log")"
fi

tl_finish
