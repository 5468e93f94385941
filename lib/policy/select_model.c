// SPDX-License-Identifier: Apache-2.0
/*
 * What selection (select.h) asks of a policy's objects: the labels of the
 * object a targetRef names by kind and name, in a model set.
 */
#include "dataplane.h"
#include "mesh_service.h"
#include "select_model.h"

const struct mf_tagset *sel_model_labels(const struct model_set *set,
					 uint8_t kind, const char *name)
{
	enum model_kind k, alt;
	const struct model_obj *o;

	/* Either spelling of a service (Service, MeshService) or of an
	 * endpoint (Workload, Dataplane). */
	switch (kind) {
	case MF_REF_MESH_SERVICE:
		k = MODEL_SERVICE;
		alt = msvc_kind();
		break;
	case MF_REF_WORKLOAD:
		k = MODEL_WORKLOAD;
		alt = dp_kind();
		break;
	case MF_REF_MESH_HTTP_ROUTE:
		k = alt = (enum model_kind)model_kind_parse("MeshHTTPRoute");
		break;
	default:
		return NULL;
	}
	o = model_set_find(set, k, name);
	if (!o)
		o = model_set_find(set, alt, name);
	return o ? model_tags_get(set, o->labels) : NULL;
}
