// SPDX-License-Identifier: Apache-2.0
/*
 * Dataplane: Kuma's universal description of a proxy, the workload next to
 * it (inbound), what it reaches (outbound, transparentProxying) and, since
 * Kuma 2.13, the zone ingress and egress listeners it runs.  The shape is
 * Kuma 2.14's and 3.0's together: inbound and outbound tags,
 * advertisedAddress, reachableServices, a BUILTIN gateway, metrics and
 * probes are 2.x's (3.0 dropped them); an outbound needs a backendRef, or
 * in 2.x's way tags instead.
 *
 *   spec:
 *     networking:
 *       address: 192.168.0.1             # an IP address or a DNS name
 *       inbound:                         # at most 4
 *         - port: 8080                   # where the proxy listens
 *           servicePort: 7777            # the workload's, if not port
 *           serviceAddress: 127.0.0.1    # the workload's, if not address
 *           name: http                   # what sectionName selects
 *           protocol: http               # tcp, http, http2, grpc, ...
 *           tags: {kuma.io/service: backend, version: v1}
 *           serviceProbe: {interval: 1s, timeout: 1s,
 *                          healthyThreshold: 1, unhealthyThreshold: 5,
 *                          tcp: {}}
 *       outbound:                        # at most 8
 *         - port: 3333
 *           backendRef: {kind: MeshService, name: redis, port: 6379}
 *       gateway: {type: DELEGATED, tags: {kuma.io/service: kong}}
 *       transparentProxying:
 *         redirectPortInbound: 15006
 *         redirectPortOutbound: 15001
 *         ipFamilyMode: DualStack
 *         reachableBackends:
 *           refs: [{kind: MeshService, name: redis, port: 6379}]
 *       admin: {port: 9901}
 *       listeners:                       # at most 2
 *         - {type: ZoneIngress, address: 192.168.0.1, port: 10001,
 *            name: zi}
 *     probes: {port: 9000, endpoints: [{inboundPort: 8080,
 *              inboundPath: /healthz, path: /8080/healthz}]}
 *     metrics: {type: prometheus, conf: {port: 5670, path: /metrics}}
 *
 * Kuma's rules: addresses are IP addresses (networking.address and a
 * listener's may be DNS names, never 0.0.0.0 or ::); a workload address
 * and port differ from the proxy's; a delegated gateway has no inbound and
 * no listeners, a builtin one no inbound, outbound, listeners or probes;
 * the admin port is none of 127.0.0.1's inbound or outbound ports;
 * listener names are unique among inbound and listener names, and their
 * address:port among listeners and inbounds; Kuma 2.x's tags of an
 * inbound, outbound or gateway have a kuma.io/service, values without '/'
 * or '*' and a kuma.io/protocol Kuma knows (a gateway's: tcp), and an
 * empty tags or labels map is none, as in Kuma's proto.  Snake-case
 * spellings (transparent_proxying) are not read; Kuma's proto reader
 * takes both.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kinds.h"

/* ---- strings ----------------------------------------------------------- */

/* Go's net.ParseIP. */
static bool dp_ip_ok(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET, s, &a) == 1 ||
	       inet_pton(AF_INET6, s, &a) == 1;
}

/* govalidator's IsDNSName, as Kuma has it: labels of 1..63 letters,
 * digits, '_' and '-' (not first), an optional final dot, not an IP. */
static bool dp_dns_name_ok(const char *s)
{
	size_t label = 0;

	if (dp_ip_ok(s))
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (!label)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '_' &&
		    (*p != '-' || !label))
			return false;
		if (++label > 63)
			return false;
	}
	return *s && (label || s[strlen(s) - 1] == '.');
}

static const char *dp_check_ip(const char *s)
{
	return dp_ip_ok(s) ? NULL : "must be an IP address";
}

/* Where other proxies reach this one: never every address. */
static const char *dp_check_host(const char *s)
{
	if (!strcmp(s, "0.0.0.0") || !strcmp(s, "::"))
		return "must not be 0.0.0.0 or ::";
	return dp_ip_ok(s) || dp_dns_name_ok(s) ? NULL :
	       "must be an IP address or a DNS name";
}

/* Kuma's ParseProtocol, which ignores case. */
static const char *dp_check_protocol(const char *s)
{
	static const char *const known[] = { "tcp", "tls", "http", "http2",
					     "grpc", "kafka", "mysql", NULL };

	for (size_t i = 0; known[i]; i++)
		if (!strcasecmp(s, known[i]))
			return NULL;
	return "must be tcp, tls, http, http2, grpc, kafka or mysql";
}

/* What Go's url.ParseRequestURI takes, which Kuma asks of probe paths: an
 * absolute path (valid %-escapes before any query), an absolute URI or
 * "*", without control characters. */
static const char *dp_check_request_uri(const char *s)
{
	static const char bad[] = "must be a URL path such as /healthz";
	const char *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return bad;
	if (!strcmp(s, "*"))
		return NULL;
	if (isalpha((unsigned char)s[0])) {
		for (p = s + 1; isalnum((unsigned char)*p) || *p == '+' ||
				*p == '-' || *p == '.'; p++)
			;
		if (*p == ':')
			return NULL;
	}
	if (s[0] != '/')
		return bad;
	for (p = s; *p && *p != '?'; p++) {
		if (*p != '%')
			continue;
		if (!isxdigit((unsigned char)p[1]) ||
		    !isxdigit((unsigned char)p[2]))
			return bad;
		p += 2;
	}
	return NULL;
}

/* ---- tags (Kuma 2.x) ---------------------------------------------------- */

#define DP_SERVICE_TAG	"kuma.io/service"

/* What Kuma's ValidateTags asks of a proxy's own tags, over the tag
 * rules of every kind: values without '/' and not "*" (those select, and
 * these are what is selected), and a kuma.io/service. */
static const char *dp_check_proxy_tags(const struct mf_tagset *ts,
				       const char **key)
{
	for (unsigned i = 0; i < ts->n && i < MF_TAGS_MAX; i++) {
		const char *v = ts->tags[i].value;

		if (v[strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz0123456789._:-")]) {
			*key = ts->tags[i].key;
			return "a proxy's tag values are characters of A-Z, "
			       "a-z, 0-9, '.', '_', ':' and '-'";
		}
	}
	return kind_tag_value(ts, DP_SERVICE_TAG) ? NULL :
	       "must have a " DP_SERVICE_TAG " tag";
}

/* An inbound's: its kuma.io/protocol is one Kuma knows. */
static const char *dp_check_inbound_tags(const struct mf_tagset *ts,
					 const char **key)
{
	const char *why = dp_check_proxy_tags(ts, key);
	const char *proto = kind_tag_value(ts, KIND_PROTOCOL_TAG);

	if (why || !proto || !(why = dp_check_protocol(proto)))
		return why;
	*key = KIND_PROTOCOL_TAG;
	return why;
}

/* A gateway's: the mesh sees its inbound traffic as TCP only. */
static const char *dp_check_gateway_tags(const struct mf_tagset *ts,
					 const char **key)
{
	const char *why = dp_check_proxy_tags(ts, key);
	const char *proto = kind_tag_value(ts, KIND_PROTOCOL_TAG);

	if (why || !proto || !strcasecmp(proto, "tcp"))
		return why;
	*key = KIND_PROTOCOL_TAG;
	return "must be tcp for a gateway";
}

static const char *dp_check_name(const char *s)
{
	return kind_dns_name_ok(s) ? NULL :
	       "must be a lower-case DNS name (RFC 1123)";
}

static const char *dp_check_regex(const char *s)
{
	return kind_regex_ok(s) ? NULL : "must be a regular expression";
}

/* ---- inbound ----------------------------------------------------------- */

static const char *const dp_inbound_states[] = { "Ready", "NotReady",
						 "Ignored", NULL };

static const struct sch_field dp_health_fields[] = {
	SCH_F_BOOL("ready", mf_dp_health, ready),
};
SCH_OBJECT_DEF(dp_health, "Dataplane inbound health");

static const struct sch_object dp_empty = {
	.name = "Dataplane serviceProbe tcp (no settings)",
};

static const struct sch_field dp_service_probe_fields[] = {
	SCH_F_DURATION("interval", mf_dp_service_probe, interval,
		       SCH_AT_LEAST(1)),
	SCH_F_DURATION("timeout", mf_dp_service_probe, timeout,
		       SCH_AT_LEAST(1)),
	SCH_F_INT("unhealthyThreshold", mf_dp_service_probe,
		  unhealthy_threshold, 1, UINT32_MAX),
	SCH_F_INT("healthyThreshold", mf_dp_service_probe, healthy_threshold,
		  1, UINT32_MAX),
	SCH_F_OBJECT("tcp", mf_dp_service_probe, tcp, &dp_empty),
};
SCH_OBJECT_DEF(dp_service_probe, "Dataplane serviceProbe");

enum { IN_PORT, IN_SERVICE_PORT, IN_SERVICE_ADDRESS, IN_ADDRESS };

/* The workload is not the proxy: a serviceAddress equal to the inbound's
 * address needs another port.  (Against networking.address: the
 * networking check.) */
static const char *dp_inbound_check(const void *obj, unsigned *field)
{
	const struct mf_dp_inbound *in = obj;

	*field = IN_SERVICE_ADDRESS;
	if (sch_has(in, IN_ADDRESS) && sch_has(in, IN_SERVICE_ADDRESS) &&
	    !strcmp(in->address, in->service_address) &&
	    (!in->service_port || in->service_port == in->port))
		return "serviceAddress and servicePort must differ from "
		       "address and port";
	return NULL;
}

static const struct sch_field dp_inbound_fields[] = {
	[IN_PORT] = SCH_F_PORT("port", mf_dp_inbound, port, SCH_REQUIRED),
	/* 0 is Kuma's "unset": the port. */
	[IN_SERVICE_PORT] = SCH_F_INT("servicePort", mf_dp_inbound,
				      service_port, 0, 65535),
	[IN_SERVICE_ADDRESS] = SCH_F_STRING("serviceAddress", mf_dp_inbound,
					    service_address,
					    .check = dp_check_ip),
	[IN_ADDRESS] = SCH_F_STRING("address", mf_dp_inbound, address,
				    .check = dp_check_ip),
	SCH_F_TAGS("tags", mf_dp_inbound, tags,
		   .check_tags = dp_check_inbound_tags, .empty_ok = true),
	SCH_F_OBJECT("health", mf_dp_inbound, health, &dp_health),
	SCH_F_OBJECT("serviceProbe", mf_dp_inbound, service_probe,
		     &dp_service_probe),
	SCH_F_ENUM("state", mf_dp_inbound, state, dp_inbound_states),
	SCH_F_STRING("name", mf_dp_inbound, name),
	SCH_F_STRING("protocol", mf_dp_inbound, protocol,
		     .check = dp_check_protocol),
};
SCH_OBJECT_DEF(dp_inbound, "Dataplane inbound",
	       .check_field = dp_inbound_check);

/* ---- outbound ---------------------------------------------------------- */

static const char *const dp_ref_kinds[] = { "MeshService",
					    "MeshExternalService",
					    "MeshMultiZoneService", NULL };

enum { BR_KIND, BR_NAME, BR_PORT, BR_LABELS };

static const char *dp_backend_ref_check(const void *obj)
{
	return sch_has(obj, BR_NAME) || sch_has(obj, BR_LABELS) ? NULL :
	       "needs name or labels";
}

/* An external service's port comes from its endpoints. */
static const char *dp_backend_ref_port(const void *obj, unsigned *field)
{
	const struct mf_dp_backend_ref *r = obj;

	*field = BR_PORT;
	return !sch_has(r, BR_PORT) &&
	       r->kind != MF_DP_REF_MESH_EXTERNAL_SERVICE ?
	       "is required for kind MeshService and MeshMultiZoneService" :
	       NULL;
}

static const struct sch_field dp_backend_ref_fields[] = {
	[BR_KIND] = SCH_F_ENUM("kind", mf_dp_backend_ref, kind, dp_ref_kinds,
			       SCH_REQUIRED),
	[BR_NAME] = SCH_F_STRING("name", mf_dp_backend_ref, name),
	[BR_PORT] = SCH_F_PORT("port", mf_dp_backend_ref, port),
	[BR_LABELS] = SCH_F_TAGS("labels", mf_dp_backend_ref, labels,
				 .empty_ok = true),
};
SCH_OBJECT_DEF(dp_backend_ref, "Dataplane outbound backendRef",
	       .check = dp_backend_ref_check,
	       .check_field = dp_backend_ref_port);

enum { OUT_PORT, OUT_ADDRESS, OUT_TAGS, OUT_BACKEND_REF };

/* A destination by backendRef (Kuma 3.0's only way) or, as in 2.x, by
 * tags: one of them. */
static const char *dp_outbound_check(const void *obj, unsigned *field)
{
	bool ref = sch_has(obj, OUT_BACKEND_REF), tags = sch_has(obj, OUT_TAGS);

	*field = OUT_BACKEND_REF;
	if (ref && tags)
		return "must not be set with tags";
	return ref || tags ? NULL :
	       "is required (or tags with kuma.io/service, as in Kuma 2.x)";
}

static const struct sch_field dp_outbound_fields[] = {
	[OUT_PORT] = SCH_F_PORT("port", mf_dp_outbound, port, SCH_REQUIRED),
	[OUT_ADDRESS] = SCH_F_STRING("address", mf_dp_outbound, address,
				     .check = dp_check_ip),
	[OUT_TAGS] = SCH_F_TAGS("tags", mf_dp_outbound, tags,
				.check_tags = dp_check_proxy_tags,
				.empty_ok = true),
	[OUT_BACKEND_REF] = SCH_F_OBJECT("backendRef", mf_dp_outbound,
					 backend_ref, &dp_backend_ref),
};
SCH_OBJECT_DEF(dp_outbound, "Dataplane outbound",
	       .check_field = dp_outbound_check);

/* ---- gateway, transparentProxying, admin, listeners --------------------- */

static const char *const dp_gateway_types[] = { "DELEGATED", "BUILTIN",
						NULL };

enum { GW_TAGS, GW_TYPE };

static const struct sch_field dp_gateway_fields[] = {
	[GW_TAGS] = SCH_F_TAGS("tags", mf_dp_gateway, tags,
			       .check_tags = dp_check_gateway_tags,
			       .empty_ok = true),
	[GW_TYPE] = SCH_F_ENUM("type", mf_dp_gateway, type, dp_gateway_types),
};
SCH_OBJECT_DEF(dp_gateway, "Dataplane gateway");

enum { RR_KIND, RR_NAME, RR_NAMESPACE, RR_PORT, RR_LABELS };

/* A ref names its backend (and namespace) or selects by labels. */
static const char *dp_reachable_ref_none(const void *obj)
{
	return sch_present(obj) & ((1u << RR_NAME) | (1u << RR_NAMESPACE) |
				   (1u << RR_LABELS)) ? NULL :
	       "needs name or labels";
}

static const char *dp_reachable_ref_check(const void *obj, unsigned *field)
{
	bool named = sch_has(obj, RR_NAME) || sch_has(obj, RR_NAMESPACE);

	*field = RR_NAMESPACE;
	if (sch_has(obj, RR_NAMESPACE) && !sch_has(obj, RR_NAME))
		return "needs name";
	*field = RR_LABELS;
	return named && sch_has(obj, RR_LABELS) ?
	       "must not be set with name or namespace: a ref names its "
	       "backend or selects it by labels" : NULL;
}

static const struct sch_field dp_reachable_ref_fields[] = {
	[RR_KIND] = SCH_F_ENUM("kind", mf_dp_reachable_ref, kind, dp_ref_kinds,
			       SCH_REQUIRED),
	[RR_NAME] = SCH_F_STRING("name", mf_dp_reachable_ref, name,
				 .check = dp_check_name),
	[RR_NAMESPACE] = SCH_F_STRING("namespace", mf_dp_reachable_ref,
				      namespace),
	[RR_PORT] = SCH_F_INT("port", mf_dp_reachable_ref, port, 0, 65535),
	[RR_LABELS] = SCH_F_TAGS("labels", mf_dp_reachable_ref, labels,
				 .empty_ok = true),
};
SCH_OBJECT_DEF(dp_reachable_ref, "Dataplane reachableBackends ref",
	       .check = dp_reachable_ref_none,
	       .check_field = dp_reachable_ref_check);

static const struct sch_field dp_reachable_backends_fields[] = {
	SCH_F_LIST("refs", mf_dp_reachable_backends, refs, &dp_reachable_ref),
};
SCH_OBJECT_DEF(dp_reachable_backends, "Dataplane reachableBackends");

/* kuma.io/service values, or "*". */
static const struct sch_field dp_services_fields[] = {
	SCH_ITEM(SCH_STRING, MF_TAG_VALUE_MAX),
};
SCH_OBJECT_DEF(dp_services, "service", .scalar = true);

static const char *const dp_ip_family_modes[] = { "UnSpecified", "DualStack",
						  "IPv4", "IPv6", NULL };

/* Kuma checks none of these; ports stay ports (0: Kuma's default). */
static const struct sch_field dp_tproxy_fields[] = {
	SCH_F_INT("redirectPortInbound", mf_dp_tproxy, redirect_port_inbound,
		  0, 65535),
	SCH_F_INT("redirectPortOutbound", mf_dp_tproxy,
		  redirect_port_outbound, 0, 65535),
	SCH_F_LIST("directAccessServices", mf_dp_tproxy,
		   direct_access_services, &dp_services),
	SCH_F_LIST("reachableServices", mf_dp_tproxy, reachable_services,
		   &dp_services),
	SCH_F_ENUM("ipFamilyMode", mf_dp_tproxy, ip_family_mode,
		   dp_ip_family_modes),
	SCH_F_OBJECT("reachableBackends", mf_dp_tproxy, reachable_backends,
		     &dp_reachable_backends),
};
SCH_OBJECT_DEF(dp_tproxy, "Dataplane transparentProxying");

static const struct sch_field dp_admin_fields[] = {
	SCH_F_INT("port", mf_dp_admin, port, 0, 65535),
};
SCH_OBJECT_DEF(dp_admin, "Dataplane admin");

static const char *const dp_listener_types[] = { "ZoneIngress", "ZoneEgress",
						 NULL };
static const char *const dp_listener_states[] = { "Ready", "NotReady",
						  NULL };

enum { LS_TYPE, LS_ADDRESS, LS_PORT, LS_NAME, LS_STATE };

static const struct sch_field dp_listener_fields[] = {
	[LS_TYPE] = SCH_F_ENUM("type", mf_dp_listener, type, dp_listener_types,
			       SCH_REQUIRED),
	[LS_ADDRESS] = SCH_F_STRING("address", mf_dp_listener, address,
				    SCH_REQUIRED, .check = dp_check_host),
	[LS_PORT] = SCH_F_PORT("port", mf_dp_listener, port, SCH_REQUIRED),
	[LS_NAME] = SCH_F_STRING("name", mf_dp_listener, name),
	[LS_STATE] = SCH_F_ENUM("state", mf_dp_listener, state,
				dp_listener_states),
};
SCH_OBJECT_DEF(dp_listener, "Dataplane listener");

/* ---- networking: rules across its parts -------------------------------- */

enum {
	NET_ADDRESS, NET_ADVERTISED, NET_INBOUND, NET_OUTBOUND, NET_GATEWAY,
	NET_TPROXY, NET_ADMIN, NET_LISTENERS,
};

static bool dp_builtin(const struct mf_dp_networking *n)
{
	return sch_has(n, NET_GATEWAY) &&
	       n->gateway.type == MF_DP_GATEWAY_BUILTIN;
}

/* Whether address @ip (an IP address, else never) covers 127.0.0.1: it is
 * it, or every address (Kuma's overlap()). */
static bool dp_on_loopback(const char *ip)
{
	struct in6_addr a;
	struct in_addr b;

	if (inet_pton(AF_INET, ip, &b) == 1)
		return b.s_addr == htonl(INADDR_ANY) ||
		       b.s_addr == htonl(INADDR_LOOPBACK);
	if (inet_pton(AF_INET6, ip, &a) != 1)
		return false;
	if (IN6_IS_ADDR_UNSPECIFIED(&a))
		return true;
	/* ::ffff:127.0.0.1 is 127.0.0.1 to Go's net.IP.Equal. */
	return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127 &&
	       !a.s6_addr[13] && !a.s6_addr[14] && a.s6_addr[15] == 1;
}

/* The address inbound @in listens on: its own, or networking.address. */
static const char *dp_inbound_ip(const struct mf_dp_networking *n,
				 const struct mf_dp_inbound *in)
{
	return in->address[0] ? in->address : n->address;
}

/* Envoy's admin listens on 127.0.0.1: no inbound (the proxy's side or the
 * workload's) or outbound may take its port there. */
static const char *dp_admin_check(const struct mf_dp_networking *n,
				  char *why, size_t len)
{
	unsigned port = n->admin.port;

	for (unsigned i = 0; i < n->ninbound && i < MF_DP_INBOUNDS_MAX; i++) {
		const struct mf_dp_inbound *in = &n->inbound[i];
		const char *ip = dp_inbound_ip(n, in);
		const char *wl = in->service_address[0] ? in->service_address :
							  ip;
		unsigned wport = in->service_port ? in->service_port : in->port;

		if ((port == in->port && dp_on_loopback(ip)) ||
		    (port == wport && dp_on_loopback(wl))) {
			snprintf(why, len, "port %u is taken by inbound[%u] "
				 "on 127.0.0.1", port, i);
			return why;
		}
	}
	for (unsigned i = 0; i < n->noutbound && i < MF_DP_OUTBOUNDS_MAX;
	     i++) {
		const struct mf_dp_outbound *out = &n->outbound[i];

		if (port == out->port &&
		    dp_on_loopback(out->address[0] ? out->address :
						     "127.0.0.1")) {
			snprintf(why, len, "port %u is taken by outbound[%u] "
				 "on 127.0.0.1", port, i);
			return why;
		}
	}
	return NULL;
}

/* An inbound's section name: its name, else its port (Kuma's
 * GetSectionName). */
static const char *dp_section(char *buf, size_t len, const char *name,
			      unsigned port)
{
	if (name[0])
		return name;
	snprintf(buf, len, "%u", port);
	return buf;
}

/* Listener names are section names too, unique with the inbounds'; no two
 * listeners and no listener and inbound share an address:port. */
static const char *dp_listeners_check(const struct mf_dp_networking *n,
				      char *why, size_t len)
{
	char a[8];

	for (unsigned i = 0; i < n->nlisteners && i < MF_DP_LISTENERS_MAX;
	     i++) {
		const struct mf_dp_listener *l = &n->listeners[i];

		for (unsigned j = 0; l->name[0] && j < n->ninbound &&
				     j < MF_DP_INBOUNDS_MAX; j++)
			if (!strcmp(l->name, dp_section(a, sizeof(a),
							 n->inbound[j].name,
							 n->inbound[j].port))) {
				snprintf(why, len, "entry %u: name \"%s\" is "
					 "inbound[%u]'s (inbound and listener "
					 "names are unique together)", i,
					 l->name, j);
				return why;
			}
		for (unsigned j = 0; j < i; j++) {
			const struct mf_dp_listener *m = &n->listeners[j];

			if (l->name[0] && !strcmp(l->name, m->name)) {
				snprintf(why, len, "entry %u: name \"%s\" is "
					 "entry %u's too", i, l->name, j);
				return why;
			}
			if (l->port == m->port &&
			    !strcmp(l->address, m->address)) {
				snprintf(why, len, "entry %u: %s:%u is entry "
					 "%u's too%s", i, l->address, l->port,
					 j, l->type == m->type ? "" :
					 ", a listener of another type");
				return why;
			}
		}
		for (unsigned j = 0; j < n->ninbound && j < MF_DP_INBOUNDS_MAX;
		     j++) {
			const struct mf_dp_inbound *in = &n->inbound[j];

			if (l->port == in->port &&
			    !strcmp(l->address, dp_inbound_ip(n, in))) {
				snprintf(why, len, "entry %u: %s:%u is "
					 "inbound[%u]'s", i, l->address,
					 l->port, j);
				return why;
			}
		}
	}
	return NULL;
}

static const char *dp_networking_check(const void *obj, unsigned *field)
{
	static _Thread_local char why[MF_DP_HOST_MAX + 96];
	const struct mf_dp_networking *n = obj;
	bool gateway = sch_has(n, NET_GATEWAY), builtin = dp_builtin(n);
	const char *kind = builtin ? "a builtin" : "a delegated";

	*field = NET_ADMIN;
	if (sch_has(n, NET_ADMIN) && dp_admin_check(n, why, sizeof(why)))
		return why;
	if (gateway) {
		snprintf(why, sizeof(why), "must be empty for %s gateway",
			 kind);
		*field = NET_INBOUND;
		if (n->ninbound)
			return why;
		*field = NET_OUTBOUND;
		if (builtin && n->noutbound)
			return why;
		*field = NET_LISTENERS;
		if (n->nlisteners)
			return why;
	}
	*field = NET_INBOUND;
	for (unsigned i = 0; i < n->ninbound && i < MF_DP_INBOUNDS_MAX; i++) {
		const struct mf_dp_inbound *in = &n->inbound[i];

		if (in->service_address[0] &&
		    !strcmp(in->service_address, n->address) &&
		    (!in->service_port || in->service_port == in->port)) {
			snprintf(why, sizeof(why), "entry %u: serviceAddress "
				 "and servicePort must differ from "
				 "networking.address and port", i);
			return why;
		}
	}
	*field = NET_LISTENERS;
	return dp_listeners_check(n, why, sizeof(why));
}

static const struct sch_field dp_networking_fields[] = {
	[NET_ADDRESS] = SCH_F_STRING("address", mf_dp_networking, address,
				     SCH_REQUIRED, .check = dp_check_host),
	/* Kuma 2.x; it checks nothing of it. */
	[NET_ADVERTISED] = SCH_F_STRING("advertisedAddress", mf_dp_networking,
					advertised_address),
	[NET_INBOUND] = SCH_F_LIST("inbound", mf_dp_networking, inbound,
				   &dp_inbound),
	[NET_OUTBOUND] = SCH_F_LIST("outbound", mf_dp_networking, outbound,
				    &dp_outbound),
	[NET_GATEWAY] = SCH_F_OBJECT("gateway", mf_dp_networking, gateway,
				     &dp_gateway),
	[NET_TPROXY] = SCH_F_OBJECT("transparentProxying", mf_dp_networking,
				    transparent_proxying, &dp_tproxy),
	[NET_ADMIN] = SCH_F_OBJECT("admin", mf_dp_networking, admin,
				   &dp_admin),
	[NET_LISTENERS] = SCH_F_LIST("listeners", mf_dp_networking, listeners,
				     &dp_listener),
};
SCH_OBJECT_DEF(dp_networking, "Dataplane networking",
	       .check_field = dp_networking_check);

/* ---- probes and metrics (Kuma 2.x) -------------------------------------- */

static const struct sch_field dp_probe_endpoint_fields[] = {
	SCH_F_PORT("inboundPort", mf_dp_probe_endpoint, inbound_port,
		   SCH_REQUIRED),
	SCH_F_STRING("inboundPath", mf_dp_probe_endpoint, inbound_path,
		     SCH_REQUIRED, .check = dp_check_request_uri),
	SCH_F_STRING("path", mf_dp_probe_endpoint, path, SCH_REQUIRED,
		     .check = dp_check_request_uri),
};
SCH_OBJECT_DEF(dp_probe_endpoint, "Dataplane probes endpoint");

static const struct sch_field dp_probes_fields[] = {
	SCH_F_PORT("port", mf_dp_probes, port, SCH_REQUIRED),
	SCH_F_LIST("endpoints", mf_dp_probes, endpoints, &dp_probe_endpoint),
};
SCH_OBJECT_DEF(dp_probes, "Dataplane probes");

static const struct sch_field dp_aggregate_fields[] = {
	SCH_F_STRING("name", mf_dp_aggregate, name),
	SCH_F_INT("port", mf_dp_aggregate, port, 0, 65535),
	SCH_F_STRING("path", mf_dp_aggregate, path),
	SCH_F_BOOL("enabled", mf_dp_aggregate, enabled),
	SCH_F_STRING("address", mf_dp_aggregate, address),
};
SCH_OBJECT_DEF(dp_aggregate, "Dataplane metrics aggregate");

static const struct sch_field dp_prom_envoy_fields[] = {
	SCH_F_STRING("filterRegex", mf_dp_prom_envoy, filter_regex,
		     .check = dp_check_regex),
	SCH_F_BOOL("usedOnly", mf_dp_prom_envoy, used_only),
};
SCH_OBJECT_DEF(dp_prom_envoy, "Dataplane metrics envoy");

static const char *const dp_tls_modes[] = { "activeMTLSBackend",
					    "providedTLS", "disabled", NULL };

static const struct sch_field dp_prom_tls_fields[] = {
	SCH_F_ENUM("mode", mf_dp_prom_tls, mode, dp_tls_modes),
};
SCH_OBJECT_DEF(dp_prom_tls, "Dataplane metrics tls");

enum { PC_PORT, PC_PATH, PC_TAGS, PC_SKIP_MTLS, PC_AGGREGATE, PC_ENVOY,
       PC_TLS };

/* skipMTLS is the older spelling of tls.mode: both may be set only when
 * they agree.  Aggregated endpoints are told apart by name. */
static const char *dp_prom_conf_check(const void *obj, unsigned *field)
{
	static _Thread_local char why[MF_SECTION_MAX + 48];
	const struct mf_dp_prom_conf *c = obj;
	/* An absent mode is Kuma's default, activeMTLSBackend. */
	unsigned mode = sch_has(&c->tls, 0) ? c->tls.mode : 1;

	*field = PC_TLS;
	if (sch_has(c, PC_SKIP_MTLS) && sch_has(c, PC_TLS) &&
	    mode != (c->skip_mtls ? 3u : 1u))
		return "must agree with skipMTLS (skipMTLS: true is mode "
		       "disabled, false activeMTLSBackend)";
	*field = PC_AGGREGATE;
	for (unsigned i = 0; i < c->naggregate && i < MF_DP_AGGREGATES_MAX;
	     i++)
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(c->aggregate[i].name,
				    c->aggregate[j].name)) {
				snprintf(why, sizeof(why), "entry %u: name "
					 "\"%s\" is entry %u's too", i,
					 c->aggregate[i].name, j);
				return why;
			}
	return NULL;
}

static const struct sch_field dp_prom_conf_fields[] = {
	[PC_PORT] = SCH_F_INT("port", mf_dp_prom_conf, port, 0, 65535),
	[PC_PATH] = SCH_F_STRING("path", mf_dp_prom_conf, path),
	[PC_TAGS] = SCH_F_TAGS("tags", mf_dp_prom_conf, tags,
			       .empty_ok = true),
	[PC_SKIP_MTLS] = SCH_F_BOOL("skipMTLS", mf_dp_prom_conf, skip_mtls),
	[PC_AGGREGATE] = SCH_F_LIST("aggregate", mf_dp_prom_conf, aggregate,
				    &dp_aggregate),
	[PC_ENVOY] = SCH_F_OBJECT("envoy", mf_dp_prom_conf, envoy,
				  &dp_prom_envoy),
	[PC_TLS] = SCH_F_OBJECT("tls", mf_dp_prom_conf, tls, &dp_prom_tls),
};
SCH_OBJECT_DEF(dp_prom_conf, "Dataplane metrics conf (prometheus)",
	       .check_field = dp_prom_conf_check);

static const char *const dp_metrics_types[] = { "prometheus", NULL };

static const struct sch_field dp_metrics_fields[] = {
	SCH_F_STRING("name", mf_dp_metrics, name),
	SCH_F_ENUM("type", mf_dp_metrics, type, dp_metrics_types,
		   SCH_REQUIRED),
	SCH_F_OBJECT("conf", mf_dp_metrics, conf, &dp_prom_conf),
};
SCH_OBJECT_DEF(dp_metrics, "Dataplane metrics");

/* ---- the spec ---------------------------------------------------------- */

enum { DP_NETWORKING, DP_METRICS, DP_PROBES };

/* A builtin gateway's probes would have no inbound to reach. */
static const char *dp_spec_check(const void *obj, unsigned *field)
{
	const struct mf_dataplane *d = obj;

	*field = DP_PROBES;
	return sch_has(d, DP_PROBES) && dp_builtin(&d->networking) ?
	       "must not be set for a builtin gateway" : NULL;
}

static const struct sch_field dp_spec_fields[] = {
	[DP_NETWORKING] = SCH_F_OBJECT("networking", mf_dataplane, networking,
				       &dp_networking, SCH_REQUIRED),
	[DP_METRICS] = SCH_F_OBJECT("metrics", mf_dataplane, metrics,
				    &dp_metrics),
	[DP_PROBES] = SCH_F_OBJECT("probes", mf_dataplane, probes,
				   &dp_probes),
};
SCH_OBJECT_DEF(dp_spec, "Dataplane spec", .check_field = dp_spec_check);

_Static_assert(sizeof(struct mf_dataplane) < 4096,
	       "a Dataplane record stays under 4 KiB");

const struct kind_desc kind_dataplane = {
	.name = "Dataplane",
	.kuma_inline = true,
	.plural = "dataplanes",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct mf_dataplane), .conf = &dp_spec,
};
