#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# MeshRetry, MeshTimeout and MeshFaultInjection on the L7 engine, on the
# two-node testbed: pod a1 calls the web service (protocol http), served
# by pods b1 and b2 whose server fails on demand (tests/tools/mf_httpd.py:
# /flaky, /status, /slow, /hang, /reset).  Asserted by what the client got,
# what the pods logged and agent a's /metrics:
#  - a retry turns a single 503 into a 200, and a reset into a 200; the
#    pods saw exactly the tries the agent made;
#  - a POST is not retried (MeshRetry names no HttpMethodPost);
#  - requestTimeout answers 504 at its time, within 50 ms, naming it;
#    requestHeadersTimeout answers a head not whole in time with 408;
#  - perTryTimeout: each try ends at its time, then 504;
#  - streamIdleTimeout answers 504 at its time when the upstream is
#    silent, and spares a shorter wait;
#  - a retry budget of 0.2 and 1 a second (agent flag --retry-budget)
#    holds the upstream tries of a storm of 503s within 1.2 times the
#    requests and 10;
#  - a MeshFaultInjection abort of 50% answers 50% +-5% of 1,000 requests
#    with its status, and none of those reaches a pod; a delay holds a
#    request for its time; a response bandwidth paces the response;
#  - Kuma 3.0's inbound `rules`: a fault for the client's SPIFFE ID (and not
#    another's), a requestTimeout for the SNI the tunnel asks for;
#  - a TCP connection with no byte either way for idleTimeout is closed;
#  - tcp.maxConnectAttempt: a connect that fails (connectionTimeout) goes to
#    another endpoint, and every connection is answered.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_http_resilience
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

# policy NAME: the shipped mesh, web over HTTP, and the documents on stdin.
policy() {
	{ tl_web_http; cat; } >"$TL_TMP/$1.yaml"
}

policy retry <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshRetry
metadata: {name: web-retry}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        http:
          numRetries: 2
          backOff: {baseInterval: 10ms, maxInterval: 50ms}
          retryOn: [5xx, Reset]
---
apiVersion: kuma.io/v1alpha1
kind: MeshTimeout
metadata: {name: web-timeout}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        http:
          requestTimeout: 500ms
          requestHeadersTimeout: 300ms
YAML
policy pertry <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshRetry
metadata: {name: web-retry}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        http:
          numRetries: 1
          perTryTimeout: 300ms
          backOff: {baseInterval: 1ms, maxInterval: 1ms}
          retryOn: [5xx]
YAML
policy storm <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshRetry
metadata: {name: web-retry}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        http:
          numRetries: 3
          backOff: {baseInterval: 1ms, maxInterval: 2ms}
          retryOn: ["503"]
YAML
policy fault <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshFaultInjection
metadata: {name: web-fault}
spec:
  targetRef: {kind: MeshService, name: web}
  from:
    - targetRef: {kind: Mesh}
      default:
        http:
          - abort: {httpStatus: 418, percentage: 50}
YAML
policy delay <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshFaultInjection
metadata: {name: web-delay}
spec:
  targetRef: {kind: MeshService, name: web}
  from:
    - targetRef: {kind: Mesh}
      default:
        http:
          - delay: {value: 300ms, percentage: 100}
            responseBandwidth: {limit: 800kbps, percentage: 100}
YAML

# The budget of this run: 0.2 of the requests and 1 a second, so a storm's
# retries are mostly the ratio's.
export MF_AGENT_ARGS="--retry-budget 0.2,1"
tl_bed_up --apply "$TL_TMP/retry.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done

# client ARGS...: the client in pod a1; one line per request:
# "<status> <ms> <body's first line>".
client() { tb_exec a1 "$TL_PY" "$TL_TMP/client.py" "$@"; }
cat >"$TL_TMP/client.py" <<'PY'
import http.client, sys, time
method, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    c = http.client.HTTPConnection("10.96.0.10", 80, timeout=10)
    t0 = time.monotonic()
    try:
        c.request(method, path.replace("%i", str(i)),
                  body=b"x" * 100 if method == "POST" else None)
        r = c.getresponse()
        body = r.read().decode(errors="replace").split("\n")[0]
        status = r.status
    except Exception as e:
        status, body = 0, type(e).__name__
    print(status, int((time.monotonic() - t0) * 1000), body, flush=True)
    c.close()
PY
# seen PATTERN: requests the pods logged whose line matches PATTERN.
seen() { cat "$TL_TMP/httpd-b1.log" "$TL_TMP/httpd-b2.log" | grep -c -- "$1"; }
metric() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v m="$1" '$1 == m {print $2; f = 1} END {if (!f) print 0}'
}

# ---- retries -------------------------------------------------------------
r0=$(metric meshforge_http_retries_total)
out=$(client GET /flaky/once/1/503 1)
if [ "${out%% *}" = 200 ] && [ "$(seen 'GET /flaky/once/')" = 2 ]; then
	pass retry_turns_503_into_200
else
	fail retry_turns_503_into_200 "client: $out; pods saw $(seen 'GET /flaky/once/')"
fi
out=$(client GET /reset 1)
# Every try of /reset is reset: the client gets 502 after 3 tries.
if [ "${out%% *}" = 502 ] && [ "$(seen '/reset')" = 3 ]; then
	pass reset_retried_numretries_times
else
	fail reset_retried_numretries_times "client: $out; pods saw $(seen '/reset')"
fi
out=$(client POST /flaky/post/1/503 1)
if [ "${out%% *}" = 503 ] && [ "$(seen 'POST /flaky/post/')" = 1 ]; then
	pass post_not_retried
else
	fail post_not_retried "client: $out; pods saw $(seen 'POST /flaky/post/')"
fi
r1=$(metric meshforge_http_retries_total)
if [ $((r1 - r0)) = 3 ]; then
	pass retries_counted_in_metrics
else
	fail retries_counted_in_metrics "meshforge_http_retries_total went $r0 -> $r1, want +3"
fi

# timeout_504 CASE PATH LO HI REASON: a GET of PATH is answered 504,
# REASON (three words) in its body, LO to HI ms after it was sent.
timeout_504() {
	local name=$1 path=$2 lo=$3 hi=$4 why=$5 out
	out=$(client GET "$path" 1)
	set -- $out
	if [ "$1" = 504 ] && [ "$2" -ge "$lo" ] && [ "$2" -le "$hi" ] &&
		[ "$3 $4 $5" = "$why" ]; then
		pass "$name"
	else
		fail "$name" "client: $out (want 504 at $lo..$hi ms)"
	fi
}

# ---- requestTimeout --------------------------------------------------------
timeout_504 request_timeout_504_in_time /slow/3000 500 550 "upstream request timeout"

# drop KIND NAME: deletes a policy on both nodes, once the agents serve
# the policy without it.
drop() {
	local n
	for n in a b; do
		tb_exec "mf-node-$n" "$MFCTL" --bpf-root "/sys/fs/bpf/mf-node-$n" \
			--state-dir "$TL_STATE/mf-node-$n/state" --run-dir "$TL_STATE/run" \
			delete "$1" "$2" --wait >>"$TL_TMP/apply.log" 2>&1 ||
			{ fail "delete_$2" "$(cat "$TL_TMP/apply.log")"; tl_finish; }
	done
}

# ---- requestHeadersTimeout: a head not whole in time gets 408 ------------------
out=$(tb_exec a1 "$TL_PY" - <<'PY'
import socket, time
s = socket.create_connection(("10.96.0.10", 80), timeout=10)
t0 = time.monotonic()
s.sendall(b"GET /whoami HTTP/1.1\r\nHost: web\r\n")
got = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    got += b
print(got.split(b" ")[1].decode() if got else "none", int((time.monotonic() - t0) * 1000))
PY
)
set -- $out
if [ "$1" = 408 ] && [ "$2" -ge 300 ] && [ "$2" -le 400 ]; then
	pass request_headers_timeout_408_in_time
else
	fail request_headers_timeout_408_in_time "client: $out (want 408 at 300..400 ms)"
fi

# ---- perTryTimeout -----------------------------------------------------------
drop MeshTimeout web-timeout
"$TB" apply "$TL_TMP/pertry.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_pertry "$(cat "$TL_TMP/apply.log")"; tl_finish; }
out=$(client GET /hang 1)
set -- $out
# Two tries of 300 ms each and a back off of at most 1 ms.
if [ "$1" = 504 ] && [ "$2" -ge 600 ] && [ "$2" -le 651 ] &&
	[ "$(seen '/hang')" = 2 ]; then
	pass per_try_timeout_each_try_in_time
else
	fail per_try_timeout_each_try_in_time "client: $out (want 504 at 600..651 ms); pods saw $(seen '/hang')"
fi

# ---- streamIdleTimeout: a stream with no byte either way for its time ---------
# The retries' per-try timeout would end the try first: they go for this.
drop MeshRetry web-retry
policy streamidle <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshTimeout
metadata: {name: web-stream-idle}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        http:
          requestTimeout: 10s
          streamIdleTimeout: 300ms
YAML
"$TB" apply "$TL_TMP/streamidle.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_streamidle "$(cat "$TL_TMP/apply.log")"; tl_finish; }
timeout_504 stream_idle_timeout_504_in_time /slow/3000 300 350 "stream idle timeout"
out=$(client GET /slow/150 1)
if [ "${out%% *}" = 200 ]; then
	pass stream_idle_timeout_spares_a_shorter_wait
else
	fail stream_idle_timeout_spares_a_shorter_wait "client: $out (want 200)"
fi
# The delay fault below holds a request longer than this.
drop MeshTimeout web-stream-idle

# ---- retry budget --------------------------------------------------------------
"$TB" apply "$TL_TMP/storm.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_storm "$(cat "$TL_TMP/apply.log")"; tl_finish; }
b0=$(metric meshforge_http_retry_budget_exhausted_total)
client GET /status/503?storm=%i 200 >"$TL_TMP/storm.out"
tries=$(seen 'GET /status/503?storm=')
got503=$(grep -c '^503 ' "$TL_TMP/storm.out")
b1=$(metric meshforge_http_retry_budget_exhausted_total)
# Without the budget: 800 tries.  With it: 200, plus 0.2 of them and 1 a
# second over the 10 s window.
if [ "$got503" = 200 ] && [ "$tries" -ge 200 ] && [ "$tries" -le 250 ] &&
	[ $((b1 - b0)) -gt 0 ]; then
	pass retry_budget_holds_a_storm
else
	fail retry_budget_holds_a_storm "503s $got503/200, pods saw $tries tries (want 200..250), budget refusals $b0 -> $b1"
fi

# ---- fault injection ---------------------------------------------------------
drop MeshRetry web-retry
"$TB" apply "$TL_TMP/fault.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_fault "$(cat "$TL_TMP/apply.log")"; tl_finish; }
f0=$(metric 'meshforge_http_local_replies_total{reason="fault"}')
client GET '/whoami?fault=%i' 1000 >"$TL_TMP/fault.out"
aborted=$(grep -c '^418 ' "$TL_TMP/fault.out")
ok=$(grep -c '^200 ' "$TL_TMP/fault.out")
reached=$(seen 'GET /whoami?fault=')
f1=$(metric 'meshforge_http_local_replies_total{reason="fault"}')
if [ "$aborted" -ge 450 ] && [ "$aborted" -le 550 ] &&
	[ $((aborted + ok)) = 1000 ] && [ "$reached" = "$ok" ] &&
	[ $((f1 - f0)) = "$aborted" ]; then
	pass fault_abort_50_percent
else
	fail fault_abort_50_percent "418: $aborted, 200: $ok of 1000; pods saw $reached; metric $f0 -> $f1"
fi
drop MeshFaultInjection web-fault
"$TB" apply "$TL_TMP/delay.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_delay "$(cat "$TL_TMP/apply.log")"; tl_finish; }
client POST /echo 3 >"$TL_TMP/delay.out"
body=$(printf 'x%.0s' $(seq 100))
if [ "$(awk -v b="$body" '$1 == 200 && $2 >= 300 && $2 <= 400 && $3 == b' \
	"$TL_TMP/delay.out" | wc -l)" = 3 ]; then
	pass fault_delay_holds_request
else
	fail fault_delay_holds_request "$(tr '\n' '|' <"$TL_TMP/delay.out")"
fi
# 200,000 bytes at 800 kbit/s: 2 s, after the 300 ms delay.
out=$(tb_exec a1 curl -sS -m 10 -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
	http://10.96.0.10/bytes/200000 2>&1)
set -- $out
if [ "$1" = 200 ] && [ "$2" = 200000 ] &&
	awk -v t="$3" 'BEGIN {exit !(t >= 2.1 && t <= 2.9)}'; then
	pass fault_response_bandwidth
else
	fail fault_response_bandwidth "curl: $out (want 200, 200000 bytes in 2.1..2.9 s)"
fi

# ---- Kuma 3.0's inbound `rules`, matched on the peer ------------------------------
# web's own MeshTimeout and MeshFaultInjection, matched on the SPIFFE ID the
# client pod speaks as and on the SNI its tunnel asks for (the service's
# name); a rule for another identity must not touch a1's requests.
drop MeshFaultInjection web-delay
policy rules <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshFaultInjection
metadata: {name: web-rules-fault}
spec:
  targetRef: {kind: MeshService, name: web}
  rules:
    - matches:
        - spiffeID: {type: Exact, value: "spiffe://mesh.local/ns/default/sa/intruder"}
      default:
        http:
          - abort: {httpStatus: 503, percentage: 100}
    - matches:
        - spiffeID: {type: Prefix, value: "spiffe://mesh.local/ns/default/sa/cli"}
      default:
        http:
          - abort: {httpStatus: 418, percentage: 100}
---
apiVersion: kuma.io/v1alpha1
kind: MeshTimeout
metadata: {name: web-rules-timeout}
spec:
  targetRef: {kind: MeshService, name: web}
  rules:
    - matches:
        - sni: {type: Exact, value: web}
      default:
        http: {requestTimeout: 400ms}
YAML
"$TB" apply "$TL_TMP/rules.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_rules "$(cat "$TL_TMP/apply.log")"; tl_finish; }
n0=$(seen 'GET /whoami?rules=')
client GET '/whoami?rules=%i' 20 >"$TL_TMP/rules.out"
if [ "$(grep -c '^418 ' "$TL_TMP/rules.out")" = 20 ] &&
	[ "$(seen 'GET /whoami?rules=')" = "$n0" ]; then
	pass rules_fault_by_spiffe_id
else
	fail rules_fault_by_spiffe_id "$(sort "$TL_TMP/rules.out" | uniq -c | head -5 | tr '\n' '|'); pods saw $(seen 'GET /whoami?rules=')"
fi
drop MeshFaultInjection web-rules-fault
# No MeshTimeout of the source's is left: the rule's 400 ms alone.
out=$(client GET /slow/3000 1)
set -- $out
if [ "$1" = 504 ] && [ "$2" -ge 400 ] && [ "$2" -le 450 ]; then
	pass rules_timeout_by_sni
else
	fail rules_timeout_by_sni "client: $out (want 504 at 400..450 ms)"
fi
drop MeshTimeout web-rules-timeout

# ---- a TCP connection's idleTimeout --------------------------------------------
{
	cat "$TL_TOP/tests/integration/policy.yaml"
	cat <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshTimeout
metadata: {name: web-idle}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        idleTimeout: 1s
        connectionTimeout: 300ms
---
# A third endpoint of web on a node nobody answers for: its connects
# time out.
apiVersion: meshforge.io/v1alpha1
kind: Node
metadata: {name: mf-node-gone}
spec: {address: 10.77.0.99}
---
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: gone1}
spec:
  node: mf-node-gone
  ip: 10.78.9.11
  port: 8080
  service: web
  identity: "spiffe://mesh.local/ns/default/sa/web"
---
apiVersion: kuma.io/v1alpha1
kind: MeshRetry
metadata: {name: web-retry}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        tcp: {maxConnectAttempt: 3}
---
apiVersion: kuma.io/v1alpha1
kind: MeshLoadBalancingStrategy
metadata: {name: web-lb}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        loadBalancer: {type: RoundRobin}
YAML
} >"$TL_TMP/idle.yaml"
"$TB" apply "$TL_TMP/idle.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_idle "$(cat "$TL_TMP/apply.log")"; tl_finish; }
i0=$(metric 'meshforge_timeouts_total{timeout="tcp_idle"}')
out=$(tb_exec a1 "$TL_PY" - <<'PY'
import socket, time
s = socket.create_connection(("10.96.0.10", 80), timeout=10)
s.sendall(b"GET /whoami HTTP/1.1\r\nHost: web\r\n\r\n")
got = b""
while b"\r\n\r\n" not in got:
    got += s.recv(4096)
head, body = got.split(b"\r\n\r\n", 1)
n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
     if l.lower().startswith(b"content-length:")][0]
while len(body) < n:
    body += s.recv(4096)
t0 = time.monotonic()
try:
    end = "eof" if s.recv(4096) == b"" else "data"
except ConnectionResetError:
    end = "reset"
print(got.split(b" ")[1].decode(), end, int((time.monotonic() - t0) * 1000))
PY
)
i1=$(metric 'meshforge_timeouts_total{timeout="tcp_idle"}')
set -- $out
if [ "$1" = 200 ] && [ "$2" != data ] && [ "$3" -ge 1000 ] && [ "$3" -le 1300 ] &&
	[ $((i1 - i0)) = 1 ]; then
	pass tcp_idle_timeout_closes
else
	fail tcp_idle_timeout_closes "client: $out (want closed 1000..1300 ms after its last byte); metric $i0 -> $i1"
fi

# ---- tcp.maxConnectAttempt ---------------------------------------------------------
c0=$(metric meshforge_tcp_connect_retries_total)
out=$(tb_exec a1 "$TL_PY" - <<'PY'
import socket
ok = 0
for i in range(30):
    try:
        s = socket.create_connection(("10.96.0.10", 80), timeout=5)
        s.sendall(b"GET /whoami HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
        got = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
        ok += got.startswith(b"HTTP/1.0 200") or got.startswith(b"HTTP/1.1 200")
    except OSError:
        pass
print(ok)
PY
)
c1=$(metric meshforge_tcp_connect_retries_total)
# Round robin over three endpoints: one connect in three goes to the node
# that is gone, times out, and goes to the next.
if [ "$out" = 30 ] && [ $((c1 - c0)) -ge 9 ]; then
	pass tcp_connect_attempts_reach_another_endpoint
else
	fail tcp_connect_attempts_reach_another_endpoint "$out of 30 answered; connect retries $c0 -> $c1"
fi
tl_finish
