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
#include "harness/policy_harness.h"
#include "policy/doc.h"
#include "policy/txn.h"

static char state_dir[96];	/* <tmpdir>/state, made by the first apply */
static char state_file[128];

static const char policy[] =
	PH_MESH
	PH_NODE("mf-node-b", "10.77.0.2")
	PH_WEB_AND_API;

static const char extra_svc[] = PH_SVC("extra", "10.96.0.12", "82");

/* The options of a command run against the memory store with state dir
 * @sdir. */
static struct ctl_opts opts_in(const char *sdir)
{
	struct ctl_opts o = ch_opts(true);

	o.state_dir = sdir;
	return o;
}

/* One command line, with state dir @sdir or the test's own. */
#define RUN_IN(sdir, rc, ...)                                                  \
	ph_cmd(opts_in(sdir), (rc), __VA_ARGS__, (char *)NULL)
#define RUN(rc, ...) RUN_IN(state_dir, (rc), __VA_ARGS__)

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
	char *saved = NULL;
	bool ok = RUN(CTL_EXIT_OK, "get") && read_saved(&saved) &&
		  ASSERT_STREQ(saved, ph_out.out);

	free(saved);
	return ok;
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
	char path[128];
	struct stat sd, sf;

	return ASSERT_FALSE(fsio_exists(state_dir)) &&
	       ch_write_file("policy-in.yaml", policy, path, sizeof(path)) &&
	       RUN(CTL_EXIT_OK, "apply", "-f", path) &&
	       ASSERT_EQ(ph_epoch(), 1) &&
	       ASSERT_EQ(stat(state_dir, &sd), 0) &&
	       ASSERT_EQ(sd.st_mode & 07777, 0700) &&
	       ASSERT_EQ(stat(state_file, &sf), 0) &&
	       ASSERT_EQ(sf.st_mode & 07777, 0600) &&
	       saved_equals_get() &&
	       ASSERT_TRUE(sf.st_size > 0);
}

/* A dry run and a delete that changes nothing write nothing; a delete
 * updates the file to what `get` prints. */
static bool test_delete_updates(void)
{
	char *before = NULL, *after = NULL;
	bool ok;

	ok = read_saved(&before) && ASSERT_TRUE(strstr(before, "name: b2\n")) &&
	     RUN(CTL_EXIT_OK, "delete", "--dry-run", "Workload", "b2") &&
	     read_saved(&after) && ASSERT_STREQ(after, before) &&
	     RUN(CTL_EXIT_OK, "delete", "Workload", "b2") &&
	     ASSERT_EQ(ph_epoch(), 2) && saved_equals_get();
	free(after);
	after = NULL;
	ok = ok && read_saved(&after) &&
	     ASSERT_FALSE(strstr(after, "name: b2\n")) &&
	     ASSERT_TRUE(strstr(after, "name: b1\n"));
	free(after);
	free(before);
	return ok;
}

/* An apply refused for invalid input leaves the file byte for byte. */
static bool test_failed_apply_keeps_file(void)
{
	static const char bad[] =
		PH_WL("b9", "mf-node-b", "10.78.2.19", "8080", "nope", "x");
	char path[128], *before = NULL, *after = NULL;
	bool ok;

	ok = read_saved(&before) &&
	     ch_write_file("bad.yaml", bad, path, sizeof(path)) &&
	     RUN(CTL_EXIT_INVALID, "apply", "-f", path) &&
	     ASSERT_EQ(ph_epoch(), 2) &&
	     read_saved(&after) && ASSERT_EQ(strlen(after), strlen(before)) &&
	     ASSERT_MEMEQ(after, before, strlen(before));
	free(after);
	free(before);
	return ok;
}

/* A state dir that cannot be made: the maps are written all the same
 * (not rolled back), the exit is 2 and the message says so. */
static bool test_save_failure_reported(void)
{
	char path[128], blocker[128], bad_dir[160];

	/* A regular file where a directory would have to be: ENOTDIR even
	 * for root. */
	snprintf(bad_dir, sizeof(bad_dir), "%s/blocker/state", ch_tmpdir);
	return ch_write_file("blocker", "x", blocker, sizeof(blocker)) &&
	       ch_write_file("extra.yaml", extra_svc, path, sizeof(path)) &&
	       RUN_IN(bad_dir, CTL_EXIT_SYSTEM, "apply", "-f", path) &&
	       ph_err_has("not rolled back") &&
	       ASSERT_EQ(ph_epoch(), 3) &&
	       /* Back to what the real state dir holds. */
	       RUN(CTL_EXIT_OK, "delete", "Service", "extra") &&
	       ASSERT_EQ(ph_epoch(), 4) && saved_equals_get();
}

/* After the pins are gone (a reboot), restore rebuilds maps whose
 * decompiled state is the saved one, at epoch 1. */
static bool test_restore_after_unpin(void)
{
	char *before = NULL, *after = NULL;
	bool ok;

	ok = read_saved(&before) && ch_mem_reset() && nothing_pinned() &&
	     RUN(CTL_EXIT_OK, "restore") &&
	     ph_out_has("restored epoch 1: 6 objects") &&
	     ASSERT_EQ(ph_epoch(), 1) && saved_equals_get() &&
	     /* The file itself was not rewritten into something else. */
	     read_saved(&after) && ASSERT_STREQ(after, before);
	free(after);
	free(before);
	return ok;
}

/* Maps that hold a policy: refused (1) and untouched without --force;
 * with --force replaced by the saved state, epoch + 1. */
static bool test_restore_refuses_without_force(void)
{
	char path[128], *saved = NULL;
	bool ok;

	/* Applied without a state dir, so the maps move on (epoch 2, one
	 * more Service) while the saved state stays what it was: --force
	 * must bring the maps back to it. */
	ok = read_saved(&saved) &&
	     ch_write_file("extra.yaml", extra_svc, path, sizeof(path)) &&
	     RUN_IN(NULL, CTL_EXIT_OK, "apply", "-f", path) &&
	     ASSERT_EQ(ph_epoch(), 2) &&
	     RUN(CTL_EXIT_INVALID, "restore") &&
	     ph_err_has("already hold a policy (epoch 2)") &&
	     ph_err_has("--force") && ASSERT_EQ(ph_epoch(), 2) &&
	     RUN(CTL_EXIT_OK, "get") && ph_out_has("name: extra\n") &&
	     RUN(CTL_EXIT_OK, "restore", "--force") &&
	     ASSERT_EQ(ph_epoch(), 3) && saved_equals_get() &&
	     RUN(CTL_EXIT_OK, "get") &&
	     ASSERT_FALSE(strstr(ph_out.out, "name: extra\n")) &&
	     ASSERT_STREQ(ph_out.out, saved);
	free(saved);
	return ok;
}

/* No saved state: exit 1 with a clear message, and nothing pinned. */
static bool test_restore_missing_state(void)
{
	char missing[128];

	snprintf(missing, sizeof(missing), "%s/no-such-state", ch_tmpdir);
	return ch_mem_reset() &&
	       RUN_IN(missing, CTL_EXIT_INVALID, "restore") &&
	       ph_err_has("no saved state at") &&
	       ASSERT_STREQ(ph_out.out, "") && nothing_pinned();
}

/* An invalid saved state: exit 1 naming the file, nothing pinned. */
static bool test_restore_invalid_state(void)
{
	char dir[128], path[160];

	snprintf(dir, sizeof(dir), "%s/bad-state", ch_tmpdir);
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	return ASSERT_EQ(fsio_mkdirs(dir, 0700), 0) &&
	       ASSERT_EQ(fsio_write_atomic(path, "kind: Nope\n", 11, 0600),
			 0) &&
	       RUN_IN(dir, CTL_EXIT_INVALID, "restore") &&
	       ph_err_has("is not a valid policy") && nothing_pinned();
}

/* --help: usage on stdout, exit 0; a bad option or argument: exit 1. */
static bool test_restore_usage(void)
{
	return RUN(CTL_EXIT_OK, "restore", "--help") &&
	       ASSERT_TRUE(!strncmp(ph_out.out, "usage: mfctl", 12)) &&
	       ph_out_has("--force") &&
	       RUN(CTL_EXIT_INVALID, "restore", "--no-such-option") &&
	       RUN(CTL_EXIT_INVALID, "restore", "now");
}

/* ---- at scale ------------------------------------------------------- */

#define SCALE_SERVICES	2000
#define SCALE_PER_SVC	10
#define SCALE_NODES	50

static char gen[160];		/* the generated policy */
static const char *gen_skip;	/* why the scale cases skip */

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

/* A policy from scripts/gen-policy.py, 2,000 services and 20,000
 * workloads: `get` prints back exactly the input objects, and the agent's
 * snapshot of it holds them. */
static bool test_apply_generated_policy_round_trips(void)
{
	char out[128];
	struct model_set in, back;
	struct policy *p = NULL;
	struct rec_set rs;
	struct diag d;
	bool ok;

	if (gen_skip)
		TEST_SKIP(gen_skip);
	diag_init(&d);
	model_set_init(&in);
	model_set_init(&back);
	rec_set_init(&rs);
	ok = ch_mem_reset() && RUN(CTL_EXIT_OK, "apply", "-f", gen) &&
	     RUN(CTL_EXIT_OK, "get") &&
	     ch_write_file("get.yaml", ph_out.out, out, sizeof(out)) &&
	     ASSERT_EQ(doc_parse_file(&in, gen, &d), 0) &&
	     ASSERT_EQ(doc_parse_file(&back, out, &d), 0) &&
	     /* Mesh + nodes + services + workloads + one MTP per 10. */
	     ASSERT_EQ(in.n, 1 + SCALE_NODES + SCALE_SERVICES +
			     SCALE_SERVICES * SCALE_PER_SVC +
			     SCALE_SERVICES / 10) &&
	     ph_same_objects(&in, &back);
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
	model_set_free(&back);
	model_set_free(&in);
	diag_free(&d);
	return ok;
}

/* A transaction opened records_only (the sync's) reads the policy in
 * force as records and leaves the objects unread; the same open without
 * it reads both. */
static bool test_open_records_only(void)
{
	struct txn_opts to = { .store = ch_mem, .records_only = true };
	struct txn t;
	bool ok;

	ok = ASSERT_EQ(txn_open(&t, &to), 0) &&
	     ASSERT_GE(t.have.config.epoch, 1) &&
	     ASSERT_GE(rec_count(&t.have, REC_SERVICES), 1) &&
	     ASSERT_EQ(t.applied.n, 0);
	txn_close(&t);
	to.records_only = false;
	ok = ok && ASSERT_EQ(txn_open(&t, &to), 0) &&
	     ASSERT_GE(rec_count(&t.have, REC_SERVICES), 1) &&
	     ASSERT_GE(t.applied.n, 1);
	txn_close(&t);
	return ok;
}

/* One Service moved to another port (a new VIP:port key, so one record
 * replaces another): `get` shows the new port. */
static bool test_one_change_on_top(void)
{
	static const char change[] = PH_SVC("svc-7", "10.96.0.4", "9090");
	char path[128];

	if (gen_skip)
		TEST_SKIP(gen_skip);
	return ch_write_file("change.yaml", change, path, sizeof(path)) &&
	       RUN(CTL_EXIT_OK, "apply", "-f", path) &&
	       RUN(CTL_EXIT_OK, "get") &&
	       ph_out_has("name: svc-7\nspec:\n  vip: 10.96.0.4\n"
			  "  port: 9090\n");
}

/* @a and @b hold the same config and records. */
static bool same_records(const struct rec_set *a, const struct rec_set *b)
{
	struct rec_diff st;
	bool ok = ASSERT_MEMEQ(&a->config, &b->config, sizeof(a->config));

	rec_diff(a, b, &st);
	for (int m = 0; ok && m < REC_MAP_MAX; m++)
		ok = ASSERT_EQ(rec_count(a, m), rec_count(b, m));
	return ok && ASSERT_EQ(st.created, 0) && ASSERT_EQ(st.updated, 0) &&
	       ASSERT_EQ(st.deleted, 0);
}

/* What a fresh read of the maps gives, into @rs. */
static bool read_fresh(struct rec_set *rs)
{
	struct txn_opts to = { .store = ch_mem, .records_only = true };
	struct txn t;
	bool ok = ASSERT_EQ(txn_open(&t, &to), 0);

	*rs = t.have;
	rec_set_init(&t.have);
	txn_close(&t);
	return ok;
}

/* Two policies a kept writer puts in force in turn. */
static const char mine[] = PH_MESH PH_NODE("mf-node-b", "10.77.0.2")
	PH_WEB_AND_API;
static const char more[] = PH_MESH PH_NODE("mf-node-b", "10.77.0.2")
	PH_WEB_AND_API PH_SVC("kept", "10.96.0.13", "83");

/* One sync-like transaction: open through @kept, commit @text (or, NULL,
 * nothing), keep; with the writers' lock under @run_dir (NULL: none).
 * *@took: whether the kept records were taken as they were (the very
 * same tables), not read again. */
static bool kept_txn_in(struct txn_kept *kept, const char *run_dir,
			const char *text, bool *took)
{
	struct txn_opts to = { .store = ch_mem, .records_only = true,
			       .write = true, .run_dir = run_dir };
	const void *was = kept->recs.t[REC_SERVICES].data;
	struct txn t;
	bool ok = ASSERT_EQ(txn_open_kept(&t, &to, kept), 0);

	*took = was && t.have.t[REC_SERVICES].data == was;
	if (ok && text)
		ok = ASSERT_EQ(doc_parse_buffer(&t.next, "kept.yaml", text,
						strlen(text), &t.d), 0) &&
		     ASSERT_EQ(txn_plan(&t), 0) && ASSERT_EQ(txn_commit(&t), 0);
	if (!ok)
		diag_print(&t.d, stderr);
	txn_keep(&t, kept);
	txn_close(&t);
	return ok;
}

static bool kept_txn(struct txn_kept *kept, const char *text, bool *took)
{
	return kept_txn_in(kept, NULL, text, took);
}

/* txn_open_kept(): what a transaction kept stands for the maps while
 * mf_config is the one it left, after a commit and after a transaction
 * that wrote nothing, and is what a read of the maps gives; another
 * writer's apply in between (a new epoch) makes it read the maps, and
 * what it read is theirs. */
static bool test_open_kept(void)
{
	struct txn_kept kept = { 0 };
	struct rec_set fresh;
	char path[128];
	bool took = true, ok;

	rec_set_init(&fresh);
	ok = ch_mem_reset() && kept_txn(&kept, mine, &took) &&
	     ASSERT_FALSE(took) && read_fresh(&fresh) &&
	     same_records(&kept.recs, &fresh);
	rec_set_free(&fresh);
	ok = ok && kept_txn(&kept, more, &took) && ASSERT_TRUE(took) &&
	     read_fresh(&fresh) && same_records(&kept.recs, &fresh);
	rec_set_free(&fresh);
	/* Nothing to write: what it read is what it keeps. */
	ok = ok && kept_txn(&kept, NULL, &took) && ASSERT_TRUE(took) &&
	     read_fresh(&fresh) && same_records(&kept.recs, &fresh);
	rec_set_free(&fresh);
	/* Another writer: its apply is read, not the kept records. */
	ok = ok && ch_write_file("other.yaml", extra_svc, path, sizeof(path)) &&
	     RUN(CTL_EXIT_OK, "apply", "-f", path) &&
	     kept_txn(&kept, NULL, &took) && ASSERT_FALSE(took) &&
	     read_fresh(&fresh) && same_records(&kept.recs, &fresh) &&
	     ASSERT_EQ(rec_count(&kept.recs, REC_SERVICES),
		       rec_count(&fresh, REC_SERVICES));
	rec_set_free(&fresh);
	rec_set_free(&kept.recs);
	return ok;
}

/* A writer that took the lock and died half way through staging leaves
 * records in the other half and mf_config as it was: the writers' count
 * tells the one that kept its records, which reads the maps again, and
 * its commit deletes what was left there.  Trusting mf_config alone, it
 * would stage over them and put them in force. */
static bool test_open_kept_after_dead_writer(void)
{
	struct txn_kept kept = { 0 };
	struct rec_set fresh;
	char run_dir[256], key[256], val[1024];
	const char *step;
	bool took = true, ok;
	size_t done;
	uint32_t stage;
	int fd;

	snprintf(run_dir, sizeof(run_dir), "%s/kept-run", ch_tmpdir);
	rec_set_init(&fresh);
	ok = ch_mem_reset() && kept_txn_in(&kept, run_dir, mine, &took) &&
	     ASSERT_FALSE(took) &&
	     kept_txn_in(&kept, run_dir, more, &took) && ASSERT_TRUE(took) &&
	     ASSERT_TRUE(rec_count(&kept.recs, REC_SERVICES) > 0) &&
	     ASSERT_TRUE(rec_map_info(REC_SERVICES)->key_size <= sizeof(key)) &&
	     ASSERT_TRUE(rec_map_info(REC_SERVICES)->val_size <= sizeof(val));
	if (!ok)
		goto out;
	/* The dead writer: the lock, then a service of its own staged into
	 * the half not in force (a VIP:port no policy here has), no flip. */
	stage = kept.recs.config.active ? 0 : 1;
	memcpy(key, rec_key(&kept.recs, REC_SERVICES, 0),
	       rec_map_info(REC_SERVICES)->key_size);
	memcpy(val, rec_val(&kept.recs, REC_SERVICES, 0),
	       rec_map_info(REC_SERVICES)->val_size);
	memcpy(key, &stage, sizeof(stage));
	((struct mf_service_key *)key)->port = 4242;
	ok = ASSERT_EQ(txn_lock_dir(run_dir, &fd, NULL, &step), 0) &&
	     ASSERT_EQ(ch_mem->ops->update(ch_mem, REC_SERVICES, key, val, 1,
					   &done), 0);
	if (fd >= 0)
		close(fd);
	/* The next transaction reads the maps, and its commit leaves only
	 * its own records. */
	ok = ok && kept_txn_in(&kept, run_dir, mine, &took) &&
	     ASSERT_FALSE(took) && read_fresh(&fresh) &&
	     ASSERT_EQ(rec_other_count(&fresh), 0) &&
	     same_records(&kept.recs, &fresh);
	rec_set_free(&fresh);
	/* And the one after it trusts what it kept again. */
	ok = ok && kept_txn_in(&kept, run_dir, more, &took) &&
	     ASSERT_TRUE(took) && read_fresh(&fresh) &&
	     same_records(&kept.recs, &fresh);
	rec_set_free(&fresh);
out:
	rec_set_free(&kept.recs);
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
	TEST_RUN(test_open_records_only);
	TEST_RUN(test_failed_apply_keeps_file);
	TEST_RUN(test_save_failure_reported);
	TEST_RUN(test_restore_after_unpin);
	TEST_RUN(test_restore_refuses_without_force);
	TEST_RUN(test_restore_missing_state);
	TEST_RUN(test_restore_invalid_state);
	gen_policy();
	TEST_RUN(test_apply_generated_policy_round_trips);
	TEST_RUN(test_one_change_on_top);
	TEST_RUN(test_open_kept);
	TEST_RUN(test_open_kept_after_dead_writer);

	ch_cleanup();
	TEST_MAIN_END();
}
