/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monotonic clock, the one meshforge measures intervals and
 * deadlines with (the wall clock steps when it is set).  Header-only, for
 * the agent and mfctl alike.
 */
#ifndef MF_MONOTIME_H
#define MF_MONOTIME_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in nanoseconds. */
static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* MF_MONOTIME_H */
