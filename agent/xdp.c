// SPDX-License-Identifier: Apache-2.0
/*
 * The node firewall on the uplink (xdp.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "abi_names.h"
#include "log.h"
#include "mf_xdp.skel.h"
#include "xdp.h"

struct xdp {
	struct mf_xdp *skel;		/* owned */
	struct ring_buffer *events;	/* owned */
	int ifindex;
	char ifname[IF_NAMESIZE];
	/* XDP_FLAGS_DRV_MODE or _SKB_MODE: the mode of the last attach,
	 * 0 before the first. */
	uint32_t flags;
	uint32_t prog_id;
	bool attached;			/* on the uplink now */
	int attach_err;			/* the last attach's -errno, logged */
	uint64_t epoch;			/* of the lists, 0: never kept */
	bool resync;			/* keep them whatever the epoch */
	uint64_t nevents;
};

static int xdp_event(void *ctx, void *data, size_t len)
{
	const struct mf_xdp_event *e = data;
	struct xdp *x = ctx;

	if (len < sizeof(*e))
		return 0;
	x->nevents++;
	log_warn("event=xdp_drop iface=%s src=%u.%u.%u.%u reason=%s "
		 "dropped=%llu", x->ifname, e->src[0], e->src[1], e->src[2],
		 e->src[3], abi_name_or(&abi_stat, e->reason),
		 (unsigned long long)e->dropped);
	return 0;
}

int xdp_open(struct xdp **out, const char *pin_root, const char *ifname)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_root);
	struct bpf_prog_info info;
	__u32 info_len = sizeof(info);
	struct xdp *x;
	int err, fd;

	*out = NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	snprintf(x->ifname, sizeof(x->ifname), "%s", ifname);
	x->ifindex = (int)if_nametoindex(ifname);
	if (!x->ifindex) {
		err = -errno;
		log_error("event=xdp_failed iface=%s step=ifindex err=\"%s\"",
			  ifname, strerror(-err));
		goto fail;
	}
	x->skel = mf_xdp__open_opts(&oopts);
	if (!x->skel) {
		err = -errno;
		log_error("event=xdp_failed step=open err=\"%s\"",
			  strerror(-err));
		goto fail;
	}
	err = mf_xdp__load(x->skel);
	if (err) {
		log_error("event=xdp_failed step=load err=\"%s\"",
			  strerror(-err));
		goto fail;
	}
	fd = bpf_program__fd(x->skel->progs.mf_xdp);
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		x->prog_id = info.id;
	x->events = ring_buffer__new(
		bpf_map__fd(x->skel->maps.mf_xdp_events), xdp_event, x, NULL);
	if (!x->events) {
		err = -errno;
		log_error("event=xdp_failed step=ring_buffer err=\"%s\"",
			  strerror(-err));
		goto fail;
	}
	/* Attached by xdp_tick() once the policy sets a firewall. */
	log_info("event=xdp_loaded iface=%s ifindex=%d prog_id=%u", ifname,
		 x->ifindex, x->prog_id);
	*out = x;
	return 0;
fail:
	xdp_close(x);
	return err;
}

/*
 * Attaches the program to the uplink: natively where the driver has it,
 * before an skb exists, else generic, which works on any device after the
 * skb is made; the mode found first is kept.  Returns 0 or -errno, logged
 * when it differs from the last attempt's (the next tick tries again: the
 * agent serves on without the firewall meanwhile, and says so).
 */
static int xdp_attach(struct xdp *x)
{
	int fd = bpf_program__fd(x->skel->progs.mf_xdp), err;

	if (x->flags) {
		err = bpf_xdp_attach(x->ifindex, fd, x->flags, NULL);
	} else {
		x->flags = XDP_FLAGS_DRV_MODE;
		err = bpf_xdp_attach(x->ifindex, fd, x->flags, NULL);
		if (err) {
			log_info("event=xdp_native_unavailable iface=%s "
				 "err=\"%s\"", x->ifname, strerror(-err));
			x->flags = XDP_FLAGS_SKB_MODE;
			err = bpf_xdp_attach(x->ifindex, fd, x->flags, NULL);
		}
	}
	if (err) {
		if (err != x->attach_err)
			log_error("event=xdp_failed iface=%s step=attach "
				  "err=\"%s\"", x->ifname, strerror(-err));
		x->attach_err = err;
		return err;
	}
	x->attach_err = 0;
	x->attached = true;
	log_info("event=xdp_attached iface=%s ifindex=%d mode=%s prog_id=%u",
		 x->ifname, x->ifindex, xdp_mode(x), x->prog_id);
	return 0;
}

/* Takes the program off the uplink, when it is still ours there: a newer
 * agent may have attached its own. */
static void xdp_detach(struct xdp *x)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	__u32 id = 0;

	if (!x->attached)
		return;
	x->attached = false;
	if (bpf_xdp_query_id(x->ifindex, (int)x->flags, &id) ||
	    id != x->prog_id)
		return;
	opts.old_prog_fd = bpf_program__fd(x->skel->progs.mf_xdp);
	bpf_xdp_detach(x->ifindex, (int)x->flags, &opts);
	log_info("event=xdp_detached iface=%s", x->ifname);
}

int xdp_reopen(struct xdp *x, const char *pin_root)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_root);
	LIBBPF_OPTS(bpf_xdp_attach_opts, aopts);
	struct bpf_prog_info info;
	__u32 info_len = sizeof(info);
	struct ring_buffer *events;
	struct mf_xdp *skel;
	int err, fd;

	skel = mf_xdp__open_opts(&oopts);
	if (!skel)
		return -errno;
	err = mf_xdp__load(skel);
	if (err)
		goto fail;
	events = ring_buffer__new(bpf_map__fd(skel->maps.mf_xdp_events),
				  xdp_event, x, NULL);
	if (!events) {
		err = -errno;
		goto fail;
	}
	fd = bpf_program__fd(skel->progs.mf_xdp);
	/* In place of ours only, when it is attached: the uplink is never
	 * without the firewall the policy sets. */
	aopts.old_prog_fd = bpf_program__fd(x->skel->progs.mf_xdp);
	err = x->attached ? bpf_xdp_attach(x->ifindex, fd,
					   x->flags | XDP_FLAGS_REPLACE,
					   &aopts) : 0;
	if (err) {
		ring_buffer__free(events);
		goto fail;
	}
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		x->prog_id = info.id;
	ring_buffer__free(x->events);
	x->events = events;
	mf_xdp__destroy(x->skel);
	x->skel = skel;
	/* Its lists are new and empty. */
	x->resync = true;
	log_info("event=xdp_reopen iface=%s prog_id=%u", x->ifname,
		 x->prog_id);
	return 0;
fail:
	log_error("event=xdp_reopen_failed iface=%s err=\"%s\"", x->ifname,
		  strerror(-err));
	mf_xdp__destroy(skel);
	return err;
}

/* Whether key @k (@ksize bytes) is one of the @n at @keys. */
static bool xdp_list_has(const void *keys, size_t n, size_t ksize,
			 const void *k)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp((const uint8_t *)keys + i * ksize, k, ksize))
			return true;
	return false;
}

/* Makes the keys of map @fd (@ksize bytes each) the @n at @keys: the new
 * ones first, then the stale ones go, so no packet meets a list with
 * less of the new one in it. */
static void xdp_list_set(int fd, size_t ksize, const void *keys, size_t n)
{
	uint8_t cur[16], next[16];
	const uint8_t one = 1;
	bool more;

	if (ksize > sizeof(cur))
		return;
	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, (const uint8_t *)keys + i * ksize,
					&one, BPF_ANY))
			log_warn("event=xdp_list_failed err=\"%s\"",
				 strerror(errno));
	more = bpf_map_get_next_key(fd, NULL, cur) == 0;
	while (more) {
		more = bpf_map_get_next_key(fd, cur, next) == 0;
		if (!xdp_list_has(keys, n, ksize, cur))
			bpf_map_delete_elem(fd, cur);
		if (more)
			memcpy(cur, next, ksize);
	}
}

/* The nodes' addresses of the half in force of mf_nodes. */
static void xdp_nodes_set(struct xdp *x, const struct pmap *pm,
			  uint32_t active)
{
	struct mf_node_key k, next;
	struct mf_node v;
	uint32_t *addrs = calloc(MF_MAX_NODES, sizeof(*addrs));
	size_t n = 0;
	bool more;

	if (!addrs)
		return;
	more = bpf_map_get_next_key(pm->fds[PMAP_NODES], NULL, &k) == 0;
	while (more && n < MF_MAX_NODES) {
		if (k.half == active &&
		    !bpf_map_lookup_elem(pm->fds[PMAP_NODES], &k, &v))
			memcpy(&addrs[n++], v.ip, 4);
		more = bpf_map_get_next_key(pm->fds[PMAP_NODES], &k,
					    &next) == 0;
		k = next;
	}
	xdp_list_set(bpf_map__fd(x->skel->maps.mf_xdp_nodes), sizeof(*addrs),
		     addrs, n);
	free(addrs);
}

void xdp_tick(struct xdp *x, const struct pmap *pm)
{
	struct mf_xdp_deny_key deny[MF_FW_DENY_MAX];
	struct mf_config cfg;

	ring_buffer__consume(x->events);
	if (pmap_config_read(pm, &cfg) || (cfg.epoch == x->epoch && !x->resync))
		return;
	for (unsigned i = 0; i < cfg.fw_ndeny && i < MF_FW_DENY_MAX; i++) {
		deny[i].prefixlen = cfg.fw_deny[i].prefix;
		memcpy(deny[i].addr, cfg.fw_deny[i].addr, 4);
	}
	xdp_list_set(bpf_map__fd(x->skel->maps.mf_xdp_deny), sizeof(deny[0]),
		     deny, cfg.fw_ndeny < MF_FW_DENY_MAX ? cfg.fw_ndeny :
							    MF_FW_DENY_MAX);
	xdp_nodes_set(x, pm, cfg.active);
	x->epoch = cfg.epoch;
	x->resync = false;
	log_info("event=xdp_policy epoch=%llu deny=%u packet_rate=%u/%ums "
		 "syn_rate=%u/%ums", (unsigned long long)cfg.epoch,
		 cfg.fw_ndeny, cfg.fw_pkt_num, cfg.fw_pkt_interval_ms,
		 cfg.fw_syn_num, cfg.fw_syn_interval_ms);
	/* On the uplink only while the policy sets a firewall, its lists
	 * kept before the first packet meets it.  An idle program is not
	 * free where XDP changes how the device receives: a veth copies
	 * every received frame into a page of its own for it (bulk through
	 * the testbed's wire: half its throughput), and many NICs turn off
	 * their receive offloads under it. */
	if (cfg.fw_ndeny || cfg.fw_pkt_num || cfg.fw_syn_num) {
		if (!x->attached && xdp_attach(x))
			x->resync = true;	/* again at the next tick */
	} else {
		xdp_detach(x);
	}
}

void xdp_forget_epoch(struct xdp *x)
{
	if (x)
		x->resync = true;
}

const char *xdp_mode(const struct xdp *x)
{
	if (!x->flags)
		return "none";
	return x->flags == XDP_FLAGS_DRV_MODE ? "native" : "generic";
}

bool xdp_attached(const struct xdp *x)
{
	return x->attached;
}

const char *xdp_iface(const struct xdp *x)
{
	return x->ifname;
}

uint64_t xdp_events(const struct xdp *x)
{
	return x->nevents;
}

void xdp_close(struct xdp *x)
{
	if (!x)
		return;
	xdp_detach(x);
	ring_buffer__free(x->events);
	mf_xdp__destroy(x->skel);
	free(x);
}
