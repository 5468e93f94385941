// SPDX-License-Identifier: Apache-2.0
/* Helpers every mfctl command shares. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "ctl.h"

void ctl_err(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mfctl: %s\n", msg);
}

int ctl_exit_for(int err)
{
	if (!err)
		return CTL_EXIT_OK;
	return err == -EINVAL ? CTL_EXIT_INVALID : CTL_EXIT_SYSTEM;
}
