#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A small HTTP/1.1 (keep-alive) server for the testbed pods.

  GET  /whoami  -> "pod=<pod> node=<node> peer=<client ip>\n": who answered,
                   and from which address the connection came (the mesh
                   connects from the node, a direct connection from the pod)
  GET  .../whoami -> the same under any prefix, with " path=<target>" after
                   it: the request-target the pod received
  HEAD /bytes/N -> the head of GET /bytes/N (Content-Length N), no body
  GET  /token   -> the bytes of --token-file (a value unique to one test run)
  GET  /headers -> the request's header fields, one "Name: value" per line,
                   as received (what a proxy forwarded)
  GET  /ws      -> a WebSocket (RFC 6455) that echoes each text or binary
                   message back, until the client closes
  POST /echo    -> the request body, unchanged
  POST /sha256  -> the SHA-256 of the request body, in hex (Content-Length
                   or chunked)
  Failures on demand (any method; the request's body is read first):
  /status/CODE  -> status CODE, always ("retry-after: S" with ?after=S)
  /flaky/KEY/N/CODE -> CODE for the first N requests for KEY, then 200
                   "ok try=<count>"; counted in --state-dir, which the
                   pods of a test share, so a retry that lands on another
                   pod counts as the next request
  /slow/MS      -> 200 after MS milliseconds
  /podstatus/POD/CODE -> CODE from pod POD (--pod), 200 "pod=<pod>" from any
                   other: one endpoint of a service failing
  /podslow/POD/MS -> as /podstatus, pod POD answering after MS milliseconds
  /bytes/N      -> 200 with a body of N bytes ("x"), one write
  /hang         -> never answers (the connection stays open, 120 s)
  /reset        -> closes the connection with RST, no response
  anything else -> 404

usage: mf_httpd.py --bind IP --port N --pod NAME --node NAME [--token-file F]
                   [--state-dir DIR]
It prints "listening" on stdout once the socket is bound.
"""
import argparse
import base64
import hashlib
import http.server
import socket
import struct
import sys
import fcntl
import os
import time
import urllib.parse



class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "mf-httpd"
    # Keep-alive, as the servers behind a mesh are: every reply has a
    # Content-Length.
    protocol_version = "HTTP/1.1"
    # A reply is its head then its body, two writes: with Nagle on, the
    # body of a reply on a kept-alive connection waits for the peer's
    # delayed ACK of the head (40 ms), which a test would take for the
    # mesh's latency.
    disable_nagle_algorithm = True

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

    def _count(self, key):
        """The count of /flaky requests for KEY, this one included."""
        path = os.path.join(self.server.mf_state, "flaky-" + key.replace("/", "_"))
        with open(path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            n = int(f.read() or "0") + 1
            f.seek(0)
            f.truncate()
            f.write(str(n))
        return n

    def _failure(self):
        """The failures on demand; False when the path is none of them."""
        parts = self._route().split("/")[1:]
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if not parts or parts[0] not in ("status", "flaky", "slow", "hang", "reset",
                                         "podstatus", "podslow", "bytes"):
            return False
        if self.command in ("POST", "PUT", "PATCH"):
            self._body()
        if len(parts) == 2 and parts[0] == "status" and parts[1].isdigit():
            self.send_response(int(parts[1]))
            if "after" in query:
                self.send_header("Retry-After", query["after"][0])
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "7")
            self.send_header("X-MF-Pod", self.server.mf_pod)
            self.end_headers()
            self.wfile.write(b"status\n")
        elif len(parts) == 4 and parts[0] == "flaky":
            n = self._count(parts[1])
            if n <= int(parts[2]):
                self._reply(int(parts[3]), b"fail try=%d\n" % n)
            else:
                self._reply(200, b"ok try=%d\n" % n)
        elif len(parts) == 3 and parts[0] in ("podstatus", "podslow") and parts[2].isdigit():
            mine = parts[1] == self.server.mf_pod
            if mine and parts[0] == "podslow":
                time.sleep(int(parts[2]) / 1000.0)
            code = int(parts[2]) if mine and parts[0] == "podstatus" else 200
            self._reply(code, b"pod=%s\n" % self.server.mf_pod.encode())
        elif len(parts) == 2 and parts[0] == "bytes" and parts[1].isdigit():
            self._reply(200, b"x" * int(parts[1]))
        elif len(parts) == 2 and parts[0] == "slow" and parts[1].isdigit():
            time.sleep(int(parts[1]) / 1000.0)
            self._reply(200, b"slow\n")
        elif parts == ["hang"]:
            self.log_message('"%s" hang', self.requestline)
            time.sleep(120)
            self.close_connection = True
        elif parts == ["reset"]:
            self.log_message('"%s" reset', self.requestline)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
        else:
            return False
        return True

    def do_HEAD(self):
        # The head GET /bytes/N has: its Content-Length, with no body.
        parts = self._route().strip("/").split("/")
        if len(parts) == 2 and parts[0] == "bytes" and parts[1].isdigit():
            self.send_response(200)
            self.send_header("Content-Length", parts[1])
        else:
            self.send_response(404)
            self.send_header("Content-Length", "10")
        self.end_headers()

    def do_PUT(self):
        if not self._failure():
            self._reply(404, b"not found\n")

    def do_GET(self):
        path = self._route()
        if self._failure():
            return
        if path == "/whoami":
            body = "pod={} node={} peer={}\n".format(
                self.server.mf_pod, self.server.mf_node, self.client_address[0])
            self._reply(200, body.encode())
        elif path.endswith("/whoami"):
            body = "pod={} node={} peer={} path={}\n".format(
                self.server.mf_pod, self.server.mf_node,
                self.client_address[0], self.path)
            self._reply(200, body.encode())
        elif path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            self._websocket()
        elif path == "/headers":
            self._reply(200, str(self.headers).encode())
        elif path == "/token" and self.server.mf_token is not None:
            with open(self.server.mf_token, "rb") as f:
                self._reply(200, f.read())
        else:
            self._reply(404, b"not found\n")

    def _websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                break
            opcode, n = head[0] & 0x0f, head[1] & 0x7f
            if n == 126:
                n = struct.unpack("!H", self.rfile.read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self.rfile.read(8))[0]
            mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(n)))
            if opcode == 8:
                self.wfile.write(b"\x88\x00")
                break
            if opcode in (1, 2):
                out = bytes([0x80 | opcode])
                out += bytes([len(data)]) if len(data) < 126 else b"\x7e" + struct.pack("!H", len(data))
                self.wfile.write(out + data)
                self.wfile.flush()
        self.close_connection = True

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
        if self._failure():
            return
        body = self._body()
        if self._route() == "/echo":
            self._reply(200, body)
        elif self._route() == "/sha256":
            self._reply(200, hashlib.sha256(body).hexdigest().encode() + b"\n")
        else:
            self._reply(404, b"not found\n")

    def log_request(self, code="-", size="-"):
        # The Host each request came with, at the end of its line: a
        # mirror's copies say "-shadow" there.
        self.log_message('"%s" %s %s host=%s', self.requestline, str(code), str(size),
                         self.headers.get("Host", "-") if hasattr(self, "headers") else "-")

    def log_message(self, fmt, *args):
        sys.stderr.write("mf-httpd %s %s\n" % (self.client_address[0], fmt % args))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pod", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--token-file")
    ap.add_argument("--state-dir", default="/tmp")
    a = ap.parse_args()
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    srv = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.daemon_threads = True
    srv.mf_pod, srv.mf_node, srv.mf_token = a.pod, a.node, a.token_file
    srv.mf_state = a.state_dir
    print("listening", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
