/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin endpoint: a minimal, strict HTTP/1.1 server on 127.0.0.1
 * (MF_PORT_ADMIN by default), served by the agent's own io_uring loop.
 *
 *   GET /ready        200 "ready\n" once the listeners are up and a policy
 *                     snapshot is loaded, 503 otherwise
 *   GET /live         200 "alive\n" whenever the loop answers, ready or not
 *   GET /metrics      Prometheus text format 0.0.4: loop counters, the
 *                     policy epoch, the kernel's mf_stats summed over CPUs
 *   GET /config_dump  the policy snapshot in force, as JSON (503 when
 *                     none is loaded)
 *   other paths 404, other methods 405.
 *
 * MeshMetric (wmplan.h): for each port a Prometheus backend in force on
 * this node's workloads names, the endpoint also listens on
 * @metrics_addr:port and answers a GET at a path a backend names with
 * the workload families of exactly the workloads whose MeshMetric names
 * that port and path (other paths 404), through the same connections,
 * deadlines and pages.  The listeners follow the snapshots: the plan is
 * rebuilt when the loop's tick (about once a second) or a request sees a
 * new one, and ports no longer named are closed.
 *
 * A Prometheus backend's tls.mode is its port's (wmplan.h): ProvidedTLS
 * ports speak TLS 1.3 with the certificate given to the agent
 * (--metrics-tls-cert, --metrics-tls-key) and ask the client for none;
 * ActiveMTLSBackend ports speak it with this node's mesh certificate
 * (its tunnel identity, certs.h) and require a client certificate that
 * the mesh's trust vouches for (its CA and the MeshTrusts' CAs, each for
 * its trust domain, and the CA's revocation list), any identity of the
 * mesh.  A port whose mode has nothing to serve it with (no certificate
 * given; no certificate store) is not listened on, and the log says so
 * with each snapshot.  The handshake runs on the loop, inside the head's
 * deadline, through the session's memory queues (tls.h), and a client
 * may send at most ADMIN_TLS_IN_MAX bytes before its head is whole; at
 * most ADMIN_TLS_ACCEPTS_PER_S TLS connections a second are taken.
 *
 * One request per connection, answered with "Connection: close".  It can
 * never disturb the data path: admin connections live in their own small
 * table (a full table resets new ones), read into their own buffers (never
 * the provided buffer ring), and each has a deadline.  A request head over
 * ADMIN_HEAD_MAX bytes, anything that is not a well-formed GET head, a
 * request with a body and a missed deadline all end in RST without an
 * answer.
 *
 * /metrics and /config_dump grow with the node (tens of MB of dump at
 * 10,000 services and 100,000 workloads), and the loop that renders them
 * relays every connection of the node meanwhile.  So they are rendered in
 * steps of ADMIN_CHUNK bytes (admin_page.h), each once the one before has
 * been sent, and go out as HTTP/1.1 chunks (to an HTTP/1.0 request: with
 * no length, ending at the close).  The steps run in render turns, at
 * most one per turn of the loop, of ADMIN_TURN_BUDGET bytes over all the
 * pages in flight: rendering costs 5 to 15 ns a byte, so admin adds
 * about half a millisecond to a turn of the loop however large the
 * snapshot and however many pages are asked for.  At most
 * ADMIN_RENDERS_MAX pages are in flight (one more is answered 503 with
 * Retry-After), each with one chunk of memory and a reference to the
 * snapshot it shows (docs/admin.md).
 *
 * The deadline: timeout_ms from accept for the request head; once a page
 * goes out, timeout_ms from the last send that took bytes (a client that
 * stops reading is reset), and never past ADMIN_PAGE_MAX_MS from accept.
 * A reset in the middle of a page says it is not whole.
 */
#ifndef MF_ADMIN_H
#define MF_ADMIN_H

#include <stddef.h>
#include <stdint.h>

struct admin;
struct ctx;
struct loop;

#define ADMIN_HEAD_MAX		8192	/* request line + headers + CRLFCRLF */
/* Connections, and how many of them may be sending a page; the rest of
 * the table is for /ready and for the 503 that says to come back. */
#define ADMIN_MAX_CONNS		32
/* MeshMetric Prometheus ports listened on at once, and how much of the
 * tables above their connections (from the wire) may take: half, so a
 * client there never locks the node's own probes out. */
#define ADMIN_MPORTS_MAX	16
#define ADMIN_MPORT_CONNS_MAX	(ADMIN_MAX_CONNS / 2)
#define ADMIN_MPORT_RENDERS_MAX	(ADMIN_RENDERS_MAX / 2)
#define ADMIN_RENDERS_MAX	16
/* Bytes of a page rendered per step (a step stops after the unit, an
 * endpoint or a policy record, that crosses it), and per render turn over
 * all pages (a turn stops after the step that crosses it). */
#define ADMIN_CHUNK		(16 * 1024)
#define ADMIN_TURN_BUDGET	(64 * 1024)
#define ADMIN_DEFAULT_TIMEOUT_MS 2000
#define ADMIN_PAGE_MAX_MS	30000
/* The send buffer of an admin socket, in place of an autotuned one of up
 * to 4 MB: a page's progress is seen as it drains (admin.c). */
#define ADMIN_SNDBUF		(256 * 1024)

/* A MeshMetric port that speaks TLS: ciphertext read per recv, and how
 * much a client may send before its request head is whole (a
 * ClientHello, a certificate chain, its Finished and the head: a few KB;
 * more is refused as a head over ADMIN_HEAD_MAX is). */
#define ADMIN_TLS_RECV		4096
#define ADMIN_TLS_IN_MAX	(64 * 1024)
/* TLS connections the MeshMetric ports of a loop take a second, the rest
 * reset at accept, before any cryptography: a handshake costs the loop
 * about half a millisecond of CPU (X25519, an ECDSA signature, the
 * client's chain verified), so a client that reconnects without end
 * takes under 2% of it, where a Prometheus scrapes a port once per
 * scrape_interval. */
#define ADMIN_TLS_ACCEPTS_PER_S	32

/* Sub-operations, the aux byte of an admin op's user_data. */
enum admin_op {
	ADMIN_OP_RECV = 1,
	ADMIN_OP_SEND,
	ADMIN_OP_TIMEOUT,	/* the connection's deadline */
	ADMIN_OP_CANCEL,	/* cancel of its socket ops or of its timer */
};

/*
 * Registers the endpoint with loop @l: its operation, its teardown and its
 * listener on 127.0.0.1:@port (0: ephemeral), with a deadline of
 * @timeout_ms per connection (0: ADMIN_DEFAULT_TIMEOUT_MS), and the
 * MeshMetric ports it will listen on at @metrics_addr (network order),
 * those of ProvidedTLS with the certificate of @metrics_tls (NULL: none;
 * borrowed, it must outlive the endpoint, which reads it again when its
 * files change: tlsfile.h).  The pages read @ctx (node, pinned maps,
 * policy, counters; its certs for ActiveMTLSBackend ports).  Returns 0 or
 * -errno; *out is set either way, since the loop keeps pointers to it
 * until loop_fini(): the caller frees it with admin_close() after that.
 */
struct tlsfile;
int admin_open(struct admin **out, struct loop *l, struct ctx *ctx,
	       uint16_t port, uint32_t timeout_ms, uint32_t metrics_addr,
	       struct tlsfile *metrics_tls);

/* SIGHUP: the ProvidedTLS certificate is read again (when one was given),
 * for new connections; those open keep theirs.  @a may be NULL. */
void admin_reload_tls(struct admin *a);

/* Frees @a (NULL-safe), closing what loop_fini() could not.  After
 * loop_fini(): no recv can land in an admin buffer any more. */
void admin_close(struct admin *a);

#endif /* MF_ADMIN_H */
