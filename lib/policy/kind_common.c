// SPDX-License-Identifier: Apache-2.0
/*
 * What several policy kinds share: string rules for sch_field.check (or
 * predicates, where kinds word their messages differently), the HTTP
 * method names, and the route backendRef schema of MeshHTTPRoute and
 * MeshTCPRoute.  Written once here so that a rule cannot drift between
 * kinds that mean the same thing.  Declared in lib/kinds.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <regex.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "kinds.h"
#include "spiffe.h"

/* ---- string rules ------------------------------------------------------ */

const char *kind_check_abs_path(const char *s)
{
	return s[0] == '/' ? NULL : "must start with '/'";
}

const char *kind_check_no_space(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s == 0x7f)
			return "must not contain spaces or control characters";
	return NULL;
}

const char *kind_check_header_value(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return "must not contain control characters";
	return NULL;
}

static bool kind_http_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr(extra, ch)))
			return false;
	}
	return true;
}

const char *kind_check_header_name(const char *s)
{
	return kind_http_token(s) ? NULL :
	       "must be an HTTP header name (letters, digits and "
	       "!#$%&'*+-.^_`|~)";
}

const char *kind_check_header_token(const char *s)
{
	return kind_http_token(s) ? NULL :
	       "must be an HTTP header name (token characters)";
}

/* Kuma's IsFilePath on Linux. */
const char *kind_check_file_path(const char *s)
{
	return s[0] == '/' ? NULL : "must be an absolute path";
}

const char *kind_check_spiffe_id(const char *s)
{
	return spiffe_parse(s, NULL) ?
		       "must be a SPIFFE ID (spiffe://<trust-domain>/<path>)" :
		       NULL;
}

const char *kind_check_spiffe_prefix(const char *s)
{
	return spiffe_check_prefix(s) ?
		       "must be a SPIFFE ID prefix "
		       "(spiffe://<trust-domain>/...)" : NULL;
}

/* The port is judged before the host, so that "host:99999" says why. */
const char *kind_check_host_port(const char *host, const char *reject,
				 const char *bad)
{
	const char *colon = strrchr(host, ':');
	long port;

	if (!colon || colon == host || !colon[1])
		return bad;
	port = kind_parse_port(colon + 1);
	if (port < 0)
		return bad;
	if (port < 1 || port > 65535)
		return "port must be 1..65535";
	for (const char *p = host; p < colon; p++)
		if (*p <= ' ' || strchr(reject, *p))
			return bad;
	return NULL;
}

const char *kind_tag_value(const struct mf_tagset *ts, const char *key)
{
	for (uint32_t i = 0; ts && i < ts->n && i < MF_TAGS_MAX; i++)
		if (!strcmp(ts->tags[i].key, key))
			return ts->tags[i].value;
	return NULL;
}

const char *kind_check_tags_service(const struct mf_tagset *ts,
				    const char **key)
{
	(void)key;
	return kind_tag_value(ts, "kuma.io/service") ? NULL :
	       "must have the tag kuma.io/service";
}

/* True when @s has a back-reference (\\1 .. \\9) outside a bracket
 * expression. */
static bool kind_regex_backref(const char *s)
{
	for (; *s; s++) {
		if (*s == '[') {
			/* A bracket expression: "]" first is a member, and
			 * "[:class:]" (and [. .], [= =]) nests. */
			s++;
			if (*s == '^')
				s++;
			if (*s == ']')
				s++;
			for (; *s && *s != ']'; s++) {
				if (*s == '[' && (s[1] == ':' || s[1] == '.' ||
						  s[1] == '=')) {
					char end = s[1];

					for (s += 2; *s && !(s[0] == end &&
							     s[1] == ']'); s++)
						;
					if (!*s)
						return false;
					s++;
				}
			}
			if (!*s)
				return false;
			continue;
		}
		if (*s == '\\' && s[1] >= '1' && s[1] <= '9')
			return true;
		if (*s == '\\' && s[1])
			s++;
	}
	return false;
}

int kind_regex_compile(regex_t *re, const char *s)
{
	size_t n = strlen(s);
	char *whole;
	int err;

	if (kind_regex_backref(s))
		return -EINVAL;
	/* A match is of the whole value, as Envoy's RE2 matches are. */
	whole = malloc(n + 5);
	if (!whole)
		return -ENOMEM;
	memcpy(whole, "^(", 2);
	memcpy(whole + 2, s, n);
	memcpy(whole + 2 + n, ")$", 3);
	err = regcomp(re, whole, REG_EXTENDED | REG_NOSUB) ? -EINVAL : 0;
	free(whole);
	return err;
}

bool kind_regex_ok(const char *s)
{
	regex_t re;

	if (kind_regex_compile(&re, s))
		return false;
	regfree(&re);
	return true;
}

bool kind_dns_name_ok(const char *s)
{
	size_t label = 0;

	for (; *s; s++) {
		char ch = *s;

		if (ch == '.') {
			if (!label || s[-1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      (ch == '-' && label)))
			return false;
		label++;
	}
	return label && s[-1] != '-';
}

const char *const kind_http_methods[] = {
	"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST",
	"PUT", "TRACE", NULL,
};

/* Trial division: up to sqrt(5000011), the largest Maglev table, is about
 * 2236 steps. */
bool kind_is_prime(uint32_t n)
{
	if (n < 2)
		return false;
	for (uint32_t d = 2; d <= n / d; d++)
		if (n % d == 0)
			return false;
	return true;
}

long kind_parse_port(const char *digits)
{
	long port = 0;

	for (const char *p = digits; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		port = port * 10 + (*p - '0');
		if (port > 65535)
			break;
	}
	return port;
}

const char *kind_check_typed_one(const void *obj, unsigned type,
				 unsigned nobjs, const char *one_msg)
{
	uint32_t got = sch_present(obj) & (((1u << nobjs) - 1) << 1);

	if (!got || (got & (got - 1)))
		return one_msg;
	if (sch_has(obj, 0) && !(got & (1u << type)))
		return "type must name the backend that is set";
	return NULL;
}

/* ---- route backendRef -------------------------------------------------- */

enum { ROUTE_BE_REF, ROUTE_BE_PORT, ROUTE_BE_WEIGHT };

/* Kuma writes a backendRef flat ({kind, name, tags, port, weight}), so its
 * mf_ref is an inline ref (no name): kind, name and tags are keys of the
 * backendRef itself. */
static const struct sch_field route_backend_fields[] = {
	[ROUTE_BE_REF] = { .type = SCH_REF, SCH_REQUIRED,
			   .off = SCH_OFF(mf_route_backend, ref),
			   .ref_kinds = KIND_DESTINATIONS |
					KIND_REF(MF_REF_MESH_SERVICE_SUBSET) },
	[ROUTE_BE_PORT] = SCH_F_PORT("port", mf_route_backend, port),
	/* Kuma's range (a uint32): whoever adds weights up sums them in 64
	 * bits. */
	[ROUTE_BE_WEIGHT] = SCH_F_INT("weight", mf_route_backend, weight, 0,
				      UINT32_MAX),
};

static const char *route_backend_check(const void *obj)
{
	const struct mf_route_backend *b = obj;

	/* The ref reader refuses tags on a MeshService; a subset without
	 * tags would be the whole service, so Kuma asks for them. */
	if (b->ref.kind == MF_REF_MESH_SERVICE_SUBSET && !b->ref.tags)
		return "kind MeshServiceSubset needs tags";
	return NULL;
}

/* A MeshMultiZoneService has no port of its own to default to: its ports
 * are those of the services it groups, so Kuma asks which. */
static const char *route_backend_port_check(const void *obj, unsigned *field)
{
	const struct mf_route_backend *b = obj;

	*field = ROUTE_BE_PORT;
	if (b->ref.kind == MF_REF_MESH_MULTI_ZONE_SERVICE &&
	    !sch_has(b, ROUTE_BE_PORT))
		return "is required for kind MeshMultiZoneService";
	return NULL;
}

const struct sch_object kind_route_backend_ref =
	SCH_OBJECT_INIT("backendRef", route_backend_fields,
			.check = route_backend_check,
			.check_field = route_backend_port_check);

const char *kind_check_route_backends(const struct mf_route_backend *b,
				      unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!sch_has(&b[i], ROUTE_BE_WEIGHT) || b[i].weight)
			return NULL;
	return "backendRefs need at least one weight above 0";
}

uint32_t kind_route_backend_weight(const struct mf_route_backend *b)
{
	return sch_has(b, ROUTE_BE_WEIGHT) ? b->weight : 1;
}

const char *kind_check_header_name_lower(const char *s)
{
	const char *why = kind_check_header_name(s);

	if (why)
		return why;
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return "must be lower case";
	return NULL;
}

static const char *const otel_ref_kinds[] = { "MeshOpenTelemetryBackend",
					      NULL };

static const struct sch_field otel_ref_fields[] = {
	SCH_F_ENUM("kind", mf_otel_ref, kind, otel_ref_kinds, SCH_REQUIRED),
	SCH_F_TAGS("labels", mf_otel_ref, labels, SCH_REQUIRED),
};
const struct sch_object kind_otel_backend_ref =
	SCH_OBJECT_INIT("openTelemetry backendRef", otel_ref_fields);

const char *kind_check_otel_endpoint_or_ref(const void *obj)
{
	return sch_has(obj, 0) == sch_has(obj, 1) ?
	       "must have exactly one of endpoint, backendRef" : NULL;
}

void *kind_own_alloc(struct kind_own *o, size_t size)
{
	void **v = grow_room(o->p, o->n, &o->cap, sizeof(*v), 16);
	void *p;

	if (!v)
		return NULL;
	o->p = v;
	p = calloc(1, size ? size : 1);
	if (p)
		o->p[o->n++] = p;
	return p;
}

void kind_own_free(struct kind_own *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->p[i]);
	free(o->p);
	o->p = NULL;
	o->n = o->cap = 0;
}

int kind_parse_cidr4(const char *s, uint8_t net[4], uint8_t *prefix)
{
	const char *slash = strchr(s, '/');
	char addr[16], *end;
	struct in_addr a;
	unsigned long p;
	uint32_t h;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1 || slash[1] < '0' ||
	    slash[1] > '9')
		return -EINVAL;
	p = strtoul(slash + 1, &end, 10);
	if (*end || p > 32)
		return -EINVAL;
	h = ntohl(a.s_addr);
	if (p < 32 && (h & ~(~0u << (32 - p))))
		return -EINVAL;		/* host bits */
	memcpy(net, &a.s_addr, 4);
	*prefix = (uint8_t)p;
	return 0;
}

static const struct sch_field kind_rate_fields[] = {
	SCH_F_INT("num", mf_rate, num, 1, UINT32_MAX, SCH_REQUIRED),
	SCH_F_DURATION("interval", mf_rate, interval, SCH_AT_LEAST(50),
		       SCH_REQUIRED),
};
const struct sch_object kind_rate = SCH_OBJECT_INIT("rate", kind_rate_fields);
