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
 * One record per entry or item (struct mf_mtp, KIND_FORM_PERMISSION);
 * compile expands them into the rules of each Service they protect
 * (docs/policy.md, "MeshTrafficPermission").
 */
#include <stddef.h>
#include <stdio.h>

#include "abi_names.h"
#include "core.h"
#include "kinds.h"

static const char *const mtp_peer_kinds[] = {
	"SpiffeID", "SpiffeIDPrefix", "Mesh", "MeshSubset", "MeshService",
	"MeshServiceSubset", NULL,
};

enum { PEER_KIND = 0, PEER_NAME = 1, PEER_TAGS = 2 };	/* field indexes */

/*
 * A SpiffeID names one identity, a prefix the start of some, a
 * MeshService(Subset) a Service; Mesh and MeshSubset no name.  Tags go
 * with the subsets only.
 */
static const char *mtp_peer_check(const void *obj, unsigned *field)
{
	static _Thread_local char why[64];
	const struct mf_mtp_peer_ref *r = obj;
	const char *kind = mtp_peer_kinds[r->kind - 1];
	bool named = r->kind != MF_MTP_MESH && r->kind != MF_MTP_MESH_SUBSET;
	bool tagged = r->kind == MF_MTP_MESH_SUBSET ||
		      r->kind == MF_MTP_MESH_SERVICE_SUBSET;

	*field = PEER_NAME;
	if (named != sch_has(r, PEER_NAME)) {
		snprintf(why, sizeof(why), named ? "is required for kind %s" :
				"must not be set for kind %s", kind);
		return why;
	}
	if (!tagged && sch_has(r, PEER_TAGS)) {
		*field = PEER_TAGS;
		snprintf(why, sizeof(why), "must not be set for kind %s",
			 kind);
		return why;
	}
	if (r->kind == MF_MTP_SPIFFE_ID)
		return kind_check_spiffe_id(r->name);
	if (r->kind == MF_MTP_SPIFFE_PREFIX)
		return kind_check_spiffe_prefix(r->name);
	return NULL;
}

static const struct sch_field peer_ref_fields[] = {
	[PEER_KIND] = SCH_F_ENUM("kind", mf_mtp_peer_ref, kind,
				 mtp_peer_kinds, SCH_REQUIRED),
	[PEER_NAME] = SCH_F_STRING("name", mf_mtp_peer_ref, name,
				   .note = true),
	[PEER_TAGS] = SCH_F_TAGS("tags", mf_mtp_peer_ref, tags),
};
SCH_OBJECT_DEF(peer_ref, "MeshTrafficPermission from targetRef",
	       .check_field = mtp_peer_check);

static const struct sch_field action_fields[] = {
	SCH_F_ENUM("action", mf_mtp_action, action,
		   abi_authz_action_names + 1, SCH_REQUIRED),
};
SCH_OBJECT_DEF(action, "MeshTrafficPermission default");

static const struct sch_field from_entry_fields[] = {
	SCH_F_OBJECT("targetRef", mf_mtp_conf, target_ref, &peer_ref,
		     SCH_REQUIRED),
	SCH_F_OBJECT("default", mf_mtp_conf, def, &action, SCH_REQUIRED),
};
SCH_OBJECT_DEF(from_entry, "MeshTrafficPermission from");

enum { SPIFFE_TYPE = 0, SPIFFE_VALUE = 1 };	/* field indexes */

static const char *mtp_spiffe_check(const void *obj, unsigned *field)
{
	const struct mf_mtp_spiffe *s = obj;

	*field = SPIFFE_VALUE;
	if (s->type == MF_AUTHZ_MATCH_EXACT)
		return kind_check_spiffe_id(s->value);
	if (s->type == MF_AUTHZ_MATCH_PREFIX)
		return kind_check_spiffe_prefix(s->value);
	return NULL;
}

static const struct sch_field spiffe_id_fields[] = {
	[SPIFFE_TYPE] = SCH_F_ENUM("type", mf_mtp_spiffe, type,
				   abi_authz_match_names + 1, SCH_REQUIRED),
	[SPIFFE_VALUE] = SCH_F_STRING("value", mf_mtp_spiffe, value,
				      SCH_REQUIRED, .note = true),
};
SCH_OBJECT_DEF(spiffe_id, "spiffeID", .check_field = mtp_spiffe_check);

static const char *const sni_types[] = { "Exact", NULL };

static const struct sch_field sni_fields[] = {
	SCH_F_ENUM("type", mf_mtp_sni, type, sni_types, SCH_REQUIRED),
	SCH_F_STRING("value", mf_mtp_sni, value, SCH_REQUIRED),
};
SCH_OBJECT_DEF(sni, "sni");

enum { ITEM_SPIFFE_ID, ITEM_SNI };	/* field indexes */

/* An item matches by SPIFFE ID, SNI or both; one that names neither
 * would match nothing that can be said. */
static const char *rules_item_check(const void *obj)
{
	const struct mf_mtp_conf *c = obj;

	return sch_has(c, ITEM_SPIFFE_ID) || sch_has(c, ITEM_SNI) ? NULL :
	       "must have spiffeID, sni or both";
}

static const struct sch_field rules_item_fields[] = {
	[ITEM_SPIFFE_ID] = SCH_F_OBJECT("spiffeID", mf_mtp_conf, spiffe_id,
					&spiffe_id),
	[ITEM_SNI] = SCH_F_OBJECT("sni", mf_mtp_conf, sni, &sni),
};
SCH_OBJECT_DEF(rules_item, "MeshTrafficPermission rule",
	       .check = rules_item_check);

const struct kind_desc kind_mtp = {
	.name = "MeshTrafficPermission", .plural = "meshtrafficpermissions",
	.short_name = "mtp",
	.form = KIND_FORM_PERMISSION,
	/* Kuma 2.14's: a whole service, or some of its Workloads (each
	 * one's rules then apply to traffic to it only), or a
	 * MeshExternalService (who may reach it). */
	.target_kinds = KIND_REF(MF_REF_MESH) | KIND_REF(MF_REF_MESH_SERVICE) |
			KIND_REF(MF_REF_MESH_EXTERNAL_SERVICE) |
			KIND_REF(MF_REF_MESH_SUBSET) |
			KIND_REF(MF_REF_MESH_SERVICE_SUBSET) |
			KIND_REF(MF_REF_WORKLOAD),
	KIND_RECORD(mf_mtp, conf, &from_entry),
	.alt = &rules_item,
};
