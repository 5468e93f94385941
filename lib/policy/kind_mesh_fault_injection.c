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
	SCH_F_INT("httpStatus", mf_fault_abort, http_status, 100, 599,
		  SCH_REQUIRED),
	SCH_F_PERCENT("percentage", mf_fault_abort, percentage, SCH_REQUIRED),
};
SCH_OBJECT_DEF(fault_abort, "MeshFaultInjection abort");

/* ---- delay -------------------------------------------------------------- */
static const struct sch_field fault_delay_fields[] = {
	SCH_F_DURATION("value", mf_fault_delay, value, SCH_REQUIRED),
	SCH_F_PERCENT("percentage", mf_fault_delay, percentage, SCH_REQUIRED),
};
SCH_OBJECT_DEF(fault_delay, "MeshFaultInjection delay");

/* ---- responseBandwidth -------------------------------------------------- */
static const struct sch_field fault_bw_fields[] = {
	SCH_F_BANDWIDTH("limit", mf_fault_bandwidth, limit, SCH_REQUIRED),
	SCH_F_PERCENT("percentage", mf_fault_bandwidth, percentage,
		      SCH_REQUIRED),
};
SCH_OBJECT_DEF(fault_bw, "MeshFaultInjection responseBandwidth");

/* ---- http[] ------------------------------------------------------------- */
static const struct sch_field fault_http_fields[] = {
	SCH_F_OBJECT("abort", mf_fault_http, abort, &fault_abort),
	SCH_F_OBJECT("delay", mf_fault_http, delay, &fault_delay),
	SCH_F_OBJECT("responseBandwidth", mf_fault_http, response_bandwidth,
		     &fault_bw),
};
/* An empty fault would take a list slot and inject nothing. */
SCH_CHECK_NOT_EMPTY(fault_http_check,
		    "needs at least one of abort, delay, responseBandwidth")
SCH_OBJECT_DEF(fault_http, "MeshFaultInjection fault",
	       .check = fault_http_check);

/* ---- default ------------------------------------------------------------ */
static const struct sch_field fault_conf_fields[] = {
	SCH_F_LIST("http", mf_fault_conf, http, &fault_http),
};
SCH_OBJECT_DEF(fault_conf, "MeshFaultInjection default");

const struct kind_desc kind_mesh_fault_injection = {
	.name = "MeshFaultInjection", .plural = "meshfaultinjections",
	.form = KIND_FORM_TO_FROM,
	/* Kuma takes `to` only for a target that includes gateways, `from`
	 * only for one that does not. */
	.sections = KIND_SEC_TO | KIND_SEC_FROM | KIND_SEC_RULES |
		    KIND_SEC_RULE_MATCHES | KIND_SEC_EMPTY_OK |
		    KIND_SEC_GATEWAY_SCOPED,
	.target_kinds = KIND_TARGETS_GATEWAY, .to_kinds = KIND_REF(MF_REF_MESH),
	/* Faults may be aimed at some callers only. */
	.from_kinds = KIND_REF(MF_REF_MESH) | KIND_REF(MF_REF_MESH_SUBSET) |
		      KIND_REF(MF_REF_MESH_SERVICE) |
		      KIND_REF(MF_REF_MESH_SERVICE_SUBSET),
	KIND_RECORD(mf_fault, conf, &fault_conf),
};
