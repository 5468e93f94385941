// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl inspect`: every pinned map of the pin root, decoded.  For each:
 * its name, type, entries used against max_entries (from the kernel, via
 * bpf_obj_get_info_by_fd, not from this build's constants, so a map pinned
 * by another build shows what it really is; both halves count), then the
 * entries of the half in force.  mf_stats is summed over the CPUs.  Reads
 * only; takes no lock.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "abi_names.h"
#include "policy/kinds.h"
#include "policy/mapio.h"
#include "policy/state.h"

const char ctl_usage_inspect[] =
	"usage: mfctl [--bpf-root DIR] inspect [--summary]\n"
	"\n"
	"Prints every map under the pin root: name, type, entries used /\n"
	"capacity (max_entries) and percent, then the entries of the policy\n"
	"in force decoded.  Every policy map holds two halves, the one in\n"
	"force (mf_config's active half) and the one an apply stages; the\n"
	"capacity is for both.\n"
	"mf_stats is shown summed over all CPUs.\n"
	"\n"
	"  --summary  the header line of each map only\n"
	"\n"
	"Exit codes: 0 ok, 1 invalid input, 2 system error (no maps pinned\n"
	"there included).\n";

static void insp_ip(char *buf, size_t n, const __u8 ip[4])
{
	snprintf(buf, n, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

/* Strings from a map may be unterminated (inspect is what one runs when
 * something is wrong): print at most the field. */
#define INSP_S(field) (int)strnlen((field), sizeof(field)), (field)

/* The header line of a map; @used < 0: an array, whose every slot is in
 * use.  Returns 0 or -errno. */
static int insp_head(int fd, const char *name, long used,
		     struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len)) {
		int err = -errno;

		ctl_err("%s: cannot query the map: %s", name, strerror(-err));
		return err;
	}
	if (used < 0)
		used = info->max_entries;
	printf("%s  type %s  key %u  value %u  entries %ld/%u (%.1f%%)\n",
	       name, libbpf_bpf_map_type_str(info->type) ?: "?",
	       info->key_size, info->value_size, used, info->max_entries,
	       info->max_entries ? 100.0 * (double)used / info->max_entries :
	       0.0);
	return 0;
}

/* The conf's JSON goes to stdout; its tags resolve among the tag sets
 * read with it. */
static const struct mf_tagset *insp_tags(void *arg, uint32_t id)
{
	const struct rec_set *rs = arg;
	struct mf_tagset_key k = { .id = id };
	long i = rec_find(rs, REC_TAGSETS, &k);

	return i < 0 ? NULL : rec_val(rs, REC_TAGSETS, (size_t)i);
}

/* One record of a schema-driven kind: the policy, which entry, its
 * targets and its conf as JSON. */
static void insp_policy(const struct rec_set *rs, const struct mf_pol_key *k,
			const void *v, const struct kind_desc *kd)
{
	const struct mf_pol_hdr *h = v;
	const struct sch_tags tags = { insp_tags, (void *)rs };
	struct emit em;
	const char *tk = abi_name(&abi_ref_kind, h->target.kind);
	const char *rk = abi_name(&abi_ref_kind, h->ref.kind);

	printf("  %.*s[%u] %s target %s%s%.*s", INSP_S(k->name), k->index,
	       abi_name_or(&abi_section, h->section), tk ? tk : "-",
	       h->target.name[0] ? ":" : "", INSP_S(h->target.name));
	if (rk)
		printf(" ref %s%s%.*s", rk, h->ref.name[0] ? ":" : "",
		       INSP_S(h->ref.name));
	fputs(" conf ", stdout);
	emit_init(&em, EMIT_JSON, emit_to_file, stdout);
	sch_emit(&em, kd->conf, (const uint8_t *)v + kd->conf_off, &tags);
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

			printf("  service %u rule %u -> %s %s %.*s (policy "
			       "%.*s)\n", ak->service_id, ak->index,
			       abi_name_or(&abi_authz_action, r->action),
			       abi_name_or(&abi_authz_match, r->match),
			       INSP_S(r->spiffe), INSP_S(r->policy));
			break;
		}
		case REC_SERVICES: {
			const struct mf_service_key *sk = k;
			const struct mf_service *s = v;

			insp_ip(a, sizeof(a), sk->vip);
			printf("  %s:%u/%s -> id %u name %.*s authz_rules %u\n",
			       a, sk->port, abi_name_or(&abi_proto, sk->proto), s->id, INSP_S(s->name), s->authz_rules);
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
			       "%u node %s:%u\n", a, INSP_S(e->name),
			       e->port, e->service_id, e->identity_id, b,
			       e->tunnel_port);
			break;
		}
		case REC_TAGSETS: {
			const struct mf_tagset_key *tk = k;
			const struct mf_tagset *ts = v;

			printf("  %u ->", tk->id);
			for (__u32 j = 0; j < ts->n && j < MF_TAGS_MAX; j++)
				printf(" %.*s=%.*s", INSP_S(ts->tags[j].key),
				       INSP_S(ts->tags[j].value));
			putchar('\n');
			break;
		}
		default:
			insp_policy(rs, k, v, kinds_all[m - REC_KIND_FIRST]);
			break;
		}
	}
}

/* mf_stats: one __u64 per CPU per counter, summed.  Returns 0 or -errno. */
static int insp_stats(int fd, bool summary)
{
	struct bpf_map_info info;
	int ncpu = libbpf_num_possible_cpus(), err;
	__u64 *vals;

	err = insp_head(fd, MF_MAP_STATS, -1, &info);
	if (err)
		return err;
	if (summary)
		return 0;
	if (ncpu <= 0 || info.value_size != sizeof(__u64)) {
		ctl_err("%s: cannot read per-CPU values (value size %u)",
			MF_MAP_STATS, info.value_size);
		return -EPROTO;
	}
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < info.max_entries; k++) {
		unsigned long long sum = 0;

		if (bpf_map_lookup_elem(fd, &k, vals)) {
			err = -errno;
			ctl_err("%s: cannot read %u: %s", MF_MAP_STATS, k,
				strerror(-err));
			break;
		}
		for (int c = 0; c < ncpu; c++)
			sum += vals[c];
		printf("  %-18s %llu\n", abi_name_or(&abi_stat, k), sum);
	}
	free(vals);
	return err;
}

int ctl_cmd_inspect(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "summary", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpf_map_info info;
	bool summary = false;
	size_t left;
	struct state st;
	struct diag d;
	int c, err, rc = CTL_EXIT_SYSTEM;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			summary = true;
			break;
		case 'h':
			fputs(ctl_usage_inspect, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(ctl_usage_inspect, stderr);
			return CTL_EXIT_INVALID;
		}
	}
	if (optind != argc) {
		ctl_err("inspect takes no arguments");
		fputs(ctl_usage_inspect, stderr);
		return CTL_EXIT_INVALID;
	}

	diag_init(&d);
	err = state_load(&st, o->bpf_root, false, NULL, &d);
	if (err == -ENOENT) {
		ctl_err("no policy maps under %s", o->bpf_root);
		goto out;
	}
	/* Records that do not decompile are still worth showing: that is
	 * when one runs inspect.  Any other failure left nothing read. */
	if (err && err != -EBADMSG) {
		diag_print(&d, stderr);
		goto out;
	}
	printf("pin root %s\n\n", o->bpf_root);
	if (insp_head(st.pm.config_fd, MF_MAP_CONFIG, -1, &info))
		goto out;
	if (!summary)
		printf("  epoch %llu active half %u flags 0x%x mesh %.*s "
		       "trust_domain %.*s\n",
		       (unsigned long long)st.have.config.epoch,
		       st.have.config.active, st.have.config.flags,
		       INSP_S(st.have.config.mesh),
		       INSP_S(st.have.config.trust_domain));
	left = rec_other_count(&st.have);
	if (left)
		printf("  other half: %zu leftover record%s of an apply that "
		       "did not finish (not in force; the next apply deletes "
		       "them)\n", left, left == 1 ? "" : "s");
	for (int m = 0; m < REC_MAP_MAX; m++) {
		putchar('\n');
		/* Usage counts both halves: both take slots. */
		if (insp_head(mapio_map_fd(&st.pm, m), rec_map_info(m)->name,
			      (long)(rec_count(&st.have, m) +
				     st.have.other[m].n), &info))
			goto out;
		if (st.have.other[m].n)
			printf("  (%zu of them leftovers in the other half)\n",
			       st.have.other[m].n);
		if (!summary)
			insp_entries(&st.have, m);
	}
	putchar('\n');
	if (insp_stats(st.pm.stats_fd, summary))
		goto out;
	if (err == -EBADMSG) {
		fputc('\n', stdout);
		fflush(stdout);
		diag_print(&d, stderr);
		ctl_err("the records above are inconsistent (see above)");
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	fflush(stdout);
	state_close(&st);
	diag_free(&d);
	return rc;
}
