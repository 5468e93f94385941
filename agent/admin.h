/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin endpoint: a minimal, strict HTTP/1.1 server on 127.0.0.1
 * (MF_PORT_ADMIN by default), served by the agent's own io_uring loop.
 *
 *   GET /ready        200 "ready\n" once the listeners are up and a policy
 *                     snapshot is loaded, 503 otherwise
 *   GET /metrics      Prometheus text format 0.0.4: loop counters, the
 *                     policy epoch, the kernel's mf_stats summed over CPUs
 *   GET /config_dump  the policy snapshot in force, as JSON
 *   other paths 404, other methods 405.
 *
 * One request per connection, answered with "Connection: close".  It can
 * never disturb the data path: admin connections live in their own small
 * table (a full table resets new ones), read into their own buffers (never
 * the provided buffer ring), and each has a deadline from accept to the
 * last byte sent.  A request head over ADMIN_HEAD_MAX bytes, anything that
 * is not a well-formed GET head, a request with a body and a missed
 * deadline all end in RST without an answer.
 */
#ifndef MF_ADMIN_H
#define MF_ADMIN_H

#include <stddef.h>
#include <stdint.h>

struct admin;
struct ctx;
struct loop;

#define ADMIN_HEAD_MAX		8192	/* request line + headers + CRLFCRLF */
#define ADMIN_MAX_CONNS		16
#define ADMIN_DEFAULT_TIMEOUT_MS 2000

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
 * @timeout_ms per connection (0: ADMIN_DEFAULT_TIMEOUT_MS).  The pages read
 * @ctx (node, pinned maps, policy, counters).  Returns 0 or -errno; *out is
 * set either way, since the loop keeps pointers to it until loop_fini():
 * the caller frees it with admin_close() after that.
 */
int admin_open(struct admin **out, struct loop *l, struct ctx *ctx,
	       uint16_t port, uint32_t timeout_ms);

/* Frees @a (NULL-safe), closing what loop_fini() could not.  After
 * loop_fini(): no recv can land in an admin buffer any more. */
void admin_close(struct admin *a);

#endif /* MF_ADMIN_H */
