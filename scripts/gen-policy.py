#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a large, valid, deterministic meshforge policy for scale tests.

    scripts/gen-policy.py --services N --workloads-per-service K --nodes M
                          [--http-routes R] [-o FILE]

Objects: one Mesh (trust domain mesh.local), M Nodes (10.77.x.y), N Services,
N*K Workloads, one MeshTrafficPermission per 10 services and R
MeshHTTPRoutes (route-i: requests for svc-(i mod N) under /api/v<i> split
90/10 between two services).  Service VIPs
walk 10.96.0.0/16 and then the /16s after it; every VIP carries two ports
(80 and 8080) so that VIP:port pairs stay unique while using half as many
addresses.  Workload IPs walk 10.128.0.0/9 (a range nothing else uses), so
up to 8M workloads get unique addresses.  The same arguments always give the
same bytes.
"""
import argparse
import sys

TD = "mesh.local"
API = "apiVersion: meshforge.io/v1alpha1\n"
PORTS = (80, 8080)


def ip4(n):
    return "%d.%d.%d.%d" % ((n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, required=True)
    ap.add_argument("--workloads-per-service", type=int, required=True)
    ap.add_argument("--nodes", type=int, required=True)
    ap.add_argument("--http-routes", type=int, default=0)
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    if a.services < 1 or a.workloads_per_service < 0 or not 1 <= a.nodes <= 65000:
        ap.error("need --services >= 1, --workloads-per-service >= 0, 1 <= --nodes <= 65000")
    if a.services * a.workloads_per_service > (1 << 23) - 2:
        ap.error("too many workloads for 10.128.0.0/9")

    vip_base = (10 << 24) | (96 << 16)
    wl_base = (10 << 24) | (128 << 16)
    node_base = (10 << 24) | (77 << 16)
    out = []
    w = out.append
    w(API + "kind: Mesh\nmetadata: {name: default}\nspec: {trustDomain: %s}\n" % TD)
    for n in range(a.nodes):
        w("---\n" + API + "kind: Node\nmetadata: {name: mf-node-%d}\n"
          "spec: {address: %s}\n" % (n, ip4(node_base + 1 + n)))
    for s in range(a.services):
        # Skip .0 and .255 of every /24: a VIP that looks like a network or
        # broadcast address only confuses people reading the output.
        host = s // len(PORTS)
        vip = vip_base + (host // 254) * 256 + host % 254 + 1
        w("---\n" + API + "kind: Service\nmetadata: {name: svc-%d}\n"
          "spec: {vip: %s, port: %d}\n" % (s, ip4(vip), PORTS[s % len(PORTS)]))
    i = 0
    for s in range(a.services):
        ident = "spiffe://%s/ns/ns-%d/sa/svc-%d" % (TD, s // 100, s)
        for k in range(a.workloads_per_service):
            i += 1
            w("---\n" + API + "kind: Workload\nmetadata: {name: wl-%d-%d}\n"
              "spec: {node: mf-node-%d, ip: %s, port: 8080, service: svc-%d, "
              "identity: \"%s\"}\n"
              % (s, k, i % a.nodes, ip4(wl_base + i), s, ident))
    for p in range((a.services + 9) // 10):
        s = p * 10
        w("---\n" + API + "kind: MeshTrafficPermission\n"
          "metadata: {name: mtp-%d}\nspec:\n"
          "  targetRef: {kind: MeshService, name: svc-%d}\n  from:\n"
          "    - targetRef: {kind: SpiffeID, name: \"spiffe://%s/ns/ns-%d/sa/svc-%d\"}\n"
          "      default: {action: Allow}\n"
          "    - targetRef: {kind: SpiffeIDPrefix, name: \"spiffe://%s/ns/batch/\"}\n"
          "      default: {action: Deny}\n"
          "    - targetRef: {kind: Mesh}\n"
          "      default: {action: Allow}\n"
          % (p, s, TD, (s + 1) // 100, s + 1, TD))
    for r in range(a.http_routes):
        s = r % a.services
        w("---\napiVersion: kuma.io/v1alpha1\nkind: MeshHTTPRoute\n"
          "metadata: {name: route-%d}\nspec:\n"
          "  targetRef: {kind: Mesh}\n  to:\n"
          "    - targetRef: {kind: MeshService, name: svc-%d}\n"
          "      rules:\n"
          "        - matches: [{path: {type: PathPrefix, value: /api/v%d}}]\n"
          "          default:\n"
          "            backendRefs:\n"
          "              - {kind: MeshService, name: svc-%d, weight: 90}\n"
          "              - {kind: MeshService, name: svc-%d, weight: 10}\n"
          % (r, s, r, s, (s + 1) % a.services))
    text = "".join(out)
    if a.output == "-":
        sys.stdout.write(text)
    else:
        with open(a.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
