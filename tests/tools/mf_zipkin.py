#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A span collector for the testbed: Zipkin's HTTP API.

  POST /api/v2/spans (application/json) -> 202; the body (a JSON array of
                     Zipkin v2 spans) on one line of --spans
  anything else      -> 400

Prints "listening" once it accepts; writes its pid to --pid.
"""
import argparse
import http.server
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--spans", required=True)
    ap.add_argument("--pid", required=True)
    a = ap.parse_args()
    with open(a.pid, "w") as f:
        f.write("%d\n" % os.getpid())
    outs = {"/api/v2/spans": (open(a.spans, "ab", buffering=0), 202)}

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            out = outs.get(self.path)
            if out and self.headers.get("Content-Type") == "application/json":
                out[0].write(body.replace(b"\n", b" ") + b"\n")
                self.send_response(out[1])
            else:
                self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    s = http.server.HTTPServer((a.bind, a.port), H)
    print("listening", flush=True)
    s.serve_forever()


if __name__ == "__main__":
    main()
