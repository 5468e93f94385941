// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl delete`, `get -o json|table`, `diff`, `inspect` and `status`
 * against the memory store: no root, no bpffs.  The tests run in order
 * over one applied policy.
 */
#include <unistd.h>

#include "harness/test.h"
#include "harness/ctl_harness.h"

#include "../../ctl/ctl.h"
#include "fsio.h"

#define API "apiVersion: meshforge.io/v1alpha1\n"

static const char policy[] =
	API "kind: Mesh\nmetadata: {name: default}\nspec: {trustDomain: mesh.local}\n"
	"---\n" API "kind: Node\nmetadata: {name: mf-node-a}\nspec: {address: 10.77.0.1}\n"
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

/* Runs the command line @args against the memory store, capturing its
 * output. */
static bool run(char **args, struct ch_run *r)
{
	struct ctl_opts o = ch_opts(true);

	return ch_capture(&o, args, r);
}

static bool read_maps(struct rec_set *rs)
{
	return ch_read(true, rs);
}

/* Every map's entries equal byte for byte, mf_config (epoch) included. */
static bool maps_identical(const struct rec_set *a, const struct rec_set *b)
{
	bool ok = ASSERT_MEMEQ(&a->config, &b->config, sizeof(a->config));

	for (int m = 0; m < REC_MAP_MAX && ok; m++) {
		const struct rec_map_info *mi = rec_map_info(m);

		ok = ASSERT_EQ(rec_count(a, m), rec_count(b, m));
		for (size_t i = 0; ok && i < rec_count(a, m); i++)
			ok = ASSERT_MEMEQ(rec_key(a, m, i), rec_key(b, m, i),
					  mi->key_size + mi->val_size);
	}
	return ok;
}

static __u64 epoch_now(void)
{
	struct rec_set rs;
	__u64 e = 0;

	rec_set_init(&rs);
	if (read_maps(&rs))
		e = rs.config.epoch;
	rec_set_free(&rs);
	return e;
}

static bool test_setup_apply(void)
{
	char path[128], *args[] = { "apply", "-f", path, NULL };
	struct ch_run r;
	bool ok;

	ok = ch_write_file("policy.yaml", policy, path, sizeof(path)) &&
	     run(args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     ASSERT_EQ(epoch_now(), 1);
	ch_run_free(&r);
	return ok;
}

/* Deleting a Service that a Workload and a MeshTrafficPermission name is
 * refused, naming both, and leaves every map as it was. */
static bool test_delete_referenced_refused(void)
{
	char *args[] = { "delete", "Service", "web", NULL };
	struct rec_set before, after;
	struct ch_run r = { 0 };
	bool ok;

	rec_set_init(&before);
	rec_set_init(&after);
	ok = read_maps(&before) && run(args, &r) &&
	     ASSERT_EQ(r.rc, CTL_EXIT_INVALID) &&
	     ASSERT_TRUE(strstr(r.err, "applied Workload b1: spec.service: "
				"no Service \"web\"")) &&
	     ASSERT_TRUE(strstr(r.err, "applied MeshTrafficPermission "
				"web-allow: spec.targetRef.name")) &&
	     ASSERT_TRUE(strstr(r.err, "nothing deleted")) &&
	     read_maps(&after) && maps_identical(&before, &after);
	ch_run_free(&r);
	rec_set_free(&after);
	rec_set_free(&before);
	return ok;
}

/* delete KIND NAME: gone, epoch + 1; again: not found (1), with
 * --ignore-not-found: 0 and nothing written. */
static bool test_delete_by_kind_name(void)
{
	char *args[] = { "delete", "workload", "b2", NULL };
	char *args2[] = { "delete", "Workload", "b2", NULL };
	char *args3[] = { "delete", "--ignore-not-found", "Workload", "b2",
			  NULL };
	struct mf_endpoint_key k = { .ip = { 10, 78, 2, 12 } };
	struct rec_set after;
	struct ch_run r = { 0 }, r2 = { 0 }, r3 = { 0 };
	bool ok;

	rec_set_init(&after);
	ok = run(args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     read_maps(&after) && ASSERT_EQ(after.config.epoch, 2) &&
	     ASSERT_EQ(rec_find(&after, REC_ENDPOINTS, &k), -1) &&
	     ASSERT_EQ(rec_count(&after, REC_ENDPOINTS), 1) &&
	     /* Its identity went with it; api stays. */
	     ASSERT_EQ(rec_count(&after, REC_IDENTITIES), 1) &&
	     ASSERT_EQ(rec_count(&after, REC_SERVICES), 2) &&
	     run(args2, &r2) &&
	     ASSERT_EQ(r2.rc, CTL_EXIT_INVALID) &&
	     ASSERT_TRUE(strstr(r2.err, "Workload \"b2\" not found")) &&
	     run(args3, &r3) && ASSERT_EQ(r3.rc, CTL_EXIT_OK) &&
	     ASSERT_EQ(epoch_now(), 2);
	ch_run_free(&r3);
	ch_run_free(&r2);
	ch_run_free(&r);
	rec_set_free(&after);
	return ok;
}

/* delete -f: the objects the documents name, whatever their spec says. */
static bool test_delete_by_file(void)
{
	static const char del[] =
		API "kind: Service\nmetadata: {name: api}\nspec: {vip: 10.96.0.99, port: 1}\n"
		"---\n" API "kind: MeshTrafficPermission\nmetadata: {name: web-allow}\n"
		"spec:\n  targetRef: {kind: MeshService, name: web}\n  from:\n"
		"    - targetRef: {kind: Mesh}\n      default: {action: Allow}\n";
	char path[128], *args[] = { "delete", "-f", path, NULL };
	struct rec_set after;
	struct ch_run r = { 0 };
	bool ok;

	rec_set_init(&after);
	ok = ch_write_file("del.yaml", del, path, sizeof(path)) &&
	     run(args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     ASSERT_TRUE(strstr(r.out, "2 objects deleted")) &&
	     read_maps(&after) && ASSERT_EQ(after.config.epoch, 3) &&
	     ASSERT_EQ(rec_count(&after, REC_SERVICES), 1) &&
	     ASSERT_EQ(rec_count(&after, REC_AUTHZ), 0) &&
	     ASSERT_EQ(((struct mf_service *)rec_val(&after, REC_SERVICES, 0))
			       ->authz_rules, 0);
	ch_run_free(&r);
	rec_set_free(&after);
	return ok;
}

/* Outside strings, every bracket closes in order and nothing is left. */
static bool json_balanced(const char *s)
{
	char stack[64];
	size_t depth = 0;
	bool in_str = false;

	for (; *s; s++) {
		if (in_str) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_str = false;
			continue;
		}
		if (*s == '"') {
			in_str = true;
		} else if (*s == '[' || *s == '{') {
			if (depth == sizeof(stack))
				return false;
			stack[depth++] = *s;
		} else if (*s == ']' || *s == '}') {
			if (!depth || stack[--depth] != (*s == ']' ? '[' : '{'))
				return false;
		}
	}
	return !in_str && depth == 0;
}

static bool test_get_json(void)
{
	char *args[] = { "get", "-o", "json", NULL };
	char *one[] = { "get", "Service", "web", "-o", "json", NULL };
	char *missing[] = { "get", "Service", "nope", NULL };
	struct ch_run r = { 0 }, r1 = { 0 }, r2 = { 0 };
	bool ok;

	ok = run(args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     ASSERT_EQ(r.out[0], '[') &&
	     ASSERT_STREQ(r.out + strlen(r.out) - 2, "]\n") &&
	     ASSERT_TRUE(json_balanced(r.out)) &&
	     ASSERT_TRUE(strstr(r.out, "\"kind\": \"Mesh\"")) &&
	     ASSERT_TRUE(strstr(r.out, "\"trustDomain\": \"mesh.local\"")) &&
	     ASSERT_TRUE(strstr(r.out, "\"kind\": \"Workload\"")) &&
	     ASSERT_TRUE(strstr(r.out, "\"identity\": "
				"\"spiffe://mesh.local/ns/default/sa/web\"")) &&
	     ASSERT_TRUE(strstr(r.out, "\"metadata\": {\"name\": \"web\"}")) &&
	     ASSERT_TRUE(strstr(r.out, "\"vip\": \"10.96.0.10\", \"port\": 80")) &&
	     run(one, &r1) && ASSERT_EQ(r1.rc, CTL_EXIT_OK) &&
	     ASSERT_TRUE(json_balanced(r1.out)) &&
	     ASSERT_TRUE(strstr(r1.out, "\"kind\": \"Service\"")) &&
	     ASSERT_FALSE(strstr(r1.out, "\"kind\": \"Workload\"")) &&
	     run(missing, &r2) &&
	     ASSERT_EQ(r2.rc, CTL_EXIT_INVALID) &&
	     ASSERT_TRUE(strstr(r2.err, "Service \"nope\" not found")) &&
	     ASSERT_STREQ(r2.out, "");
	ch_run_free(&r2);
	ch_run_free(&r1);
	ch_run_free(&r);
	return ok;
}

static bool test_get_table(void)
{
	char *args[] = { "get", "-o", "table", NULL };
	struct ch_run r = { 0 };
	bool ok;

	ok = run(args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     ASSERT_TRUE(strstr(r.out, "NAME   VIP          PORT   PROTOCOL   "
				"ENDPOINTS\n"
				"web    10.96.0.10   80     tcp        1\n")) &&
	     ASSERT_TRUE(strstr(r.out, "NAME   NODE        IP           PORT   "
				"SERVICE   IDENTITY\n"
				"b1     mf-node-b   10.78.2.11   8080   web       "
				"spiffe://mesh.local/ns/default/sa/web\n")) &&
	     ASSERT_TRUE(strstr(r.out, "NAME        ADDRESS     TUNNEL-PORT\n"
				"mf-node-a   10.77.0.1   15008\n"
				"mf-node-b   10.77.0.2   15008\n"));
	ch_run_free(&r);
	return ok;
}

static bool test_diff(void)
{
	static const char changed[] =
		API "kind: Service\nmetadata: {name: web}\nspec: {vip: 10.96.0.10, port: 8080}\n"
		"---\n" API "kind: Service\nmetadata: {name: fresh}\nspec: {vip: 10.96.0.12, port: 80}\n"
		"---\n" API "kind: Node\nmetadata: {name: mf-node-a}\nspec: {address: 10.77.0.1}\n";
	char same[128], path[128];
	char *get[] = { "get", NULL };
	char *d_same[] = { "diff", "-f", same, NULL };
	char *d_changed[] = { "diff", "-f", path, NULL };
	struct rec_set before, after;
	struct ch_run g = { 0 }, r1 = { 0 }, r2 = { 0 };
	bool ok;

	rec_set_init(&before);
	rec_set_init(&after);
	ok = read_maps(&before) && run(get, &g) &&
	     ASSERT_EQ(g.rc, CTL_EXIT_OK) &&
	     ch_write_file("same.yaml", g.out, same, sizeof(same)) &&
	     run(d_same, &r1) && ASSERT_EQ(r1.rc, CTL_EXIT_OK) &&
	     ASSERT_STREQ(r1.out, "") &&
	     ch_write_file("changed.yaml", changed, path, sizeof(path)) &&
	     run(d_changed, &r2) &&
	     ASSERT_EQ(r2.rc, CTL_EXIT_CHANGES) &&
	     ASSERT_STREQ(r2.out, "+ Service/fresh\n"
			  "~ Service/web\n"
			  "    -  port: 80\n"
			  "    +  port: 8080\n") &&
	     read_maps(&after) && maps_identical(&before, &after);
	ch_run_free(&r2);
	ch_run_free(&r1);
	ch_run_free(&g);
	rec_set_free(&after);
	rec_set_free(&before);
	return ok;
}

/* diff refuses what apply would refuse, with apply's exit code. */
static bool test_diff_invalid(void)
{
	static const char bad[] =
		API "kind: Workload\nmetadata: {name: b9}\n"
		"spec: {node: nowhere, ip: 10.78.2.19, port: 8080, service: web, "
		"identity: \"spiffe://mesh.local/ns/default/sa/web\"}\n";
	char path[128], *args[] = { "diff", "-f", path, NULL };
	struct ch_run r = { 0 };
	bool ok;

	ok = ch_write_file("bad.yaml", bad, path, sizeof(path)) &&
	     run(args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_INVALID) &&
	     ASSERT_TRUE(strstr(r.err, "no Node \"nowhere\""));
	ch_run_free(&r);
	return ok;
}

static bool test_inspect(void)
{
	static const char *const want[] = {
		"mf_config  type array  key 4  value 1528  entries 1/1 (100.0%)\n"
		/* apply, delete, delete: the third write is in half 1. */
		"  epoch 3 active half 1 flags 0x1 mesh default trust_domain "
		"mesh.local\n",
		/* Capacities cover both halves. */
		"\nmf_nodes  type hash  key 68  value 8  entries 2/2048 (0.1%)\n",
		"  mf-node-b -> 10.77.0.2:15008\n",
		"\nmf_identities  type hash  key 8  value 256  entries 1/262144 (0.0%)\n"
		"  2 -> spiffe://mesh.local/ns/default/sa/web\n",
		"\nmf_authz  type hash  key 12  value 328  entries 0/131072 (0.0%)\n",
		"\nmf_services  type hash  key 12  value 72  entries 1/32768 (0.0%)\n",
		/* api took id 1 (ids go in name order) and is deleted. */
		"  10.96.0.10:80/tcp -> id 2 name web authz_rules 0\n",
		"\nmf_endpoints  type hash  key 8  value 88  entries 1/262144 (0.0%)\n",
		/* Its node by address and tunnel port (mf-node-b's). */
		"  10.78.2.11 -> name b1 port 8080 service 2 identity 2 node "
		"10.77.0.2:15008\n",
		"\nmf_stats  type percpu_array  key 4  value 8  entries 6/6 (100.0%)\n",
		"  pod_packets ", "  drop_assign ",
	};
	char *args[] = { "inspect", NULL };
	struct ch_run r = { 0 };
	bool ok;

	ok = run(args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK);
	for (size_t i = 0; ok && i < sizeof(want) / sizeof(want[0]); i++)
		ok = ASSERT_TRUE(strstr(r.out, want[i]));
	/* Every write cleared the half it left. */
	ok = ok && ASSERT_FALSE(strstr(r.out, "leftover"));
	if (!ok && r.out)
		fprintf(stderr, "inspect printed:\n%s", r.out);
	ch_run_free(&r);
	return ok;
}

static bool test_status(void)
{
	char *args[] = { "status", "--admin", "127.0.0.1:1", NULL };
	char epoch[64];
	struct ch_run r = { 0 };
	bool ok;

	snprintf(epoch, sizeof(epoch), "\nepoch:     %llu\n",
		 (unsigned long long)epoch_now());
	ok = run(args, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
	     ASSERT_TRUE(strstr(r.out, epoch)) &&
	     ASSERT_TRUE(strstr(r.out, "mfctl:     " CTL_VERSION "\n")) &&
	     /* nothing listens on this port: the agent's view is unknown */
	     ASSERT_TRUE(strstr(r.out, "agent epoch: unknown (127.0.0.1:1: ")) &&
	     ASSERT_TRUE(strstr(r.out, "mesh:      default (trust domain "
				"mesh.local)\n")) &&
	     ASSERT_TRUE(strstr(r.out, "objects:   Mesh 1, Node 2, Service 1, "
				"Workload 1, MeshTrafficPermission 0\n"
				"policies:  none\n")) &&
	     ASSERT_TRUE(strstr(r.out, ch_root)) &&
	     ASSERT_TRUE(strstr(r.out, "\nagent:     "));
	ch_run_free(&r);
	return ok;
}

/* Every command of the table: --help prints its usage on stdout, exit 0;
 * a bad option exits 1 with the usage on stderr; "help CMD" prints the
 * same usage.  Needs no maps. */
static bool test_help_and_usage_errors(void)
{
	bool ok = true;

	for (size_t i = 0; ok && i < ctl_ncmds; i++) {
		char name[32], *sp, *help[5] = { 0 }, *bad[5] = { 0 };
		char *via_help[5] = { "help" };
		struct ch_run r = { 0 }, r2 = { 0 }, r3 = { 0 };
		int n = 0;

		snprintf(name, sizeof(name), "%s", ctl_cmds[i].name);
		sp = strchr(name, ' ');
		help[n] = bad[n] = via_help[n + 1] = name;
		n++;
		if (sp) {
			*sp = '\0';
			help[n] = bad[n] = via_help[n + 1] = sp + 1;
			n++;
		}
		help[n] = "--help";
		bad[n] = "--no-such-option";
		ok = run(help, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK) &&
		     ASSERT_TRUE(!strncmp(r.out, "usage: mfctl", 12)) &&
		     run(bad, &r2) && ASSERT_EQ(r2.rc, CTL_EXIT_INVALID) &&
		     ASSERT_TRUE(strstr(r2.err, "usage: mfctl") != NULL) &&
		     run(via_help, &r3) && ASSERT_STREQ(r3.out, r.out);
		if (!ok)
			fprintf(stderr, "command %s\n", ctl_cmds[i].name);
		ch_run_free(&r3);
		ch_run_free(&r2);
		ch_run_free(&r);
	}
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (ch_setup("/sys/fs/bpf/mf-test-ctl", "/tmp/mf-test-ctl-cmds.XXXXXX"))
		return 1;

	TEST_RUN(test_help_and_usage_errors);
	TEST_RUN(test_setup_apply);
	TEST_RUN(test_delete_referenced_refused);
	TEST_RUN(test_delete_by_kind_name);
	TEST_RUN(test_delete_by_file);
	TEST_RUN(test_get_json);
	TEST_RUN(test_get_table);
	TEST_RUN(test_diff);
	TEST_RUN(test_diff_invalid);
	TEST_RUN(test_inspect);
	TEST_RUN(test_status);

	ch_cleanup();
	TEST_MAIN_END();
}
