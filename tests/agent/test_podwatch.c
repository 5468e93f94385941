// SPDX-License-Identifier: Apache-2.0
/*
 * podwatch (agent/podwatch.c) against the kernel's own rtnetlink, in a
 * network namespace of the test's, mf-pw-<pid>, which the process enters
 * (setns) so that the veths it makes there (mfpw*, mfpx*, mfpz*) are all
 * it sees.  The agent's loop runs the watch; the attaches go to a fake
 * that records them, and in the last case to the real TC programs
 * (agent/kern.c) under a pin root of the test's, /sys/fs/bpf/mf-test-pw-
 * <pid>.  Checked:
 *   - which names are pods' (the pattern, the list; never lo or the
 *     uplink);
 *   - the dump at start attaches the pod interfaces already up, and a
 *     named one that cannot be attached stops the start;
 *   - a veth added later is attached once it is up, a non-matching one
 *     never; a named one that comes later is;
 *   - deleting one forgets it (gone); renaming one out of the pattern
 *     detaches it, and back in attaches it again;
 *   - a failed attach is tried again, at once when an address comes;
 *   - events lost to an overflowing socket give a dump that finds the
 *     new interfaces and forgets the deleted one;
 *   - with the real programs, the filters are there and the agent's
 *     bookkeeping forgets the interface when it goes.
 * The namespace, the veths in it and the pin root are removed at exit,
 * a failed case and a signal included.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness/bpffs_harness.h"
#include "harness/test.h"
#include "harness/loop_harness.h"
#include "../../agent/kern.h"
#include "../../agent/podwatch.h"

#define WAIT_MS		3000	/* what the watch must do, at most */
#define QUIET_MS	300	/* how long nothing must happen */

static char ns_path[64];	/* /run/netns/mf-pw-<pid>, once made */
static char pin_root[64];	/* /sys/fs/bpf/mf-test-pw-<pid>, once made */
static const char *setup_skip;	/* why every case skips, or NULL */

/* ---- environment ------------------------------------------------------ */

/* What `ip netns del` does, with only calls a signal handler may make. */
static void ns_remove(void)
{
	if (!ns_path[0])
		return;
	umount2(ns_path, MNT_DETACH);
	unlink(ns_path);
}

static void pin_root_remove(void)
{
	bh_pin_root_remove(pin_root);
}

static void cleanup_atexit(void)
{
	/* The veths go with the namespace once this process leaves it;
	 * deleting them here removes them now. */
	if (ns_path[0] && !setup_skip)
		(void)!system("for l in $(ip -o link show | awk -F': ' "
			      "'$2 ~ /^mfp[wxz]/ {sub(/@.*/, \"\", $2); "
			      "print $2}'); do ip link del \"$l\" "
			      "2>/dev/null; done");
	pin_root_remove();
	ns_remove();
}

static void cleanup_signal(int sig)
{
	pin_root_remove();
	ns_remove();
	raise(sig);
}

/* Runs the shell command @fmt, quiet; true when it succeeded. */
__attribute__((format(printf, 1, 2)))
static bool sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(cmd))
		return false;
	if (system(cmd) != 0) {
		fprintf(stderr, "command failed: %s\n", cmd);
		return false;
	}
	return true;
}

static void setup(void)
{
	struct sigaction sa = { .sa_handler = cleanup_signal,
				.sa_flags = SA_RESETHAND };
	char name[32];
	int fd;

	if (geteuid() != 0) {
		setup_skip = "needs root (netns, veth)";
		return;
	}
	if (system("ip -V >/dev/null 2>&1") != 0) {
		setup_skip = "no ip command (iproute2)";
		return;
	}
	snprintf(name, sizeof(name), "mf-pw-%d", (int)getpid());
	if (!sh("ip netns add %s", name)) {
		setup_skip = "cannot create a network namespace";
		return;
	}
	snprintf(ns_path, sizeof(ns_path), "/run/netns/%s", name);
	atexit(cleanup_atexit);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fd = open(ns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		setup_skip = "cannot enter the test's network namespace";
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	if (!sh("ip link set lo up"))
		setup_skip = "cannot bring lo up in the test's namespace";
}

/* A veth pair @a (the node's side) / @b, both up when @up. */
static bool veth_add(const char *a, const char *b, bool up)
{
	if (!sh("ip link add %s type veth peer name %s", a, b))
		return false;
	return !up || sh("ip link set %s up && ip link set %s up", a, b);
}

static void link_del(const char *a)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "ip link del %s 2>/dev/null", a);
	(void)!system(cmd);
}

/* ---- the fake attach ---------------------------------------------------- */

#define FAKE_MAX	64

struct fake {
	int fail_next;			/* attaches still to fail */
	int fail_err;
	unsigned int attaches;		/* calls, failed ones too */
	unsigned int detaches;
	bool last_gone;			/* of the last detach */
	char last_detached[IF_NAMESIZE];
	struct {
		int ifindex;
		char name[IF_NAMESIZE];
	} on[FAKE_MAX];			/* attached now */
	unsigned int non;
};

static int fake_attach(void *arg, int ifindex, const char *ifname)
{
	struct fake *f = arg;

	f->attaches++;
	if (f->fail_next > 0) {
		f->fail_next--;
		return f->fail_err;
	}
	if (f->non == FAKE_MAX)
		return -ENOSPC;
	f->on[f->non].ifindex = ifindex;
	snprintf(f->on[f->non].name, IF_NAMESIZE, "%s", ifname);
	f->non++;
	return 0;
}

static void fake_detach(void *arg, int ifindex, const char *ifname, bool gone)
{
	struct fake *f = arg;

	f->detaches++;
	f->last_gone = gone;
	snprintf(f->last_detached, sizeof(f->last_detached), "%s", ifname);
	for (unsigned int i = 0; i < f->non; i++) {
		if (f->on[i].ifindex != ifindex)
			continue;
		f->on[i] = f->on[--f->non];
		return;
	}
}

/* Whether the fake holds an attach of @name. */
static bool fake_on(const struct fake *f, const char *name)
{
	for (unsigned int i = 0; i < f->non; i++)
		if (!strcmp(f->on[i].name, name))
			return true;
	return false;
}

/* ---- a watch on a loop of its own ---------------------------------------- */

struct fx {
	struct loop loop;
	struct podwatch pw;
	struct stats st;
	struct fake fake;
	bool loop_up, pw_up;
};

static struct fx fx;

/* Starts fx's loop and watch: @pattern, @names (NULL-ended), @uplink;
 * the fake's failures set before.  Returns podwatch_init()'s result. */
static int fx_start(const char *pattern, const char *const *names,
		    const char *uplink)
{
	const struct loop_config lc = { .nbufs = 8, .buf_size = 4096 };
	struct podwatch_config pc = {
		.pattern = pattern,
		.names = names,
		.uplink = uplink,
		.ops = { fake_attach, fake_detach, &fx.fake },
	};
	int err;

	while (names && names[pc.nnames])
		pc.nnames++;
	err = loop_init(&fx.loop, &lc);
	if (!ASSERT_EQ(err, 0))
		return err;
	fx.loop_up = true;
	err = podwatch_init(&fx.pw, &fx.loop, &fx.st, &pc);
	fx.pw_up = !err;
	return err;
}

static void fx_stop(void)
{
	if (fx.loop_up)
		loop_fini(&fx.loop);
	if (fx.pw_up)
		podwatch_fini(&fx.pw);
	memset(&fx, 0, sizeof(fx));
}

static bool state_is(const char *name, enum podwatch_state want)
{
	return podwatch_state_of(&fx.pw, name) == want;
}

/* Runs the loop until @name is in state @want, bounded by @ms. */
static bool wait_state_ms(const char *name, enum podwatch_state want, int ms)
{
	for (int i = 0; i < ms / 20; i++) {
		if (state_is(name, want))
			return true;
		if (!lh_run_for(&fx.loop, 20))
			return false;
	}
	if (state_is(name, want))
		return true;
	fprintf(stderr, "%s: %s after %d ms, not %s\n", name,
		podwatch_state_str(podwatch_state_of(&fx.pw, name)), ms,
		podwatch_state_str(want));
	return false;
}

static bool wait_state(const char *name, enum podwatch_state want)
{
	return wait_state_ms(name, want, WAIT_MS);
}

/* Runs the loop for QUIET_MS: what was to happen by then has. */
static bool run_quiet(void)
{
	for (int i = 0; i < QUIET_MS / 20; i++)
		if (!lh_run_for(&fx.loop, 20))
			return false;
	return true;
}

/* ---- cases --------------------------------------------------------------- */

static bool test_match(void)
{
	static char names[2][IF_NAMESIZE] = { "eth7", "mfpw9" };
	struct podwatch pw;
	bool ok;

	memset(&pw, 0, sizeof(pw));
	snprintf(pw.pattern, sizeof(pw.pattern), "mfp[wx]*");
	snprintf(pw.uplink, sizeof(pw.uplink), "mfpw9");
	pw.names = names;
	pw.nnames = 2;
	ok = ASSERT_TRUE(podwatch_match(&pw, "mfpw0")) &&
	     ASSERT_TRUE(podwatch_match(&pw, "mfpx12")) &&
	     ASSERT_TRUE(podwatch_match(&pw, "eth7")) &&
	     ASSERT_FALSE(podwatch_match(&pw, "eth8")) &&
	     ASSERT_FALSE(podwatch_match(&pw, "mfpz0")) &&
	     /* The uplink, even named and matching, and lo never. */
	     ASSERT_FALSE(podwatch_match(&pw, "mfpw9")) &&
	     ASSERT_FALSE(podwatch_match(&pw, "lo"));
	if (!ok)
		return false;
	/* No pattern, no uplink: the names only. */
	pw.pattern[0] = '\0';
	pw.uplink[0] = '\0';
	return ASSERT_FALSE(podwatch_match(&pw, "mfpw0")) &&
	       ASSERT_TRUE(podwatch_match(&pw, "mfpw9")) &&
	       ASSERT_STREQ(podwatch_state_str(PODWATCH_ATTACHED), "attached");
}

static bool test_dump_at_start(void)
{
	const char *const names[] = { "mfpx1", "mfpx8", NULL };
	bool ok;

	if (setup_skip)
		TEST_SKIP(setup_skip);
	ok = veth_add("mfpw0", "mfpx0", true) &&
	     veth_add("mfpw1", "mfpz1", false) &&
	     veth_add("mfpx1", "mfpz2", true) &&
	     veth_add("mfpw9", "mfpz9", true);
	if (!ASSERT_TRUE(ok))
		goto out;
	ok = false;
	if (!ASSERT_EQ(fx_start("mfpw*", names, "mfpw9"), 0))
		goto out;
	/* Up and matching, or named: attached before init returned. */
	ok = ASSERT_TRUE(state_is("mfpw0", PODWATCH_ATTACHED)) &&
	     ASSERT_TRUE(state_is("mfpx1", PODWATCH_ATTACHED)) &&
	     ASSERT_TRUE(fake_on(&fx.fake, "mfpw0")) &&
	     ASSERT_TRUE(fake_on(&fx.fake, "mfpx1")) &&
	     /* Matching but down: followed, not attached. */
	     ASSERT_TRUE(state_is("mfpw1", PODWATCH_DOWN)) &&
	     /* The uplink, lo, the peers: none. */
	     ASSERT_TRUE(state_is("mfpw9", PODWATCH_FREE)) &&
	     ASSERT_TRUE(state_is("lo", PODWATCH_FREE)) &&
	     ASSERT_TRUE(state_is("mfpx0", PODWATCH_FREE)) &&
	     ASSERT_TRUE(state_is("mfpz2", PODWATCH_FREE)) &&
	     ASSERT_EQ(fx.fake.attaches, 2) &&
	     ASSERT_EQ(podwatch_attached(&fx.pw), 2) &&
	     ASSERT_EQ(fx.st.pod_ifaces, 2) &&
	     ASSERT_EQ(fx.st.pod_attached, 2);
	if (!ok)
		goto out;
	/* The one that was down comes up; the named one that was absent
	 * comes. */
	ok = sh("ip link set mfpw1 up") && wait_state("mfpw1", PODWATCH_ATTACHED) &&
	     veth_add("mfpx8", "mfpz8", true) &&
	     wait_state("mfpx8", PODWATCH_ATTACHED) &&
	     ASSERT_EQ(fx.st.pod_ifaces, 4);
out:
	fx_stop();
	link_del("mfpw0");
	link_del("mfpw1");
	link_del("mfpx1");
	link_del("mfpw9");
	link_del("mfpx8");
	return ok;
}

static bool test_named_attach_failure_stops_start(void)
{
	const char *const names[] = { "mfpx1", NULL };
	int fds;
	bool ok = false;

	if (setup_skip)
		TEST_SKIP(setup_skip);
	if (!ASSERT_TRUE(veth_add("mfpx1", "mfpz1", true)))
		goto out;
	fds = lh_count_fds();
	fx.fake.fail_next = 1;
	fx.fake.fail_err = -EPERM;
	ok = ASSERT_EQ(fx_start(NULL, names, NULL), -EPERM) &&
	     ASSERT_EQ(fx.fake.attaches, 1) &&
	     ASSERT_EQ(lh_count_fds(), fds + 1);	/* the ring's alone */
	fx_stop();
	if (!ok)
		goto out;
	/* One that only matches the pattern is tried again later. */
	fx.fake.fail_next = 1;
	fx.fake.fail_err = -EPERM;
	ok = ASSERT_EQ(fx_start("mfpx*", NULL, NULL), 0) &&
	     ASSERT_TRUE(state_is("mfpx1", PODWATCH_FAILED)) &&
	     ASSERT_EQ(fx.st.pod_attach_failed, 1);
out:
	fx_stop();
	link_del("mfpx1");
	return ok;
}

static bool test_new_veth_attached_when_up(void)
{
	const char *const names[] = { "mfpx3", NULL };
	bool ok = false;

	if (setup_skip)
		TEST_SKIP(setup_skip);
	if (!ASSERT_EQ(fx_start("mfpw*", names, NULL), 0) ||
	    !ASSERT_EQ(podwatch_attached(&fx.pw), 0))
		goto out;
	/* Down: seen, not attached. */
	if (!veth_add("mfpw2", "mfpx2", false) ||
	    !wait_state("mfpw2", PODWATCH_DOWN) || !run_quiet() ||
	    !ASSERT_EQ(fx.fake.attaches, 0))
		goto out;
	/* Up: attached; its peer (not matching) up too: not. */
	if (!sh("ip link set mfpw2 up && ip link set mfpx2 up") ||
	    !wait_state("mfpw2", PODWATCH_ATTACHED) || !run_quiet() ||
	    !ASSERT_TRUE(state_is("mfpx2", PODWATCH_FREE)) ||
	    !ASSERT_EQ(fx.fake.attaches, 1) ||
	    !ASSERT_TRUE(fake_on(&fx.fake, "mfpw2")))
		goto out;
	/* Named, not matching: attached when it comes. */
	ok = veth_add("mfpx3", "mfpz3", true) &&
	     wait_state("mfpx3", PODWATCH_ATTACHED) &&
	     ASSERT_EQ(fx.fake.attaches, 2) &&
	     ASSERT_EQ(fx.st.pod_ifaces, 2);
out:
	fx_stop();
	link_del("mfpw2");
	link_del("mfpx3");
	return ok;
}

static bool test_delete_detaches(void)
{
	bool ok = false;

	if (setup_skip)
		TEST_SKIP(setup_skip);
	if (!ASSERT_EQ(fx_start("mfpw*", NULL, NULL), 0) ||
	    !veth_add("mfpw4", "mfpx4", true) ||
	    !wait_state("mfpw4", PODWATCH_ATTACHED))
		goto out;
	if (!sh("ip link del mfpw4") || !wait_state("mfpw4", PODWATCH_FREE) ||
	    !ASSERT_EQ(fx.fake.detaches, 1) ||
	    !ASSERT_TRUE(fx.fake.last_gone) ||
	    !ASSERT_STREQ(fx.fake.last_detached, "mfpw4") ||
	    !ASSERT_EQ(fx.fake.non, 0) ||
	    !ASSERT_EQ(podwatch_attached(&fx.pw), 0) ||
	    !ASSERT_EQ(fx.st.pod_ifaces, 0) ||
	    !ASSERT_EQ(fx.st.pod_detached, 1))
		goto out;
	/* The same name again: a new interface, attached again. */
	ok = veth_add("mfpw4", "mfpx4", true) &&
	     wait_state("mfpw4", PODWATCH_ATTACHED) &&
	     ASSERT_EQ(fx.fake.attaches, 2) && ASSERT_EQ(fx.st.pod_ifaces, 1);
out:
	fx_stop();
	link_del("mfpw4");
	return ok;
}

static bool test_rename_detaches(void)
{
	bool ok = false;

	if (setup_skip)
		TEST_SKIP(setup_skip);
	if (!ASSERT_EQ(fx_start("mfpw*", NULL, NULL), 0) ||
	    !veth_add("mfpw5", "mfpx5", true) ||
	    !wait_state("mfpw5", PODWATCH_ATTACHED))
		goto out;
	/* Out of the pattern: detached, the interface still there. */
	if (!sh("ip link set mfpw5 down && ip link set mfpw5 name mfpz5") ||
	    !wait_state("mfpw5", PODWATCH_FREE) ||
	    !ASSERT_EQ(fx.fake.detaches, 1) ||
	    !ASSERT_FALSE(fx.fake.last_gone) ||
	    !ASSERT_TRUE(state_is("mfpz5", PODWATCH_FREE)))
		goto out;
	/* Back in, and up: attached again. */
	ok = sh("ip link set mfpz5 name mfpw5 && ip link set mfpw5 up") &&
	     wait_state("mfpw5", PODWATCH_ATTACHED) &&
	     ASSERT_EQ(fx.fake.attaches, 2);
out:
	fx_stop();
	link_del("mfpw5");
	link_del("mfpz5");
	return ok;
}

static bool test_failed_attach_retried(void)
{
	bool ok = false;

	if (setup_skip)
		TEST_SKIP(setup_skip);
	if (!ASSERT_EQ(fx_start("mfpw*", NULL, NULL), 0))
		goto out;
	/* Fails once: tried again about a second later (the tick). */
	fx.fake.fail_next = 1;
	fx.fake.fail_err = -EBUSY;
	if (!veth_add("mfpw6", "mfpx6", true) ||
	    !wait_state("mfpw6", PODWATCH_FAILED) ||
	    !ASSERT_EQ(fx.st.pod_attach_failed, 1) ||
	    !wait_state("mfpw6", PODWATCH_ATTACHED) ||
	    !ASSERT_EQ(fx.fake.attaches, 2))
		goto out;
	/* Fails twice: once as it comes up, once more when an address is
	 * added (at once: the retry of the tick would be a second away),
	 * and the next retry 2 s away; a second address brings it
	 * forward. */
	fx.fake.fail_next = 2;
	if (!veth_add("mfpw7", "mfpx7", true) ||
	    !wait_state("mfpw7", PODWATCH_FAILED) ||
	    !ASSERT_EQ(fx.fake.attaches, 3) ||
	    !sh("ip addr add 10.79.0.7/32 dev mfpw7") || !run_quiet() ||
	    !ASSERT_EQ(fx.fake.attaches, 4) ||
	    !ASSERT_TRUE(state_is("mfpw7", PODWATCH_FAILED)))
		goto out;
	ok = sh("ip addr add 10.79.0.8/32 dev mfpw7") &&
	     wait_state_ms("mfpw7", PODWATCH_ATTACHED, 1000) &&
	     ASSERT_EQ(fx.fake.attaches, 5) &&
	     ASSERT_EQ(fx.st.pod_attach_failed, 3);
out:
	fx_stop();
	link_del("mfpw6");
	link_del("mfpw7");
	return ok;
}

static bool test_overflow_dumps_again(void)
{
	const int tiny = 1, room = PODWATCH_RCVBUF;
	char name[IF_NAMESIZE], peer[IF_NAMESIZE];
	bool ok = false;

	if (setup_skip)
		TEST_SKIP(setup_skip);
	if (!ASSERT_EQ(fx_start("mfpw*", NULL, NULL), 0) ||
	    !veth_add("mfpwo", "mfpxo", true) ||
	    !wait_state("mfpwo", PODWATCH_ATTACHED))
		goto out;
	/* The smallest receive buffer there is, and the loop not reading:
	 * the events of eight new veths overflow it, and those of the
	 * deletion that follows are lost. */
	if (!ASSERT_EQ(setsockopt(fx.pw.fd, SOL_SOCKET, SO_RCVBUFFORCE, &tiny,
				  sizeof(tiny)), 0))
		goto out;
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "mfpw%c", 'a' + i);
		snprintf(peer, sizeof(peer), "mfpx%c", 'a' + i);
		if (!veth_add(name, peer, true))
			goto out;
	}
	if (!sh("ip link del mfpwo") ||
	    !ASSERT_EQ(setsockopt(fx.pw.fd, SOL_SOCKET, SO_RCVBUFFORCE, &room,
				  sizeof(room)), 0))
		goto out;
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "mfpw%c", 'a' + i);
		if (!wait_state(name, PODWATCH_ATTACHED))
			goto out;
	}
	ok = wait_state("mfpwo", PODWATCH_FREE) &&
	     ASSERT_GE(fx.st.pod_resyncs, 1) &&
	     ASSERT_TRUE(fx.fake.last_gone) &&
	     ASSERT_STREQ(fx.fake.last_detached, "mfpwo") &&
	     ASSERT_EQ(fx.fake.non, 8) && ASSERT_EQ(fx.st.pod_ifaces, 8);
out:
	fx_stop();
	link_del("mfpwo");
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "mfpw%c", 'a' + i);
		link_del(name);
	}
	return ok;
}

/* ---- the real programs --------------------------------------------------- */

static int kern_ops_attach(void *arg, int ifindex, const char *ifname)
{
	return kern_attach_ifindex(arg, ifindex, ifname);
}

static void kern_ops_detach(void *arg, int ifindex, const char *ifname,
			    bool gone)
{
	(void)ifname;
	kern_detach_pod(arg, ifindex, gone);
}

/* The program id of our filter at @point of @ifindex, 0 when none. */
static __u32 tc_prog_id(int ifindex, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, topts, .handle = KERN_TC_HANDLE,
		    .priority = KERN_TC_PRIORITY);

	return bpf_tc_query(&hook, &topts) ? 0 : topts.prog_id;
}

static bool test_real_programs(void)
{
	const struct loop_config lc = { .nbufs = 8, .buf_size = 4096 };
	struct podwatch_config pc = { .pattern = "mfpw*" };
	struct kern *k = NULL;
	int ifindex;
	bool ok = false;

	if (setup_skip)
		TEST_SKIP(setup_skip);
	if (!bh_bpffs_ready())
		TEST_SKIP("bpffs is not mounted and cannot be mounted");
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/mf-test-pw-%d",
		 (int)getpid());
	if (!ASSERT_EQ(kern_open(&k, pin_root, NULL, 15101), 0))
		goto out;
	pc.ops = (struct podwatch_ops){ kern_ops_attach, kern_ops_detach, k };
	if (!ASSERT_EQ(loop_init(&fx.loop, &lc), 0))
		goto out;
	fx.loop_up = true;
	if (!ASSERT_EQ(podwatch_init(&fx.pw, &fx.loop, &fx.st, &pc), 0))
		goto out;
	fx.pw_up = true;
	if (!veth_add("mfpwk", "mfpxk", true) ||
	    !wait_state("mfpwk", PODWATCH_ATTACHED))
		goto out;
	ifindex = (int)if_nametoindex("mfpwk");
	if (!ASSERT_NE(tc_prog_id(ifindex, BPF_TC_INGRESS), 0) ||
	    !ASSERT_NE(tc_prog_id(ifindex, BPF_TC_EGRESS), 0) ||
	    !ASSERT_EQ(kern_pods(k), 1))
		goto out;
	/* Renamed out: the filters come off. */
	if (!sh("ip link set mfpwk down && ip link set mfpwk name mfpzk") ||
	    !wait_state("mfpwk", PODWATCH_FREE) ||
	    !ASSERT_EQ(tc_prog_id(ifindex, BPF_TC_INGRESS), 0) ||
	    !ASSERT_EQ(tc_prog_id(ifindex, BPF_TC_EGRESS), 0) ||
	    !ASSERT_EQ(kern_pods(k), 0))
		goto out;
	/* Back, then deleted: the kernel takes the filters, the agent
	 * forgets it. */
	if (!sh("ip link set mfpzk name mfpwk && ip link set mfpwk up") ||
	    !wait_state("mfpwk", PODWATCH_ATTACHED) ||
	    !ASSERT_EQ(kern_pods(k), 1))
		goto out;
	ok = sh("ip link del mfpwk") && wait_state("mfpwk", PODWATCH_FREE) &&
	     ASSERT_EQ(kern_pods(k), 0) && ASSERT_EQ(fx.st.pod_detached, 2);
out:
	fx_stop();
	kern_close(k);
	link_del("mfpwk");
	link_del("mfpzk");
	pin_root_remove();
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	setup();
	TEST_RUN(test_match);
	TEST_RUN(test_dump_at_start);
	TEST_RUN(test_named_attach_failure_stops_start);
	TEST_RUN(test_new_veth_attached_when_up);
	TEST_RUN(test_delete_detaches);
	TEST_RUN(test_rename_detaches);
	TEST_RUN(test_failed_attach_retried);
	TEST_RUN(test_overflow_dumps_again);
	TEST_RUN(test_real_programs);
	TEST_MAIN_END();
}
