// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "effective.h"
#include "policy/dataplane.h"
#include "policy/endpoint.h"
#include "policy/gw_attach.h"
#include "policy/gw_instance.h"
#include "policy/identity.h"
#include "policy/mesh_service.h"
#include "policy/select.h"
#include "policy/select_model.h"
#include "policy/svcname.h"
#include "policy/txn.h"

/* Writes go to a FILE; tags and strings resolve in the set. */
struct eff_ctx {
	const struct model_set *set;
	FILE *f;
};

/* One line: kind, section and peer, contributing policies, and either the
 * merged conf or the number of rules. */
static int eff_line(struct eff_ctx *e, const struct kind_desc *kd,
		    const struct sel_cand *c, size_t n,
		    const struct sel_query *q, const char *what,
		    const struct sel_ctx *sctx)
{
	const struct sch_ids tags = model_ids(e->set);
	struct emit em;
	const char *names[64];
	size_t *order;
	uint8_t *conf;
	int got;

	if (kd->form == KIND_FORM_ROUTE) {
		order = calloc(n ? n : 1, sizeof(*order));
		if (!order)
			return -ENOMEM;
		got = sel_select(kd, c, n, q, sctx, order);
		if (got > 0) {
			fprintf(e->f, "%s %s:", kd->name, what);
			for (int i = 0; i < got; i++)
				fprintf(e->f, " %s[%u]", c[order[i]].name,
					c[order[i]].index);
			fprintf(e->f, " (%d rule%s)\n", got,
				got == 1 ? "" : "s");
		}
		free(order);
		return got < 0 ? got : 0;
	}
	conf = calloc(1, kd->val_size - kd->conf_off);
	if (!conf)
		return -ENOMEM;
	got = sel_effective(kd, c, n, q, sctx, conf, names, 64);
	if (got > 0) {
		fprintf(e->f, "%s %s:", kd->name, what);
		for (int i = 0; i < got && i < 64; i++)
			/* a policy with two entries that apply shows twice */
			if (!i || strcmp(names[i], names[i - 1]))
				fprintf(e->f, "%s %s", i ? "," : "", names[i]);
		fputc(' ', e->f);
		emit_init(&em, EMIT_JSON, emit_to_file, e->f);
		sch_emit(&em, kd->conf, conf, &tags);
		fputc('\n', e->f);
	}
	free(conf);
	return got < 0 ? got : 0;
}

/* Legacy kinds: the best source/destination match per destination. */
static void eff_legacy(struct eff_ctx *e, const struct kind_desc *kd,
		       const struct sel_cand *c, size_t n,
		       const struct sel_workload *self,
		       const struct sel_workload *dst, const char *what,
		       const struct sel_ctx *sctx)
{
	struct sel_legacy_rank rank;
	int best;

	if (kd->form == KIND_FORM_SELECTORS)
		best = sel_legacy_best(c, n, self, NULL, sctx, &rank);
	else
		best = sel_legacy_best(c, n, self, dst, sctx, &rank);
	if (best >= 0)
		fprintf(e->f, "%s %s: %s\n", kd->name, what, c[best].name);
}

/* The endpoint's identity and where it comes from. */
static void eff_identity(FILE *f, const struct model_set *set,
			 const struct ep_view *v)
{
	const struct model_obj *mid = identity_select(set, v->o);
	const char *id = v->id;

	const struct model_obj *ms = model_set_find(set, msvc_kind(),
						    v->service);

	fprintf(f, "  identity %s", id ? id : "(none)");
	if (mid)
		fprintf(f, " (MeshIdentity %s)", mid->name);
	/* Clients pass such an endpoint over (MF_ENDPOINT_F_UNLISTED). */
	if (ms && !msvc_identity_listed(set, ms, v))
		fprintf(f, " (not in MeshService %s's identities: no client "
			"uses this endpoint)", ms->name);
	fputc('\n', f);
}

/* The protocol the agent speaks to the endpoint's service (to each port
 * of a MeshService), and what decided it (msvc_port_flags()).  Returns 0
 * or -ENOMEM. */
static int eff_protocol(FILE *f, const struct model_set *set,
			const struct ep_view *v)
{
	const struct model_obj *s = model_set_find(set, MODEL_SERVICE,
						   v->service);
	const struct mf_mesh_service *m;
	struct ep_list eps;
	size_t n = 0, http = 0;
	uint32_t fl;
	int err;

	if (!s)
		s = model_set_find(set, msvc_kind(), v->service);
	if (!s)
		return 0;	/* validation rules it out */
	if (s->kind != MODEL_SERVICE) {
		m = (const void *)s->pol.recs;
		for (size_t p = 0; s->pol.n && p < m->nports; p++)
			fprintf(f, "%s port %u %s", p ? "," : "  protocol",
				m->ports[p].port,
				msvc_port_flags(s, p, 0, 0) &
				MF_SERVICE_F_HTTP ? "http" : "tcp");
		if (s->pol.n && m->nports)
			fputs(" (appProtocol)\n", f);
		return 0;
	}
	/* Left to the endpoints: all of the service's are asked. */
	err = ep_views(set, &eps);
	if (err)
		return err;
	for (size_t i = 0; i < eps.n; i++) {
		if (strcmp(eps.v[i].service, v->service))
			continue;
		n++;
		http += ep_http(set, &eps.v[i]);
	}
	ep_list_free(&eps);
	fl = msvc_port_flags(s, 0, n, http);
	fprintf(f, "  protocol %s%s\n",
		fl & MF_SERVICE_F_HTTP ? "http" : "tcp",
		fl & MF_SERVICE_F_PROTOCOL_SPEC ? " (spec.protocol)" :
		fl & MF_SERVICE_F_HTTP ? " (kuma.io/protocol of every "
					 "endpoint)" : "");
	return 0;
}

/* The Workload called @name, else the Dataplane that is an endpoint (a
 * gateway is none). */
static const struct model_obj *eff_endpoint(const struct model_set *set,
					    const char *name)
{
	const struct model_obj *o = model_set_find(set, MODEL_WORKLOAD, name);

	if (!o) {
		o = model_set_find(set, dp_kind(), name);
		if (o && (!dp_node(set, o) || dp_gateway_type(o)))
			o = NULL;
	}
	return o;
}

static const char *const eff_gw_protocols[] = {
	[MF_GW_HTTP] = "HTTP", [MF_GW_HTTPS] = "HTTPS", [MF_GW_TCP] = "TCP",
	[MF_GW_TLS] = "TLS",
};

/* The route records of a set that a gateway's listeners may take. */
/* The MeshGatewayRoutes of legacy form that route listener @gl: for HTTP
 * the http rules of each that selects it, for TCP the first by name that
 * has tcp rules and selects it. */
static void eff_gw_legacy(FILE *f, const struct gwa_cands *rc,
			  const struct gwa_listener *gl,
			  const struct sel_ctx *sctx)
{
	bool http = gwa_is_http(gl->l);
	const char *first = NULL;
	size_t got = 0;

	for (size_t i = 0; i < rc->ngwr; i++) {
		const struct mf_gateway_route *r = rc->gwr[i].val;

		if (kind_gwr_http(r) != http ||
		    (!http && !r->conf.tcp.nrules) ||
		    !gwa_gwr_selects(r, gl, sctx))
			continue;
		if (http)
			fprintf(f, "%s %s", got ? "," : " MeshGatewayRoute",
				rc->gwr[i].name);
		else if (!first || strcmp(rc->gwr[i].name, first) < 0)
			first = rc->gwr[i].name;
		got++;
	}
	if (first)
		fprintf(f, " MeshGatewayRoute %s", first);
	if (!got)
		fputs(" no route (404)", f);
	fputc('\n', f);
}

/* The MeshHTTPRoute or MeshTCPRoute records attached to listener @gl, in
 * merge order; for TCP, the one that decides.  Returns 0 or -ENOMEM. */
static int eff_gw_attached(FILE *f, const struct gwa_cands *rc,
			   const struct gwa_listener *gl,
			   const struct sel_ctx *sctx)
{
	bool http = gwa_is_http(gl->l);
	const struct kind_desc *kd = http ? &kind_mesh_http_route :
					    &kind_mesh_tcp_route;
	const struct sel_cand *c = http ? rc->http : rc->tcp;
	int m = gwa_attached(kd, c, http ? rc->nhttp : rc->ntcp, gl, sctx,
			     rc->order), tcp;

	if (m < 0)
		return m;
	if (m == 0) {
		fputs(" no route (404)\n", f);
		return 0;
	}
	fprintf(f, " %s", kd->name);
	for (int i = 0; i < m; i++)
		fprintf(f, " %s[%u]", c[rc->order[i]].name,
			c[rc->order[i]].index);
	fprintf(f, " (%d rule%s)", m, m == 1 ? "" : "s");
	tcp = http ? -1 : gwa_tcp_decider(c, rc->order, m);
	if (tcp >= 0)
		fprintf(f, ", %s[%u] decides", c[tcp].name, c[tcp].index);
	fputc('\n', f);
	return 0;
}

/* A builtin gateway instance: its identity, its MeshGateway and, per
 * listener, the routes that take its traffic (gw_attach.h: the agent's
 * rule).  Returns 0 or -ENOMEM. */
static int eff_gateway(FILE *f, const struct model_set *set,
		       const struct model_obj *o)
{
	const struct sel_ctx sctx = sel_model_ctx(set);
	struct gwa_cands rc = { 0 };
	const struct mf_tagset *tags;
	const struct mf_gateway *gw;
	struct sel_cand *gc;
	struct gwa_forms forms;
	struct gwi_view v;
	size_t ngc;
	int best, err = -ENOMEM;

	gwi_view(set, o, &v);
	tags = model_tags_get(set, v.tags);
	gc = sel_model_cands(set, model_kind_parse("MeshGateway"), &ngc);
	rc.gwr = sel_model_cands(set, model_kind_parse("MeshGatewayRoute"),
				 &rc.ngwr);
	rc.http = sel_model_cands(set, model_kind_parse("MeshHTTPRoute"),
				  &rc.nhttp);
	rc.tcp = sel_model_cands(set, model_kind_parse("MeshTCPRoute"),
				 &rc.ntcp);
	rc.order = calloc(rc.nhttp + rc.ntcp + 1, sizeof(*rc.order));
	if (!gc || !rc.gwr || !rc.http || !rc.tcp || !rc.order)
		goto out;
	fprintf(f, "Dataplane %s (gateway instance, node %s)\n", o->name,
		v.node);
	fprintf(f, "  identity %s\n", v.id[0] ? v.id : "(none)");
	err = 0;
	best = gwa_gateway(gc, ngc, o->name, tags, &sctx);
	if (best < 0) {
		fputs("  no MeshGateway selects it\n", f);
		goto out;
	}
	gw = gc[best].val;
	fprintf(f, "MeshGateway %s\n", gc[best].name);
	err = gwa_forms(&forms, &sctx, o->name, tags, gw, gc[best].name,
			rc.http, rc.nhttp, rc.tcp, rc.ntcp, rc.order);
	for (size_t i = 0; !err && i < gw->conf.nlisteners &&
			   i < MF_GW_LISTENERS_MAX; i++) {
		const struct mf_gw_listener *l = &gw->conf.listeners[i];
		struct gwa_listener gl;

		gwa_listener(&gl, &sctx, o->name, tags, gw, gc[best].name, l);
		fprintf(f, "listener %u %s%s%.*s:", l->port,
			l->protocol <= MF_GW_TLS ?
			eff_gw_protocols[l->protocol] : "?",
			l->hostname[0] ? " " : "",
			(int)sizeof(l->hostname), l->hostname);
		if (gwa_is_http(l) ? forms.http : forms.tcp)
			err = eff_gw_attached(f, &rc, &gl, &sctx);
		else
			eff_gw_legacy(f, &rc, &gl, &sctx);
	}
out:
	free(gc);
	gwa_cands_free(&rc);
	return err;
}

int effective_print(FILE *f, const struct model_set *set, const char *name,
		    const char *from)
{
	struct eff_ctx e = { set, f };
	const struct sel_ctx sctx = sel_model_ctx(set);
	const struct model_obj *w = eff_endpoint(set, name);
	struct sel_workload self, src;
	const struct model_obj **sorted;
	char id_buf[MF_SPIFFE_MAX];
	struct ep_view v;
	int err = 0;

	if (!w) {
		const struct model_obj *o = model_set_find(set, dp_kind(),
							   name);

		if (o && gwi_is(set, o) && !from)
			return eff_gateway(f, set, o);
	}
	if (!w || !ep_view(set, w, &v, id_buf) ||
	    (from && !model_set_find(set, MODEL_SERVICE, from) &&
	     !model_set_find(set, msvc_kind(), from)))
		return -ENOENT;
	self = (struct sel_workload){ .name = w->name, .service = v.service,
				      .tags = model_tags_get(set, v.tags),
				      .port = v.port };
	svcname_fill(set, &self);
	src = (struct sel_workload){ .service = from };
	svcname_fill(set, &src);
	sorted = calloc(set->n ? set->n : 1, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	model_set_sorted(set, sorted);

	fprintf(f, "%s %s (service %s, node %s)\n",
		v.dataplane ? "Dataplane" : "Workload", w->name, v.service,
		v.node);
	eff_identity(f, set, &v);
	err = eff_protocol(f, set, &v);
	for (int k = MODEL_GEN_FIRST; k < MODEL_KIND_MAX && !err; k++) {
		const struct kind_desc *kd = model_kind_desc(k);
		struct sel_cand *c;
		size_t n;

		c = sel_model_cands(set, k, &n);
		if (!c) {
			err = -ENOMEM;
			break;
		}
		for (size_t i = 0; n && i < set->n && !err; i++) {
			const struct model_obj *s = sorted[i];
			struct sel_workload dst = { .service = s->name };
			struct sel_query q = { .self = &self,
					       .section = MF_SEC_TO,
					       .peer = &dst };
			char what[MF_NAME_MAX + 8];

			if (!msvc_is_service(s))
				continue;
			dst.port = msvc_service_port(s);
			dst.service_port = dst.port;
			dst.service_ns = svcname_namespace(set, s);
			snprintf(what, sizeof(what), "to %s", s->name);
			if (kd->form == KIND_FORM_SOURCES ||
			    kd->form == KIND_FORM_SELECTORS) {
				if (kd->form == KIND_FORM_SOURCES)
					eff_legacy(&e, kd, c, n, &self, &dst,
						   what, &sctx);
				continue;
			}
			if (kd->form != KIND_FORM_DEFAULT &&
			    (kd->sections & KIND_SEC_TO))
				err = eff_line(&e, kd, c, n, &q, what, &sctx);
		}
		if (n && !err && kd->form == KIND_FORM_SELECTORS)
			eff_legacy(&e, kd, c, n, &self, NULL, "selects it",
				   &sctx);
		if (n && !err && kd->form == KIND_FORM_TO_FROM &&
		    (kd->sections & KIND_SEC_FROM)) {
			struct sel_query q = { .self = &self,
					       .section = MF_SEC_FROM,
					       .peer = from ? &src : NULL };
			char what[MF_NAME_MAX + 8];

			snprintf(what, sizeof(what), "from %s",
				 from ? from : "any");
			err = eff_line(&e, kd, c, n, &q, what, &sctx);
		}
		/* Inbound rules: those for any peer (a peer's identity
		 * would choose among the others). */
		if (n && !err && kd->form == KIND_FORM_TO_FROM &&
		    (kd->sections & KIND_SEC_RULES)) {
			struct sel_query q = { .self = &self,
					       .section = MF_SEC_RULE };

			err = eff_line(&e, kd, c, n, &q, "rules", &sctx);
		}
		if (n && !err && kd->form == KIND_FORM_DEFAULT) {
			struct sel_query q = { .self = &self,
					       .section = MF_SEC_DEFAULT };

			err = eff_line(&e, kd, c, n, &q, "default", &sctx);
		}
		free(c);
	}
	free(sorted);
	return err;
}

int ctl_effective(const struct ctl_opts *o, const struct ctl_args *a)
{
	const char *from = a->val[CTL_OPT_FROM], *name = a->words[0];
	struct txn t;
	int err, rc = CTL_EXIT_SYSTEM;

	err = ctl_txn_open(&t, o, false);
	if (err == -ENOENT) {
		ctl_err("nothing is applied under %s", o->bpf_root);
		rc = CTL_EXIT_INVALID;
		goto out;
	}
	if (err) {
		rc = ctl_txn_fail(&t, err, "effective", "nothing shown");
		goto out;
	}
	err = effective_print(stdout, &t.applied, name, from);
	if (err == -ENOENT) {
		bool wl = eff_endpoint(&t.applied, name);

		ctl_err(from && wl ? "no Service \"%s\" is applied" :
				     "no Workload or Dataplane (with "
				     DP_NODE_LABEL ") \"%s\" is applied",
			from && wl ? from : name);
		rc = CTL_EXIT_INVALID;
		goto out;
	}
	if (err || fflush(stdout) || ferror(stdout)) {
		ctl_err("cannot write the output");
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	txn_close(&t);
	return rc;
}
