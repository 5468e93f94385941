/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp_metrics: a workload's MeshMetric families (wmstats.h) as OTLP's
 * ExportMetricsServiceRequest
 * (proto/opentelemetry/proto/collector/metrics/v1/metrics_service.proto),
 * for MeshMetric's openTelemetry backends.
 *
 * One resource, the workload (service.name its service, and its mesh and
 * workload names as attributes), one scope ("meshforge"), and one metric
 * per family the workload's MeshMetric shows, named as on its Prometheus
 * page: a cumulative, monotonic sum of integers, one data point per
 * series (its direction and peer service as attributes, and the status
 * class for the responses), or for the request duration a cumulative
 * histogram (the same bounds, in seconds).  Series never updated are left
 * out unless includeUnused; a family with no data point is left out.
 * Times: the data's start (when the counters began, the agent's start)
 * and now.
 */
#ifndef MF_AGENT_OTLP_METRICS_H
#define MF_AGENT_OTLP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wmstats.h"

struct wmplan_wl;

/* The request of workload @w's series @s[0..@n) (summed over the loops),
 * counted since @start_ns until @now_ns (CLOCK_REALTIME ns), into *@out
 * (malloc'd, the caller frees it) of *@len bytes.  Returns 0, or -ENODATA
 * when no family has a data point (nothing to send), or -ENOMEM. */
int otlp_metrics_pack(const struct wmplan_wl *w,
		      const struct wmstats_series *s, size_t n,
		      uint64_t start_ns, uint64_t now_ns, uint8_t **out,
		      size_t *len);

#endif /* MF_AGENT_OTLP_METRICS_H */
