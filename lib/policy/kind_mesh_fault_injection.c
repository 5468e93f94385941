// SPDX-License-Identifier: Apache-2.0
/*
 * MeshFaultInjection: aborts, delays and bandwidth limits injected into
 * the HTTP requests a workload receives.  Only `from` entries: faults are
 * injected on the inbound side, per caller.  The faults of one entry run in
 * list order, each on the requests the previous ones let through.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshFaultInjection
 *   metadata: {name: backend-chaos}
 *   spec:
 *     targetRef: {kind: MeshService, name: backend}
 *     from:
 *       - targetRef: {kind: MeshService, name: web}
 *         default:
 *           http:
 *             - abort: {httpStatus: 503, percentage: "2.5"}
 *               delay: {value: 5s, percentage: 5}
 *               responseBandwidth: {limit: 50Mbps, percentage: 50}
 *             - abort: {httpStatus: 500, percentage: 10}
 *       - targetRef: {kind: Mesh}
 *         default:
 *           http:
 *             - delay: {value: 250ms, percentage: 1}
 *
 * Ranges follow Kuma: httpStatus 100..599, percentages 0..100 with up to 3
 * decimals, every field of a fault required (a fault without its
 * percentage or value means nothing).
 */
#include <stddef.h>

#include "kinds.h"

/* ---- abort -------------------------------------------------------------- */
static const struct sch_field fault_abort_fields[] = {
	{ .name = "httpStatus", .type = SCH_INT,
	  .off = offsetof(struct mf_fault_abort, http_status),
	  .size = sizeof(__u32), .required = true, .min = 100, .max = 599 },
	{ .name = "percentage", .type = SCH_PERCENT,
	  .off = offsetof(struct mf_fault_abort, percentage),
	  .required = true },
};

static const struct sch_object fault_abort = {
	.name = "MeshFaultInjection abort",
	.fields = fault_abort_fields,
	.nfields = SCH_NFIELDS(fault_abort_fields),
};

/* ---- delay -------------------------------------------------------------- */
static const struct sch_field fault_delay_fields[] = {
	{ .name = "value", .type = SCH_DURATION,
	  .off = offsetof(struct mf_fault_delay, value), .required = true },
	{ .name = "percentage", .type = SCH_PERCENT,
	  .off = offsetof(struct mf_fault_delay, percentage),
	  .required = true },
};

static const struct sch_object fault_delay = {
	.name = "MeshFaultInjection delay",
	.fields = fault_delay_fields,
	.nfields = SCH_NFIELDS(fault_delay_fields),
};

/* ---- responseBandwidth -------------------------------------------------- */
static const struct sch_field fault_bw_fields[] = {
	{ .name = "limit", .type = SCH_BANDWIDTH,
	  .off = offsetof(struct mf_fault_bandwidth, limit),
	  .required = true },
	{ .name = "percentage", .type = SCH_PERCENT,
	  .off = offsetof(struct mf_fault_bandwidth, percentage),
	  .required = true },
};

static const struct sch_object fault_bw = {
	.name = "MeshFaultInjection responseBandwidth",
	.fields = fault_bw_fields,
	.nfields = SCH_NFIELDS(fault_bw_fields),
};

/* ---- http[] ------------------------------------------------------------- */
static const struct sch_field fault_http_fields[] = {
	{ .name = "abort", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_fault_http, abort), .sub = &fault_abort },
	{ .name = "delay", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_fault_http, delay), .sub = &fault_delay },
	{ .name = "responseBandwidth", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_fault_http, response_bandwidth),
	  .sub = &fault_bw },
};

/* An empty fault would take a list slot and inject nothing. */
static const char *fault_http_check(const void *obj)
{
	return sch_present(obj) ? NULL :
	       "needs at least one of abort, delay, responseBandwidth";
}

static const struct sch_object fault_http = {
	.name = "MeshFaultInjection fault",
	.fields = fault_http_fields,
	.nfields = SCH_NFIELDS(fault_http_fields),
	.check = fault_http_check,
};

/* ---- default ------------------------------------------------------------ */
static const struct sch_field fault_conf_fields[] = {
	{ .name = "http", .type = SCH_LIST,
	  .off = offsetof(struct mf_fault_conf, http), .sub = &fault_http,
	  .count_off = offsetof(struct mf_fault_conf, nhttp),
	  .item_size = sizeof(struct mf_fault_http),
	  .max_items = MF_FAULTS_MAX },
};

static const struct sch_object fault_conf = {
	.name = "MeshFaultInjection default",
	.fields = fault_conf_fields,
	.nfields = SCH_NFIELDS(fault_conf_fields),
};

const struct kind_desc kind_mesh_fault_injection = {
	.name = "MeshFaultInjection",
	.plural = "meshfaultinjections",
	.form = KIND_FORM_TO_FROM,
	/* Kuma takes `to` only for a MeshGateway target, whose faults this
	 * dataplane does not inject; so `from` only. */
	.sections = KIND_SEC_FROM,
	.target_kinds = KIND_TARGETS_PROXY,
	/* Faults may be aimed at some callers only. */
	.from_kinds = KIND_REF(MF_REF_MESH) | KIND_REF(MF_REF_MESH_SUBSET) |
		      KIND_REF(MF_REF_MESH_SERVICE) |
		      KIND_REF(MF_REF_MESH_SERVICE_SUBSET),
	.val_size = sizeof(struct mf_fault),
	.conf_off = offsetof(struct mf_fault, conf),
	.conf = &fault_conf,
};
