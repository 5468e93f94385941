// SPDX-License-Identifier: Apache-2.0
/*
 * The mesh in the store without a store (tests/integration/test_store_etcd.sh
 * runs a real etcd): --store URLs as mstore_open() takes or refuses them,
 * and mesh_parse() over a listing as etcd would return it: the objects
 * parsed, the guard's revision found, keys that are not policy left alone,
 * and a key whose value says another kind or name refused, naming the key;
 * nodes' registrations, each speaking for its own node only; and a
 * listing large enough to be parsed on several threads, whose objects,
 * their order and what is said of the bad values are a single thread's.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fsio.h"
#include "harness/test.h"
#include "harness/pki_harness.h"
#include "harness/policy_harness.h"
#include "../../ctl/mesh.h"
#include "../../ctl/mstore.h"

static bool url_ok(const char *url, const struct mstore_access *tls,
		   const char *prefix)
{
	char err[MSTORE_ERR_MAX] = "";
	struct mstore *s = NULL;
	bool ok;

	ok = ASSERT_EQ(mstore_open(&s, url, tls, err), 0) &&
	     ASSERT_STREQ(s->prefix, prefix) && ASSERT_STREQ(s->where, url);
	mstore_close(s);
	return ok;
}

static bool url_refused(const char *url, const struct mstore_access *tls,
			const char *why)
{
	char err[MSTORE_ERR_MAX] = "";
	struct mstore *s = NULL;

	return ASSERT_EQ(mstore_open(&s, url, tls, err), -EINVAL) &&
	       ASSERT_TRUE(s == NULL) && ASSERT_TRUE(strstr(err, why) != NULL);
}

static bool test_store_urls(void)
{
	const struct mstore_access tls = { .ca = "ca.crt", .cert = "c.crt",
					   .key = "c.key" };
	const struct mstore_access half = { .ca = "ca.crt", .cert = "c.crt" };
	const struct mstore_access ca = { .ca = "ca.crt" };

	return url_ok("etcd://127.0.0.1:2379", NULL, "/meshforge") &&
	       url_ok("etcd://a:1,b:2,c:3/mesh/prod/", NULL, "/mesh/prod") &&
	       url_ok("etcds://a:2379", &tls, "/meshforge") &&
	       url_ok("etcds://a:2379", &ca, "/meshforge") &&
	       url_refused("http://a:2379", NULL, "want etcd://") &&
	       url_refused("etcd://", NULL, "no endpoint") &&
	       url_refused("etcd://a", NULL, "HOST:PORT") &&
	       url_refused("etcd://a:1,,b:2", NULL, "HOST:PORT") &&
	       url_refused("etcds://a:2379", NULL, "--store-ca") &&
	       url_refused("etcds://a:2379", &half, "go together") &&
	       url_refused("etcd://a:2379", &tls, "etcds://");
}

/* The store's user and password file: both or neither, a password on the
 * file's first line, a user name of 1 to 255 bytes. */
static bool test_store_auth(void)
{
	char dir[64], pw[96], empty[96], none[96];
	struct mstore_access user = { .user = "op" };
	struct mstore_access file = { .password_file = pw };
	struct mstore_access ok = { .user = "op", .password_file = pw };
	struct mstore_access blank = { .user = "", .password_file = pw };
	struct mstore_access nopw = { .user = "op", .password_file = empty };
	struct mstore_access gone = { .user = "op", .password_file = none };
	bool r;

	if (!ASSERT_TRUE(ph_make_dir(dir, sizeof(dir), "mesh")))
		return false;
	snprintf(pw, sizeof(pw), "%s/pw", dir);
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	snprintf(none, sizeof(none), "%s/none", dir);
	r = ASSERT_EQ(fsio_write_atomic(pw, "s3cret\nignored\n", 15, 0600), 0) &&
	    ASSERT_EQ(fsio_write_atomic(empty, "\nsecond line\n", 13, 0600), 0) &&
	    url_ok("etcd://a:2379", &ok, "/meshforge") &&
	    url_refused("etcd://a:2379", &user, "go together") &&
	    url_refused("etcd://a:2379", &file, "go together") &&
	    url_refused("etcd://a:2379", &blank, "1 to 255 bytes") &&
	    url_refused("etcd://a:2379", &nopw, "no password on its first line") &&
	    url_refused("etcd://a:2379", &gone, "No such file");
	unlink(pw);
	unlink(empty);
	rmdir(dir);
	return r;
}

/* A listing of keys and values, as mstore's list returns it. */
struct listing {
	struct mstore_kv kvs[8];	/* room for the longest listing */
	struct mstore_list l;
};

static void listing_add(struct listing *x, const char *key, const char *val,
			int64_t rev)
{
	struct mstore_kv *kv = &x->kvs[x->l.n++];

	kv->key = (char *)key;
	kv->val = (char *)val;
	kv->len = val ? strlen(val) : 0;
	kv->mod_rev = rev;
	x->l.kvs = x->kvs;
}

static bool test_parse_listing(void)
{
	struct listing x = { 0 };
	struct model_set set;
	int64_t guard = -1;
	struct diag d;
	bool ok;

	model_set_init(&set);
	diag_init(&d);
	listing_add(&x, "/m/nodes/mf-node-a", "not policy", 3);
	listing_add(&x, "/m/policy", "2 objects", 7);
	listing_add(&x, "/m/policy/Mesh/default", PH_MESH, 5);
	listing_add(&x, "/m/policy/Service/web",
		    PH_SVC("web", "10.96.0.10", "80"), 7);
	ok = ASSERT_EQ(mesh_parse("/m", &x.l, &set, &d, &guard, NULL), 0) &&
	     ASSERT_EQ(guard, 7) && ASSERT_EQ(set.n, 2) &&
	     ASSERT_TRUE(model_set_find(&set, MODEL_SERVICE, "web") != NULL) &&
	     ASSERT_TRUE(model_set_find(&set, MODEL_MESH, "default") != NULL) &&
	     ASSERT_EQ(d.n, 0);
	model_set_free(&set);
	diag_free(&d);
	return ok;
}

/* A key must hold the object it names: writers find objects by key. */
static bool test_parse_refuses_mismatch(void)
{
	struct listing x = { 0 };
	struct model_set set;
	int64_t guard = -1;
	struct diag d;
	bool ok;

	model_set_init(&set);
	diag_init(&d);
	listing_add(&x, "/m/policy/Service/api",
		    PH_SVC("web", "10.96.0.10", "80"), 4);
	listing_add(&x, "/m/policy/Gadget/x", PH_MESH, 5);
	listing_add(&x, "/m/policy/Service/b/c",
		    PH_SVC("c", "10.96.0.11", "80"), 6);
	ok = ASSERT_EQ(mesh_parse("/m", &x.l, &set, &d, &guard, NULL), -EINVAL) &&
	     ASSERT_EQ(guard, 0) && ASSERT_EQ(d.n, 3) &&
	     ASSERT_TRUE(strstr(d.msgs[0], "/m/policy/Service/api") &&
			 strstr(d.msgs[0], "not one Service named \"api\"")) &&
	     ASSERT_TRUE(strstr(d.msgs[1], "/m/policy/Gadget/x") &&
			 strstr(d.msgs[1], "not a policy key")) &&
	     ASSERT_TRUE(strstr(d.msgs[2], "/m/policy/Service/b/c") != NULL);
	model_set_free(&set);
	diag_free(&d);
	return ok;
}

/* A value that is not a valid object: its problems at key:line:col. */
static bool test_parse_invalid_value(void)
{
	struct listing x = { 0 };
	struct model_set set;
	int64_t guard;
	struct diag d;
	bool ok;

	model_set_init(&set);
	diag_init(&d);
	listing_add(&x, "/m/policy/Service/web",
		    PH_SVC("web", "10.96.0.10", "99999"), 4);
	ok = ASSERT_EQ(mesh_parse("/m", &x.l, &set, &d, &guard, NULL), -EINVAL) &&
	     ASSERT_EQ(set.n, 0) && ASSERT_GE(d.n, 1) &&
	     ASSERT_TRUE(strstr(d.msgs[0], "/m/policy/Service/web:") ==
			 d.msgs[0]);
	model_set_free(&set);
	diag_free(&d);
	return ok;
}

/* Registrations: a node's Workloads on itself are taken; one that claims
 * another node, a Node of another name, another kind, a name the policy
 * holds or a Service it lacks are left out and said, without failing the
 * policy; without @regd they are not read at all. */
static bool test_parse_registrations(void)
{
	static const char pol[] = PH_SVC("web", "10.96.0.10", "80");
	struct listing x = { 0 };
	struct model_set set, plain;
	struct diag d, regd;
	int64_t guard;
	bool ok;

	model_set_init(&set);
	model_set_init(&plain);
	diag_init(&d);
	diag_init(&regd);
	listing_add(&x, "/m/nodes/mf-node-b/Workload/b2",
		    PH_WL("b2", "mf-node-b", "10.78.2.12", "8080", "web",
			  "web"), 8);
	listing_add(&x, "/m/nodes/mf-node-b/Workload/evil",
		    PH_WL("evil", "mf-node-a", "10.78.1.66", "8080", "web",
			  "web"), 9);
	listing_add(&x, "/m/nodes/mf-node-b/Node/mf-node-a",
		    PH_NODE("mf-node-a", "10.77.0.1"), 9);
	listing_add(&x, "/m/nodes/mf-node-b/Service/web", pol, 9);
	listing_add(&x, "/m/nodes/mf-node-b/Workload/b3",
		    PH_WL("b3", "mf-node-b", "10.78.2.13", "8080", "api",
			  "web"), 9);
	listing_add(&x, "/m/policy/Service/web", pol, 7);
	ok = ASSERT_EQ(mesh_parse("/m", &x.l, &set, &d, &guard, &regd), 0) &&
	     ASSERT_EQ(d.n, 0) && ASSERT_EQ(set.n, 2) &&
	     ASSERT_TRUE(model_set_find(&set, MODEL_WORKLOAD, "b2") != NULL) &&
	     ASSERT_EQ(regd.n, 4) &&
	     ASSERT_TRUE(strstr(regd.msgs[0], "Workload/evil") &&
			 strstr(regd.msgs[0], "claims node mf-node-a")) &&
	     ASSERT_TRUE(strstr(regd.msgs[1], "cannot register Node "
					      "mf-node-a") != NULL) &&
	     ASSERT_TRUE(strstr(regd.msgs[2], "its Workloads only") != NULL) &&
	     ASSERT_TRUE(strstr(regd.msgs[3], "Service api is not") != NULL) &&
	     ASSERT_EQ(mesh_parse("/m", &x.l, &plain, &d, &guard, NULL), 0) &&
	     ASSERT_EQ(plain.n, 1);
	model_set_free(&plain);
	model_set_free(&set);
	diag_free(&regd);
	diag_free(&d);
	return ok;
}

/*
 * 12,000 Services, keys in the store's order: enough values for parts on
 * threads (mesh.c: MESH_PART_MIN) where the machine has two CPUs.  Three
 * are bad, in different parts: a port out of range, a key naming another
 * Service, and one near the end that is not YAML.  Every good object is
 * in the set in key order, its location its key; the problems are said
 * in key order, each at its key, as a single thread would.
 */
static bool test_parse_many_in_parts(void)
{
	enum { N = 12000 };
	struct mstore_kv *kvs = calloc(N, sizeof(*kvs));
	struct mstore_list l = { .kvs = kvs, .n = N };
	struct model_set set;
	int64_t guard = -1;
	struct diag d;
	size_t at = 0;
	bool ok = ASSERT_TRUE(kvs != NULL);

	model_set_init(&set);
	diag_init(&d);
	for (size_t i = 0; ok && i < N; i++) {
		char key[64], val[256];
		const char *name = key + strlen("/m/policy/Service/");

		snprintf(key, sizeof(key), "/m/policy/Service/s%05zu", i);
		snprintf(val, sizeof(val), "apiVersion: meshforge.io/v1alpha1\n"
			 "kind: Service\nmetadata: {name: %s}\n"
			 "spec: {vip: 10.96.%zu.%zu, port: %s}\n",
			 i == 7000 ? "other" : name, i / 250, i % 250 + 1,
			 i == 3000 ? "99999" : "80");
		if (i == 11000)
			snprintf(val, sizeof(val), "kind: [Service\n");
		kvs[i] = (struct mstore_kv){ strdup(key), strdup(val),
					      strlen(val), 2 };
		ok = ASSERT_TRUE(kvs[i].key && kvs[i].val);
	}
	ok = ok && ASSERT_EQ(mesh_parse("/m", &l, &set, &d, &guard, NULL),
			     -EINVAL) &&
	     /* s07000 is in the set (it holds "other"), as before threads */
	     ASSERT_EQ(set.n, N - 2) && ASSERT_EQ(d.n, 3) &&
	     ASSERT_TRUE(strstr(d.msgs[0], "/m/policy/Service/s03000:") ==
			 d.msgs[0]) &&
	     ASSERT_TRUE(strstr(d.msgs[1], "/m/policy/Service/s07000") &&
			 strstr(d.msgs[1], "not one Service named \"s07000\"")) &&
	     ASSERT_TRUE(strstr(d.msgs[2], "/m/policy/Service/s11000:") ==
			 d.msgs[2]);
	for (size_t i = 0; ok && i < N; i++) {
		char name[16];

		if (i == 3000 || i == 11000)
			continue;
		snprintf(name, sizeof(name), "s%05zu", i);
		ok = ASSERT_STREQ(set.objs[at].name, i == 7000 ? "other" : name) &&
		     ASSERT_STREQ(set.objs[at].loc.file, kvs[i].key);
		at++;
	}
	model_set_free(&set);
	diag_free(&d);
	for (size_t i = 0; kvs && i < N; i++) {
		free(kvs[i].key);
		free(kvs[i].val);
	}
	free(kvs);
	return ok;
}

/* A listing of @n Services s0000.. (their port @port, rev 2) with the
 * guard; kvs malloc'ed, keys and values too. */
#define OVER_N 400

static void over_put(struct mstore_list *l, const char *name, int at,
		     int port, int64_t rev)
{
	char key[64], val[256];
	struct mstore_kv *kv = &l->kvs[l->n++];

	snprintf(key, sizeof(key), "/m/policy/Service/%s", name);
	snprintf(val, sizeof(val), "apiVersion: meshforge.io/v1alpha1\n"
		 "kind: Service\nmetadata: {name: %s}\nspec: {vip: 10.96.%d.%d, "
		 "port: %d}\n", name, at / 250, at % 250 + 1, port);
	*kv = (struct mstore_kv){ strdup(key), strdup(val), strlen(val), rev };
}

/* The listing at step @step: every Service at port 80 but s0005 (81 from
 * step 1, 82 from 2), s0010 gone from step 1, s0010x there from step 1
 * (between s0010 and s0011 in key order), s0200 "bad" at step 3. */
static void over_listing(struct mstore_list *l, int step)
{
	char name[16];

	l->kvs = calloc(OVER_N + 8, sizeof(*l->kvs));
	l->n = 0;
	l->kvs[l->n++] = (struct mstore_kv){ strdup("/m/policy"),
					      strdup("n objects"), 9, 9 };
	for (int i = 0; i < OVER_N; i++) {
		snprintf(name, sizeof(name), "s%04d", i);
		if (i == 5 && step)
			over_put(l, name, i, 80 + (step > 1 ? 2 : 1), 2 + step);
		else if (i == 200 && step == 3) {
			over_put(l, name, i, 80, 5);
			free(l->kvs[l->n - 1].val);
			l->kvs[l->n - 1].val = strdup("kind: [Service\n");
			l->kvs[l->n - 1].len = strlen(l->kvs[l->n - 1].val);
		} else if (i != 10 || !step)
			over_put(l, name, i, 80, 2);
		if (i == 10 && step)
			over_put(l, "s0010x", OVER_N, 90, 3);
	}
}

/* @a (over a memo) and @b (fresh) hold the same objects in the same
 * order, each located at its key. */
static bool same_sets(const struct model_set *a, const struct model_set *b)
{
	bool ok = ASSERT_EQ(a->n, b->n);

	for (size_t i = 0; ok && i < a->n; i++)
		ok = ASSERT_STREQ(a->objs[i].name, b->objs[i].name) &&
		     ASSERT_STREQ(a->objs[i].loc.file, b->objs[i].loc.file) &&
		     ASSERT_TRUE(model_obj_equal(&a->objs[i], &b->objs[i]));
	for (int k = 0; ok && k < MODEL_KIND_MAX; k++)
		ok = ASSERT_EQ(a->nkind[k], b->nkind[k]);
	return ok;
}

/* A sync's parse over its memo, a few keys changed: the memo's set taken
 * whole (left empty), with the same objects, order and locations as a
 * fresh parse of the listing, over three changes (one updated, one
 * deleted, one new between two kept); a value that does not parse is
 * said as a fresh parse says it. */
static bool test_parse_over_memo(void)
{
	struct mesh_memo memo = { 0 };
	struct model_set over, fresh;
	struct diag d, fd;
	int64_t g1, g2;
	bool ok = true;

	for (int step = 0; ok && step <= 3; step++) {
		struct mstore_list l = { 0 };
		int want = step == 3 ? -EINVAL : 0;

		over_listing(&l, step);
		model_set_init(&over);
		model_set_init(&fresh);
		diag_init(&d);
		diag_init(&fd);
		ok = ASSERT_EQ(mesh_parse_memo("/m", &l, &over, &d, &g1, NULL,
					       &memo), want) &&
		     ASSERT_EQ(mesh_parse("/m", &l, &fresh, &fd, &g2, NULL),
			       want) &&
		     ASSERT_EQ(g1, 9) && ASSERT_EQ(g2, 9) &&
		     ASSERT_EQ(d.n, fd.n);
		for (size_t i = 0; ok && i < d.n; i++)
			ok = ASSERT_STREQ(d.msgs[i], fd.msgs[i]);
		/* Over the memo from the first change on: its set moved. */
		if (ok && step)
			ok = ASSERT_EQ(memo.set.n, 0);
		if (ok && !want)
			ok = same_sets(&over, &fresh) &&
			     ASSERT_EQ(over.n, OVER_N);
		mesh_memo_free(&memo);
		if (ok && !want)
			mesh_memo_take(&memo, "/m", &l, &over);
		ok = ok && (want || ASSERT_EQ(memo.n, OVER_N));
		model_set_free(&over);
		model_set_free(&fresh);
		diag_free(&d);
		diag_free(&fd);
		mstore_list_free(&l);
	}
	mesh_memo_free(&memo);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_store_urls);
	TEST_RUN(test_store_auth);
	TEST_RUN(test_parse_listing);
	TEST_RUN(test_parse_refuses_mismatch);
	TEST_RUN(test_parse_invalid_value);
	TEST_RUN(test_parse_registrations);
	TEST_RUN(test_parse_many_in_parts);
	TEST_RUN(test_parse_over_memo);
	TEST_MAIN_END();
}
