#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A small HTTP/1.1 (keep-alive) server for the testbed pods.

  GET  /whoami  -> "pod=<pod> node=<node> peer=<client ip>\n": who answered,
                   and from which address the connection came (the mesh
                   connects from the node, a direct connection from the pod)
  GET  /token   -> the bytes of --token-file (a value unique to one test run)
  GET  /headers -> the request's header fields, one "Name: value" per line,
                   as received (what a proxy forwarded)
  POST /echo    -> the request body, unchanged
  POST /sha256  -> the SHA-256 of the request body, in hex (Content-Length
                   or chunked)
  anything else -> 404

usage: mf_httpd.py --bind IP --port N --pod NAME --node NAME [--token-file F]
It prints "listening" on stdout once the socket is bound.
"""
import argparse
import hashlib
import http.server
import sys
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "mf-httpd"
    # Keep-alive, as the servers behind a mesh are: every reply has a
    # Content-Length.
    protocol_version = "HTTP/1.1"

    def _reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-MF-Pod", self.server.mf_pod)
        self.end_headers()
        self.wfile.write(body)

    def _route(self):
        # The query string is the client's business (tests put markers in it).
        return urllib.parse.urlsplit(self.path).path

    def do_GET(self):
        path = self._route()
        if path == "/whoami":
            body = "pod={} node={} peer={}\n".format(
                self.server.mf_pod, self.server.mf_node, self.client_address[0])
            self._reply(200, body.encode())
        elif path == "/headers":
            self._reply(200, str(self.headers).encode())
        elif path == "/token" and self.server.mf_token is not None:
            with open(self.server.mf_token, "rb") as f:
                self._reply(200, f.read())
        else:
            self._reply(404, b"not found\n")

    def _body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n > 0 else b""

    def do_POST(self):
        body = self._body()
        if self._route() == "/echo":
            self._reply(200, body)
        elif self._route() == "/sha256":
            self._reply(200, hashlib.sha256(body).hexdigest().encode() + b"\n")
        else:
            self._reply(404, b"not found\n")

    def log_message(self, fmt, *args):
        sys.stderr.write("mf-httpd %s %s\n" % (self.client_address[0], fmt % args))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pod", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--token-file")
    a = ap.parse_args()
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    srv = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.daemon_threads = True
    srv.mf_pod, srv.mf_node, srv.mf_token = a.pod, a.node, a.token_file
    print("listening", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
