#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `mfctl uninstall` on a node of the test's own, not the shared testbed: a
# network namespace mf-un-<pid> with two veth pairs, mfun0-mfun1 (a pod
# interface and the uplink) and mfun2-mfun3, and a bpffs directory
# /sys/fs/bpf/mf-un-<pid> whose subdirectory node/ is the pin root.
# Decoys, which must survive: on mfun2 (a pod interface too) a clsact
# that was there before the agent, with a u32 filter; on mfun3 programs
# named like the agent's (tests/tools/mf_decoy.bpf.c) at its TC handle
# and priority and in XDP; a VIP route and a policy rule; a map pinned
# beside the root under one of meshforge's names; in the second round, a
# foreign map pinned inside the root.
#
# Each round takes the node's state (pins, qdiscs, filters of every
# interface, links with their XDP programs, routes, rules), installs
# meshforge as it runs (mfctl ca init, cert issue, apply, the agent with
# --pod-iface mfun0 --pod-iface mfun2 --uplink mfun1), stops the agent,
# uninstalls, and compares the state with the one taken before:
#  - round 1: the agent stopped cleanly (it takes its filters and XDP
#    program with it; its clsact on mfun0 and the pins stay for
#    uninstall), which refuses while the agent runs and changes nothing
#    in a dry run;
#  - round 2: the agent killed (its attachments stay), uninstall run from
#    the host's namespace refuses, then --purge in the node's removes the
#    saved policy, CA and certificates too, but not secrets/.
# Afterwards no program the agent loaded and no map it pinned is left in
# the kernel.  Everything the test makes is removed by its trap.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_uninstall
[ "$(id -u)" = 0 ] || skip "needs root"
tl_require_cmd ip tc nsenter bpftool
tl_require_built "$MFCTL" "$AGENT"
[ -f "$O/tests/tools/mf_decoy.bpf.o" ] ||
	{ fail build "$O/tests/tools/mf_decoy.bpf.o is not built (run make tests)"; tl_finish; }
if [ "$(stat -fc %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null || skip "bpffs cannot be mounted"
fi
"$AGENT" --check-kernel >"$TL_TMP/kernel.log" 2>&1 ||
	skip "the kernel lacks what the agent needs: $(tail -n 1 "$TL_TMP/kernel.log")"

NS=mf-un-$$
BPFDIR=/sys/fs/bpf/mf-un-$$
ROOT=$BPFDIR/node
CFG=$TL_TMP/config
STATE=$TL_TMP/state
RUN=$TL_TMP/run
DECOY=$O/tests/tools/mf_decoy.bpf.o
NODE=mf-un-node
AGENT_PID=""

un_cleanup() {
	if [ -n "$AGENT_PID" ]; then
		kill -9 "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
	fi
	[ -e "/run/netns/$NS" ] && ip netns del "$NS"
	rm -rf "$BPFDIR"
}
trap 'rc=$?; un_cleanup; (exit $rc); tl_cleanup' EXIT

# nsenter, not `ip netns exec`, which would hide /sys/fs/bpf.
in_ns() { nsenter --net="/run/netns/$NS" -- "$@"; }
ctl() { "$MFCTL" --bpf-root "$ROOT" --state-dir "$STATE" --run-dir "$RUN" --config-dir "$CFG" "$@"; }

# ---- the node -----------------------------------------------------------------
ip netns add "$NS" 2>/dev/null || skip "cannot create network namespaces"
# No IPv6: its addresses and routes come and go on their own time.
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" link set lo up
ip -n "$NS" link add mfun0 type veth peer name mfun1 2>/dev/null || skip "no veth support"
ip -n "$NS" link add mfun2 type veth peer name mfun3
for i in mfun0 mfun1 mfun2 mfun3; do ip -n "$NS" link set "$i" up; done
ip -n "$NS" addr add 10.79.0.1/24 dev mfun1
mkdir "$BPFDIR"
decoys() {
	tc -n "$NS" qdisc add dev mfun2 clsact &&
	tc -n "$NS" filter add dev mfun2 ingress prio 7 handle 800::7 u32 match u32 0 0 &&
	tc -n "$NS" qdisc add dev mfun3 clsact &&
	tc -n "$NS" filter add dev mfun3 ingress prio 1 handle 0x6d66 bpf da obj "$DECOY" sec tc &&
	ip -n "$NS" link set dev mfun3 xdpgeneric obj "$DECOY" sec xdp &&
	ip -n "$NS" route add local 10.96.0.0/12 dev lo &&
	ip -n "$NS" route add 10.80.0.0/16 via 10.79.0.2 table 100 &&
	ip -n "$NS" rule add from 10.79.0.0/24 lookup 100 pref 100 &&
	bpftool map create "$BPFDIR/mf_config" type array key 4 value 4 entries 1 name mf_config
}
decoys >"$TL_TMP/decoys.log" 2>&1 || { fail decoys "$(cat "$TL_TMP/decoys.log")"; tl_finish; }

# snap FILE: the node's state.
snap() {
	local dev dir
	{
		echo "## pins"
		(cd "$BPFDIR" && find . | sort)
		echo "## links"
		ip -n "$NS" -d link show
		echo "## qdiscs"
		tc -n "$NS" qdisc show
		for dev in $(ip -n "$NS" -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}'); do
			for dir in ingress egress; do
				echo "## filters $dev $dir"
				tc -n "$NS" filter show dev "$dev" "$dir"
			done
		done
		echo "## routes"
		ip -n "$NS" route show table all
		echo "## rules"
		ip -n "$NS" rule show
	} >"$1" 2>&1
}

# same CASE A B: pass when snapshots A and B are the same, else fail with
# their diff.
same() {
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "the node's state differs:
$(diff -u "$2" "$3")"
	fi
}

# ---- meshforge, as it runs ----------------------------------------------------------
cat >"$TL_TMP/policy.yaml" <<EOF
apiVersion: meshforge.io/v1alpha1
kind: Mesh
metadata: {name: default}
spec:
  trustDomain: mesh.local
  firewall: {denySources: [203.0.113.0/24]}
---
apiVersion: meshforge.io/v1alpha1
kind: Node
metadata: {name: $NODE}
spec: {address: 10.79.0.1}
EOF

# install N: CA, certificate, policy, and the agent, which is ready.
install() {
	local log=$TL_TMP/agent-$1.log
	{
		[ -e "$CFG/ca.crt" ] || ctl ca init --trust-domain mesh.local
		ctl cert issue --identity "spiffe://mesh.local/ns/meshforge-system/sa/$NODE" &&
		ctl apply -f "$TL_TMP/policy.yaml"
	} >"$TL_TMP/install-$1.log" 2>&1 || return 1
	# nsenter execs the agent: $! is the agent's pid.
	MF_RUN_DIR=$RUN nsenter --net="/run/netns/$NS" -- "$AGENT" --node "$NODE" --bpf-root "$ROOT" --config-dir "$CFG" \
		--state-dir "$STATE" --pod-iface mfun0 --pod-iface mfun2 --uplink mfun1 \
		>"$log" 2>&1 </dev/null 9<&- &
	AGENT_PID=$!
	wait_for 15 grep -q 'event=ready' "$log" || { cat "$log" >&2; return 1; }
}

# The ids of the programs agent log $1 loaded, and of the maps pinned under
# the root, into PROGS and MAPS.
ids() {
	PROGS=$(grep -oE '(event=kern_open .*|event=xdp_attached .*)' "$1" |
		grep -oE '(egress_)?prog_id=[0-9]+' | cut -d= -f2 | tr '\n' ' ')
	MAPS=$(for f in "$ROOT"/mf_*; do bpftool -j map show pinned "$f"; done |
		sed -n 's/^{"id":\([0-9]*\),.*/\1/p' | tr '\n' ' ')
}

# None of PROGS and MAPS is in the kernel (a map goes a grace period after
# its last pin).
gone() {
	local id
	for id in $PROGS; do bpftool prog show id "$id" >/dev/null 2>&1 && return 1; done
	for id in $MAPS; do bpftool map show id "$id" >/dev/null 2>&1 && return 1; done
	return 0
}

attached() {
	tc -n "$NS" filter show dev mfun0 ingress | grep -q 'name mf_pod_ingress' &&
	tc -n "$NS" filter show dev mfun2 egress | grep -q 'name mf_pod_egress' &&
	ip -n "$NS" link show mfun1 | grep -q 'prog/xdp id'
}

# ---- round 1: a clean stop ----------------------------------------------------------
snap "$TL_TMP/before1"
if install 1 && attached && [ "$(wc -w <<<"$(ls "$ROOT")")" -gt 10 ]; then
	pass install_clean
else
	fail install_clean "$(cat "$TL_TMP/install-1.log")"
	tl_finish
fi
ids "$TL_TMP/agent-1.log"

snap "$TL_TMP/running"
in_ns "$MFCTL" --bpf-root "$ROOT" --run-dir "$RUN" uninstall >"$TL_TMP/refused.out" 2>&1
rc=$?
snap "$TL_TMP/running2"
if [ "$rc" = 1 ] && grep -q "meshforge-agent is running on the maps under $ROOT (pid $AGENT_PID)" "$TL_TMP/refused.out"; then
	same refused_while_agent_runs "$TL_TMP/running" "$TL_TMP/running2"
else
	fail refused_while_agent_runs "exit $rc: $(cat "$TL_TMP/refused.out")"
fi

kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
rc=$?
AGENT_PID=""
if [ "$rc" = 0 ] && ! tc -n "$NS" filter show dev mfun0 ingress | grep -q mf_pod &&
	tc -n "$NS" qdisc show dev mfun0 | grep -q clsact; then
	pass clean_stop_detaches
else
	fail clean_stop_detaches "exit $rc; mfun0: $(tc -n "$NS" qdisc show dev mfun0; tc -n "$NS" filter show dev mfun0 ingress)"
fi

snap "$TL_TMP/stopped"
in_ns "$MFCTL" --bpf-root "$ROOT" --run-dir "$RUN" uninstall --dry-run >"$TL_TMP/dry.out" 2>&1
rc=$?
snap "$TL_TMP/stopped2"
if [ "$rc" = 0 ] && grep -q '^would remove qdisc mfun0 clsact$' "$TL_TMP/dry.out" &&
	grep -q "^would remove pin $ROOT/mf_config " "$TL_TMP/dry.out"; then
	same dry_run_changes_nothing "$TL_TMP/stopped" "$TL_TMP/stopped2"
else
	fail dry_run_changes_nothing "exit $rc: $(cat "$TL_TMP/dry.out")"
fi

in_ns "$MFCTL" --bpf-root "$ROOT" --run-dir "$RUN" uninstall >"$TL_TMP/un1.out" 2>&1
rc=$?
snap "$TL_TMP/after1"
if [ "$rc" = 0 ] && grep -q '^removed qdisc mfun0 clsact$' "$TL_TMP/un1.out" &&
	grep -q "^removed dir $ROOT$" "$TL_TMP/un1.out" &&
	grep -q '^kept filter mfun3 ingress (handle 0x6d66 prio 1, mf_pod_ingress, prog [0-9]*): its maps are not pinned' "$TL_TMP/un1.out" &&
	grep -q '^kept xdp mfun3 generic (mf_xdp, prog [0-9]*): its maps are not pinned' "$TL_TMP/un1.out" &&
	! grep -q 'mfun2 clsact' "$TL_TMP/un1.out"; then
	same uninstall_after_clean_stop "$TL_TMP/before1" "$TL_TMP/after1"
else
	fail uninstall_after_clean_stop "exit $rc: $(cat "$TL_TMP/un1.out")"
fi
if wait_for 5 gone; then
	pass clean_stop_nothing_in_kernel
else
	fail clean_stop_nothing_in_kernel "programs $PROGS, maps $MAPS: some still there"
fi

in_ns "$MFCTL" --bpf-root "$ROOT" --run-dir "$RUN" uninstall >"$TL_TMP/again.out" 2>&1
rc=$?
snap "$TL_TMP/again"
if [ "$rc" = 0 ] && ! grep -q '^removed' "$TL_TMP/again.out"; then
	same uninstall_twice "$TL_TMP/before1" "$TL_TMP/again"
else
	fail uninstall_twice "exit $rc: $(cat "$TL_TMP/again.out")"
fi

# ---- round 2: a killed agent, then --purge ------------------------------------
mkdir "$ROOT"
bpftool map create "$ROOT/other" type array key 4 value 4 entries 1 name other
mkdir -p "$CFG/secrets"
echo "not meshforge's" >"$CFG/secrets/gateway.pem"
snap "$TL_TMP/before2"
install 2 || { fail install_killed "$(cat "$TL_TMP/install-2.log")"; tl_finish; }
ids "$TL_TMP/agent-2.log"
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=""
if attached; then
	pass kill_leaves_attachments
else
	fail kill_leaves_attachments "$(tc -n "$NS" filter show dev mfun0 ingress; ip -n "$NS" link show mfun1)"
fi

snap "$TL_TMP/killed"
"$MFCTL" --bpf-root "$ROOT" --run-dir "$RUN" uninstall >"$TL_TMP/host.out" 2>&1
rc=$?
snap "$TL_TMP/killed2"
if [ "$rc" = 1 ] && grep -q 'program mf_pod_ingress (prog [0-9]*) uses the maps under .* attached nowhere in this network namespace' "$TL_TMP/host.out"; then
	same refused_from_another_netns "$TL_TMP/killed" "$TL_TMP/killed2"
else
	fail refused_from_another_netns "exit $rc: $(cat "$TL_TMP/host.out")"
fi

in_ns "$MFCTL" --bpf-root "$ROOT" --run-dir "$RUN" --state-dir "$STATE" --config-dir "$CFG" \
	uninstall --purge >"$TL_TMP/un2.out" 2>&1
rc=$?
snap "$TL_TMP/after2"
if [ "$rc" = 0 ] && grep -q '^removed filter mfun0 ingress ' "$TL_TMP/un2.out" &&
	grep -q '^removed filter mfun2 egress ' "$TL_TMP/un2.out" &&
	grep -q '^removed xdp mfun1 ' "$TL_TMP/un2.out" &&
	grep -q "^kept dir $ROOT: it holds what is not meshforge's" "$TL_TMP/un2.out"; then
	same uninstall_after_kill "$TL_TMP/before2" "$TL_TMP/after2"
else
	fail uninstall_after_kill "exit $rc: $(cat "$TL_TMP/un2.out")"
fi
if wait_for 5 gone; then
	pass kill_nothing_in_kernel
else
	fail kill_nothing_in_kernel "programs $PROGS, maps $MAPS: some still there"
fi
left=$(cd "$TL_TMP" && find config state run 2>/dev/null | sort | tr '\n' ' ')
if [ "$left" = "config config/secrets config/secrets/gateway.pem " ]; then
	pass purge_keeps_only_what_is_not_ours
else
	fail purge_keeps_only_what_is_not_ours "left: $left; $(cat "$TL_TMP/un2.out")"
fi

# The decoys, by name, beyond the snapshots' equality.
if tc -n "$NS" filter show dev mfun3 ingress | grep -q 'handle 0x6d66 mf_decoy.bpf.o:\[tc\].* name mf_pod_ingress' &&
	ip -n "$NS" link show mfun3 | grep -q xdpgeneric &&
	tc -n "$NS" filter show dev mfun2 ingress | grep -q 'fh 800::7' &&
	tc -n "$NS" qdisc show dev mfun2 | grep -q clsact &&
	ip -n "$NS" route show table local | grep -q '^local 10.96.0.0/12 dev lo' &&
	ip -n "$NS" rule show | grep -q '^100:.*from 10.79.0.0/24 lookup 100' &&
	[ -e "$BPFDIR/mf_config" ] && [ -e "$ROOT/other" ]; then
	pass decoys_intact
else
	fail decoys_intact "$(cat "$TL_TMP/after2")"
fi

tl_finish
