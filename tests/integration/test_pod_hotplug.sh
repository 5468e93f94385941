#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Pods found by netlink, on the two-node testbed, the agents started with
# --pod-iface-pattern 'mfp*' (the testbed's pod veths are mfpa1 ... mfpb2):
#  - while pod a1 makes requests to the web VIP without pause, a pod the
#    testbed does not know, a9 (namespace mf-pod-a9, veth mfpa9,
#    10.78.1.19, identity client), is added to node a the way testbed.sh
#    makes its pods, with a Workload applied for it: agent a attaches its
#    programs to mfpa9 (its log line, the TC filter, the gauge);
#  - a9's requests to the VIP are answered by web's pods, and agent a
#    logs each one as an outbound connection from 10.78.1.19;
#  - a9's namespace is deleted: agent a forgets mfpa9 (its log line, the
#    gauge back), then a9 comes again and is attached again, and goes
#    again;
#  - agent a is the same process throughout, and every one of a1's
#    requests was answered.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_pod_hotplug
tl_require_testbed
tl_require_cmd tc
tl_require_built "$MFCTL" "$AGENT"

VIP=10.96.0.10
NODE=mf-node-a
GW=10.78.1.1			# node a's pod gateway (testbed.sh)
NS9=mf-pod-a9
VETH9=mfpa9
IP9=10.78.1.19			# in node a's pod range, 10.78.1.0/24
TOKEN=mf-token-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$TL_TMP/token"

# The pod this test adds is none of testbed.sh's, so `testbed.sh down`
# would leave it: it is removed here, whatever way the test ends.
pod9_del() {
	local pids
	[ -e "/run/netns/$NS9" ] || return 0
	pids=$(ip netns pids "$NS9" 2>/dev/null)
	# shellcheck disable=SC2086 # one pid per word
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	ip netns del "$NS9"
}
trap 'rc=$?; pod9_del; (exit "$rc"); tl_cleanup' EXIT
# ... and one an interrupted run left is removed first (the testbed lock
# is held: no other run is using it).
pod9_del

# The pattern reaches the agent through testbed.sh's unquoted
# MF_AGENT_ARGS: in the test's own directory, where no name starts with
# mfp, the shell leaves it as it is.
cd "$TL_TMP" || exit 2
# Debug logs: agent a then logs every connection it takes
# (event=outbound), which says a9's requests went through it.
export MF_AGENT_ARGS="--pod-iface-pattern mfp* --log-level debug"
tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" "$TL_TMP/token" || { fail "httpd_$p" "server did not start"; tl_finish; }
done
pid_a=$("$TB" pid a)

# metric NAME: agent a's sample NAME (no labels) from /metrics.
metric() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v k="$1" '$1 == k {print $2}'
}
attached_is() { [ "$(metric meshforge_pod_interfaces_attached)" = "$1" ]; }
# a9 CMD...: CMD in the new pod's network namespace.
a9() { nsenter --net="/run/netns/$NS9" -- "$@"; }
# yn CMD...: "yes" when CMD succeeds, else "no" (for the reasons of a fail).
yn() { if "$@"; then echo yes; else echo no; fi; }

if grep -q 'event=podwatch_started pattern="mfp\*"' "$(tl_agent_log "$NODE")" && attached_is 2; then
	pass agent_follows_pattern
else
	fail agent_follows_pattern "no podwatch_started line with the pattern, or $(metric meshforge_pod_interfaces_attached) pod interfaces attached (want 2: mfpa1 mfpa2)"
fi

# ---- a9's Workload ------------------------------------------------------------------
# The shipped policy and a Workload for a9, with a1's identity (agent a
# holds its certificate; web allows it), applied before a1's traffic
# starts: what that traffic shows is what the pod's coming and going
# does to it.
{
	cat "$TL_TOP/tests/integration/policy.yaml"
	cat <<'YAML'
---
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: a9}
spec:
  node: mf-node-a
  ip: 10.78.1.19
  port: 8080
  service: client
  identity: "spiffe://mesh.local/ns/default/sa/client"
YAML
} >"$TL_TMP/policy-a9.yaml"
"$TB" apply "$TL_TMP/policy-a9.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_a9 "$(cat "$TL_TMP/apply.log")"; tl_finish; }

# ---- a1's traffic, without pause, through it all ---------------------------------
cat >"$TL_TMP/traffic.sh" <<'SH'
#!/bin/bash
# traffic.sh STOP_FILE TOKEN: a request to the VIP every 50 ms until
# STOP_FILE appears, one line per request: "ok" or "fail <why>".
while [ ! -e "$1" ]; do
	if out=$(curl -sS -m 5 http://10.96.0.10/token 2>&1) && [ "$out" = "$2" ]; then
		echo ok
	else
		echo "fail $out" | tr '\n' ' '
		echo
	fi
	sleep 0.05
done
SH
tl_bg a1 "$TL_TMP/traffic.log" bash "$TL_TMP/traffic.sh" "$TL_TMP/traffic.stop" "$TOKEN"
TRAFFIC=$TL_BG_PID
# count REGEX: lines of a1's traffic log that match.
count() {
	local n
	n=$(grep -c "$1" "$TL_TMP/traffic.log" 2>/dev/null)
	echo "${n:-0}"
}
oks() { count '^ok$'; }
three_oks() { [ "$(oks)" -ge 3 ]; }
wait_for 15 three_oks || { fail a1_traffic_runs "$(head -n 3 "$TL_TMP/traffic.log")"; tl_finish; }

# ---- a9 comes and goes --------------------------------------------------------------
# As testbed.sh makes a pod: its namespace, a veth pair with the node's
# end up and a /32 route to the pod through it; in the pod, its address,
# a route to the node's gateway (which the node answers ARP for: it is on
# the node's lo) and the default route through it.
pod9_add() {
	ip netns add "$NS9" &&
		ip -n "$NS9" link set lo up &&
		a9 sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
		ip -n "$NODE" link add "$VETH9" type veth peer name eth0 netns "$NS9" &&
		ip -n "$NODE" link set "$VETH9" up &&
		ip -n "$NODE" route add "$IP9/32" dev "$VETH9" src "$GW" &&
		ip -n "$NS9" addr add "$IP9/32" dev eth0 &&
		ip -n "$NS9" link set eth0 up &&
		ip -n "$NS9" route add "$GW/32" dev eth0 scope link &&
		ip -n "$NS9" route add default via "$GW" dev eth0 src "$IP9"
}

attach_line() { tl_log_since "$NODE" "$mark" | grep -q "event=pod_iface_attached iface=$VETH9 "; }
detach_line() { tl_log_since "$NODE" "$mark" | grep -q "event=pod_iface_detached iface=$VETH9 .*reason=deleted"; }
filter_on() {
	nsenter --net="/run/netns/$NODE" -- tc filter show dev "$VETH9" "$1" 2>/dev/null |
		grep -q "handle 0x6d66 mf_pod_$1"
}
veth_gone() { ! ip -n "$NODE" link show "$VETH9" >/dev/null 2>&1; }
outbound_line() { tl_log_since "$NODE" "$mark" | grep 'event=outbound' | grep -q "src=$IP9:"; }

for round in 1 2; do
	mark=$(tl_log_mark "$NODE")
	if ! pod9_add; then
		fail "pod_added_$round" "could not make $NS9 and $VETH9"
		tl_finish
	fi
	if wait_for 5 attach_line && filter_on ingress && filter_on egress && attached_is 3; then
		pass "pod_attached_$round"
	else
		fail "pod_attached_$round" "attach line: $(yn attach_line); filters: $(nsenter --net="/run/netns/$NODE" -- tc filter show dev "$VETH9" ingress 2>&1 | head -n 2 | tr '\n' ' '); gauge $(metric meshforge_pod_interfaces_attached)"
	fi

	bad=""
	for i in 1 2 3; do
		body=$(a9 curl -sS -m 10 "http://$VIP/token" 2>&1)
		[ "$body" = "$TOKEN" ] || { bad="request $i: got '$body'"; break; }
	done
	if [ -z "$bad" ] && wait_for 5 outbound_line; then
		pass "pod_traffic_through_agent_$round"
	else
		fail "pod_traffic_through_agent_$round" "${bad:-no event=outbound line from $IP9 in the log of agent a}"
	fi

	# A pod deleted: its namespace goes, and its veth with it.
	mark=$(tl_log_mark "$NODE")
	pod9_del
	if wait_for 10 detach_line && veth_gone && attached_is 2; then
		pass "pod_forgotten_$round"
	else
		fail "pod_forgotten_$round" "detach line: $(yn detach_line); veth gone: $(yn veth_gone); gauge $(metric meshforge_pod_interfaces_attached)"
	fi
done

# testbed.sh's pid is the agent's only while that process runs.
if [ -n "$pid_a" ] && [ "$("$TB" pid a 2>/dev/null)" = "$pid_a" ]; then
	pass same_agent_process
else
	fail same_agent_process "agent a was pid $pid_a, now '$("$TB" pid a 2>/dev/null)'"
fi

if ! tl_log_since "$NODE" 0 | grep -qE 'event=(pod_iface_attach_failed|podwatch_failed|podwatch_read_failed)'; then
	pass no_watch_errors
else
	fail no_watch_errors "$(tl_log_since "$NODE" 0 | grep -E 'event=(pod_iface_attach_failed|podwatch_failed|podwatch_read_failed)' | head -n 3)"
fi

# ---- a1's requests, every one answered ----------------------------------------------
# At least ten, whatever the machine's speed: on a fast one the steps above
# take less than ten requests' time.
ten_oks() { [ "$(oks)" -ge 10 ]; }
wait_for 10 ten_oks
touch "$TL_TMP/traffic.stop"
traffic_done() { ! kill -0 "$TRAFFIC" 2>/dev/null; }
wait_for 10 traffic_done || kill "$TRAFFIC" 2>/dev/null
n_ok=$(oks)
n_fail=$(count '^fail')
tl_log "a1: $n_ok requests answered, $n_fail not"
if [ "$n_fail" -eq 0 ] && [ "$n_ok" -ge 10 ]; then
	pass a1_traffic_unbroken
else
	fail a1_traffic_unbroken "$n_ok answered, $n_fail not: $(grep '^fail' "$TL_TMP/traffic.log" | head -n 3)"
fi

tl_finish
