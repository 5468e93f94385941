// SPDX-License-Identifier: Apache-2.0
/*
 * mf_pod (bpf/mf_pod.bpf.c): BPF_PROG_TEST_RUN on crafted Ethernet/IPv4/TCP
 * packets, then the real thing on TC ingress of lo through agent/kern.c.
 * Towards the pod (mf_pod_egress): every verdict of the mTLS modes on
 * crafted packets, the agent's mark set in the test-run context.  The
 * uplink's firewall (mf_xdp, loaded on the same pins): every verdict and
 * drop reason, its rates, and its ring buffer's reports.
 *
 * The process runs in a network namespace of its own (unshare) with a pin
 * root of its own, /sys/fs/bpf/mf-test-pod-<pid>, removed at exit.
 *
 * What BPF_PROG_TEST_RUN can and cannot show, on the kernels tried (6.18,
 * and Debian 12's 6.1 under `make kernel-matrix`, docs/kernels.md):
 * bpf_sk_assign() returns -EOPNOTSUPP under test-run, because the test-run
 * skb is not marked as being at TC ingress (skb_at_tc_ingress() is false),
 * and bpf_prog_test_run_skb() gives no way to set it.  So under test-run a
 * segment for a service with a listener takes the whole steering path (map
 * hit, established lookup, listener lookup, state LISTEN) and then ends in
 * MF_STAT_DROP_ASSIGN, never in MF_STAT_DROP_NO_LISTENER: that is what the
 * test-run cases assert (should a kernel accept the assignment under
 * test-run, they require MF_STAT_POD_STEERED instead).  The assignment
 * itself, and the established-socket path, are asserted by
 * test_lo_intercepts_connect on a real TC ingress hook: a connect() to
 * VIP:80 is accepted by the listener on the outbound port and getsockname()
 * on the accepted socket returns VIP:80.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness/bpffs_harness.h"
#include "harness/test.h"
#include "meshforge/abi.h"
#include "../agent/kern.h"
#include "mf_pod.skel.h"
#include "mf_xdp.skel.h"

/* Not MF_PORT_OUTBOUND: proves the loader's rodata port is what counts. */
#define TEST_PORT	15101
#define TEST_VIP	"10.96.0.10"	/* registered, port 80 */
#define TEST_VIP_NOLS	"10.96.0.12"	/* registered, port 80; only used
					   when no listener is open */
#define TEST_VIP_OTHER	"10.96.0.11"	/* not registered */
#define TEST_VIP_HALF1	"10.96.0.13"	/* registered in half 1 only */
#define TEST_POD	"10.78.1.11"
#define TEST_VIP_NET	"10.96.0.0"
#define TEST_VIP_PLEN	16
#define TEST_TIMEOUT_MS	2000

#define TEST_IP_DF	0x4000	/* iphdr.frag_off flags, host order */
#define TEST_IP_MF	0x2000

static char pin_root[64];
static const char *setup_skip;	/* why every case skips, or NULL */
static struct mf_pod *skel;	/* loaded once, shared by the cases */
static struct mf_xdp *xskel;	/* the same, on the same pins */
static int ncpus;

/* ---- environment ------------------------------------------------------- */

static void pin_root_remove(void)
{
	bh_pin_root_remove(pin_root);
}

static void cleanup_atexit(void)
{
	/* The skeleton holds map references, not pins; destroying it first
	 * frees the maps as soon as the pins go. */
	mf_xdp__destroy(xskel);
	xskel = NULL;
	mf_pod__destroy(skel);
	skel = NULL;
	pin_root_remove();
}

/* Crashes and signals still remove the pin root, then die as they would. */
static void cleanup_signal(int sig)
{
	pin_root_remove();
	raise(sig);
}

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* `ip route add local TEST_VIP_NET/TEST_VIP_PLEN dev lo` over rtnetlink, in
 * the test's namespace.  Returns 0 or -errno. */
static int route_add_local_vips(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct in_addr dst;
	unsigned int seq = (unsigned int)time(NULL), portid;
	int err = 0, n;

	inet_pton(AF_INET, TEST_VIP_NET, &dst);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL |
			   NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = TEST_VIP_PLEN;
	rtm->rtm_table = RT_TABLE_LOCAL;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_HOST;
	rtm->rtm_type = RTN_LOCAL;
	mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	mnl_attr_put_u32(nlh, RTA_OIF, if_nametoindex("lo"));

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0) {
		err = -errno;
		goto out;
	}
	/* The ACK is an NLMSG_ERROR with error 0; mnl_cb_run turns a
	 * non-zero one into -1/errno. */
	if (mnl_cb_run(buf, n, seq, portid, NULL, NULL) < 0)
		err = -errno;
out:
	mnl_socket_close(nl);
	return err;
}

/* A TCP listener on 0.0.0.0:@port.  Returns the fd or -errno. */
static int listener_open(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 16) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* A TCP listener on [::]:@port, IPv6 only (as the agent's "outbound6").
 * Returns the fd or -errno. */
static int listener6_open(uint16_t port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons(port) };
	int fd, one = 1;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 16) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* ---- maps -------------------------------------------------------------- */

/* A service at @vip:@port in half @half of mf_services. */
static int service_add(const char *vip, uint16_t port, __u32 half)
{
	struct mf_service_key k = { .half = half, .port = port,
				    .proto = MF_PROTO_TCP };
	struct mf_service v = { .id = port, .name = "test" };

	inet_pton(AF_INET, vip, k.vip);
	return bpf_map_update_elem(bpf_map__fd(skel->maps.mf_services), &k,
				   &v, BPF_ANY);
}

/* Sets mf_config[0].active, the half in force.  True when done (an
 * assertion). */
static bool config_set_active(__u32 active)
{
	int fd = bpf_map__fd(skel->maps.mf_config);
	struct mf_config cfg;
	__u32 zero = 0;

	if (!ASSERT_EQ(bpf_map_lookup_elem(fd, &zero, &cfg), 0))
		return false;
	cfg.active = active;
	return ASSERT_EQ(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
}

struct stats {
	__u64 v[MF_STAT_MAX];
};

static bool stats_read(struct stats *s)
{
	__u64 percpu[ncpus];
	__u32 i;
	int c;

	for (i = 0; i < MF_STAT_MAX; i++) {
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.mf_stats), &i,
					percpu))
			return false;
		s->v[i] = 0;
		for (c = 0; c < ncpus; c++)
			s->v[i] += percpu[c];
	}
	return true;
}

/* Into @d, what each counter gained since @before was read (an
 * assertion). */
static bool stats_since(const struct stats *before, struct stats *d)
{
	struct stats now;
	int i;

	if (!ASSERT_TRUE(stats_read(&now)))
		return false;
	for (i = 0; i < MF_STAT_MAX; i++)
		d->v[i] = now.v[i] - before->v[i];
	return true;
}

/* ---- packets ----------------------------------------------------------- */

/* The frame starts 2 bytes into an aligned struct, as the kernel puts
 * it (NET_IP_ALIGN), so the IP header behind the 14-byte Ethernet
 * header is 4-byte aligned for the struct iphdr accesses below. */
struct pkt {
	size_t len;
	unsigned char pad[2];
	unsigned char b[256];
};

/*
 * A test-run frame: Ethernet + IPv4 + an L4 header from TEST_POD:40000.  A
 * field left zero takes the default in its comment, so { } is a SYN to
 * TEST_VIP:80.  The fields below l4_len, where non-zero, overwrite the built
 * frame after its checksum, to make it malformed or other than IPv4.
 */
struct frame {
	int proto;		/* IPPROTO_TCP */
	const char *saddr;	/* TEST_POD */
	const char *daddr;	/* TEST_VIP */
	uint16_t sport;		/* 40000 */
	uint16_t dport;		/* 80 */
	bool ack;		/* TCP: SYN and ACK (an answer), not SYN */
	uint8_t icmp_type;	/* ICMP: the type (0: echo reply) */
	int opt_words;		/* 32-bit words of NOP options: none */
	size_t l4_len;		/* sizeof(struct tcphdr) */

	uint16_t h_proto;	/* ethertype */
	uint8_t version;	/* the IP version nibble */
	uint8_t ihl;
	uint16_t frag_off;	/* flags and offset, host order */
	uint8_t doff;		/* TCP data offset */
	size_t len;		/* of the frame: cuts it short */
};

static __u16 ip_csum(const void *p, size_t n)
{
	const unsigned char *b = p;
	__u32 sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

/*
 * @f into @p, for TCP or UDP.  A TCP header says 20 bytes of header and has
 * SYN set; a UDP one covers @f->l4_len.  Everything else is zero.
 */
static void pkt_build(struct pkt *p, const struct frame *f)
{
	struct ethhdr *eth = (struct ethhdr *)p->b;
	struct iphdr *iph = (struct iphdr *)(eth + 1);
	size_t ihl = 5 + f->opt_words;
	unsigned char *l4 = (unsigned char *)iph + ihl * 4;
	struct tcphdr *th = (struct tcphdr *)l4;
	int proto = f->proto ?: IPPROTO_TCP;
	size_t l4_len = f->l4_len ?: sizeof(*th);

	memset(p, 0, sizeof(*p));
	memcpy(eth->h_dest, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	iph->version = 4;
	iph->ihl = ihl;
	iph->ttl = 64;
	iph->protocol = proto;
	iph->tot_len = htons(ihl * 4 + l4_len);
	iph->frag_off = htons(TEST_IP_DF);
	inet_pton(AF_INET, f->saddr ?: TEST_POD, &iph->saddr);
	inet_pton(AF_INET, f->daddr ?: TEST_VIP, &iph->daddr);
	memset(iph + 1, IPOPT_NOP, f->opt_words * 4);
	iph->check = ip_csum(iph, ihl * 4);

	/* TCP and UDP headers both start with the two ports. */
	th->source = htons(f->sport ?: 40000);
	th->dest = htons(f->dport ?: 80);
	if (proto == IPPROTO_TCP) {
		th->seq = htonl(1);
		th->doff = 5;
		th->syn = 1;
		th->ack = f->ack;
		th->window = htons(65535);
	} else if (proto == IPPROTO_ICMP) {
		memset(l4, 0, l4_len);
		l4[0] = f->icmp_type;
	} else {
		((struct udphdr *)l4)->len = htons(l4_len);
		/* Make the bytes also look like a valid TCP header (data
		 * offset 5 at byte 12), so only the protocol check keeps
		 * this datagram from being steered. */
		l4[12] = 0x50;
	}
	p->len = f->len ?: sizeof(*eth) + ihl * 4 + l4_len;

	if (f->h_proto)
		eth->h_proto = htons(f->h_proto);
	if (f->version)
		iph->version = f->version;
	if (f->ihl)
		iph->ihl = f->ihl;
	if (f->frag_off)
		iph->frag_off = htons(f->frag_off);
	if (f->doff)
		th->doff = f->doff;
}

/* What one run of the program did. */
struct run {
	int retval;
	unsigned char out[sizeof(((struct pkt *)0)->b)];
	__u32 out_len;
	__u32 mark;	/* the skb's mark after it (frame_run()) */
	struct stats d;	/* counter deltas over the run */
};

/* The run counted its one packet in @a and @b, and in no other counter. */
static bool assert_counted(const struct run *r, int a, int b)
{
	int i;

	for (i = 0; i < MF_STAT_MAX; i++) {
		if (!ASSERT_EQ(r->d.v[i], i == a || i == b)) {
			fprintf(stderr, "  (counter %d)\n", i);
			return false;
		}
	}
	return true;
}

/* A segment that went down the steering path to a listener (see the file
 * comment for why test-run ends it in DROP_ASSIGN). */
static bool assert_steered(const struct run *r)
{
	if (!ASSERT_EQ(r->d.v[MF_STAT_POD_PACKETS], 1) ||
	    !ASSERT_EQ(r->d.v[MF_STAT_POD_PASSED], 0) ||
	    !ASSERT_EQ(r->d.v[MF_STAT_DROP_NO_LISTENER], 0) ||
	    !ASSERT_EQ(r->d.v[MF_STAT_POD_ESTABLISHED], 0))
		return false;
	if (r->retval == TC_ACT_OK)	/* assignment worked under test-run */
		return ASSERT_EQ(r->d.v[MF_STAT_POD_STEERED], 1) &&
		       ASSERT_EQ(r->d.v[MF_STAT_DROP_ASSIGN], 0);
	return ASSERT_EQ(r->retval, TC_ACT_SHOT) &&
	       ASSERT_EQ(r->d.v[MF_STAT_DROP_ASSIGN], 1) &&
	       ASSERT_EQ(r->d.v[MF_STAT_POD_STEERED], 0);
}

/* What the program must do with a frame. */
enum expect {
	/* TC_ACT_UNSPEC (on to later filters), bytes unchanged, counted
	 * PACKETS and PASSED only. */
	EXPECT_PASSED,
	/* To a listener: assert_steered. */
	EXPECT_STEERED,
	/* TC_ACT_SHOT, counted PACKETS and DROP_NO_LISTENER only. */
	EXPECT_NO_LISTENER,
};

/* Builds @f, runs the program on it once and asserts @want. */
static bool frame_expect(const struct frame *f, enum expect want)
{
	struct pkt p;
	struct run r = {};
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = p.b,
		    .data_out = r.out, .data_size_out = sizeof(r.out),
		    .repeat = 1);
	struct stats before;

	pkt_build(&p, f);
	topts.data_size_in = p.len;
	if (!ASSERT_TRUE(stats_read(&before)) ||
	    !ASSERT_EQ(bpf_prog_test_run_opts(
			       bpf_program__fd(skel->progs.mf_pod_ingress),
			       &topts), 0) ||
	    !stats_since(&before, &r.d))
		return false;
	r.retval = (int)topts.retval;
	r.out_len = topts.data_size_out;

	switch (want) {
	case EXPECT_PASSED:
		return ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
		       ASSERT_EQ(r.out_len, p.len) &&
		       ASSERT_MEMEQ(r.out, p.b, p.len) &&
		       assert_counted(&r, MF_STAT_POD_PACKETS,
				      MF_STAT_POD_PASSED);
	case EXPECT_STEERED:
		return assert_steered(&r);
	case EXPECT_NO_LISTENER:
		return ASSERT_EQ(r.retval, TC_ACT_SHOT) &&
		       assert_counted(&r, MF_STAT_POD_PACKETS,
				      MF_STAT_DROP_NO_LISTENER);
	}
	return false;
}

/* ---- test-run cases ---------------------------------------------------- */

#define CASE_PROLOGUE()                                                       \
	do {                                                                  \
		if (setup_skip)                                               \
			TEST_SKIP(setup_skip);                                \
		if (!ASSERT_TRUE(skel != NULL))                               \
			return false;                                         \
	} while (0)

/* frame_expect() of @want on each of the @n frames @f, while a listener on
 * @port is open (none when @port is 0). */
static bool frames_expect(uint16_t port, enum expect want,
			  const struct frame *f, size_t n)
{
	bool ok = true;
	int lfd = -1;
	size_t i;

	CASE_PROLOGUE();
	if (port) {
		lfd = listener_open(port);
		if (!ASSERT_GE(lfd, 0))
			return false;
	}
	for (i = 0; ok && i < n; i++) {
		ok = frame_expect(&f[i], want);
		if (!ok)
			fprintf(stderr, "  (frame %zu)\n", i);
	}
	if (lfd >= 0)
		close(lfd);
	return ok;
}

/*
 * Defines the case @name: frames_expect(@port, @want) on the frames that
 * follow, a table of struct frame.
 */
#define FRAME_CASE(name, port, want, ...)                                     \
	static bool name(void)                                                \
	{                                                                     \
		static const struct frame f[] = { __VA_ARGS__ };              \
									      \
		return frames_expect(port, want, f,                           \
				     sizeof(f) / sizeof(f[0]));               \
	}

FRAME_CASE(test_syn_to_service_is_steered, TEST_PORT, EXPECT_STEERED, {})

/* IPv4 options move the TCP header: a parser that ignored IHL would read
 * the ports from the options and pass the packet. */
FRAME_CASE(test_ip_options_steered, TEST_PORT, EXPECT_STEERED,
	   { .opt_words = 3 })

/* The listener is looked up on the loader's port, not on the default. */
FRAME_CASE(test_listener_on_default_port_not_used, MF_PORT_OUTBOUND,
	   EXPECT_NO_LISTENER, { .daddr = TEST_VIP_NOLS })

/* A listener is open, so only the service lookup can decide. */
FRAME_CASE(test_unregistered_dst_passes, TEST_PORT, EXPECT_PASSED,
	   { .daddr = TEST_VIP_OTHER })

FRAME_CASE(test_same_vip_other_port_passes, TEST_PORT, EXPECT_PASSED,
	   { .dport = 443 })

FRAME_CASE(test_udp_passes, TEST_PORT, EXPECT_PASSED,
	   { .proto = IPPROTO_UDP, .l4_len = 32 })

FRAME_CASE(test_non_ipv4_passes, TEST_PORT, EXPECT_PASSED,
	   /* An IPv6 ethertype in front of what would be a steered SYN. */
	   { .h_proto = ETH_P_IPV6 },
	   /* ARP. */
	   { .h_proto = ETH_P_ARP },
	   /* IPv4 ethertype, but the version nibble says 6. */
	   { .version = 6 })

/* (A frame cut inside its 20-byte IPv4 header cannot be tried: test-run
 * refuses an IPv4 skb shorter than that with -EINVAL.) */
FRAME_CASE(test_truncated_passes, TEST_PORT, EXPECT_PASSED,
	   /* Cut inside the TCP header, after the ports. */
	   { .len = ETH_HLEN + sizeof(struct iphdr) + 10 },
	   /* IHL claims 60 bytes the packet does not have. */
	   { .ihl = 15 },
	   /* IHL below the minimum. */
	   { .ihl = 4 },
	   /* TCP data offset claims 60 bytes of header, 20 are there. */
	   { .doff = 15 })

/* First fragment (more fragments set, offset 0) of a datagram the node
 * forwards: the stack gets it. */
FRAME_CASE(test_fragment_passes, TEST_PORT, EXPECT_PASSED,
	   { .frag_off = TEST_IP_MF, .daddr = "10.78.2.99" },
	   { .frag_off = 100, .daddr = "10.78.2.99" })

/* No listener on TEST_PORT exists outside the cases that open one and close
 * it before returning. */
FRAME_CASE(test_no_listener_dropped, 0, EXPECT_NO_LISTENER,
	   { .daddr = TEST_VIP_NOLS })

/*
 * The program looks services up in the half mf_config.active names: a
 * service only in half 1 is passed while half 0 is in force and steered
 * once half 1 is, and then a service only in half 0 is passed.
 */
static bool test_active_half_honored(void)
{
	const struct frame half1 = { .daddr = TEST_VIP_HALF1 }, half0 = {};
	bool ok;
	int lfd;

	CASE_PROLOGUE();
	lfd = listener_open(TEST_PORT);
	if (!ASSERT_GE(lfd, 0))
		return false;
	ok = ASSERT_EQ(service_add(TEST_VIP_HALF1, 80, 1), 0) &&
	     config_set_active(0) &&
	     frame_expect(&half1, EXPECT_PASSED) &&
	     config_set_active(1) &&
	     frame_expect(&half1, EXPECT_STEERED) &&
	     frame_expect(&half0, EXPECT_PASSED);
	/* The other cases run with half 0 in force. */
	if (!config_set_active(0))
		ok = false;
	close(lfd);
	return ok;
}

/* ---- what a pod may send ------------------------------------------------ */

/* The pod veth stand-in of setup(): mfv0's ifindex, 0 when none. */
static int pod_veth_ifindex(void)
{
	return (int)if_nametoindex("mfv0");
}

/* mf_pod_ingress on @f arriving by @ifindex: returns @retval, counted in
 * POD_PACKETS and @stat only. */
static bool from_pod_expect(const struct frame *f, int ifindex, int retval,
			    int stat)
{
	struct pkt p;
	struct run r = {};
	struct __sk_buff ctx = { .ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_out = r.out,
		    .data_size_out = sizeof(r.out), .repeat = 1,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
	struct stats before;

	pkt_build(&p, f);
	topts.data_in = p.b;
	topts.data_size_in = p.len;
	if (!ASSERT_TRUE(stats_read(&before)) ||
	    !ASSERT_EQ(bpf_prog_test_run_opts(
			       bpf_program__fd(skel->progs.mf_pod_ingress),
			       &topts), 0) ||
	    !stats_since(&before, &r.d))
		return false;
	return ASSERT_EQ((int)topts.retval, retval) &&
	       assert_counted(&r, MF_STAT_POD_PACKETS, stat);
}

/* The pod's own address passes (to a non-service destination); another
 * one, the node's own, or the pod's arriving by another veth is a spoof. */
static bool test_spoofed_source_dropped(void)
{
	const struct frame own = { .daddr = "10.78.2.99" };
	const struct frame other = { .saddr = "10.78.1.12",
				     .daddr = "10.78.2.99" };
	const struct frame local = { .saddr = "127.0.0.1",
				     .daddr = "10.78.2.99" };
	int veth;

	CASE_PROLOGUE();
	veth = pod_veth_ifindex();
	if (!ASSERT_TRUE(veth > 0))
		return false;
	return from_pod_expect(&own, veth, TC_ACT_UNSPEC, MF_STAT_POD_PASSED) &&
	       /* Again, from the cache. */
	       from_pod_expect(&own, veth, TC_ACT_UNSPEC, MF_STAT_POD_PASSED) &&
	       from_pod_expect(&other, veth, TC_ACT_SHOT,
			       MF_STAT_DROP_SPOOFED) &&
	       from_pod_expect(&local, veth, TC_ACT_SHOT,
			       MF_STAT_DROP_SPOOFED) &&
	       from_pod_expect(&own, (int)if_nametoindex("mfv1"), TC_ACT_SHOT,
			       MF_STAT_DROP_SPOOFED) &&
	       /* The cache holds the veth's address, not any address. */
	       from_pod_expect(&own, veth, TC_ACT_UNSPEC, MF_STAT_POD_PASSED);
}

/* A TCP fragment for a VIP (routed local): the first one, with ports, and
 * a later one, without. */
static bool test_fragment_for_node_dropped(void)
{
	const struct frame first = { .frag_off = TEST_IP_MF };
	const struct frame later = { .frag_off = 100 };
	int veth;

	CASE_PROLOGUE();
	veth = pod_veth_ifindex();
	if (!ASSERT_TRUE(veth > 0))
		return false;
	return from_pod_expect(&first, veth, TC_ACT_SHOT,
			       MF_STAT_DROP_FRAGMENT) &&
	       from_pod_expect(&later, veth, TC_ACT_SHOT,
			       MF_STAT_DROP_FRAGMENT);
}

/* ---- towards the pod: the mTLS mode ------------------------------------ */

#define TEST_PEER	"10.78.2.99"	/* a pod elsewhere, dialling TEST_POD */

/* Sets the mode and exempt networks in mf_config[0] (an assertion). */
static bool config_set_mode(__u8 mode, const char *exempt)
{
	int fd = bpf_map__fd(skel->maps.mf_config);
	struct mf_config cfg;
	__u32 zero = 0;

	if (!ASSERT_EQ(bpf_map_lookup_elem(fd, &zero, &cfg), 0))
		return false;
	cfg.mtls_mode = mode;
	cfg.nexempt = 0;
	if (exempt) {
		cfg.nexempt = 1;
		inet_pton(AF_INET, exempt, cfg.exempt[0].addr);
		cfg.exempt[0].prefix = 24;
	}
	return ASSERT_EQ(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
}

/* Runs program @prog once on @f with skb mark @mark into @r. */
/* One run of @prog on packet @p (frame_run(), frame6_run()), arriving
 * by device @ifindex (0: the test-run's default, lo). */
static bool pkt_run(int prog, const struct pkt *p, __u32 mark, int ifindex,
		    struct run *r)
{
	struct __sk_buff ctx = { .mark = mark, .ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .repeat = 1,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .ctx_out = &ctx, .ctx_size_out = sizeof(ctx));
	struct stats before;

	topts.data_in = p->b;
	topts.data_size_in = p->len;
	memset(r, 0, sizeof(*r));
	if (!ASSERT_TRUE(stats_read(&before)) ||
	    !ASSERT_EQ(bpf_prog_test_run_opts(prog, &topts), 0) ||
	    !stats_since(&before, &r->d))
		return false;
	r->retval = (int)topts.retval;
	r->out_len = topts.data_size_out;
	r->mark = ctx.mark;
	return true;
}

static bool frame_run(int prog, const struct frame *f, __u32 mark,
		      struct run *r)
{
	struct pkt p;

	pkt_build(&p, f);
	return pkt_run(prog, &p, mark, 0, r);
}

/* An IPv6 frame from the pod: TCP (a SYN, or with @ack an answer's
 * segment), UDP or ICMPv6 by @next, to @daddr:@dport, behind one
 * extension header of type @ext when it is not 0xff. */
struct frame6 {
	const char *daddr;
	uint16_t dport;
	bool ack;
	uint8_t next;		/* IPPROTO_TCP when 0 */
	uint8_t ext;		/* 0xff: none */
};

static void pkt6_build(struct pkt *pk, const struct frame6 *f)
{
	struct pkt p;
	struct ethhdr *eth = (struct ethhdr *)p.b;
	struct ipv6hdr *ip6 = (struct ipv6hdr *)(eth + 1);
	unsigned char *l4 = (unsigned char *)(ip6 + 1);
	uint8_t next = f->next ?: IPPROTO_TCP;
	struct tcphdr *th;

	memset(&p, 0, sizeof(p));
	memcpy(eth->h_dest, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	eth->h_proto = htons(ETH_P_IPV6);
	ip6->version = 6;
	ip6->hop_limit = 64;
	inet_pton(AF_INET6, "fd00:78:1::11", &ip6->saddr);
	inet_pton(AF_INET6, f->daddr, &ip6->daddr);
	ip6->nexthdr = next;
	if (f->ext != 0xff) {
		/* 8 bytes: its next header, length 0 (hop-by-hop,
		 * destination options) or a fragment header's offset 0. */
		ip6->nexthdr = f->ext;
		l4[0] = next;
		l4 += 8;
	}
	th = (struct tcphdr *)l4;
	th->source = htons(40000);
	th->dest = htons(f->dport);
	th->seq = htonl(1);
	th->doff = 5;
	th->syn = next == IPPROTO_TCP;
	th->ack = f->ack;
	th->window = htons(65535);
	ip6->payload_len = htons((uint16_t)(l4 + 20 - (unsigned char *)(ip6 + 1)));
	p.len = (size_t)(l4 + 20 - p.b);
	*pk = p;
}

/* frame6_run() arriving by device @ifindex. */
static bool frame6_run_on(int prog, const struct frame6 *f, int ifindex,
			  struct run *r)
{
	struct pkt p;

	pkt6_build(&p, f);
	return pkt_run(prog, &p, 0, ifindex, r);
}

static bool frame6_run(int prog, const struct frame6 *f, struct run *r)
{
	return frame6_run_on(prog, f, 0, r);
}

/* MeshPassthrough in mf_config: @mode, the network 10.99.1.0/24 (every
 * port) admitted, and Domain matches on @dom_port (0: none). */
static bool pt_set(__u8 mode, __u16 dom_port)
{
	int fd = bpf_map__fd(skel->maps.mf_config);
	struct mf_config cfg;
	__u32 zero = 0;

	if (!ASSERT_EQ(bpf_map_lookup_elem(fd, &zero, &cfg), 0))
		return false;
	cfg.pt_mesh.mode = mode;
	cfg.pt_mesh.n = 1;
	inet_pton(AF_INET, "10.99.1.0", cfg.pt_mesh.pt[0].addr);
	cfg.pt_mesh.pt[0].prefix = 24;
	cfg.pt_mesh.pt[0].port = 0;
	cfg.pt_mesh.dom_n = dom_port ? 1 : 0;
	cfg.pt_mesh.dom_any = 0;
	cfg.pt_mesh.dom_port[0] = dom_port;
	return ASSERT_EQ(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
}

/*
 * MeshPassthrough Domain matches: under Matched with one on port 8443, a
 * SYN to a destination outside the mesh on 8443 that no network admits
 * takes the steering path to the agent's listener (see the file comment
 * for its end under test-run) marked MF_SKB_MARK_PASSTHROUGH, and so does
 * a later segment of it; on another port its SYN is dropped
 * (drop_passthrough) and a later segment passes; one an admitted network
 * has passes unmarked.  Without Domain matches, a segment that is not a
 * SYN is not even looked at.
 */
static bool test_passthrough_domain_steered(void)
{
	const struct frame syn = { .daddr = "10.99.2.5", .dport = 8443 },
			   later = { .daddr = "10.99.2.5", .dport = 8443,
				     .ack = true },
			   other = { .daddr = "10.99.2.5", .dport = 8444 },
			   other_later = { .daddr = "10.99.2.5",
					   .dport = 8444, .ack = true },
			   net = { .daddr = "10.99.1.5", .dport = 8443 };
	int prog, lfd;
	struct run r;
	bool ok;

	CASE_PROLOGUE();
	prog = bpf_program__fd(skel->progs.mf_pod_ingress);
	lfd = listener_open(TEST_PORT);
	if (!ASSERT_GE(lfd, 0))
		return false;
	ok = pt_set(MF_PASSTHROUGH_MATCHED, 8443);
	ok = ok && frame_run(prog, &syn, 0, &r) && assert_steered(&r) &&
	     ASSERT_EQ(r.mark, MF_SKB_MARK_PASSTHROUGH);
	ok = ok && frame_run(prog, &later, 0, &r) && assert_steered(&r) &&
	     ASSERT_EQ(r.mark, MF_SKB_MARK_PASSTHROUGH);
	ok = ok && frame_run(prog, &other, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_SHOT) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS,
			    MF_STAT_DROP_PASSTHROUGH) &&
	     ASSERT_EQ(r.mark, 0);
	ok = ok && frame_run(prog, &other_later, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS, MF_STAT_POD_PASSED) &&
	     ASSERT_EQ(r.mark, 0);
	ok = ok && frame_run(prog, &net, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS, MF_STAT_POD_PASSED) &&
	     ASSERT_EQ(r.mark, 0);
	/* No Domain match: the SYN is dropped, a later segment passes. */
	ok = ok && pt_set(MF_PASSTHROUGH_MATCHED, 0) &&
	     frame_run(prog, &syn, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_SHOT) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS,
			    MF_STAT_DROP_PASSTHROUGH) &&
	     frame_run(prog, &later, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS, MF_STAT_POD_PASSED);
	/* All: nothing held. */
	ok = ok && pt_set(MF_PASSTHROUGH_ALL, 8443) &&
	     frame_run(prog, &syn, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS, MF_STAT_POD_PASSED) &&
	     ASSERT_EQ(r.mark, 0);
	pt_set(0, 0);
	close(lfd);
	return ok;
}

/* The Mesh's IPv6 networks: 2001:db8:1::/48 on every port and
 * 2001:db8:2::7/128 on port 443; none when not @on. */
static bool pt6_set(bool on)
{
	int fd = bpf_map__fd(skel->maps.mf_config);
	struct mf_config cfg;
	__u32 zero = 0;

	if (!ASSERT_EQ(bpf_map_lookup_elem(fd, &zero, &cfg), 0))
		return false;
	cfg.pt_mesh.n6 = on ? 2 : 0;
	inet_pton(AF_INET6, "2001:db8:1::", cfg.pt_mesh.pt6[0].addr);
	cfg.pt_mesh.pt6[0].prefix = 48;
	cfg.pt_mesh.pt6[0].port = 0;
	inet_pton(AF_INET6, "2001:db8:2::7", cfg.pt_mesh.pt6[1].addr);
	cfg.pt_mesh.pt6[1].prefix = 128;
	cfg.pt_mesh.pt6[1].port = 443;
	return ASSERT_EQ(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
}

/* The verdict of one IPv6 frame: dropped as MeshPassthrough's, or
 * passed untouched. */
static bool v6_dropped(int prog, const struct frame6 *f)
{
	struct run r;

	return frame6_run(prog, f, &r) && ASSERT_EQ(r.retval, TC_ACT_SHOT) &&
	       assert_counted(&r, MF_STAT_POD_PACKETS,
			      MF_STAT_DROP_PASSTHROUGH);
}

static bool v6_passed(int prog, const struct frame6 *f)
{
	struct run r;

	return frame6_run(prog, f, &r) &&
	       ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
	       assert_counted(&r, MF_STAT_POD_PACKETS, MF_STAT_POD_PASSED);
}

/*
 * MeshPassthrough over IPv6: no destination is the mesh's, so under None
 * a pod's TCP SYN is dropped (behind a hop-by-hop header too, and a
 * fragment header, which hides what follows), while an answer's segment,
 * UDP and ICMPv6 pass; under Matched an IPv6 IP or CIDR match admits its
 * network and port, nothing else; All, or no MeshPassthrough, lets all
 * pass.
 */
static bool test_passthrough_ipv6(void)
{
	const struct frame6 out = { "2001:db8:9::5", 443, false, 0, 0xff },
			    out_ack = { "2001:db8:9::5", 443, true, 0, 0xff },
			    udp = { "2001:db8:9::5", 53, false, IPPROTO_UDP,
				    0xff },
			    icmp = { "2001:db8:9::5", 0, false, IPPROTO_ICMPV6,
				     0xff },
			    hbh = { "2001:db8:9::5", 443, false, 0, 0 },
			    frag = { "2001:db8:9::5", 443, false, 0, 44 },
			    net = { "2001:db8:1:2::9", 8080, false, 0, 0xff },
			    net_hbh = { "2001:db8:1:2::9", 8080, false, 0, 0 },
			    host = { "2001:db8:2::7", 443, false, 0, 0xff },
			    host_port = { "2001:db8:2::7", 444, false, 0, 0xff },
			    host_next = { "2001:db8:2::8", 443, false, 0,
					  0xff };
	int prog;
	bool ok;

	CASE_PROLOGUE();
	prog = bpf_program__fd(skel->progs.mf_pod_ingress);
	ok = v6_passed(prog, &out) && pt6_set(true) &&
	     pt_set(MF_PASSTHROUGH_NONE, 0) &&
	     v6_dropped(prog, &out) && v6_passed(prog, &out_ack) &&
	     v6_passed(prog, &udp) && v6_passed(prog, &icmp) &&
	     v6_dropped(prog, &hbh) && v6_dropped(prog, &frag) &&
	     /* None admits no network, IPv6 ones neither. */
	     v6_dropped(prog, &net);
	ok = ok && pt_set(MF_PASSTHROUGH_MATCHED, 8443) &&
	     v6_passed(prog, &net) && v6_passed(prog, &net_hbh) &&
	     v6_passed(prog, &host) && v6_dropped(prog, &host_port) &&
	     v6_dropped(prog, &host_next) && v6_dropped(prog, &out) &&
	     v6_passed(prog, &out_ack);
	ok = ok && pt_set(MF_PASSTHROUGH_ALL, 0) && v6_passed(prog, &out);
	pt_set(0, 0);
	pt6_set(false);
	return ok;
}

/*
 * MeshPassthrough Domain matches over IPv6: under Matched with one on
 * port 8443, a SYN to an IPv6 destination on 8443 that no IPv6 network
 * admits takes the steering path to the agent's IPv6 listener (see the
 * file comment for its end under test-run) marked MF_SKB_MARK_PASSTHROUGH,
 * and so does a later segment of it, behind a hop-by-hop header too; one
 * an IPv6 network admits passes unmarked on that port, its later segments
 * too; on another port the SYN is dropped (drop_passthrough) and a later
 * segment passes.  The IPv4 listener alone takes none of it: dropped for
 * no listener.  None and All steer nothing.
 */
static bool test_passthrough_ipv6_domain_steered(void)
{
	const struct frame6 syn = { "2001:db8:9::5", 8443, false, 0, 0xff },
			    later = { "2001:db8:9::5", 8443, true, 0, 0xff },
			    hbh = { "2001:db8:9::5", 8443, false, 0, 0 },
			    other = { "2001:db8:9::5", 8444, false, 0, 0xff },
			    other_later = { "2001:db8:9::5", 8444, true, 0,
					    0xff },
			    net = { "2001:db8:1:2::9", 8443, false, 0, 0xff },
			    net_later = { "2001:db8:1:2::9", 8443, true, 0,
					  0xff };
	int prog, lfd, lfd6 = -1;
	struct run r;
	bool ok;

	CASE_PROLOGUE();
	prog = bpf_program__fd(skel->progs.mf_pod_ingress);
	lfd = listener_open(TEST_PORT);
	if (!ASSERT_GE(lfd, 0))
		return false;
	ok = pt6_set(true) && pt_set(MF_PASSTHROUGH_MATCHED, 8443) &&
	     frame6_run(prog, &syn, &r) && ASSERT_EQ(r.retval, TC_ACT_SHOT) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS,
			    MF_STAT_DROP_NO_LISTENER);
	lfd6 = listener6_open(TEST_PORT);
	ok = ok && ASSERT_GE(lfd6, 0);
	ok = ok && frame6_run(prog, &syn, &r) && assert_steered(&r) &&
	     ASSERT_EQ(r.mark, MF_SKB_MARK_PASSTHROUGH);
	ok = ok && frame6_run(prog, &later, &r) && assert_steered(&r) &&
	     ASSERT_EQ(r.mark, MF_SKB_MARK_PASSTHROUGH);
	ok = ok && frame6_run(prog, &hbh, &r) && assert_steered(&r) &&
	     ASSERT_EQ(r.mark, MF_SKB_MARK_PASSTHROUGH);
	ok = ok && frame6_run(prog, &net, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS, MF_STAT_POD_PASSED) &&
	     ASSERT_EQ(r.mark, 0) &&
	     frame6_run(prog, &net_later, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS, MF_STAT_POD_PASSED) &&
	     ASSERT_EQ(r.mark, 0);
	ok = ok && v6_dropped(prog, &other) && v6_passed(prog, &other_later);
	/* None: the SYN dropped; All: passed; neither marks. */
	ok = ok && pt_set(MF_PASSTHROUGH_NONE, 8443) &&
	     v6_dropped(prog, &syn) && v6_passed(prog, &later) &&
	     frame6_run(prog, &syn, &r) && ASSERT_EQ(r.mark, 0);
	ok = ok && pt_set(MF_PASSTHROUGH_ALL, 8443) && v6_passed(prog, &syn) &&
	     frame6_run(prog, &syn, &r) && ASSERT_EQ(r.mark, 0);
	pt_set(0, 0);
	pt6_set(false);
	if (lfd6 >= 0)
		close(lfd6);
	close(lfd);
	return ok;
}

/* Profile 1 of mf_config: @mode, the network 10.99.3.0/24 on port 80
 * admitted, Domain matches on port 8443; the Mesh's stays as pt_set()
 * left it.  @n 0 takes the profiles away. */
static bool pt_profile_set(__u8 mode, __u8 n)
{
	int fd = bpf_map__fd(skel->maps.mf_config);
	struct mf_pt_profile *pf;
	struct mf_config cfg;
	__u32 zero = 0;

	if (!ASSERT_EQ(bpf_map_lookup_elem(fd, &zero, &cfg), 0))
		return false;
	pf = &cfg.pt_prof[0];
	memset(pf, 0, sizeof(*pf));
	pf->mode = mode;
	pf->n = 1;
	inet_pton(AF_INET, "10.99.3.0", pf->pt[0].addr);
	pf->pt[0].prefix = 24;
	pf->pt[0].port = 80;
	pf->dom_n = 1;
	pf->dom_port[0] = 8443;
	cfg.pt_nprof = n;
	cfg.pt_prof_dom = n && mode == MF_PASSTHROUGH_MATCHED;
	return ASSERT_EQ(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
}

/* The endpoint record of source @ip with MeshPassthrough profile @pf
 * (an assertion). */
static bool pt_source_set(const char *ip, __u32 pf)
{
	struct mf_endpoint_key k = { .half = 0 };
	struct mf_endpoint ep = { .service_id = 1, .pt_profile = pf };

	inet_pton(AF_INET, ip, k.ip);
	return ASSERT_EQ(bpf_map_update_elem(
				 bpf_map__fd(skel->maps.mf_endpoints), &k, &ep,
				 BPF_ANY), 0);
}

static void pt_source_del(const char *ip)
{
	struct mf_endpoint_key k = { .half = 0 };

	inet_pton(AF_INET, ip, k.ip);
	bpf_map_delete_elem(bpf_map__fd(skel->maps.mf_endpoints), &k);
}

/*
 * A MeshPassthrough for some workloads only (mf_config.pt_prof[], named
 * by the source's endpoint): the Mesh says None; pod X (TEST_POD), whose
 * endpoint has profile 1 (Matched, 10.99.3.0/24 on port 80, Domain port
 * 8443), reaches that network and has 8443 steered to the agent, a later
 * segment too, while its SYN elsewhere is dropped; pod Y (10.78.1.12),
 * a workload without a profile, and a source that is no workload are
 * held to the Mesh's None.  A profile of All lets X reach anything.
 * Without profiles in mf_config, X's endpoint is not even looked at.
 */
static bool test_passthrough_profile(void)
{
	const struct frame x_net = { .daddr = "10.99.3.5", .dport = 80 },
			   x_other_port = { .daddr = "10.99.3.5", .dport = 81 },
			   x_dom = { .daddr = "10.99.2.5", .dport = 8443 },
			   x_dom_later = { .daddr = "10.99.2.5", .dport = 8443,
					   .ack = true },
			   y_net = { .saddr = "10.78.1.12",
				     .daddr = "10.99.3.5", .dport = 80 },
			   y_dom = { .saddr = "10.78.1.12",
				     .daddr = "10.99.2.5", .dport = 8443 },
			   z_net = { .saddr = "10.78.1.13",
				     .daddr = "10.99.3.5", .dport = 80 };
	int prog, lfd;
	struct run r;
	bool ok;

	CASE_PROLOGUE();
	prog = bpf_program__fd(skel->progs.mf_pod_ingress);
	lfd = listener_open(TEST_PORT);
	if (!ASSERT_GE(lfd, 0))
		return false;
	ok = pt_set(MF_PASSTHROUGH_NONE, 0) &&
	     pt_profile_set(MF_PASSTHROUGH_MATCHED, 1) &&
	     pt_source_set(TEST_POD, 1) && pt_source_set("10.78.1.12", 0);
	ok = ok && frame_run(prog, &x_net, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS, MF_STAT_POD_PASSED) &&
	     frame_run(prog, &x_other_port, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_SHOT) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS,
			    MF_STAT_DROP_PASSTHROUGH) &&
	     frame_run(prog, &x_dom, 0, &r) && assert_steered(&r) &&
	     ASSERT_EQ(r.mark, MF_SKB_MARK_PASSTHROUGH) &&
	     frame_run(prog, &x_dom_later, 0, &r) && assert_steered(&r) &&
	     ASSERT_EQ(r.mark, MF_SKB_MARK_PASSTHROUGH);
	ok = ok && frame_run(prog, &y_net, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_SHOT) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS,
			    MF_STAT_DROP_PASSTHROUGH) &&
	     frame_run(prog, &y_dom, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_SHOT) &&
	     assert_counted(&r, MF_STAT_POD_PACKETS,
			    MF_STAT_DROP_PASSTHROUGH) &&
	     frame_run(prog, &z_net, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_SHOT);
	/* X's own All. */
	ok = ok && pt_profile_set(MF_PASSTHROUGH_ALL, 1) &&
	     frame_run(prog, &x_other_port, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_UNSPEC) && ASSERT_EQ(r.mark, 0);
	/* No profiles: X is the Mesh's again. */
	ok = ok && pt_profile_set(MF_PASSTHROUGH_MATCHED, 0) &&
	     frame_run(prog, &x_net, 0, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_SHOT);
	pt_source_del(TEST_POD);
	pt_source_del("10.78.1.12");
	pt_profile_set(0, 0);
	pt_set(0, 0);
	close(lfd);
	return ok;
}

/* The mf_pt6_clients key of the pod's IPv6 connection that pkt6_build()
 * makes to @daddr:@dport. */
static struct mf_pt6_key pt6_key(const char *daddr, uint16_t dport)
{
	struct mf_pt6_key k;

	memset(&k, 0, sizeof(k));
	inet_pton(AF_INET6, "fd00:78:1::11", k.client);
	inet_pton(AF_INET6, daddr, k.dst);
	k.client_port = 40000;
	k.dst_port = dport;
	return k;
}

/* How many records mf_pt6_clients holds. */
static int pt6_clients_count(void)
{
	int fd = bpf_map__fd(skel->maps.mf_pt6_clients), n = 0;
	struct mf_pt6_key k, next;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/* No passthrough for TEST_POD, no profile, the Mesh's mode off and
 * IPv6 steering off: as every case found it. */
static void pt_reset(void)
{
	pt_source_del(TEST_POD);
	pt_profile_set(0, 0);
	pt_set(0, 0);
	pt6_set(false);
}

/* Empties mf_pt6_clients. */
static void pt6_clients_clear(void)
{
	int fd = bpf_map__fd(skel->maps.mf_pt6_clients);
	struct mf_pt6_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		bpf_map_delete_elem(fd, &k);
}

/* mf_pt6_clients holds one record, for the connection to @daddr:@dport,
 * naming the pod at IPv4 address @pod. */
static bool pt6_noted(const char *daddr, uint16_t dport, const char *pod)
{
	struct mf_pt6_key k = pt6_key(daddr, dport);
	struct mf_pt6_client v;
	uint8_t want[4];

	inet_pton(AF_INET, pod, want);
	return ASSERT_EQ(pt6_clients_count(), 1) &&
	       ASSERT_EQ(bpf_map_lookup_elem(
				 bpf_map__fd(skel->maps.mf_pt6_clients), &k,
				 &v), 0) &&
	       ASSERT_MEMEQ(v.pod, want, 4);
}

/*
 * Which pod an IPv6 connection steered for a MeshPassthrough Domain
 * match comes from (mf_pt6_clients): its SYN, arriving by the pod's veth
 * (mfv0, which an IPv4 packet of TEST_POD's made the program know), is
 * noted under its 4-tuple with TEST_POD's IPv4 address, with or without
 * profiles in mf_config; the connection's later segment, a SYN the
 * kernel drops, one an IPv6 network admits, one of a veth the program
 * has seen no IPv4 address on (mfv1) and an IPv4 SYN steered for a Domain
 * match note nothing.
 */
static bool test_passthrough_ipv6_pod_noted(void)
{
	const struct frame own4 = { .daddr = "10.78.2.99", .ack = true },
			   syn4 = { .daddr = "10.99.2.5", .dport = 8443 };
	const struct frame6 syn = { "2001:db8:9::5", 8443, false, 0, 0xff },
			    later = { "2001:db8:9::5", 8443, true, 0, 0xff },
			    other = { "2001:db8:9::5", 8444, false, 0, 0xff },
			    net = { "2001:db8:1:2::9", 8443, false, 0, 0xff };
	int prog, lfd, lfd6, veth;
	struct run r;
	bool ok;

	CASE_PROLOGUE();
	prog = bpf_program__fd(skel->progs.mf_pod_ingress);
	veth = pod_veth_ifindex();
	lfd = listener_open(TEST_PORT);
	lfd6 = listener6_open(TEST_PORT);
	ok = ASSERT_TRUE(veth > 0) && ASSERT_GE(lfd, 0) && ASSERT_GE(lfd6, 0);
	pt6_clients_clear();
	ok = ok && pt6_set(true) && pt_set(MF_PASSTHROUGH_MATCHED, 8443) &&
	     from_pod_expect(&own4, veth, TC_ACT_UNSPEC, MF_STAT_POD_PASSED);
	/* The SYN, steered and noted. */
	ok = ok && frame6_run_on(prog, &syn, veth, &r) && assert_steered(&r) &&
	     ASSERT_EQ(r.mark, MF_SKB_MARK_PASSTHROUGH) &&
	     pt6_noted("2001:db8:9::5", 8443, TEST_POD);
	pt6_clients_clear();
	/* Its later segment: steered, not noted; nor what is not steered. */
	ok = ok && frame6_run_on(prog, &later, veth, &r) &&
	     assert_steered(&r) && ASSERT_EQ(pt6_clients_count(), 0);
	ok = ok && frame6_run_on(prog, &other, veth, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_SHOT) &&
	     frame6_run_on(prog, &net, veth, &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
	     ASSERT_EQ(pt6_clients_count(), 0);
	/* A veth without a known pod: steered, held to the Mesh's, and
	 * nothing noted. */
	ok = ok && frame6_run_on(prog, &syn, (int)if_nametoindex("mfv1"),
				 &r) &&
	     assert_steered(&r) && ASSERT_EQ(pt6_clients_count(), 0);
	/* IPv4 needs no note. */
	ok = ok && frame_run(prog, &syn4, 0, &r) && assert_steered(&r) &&
	     ASSERT_EQ(pt6_clients_count(), 0);
	/* With profiles (TEST_POD's own: Matched, Domain port 8443). */
	ok = ok && pt_set(MF_PASSTHROUGH_NONE, 0) &&
	     pt_profile_set(MF_PASSTHROUGH_MATCHED, 1) &&
	     pt_source_set(TEST_POD, 1) &&
	     frame6_run_on(prog, &syn, veth, &r) && assert_steered(&r) &&
	     pt6_noted("2001:db8:9::5", 8443, TEST_POD);
	pt6_clients_clear();
	pt_reset();
	if (lfd6 >= 0)
		close(lfd6);
	if (lfd >= 0)
		close(lfd);
	return ok;
}

/* mf_pod_egress on @f (mark @mark) returns @retval, having counted the
 * packet in @stat (and TO_POD_PACKETS) only. */
static bool to_pod_expect(const struct frame *f, __u32 mark, int retval,
			  int stat)
{
	struct run r;

	return frame_run(bpf_program__fd(skel->progs.mf_pod_egress), f, mark,
			 &r) &&
	       ASSERT_EQ(r.retval, retval) &&
	       assert_counted(&r, MF_STAT_TO_POD_PACKETS, stat);
}

/* mf_plaintext's count for @f (summed over the CPUs), 0 when it has none. */
static __u64 plaintext_count(const struct frame *f, bool dropped)
{
	struct mf_plain_key k = { .dport = f->dport ?: 80,
				  .proto = f->proto ?: IPPROTO_TCP,
				  .dropped = dropped };
	__u64 percpu[ncpus], sum = 0;

	inet_pton(AF_INET, f->saddr ?: TEST_POD, k.src);
	inet_pton(AF_INET, f->daddr ?: TEST_VIP, k.dst);
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.mf_plaintext), &k,
				percpu))
		return 0;
	for (int c = 0; c < ncpus; c++)
		sum += percpu[c];
	return sum;
}

/* Without an enabled mTLS backend nothing is enforced. */
static bool test_to_pod_open_without_mtls(void)
{
	const struct frame f = { .saddr = TEST_PEER, .daddr = TEST_POD,
				 .dport = 8080 };

	CASE_PROLOGUE();
	return config_set_mode(0, NULL) &&
	       to_pod_expect(&f, 0, TC_ACT_UNSPEC, MF_STAT_TO_POD_OPEN);
}

/* STRICT drops plaintext from another pod, counts it by source,
 * destination and port, and admits the agent's own traffic. */
static bool test_to_pod_strict(void)
{
	const struct frame f = { .saddr = TEST_PEER, .daddr = TEST_POD,
				 .dport = 8081 };
	const struct frame frag = { .saddr = TEST_PEER, .daddr = TEST_POD,
				    .dport = 8081, .frag_off = 100 };
	bool ok;

	CASE_PROLOGUE();
	ok = config_set_mode(MF_MTLS_STRICT, NULL) &&
	     to_pod_expect(&f, 0, TC_ACT_SHOT, MF_STAT_DROP_STRICT) &&
	     to_pod_expect(&f, 0, TC_ACT_SHOT, MF_STAT_DROP_STRICT) &&
	     ASSERT_EQ(plaintext_count(&f, true), 2) &&
	     ASSERT_EQ(plaintext_count(&f, false), 0) &&
	     to_pod_expect(&frag, 0, TC_ACT_SHOT, MF_STAT_DROP_STRICT) &&
	     /* Another mark is not the agent's. */
	     to_pod_expect(&f, 7, TC_ACT_SHOT, MF_STAT_DROP_STRICT) &&
	     to_pod_expect(&f, MF_SKB_MARK_AGENT, TC_ACT_UNSPEC,
			   MF_STAT_TO_POD_AGENT);
	return config_set_mode(0, NULL) && ok;
}

/* Return traffic of the flows the pod opened (noted by mf_pod_ingress)
 * is admitted under STRICT; the same peer on another port is not. */
static bool test_to_pod_strict_return_traffic(void)
{
	const struct frame syn = { .daddr = TEST_PEER, .dport = 8080,
				   .sport = 41000 };
	const struct frame synack = { .saddr = TEST_PEER, .daddr = TEST_POD,
				      .sport = 8080, .dport = 41000,
				      .ack = true };
	const struct frame other = { .saddr = TEST_PEER, .daddr = TEST_POD,
				     .sport = 8080, .dport = 41001,
				     .ack = true };
	const struct frame dns = { .proto = IPPROTO_UDP, .l4_len = 32,
				   .daddr = "10.53.0.10", .dport = 53,
				   .sport = 42000 };
	const struct frame answer = { .proto = IPPROTO_UDP, .l4_len = 32,
				      .saddr = "10.53.0.10",
				      .daddr = TEST_POD, .sport = 53,
				      .dport = 42000 };
	struct run r;
	bool ok;

	CASE_PROLOGUE();
	ok = config_set_mode(MF_MTLS_STRICT, NULL) &&
	     to_pod_expect(&synack, 0, TC_ACT_SHOT, MF_STAT_DROP_STRICT) &&
	     to_pod_expect(&answer, 0, TC_ACT_SHOT, MF_STAT_DROP_STRICT) &&
	     /* The pod opens them. */
	     frame_run(bpf_program__fd(skel->progs.mf_pod_ingress), &syn, 0,
		       &r) && ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
	     frame_run(bpf_program__fd(skel->progs.mf_pod_ingress), &dns, 0,
		       &r) && ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
	     to_pod_expect(&synack, 0, TC_ACT_UNSPEC, MF_STAT_TO_POD_RETURN) &&
	     to_pod_expect(&answer, 0, TC_ACT_UNSPEC, MF_STAT_TO_POD_RETURN) &&
	     to_pod_expect(&other, 0, TC_ACT_SHOT, MF_STAT_DROP_STRICT);
	return config_set_mode(0, NULL) && ok;
}

/* An exempt source (a kubelet's probes) is admitted; ICMP replies and
 * errors are, an echo request is not; ARP passes. */
static bool test_to_pod_strict_exempt_icmp_arp(void)
{
	const struct frame probe = { .saddr = "10.77.0.1", .daddr = TEST_POD,
				     .dport = 8080 };
	const struct frame near = { .saddr = "10.77.1.1", .daddr = TEST_POD,
				    .dport = 8080 };
	const struct frame reply = { .proto = IPPROTO_ICMP, .l4_len = 8,
				     .saddr = TEST_PEER, .daddr = TEST_POD,
				     .icmp_type = 0 };
	const struct frame unreach = { .proto = IPPROTO_ICMP, .l4_len = 8,
				       .saddr = TEST_PEER, .daddr = TEST_POD,
				       .icmp_type = 3 };
	const struct frame ping = { .proto = IPPROTO_ICMP, .l4_len = 8,
				    .saddr = TEST_PEER, .daddr = TEST_POD,
				    .icmp_type = 8 };
	const struct frame arp = { .saddr = TEST_PEER, .daddr = TEST_POD,
				   .h_proto = ETH_P_ARP };
	struct run r;
	bool ok;

	CASE_PROLOGUE();
	ok = config_set_mode(MF_MTLS_STRICT, "10.77.0.0") &&
	     to_pod_expect(&probe, 0, TC_ACT_UNSPEC, MF_STAT_TO_POD_EXEMPT) &&
	     to_pod_expect(&near, 0, TC_ACT_SHOT, MF_STAT_DROP_STRICT) &&
	     to_pod_expect(&reply, 0, TC_ACT_UNSPEC, MF_STAT_TO_POD_RETURN) &&
	     to_pod_expect(&unreach, 0, TC_ACT_UNSPEC,
			   MF_STAT_TO_POD_RETURN) &&
	     to_pod_expect(&ping, 0, TC_ACT_SHOT, MF_STAT_DROP_STRICT) &&
	     frame_run(bpf_program__fd(skel->progs.mf_pod_egress), &arp, 0,
		       &r) &&
	     ASSERT_EQ(r.retval, TC_ACT_UNSPEC) &&
	     assert_counted(&r, MF_STAT_TO_POD_PACKETS, MF_STAT_TO_POD_PACKETS);
	return config_set_mode(0, NULL) && ok;
}

/* PERMISSIVE lets plaintext through and counts it, so an operator sees
 * what STRICT would drop; switching is one map update, the next packet
 * sees it. */
static bool test_to_pod_permissive_then_strict(void)
{
	const struct frame f = { .saddr = TEST_PEER, .daddr = TEST_POD,
				 .dport = 9090 };
	bool ok;

	CASE_PROLOGUE();
	ok = config_set_mode(MF_MTLS_PERMISSIVE, NULL) &&
	     to_pod_expect(&f, 0, TC_ACT_UNSPEC, MF_STAT_TO_POD_PLAINTEXT) &&
	     to_pod_expect(&f, 0, TC_ACT_UNSPEC, MF_STAT_TO_POD_PLAINTEXT) &&
	     ASSERT_EQ(plaintext_count(&f, false), 2) &&
	     config_set_mode(MF_MTLS_STRICT, NULL) &&
	     to_pod_expect(&f, 0, TC_ACT_SHOT, MF_STAT_DROP_STRICT) &&
	     ASSERT_EQ(plaintext_count(&f, true), 1);
	return config_set_mode(0, NULL) && ok;
}

/* A MeshTLS mode of the destination pod's own (its endpoint's flags, in
 * the half in force) overrides the Mesh's: Strict under a PERMISSIVE mesh
 * drops, Permissive under a STRICT one lets through; other pods keep the
 * Mesh's. */
static bool test_to_pod_meshtls_mode(void)
{
	const struct frame to_pod = { .saddr = TEST_PEER, .daddr = TEST_POD,
				      .dport = 7070 };
	const struct frame to_other = { .saddr = TEST_PEER,
					.daddr = "10.78.1.13", .dport = 7070 };
	struct mf_endpoint_key k = { .half = 0 };
	struct mf_endpoint ep = { .service_id = 1 };
	struct mf_config cfg;
	__u32 zero = 0;
	int efd, cfd;
	bool ok;

	CASE_PROLOGUE();
	efd = bpf_map__fd(skel->maps.mf_endpoints);
	cfd = bpf_map__fd(skel->maps.mf_config);
	inet_pton(AF_INET, TEST_POD, k.ip);
	ep.flags = MF_ENDPOINT_F_TLS_STRICT;
	ok = ASSERT_EQ(bpf_map_update_elem(efd, &k, &ep, BPF_ANY), 0) &&
	     config_set_mode(MF_MTLS_PERMISSIVE, NULL) &&
	     ASSERT_EQ(bpf_map_lookup_elem(cfd, &zero, &cfg), 0);
	cfg.flags |= MF_CONFIG_F_TLS_MODES;
	ok = ok && ASSERT_EQ(bpf_map_update_elem(cfd, &zero, &cfg, BPF_ANY),
			     0) &&
	     to_pod_expect(&to_pod, 0, TC_ACT_SHOT, MF_STAT_DROP_STRICT) &&
	     to_pod_expect(&to_other, 0, TC_ACT_UNSPEC,
			   MF_STAT_TO_POD_PLAINTEXT);
	ep.flags = MF_ENDPOINT_F_TLS_PERMISSIVE;
	cfg.mtls_mode = MF_MTLS_STRICT;
	ok = ok && ASSERT_EQ(bpf_map_update_elem(efd, &k, &ep, BPF_ANY), 0) &&
	     ASSERT_EQ(bpf_map_update_elem(cfd, &zero, &cfg, BPF_ANY), 0) &&
	     to_pod_expect(&to_pod, 0, TC_ACT_UNSPEC,
			   MF_STAT_TO_POD_PLAINTEXT) &&
	     to_pod_expect(&to_other, 0, TC_ACT_SHOT, MF_STAT_DROP_STRICT);
	bpf_map_delete_elem(efd, &k);
	cfg.flags &= ~MF_CONFIG_F_TLS_MODES;
	cfg.mtls_mode = 0;
	return ASSERT_EQ(bpf_map_update_elem(cfd, &zero, &cfg, BPF_ANY), 0) &&
	       ok;
}

/* ---- connection rates ---------------------------------------------------- */

#define TEST_VIP_RATE	"10.96.0.14"	/* registered, port 80, 100 conn/s */
#define TEST_POD2	"10.78.1.12"	/* another pod of the node */

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* Runs mf_pod_ingress on @f; true when it was not dropped for the rate
 * (*ok false when the run itself failed). */
static bool syn_conforms(const struct frame *f, bool *ok)
{
	struct run r;

	if (!frame_run(bpf_program__fd(skel->progs.mf_pod_ingress), f, 0, &r)) {
		*ok = false;
		return false;
	}
	return r.d.v[MF_STAT_DROP_CONN_RATE] == 0;
}

/*
 * A pod opening connections to a service with a MeshRateLimit of 100 per
 * second as fast as it can for 10 s gets its burst (100) and then 100 a
 * second, within 5%; another pod of the node, at 10 a second meanwhile,
 * loses none of its own.
 */
static bool test_conn_rate_held(void)
{
	struct mf_service_key k = { .port = 80, .proto = MF_PROTO_TCP };
	struct mf_service v = { .id = 14, .name = "rated",
				.conn_rate_num = 100,
				.conn_rate_interval_ms = 1000 };
	const struct frame flood = { .daddr = TEST_VIP_RATE };
	const struct frame calm = { .saddr = TEST_POD2,
				    .daddr = TEST_VIP_RATE };
	unsigned int passed = 0, offered = 0, calm_passed = 0, calm_sent = 0;
	__u64 start, next_calm;
	bool ok = true;

	CASE_PROLOGUE();
	inet_pton(AF_INET, TEST_VIP_RATE, k.vip);
	if (!ASSERT_EQ(bpf_map_update_elem(
			       bpf_map__fd(skel->maps.mf_services), &k, &v,
			       BPF_ANY), 0))
		return false;
	start = now_ns();
	next_calm = start;
	while (ok && now_ns() - start < 10000000000ull) {
		offered++;
		passed += syn_conforms(&flood, &ok);
		if (now_ns() >= next_calm) {
			calm_sent++;
			calm_passed += syn_conforms(&calm, &ok);
			next_calm += 100000000ull;
		}
		usleep(200);
	}
	fprintf(stderr, "  flood: %u of %u offered conformed; calm: %u of "
		"%u\n", passed, offered, calm_passed, calm_sent);
	return ok && ASSERT_TRUE(offered > 5000) &&
	       ASSERT_TRUE(passed >= 1045 && passed <= 1155) &&
	       ASSERT_EQ(calm_passed, calm_sent);
}

/* A flood of distinct sources evicts the oldest buckets: the map never
 * holds more than its bound. */
static bool test_conn_buckets_bounded(void)
{
	struct mf_conn_bucket_key key, next;
	size_t entries = 0;
	bool ok = true;
	int fd;

	CASE_PROLOGUE();
	fd = bpf_map__fd(skel->maps.mf_conn_buckets);
	for (unsigned int i = 0; ok && i < MF_CONN_BUCKETS_MAX + 10000; i++) {
		struct mf_conn_bucket_key bk = { .port = 80 };
		__u64 tat = now_ns();

		inet_pton(AF_INET, TEST_VIP_RATE, bk.vip);
		memcpy(bk.src, &i, 4);
		ok = ASSERT_EQ(bpf_map_update_elem(fd, &bk, &tat, BPF_ANY), 0);
	}
	if (bpf_map_get_next_key(fd, NULL, &key) == 0) {
		entries = 1;
		while (bpf_map_get_next_key(fd, &key, &next) == 0) {
			key = next;
			entries++;
		}
	}
	fprintf(stderr, "  %zu buckets after %u sources\n", entries,
		MF_CONN_BUCKETS_MAX + 10000);
	return ok && ASSERT_TRUE(entries <= MF_CONN_BUCKETS_MAX);
}

/* ---- the uplink's firewall (XDP) ------------------------------------------ */

/* Sets the firewall of mf_config[0]: @deny ("" for none, else a /24's
 * network), packets and SYNs per second (0: none). */
static bool fw_set(const char *deny, __u32 pps, __u32 sps)
{
	int fd = bpf_map__fd(skel->maps.mf_config);
	struct mf_xdp_deny_key dk = { .prefixlen = 24 };
	struct mf_config cfg;
	__u32 zero = 0;
	__u8 one = 1;

	if (!ASSERT_EQ(bpf_map_lookup_elem(fd, &zero, &cfg), 0))
		return false;
	cfg.fw_ndeny = deny[0] ? 1 : 0;
	cfg.fw_pkt_num = pps;
	cfg.fw_pkt_interval_ms = pps ? 1000 : 0;
	cfg.fw_syn_num = sps;
	cfg.fw_syn_interval_ms = sps ? 1000 : 0;
	if (deny[0]) {
		inet_pton(AF_INET, deny, dk.addr);
		if (!ASSERT_EQ(bpf_map_update_elem(
				       bpf_map__fd(xskel->maps.mf_xdp_deny), &dk,
				       &one, BPF_ANY), 0))
			return false;
	}
	return ASSERT_EQ(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
}

/* Runs mf_xdp @repeat times on @f into *retval (the last run's) and @d
 * (counter deltas). */
static bool xdp_run(const struct frame *f, __u32 repeat, int *retval,
		    struct stats *d)
{
	struct pkt p;
	unsigned char out[sizeof(p.b)];
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = repeat);
	struct stats before;

	pkt_build(&p, f);
	topts.data_in = p.b;
	topts.data_size_in = p.len;
	if (!ASSERT_TRUE(stats_read(&before)) ||
	    !ASSERT_EQ(bpf_prog_test_run_opts(
			       bpf_program__fd(xskel->progs.mf_xdp), &topts), 0) ||
	    !stats_since(&before, d))
		return false;
	*retval = (int)topts.retval;
	return true;
}

struct xdp_reports {
	unsigned int n;
	struct mf_xdp_event last;
};

static int xdp_report(void *ctx, void *data, size_t len)
{
	struct xdp_reports *r = ctx;

	if (len >= sizeof(r->last)) {
		memcpy(&r->last, data, sizeof(r->last));
		r->n++;
	}
	return 0;
}

/* No firewall: everything passes; a denied network is dropped and
 * reported once for a burst; ARP passes whatever the policy. */
static bool test_xdp_deny(void)
{
	const struct frame denied = { .saddr = "203.0.113.7",
				      .daddr = "10.77.0.1" };
	const struct frame other = { .saddr = "203.0.114.7",
				     .daddr = "10.77.0.1" };
	const struct frame arp = { .saddr = "203.0.113.7",
				   .daddr = "10.77.0.1",
				   .h_proto = ETH_P_ARP };
	struct xdp_reports rep = { 0 };
	struct ring_buffer *rb;
	struct stats d;
	int rv;
	bool ok;

	CASE_PROLOGUE();
	if (!ASSERT_TRUE(xskel != NULL))
		return false;
	rb = ring_buffer__new(bpf_map__fd(xskel->maps.mf_xdp_events),
			      xdp_report, &rep, NULL);
	if (!ASSERT_TRUE(rb != NULL))
		return false;
	ok = fw_set("", 0, 0) && xdp_run(&denied, 1, &rv, &d) &&
	     ASSERT_EQ(rv, XDP_PASS) &&
	     fw_set("203.0.113.0", 0, 0) && xdp_run(&denied, 10, &rv, &d) &&
	     ASSERT_EQ(rv, XDP_DROP) &&
	     ASSERT_EQ(d.v[MF_STAT_XDP_PACKETS], 10) &&
	     ASSERT_EQ(d.v[MF_STAT_XDP_DROP_DENY], 10) &&
	     ASSERT_GE(ring_buffer__consume(rb), 0) &&
	     /* One report for the ten, naming the source. */
	     ASSERT_EQ(rep.n, 1) &&
	     ASSERT_EQ(rep.last.reason, MF_STAT_XDP_DROP_DENY) &&
	     ASSERT_MEMEQ(rep.last.src, "\xcb\x00\x71\x07", 4) &&
	     xdp_run(&other, 1, &rv, &d) && ASSERT_EQ(rv, XDP_PASS) &&
	     xdp_run(&arp, 1, &rv, &d) && ASSERT_EQ(rv, XDP_PASS) &&
	     ASSERT_EQ(d.v[MF_STAT_XDP_DROP_DENY], 0);
	ring_buffer__free(rb);
	return fw_set("", 0, 0) && ok;
}

/* Per-source rates: a burst of 300 packets against 100/s keeps 100; a
 * burst of SYNs against 10/s keeps 10 while other segments pass; a node
 * of the mesh is never limited; another source has buckets of its own. */
static bool test_xdp_rates(void)
{
	const struct frame pkts = { .saddr = "198.51.100.1",
				    .daddr = "10.77.0.1", .ack = true };
	const struct frame other = { .saddr = "198.51.100.9",
				     .daddr = "10.77.0.1", .ack = true };
	const struct frame syns = { .saddr = "198.51.100.2",
				    .daddr = "10.77.0.1", .dport = 15008 };
	const struct frame acks = { .saddr = "198.51.100.2",
				    .daddr = "10.77.0.1", .dport = 15008,
				    .ack = true };
	const struct frame node = { .saddr = "198.51.100.3",
				    .daddr = "10.77.0.1", .dport = 15008 };
	__u32 node_addr;
	__u8 one = 1;
	struct stats d;
	int rv;
	bool ok;

	CASE_PROLOGUE();
	if (!ASSERT_TRUE(xskel != NULL))
		return false;
	inet_pton(AF_INET, "198.51.100.3", &node_addr);
	ok = ASSERT_EQ(bpf_map_update_elem(
			       bpf_map__fd(xskel->maps.mf_xdp_nodes), &node_addr,
			       &one, BPF_ANY), 0) &&
	     fw_set("", 100, 0) && xdp_run(&pkts, 300, &rv, &d) &&
	     ASSERT_EQ(rv, XDP_DROP) &&
	     ASSERT_TRUE(d.v[MF_STAT_XDP_DROP_PACKET_RATE] >= 195 &&
			 d.v[MF_STAT_XDP_DROP_PACKET_RATE] <= 200) &&
	     xdp_run(&other, 50, &rv, &d) && ASSERT_EQ(rv, XDP_PASS) &&
	     ASSERT_EQ(d.v[MF_STAT_XDP_DROP_PACKET_RATE], 0) &&
	     fw_set("", 0, 10) && xdp_run(&syns, 50, &rv, &d) &&
	     ASSERT_TRUE(d.v[MF_STAT_XDP_DROP_SYN_RATE] >= 39 &&
			 d.v[MF_STAT_XDP_DROP_SYN_RATE] <= 40) &&
	     xdp_run(&acks, 50, &rv, &d) && ASSERT_EQ(rv, XDP_PASS) &&
	     ASSERT_EQ(d.v[MF_STAT_XDP_DROP_SYN_RATE], 0) &&
	     fw_set("", 100, 10) && xdp_run(&node, 500, &rv, &d) &&
	     ASSERT_EQ(rv, XDP_PASS) &&
	     ASSERT_EQ(d.v[MF_STAT_XDP_DROP_SYN_RATE] +
		       d.v[MF_STAT_XDP_DROP_PACKET_RATE], 0);
	return fw_set("", 0, 0) && ok;
}

/* The packet bucket holds its rate over time: 100/s offered faster than
 * that for 2 s lets the burst and then 100 a second through, within 5% of
 * what the time it took allows.  The rate is low enough that a slow
 * machine (an emulated one runs this loop about 1,000 times a second)
 * still offers more than twice it. */
#define XDP_RATE_PPS	100u

static bool test_xdp_rate_over_time(void)
{
	const struct frame f = { .saddr = "198.51.100.20",
				 .daddr = "10.77.0.1", .ack = true };
	unsigned int passed = 0, offered = 0, allowed;
	struct stats d;
	__u64 start, elapsed;
	bool ok;
	int rv;

	CASE_PROLOGUE();
	if (!ASSERT_TRUE(xskel != NULL))
		return false;
	ok = fw_set("", XDP_RATE_PPS, 0);
	start = now_ns();
	while (ok && now_ns() - start < 2000000000ull) {
		ok = xdp_run(&f, 1, &rv, &d);
		offered++;
		passed += rv == XDP_PASS;
		usleep(200);
	}
	elapsed = now_ns() - start;
	/* The burst, then one packet every 1/XDP_RATE_PPS s. */
	allowed = XDP_RATE_PPS + (unsigned int)(elapsed * XDP_RATE_PPS /
						1000000000ull);
	fprintf(stderr, "  %u of %u offered passed, %u allowed in %llu ms\n",
		passed, offered, allowed,
		(unsigned long long)(elapsed / 1000000));
	return fw_set("", 0, 0) && ok && ASSERT_TRUE(offered > 2 * allowed) &&
	       ASSERT_TRUE(passed * 20 >= allowed * 19 &&
			   passed * 20 <= allowed * 21);
}

/* ---- real TC ingress --------------------------------------------------- */

/* Waits up to TEST_TIMEOUT_MS for @events on @fd. */
static bool wait_fd(int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	return poll(&pfd, 1, TEST_TIMEOUT_MS) == 1 && (pfd.revents & events);
}

/* Non-blocking connect from source port @sport (0: any) to @addr:@port;
 * returns the fd once connected, or -errno (-ETIMEDOUT when neither success
 * nor failure came in time). */
static int connect_wait(const char *addr, uint16_t port, uint16_t sport)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	struct sockaddr_in src = { .sin_family = AF_INET,
				   .sin_port = htons(sport) };
	socklen_t len = sizeof(int);
	int fd, soerr = 0, one = 1;

	inet_pton(AF_INET, addr, &a.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((sport &&
	     (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	      bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)) ||
	    (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 &&
	     errno != EINPROGRESS))
		soerr = errno;
	else if (!wait_fd(fd, POLLOUT))
		soerr = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (!soerr)
		return fd;
	close(fd);
	return -soerr;
}

/*
 * A listener on TEST_PORT, and kern_open on the same pin root (so it shares
 * the maps the skeleton created) with kern_attach_pod on lo: a connect() to
 * the VIP goes out lo, comes back in at lo's TC ingress, and is assigned to
 * the listener.
 */
struct lo_conn {
	struct kern *k;
	int lfd;	/* the listener */
	int cfd;	/* the client's socket, or -1 */
	int afd;	/* the client's peer, accepted on lfd, or -1 */
};

static void fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Opens the listener and attaches to lo (assertions); lo_close() undoes
 * whatever was done, even on failure. */
static bool lo_open(struct lo_conn *c)
{
	*c = (struct lo_conn){ .lfd = -1, .cfd = -1, .afd = -1 };
	c->lfd = listener_open(TEST_PORT);
	/* As the agent does: the stack's own lookups for a VIP find it. */
	return ASSERT_GE(c->lfd, 0) &&
	       ASSERT_EQ(kern_open(&c->k, pin_root, NULL, TEST_PORT), 0) &&
	       ASSERT_EQ(kern_attach_pod(c->k, "lo"), 0) &&
	       ASSERT_EQ(kern_steer_listener(c->k, c->lfd), 0);
}

static void lo_close(struct lo_conn *c)
{
	kern_close(c->k);
	fd_close(&c->afd);
	fd_close(&c->cfd);
	fd_close(&c->lfd);
}

/* Connects to TEST_VIP:80 from @sport (0: any) and accepts on the listener
 * (assertions). */
static bool lo_connect(struct lo_conn *c, uint16_t sport)
{
	struct sockaddr_in local, peer, cl;
	socklen_t len = sizeof(local);

	c->cfd = connect_wait(TEST_VIP, 80, sport);
	if (!ASSERT_GE(c->cfd, 0) || !ASSERT_TRUE(wait_fd(c->lfd, POLLIN)))
		return false;
	c->afd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (!ASSERT_GE(c->afd, 0))
		return false;
	/* The original destination, recovered with no NAT, and the client as
	 * the peer. */
	return ASSERT_EQ(getsockname(c->afd, (void *)&local, &len), 0) &&
	       ASSERT_STREQ(inet_ntoa(local.sin_addr), TEST_VIP) &&
	       ASSERT_EQ(ntohs(local.sin_port), 80) &&
	       ASSERT_EQ(getpeername(c->afd, (void *)&peer, &len), 0) &&
	       ASSERT_EQ(getsockname(c->cfd, (void *)&cl, &len), 0) &&
	       ASSERT_EQ(peer.sin_addr.s_addr, cl.sin_addr.s_addr) &&
	       ASSERT_EQ(peer.sin_port, cl.sin_port);
}

/* @msg, sent by the client, arrives at the accepted socket. */
static bool lo_send(struct lo_conn *c, const char *msg)
{
	size_t n = strlen(msg);
	char buf[8];

	return ASSERT_EQ(send(c->cfd, msg, n, MSG_NOSIGNAL), n) &&
	       ASSERT_TRUE(wait_fd(c->afd, POLLIN)) &&
	       ASSERT_EQ(recv(c->afd, buf, sizeof(buf), 0), n) &&
	       ASSERT_MEMEQ(buf, msg, n);
}

/* Since @before: one SYN steered to the listener, at least @established
 * segments that found the socket of their 4-tuple, and nothing dropped. */
static bool assert_lo_counted(const struct stats *before, int established)
{
	struct stats d;

	return stats_since(before, &d) &&
	       ASSERT_EQ(d.v[MF_STAT_POD_STEERED], 1) &&
	       ASSERT_GE(d.v[MF_STAT_POD_ESTABLISHED], established) &&
	       ASSERT_EQ(d.v[MF_STAT_DROP_NO_LISTENER], 0) &&
	       ASSERT_EQ(d.v[MF_STAT_DROP_ASSIGN], 0);
}

/* The listener on TEST_PORT accepts a connect() to VIP:80 as if it were
 * VIP:80; then kern_close detaches and leaves the maps. */
static bool test_lo_intercepts_connect(void)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, topts, .handle = KERN_TC_HANDLE,
		    .priority = KERN_TC_PRIORITY);
	struct stats before;
	struct lo_conn c;
	int pfd, err;
	char path[128];
	bool ok = false;

	CASE_PROLOGUE();
	/* A second attach replaces the filter in place. */
	if (!lo_open(&c) || !ASSERT_EQ(kern_attach_pod(c.k, "lo"), 0) ||
	    !ASSERT_TRUE(stats_read(&before)) || !lo_connect(&c, 0))
		goto out;

	/* Data after the handshake rides the established-socket path: one
	 * SYN steered to the listener; the handshake's ACK and the data
	 * segment found the socket of their 4-tuple (request, then
	 * established). */
	if (!lo_send(&c, "ping") || !assert_lo_counted(&before, 2))
		goto out;

	/* A port of the VIP that is no service is left to the stack, which
	 * has nothing on VIP:81 and refuses. */
	if (!ASSERT_EQ(connect_wait(TEST_VIP, 81, 0), -ECONNREFUSED))
		goto out;

	/* kern_close takes its filter away and leaves the maps pinned. */
	kern_close(c.k);
	c.k = NULL;
	hook.ifindex = if_nametoindex("lo");
	/* -ENOENT while other filters keep the chain, -EINVAL once the chain
	 * went with its last filter: either way, ours is not there. */
	err = bpf_tc_query(&hook, &topts);
	if (!ASSERT_TRUE(err == -ENOENT || err == -EINVAL))
		goto out;
	snprintf(path, sizeof(path), "%s/%s", pin_root, MF_MAP_STATS);
	pfd = bpf_obj_get(path);
	if (!ASSERT_GE(pfd, 0))
		goto out;
	close(pfd);
	ok = true;
out:
	lo_close(&c);
	return ok;
}

/* True once /proc/net/tcp (this namespace) shows a TIME_WAIT socket with
 * local TEST_VIP:80 and remote TEST_VIP:@sport, within TEST_TIMEOUT_MS. */
static bool wait_time_wait(uint16_t sport)
{
	char want[64], line[256];
	struct timespec t0, now;
	struct in_addr vip;
	bool found = false;
	FILE *f;

	inet_pton(AF_INET, TEST_VIP, &vip);
	/* /proc/net/tcp prints the address as the in-memory __be32 in hex. */
	snprintf(want, sizeof(want), "%08X:%04X %08X:%04X 06 ", vip.s_addr,
		 80, vip.s_addr, sport);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		f = fopen("/proc/net/tcp", "r");
		if (!f)
			return false;
		while (!found && fgets(line, sizeof(line), f))
			found = strstr(line, want) != NULL;
		fclose(f);
		if (found)
			return true;
		/* The last ACK crosses lo in softirq context; yield until it
		 * has. */
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - t0.tv_sec) * 1000 +
		 (now.tv_nsec - t0.tv_nsec) / 1000000 < TEST_TIMEOUT_MS);
	return false;
}

/* The counter @name of the line pair in @file (/proc/net/snmp: "Tcp:",
 * /proc/net/netstat: "TcpExt:") that starts with @prefix, of this
 * namespace; -1 when not found. */
static long long netstat_counter(const char *file, const char *prefix,
				 const char *name)
{
	char names[4096], values[4096];
	long long v = -1;
	FILE *f = fopen(file, "re");

	if (!f)
		return -1;
	while (v < 0 && fgets(names, sizeof(names), f) &&
	       fgets(values, sizeof(values), f)) {
		char *sn, *sv, *n, *val;

		if (strncmp(names, prefix, strlen(prefix)))
			continue;
		n = strtok_r(names, " \n", &sn);
		val = strtok_r(values, " \n", &sv);
		while ((n = strtok_r(NULL, " \n", &sn)) &&
		       (val = strtok_r(NULL, " \n", &sv)))
			if (!strcmp(n, name)) {
				v = strtoll(val, NULL, 10);
				break;
			}
	}
	fclose(f);
	return v;
}

/* A connection from @sport to TEST_VIP:80 that the accepting side closes
 * first, so that the tuple stays in TIME_WAIT there; the client's address
 * into *@src.  Assertions. */
static bool lo_time_wait(struct lo_conn *c, uint16_t sport, struct in_addr *src)
{
	struct sockaddr_in cl;
	socklen_t len = sizeof(cl);
	char ch;

	if (!lo_connect(c, sport) ||
	    !ASSERT_EQ(getsockname(c->cfd, (void *)&cl, &len), 0))
		return false;
	*src = cl.sin_addr;
	fd_close(&c->afd);
	if (!ASSERT_TRUE(wait_fd(c->cfd, POLLIN)) ||
	    !ASSERT_EQ(recv(c->cfd, &ch, 1, 0), 0))
		return false;
	fd_close(&c->cfd);
	return ASSERT_TRUE(wait_time_wait(sport));
}

/* The RSTs and SYN retransmits of this namespace so far, as one number
 * each (/proc/net/snmp, /proc/net/netstat). */
static bool tcp_resets(long long *rsts, long long *retrans)
{
	*rsts = netstat_counter("/proc/net/snmp", "Tcp:", "OutRsts");
	*retrans = netstat_counter("/proc/net/netstat", "TcpExt:",
				   "TCPSynRetrans");
	return ASSERT_GE(*rsts, 0) && ASSERT_GE(*retrans, 0);
}

/*
 * A new SYN whose 4-tuple still has a TIME_WAIT socket on the node (the agent
 * closed first, the pod reuses its source port) is taken by the agent's
 * listener at once when its source is a workload of the mesh: pod_steer
 * gives it to the TIME_WAIT socket, whose listener lookup mf_pod_sk_lookup
 * answers, so the stack retires that socket itself: no RST, no SYN sent
 * twice.  From any other source the lookup is the stack's own, which finds
 * no listener on the VIP's port (where a VIP is also a local address, a
 * node's own process reaches it as before): the TIME_WAIT socket ACKs the
 * old connection, the client resets it and sends its SYN again.
 */
static bool test_lo_syn_over_time_wait(void)
{
	const uint16_t sport = 41000, sport2 = 41001;
	struct mf_endpoint_key k = { .half = 0 };
	struct mf_endpoint ep = { .service_id = 1 };
	long long rsts, retrans, rsts1, retrans1;
	int efd = bpf_map__fd(skel->maps.mf_endpoints);
	struct stats before, d;
	struct in_addr src;
	struct lo_conn c;
	bool ok = false;

	CASE_PROLOGUE();
	if (!lo_open(&c) || !lo_time_wait(&c, sport, &src))
		goto out;
	/* Not a workload: one RST round, then the listener. */
	if (!tcp_resets(&rsts, &retrans) || !lo_connect(&c, sport) ||
	    !lo_send(&c, "x") || !tcp_resets(&rsts1, &retrans1) ||
	    !ASSERT_GE(rsts1 - rsts, 1) || !ASSERT_GE(retrans1 - retrans, 1))
		goto out;
	fd_close(&c.afd);
	fd_close(&c.cfd);

	/* A workload of the mesh: taken at once. */
	memcpy(k.ip, &src, sizeof(k.ip));
	if (!ASSERT_EQ(bpf_map_update_elem(efd, &k, &ep, BPF_ANY), 0) ||
	    !lo_time_wait(&c, sport2, &src))
		goto out;
	ok = tcp_resets(&rsts, &retrans) && ASSERT_TRUE(stats_read(&before)) &&
	     lo_connect(&c, sport2) && lo_send(&c, "x") &&
	     tcp_resets(&rsts1, &retrans1) && ASSERT_EQ(rsts1, rsts) &&
	     ASSERT_EQ(retrans1, retrans) && stats_since(&before, &d) &&
	     ASSERT_EQ(d.v[MF_STAT_POD_STEERED], 0) &&
	     ASSERT_GE(d.v[MF_STAT_POD_ESTABLISHED], 3) &&
	     ASSERT_EQ(d.v[MF_STAT_DROP_NO_LISTENER], 0) &&
	     ASSERT_EQ(d.v[MF_STAT_DROP_ASSIGN], 0);
out:
	bpf_map_delete_elem(efd, &k);
	lo_close(&c);
	return ok;
}

static bool test_kern_attach_missing_iface(void)
{
	struct kern *k = NULL;
	bool ok;

	CASE_PROLOGUE();
	if (!ASSERT_EQ(kern_open(&k, pin_root, NULL, TEST_PORT), 0))
		return false;
	ok = ASSERT_EQ(kern_attach_pod(k, "mfnosuch0"), -ENODEV);
	kern_close(k);
	return ok;
}

/* ---- setup ------------------------------------------------------------- */

static void setup(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_root);
	struct sigaction sa = { .sa_handler = cleanup_signal,
				.sa_flags = SA_RESETHAND };
	int err;

	ncpus = libbpf_num_possible_cpus();
	if (geteuid() != 0)
		setup_skip = "needs root (bpf, netns, bpffs)";
	else if (unshare(CLONE_NEWNET) < 0)
		setup_skip = "cannot create a network namespace";
	else if (lo_up() < 0)
		setup_skip = "cannot bring lo up in the test namespace";
	/* A node forwards between its pods and the wire; the programs' FIB
	 * lookups see that the forwarding way. */
	else if (system("sysctl -qw net.ipv4.ip_forward=1") != 0)
		setup_skip = "cannot turn forwarding on in the test namespace";
	/* A pod veth stand-in, mfv0, TEST_POD routed through it, and the
	 * other node's pod range through its peer, mfv1: the wire. */
	else if (system("ip link add mfv0 type veth peer name mfv1 && "
			"ip link set mfv0 up && ip link set mfv1 up && "
			"ip route add " TEST_POD "/32 dev mfv0 && "
			"ip route add 10.78.2.0/24 dev mfv1") != 0)
		setup_skip = "cannot make a veth pair in the test namespace";
	else if (!bh_bpffs_ready())
		setup_skip = "bpffs is not mounted and cannot be mounted";
	else if (ncpus <= 0)
		setup_skip = "cannot count possible CPUs";
	if (setup_skip)
		return;

	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/mf-test-pod-%d",
		 (int)getpid());
	atexit(cleanup_atexit);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	if (mkdir(pin_root, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "mkdir %s: %s\n", pin_root, strerror(errno));
		return;		/* skel stays NULL: every case fails */
	}

	skel = mf_pod__open_opts(&oopts);
	if (!skel) {
		fprintf(stderr, "mf_pod__open_opts: %s\n", strerror(errno));
		return;
	}
	skel->rodata->mf_outbound_port = TEST_PORT;
	err = mf_pod__load(skel);
	if (err) {
		fprintf(stderr, "mf_pod__load: %s\n", strerror(-err));
		goto fail;
	}
	xskel = mf_xdp__open_opts(&oopts);
	if (!xskel || mf_xdp__load(xskel)) {
		fprintf(stderr, "mf_xdp load: %s\n", strerror(errno));
		mf_xdp__destroy(xskel);
		xskel = NULL;	/* its cases fail */
	}
	err = route_add_local_vips();
	if (err)
		fprintf(stderr, "route add local %s/%d: %s\n", TEST_VIP_NET,
			TEST_VIP_PLEN, strerror(-err));
	if (service_add(TEST_VIP, 80, 0) ||
	    service_add(TEST_VIP_NOLS, 80, 0)) {
		fprintf(stderr, "mf_services update: %s\n", strerror(errno));
		goto fail;
	}
	return;
fail:
	mf_pod__destroy(skel);
	skel = NULL;
}

/* ---- cost per packet (make bench) ------------------------------------------ */

#define BENCH_REPEAT	1000000u

/* An empty program of @type that returns @ret: what a hook costs with no
 * work in it.  Returns its fd or -errno. */
static int bench_empty_prog(enum bpf_prog_type type, int ret)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(type, NULL, "GPL", insns, 2, NULL);
}

/* The mean ns per run of program @fd on @f, or the IPv6 frame @f6 when
 * not NULL (mark @mark, device @ifindex) over BENCH_REPEAT runs; < 0 on
 * failure. */
static double bench_ns(int fd, const struct frame *f, __u32 mark,
		       int ifindex, bool xdp, const struct frame6 *f6)
{
	struct pkt p;
	unsigned char out[sizeof(p.b)];
	struct __sk_buff ctx = { .mark = mark, .ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = BENCH_REPEAT);

	if (f6)
		pkt6_build(&p, f6);
	else
		pkt_build(&p, f);
	topts.data_in = p.b;
	topts.data_size_in = p.len;
	if (!xdp) {
		topts.ctx_in = &ctx;
		topts.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(fd, &topts))
		return -1;
	return (double)topts.duration;
}

/* Prints, as JSON lines, each program's ns per packet on its common
 * paths, and what it adds over an empty program of its hook. */
static int bench_main(void)
{
	const struct frame plain = { .daddr = "10.78.2.99", .ack = true };
	const struct frame udp = { .proto = IPPROTO_UDP, .l4_len = 32,
				   .daddr = "10.78.2.99" };
	const struct frame syn_svc = {};
	const struct frame data_svc = { .ack = true };
	const struct frame to_pod = { .saddr = TEST_PEER, .daddr = TEST_POD,
				      .sport = 8080, .dport = 41000,
				      .ack = true };
	const struct frame wire = { .saddr = "198.51.100.50",
				    .daddr = "10.77.0.1", .ack = true };
	const struct frame pod_syn = { .daddr = TEST_PEER, .dport = 8080,
				       .sport = 41000 };
	const struct frame syn_out_mesh = { .daddr = "10.99.1.5",
					    .dport = 80 };
	const struct frame syn_out_prof = { .daddr = "10.99.3.5",
					    .dport = 80 };
	const struct frame6 plain6 = { "2001:db8:9::5", 8080, true, 0, 0xff };
	const struct frame6 syn6_net = { "2001:db8:1:2::9", 8080, false, 0,
					 0xff };
	const struct frame6 syn6_dom = { "2001:db8:9::5", 443, false, 0,
					 0xff };
	struct { const char *name; int prog; const struct frame *f;
		 __u32 mark; bool pod_if, xdp; int mode; bool fw;
		 bool pt, pf; const struct frame6 *f6; } c[] = {
		{ "tc_ingress_plain_tcp", 0, &plain, 0, true, false, -1, false,
		  false, false, NULL },
		/* The same segment under Matched with a Domain match (on
		 * another port): what segments that are not SYNs to
		 * destinations outside the mesh pay for the check. */
		{ "tc_ingress_plain_tcp_pt_domains", 0, &plain, 0, true,
		  false, -1, false, true, false, NULL },
		/* ... and when the source pod has a MeshPassthrough of its
		 * own (a profile with Domain matches): its endpoint is
		 * looked up too. */
		{ "tc_ingress_plain_tcp_pt_profile", 0, &plain, 0, true,
		  false, -1, false, true, true, NULL },
		/* A SYN outside the mesh that the Mesh's network admits,
		 * and one the source's own profile admits. */
		{ "tc_ingress_syn_outside_pt_mesh", 0, &syn_out_mesh, 0, true,
		  false, -1, false, true, false, NULL },
		{ "tc_ingress_syn_outside_pt_profile", 0, &syn_out_prof, 0,
		  true, false, -1, false, true, true, NULL },
		/* IPv6: a segment of an open connection under Matched
		 * without and with Domain matches (on another port; the
		 * latter walks the IPv6 networks and the Domain ports), and
		 * a SYN an IPv6 network admits. */
		{ "tc_ingress_plain_tcp6_pt", 0, NULL, 0, true, false, -1,
		  false, false, false, &plain6 },
		{ "tc_ingress_plain_tcp6_pt_domains", 0, NULL, 0, true, false,
		  -1, false, true, false, &plain6 },
		{ "tc_ingress_syn6_outside_pt_mesh", 0, NULL, 0, true, false,
		  -1, false, true, false, &syn6_net },
		/* An IPv6 SYN to a Domain port, to the agent's IPv6
		 * listener: its pod is noted for the agent. */
		{ "tc_ingress_syn6_domain_steered", 0, NULL, 0, true, false,
		  -1, false, true, false, &syn6_dom },
		{ "tc_ingress_udp_flow_noted", 0, &udp, 0, true, false, -1,
		  false, false, false, NULL },
		{ "tc_ingress_syn_to_service", 0, &syn_svc, 0, false, false,
		  -1, false, false, false, NULL },
		{ "tc_ingress_segment_to_service", 0, &data_svc, 0, false,
		  false, -1, false, false, false, NULL },
		{ "tc_egress_no_mtls", 1, &to_pod, 0, false, false, 0, false,
		  false, false, NULL },
		{ "tc_egress_strict_return", 1, &to_pod, 0, false, false,
		  MF_MTLS_STRICT, false, false, false, NULL },
		{ "tc_egress_strict_agent", 1, &to_pod, MF_SKB_MARK_AGENT,
		  false, false, MF_MTLS_STRICT, false, false, false, NULL },
		{ "xdp_no_firewall", 2, &wire, 0, false, true, -1, false,
		  false, false, NULL },
		{ "xdp_per_source_rates", 2, &wire, 0, false, true, -1, true,
		  false, false, NULL },
	};
	struct run r;
	int empty_tc = bench_empty_prog(BPF_PROG_TYPE_SCHED_CLS, TC_ACT_OK);
	int empty_xdp = bench_empty_prog(BPF_PROG_TYPE_XDP, XDP_PASS);
	double base_tc, base_xdp;
	bool ok = true;
	int lfd6;

	if (setup_skip || !skel || !xskel || empty_tc < 0 || empty_xdp < 0) {
		fprintf(stderr, "bench: cannot set up: %s\n",
			setup_skip ? setup_skip : "programs did not load");
		return 2;
	}
	base_tc = bench_ns(empty_tc, &plain, 0, 0, false, NULL);
	base_xdp = bench_ns(empty_xdp, &wire, 0, 0, true, NULL);
	/* The agent's IPv6 listener, for the steered IPv6 SYN. */
	lfd6 = listener6_open(TEST_PORT);
	/* The return flow the egress cases hit. */
	ok = lfd6 >= 0 &&
	     frame_run(bpf_program__fd(skel->progs.mf_pod_ingress), &pod_syn,
		       0, &r);
	for (size_t i = 0; ok && i < sizeof(c) / sizeof(c[0]); i++) {
		int fd = c[i].prog == 0 ?
			 bpf_program__fd(skel->progs.mf_pod_ingress) :
			 c[i].prog == 1 ?
			 bpf_program__fd(skel->progs.mf_pod_egress) :
			 bpf_program__fd(xskel->progs.mf_xdp);
		double ns, base = c[i].xdp ? base_xdp : base_tc;

		if (c[i].mode >= 0)
			ok = config_set_mode((__u8)c[i].mode, NULL);
		ok = ok && fw_set("", c[i].fw ? 1000000000u : 0,
				  c[i].fw ? 1000000000u : 0) &&
		     pt_set(c[i].pt || c[i].f6 ? MF_PASSTHROUGH_MATCHED : 0,
			    c[i].pt ? 443 : 0) &&
		     pt6_set(c[i].f6 != NULL) &&
		     pt_profile_set(MF_PASSTHROUGH_MATCHED, c[i].pf) &&
		     pt_source_set(TEST_POD, c[i].pf);
		ns = bench_ns(fd, c[i].f, c[i].mark,
			      c[i].pod_if ? pod_veth_ifindex() : 0, c[i].xdp,
			      c[i].f6);
		if (ns < 0) {
			ok = false;
			break;
		}
		printf("{\"case\": \"%s\", \"ns_per_packet\": %.1f, "
		       "\"empty_ns\": %.1f, \"added_ns\": %.1f}\n",
		       c[i].name, ns, base, ns - base);
	}
	config_set_mode(0, NULL);
	fw_set("", 0, 0);
	pt_reset();
	if (lfd6 >= 0)
		close(lfd6);
	close(empty_tc);
	close(empty_xdp);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	TEST_MAIN_BEGIN();
	setup();
	if (argc > 1 && !strcmp(argv[1], "--bench"))
		return bench_main();
	TEST_RUN(test_syn_to_service_is_steered);
	TEST_RUN(test_ip_options_steered);
	TEST_RUN(test_listener_on_default_port_not_used);
	TEST_RUN(test_unregistered_dst_passes);
	TEST_RUN(test_same_vip_other_port_passes);
	TEST_RUN(test_udp_passes);
	TEST_RUN(test_non_ipv4_passes);
	TEST_RUN(test_truncated_passes);
	TEST_RUN(test_fragment_passes);
	TEST_RUN(test_no_listener_dropped);
	TEST_RUN(test_active_half_honored);
	TEST_RUN(test_spoofed_source_dropped);
	TEST_RUN(test_fragment_for_node_dropped);
	TEST_RUN(test_passthrough_domain_steered);
	TEST_RUN(test_passthrough_profile);
	TEST_RUN(test_passthrough_ipv6);
	TEST_RUN(test_passthrough_ipv6_domain_steered);
	TEST_RUN(test_passthrough_ipv6_pod_noted);
	TEST_RUN(test_conn_rate_held);
	TEST_RUN(test_conn_buckets_bounded);
	TEST_RUN(test_xdp_deny);
	TEST_RUN(test_xdp_rates);
	TEST_RUN(test_xdp_rate_over_time);
	TEST_RUN(test_to_pod_open_without_mtls);
	TEST_RUN(test_to_pod_strict);
	TEST_RUN(test_to_pod_strict_return_traffic);
	TEST_RUN(test_to_pod_strict_exempt_icmp_arp);
	TEST_RUN(test_to_pod_permissive_then_strict);
	TEST_RUN(test_to_pod_meshtls_mode);
	TEST_RUN(test_lo_intercepts_connect);
	TEST_RUN(test_lo_syn_over_time_wait);
	TEST_RUN(test_kern_attach_missing_iface);
	TEST_MAIN_END();
}
