// SPDX-License-Identifier: Apache-2.0
/*
 * Egress to MeshExternalServices (see egress.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "egress.h"
#include "fsio.h"
#include "log.h"
#include "meshforge/abi_policy.h"
#include "policy.h"
#include "tls.h"

/* Presence bits of a certificate source (kind_mesh_external_service.c's
 * field order). */
#define EG_SRC_SECRET		(1u << 1)
#define EG_SRC_SECRET_REF	(1u << 2)
#define EG_SRC_INLINE		(1u << 5)
#define EG_SRC_INLINE_STRING	(1u << 6)
#define EG_SRC_INSECURE_INLINE	(1u << 7)

void egress_init(struct egress *eg, const char *config_dir)
{
	memset(eg, 0, sizeof(*eg));
	if (config_dir)
		snprintf(eg->secrets_dir, sizeof(eg->secrets_dir),
			 "%s/secrets", config_dir);
}

void egress_fini(struct egress *eg)
{
	for (size_t i = 0; i < EGRESS_SLOTS; i++) {
		tls_ctx_put(eg->slots[i].ctx);
		eg->slots[i].ctx = NULL;
	}
}

bool egress_allowed(const struct policy *p, const struct mf_service *svc,
		    const char *src_id, const char **why)
{
	enum mf_authz_action act;

	if (!svc->authz_rules) {
		if (policy_config_flags(p) & MF_CONFIG_F_FORBID_MES) {
			*why = "no MeshTrafficPermission targets it and the "
			       "Mesh forbids MeshExternalService access by "
			       "default";
			return false;
		}
		*why = "no-permissions";
		return true;
	}
	act = policy_authorize(p, svc->id, NULL, src_id, why);
	return act == MF_AUTHZ_ALLOW || act == MF_AUTHZ_ALLOW_SHADOW_DENY;
}

/* Reads Secret @name into *out (@len; the caller frees).  Returns 0 or
 * -ENOENT. */
static int eg_secret(const struct egress *eg, const char *name, char **out,
		     size_t *len, char *why, size_t n)
{
	char path[PATH_MAX + MF_NAME_MAX + 8];

	if (!eg->secrets_dir[0] || !name[0] || strchr(name, '/')) {
		snprintf(why, n, "Secret \"%s\" cannot be read here", name);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/%s.pem", eg->secrets_dir, name);
	if (fsio_read_all(path, out, len)) {
		snprintf(why, n, "Secret \"%s\": cannot read it under %.64s",
			 name, eg->secrets_dir);
		return -ENOENT;
	}
	return 0;
}

/* The name of the Secret certificate source @present, @secret,
 * @ref_name stands for, or NULL. */
static const char *eg_secret_name(uint32_t present, const char *secret,
				  const char *ref_name)
{
	if (present & EG_SRC_SECRET)
		return secret;
	if (present & EG_SRC_SECRET_REF)
		return ref_name;
	return NULL;
}

/* The PEM of caCert @ca into *out (@len, the caller frees); *out NULL
 * when there is none.  Returns 0 or -errno (@why). */
static int eg_ca(const struct egress *eg, const struct mf_mes_ca_source *ca,
		 char **out, size_t *len, char *why, size_t n)
{
	const char *text = NULL, *name;
	word32 dlen;

	*out = NULL;
	*len = 0;
	if (!ca->present)
		return 0;
	name = eg_secret_name(ca->present, ca->secret, ca->secret_ref.name);
	if (name)
		return eg_secret(eg, name, out, len, why, n);
	if (ca->present & EG_SRC_INLINE_STRING)
		text = ca->inline_string;
	else if (ca->present & EG_SRC_INSECURE_INLINE)
		text = ca->insecure_inline.value;
	if (text) {
		*len = strnlen(text, MF_MES_INLINE_MAX);
		*out = strndup(text, *len);
		return *out ? 0 : -ENOMEM;
	}
	if (!(ca->present & EG_SRC_INLINE))
		return 0;
	dlen = (word32)strnlen(ca->inline_base64, MF_MES_INLINE_MAX);
	*out = malloc(dlen + 1);
	if (!*out)
		return -ENOMEM;
	if (Base64_Decode((const byte *)ca->inline_base64, dlen,
			  (byte *)*out, &dlen)) {
		free(*out);
		*out = NULL;
		snprintf(why, n, "caCert.inline is not base64");
		return -EINVAL;
	}
	*len = dlen;
	return 0;
}

/* A new origin context for MeshExternalService @e.  Returns 0 or -errno
 * (@why). */
static int eg_ctx(const struct egress *eg,
		  const struct mf_mesh_external_service *e,
		  struct tls_ctx **out, char *why, size_t n)
{
	static const int vers[] = { 0, 0, 0x0301, 0x0302, 0x0303, 0x0304 };
	const struct mf_mes_verification *v = &e->tls.verification;
	const struct mf_mes_key_source *kc = &v->client_cert;
	const struct mf_mes_key_source *kk = &v->client_key;
	struct tls_origin o = { 0 };
	char *ca = NULL, *crt = NULL, *key = NULL;
	const char *name;
	int err;

	o.skip_ca = v->mode == MF_MES_SKIP_CA || v->mode == MF_MES_SKIP_ALL;
	if (!o.skip_ca) {
		err = eg_ca(eg, &v->ca_cert, &ca, &o.ca_len, why, n);
		if (err)
			goto out;
		o.ca_pem = ca;
	}
	name = eg_secret_name(kc->present, kc->secret, kc->secret_ref.name);
	if (name) {
		err = eg_secret(eg, name, &crt, &o.crt_len, why, n);
		if (err)
			goto out;
		name = eg_secret_name(kk->present, kk->secret,
				      kk->secret_ref.name);
		err = name ? eg_secret(eg, name, &key, &o.key_len, why, n) :
			     -ENOENT;
		if (err)
			goto out;
		o.crt = crt;
		o.key = key;
	}
	if (e->tls.version.present) {
		o.min_version = e->tls.version.min < 6 ?
				vers[e->tls.version.min] : 0;
		o.max_version = e->tls.version.max < 6 ?
				vers[e->tls.version.max] : 0;
	}
	err = tls_ctx_new_origin(out, &o);
	if (err)
		snprintf(why, n, "TLS context: %s", err == -ENOENT ?
			 "no system CA bundle" : "a certificate, key or "
			 "version was refused");
out:
	if (key)
		explicit_bzero(key, o.key_len);
	free(key);
	free(crt);
	free(ca);
	return err;
}

/* The context of @ep's service in @p: kept, or made now. */
static struct tls_ctx *eg_ctx_of(struct egress *eg, struct policy *p,
				 const struct mf_endpoint *ep,
				 const struct mf_mesh_external_service *e,
				 char *why, size_t n)
{
	struct egress_slot *s = &eg->slots[ep->service_id % EGRESS_SLOTS];
	uint64_t epoch = policy_epoch(p);

	if (s->svc_id != ep->service_id || s->epoch != epoch) {
		tls_ctx_put(s->ctx);
		s->ctx = NULL;
		s->why[0] = '\0';
		s->svc_id = ep->service_id;
		s->epoch = epoch;
		if (eg_ctx(eg, e, &s->ctx, s->why, sizeof(s->why))) {
			s->ctx = NULL;
			log_warn("event=egress_tls_error service=%s "
				 "reason=\"%s\"", ep->name, s->why);
		}
	}
	if (!s->ctx)
		snprintf(why, n, "%s", s->why);
	return s->ctx;
}

int egress_session(struct egress *eg, struct policy *p,
		   const struct mf_endpoint *ep, struct tls_sess **out,
		   char *why, size_t n)
{
	const struct mf_mesh_external_service *e;
	const struct mf_mes_verification *v;
	struct tls_name names[MF_MES_SANS_MAX];
	const char *host, *sni;
	struct tls_ctx *ctx;
	uint8_t ip[4];
	size_t nn = 0;
	bool is_ip;
	int err;

	*out = NULL;
	if (policy_external(p, ep, &e, &host)) {
		snprintf(why, n, "not an external endpoint");
		return -ENOENT;
	}
	if (!e->tls.enabled)
		return 0;
	v = &e->tls.verification;
	is_ip = inet_pton(AF_INET, host, ip) == 1;
	sni = v->server_name[0] ? v->server_name : is_ip ? NULL : host;
	if (v->mode != MF_MES_SKIP_SAN && v->mode != MF_MES_SKIP_ALL) {
		for (size_t i = 0; i < v->nsubject_alt_names &&
				   i < MF_MES_SANS_MAX; i++) {
			names[nn].type = v->subject_alt_names[i].type == 2 ?
					 TLS_NAME_PREFIX : TLS_NAME_EXACT;
			names[nn++].value = v->subject_alt_names[i].value;
		}
		if (!nn) {
			names[0].type = sni ? TLS_NAME_EXACT : TLS_NAME_IP;
			names[0].value = sni ? sni : host;
			nn = 1;
		}
	}
	ctx = eg_ctx_of(eg, p, ep, e, why, n);
	if (!ctx)
		return -EINVAL;
	err = tls_sess_new_origin(out, ctx, sni, names, nn);
	if (err)
		snprintf(why, n, "tls session: %s", strerror(-err));
	return err;
}
