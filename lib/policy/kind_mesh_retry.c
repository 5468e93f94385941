// SPDX-License-Identifier: Apache-2.0
/*
 * MeshRetry: how a proxy retries TCP connects, HTTP requests and gRPC
 * calls towards a destination.  Kuma allows only `to` entries: retries are
 * an outbound concern.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshRetry
 *   metadata: {name: web-to-backend}
 *   spec:
 *     targetRef: {kind: MeshService, name: web}
 *     to:
 *       - targetRef: {kind: MeshService, name: backend}
 *         default:
 *           tcp:
 *             maxConnectAttempt: 3
 *           http:
 *             numRetries: 5
 *             perTryTimeout: 2s
 *             backOff: {baseInterval: 25ms, maxInterval: 250ms}
 *             rateLimitedBackOff:
 *               resetHeaders: [{name: retry-after, format: Seconds}]
 *               maxInterval: 5m
 *             retryOn: [5xx, GatewayError, Reset, HttpMethodGet, "409"]
 *             retriableResponseHeaders:
 *               - {type: Prefix, name: x-upstream, value: retry-}
 *             retriableRequestHeaders:
 *               - {type: Present, name: x-idempotent}
 *             hostSelection:
 *               - {predicate: OmitPreviousHosts}
 *               - {predicate: OmitHostsWithTags, tags: {zone: a}}
 *             hostSelectionMaxAttempts: 3
 *           grpc:
 *             numRetries: 2
 *             retryOn: [Unavailable, DeadlineExceeded]
 *
 * The rules are Kuma's validator's: a default says tcp, http or grpc, and
 * none of them (nor a backOff) is empty; a rateLimitedBackOff lists its
 * resetHeaders; hostSelection's OmitHostsWithTags needs tags and
 * OmitPreviousPriorities comes once, updating more often than never (an
 * absent updateFrequency is Kuma's default, 2).  Header names are Kuma's
 * HeaderName: lower-case token characters.
 *
 * Ranges: Kuma sets no upper bound on the counts; ours are generous but
 * stop values that are surely typos (a million retries of one request).
 * Envoy rejects a zero back-off base interval, so backOff intervals are at
 * least 1ms, and the base may not exceed the maximum.
 */
#include <stddef.h>
#include <string.h>

#include "kinds.h"

#define RETRY_NUM_MAX		1000	/* numRetries */
#define RETRY_CONNECT_MAX	1000	/* tcp.maxConnectAttempt */

/* ---- string rules ------------------------------------------------------ */

/* http.retryOn's condition names (Kuma's HTTPRetryOn values).  "5XX" is
 * how Kuma's documentation spells the first, and meshforge has always
 * taken it; Kuma's validator knows only "5xx", so both are accepted. */
static const char *const retry_on_names[] = {
	"5xx", "5XX", "GatewayError", "Reset", "Retriable4xx",
	"ConnectFailure", "EnvoyRatelimited", "RefusedStream",
	"Http3PostConnectFailure", "HttpMethodConnect", "HttpMethodDelete",
	"HttpMethodGet", "HttpMethodHead", "HttpMethodOptions",
	"HttpMethodPatch", "HttpMethodPost", "HttpMethodPut",
	"HttpMethodTrace", NULL,
};

/*
 * The status codes Kuma takes as retryOn items: those Go's
 * http.StatusText names (Kuma's test for "any HTTP status code"), so 306
 * and codes nobody registered are refused as Kuma refuses them.
 */
static const unsigned short retry_known_statuses[] = {
	100, 101, 102, 103,
	200, 201, 202, 203, 204, 205, 206, 207, 208, 226,
	300, 301, 302, 303, 304, 305, 307, 308,
	400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413,
	414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431,
	451,
	500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
};

static bool retry_status_ok(const char *s)
{
	unsigned code;

	if (strlen(s) != 3 || s[0] < '1' || s[0] > '9' || s[1] < '0' ||
	    s[1] > '9' || s[2] < '0' || s[2] > '9')
		return false;
	code = (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 +
	       (unsigned)(s[2] - '0');
	for (size_t i = 0; i < sizeof(retry_known_statuses) /
				       sizeof(retry_known_statuses[0]);
	     i++)
		if (retry_known_statuses[i] == code)
			return true;
	return false;
}

static const char *retry_on_check(const char *s)
{
	for (size_t i = 0; retry_on_names[i]; i++)
		if (!strcmp(s, retry_on_names[i]))
			return NULL;
	if (retry_status_ok(s))
		return NULL;
	return "must be 5xx, GatewayError, Reset, Retriable4xx, "
	       "ConnectFailure, EnvoyRatelimited, RefusedStream, "
	       "Http3PostConnectFailure, HttpMethodConnect, HttpMethodDelete, "
	       "HttpMethodGet, HttpMethodHead, HttpMethodOptions, "
	       "HttpMethodPatch, HttpMethodPost, HttpMethodPut, "
	       "HttpMethodTrace or an HTTP status code such as 503";
}

/* ---- tcp ---------------------------------------------------------------- */
static const struct sch_field retry_tcp_fields[] = {
	/* Kuma: a tcp section must say how many attempts. */
	SCH_F_INT("maxConnectAttempt", mf_retry_tcp, max_connect_attempt, 1,
		  RETRY_CONNECT_MAX, SCH_REQUIRED),
};
SCH_OBJECT_DEF(retry_tcp, "MeshRetry tcp");

/* ---- backOff ------------------------------------------------------------ */
enum { BACKOFF_BASE, BACKOFF_MAX };

static const struct sch_field retry_backoff_fields[] = {
	[BACKOFF_BASE] = SCH_F_DURATION("baseInterval", mf_retry_backoff,
					base_interval, SCH_AT_LEAST(1)),
	[BACKOFF_MAX] = SCH_F_DURATION("maxInterval", mf_retry_backoff,
				       max_interval, SCH_AT_LEAST(1)),
};

/* Kuma rejects an empty backOff; Envoy rejects max < base. */
static const char *retry_backoff_check(const void *obj)
{
	const struct mf_retry_backoff *b = obj;

	if (!sch_present(b))
		return "needs baseInterval or maxInterval";
	if (sch_has(b, BACKOFF_BASE) && sch_has(b, BACKOFF_MAX) &&
	    b->base_interval > b->max_interval)
		return "baseInterval must not be greater than maxInterval";
	return NULL;
}
SCH_OBJECT_DEF(retry_backoff, "MeshRetry backOff",
	       .check = retry_backoff_check);

/* ---- rateLimitedBackOff ------------------------------------------------- */
/* Index + 1 == enum mf_retry_reset_format. */
static const char *const retry_reset_formats[] = {
	"Seconds", "UnixTimestamp", NULL,
};

static const struct sch_field retry_reset_header_fields[] = {
	SCH_F_STRING("name", mf_retry_reset_header, name, SCH_REQUIRED,
		     .check = kind_check_header_name_lower),
	SCH_F_ENUM("format", mf_retry_reset_header, format,
		   retry_reset_formats, SCH_REQUIRED),
};
SCH_OBJECT_DEF(retry_reset_header, "MeshRetry reset header");

static const struct sch_field retry_rate_limited_fields[] = {
	/* Kuma: the headers are what makes it a rate-limited back-off;
	 * an empty list is allowed (the plain backOff applies). */
	SCH_F_LIST("resetHeaders", mf_retry_rate_limited, reset_headers,
		   &retry_reset_header, SCH_REQUIRED),
	SCH_F_DURATION("maxInterval", mf_retry_rate_limited, max_interval,
		       SCH_AT_LEAST(1)),
};
SCH_OBJECT_DEF(retry_rate_limited, "MeshRetry rateLimitedBackOff");

/* ---- http --------------------------------------------------------------- */
static const struct sch_field retry_on_fields[] = {
	SCH_ITEM(SCH_STRING, MF_RETRY_ON_LEN, .check = retry_on_check),
};
SCH_OBJECT_DEF(retry_on, "MeshRetry retryOn", .scalar = true);

/* Index + 1 == enum mf_value_match (the routes' header match types). */
static const char *const retry_match_types[] = {
	"Exact", "Present", "RegularExpression", "Absent", "Prefix", NULL,
};

enum { MATCH_TYPE, MATCH_NAME, MATCH_VALUE };

static const struct sch_field retry_header_match_fields[] = {
	[MATCH_TYPE] = SCH_F_ENUM("type", mf_retry_header_match, type,
				  retry_match_types),
	[MATCH_NAME] = SCH_F_STRING("name", mf_retry_header_match, name,
				    SCH_REQUIRED,
				    .check = kind_check_header_name_lower),
	[MATCH_VALUE] = SCH_F_STRING("value", mf_retry_header_match, value,
				     .check = kind_check_header_value),
};

/* A regular expression must compile, as the proxy compiles it; Kuma
 * checks nothing else here (a value with Present or Absent is unused). */
static const char *retry_header_match_check(const void *obj,
					    unsigned *field)
{
	const struct mf_retry_header_match *m = obj;

	if (m->type == MF_MATCH_REGEX && sch_has(m, MATCH_VALUE) &&
	    !kind_regex_ok(m->value)) {
		*field = MATCH_VALUE;
		return "is not a valid regular expression";
	}
	return NULL;
}
SCH_OBJECT_DEF(retry_header_match, "MeshRetry header match",
	       .check_field = retry_header_match_check);

/* Index + 1 == enum mf_retry_predicate. */
static const char *const retry_predicates[] = {
	"OmitPreviousHosts", "OmitHostsWithTags", "OmitPreviousPriorities",
	NULL,
};

enum { PRED_PREDICATE, PRED_TAGS, PRED_UPDATE_FREQUENCY };

static const struct sch_field retry_predicate_fields[] = {
	[PRED_PREDICATE] = SCH_F_ENUM("predicate", mf_retry_host_predicate,
				      predicate, retry_predicates,
				      SCH_REQUIRED),
	[PRED_TAGS] = SCH_F_TAGS("tags", mf_retry_host_predicate, tags),
	/* Kuma's int32; only OmitPreviousPriorities reads it. */
	[PRED_UPDATE_FREQUENCY] = SCH_F_INT("updateFrequency",
					    mf_retry_host_predicate,
					    update_frequency, 0, INT32_MAX),
};

static const char *retry_predicate_check(const void *obj, unsigned *field)
{
	const struct mf_retry_host_predicate *p = obj;

	if (p->predicate == MF_RETRY_OMIT_HOSTS_WITH_TAGS &&
	    !sch_has(p, PRED_TAGS)) {
		*field = PRED_TAGS;
		return "is required with predicate OmitHostsWithTags";
	}
	if (p->predicate == MF_RETRY_OMIT_PREVIOUS_PRIORITIES &&
	    sch_has(p, PRED_UPDATE_FREQUENCY) && !p->update_frequency) {
		*field = PRED_UPDATE_FREQUENCY;
		return "must be greater than 0 with predicate "
		       "OmitPreviousPriorities";
	}
	return NULL;
}
SCH_OBJECT_DEF(retry_predicate, "MeshRetry host predicate",
	       .check_field = retry_predicate_check);

enum {
	HTTP_NUM_RETRIES, HTTP_PER_TRY_TIMEOUT, HTTP_BACK_OFF, HTTP_RETRY_ON,
	HTTP_RATE_LIMITED, HTTP_RESPONSE_HEADERS, HTTP_REQUEST_HEADERS,
	HTTP_HOST_SELECTION, HTTP_HOST_SELECTION_MAX_ATTEMPTS,
};

static const struct sch_field retry_http_fields[] = {
	[HTTP_NUM_RETRIES] = SCH_F_INT("numRetries", mf_retry_http,
				       num_retries, 0, RETRY_NUM_MAX),
	[HTTP_PER_TRY_TIMEOUT] = SCH_F_DURATION("perTryTimeout",
						mf_retry_http,
						per_try_timeout),
	[HTTP_BACK_OFF] = SCH_F_OBJECT("backOff", mf_retry_http, back_off,
				       &retry_backoff),
	[HTTP_RETRY_ON] = SCH_F_LIST("retryOn", mf_retry_http, retry_on,
				     &retry_on),
	[HTTP_RATE_LIMITED] = SCH_F_OBJECT("rateLimitedBackOff",
					   mf_retry_http,
					   rate_limited_back_off,
					   &retry_rate_limited),
	[HTTP_RESPONSE_HEADERS] = SCH_F_LIST("retriableResponseHeaders",
					     mf_retry_http,
					     retriable_response_headers,
					     &retry_header_match),
	[HTTP_REQUEST_HEADERS] = SCH_F_LIST("retriableRequestHeaders",
					    mf_retry_http,
					    retriable_request_headers,
					    &retry_header_match),
	[HTTP_HOST_SELECTION] = SCH_F_LIST("hostSelection", mf_retry_http,
					   host_selection, &retry_predicate),
	/* Kuma's int64. */
	[HTTP_HOST_SELECTION_MAX_ATTEMPTS] =
		SCH_F_INT("hostSelectionMaxAttempts", mf_retry_http,
			  host_selection_max_attempts, 0, INT64_MAX),
};

/* Kuma rejects an http section that says nothing: hostSelectionMaxAttempts
 * alone does not count, it only bounds hostSelection. */
static const char *retry_http_check(const void *obj)
{
	if (sch_present(obj) & ~(1u << HTTP_HOST_SELECTION_MAX_ATTEMPTS))
		return NULL;
	return "needs at least one of numRetries, perTryTimeout, backOff, "
	       "retryOn, rateLimitedBackOff, retriableResponseHeaders, "
	       "retriableRequestHeaders, hostSelection";
}

/* Envoy keeps one priority predicate per retry policy. */
static const char *retry_http_check_field(const void *obj, unsigned *field)
{
	const struct mf_retry_http *h = obj;
	unsigned n = 0;

	for (unsigned i = 0; i < h->nhost_selection && i < MF_RETRY_LIST_MAX;
	     i++)
		if (h->host_selection[i].predicate ==
		    MF_RETRY_OMIT_PREVIOUS_PRIORITIES)
			n++;
	if (n > 1) {
		*field = HTTP_HOST_SELECTION;
		return "may have OmitPreviousPriorities only once";
	}
	return NULL;
}
SCH_OBJECT_DEF(retry_http, "MeshRetry http", .check = retry_http_check,
	       .check_field = retry_http_check_field);

/* ---- grpc --------------------------------------------------------------- */
/* grpc.retryOn names, index i = bit i of enum mf_retry_grpc_on. */
static const char *const retry_grpc_on_names[] = {
	"Canceled", "DeadlineExceeded", "Internal", "ResourceExhausted",
	"Unavailable", NULL,
};

static const struct sch_field retry_grpc_fields[] = {
	SCH_F_INT("numRetries", mf_retry_grpc, num_retries, 0, RETRY_NUM_MAX),
	SCH_F_DURATION("perTryTimeout", mf_retry_grpc, per_try_timeout),
	SCH_F_OBJECT("backOff", mf_retry_grpc, back_off, &retry_backoff),
	SCH_F_OBJECT("rateLimitedBackOff", mf_retry_grpc,
		     rate_limited_back_off, &retry_rate_limited),
	SCH_F_FLAGS("retryOn", mf_retry_grpc, retry_on, retry_grpc_on_names),
};
/* Kuma rejects a grpc section that says nothing. */
SCH_CHECK_NOT_EMPTY(retry_grpc_check, "needs at least one of numRetries, "
		    "perTryTimeout, backOff, rateLimitedBackOff, retryOn")
SCH_OBJECT_DEF(retry_grpc, "MeshRetry grpc", .check = retry_grpc_check);

/* ---- default ------------------------------------------------------------ */
static const struct sch_field retry_conf_fields[] = {
	SCH_F_OBJECT("tcp", mf_retry_conf, tcp, &retry_tcp),
	SCH_F_OBJECT("http", mf_retry_conf, http, &retry_http),
	SCH_F_OBJECT("grpc", mf_retry_conf, grpc, &retry_grpc),
};
SCH_CHECK_NOT_EMPTY(retry_conf_check, "needs tcp, http or grpc")
SCH_OBJECT_DEF(retry_conf, "MeshRetry default", .check = retry_conf_check);

const struct kind_desc kind_mesh_retry = {
	.name = "MeshRetry", .plural = "meshretries",
	.form = KIND_FORM_TO_FROM, .sections = KIND_SEC_TO | KIND_SEC_EMPTY_OK,
	/* Retries are route-level settings in Envoy, so Kuma also lets a
	 * MeshRetry target a gateway or a single MeshHTTPRoute. */
	.target_kinds = KIND_TARGETS_ROUTE, .to_kinds = KIND_TO_OUTBOUND_ROUTE,
	.gw_tops = KIND_REF(MF_REF_MESH_GATEWAY) |
		   KIND_REF(MF_REF_MESH_HTTP_ROUTE),
	.to_kinds_gw = KIND_REF(MF_REF_MESH) |
		       KIND_REF(MF_REF_MESH_EXTERNAL_SERVICE),
	KIND_RECORD(mf_retry, conf, &retry_conf),
};
