// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl inspect`: every pinned map of the pin root, decoded.  For each:
 * its name, type, entries used against max_entries (as the store says:
 * for pinned maps the kernel, not this build's constants, so a map pinned
 * by another build shows what it really is; both halves count), then the
 * entries of the half in force.  mf_stats is summed over the CPUs.  Reads
 * only; takes no lock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "abi_names.h"
#include "kstate.h"
#include "policy/kinds.h"
#include "policy/tls_profile.h"
#include "policy/txn.h"

static void insp_ip(char *buf, size_t n, const __u8 ip[4])
{
	snprintf(buf, n, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

/* Strings from a map may be unterminated (inspect is what one runs when
 * something is wrong): print at most the field. */
#define INSP_S(field) (int)strnlen((field), sizeof(field)), (field)

/* The header line of map @m of @st; @used < 0: an array, whose every slot
 * is in use.  Returns 0 or -errno. */
static int insp_head(struct store *st, int m, const char *name, long used)
{
	struct store_map_info info;
	int err = st->ops->info(st, m, &info);

	if (err) {
		ctl_err("%s: cannot query the map: %s", name, strerror(-err));
		return err;
	}
	if (used < 0)
		used = info.max_entries;
	printf("%s  type %s  key %u  value %u  entries %ld/%u (%.1f%%)\n",
	       name, info.type, info.key_size, info.val_size, used,
	       info.max_entries, info.max_entries ?
	       100.0 * (double)used / info.max_entries : 0.0);
	return 0;
}

/* The conf's JSON goes to stdout; its tags resolve among the tag sets
 * read with it... */
static const struct mf_tagset *insp_tags(void *arg, uint32_t id)
{
	const struct rec_set *rs = arg;
	struct mf_tagset_key k = { .id = id };
	long i = rec_find(rs, REC_TAGSETS, &k);

	return i < 0 ? NULL : rec_val(rs, REC_TAGSETS, (size_t)i);
}

/* ... and its strings among the strings: at most the array, a string
 * from a map being maybe unterminated. */
static const char *insp_str(void *arg, uint32_t id, size_t *len)
{
	const struct rec_set *rs = arg;
	struct mf_string_key k = { .id = id };
	long i = rec_find(rs, REC_STRINGS, &k);
	const struct mf_string *v;

	if (i < 0)
		return NULL;
	v = rec_val(rs, REC_STRINGS, (size_t)i);
	*len = strnlen(v->s, sizeof(v->s));
	return v->s;
}

static struct sch_ids insp_ids(const struct rec_set *rs)
{
	return (struct sch_ids){ .tags = insp_tags, .str = insp_str,
				 .arg = (void *)rs };
}

/* " @what [{tags}, ...]" of the @n tag set ids @ids; nothing when @what
 * is NULL. */
static void insp_tag_list(const char *what, const uint32_t *ids, unsigned n,
			  const struct sch_ids *tags)
{
	struct emit em;

	if (!what)
		return;
	printf(" %s ", what);
	emit_init(&em, EMIT_JSON, emit_to_file, stdout);
	emit_list_begin(&em);
	for (unsigned i = 0; i < n && i < MF_SELECTORS_MAX; i++)
		sch_emit_tags(&em, ids[i], tags);
	emit_list_end(&em);
}

/* One record of a schema-driven kind: the policy, which entry, its
 * targets and its conf as JSON. */
static void insp_policy(const struct rec_set *rs, const struct mf_pol_key *k,
			const void *v, const struct kind_desc *kd)
{
	const struct mf_pol_hdr *h = v;
	const struct sch_ids tags = insp_ids(rs);
	struct emit em;
	const char *tk = abi_name(&abi_ref_kind, h->target.kind);
	const char *rk = abi_name(&abi_ref_kind, h->ref.kind);

	/* A spec-form record is all spec, without a header. */
	if (!kind_has_hdr(kd)) {
		printf("  %.*s spec ", INSP_S(k->name));
		emit_init(&em, EMIT_JSON, emit_to_file, stdout);
		sch_emit(&em, kd->conf, v, &tags);
		putchar('\n');
		return;
	}
	/* A permission's `rules` record: one item of the list of its
	 * action, which its schema does not show. */
	const bool rules = kd->form == KIND_FORM_PERMISSION &&
			   h->section == MF_MTP_SEC_RULES;

	printf("  %.*s[%u] %s target %s%s%.*s", INSP_S(k->name), k->index,
	       rules ? "rules" : abi_name_or(&abi_section, h->section),
	       tk ? tk : "-", h->target.name[0] ? ":" : "",
	       INSP_S(h->target.name));
	if (rk)
		printf(" ref %s%s%.*s", rk, h->ref.name[0] ? ":" : "",
		       INSP_S(h->ref.name));
	if (rules)
		printf(" action %s", abi_name_or(&abi_authz_action,
			((const struct mf_mtp *)v)->conf.def.action));
	/* What a record holds besides its conf: a legacy policy's tag
	 * selectors, a gateway's own tags, a route entry's keys. */
	insp_tag_list(h->nsources ? (kd->form == KIND_FORM_SELECTORS ?
				     "selectors" : "sources") : NULL,
		      h->sources, h->nsources, &tags);
	insp_tag_list(h->ndestinations ? "destinations" : NULL,
		      h->destinations, h->ndestinations, &tags);
	if (kd->spec_tags &&
	    *(const uint32_t *)((const uint8_t *)v + kd->spec_tags->off)) {
		fputs(" tags ", stdout);
		emit_init(&em, EMIT_JSON, emit_to_file, stdout);
		sch_emit_tags(&em, *(const uint32_t *)((const uint8_t *)v +
						       kd->spec_tags->off),
			      &tags);
	}
	/* (The entry's first word is its presence bits: none, nothing to
	 * show.) */
	if (kd->entry &&
	    *(const uint32_t *)((const uint8_t *)v + kd->entry_off)) {
		fputs(" entry ", stdout);
		emit_init(&em, EMIT_JSON, emit_to_file, stdout);
		emit_map_begin(&em);
		sch_emit_fields(&em, kd->entry,
				(const uint8_t *)v + kd->entry_off, &tags);
		emit_map_end(&em);
	}
	fputs(" conf ", stdout);
	emit_init(&em, EMIT_JSON, emit_to_file, stdout);
	sch_emit(&em, kind_rec_schema(kd, v), (const uint8_t *)v + kd->conf_off,
		 &tags);
	putchar('\n');
}

/* The tags of @ts (none: not there) and the end of the line. */
static void insp_tagset(const struct mf_tagset *ts)
{
	if (!ts)
		fputs(" (not there)", stdout);
	for (__u32 j = 0; ts && j < ts->n && j < MF_TAGS_MAX; j++)
		printf(" %.*s=%.*s", INSP_S(ts->tags[j].key),
		       INSP_S(ts->tags[j].value));
	putchar('\n');
}

static void insp_entries(const struct rec_set *rs, enum rec_map m)
{
	char a[16], b[16];

	for (size_t i = 0; i < rec_count(rs, m); i++) {
		const void *k = rec_key(rs, m, i), *v = rec_val(rs, m, i);

		switch (m) {
		case REC_IDENTITIES: {
			const struct mf_identity *id = v;

			printf("  %u -> %.*s\n",
			       ((const struct mf_identity_key *)k)->id,
			       INSP_S(id->spiffe));
			break;
		}
		case REC_NODES: {
			const struct mf_node_key *nk = k;
			const struct mf_node *nv = v;

			insp_ip(a, sizeof(a), nv->ip);
			printf("  %.*s -> %s:%u\n", INSP_S(nk->name), a,
			       nv->tunnel_port);
			break;
		}
		case REC_AUTHZ: {
			const struct mf_authz_key *ak = k;
			const struct mf_authz_rule *r = v;

			printf("  service %u rule %u -> %s %s %.*s%s%.*s "
			       "(policy %.*s)\n", ak->service_id, ak->index,
			       abi_name_or(&abi_authz_action, r->action),
			       abi_name_or(&abi_authz_match, r->match),
			       INSP_S(r->spiffe),
			       r->sni_match ? " sni " : "",
			       r->sni_match ? (int)strnlen(r->sni,
							   sizeof(r->sni)) :
			       0, r->sni,
			       INSP_S(r->policy));
			break;
		}
		case REC_SERVICES: {
			const struct mf_service_key *sk = k;
			const struct mf_service *s = v;

			insp_ip(a, sizeof(a), sk->vip);
			/* The protocol the agent speaks there, and whether
			 * a Service's spec said it (else its endpoints). */
			printf("  %s:%u/%s -> id %u name %.*s authz_rules "
			       "%u app %s%s%s%s%s\n", a, sk->port,
			       abi_name_or(&abi_proto, sk->proto), s->id,
			       INSP_S(s->name), s->authz_rules,
			       s->flags & MF_SERVICE_F_HTTP ? "http" : "tcp",
			       s->flags & MF_SERVICE_F_PROTOCOL_SPEC ?
			       " (spec.protocol)" : "",
			       s->flags & MF_SERVICE_F_MESH_SERVICE ?
			       " (MeshService)" : "",
			       s->flags & MF_SERVICE_F_EXTERNAL ?
			       " (MeshExternalService)" : "",
			       s->flags & MF_SERVICE_F_MULTI_ZONE ?
			       " (MeshMultiZoneService)" : "");
			if (s->conn_rate_num)
				printf("    conn_rate %u per %u ms per source "
				       "pod\n", s->conn_rate_num,
				       s->conn_rate_interval_ms);
			break;
		}
		case REC_ENDPOINTS: {
			const struct mf_endpoint_key *ek = k;
			const struct mf_endpoint *e = v;

			insp_ip(a, sizeof(a), ek->ip);
			insp_ip(b, sizeof(b), e->node_ip);
			/* The record names its node by address; the
			 * tunnel port is shown raw (0: the default). */
			printf("  %s -> name %.*s port %u service %u identity "
			       "%u node %s:%u%s", a, INSP_S(e->name),
			       e->port, e->service_id, e->identity_id, b,
			       e->tunnel_port,
			       /* Why clients never pick it. */
			       e->flags & MF_ENDPOINT_F_UNLISTED ?
			       " (identity not in its MeshService's "
			       "identities)" : "");
			/* The MeshPassthrough profile its pod is held to
			 * (the config's "passthrough profile N" line). */
			if (e->pt_profile)
				printf(" passthrough profile %u",
				       e->pt_profile);
			putchar('\n');
			break;
		}
		case REC_GW_INSTANCES: {
			const struct mf_gw_instance *g = v;

			/* Its tags inline: they are what a MeshGateway's
			 * selectors match. */
			printf("  %.*s -> node %.*s identity %u tags %u",
			       INSP_S(g->name), INSP_S(g->node),
			       g->identity_id, g->tags);
			insp_tagset(insp_tags((void *)rs, g->tags));
			break;
		}
		case REC_TAGSETS: {
			const struct mf_tagset_key *tk = k;
			const struct mf_tagset *ts = v;

			printf("  %u ->", tk->id);
			insp_tagset(ts);
			break;
		}
		case REC_STRINGS: {
			const struct mf_string *str = v;
			struct emit em;

			/* As JSON: escaped, and its length as stored, so a
			 * string that breaks the rules shows how. */
			printf("  %u -> len %u ",
			       ((const struct mf_string_key *)k)->id,
			       str->len);
			emit_init(&em, EMIT_JSON, emit_to_file, stdout);
			emit_strn(&em, str->s, sizeof(str->s));
			putchar('\n');
			break;
		}
		case REC_LABELS: {
			const struct mf_labels_key *lk = k;
			const struct mf_labels *l = v;

			const struct mf_tagset *ts = insp_tags((void *)rs,
							       l->tags);

			printf("  %s/%.*s%s -> tag set %u",
			       lk->kind < MODEL_KIND_MAX ?
			       model_kind_name(lk->kind) : "?",
			       INSP_S(lk->name),
			       lk->meta == MF_META_ANNOTATIONS ?
			       " annotations" : "", l->tags);
			insp_tagset(ts);
			break;
		}
		case REC_PERMISSIONS:
			insp_policy(rs, k, v, &kind_mtp);
			break;
		default:
			insp_policy(rs, k, v, kinds_all[m - REC_KIND_FIRST]);
			break;
		}
	}
}

/* mf_stats, summed over the CPUs.  Returns 0 or -errno. */
/* The TLS the agents speak to each other (mf_config.tls, the mesh's
 * MeshTLS): its versions and TLS 1.2's suites, or the default. */
static void insp_tls(const struct mf_tls_profile *t)
{
	if (!t->min) {
		printf("  agents tls default (TLS13 only)\n");
		return;
	}
	printf("  agents tls %s to %s ciphers12", tlsprof_version_name(t->min),
	       tlsprof_version_name(t->max));
	for (unsigned i = 0; i < t->nciphers && i < MF_TLS_PROFILE_CIPHERS;
	     i++)
		printf("%s%s", i ? "," : " ", tlsprof_cipher_name(t->ciphers[i]) ?
		       tlsprof_cipher_name(t->ciphers[i]) : "?");
	printf("%s\n", t->nciphers ? "" : " default");
}

/* A MeshPassthrough as the pods' TC program holds it: its mode, the
 * networks it admits (port 0: every port) and the ports whose connections
 * go to the agent for their name (Domain matches). */
static void insp_pt(const char *what, const struct mf_pt_profile *pt)
{
	char a[16];

	printf("  kernel %s mode %s nets", what,
	       pt->mode ? abi_name_or(&abi_pt_mode, pt->mode) : "none");
	for (unsigned i = 0; i < pt->n && i < MF_PT_NETS_MAX; i++) {
		insp_ip(a, sizeof(a), pt->pt[i].addr);
		printf(" %s/%u", a, pt->pt[i].prefix);
		if (pt->pt[i].port)
			printf(":%u", pt->pt[i].port);
	}
	printf("%s", pt->n ? "" : " none");
	if (pt->n6) {
		printf(" nets6");
		for (unsigned i = 0; i < pt->n6 && i < MF_PT_NETS6_MAX; i++) {
			char a6[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, pt->pt6[i].addr, a6, sizeof(a6));
			printf(" %s/%u", a6, pt->pt6[i].prefix);
			if (pt->pt6[i].port)
				printf(":%u", pt->pt6[i].port);
		}
	}
	printf(" domain_ports");
	if (pt->dom_any)
		printf(" all");
	for (unsigned i = 0; !pt->dom_any && i < pt->dom_n &&
			     i < MF_PT_DOM_PORTS_MAX; i++)
		printf(" %u", pt->dom_port[i]);
	printf("%s\n", pt->dom_any || pt->dom_n ? "" : " none");
}

static int insp_stats(struct store *st, bool summary)
{
	uint64_t sums[MF_STAT_MAX];
	int err = insp_head(st, STORE_STATS, MF_MAP_STATS, -1);

	if (err || summary)
		return err;
	err = st->ops->stats(st, sums, MF_STAT_MAX);
	if (err) {
		ctl_err("%s: cannot read: %s", MF_MAP_STATS, strerror(-err));
		return err;
	}
	for (unsigned k = 0; k < MF_STAT_MAX; k++)
		printf("  %-18s %llu\n", abi_name_or(&abi_stat, k),
		       (unsigned long long)sums[k]);
	return 0;
}

/* Most entries of one of the TC programs' maps shown. */
#define INSP_KSTATE_SHOWN	50

/* The TC programs' own maps (kstate.h), when an agent loaded them under
 * @root: the plaintext they counted, the flows pods opened, the
 * connection-rate buckets. */
static void insp_kstate(const char *root, bool summary)
{
	struct mf_conn_bucket_key *b;
	struct kstate_plain *p;
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	size_t n;

	if (kstate_plaintext(root, &p, &n) == 0) {
		printf("\n%s  entries %zu (plaintext towards pods no rule "
		       "admitted)\n", MF_MAP_PLAINTEXT, n);
		for (size_t i = 0; !summary && i < n && i < INSP_KSTATE_SHOWN;
		     i++) {
			insp_ip(src, sizeof(src), p[i].key.src);
			insp_ip(dst, sizeof(dst), p[i].key.dst);
			printf("  %s -> %s:%u/%s %s %llu packets\n", src, dst,
			       p[i].key.dport,
			       abi_name_or(&abi_proto, p[i].key.proto),
			       p[i].key.dropped ? "dropped" : "passed",
			       (unsigned long long)p[i].packets);
		}
		free(p);
	}
	if (kstate_count(root, MF_MAP_POD_FLOWS, &n) == 0)
		printf("\n%s  entries %zu/%u (flows pods opened)\n",
		       MF_MAP_POD_FLOWS, n, MF_POD_FLOWS_MAX);
	if (kstate_conn_buckets(root, &b, &n) == 0) {
		printf("\n%s  entries %zu/%u (connection-rate buckets)\n",
		       MF_MAP_CONN_BUCKETS, n, MF_CONN_BUCKETS_MAX);
		for (size_t i = 0; !summary && i < n && i < INSP_KSTATE_SHOWN;
		     i++) {
			insp_ip(src, sizeof(src), b[i].src);
			insp_ip(dst, sizeof(dst), b[i].vip);
			printf("  %s -> %s:%u\n", src, dst, b[i].port);
		}
		free(b);
	}
}

int ctl_inspect(const struct ctl_opts *o, const struct ctl_args *a)
{
	const bool summary = a->set[CTL_OPT_SUMMARY];
	size_t left;
	struct txn t;
	int err, rc = CTL_EXIT_SYSTEM;

	err = ctl_txn_open(&t, o, false);
	if (err == -ENOENT) {
		ctl_err("no policy maps under %s", o->bpf_root);
		goto out;
	}
	/* Records that do not decompile are still worth showing: that is
	 * when one runs inspect.  Any other failure left nothing read. */
	if (err && err != -EBADMSG) {
		rc = ctl_txn_fail(&t, err, "inspect", "nothing shown");
		goto out;
	}
	printf("pin root %s\n\n", t.store->where);
	if (insp_head(t.store, STORE_CONFIG, MF_MAP_CONFIG, -1))
		goto out;
	if (!summary)
		printf("  epoch %llu active half %u flags 0x%x mesh %.*s "
		       "trust_domain %.*s\n",
		       (unsigned long long)t.have.config.epoch,
		       t.have.config.active, t.have.config.flags,
		       INSP_S(t.have.config.mesh),
		       INSP_S(t.have.config.trust_domain));
	/* The mesh's other trust domains (its MeshIdentities'), and who
	 * vouches for each: the mesh CA by meshTrustCreation, or the
	 * MeshTrusts. */
	if (!summary && t.have.config.nmid_domains) {
		printf("  also trust domains");
		for (unsigned i = 0; i < t.have.config.nmid_domains &&
				     i < MF_MID_DOMAINS_MAX; i++)
			printf(" %.*s (%s)",
			       INSP_S(t.have.config.mid_domains[i]),
			       t.have.config.mid_domain_ca & 1u << i ?
			       "mesh CA" : "MeshTrust");
		putchar('\n');
	}
	if (!summary) {
		const struct mf_config *cfg = &t.have.config;

		/* What the pods' TC egress program enforces. */
		printf("  kernel mtls_mode %s exempt",
		       cfg->mtls_mode ? abi_name_or(&abi_mtls_mode,
						    cfg->mtls_mode) : "none");
		for (unsigned i = 0; i < cfg->nexempt && i < MF_EXEMPT_MAX; i++)
			printf(" %u.%u.%u.%u/%u", cfg->exempt[i].addr[0],
			       cfg->exempt[i].addr[1], cfg->exempt[i].addr[2],
			       cfg->exempt[i].addr[3], cfg->exempt[i].prefix);
		printf("%s\n", cfg->nexempt ? "" : " none");
		insp_pt("passthrough", &cfg->pt_mesh);
		for (unsigned i = 0; i < cfg->pt_nprof &&
				     i < MF_PT_PROFILES_MAX; i++) {
			char what[32];

			snprintf(what, sizeof(what), "passthrough profile %u",
				 i + 1);
			insp_pt(what, &cfg->pt_prof[i]);
		}
		insp_tls(&cfg->tls);
	}
	left = rec_other_count(&t.have);
	if (left)
		printf("  other half: %zu leftover record%s of an apply that "
		       "did not finish (not in force; the next apply deletes "
		       "them)\n", left, left == 1 ? "" : "s");
	for (int m = 0; m < REC_MAP_MAX; m++) {
		putchar('\n');
		/* Usage counts both halves: both take slots. */
		if (insp_head(t.store, m, rec_map_info(m)->name,
			      (long)(rec_count(&t.have, m) +
				     t.have.other[m].n)))
			goto out;
		if (t.have.other[m].n)
			printf("  (%zu of them leftovers in the other half)\n",
			       t.have.other[m].n);
		if (!summary)
			insp_entries(&t.have, m);
	}
	putchar('\n');
	if (insp_stats(t.store, summary))
		goto out;
	insp_kstate(o->bpf_root, summary);
	if (err == -EBADMSG) {
		fputc('\n', stdout);
		fflush(stdout);
		diag_print(&t.d, stderr);
		ctl_err("the records above are inconsistent (see above)");
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	fflush(stdout);
	txn_close(&t);
	return rc;
}
