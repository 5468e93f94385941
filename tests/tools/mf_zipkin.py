#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A span collector for the testbed: Zipkin's HTTP API, and a Datadog
agent's trace intake.

  POST /api/v2/spans (application/json) -> 202; the body (a JSON array of
                     Zipkin v2 spans) on one line of --spans
  POST /api/v2/spans (application/x-protobuf), with --proto FILE -> 202;
                     the body (a Zipkin ListOfSpans) in base64 on one line
                     of FILE
  POST /v0.4/traces (application/json), with --datadog FILE -> 200; the
                     body (a JSON array of trace chunks) on one line of FILE
  anything else      -> 400

Prints "listening" once it accepts; writes its pid to --pid.
"""
import argparse
import base64
import http.server
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--spans", required=True)
    ap.add_argument("--proto")
    ap.add_argument("--datadog")
    ap.add_argument("--pid", required=True)
    a = ap.parse_args()
    with open(a.pid, "w") as f:
        f.write("%d\n" % os.getpid())

    def one_line(body):
        return body.replace(b"\n", b" ") + b"\n"

    # (path, Content-Type) -> (file, status, the line a body makes)
    outs = {("/api/v2/spans", "application/json"):
            (open(a.spans, "ab", buffering=0), 202, one_line)}
    if a.proto:
        outs[("/api/v2/spans", "application/x-protobuf")] = (
            open(a.proto, "ab", buffering=0), 202,
            lambda b: base64.b64encode(b) + b"\n")
    if a.datadog:
        outs[("/v0.4/traces", "application/json")] = (
            open(a.datadog, "ab", buffering=0), 200, one_line)

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            out = outs.get((self.path, self.headers.get("Content-Type")))
            if out:
                out[0].write(out[2](body))
                self.send_response(out[1])
            else:
                self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    # Threads: each sink of the agent keeps its own connection open.
    s = http.server.ThreadingHTTPServer((a.bind, a.port), H)
    s.daemon_threads = True
    print("listening", flush=True)
    s.serve_forever()


if __name__ == "__main__":
    main()
