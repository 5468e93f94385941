// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl apply` and `mfctl get` against the memory store (no root, no
 * bpffs): records land byte for byte as compiled, the epoch goes up by one per
 * apply, stale records are deleted, invalid input writes nothing, and
 * `get | apply -f -` changes nothing but the epoch.
 */
#include "harness/test.h"
#include "harness/ctl_harness.h"

#include "harness/records_harness.h"

#define API "apiVersion: meshforge.io/v1alpha1\n"

static const char policy[] =
	API "kind: Mesh\nmetadata: {name: default}\nspec: {trustDomain: mesh.local}\n"
	"---\n" API "kind: Node\nmetadata: {name: mf-node-a}\nspec: {address: 10.77.0.1}\n"
	"---\n" API "kind: Node\nmetadata: {name: mf-node-b}\nspec: {address: 10.77.0.2}\n"
	"---\n" API "kind: Service\nmetadata: {name: web}\nspec: {vip: 10.96.0.10, port: 80}\n"
	"---\n" API "kind: Workload\nmetadata: {name: b1}\n"
	"spec: {node: mf-node-b, ip: 10.78.2.11, port: 8080, service: web, "
	"identity: \"spiffe://mesh.local/ns/default/sa/web\"}\n"
	"---\n" API "kind: Workload\nmetadata: {name: b2}\n"
	"spec: {node: mf-node-b, ip: 10.78.2.12, port: 8080, service: web, "
	"identity: \"spiffe://mesh.local/ns/default/sa/web2\"}\n"
	"---\n" API "kind: MeshTrafficPermission\nmetadata: {name: web-allow}\n"
	"spec:\n  targetRef: {kind: MeshService, name: web}\n  from:\n"
	"    - targetRef: {kind: SpiffeID, name: \"spiffe://mesh.local/ns/default/sa/client\"}\n"
	"      default: {action: Allow}\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default: {action: Deny}\n";

static int apply(const char *path, bool dry_run)
{
	struct ctl_opts o = ch_opts(true);
	char *argv[] = { "apply", "-f", (char *)path,
			 dry_run ? "--dry-run" : NULL, NULL };
	struct ch_run r;
	int rc = -1;

	if (ch_capture(&o, argv, &r))
		rc = r.rc;
	ch_run_free(&r);
	return rc;
}

/* Runs `get [kind]` (against the pin root @bpf_root when not NULL, else
 * the memory store) with its standard output going to @path. */
static int get_to(const char *path, const char *kind, const char *bpf_root)
{
	struct ctl_opts o = ch_opts(!bpf_root);
	char *argv[] = { "get", (char *)kind, NULL };
	struct ch_run r;
	int rc = -1;

	if (bpf_root)
		o.bpf_root = bpf_root;
	if (ch_capture(&o, argv, &r) &&
	    !fsio_write_atomic(path, r.out, strlen(r.out), 0644))
		rc = r.rc;
	ch_run_free(&r);
	return rc;
}

/* The records in the store now. */
static bool read_maps(struct rec_set *rs)
{
	return ch_read(true, rs);
}

static bool test_apply_writes_compiled_records(void)
{
	struct rec_set got, want;
	char path[128];
	bool ok;

	rec_set_init(&got);
	rec_set_init(&want);
	ok = ch_write_file("policy.yaml", policy, path, sizeof(path)) &&
	     ASSERT_EQ(apply(path, false), CTL_EXIT_OK) &&
	     read_maps(&got) && rh_compile(policy, NULL, &want) &&
	     ASSERT_EQ(got.config.epoch, 1) &&
	     ASSERT_EQ(rec_count(&got, REC_ENDPOINTS), 2) &&
	     ASSERT_EQ(rec_count(&got, REC_AUTHZ), 2) &&
	     ASSERT_TRUE(rec_set_equal(&got, &want));
	rec_set_free(&want);
	rec_set_free(&got);
	return ok;
}

/* Upsert by name: a moved workload leaves no stale endpoint, its old
 * identity goes, ids of what stays do not change, the epoch goes up. */
static bool test_apply_upserts_and_deletes_stale(void)
{
	static const char update[] =
		API "kind: Workload\nmetadata: {name: b2}\n"
		"spec: {node: mf-node-a, ip: 10.78.1.12, port: 8080, service: web, "
		"identity: \"spiffe://mesh.local/ns/default/sa/web\"}\n";
	struct rec_set before, after;
	struct mf_endpoint_key k = { .ip = { 10, 78, 2, 12 } };
	char path[128];
	bool ok;

	rec_set_init(&before);
	rec_set_init(&after);
	ok = read_maps(&before) &&
	     ch_write_file("update.yaml", update, path, sizeof(path)) &&
	     ASSERT_EQ(apply(path, false), CTL_EXIT_OK) && read_maps(&after) &&
	     ASSERT_EQ(after.config.epoch, before.config.epoch + 1) &&
	     ASSERT_EQ(rec_find(&after, REC_ENDPOINTS, &k), -1) &&
	     ASSERT_EQ(rec_count(&after, REC_ENDPOINTS), 2) &&
	     ASSERT_EQ(rec_count(&after, REC_IDENTITIES), 1) &&
	     /* Service, nodes and rules are as they were. */
	     ASSERT_EQ(rec_count(&after, REC_SERVICES), 1) &&
	     ASSERT_MEMEQ(rec_val(&after, REC_SERVICES, 0),
			  rec_val(&before, REC_SERVICES, 0),
			  sizeof(struct mf_service)) &&
	     ASSERT_EQ(rec_count(&after, REC_AUTHZ), 2);
	k.ip[2] = 1;
	ok = ok && ASSERT_GE(rec_find(&after, REC_ENDPOINTS, &k), 0);
	rec_set_free(&after);
	rec_set_free(&before);
	return ok;
}

/* Invalid input and a dry run write nothing, the epoch included. */
static bool test_invalid_and_dry_run_write_nothing(void)
{
	static const char bad[] =
		API "kind: Service\nmetadata: {name: web}\nspec: {vip: 10.96.0.10, port: 0}\n";
	static const char bad_ref[] =
		API "kind: Workload\nmetadata: {name: b9}\n"
		"spec: {node: nowhere, ip: 10.78.2.19, port: 8080, service: web, "
		"identity: \"spiffe://mesh.local/ns/default/sa/web\"}\n";
	static const char good[] =
		API "kind: Service\nmetadata: {name: api}\nspec: {vip: 10.96.0.11, port: 80}\n";
	struct rec_set before, after;
	char p1[128], p2[128], p3[128];
	bool ok;

	rec_set_init(&before);
	rec_set_init(&after);
	ok = read_maps(&before) && ch_write_file("bad.yaml", bad, p1, sizeof(p1)) &&
	     ch_write_file("badref.yaml", bad_ref, p2, sizeof(p2)) &&
	     ch_write_file("good.yaml", good, p3, sizeof(p3)) &&
	     ASSERT_EQ(apply(p1, false), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(apply(p2, false), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(apply(p3, true), CTL_EXIT_OK) &&
	     ASSERT_EQ(apply("/nonexistent/x.yaml", false), CTL_EXIT_SYSTEM) &&
	     read_maps(&after) &&
	     ASSERT_EQ(after.config.epoch, before.config.epoch) &&
	     ASSERT_TRUE(rec_set_equal(&before, &after));
	rec_set_free(&after);
	rec_set_free(&before);
	return ok;
}

/* `get | apply -f -`: same records, epoch + 1, and get prints the same
 * text again. */
static bool test_get_apply_round_trip(void)
{
	struct rec_set before, after;
	char out1[128], out2[128], *y1 = NULL, *y2 = NULL;
	size_t n1, n2;
	bool ok;

	snprintf(out1, sizeof(out1), "%s/get1.yaml", ch_tmpdir);
	snprintf(out2, sizeof(out2), "%s/get2.yaml", ch_tmpdir);
	rec_set_init(&before);
	rec_set_init(&after);
	ok = read_maps(&before) &&
	     ASSERT_EQ(get_to(out1, NULL, NULL), CTL_EXIT_OK) &&
	     ASSERT_EQ(apply(out1, false), CTL_EXIT_OK) && read_maps(&after) &&
	     ASSERT_EQ(after.config.epoch, before.config.epoch + 1) &&
	     ASSERT_TRUE(rec_set_equal(&before, &after)) &&
	     ASSERT_EQ(get_to(out2, NULL, NULL), CTL_EXIT_OK) &&
	     ASSERT_EQ(fsio_read_all(out1, &y1, &n1), 0) &&
	     ASSERT_EQ(fsio_read_all(out2, &y2, &n2), 0) &&
	     ASSERT_EQ(n1, n2) && ASSERT_STREQ(y1, y2) &&
	     ASSERT_TRUE(strstr(y1, "kind: MeshTrafficPermission\n"));
	free(y1);
	free(y2);
	y1 = NULL;
	/* One kind only. */
	ok = ok && ASSERT_EQ(get_to(out1, "nodes", NULL), CTL_EXIT_OK) &&
	     ASSERT_EQ(fsio_read_all(out1, &y1, &n1), 0) &&
	     ASSERT_TRUE(strstr(y1, "kind: Node\n")) &&
	     ASSERT_FALSE(strstr(y1, "kind: Service\n")) &&
	     ASSERT_EQ(get_to(out1, "Gadget", NULL), CTL_EXIT_INVALID);
	free(y1);
	rec_set_free(&after);
	rec_set_free(&before);
	return ok;
}

/* Nothing pinned: get prints an empty policy and succeeds. */
static bool test_get_nothing_applied(void)
{
	char out[128], missing[96], *y = NULL;
	size_t n = 1;
	bool ok;

	snprintf(out, sizeof(out), "%s/empty.yaml", ch_tmpdir);
	snprintf(missing, sizeof(missing), "%s-missing", ch_root);
	ok = ASSERT_EQ(get_to(out, NULL, missing), CTL_EXIT_OK) &&
	     ASSERT_EQ(fsio_read_all(out, &y, &n), 0) && ASSERT_EQ(n, 0) &&
	     ASSERT_FALSE(fsio_exists(missing));
	free(y);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (ch_setup("/sys/fs/bpf/mf-test-ctl", "/tmp/mf-test-ctl-apply.XXXXXX"))
		return 1;
	TEST_RUN(test_apply_writes_compiled_records);
	TEST_RUN(test_apply_upserts_and_deletes_stale);
	TEST_RUN(test_invalid_and_dry_run_write_nothing);
	TEST_RUN(test_get_apply_round_trip);
	TEST_RUN(test_get_nothing_applied);
	ch_cleanup();
	TEST_MAIN_END();
}
