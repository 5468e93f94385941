// SPDX-License-Identifier: Apache-2.0
/*
 * The transaction's commit and save, and txn_restore(), through the
 * commands that use them (apply, delete, restore), against the memory
 * store and a state dir in a temporary directory (removed at exit even
 * when a test fails).  The tests run in order over one applied policy:
 * apply saves what `get` prints, delete updates it, a failed apply leaves
 * it alone, a save that fails leaves the new policy in force and says so,
 * restore rebuilds empty maps from it and refuses maps that hold a
 * policy.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/ctl_harness.h"

#include "../../agent/policy.h"
#include "policy/doc.h"

#include "../../ctl/ctl.h"
#include "fsio.h"

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

/* Runs the command line @args with state dir @sdir against the memory
 * store, capturing its output. */
static bool run_in(const char *sdir, char **args, struct ch_run *r)
{
	struct ctl_opts o = ch_opts(true);

	o.state_dir = sdir;
	return ch_capture(&o, args, r);
}

static bool run(char **args, struct ch_run *r)
{
	return run_in(state_dir, args, r);
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

	ok = run(get, &g) && ASSERT_EQ(g.rc, CTL_EXIT_OK) &&
	     read_saved(&saved) && ASSERT_STREQ(saved, g.out);
	free(saved);
	ch_run_free(&g);
	return ok;
}

static __u64 epoch_now(void)
{
	struct rec_set rs;
	__u64 e = (__u64)-1;

	if (ch_read(true, &rs))
		e = rs.config.epoch;
	rec_set_free(&rs);
	return e;
}

/* The memory store as a node after a reboot holds it: nothing. */
static bool nothing_pinned(void)
{
	struct rec_set rs;
	bool ok = ch_read(true, &rs) && ASSERT_EQ(rs.config.epoch, 0);

	for (int m = 0; ok && m < REC_MAP_MAX; m++)
		ok = ASSERT_EQ(rec_count(&rs, m), 0);
	rec_set_free(&rs);
	return ok;
}

/* apply creates the state dir (0700) and the file (0600), which holds
 * exactly what `get` prints. */
static bool test_apply_saves(void)
{
	char path[128], *args[] = { "apply", "-f", path, NULL };
	struct ch_run r = { 0 };
	struct stat sd, sf;
	bool ok;

	ok = ASSERT_FALSE(fsio_exists(state_dir)) &&
	     ch_write_file("policy-in.yaml", policy, path, sizeof(path)) &&
	     run(args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
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

	ok = read_saved(&before) && ASSERT_TRUE(strstr(before, "name: b2\n")) &&
	     run(dry, &r1) && ASSERT_EQ(r1.rc, CTL_EXIT_OK) &&
	     read_saved(&after) && ASSERT_STREQ(after, before) &&
	     run(del, &r2) && ASSERT_EQ(r2.rc, CTL_EXIT_OK) &&
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

	ok = read_saved(&before) &&
	     ch_write_file("bad.yaml", bad, path, sizeof(path)) &&
	     run(args, &r) &&
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

	/* A regular file where a directory would have to be: ENOTDIR even
	 * for root. */
	snprintf(bad_dir, sizeof(bad_dir), "%s/blocker/state", ch_tmpdir);
	ok = ch_write_file("blocker", "x", blocker, sizeof(blocker)) &&
	     ch_write_file("extra.yaml", svc, path, sizeof(path)) &&
	     run_in(bad_dir, args, &r) &&
	     ASSERT_EQ(r.rc, CTL_EXIT_SYSTEM) &&
	     ASSERT_TRUE(strstr(r.err, "not rolled back")) &&
	     ASSERT_EQ(epoch_now(), 3) &&
	     /* Back to what the real state dir holds. */
	     run(del, &r2) && ASSERT_EQ(r2.rc, CTL_EXIT_OK) &&
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

	ok = read_saved(&before) && ch_mem_reset() &&
	     nothing_pinned() &&
	     run(args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
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

	/* Applied without a state dir, so the maps move on (epoch 2, one
	 * more Service) while the saved state stays what it was: --force
	 * must bring the maps back to it. */
	ok = read_saved(&saved) &&
	     ch_write_file("extra.yaml", svc, path, sizeof(path)) &&
	     run_in(NULL, apply, &a) &&
	     ASSERT_EQ(a.rc, CTL_EXIT_OK) && ASSERT_EQ(epoch_now(), 2) &&
	     run(plain, &r1) &&
	     ASSERT_EQ(r1.rc, CTL_EXIT_INVALID) &&
	     ASSERT_TRUE(strstr(r1.err, "already hold a policy (epoch 2)")) &&
	     ASSERT_TRUE(strstr(r1.err, "--force")) &&
	     ASSERT_EQ(epoch_now(), 2) &&
	     run(get, &g) &&
	     ASSERT_TRUE(strstr(g.out, "name: extra\n")) &&
	     run(force, &r2) && ASSERT_EQ(r2.rc, CTL_EXIT_OK) &&
	     ASSERT_EQ(epoch_now(), 3) && saved_equals_get();
	ch_run_free(&g);
	ok = ok && run(get, &g) &&
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

	snprintf(missing, sizeof(missing), "%s/no-such-state", ch_tmpdir);
	ok = ch_mem_reset() &&
	     run_in(missing, args, &r) &&
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

	snprintf(dir, sizeof(dir), "%s/bad-state", ch_tmpdir);
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	ok = ASSERT_EQ(fsio_mkdirs(dir, 0700), 0) &&
	     ASSERT_EQ(fsio_write_atomic(path, "kind: Nope\n", 11, 0600), 0) &&
	     run_in(dir, args, &r) &&
	     ASSERT_EQ(r.rc, CTL_EXIT_INVALID) &&
	     ASSERT_TRUE(strstr(r.err, "is not a valid policy")) &&
	     nothing_pinned();
	ch_run_free(&r);
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

	ok = run(help, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     ASSERT_TRUE(!strncmp(r.out, "usage: mfctl", 12)) &&
	     ASSERT_TRUE(strstr(r.out, "--force")) &&
	     run(bad, &r2) &&
	     ASSERT_EQ(r2.rc, CTL_EXIT_INVALID) &&
	     run(extra, &r3) &&
	     ASSERT_EQ(r3.rc, CTL_EXIT_INVALID);
	ch_run_free(&r3);
	ch_run_free(&r2);
	ch_run_free(&r);
	return ok;
}

/* ---- at scale ------------------------------------------------------- */

#define SCALE_SERVICES	2000
#define SCALE_PER_SVC	10
#define SCALE_NODES	50

static char gen[160];		/* the generated policy */
static const char *gen_skip;	/* why the scale cases skip */

/* Runs `get` with its standard output going to @path. */
static int get_to(const char *path)
{
	char *argv[] = { "get", NULL };
	struct ch_run r;
	int rc = -1;

	if (run(argv, &r) &&
	    !fsio_write_atomic(path, r.out, strlen(r.out), 0644))
		rc = r.rc;
	ch_run_free(&r);
	return rc;
}

/* Makes the scale policy with scripts/gen-policy.py, or says why not. */
static void gen_policy(void)
{
	char cmd[320];

	snprintf(gen, sizeof(gen), "%s/gen.yaml", ch_tmpdir);
	if (access("scripts/gen-policy.py", X_OK)) {
		gen_skip = "run from the source tree: needs "
			   "scripts/gen-policy.py";
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "python3 scripts/gen-policy.py --services %d "
		 "--workloads-per-service %d --nodes %d -o '%s'",
		 SCALE_SERVICES, SCALE_PER_SVC, SCALE_NODES, gen);
	if (system(cmd))
		gen_skip = "scripts/gen-policy.py failed (python3?)";
}

/* True when @a and @b hold the same objects (locations aside). */
static bool same_objects(const struct model_set *a, const struct model_set *b)
{
	const struct model_obj **sb;
	bool ok;

	if (!ASSERT_EQ(a->n, b->n))
		return false;
	sb = calloc(b->n ? b->n : 1, sizeof(*sb));
	if (!ASSERT_TRUE(sb))
		return false;
	model_set_sorted(b, sb);
	ok = true;
	for (size_t i = 0; i < a->n && ok; i++) {
		const struct model_obj *o = &a->objs[i];
		const struct model_obj *p = model_sorted_find(sb, b->n, o->kind,
							      o->name);

		ok = ASSERT_TRUE(p) && ASSERT_TRUE(model_obj_equal(o, p));
		if (!ok)
			fprintf(stderr, "object %s %s differs\n",
				model_kind_name(o->kind), o->name);
	}
	free(sb);
	return ok;
}

/* A policy from scripts/gen-policy.py, 2,000 services and 20,000
 * workloads: `get` prints back exactly the input objects, and the agent's
 * snapshot of it holds them. */
static bool test_apply_generated_policy_round_trips(void)
{
	char out[128], *args[] = { "apply", "-f", gen, NULL };
	struct model_set in, back;
	struct policy *p = NULL;
	struct ch_run r = { 0 };
	struct rec_set rs;
	struct diag d;
	bool ok;

	if (gen_skip)
		TEST_SKIP(gen_skip);
	diag_init(&d);
	model_set_init(&in);
	model_set_init(&back);
	rec_set_init(&rs);
	snprintf(out, sizeof(out), "%s/get.yaml", ch_tmpdir);
	ok = ch_mem_reset() && run(args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     ASSERT_EQ(get_to(out), CTL_EXIT_OK) &&
	     ASSERT_EQ(doc_parse_file(&in, gen, &d), 0) &&
	     ASSERT_EQ(doc_parse_file(&back, out, &d), 0) &&
	     /* Mesh + nodes + services + workloads + one MTP per 10. */
	     ASSERT_EQ(in.n, 1 + SCALE_NODES + SCALE_SERVICES +
			     SCALE_SERVICES * SCALE_PER_SVC +
			     SCALE_SERVICES / 10) &&
	     same_objects(&in, &back);
	if (!ok)
		diag_print(&d, stderr);

	/* The agent's view: every record, in one snapshot. */
	ok = ok && ch_read(true, &rs) &&
	     ASSERT_EQ(policy_from_rec_set(&p, &rs), 0) &&
	     ASSERT_EQ(policy_epoch(p), 1) &&
	     ASSERT_STREQ(policy_trust_domain(p), "mesh.local") &&
	     ASSERT_EQ(policy_service_count(p), SCALE_SERVICES);
	if (p)
		policy_put(p);
	rec_set_free(&rs);
	ch_run_free(&r);
	model_set_free(&back);
	model_set_free(&in);
	diag_free(&d);
	return ok;
}

/* One Service moved to another port (a new VIP:port key, so one record
 * replaces another): `get` shows the new port. */
static bool test_one_change_on_top(void)
{
	static const char change[] =
		"apiVersion: meshforge.io/v1alpha1\nkind: Service\n"
		"metadata: {name: svc-7}\nspec: {vip: 10.96.0.4, port: 9090}\n";
	char path[128], out[128], *y = NULL;
	char *args[] = { "apply", "-f", path, NULL };
	struct ch_run r = { 0 };
	size_t n;
	bool ok;

	if (gen_skip)
		TEST_SKIP(gen_skip);
	snprintf(out, sizeof(out), "%s/get2.yaml", ch_tmpdir);
	ok = ch_write_file("change.yaml", change, path, sizeof(path)) &&
	     run(args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     ASSERT_EQ(get_to(out), CTL_EXIT_OK) &&
	     ASSERT_EQ(fsio_read_all(out, &y, &n), 0) &&
	     ASSERT_TRUE(strstr(y, "name: svc-7\nspec:\n  vip: 10.96.0.4\n"
				   "  port: 9090\n"));
	if (!ok && y)
		fprintf(stderr, "%.400s\n", strstr(y, "svc-7") ?
			strstr(y, "svc-7") : y);
	free(y);
	ch_run_free(&r);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (ch_setup("/sys/fs/bpf/mf-test-txn", "/tmp/mf-test-txn-XXXXXX"))
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
	gen_policy();
	TEST_RUN(test_apply_generated_policy_round_trips);
	TEST_RUN(test_one_change_on_top);

	ch_cleanup();
	TEST_MAIN_END();
}
