// SPDX-License-Identifier: Apache-2.0
/*
 * The identity store: a cache of TLS contexts keyed by (SPIFFE ID, role),
 * kept as an array sorted by key and searched by bisection.  A mutex guards
 * it because loop threads share one store; a lookup holds it for a few
 * string compares, a first load for the file reads.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "certdir.h"
#include "certs.h"
#include "crl.h"
#include "grow.h"
#include "hash.h"
#include "log.h"
#include "monotime.h"
#include "policy.h"
#include "polkinds.h"
#include "policy/tls_profile.h"
#include "spiffe.h"
#include "svid.h"

struct certs_entry {
	char spiffe[MF_SPIFFE_MAX];
	enum tls_role role;
	struct tls_ctx *ctx;		/* owned; NULL: the last load failed */
	int err;			/* ... with this */
	uint64_t retry_ns;		/* ... and is not tried again before
					 * then (CLOCK_MONOTONIC) */
	uint8_t warned;			/* certs_check_expiry(): 1 said it
					 * nears its end, 2 that it ended */
};

/* A certificate is said to near its end once less than a fifth of its
 * life is left (Kuma renews at four fifths). */
#define CERTS_WARN_DIV		5

/* A failed load is tried again no sooner than this: a pod that keeps
 * connecting with an identity whose files are bad costs a file read and
 * a log line every few seconds, not per connection. */
#define CERTS_RETRY_MS		5000

struct certs {
	char dir[PATH_MAX];
	char ca[PATH_MAX];
	char prev[PATH_MAX];		/* ca-previous.crt: older roots still
					 * trusted, when there */
	char crl_path[PATH_MAX];	/* ca.crl: what the CA revoked */
	struct crl *crl;		/* the list in force, a reference;
					 * NULL: none */
	uint64_t crl_refused;		/* lists not taken (bad signature,
					 * unreadable) since the start */
	pthread_mutex_t lock;
	struct certs_entry *v;		/* sorted by certs_cmp(); made with
					 * trust */
	size_t n, cap;
	/* The CAs peers are verified against: the mesh CA and the policy's
	 * MeshTrusts.  The policy epoch it was last checked at, and a hash
	 * of what it was made from, so that an apply that leaves MeshTrust
	 * alone keeps every context. */
	struct tls_trust *trust;	/* a reference */
	uint64_t trust_epoch;
	uint64_t trust_hash;
	/* The versions and suites the contexts speak (the policy's MeshTLS
	 * profile, checked at the same epochs as the trust): when it
	 * changes, the store makes new contexts, as for a new trust. */
	struct tls_profile prof;
	int watch_fd;			/* inotify on the config dir, -1:
					 * none */
};

int certs_open(struct certs **out, const char *config_dir)
{
	struct certs *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if ((size_t)snprintf(c->dir, sizeof(c->dir), "%s", config_dir) >=
	    sizeof(c->dir) ||
	    (size_t)snprintf(c->ca, sizeof(c->ca), "%s/ca.crt", config_dir) >=
	    sizeof(c->ca) ||
	    (size_t)snprintf(c->prev, sizeof(c->prev), "%s/ca-previous.crt",
			     config_dir) >= sizeof(c->prev) ||
	    (size_t)snprintf(c->crl_path, sizeof(c->crl_path), "%s/ca.crl",
			     config_dir) >= sizeof(c->crl_path)) {
		ret = -ENAMETOOLONG;
		goto err_free;
	}
	/* Fail at start-up, not at the first connection, when the config dir
	 * holds no CA. */
	if (access(c->ca, R_OK) != 0) {
		ret = -errno;
		log_error("event=certs_open_error file=%s err=%s", c->ca,
			  strerror(errno));
		goto err_free;
	}
	ret = -pthread_mutex_init(&c->lock, NULL);
	if (ret)
		goto err_free;
	c->watch_fd = -1;
	*out = c;
	return 0;

err_free:
	free(c);
	return ret;
}

void certs_close(struct certs *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		tls_ctx_put(c->v[i].ctx);
	free(c->v);
	tls_trust_put(c->trust);
	crl_put(c->crl);
	if (c->watch_fd >= 0)
		close(c->watch_fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static int certs_cmp(const char *spiffe, enum tls_role role,
		     const struct certs_entry *e)
{
	int r = strcmp(spiffe, e->spiffe);

	if (r)
		return r;
	return (int)role - (int)e->role;
}

/* Index of the entry for (@spiffe, @role), or where it would go.  Sets
 * *found.  Caller holds the lock. */
static size_t certs_find(const struct certs *c, const char *spiffe,
			 enum tls_role role, bool *found)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = certs_cmp(spiffe, role, &c->v[mid]);

		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

/* Loads the context for (@spiffe, @role) from disk: the certificate and
 * key from one version of certs/ (certdir_read()), so never a new
 * certificate with an old key while `mfctl cert issue` replaces them.
 * Returns 0 or -errno. */
static int certs_load(struct certs *c, const char *spiffe, enum tls_role role,
		      struct tls_ctx **out)
{
	char stem[MF_SPIFFE_MAX], have[MF_SPIFFE_MAX];
	char *crt = NULL, *key = NULL;
	size_t crt_len = 0, key_len = 0;
	struct tls_ctx *ctx;
	int ret;

	ret = spiffe_file_stem(spiffe, stem, sizeof(stem));
	if (ret)
		return ret == -ENAMETOOLONG ? -EINVAL : ret;
	ret = certdir_read(c->dir, stem, &crt, &crt_len, &key, &key_len);
	if (ret) {
		log_warn("event=certs_missing identity=%s file=%s/certs/%s.crt "
			 "err=\"%s\"", spiffe, c->dir, stem, strerror(-ret));
		return ret;
	}
	ret = tls_ctx_new_mesh(&ctx, role, c->trust, crt, crt_len, key,
			       key_len, &c->prof);
	explicit_bzero(key, key_len);
	free(key);
	free(crt);
	if (ret) {
		log_error("event=certs_load_error identity=%s "
			  "file=%s/certs/%s.crt err=\"%s\"", spiffe, c->dir,
			  stem, strerror(-ret));
		return ret == -ENOENT ? -EINVAL : ret;
	}
	/* A certificate filed under the wrong name must not let us speak for
	 * an identity it does not carry. */
	ret = tls_ctx_spiffe(ctx, have, sizeof(have));
	if (ret || strcmp(have, spiffe) != 0) {
		log_error("event=certs_identity_mismatch want=%s have=%s "
			  "file=%s/certs/%s.crt", spiffe,
			  ret ? "(none)" : have, c->dir, stem);
		tls_ctx_put(ctx);
		return -EINVAL;
	}
	/* Loaded all the same: the refusal is the peers' to make, and the
	 * line says why they will. */
	ret = tls_ctx_svid_rule(ctx);
	if (ret)
		log_warn("event=certs_svid_rule identity=%s file=%s/certs/%s.crt "
			 "rule=%s reason=\"%s; peers refuse it\"", spiffe,
			 c->dir, stem, svid_rule_name(ret),
			 svid_rule_text(ret));
	*out = ctx;
	return 0;
}

/* The MeshTrust records of @k: their count, and record @i. */
#define CERTS_MESH_TRUSTS (REC_MESH_TRUSTS - REC_KIND_FIRST)

/* What the trust for policy @p is made from, hashed. */
static uint64_t certs_trust_hash(const struct policy *p)
{
	const struct polkinds *k = p ? policy_kinds(p) : NULL;
	const char *td = p ? policy_trust_domain(p) : "";
	uint64_t h = hash_fnv_str(HASH_FNV_INIT, td);

	for (size_t i = 0; p && i < policy_mid_domain_count(p); i++)
		if (policy_mid_domain_ca(p, i))
			h = hash_fnv_str(h, policy_mid_domain(p, i));

	for (size_t i = 0; k && i < polkinds_count(k, CERTS_MESH_TRUSTS);
	     i++) {
		const struct mf_mesh_trust *m =
			polkinds_record(k, CERTS_MESH_TRUSTS, i, NULL);

		h = hash_fnv(h, m->trust_domain, sizeof(m->trust_domain));
		for (unsigned b = 0; b < m->nca_bundles &&
				     b < MF_CA_BUNDLES_MAX; b++)
			h = hash_fnv(h, m->ca_bundles[b].pem.value,
				       strnlen(m->ca_bundles[b].pem.value,
					       MF_PEM_MAX));
	}
	return h;
}

/*
 * Reads ca.crl again into c->crl (crl.h), as a trust is made.  A list no
 * CA here signed, or one that does not read, is not taken: the one in
 * force stays, so a broken copy never lifts a revocation.  One past its
 * nextUpdate is taken (its certificates stay refused) and said as an
 * error: nobody renewed it, and what was revoked since is not in it.  No
 * file: no list (`mfctl ca revoke` never removes it; a new CA's export
 * does).  Caller holds the lock.
 */
static void certs_crl_update(struct certs *c)
{
	const char *cas[] = { c->ca, c->prev };
	struct crl *l = NULL;
	int64_t now = (int64_t)time(NULL);
	int ret;

	ret = crl_load(&l, c->crl_path, cas, 2);
	if (ret == -ENOENT) {
		if (c->crl)
			log_info("event=crl_removed file=%s entries_before=%zu",
				 c->crl_path, crl_count(c->crl));
		crl_put(c->crl);
		c->crl = NULL;
		return;
	}
	if (ret) {
		c->crl_refused++;
		log_error("event=crl_refused file=%s err=\"%s\" effect=\"%s\"",
			  c->crl_path,
			  ret == -EKEYREJECTED ? "no trusted CA signed it" :
			  ret == -EBADMSG ? "not a CRL" : strerror(-ret),
			  c->crl ? "the list loaded before stays in force" :
			  "no certificate is refused as revoked");
		return;
	}
	/* The same list again (a reload for another file): said once. */
	if (!c->crl || crl_number(l) != crl_number(c->crl) ||
	    crl_this_update(l) != crl_this_update(c->crl))
		log_info("event=crl_loaded file=%s entries=%zu number=%llu "
			 "next_update=%lld", c->crl_path, crl_count(l),
			 (unsigned long long)crl_number(l),
			 (long long)crl_next_update(l));
	if (crl_next_update(l) && crl_next_update(l) <= now)
		log_error("event=crl_expired file=%s next_update=%lld "
			  "effect=\"its certificates stay refused; renew it: "
			  "mfctl ca revoke, then ca export\"", c->crl_path,
			  (long long)crl_next_update(l));
	crl_put(c->crl);
	c->crl = l;
}

/* A trust for policy @p (NULL: none yet): the mesh CA for the mesh's
 * trust domain (every domain before a Mesh is applied), and each
 * MeshTrust's bundles for its domain, with the CA's revocation list.  A
 * bundle that does not load is left out with a log line: a bad
 * MeshTrust must not cost the mesh CA. */
static int certs_trust_make(struct certs *c, const struct policy *p,
			    struct tls_trust **out)
{
	const struct polkinds *k = p ? policy_kinds(p) : NULL;
	const char *td = p ? policy_trust_domain(p) : "";
	struct tls_trust *t;
	unsigned cas = 1;
	int ret = tls_trust_new(&t);

	if (ret)
		return ret;
	ret = tls_trust_add_file(t, td, c->ca);
	if (ret) {
		log_error("event=trust_error file=%s err=\"%s\"", c->ca,
			  strerror(-ret));
		tls_trust_put(t);
		return ret;
	}
	/* A rotation's overlap: the roots it replaced, trusted beside
	 * (mfctl ca rotate).  One that does not load costs the overlap,
	 * never the current root. */
	if (access(c->prev, R_OK) == 0) {
		ret = tls_trust_add_file(t, td, c->prev);
		if (ret)
			log_error("event=trust_error file=%s err=\"%s\"",
				  c->prev, strerror(-ret));
		else
			cas++;
	}
	/* The domains a MeshIdentity's meshTrustCreation has the mesh CA
	 * vouch for (Kuma makes a MeshTrust of its CA for each): the same
	 * roots, for each.  A root loaded once above loads again. */
	for (size_t i = 0; p && i < policy_mid_domain_count(p); i++) {
		const char *d = policy_mid_domain(p, i);

		if (!policy_mid_domain_ca(p, i))
			continue;
		ret = tls_trust_add_file(t, d, c->ca);
		if (!ret && access(c->prev, R_OK) == 0)
			ret = tls_trust_add_file(t, d, c->prev);
		if (ret)
			log_error("event=trust_error file=%s trust_domain=%s "
				  "err=\"%s\"", c->ca, d, strerror(-ret));
		else
			cas++;
	}
	for (size_t i = 0; k && i < polkinds_count(k, CERTS_MESH_TRUSTS);
	     i++) {
		const struct mf_pol_key *key;
		const struct mf_mesh_trust *m =
			polkinds_record(k, CERTS_MESH_TRUSTS, i, &key);

		for (unsigned b = 0; b < m->nca_bundles &&
				     b < MF_CA_BUNDLES_MAX; b++) {
			const char *pem = m->ca_bundles[b].pem.value;

			ret = tls_trust_add_pem(t, m->trust_domain, pem,
						strnlen(pem, MF_PEM_MAX));
			if (ret) {
				log_warn("event=trust_bundle_refused "
					 "mesh_trust=%.*s bundle=%u "
					 "trust_domain=%s err=\"%s\"",
					 (int)sizeof(key->name), key->name, b,
					 m->trust_domain, strerror(-ret));
				continue;
			}
			cas++;
		}
	}
	certs_crl_update(c);
	tls_trust_set_crl(t, c->crl);
	log_info("event=trust_loaded trust_domain=%s ca_bundles=%u "
		 "revoked=%zu epoch=%llu", td[0] ? td : "-", cas,
		 crl_count(c->crl),
		 p ? (unsigned long long)policy_epoch(p) : 0ull);
	*out = t;
	return 0;
}

/* The profile of policy @p (NULL: none yet, the default) into @out: the
 * versions as wolfSSL numbers them, TLS 1.2's suites by their names. */
static void certs_profile(const struct policy *p, struct tls_profile *out)
{
	const struct mf_tls_profile *t = p ? policy_tls_profile(p) : NULL;
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	/* mfctl writes only TLS 1.2 and 1.3, in order (tls_profile.h);
	 * anything else is a map of another ABI: the default. */
	if (!t || t->min < MF_TLS_12 || t->max > MF_TLS_13 || t->min > t->max)
		return;
	/* enum mf_tls_version: MF_TLS_12 is 0x0303. */
	out->min_version = 0x0303 + (t->min - MF_TLS_12);
	out->max_version = 0x0303 + (t->max - MF_TLS_12);
	for (unsigned i = 0; i < t->nciphers && i < MF_TLS_PROFILE_CIPHERS;
	     i++) {
		const char *name = tlsprof_cipher_name(t->ciphers[i]);

		if (name && len + strlen(name) + 2 < sizeof(out->ciphers12))
			len += (size_t)snprintf(out->ciphers12 + len,
						sizeof(out->ciphers12) - len,
						"%s%s", len ? ":" : "", name);
	}
}

/* Drops every cached context: the next lookups make new ones, the
 * sessions using the old ones keep them.  Caller holds the lock. */
static void certs_drop(struct certs *c)
{
	for (size_t i = 0; i < c->n; i++)
		tls_ctx_put(c->v[i].ctx);
	c->n = 0;
}

/* Sets the store's profile to @prof, saying so when it changes. */
static void certs_set_profile(struct certs *c, const struct tls_profile *prof,
			      uint64_t epoch)
{
	if (!memcmp(prof, &c->prof, sizeof(*prof)))
		return;
	c->prof = *prof;
	log_info("event=tls_profile min=%#x max=%#x ciphers12=%s epoch=%llu",
		 prof->min_version ? prof->min_version : 0x0304,
		 prof->max_version ? prof->max_version : 0x0304,
		 prof->ciphers12[0] ? prof->ciphers12 : "default",
		 (unsigned long long)epoch);
}

/* Brings the store's trust and profile up to policy @p: a new trust when
 * what it is made from changed, and then, or when the profile changed, no
 * cached context (they hold the old ones, and the sessions using them
 * keep them).  Caller holds the lock. */
static int certs_trust_update(struct certs *c, const struct policy *p)
{
	uint64_t epoch = p ? policy_epoch(p) : 0, h;
	struct tls_profile prof;
	struct tls_trust *t;
	int ret;

	if (c->trust && (!p || epoch == c->trust_epoch))
		return 0;
	certs_profile(p, &prof);
	h = certs_trust_hash(p);
	if (c->trust && h == c->trust_hash) {
		c->trust_epoch = epoch;
		if (memcmp(&prof, &c->prof, sizeof(prof))) {
			certs_drop(c);
			certs_set_profile(c, &prof, epoch);
		}
		return 0;
	}
	ret = certs_trust_make(c, p, &t);
	if (ret)
		return ret;
	certs_drop(c);
	certs_set_profile(c, &prof, epoch);
	tls_trust_put(c->trust);
	c->trust = t;
	c->trust_epoch = epoch;
	c->trust_hash = h;
	return 0;
}

static int certs_get(struct certs *c, const char *spiffe, enum tls_role role,
		     const struct policy *p, struct tls_ctx **out)
{
	struct certs_entry *e;
	struct tls_ctx *ctx;
	bool found;
	size_t i;
	int ret;

	if (strlen(spiffe) >= MF_SPIFFE_MAX)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	ret = certs_trust_update(c, p);
	if (ret)
		goto out;
	i = certs_find(c, spiffe, role, &found);
	if (found) {
		e = &c->v[i];
		if (e->ctx) {
			*out = tls_ctx_get(e->ctx);
			goto out;
		}
		/* It failed: again only once its time has come. */
		ret = e->err;
		if (mono_ns() < e->retry_ns)
			goto out;
		ret = certs_load(c, spiffe, role, &ctx);
		if (ret) {
			e->err = ret;
			e->retry_ns = mono_ns() + CERTS_RETRY_MS * 1000000ull;
			goto out;
		}
		e->ctx = ctx;
		e->err = 0;
		*out = tls_ctx_get(ctx);
		goto out;
	}
	e = grow_room(c->v, c->n, &c->cap, sizeof(*e), 16);
	if (!e) {
		ret = -ENOMEM;
		goto out;
	}
	c->v = e;
	ret = certs_load(c, spiffe, role, &ctx);
	memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof(c->v[0]));
	e = &c->v[i];
	memset(e, 0, sizeof(*e));
	strcpy(e->spiffe, spiffe);	/* length checked above */
	e->role = role;
	c->n++;
	if (ret) {
		/* Remembered, so the next connections do not read and log
		 * again. */
		e->err = ret;
		e->retry_ns = mono_ns() + CERTS_RETRY_MS * 1000000ull;
		goto out;
	}
	e->ctx = ctx;			/* the store's reference */
	*out = tls_ctx_get(ctx);
	log_info("event=certs_loaded identity=%s role=%s", spiffe,
		 role == TLS_ROLE_CLIENT ? "client" : "server");
out:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int certs_client_ctx(struct certs *c, const char *spiffe,
		     const struct policy *p, struct tls_ctx **out)
{
	return certs_get(c, spiffe, TLS_ROLE_CLIENT, p, out);
}

int certs_node_spiffe(char *buf, size_t n, const char *td, const char *node)
{
	int len = snprintf(buf, n, "spiffe://%s/ns/" CERTS_NODE_NS "/sa/%s",
			   td, node);

	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

int certs_server_ctx(struct certs *c, const char *spiffe,
		     const struct policy *p, struct tls_ctx **out)
{
	return certs_get(c, spiffe, TLS_ROLE_SERVER, p, out);
}

int certs_reload(struct certs *c, const struct policy *p)
{
	struct tls_profile prof;
	struct tls_trust *t, *old;
	unsigned int renewed = 0, kept = 0;
	int ret;

	pthread_mutex_lock(&c->lock);
	/* The CA first: without it nothing new can be verified, so the
	 * store stays as it was. */
	ret = certs_trust_make(c, p, &t);
	if (ret) {
		pthread_mutex_unlock(&c->lock);
		log_error("event=certs_reload_failed file=%s err=\"%s\" "
			  "effect=\"the certificates in use stay\"", c->ca,
			  strerror(-ret));
		return ret;
	}
	old = c->trust;
	c->trust = t;
	certs_profile(p, &prof);
	certs_set_profile(c, &prof, p ? policy_epoch(p) : 0);
	for (size_t i = 0; i < c->n; i++) {
		struct certs_entry *e = &c->v[i];
		struct tls_ctx *ctx;

		ret = certs_load(c, e->spiffe, e->role, &ctx);
		if (ret) {
			/* A pair that no longer loads: the one in use stays
			 * (its sessions verify with the old CA too). */
			if (e->ctx)
				kept++;
			continue;
		}
		tls_ctx_put(e->ctx);
		e->ctx = ctx;
		e->err = 0;
		e->warned = 0;
		renewed++;
	}
	c->trust_epoch = p ? policy_epoch(p) : 0;
	c->trust_hash = certs_trust_hash(p);
	tls_trust_put(old);
	pthread_mutex_unlock(&c->lock);
	log_info("event=certs_reloaded renewed=%u kept_old=%u", renewed, kept);
	return kept ? -EINVAL : 0;
}

int certs_watch(struct certs *c)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* ca.crt and trust-domain are renamed into the config dir, certs/
	 * swapped into it whole (certdir.h): each lands as a move or a
	 * write there. */
	if (inotify_add_watch(fd, c->dir, IN_MOVED_TO | IN_CLOSE_WRITE |
					  IN_CREATE | IN_DELETE) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	c->watch_fd = fd;
	return 0;
}

bool certs_changed(struct certs *c)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	ssize_t n;

	if (c->watch_fd < 0)
		return false;
	while ((n = read(c->watch_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			/* A temporary file or directory on its way in is not
			 * the change; its rename is. */
			if (ev->len && (!strcmp(ev->name, "ca.crt") ||
					!strcmp(ev->name, "ca-previous.crt") ||
					!strcmp(ev->name, "ca.crl") ||
					!strcmp(ev->name, "certs") ||
					!strcmp(ev->name, CERTDIR_TRUST_DOMAIN)))
				changed = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	return changed;
}

void certs_each(struct certs *c,
		void (*fn)(void *arg, const char *spiffe, enum tls_role role,
			   int64_t not_before, int64_t not_after),
		void *arg)
{
	int64_t nb, na;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].ctx &&
		    !tls_ctx_validity(c->v[i].ctx, &nb, &na))
			fn(arg, c->v[i].spiffe, c->v[i].role, nb, na);
	pthread_mutex_unlock(&c->lock);
}

unsigned int certs_check_expiry(struct certs *c, int64_t now)
{
	unsigned int n = 0;
	int64_t nb, na;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++) {
		struct certs_entry *e = &c->v[i];
		const char *role = e->role == TLS_ROLE_CLIENT ? "client" :
				   "server";

		if (!e->ctx || tls_ctx_validity(e->ctx, &nb, &na))
			continue;
		if (now >= na && e->warned < 2) {
			e->warned = 2;
			n++;
			log_error("event=certificate_expired identity=%s "
				  "role=%s not_after=%lld effect=\"peers "
				  "refuse it: issue a new one (mfctl cert "
				  "issue)\"", e->spiffe, role, (long long)na);
		} else if (now < na && (na - now) * CERTS_WARN_DIV < na - nb &&
			   !e->warned) {
			e->warned = 1;
			n++;
			log_warn("event=certificate_expiring identity=%s "
				 "role=%s not_after=%lld seconds_left=%lld",
				 e->spiffe, role, (long long)na,
				 (long long)(na - now));
		}
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

struct crl *certs_crl(struct certs *c)
{
	struct crl *l;

	pthread_mutex_lock(&c->lock);
	/* Before the first handshake no trust has read the list: an agent
	 * that publishes it serves it all the same. */
	if (!c->trust)
		certs_crl_update(c);
	l = c->crl ? crl_get(c->crl) : NULL;
	pthread_mutex_unlock(&c->lock);
	return l;
}

bool certs_crl_info(struct certs *c, size_t *entries, int64_t *next_update,
		    uint64_t *refused)
{
	bool have;

	pthread_mutex_lock(&c->lock);
	have = c->crl != NULL;
	*entries = crl_count(c->crl);
	*next_update = crl_next_update(c->crl);
	*refused = c->crl_refused;
	pthread_mutex_unlock(&c->lock);
	return have;
}
