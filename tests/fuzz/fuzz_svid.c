// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the X.509-SVID rules (lib/svid.c) the agent applies to the
 * certificate chain a peer sends, before anything of it is trusted.
 * Input: one byte of roles (its low two bits, SVID_CLIENT | SVID_SERVER;
 * none: both), then certificates, each a 2-byte big-endian length and that
 * many bytes of DER.  svid_check() must read nothing past them, return a
 * rule it knows with the index of a certificate of the chain, and give
 * the same answer twice; a leaf it passes must have the one SPIFFE ID the
 * identity reader (der_cert_spiffe()) finds, a valid one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "der.h"
#include "spiffe.h"
#include "svid.h"

#define FZ_CHAIN_MAX	8
/* A fixed "now", within the validity of the seeds' certificates, so that
 * their answers do not depend on the day. */
#define FZ_NOW		((time_t)1796540000)	/* 2026-12-06 06:53 UTC */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svid_cert v[FZ_CHAIN_MAX];
	char id[MF_SPIFFE_MAX];
	unsigned int roles;
	enum svid_rule r, again;
	size_t n = 0, at = 0, at2 = 0;

	if (size < 1)
		return 0;
	roles = data[0] & 3u;
	if (!roles)
		roles = SVID_CLIENT | SVID_SERVER;
	data++;
	size--;
	while (size >= 2 && n < FZ_CHAIN_MAX) {
		size_t len = (size_t)data[0] << 8 | data[1];

		if (len > size - 2)
			len = size - 2;
		/* Each certificate in a buffer of its own, so that ASan sees
		 * a read past its end. */
		v[n].der = len ? malloc(len) : NULL;
		if (len && !v[n].der)
			abort();
		if (len)
			memcpy((uint8_t *)v[n].der, data + 2, len);
		v[n].len = len;
		n++;
		data += 2 + len;
		size -= 2 + len;
	}
	r = svid_check(v, n, roles, FZ_NOW, &at);
	again = svid_check(v, n, roles, FZ_NOW, &at2);
	if ((unsigned int)r >= SVID_RULE_MAX || r != again || at != at2 ||
	    (n && at >= n) || (!n && r != SVID_MALFORMED))
		abort();
	if (r == SVID_OK &&
	    (der_cert_spiffe(v[0].der, v[0].len, id, sizeof(id)) ||
	     spiffe_parse(id, NULL)))
		abort();
	for (size_t i = 0; i < n; i++)
		free((void *)v[i].der);
	return 0;
}
