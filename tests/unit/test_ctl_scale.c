// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl apply` at scale: a policy from scripts/gen-policy.py with 2,000
 * services and 20,000 workloads applies to a pin root of the test's own
 * (/sys/fs/bpf/mf-test-scale-<pid>, removed at the end) within a time
 * bound, `get` prints back exactly the input objects, the agent loads the
 * snapshot, and a one-service change on top applies and shows in `get`.
 *
 * Inputs over a MiB are parsed in pieces on several threads (ctl/ytree.c):
 * objects and problems must point at the same lines as a whole-input parse.
 *
 * With `--load-root DIR`, instead times policy_load() on the maps already
 * pinned under DIR and prints "policy_load_ms=<best of 5>"; that is how
 * scripts/bench-policy.sh measures the agent's snapshot load.
 */
#include <fcntl.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "harness/test.h"

#include "../../agent/policy.h"
#include "../../ctl/ctl.h"
#include "policy/doc.h"
#include "fsio.h"
#include "pmap.h"

#define BPF_FS_MAGIC_ 0xcafe4a11
#define SCALE_SERVICES	2000
#define SCALE_PER_SVC	10
#define SCALE_NODES	50
/* Generous for a loaded 2-CPU CI machine; it takes ~0.4 s idle. */
#define SCALE_APPLY_MAX_MS 5000

static char root[64];
static char tmpdir[64];
static char gen[128];
static const char *skip_reason;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int apply(const char *path)
{
	char state[128], run[128];
	struct ctl_opts o = { .config_dir = tmpdir, .bpf_root = root,
			      .state_dir = state, .run_dir = run };
	char *argv[] = { "apply", "-f", (char *)path, NULL };

	snprintf(state, sizeof(state), "%s/state", tmpdir);
	snprintf(run, sizeof(run), "%s/run", tmpdir);
	return ctl_cmd_apply(&o, 3, argv);
}

/* Runs `get` with its standard output going to @path. */
static int get_to(const char *path)
{
	struct ctl_opts o = { .config_dir = tmpdir, .bpf_root = root };
	char *argv[] = { "get", NULL };
	int saved, fd, rc;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (saved < 0 || fd < 0)
		return -1;
	dup2(fd, STDOUT_FILENO);
	close(fd);
	rc = ctl_cmd_get(&o, 1, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	return rc;
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

static bool test_apply_generated_policy_round_trips(void)
{
	char out[128];
	struct model_set in, back;
	struct diag d;
	struct pmap pm;
	struct policy *p = NULL;
	double t0, ms;
	bool ok;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	diag_init(&d);
	model_set_init(&in);
	model_set_init(&back);
	snprintf(out, sizeof(out), "%s/get.yaml", tmpdir);

	t0 = now_ms();
	ok = ASSERT_EQ(apply(gen), CTL_EXIT_OK);
	ms = now_ms() - t0;
	fprintf(stderr, "apply of %d services, %d workloads: %.0f ms\n",
		SCALE_SERVICES, SCALE_SERVICES * SCALE_PER_SVC, ms);
	ok = ok && ASSERT_TRUE(ms < SCALE_APPLY_MAX_MS) &&
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
	ok = ok && ASSERT_EQ(pmap_open(&pm, root, false), 0);
	if (ok) {
		ok = ASSERT_EQ(policy_load(&p, &pm), 0) &&
		     ASSERT_EQ(policy_epoch(p), 1) &&
		     ASSERT_STREQ(policy_trust_domain(p), "mesh.local");
		if (p)
			policy_put(p);
		pmap_close(&pm);
	}
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
	size_t n;
	bool ok;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	snprintf(path, sizeof(path), "%s/change.yaml", tmpdir);
	snprintf(out, sizeof(out), "%s/get2.yaml", tmpdir);
	ok = ASSERT_EQ(fsio_write_atomic(path, change, strlen(change), 0644),
		       0) &&
	     ASSERT_EQ(apply(path), CTL_EXIT_OK) &&
	     ASSERT_EQ(get_to(out), CTL_EXIT_OK) &&
	     ASSERT_EQ(fsio_read_all(out, &y, &n), 0) &&
	     ASSERT_TRUE(strstr(y, "name: svc-7\nspec:\n  vip: 10.96.0.4\n"
				   "  port: 9090\n"));
	if (!ok && y)
		fprintf(stderr, "%.400s\n", strstr(y, "svc-7") ?
			strstr(y, "svc-7") : y);
	free(y);
	return ok;
}

/*
 * @n Service documents of MANY_LINES lines each into a malloc'ed buffer
 * the caller frees; metadata.name of service i is on line MANY_LINES*i+4.
 */
static char *many_services(size_t n, size_t *len)
{
	char *buf = malloc(n * 160 + 1), *p = buf;

	if (!buf)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "---\napiVersion: meshforge.io/v1alpha1\n"
			     "kind: Service\nmetadata: {name: s%zu}\n"
			     "spec: {vip: 10.%zu.%zu.%zu, port: 80}\n"
			     "# padding so the input passes a MiB sooner\n",
			     i, 96 + i / 65536, i / 256 % 256, i % 256);
	*len = (size_t)(p - buf);
	return buf;
}

/* 6 lines per document in many_services(). */
#define MANY_LINES 6

static bool test_parse_in_pieces_keeps_locations(void)
{
	const size_t n = 20000;	/* ~2.4 MiB */
	struct model_set set;
	struct diag d;
	size_t len;
	char *buf = many_services(n, &len), *bad;
	bool ok;

	if (!ASSERT_TRUE(buf) || !ASSERT_TRUE(len > 2u << 20)) {
		free(buf);
		return false;
	}
	diag_init(&d);
	model_set_init(&set);
	ok = ASSERT_EQ(doc_parse_buffer(&set, "big.yaml", buf, len, &d), 0) &&
	     ASSERT_EQ(set.n, n);
	/* Every object where the text has it, pieces or not. */
	for (size_t i = 0; i < set.n && ok; i++) {
		char name[32];

		snprintf(name, sizeof(name), "s%zu", i);
		ok = ASSERT_STREQ(set.objs[i].name, name) &&
		     ASSERT_EQ(set.objs[i].name_loc.line,
			       MANY_LINES * i + 4);
	}
	model_set_free(&set);

	/* A syntax error late in the input: reported at its line, and no
	 * object added. */
	bad = strstr(buf + len - 400, "spec: {vip");
	if (ok && ASSERT_TRUE(bad)) {
		size_t line = 1;

		bad[5] = '[';	/* "spec: [vip: ..., port: 80}" */
		for (const char *q = buf; q < bad; q++)
			line += *q == '\n';
		model_set_init(&set);
		ok = ASSERT_EQ(doc_parse_buffer(&set, "big.yaml", buf, len, &d),
			       -EINVAL) &&
		     ASSERT_EQ(diag_count(&d), 1) &&
		     ASSERT_EQ(d.pos[0].loc.line, line + 0) &&
		     ASSERT_EQ(set.n, 0);
		if (!ok)
			diag_print(&d, stderr);
		model_set_free(&set);
	}
	diag_free(&d);
	free(buf);
	return ok;
}

/* `--load-root DIR`: the best of five policy_load() runs, in ms. */
static int load_only(const char *dir)
{
	double best = -1;
	struct pmap pm;
	int err;

	err = pmap_open(&pm, dir, false);
	if (err) {
		fprintf(stderr, "cannot open %s: %s\n", dir, strerror(-err));
		return 2;
	}
	for (int i = 0; i < 5; i++) {
		struct policy *p = NULL;
		double t0 = now_ms(), ms;

		err = policy_load(&p, &pm);
		ms = now_ms() - t0;
		if (err) {
			fprintf(stderr, "policy_load: %s\n", strerror(-err));
			pmap_close(&pm);
			return 2;
		}
		policy_put(p);
		if (best < 0 || ms < best)
			best = ms;
	}
	pmap_close(&pm);
	printf("policy_load_ms=%.1f\n", best);
	return 0;
}

int main(int argc, char **argv)
{
	struct statfs sfs;
	char cmd[256];

	if (argc == 3 && !strcmp(argv[1], "--load-root"))
		return load_only(argv[2]);

	TEST_MAIN_BEGIN();
	snprintf(root, sizeof(root), "/sys/fs/bpf/mf-test-scale-%d",
		 (int)getpid());
	strcpy(tmpdir, "/tmp/mf-test-ctl-scale.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(gen, sizeof(gen), "%s/gen.yaml", tmpdir);
	if (geteuid() != 0)
		skip_reason = "needs root for bpffs";
	else if (statfs("/sys/fs/bpf", &sfs) || sfs.f_type != BPF_FS_MAGIC_)
		skip_reason = "bpffs not mounted at /sys/fs/bpf";
	else if (access("scripts/gen-policy.py", X_OK))
		skip_reason = "run from the source tree: needs "
			      "scripts/gen-policy.py";
	if (!skip_reason) {
		snprintf(cmd, sizeof(cmd),
			 "python3 scripts/gen-policy.py --services %d "
			 "--workloads-per-service %d --nodes %d -o '%s'",
			 SCALE_SERVICES, SCALE_PER_SVC, SCALE_NODES, gen);
		if (system(cmd))
			skip_reason = "scripts/gen-policy.py failed (python3?)";
	}
	pmap_unpin_all(root);

	TEST_RUN(test_apply_generated_policy_round_trips);
	TEST_RUN(test_one_change_on_top);
	TEST_RUN(test_parse_in_pieces_keeps_locations);

	pmap_unpin_all(root);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	TEST_MAIN_END();
}
