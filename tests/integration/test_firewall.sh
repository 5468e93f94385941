#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The node firewall (Mesh spec.firewall) in XDP on node a's uplink, on the
# two-node testbed.  A host outside the mesh is simulated by an extra
# address on node b's wire, 10.77.0.9; it dials node a's tunnel port.
# Asserted by what the clients saw, the uplink and the kernel's counters:
#  - with no firewall the program is loaded but not on the uplink (an
#    idle XDP program costs a veth a copy of every frame), and the
#    outside host connects;
#  - the first firewall attaches it, and the agent says in which mode;
#  - denySources with its network: its connections fail, counted
#    (xdp_drop_deny), one report a second in node a's log, while a1 still
#    reaches the web service on node b through the mesh (node b's address
#    is a node's: never dropped);
#  - perSource.synRate 5 per second: of 40 quick connects, about the burst
#    and the rate get through, counted (xdp_drop_syn_rate), and the mesh
#    still works;
#  - the firewall removed: the program leaves the uplink within a tick
#    and the outside host connects again.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_firewall
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

VIP=10.96.0.10
OUTSIDE=10.77.0.9
TOKEN=mf-fw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$TL_TMP/token"

# fw_policy FIREWALL: the shipped policy with the Mesh's spec.firewall
# set to FIREWALL (a YAML flow mapping).
fw_policy() {
	sed -e "s|^spec: {trustDomain: mesh.local}$|spec: {trustDomain: mesh.local, firewall: $1}|" \
		"$TL_TOP/tests/integration/policy.yaml"
}
fw_policy '{}' | sed 's/, firewall: {}//' >"$TL_TMP/open.yaml"
tl_bed_up --apply "$TL_TMP/open.yaml" --agents
tl_httpd b1 "$TL_TMP/token" || { fail httpd_b1 "server did not start"; tl_finish; }
tl_httpd b2 "$TL_TMP/token" || { fail httpd_b2 "server did not start"; tl_finish; }
tb_exec b ip addr add "$OUTSIDE/24" dev mfwb

kstat() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v r="meshforge_pod_packets_total{reason=\"$1\"}" '$1 == r {print $2}'
}
# connects N: how many of N connects from the outside host to node a's
# tunnel port succeeded, each given 0.3 s; with "time", also how many
# seconds they took.
connects() {
	tb_exec b "$TL_PY" - "$@" <<'PY'
import socket, sys, time
ok = 0
t0 = time.monotonic()
for i in range(int(sys.argv[1])):
    s = socket.socket(); s.settimeout(0.3)
    s.bind(("10.77.0.9", 0))
    try:
        s.connect(("10.77.0.1", 15008)); ok += 1
    except OSError:
        pass
    s.close()
print(ok, "%.0f" % (time.monotonic() - t0 + 0.5) if sys.argv[2:] else "")
PY
}
mesh_ok() { [ "$(tb_exec a1 curl -sS -m 10 "http://$VIP/token" 2>&1)" = "$TOKEN" ]; }

# on_uplink: whether node a's uplink has an XDP program.
on_uplink() { tb_exec a ip link show mfwa | grep -q 'prog/xdp id'; }
xdp_metric() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics | grep '^meshforge_xdp_attached{'
}
m=$(xdp_metric)
if grep -qE 'event=xdp_loaded iface=mfwa .*prog_id=[0-9]+' "$(tl_agent_log mf-node-a)" &&
	! grep -q 'event=xdp_attached' "$(tl_agent_log mf-node-a)" && ! on_uplink &&
	[ "$m" = 'meshforge_xdp_attached{iface="mfwa",mode="none"} 0' ]; then
	pass xdp_off_without_firewall
else
	fail xdp_off_without_firewall "metric: $m; uplink: $(tb_exec a ip link show mfwa | grep -o 'prog/xdp.*'); $(grep xdp "$(tl_agent_log mf-node-a)" | tail -n 3)"
fi
read -r n _ < <(connects 3)
if [ "$n" = 3 ]; then pass open_without_firewall; else fail open_without_firewall "$n of 3 connected"; fi

# ---- deny list ----------------------------------------------------------------
mark=$(tl_log_mark mf-node-a)
fw_policy "{denySources: [10.77.0.8/29]}" >"$TL_TMP/deny.yaml"
"$TB" apply "$TL_TMP/deny.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_deny "$(cat "$TL_TMP/apply.log")"; tl_finish; }
# The agent keeps the deny trie within a second of the apply.
denied() { tl_log_since mf-node-a "$mark" | grep -q 'event=xdp_policy .*deny=1 '; }
wait_for 5 denied
if tl_log_since mf-node-a "$mark" | grep -qE 'event=xdp_attached iface=mfwa .*mode=(native|generic)' &&
	on_uplink && xdp_metric | grep -qE '^meshforge_xdp_attached\{iface="mfwa",mode="(native|generic)"\} 1$'; then
	pass xdp_attached_mode_reported
else
	fail xdp_attached_mode_reported "metric: $(xdp_metric); $(tl_log_since mf-node-a "$mark" | grep xdp | tail -n 3)"
fi
d0=$(kstat xdp_drop_deny)
read -r n _ < <(connects 5)
d1=$(kstat xdp_drop_deny)
report() { tl_log_since mf-node-a "$mark" | grep -q "event=xdp_drop iface=mfwa src=$OUTSIDE reason=xdp_drop_deny"; }
if [ "$n" = 0 ] && [ $((${d1:-0} - ${d0:-0})) -ge 5 ] && wait_for 3 report && mesh_ok; then
	pass denied_source_dropped_mesh_unharmed
else
	fail denied_source_dropped_mesh_unharmed "$n of 5 connected; xdp_drop_deny ${d0:-?} -> ${d1:-?}; report: $(report && echo yes || echo no)"
fi
reports=$(tl_log_since mf-node-a "$mark" | grep -c "event=xdp_drop .*src=$OUTSIDE ")
if [ "$reports" -le 3 ]; then
	pass drop_reports_bounded
else
	fail drop_reports_bounded "$reports report lines for one source"
fi

# ---- per-source SYN rate ----------------------------------------------------------
mark=$(tl_log_mark mf-node-a)
fw_policy "{perSource: {synRate: {num: 5, interval: 1s}}}" >"$TL_TMP/syn.yaml"
"$TB" apply "$TL_TMP/syn.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_syn "$(cat "$TL_TMP/apply.log")"; tl_finish; }
synrate() { tl_log_since mf-node-a "$mark" | grep -q 'event=xdp_policy .*deny=0 .*syn_rate=5/1000ms'; }
wait_for 5 synrate
s0=$(kstat xdp_drop_syn_rate)
read -r n secs < <(connects 40 time)
s1=$(kstat xdp_drop_syn_rate)
tl_log "syn rate: $n of 40 connected in ${secs}s; xdp_drop_syn_rate ${s0:-?} -> ${s1:-?}"
# The burst (5), then 5 a second for as long as the attempts took.
if [ "${n:-0}" -ge 5 ] && [ "${n:-0}" -le $((5 + 5 * ${secs:-0} + 2)) ] &&
	[ $((${s1:-0} - ${s0:-0})) -ge $((40 - ${n:-0})) ] && mesh_ok; then
	pass syn_rate_held_mesh_unharmed
else
	fail syn_rate_held_mesh_unharmed "$n of 40 connected; xdp_drop_syn_rate ${s0:-?} -> ${s1:-?}"
fi

# ---- the firewall removed -----------------------------------------------------------
mark=$(tl_log_mark mf-node-a)
"$TB" apply "$TL_TMP/open.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_open "$(cat "$TL_TMP/apply.log")"; tl_finish; }
detached() { tl_log_since mf-node-a "$mark" | grep -q 'event=xdp_detached iface=mfwa'; }
wait_for 5 detached
read -r n _ < <(connects 3)
m=$(xdp_metric)
if detached && ! on_uplink && [ "$n" = 3 ] &&
	[[ "$m" =~ ^meshforge_xdp_attached\{iface=\"mfwa\",mode=\"(native|generic)\"\}\ 0$ ]] && mesh_ok; then
	pass firewall_removed_xdp_detached
else
	fail firewall_removed_xdp_detached "$n of 3 connected; metric: $m; uplink: $(tb_exec a ip link show mfwa | grep -o 'prog/xdp.*'); $(tl_log_since mf-node-a "$mark" | grep xdp | tail -n 3)"
fi
tl_finish
