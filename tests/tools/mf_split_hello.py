#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A TLS client whose ClientHello arrives in two pieces.

  mf_split_hello.py HOST PORT SNI CAFILE [FIRST] [PAUSE_MS]

Connects to HOST:PORT, sends the first FIRST bytes (default 20) of its
ClientHello for server name SNI, waits PAUSE_MS (default 200) and sends
the rest, then completes the handshake (the server's certificate verified
against CAFILE for SNI), sends "GET / HTTP/1.0" and prints what the server
answered until it closes.  For a server that must read the whole
ClientHello before it decides anything (a gateway's TLS passthrough).
Exits 1 when the handshake or the exchange fails.
"""
import socket
import ssl
import sys
import time


def main():
    host, port, sni, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    first = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    pause = int(sys.argv[6]) if len(sys.argv) > 6 else 200
    ctx = ssl.create_default_context(cafile=cafile)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    sock = socket.create_connection((host, port), timeout=10)
    # Each piece in a segment of its own.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    sock.sendall(hello[:first])
    time.sleep(pause / 1000.0)
    sock.sendall(hello[first:])
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            data = outgoing.read()
            if data:
                sock.sendall(data)
            data = sock.recv(65536)
            if not data:
                print("closed during the handshake", file=sys.stderr)
                return 1
            incoming.write(data)
    tls.write(b"GET / HTTP/1.0\r\n\r\n")
    sock.sendall(outgoing.read())
    answer = b""
    while True:
        try:
            chunk = tls.read(65536)
            if not chunk:
                break
            answer += chunk
        except ssl.SSLWantReadError:
            data = sock.recv(65536)
            if not data:
                break
            incoming.write(data)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
    sys.stdout.write(answer.decode("utf-8", "replace"))
    return 0 if answer else 1


if __name__ == "__main__":
    sys.exit(main())
