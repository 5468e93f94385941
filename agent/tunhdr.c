// SPDX-License-Identifier: Apache-2.0
/*
 * The PROXY v2 header at the start of an inbound tunnel (tunhdr.h).
 *
 * Each call reads all the session has decrypted, up to the buffer's end,
 * not just the header's bytes: what follows the header in the same
 * records is the client's, and goes to the relay from the buffer.  The
 * limit holds all the same, as the bytes arrive: pp2_decode() refuses a
 * header whose length field says more than PP2_MAX_HEADER as soon as the
 * 16 fixed bytes are in, and a header still not whole at PP2_MAX_HEADER
 * bytes fails here, so the buffer never waits on more than that.
 */
#include <errno.h>

#include "tunhdr.h"

ssize_t tunhdr_read(struct tls_sess *tls, uint8_t *buf, size_t cap,
		    uint32_t *fill, struct pp2_info *info)
{
	ssize_t n, used;

	for (;;) {
		/* Before reading: a call after the limit reads nothing. */
		if (*fill >= PP2_MAX_HEADER || *fill >= cap)
			return -EMSGSIZE;
		n = tls_read(tls, buf + *fill, cap - *fill);
		if (n == -EAGAIN)
			return 0;
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return -ECONNABORTED;
		*fill += (uint32_t)n;
		used = pp2_decode(buf, *fill, info);
		if (used < 0)
			return -EBADMSG;
		if (used > 0)
			return used;
	}
}
