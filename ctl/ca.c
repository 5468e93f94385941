// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl ca init`: the mesh root CA.  Writes <config-dir>/ca.key (0600),
 * ca.crt (0644) and trust-domain (0644).
 *
 * The CA's key and certificate cannot be swapped in as a directory, as a
 * leaf's are (certdir.h): they sit in the config dir itself, beside
 * certs/ and what else the agent reads.  They are renamed in an order
 * their readers tolerate instead, each write durable before the next:
 * ca.key, then ca.crt, then trust-domain.  The agent reads only ca.crt
 * and trust-domain, so until the new key is on disk it keeps seeing the
 * old CA whole.  `cert issue`, the one reader of ca.key, takes a shared
 * lock of the config dir that we hold exclusively while writing, so it
 * never reads between two renames; what a crash leaves between them, the
 * new key beside the old certificate, it detects (the certificate's
 * public key is not the key's) and refuses to sign with, until `ca init
 * --force` is run again.
 *
 * crl-uri (0644, one line) says where the operator publishes ca.crl:
 * `ca init --crl-uri` or `ca set --crl-uri` write it, `cert issue` puts
 * it in every certificate it makes after (cRLDistributionPoints).  It is
 * the CA's alone, not copied to the agents, which read their list from
 * their config dir.
 *
 * `ca revoke` keeps the CA's revocation list, ca.crl (DER), beside ca.crt:
 * one file, written whole and durably, so the agent reads the list before
 * or after a revocation, never between.  Each signing drops the entries
 * of certificates that have ended, as the record of what was issued says
 * (ca_crl_prune()).  The list is the CA's, signed by
 * its key, and goes where ca.crt goes (ctl_ca_files_copy()).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "certdir.h"
#include "ctl.h"
#include "der.h"
#include "grow.h"
#include "fsio.h"
#include "issued.h"
#include "pki.h"
#include "spiffe.h"

/* The subject CN names the trust domain when that fits the 64 characters
 * X.520 allows for a commonName. */
static void ca_common_name(char *buf, size_t n, const char *td)
{
	if (snprintf(buf, n, "meshforge root CA %s", td) > 64)
		snprintf(buf, n, "meshforge root CA");
}

/*
 * A rotation keeps the roots it replaces trusted: ca-previous.crt becomes
 * the current ca.crt and the roots already there, written before the new
 * key and certificate (so every state a crash can leave trusts what
 * issued the leaves in use).  Returns 0 or -errno.
 */
static int ca_keep_previous(const char *dir)
{
	char path[PATH_MAX], *cur = NULL, *prev = NULL, *both;
	size_t cur_len = 0, prev_len = 0;
	int err;

	err = fsio_read_in(dir, "ca.crt", &cur, &cur_len);
	if (err)
		return err;
	err = fsio_read_in(dir, CTL_CA_PREVIOUS, &prev, &prev_len);
	if (err == -ENOENT)
		err = 0;
	if (!err)
		err = fsio_pathf(path, sizeof(path), "%s/" CTL_CA_PREVIOUS, dir);
	both = err ? NULL : malloc(cur_len + prev_len + 1);
	if (!err && !both)
		err = -ENOMEM;
	if (!err) {
		memcpy(both, cur, cur_len);
		memcpy(both + cur_len, prev ? prev : "", prev_len);
		err = fsio_write_atomic(path, both, cur_len + prev_len, 0644);
	}
	free(both);
	free(prev);
	free(cur);
	return err;
}

/*
 * Creates the CA files in @dir.  Returns 0 or -errno; what failed is said
 * on stderr.
 */
static int ca_create(const char *dir, const char *td)
{
	char path[PATH_MAX], cn[128], *key_pem = NULL, *crt_pem = NULL;
	struct pki_key key;
	size_t key_len, crt_len;
	uint8_t *der = NULL;
	size_t der_len;
	WC_RNG rng;
	bool rng_ok = false;
	time_t now = time(NULL);
	char td_line[MF_NAME_MAX + 2];
	struct pki_cert_req req = {
		.is_ca = true,
		.common_name = cn,
		.not_before = now - PKI_BACKDATE,
		.not_after = now + (time_t)PKI_CA_DAYS * 86400,
	};
	int err;

	memset(&key, 0, sizeof(key));
	ca_common_name(cn, sizeof(cn), td);
	err = ctl_rng_init(&rng);
	if (err)
		goto out;
	rng_ok = true;
	err = pki_key_generate(&key, &rng);
	if (err) {
		ctl_err("cannot generate the CA key");
		goto out;
	}
	err = pki_cert_make(&req, &key, &key, &rng, &der, &der_len);
	if (!err)
		err = pki_cert_pem(der, der_len, &crt_pem, &crt_len);
	if (!err)
		err = pki_key_pem(&key, &key_pem, &key_len);
	if (err) {
		ctl_err("cannot make the CA certificate: %s", strerror(-err));
		goto out;
	}

	/* The key first: a certificate must never be on disk without the
	 * key that matches it (the order is the file comment's). */
	snprintf(td_line, sizeof(td_line), "%s\n", td);
	err = fsio_pathf(path, sizeof(path), "%s/ca.key", dir);
	if (!err)
		err = fsio_write_atomic(path, key_pem, key_len, 0600);
	if (!err)
		err = fsio_pathf(path, sizeof(path), "%s/ca.crt", dir);
	if (!err)
		err = fsio_write_atomic(path, crt_pem, crt_len, 0644);
	if (!err)
		err = fsio_pathf(path, sizeof(path),
				 "%s/" CERTDIR_TRUST_DOMAIN, dir);
	if (!err)
		err = fsio_write_atomic(path, td_line, strlen(td_line), 0644);
	if (err) {
		ctl_err("cannot write %s: %s", path, strerror(-err));
		goto out;
	}
	printf("created CA \"%s\" in %s (ca.crt, ca.key, trust-domain)\n", cn,
	       dir);
out:
	if (key_pem) {
		memset(key_pem, 0, key_len);
		free(key_pem);
	}
	free(crt_pem);
	free(der);
	pki_key_free(&key);
	if (rng_ok)
		wc_FreeRng(&rng);
	return err;
}

int ctl_ca_crl_uri(const char *dir, char *buf, size_t n)
{
	char *line = NULL;
	size_t len;
	int err;

	err = fsio_read_in(dir, CTL_CA_CRL_URI, &line, &len);
	if (err)
		return err;
	line[strcspn(line, "\r\n")] = '\0';
	len = strlen(line);
	if (len >= n || pki_crl_uri_check(line))
		err = -EINVAL;
	else
		memcpy(buf, line, len + 1);
	free(line);
	return err;
}

/* Makes @uri the CRL URI of config dir @dir (the caller holds its lock
 * exclusively), durably; NULL removes it.  Returns 0 or -errno, after
 * saying what failed. */
static int ca_crl_uri_write(const char *dir, const char *uri)
{
	char path[PATH_MAX], line[PKI_CRL_URI_MAX + 2];
	int err;

	err = fsio_pathf(path, sizeof(path), "%s/" CTL_CA_CRL_URI, dir);
	if (!err && uri) {
		snprintf(line, sizeof(line), "%s\n", uri);
		err = fsio_write_atomic(path, line, strlen(line), 0644);
	} else if (!err) {
		if (unlink(path) == 0)
			err = fsio_fsync_dir(dir);
		else if (errno != ENOENT)
			err = -errno;
	}
	if (err)
		ctl_err("cannot %s %s: %s", uri ? "write" : "remove", path,
			strerror(-err));
	return err;
}

/* --crl-uri of @a, when given: 0, or CTL_EXIT_INVALID after saying why
 * it cannot be one.  "" (`ca set` only) means none. */
static int ca_crl_uri_opt(const struct ctl_args *a, bool empty_ok)
{
	const char *uri = a->val[CTL_OPT_CRL_URI];

	if (!uri || (empty_ok && !uri[0]) || !pki_crl_uri_check(uri))
		return 0;
	ctl_err("invalid --crl-uri \"%s\": want http://HOST[:PORT]/PATH, at "
		"most %d characters, no spaces", uri, PKI_CRL_URI_MAX);
	return CTL_EXIT_INVALID;
}

int ctl_ca_init(const struct ctl_opts *o, const struct ctl_args *a)
{
	const char *td = a->val[CTL_OPT_TRUST_DOMAIN];
	char crt[PATH_MAX], key[PATH_MAX];
	int err, lock, rc;

	if (!td) {
		ctl_err("ca init needs --trust-domain");
		ctl_usage(a->cmd, stderr);
		return CTL_EXIT_INVALID;
	}
	if (spiffe_check_trust_domain(td)) {
		ctl_err("invalid trust domain \"%s\": use 1..63 characters of "
			"a-z, 0-9, '.', '-' and '_'", td);
		return CTL_EXIT_INVALID;
	}
	if (ca_crl_uri_opt(a, false))
		return CTL_EXIT_INVALID;
	if (fsio_pathf(crt, sizeof(crt), "%s/ca.crt", o->config_dir) ||
	    fsio_pathf(key, sizeof(key), "%s/ca.key", o->config_dir)) {
		ctl_err("config directory path too long");
		return CTL_EXIT_INVALID;
	}
	err = fsio_mkdirs(o->config_dir, 0755);
	if (err) {
		ctl_err("cannot create %s: %s", o->config_dir, strerror(-err));
		return CTL_EXIT_SYSTEM;
	}
	/* Exclusive: no `cert issue` reads the CA between our renames, and
	 * no other `ca init` makes one between our look and our write. */
	lock = ctl_ca_lock(o->config_dir, true);
	if (lock < 0)
		return CTL_EXIT_SYSTEM;
	if (!a->set[CTL_OPT_FORCE] &&
	    (fsio_exists(crt) || fsio_exists(key))) {
		ctl_err("a CA already exists in %s; use --force to replace "
			"it (certificates it issued will stop verifying)",
			o->config_dir);
		rc = CTL_EXIT_INVALID;
	} else {
		/* A new CA starts with the URI given, or none: the old one
		 * may publish another CA's list. */
		rc = ca_create(o->config_dir, td) ||
		     ca_crl_uri_write(o->config_dir,
				      a->val[CTL_OPT_CRL_URI]) ?
		     CTL_EXIT_SYSTEM : CTL_EXIT_OK;
		if (!rc && a->val[CTL_OPT_CRL_URI])
			printf("certificates it issues name %s as where its "
			       "revocation list is\n",
			       a->val[CTL_OPT_CRL_URI]);
	}
	close(lock);
	return rc;
}

/* The config dir's CA, locked exclusively into *lock: ca.crt must be
 * there.  Returns 0 or a CTL_EXIT_* code after saying why. */
static int ca_lock_existing(const struct ctl_opts *o, int *lock)
{
	char crt[PATH_MAX];

	if (fsio_pathf(crt, sizeof(crt), "%s/ca.crt", o->config_dir)) {
		ctl_err("config directory path too long");
		return CTL_EXIT_INVALID;
	}
	*lock = ctl_ca_lock(o->config_dir, true);
	if (*lock < 0)
		return CTL_EXIT_SYSTEM;
	if (!fsio_exists(crt)) {
		ctl_err("no CA in %s (mfctl ca init)", o->config_dir);
		close(*lock);
		return CTL_EXIT_INVALID;
	}
	return 0;
}

int ctl_ca_set(const struct ctl_opts *o, const struct ctl_args *a)
{
	const char *uri = a->val[CTL_OPT_CRL_URI];
	int lock, rc;

	if (!uri) {
		ctl_err("ca set needs --crl-uri");
		ctl_usage(a->cmd, stderr);
		return CTL_EXIT_INVALID;
	}
	if (ca_crl_uri_opt(a, true))
		return CTL_EXIT_INVALID;
	rc = ca_lock_existing(o, &lock);
	if (rc)
		return rc;
	if (ca_crl_uri_write(o->config_dir, uri[0] ? uri : NULL))
		rc = CTL_EXIT_SYSTEM;
	else if (uri[0])
		printf("certificates issued from now on name %s as where the "
		       "revocation list is\n", uri);
	else
		printf("certificates issued from now on name no revocation "
		       "list\n");
	close(lock);
	return rc;
}

int ctl_ca_rotate(const struct ctl_opts *o, const struct ctl_args *a)
{
	char td[MF_NAME_MAX];
	int lock, rc, err;

	(void)a;
	rc = ca_lock_existing(o, &lock);
	if (rc)
		return rc;
	err = certdir_trust_domain(o->config_dir, td, sizeof(td));
	if (err) {
		ctl_err("cannot read %s/" CERTDIR_TRUST_DOMAIN ": %s",
			o->config_dir, err == -EINVAL ?
			"not a valid trust domain" : strerror(-err));
		rc = CTL_EXIT_SYSTEM;
		goto out;
	}
	err = ca_keep_previous(o->config_dir);
	if (err) {
		ctl_err("cannot keep the current CA trusted: %s",
			strerror(-err));
		rc = CTL_EXIT_SYSTEM;
		goto out;
	}
	rc = ca_create(o->config_dir, td) ? CTL_EXIT_SYSTEM : CTL_EXIT_OK;
	if (!rc)
		printf("the previous CA stays trusted (%s/%s) until `mfctl ca "
		       "prune`\n", o->config_dir, CTL_CA_PREVIOUS);
out:
	close(lock);
	return rc;
}

int ctl_ca_prune(const struct ctl_opts *o, const struct ctl_args *a)
{
	char path[PATH_MAX];
	int lock, rc, err = 0;

	(void)a;
	rc = ca_lock_existing(o, &lock);
	if (rc)
		return rc;
	if (fsio_pathf(path, sizeof(path), "%s/" CTL_CA_PREVIOUS,
		       o->config_dir) == 0 && unlink(path) == 0)
		err = fsio_fsync_dir(o->config_dir);
	else if (errno != ENOENT)
		err = -errno;
	if (err) {
		ctl_err("cannot remove %s: %s", path, strerror(-err));
		rc = CTL_EXIT_SYSTEM;
	} else {
		printf("only the current CA is trusted in %s\n",
		       o->config_dir);
	}
	close(lock);
	return rc;
}

int ctl_ca_export(const struct ctl_opts *o, const struct ctl_args *a)
{
	const char *out = a->val[CTL_OPT_OUT];
	int lock, err;

	if (!out) {
		ctl_err("ca export needs --out DIR");
		ctl_usage(a->cmd, stderr);
		return CTL_EXIT_INVALID;
	}
	err = fsio_mkdirs(out, 0755);
	if (err) {
		ctl_err("cannot create %s: %s", out, strerror(-err));
		return CTL_EXIT_SYSTEM;
	}
	/* Shared, as `cert issue` reads the CA. */
	lock = ctl_ca_lock(o->config_dir, false);
	if (lock < 0)
		return CTL_EXIT_SYSTEM;
	err = ctl_ca_files_copy(o->config_dir, out);
	close(lock);
	if (err) {
		ctl_err("cannot copy the CA files to %s: %s", out,
			strerror(-err));
		return err == -ENOENT ? CTL_EXIT_INVALID : CTL_EXIT_SYSTEM;
	}
	printf("the CA files of %s are in %s\n", o->config_dir, out);
	return CTL_EXIT_OK;
}

/* The list `ca revoke` builds: the entries of the current ca.crl, then
 * the new ones. */
struct ca_crl {
	struct pki_crl_entry *v;	/* owned */
	size_t n, cap;
	uint64_t number;		/* the current list's cRLNumber */
	size_t added;
	int reason;			/* of the new entries */
	time_t now;
};

/* Appends an entry to @l: serial @serial (INTEGER content, @len bytes,
 * at most PKI_SERIAL_MAX), revoked at @when for @reason.  Returns 0 or
 * -ENOMEM. */
static int ca_crl_push(struct ca_crl *l, const uint8_t *serial, size_t len,
		       time_t when, int reason)
{
	struct pki_crl_entry *e;

	e = grow_room(l->v, l->n, &l->cap, sizeof(*e), 16);
	if (!e)
		return -ENOMEM;
	l->v = e;
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->serial, serial, len);
	e->serial_len = len;
	e->when = when;
	e->reason = reason;
	return 0;
}

/* Adds the certificate with serial @serial (INTEGER content) unless the
 * list has it.  Returns 0 or -ENOMEM. */
static int ca_crl_add(struct ca_crl *l, const uint8_t *serial, size_t len)
{
	char hex[2 * PKI_SERIAL_MAX + 1];

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].serial_len == len &&
		    !memcmp(l->v[i].serial, serial, len)) {
			der_serial_hex(serial, len, hex, sizeof(hex));
			printf("serial %s is already revoked (%s)\n", hex,
			       der_crl_reason_name(l->v[i].reason > 0 ?
						   l->v[i].reason : 0));
			return 0;
		}
	if (ca_crl_push(l, serial, len, l->now, l->reason))
		return -ENOMEM;
	l->added++;
	der_serial_hex(serial, len, hex, sizeof(hex));
	printf("revoked serial %s (%s)\n", hex,
	       der_crl_reason_name(l->reason));
	return 0;
}

static int ca_crl_add_hex(void *arg, const char *hex)
{
	uint8_t serial[PKI_SERIAL_MAX];
	size_t len;

	if (pki_serial_parse(hex, serial, &len))
		return -EBADMSG;
	return ca_crl_add(arg, serial, len);
}

/* The entries of @dir's ca.crl, when there is one, into @l.  Returns 0,
 * -EBADMSG (not a CRL of ours to extend), or -errno. */
static int ca_crl_read(const char *dir, struct ca_crl *l)
{
	char *buf = NULL;
	struct der_crl_entry e;
	struct der_crl crl;
	size_t len;
	int ret;

	ret = fsio_read_in(dir, CTL_CA_CRL, &buf, &len);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	ret = der_crl_parse((const uint8_t *)buf, len, &crl);
	if (ret)
		goto out;
	l->number = crl.number;
	while ((ret = der_crl_next(&crl.revoked, &e)) > 0) {
		if (e.serial.len > PKI_SERIAL_MAX) {
			ret = -EBADMSG;
			break;
		}
		ret = ca_crl_push(l, e.serial.p, e.serial.len, e.when,
				  e.reason);
		if (ret)
			break;
	}
out:
	free(buf);
	return ret < 0 ? ret : 0;
}

/* What ca_crl_prune() walks the record with. */
struct ca_prune {
	struct ca_crl *l;
	size_t dropped;
};

/* The entry of record line (@hex, @until) leaves the list when that
 * certificate has ended, PKI_BACKDATE ago: a peer whose clock is that
 * much behind ours may still take it as valid until then. */
static int ca_crl_prune_one(void *arg, const char *hex, time_t until,
			    const char *id)
{
	struct ca_prune *pr = arg;
	struct ca_crl *l = pr->l;
	char ehex[2 * PKI_SERIAL_MAX + 1];

	(void)id;
	if (until > l->now - PKI_BACKDATE)
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		der_serial_hex(l->v[i].serial, l->v[i].serial_len, ehex,
			       sizeof(ehex));
		if (strcmp(ehex, hex))
			continue;
		printf("serial %s ended %lld s ago: dropped from the list\n",
		       hex, (long long)(l->now - until));
		memmove(&l->v[i], &l->v[i + 1],
			(l->n - i - 1) * sizeof(l->v[0]));
		l->n--;
		pr->dropped++;
		break;
	}
	return 0;
}

/*
 * Drops from @l the entries of certificates that have ended, as config
 * dir @dir's record of what it issued (issued.h) tells; an entry whose
 * certificate is not recorded there (revoked by --serial, issued before
 * the record) stays, its end unknown.  A list whose entries only grow
 * would be carried to every node, and searched in every handshake,
 * forever.  Returns how many went, or -errno (no record: none).
 */
static int ca_crl_prune(const char *dir, struct ca_crl *l)
{
	struct ca_prune pr = { l, 0 };
	int err = issued_each(dir, ca_crl_prune_one, &pr);

	if (err == -ENOENT)
		err = 0;
	return err ? err : (int)pr.dropped;
}

/* Whether ca.crt or a root of ca-previous.crt in @dir signed certificate
 * @der. */
static bool ca_issued(const char *dir, const uint8_t *der, size_t len)
{
	static const char *const roots[] = { "ca.crt", CTL_CA_PREVIOUS };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (!fsio_pathf(path, sizeof(path), "%s/%s", dir, roots[i]) &&
		    !pki_cert_issued_by(der, len, path))
			return true;
	return false;
}

/* The certificate in @path, which the CA of config dir @dir must have
 * issued (ca.crt, or a root of ca-previous.crt), into @l.  Returns a
 * CTL_EXIT_* code after saying what is wrong. */
static int ca_revoke_file(struct ca_crl *l, const char *path,
			  const char *dir, const struct pki_cert_info *ca)
{
	struct der_cert c;
	uint8_t *der = NULL;
	size_t len;
	int err, rc = CTL_EXIT_INVALID;

	err = pki_cert_load(path, &der, &len);
	if (err) {
		ctl_err("cannot read the certificate %s: %s", path,
			err == -EBADMSG ? "no PEM certificate in it" :
			strerror(-err));
		return err == -EBADMSG || err == -ENOENT ? CTL_EXIT_INVALID :
		       CTL_EXIT_SYSTEM;
	}
	if (der_cert_parse(der, len, &c) || !c.serial.len ||
	    c.serial.len > PKI_SERIAL_MAX) {
		ctl_err("%s: not an X.509 certificate that can be read", path);
		goto out;
	}
	/* A rotation keeps the subject, so a leaf of a previous root names
	 * this issuer too, and the list covers it; another CA may take the
	 * same name, so the signature decides. */
	if (c.issuer.len != ca->subject_len ||
	    memcmp(c.issuer.p, ca->subject, c.issuer.len) ||
	    !ca_issued(dir, der, len)) {
		ctl_err("%s was not issued by this CA", path);
		goto out;
	}
	rc = ca_crl_add(l, c.serial.p, c.serial.len) ? CTL_EXIT_SYSTEM :
	     CTL_EXIT_OK;
out:
	free(der);
	return rc;
}

/* Parses --days and --reason into *days and l->reason.  Returns 0 or
 * CTL_EXIT_INVALID after saying why. */
static int ca_revoke_opts(const struct ctl_args *a, unsigned long *days,
			  struct ca_crl *l)
{
	const char *ds = a->val[CTL_OPT_DAYS], *rs = a->val[CTL_OPT_REASON];
	int n = !!a->val[CTL_OPT_CERT] + !!a->val[CTL_OPT_SERIAL] +
		!!a->val[CTL_OPT_IDENTITY];
	char *end;

	if (n > 1) {
		ctl_err("ca revoke takes one of --cert, --serial and "
			"--identity");
		return CTL_EXIT_INVALID;
	}
	*days = PKI_CRL_DAYS;
	if (ds) {
		errno = 0;
		*days = strtoul(ds, &end, 10);
		if (errno || *end || end == ds || *days < 1 ||
		    *days > PKI_MAX_DAYS || ds[0] == '-') {
			ctl_err("--days must be 1..%d", PKI_MAX_DAYS);
			return CTL_EXIT_INVALID;
		}
	}
	l->reason = DER_CRL_UNSPECIFIED;
	if (rs) {
		l->reason = der_crl_reason_parse(rs);
		/* certificateHold would need its release, removeFromCRL
		 * is for delta lists, the CA compromises are not a leaf's
		 * to say. */
		if (l->reason < 0 || l->reason == DER_CRL_CERTIFICATE_HOLD ||
		    l->reason == DER_CRL_REMOVE_FROM_CRL ||
		    l->reason == DER_CRL_CA_COMPROMISE ||
		    l->reason == DER_CRL_AA_COMPROMISE) {
			ctl_err("--reason must be keyCompromise, "
				"affiliationChanged, superseded, "
				"cessationOfOperation, privilegeWithdrawn or "
				"unspecified");
			return CTL_EXIT_INVALID;
		}
	}
	return 0;
}

int ctl_ca_revoke(const struct ctl_opts *o, const struct ctl_args *a)
{
	const char *id = a->val[CTL_OPT_IDENTITY];
	const char *hex = a->val[CTL_OPT_SERIAL];
	char path[PATH_MAX], when[32];
	uint8_t *ca_der = NULL, *der = NULL;
	size_t ca_len = 0, der_len = 0;
	struct pki_cert_info ca;
	struct pki_crl_req req;
	struct pki_key key;
	struct ca_crl l;
	unsigned long days;
	WC_RNG rng;
	bool rng_ok = false;
	struct tm tm;
	int lock, rc, err, n;

	memset(&l, 0, sizeof(l));
	memset(&key, 0, sizeof(key));
	rc = ca_revoke_opts(a, &days, &l);
	if (rc)
		return rc;
	l.now = time(NULL);
	if (id && spiffe_parse(id, NULL)) {
		ctl_err("invalid SPIFFE ID \"%s\"", id);
		return CTL_EXIT_INVALID;
	}
	rc = ca_lock_existing(o, &lock);
	if (rc)
		return rc;
	rc = ctl_ca_load(o->config_dir, &key, &ca_der, &ca_len, &ca);
	if (rc)
		goto out;
	rc = CTL_EXIT_SYSTEM;
	err = ca_crl_read(o->config_dir, &l);
	if (err) {
		ctl_err("cannot read %s/" CTL_CA_CRL ": %s", o->config_dir,
			err == -EBADMSG ? "not a CRL (move it away to start "
			"a new list)" : strerror(-err));
		goto out;
	}
	rc = CTL_EXIT_INVALID;
	if (a->val[CTL_OPT_CERT]) {
		rc = ca_revoke_file(&l, a->val[CTL_OPT_CERT], o->config_dir,
				    &ca);
		if (rc)
			goto out;
	} else if (hex) {
		uint8_t serial[PKI_SERIAL_MAX];
		size_t len;

		if (pki_serial_parse(hex, serial, &len)) {
			ctl_err("--serial must be a serial number in hex, "
				"up to 40 digits");
			goto out;
		}
		if (ca_crl_add(&l, serial, len)) {
			rc = CTL_EXIT_SYSTEM;
			goto out;
		}
	} else if (id) {
		n = issued_find(o->config_dir, id, l.now, ca_crl_add_hex, &l);
		if (n == 0 || n == -ENOENT) {
			ctl_err("no certificate in use for %s is recorded in "
				"%s/issued (revoke it by --cert or --serial)",
				id, o->config_dir);
			goto out;
		}
		if (n < 0) {
			ctl_err("cannot read %s/issued: %s", o->config_dir,
				n == -EBADMSG ? "a line does not read" :
				strerror(-n));
			rc = CTL_EXIT_SYSTEM;
			goto out;
		}
	}

	rc = CTL_EXIT_SYSTEM;
	err = ca_crl_prune(o->config_dir, &l);
	if (err < 0) {
		ctl_err("cannot read %s/issued: %s", o->config_dir,
			err == -EBADMSG ? "a line does not read" :
			strerror(-err));
		goto out;
	}
	if (ctl_rng_init(&rng))
		goto out;
	rng_ok = true;
	memset(&req, 0, sizeof(req));
	req.issuer_name = ca.subject;
	req.issuer_name_len = ca.subject_len;
	req.issuer_key_id = ca.key_id;
	req.this_update = l.now;
	req.next_update = l.now + (time_t)days * 86400;
	req.number = l.number + 1;
	req.entries = l.v;
	req.n = l.n;
	err = pki_crl_make(&req, &key, &rng, &der, &der_len);
	if (!err)
		err = fsio_pathf(path, sizeof(path), "%s/" CTL_CA_CRL,
				 o->config_dir);
	if (!err)
		err = fsio_write_atomic(path, der, der_len, 0644);
	if (err) {
		ctl_err("cannot write the revocation list: %s",
			strerror(-err));
		goto out;
	}
	gmtime_r(&req.next_update, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s lists %zu revoked certificate%s (CRL number %llu), "
	       "current until %s; `mfctl ca export` takes it to the "
	       "agents\n", path, l.n, l.n == 1 ? "" : "s",
	       (unsigned long long)req.number, when);
	rc = CTL_EXIT_OK;
out:
	free(der);
	free(ca_der);
	free(l.v);
	pki_key_free(&key);
	if (rng_ok)
		wc_FreeRng(&rng);
	close(lock);
	return rc;
}
