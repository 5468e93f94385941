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
	SCH_F_STRING("secret", mf_gw_cert, secret, SCH_REQUIRED,
		     .check = gw_secret_check),
};
SCH_OBJECT_DEF(gw_cert, "MeshGateway certificate");

static const char *const gw_tls_modes[] = { "TERMINATE", "PASSTHROUGH", NULL };

enum { GW_TLS_MODE, GW_TLS_CERTS };

static const struct sch_field gw_tls_fields[] = {
	[GW_TLS_MODE] = SCH_F_ENUM("mode", mf_gw_tls, mode, gw_tls_modes),
	[GW_TLS_CERTS] = SCH_F_LIST("certificates", mf_gw_tls, certificates,
				    &gw_cert),
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
SCH_OBJECT_DEF(gw_tls, "MeshGateway tls", .check = gw_tls_check);

static const char *const gw_protocols[] = {
	"HTTP", "HTTPS", "TCP", "TLS", NULL,
};

enum { GW_L_PORT, GW_L_PROTOCOL, GW_L_HOSTNAME, GW_L_TAGS, GW_L_TLS };

static const struct sch_field gw_listener_fields[] = {
	[GW_L_PORT] = SCH_F_PORT("port", mf_gw_listener, port, SCH_REQUIRED),
	[GW_L_PROTOCOL] = SCH_F_ENUM("protocol", mf_gw_listener, protocol,
				     gw_protocols, SCH_REQUIRED),
	[GW_L_HOSTNAME] = SCH_F_STRING("hostname", mf_gw_listener, hostname,
				       .check = gw_hostname_check),
	[GW_L_TAGS] = SCH_F_TAGS("tags", mf_gw_listener, tags),
	[GW_L_TLS] = SCH_F_OBJECT("tls", mf_gw_listener, tls, &gw_tls),
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
SCH_OBJECT_DEF(gw_listener, "MeshGateway listener",
	       .check = gw_listener_check);

static const struct sch_field gw_conf_fields[] = {
	SCH_F_LIST("listeners", mf_gw_conf, listeners, &gw_listener,
		   SCH_REQUIRED),
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
SCH_OBJECT_DEF(gw_conf, "MeshGateway conf", .check = gw_conf_check);

const struct kind_desc kind_mesh_gateway = {
	.name = "MeshGateway", .plural = "meshgateways",
	.form = KIND_FORM_SELECTORS,
	KIND_RECORD(mf_gateway, conf, &gw_conf),
};
