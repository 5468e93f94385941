#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# MeshHealthCheck's active health checks on the two-node testbed: pod a1
# (service client) calls the web service, served by pods b1 and b2
# (tests/tools/mf_httpd.py).  Agent a probes web's endpoints over the
# tunnel with a1's identity.  Asserted by what the pods saw, what the
# client got and agent a's /metrics:
#  - HTTP check: each pod answers GET /healthz/whoami from the checker,
#    every 1 s; both are healthy;
#  - b1's server dies: the check finds it unhealthy (2 failures) before
#    any client request went to it, and then 100 requests all get 200,
#    from b2 (L7);
#  - the same on the L4 path (web as protocol tcp) with a TCP check that
#    sends an HTTP/1.0 request and looks for "200" then "pod=": 20
#    connections, all answered by b2;
#  - b1 comes back: one success makes it healthy, and it takes requests
#    again;
#  - the counts of checks and transitions on /metrics match.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_health_check
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

# hc FILE PROTO: the shipped mesh (web over PROTO) with a1's health check
# of web, whose default: section comes on stdin (indented).
hc() {
	{
		if [ "$2" = http ]; then
			tl_web_http
		else
			cat "$TL_TOP/tests/integration/policy.yaml"
		fi
		cat <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshHealthCheck
metadata: {name: web-hc}
spec:
  targetRef: {kind: MeshService, name: client}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        interval: 1s
        timeout: 500ms
        unhealthyThreshold: 2
        healthyThreshold: 1
YAML
		cat
	} >"$TL_TMP/$1.yaml"
}
hc http http <<'YAML'
        http:
          path: /healthz/whoami
          expectedStatuses: [200]
YAML
send=$(printf 'GET /healthz/whoami HTTP/1.0\r\n\r\n' | base64 -w0)
hc tcp tcp <<YAML
        tcp:
          send: $send
          receive: [$(printf 200 | base64 -w0), $(printf pod= | base64 -w0)]
YAML

tl_bed_up --apply "$TL_TMP/http.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done

apply() {
	"$TB" apply "$TL_TMP/$1.yaml" >"$TL_TMP/apply.log" 2>&1 ||
		{ fail "apply_$1" "$(cat "$TL_TMP/apply.log")"; tl_finish; }
}
metric() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v m="$1" '$1 == m {print $2; f = 1} END {if (!f) print 0}'
}
unhealthy() { [ "$(metric meshforge_health_unhealthy_endpoints)" = "$1" ]; }
probes() { grep -c 'GET /healthz/whoami' "$TL_TMP/httpd-$1.log"; }
# client N: N requests from a1, one line each: "<status> <first body line>".
client() {
	tb_exec a1 "$TL_PY" - "$1" <<'PY'
import http.client, sys
for i in range(int(sys.argv[1])):
    try:
        c = http.client.HTTPConnection("10.96.0.10", 80, timeout=10)
        c.request("GET", "/whoami")
        r = c.getresponse()
        print(r.status, r.read().decode(errors="replace").split("\n")[0], flush=True)
        c.close()
    except Exception as e:
        print(0, type(e).__name__, flush=True)
PY
}
from_pod() { grep -c "^200 pod=mf-pod-$1 " "$2"; }

# ---- healthy ------------------------------------------------------------------
# Over 3 s from now (the checks began with the policy, before the
# servers did): a probe a second to each.
q1=$(probes b1)
q2=$(probes b2)
k0=$(metric 'meshforge_health_checks_total{result="success"}')
sleep 3
p1=$(($(probes b1) - q1))
p2=$(($(probes b2) - q2))
ok0=$(($(metric 'meshforge_health_checks_total{result="success"}') - k0))
if [ "$p1" -ge 2 ] && [ "$p1" -le 4 ] && [ "$p2" -ge 2 ] && [ "$p2" -le 4 ] &&
	[ "$ok0" -ge $((p1 + p2 - 2)) ] && unhealthy 0; then
	pass http_check_probes_every_endpoint
else
	fail http_check_probes_every_endpoint "in 3 s b1 saw $p1 probes, b2 $p2 (want 2..4 each); $ok0 successes counted; unhealthy $(metric meshforge_health_unhealthy_endpoints)"
fi

# ---- b1 dies: out before any request fails on it ----------------------------------
t0=$(metric 'meshforge_health_transitions_total{health="unhealthy"}')
f0=$(metric 'meshforge_health_checks_total{result="failure"}')
pkill -f -- "--pod mf-pod-b1 " || true
b1_gone() { ! tb_exec mf-node-b curl -fs -o /dev/null -m 1 http://10.78.2.11:8080/whoami; }
wait_for 5 b1_gone || { fail b1_stops "b1's server still answers"; tl_finish; }
t_kill=$(date +%s%N)
if wait_for 6 unhealthy 1; then
	ms=$((($(date +%s%N) - t_kill) / 1000000))
	tl_log "b1 found unhealthy ${ms} ms after its server died"
	client 100 >"$TL_TMP/l7.out"
	ok=$(grep -c '^200 ' "$TL_TMP/l7.out")
	b2=$(from_pod b2 "$TL_TMP/l7.out")
	t1=$(metric 'meshforge_health_transitions_total{health="unhealthy"}')
	f1=$(metric 'meshforge_health_checks_total{result="failure"}')
	if [ "$ok" = 100 ] && [ "$b2" = 100 ] && [ $((t1 - t0)) = 1 ] &&
		[ $((f1 - f0)) -ge 2 ]; then
		pass dead_endpoint_removed_before_requests_fail
	else
		fail dead_endpoint_removed_before_requests_fail "$ok/100 answered, $b2 by b2; unhealthy transitions $t0 -> $t1, failures $f0 -> $f1"
	fi
else
	fail dead_endpoint_removed_before_requests_fail "b1 not found unhealthy within 6 s"
fi

# ---- the same on the L4 path, with a TCP check ----------------------------------------
apply tcp
# A new check (another conf): b1 is healthy until checked twice.
sleep 1
if wait_for 6 unhealthy 1; then
	: >"$TL_TMP/l4.out"
	for _ in $(seq 1 20); do
		tb_exec a1 curl -sS -m 5 http://10.96.0.10/whoami >>"$TL_TMP/l4.out" 2>&1 ||
			echo "curl failed" >>"$TL_TMP/l4.out"
	done
	b2=$(grep -c '^pod=mf-pod-b2 ' "$TL_TMP/l4.out")
	tcp_probes=$(grep -c 'GET /healthz/whoami HTTP/1.0' "$TL_TMP/httpd-b2.log")
	if [ "$b2" = 20 ] && [ "$tcp_probes" -ge 1 ]; then
		pass l4_dead_endpoint_removed
	else
		fail l4_dead_endpoint_removed "$b2/20 connections answered by b2 ($(sort "$TL_TMP/l4.out" | uniq -c | tr '\n' ' ')); b2 saw $tcp_probes TCP probes"
	fi
else
	fail l4_dead_endpoint_removed "b1 not found unhealthy by the TCP check within 6 s"
fi

# ---- b1 comes back ---------------------------------------------------------------------
h0=$(metric 'meshforge_health_transitions_total{health="healthy"}')
tl_httpd b1 || { fail httpd_b1_again "server did not start"; tl_finish; }
if wait_for 5 unhealthy 0; then
	: >"$TL_TMP/back.out"
	for _ in $(seq 1 20); do
		tb_exec a1 curl -sS -m 5 http://10.96.0.10/whoami >>"$TL_TMP/back.out" 2>&1
	done
	b1=$(grep -c '^pod=mf-pod-b1 ' "$TL_TMP/back.out")
	h1=$(metric 'meshforge_health_transitions_total{health="healthy"}')
	if [ "$b1" -ge 5 ] && [ $((h1 - h0)) = 1 ]; then
		pass endpoint_healthy_again_takes_traffic
	else
		fail endpoint_healthy_again_takes_traffic "b1 answered $b1/20 connections (want >= 5); healthy transitions $h0 -> $h1"
	fi
else
	fail endpoint_healthy_again_takes_traffic "b1 not healthy again within 5 s"
fi

tl_finish
