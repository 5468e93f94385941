// SPDX-License-Identifier: Apache-2.0
/*
 * A workload's families as OTLP metrics (otlp_metrics.h), packed with
 * libprotobuf-c from the messages protoc-c made of proto/.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "l7stats.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "otlp_metrics.h"
#include "wmplan.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue om_any;
typedef Opentelemetry__Proto__Common__V1__KeyValue om_kv;
typedef Opentelemetry__Proto__Metrics__V1__Metric om_metric;
typedef Opentelemetry__Proto__Metrics__V1__Sum om_sum;
typedef Opentelemetry__Proto__Metrics__V1__Histogram om_hist;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint om_num;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint om_hpt;

/* AggregationTemporality: the counters only grow from the start. */
#define OM_CUMULATIVE	2
/* Attributes of a data point at most: direction, peer, class. */
#define OM_PT_ATTRS	3
/* Data points of one series at most: one per status class. */
#define OM_PT_MAX	6

/* What one request's messages take, in one allocation each: protobuf-c
 * packs from structs that point at each other. */
struct om_msgs {
	om_metric metric[WMF_COUNT], *metricp[WMF_COUNT];
	om_sum sum[WMF_COUNT];
	om_hist hist;
	om_num *num;			/* [n * OM_PT_MAX * WMF_COUNT] */
	om_num **nump;
	om_hpt *hpt;			/* [n] */
	om_hpt **hptp;
	om_kv *kv;			/* [points * OM_PT_ATTRS] */
	om_kv **kvp;
	om_any *val;
	size_t nkv;
	om_kv res_kv[3], *res_kvp[3];
	om_any res_val[3];
};

/* Attribute @key = @v (a string of the series, kept as long as the
 * request) appended to the list at @list (*@count of them). */
static void om_attr(struct om_msgs *m, om_kv ***list, size_t *count,
		    const char *key, const char *v)
{
	om_kv *kv = &m->kv[m->nkv];
	om_any *a = &m->val[m->nkv];

	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(a);
	a->value_case =
		OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	a->string_value = (char *)v;
	kv->key = (char *)key;
	kv->value = a;
	m->kvp[m->nkv] = kv;
	if (!*count)
		*list = &m->kvp[m->nkv];
	(*count)++;
	m->nkv++;
}

/* A data point's series attributes: direction and peer service. */
static void om_series_attrs(struct om_msgs *m, om_kv ***list, size_t *count,
			    const struct wmstats_series *x)
{
	om_attr(m, list, count, "direction",
		wmstats_dir_str((enum wmstats_dir)x->dir));
	om_attr(m, list, count, x->dir == WMSTATS_INBOUND ?
		"source_service" : "destination_service",
		x->peer[0] ? x->peer : "-");
}

int otlp_metrics_pack(const struct wmplan_wl *w,
		      const struct wmstats_series *s, size_t n,
		      uint64_t start_ns, uint64_t now_ns, uint8_t **out,
		      size_t *len)
{
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest req;
	Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm, *rmp = &rm;
	Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm, *smp = &sm;
	Opentelemetry__Proto__Common__V1__InstrumentationScope scope;
	Opentelemetry__Proto__Resource__V1__Resource res;
	size_t npts = (n ? n : 1) * OM_PT_MAX * WMF_COUNT, nnum = 0;
	struct om_msgs *m = calloc(1, sizeof(*m));
	int err = -ENOMEM;
	size_t size;

	*out = NULL;
	*len = 0;
	if (!m)
		return -ENOMEM;
	m->num = calloc(npts, sizeof(*m->num));
	m->nump = calloc(npts, sizeof(*m->nump));
	m->hpt = calloc(n ? n : 1, sizeof(*m->hpt));
	m->hptp = calloc(n ? n : 1, sizeof(*m->hptp));
	m->kv = calloc(npts * OM_PT_ATTRS, sizeof(*m->kv));
	m->kvp = calloc(npts * OM_PT_ATTRS, sizeof(*m->kvp));
	m->val = calloc(npts * OM_PT_ATTRS, sizeof(*m->val));
	if (!m->num || !m->nump || !m->hpt || !m->hptp || !m->kv || !m->kvp ||
	    !m->val)
		goto out;

	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(&req);
	opentelemetry__proto__metrics__v1__resource_metrics__init(&rm);
	opentelemetry__proto__metrics__v1__scope_metrics__init(&sm);
	opentelemetry__proto__common__v1__instrumentation_scope__init(&scope);
	opentelemetry__proto__resource__v1__resource__init(&res);
	/* The resource: the workload. */
	{
		const char *keys[3] = { "service.name", "mesh", "workload" };
		const char *vals[3] = { w->service, w->mesh, w->name };

		for (int i = 0; i < 3; i++) {
			opentelemetry__proto__common__v1__key_value__init(&m->res_kv[i]);
			opentelemetry__proto__common__v1__any_value__init(&m->res_val[i]);
			m->res_val[i].value_case =
				OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
			m->res_val[i].string_value = (char *)vals[i];
			m->res_kv[i].key = (char *)keys[i];
			m->res_kv[i].value = &m->res_val[i];
			m->res_kvp[i] = &m->res_kv[i];
		}
		res.attributes = m->res_kvp;
		res.n_attributes = 3;
	}
	scope.name = "meshforge";

	for (int f = 0; f < WMF_COUNT; f++) {
		om_metric *mt = &m->metric[sm.n_metrics];
		size_t first = nnum;

		if (!(w->families & (1u << f)))
			continue;
		opentelemetry__proto__metrics__v1__metric__init(mt);
		mt->name = (char *)wmstats_family_name((enum wmstats_family)f);
		mt->description =
			(char *)wmstats_family_help((enum wmstats_family)f);
		if (f == WMF_DURATION) {
			om_hist *h = &m->hist;

			opentelemetry__proto__metrics__v1__histogram__init(h);
			h->aggregation_temporality = OM_CUMULATIVE;
			h->data_points = m->hptp;
			for (size_t i = 0; i < n; i++) {
				om_hpt *p = &m->hpt[h->n_data_points];

				if (!w->include_unused &&
				    !wmstats_used(&s[i], WMF_DURATION))
					continue;
				opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
				om_series_attrs(m, &p->attributes,
						&p->n_attributes, &s[i]);
				p->start_time_unix_nano = start_ns;
				p->time_unix_nano = now_ns;
				p->count = s[i].dcount;
				p->sum = s[i].dsum;
				/* Per bucket, not cumulative, as OTLP counts
				 * them (and wmstats keeps them). */
				p->bucket_counts = (uint64_t *)s[i].buckets;
				p->n_bucket_counts = L7STATS_BUCKETS;
				p->explicit_bounds = (double *)l7stats_bounds;
				p->n_explicit_bounds = L7STATS_BUCKETS - 1;
				m->hptp[h->n_data_points++] = p;
			}
			if (!h->n_data_points)
				continue;
			mt->unit = "s";
			mt->data_case =
				OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
			mt->histogram = h;
		} else {
			om_sum *sum = &m->sum[f];

			opentelemetry__proto__metrics__v1__sum__init(sum);
			sum->aggregation_temporality = OM_CUMULATIVE;
			sum->is_monotonic = 1;
			for (size_t i = 0; i < n; i++) {
				int nc = f == WMF_RESPONSES ? OM_PT_MAX : 1;

				if (!w->include_unused &&
				    !wmstats_used(&s[i], (enum wmstats_family)f))
					continue;
				for (int c = 0; c < nc; c++) {
					om_num *p = &m->num[nnum];

					/* A class with no response: no point
					 * (as the page shows none). */
					if (f == WMF_RESPONSES &&
					    !s[i].by_class[c])
						continue;
					opentelemetry__proto__metrics__v1__number_data_point__init(p);
					om_series_attrs(m, &p->attributes,
							&p->n_attributes,
							&s[i]);
					if (f == WMF_RESPONSES)
						om_attr(m, &p->attributes,
							&p->n_attributes,
							"class",
							wmstats_classes[c]);
					p->start_time_unix_nano = start_ns;
					p->time_unix_nano = now_ns;
					p->value_case =
						OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
					p->as_int = (int64_t)(f == WMF_RESPONSES ?
						s[i].by_class[c] :
						wmstats_value(&s[i],
							(enum wmstats_family)f));
					m->nump[nnum++] = p;
				}
			}
			if (nnum == first)
				continue;
			sum->data_points = &m->nump[first];
			sum->n_data_points = nnum - first;
			mt->unit = strstr(mt->name, "bytes") ? "By" : "1";
			mt->data_case =
				OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
			mt->sum = sum;
		}
		m->metricp[sm.n_metrics++] = mt;
	}
	if (!sm.n_metrics) {
		err = -ENODATA;
		goto out;
	}
	sm.scope = &scope;
	sm.metrics = m->metricp;
	rm.resource = &res;
	rm.scope_metrics = &smp;
	rm.n_scope_metrics = 1;
	req.resource_metrics = &rmp;
	req.n_resource_metrics = 1;
	size = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__get_packed_size(&req);
	*out = malloc(size ? size : 1);
	if (!*out)
		goto out;
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__pack(&req, *out);
	*len = size;
	err = 0;
out:
	free(m->num);
	free(m->nump);
	free(m->hpt);
	free(m->hptp);
	free(m->kv);
	free(m->kvp);
	free(m->val);
	free(m);
	return err;
}
