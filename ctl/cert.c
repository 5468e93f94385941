// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl cert issue`: a workload or node certificate (an X509-SVID) signed
 * by the mesh CA, written as <out>/certs/<stem>.crt and .key, stem =
 * spiffe_file_stem(id).  A workload is named by its SPIFFE ID, or by the
 * applied object that has it: a Workload, or a Dataplane that is an
 * endpoint or a builtin gateway instance.
 *
 * The certificate and its key become visible together, by renaming a
 * directory: certdir_put() builds the next <out>/certs with both files and
 * swaps it in (certdir.h), so the agent, which reads a pair from one
 * version of certs/, never loads a new certificate with an old key, even
 * after a crash.  The CA is read under a shared lock of the config dir,
 * which `ca init` holds exclusively while it writes ca.key and ca.crt
 * (ca.c), and ca.crt and trust-domain are copied to <out> before the new
 * pair appears there, so a leaf is never on disk without its CA.
 *
 * What is issued is held, with the CA above it, to the X.509-SVID rules
 * the agents hold their peers to (lib/svid.h) before it is written: a CA
 * of the operator's own that cannot sign SVIDs (no keyCertSign, a
 * keyUsage not critical, expired) issues nothing an agent would refuse.
 * `mfctl cert verify` applies the same rules to any PEM chain.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "certdir.h"
#include "der.h"
#include "ctl.h"
#include "der.h"
#include "fsio.h"
#include "issued.h"
#include "policy/dataplane.h"
#include "policy/endpoint.h"
#include "policy/gw_instance.h"
#include "policy/identity.h"
#include "policy/kinds.h"
#include "policy/txn.h"
#include "pki.h"
#include "spiffe.h"
#include "svid.h"

/* Copies @name from @from to @to with @mode, unless it is already there
 * with the same content.  Returns 0 or -errno. */
static int cert_copy(const char *from, const char *to, const char *name,
		     mode_t mode)
{
	char src[PATH_MAX], dst[PATH_MAX], *a, *b = NULL;
	size_t alen, blen;
	int err;

	err = fsio_pathf(src, sizeof(src), "%s/%s", from, name);
	if (!err)
		err = fsio_pathf(dst, sizeof(dst), "%s/%s", to, name);
	if (!err)
		err = fsio_read_all(src, &a, &alen);
	if (err)
		return err;
	if (!fsio_read_all(dst, &b, &blen) && blen == alen &&
	    !memcmp(a, b, alen))
		goto out;
	err = fsio_write_atomic(dst, a, alen, mode);
out:
	free(b);
	free(a);
	return err;
}

int ctl_ca_files_copy(const char *from, const char *to)
{
	char path[PATH_MAX];
	int err;

	/* The older roots first, then the signing one: a reader between
	 * the two trusts the old leaves still. */
	err = fsio_pathf(path, sizeof(path), "%s/" CTL_CA_PREVIOUS, from);
	if (err)
		return err;
	if (fsio_exists(path)) {
		err = cert_copy(from, to, CTL_CA_PREVIOUS, 0644);
	} else {
		/* Pruned where the CA is: here too. */
		err = fsio_pathf(path, sizeof(path), "%s/" CTL_CA_PREVIOUS, to);
		if (!err && unlink(path) == 0)
			err = fsio_fsync_dir(to);
		else if (!err && errno != ENOENT)
			err = -errno;
	}
	if (!err)
		err = cert_copy(from, to, "ca.crt", 0644);
	if (!err)
		err = cert_copy(from, to, CERTDIR_TRUST_DOMAIN, 0644);
	/* The revocation list last: signed by the root now in place.  Gone
	 * where the CA is (a new CA's list is empty): here too. */
	if (!err)
		err = fsio_pathf(path, sizeof(path), "%s/" CTL_CA_CRL, from);
	if (!err && fsio_exists(path)) {
		err = cert_copy(from, to, CTL_CA_CRL, 0644);
	} else if (!err) {
		err = fsio_pathf(path, sizeof(path), "%s/" CTL_CA_CRL, to);
		if (!err && unlink(path) == 0)
			err = fsio_fsync_dir(to);
		else if (!err && errno != ENOENT)
			err = -errno;
	}
	return err;
}

int ctl_ca_lock(const char *dir, bool excl)
{
	int lock = fsio_dir_lock(dir, excl);

	if (lock < 0)
		ctl_err("cannot lock %s: %s", dir, strerror(-lock));
	return lock;
}

int ctl_rng_init(WC_RNG *rng)
{
	if (!wc_InitRng(rng))
		return 0;
	ctl_err("cannot initialise the random generator");
	return -EIO;
}

int ctl_ca_load(const char *dir, struct pki_key *key, uint8_t **der,
			size_t *der_len, struct pki_cert_info *info)
{
	char path[PATH_MAX];
	uint8_t spki[256];
	int n, err;

	err = fsio_pathf(path, sizeof(path), "%s/ca.key", dir);
	if (!err)
		err = pki_key_load(key, path);
	if (err) {
		ctl_err("cannot load the CA key %s: %s", path,
			err == -EBADMSG ? "not a PEM P-256 private key" :
			strerror(-err));
		return err == -ENOENT ? CTL_EXIT_INVALID : CTL_EXIT_SYSTEM;
	}
	err = fsio_pathf(path, sizeof(path), "%s/ca.crt", dir);
	if (!err)
		err = pki_cert_load(path, der, der_len);
	if (!err)
		err = pki_cert_parse(*der, *der_len, info);
	if (err) {
		ctl_err("cannot load the CA certificate %s: %s", path,
			err == -EBADMSG ? "not a PEM X.509 certificate" :
			strerror(-err));
		return err == -ENOENT ? CTL_EXIT_INVALID : CTL_EXIT_SYSTEM;
	}
	n = pki_key_spki(key, spki, sizeof(spki));
	if (n < 0 || (size_t)n != info->spki_len ||
	    memcmp(spki, info->spki, info->spki_len)) {
		ctl_err("%s/ca.crt does not belong to %s/ca.key", dir, dir);
		return CTL_EXIT_SYSTEM;
	}
	if (!info->is_ca) {
		ctl_err("%s/ca.crt is not a CA certificate", dir);
		return CTL_EXIT_SYSTEM;
	}
	/* A CA made elsewhere may identify its key by another method; the
	 * chain needs AKID == the CA's SKID only when the CA has one. */
	if (!info->has_key_id && pki_key_id(key, info->key_id))
		return CTL_EXIT_SYSTEM;
	return 0;
}

/* Holds leaf @der, with CA @ca above it, to the X.509-SVID rules, as a
 * client's and a server's.  Returns 0, or CTL_EXIT_INVALID after saying
 * which rule which of them breaks. */
static int cert_svid_ok(const uint8_t *der, size_t len, const uint8_t *ca,
			size_t ca_len, const char *dir, time_t now)
{
	struct svid_cert v[2] = { { der, len }, { ca, ca_len } };
	enum svid_rule r;
	size_t at;

	r = svid_check(v, 2, SVID_CLIENT | SVID_SERVER, now, &at);
	if (r == SVID_OK)
		return 0;
	if (at)
		ctl_err("%s/ca.crt breaks X.509-SVID rule %s: %s; agents would "
			"refuse what it signs: nothing issued", dir,
			svid_rule_name(r), svid_rule_text(r));
	else
		ctl_err("the certificate made breaks X.509-SVID rule %s: %s; "
			"nothing issued", svid_rule_name(r), svid_rule_text(r));
	return CTL_EXIT_INVALID;
}

/* Records certificate @der of @id in the CA's record (issued.h), before
 * it is written anywhere, under the config dir's lock taken exclusively
 * (released before certdir_put() locks <out>, which may be the same
 * directory).  Returns 0 or -errno. */
static int cert_record(const char *config_dir, const uint8_t *der,
		       size_t len, const char *id, time_t not_after)
{
	struct der_cert c;
	int lock, err;

	if (der_cert_parse(der, len, &c))
		return -EBADMSG;
	lock = fsio_dir_lock(config_dir, true);
	if (lock < 0)
		return lock;
	err = issued_record(config_dir, c.serial.p, c.serial.len, not_after,
			    id);
	close(lock);
	return err;
}

/* The names a certificate carries beside its SPIFFE ID (--dns, --ip). */
struct cert_names {
	const char *const *dns;
	size_t n_dns;
	struct pki_ip *ip;	/* owned */
	size_t n_ip;
};

/*
 * Issues the certificate for @id, with the extra names @names, into @out.
 * Returns a CTL_EXIT_* code.
 */
static int cert_issue(const char *config_dir, const char *out, const char *id,
		      uint64_t secs, const struct cert_names *names)
{
	char crl_uri[PKI_CRL_URI_MAX + 1];
	bool have_crl_uri = false;
	char stem[MF_SPIFFE_MAX];
	char *crt_pem = NULL, *key_pem = NULL;
	size_t crt_len = 0, key_len = 0, ca_len = 0, der_len = 0;
	uint8_t *ca_der = NULL, *der = NULL;
	struct pki_key ca_key, key;
	struct pki_cert_info ca;
	struct pki_cert_req req;
	struct spiffe_id sid;
	time_t now = time(NULL);
	WC_RNG rng;
	bool rng_ok = false;
	int rc, err, lock;

	memset(&ca_key, 0, sizeof(ca_key));
	memset(&key, 0, sizeof(key));
	spiffe_parse(id, &sid);		/* checked by the caller */
	spiffe_file_stem(id, stem, sizeof(stem));

	/* Shared: `ca init` must not replace the CA while we read it, and
	 * <out> gets the very ca.crt we sign with. */
	lock = ctl_ca_lock(config_dir, false);
	if (lock < 0) {
		rc = CTL_EXIT_SYSTEM;
		goto out;
	}
	rc = ctl_ca_load(config_dir, &ca_key, &ca_der, &ca_len, &ca);
	if (!rc) {
		err = ctl_ca_crl_uri(config_dir, crl_uri, sizeof(crl_uri));
		have_crl_uri = !err;
		if (err && err != -ENOENT) {
			ctl_err("cannot read %s/" CTL_CA_CRL_URI ": %s "
				"(mfctl ca set --crl-uri)", config_dir,
				err == -EINVAL ? "not a CRL URI" :
				strerror(-err));
			rc = CTL_EXIT_SYSTEM;
		}
	}
	if (!rc && !fsio_same_dir(out, config_dir)) {
		err = ctl_ca_files_copy(config_dir, out);
		if (err) {
			ctl_err("cannot copy the CA files to %s: %s", out,
				strerror(-err));
			rc = CTL_EXIT_SYSTEM;
		}
	}
	close(lock);
	if (rc)
		goto out;
	rc = CTL_EXIT_SYSTEM;
	if (ctl_rng_init(&rng))
		goto out;
	rng_ok = true;
	err = pki_key_generate(&key, &rng);
	if (err) {
		ctl_err("cannot generate a key");
		goto out;
	}
	/* CN = the ID's path when it fits a commonName's 64 characters;
	 * else an empty subject, and the SAN alone names the workload. */
	memset(&req, 0, sizeof(req));
	req.common_name = strlen(sid.path) <= 64 ? sid.path : NULL;
	req.uri_san = id;
	req.dns_sans = names->dns;
	req.n_dns = names->n_dns;
	req.ip_sans = names->ip;
	req.n_ip = names->n_ip;
	req.crl_uri = have_crl_uri ? crl_uri : NULL;
	req.not_before = now - PKI_BACKDATE;
	req.not_after = now + (time_t)secs;
	req.issuer_name = ca.subject;
	req.issuer_name_len = ca.subject_len;
	req.issuer_key_id = ca.key_id;
	err = pki_cert_make(&req, &key, &ca_key, &rng, &der, &der_len);
	if (err) {
		ctl_err("cannot make the certificate: %s", strerror(-err));
		goto out;
	}
	rc = cert_svid_ok(der, der_len, ca_der, ca_len, config_dir, now);
	if (rc)
		goto out;
	rc = CTL_EXIT_SYSTEM;
	err = pki_cert_pem(der, der_len, &crt_pem, &crt_len);
	if (!err)
		err = pki_key_pem(&key, &key_pem, &key_len);
	if (err) {
		ctl_err("cannot make the certificate: %s", strerror(-err));
		goto out;
	}
	err = cert_record(config_dir, der, der_len, id, req.not_after);
	if (err) {
		ctl_err("cannot record the certificate in %s/issued: %s",
			config_dir, strerror(-err));
		goto out;
	}

	err = certdir_put(out, stem, crt_pem, crt_len, key_pem, key_len);
	if (err) {
		ctl_err("cannot write %s/certs/%s.crt and .key: %s", out, stem,
			err == -EISDIR ? "certs holds a directory" :
			err == -ENOTDIR ? "certs is not a directory" :
			err == -EOPNOTSUPP ? "the file system cannot exchange "
			"two directories (renameat2 RENAME_EXCHANGE)" :
			strerror(-err));
		goto out;
	}
	if (secs % 86400)
		printf("issued %s: %s/certs/%s.crt, %s/certs/%s.key "
		       "(valid %llus)\n", id, out, stem, out, stem,
		       (unsigned long long)secs);
	else
		printf("issued %s: %s/certs/%s.crt, %s/certs/%s.key "
		       "(valid %llu days)\n", id, out, stem, out, stem,
		       (unsigned long long)(secs / 86400));
	rc = CTL_EXIT_OK;
out:
	if (key_pem) {
		memset(key_pem, 0, key_len);
		free(key_pem);
	}
	free(crt_pem);
	free(der);
	free(ca_der);
	pki_key_free(&key);
	pki_key_free(&ca_key);
	if (rng_ok)
		wc_FreeRng(&rng);
	return rc;
}

/* The Workload called @name in @set, else the Dataplane that is an
 * endpoint or a gateway instance, or NULL. */
static const struct model_obj *cert_find(const struct model_set *set,
					 const char *name)
{
	const struct model_obj *o = model_set_find(set, MODEL_WORKLOAD, name);

	if (!o) {
		o = model_set_find(set, dp_kind(), name);
		if (o && !dp_node(set, o))
			o = NULL;
	}
	return o;
}

/*
 * The identity of @o (cert_find()) into @buf (MF_SPIFFE_MAX bytes), and
 * the MeshIdentity it comes from into *mid (NULL: none: its spec.identity,
 * or a gateway instance's default).  Returns @buf, or NULL when it has
 * none.
 */
static const char *cert_identity_of(const struct model_set *set,
				    const struct model_obj *o, char *buf,
				    const struct model_obj **mid)
{
	char why[8], id[MF_SPIFFE_MAX];
	struct ep_view v;

	if (gwi_is(set, o))
		return gwi_identity(set, o, buf, mid, why, sizeof(why)) ?
		       NULL : buf;
	*mid = identity_select(set, o);
	if (!ep_view(set, o, &v, id) || !v.id)
		return NULL;
	/* Copied: a rendered identity lives in this frame. */
	snprintf(buf, MF_SPIFFE_MAX, "%s", v.id);
	return buf;
}

/* The applied Mesh's dpCert.rotation.expiration, of its enabled mTLS
 * backend: how long the certificates it hands out live (s), 0: not
 * said. */
static uint64_t cert_mesh_expiration(const struct model_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct model_obj *m = &set->objs[i];
		const struct core_mtls *t;

		if (m->kind != MODEL_MESH)
			continue;
		t = &((const struct core_mesh *)model_spec(m))->mtls;
		for (unsigned b = 0; b < t->nbackends &&
				     b < MF_MTLS_BACKENDS_MAX; b++)
			if (!strcmp(t->backends[b].name, t->enabled_backend))
				return t->backends[b].dp_cert.rotation.expiration;
	}
	return 0;
}

/* The lifetime the applied policy gives a certificate of an --identity
 * (the Mesh's dpCert.rotation.expiration), 0 when nothing applied says:
 * no maps under the bpf root is no error here. */
static uint64_t cert_applied_expiration(const struct ctl_opts *o)
{
	uint64_t secs = 0;
	struct txn t;

	if (!ctl_txn_open(&t, o, false))
		secs = cert_mesh_expiration(&t.applied);
	txn_close(&t);
	return secs;
}

/*
 * The identity of the applied Workload or Dataplane @name (cert_find())
 * into @id (MF_SPIFFE_MAX bytes), and into *secs its MeshIdentity's
 * certificate expiry, if it has one; *@bundled: a Bundled MeshIdentity
 * gives it, whose trust domain may be other than the CA's (the mesh CA
 * issues that provider's certificates whatever the domain they are of).
 * Returns a CTL_EXIT_* code.
 */
static int cert_workload_identity(const struct ctl_opts *o, const char *name,
				  char *id, uint64_t *secs, bool *bundled)
{
	const struct model_obj *w, *mid;
	const struct mf_mid_provider *pv;
	char buf[MF_SPIFFE_MAX];
	const char *wid;
	struct txn t;
	int err, rc = CTL_EXIT_INVALID;

	err = ctl_txn_open(&t, o, false);
	if (err == -ENOENT) {
		ctl_err("nothing is applied under %s", o->bpf_root);
		goto out;
	}
	if (err) {
		rc = ctl_txn_fail(&t, err, "cert issue", "nothing issued");
		goto out;
	}
	w = cert_find(&t.applied, name);
	if (!w) {
		ctl_err("no Workload or Dataplane (with " DP_NODE_LABEL ") "
			"\"%s\" is applied", name);
		goto out;
	}
	wid = cert_identity_of(&t.applied, w, buf, &mid);
	if (!wid) {		/* the applied policy validated */
		ctl_err("%s \"%s\" has no identity",
			model_kind_name(w->kind), name);
		goto out;
	}
	if (mid) {
		pv = &((const struct mf_mesh_identity *)mid->pol.recs)->provider;
		/* No provider written is the mesh CA's, as Bundled. */
		if (pv->type && pv->type != MF_MID_BUNDLED) {
			ctl_err("MeshIdentity \"%s\", which gives %s \"%s\" "
				"its identity, has provider %s: its "
				"certificates do not come from the mesh CA",
				mid->name, model_kind_name(w->kind), name,
				pv->type == MF_MID_SPIRE ? "Spire" :
				"Extension");
			goto out;
		}
		if (pv->bundled.certificate_parameters.expiry)
			*secs = pv->bundled.certificate_parameters.expiry /
				1000;
		*bundled = true;
	}
	/* Else the Mesh's rotation, as Kuma gives its dataplanes. */
	if (!*secs)
		*secs = cert_mesh_expiration(&t.applied);
	snprintf(id, MF_SPIFFE_MAX, "%s", wid);
	rc = CTL_EXIT_OK;
out:
	txn_close(&t);
	return rc;
}

/* --dns and --ip of @a into @n (n->ip the caller frees).  Returns 0, or
 * a CTL_EXIT_* code after saying which one is bad. */
static int cert_names_parse(const struct ctl_args *a, struct cert_names *n)
{
	const char *const *ips = a->list[CTL_OPT_IP];

	memset(n, 0, sizeof(*n));
	n->dns = a->list[CTL_OPT_DNS];
	n->n_dns = a->nlist[CTL_OPT_DNS];
	for (size_t i = 0; i < n->n_dns; i++)
		if (strlen(n->dns[i]) > 253 || !kind_dns_name_ok(n->dns[i])) {
			ctl_err("invalid --dns \"%s\": want a lower-case DNS "
				"name (RFC 1123: labels of a-z, 0-9 and '-', "
				"at most 253 characters; no wildcard)",
				n->dns[i]);
			return CTL_EXIT_INVALID;
		}
	if (!a->nlist[CTL_OPT_IP])
		return 0;
	n->ip = calloc(a->nlist[CTL_OPT_IP], sizeof(*n->ip));
	if (!n->ip) {
		ctl_err("out of memory");
		return CTL_EXIT_SYSTEM;
	}
	for (; n->n_ip < a->nlist[CTL_OPT_IP]; n->n_ip++)
		if (pki_ip_parse(ips[n->n_ip], &n->ip[n->n_ip])) {
			ctl_err("invalid --ip \"%s\": want an IPv4 or IPv6 "
				"address", ips[n->n_ip]);
			return CTL_EXIT_INVALID;
		}
	return 0;
}

/* ctl_cert_issue() once its --dns and --ip are @names. */
static int cert_issue_checked(const struct ctl_opts *o,
			      const struct ctl_args *a,
			      const struct cert_names *names)
{
	const char *id = a->val[CTL_OPT_IDENTITY], *out = a->val[CTL_OPT_OUT];
	const char *ds = a->val[CTL_OPT_DAYS];
	const char *wl = a->val[CTL_OPT_WORKLOAD];
	char td[MF_NAME_MAX], wid[MF_SPIFFE_MAX];
	unsigned long days = PKI_LEAF_DAYS;
	uint64_t secs = 0;
	bool bundled = false;
	char *end;
	int err;

	if (ds) {
		errno = 0;
		days = strtoul(ds, &end, 10);
		if (errno || *end || end == ds || days < 1 ||
		    days > PKI_MAX_DAYS || ds[0] == '-') {
			ctl_err("--days must be 1..%d", PKI_MAX_DAYS);
			return CTL_EXIT_INVALID;
		}
	}
	if (id && wl) {
		ctl_err("cert issue takes --identity or --workload, not both");
		return CTL_EXIT_INVALID;
	}
	if (wl) {
		err = cert_workload_identity(o, wl, wid, &secs, &bundled);
		if (err)
			return err;
		id = wid;
	}
	if (!wl && id && !ds)
		secs = cert_applied_expiration(o);
	if (ds || !secs)
		secs = (uint64_t)days * 86400;
	if (!id) {
		ctl_err("cert issue needs --identity or --workload");
		ctl_usage(a->cmd, stderr);
		return CTL_EXIT_INVALID;
	}
	err = spiffe_parse(id, NULL);
	if (err) {
		ctl_err("invalid SPIFFE ID \"%s\": %s", id,
			err == -ENAMETOOLONG ? "longer than 255 characters" :
			"want spiffe://<trust-domain>/<path>");
		return CTL_EXIT_INVALID;
	}
	err = certdir_trust_domain(o->config_dir, td, sizeof(td));
	if (err) {
		if (err == -ENOENT)
			ctl_err("no CA in %s (run mfctl ca init first)",
				o->config_dir);
		else
			ctl_err("cannot read %s/" CERTDIR_TRUST_DOMAIN ": %s",
				o->config_dir, err == -EINVAL ?
				"not a valid trust domain" : strerror(-err));
		return err == -ENOENT ? CTL_EXIT_INVALID : CTL_EXIT_SYSTEM;
	}
	if (!spiffe_in_trust_domain(id, td) && !bundled) {
		ctl_err("identity %s is outside the CA's trust domain \"%s\"",
			id, td);
		return CTL_EXIT_INVALID;
	}
	if (!out)
		out = o->config_dir;
	err = fsio_mkdirs(out, 0755);
	if (err) {
		ctl_err("cannot create %s: %s", out, strerror(-err));
		return CTL_EXIT_SYSTEM;
	}
	return cert_issue(o->config_dir, out, id, secs, names);
}

int ctl_cert_issue(const struct ctl_opts *o, const struct ctl_args *a)
{
	struct cert_names names;
	int rc;

	/* Names first: a bad one is refused before anything is read. */
	rc = cert_names_parse(a, &names);
	if (!rc)
		rc = cert_issue_checked(o, a, &names);
	free(names.ip);
	return rc;
}

int ctl_cert_verify(const struct ctl_opts *o, const struct ctl_args *a)
{
	const char *file = a->words[0], *role = a->val[CTL_OPT_ROLE];
	unsigned int roles = SVID_CLIENT | SVID_SERVER;
	struct svid_cert v[PKI_CHAIN_MAX];
	char id[MF_SPIFFE_MAX];
	struct pki_chain c;
	enum svid_rule r;
	size_t at;
	int err;

	(void)o;
	if (role && !strcmp(role, "client")) {
		roles = SVID_CLIENT;
	} else if (role && !strcmp(role, "server")) {
		roles = SVID_SERVER;
	} else if (role) {
		ctl_err("--role must be client or server");
		return CTL_EXIT_INVALID;
	}
	err = pki_chain_load(file, &c);
	if (err) {
		ctl_err("cannot read %s: %s", file,
			err == -EBADMSG ? "no PEM certificate in it, or one "
			"that does not decode" : err == -E2BIG ?
			"more than 16 certificates" : strerror(-err));
		return err == -EBADMSG || err == -E2BIG ? CTL_EXIT_INVALID :
		       CTL_EXIT_SYSTEM;
	}
	for (size_t i = 0; i < c.n; i++)
		v[i] = (struct svid_cert){ c.der[i], c.len[i] };
	r = svid_check(v, c.n, roles, time(NULL), &at);
	if (r != SVID_OK) {
		printf("%s: certificate %zu (%s) breaks X.509-SVID rule %s: "
		       "%s\n", file, at + 1, at ? "a signing certificate" :
		       "the leaf", svid_rule_name(r), svid_rule_text(r));
	} else {
		/* The rules hold, so the leaf has exactly one URI SAN. */
		der_cert_spiffe(c.der[0], c.len[0], id, sizeof(id));
		printf("%s: follows the X.509-SVID rules: %s, %zu signing "
		       "certificate%s above it\n", file, id, c.n - 1,
		       c.n == 2 ? "" : "s");
	}
	pki_chain_free(&c);
	return r == SVID_OK ? CTL_EXIT_OK : CTL_EXIT_INVALID;
}
