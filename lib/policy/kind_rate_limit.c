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
 * As in Kuma, conf is required and conf.http is not (a conf without it
 * limits nothing).  requests is required and >= 1, interval required and
 * >= 50ms (the proxy's token bucket refills no faster; Kuma leaves that
 * bound to the proxy to reject).  onRateLimit.status is 100..599;
 * headers (at most 8) need key and value.
 */
#include <stddef.h>

#include "kinds.h"

static const struct sch_field rl_header_fields[] = {
	SCH_F_STRING("key", mf_rl_header, key, SCH_REQUIRED,
		     .check = kind_check_header_token),
	SCH_F_STRING("value", mf_rl_header, value, SCH_REQUIRED,
		     .check = kind_check_header_value),
	SCH_F_BOOL("append", mf_rl_header, append),
};
SCH_OBJECT_DEF(rl_header, "RateLimit header");

static const struct sch_field rl_on_limit_fields[] = {
	SCH_F_INT("status", mf_rl_on_limit, status, 100, 599),
	SCH_F_LIST("headers", mf_rl_on_limit, headers, &rl_header),
};
SCH_OBJECT_DEF(rl_on_limit, "RateLimit onRateLimit");

static const struct sch_field rl_http_fields[] = {
	SCH_F_INT("requests", mf_rl_http, requests, 1, UINT32_MAX,
		  SCH_REQUIRED),
	SCH_F_DURATION("interval", mf_rl_http, interval, SCH_AT_LEAST(50),
		       SCH_REQUIRED),
	SCH_F_OBJECT("onRateLimit", mf_rl_http, on_rate_limit, &rl_on_limit),
};
SCH_OBJECT_DEF(rl_http, "RateLimit http");

static const struct sch_field rl_conf_fields[] = {
	SCH_F_OBJECT("http", mf_rl_conf, http, &rl_http),
};
SCH_OBJECT_DEF(rl_conf, "RateLimit conf");

/* The map's value buffer and the record budget (abi_policy.h). */
_Static_assert(sizeof(struct mf_legacy_ratelimit) <= 4096,
	       "a RateLimit record must fit in 4 KiB");

/* KIND_FORM_SOURCES: selectors instead of targetRefs, so no sections and
 * no ref kinds. */
const struct kind_desc kind_rate_limit = {
	.name = "RateLimit", .plural = "ratelimits",
	.kuma_inline = true,
	.form = KIND_FORM_SOURCES,
	KIND_RECORD(mf_legacy_ratelimit, conf, &rl_conf),
};
