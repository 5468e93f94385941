// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The socket-level programs: the bare-metal front door.
 *
 * A process in a workload cgroup (meshforge-agent --workload-cgroup) that
 * connects a TCP socket to a registered service VIP:port reaches the agent
 * instead: mf_sock_connect4 (and mf_sock_connect6 for an IPv4-mapped
 * address on a dual-stack socket) rewrites the destination to the agent's
 * outbound listener on 127.0.0.1 and records what was asked, with the
 * workload the caller belongs to, by the socket's cookie.  The agent sees
 * only the 4-tuple of what it accepts, so mf_sock_ops moves the record to
 * that 4-tuple once the connection is established on the client's side:
 * the agent's accept comes later, after the client's final ACK, which the
 * client sends only after this callback ran.  The agent takes the record
 * on accept (agent/frontdoor.h).
 *
 * Nothing here drops: a connection this cannot record is left as the
 * application made it, and counted.
 */
#include "lib/maps.h"
#include <bpf/bpf_endian.h>
#include "meshforge/abi_sock.h"
#include "lib/front.h"

/* The agent's outbound listener port, set by the loader before load. */
const volatile __u16 mf_outbound_port = MF_PORT_OUTBOUND;

#define SOCK_LOOPBACK	0x7f000001	/* 127.0.0.1, host order */
#define SOCK_ALLOW	1		/* cgroup hooks: let the call go on */

/* The workload cgroups: cgroup id -> index of --workload-cgroup. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MF_SOCK_MAX_WORKLOADS);
	__type(key, __u64);
	__type(value, __u32);
} mf_sock_workloads SEC(".maps");

/* A rewritten connect()'s original destination, by socket cookie, until
 * the connection is established. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MF_SOCK_MAX_PENDING);
	__type(key, __u64);
	__type(value, struct mf_sock_orig);
} mf_sock_cookies SEC(".maps");

/* The same by the client's 4-tuple, until the agent accepts it:
 * mf_orig_dst (lib/front.h). */

/* Counters, enum mf_sock_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MF_SOCK_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} mf_sock_stats SEC(".maps");

static __always_inline void sock_stat(enum mf_sock_stat stat)
{
	__u32 key = stat;
	__u64 *val = bpf_map_lookup_elem(&mf_sock_stats, &key);

	if (val)
		*val += 1;
}

/*
 * The workload the calling task belongs to: its own cgroup or the
 * deepest ancestor that is a workload cgroup (a systemd unit's processes
 * may sit in sub-cgroups of the slice it was given as).  Returns a
 * pointer into mf_sock_workloads, or NULL.
 */
static __always_inline __u32 *sock_workload(void)
{
	__u32 *found = NULL, *wl;
	__u64 id;

	for (int level = 0; level < MF_SOCK_CG_LEVELS; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			break;	/* deeper than the caller's own cgroup */
		wl = bpf_map_lookup_elem(&mf_sock_workloads, &id);
		if (wl)
			found = wl;
	}
	return found;
}

/*
 * Sends a workload's TCP connect to @vip (network order) : @port (host
 * order) to the agent when it is a service of the policy in force.
 * Returns true when the caller must rewrite the address.
 */
static __always_inline bool sock_front(struct bpf_sock_addr *ctx, __u32 vip,
				       __u16 port)
{
	struct mf_service_key key = {};
	struct mf_sock_orig orig = {};
	const struct mf_config *cfg;
	__u32 zero = 0, *wl;
	__u64 cookie;

	if (ctx->type != SOCK_STREAM)
		return false;
	wl = sock_workload();
	if (!wl)
		return false;
	cfg = bpf_map_lookup_elem(&mf_config, &zero);
	if (!cfg)
		return false;
	/* The half in force (abi.h, "Two halves"). */
	key.half = cfg->active;
	__builtin_memcpy(key.vip, &vip, sizeof(key.vip));
	key.port = port;
	key.proto = MF_PROTO_TCP;
	if (!bpf_map_lookup_elem(&mf_services, &key)) {
		sock_stat(MF_SOCK_STAT_NOT_SERVICE);
		return false;
	}
	__builtin_memcpy(orig.ip, &vip, sizeof(orig.ip));
	orig.port = port;
	orig.workload = *wl;
	orig.cgroup_id = bpf_get_current_cgroup_id();
	cookie = bpf_get_socket_cookie(ctx);
	/* Without the record the agent could not tell where the connection
	 * was going: leave it alone rather than send it there blind. */
	if (bpf_map_update_elem(&mf_sock_cookies, &cookie, &orig, BPF_ANY)) {
		sock_stat(MF_SOCK_STAT_COOKIE_FULL);
		return false;
	}
	sock_stat(MF_SOCK_STAT_REWRITTEN);
	return true;
}

SEC("cgroup/connect4")
int mf_sock_connect4(struct bpf_sock_addr *ctx)
{
	if (sock_front(ctx, ctx->user_ip4, bpf_ntohs(ctx->user_port))) {
		ctx->user_ip4 = bpf_htonl(SOCK_LOOPBACK);
		ctx->user_port = bpf_htons(mf_outbound_port);
	}
	return SOCK_ALLOW;
}

/* An IPv6 socket reaches an IPv4 service through its mapped address
 * (::ffff:a.b.c.d); services have no IPv6 VIPs. */
SEC("cgroup/connect6")
int mf_sock_connect6(struct bpf_sock_addr *ctx)
{
	if (ctx->user_ip6[0] != 0 || ctx->user_ip6[1] != 0 ||
	    ctx->user_ip6[2] != bpf_htonl(0x0000ffff))
		return SOCK_ALLOW;
	if (sock_front(ctx, ctx->user_ip6[3], bpf_ntohs(ctx->user_port))) {
		ctx->user_ip6[3] = bpf_htonl(SOCK_LOOPBACK);
		ctx->user_port = bpf_htons(mf_outbound_port);
	}
	return SOCK_ALLOW;
}

/* A connection a workload's connect() sent to the agent is established:
 * its record moves from the cookie to the 4-tuple the agent will see. */
static __always_inline void sock_established(struct bpf_sock_ops *skops)
{
	struct mf_sock_tuple t = {};
	struct mf_sock_orig *orig;
	__u64 cookie;
	__u32 ip;

	cookie = bpf_get_socket_cookie(skops);
	orig = bpf_map_lookup_elem(&mf_sock_cookies, &cookie);
	if (!orig)
		return;
	/* An IPv4-mapped IPv6 socket carries its IPv4 addresses here too. */
	ip = skops->local_ip4;
	__builtin_memcpy(t.local_ip, &ip, sizeof(t.local_ip));
	ip = skops->remote_ip4;
	__builtin_memcpy(t.remote_ip, &ip, sizeof(t.remote_ip));
	t.local_port = (__u16)skops->local_port;	/* host order */
	/* Network order, in the upper half of the word on this ABI. */
	t.remote_port = (__u16)bpf_ntohl(skops->remote_port);
	if (bpf_map_update_elem(&mf_orig_dst, &t, orig, BPF_ANY))
		sock_stat(MF_SOCK_STAT_TUPLE_FULL);
	else
		sock_stat(MF_SOCK_STAT_TUPLE_MOVED);
	bpf_map_delete_elem(&mf_sock_cookies, &cookie);
}

SEC("sockops")
int mf_sock_ops(struct bpf_sock_ops *skops)
{
	if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		sock_established(skops);
	return SOCK_ALLOW;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
