#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The agents' admin endpoint on the testbed: /ready answers on 127.0.0.1
# of each node, /metrics reflects real traffic (the kernel counted the
# steered packets, the agents the authorized connection and the policy
# epoch), /config_dump shows the applied service, and the port is not
# reachable from the wire.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_admin
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

VIP=10.96.0.10
TOKEN=mf-admin-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$TL_TMP/token"
tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
tl_httpd b1 "$TL_TMP/token" && tl_httpd b2 "$TL_TMP/token" ||
	{ fail httpd "server did not start"; tl_finish; }

admin() { tb_exec "$1" curl -sS -m 5 "http://127.0.0.1:15000$2"; }

for n in a b; do
	if [ "$(admin "$n" /ready)" = "ready" ]; then
		pass "ready_node_$n"
	else
		fail "ready_node_$n" "$(admin "$n" /ready 2>&1)"
	fi
done

body=$(tb_exec a1 curl -sS -m 10 "http://$VIP/token" 2>&1)
[ "$body" = "$TOKEN" ] && pass request_through_mesh || fail request_through_mesh "got '$body'"

admin a /metrics >"$TL_TMP/metrics-a" 2>&1
admin b /metrics >"$TL_TMP/metrics-b" 2>&1
# The value of the first sample line matching $2 in file $1.
sample() { grep -E "^$2" "$1" | head -n 1 | awk '{print $NF}'; }
steered=$(sample "$TL_TMP/metrics-a" 'meshforge_pod_packets_total\{reason="pod_steered"\}')
allowed=$(sample "$TL_TMP/metrics-b" 'meshforge_authz_decisions_total\{decision="allow"\}')
epoch=$(sample "$TL_TMP/metrics-b" 'meshforge_policy_epoch')
if [ "${steered:-0}" -ge 1 ] 2>/dev/null; then
	pass metrics_kernel_steered_counted
else
	fail metrics_kernel_steered_counted "pod_steered on node a: '${steered}'"
fi
if [ "${allowed:-0}" -ge 1 ] 2>/dev/null; then
	pass metrics_authorized_counted
else
	fail metrics_authorized_counted "allow decisions on node b: '${allowed}'"
fi
if [ "$epoch" = 1 ]; then
	pass metrics_policy_epoch
else
	fail metrics_policy_epoch "meshforge_policy_epoch on node b: '${epoch}'"
fi
if command -v promtool >/dev/null; then
	if promtool check metrics <"$TL_TMP/metrics-b" >"$TL_TMP/promtool.out" 2>&1; then
		pass metrics_pass_promtool
	else
		fail metrics_pass_promtool "$(cat "$TL_TMP/promtool.out")"
	fi
else
	echo "SKIP: test_admin/metrics_pass_promtool: promtool is not installed (Debian package prometheus)"
fi

dump=$(admin b /config_dump 2>&1)
if [[ "$dump" == *'"web"'* && "$dump" == *'10.96.0.10'* && "$dump" == *'10.78.2.11'* ]]; then
	pass config_dump_shows_service
else
	fail config_dump_shows_service "$dump"
fi

# Bound to loopback: node a cannot reach node b's admin port over the wire.
if tb_exec a curl -sS -m 3 "http://10.77.0.2:15000/ready" >/dev/null 2>&1; then
	fail admin_not_on_wire "10.77.0.2:15000 answered"
else
	pass admin_not_on_wire
fi

tl_finish
