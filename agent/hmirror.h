/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hmirror: the copies of requests that a RequestMirror (hroute.h) or a
 * gateway route's mirror filter (gwroute.h) asks for, sent and forgotten.
 *
 * Each copy is a connection of its own, made as a health check's probe is
 * (tunnel_probe()): from a socketpair whose other end this module holds,
 * over the mesh tunnel with the identity of the workload (or the gateway
 * instance) whose request it copies, so that the mirror's agent
 * authorizes it as that source and nothing is trusted more for being a
 * copy.  The copy is written whole into the pair (a head and
 * HPROXY_REPLAY_MAX of body at most: it fits the socket's buffer).  Its
 * head says "Connection: close", so the mirror ends the connection once it
 * has answered.
 *
 * The answer is never read, but this end stays open for a while: closing
 * it at once would reset the copy's connection as soon as it has anything
 * to give back (the PROXY ack), possibly before the copy reached the
 * mirror.  The tick closes the ends whose connection is over (EOF) and
 * those held HMIRROR_HOLD_NS, whatever came; with HMIRROR_MAX ends held,
 * the oldest is closed for a new one.  One loop's thread, no locks.
 */
#ifndef MF_AGENT_HMIRROR_H
#define MF_AGENT_HMIRROR_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct stats;
struct tunnel;
struct tunnel_src;

#define HMIRROR_MAX		4096		/* ends held at once */
#define HMIRROR_HOLD_NS		(2ull * 1000000000u)
#define HMIRROR_TIMEOUT_MS	10000		/* the copy's connection:
						 * setup, then silence */

struct hmirror {
	struct tunnel *tunnel;		/* borrowed */
	struct stats *stats;		/* borrowed */
	int fd[HMIRROR_MAX];		/* a ring, oldest at @head */
	uint64_t since[HMIRROR_MAX];	/* when each was sent */
	unsigned int head, n;
};

/* Sets @m up on loop @l (its tick), copies going through @tu.  Returns 0
 * or -errno. */
int hmirror_init(struct hmirror *m, struct loop *l, struct tunnel *tu,
		 struct stats *st);

/* Sends @n bytes at @p, a whole request, from @src (the workload or the
 * gateway instance whose request it copies) to the endpoint at @ip:@port
 * (network order address, host order port).  Returns 0 or -errno
 * (nothing sent; counted as skipped by the caller). */
int hmirror_send(struct hmirror *m, const struct tunnel_src *src,
		 uint32_t ip, uint16_t port, const void *p, size_t n);

/* Closes every end still held. */
void hmirror_fini(struct hmirror *m);

#endif /* MF_AGENT_HMIRROR_H */
