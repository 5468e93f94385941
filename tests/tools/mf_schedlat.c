// SPDX-License-Identifier: Apache-2.0
/*
 * mf_schedlat: the run-queue waits and CPU time of groups of processes'
 * threads over a while, from the scheduler's tracepoints
 * (mf_schedlat.bpf.c).  `make bench` runs it across each latency run on
 * the agents, the load generator, the origin and the kernel's softirq
 * threads, to split the added latency (docs/benchmarks.md "Where the
 * added latency goes").
 *
 *   mf_schedlat BPF_OBJECT SECONDS NAME:PID [NAME:PID...]
 *
 * Processes given the same NAME are one group.  Prints one JSON object:
 * per group, the number of waits, their sum, longest and quantiles (the
 * upper edge of the bucket: at most a quarter above the value), the time
 * on a CPU, the number of switches out that left a thread runnable
 * (preempted) or asleep, and the run's length in seconds.  Ends early,
 * printing what it has, on SIGINT or SIGTERM.
 */
#include <errno.h>
#include <linux/types.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mf_schedlat.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static __u64 quantile(const struct mf_sl_stats *s, double q)
{
	__u64 seen = 0, want;

	if (!s->waits)
		return 0;
	want = (__u64)(q * (double)s->waits);
	if (want >= s->waits)
		want = s->waits - 1;
	for (__u32 b = 0; b < MF_SL_BUCKETS; b++) {
		seen += s->hist[b];
		if (seen > want)
			return b + 1 < MF_SL_BUCKETS ? mf_sl_bucket_low(b + 1) :
			       s->wait_max_ns;
	}
	return s->wait_max_ns;
}

static void print_group(const char *name, const struct mf_sl_stats *s)
{
	printf("\"%s\": {\"waits\": %llu, \"wait_ns\": %llu, \"wait_max_ns\": %llu, "
	       "\"wait_p50_ns\": %llu, \"wait_p99_ns\": %llu, \"wait_p999_ns\": %llu, "
	       "\"oncpu_ns\": %llu, \"preempted\": %llu, \"slept\": %llu}",
	       name, (unsigned long long)s->waits, (unsigned long long)s->wait_ns,
	       (unsigned long long)s->wait_max_ns,
	       (unsigned long long)quantile(s, 0.5),
	       (unsigned long long)quantile(s, 0.99),
	       (unsigned long long)quantile(s, 0.999),
	       (unsigned long long)s->oncpu_ns, (unsigned long long)s->preempted,
	       (unsigned long long)s->slept);
}

/* A group name goes into JSON as is: letters, digits, '-', '_', '/'. */
static int name_ok(const char *p, size_t n)
{
	if (n == 0 || n > 31)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '_' ||
		      p[i] == '/'))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	char names[MF_SL_GROUPS][32];
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *links[3];
	struct timespec t0, t1;
	int nlinks = 0, ngroups = 0, targets, stats, err;
	double seconds;
	char *end;

	if (argc < 4 || argc - 3 > MF_SL_TARGETS) {
		fprintf(stderr, "usage: mf_schedlat BPF_OBJECT SECONDS NAME:PID "
			"[NAME:PID...] (at most %d)\n", MF_SL_TARGETS);
		return 2;
	}
	seconds = strtod(argv[2], &end);
	if (*end || !(seconds > 0)) {
		fprintf(stderr, "mf_schedlat: bad duration '%s'\n", argv[2]);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "mf_schedlat: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "mf_schedlat: load %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	targets = bpf_object__find_map_fd_by_name(obj, "mf_sl_targets");
	stats = bpf_object__find_map_fd_by_name(obj, "mf_sl_stats");
	for (int i = 3; i < argc; i++) {
		const char *colon = strrchr(argv[i], ':');
		size_t nlen = colon ? (size_t)(colon - argv[i]) : 0;
		__u32 tgid, g;
		long pid;

		if (!colon || !name_ok(argv[i], nlen)) {
			fprintf(stderr, "mf_schedlat: '%s' is not NAME:PID\n", argv[i]);
			return 2;
		}
		pid = strtol(colon + 1, &end, 10);
		if (*end || colon[1] == '\0' || pid <= 0 || pid > 0x7fffffff) {
			fprintf(stderr, "mf_schedlat: bad pid in '%s'\n", argv[i]);
			return 2;
		}
		for (g = 0; g < (__u32)ngroups; g++)
			if (strlen(names[g]) == nlen && !memcmp(names[g], argv[i], nlen))
				break;
		if (g == (__u32)ngroups) {
			if (ngroups == MF_SL_GROUPS) {
				fprintf(stderr, "mf_schedlat: more than %d groups\n",
					MF_SL_GROUPS);
				return 2;
			}
			memcpy(names[g], argv[i], nlen);
			names[g][nlen] = '\0';
			ngroups++;
		}
		tgid = (__u32)pid;
		if (bpf_map_update_elem(targets, &tgid, &g, BPF_ANY)) {
			fprintf(stderr, "mf_schedlat: targets: %s\n", strerror(errno));
			return 1;
		}
	}
	bpf_object__for_each_program(prog, obj) {
		if (nlinks == (int)(sizeof(links) / sizeof(links[0])))
			break;
		links[nlinks] = bpf_program__attach(prog);
		if (!links[nlinks]) {
			fprintf(stderr, "mf_schedlat: attach %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			return 1;
		}
		nlinks++;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	{
		struct timespec ts = {
			.tv_sec = (time_t)seconds,
			.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9),
		};
		/* A signal ends the sleep early, and the run with it. */
		while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	for (int i = 0; i < nlinks; i++)
		bpf_link__destroy(links[i]);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	printf("{");
	for (int g = 0; g < ngroups; g++) {
		struct mf_sl_stats s;
		__u32 idx = (__u32)g;

		if (bpf_map_lookup_elem(stats, &idx, &s)) {
			fprintf(stderr, "mf_schedlat: stats: %s\n", strerror(errno));
			return 1;
		}
		print_group(names[g], &s);
		printf(", ");
	}
	printf("\"seconds\": %.3f}\n", (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	bpf_object__close(obj);
	return 0;
}
