/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PROXY v2 header that opens an inbound tunnel (tunnel.h), read out of
 * the tunnel's TLS session as its plaintext arrives, in whatever pieces:
 * a header is taken only once it is whole and valid (pp2_decode()); the
 * bytes that came after it in the same reads stay in the buffer, as they
 * came, for the relay; and a peer cannot hold a connection waiting for a
 * header past PP2_MAX_HEADER bytes.
 */
#ifndef MF_TUNHDR_H
#define MF_TUNHDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxyv2.h"
#include "tls.h"

/*
 * Reads what @tls has decrypted into @buf (@cap bytes, more than
 * PP2_MAX_HEADER), after the *@fill bytes that earlier calls put there,
 * until a header is whole or the session has nothing more; *@fill counts
 * every byte in @buf, whatever the result.  Returns:
 *   >0            the header's length, decoded into @info; bytes
 *                 [ret, *fill) of @buf came after it: the client's first;
 *   0             a header needs more (tls_read() says -EAGAIN);
 *   -EBADMSG      not a header we take (pp2_decode() refuses it);
 *   -EMSGSIZE     PP2_MAX_HEADER bytes in and still no whole header;
 *   -ECONNRESET   the peer closed before the header was whole;
 *   -ECONNABORTED TLS failed (tls_last_error() says why).
 * Reading may queue records of the session's own (alerts, key updates):
 * the caller sends them.
 */
ssize_t tunhdr_read(struct tls_sess *tls, uint8_t *buf, size_t cap,
		    uint32_t *fill, struct pp2_info *info);

#endif /* MF_TUNHDR_H */
