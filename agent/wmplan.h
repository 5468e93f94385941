/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wmplan: what MeshMetric asks of this node's agent in one policy
 * snapshot (docs/policy.md, "Metrics (MeshMetric)").
 *
 * MeshMetric applies per proxy: its top-level targetRef selects
 * workloads and its `default` says, for each, which metrics (profiles,
 * exclude, include, includeUnused) and where (Prometheus backends: a port
 * and a path).  This agent is the proxy of every workload of its node,
 * so the plan lists the node's workloads that a MeshMetric selects, each
 * with the families it shows (a bitmask over enum wmstats_family,
 * decided once here: selectors, Regex ones included, are matched against
 * the family names when the plan is built, never per scrape), its
 * Prometheus ports and paths and its applications' URLs (appscrape.h);
 * and the distinct ports, which the admin endpoint listens on.  A workload no MeshMetric selects is in no plan:
 * its series are on no MeshMetric port (admin's own /metrics shows
 * everything, whatever the plan).
 *
 * Profiles: All is every family, Basic the golden signals
 * (WMPLAN_BASIC: requests, responses by class, request duration,
 * connections), None none; several add up; none given is All.  exclude
 * takes out the families it matches (Prefix, Regex: the whole name, as
 * an HTTP route's, kind_regex_compile(); Exact, Contains), include adds
 * those it matches whatever the profiles and exclude say.
 *
 * An OpenTelemetry backend: the workload's families are pushed to it,
 * every refreshInterval, in OTLP (otlp_metrics.h): at its endpoint over
 * gRPC, or to the MeshOpenTelemetryBackend its backendRef selects.
 *
 * A Prometheus backend's tls.mode is its port's: plain HTTP (Disabled),
 * TLS with the certificate the operator gave the agent (ProvidedTLS), or
 * mutual TLS with the node's mesh certificate (ActiveMTLSBackend); the
 * admin endpoint serves each port so (admin.h).  One port speaks one
 * way: when backends on a port disagree, the port takes the strictest
 * mode they ask for (ActiveMTLSBackend, then ProvidedTLS) and the others
 * are left off it (counted in tls_conflicts), so a backend that asks for
 * TLS is never answered without it, nor one of them with less than it
 * asked for.
 *
 * Built on the loop that serves the pages (admin's), when it first sees
 * a new snapshot; immutable after, and referenced by the pages that show
 * it (that loop's thread only: a plain count).
 */
#ifndef MF_AGENT_WMPLAN_H
#define MF_AGENT_WMPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"
#include "telw.h"
#include "wmstats.h"

struct policy;

/* Kuma's default Prometheus backend: port 5670, path /metrics. */
#define WMPLAN_DEFAULT_PORT	5670
#define WMPLAN_DEFAULT_PATH	"/metrics"

#define WMPLAN_BASIC ((1u << WMF_REQUESTS) | (1u << WMF_RESPONSES) |         \
		      (1u << WMF_DURATION) | (1u << WMF_CONNECTIONS))
#define WMPLAN_ALL ((1u << WMF_COUNT) - 1)

struct wmplan_prom {
	uint16_t port;
	uint8_t tls;			/* enum mf_metric_tls_mode, never 0 */
	char path[MF_PATH_MAX];		/* with its leading '/' */
};

/* An application whose own metrics join the workload's page. */
struct wmplan_app {
	char name[MF_NAME_MAX];
	char url[160];			/* http://address:port/path: address
					 * the workload's IP unless given */
};

/* Kuma's default refreshInterval of an OpenTelemetry backend: 1m. */
#define WMPLAN_OTEL_REFRESH_MS	60000

/* An OpenTelemetry backend: where the workload's metrics are pushed
 * (otlp_metrics.h), and how often. */
struct wmplan_otel {
	char url[TELW_TARGET_MAX];
	uint8_t kind;			/* TELW_OTLP_METRICS_GRPC or _HTTP */
	uint32_t refresh_ms;
};

struct wmplan_wl {
	char name[MF_NAME_MAX];		/* the workload (its series' label) */
	char mesh[MF_NAME_MAX];		/* ... and its other labels, for its
					 * applications' samples */
	char service[MF_NAME_MAX];
	uint8_t napps;
	struct wmplan_app apps[MF_METRIC_APPS_MAX];
	uint32_t families;		/* 1 << enum wmstats_family shown */
	bool include_unused;
	uint8_t nprom;
	struct wmplan_prom prom[MF_METRIC_BACKENDS_MAX];
	uint8_t notel;
	struct wmplan_otel otel[MF_METRIC_BACKENDS_MAX];
};

/* A port the plan's backends name, and how it speaks. */
struct wmplan_port {
	uint16_t port;
	uint8_t tls;			/* enum mf_metric_tls_mode, never 0 */
};

struct wmplan {
	int refs;
	size_t n;
	struct wmplan_wl *wl;		/* by name.  Owned */
	size_t nports;
	struct wmplan_port *ports;	/* distinct, ascending.  Owned */
	/* Backends left off their port for asking another TLS mode than
	 * the port's (above). */
	size_t tls_conflicts;
};

/* The families @sc (a MeshMetric's sidecar, NULL: not given) shows, as
 * the profiles, exclude and include decide. */
uint32_t wmplan_families(const struct mf_metric_sidecar *sc);

/*
 * The plan of snapshot @p for node @node (its Node object's name: the
 * workloads whose node address is that Node's).  Returns 0 and *out
 * (refcount 1; wmplan_put()), or -ENOMEM.  No MeshMetric, or no Node of
 * that name: an empty plan.
 */
int wmplan_build(struct wmplan **out, const struct policy *p,
		 const char *node);

struct wmplan *wmplan_get(struct wmplan *pl);
void wmplan_put(struct wmplan *pl);	/* NULL-safe */

/* Workload @name's entry, NULL: no MeshMetric selects it.  O(log n). */
const struct wmplan_wl *wmplan_find(const struct wmplan *pl,
				    const char *name);

/* Whether @w is served on @port at path @path (@plen bytes). */
bool wmplan_serves(const struct wmplan_wl *w, uint16_t port,
		   const char *path, size_t plen);

/* Whether the plan serves anything on @port. */
bool wmplan_has_port(const struct wmplan *pl, uint16_t port);

/* How the plan serves @port: enum mf_metric_tls_mode, 0 when it does
 * not. */
uint8_t wmplan_port_tls(const struct wmplan *pl, uint16_t port);

/* The mode's name in Kuma's spelling, for logs. */
const char *wmplan_tls_str(uint8_t mode);

#endif /* MF_AGENT_WMPLAN_H */
