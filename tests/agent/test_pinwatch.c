// SPDX-License-Identifier: Apache-2.0
/*
 * pinwatch (agent/pinwatch.c) and the layout check of the pins
 * (pmap_check_pins() through kern_check_pins()), against real maps pinned
 * under a pin root of the test's, /sys/fs/bpf/mf-test-pinw-<pid>, and the
 * real TC programs on a veth, mfpinw0 (peer mfpinw1), in a network namespace
 * of the process's own (unshare: it goes with the process).  Checked:
 *   - a root the agent made passes the layout check; a map of another
 *     size under one of its names, and a map of a name it does not know,
 *     are refused, naming the map and what differs;
 *   - with the maps unchanged, a tick does nothing;
 *   - pins removed: a tick keeps the maps held (no new ones to take);
 *   - pins made again: the first tick switches to them: the TC filter of
 *     the pod is a new program that uses the new maps, the reloader reads
 *     them and publishes their snapshot though their epoch is older, and
 *     an apply to them afterwards is what new connections get.
 * The pin root is removed at exit, a failed case and a signal included.
 */
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness/bpffs_harness.h"
#include "harness/test.h"
#include "../../agent/ctx.h"
#include "../../agent/kern.h"
#include "../../agent/pinwatch.h"
#include "../../agent/policy.h"
#include "../../agent/reload.h"
#include "pmap.h"

#define WAIT_MS 2000

static char pin_root[64];	/* /sys/fs/bpf/mf-test-pinw-<pid>, once made */
static const char *setup_skip;	/* why every case skips, or NULL */

static void pin_root_remove(void)
{
	bh_pin_root_remove(pin_root);
}

static void cleanup_signal(int sig)
{
	pin_root_remove();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void setup(void)
{
	if (geteuid() != 0) {
		setup_skip = "needs root (BPF, a network namespace)";
		return;
	}
	if (!bh_bpffs_ready()) {
		setup_skip = "bpffs is not mounted and cannot be mounted";
		return;
	}
	if (unshare(CLONE_NEWNET)) {
		setup_skip = "no network namespace of our own (unshare)";
		return;
	}
	if (system("ip link add mfpinw0 type veth peer name mfpinw1 && "
		   "ip link set mfpinw0 up")) {
		setup_skip = "no veth of our own (ip link add type veth)";
		return;
	}
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/mf-test-pinw-%d",
		 (int)getpid());
	atexit(pin_root_remove);
	signal(SIGINT, cleanup_signal);
	signal(SIGTERM, cleanup_signal);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The id of the program of our filter at TC ingress of @ifname, 0: none. */
static uint32_t tc_prog_id(const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)if_nametoindex(ifname),
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, topts, .handle = KERN_TC_HANDLE,
		    .priority = KERN_TC_PRIORITY);

	return bpf_tc_query(&hook, &topts) ? 0 : topts.prog_id;
}

/* Whether program @prog_id uses the map behind @map_fd. */
static bool prog_uses(uint32_t prog_id, int map_fd)
{
	struct bpf_prog_info pinfo;
	struct bpf_map_info minfo;
	__u32 ids[64], len = sizeof(pinfo), mlen = sizeof(minfo);
	bool found = false;
	int fd;

	memset(&minfo, 0, sizeof(minfo));
	if (bpf_obj_get_info_by_fd(map_fd, &minfo, &mlen))
		return false;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	memset(&pinfo, 0, sizeof(pinfo));
	pinfo.nr_map_ids = 64;
	pinfo.map_ids = (uint64_t)(uintptr_t)ids;
	if (!bpf_obj_get_info_by_fd(fd, &pinfo, &len))
		for (__u32 i = 0; i < pinfo.nr_map_ids && i < 64; i++)
			found |= ids[i] == minfo.id;
	close(fd);
	return found;
}

/* Sets the epoch of mf_config in @pm, as an apply's flip does. */
static bool set_epoch(const struct pmap *pm, uint64_t epoch)
{
	struct mf_config cfg;
	__u32 key = 0;

	if (!ASSERT_EQ(pmap_config_read(pm, &cfg), 0))
		return false;
	cfg.epoch = epoch;
	return ASSERT_EQ(bpf_map_update_elem(pm->config_fd, &key, &cfg, 0), 0);
}

/* Waits for the snapshot new connections get to be of @epoch. */
static bool wait_snapshot(struct reload *r, uint64_t epoch)
{
	uint64_t end = now_ms() + WAIT_MS;
	struct policy *p;

	do {
		p = reload_current(r);
		if (p && policy_epoch(p) == epoch)
			return true;
		usleep(2000);
	} while (now_ms() < end);
	fprintf(stderr, "snapshot of epoch %llu, not %llu\n",
		p ? (unsigned long long)policy_epoch(p) : 0ull,
		(unsigned long long)epoch);
	return false;
}

static bool test_layout_check(void)
{
	char why[160] = "";
	struct pmap pm;
	int fd;
	bool ok = false;

	if (setup_skip)
		TEST_SKIP(setup_skip);
	if (!ASSERT_EQ(pmap_open(&pm, pin_root, true), 0))
		return false;
	pmap_close(&pm);
	if (!ASSERT_EQ(kern_check_pins(pin_root, why, sizeof(why)), 0))
		goto out;
	/* A name of ours, another size: an older layout's mf_config. */
	if (!ASSERT_EQ(system("rm -f /sys/fs/bpf/mf-test-pinw-*/mf_config"), 0))
		goto out;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mf_config", 4, 8, 1, NULL);
	if (!ASSERT_TRUE(fd >= 0))
		goto out;
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/mf_config", pin_root);
		if (!ASSERT_EQ(bpf_obj_pin(fd, path), 0)) {
			close(fd);
			goto out;
		}
	}
	close(fd);
	if (!ASSERT_EQ(kern_check_pins(pin_root, why, sizeof(why)), -ESTALE) ||
	    !ASSERT_TRUE(strstr(why, "mf_config") != NULL) ||
	    !ASSERT_TRUE(strstr(why, "8 bytes") || strstr(why, "/8 ")))
		goto out;
	/* A name no map of ours has. */
	pin_root_remove();
	if (!ASSERT_EQ(pmap_open(&pm, pin_root, true), 0))
		goto out;
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/mf_routes_v0", pin_root);
		fd = bpf_map_create(BPF_MAP_TYPE_HASH, "mf_routes_v0", 4, 4, 8,
				    NULL);
		if (!ASSERT_TRUE(fd >= 0) || !ASSERT_EQ(bpf_obj_pin(fd, path), 0))
			goto out_pm;
		close(fd);
	}
	ok = ASSERT_EQ(kern_check_pins(pin_root, why, sizeof(why)), -ESTALE) &&
	     ASSERT_TRUE(strstr(why, "mf_routes_v0") != NULL);
out_pm:
	pmap_close(&pm);
out:
	if (!ok)
		fprintf(stderr, "why: %s\n", why);
	pin_root_remove();
	return ok;
}

static bool test_recreated_pins_reopened(void)
{
	struct pmap pm, fresh;
	struct ctx ctx;
	struct pinwatch pw;
	struct kern *k = NULL;
	uint32_t old_prog, new_prog;
	bool ok = false, pw_up = false;

	if (setup_skip)
		TEST_SKIP(setup_skip);
	memset(&ctx, 0, sizeof(ctx));
	pmap_open(&fresh, "/nonexistent", false);	/* every fd -1 */
	if (!ASSERT_EQ(pmap_open(&pm, pin_root, true), 0))
		return false;
	if (!set_epoch(&pm, 5) ||
	    !ASSERT_EQ(kern_open(&k, pin_root, NULL, 15101), 0) ||
	    !ASSERT_EQ(kern_attach_pod(k, "mfpinw0"), 0))
		goto out;
	ctx.pmap = &pm;
	if (!ASSERT_EQ(reload_open(&ctx.reload, &pm, NULL), 0))
		goto out;
	pinwatch_init(&pw, &ctx, k);
	pw_up = true;
	old_prog = tc_prog_id("mfpinw0");
	if (!ASSERT_NE(old_prog, 0) || !ASSERT_TRUE(prog_uses(old_prog, pm.config_fd)) ||
	    !ASSERT_FALSE(pinwatch_tick(&pw)) || !ASSERT_TRUE(ctx.pmap == &pm))
		goto out;

	/* Removed: nothing to switch to, the maps held stay. */
	pin_root_remove();
	if (!ASSERT_FALSE(pinwatch_tick(&pw)) || !ASSERT_TRUE(ctx.pmap == &pm) ||
	    !ASSERT_EQ(tc_prog_id("mfpinw0"), old_prog))
		goto out;

	/* Made again, with an older epoch: the next tick takes them. */
	if (!ASSERT_EQ(pmap_open(&fresh, pin_root, true), 0) ||
	    !set_epoch(&fresh, 2) || !ASSERT_TRUE(pinwatch_tick(&pw)) ||
	    !ASSERT_TRUE(ctx.pmap != &pm))
		goto out;
	new_prog = tc_prog_id("mfpinw0");
	if (!ASSERT_NE(new_prog, 0) || !ASSERT_NE(new_prog, old_prog) ||
	    !ASSERT_TRUE(prog_uses(new_prog, fresh.config_fd)) ||
	    !ASSERT_FALSE(prog_uses(new_prog, pm.config_fd)) ||
	    !wait_snapshot(ctx.reload, 2))
		goto out;
	/* The old maps are let go of once the reloader reads the new ones. */
	if (!ASSERT_TRUE(reload_maps(ctx.reload) == ctx.pmap) ||
	    !ASSERT_FALSE(pinwatch_tick(&pw)) || !ASSERT_EQ(pm.config_fd, -1))
		goto out;
	/* An apply to the new maps is what new connections get. */
	ok = set_epoch(&fresh, 3) && wait_snapshot(ctx.reload, 3);
out:
	reload_close(ctx.reload);
	if (pw_up)
		pinwatch_fini(&pw);
	kern_close(k);
	pmap_close(&fresh);
	pmap_close(&pm);
	pin_root_remove();
	return ok;
}

/* The MeshGatewayRoute map of the layout before its records took 16 rules
 * (4,040-byte values): its pins are refused by name and size, so a new
 * agent never reads old records as new ones. */
static bool test_layout_gateway_routes(void)
{
	char why[160] = "", path[128];
	struct pmap pm;
	int fd;
	bool ok = false;

	if (setup_skip)
		TEST_SKIP(setup_skip);
	pin_root_remove();
	if (!ASSERT_EQ(pmap_open(&pm, pin_root, true), 0))
		return false;
	pmap_close(&pm);
	snprintf(path, sizeof(path), "%s/mf_gateway_routes", pin_root);
	if (!ASSERT_EQ(unlink(path), 0))
		goto out;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "mf_gateway_routes",
			    sizeof(struct mf_pol_key), 4040, 8,
			    &(struct bpf_map_create_opts){
				    .sz = sizeof(struct bpf_map_create_opts),
				    .map_flags = BPF_F_NO_PREALLOC });
	if (!ASSERT_TRUE(fd >= 0))
		goto out;
	ok = ASSERT_EQ(bpf_obj_pin(fd, path), 0);
	close(fd);
	ok = ok &&
	     ASSERT_EQ(kern_check_pins(pin_root, why, sizeof(why)), -ESTALE) &&
	     ASSERT_TRUE(strstr(why, "mf_gateway_routes") != NULL) &&
	     ASSERT_TRUE(strstr(why, "4040") != NULL);
	if (!ok)
		fprintf(stderr, "  why: %s\n", why);
out:
	pin_root_remove();
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	setup();
	TEST_RUN(test_layout_check);
	TEST_RUN(test_layout_gateway_routes);
	TEST_RUN(test_recreated_pins_reopened);
	TEST_MAIN_END();
}
