// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emit.h"
#include "pemit.h"

/*
 * True when @s reads back as the same string when written unquoted: a YAML
 * reader would take "null", "true", "1e3" or "0x10" as something other than
 * a string (ours does not, but other tools will read this output too).
 */
static bool emit_plain_ok(const char *s)
{
	static const char *const words[] = { "null", "true", "false", "yes",
					     "no", "on", "off", "y", "n", NULL };

	if (!*s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		      *p == '_'))
			return false;
	for (const char *const *w = words; *w; w++)
		if (!strcasecmp(s, *w))
			return false;
	return true;
}

/* A string scalar: plain when safe, else double-quoted with YAML escapes
 * (names and SPIFFE IDs never need them, but file paths and other free
 * text may hold a backslash, a quote or a control character, and must
 * read back as they were). */
static void emit_str(FILE *f, const char *s)
{
	if (emit_plain_ok(s)) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void emit_ip(FILE *f, const uint8_t ip[4])
{
	fprintf(f, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

static void emit_head(FILE *f, const struct model_obj *o)
{
	fprintf(f, "---\napiVersion: %s\nkind: %s\nmetadata:\n  name: ",
		MODEL_API_MESHFORGE, model_kind_name(o->kind));
	emit_str(f, o->name);
	fputs("\nspec:\n", f);
}

/* Mesh spec.mtls, when there is one. */
static void emit_mtls(FILE *f, const struct model_mtls *m)
{
	if (!m || (!m->nbackends && !m->enabled[0]))
		return;
	fputs("  mtls:\n", f);
	if (m->enabled[0]) {
		fputs("    enabledBackend: ", f);
		emit_str(f, m->enabled);
		fputc('\n', f);
	}
	if (!m->nbackends)
		return;
	fputs("    backends:\n", f);
	for (uint32_t i = 0; i < m->nbackends; i++) {
		const struct mf_mtls_backend *b = &m->backends[i];

		fputs("      - name: ", f);
		emit_str(f, b->name);
		fprintf(f, "\n        type: %s\n        mode: %s\n",
			b->type == MF_MTLS_PROVIDED ? "provided" : "builtin",
			b->mode == MF_MTLS_PERMISSIVE ? "PERMISSIVE" : "STRICT");
		if (b->cert_validity_s)
			fprintf(f, "        dpCert:\n          rotation:\n"
				   "            expiration: %us\n",
				b->cert_validity_s);
		if (b->type == MF_MTLS_PROVIDED) {
			fputs("        conf:\n          cert:\n            file: ",
			      f);
			emit_str(f, b->cert_file);
			fputs("\n          key:\n            file: ", f);
			emit_str(f, b->key_file);
			fputc('\n', f);
		}
	}
}

/* The `rules` form: one rule, its lists in compile order. */
static void emit_mtp_rules(FILE *f, const struct model_mtp *m)
{
	const struct model_rule_list *lists = model_rule_lists;

	fputs("  rules:\n    - default:\n", f);
	for (size_t l = 0; l < MODEL_RULE_LISTS; l++) {
		bool head = false;

		for (size_t i = 0; i < m->nfrom; i++) {
			const struct model_from *fr = &m->from[i];

			if (fr->action != lists[l].action)
				continue;
			if (!head)
				fprintf(f, "        %s:\n", lists[l].key);
			head = true;
			fprintf(f, "          - spiffeID:\n              type: %s\n"
				   "              value: ",
				fr->kind == MODEL_FROM_SPIFFE_ID ? "Exact" :
								   "Prefix");
			emit_str(f, fr->name);
			fputc('\n', f);
		}
	}
}

static void emit_mtp(FILE *f, const struct model_mtp *m)
{
	if (m->mesh_target) {
		fputs("  targetRef:\n    kind: Mesh\n", f);
	} else {
		fputs("  targetRef:\n    kind: MeshService\n    name: ", f);
		emit_str(f, m->target);
		fputc('\n', f);
	}
	if (m->rules_form) {
		emit_mtp_rules(f, m);
		return;
	}
	fputs("  from:\n", f);
	for (size_t i = 0; i < m->nfrom; i++) {
		const struct model_from *fr = &m->from[i];

		fprintf(f, "    - targetRef:\n        kind: %s\n",
			model_from_kind_name(fr->kind));
		if (fr->kind != MODEL_FROM_MESH) {
			fputs("        name: ", f);
			emit_str(f, fr->name);
			fputc('\n', f);
		}
		fprintf(f, "      default:\n        action: %s\n",
			model_action_name(fr->action));
	}
}

static void emit_obj(FILE *f, const struct model_set *set,
		     const struct model_obj *o)
{
	emit_head(f, o);
	switch (o->kind) {
	case MODEL_MESH:
		fputs("  trustDomain: ", f);
		emit_str(f, o->u.mesh.trust_domain);
		fputc('\n', f);
		emit_mtls(f, o->u.mesh.mtls);
		break;
	case MODEL_NODE:
		fputs("  address: ", f);
		emit_ip(f, o->u.node.ip);
		fprintf(f, "\n  tunnelPort: %u\n", o->u.node.tunnel_port);
		break;
	case MODEL_SERVICE:
		fputs("  vip: ", f);
		emit_ip(f, o->u.service.vip);
		fprintf(f, "\n  port: %u\n  protocol: tcp\n",
			o->u.service.port);
		break;
	case MODEL_WORKLOAD: {
		const struct model_workload *w = &o->u.workload;

		fputs("  node: ", f);
		emit_str(f, w->node);
		fputs("\n  ip: ", f);
		emit_ip(f, w->ip);
		fprintf(f, "\n  port: %u\n  service: ", w->port);
		emit_str(f, w->service);
		fputs("\n  identity: ", f);
		emit_str(f, w->identity);
		fputc('\n', f);
		if (w->tags) {
			fputs("  tags:\n", f);
			pemit_tags_yaml(f, set, w->tags, 4);
		}
		break;
	}
	case MODEL_MTP:
		emit_mtp(f, &o->u.mtp);
		break;
	default:
		pemit_yaml(f, set, o);
		break;
	}
}

int emit_set(FILE *f, const struct model_set *set, unsigned kinds)
{
	const struct model_obj **sorted;

	sorted = calloc(set->n ? set->n : 1, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	model_set_sorted(set, sorted);
	for (size_t i = 0; i < set->n; i++)
		if (kinds & (1u << sorted[i]->kind))
			emit_obj(f, set, sorted[i]);
	free(sorted);
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}

int emit_one(FILE *f, const struct model_set *set, const struct model_obj *o)
{
	emit_obj(f, set, o);
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}
