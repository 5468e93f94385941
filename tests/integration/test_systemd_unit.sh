#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# deploy/systemd/meshforge-agent.service: `systemd-analyze verify` finds
# nothing wrong with it (its ExecStart pointed at the built agent), it is
# Type=notify with a reload by SIGHUP, its capability bounding set is what
# the agent needs to start (agent/caps.h keeps four of them once
# attached), and `systemd-analyze security` rates its exposure 3.0 or
# less ("OK").  Needs no testbed.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_systemd_unit
tl_require_cmd systemd-analyze
tl_require_built "$AGENT"

UNIT=$TL_TOP/deploy/systemd/meshforge-agent.service
mkdir -p "$TL_TMP/unit"
sed "s|/usr/local/bin/meshforge-agent|$AGENT|" "$UNIT" >"$TL_TMP/unit/meshforge-agent.service"
if systemd-analyze verify "$TL_TMP/unit/meshforge-agent.service" >"$TL_TMP/verify.log" 2>&1 &&
	! grep -qv '^$' "$TL_TMP/verify.log"; then
	pass unit_verifies
else
	fail unit_verifies "$(cat "$TL_TMP/verify.log")"
fi

field() { awk -F= -v k="$1" '$1 == k {sub(/^[^=]*=/, ""); print; exit}' "$UNIT"; }
if [ "$(field Type)" = notify ] && [ "$(field ExecReload)" = '/bin/kill -HUP $MAINPID' ] &&
	[ "$(field NoNewPrivileges)" = yes ] && [ "$(field ProtectSystem)" = strict ] &&
	[ "$(field CapabilityBoundingSet)" = "CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_SYS_RESOURCE" ]; then
	pass unit_fields
else
	fail unit_fields "Type=$(field Type) ExecReload=$(field ExecReload) CapabilityBoundingSet=$(field CapabilityBoundingSet)"
fi

systemd-analyze security --offline=yes "$TL_TMP/unit/meshforge-agent.service" >"$TL_TMP/security.log" 2>&1
score=$(grep -o 'Overall exposure level for [^:]*: [0-9.]*' "$TL_TMP/security.log" | awk '{print $NF}')
tl_log "systemd-analyze security: exposure $score"
if [ -n "$score" ] && awk -v s="$score" 'BEGIN {exit !(s <= 3.0)}'; then
	pass unit_exposure
else
	fail unit_exposure "exposure '$score': $(tail -3 "$TL_TMP/security.log")"
fi

tl_finish
