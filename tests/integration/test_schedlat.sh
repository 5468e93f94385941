#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# mf_schedlat, the tool that splits `make bench`'s added latency
# (docs/benchmarks.md "Where the added latency goes"), measures what the
# scheduler did:
#  - a process that never sleeps, sharing one CPU with another, is always
#    either on the CPU or waiting in the run queue: the two times add up to
#    the run's length, each takes a real share, and it was preempted;
#  - a process asleep the whole run has no wait and next to no CPU time;
#  - processes named alike are one group: the two busy ones together had
#    the CPU the whole run;
#  - a bad pid or duration is refused with exit 2.
# Real BPF programs on the scheduler's tracepoints; no testbed.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_schedlat
[ "$(id -u)" = 0 ] || skip "needs root"
SL=$O/tests/tools/mf_schedlat
SL_BPF=$O/tests/tools/mf_schedlat.bpf.o
tl_require_built "$SL"
[ -f "$SL_BPF" ] || { fail build "$SL_BPF is not built (run make tests)"; tl_finish; }
tl_require_cmd taskset

PIDS=()
tl_schedlat_cleanup() {
	local rc=$?
	[ "${#PIDS[@]}" -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null
	(exit $rc)
	tl_cleanup
}
trap tl_schedlat_cleanup EXIT

# field JSON OBJECT KEY: one number of mf_schedlat's output.
field() {
	"$TL_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' "$@"
}

taskset -c 0 sh -c 'while :; do :; done' &
PIDS+=($!)
taskset -c 0 sh -c 'while :; do :; done' &
PIDS+=($!)
sleep 30 &
PIDS+=($!)
if ! "$SL" "$SL_BPF" 2 "busy:${PIDS[0]}" "asleep:${PIDS[2]}" >"$TL_TMP/out.json" 2>"$TL_TMP/err"; then
	fail runs "mf_schedlat failed: $(cat "$TL_TMP/err")"
	tl_finish
fi
secs=$("$TL_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$TL_TMP/out.json")
oncpu=$(field "$TL_TMP/out.json" busy oncpu_ns)
wait_ns=$(field "$TL_TMP/out.json" busy wait_ns)
preempted=$(field "$TL_TMP/out.json" busy preempted)
tl_log "busy: ${oncpu} ns on CPU, ${wait_ns} ns waiting, preempted $preempted times in $secs s"
# Both times, each within 10% of the run at either end: what a slice starts
# or ends outside the window is at most one slice each.
if "$TL_PY" -c 'import sys; s, c, w = float(sys.argv[1]) * 1e9, float(sys.argv[2]), float(sys.argv[3]); sys.exit(0 if 0.9 * s <= c + w <= 1.1 * s else 1)' "$secs" "$oncpu" "$wait_ns"; then
	pass contended_runs_or_waits
else
	fail contended_runs_or_waits "on CPU $oncpu + waiting $wait_ns ns != ${secs} s"
fi
if "$TL_PY" -c 'import sys; s, c, w = float(sys.argv[1]) * 1e9, float(sys.argv[2]), float(sys.argv[3]); sys.exit(0 if c >= 0.2 * s and w >= 0.2 * s else 1)' "$secs" "$oncpu" "$wait_ns"; then
	pass contended_shares_cpu
else
	fail contended_shares_cpu "on CPU $oncpu, waiting $wait_ns ns of ${secs} s: one CPU for two"
fi
[ "$preempted" -gt 0 ] && pass contended_preempted || fail contended_preempted "preempted $preempted"
s_oncpu=$(field "$TL_TMP/out.json" asleep oncpu_ns)
s_waits=$(field "$TL_TMP/out.json" asleep waits)
if [ "$s_waits" = 0 ] && [ "$s_oncpu" -lt 10000000 ]; then
	pass asleep_neither
else
	fail asleep_neither "a sleeping process: $s_waits waits, $s_oncpu ns on CPU"
fi

# One group of both: each of the two on CPU 0 or waiting for it the whole
# run, so the group's on-CPU and waiting times add up to two runs, of
# which at most one CPU's worth on it (less when something else of the
# machine runs there too).
if "$SL" "$SL_BPF" 1 "pair:${PIDS[0]}" "pair:${PIDS[1]}" >"$TL_TMP/pair.json" 2>"$TL_TMP/err"; then
	secs=$("$TL_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$TL_TMP/pair.json")
	p_oncpu=$(field "$TL_TMP/pair.json" pair oncpu_ns)
	p_wait=$(field "$TL_TMP/pair.json" pair wait_ns)
	if "$TL_PY" -c 'import sys; s, c, w = float(sys.argv[1]) * 1e9, float(sys.argv[2]), float(sys.argv[3]); sys.exit(0 if 1.8 * s <= c + w <= 2.2 * s and 0.2 * s <= c <= 1.1 * s else 1)' "$secs" "$p_oncpu" "$p_wait"; then
		pass group_adds_up
	else
		fail group_adds_up "two busy processes on one CPU: $p_oncpu ns on CPU and $p_wait ns waiting in $secs s"
	fi
else
	fail group_adds_up "mf_schedlat failed: $(cat "$TL_TMP/err")"
fi

"$SL" "$SL_BPF" 1 x:notapid >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] && pass bad_pid_refused || fail bad_pid_refused "exit $rc"
"$SL" "$SL_BPF" -1 "x:${PIDS[0]}" >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] && pass bad_duration_refused || fail bad_duration_refused "exit $rc"
tl_finish
