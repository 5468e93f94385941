#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""N keep-alive connections, opened first, each a request a second for
ROUNDS rounds.

usage: mf_longlived.py N ROUNDS [HOST]   (HOST default 10.96.0.10, port 80)

Prints "open N" once all are open, then "full K of N answers A" and the
first errors; exits 0 when every connection got all its answers from a pod
and none was closed by the server.
"""
import http.client, sys, time
host = sys.argv[3] if len(sys.argv) > 3 else "10.96.0.10"
n, rounds = int(sys.argv[1]), int(sys.argv[2])
conns, answers, errors = [], [0] * n, []
for i in range(n):
    c = http.client.HTTPConnection(host, 80, timeout=10)
    c.connect()
    conns.append(c)
print("open", n, flush=True)
for r in range(rounds):
    t0 = time.monotonic()
    for i, c in enumerate(conns):
        if c is None:
            continue
        try:
            c.request("GET", "/whoami")
            resp = c.getresponse()
            body = resp.read()
            if resp.status == 200 and body.startswith(b"pod="):
                answers[i] += 1
            else:
                errors.append("conn %d round %d: status %d" % (i, r, resp.status))
            if resp.will_close:
                errors.append("conn %d round %d: closed by the server" % (i, r))
                conns[i] = None
        except Exception as e:
            errors.append("conn %d round %d: %s %s" % (i, r, type(e).__name__, e))
            conns[i] = None
    time.sleep(max(0, 1 - (time.monotonic() - t0)))
for c in conns:
    if c is not None:
        c.close()
full = sum(1 for a in answers if a == rounds)
print("full", full, "of", n, "answers", sum(answers), flush=True)
for e in errors[:5]:
    print("error", e, flush=True)
sys.exit(0 if full == n and not errors else 1)
