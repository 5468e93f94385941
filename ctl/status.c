// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl status`: a short account of this node.  Whether an agent runs
 * (a process whose executable is named meshforge-agent: the agent's admin
 * port is not there yet, so this is the honest check we have, and it says
 * "running", not "healthy"), the epoch in force in the kernel maps, the
 * mesh, object counts per kind, the pin root and mfctl's version.  The
 * mesh store revision the maps were synced from (`mfctl sync`), and with
 * --store the store's own revision, to compare.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agentq.h"
#include "ctl.h"
#include "mesh.h"
#include "procs.h"
#include "policy/txn.h"

#define STATUS_MAX_PIDS 16

/* The mesh in --store: its revision and object count, beside the
 * revision this node's maps were synced from (@served, 0: none). */
static void status_store(const struct ctl_opts *o, uint64_t served)
{
	struct ctl_mesh m;
	struct txn t;
	int err;

	err = ctl_mesh_open(&m, &t, o);
	if (err) {
		printf("store:     %s: unreachable or invalid (%s)\n",
		       o->store_url, t.d.n ? t.d.msgs[0] : strerror(-err));
	} else {
		printf("store:     %s at revision %lld, %zu objects%s\n",
		       m.ms->where, (long long)m.rev, t.applied.n,
		       served == (uint64_t)m.rev ? " (this node serves it)" :
		       "");
	}
	ctl_mesh_close(&m, &t);
}

int ctl_status(const struct ctl_opts *o, const struct ctl_args *a)
{
	const char *admin = a->val[CTL_OPT_ADMIN] ? a->val[CTL_OPT_ADMIN] :
						    AGENTQ_ADMIN;
	struct agentq_info ai;
	int aerr;
	long pids[STATUS_MAX_PIDS];
	size_t counts[MODEL_KIND_MAX] = { 0 };
	struct txn t;
	int n, err, rc = CTL_EXIT_SYSTEM;

	printf("mfctl:     %s\n", CTL_VERSION);
	n = procs_agents(pids, STATUS_MAX_PIDS);
	if (n < 0) {
		printf("agent:     unknown (cannot read /proc: %s)\n",
		       strerror(-n));
	} else if (n == 0) {
		printf("agent:     not running\n");
	} else {
		int shown = n < STATUS_MAX_PIDS ? n : STATUS_MAX_PIDS;

		printf("agent:     running, pid");
		for (int i = 0; i < shown; i++)
			printf("%s%ld", i ? ", " : " ", pids[i]);
		if (n > shown)
			printf(" and %d more", n - shown);
		putchar('\n');
	}
	/* The agent's own view: what it serves lags the maps until its
	 * reloader has read them (milliseconds). */
	aerr = agentq_fetch(admin, 1000, &ai);
	if (aerr)
		printf("agent epoch: unknown (%s: %s)\n", admin,
		       strerror(-aerr));
	else
		printf("agent epoch: %llu (agent version %s)\n",
		       (unsigned long long)ai.epoch,
		       ai.version[0] ? ai.version : "unknown");
	printf("pin root:  %s\n", o->bpf_root);

	err = ctl_txn_open(&t, o, false);
	if (err == -ENOENT) {
		printf("policy:    nothing applied (no maps pinned)\n");
		if (o->store_url)
			status_store(o, 0);
		rc = CTL_EXIT_OK;
		goto out;
	}
	/* -EBADMSG: the config record is still good to report. */
	if (err && err != -EBADMSG) {
		fflush(stdout);
		rc = ctl_txn_fail(&t, err, "status", "nothing shown");
		goto out;
	}
	printf("epoch:     %llu%s\n", (unsigned long long)t.have.config.epoch,
	       aerr ? "" : ai.epoch == t.have.config.epoch ?
			   " (the agent serves it)" :
			   " (the agent serves another; it reloads at its next "
			   "connection)");
	if (t.have.config.store_rev)
		printf("synced:    mesh store revision %llu (mfctl sync)\n",
		       (unsigned long long)t.have.config.store_rev);
	else
		printf("synced:    no (applied on this node)\n");
	if (o->store_url)
		status_store(o, t.have.config.store_rev);
	if (t.have.config.flags & MF_CONFIG_F_MESH)
		printf("mesh:      %.*s (trust domain %.*s)\n",
		       (int)strnlen(t.have.config.mesh, MF_NAME_MAX),
		       t.have.config.mesh,
		       (int)strnlen(t.have.config.trust_domain, MF_NAME_MAX),
		       t.have.config.trust_domain);
	else
		printf("mesh:      none applied\n");
	for (size_t i = 0; i < t.applied.n; i++)
		counts[t.applied.objs[i].kind]++;
	printf("objects:  ");
	for (int k = 0; k < MODEL_GEN_FIRST; k++)
		printf(" %s %zu%s", model_kind_name(k), counts[k],
		       k + 1 < MODEL_GEN_FIRST ? "," : "\n");
	/* The policy kinds only when there are some: sixteen zeros say
	 * nothing. */
	printf("policies: ");
	for (int k = MODEL_GEN_FIRST, first = 1; k < MODEL_KIND_MAX; k++) {
		if (counts[k]) {
			printf("%s %s %zu", first ? "" : ",", model_kind_name(k),
			       counts[k]);
			first = 0;
		}
		if (k + 1 == MODEL_KIND_MAX)
			printf("%s\n", first ? " none" : "");
	}
	if (err == -EBADMSG) {
		fflush(stdout);
		diag_print(&t.d, stderr);
		ctl_err("the applied state is inconsistent: counts are of what "
			"could be decoded (mfctl inspect shows the records)");
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	fflush(stdout);
	txn_close(&t);
	return rc;
}
