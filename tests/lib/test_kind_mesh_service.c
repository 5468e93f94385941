// SPDX-License-Identifier: Apache-2.0
/*
 * MeshService (lib/policy/kind_mesh_service.c): a full spec, one of each
 * selector and an empty spec parse into the expected records and print
 * back to the same bytes; selectors, ports, protocols and identities
 * each give exactly the expected diagnostic; the tables keep the layout
 * rules; the agent's /config_dump shows its record as the spec it is,
 * without a policy header.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

#define MS KH_DOC("MeshService", "redis")

static bool test_mesh_service_parse(void)
{
	static const char *const app_redis[] = { "app", "redis" };
	struct model_set set;
	const struct mf_mesh_service *s = kh_policy(
		MS
		"  state: Available\n"
		"  selector: {dataplaneLabels: {matchLabels: {app: redis}}}\n"
		"  ports:\n"
		"    - {name: main, port: 6379, targetPort: 6380,\n"
		"       appProtocol: TCP}\n"
		"    - {port: 8080, targetPort: http-admin,\n"
		"       appProtocol: http}\n"
		"    - {port: 8080, appProtocol: grpc}\n"
		"  identities:\n"
		"    - {type: SpiffeID, value: \"spiffe://mesh.local/ns/db/sa/"
		"redis\"}\n"
		"    - {type: ServiceTag, value: redis_db_svc_6379}\n",
		&set, &kind_mesh_service, 1);
	bool ok;

	ok = s && ASSERT_EQ(s->present, 0xf) &&
	     ASSERT_EQ(s->state, MF_MSVC_AVAILABLE) &&
	     ASSERT_EQ(s->selector.present, 1u << 2) &&
	     kh_tags_are(&set, s->selector.dataplane_labels.match_labels,
			 app_redis, 1) &&
	     ASSERT_EQ(s->nports, 3) && ASSERT_EQ(s->ports[0].present, 0xf) &&
	     ASSERT_STREQ(s->ports[0].name, "main") &&
	     ASSERT_EQ(s->ports[0].port, 6379) &&
	     ASSERT_STREQ(s->ports[0].target_port, "6380") &&
	     /* As written: Kuma compares protocols lower-cased. */
	     ASSERT_STREQ(s->ports[0].app_protocol, "TCP") &&
	     ASSERT_EQ(s->ports[1].present, 0xe) &&
	     ASSERT_STREQ(s->ports[1].target_port, "http-admin") &&
	     ASSERT_STREQ(s->ports[2].app_protocol, "grpc") &&
	     ASSERT_EQ(s->nidentities, 2) &&
	     ASSERT_EQ(s->identities[0].type, MF_MSVC_ID_SPIFFE_ID) &&
	     ASSERT_STREQ(s->identities[0].value,
			  "spiffe://mesh.local/ns/db/sa/redis") &&
	     ASSERT_EQ(s->identities[1].type, MF_MSVC_ID_SERVICE_TAG);
	return kh_finish(&set, ok);
}

/* Each selector on its own, and none at all (Kuma's empty spec). */
static bool test_mesh_service_selectors(void)
{
	static const char *const app_redis[] = { "app", "redis" };
	struct model_set set;
	const struct mf_mesh_service *s;

	s = kh_policy(MS "  selector: {dataplaneTags: {app: redis}}\n", &set,
		      &kind_mesh_service, 1);
	if (!kh_finish(&set, s && ASSERT_EQ(s->selector.present, 1) &&
			     kh_tags_are(&set, s->selector.dataplane_tags,
					 app_redis, 1)))
		return false;
	s = kh_policy(MS "  selector: {dataplaneRef: {name: redis-01}}\n",
		      &set, &kind_mesh_service, 1);
	if (!kh_finish(&set, s && ASSERT_EQ(s->selector.present, 2) &&
			     ASSERT_STREQ(s->selector.dataplane_ref.name,
					  "redis-01")))
		return false;
	/* A label selector without labels: every workload, as in Kuma. */
	s = kh_policy(MS "  selector: {dataplaneLabels: {}}\n", &set,
		      &kind_mesh_service, 1);
	if (!kh_finish(&set, s && ASSERT_EQ(s->selector.present, 4) &&
			     ASSERT_EQ(s->selector.dataplane_labels.present,
				       0)))
		return false;
	s = kh_policy(MS "  {}\n", &set, &kind_mesh_service, 1);
	return kh_finish(&set, s && ASSERT_EQ(s->present, 0));
}

/* A spec-form record has no header: render_record() shows it as
 * {policy, index, spec}, whatever its first bytes would be as one. */
static bool test_mesh_service_record(void)
{
	static const struct mf_pol_key key = { .name = "redis" };
	struct model_set set;
	const struct mf_mesh_service *s = kh_policy(
		MS "  state: Unavailable\n"
		   "  ports: [{port: 6379}]\n",
		&set, &kind_mesh_service, 1);
	char *out = NULL;
	size_t n = 0;
	FILE *f;
	struct emit e;
	bool ok;

	if (!s)
		return false;
	f = open_memstream(&out, &n);
	ok = ASSERT_TRUE(f != NULL);
	if (ok) {
		emit_init(&e, EMIT_JSON, emit_to_file, f);
		render_record(&e, &kind_mesh_service, &key, s, NULL);
		fclose(f);
		ok = ASSERT_STREQ(out, "{\"policy\": \"redis\", \"index\": 0, "
				       "\"spec\": {\"state\": \"Unavailable\", "
				       "\"ports\": [{\"port\": 6379}]}}");
	}
	free(out);
	return kh_finish(&set, ok);
}

/* No two fields share storage: the tables keep the layout rules. */
static bool test_mesh_service_layout(void)
{
	return kh_layout(&kind_mesh_service,
			 MS "  selector: {dataplaneRef: {name: redis-01}}\n"
			    "  ports: [{name: main, port: 6379}]\n"
			    "  identities:\n"
			    "    - {type: ServiceTag, value: redis}\n");
}

KH_TEST_BAD(test_mesh_service_invalid,
	{ MS "  state: Ready\n",
	  "t.yaml:5:10: spec.state: must be Available or Unavailable" },
	{ MS "  selector:\n"
	     "    dataplaneTags: {app: redis}\n"
	     "    dataplaneLabels: {matchLabels: {app: redis}}\n",
	  "t.yaml:6:5: spec.selector: must have only one of dataplaneTags, "
	  "dataplaneRef and dataplaneLabels" },
	{ MS "  selector: {dataplaneRef: {}}\n",
	  "t.yaml:5:28: spec.selector.dataplaneRef.name: is required" },
	{ MS "  ports: [{name: main}]\n",
	  "t.yaml:5:11: spec.ports[0].port: is required" },
	{ MS "  ports: [{port: 0}]\n",
	  "t.yaml:5:18: spec.ports[0].port: must be 1..65535" },
	{ MS "  ports: [{port: 9092, appProtocol: kafka}]\n",
	  "t.yaml:5:37: spec.ports[0].appProtocol: must be grpc, http, "
	  "http2 or tcp (in any case)" },
	{ MS "  ports: [{port: 80, targetPort: 65536}]\n",
	  "t.yaml:5:34: spec.ports[0].targetPort: must be 1..65535 or a "
	  "port name" },
	{ MS "  ports: [{port: 80, targetPort: \"http admin\"}]\n",
	  "t.yaml:5:34: spec.ports[0].targetPort: must be 1..65535 or a "
	  "port name: letters, digits, '-', '_' and '.'" },
	{ MS "  ports: [{name: \"8080\", port: 80}]\n",
	  "t.yaml:5:18: spec.ports[0].name: must be a port name: letters, "
	  "digits, '-', '_' and '.', not only digits" },
	{ MS "  ports:\n"
	     "    - {name: main, port: 80}\n"
	     "    - {name: main, port: 81}\n",
	  "t.yaml:6:5: spec.ports: must not have two ports of one name" },
	/* No appProtocol is tcp. */
	{ MS "  ports: [{port: 80}, {port: 80, appProtocol: Tcp}]\n",
	  "t.yaml:5:10: spec.ports: must not have a port twice with one "
	  "appProtocol" },
	{ MS "  identities: [{type: SpiffeID, value: redis}]\n",
	  "t.yaml:5:40: spec.identities[0].value: must be a SPIFFE ID "
	  "(spiffe://<trust-domain>/<path>) with type SpiffeID" },
	{ MS "  identities: [{type: ServiceTag, value: \"redis db\"}]\n",
	  "t.yaml:5:42: spec.identities[0].value: must be a kuma.io/service "
	  "value (up to 63 of A-Z, a-z, 0-9, '.', '_', '/', ':' and '-') "
	  "with type ServiceTag" },
	{ MS "  identities: [{type: Other, value: redis}]\n",
	  "t.yaml:5:23: spec.identities[0].type: must be ServiceTag or "
	  "SpiffeID" },
	{ MS "  identities: [{type: SpiffeID}]\n",
	  "t.yaml:5:16: spec.identities[0].value: is required" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_mesh_service_parse);
	TEST_RUN(test_mesh_service_selectors);
	TEST_RUN(test_mesh_service_record);
	TEST_RUN(test_mesh_service_layout);
	TEST_RUN(test_mesh_service_invalid);
	TEST_MAIN_END();
}
