// SPDX-License-Identifier: Apache-2.0
/*
 * The mesh's TLS between agents from its MeshTLS policies (tls_profile.h):
 * merged field by field, each field remembering the record that set it
 * last, so that a refusal names that policy and its entry.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>

#include "diag.h"
#include "kinds.h"
#include "model.h"
#include "records.h"
#include "select.h"
#include "select_model.h"
#include "tls_profile.h"

/* The record that set a field last: its policy's name and entry. */
struct tlsprof_src {
	const struct sel_cand *c;	/* NULL: none set it */
	const char *field;		/* "tlsVersion.min", ... */
};

/* Says in @d that field @s is refused: at its policy's name when it was
 * read from a file, else by the policy's name. */
static void tlsprof_refuse(const struct tlsprof_src *s,
			   const struct model_obj **sorted, size_t nsorted,
			   struct diag *d, const char *fmt, const char *a,
			   const char *b)
{
	const enum model_kind kind = (enum model_kind)(MODEL_GEN_FIRST +
					REC_TLS - REC_KIND_FIRST);
	const struct mf_mesh_tls *r = s->c->val;
	const struct model_obj *o = model_sorted_find(sorted, nsorted, kind,
						      s->c->name);
	char who[MF_NAME_MAX + 16], path[96], msg[512];

	snprintf(who, sizeof(who), "MeshTLS %s", s->c->name);
	snprintf(path, sizeof(path), "spec.%s[%u].default.%s",
		 r->hdr.section == MF_SEC_FROM ? "from" : "rules",
		 (unsigned)r->hdr.entry, s->field);
	snprintf(msg, sizeof(msg), fmt, a, b);
	diag_add(d, o && o->loc.file ? &o->name_loc : NULL, who, path, "%s",
		 msg);
}

/* The sections in merge order: Kuma 2.x's `from`, then 3.0's `rules`. */
static const uint8_t tlsprof_sections[] = { MF_SEC_FROM, MF_SEC_RULE };

int tlsprof_compile(const struct model_set *set, const struct sel_cand *c,
		    size_t n, const struct model_obj **sorted, size_t nsorted,
		    struct mf_tls_profile *out, struct diag *d)
{
	const struct sel_ctx ctx = sel_model_ctx(set);
	const struct sel_workload none = { .name = NULL };
	struct tlsprof_src smin = { NULL, "tlsVersion.min" };
	struct tlsprof_src smax = { NULL, "tlsVersion.max" };
	struct tlsprof_src sciph = { NULL, "tlsCiphers" };
	struct sel_cand *mesh = NULL;
	size_t *order = NULL, nm = 0;
	unsigned int min = 0, max = 0, lo, hi;
	const struct mf_tls_conf *ciphers = NULL;
	int got = 0, err = 0;

	memset(out, 0, sizeof(*out));
	mesh = calloc(n ? n : 1, sizeof(*mesh));
	order = calloc(n ? n : 1, sizeof(*order));
	if (!mesh || !order) {
		err = -ENOMEM;
		goto out;
	}
	/* Only a Mesh target sets versions and ciphers (tls_rec_check()). */
	for (size_t i = 0; i < n; i++)
		if (((const struct mf_mesh_tls *)c[i].val)->hdr.target.kind ==
		    MF_REF_MESH)
			mesh[nm++] = c[i];
	for (size_t s = 0; nm && s < sizeof(tlsprof_sections); s++) {
		const struct sel_query q = { .self = &none,
					     .section = tlsprof_sections[s] };

		got = sel_select(&kind_mesh_tls, mesh, nm, &q, &ctx, order);
		if (got < 0) {
			err = got;
			goto out;
		}
		for (int i = 0; i < got; i++) {
			const struct sel_cand *r = &mesh[order[i]];
			const struct mf_tls_conf *cf =
				&((const struct mf_mesh_tls *)r->val)->conf;
			const struct mf_tls_versions *v = &cf->tls_version;

			if (sch_has(cf, MESH_TLS_CONF_VERSION) &&
			    sch_has(v, MESH_TLS_VER_MIN)) {
				min = v->min;
				smin.c = r;
			}
			if (sch_has(cf, MESH_TLS_CONF_VERSION) &&
			    sch_has(v, MESH_TLS_VER_MAX)) {
				max = v->max;
				smax.c = r;
			}
			/* An empty list sets nothing (tls_rec_check()). */
			if (sch_has(cf, MESH_TLS_CONF_CIPHERS) &&
			    cf->ntls_ciphers) {
				ciphers = cf;
				sciph.c = r;
			}
		}
	}
	if (!smin.c && !smax.c && !sciph.c)
		goto out;	/* the agents' default */

	lo = min && min != MF_TLS_AUTO ? min : TLSPROF_DEFAULT_MIN;
	hi = max && max != MF_TLS_AUTO ? max : TLSPROF_DEFAULT_MAX;
	/* A min left to the proxy goes down to a max written below the
	 * agents' default, as Envoy's (TLS 1.2) would. */
	if (lo > hi && (!min || min == MF_TLS_AUTO))
		lo = hi;
	if (lo > hi) {
		/* Written in two policies (one's own is the kind's check). */
		tlsprof_refuse(&smax, sorted, nsorted, d,
			       "%s is below tlsVersion.min, %s, as the MeshTLS "
			       "policies merge", tlsprof_version_name(hi),
			       tlsprof_version_name(lo));
		err = -EINVAL;
		goto out;
	}
	/* The agents speak the part of the range that can be agreed:
	 * TLS 1.2 and 1.3.  None of MeshTLS's ciphers runs below 1.2 (all
	 * six are TLS 1.2 AEAD suites). */
	if (hi < MF_TLS_12) {
		tlsprof_refuse(max && max != MF_TLS_AUTO ? &smax : &smin,
			       sorted, nsorted, d,
			       "%s: the agents speak TLS 1.2 and 1.3, and %s",
			       tlsprof_version_name(hi),
			       "no MeshTLS cipher runs below TLS 1.2 (all six "
			       "are TLS 1.2 AEAD suites)");
		err = -EINVAL;
		goto out;
	}
	if (lo < MF_TLS_12)
		lo = MF_TLS_12;
	out->min = (uint8_t)lo;
	out->max = (uint8_t)hi;
	/* The suites of TLS 1.2 the mesh's ECDSA certificates can agree, in
	 * the order written, each once. */
	for (size_t i = 0; ciphers && i < ciphers->ntls_ciphers &&
			   i < MF_TLS_CIPHERS_MAX; i++) {
		unsigned int k = ciphers->tls_ciphers[i];
		bool seen = false;

		if (!tlsprof_cipher_ecdsa(k))
			continue;
		for (unsigned j = 0; j < out->nciphers; j++)
			seen |= out->ciphers[j] == k;
		if (!seen && out->nciphers < MF_TLS_PROFILE_CIPHERS)
			out->ciphers[out->nciphers++] = (uint8_t)k;
	}
	/* No suite for TLS 1.2: the agents speak TLS 1.3 alone, if the
	 * range holds it. */
	if (ciphers && !out->nciphers && lo == MF_TLS_12 && hi > MF_TLS_12) {
		out->min = MF_TLS_13;
	} else if (ciphers && !out->nciphers && lo == MF_TLS_12) {
		tlsprof_refuse(&sciph, sorted, nsorted, d,
			       "none of these suites can be agreed at TLS 1.2, "
			       "the only version tlsVersion allows (%s to %s): "
			       "the mesh's certificates are ECDSA P-256, so "
			       "only ECDHE-ECDSA-* suites can",
			       tlsprof_version_name(min ? min : MF_TLS_AUTO),
			       tlsprof_version_name(hi));
		err = -EINVAL;
		goto out;
	}
out:
	free(order);
	free(mesh);
	return err;
}
