// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl status`: a short account of this node.  Whether an agent runs
 * (a process whose executable is named meshforge-agent: the agent's admin
 * port is not there yet, so this is the honest check we have, and it says
 * "running", not "healthy"), the epoch in force in the kernel maps, the
 * mesh, object counts per kind, the pin root and mfctl's version.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentq.h"
#include "ctl.h"
#include "policy/state.h"

#define STATUS_AGENT_EXE "meshforge-agent"
#define STATUS_MAX_PIDS 16

const char ctl_usage_status[] =
	"usage: mfctl [--bpf-root DIR] status [--admin ADDR:PORT]\n"
	"\n"
	"Prints whether a meshforge-agent process runs on this machine (by its\n"
	"executable's name), the epoch and version the agent serves (asked at\n"
	"its admin endpoint, --admin, default 127.0.0.1:15000), the policy\n"
	"epoch in force in the kernel maps, the mesh and its trust domain, how\n"
	"many objects of each kind are applied, the pin root, and mfctl's\n"
	"version.\n"
	"\n"
	"Exit codes: 0 ok (also when no agent runs or nothing is applied),\n"
	"1 invalid input, 2 system error.\n";

/* True when /proc/@pid/exe is a file named STATUS_AGENT_EXE.  A process
 * we may not look at (another user's, without root) does not count. */
static bool status_is_agent(const char *pid)
{
	char path[300], exe[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	/* A binary replaced while running reads "... (deleted)": still it. */
	if (n > 10 && !strcmp(exe + n - 10, " (deleted)"))
		exe[n - 10] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	return !strcmp(base, STATUS_AGENT_EXE);
}

/* Fills @pids with up to @max agent pids; returns how many were found
 * (possibly more than @max), or -errno when /proc cannot be read. */
static int status_agents(long *pids, int max)
{
	struct dirent *de;
	DIR *dir = opendir("/proc");
	int n = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (!status_is_agent(de->d_name))
			continue;
		if (n < max)
			pids[n] = strtol(de->d_name, NULL, 10);
		n++;
	}
	closedir(dir);
	return n;
}

static int status_pid_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

int ctl_cmd_status(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "admin", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *admin = "127.0.0.1:15000";
	struct agentq_info ai;
	int aerr;
	long pids[STATUS_MAX_PIDS];
	size_t counts[MODEL_KIND_MAX] = { 0 };
	struct state st;
	struct diag d;
	int c, n, err, rc = CTL_EXIT_SYSTEM;

	optind = 0;
	while ((c = getopt_long(argc, argv, "a:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			admin = optarg;
			break;
		case 'h':
			fputs(ctl_usage_status, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(ctl_usage_status, stderr);
			return CTL_EXIT_INVALID;
		}
	}
	if (optind != argc) {
		ctl_err("status takes no arguments");
		fputs(ctl_usage_status, stderr);
		return CTL_EXIT_INVALID;
	}

	printf("mfctl:     %s\n", CTL_VERSION);
	n = status_agents(pids, STATUS_MAX_PIDS);
	if (n < 0) {
		printf("agent:     unknown (cannot read /proc: %s)\n",
		       strerror(-n));
	} else if (n == 0) {
		printf("agent:     not running\n");
	} else {
		int shown = n < STATUS_MAX_PIDS ? n : STATUS_MAX_PIDS;

		qsort(pids, (size_t)shown, sizeof(*pids), status_pid_cmp);
		printf("agent:     running, pid");
		for (int i = 0; i < shown; i++)
			printf("%s%ld", i ? ", " : " ", pids[i]);
		if (n > shown)
			printf(" and %d more", n - shown);
		putchar('\n');
	}
	/* The agent's own view: what it serves may lag the maps until its
	 * next connection, which is when it reloads. */
	aerr = agentq_fetch(admin, 1000, &ai);
	if (aerr == -EINVAL) {
		ctl_err("--admin must be IPv4:PORT, not \"%s\"", admin);
		return CTL_EXIT_INVALID;
	}
	if (aerr)
		printf("agent epoch: unknown (%s: %s)\n", admin,
		       strerror(-aerr));
	else
		printf("agent epoch: %llu (agent version %s)\n",
		       (unsigned long long)ai.epoch,
		       ai.version[0] ? ai.version : "unknown");
	printf("pin root:  %s\n", o->bpf_root);

	diag_init(&d);
	err = state_load(&st, o->bpf_root, false, NULL, &d);
	if (err == -ENOENT) {
		printf("policy:    nothing applied (no maps pinned)\n");
		rc = CTL_EXIT_OK;
		goto out;
	}
	/* -EBADMSG: the config record is still good to report. */
	if (err && err != -EBADMSG) {
		fflush(stdout);
		diag_print(&d, stderr);
		goto out;
	}
	printf("epoch:     %llu%s\n", (unsigned long long)st.have.config.epoch,
	       aerr ? "" : ai.epoch == st.have.config.epoch ?
			   " (the agent serves it)" :
			   " (the agent serves another; it reloads at its next "
			   "connection)");
	if (st.have.config.flags & MF_CONFIG_F_MESH)
		printf("mesh:      %.*s (trust domain %.*s)\n",
		       (int)strnlen(st.have.config.mesh, MF_NAME_MAX),
		       st.have.config.mesh,
		       (int)strnlen(st.have.config.trust_domain, MF_NAME_MAX),
		       st.have.config.trust_domain);
	else
		printf("mesh:      none applied\n");
	for (size_t i = 0; i < st.objs.n; i++)
		counts[st.objs.objs[i].kind]++;
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
		diag_print(&d, stderr);
		ctl_err("the applied state is inconsistent: counts are of what "
			"could be decoded (mfctl inspect shows the records)");
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	fflush(stdout);
	state_close(&st);
	diag_free(&d);
	return rc;
}
