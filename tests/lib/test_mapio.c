// SPDX-License-Identifier: Apache-2.0
/*
 * Two halves and one flip (lib/policy/mapio.h) against real pinned maps
 * (the kernel's own atomicity is what is tested) under a
 * pin root of the test's own (/sys/fs/bpf/mf-test-stage-<pid>, removed at
 * exit even when a case fails), with the writers' lock in a run dir of its
 * own under the temp dir:
 *   - every apply flips mf_config.active, leaves the other half empty and
 *     bumps the epoch by one;
 *   - an apply the kernel refuses part way (a map full) changes no byte of
 *     any map; neither does one that compile refuses;
 *   - the agent's reader (policy_load(), which reads through
 *     mapio_read()) looping while A and B are applied in turn builds
 *     snapshots of exactly A or exactly B, never a mix;
 *   - a second writer waits for the lock under the run dir.
 * The cases run in order; the last one replaces a pinned map.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "harness/test.h"
#include "harness/ctl_harness.h"

#include "harness/records_harness.h"
#include "../../ctl/ctl.h"
#include "policy/mapio.h"
#include "policy/txn.h"
#include "pmap.h"

#define API "apiVersion: meshforge.io/v1alpha1\n"
#define STAGE_WORKLOADS	20		/* per policy A and B */
#define STAGE_FLIPS	50		/* applies while the reader reads */
#define STAGE_SMALL_MAP	(STAGE_WORKLOADS + 4)	/* b: mf_endpoints size */
#define STAGE_TIMEOUT_MS 10000

/* The records policies A and B compile to, as the maps hold them (case
 * a fills them, case d compares against them). */
static struct rec_set exp_a, exp_b;

/* ---- policies ----------------------------------------------------------- */

/*
 * Policy @variant (0: A, 1: B) with @n workloads, into a malloc'ed string
 * the caller frees.  A and B name the same objects with other specs, so
 * applying one over the other replaces every object: the applied policy is
 * exactly the last one applied.  The identities are the same in both, so
 * their ids (kept from apply to apply, new ones counted up) are too, and
 * A compiles to the same records every time.
 */
static char *policy_text(int variant, int n)
{
	size_t cap = 4096 + (size_t)n * 400;
	char *buf = malloc(cap), *p = buf;

	if (!buf)
		return NULL;
	p += sprintf(p, API "kind: Mesh\nmetadata: {name: default}\n"
		     "spec: {trustDomain: mesh.local}\n"
		     "---\n" API "kind: Node\nmetadata: {name: mf-node-a}\n"
		     "spec: {address: 10.77.%d.1}\n"
		     "---\n" API "kind: Node\nmetadata: {name: mf-node-b}\n"
		     "spec: {address: 10.77.%d.2}\n"
		     "---\n" API "kind: Service\nmetadata: {name: web}\n"
		     "spec: {vip: 10.96.0.10, port: %d}\n"
		     "---\n" API "kind: MeshTrafficPermission\n"
		     "metadata: {name: web-allow}\n"
		     "spec:\n  targetRef: {kind: MeshService, name: web}\n"
		     "  from:\n    - targetRef: {kind: SpiffeID, name: "
		     "\"spiffe://mesh.local/ns/default/sa/client%d\"}\n"
		     "      default: {action: Allow}\n",
		     variant, variant, variant ? 8080 : 80, variant);
	for (int i = 0; i < n; i++)
		p += sprintf(p, "---\n" API "kind: Workload\n"
			     "metadata: {name: w%d}\n"
			     "spec: {node: mf-node-%c, ip: 10.78.%d.%d, "
			     "port: %d, service: web, identity: "
			     "\"spiffe://mesh.local/ns/default/sa/w%d\"}\n",
			     i, i % 2 ? 'b' : 'a', variant + 1, i + 10,
			     8000 + variant, i);
	return buf;
}

/* @n Node objects n0..n<n-1>, into a malloc'ed string. */
static char *nodes_text(int n)
{
	char *buf = malloc((size_t)n * 128 + 1), *p = buf;

	if (!buf)
		return NULL;
	*p = '\0';
	for (int i = 0; i < n; i++)
		p += sprintf(p, "---\n" API "kind: Node\nmetadata: {name: n%d}\n"
			     "spec: {address: 10.79.%d.%d}\n", i, i / 250,
			     i % 250 + 1);
	return buf;
}

/* ---- running mfctl ------------------------------------------------------ */

static void stage_opts(struct ctl_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->config_dir = ch_tmpdir;
	o->bpf_root = ch_root;
	o->run_dir = ch_run_dir;
}

/* Writes @text as @name in the temp dir and applies it; its output in
 * @r (freed by the caller). */
static bool apply_text(const char *name, const char *text, struct ch_run *r)
{
	char path[128], *args[] = { "apply", "-f", path, NULL };
	struct ctl_opts o;

	stage_opts(&o);
	memset(r, 0, sizeof(*r));
	return ASSERT_TRUE(text) && ch_write_file(name, text, path, sizeof(path)) &&
	       ch_capture(&o, args, r);
}

/* Applies policy @variant with @n workloads; true when it applied. */
static bool apply_policy(int variant, int n)
{
	char *text = policy_text(variant, n);
	struct ch_run r;
	bool ok;

	ok = apply_text(variant ? "b.yaml" : "a.yaml", text, &r) &&
	     ASSERT_EQ(r.rc, CTL_EXIT_OK);
	if (!ok && r.err)
		fprintf(stderr, "apply said:\n%s", r.err);
	ch_run_free(&r);
	free(text);
	return ok;
}

/* The policy in force, through mapio_read(). */
static bool read_maps(struct rec_set *rs)
{
	return ch_read(false, rs);
}

/* ---- raw map content ------------------------------------------------------ */

/* Every entry of one map, both halves, as key+value records sorted by
 * key, read with plain bpf syscalls (not through mapio.c). */
struct raw_map {
	uint8_t *data;
	size_t n, rsz;
};

struct raw {
	struct mf_config config;
	struct raw_map m[REC_MAP_MAX];
};

static void raw_free(struct raw *r)
{
	for (int m = 0; m < REC_MAP_MAX; m++)
		free(r->m[m].data);
	memset(r, 0, sizeof(*r));
}

static int raw_cmp(const void *a, const void *b, void *rsz)
{
	return memcmp(a, b, *(const size_t *)rsz);
}

static bool raw_take(struct raw *r)
{
	uint8_t key[512], next[512];
	struct pmap pm;
	__u32 zero = 0;
	bool ok;

	memset(r, 0, sizeof(*r));
	if (!ASSERT_EQ(pmap_open(&pm, ch_root, false), 0))
		return false;
	ok = ASSERT_EQ(bpf_map_lookup_elem(pm.config_fd, &zero, &r->config),
		       0);
	for (int m = 0; ok && m < REC_MAP_MAX; m++) {
		const struct rec_map_info *mi = rec_map_info(m);
		struct raw_map *rm = &r->m[m];
		int fd = pm.fds[m];
		size_t cap = 0;
		void *prev = NULL;

		rm->rsz = mi->key_size + mi->val_size;
		while (ok && !bpf_map_get_next_key(fd, prev, next)) {
			memcpy(key, next, mi->key_size);
			prev = key;
			if (rm->n == cap) {
				uint8_t *p;

				cap = cap ? cap * 2 : 64;
				p = realloc(rm->data, cap * rm->rsz);
				if (!ASSERT_TRUE(p)) {
					ok = false;
					break;
				}
				rm->data = p;
			}
			memcpy(rm->data + rm->n * rm->rsz, key, mi->key_size);
			ok = ASSERT_EQ(bpf_map_lookup_elem(fd, key,
							   rm->data + rm->n * rm->rsz +
							   mi->key_size), 0);
			rm->n++;
		}
		if (rm->n > 1)
			qsort_r(rm->data, rm->n, rm->rsz, raw_cmp, &rm->rsz);
	}
	pmap_close(&pm);
	if (!ok)
		raw_free(r);
	return ok;
}

/* Every map byte for byte the same, mf_config included. */
static bool raw_equal(const struct raw *a, const struct raw *b)
{
	bool ok = ASSERT_MEMEQ(&a->config, &b->config, sizeof(a->config));

	for (int m = 0; ok && m < REC_MAP_MAX; m++) {
		ok = ASSERT_EQ(a->m[m].n, b->m[m].n) &&
		     ASSERT_MEMEQ(a->m[m].data, b->m[m].data,
				  a->m[m].n * a->m[m].rsz);
		if (!ok)
			fprintf(stderr, "  (map %s)\n", rec_map_info(m)->name);
	}
	return ok;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- a. every apply flips ------------------------------------------------ */

/* Applies A, B, A: each time the active half flips, the other half is
 * empty, the epoch goes up by one, and the half in force holds exactly
 * what compile makes of the policy. */
static bool test_each_apply_flips(void)
{
	struct rec_set before, after, want;
	struct pmap pm;
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	rec_set_init(&exp_a);
	rec_set_init(&exp_b);
	/* Empty maps first (epoch 0, half 0), to read "before" from. */
	ok = ASSERT_EQ(pmap_open(&pm, ch_root, true), 0);
	if (ok)
		pmap_close(&pm);
	for (int i = 0; ok && i < 3; i++) {
		int variant = i % 2;
		char *text = policy_text(variant, STAGE_WORKLOADS);

		ok = read_maps(&before) &&
		     rh_compile(text, &before, &want) &&
		     apply_policy(variant, STAGE_WORKLOADS) &&
		     read_maps(&after) &&
		     ASSERT_EQ(after.config.epoch, before.config.epoch + 1) &&
		     ASSERT_EQ(after.config.active, !before.config.active) &&
		     ASSERT_EQ(rec_other_count(&after), 0) &&
		     ASSERT_EQ(rec_count(&after, REC_ENDPOINTS),
			       STAGE_WORKLOADS) &&
		     ASSERT_TRUE(rec_set_equal(&after, &want));
		if (ok && i < 2) {
			/* Keep what the maps hold for case d. */
			rec_set_free(variant ? &exp_b : &exp_a);
			*(variant ? &exp_b : &exp_a) = after;
			rec_set_init(&after);
		}
		free(text);
		rec_set_free(&want);
		rec_set_free(&after);
		rec_set_free(&before);
	}
	return ok;
}

/* ---- d. a reader never sees a mix --------------------------------------- */

struct reader {
	const struct pmap *pm;
	int stop;			/* atomic */
	unsigned long passes;		/* atomic: loads tried */
	size_t seen_a, seen_b, mixed, retried;
	char why[128];			/* the first failure */
};

/* True when snapshot @p is policy @variant whole: its Service on the
 * variant's port, and every workload of the variant, none of the other. */
static bool reader_is(struct policy *p, int variant)
{
	const uint8_t vip[4] = { 10, 96, 0, 10 };
	uint32_t v;

	memcpy(&v, vip, 4);
	if (!policy_service_by_vip(p, v, variant ? 8080 : 80) ||
	    policy_service_by_vip(p, v, variant ? 80 : 8080))
		return false;
	for (int i = 0; i < STAGE_WORKLOADS; i++) {
		uint8_t mine[4] = { 10, 78, variant + 1, i + 10 };
		uint8_t theirs[4] = { 10, 78, 2 - variant, i + 10 };
		uint32_t a, b;

		memcpy(&a, mine, 4);
		memcpy(&b, theirs, 4);
		if (!policy_endpoint_by_ip(p, a) || policy_endpoint_by_ip(p, b))
			return false;
	}
	return true;
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;

	while (!__atomic_load_n(&rd->stop, __ATOMIC_ACQUIRE)) {
		struct policy *p = NULL;
		int err = policy_load(&p, rd->pm);

		if (err == -EAGAIN) {
			rd->retried++;
		} else if (err) {
			rd->mixed++;
			snprintf(rd->why, sizeof(rd->why), "policy_load: %s",
				 strerror(-err));
		} else if (reader_is(p, 0)) {
			rd->seen_a++;
		} else if (reader_is(p, 1)) {
			rd->seen_b++;
		} else {
			rd->mixed++;
			snprintf(rd->why, sizeof(rd->why), "epoch %llu: "
				 "neither A nor B",
				 (unsigned long long)policy_epoch(p));
		}
		policy_put(p);
		__atomic_add_fetch(&rd->passes, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Waits (up to 2 s) until the reader has begun and finished a load since
 * now: each policy then gets read whole at least once, however slow the
 * reader is next to the writer (a sanitizer, a busy machine). */
static void reader_catch_up(struct reader *rd)
{
	unsigned long from = __atomic_load_n(&rd->passes, __ATOMIC_ACQUIRE);

	for (int i = 0; i < 2000; i++) {
		if (__atomic_load_n(&rd->passes, __ATOMIC_ACQUIRE) >= from + 2)
			return;
		usleep(1000);
	}
}

static bool test_reader_never_sees_a_mix(void)
{
	struct reader rd;
	struct pmap pm;
	pthread_t th;
	bool ok = true;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	if (!ASSERT_TRUE(rec_count(&exp_a, REC_ENDPOINTS) > 0) ||
	    !ASSERT_TRUE(rec_count(&exp_b, REC_ENDPOINTS) > 0) ||
	    !ASSERT_EQ(pmap_open(&pm, ch_root, false), 0))
		return false;
	memset(&rd, 0, sizeof(rd));
	rd.pm = &pm;
	if (!ASSERT_EQ(pthread_create(&th, NULL, reader_main, &rd), 0)) {
		pmap_close(&pm);
		return false;
	}
	/* Case a left A in force: B, A, B, ...; the reader reads during
	 * each flip and after it. */
	for (int i = 0; ok && i < STAGE_FLIPS; i++) {
		ok = apply_policy(i % 2 ? 0 : 1, STAGE_WORKLOADS);
		reader_catch_up(&rd);
	}
	__atomic_store_n(&rd.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	pmap_close(&pm);
	fprintf(stderr, "reader: %zu snapshots of A, %zu of B, %zu retried, "
		"%zu neither\n", rd.seen_a, rd.seen_b, rd.retried, rd.mixed);
	if (rd.mixed)
		fprintf(stderr, "first: %s\n", rd.why);
	/* Snapshots of both, during the flips, and none of anything else. */
	return ok && ASSERT_EQ(rd.mixed, 0) && ASSERT_TRUE(rd.seen_a > 0) &&
	       ASSERT_TRUE(rd.seen_b > 0);
}

/* ---- e. writers serialize on the run dir's lock -------------------------- */

/* True once /proc/locks shows process @pid waiting ("->") for an flock. */
static bool flock_waiter(pid_t pid)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/locks", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "-> FLOCK");
		int who;

		found = p && sscanf(p, "-> FLOCK %*s %*s %d", &who) == 1 &&
			who == pid;
	}
	fclose(f);
	return found;
}

/* The child's exit code once it exited within @ms, else -1. */
static int wait_exit(pid_t pid, double ms)
{
	double end = now_ms() + ms;
	int status;

	do {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		if (r < 0)
			return -1;
		usleep(10 * 1000);
	} while (now_ms() < end);
	return -1;
}

static bool test_second_writer_waits_for_lock(void)
{
	char lock[128], path[128], *args[] = { "apply", "-f", path, NULL };
	char *text = policy_text(0, STAGE_WORKLOADS);
	struct rec_set rs;
	struct stat sd, sf;
	__u64 epoch;
	double end;
	bool ok, waiting = false;
	pid_t pid;
	int fd, rc;

	if (ch_skip_reason) {
		free(text);
		TEST_SKIP(ch_skip_reason);
	}
	snprintf(lock, sizeof(lock), "%s/" TXN_LOCK_FILE, ch_run_dir);
	/* The lock lives in the run dir, not in the pin root. */
	ok = ASSERT_EQ(stat(ch_run_dir, &sd), 0) &&
	     ASSERT_EQ(sd.st_mode & 07777, 0755) &&
	     ASSERT_EQ(stat(lock, &sf), 0) &&
	     ASSERT_EQ(sf.st_mode & 07777, 0600) &&
	     ASSERT_TRUE(ch_write_file("a.yaml", text, path, sizeof(path))) &&
	     read_maps(&rs);
	free(text);
	if (!ok)
		return false;
	epoch = rs.config.epoch;
	rec_set_free(&rs);

	fd = open(lock, O_RDWR | O_CLOEXEC);
	if (!ASSERT_GE(fd, 0) || !ASSERT_EQ(flock(fd, LOCK_EX), 0))
		return false;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		struct ctl_opts o;
		int null = open("/dev/null", O_WRONLY);

		/* Our copy of the locked file would keep the lock held for
		 * as long as the child lives: flock() locks belong to the
		 * open file, which fork() shares. */
		close(fd);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		stage_opts(&o);
		_exit(ctl_run(&o, 3, args));
	}
	if (!ASSERT_GE(pid, 0)) {
		close(fd);
		return false;
	}
	/* The child blocks in flock() on our lock: the kernel lists it as
	 * a waiter.  Until we let go, the maps stay as they are. */
	end = now_ms() + STAGE_TIMEOUT_MS;
	while (!(waiting = flock_waiter(pid)) && now_ms() < end &&
	       waitpid(pid, NULL, WNOHANG) == 0)
		usleep(10 * 1000);
	ok = ASSERT_TRUE(waiting) && read_maps(&rs) &&
	     ASSERT_EQ(rs.config.epoch, epoch) &&
	     ASSERT_EQ(waitpid(pid, NULL, WNOHANG), 0);
	rec_set_free(&rs);
	close(fd);		/* lets it go */
	rc = wait_exit(pid, STAGE_TIMEOUT_MS);
	if (rc < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	ok = ok && ASSERT_EQ(rc, CTL_EXIT_OK) && read_maps(&rs) &&
	     ASSERT_EQ(rs.config.epoch, epoch + 1);
	rec_set_free(&rs);
	return ok;
}

/* ---- c. over capacity at compile ----------------------------------------- */

static bool test_compile_capacity_keeps_policy(void)
{
	char *text = nodes_text(MF_MAX_NODES + 1);
	struct raw before, after;
	struct ch_run r = { 0 };
	bool ok;

	if (ch_skip_reason) {
		free(text);
		TEST_SKIP(ch_skip_reason);
	}
	ok = raw_take(&before) && apply_text("nodes.yaml", text, &r) &&
	     ASSERT_EQ(r.rc, CTL_EXIT_SYSTEM) &&
	     ASSERT_TRUE(strstr(r.err, "mf_nodes: ")) &&
	     ASSERT_TRUE(strstr(r.err, "records do not fit: the map holds "
				"1024")) &&
	     ASSERT_TRUE(strstr(r.err, "nothing applied")) &&
	     raw_take(&after) && raw_equal(&before, &after);
	if (!ok && r.err)
		fprintf(stderr, "apply said:\n%s", r.err);
	ch_run_free(&r);
	raw_free(&after);
	raw_free(&before);
	free(text);
	return ok;
}

/* ---- b. refused by the kernel part way --------------------------------- */

/*
 * Swaps the pinned mf_endpoints for a map of the same type and layout
 * holding the same entries, but room for STAGE_SMALL_MAP only: the next
 * apply with more workloads stages the maps written before mf_endpoints
 * (identities, nodes, authz, services), then fails on it.
 */
static bool endpoints_shrink(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	struct mf_endpoint_key key, next;
	struct mf_endpoint val;
	char path[128];
	void *prev = NULL;
	int old, fd;
	bool ok;

	snprintf(path, sizeof(path), "%s/mf_endpoints", ch_root);
	old = bpf_obj_get(path);
	if (!ASSERT_GE(old, 0))
		return false;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "mf_endpoints", sizeof(key),
			    sizeof(val), STAGE_SMALL_MAP, &opts);
	ok = ASSERT_GE(fd, 0);
	while (ok && !bpf_map_get_next_key(old, prev, &next)) {
		key = next;
		prev = &key;
		ok = ASSERT_EQ(bpf_map_lookup_elem(old, &key, &val), 0) &&
		     ASSERT_EQ(bpf_map_update_elem(fd, &key, &val, BPF_NOEXIST),
			       0);
	}
	ok = ok && ASSERT_EQ(unlink(path), 0) &&
	     ASSERT_EQ(bpf_obj_pin(fd, path), 0);
	if (fd >= 0)
		close(fd);
	close(old);
	return ok;
}

static bool test_kernel_refusal_changes_nothing(void)
{
	char *text = policy_text(0, STAGE_SMALL_MAP + 6);
	struct raw before, after;
	struct ch_run r = { 0 };
	bool ok;

	if (ch_skip_reason) {
		free(text);
		TEST_SKIP(ch_skip_reason);
	}
	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));
	ok = endpoints_shrink() && raw_take(&before) &&
	     /* Something is in force, so the undo has maps to restore. */
	     ASSERT_EQ(before.m[REC_ENDPOINTS].n, STAGE_WORKLOADS) &&
	     apply_text("big.yaml", text, &r) &&
	     ASSERT_EQ(r.rc, CTL_EXIT_SYSTEM) &&
	     ASSERT_TRUE(strstr(r.err, "mf_endpoints: map is full (24 "
				"entries)")) &&
	     ASSERT_TRUE(strstr(r.err, "nothing applied")) &&
	     raw_take(&after) && raw_equal(&before, &after) &&
	     ASSERT_EQ(after.config.epoch, before.config.epoch);
	if (r.err && (!ok || getenv("MF_TEST_VERBOSE")))
		fprintf(stderr, "apply said:\n%s", r.err);
	ch_run_free(&r);
	raw_free(&after);
	raw_free(&before);
	free(text);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (ch_setup("/sys/fs/bpf/mf-test-stage", "/tmp/mf-test-stage.XXXXXX"))
		return 1;

	TEST_RUN(test_each_apply_flips);
	TEST_RUN(test_reader_never_sees_a_mix);
	TEST_RUN(test_second_writer_waits_for_lock);
	TEST_RUN(test_compile_capacity_keeps_policy);
	TEST_RUN(test_kernel_refusal_changes_nothing);

	rec_set_free(&exp_b);
	rec_set_free(&exp_a);
	ch_cleanup();
	TEST_MAIN_END();
}
