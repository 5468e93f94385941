#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The machinery of the mesh store's scale bench (scripts/bench-scale.sh,
# docs/store.md), small: one etcd of Debian's etcd-server on loopback
# (127.0.0.1:24690, peer :24691) and five `mfctl sync --memory` (maps in
# memory, no BPF), each with a status file and a state dir, on a mesh of
# 200 Services and 2,000 Workloads over 5 Nodes (scripts/gen-policy.py):
#  - a sync with --memory touches no pins: it runs with a --bpf-root that
#    does not exist and leaves it so;
#  - the whole mesh in one apply: every sync's status says its revision,
#    with the same count of records, and every sync's saved policy holds
#    every object of the mesh;
#  - one Service changed: every sync serves the new revision, every
#    sync's compiled view (its saved policy) has the Service's new port,
#    and is the view of a sync that parses every key afresh (the others
#    parse only the changed key, the rest from their memo);
#  - a Service and its Workloads deleted: gone from every sync's view;
#  - a burst of 60 revisions (a put each): every sync serves the last,
#    with at most 30 compiles (the answers that came during a compile
#    compiled once after it);
#  - a writer with a state dir keeps its copy of the mesh there and then
#    reads only the keys written since (etcd sends it a tenth of the
#    first read's bytes and less), and sees another writer's change and
#    delete;
#  - a change over 8 MiB is refused by mfctl, though this etcd would take
#    it (etcd 3.4 could not restart with it in its log), and an etcd with
#    its limits as shipped refuses the mesh's 2,212 writes and 12,000
#    objects' 3 MiB in one transaction: said with the flag to raise,
#    nothing written;
#  - bench-scale.sh itself at a tiny size: both phases measured, every
#    figure there.
# No testbed: the syncs stand for nodes without kernels.  The testbed lock
# is taken all the same, so that the timing runs alone.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_store_scale
tl_require_cmd etcd curl "$TL_PY"
tl_require_built "$MFCTL"
[ "$(id -u)" = 0 ] && tl_lock

S=5
PORT=24690
STORE=etcd://127.0.0.1:$PORT/mf-scale-test
NOPINS=/sys/fs/bpf/mf-scale-nopins
ETCD_PID=""
SYNC_PIDS=()

cleanup_scale() {
	local p
	for p in "${SYNC_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${SYNC_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if [ -n "$ETCD_PID" ]; then
		kill "$ETCD_PID" 2>/dev/null
		wait "$ETCD_PID" 2>/dev/null
	fi
}
trap 'rc=$?; cleanup_scale; (exit $rc); tl_cleanup' EXIT

"$TL_PY" "$TL_TOP/scripts/gen-policy.py" --services 200 \
	--workloads-per-service 10 --nodes "$S" -o "$TL_TMP/mesh.yaml"
objects=$(grep -c '^kind: ' "$TL_TMP/mesh.yaml")

# etcd_start NAME PORT [FLAG...]: a member of its own on PORT (peers on
# PORT + 1), its data and log under $TL_TMP/NAME, in ETCD_PID.
# shellcheck source=scripts/etcd-member.sh
. "$TL_TOP/scripts/etcd-member.sh"
etcd_start() {
	local name=$1 port=$2
	shift 2
	etcd_member "$name" "$TL_TMP/$name" "http://127.0.0.1:$port" \
		"http://127.0.0.1:$((port + 1))" "" "$TL_TMP/$name.log" "$@"
	ETCD_PID=$ETCD_MEMBER_PID
}
etcd_start mf-scale-test "$PORT" \
	--max-txn-ops $((objects + 16)) --max-request-bytes $((16 << 20))
etcd_up() { curl -sf -m 1 "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; }
wait_for 20 etcd_up || { fail etcd_up "$(tail -n 5 "$TL_TMP/mf-scale-test.log")"; tl_finish; }
pass etcd_up

for i in $(seq 1 "$S"); do
	mkdir -p "$TL_TMP/state-$i"
	"$MFCTL" --bpf-root "$NOPINS" --state-dir "$TL_TMP/state-$i" \
		--store "$STORE" sync --memory --status "$TL_TMP/sync-$i.status" \
		>"$TL_TMP/sync-$i.log" 2>&1 </dev/null 9<&- &
	SYNC_PIDS+=("$!")
done

# field FILE KEY: the value of KEY in a status file.
field() { sed -n "s/^$2 //p" "$1" 2>/dev/null; }
# all_at REV: every sync's status says REV.
all_at() {
	local i
	for i in $(seq 1 "$S"); do
		[ "$(field "$TL_TMP/sync-$i.status" revision)" = "$1" ] || return 1
	done
}
rev_of() { sed -n 's/.* revision \([0-9]*\):.*/\1/p' "$1"; }
# views_have CHECK...: every sync's saved policy passes CHECK FILE.
views() {
	local i
	for i in $(seq 1 "$S"); do
		"$@" "$TL_TMP/state-$i/policy.yaml" || return 1
	done
}
objects_are() { [ "$(grep -c '^kind: ' "$2")" = "$1" ]; }
# svc7_port PORT FILE: Service svc-7 in FILE has port PORT.
svc7_port() {
	"$TL_PY" - "$1" "$2" <<'EOF'
import sys
docs = open(sys.argv[2]).read().split("\n---\n")
svc = [d for d in docs if "\nkind: Service\n" in "\n" + d
       and "\n  name: svc-7\n" in d]
sys.exit(0 if len(svc) == 1 and "\n  port: %s\n" % sys.argv[1] in svc[0] + "\n" else 1)
EOF
}
svc7_gone() { ! grep -q '^  name: svc-7$' "$1"; }

# The empty mesh first: every sync lists and serves it.
rev0=$("$MFCTL" --store "$STORE" status 2>/dev/null |
	sed -n 's/^store: .* at revision \([0-9]*\),.*/\1/p')
if [ -n "$rev0" ] && wait_for 20 all_at "$rev0"; then
	pass syncs_start
else
	fail syncs_start "store revision '$rev0'; $(tail -n 3 "$TL_TMP"/sync-1.log)"
fi
if [ ! -e "$NOPINS" ]; then
	pass memory_no_pins
else
	fail memory_no_pins "$NOPINS was made"
	rm -rf "$NOPINS"
fi

# 1. The whole mesh in one apply.
"$MFCTL" --store "$STORE" apply -f "$TL_TMP/mesh.yaml" >"$TL_TMP/apply-1.out" 2>&1 ||
	fail full_apply "$(cat "$TL_TMP/apply-1.out")"
r1=$(rev_of "$TL_TMP/apply-1.out")
if [ -n "$r1" ] && wait_for 30 all_at "$r1"; then
	pass full_load_all_serving
else
	fail full_load_all_serving "want revision '$r1'; $(for i in $(seq 1 "$S"); do field "$TL_TMP/sync-$i.status" revision; done | tr '\n' ' ')"
fi
recs=$(for i in $(seq 1 "$S"); do field "$TL_TMP/sync-$i.status" records; done | sort -u)
if [ "$(echo "$recs" | wc -l)" = 1 ] && [ "${recs:-0}" -gt "$objects" ]; then
	pass full_load_same_records
else
	fail full_load_same_records "records per sync: $(echo "$recs" | tr '\n' ' '), $objects objects"
fi
if views objects_are "$objects" && views svc7_port 8080; then
	pass full_load_views
else
	fail full_load_views "a saved policy lacks objects of the mesh"
fi

# 2. One Service changed on top.
printf 'apiVersion: meshforge.io/v1alpha1\nkind: Service\nmetadata: {name: svc-7}\nspec: {vip: 10.96.0.4, port: 9090}\n' \
	>"$TL_TMP/change.yaml"
"$MFCTL" --store "$STORE" apply -f "$TL_TMP/change.yaml" >"$TL_TMP/apply-2.out" 2>&1 ||
	fail change_apply "$(cat "$TL_TMP/apply-2.out")"
r2=$(rev_of "$TL_TMP/apply-2.out")
if [ -n "$r2" ] && [ "$r2" -gt "${r1:-0}" ] && wait_for 20 all_at "$r2"; then
	pass change_all_serving
else
	fail change_all_serving "want revision '$r2' after '$r1'"
fi
if views svc7_port 9090 && views objects_are "$objects"; then
	pass change_in_every_view
else
	fail change_in_every_view "$(grep -A4 '^  name: svc-7$' "$TL_TMP/state-1/policy.yaml" | head -n 6)"
fi
# A sync parses only the keys that changed (the rest from its memo): what
# it compiled is what a sync that parses everything afresh compiles.
mkdir -p "$TL_TMP/state-once"
if "$MFCTL" --state-dir "$TL_TMP/state-once" --store "$STORE" sync --once --memory \
	>"$TL_TMP/once.log" 2>&1 &&
	cmp -s "$TL_TMP/state-once/policy.yaml" "$TL_TMP/state-1/policy.yaml"; then
	pass change_view_as_fresh
else
	fail change_view_as_fresh "$(cat "$TL_TMP/once.log"; diff "$TL_TMP/state-once/policy.yaml" "$TL_TMP/state-1/policy.yaml" | head)"
fi

# 3. A Service deleted, its Workloads with it, in one delete.
"$TL_PY" - "$TL_TMP/mesh.yaml" >"$TL_TMP/gone.yaml" <<'EOF'
import sys
docs = open(sys.argv[1]).read().split("---\n")
print("---\n".join(d for d in docs
                   if "{name: svc-7}" in d or "{name: wl-7-" in d), end="")
EOF
if "$MFCTL" --store "$STORE" delete -f "$TL_TMP/gone.yaml" >"$TL_TMP/apply-3.out" 2>&1; then
	r3=$(rev_of "$TL_TMP/apply-3.out")
	if [ -n "$r3" ] && wait_for 20 all_at "$r3" && views svc7_gone &&
		views objects_are $((objects - 11)); then
		pass delete_in_every_view
	else
		fail delete_in_every_view "revision '$r3'"
	fi
else
	fail delete_in_every_view "$(cat "$TL_TMP/apply-3.out")"
fi

# 4. A burst of changes, each its own revision (one put each, on one
# connection, as a cold start's registrations come): every sync serves the
# last with all of them, and compiles at most half as many times as it
# got answers: those that came during a compile are compiled once after
# it.
B=60
burst=()
for i in $(seq 1 "$B"); do
	k=$(printf '/mf-scale-test/policy/Service/burst-%d' "$i" | base64 -w0)
	v=$(printf 'apiVersion: meshforge.io/v1alpha1\nkind: Service\nmetadata: {name: burst-%d}\nspec: {vip: 10.96.9.%d, port: 80}\n' "$i" "$i" | base64 -w0)
	[ "$i" = 1 ] || burst+=(--next)
	burst+=(-s -X POST "http://127.0.0.1:$PORT/v3/kv/put" -d "{\"key\":\"$k\",\"value\":\"$v\"}" -o "$TL_TMP/burst-$i.json")
done
compiles() { grep -c ' in force at epoch \| compiles to what the maps hold' "$1"; }
declare -A before
for i in $(seq 1 "$S"); do before[$i]=$(compiles "$TL_TMP/sync-$i.log"); done
curl "${burst[@]}"
rb=$(sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p' "$TL_TMP/burst-$B.json")
burst_in() { [ "$(grep -c '^  name: burst-' "$1")" = "$B" ]; }
if [ -n "$rb" ] && wait_for 30 all_at "$rb" && views burst_in; then
	pass burst_all_serving
else
	fail burst_all_serving "want revision '$rb'; $(for i in $(seq 1 "$S"); do field "$TL_TMP/sync-$i.status" revision; done | tr '\n' ' ')"
fi
most=0
for i in $(seq 1 "$S"); do
	c=$(($(compiles "$TL_TMP/sync-$i.log") - before[$i]))
	[ "$c" -gt "$most" ] && most=$c
done
tl_log "burst of $B revisions: at most $most compiles per sync"
if [ "$most" -le $((B / 2)) ] &&
	grep -q 'revisions [0-9]* to [0-9]* ([0-9]* events) compiled together' \
		"$TL_TMP"/sync-*.log; then
	pass burst_compiled_together
else
	fail burst_compiled_together "$most compiles for $B answers"
fi

# 5. The writers' copy of the mesh (<state-dir>/store.cache): a writer
# with a state dir reads the whole mesh once, then only the keys written
# since, and sees what other writers did meanwhile (a change, a delete of
# a key in its copy).  The Service is another writer's first, so that it
# is in the first writer's copy, which few changes leave as it is.
# What etcd sent its clients (the JSON gateway is one of them) tells the
# two reads apart: the syncs' watches add a few events to each.
sent() {
	curl -sf -m 5 "http://127.0.0.1:$PORT/metrics" |
		awk '/^etcd_network_client_grpc_sent_bytes_total /{printf "%d\n", $2}'
}
# writer NAME ARGS...: mfctl on the store with state dir NAME; its
# output in $TL_TMP/NAME.out, and what etcd sent meanwhile in SENT.
writer() {
	local name=$1 b0 rc=0
	shift
	mkdir -p "$TL_TMP/$name"
	b0=$(sent)
	"$MFCTL" --state-dir "$TL_TMP/$name" --store "$STORE" "$@" >"$TL_TMP/$name.out" 2>&1 || rc=$?
	SENT=$(($(sent) - ${b0:-0}))
	return "$rc"
}
cached_svc() {
	printf 'apiVersion: meshforge.io/v1alpha1\nkind: Service\nmetadata: {name: cached}\nspec: {vip: 10.96.10.1, port: %s}\n' "$1" \
		>"$TL_TMP/cached.yaml"
}
said() { grep -q "revision [0-9]*: $2" "$TL_TMP/$1.out"; }
cached_svc 80
writer writer-b apply -f "$TL_TMP/cached.yaml" ||
	fail writer_reads_changes_only "$(cat "$TL_TMP/writer-b.out")"
cached_svc 81
writer writer-a apply -f "$TL_TMP/cached.yaml" && cold=$SENT
cached_svc 82
writer writer-a apply -f "$TL_TMP/cached.yaml"
tl_log "etcd sent ${cold:-?} bytes for a writer's first read, $SENT for its next"
if said writer-a "0 created, 1 updated" &&
	[ -s "$TL_TMP/writer-a/store.cache" ] && [ "${cold:-0}" -gt 0 ] &&
	[ $((SENT * 10)) -lt "$cold" ]; then
	pass writer_reads_changes_only
else
	fail writer_reads_changes_only "etcd sent $SENT bytes, '${cold:-}' for the first read; $(cat "$TL_TMP/writer-a.out")"
fi
# Another writer changes the Service: the first, applying the same,
# finds nothing to write (its copy brought up to date, not stale).
cached_svc 83
writer writer-b apply -f "$TL_TMP/cached.yaml" ||
	fail writer_copy_current "$(cat "$TL_TMP/writer-b.out")"
if writer writer-a apply -f "$TL_TMP/cached.yaml" && said writer-a "0 created, 0 updated, 0 deleted" &&
	[ $((SENT * 10)) -lt "${cold:-0}" ]; then
	pass writer_copy_current
else
	fail writer_copy_current "etcd sent $SENT bytes; $(cat "$TL_TMP/writer-a.out")"
fi
# The other deletes it: the first sees it gone (a delete does not show
# in a read of what changed: the count of keys does, and it reads the
# whole mesh), and creates it again.
writer writer-b delete service cached ||
	fail writer_copy_sees_delete "$(cat "$TL_TMP/writer-b.out")"
cached_svc 84
if writer writer-a apply -f "$TL_TMP/cached.yaml" && said writer-a "1 created, 0 updated" &&
	[ $((SENT * 2)) -gt "${cold:-0}" ]; then
	pass writer_copy_sees_delete
else
	fail writer_copy_sees_delete "etcd sent $SENT bytes; $(cat "$TL_TMP/writer-a.out")"
fi
writer writer-a delete service cached >/dev/null 2>&1 ||
	fail writer_copy_sees_delete "cannot delete it: $(cat "$TL_TMP/writer-a.out")"

# 6. etcd's limits on one transaction.  mfctl writes none over 8 MiB,
# whatever etcd would take (this member takes 16): etcd 3.4 cannot read a
# larger entry back from its log when it restarts.  Nothing is written.
# no_keys PORT PREFIX: etcd at PORT holds no key under PREFIX.
no_keys() {
	local k e
	k=$(printf '%s/' "$2" | base64 -w0)
	e=$(printf '%s0' "$2" | base64 -w0)
	curl -sf -m 5 -X POST "http://127.0.0.1:$1/v3/kv/range" \
		-d "{\"key\":\"$k\",\"range_end\":\"$e\",\"count_only\":true}" \
		>"$TL_TMP/count.json" && ! grep -q '"count"' "$TL_TMP/count.json"
}
"$TL_PY" "$TL_TOP/scripts/gen-policy.py" --services 6000 \
	--workloads-per-service 5 --nodes "$S" -o "$TL_TMP/huge.yaml"
if "$MFCTL" --store "etcd://127.0.0.1:$PORT/mf-scale-huge" apply \
	-f "$TL_TMP/huge.yaml" >"$TL_TMP/huge.out" 2>&1; then
	fail txn_over_8mib_refused "applied: $(tail -n 1 "$TL_TMP/huge.out")"
elif grep -q 'MiB (36[0-9]* writes), and one etcd transaction holds at most 8 MiB' \
	"$TL_TMP/huge.out" && grep -q 'Apply it in parts' "$TL_TMP/huge.out" &&
	no_keys "$PORT" /mf-scale-huge; then
	pass txn_over_8mib_refused
else
	fail txn_over_8mib_refused "$(cat "$TL_TMP/huge.out")"
fi

cleanup_scale
SYNC_PIDS=()
ETCD_PID=""

# etcd's own limits, as it ships (128 writes, 1.5 MiB a request): its
# refusal is said with the flag to raise, and nothing is written.
SPORT=$((PORT + 4))
etcd_start mf-scale-stock "$SPORT"
stock_up() { curl -sf -m 1 "http://127.0.0.1:$SPORT/health" >/dev/null 2>&1; }
"$TL_PY" "$TL_TOP/scripts/gen-policy.py" --services 2000 \
	--workloads-per-service 5 --nodes "$S" -o "$TL_TMP/mid.yaml"
if ! wait_for 20 stock_up; then
	fail stock_limits_said "etcd: $(tail -n 3 "$TL_TMP/mf-scale-stock.log")"
elif "$MFCTL" --store "etcd://127.0.0.1:$SPORT/mf-ops" apply \
	-f "$TL_TMP/mesh.yaml" >"$TL_TMP/ops.out" 2>&1 ||
	"$MFCTL" --store "etcd://127.0.0.1:$SPORT/mf-bytes" apply \
	-f "$TL_TMP/mid.yaml" >"$TL_TMP/bytes.out" 2>&1; then
	fail stock_limits_said "applied: $(cat "$TL_TMP/ops.out" "$TL_TMP/bytes.out" 2>/dev/null)"
elif grep -q "fewer writes in one transaction than this change's $((objects + 1)) (its --max-txn-ops" \
	"$TL_TMP/ops.out" &&
	grep -q 'more than etcd takes in one request (its --max-request-bytes' \
	"$TL_TMP/bytes.out" && no_keys "$SPORT" /mf-ops && no_keys "$SPORT" /mf-bytes; then
	pass stock_limits_said
else
	fail stock_limits_said "$(cat "$TL_TMP/ops.out" "$TL_TMP/bytes.out")"
fi
cleanup_scale
ETCD_PID=""

# 7. The bench script, tiny: its two phases and their figures.
MF_SCALE_SYNCS=2 MF_SCALE_SERVICES=20 MF_SCALE_WORKLOADS=40 \
	MF_SCALE_PORT=24692 MF_SCALE_TIMEOUT=30 MF_SCALE_OUT="$TL_TMP/scale.json" \
	"$TL_TOP/scripts/bench-scale.sh" >"$TL_TMP/bench.out" 2>&1
if "$TL_PY" - "$TL_TMP/scale.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
ph = {p["phase"]: p for p in j["phases"]}
ok = j["syncs"] == 2 and all(
    name in ph and ph[name]["all_serving_s"] > 0 and ph[name]["apply_s"] > 0
    and ph[name]["sync_rss"]["min"] > 0 and ph[name]["etcd_rss"] > 0
    for name in ("full load", "one-service change"))
sys.exit(0 if ok else 1)
EOF
then
	pass bench_script
else
	fail bench_script "$(tail -n 5 "$TL_TMP/bench.out")"
fi
tl_finish
