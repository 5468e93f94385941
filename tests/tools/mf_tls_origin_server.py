#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A TLS server outside the mesh for test_egress.sh: it answers every
request on a TLS connection with 200 and a body naming the server name
(SNI) the client asked for and the TLS version, so a test sees what the
server saw. Plaintext (no TLS record first) is answered by closing."""
import argparse
import socket
import ssl
import threading


# The handshake runs in the connection's thread, and so does the callback.
SEEN = threading.local()


def on_sni(_sock, name, _ctx):
    SEEN.sni = name


def serve(conn, ctx):
    SEEN.sni = None
    seen = SEEN.__dict__
    try:
        conn.settimeout(10)
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        print("handshake_failed", e, flush=True)
        conn.close()
        return
    print("handshake sni=%s version=%s" % (seen.get("sni"), tls.version()),
          flush=True)
    try:
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = tls.recv(4096)
            if not chunk:
                return
            buf += chunk
        body = ("sni=%s tls=%s\n" % (seen.get("sni"), tls.version())).encode()
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                    b"Connection: close\r\n\r\n" % len(body) + body)
    except (ssl.SSLError, OSError):
        pass
    finally:
        tls.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.sni_callback = on_sni
    # An IPv6 address (test_egress.sh's IPv6 case) binds an IPv6 socket.
    s = socket.socket(socket.AF_INET6 if ":" in a.bind else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.bind, a.port))
    s.listen(64)
    print("listening", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, ctx), daemon=True).start()


if __name__ == "__main__":
    main()
