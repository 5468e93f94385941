#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# MeshTrace in force on the two-node testbed: pod a1 (service client)
# calls the web service, served by mf_httpd in pods b1 and b2; agent a
# plays both proxies and reports both spans to a Zipkin collector
# (tests/tools/mf_zipkin.py on 127.0.0.1 in node a's namespace, where agent
# a runs, that keeps each POSTed body).  Asserted by what the collector, the client and
# the upstream received:
#  - N requests: N CLIENT spans (client -> web, the client's MeshTrace:
#    its literal and header tags, the header's default when the request
#    has none) and N SERVER spans (web's MeshTrace, sharedSpanContext
#    false: each a child of its CLIENT span, same trace), with the status
#    codes the client saw, error on the 5xx, the x-request-id;
#  - a request with x-b3-traceid/x-b3-spanid continues that trace, and
#    the upstream saw the B3 and traceparent headers of its SERVER span;
#  - sampling.overall 0: no span, and the upstream saw x-b3-sampled: 0;
#  - MeshTraces that select another workload (intruder) only: no span
#    for a1's requests;
#  - zipkin backends with apiVersion httpProto: both spans of each
#    request in Zipkin's protobuf (read with the classes protoc makes of
#    proto/), the SERVER span shared, the upstream saw its ids;
#  - datadog backends (the client's with splitService) at the collector's
#    /v0.4/traces: each request's two spans in one chunk, services
#    client_OUTBOUND_web and web, ids as the B3 and Datadog headers the
#    upstream saw, error on the 5xx; a client's context in Datadog's
#    headers alone continued;
#  - openTelemetry backends: the client's by its endpoint, over OTLP/gRPC,
#    and web's by a backendRef to a MeshOpenTelemetryBackend of protocol
#    http, over OTLP/HTTP, at an OpenTelemetry collector
#    (tests/tools/mf_otlp.py): both spans, read with the classes protoc
#    makes of proto/, the SERVER span a child of the CLIENT span, and the
#    upstream saw a traceparent naming the SERVER span;
#  - the collector down: requests still served, the spans counted in
#    /metrics as backend_failed.
# Absence is shown in order: the reporter sends spans in the order they
# were queued, so once a later marker request's spans arrived, those of
# the requests before it would have too.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_tracing
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

ZPORT=15098
ZURL="http://127.0.0.1:$ZPORT/api/v2/spans"

# policy FILE MESHTRACE-YAML: the web service over HTTP and the MeshTraces.
policy() {
	{ tl_web_http; cat; } >"$1"
}

policy "$TL_TMP/trace.yaml" <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrace
metadata: {name: client-trace}
spec:
  targetRef: {kind: MeshService, name: client}
  default:
    backends:
      - type: Zipkin
        zipkin: {url: '$ZURL'}
    tags:
      - {name: team, literal: core}
      - name: env
        header: {name: x-env, default: prod}
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrace
metadata: {name: web-trace}
spec:
  targetRef: {kind: MeshService, name: web}
  default:
    backends:
      - zipkin: {url: '$ZURL', sharedSpanContext: false}
    tags:
      - {name: side, literal: web}
YAML

tl_bed_up --apply "$TL_TMP/trace.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done
# The collector (tests/tools/mf_zipkin.py): each POSTed body on a line of
# spans.out (Zipkin's JSON), proto.out (Zipkin's protobuf, base64) or
# datadog.out (Datadog's /v0.4/traces).
tl_bg mf-node-a "$TL_TMP/zipkin.log" "$TL_PY" "$TL_TOOLS/mf_zipkin.py" \
	--port "$ZPORT" --spans "$TL_TMP/spans.out" --proto "$TL_TMP/proto.out" \
	--datadog "$TL_TMP/datadog.out" --pid "$TL_TMP/zipkin.pid"
wait_for 5 grep -q listening "$TL_TMP/zipkin.log" ||
	{ fail zipkin_up "$(cat "$TL_TMP/zipkin.log")"; tl_finish; }

metric() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v m="$1" '$1 == m {print $2; f = 1} END {if (!f) print 0}'
}

# spans: how many spans the collector holds.
spans() {
	"$TL_PY" - "$TL_TMP/spans.out" <<'PY'
import json, sys
try:
    print(sum(len(json.loads(l)) for l in open(sys.argv[1])))
except FileNotFoundError:
    print(0)
PY
}

# request PATH [CURL ARGS...]: one request from a1 to web; its status on
# stdout.
request() {
	local path=$1
	shift
	tb_exec a1 curl -sS -o /dev/null -m 10 -w '%{http_code}' "$@" \
		"http://10.96.0.10$path"
}

# ---- both spans per request ---------------------------------------------
want=""
for r in "/status/200 qa" "/status/418 qa" "/status/503 dev" "/status/200 -"; do
	set -- $r
	if [ "$2" = - ]; then
		code=$(request "$1" -H "x-request-id: rid-$1")
	else
		code=$(request "$1" -H "x-env: $2" -H "x-request-id: rid-$1-$2")
	fi
	want+="$code $2"$'\n'
done
N=4
wait_for 5 test "$(spans)" -ge $((2 * N))
got=$("$TL_PY" - "$TL_TMP/spans.out" <<'PY' 2>&1
import json, sys
spans = [s for l in open(sys.argv[1]) for s in json.loads(l)]
cl = [s for s in spans if s["kind"] == "CLIENT"]
sv = {s["id"]: s for s in spans if s["kind"] == "SERVER"}
assert len(cl) == 4 and len(sv) == 4, (len(cl), len(sv))
for c in cl:
    s = [x for x in sv.values() if x.get("parentId") == c["id"]]
    assert len(s) == 1, ("no SERVER child", c)
    s = s[0]
    assert s["traceId"] == c["traceId"] and len(c["traceId"]) == 16, (c, s)
    assert "parentId" not in c and not s.get("shared"), (c, s)
    assert c["localEndpoint"]["serviceName"] == "client", c
    assert c["localEndpoint"]["ipv4"] == "10.78.1.11", c
    assert c["remoteEndpoint"]["serviceName"] == "web", c
    assert s["localEndpoint"]["serviceName"] == "web", s
    assert s["localEndpoint"]["ipv4"] in ("10.78.2.11", "10.78.2.12"), s
    assert s["localEndpoint"]["port"] == 8080, s
    assert s["remoteEndpoint"]["serviceName"] == "client", s
    ct, st = c["tags"], s["tags"]
    assert ct["team"] == "core" and "side" not in ct, ct
    assert st["side"] == "web" and "team" not in st and "env" not in st, st
    for t in (ct, st):
        assert t["http.status_code"] == ct["http.status_code"], (ct, st)
        assert t["http.method"] == "GET" and t["component"] == "proxy", t
        assert t["http.url"].startswith("http://10.96.0.10/status/"), t
        assert t["guid:x-request-id"].startswith("rid-"), t
        assert t.get("error") == ("true" if t["http.status_code"] >= "500"
                                  else None), t
    assert ct["upstream_cluster"] == "web" and st["upstream_cluster"] == "localhost:8080"
    assert c["name"] == "10.96.0.10" and c["duration"] >= s["duration"] >= 0
    assert c["timestamp"] > 1_700_000_000_000_000, c
for c in sorted(cl, key=lambda c: c["timestamp"]):
    print(c["tags"]["http.status_code"], c["tags"]["env"])
PY
)
# The header tag's default, prod, where the request had no x-env.
if [ "$got"$'\n' = "${want//-$'\n'/prod$'\n'}" ]; then
	pass client_and_server_span_per_request
else
	fail client_and_server_span_per_request "want:
$want
got:
$got"
fi

# ---- a trace continued; what the upstream saw ------------------------------
T=463ac35c9f6413ad
S=a2fb4a1d1a96d312
before=$(spans)
tb_exec a1 curl -sS -m 10 -H "x-b3-traceid: $T" -H "x-b3-spanid: $S" \
	http://10.96.0.10/headers >"$TL_TMP/seen.txt"
wait_for 5 test "$(spans)" -ge $((before + 2))
got=$("$TL_PY" - "$TL_TMP/spans.out" "$TL_TMP/seen.txt" "$T" "$S" <<'PY' 2>&1
import json, sys
spans = [s for l in open(sys.argv[1]) for s in json.loads(l)]
seen = {}
for line in open(sys.argv[2]):
    if ":" in line:
        k, v = line.split(":", 1)
        seen[k.strip().lower()] = v.strip()
t, p = sys.argv[3], sys.argv[4]
c = [s for s in spans if s["kind"] == "CLIENT" and s["traceId"] == t]
assert len(c) == 1 and c[0]["parentId"] == p, c
s = [s for s in spans if s["kind"] == "SERVER" and s["traceId"] == t]
assert len(s) == 1 and s[0]["parentId"] == c[0]["id"], s
assert seen["x-b3-traceid"] == t, seen
assert seen["x-b3-spanid"] == s[0]["id"], seen
assert seen["x-b3-parentspanid"] == c[0]["id"], seen
assert seen["x-b3-sampled"] == "1", seen
assert seen["traceparent"] == "00-%016x%s-%s-01" % (0, t, s[0]["id"]), seen
print("ok")
PY
)
if [ "$got" = ok ]; then
	pass b3_trace_continued_upstream_sees_span
else
	fail b3_trace_continued_upstream_sees_span "$got"
fi
r=$(metric meshforge_trace_spans_reported_total)
if [ "$r" -ge $((2 * N + 2)) ]; then
	pass reported_counted
else
	fail reported_counted "meshforge_trace_spans_reported_total $r"
fi

# marker: one request with the full policy back in force, and its two
# spans at the collector: what came before it has been sent.
marker() {
	"$TB" apply "$TL_TMP/trace.yaml" >"$TL_TMP/apply.log" 2>&1 ||
		{ fail apply_marker "$(cat "$TL_TMP/apply.log")"; tl_finish; }
	local n
	n=$(spans)
	request /status/200 -H "x-request-id: marker" >/dev/null
	wait_for 5 test "$(spans)" -ge $((n + 2))
}

# ---- overall: 0 ------------------------------------------------------------
sed 's/^    tags:$/    sampling: {overall: 0}\n    tags:/' "$TL_TMP/trace.yaml" \
	>"$TL_TMP/zero.yaml"
"$TB" apply "$TL_TMP/zero.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_zero "$(cat "$TL_TMP/apply.log")"; tl_finish; }
before=$(spans)
ok=1
for i in 1 2 3; do
	[ "$(request "/status/200?zero=$i")" = 200 ] || ok=0
done
sampled=$(tb_exec a1 curl -sS -m 10 http://10.96.0.10/headers |
	awk -F': ' 'tolower($1) == "x-b3-sampled" {print $2}' | tr -d '\r')
marker
after=$(spans)
if [ "$ok" = 1 ] && [ "$after" = $((before + 2)) ] && [ "$sampled" = 0 ]; then
	pass overall_zero_no_spans
else
	fail overall_zero_no_spans "ok=$ok spans $before -> $after (marker 2) upstream x-b3-sampled=$sampled"
fi

# ---- MeshTraces for another workload only ------------------------------------
# apply adds and replaces by name: both MeshTraces now select intruder.
policy "$TL_TMP/other.yaml" <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrace
metadata: {name: client-trace}
spec:
  targetRef: {kind: MeshService, name: intruder}
  default:
    backends:
      - zipkin: {url: '$ZURL'}
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrace
metadata: {name: web-trace}
spec:
  targetRef: {kind: MeshService, name: intruder}
  default:
    backends:
      - zipkin: {url: '$ZURL'}
YAML
"$TB" apply "$TL_TMP/other.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_other "$(cat "$TL_TMP/apply.log")"; tl_finish; }
before=$(spans)
ok=1
for i in 1 2 3; do
	[ "$(request "/status/200?other=$i")" = 200 ] || ok=0
done
marker
after=$(spans)
if [ "$ok" = 1 ] && [ "$after" = $((before + 2)) ]; then
	pass other_workload_no_spans
else
	fail other_workload_no_spans "ok=$ok spans $before -> $after (marker 2)"
fi

# ---- Zipkin over protobuf ------------------------------------------------------
# Both sides' Zipkin backends with apiVersion httpProto, at the same URL:
# each request's two spans in a ListOfSpans, read with the classes protoc
# makes of proto/.
policy "$TL_TMP/zproto.yaml" <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrace
metadata: {name: client-trace}
spec:
  targetRef: {kind: MeshService, name: client}
  default:
    backends:
      - zipkin: {url: '$ZURL', apiVersion: httpProto}
    tags:
      - {name: team, literal: core}
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrace
metadata: {name: web-trace}
spec:
  targetRef: {kind: MeshService, name: web}
  default:
    backends:
      - zipkin: {url: '$ZURL', apiVersion: httpProto}
YAML
tl_proto_py || { fail proto_py "protoc --python_out failed"; tl_finish; }
"$TB" apply "$TL_TMP/zproto.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_zproto "$(cat "$TL_TMP/apply.log")"; tl_finish; }
tb_exec a1 curl -sS -m 10 http://10.96.0.10/headers >"$TL_TMP/seen-zp.txt"
code=$(request /status/503)
# proto_spans: how many spans the protobuf bodies hold.
proto_spans() {
	"$TL_PY" - "$TL_TMP/proto.out" "$TL_TMP/pb" <<'PY'
import base64, sys
sys.path.insert(0, sys.argv[2])
from zipkin.proto3 import zipkin_pb2
try:
    print(sum(len(zipkin_pb2.ListOfSpans.FromString(base64.b64decode(l)).spans)
              for l in open(sys.argv[1])))
except FileNotFoundError:
    print(0)
PY
}
wait_for 10 test "$(proto_spans)" -ge 4
got=$("$TL_PY" - "$TL_TMP/proto.out" "$TL_TMP/pb" "$TL_TMP/seen-zp.txt" <<'PY' 2>&1
import base64, sys
sys.path.insert(0, sys.argv[2])
from zipkin.proto3 import zipkin_pb2
K = zipkin_pb2.Span
spans = [s for l in open(sys.argv[1])
         for s in zipkin_pb2.ListOfSpans.FromString(base64.b64decode(l)).spans]
seen = {}
for line in open(sys.argv[3]):
    if ":" in line:
        k, v = line.split(":", 1)
        seen[k.strip().lower()] = v.strip()
assert len(spans) == 4, spans
cl = [s for s in spans if s.kind == K.CLIENT]
sv = [s for s in spans if s.kind == K.SERVER]
assert len(cl) == 2 and len(sv) == 2, spans
for c in cl:
    s = [x for x in sv if x.id == c.id]
    assert len(s) == 1, ("no shared SERVER span", c)
    s = s[0]
    assert s.shared and not c.shared, (c, s)
    assert c.trace_id == s.trace_id and len(c.trace_id) == 8, (c, s)
    assert len(c.id) == 8 and not c.parent_id, c
    assert c.local_endpoint.service_name == "client", c
    assert bytes(c.local_endpoint.ipv4) == bytes([10, 78, 1, 11]), c
    assert c.remote_endpoint.service_name == "web", c
    assert s.local_endpoint.service_name == "web", s
    assert s.local_endpoint.port == 8080, s
    assert s.remote_endpoint.service_name == "client", s
    assert c.tags["team"] == "core" and "team" not in s.tags, (c, s)
    assert c.tags["http.status_code"] == s.tags["http.status_code"], (c, s)
    assert c.tags.get("error") == s.tags.get("error") == (
        "true" if c.tags["http.status_code"] == "503" else None), (c, s)
    assert c.timestamp > 1_700_000_000_000_000 and c.duration >= s.duration
h = [c for c in cl if c.tags["http.url"].endswith("/headers")]
assert len(h) == 1, cl
assert seen["x-b3-traceid"] == h[0].trace_id.hex(), (seen, h)
assert seen["x-b3-spanid"] == h[0].id.hex(), (seen, h)
assert "x-b3-parentspanid" not in seen, seen
assert seen["traceparent"] == "00-%016x%s-%s-01" % (
    0, h[0].trace_id.hex(), h[0].id.hex()), seen
print(" ".join(sorted(c.tags["http.status_code"] for c in cl)))
PY
)
if [ "$code" = 503 ] && [ "$got" = "200 503" ]; then
	pass zipkin_http_proto_spans
else
	fail zipkin_http_proto_spans "status $code: $got"
fi

# ---- Datadog ----------------------------------------------------------------
# The client's Datadog backend with splitService, web's without, at one
# agent (the collector's /v0.4/traces): each request's two spans in one
# chunk.
policy "$TL_TMP/dd.yaml" <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrace
metadata: {name: client-trace}
spec:
  targetRef: {kind: MeshService, name: client}
  default:
    backends:
      - type: Datadog
        datadog: {url: 'http://127.0.0.1:$ZPORT', splitService: true}
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrace
metadata: {name: web-trace}
spec:
  targetRef: {kind: MeshService, name: web}
  default:
    backends:
      - datadog: {url: 'http://127.0.0.1:$ZPORT'}
YAML
"$TB" apply "$TL_TMP/dd.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_dd "$(cat "$TL_TMP/apply.log")"; tl_finish; }
tb_exec a1 curl -sS -m 10 -H "x-b3-traceid: $T" -H "x-b3-spanid: $S" \
	http://10.96.0.10/headers >"$TL_TMP/seen-dd.txt"
# A client traced by Datadog: its context in Datadog's headers alone.
DDT=12345678901234567890
DDP=4242
tb_exec a1 curl -sS -m 10 -H "x-datadog-trace-id: $DDT" \
	-H "x-datadog-parent-id: $DDP" -H "x-datadog-sampling-priority: 2" \
	http://10.96.0.10/headers >"$TL_TMP/seen-dd2.txt"
code=$(request /status/502)
dd_spans() {
	"$TL_PY" - "$TL_TMP/datadog.out" <<'PY'
import json, sys
try:
    print(sum(len(c) for l in open(sys.argv[1]) for c in json.loads(l)))
except FileNotFoundError:
    print(0)
PY
}
wait_for 10 test "$(dd_spans)" -ge 6
got=$("$TL_PY" - "$TL_TMP/datadog.out" "$TL_TMP/seen-dd.txt" "$T" "$S" \
	"$TL_TMP/seen-dd2.txt" "$DDT" "$DDP" <<'PY' 2>&1
import json, sys
chunks = [c for l in open(sys.argv[1]) for c in json.loads(l)]
def headers(path):
    seen = {}
    for line in open(path):
        if ":" in line:
            k, v = line.split(":", 1)
            seen[k.strip().lower()] = v.strip()
    return seen
seen, seen_dd = headers(sys.argv[2]), headers(sys.argv[5])
t, p = int(sys.argv[3], 16), int(sys.argv[4], 16)
ddt, ddp = int(sys.argv[6]), int(sys.argv[7])
assert len(chunks) == 3 and all(len(c) == 2 for c in chunks), chunks
codes = []
for ch in chunks:
    c = [s for s in ch if s["meta"]["span.kind"] == "client"]
    s = [s for s in ch if s["meta"]["span.kind"] == "server"]
    assert len(c) == 1 and len(s) == 1, ch
    c, s = c[0], s[0]
    assert c["service"] == "client_OUTBOUND_web", c
    assert s["service"] == "web", s
    assert c["trace_id"] == s["trace_id"] and s["parent_id"] == c["span_id"]
    assert s["span_id"] != c["span_id"], (c, s)
    for x in (c, s):
        assert x["name"] == "envoy.proxy" and x["type"] == "web", x
        assert x["resource"] == "10.96.0.10", x
        assert x["start"] > 1_700_000_000_000_000_000 and x["duration"] >= 0
        assert x["meta"]["http.status_code"] == c["meta"]["http.status_code"]
        assert x["error"] == (1 if x["meta"]["http.status_code"] >= "500"
                              else 0), x
        assert x["metrics"]["_sampling_priority_v1"] == 1, x
    if c["meta"]["http.url"].endswith("/headers") and c["trace_id"] == t:
        assert c["parent_id"] == p, (c, t, p)
        assert seen["x-b3-traceid"] == "%016x" % t, seen
        assert seen["x-b3-spanid"] == "%016x" % s["span_id"], (seen, s)
        assert seen["x-b3-parentspanid"] == "%016x" % c["span_id"], seen
        assert seen["traceparent"] == "00-%032x-%016x-01" % (
            t, s["span_id"]), seen
        # A Datadog tracer upstream is told the same span.
        assert seen["x-datadog-trace-id"] == str(t), seen
        assert seen["x-datadog-parent-id"] == str(s["span_id"]), seen
        assert seen["x-datadog-sampling-priority"] == "1", seen
        codes.append("b3")
    elif c["meta"]["http.url"].endswith("/headers"):
        # Datadog's context read: the trace continues, under its span.
        assert c["trace_id"] == ddt and c["parent_id"] == ddp, (c, ddt, ddp)
        assert seen_dd["x-datadog-trace-id"] == str(ddt), seen_dd
        assert seen_dd["x-datadog-parent-id"] == str(s["span_id"]), seen_dd
        assert seen_dd["x-b3-traceid"] == "%016x" % ddt, seen_dd
        codes.append("dd")
    else:
        assert c["parent_id"] == 0 and c["trace_id"] != t, c
    codes.append(c["meta"]["http.status_code"])
print(" ".join(sorted(codes)))
PY
)
if [ "$code" = 502 ] && [ "$got" = "200 200 502 b3 dd" ]; then
	pass datadog_spans_at_v04_traces
else
	fail datadog_spans_at_v04_traces "status $code: $got"
fi

# ---- OpenTelemetry ------------------------------------------------------------
OPORT=15096
OHTTP=15095
policy "$TL_TMP/otel.yaml" <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrace
metadata: {name: client-trace}
spec:
  targetRef: {kind: MeshService, name: client}
  default:
    backends:
      - type: OpenTelemetry
        openTelemetry: {endpoint: '127.0.0.1:$OPORT'}
---
apiVersion: kuma.io/v1alpha1
kind: MeshOpenTelemetryBackend
metadata:
  name: collector-http
  labels: {app: otel-http}
spec:
  endpoint: {address: 127.0.0.1, port: $OHTTP}
  protocol: http
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrace
metadata: {name: web-trace}
spec:
  targetRef: {kind: MeshService, name: web}
  default:
    backends:
      - openTelemetry:
          backendRef:
            kind: MeshOpenTelemetryBackend
            labels: {app: otel-http}
YAML
tl_otlp mf-node-a "$OPORT" "$OHTTP" ||
	{ fail otlp_collector_up "did not start"; tl_finish; }
"$TB" apply "$TL_TMP/otel.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_otel "$(cat "$TL_TMP/apply.log")"; tl_finish; }
code=$(request /status/201)
tb_exec a1 curl -sS -m 10 http://10.96.0.10/headers >"$TL_TMP/seen-otel.txt"
otlp_spans() { [ "$(tl_otlp_read | wc -l)" -ge 4 ]; }
wait_for 10 otlp_spans
got=$(tl_otlp_read | "$TL_PY" -c '
import json, sys
spans = [json.loads(l) for l in sys.stdin]
assert len(spans) == 4, spans
cl = [s for s in spans if s["kind"] == 3]
sv = [s for s in spans if s["kind"] == 2]
assert len(cl) == 2 and len(sv) == 2, spans
for c in cl:
    s = [x for x in sv if x["parent"] == c["id"]]
    assert len(s) == 1, c
    s = s[0]
    assert c["service"] == "client" and s["service"] == "web", (c, s)
    assert c["path"].endswith("TraceService/Export") and not c["type"], c
    assert s["path"] == "/v1/traces", s
    assert s["type"] == "application/x-protobuf", s
    assert c["trace"] == s["trace"] and len(c["trace"]) == 32, (c, s)
    assert c["end"] > c["start"], c
    assert c["attrs"]["http.status_code"] == s["attrs"]["http.status_code"]
seen = {}
for line in open(sys.argv[1]):
    if ":" in line:
        k, v = line.split(":", 1)
        seen[k.strip().lower()] = v.strip()
h = [s for s in sv if s["attrs"]["http.url"].endswith("/headers")][0]
assert seen["traceparent"] == "00-%s-%s-01" % (h["trace"], h["id"]), seen
print(" ".join(sorted(s["attrs"]["http.status_code"] for s in cl)))
' "$TL_TMP/seen-otel.txt" 2>&1)
if [ "$code" = 201 ] && [ "$got" = "200 201" ]; then
	pass otel_spans_over_otlp_grpc_and_http
else
	fail otel_spans_over_otlp_grpc_and_http "status $code: $got"
fi

# ---- the collector down ------------------------------------------------------
# Both collectors of the OpenTelemetry policy in force: its two spans of
# each request fail.
opid=$(cat "$TL_TMP/otlp.pid")
kill "$opid"
wait_for 5 sh -c "! kill -0 $opid 2>/dev/null"
f0=$(metric 'meshforge_trace_spans_dropped_total{reason="backend_failed"}')
ok=1
for i in 1 2 3; do
	[ "$(request "/status/200?down=$i")" = 200 ] || ok=0
done
failed_more() {
	[ "$(metric 'meshforge_trace_spans_dropped_total{reason="backend_failed"}')" -ge $((f0 + 6)) ]
}
if [ "$ok" = 1 ] && wait_for 10 failed_more; then
	pass serves_with_collector_down
else
	fail serves_with_collector_down "ok=$ok backend_failed $f0 -> $(metric 'meshforge_trace_spans_dropped_total{reason="backend_failed"}')"
fi

tl_finish
