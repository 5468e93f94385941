// SPDX-License-Identifier: Apache-2.0
/*
 * The policy reloader: the hand-over of snapshots between the reloader and
 * the loop thread (reload.c included, to publish by hand), a fixed
 * snapshot, and a reloader thread following mf_config.epoch in real pinned
 * maps under a pin root of the test's own.
 */
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/magic.h>

#include "harness/test.h"
#include "../../agent/reload.c"

/* An empty snapshot of epoch @epoch. */
static struct policy *snap(uint64_t epoch)
{
	struct policy_records r;
	struct policy *p = NULL;

	memset(&r, 0, sizeof(r));
	r.config.epoch = epoch;
	if (policy_from_records(&p, &r))
		return NULL;
	return p;
}

static bool test_fixed_snapshot(void)
{
	struct policy *p = snap(3);
	struct reload *r = NULL;
	bool ok;

	if (!ASSERT_TRUE(p) || !ASSERT_EQ(reload_open(&r, NULL, p), 0))
		return false;
	/* The reloader holds a reference of its own. */
	policy_put(p);
	ok = ASSERT_TRUE(reload_current(r) == p) &&
	     ASSERT_EQ(policy_epoch(reload_current(r)), 3) &&
	     ASSERT_TRUE(!r->thread_up);
	reload_close(r);
	if (!ok || !ASSERT_EQ(reload_open(&r, NULL, NULL), 0))
		return false;
	ok = ASSERT_TRUE(reload_current(r) == NULL);
	reload_close(r);
	return ok;
}

/*
 * Snapshots published by hand (no thread): the loop takes the newest, a
 * connection's reference outlives the switch, one never taken is dropped
 * by the publisher, and the loop's old one waits in "retired" for the
 * reloader.  Every reference is accounted for: the sanitizer build fails
 * on a leak or a double put.
 */
static bool test_handover(void)
{
	struct policy *a = snap(1), *held;
	struct reload *r = NULL;
	bool ok = false;

	if (!ASSERT_TRUE(a) || !ASSERT_EQ(reload_open(&r, NULL, a), 0))
		return false;
	policy_put(a);
	held = policy_get(reload_current(r));	/* a connection's */
	reload_publish(r, snap(2));
	if (!ASSERT_EQ(policy_epoch(reload_current(r)), 2) ||
	    !ASSERT_TRUE(r->retired == a) ||
	    !ASSERT_TRUE(r->fresh == NULL))
		goto out;
	/* Two publications before the loop looks: 3 is never seen. */
	reload_publish(r, snap(3));
	reload_publish(r, snap(4));
	if (!ASSERT_EQ(policy_epoch(r->fresh), 4) ||
	    !ASSERT_EQ(policy_epoch(reload_current(r)), 4) ||
	    /* The reloader had not collected 1: the loop dropped it, and 2
	     * waits now. */
	    !ASSERT_EQ(policy_epoch(r->retired), 2) ||
	    /* Nothing new: the same snapshot, no exchange. */
	    !ASSERT_EQ(policy_epoch(reload_current(r)), 4))
		goto out;
	/* The connection's snapshot is still whole. */
	ok = ASSERT_EQ(policy_epoch(held), 1);
out:
	policy_put(held);
	reload_close(r);
	return ok;
}

static bool set_epoch(const struct pmap *pm, uint64_t epoch)
{
	struct mf_config cfg;
	__u32 zero = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.epoch = epoch;
	cfg.flags = MF_CONFIG_F_MESH;
	snprintf(cfg.trust_domain, sizeof(cfg.trust_domain), "td%llu.local",
		 (unsigned long long)epoch);
	return ASSERT_EQ(bpf_map_update_elem(pm->config_fd, &zero, &cfg,
					     BPF_ANY), 0);
}

/* The reloader thread follows the epoch of real maps: the loop sees epoch
 * 2 once it is built, while a reference to epoch 1 stays valid. */
static bool test_thread_follows_epoch(void)
{
	struct reload *r = NULL;
	struct policy *old;
	struct statfs st;
	struct pmap pm;
	char root[64];
	bool ok = false;

	if (geteuid() != 0)
		TEST_SKIP("needs root for bpf()");
	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC)
		TEST_SKIP("bpffs is not mounted at /sys/fs/bpf");
	snprintf(root, sizeof(root), "/sys/fs/bpf/mf-test-loop-%d",
		 (int)getpid());
	pmap_unpin_all(root);
	if (!ASSERT_EQ(pmap_open(&pm, root, true), 0))
		goto out_unpin;
	if (!set_epoch(&pm, 1) || !ASSERT_EQ(reload_open(&r, &pm, NULL), 0))
		goto out;
	old = policy_get(reload_current(r));
	if (!ASSERT_EQ(policy_epoch(old), 1) || !ASSERT_TRUE(r->thread_up) ||
	    !set_epoch(&pm, 2))
		goto out_old;
	/* Bounded, so a reloader that never publishes fails rather than
	 * hangs: there is nothing to wait on but the pointer itself. */
	for (int i = 0; i < 1000 && policy_epoch(reload_current(r)) != 2; i++)
		usleep(RELOAD_POLL_MS * 1000);
	ok = ASSERT_EQ(policy_epoch(reload_current(r)), 2) &&
	     ASSERT_STREQ(policy_trust_domain(reload_current(r)), "td2.local") &&
	     ASSERT_STREQ(policy_trust_domain(old), "td1.local");
out_old:
	policy_put(old);
out:
	reload_close(r);
	pmap_close(&pm);
out_unpin:
	if (!ASSERT_EQ(pmap_unpin_all(root), 0))
		ok = false;
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	log_level_max = LOG_LVL_WARN;

	TEST_RUN(test_fixed_snapshot);
	TEST_RUN(test_handover);
	TEST_RUN(test_thread_follows_epoch);
	TEST_MAIN_END();
}
