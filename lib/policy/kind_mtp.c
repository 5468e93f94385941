// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTrafficPermission: which identities may reach a Service (or every
 * Service, targetRef Mesh), written either way Kuma has:
 *
 *   spec:
 *     targetRef: {kind: MeshService, name: web}
 *     from:
 *       - targetRef: {kind: SpiffeID, name: spiffe://mesh.local/ns/default/sa/api}
 *         default: {action: Allow}               # Deny, AllowWithShadowDeny
 *       - targetRef: {kind: SpiffeIDPrefix, name: spiffe://mesh.local/ns/batch/}
 *         default: {action: Deny}
 *       - targetRef: {kind: Mesh}                 # every identity of the mesh
 *         default: {action: Deny}
 *
 *   spec:
 *     targetRef: {kind: Mesh}
 *     rules:
 *       - default:
 *           allow: [{spiffeID: {type: Exact, value: spiffe://mesh.local/ns/default/sa/api}}]
 *           deny: [{spiffeID: {type: Prefix, value: spiffe://mesh.local/ns/batch/}}]
 *           allowWithShadowDeny: [...]
 *
 * One record per entry or item (struct core_mtp, KIND_FORM_PERMISSION);
 * compile expands them into the rules of each Service they protect
 * (docs/policy.md, "MeshTrafficPermission").
 */
#include <stddef.h>
#include <stdio.h>

#include "abi_names.h"
#include "core.h"
#include "kinds.h"
#include "spiffe.h"

static const char *const mtp_peer_kinds[] = { "SpiffeID", "SpiffeIDPrefix",
					      "Mesh", NULL };

enum { PEER_KIND = 0, PEER_NAME = 1 };	/* field indexes */

/* A SpiffeID names one identity, a prefix the start of some, Mesh none. */
static const char *mtp_peer_check(const void *obj, unsigned *field)
{
	static _Thread_local char why[64];
	const struct core_mtp_peer_ref *r = obj;

	*field = PEER_NAME;
	if (r->kind == CORE_MTP_MESH)
		return sch_has(r, PEER_NAME) ? "must not be set for kind Mesh" :
					       NULL;
	if (!sch_has(r, PEER_NAME)) {
		snprintf(why, sizeof(why), "is required for kind %s",
			 mtp_peer_kinds[r->kind - 1]);
		return why;
	}
	if (r->kind == CORE_MTP_SPIFFE_ID && spiffe_parse(r->name, NULL))
		return "must be a SPIFFE ID (spiffe://<trust-domain>/<path>)";
	if (r->kind == CORE_MTP_SPIFFE_PREFIX && spiffe_check_prefix(r->name))
		return "must be a SPIFFE ID prefix (spiffe://<trust-domain>/...)";
	return NULL;
}

static const struct sch_field peer_fields[] = {
	{ .name = "kind", .type = SCH_ENUM, .names = mtp_peer_kinds,
	  .required = true, .off = offsetof(struct core_mtp_peer_ref, kind) },
	{ .name = "name", .type = SCH_STRING, .size = MF_SPIFFE_MAX,
	  .note = true, .off = offsetof(struct core_mtp_peer_ref, name) },
};

static const struct sch_object peer_ref = {
	.name = "MeshTrafficPermission from targetRef",
	.fields = peer_fields,
	.nfields = SCH_NFIELDS(peer_fields),
	.check_field = mtp_peer_check,
};

static const struct sch_field action_fields[] = {
	{ .name = "action", .type = SCH_ENUM, .required = true,
	  .names = abi_authz_action_names + 1,
	  .off = offsetof(struct core_mtp_action, action) },
};

static const struct sch_object action = {
	.name = "MeshTrafficPermission default",
	.fields = action_fields,
	.nfields = SCH_NFIELDS(action_fields),
};

static const struct sch_field from_fields[] = {
	{ .name = "targetRef", .type = SCH_OBJECT, .sub = &peer_ref,
	  .required = true, .off = offsetof(struct core_mtp_conf, target_ref) },
	{ .name = "default", .type = SCH_OBJECT, .sub = &action,
	  .required = true, .off = offsetof(struct core_mtp_conf, def) },
};

static const struct sch_object from_entry = {
	.name = "MeshTrafficPermission from",
	.fields = from_fields,
	.nfields = SCH_NFIELDS(from_fields),
};

static const char *mtp_spiffe_check(const void *obj, unsigned *field)
{
	const struct core_mtp_spiffe *s = obj;

	*field = 1;	/* value */
	if (s->type == MF_AUTHZ_MATCH_EXACT && spiffe_parse(s->value, NULL))
		return "must be a SPIFFE ID (spiffe://<trust-domain>/<path>)";
	if (s->type == MF_AUTHZ_MATCH_PREFIX && spiffe_check_prefix(s->value))
		return "must be a SPIFFE ID prefix (spiffe://<trust-domain>/...)";
	return NULL;
}

static const struct sch_field spiffe_fields[] = {
	{ .name = "type", .type = SCH_ENUM, .required = true,
	  .names = abi_authz_match_names + 1,
	  .off = offsetof(struct core_mtp_spiffe, type) },
	{ .name = "value", .type = SCH_STRING, .size = MF_SPIFFE_MAX,
	  .required = true, .note = true,
	  .off = offsetof(struct core_mtp_spiffe, value) },
};

static const struct sch_object spiffe_id = {
	.name = "spiffeID",
	.fields = spiffe_fields,
	.nfields = SCH_NFIELDS(spiffe_fields),
	.check_field = mtp_spiffe_check,
};

static const struct sch_field rules_item_fields[] = {
	{ .name = "spiffeID", .type = SCH_OBJECT, .sub = &spiffe_id,
	  .required = true, .off = offsetof(struct core_mtp_conf, spiffe_id) },
};

static const struct sch_object rules_item = {
	.name = "MeshTrafficPermission rule",
	.fields = rules_item_fields,
	.nfields = SCH_NFIELDS(rules_item_fields),
};

const struct kind_desc kind_mtp = {
	.name = "MeshTrafficPermission",
	.plural = "meshtrafficpermissions",
	.short_name = "mtp",
	.form = KIND_FORM_PERMISSION,
	.target_kinds = KIND_REF(MF_REF_MESH) | KIND_REF(MF_REF_MESH_SERVICE),
	.val_size = sizeof(struct core_mtp),
	.conf_off = offsetof(struct core_mtp, conf),
	.conf = &from_entry,
	.alt = &rules_item,
};
