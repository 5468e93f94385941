#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A MeshOpenTelemetryBackend's env with every OTEL_EXPORTER_OTLP_* variable
# agent a is started with, asserted by what an OpenTelemetry collector
# (tests/tools/mf_otlp.py: grpcio, and Python's http.server for OTLP/HTTP)
# on 127.0.0.1 in node a's namespace saw.  The backend (mode Required, its
# own address one where nothing listens) gets MeshAccessLog's records of
# web's connections (web over TCP, served by mf_httpd in b1 and b2):
#  - gRPC: the signal's HEADERS in the call's metadata, percent-decoded,
#    in place of the shared ones; with COMPRESSION gzip the message
#    arrives whole, and a collector that takes no compressed message
#    (grpcio with gzip disabled) refuses it: it was compressed;
#  - OTLP/HTTP at the signal's own URL: the headers, Content-Encoding gzip
#    and a body that inflates into the record;
#  - a collector that takes the request and never answers: the export
#    ends at the TIMEOUT (400 ms from the request's arrival to the agent
#    saying its collector is down, where the default is 2 s), counted in
#    /metrics as a record the backend failed;
#  - TLS: an https endpoint, the collector's certificate checked against
#    CERTIFICATE's CA, the agent's CLIENT_CERTIFICATE (the collector asks
#    for one and says whose it got), over gRPC and OTLP/HTTP; without the
#    CA the agent does not trust the collector and nothing arrives.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_otel_env
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"
tl_require_cmd openssl

GRPC_PORT=15098
HTTP_PORT=15097
LOGS=opentelemetry.proto.collector.logs.v1.LogsService/Export

# The collector's and the agent's certificates, from a CA of the test's.
PKI=$TL_TMP/pki
mkdir -p "$PKI"
{
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 1 \
		-subj /CN=mf-otel-ca &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PKI/srv.key" -out "$PKI/srv.csr" -subj /CN=collector &&
	printf 'subjectAltName=IP:127.0.0.1\n' >"$PKI/srv.ext" &&
	openssl x509 -req -in "$PKI/srv.csr" -CA "$PKI/ca.crt" \
		-CAkey "$PKI/ca.key" -CAcreateserial -out "$PKI/srv.crt" \
		-days 1 -extfile "$PKI/srv.ext" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PKI/cli.key" -out "$PKI/cli.csr" \
		-subj /CN=mf-agent-a &&
	openssl x509 -req -in "$PKI/cli.csr" -CA "$PKI/ca.crt" \
		-CAkey "$PKI/ca.key" -CAcreateserial -out "$PKI/cli.crt" -days 1
} >"$TL_TMP/pki.log" 2>&1 || { fail pki "$(cat "$TL_TMP/pki.log")"; tl_finish; }

{
	cat "$TL_TOP/tests/integration/policy.yaml"
	cat <<YAML
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
metadata: {name: web-env}
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
} >"$TL_TMP/policy.yaml"

tl_bed_up --apply "$TL_TMP/policy.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done

metric() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v m="$1" '$1 == m {print $2; f = 1} END {if (!f) print 0}'
}

# collector [mf_otlp.py serve options]: the collector again, with these
# options, and nothing it got before.
collector() {
	if [ -s "$TL_TMP/otlp.pid" ]; then
		kill "$(cat "$TL_TMP/otlp.pid")" 2>/dev/null
		wait_for 5 sh -c "! kill -0 $(cat "$TL_TMP/otlp.pid") 2>/dev/null"
	fi
	: >"$TL_TMP/otlp.out"
	: >"$TL_TMP/otlp.pid"
	tl_proto_py || return 1
	tl_bg mf-node-a "$TL_TMP/otlp.log" "$TL_PY" "$TL_TOOLS/mf_otlp.py" \
		serve --grpc-port "$GRPC_PORT" --http-port "$HTTP_PORT" \
		--out "$TL_TMP/otlp.out" --pid "$TL_TMP/otlp.pid" "$@"
	wait_for 10 grep -q listening "$TL_TMP/otlp.log" || {
		cat "$TL_TMP/otlp.log" >&2
		return 1
	}
}

# agent_a_with VAR=value...: agent a started again with these exporter
# variables (and no others).
agent_a_with() {
	local pid
	pid=$("$TB" pid a)
	kill "$pid"
	wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
	env "$@" "$TB" agents-start a \
		>"$TL_TMP/start-a.log" 2>&1 ||
		{ fail agent_a_start "$*: $(cat "$TL_TMP/start-a.log")"; tl_finish; }
}

# records: what the collector got, one line per record: how it came
# (path, content encoding, the client certificate's name), the headers
# named in $HDRS as name=value, the record's service and body.
HDRS="x-api-key x-team x-tenant"
records() {
	tl_otlp_read | HDRS=$HDRS "$TL_PY" -c '
import json, os, sys
for line in sys.stdin:
    r = json.loads(line)
    h = " ".join("%s=%s" % (k, r["headers"][k])
                 for k in os.environ["HDRS"].split() if k in r["headers"])
    print("%s enc=%s peer=%s %s | %s %s" % (r["path"], r["enc"], r["peer"],
                                            h, r["service"], r["body"]))
'
}

# exchange_then_record CASE WANT: one connection from a1 to web, then the
# collector's records (within 10 s) must be WANT, with @SENT@ the bytes
# web sent as the client counted them.
exchange_then_record() {
	local c=$1 want=$2 out got i
	out=$(tl_tcp_exchange a1 10.96.0.10)
	set -- $out
	want=${want//@SENT@/${2:-?}}
	for i in $(seq 1 100); do
		got=$(records 2>&1)
		[ "$got" = "$want" ] && break
		sleep 0.1
	done
	if [ "${3:-}" = 200 ] && [ "$got" = "$want" ]; then
		pass "$c"
	else
		fail "$c" "client: $out; want:
$want
got:
$got"
	fi
}

# ---- gRPC: headers, gzip -----------------------------------------------------
collector || { fail collector_up "did not start"; tl_finish; }
agent_a_with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$GRPC_PORT \
	OTEL_EXPORTER_OTLP_HEADERS='x-tenant=acme,x-api-key=shared' \
	OTEL_EXPORTER_OTLP_LOGS_HEADERS='x-api-key=s3cret%20one, x-team=mesh%2Cops' \
	OTEL_EXPORTER_OTLP_COMPRESSION=gzip
exchange_then_record grpc_headers_and_gzip \
	"/$LOGS enc= peer= x-api-key=s3cret one x-team=mesh,ops | web env web @SENT@"

# The same agent to a collector that takes no compressed message: refused,
# so what came before was compressed.  grpcio answers UNIMPLEMENTED
# (Protocol error), or, when it answers before it has read the whole
# request, resets the call's stream after it (Input/output error): a
# collector up, the export failed, nothing kept.
collector --no-gzip || { fail collector_no_gzip_up "did not start"; tl_finish; }
mark=$(tl_log_mark mf-node-a)
out=$(tl_tcp_exchange a1 10.96.0.10)
if wait_for 10 sh -c "tail -n +$((mark + 1)) '$(tl_agent_log mf-node-a)' | grep -Eq 'event=access_log_backend_down kind=otlp_grpc.*err=\"(Protocol error|Input/output error)\"'" &&
	kill -0 "$(cat "$TL_TMP/otlp.pid")" &&
	[ -z "$(records 2>&1)" ]; then
	pass grpc_gzip_refused_by_collector_without_gzip
else
	fail grpc_gzip_refused_by_collector_without_gzip "client: $out; records: $(records 2>&1); log: $(tl_log_since mf-node-a "$mark" | tail -3)"
fi

# ---- OTLP/HTTP at the signal's own URL: headers, gzip --------------------------
collector || { fail collector_up "did not start"; tl_finish; }
agent_a_with OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://127.0.0.1:$HTTP_PORT/custom/logs \
	OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/protobuf \
	OTEL_EXPORTER_OTLP_HEADERS='x-api-key=s3cret%20one' \
	OTEL_EXPORTER_OTLP_COMPRESSION=GZIP
exchange_then_record http_headers_and_gzip \
	"/custom/logs enc=gzip peer= x-api-key=s3cret one | web env web @SENT@"

# ---- TIMEOUT: a collector that never answers ------------------------------------
collector --stall || { fail collector_stall_up "did not start"; tl_finish; }
agent_a_with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$GRPC_PORT \
	OTEL_EXPORTER_OTLP_LOGS_TIMEOUT=400
f0=$(metric 'meshforge_access_log_dropped_total{reason="backend_failed"}')
mark=$(tl_log_mark mf-node-a)
out=$(tl_tcp_exchange a1 10.96.0.10)
down=""
if wait_for 10 sh -c "tail -n +$((mark + 1)) '$(tl_agent_log mf-node-a)' | grep -q 'event=access_log_backend_down kind=otlp_grpc'"; then
	down=$(tl_log_since mf-node-a "$mark" |
		grep -m1 'event=access_log_backend_down kind=otlp_grpc')
fi
f1=$(metric 'meshforge_access_log_dropped_total{reason="backend_failed"}')
# From the request's arrival at the collector to the agent's word that it
# is down: the timeout, not the default's 2 s.
took=$(tl_otlp_read | DOWN="$down" "$TL_PY" -c '
import json, os, re, sys
t = json.loads(sys.stdin.readline())["t"]
m = re.match(r"ts=([0-9.]+) ", os.environ["DOWN"])
print("%.3f" % (float(m.group(1)) - t) if m else "none")
' 2>&1)
tl_log "a collector that never answers: down ${took}s after the request came"
if [[ "$down" == *'err="Connection timed out"'* ]] &&
	awk -v t="$took" 'BEGIN {exit !(t >= 0.35 && t < 1.2)}' &&
	[ "$f1" = $((f0 + 1)) ]; then
	pass timeout_ends_export_as_failure
else
	fail timeout_ends_export_as_failure "client: $out; took: $took s; backend_failed $f0 -> $f1; down: $down"
fi

# ---- TLS: a CA, a client certificate --------------------------------------------
collector --tls-cert "$PKI/srv.crt" --tls-key "$PKI/srv.key" \
	--tls-ca "$PKI/ca.crt" || { fail collector_tls_up "did not start"; tl_finish; }
TLS_VARS=(OTEL_EXPORTER_OTLP_CERTIFICATE="$PKI/ca.crt"
	OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$PKI/cli.crt"
	OTEL_EXPORTER_OTLP_CLIENT_KEY="$PKI/cli.key")
agent_a_with OTEL_EXPORTER_OTLP_ENDPOINT=https://127.0.0.1:$GRPC_PORT \
	OTEL_EXPORTER_OTLP_HEADERS='x-api-key=over-tls' "${TLS_VARS[@]}"
exchange_then_record grpc_tls_client_certificate \
	"/$LOGS enc= peer=mf-agent-a x-api-key=over-tls | web env web @SENT@"

: >"$TL_TMP/otlp.out"
agent_a_with OTEL_EXPORTER_OTLP_ENDPOINT=https://127.0.0.1:$HTTP_PORT \
	OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf "${TLS_VARS[@]}"
exchange_then_record http_tls_client_certificate \
	"/v1/logs enc= peer=mf-agent-a  | web env web @SENT@"

# Without the CA: the collector's certificate is not trusted, nothing
# arrives.
: >"$TL_TMP/otlp.out"
agent_a_with OTEL_EXPORTER_OTLP_ENDPOINT=https://127.0.0.1:$GRPC_PORT \
	OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$PKI/cli.crt" \
	OTEL_EXPORTER_OTLP_CLIENT_KEY="$PKI/cli.key"
mark=$(tl_log_mark mf-node-a)
out=$(tl_tcp_exchange a1 10.96.0.10)
if wait_for 10 sh -c "tail -n +$((mark + 1)) '$(tl_agent_log mf-node-a)' | grep -q 'event=access_log_backend_down kind=otlp_grpc target=\"https://'" &&
	[ -z "$(records 2>&1)" ]; then
	pass tls_untrusted_collector_gets_nothing
else
	fail tls_untrusted_collector_gets_nothing "client: $out; records: $(records 2>&1); log: $(tl_log_since mf-node-a "$mark" | tail -3)"
fi

tl_finish
