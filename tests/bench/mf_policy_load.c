// SPDX-License-Identifier: Apache-2.0
/*
 * `mf_policy_load DIR`: how long the agent takes to build its policy
 * snapshot (policy_load()) from the maps pinned under DIR; prints
 * "policy_load_ms=<best of 5>".  scripts/bench-policy.sh runs it after
 * applying its scale policy.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../agent/policy.h"
#include "pmap.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	double best = -1;
	struct pmap pm;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: mf_policy_load PIN-ROOT\n");
		return 1;
	}
	err = pmap_open(&pm, argv[1], false);
	if (err) {
		fprintf(stderr, "cannot open %s: %s\n", argv[1], strerror(-err));
		return 2;
	}
	for (int i = 0; i < 5; i++) {
		struct policy *p = NULL;
		double t0 = now_ms(), ms;

		err = policy_load(&p, &pm);
		ms = now_ms() - t0;
		if (err) {
			fprintf(stderr, "policy_load: %s\n", strerror(-err));
			pmap_close(&pm);
			return 2;
		}
		policy_put(p);
		if (best < 0 || ms < best)
			best = ms;
	}
	pmap_close(&pm);
	printf("policy_load_ms=%.1f\n", best);
	return 0;
}
