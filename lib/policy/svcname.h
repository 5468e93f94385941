/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What service a kuma.io/service value names.  Kuma on Kubernetes tags a
 * Service's proxies with a generated name, <name>_<namespace>_svc_<port>
 * ("my-api-service_default_svc_8080"), and policies written for Kuma use
 * it.  A meshforge Service (or MeshService) answers to its own name and to
 * that generated name: its namespace is the label k8s.kuma.io/namespace
 * (metadata.namespace), "default" without one, and its port the Service's
 * (a MeshService's first).  Names have no '_', so a value splits one way
 * only.
 *
 * Every place a kuma.io/service value names a service goes through
 * svcname_answers(): selectors and destinations (select.c, validate.c), a
 * Dataplane's inbound tag (endpoint.c), and `mfctl effective`.
 */
#ifndef MF_SVCNAME_H
#define MF_SVCNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define SVCNAME_DEFAULT_NS "default"

/*
 * Whether the kuma.io/service value @value (@vlen bytes, not necessarily
 * NUL-terminated) names the service called @name in namespace @ns (NULL:
 * SVCNAME_DEFAULT_NS) on @port (0: only the name answers).
 */
bool svcname_answers(const char *value, size_t vlen, const char *name,
		     const char *ns, uint16_t port);

/* The namespace of service @o (borrowed from @set), SVCNAME_DEFAULT_NS
 * when it has none. */
const char *svcname_namespace(const struct model_set *set,
			      const struct model_obj *o);

/*
 * The Service or MeshService of @set that @value answers to, into *@out.
 * Returns 0; -ENOENT when none does; -EEXIST when two do (*@out and
 * *@other get both, so the error can name them).  @other may be NULL.
 */
int svcname_resolve(const struct model_set *set, const char *value,
		    const struct model_obj **out,
		    const struct model_obj **other);

struct sel_workload;

/* Sets @w's service_ns and service_port from the Service or MeshService
 * of @set that w->service names, so selectors may use the generated name;
 * leaves them when there is none. */
void svcname_fill(const struct model_set *set, struct sel_workload *w);

#endif /* MF_SVCNAME_H */
