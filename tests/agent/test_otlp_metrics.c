// SPDX-License-Identifier: Apache-2.0
/*
 * A workload's MeshMetric families as OTLP metrics (agent/otlp_metrics.c),
 * as a collector unpacks them: the resource (service, mesh, workload),
 * one metric per family the workload shows, named as on its page; sums of
 * one point per series (direction and peer service as attributes, the
 * status class for responses), cumulative and monotonic, with the start
 * and now given; the duration as a histogram with the page's bounds and
 * per-bucket counts; series never updated left out unless includeUnused;
 * nothing to send when nothing was counted.
 */
#include "harness/test.h"
#include "harness/otlp_harness.h"
#include "../../agent/l7stats.h"
#include "../../agent/otlp_metrics.h"
#include "../../agent/wmplan.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest
	mreq_t;
typedef Opentelemetry__Proto__Metrics__V1__Metric metric_t;

static const metric_t *metric(const mreq_t *q, const char *name)
{
	const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
		q->resource_metrics[0]->scope_metrics[0];

	for (size_t i = 0; i < sm->n_metrics; i++)
		if (!strcmp(sm->metrics[i]->name, name))
			return sm->metrics[i];
	return NULL;
}

/* Two series of w1: outbound to web with three requests (200, 200, 503)
 * and bytes; inbound from client, never updated. */
static void series_of(struct wmstats_series *s)
{
	memset(s, 0, 2 * sizeof(*s));
	for (int i = 0; i < 2; i++) {
		snprintf(s[i].mesh, sizeof(s[i].mesh), "default");
		snprintf(s[i].workload, sizeof(s[i].workload), "w1");
		snprintf(s[i].service, sizeof(s[i].service), "client");
	}
	snprintf(s[0].peer, sizeof(s[0].peer), "web");
	s[0].dir = WMSTATS_OUTBOUND;
	wmstats_conn(&s[0], false);
	wmstats_request(&s[0], 200, 0.002);
	wmstats_request(&s[0], 200, 0.002);
	wmstats_request(&s[0], 503, 2.5);
	wmstats_bytes(&s[0], false, 300, 7000);
	snprintf(s[1].peer, sizeof(s[1].peer), "client");
	s[1].dir = WMSTATS_INBOUND;
}

static bool test_pack(void)
{
	struct wmplan_wl w = { .name = "w1", .mesh = "default",
			       .service = "client",
			       .families = WMPLAN_ALL &
					   ~(1u << WMF_TCP_SENT) };
	struct wmstats_series s[2];
	const metric_t *m;
	mreq_t *q = NULL;
	uint8_t *b = NULL;
	size_t n = 0, nb = 0;
	bool ok;

	series_of(s);
	ok = ASSERT_EQ(otlp_metrics_pack(&w, s, 2, 1000, 2000, &b, &n), 0) &&
	     ASSERT_TRUE((q = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(NULL, n, b))) &&
	     ASSERT_EQ(q->n_resource_metrics, 1) &&
	     ASSERT_STREQ(otlp_attr(q->resource_metrics[0]->resource->attributes,
			       q->resource_metrics[0]->resource->n_attributes,
			       "service.name"), "client") &&
	     ASSERT_STREQ(otlp_attr(q->resource_metrics[0]->resource->attributes,
			       q->resource_metrics[0]->resource->n_attributes,
			       "workload"), "w1") &&
	     ASSERT_STREQ(q->resource_metrics[0]->scope_metrics[0]->scope->name,
			  "meshforge");
	free(b);
	if (!ok) {
		if (q)
			opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(q, NULL);
		return false;
	}
	/* Requests: one point, the outbound series (the inbound one was
	 * never updated), cumulative from the start given. */
	m = metric(q, "meshforge_workload_requests_total");
	ok = ASSERT_TRUE(m) && ASSERT_TRUE(m->sum) &&
	     ASSERT_EQ(m->sum->aggregation_temporality, 2) &&
	     ASSERT_TRUE(m->sum->is_monotonic) &&
	     ASSERT_EQ(m->sum->n_data_points, 1) &&
	     ASSERT_EQ(m->sum->data_points[0]->as_int, 3) &&
	     ASSERT_EQ(m->sum->data_points[0]->start_time_unix_nano, 1000) &&
	     ASSERT_EQ(m->sum->data_points[0]->time_unix_nano, 2000) &&
	     ASSERT_STREQ(otlp_attr(m->sum->data_points[0]->attributes,
			       m->sum->data_points[0]->n_attributes,
			       "direction"), "outbound") &&
	     ASSERT_STREQ(otlp_attr(m->sum->data_points[0]->attributes,
			       m->sum->data_points[0]->n_attributes,
			       "destination_service"), "web");
	/* Responses by class: 2xx 2, 5xx 1. */
	m = ok ? metric(q, "meshforge_workload_responses_total") : NULL;
	ok = ok && ASSERT_TRUE(m) && ASSERT_EQ(m->sum->n_data_points, 2) &&
	     ASSERT_STREQ(otlp_attr(m->sum->data_points[0]->attributes,
			       m->sum->data_points[0]->n_attributes, "class"),
			  "2xx") &&
	     ASSERT_EQ(m->sum->data_points[0]->as_int, 2) &&
	     ASSERT_STREQ(otlp_attr(m->sum->data_points[1]->attributes,
			       m->sum->data_points[1]->n_attributes, "class"),
			  "5xx") &&
	     ASSERT_EQ(m->sum->data_points[1]->as_int, 1);
	/* The duration: a histogram of the page's bounds, per bucket. */
	m = ok ? metric(q, "meshforge_workload_request_duration_seconds") :
		 NULL;
	ok = ok && ASSERT_TRUE(m) && ASSERT_TRUE(m->histogram) &&
	     ASSERT_STREQ(m->unit, "s") &&
	     ASSERT_EQ(m->histogram->n_data_points, 1) &&
	     ASSERT_EQ(m->histogram->data_points[0]->count, 3) &&
	     ASSERT_TRUE(m->histogram->data_points[0]->sum > 2.5 &&
			 m->histogram->data_points[0]->sum < 2.51) &&
	     ASSERT_EQ(m->histogram->data_points[0]->n_explicit_bounds,
		       L7STATS_BUCKETS - 1) &&
	     ASSERT_EQ(m->histogram->data_points[0]->n_bucket_counts,
		       L7STATS_BUCKETS);
	for (size_t k = 0; ok && k < L7STATS_BUCKETS; k++) {
		nb += m->histogram->data_points[0]->bucket_counts[k];
		if (k < L7STATS_BUCKETS - 1)
			ok = ASSERT_TRUE(m->histogram->data_points[0]
						 ->explicit_bounds[k] ==
					 l7stats_bounds[k]);
	}
	ok = ok && ASSERT_EQ(nb, 3);
	/* Bytes; a family the MeshMetric does not show, and families with
	 * no point (L4), are not there. */
	m = ok ? metric(q, "meshforge_workload_received_bytes_total") : NULL;
	ok = ok && ASSERT_TRUE(m) && ASSERT_EQ(m->sum->data_points[0]->as_int,
					      7000) &&
	     ASSERT_STREQ(m->unit, "By") &&
	     ASSERT_TRUE(!metric(q, "meshforge_workload_tcp_sent_bytes_total")) &&
	     ASSERT_TRUE(!metric(q, "meshforge_workload_tcp_connections_total"));
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(q, NULL);
	q = NULL;

	/* includeUnused: the inbound series too, with its zeros. */
	w.include_unused = true;
	ok = ok && ASSERT_EQ(otlp_metrics_pack(&w, s, 2, 1000, 2000, &b, &n),
			     0) &&
	     ASSERT_TRUE((q = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(NULL, n, b))) &&
	     ASSERT_TRUE((m = metric(q, "meshforge_workload_requests_total"))) &&
	     ASSERT_EQ(m->sum->n_data_points, 2) &&
	     ASSERT_STREQ(otlp_attr(m->sum->data_points[1]->attributes,
			       m->sum->data_points[1]->n_attributes,
			       "source_service"), "client") &&
	     ASSERT_EQ(m->sum->data_points[1]->as_int, 0);
	free(b);
	if (q)
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(q, NULL);
	/* Nothing counted, or no family shown: nothing to send. */
	w.include_unused = false;
	ok = ok && ASSERT_EQ(otlp_metrics_pack(&w, s + 1, 1, 0, 1, &b, &n),
			     -ENODATA);
	w.families = 0;
	ok = ok && ASSERT_EQ(otlp_metrics_pack(&w, s, 2, 0, 1, &b, &n),
			     -ENODATA);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_pack);
	TEST_MAIN_END();
}
