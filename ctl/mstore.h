/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mesh store: where the mesh's policy is written once for every node
 * (docs/store.md).  A small key-value interface with revisions, so that
 * the commands above it (mesh.c: apply, delete, get, diff, status against
 * the store; sync.c: a node following it) do not know which store it is.
 * mstore_etcd.c speaks to etcd's v3 JSON gateway; a Kubernetes API source
 * would implement the same operations over its resources.
 *
 * Keys are byte strings without NULs, values any bytes (kept
 * NUL-terminated for the parsers).  Every operation returns 0 or -errno
 * and, on failure, leaves a sentence in s->err for the caller to print.
 */
#ifndef CTL_MSTORE_H
#define CTL_MSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One key and its value as the store holds it. */
struct mstore_kv {
	char *key;		/* owned */
	char *val;		/* owned, NUL-terminated; NULL: deleted */
	size_t len;
	int64_t mod_rev;	/* the revision that last wrote it */
};

/* A consistent read of every key under a prefix (list_changed: of
 * those written after a revision). */
struct mstore_list {
	struct mstore_kv *kvs;	/* owned, in key order (bytes, unsigned) */
	size_t n;
	int64_t rev;		/* the store's revision it was read at */
	/* Every key under the prefix at @rev, in @kvs or not: @n after a
	 * list, more after a list_changed when some keys did not change. */
	size_t count;
	/* Which store answered (etcd: its cluster's ID), 0: unknown.  Two
	 * reads of one prefix compare only when it is the same. */
	uint64_t store_id;
	/* Grows, never falls, while the store keeps one history (etcd: its
	 * raft term; one restored from a backup starts again low), 0:
	 * unknown. */
	uint64_t store_term;
};

void mstore_list_free(struct mstore_list *l);

/* One write of a commit: a put (@val) or a delete (@val NULL); a put
 * with @lease lives as long as that lease. */
struct mstore_op {
	const char *key;
	const char *val;
	size_t len;
	int64_t lease;		/* 0: none */
};

/* What a watch saw: the changes of one or more revisions, in order
 * (kvs[i].val NULL for a delete), and the revision they bring the store
 * to.  The callback returns 0 to go on watching, non-zero to stop (the
 * watch returns it).  The events are valid during the call only, and
 * the callback's to take: a key and value it keeps it moves out, leaving
 * NULL in their place (a first load's events are the whole mesh, and a
 * copy of it would be a second).  Answers that came while the callback
 * ran come together in its next call: a caller that compiles the whole
 * mesh per call compiles a burst once. */
typedef int mstore_watch_fn(void *arg, struct mstore_kv *ev, size_t n,
			    int64_t rev);

#define MSTORE_ERR_MAX 256

struct mstore;

struct mstore_ops {
	/* Every key under @prefix, at one revision. */
	int (*list)(struct mstore *s, const char *prefix,
		    struct mstore_list *out);
	/* The keys under @prefix last written after revision @after, at
	 * one revision, and out->count of all its keys: a reader that
	 * holds the list at @after merges the two, and knows from the
	 * count whether any key was deleted since (which this does not
	 * show).  Compaction does not matter: it is a read of the keys in
	 * force, not of their history. */
	int (*list_changed)(struct mstore *s, const char *prefix,
			    int64_t after, struct mstore_list *out);
	/* Writes @ops (@n) all or none, and only if key @guard was last
	 * written at @guard_rev (0: it does not exist): -ESTALE when another
	 * writer got there first, nothing written.  @guard NULL: no
	 * condition.  *rev: the revision of the write.  Too large for one
	 * write, nothing written either: -EFBIG, past what the store could
	 * keep safely (not sent); -E2BIG, more writes than it takes in one;
	 * -EMSGSIZE, more bytes than it takes in one request. */
	int (*commit)(struct mstore *s, const char *guard, int64_t guard_rev,
		      const struct mstore_op *ops, size_t n, int64_t *rev);
	/* Calls @fn with every change under @prefix from revision @from
	 * on, until @fn returns non-zero (returned), the store goes away
	 * (-ECONNRESET, -ECONNREFUSED, ...) or @from is compacted away
	 * (-ERANGE: list again). */
	int (*watch)(struct mstore *s, const char *prefix, int64_t from,
		     mstore_watch_fn *fn, void *arg);
	/* A lease of @ttl seconds: *id.  Keys put with it go when it
	 * expires, unless it is kept alive. */
	int (*lease_grant)(struct mstore *s, int64_t ttl, int64_t *id);
	/* Renews lease @id: *ttl its seconds left, 0 when it had expired
	 * (its keys are gone: grant another and put them again). */
	int (*lease_keepalive)(struct mstore *s, int64_t id, int64_t *ttl);
	void (*close)(struct mstore *s);
};

struct mstore {
	const struct mstore_ops *ops;
	const char *where;		/* for messages: the endpoints */
	const char *prefix;		/* the mesh's keys, e.g. "/meshforge" */
	char err[MSTORE_ERR_MAX];	/* why the last operation failed */
};

/* How to reach the store.  TLS: the CA that signed its certificates, and
 * ours (all NULL: plain connections, an etcd:// URL; an etcds:// URL needs
 * @ca).  Auth: the store's user and the file that holds its password
 * (both or neither), for a store with its auth enabled. */
struct mstore_access {
	const char *ca, *cert, *key;
	const char *user, *password_file;
};

/*
 * Opens the store @url names: etcd://host:port[,host:port...][/prefix]
 * (etcds:// for TLS with @tls).  Connects lazily: a store that is away
 * fails the first operation, not this.  Returns 0 and *out (the caller
 * closes it with mstore_close()), -EINVAL for a bad URL (said in @err,
 * MSTORE_ERR_MAX bytes), or -ENOMEM.
 */
int mstore_open(struct mstore **out, const char *url,
		const struct mstore_access *tls, char *err);

static inline void mstore_close(struct mstore *s)
{
	if (s)
		s->ops->close(s);
}

#endif /* CTL_MSTORE_H */
