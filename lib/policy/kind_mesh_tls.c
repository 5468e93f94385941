// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTLS: the inbound TLS of the targeted proxies.  Kuma 3.0 writes it as
 * rules without matches, Kuma 2.x also as from[] entries for the whole
 * mesh (one or the other, not both); a policy may have neither.
 *
 *   spec:
 *     targetRef: {kind: Mesh}
 *     rules:
 *       - default:
 *           tlsVersion: {min: TLS12, max: TLS13}
 *           tlsCiphers: [ECDHE-RSA-AES128-GCM-SHA256,
 *                        ECDHE-RSA-CHACHA20-POLY1305]
 *           mode: Strict
 *
 * Versions are TLSAuto (the agents' default), TLS10 .. TLS13; a min above
 * the max is refused unless one of them is TLSAuto.  The ciphers are kept in
 * the order written, Envoy's order of preference.  As in Kuma, versions
 * and ciphers hold for the whole mesh: only a Mesh target sets them, and
 * the agents speak them to each other (tls_profile.h).
 */
#include <stddef.h>

#include "kinds.h"
#include "tls_profile.h"

/* Field numbers: tls_profile.h (the profile reads the present bits). */
#define VER_MIN		MESH_TLS_VER_MIN
#define VER_MAX		MESH_TLS_VER_MAX
#define CONF_VERSION	MESH_TLS_CONF_VERSION
#define CONF_CIPHERS	MESH_TLS_CONF_CIPHERS
#define CONF_MODE	MESH_TLS_CONF_MODE

static const char *const tls_version_names[] = {
	"TLSAuto", "TLS10", "TLS11", "TLS12", "TLS13", NULL,
};
static const char *const tls_cipher_names[] = {
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-AES128-GCM-SHA256",
	"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305", NULL,
};
static const char *const tls_mode_names[] = { "Permissive", "Strict", NULL };

const char *tlsprof_version_name(unsigned int v)
{
	return v >= MF_TLS_AUTO && v <= MF_TLS_13 ? tls_version_names[v - 1] :
						    NULL;
}

const char *tlsprof_cipher_name(unsigned int c)
{
	return c >= MF_TLS_ECDHE_ECDSA_AES128_GCM_SHA256 &&
	       c <= MF_TLS_ECDHE_RSA_CHACHA20_POLY1305 ?
	       tls_cipher_names[c - 1] : NULL;
}

/* TLSAuto leaves the bound to the agents, so it orders against nothing. */
static const char *tls_versions_check(const void *obj, unsigned *field)
{
	const struct mf_tls_versions *v = obj;

	*field = VER_MIN;
	return v->min > MF_TLS_AUTO && v->max > MF_TLS_AUTO &&
	       v->min > v->max ? "must not be above max" : NULL;
}

static const struct sch_field tls_versions_fields[] = {
	[VER_MIN] = SCH_F_ENUM("min", mf_tls_versions, min, tls_version_names),
	[VER_MAX] = SCH_F_ENUM("max", mf_tls_versions, max, tls_version_names),
};
SCH_OBJECT_DEF(tls_versions, "MeshTLS tlsVersion",
	       .check_field = tls_versions_check);

static const struct sch_field tls_cipher_fields[] = {
	SCH_ITEM(SCH_ENUM, 1, .names = tls_cipher_names),
};
SCH_OBJECT_DEF(tls_cipher, "MeshTLS cipher", .scalar = true);

static const struct sch_field tls_conf_fields[] = {
	[CONF_VERSION] = SCH_F_OBJECT("tlsVersion", mf_tls_conf, tls_version,
				      &tls_versions),
	[CONF_CIPHERS] = SCH_F_LIST("tlsCiphers", mf_tls_conf, tls_ciphers,
				    &tls_cipher),
	[CONF_MODE] = SCH_F_ENUM("mode", mf_tls_conf, mode, tls_mode_names),
};
SCH_OBJECT_DEF(tls_conf, "MeshTLS default");

/* Versions and ciphers are the mesh's: a narrower target may only set the
 * mode.  An empty cipher list sets nothing. */
static const char *tls_rec_check(const struct mf_pol_hdr *h, const void *conf,
				 const char **field)
{
	const struct mf_tls_conf *c = conf;

	if (h->target.kind == MF_REF_MESH)
		return NULL;
	if (sch_has(c, CONF_CIPHERS) && c->ntls_ciphers)
		*field = "tlsCiphers";
	else if (sch_has(c, CONF_VERSION))
		*field = "tlsVersion";
	else
		return NULL;
	return "can only be set when spec.targetRef is kind Mesh: versions "
	       "and ciphers hold for the whole mesh";
}

const struct kind_desc kind_mesh_tls = {
	.name = "MeshTLS", .plural = "meshtlses", .short_name = "mtls",
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_FROM | KIND_SEC_RULES | KIND_SEC_EMPTY_OK,
	/* Kuma 2.x: the mesh, a subset, Dataplanes; 3.0: no subsets. */
	.target_kinds = KIND_REF(MF_REF_MESH) | KIND_REF(MF_REF_MESH_SUBSET) |
			KIND_REF(MF_REF_WORKLOAD),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.rec_check = tls_rec_check,
	KIND_RECORD(mf_mesh_tls, conf, &tls_conf),
};
