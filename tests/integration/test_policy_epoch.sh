#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The agent follows the policy epoch: an apply during a 100-connection load
# drops none of the connections in flight (they keep the snapshot they
# started with), and the next connection after `mfctl apply` returns is
# served by the new policy.  The change: a2's identity, denied before, is
# allowed to reach web.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_policy_epoch
tl_require_testbed
LOAD=$O/tests/tools/mf_load
tl_require_built "$MFCTL" "$AGENT" "$LOAD"

VIP=10.96.0.10
CONNS=100
BYTES=${MF_EPOCH_LOAD_BYTES:-4194304}
POLICY=$TL_TOP/tests/integration/policy.yaml

tl_bed_up --apply "$POLICY" --agents
tl_echo_up

# The new policy: the same, plus an exact Allow for a2's identity.
NEW=$TL_TMP/policy-allow-a2.yaml
cat "$POLICY" - >"$NEW" <<'YAML'
    - targetRef: {kind: SpiffeID, name: "spiffe://mesh.local/ns/default/sa/intruder"}
      default: {action: Allow}
YAML

# a2 through the mesh: one connection, 4 KiB each way.
a2_try() { tb_exec a2 "$LOAD" client "$VIP" 80 1 4096 5 >>"$TL_TMP/a2.out" 2>&1; }

if a2_try; then
	fail a2_denied_before "a2 got through before the apply"
else
	pass a2_denied_before
fi

# The timestamp (ms) of node b's first log line after line $1 matching $2.
log_ms_after() {
	tl_log_since mf-node-b "$1" | grep -m1 -- "$2" |
		sed -n 's/^ts=\([0-9]*\)\.\([0-9]\{3\}\) .*/\1\2/p'
}

# 1. Idle: the first connection after the apply returns is served by the
# new policy.  The testbed's apply is `mfctl apply --wait` on each node: it
# returns once the node's agent serves the new epoch (its reloader thread
# builds snapshots off the data path, so the switch is not synchronous
# with the write).  The time from the return to node b's authorization
# (read off its log) is logged, not bounded: timing lives in `make bench`
# (make bench-stall), and this machine is shared.  The figure is an upper
# bound on the switch itself: it also holds starting the client in a2 and
# the connection's setup through agent a and the mTLS handshake.
mark=$(tl_log_mark mf-node-b)
if "$TB" apply "$NEW" >"$TL_TMP/apply.out" 2>&1; then
	t0=$(($(date +%s%N) / 1000000))
	if [ "$(grep -c 'the agent at 127.0.0.1:15000 serves epoch 2$' "$TL_TMP/apply.out")" = 2 ]; then
		pass apply_waits_for_both_agents
	else
		fail apply_waits_for_both_agents "$(cat "$TL_TMP/apply.out")"
	fi
	if a2_try; then
		t1=$(log_ms_after "$mark" 'event=authorized .*sa/intruder')
		ms=$((${t1:-0} - t0))
		tl_log "apply returned -> node b authorized a2 under epoch 2 after $ms ms"
		if [ -n "$t1" ]; then
			pass first_connection_after_apply_uses_new_policy
		else
			fail first_connection_after_apply_uses_new_policy "node b logged no authorization of a2"
		fi
	else
		fail first_connection_after_apply_uses_new_policy "$(tail -n 3 "$TL_TMP/a2.out")"
	fi
else
	fail apply_new_policy "$(cat "$TL_TMP/apply.out")"
fi
# Node b authorizes, so node b must have switched to epoch 2.
if grep -q "event=policy_loaded epoch=2 " "$(tl_agent_log mf-node-b)"; then
	pass agent_b_switched_to_epoch_2
else
	fail agent_b_switched_to_epoch_2 "no event=policy_loaded epoch=2 in node b's log"
fi

# 2. Under load: 100 connections move data while the original policy is
# applied back; none of them fails, and a2 is denied again right after.
pid_a=$("$TB" pid a)
base_a=$(tl_fd_count "$pid_a")
tb_exec a1 "$LOAD" client "$VIP" 80 "$CONNS" "$BYTES" 120 >"$TL_TMP/load.out" 2>&1 &
load_pid=$!
# Apply only once every connection of the load is through agent a (two fds
# each), so the apply really lands under connections in flight.
inflight() { [ "$(tl_fd_count "$pid_a")" -ge $((base_a + 2 * CONNS)) ]; }
if wait_for 20 inflight; then
	pass load_in_flight_before_apply
else
	fail load_in_flight_before_apply "agent a holds $(tl_fd_count "$pid_a") fds (base $base_a)"
fi
if "$TB" apply "$POLICY" >"$TL_TMP/apply2.out" 2>&1; then
	still_running=0
	kill -0 "$load_pid" 2>/dev/null && still_running=1
	if a2_try; then
		fail a2_denied_after_revert "a2 got through under epoch 3"
	else
		pass a2_denied_after_revert
	fi
	if [ "$still_running" = 1 ]; then
		pass apply_landed_while_load_ran
	else
		fail apply_landed_while_load_ran "the load had finished before the apply returned"
	fi
else
	fail apply_during_load "$(cat "$TL_TMP/apply2.out")"
fi
wait "$load_pid"
rc=$?
tl_log "$(cat "$TL_TMP/load.out")"
if [ "$rc" = 0 ] && grep -q "ok=$CONNS failed=0" "$TL_TMP/load.out"; then
	pass load_survives_apply_zero_failures
else
	fail load_survives_apply_zero_failures "mf_load exit $rc: $(cat "$TL_TMP/load.out")"
fi

tl_finish
