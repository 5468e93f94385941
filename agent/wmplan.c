// SPDX-License-Identifier: Apache-2.0
/*
 * The MeshMetric plan of a snapshot (wmplan.h): each workload of this
 * node by the selection every kind with a `default` uses (router.h), its
 * families decided once, its Prometheus backends; the ports they name.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy/kinds.h"
#include "policy/select.h"
#include "router.h"
#include "otlp.h"
#include "polkinds.h"
#include "wmplan.h"

/* Whether selector @sel matches family name @name.  A Regex that does not
 * compile (apply refuses one) matches nothing. */
static bool wmplan_match(const struct mf_metric_selector *sel,
			 const char *name)
{
	regex_t re;
	bool hit;

	switch (sel->type) {
	case MF_METRIC_SEL_PREFIX:
		return !strncmp(name, sel->match, strlen(sel->match));
	case MF_METRIC_SEL_EXACT:
		return !strcmp(name, sel->match);
	case MF_METRIC_SEL_CONTAINS:
		return strstr(name, sel->match) != NULL;
	case MF_METRIC_SEL_REGEX:
		if (kind_regex_compile(&re, sel->match))
			return false;
		hit = !regexec(&re, name, 0, NULL, 0);
		regfree(&re);
		return hit;
	default:
		return false;
	}
}

/* The families (1 << family) whose names regex @re matches anywhere (a
 * regex that does not compile, which apply refuses, matches none). */
static uint32_t wmplan_regex_matching(const char *re)
{
	char any[sizeof(((struct mf_prom_envoy *)0)->filter_regex) + 8];
	uint32_t m = 0;
	regex_t rx;

	/* kind_regex_compile() matches the whole name, as a route's
	 * regex does; Envoy's stats filter searches in it. */
	snprintf(any, sizeof(any), ".*(%s).*", re);
	if (kind_regex_compile(&rx, any))
		return 0;
	for (unsigned int f = 0; f < WMF_COUNT; f++)
		if (!regexec(&rx, wmstats_family_name(f), 0, NULL, 0))
			m |= 1u << f;
	regfree(&rx);
	return m;
}

/* The families (1 << family) that one of selectors @sel (@n) matches. */
static uint32_t wmplan_matching(const struct mf_metric_selector *sel,
				size_t n)
{
	uint32_t m = 0;

	for (size_t i = 0; i < n && i < MF_METRIC_SELECTORS_MAX; i++)
		for (unsigned int f = 0; f < WMF_COUNT; f++)
			if (wmplan_match(&sel[i], wmstats_family_name(f)))
				m |= 1u << f;
	return m;
}

uint32_t wmplan_families(const struct mf_metric_sidecar *sc)
{
	const struct mf_metric_profiles *pr = sc ? &sc->profiles : NULL;
	uint32_t base = 0;

	if (!pr)
		return WMPLAN_ALL;
	if (!pr->nappend_profiles)
		base = WMPLAN_ALL;
	for (size_t i = 0; i < pr->nappend_profiles && i < 3; i++)
		switch (pr->append_profiles[i].name) {
		case MF_METRIC_PROFILE_ALL:
			base |= WMPLAN_ALL;
			break;
		case MF_METRIC_PROFILE_BASIC:
			base |= WMPLAN_BASIC;
			break;
		default:	/* None adds nothing */
			break;
		}
	base &= ~wmplan_matching(pr->exclude, pr->nexclude);
	return base | wmplan_matching(pr->include, pr->ninclude);
}

/* @conf's Prometheus backends into @w (Kuma's defaults where a field is
 * left out: port 5670, path /metrics, no TLS; a path without its leading
 * '/' gets one). */
static void wmplan_proms(struct wmplan_wl *w, const struct mf_metric_conf *conf)
{
	for (size_t i = 0; i < conf->nbackends && i < MF_METRIC_BACKENDS_MAX;
	     i++) {
		const struct mf_metric_backend *be = &conf->backends[i];
		struct wmplan_prom *pm = &w->prom[w->nprom];
		const char *path = be->prometheus.path;

		if (be->type != MF_METRIC_PROMETHEUS)
			continue;
		pm->port = be->prometheus.port ? be->prometheus.port :
						 WMPLAN_DEFAULT_PORT;
		pm->tls = be->prometheus.tls.mode ? be->prometheus.tls.mode :
						    MF_METRIC_TLS_DISABLED;
		if (!*path)
			path = WMPLAN_DEFAULT_PATH;
		snprintf(pm->path, sizeof(pm->path), "%s%s",
			 *path == '/' ? "" : "/", path);
		w->nprom++;
	}
}

/* An application of @ep's whose page is merged into its own: at @ep's IP
 * unless @addr is given, Kuma's default path /metrics. */
static void wmplan_app(struct wmplan_wl *w, const struct policy *p,
		       const struct mf_endpoint *ep, const char *name,
		       unsigned port, const char *path, const char *addr)
{
	struct wmplan_app *wa = &w->apps[w->napps];
	char ip[INET_ADDRSTRLEN];
	uint32_t a = policy_endpoint_ip(p, ep);
	int n;

	if (!port || w->napps >= MF_METRIC_APPS_MAX)
		return;
	if (!*path)
		path = WMPLAN_DEFAULT_PATH;
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	/* Kuma's sidecar reaches its application on the pod's own
	 * loopback; this agent, on the node, at the pod's address. */
	if (!*addr || !strncmp(addr, "127.", 4) ||
	    !strcmp(addr, "localhost") || !strcmp(addr, "::1"))
		addr = ip;
	n = snprintf(wa->url, sizeof(wa->url), "http://%s%s%s:%u%s%s",
		     strchr(addr, ':') ? "[" : "", addr,
		     strchr(addr, ':') ? "]" : "", port,
		     *path == '/' ? "" : "/", path);
	if (n < 0 || (size_t)n >= sizeof(wa->url))
		return;
	snprintf(wa->name, sizeof(wa->name), "%s", name);
	w->napps++;
}

/* @conf's applications into @w. */
static void wmplan_apps(struct wmplan_wl *w, const struct policy *p,
			const struct mf_endpoint *ep,
			const struct mf_metric_conf *conf)
{
	for (size_t i = 0; i < conf->napplications && i < MF_METRIC_APPS_MAX;
	     i++) {
		const struct mf_metric_app *app = &conf->applications[i];

		wmplan_app(w, p, ep, app->name, app->port, app->path,
			   app->address);
	}
}

/* The presence bit of mf_prom_aggregate.enabled (mesh_kuma.c's field
 * order: name, port, path, enabled, address). */
#define WMPLAN_AGG_ENABLED	(1u << 3)

/*
 * Kuma 2.x's Mesh-wide metrics (Mesh.metrics, its enabled prometheus
 * backend @pc) into @w, for a workload no MeshMetric selects, as Kuma's
 * proxies served them before MeshMetric: the families its envoy section
 * leaves (every one by default) with the pages of its aggregate
 * applications merged in, at the backend's port and path (Kuma's
 * defaults where left out); TLS as its tls.mode says, else plain with
 * skipMTLS, else the mesh's mTLS when the Mesh has it on (@mtls).
 */
static void wmplan_mesh_prom(struct wmplan_wl *w, const struct policy *p,
			     const struct mf_endpoint *ep,
			     const struct mf_prom_conf *pc, bool mtls)
{
	/* tls.mode's names: activeMTLSBackend, providedTLS, disabled. */
	static const uint8_t tls_of[] = {
		[1] = MF_METRIC_TLS_ACTIVE_MTLS,
		[2] = MF_METRIC_TLS_PROVIDED,
		[3] = MF_METRIC_TLS_DISABLED,
	};
	struct wmplan_prom *pm = &w->prom[0];
	const char *path = pc->path[0] ? pc->path : WMPLAN_DEFAULT_PATH;

	/* envoy: the families filterRegex matches (Envoy's stats filter:
	 * a match anywhere in the name), and the unused ones unless
	 * usedOnly (Kuma's default: every stat). */
	w->families = pc->envoy.filter_regex[0] ?
		      wmplan_regex_matching(pc->envoy.filter_regex) :
		      wmplan_families(NULL);
	w->include_unused = !pc->envoy.used_only;
	/* aggregate: the applications whose pages are merged into the
	 * workload's, each unless `enabled: false` (Kuma's default: on). */
	for (size_t i = 0; i < pc->naggregate && i < MF_PROM_AGGREGATE_MAX;
	     i++) {
		const struct mf_prom_aggregate *ag = &pc->aggregate[i];

		if ((ag->present & WMPLAN_AGG_ENABLED) && !ag->enabled)
			continue;
		wmplan_app(w, p, ep, ag->name, ag->port, ag->path,
			   ag->address);
	}
	pm->port = pc->port ? (uint16_t)pc->port : WMPLAN_DEFAULT_PORT;
	if (pc->tls.mode && pc->tls.mode < sizeof(tls_of))
		pm->tls = tls_of[pc->tls.mode];
	else
		pm->tls = pc->skip_mtls || !mtls ? MF_METRIC_TLS_DISABLED :
						   MF_METRIC_TLS_ACTIVE_MTLS;
	/* mfctl took only a path that starts with '/'. */
	snprintf(pm->path, sizeof(pm->path), "%s", path);
	w->nprom = 1;
}

/* @conf's OpenTelemetry backends into @w: its endpoint over gRPC, else
 * the MeshOpenTelemetryBackend its backendRef selects in @p (when a
 * collector is named for it: otlp_backend_url()), over its protocol;
 * pushed every refreshInterval (Kuma's default when left out). */
static void wmplan_otels(struct wmplan_wl *w, const struct policy *p,
			 const struct mf_metric_conf *conf)
{
	for (size_t i = 0; i < conf->nbackends && i < MF_METRIC_BACKENDS_MAX;
	     i++) {
		const struct mf_metric_otel *ot =
			&conf->backends[i].open_telemetry;
		struct wmplan_otel *wo = &w->otel[w->notel];
		const struct mf_otel_backend *ob = NULL;
		enum collector_proto proto;

		if (conf->backends[i].type != MF_METRIC_OPENTELEMETRY)
			continue;
		if (!ot->endpoint[0] && ot->backend_ref.present)
			ob = polkinds_otel_backend(policy_kinds(p),
						   &ot->backend_ref);
		if (ot->endpoint[0])
			proto = otlp_endpoint_url(ot->endpoint,
						  &otlp_metrics_signal, wo->url,
						  sizeof(wo->url));
		else if (!ob || otlp_backend_url(ob, &otlp_metrics_signal,
						 wo->url, sizeof(wo->url),
						 &proto))
			continue;
		wo->kind = proto == COLLECTOR_PROTOBUF ?
			   TELW_OTLP_METRICS_HTTP : TELW_OTLP_METRICS_GRPC;
		wo->refresh_ms = ot->refresh_interval ? ot->refresh_interval :
				 WMPLAN_OTEL_REFRESH_MS;
		w->notel++;
	}
}


static int wmplan_cmp_wl(const void *a, const void *b)
{
	return strcmp(((const struct wmplan_wl *)a)->name,
		      ((const struct wmplan_wl *)b)->name);
}

static int wmplan_cmp_port(const void *a, const void *b)
{
	return (int)((const struct wmplan_port *)a)->port -
	       (int)((const struct wmplan_port *)b)->port;
}

/* The distinct ports of @pl's workloads into pl->ports, each with the
 * strictest TLS mode its backends ask for (the enum's order); then the
 * backends that ask for another left off their port. */
static int wmplan_ports(struct wmplan *pl)
{
	size_t n = 0;

	pl->ports = calloc(pl->n * MF_METRIC_BACKENDS_MAX + 1,
			   sizeof(*pl->ports));
	if (!pl->ports)
		return -ENOMEM;
	for (size_t i = 0; i < pl->n; i++)
		for (size_t k = 0; k < pl->wl[i].nprom; k++)
			pl->ports[n++] = (struct wmplan_port){
				.port = pl->wl[i].prom[k].port,
				.tls = pl->wl[i].prom[k].tls,
			};
	qsort(pl->ports, n, sizeof(*pl->ports), wmplan_cmp_port);
	for (size_t i = 0; i < n; i++) {
		struct wmplan_port *last = pl->nports ?
					   &pl->ports[pl->nports - 1] : NULL;

		if (last && last->port == pl->ports[i].port) {
			if (pl->ports[i].tls > last->tls)
				last->tls = pl->ports[i].tls;
			continue;
		}
		pl->ports[pl->nports++] = pl->ports[i];
	}
	for (size_t i = 0; i < pl->n; i++) {
		struct wmplan_wl *w = &pl->wl[i];
		uint8_t kept = 0;

		for (size_t k = 0; k < w->nprom; k++) {
			if (w->prom[k].tls != wmplan_port_tls(pl,
							      w->prom[k].port)) {
				pl->tls_conflicts++;
				continue;
			}
			w->prom[kept++] = w->prom[k];
		}
		w->nprom = kept;
	}
	return 0;
}

int wmplan_build(struct wmplan **out, const struct policy *p,
		 const char *node)
{
	const struct mf_node *self = node ? policy_node(p, node) : NULL;
	size_t neps = policy_endpoint_count(p);
	struct mf_metric_conf *conf = NULL;
	const struct mf_prom_conf *mesh_prom;
	bool mtls;
	struct wmplan *pl;
	int err = -ENOMEM;

	*out = NULL;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	pl->refs = 1;
	mesh_prom = policy_mesh_prometheus(p, &mtls);
	if (!self || (!router_count(p, &kind_mesh_metric) && !mesh_prom)) {
		err = wmplan_ports(pl);
		goto out;
	}
	conf = malloc(sizeof(*conf));
	pl->wl = calloc(neps ? neps : 1, sizeof(*pl->wl));
	if (!conf || !pl->wl)
		goto out;
	for (size_t i = 0; i < neps; i++) {
		const struct mf_endpoint *ep = policy_endpoint_at(p, i);
		struct sel_workload view;
		const struct sel_query q = { .self = &view,
					     .section = MF_SEC_DEFAULT };
		struct wmplan_wl *w = &pl->wl[pl->n];
		const struct mf_service *svc;
		const char *selected;

		if (!ep || (ep->flags & MF_ENDPOINT_F_EXTERNAL) ||
		    memcmp(ep->node_ip, self->ip, sizeof(self->ip)))
			continue;
		router_view(p, ep, &view);
		memset(conf, 0, sizeof(*conf));
		selected = router_effective(p, &kind_mesh_metric, &q, conf);
		if (!selected && !mesh_prom)
			continue;
		memset(w, 0, sizeof(*w));
		snprintf(w->name, sizeof(w->name), "%s", ep->name);
		snprintf(w->mesh, sizeof(w->mesh), "%s", policy_mesh(p));
		svc = policy_service_by_id(p, ep->service_id);
		snprintf(w->service, sizeof(w->service), "%s",
			 svc ? svc->name : "");
		/* A MeshMetric that selects the workload replaces the
		 * Mesh's metrics for it. */
		if (!selected) {
			wmplan_mesh_prom(w, p, ep, mesh_prom, mtls);
			pl->n++;
			continue;
		}
		wmplan_apps(w, p, ep, conf);
		w->families = wmplan_families(conf->sidecar.present ?
					      &conf->sidecar : NULL);
		w->include_unused = conf->sidecar.include_unused;
		wmplan_proms(w, conf);
		wmplan_otels(w, p, conf);
		pl->n++;
	}
	qsort(pl->wl, pl->n, sizeof(*pl->wl), wmplan_cmp_wl);
	err = wmplan_ports(pl);
out:
	free(conf);
	if (err) {
		wmplan_put(pl);
		return err;
	}
	*out = pl;
	return 0;
}

struct wmplan *wmplan_get(struct wmplan *pl)
{
	pl->refs++;
	return pl;
}

void wmplan_put(struct wmplan *pl)
{
	if (!pl || --pl->refs > 0)
		return;
	free(pl->wl);
	free(pl->ports);
	free(pl);
}

const struct wmplan_wl *wmplan_find(const struct wmplan *pl,
				    const char *name)
{
	struct wmplan_wl key;

	if (!pl->n || strlen(name) >= sizeof(key.name))
		return NULL;
	strcpy(key.name, name);
	return bsearch(&key, pl->wl, pl->n, sizeof(*pl->wl), wmplan_cmp_wl);
}

bool wmplan_serves(const struct wmplan_wl *w, uint16_t port,
		   const char *path, size_t plen)
{
	for (size_t k = 0; k < w->nprom; k++)
		if (w->prom[k].port == port &&
		    strlen(w->prom[k].path) == plen &&
		    !memcmp(w->prom[k].path, path, plen))
			return true;
	return false;
}

bool wmplan_has_port(const struct wmplan *pl, uint16_t port)
{
	return wmplan_port_tls(pl, port) != 0;
}

uint8_t wmplan_port_tls(const struct wmplan *pl, uint16_t port)
{
	const struct wmplan_port key = { .port = port }, *p;

	p = bsearch(&key, pl->ports, pl->nports, sizeof(*pl->ports),
		    wmplan_cmp_port);
	return p ? p->tls : 0;
}

const char *wmplan_tls_str(uint8_t mode)
{
	switch (mode) {
	case MF_METRIC_TLS_DISABLED:
		return "Disabled";
	case MF_METRIC_TLS_PROVIDED:
		return "ProvidedTLS";
	case MF_METRIC_TLS_ACTIVE_MTLS:
		return "ActiveMTLSBackend";
	default:
		return "none";
	}
}
