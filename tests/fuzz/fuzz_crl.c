// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the CRL reader (lib/der.c) the agent runs on ca.crl before
 * checking its signature.  On any input it must return 0 or -EBADMSG,
 * every field it hands out must lie inside the input, and walking the
 * entries of a list it took must end, each with its serial inside the
 * list and a reason that is -1 or a byte.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "der.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether @r lies inside [@data, @data + @size). */
static int fz_inside(struct der_rd r, const uint8_t *data, size_t size)
{
	return !r.p || (r.p >= data && r.len <= size &&
			r.p + r.len <= data + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct der_crl_entry e;
	struct der_crl crl;
	size_t n = 0;
	int ret;

	ret = der_crl_parse(data, size, &crl);
	if (ret != 0 && ret != -EBADMSG)
		abort();
	if (ret)
		return 0;
	if (!fz_inside(crl.tbs, data, size) ||
	    !fz_inside(crl.sig_alg, data, size) ||
	    !fz_inside(crl.sig, data, size) ||
	    !fz_inside(crl.issuer, data, size) ||
	    !fz_inside(crl.revoked, data, size))
		abort();
	while ((ret = der_crl_next(&crl.revoked, &e)) > 0) {
		if (!fz_inside(e.serial, data, size) || !e.serial.len ||
		    e.reason < -1 || e.reason > 255 || ++n > size)
			abort();
	}
	if (ret != 0 && ret != -EBADMSG)
		abort();
	return 0;
}
