// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agentq.h"
#include "promtext.h"

/* Enough for the agent's metrics page, which is a few KiB. */
#define AGENTQ_MAX (256u * 1024)

static int agentq_addr(const char *addr, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

int agentq_addr_check(const char *addr)
{
	struct sockaddr_in sa;

	return agentq_addr(addr, &sa);
}

/* *@deadline = now + @ms. */
static void agentq_deadline(struct timespec *deadline, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += ms / 1000;
	deadline->tv_nsec += (long)(ms % 1000) * 1000000;
	if (deadline->tv_nsec >= 1000000000) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000;
	}
}

static long agentq_left_ms(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits for @events on @fd until @deadline.  Returns 0 or -ETIMEDOUT. */
static int agentq_wait(int fd, short events, const struct timespec *deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long left = agentq_left_ms(deadline);

	if (left <= 0 || poll(&p, 1, (int)left) <= 0)
		return -ETIMEDOUT;
	return 0;
}

/* The metrics lines we need, from body @b. */
static int agentq_parse(const char *b, struct agentq_info *out)
{
	struct promtext_sample x;
	const char *eol, *v;
	size_t n;

	memset(out, 0, sizeof(*out));
	for (const char *p = b; *p; p = *eol ? eol + 1 : eol) {
		unsigned long long e;
		char num[24];

		eol = p + strcspn(p, "\n");
		if (promtext_line(p, (size_t)(eol - p), &x) != PROMTEXT_SAMPLE)
			continue;
		if (x.name_len == 22 &&
		    !memcmp(x.name, "meshforge_policy_epoch", 22) &&
		    x.rest_len < sizeof(num)) {
			memcpy(num, x.rest, x.rest_len);
			num[x.rest_len] = '\0';
			if (sscanf(num, "%llu", &e) == 1) {
				out->epoch = e;
				out->has_epoch = true;
			}
		} else if (x.name_len == 20 &&
			   !memcmp(x.name, "meshforge_build_info", 20) &&
			   promtext_label(&x, "version", &v, &n) &&
			   n < sizeof(out->version)) {
			memcpy(out->version, v, n);
			out->version[n] = '\0';
		}
	}
	return out->has_epoch ? 0 : -EPROTO;
}

int agentq_fetch(const char *addr, int timeout_ms, struct agentq_info *out)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\nHost: agent\r\n\r\n";
	struct timespec deadline;
	struct sockaddr_in sa;
	size_t len = 0, off = 0;
	char *buf = NULL;
	int fd, err;
	socklen_t elen = sizeof(err);

	err = agentq_addr(addr, &sa);
	if (err)
		return err;
	agentq_deadline(&deadline, timeout_ms);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    errno != EINPROGRESS) {
		err = -errno;
		goto out;
	}
	err = agentq_wait(fd, POLLOUT, &deadline);
	if (err)
		goto out;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) || err) {
		err = err ? -err : -errno;
		goto out;
	}
	/* The request is tiny: one send fits in any socket buffer. */
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)(sizeof(req) - 1)) {
		err = -EPROTO;
		goto out;
	}
	buf = malloc(AGENTQ_MAX + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		err = agentq_wait(fd, POLLIN, &deadline);
		if (err)
			goto out;
		n = recv(fd, buf + len, AGENTQ_MAX - len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == AGENTQ_MAX)
			break;
	}
	buf[len] = '\0';
	if (strncmp(buf, "HTTP/1.", 7) || strncmp(buf + 8, " 200", 4)) {
		err = -EPROTO;
		goto out;
	}
	{
		const char *body = strstr(buf, "\r\n\r\n");

		off = body ? (size_t)(body - buf) + 4 : len;
	}
	err = agentq_parse(buf + off, out);
out:
	free(buf);
	close(fd);
	return err;
}

int agentq_wait_epoch(const char *addr, uint64_t epoch, int timeout_ms,
		      uint64_t *last)
{
	const struct timespec pause = { .tv_nsec = 5 * 1000000L };
	struct agentq_info ai;
	struct timespec deadline;
	long left;
	int err;

	*last = 0;
	agentq_deadline(&deadline, timeout_ms);
	while ((left = agentq_left_ms(&deadline)) > 0) {
		err = agentq_fetch(addr, left < 1000 ? (int)left : 1000, &ai);
		if (err == -EINVAL)
			return err;
		if (!err) {
			*last = ai.epoch;
			if (ai.epoch >= epoch)
				return 0;
		}
		/* The agent's reloader polls the maps every few
		 * milliseconds: ask again about as often. */
		nanosleep(&pause, NULL);
	}
	return -ETIMEDOUT;
}
