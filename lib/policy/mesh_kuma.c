// SPDX-License-Identifier: Apache-2.0
/*
 * Kuma's Mesh fields beyond mTLS: tracing, logging and metrics backends,
 * networking, constraints, skipCreatingInitialPolicies (mesh_kuma.h has
 * their YAML).  The rules are those of Kuma's Mesh validator: backend
 * names once each, the default (enabled) backend one of them, a type
 * Kuma knows with the conf that type takes, sampling a percentage,
 * prometheus' skipMTLS and tls agreeing, tags of constraint rules.
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "kinds.h"
#include "mesh_kuma.h"

/* ---- tags maps ---------------------------------------------------------- */

/* Kuma's tag names: letters, digits, '.', '-', '/' and '_'. */
static bool mk_tag_chars_ok(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._/-", *s) ||
		      strchr(extra, *s)))
			return false;
	return true;
}

static const char *mk_check_tag_key(const char *s)
{
	return mk_tag_chars_ok(s, "") ? NULL :
	       "tag name must consist of alphanumeric characters, dots, "
	       "dashes, slashes and underscores";
}

/* A selector's value: as a name, ':' too, or "*" (any value). */
static const char *mk_check_tag_value(const char *s)
{
	return !strcmp(s, "*") || mk_tag_chars_ok(s, ":") ? NULL :
	       "tag value must consist of alphanumeric characters, dots, "
	       "dashes, slashes and underscores or be \"*\"";
}

static const struct sch_field rule_tag_fields[] = {
	SCH_F_STRING("key", mf_mesh_tag, key, .check = mk_check_tag_key),
	SCH_F_STRING("value", mf_mesh_tag, value,
		     .check = mk_check_tag_value),
};
SCH_OBJECT_DEF(rule_tag, "tag", .keyed = true);

/* prometheus conf.tags: labels added to every metric, any strings. */
static const struct sch_field label_fields[] = {
	SCH_F_STRING("key", mf_mesh_tag, key),
	SCH_F_STRING("value", mf_mesh_tag, value),
};
SCH_OBJECT_DEF(label, "tag", .keyed = true);

/* ---- names of backends -------------------------------------------------- */

/* "[i].name: %q name is already used for another backend", Kuma's
 * words, for the first backend of the @n whose names are @stride bytes
 * apart from @name0 that repeats a name; or NULL.  *@found: @def (when
 * not NULL) is one of the names. */
static const char *mk_names_check(const char *name0, size_t stride,
				  unsigned n, const char *def, bool *found)
{
	static _Thread_local char why[MF_NAME_MAX + 48];

	*found = false;
	for (unsigned i = 0; i < n; i++) {
		const char *a = name0 + i * stride;

		for (unsigned j = 0; j < i; j++)
			if (!strcmp(a, name0 + j * stride)) {
				snprintf(why, sizeof(why), "[%u].name: "
					 "\"%s\" name is already used for "
					 "another backend", i, a);
				return why;
			}
		*found |= def && !strcmp(a, def);
	}
	return NULL;
}

/* ---- tracing ------------------------------------------------------------ */

static const char *const trace_type_names[] = { "zipkin", "datadog", NULL };
static const char *const zipkin_api_names[] = {
	"httpJsonV1", "httpJson", "httpProto", NULL,
};

/* Kuma parses a zipkin url with Go's url.ParseRequestURI and wants its
 * port spelled out: scheme://host:port[/path]. */
static const char *mk_check_zipkin_url(const char *s)
{
	const char *sep = strstr(s, "://"), *host, *end;
	char hp[MF_PATH_MAX];

	if (!sep || sep == s)
		return "must be an absolute URL such as "
		       "http://zipkin:9411/api/v2/spans";
	for (const char *p = s; p < sep; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("+-.", *p)))
			return "must be an absolute URL such as "
			       "http://zipkin:9411/api/v2/spans";
	host = sep + 3;
	end = host + strcspn(host, "/?#");
	snprintf(hp, sizeof(hp), "%.*s", (int)(end - host), host);
	if (kind_check_host_port(hp, "@", "x"))
		return "port has to be explicitly specified";
	return kind_check_no_space(s);
}

enum {
	TC_URL, TC_TRACE_ID_128, TC_API_VERSION, TC_SHARED_SPAN,
	TC_ADDRESS, TC_PORT, TC_SPLIT_SERVICE,
};

static const struct sch_field trace_conf_fields[] = {
	[TC_URL] = SCH_F_STRING("url", mf_mesh_trace_conf, url,
				.check = mk_check_zipkin_url),
	[TC_TRACE_ID_128] = SCH_F_BOOL("traceId128bit", mf_mesh_trace_conf,
				       trace_id_128bit),
	[TC_API_VERSION] = SCH_F_ENUM("apiVersion", mf_mesh_trace_conf,
				      api_version, zipkin_api_names),
	[TC_SHARED_SPAN] = SCH_F_BOOL("sharedSpanContext", mf_mesh_trace_conf,
				      shared_span_context),
	[TC_ADDRESS] = SCH_F_STRING("address", mf_mesh_trace_conf, address,
				    .check = kind_check_no_space),
	[TC_PORT] = SCH_F_PORT("port", mf_mesh_trace_conf, port),
	[TC_SPLIT_SERVICE] = SCH_F_BOOL("splitService", mf_mesh_trace_conf,
					split_service),
};
SCH_OBJECT_DEF(trace_conf, "tracing backend conf");

#define TC_ZIPKIN (1u << TC_URL | 1u << TC_TRACE_ID_128 |                    \
		   1u << TC_API_VERSION | 1u << TC_SHARED_SPAN)
#define TC_DATADOG (1u << TC_ADDRESS | 1u << TC_PORT | 1u << TC_SPLIT_SERVICE)

enum { TB_NAME, TB_SAMPLING, TB_TYPE, TB_CONF };

/* A zipkin backend's conf holds zipkin's fields and its url; a datadog
 * one's, datadog's and its address and port (Kuma reads the conf as the
 * type's message: another field fails to parse, a missing one is
 * empty). */
static const char *trace_backend_check(const void *obj, unsigned *field)
{
	const struct mf_mesh_trace_backend *b = obj;
	uint32_t p = sch_present(&b->conf);
	bool zipkin = b->type == MF_MESH_TRACE_ZIPKIN;

	*field = TB_CONF;
	if (p & ~(zipkin ? TC_ZIPKIN : TC_DATADOG))
		return zipkin ? "a zipkin backend's conf takes url, "
				"traceId128bit, apiVersion and "
				"sharedSpanContext" :
				"a datadog backend's conf takes address, port "
				"and splitService";
	if (zipkin && !(p & 1u << TC_URL))
		return "url is required for a zipkin backend";
	if (!zipkin && (p & TC_DATADOG & ~(1u << TC_SPLIT_SERVICE)) !=
			       (1u << TC_ADDRESS | 1u << TC_PORT))
		return "address and port are required for a datadog backend";
	return NULL;
}

static const struct sch_field trace_backend_fields[] = {
	[TB_NAME] = SCH_F_STRING("name", mf_mesh_trace_backend, name,
				 SCH_REQUIRED),
	[TB_SAMPLING] = SCH_F_PERCENT("sampling", mf_mesh_trace_backend,
				      sampling),
	[TB_TYPE] = SCH_F_ENUM("type", mf_mesh_trace_backend, type,
			       trace_type_names, SCH_REQUIRED),
	[TB_CONF] = SCH_F_OBJECT("conf", mf_mesh_trace_backend, conf, &trace_conf),
};
SCH_OBJECT_DEF(trace_backend, "tracing backend",
	       .check_field = trace_backend_check);

enum { TR_DEFAULT, TR_BACKENDS };

static const char *tracing_check(const void *obj, unsigned *field)
{
	const struct mf_mesh_tracing *t = obj;
	bool found;
	const char *why = mk_names_check(t->backends[0].name,
					 sizeof(t->backends[0]), t->nbackends,
					 t->default_backend, &found);

	*field = why ? TR_BACKENDS : TR_DEFAULT;
	if (!why && sch_has(t, TR_DEFAULT) && !found)
		why = "has to be set to one of the tracing backends of the mesh";
	return why;
}

static const struct sch_field tracing_fields[] = {
	[TR_DEFAULT] = SCH_F_STRING("defaultBackend", mf_mesh_tracing,
				    default_backend),
	[TR_BACKENDS] = SCH_F_LIST("backends", mf_mesh_tracing, backends,
				   &trace_backend),
};
const struct sch_object mesh_kuma_tracing =
	SCH_OBJECT_INIT("Mesh tracing", tracing_fields,
			.check_field = tracing_check);

/* ---- logging ------------------------------------------------------------ */

static const char *const log_type_names[] = { "file", "tcp", NULL };

/* Go's net.SplitHostPort: HOST:PORT, an IPv6 host in brackets. */
static const char *mk_check_log_address(const char *s)
{
	static const char bad[] = "has to be in format of HOST:PORT";
	const char *colon = strrchr(s, ':');

	if (s[0] == '[' ? !colon || colon[-1] != ']' || colon == s + 2 :
			  colon && memchr(s, ':', (size_t)(colon - s)))
		return bad;
	return kind_check_host_port(s, s[0] == '[' ? "" : "[]", bad);
}

enum { LC_PATH, LC_ADDRESS };

static const struct sch_field log_conf_fields[] = {
	[LC_PATH] = SCH_F_STRING("path", mf_mesh_log_conf, path,
				 .check = kind_check_no_space),
	[LC_ADDRESS] = SCH_F_STRING("address", mf_mesh_log_conf, address,
				    .check = mk_check_log_address),
};
SCH_OBJECT_DEF(log_conf, "logging backend conf");

enum { LB_NAME, LB_FORMAT, LB_TYPE, LB_CONF };

/* A file backend's conf is {path}, a tcp one's {address}. */
static const char *log_backend_check(const void *obj, unsigned *field)
{
	const struct mf_mesh_log_backend *b = obj;
	bool file = b->type == MF_MESH_LOG_FILE;

	*field = LB_CONF;
	if (sch_present(&b->conf) & ~(1u << (file ? LC_PATH : LC_ADDRESS)))
		return file ? "a file backend's conf takes only path" :
			      "a tcp backend's conf takes only address";
	if (!sch_present(&b->conf))
		return file ? "path cannot be empty for a file backend" :
			      "address cannot be empty for a tcp backend";
	return NULL;
}

static const struct sch_field log_backend_fields[] = {
	[LB_NAME] = SCH_F_STRING("name", mf_mesh_log_backend, name, SCH_REQUIRED),
	[LB_FORMAT] = SCH_F_STRING("format", mf_mesh_log_backend, format),
	[LB_TYPE] = SCH_F_ENUM("type", mf_mesh_log_backend, type, log_type_names,
			       SCH_REQUIRED),
	[LB_CONF] = SCH_F_OBJECT("conf", mf_mesh_log_backend, conf, &log_conf),
};
SCH_OBJECT_DEF(log_backend, "logging backend",
	       .check_field = log_backend_check);

static const char *logging_check(const void *obj, unsigned *field)
{
	const struct mf_mesh_logging *l = obj;
	bool found;
	const char *why = mk_names_check(l->backends[0].name,
					 sizeof(l->backends[0]), l->nbackends,
					 l->default_backend, &found);

	*field = why ? TR_BACKENDS : TR_DEFAULT;
	if (!why && sch_has(l, TR_DEFAULT) && !found)
		why = "has to be set to one of the logging backends of the mesh";
	return why;
}

static const struct sch_field logging_fields[] = {
	[TR_DEFAULT] = SCH_F_STRING("defaultBackend", mf_mesh_logging,
				    default_backend),
	[TR_BACKENDS] = SCH_F_LIST("backends", mf_mesh_logging, backends,
				   &log_backend),
};
const struct sch_object mesh_kuma_logging =
	SCH_OBJECT_INIT("Mesh logging", logging_fields,
			.check_field = logging_check);

/* ---- metrics ------------------------------------------------------------ */

static const char *const metrics_type_names[] = { "prometheus", NULL };
/* PrometheusTlsConfig.Mode, 1 + its number in Kuma's enum. */
static const char *const prom_tls_names[] = {
	"activeMTLSBackend", "providedTLS", "disabled", NULL,
};

static const struct sch_field prom_aggregate_fields[] = {
	SCH_F_STRING("name", mf_prom_aggregate, name, SCH_REQUIRED),
	SCH_F_PORT("port", mf_prom_aggregate, port),
	SCH_F_STRING("path", mf_prom_aggregate, path,
		     .check = kind_check_abs_path),
	SCH_F_BOOL("enabled", mf_prom_aggregate, enabled),
	SCH_F_STRING("address", mf_prom_aggregate, address,
		     .check = kind_check_no_space),
};
SCH_OBJECT_DEF(prom_aggregate, "prometheus aggregate");

static const char *mk_check_regex(const char *s)
{
	return kind_regex_ok(s) ? NULL : "provided regexp isn't correct";
}

static const struct sch_field prom_envoy_fields[] = {
	SCH_F_STRING("filterRegex", mf_prom_envoy, filter_regex,
		     .check = mk_check_regex),
	SCH_F_BOOL("usedOnly", mf_prom_envoy, used_only),
};
SCH_OBJECT_DEF(prom_envoy, "prometheus envoy");

static const struct sch_field prom_tls_fields[] = {
	SCH_F_ENUM("mode", mf_prom_tls, mode, prom_tls_names),
};
SCH_OBJECT_DEF(prom_tls, "prometheus tls");

enum {
	PC_PORT, PC_PATH, PC_TAGS, PC_SKIP_MTLS, PC_AGGREGATE, PC_ENVOY,
	PC_TLS,
};

/* skipMTLS and tls say the same when both are written (false and
 * activeMTLSBackend, true and disabled); aggregate names once each. */
static const char *prom_conf_check(const void *obj, unsigned *field)
{
	static _Thread_local char why[MF_NAME_MAX + 64];
	const struct mf_prom_conf *c = obj;
	/* An unset mode is Kuma's 0, activeMTLSBackend. */
	unsigned mode = c->tls.mode ? c->tls.mode : 1;

	*field = PC_TLS;
	if (sch_has(c, PC_SKIP_MTLS) && sch_has(c, PC_TLS) &&
	    !((!c->skip_mtls && mode == 1) || (c->skip_mtls && mode == 3)))
		return "skipMTLS and tls configuration cannot be defined "
		       "together";
	*field = PC_AGGREGATE;
	for (unsigned i = 0; i < c->naggregate && i < MF_PROM_AGGREGATE_MAX;
	     i++)
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(c->aggregate[i].name,
				    c->aggregate[j].name)) {
				snprintf(why, sizeof(why), "[%u].name: duplicate "
					 "entry: %s, values have to be unique",
					 i, c->aggregate[i].name);
				return why;
			}
	return NULL;
}

static const struct sch_field prom_conf_fields[] = {
	[PC_PORT] = SCH_F_PORT("port", mf_prom_conf, port),
	[PC_PATH] = SCH_F_STRING("path", mf_prom_conf, path,
				 .check = kind_check_abs_path),
	[PC_TAGS] = SCH_F_LIST("tags", mf_prom_conf, tags, &label),
	[PC_SKIP_MTLS] = SCH_F_BOOL("skipMTLS", mf_prom_conf, skip_mtls),
	[PC_AGGREGATE] = SCH_F_LIST("aggregate", mf_prom_conf, aggregate,
				    &prom_aggregate),
	[PC_ENVOY] = SCH_F_OBJECT("envoy", mf_prom_conf, envoy, &prom_envoy),
	[PC_TLS] = SCH_F_OBJECT("tls", mf_prom_conf, tls, &prom_tls),
};
SCH_OBJECT_DEF(prom_conf, "prometheus conf",
	       .check_field = prom_conf_check);

static const struct sch_field metrics_backend_fields[] = {
	SCH_F_STRING("name", mf_metrics_backend, name, SCH_REQUIRED),
	SCH_F_ENUM("type", mf_metrics_backend, type, metrics_type_names,
		   SCH_REQUIRED),
	SCH_F_OBJECT("conf", mf_metrics_backend, conf, &prom_conf),
};
SCH_OBJECT_DEF(metrics_backend, "metrics backend");

static const char *metrics_check(const void *obj, unsigned *field)
{
	const struct mf_mesh_metrics *m = obj;
	bool found;
	const char *why = mk_names_check(m->backends[0].name,
					 sizeof(m->backends[0]), m->nbackends,
					 m->enabled_backend, &found);

	*field = why ? TR_BACKENDS : TR_DEFAULT;
	if (!why && sch_has(m, TR_DEFAULT) && !found)
		why = "has to be set to one of the backends in the mesh";
	return why;
}

static const struct sch_field metrics_fields[] = {
	[TR_DEFAULT] = SCH_F_STRING("enabledBackend", mf_mesh_metrics,
				    enabled_backend),
	[TR_BACKENDS] = SCH_F_LIST("backends", mf_mesh_metrics, backends,
				   &metrics_backend),
};
const struct sch_object mesh_kuma_metrics =
	SCH_OBJECT_INIT("Mesh metrics", metrics_fields,
			.check_field = metrics_check);

/* ---- networking, constraints, skipCreatingInitialPolicies --------------- */

static const struct sch_field outbound_fields[] = {
	SCH_F_BOOL("passthrough", mf_mesh_outbound, passthrough),
};
SCH_OBJECT_DEF(outbound, "Mesh networking outbound");

static const struct sch_field networking_fields[] = {
	SCH_F_OBJECT("outbound", mf_mesh_networking, outbound, &outbound),
};
const struct sch_object mesh_kuma_networking =
	SCH_OBJECT_INIT("Mesh networking", networking_fields);

/* Kuma's RequireAtLeastOneTag. */
static const char *rule_check(const void *obj)
{
	const struct mf_mesh_rule *r = obj;

	return r->ntags ? NULL : "must have at least one tag";
}

static const struct sch_field rule_fields[] = {
	SCH_F_LIST("tags", mf_mesh_rule, tags, &rule_tag),
};
SCH_OBJECT_DEF(rule, "constraint", .check = rule_check);

static const struct sch_field dp_constraints_fields[] = {
	SCH_F_LIST("requirements", mf_mesh_dp_constraints, requirements,
		   &rule),
	SCH_F_LIST("restrictions", mf_mesh_dp_constraints, restrictions,
		   &rule),
};
SCH_OBJECT_DEF(dp_constraints, "dataplaneProxy constraints");

static const struct sch_field constraints_fields[] = {
	SCH_F_OBJECT("dataplaneProxy", mf_mesh_constraints, dataplane_proxy,
		     &dp_constraints),
};
const struct sch_object mesh_kuma_constraints =
	SCH_OBJECT_INIT("Mesh constraints", constraints_fields);

/* Kind names of the default policies Kuma would create, or "*". */
static const struct sch_field skip_fields[] = {
	SCH_ITEM(SCH_STRING, MF_NAME_MAX),
};
const struct sch_object mesh_kuma_skip =
	SCH_OBJECT_INIT("policy kind", skip_fields, .scalar = true);

/* ---- admission ---------------------------------------------------------- */

/* Every tag of @r is one of @ts with that value, or "*". */
static bool mk_rule_matches(const struct mf_mesh_rule *r,
			    const struct mf_tagset *ts)
{
	for (unsigned i = 0; i < r->ntags && i < MF_MESH_TAGS_MAX; i++) {
		const char *v = kind_tag_value(ts, r->tags[i].key);

		if (!v || (strcmp(r->tags[i].value, "*") &&
			   strcmp(r->tags[i].value, v)))
			return false;
	}
	return true;
}

/* " {k: v, k2: v2}" of @r into @buf at @len. */
static void mk_rule_str(char *buf, size_t n, const struct mf_mesh_rule *r)
{
	size_t len = strlen(buf);

	for (unsigned i = 0; i < r->ntags && i < MF_MESH_TAGS_MAX &&
			     len < n; i++) {
		snprintf(buf + len, n - len, "%s%s: %s", i ? ", " : " {",
			 r->tags[i].key, r->tags[i].value);
		len += strlen(buf + len);
	}
	if (len < n)
		snprintf(buf + len, n - len, "}");
}

const char *mesh_kuma_admit(const struct mf_mesh_constraints *c,
			    const struct mf_tagset *ts, char *buf, size_t n)
{
	const struct mf_mesh_dp_constraints *d = &c->dataplane_proxy;
	unsigned nreq = d->nrequirements, i;

	for (i = 0; i < d->nrestrictions && i < MF_MESH_RULES_MAX; i++)
		if (mk_rule_matches(&d->restrictions[i], ts)) {
			snprintf(buf, n, "its tags match the Mesh's "
				 "constraints.dataplaneProxy.restrictions[%u]",
				 i);
			mk_rule_str(buf, n, &d->restrictions[i]);
			return buf;
		}
	for (i = 0; i < nreq && i < MF_MESH_RULES_MAX; i++)
		if (mk_rule_matches(&d->requirements[i], ts))
			return NULL;
	if (!nreq)
		return NULL;
	snprintf(buf, n, "its tags match none of the Mesh's "
		 "constraints.dataplaneProxy.requirements (the first:");
	mk_rule_str(buf, n, &d->requirements[0]);
	if (strlen(buf) + 1 < n)
		strcat(buf, ")");
	return buf;
}
