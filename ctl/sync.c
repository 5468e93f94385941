// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl --store URL sync [--once]`: this node follows the mesh in the
 * store.  It lists the store's prefix, compiles the policy there into the
 * node's maps by the transaction apply uses (staged into the half not in
 * force, one flip, saved to the state dir), then watches from the
 * revision it listed and does the same for every change it sees.
 *
 * It is a process of its own beside the agent (the same unit runs both),
 * not a part of the agent: the agent stays free of the store's client,
 * and whatever happens to the sync (the store away, a bad object in it,
 * the sync killed) leaves the maps as they were, the kernel and the agent
 * serving the last policy (fail-static, docs/store.md).
 *
 * The revision served is written into mf_config.store_rev with the
 * policy (the agent's /metrics reads it from there, `mfctl status` too),
 * and into <state-dir>/store.rev, beside the saved policy.  A sync that
 * restarts lists once and compares with what the maps hold: they are
 * rewritten only if the store changed since (the maps alone cannot say
 * which of their objects came from other nodes' registrations, whose keys
 * a watch from the old revision would not send again).  A watch that the
 * store compacted away lists again.
 *
 * With --node NAME -f FILE it also registers the node (its Node, the
 * Workloads it serves) under a lease it keeps alive (sync_reg_run()), and
 * every sync compiles the policy with every node's registrations, each
 * checked to speak for its own node only (mesh_parse()).
 *
 * With --memory the maps are a store in memory (store_mem.c) instead of
 * the pinned ones: the same list, watch, parse and compile, without BPF,
 * pins, the writers' lock or root, so that many syncs on one machine each
 * stand for a node (scripts/bench-scale.sh).  --status FILE says which
 * revision is served, and since when, each time one is (sync_status()).
 *
 * A change parses only the keys it brings: the objects of the last
 * compile that went through are kept by key (s->memo, mesh.h) and moved
 * into the next, which at 100k objects was most of a one-object change.
 * Nor does it read back the records it wrote: it keeps them (s->kept,
 * txn_keep()) and reads only mf_config and the writers' count to know
 * that the maps still hold them (100 to 150 ms of a one-object change at
 * 100k Workloads, for 20 MiB more between changes and no more at the
 * compile's peak, when the records read back were there too).
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "fsio.h"
#include "mesh.h"
#include "monotime.h"
#include "policy/core.h"
#include "policy/txn.h"

#define SYNC_BACKOFF_MIN_MS	100
#define SYNC_BACKOFF_MAX_MS	2000
#define SYNC_TTL_DEFAULT	10	/* s, of a registration's lease */

struct sync {
	const struct ctl_opts *o;
	struct mstore *ms;		/* owned */
	struct store *mem;		/* owned: --memory's maps, or NULL */
	struct mesh_memo memo;		/* the last compile's parse */
	/* What the maps hold after the last compile (txn_keep()): the next
	 * reads only mf_config and the writers' count to know they still
	 * do, not every record. */
	struct txn_kept kept;
	const char *status;		/* --status FILE, or NULL */
	char prefix[512];		/* "<prefix>/", what is listed */
	struct mstore_list kv;		/* what the store holds, as known */
	bool known;			/* kv is the store at kv.rev */
	int64_t served;			/* in the maps; 0: none */
	bool once;
	bool progress;			/* the store answered since the last
					 * failure */
};

static void sync_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sync_log(const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "mfctl sync: %lld.%03ld: ", (long long)ts.tv_sec,
		ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void sync_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Where the saved policy and its revision go: maps in memory have a
 * state dir only where one was asked for (many syncs on one machine must
 * not share the default one). */
static const char *sync_state_dir(const struct sync *s)
{
	return s->mem && !s->o->state_dir_set ? NULL : s->o->state_dir;
}

/* The transaction options of a write to this node's maps.  Maps in
 * memory are this process's alone: no lock. */
static struct txn_opts sync_txn_opts(const struct sync *s)
{
	/* The node's view replaces the maps whatever they held, and what
	 * changed is counted in records: decompiling the policy in force
	 * into objects would only cost the time and memory of a second
	 * mesh (and a sync could never mend maps that do not decompile). */
	if (s->mem)
		return (struct txn_opts){
			.store = s->mem,
			.state_dir = sync_state_dir(s),
			.write = true,
			.records_only = true,
		};
	return (struct txn_opts){
		.bpf_root = s->o->bpf_root,
		.store = s->o->store,
		.state_dir = s->o->state_dir,
		.run_dir = s->o->run_dir,
		.write = true,
		.records_only = true,
	};
}

/*
 * --status FILE, rewritten whole (rename) each time a revision is served:
 *
 *   revision R
 *   monotonic_ns T    CLOCK_MONOTONIC when R was in force
 *   realtime_ns T     the same instant by the wall clock
 *   epoch E
 *   records N         in the maps' half in force
 *
 * A reader polls it to learn when a node serves R; the monotonic clock is
 * one for every process of the machine and does not step.
 */
static void sync_status(const struct sync *s, int64_t rev, uint64_t epoch,
			size_t records)
{
	struct timespec real;
	char buf[256];
	int n;

	if (!s->status)
		return;
	clock_gettime(CLOCK_REALTIME, &real);
	n = snprintf(buf, sizeof(buf),
		     "revision %lld\nmonotonic_ns %lld\nrealtime_ns %lld\n"
		     "epoch %llu\nrecords %zu\n", (long long)rev,
		     (long long)mono_ns(),
		     (long long)real.tv_sec * 1000000000LL + real.tv_nsec,
		     (unsigned long long)epoch, records);
	if (fsio_write_atomic(s->status, buf, (size_t)n, 0644))
		sync_log("cannot write the status to %s", s->status);
}

/* <state-dir>/store.rev: the revision the saved policy is of. */
static int sync_rev_save(const struct sync *s, int64_t rev)
{
	char path[PATH_MAX], buf[32];
	int n;

	if (!sync_state_dir(s))
		return 0;
	if (fsio_pathf(path, sizeof(path), "%s/" MESH_REV_FILE,
		       sync_state_dir(s)))
		return -ENAMETOOLONG;
	n = snprintf(buf, sizeof(buf), "%lld\n", (long long)rev);
	return fsio_write_atomic(path, buf, (size_t)n, 0644);
}

static int64_t sync_rev_load(const struct sync *s)
{
	char *buf;
	int64_t rev = 0;
	size_t len;

	if (!sync_state_dir(s) ||
	    fsio_read_in(sync_state_dir(s), MESH_REV_FILE, &buf, &len))
		return 0;
	rev = strtoll(buf, NULL, 10);
	free(buf);
	return rev > 0 ? rev : 0;
}

/* Whether the compiled policy of @t is the one in force, records and
 * mf_config alike (but for the epoch, the half and the revision). */
static bool sync_same(const struct txn *t)
{
	struct mf_config a = t->have.config, b = t->want.config;

	a.epoch = b.epoch = 0;
	a.active = b.active = 0;
	a.store_rev = b.store_rev = 0;
	return !t->diff.created && !t->diff.updated && !t->diff.deleted &&
	       !memcmp(&a, &b, sizeof(a));
}

static size_t sync_records(const struct rec_set *rs)
{
	size_t n = 0;

	for (int m = 0; m < REC_MAP_MAX; m++)
		n += rec_count(rs, (enum rec_map)m);
	return n;
}

/*
 * Compiles what the store holds (s->kv at @rev) into the maps, in one
 * flip.  A policy that is not valid (someone wrote the store by hand) or
 * that does not fit is said and not applied: the maps keep the last good
 * one.  Returns 0 or -errno (said).
 */
static int sync_compile(struct sync *s, int64_t rev)
{
	const struct txn_opts to = sync_txn_opts(s);
	struct model_set set;
	struct diag d, regd;
	int64_t guard;
	struct txn t;
	/* When each step ended: the maps in force read, the store's
	 * objects parsed, the policy compiled, written. */
	uint64_t at[5] = { mono_ns() };
	int err;

	model_set_init(&set);
	diag_init(&d);
	diag_init(&regd);
	err = txn_open_kept(&t, &to, &s->kept);
	if (err == -ENOENT)
		err = 0;	/* no maps yet: made at commit */
	at[1] = mono_ns();
	if (!err) {
		err = mesh_parse_memo(s->ms->prefix, &s->kv, &set, &d, &guard,
				      &regd, &s->memo);
		model_set_free(&t.next);
		t.next = set;	/* moved: the transaction frees it ... */
		model_set_init(&set);
	}
	/* The old memo's objects were moved out (each with its own name),
	 * and a memo is taken again below only from a compile that went
	 * through: a compile that fails parses everything next time. */
	mesh_memo_free(&s->memo);
	at[2] = mono_ns();
	if (!err)
		err = txn_plan(&t);
	at[3] = mono_ns();
	if (!err && t.have.config.store_rev && sync_same(&t)) {
		/* A restart, or a change that compiles to the same maps:
		 * nothing to rewrite, and the agent has nothing to reload. */
		diag_print(&regd, stderr);
		sync_log("revision %lld compiles to what the maps hold "
			 "(revision %llu, epoch %llu): left as they are",
			 (long long)rev,
			 (unsigned long long)t.have.config.store_rev,
			 (unsigned long long)t.have.config.epoch);
		s->served = (int64_t)t.have.config.store_rev;
		sync_status(s, s->served, t.have.config.epoch,
			    sync_records(&t.have));
		goto memo;
	}
	if (!err) {
		t.want.config.store_rev = (uint64_t)rev;
		err = txn_commit(&t);
	}
	at[4] = mono_ns();
	diag_print(&d, stderr);
	diag_print(&regd, stderr);
	if (err) {
		diag_print(&t.d, stderr);
		sync_log("revision %lld not applied (%s): this node keeps "
			 "serving revision %lld", (long long)rev,
			 strerror(-err), (long long)s->served);
	} else {
		diag_print(&t.d, stderr);	/* old-half leftovers */
		s->served = rev;
		sync_status(s, rev, t.want.config.epoch, sync_records(&t.want));
		sync_log("revision %lld in force at epoch %llu: %zu created, "
			 "%zu updated, %zu deleted records (%zu objects; "
			 "read %.0f ms, parse %.0f ms, compile %.0f ms, "
			 "write %.0f ms)", (long long)rev,
			 (unsigned long long)t.want.config.epoch,
			 t.diff.created, t.diff.updated, t.diff.deleted,
			 t.next.n, (at[1] - at[0]) / 1e6,
			 (at[2] - at[1]) / 1e6, (at[3] - at[2]) / 1e6,
			 (at[4] - at[3]) / 1e6);
		if (sync_rev_save(s, rev))
			sync_log("cannot save the revision under %s",
				 sync_state_dir(s));
	}
memo:
	/* ... unless it went through: then the parse is the next one's
	 * memo, taken back from the transaction before it closes. */
	if (!err)
		mesh_memo_take(&s->memo, s->ms->prefix, &s->kv, &t.next);
	txn_keep(&t, &s->kept);
	txn_close(&t);
	model_set_free(&set);
	diag_free(&regd);
	diag_free(&d);
	/* A compile's working sets (the store's answer, the records in
	 * force read back, the compiled ones) are freed by now, and most of
	 * them lie below what it kept, where free() gives nothing back: the
	 * sync would otherwise hold its largest compile's size between
	 * changes, on every node. */
	malloc_trim(0);
	return err;
}

/*
 * The node's registration (-f with --node): its Node and the Workloads it
 * serves, put under P/nodes/<node>/ with a lease that this thread keeps
 * alive, on a store connection of its own (the main thread's is in its
 * watch).  When the sync dies, the lease runs out and every other node
 * drops the registration within its TTL.  A lease found expired (etcd
 * away longer than the TTL) is granted again and the keys put again.
 */
struct sync_reg {
	struct mstore *ms;		/* owned */
	const char *node;
	int64_t ttl;
	struct mstore_op *ops;		/* owned, keys and values too */
	size_t nops;
	pthread_t thread;
};

/* Grants a lease and puts the registration under it.  Returns 0 and the
 * lease, or -errno (said). */
static int sync_reg_put(struct sync_reg *r, int64_t *lease)
{
	int64_t rev;
	int err;

	err = r->ms->ops->lease_grant(r->ms, r->ttl, lease);
	for (size_t i = 0; !err && i < r->nops; i++)
		r->ops[i].lease = *lease;
	if (!err)
		err = r->ms->ops->commit(r->ms, NULL, 0, r->ops, r->nops, &rev);
	if (err)
		sync_log("cannot register node %s: %s", r->node, r->ms->err);
	else
		sync_log("registered node %s: %zu objects under lease %llx, "
			 "TTL %lld s, at revision %lld", r->node, r->nops,
			 (unsigned long long)*lease, (long long)r->ttl,
			 (long long)rev);
	return err;
}

static void *sync_reg_run(void *arg)
{
	struct sync_reg *r = arg;
	int64_t lease = 0, left;

	for (;;) {
		if (!lease && sync_reg_put(r, &lease))
			lease = 0;
		/* A third of the TTL: two renewals may fail before the
		 * lease runs out. */
		sync_sleep_ms(r->ttl * 1000 / 3);
		if (!lease)
			continue;
		if (r->ms->ops->lease_keepalive(r->ms, lease, &left)) {
			sync_log("cannot renew lease %llx: %s",
				 (unsigned long long)lease, r->ms->err);
		} else if (left <= 0) {
			sync_log("lease %llx expired: registering again",
				 (unsigned long long)lease);
			lease = 0;
		}
	}
	return NULL;
}

/* The registration of -f for node --node, checked: a Node named after
 * the node and Workloads on it, nothing else.  Returns the exit code. */
static int sync_reg_start(struct sync_reg *r, const struct ctl_opts *o,
			  const struct ctl_args *a)
{
	char errbuf[MSTORE_ERR_MAX], *end;
	struct model_set input;
	struct diag d;
	int err, rc = CTL_EXIT_INVALID;

	r->node = a->val[CTL_OPT_NODE];
	r->ttl = a->val[CTL_OPT_TTL] ? strtoll(a->val[CTL_OPT_TTL], &end, 10)
				      : SYNC_TTL_DEFAULT;
	if (a->val[CTL_OPT_TTL] && (*end || r->ttl < 1 || r->ttl > 3600)) {
		ctl_err("--ttl wants 1..3600 seconds");
		return CTL_EXIT_INVALID;
	}
	if (!r->node || !a->nfiles) {
		ctl_err("registering needs both --node NAME and -f FILE");
		return CTL_EXIT_INVALID;
	}
	diag_init(&d);
	model_set_init(&input);
	err = ctl_parse_inputs(&input, a, &d, "nothing registered");
	if (err) {
		rc = ctl_exit_for(err);
		goto out;
	}
	err = mstore_open(&r->ms, o->store_url, &o->store_access, errbuf);
	if (err) {
		ctl_err("%s", errbuf);
		rc = ctl_exit_for(err);
		goto out;
	}
	r->ops = calloc(input.n ? input.n : 1, sizeof(*r->ops));
	if (!r->ops) {
		rc = CTL_EXIT_SYSTEM;
		goto out;
	}
	for (size_t i = 0; i < input.n; i++) {
		const struct model_obj *ob = &input.objs[i];
		const struct core_workload *w = model_spec(ob);
		char *key, *val;
		size_t len;

		/* What every other node's sync would refuse, refused
		 * here first, where it can be fixed. */
		if (ob->kind == MODEL_NODE ? strcmp(ob->name, r->node) :
		    ob->kind != MODEL_WORKLOAD ||
		    strncmp(w->node, r->node, sizeof(w->node))) {
			ctl_err("%s %s: node %s registers its own Node and the "
				"Workloads on it (spec.node: %s) only",
				model_kind_name(ob->kind), ob->name, r->node,
				r->node);
			goto out;
		}
		if (asprintf(&key, "%s" MESH_NODES "/%s/%s/%s", r->ms->prefix,
			     r->node, model_kind_name(ob->kind), ob->name) < 0 ||
		    mesh_yaml(&input, ob, &val, &len)) {
			rc = CTL_EXIT_SYSTEM;
			goto out;
		}
		r->ops[r->nops++] = (struct mstore_op){ key, val, len, 0 };
	}
	if (pthread_create(&r->thread, NULL, sync_reg_run, r)) {
		ctl_err("cannot start the registration");
		rc = CTL_EXIT_SYSTEM;
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	model_set_free(&input);
	diag_free(&d);
	return rc;
}

/* An event of an answer, by key; among events of one key, the later. */
static int sync_ev_cmp(const void *a, const void *b)
{
	const struct mstore_kv *x = *(struct mstore_kv *const *)a;
	const struct mstore_kv *y = *(struct mstore_kv *const *)b;
	int r = strcmp(x->key, y->key);

	return r ? r : x < y ? -1 : x > y;	/* ev[] order = revision order */
}

/*
 * Brings what is known (s->kv, in key order as the store lists it) up to
 * the @n events of one answer (a NULL value: a delete): the events sorted
 * by key, the last of each key kept, merged with the known keys in one
 * pass.  A whole mesh loaded in one transaction is 100k events: a search
 * through what is known per event would cost n^2.  A put's key and value
 * are moved out of @ev.  Returns 0 or -ENOMEM (what is known and @ev
 * unchanged).
 */
static int sync_kv_merge(struct sync *s, struct mstore_kv *ev, size_t n)
{
	struct mstore_list *l = &s->kv;
	struct mstore_kv **by, *fresh;
	size_t i = 0, j = 0, k = 0, m = 0;

	/* Both arrays first: nothing after them can fail, so nothing is
	 * moved before the merge is sure to finish. */
	by = malloc((n ? n : 1) * sizeof(*by));
	fresh = calloc(l->n + n + 1, sizeof(*fresh));
	if (!by || !fresh) {
		free(fresh);
		free(by);
		return -ENOMEM;
	}
	for (size_t e = 0; e < n; e++)
		by[e] = &ev[e];
	qsort(by, n, sizeof(*by), sync_ev_cmp);
	for (size_t e = 0; e < n; e++)
		if (e + 1 == n || strcmp(by[e]->key, by[e + 1]->key))
			by[m++] = by[e];	/* the last of its key */
	while (i < l->n || j < m) {
		int c = i >= l->n ? 1 : j >= m ? -1 :
			strcmp(l->kvs[i].key, by[j]->key);

		if (c < 0) {
			fresh[k++] = l->kvs[i++];
			continue;
		}
		if (c == 0) {		/* replaced or deleted */
			free(l->kvs[i].key);
			free(l->kvs[i].val);
			i++;
		}
		if (by[j]->val) {	/* put: moved */
			fresh[k++] = *by[j];
			by[j]->key = NULL;
			by[j]->val = NULL;
		}
		j++;
	}
	free(l->kvs);
	l->kvs = fresh;
	l->n = k;
	free(by);
	return 0;
}

static int sync_on_events(void *arg, struct mstore_kv *ev, size_t n,
			  int64_t rev)
{
	struct sync *s = arg;
	int64_t last = 0, first = INT64_MAX;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		if (ev[i].mod_rev > last)
			last = ev[i].mod_rev;
		if (ev[i].mod_rev < first)
			first = ev[i].mod_rev;
	}
	err = sync_kv_merge(s, ev, n);
	if (err)
		return err;
	/* Answers that came during the last compile come together
	 * (mstore_watch_fn): one compile for them all. */
	if (last > first)
		sync_log("revisions %lld to %lld (%zu events) compiled together",
			 (long long)first, (long long)last, n);
	/* The answer's own revision may be the store's, past events still
	 * to come on this stream (a watch catching up): what is known is up
	 * to the last event, and a watch that breaks resumes after it. */
	if (last > 0)
		rev = last;
	s->kv.rev = rev;
	s->progress = true;
	/* A compile that failed keeps the last good policy, and the sync
	 * goes on: the next change may fix it. */
	sync_compile(s, rev);
	return 0;
}

/*
 * At the start: maps left empty by a reboot get the saved policy first, as
 * the agent does at its start (whichever comes first; restore leaves maps
 * that hold a policy alone), so a node that starts with the store away
 * serves its last policy.  Then the revision the maps were synced from,
 * for the log: the list that follows rewrites them only if the store
 * changed since (sync_same()).
 */
static void sync_resume(struct sync *s)
{
	const struct txn_opts to = sync_txn_opts(s);
	struct txn_restore_info info;
	struct txn t;
	int err;

	err = txn_restore(&t, &to, false, &info);
	if (!err)
		sync_log("restored the saved policy (%zu objects) at epoch "
			 "%llu", info.objects, (unsigned long long)info.epoch);
	txn_close(&t);
	err = txn_open(&t, &(struct txn_opts){ .bpf_root = to.bpf_root,
					       .store = to.store });
	if (!err) {
		s->served = t.have.config.store_rev ?
				    (int64_t)t.have.config.store_rev :
				    sync_rev_load(s);
		if (s->served)
			sync_log("the maps hold revision %lld (epoch %llu)",
				 (long long)s->served,
				 (unsigned long long)t.have.config.epoch);
	}
	txn_close(&t);
}

int ctl_sync(const struct ctl_opts *o, const struct ctl_args *a)
{
	struct sync s = { .o = o, .once = a->set[CTL_OPT_ONCE],
			  .status = a->val[CTL_OPT_STATUS] };
	/* Runs as long as the process: the registration thread is never
	 * joined, and its lease ends with the process. */
	static struct sync_reg reg;
	char errbuf[MSTORE_ERR_MAX];
	long backoff = SYNC_BACKOFF_MIN_MS;
	int err, rc = CTL_EXIT_SYSTEM;

	if (!o->store_url) {
		ctl_err("sync needs --store URL (or $MF_STORE)");
		return CTL_EXIT_INVALID;
	}
	if (a->set[CTL_OPT_MEMORY] && store_mem_new(&s.mem)) {
		ctl_err("out of memory");
		return CTL_EXIT_SYSTEM;
	}
	err = mstore_open(&s.ms, o->store_url, &o->store_access, errbuf);
	if (err) {
		ctl_err("%s", errbuf);
		store_close(s.mem);
		return ctl_exit_for(err);
	}
	snprintf(s.prefix, sizeof(s.prefix), "%s/", s.ms->prefix);
	/* Not s.known yet: the loop lists first. */
	if (a->nfiles || a->val[CTL_OPT_NODE]) {
		rc = s.once ? CTL_EXIT_INVALID : sync_reg_start(&reg, o, a);
		if (s.once)
			ctl_err("--once does not register (a lease needs the "
				"sync to keep it alive)");
		if (rc) {
			mstore_close(s.ms);
			store_close(s.mem);
			return rc;
		}
		rc = CTL_EXIT_SYSTEM;
	}
	/* Maps in memory start empty: nothing to restore or resume. */
	if (!s.once && !s.mem)
		sync_resume(&s);
	for (;;) {
		if (!s.known) {
			mstore_list_free(&s.kv);
			err = s.ms->ops->list(s.ms, s.prefix, &s.kv);
			if (!err) {
				s.known = true;
				s.progress = true;
				err = sync_compile(&s, s.kv.rev);
				if (s.once) {
					rc = err ? CTL_EXIT_SYSTEM : CTL_EXIT_OK;
					break;
				}
			} else if (s.once) {
				ctl_err("%s", s.ms->err);
				break;
			}
		} else {
			/* A watch returns only when it ends: the store
			 * away, or compacted past what we know. */
			err = s.ms->ops->watch(s.ms, s.prefix, s.kv.rev + 1,
					       sync_on_events, &s);
			if (err == -ERANGE) {
				sync_log("%s; listing again", s.ms->err);
				s.known = false;
				continue;
			}
		}
		/* Something came through since the last failure: the store
		 * was back, and the next failure starts the wait afresh. */
		if (s.progress)
			backoff = SYNC_BACKOFF_MIN_MS;
		s.progress = false;
		if (!err)
			continue;
		sync_log("%s: this node keeps serving revision %lld; retrying "
			 "in %ld ms", s.ms->err, (long long)s.served, backoff);
		sync_sleep_ms(backoff);
		backoff = backoff * 2 > SYNC_BACKOFF_MAX_MS ?
				  SYNC_BACKOFF_MAX_MS : backoff * 2;
	}
	mstore_list_free(&s.kv);
	mesh_memo_free(&s.memo);
	rec_set_free(&s.kept.recs);
	mstore_close(s.ms);
	store_close(s.mem);
	return rc;
}
