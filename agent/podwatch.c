// SPDX-License-Identifier: Apache-2.0
/*
 * The pod interfaces, followed over rtnetlink (podwatch.h).
 */
#include <errno.h>
#include <fnmatch.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "podwatch.h"
#include "timer.h"

#define PODWATCH_NS_PER_MS	1000000ull

const char *podwatch_state_str(enum podwatch_state s)
{
	switch (s) {
	case PODWATCH_FREE:
		return "free";
	case PODWATCH_DOWN:
		return "down";
	case PODWATCH_ATTACHED:
		return "attached";
	case PODWATCH_FAILED:
		return "failed";
	}
	return "unknown";
}

/* ---- names ----------------------------------------------------------- */

/* Whether @name is one of the explicit names. */
static bool podwatch_listed(const struct podwatch *pw, const char *name)
{
	for (unsigned int i = 0; i < pw->nnames; i++)
		if (!strcmp(pw->names[i], name))
			return true;
	return false;
}

bool podwatch_match(const struct podwatch *pw, const char *name)
{
	/* Steering lo's or the uplink's traffic to the agent would take
	 * the node's own, and the other nodes', with it. */
	if (!strcmp(name, "lo") || (pw->uplink[0] && !strcmp(name, pw->uplink)))
		return false;
	if (podwatch_listed(pw, name))
		return true;
	return pw->pattern[0] && fnmatch(pw->pattern, name, 0) == 0;
}

/* Copies what @cfg names into @pw.  Returns 0 or -errno. */
static int podwatch_config_copy(struct podwatch *pw,
				const struct podwatch_config *cfg)
{
	if (cfg->nnames > PODWATCH_NAMES_MAX)
		return -E2BIG;
	if (cfg->pattern && snprintf(pw->pattern, sizeof(pw->pattern), "%s",
				     cfg->pattern) >= (int)sizeof(pw->pattern))
		return -ENAMETOOLONG;
	if (cfg->uplink && snprintf(pw->uplink, sizeof(pw->uplink), "%s",
				    cfg->uplink) >= (int)sizeof(pw->uplink))
		return -ENAMETOOLONG;
	if (!cfg->nnames)
		return 0;
	pw->names = calloc(cfg->nnames, sizeof(*pw->names));
	if (!pw->names)
		return -ENOMEM;
	for (unsigned int i = 0; i < cfg->nnames; i++)
		if (snprintf(pw->names[i], sizeof(pw->names[i]), "%s",
			     cfg->names[i]) >= (int)sizeof(pw->names[i]))
			return -ENAMETOOLONG;
	pw->nnames = cfg->nnames;
	return 0;
}

/* ---- the table ------------------------------------------------------- */

static struct podwatch_iface *podwatch_find(struct podwatch *pw, int ifindex)
{
	for (unsigned int i = 0; i < PODWATCH_IFACES_MAX; i++)
		if (pw->ifaces[i].state != PODWATCH_FREE &&
		    pw->ifaces[i].ifindex == ifindex)
			return &pw->ifaces[i];
	return NULL;
}

enum podwatch_state podwatch_state_of(const struct podwatch *pw,
				      const char *name)
{
	for (unsigned int i = 0; pw->ifaces && i < PODWATCH_IFACES_MAX; i++)
		if (pw->ifaces[i].state != PODWATCH_FREE &&
		    !strcmp(pw->ifaces[i].name, name))
			return pw->ifaces[i].state;
	return PODWATCH_FREE;
}

/* A slot for @ifindex, in state DOWN; NULL (logged) when the table is
 * full. */
static struct podwatch_iface *podwatch_slot_new(struct podwatch *pw,
						int ifindex, const char *name)
{
	struct podwatch_iface *f;

	for (unsigned int i = 0; i < PODWATCH_IFACES_MAX; i++) {
		f = &pw->ifaces[i];
		if (f->state != PODWATCH_FREE)
			continue;
		memset(f, 0, sizeof(*f));
		f->state = PODWATCH_DOWN;
		f->ifindex = ifindex;
		f->seen = true;
		snprintf(f->name, sizeof(f->name), "%s", name);
		log_debug("event=pod_iface_found iface=%s ifindex=%d", name,
			  ifindex);
		return f;
	}
	pw->stats->pod_attach_failed++;
	if (log_limit_ok(&pw->log, LOG_LVL_ERROR, "pod_iface_untracked"))
		log_error("event=pod_iface_untracked iface=%s ifindex=%d "
			  "reason=table_full max=%u", name, ifindex,
			  PODWATCH_IFACES_MAX);
	return NULL;
}

static void podwatch_attach(struct podwatch *pw, struct podwatch_iface *f)
{
	unsigned int shift, delay_ms;
	int err;

	err = pw->ops.attach(pw->ops.arg, f->ifindex, f->name);
	if (!err) {
		f->state = PODWATCH_ATTACHED;
		f->failures = 0;
		pw->attached++;
		pw->stats->pod_ifaces = pw->attached;
		pw->stats->pod_attached++;
		log_info("event=pod_iface_attached iface=%s ifindex=%d by=%s "
			 "attached=%u", f->name, f->ifindex,
			 podwatch_listed(pw, f->name) ? "name" : "pattern",
			 pw->attached);
		return;
	}
	f->state = PODWATCH_FAILED;
	f->failures++;
	shift = f->failures - 1 < 5 ? f->failures - 1 : 5;
	delay_ms = PODWATCH_RETRY_MS << shift;
	if (delay_ms > PODWATCH_RETRY_MAX_MS)
		delay_ms = PODWATCH_RETRY_MAX_MS;
	f->retry_at = timer_now() + delay_ms * PODWATCH_NS_PER_MS;
	pw->stats->pod_attach_failed++;
	/* At start, a named interface that cannot be attached stops the
	 * agent, as it did when the list was attached once. */
	if (pw->starting && podwatch_listed(pw, f->name)) {
		log_error("event=podwatch_failed step=attach iface=%s "
			  "ifindex=%d err=\"%s\"", f->name, f->ifindex,
			  strerror(-err));
		if (!pw->start_err)
			pw->start_err = err;
		return;
	}
	if (log_limit_ok(&pw->log, LOG_LVL_ERROR, "pod_iface_attach_failed"))
		log_error("event=pod_iface_attach_failed iface=%s ifindex=%d "
			  "err=\"%s\" failures=%u retry_ms=%u", f->name,
			  f->ifindex, strerror(-err), f->failures, delay_ms);
}

/* Stops following @f (detaching it when attached); @why for the log. */
static void podwatch_forget(struct podwatch *pw, struct podwatch_iface *f,
			    bool gone, const char *why)
{
	if (f->state == PODWATCH_ATTACHED) {
		pw->ops.detach(pw->ops.arg, f->ifindex, f->name, gone);
		pw->attached--;
		pw->stats->pod_ifaces = pw->attached;
		pw->stats->pod_detached++;
		log_info("event=pod_iface_detached iface=%s ifindex=%d "
			 "reason=%s attached=%u", f->name, f->ifindex, why,
			 pw->attached);
	} else {
		log_debug("event=pod_iface_forgotten iface=%s ifindex=%d "
			  "reason=%s state=%s", f->name, f->ifindex, why,
			  podwatch_state_str(f->state));
	}
	memset(f, 0, sizeof(*f));
}

/* ---- messages -------------------------------------------------------- */

static int podwatch_link_attr(const struct nlattr *a, void *data)
{
	const char **name = data;

	/* Attributes newer than our headers are none of ours. */
	if (mnl_attr_type_valid(a, IFLA_MAX) < 0)
		return MNL_CB_OK;
	if (mnl_attr_get_type(a) != IFLA_IFNAME)
		return MNL_CB_OK;
	if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 ||
	    strlen(mnl_attr_get_str(a)) >= IF_NAMESIZE)
		return MNL_CB_ERROR;
	*name = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

/* RTM_NEWLINK and RTM_DELLINK, of the dump or an event alike. */
static void podwatch_link(struct podwatch *pw, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct podwatch_iface *f;
	const char *name = NULL;
	bool pod;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
		return;
	/* AF_BRIDGE messages are about bridge ports: their RTM_DELLINK
	 * says an interface left a bridge, not that it is gone. */
	if (ifm->ifi_family != AF_UNSPEC)
		return;
	if (mnl_attr_parse(nlh, sizeof(*ifm), podwatch_link_attr, &name) < 0) {
		if (log_limit_ok(&pw->log, LOG_LVL_WARN, "podwatch_bad_message"))
			log_warn("event=podwatch_bad_message type=%u ifindex=%d",
				 nlh->nlmsg_type, ifm->ifi_index);
		return;
	}
	f = podwatch_find(pw, ifm->ifi_index);
	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (f)
			podwatch_forget(pw, f, true, "deleted");
		return;
	}
	if (!name)
		return;
	pod = podwatch_match(pw, name) && !(ifm->ifi_flags & IFF_LOOPBACK);
	if (f) {
		f->seen = true;
		if (strcmp(f->name, name)) {
			if (!pod) {
				podwatch_forget(pw, f, false, "renamed");
				return;
			}
			log_info("event=pod_iface_renamed iface=%s ifindex=%d "
				 "was=%s state=%s", name, f->ifindex, f->name,
				 podwatch_state_str(f->state));
			snprintf(f->name, sizeof(f->name), "%s", name);
		}
	} else {
		if (!pod)
			return;
		f = podwatch_slot_new(pw, ifm->ifi_index, name);
		if (!f)
			return;
	}
	if (f->state == PODWATCH_DOWN && (ifm->ifi_flags & IFF_UP))
		podwatch_attach(pw, f);
}

/* RTM_NEWADDR and RTM_DELADDR: someone is setting an interface up. */
static void podwatch_addr(struct podwatch *pw, const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct podwatch_iface *f;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return;
	f = podwatch_find(pw, (int)ifa->ifa_index);
	if (!f)
		return;
	log_debug("event=pod_iface_address iface=%s ifindex=%d change=%s "
		  "state=%s", f->name, f->ifindex,
		  nlh->nlmsg_type == RTM_NEWADDR ? "added" : "removed",
		  podwatch_state_str(f->state));
	if (nlh->nlmsg_type == RTM_NEWADDR && f->state == PODWATCH_FAILED)
		podwatch_attach(pw, f);
}

static int podwatch_msg(const struct nlmsghdr *nlh, void *data)
{
	struct podwatch *pw = data;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		podwatch_link(pw, nlh);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		podwatch_addr(pw, nlh);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

/* ---- dumps ----------------------------------------------------------- */

/*
 * Asks for a dump of the links.  Each followed interface is marked unseen
 * until the dump (or an event meanwhile) shows it.  Returns 0, or -errno
 * (logged) with a dump left due for the tick.
 */
static int podwatch_dump(struct podwatch *pw)
{
	union {
		struct nlmsghdr h;
		uint8_t b[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg))];
	} req;
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;
	int err;

	memset(&req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(req.b);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (++pw->seq == 0)	/* 0 is the events' */
		pw->seq = 1;
	nlh->nlmsg_seq = pw->seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	if (mnl_socket_sendto(pw->nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		pw->resync = true;
		if (log_limit_ok(&pw->log, LOG_LVL_ERROR, "podwatch_dump_failed"))
			log_error("event=podwatch_dump_failed step=send err=\"%s\"",
				  strerror(-err));
		return err;
	}
	pw->dumping = true;
	pw->dump_seq = pw->seq;
	pw->dump_deadline = timer_now() + PODWATCH_DUMP_MS * PODWATCH_NS_PER_MS;
	pw->dump_intr = false;
	pw->resync = false;
	for (unsigned int i = 0; i < PODWATCH_IFACES_MAX; i++)
		pw->ifaces[i].seen = false;
	return 0;
}

/* The dump ended (NLMSG_DONE). */
static void podwatch_dump_done(struct podwatch *pw)
{
	struct podwatch_iface *f;

	pw->dumping = false;
	if (pw->dump_intr) {
		/* Part of it may be missing: what it did not show may still
		 * be there.  Ask again rather than forget. */
		log_debug("event=podwatch_dump_again reason=interrupted");
		podwatch_dump(pw);
		return;
	}
	/* What a whole dump does not show is gone, and its RTM_DELLINK
	 * was among the events lost. */
	for (unsigned int i = 0; i < PODWATCH_IFACES_MAX; i++) {
		f = &pw->ifaces[i];
		if (f->state != PODWATCH_FREE && !f->seen)
			podwatch_forget(pw, f, true, "vanished");
	}
}

/* Events were lost (@err: ENOBUFS, the socket overflowed; ENOSPC, a
 * datagram was cut short): what is known may be stale. */
static void podwatch_lost(struct podwatch *pw, int err)
{
	pw->stats->pod_resyncs++;
	if (log_limit_ok(&pw->log, LOG_LVL_WARN, "podwatch_events_lost"))
		log_warn("event=podwatch_events_lost err=\"%s\" "
			 "effect=\"links dumped again\"", strerror(err));
	if (pw->dumping)
		pw->dump_intr = true;	/* again once this one ends */
	else
		podwatch_dump(pw);
}

/* ---- reading --------------------------------------------------------- */

/* The @len bytes of one datagram in pw->buf, message by message. */
static void podwatch_datagram(struct podwatch *pw, size_t len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)pw->buf;
	int left = (int)len;	/* at most PODWATCH_BUF */
	bool ours;
	int ret;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		ours = pw->dumping && nlh->nlmsg_seq == pw->dump_seq &&
		       nlh->nlmsg_pid == pw->portid;
		if (ours && (nlh->nlmsg_flags & NLM_F_DUMP_INTR)) {
			/* The links changed while the dump ran.  Each one
			 * it shows is as it was then, still worth taking;
			 * only the sweep at its end cannot trust it (and
			 * mnl_cb_run() would refuse the message). */
			pw->dump_intr = true;
			nlh->nlmsg_flags &= ~NLM_F_DUMP_INTR;
		}
		/* Events carry sequence 0 and the port of whoever made the
		 * change, if anyone: checked only for the dump's replies. */
		ret = mnl_cb_run(nlh, nlh->nlmsg_len, ours ? pw->dump_seq : 0,
				 ours ? pw->portid : 0, podwatch_msg, pw);
		if (!ours)
			continue;
		if (ret == MNL_CB_STOP) {
			podwatch_dump_done(pw);
		} else if (ret < 0) {
			pw->dumping = false;
			pw->resync = true;
			if (log_limit_ok(&pw->log, LOG_LVL_ERROR,
					 "podwatch_dump_failed"))
				log_error("event=podwatch_dump_failed step=reply "
					  "err=\"%s\"", strerror(errno));
		}
	}
}

/*
 * Reads what the socket holds, PODWATCH_BURST datagrams at most.
 * Returns 0 (drained, or the burst used), or -errno on a read error that
 * reading again at once would only repeat (logged).
 */
static int podwatch_drain(struct podwatch *pw)
{
	ssize_t n;
	int err;

	for (int i = 0; i < PODWATCH_BURST; i++) {
		n = mnl_socket_recvfrom(pw->nl, pw->buf, PODWATCH_BUF);
		if (n >= 0) {
			podwatch_datagram(pw, (size_t)n);
			continue;
		}
		err = errno;
		switch (err) {
		case EAGAIN:
			return 0;
		case EINTR:
			continue;
		case ENOBUFS:
		case ENOSPC:	/* MSG_TRUNC, as libmnl says it */
			podwatch_lost(pw, err);
			continue;
		default:
			if (log_limit_ok(&pw->log, LOG_LVL_ERROR,
					 "podwatch_read_failed"))
				log_error("event=podwatch_read_failed err=\"%s\"",
					  strerror(err));
			return -err;
		}
	}
	return 0;
}

/* ---- the loop -------------------------------------------------------- */

static void podwatch_arm(struct podwatch *pw)
{
	struct io_uring_sqe *sqe;

	if (pw->poll_armed || pw->stopping)
		return;
	sqe = loop_sqe(pw->loop, 1);
	io_uring_prep_poll_add(sqe, pw->fd, POLLIN);
	io_uring_sqe_set_data64(sqe, loop_ud(pw->op_poll, 0, 0, 0));
	pw->poll_armed = true;
}

static void podwatch_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	struct podwatch *pw = arg;

	pw->poll_armed = false;
	if (pw->stopping || cqe->res == -ECANCELED)
		return;
	if (cqe->res < 0) {
		if (log_limit_ok(&pw->log, LOG_LVL_ERROR, "podwatch_read_failed"))
			log_error("event=podwatch_read_failed step=poll err=\"%s\"",
				  strerror(-cqe->res));
		pw->poll_paused = true;
		return;
	}
	/* A socket that keeps failing would complete each poll at once:
	 * the tick polls it again, once a second. */
	if (podwatch_drain(pw) < 0) {
		pw->poll_paused = true;
		return;
	}
	podwatch_arm(pw);
}

/* Once a second: failed attaches due again, a dump that could not be
 * asked for, a poll that was paused. */
static void podwatch_tick(void *arg)
{
	struct podwatch *pw = arg;
	uint64_t now = timer_now();
	struct podwatch_iface *f;

	/* A dump whose end was lost (a datagram cut short) would hold
	 * every later one back. */
	if (pw->dumping && now >= pw->dump_deadline) {
		pw->dumping = false;
		pw->resync = true;
		if (log_limit_ok(&pw->log, LOG_LVL_ERROR, "podwatch_dump_failed"))
			log_error("event=podwatch_dump_failed step=reply "
				  "err=\"no end within %d ms\"", PODWATCH_DUMP_MS);
	}
	if (pw->resync && !pw->dumping)
		podwatch_dump(pw);
	for (unsigned int i = 0; i < PODWATCH_IFACES_MAX; i++) {
		f = &pw->ifaces[i];
		if (f->state == PODWATCH_FAILED && f->retry_at <= now)
			podwatch_attach(pw, f);
	}
	if (pw->poll_paused) {
		pw->poll_paused = false;
		podwatch_arm(pw);
	}
}

static void podwatch_abort_all(void *arg)
{
	struct podwatch *pw = arg;

	pw->stopping = true;
}

static bool podwatch_busy(void *arg)
{
	const struct podwatch *pw = arg;

	return pw->poll_armed;
}

static void podwatch_forget_poll(void *arg)
{
	struct podwatch *pw = arg;

	pw->poll_armed = false;
}

/* ---- start and end --------------------------------------------------- */

static int podwatch_open(struct podwatch *pw)
{
	int sz = PODWATCH_RCVBUF;
	int err;

	pw->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!pw->nl) {
		err = -errno;
		log_error("event=podwatch_failed step=socket err=\"%s\"",
			  strerror(-err));
		return err;
	}
	if (mnl_socket_bind(pw->nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR,
			    MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		log_error("event=podwatch_failed step=bind err=\"%s\"",
			  strerror(-err));
		return err;
	}
	pw->fd = mnl_socket_get_fd(pw->nl);
	pw->portid = mnl_socket_get_portid(pw->nl);
	/* Room for a burst of pods coming at once (each veth pair makes a
	 * few events): an overflow costs a dump.  FORCE passes rmem_max
	 * with CAP_NET_ADMIN, which the agent has. */
	if (setsockopt(pw->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0 &&
	    setsockopt(pw->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)) < 0)
		log_warn("event=podwatch_rcvbuf err=\"%s\"", strerror(errno));
	return 0;
}

/* The first dump, read here and now, bounded.  Returns 0 or -errno. */
static int podwatch_first_dump(struct podwatch *pw)
{
	uint64_t deadline = timer_now() + PODWATCH_START_MS * PODWATCH_NS_PER_MS;
	struct pollfd p = { .fd = pw->fd, .events = POLLIN };
	uint64_t now;
	int err, ms;

	err = podwatch_dump(pw);
	if (err)
		return err;
	while (pw->dumping) {
		now = timer_now();
		if (now >= deadline) {
			log_error("event=podwatch_failed step=dump "
				  "err=\"no answer within %d ms\"",
				  PODWATCH_START_MS);
			return -ETIMEDOUT;
		}
		ms = (int)((deadline - now + PODWATCH_NS_PER_MS - 1) /
			   PODWATCH_NS_PER_MS);
		if (poll(&p, 1, ms) < 0 && errno != EINTR) {
			err = -errno;
			log_error("event=podwatch_failed step=poll err=\"%s\"",
				  strerror(-err));
			return err;
		}
		err = podwatch_drain(pw);
		if (err)
			return err;
	}
	if (pw->resync)
		return -EIO;	/* logged: the dump failed */
	return 0;
}

int podwatch_init(struct podwatch *pw, struct loop *l, struct stats *st,
		  const struct podwatch_config *cfg)
{
	const struct loop_user u = {
		.arg = pw,
		.abort_all = podwatch_abort_all,
		.busy = podwatch_busy,
		.forget = podwatch_forget_poll,
		.tick = podwatch_tick,
	};
	int err, op;

	memset(pw, 0, sizeof(*pw));
	pw->fd = -1;
	pw->loop = l;
	pw->stats = st;
	pw->ops = cfg->ops;
	pw->log = (struct log_limit)LOG_LIMIT_INIT(PODWATCH_LOG_BURST);
	err = podwatch_config_copy(pw, cfg);
	if (err)
		goto fail;
	pw->ifaces = calloc(PODWATCH_IFACES_MAX, sizeof(*pw->ifaces));
	pw->buf = malloc(PODWATCH_BUF);
	if (!pw->ifaces || !pw->buf) {
		err = -ENOMEM;
		goto fail;
	}
	err = podwatch_open(pw);
	if (err)
		goto fail;
	pw->starting = true;
	err = podwatch_first_dump(pw);
	pw->starting = false;
	if (!err)
		err = pw->start_err;
	if (err)
		goto fail;
	for (unsigned int i = 0; i < pw->nnames; i++) {
		enum podwatch_state s = podwatch_state_of(pw, pw->names[i]);

		if (s == PODWATCH_FREE || s == PODWATCH_DOWN)
			log_info("event=pod_iface_waiting iface=%s reason=%s",
				 pw->names[i],
				 s == PODWATCH_FREE ? "absent" : "down");
	}
	op = loop_op_add(l, "podwatch_poll", podwatch_cqe, pw);
	if (op < 0) {
		err = op;
		goto fail;
	}
	pw->op_poll = (unsigned int)op;
	err = loop_user_add(l, &u);
	if (err)
		goto fail;
	podwatch_arm(pw);
	log_info("event=podwatch_started pattern=\"%s\" names=%u uplink=%s "
		 "attached=%u", pw->pattern, pw->nnames,
		 pw->uplink[0] ? pw->uplink : "-", pw->attached);
	return 0;

fail:
	podwatch_fini(pw);
	return err;
}

void podwatch_fini(struct podwatch *pw)
{
	if (pw->nl)
		mnl_socket_close(pw->nl);
	pw->nl = NULL;
	free(pw->buf);
	pw->buf = NULL;
	free(pw->ifaces);
	pw->ifaces = NULL;
	free(pw->names);
	pw->names = NULL;
	memset(pw, 0, sizeof(*pw));
	pw->fd = -1;
}
