// SPDX-License-Identifier: Apache-2.0
/*
 * The per-workload counters of a loop (wmstats.h): one open-addressing
 * table, linear probing on an FNV-1a hash of the labels, as l7stats.c
 * keeps its own.  Slots are never removed, so a probe ends at the first
 * unused one.  A new slot's labels are written before the first byte of
 * its workload name, stored last with release order: another thread
 * that sees the slot used sees it whole.
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "wmstats.h"

static const struct {
	const char *name, *type, *help;
} wmstats_families[WMF_COUNT] = {
	[WMF_REQUESTS] = { "meshforge_workload_requests_total", "counter",
		"HTTP requests of the workload, answered." },
	[WMF_RESPONSES] = { "meshforge_workload_responses_total", "counter",
		"HTTP responses of the workload's requests, by status class." },
	[WMF_DURATION] = { "meshforge_workload_request_duration_seconds",
		"histogram",
		"Time from a request's first byte to the end of its answer." },
	[WMF_CONNECTIONS] = { "meshforge_workload_connections_total",
		"counter", "Connections of the workload, L4 and HTTP." },
	[WMF_SENT] = { "meshforge_workload_sent_bytes_total", "counter",
		"Bytes the workload sent, L4 and HTTP." },
	[WMF_RECEIVED] = { "meshforge_workload_received_bytes_total",
		"counter", "Bytes the workload received, L4 and HTTP." },
	[WMF_TCP_CONNECTIONS] = { "meshforge_workload_tcp_connections_total",
		"counter", "L4 connections of the workload (a service that is not HTTP)." },
	[WMF_TCP_SENT] = { "meshforge_workload_tcp_sent_bytes_total",
		"counter", "Bytes the workload sent on its L4 connections." },
	[WMF_TCP_RECEIVED] = { "meshforge_workload_tcp_received_bytes_total",
		"counter", "Bytes the workload received on its L4 connections." },
};

const char *wmstats_family_name(enum wmstats_family f)
{
	return (unsigned int)f < WMF_COUNT ? wmstats_families[f].name : "?";
}

const char *wmstats_family_type(enum wmstats_family f)
{
	return (unsigned int)f < WMF_COUNT ? wmstats_families[f].type : "?";
}

const char *wmstats_family_help(enum wmstats_family f)
{
	return (unsigned int)f < WMF_COUNT ? wmstats_families[f].help : "?";
}

const char *const wmstats_classes[6] = { "other", "1xx", "2xx", "3xx",
					 "4xx", "5xx" };

uint64_t wmstats_value(const struct wmstats_series *x, enum wmstats_family f)
{
	switch (f) {
	case WMF_REQUESTS:
		return x->requests;
	case WMF_CONNECTIONS:
		return x->conns;
	case WMF_SENT:
		return x->sent;
	case WMF_RECEIVED:
		return x->received;
	case WMF_TCP_CONNECTIONS:
		return x->tcp_conns;
	case WMF_TCP_SENT:
		return x->tcp_sent;
	case WMF_TCP_RECEIVED:
		return x->tcp_received;
	default:
		return 0;
	}
}

const char *wmstats_dir_str(enum wmstats_dir d)
{
	return d == WMSTATS_INBOUND ? "inbound" : "outbound";
}

static uint64_t wmstats_hash(const char *mesh, const char *workload,
			     const char *service, enum wmstats_dir dir,
			     const char *peer)
{
	uint64_t h = hash_fnv_str(HASH_FNV_INIT, mesh);
	uint8_t d = (uint8_t)dir;

	h = hash_fnv_str(h, workload);
	h = hash_fnv_str(h, service);
	h = hash_fnv(h, &d, 1);
	return hash_fnv_str(h, peer);
}

/* Whether used slot @x has these labels. */
static bool wmstats_is(const struct wmstats_series *x, const char *mesh,
		       const char *workload, const char *service,
		       enum wmstats_dir dir, const char *peer)
{
	return x->dir == (uint8_t)dir && !strcmp(x->workload, workload) &&
	       !strcmp(x->peer, peer) && !strcmp(x->service, service) &&
	       !strcmp(x->mesh, mesh);
}

/* Fills unused slot @x with these labels and publishes it; false (the
 * slot left unused) when one does not fit. */
static bool wmstats_fill(struct wmstats_series *x, const char *mesh,
			 const char *workload, const char *service,
			 enum wmstats_dir dir, const char *peer)
{
	size_t wl = strlen(workload);

	if (strlen(mesh) >= sizeof(x->mesh) || wl >= sizeof(x->workload) ||
	    !wl || strlen(service) >= sizeof(x->service) ||
	    strlen(peer) >= sizeof(x->peer))
		return false;
	strcpy(x->mesh, mesh);
	strcpy(x->service, service);
	strcpy(x->peer, peer);
	x->dir = (uint8_t)dir;
	memcpy(x->workload + 1, workload + 1, wl);
	__atomic_store_n(&x->workload[0], workload[0], __ATOMIC_RELEASE);
	return true;
}

struct wmstats_series *wmstats_series(struct wmstats *s, const char *mesh,
				      const char *workload,
				      const char *service,
				      enum wmstats_dir dir, const char *peer)
{
	struct wmstats_series *t = s->series;
	uint64_t h;

	mesh = mesh ? mesh : "";
	service = service ? service : "";
	peer = peer && *peer ? peer : "-";
	if (!workload || !*workload)
		goto drop;
	if (!t) {
		t = calloc(WMSTATS_SERIES_MAX, sizeof(*t));
		if (!t)
			goto drop;
		/* Published whole, zeroed first: the page reads it from
		 * another loop's thread. */
		__atomic_store_n(&s->series, t, __ATOMIC_RELEASE);
	}
	h = wmstats_hash(mesh, workload, service, dir, peer);
	for (size_t i = 0; i < WMSTATS_SERIES_MAX; i++) {
		struct wmstats_series *x = &t[(h + i) % WMSTATS_SERIES_MAX];

		if (!x->workload[0]) {
			/* Keep a probe short: a table this full is one a
			 * label explosion filled. */
			if (s->nseries >= WMSTATS_SERIES_MAX * 3 / 4 ||
			    !wmstats_fill(x, mesh, workload, service, dir,
					  peer))
				goto drop;
			s->nseries++;
			return x;
		}
		if (wmstats_is(x, mesh, workload, service, dir, peer))
			return x;
	}
drop:
	s->dropped++;
	return NULL;
}

const struct wmstats_series *wmstats_find(const struct wmstats *s,
					  const struct wmstats_series *x)
{
	const struct wmstats_series *t =
		__atomic_load_n(&s->series, __ATOMIC_ACQUIRE);
	uint64_t h;

	if (!t)
		return NULL;
	h = wmstats_hash(x->mesh, x->workload, x->service,
			 (enum wmstats_dir)x->dir, x->peer);
	for (size_t i = 0; i < WMSTATS_SERIES_MAX; i++) {
		const struct wmstats_series *y =
			&t[(h + i) % WMSTATS_SERIES_MAX];

		if (!__atomic_load_n(&y->workload[0], __ATOMIC_ACQUIRE))
			return NULL;
		if (wmstats_is(y, x->mesh, x->workload, x->service,
			       (enum wmstats_dir)x->dir, x->peer))
			return y;
	}
	return NULL;
}

void wmstats_request(struct wmstats_series *x, int status, double seconds)
{
	size_t b = 0;

	x->requests++;
	x->by_class[status >= 100 && status < 600 ? status / 100 : 0]++;
	while (b < L7STATS_BUCKETS - 1 && seconds > l7stats_bounds[b])
		b++;
	x->buckets[b]++;
	x->dcount++;
	x->dsum += seconds;
}

bool wmstats_used(const struct wmstats_series *x, enum wmstats_family f)
{
	switch (f) {
	case WMF_REQUESTS:
	case WMF_RESPONSES:
		return x->requests != 0;
	case WMF_DURATION:
		return x->dcount != 0;
	case WMF_CONNECTIONS:
		return x->conns != 0;
	case WMF_SENT:
		return x->sent != 0;
	case WMF_RECEIVED:
		return x->received != 0;
	case WMF_TCP_CONNECTIONS:
		return x->tcp_conns != 0;
	case WMF_TCP_SENT:
		return x->tcp_sent != 0;
	case WMF_TCP_RECEIVED:
		return x->tcp_received != 0;
	default:
		return false;
	}
}

void wmstats_free(struct wmstats *s)
{
	free(s->series);
	s->series = NULL;
	s->nseries = 0;
}
