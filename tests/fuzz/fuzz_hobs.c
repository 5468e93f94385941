// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the HTTP/1.1 observer of relayed connections
 * (agent/hobs.c), fed what a peer and a pod choose to send.  The input is
 * a run of pieces, each a byte (bit 7: toward the pod, else back; the rest
 * the length) and its bytes.  The run is fed twice, each piece whole and
 * then a byte at a time: the counts must agree (how bytes arrive must not
 * change what is counted), every counted request has one status class and
 * one duration, and nothing the bytes say outgrows the observer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/hobs.h"
#include "../../agent/wmstats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_run(struct wmstats *tab, const char *name, const uint8_t *data,
		   size_t size, bool bytewise, uint64_t *requests)
{
	struct wmstats_series *x = wmstats_series(tab, "default", name, "web",
						  WMSTATS_INBOUND, "client");
	struct hobs *o = x ? hobs_new(x) : NULL;
	uint64_t classes = 0;
	size_t i = 0;

	if (!o)
		abort();
	while (i < size) {
		bool to_dest = data[i] & 0x80;
		size_t n = data[i] & 0x7f;

		i++;
		if (n > size - i)
			n = size - i;
		if (bytewise) {
			for (size_t k = 0; k < n; k++)
				hobs_feed(o, to_dest, data + i + k, 1);
		} else {
			hobs_feed(o, to_dest, data + i, n);
		}
		i += n;
	}
	hobs_free(o);
	for (size_t c = 0; c < 6; c++)
		classes += x->by_class[c];
	if (classes != x->requests || x->dcount != x->requests)
		abort();
	*requests = x->requests;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wmstats tab = { 0 };
	uint64_t whole, bytes;

	if (size > 65536)
		return 0;
	fz_run(&tab, "whole", data, size, false, &whole);
	fz_run(&tab, "bytes", data, size, true, &bytes);
	wmstats_free(&tab);
	if (whole != bytes)
		abort();
	return 0;
}
