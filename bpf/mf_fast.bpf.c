// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The same-node fast path: sockops and sk_msg.
 *
 * mf_fast_ops (sockops, on a cgroup v2 that holds the pods and the agent)
 * sees TCP connections established, and puts the two local ends of a
 * mesh path into mf_fast_sockets, a SOCKHASH keyed by each socket's own
 * 4-tuple (local first):
 *  - a pod's socket connected to a service VIP:port (the TC program
 *    steered it to the agent), the pod being one of this node's;
 *  - the agent's socket that accepted it, in the agent's own network
 *    namespace, whose local address is that VIP:port;
 *  - the agent's own connection to a pod of this node (a same-node call's
 *    second hop, a health probe): its socket, in the agent's namespace and
 *    carrying the agent's mark (MF_SKB_MARK_AGENT), and the pod's that
 *    accepted it from the node's address;
 *  - a front door connection (mf_sock.bpf.c): a workload process's socket
 *    whose connect() to a service VIP was sent to the agent's loopback
 *    listener, with the record of what it asked for in mf_orig_dst (the
 *    front door's own map, shared by the loader), and the agent's socket
 *    that accepted it;
 *  - the connections of the agent's self-test, on 127.0.0.1 to the port
 *    in mf_fast_probe.
 * Each gets a socket storage (mf_fast_socks) naming the pair its bytes
 * are judged by: (destination service, source pod's identity, or
 * MF_FAST_SRC_FRONT(its workload) through the front door), or
 * MF_FAST_SRC_UPSTREAM for the agent's connection to a pod.
 *
 * mf_fast_msg (sk_msg, on the SOCKHASH) runs on each send of those
 * sockets.  The first send decides the connection, for good:
 *  - the verdict the agent cached for the pair (mf_fast_verdicts, made
 *    by its authorization under the policy epoch in force) is Allow,
 *    and the peer socket is in the map: the payload is moved into the
 *    peer's receive queue (BPF_F_INGRESS), and every later send too;
 *  - else every send takes the TCP path, counted under its verdict:
 *    denied traffic never takes the fast path, and the agent refuses it
 *    as it always does.
 * A pod's end of the agent's connection to it needs no verdict: its
 * sends are answers on a connection the agent authorized before it made
 * it.  They move when the peer is in the map, which only the agent's
 * marked socket can be: a pod's answers to anyone else take TCP.
 * Deciding once keeps the byte order: a receiver reads what was moved
 * before what TCP brought, so one connection never mixes the two.
 * A receiver slower than its sender: bytes moved into a socket are
 * queued there outside TCP's flow control, so before each move the
 * peer's unread moved bytes (its psock's msg_tot_len) are compared with
 * its receive buffer; once they would pass it, the connection takes the
 * TCP path for good, whose window then holds the sender back.  The
 * receiver reads the moved bytes first, then TCP's: the order holds.
 * A kernel whose psock does not say how much it holds never moves.
 * Sends of the agent's own ends always take the TCP path: the fast path
 * never moves bytes into an application's socket, whose blocking recv()
 * this kernel may wake with a spurious EAGAIN.
 *
 * A socket leaves the SOCKHASH when it closes (the kernel removes it);
 * its storage goes with the socket.  Nothing here drops: a full map, a
 * socket it cannot insert, a missing verdict all mean the TCP path.
 */
#include "lib/maps.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "meshforge/abi_sock.h"
#include "lib/front.h"

/* Set by the loader before load: the agent's network namespace (0: any;
 * tests) and its node's address (network order; 0: any). */
const volatile __u64 mf_netns_cookie = 0;
const volatile __u32 mf_node_ip = 0;
/* The port the front door's connections reach the agent on (host order;
 * 0: no front door). */
const volatile __u16 mf_front_port = 0;

#define FAST_LOOPBACK	0x7f000001	/* 127.0.0.1, host order */
#define FAST_OK		1		/* sockops: return value ignored */

/* The mesh-path sockets, by their own 4-tuple. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, MF_FAST_MAX_SOCKETS);
	__type(key, struct mf_sock_tuple);
	__type(value, __u64);
} mf_fast_sockets SEC(".maps");

/* Each one's kernel address, by its 4-tuple, from its establishment to
 * its close: sk_msg cannot look a socket up in a SOCKHASH (it could not
 * release the reference), and reads what it needs of the receiver
 * through this, read-only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MF_FAST_MAX_SOCKETS);
	__type(key, struct mf_sock_tuple);
	__type(value, __u64);
} mf_fast_addrs SEC(".maps");

/* Each one's pair and decision. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mf_fast_sock);
} mf_fast_socks SEC(".maps");

/* The agent's verdicts by (service, source).  Not policy: a cache of
 * decisions the agent made from it, each valid for one epoch; a missing
 * entry means the TCP path. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MF_FAST_MAX_VERDICTS);
	__type(key, struct mf_fast_vkey);
	__type(value, struct mf_fast_verdict);
} mf_fast_verdicts SEC(".maps");

/* The self-test's port (host order; 0: none). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} mf_fast_probe SEC(".maps");

/* Counters, enum mf_fast_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MF_FAST_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} mf_fast_stats SEC(".maps");

static __always_inline void fast_count(enum mf_fast_stat stat, __u64 n)
{
	__u32 key = stat;
	__u64 *val = bpf_map_lookup_elem(&mf_fast_stats, &key);

	if (val)
		*val += n;
}

/* The service at @ip (network order) : @port (host order) in the policy
 * in force; NULL when none. */
static __always_inline const struct mf_service *
fast_service(const struct mf_config *cfg, __u32 ip, __u16 port)
{
	struct mf_service_key key = {};

	key.half = cfg->active;
	__builtin_memcpy(key.vip, &ip, sizeof(key.vip));
	key.port = port;
	key.proto = MF_PROTO_TCP;
	return bpf_map_lookup_elem(&mf_services, &key);
}

/* The workload at @ip (network order) when it is a pod of this node;
 * NULL when not. */
static __always_inline const struct mf_endpoint *
fast_local_pod(const struct mf_config *cfg, __u32 ip)
{
	struct mf_endpoint_key key = {};
	const struct mf_endpoint *ep;
	__u32 node;

	key.half = cfg->active;
	__builtin_memcpy(key.ip, &ip, sizeof(key.ip));
	ep = bpf_map_lookup_elem(&mf_endpoints, &key);
	if (!ep)
		return NULL;
	__builtin_memcpy(&node, ep->node_ip, sizeof(node));
	if (mf_node_ip && node != mf_node_ip)
		return NULL;
	return ep;
}

/* Whether @skops's socket carries the agent's mark. */
static __always_inline bool fast_agent_marked(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;

	return sk && sk->mark == MF_SKB_MARK_AGENT;
}

/*
 * Whether the connection of @skops is a mesh path, and which end: fills
 * @fs (pair, agent) and returns true when it is.
 */
static __always_inline bool fast_classify(struct bpf_sock_ops *skops,
					  const struct mf_sock_tuple *t,
					  struct mf_fast_sock *fs)
{
	const struct mf_endpoint *ep;
	const struct mf_service *svc;
	const struct mf_config *cfg;
	__u32 zero = 0, *probe, lip, rip;
	bool mine;

	__builtin_memcpy(&lip, t->local_ip, sizeof(lip));
	__builtin_memcpy(&rip, t->remote_ip, sizeof(rip));
	mine = !mf_netns_cookie ||
	       bpf_get_netns_cookie(skops) == mf_netns_cookie;

	probe = bpf_map_lookup_elem(&mf_fast_probe, &zero);
	if (probe && *probe && mine &&
	    lip == bpf_htonl(FAST_LOOPBACK) && rip == bpf_htonl(FAST_LOOPBACK) &&
	    (t->local_port == *probe || t->remote_port == *probe)) {
		fs->pair.service_id = 0;
		fs->pair.src = MF_FAST_SRC_PROBE;
		fs->agent = t->local_port == *probe;
		return true;
	}

	cfg = bpf_map_lookup_elem(&mf_config, &zero);
	if (!cfg)
		return false;
	if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB) {
		/* A workload's connect() the front door sent to the agent:
		 * the service it asked for, from its record. */
		if (mf_front_port && rip == bpf_htonl(FAST_LOOPBACK) &&
		    t->remote_port == mf_front_port) {
			const struct mf_sock_orig *o =
				bpf_map_lookup_elem(&mf_orig_dst, (void *)t);
			__u32 vip;

			if (!o || o->workload >= MF_SOCK_MAX_WORKLOADS)
				return false;
			__builtin_memcpy(&vip, o->ip, sizeof(vip));
			svc = fast_service(cfg, vip, o->port);
			if (!svc)
				return false;
			fs->agent = 0;
			fs->pair.service_id = svc->id;
			fs->pair.src = MF_FAST_SRC_FRONT(o->workload);
			return true;
		}
		/* A pod of this node connected to a service. */
		svc = fast_service(cfg, rip, t->remote_port);
		if (svc) {
			ep = fast_local_pod(cfg, lip);
			if (!ep)
				return false;
			fs->agent = 0;
			goto pair;
		}
		/* The agent connected to a pod of this node. */
		if (!mine || !fast_agent_marked(skops) ||
		    !fast_local_pod(cfg, rip))
			return false;
		fs->agent = 1;
		goto upstream;
	}
	/* The agent accepted a front door connection. */
	if (mine && mf_front_port && lip == bpf_htonl(FAST_LOOPBACK) &&
	    t->local_port == mf_front_port) {
		fs->agent = 1;
		fs->pair.service_id = 0;
		fs->pair.src = 0;
		return true;
	}
	/* The agent accepted it: the VIP is its local address. */
	svc = mine ? fast_service(cfg, lip, t->local_port) : NULL;
	if (svc) {
		ep = fast_local_pod(cfg, rip);
		if (!ep)
			return false;
		fs->agent = 1;
		goto pair;
	}
	/* A pod of this node accepted a connection from the node's address:
	 * the agent's, if its end is in the map. */
	if ((mf_node_ip && rip != mf_node_ip) || !fast_local_pod(cfg, lip))
		return false;
	fs->agent = 0;
upstream:
	fs->pair.service_id = 0;
	fs->pair.src = MF_FAST_SRC_UPSTREAM;
	return true;
pair:
	fs->pair.service_id = svc->id;
	fs->pair.src = ep->identity_id;
	return true;
}

/* The 4-tuple of @skops's socket, its own view. */
static __always_inline void fast_tuple(struct bpf_sock_ops *skops,
				       struct mf_sock_tuple *t)
{
	__u32 ip;

	ip = skops->local_ip4;
	__builtin_memcpy(t->local_ip, &ip, sizeof(t->local_ip));
	ip = skops->remote_ip4;
	__builtin_memcpy(t->remote_ip, &ip, sizeof(t->remote_ip));
	t->local_port = (__u16)skops->local_port;
	t->remote_port = (__u16)bpf_ntohl(skops->remote_port);
}

static __always_inline void fast_established(struct bpf_sock_ops *skops)
{
	struct mf_sock_tuple t = {};
	struct mf_fast_sock fs = {};
	struct mf_fast_sock *st;
	struct bpf_sock *sk;
	__u64 addr;

	if (skops->family != 2 /* AF_INET */)
		return;
	fast_tuple(skops, &t);
	if (!fast_classify(skops, &t, &fs))
		return;
	sk = skops->sk;
	if (!sk)
		return;
	st = bpf_sk_storage_get(&mf_fast_socks, sk, NULL,
				BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		fast_count(MF_FAST_STAT_FULL, 1);
		return;
	}
	*st = fs;
	/* Full, or a socket the kernel will not take: it stays on the
	 * TCP path, and its peer finds no socket to move bytes to. */
	if (bpf_sock_hash_update(skops, &mf_fast_sockets, &t, BPF_NOEXIST)) {
		st->state = MF_FAST_TCP;
		fast_count(MF_FAST_STAT_FULL, 1);
		return;
	}
	fast_count(MF_FAST_STAT_INSERTED, 1);
	/* Its address for its peer's sends, until it closes (the state
	 * callback below).  Without it the peer never moves bytes to it. */
	addr = (__u64)(unsigned long)sk;
	if (bpf_map_update_elem(&mf_fast_addrs, &t, &addr, BPF_ANY) == 0)
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
}

/* A socket of ours closes: its address goes (the SOCKHASH entry goes by
 * itself, with the socket). */
static __always_inline void fast_state(struct bpf_sock_ops *skops)
{
	struct mf_sock_tuple t = {};

	if (skops->args[1] != BPF_TCP_CLOSE || skops->family != 2)
		return;
	fast_tuple(skops, &t);
	bpf_map_delete_elem(&mf_fast_addrs, &t);
}

SEC("sockops")
int mf_fast_ops(struct bpf_sock_ops *skops)
{
	if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB ||
	    skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		fast_established(skops);
	else if (skops->op == BPF_SOCK_OPS_STATE_CB)
		fast_state(skops);
	return FAST_OK;
}

/* Whether the peer socket @peer can take @size more moved bytes: what
 * it holds unread stays within its receive buffer.  False when it cannot
 * be told (no such socket, a kernel that does not count them). */
static __always_inline bool fast_peer_room(const struct mf_sock_tuple *peer,
					   __u32 size)
{
	struct sk_psock *psock = NULL;
	struct sock *sk;
	__u32 unread = 0;
	int rcvbuf = 0;
	void *ud = NULL;
	__u64 *addr;

	if (!bpf_core_field_exists(psock->msg_tot_len))
		return false;
	addr = bpf_map_lookup_elem(&mf_fast_addrs, (void *)peer);
	if (!addr)
		return false;
	/* Reads that may fault return an error rather than oops: a
	 * socket closing meanwhile gives a wrong answer to this one
	 * decision, nothing worse. */
	sk = (struct sock *)(unsigned long)*addr;
	if (BPF_CORE_READ_INTO(&ud, sk, sk_user_data) ||
	    BPF_CORE_READ_INTO(&rcvbuf, sk, sk_rcvbuf))
		return false;
	/* The low three bits of sk_user_data are flags (NOCOPY, BPF,
	 * PSOCK). */
	psock = (struct sk_psock *)((unsigned long)ud & ~7UL);
	if (!psock || BPF_CORE_READ_INTO(&unread, psock, msg_tot_len))
		return false;
	return rcvbuf > 0 && (__u64)unread + size <= (__u64)rcvbuf;
}

/* The first send of a connection: redirect for good, or TCP for good.
 * Returns the state decided. */
static __always_inline __u8 fast_decide(struct sk_msg_md *msg,
					struct mf_fast_sock *st,
					const struct mf_sock_tuple *peer)
{
	const struct mf_fast_verdict *v;
	const struct mf_config *cfg;
	__u32 zero = 0;

	if (st->agent)
		return MF_FAST_TCP;
	if (st->pair.src == MF_FAST_SRC_UPSTREAM)
		goto move;
	v = bpf_map_lookup_elem(&mf_fast_verdicts, &st->pair);
	if (!v || v->action != MF_AUTHZ_ALLOW)
		return MF_FAST_TCP;
	/* A verdict of another epoch is no verdict: the policy changed. */
	if (st->pair.src != MF_FAST_SRC_PROBE) {
		cfg = bpf_map_lookup_elem(&mf_config, &zero);
		if (!cfg || cfg->epoch != v->epoch)
			return MF_FAST_TCP;
	}
move:
	if (!fast_peer_room(peer, msg->size))
		return MF_FAST_TCP;
	/* The helper says SK_PASS only when it found the peer socket. */
	if (bpf_msg_redirect_hash(msg, &mf_fast_sockets, (void *)peer,
				  BPF_F_INGRESS) != SK_PASS)
		return MF_FAST_TCP;
	return MF_FAST_REDIRECT;
}

/* Counts a send of @size bytes that took the TCP path, by why. */
static __always_inline void fast_count_tcp(const struct mf_fast_sock *st,
					   __u32 size)
{
	const struct mf_fast_verdict *v;

	if (st->agent) {
		fast_count(MF_FAST_STAT_AGENT_MSGS, 1);
		fast_count(MF_FAST_STAT_AGENT_BYTES, size);
		return;
	}
	v = bpf_map_lookup_elem(&mf_fast_verdicts, &st->pair);
	if (v && v->action == MF_AUTHZ_DENY) {
		fast_count(MF_FAST_STAT_DENY_MSGS, 1);
		fast_count(MF_FAST_STAT_DENY_BYTES, size);
	} else {
		fast_count(MF_FAST_STAT_UNKNOWN_MSGS, 1);
		fast_count(MF_FAST_STAT_UNKNOWN_BYTES, size);
	}
}

SEC("sk_msg")
int mf_fast_msg(struct sk_msg_md *msg)
{
	struct mf_sock_tuple peer = {};
	struct mf_fast_sock *st;
	struct bpf_sock *sk = msg->sk;
	__u32 ip;

	if (!sk)
		return SK_PASS;
	st = bpf_sk_storage_get(&mf_fast_socks, sk, NULL, 0);
	if (!st)
		return SK_PASS;
	/* The peer's own tuple is ours reversed. */
	ip = msg->remote_ip4;
	__builtin_memcpy(peer.local_ip, &ip, sizeof(peer.local_ip));
	ip = msg->local_ip4;
	__builtin_memcpy(peer.remote_ip, &ip, sizeof(peer.remote_ip));
	peer.local_port = (__u16)bpf_ntohl(msg->remote_port);
	peer.remote_port = (__u16)msg->local_port;

	if (st->state == MF_FAST_UNDECIDED)
		st->state = fast_decide(msg, st, &peer);
	else if (st->state == MF_FAST_REDIRECT &&
		 (!fast_peer_room(&peer, msg->size) ||
		  bpf_msg_redirect_hash(msg, &mf_fast_sockets, &peer,
					BPF_F_INGRESS) != SK_PASS))
		/* The receiver lags by a buffer's worth: TCP's window
		 * takes over.  Or it has closed and left the map: its end
		 * is gone, and TCP tells the sender so. */
		st->state = MF_FAST_TCP;

	if (st->state == MF_FAST_REDIRECT &&
	    st->pair.src == MF_FAST_SRC_UPSTREAM) {
		fast_count(MF_FAST_STAT_UPSTREAM_MSGS, 1);
		fast_count(MF_FAST_STAT_UPSTREAM_BYTES, msg->size);
	} else if (st->state == MF_FAST_REDIRECT) {
		fast_count(MF_FAST_STAT_ALLOW_MSGS, 1);
		fast_count(MF_FAST_STAT_ALLOW_BYTES, msg->size);
	} else {
		fast_count_tcp(st, msg->size);
	}
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
