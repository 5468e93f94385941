#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# MeshRateLimit's local.tcp.connectionRate in the kernel, on the two-node
# testbed: web limited to 5 connections a second from each source pod.
# Pod a1 opens connections to the web VIP as fast as it can for 3 seconds;
# pod a2 opens one every 0.4 s meanwhile.  Asserted by what the clients saw
# and the kernel's counters:
#  - a1 gets its burst and then 5 a second (its other SYNs are dropped by
#    node a's TC program before they reach the agent), within a margin;
#  - a2, below the rate, gets every one of its connections;
#  - node a counts the drops (drop_conn_rate) and keeps one bucket per
#    source pod and service (mf_conn_buckets), as `mfctl inspect` shows.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_conn_rate
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

VIP=10.96.0.10
{
	cat "$TL_TOP/tests/integration/policy.yaml"
	cat <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshRateLimit
metadata: {name: web-connections}
spec:
  targetRef: {kind: MeshService, name: web}
  from:
    - targetRef: {kind: Mesh}
      default:
        local:
          tcp:
            connectionRate: {num: 5, interval: 1s}
YAML
} >"$TL_TMP/policy.yaml"
tl_bed_up --apply "$TL_TMP/policy.yaml" --agents
tl_echo_up

# opener POD SECONDS PAUSE WAIT: connects to the VIP for SECONDS, PAUSE
# between attempts, each given WAIT seconds, below 1 (a dropped SYN is
# retried only after 1 s, so a connect that took longer was refused);
# prints "<connected> <attempts>".
opener() {
	tb_exec "$1" "$TL_PY" - "$2" "$3" "$4" <<'PY'
import socket, sys, time
end = time.monotonic() + float(sys.argv[1]); pause = float(sys.argv[2])
wait = float(sys.argv[3])
ok = tried = 0
while time.monotonic() < end:
    tried += 1
    try:
        s = socket.create_connection(("10.96.0.10", 80), timeout=wait)
        ok += 1
        s.close()
    except OSError:
        pass
    time.sleep(pause)
print(ok, tried)
PY
}
kstat() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v r="meshforge_pod_packets_total{reason=\"$1\"}" '$1 == r {print $2}'
}

drops0=$(kstat drop_conn_rate)
# a2 is given the most a connect can take without a retransmit: a slow
# machine must not pass for a limit.
opener a2 3 0.4 0.9 >"$TL_TMP/a2.out" 2>&1 &
a2_pid=$!
opener a1 3 0 0.3 >"$TL_TMP/a1.out" 2>&1
wait "$a2_pid"
drops1=$(kstat drop_conn_rate)
read -r a1_ok a1_tried <"$TL_TMP/a1.out"
read -r a2_ok a2_tried <"$TL_TMP/a2.out"
tl_log "a1: $a1_ok of $a1_tried; a2: $a2_ok of $a2_tried; drop_conn_rate ${drops0:-?} -> ${drops1:-?}"

# Burst 5, then 5 a second for 3 s: 20; the attempts' edges give a few.
if [ "${a1_ok:-0}" -ge 14 ] && [ "${a1_ok:-0}" -le 24 ] && [ "${a1_tried:-0}" -gt $((${a1_ok:-0} + 5)) ]; then
	pass flooding_pod_held_to_its_rate
else
	fail flooding_pod_held_to_its_rate "a1 connected $a1_ok of $a1_tried"
fi
if [ "${a2_ok:-0}" -ge 6 ] && [ "$a2_ok" = "$a2_tried" ]; then
	pass other_pod_untouched
else
	fail other_pod_untouched "a2 connected $a2_ok of $a2_tried"
fi
if [ $((${drops1:-0} - ${drops0:-0})) -gt 0 ]; then
	pass drops_counted
else
	fail drops_counted "drop_conn_rate ${drops0:-?} -> ${drops1:-?}"
fi
tl_ctl a inspect >"$TL_TMP/inspect" 2>&1
n=$(awk '$1 == "mf_conn_buckets" {print $3}' "$TL_TMP/inspect")
if [ "$n" = "2/65536" ] && grep -qx '  10.78.1.11 -> 10.96.0.10:80' "$TL_TMP/inspect" &&
	grep -qx '  10.78.1.12 -> 10.96.0.10:80' "$TL_TMP/inspect" &&
	grep -q '^    conn_rate 5 per 1000 ms per source pod$' "$TL_TMP/inspect"; then
	pass one_bucket_per_source_pod
else
	fail one_bucket_per_source_pod "inspect: $(grep -A3 mf_conn_buckets "$TL_TMP/inspect" | tr '\n' '|')"
fi
tl_finish
