// SPDX-License-Identifier: Apache-2.0
#include "tlsfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "tls.h"

/* What a file was when last looked at; all zero: it could not be
 * stat()ed. */
struct tlsfile_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct tlsfile {
	char *cert, *key;		/* owned */
	struct tls_ctx *ctx;		/* in force: a reference, owned */
	struct tlsfile_stamp seen[2];	/* cert, key */
	unsigned long reloads, failures;
};

static void tlsfile_stamp(const char *path, struct tlsfile_stamp *s)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	if (stat(path, &st))
		return;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
}

static bool tlsfile_stamp_eq(const struct tlsfile_stamp *a,
			     const struct tlsfile_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* The stamps are taken before the files are read: a write that lands
 * during the read changes them again, and the next tick reads once
 * more. */
static int tlsfile_read(struct tlsfile *f, struct tls_ctx **out)
{
	tlsfile_stamp(f->cert, &f->seen[0]);
	tlsfile_stamp(f->key, &f->seen[1]);
	return tls_ctx_new_public_pair(out, f->cert, f->key);
}

int tlsfile_open(struct tlsfile **out, const char *cert, const char *key)
{
	struct tlsfile *f = calloc(1, sizeof(*f));
	int err = -ENOMEM;

	if (!f)
		return -ENOMEM;
	f->cert = strdup(cert);
	f->key = strdup(key);
	if (!f->cert || !f->key)
		goto fail;
	err = tlsfile_read(f, &f->ctx);
	if (err)
		goto fail;
	*out = f;
	return 0;

fail:
	tlsfile_close(f);
	return err;
}

struct tls_ctx *tlsfile_ctx(const struct tlsfile *f)
{
	return f->ctx;
}

bool tlsfile_changed(struct tlsfile *f)
{
	struct tlsfile_stamp now[2];
	bool changed;

	tlsfile_stamp(f->cert, &now[0]);
	tlsfile_stamp(f->key, &now[1]);
	changed = !tlsfile_stamp_eq(&now[0], &f->seen[0]) ||
		  !tlsfile_stamp_eq(&now[1], &f->seen[1]);
	return changed;
}

int tlsfile_reload(struct tlsfile *f)
{
	struct tls_ctx *ctx;
	int err = tlsfile_read(f, &ctx);

	if (err) {
		f->failures++;
		log_warn("event=tls_file_reload_failed cert=%s key=%s "
			 "err=\"%s\" effect=\"the certificate in force is "
			 "kept; read again at the files' next change or "
			 "SIGHUP\"", f->cert, f->key, strerror(-err));
		return err;
	}
	tls_ctx_put(f->ctx);
	f->ctx = ctx;
	f->reloads++;
	log_info("event=tls_file_reloaded cert=%s key=%s", f->cert, f->key);
	return 0;
}

unsigned long tlsfile_reloads(const struct tlsfile *f)
{
	return f->reloads;
}

unsigned long tlsfile_failures(const struct tlsfile *f)
{
	return f->failures;
}

void tlsfile_close(struct tlsfile *f)
{
	if (!f)
		return;
	tls_ctx_put(f->ctx);
	free(f->cert);
	free(f->key);
	free(f);
}
