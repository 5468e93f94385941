// SPDX-License-Identifier: Apache-2.0
/*
 * Policy snapshots: lookups, round robin, authorization semantics (from
 * records built in memory), and one load from real pinned maps under a pin
 * root of the test's own, removed at the end.
 */
#include <arpa/inet.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "harness/bpffs_harness.h"
#include "harness/test.h"
#include "harness/records_harness.h"

#define TD "spiffe://mesh.local/"
#define ID_CLIENT TD "ns/default/sa/client"
#define NS_DEF TD "ns/default/"

/* ---- the records --------------------------------------------------------- */

#define ALLOW MF_AUTHZ_ALLOW
#define DENY MF_AUTHZ_DENY
#define EXACT MF_AUTHZ_MATCH_EXACT
#define PREFIX MF_AUTHZ_MATCH_PREFIX

/* Service ids of the authorization cases. */
enum {
	S_WEB = 1,		/* no rules */
	S_API = 2,
	S_DB = 3,
	S_EMPTY = 4,
	S_EXACT = 10,		/* Allow exact client */
	S_PREFIX = 11,		/* Allow prefix ns/default/ */
	S_TIE_PREFIX_A = 12,	/* Allow P, Deny P */
	S_TIE_PREFIX_B = 13,	/* Deny P, Allow P */
	S_TIE_EXACT = 14,	/* Allow X, Deny X */
	S_EXACT_OVER = 15,	/* Deny prefixes ns/default/ and client,
				 * Allow exact client */
	S_LONGER = 16,		/* mesh Allow, batch Deny, batch/sa/trusted Allow */
	S_SEGMENT = 17,		/* Allow prefix ".../ns/def" */
	S_MISSING = 18,		/* says 2 rules, none present */
	S_INVALID = 19,		/* a rule with an unknown match kind */
	S_ENDPOINT = 20,	/* Deny client at .2.21, Allow it at .2.22 */
};

/* The records of every case into @rs (initialised here; the caller frees
 * it whatever this returns).  Hand-built: some are records mfctl would
 * never write. */
/* Rule @index of service @svc, for its Workload at @ip only. */
static bool rule_at(struct rec_set *rs, uint32_t svc, uint32_t index,
		    uint8_t action, const char *policy, const char *ip)
{
	struct mf_authz_key k = { .service_id = svc, .index = index };
	struct mf_authz_rule v = { .action = action,
				   .match = MF_AUTHZ_MATCH_EXACT };

	return rh_ip(v.endpoint, ip) &&
	       rh_str(v.policy, sizeof(v.policy), policy) &&
	       rh_str(v.spiffe, sizeof(v.spiffe), ID_CLIENT) &&
	       rh_add(rs, REC_AUTHZ, &k, &v);
}

static bool build(struct rec_set *rs)
{
	rec_set_init(rs);
	return rh_mesh(rs, 7, "default", "mesh.local") &&
	       rh_service(rs, S_WEB, "web", "10.96.0.10", 80, 0) &&
	       rh_service(rs, S_API, "api", "10.96.0.11", 8080, 0) &&
	       /* same VIP as web */
	       rh_service(rs, S_DB, "db", "10.96.0.10", 5432, 0) &&
	       rh_service(rs, S_EMPTY, "empty", "10.96.0.12", 80, 0) &&
	       rh_service(rs, S_EXACT, "exact", "10.96.1.10", 80, 1) &&
	       rh_service(rs, S_PREFIX, "prefix", "10.96.1.11", 80, 1) &&
	       rh_service(rs, S_TIE_PREFIX_A, "tie-a", "10.96.1.12", 80, 2) &&
	       rh_service(rs, S_TIE_PREFIX_B, "tie-b", "10.96.1.13", 80, 2) &&
	       rh_service(rs, S_TIE_EXACT, "tie-exact", "10.96.1.14", 80, 2) &&
	       rh_service(rs, S_EXACT_OVER, "exact-over", "10.96.1.15", 80, 3) &&
	       rh_service(rs, S_LONGER, "longer", "10.96.1.16", 80, 3) &&
	       rh_service(rs, S_SEGMENT, "segment", "10.96.1.17", 80, 1) &&
	       rh_service(rs, S_MISSING, "missing", "10.96.1.18", 80, 2) &&
	       rh_service(rs, S_INVALID, "invalid", "10.96.1.19", 80, 2) &&
	       /* web's endpoints, deliberately not in IP order. */
	       rh_endpoint(rs, "10.78.2.12", 8080, "b2", S_WEB, 2,
			   "10.77.0.2", 15008) &&
	       rh_endpoint(rs, "10.78.1.12", 8080, "a2", S_WEB, 2,
			   "10.77.0.1", 0) &&
	       rh_endpoint(rs, "10.78.2.11", 8080, "b1", S_WEB, 2,
			   "10.77.0.2", 15008) &&
	       rh_endpoint(rs, "10.78.1.11", 9090, "a1", S_API, 1,
			   "10.77.0.1", 0) &&
	       rh_endpoint(rs, "10.78.3.1", 5432, "db1", S_DB, 3,
			   "10.77.0.1", 0) &&
	       rh_identity(rs, 2, TD "ns/default/sa/web") &&
	       rh_identity(rs, 1, ID_CLIENT) &&
	       rh_identity(rs, 3, TD "ns/data/sa/db") &&
	       rh_node(rs, "mf-node-b", "10.77.0.2", 15008) &&
	       rh_node(rs, "mf-node-a", "10.77.0.1", 0) &&
	       /* Not in name order either. */
	       rh_gw_instance(rs, "edge-2", "mf-node-a", 3, 0) &&
	       rh_gw_instance(rs, "edge-1", "mf-node-b", 2, 0) &&
	       rh_rule(rs, S_EXACT, 0, ALLOW, EXACT, "p-exact", ID_CLIENT) &&
	       rh_rule(rs, S_PREFIX, 0, ALLOW, PREFIX, "p-prefix", NS_DEF) &&
	       rh_rule(rs, S_TIE_PREFIX_A, 0, ALLOW, PREFIX, "p-allow", NS_DEF) &&
	       rh_rule(rs, S_TIE_PREFIX_A, 1, DENY, PREFIX, "p-deny", NS_DEF) &&
	       rh_rule(rs, S_TIE_PREFIX_B, 0, DENY, PREFIX, "p-deny", NS_DEF) &&
	       rh_rule(rs, S_TIE_PREFIX_B, 1, ALLOW, PREFIX, "p-allow", NS_DEF) &&
	       rh_rule(rs, S_TIE_EXACT, 0, ALLOW, EXACT, "p-allow", ID_CLIENT) &&
	       rh_rule(rs, S_TIE_EXACT, 1, DENY, EXACT, "p-deny", ID_CLIENT) &&
	       rh_rule(rs, S_EXACT_OVER, 0, DENY, PREFIX, "p-deny", NS_DEF) &&
	       rh_rule(rs, S_EXACT_OVER, 1, ALLOW, EXACT, "p-allow", ID_CLIENT) &&
	       /* A prefix as long as the whole ID is still less specific. */
	       rh_rule(rs, S_EXACT_OVER, 2, DENY, PREFIX, "p-deny-all",
		       ID_CLIENT) &&
	       /* Out of index order on purpose. */
	       rh_rule(rs, S_LONGER, 2, ALLOW, PREFIX, "p-trusted",
		       TD "ns/batch/sa/trusted") &&
	       rh_rule(rs, S_LONGER, 0, ALLOW, PREFIX, "p-mesh", TD) &&
	       rh_rule(rs, S_LONGER, 1, DENY, PREFIX, "p-batch",
		       TD "ns/batch/") &&
	       rh_rule(rs, S_SEGMENT, 0, ALLOW, PREFIX, "p-seg", TD "ns/def") &&
	       rh_rule(rs, S_INVALID, 0, ALLOW, PREFIX, "p-mesh", TD) &&
	       rh_rule(rs, S_INVALID, 1, DENY, 9, "p-weird", TD "ns/batch/") &&
	       rh_service(rs, S_ENDPOINT, "endpoint", "10.96.1.20", 80, 2) &&
	       rule_at(rs, S_ENDPOINT, 0, DENY, "p-ep-deny", "10.78.2.21") &&
	       rule_at(rs, S_ENDPOINT, 1, ALLOW, "p-ep-allow", "10.78.2.22");
}

static struct policy *snapshot(void)
{
	struct rec_set rs;
	bool ok = build(&rs);

	return rh_snapshot(&rs, ok);
}

/* ---- lookups ------------------------------------------------------------- */

static bool test_lookups(void)
{
	const struct mf_service *s;
	const struct mf_endpoint *e;
	const struct mf_node *n;
	struct policy *p = snapshot();
	bool ok = false;

	if (!ASSERT_TRUE(p))
		return false;
	if (!ASSERT_EQ(policy_epoch(p), 7) ||
	    !ASSERT_STREQ(policy_trust_domain(p), "mesh.local"))
		goto out;
	s = policy_service_by_vip(p, rh_ip4("10.96.0.10"), 80);
	if (!ASSERT_TRUE(s) || !ASSERT_EQ(s->id, S_WEB) ||
	    !ASSERT_STREQ(s->name, "web"))
		goto out;
	s = policy_service_by_vip(p, rh_ip4("10.96.0.10"), 5432);
	if (!ASSERT_TRUE(s) || !ASSERT_EQ(s->id, S_DB))
		goto out;
	if (!ASSERT_TRUE(!policy_service_by_vip(p, rh_ip4("10.96.0.10"), 81)) ||
	    !ASSERT_TRUE(!policy_service_by_vip(p, rh_ip4("10.96.0.99"), 80)))
		goto out;
	s = policy_service_by_id(p, S_API);
	if (!ASSERT_TRUE(s) || !ASSERT_STREQ(s->name, "api") ||
	    !ASSERT_TRUE(!policy_service_by_id(p, 999)) ||
	    !ASSERT_TRUE(!policy_service_by_id(p, 0)))
		goto out;
	e = policy_endpoint_by_ip(p, rh_ip4("10.78.1.11"));
	if (!ASSERT_TRUE(e) || !ASSERT_STREQ(e->name, "a1") ||
	    !ASSERT_EQ(e->port, 9090) || !ASSERT_EQ(e->service_id, S_API) ||
	    !ASSERT_EQ(policy_endpoint_ip(p, e), rh_ip4("10.78.1.11")) ||
	    !ASSERT_TRUE(!policy_endpoint_by_ip(p, rh_ip4("10.78.9.9"))))
		goto out;
	/* A pointer that is not one of ours gives no address. */
	if (!ASSERT_EQ(policy_endpoint_ip(p, (const void *)p), 0))
		goto out;
	if (!ASSERT_STREQ(policy_identity(p, 1), ID_CLIENT) ||
	    !ASSERT_STREQ(policy_identity(p, 3), TD "ns/data/sa/db") ||
	    !ASSERT_TRUE(!policy_identity(p, 4)))
		goto out;
	n = policy_node(p, "mf-node-b");
	if (!ASSERT_TRUE(n) || !ASSERT_EQ(n->tunnel_port, 15008) ||
	    !ASSERT_EQ(*(uint32_t *)n->ip, rh_ip4("10.77.0.2")))
		goto out;
	n = policy_node(p, "mf-node-a");
	if (!ASSERT_TRUE(n) || !ASSERT_EQ(n->tunnel_port, 0) ||
	    !ASSERT_TRUE(!policy_node(p, "mf-node-c")))
		goto out;
	/* Endpoints name their node by address: back to the name. */
	e = policy_endpoint_by_ip(p, rh_ip4("10.78.2.11"));
	if (!ASSERT_TRUE(e) ||
	    !ASSERT_STREQ(policy_node_name_by_ip(p, e->node_ip), "mf-node-b") ||
	    !ASSERT_EQ(e->tunnel_port, 15008))
		goto out;
	e = policy_endpoint_by_ip(p, rh_ip4("10.78.1.11"));
	if (!ASSERT_TRUE(e) ||
	    !ASSERT_STREQ(policy_node_name_by_ip(p, e->node_ip), "mf-node-a") ||
	    !ASSERT_TRUE(!policy_node_name_by_ip(p,
				(const uint8_t[4]){ 10, 77, 0, 3 })) ||
	    !ASSERT_TRUE(!policy_node_name_by_ip(p,
				(const uint8_t[4]){ 0, 0, 0, 0 })))
		goto out;
	ok = true;
out:
	policy_put(p);
	return ok;
}

static bool test_round_robin(void)
{
	static const char *const want[] = {
		"10.78.1.12", "10.78.2.11", "10.78.2.12",	/* by IP */
		"10.78.1.12", "10.78.2.11", "10.78.2.12",	/* wraps */
		"10.78.1.12",
	};
	struct policy *p = snapshot();
	const struct mf_endpoint *e;
	bool ok = false;
	size_t i;

	if (!ASSERT_TRUE(p))
		return false;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		e = policy_pick_endpoint(p, S_WEB);
		if (!ASSERT_TRUE(e) ||
		    !ASSERT_EQ(policy_endpoint_ip(p, e), rh_ip4(want[i])) ||
		    !ASSERT_EQ(e->service_id, S_WEB))
			goto out;
	}
	/* A service with one endpoint always gets it. */
	for (i = 0; i < 3; i++) {
		e = policy_pick_endpoint(p, S_API);
		if (!ASSERT_TRUE(e) || !ASSERT_STREQ(e->name, "a1"))
			goto out;
	}
	ok = ASSERT_TRUE(!policy_pick_endpoint(p, S_EMPTY)) &&
	     ASSERT_TRUE(!policy_pick_endpoint(p, 999));
out:
	policy_put(p);
	return ok;
}

/* A MeshService of several ports has a record per port, one id: its
 * endpoints are all of them whichever port's record is asked, and its
 * round robin reaches both. */
static bool test_mesh_service_ports(void)
{
	static const char yaml[] =
		RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"
		RH_DOC("Node", "n1") "spec: {address: 10.0.0.1}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshService\n"
		"metadata: {name: shop}\nspec:\n"
		"  selector: {dataplaneLabels: {matchLabels: {app: shop}}}\n"
		"  ports: [{port: 80, targetPort: 8080}, {port: 81, targetPort: "
		"8080}, {port: 82, targetPort: 8080}]\n"
		"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"
		"metadata: {name: s1, labels: {app: shop}}\n"
		"spec: {node: n1, ip: 10.1.0.1, port: 8080, "
		"identity: \"" NS_DEF "sa/shop\"}\n"
		"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"
		"metadata: {name: s2, labels: {app: shop}}\n"
		"spec: {node: n1, ip: 10.1.0.2, port: 8080, "
		"identity: \"" NS_DEF "sa/shop\"}\n";
	struct policy *p = rh_yaml_snapshot(yaml, 1);
	const struct mf_service *s;
	const struct mf_endpoint *a, *b;
	bool ok = ASSERT_TRUE(p);

	for (uint16_t port = 80; ok && port <= 82; port++) {
		s = policy_service_by_vip(p, rh_ip4("241.0.0.1"), port);
		ok = ASSERT_TRUE(s) &&
		     ASSERT_TRUE(policy_service_endpoint_at(p, s->id, 0)) &&
		     ASSERT_TRUE(policy_service_endpoint_at(p, s->id, 1)) &&
		     ASSERT_TRUE(!policy_service_endpoint_at(p, s->id, 2));
		a = ok ? policy_pick_endpoint(p, s->id) : NULL;
		b = ok ? policy_pick_endpoint(p, s->id) : NULL;
		ok = ok && ASSERT_TRUE(a && b && a != b);
	}
	policy_put(p);
	return ok;
}

/* ---- authorization --------------------------------------------------------- */

/* One authorization question and its answer: the action and the reason
 * the agent logs. */
struct authz_case {
	uint32_t svc;
	const char *id;
	enum mf_authz_action want;
	const char *why;
};

/* Asks every question of @c of @p; each wrong answer is an assertion that
 * names the question. */
static bool authz_ask(struct policy *p, const struct authz_case *c, size_t n)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;
		enum mf_authz_action got = policy_authorize(p, c[i].svc, NULL,
							    c[i].id, &why);

		if (!ASSERT_EQ(got, c[i].want) ||
		    !ASSERT_STREQ(why, c[i].why)) {
			fprintf(stderr, "  service %u identity %s\n",
				c[i].svc, c[i].id);
			ok = false;
		}
	}
	return ok;
}

/* authz_ask() of the test snapshot. */
static bool authz_run(const struct authz_case *c, size_t n)
{
	struct policy *p = snapshot();
	bool ok = ASSERT_TRUE(p) && authz_ask(p, c, n);

	policy_put(p);
	return ok;
}

#define AUTHZ_TEST(name, ...)                                                 \
	static bool name(void)                                                \
	{                                                                     \
		static const struct authz_case c[] = { __VA_ARGS__ };         \
		return authz_run(c, sizeof(c) / sizeof(c[0]));                \
	}

AUTHZ_TEST(test_authz_no_rules,
	{ S_WEB, ID_CLIENT, ALLOW, "no-permissions" },
	{ S_WEB, TD "ns/batch/sa/x", ALLOW, "no-permissions" },
	/* Only the mesh's own trust domain is admitted. */
	{ S_WEB, "spiffe://other.td/ns/default/sa/client", DENY,
	  "foreign-trust-domain" },
	{ S_WEB, "spiffe://mesh.local.evil/ns/a/sa/b", DENY,
	  "foreign-trust-domain" },
	{ S_WEB, "", DENY, "no-identity" },
	{ S_WEB, NULL, DENY, "no-identity" },
	{ 999, ID_CLIENT, DENY, "unknown-service" })

/* Rules for one Workload of a service (a permission targeting a subset):
 * traffic to another endpoint is as a service no permission names. */
static bool test_authz_endpoint_rules(void)
{
	static const struct {
		const char *ep, *id;
		enum mf_authz_action want;
		const char *why;
	} c[] = {
		{ "10.78.2.21", ID_CLIENT, DENY, "policy=p-ep-deny rule=" ID_CLIENT },
		{ "10.78.2.22", ID_CLIENT, ALLOW,
		  "policy=p-ep-allow rule=" ID_CLIENT },
		{ "10.78.2.23", ID_CLIENT, ALLOW, "no-permissions" },
		{ "10.78.2.23", "spiffe://other.td/ns/a/sa/b", DENY,
		  "foreign-trust-domain" },
		/* every endpoint's rules at once: Deny wins the tie */
		{ NULL, ID_CLIENT, DENY, "policy=p-ep-deny rule=" ID_CLIENT },
	};
	struct policy *p = snapshot();
	bool ok = ASSERT_TRUE(p);

	for (size_t i = 0; ok && i < sizeof(c) / sizeof(c[0]); i++) {
		uint8_t ip[4];
		const char *why = NULL;

		ok = (!c[i].ep || rh_ip(ip, c[i].ep)) &&
		     ASSERT_EQ(policy_authorize(p, S_ENDPOINT,
						c[i].ep ? ip : NULL, c[i].id,
						&why), c[i].want) &&
		     ASSERT_STREQ(why, c[i].why);
		if (!ok)
			fprintf(stderr, "  case %zu\n", i);
	}
	policy_put(p);
	return ok;
}

/* Two questions the snapshot of the pinned maps must answer as the one
 * built in memory does. */
static const struct authz_case pinned_authz[2] = {
	{ S_LONGER, TD "ns/batch/sa/x", DENY,
	  "policy=p-batch rule=" TD "ns/batch/" },
	{ S_EXACT_OVER, ID_CLIENT, ALLOW, "policy=p-allow rule=" ID_CLIENT },
};

/* The reason is optional to the caller. */
static bool test_authz_why_optional(void)
{
	struct policy *p = snapshot();
	bool ok;

	if (!ASSERT_TRUE(p))
		return false;
	ok = ASSERT_EQ(policy_authorize(p, S_WEB, NULL, ID_CLIENT, NULL), ALLOW);
	policy_put(p);
	return ok;
}

AUTHZ_TEST(test_authz_exact_and_prefix,
	{ S_EXACT, ID_CLIENT, ALLOW, "policy=p-exact rule=" ID_CLIENT },
	{ S_EXACT, ID_CLIENT "2", DENY, "no-matching-rule" },
	{ S_EXACT, TD "ns/default/sa/clien", DENY, "no-matching-rule" },
	{ S_PREFIX, TD "ns/default/sa/anything", ALLOW,
	  "policy=p-prefix rule=" TD "ns/default/" },
	{ S_PREFIX, TD "ns/batch/sa/x", DENY, "no-matching-rule" })

/* Deny wins a tie, whatever the rule order. */
AUTHZ_TEST(test_authz_deny_wins_ties,
	{ S_TIE_PREFIX_A, ID_CLIENT, DENY,
	  "policy=p-deny rule=" TD "ns/default/" },
	{ S_TIE_PREFIX_B, ID_CLIENT, DENY,
	  "policy=p-deny rule=" TD "ns/default/" },
	{ S_TIE_EXACT, ID_CLIENT, DENY, "policy=p-deny rule=" ID_CLIENT })

AUTHZ_TEST(test_authz_specificity,
	/* exact Allow beats prefix Deny */
	{ S_EXACT_OVER, ID_CLIENT, ALLOW, "policy=p-allow rule=" ID_CLIENT },
	{ S_EXACT_OVER, TD "ns/default/sa/other", DENY,
	  "policy=p-deny rule=" TD "ns/default/" },
	/* longer prefix beats shorter, both ways */
	{ S_LONGER, TD "ns/default/sa/x", ALLOW, "policy=p-mesh rule=" TD },
	{ S_LONGER, TD "ns/batch/sa/x", DENY,
	  "policy=p-batch rule=" TD "ns/batch/" },
	{ S_LONGER, TD "ns/batch/sa/trusted", ALLOW,
	  "policy=p-trusted rule=" TD "ns/batch/sa/trusted" },
	/* ...as a plain string prefix: "trusted-2" matches "trusted" */
	{ S_LONGER, TD "ns/batch/sa/trusted-2", ALLOW,
	  "policy=p-trusted rule=" TD "ns/batch/sa/trusted" },
	/* no rule matches another trust domain */
	{ S_LONGER, "spiffe://other.td/ns/a/sa/b", DENY, "no-matching-rule" })

/* Documented choice: a prefix is a plain string prefix, not a path-segment
 * prefix, so ".../ns/def" admits ".../ns/default/...". */
AUTHZ_TEST(test_authz_prefix_not_segment_bound,
	{ S_SEGMENT, TD "ns/default/sa/x", ALLOW,
	  "policy=p-seg rule=" TD "ns/def" },
	{ S_SEGMENT, TD "ns/def/sa/x", ALLOW, "policy=p-seg rule=" TD "ns/def" },
	{ S_SEGMENT, TD "ns/de/sa/x", DENY, "no-matching-rule" })

AUTHZ_TEST(test_authz_fails_closed,
	/* The service says it has rules, the snapshot has none: not open. */
	{ S_MISSING, ID_CLIENT, DENY, "no-matching-rule" },
	/* A rule of unknown kind might have been the deny that mattered. */
	{ S_INVALID, ID_CLIENT, DENY, "invalid-rule" })

/* A Mesh-wide permission by Kuma's rules with sni matches, compiled as
 * mfctl compiles it. */
static const char *const sni_yaml =
	RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"
	RH_DOC("Service", "web") "spec: {vip: 10.96.0.10, port: 80}\n"
	RH_DOC("Service", "api") "spec: {vip: 10.96.0.11, port: 80}\n"
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshTrafficPermission\n"
	"metadata: {name: by-sni}\nspec:\n"
	"  targetRef: {kind: Mesh}\n"
	"  rules:\n"
	"    - default:\n"
	"        allow:\n"
	"          - spiffeID: {type: Exact, value: \"" ID_CLIENT "\"}\n"
	"          - sni: {type: Exact, value: web}\n"
	"        deny:\n"
	"          - spiffeID: {type: Exact, value: \"" ID_CLIENT "\"}\n"
	"            sni: {type: Exact, value: api}\n";

/* Rules by SNI match only a connection that asked for their name; at one
 * SPIFFE ID specificity the rule by SNI beats the one without (Kuma's
 * order), but a SPIFFE ID match beats an SNI-only one. */
static bool test_authz_sni(void)
{
	static const char *const other = TD "ns/default/sa/other";
	struct policy *p = rh_yaml_snapshot(sni_yaml, 1);
	const struct mf_service *web = NULL, *api = NULL;
	const char *why = NULL;
	bool ok = ASSERT_TRUE(p != NULL);

	if (ok) {
		web = policy_service_by_name(p, "web");
		api = policy_service_by_name(p, "api");
		ok = ASSERT_TRUE(web && api);
	}
	/* The client to web: its exact allow, whether or not it asked for
	 * a name. */
	ok = ok &&
	     ASSERT_EQ(policy_authorize_sni(p, web->id, NULL, ID_CLIENT, "web",
					    &why), MF_AUTHZ_ALLOW) &&
	     ASSERT_STREQ(why, "policy=by-sni rule=" ID_CLIENT) &&
	     ASSERT_EQ(policy_authorize_sni(p, web->id, NULL, ID_CLIENT, NULL,
					    NULL), MF_AUTHZ_ALLOW);
	/* To api asking for api: the deny by SPIFFE ID and SNI beats the
	 * allow by SPIFFE ID; without the name only the allow matches. */
	ok = ok &&
	     ASSERT_EQ(policy_authorize_sni(p, api->id, NULL, ID_CLIENT, "api",
					    &why), MF_AUTHZ_DENY) &&
	     ASSERT_STREQ(why, "policy=by-sni rule=" ID_CLIENT " sni=api") &&
	     ASSERT_EQ(policy_authorize_sni(p, api->id, NULL, ID_CLIENT, NULL,
					    NULL), MF_AUTHZ_ALLOW) &&
	     ASSERT_EQ(policy_authorize(p, api->id, NULL, ID_CLIENT, NULL),
		       MF_AUTHZ_ALLOW);
	/* Another identity: allowed by the name web alone, and by nothing
	 * else. */
	ok = ok &&
	     ASSERT_EQ(policy_authorize_sni(p, web->id, NULL, other, "web",
					    &why), MF_AUTHZ_ALLOW) &&
	     ASSERT_STREQ(why, "policy=by-sni rule= sni=web") &&
	     ASSERT_EQ(policy_authorize_sni(p, web->id, NULL, other, NULL,
					    &why), MF_AUTHZ_DENY) &&
	     ASSERT_STREQ(why, "no-matching-rule") &&
	     ASSERT_EQ(policy_authorize_sni(p, web->id, NULL, other, "WEB",
					    NULL), MF_AUTHZ_DENY) &&
	     ASSERT_EQ(policy_authorize_sni(p, api->id, NULL, other, "api",
					    NULL), MF_AUTHZ_DENY);
	policy_put(p);
	return ok;
}

static bool test_refcount_and_duplicates(void)
{
	struct policy *p = NULL, *q;
	const struct mf_endpoint *e;
	struct rec_set rs;
	bool ok;

	/* The same key twice (a hash map walked while it changed). */
	ok = build(&rs) &&
	     rh_service(&rs, S_WEB, "web", "10.96.0.10", 80, 0) &&
	     rh_endpoint(&rs, "10.78.2.12", 8080, "b2", S_WEB, 2, "10.77.0.2",
			 15008) &&
	     ASSERT_EQ(policy_from_rec_set(&p, &rs), 0);
	/* The records may go once the snapshot exists. */
	for (int m = 0; m < REC_MAP_MAX; m++)
		if (rec_count(&rs, m))
			memset(rs.t[m].data, 0xee, rec_count(&rs, m) *
			       (rec_map_info(m)->key_size +
				rec_map_info(m)->val_size));
	rec_set_free(&rs);
	if (!ok)
		return false;
	q = policy_get(p);
	policy_put(p);
	/* Still alive through q: web has its three endpoints, not four. */
	e = policy_pick_endpoint(q, S_WEB);
	ok = ASSERT_TRUE(e) && ASSERT_STREQ(e->name, "a2") &&
	     ASSERT_STREQ(policy_pick_endpoint(q, S_WEB)->name, "b1") &&
	     ASSERT_STREQ(policy_pick_endpoint(q, S_WEB)->name, "b2") &&
	     ASSERT_STREQ(policy_pick_endpoint(q, S_WEB)->name, "a2") &&
	     ASSERT_STREQ(policy_service_by_id(q, S_WEB)->name, "web");
	policy_put(q);
	return ok;
}

static bool test_empty_snapshot(void)
{
	struct rec_set rs;
	struct policy *p;
	bool ok;

	rec_set_init(&rs);
	p = rh_snapshot(&rs, true);
	if (!p)
		return false;
	ok = ASSERT_EQ(policy_epoch(p), 0) &&
	     ASSERT_STREQ(policy_trust_domain(p), "") &&
	     ASSERT_TRUE(!policy_service_by_vip(p, rh_ip4("10.96.0.10"), 80)) &&
	     ASSERT_TRUE(!policy_pick_endpoint(p, 1)) &&
	     ASSERT_EQ(policy_authorize(p, 1, NULL, ID_CLIENT, NULL), DENY);
	policy_put(p);
	return ok;
}

/* ---- from pinned maps ---------------------------------------------------- */

/* Writes every record of @rs into the maps of @pm as they are (half 0,
 * the half in force), and its config. */
static bool fill_maps(const struct pmap *pm, const struct rec_set *rs)
{
	__u32 zero = 0;

	for (int m = 0; m < REC_MAP_MAX; m++)
		for (size_t i = 0; i < rec_count(rs, m); i++)
			if (!ASSERT_EQ(bpf_map_update_elem(pm->fds[m],
							   rec_key(rs, m, i),
							   rec_val(rs, m, i),
							   BPF_ANY), 0))
				return false;
	return ASSERT_EQ(bpf_map_update_elem(pm->config_fd, &zero,
					     &rs->config, BPF_ANY), 0);
}

static bool test_load_from_pinned_maps(void)
{
	struct rec_set rs;
	char root[128];
	struct pmap pm;
	struct policy *p = NULL;
	const struct mf_service *s;
	const struct mf_endpoint *e;
	bool filled, ok = false;

	if (geteuid() != 0)
		TEST_SKIP("needs root for bpf()");
	if (!bh_bpffs_ready())
		TEST_SKIP("bpffs is not mounted and cannot be mounted");
	snprintf(root, sizeof(root), "/sys/fs/bpf/mf-test-policy-%d",
		 (int)getpid());
	pmap_unpin_all(root);
	if (!ASSERT_EQ(pmap_open(&pm, root, true), 0))
		goto out_unpin;
	filled = build(&rs) && fill_maps(&pm, &rs);
	rec_set_free(&rs);
	if (!filled)
		goto out;
	if (!ASSERT_EQ(policy_load(&p, &pm), 0))
		goto out;
	if (!ASSERT_EQ(policy_epoch(p), 7) ||
	    !ASSERT_STREQ(policy_trust_domain(p), "mesh.local"))
		goto out;
	s = policy_service_by_vip(p, rh_ip4("10.96.0.10"), 80);
	if (!ASSERT_TRUE(s) || !ASSERT_EQ(s->id, S_WEB))
		goto out;
	e = policy_pick_endpoint(p, S_WEB);
	if (!ASSERT_TRUE(e) ||
	    !ASSERT_EQ(policy_endpoint_ip(p, e), rh_ip4("10.78.1.12")) ||
	    !ASSERT_STREQ(policy_identity(p, e->identity_id),
			  TD "ns/default/sa/web") ||
	    !ASSERT_TRUE(policy_node(p, "mf-node-b")))
		goto out;
	if (!authz_ask(p, pinned_authz, 2))
		goto out;
	/* The gateway instances, by name. */
	if (!ASSERT_EQ(policy_gw_instance_count(p), 2) ||
	    !ASSERT_STREQ(policy_gw_instance_at(p, 0)->name, "edge-1") ||
	    !ASSERT_STREQ(policy_gw_instance_at(p, 0)->node, "mf-node-b") ||
	    !ASSERT_STREQ(policy_identity(p, policy_gw_instance_at(p, 1)->
					  identity_id), TD "ns/data/sa/db"))
		goto out;
	ok = true;
out:
	policy_put(p);
	pmap_close(&pm);
out_unpin:
	if (!ASSERT_EQ(pmap_unpin_all(root), 0))
		ok = false;
	if (access(root, F_OK) == 0) {
		fprintf(stderr, "pin root %s left behind\n", root);
		ok = false;
	}
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_lookups);
	TEST_RUN(test_round_robin);
	TEST_RUN(test_mesh_service_ports);
	TEST_RUN(test_authz_no_rules);
	TEST_RUN(test_authz_why_optional);
	TEST_RUN(test_authz_exact_and_prefix);
	TEST_RUN(test_authz_deny_wins_ties);
	TEST_RUN(test_authz_specificity);
	TEST_RUN(test_authz_prefix_not_segment_bound);
	TEST_RUN(test_authz_fails_closed);
	TEST_RUN(test_authz_endpoint_rules);
	TEST_RUN(test_authz_sni);
	TEST_RUN(test_refcount_and_duplicates);
	TEST_RUN(test_empty_snapshot);
	TEST_RUN(test_load_from_pinned_maps);
	TEST_MAIN_END();
}
