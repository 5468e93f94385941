#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# MeshLoadBalancingStrategy and MeshCircuitBreaker's outlier detection on
# the L7 engine, on the two-node testbed: pod a1 calls the web service
# (protocol http), served by pods b1 and b2 (tests/tools/mf_httpd.py, which
# can make one pod fail or be slow: /podstatus, /podslow).  Asserted by
# which pod answered each request (its body names it) and agent a's
# /metrics:
#  - RingHash on a header sends one header value to one pod 1,000 times
#    out of 1,000, and different values to both pods; Maglev likewise;
#  - with no strategy, requests go by peak-EWMA P2C: a pod 40 ms slower
#    than the other gets under 15% of them where RoundRobin gives it half;
#  - outlier detection: a pod failing 5 times in a row is ejected (no
#    request reaches it for its ejection time), then comes back;
#  - connectionLimits maxRequests 2: of 6 concurrent slow requests, 2 reach
#    the pods and 4 get 503 at once;
#  - connectionLimits maxConnectionPools 1: requests reach one pod only,
#    those the balancer sends to the other get 503.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_http_balance
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

# policy NAME: the shipped mesh, web over HTTP, and web's strategy on
# stdin (a MeshLoadBalancingStrategy default: section, indented).
lbpolicy() {
	{
		tl_web_http
		cat <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshLoadBalancingStrategy
metadata: {name: web-lb}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
YAML
		cat
	} >"$TL_TMP/$1.yaml"
}

lbpolicy ring <<'YAML'
        loadBalancer:
          type: RingHash
          ringHash:
            hashPolicies:
              - type: Header
                header: {name: x-user}
YAML
lbpolicy maglev <<'YAML'
        loadBalancer:
          type: Maglev
          maglev:
            hashPolicies:
              - type: Header
                header: {name: x-user}
YAML
lbpolicy rr <<'YAML'
        loadBalancer:
          type: RoundRobin
YAML
{
	tl_web_http
	cat <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshCircuitBreaker
metadata: {name: web-cb}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        outlierDetection:
          disabled: false
          interval: 1s
          baseEjectionTime: 3s
          maxEjectionPercent: 50
          detectors:
            totalFailures: {consecutive: 5}
YAML
} >"$TL_TMP/cb.yaml"
{
	tl_web_http
	cat <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshCircuitBreaker
metadata: {name: web-cb}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        connectionLimits: {maxRequests: 2}
YAML
} >"$TL_TMP/limits.yaml"

{
	tl_web_http
	cat <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshCircuitBreaker
metadata: {name: web-cb}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        connectionLimits: {maxConnectionPools: 1}
YAML
} >"$TL_TMP/pools.yaml"

tl_bed_up --apply "$TL_TMP/ring.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done

# client PATH N [HEADER]: N requests on one keep-alive connection from
# a1; one line each: "<status> <ms> <first body line>".
cat >"$TL_TMP/client.py" <<'PY'
import http.client, sys, time
path, n = sys.argv[1], int(sys.argv[2])
hdr = {}
if len(sys.argv) > 3:
    k, v = sys.argv[3].split(":", 1)
    hdr[k] = v
c = http.client.HTTPConnection("10.96.0.10", 80, timeout=10)
for i in range(n):
    t0 = time.monotonic()
    try:
        c.request("GET", path.replace("%i", str(i)), headers=hdr)
        r = c.getresponse()
        body = r.read().decode(errors="replace").split("\n")[0]
        status = r.status
    except Exception as e:
        status, body = 0, type(e).__name__
        c.close()
        c = http.client.HTTPConnection("10.96.0.10", 80, timeout=10)
    print(status, int((time.monotonic() - t0) * 1000), body, flush=True)
PY
client() { tb_exec a1 "$TL_PY" "$TL_TMP/client.py" "$@"; }
# pods FILE: the pods that answered, "<count> pod=<pod>" per pod.
pods() { awk '{print $3}' "$1" | grep -o 'pod=mf-pod-b[12]' | sort | uniq -c; }
tl_ctl_both() {
	local n
	for n in a b; do
		tb_exec "mf-node-$n" "$MFCTL" --bpf-root "/sys/fs/bpf/mf-node-$n" \
			--state-dir "$TL_STATE/mf-node-$n/state" --run-dir "$TL_STATE/run" \
			"$@" --wait >>"$TL_TMP/apply.log" 2>&1 ||
			{ fail "mfctl_$*" "$(cat "$TL_TMP/apply.log")"; tl_finish; }
	done
}
apply() {
	"$TB" apply "$TL_TMP/$1.yaml" >"$TL_TMP/apply.log" 2>&1 ||
		{ fail "apply_$1" "$(cat "$TL_TMP/apply.log")"; tl_finish; }
}

# ---- consistent hashing ----------------------------------------------------
for kind in ring maglev; do
	[ "$kind" = maglev ] && apply maglev
	client /whoami 1000 x-user:alice >"$TL_TMP/$kind-alice.out"
	ok=$(grep -c '^200 ' "$TL_TMP/$kind-alice.out")
	npods=$(pods "$TL_TMP/$kind-alice.out" | wc -l)
	# Twenty users: the hash spreads them over both pods.
	: >"$TL_TMP/$kind-users.out"
	for u in $(seq 1 20); do
		client /whoami 3 "x-user:user-$u" >"$TL_TMP/$kind-u.out"
		[ "$(pods "$TL_TMP/$kind-u.out" | wc -l)" = 1 ] || echo split >>"$TL_TMP/$kind-users.out"
		cat "$TL_TMP/$kind-u.out" >>"$TL_TMP/$kind-users.out"
	done
	if [ "$ok" = 1000 ] && [ "$npods" = 1 ] &&
		! grep -q split "$TL_TMP/$kind-users.out" &&
		[ "$(pods "$TL_TMP/$kind-users.out" | wc -l)" = 2 ]; then
		pass "${kind}_same_header_same_endpoint"
	else
		fail "${kind}_same_header_same_endpoint" "alice: $ok ok over $npods pods; users: $(pods "$TL_TMP/$kind-users.out" | tr '\n' ' ')$(grep -c split "$TL_TMP/$kind-users.out") split"
	fi
done

# ---- peak EWMA by default, against RoundRobin --------------------------------
# Before any slow request of another phase: peak EWMA remembers.
apply rr
client /podslow/mf-pod-b1/40 200 >"$TL_TMP/rr.out"
rr_b1=$(grep -c 'pod=mf-pod-b1' "$TL_TMP/rr.out")
tl_ctl_both delete MeshLoadBalancingStrategy web-lb
client /podslow/mf-pod-b1/40 200 >"$TL_TMP/ewma.out"
ewma_b1=$(grep -c 'pod=mf-pod-b1' "$TL_TMP/ewma.out")
p99() { awk '{print $2}' "$1" | sort -n | awk '{v[NR] = $1} END {print v[int(NR * 0.99)]}'; }
tl_log "slow pod b1 (40 ms): RoundRobin sent it $rr_b1/200 (p99 $(p99 "$TL_TMP/rr.out") ms), peak EWMA $ewma_b1/200 (p99 $(p99 "$TL_TMP/ewma.out") ms)"
if [ "$rr_b1" -ge 95 ] && [ "$rr_b1" -le 105 ] && [ "$ewma_b1" -lt 30 ]; then
	pass ewma_avoids_slow_endpoint
else
	fail ewma_avoids_slow_endpoint "RoundRobin sent $rr_b1/200 to the slow pod, peak EWMA $ewma_b1/200"
fi

# ---- outlier detection --------------------------------------------------------
# Round robin: the failing pod gets every other request, whatever its
# latency so far.
apply rr
apply cb
metric() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v m="$1" '$1 == m {print $2; f = 1} END {if (!f) print 0}'
}
e0=$(metric meshforge_outlier_ejections_total)
client /podstatus/mf-pod-b1/500 40 >"$TL_TMP/eject.out"
t_ejected=$(date +%s%N)
failed=$(grep -c '^500 ' "$TL_TMP/eject.out")
# Within the ejection time: b2 alone.
client /podstatus/mf-pod-b1/500 40 >"$TL_TMP/ejected.out"
during=$(grep -c '^500 ' "$TL_TMP/ejected.out")
e1=$(metric meshforge_outlier_ejections_total)
# After it (3 s from the ejection, which came before t_ejected), b1 is back.
sleep "$(awk -v t0="$t_ejected" -v now="$(date +%s%N)" 'BEGIN {s = 3.3 - (now - t0) / 1e9; print (s > 0 ? s : 0)}')"
client /podstatus/mf-pod-b1/500 10 >"$TL_TMP/back.out"
back=$(grep -c '^500 ' "$TL_TMP/back.out")
if [ "$failed" = 5 ] && [ "$during" = 0 ] && [ "$back" -ge 1 ] &&
	[ $((e1 - e0)) = 1 ]; then
	pass endpoint_ejected_and_back
else
	fail endpoint_ejected_and_back "500s: $failed before the ejection (want 5), $during during it (want 0), $back after (want >= 1); ejections $e0 -> $e1"
fi
# ---- connection limits -----------------------------------------------------------
apply limits
o0=$(metric 'meshforge_circuit_breaker_overflows_total{limit="max_requests"}')
tb_exec a1 "$TL_PY" - >"$TL_TMP/limits.out" 2>&1 <<'PY'
import http.client, threading, time
out = []
def one(i):
    c = http.client.HTTPConnection("10.96.0.10", 80, timeout=10)
    t0 = time.monotonic()
    c.request("GET", "/slow/600?limits=%d" % i)
    r = c.getresponse()
    r.read()
    out.append("%d %d" % (r.status, (time.monotonic() - t0) * 1000))
ts = [threading.Thread(target=one, args=(i,)) for i in range(6)]
for t in ts:
    t.start()
    time.sleep(0.05)
for t in ts:
    t.join()
print("\n".join(out))
PY
o1=$(metric 'meshforge_circuit_breaker_overflows_total{limit="max_requests"}')
ok=$(grep -c '^200 ' "$TL_TMP/limits.out")
fast503=$(awk '$1 == 503 && $2 < 300' "$TL_TMP/limits.out" | wc -l)
seen=$(cat "$TL_TMP/httpd-b1.log" "$TL_TMP/httpd-b2.log" | grep -c 'GET /slow/600?limits=')
if [ "$ok" = 2 ] && [ "$fast503" = 4 ] && [ "$seen" = 2 ] && [ $((o1 - o0)) = 4 ]; then
	pass max_requests_answers_503
else
	fail max_requests_answers_503 "$(tr '\n' '|' <"$TL_TMP/limits.out"); pods saw $seen; overflows $o0 -> $o1"
fi

# ---- connection pools ----------------------------------------------------------------
# maxConnectionPools 1, round robin: the first request opens the one
# pool (a1's identity to one pod); a request the balancer sends to the
# other pod would need a second one: 503, counted.  Every request here on
# a client connection of its own, so only the agent's pool carries one
# from the next.
apply rr
apply pools
o0=$(metric 'meshforge_circuit_breaker_overflows_total{limit="max_connection_pools"}')
tb_exec a1 "$TL_PY" - >"$TL_TMP/pools.out" 2>&1 <<'PY'
import http.client
for i in range(10):
    c = http.client.HTTPConnection("10.96.0.10", 80, timeout=10)
    c.request("GET", "/pools/whoami")
    r = c.getresponse()
    print(r.status, r.read().decode(errors="replace").split("\n")[0])
    c.close()
PY
o1=$(metric 'meshforge_circuit_breaker_overflows_total{limit="max_connection_pools"}')
ok=$(grep -c '^200 ' "$TL_TMP/pools.out")
n503=$(grep -c '^503 ' "$TL_TMP/pools.out")
npods=$(grep '^200 ' "$TL_TMP/pools.out" | grep -o 'pod=mf-pod-b[12]' | sort -u | wc -l)
seen=$(cat "$TL_TMP/httpd-b1.log" "$TL_TMP/httpd-b2.log" | grep -c 'GET /pools/whoami')
if [ "$npods" = 1 ] && [ "$n503" -ge 3 ] && [ $((ok + n503)) = 10 ] &&
	[ "$seen" = "$ok" ] && [ $((o1 - o0)) = "$n503" ]; then
	pass max_connection_pools_answers_503
else
	fail max_connection_pools_answers_503 "$(tr '\n' '|' <"$TL_TMP/pools.out"); pods saw $seen; overflows $o0 -> $o1"
fi

tl_finish
