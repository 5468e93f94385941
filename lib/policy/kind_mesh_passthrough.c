// SPDX-License-Identifier: Apache-2.0
/*
 * MeshPassthrough: which destinations outside the mesh the targeted
 * proxies may reach directly, by domain, IP address or CIDR, and with
 * which protocol.
 *
 *   spec:
 *     targetRef: {kind: Mesh}
 *     default:
 *       passthroughMode: Matched          # All, Matched (Kuma's default)
 *       appendMatch:                      # or None
 *         - {type: Domain, value: "*.example.com", port: 443,
 *            protocol: tls}
 *         - {type: IP, value: 10.1.2.3, port: 3306, protocol: mysql}
 *         - {type: CIDR, value: 192.168.0.0/16}     # tcp, every port
 *
 * Kuma's rules: protocol is tcp (the default), tls, grpc, http, http2 or
 * mysql; mysql needs a port; a Domain is matched by name (SNI or Host),
 * so not with tcp or mysql, it may start with "*." (no other wildcard),
 * and with grpc, http or http2 a wildcard needs a port.  Matches with
 * grpc, http or http2 share their port with their own protocol only (the
 * port's listener speaks it), and a value is given once per port and
 * protocol.  At most MF_PASSTHROUGH_MATCHES_MAX matches, values of up to
 * MF_HOST_MAX - 1 characters.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "abi_names.h"
#include "kinds.h"

enum { M_TYPE, M_VALUE, M_PORT, M_PROTOCOL };
enum { CONF_MODE, CONF_APPEND };

static const char *const pt_types[] = { "Domain", "IP", "CIDR", NULL };
static const char *const pt_protocols[] = { "tcp", "tls", "grpc", "http",
					    "http2", "mysql", NULL };

/* The protocols a port's listener parses: one of them per port. */
static bool pt_l7(unsigned protocol)
{
	return protocol == MF_PASSTHROUGH_GRPC ||
	       protocol == MF_PASSTHROUGH_HTTP ||
	       protocol == MF_PASSTHROUGH_HTTP2;
}

static bool pt_ip_ok(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* An address, '/' and a prefix length of at most its bits (leading zeros
 * allowed, as Go's net.ParseCIDR has them). */
static bool pt_cidr_ok(const char *s)
{
	const char *slash = strchr(s, '/'), *p;
	char addr[MF_HOST_MAX];
	unsigned char a[16];
	unsigned bits = 0, max;
	size_t n = slash ? (size_t)(slash - s) : 0;

	if (!slash || n >= sizeof(addr) || !slash[1])
		return false;
	memcpy(addr, s, n);
	addr[n] = 0;
	if (inet_pton(AF_INET, addr, a) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, addr, a) == 1)
		max = 128;
	else
		return false;
	for (p = slash + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		bits = bits * 10 + (unsigned)(*p - '0');
		if (bits > max)
			return false;
	}
	return true;
}

static bool pt_label_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || (c == '-' && !first);
}

/*
 * A domain name as Kuma takes it (govalidator's IsDNSName): not an IP
 * address; labels of letters, digits, '_' and '-' (not first), 1..63
 * long, joined by dots; then maybe one '.' or '_'.  (Its limit of 255
 * characters besides dots is above what a value holds.)
 */
static bool pt_domain_ok(const char *s)
{
	const char *p = s;

	if (!*s || pt_ip_ok(s))
		return false;
	for (;;) {
		size_t len = 0;

		if (!pt_label_char(*p, true))
			return false;
		while (pt_label_char(*p, len == 0)) {
			p++;
			len++;
		}
		/* The trailing '_' may follow a label of 63. */
		if (len > 63)
			return len == 64 && p[-1] == '_' && !*p;
		if (!*p)
			return true;
		if (*p++ != '.')
			return false;
		if (!*p)
			return true;
	}
}

static const char *pt_domain_check(const struct mf_passthrough_match *m,
				   unsigned *field)
{
	const char *v = m->value;
	bool port = sch_has(m, M_PORT);

	*field = M_PROTOCOL;
	if (m->protocol == MF_PASSTHROUGH_TCP ||
	    m->protocol == MF_PASSTHROUGH_MYSQL)
		return "must be tls, grpc, http or http2 for type Domain (tcp "
		       "is the default): a domain is matched by its name";
	*field = M_VALUE;
	if (v[0] == '*' && v[1] && v[1] != '.')
		return "must not be a partial wildcard: '*' stands for whole "
		       "labels, as in *.example.com";
	*field = M_PORT;
	if (!port && v[0] == '*' && pt_l7(m->protocol))
		return "is required for a wildcard domain with protocol grpc, "
		       "http or http2";
	*field = M_VALUE;
	if (!strncmp(v, "*.", 2))
		v += 2;
	/* Kuma leaves a value that still starts with '*' as it is. */
	if (v[0] != '*' && !pt_domain_ok(v))
		return "must be a domain name, or *. and one";
	return NULL;
}

static const char *pt_match_check(const void *obj, unsigned *field)
{
	const struct mf_passthrough_match *m = obj;

	*field = M_PORT;
	if (m->protocol == MF_PASSTHROUGH_MYSQL && !sch_has(m, M_PORT))
		return "is required with protocol mysql";
	*field = M_VALUE;
	switch (m->type) {
	case MF_PASSTHROUGH_IP:
		return pt_ip_ok(m->value) ? NULL : "must be an IP address";
	case MF_PASSTHROUGH_CIDR:
		return pt_cidr_ok(m->value) ? NULL :
		       "must be a CIDR (an IP address, '/' and a prefix "
		       "length)";
	case MF_PASSTHROUGH_DOMAIN:
		return pt_domain_check(m, field);
	}
	return NULL;
}

static const struct sch_field pt_match_fields[] = {
	[M_TYPE] = SCH_F_ENUM("type", mf_passthrough_match, type, pt_types,
			      SCH_REQUIRED),
	[M_VALUE] = SCH_F_STRING("value", mf_passthrough_match, value,
				 SCH_REQUIRED),
	[M_PORT] = SCH_F_PORT("port", mf_passthrough_match, port),
	[M_PROTOCOL] = SCH_F_ENUM("protocol", mf_passthrough_match, protocol,
				  pt_protocols, .def = MF_PASSTHROUGH_TCP),
};
SCH_OBJECT_DEF(pt_match, "MeshPassthrough appendMatch",
	       .check_field = pt_match_check);

/*
 * Rules across the matches with a port, in Kuma's order: a grpc, http or
 * http2 match after one of another protocol on its port, then a value
 * repeated for a port and protocol.  The first broken rule is reported,
 * so every match before it kept them.
 */
static const char *pt_conf_check(const void *obj, unsigned *field)
{
	static _Thread_local char why[2 * MF_HOST_MAX];
	const struct mf_passthrough_conf *c = obj;
	const struct mf_passthrough_match *m = c->append_match;
	unsigned n = c->nappend_match;

	*field = CONF_APPEND;
	if (n > MF_PASSTHROUGH_MATCHES_MAX)
		n = MF_PASSTHROUGH_MATCHES_MAX;
	for (unsigned i = 0; i < n; i++) {
		const char *proto = pt_protocols[m[i].protocol - 1];
		int last = -1, same = -1;

		if (!sch_has(&m[i], M_PORT))
			continue;
		for (unsigned j = 0; j < i; j++) {
			if (!sch_has(&m[j], M_PORT) || m[j].port != m[i].port)
				continue;
			last = (int)j;
			if (same < 0 && m[j].protocol == m[i].protocol &&
			    !strcmp(m[j].value, m[i].value))
				same = (int)j;
		}
		if (last >= 0 && m[last].protocol != m[i].protocol &&
		    pt_l7(m[i].protocol)) {
			snprintf(why, sizeof(why), "[%u] has protocol %s on "
				 "port %u, where [%d] has %s: a grpc, http or "
				 "http2 match shares its port with its own "
				 "protocol only", i, proto, m[i].port, last,
				 pt_protocols[m[last].protocol - 1]);
			return why;
		}
		if (same >= 0) {
			snprintf(why, sizeof(why), "[%u] repeats [%d]: %s on "
				 "port %u with protocol %s", i, same,
				 m[i].value, m[i].port, proto);
			return why;
		}
	}
	return NULL;
}

static const struct sch_field pt_conf_fields[] = {
	[CONF_MODE] = SCH_F_ENUM("passthroughMode", mf_passthrough_conf,
				 passthrough_mode, abi_pt_mode_names + 1),
	[CONF_APPEND] = SCH_F_LIST("appendMatch", mf_passthrough_conf,
				   append_match, &pt_match),
};
SCH_OBJECT_DEF(pt_conf, "MeshPassthrough default",
	       .check_field = pt_conf_check);

const struct kind_desc kind_mesh_passthrough = {
	.name = "MeshPassthrough", .plural = "meshpassthroughs",
	.short_name = "mp",
	.form = KIND_FORM_DEFAULT,
	/* Kuma 2.x: the mesh, a subset, Dataplanes; 3.0: no subsets. */
	.target_kinds = KIND_REF(MF_REF_MESH) | KIND_REF(MF_REF_MESH_SUBSET) |
			KIND_REF(MF_REF_WORKLOAD),
	KIND_RECORD(mf_passthrough, conf, &pt_conf),
};
