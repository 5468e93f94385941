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
#include <unistd.h>

#include "certs.h"
#include "log.h"
#include "spiffe.h"

struct certs_entry {
	char spiffe[MF_SPIFFE_MAX];
	enum tls_role role;
	struct tls_ctx *ctx;		/* owned */
};

struct certs {
	char dir[PATH_MAX];
	char ca[PATH_MAX];
	pthread_mutex_t lock;
	struct certs_entry *v;		/* sorted by certs_cmp() */
	size_t n, cap;
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
	    sizeof(c->ca)) {
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
		tls_ctx_free(c->v[i].ctx);
	free(c->v);
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

/* Loads the context for (@spiffe, @role) from disk.  Returns 0 or -errno. */
static int certs_load(struct certs *c, const char *spiffe, enum tls_role role,
		      struct tls_ctx **out)
{
	char stem[MF_SPIFFE_MAX], crt[PATH_MAX], key[PATH_MAX];
	char have[MF_SPIFFE_MAX];
	struct tls_ctx *ctx;
	int ret;

	ret = spiffe_file_stem(spiffe, stem, sizeof(stem));
	if (ret)
		return ret == -ENAMETOOLONG ? -EINVAL : ret;
	if ((size_t)snprintf(crt, sizeof(crt), "%s/certs/%s.crt", c->dir,
			     stem) >= sizeof(crt) ||
	    (size_t)snprintf(key, sizeof(key), "%s/certs/%s.key", c->dir,
			     stem) >= sizeof(key))
		return -ENAMETOOLONG;
	/* tls_ctx_new() cannot tell a missing file from a bad one; we can. */
	if (access(crt, R_OK) != 0 || access(key, R_OK) != 0) {
		ret = -errno;
		log_warn("event=certs_missing identity=%s file=%s", spiffe,
			 access(crt, R_OK) != 0 ? crt : key);
		return ret;
	}
	ret = tls_ctx_new(&ctx, role, c->ca, crt, key);
	if (ret)
		return ret == -ENOENT ? -EINVAL : ret;
	/* A certificate filed under the wrong name must not let us speak for
	 * an identity it does not carry. */
	ret = tls_ctx_spiffe(ctx, have, sizeof(have));
	if (ret || strcmp(have, spiffe) != 0) {
		log_error("event=certs_identity_mismatch want=%s have=%s file=%s",
			  spiffe, ret ? "(none)" : have, crt);
		tls_ctx_free(ctx);
		return -EINVAL;
	}
	*out = ctx;
	return 0;
}

static int certs_get(struct certs *c, const char *spiffe, enum tls_role role,
		     struct tls_ctx **out)
{
	struct certs_entry *e;
	struct tls_ctx *ctx;
	bool found;
	size_t i;
	int ret;

	if (strlen(spiffe) >= MF_SPIFFE_MAX)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	i = certs_find(c, spiffe, role, &found);
	if (found) {
		*out = c->v[i].ctx;
		ret = 0;
		goto out;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;

		e = realloc(c->v, cap * sizeof(*e));
		if (!e) {
			ret = -ENOMEM;
			goto out;
		}
		c->v = e;
		c->cap = cap;
	}
	ret = certs_load(c, spiffe, role, &ctx);
	if (ret)
		goto out;
	memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof(c->v[0]));
	e = &c->v[i];
	memset(e, 0, sizeof(*e));
	strcpy(e->spiffe, spiffe);	/* length checked above */
	e->role = role;
	e->ctx = ctx;			/* the store owns it from here */
	c->n++;
	*out = ctx;
	log_info("event=certs_loaded identity=%s role=%s", spiffe,
		 role == TLS_ROLE_CLIENT ? "client" : "server");
out:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int certs_client_ctx(struct certs *c, const char *spiffe, struct tls_ctx **out)
{
	return certs_get(c, spiffe, TLS_ROLE_CLIENT, out);
}

int certs_server_ctx(struct certs *c, const char *spiffe, struct tls_ctx **out)
{
	return certs_get(c, spiffe, TLS_ROLE_SERVER, out);
}
