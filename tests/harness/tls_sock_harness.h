/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A TLS session of agent/tls.h driven over a blocking socket, for the
 * tests that speak TLS to an agent's listener as a peer would
 * (test_tunnel, test_admin_tls):
 *   ts_flush()      sends what the session has queued.
 *   ts_handshake()  runs the client's handshake to its end.
 *   ts_read_all()   decrypts what the peer sends until it closes.
 * Include after harness/test.h and agent/tls.h.
 */
#ifndef MF_TLS_SOCK_HARNESS_H
#define MF_TLS_SOCK_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Sends everything @s has queued on @fd.  False when a send fails. */
static inline bool ts_flush(struct tls_sess *s, int fd)
{
	const void *p;
	size_t n;

	while ((n = tls_out_pending(s, &p)) > 0) {
		if (send(fd, p, n, MSG_NOSIGNAL) != (ssize_t)n)
			return false;
		tls_out_consume(s, n);
	}
	return true;
}

/* Runs client session @s's handshake over @fd.  Returns 0,
 * tls_handshake()'s error, or -ECONNRESET when the peer closed or reset
 * first (or a send failed). */
static inline int ts_handshake(struct tls_sess *s, int fd)
{
	uint8_t buf[16384];
	ssize_t n;
	int r;

	for (;;) {
		r = tls_handshake(s);
		if (!ts_flush(s, fd))
			return -ECONNRESET;
		if (r != -EAGAIN)
			return r;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0 || tls_feed(s, buf, (size_t)n))
			return -ECONNRESET;
	}
}

/* Reads @s's plaintext from @fd into @buf (@cap bytes, NUL-terminated)
 * until the peer's close_notify, or its EOF, reset or an error of the
 * session.  Returns the bytes read, or -errno for what ended it other
 * than a close_notify (-ECONNRESET, -EPIPE for an EOF without one, the
 * session's error). */
static inline ssize_t ts_read_all(struct tls_sess *s, int fd, char *buf,
				  size_t cap)
{
	uint8_t in[16384];
	size_t len = 0;
	ssize_t n, r;

	for (;;) {
		while (len + 1 < cap &&
		       (r = tls_read(s, buf + len, cap - 1 - len)) > 0)
			len += (size_t)r;
		buf[len] = '\0';
		if (len + 1 >= cap)
			return (ssize_t)len;
		if (r == 0)
			return (ssize_t)len;
		if (r != -EAGAIN)
			return r;
		if (!ts_flush(s, fd))
			return -ECONNRESET;
		n = recv(fd, in, sizeof(in), 0);
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		if (tls_feed(s, in, (size_t)n))
			return -ENOBUFS;
	}
}

#endif /* MF_TLS_SOCK_HARNESS_H */
