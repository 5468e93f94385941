// SPDX-License-Identifier: Apache-2.0
/*
 * Load generator and echo server for the testbed load test.
 *
 *   mf_load serve IP PORT [corrupt]
 *	Echo server: every connection gets back exactly the bytes it sent, in
 *	order, until it closes.  One thread per connection with blocking
 *	sockets, the way ordinary applications behind the mesh are written.
 *	With "corrupt" it flips one bit of every connection's 1000th byte, so
 *	a test can show that the client notices.
 *
 *   mf_load client IP PORT CONNS BYTES [TIMEOUT_S]
 *	Opens CONNS connections at once (all connects in flight together),
 *	sends BYTES of a per-connection deterministic stream on each and reads
 *	BYTES back.  Every received byte is compared with the stream and the
 *	FNV-1a checksums of what was sent and what came back are compared.
 *	Prints one summary line; exits 0 only when every connection got its
 *	exact bytes back within TIMEOUT_S (default 60) seconds, else 1.
 *
 * The client reads and writes each connection concurrently (epoll): an echo
 * through bounded buffers deadlocks when a client writes everything before
 * reading.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOAD_CHUNK	(64 * 1024)

/* ---- the deterministic stream ---------------------------------------- */

static uint64_t load_mix(uint64_t x)
{
	/* splitmix64 finaliser: every 8-byte word of a stream is a function of
	 * (seed, word index) alone, so any offset can be regenerated. */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Fills @buf with bytes [@off, @off + @n) of the stream for @seed. */
static void load_gen(uint64_t seed, uint64_t off, uint8_t *buf, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint64_t pos = off + i;
		uint64_t w = load_mix(seed ^ (pos / 8) * 0xd6e8feb86659fd93ull);
		unsigned int b = pos % 8;

		for (; b < 8 && i < n; b++, i++)
			buf[i] = (uint8_t)(w >> (b * 8));
	}
}

static uint64_t load_fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define LOAD_FNV_INIT 0xcbf29ce484222325ull

static int load_parse_addr(const char *ip, const char *port,
			   struct sockaddr_in *sa)
{
	char *end;
	long p = strtol(port, &end, 10);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (*end || p <= 0 || p > 65535 || inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
		return -EINVAL;
	sa->sin_port = htons((uint16_t)p);
	return 0;
}

static double load_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void load_raise_nofile(void)
{
	struct rlimit rl;

	/* 200+ connections plus the listener: lift the soft limit to the hard
	 * one so the default 1024 never decides a test. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* ---- server ----------------------------------------------------------- */

static bool load_corrupt;

static void *load_echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t *buf = malloc(LOAD_CHUNK);
	uint64_t seen = 0;

	if (!buf)
		goto out;
	for (;;) {
		ssize_t n = recv(fd, buf, LOAD_CHUNK, 0), off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (load_corrupt && seen <= 999 && seen + n > 999)
			buf[999 - seen] ^= 1;
		seen += n;
		while (off < n) {
			ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				goto out;
			off += w;
		}
	}
	/* Our peer half-closed: pass the end of stream on. */
	shutdown(fd, SHUT_WR);
out:
	free(buf);
	close(fd);
	return NULL;
}

static int load_serve(const char *ip, const char *port)
{
	struct sockaddr_in sa;
	pthread_attr_t attr;
	int one = 1, lfd;

	if (load_parse_addr(ip, port, &sa)) {
		fprintf(stderr, "mf_load: bad address %s:%s\n", ip, port);
		return 2;
	}
	load_raise_nofile();
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1024)) {
		perror("mf_load: listen");
		return 2;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		pthread_t t;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			perror("mf_load: accept");
			return 2;
		}
		if (pthread_create(&t, &attr, load_echo_conn, (void *)(intptr_t)fd)) {
			fprintf(stderr, "mf_load: no thread for a connection\n");
			close(fd);
		}
	}
}

/* ---- client ----------------------------------------------------------- */

struct load_conn {
	int fd;
	uint64_t seed;
	uint64_t sent;
	uint64_t recvd;
	uint64_t sum_sent;
	uint64_t sum_recv;
	bool connected;
	bool done;
	const char *err;	/* static string: why it failed, NULL if not */
	int err_no;
	uint64_t bad_off;	/* first differing byte when err is "mismatch" */
};

static void load_fail(struct load_conn *c, const char *why, int err)
{
	if (!c->err) {
		c->err = why;
		c->err_no = err;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

static void load_on_write(struct load_conn *c, uint64_t total, uint8_t *buf,
			  int ep)
{
	while (c->sent < total) {
		size_t n = total - c->sent < LOAD_CHUNK ? total - c->sent : LOAD_CHUNK;
		ssize_t w;

		load_gen(c->seed, c->sent, buf, n);
		w = send(c->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w < 0) {
			load_fail(c, "send", errno);
			return;
		}
		c->sum_sent = load_fnv(c->sum_sent, buf, w);
		c->sent += w;
	}
	/* All sent: from now on we only wait for the echo. */
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void load_on_read(struct load_conn *c, uint64_t total, uint8_t *buf,
			 uint8_t *want)
{
	for (;;) {
		ssize_t n = recv(c->fd, buf, LOAD_CHUNK, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			load_fail(c, "recv", errno);
			return;
		}
		if (n == 0) {
			load_fail(c, "eof before all bytes came back", 0);
			return;
		}
		if (c->recvd + n > total) {
			load_fail(c, "more bytes than were sent", 0);
			return;
		}
		load_gen(c->seed, c->recvd, want, n);
		if (memcmp(buf, want, n)) {
			ssize_t i = 0;

			while (buf[i] == want[i])
				i++;
			c->bad_off = c->recvd + i;
			load_fail(c, "mismatch", 0);
			return;
		}
		c->sum_recv = load_fnv(c->sum_recv, buf, n);
		c->recvd += n;
		if (c->recvd == total) {
			if (c->sum_recv != c->sum_sent) {
				load_fail(c, "checksum", 0);
				return;
			}
			c->done = true;
			close(c->fd);
			c->fd = -1;
			return;
		}
	}
}

static int load_client(const char *ip, const char *port, const char *conns_s,
		       const char *bytes_s, const char *timeout_s)
{
	long nconn = strtol(conns_s, NULL, 10);
	uint64_t total = strtoull(bytes_s, NULL, 10);
	double timeout = timeout_s ? strtod(timeout_s, NULL) : 60;
	struct epoll_event evs[256];
	struct load_conn *cs = NULL;
	uint8_t *buf = NULL, *want = NULL;
	struct sockaddr_in sa;
	long ok = 0, failed = 0, left, i;
	uint64_t salt;
	double t0, end;
	int ep = -1, rc = 2;

	if (load_parse_addr(ip, port, &sa) || nconn <= 0 || total == 0 || timeout <= 0) {
		fprintf(stderr, "mf_load: bad client arguments\n");
		return 2;
	}
	load_raise_nofile();
	cs = calloc(nconn, sizeof(*cs));
	buf = malloc(LOAD_CHUNK);
	want = malloc(LOAD_CHUNK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!cs || !buf || !want || ep < 0) {
		fprintf(stderr, "mf_load: out of memory or epoll\n");
		goto out;
	}
	/* A different stream every run, so stale data can never match. */
	salt = load_mix((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	t0 = load_now();
	end = t0 + timeout;
	for (i = 0; i < nconn; i++) {
		struct load_conn *c = &cs[i];
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };

		c->seed = load_mix(salt + (uint64_t)i);
		c->sum_sent = c->sum_recv = LOAD_FNV_INIT;
		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			load_fail(c, "socket", errno);
			continue;
		}
		if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) &&
		    errno != EINPROGRESS) {
			load_fail(c, "connect", errno);
			continue;
		}
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev))
			load_fail(c, "epoll_ctl", errno);
	}
	for (;;) {
		double now = load_now();
		int n;

		left = 0;
		for (i = 0; i < nconn; i++)
			left += !cs[i].done && !cs[i].err;
		if (!left || now >= end)
			break;
		n = epoll_wait(ep, evs, 256, (int)((end - now) * 1000) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("mf_load: epoll_wait");
			goto out;
		}
		for (int k = 0; k < n; k++) {
			struct load_conn *c = evs[k].data.ptr;

			if (c->fd < 0)
				continue;
			if (!c->connected) {
				int err = 0;
				socklen_t len = sizeof(err);

				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err) {
					load_fail(c, "connect", err);
					continue;
				}
				c->connected = true;
			}
			if ((evs[k].events & EPOLLOUT) && c->sent < total)
				load_on_write(c, total, buf, ep);
			if (c->fd >= 0 && (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				load_on_read(c, total, buf, want);
		}
	}
	for (i = 0; i < nconn; i++) {
		struct load_conn *c = &cs[i];

		if (c->done) {
			ok++;
			continue;
		}
		if (!c->err)
			load_fail(c, "timeout", 0);
		if (failed++ < 10)
			fprintf(stderr, "mf_load: conn %ld: %s%s%s sent=%" PRIu64
				" recvd=%" PRIu64 " bad_off=%" PRIu64 "\n", i, c->err,
				c->err_no ? ": " : "", c->err_no ? strerror(c->err_no) : "",
				c->sent, c->recvd, c->bad_off);
	}
	printf("mf_load: conns=%ld ok=%ld failed=%ld bytes_each=%" PRIu64
	       " elapsed=%.2fs\n", nconn, ok, failed, total, load_now() - t0);
	rc = failed ? 1 : 0;
out:
	for (i = 0; cs && i < nconn; i++)
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	if (ep >= 0)
		close(ep);
	free(want);
	free(buf);
	free(cs);
	return rc;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if ((argc == 4 || (argc == 5 && !strcmp(argv[4], "corrupt"))) &&
	    !strcmp(argv[1], "serve")) {
		load_corrupt = argc == 5;
		return load_serve(argv[2], argv[3]);
	}
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "client"))
		return load_client(argv[2], argv[3], argv[4], argv[5],
				   argc == 7 ? argv[6] : NULL);
	fprintf(stderr, "usage: mf_load serve IP PORT [corrupt]\n"
			"       mf_load client IP PORT CONNS BYTES [TIMEOUT_S]\n");
	return 2;
}
