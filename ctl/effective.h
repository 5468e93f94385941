/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the policies add up to for one workload: its service, identity and
 * the protocol the agent speaks to its service, then for every policy
 * kind, the policies that select it (lib/select.c, Kuma's rules) and the
 * merged conf, per destination for `to`, for any source for `from`, and
 * the policy-wide `default`.  `mfctl effective WORKLOAD` prints it.
 */
#ifndef CTL_EFFECTIVE_H
#define CTL_EFFECTIVE_H

#include <stdio.h>

#include "policy/model.h"

/*
 * Writes the effective policy of Workload @name of @set to @f: a head
 *   "Workload c1 (service api, node n1)"
 *   "  identity spiffe://... (MeshIdentity id)"
 *   "  protocol http (spec.protocol)"
 * (a MeshService's: "  protocol port 80 http, port 81 tcp (appProtocol)"),
 * then one line per (kind, section, peer) that some policy sets:
 *   "MeshTimeout to web: a-policy, b-policy {conf as JSON}"
 * (policies in merge order: the last one won every field it set; routes
 * list the contributing rules instead of a merged conf; legacy kinds name
 * the single best match).  @from, when not NULL, is the Service whose
 * traffic `from` entries are evaluated for; else only Mesh-wide `from`
 * entries apply ("from any").  A builtin gateway instance (a Dataplane
 * with a BUILTIN gateway) shows instead its MeshGateway and, per
 * listener, the routes that take its traffic, by the agent's rule
 * (gw_attach.h):
 *   "listener 8080 HTTP *.example.com: MeshHTTPRoute shop[0] shop[1]
 *    (2 rules)"
 *   "listener 9000 TCP: MeshTCPRoute db[0] (1 rule), db[0] decides"
 *   "listener 8081 HTTP: MeshGatewayRoute api, web"
 * Returns 0, -ENOENT (no such Workload or @from Service), or -ENOMEM.
 */
int effective_print(FILE *f, const struct model_set *set, const char *name,
		    const char *from);

#endif /* CTL_EFFECTIVE_H */
