#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Load through the mesh: 200 concurrent connections from pod a1 to the web
# VIP, each sending 1 MiB and reading the same 1 MiB back from an echo
# server in b1 and b2 (tests/tools/mf_load.c compares every byte and the
# checksums).  Afterwards both agents must give back every file descriptor
# the connections took, and still serve.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_load
tl_require_testbed
LOAD=$O/tests/tools/mf_load
tl_require_built "$MFCTL" "$AGENT" "$LOAD"

VIP=10.96.0.10
CONNS=${MF_LOAD_CONNS:-200}
BYTES=${MF_LOAD_BYTES:-1048576}

tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
tl_echo_up

# One small round trip first: the path works, and whatever an agent opens
# once for good (a first connection's lazy setup) is in the baseline.
if tb_exec a1 "$LOAD" client "$VIP" 80 2 4096 20 >"$TL_TMP/warm.out" 2>&1; then
	pass warmup_round_trip
else
	fail warmup_round_trip "$(cat "$TL_TMP/warm.out")"
fi

pid_a=$("$TB" pid a)
pid_b=$("$TB" pid b)
if [ -z "$pid_a" ] || [ -z "$pid_b" ]; then
	fail agents_running "agent pids '$pid_a' '$pid_b'"
	tl_finish
fi
# The warm-up's sockets may still be closing: settle before counting.
settled() {
	local a b
	a=$(tl_fd_count "$pid_a")
	b=$(tl_fd_count "$pid_b")
	[ "$a" = "${prev_a:-}" ] && [ "$b" = "${prev_b:-}" ] && return 0
	prev_a=$a prev_b=$b
	return 1
}
prev_a="" prev_b=""
wait_for 5 settled
base_a=$(tl_fd_count "$pid_a")
base_b=$(tl_fd_count "$pid_b")
tl_log "fd baseline: agent a $base_a, agent b $base_b"

start=$SECONDS
peak_a=0 peak_b=0
tb_exec a1 "$LOAD" client "$VIP" 80 "$CONNS" "$BYTES" 150 >"$TL_TMP/load.out" 2>&1 &
load_pid=$!
# Sample the agents while the load runs: their fd counts must actually rise,
# or the load did not go through them.
while kill -0 "$load_pid" 2>/dev/null; do
	n=$(tl_fd_count "$pid_a"); [ "$n" -gt "$peak_a" ] && peak_a=$n
	n=$(tl_fd_count "$pid_b"); [ "$n" -gt "$peak_b" ] && peak_b=$n
	sleep 0.2
done
wait "$load_pid"
rc=$?
tl_log "$(cat "$TL_TMP/load.out") (${CONNS}x${BYTES}B in $((SECONDS - start))s; fd peak a $peak_a b $peak_b)"
if [ "$rc" = 0 ] && grep -q "ok=$CONNS failed=0" "$TL_TMP/load.out"; then
	pass "load_${CONNS}_conns_checksums_match"
else
	fail "load_${CONNS}_conns_checksums_match" "mf_load exit $rc"
fi
if [ "$peak_a" -gt "$base_a" ] && [ "$peak_b" -gt "$base_b" ]; then
	pass load_went_through_both_agents
else
	fail load_went_through_both_agents "fd peaks a $peak_a (base $base_a), b $peak_b (base $base_b)"
fi

back() { [ "$(tl_fd_count "$pid_a")" -le "$base_a" ] && [ "$(tl_fd_count "$pid_b")" -le "$base_b" ]; }
if wait_for 20 back; then
	pass agent_fds_back_to_baseline
else
	fail agent_fds_back_to_baseline "agent a $(tl_fd_count "$pid_a") fds (baseline $base_a), agent b $(tl_fd_count "$pid_b") (baseline $base_b)"
fi

if [ "$("$TB" pid a)" = "$pid_a" ] && [ "$("$TB" pid b)" = "$pid_b" ] &&
	tb_exec a1 "$LOAD" client "$VIP" 80 4 65536 20 >"$TL_TMP/after.out" 2>&1; then
	pass agents_serve_after_load
else
	fail agents_serve_after_load "$(cat "$TL_TMP/after.out")"
fi

tl_finish
