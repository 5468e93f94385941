#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The mesh in etcd (docs/store.md), with a real three-member etcd cluster
# of Debian's etcd-server on host loopback ports (127.0.0.1:2379[1-3],
# peers :2389[1-3]) and `mfctl sync` for each testbed node:
#  - an apply to the store is served by both nodes' maps within 100 ms,
#    and by their agents (what a2's connection to web sees, the agents'
#    meshforge_store_revision);
#  - one member killed: applies and syncs go on;
#  - all killed: the maps keep the last policy, traffic flows under it,
#    apply fails clearly, a node that starts over with empty maps serves
#    its saved policy; after a restart the next apply converges without
#    restarting the syncs;
#  - a watch that fell behind a compaction lists again;
#  - workloads registered by their node under a lease: served by both
#    nodes, one claiming another node refused, gone from the other node
#    within the lease TTL once their node's sync is killed;
#  - concurrent applies all land, or one reports a conflict;
#  - TLS to etcd with client certificates (openssl-made CA), refused
#    without a client certificate;
#  - etcd's auth with a role per node (docs/store.md "Access: a role per
#    node"): the operators' user applies; a wrong password and no user are
#    refused; node a's user reads the mesh but cannot write the policy,
#    registers its own workloads but not node b's; its token, expired
#    while idle, is replaced (a registration made again after its lease
#    was revoked).
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_store_etcd
tl_require_testbed
tl_require_cmd etcd
tl_require_cmd etcdctl
tl_require_cmd openssl
LOAD=$O/tests/tools/mf_load
tl_require_built "$MFCTL" "$AGENT" "$LOAD"

VIP=10.96.0.10
POLICY=$TL_TOP/tests/integration/policy.yaml
EP=127.0.0.1:23791,127.0.0.1:23792,127.0.0.1:23793
STORE=etcd://$EP/mf-test
REBOOT_ROOT=/sys/fs/bpf/mf-store-reboot
declare -A ETCD_PID SYNC_PID

# shellcheck source=scripts/etcd-member.sh
. "$TL_TOP/scripts/etcd-member.sh"
etcd_start() {
	local i=$1
	etcd_member "mf-e$i" "$TL_TMP/etcd-$i" "http://127.0.0.1:2379$i" \
		"http://127.0.0.1:2389$i" \
		"mf-e1=http://127.0.0.1:23891,mf-e2=http://127.0.0.1:23892,mf-e3=http://127.0.0.1:23893" \
		"$TL_TMP/etcd-$i.log" --initial-cluster-token mf-test \
		--heartbeat-interval 50 --election-timeout 500
	ETCD_PID[$i]=$ETCD_MEMBER_PID
}
etcd_kill() {
	[ -n "${ETCD_PID[$1]:-}" ] || return 0
	kill -9 "${ETCD_PID[$1]}" 2>/dev/null
	wait "${ETCD_PID[$1]}" 2>/dev/null
	ETCD_PID[$1]=
}
etcd_healthy() { ETCDCTL_API=3 etcdctl --endpoints "$EP" endpoint health >/dev/null 2>&1; }
# A quorum: a write goes through.
etcd_writable() { ETCDCTL_API=3 etcdctl --endpoints "$EP" put /mf-probe x >/dev/null 2>&1; }

# sync_start NODE: mfctl sync for node NODE (a or b), log in $TL_TMP.
# mfctl itself in the background (not tl_ctl, a function: its pid would
# be a subshell's), with tl_ctl's options but for the writers' lock: each
# node's own, as on real nodes (the testbed's nodes share one, and two
# syncs would wait for each other's writes).
sync_start() {
	"$MFCTL" --bpf-root "/sys/fs/bpf/mf-node-$1" \
		--state-dir "$TL_STATE/mf-node-$1/state" --run-dir "$TL_TMP/run-$1" \
		--store "$STORE" sync >>"$TL_TMP/sync-$1.log" 2>&1 </dev/null 9<&- &
	SYNC_PID[$1]=$!
}
sync_stop() {
	[ -n "${SYNC_PID[$1]:-}" ] || return 0
	kill "${SYNC_PID[$1]}" 2>/dev/null
	wait "${SYNC_PID[$1]}" 2>/dev/null
	SYNC_PID[$1]=
}

cleanup_store() {
	local i
	for i in a b r auth-a auth-b; do sync_stop "$i"; done
	for i in 1 2 3 4 5; do etcd_kill "$i"; done
	rm -rf "$REBOOT_ROOT"
}
trap 'rc=$?; cleanup_store; (exit $rc); tl_cleanup' EXIT

# The revision node $1's maps serve (mfctl status), "" before any sync.
served() { tl_ctl "$1" status 2>/dev/null | sed -n 's/^synced: *mesh store revision \([0-9]*\).*/\1/p'; }
both_serve() { [ "$(served a)" = "$1" ] && [ "$(served b)" = "$1" ]; }
# The revision an apply printed ("applied to URL revision N: ...").
rev_of() { sed -n 's/.* revision \([0-9]*\):.*/\1/p' "$1"; }
# The time (ms) node $1's sync logged revision $2 in force.
in_force_ms() {
	sed -n "s/^mfctl sync: \([0-9]*\)\.\([0-9]\{3\}\): revision $2 in force.*/\1\2/p" \
		"$TL_TMP/sync-$1.log" | head -n 1
}
metric_rev() {
	tb_exec "$1" curl -sS -m 5 http://127.0.0.1:15000/metrics 2>/dev/null |
		sed -n 's/^meshforge_store_revision \([0-9]*\)$/\1/p'
}
a2_try() { tb_exec a2 "$LOAD" client "$VIP" 80 1 4096 5 >>"$TL_TMP/a2.out" 2>&1; }
a1_try() { tb_exec a1 "$LOAD" client "$VIP" 80 1 4096 5 >>"$TL_TMP/a1.out" 2>&1; }
# store_apply FILE OUT: mfctl --store apply, its output in OUT.
store_apply() { "$MFCTL" --store "$STORE" apply -f "$1" >"$2" 2>&1; }

# svc_file FILE NAME VIP PORT: a Service as a policy file.
svc_file() {
	printf 'apiVersion: meshforge.io/v1alpha1\nkind: Service\nmetadata: {name: %s}\nspec: {vip: %s, port: %s}\n' \
		"$2" "$3" "$4" >"$1"
}

for i in 1 2 3; do etcd_start "$i"; done
wait_for 20 etcd_healthy || { fail etcd_cluster_up "$(tail -n 5 "$TL_TMP"/etcd-*.log)"; tl_finish; }
pass etcd_cluster_up

tl_bed_up --apply "$POLICY" --agents
tl_echo_up

# 1. The shipped policy into the store, both nodes syncing it.
if store_apply "$POLICY" "$TL_TMP/apply-1.out"; then
	pass store_apply
else
	fail store_apply "$(cat "$TL_TMP/apply-1.out")"
fi
r1=$(rev_of "$TL_TMP/apply-1.out")
sync_start a
sync_start b
if wait_for 10 both_serve "$r1"; then
	pass both_nodes_sync
else
	fail both_nodes_sync "a: $(served a), b: $(served b), want $r1"
fi
if "$MFCTL" --store "$STORE" get >"$TL_TMP/get-store" 2>&1 &&
	tl_ctl b get >"$TL_TMP/get-b" 2>&1 && cmp -s "$TL_TMP/get-store" "$TL_TMP/get-b"; then
	pass store_get_equals_node_maps
else
	fail store_get_equals_node_maps "$(diff "$TL_TMP/get-store" "$TL_TMP/get-b" | head)"
fi
if a2_try; then
	fail a2_denied_before "a2 got through before the apply"
else
	pass a2_denied_before
fi

# 2. An apply on the store: both nodes' maps serve it within 100 ms of its
# return (read off the syncs' logs, stamped once the flip is done), then
# the agents do, and a2 sees it.
NEW=$TL_TMP/policy-allow-a2.yaml
cat "$POLICY" - >"$NEW" <<'YAML'
    - targetRef: {kind: SpiffeID, name: "spiffe://mesh.local/ns/default/sa/intruder"}
      default: {action: Allow}
YAML
t_start=$(($(date +%s%N) / 1000000))
store_apply "$NEW" "$TL_TMP/apply-2.out"
t0=$(($(date +%s%N) / 1000000))
r2=$(rev_of "$TL_TMP/apply-2.out")
if [ -n "$r2" ] && wait_for 5 both_serve "$r2"; then
	ta=$(in_force_ms a "$r2")
	tb=$(in_force_ms b "$r2")
	last=$((ta > tb ? ta : tb))
	# The syncs stamp their log once the new policy is in force and
	# saved (fsynced) too: an upper bound of when the maps served it.
	tl_log "apply took $((t0 - t_start)) ms; served by node a $((ta - t0)) ms, node b $((tb - t0)) ms after it returned"
	if [ $((last - t0)) -le 100 ]; then
		pass apply_served_by_both_within_100ms
	else
		fail apply_served_by_both_within_100ms "$((last - t0)) ms"
	fi
else
	fail apply_served_by_both_within_100ms "$(cat "$TL_TMP/apply-2.out"); a: $(served a), b: $(served b)"
fi
if wait_for 5 test "$(metric_rev a)" = "$r2" && wait_for 5 test "$(metric_rev b)" = "$r2"; then
	pass agents_report_store_revision
else
	fail agents_report_store_revision "a: $(metric_rev a), b: $(metric_rev b), want $r2"
fi
if a2_try; then
	pass a2_allowed_after_store_apply
else
	fail a2_allowed_after_store_apply "$(tail -n 3 "$TL_TMP/a2.out")"
fi
if "$MFCTL" --store "$STORE" status 2>/dev/null | grep -q "^store: .* at revision $r2, .*objects"; then
	pass status_shows_store_revision
else
	fail status_shows_store_revision "$("$MFCTL" --store "$STORE" status 2>&1 | grep store)"
fi

# 3. One member killed (the first endpoint, which the syncs watch on):
# applies and syncs go on.
etcd_kill 1
wait_for 10 etcd_writable || tl_log "no quorum after one member died"
svc_file "$TL_TMP/svc-1.yaml" intruder 10.96.0.12 81
if store_apply "$TL_TMP/svc-1.yaml" "$TL_TMP/apply-3.out"; then
	r3=$(rev_of "$TL_TMP/apply-3.out")
	if wait_for 5 both_serve "$r3"; then
		pass one_member_killed_changes_nothing
	else
		fail one_member_killed_changes_nothing "a: $(served a), b: $(served b), want $r3"
	fi
else
	fail one_member_killed_changes_nothing "$(cat "$TL_TMP/apply-3.out")"
fi

# 4. All killed: the maps keep what they had, traffic flows under it.
epoch_b=$(tl_ctl b status | sed -n 's/^epoch: *\([0-9]*\).*/\1/p')
etcd_kill 2
etcd_kill 3
sleep 0.5	# the syncs see their watches end, and retry
if a1_try && a2_try; then
	pass all_killed_traffic_flows_under_last_policy
else
	fail all_killed_traffic_flows_under_last_policy "$(tail -n 3 "$TL_TMP/a1.out" "$TL_TMP/a2.out")"
fi
if [ "$(served a)" = "$r3" ] && [ "$(served b)" = "$r3" ] &&
	[ "$(tl_ctl b status | sed -n 's/^epoch: *\([0-9]*\).*/\1/p')" = "$epoch_b" ]; then
	pass all_killed_maps_unchanged
else
	fail all_killed_maps_unchanged "a: $(served a), b: $(served b), want $r3; epoch b $epoch_b"
fi
svc_file "$TL_TMP/svc-2.yaml" intruder 10.96.0.12 82
if store_apply "$TL_TMP/svc-2.yaml" "$TL_TMP/apply-4.out"; then
	fail all_killed_apply_fails_clearly "it succeeded"
elif grep -q "cannot read the mesh" "$TL_TMP/apply-4.out"; then
	pass all_killed_apply_fails_clearly
else
	fail all_killed_apply_fails_clearly "$(cat "$TL_TMP/apply-4.out")"
fi
# A node that starts over with empty maps (a reboot) while etcd is away:
# its sync serves the policy it saved last.
mkdir -p "$TL_TMP/reboot"
cp -r "$TL_STATE/mf-node-b/state" "$TL_TMP/reboot/state"
"$MFCTL" --bpf-root "$REBOOT_ROOT" --state-dir "$TL_TMP/reboot/state" \
	--run-dir "$TL_TMP/reboot" --store "$STORE" sync >"$TL_TMP/sync-r.log" 2>&1 </dev/null 9<&- &
SYNC_PID[r]=$!
if wait_for 5 grep -q "retrying" "$TL_TMP/sync-r.log" &&
	"$MFCTL" --bpf-root "$REBOOT_ROOT" get >"$TL_TMP/get-r" 2>&1 &&
	cmp -s "$TL_TMP/get-r" <(tl_ctl b get 2>/dev/null); then
	pass start_with_etcd_away_serves_saved_policy
else
	fail start_with_etcd_away_serves_saved_policy "$(cat "$TL_TMP/sync-r.log")"
fi
sync_stop r
rm -rf "$REBOOT_ROOT"

# 5. etcd back: the next apply converges, the syncs not restarted.
for i in 1 2 3; do etcd_start "$i"; done
wait_for 20 etcd_writable || tl_log "etcd not writable after the restart"
if store_apply "$TL_TMP/svc-2.yaml" "$TL_TMP/apply-5.out"; then
	r5=$(rev_of "$TL_TMP/apply-5.out")
	if wait_for 10 both_serve "$r5"; then
		pass after_restart_next_apply_converges
	else
		fail after_restart_next_apply_converges "a: $(served a), b: $(served b), want $r5"
	fi
else
	fail after_restart_next_apply_converges "$(cat "$TL_TMP/apply-5.out")"
fi

# 6. A watch that fell behind a compaction lists again: node a's sync is
# stopped (SIGSTOP) and the member it watches on killed, two changes are
# made and compacted away; once the sync runs again its watch ends, the
# next member says the revision it wants is compacted, and it lists.
pid=${SYNC_PID[a]}
peer=$(ss -Htnp state established 2>/dev/null |
	awk -v p="pid=$pid," 'index($0, p) { print $4 }' | grep -m1 -o '2379[1-3]$')
kill -STOP "$pid"
[ -n "$peer" ] && etcd_kill "${peer#2379}"
wait_for 10 etcd_writable || tl_log "no quorum after member ${peer#2379} died"
svc_file "$TL_TMP/svc-3.yaml" intruder 10.96.0.12 83
store_apply "$TL_TMP/svc-3.yaml" "$TL_TMP/apply-6.out"
svc_file "$TL_TMP/svc-4.yaml" intruder 10.96.0.12 84
store_apply "$TL_TMP/svc-4.yaml" "$TL_TMP/apply-7.out"
r7=$(rev_of "$TL_TMP/apply-7.out")
ETCDCTL_API=3 etcdctl --endpoints "$EP" compact "$r7" >>"$TL_TMP/compact.log" 2>&1
# Each member applies the compaction in its own time: the sync must not
# find a member that has not.
compacted_on() {
	ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:2379$1" --consistency=s \
		get --rev=$((r7 - 1)) /mf-probe 2>&1 | grep -q compacted
}
for i in 1 2 3; do
	[ "$i" = "${peer#2379}" ] && continue
	wait_for 5 compacted_on "$i" || tl_log "member $i: no compaction seen"
done
kill -CONT "$pid"
if [ -n "$peer" ] && [ -n "$r7" ] && wait_for 10 both_serve "$r7" &&
	grep -q "compacted; listing again" "$TL_TMP/sync-a.log" &&
	tl_ctl a get svc intruder | grep -q "port: 84"; then
	pass compacted_watch_relists
else
	fail compacted_watch_relists "member '$peer', served $(served a), want $r7; $(cat "$TL_TMP/compact.log"; tail -n 6 "$TL_TMP/sync-a.log")"
fi
[ -n "$peer" ] && etcd_start "${peer#2379}"
wait_for 20 etcd_healthy || tl_log "member ${peer#2379} did not come back"

# 7. Workloads registered by their node under a lease: b2 leaves the
# policy and node b's sync registers it; node a serves it; a registration
# under node b that claims a workload on node a is refused by every sync
# (the identity check); node b's sync killed (a dead node), its lease runs
# out and node a drops b2 within the TTL.
TTL=2
"$MFCTL" --store "$STORE" delete workload b2 >"$TL_TMP/del-b2.out" 2>&1 ||
	tl_log "delete b2: $(cat "$TL_TMP/del-b2.out")"
cat >"$TL_TMP/reg-b.yaml" <<'YAML'
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: b2}
spec: {node: mf-node-b, ip: 10.78.2.12, port: 8080, service: web, identity: "spiffe://mesh.local/ns/default/sa/web"}
YAML
has_wl() { tl_ctl "$1" get workload "$2" >/dev/null 2>&1; }
sync_stop b
"$MFCTL" --bpf-root /sys/fs/bpf/mf-node-b --state-dir "$TL_STATE/mf-node-b/state" \
	--run-dir "$TL_TMP/run-b" --store "$STORE" sync --node mf-node-b \
	-f "$TL_TMP/reg-b.yaml" --ttl "$TTL" >>"$TL_TMP/sync-b.log" 2>&1 </dev/null 9<&- &
SYNC_PID[b]=$!
if wait_for 5 has_wl a b2 && has_wl b b2; then
	pass registered_workload_served_by_both_nodes
else
	fail registered_workload_served_by_both_nodes "$(tail -n 5 "$TL_TMP/sync-b.log")"
fi
ETCDCTL_API=3 etcdctl --endpoints "$EP" put /mf-test/nodes/mf-node-b/Workload/evil \
	'{apiVersion: meshforge.io/v1alpha1, kind: Workload, metadata: {name: evil}, spec: {node: mf-node-a, ip: 10.78.1.66, port: 8080, service: web, identity: "spiffe://mesh.local/ns/default/sa/web"}}' \
	>/dev/null 2>&1
if wait_for 5 grep -q "Workload/evil: claims node mf-node-a" "$TL_TMP/sync-a.log" &&
	! has_wl a evil && has_wl a b2; then
	pass registration_for_another_node_refused
else
	fail registration_for_another_node_refused "$(tail -n 5 "$TL_TMP/sync-a.log")"
fi
ETCDCTL_API=3 etcdctl --endpoints "$EP" del /mf-test/nodes/mf-node-b/Workload/evil >/dev/null 2>&1
kill -9 "${SYNC_PID[b]}"
wait "${SYNC_PID[b]}" 2>/dev/null
SYNC_PID[b]=
t_kill=$(date +%s%N)
if wait_for $((TTL + 3)) eval '! has_wl a b2'; then
	ms=$((($(date +%s%N) - t_kill) / 1000000))
	tl_log "node b killed: node a dropped b2 after $ms ms (lease TTL ${TTL} s)"
	# The lease was renewed last before the kill, so it runs out
	# within the TTL of it; etcd checks for expired leases every 500 ms,
	# and the poll here costs up to 100 ms and an mfctl run.
	if [ "$ms" -le $((TTL * 1000 + 1000)) ]; then
		pass dead_node_workloads_expire_within_ttl
	else
		fail dead_node_workloads_expire_within_ttl "$ms ms"
	fi
else
	fail dead_node_workloads_expire_within_ttl "b2 still served by node a"
fi
sync_start b

# 8. Concurrent applies: each lands, or says it lost.
ok=1
for round in 1 2 3 4 5; do
	svc_file "$TL_TMP/c-a.yaml" client 10.96.0.11 $((100 + round))
	svc_file "$TL_TMP/c-b.yaml" intruder 10.96.0.12 $((200 + round))
	store_apply "$TL_TMP/c-a.yaml" "$TL_TMP/c-a.out" &
	pa=$!
	store_apply "$TL_TMP/c-b.yaml" "$TL_TMP/c-b.out" &
	pb=$!
	wait "$pa"; ra=$?
	wait "$pb"; rb=$?
	"$MFCTL" --store "$STORE" get svc -o yaml >"$TL_TMP/c-get" 2>&1
	for x in a b; do
		r=$ra; port=$((100 + round))
		[ "$x" = b ] && { r=$rb; port=$((200 + round)); }
		if [ "$r" = 0 ]; then
			grep -q "port: $port$" "$TL_TMP/c-get" ||
				{ ok=0; tl_log "round $round: apply $x said ok, port $port not in the store"; }
		elif ! grep -q "conflict" "$TL_TMP/c-$x.out"; then
			ok=0
			tl_log "round $round: apply $x: $(cat "$TL_TMP/c-$x.out")"
		fi
	done
	retries=$((${retries:-0} + $(cat "$TL_TMP/c-a.out" "$TL_TMP/c-b.out" | grep -c "reading it again")))
done
tl_log "concurrent applies: $retries lost a race and merged again"
if [ "$ok" = 1 ]; then
	pass concurrent_applies_land_or_conflict
else
	fail concurrent_applies_land_or_conflict
fi

# 9. TLS with client certificates, on a member of its own.
PKI=$TL_TMP/pki
mkdir -p "$PKI"
{
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PKI/ca.key" -out "$PKI/ca.crt" -subj /CN=mf-etcd-ca -days 1 &&
	for n in server client; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$PKI/$n.key" -out "$PKI/$n.csr" -subj "/CN=mf-etcd-$n" &&
		# The server's certificate is also a client's: etcd's gateway
		# dials its own gRPC port with it.
		openssl x509 -req -in "$PKI/$n.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
			-CAcreateserial -out "$PKI/$n.crt" -days 1 -extfile <(
			printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=clientAuth%s\n' \
				"$([ "$n" = server ] && echo ,serverAuth)") || exit 1
	done
} >"$TL_TMP/pki.log" 2>&1 || { fail tls_pki "$(cat "$TL_TMP/pki.log")"; tl_finish; }
etcd_member mf-e4 "$TL_TMP/etcd-4" https://127.0.0.1:23794 http://127.0.0.1:23894 "" \
	"$TL_TMP/etcd-4.log" --cert-file "$PKI/server.crt" --key-file "$PKI/server.key" \
	--trusted-ca-file "$PKI/ca.crt" --client-cert-auth
ETCD_PID[4]=$ETCD_MEMBER_PID
TLS=(--store etcds://127.0.0.1:23794 --store-ca "$PKI/ca.crt")
tls_apply() {
	"$MFCTL" "${TLS[@]}" --store-cert "$PKI/client.crt" --store-key "$PKI/client.key" \
		apply -f "$POLICY" >"$TL_TMP/tls.out" 2>&1
}
if wait_for 10 tls_apply && "$MFCTL" "${TLS[@]}" --store-cert "$PKI/client.crt" \
	--store-key "$PKI/client.key" get svc web 2>&1 | grep -q "vip: 10.96.0.10"; then
	pass tls_client_cert_apply_and_get
else
	fail tls_client_cert_apply_and_get "$(cat "$TL_TMP/tls.out")"
fi
if "$MFCTL" "${TLS[@]}" get >"$TL_TMP/tls-nocert.out" 2>&1; then
	fail tls_refused_without_client_cert "get succeeded"
else
	pass tls_refused_without_client_cert
fi

# 10. etcd's auth, a role per node, on a member of its own whose tokens
# live one second (--auth-token-ttl), so that an idle sync's expires.
AEP=http://127.0.0.1:23795
etcd_member mf-e5 "$TL_TMP/etcd-5" "$AEP" http://127.0.0.1:23895 "" \
	"$TL_TMP/etcd-5.log" --auth-token-ttl 1
ETCD_PID[5]=$ETCD_MEMBER_PID
actl() { ETCDCTL_API=3 etcdctl --endpoints "$AEP" "$@"; }
# What docs/store.md tells an operator to run, for the prefix /mf-auth.
auth_setup() {
	actl user add root:mf-root-pw && actl user grant-role root root &&
	actl user add mf-operator:mf-op-pw && actl role add mf-operator &&
	actl role grant-permission mf-operator --prefix=true readwrite /mf-auth/ &&
	actl user grant-role mf-operator mf-operator &&
	actl user add mf-node-a:mf-a-pw && actl role add mf-node-a &&
	actl role grant-permission mf-node-a --prefix=true read /mf-auth/ &&
	actl role grant-permission mf-node-a --prefix=true readwrite /mf-auth/nodes/mf-node-a/ &&
	actl user grant-role mf-node-a mf-node-a &&
	actl auth enable
}
printf 'mf-op-pw\n' >"$TL_TMP/op.pw"
printf 'mf-a-pw\n' >"$TL_TMP/a.pw"
printf 'wrong\n' >"$TL_TMP/bad.pw"
chmod 0600 "$TL_TMP"/*.pw
ASTORE=(--store etcd://127.0.0.1:23795/mf-auth)
OP=("${ASTORE[@]}" --store-user mf-operator --store-password-file "$TL_TMP/op.pw")
NA=("${ASTORE[@]}" --store-user mf-node-a --store-password-file "$TL_TMP/a.pw")
if ! { wait_for 10 eval 'actl endpoint health >/dev/null 2>&1' &&
	auth_setup >"$TL_TMP/auth-setup.log" 2>&1; }; then
	fail auth_setup "$(tail -n 5 "$TL_TMP/auth-setup.log" "$TL_TMP/etcd-5.log")"
	tl_finish
fi
if "$MFCTL" "${OP[@]}" apply -f "$POLICY" >"$TL_TMP/auth-op.out" 2>&1 &&
	"$MFCTL" "${OP[@]}" get svc web 2>&1 | grep -q "vip: 10.96.0.10"; then
	pass auth_operator_applies
else
	fail auth_operator_applies "$(cat "$TL_TMP/auth-op.out")"
fi
# refused CASE WHAT ARGS...: mfctl ARGS fails, saying WHAT.
refused() {
	local c=$1 what=$2
	shift 2
	if "$MFCTL" "$@" >"$TL_TMP/$c.out" 2>&1; then
		fail "$c" "it succeeded: $(cat "$TL_TMP/$c.out")"
	elif grep -q "$what" "$TL_TMP/$c.out"; then
		pass "$c"
	else
		fail "$c" "not '$what': $(cat "$TL_TMP/$c.out")"
	fi
}
refused auth_wrong_password_refused "authentication failed" "${ASTORE[@]}" \
	--store-user mf-operator --store-password-file "$TL_TMP/bad.pw" get svc
refused auth_no_user_refused "user name is empty" "${ASTORE[@]}" get svc
sed 's/10\.96\.0\.10/10.96.0.99/' "$POLICY" >"$TL_TMP/policy-moved.yaml"
refused auth_node_cannot_write_policy "permission denied (user mf-node-a)" "${NA[@]}" \
	apply -f "$TL_TMP/policy-moved.yaml"
if "$MFCTL" "${NA[@]}" get svc web 2>&1 | grep -q "vip: 10.96.0.10"; then
	pass auth_node_reads_policy
else
	fail auth_node_reads_policy "node a's user cannot read what the operators applied"
fi
cat >"$TL_TMP/reg-auth-a.yaml" <<'YAML'
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: a9}
spec: {node: mf-node-a, ip: 10.78.1.19, port: 8080, service: web, identity: "spiffe://mesh.local/ns/default/sa/web"}
YAML
sed 's/mf-node-a/mf-node-b/; s/a9/b9/; s/10\.78\.1\.19/10.78.2.19/' "$TL_TMP/reg-auth-a.yaml" \
	>"$TL_TMP/reg-auth-b.yaml"
# auth_sync NODE: node a's user syncing in memory, registering NODE's file.
auth_sync() {
	mkdir -p "$TL_TMP/auth-$1"
	"$MFCTL" "${NA[@]}" --state-dir "$TL_TMP/auth-$1" --run-dir "$TL_TMP/auth-$1" \
		sync --memory --node "mf-node-$1" -f "$TL_TMP/reg-auth-$1.yaml" --ttl 2 \
		>>"$TL_TMP/sync-auth-$1.log" 2>&1 </dev/null 9<&- &
	SYNC_PID[auth-$1]=$!
}
registered() { [ -n "$(actl --user root:mf-root-pw get --prefix --keys-only "/mf-auth/nodes/mf-node-$1/")" ]; }
auth_sync a
if wait_for 10 registered a; then
	pass auth_node_registers_own
else
	fail auth_node_registers_own "$(tail -n 5 "$TL_TMP/sync-auth-a.log")"
fi
auth_sync b
if wait_for 10 grep -q "cannot register node mf-node-b: .*permission denied (user mf-node-a)" \
	"$TL_TMP/sync-auth-b.log" && ! registered b; then
	pass auth_node_cannot_register_other
else
	fail auth_node_cannot_register_other "$(tail -n 5 "$TL_TMP/sync-auth-b.log")"
fi
sync_stop auth-b
# Node a's token has expired meanwhile (a second idle: keepalives need
# none); its lease revoked, the sync registers again with a new token.
sleep 2
# Node a's lease: the one its key is attached to (node b's sync was
# granted one too, and could attach nothing to it).
lease=
for l in $(actl --user root:mf-root-pw lease list 2>/dev/null | grep -v '^found'); do
	actl --user root:mf-root-pw lease timetolive --keys "$l" 2>/dev/null |
		grep -q "/mf-auth/nodes/mf-node-a/" && lease=$l
done
revoked=false
[ -n "$lease" ] && actl --user root:mf-root-pw lease revoke "$lease" >"$TL_TMP/revoke.out" 2>&1 &&
	revoked=true
# The sync may register again within milliseconds of the revoke, before a
# look could see the keys gone: what shows the new registration is that
# node a's keys are under a lease other than the revoked one.
# reregistered: every key of node a's is under a live lease, not $lease.
reregistered() {
	local leases
	leases=$(actl --user root:mf-root-pw get --prefix -w json "/mf-auth/nodes/mf-node-a/" |
		grep -o '"lease":[0-9]*' | sort -u) || return 1
	[ -n "$leases" ] && [ "$(printf '%s\n' "$leases" | wc -l)" = 1 ] &&
		[ "${leases#\"lease\":}" != "$((16#$lease))" ]
}
if $revoked && wait_for 10 reregistered &&
	grep -q "registering again" "$TL_TMP/sync-auth-a.log" &&
	! grep -q "cannot register" "$TL_TMP/sync-auth-a.log"; then
	pass auth_expired_token_replaced
else
	fail auth_expired_token_replaced "lease $lease: $(cat "$TL_TMP/revoke.out"); $(tail -n 4 "$TL_TMP/sync-auth-a.log")"
fi
sync_stop auth-a

tl_finish
