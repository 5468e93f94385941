#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Hitless restarts of agent a on the two-node testbed (agents started with
# --drain-timeout 20), pod a1 calling web (mf_httpd in b1 and b2, a TCP
# service) through both agents, four in a row, from one event loop to one,
# one to two (--threads 2), two to two and two to one (the rounds with two
# skipped before Linux 6.5, where an agent runs one):
#  - a new agent a is started next to the running one: it takes the
#    listening sockets of every loop over (agent/handover.h), each of its
#    loops its share, and the old one drains and exits;
#  - meanwhile a request every 50 ms on a new connection: none fails;
#  - and 100 long-lived keep-alive connections, each a request a second
#    for 8 s, opened before the restart: every one gets all its answers
#    and is closed by its client, on the old agent (the drain waits for
#    them), which then exits with no connection left, well before its
#    drain deadline;
#  - the pod's TC filters are on the whole time (the old agent leaves
#    them to the new one);
#  - a new agent of two loops serves the pod on both (their counters in
#    /metrics);
#  - then (after the last round) the pins of node a are removed and made
#    again by an apply: the
#    running agent takes the new maps within a second of their pins
#    (agent/pinwatch.h), and a1's requests are answered through them.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_restart
tl_require_testbed
tl_require_cmd tc
tl_require_built "$MFCTL" "$AGENT"

VIP=10.96.0.10
NODE=mf-node-a
VETH=mfpa1
OLD=""
trap 'rc=$?; [ -n "$OLD" ] && kill -KILL "$OLD" 2>/dev/null; (exit "$rc"); tl_cleanup' EXIT

export MF_AGENT_ARGS="--drain-timeout 20"
# The first round's loops; each restart says its own.
export MF_AGENT_THREADS=1
tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done


# The kernel steers pods' connections into an SO_REUSEPORT group from
# Linux 6.5 (workers_reuseport_steering()): the agent runs one loop before.
ROUNDS="1:1 1:2 2:2 2:1"
case "$(uname -r)" in
[0-5].* | 6.[0-4].* | 6.[0-4]-*)
	tl_log "Linux $(uname -r): one event loop only"
	ROUNDS="1:1"
	;;
esac

# The connections loop $1 of agent a accepted, from its /metrics.
loop_accepted() {
	tb_exec "$NODE" curl -sS -m 5 http://127.0.0.1:15000/metrics |
		grep -E "^meshforge_loop_connections_accepted_total\{loop=\"$1\"\} " | awk '{print $NF}'
}

# restart FROM TO: agent a, of FROM loops, restarted as one of TO loops.
restart() {
	local from=$1 to=$2 r="${1}to${2}" pid_old pid_new prog_before prog_after
	local mark t_start since long_rc t_gone drained nok nfail served adopted l0 l1

	pid_old=$("$TB" pid a)
	OLD=$pid_old
	prog_before=$(tb_exec "$NODE" tc filter show dev "$VETH" ingress | grep -o 'id [0-9]*' | head -1)

	tl_bg a1 "$TL_TMP/long.out" "$TL_PY" "$TL_TOOLS/mf_longlived.py" 100 8
	LONG=$TL_BG_PID
	wait_for 10 grep -q '^open 100' "$TL_TMP/long.out" ||
		{ fail "longlived_open_$r" "$(cat "$TL_TMP/long.out")"; tl_finish; }
	tl_bg a1 "$TL_TMP/steady.out" "$TL_PY" "$TL_TOOLS/mf_steady.py" 12
	STEADY=$TL_BG_PID
	sleep 1.5

	# The new agent, as testbed.sh starts one, while the old one runs:
	# the testbed follows the pid of the newest.
	mark=$(tl_log_mark "$NODE")
	mv "$TL_STATE/$NODE/agent.pid" "$TL_STATE/$NODE/agent.pid.old"
	t_start=$(date +%s.%N)
	MF_AGENT_THREADS=$to "$TB" agents-start a >"$TL_TMP/start-a.log" 2>&1 ||
		{ fail "new_agent_start_$r" "$(cat "$TL_TMP/start-a.log")"; tl_finish; }
	pid_new=$("$TB" pid a)
	since=$(tl_log_since "$NODE" "$mark")
	# Each socket of the old agent's outbound group, to a loop of the new
	# one: as many as the old one had loops, and with two new loops
	# every one has its share (or joins the group, from one).
	adopted=$(grep -c 'event=listener_adopted listener=outbound ' <<<"$since")
	tl_log "$r: new agent $pid_new: $(grep -c 'event=listener_adopted' <<<"$since") listeners adopted, $adopted outbound"
	if [ "$adopted" = "$from" ] && grep -q "event=loops_started loops=$to" <<<"$since" &&
		grep -q "event=handed_over loops=$from" <<<"$since" && [ "$pid_new" != "$pid_old" ] &&
		kill -0 "$pid_old" 2>/dev/null; then
		pass "listeners_handed_over_$r"
	else
		fail "listeners_handed_over_$r" "$(grep -E 'handover|handed|adopt|listen|loops' <<<"$since" | head -8)"
	fi

	# The long-lived connections end on the old agent, which then exits.
	wait "$LONG"
	long_rc=$?
	tl_log "$r: long-lived: $(tr '\n' ' ' <"$TL_TMP/long.out")"
	if [ "$long_rc" = 0 ]; then
		pass "longlived_finish_on_old_agent_$r"
	else
		fail "longlived_finish_on_old_agent_$r" "$(tail -5 "$TL_TMP/long.out")"
	fi
	if wait_for 25 sh -c "! kill -0 $pid_old 2>/dev/null"; then
		t_gone=$(date +%s.%N)
		# One line per loop of the old agent, loop 0's last (every loop's
		# connections).
		drained=$(tl_log_since "$NODE" "$mark" | grep 'event=drained')
		tl_log "$r: old agent gone $(awk -v a="$t_start" -v b="$t_gone" 'BEGIN {printf "%.1f", b - a}') s after the new one started: $(grep 'loop=0 ' <<<"$drained")"
		if grep -q 'loop=0 conns_left=0 ' <<<"$drained" && ! grep -qv 'conns_left=0 ' <<<"$drained"; then
			pass "old_agent_drains_and_exits_$r"
		else
			fail "old_agent_drains_and_exits_$r" "$drained"
		fi
		OLD=""
	else
		fail "old_agent_drains_and_exits_$r" "still running 25 s after the long-lived connections ended"
	fi

	wait "$STEADY"
	nok=$(grep -c '^ok ' "$TL_TMP/steady.out")
	nfail=$(grep -c '^fail' "$TL_TMP/steady.out")
	tl_log "$r: a request every 50 ms across the restart: $nok answered, $nfail failed"
	if [ "$nfail" = 0 ] && [ "$nok" -ge 100 ]; then
		pass "zero_failed_requests_$r"
	else
		fail "zero_failed_requests_$r" "$(grep '^fail' "$TL_TMP/steady.out" | head -3 | tr '\n' '|')"
	fi
	prog_after=$(tb_exec "$NODE" tc filter show dev "$VETH" ingress | grep -o 'id [0-9]*' | head -1)
	served=0
	tb_exec a1 curl -fsS -m 3 -o /dev/null "http://$VIP/whoami" && served=1
	if [ -n "$prog_after" ] && [ "$prog_after" != "$prog_before" ] && [ "$served" = 1 ]; then
		pass "new_agent_owns_the_pods_$r"
	else
		fail "new_agent_owns_the_pods_$r" "filter program '$prog_before' -> '$prog_after', served $served"
	fi
	# With two loops, both serve the pod (from one: the second loop's
	# socket joined the group it was handed).
	if [ "$to" = 2 ]; then
		l0=$(loop_accepted 0)
		l1=$(loop_accepted 1)
		# 100 and more 4-tuples over two sockets, all on one: 1 in 2^99.
		if [ "${l0:-0}" -ge 1 ] 2>/dev/null && [ "${l1:-0}" -ge 1 ] 2>/dev/null &&
			! tl_log_since "$NODE" "$mark" | grep -q 'event=listen_failed'; then
			pass "both_loops_serve_$r"
		else
			fail "both_loops_serve_$r" "loop 0: '$l0', loop 1: '$l1'; $(tl_log_since "$NODE" "$mark" | grep -m2 'listen_failed')"
		fi
	fi
	rm -f "$TL_STATE/$NODE/agent.pid.old"
	pid_new_last=$pid_new
}

pid_new_last=""
for round in $ROUNDS; do
	restart "${round%:*}" "${round#*:}"
done
pid_new=$pid_new_last

# ---- pins removed and made again under the running agent ----------------------
mark=$(tl_log_mark "$NODE")
rm -f "/sys/fs/bpf/$NODE"/mf_*
tl_ctl a apply -f "$TL_TOP/tests/integration/policy.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail reapply "$(cat "$TL_TMP/apply.log")"; tl_finish; }
t_pinned=$(date +%s.%N)
if wait_for 3 sh -c "tail -n +$((mark + 1)) '$(tl_agent_log "$NODE")' | grep -q 'event=policy_maps_switched'"; then
	line=$(tl_log_since "$NODE" "$mark" | grep 'event=pins_recreated' | head -1)
	t_seen=$(sed 's/^ts=\([0-9.]*\) .*/\1/' <<<"$line")
	ms=$(awk -v a="$t_pinned" -v b="$t_seen" 'BEGIN {printf "%d", (b - a) * 1000}')
	tl_log "pins made again: taken ${ms} ms after the apply returned"
	if [ "$ms" -le 1100 ] && wait_for 3 tb_exec a1 curl -fsS -m 2 -o /dev/null "http://$VIP/whoami" &&
		[ "$("$TB" pid a)" = "$pid_new" ]; then
		pass recreated_pins_taken
	else
		fail recreated_pins_taken "after ${ms} ms; then no answer through them"
	fi
else
	fail recreated_pins_taken "$(tl_log_since "$NODE" "$mark" | grep -E 'pins|kern_reopen' | head -3)"
fi

tl_finish
