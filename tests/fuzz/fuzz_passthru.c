// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the name a MeshPassthrough connection's first bytes carry
 * (agent/passthru.c), read from bytes any pod may send.  On any input it
 * keeps its contract: the name's length, 0 (more bytes), or -EPROTO,
 * -ENOENT, -ENAMETOOLONG with a reason; a name is NUL-terminated at that
 * length (no NUL inside), of lowercase letters, digits, '-', '.' and '_'
 * only, and came over TLS exactly when the first byte opens a
 * handshake record, over HTTP/2 exactly when the bytes start as the
 * HTTP/2 client preface does (two bytes of it at least).  Every prefix of the input keeps the same contract
 * (the agent reads a name again as bytes arrive).  passthru_first() on
 * the input as a full buffer: the same, but a bigger buffer for HTTP/2
 * or -EMSGSIZE where more bytes are wanted.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "../../agent/passthru.h"
#include "meshforge/abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t n)
{
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	uint8_t proto = 0;
	uint16_t port = 1;
	int rc = passthru_name(data, n, &proto, name, &port, &why);

	if (rc < 0 && (rc != -EPROTO && rc != -ENOENT &&
		       rc != -ENAMETOOLONG && rc != -ENOMEM))
		abort();
	if (rc < 0 && !why)
		abort();
	if (n && proto != (data[0] == 22 ? MF_PASSTHROUGH_TLS :
			   n >= 2 && !memcmp(data, NGHTTP2_CLIENT_MAGIC,
					     n < NGHTTP2_CLIENT_MAGIC_LEN ? n :
					     NGHTTP2_CLIENT_MAGIC_LEN) ?
			   MF_PASSTHROUGH_HTTP2 : MF_PASSTHROUGH_HTTP))
		abort();
	if (rc <= 0)
		return;
	if (rc >= PASSTHRU_NAME_MAX || strlen(name) != (size_t)rc)
		abort();
	for (int i = 0; i < rc; i++)
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) &&
		    !strchr("-._", name[i]))
			abort();
	/* A name without a wildcard matches itself. */
	if (name[0] != '*' && !passthru_domain_match(name, name))
		abort();
}

/* passthru_first() on @n bytes that fill a buffer of @n: passthru_name()'s
 * answer, but where that wants more bytes, a bigger buffer for HTTP/2 in
 * one smaller than PASSTHRU_H2_ROOM and -EMSGSIZE otherwise. */
static void check_first(const uint8_t *data, size_t n)
{
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL, *why2 = NULL;
	uint8_t proto = 0, proto2 = 0;
	size_t grow = 1;
	int rc = passthru_name(data, n, &proto, name, NULL, &why);
	int rc2 = passthru_first(data, n, n, &proto2, name, NULL, &grow,
				 &why2);

	if (rc != 0) {
		if (rc2 != rc || grow)
			abort();
	} else if (proto2 == MF_PASSTHROUGH_HTTP2 && n < PASSTHRU_H2_ROOM) {
		if (rc2 != 0 || grow != PASSTHRU_H2_ROOM)
			abort();
	} else if (rc2 != -EMSGSIZE || grow || !why2) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		wolfSSL_Init();
		ready = 1;
	}
	check(data, size);
	/* Halves: the bytes as they may arrive first. */
	check(data, size / 2);
	if (size)	/* a buffer has room */
		check_first(data, size);
	return 0;
}
