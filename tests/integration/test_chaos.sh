#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Chaos on the two-node testbed: pod a1 calls web (echo servers in b1 and
# b2, tests/tools/mf_load.c; then mf_httpd.py), through both agents.
#  - 1% packet loss both ways on the wire (tests/tools/mf_drop.bpf.c in
#    TC, since this kernel has no netem): 200 connections x 1 MiB each way
#    arrive whole and unchanged (mf_load compares every byte), and TCP did
#    retransmit;
#  - an upstream that resets mid-response, and a destination agent that
#    stops mid-handshake and is then killed: the client gets an error
#    (a reset, or a close with nothing), and both agents come back to
#    their file descriptor baseline with no connection open;
#  - SIGKILL of agent a while a1 makes requests: its pinned maps and TC
#    programs stay; a new agent is ready within a second and serves; the
#    requests that failed are at most those in flight when it died (new
#    connections' SYNs wait for the new listener).
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_chaos
tl_require_testbed
LOAD=$O/tests/tools/mf_load
DROP=$O/tests/tools/mf_drop.bpf.o
tl_require_built "$MFCTL" "$AGENT" "$LOAD"
[ -f "$DROP" ] || { fail build "$DROP is not built (run make tests)"; tl_finish; }
VIP=10.96.0.10

tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
tl_echo_up

pid_a=$("$TB" pid a)
pid_b=$("$TB" pid b)
conns_open() {
	tb_exec "$1" curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk '$1 == "meshforge_connections_active" {print $2}'
}
# The warm-up's lazy setup is in the baseline.
tb_exec a1 "$LOAD" client "$VIP" 80 2 4096 20 >/dev/null 2>&1
sleep 0.5
base_a=$(tl_fd_count "$pid_a")
base_b=$(tl_fd_count "$pid_b")
# back_to_baseline: both agents hold what they held at the start, and no
# connection.
at_baseline() {
	[ "$(tl_fd_count "$pid_a")" -le "$base_a" ] &&
		[ "$(tl_fd_count "$pid_b")" -le "$base_b" ] &&
		[ "$(conns_open a)" = 0 ] && [ "$(conns_open b)" = 0 ]
}
retrans() {
	tb_exec "$1" nstat -az TcpRetransSegs | awk '$1 == "TcpRetransSegs" {print $2}'
}

# ---- packet loss ----------------------------------------------------------------
r0=$(( $(retrans mf-node-a) + $(retrans mf-node-b) ))
for end in "mf-node-a mfwa" "mf-node-b mfwb"; do
	set -- $end
	tb_exec "$1" tc qdisc add dev "$2" clsact 2>/dev/null
	tb_exec "$1" tc filter add dev "$2" egress bpf da obj "$DROP" sec tc ||
		{ fail drop_attach "tc filter on $2"; tl_finish; }
done
if tb_exec a1 "$LOAD" client "$VIP" 80 200 1048576 180 >"$TL_TMP/loss.out" 2>&1; then
	r1=$(( $(retrans mf-node-a) + $(retrans mf-node-b) ))
	tl_log "under 1% loss: $(tail -1 "$TL_TMP/loss.out"); $((r1 - r0)) segments retransmitted"
	if [ $((r1 - r0)) -gt 0 ]; then
		pass loss_keeps_payloads_whole
	else
		fail loss_keeps_payloads_whole "no retransmission: was anything dropped?"
	fi
else
	fail loss_keeps_payloads_whole "$(tail -5 "$TL_TMP/loss.out")"
fi
tb_exec mf-node-a tc filter del dev mfwa egress
tb_exec mf-node-b tc filter del dev mfwb egress
if wait_for 10 at_baseline; then
	pass loss_leaks_nothing
else
	fail loss_leaks_nothing "fds a $(tl_fd_count "$pid_a")/$base_a b $(tl_fd_count "$pid_b")/$base_b; conns a $(conns_open a) b $(conns_open b)"
fi

# ---- an upstream that resets mid-response ----------------------------------------------
# mf_httpd in place of the echo servers: /reset answers with a RST.
pkill -f "$LOAD serve" 2>/dev/null
sleep 0.3
for p in b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done
fails=0
for _ in $(seq 1 20); do
	tb_exec a1 curl -sS -m 5 -o /dev/null "http://$VIP/reset" 2>/dev/null && fails=$((fails + 1))
done
ok=$(tb_exec a1 curl -sS -m 5 "http://$VIP/whoami" 2>&1)
if [ "$fails" = 0 ] && [[ "$ok" == pod=* ]] && wait_for 10 at_baseline; then
	pass upstream_reset_clean
else
	fail upstream_reset_clean "$fails of 20 resets looked like answers; then '$ok'; fds a $(tl_fd_count "$pid_a")/$base_a b $(tl_fd_count "$pid_b")/$base_b"
fi

# ---- the destination agent stops mid-handshake, then is killed -----------------------
kill -STOP "$pid_b"
t0=$(date +%s%N)
tb_exec a1 curl -sS -m 10 -o /dev/null "http://$VIP/whoami" >"$TL_TMP/stopped.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
kill -KILL "$pid_b"
kill -CONT "$pid_b" 2>/dev/null
wait_for 5 sh -c "! kill -0 $pid_b 2>/dev/null"
# Agent a's side of it is gone: its fds, its connection.
a_clean() { [ "$(tl_fd_count "$pid_a")" -le "$base_a" ] && [ "$(conns_open a)" = 0 ]; }
if [ "$rc" != 0 ] && [ "$ms" -lt 8000 ] && wait_for 10 a_clean; then
	pass destination_agent_gone_clean
else
	fail destination_agent_gone_clean "curl rc $rc after $ms ms ($(cat "$TL_TMP/stopped.out")); fds a $(tl_fd_count "$pid_a")/$base_a, conns $(conns_open a)"
fi
"$TB" agents-start b >"$TL_TMP/start-b.log" 2>&1 ||
	{ fail agent_b_restart "$(cat "$TL_TMP/start-b.log")"; tl_finish; }
pid_b=$("$TB" pid b)
served() { tb_exec a1 curl -fsS -m 2 -o /dev/null "http://$VIP/whoami"; }
if wait_for 10 served; then
	pass destination_agent_back
else
	fail destination_agent_back "no answer through the restarted agent b"
fi

# ---- SIGKILL of agent a under load ---------------------------------------------------
cat >"$TL_TMP/steady.py" <<'PY'
import http.client, sys, time
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection("10.96.0.10", 80, timeout=15)
        c.request("GET", "/whoami")
        r = c.getresponse()
        r.read()
        print("ok", round(time.time(), 3), flush=True)
        c.close()
    except Exception as e:
        print("fail", round(time.time(), 3), type(e).__name__, flush=True)
    time.sleep(0.02)
PY
tl_bg a1 "$TL_TMP/steady.out" "$TL_PY" "$TL_TMP/steady.py" 8
STEADY=$TL_BG_PID
sleep 2
pins=$(find /sys/fs/bpf/mf-node-a -maxdepth 1 | wc -l)
veth=mfpa1
kill -KILL "$pid_a"
t_kill=$(date +%s.%N)
wait_for 5 sh -c "! kill -0 $pid_a 2>/dev/null"
pins_after=$(find /sys/fs/bpf/mf-node-a -maxdepth 1 | wc -l)
tc_after=$(tb_exec mf-node-a tc filter show dev "$veth" ingress | grep -c bpf)
t_start=$(date +%s.%N)
"$TB" agents-start a >"$TL_TMP/start-a.log" 2>&1 ||
	{ fail agent_a_restart "$(cat "$TL_TMP/start-a.log")"; tl_finish; }
# From its start to its own "ready" line (its listeners are up), and a
# request through it at once.
t_ready=$(grep 'event=ready' "$(tl_agent_log mf-node-a)" | tail -1 | sed 's/^ts=\([0-9.]*\) .*/\1/')
ready_ms=$(awk -v a="$t_start" -v b="$t_ready" 'BEGIN {printf "%d", (b - a) * 1000}')
served_now=0
tb_exec a1 curl -fsS -m 2 -o /dev/null "http://$VIP/whoami" && served_now=1
wait "$STEADY" 2>/dev/null
nok=$(grep -c '^ok ' "$TL_TMP/steady.out")
nfail=$(grep -c '^fail ' "$TL_TMP/steady.out")
after=$(awk -v t="$t_kill" '$1 == "ok" && $2 > t' "$TL_TMP/steady.out" | wc -l)
tl_log "agent a killed under load: maps pinned $pins -> $pins_after, TC filters on $veth: $tc_after; new agent ready in $ready_ms ms (a request at once: $served_now); requests: $nok answered ($after after the kill), $nfail failed"
if [ "$pins_after" = "$pins" ] && [ "$tc_after" -ge 1 ] && [ "$ready_ms" -le 1000 ] &&
	[ "$served_now" = 1 ] && [ "$after" -ge 1 ] && [ "$nfail" -le 1 ]; then
	pass agent_sigkill_recovers
else
	fail agent_sigkill_recovers "failures: $(grep '^fail' "$TL_TMP/steady.out" | head -3 | tr '\n' '|')"
fi

tl_finish
