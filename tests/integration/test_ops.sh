#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The agent under a service manager, on the two-node testbed, with
# NOTIFY_SOCKET pointing at a socket of the test's:
#  - each agent says READY=1 (with a STATUS line) once it serves, and
#    keeps only CAP_NET_ADMIN, CAP_BPF and CAP_NET_BIND_SERVICE (effective,
#    permitted and bounding sets); /metrics gives its certificate's end;
#  - node b's certificate re-issued with mfctl while a TCP connection
#    runs through it: within two seconds agent b presents the new one to
#    new handshakes (openssl s_client sees another serial), with no
#    restart, and the running connection carries on;
#  - SIGHUP (systemctl reload) gives RELOADING=1 then READY=1, and the
#    agent still serves;
#  - stopping gives STOPPING=1.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_ops
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"
tl_require_cmd openssl

NOTES=$TL_TMP/notify.log
cat >"$TL_TMP/notify.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    print("bound", file=f, flush=True)
    while True:
        d, _ = s.recvfrom(4096)
        print(d.decode(errors="replace").replace("\n", "|"), file=f, flush=True)
PY
"$TL_PY" "$TL_TMP/notify.py" "$TL_TMP/notify.sock" "$NOTES" &
NOTIFY=$!
trap 'rc=$?; kill $NOTIFY 2>/dev/null; (exit $rc); tl_cleanup' EXIT
wait_for 5 grep -q bound "$NOTES" || { fail notify_socket "listener did not bind"; tl_finish; }
export NOTIFY_SOCKET=$TL_TMP/notify.sock

tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
tl_echo_up
pid_a=$("$TB" pid a)
pid_b=$("$TB" pid b)

# ---- ready, and what it kept -------------------------------------------------------
ready=$(grep -c '^READY=1|STATUS=serving node mf-node-' "$NOTES")
want=$(printf '%016x' $(((1 << 10) | (1 << 12) | (1 << 38) | (1 << 39))))
caps() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
bad=""
for pid in "$pid_a" "$pid_b"; do
	for k in CapEff CapPrm CapBnd; do
		[ "$(caps "$pid" "$k")" = "$want" ] || bad="$bad $pid:$k=$(caps "$pid" "$k")"
	done
done
# The node certificate's end, on /metrics: after now.
na=$(tb_exec b curl -sS -m 5 http://127.0.0.1:15000/metrics |
	awk '/^meshforge_certificate_expiry_timestamp_seconds\{role="server",identity="spiffe:\/\/mesh.local\/ns\/meshforge-system\/sa\/mf-node-b"\}/ {print $2}')
[ -n "$na" ] && [ "$na" -gt "$(date +%s)" ] || bad="$bad expiry='$na'"
if [ "$ready" = 2 ] && [ -z "$bad" ]; then
	pass ready_and_capabilities
else
	fail ready_and_capabilities "READY lines $ready (want 2): $(tr '\n' ' ' <"$NOTES"); capabilities (want $want):$bad"
fi

# ---- certificate rotation ---------------------------------------------------------
# A connection through both agents that stays open (echo in b1 or b2).
cat >"$TL_TMP/long.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("10.96.0.10", 80), timeout=10)
for word in sys.argv[1:]:
    if word == "pause":
        open(sys.argv[0] + ".ready", "w").close()
        while not __import__("os").path.exists(sys.argv[0] + ".go"):
            time.sleep(0.05)
        continue
    s.sendall(word.encode())
    got = b""
    while len(got) < len(word):
        got += s.recv(100)
    print(got.decode(), flush=True)
PY
tl_bg a1 "$TL_TMP/long.out" "$TL_PY" "$TL_TMP/long.py" before pause after
wait_for 10 test -e "$TL_TMP/long.py.ready" || { fail long_connection "$(cat "$TL_TMP/long.out")"; tl_finish; }
LONG=$TL_BG_PID
A_DIR=$TL_STATE/mf-node-a
A_ID=spiffe://mesh.local/ns/meshforge-system/sa/mf-node-a
B_ID=spiffe://mesh.local/ns/meshforge-system/sa/mf-node-b
A_STEM=mesh.local+ns+meshforge-system+sa+mf-node-a
serial() {
	tb_exec mf-node-a openssl s_client -connect 10.77.0.2:15008 -tls1_3 \
		-cert "$A_DIR/certs/$A_STEM.crt" -key "$A_DIR/certs/$A_STEM.key" \
		-CAfile "$A_DIR/ca.crt" </dev/null 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null
}
s0=$(serial)
"$MFCTL" --config-dir "$TL_STATE/ca" cert issue --identity "$B_ID" \
	--out "$TL_STATE/mf-node-b" >"$TL_TMP/issue.log" 2>&1 ||
	{ fail cert_issue "$(cat "$TL_TMP/issue.log")"; tl_finish; }
rotated() { s1=$(serial); [ -n "$s1" ] && [ "$s1" != "$s0" ]; }
if wait_for 3 rotated; then r=1; else r=0; fi
touch "$TL_TMP/long.py.go"
wait "$LONG"
if [ -n "$s0" ] && [ "$r" = 1 ] && [ "$("$TB" pid b)" = "$pid_b" ] &&
	[ "$(tr '\n' ' ' <"$TL_TMP/long.out")" = "before after " ]; then
	pass certificate_rotated_without_restart
else
	fail certificate_rotated_without_restart "serial '$s0' -> '$s1' (rotated $r); agent b pid $pid_b -> $("$TB" pid b); the long connection got: $(tr '\n' ' ' <"$TL_TMP/long.out")"
fi

# ---- reload -----------------------------------------------------------------------
n0=$(wc -l <"$NOTES")
kill -HUP "$pid_a"
reloaded() { tail -n +"$((n0 + 1))" "$NOTES" | tr '\n' ' ' | grep -q '^RELOADING=1|MONOTONIC_USEC=[0-9]* READY=1 '; }
if wait_for 5 reloaded && kill -0 "$pid_a" &&
	tb_exec a1 "$O/tests/tools/mf_load" client 10.96.0.10 80 1 1024 10 >/dev/null 2>&1; then
	pass sighup_reloads
else
	fail sighup_reloads "after SIGHUP: $(tail -n +"$((n0 + 1))" "$NOTES" | tr '\n' ' ')"
fi

# ---- stop ----------------------------------------------------------------------------
"$TB" agents-stop >/dev/null 2>&1
if wait_for 5 sh -c "[ \$(grep -c '^STOPPING=1' '$NOTES') = 2 ]"; then
	pass stopping
else
	fail stopping "$(tr '\n' ' ' <"$NOTES")"
fi

tl_finish
