#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The upgrade in place (agent/upgrade.h) on the two-node testbed, agent a
# run as its systemd unit runs it: under a stand-in for the service
# manager (tests/tools/mf_svcmgr.py: NOTIFY_SOCKET with NotifyAccess=main's
# rules, and the reaper of what the agents leave), with no_new_privs, the
# unit's capability bounding set and LimitNOFILE (setpriv, prlimit), from a
# copy of the binary at a path of the test's, with two event loops (one
# before Linux 6.5); pod a1 calls web (mf_httpd in b1 and b2) through
# agents a and b:
#  - SIGUSR2 with a new binary installed at that path: the agent starts it
#    as its child (same path, read again, same arguments), the child
#    takes the listeners and serves with the four capabilities the old
#    agent kept (no_new_privs: no more); the service manager hears
#    MAINPID=<child> from the main process, then READY=1 from the child,
#    nothing refused; the old agent drains and exits 0;
#  - meanwhile a request every 50 ms on a new connection: none fails; and
#    100 keep-alive connections, a request a second for 8 s: every one
#    gets all its answers;
#  - a Mesh firewall applied while the old agent drains: the new agent
#    alone attaches its XDP program to the uplink, and it is still there
#    after the old agent exits;
#  - SIGUSR2 with a binary that exits 1 at that path: the agent goes on
#    serving (requests every 50 ms meanwhile: none fails), logs
#    event=upgrade_failed and says so in STATUS=; no MAINPID=;
#  - the good binary back, SIGUSR2 again: the upgraded agent (four
#    capabilities) is upgraded in turn.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_upgrade
tl_require_testbed
tl_require_cmd tc setpriv prlimit capsh
tl_require_built "$MFCTL" "$AGENT"

VIP=10.96.0.10
NODE=mf-node-a
VETH=mfpa1
UNIT=$TL_TOP/deploy/systemd/meshforge-agent.service
BIN=$TL_TMP/bin/meshforge-agent
NOTES=$TL_TMP/notify.out
MGR=""
trap 'rc=$?; [ -n "$MGR" ] && kill "$MGR" 2>/dev/null; (exit "$rc"); tl_cleanup' EXIT

unit_field() { awk -F= -v k="$1" '$1 == k {sub(/^[^=]*=/, ""); print; exit}' "$UNIT"; }
# The unit's bounding set, as setpriv takes it (-all,+bpf,...) and as
# capsh --decode names it (cap_bpf,...), sorted.
BSET=$(unit_field CapabilityBoundingSet)
SETPRIV_BSET="-all$(for c in $BSET; do c=${c#CAP_}; printf ',+%s' "${c,,}"; done)"
UNIT_CAPS=$(for c in $BSET; do echo "${c,,}"; done | sort | paste -sd,)
KEPT_CAPS=cap_bpf,cap_net_admin,cap_net_bind_service,cap_perfmon
# The unit's LimitNOFILE, or this machine's hard limit when lower (a
# container's).
NOFILE=$(unit_field LimitNOFILE)
[ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$NOFILE" ] && NOFILE=$(ulimit -Hn)

# caps PID FIELD: the capability set FIELD (CapPrm, CapBnd...) of PID by
# name, sorted.
caps() {
	local hex
	hex=$(awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status")
	capsh --decode="$hex" | sed 's/^[^=]*=//' | tr ',' '\n' | sort | paste -sd,
}
nnp() { awk '$1 == "NoNewPrivs:" {print $2}' "/proc/$1/status"; }
# install FILE: FILE becomes the binary at $BIN, as a package installs one
# (a new inode renamed over the path).
install_bin() { cp "$1" "$BIN.new" && chmod 755 "$BIN.new" && mv -f "$BIN.new" "$BIN"; }
# notes_after N: the service manager's lines after line N.
notes_after() { tail -n +"$(($1 + 1))" "$NOTES"; }
prog_id() { tb_exec "$NODE" tc filter show dev "$VETH" ingress | grep -o 'id [0-9]*' | head -1; }

tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml"
"$TB" agents-start b >"$TL_TMP/start-b.log" 2>&1 ||
	{ fail agent_b_start "$(cat "$TL_TMP/start-b.log")"; tl_finish; }
mkdir -p "$TL_TMP/bin"
install_bin "$AGENT"
: >"$NOTES"
# Two loops, as a unit's agent runs one per CPU (one only before Linux 6.5,
# where the kernel cannot steer into an SO_REUSEPORT group).
THREADS=2
case "$(uname -r)" in
[0-5].* | 6.[0-4].* | 6.[0-4]-*) THREADS=1 ;;
esac
MF_AGENT_THREADS=$THREADS MF_AGENT_ARGS="--drain-timeout 20" AGENT=$BIN \
	MF_AGENT_WRAP="prlimit --nofile=$NOFILE:$NOFILE setpriv --no-new-privs --inh-caps=-all --bounding-set=$SETPRIV_BSET" \
	"$TL_PY" "$TL_TOOLS/mf_svcmgr.py" "$TL_TMP/notify.sock" "$NOTES" "$TB" agents-start a \
	>"$TL_TMP/start-a.log" 2>&1 &
MGR=$!
wait_for 30 grep -q '^started rc=' "$NOTES"
if ! grep -q '^started rc=0' "$NOTES"; then
	fail agent_a_start "$(cat "$NOTES" "$TL_TMP/start-a.log")"
	tl_finish
fi
for p in b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done

pid_old=$("$TB" pid a)
# What the agent can have of the unit's set: a container may bound this
# test itself (without CAP_SYS_RESOURCE, say).
HAVE_CAPS=$(comm -12 <(tr ',' '\n' <<<"$UNIT_CAPS") <(caps $$ CapBnd | tr ',' '\n') | paste -sd,)
[ "$HAVE_CAPS" != "$UNIT_CAPS" ] && tl_log "this machine bounds the test: of the unit's $UNIT_CAPS, $HAVE_CAPS"
tl_log "agent a $pid_old: NoNewPrivs $(nnp "$pid_old"), bounding set $(caps "$pid_old" CapBnd), permitted $(caps "$pid_old" CapPrm)"
if [ "$(nnp "$pid_old")" = 1 ] && [ "$(caps "$pid_old" CapBnd)" = "$HAVE_CAPS" ] &&
	[ "$(caps "$pid_old" CapPrm)" = "$KEPT_CAPS" ] &&
	grep -q "^accepted pid=$pid_old MAIN=$pid_old READY=1" "$NOTES"; then
	pass runs_as_the_unit
else
	fail runs_as_the_unit "NoNewPrivs $(nnp "$pid_old") CapBnd $(caps "$pid_old" CapBnd) CapPrm $(caps "$pid_old" CapPrm); $(head -3 "$NOTES")"
fi

# ---- an upgrade, under traffic --------------------------------------------------
prog_before=$(prog_id)
tl_bg a1 "$TL_TMP/long.out" "$TL_PY" "$TL_TOOLS/mf_longlived.py" 100 8 "$VIP"
LONG=$TL_BG_PID
wait_for 10 grep -q '^open 100' "$TL_TMP/long.out" ||
	{ fail longlived_open "$(cat "$TL_TMP/long.out")"; tl_finish; }
tl_bg a1 "$TL_TMP/steady.out" "$TL_PY" "$TL_TOOLS/mf_steady.py" 12 "$VIP"
STEADY=$TL_BG_PID
sleep 1.5

mark=$(tl_log_mark "$NODE")
nmark=$(wc -l <"$NOTES")
install_bin "$AGENT"
t_sig=$(date +%s.%N)
kill -USR2 "$pid_old"
child=""
if wait_for 20 sh -c "tail -n +$((mark + 1)) '$(tl_agent_log "$NODE")' | grep -q 'event=upgrade_handed_over'"; then
	child=$(tl_log_since "$NODE" "$mark" | grep -o 'event=upgrade_handed_over child=[0-9]*' | head -1 | cut -d= -f3)
fi
t_ready=$(date +%s.%N)
if [ -n "$child" ]; then
	# From now on the testbed follows the new agent.
	echo "$child" >"$TL_STATE/$NODE/agent.pid"
	tl_log "SIGUSR2 to $pid_old: new agent $child took over after $(awk -v a="$t_sig" -v b="$t_ready" 'BEGIN {printf "%.2f", b - a}') s"
fi
ppid=$(awk '{print $4}' "/proc/$child/stat" 2>/dev/null)
if [ -n "$child" ] && [ "$ppid" = "$pid_old" ] &&
	cmp -s "/proc/$child/cmdline" "/proc/$pid_old/cmdline" &&
	[ "$(readlink "/proc/$child/exe")" = "$BIN" ] &&
	[ "$(readlink "/proc/$pid_old/exe")" = "$BIN (deleted)" ] &&
	tl_log_since "$NODE" "$mark" | grep -q "event=loops_started loops=$THREADS" &&
	tl_log_since "$NODE" "$mark" | grep -q "event=handed_over loops=$THREADS"; then
	pass upgrade_starts_the_binary_as_child
else
	fail upgrade_starts_the_binary_as_child "child '$child' of '$ppid', exe $(readlink "/proc/$child/exe"); $(tl_log_since "$NODE" "$mark" | grep -E 'upgrade|startup_failed|handover' | head -5)"
fi

# What the service manager heard: MAINPID= from the main process, then the
# child's READY=1, taken as the main process's; nothing refused.
wait_for 5 sh -c "tail -n +$((nmark + 1)) '$NOTES' | grep -q '^accepted pid=$child MAIN=$child READY=1'"
notes=$(notes_after "$nmark" | grep -v '^exit \|^started ')
tl_log "notifications: $(tr '\n' '|' <<<"$notes")"
i_main=$(grep -n "^accepted pid=$pid_old MAIN=$pid_old MAINPID=$child\$" <<<"$notes" | head -1 | cut -d: -f1)
i_ready=$(grep -n "^accepted pid=$child MAIN=$child READY=1" <<<"$notes" | head -1 | cut -d: -f1)
if [ -n "$child" ] && [ -n "$i_main" ] && [ -n "$i_ready" ] && [ "$i_main" -lt "$i_ready" ] &&
	! grep -q '^refused' <<<"$notes"; then
	pass mainpid_then_ready
else
	fail mainpid_then_ready "MAINPID at '$i_main', READY at '$i_ready': $(tr '\n' '|' <<<"$notes")"
fi

# The firewall while the old agent drains (the long-lived connections
# hold it for some seconds more): the successor's to attach; the old
# agent must neither put its own program in its place nor take the
# successor's off as it exits.
fw_mark=$(tl_log_mark "$NODE")
sed 's|^spec: {trustDomain: mesh.local}$|spec: {trustDomain: mesh.local, firewall: {denySources: [203.0.113.0/24]}}|' \
	"$TL_TOP/tests/integration/policy.yaml" >"$TL_TMP/firewall.yaml"
"$TB" apply "$TL_TMP/firewall.yaml" >"$TL_TMP/apply-fw.log" 2>&1 ||
	fail apply_firewall "$(cat "$TL_TMP/apply-fw.log")"
fw_attached() { tl_log_since "$NODE" "$fw_mark" | grep -q 'event=xdp_attached iface=mfwa '; }
wait_for 5 fw_attached
draining_at_apply=0
[ -d "/proc/$pid_old" ] && draining_at_apply=1

wait "$LONG"
long_rc=$?
tl_log "long-lived: $(tr '\n' ' ' <"$TL_TMP/long.out")"
if [ "$long_rc" = 0 ]; then
	pass longlived_finish_on_old_agent
else
	fail longlived_finish_on_old_agent "$(tail -5 "$TL_TMP/long.out")"
fi
if wait_for 25 grep -q "^exit pid=$pid_old " "$NOTES"; then
	drained=$(tl_log_since "$NODE" "$mark" | grep 'event=drained')
	tl_log "old agent: $(grep "^exit pid=$pid_old " "$NOTES"); $(tr '\n' ' ' <<<"$drained")"
	if grep -q "^exit pid=$pid_old status=0\$" "$NOTES" && grep -q 'loop=0 conns_left=0 ' <<<"$drained" && ! grep -qv 'conns_left=0 ' <<<"$drained" &&
		tl_log_since "$NODE" "$mark" | grep -q "event=stopped pid=$pid_old\$"; then
		pass old_agent_drains_and_exits_0
	else
		fail old_agent_drains_and_exits_0 "$(grep "^exit pid=$pid_old" "$NOTES"); $drained"
	fi
else
	fail old_agent_drains_and_exits_0 "still running 25 s after the long-lived connections ended"
fi
xdp_ids=$(tl_log_since "$NODE" "$fw_mark" | grep -o 'event=xdp_attached iface=mfwa .*prog_id=[0-9]*' | grep -o 'prog_id=[0-9]*' | cut -d= -f2)
on_uplink=$(tb_exec "$NODE" ip link show mfwa | grep -o 'prog/xdp id [0-9]*' | grep -o '[0-9]*$')
tl_log "firewall during the drain: attached $(echo $xdp_ids), on the uplink after the old agent's exit: ${on_uplink:-none}"
if [ "$draining_at_apply" = 1 ] && [ "$(wc -w <<<"$xdp_ids")" = 1 ] && [ -n "$on_uplink" ] &&
	[ "$on_uplink" = "$xdp_ids" ] && [ -d "/proc/$child" ]; then
	pass firewall_during_drain_is_the_successors
else
	fail firewall_during_drain_is_the_successors "old agent draining at the apply: $draining_at_apply; attached: $(echo $xdp_ids); on the uplink: ${on_uplink:-none}"
fi

wait "$STEADY"
nok=$(grep -c '^ok ' "$TL_TMP/steady.out")
nfail=$(grep -c '^fail' "$TL_TMP/steady.out")
tl_log "a request every 50 ms across the upgrade: $nok answered, $nfail failed"
if [ "$nfail" = 0 ] && [ "$nok" -ge 100 ]; then
	pass zero_failed_requests
else
	fail zero_failed_requests "$(grep '^fail' "$TL_TMP/steady.out" | head -3 | tr '\n' '|')"
fi

# The child started by adoption with what no_new_privs left it: the four
# capabilities its parent kept.
prog_after=$(prog_id)
served=0
tb_exec a1 curl -fsS -m 3 -o /dev/null "http://$VIP/whoami" && served=1
tl_log "warnings since the upgrade: $(tl_log_since "$NODE" "$mark" | grep 'level=warn' | sed 's/^ts=[0-9.]* //' | sort | uniq -c | tr -s ' \n' ' ')"
tl_log "new agent $child: permitted $(caps "$child" CapPrm), bounding $(caps "$child" CapBnd); filter program '$prog_before' -> '$prog_after'"
if [ "$served" = 1 ] && [ "$(caps "$child" CapPrm)" = "$KEPT_CAPS" ] && [ "$(nnp "$child")" = 1 ] &&
	[ -n "$prog_after" ] && [ "$prog_after" != "$prog_before" ] &&
	! tl_log_since "$NODE" "$mark" | grep -qE 'level=error|event=caps_drop_failed'; then
	pass new_agent_serves_with_kept_caps
else
	fail new_agent_serves_with_kept_caps "served $served, CapPrm $(caps "$child" CapPrm); $(tl_log_since "$NODE" "$mark" | grep -E 'level=(error|warn)' | head -4)"
fi

# ---- a broken binary: nothing changes ---------------------------------------------
printf '#!/bin/sh\nexit 1\n' >"$TL_TMP/broken"
install_bin "$TL_TMP/broken"
tl_bg a1 "$TL_TMP/steady2.out" "$TL_PY" "$TL_TOOLS/mf_steady.py" 4 "$VIP"
STEADY=$TL_BG_PID
sleep 1
mark=$(tl_log_mark "$NODE")
nmark=$(wc -l <"$NOTES")
kill -USR2 "$child"
wait_for 10 sh -c "tail -n +$((mark + 1)) '$(tl_agent_log "$NODE")' | grep -q 'event=upgrade_failed'"
wait "$STEADY"
nok=$(grep -c '^ok ' "$TL_TMP/steady2.out")
nfail=$(grep -c '^fail' "$TL_TMP/steady2.out")
failed=$(tl_log_since "$NODE" "$mark" | grep 'event=upgrade_failed')
notes=$(notes_after "$nmark")
tl_log "broken binary: $failed; $(tr '\n' '|' <<<"$notes"); $nok answered, $nfail failed"
if grep -q 'reason="exit status 1"' <<<"$failed" && [ "$("$TB" pid a)" = "$child" ] &&
	grep -q "^accepted pid=$child MAIN=$child STATUS=upgrade failed: .*exit status 1" <<<"$notes" &&
	! grep -q 'MAINPID=' <<<"$notes" && [ "$nfail" = 0 ] && [ "$nok" -ge 30 ]; then
	pass broken_binary_keeps_old_agent
else
	fail broken_binary_keeps_old_agent "$failed; $(tr '\n' '|' <<<"$notes"); $nok answered, $nfail failed"
fi

# ---- the upgraded agent upgraded in turn -------------------------------------------
install_bin "$AGENT"
mark=$(tl_log_mark "$NODE")
nmark=$(wc -l <"$NOTES")
kill -USR2 "$child"
second=""
if wait_for 20 sh -c "tail -n +$((mark + 1)) '$(tl_agent_log "$NODE")' | grep -q 'event=upgrade_handed_over'"; then
	second=$(tl_log_since "$NODE" "$mark" | grep -o 'event=upgrade_handed_over child=[0-9]*' | head -1 | cut -d= -f3)
	echo "$second" >"$TL_STATE/$NODE/agent.pid"
fi
wait_for 5 sh -c "tail -n +$((nmark + 1)) '$NOTES' | grep -q '^accepted pid=$second MAIN=$second READY=1'"
if [ -n "$second" ] && notes_after "$nmark" | grep -q "^accepted pid=$child MAIN=$child MAINPID=$second\$" &&
	notes_after "$nmark" | grep -q "^accepted pid=$second MAIN=$second READY=1" &&
	wait_for 25 grep -q "^exit pid=$child status=0\$" "$NOTES" &&
	tb_exec a1 curl -fsS -m 3 -o /dev/null "http://$VIP/whoami"; then
	pass upgraded_agent_upgrades_again
else
	fail upgraded_agent_upgrades_again "second '$second'; $(notes_after "$nmark" | tr '\n' '|'); $(tl_log_since "$NODE" "$mark" | grep -E 'upgrade|level=error' | head -4)"
fi

tl_finish
