// SPDX-License-Identifier: Apache-2.0
/*
 * MeshPassthrough's Domain matches: the name a connection's first bytes
 * carry, and whether the policy admits it (passthru.h).
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "http1.h"
#include "passthru.h"
#include "policy.h"
#include "policy/records.h"
#include "tls.h"

/* The TLS record type of a handshake: a ClientHello starts with it. */
#define PASSTHRU_TLS_HANDSHAKE	22

/* Lowercases the @n bytes at @s into @out, NUL-terminated.  Returns @n,
 * -ENAMETOOLONG, or -EPROTO for a byte no DNS name has (a NUL would cut
 * the name short of what the server gets, so it is never matched). */
static int passthru_lower(const char *s, size_t n,
			  char out[PASSTHRU_NAME_MAX])
{
	if (n >= PASSTHRU_NAME_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!isalnum(ch) && ch != '-' && ch != '.' && ch != '_')
			return -EPROTO;
		out[i] = (char)tolower(ch);
	}
	out[n] = '\0';
	return (int)n;
}

/* The SNI of the ClientHello that @p (@n) starts with, read by
 * tls_hello_sni(). */
static int passthru_sni(const uint8_t *p, size_t n,
			char name[PASSTHRU_NAME_MAX], const char **why)
{
	/* One byte more than a name may have: a longer SNI is refused
	 * rather than matched cut. */
	char sni[PASSTHRU_NAME_MAX + 1];
	int rc = tls_hello_sni(p, n, sni, sizeof(sni));

	if (rc == -EAGAIN)
		return 0;
	if (rc == 0) {
		*why = "ClientHello without SNI";
		return -ENOENT;
	}
	if (rc == -ENAMETOOLONG) {
		*why = "SNI too long";
		return rc;
	}
	if (rc == -EILSEQ) {
		*why = "SNI is no DNS name";
		return -EPROTO;
	}
	if (rc < 0) {
		*why = "not a TLS ClientHello";
		return -EPROTO;
	}
	rc = passthru_lower(sni, strlen(sni), name);
	if (rc < 0)
		*why = rc == -EPROTO ? "SNI is no DNS name" : "SNI too long";
	return rc;
}

/* What the head reader gathers of the first request. */
struct passthru_host {
	char *name;
	int len;		/* of the Host, -ENAMETOOLONG, 0: none */
	bool head;		/* the head ended */
};

static int passthru_on_header(void *arg, const char *name, size_t name_len,
			      const char *value, size_t value_len)
{
	struct passthru_host *h = arg;
	size_t n = value_len;

	if (!http1_token_eq(name, name_len, "host"))
		return 0;
	/* host = uri-host [ ":" port ]; an IPv6 literal keeps its colons
	 * inside brackets. */
	for (size_t i = value_len; i-- > 0;) {
		if (value[i] == ':') {
			n = i;
			break;
		}
		if (value[i] < '0' || value[i] > '9')
			break;
	}
	h->len = passthru_lower(value, n, h->name);
	return 0;
}

static int passthru_on_head(void *arg, const struct http1_head *hd)
{
	struct passthru_host *h = arg;

	(void)hd;
	h->head = true;
	return HTTP1_STOP;
}

static const struct http1_cbs passthru_host_cbs = {
	.on_header = passthru_on_header,
	.on_head = passthru_on_head,
};

/* The Host of the HTTP/1.1 request head that @p (@n) starts with, read
 * afresh from the first byte (the bytes are few, and a head never grows
 * past the caller's buffer). */
static int passthru_http_host(const uint8_t *p, size_t n,
			      char name[PASSTHRU_NAME_MAX], const char **why)
{
	struct passthru_host h = { .name = name };
	struct http1 rd;
	int rc;

	http1_init(&rd, HTTP1_REQUEST, NULL, &passthru_host_cbs, &h);
	rc = http1_feed(&rd, (const char *)p, n);
	if (rc < 0 && http1_reason(&rd) == HTTP1_R_HOST_MISSING) {
		*why = "HTTP request without Host";
		rc = -ENOENT;
	} else if (rc < 0) {
		*why = "not an HTTP/1.1 request";
		rc = -EPROTO;
	} else if (!h.head) {
		rc = 0;
	} else if (h.len < 0) {
		*why = h.len == -EPROTO ? "Host is no DNS name" :
					  "Host too long";
		rc = h.len;
	} else if (h.len == 0) {
		*why = "HTTP request without Host";
		rc = -ENOENT;
	} else {
		rc = h.len;
	}
	http1_fini(&rd);
	return rc;
}

int passthru_name(const uint8_t *p, size_t n, uint8_t *proto,
		  char name[PASSTHRU_NAME_MAX], const char **why)
{
	if (n == 0)
		return 0;
	if (p[0] == PASSTHRU_TLS_HANDSHAKE) {
		*proto = MF_PASSTHROUGH_TLS;
		return passthru_sni(p, n, name, why);
	}
	*proto = MF_PASSTHROUGH_HTTP;
	return passthru_http_host(p, n, name, why);
}

bool passthru_domain_match(const char *pattern, const char *name)
{
	size_t np = strlen(pattern), nn = strlen(name);

	if (np >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* One label or more, then the suffix with its dot. */
		return nn > np - 1 &&
		       !strcasecmp(name + nn - (np - 1), pattern + 1);
	}
	return !strcasecmp(pattern, name);
}

bool passthru_admit(const struct policy *p, uint16_t port, uint8_t proto,
		    const char *name, const char **why)
{
	const size_t kind = REC_PASSTHROUGHS - REC_KIND_FIRST;
	const struct polkinds *k = policy_kinds(p);
	bool any = false;

	if (policy_passthrough_mode(p) != MF_PASSTHROUGH_MATCHED) {
		*why = "passthroughMode is not Matched";
		return false;
	}
	for (size_t i = 0; k && i < polkinds_count(k, kind); i++) {
		const struct mf_passthrough *pt = polkinds_record(k, kind, i,
								  NULL);
		const struct mf_passthrough_conf *c = pt ? &pt->conf : NULL;

		if (!c || pt->hdr.target.kind != MF_REF_MESH)
			continue;
		/* The count is the map's: bounded, as anything read from
		 * it. */
		for (size_t j = 0; j < c->nappend_match &&
				   j < MF_PASSTHROUGH_MATCHES_MAX; j++) {
			const struct mf_passthrough_match *m =
				&c->append_match[j];
			char v[sizeof(m->value) + 1];

			if (m->type != MF_PASSTHROUGH_DOMAIN ||
			    m->protocol != proto ||
			    (m->port && m->port != port))
				continue;
			any = true;
			memcpy(v, m->value, sizeof(m->value));
			v[sizeof(m->value)] = '\0';
			if (passthru_domain_match(v, name))
				return true;
		}
	}
	*why = any ? "no Domain match has the name" :
		     proto == MF_PASSTHROUGH_TLS ?
		     "no tls Domain match on the port" :
		     "no http Domain match on the port";
	return false;
}
