// SPDX-License-Identifier: Apache-2.0
/*
 * Which routes a builtin gateway's listeners take (see gw_attach.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw_attach.h"
#include "kinds.h"

int gwa_gateway(const struct sel_cand *gc, size_t n, const char *name,
		const struct mf_tagset *tags, const struct sel_ctx *ctx)
{
	struct sel_workload w = { .name = name, .tags = tags };

	for (size_t i = 0; tags && i < tags->n && i < MF_TAGS_MAX; i++)
		if (!strncmp(tags->tags[i].key, SEL_SERVICE_TAG,
			     sizeof(tags->tags[i].key)))
			w.service = tags->tags[i].value;
	return n ? sel_legacy_best(gc, n, &w, NULL, ctx, NULL) : -ENOENT;
}

/* Sets tag @t in @ts (its key's value replaced, else added when there is
 * room: the tags checked at apply fit). */
static void gwa_tag_set(struct mf_tagset *ts, const struct mf_tag *t)
{
	size_t i;

	for (i = 0; i < ts->n && i < MF_TAGS_MAX; i++)
		if (!strncmp(ts->tags[i].key, t->key, sizeof(t->key)))
			break;
	if (i == MF_TAGS_MAX)
		return;
	ts->tags[i] = *t;
	if (i == ts->n)
		ts->n++;
}

static void gwa_tags_merge(struct mf_tagset *ts, const struct mf_tagset *add)
{
	for (size_t i = 0; add && i < add->n && i < MF_TAGS_MAX; i++)
		gwa_tag_set(ts, &add->tags[i]);
}

void gwa_listener(struct gwa_listener *out, const struct sel_ctx *ctx,
		  const char *inst, const struct mf_tagset *inst_tags,
		  const struct mf_gateway *gw, const char *gw_name,
		  const struct mf_gw_listener *l)
{
	memset(out, 0, sizeof(*out));
	out->l = l;
	gwa_tags_merge(&out->tags, inst_tags);
	gwa_tags_merge(&out->tags, gw->tags ? ctx->tags(ctx->arg, gw->tags) :
					      NULL);
	gwa_tags_merge(&out->tags, l->tags ? ctx->tags(ctx->arg, l->tags) :
					     NULL);
	out->w.name = inst;
	out->w.tags = &out->tags;
	out->w.gateway = gw_name;
	out->w.port = l->port;
	for (size_t i = 0; i < out->tags.n && i < MF_TAGS_MAX; i++)
		if (!strncmp(out->tags.tags[i].key, SEL_SERVICE_TAG,
			     sizeof(out->tags.tags[i].key)))
			out->w.service = out->tags.tags[i].value;
}

bool gwa_is_http(const struct mf_gw_listener *l)
{
	return l->protocol == MF_GW_HTTP || l->protocol == MF_GW_HTTPS;
}

bool gwa_gwr_selects(const struct mf_gateway_route *r,
		     const struct gwa_listener *gl, const struct sel_ctx *ctx)
{
	for (size_t i = 0; i < r->hdr.nsources && i < MF_SELECTORS_MAX; i++) {
		const struct mf_tagset *ts =
			ctx->tags(ctx->arg, r->hdr.sources[i]);

		if (ts && sel_tags_match(ts, &gl->w))
			return true;
	}
	return false;
}

int gwa_attached(const struct kind_desc *kd, const struct sel_cand *c,
		 size_t n, const struct gwa_listener *gl,
		 const struct sel_ctx *ctx, size_t *order)
{
	/* No peer: only a to[] entry for any destination (Mesh) applies. */
	const struct sel_query q = { .self = &gl->w, .section = MF_SEC_TO };

	return n ? sel_select(kd, c, n, &q, ctx, order) : 0;
}

int gwa_tcp_decider(const struct sel_cand *c, const size_t *order, int m)
{
	for (int i = m - 1; i >= 0; i--) {
		const struct mf_tcp_route *r = c[order[i]].val;

		if (r->rule.def.nbackend_refs)
			return (int)order[i];
	}
	return -1;
}

int gwa_forms(struct gwa_forms *out, const struct sel_ctx *ctx,
	      const char *inst, const struct mf_tagset *inst_tags,
	      const struct mf_gateway *gw, const char *gw_name,
	      const struct sel_cand *hc, size_t nh, const struct sel_cand *tc,
	      size_t nt, size_t *order)
{
	struct gwa_listener gl;
	int m;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < gw->conf.nlisteners &&
			   i < MF_GW_LISTENERS_MAX; i++) {
		const struct mf_gw_listener *l = &gw->conf.listeners[i];
		bool http = gwa_is_http(l);

		gwa_listener(&gl, ctx, inst, inst_tags, gw, gw_name, l);
		m = http ? gwa_attached(&kind_mesh_http_route, hc, nh, &gl, ctx,
					order) :
			   gwa_attached(&kind_mesh_tcp_route, tc, nt, &gl, ctx,
					order);
		if (m < 0)
			return m;
		if (http)
			out->http |= m > 0;
		else
			out->tcp |= m > 0;
	}
	return 0;
}

void gwa_cands_free(struct gwa_cands *c)
{
	free(c->gwr);
	free(c->http);
	free(c->tcp);
	free(c->order);
	memset(c, 0, sizeof(*c));
}
