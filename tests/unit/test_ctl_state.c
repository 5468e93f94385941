// SPDX-License-Identifier: Apache-2.0
/*
 * The saved state and `mfctl restore`, against real pinned maps under a pin
 * root of the test's own (/sys/fs/bpf/mf-test-state-<pid>) and a state dir
 * in a temporary directory (/tmp/mf-test-state-XXXXXX), both removed at
 * exit even when a test fails.  The tests run in order over one applied
 * policy: apply saves what `get` prints, delete updates it, a failed apply
 * leaves it alone, restore rebuilds unpinned maps from it and refuses
 * maps that hold a policy, and the agent's start-up path (agent/main.c,
 * included) restores only when nothing is pinned.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/ctl_harness.h"

#include "../../ctl/ctl.h"
#include "fsio.h"
#include "policy/mapio.h"
#include "pmap.h"

/* The agent's own start-up code, its main() renamed out of the way, so the
 * test runs exactly what the agent runs. */
#define main agent_main
#include "../../agent/main.c"
#undef main

#define API "apiVersion: meshforge.io/v1alpha1\n"

static char state_dir[96];	/* <tmpdir>/state, made by the first apply */
static char state_file[128];

static const char policy[] =
	API "kind: Mesh\nmetadata: {name: default}\nspec: {trustDomain: mesh.local}\n"
	"---\n" API "kind: Node\nmetadata: {name: mf-node-b}\nspec: {address: 10.77.0.2}\n"
	"---\n" API "kind: Service\nmetadata: {name: web}\nspec: {vip: 10.96.0.10, port: 80}\n"
	"---\n" API "kind: Service\nmetadata: {name: api}\nspec: {vip: 10.96.0.11, port: 81}\n"
	"---\n" API "kind: Workload\nmetadata: {name: b1}\n"
	"spec: {node: mf-node-b, ip: 10.78.2.11, port: 8080, service: web, "
	"identity: \"spiffe://mesh.local/ns/default/sa/web\"}\n"
	"---\n" API "kind: Workload\nmetadata: {name: b2}\n"
	"spec: {node: mf-node-b, ip: 10.78.2.12, port: 8081, service: api, "
	"identity: \"spiffe://mesh.local/ns/default/sa/api\"}\n"
	"---\n" API "kind: MeshTrafficPermission\nmetadata: {name: web-allow}\n"
	"spec:\n  targetRef: {kind: MeshService, name: web}\n  from:\n"
	"    - targetRef: {kind: SpiffeID, name: \"spiffe://mesh.local/ns/default/sa/client\"}\n"
	"      default: {action: Allow}\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default: {action: Deny}\n";

/* Runs @fn with argv @args (NULL-terminated) and state dir @sdir,
 * capturing its output. */
static bool run_in(int (*fn)(const struct ctl_opts *, int, char **),
		   const char *sdir, char **args, struct ch_run *r)
{
	struct ctl_opts o = { .config_dir = ch_tmpdir, .bpf_root = ch_root,
			      .state_dir = sdir, .run_dir = ch_run_dir };

	return ch_capture(fn, &o, args, r);
}

static bool run(int (*fn)(const struct ctl_opts *, int, char **),
		char **args, struct ch_run *r)
{
	return run_in(fn, state_dir, args, r);
}

/* The saved state file, whole, into *@text (owned by the caller). */
static bool read_saved(char **text)
{
	size_t n;

	*text = NULL;
	return ASSERT_EQ(fsio_read_all(state_file, text, &n), 0);
}

/* The saved state file equals what `get` prints now. */
static bool saved_equals_get(void)
{
	char *get[] = { "get", NULL };
	struct ch_run g = { 0 };
	char *saved = NULL;
	bool ok;

	ok = run(ctl_cmd_get, get, &g) && ASSERT_EQ(g.rc, CTL_EXIT_OK) &&
	     read_saved(&saved) && ASSERT_STREQ(saved, g.out);
	free(saved);
	ch_run_free(&g);
	return ok;
}

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

/* apply creates the state dir (0700) and the file (0600), which holds
 * exactly what `get` prints. */
static bool test_apply_saves(void)
{
	char path[128], *args[] = { "apply", "-f", path, NULL };
	struct ch_run r = { 0 };
	struct stat sd, sf;
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	ok = ASSERT_FALSE(fsio_exists(state_dir)) &&
	     ch_write_file("policy-in.yaml", policy, path, sizeof(path)) &&
	     run(ctl_cmd_apply, args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     ASSERT_EQ(epoch_now(), 1) &&
	     ASSERT_EQ(stat(state_dir, &sd), 0) &&
	     ASSERT_EQ(sd.st_mode & 07777, 0700) &&
	     ASSERT_EQ(stat(state_file, &sf), 0) &&
	     ASSERT_EQ(sf.st_mode & 07777, 0600) &&
	     saved_equals_get() &&
	     ASSERT_TRUE(sf.st_size > 0);
	ch_run_free(&r);
	return ok;
}

/* A dry run and a delete that changes nothing write nothing; a delete
 * updates the file to what `get` prints. */
static bool test_delete_updates(void)
{
	char *dry[] = { "delete", "--dry-run", "Workload", "b2", NULL };
	char *del[] = { "delete", "Workload", "b2", NULL };
	struct ch_run r1 = { 0 }, r2 = { 0 };
	char *before = NULL, *after = NULL;
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	ok = read_saved(&before) && ASSERT_TRUE(strstr(before, "name: b2\n")) &&
	     run(ctl_cmd_delete, dry, &r1) && ASSERT_EQ(r1.rc, CTL_EXIT_OK) &&
	     read_saved(&after) && ASSERT_STREQ(after, before) &&
	     run(ctl_cmd_delete, del, &r2) && ASSERT_EQ(r2.rc, CTL_EXIT_OK) &&
	     ASSERT_EQ(epoch_now(), 2) && saved_equals_get();
	free(after);
	after = NULL;
	ok = ok && read_saved(&after) &&
	     ASSERT_FALSE(strstr(after, "name: b2\n")) &&
	     ASSERT_TRUE(strstr(after, "name: b1\n"));
	free(after);
	free(before);
	ch_run_free(&r2);
	ch_run_free(&r1);
	return ok;
}

/* An apply refused for invalid input leaves the file byte for byte. */
static bool test_failed_apply_keeps_file(void)
{
	static const char bad[] =
		API "kind: Workload\nmetadata: {name: b9}\n"
		"spec: {node: mf-node-b, ip: 10.78.2.19, port: 8080, "
		"service: nope, identity: \"spiffe://mesh.local/ns/default/sa/x\"}\n";
	char path[128], *args[] = { "apply", "-f", path, NULL };
	char *before = NULL, *after = NULL;
	struct ch_run r = { 0 };
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	ok = read_saved(&before) &&
	     ch_write_file("bad.yaml", bad, path, sizeof(path)) &&
	     run(ctl_cmd_apply, args, &r) &&
	     ASSERT_EQ(r.rc, CTL_EXIT_INVALID) && ASSERT_EQ(epoch_now(), 2) &&
	     read_saved(&after) && ASSERT_EQ(strlen(after), strlen(before)) &&
	     ASSERT_MEMEQ(after, before, strlen(before));
	free(after);
	free(before);
	ch_run_free(&r);
	return ok;
}

/* A state dir that cannot be made: the maps are written all the same
 * (not rolled back), the exit is 2 and the message says so. */
static bool test_save_failure_reported(void)
{
	static const char svc[] =
		API "kind: Service\nmetadata: {name: extra}\nspec: {vip: 10.96.0.12, port: 82}\n";
	char path[128], blocker[128], bad_dir[160];
	char *args[] = { "apply", "-f", path, NULL };
	char *del[] = { "delete", "Service", "extra", NULL };
	struct ch_run r = { 0 }, r2 = { 0 };
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	/* A regular file where a directory would have to be: ENOTDIR even
	 * for root. */
	snprintf(bad_dir, sizeof(bad_dir), "%s/blocker/state", ch_tmpdir);
	ok = ch_write_file("blocker", "x", blocker, sizeof(blocker)) &&
	     ch_write_file("extra.yaml", svc, path, sizeof(path)) &&
	     run_in(ctl_cmd_apply, bad_dir, args, &r) &&
	     ASSERT_EQ(r.rc, CTL_EXIT_SYSTEM) &&
	     ASSERT_TRUE(strstr(r.err, "not rolled back")) &&
	     ASSERT_EQ(epoch_now(), 3) &&
	     /* Back to what the real state dir holds. */
	     run(ctl_cmd_delete, del, &r2) && ASSERT_EQ(r2.rc, CTL_EXIT_OK) &&
	     ASSERT_EQ(epoch_now(), 4) && saved_equals_get();
	ch_run_free(&r2);
	ch_run_free(&r);
	return ok;
}

/* After the pins are gone (a reboot), restore rebuilds maps whose
 * decompiled state is the saved one, at epoch 1. */
static bool test_restore_after_unpin(void)
{
	char *args[] = { "restore", NULL };
	char *before = NULL;
	struct ch_run r = { 0 };
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	ok = read_saved(&before) && ASSERT_EQ(pmap_unpin_all(ch_root), 0) &&
	     nothing_pinned() &&
	     run(ctl_cmd_restore, args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     ASSERT_TRUE(strstr(r.out, "restored epoch 1: 6 objects")) &&
	     ASSERT_EQ(epoch_now(), 1) && saved_equals_get();
	/* The file itself was not rewritten into something else. */
	if (ok) {
		char *after = NULL;

		ok = read_saved(&after) && ASSERT_STREQ(after, before);
		free(after);
	}
	free(before);
	ch_run_free(&r);
	return ok;
}

/* Maps that hold a policy: refused (1) and untouched without --force;
 * with --force replaced by the saved state, epoch + 1. */
static bool test_restore_refuses_without_force(void)
{
	static const char svc[] =
		API "kind: Service\nmetadata: {name: extra}\nspec: {vip: 10.96.0.12, port: 82}\n";
	char path[128], *apply[] = { "apply", "-f", path, NULL };
	char *plain[] = { "restore", NULL };
	char *force[] = { "restore", "--force", NULL };
	char *get[] = { "get", NULL };
	char *saved = NULL;
	struct ch_run a = { 0 }, r1 = { 0 }, r2 = { 0 }, g = { 0 };
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	/* Applied without a state dir, so the maps move on (epoch 2, one
	 * more Service) while the saved state stays what it was: --force
	 * must bring the maps back to it. */
	ok = read_saved(&saved) &&
	     ch_write_file("extra.yaml", svc, path, sizeof(path)) &&
	     run_in(ctl_cmd_apply, NULL, apply, &a) &&
	     ASSERT_EQ(a.rc, CTL_EXIT_OK) && ASSERT_EQ(epoch_now(), 2) &&
	     run(ctl_cmd_restore, plain, &r1) &&
	     ASSERT_EQ(r1.rc, CTL_EXIT_INVALID) &&
	     ASSERT_TRUE(strstr(r1.err, "already hold a policy (epoch 2)")) &&
	     ASSERT_TRUE(strstr(r1.err, "--force")) &&
	     ASSERT_EQ(epoch_now(), 2) &&
	     run(ctl_cmd_get, get, &g) &&
	     ASSERT_TRUE(strstr(g.out, "name: extra\n")) &&
	     run(ctl_cmd_restore, force, &r2) && ASSERT_EQ(r2.rc, CTL_EXIT_OK) &&
	     ASSERT_EQ(epoch_now(), 3) && saved_equals_get();
	ch_run_free(&g);
	ok = ok && run(ctl_cmd_get, get, &g) &&
	     ASSERT_FALSE(strstr(g.out, "name: extra\n")) &&
	     ASSERT_STREQ(g.out, saved);
	free(saved);
	ch_run_free(&g);
	ch_run_free(&r2);
	ch_run_free(&r1);
	ch_run_free(&a);
	return ok;
}

/* No saved state: exit 1 with a clear message, and nothing pinned. */
static bool test_restore_missing_state(void)
{
	char *args[] = { "restore", NULL };
	char missing[128];
	struct ch_run r = { 0 };
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	snprintf(missing, sizeof(missing), "%s/no-such-state", ch_tmpdir);
	ok = ASSERT_EQ(pmap_unpin_all(ch_root), 0) &&
	     run_in(ctl_cmd_restore, missing, args, &r) &&
	     ASSERT_EQ(r.rc, CTL_EXIT_INVALID) &&
	     ASSERT_TRUE(strstr(r.err, "no saved state at")) &&
	     ASSERT_STREQ(r.out, "") && nothing_pinned();
	ch_run_free(&r);
	return ok;
}

/* An invalid saved state: exit 1 naming the file, nothing pinned. */
static bool test_restore_invalid_state(void)
{
	char dir[128], path[160], *args[] = { "restore", NULL };
	struct ch_run r = { 0 };
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	snprintf(dir, sizeof(dir), "%s/bad-state", ch_tmpdir);
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	ok = ASSERT_EQ(fsio_mkdirs(dir, 0700), 0) &&
	     ASSERT_EQ(fsio_write_atomic(path, "kind: Nope\n", 11, 0600), 0) &&
	     run_in(ctl_cmd_restore, dir, args, &r) &&
	     ASSERT_EQ(r.rc, CTL_EXIT_INVALID) &&
	     ASSERT_TRUE(strstr(r.err, "is not a valid policy")) &&
	     nothing_pinned();
	ch_run_free(&r);
	return ok;
}

/*
 * The agent's start-up step (main_restore_policy() of agent/main.c):
 * nothing pinned and no saved state: nothing done, nothing pinned (the
 * agent then creates empty maps); nothing pinned and a saved state: the
 * maps come back as saved; maps pinned: left alone, even when they differ
 * from the saved state; an invalid saved state stops the agent.
 */
static bool test_agent_start_restore(void)
{
	struct main_opts ao;
	char missing[128], bad[128];
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	memset(&ao, 0, sizeof(ao));
	ao.bpf_root = ch_root;
	ao.run_dir = ch_run_dir;
	snprintf(missing, sizeof(missing), "%s/no-such-state", ch_tmpdir);
	snprintf(bad, sizeof(bad), "%s/bad-state", ch_tmpdir);

	ok = ASSERT_EQ(pmap_unpin_all(ch_root), 0);
	ao.state_dir = missing;
	ok = ok && ASSERT_EQ(main_restore_policy(&ao), 0) && nothing_pinned();
	ao.state_dir = bad;
	ok = ok && ASSERT_EQ(main_restore_policy(&ao), MAIN_EXIT_SYSTEM) &&
	     nothing_pinned();
	ao.state_dir = state_dir;
	ok = ok && ASSERT_EQ(main_restore_policy(&ao), 0) &&
	     ASSERT_EQ(epoch_now(), 1) && saved_equals_get();
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
	ok = ok && ASSERT_EQ(main_restore_policy(&ao), 0) &&
	     ASSERT_EQ(epoch_now(), 0);
	return ok;
}

/* --help: usage on stdout, exit 0; a bad option or argument: exit 1. */
static bool test_restore_usage(void)
{
	char *help[] = { "restore", "--help", NULL };
	char *bad[] = { "restore", "--no-such-option", NULL };
	char *extra[] = { "restore", "now", NULL };
	struct ch_run r = { 0 }, r2 = { 0 }, r3 = { 0 };
	bool ok;

	ok = run(ctl_cmd_restore, help, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     ASSERT_TRUE(!strncmp(r.out, "usage: mfctl", 12)) &&
	     ASSERT_TRUE(strstr(r.out, "--force")) &&
	     run(ctl_cmd_restore, bad, &r2) &&
	     ASSERT_EQ(r2.rc, CTL_EXIT_INVALID) &&
	     run(ctl_cmd_restore, extra, &r3) &&
	     ASSERT_EQ(r3.rc, CTL_EXIT_INVALID);
	ch_run_free(&r3);
	ch_run_free(&r2);
	ch_run_free(&r);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (ch_setup("/sys/fs/bpf/mf-test-state", "/tmp/mf-test-state-XXXXXX"))
		return 1;
	snprintf(state_dir, sizeof(state_dir), "%s/state", ch_tmpdir);
	snprintf(state_file, sizeof(state_file), "%s/policy.yaml", state_dir);

	TEST_RUN(test_restore_usage);
	TEST_RUN(test_apply_saves);
	TEST_RUN(test_delete_updates);
	TEST_RUN(test_failed_apply_keeps_file);
	TEST_RUN(test_save_failure_reported);
	TEST_RUN(test_restore_after_unpin);
	TEST_RUN(test_restore_refuses_without_force);
	TEST_RUN(test_restore_missing_state);
	TEST_RUN(test_restore_invalid_state);
	TEST_RUN(test_agent_start_restore);

	ch_cleanup();
	TEST_MAIN_END();
}
