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

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif /* MF_LOG_H */
