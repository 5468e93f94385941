/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the policy and mfctl tests share (test_compile, test_doc,
 * test_effective, test_cmds, test_txn, test_apply):
 *
 *   - the YAML documents of a small mesh, written once: a Mesh with trust
 *     domain mesh.local, nodes, services, workloads whose identities are
 *     service accounts of namespace default, and the web-allow policy;
 *   - the services tests' (test_mesh_service, test_ext_service) base: the
 *     Mesh (with spec fields of their own) and node mf-node-b, Kuma
 *     documents, the mf_services record at a VIP and port;
 *   - diagnostics compared against a list of messages, of validation or
 *     of parsing;
 *   - two object sets compared by kind and name;
 *   - a set rendered to a string;
 *   - with "harness/ctl_harness.h" included first: an mfctl command line
 *     run against the memory store and its exit code checked in one call,
 *     its output kept for the checks that follow, and the store's epoch.
 *
 * Include after "harness/test.h".
 */
#ifndef MF_POLICY_HARNESS_H
#define MF_POLICY_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/test.h"
#include "harness/records_harness.h"
#include "policy/diag.h"
#include "policy/model.h"
#include "policy/render.h"

/* The identity of service account @sa in namespace default. */
#define PH_SA(sa) "spiffe://mesh.local/ns/default/sa/" sa

#define PH_MESH RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"
#define PH_NODE(name, addr)                                                   \
	RH_DOC("Node", name) "spec: {address: " addr "}\n"
#define PH_SVC(name, vip, port)                                               \
	RH_DOC("Service", name) "spec: {vip: " vip ", port: " port "}\n"
#define PH_WL(name, node, ip, port, service, sa)                              \
	RH_DOC("Workload", name)                                              \
	"spec: {node: " node ", ip: " ip ", port: " port ", service: "       \
	service ", identity: \"" PH_SA(sa) "\"}\n"

/* The node the services tests put their workloads on, and the Mesh with
 * it. */
#define PH_NODE_B PH_NODE("mf-node-b", "10.77.0.2")
#define PH_BASE PH_MESH PH_NODE_B

/* The Mesh with spec fields @fields besides its trust domain (e.g.
 * "meshServices: {vipRange: 10.200.0.0/30}"), and node mf-node-b. */
#define PH_MESH_WITH(fields)                                                  \
	RH_DOC("Mesh", "default")                                             \
	"spec: {trustDomain: mesh.local, " fields "}\n" PH_NODE_B

/* The head of a Kuma document of @kind named @name, up to "spec:". */
#define PH_KUMA_DOC(kind, name)                                               \
	"---\napiVersion: kuma.io/v1alpha1\nkind: " kind "\n"               \
	"metadata: {name: " name "}\nspec:\n"

/* web-allow's spec up to its first entry, which allows the client. */
#define PH_WEB_ALLOW_CLIENT                                                   \
	"spec:\n  targetRef: {kind: MeshService, name: web}\n  from:\n"       \
	"    - targetRef: {kind: SpiffeID, name: \"" PH_SA("client") "\"}\n" \
	"      default: {action: Allow}\n"

/* web-allow in the compile and parse tests: namespace batch denied too,
 * the rest of the mesh allowed; from "spec:" on. */
#define PH_WEB_ALLOW_SPEC                                                     \
	PH_WEB_ALLOW_CLIENT                                                   \
	"    - targetRef: {kind: SpiffeIDPrefix, name: "                      \
	"\"spiffe://mesh.local/ns/batch/\"}\n"                                \
	"      default: {action: Deny}\n"                                     \
	"    - targetRef: {kind: Mesh}\n"                                     \
	"      default: {action: Allow}\n"

/* web-allow in the mfctl tests: everyone but the client denied. */
#define PH_WEB_ALLOW                                                          \
	RH_DOC("MeshTrafficPermission", "web-allow") PH_WEB_ALLOW_CLIENT      \
	"    - targetRef: {kind: Mesh}\n"                                     \
	"      default: {action: Deny}\n"

/* What test_cmds and test_txn apply besides the Mesh and their nodes:
 * services web (port 80) and api (port 81), one workload of each on
 * mf-node-b (b1, b2) with its service's identity, and web-allow. */
#define PH_WEB_AND_API                                                        \
	PH_SVC("web", "10.96.0.10", "80")                                     \
	PH_SVC("api", "10.96.0.11", "81")                                     \
	PH_WL("b1", "mf-node-b", "10.78.2.11", "8080", "web", "web")          \
	PH_WL("b2", "mf-node-b", "10.78.2.12", "8081", "api", "api")          \
	PH_WEB_ALLOW

/* @d holds exactly the messages @want (NULL-terminated), in that order,
 * and dropped none; else what it holds goes to stderr. */
static inline bool ph_diag_is(const struct diag *d, const char *const *want)
{
	size_t n = 0;
	bool ok;

	while (want[n])
		n++;
	ok = ASSERT_EQ(d->n, n) && ASSERT_EQ(d->dropped, 0);
	for (size_t i = 0; ok && i < n; i++)
		ok = ASSERT_STREQ(d->msgs[i], want[i]);
	if (!ok)
		for (size_t i = 0; i < d->n; i++)
			fprintf(stderr, "  diag: %s\n", d->msgs[i]);
	return ok;
}

/* @yaml (as t.yaml) parses and validates; what refused it is printed. */
static inline bool ph_validates(const char *yaml)
{
	struct model_set set;
	struct diag d;
	bool ok;

	model_set_init(&set);
	diag_init(&d);
	ok = ASSERT_EQ(doc_parse_buffer(&set, "t.yaml", yaml, strlen(yaml),
					&d), 0) &&
	     ASSERT_EQ(validate_set(&set, &d), 0);
	for (size_t i = 0; !ok && i < d.n; i++)
		fprintf(stderr, "  diag: %s\n", d.msgs[i]);
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

/* @yaml (as t.yaml) is refused with exactly the messages @want
 * (NULL-terminated): by parsing, or (@validate) parsed and then refused
 * by validation. */
static inline bool ph_refuses(const char *yaml, bool validate,
			      const char *const *want)
{
	struct model_set set;
	struct diag d;
	bool ok;

	model_set_init(&set);
	diag_init(&d);
	ok = ASSERT_EQ(doc_parse_buffer(&set, "t.yaml", yaml, strlen(yaml),
					&d), validate ? 0 : -EINVAL) &&
	     (!validate || ASSERT_EQ(validate_set(&set, &d), -EINVAL)) &&
	     ph_diag_is(&d, want);
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

static inline bool ph_validate_refuses(const char *yaml,
				       const char *const *want)
{
	return ph_refuses(yaml, true, want);
}

static inline bool ph_parse_refuses(const char *yaml, const char *const *want)
{
	return ph_refuses(yaml, false, want);
}

/* @yaml (as t.yaml) parses and validates, and its compile is refused for
 * records that do not fit (-ENOSPC) with exactly the messages @want. */
static inline bool ph_compile_refuses(const char *yaml,
				      const char *const *want)
{
	struct model_set set;
	struct rec_set rs;
	struct diag d;
	bool ok;

	model_set_init(&set);
	diag_init(&d);
	ok = ASSERT_EQ(doc_parse_buffer(&set, "t.yaml", yaml, strlen(yaml),
					&d), 0) &&
	     ASSERT_EQ(validate_set(&set, &d), 0) &&
	     ASSERT_EQ(compile_set(&set, NULL, &rs, &d), -ENOSPC) &&
	     ph_diag_is(&d, want);
	rec_set_free(&rs);
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

/* The mf_services record of @vip:@port (TCP) in @rs, or NULL. */
static inline const struct mf_service *ph_service_at(const struct rec_set *rs,
						     const char *vip,
						     uint16_t port)
{
	struct mf_service_key k = { .port = port, .proto = MF_PROTO_TCP };
	long i;

	if (!rh_ip(k.vip, vip))
		return NULL;
	i = rec_find(rs, REC_SERVICES, &k);
	return i < 0 ? NULL : rec_val(rs, REC_SERVICES, (size_t)i);
}

/* @a and @b hold the same objects (locations aside), in any order. */
static inline bool ph_same_objects(const struct model_set *a,
				   const struct model_set *b)
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

/* The objects of @set of the kinds in mask @kinds as `get` prints them
 * (YAML), @n bytes; a malloc'd string, or NULL after a failed
 * assertion. */
static inline char *ph_render(const struct model_set *set, unsigned kinds,
			      size_t *n)
{
	char *y = NULL;
	FILE *f = open_memstream(&y, n);
	bool ok = ASSERT_TRUE(f) &&
		  ASSERT_EQ(render_set(f, EMIT_YAML, set, kinds, NULL), 0);

	if (f)
		fclose(f);
	if (!ok) {
		free(y);
		return NULL;
	}
	return y;
}

#ifdef MF_CTL_HARNESS_H
/* What the last ph_cmd() printed.  Each run frees the one before, and the
 * last one stays reachable from here until exit. */
static struct ch_run ph_out;

/* Runs the mfctl command line @args (NULL-terminated) with options @o;
 * true when its output was captured into ph_out and it exited with
 * @rc. */
static inline bool ph_run(struct ctl_opts o, int rc, char **args)
{
	ch_run_free(&ph_out);
	if (!ch_capture(&o, args, &ph_out))
		return false;
	if (ASSERT_EQ(ph_out.rc, rc))
		return true;
	fprintf(stderr, "  %s said:\n%s", args[0], ph_out.err);
	return false;
}

/* ph_run() of the arguments after @rc, up to a NULL. */
static inline bool ph_cmd(struct ctl_opts o, int rc, ...)
{
	char *args[8];
	size_t n = 0;
	va_list ap;

	va_start(ap, rc);
	while (n < 8 && (args[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	return ASSERT_TRUE(n < 8) && ph_run(o, rc, args);
}

/* One command line against the memory store: PH_CMD(rc, "get", "-o",
 * "json"). */
#define PH_CMD(rc, ...) ph_cmd(ch_opts(true), (rc), __VA_ARGS__, (char *)NULL)

/* What the last command wrote to stdout or stderr holds @want; else its
 * head (a `get` of thousands of objects is megabytes) goes to stderr. */
static inline bool ph_has(const char *text, const char *want)
{
	if (ASSERT_TRUE(text && strstr(text, want)))
		return true;
	fprintf(stderr, "  wanted \"%s\" in:\n%.2000s\n", want,
		text ? text : "");
	return false;
}

#define ph_out_has(want) ph_has(ph_out.out, (want))
#define ph_err_has(want) ph_has(ph_out.err, (want))

/* The epoch in the memory store, or (__u64)-1 when it cannot be read. */
static inline __u64 ph_epoch(void)
{
	struct rec_set rs;
	__u64 e = (__u64)-1;

	if (ch_read(true, &rs))
		e = rs.config.epoch;
	rec_set_free(&rs);
	return e;
}
#endif /* MF_CTL_HARNESS_H */

#endif /* MF_POLICY_HARNESS_H */
