// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's start-up step that restores the policy
 * (main_restore_policy() of agent/main.c, included, its main() renamed
 * out of the way): nothing pinned and no saved state: nothing done,
 * nothing pinned (the agent then creates empty maps); nothing pinned and
 * a saved state: the maps come back as saved; maps pinned: left alone,
 * even when they differ from the saved state; an invalid saved state
 * stops the agent.  Real pinned maps under a pin root of the test's own,
 * so it needs root and bpffs.
 */
#include <unistd.h>

#include "harness/test.h"
#include "harness/ctl_harness.h"

#define main agent_main
#include "../../agent/main.c"
#undef main

#define API "apiVersion: meshforge.io/v1alpha1\n"

static const char policy[] =
	API "kind: Mesh\nmetadata: {name: default}\nspec: {trustDomain: mesh.local}\n"
	"---\n" API "kind: Node\nmetadata: {name: mf-node-b}\nspec: {address: 10.77.0.2}\n"
	"---\n" API "kind: Service\nmetadata: {name: web}\nspec: {vip: 10.96.0.10, port: 80}\n";

static __u64 epoch_now(void)
{
	struct mf_config cfg;
	struct pmap pm;
	__u64 e = (__u64)-1;

	if (pmap_open(&pm, ch_root, false))
		return e;
	if (!pmap_config_read(&pm, &cfg))
		e = cfg.epoch;
	pmap_close(&pm);
	return e;
}

static bool nothing_pinned(void)
{
	struct pmap pm;
	int err = pmap_open(&pm, ch_root, false);

	if (!err)
		pmap_close(&pm);
	return ASSERT_EQ(err, -ENOENT);
}

/* `mfctl get` of the pinned maps equals the saved state @file. */
static bool pinned_equals(const char *file)
{
	struct ctl_opts o = ch_opts(false);
	char *get[] = { "get", NULL }, *saved = NULL;
	struct ch_run g = { 0 };
	size_t n;
	bool ok;

	ok = ch_capture(&o, get, &g) && ASSERT_EQ(g.rc, CTL_EXIT_OK) &&
	     ASSERT_EQ(fsio_read_all(file, &saved, &n), 0) &&
	     ASSERT_STREQ(g.out, saved);
	free(saved);
	ch_run_free(&g);
	return ok;
}

static bool test_agent_start_restore(void)
{
	struct ctl_opts o = ch_opts(true);
	struct main_opts ao;
	char path[128], state[128], file[160], missing[128], bad[128];
	char badfile[160], *apply[] = { "apply", "-f", path, NULL };
	struct ch_run r = { 0 };
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	memset(&ao, 0, sizeof(ao));
	ao.bpf_root = ch_root;
	ao.run_dir = ch_run_dir;
	snprintf(state, sizeof(state), "%s/state", ch_tmpdir);
	snprintf(file, sizeof(file), "%s/policy.yaml", state);
	snprintf(missing, sizeof(missing), "%s/no-such-state", ch_tmpdir);
	snprintf(bad, sizeof(bad), "%s/bad-state", ch_tmpdir);
	snprintf(badfile, sizeof(badfile), "%s/policy.yaml", bad);
	/* The saved state, as an apply (here to the memory store) makes
	 * it; an invalid one beside it. */
	o.state_dir = state;
	ok = ch_write_file("policy-in.yaml", policy, path, sizeof(path)) &&
	     ch_capture(&o, apply, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     ASSERT_EQ(fsio_mkdirs(bad, 0700), 0) &&
	     ASSERT_EQ(fsio_write_atomic(badfile, "kind: Nope\n", 11, 0600), 0);
	ch_run_free(&r);

	ok = ok && ASSERT_EQ(pmap_unpin_all(ch_root), 0);
	ao.state_dir = missing;
	ok = ok && ASSERT_EQ(main_restore_policy(&ao), 0) && nothing_pinned();
	ao.state_dir = bad;
	ok = ok && ASSERT_EQ(main_restore_policy(&ao), MAIN_EXIT_SYSTEM) &&
	     nothing_pinned();
	ao.state_dir = state;
	ok = ok && ASSERT_EQ(main_restore_policy(&ao), 0) &&
	     ASSERT_EQ(epoch_now(), 1) && pinned_equals(file);
	/* Pinned: a second start leaves the maps as they are. */
	ok = ok && ASSERT_EQ(main_restore_policy(&ao), 0) &&
	     ASSERT_EQ(epoch_now(), 1);
	/* Even pinned but empty (epoch 0, as the agent creates them with
	 * no saved state): never overwritten at start. */
	ok = ok && ASSERT_EQ(pmap_unpin_all(ch_root), 0);
	if (ok) {
		struct pmap pm;

		ok = ASSERT_EQ(pmap_open(&pm, ch_root, true), 0);
		if (ok)
			pmap_close(&pm);
	}
	return ok && ASSERT_EQ(main_restore_policy(&ao), 0) &&
	       ASSERT_EQ(epoch_now(), 0);
}

/* main_parse() over @argv (NULL-terminated, copied: parsing edits
 * it); its exit code. */
static int parse_args(const char *const *argv, struct main_opts *o,
		      char buf[][128])
{
	char *v[8];
	int n = 0;

	for (; argv[n]; n++) {
		snprintf(buf[n], 128, "%s", argv[n]);
		v[n] = buf[n];
	}
	v[n] = NULL;
	optind = 0;	/* glibc: a full reset between parses */
	opterr = 0;
	return main_parse(n, v, o);
}

/* --workload-cgroup PATH=IDENTITY: an absolute path, a SPIFFE ID;
 * anything else is a usage error (exit 1) before the node changes. */
static bool test_workload_cgroup_option(void)
{
	static const char *const good[] = {
		"meshforge-agent", "--node", "n1", "--workload-cgroup",
		"/run/x=y/shop.slice=spiffe://mesh.local/ns/default/sa/shop",
		NULL,
	};
	static const char *const bad[][6] = {
		{ "a", "--node", "n1", "--workload-cgroup",
		  "shop.slice=spiffe://mesh.local/ns/default/sa/shop", NULL },
		{ "a", "--node", "n1", "--workload-cgroup",
		  "/shop.slice=http://mesh.local/x", NULL },
		{ "a", "--node", "n1", "--workload-cgroup", "/shop.slice", NULL },
		{ "a", "--node", "n1", "--workload-cgroup", "/shop.slice=", NULL },
		{ "a", "--node", "n1", "--workload-cgroup",
		  "=spiffe://mesh.local/ns/default/sa/shop", NULL },
	};
	char buf[8][128];
	struct main_opts o;

	if (!ASSERT_EQ(parse_args(good, &o, buf), 0) ||
	    !ASSERT_EQ(o.n_workloads, 1) ||
	    !ASSERT_STREQ(o.workloads[0].cgroup, "/run/x=y/shop.slice") ||
	    !ASSERT_STREQ(o.workloads[0].identity,
			  "spiffe://mesh.local/ns/default/sa/shop"))
		return false;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!ASSERT_EQ(parse_args(bad[i], &o, buf), MAIN_EXIT_USAGE))
			return false;
	return true;
}

/* --sockmap on|off|auto, --sockmap-cgroup an absolute path. */
static bool test_sockmap_option(void)
{
	static const char *const good[] = {
		"a", "--node", "n1", "--sockmap", "auto", "--sockmap-cgroup",
		"/run/meshforge/cgroup", NULL,
	};
	static const char *const none[] = { "a", "--node", "n1", NULL };
	static const char *const bad[][6] = {
		{ "a", "--node", "n1", "--sockmap", "yes", NULL },
		{ "a", "--node", "n1", "--sockmap-cgroup", "cgroup", NULL },
	};
	char buf[8][128];
	struct main_opts o;

	if (!ASSERT_EQ(parse_args(good, &o, buf), 0) ||
	    !ASSERT_EQ(o.sockmap, SOCKFAST_AUTO) ||
	    !ASSERT_STREQ(o.sockmap_cgroup, "/run/meshforge/cgroup"))
		return false;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!ASSERT_EQ(parse_args(bad[i], &o, buf), MAIN_EXIT_USAGE))
			return false;
	/* Off unless asked. */
	return ASSERT_EQ(parse_args(none, &o, buf), 0) &&
	       ASSERT_EQ(o.sockmap, SOCKFAST_OFF);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (ch_setup("/sys/fs/bpf/mf-test-main", "/tmp/mf-test-main-XXXXXX"))
		return 1;
	TEST_RUN(test_agent_start_restore);
	TEST_RUN(test_workload_cgroup_option);
	TEST_RUN(test_sockmap_option);
	ch_cleanup();
	TEST_MAIN_END();
}
