// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's loops, one per thread (workers.h): start-up in order (loop 0
 * binds, the others join its ports), the stop that loop 0 passes on
 * through an eventfd each, and the teardown of each loop on its own
 * thread (its ring is SINGLE_ISSUER: only the thread that made it may
 * use it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "caps.h"
#include "kreq.h"
#include "log.h"
#include "loopshare.h"
#include "rbudget.h"
#include "reload.h"
#include "workers.h"

unsigned int workers_default_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > WORKERS_MAX ? WORKERS_MAX : (unsigned int)n;
}

bool workers_reuseport_steering(void)
{
	unsigned int major, minor;
	struct utsname u;

	/* Read off the version, not probed: the helper exists on both
	 * sides of 6.5, only what it accepts changed, and that cannot be
	 * seen without a packet through a TC program. */
	if (uname(&u) || kreq_release_parse(u.release, &major, &minor))
		return false;
	return major > 6 || (major == 6 && minor >= 5);
}

/* Whether nothing listens on @addr:@port now (host order port; 0: an
 * ephemeral one, always free).  The loops' sockets take SO_REUSEPORT, and
 * would join a group another agent of the same user holds: this bind,
 * without it, fails instead.  Returns 0 or -errno (-EADDRINUSE). */
static int workers_port_free(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = addr,
	};
	int fd, one = 1, err = 0;

	if (!port)
		return 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		err = -errno;
	close(fd);
	if (err)
		log_error("event=listen_failed port=%u err=\"%s\"", port,
			  strerror(-err));
	return err;
}

/* The ports of @cfg free, those whose sockets were handed over in @in
 * aside (they are ours). */
static int workers_ports_free(const struct agent_config *cfg,
			      const struct handover_in *in)
{
	const struct { uint32_t addr; uint16_t port; bool on; } ps[] = {
		{ cfg->listen_addr, cfg->outbound_port, true },
		{ cfg->listen_addr, cfg->tunnel_port, true },
		{ cfg->listen_addr, cfg->forward_port,
		  cfg->forward_to.sin_family == AF_INET },
		{ htonl(INADDR_LOOPBACK), cfg->admin_port, cfg->admin_on },
	};
	int err = 0;

	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]) && !err; i++)
		if (ps[i].on && !handover_has_port(in, ps[i].port))
			err = workers_port_free(ps[i].addr, ps[i].port);
	return err;
}

/* ---- commands between loops ---------------------------------------------- */

static void workers_mbox_arm(struct workers_mbox *m, int op)
{
	struct io_uring_sqe *sqe = loop_sqe(m->loop, 1);

	io_uring_prep_read(sqe, m->fd, &m->val, sizeof(m->val), 0);
	io_uring_sqe_set_data64(sqe, loop_ud((unsigned int)op, 0, 0, 0));
	m->armed = true;
}

/* Asks loop @i for @cmd.  Any thread. */
static void workers_send(struct workers *w, unsigned int i,
			 enum workers_cmd cmd)
{
	const uint64_t one = 1;
	struct workers_mbox *m = &w->mbox[i];

	__atomic_fetch_or(&m->cmds, (unsigned int)cmd, __ATOMIC_RELEASE);
	if (m->fd >= 0 && write(m->fd, &one, sizeof(one)) < 0)
		log_warn("event=loop_command_failed loop=%u cmd=%d err=\"%s\"",
			 i, (int)cmd, strerror(errno));
}

/* This loop's release is over (loop_on_released()): tell loop 0, once. */
static void workers_loop_released(void *arg)
{
	struct workers_mbox *m = arg;

	if (m->released || loop_releasing(m->loop))
		return;
	m->released = true;
	__atomic_add_fetch(&m->w->nreleased, 1, __ATOMIC_RELEASE);
	workers_send(m->w, 0, WORKERS_CMD_RELEASED);
}

/* A successor took the listeners: this loop's go on its thread. */
static void workers_release(struct workers_mbox *m)
{
	struct worker *wk = &m->w->w[m->index - 1];
	struct loop *l = m->loop;

	for (unsigned int i = 0; i < l->nlisteners; i++)
		if (l->listeners[i].live)
			loop_release(l, (int)i);
	/* Only now: one whose accept was not armed is released at once,
	 * while the next ones are not released yet. */
	loop_on_released(l, workers_loop_released, m);
	workers_loop_released(m);
	agent_drain(&wk->agent);
}

static void workers_cqe_cmd(void *arg, const struct io_uring_cqe *cqe)
{
	struct workers_mbox *m = arg;
	struct workers *w = m->w;
	unsigned int cmds;

	m->armed = false;
	if (cqe->res == -ECANCELED)
		return;
	cmds = __atomic_exchange_n(&m->cmds, 0, __ATOMIC_ACQUIRE);
	if (cmds & WORKERS_CMD_STOP)
		loop_stop(m->loop);
	if (cmds & WORKERS_CMD_LISTEN)
		loop_listen_start(m->loop);
	if (cmds & WORKERS_CMD_RELEASE)
		workers_release(m);
	/* Loop 0's: each other loop's release passed on once. */
	while (m->index == 0 && w->nreleased_seen <
	       __atomic_load_n(&w->nreleased, __ATOMIC_ACQUIRE)) {
		w->nreleased_seen++;
		handover_loop_released(&w->agent0->hsrv);
	}
	if (!m->loop->stopping)
		workers_mbox_arm(m, (int)loop_ud_op(cqe->user_data));
}

static void workers_mbox_abort(void *arg)
{
	(void)arg;
}

static bool workers_mbox_busy(void *arg)
{
	const struct workers_mbox *m = arg;

	return m->armed;
}

/* Reads loop @l's commands (the eventfd of @m, made already), on its
 * thread.  Returns 0 or -ENOSPC. */
static int workers_mbox_start(struct workers_mbox *m, struct loop *l)
{
	const struct loop_user u = {
		.arg = m,
		.abort_all = workers_mbox_abort,
		.busy = workers_mbox_busy,
	};
	int op, err;

	m->loop = l;
	op = loop_op_add(l, "loop_command", workers_cqe_cmd, m);
	if (op < 0)
		return op;
	err = loop_user_add(l, &u);
	if (err)
		return err;
	workers_mbox_arm(m, op);
	return 0;
}

/* ---- a loop's thread ------------------------------------------------------ */

/* Says this loop's start-up is over (@err: how). */
static void workers_started(struct worker *wk, int err)
{
	struct workers *w = wk->w;

	pthread_mutex_lock(&w->lock);
	wk->init_err = err;
	w->started++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void *workers_thread(void *arg)
{
	struct worker *wk = arg;
	int err;

	err = agent_init(&wk->agent, &wk->cfg);
	if (err) {
		log_error("event=loop_failed loop=%u what=init err=\"%s\"",
			  wk->index, strerror(-err));
		workers_started(wk, err);
		return NULL;
	}
	err = workers_mbox_start(&wk->w->mbox[wk->index], &wk->agent.loop);
	/* Capabilities are a thread's own (capset(2)): each loop gives up
	 * its own, once its listeners are bound. */
	if (!err && wk->w->drop_caps) {
		err = caps_keep_agent();
		if (err)
			log_warn("event=caps_drop_failed loop=%u err=\"%s\"",
				 wk->index, strerror(-err));
		err = 0;
	}
	if (err) {
		agent_fini(&wk->agent);
		workers_started(wk, err);
		return NULL;
	}
	workers_started(wk, 0);
	wk->run_err = loop_run(&wk->agent.loop);
	if (wk->run_err) {
		/* Its listeners go with it (agent_fini()), so the kernel
		 * gives the other loops its share; the node's operator is
		 * told, as loop 0 cannot be. */
		log_error("event=loop_failed loop=%u what=run err=\"%s\"",
			  wk->index, strerror(-wk->run_err));
	}
	wk->final = wk->agent.ctx.stats;
	agent_fini(&wk->agent);
	return NULL;
}

/* ---- start and stop ------------------------------------------------------- */

/* Asks every loop thread that runs to stop, and joins it. */
static void workers_stop_others(struct workers *w)
{
	if (!w->w)
		return;
	for (unsigned int i = 0; i + 1 < w->n; i++)
		if (w->w[i].thread_up)
			workers_send(w, i + 1, WORKERS_CMD_STOP);
	for (unsigned int i = 0; i + 1 < w->n; i++) {
		if (!w->w[i].thread_up)
			continue;
		pthread_join(w->w[i].thread, NULL);
		w->w[i].thread_up = false;
	}
}

/* Each loop's share of the node's caps (loopshare.h): connections,
 * handshakes, and the retry budget's floor (its ratio holds as is).  A cap
 * left at 0 means its default, made explicit to be split; those derived
 * from another (a listener's half, a source's half of that) follow. */
static void workers_split(struct agent_config *c, unsigned int n)
{
	c->max_conns = loopshare(c->max_conns ? c->max_conns :
				 CONN_DEFAULT_MAX_CONNS, n);
	c->max_handshakes = loopshare(c->max_handshakes ? c->max_handshakes :
				      CONN_DEFAULT_MAX_HANDSHAKES, n);
	c->max_conns_per_listener = loopshare(c->max_conns_per_listener, n);
	c->max_conns_per_source = loopshare(c->max_conns_per_source, n);
	if (!c->retry_budget_ratio_milli && !c->retry_budget_min_per_s) {
		c->retry_budget_ratio_milli = RBUDGET_DEFAULT_RATIO_MILLI;
		c->retry_budget_min_per_s = RBUDGET_DEFAULT_MIN_PER_S;
	}
	/* Never 0 with a ratio of 0: both 0 would mean the defaults. */
	c->retry_budget_min_per_s = loopshare(c->retry_budget_min_per_s, n);
}

/* Loop @i's configuration: loop 0's, with the ports it bound, and none of
 * what is the node's once. */
static void workers_cfg(struct workers *w, const struct agent_config *cfg,
			unsigned int i, struct agent_config *out)
{
	const struct loop *l0 = &w->agent0->loop;

	*out = *cfg;
	workers_split(out, w->n);
	out->reload = w->reload[i];
	out->reuseport = true;
	out->loop_index = i;
	out->loops = &w->loops;
	if (cfg->outbound_port)
		out->outbound_port = loop_listen_port(l0, "outbound");
	if (cfg->tunnel_port)
		out->tunnel_port = loop_listen_port(l0, "tunnel");
	if (cfg->forward_to.sin_family == AF_INET)
		out->forward_port = loop_listen_port(l0, "forward");
	out->handle_signals = false;
	out->admin_on = false;
	out->watch_certs = false;
	out->xdp = NULL;
	out->kern = NULL;
	out->handover_path = NULL;	/* loop 0 serves for every loop */
}

/* Every loop's place is known before any runs: admin and the hand-over
 * read them. */
static void workers_place(struct workers *w)
{
	w->loops.n = w->n;
	w->loops.loop[0] = &w->agent0->loop;
	w->loops.ctx[0] = &w->agent0->ctx;
	for (unsigned int i = 1; i < w->n; i++) {
		w->loops.loop[i] = &w->w[i - 1].agent.loop;
		w->loops.ctx[i] = &w->w[i - 1].agent.ctx;
	}
	for (unsigned int i = 0; i < w->n; i++) {
		w->mbox[i].w = w;
		w->mbox[i].index = i;
	}
}

/* A successor took the listeners (handover.h), on loop 0's thread, whose
 * own are released: every other loop releases its own, and each drains. */
static void workers_taken(void *arg)
{
	struct workers *w = arg;

	for (unsigned int i = 1; i < w->n; i++)
		workers_send(w, i, WORKERS_CMD_RELEASE);
	agent_drain(w->agent0);
}

/* Every loop up with its share of the sockets handed over (if any): the
 * predecessor stops accepting, then every loop accepts, each on its own
 * thread; and loop 0 serves the path for every loop's listeners. */
static void workers_handover(struct workers *w, const char *path)
{
	struct loop *loops[WORKERS_MAX];

	if (w->hin.n) {
		(void)handover_commit(&w->hin);
		loop_listen_start(&w->agent0->loop);
		for (unsigned int i = 1; i < w->n; i++)
			workers_send(w, i, WORKERS_CMD_LISTEN);
	}
	handover_in_close(&w->hin);
	for (unsigned int i = 0; i < w->n; i++)
		loops[i] = (struct loop *)w->loops.loop[i];
	(void)handover_serve(&w->agent0->hsrv, loops, w->n, path,
			     workers_taken, w);
}

int workers_init(struct workers *w, const struct agent_config *cfg,
		 unsigned int n, bool drop_caps)
{
	struct agent_config c0;
	sigset_t all, old;
	unsigned int i;
	int err;

	memset(w, 0, sizeof(*w));
	w->hin.conn = -1;
	for (i = 0; i < WORKERS_MAX; i++)
		w->mbox[i].fd = -1;
	if (n < 1 || n > WORKERS_MAX)
		return -EINVAL;
	w->n = n;
	w->drop_caps = drop_caps;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	/* Before any loop listens: the running agent's sockets.  One that
	 * answers and fails keeps its listeners: ours then fail to bind,
	 * and we stop. */
	if (cfg->handover_path)
		(void)handover_fetch(&w->hin, cfg->handover_path);
	if (n > 1) {
		err = workers_ports_free(cfg, &w->hin);
		if (err)
			goto fail;
	}
	w->agent0 = calloc(1, sizeof(*w->agent0));
	w->w = n > 1 ? calloc(n - 1, sizeof(*w->w)) : NULL;
	if (!w->agent0 || (n > 1 && !w->w)) {
		err = -ENOMEM;
		goto fail;
	}
	err = reload_open_group(w->reload, n, cfg->pmap, cfg->policy);
	if (err)
		goto fail;
	workers_place(w);
	c0 = *cfg;
	c0.reload = w->reload[0];
	c0.reuseport = n > 1;
	c0.loop_index = 0;
	c0.loops = n > 1 ? &w->loops : NULL;
	c0.handover_in = w->hin.n ? &w->hin : NULL;
	if (n > 1)
		workers_split(&c0, n);
	err = agent_init(w->agent0, &c0);
	if (err) {
		free(w->agent0);
		w->agent0 = NULL;
		goto fail;
	}
	/* Loop 0 hears from the others (the hand-over's release). */
	if (n > 1) {
		w->mbox[0].fd = eventfd(0, EFD_CLOEXEC);
		err = w->mbox[0].fd < 0 ? -errno :
		      workers_mbox_start(&w->mbox[0], &w->agent0->loop);
		if (err)
			goto fail;
	}
	/* Their threads must not take the process's signals: loop 0's
	 * signalfd does (blocked already in the agent; in tests too). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 1; i < n && !err; i++) {
		struct worker *wk = &w->w[i - 1];

		wk->w = w;
		wk->index = i;
		workers_cfg(w, cfg, i, &wk->cfg);
		wk->cfg.handover_in = c0.handover_in;
		w->mbox[i].fd = eventfd(0, EFD_CLOEXEC);
		if (w->mbox[i].fd < 0) {
			err = -errno;
			break;
		}
		err = -pthread_create(&wk->thread, NULL, workers_thread, wk);
		if (err)
			break;
		wk->thread_up = true;
		pthread_setname_np(wk->thread, "mf-loop");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* One at a time would be as good: they bind ports loop 0 holds. */
	pthread_mutex_lock(&w->lock);
	for (unsigned int k = 0; k + 1 < i; k++) {
		while (w->started < i - 1)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->w[k].init_err && !err)
			err = w->w[k].init_err;
	}
	pthread_mutex_unlock(&w->lock);
	if (err)
		goto fail;
	if (cfg->handover_path)
		workers_handover(w, cfg->handover_path);
	log_info("event=loops_started loops=%u", n);
	return 0;

fail:
	workers_fini(w);
	return err;
}

void workers_totals(const struct workers *w, struct stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < w->n; i++) {
		const struct stats *st = i ? &w->w[i - 1].final :
					 &w->agent0->ctx.stats;

		out->accepted += st->accepted;
		out->relayed += st->relayed;
		out->refused += st->refused;
		out->aborted += st->aborted;
		out->finished += st->finished;
	}
}

int workers_run(struct workers *w)
{
	int err = loop_run(&w->agent0->loop);

	workers_stop_others(w);
	return err;
}

void workers_fini(struct workers *w)
{
	struct pinwatch pw;

	memset(&pw, 0, sizeof(pw));
	workers_stop_others(w);
	if (w->agent0) {
		/* The reloader reads the maps loop 0's pinwatch opened until
		 * it is closed, below. */
		agent_take_pinwatch(w->agent0, &pw);
		agent_fini(w->agent0);
		free(w->agent0);
	}
	/* Every loop and its connections let go of their snapshots. */
	if (w->reload[0])
		reload_close(w->reload[0]);
	pinwatch_fini(&pw);
	for (unsigned int i = 0; i < WORKERS_MAX; i++)
		if (w->mbox[i].fd >= 0)
			close(w->mbox[i].fd);
	/* What no loop adopted, and the connection to a predecessor whose
	 * hand-over did not complete: it keeps its listeners. */
	handover_in_close(&w->hin);
	free(w->w);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	memset(w, 0, sizeof(*w));
	/* Nothing to close if called again. */
	w->hin.conn = -1;
	for (unsigned int i = 0; i < WORKERS_MAX; i++)
		w->mbox[i].fd = -1;
}
