/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kuma's Mesh fields beyond mTLS (kuma.io/v1alpha1 Mesh at 2.14): their
 * schemas, with the rules of Kuma's validator, for lib/policy/
 * kind_mesh.c; and the one that is in force at `mfctl apply`, the
 * dataplane proxy constraints.  The records are struct mf_mesh_* of
 * include/meshforge/abi.h, kept whole in mf_config.kuma.
 *
 *   tracing:
 *     defaultBackend: zipkin-1                 # one of the backends
 *     backends:
 *       - name: zipkin-1
 *         type: zipkin                         # or datadog
 *         sampling: 80.5                       # percent
 *         conf: {url: http://zipkin:9411/api/v2/spans,  # port required
 *                traceId128bit: true, apiVersion: httpJson,
 *                sharedSpanContext: false}
 *       - {name: dd, type: datadog, conf: {address: dd, port: 8126,
 *                                          splitService: true}}
 *   logging:
 *     defaultBackend: file-1
 *     backends:
 *       - {name: file-1, type: file, format: '%START_TIME%',
 *          conf: {path: /var/log/access.log}}
 *       - {name: tcp-1, type: tcp, conf: {address: logs:5000}}
 *   metrics:
 *     enabledBackend: prom-1
 *     backends:
 *       - name: prom-1
 *         type: prometheus
 *         conf: {port: 5670, path: /metrics, tags: {team: a},
 *                skipMTLS: true,           # or tls: {mode: disabled}
 *                aggregate: [{name: app, port: 8080, path: /m,
 *                             enabled: true, address: 127.0.0.1}],
 *                envoy: {filterRegex: 'http.*', usedOnly: true}}
 *   networking: {outbound: {passthrough: false}}
 *   constraints:
 *     dataplaneProxy:
 *       requirements: [{tags: {kuma.io/zone: east}}]
 *       restrictions: [{tags: {team: legacy}}]
 *   skipCreatingInitialPolicies: ['*']
 */
#ifndef MF_POLICY_MESH_KUMA_H
#define MF_POLICY_MESH_KUMA_H

#include "schema.h"

extern const struct sch_object mesh_kuma_tracing;
extern const struct sch_object mesh_kuma_logging;
extern const struct sch_object mesh_kuma_metrics;
extern const struct sch_object mesh_kuma_networking;
extern const struct sch_object mesh_kuma_constraints;
extern const struct sch_object mesh_kuma_skip;

/*
 * Kuma's admission of a dataplane proxy by the Mesh's constraints
 * (@c): a proxy with tags @ts (NULL: none) must match one of the
 * requirements when there are any, and none of the restrictions.  A rule
 * matches when the proxy has each of its tags with that value ("*": any
 * value).  Returns NULL when admitted; else why not, the rule named
 * ("matches restrictions[1] {team: legacy}"), in @buf (of @n bytes).
 */
const char *mesh_kuma_admit(const struct mf_mesh_constraints *c,
			    const struct mf_tagset *ts, char *buf, size_t n);

#endif /* MF_POLICY_MESH_KUMA_H */
