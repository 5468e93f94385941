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
 * and into <state-dir>/store.rev, beside the saved policy: a sync that
 * restarts resumes watching from it, with what it knew rebuilt from the
 * maps, so a restart rewrites nothing.  A watch that the store compacted
 * away lists again.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "fsio.h"
#include "mesh.h"
#include "policy/txn.h"

#define SYNC_REV_FILE	"store.rev"
#define SYNC_BACKOFF_MIN_MS	100
#define SYNC_BACKOFF_MAX_MS	2000

struct sync {
	const struct ctl_opts *o;
	struct mstore *ms;		/* owned */
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

/* The transaction options of a write to this node's maps. */
static struct txn_opts sync_txn_opts(const struct sync *s)
{
	return (struct txn_opts){
		.bpf_root = s->o->bpf_root,
		.store = s->o->store,
		.state_dir = s->o->state_dir,
		.run_dir = s->o->run_dir,
		.write = true,
	};
}

/* <state-dir>/store.rev: the revision the saved policy is of. */
static int sync_rev_save(const struct sync *s, int64_t rev)
{
	char path[PATH_MAX], buf[32];
	int n;

	if (!s->o->state_dir)
		return 0;
	if (fsio_pathf(path, sizeof(path), "%s/" SYNC_REV_FILE,
		       s->o->state_dir))
		return -ENAMETOOLONG;
	n = snprintf(buf, sizeof(buf), "%lld\n", (long long)rev);
	return fsio_write_atomic(path, buf, (size_t)n, 0644);
}

static int64_t sync_rev_load(const struct sync *s)
{
	char path[PATH_MAX], *buf;
	int64_t rev = 0;
	size_t len;

	if (!s->o->state_dir ||
	    fsio_pathf(path, sizeof(path), "%s/" SYNC_REV_FILE,
		       s->o->state_dir) ||
	    fsio_read_all(path, &buf, &len))
		return 0;
	rev = strtoll(buf, NULL, 10);
	free(buf);
	return rev > 0 ? rev : 0;
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
	int64_t guard;
	struct diag d;
	struct txn t;
	int err;

	model_set_init(&set);
	diag_init(&d);
	err = txn_open(&t, &to);
	if (err == -ENOENT)
		err = 0;	/* no maps yet: made at commit */
	if (!err) {
		err = mesh_parse(s->ms->prefix, &s->kv, &set, &d, &guard);
		model_set_free(&t.next);
		t.next = set;	/* moved: the transaction frees it */
		model_set_init(&set);
	}
	if (!err)
		err = txn_plan(&t);
	if (!err) {
		t.want.config.store_rev = (uint64_t)rev;
		err = txn_commit(&t);
	}
	diag_print(&d, stderr);
	if (err) {
		diag_print(&t.d, stderr);
		sync_log("revision %lld not applied (%s): this node keeps "
			 "serving revision %lld", (long long)rev,
			 strerror(-err), (long long)s->served);
	} else {
		diag_print(&t.d, stderr);	/* old-half leftovers */
		s->served = rev;
		sync_log("revision %lld in force at epoch %llu: %zu created, "
			 "%zu updated, %zu deleted records", (long long)rev,
			 (unsigned long long)t.want.config.epoch,
			 t.diff.created, t.diff.updated, t.diff.deleted);
		if (sync_rev_save(s, rev))
			sync_log("cannot save the revision under %s",
				 s->o->state_dir);
	}
	txn_close(&t);
	model_set_free(&set);
	diag_free(&d);
	return err;
}

/* Puts @ev into what is known (a NULL value: deletes it). */
static int sync_kv_update(struct sync *s, const struct mstore_kv *ev)
{
	struct mstore_list *l = &s->kv;
	struct mstore_kv *kv = NULL, *grown;
	char *val = NULL;
	size_t i;

	for (i = 0; i < l->n && !kv; i++)
		if (!strcmp(l->kvs[i].key, ev->key))
			kv = &l->kvs[i];
	if (!ev->val) {
		if (kv) {
			free(kv->key);
			free(kv->val);
			*kv = l->kvs[--l->n];
		}
		return 0;
	}
	val = malloc(ev->len + 1);
	if (!val)
		return -ENOMEM;
	memcpy(val, ev->val, ev->len);
	val[ev->len] = '\0';
	if (!kv) {
		grown = realloc(l->kvs, (l->n + 1) * sizeof(*l->kvs));
		if (!grown) {
			free(val);
			return -ENOMEM;
		}
		l->kvs = grown;
		kv = &l->kvs[l->n];
		kv->key = strdup(ev->key);
		kv->val = NULL;
		if (!kv->key) {
			free(val);
			return -ENOMEM;
		}
		l->n++;
	}
	free(kv->val);
	kv->val = val;
	kv->len = ev->len;
	kv->mod_rev = ev->mod_rev;
	return 0;
}

static int sync_on_events(void *arg, const struct mstore_kv *ev, size_t n,
			  int64_t rev)
{
	struct sync *s = arg;
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = sync_kv_update(s, &ev[i]);
	if (err)
		return err;
	s->kv.rev = rev;
	s->progress = true;
	/* A compile that failed keeps the last good policy, and the sync
	 * goes on: the next change may fix it. */
	sync_compile(s, rev);
	return 0;
}

/*
 * What this node knew when it stopped: the objects in its maps, if they
 * were synced (mf_config.store_rev, or <state-dir>/store.rev for maps
 * restored from the saved policy after a reboot), as the store's keys.
 * Returns the revision they are of, or 0 (list the store).
 */
static int64_t sync_resume(struct sync *s)
{
	const struct txn_opts to = sync_txn_opts(s);
	struct txn_restore_info info;
	int64_t rev = 0;
	struct txn t;
	int err;

	/* Maps empty after a reboot, store maybe away: the saved policy
	 * first, as the agent does at its start (whichever comes first;
	 * restore refuses maps that hold a policy). */
	err = txn_restore(&t, &to, false, &info);
	if (!err)
		sync_log("restored the saved policy (%zu objects) at epoch "
			 "%llu", info.objects, (unsigned long long)info.epoch);
	txn_close(&t);
	err = txn_open(&t, &(struct txn_opts){ .bpf_root = to.bpf_root,
					       .store = to.store });
	if (!err)
		rev = t.have.config.store_rev ? (int64_t)t.have.config.store_rev
					      : sync_rev_load(s);
	for (size_t i = 0; !err && rev && i < t.applied.n; i++) {
		const struct model_obj *o = &t.applied.objs[i];
		struct mstore_kv kv = { 0 };

		err = mesh_key(&kv.key, s->ms->prefix, o->kind, o->name);
		if (!err)
			err = mesh_yaml(&t.applied, o, &kv.val, &kv.len);
		if (!err)
			err = sync_kv_update(s, &kv);
		free(kv.key);
		free(kv.val);
	}
	txn_close(&t);
	if (err || !rev) {
		mstore_list_free(&s->kv);
		return 0;
	}
	s->served = rev;
	s->kv.rev = rev;
	s->known = true;
	sync_log("resuming from revision %lld (%zu objects in the maps)",
		 (long long)rev, s->kv.n);
	return rev;
}

int ctl_sync(const struct ctl_opts *o, const struct ctl_args *a)
{
	struct sync s = { .o = o, .once = a->set[CTL_OPT_ONCE] };
	char errbuf[MSTORE_ERR_MAX];
	long backoff = SYNC_BACKOFF_MIN_MS;
	int err, rc = CTL_EXIT_SYSTEM;

	if (!o->store_url) {
		ctl_err("sync needs --store URL (or $MF_STORE)");
		return CTL_EXIT_INVALID;
	}
	err = mstore_open(&s.ms, o->store_url, &o->store_tls, errbuf);
	if (err) {
		ctl_err("%s", errbuf);
		return ctl_exit_for(err);
	}
	snprintf(s.prefix, sizeof(s.prefix), "%s/", s.ms->prefix);
	if (!s.once)
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
	mstore_close(s.ms);
	return rc;
}
