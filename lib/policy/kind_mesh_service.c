// SPDX-License-Identifier: Apache-2.0
/*
 * MeshService: a service of the mesh as Kuma 2.9 on describes it, the
 * destination that targetRefs and backendRefs of kind MeshService name.
 * Which workloads are its endpoints, its ports, and the identities its
 * workloads present.  Its addresses (VIPs, hostnames) are the control
 * plane's to give, not the spec's.  Apart from the core Service kind.
 *
 *   spec:
 *     state: Available                  # or Unavailable
 *     selector:                         # at most one of the three
 *       dataplaneLabels: {matchLabels: {app: redis}}
 *       # dataplaneRef: {name: redis-01}
 *       # dataplaneTags: {app: redis}    (Kuma 2.14)
 *     ports:
 *       - {name: main, port: 6379, targetPort: 6379, appProtocol: tcp}
 *     identities:
 *       - {type: SpiffeID, value: "spiffe://mesh.local/ns/db/sa/redis"}
 *       - {type: ServiceTag, value: redis}              (Kuma 2.14)
 *
 * An empty spec is valid, as in Kuma.
 */
#include <string.h>
#include <strings.h>

#include "kinds.h"
#include "spiffe.h"

enum { SEL_TAGS, SEL_REF, SEL_LABELS };
enum { PORT_NAME, PORT_PORT, PORT_TARGET, PORT_PROTOCOL };
enum { ID_TYPE, ID_VALUE };
enum { MS_STATE, MS_SELECTOR, MS_PORTS, MS_IDENTITIES };

static const char *const msvc_states[] = { "Available", "Unavailable",
					   NULL };
static const char *const msvc_id_types[] = { "ServiceTag", "SpiffeID",
					     NULL };
/* Kuma's SupportedProtocols; it lower-cases a port's before comparing. */
static const char *const msvc_protocols[] = { "grpc", "http", "http2", "tcp",
					      NULL };

/* A port's name: what a targetRef's sectionName picks it by.  Never all
 * digits, since a sectionName names a port by its number as well. */
static bool msvc_port_name_ok(const char *s)
{
	bool name = false;

	for (const char *p = s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    *p == '-' || *p == '_' || *p == '.')
			name = true;
		else if (*p < '0' || *p > '9')
			return false;
	}
	return name;
}

static const char *msvc_check_port_name(const char *s)
{
	return msvc_port_name_ok(s) ? NULL :
	       "must be a port name: letters, digits, '-', '_' and '.', not "
	       "only digits";
}

/* Kuma's IntOrString: a port number, or the name of a workload's port. */
static const char *msvc_check_target_port(const char *s)
{
	if (s[strspn(s, "0123456789")] == '\0') {
		long port = kind_parse_port(s);

		return port >= 1 && port <= 65535 ? NULL :
		       "must be 1..65535 or a port name";
	}
	return msvc_port_name_ok(s) ? NULL :
	       "must be 1..65535 or a port name: letters, digits, '-', '_' "
	       "and '.'";
}

/* The index of @s in msvc_protocols whatever its case, or -1. */
static int msvc_protocol(const char *s)
{
	for (int i = 0; msvc_protocols[i]; i++)
		if (!strcasecmp(s, msvc_protocols[i]))
			return i;
	return -1;
}

static const char *msvc_check_protocol(const char *s)
{
	return msvc_protocol(s) < 0 ?
	       "must be grpc, http, http2 or tcp (in any case)" : NULL;
}

/* A kuma.io/service value, as a tag value is written. */
static bool msvc_service_tag_ok(const char *s)
{
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._/:-", *p)))
			return false;
	return strlen(s) < MF_TAG_VALUE_MAX;
}

static const char *msvc_identity_check(const void *obj, unsigned *field)
{
	const struct mf_msvc_identity *id = obj;

	*field = ID_VALUE;
	if (!sch_has(id, ID_TYPE) || !sch_has(id, ID_VALUE))
		return NULL;	/* reported as required */
	if (id->type == MF_MSVC_ID_SPIFFE_ID && spiffe_parse(id->value, NULL))
		return "must be a SPIFFE ID (spiffe://<trust-domain>/<path>) "
		       "with type SpiffeID";
	if (id->type == MF_MSVC_ID_SERVICE_TAG &&
	    !msvc_service_tag_ok(id->value))
		return "must be a kuma.io/service value (up to 63 of A-Z, "
		       "a-z, 0-9, '.', '_', '/', ':' and '-') with type "
		       "ServiceTag";
	return NULL;
}

static const char *msvc_selector_check(const void *obj)
{
	uint32_t got = sch_present(obj);

	return got & (got - 1) ?
	       "must have only one of dataplaneTags, dataplaneRef and "
	       "dataplaneLabels" : NULL;
}

static const struct sch_field msvc_dp_ref_fields[] = {
	SCH_F_NAME("name", mf_msvc_dp_ref, name, SCH_REQUIRED),
};
SCH_OBJECT_DEF(msvc_dp_ref, "MeshService dataplaneRef");

static const struct sch_field msvc_labels_fields[] = {
	SCH_F_TAGS("matchLabels", mf_label_selector, match_labels),
};
SCH_OBJECT_DEF(msvc_labels, "MeshService dataplaneLabels");

static const struct sch_field msvc_selector_fields[] = {
	[SEL_TAGS] = SCH_F_TAGS("dataplaneTags", mf_msvc_selector,
				dataplane_tags),
	[SEL_REF] = SCH_F_OBJECT("dataplaneRef", mf_msvc_selector,
				 dataplane_ref, &msvc_dp_ref),
	[SEL_LABELS] = SCH_F_OBJECT("dataplaneLabels", mf_msvc_selector,
				    dataplane_labels, &msvc_labels),
};
SCH_OBJECT_DEF(msvc_selector, "MeshService selector",
	       .check = msvc_selector_check);

static const struct sch_field msvc_port_fields[] = {
	[PORT_NAME] = SCH_F_STRING("name", mf_msvc_port, name,
				   .check = msvc_check_port_name),
	[PORT_PORT] = SCH_F_PORT("port", mf_msvc_port, port, SCH_REQUIRED),
	[PORT_TARGET] = SCH_F_STRING("targetPort", mf_msvc_port, target_port,
				     .check = msvc_check_target_port,
				     .number_ok = true),
	[PORT_PROTOCOL] = SCH_F_STRING("appProtocol", mf_msvc_port,
				       app_protocol,
				       .check = msvc_check_protocol),
};
SCH_OBJECT_DEF(msvc_port, "MeshService port");

static const struct sch_field msvc_identity_fields[] = {
	[ID_TYPE] = SCH_F_ENUM("type", mf_msvc_identity, type, msvc_id_types,
			       SCH_REQUIRED),
	[ID_VALUE] = SCH_F_STRING("value", mf_msvc_identity, value,
				  SCH_REQUIRED),
};
SCH_OBJECT_DEF(msvc_identity, "MeshService identity",
	       .check_field = msvc_identity_check);

/* A port's protocol for comparing ports: Kuma's default is tcp. */
static int msvc_port_protocol(const struct mf_msvc_port *p)
{
	return sch_has(p, PORT_PROTOCOL) ? msvc_protocol(p->app_protocol) :
	       msvc_protocol("tcp");
}

/* A sectionName picks one port by its name, and Kubernetes keys the list
 * by port and appProtocol: neither may repeat. */
static const char *msvc_spec_check(const void *obj, unsigned *field)
{
	const struct mf_mesh_service *s = obj;

	*field = MS_PORTS;
	for (unsigned i = 0; i < s->nports; i++) {
		const struct mf_msvc_port *a = &s->ports[i];

		for (unsigned j = 0; j < i; j++) {
			const struct mf_msvc_port *b = &s->ports[j];

			if (sch_has(a, PORT_NAME) && sch_has(b, PORT_NAME) &&
			    !strcmp(a->name, b->name))
				return "must not have two ports of one name";
			if (a->port == b->port &&
			    msvc_port_protocol(a) == msvc_port_protocol(b))
				return "must not have a port twice with one "
				       "appProtocol";
		}
	}
	return NULL;
}

static const struct sch_field msvc_spec_fields[] = {
	[MS_STATE] = SCH_F_ENUM("state", mf_mesh_service, state, msvc_states),
	[MS_SELECTOR] = SCH_F_OBJECT("selector", mf_mesh_service, selector,
				     &msvc_selector),
	[MS_PORTS] = SCH_F_LIST("ports", mf_mesh_service, ports, &msvc_port),
	[MS_IDENTITIES] = SCH_F_LIST("identities", mf_mesh_service,
				     identities, &msvc_identity),
};
SCH_OBJECT_DEF(msvc_spec, "MeshService spec",
	       .check_field = msvc_spec_check);

const struct kind_desc kind_mesh_service = {
	.name = "MeshService", .plural = "meshservices", .short_name = "msvc",
	.form = KIND_FORM_SPEC, .name_rfc1035 = true,
	.val_size = sizeof(struct mf_mesh_service), .conf = &msvc_spec,
};
