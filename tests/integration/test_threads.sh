#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Agents of two event loops each (--threads 2) on the testbed: pods'
# connections, steered by the TC program with bpf_sk_assign() into the
# outbound listeners' SO_REUSEPORT group, are served by both loops of node
# a, and the tunnel connections by both loops of node b (their per-loop
# counters in /metrics); every connection is answered; a policy apply
# (a2's identity, denied before, allowed after) holds on every loop of
# node b: each of several connections, spread over both loops, is refused
# before and served after.  The certificates' reload on both loops is
# test_ca_rollover's, run with MF_AGENT_THREADS=2.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_threads
tl_require_testbed
LOAD=$O/tests/tools/mf_load
tl_require_built "$MFCTL" "$AGENT" "$LOAD"

VIP=10.96.0.10
POLICY=$TL_TOP/tests/integration/policy.yaml
TRIES=16
export MF_AGENT_THREADS=2

if ! "$AGENT" --check-kernel >/dev/null 2>&1; then
	echo "SKIP: test_threads: the kernel lacks what the agent needs"
	tl_finish
fi
case "$(uname -r)" in
[0-5].* | 6.[0-4].* | 6.[0-4]-*)
	echo "SKIP: test_threads: bpf_sk_assign() to an SO_REUSEPORT listener needs Linux 6.5"
	tl_finish
	;;
esac

tl_bed_up --apply "$POLICY" --agents
tl_echo_up

for n in mf-node-a mf-node-b; do
	if tl_log_since "$n" 0 | grep -q 'event=loops_started loops=2'; then
		pass "two_loops_$n"
	else
		fail "two_loops_$n" "$(grep -m3 'event=' "$(tl_agent_log "$n")")"
	fi
done

# $TRIES connections from pod $1, one at a time, 4 KiB each way: how many
# were answered.
tries() {
	local ok=0 i
	for i in $(seq "$TRIES"); do
		tb_exec "$1" "$LOAD" client "$VIP" 80 1 4096 5 >>"$TL_TMP/$1.out" 2>&1 &&
			ok=$((ok + 1))
	done
	echo "$ok"
}

got=$(tries a1)
[ "$got" = "$TRIES" ] && pass a1_all_answered || fail a1_all_answered "$got of $TRIES"

# The sample of loop $3 of family $2 in node $1's /metrics.
loop_sample() {
	tb_exec "$1" curl -sS -m 5 http://127.0.0.1:15000/metrics |
		grep -E "^$2\{loop=\"$3\"\} " | awk '{print $NF}'
}
for n in a b; do
	l0=$(loop_sample "$n" meshforge_loop_connections_accepted_total 0)
	l1=$(loop_sample "$n" meshforge_loop_connections_accepted_total 1)
	# $TRIES 4-tuples over two sockets, all on one: 1 in 2^15.
	if [ "${l0:-0}" -ge 1 ] 2>/dev/null && [ "${l1:-0}" -ge 1 ] 2>/dev/null; then
		pass "both_loops_serve_node_$n"
	else
		# What the agent said of its listeners, and who else holds
		# the tunnel's port (a socket that joined another's group).
		fail "both_loops_serve_node_$n" "loop 0: '$l0', loop 1: '$l1'; $(tl_log_since "mf-node-$n" 0 |
			grep -E 'event=(listen|listener_|adopt|unlisten|loops_started)' | head -n 8 | tr '\n' ' ')$(tb_exec "$n" ss -Hltnp 2>/dev/null | tr '\n' ' ')"
	fi
done

# a2's identity is not allowed to web: refused on whichever loop.
got=$(tries a2)
[ "$got" = 0 ] && pass a2_refused_on_every_loop || fail a2_refused_on_every_loop "$got of $TRIES answered"

NEW=$TL_TMP/policy-allow-a2.yaml
cat "$POLICY" - >"$NEW" <<'YAML'
    - targetRef: {kind: SpiffeID, name: "spiffe://mesh.local/ns/default/sa/intruder"}
      default: {action: Allow}
YAML
if "$TB" apply "$NEW" >"$TL_TMP/apply.out" 2>&1; then
	pass apply
else
	fail apply "$(cat "$TL_TMP/apply.out")"
fi
got=$(tries a2)
[ "$got" = "$TRIES" ] && pass a2_served_on_every_loop || fail a2_served_on_every_loop "$got of $TRIES"
for k in 0 1; do
	e=$(loop_sample b meshforge_loop_policy_epoch "$k")
	[ "$e" = 2 ] && pass "node_b_loop_${k}_epoch_2" || fail "node_b_loop_${k}_epoch_2" "epoch '$e'"
done

tl_finish
