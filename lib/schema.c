// SPDX-License-Identifier: Apache-2.0
/* Placeholder until the schema engine lands. */
#include "schema.h"

const char *const sch_ref_kind_names[MF_REF_KIND_MAX] = {
	[MF_REF_MESH] = "Mesh",
	[MF_REF_MESH_SUBSET] = "MeshSubset",
	[MF_REF_MESH_SERVICE] = "MeshService",
	[MF_REF_MESH_SERVICE_SUBSET] = "MeshServiceSubset",
	[MF_REF_WORKLOAD] = "Dataplane",
	[MF_REF_MESH_GATEWAY] = "MeshGateway",
	[MF_REF_MESH_HTTP_ROUTE] = "MeshHTTPRoute",
};

void sch_walk(const struct sch_object *s, const void *obj,
	      void (*fn)(void *arg, const struct sch_field *f,
			 const uint32_t *tags_id, const struct mf_ref *ref),
	      void *arg)
{
	(void)s;
	(void)obj;
	(void)fn;
	(void)arg;
}

void sch_json(const struct sch_sink *out, const struct sch_object *s,
	      const void *obj)
{
	(void)s;
	(void)obj;
	out->write(out->arg, "{}", 2);
}
