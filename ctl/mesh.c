// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "emit.h"
#include "fsio.h"
#include "mesh.h"
#include "policy/core.h"
#include "policy/doc.h"
#include "policy/render.h"
#include "policy/txn.h"

/* Splits policy key @key of @prefix into its kind and name (pointing into
 * @key).  Returns the kind, -1 for a key that is not a policy object, or
 * -2 for one that is under P/policy/ but malformed. */
static int mesh_key_split(const char *prefix, const char *key,
			  const char **name)
{
	size_t pl = strlen(prefix), kl;
	const char *k, *slash;
	char kind[64];
	int kd;

	if (strncmp(key, prefix, pl) ||
	    strncmp(key + pl, MESH_POLICY "/", sizeof(MESH_POLICY)))
		return -1;
	k = key + pl + sizeof(MESH_POLICY);
	slash = strchr(k, '/');
	if (!slash || !slash[1] || strchr(slash + 1, '/'))
		return -2;
	kl = (size_t)(slash - k);
	if (kl >= sizeof(kind))
		return -2;
	memcpy(kind, k, kl);
	kind[kl] = '\0';
	kd = model_kind_parse(kind);
	*name = slash + 1;
	return kd < 0 ? -2 : kd;
}

/* A registration of @node, key @kv naming @k/@name: added to @set when
 * it is a Node named @node or a Workload on @node whose Service the
 * policy defines, and nothing there has its kind and name; else said in
 * @d and left out.  Returns 0 or -ENOMEM. */
static int mesh_reg_one(const char *node, int k, const char *name,
			const struct mstore_kv *kv, struct model_set *set,
			struct diag *d)
{
	const struct core_workload *w;
	struct model_set one;
	struct diag od;
	int err;

	if (k != MODEL_NODE && k != MODEL_WORKLOAD) {
		diag_add(d, NULL, NULL, kv->key, "a node registers its Node "
			 "and its Workloads only; ignored");
		return 0;
	}
	if (k == MODEL_NODE && strcmp(name, node)) {
		diag_add(d, NULL, NULL, kv->key, "node %s cannot register "
			 "Node %s; ignored", node, name);
		return 0;
	}
	if (model_set_find(set, k, name)) {
		diag_add(d, NULL, NULL, kv->key, "%s %s is defined already "
			 "(by the policy or another node); ignored",
			 model_kind_name(k), name);
		return 0;
	}
	/* Checked in a set of its own, so that a refused object leaves
	 * nothing behind in @set. */
	model_set_init(&one);
	diag_init(&od);
	err = doc_parse_buffer(&one, kv->key, kv->val, kv->len, &od);
	if (err == -ENOMEM)
		goto out;
	if (err || one.n != 1 || one.objs[0].kind != (enum model_kind)k ||
	    strcmp(one.objs[0].name, name)) {
		for (size_t i = 0; i < od.n; i++)
			diag_add(d, NULL, NULL, NULL, "%s", od.msgs[i]);
		diag_add(d, NULL, NULL, kv->key, "not one valid %s named "
			 "\"%s\"; ignored", model_kind_name(k), name);
		err = 0;
		goto out;
	}
	if (k == MODEL_WORKLOAD) {
		w = model_spec(&one.objs[0]);
		/* The identity check: a node speaks for itself only. */
		if (strncmp(w->node, node, sizeof(w->node))) {
			diag_add(d, NULL, NULL, kv->key, "claims node %.*s: "
				 "node %s registers only workloads on itself; "
				 "ignored", (int)strnlen(w->node,
							 sizeof(w->node)),
				 w->node, node);
			goto out;
		}
		if (!model_set_find(set, MODEL_SERVICE, w->service)) {
			diag_add(d, NULL, NULL, kv->key, "Service %.*s is not "
				 "in the policy; ignored",
				 (int)strnlen(w->service, sizeof(w->service)),
				 w->service);
			goto out;
		}
	}
	err = doc_parse_buffer(set, kv->key, kv->val, kv->len, d);
out:
	model_set_free(&one);
	diag_free(&od);
	return err == -ENOMEM ? err : 0;
}

/* Splits registration key @key (P/nodes/<node>/<Kind>/<name>) into a
 * malloc'ed *@node and its kind and name.  Returns the kind, -1 for a key
 * elsewhere, -2 for a malformed one (*@node NULL). */
static int mesh_reg_split(const char *prefix, const char *key, char **node,
			  const char **name)
{
	size_t pl = strlen(prefix), nl;
	const char *n, *slash;
	char *sub;
	int k;

	*node = NULL;
	if (strncmp(key, prefix, pl) ||
	    strncmp(key + pl, MESH_NODES "/", sizeof(MESH_NODES)))
		return -1;
	n = key + pl + sizeof(MESH_NODES);
	slash = strchr(n, '/');
	if (!slash || slash == n)
		return -2;
	nl = (size_t)(slash - n);
	/* The rest is a policy key under the prefix "": /<Kind>/<name>. */
	if (asprintf(&sub, MESH_POLICY "%s", slash) < 0)
		return -2;
	k = mesh_key_split("", sub, name);
	if (k >= 0) {
		*name = slash + 1 + strcspn(slash + 1, "/") + 1;
		*node = strndup(n, nl);
		if (!*node)
			k = -2;
	}
	free(sub);
	return k < 0 ? -2 : k;
}

void mesh_memo_free(struct mesh_memo *m)
{
	model_set_free(&m->set);
	free(m->rev);
	m->rev = NULL;
	m->n = 0;
}

/* The object of @memo for store key @kv, if it is at @kv's revision.
 * Keys come in order, as the memo's objects are: *@at is where the last
 * search stopped, and this one starts there (a whole list is one pass
 * over the memo, not a search per key). */
static struct model_obj *mesh_memo_find(struct mesh_memo *memo,
					const struct mstore_kv *kv, size_t *at)
{
	int c = 1;

	while (memo && *at < memo->n &&
	       (c = strcmp(memo->set.objs[*at].loc.file, kv->key)) < 0)
		(*at)++;
	if (!memo || *at == memo->n || c)
		return NULL;
	return memo->rev[*at] == kv->mod_rev ? &memo->set.objs[*at] : NULL;
}

void mesh_memo_take(struct mesh_memo *m, const char *prefix,
		    const struct mstore_list *l, struct model_set *set)
{
	char pol[512];
	size_t n = 0, pl;

	mesh_memo_free(m);
	snprintf(pol, sizeof(pol), "%s" MESH_POLICY "/", prefix);
	pl = strlen(pol);
	m->rev = calloc(set->n ? set->n : 1, sizeof(*m->rev));
	if (!m->rev)
		goto drop;
	/* The policy objects come first, in the order of their keys. */
	for (size_t i = 0; i < l->n && n <= set->n; i++) {
		if (strncmp(l->kvs[i].key, pol, pl))
			continue;
		if (n == set->n || !set->objs[n].loc.file ||
		    strcmp(set->objs[n].loc.file, l->kvs[i].key))
			goto drop;
		m->rev[n++] = l->kvs[i].mod_rev;
	}
	m->set = *set;
	m->n = n;
	model_set_init(set);
	return;
drop:
	mesh_memo_free(m);
	model_set_free(set);
}

int mesh_parse(const char *prefix, const struct mstore_list *l,
	       struct model_set *set, struct diag *d, int64_t *guard_rev,
	       struct diag *regd)
{
	return mesh_parse_memo(prefix, l, set, d, guard_rev, regd, NULL);
}

/*
 * A store's values are parsed on several threads when there are many to
 * parse and no memo (every `mfctl --store apply`, get, diff): each
 * part of the keys into a set of its own, then moved into the caller's
 * set in key order.  A value whose parse said anything (a problem, a
 * warning) or did not give the one object its key names is parsed again
 * on the caller's thread, in its turn, so what is said, and in which
 * order, is what one thread would say.
 */
#define MESH_PART_MIN	2048	/* values a part parses, at least */
#define MESH_PARTS_MAX	8

enum mesh_kv_class {
	MESH_KV_SKIP = 0,	/* not a policy key */
	MESH_KV_GUARD,		/* the guard */
	MESH_KV_BAD,		/* under the policy, malformed */
	MESH_KV_MEMO,		/* the memo's object, unchanged */
	MESH_KV_PARSE,		/* to parse */
};

/* What mesh_parse_memo() makes of one key of the list, found once. */
struct mesh_kv_info {
	const char *name;		/* a policy object's, in its key */
	struct model_obj *memo;		/* MESH_KV_MEMO: the memo's object */
	size_t memo_at;			/* ... its index in the memo's set */
	int kind;			/* a policy object's */
	enum mesh_kv_class cls;
	uint32_t added;			/* parsed on a part: objects it gave */
	bool again;			/* ... and parse it again, in turn */
};

/* Classes every key of @l into @info (l->n); returns how many are to
 * parse. */
static size_t mesh_kv_classify(const char *prefix, const char *guard,
			       const struct mstore_list *l,
			       struct mesh_memo *memo,
			       struct mesh_kv_info *info)
{
	size_t todo = 0, at = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct mstore_kv *kv = &l->kvs[i];
		struct mesh_kv_info *in = &info[i];

		in->cls = MESH_KV_GUARD;
		if (!strcmp(kv->key, guard))
			continue;
		in->cls = MESH_KV_SKIP;
		in->kind = mesh_key_split(prefix, kv->key, &in->name);
		if (in->kind == -1)
			continue;
		if (in->kind == -2) {
			in->cls = MESH_KV_BAD;
			continue;
		}
		in->memo = mesh_memo_find(memo, kv, &at);
		in->cls = in->memo ? MESH_KV_MEMO : MESH_KV_PARSE;
		todo += in->cls == MESH_KV_PARSE;
	}
	return todo;
}

/* Says that @kv, under @prefix's policy, is not a policy key.  Returns
 * -EINVAL. */
static int mesh_kv_bad(const char *prefix, const struct mstore_kv *kv,
		       struct diag *d)
{
	diag_add(d, NULL, NULL, kv->key, "not a policy key (want %s"
		 MESH_POLICY "/<Kind>/<name>)", prefix);
	return -EINVAL;
}

/* Parses @kv, key of a @k named @name, into @set.  Returns 0, -EINVAL
 * (said in @d) or -ENOMEM. */
static int mesh_parse_kv(const struct mstore_kv *kv, int k, const char *name,
			 struct model_set *set, struct diag *d)
{
	size_t before = set->n;
	int e;

	/* A key is new to @set: one search for its name, or for its
	 * object among the others, per key would make a list of n keys
	 * cost n^2 (doc_check_unique() after, once). */
	e = doc_parse_one_of_many(set, kv->key, kv->val, kv->len, d);
	if (e)
		return e == -ENOMEM ? e : -EINVAL;
	/* The key is what writers replace and delete by: an object that
	 * says otherwise would never be found again. */
	if (set->n != before + 1 ||
	    set->objs[before].kind != (enum model_kind)k ||
	    strcmp(set->objs[before].name, name)) {
		diag_add(d, NULL, NULL, kv->key, "holds %s, not one %s named "
			 "\"%s\"", set->n == before + 1 ?
			 model_kind_name(set->objs[before].kind) :
			 "several or no objects", model_kind_name(k), name);
		return -EINVAL;
	}
	return 0;
}

/* One part of the keys, parsed on a thread of its own. */
struct mesh_part {
	const struct mstore_list *l;
	struct mesh_kv_info *info;	/* l->kvs[i]'s, added and again set */
	size_t from, to;		/* l->kvs[from, to) */
	struct model_set set;		/* owned */
	struct diag d, warnings;	/* what its parses said: dropped */
	int err;			/* -ENOMEM, or 0 */
	pthread_t th;
	bool started;
};

static void *mesh_part_run(void *arg)
{
	struct mesh_part *pt = arg;

	for (size_t i = pt->from; i < pt->to && !pt->err; i++) {
		struct mesh_kv_info *in = &pt->info[i];
		size_t before = pt->set.n, said = diag_count(&pt->d) +
						diag_count(&pt->warnings);
		int e;

		if (in->cls != MESH_KV_PARSE)
			continue;
		e = mesh_parse_kv(&pt->l->kvs[i], in->kind, in->name, &pt->set,
				  &pt->d);
		if (e == -ENOMEM)
			pt->err = e;
		in->added = (uint32_t)(pt->set.n - before);
		in->again = e || diag_count(&pt->d) +
					 diag_count(&pt->warnings) != said;
	}
	return NULL;
}

/* Parses the @todo values of @l to parse (@info, without a memo) on up to
 * one thread per CPU, into @pts (MESH_PARTS_MAX; *@n set to how many ran,
 * each to be freed with mesh_parts_free(); 0: too few values to share),
 * in sets like @like.  Returns 0 or -ENOMEM. */
static int mesh_parts_run(const struct mstore_list *l,
			  struct mesh_kv_info *info, size_t todo,
			  const struct model_set *like, struct mesh_part *pts,
			  size_t *n)
{
	size_t per, max = MESH_PARTS_MAX, i = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int err = 0;

	*n = 0;
	if (ncpu > 1 && (size_t)ncpu < max)
		max = (size_t)ncpu;
	if (ncpu < 2 || todo < 2 * MESH_PART_MIN)
		return 0;
	if (todo / MESH_PART_MIN < max)
		max = todo / MESH_PART_MIN;
	/* Parts of as many values to parse each, cut in key order. */
	per = (todo + max - 1) / max;
	for (size_t p = 0; p < max && i < l->n; p++) {
		struct mesh_part *pt = &pts[p];
		size_t got = 0;

		*pt = (struct mesh_part){ .l = l, .info = info, .from = i };
		model_set_init(&pt->set);
		pt->set.kuma = like->kuma;
		pt->set.validate = like->validate;
		diag_init(&pt->d);
		diag_init(&pt->warnings);
		pt->set.warnings = like->warnings ? &pt->warnings : NULL;
		for (; i < l->n && (got < per || p + 1 == max); i++)
			got += info[i].cls == MESH_KV_PARSE;
		pt->to = i;
		(*n)++;
	}
	for (size_t p = 1; p < *n; p++)
		pts[p].started = !pthread_create(&pts[p].th, NULL,
						 mesh_part_run, &pts[p]);
	mesh_part_run(&pts[0]);
	for (size_t p = 1; p < *n; p++) {
		if (pts[p].started)
			pthread_join(pts[p].th, NULL);
		else
			mesh_part_run(&pts[p]);
	}
	for (size_t p = 0; p < *n; p++)
		if (pts[p].err)
			err = pts[p].err;
	return err;
}

static void mesh_parts_free(struct mesh_part *pts, size_t n)
{
	for (size_t p = 0; p < n; p++) {
		model_set_free(&pts[p].set);
		diag_free(&pts[p].d);
		diag_free(&pts[p].warnings);
	}
}

/* When a parse on top of a memo moves the memo's set whole: few keys to
 * parse, and not so many names, tags and strings left in its pools by
 * the objects it gave up before (mesh_parse_over_memo()) that a fresh
 * set would be much smaller. */
#define MESH_OVER_MEMO_TODO(memo)	((memo)->n / 4)
#define MESH_OVER_MEMO_FILES(memo)	(2 * (memo)->set.n + 1024)

static bool mesh_over_memo(const struct mesh_memo *memo,
			   const struct model_set *set, size_t todo)
{
	return memo && memo->n && !set->n && todo <= MESH_OVER_MEMO_TODO(memo) &&
	       memo->set.nfiles <= MESH_OVER_MEMO_FILES(memo);
}

/*
 * mesh_parse_memo()'s loop when mesh_over_memo(): the memo's set, moved
 * whole, becomes @set (empty); the keys to parse are parsed onto its end,
 * then model_set_pick() puts the objects in key order and releases what
 * no key holds any more (the changed and deleted keys' old objects, the
 * last registrations).  Moving 111k objects one at a time was most of a
 * one-key change's parse.  The same objects, order and messages as the
 * loop.  Returns 0, -EINVAL (said in @d) or -ENOMEM.
 */
static int mesh_parse_over_memo(const char *prefix,
				const struct mstore_list *l,
				struct mesh_kv_info *info,
				struct model_set *set, struct diag *d,
				int64_t *guard_rev, struct mesh_memo *memo)
{
	size_t kept = 0, added = 0, base, next, k = 0, *pick;
	int err = 0, e;

	/* Indexes, before the objects array moves (parsing grows it). */
	for (size_t i = 0; i < l->n; i++)
		if (info[i].cls == MESH_KV_MEMO) {
			info[i].memo_at = (size_t)(info[i].memo -
						   memo->set.objs);
			kept++;
		}
	*set = memo->set;
	model_set_init(&memo->set);
	memo->n = 0;
	base = set->n;
	for (size_t i = 0; i < l->n; i++) {
		const struct mstore_kv *kv = &l->kvs[i];
		struct mesh_kv_info *in = &info[i];

		switch (in->cls) {
		case MESH_KV_GUARD:
			*guard_rev = kv->mod_rev;
			continue;
		case MESH_KV_BAD:
			err = mesh_kv_bad(prefix, kv, d);
			continue;
		case MESH_KV_PARSE:
			next = set->n;
			e = mesh_parse_kv(kv, in->kind, in->name, set, d);
			if (e == -ENOMEM)
				return e;
			if (e)
				err = -EINVAL;
			in->added = (uint32_t)(set->n - next);
			added += in->added;
			continue;
		case MESH_KV_SKIP:
		case MESH_KV_MEMO:
			continue;
		}
	}
	pick = malloc((kept + added + 1) * sizeof(*pick));
	if (!pick)
		return -ENOMEM;
	next = base;
	for (size_t i = 0; i < l->n; i++) {
		if (info[i].cls == MESH_KV_MEMO)
			pick[k++] = info[i].memo_at;
		else if (info[i].cls == MESH_KV_PARSE)
			for (uint32_t j = 0; j < info[i].added; j++)
				pick[k++] = next++;
	}
	e = model_set_pick(set, pick, k);
	free(pick);
	return e ? e : err;
}

int mesh_parse_memo(const char *prefix, const struct mstore_list *l,
		    struct model_set *set, struct diag *d, int64_t *guard_rev,
		    struct diag *regd, struct mesh_memo *memo)
{
	struct mesh_part pts[MESH_PARTS_MAX];
	size_t first = set->n, npts = 0, p = 0, cur = 0, todo;
	struct mesh_kv_info *info = calloc(l->n ? l->n : 1, sizeof(*info));
	char guard[512];
	int err = 0, e0;

	snprintf(guard, sizeof(guard), "%s" MESH_POLICY, prefix);
	*guard_rev = 0;
	if (!info) {
		err = -ENOMEM;
		goto out;
	}
	todo = mesh_kv_classify(prefix, guard, l, memo, info);
	if (mesh_over_memo(memo, set, todo)) {
		err = mesh_parse_over_memo(prefix, l, info, set, d, guard_rev,
					   memo);
		if (err == -ENOMEM)
			goto out;
		goto unique;
	}
	/* Parts on threads for a one-off parse (the writers': `mfctl
	 * --store apply` and the like) only.  A caller with a memo is a
	 * sync that lives on: objects parsed on other threads stay in those
	 * threads' malloc arenas, among what the parse freed there, and a
	 * sync held 55 MiB more after a first load of 111k objects. */
	if (!memo && mesh_parts_run(l, info, todo, set, pts, &npts)) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct mstore_kv *kv = &l->kvs[i];
		const struct mesh_kv_info *in = &info[i];
		int e;

		while (p < npts && i >= pts[p].to) {
			p++;
			cur = 0;
		}
		switch (in->cls) {
		case MESH_KV_GUARD:
			*guard_rev = kv->mod_rev;
			continue;
		case MESH_KV_SKIP:
			continue;
		case MESH_KV_BAD:
			err = mesh_kv_bad(prefix, kv, d);
			continue;
		case MESH_KV_MEMO:
			/* Unchanged since the memo's parse, which checked
			 * it against its key: moved, not copied, for the
			 * memo goes after this parse (a copy would hold two
			 * meshes at once). */
			e = model_set_add_move_own(set, &memo->set, in->memo);
			if (e) {
				err = e;
				goto out;
			}
			continue;
		case MESH_KV_PARSE:
			break;
		}
		if (p < npts && !in->again) {
			e = model_set_add_move_own(set, &pts[p].set,
						   &pts[p].set.objs[cur++]);
		} else {
			cur += p < npts ? in->added : 0;
			e = mesh_parse_kv(kv, in->kind, in->name, set, d);
		}
		if (e == -ENOMEM) {
			err = e;
			goto out;
		}
		if (e)
			err = -EINVAL;
	}
	mesh_parts_free(pts, npts);
	npts = 0;
unique:
	/* Keys are unique, and each object is checked against its own: two
	 * of one kind and name can come only from two spellings of a kind
	 * (Workload, Dataplane). */
	e0 = doc_check_unique(set, first, d);
	if (e0 == -ENOMEM) {
		err = e0;
		goto out;
	}
	if (e0)
		err = e0;
	/* The registrations after the whole policy, which they refer to
	 * and which wins over them. */
	for (size_t i = 0; regd && !err && i < l->n; i++) {
		const struct mstore_kv *kv = &l->kvs[i];
		const char *name = NULL;
		char *node;
		int k = mesh_reg_split(prefix, kv->key, &node, &name);

		if (k == -2)
			diag_add(regd, NULL, NULL, kv->key, "not a registration "
				 "key (want %s" MESH_NODES "/<node>/<Kind>/"
				 "<name>); ignored", prefix);
		if (k >= 0)
			err = mesh_reg_one(node, k, name, kv, set, regd);
		free(node);
	}
out:
	mesh_parts_free(pts, npts);
	free(info);
	return err;
}

int mesh_key(char **key, const char *prefix, enum model_kind kind,
	     const char *name)
{
	return asprintf(key, "%s" MESH_POLICY "/%s/%s", prefix,
			model_kind_name(kind), name) < 0 ? -ENOMEM : 0;
}

int ctl_mesh_open(struct ctl_mesh *m, struct txn *t, const struct ctl_opts *o)
{
	struct txn_opts to = { 0 };
	struct mstore_list l = { 0 };
	char errbuf[MSTORE_ERR_MAX], prefix[512], cache[PATH_MAX];
	bool changed_only;
	int err;

	memset(m, 0, sizeof(*m));
	err = store_mem_new(&m->mem);
	to.store = m->mem;
	if (err) {
		txn_init(t);
		return err;
	}
	/* An empty policy in memory: the maps the input is compiled into,
	 * to know it fits them as it would on a node. */
	err = txn_open(t, &to);
	if (err)
		return err;
	err = mstore_open(&m->ms, o->store_url, &o->store_access, errbuf);
	if (err) {
		diag_add(&t->d, NULL, NULL, NULL, "%s", errbuf);
		goto fail;
	}
	snprintf(prefix, sizeof(prefix), "%s/", m->ms->prefix);
	/* Through the writers' copy in the state dir, when there is one. */
	err = mesh_list_cached(m->ms, prefix, o->state_dir &&
			       !fsio_pathf(cache, sizeof(cache), "%s/"
					   MESH_CACHE_FILE, o->state_dir) ?
			       cache : NULL, &l, &changed_only);
	if (err) {
		diag_add(&t->d, NULL, NULL, NULL, "cannot read the mesh: %s",
			 m->ms->err);
		goto fail;
	}
	m->rev = l.rev;
	err = mesh_parse(m->ms->prefix, &l, &t->applied, &t->d, &m->guard_rev,
			 NULL);
	mstore_list_free(&l);
	if (err == -EINVAL)
		/* Someone wrote the store by hand: the mesh cannot be
		 * changed on top of it until that is fixed. */
		diag_add(&t->d, NULL, NULL, NULL, "the policy in %s at "
			 "revision %lld is not valid (above); fix or delete "
			 "those keys", m->ms->where, (long long)m->rev);
	if (!err)
		return 0;
fail:
	t->stage = TXN_FAILED_OPEN;
	return err;
}

int mesh_yaml(const struct model_set *set, const struct model_obj *o,
		     char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	struct emit e;

	if (!f)
		return -ENOMEM;
	emit_init(&e, EMIT_YAML, emit_to_file, f);
	emit_doc(&e);
	render_obj(&e, set, o);
	if (fclose(f) || e.err) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Adds a put (@val malloc'ed, taken) or delete of @kind/@name. */
static int mesh_op(struct ctl_mesh *m, enum model_kind kind, const char *name,
		   char *val, size_t len)
{
	struct mstore_op *op = &m->ops[m->nops];
	char *key;

	if (mesh_key(&key, m->ms->prefix, kind, name)) {
		free(val);
		return -ENOMEM;
	}
	*op = (struct mstore_op){ key, val, len, 0 };
	m->nops++;
	return 0;
}

int ctl_mesh_plan(struct ctl_mesh *m, struct txn *t)
{
	/* Each set sorted once, each object found by bisection: a search
	 * through the other set per object would cost n^2 at 100k. */
	const struct model_obj **was = NULL, **now = NULL;
	int err = 0;

	/* Room for every object of both sets and the guard. */
	m->ops = calloc(t->applied.n + t->next.n + 1, sizeof(*m->ops));
	was = calloc(t->applied.n + 1, sizeof(*was));
	now = calloc(t->next.n + 1, sizeof(*now));
	if (!m->ops || !was || !now) {
		err = -ENOMEM;
		goto out;
	}
	model_set_sorted(&t->applied, was);
	model_set_sorted(&t->next, now);
	for (size_t i = 0; i < t->next.n && !err; i++) {
		const struct model_obj *o = &t->next.objs[i];
		const struct model_obj *old =
			model_sorted_find(was, t->applied.n, o->kind, o->name);
		char *val;
		size_t len;

		if (old && model_obj_equal(old, o)) {
			m->unchanged++;
			continue;
		}
		old ? m->updated++ : m->created++;
		err = mesh_yaml(&t->next, o, &val, &len);
		if (!err)
			err = mesh_op(m, o->kind, o->name, val, len);
	}
	for (size_t i = 0; i < t->applied.n && !err; i++) {
		const struct model_obj *o = &t->applied.objs[i];

		if (model_sorted_find(now, t->next.n, o->kind, o->name))
			continue;
		m->deleted++;
		err = mesh_op(m, o->kind, o->name, NULL, 0);
	}
out:
	free(was);
	free(now);
	return err;
}

int ctl_mesh_commit(struct ctl_mesh *m, struct txn *t)
{
	char *guard = NULL, *val = NULL;
	int err;

	if (!m->nops)
		return 0;
	if (asprintf(&guard, "%s" MESH_POLICY, m->ms->prefix) < 0 ||
	    asprintf(&val, "%zu objects", t->next.n) < 0) {
		free(guard);
		return -ENOMEM;
	}
	/* The guard last: it is the same write either way. */
	m->ops[m->nops++] = (struct mstore_op){ guard, val, strlen(val), 0 };
	err = m->ms->ops->commit(m->ms, guard, m->guard_rev, m->ops, m->nops,
				 &m->wrote);
	if (err && err != -ESTALE) {
		diag_add(&t->d, NULL, NULL, NULL, "cannot write the mesh: %s",
			 m->ms->err);
		t->stage = TXN_FAILED_WRITE;
	}
	return err;
}

void ctl_mesh_close(struct ctl_mesh *m, struct txn *t)
{
	txn_close(t);
	for (size_t i = 0; i < m->nops; i++) {
		free((char *)m->ops[i].key);
		free((char *)m->ops[i].val);
	}
	free(m->ops);
	m->ops = NULL;
	m->nops = 0;
	mstore_close(m->ms);
	m->ms = NULL;
	store_close(m->mem);
	m->mem = NULL;
}

int ctl_mesh_write(struct ctl_mesh *m, struct txn *t, const struct ctl_opts *o,
		   bool dry, ctl_mesh_change_fn *change, void *arg)
{
	int err;

	for (int tries = 0;; tries++) {
		err = ctl_mesh_open(m, t, o);
		if (!err)
			err = change(t, arg);
		if (!err)
			err = ctl_mesh_plan(m, t);
		if (!err && !dry)
			err = ctl_mesh_commit(m, t);
		if (err != -ESTALE || tries == MESH_RETRIES)
			return err;
		fprintf(stderr, "mfctl: %s: another writer changed the mesh "
			"after revision %lld; reading it again\n", m->ms->err,
			(long long)m->rev);
		ctl_mesh_close(m, t);
	}
}

int ctl_mesh_fail(const struct ctl_mesh *m, const struct txn *t, int err,
		  const char *what, const char *consequence)
{
	const char *where = m->ms ? m->ms->where : "the store";

	if (t->stage != TXN_FAILED_OPEN && t->stage != TXN_FAILED_WRITE &&
	    err != -ESTALE)
		return ctl_txn_fail(t, err, what, consequence);
	diag_print(&t->d, stderr);
	if (err == -ESTALE)
		ctl_err("%s: conflict: the mesh in %s kept changing while this "
			"%s was written (%d tries); %s", what, where, what,
			MESH_RETRIES + 1, consequence);
	else if (t->stage == TXN_FAILED_WRITE)
		ctl_err("%s failed: the mesh in %s is unchanged (revision "
			"%lld); %s", what, where, (long long)m->rev,
			consequence);
	else
		ctl_err("%s failed; %s", what, consequence);
	return err == -EINVAL ? CTL_EXIT_INVALID : CTL_EXIT_SYSTEM;
}
