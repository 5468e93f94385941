/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging for the agent and mfctl: one line per event, logfmt style
 * ("level=info event=... key=value"), to stderr, printf-checked.
 */
#ifndef MF_LOG_H
#define MF_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Messages above this level are dropped.  Default LOG_LVL_INFO. */
extern enum log_level log_level_max;

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A budget of lines for one kind of event that a peer can cause at will
 * (a refused connection): at most @burst a second; the lines past it are
 * counted, and the first line of the next second says how many were
 * left out.  One thread uses one budget.
 */
struct log_limit {
	unsigned int burst;		/* lines a second */
	unsigned int used;		/* this second */
	unsigned long long dropped;	/* left out since the last said */
	long long second;		/* CLOCK_MONOTONIC, whole seconds */
};

#define LOG_LIMIT_INIT(n)	{ .burst = (n), .second = -1 }

/* Whether a line of @l may go out now; when it may and lines were left
 * out before, says so first (at @lvl, event=log_suppressed what=@what). */
int log_limit_ok(struct log_limit *l, enum log_level lvl, const char *what);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif /* MF_LOG_H */
