// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's store of policy-kind records: records come out in (policy,
 * index) order whatever order the map gave them, HTTP routes are found by
 * destination with a binary search, a record that fails its schema check
 * is dropped rather than trusted, and the JSON dump resolves tags and is
 * the same bytes rendered a record at a time; the strings records keep out
 * of line are found by id, shown in the dump, and a record whose string is
 * missing or malformed is dropped.
 */
#include "harness/test.h"
#include "harness/records_harness.h"

#include "../../agent/polkinds.h"

/* A route rule record of policy @name, entry to @dest ("" = Mesh). */
static void route(struct mf_pol_key *k, struct mf_http_route *v,
		  const char *name, uint32_t index, const char *dest)
{
	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	strcpy(k->name, name);
	k->index = index;
	v->hdr.target.kind = MF_REF_MESH;
	v->hdr.section = MF_SEC_TO;
	v->hdr.rule = (uint16_t)index;
	if (*dest) {
		v->hdr.ref.kind = MF_REF_MESH_SERVICE;
		strcpy(v->hdr.ref.name, dest);
	} else {
		v->hdr.ref.kind = MF_REF_MESH;
	}
}

struct sink {
	char buf[8192];
	size_t len;
};

static void sink_write(void *arg, const char *b, size_t n)
{
	struct sink *s = arg;

	if (s->len + n < sizeof(s->buf)) {
		memcpy(s->buf + s->len, b, n);
		s->len += n;
		s->buf[s->len] = '\0';
	}
}

static bool test_routes_by_destination(void)
{
	/* Given out of order, as a hash map walk gives them. */
	struct mf_pol_key keys[6];
	struct mf_http_route vals[6];
	struct rec_set rs;
	const struct mf_pol_key *key;
	const uint32_t *idx;
	struct polkinds *pk = NULL;
	size_t hk = rh_kind_index(&kind_mesh_http_route), n;
	struct sink out = { .len = 0 };
	struct emit e;
	bool ok;

	route(&keys[0], &vals[0], "web-b", 0, "web");
	route(&keys[1], &vals[1], "api-a", 0, "api");
	route(&keys[2], &vals[2], "web-a", 1, "web");
	route(&keys[3], &vals[3], "mesh-all", 0, "");
	route(&keys[4], &vals[4], "web-a", 0, "web");
	/* A record no apply could write: more matches than there is room
	 * for.  It must be dropped, not indexed. */
	route(&keys[5], &vals[5], "bad", 0, "web");
	vals[5].rule.present = 1u << 0;
	vals[5].rule.nmatches = 200;
	/* web-a rule 0 goes to a subset: its tags resolve in the dump. */
	vals[4].rule.present = 1u << 1;
	vals[4].rule.def.present = 1u << 1;
	vals[4].rule.def.nbackend_refs = 1;
	vals[4].rule.def.backend_refs[0].present = 1u << 0;
	vals[4].rule.def.backend_refs[0].weight = 5;
	vals[4].rule.def.backend_refs[0].ref.kind = MF_REF_MESH_SERVICE_SUBSET;
	strcpy(vals[4].rule.def.backend_refs[0].ref.name, "web");
	vals[4].rule.def.backend_refs[0].ref.tags = 7;

	rec_set_init(&rs);
	ok = rh_tagset(&rs, 7, 1, (const char *const[]){ "version", "v2" });
	for (size_t i = 0; ok && i < 6; i++)
		ok = rh_kind(&rs, &kind_mesh_http_route, keys[i].name,
			     keys[i].index, &vals[i]);
	ok = ok && ASSERT_EQ(polkinds_build(&pk, &rs), 0) &&
	     /* the bad record is gone */
	     ASSERT_EQ(polkinds_count(pk, hk), 5);
	/* (policy, index) order */
	ok = ok && ASSERT_TRUE(polkinds_record(pk, hk, 0, &key)) &&
	     ASSERT_STREQ(key->name, "api-a") &&
	     ASSERT_TRUE(polkinds_record(pk, hk, 2, &key)) &&
	     ASSERT_STREQ(key->name, "web-a") && ASSERT_EQ(key->index, 0) &&
	     ASSERT_TRUE(polkinds_record(pk, hk, 3, &key)) &&
	     ASSERT_STREQ(key->name, "web-a") && ASSERT_EQ(key->index, 1) &&
	     ASSERT_TRUE(!polkinds_record(pk, hk, 5, NULL));
	n = ok ? polkinds_http_routes(pk, "web", &idx) : 0;
	ok = ok && ASSERT_EQ(n, 3);
	for (size_t i = 0; ok && i < n; i++) {
		ok = ASSERT_TRUE(polkinds_record(pk, hk, idx[i], &key)) &&
		     ASSERT_TRUE(!strncmp(key->name, "web-", 4));
	}
	ok = ok && ASSERT_EQ(polkinds_http_routes(pk, "api", &idx), 1) &&
	     ASSERT_EQ(polkinds_http_routes(pk, "", &idx), 1) &&
	     ASSERT_TRUE(polkinds_record(pk, hk, idx[0], &key)) &&
	     ASSERT_STREQ(key->name, "mesh-all") &&
	     ASSERT_EQ(polkinds_http_routes(pk, "nope", &idx), 0) &&
	     ASSERT_TRUE(idx == NULL) &&
	     ASSERT_EQ(polkinds_http_routes(pk, "zzz", &idx), 0);
	emit_init(&e, EMIT_JSON, sink_write, &out);
	if (ok)
		polkinds_emit(pk, &e);
	ok = ok && ASSERT_TRUE(strstr(out.buf, "{\"MeshHTTPRoute\": [")) &&
	     ASSERT_TRUE(strstr(out.buf, "\"version\": \"v2\"")) &&
	     ASSERT_TRUE(!strstr(out.buf, "\"bad\""));
	if (!ok)
		fprintf(stderr, "dump: %s\n", out.buf);
	polkinds_free(pk);
	rec_set_free(&rs);
	return ok;
}

/* The dump shows what a record holds besides its conf: a MeshGateway's
 * selectors and its own tags, tags resolved. */
static bool test_dump_gateway_tags(void)
{
	struct rec_set rs;
	struct polkinds *pk = NULL;
	struct sink out = { .len = 0 };
	struct emit e;
	bool ok = rh_compile(
		"---\napiVersion: meshforge.io/v1alpha1\nkind: Mesh\n"
		"metadata: {name: default}\nspec: {trustDomain: mesh.local}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshGateway\n"
		"metadata: {name: edge}\nspec:\n"
		"  selectors: [{match: {kuma.io/service: edge}}]\n"
		"  tags: {tier: front}\n"
		"  conf: {listeners: [{port: 8080, protocol: HTTP}]}\n",
		NULL, &rs);

	ok = ok && ASSERT_EQ(polkinds_build(&pk, &rs), 0);
	emit_init(&e, EMIT_JSON, sink_write, &out);
	if (ok)
		polkinds_emit(pk, &e);
	ok = ok && ASSERT_TRUE(strstr(out.buf, "\"selectors\": [{\"kuma.io/"
					       "service\": \"edge\"}], "
					       "\"tags\": {\"tier\": "
					       "\"front\"}, \"conf\": "));
	if (!ok)
		fprintf(stderr, "dump: %s\n", out.buf);
	polkinds_free(pk);
	rec_set_free(&rs);
	return ok;
}

/* A route's path and header, kept in mf_strings: polkinds_str() reads
 * them ("" for 0, NULL for an id the snapshot lacks) and the dump shows
 * them; once a string is malformed (its length off), it is dropped, and
 * so is the record that refers to it. */
static bool test_strings(void)
{
	static const char yaml[] =
		RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"
		RH_DOC("Service", "web") "spec: {vip: 10.96.0.10, port: 80}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshHTTPRoute\n"
		"metadata: {name: r}\nspec:\n"
		"  to:\n  - targetRef: {kind: MeshService, name: web}\n"
		"    rules: [{matches: [{path: {type: PathPrefix, "
		"value: /api},\n"
		"                        headers: [{name: x-q, value: v}]}],\n"
		"             default: {backendRefs: [{kind: MeshService, "
		"name: web}]}}]\n";
	size_t hk = rh_kind_index(&kind_mesh_http_route), len = 99;
	struct mf_string_key sk = { 0 };
	struct polkinds *pk = NULL;
	struct sink out = { .len = 0 };
	const struct mf_http_route *r;
	struct mf_string *str;
	struct rec_set rs;
	const char *p;
	struct emit e;
	long i;
	bool ok = rh_compile(yaml, NULL, &rs) &&
		  ASSERT_EQ(rec_count(&rs, REC_STRINGS), 3) &&
		  ASSERT_EQ(polkinds_build(&pk, &rs), 0) &&
		  ASSERT_EQ(polkinds_count(pk, hk), 1);

	r = ok ? polkinds_record(pk, hk, 0, NULL) : NULL;
	p = r ? polkinds_str(pk, r->rule.matches[0].path.value, &len) : NULL;
	ok = ok && ASSERT_TRUE(p) && ASSERT_STREQ(p, "/api") &&
	     ASSERT_EQ(len, 4) &&
	     ASSERT_STREQ(polkinds_str(pk, r->rule.matches[0].headers[0].name,
				       &len), "x-q") &&
	     ASSERT_STREQ(polkinds_str(pk, 0, &len), "") && ASSERT_EQ(len, 0);
	/* An id no string has. */
	for (sk.id = 1; ok && rec_find(&rs, REC_STRINGS, &sk) >= 0; sk.id++)
		;
	ok = ok && ASSERT_TRUE(!polkinds_str(pk, sk.id, &len));
	emit_init(&e, EMIT_JSON, sink_write, &out);
	if (ok)
		polkinds_emit(pk, &e);
	ok = ok && ASSERT_TRUE(strstr(out.buf, "{\"path\": {\"type\": "
				      "\"PathPrefix\", \"value\": \"/api\"}, "
				      "\"headers\": [{\"name\": \"x-q\", "
				      "\"value\": \"v\"}]}"));
	if (!ok)
		fprintf(stderr, "dump: %s\n", out.buf);
	polkinds_free(pk);
	pk = NULL;
	/* The path's string, malformed. */
	i = -1;
	for (size_t j = 0; ok && j < rec_count(&rs, REC_STRINGS); j++) {
		str = rec_val(&rs, REC_STRINGS, j);
		if (!strcmp(str->s, "/api"))
			i = (long)j;
	}
	ok = ok && ASSERT_GE(i, 0);
	if (ok) {
		str = rec_val(&rs, REC_STRINGS, (size_t)i);
		str->len++;
	}
	ok = ok && ASSERT_EQ(polkinds_build(&pk, &rs), 0) &&
	     ASSERT_EQ(polkinds_count(pk, hk), 0);
	polkinds_free(pk);
	rec_set_free(&rs);
	return ok;
}

/* A record at a time (polkinds_emit_next()), the dump is the same bytes
 * as in one call: true once per record, then false with the map closed,
 * and false again after that without writing anything. */
static bool test_dump_a_record_at_a_time(void)
{
	static const char yaml[] =
		RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"
		RH_DOC("Service", "web") "spec: {vip: 10.96.0.10, port: 80}\n"
		RH_DOC("MeshTimeout", "mt")
		"spec:\n  targetRef: {kind: Mesh}\n  to:\n"
		"    - targetRef: {kind: MeshService, name: web}\n"
		"      default: {connectionTimeout: 2s}\n"
		"    - targetRef: {kind: Mesh}\n"
		"      default: {idleTimeout: 1h}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshGateway\n"
		"metadata: {name: edge}\nspec:\n"
		"  selectors: [{match: {kuma.io/service: edge}}]\n"
		"  conf: {listeners: [{port: 8080, protocol: HTTP}]}\n";
	static struct sink whole, steps;
	struct polkinds_cursor c = { 0 };
	struct polkinds *pk = NULL;
	struct rec_set rs;
	struct emit e;
	size_t n = 0, records = 0;
	bool ok = rh_compile(yaml, NULL, &rs) &&
		  ASSERT_EQ(polkinds_build(&pk, &rs), 0);

	for (size_t kind = 0; ok && kind < kinds_count; kind++)
		records += polkinds_count(pk, kind);
	whole.len = steps.len = 0;
	if (ok) {
		emit_init(&e, EMIT_JSON, sink_write, &whole);
		polkinds_emit(pk, &e);
		emit_init(&e, EMIT_JSON, sink_write, &steps);
		while (n <= records && polkinds_emit_next(pk, &e, &c))
			n++;
	}
	ok = ok && ASSERT_EQ(records, 3) && ASSERT_EQ(n, records) &&
	     ASSERT_FALSE(polkinds_emit_next(pk, &e, &c)) &&
	     ASSERT_EQ(e.depth, 0) && ASSERT_EQ(e.err, 0) &&
	     ASSERT_EQ(steps.len, whole.len) &&
	     ASSERT_STREQ(steps.buf, whole.buf) &&
	     ASSERT_TRUE(strstr(whole.buf, "{\"MeshTimeout\": [{"));
	if (!ok)
		fprintf(stderr, "whole: %s\nsteps: %s\n", whole.buf, steps.buf);
	polkinds_free(pk);
	rec_set_free(&rs);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_routes_by_destination);
	TEST_RUN(test_dump_gateway_tags);
	TEST_RUN(test_strings);
	TEST_RUN(test_dump_a_record_at_a_time);
	TEST_MAIN_END();
}
