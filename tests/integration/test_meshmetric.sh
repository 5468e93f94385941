#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# MeshMetric in force on the two-node testbed: pod a1 (service client)
# calls the web service, served by mf_httpd in pods b1 and b2.  A
# MeshMetric for a1's service exposes a Prometheus backend; agent a
# serves it at node a's address (--metrics-address, as the testbed starts
# the agents), scraped from node b over the wire.  Asserted by what the
# scraper read against what the clients did:
#  - with no MeshMetric applied, a request is counted nowhere;
#  - after N requests from a1, a1's outbound series to web: N requests,
#    N responses of class 2xx, a duration histogram of count N, one
#    connection per request;
#  - a2 (no MeshMetric) made requests too: they are on admin's /metrics,
#    not on the MeshMetric page;
#  - Kuma 2.x's Mesh.metrics (a prometheus backend, skipMTLS): a2's
#    requests on its port and path, a1 (selected by the MeshMetric) not;
#    the Mesh applied without it, the port closes;
#  - a path no backend names, admin's own pages among them: 404;
#  - 40 connections held open from the wire: 24 reset (half the admin
#    table is theirs at most), and node a's /ready still answers;
#  - exclude Prefix hides the request families, include Exact brings
#    requests_total back (the duration stays out);
#  - a new port by apply: the listener moves (the old port refuses);
#  - an OpenTelemetry backend (an endpoint, refreshInterval 1s) beside it:
#    an OpenTelemetry collector (tests/tools/mf_otlp.py) on node a gets
#    MetricsService/Export pushes of a1's families, read with the classes
#    protoc makes of proto/: N requests, N 2xx responses, a duration of
#    count N, as the page says; and the pushes are counted in /metrics;
#  - an application's endpoint (python3's http.server in a1's pod serving
#    a fixed exposition text): its samples on the page with a1's labels
#    and kuma_io_application, its comments and malformed line left out;
#  - a TCP (L4) web: the tcp families count the connection and the bytes
#    each way the client counted, a1's outbound on node a, and inbound
#    on node b for web's workload that served it (source_service client);
#  - same node (a1 -> intruder, served by a2 on node a): a2's inbound
#    series on node a's page counts the HTTP requests it answered, and an
#    L4 connection with its bytes;
#  - another node (a1 -> web over HTTP): web's inbound series on node b's
#    page count the requests b relayed, with the statuses the client saw
#    (HEADs, a POST body and a 404 among them);
#  - tls.mode ProvidedTLS with no certificate given to the agent: the
#    port is not listened on (not even in plain text), and the log says
#    so once;
#  - agent a restarted with --metrics-tls-cert/--metrics-tls-key (a
#    certificate openssl made for node a's address): curl --cacert reads
#    a1's requests over TLS 1.3; plain HTTP to the port gets no page;
#    the files renewed in place and SIGHUP: the renewed certificate is
#    served, the old one no more;
#  - the same port switched to ActiveMTLSBackend by apply: curl with a
#    certificate mfctl issued (an identity of the mesh, no workload's)
#    reads the page, verifying node a's mesh certificate (reissued with
#    node a's address) to the mesh CA; curl without a client
#    certificate, and with one of another CA (same trust domain, same
#    identity), gets none; the operator's certificate is no longer
#    presented; a MeshTrust of that other CA for another trust domain
#    changes nothing, one for the mesh's own makes its certificate read
#    the page;
#  - Prometheus (when installed) scraping that port with tls_config:
#    the target up and a1's requests read from its API.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_meshmetric
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

NODE_A=10.77.0.1
N=5

# mesh_metric PORT [SIDECAR]: a MeshMetric for the client service's
# workloads (a1) with a Prometheus backend on PORT, on stdout.
mesh_metric() {
	cat <<YAML
---
apiVersion: kuma.io/v1alpha1
kind: MeshMetric
metadata: {name: client-metrics}
spec:
  targetRef: {kind: MeshService, name: client}
  default:
${2:-}
    backends:
      - type: Prometheus
        prometheus: {port: $1, path: /metrics}
YAML
}

# First no MeshMetric at all: a request from a1 is counted nowhere.
tl_web_http >"$TL_TMP/plain.yaml"
{ tl_web_http; mesh_metric 15670; } >"$TL_TMP/http.yaml"
tl_bed_up --apply "$TL_TMP/plain.yaml" --agents
for p in a2 b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done
code=$(tb_exec a1 curl -sS -o /dev/null -w '%{http_code}' -m 10 http://10.96.0.10/status/200)
admin=$(tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics)
if [ "$code" = 200 ] && ! grep -q '^meshforge_workload_[a-z_]*{' <<<"$admin" &&
	grep -q '^meshforge_workload_series_dropped_total 0$' <<<"$admin"; then
	pass nothing_counted_without_meshmetric
else
	fail nothing_counted_without_meshmetric "status $code; $(grep '^meshforge_workload_' <<<"$admin")"
fi
"$TB" apply "$TL_TMP/http.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_http "$(cat "$TL_TMP/apply.log")"; tl_finish; }

# scrape PORT [PATH]: the MeshMetric page of node a, from node b.
scrape() {
	tb_exec b curl -sS -m 5 "http://$NODE_A:$1${2:-/metrics}" 2>/dev/null
}
# value PAGE SERIES: the sample of SERIES (name{labels}) on PAGE, or
# "none".
value() {
	awk -v m="$2" '$1 == m {print $2; f = 1} END {if (!f) print "none"}' <<<"$1"
}

A1='mesh="default",workload="a1",kuma_io_service="client",direction="outbound",destination_service="web"'
for i in $(seq $N); do
	tb_exec a1 curl -sS -o /dev/null -m 10 http://10.96.0.10/status/200
	tb_exec a2 curl -sS -o /dev/null -m 10 http://10.96.0.10/status/200
done

wait_for 5 sh -c "'$TB' exec b curl -fsS -m 2 http://$NODE_A:15670/metrics >/dev/null 2>&1" ||
	{ fail metrics_port_listens "no answer on $NODE_A:15670"; tl_finish; }
page=$(scrape 15670)
got="$(value "$page" "meshforge_workload_requests_total{$A1}") $(value "$page" "meshforge_workload_responses_total{$A1,class=\"2xx\"}") $(value "$page" "meshforge_workload_request_duration_seconds_count{$A1}") $(value "$page" "meshforge_workload_connections_total{$A1}")"
if [ "$got" = "$N $N $N $N" ]; then
	pass outbound_requests_counted
else
	fail outbound_requests_counted "requests, 2xx, duration count, connections: $got; page:
$page"
fi
inf=$(value "$page" "meshforge_workload_request_duration_seconds_bucket{$A1,le=\"+Inf\"}")
if [ "$inf" = "$N" ] && grep -q '^# TYPE meshforge_workload_request_duration_seconds histogram$' <<<"$page"; then
	pass duration_histogram
else
	fail duration_histogram "+Inf bucket: $inf"
fi

admin=$(tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics)
if grep -q 'workload="a2"' <<<"$admin" && ! grep -q 'workload="a2"' <<<"$page"; then
	pass other_workload_not_on_page
else
	fail other_workload_not_on_page "a2 on admin: $(grep -c 'workload="a2"' <<<"$admin"), on the page: $(grep -c 'workload="a2"' <<<"$page")"
fi

# Kuma 2.x's Mesh.metrics with a prometheus backend enabled: every
# workload of the node that no MeshMetric selects is served at its port and
# path (a2 here, with its N requests); one a MeshMetric selects is not (a1,
# still on its MeshMetric's port).  The Mesh applied without it again: the
# port closes.
# apply_mesh_metrics CASE SRC [CONF]: SRC's policy with a Mesh prometheus
# backend on :15690/mesh-stats in plain text, CONF added to its conf; when
# it cannot be applied, CASE fails and the test ends.
apply_mesh_metrics() {
	local out="$TL_TMP/mesh-$1.yaml"
	sed -e "s|^spec: {trustDomain: mesh.local}\$|spec: {trustDomain: mesh.local, metrics: {enabledBackend: prom, backends: [{name: prom, type: prometheus, conf: {port: 15690, path: /mesh-stats, skipMTLS: true${3:+, $3}}}]}}|" \
		"$2" >"$out"
	grep -q 'enabledBackend: prom' "$out" ||
		{ fail "$1" "no Mesh line to add metrics to"; tl_finish; }
	"$TB" apply "$out" >"$TL_TMP/apply.log" 2>&1 ||
		{ fail "$1" "$(cat "$TL_TMP/apply.log")"; tl_finish; }
}
apply_mesh_metrics mesh_metrics_applied "$TL_TMP/http.yaml"
a2_out() {
	scrape 15690 /mesh-stats | awk '$1 ~ /^meshforge_workload_requests_total[{]/ &&
		/workload="a2"/ && /direction="outbound"/ &&
		/destination_service="web"/ {n += $2} END {print n + 0}'
}
a2_served() { [ "$(a2_out)" = "$N" ]; }
if wait_for 5 a2_served; then
	mpage=$(scrape 15690 /mesh-stats)
	a1_own=$(value "$(scrape 15670)" "meshforge_workload_requests_total{$A1}")
	if ! grep -q 'workload="a1"' <<<"$mpage" && [ "$a1_own" = "$N" ]; then
		pass mesh_metrics_serves_unselected_workloads
	else
		fail mesh_metrics_serves_unselected_workloads "a1 lines on :15690: $(grep -c 'workload="a1"' <<<"$mpage"); a1 on :15670: $a1_own"
	fi
else
	fail mesh_metrics_serves_unselected_workloads "a2's outbound requests on :15690: $(a2_out) (want $N)"
fi
"$TB" apply "$TL_TMP/http.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_http_again "$(cat "$TL_TMP/apply.log")"; tl_finish; }
mesh_port_closed() { ! tb_exec b curl -fsS -m 2 "http://$NODE_A:15690/mesh-stats" >/dev/null 2>&1; }
if wait_for 5 mesh_port_closed; then
	pass mesh_metrics_removed_port_closed
else
	fail mesh_metrics_removed_port_closed "node a still serves :15690"
fi

# Only the MeshMetric page is on the wire: not admin's own pages.
codes=""
for path in /stats /config_dump /ready /metrics/; do
	codes+="$(tb_exec b curl -sS -o /dev/null -w '%{http_code}' -m 5 "http://$NODE_A:15670$path") "
done
codes+=$(tb_exec b curl -sS -o /dev/null -w '%{http_code}' -m 5 -X DELETE "http://$NODE_A:15670/metrics")
if [ "$codes" = "404 404 404 404 405" ]; then
	pass other_paths_not_served
else
	fail other_paths_not_served "statuses $codes"
fi

# A client on the wire holding MeshMetric connections open gets half the
# admin endpoint's table at most (16 of 32): the rest are reset, and the
# node's /ready still answers.  40 held would fill the whole table.
tb_exec b "$TL_PY" - "$NODE_A" >"$TL_TMP/hold.log" 2>&1 <<'PY' &
import socket, sys, time
socks, reset = [], 0
for _ in range(40):
    try:
        socks.append(socket.create_connection((sys.argv[1], 15670),
                                              timeout=2))
    except ConnectionResetError:
        # The agent's reset can beat connect()'s return.
        reset += 1
print("held", len(socks), flush=True)
time.sleep(1.2)
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            reset += 1
    except BlockingIOError:
        pass
    except ConnectionResetError:
        reset += 1
print("reset", reset, flush=True)
PY
hold=$!
wait_for 5 grep -q '^held' "$TL_TMP/hold.log"
ready=$(tb_exec a curl -sS -o /dev/null -w '%{http_code}' -m 2 http://127.0.0.1:15000/ready)
wait "$hold"
if [ "$ready" = 200 ] && grep -q '^reset 24$' "$TL_TMP/hold.log"; then
	pass wire_clients_leave_probes_room
else
	fail wire_clients_leave_probes_room "ready: $ready; $(cat "$TL_TMP/hold.log")"
fi

# exclude the request families, include requests_total back.
{
	tl_web_http
	mesh_metric 15670 '    sidecar:
      profiles:
        exclude: [{type: Prefix, match: meshforge_workload_request}]
        include: [{type: Exact, match: meshforge_workload_requests_total}]'
} >"$TL_TMP/filter.yaml"
"$TB" apply "$TL_TMP/filter.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_filter "$(cat "$TL_TMP/apply.log")"; tl_finish; }
filtered() {
	local p
	p=$(scrape 15670)
	! grep -q '^meshforge_workload_request_duration_seconds' <<<"$p" &&
		[ "$(value "$p" "meshforge_workload_requests_total{$A1}")" = "$N" ]
}
if wait_for 5 filtered; then
	page=$(scrape 15670)
	if [ "$(value "$page" "meshforge_workload_connections_total{$A1}")" = "$N" ]; then
		pass exclude_prefix_include_exact
	else
		fail exclude_prefix_include_exact "connections gone too:
$page"
	fi
else
	fail exclude_prefix_include_exact "$(scrape 15670)"
fi

# A new port: the listener moves.
{ tl_web_http; mesh_metric 15671; } >"$TL_TMP/port.yaml"
"$TB" apply "$TL_TMP/port.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_port "$(cat "$TL_TMP/apply.log")"; tl_finish; }
moved() {
	scrape 15671 >/dev/null 2>&1 && ! scrape 15670 >/dev/null 2>&1
}
if wait_for 5 moved && [ "$(value "$(scrape 15671)" "meshforge_workload_requests_total{$A1}")" = "$N" ]; then
	pass port_follows_apply
else
	fail port_follows_apply "15671: $(scrape 15671 2>&1 | head -3); 15670: $(scrape 15670 2>&1 | head -3)"
fi

# An OpenTelemetry backend beside the port: a1's families pushed.
{
	tl_web_http
	mesh_metric 15671 | head -n -2
	cat <<YAML
      - type: Prometheus
        prometheus: {port: 15671, path: /metrics}
      - type: OpenTelemetry
        openTelemetry: {endpoint: '127.0.0.1:15094', refreshInterval: 1s}
YAML
} >"$TL_TMP/otel.yaml"
tl_otlp mf-node-a 15094 || { fail otlp_collector_up "did not start"; tl_finish; }
"$TB" apply "$TL_TMP/otel.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_otel "$(cat "$TL_TMP/apply.log")"; tl_finish; }
# pushed: the last push of a1's outbound series to web, as
# "requests 2xx duration_count".
pushed() {
	tl_otlp_read | "$TL_PY" -c '
import json, sys
last = {}
for line in sys.stdin:
    d = json.loads(line)
    a = d["attrs"]
    if d["workload"] != "a1" or a.get("destination_service") != "web":
        continue
    if d["name"] == "meshforge_workload_responses_total":
        if a["class"] == "2xx":
            last["2xx"] = d["value"]
    elif "count" in d:
        last[d["name"]] = d["count"]
    else:
        last[d["name"]] = d["value"]
print(last.get("meshforge_workload_requests_total"), last.get("2xx"),
      last.get("meshforge_workload_request_duration_seconds"))
'
}
otel_pushed() { [ "$(pushed)" = "$N $N $N" ]; }
if wait_for 10 otel_pushed &&
	[ "$(value "$(tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics)" meshforge_metric_pushes_reported_total)" -ge 1 ]; then
	pass otel_backend_gets_pushes
else
	fail otel_backend_gets_pushes "pushed: $(pushed); $(tl_otlp_read | head -3)"
fi

# An application in a1's pod serving its own metrics: on the page with
# a1's labels and kuma_io_application (its comments and a malformed line
# left out).
mkdir -p "$TL_TMP/app"
cat >"$TL_TMP/app/metrics" <<'PROM'
# HELP app_orders_total Orders taken.
# TYPE app_orders_total counter
app_orders_total{kind="book"} 42
app_broken{kind=book} 1
app_up 1
PROM
tl_bg a1 "$TL_TMP/app.log" "$TL_PY" -m http.server 9464 --bind 10.78.1.11 \
	--directory "$TL_TMP/app"
app_listening() {
	tb_exec a curl -fsS -o /dev/null -m 1 http://10.78.1.11:9464/metrics 2>/dev/null
}
wait_for 5 app_listening ||
	fail app_up "$(cat "$TL_TMP/app.log")"
{
	tl_web_http
	mesh_metric 15671 '    applications:
      - {name: shop, port: 9464}'
} >"$TL_TMP/app.yaml"
"$TB" apply "$TL_TMP/app.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_app "$(cat "$TL_TMP/apply.log")"; tl_finish; }
APP='mesh="default",workload="a1",kuma_io_service="client",kuma_io_application="shop"'
app_shown() {
	local p
	p=$(scrape 15671)
	[ "$(value "$p" "app_orders_total{$APP,kind=\"book\"}")" = 42 ] &&
		[ "$(value "$p" "app_up{$APP}")" = 1 ]
}
if wait_for 10 app_shown; then
	page=$(scrape 15671)
	if ! grep -q 'app_broken\|^# TYPE app_' <<<"$page" &&
		[ "$(value "$page" "meshforge_workload_requests_total{$A1}")" = "$N" ]; then
		pass application_metrics_labelled
	else
		fail application_metrics_labelled "$page"
	fi
else
	fail application_metrics_labelled "$(scrape 15671 | grep app_)"
fi

# The Mesh backend's aggregate and envoy sections: a2 (no MeshMetric selects
# it) is served with the application page merged in (the app runs in a1's
# namespace, so the entry gives its address), and only the families the
# filterRegex finds in their names.
apply_mesh_metrics mesh_metrics_aggregate "$TL_TMP/app.yaml" \
	'envoy: {filterRegex: requests_total}, aggregate: [{name: shop2, port: 9464, address: 10.78.1.11}]'
agg_shown() {
	scrape 15690 /mesh-stats | grep -q '^app_orders_total{mesh="default",workload="a2",.*kuma_io_application="shop2",kind="book"} 42$'
}
if wait_for 10 agg_shown; then
	mpage=$(scrape 15690 /mesh-stats)
	if grep -q '^meshforge_workload_requests_total{.*workload="a2"' <<<"$mpage" &&
		! grep -q '^meshforge_workload_\(responses\|connections\|sent\)' <<<"$mpage"; then
		pass mesh_metrics_aggregate_and_filter
	else
		fail mesh_metrics_aggregate_and_filter "families on :15690: $(grep -o '^meshforge_workload_[a-z_]*' <<<"$mpage" | sort -u | tr '\n' ' ')"
	fi
else
	fail mesh_metrics_aggregate_and_filter "$(scrape 15690 /mesh-stats | grep 'app_\|workload="a2"' | head -5)"
fi

# Same node: a1 -> intruder (a2, on node a too) over HTTP; agent a is the
# destination's agent as well, and a2's inbound series counts the
# requests it answered.
intruder_metric() {
	mesh_metric "$1" | sed -e 's/client-metrics/intruder-metrics/' \
		-e 's/name: client}/name: intruder}/'
}
{
	tl_web_http | sed -e 's/spec: {vip: 10.96.0.12, port: 80}/spec: {vip: 10.96.0.12, port: 80, protocol: http}/'
	mesh_metric 15671
	intruder_metric 15673
} >"$TL_TMP/same.yaml"
"$TB" apply "$TL_TMP/same.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_same_node "$(cat "$TL_TMP/apply.log")"; tl_finish; }
codes=""
for i in 1 2 3; do
	codes+="$(tb_exec a1 curl -sS -o /dev/null -w '%{http_code}' -m 10 http://10.96.0.12/status/200) "
done
A2IN='mesh="default",workload="a2",kuma_io_service="intruder",direction="inbound",source_service="client"'
same_node_in() {
	local p
	p=$(scrape 15673)
	[ "$(value "$p" "meshforge_workload_requests_total{$A2IN}")" = 3 ] &&
		[ "$(value "$p" "meshforge_workload_responses_total{$A2IN,class=\"2xx\"}")" = 3 ]
}
if [ "$codes" = "200 200 200 " ] && wait_for 5 same_node_in; then
	pass same_node_inbound_requests
else
	fail same_node_inbound_requests "client saw: $codes; page: $(scrape 15673 | grep 'workload="a2"')"
fi

# Another node: a1 -> web (b1, b2 on node b) over HTTP.  Agent a's L7
# engine speaks to them through the tunnel, which agent b relays as bytes;
# b's page still counts web's inbound requests, read off what it relays
# (agent/hobs.c): as many as the client made, with the statuses it saw.
# Among them a HEAD whose response announces a body it does not carry,
# then requests after it on the same connections, and a POST's body.
web_metric() {
	mesh_metric "$1" | sed -e 's/client-metrics/web-metrics/' \
		-e 's/name: client}/name: web}/'
}
{ cat "$TL_TMP/same.yaml"; web_metric 15672; } >"$TL_TMP/http-in.yaml"
"$TB" apply "$TL_TMP/http-in.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_http_in "$(cat "$TL_TMP/apply.log")"; tl_finish; }
# web_in: web's inbound HTTP families from the client service, summed
# over b1 and b2, as "requests 2xx 4xx duration_count".
web_in() {
	tb_exec a curl -sS -m 5 "http://10.77.0.2:15672/metrics" 2>/dev/null |
		awk '
		/direction="inbound",source_service="client"/ && /workload="b[12]"/ {
			split($1, n, "{")
			if (n[1] == "meshforge_workload_responses_total") {
				if ($1 ~ /class="2xx"/) ok += $2
				if ($1 ~ /class="4xx"/) bad += $2
			} else {
				v[n[1]] += $2
			}
		}
		END {
			print v["meshforge_workload_requests_total"] + 0, ok + 0, \
			      bad + 0, v["meshforge_workload_request_duration_seconds_count"] + 0
		}'
}
wait_for 5 sh -c "'$TB' exec a curl -fsS -m 2 http://10.77.0.2:15672/metrics >/dev/null 2>&1"
before=$(web_in)
head -c 20000 /dev/zero | tr '\0' x >"$TL_TMP/post.bin"
W=http://10.96.0.10
codes=$(tb_exec a1 curl -sS -m 10 -o /dev/null -w '%{http_code} ' $W/status/200 \
	--next -sS -m 10 -I -o /dev/null -w '%{http_code} ' $W/bytes/5000 \
	--next -sS -m 10 -o /dev/null -w '%{http_code} ' $W/bytes/5000 \
	--next -sS -m 10 -o /dev/null -w '%{http_code} ' --data-binary @"$TL_TMP/post.bin" $W/echo \
	--next -sS -m 10 -o /dev/null -w '%{http_code} ' $W/status/404 \
	--next -sS -m 10 -I -o /dev/null -w '%{http_code} ' $W/bytes/70000 \
	--next -sS -m 10 -o /dev/null -w '%{http_code}' $W/status/201)
set -- $before
want="$(($1 + 7)) $(($2 + 6)) $(($3 + 1)) $(($4 + 7))"
web_in_counted() { [ "$(web_in)" = "$want" ]; }
if [ "$codes" = "200 200 200 200 404 200 201" ] && wait_for 5 web_in_counted; then
	pass cross_node_inbound_requests
else
	fail cross_node_inbound_requests "client saw: $codes; before: $before; want: $want; now: $(web_in)"
fi

# L4: web over TCP; one connection's bytes as the client counted them,
# outbound on node a, inbound (web's workloads, their own MeshMetric) on
# node b.
{
	cat "$TL_TOP/tests/integration/policy.yaml"
	mesh_metric 15670
	web_metric 15672
	intruder_metric 15673
} >"$TL_TMP/tcp.yaml"
"$TB" apply "$TL_TMP/tcp.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_tcp "$(cat "$TL_TMP/apply.log")"; tl_finish; }
wait_for 5 sh -c "'$TB' exec b curl -fsS -m 2 http://$NODE_A:15670/metrics >/dev/null 2>&1"
out=$(tl_tcp_exchange a1 10.96.0.10)
set -- $out
tcp_counted() {
	local p
	p=$(scrape 15670)
	[ "$(value "$p" "meshforge_workload_tcp_connections_total{$A1}")" = 1 ] &&
		[ "$(value "$p" "meshforge_workload_tcp_sent_bytes_total{$A1}")" = "$1" ] &&
		[ "$(value "$p" "meshforge_workload_tcp_received_bytes_total{$A1}")" = "$2" ]
}
if [ -n "${2:-}" ] && wait_for 5 tcp_counted "$1" "$2"; then
	pass tcp_connection_bytes
else
	fail tcp_connection_bytes "client: $out; page: $(scrape 15670 | grep tcp_)"
fi

# Node b's page, from node a: the one connection inbound to b1 or b2,
# from the client service, its bytes the other way round.
inbound() {
	tb_exec a curl -sS -m 5 "http://10.77.0.2:15672/metrics" 2>/dev/null |
		awk -v want="$1" '
		/^meshforge_workload_tcp_(connections|sent_bytes|received_bytes)_total\{/ &&
		/direction="inbound",source_service="client"/ &&
		/workload="b[12]"/ {
			split($1, n, "{"); v[n[1]] += $2
		}
		END {
			got = v["meshforge_workload_tcp_connections_total"] " " \
			      v["meshforge_workload_tcp_sent_bytes_total"] " " \
			      v["meshforge_workload_tcp_received_bytes_total"]
			exit got != want
		}'
}
if [ -n "${2:-}" ] && wait_for 5 inbound "1 $2 $1"; then
	pass inbound_tcp_connection_bytes
else
	fail inbound_tcp_connection_bytes "client: $out; node b: $(tb_exec a curl -sS -m 5 http://10.77.0.2:15672/metrics 2>&1 | grep -E 'tcp_|^curl')"
fi

# Same node, L4: a2's inbound on node a's page.
out=$(tl_tcp_exchange a1 10.96.0.12)
set -- $out
same_node_tcp() {
	local p
	p=$(scrape 15673)
	[ "$(value "$p" "meshforge_workload_tcp_connections_total{$A2IN}")" = 1 ] &&
		[ "$(value "$p" "meshforge_workload_tcp_sent_bytes_total{$A2IN}")" = "$2" ] &&
		[ "$(value "$p" "meshforge_workload_tcp_received_bytes_total{$A2IN}")" = "$1" ]
}
if [ -n "${2:-}" ] && wait_for 5 same_node_tcp "$1" "$2"; then
	pass same_node_inbound_tcp_bytes
else
	fail same_node_inbound_tcp_bytes "client: $out; page: $(scrape 15673 | grep 'workload="a2"')"
fi

# ---- TLS on the Prometheus port ---------------------------------------------

MPORT=15674
TD=$(cat "$TL_STATE/ca/trust-domain")
# mesh_metric_tls MODE: client's MeshMetric on MPORT with tls.mode MODE.
mesh_metric_tls() {
	mesh_metric "$MPORT" | sed -e "s|prometheus: {port: $MPORT, path: /metrics}|prometheus: {port: $MPORT, path: /metrics, tls: {mode: $1}}|"
}
{ tl_web_http; mesh_metric_tls ProvidedTLS; } >"$TL_TMP/provided.yaml"
{ tl_web_http; mesh_metric_tls ActiveMTLSBackend; } >"$TL_TMP/active.yaml"
# tls_get [CURL ARGS...]: node a's TLS page from node b; curl's exit
# status is the function's.
tls_get() {
	tb_exec b curl -sS -m 5 "$@" "https://$NODE_A:$MPORT/metrics" 2>>"$TL_TMP/curl.err"
}

# ProvidedTLS, and agent a was given no certificate: no listener at all.
mark=$(tl_log_mark mf-node-a)
"$TB" apply "$TL_TMP/provided.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_provided "$(cat "$TL_TMP/apply.log")"; tl_finish; }
# curl's 7: the connection refused.
tb_exec b curl -sS -o /dev/null -m 3 "http://$NODE_A:$MPORT/metrics" 2>/dev/null
plain=$?
tls_get -k >/dev/null
tls=$?
# The plan is built at the admin endpoint's next tick (about a second).
not_served_said() {
	tl_log_since mf-node-a "$mark" | grep -q "event=metrics_port_not_served port=$MPORT tls=ProvidedTLS"
}
wait_for 3 not_served_said
sleep 1.2	# a tick more: said once, not at each
said=$(tl_log_since mf-node-a "$mark" | grep -c "event=metrics_port_not_served port=$MPORT tls=ProvidedTLS")
if [ "$plain" = 7 ] && [ "$tls" = 7 ] && [ "$said" = 1 ]; then
	pass provided_tls_without_certificate_not_served
else
	fail provided_tls_without_certificate_not_served "curl exit plain $plain, TLS $tls; log lines: $said"
fi

# The operator's certificate for node a's address, and node a's mesh
# certificate reissued with that address beside its SPIFFE ID (so a
# scraper can check the address it dials).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$TL_TMP/metrics.key" -out "$TL_TMP/metrics.crt" -days 1 \
	-subj /CN=mf-metrics -addext "subjectAltName=IP:$NODE_A" 2>"$TL_TMP/openssl.log" ||
	{ fail metrics_cert_made "$(cat "$TL_TMP/openssl.log")"; tl_finish; }
"$MFCTL" --config-dir "$TL_STATE/ca" cert issue \
	--identity "spiffe://$TD/ns/meshforge-system/sa/mf-node-a" --ip "$NODE_A" \
	--out "$TL_STATE/mf-node-a" >"$TL_TMP/issue.log" 2>&1 ||
	{ fail node_cert_reissued "$(cat "$TL_TMP/issue.log")"; tl_finish; }
# Agent a again, now with the certificate (the policy stays pinned).
pid=$("$TB" pid a)
kill -TERM "$pid"
wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" ||
	{ fail agent_a_stopped "pid $pid still runs"; tl_finish; }
MF_AGENT_ARGS="--metrics-tls-cert $TL_TMP/metrics.crt --metrics-tls-key $TL_TMP/metrics.key" \
	"$TB" agents-start a >"$TL_TMP/start-a.log" 2>&1 ||
	{ fail agent_a_restarted "$(cat "$TL_TMP/start-a.log")"; tl_finish; }

M=3
for i in $(seq $M); do
	tb_exec a1 curl -sS -o /dev/null -m 10 http://10.96.0.10/status/200
done
provided_page() {
	local p
	p=$(tls_get --cacert "$TL_TMP/metrics.crt") &&
		[ "$(value "$p" "meshforge_workload_requests_total{$A1}")" = "$M" ]
}
if wait_for 10 provided_page; then
	ver=$(tb_exec b curl -sS -o /dev/null -w '%{http_code} %{ssl_verify_result}' -m 5 \
		--cacert "$TL_TMP/metrics.crt" --tlsv1.3 "https://$NODE_A:$MPORT/metrics")
	if [ "$ver" = "200 0" ]; then
		pass provided_tls_served
	else
		fail provided_tls_served "TLS 1.3 status, verify result: $ver"
	fi
else
	fail provided_tls_served "$(tls_get --cacert "$TL_TMP/metrics.crt" | grep -c .) lines; $(tail -3 "$TL_TMP/curl.err")"
fi
out=$(tb_exec b curl -sS -m 3 "http://$NODE_A:$MPORT/metrics" 2>&1)
rc=$?
if [ "$rc" != 0 ] && ! grep -q meshforge_workload <<<"$out"; then
	pass provided_tls_plain_http_refused
else
	fail provided_tls_plain_http_refused "curl $rc: $(head -3 <<<"$out")"
fi

# The operator renews the certificate in place (same files, new key, a
# new name) and reloads the agent, as `systemctl reload` does: new
# connections get the renewed certificate, and the one before is gone.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$TL_TMP/metrics2.key" -out "$TL_TMP/metrics2.crt" -days 1 \
	-subj /CN=mf-metrics-renewed -addext "subjectAltName=IP:$NODE_A" 2>"$TL_TMP/openssl.log" ||
	{ fail metrics_cert_renewed "$(cat "$TL_TMP/openssl.log")"; tl_finish; }
cp "$TL_TMP/metrics.crt" "$TL_TMP/metrics1.crt"
cat "$TL_TMP/metrics2.key" >"$TL_TMP/metrics.key"
cat "$TL_TMP/metrics2.crt" >"$TL_TMP/metrics.crt"
kill -HUP "$("$TB" pid a)"
renewed_served() {
	tls_get --cacert "$TL_TMP/metrics2.crt" | grep -q '^meshforge_workload_requests_total'
}
if wait_for 10 renewed_served && ! tls_get --cacert "$TL_TMP/metrics1.crt" >/dev/null; then
	pass provided_tls_renewed_on_reload
else
	fail provided_tls_renewed_on_reload "$(tail -3 "$TL_TMP/curl.err")"
fi

# ActiveMTLSBackend on the same port, by apply.
SCRAPER_ID="spiffe://$TD/ns/monitoring/sa/prometheus"
STEM="$TD+ns+monitoring+sa+prometheus"
"$MFCTL" --config-dir "$TL_STATE/ca" cert issue --identity "$SCRAPER_ID" \
	--out "$TL_TMP/scraper" >"$TL_TMP/issue.log" 2>&1 &&
	"$MFCTL" --config-dir "$TL_TMP/evil" ca init --trust-domain "$TD" >>"$TL_TMP/issue.log" 2>&1 &&
	"$MFCTL" --config-dir "$TL_TMP/evil" cert issue --identity "$SCRAPER_ID" \
		--out "$TL_TMP/evil-out" >>"$TL_TMP/issue.log" 2>&1 ||
	{ fail scraper_certs_issued "$(cat "$TL_TMP/issue.log")"; tl_finish; }
CA="$TL_STATE/ca/ca.crt"
CRT="$TL_TMP/scraper/certs/$STEM.crt"
KEY="$TL_TMP/scraper/certs/$STEM.key"
"$TB" apply "$TL_TMP/active.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_active "$(cat "$TL_TMP/apply.log")"; tl_finish; }
active_page() {
	local p
	p=$(tls_get --cacert "$CA" --cert "$CRT" --key "$KEY") &&
		[ "$(value "$p" "meshforge_workload_requests_total{$A1}")" = "$M" ]
}
# At once: apply returns when the agent serves the snapshot, and its
# port speaks as that says from then on.
if active_page; then
	pass active_mtls_served_to_mesh_certificate
else
	fail active_mtls_served_to_mesh_certificate "$(tail -3 "$TL_TMP/curl.err")"
fi
out=$(tls_get --cacert "$CA" 2>&1)
rc=$?
if [ "$rc" != 0 ] && ! grep -q meshforge_workload <<<"$out"; then
	pass active_mtls_refuses_no_client_certificate
else
	fail active_mtls_refuses_no_client_certificate "curl $rc: $(head -3 <<<"$out")"
fi
out=$(tls_get --cacert "$CA" --cert "$TL_TMP/evil-out/certs/$STEM.crt" \
	--key "$TL_TMP/evil-out/certs/$STEM.key" 2>&1)
rc=$?
if [ "$rc" != 0 ] && ! grep -q meshforge_workload <<<"$out"; then
	pass active_mtls_refuses_other_ca
else
	fail active_mtls_refuses_other_ca "curl $rc: $(head -3 <<<"$out")"
fi
out=$(tls_get --cacert "$TL_TMP/metrics.crt" --cert "$CRT" --key "$KEY" 2>&1)
rc=$?
if [ "$rc" != 0 ] && ! grep -q meshforge_workload <<<"$out"; then
	pass active_mtls_presents_mesh_certificate
else
	fail active_mtls_presents_mesh_certificate "curl $rc with the operator's CA: $(head -3 <<<"$out")"
fi

# MeshTrust: the other CA trusted for another trust domain still does not
# vouch for the scraper's identity (of the mesh's domain); trusted for the
# mesh's own (a rollover), its certificate reads the page.
trust_doc() {
	printf -- '---\napiVersion: kuma.io/v1alpha1\nkind: MeshTrust\n'
	printf 'metadata: {name: scraper-ca}\nspec:\n  trustDomain: %s\n' "$1"
	printf '  caBundles:\n    - type: Pem\n      pem:\n        value: |\n'
	sed 's/^/          /' "$TL_TMP/evil/ca.crt"
}
evil_get() {
	tls_get --cacert "$CA" --cert "$TL_TMP/evil-out/certs/$STEM.crt" \
		--key "$TL_TMP/evil-out/certs/$STEM.key"
}
{ tl_web_http; mesh_metric_tls ActiveMTLSBackend; trust_doc other.td; } >"$TL_TMP/trust-other.yaml"
{ tl_web_http; mesh_metric_tls ActiveMTLSBackend; trust_doc "$TD"; } >"$TL_TMP/trust-mesh.yaml"
"$TB" apply "$TL_TMP/trust-other.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_trust_other "$(cat "$TL_TMP/apply.log")"; tl_finish; }
out=$(evil_get 2>&1)
rc=$?
"$TB" apply "$TL_TMP/trust-mesh.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_trust_mesh "$(cat "$TL_TMP/apply.log")"; tl_finish; }
page=$(evil_get)
if [ "$rc" != 0 ] && ! grep -q meshforge_workload <<<"$out" &&
	[ "$(value "$page" "meshforge_workload_requests_total{$A1}")" = "$M" ]; then
	pass active_mtls_mesh_trust_vouches
else
	fail active_mtls_mesh_trust_vouches "other domain: curl $rc $(head -2 <<<"$out"); mesh's: $(head -3 <<<"$page"; tail -2 "$TL_TMP/curl.err")"
fi

# A real Prometheus scraping the ActiveMTLSBackend port from node b.
if command -v prometheus >/dev/null 2>&1; then
	PROM_PORT=19090
	mkdir -p "$TL_TMP/prom-data"
	cat >"$TL_TMP/prometheus.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: meshforge
    scheme: https
    metrics_path: /metrics
    tls_config: {ca_file: $CA, cert_file: $CRT, key_file: $KEY}
    static_configs:
      - targets: ['$NODE_A:$MPORT']
YAML
	tl_bg b "$TL_TMP/prometheus.log" prometheus --config.file "$TL_TMP/prometheus.yml" \
		--storage.tsdb.path "$TL_TMP/prom-data" --web.listen-address "127.0.0.1:$PROM_PORT"
	PROM_PID=$TL_BG_PID
	prom_query() {
		tb_exec b curl -sS -m 3 "http://127.0.0.1:$PROM_PORT/api/v1/query" \
			--data-urlencode "query=$1" 2>/dev/null | "$TL_PY" -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
except ValueError:  # not up yet: no answer, or not JSON
    r = []
print(r[0]["value"][1] if r else "none")'
	}
	prom_scraped() {
		[ "$(prom_query 'up{job="meshforge"}')" = 1 ] &&
			[ "$(prom_query 'meshforge_workload_requests_total{workload="a1",direction="outbound",destination_service="web"}')" = "$M" ]
	}
	if wait_for 30 prom_scraped; then
		pass prometheus_scrapes_active_mtls
	else
		fail prometheus_scrapes_active_mtls "up: $(prom_query 'up{job="meshforge"}'); $(tail -5 "$TL_TMP/prometheus.log")"
	fi
	kill "$PROM_PID" 2>/dev/null
else
	tl_log "prometheus_scrapes_active_mtls: skipped, prometheus is not installed"
fi

tl_finish
