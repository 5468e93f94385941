// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl effective`: the selection and merge rules of lib/select.c applied
 * to a parsed policy, as a user reads them: which policies select a
 * workload, in which order, and the merged conf per destination.
 */
#include "harness/test.h"

#include "policy/doc.h"
#include "../../ctl/effective.h"
#include "policy/validate.h"

#define API "apiVersion: meshforge.io/v1alpha1\n"
#define KUMA "apiVersion: kuma.io/v1alpha1\n"

static const char policy[] =
	"---\n" API
	"kind: Mesh\nmetadata: {name: default}\nspec: {trustDomain: mesh.local}\n"
	"---\n" API
	"kind: Node\nmetadata: {name: n1}\nspec: {address: 10.77.0.1}\n"
	"---\n" API
	"kind: Service\nmetadata: {name: web}\nspec: {vip: 10.96.0.10, port: 80}\n"
	"---\n" API
	"kind: Service\nmetadata: {name: api}\nspec: {vip: 10.96.0.11, port: 80}\n"
	"---\n" API
	"kind: Workload\nmetadata: {name: c1}\n"
	"spec: {node: n1, ip: 10.78.1.11, port: 8080, service: api,\n"
	"       identity: \"spiffe://mesh.local/ns/default/sa/api\",\n"
	"       tags: {version: v2}}\n"
	"---\n" API
	"kind: Workload\nmetadata: {name: c2}\n"
	"spec: {node: n1, ip: 10.78.1.12, port: 8080, service: api,\n"
	"       identity: \"spiffe://mesh.local/ns/default/sa/api\"}\n"
	/* Mesh-wide: 5s connect, 1h idle, to every destination. */
	"---\n" KUMA
	"kind: MeshTimeout\nmetadata: {name: mesh-defaults}\n"
	"spec:\n  targetRef: {kind: Mesh}\n  to:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default: {connectionTimeout: 5s, idleTimeout: 1h}\n"
	/* api's proxies, to web only: 2s connect (overrides), idle kept. */
	"---\n" KUMA
	"kind: MeshTimeout\nmetadata: {name: api-to-web}\n"
	"spec:\n  targetRef: {kind: MeshService, name: api}\n  to:\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      default: {connectionTimeout: 2s}\n"
	/* v2 workloads (MeshSubset) retry; c2 has no version tag. */
	"---\n" KUMA
	"kind: MeshRetry\nmetadata: {name: v2-retry}\n"
	"spec:\n  targetRef: {kind: MeshSubset, tags: {version: v2}}\n  to:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default: {tcp: {maxConnectAttempt: 3}}\n"
	/* Equal specificity: the name that sorts first is merged last. */
	"---\n" KUMA
	"kind: MeshRetry\nmetadata: {name: a-retry}\n"
	"spec:\n  targetRef: {kind: Dataplane, name: c2}\n  to:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default: {tcp: {maxConnectAttempt: 7}}\n"
	"---\n" KUMA
	"kind: MeshRetry\nmetadata: {name: b-retry}\n"
	"spec:\n  targetRef: {kind: Dataplane, name: c2}\n  to:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default: {tcp: {maxConnectAttempt: 9}}\n";

static char *effective(const char *workload, const char *from, int *err)
{
	struct model_set set;
	struct diag d;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	model_set_init(&set);
	diag_init(&d);
	*err = doc_parse_buffer(&set, "p.yaml", policy, strlen(policy), &d);
	if (!*err)
		*err = validate_set(&set, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "  diag: %s\n", d.msgs[i]);
	f = open_memstream(&out, &len);
	if (!*err && f)
		*err = effective_print(f, &set, workload, from);
	if (f)
		fclose(f);
	diag_free(&d);
	model_set_free(&set);
	return out;
}

static bool test_merge_by_specificity(void)
{
	int err;
	char *out = effective("c1", NULL, &err);
	bool ok = ASSERT_EQ(err, 0) && ASSERT_TRUE(out) &&
		  /* to web: the Mesh-wide one, then api's, which wins 2s */
		  ASSERT_TRUE(strstr(out, "MeshTimeout to web: mesh-defaults, "
					  "api-to-web {\"connectionTimeout\": "
					  "\"2s\", \"idleTimeout\": \"1h\"}\n")) &&
		  /* to api: only the Mesh-wide one */
		  ASSERT_TRUE(strstr(out, "MeshTimeout to api: mesh-defaults "
					  "{\"connectionTimeout\": \"5s\", "
					  "\"idleTimeout\": \"1h\"}\n")) &&
		  /* c1 carries version: v2 */
		  ASSERT_TRUE(strstr(out, "MeshRetry to web: v2-retry "
					  "{\"tcp\": {\"maxConnectAttempt\": 3}}\n"));

	if (!ok && out)
		fprintf(stderr, "%s", out);
	free(out);
	return ok;
}

static bool test_name_order_and_dataplane(void)
{
	int err;
	char *out = effective("c2", NULL, &err);
	/* c2: not in the v2 subset; both Dataplane policies select it, and
	 * at equal specificity a-retry is merged last: 7. */
	bool ok = ASSERT_EQ(err, 0) && ASSERT_TRUE(out) &&
		  ASSERT_TRUE(!strstr(out, "v2-retry")) &&
		  ASSERT_TRUE(strstr(out, "MeshRetry to web: b-retry, a-retry "
					  "{\"tcp\": {\"maxConnectAttempt\": 7}}\n"));

	if (!ok && out)
		fprintf(stderr, "%s", out);
	free(out);
	return ok;
}

static bool test_unknown(void)
{
	int err;
	char *out = effective("nope", NULL, &err);
	bool ok = ASSERT_EQ(err, -ENOENT);

	free(out);
	out = effective("c1", "nope", &err);
	ok = ok && ASSERT_EQ(err, -ENOENT);
	free(out);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_merge_by_specificity);
	TEST_RUN(test_name_order_and_dataplane);
	TEST_RUN(test_unknown);
	TEST_MAIN_END();
}
