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
 *
 * Rules, as Kuma has them: HTTPS and TLS listeners need tls, HTTP and TCP
 * take none; HTTPS terminates TLS; a terminating listener needs a
 * certificate and a passthrough one takes none; hostname defaults to "*";
 * no two listeners share a port and hostname, and listeners on one port
 * speak one protocol.
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

static const struct sch_field gw_cert_fields[] = {
	{ .name = "secret", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_gw_cert, secret),
	  .size = MF_NAME_MAX, .check = gw_secret_check },
};

static const struct sch_object gw_cert = {
	.name = "MeshGateway certificate",
	.fields = gw_cert_fields,
	.nfields = SCH_NFIELDS(gw_cert_fields),
};

static const char *const gw_tls_modes[] = { "TERMINATE", "PASSTHROUGH", NULL };

enum { GW_TLS_MODE, GW_TLS_CERTS };

static const struct sch_field gw_tls_fields[] = {
	[GW_TLS_MODE] = {
		.name = "mode", .type = SCH_ENUM,
		.off = offsetof(struct mf_gw_tls, mode),
		.names = gw_tls_modes },
	[GW_TLS_CERTS] = {
		.name = "certificates", .type = SCH_LIST,
		.off = offsetof(struct mf_gw_tls, certificates),
		.sub = &gw_cert,
		.count_off = offsetof(struct mf_gw_tls, ncertificates),
		.item_size = sizeof(struct mf_gw_cert),
		.max_items = 2 },
};

/* Kuma's mode defaults to TERMINATE, which needs a certificate to present;
 * PASSTHROUGH never decrypts, so a certificate there is a mistake. */
static const char *gw_tls_check(const void *obj)
{
	const struct mf_gw_tls *t = obj;
	bool certs = sch_has(t, GW_TLS_CERTS) && t->ncertificates;

	if (t->mode == MF_GW_TLS_PASSTHROUGH) {
		if (certs)
			return "mode PASSTHROUGH takes no certificates";
	} else if (!certs) {
		return "mode TERMINATE needs certificates";
	}
	return NULL;
}

static const struct sch_object gw_tls = {
	.name = "MeshGateway tls",
	.fields = gw_tls_fields,
	.nfields = SCH_NFIELDS(gw_tls_fields),
	.check = gw_tls_check,
};

static const char *const gw_protocols[] = {
	"HTTP", "HTTPS", "TCP", "TLS", NULL,
};

enum { GW_L_PORT, GW_L_PROTOCOL, GW_L_HOSTNAME, GW_L_TAGS, GW_L_TLS };

static const struct sch_field gw_listener_fields[] = {
	[GW_L_PORT] = {
		.name = "port", .type = SCH_INT, .size = 2, .required = true,
		.off = offsetof(struct mf_gw_listener, port),
		.min = 1, .max = 65535 },
	[GW_L_PROTOCOL] = {
		.name = "protocol", .type = SCH_ENUM, .required = true,
		.off = offsetof(struct mf_gw_listener, protocol),
		.names = gw_protocols },
	[GW_L_HOSTNAME] = {
		.name = "hostname", .type = SCH_STRING,
		.off = offsetof(struct mf_gw_listener, hostname),
		.size = MF_NAME_MAX, .check = gw_hostname_check },
	[GW_L_TAGS] = {
		.name = "tags", .type = SCH_TAGS,
		.off = offsetof(struct mf_gw_listener, tags) },
	[GW_L_TLS] = {
		.name = "tls", .type = SCH_OBJECT,
		.off = offsetof(struct mf_gw_listener, tls),
		.sub = &gw_tls },
};

static const char *gw_listener_check(const void *obj)
{
	const struct mf_gw_listener *l = obj;
	bool tls = sch_has(l, GW_L_TLS);

	switch (l->protocol) {
	case MF_GW_HTTP:
	case MF_GW_TCP:
		if (tls)
			return "tls is only for protocols HTTPS and TLS";
		break;
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

static const struct sch_object gw_listener = {
	.name = "MeshGateway listener",
	.fields = gw_listener_fields,
	.nfields = SCH_NFIELDS(gw_listener_fields),
	.check = gw_listener_check,
};

static const struct sch_field gw_conf_fields[] = {
	{ .name = "listeners", .type = SCH_LIST, .required = true,
	  .off = offsetof(struct mf_gw_conf, listeners),
	  .sub = &gw_listener,
	  .count_off = offsetof(struct mf_gw_conf, nlisteners),
	  .item_size = sizeof(struct mf_gw_listener),
	  .max_items = MF_GW_LISTENERS_MAX },
};

static const char *gw_listener_host(const struct mf_gw_listener *l)
{
	return sch_has(l, GW_L_HOSTNAME) ? l->hostname : "*";
}

/* A port and hostname pick one listener, and one port is one socket that
 * speaks one protocol. */
static const char *gw_conf_check(const void *obj)
{
	const struct mf_gw_conf *c = obj;

	for (unsigned i = 0; i < c->nlisteners; i++) {
		const struct mf_gw_listener *a = &c->listeners[i];

		for (unsigned j = i + 1; j < c->nlisteners; j++) {
			const struct mf_gw_listener *b = &c->listeners[j];

			if (a->port != b->port)
				continue;
			if (!strcmp(gw_listener_host(a), gw_listener_host(b)))
				return "two listeners have the same port and "
				       "hostname";
			if (a->protocol != b->protocol)
				return "listeners on one port must have the "
				       "same protocol";
		}
	}
	return NULL;
}

static const struct sch_object gw_conf = {
	.name = "MeshGateway conf",
	.fields = gw_conf_fields,
	.nfields = SCH_NFIELDS(gw_conf_fields),
	.check = gw_conf_check,
};

const struct kind_desc kind_mesh_gateway = {
	.name = "MeshGateway",
	.plural = "meshgateways",
	.form = KIND_FORM_SELECTORS,
	.val_size = sizeof(struct mf_gateway),
	.conf_off = offsetof(struct mf_gateway, conf),
	.conf = &gw_conf,
};
