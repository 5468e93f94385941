// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <time.h>

#include "log.h"

enum log_level log_level_max = LOG_LVL_INFO;

static const char *const log_level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	va_list ap;
	int n;

	if (lvl > log_level_max)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "ts=%lld.%03ld level=%s ",
		     (long long)ts.tv_sec, ts.tv_nsec / 1000000,
		     log_level_names[lvl]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	/* One fputs per line, so lines from concurrent writers never interleave
	 * within a line. */
	fprintf(stderr, "%s\n", line);
}

int log_limit_ok(struct log_limit *l, enum log_level lvl, const char *what)
{
	struct timespec ts;

	if (lvl > log_level_max)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ts.tv_sec != l->second) {
		l->second = ts.tv_sec;
		l->used = 0;
	}
	if (l->used >= l->burst) {
		l->dropped++;
		return 0;
	}
	l->used++;
	if (l->dropped) {
		log_msg(lvl, "event=log_suppressed what=%s lines=%llu", what,
			l->dropped);
		l->dropped = 0;
	}
	return 1;
}
