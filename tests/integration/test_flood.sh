#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Floods do not starve a node, on the two-node testbed.  Pod a1 (service
# client) calls web (pods b1 and b2, tests/tools/mf_httpd.py), 200
# requests each on a connection of its own, before and during each flood;
# all must be answered, and their p99 is reported beside the unloaded one:
#  - slowloris (slowhttptest, 10,000 connections sending headers slowly)
#    from pod a2 at web's VIP: a2 holds at most its share of agent a's
#    outbound listener (1,000 here), the rest is refused and counted;
#  - slowloris at node b's tunnel port (:15008): bytes that are no TLS
#    ClientHello are reset at once;
#  - a connect flood at :15008 from another host on the wire: 12,000 bare
#    connections, each reopened when the agent closes it; agent b takes
#    no TLS session for them, closes them at the first-byte deadline, and
#    a1's tunnels to b (web as TCP: one each) still get in.
# Agents' memory stays under 256 MiB throughout (VmRSS, sampled).
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_flood
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"
tl_require_cmd slowhttptest

RSS_MAX_KB=$((256 * 1024))
# A peer's share well under what the floods open, whatever this machine
# lets slowhttptest open (its file limit) in the time it has.
export MF_AGENT_ARGS="${MF_AGENT_ARGS:-} --max-conns-per-source 1000"
tl_web_http >"$TL_TMP/http.yaml"
tl_bed_up --apply "$TL_TMP/http.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done

metric() {
	tb_exec "$1" curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk -v m="$2" '$1 == m {print $2; f = 1} END {if (!f) print 0}'
}
refused() { metric "$1" "meshforge_connections_refused_total{reason=\"$2\"}"; }
# rss NODE: the agent's resident set, KiB.
rss() { awk '/^VmRSS/ {print $2}' "/proc/$("$TB" pid "mf-node-$1")/status"; }
# Samples both agents' RSS every 0.2 s into $TL_TMP/rss until killed.
rss_watch() {
	while :; do
		echo "$(rss a) $(rss b)" >>"$TL_TMP/rss"
		sleep 0.2
	done
}
rss_max() { awk '{if ($1 > m) m = $1; if ($2 > m) m = $2} END {print m + 0}' "$TL_TMP/rss"; }
# client OUT: 200 requests from a1, each on a new connection; one line
# each: "<status> <ms>".
client() {
	tb_exec a1 "$TL_PY" - >"$1" 2>&1 <<'PY'
import http.client, time
for i in range(200):
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection("10.96.0.10", 80, timeout=10)
        c.request("GET", "/whoami")
        r = c.getresponse()
        r.read()
        status = r.status
        c.close()
    except Exception as e:
        status = type(e).__name__
    print(status, int((time.monotonic() - t0) * 1000), flush=True)
PY
}
p99() { awk '{print $2}' "$1" | sort -n | awk '{v[NR] = $1} END {print v[int(NR * 0.99)]}'; }
answered() { grep -c '^200 ' "$1"; }

rss_watch &
WATCH=$!
trap 'rc=$?; kill $WATCH 2>/dev/null; (exit $rc); tl_cleanup' EXIT

client "$TL_TMP/base.out"
tl_log "unloaded: $(answered "$TL_TMP/base.out")/200 answered, p99 $(p99 "$TL_TMP/base.out") ms"

# ---- slowloris at the VIP from a2 ----------------------------------------------
s0=$(refused a source_full)
tl_bg a2 "$TL_TMP/slow-vip.log" bash -c \
	'ulimit -n $(ulimit -Hn); exec slowhttptest -H -c 10000 -r 2500 -i 5 -l 25 -u http://10.96.0.10/ -p 3'
SLOW=$TL_BG_PID
sleep 6
client "$TL_TMP/vip.out"
s1=$(refused a source_full)
kill "$SLOW" 2>/dev/null
pkill -f 'slowhttptest -H -c 10000' 2>/dev/null
wait "$SLOW" 2>/dev/null
tl_log "slowloris at the VIP: $(answered "$TL_TMP/vip.out")/200 answered, p99 $(p99 "$TL_TMP/vip.out") ms; a2 refused past its share $((s1 - s0)) times"
if [ "$(answered "$TL_TMP/vip.out")" = 200 ] && [ $((s1 - s0)) -gt 0 ]; then
	pass slowloris_at_vip_spares_others
else
	fail slowloris_at_vip_spares_others "$(answered "$TL_TMP/vip.out")/200 answered; source_full $s0 -> $s1; $(tail -5 "$TL_TMP/slow-vip.log" | tr '\n' '|')"
fi

# ---- slowloris at the tunnel port ----------------------------------------------------
tl_bg mf-node-a "$TL_TMP/slow-tun.log" bash -c \
	'ulimit -n $(ulimit -Hn); exec slowhttptest -H -c 10000 -r 2500 -i 5 -l 20 -u http://10.77.0.2:15008/ -p 3'
SLOW=$TL_BG_PID
sleep 4
client "$TL_TMP/tun.out"
kill "$SLOW" 2>/dev/null
pkill -f 'slowhttptest -H -c 10000' 2>/dev/null
wait "$SLOW" 2>/dev/null
tl_log "slowloris at :15008: $(answered "$TL_TMP/tun.out")/200 answered, p99 $(p99 "$TL_TMP/tun.out") ms"
if [ "$(answered "$TL_TMP/tun.out")" = 200 ]; then
	pass slowloris_at_tunnel_port_spares_others
else
	fail slowloris_at_tunnel_port_spares_others "$(answered "$TL_TMP/tun.out")/200 answered"
fi

# ---- a connect flood at the tunnel port ------------------------------------------------
# web as TCP: every request of a1's is a tunnel connection of its own to b.
"$TB" apply "$TL_TOP/tests/integration/policy.yaml" >"$TL_TMP/apply.log" 2>&1 ||
	{ fail apply_tcp "$(cat "$TL_TMP/apply.log")"; tl_finish; }
client "$TL_TMP/base4.out"
tl_log "unloaded (TCP): $(answered "$TL_TMP/base4.out")/200 answered, p99 $(p99 "$TL_TMP/base4.out") ms"
# Another host on the wire, in node a's namespace.
tb_exec mf-node-a ip addr add 10.77.0.9/24 dev mfwa
f0=$(refused b first_byte_timeout)
l0=$(( $(refused b source_full) + $(refused b listener_full) ))
h0=$(metric b 'meshforge_tls_handshakes_total{result="failed"}')
cat >"$TL_TMP/flood.py" <<'PY'
import errno, select, socket, time
N, end = 12000, time.monotonic() + 12
socks, opened, p = {}, 0, select.poll()
def one():
    global opened
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind(("10.77.0.9", 0))
    try:
        s.connect(("10.77.0.2", 15008))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return
    socks[s.fileno()] = s
    p.register(s, select.POLLIN | select.POLLERR | select.POLLHUP)
    opened += 1
while time.monotonic() < end:
    while len(socks) < N and time.monotonic() < end:
        one()
        if len(socks) % 500 == 0:
            break
    for fd, ev in p.poll(50):
        s = socks.pop(fd, None)
        if s:
            p.unregister(fd)
            s.close()
print("opened", opened, "open at the end", len(socks), flush=True)
PY
tl_bg mf-node-a "$TL_TMP/flood.log" bash -c "ulimit -n \$(ulimit -Hn); exec $TL_PY $TL_TMP/flood.py"
FLOOD=$TL_BG_PID
sleep 3
client "$TL_TMP/flood.out"
wait "$FLOOD" 2>/dev/null
f1=$(refused b first_byte_timeout)
l1=$(( $(refused b source_full) + $(refused b listener_full) ))
h1=$(metric b 'meshforge_tls_handshakes_total{result="failed"}')
tl_log "connect flood at :15008 ($(grep opened "$TL_TMP/flood.log")): $(answered "$TL_TMP/flood.out")/200 answered, p99 $(p99 "$TL_TMP/flood.out") ms; agent b: $((f1 - f0)) first-byte timeouts, $((l1 - l0)) refused past a share, $((h1 - h0)) failed handshakes"
if [ "$(answered "$TL_TMP/flood.out")" = 200 ] && [ $((f1 - f0)) -gt 0 ] &&
	[ $((h1 - h0)) = 0 ]; then
	pass connect_flood_spares_tunnels
else
	fail connect_flood_spares_tunnels "$(answered "$TL_TMP/flood.out")/200 answered; first-byte timeouts $f0 -> $f1, failed handshakes $h0 -> $h1"
fi

kill $WATCH 2>/dev/null
wait $WATCH 2>/dev/null
peak=$(rss_max)
tl_log "agents' peak RSS $((peak / 1024)) MiB (bound $((RSS_MAX_KB / 1024)) MiB)"
if [ "$peak" -gt 0 ] && [ "$peak" -le "$RSS_MAX_KB" ]; then
	pass memory_bounded
else
	fail memory_bounded "peak RSS $peak KiB, bound $RSS_MAX_KB KiB"
fi

tl_finish
