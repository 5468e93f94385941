// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl delete`, `get -o json|table`, `diff`, `inspect` and `status`
 * against the memory store: no root, no bpffs.  The tests run in order
 * over one applied policy.
 */
#include <sys/stat.h>

#include "harness/test.h"
#include "harness/ctl_harness.h"
#include "harness/policy_harness.h"

static const char policy[] =
	PH_MESH
	PH_NODE("mf-node-a", "10.77.0.1")
	PH_NODE("mf-node-b", "10.77.0.2")
	PH_WEB_AND_API;

/* The maps hold @before still, every entry byte for byte, mf_config
 * (epoch) included. */
static bool maps_unchanged(const struct rec_set *before)
{
	struct rec_set now;
	bool ok = ch_read(true, &now) &&
		  ASSERT_MEMEQ(&before->config, &now.config,
			       sizeof(now.config));

	for (int m = 0; m < REC_MAP_MAX && ok; m++) {
		const struct rec_map_info *mi = rec_map_info(m);

		ok = ASSERT_EQ(rec_count(before, m), rec_count(&now, m));
		for (size_t i = 0; ok && i < rec_count(before, m); i++)
			ok = ASSERT_MEMEQ(rec_key(before, m, i),
					  rec_key(&now, m, i),
					  mi->key_size + mi->val_size);
	}
	rec_set_free(&now);
	return ok;
}

static bool test_setup_apply(void)
{
	char path[128];

	return ch_write_file("policy.yaml", policy, path, sizeof(path)) &&
	       PH_CMD(CTL_EXIT_OK, "apply", "-f", path) &&
	       ASSERT_EQ(ph_epoch(), 1);
}

/* Deleting a Service that a Workload and a MeshTrafficPermission name is
 * refused, naming both, and leaves every map as it was. */
static bool test_delete_referenced_refused(void)
{
	struct rec_set before;
	bool ok;

	ok = ch_read(true, &before) &&
	     PH_CMD(CTL_EXIT_INVALID, "delete", "Service", "web") &&
	     ph_err_has("applied Workload b1: spec.service: "
			"no Service \"web\"") &&
	     ph_err_has("applied MeshTrafficPermission "
			"web-allow: spec.targetRef.name") &&
	     ph_err_has("nothing deleted") && maps_unchanged(&before);
	rec_set_free(&before);
	return ok;
}

/* delete KIND NAME: gone, epoch + 1; again: not found (1), with
 * --ignore-not-found: 0 and nothing written. */
static bool test_delete_by_kind_name(void)
{
	struct mf_endpoint_key k = { .ip = { 10, 78, 2, 12 } };
	struct rec_set after;
	bool ok;

	rec_set_init(&after);
	ok = PH_CMD(CTL_EXIT_OK, "delete", "workload", "b2") &&
	     ch_read(true, &after) && ASSERT_EQ(after.config.epoch, 2) &&
	     ASSERT_EQ(rec_find(&after, REC_ENDPOINTS, &k), -1) &&
	     ASSERT_EQ(rec_count(&after, REC_ENDPOINTS), 1) &&
	     /* Its identity went with it; api stays. */
	     ASSERT_EQ(rec_count(&after, REC_IDENTITIES), 1) &&
	     ASSERT_EQ(rec_count(&after, REC_SERVICES), 2) &&
	     PH_CMD(CTL_EXIT_INVALID, "delete", "Workload", "b2") &&
	     ph_err_has("Workload \"b2\" not found") &&
	     PH_CMD(CTL_EXIT_OK, "delete", "--ignore-not-found", "Workload",
		    "b2") &&
	     ASSERT_EQ(ph_epoch(), 2);
	rec_set_free(&after);
	return ok;
}

/* delete -f: the objects the documents name, whatever their spec says. */
static bool test_delete_by_file(void)
{
	static const char del[] =
		PH_SVC("api", "10.96.0.99", "1")
		RH_DOC("MeshTrafficPermission", "web-allow")
		"spec:\n  targetRef: {kind: MeshService, name: web}\n  from:\n"
		"    - targetRef: {kind: Mesh}\n"
		"      default: {action: Allow}\n";
	char path[128];
	struct rec_set after;
	bool ok;

	rec_set_init(&after);
	ok = ch_write_file("del.yaml", del, path, sizeof(path)) &&
	     PH_CMD(CTL_EXIT_OK, "delete", "-f", path) &&
	     ph_out_has("2 objects deleted") &&
	     ch_read(true, &after) && ASSERT_EQ(after.config.epoch, 3) &&
	     ASSERT_EQ(rec_count(&after, REC_SERVICES), 1) &&
	     ASSERT_EQ(rec_count(&after, REC_AUTHZ), 0) &&
	     ASSERT_EQ(((struct mf_service *)rec_val(&after, REC_SERVICES, 0))
			       ->authz_rules, 0);
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
	return PH_CMD(CTL_EXIT_OK, "get", "-o", "json") &&
	       ASSERT_EQ(ph_out.out[0], '[') &&
	       ASSERT_STREQ(ph_out.out + strlen(ph_out.out) - 2, "]\n") &&
	       ASSERT_TRUE(json_balanced(ph_out.out)) &&
	       ph_out_has("\"kind\": \"Mesh\"") &&
	       ph_out_has("\"trustDomain\": \"mesh.local\"") &&
	       ph_out_has("\"kind\": \"Workload\"") &&
	       ph_out_has("\"identity\": \"" PH_SA("web") "\"") &&
	       ph_out_has("\"metadata\": {\"name\": \"web\"}") &&
	       ph_out_has("\"vip\": \"10.96.0.10\", \"port\": 80") &&
	       PH_CMD(CTL_EXIT_OK, "get", "Service", "web", "-o", "json") &&
	       ASSERT_TRUE(json_balanced(ph_out.out)) &&
	       ph_out_has("\"kind\": \"Service\"") &&
	       ASSERT_FALSE(strstr(ph_out.out, "\"kind\": \"Workload\"")) &&
	       PH_CMD(CTL_EXIT_INVALID, "get", "Service", "nope") &&
	       ph_err_has("Service \"nope\" not found") &&
	       ASSERT_STREQ(ph_out.out, "");
}

static bool test_get_table(void)
{
	return PH_CMD(CTL_EXIT_OK, "get", "-o", "table") &&
	       /* web's spec leaves its protocol out. */
	       ph_out_has("NAME   VIP          PORT   PROTOCOL   ENDPOINTS\n"
			  "web    10.96.0.10   80     -          1\n") &&
	       ph_out_has("NAME   NODE        IP           PORT   "
			  "SERVICE   IDENTITY\n"
			  "b1     mf-node-b   10.78.2.11   8080   web       "
			  PH_SA("web") "\n") &&
	       ph_out_has("NAME        ADDRESS     TUNNEL-PORT\n"
			  "mf-node-a   10.77.0.1   15008\n"
			  "mf-node-b   10.77.0.2   15008\n");
}

static bool test_diff(void)
{
	static const char changed[] =
		PH_SVC("web", "10.96.0.10", "8080")
		PH_SVC("fresh", "10.96.0.12", "80")
		PH_NODE("mf-node-a", "10.77.0.1");
	char same[128], path[128];
	struct rec_set before;
	bool ok;

	ok = ch_read(true, &before) && PH_CMD(CTL_EXIT_OK, "get") &&
	     ch_write_file("same.yaml", ph_out.out, same, sizeof(same)) &&
	     PH_CMD(CTL_EXIT_OK, "diff", "-f", same) &&
	     ASSERT_STREQ(ph_out.out, "") &&
	     ch_write_file("changed.yaml", changed, path, sizeof(path)) &&
	     PH_CMD(CTL_EXIT_CHANGES, "diff", "-f", path) &&
	     ASSERT_STREQ(ph_out.out, "+ Service/fresh\n"
				      "~ Service/web\n"
				      "    -  port: 80\n"
				      "    +  port: 8080\n") &&
	     maps_unchanged(&before);
	rec_set_free(&before);
	return ok;
}

/* diff refuses what apply would refuse, with apply's exit code. */
static bool test_diff_invalid(void)
{
	static const char bad[] =
		PH_WL("b9", "nowhere", "10.78.2.19", "8080", "web", "web");
	char path[128];

	return ch_write_file("bad.yaml", bad, path, sizeof(path)) &&
	       PH_CMD(CTL_EXIT_INVALID, "diff", "-f", path) &&
	       ph_err_has("no Node \"nowhere\"");
}

static bool test_inspect(void)
{
	static const char *const want[] = {
		"mf_config  type array  key 4  value 17088  entries 1/1 (100.0%)\n"
		/* apply, delete, delete: the third write is in half 1. */
		"  epoch 3 active half 1 flags 0x1 mesh default trust_domain "
		"mesh.local\n",
		/* No MeshTLS: the agents' default. */
		"  agents tls default (TLS13 only)\n",
		/* Capacities cover both halves. */
		"\nmf_nodes  type hash  key 68  value 8  entries 2/2048 (0.1%)\n",
		"  mf-node-b -> 10.77.0.2:15008\n",
		"\nmf_identities  type hash  key 8  value 256  entries 1/262144 (0.0%)\n"
		"  2 -> spiffe://mesh.local/ns/default/sa/web\n",
		"\nmf_authz  type hash  key 12  value 584  entries 0/131072 (0.0%)\n",
		"\nmf_services  type hash  key 12  value 84  entries 1/32768 (0.0%)\n",
		/* api took id 1 (ids go in name order) and is deleted. */
		"  10.96.0.10:80/tcp -> id 2 name web authz_rules 0 app tcp\n",
		"\nmf_endpoints  type hash  key 8  value 92  entries 1/262144 (0.0%)\n",
		/* Its node by address and tunnel port (mf-node-b's). */
		"  10.78.2.11 -> name b1 port 8080 service 2 identity 2 node "
		"10.77.0.2:15008\n",
		"\nmf_stats  type percpu_array  key 4  value 8  entries 21/21 (100.0%)\n",
		"  pod_packets ", "  drop_assign ",
	};
	bool ok = PH_CMD(CTL_EXIT_OK, "inspect");

	for (size_t i = 0; ok && i < sizeof(want) / sizeof(want[0]); i++)
		ok = ph_out_has(want[i]);
	/* Every write cleared the half it left. */
	return ok && ASSERT_FALSE(strstr(ph_out.out, "leftover"));
}

/* The maps every kind of object adds are decoded too: an object's
 * labels by its kind and name, a permission's records as its `from` or
 * `rules` entries, a spec-form kind's record as its spec alone. */
static bool test_inspect_labels_permissions_specs(void)
{
	static const char doc[] =
		"---\napiVersion: meshforge.io/v1alpha1\nkind: Service\n"
		"metadata: {name: web, labels: {team: shop}}\n"
		"spec: {vip: 10.96.0.10, port: 80}\n"
		RH_DOC("MeshTrafficPermission", "web-rules")
		"spec:\n  targetRef: {kind: MeshService, name: web}\n"
		"  rules:\n  - default:\n      deny:\n"
		"      - spiffeID: {type: Exact, value: "
		"\"spiffe://mesh.local/ns/default/sa/api\"}\n"
		"---\napiVersion: kuma.io/v1alpha1\n"
		"kind: MeshOpenTelemetryBackend\nmetadata: {name: otel}\n"
		"spec: {endpoint: {address: 10.0.0.7, port: 4317}}\n";
	static const char *const want[] = {
		"\nmf_labels  type hash  key 72  value 4  entries 1/",
		"  Service/web -> tag set ",
		" team=shop\n",
		"\nmf_permissions  type hash  key 72  value ",
		"  web-rules[0] rules target MeshService:web action Deny conf "
		"{\"spiffeID\": {\"type\": \"Exact\", \"value\": "
		"\"spiffe://mesh.local/ns/default/sa/api\"}}\n",
		"\nmf_otel_backends  type hash  key 72  value ",
		"  otel spec {\"endpoint\": {\"address\": \"10.0.0.7\", "
		"\"port\": 4317}}\n",
	};
	char path[128];
	bool ok = ch_write_file("more.yaml", doc, path, sizeof(path)) &&
		  PH_CMD(CTL_EXIT_OK, "apply", "-f", path) &&
		  PH_CMD(CTL_EXIT_OK, "inspect");

	for (size_t i = 0; ok && i < sizeof(want) / sizeof(want[0]); i++)
		ok = ph_out_has(want[i]);
	return ok;
}

static bool test_status(void)
{
	char epoch[64];

	snprintf(epoch, sizeof(epoch), "\nepoch:     %llu\n",
		 (unsigned long long)ph_epoch());
	return PH_CMD(CTL_EXIT_OK, "status", "--admin", "127.0.0.1:1") &&
	       ph_out_has(epoch) &&
	       ph_out_has("mfctl:     " CTL_VERSION "\n") &&
	       /* nothing listens on this port: the agent's view is unknown */
	       ph_out_has("agent epoch: unknown (127.0.0.1:1: ") &&
	       ph_out_has("mesh:      default (trust domain mesh.local)\n") &&
	       ph_out_has("objects:   Mesh 1, Node 2, Service 1, Workload 1, "
			  "MeshTrafficPermission 0\npolicies:  none\n") &&
	       ph_out_has(ch_root) && ph_out_has("\nagent:     ");
}

/* Every command of the table: --help prints its usage on stdout, exit 0;
 * a bad option exits 1 with the usage on stderr; "help CMD" prints the
 * same usage.  Needs no maps. */
static bool test_help_and_usage_errors(void)
{
	struct ctl_opts o = ch_opts(true);
	bool ok = true;

	for (size_t i = 0; ok && i < ctl_ncmds; i++) {
		char name[32], *sp, *help[5] = { 0 }, *bad[5] = { 0 };
		char *via_help[5] = { "help" };
		struct ch_run r = { 0 };
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
		ok = ch_capture(&o, via_help, &r) &&
		     ph_run(o, CTL_EXIT_OK, help) &&
		     ASSERT_TRUE(!strncmp(ph_out.out, "usage: mfctl", 12)) &&
		     ASSERT_STREQ(r.out, ph_out.out) &&
		     ph_run(o, CTL_EXIT_INVALID, bad) &&
		     ph_err_has("usage: mfctl");
		if (!ok)
			fprintf(stderr, "command %s\n", ctl_cmds[i].name);
		ch_run_free(&r);
	}
	return ok;
}

/* cert issue --workload: the identity the Workload's MeshIdentity renders,
 * valid for its certificateParameters.expiry (one without a provider is
 * the mesh CA's too); a Spire provider's certificates are not the mesh
 * CA's to issue. */
static bool test_cert_issue_workload(void)
{
	static const char doc[] =
		RH_DOC("Workload", "w9")
		"spec: {node: mf-node-b, ip: 10.78.2.99, port: 8080, "
		"service: web}\n"
		"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"
		"metadata: {name: w8, labels: {app: spire}}\n"
		"spec: {node: mf-node-b, ip: 10.78.2.98, port: 8080, "
		"service: web}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshIdentity\n"
		"metadata: {name: by-sa}\nspec:\n"
		"  selector: {dataplane: {matchLabels: {kuma.io/display-name: "
		"w9}}}\n"
		"  spiffeID: {trustDomain: mesh.local, path: "
		"\"/wl/{{ label \\\"kuma.io/display-name\\\" }}\"}\n"
		"  provider: {type: Bundled, bundled: {autogenerate: "
		"{enabled: true}, certificateParameters: {expiry: 36h}}}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshIdentity\n"
		"metadata: {name: spire}\nspec:\n"
		"  selector: {dataplane: {matchLabels: {app: spire}}}\n"
		"  spiffeID: {trustDomain: mesh.local}\n"
		"  provider: {type: Spire, spire: {}}\n"
		"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"
		"metadata: {name: w7, labels: {app: plain}}\n"
		"spec: {node: mf-node-b, ip: 10.78.2.97, port: 8080, "
		"service: web}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshIdentity\n"
		"metadata: {name: no-provider}\nspec:\n"
		"  selector: {dataplane: {matchLabels: {app: plain}}}\n"
		"  spiffeID: {trustDomain: mesh.local, path: /plain}\n";
	char path[160];
	struct stat st;
	bool ok = ch_write_file("ident.yaml", doc, path, sizeof(path)) &&
		  PH_CMD(CTL_EXIT_OK, "ca", "init", "--trust-domain",
			 "mesh.local") &&
		  PH_CMD(CTL_EXIT_OK, "apply", "-f", path) &&
		  PH_CMD(CTL_EXIT_OK, "cert", "issue", "--workload", "w9") &&
		  ph_out_has("issued spiffe://mesh.local/wl/w9: ") &&
		  ph_out_has("(valid 129600s)\n");

	snprintf(path, sizeof(path), "%s/certs/mesh.local+wl+w9.crt",
		 ch_tmpdir);
	return ok && ASSERT_EQ(stat(path, &st), 0) &&
	       /* Without a provider: the mesh CA's, as Bundled. */
	       PH_CMD(CTL_EXIT_OK, "cert", "issue", "--workload", "w7") &&
	       ph_out_has("issued spiffe://mesh.local/plain: ") &&
	       PH_CMD(CTL_EXIT_INVALID, "cert", "issue", "--workload", "w8") &&
	       ph_err_has("MeshIdentity \"spire\", which gives Workload "
			  "\"w8\" its identity, has provider Spire: its "
			  "certificates do not come from the mesh CA") &&
	       PH_CMD(CTL_EXIT_INVALID, "cert", "issue", "--workload",
		      "nowhere") &&
	       ph_err_has("no Workload or Dataplane (with meshforge.io/node) "
			  "\"nowhere\" is applied") &&
	       PH_CMD(CTL_EXIT_INVALID, "cert", "issue", "--workload", "w9",
		      "--identity", "spiffe://mesh.local/x") &&
	       ph_err_has("cert issue takes --identity or --workload, not "
			  "both");
}

/* cert issue: the Mesh's dpCert.rotation.expiration (of its enabled
 * backend) is how long a certificate lives, for an --identity and for a
 * Workload whose MeshIdentity says nothing; --days still wins. */
static bool test_cert_issue_mesh_rotation(void)
{
	static const char doc[] =
		RH_DOC("Mesh", "default")
		"spec:\n"
		"  trustDomain: mesh.local\n"
		"  mtls:\n"
		"    enabledBackend: ca-1\n"
		"    backends:\n"
		"      - name: ca-1\n"
		"        type: builtin\n"
		"        mode: PERMISSIVE\n"
		"        dpCert: {rotation: {expiration: 2h}}\n";
	char path[160];

	return ch_write_file("rotation.yaml", doc, path, sizeof(path)) &&
	       PH_CMD(CTL_EXIT_OK, "apply", "-f", path) &&
	       PH_CMD(CTL_EXIT_OK, "cert", "issue", "--identity",
		      "spiffe://mesh.local/ns/default/sa/rot") &&
	       ph_out_has("(valid 7200s)\n") &&
	       PH_CMD(CTL_EXIT_OK, "cert", "issue", "--workload", "w7") &&
	       ph_out_has("(valid 7200s)\n") &&
	       PH_CMD(CTL_EXIT_OK, "cert", "issue", "--identity",
		      "spiffe://mesh.local/ns/default/sa/rot", "--days", "3") &&
	       ph_out_has("(valid 3 days)\n") &&
	       /* The Mesh as the cases after this one know it. */
	       ch_write_file("rotation.yaml",
			     RH_DOC("Mesh", "default")
			     "spec: {trustDomain: mesh.local}\n",
			     path, sizeof(path)) &&
	       PH_CMD(CTL_EXIT_OK, "apply", "-f", path) &&
	       PH_CMD(CTL_EXIT_OK, "cert", "issue", "--identity",
		      "spiffe://mesh.local/ns/default/sa/rot") &&
	       ph_out_has("(valid 365 days)\n");
}

/* cert issue --workload takes a Dataplane's name: a builtin gateway
 * instance's identity is spiffe://<td>/<kuma.io/service> without a
 * MeshIdentity, its MeshIdentity's with one (and its expiry), and an
 * endpoint Dataplane's its MeshIdentity's; inspect lists the instances.
 * A Dataplane without meshforge.io/node has none. */
static bool test_cert_issue_dataplane(void)
{
#define GW_DOC(name, labels)                                                  \
	"---\napiVersion: kuma.io/v1alpha1\nkind: Dataplane\n"               \
	"metadata: {name: " name ", labels: " labels "}\nspec:\n"            \
	"  networking:\n    address: 10.78.2.50\n"                            \
	"    gateway: {type: BUILTIN, tags: {kuma.io/service: edge-gateway}}\n"
	static const char doc[] =
		GW_DOC("edge-1", "{meshforge.io/node: mf-node-b}")
		GW_DOC("edge-2", "{meshforge.io/node: mf-node-b, app: pinned}")
		"---\napiVersion: kuma.io/v1alpha1\nkind: Dataplane\n"
		"metadata: {name: d1, labels: {meshforge.io/node: mf-node-b, "
		"app: pinned}}\nspec:\n"
		"  networking:\n    address: 10.78.2.40\n"
		"    inbound: [{port: 80, tags: {kuma.io/service: web}}]\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: Dataplane\n"
		"metadata: {name: kong}\nspec:\n"
		"  networking:\n    address: 10.78.2.51\n"
		"    gateway: {type: DELEGATED, tags: {kuma.io/service: kong}}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshIdentity\n"
		"metadata: {name: pinned}\nspec:\n"
		"  selector: {dataplane: {matchLabels: {app: pinned}}}\n"
		"  spiffeID: {trustDomain: mesh.local, path: "
		"\"/gw/{{ .Workload }}\"}\n"
		"  provider: {type: Bundled, bundled: {autogenerate: "
		"{enabled: true}, certificateParameters: {expiry: 30h}}}\n";
#undef GW_DOC
	char path[160];
	struct stat st;
	bool ok = ch_write_file("gw.yaml", doc, path, sizeof(path)) &&
		  PH_CMD(CTL_EXIT_OK, "apply", "-f", path) &&
		  PH_CMD(CTL_EXIT_OK, "cert", "issue", "--workload",
			 "edge-1") &&
		  ph_out_has("issued spiffe://mesh.local/edge-gateway: ") &&
		  ph_out_has("(valid 365 days)\n");

	snprintf(path, sizeof(path), "%s/certs/mesh.local+edge-gateway.crt",
		 ch_tmpdir);
	return ok && ASSERT_EQ(stat(path, &st), 0) &&
	       PH_CMD(CTL_EXIT_OK, "cert", "issue", "--workload", "edge-2") &&
	       ph_out_has("issued spiffe://mesh.local/gw/edge-2: ") &&
	       ph_out_has("(valid 108000s)\n") &&
	       PH_CMD(CTL_EXIT_OK, "cert", "issue", "--workload", "d1") &&
	       ph_out_has("issued spiffe://mesh.local/gw/d1: ") &&
	       PH_CMD(CTL_EXIT_INVALID, "cert", "issue", "--workload",
		      "kong") &&
	       ph_err_has("no Workload or Dataplane (with meshforge.io/node) "
			  "\"kong\" is applied") &&
	       PH_CMD(CTL_EXIT_OK, "inspect") &&
	       ph_out_has("\nmf_gw_instances  type hash  key 68  value 136  "
			  "entries 2/512 (0.4%)\n") &&
	       ph_out_has("  edge-1 -> node mf-node-b identity ") &&
	       ph_out_has(" kuma.io/service=edge-gateway\n  edge-2 -> node "
			  "mf-node-b identity ");
}

/* inspect shows what a record holds besides its conf: a legacy policy's
 * selectors, a MeshGateway's own tags, a MeshHTTPRoute entry's hostnames
 * (and nothing for an entry without any). */
static bool test_inspect_selectors_tags_entries(void)
{
	static const char doc[] =
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshGateway\n"
		"metadata: {name: edge}\nspec:\n"
		"  selectors: [{match: {kuma.io/service: edge}}]\n"
		"  tags: {tier: front}\n"
		"  conf: {listeners: [{port: 8080, protocol: HTTP, "
		"hostname: example.com}]}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshHTTPRoute\n"
		"metadata: {name: r}\nspec:\n"
		"  targetRef: {kind: MeshGateway, name: edge}\n"
		"  to:\n  - targetRef: {kind: Mesh}\n"
		"    hostnames: [example.com]\n"
		"    rules: [{matches: [{path: {type: PathPrefix, value: /}}],\n"
		"             default: {backendRefs: [{kind: MeshService, "
		"name: web}]}}]\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshHTTPRoute\n"
		"metadata: {name: r2}\nspec:\n  targetRef: {kind: Mesh}\n"
		"  to:\n  - targetRef: {kind: MeshService, name: web}\n"
		"    rules: [{matches: [{path: {type: PathPrefix, value: /}}],\n"
		"             default: {backendRefs: [{kind: MeshService, "
		"name: web}]}}]\n";
	char path[128];
	bool ok = ch_write_file("gw.yaml", doc, path, sizeof(path)) &&
		  PH_CMD(CTL_EXIT_OK, "apply", "-f", path) &&
		  PH_CMD(CTL_EXIT_OK, "inspect");

	return ok &&
	       ph_out_has("  edge[0] conf target - selectors "
			  "[{\"kuma.io/service\": \"edge\"}] tags "
			  "{\"tier\": \"front\"} conf {\"listeners\": ") &&
	       ph_out_has("  r[0] to target MeshGateway:edge ref Mesh entry "
			  "{\"hostnames\": [\"example.com\"]} conf ") &&
	       /* An entry without keys shows none. */
	       ph_out_has("  r2[0] to target Mesh ref MeshService:web conf ");
}

/* inspect decodes mf_strings (each string with its length, escaped as
 * JSON) and shows a record's strings where it holds their ids. */
static bool test_inspect_strings(void)
{
	static const char doc[] =
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshHTTPRoute\n"
		"metadata: {name: strs}\nspec:\n  targetRef: {kind: Mesh}\n"
		"  to:\n  - targetRef: {kind: MeshService, name: web}\n"
		"    rules: [{matches: [{path: {type: PathPrefix, "
		"value: /api},\n"
		"                        headers: [{name: x-q, "
		"value: \"say \\\"hi\\\"\"}]}],\n"
		"             default: {backendRefs: [{kind: MeshService, "
		"name: web}]}}]\n";
	char path[128];
	bool ok = ch_write_file("strs.yaml", doc, path, sizeof(path)) &&
		  PH_CMD(CTL_EXIT_OK, "apply", "-f", path) &&
		  PH_CMD(CTL_EXIT_OK, "inspect");

	return ok &&
	       /* Capacity 2 * 65536: both halves. */
	       ph_out_has("\nmf_strings  type hash  key 8  value 1028  "
			  "entries ") &&
	       ph_out_has("/131072 (0.0%)\n") &&
	       ph_out_has(" -> len 4 \"/api\"\n") &&
	       ph_out_has(" -> len 3 \"x-q\"\n") &&
	       ph_out_has(" -> len 8 \"say \\\"hi\\\"\"\n") &&
	       ph_out_has("  strs[0] to target Mesh ref MeshService:web conf "
			  "{\"matches\": [{\"path\": {\"type\": "
			  "\"PathPrefix\", \"value\": \"/api\"}, "
			  "\"headers\": [{\"name\": \"x-q\", \"value\": "
			  "\"say \\\"hi\\\"\"}]}], ") &&
	       /* Strings no record refers to are not written. */
	       PH_CMD(CTL_EXIT_OK, "delete", "MeshHTTPRoute", "strs") &&
	       PH_CMD(CTL_EXIT_OK, "inspect") &&
	       ASSERT_FALSE(strstr(ph_out.out, "\"/api\"")) &&
	       ASSERT_FALSE(strstr(ph_out.out, "x-q"));
}

/* inspect shows the protocol of each mf_services record: http or tcp,
 * marked when a Service's spec said it; a MeshService's per port. */
static bool test_inspect_service_protocols(void)
{
	static const char doc[] =
		RH_DOC("Service", "shop")
		"spec: {vip: 10.96.0.20, port: 80, protocol: http}\n"
		RH_DOC("Service", "bank")
		"spec: {vip: 10.96.0.21, port: 80, protocol: tcp}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshService\n"
		"metadata: {name: cart}\nspec:\n"
		"  ports: [{port: 80, appProtocol: http}, {port: 81}]\n";
	char path[128];
	bool ok = ch_write_file("proto.yaml", doc, path, sizeof(path)) &&
		  PH_CMD(CTL_EXIT_OK, "apply", "-f", path) &&
		  PH_CMD(CTL_EXIT_OK, "inspect");

	return ok &&
	       ph_out_has("  10.96.0.20:80/tcp -> id ") &&
	       ph_out_has(" name shop authz_rules 0 app http "
			  "(spec.protocol)\n") &&
	       ph_out_has(" name bank authz_rules 0 app tcp "
			  "(spec.protocol)\n") &&
	       ph_out_has(":80/tcp -> id ") &&
	       ph_out_has(" name cart authz_rules 0 app http "
			  "(MeshService)\n") &&
	       ph_out_has(" name cart authz_rules 0 app tcp "
			  "(MeshService)\n");
}

/* `mfctl help` lists each command with the first sentence of its text,
 * whole and wrapped within 79 columns. */
static bool test_main_help_summaries(void)
{
	static char *help[] = { "help", NULL };
	bool ok = ph_run(ch_opts(true), CTL_EXIT_OK, help) &&
		  ph_out_has("  ca init      Creates the mesh root CA (ECDSA "
			     "P-256, valid 10 years) in the\n               "
			     "config directory: ca.crt, ca.key (0600) and "
			     "trust-domain\n  cert issue ") &&
		  ph_out_has("(MeshTimeout ... MeshGatewayRoute), names "
			     "sorted\n");

	for (const char *l = ph_out.out; ok && *l;) {
		const char *e = strchrnul(l, '\n');

		ok = ASSERT_TRUE(e - l <= 79);
		l = *e ? e + 1 : e;
	}
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (ch_setup("/sys/fs/bpf/mf-test-ctl", "/tmp/mf-test-ctl-cmds.XXXXXX"))
		return 1;

	TEST_RUN(test_help_and_usage_errors);
	TEST_RUN(test_main_help_summaries);
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
	TEST_RUN(test_inspect_labels_permissions_specs);
	TEST_RUN(test_cert_issue_workload);
	TEST_RUN(test_cert_issue_mesh_rotation);
	TEST_RUN(test_cert_issue_dataplane);
	TEST_RUN(test_inspect_selectors_tags_entries);
	TEST_RUN(test_inspect_strings);
	TEST_RUN(test_inspect_service_protocols);

	ch_cleanup();
	TEST_MAIN_END();
}
