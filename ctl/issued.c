// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "der.h"
#include "fsio.h"
#include "issued.h"
#include "pki.h"
#include "spiffe.h"

#define ISSUED_FILE	"issued"

int issued_record(const char *config_dir, const uint8_t *serial, size_t len,
		  time_t not_after, const char *id)
{
	char path[PATH_MAX], hex[2 * PKI_SERIAL_MAX + 1], *old = NULL, *all;
	size_t old_len = 0;
	int n, err;

	err = fsio_pathf(path, sizeof(path), "%s/" ISSUED_FILE, config_dir);
	if (err)
		return err;
	err = fsio_read_all(path, &old, &old_len);
	if (err && err != -ENOENT)
		return err;
	der_serial_hex(serial, len, hex, sizeof(hex));
	/* Rewritten whole through the one durable write: a crash leaves
	 * the record before this line or after it. */
	all = malloc(old_len + strlen(hex) + strlen(id) + 32);
	if (!all) {
		free(old);
		return -ENOMEM;
	}
	memcpy(all, old ? old : "", old_len);
	n = sprintf(all + old_len, "%s %lld %s\n", hex, (long long)not_after,
		    id);
	err = fsio_write_atomic(path, all, old_len + (size_t)n, 0644);
	free(all);
	free(old);
	return err;
}

int issued_each(const char *config_dir,
		int (*fn)(void *arg, const char *serial_hex, time_t not_after,
			  const char *id),
		void *arg)
{
	char *buf, *line, *save = NULL;
	size_t len;
	int err;

	err = fsio_read_in(config_dir, ISSUED_FILE, &buf, &len);
	if (err)
		return err;
	for (line = strtok_r(buf, "\n", &save); line && !err;
	     line = strtok_r(NULL, "\n", &save)) {
		char hex[2 * PKI_SERIAL_MAX + 2], who[MF_SPIFFE_MAX];
		long long until;

		if (sscanf(line, "%43s %lld %255s", hex, &until, who) != 3)
			err = -EBADMSG;
		else
			err = fn(arg, hex, (time_t)until, who);
	}
	free(buf);
	return err;
}

/* What issued_find() walks the record with. */
struct issued_find_arg {
	const char *id;
	time_t now;
	int (*fn)(void *arg, const char *serial_hex);
	void *arg;
	int found;
};

static int issued_find_one(void *arg, const char *hex, time_t until,
			   const char *who)
{
	struct issued_find_arg *f = arg;
	int err;

	/* An ended certificate no peer accepts: no entry needed. */
	if (strcmp(who, f->id) || until <= f->now)
		return 0;
	err = f->fn(f->arg, hex);
	if (!err)
		f->found++;
	return err;
}

int issued_find(const char *config_dir, const char *id, time_t now,
		int (*fn)(void *arg, const char *serial_hex), void *arg)
{
	struct issued_find_arg f = { id, now, fn, arg, 0 };
	int err = issued_each(config_dir, issued_find_one, &f);

	return err ? err : f.found;
}
