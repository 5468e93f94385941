// SPDX-License-Identifier: Apache-2.0
/*
 * Memory held by IDLE mutual-TLS sessions, per role.
 *
 * An agent keeps one TLS session per tunnelled connection: a client on the
 * source node, a server on the destination node, and most connections of
 * a mesh sit idle most of the time.  The benchmark budget is 20 KiB per
 * idle connection per agent, sockets and relay state included.
 *
 * The test plays the two agents: this process holds the client sessions,
 * a forked child the server sessions, and ciphertext travels between them
 * over a socketpair.  Each process measures its own resident size (what
 * the benchmark measures of an agent), before and after TLS_MEM_PAIRS
 * sessions were opened through the public tls_ API, brought to the steady
 * state (handshake, a 300-byte request and a 1200-byte response) and left
 * idle.  Sessions open in batches of TLS_MEM_BATCH whose handshakes run at
 * the same time, like an agent facing a burst of new connections: what
 * the burst needed for a while must not stay with the idle sessions.
 * Freeing the sessions must give the memory back.
 *
 * Budget: TLS_MEM_BUDGET bytes per idle session in each role.  8 KiB of
 * TLS state leaves more than half of the 20 KiB per connection to the
 * relay's own state and to page-level slack; the sockets' memory is the
 * kernel's, not the agent's.
 *
 * Transport between the processes: they take turns.  A turn is one frame
 * carrying every session's pending ciphertext; the other side answers each
 * frame with one of its own, so neither ever writes while the other
 * writes, and no socket buffer size can deadlock them.
 */
#include <malloc.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/pki_harness.h"
/* Only for tls_harness.h's th_ctx(): the sessions use tls.h's API alone. */
#include "../../agent/tls-int.h"
#include "harness/tls_harness.h"


#define TLS_MEM_PAIRS	2000
#define TLS_MEM_BATCH	250
#define TLS_MEM_BUDGET	(8 * 1024)
#define TLS_MEM_REQ	300
#define TLS_MEM_RESP	1200
/* Frames are bounded by a batch's flights: a few KiB per session. */
#define TLS_MEM_FRAME	(4u << 20)

enum frame_cmd {
	CMD_DATA = 1,		/* entries of ciphertext: idx, len, bytes */
	CMD_MEASURE,		/* server: answer with CMD_REPORT */
	CMD_FREE,		/* server: free every session, then report */
	CMD_REPORT,		/* two longs: resident bytes, heap bytes */
};

struct frame_hdr {
	uint32_t len;		/* of what follows the header */
	uint32_t cmd;
};

struct entry_hdr {
	uint32_t idx;
	uint32_t len;
};

/* Frame buffers, touched before any measurement. */
static uint8_t rx[TLS_MEM_FRAME], tx[TLS_MEM_FRAME];

/* What one process uses: resident bytes, and heap bytes in use. */
enum { RSS, HEAP };

static void measure(long m[2])
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	struct mallinfo2 mi;

	if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	if (f)
		fclose(f);
	m[RSS] = resident * sysconf(_SC_PAGESIZE);
	mi = mallinfo2();
	m[HEAP] = (long)(mi.uordblks + mi.hblkhd);
}

/* ---- frames -------------------------------------------------------------- */

static bool io_all(int fd, void *buf, size_t n, bool wr)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t k = wr ? write(fd, p, n) : read(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* Receives one frame into rx.  Returns its command (0 on EOF or error)
 * and its length in *len. */
static uint32_t frame_recv(int fd, uint32_t *len)
{
	struct frame_hdr h;

	if (!io_all(fd, &h, sizeof(h), false) || h.len > sizeof(rx) ||
	    !io_all(fd, rx, h.len, false))
		return 0;
	*len = h.len;
	return h.cmd;
}

static bool frame_send(int fd, uint32_t cmd, const void *p, uint32_t len)
{
	struct frame_hdr h = { len, cmd };

	return io_all(fd, &h, sizeof(h), true) &&
	       io_all(fd, (void *)p, len, true);
}

/* Appends the pending ciphertext of session @idx to tx at *off.  Returns
 * false when it does not fit. */
static bool frame_add(struct tls_sess *s, uint32_t idx, uint32_t *off)
{
	struct entry_hdr e;
	const void *p;
	size_t n;

	while ((n = tls_out_pending(s, &p)) > 0) {
		if (*off + sizeof(e) + n > sizeof(tx))
			return false;
		e.idx = idx;
		e.len = (uint32_t)n;
		memcpy(tx + *off, &e, sizeof(e));
		memcpy(tx + *off + sizeof(e), p, n);
		*off += (uint32_t)(sizeof(e) + n);
		tls_out_consume(s, n);
	}
	return true;
}

/* ---- one end ------------------------------------------------------------- */

struct end {
	struct tls_sess *s;
	uint32_t got;		/* plaintext bytes received */
	bool hs;		/* handshake done */
	bool sent;		/* our message written */
	bool touched;		/* has output to collect this turn */
};

/*
 * Moves session @e forward after input: the handshake, then the client
 * writes its request and reads the response, the server reads the request
 * and writes the response.  Returns false on any failure.
 */
static bool end_step(struct end *e, enum tls_role role)
{
	static uint8_t msg[TLS_MEM_RESP], buf[4096];
	bool client = role == TLS_ROLE_CLIENT;
	uint32_t want = client ? TLS_MEM_RESP : TLS_MEM_REQ;
	ssize_t r;
	int ret;

	e->touched = true;
	if (!e->hs) {
		ret = tls_handshake(e->s);
		if (ret == -EAGAIN)
			return true;
		if (ret < 0) {
			fprintf(stderr, "handshake: %s\n",
				tls_last_error(e->s));
			return false;
		}
		e->hs = true;
	}
	while ((r = tls_read(e->s, buf, sizeof(buf))) > 0)
		e->got += (uint32_t)r;
	if (r != -EAGAIN || e->got > want) {
		fprintf(stderr, "read: %zd %s\n", r, tls_last_error(e->s));
		return false;
	}
	/* The request goes once the handshake is done, the response once the
	 * whole request is in. */
	if (!e->sent && (client || e->got == want)) {
		ssize_t n = client ? TLS_MEM_REQ : TLS_MEM_RESP;

		memset(msg, client ? 'q' : 'r', n);
		if (tls_write(e->s, msg, n) != n)
			return false;
		e->sent = true;
	}
	return true;
}

/* Feeds the entries of the DATA frame in rx (@len bytes) to @ends,
 * creating server sessions on first sight.  False on any failure. */
static bool ends_take(struct end *ends, uint32_t n_ends, uint32_t len,
		      struct tls_ctx *ctx, enum tls_role role)
{
	uint32_t off = 0;

	while (off < len) {
		struct entry_hdr h;
		struct end *e;

		if (len - off < sizeof(h))
			return false;
		memcpy(&h, rx + off, sizeof(h));
		off += sizeof(h);
		if (h.idx >= n_ends || h.len > len - off)
			return false;
		e = &ends[h.idx];
		if (!e->s && (role == TLS_ROLE_CLIENT ||
			      tls_sess_new(&e->s, ctx) != 0))
			return false;
		if (tls_feed(e->s, rx + off, h.len) != 0 ||
		    !end_step(e, role))
			return false;
		off += h.len;
	}
	return true;
}

/* Collects the output of every touched end into tx.  Returns its length,
 * or -1 when it does not fit. */
static long ends_collect(struct end *ends, uint32_t from, uint32_t to)
{
	uint32_t off = 0, i;

	for (i = from; i < to; i++) {
		if (!ends[i].touched)
			continue;
		ends[i].touched = false;
		if (!frame_add(ends[i].s, i, &off))
			return -1;
	}
	return off;
}

/* Frees the sessions of @ends, and with @trim gives back what the
 * allocator kept for reuse: that is not theirs. */
static void ends_free(struct end *ends, uint32_t n, bool trim)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		tls_sess_free(ends[i].s);
	memset(ends, 0, n * sizeof(*ends));
	if (trim)
		malloc_trim(0);
}

/* The server process: answers every frame until EOF.  Exit status 0 when
 * the client ended the conversation cleanly. */
static int server_main(int fd)
{
	static struct end ends[TLS_MEM_PAIRS];
	struct tls_ctx *ctx = NULL;
	uint32_t len;
	long rep[2];

	memset(tx, 0, sizeof(tx));
	if (th_ctx(&ctx, TLS_ROLE_SERVER, "server", NULL) != 0)
		return 2;
	for (;;) {
		long out;

		switch (frame_recv(fd, &len)) {
		case 0:
			ends_free(ends, TLS_MEM_PAIRS, false);
			tls_ctx_put(ctx);
			return 0;
		case CMD_DATA:
			if (!ends_take(ends, TLS_MEM_PAIRS, len, ctx,
				       TLS_ROLE_SERVER))
				return 3;
			out = ends_collect(ends, 0, TLS_MEM_PAIRS);
			if (out < 0 || !frame_send(fd, CMD_DATA, tx,
						   (uint32_t)out))
				return 4;
			break;
		case CMD_FREE:
			ends_free(ends, TLS_MEM_PAIRS, true);
			/* fallthrough */
		case CMD_MEASURE:
			measure(rep);
			if (!frame_send(fd, CMD_REPORT, rep, sizeof(rep)))
				return 5;
			break;
		default:
			return 6;
		}
	}
}

/* Client side: opens @n pairs in batches of @batch, each to the steady
 * state.  False on any failure. */
static bool open_pairs(int fd, struct tls_ctx *ctx, struct end *ends,
		       uint32_t n, uint32_t batch)
{
	uint32_t base, i, len;

	for (base = 0; base < n; base += batch) {
		uint32_t end = base + batch < n ? base + batch : n;
		int turns = 0;

		for (i = base; i < end; i++)
			if (!ASSERT_EQ(tls_sess_new(&ends[i].s, ctx), 0) ||
			    !ASSERT_TRUE(end_step(&ends[i], TLS_ROLE_CLIENT)))
				return false;
		for (;;) {
			long out = ends_collect(ends, base, end);
			bool done = true;

			for (i = base; i < end && done; i++)
				done = ends[i].got == TLS_MEM_RESP;
			if (done && out == 0)
				break;
			if (!ASSERT_TRUE(out >= 0) ||
			    !ASSERT_TRUE(turns++ < 20) ||
			    !ASSERT_TRUE(frame_send(fd, CMD_DATA, tx,
						    (uint32_t)out)) ||
			    !ASSERT_EQ(frame_recv(fd, &len), CMD_DATA) ||
			    !ASSERT_TRUE(ends_take(ends, n, len, ctx,
						   TLS_ROLE_CLIENT)))
				return false;
		}
	}
	return true;
}

/* Asks the server for its figures (after freeing its sessions with
 * @cmd CMD_FREE). */
static bool server_report(int fd, uint32_t cmd, long rep[2])
{
	uint32_t len;

	if (!frame_send(fd, cmd, NULL, 0) ||
	    frame_recv(fd, &len) != CMD_REPORT || len != 2 * sizeof(long))
		return false;
	memcpy(rep, rx, len);
	return true;
}

/* ---- the test ------------------------------------------------------------ */

/* One role's figures, m[0] before the sessions, m[1] with them idle and
 * m[2] after they were freed, are within the budget. */
static bool within_budget(long m[3][2])
{
	long per_session = (m[1][RSS] - m[0][RSS]) / TLS_MEM_PAIRS;

	return ASSERT_TRUE(per_session > 0 && per_session <= TLS_MEM_BUDGET) &&
	       /* Freed sessions give their memory back: nothing stays in
		* use on the heap, and little stays resident (a spare slab,
		* partly used pages). */
	       ASSERT_TRUE(m[2][HEAP] - m[0][HEAP] <= 64 * 1024) &&
	       ASSERT_TRUE(m[2][RSS] - m[0][RSS] <= 1024 * 1024);
}

static bool test_idle_session_memory(void)
{
	static struct end ends[TLS_MEM_PAIRS];
	struct tls_ctx *ctx = NULL;
	long c[3][2], s[3][2];	/* each role's, as within_budget() reads */
	bool ok = false;
	int sv[2] = { -1, -1 }, status = 0;
	pid_t pid;

	if (TEST_ASAN)
		TEST_SKIP("built with AddressSanitizer, whose allocator makes "
			  "resident size meaningless");
	if (!th_have_certs)
		TEST_SKIP("openssl CLI unavailable or certificate setup failed");
	if (!ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0))
		return false;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		_exit(server_main(sv[1]));
	}
	close(sv[1]);
	sv[1] = -1;
	if (!ASSERT_TRUE(pid > 0))
		goto out;
	memset(tx, 0, sizeof(tx));
	if (!ASSERT_EQ(th_ctx(&ctx, TLS_ROLE_CLIENT, "client", NULL), 0))
		goto out;
	/* A first batch, freed before the baseline: what wolfSSL and the
	 * allocator set up once per process is not a per-session cost. */
	if (!open_pairs(sv[0], ctx, ends, TLS_MEM_BATCH, TLS_MEM_BATCH) ||
	    !ASSERT_TRUE(server_report(sv[0], CMD_FREE, s[0])))
		goto out;
	ends_free(ends, TLS_MEM_BATCH, true);
	measure(c[0]);

	if (!open_pairs(sv[0], ctx, ends, TLS_MEM_PAIRS, TLS_MEM_BATCH) ||
	    !ASSERT_TRUE(server_report(sv[0], CMD_MEASURE, s[1])))
		goto out;
	measure(c[1]);
	ends_free(ends, TLS_MEM_PAIRS, true);
	measure(c[2]);
	if (!ASSERT_TRUE(server_report(sv[0], CMD_FREE, s[2])))
		goto out;

	printf("tls_mem: pairs=%d batch=%d per_idle_session_bytes: "
	       "client=%ld server=%ld (heap client=%ld server=%ld) "
	       "left_after_free_kib: client=%ld server=%ld "
	       "heap_left_after_free_bytes: client=%ld server=%ld "
	       "budget=%d\n",
	       TLS_MEM_PAIRS, TLS_MEM_BATCH,
	       (c[1][RSS] - c[0][RSS]) / TLS_MEM_PAIRS,
	       (s[1][RSS] - s[0][RSS]) / TLS_MEM_PAIRS,
	       (c[1][HEAP] - c[0][HEAP]) / TLS_MEM_PAIRS,
	       (s[1][HEAP] - s[0][HEAP]) / TLS_MEM_PAIRS,
	       (c[2][RSS] - c[0][RSS]) / 1024, (s[2][RSS] - s[0][RSS]) / 1024,
	       c[2][HEAP] - c[0][HEAP], s[2][HEAP] - s[0][HEAP],
	       TLS_MEM_BUDGET);
	ok = within_budget(c) && within_budget(s);
out:
	ends_free(ends, TLS_MEM_PAIRS, false);
	tls_ctx_put(ctx);
	if (sv[0] >= 0)
		close(sv[0]);	/* EOF: the server exits */
	if (pid > 0) {
		if (!ok)
			kill(pid, SIGKILL);
		if (waitpid(pid, &status, 0) != pid ||
		    (ok && !ASSERT_TRUE(WIFEXITED(status) &&
					WEXITSTATUS(status) == 0)))
			ok = false;
	}
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (tls_global_init() != 0) {
		printf("FAIL: test_tls_mem/tls_global_init\n");
		return 1;
	}
	th_have_certs = ph_make_pki(th_dir, sizeof(th_dir), "tls-mem");
	TEST_RUN(test_idle_session_memory);
	tls_global_fini();
	ph_remove(th_dir);
	TEST_MAIN_END();
}
