// SPDX-License-Identifier: Apache-2.0
/* Helpers every mfctl command shares. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "ctl.h"
#include "policy/input.h"
#include "policy/saved.h"

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

bool ctl_args_ok(int argc, char **argv, size_t nfiles, const char *cmd,
		 const char *usage)
{
	if (optind == argc && nfiles)
		return true;
	if (optind != argc)
		ctl_err("unexpected argument \"%s\"", argv[optind]);
	else
		ctl_err("%s needs -f FILE", cmd);
	fputs(usage, stderr);
	return false;
}

int ctl_parse_inputs(struct model_set *set, const char *const *files,
		     size_t n, struct diag *d, const char *consequence)
{
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		int e = input_parse_arg(set, files[i], d);

		/* Keep parsing after bad input, so every problem is reported
		 * at once; a system error is the one to return. */
		if (e && (!err || err == -EINVAL))
			err = e;
	}
	if (err) {
		diag_sort(d);
		diag_print(d, stderr);
		if (err == -EINVAL)
			ctl_err("%zu problem%s found; %s", diag_count(d),
				diag_count(d) == 1 ? "" : "s", consequence);
	}
	return err;
}

int ctl_saved_finish(struct saved_job *j, const struct ctl_opts *o,
		     const char *what, unsigned long long epoch)
{
	struct diag d;
	int err;

	diag_init(&d);
	err = saved_job_finish(j, &d);
	if (err) {
		diag_print(&d, stderr);
		ctl_err("the %s is in force (epoch %llu) but the state could "
			"not be saved under %s; the maps were not rolled back, "
			"and a restore (after a reboot) would bring back an "
			"older policy: fix the cause and apply again", what,
			epoch, o->state_dir);
	}
	diag_free(&d);
	return err ? CTL_EXIT_SYSTEM : CTL_EXIT_OK;
}
