// SPDX-License-Identifier: Apache-2.0
/*
 * The policy reloader (reload.h): its thread, and the hand-over of
 * references between that thread and the loop's, one way through a pointer
 * only ever exchanged atomically, back through a single-producer
 * single-consumer ring, so that each reference always has exactly one
 * thread that may drop it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "policy.h"
#include "reload.h"

/* After a load failed for a reason other than an apply landing meanwhile,
 * try again this much later rather than read maps that cannot be read
 * every tick. */
#define RELOAD_RETRY_MS	1000
/* References the loop hands back between two ticks; more are dropped on
 * the loop (a burst of ends after a switch, each one cheap unless last). */
#define RELOAD_RETIRE_MAX	256
/* The reloader's niceness: when it shares a CPU with the loop, the loop
 * runs first, and the snapshot is late rather than connections. */
#define RELOAD_NICE	10

/* Loops one reloader serves (a group, reload_open_group()). */
#define RELOAD_GROUP_MAX	64

struct reload {
	const struct pmap *pm;		/* NULL: a fixed snapshot, no thread */
	/* The group this loop's end belongs to: every loop's, the first
	 * (the leader, this one for a group of one) holding the thread, the
	 * mapping, @built and the maps below.  Each member's @fresh,
	 * @retire and @cur are its own loop's, as for one loop. */
	struct reload **group;
	unsigned int ngroup;
	/* Leader only.  reload_switch(): maps to read from now on, for the
	 * thread to take (atomic), and the ones it reads (atomic:
	 * reload_maps()). */
	const struct pmap *next_pm;
	const struct pmap *pm_in_use;
	/* mf_config mapped read-only (it is BPF_F_MMAPABLE), so a tick reads
	 * the epoch without a syscall; NULL: read it with one. */
	const volatile struct mf_config *config_mm;
	size_t config_mm_len;
	pthread_t thread;
	bool thread_up;
	bool stop;			/* atomic: the thread is to leave */
	/* Published, not taken yet: the reloader's reference.  Exchanged
	 * atomically by both threads. */
	struct policy *fresh;
	/* References the loop let go of, for the reloader to drop: a
	 * single-producer single-consumer ring.  The loop writes the slots
	 * and publishes them by moving retire_head, the reloader empties
	 * them and moves retire_tail; each index is written by one thread. */
	struct policy *retire[RELOAD_RETIRE_MAX];
	unsigned int retire_head;
	unsigned int retire_tail;
	struct policy *cur;		/* loop thread only: what new
					 * connections get.  Reference */
	uint64_t built;			/* reloader thread only: epoch of the
					 * last snapshot it built */
	/* Epoch of @cur: written by the loop thread, read by any
	 * (reload_epoch_taken()). */
	uint64_t cur_epoch;
};

/* Maps mf_config read-only.  Failure is not fatal: the ticks then read
 * the map with a syscall. */
static void reload_config_mmap(struct reload *r)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (sizeof(struct mf_config) + page - 1) & ~((size_t)page - 1);
	void *p;

	p = mmap(NULL, len, PROT_READ, MAP_SHARED, r->pm->config_fd, 0);
	if (p == MAP_FAILED) {
		log_info("event=config_mmap_unavailable err=%s", strerror(errno));
		return;
	}
	r->config_mm = p;
	r->config_mm_len = len;
}

/* mf_config.epoch into *epoch.  Returns 0 or -errno. */
static int reload_epoch(const struct reload *r, uint64_t *epoch)
{
	struct mf_config cfg;
	int err;

	if (r->config_mm) {
		*epoch = r->config_mm->epoch;
		return 0;
	}
	err = pmap_config_read(r->pm, &cfg);
	if (!err)
		*epoch = cfg.epoch;
	return err;
}

/* Makes @np (a reference of ours) the snapshot the loop takes next.  One
 * published before and never taken was never seen by the loop: ours to
 * drop. */
static void reload_publish(struct reload *r, struct policy *np)
{
	policy_put(__atomic_exchange_n(&r->fresh, np, __ATOMIC_ACQ_REL));
}

/* Drops every reference the loop handed back (reloader thread, or any
 * thread once the reloader is gone). */
static void reload_drain_retired(struct reload *r)
{
	unsigned int tail = r->retire_tail;
	unsigned int head = __atomic_load_n(&r->retire_head, __ATOMIC_ACQUIRE);

	for (; tail != head; tail++)
		policy_put(r->retire[tail % RELOAD_RETIRE_MAX]);
	__atomic_store_n(&r->retire_tail, tail, __ATOMIC_RELEASE);
}

/* Reads from @pm from now on (reloader thread): the snapshot built next
 * is from it whatever its epoch, as the epochs of two sets of maps say
 * nothing of each other. */
static void reload_take_maps(struct reload *r, const struct pmap *pm)
{
	if (r->config_mm)
		munmap((void *)r->config_mm, r->config_mm_len);
	r->config_mm = NULL;
	r->pm = pm;
	reload_config_mmap(r);
	__atomic_store_n(&r->pm_in_use, pm, __ATOMIC_RELEASE);
	log_info("event=policy_maps_switched root=%s", pm->root);
}

/* The leader owns the thread and so the maps: a switch through any
 * member of the group is the leader's. */
void reload_switch(struct reload *r, const struct pmap *pm)
{
	r = r->group[0];
	if (r->pm)
		__atomic_store_n(&r->next_pm, pm, __ATOMIC_RELEASE);
}

const struct pmap *reload_maps(const struct reload *r)
{
	return __atomic_load_n(&r->group[0]->pm_in_use, __ATOMIC_ACQUIRE);
}

/* Makes @np (a reference of ours, handed on) the snapshot every loop of
 * leader @r's group takes next: each gets a reference of its own. */
static void reload_publish_all(struct reload *r, struct policy *np)
{
	for (unsigned int i = 0; i < r->ngroup; i++)
		reload_publish(r->group[i], policy_get(np));
	policy_put(np);
}

static void *reload_thread(void *arg)
{
	const struct timespec tick = { .tv_nsec = RELOAD_POLL_MS * 1000000L };
	struct reload *r = arg;
	unsigned int idle = 0;
	bool force = false;		/* build whatever the epoch */
	struct policy *np;
	uint64_t epoch;
	int err;

	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), RELOAD_NICE);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		const struct pmap *next;

		/* When the loop let go of the last reference, the free
		 * happens here. */
		for (unsigned int i = 0; i < r->ngroup; i++)
			reload_drain_retired(r->group[i]);
		next = __atomic_exchange_n(&r->next_pm, NULL, __ATOMIC_ACQ_REL);
		if (next) {
			reload_take_maps(r, next);
			force = true;
			idle = 0;
		}
		if (idle > 0) {
			idle--;
		} else if (reload_epoch(r, &epoch) == 0 &&
			   (epoch != r->built || force)) {
			err = policy_load(&np, r->pm);
			if (!err) {
				force = false;
				r->built = policy_epoch(np);
				reload_publish_all(r, np);
			} else if (err != -EAGAIN) {
				log_error("event=policy_load_failed epoch=%llu "
					  "err=%s", (unsigned long long)epoch,
					  strerror(-err));
				idle = RELOAD_RETRY_MS / RELOAD_POLL_MS;
			}
		}
		clock_nanosleep(CLOCK_MONOTONIC, 0, &tick, NULL);
	}
	return NULL;
}

/* Frees group member @r's references and memory (its loop stopped, the
 * reloader gone). */
static void reload_free(struct reload *r)
{
	reload_drain_retired(r);
	policy_put(r->fresh);
	policy_put(r->cur);
	free(r);
}

int reload_open_group(struct reload **out, unsigned int n,
		      const struct pmap *pm, struct policy *fixed)
{
	struct reload **group, *r;
	sigset_t all, old;
	unsigned int i;
	int err;

	if (n < 1 || n > RELOAD_GROUP_MAX)
		return -EINVAL;
	group = calloc(n, sizeof(*group));
	if (!group)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		group[i] = calloc(1, sizeof(*group[i]));
		if (!group[i]) {
			err = -ENOMEM;
			goto err_free;
		}
		group[i]->pm = pm;
		group[i]->group = group;
		group[i]->ngroup = n;
	}
	r = group[0];
	r->pm_in_use = pm;
	if (!pm) {
		for (i = 0; i < n; i++)
			group[i]->cur = fixed ? policy_get(fixed) : NULL;
		goto done;
	}
	reload_config_mmap(r);
	/* The first snapshot before anything runs: an agent that cannot
	 * read its policy at start does not start. */
	err = policy_load(&r->cur, pm);
	if (err) {
		log_error("event=policy_load_failed err=%s", strerror(-err));
		goto err_unmap;
	}
	r->built = policy_epoch(r->cur);
	for (i = 1; i < n; i++)
		group[i]->cur = policy_get(r->cur);
	/* Signals are the loop's (its signalfd): the thread blocks them all
	 * from its first instruction on. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&r->thread, NULL, reload_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		log_error("event=reloader_failed err=%s", strerror(-err));
		goto err_unmap;
	}
	r->thread_up = true;
	pthread_setname_np(r->thread, "mf-reload");
done:
	for (i = 0; i < n; i++) {
		group[i]->cur_epoch = group[i]->cur ?
				      policy_epoch(group[i]->cur) : 0;
		out[i] = group[i];
	}
	return 0;

err_unmap:
	if (r->config_mm)
		munmap((void *)r->config_mm, r->config_mm_len);
	i = n;
err_free:
	while (i-- > 0)
		if (group[i])
			reload_free(group[i]);
	free(group);
	return err;
}

int reload_open(struct reload **out, const struct pmap *pm,
		struct policy *fixed)
{
	return reload_open_group(out, 1, pm, fixed);
}

struct policy *reload_current(struct reload *r)
{
	struct policy *np, *old;

	/* A plain load first: the exchange, a locked instruction, only when
	 * there is something to take. */
	if (!__atomic_load_n(&r->fresh, __ATOMIC_RELAXED))
		return r->cur;
	np = __atomic_exchange_n(&r->fresh, NULL, __ATOMIC_ACQUIRE);
	if (!np)
		return r->cur;
	old = r->cur;
	r->cur = np;
	__atomic_store_n(&r->cur_epoch, policy_epoch(np), __ATOMIC_RELAXED);
	/* The old one goes to the reloader, which frees it if we held the
	 * last reference. */
	reload_release(r, old);
	log_debug("event=policy_switch epoch=%llu trust_domain=%s",
		  (unsigned long long)policy_epoch(np), policy_trust_domain(np));
	return np;
}

uint64_t reload_epoch_taken(const struct reload *r)
{
	return __atomic_load_n(&r->cur_epoch, __ATOMIC_RELAXED);
}

void reload_release(struct reload *r, struct policy *p)
{
	unsigned int head = r->retire_head;

	if (!p)
		return;
	/* The current snapshot holds a reference of its own: this one is
	 * not the last.  A full ring (never emptied before close without a
	 * reloader thread) cannot wait either. */
	if (p == r->cur ||
	    head - __atomic_load_n(&r->retire_tail, __ATOMIC_ACQUIRE) ==
	    RELOAD_RETIRE_MAX) {
		policy_put(p);
		return;
	}
	r->retire[head % RELOAD_RETIRE_MAX] = p;
	__atomic_store_n(&r->retire_head, head + 1, __ATOMIC_RELEASE);
}

void reload_close(struct reload *r)
{
	struct reload **group;
	unsigned int n;

	if (!r)
		return;
	/* Any member closes the group: the leader's thread goes first, so
	 * nothing is published to a member being freed. */
	group = r->group;
	n = r->ngroup;
	r = group[0];
	if (r->thread_up) {
		__atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
		pthread_join(r->thread, NULL);
	}
	if (r->config_mm)
		munmap((void *)r->config_mm, r->config_mm_len);
	for (unsigned int i = 0; i < n; i++)
		reload_free(group[i]);
	free(group);
}
