// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the PROXY v2 decoder the tunnel runs on bytes from a peer.
 * It must keep its contract (consumed <= n, 0 or -EPROTO otherwise) on any
 * input, and what it accepts must encode back to an equivalent header.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyv2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp2_info info, again;
	uint8_t buf[PP2_MAX_HEADER];
	ssize_t r, n;

	memset(&info, 0, sizeof(info));
	r = pp2_decode(data, size, &info);
	if (r < 0 && r != -EPROTO)
		abort();
	if (r > (ssize_t)size || r > PP2_MAX_HEADER)
		abort();
	if (r <= 0)
		return 0;
	n = pp2_encode(&info, buf, sizeof(buf));
	if (n <= 0)
		abort();
	memset(&again, 0, sizeof(again));
	if (pp2_decode(buf, (size_t)n, &again) != n)
		abort();
	if (memcmp(&info.src, &again.src, sizeof(info.src)) ||
	    memcmp(&info.dst, &again.dst, sizeof(info.dst)) ||
	    info.has_orig_dst != again.has_orig_dst ||
	    info.has_req_id != again.has_req_id ||
	    (info.has_req_id && info.req_id != again.req_id))
		abort();
	return 0;
}
