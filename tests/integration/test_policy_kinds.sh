#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Every policy kind on the live testbed: one apply of all sixteen kinds
# lands in the agents (node b's /config_dump shows each, tags resolved),
# `mfctl get` prints them back as YAML that re-applies to no change and as
# JSON, bpftool decodes their records, a delete takes one out of the
# agent, and a MeshTrafficPermission shadow deny admits the intruder while
# node b logs the denial it would have made; `mfctl status` on node b shows
# the epoch its agent serves next to the kernel's.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_policy_kinds
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"
tl_require_cmd bpftool python3

VIP=10.96.0.10
TB_BPFFS=/sys/fs/bpf
KINDS="MeshTimeout MeshRetry MeshCircuitBreaker MeshHealthCheck
MeshLoadBalancingStrategy MeshFaultInjection MeshAccessLog MeshTrace
MeshMetric MeshRateLimit MeshHTTPRoute MeshTCPRoute TrafficRoute RateLimit
MeshGateway MeshGatewayRoute"
TOKEN=mf-kinds-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$TL_TMP/token"
tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
tl_httpd b1 "$TL_TMP/token" && tl_httpd b2 "$TL_TMP/token" ||
	{ fail httpd "server did not start"; tl_finish; }

ctl_b() { tl_ctl b "$@"; }
dump_b() { tb_exec b curl -sS -m 5 "http://127.0.0.1:15000/config_dump"; }
# The epoch node b's agent serves, from its metrics.
agent_epoch() {
	tb_exec b curl -sS -m 5 "http://127.0.0.1:15000/metrics" |
		awk '$1 == "meshforge_policy_epoch" { print $2 }'
}
# Waits (up to 5 s) until node b's agent serves epoch $1.  The agent
# reloads at the next accept, so each try makes one connection.
await_epoch() {
	local i
	for i in $(seq 50); do
		tb_exec a1 curl -sS -m 2 -o /dev/null "http://$VIP/token" 2>/dev/null
		[ "$(agent_epoch)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

if "$TB" apply "$TL_TOP/tests/integration/kinds/all-kinds.yaml" >"$TL_TMP/apply.out" 2>&1; then
	pass apply_all_kinds
else
	fail apply_all_kinds "$(cat "$TL_TMP/apply.out")"
	# status, run on node b: the epoch in the maps and the one its agent serves.
tb_exec b "$MFCTL" --bpf-root "$TB_BPFFS/mf-node-b" status >"$TL_TMP/status.out" 2>&1
if grep -q '^agent epoch: 4 (agent version [0-9]' "$TL_TMP/status.out" &&
	grep -q '^epoch:     4 (the agent serves it)$' "$TL_TMP/status.out"; then
	pass status_shows_agent_epoch
else
	fail status_shows_agent_epoch "$(cat "$TL_TMP/status.out")"
fi

tl_finish
fi
await_epoch 2 || fail agent_reloaded "node b serves epoch '$(agent_epoch)', want 2"

dump_b >"$TL_TMP/dump.json" 2>&1
if python3 - "$TL_TMP/dump.json" $KINDS >"$TL_TMP/dump.check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
pol = d["policies"]
missing = [k for k in sys.argv[2:] if not pol.get(k)]
if missing:
    sys.exit("missing in /config_dump: %s" % missing)
route = pol["MeshHTTPRoute"][0]
refs = route["conf"]["default"]["backendRefs"]
assert refs[0]["tags"] == {"version": "v1"}, refs
assert refs[0]["weight"] == 90 and refs[1]["weight"] == 10, refs
# Strings kept in mf_strings show as strings, not ids.
match = route["conf"]["matches"][0]
assert match["path"]["value"] == "/api", match
assert match["headers"][0]["name"] == "x-tenant", match
assert match["headers"][0]["value"].startswith("tenant-00-"), match
assert len(match["headers"][0]["value"]) == 286, match
assert pol["MeshTimeout"][0]["conf"]["connectionTimeout"] == "2s"
tr = pol["TrafficRoute"][0]
assert tr["destinations"] == [{"kuma.io/service": "client"}], tr
PY
then
	pass config_dump_shows_every_kind
else
	fail config_dump_shows_every_kind "$(cat "$TL_TMP/dump.check")"
fi

# get prints what apply reads: re-applying it changes nothing (diff exit 0).
ctl_b get -o yaml >"$TL_TMP/get.yaml" 2>"$TL_TMP/get.err"
if ctl_b diff -f "$TL_TMP/get.yaml" >"$TL_TMP/diff.out" 2>&1; then
	pass get_yaml_round_trips
else
	fail get_yaml_round_trips "diff exit $?: $(head -n 20 "$TL_TMP/diff.out")"
fi
if ctl_b get meshhttproutes -o json | python3 -c '
import json, sys
objs = json.load(sys.stdin)
assert [o["metadata"]["name"] for o in objs] == ["web-split"], objs
assert objs[0]["kind"] == "MeshHTTPRoute"
' 2>"$TL_TMP/json.err"; then
	pass get_json_parses
else
	fail get_json_parses "$(cat "$TL_TMP/json.err")"
fi

# bpftool decodes the records through their BTF; a route holds the ids
# of its strings, which mf_strings decodes.
bpftool -j map dump pinned "$TB_BPFFS/mf-node-b/mf_http_routes" >"$TL_TMP/bpftool.json" 2>&1
bpftool -j map dump pinned "$TB_BPFFS/mf-node-b/mf_strings" >"$TL_TMP/bpftool-strings.json" 2>&1
if python3 - "$TL_TMP/bpftool.json" "$TL_TMP/bpftool-strings.json" <<'PY' 2>"$TL_TMP/bpftool.err"
import json, sys
recs = json.load(open(sys.argv[1]))
assert len(recs) == 1, len(recs)
f = recs[0]["formatted"]
assert f["key"]["name"] == "web-split", f["key"]
rule = f["value"]["rule"]
assert rule["def"]["nbackend_refs"] == 2, rule["def"]
assert rule["def"]["backend_refs"][0]["weight"] == 90
half = f["key"]["half"]
strs = {s["formatted"]["key"]["id"]: s["formatted"]["value"]
        for s in json.load(open(sys.argv[2]))
        if s["formatted"]["key"]["half"] == half}
path = strs[rule["matches"][0]["path"]["value"]]
assert path["s"] == "/api" and path["len"] == 4, path
value = strs[rule["matches"][0]["headers"][0]["value"]]
assert value["len"] == 286 and value["s"].startswith("tenant-00-"), value
PY
then
	pass bpftool_decodes_route
else
	fail bpftool_decodes_route "$(cat "$TL_TMP/bpftool.err") $(head -c 600 "$TL_TMP/bpftool.json")"
fi

# inspect decodes the same record, its tags resolved.
if ctl_b inspect 2>&1 | grep -q '^  web-split\[0\] to target Mesh ref MeshService:web conf .*"tags": {"version": "v1"}, "weight": 90'; then
	pass inspect_decodes_route
else
	fail inspect_decodes_route "$(ctl_b inspect 2>&1 | grep -A2 '^mf_http_routes')"
fi

# A delete takes the policy out of the agent's snapshot.
for n in a b; do
	tl_ctl "$n" delete meshtimeout web-timeouts >>"$TL_TMP/delete.out" 2>&1
done
await_epoch 3 || fail agent_reloaded_after_delete "node b serves epoch '$(agent_epoch)', want 3"
if dump_b | python3 -c '
import json, sys
pol = json.load(sys.stdin)["policies"]
assert "MeshTimeout" not in pol, pol.get("MeshTimeout")
assert pol["MeshRetry"], "MeshRetry went too"
' 2>"$TL_TMP/del.err"; then
	pass delete_reaches_agent
else
	fail delete_reaches_agent "$(cat "$TL_TMP/delete.out" "$TL_TMP/del.err")"
fi

# Shadow deny: the intruder is admitted and the would-be denial is logged.
body=$(tb_exec a2 curl -sS -m 5 "http://$VIP/token" 2>&1)
[ "$body" != "$TOKEN" ] && pass intruder_denied_before || fail intruder_denied_before "a2 got through"
"$TB" apply "$TL_TOP/tests/integration/kinds/shadow.yaml" >"$TL_TMP/shadow.out" 2>&1 ||
	fail apply_shadow "$(cat "$TL_TMP/shadow.out")"
await_epoch 4 || fail agent_reloaded_shadow "node b serves epoch '$(agent_epoch)', want 4"
mark=$(tl_log_mark mf-node-b)
body=$(tb_exec a2 curl -sS -m 5 "http://$VIP/token" 2>&1)
if [ "$body" = "$TOKEN" ]; then
	pass shadow_deny_admits
else
	fail shadow_deny_admits "a2 got '$body'"
fi
sleep 0.2
if tl_log_since mf-node-b "$mark" | grep -q 'event=shadow_denied .*src_spiffe=spiffe://mesh.local/ns/default/sa/intruder .*rule="policy=web-allow'; then
	pass shadow_deny_logged
else
	fail shadow_deny_logged "$(tl_log_since mf-node-b "$mark" | tail -n 5)"
fi
shadow=$(tb_exec b curl -sS -m 5 "http://127.0.0.1:15000/metrics" |
	awk '$1 == "meshforge_authz_shadow_denied_total" { print $2 }')
if [ "${shadow:-0}" -ge 1 ] 2>/dev/null; then
	pass shadow_deny_counted
else
	fail shadow_deny_counted "meshforge_authz_shadow_denied_total '${shadow}'"
fi

# status, run on node b: the epoch in the maps and the one its agent serves.
tb_exec b "$MFCTL" --bpf-root "$TB_BPFFS/mf-node-b" status >"$TL_TMP/status.out" 2>&1
if grep -q '^agent epoch: 4 (agent version [0-9]' "$TL_TMP/status.out" &&
	grep -q '^epoch:     4 (the agent serves it)$' "$TL_TMP/status.out"; then
	pass status_shows_agent_epoch
else
	fail status_shows_agent_epoch "$(cat "$TL_TMP/status.out")"
fi

tl_finish
