#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# HTTP rate limits on the L7 engine, on the two-node testbed: the seed's
# example, a Kuma RateLimit of 100 requests per 10 s on the web service
# (declared `protocol: http`).  Pod a1 sends 101 requests at once, one
# connection each.  Asserted by what the client and the pods saw:
#  - requests 1..100 are answered by the pods, the 101st gets 429 from
#    agent a with retry-after, x-ratelimit-limit: 100,
#    x-ratelimit-remaining: 0 and the policy's own header;
#  - the pods received 100 requests, not 101: the limit is checked before
#    anything goes upstream.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_http_ratelimit
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

{
	tl_web_http
	cat <<'YAML'
---
type: RateLimit
mesh: default
name: web-rate-limit
sources:
  - match:
      kuma.io/service: '*'
destinations:
  - match:
      kuma.io/service: web
conf:
  http:
    requests: 100
    interval: 10s
    onRateLimit:
      headers:
        - key: x-rate-limited-by
          value: meshforge
YAML
} >"$TL_TMP/policy.yaml"
grep -q 'protocol: http}' "$TL_TMP/policy.yaml" ||
	{ fail policy_http "the web Service of policy.yaml was not found"; tl_finish; }
tl_bed_up --apply "$TL_TMP/policy.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done

tb_exec a1 "$TL_PY" - >"$TL_TMP/client.out" 2>&1 <<'PY'
import http.client
codes = []
last = None
for i in range(101):
    c = http.client.HTTPConnection("10.96.0.10", 80, timeout=10)
    c.request("GET", "/whoami?rl-%d" % i)
    r = c.getresponse()
    r.read()
    codes.append(r.status)
    last = r
    c.close()
print("codes", " ".join(str(x) for x in codes))
for k in ("retry-after", "x-ratelimit-limit", "x-ratelimit-remaining",
          "x-rate-limited-by"):
    print("header", k, last.getheader(k))
PY
codes=$(awk '$1 == "codes" {$1 = ""; print}' "$TL_TMP/client.out")
ok200=$(printf '%s\n' $codes | grep -c '^200$')
last=$(printf '%s\n' $codes | tail -n 1)
got() { grep -qx "header $1 $2" "$TL_TMP/client.out"; }
if [ "$ok200" = 100 ] && [ "$last" = 429 ] && got x-ratelimit-limit 100 &&
	got x-ratelimit-remaining 0 && got x-rate-limited-by meshforge &&
	grep -qE '^header retry-after [0-9]+$' "$TL_TMP/client.out"; then
	pass seed_rate_limit_101st_gets_429
else
	fail seed_rate_limit_101st_gets_429 "$(tr '\n' '|' <"$TL_TMP/client.out")"
fi
seen=$(cat "$TL_TMP/httpd-b1.log" "$TL_TMP/httpd-b2.log" | grep -c 'GET /whoami?rl-')
if [ "$seen" = 100 ]; then
	pass limited_request_never_upstream
else
	fail limited_request_never_upstream "the pods logged $seen of the requests"
fi
tl_finish
