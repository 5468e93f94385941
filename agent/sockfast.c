// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kstate.h"
#include "kreq.h"
#include "log.h"
#include "meshforge/abi.h"
#include "meshforge/abi_sock.h"
#include "mf_fast.skel.h"
#include "sockfast.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE	71
#endif

/* Where a host without a cgroup2 /sys/fs/cgroup has one (DESIGN: the
 * runtime state directory). */
#define SOCKFAST_CG_OWN	MF_RUN_DIR_DEFAULT "/cgroup"

enum sockfast_selftest_result {
	SOCKFAST_ST_NOT_RUN = 0,
	SOCKFAST_ST_PASS,
	SOCKFAST_ST_FAIL,
};

struct sockfast {
	struct mf_fast *skel;		/* owned */
	struct bpf_link *ops_link;	/* owned: sockops on the cgroup */
	bool msg_attached;		/* sk_msg on the SOCKHASH */
	enum sockfast_selftest_result selftest;
};

static const char *const sockfast_stat_names[MF_FAST_STAT_MAX] = {
	[MF_FAST_STAT_INSERTED] = "inserted",
	[MF_FAST_STAT_FULL] = "not_inserted",
	[MF_FAST_STAT_ALLOW_MSGS] = "allow_msgs",
	[MF_FAST_STAT_ALLOW_BYTES] = "allow_bytes",
	[MF_FAST_STAT_DENY_MSGS] = "deny_msgs",
	[MF_FAST_STAT_DENY_BYTES] = "deny_bytes",
	[MF_FAST_STAT_UNKNOWN_MSGS] = "unknown_msgs",
	[MF_FAST_STAT_UNKNOWN_BYTES] = "unknown_bytes",
	[MF_FAST_STAT_AGENT_MSGS] = "agent_msgs",
	[MF_FAST_STAT_AGENT_BYTES] = "agent_bytes",
	[MF_FAST_STAT_UPSTREAM_MSGS] = "upstream_msgs",
	[MF_FAST_STAT_UPSTREAM_BYTES] = "upstream_bytes",
};

int sockfast_mode_parse(const char *s, enum sockfast_mode *m)
{
	if (!strcmp(s, "on"))
		*m = SOCKFAST_ON;
	else if (!strcmp(s, "off"))
		*m = SOCKFAST_OFF;
	else if (!strcmp(s, "auto"))
		*m = SOCKFAST_AUTO;
	else
		return -EINVAL;
	return 0;
}

const char *sockfast_mode_str(enum sockfast_mode m)
{
	switch (m) {
	case SOCKFAST_ON:
		return "on";
	case SOCKFAST_AUTO:
		return "auto";
	case SOCKFAST_OFF:
		break;
	}
	return "off";
}

const char *sockfast_stat_name(int stat)
{
	return stat >= 0 && stat < MF_FAST_STAT_MAX ?
	       sockfast_stat_names[stat] : "unknown";
}

const char *sockfast_selftest_str(const struct sockfast *sf)
{
	if (!sf || sf->selftest == SOCKFAST_ST_NOT_RUN)
		return "not_run";
	return sf->selftest == SOCKFAST_ST_PASS ? "pass" : "fail";
}

/* Whether @path is on a cgroup2 mount. */
static bool sockfast_is_cgroup2(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* The cgroup the programs go on: @want, else the cgroup2 root there is.
 * NULL when there is none. */
static const char *sockfast_cgroup(const char *want)
{
	if (want)
		return want;
	if (sockfast_is_cgroup2("/sys/fs/cgroup"))
		return "/sys/fs/cgroup";
	if (sockfast_is_cgroup2(SOCKFAST_CG_OWN))
		return SOCKFAST_CG_OWN;
	return NULL;
}

/* Our network namespace's cookie, which the kernel program compares its
 * sockets' with; 0 when it cannot be read. */
static uint64_t sockfast_netns_cookie(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
		cookie = 0;
	close(fd);
	return cookie;
}

int sockfast_open(struct sockfast **out, const struct sockfast_config *cfg)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = cfg->pin_root);
	const char *cg = sockfast_cgroup(cfg->cgroup);
	struct sockfast *sf;
	int err, cgfd = -1;

	*out = NULL;
	if (!cg) {
		log_error("event=sockmap_failed step=cgroup err=\"no cgroup v2 "
			  "hierarchy (mount -t cgroup2 none " SOCKFAST_CG_OWN ")\"");
		return -ENOENT;
	}
	err = kreq_fast_path();
	if (err <= 0) {
		log_error("event=sockmap_failed step=kernel err=\"%s\"",
			  err ? strerror(-err) : "kernel lacks the hooks");
		return err ? err : -ENOTSUP;
	}
	sf = calloc(1, sizeof(*sf));
	if (!sf)
		return -ENOMEM;
	sf->skel = mf_fast__open_opts(&oopts);
	if (!sf->skel) {
		err = -errno;
		log_error("event=sockmap_failed step=open err=\"%s\"",
			  strerror(-err));
		goto fail;
	}
	sf->skel->rodata->mf_node_ip = cfg->node_ip;
	if (!cfg->any_netns) {
		sf->skel->rodata->mf_netns_cookie = sockfast_netns_cookie();
		if (!sf->skel->rodata->mf_netns_cookie) {
			err = -ENOTSUP;
			log_error("event=sockmap_failed step=netns_cookie");
			goto fail;
		}
	}
	if (cfg->max_sockets)
		bpf_map__set_max_entries(sf->skel->maps.mf_fast_sockets,
					 cfg->max_sockets);
	if (cfg->front_orig_fd > 0) {
		err = bpf_map__reuse_fd(sf->skel->maps.mf_orig_dst,
					cfg->front_orig_fd);
		if (err) {
			log_error("event=sockmap_failed step=front_door "
				  "err=\"%s\"", strerror(-err));
			goto fail;
		}
		sf->skel->rodata->mf_front_port = cfg->front_port;
	}
	err = mf_fast__load(sf->skel);
	if (err) {
		log_error("event=sockmap_failed step=load err=\"%s\"",
			  strerror(-err));
		goto fail;
	}
	err = bpf_prog_attach(bpf_program__fd(sf->skel->progs.mf_fast_msg),
			      bpf_map__fd(sf->skel->maps.mf_fast_sockets),
			      BPF_SK_MSG_VERDICT, 0);
	if (err) {
		err = -errno;
		log_error("event=sockmap_failed step=attach_msg err=\"%s\"",
			  strerror(-err));
		goto fail;
	}
	sf->msg_attached = true;
	cgfd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0 || !sockfast_is_cgroup2(cg)) {
		err = cgfd < 0 ? -errno : -ENOTDIR;
		log_error("event=sockmap_failed step=cgroup cgroup=%s err=\"%s\"",
			  cg, err == -ENOTDIR ? "not a cgroup v2 directory" :
			  strerror(-err));
		goto fail;
	}
	sf->ops_link = bpf_program__attach_cgroup(sf->skel->progs.mf_fast_ops,
						  cgfd);
	if (!sf->ops_link) {
		err = -errno;
		log_error("event=sockmap_failed step=attach_ops cgroup=%s err=\"%s\"",
			  cg, strerror(-err));
		goto fail;
	}
	close(cgfd);
	log_info("event=sockmap_attached cgroup=%s max_sockets=%u",
		 cg, bpf_map__max_entries(sf->skel->maps.mf_fast_sockets));
	*out = sf;
	return 0;
fail:
	if (cgfd >= 0)
		close(cgfd);
	sockfast_close(sf);
	return err;
}

int sockfast_verdict(struct sockfast *sf, uint32_t service_id,
		     uint32_t src_identity_id, uint8_t action, uint64_t epoch)
{
	struct mf_fast_vkey k = { .service_id = service_id,
				  .src = src_identity_id };
	struct mf_fast_verdict v = { .epoch = epoch, .action = action };
	int err;

	if (!sf)
		return 0;
	err = bpf_map__update_elem(sf->skel->maps.mf_fast_verdicts, &k,
				   sizeof(k), &v, sizeof(v), BPF_ANY);
	return err;
}

int sockfast_stats(const struct sockfast *sf, uint64_t *out)
{
	if (!sf) {
		memset(out, 0, MF_FAST_STAT_MAX * sizeof(*out));
		return 0;
	}
	return kstate_percpu_sums(bpf_map__fd(sf->skel->maps.mf_fast_stats), MF_FAST_STAT_MAX, out);
}

long sockfast_sockets(const struct sockfast *sf)
{
	struct mf_sock_tuple k, next;
	int fd = bpf_map__fd(sf->skel->maps.mf_fast_sockets);
	long n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/* ---- self-test ------------------------------------------------------- */

/* The byte at offset @i of the self-test's stream. */
static uint8_t sockfast_pattern(size_t i)
{
	return (uint8_t)(i * 131u + (i >> 12));
}

/* Sends @bytes from @cli while @srv reads them, both non-blocking and
 * polled (2 s without progress ends it).  Returns 0 when all arrived
 * as sent, -EPROTO when they differ, -errno otherwise. */
static int sockfast_pump(int cli, int srv, size_t bytes)
{
	uint8_t out[16384], in[16384];
	size_t sent = 0, got = 0;
	ssize_t n;

	while (got < bytes) {
		struct pollfd p[2] = {
			{ .fd = cli, .events = sent < bytes ? POLLOUT : 0 },
			{ .fd = srv, .events = POLLIN },
		};

		if (poll(p, 2, 2000) <= 0)
			return -ETIMEDOUT;
		if (sent < bytes && (p[0].revents & POLLOUT)) {
			size_t len = bytes - sent < sizeof(out) ?
				     bytes - sent : sizeof(out);

			for (size_t i = 0; i < len; i++)
				out[i] = sockfast_pattern(sent + i);
			n = send(cli, out, len, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN)
				return -errno;
			if (n > 0)
				sent += (size_t)n;
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(srv, in, sizeof(in), MSG_DONTWAIT);
			if (n == 0)
				return -ECONNRESET;
			if (n < 0 && errno != EAGAIN)
				return -errno;
			for (ssize_t i = 0; i < n; i++)
				if (in[i] != sockfast_pattern(got + (size_t)i))
					return -EPROTO;
			if (n > 0)
				got += (size_t)n;
		}
	}
	return 0;
}

int sockfast_selftest(struct sockfast *sf, size_t bytes)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct mf_fast_vkey vk = { .service_id = 0, .src = MF_FAST_SRC_PROBE };
	uint64_t before[MF_FAST_STAT_MAX], after[MF_FAST_STAT_MAX];
	int lfd = -1, cli = -1, srv = -1, probe_fd, err;
	socklen_t len = sizeof(a);
	uint32_t zero = 0, port;

	probe_fd = bpf_map__fd(sf->skel->maps.mf_fast_probe);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)&a, &len)) {
		err = -errno;
		goto out;
	}
	port = ntohs(a.sin_port);
	err = sockfast_verdict(sf, vk.service_id, vk.src, MF_AUTHZ_ALLOW, 0);
	if (!err)
		err = bpf_map_update_elem(probe_fd, &zero, &port, BPF_ANY);
	if (!err)
		err = sockfast_stats(sf, before);
	if (err)
		goto out;
	cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cli < 0 || connect(cli, (struct sockaddr *)&a, sizeof(a))) {
		err = -errno;
		goto out;
	}
	srv = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (srv < 0) {
		err = -errno;
		goto out;
	}
	err = sockfast_pump(cli, srv, bytes);
	if (!err)
		err = sockfast_stats(sf, after);
	/* Arrived intact, but not through us: the fast path does nothing
	 * for this process (not in the cgroup). */
	if (!err && after[MF_FAST_STAT_ALLOW_BYTES] -
		    before[MF_FAST_STAT_ALLOW_BYTES] < bytes)
		err = -EPROTO;
out:
	if (srv >= 0)
		close(srv);
	if (cli >= 0)
		close(cli);
	if (lfd >= 0)
		close(lfd);
	port = 0;
	bpf_map_update_elem(probe_fd, &zero, &port, BPF_ANY);
	bpf_map__delete_elem(sf->skel->maps.mf_fast_verdicts, &vk, sizeof(vk),
			     0);
	sf->selftest = err ? SOCKFAST_ST_FAIL : SOCKFAST_ST_PASS;
	if (err)
		log_warn("event=sockmap_selftest result=fail bytes=%zu err=\"%s\"",
			 bytes, err == -EPROTO ? "bytes took the TCP path" :
			 strerror(-err));
	else
		log_info("event=sockmap_selftest result=pass bytes=%zu", bytes);
	return err;
}

void sockfast_close(struct sockfast *sf)
{
	if (!sf)
		return;
	bpf_link__destroy(sf->ops_link);
	sf->ops_link = NULL;
	if (sf->msg_attached)
		bpf_prog_detach2(bpf_program__fd(sf->skel->progs.mf_fast_msg),
				 bpf_map__fd(sf->skel->maps.mf_fast_sockets),
				 BPF_SK_MSG_VERDICT);
	mf_fast__destroy(sf->skel);
	sf->skel = NULL;
	free(sf);
}
