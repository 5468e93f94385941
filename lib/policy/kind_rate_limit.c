// SPDX-License-Identifier: Apache-2.0
/*
 * RateLimit (legacy, source/destination selectors): a local limit on the
 * HTTP requests the selected sources send to the selected destinations.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: RateLimit
 *   metadata: {name: backend-limit}
 *   spec:
 *     sources:
 *       - match: {kuma.io/service: '*'}
 *     destinations:
 *       - match: {kuma.io/service: backend}
 *     conf:
 *       http:
 *         requests: 5
 *         interval: 10s
 *         onRateLimit:
 *           status: 423
 *           headers:
 *             - {key: x-kuma-rate-limited, value: "true", append: true}
 *
 * Kuma's RateLimit has only `conf.http`, so it is required here; requests
 * is required and >= 1, interval required and >= 50ms (the proxy's token
 * bucket refills no faster; Kuma leaves both to the proxy to reject).
 * onRateLimit.status is 100..599; headers need key and value.
 */
#include <stddef.h>

#include "kinds.h"

static const struct sch_field rl_header_fields[] = {
	{ .name = "key", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_rl_header, key), .size = MF_HDR_NAME_MAX,
	  .check = kind_check_header_token },
	{ .name = "value", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_rl_header, value),
	  .size = MF_HDR_VALUE_MAX, .check = kind_check_header_value },
	{ .name = "append", .type = SCH_BOOL,
	  .off = offsetof(struct mf_rl_header, append) },
};

static const struct sch_object rl_header = {
	.name = "RateLimit header",
	.fields = rl_header_fields,
	.nfields = SCH_NFIELDS(rl_header_fields),
};

static const struct sch_field rl_on_limit_fields[] = {
	{ .name = "status", .type = SCH_INT,
	  .off = offsetof(struct mf_rl_on_limit, status), .size = 4,
	  .min = 100, .max = 599 },
	{ .name = "headers", .type = SCH_LIST,
	  .off = offsetof(struct mf_rl_on_limit, headers),
	  .count_off = offsetof(struct mf_rl_on_limit, nheaders),
	  .item_size = sizeof(struct mf_rl_header),
	  .max_items = MF_HEADERS_MAX, .sub = &rl_header },
};

static const struct sch_object rl_on_limit = {
	.name = "RateLimit onRateLimit",
	.fields = rl_on_limit_fields,
	.nfields = SCH_NFIELDS(rl_on_limit_fields),
};

static const struct sch_field rl_http_fields[] = {
	{ .name = "requests", .type = SCH_INT, .required = true,
	  .off = offsetof(struct mf_rl_http, requests), .size = 4,
	  .min = 1, .max = UINT32_MAX },
	{ .name = "interval", .type = SCH_DURATION, .required = true,
	  .off = offsetof(struct mf_rl_http, interval),
	  .min = 50, .max = UINT32_MAX },
	{ .name = "onRateLimit", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_rl_http, on_rate_limit),
	  .sub = &rl_on_limit },
};

static const struct sch_object rl_http = {
	.name = "RateLimit http",
	.fields = rl_http_fields,
	.nfields = SCH_NFIELDS(rl_http_fields),
};

static const struct sch_field rl_conf_fields[] = {
	{ .name = "http", .type = SCH_OBJECT, .required = true,
	  .off = offsetof(struct mf_rl_conf, http), .sub = &rl_http },
};

static const struct sch_object rl_conf = {
	.name = "RateLimit conf",
	.fields = rl_conf_fields,
	.nfields = SCH_NFIELDS(rl_conf_fields),
};

/* KIND_FORM_SOURCES: selectors instead of targetRefs, so no sections and
 * no ref kinds. */
const struct kind_desc kind_rate_limit = {
	.name = "RateLimit",
	.plural = "ratelimits",
	.form = KIND_FORM_SOURCES,
	.val_size = sizeof(struct mf_legacy_ratelimit),
	.conf_off = offsetof(struct mf_legacy_ratelimit, conf),
	.conf = &rl_conf,
};
