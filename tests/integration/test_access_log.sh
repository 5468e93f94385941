#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# MeshAccessLog in force on the two-node testbed: pod a1 (service client)
# calls the web service, served by mf_httpd in pods b1 and b2; agent a
# writes the lines.  Asserted by what the backends received:
#  - a file backend with a Plain format: one line per request the client
#    made, with the status, path and method the client saw and sent, the
#    source and destination services, the direction and a field of the
#    response (the pod that answered); the file 0640;
#  - a Json format: one JSON object per line (python3 parses it) with the
#    keys asked, string values as Kuma writes them;
#  - a `to` entry for another service (intruder) writes nothing for web;
#  - a tcp backend: a collector on 127.0.0.1 in node a's namespace (where
#    agent a runs) gets the lines; once it is gone the agent keeps serving
#    and counts the lines it could not write in /metrics;
#  - an openTelemetry backend by endpoint: an OpenTelemetry collector
#    (tests/tools/mf_otlp.py, grpcio) on 127.0.0.1 in node a's namespace
#    gets LogsService/Export requests over gRPC whose records (read with
#    the classes protoc makes of proto/) say each
#    request's method, path and status in the body, the attributes asked,
#    and the proxy's service; once it is gone the agent keeps serving and
#    says so in its log;
#  - a TCP (L4) web: one line per connection at its end, with the bytes
#    each way the client counted; and one OTLP record, over HTTP, to the
#    collector of the MeshOpenTelemetryBackend a backendRef selects by its
#    labels (the same collector's OTLP/HTTP port);
#  - an openTelemetry body written as an OTLP AnyValue (a kvlist holding
#    strings with format operators, a nested kvlist, an array of an int,
#    a bool, a double and bytes): the collector unpacks that very value,
#    each string rendered for the curl request it logs;
#  - a MeshOpenTelemetryBackend with env mode Required: nothing sent,
#    said, and the line counted in /metrics, while the agent has no
#    OTEL_EXPORTER_OTLP_*; with
#    OTEL_EXPORTER_OTLP_ENDPOINT set for the agent, the records go there.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_access_log
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

# The collector: every line it reads, appended to $TL_TMP/collector.out.
cat >"$TL_TMP/collector.py" <<'PY'
import os, socket, sys
open(sys.argv[3], "w").write("%d\n" % os.getpid())
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(4)
print("listening", flush=True)
out = open(sys.argv[2], "ab", buffering=0)
while True:
    c, _ = ls.accept()
    while True:
        b = c.recv(65536)
        if not b:
            break
        out.write(b)
    c.close()
PY

# otlp_records: the log records the OpenTelemetry collector got, one line
# each: the POST's path and type over HTTP, the resource's service.name,
# the body, each attribute as key=value, and whether the time is set.
otlp_records() {
	tl_otlp_read | "$TL_PY" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    attrs = " ".join("%s=%s" % kv for kv in r["attrs"].items())
    head = "%s %s " % (r["path"], r["type"]) if r["type"] else ""
    print(head + "%s %s %s %s" % (r["service"], r["body"], attrs,
                                  "ts" if r["time"] > 1.6e18 else "no-ts"))
'
}

PLAIN='%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %KUMA_SOURCE_SERVICE% %KUMA_DESTINATION_SERVICE% %KUMA_TRAFFIC_DIRECTION% %UPSTREAM_CLUSTER% %RESP(X-MF-Pod)%'

# The web service over HTTP, with file backends (plain, json), a tcp one,
# and a `to` for intruder alone.
{
	tl_web_http
	cat <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshAccessLog
metadata: {name: web-log}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        backends:
          - type: File
            file:
              path: $TL_TMP/web.log
              format: {type: Plain, plain: '$PLAIN'}
          - file:
              path: $TL_TMP/web.json
              format:
                type: Json
                json:
                  - {key: status, value: '%RESPONSE_CODE%'}
                  - {key: method, value: '%REQ(:METHOD)%'}
                  - {key: path, value: '%REQ(:PATH)%'}
                  - {key: source, value: '%KUMA_SOURCE_SERVICE%'}
                  - {key: flags, value: '%RESPONSE_FLAGS%'}
                omitEmptyValues: true
---
apiVersion: kuma.io/v1alpha1
kind: MeshAccessLog
metadata: {name: web-collector}
spec:
  targetRef: {kind: MeshService, name: web}
  from:
    - targetRef: {kind: Mesh}
      default:
        backends:
          - tcp:
              address: 127.0.0.1:15099
              format: {plain: '%KUMA_TRAFFIC_DIRECTION% %REQ(:PATH)% %RESPONSE_CODE%'}
          - type: OpenTelemetry
            openTelemetry:
              endpoint: 127.0.0.1:15098
              body: '%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE%'
              attributes:
                - {key: source, value: '%KUMA_SOURCE_SERVICE%'}
                - {key: direction, value: '%KUMA_TRAFFIC_DIRECTION%'}
---
apiVersion: kuma.io/v1alpha1
kind: MeshAccessLog
metadata: {name: intruder-log}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: intruder}
      default:
        backends:
          - file: {path: $TL_TMP/intruder.log}
YAML
} >"$TL_TMP/http.yaml"

tl_bed_up --apply "$TL_TMP/http.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done
tl_bg mf-node-a "$TL_TMP/collector.log" "$TL_PY" "$TL_TMP/collector.py" \
	15099 "$TL_TMP/collector.out" "$TL_TMP/collector.pid"
wait_for 5 grep -q listening "$TL_TMP/collector.log" ||
	{ fail collector_up "$(cat "$TL_TMP/collector.log")"; tl_finish; }
tl_otlp mf-node-a 15098 15097 ||
	{ fail otlp_collector_up "did not start"; tl_finish; }

metric() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v m="$1" '$1 == m {print $2; f = 1} END {if (!f) print 0}'
}

# request METHOD PATH [BODY]: one request from a1; its status and the pod
# that answered (its X-MF-Pod header) on stdout.
request() {
	tb_exec a1 curl -sS -o /dev/null -m 10 \
		-w '%{http_code} %header{x-mf-pod}' -X "$1" \
		${3:+--data "$3"} "http://10.96.0.10$2"
}

# The requests, and the lines they must write, in order.
want=""
want_json=""
want_tcp=""
want_otlp=""
for r in "GET /status/200" "GET /status/418" "POST /echo?x=1 hello" \
	"GET /status/200?i=4" "GET /status/503"; do
	set -- $r
	read -r code pod < <(request "$1" "$2" "${3:-}")
	want+="$1 $2 $code client web OUTBOUND web $pod"$'\n'
	want_json+="$code $1 $2 client"$'\n'
	want_tcp+="INBOUND $2 $code"$'\n'
	want_otlp+="web $1 $2 $code source=client direction=INBOUND ts"$'\n'
done
N=5

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
wait_for 5 test "$(lines "$TL_TMP/web.log")" -ge "$N"
got=$(cat "$TL_TMP/web.log" 2>/dev/null)
if [ "$got"$'\n' = "$want" ]; then
	pass plain_line_per_request
else
	fail plain_line_per_request "want:
$want
got:
$got"
fi
mode=$(stat -c %a "$TL_TMP/web.log" 2>/dev/null)
if [ "$mode" = 640 ]; then
	pass file_created_0640
else
	fail file_created_0640 "mode $mode"
fi

# Json: each line an object with exactly the keys asked (flags, with no
# value, left out), every value a string.
wait_for 5 test "$(lines "$TL_TMP/web.json")" -ge "$N"
got=$("$TL_PY" - "$TL_TMP/web.json" <<'PY' 2>&1
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert sorted(o) == ["method", "path", "source", "status"], o
    assert all(isinstance(x, str) for x in o.values()), o
    print(o["status"], o["method"], o["path"], o["source"])
PY
)
if [ "$got"$'\n' = "$want_json" ]; then
	pass json_lines_parse_with_keys
else
	fail json_lines_parse_with_keys "want:
$want_json
got:
$got"
fi

if [ ! -s "$TL_TMP/intruder.log" ]; then
	pass other_service_to_writes_nothing
else
	fail other_service_to_writes_nothing "$(cat "$TL_TMP/intruder.log")"
fi

# tcp: web's inbound (from) lines at the collector.
wait_for 5 test "$(lines "$TL_TMP/collector.out")" -ge "$N"
got=$(cat "$TL_TMP/collector.out" 2>/dev/null)
if [ "$got"$'\n' = "$want_tcp" ]; then
	pass tcp_collector_gets_lines
else
	fail tcp_collector_gets_lines "want:
$want_tcp
got:
$got"
fi

# OpenTelemetry: the records at the gRPC collector, in order.
got=""
for i in $(seq 1 100); do
	got=$(otlp_records 2>&1)
	[ "$got"$'\n' = "$want_otlp" ] && break
	sleep 0.1
done
if [ "$got"$'\n' = "$want_otlp" ]; then
	pass otlp_grpc_collector_gets_records
else
	fail otlp_grpc_collector_gets_records "want:
$want_otlp
got:
$got"
fi

# The collectors gone: requests still served, their lines counted failed.
opid=$(cat "$TL_TMP/otlp.pid")
kill "$opid"
wait_for 5 sh -c "! kill -0 $opid 2>/dev/null"
mark=$(tl_log_mark mf-node-a)
cpid=$(cat "$TL_TMP/collector.pid")
kill "$cpid"
wait_for 5 sh -c "! kill -0 $cpid 2>/dev/null"
f0=$(metric 'meshforge_access_log_dropped_total{reason="backend_failed"}')
ok=1
for i in 1 2 3; do
	read -r code pod < <(request GET "/status/200?down=$i")
	[ "$code" = 200 ] || ok=0
done
wait_for 5 test "$(lines "$TL_TMP/web.log")" -ge $((N + 3))
f1=$(metric 'meshforge_access_log_dropped_total{reason="backend_failed"}')
if [ "$ok" = 1 ] && [ "$(lines "$TL_TMP/web.log")" = $((N + 3)) ] &&
	[ "$f1" -gt "$f0" ]; then
	pass serves_with_collector_down
else
	fail serves_with_collector_down "ok=$ok lines=$(lines "$TL_TMP/web.log") backend_failed $f0 -> $f1"
fi
if wait_for 5 sh -c "tail -n +$((mark + 1)) '$(tl_agent_log mf-node-a)' | grep -q 'event=access_log_backend_down kind=otlp_grpc'"; then
	pass otlp_collector_down_said
else
	fail otlp_collector_down_said "$(tl_log_since mf-node-a "$mark" | tail -5)"
fi

# ---- L4: web over TCP, one line per connection at its end ------------------
{
	cat "$TL_TOP/tests/integration/policy.yaml"
	cat <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshAccessLog
metadata: {name: web-l4}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: web}
      default:
        backends:
          - file:
              path: $TL_TMP/l4.log
              format: {plain: '%BYTES_RECEIVED% %BYTES_SENT% %KUMA_SOURCE_SERVICE% %UPSTREAM_CLUSTER% %RESPONSE_FLAGS%'}
          - file: {path: $TL_TMP/l4-default.log}
---
apiVersion: kuma.io/v1alpha1
kind: MeshOpenTelemetryBackend
metadata:
  name: collector-http
  labels: {app: otel-http}
spec:
  endpoint: {address: 127.0.0.1, port: 15097, path: /otlp}
  protocol: http
---
apiVersion: kuma.io/v1alpha1
kind: MeshAccessLog
# web-collector's from entry is still there: at equal rank the name first
# in byte order wins.
metadata: {name: web-a-otel}
spec:
  targetRef: {kind: MeshService, name: web}
  from:
    - targetRef: {kind: Mesh}
      default:
        backends:
          - type: OpenTelemetry
            openTelemetry:
              backendRef:
                kind: MeshOpenTelemetryBackend
                labels: {app: otel-http}
              body: '%BYTES_RECEIVED% %BYTES_SENT% %KUMA_DESTINATION_SERVICE%'
YAML
} >"$TL_TMP/tcp.yaml"
"$TB" apply "$TL_TMP/tcp.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_tcp "$(cat "$TL_TMP/apply.log")"; tl_finish; }
# The collector again (it was killed above), for OTLP/HTTP this time.
: >"$TL_TMP/otlp.out"
tl_otlp mf-node-a 15098 15097 ||
	{ fail otlp_collector_again "did not start"; tl_finish; }
# What the client sent and got, counted by itself.
out=$(tl_tcp_exchange a1 10.96.0.10)
set -- $out
wait_for 5 test "$(lines "$TL_TMP/l4.log")" -ge 1
got=$(cat "$TL_TMP/l4.log" 2>/dev/null)
if [ "${3:-}" = 200 ] && [ "$got" = "$1 $2 client web -" ]; then
	pass tcp_connection_line_with_bytes
else
	fail tcp_connection_line_with_bytes "client: $out; line: $got"
fi
# Kuma's default TCP format.
got=$(cat "$TL_TMP/l4-default.log" 2>/dev/null)
if [[ "$got" =~ ^\[[0-9T:.-]+Z\]\ -\ default\ 10\.78\.1\.11\(client\)-\>10\.78\.2\.1[12]:8080\(web\)\ took\ [0-9]+ms,\ sent\ $2\ bytes,\ received:\ $1\ bytes$ ]]; then
	pass tcp_default_format
else
	fail tcp_default_format "line: $got"
fi
# OTLP over HTTP, by backendRef: the base path, then /v1/logs.
want="/otlp/v1/logs application/x-protobuf web $1 $2 web  ts"
for i in $(seq 1 100); do
	got=$(otlp_records 2>&1)
	[ "$got" = "$want" ] && break
	sleep 0.1
done
if [ "$got" = "$want" ]; then
	pass otlp_http_backend_ref_gets_record
else
	fail otlp_http_backend_ref_gets_record "want:
$want
got:
$got"
fi


# ---- a MeshOpenTelemetryBackend's env: the collector from the agent's -------
# environment.  Its backend (mode Required; its own address one where
# nothing listens) sends nothing while agent a has no
# OTEL_EXPORTER_OTLP_*, and says so in its log; agent a started again with
# OTEL_EXPORTER_OTLP_ENDPOINT at the collector's gRPC port, its records
# go there (EnvFirst, Kuma's default precedence).
cat >"$TL_TMP/env.yaml" <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshOpenTelemetryBackend
metadata:
  name: collector-env
  labels: {app: otel-env}
spec:
  endpoint: {address: 127.0.0.1, port: 15096}
  env: {mode: Required}
---
apiVersion: kuma.io/v1alpha1
kind: MeshAccessLog
# Before web-a-otel in byte order: its from entry wins.
metadata: {name: web-0-env}
spec:
  targetRef: {kind: MeshService, name: web}
  from:
    - targetRef: {kind: Mesh}
      default:
        backends:
          - openTelemetry:
              backendRef:
                kind: MeshOpenTelemetryBackend
                labels: {app: otel-env}
              body: 'env %KUMA_DESTINATION_SERVICE% %BYTES_SENT%'
YAML
mark=$(tl_log_mark mf-node-a)
"$TB" apply "$TL_TMP/env.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_env "$(cat "$TL_TMP/apply.log")"; tl_finish; }
: >"$TL_TMP/otlp.out"
n_l4=$(lines "$TL_TMP/l4.log")
e0=$(metric 'meshforge_access_log_dropped_total{reason="env_required_missing"}')
out=$(tl_tcp_exchange a1 10.96.0.10)
# The connection's outbound line is written: its inbound record would be
# by now.
wait_for 5 test "$(lines "$TL_TMP/l4.log")" -gt "$n_l4"
e1=$(metric 'meshforge_access_log_dropped_total{reason="env_required_missing"}')
if wait_for 5 sh -c "tail -n +$((mark + 1)) '$(tl_agent_log mf-node-a)' | grep -q 'event=otel_env_required_missing signal=logs'" &&
	sleep 0.5 && [ -z "$(otlp_records 2>&1)" ] && [ "$e1" = $((e0 + 1)) ]; then
	pass otel_env_required_missing_sends_nothing
else
	fail otel_env_required_missing_sends_nothing "out=$out env_required_missing $e0 -> $e1 records: $(otlp_records 2>&1) log: $(tl_log_since mf-node-a "$mark" | tail -3)"
fi
pid_a=$("$TB" pid a)
kill "$pid_a"
wait_for 10 sh -c "! kill -0 $pid_a 2>/dev/null"
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:15098 "$TB" agents-start a \
	>"$TL_TMP/start-a.log" 2>&1 ||
	{ fail agent_a_with_otel_env "$(cat "$TL_TMP/start-a.log")"; tl_finish; }
: >"$TL_TMP/otlp.out"
out=$(tl_tcp_exchange a1 10.96.0.10)
set -- $out
want="web env web $2  ts"
for i in $(seq 1 100); do
	got=$(otlp_records 2>&1)
	[ "$got" = "$want" ] && break
	sleep 0.1
done
if [ "${3:-}" = 200 ] && [ "$got" = "$want" ]; then
	pass otel_env_endpoint_gets_record
else
	fail otel_env_endpoint_gets_record "client: $out; want:
$want
got:
$got"
fi

# ---- an openTelemetry body written as an OTLP AnyValue -----------------------
# web over HTTP again; its inbound records to the gRPC collector with a
# kvlist body, whose strings are rendered per request.
{
	tl_web_http
	cat <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshAccessLog
# Before web-0-env in byte order: its from entry wins (agent a's
# OTEL_EXPORTER_OTLP_ENDPOINT is for backendRefs only).
metadata: {name: web-0-body}
spec:
  targetRef: {kind: MeshService, name: web}
  from:
    - targetRef: {kind: Mesh}
      default:
        backends:
          - openTelemetry:
              endpoint: 127.0.0.1:15098
              body:
                kvlistValue:
                  values:
                    - key: method
                      value: {stringValue: '%REQ(:METHOD)%'}
                    - key: request
                      value:
                        kvlistValue:
                          values:
                            - {key: path, value: {stringValue: '%REQ(:PATH)%'}}
                            - {key: status, value: {stringValue: 'code %RESPONSE_CODE%'}}
                            - {key: pod, value: {stringValue: '%RESP(X-MF-Pod)%'}}
                    - key: fixed
                      value:
                        arrayValue:
                          values:
                            - {intValue: 7}
                            - {boolValue: true}
                            - {doubleValue: 0.5}
                            - {bytesValue: aGk=}
YAML
} >"$TL_TMP/body.yaml"
"$TB" apply "$TL_TMP/body.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_body "$(cat "$TL_TMP/apply.log")"; tl_finish; }
: >"$TL_TMP/otlp.out"
read -r code pod < <(request GET "/status/201?kv=1")
# What the collector unpacked, against what curl sent and saw.
body_check() {
	tl_otlp_read | "$TL_PY" -c '
import json, sys
code, pod = sys.argv[1], sys.argv[2]
s = lambda x: {"stringValue": x}
want = {"kvlistValue": {"values": [
    {"key": "method", "value": s("GET")},
    {"key": "request", "value": {"kvlistValue": {"values": [
        {"key": "path", "value": s("/status/201?kv=1")},
        {"key": "status", "value": s("code " + code)},
        {"key": "pod", "value": s(pod)}]}}},
    {"key": "fixed", "value": {"arrayValue": {"values": [
        {"intValue": "7"}, {"boolValue": True}, {"doubleValue": 0.5},
        {"bytesValue": "aGk="}]}}}]}}
got = [json.loads(l)["value"] for l in sys.stdin]
print("ok" if got == [want] else "want %s\ngot %s" % (json.dumps(want), json.dumps(got)))
' "$code" "$pod"
}
for i in $(seq 1 100); do
	got=$(body_check 2>&1)
	[ "$got" = ok ] && break
	sleep 0.1
done
if [ "$code" = 201 ] && [ -n "$pod" ] && [ "$got" = ok ]; then
	pass otlp_kvlist_body_rendered
else
	fail otlp_kvlist_body_rendered "client: $code $pod; $got"
fi

tl_finish
