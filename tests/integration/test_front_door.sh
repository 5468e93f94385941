#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The bare-metal front door on the two-node testbed: plain processes of
# node a (no pod, no network namespace of their own), in cgroups the
# agent of node a was given with --workload-cgroup PATH=IDENTITY:
#  - curl in the "client" cgroup reaches service web by its VIP, across
#    the nodes, and a 1 MiB body arrives intact;
#  - the agent recovered the original destination (VIP:port) and the
#    cgroup's identity for it, from the kernel's record;
#  - a dual-stack socket's IPv4-mapped VIP is rewritten the same way;
#  - curl in the "intruder" cgroup is denied by web's permission on node b;
#  - the same curl outside any workload cgroup is not rewritten (the VIP
#    has no listener on the node), and a direct connection to the
#    agent's listener from outside is refused as of no workload;
#  - with --sockmap auto, the fast path's self-test passes (log and
#    /metrics), and pod a1's calls to web after the first (whose verdict
#    the agent gives) are moved socket to socket into the agent, answered
#    as before;
#  - a same-node call (a1 to intruder, whose endpoint is a2 on node a):
#    a2's answers are moved into the agent's connection to it, whole;
#    a2's answers to a1 dialling it directly are not;
#  - the front door's hop: curl in the client cgroup, after its first call
#    (whose verdict the agent gives), sends to the agent socket to socket,
#    answered as before; the intruder cgroup's calls, denied, never move;
#  - the agent's stop takes its cgroup links with it.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_front_door
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"
tl_require_cmd sha256sum head

tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml"
root=$(dirname "$("$TB" cgroup a1)") || { fail cgroup_root "no cgroup v2 root"; tl_finish; }
cg_client=$root/mf-fd-client-$$
cg_intruder=$root/mf-fd-intruder-$$
cleanup_cgroups() {
	local d
	for d in "$cg_client/sub" "$cg_client" "$cg_intruder"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
}
trap 'rc=$?; "$TB" agents-stop >/dev/null 2>&1; cleanup_cgroups; (exit $rc); tl_cleanup' EXIT
mkdir "$cg_client" "$cg_client/sub" "$cg_intruder" || { fail cgroups "cannot make cgroups under $root"; tl_finish; }

id_client=spiffe://mesh.local/ns/default/sa/client
id_intruder=spiffe://mesh.local/ns/default/sa/intruder
MF_AGENT_ARGS="--log-level debug --sockmap auto --workload-cgroup $cg_client=$id_client --workload-cgroup $cg_intruder=$id_intruder" \
	"$TB" agents-start a >"$TL_TMP/start-a.log" 2>&1 ||
	{ cat "$TL_TMP/start-a.log" >&2; fail agent_a_start; tl_finish; }
"$TB" agents-start b >"$TL_TMP/start-b.log" 2>&1 ||
	{ cat "$TL_TMP/start-b.log" >&2; fail agent_b_start; tl_finish; }
for p in a2 b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done
log_a=$(tl_agent_log mf-node-a)
if grep -q "event=front_door_attached cgroup=$cg_client " "$log_a" &&
	grep -q "event=front_door_attached cgroup=$cg_intruder " "$log_a"; then
	pass attached
else
	fail attached "$(grep front_door "$log_a")"
fi

# in_cgroup CG CMD...: CMD in node a's network namespace, as a process of
# cgroup CG (the shell moves first; exec keeps its pid).
in_cgroup() {
	local cg=$1
	shift
	nsenter --net=/run/netns/mf-node-a -- sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

mark=$(tl_log_mark mf-node-a)
got=$(in_cgroup "$cg_client" curl -sS -m 10 http://10.96.0.10/whoami 2>&1)
case "$got" in
pod=mf-pod-b[12]\ node=mf-node-b\ *) pass vip_reached_across_nodes ;;
*) fail vip_reached_across_nodes "curl in the client cgroup got: $got" ;;
esac
# The agent's own account of that connection: the VIP it asked for, from
# the kernel's record, and the identity of its cgroup.
if tl_log_since mf-node-a "$mark" | grep -q "event=outbound .*src=127\.0\.0\.1:[0-9]* dst=10\.96\.0\.10:80 service=web src_spiffe=$id_client "; then
	pass original_destination_recovered
else
	fail original_destination_recovered "$(tl_log_since mf-node-a "$mark" | grep -m3 'event=outbound\|refused')"
fi

# A process in a cgroup below the workload's: the same workload.
head -c 1048576 /dev/urandom >"$TL_TMP/body"
want=$(sha256sum <"$TL_TMP/body" | cut -d' ' -f1)
got=$(in_cgroup "$cg_client/sub" curl -sS -m 20 --data-binary @"$TL_TMP/body" \
	-H 'Content-Type: application/octet-stream' http://10.96.0.10/sha256 2>&1)
[ "$got" = "$want" ] && pass body_intact_from_sub_cgroup ||
	fail body_intact_from_sub_cgroup "sha256 $got, sent $want"

got=$(in_cgroup "$cg_client" curl -sS -m 10 'http://[::ffff:10.96.0.10]/whoami' 2>&1)
case "$got" in
pod=mf-pod-b[12]\ *) pass ipv4_mapped_rewritten ;;
*) fail ipv4_mapped_rewritten "curl to [::ffff:10.96.0.10] got: $got" ;;
esac

# The intruder's identity has no permission for web: node b refuses it.
mark_b=$(tl_log_mark mf-node-b)
if got=$(in_cgroup "$cg_intruder" curl -sS -m 10 http://10.96.0.10/whoami 2>&1); then
	fail intruder_denied "curl in the intruder cgroup got: $got"
elif tl_log_since mf-node-b "$mark_b" | grep -q "$id_intruder"; then
	pass intruder_denied
else
	fail intruder_denied "node b logged nothing of $id_intruder: $(tl_log_since mf-node-b "$mark_b" | tail -n 3)"
fi

# Outside the workload cgroups nothing is rewritten: the VIP is only a
# local route of the node, where nothing listens on port 80.
got=$(tb_exec a curl -sS -m 5 http://10.96.0.10/whoami 2>&1)
case "$got" in
*"Connection refused"* | *"Failed to connect"* | *"Couldn't connect"*) pass outside_untouched ;;
*) fail outside_untouched "curl outside the cgroups got: $got" ;;
esac
# The agent's listener itself, from outside: no record, no workload.
mark=$(tl_log_mark mf-node-a)
if got=$(tb_exec a curl -sS -m 5 http://127.0.0.1:15001/whoami 2>&1); then
	fail direct_refused "a direct connection got: $got"
elif tl_log_since mf-node-a "$mark" | grep -q 'reason="unknown service"\|unknown source'; then
	pass direct_refused
else
	fail direct_refused "$(tl_log_since mf-node-a "$mark" | tail -n 3)"
fi

# The same-node fast path, on node a's pods.
metrics() { tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics 2>/dev/null; }
if grep -q 'event=sockmap_selftest result=pass' "$log_a" &&
	metrics | grep -q '^meshforge_sockmap_enabled{mode="auto",selftest="pass"} 1$'; then
	pass sockmap_selftest_reported
else
	fail sockmap_selftest_reported "$(grep sockmap "$log_a"; metrics | grep sockmap)"
fi
ok=1
for _ in 1 2 3 4; do
	got=$(tb_exec a1 curl -sS -m 10 http://10.96.0.10/whoami 2>&1)
	case "$got" in pod=mf-pod-b[12]\ *) ;; *) ok=0; tl_log "a1 got: $got" ;; esac
done
moved=$(metrics | sed -n 's/^meshforge_sockmap_total{stat="allow_msgs"} //p')
if [ "$ok" = 1 ] && [ "${moved:-0}" -gt 0 ]; then
	pass sockmap_pod_calls_moved
else
	fail sockmap_pod_calls_moved "answers ok=$ok, allow_msgs=${moved:-none}: $(metrics | grep sockmap_total)"
fi

# The second hop of a same-node call: a2's answers (64 KiB each, read by
# the agent as they come) move into the agent's socket; a2 answering a1
# directly (no agent on that connection) keeps to TCP.
upstream() { metrics | sed -n 's/^meshforge_sockmap_total{stat="upstream_bytes"} //p'; }
up0=$(upstream)
ok=1
for _ in 1 2 3; do
	n=$(tb_exec a1 curl -sS -m 10 -o /dev/null -w '%{http_code} %{size_download}' http://10.96.0.12/bytes/65536 2>&1)
	[ "$n" = "200 65536" ] || { ok=0; tl_log "a1 -> intruder got: $n"; }
done
up1=$(upstream)
n=$(tb_exec a1 curl -sS -m 10 -o /dev/null -w '%{http_code} %{size_download}' http://10.78.1.12:8080/bytes/65536 2>&1)
up2=$(upstream)
if [ "$ok" = 1 ] && [ "$((${up1:-0} - ${up0:-0}))" -ge $((3 * 65536)) ]; then
	pass sockmap_same_node_answers_moved
else
	fail sockmap_same_node_answers_moved "answers ok=$ok, upstream_bytes ${up0:-none} -> ${up1:-none}: $(metrics | grep sockmap_total)"
fi
if [ "$n" = "200 65536" ] && [ "${up2:-0}" = "${up1:-0}" ]; then
	pass sockmap_direct_answers_not_moved
else
	fail sockmap_direct_answers_not_moved "a1 -> a2 direct got '$n', upstream_bytes ${up1:-none} -> ${up2:-none}"
fi

# The front door's loopback hop: a workload process's sends move into the
# agent's socket once the agent has judged (web, its identity).
sockstat() { metrics | sed -n "s/^meshforge_sockmap_total{stat=\"$1\"} //p"; }
allow0=$(sockstat allow_msgs)
ok=1
for _ in 1 2 3 4; do
	got=$(in_cgroup "$cg_client" curl -sS -m 10 http://10.96.0.10/whoami 2>&1)
	case "$got" in pod=mf-pod-b[12]\ *) ;; *) ok=0; tl_log "client cgroup got: $got" ;; esac
done
allow1=$(sockstat allow_msgs)
if [ "$ok" = 1 ] && [ "$((${allow1:-0} - ${allow0:-0}))" -ge 3 ]; then
	pass sockmap_front_door_moved
else
	fail sockmap_front_door_moved "answers ok=$ok, allow_msgs ${allow0:-none} -> ${allow1:-none}: $(metrics | grep sockmap_total)"
fi
deny0=$(sockstat deny_msgs)
for _ in 1 2 3; do
	in_cgroup "$cg_intruder" curl -sS -m 10 -o /dev/null http://10.96.0.10/whoami 2>/dev/null
done
deny1=$(sockstat deny_msgs)
allow2=$(sockstat allow_msgs)
if [ "$((${deny1:-0} - ${deny0:-0}))" -ge 2 ] && [ "${allow2:-0}" = "${allow1:-0}" ]; then
	pass sockmap_front_door_denied_not_moved
else
	fail sockmap_front_door_denied_not_moved "deny_msgs ${deny0:-none} -> ${deny1:-none}, allow_msgs ${allow1:-none} -> ${allow2:-none}"
fi

# The links go with the agent: after its stop, the cgroup's connect() is
# the application's again.
"$TB" agents-stop >/dev/null 2>&1
got=$(in_cgroup "$cg_client" curl -sS -m 5 http://10.96.0.10/whoami 2>&1)
case "$got" in
*"Connection refused"* | *"Failed to connect"* | *"Couldn't connect"*) pass detached_on_stop ;;
*) fail detached_on_stop "curl after the agent stopped got: $got" ;;
esac

tl_finish
