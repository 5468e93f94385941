#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a PROXY protocol v2 header as the meshforge tunnel expects it
(lib/proxyv2.h), followed by an optional payload, to stdout.  The tunnel
tests pipe it into `openssl s_client` to speak to an agent's :15008 as a
source agent would.

usage: mf_pp2.py --src IP:PORT --dst IP:PORT [--orig IP:PORT] [--req-id N]
                 [--payload TEXT]
"""
import argparse
import socket
import struct
import sys

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
TLV_ORIG_DST = 0xE0
TLV_REQ_ID = 0xE1


def addr(s):
    ip, port = s.rsplit(":", 1)
    return socket.inet_aton(ip), int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--orig")
    ap.add_argument("--req-id", type=int)
    ap.add_argument("--payload", default="")
    a = ap.parse_args()
    sip, sport = addr(a.src)
    dip, dport = addr(a.dst)
    body = sip + dip + struct.pack("!HH", sport, dport)
    if a.orig:
        oip, oport = addr(a.orig)
        body += struct.pack("!BH", TLV_ORIG_DST, 6) + oip + struct.pack("!H", oport)
    if a.req_id is not None:
        body += struct.pack("!BHQ", TLV_REQ_ID, 8, a.req_id)
    hdr = SIG + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body
    out = sys.stdout.buffer
    try:
        out.write(hdr + a.payload.encode().decode("unicode_escape").encode("latin-1"))
        out.flush()
    except BrokenPipeError:
        # The reader (s_client refused by the server) went away first:
        # nothing of ours failed.
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
