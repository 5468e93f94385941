// SPDX-License-Identifier: Apache-2.0
/*
 * The ciphertext queues: bytes come out in order, limits hold, drained
 * queues hold no memory, the input queue leaves no copy of its bytes
 * behind when it moves them, and the output queue's bytes stay where they
 * were written while more is appended; a chunk kept for reuse holds
 * none of the bytes it carried.
 */
#include "harness/test.h"
#include "../../agent/bufq.h"

static uint8_t src[3 * BUFQ_CHUNK], got[3 * BUFQ_CHUNK];

static void fill(void)
{
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 131 + i / 251);
}

static bool test_in_order_limit_and_memory(void)
{
	struct bufq_in q = { 0 };
	bool ok;

	/* 3000 in, 2500 out, 2000 in: the 500 left move to the front of
	 * the buffer rather than it growing. */
	ok = ASSERT_EQ(bufq_in_put(&q, src, 3000, 8192), 0) &&
	     ASSERT_EQ(q.cap, 4096) &&
	     ASSERT_EQ(bufq_in_take(&q, got, 2500), 2500) &&
	     ASSERT_EQ(bufq_in_put(&q, src + 3000, 2000, 8192), 0) &&
	     ASSERT_EQ(q.cap, 4096) && ASSERT_EQ(bufq_in_len(&q), 2500) &&
	     /* What the move left behind past the new bytes is wiped. */
	     ASSERT_ZEROED(q.buf + 2500, 500) &&
	     ASSERT_EQ(bufq_in_take(&q, got + 2500, 9999), 2500) &&
	     ASSERT_MEMEQ(got, src, 5000) &&
	     ASSERT_TRUE(!q.buf && !q.cap);
	/* Up to the limit, not a byte over; the buffer never outgrows it. */
	ok = ok && ASSERT_EQ(bufq_in_put(&q, src, 5000, 5000), 0) &&
	     ASSERT_EQ(bufq_in_put(&q, src, 1, 5000), -ENOBUFS) &&
	     ASSERT_EQ(q.cap, 5000) && ASSERT_EQ(bufq_in_len(&q), 5000);
	bufq_in_drop(&q, 4999);
	ok = ok && ASSERT_EQ(bufq_in_len(&q), 1) &&
	     ASSERT_EQ(bufq_in_data(&q)[0], src[4999]);
	bufq_in_drop(&q, 1);
	ok = ok && ASSERT_TRUE(!q.buf && !q.cap);
	bufq_in_free(&q);
	return ok;
}

static bool test_out_bytes_stay(void)
{
	const size_t half = BUFQ_CHUNK / 2;
	struct bufq_out q = { 0 };
	const void *p, *p2;
	size_t n, total = 0;
	bool ok;

	ok = ASSERT_EQ(bufq_out_put(&q, src, BUFQ_CHUNK + half), 0) &&
	     ASSERT_EQ(bufq_out_peek(&q, &p), BUFQ_CHUNK) &&
	     ASSERT_EQ(bufq_out_put(&q, src + BUFQ_CHUNK + half,
				    BUFQ_CHUNK + half), 0) &&
	     ASSERT_EQ(q.len, sizeof(src)) &&
	     ASSERT_EQ(bufq_out_peek(&q, &p2), BUFQ_CHUNK) &&
	     ASSERT_TRUE(p2 == p);
	while (ok && (n = bufq_out_peek(&q, &p)) > 0) {
		n = n < 1000 ? n : 1000;
		memcpy(got + total, p, n);
		bufq_out_consume(&q, n);
		total += n;
	}
	ok = ok && ASSERT_EQ(total, sizeof(src)) &&
	     ASSERT_MEMEQ(got, src, sizeof(src)) &&
	     ASSERT_TRUE(!q.first && !q.last && !q.spare && !q.len);
	bufq_out_free(&q);
	return ok;
}

/* Records are written in place: behind the last one when they fit, in a
 * fresh chunk when not; one not committed leaves the queue as it was. */
static bool test_out_reserve_in_place(void)
{
	struct bufq_chunk *fresh, *f2;
	struct bufq_out q = { 0 };
	uint8_t *w, *w2;
	const void *p;
	bool ok;

	w = bufq_out_reserve(&q, 100, &fresh);
	ok = ASSERT_TRUE(w && fresh && w == fresh->data);
	bufq_out_recycle(&q, fresh);
	ok = ok && ASSERT_TRUE(q.spare == fresh && !q.first) &&
	     ASSERT_EQ(bufq_out_peek(&q, &p), 0);
	w = bufq_out_reserve(&q, 100, &f2);
	ok = ok && ASSERT_TRUE(w && f2 == fresh && !q.spare);
	if (!ok)
		goto out;
	memcpy(w, src, 100);
	bufq_out_commit(&q, f2, 100);
	w2 = bufq_out_reserve(&q, 200, &f2);
	ok = ASSERT_TRUE(w2 == w + 100 && !f2);
	if (!ok)
		goto out;
	memcpy(w2, src + 100, 200);
	bufq_out_commit(&q, f2, 200);
	w = bufq_out_reserve(&q, BUFQ_CHUNK - 299, &f2);
	ok = ASSERT_TRUE(w && f2 && w == f2->data);
	if (!ok)
		goto out;
	bufq_out_commit(&q, f2, BUFQ_CHUNK - 299);
	ok = ASSERT_EQ(q.len, BUFQ_CHUNK + 1) &&
	     ASSERT_EQ(bufq_out_peek(&q, &p), 300) &&
	     ASSERT_MEMEQ(p, src, 300);
out:
	bufq_out_free(&q);
	return ok;
}

/* A chunk whose bytes were sent and that is kept for reuse holds none of
 * them: the next use may write less. */
static bool test_out_recycled_wiped(void)
{
	struct bufq_out q = { 0 };
	const void *p;
	struct bufq_chunk *spare;
	bool ok;

	/* Two chunks' worth, the first sent: it becomes the spare while
	 * the rest waits (a queue that empties frees its chunks, wiped). */
	ok = ASSERT_EQ(bufq_out_put(&q, src, BUFQ_CHUNK + 100), 0) &&
	     ASSERT_EQ(bufq_out_peek(&q, &p), BUFQ_CHUNK);
	if (ok)
		bufq_out_consume(&q, BUFQ_CHUNK);
	spare = q.spare;
	ok = ok && ASSERT_EQ(q.len, 100) && ASSERT_TRUE(spare != NULL) &&
	     ASSERT_ZEROED(spare->data, BUFQ_CHUNK);
	bufq_out_free(&q);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	fill();
	TEST_RUN(test_in_order_limit_and_memory);
	TEST_RUN(test_out_bytes_stay);
	TEST_RUN(test_out_reserve_in_place);
	TEST_RUN(test_out_recycled_wiped);
	TEST_MAIN_END();
}
