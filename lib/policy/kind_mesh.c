// SPDX-License-Identifier: Apache-2.0
/*
 * Mesh: the trust domain of every identity, and its mTLS backends.
 *
 *   apiVersion: meshforge.io/v1alpha1
 *   kind: Mesh
 *   metadata: {name: default}
 *   spec:
 *     trustDomain: mesh.local
 *     mtls:                                        # optional
 *       enabledBackend: ca-1
 *       backends:
 *         - name: ca-1
 *           type: builtin                          # the CA of `mfctl ca init`
 *           mode: STRICT                           # or PERMISSIVE (default STRICT)
 *           dpCert: {rotation: {expiration: 1d}}   # optional
 *         - name: ca-2
 *           type: provided
 *           conf: {cert: {file: /etc/ca.crt}, key: {file: /etc/ca.key}}
 *
 * Only one Mesh is supported.  Kuma's data sources other than files are
 * not: a provided backend reads its CA from files.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "abi_names.h"
#include "core.h"
#include "kinds.h"
#include "spiffe.h"

static const char *mesh_check_td(const char *s)
{
	return spiffe_check_trust_domain(s) ?
		       "must be a trust domain: a-z, 0-9, '.', '-' and '_' "
		       "only" : NULL;
}

static const char *mesh_check_file(const char *s)
{
	return s[0] == '/' ? NULL : "must be an absolute path";
}

static const struct sch_field file_fields[] = {
	{ .name = "file", .type = SCH_STRING, .size = MF_PATH_MAX,
	  .required = true, .check = mesh_check_file,
	  .off = offsetof(struct core_file, file) },
};

static const struct sch_object file_source = {
	.name = "data source",
	.fields = file_fields,
	.nfields = SCH_NFIELDS(file_fields),
};

static const struct sch_field backend_conf_fields[] = {
	{ .name = "cert", .type = SCH_OBJECT, .sub = &file_source,
	  .required = true, .off = offsetof(struct core_backend_conf, cert) },
	{ .name = "key", .type = SCH_OBJECT, .sub = &file_source,
	  .required = true, .off = offsetof(struct core_backend_conf, key) },
};

static const struct sch_object backend_conf = {
	.name = "provided backend conf",
	.fields = backend_conf_fields,
	.nfields = SCH_NFIELDS(backend_conf_fields),
};

static const struct sch_field rotation_fields[] = {
	{ .name = "expiration", .type = SCH_LIFETIME,
	  .off = offsetof(struct core_rotation, expiration) },
};

static const struct sch_object rotation = {
	.name = "rotation",
	.fields = rotation_fields,
	.nfields = SCH_NFIELDS(rotation_fields),
};

static const struct sch_field dp_cert_fields[] = {
	{ .name = "rotation", .type = SCH_OBJECT, .sub = &rotation,
	  .off = offsetof(struct core_dp_cert, rotation) },
};

static const struct sch_object dp_cert = {
	.name = "dpCert",
	.fields = dp_cert_fields,
	.nfields = SCH_NFIELDS(dp_cert_fields),
};

enum { BACKEND_TYPE = 1, BACKEND_CONF = 4 };	/* field indexes */

/* A builtin backend's CA is the mesh CA; a provided one names files. */
static const char *backend_check(const void *obj, unsigned *field)
{
	const struct core_backend *b = obj;

	*field = BACKEND_CONF;
	if (b->type == MF_MTLS_BUILTIN && sch_has(b, BACKEND_CONF))
		return "builtin backends take no conf (the mesh CA is made by "
		       "`mfctl ca init`)";
	if (b->type == MF_MTLS_PROVIDED && !sch_has(b, BACKEND_CONF))
		return "is required for a provided backend";
	return NULL;
}

static const struct sch_field backend_fields[] = {
	{ .name = "name", .type = SCH_NAME, .required = true,
	  .off = offsetof(struct core_backend, name) },
	{ .name = "type", .type = SCH_ENUM, .required = true,
	  .names = abi_mtls_type_names + 1,
	  .off = offsetof(struct core_backend, type) },
	{ .name = "mode", .type = SCH_ENUM, .def = MF_MTLS_STRICT,
	  .names = abi_mtls_mode_names + 1,
	  .off = offsetof(struct core_backend, mode) },
	{ .name = "dpCert", .type = SCH_OBJECT, .sub = &dp_cert,
	  .off = offsetof(struct core_backend, dp_cert) },
	{ .name = "conf", .type = SCH_OBJECT, .sub = &backend_conf,
	  .off = offsetof(struct core_backend, conf) },
};

static const struct sch_object backend = {
	.name = "mTLS backend",
	.fields = backend_fields,
	.nfields = SCH_NFIELDS(backend_fields),
	.check_field = backend_check,
};

enum { MTLS_ENABLED = 0, MTLS_BACKENDS = 1 };	/* field indexes */

/* Backends are named once each, and enabledBackend names one of them. */
static const char *mtls_check(const void *obj, unsigned *field)
{
	static _Thread_local char why[MF_NAME_MAX + 32];
	const struct core_mtls *m = obj;
	bool found = false;

	for (unsigned i = 0; i < m->nbackends && i < MF_MTLS_BACKENDS_MAX;
	     i++) {
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(m->backends[i].name, m->backends[j].name)) {
				snprintf(why, sizeof(why),
					 "backend \"%s\" is defined twice",
					 m->backends[i].name);
				*field = MTLS_BACKENDS;
				return why;
			}
		found |= !strcmp(m->backends[i].name, m->enabled_backend);
	}
	*field = MTLS_ENABLED;
	return sch_has(m, MTLS_ENABLED) && !found ?
		       "names no backend of spec.mtls.backends" : NULL;
}

static const struct sch_field mtls_fields[] = {
	{ .name = "enabledBackend", .type = SCH_NAME,
	  .off = offsetof(struct core_mtls, enabled_backend) },
	{ .name = "backends", .type = SCH_LIST, .sub = &backend,
	  .off = offsetof(struct core_mtls, backends),
	  .count_off = offsetof(struct core_mtls, nbackends),
	  .item_size = sizeof(struct core_backend),
	  .max_items = MF_MTLS_BACKENDS_MAX },
};

static const struct sch_object mtls = {
	.name = "Mesh mtls",
	.fields = mtls_fields,
	.nfields = SCH_NFIELDS(mtls_fields),
	.check_field = mtls_check,
};

static const struct sch_field mesh_fields[] = {
	{ .name = "trustDomain", .type = SCH_STRING, .size = MF_NAME_MAX,
	  .required = true, .check = mesh_check_td,
	  .off = offsetof(struct core_mesh, trust_domain) },
	{ .name = "mtls", .type = SCH_OBJECT, .sub = &mtls,
	  .off = offsetof(struct core_mesh, mtls) },
};

static const struct sch_object mesh_spec = {
	.name = "Mesh spec",
	.fields = mesh_fields,
	.nfields = SCH_NFIELDS(mesh_fields),
};

const struct kind_desc kind_mesh = {
	.name = "Mesh",
	.plural = "meshes",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct core_mesh),
	.conf = &mesh_spec,
};
