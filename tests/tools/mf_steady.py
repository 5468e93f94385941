#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A request every 50 ms, each on a new connection, for SECONDS.

usage: mf_steady.py SECONDS [HOST]   (HOST default 10.96.0.10, port 80)

GET /whoami of mf_httpd.py; prints "ok TIME" per answer from a pod
("pod=..."), "fail TIME ..." per anything else.
"""
import http.client, sys, time
host = sys.argv[2] if len(sys.argv) > 2 else "10.96.0.10"
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    try:
        c = http.client.HTTPConnection(host, 80, timeout=10)
        c.request("GET", "/whoami")
        r = c.getresponse()
        body = r.read()
        print("ok" if r.status == 200 and body.startswith(b"pod=") else "fail status %d" % r.status,
              round(time.time(), 3), flush=True)
        c.close()
    except Exception as e:
        print("fail", round(time.time(), 3), type(e).__name__, e, flush=True)
    time.sleep(0.05)
