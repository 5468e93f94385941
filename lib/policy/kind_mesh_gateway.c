// SPDX-License-Identifier: Apache-2.0
/*
 * MeshGateway: the listeners of a builtin gateway, attached to the
 * gateway workloads its selectors match (hdr.sources).  One record.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshGateway
 *   metadata: {name: edge}
 *   spec:
 *     selectors:
 *       - match: {kuma.io/service: edge-gateway}
 *     tags: {vhost-group: public}
 *     conf:
 *       listeners:
 *         - port: 8080
 *           protocol: HTTP
 *           hostname: foo.example.com
 *           tags: {vhost: foo.example.com}
 *         - port: 8443
 *           protocol: HTTPS
 *           hostname: "*.example.com"
 *           tls:
 *             mode: TERMINATE
 *             certificates: [{secret: example-cert}]
 *         - port: 9443
 *           protocol: TLS
 *           tls: {mode: PASSTHROUGH}
 *         - port: 5432
 *           protocol: TCP
 *           resources: {connectionLimit: 1000}
 *         - port: 9080
 *           protocol: HTTP
 *           crossMesh: true
 *
 * Rules, as Kuma has them: an HTTPS listener needs tls and terminates it;
 * tls, wherever written, needs a mode, and mode TERMINATE certificates (1
 * or 2, each a secret's name or a file's path); hostname, at most 253
 * characters, defaults to "*"; no two listeners share a port and
 * hostname, and listeners on one port speak one protocol under one
 * connectionLimit.  A crossMesh listener is offered to other meshes over
 * the mesh's mTLS: not HTTPS, its tls empty, and its gateway has one
 * selector.  A TLS listener needs tls as well, as Kuma's data plane
 * does.  spec.tags are the gateway's own, added to each listener's for
 * the routes that select listeners by tags; neither may name a tag the
 * proxy sets itself (kuma.io/service, kuma.io/zone, kuma.io/protocol,
 * kuma.io/external-service-name).  Proto field names are accepted as
 * Kuma's proto JSON takes them (connection_limit).
 */
#include <stddef.h>
#include <string.h>

#include "kinds.h"

/* "*", or a DNS name whose first label may be "*". */
static const char *gw_hostname_check(const char *s)
{
	if (!strcmp(s, "*"))
		return NULL;
	if (!strncmp(s, "*.", 2))
		s += 2;
	return kind_dns_name_ok(s) ? NULL :
	       "must be \"*\" or a DNS name (labels of a-z, 0-9 and '-'), "
	       "optionally starting with \"*.\"";
}

/* Secrets are objects too: the object name rule. */
static const char *gw_secret_check(const char *s)
{
	size_t n = strlen(s);

	if (n > 63)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (!alnum && ((ch != '-' && ch != '.') || i == 0 || i == n - 1))
			goto bad;
	}
	return NULL;
bad:
	return "must be 1..63 characters of a-z, 0-9, '-' and '.', starting "
	       "and ending with a letter or digit";
}

enum { GW_CERT_SECRET, GW_CERT_FILE };

const char *kind_gw_cert_file(const struct mf_gw_cert *c)
{
	return sch_has(c, GW_CERT_FILE) ? c->file : NULL;
}

const char *kind_gw_cert_secret(const struct mf_gw_cert *c)
{
	return sch_has(c, GW_CERT_SECRET) ? c->secret : NULL;
}

/* Kuma's DataSource is a oneof; the two share storage. */
static const struct sch_field gw_cert_fields[] = {
	[GW_CERT_SECRET] = SCH_F_STRING("secret", mf_gw_cert, secret,
					.check = gw_secret_check),
	[GW_CERT_FILE] = SCH_F_STRING("file", mf_gw_cert, file,
				      .check = kind_check_file_path),
};

static const char *gw_cert_check(const void *obj)
{
	return sch_present(obj) == 1u << GW_CERT_SECRET ||
			       sch_present(obj) == 1u << GW_CERT_FILE ?
		       NULL :
		       "needs exactly one of secret and file";
}
SCH_OBJECT_DEF(gw_cert, "MeshGateway certificate", .check = gw_cert_check);

/* tls.options: an empty message in Kuma so far. */
static const struct sch_object gw_empty = {
	.name = "MeshGateway tls options (no settings)",
};

static const char *const gw_tls_modes[] = { "TERMINATE", "PASSTHROUGH", NULL };

enum { GW_TLS_MODE, GW_TLS_CERTS, GW_TLS_OPTIONS };

static const struct sch_field gw_tls_fields[] = {
	[GW_TLS_MODE] = SCH_F_ENUM("mode", mf_gw_tls, mode, gw_tls_modes),
	[GW_TLS_CERTS] = SCH_F_LIST("certificates", mf_gw_tls, certificates,
				    &gw_cert),
	[GW_TLS_OPTIONS] = SCH_F_OBJECT("options", mf_gw_tls, options,
					&gw_empty),
};

/* A terminating listener presents a certificate.  A passthrough one never
 * decrypts, so Kuma ignores certificates there.  Whether a mode is needed
 * at all depends on the listener (crossMesh). */
static const char *gw_tls_check(const void *obj)
{
	const struct mf_gw_tls *t = obj;

	if (t->mode == MF_GW_TLS_TERMINATE && !t->ncertificates)
		return "mode TERMINATE needs certificates";
	return NULL;
}
SCH_OBJECT_DEF(gw_tls, "MeshGateway tls", .check = gw_tls_check);

enum { GW_RES_LIMIT, GW_RES_LIMIT_PROTO };

/* Kuma reads proto JSON: the field's proto name is a second spelling,
 * sharing the member. */
static const struct sch_field gw_resources_fields[] = {
	[GW_RES_LIMIT] = SCH_F_INT("connectionLimit", mf_gw_resources,
				   connection_limit, 0, UINT32_MAX),
	[GW_RES_LIMIT_PROTO] = SCH_F_INT("connection_limit", mf_gw_resources,
					 connection_limit, 0, UINT32_MAX),
};

static const char *gw_resources_check(const void *obj)
{
	return sch_present(obj) == (1u << GW_RES_LIMIT |
				    1u << GW_RES_LIMIT_PROTO) ?
		       "connectionLimit and connection_limit are one field: "
		       "write one" :
		       NULL;
}
SCH_OBJECT_DEF(gw_resources, "MeshGateway listener resources",
	       .check = gw_resources_check);

/* The tags Kuma's proxies carry of their own: the gateway's and its
 * listeners' tags describe routes' matches, not the proxy. */
static const char *gw_tags_check(const struct mf_tagset *ts, const char **key)
{
	static const char *const own[] = {
		"kuma.io/external-service-name", "kuma.io/protocol",
		"kuma.io/service", "kuma.io/zone",
	};

	for (uint32_t i = 0; i < ts->n; i++)
		for (size_t j = 0; j < sizeof(own) / sizeof(own[0]); j++)
			if (!strcmp(ts->tags[i].key, own[j])) {
				*key = own[j];
				return "is a tag the proxy sets itself";
			}
	return NULL;
}

static const char *const gw_protocols[] = {
	"HTTP", "HTTPS", "TCP", "TLS", NULL,
};

enum { GW_L_PORT, GW_L_PROTOCOL, GW_L_HOSTNAME, GW_L_TAGS, GW_L_TLS,
       GW_L_CROSS_MESH, GW_L_RESOURCES };

static const struct sch_field gw_listener_fields[] = {
	[GW_L_PORT] = SCH_F_PORT("port", mf_gw_listener, port, SCH_REQUIRED),
	[GW_L_PROTOCOL] = SCH_F_ENUM("protocol", mf_gw_listener, protocol,
				     gw_protocols, SCH_REQUIRED),
	[GW_L_HOSTNAME] = SCH_F_STRING("hostname", mf_gw_listener, hostname,
				       .check = gw_hostname_check),
	[GW_L_TAGS] = SCH_F_TAGS("tags", mf_gw_listener, tags,
				 .check_tags = gw_tags_check,
				 .empty_ok = true),
	[GW_L_TLS] = SCH_F_OBJECT("tls", mf_gw_listener, tls, &gw_tls),
	[GW_L_CROSS_MESH] = SCH_F_BOOL("crossMesh", mf_gw_listener,
				       cross_mesh),
	[GW_L_RESOURCES] = SCH_F_OBJECT("resources", mf_gw_listener,
					resources, &gw_resources),
};

/* What a listener's protocol asks of tls.  Kuma's rules, and one of its
 * data plane's: a TLS listener needs tls, as the proxy has no mode to
 * serve it with otherwise.  HTTP and TCP listeners may carry tls, which
 * Kuma checks but does not use.  A crossMesh listener is served over the
 * mesh's own mTLS instead (gw_listener_tls_check). */
static const char *gw_listener_check(const void *obj)
{
	const struct mf_gw_listener *l = obj;
	bool tls = sch_has(l, GW_L_TLS);

	if (l->cross_mesh)
		return NULL;
	switch (l->protocol) {
	case MF_GW_HTTPS:
		if (!tls)
			return "protocol HTTPS needs tls";
		if (l->tls.mode == MF_GW_TLS_PASSTHROUGH)
			return "protocol HTTPS terminates TLS: tls.mode must "
			       "be TERMINATE";
		break;
	case MF_GW_TLS:
		if (!tls)
			return "protocol TLS needs tls";
		break;
	}
	return NULL;
}

/* The rest, each blaming one field: tls needs a mode, except on a
 * crossMesh listener, whose tls (if written) stays empty and whose
 * protocol cannot be HTTPS, the mesh's mTLS being what it speaks. */
static const char *gw_listener_tls_check(const void *obj, unsigned *field)
{
	const struct mf_gw_listener *l = obj;
	const struct mf_gw_tls *t = &l->tls;
	bool tls = sch_has(l, GW_L_TLS);

	*field = GW_L_TLS;
	if (!l->cross_mesh)
		return tls && !t->mode ? "needs mode TERMINATE or PASSTHROUGH" :
					 NULL;
	if (l->protocol == MF_GW_HTTPS) {
		*field = GW_L_PROTOCOL;
		return "protocol HTTPS is not supported with crossMesh";
	}
	if (tls && (t->mode || t->ncertificates))
		return "must be empty with crossMesh: the mesh's mTLS "
		       "secures the listener";
	return NULL;
}
SCH_OBJECT_DEF(gw_listener, "MeshGateway listener",
	       .check = gw_listener_check,
	       .check_field = gw_listener_tls_check);

enum { GW_C_LISTENERS };

static const struct sch_field gw_conf_fields[] = {
	[GW_C_LISTENERS] = SCH_F_LIST("listeners", mf_gw_conf, listeners,
				      &gw_listener, SCH_REQUIRED),
};

static const char *gw_listener_host(const struct mf_gw_listener *l)
{
	return sch_has(l, GW_L_HOSTNAME) ? l->hostname : "*";
}

/* Two listeners on one port: @a and @b. */
static const char *gw_port_clash(const struct mf_gw_listener *a,
				 const struct mf_gw_listener *b)
{
	if (!strcmp(gw_listener_host(a), gw_listener_host(b)))
		return "two listeners have the same port and hostname";
	if (a->protocol != b->protocol)
		return "listeners on one port must have the same protocol";
	if (a->resources.connection_limit && b->resources.connection_limit &&
	    a->resources.connection_limit != b->resources.connection_limit)
		return "listeners on one port must have the same "
		       "connectionLimit";
	return NULL;
}

/* A port and hostname pick one listener, and one port is one socket that
 * speaks one protocol under one connection limit. */
static const char *gw_conf_check(const void *obj)
{
	const struct mf_gw_conf *c = obj;
	const char *why;

	for (unsigned i = 0; i < c->nlisteners; i++)
		for (unsigned j = i + 1; j < c->nlisteners; j++)
			if (c->listeners[i].port == c->listeners[j].port &&
			    (why = gw_port_clash(&c->listeners[i],
						 &c->listeners[j])))
				return why;
	return NULL;
}

/* A crossMesh listener is reached by the service name of the one gateway
 * its selector makes, so such a gateway has at most one selector.  The
 * conf is parsed in place in its record, whose header (read back from
 * @obj) holds them. */
static const char *gw_conf_selectors_check(const void *obj, unsigned *field)
{
	const struct mf_gw_conf *c = obj;
	const struct mf_gateway *g = (const void *)((const char *)obj -
						    offsetof(struct mf_gateway,
							     conf));

	*field = GW_C_LISTENERS;
	if (g->hdr.nsources <= 1)
		return NULL;
	for (unsigned i = 0; i < c->nlisteners; i++)
		if (c->listeners[i].cross_mesh)
			return "with a crossMesh listener, the gateway must "
			       "have at most one selector";
	return NULL;
}
SCH_OBJECT_DEF(gw_conf, "MeshGateway conf", .check = gw_conf_check,
	       .check_field = gw_conf_selectors_check);

/* The map's value buffer and the record budget (abi_policy.h). */
_Static_assert(sizeof(struct mf_gateway) <= 4096,
	       "a MeshGateway record must fit in 4 KiB");

/* spec.tags, next to the selectors: merged into each listener's. */
static const struct sch_field gw_spec_tags =
	SCH_F_TAGS("tags", mf_gateway, tags, .check_tags = gw_tags_check,
		   .empty_ok = true);

const struct kind_desc kind_mesh_gateway = {
	.name = "MeshGateway", .plural = "meshgateways",
	.kuma_inline = true,
	.form = KIND_FORM_SELECTORS,
	KIND_RECORD(mf_gateway, conf, &gw_conf),
	.spec_tags = &gw_spec_tags,
};
