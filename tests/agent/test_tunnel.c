// SPDX-License-Identifier: Apache-2.0
/*
 * The outbound and inbound flows in one process, on loopback, without BPF:
 * one loop plays the agent of node "node-t" with a fixed policy snapshot and
 * certificates made at test time with the openssl CLI (removed at the end).
 * A client bound to a workload's address dials "VIP:port" (the outbound
 * listener on a 127.0.0.x address), the loop tunnels over mTLS to its own
 * tunnel listener, which authorizes and connects to the upstream server.
 *
 * Also drives the tunnel listener directly with a TLS client built from the
 * agent's own tls/certs modules, to send PROXY headers the outbound side
 * would never send, and to present certificates that break an X.509-SVID
 * rule (lib/svid.h), signed by the CA the agent trusts: each is refused at
 * the tunnel port with the rule in the log line and in the counters, as is
 * a node certificate that breaks one on the outbound side; chains through
 * an intermediate CA pass on both ends.
 *
 * An endpoint of its own node the agent dials itself (no tunnel): the
 * source's certificate is judged there as the tunnel's handshake judges
 * it, a revoked and an expired one refused with the tunnel's reason and
 * counters, both ways run on the same config dir.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/pki_harness.h"
#include "harness/loop_harness.h"
#include "harness/records_harness.h"
#include "harness/tls_sock_harness.h"
#include "../../agent/certs.h"
#include "../../agent/conn.h"
#include "../../agent/loop.h"
#include "../../agent/tls.h"
#include "../../ctl/pki.h"
#include "der.h"
#include "fsio.h"
#include "log.h"
#include "proxyv2.h"
#include "svid.h"

#define TD		"mesh.local"
#define ID_CLIENT	"spiffe://" TD "/ns/default/sa/client"
#define ID_INTRUDER	"spiffe://" TD "/ns/default/sa/intruder"
#define ID_WEB		"spiffe://" TD "/ns/default/sa/web"
#define ID_NODE		"spiffe://" TD "/ns/meshforge-system/sa/node-t"

/* Addresses: all of 127.0.0.0/8 is local on Linux. */
#define IP_CLIENT	"127.0.0.11"	/* workload with ID_CLIENT */
#define IP_INTRUDER	"127.0.0.12"	/* workload with ID_INTRUDER */
#define IP_STRANGER	"127.0.0.99"	/* no workload */
#define IP_WEB		"127.0.0.21"	/* web endpoint on node-t */
#define IP_STRAY	"127.0.0.31"	/* endpoint on node-x */
#define IP_NODE_T	"127.0.0.1"	/* node-t's address (this agent) */
#define IP_NODE_X	"127.0.0.2"	/* node-x's: also reaches this agent */
#define VIP_WEB		"127.0.0.5"	/* service web */
#define VIP_STRAY	"127.0.0.6"	/* service stray: its node lies */
#define VIP_EMPTY	"127.0.0.7"	/* service with no endpoints */
#define VIP_NONE	"127.0.0.8"	/* not a service */
#define VIP_API		"127.0.0.4"	/* service api: HTTP */
#define IP_API		"127.0.0.22"	/* api endpoint on node-t */
#define VIP_VETTED	"127.0.0.3"	/* service vetted: its MeshService's
					 * identities leave its one endpoint
					 * out */
#define IP_VETTED	"127.0.0.23"	/* that endpoint, on node-t */

static char dir[64];
static bool have_certs;
/* The agent dials endpoints of its own node itself (no self-tunnel). */
static bool same_node;
static uint16_t port_out, port_tun, port_srv;
static struct policy *pol;
static struct certs *certs;

/* certs/<stem>.crt|.key (subject /CN=leaf) for a leaf signed by ca, whose
 * URI SAN is @san. */
static int make_leaf(const char *stem, const char *san)
{
	char out[192], uri[192];
	int n, m;

	n = snprintf(out, sizeof(out), "certs/%s", stem);
	m = snprintf(uri, sizeof(uri), "URI:%s", san);
	if (n < 0 || (size_t)n >= sizeof(out) || m < 0 ||
	    (size_t)m >= sizeof(uri))
		return -1;
	return ph_make_leaf(dir, "ca", out, "leaf", uri);
}

#define STEM_CLIENT	"mesh.local+ns+default+sa+client"
#define STEM_NODE	"mesh.local+ns+meshforge-system+sa+node-t"

/* Intermediate CAs under ca: int is proper; int-soft's keyUsage is not
 * critical (wolfSSL takes it, the X.509-SVID rules do not); int-not-ca
 * says cA false; int-id names the client. */
static const struct {
	const char *stem, *ext;
	enum svid_rule rule;	/* of a leaf it signs, with it */
} int_cas[] = {
	{ "int", "basicConstraints=critical,CA:TRUE,pathlen:0\n"
	  "keyUsage=critical,keyCertSign,cRLSign\n", SVID_OK },
	{ "int-soft", "basicConstraints=critical,CA:TRUE\n"
	  "keyUsage=keyCertSign,cRLSign\n", SVID_KEY_USAGE_NOT_CRITICAL },
	{ "int-not-ca", "basicConstraints=critical,CA:FALSE\n"
	  "keyUsage=critical,keyCertSign\n", SVID_CA_NOT_CA },
	/* A SPIFFE ID of its own, the client's: allowed, and nobody's. */
	{ "int-id", "basicConstraints=critical,CA:TRUE\n"
	  "keyUsage=critical,keyCertSign,cRLSign\n"
	  "subjectAltName=URI:" ID_CLIENT "\n", SVID_OK },
};

/* Node certificates an outbound connection meets: out-<name>/ is a
 * config dir whose node-t certificate is ph_svid_cases' @name (via-int:
 * both its certificates come through int). */
static const char *const out_cases[] = { "leaf-ca", "client-only",
					 "dns-too", "via-int" };

static const struct ph_svid_case *svid_case(const char *name)
{
	for (size_t i = 0; i < PH_SVID_NCASES; i++)
		if (!strcmp(ph_svid_cases[i].name, name))
			return &ph_svid_cases[i];
	return NULL;
}

/* A leaf @out_stem for @id signed by intermediate @ca, the intermediate
 * appended: the chain a peer sends. */
static int make_via(const char *ca, const char *out_stem, const char *id)
{
	return ph_make_signed(dir, ca, out_stem, "/CN=svid",
			      PH_BC PH_KU PH_EKU PH_URI, id, 2) ||
	       ph_sh("cd %s && cat %s.crt >> %s.crt", dir, ca, out_stem);
}

/* svid/<case>.crt|.key for ID_CLIENT, one per ph_svid_cases, and
 * svid/via-<int>; the out-<name>/ config dirs. */
static bool make_svid_certs(void)
{
	char stem[192];

	if (ph_sh("cd %s && mkdir svid", dir))
		return false;
	for (size_t i = 0; i < PH_SVID_NCASES; i++)
		if (ph_make_svid(dir, "ca", "svid/", &ph_svid_cases[i],
				 ID_CLIENT))
			return false;
	for (size_t i = 0; i < sizeof(int_cas) / sizeof(int_cas[0]); i++) {
		snprintf(stem, sizeof(stem), "svid/via-%s", int_cas[i].stem);
		if (ph_make_signed(dir, "ca", int_cas[i].stem, "/CN=int",
				   int_cas[i].ext, ID_CLIENT, 2) ||
		    make_via(int_cas[i].stem, stem, ID_CLIENT))
			return false;
	}
	if (make_via("int-id", "svid/intruder-via-int-id", ID_INTRUDER))
		return false;
	for (size_t i = 0; i < sizeof(out_cases) / sizeof(out_cases[0]); i++) {
		const struct ph_svid_case *c = svid_case(out_cases[i]);
		const char *o = out_cases[i];
		int err;

		if (ph_sh("cd %s && mkdir -p out-%s/certs && cp ca.crt out-%s/ && "
			  "cp certs/" STEM_CLIENT ".* out-%s/certs/", dir, o, o,
			  o))
			return false;
		snprintf(stem, sizeof(stem), "out-%s/certs/" STEM_NODE, o);
		if (c) {
			err = ph_make_signed(dir, "ca", stem, c->subj, c->ext,
					     ID_NODE, c->days);
		} else {
			err = make_via("int", stem, ID_NODE);
			snprintf(stem, sizeof(stem), "out-%s/certs/" STEM_CLIENT,
				 o);
			err = err || make_via("int", stem, ID_CLIENT);
		}
		if (err)
			return false;
	}
	return true;
}

static bool make_certs(void)
{
	if (!ph_have_openssl())
		return false;
	snprintf(dir, sizeof(dir), "/tmp/mf-test-tunnel-XXXXXX");
	if (!mkdtemp(dir))
		return false;
	return ph_sh("cd %s && mkdir certs", dir) == 0 &&
	       ph_make_ca(dir, "ca", "mf-test-ca") == 0 &&
	       make_leaf(STEM_CLIENT, ID_CLIENT) == 0 &&
	       make_leaf("mesh.local+ns+default+sa+intruder", ID_INTRUDER) == 0 &&
	       make_leaf(STEM_NODE, ID_NODE) == 0 && make_svid_certs();
}

/* Flags endpoint @ip of @rs with @flags too. */
static bool flag_endpoint(struct rec_set *rs, const char *ip, uint32_t flags)
{
	struct mf_endpoint_key k = { .half = 0 };
	struct mf_endpoint *v;
	long i;

	if (!rh_ip(k.ip, ip))
		return false;
	i = rec_find(rs, REC_ENDPOINTS, &k);
	if (i < 0)
		return false;
	v = rec_val(rs, REC_ENDPOINTS, (size_t)i);
	v->flags |= flags;
	return true;
}

/* The mesh the tests run in (see the addresses above), on the ports this
 * run found free.  Built by hand: mfctl refuses loopback addresses.
 * Services web 1, stray 2, empty 3, clients 4, api 5 (HTTP), vetted 6;
 * identities client 1, intruder 2, web 3. */
static struct policy *make_policy(void)
{
	struct rec_set rs;
	bool ok;

	rec_set_init(&rs);
	ok = rh_mesh(&rs, 1, "default", TD) &&
	     rh_service(&rs, 1, "web", VIP_WEB, port_out, 1) &&
	     rh_service(&rs, 2, "stray", VIP_STRAY, port_out, 0) &&
	     rh_service(&rs, 3, "empty", VIP_EMPTY, port_out, 0) &&
	     rh_service(&rs, 4, "clients", "127.0.0.9", port_out, 0) &&
	     rh_service_flags(&rs, 5, "api", VIP_API, port_out, 1,
			      MF_SERVICE_F_HTTP) &&
	     rh_endpoint(&rs, IP_API, port_srv, "api1", 5, 3, IP_NODE_T,
			 port_tun) &&
	     rh_endpoint(&rs, IP_CLIENT, 9, "client", 4, 1, IP_NODE_T,
			 port_tun) &&
	     rh_endpoint(&rs, IP_INTRUDER, 9, "intruder", 4, 2, IP_NODE_T,
			 port_tun) &&
	     rh_endpoint(&rs, IP_WEB, port_srv, "web1", 1, 3, IP_NODE_T,
			 port_tun) &&
	     rh_endpoint(&rs, IP_STRAY, port_srv, "stray1", 2, 3, IP_NODE_X,
			 port_tun) &&
	     rh_service(&rs, 6, "vetted", VIP_VETTED, port_out, 0) &&
	     rh_endpoint(&rs, IP_VETTED, port_srv, "vetted1", 6, 3, IP_NODE_T,
			 port_tun) &&
	     flag_endpoint(&rs, IP_VETTED, MF_ENDPOINT_F_UNLISTED) &&
	     rh_node(&rs, "node-t", IP_NODE_T, port_tun) &&
	     rh_node(&rs, "node-x", IP_NODE_X, port_tun) &&
	     rh_identity(&rs, 1, ID_CLIENT) &&
	     rh_identity(&rs, 2, ID_INTRUDER) &&
	     rh_identity(&rs, 3, ID_WEB) &&
	     rh_rule(&rs, 1, 0, MF_AUTHZ_ALLOW, MF_AUTHZ_MATCH_EXACT,
		     "web-allow", ID_CLIENT) &&
	     rh_rule(&rs, 5, 0, MF_AUTHZ_ALLOW, MF_AUTHZ_MATCH_EXACT,
		     "api-allow", ID_CLIENT);
	return rh_snapshot(&rs, ok);
}

/* ---- the loop in a thread ------------------------------------------------ */

/* The agent of node-t with the identities of @cs. */
static bool start_certs(struct lh_loop *h, struct certs *cs)
{
	if (!ASSERT_TRUE(pol != NULL))
		return false;
	memset(h, 0, sizeof(*h));
	h->cfg.node = "node-t";
	h->cfg.policy = pol;
	h->cfg.certs = cs;
	h->cfg.listen_addr = htonl(INADDR_ANY);
	h->cfg.outbound_port = port_out;
	h->cfg.tunnel_port = port_tun;
	h->cfg.handle_signals = true;
	h->cfg.max_conns = 256;
	h->cfg.setup_timeout_ms = 500;
	/* These cases test the tunnel: node-t's endpoints go through it
	 * as another node's would (test_same_node dials them itself). */
	h->cfg.self_tunnel = !same_node;
	return lh_loop_start(h);
}

static bool start(struct lh_loop *h)
{
	return start_certs(h, certs);
}

/* ---- sockets ------------------------------------------------------------- */

/* Connects from @src (port chosen by the kernel) to @dst:@port. */
static int dial(const char *src, const char *dst, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sockaddr_in da = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, src, &sa.sin_addr);
	inet_pton(AF_INET, dst, &da.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    connect(fd, (struct sockaddr *)&da, sizeof(da))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	lh_set_timeout(fd, 5000);
	return fd;
}

static int server_listener(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port_srv) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	inet_pton(AF_INET, IP_WEB, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 64))
		return -1;
	return fd;
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 13 + (i >> 11));
}

/* A case's agent and the server behind it: the loop, the server's
 * listener and one client connection c with the server's end s (-1 when
 * not open). */
struct tun {
	struct lh_loop h;
	int lfd, c, s;
};

static bool tun_start(struct tun *t)
{
	t->c = t->s = -1;
	t->lfd = server_listener();
	return ASSERT_GE(t->lfd, 0) && start(&t->h);
}

/* Opens t->c from the client to the web service, and accepts t->s. */
static bool tun_dial(struct tun *t)
{
	t->c = dial(IP_CLIENT, VIP_WEB, port_out);
	t->s = lh_accept_timeout(t->lfd, 5000);
	return ASSERT_GE(t->c, 0) && ASSERT_GE(t->s, 0);
}

static void tun_stop(struct tun *t)
{
	if (t->c >= 0)
		close(t->c);
	if (t->s >= 0)
		close(t->s);
	lh_loop_stop(&t->h);
	close(t->lfd);
}

/* ---- a TLS client talking to the tunnel port directly -------------------- */

/* Handshakes with the tunnel listener on client context @ctx (the
 * caller's reference, which this takes; NULL: none could be made), asking
 * for server name @sni (NULL: none).  Returns the session and *fd, or
 * NULL. */
static struct tls_sess *tc_open_ctx_sni(struct tls_ctx *ctx, int *fd,
					const char *sni)
{
	struct tls_sess *s = NULL;
	int err = -EINVAL;

	*fd = dial("127.0.0.1", "127.0.0.1", port_tun);
	if (*fd >= 0 && ctx)
		err = tls_sess_new(&s, ctx);
	if (!err)
		err = tls_sess_use_sni(s, sni);
	if (ctx)
		tls_ctx_put(ctx);	/* the session holds its own */
	if (err)
		goto fail;
	if (ts_handshake(s, *fd) == 0)
		return s;
fail:
	tls_sess_free(s);
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return NULL;
}

static struct tls_sess *tc_open_ctx(struct tls_ctx *ctx, int *fd)
{
	return tc_open_ctx_sni(ctx, fd, NULL);
}

/* Handshakes with the tunnel listener as @id, from the identity store. */
static struct tls_sess *tc_open(const char *id, int *fd)
{
	struct tls_ctx *ctx = NULL;

	if (certs_client_ctx(certs, id, NULL, &ctx))
		ctx = NULL;
	return tc_open_ctx(ctx, fd);
}

/* Handshakes with the tunnel listener with certificate chain @stem.crt
 * of dir and its key, trusting ca.crt. */
static struct tls_sess *tc_open_files(const char *stem, int *fd)
{
	char ca[128], crt[192], key[192];
	struct tls_ctx *ctx = NULL;

	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/%s.crt", dir, stem);
	snprintf(key, sizeof(key), "%s/%s.key", dir, stem);
	if (tls_ctx_new(&ctx, TLS_ROLE_CLIENT, ca, crt, key))
		ctx = NULL;
	return tc_open_ctx(ctx, fd);
}

/* Sends a PROXY header for src IP_CLIENT, dst @dst:@port through @s. */
static bool tc_send_header(struct tls_sess *s, int fd, const char *dst,
			   uint16_t port)
{
	struct pp2_info info;
	uint8_t hdr[PP2_MAX_HEADER];
	ssize_t n;

	memset(&info, 0, sizeof(info));
	info.src.sin_family = AF_INET;
	inet_pton(AF_INET, IP_CLIENT, &info.src.sin_addr);
	info.src.sin_port = htons(40000);
	info.dst.sin_family = AF_INET;
	inet_pton(AF_INET, dst, &info.dst.sin_addr);
	info.dst.sin_port = htons(port);
	n = pp2_encode(&info, hdr, sizeof(hdr));
	return n > 0 && tls_write(s, hdr, (size_t)n) == n && ts_flush(s, fd);
}

/* ---- cases ---------------------------------------------------------------- */

/* The allowed path end to end: bytes both ways, big transfers, and a
 * half-close that crosses the tunnel as close_notify and comes out as FIN. */
static bool test_allowed_relay(void)
{
	struct tun t;
	char buf[16];
	bool ok = false;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!tun_start(&t))
		return false;
	t.c = dial(IP_CLIENT, VIP_WEB, port_out);
	/* Bytes sent before the tunnel is up must wait, not vanish. */
	if (!ASSERT_GE(t.c, 0) || !ASSERT_EQ(write(t.c, "early", 5), 5))
		goto out;
	t.s = lh_accept_timeout(t.lfd, 5000);
	if (!ASSERT_GE(t.s, 0) || !ASSERT_TRUE(lh_read_exact(t.s, buf, 5)) ||
	    !ASSERT_MEMEQ(buf, "early", 5) ||
	    !ASSERT_EQ(write(t.s, "hi", 2), 2) ||
	    !ASSERT_TRUE(lh_read_exact(t.c, buf, 2)) ||
	    !ASSERT_MEMEQ(buf, "hi", 2))
		goto out;
	if (!lh_pump_bytes(t.c, t.s, 8u << 20, pattern) ||
	    !lh_pump_bytes(t.s, t.c, 8u << 20, pattern))
		goto out;
	if (!ASSERT_EQ(shutdown(t.c, SHUT_WR), 0) ||
	    !ASSERT_EQ(read(t.s, buf, sizeof(buf)), 0) ||
	    !ASSERT_EQ(write(t.s, "bye", 3), 3) ||
	    !ASSERT_TRUE(lh_read_exact(t.c, buf, 3)) ||
	    !ASSERT_MEMEQ(buf, "bye", 3))
		goto out;
	close(t.s);
	t.s = -1;
	if (!ASSERT_EQ(lh_recv_err(t.c), 0))
		goto out;
	ok = true;
out:
	tun_stop(&t);
	/* Two connections: the outbound one and the inbound one. */
	return ok && ASSERT_EQ(t.h.stats.relayed, 2) &&
	       ASSERT_EQ(t.h.stats.finished, 2) &&
	       ASSERT_EQ(t.h.stats.aborted, 0);
}

/* The API workload's server: listening on IP_API:port_srv.  The fd, or
 * -1. */
static int api_listen(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port_srv) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	inet_pton(AF_INET, IP_API, &sa.sin_addr);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * An HTTP service: three client connections in a row, each one request
 * that asks to close, ride one mTLS connection between the agents (the
 * pool), so the server sees one connection carrying all three requests,
 * and there is one handshake (client and server side) for all of them.
 */
static bool test_http_pool(void)
{
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	int lfd, s = -1;
	char buf[512];
	bool ok = true;
	struct lh_loop h;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	lfd = api_listen();
	if (!ASSERT_GE(lfd, 0) || !start(&h)) {
		close(lfd);
		return false;
	}
	for (int i = 0; ok && i < 3; i++) {
		int c = dial(IP_CLIENT, VIP_API, port_out);

		static const char req[] = "GET /x HTTP/1.1\r\nHost: api\r\n"
					  "Connection: close\r\n\r\n";

		ok = ASSERT_GE(c, 0) &&
		     ASSERT_EQ(write(c, req, sizeof(req) - 1), sizeof(req) - 1);
		/* The server: one connection, accepted the first time. */
		if (ok && s < 0) {
			s = lh_accept_timeout(lfd, 5000);
			ok = ASSERT_GE(s, 0);
		}
		/* The request as forwarded, up to its end. */
		ok = ok && ASSERT_TRUE(lh_read_head(s, buf, sizeof(buf)));
		ok = ok && ASSERT_TRUE(strncmp(buf, "GET /x HTTP/1.1\r\n", 17) == 0) &&
		     ASSERT_TRUE(strstr(buf, "onnection: close") == NULL) &&
		     ASSERT_EQ(write(s, rsp, sizeof(rsp) - 1), sizeof(rsp) - 1);
		if (ok)
			lh_read_all(c, buf, sizeof(buf));
		ok = ok && ASSERT_TRUE(strstr(buf, "\r\n\r\nok") != NULL) &&
		     ASSERT_TRUE(strstr(buf, "\r\nConnection: close\r\n") != NULL);
		if (c >= 0)
			close(c);
	}
	/* No second connection reached the server. */
	ok = ok && ASSERT_EQ(lh_accept_timeout(lfd, 200), -1);
	if (s >= 0)
		close(s);
	lh_loop_stop(&h);
	close(lfd);
	return ok && ASSERT_EQ(h.stats.tls_ok, 2) &&
	       ASSERT_EQ(h.stats.pool_parked, 3) &&
	       ASSERT_EQ(h.stats.pool_reused, 2) &&
	       ASSERT_EQ(h.stats.http_requests, 3);
}

/* A reset at either end comes out of the tunnel as a reset at the other. */
static bool test_resets_cross_tunnel(void)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct tun t;
	bool ok = false;
	char b;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!tun_start(&t))
		return false;
	for (int round = 0; round < 2; round++) {
		int *killer = round ? &t.s : &t.c, *victim = round ? &t.c : &t.s;

		if (!tun_dial(&t) || !ASSERT_EQ(write(t.c, "x", 1), 1) ||
		    !ASSERT_TRUE(lh_read_exact(t.s, &b, 1)))
			goto out;
		setsockopt(*killer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(*killer);
		*killer = -1;
		if (!ASSERT_EQ(lh_recv_err(*victim), -ECONNRESET))
			goto out;
		close(*victim);
		*victim = -1;
	}
	ok = true;
out:
	tun_stop(&t);
	return ok && ASSERT_EQ(t.h.stats.aborted, 4);
}

/* A server that stops reading: the writer is held back through both hops
 * and the tunnel, with no more than one ring buffer per direction held at
 * any time, and nothing is lost once the server reads again. */
static bool test_tunnel_backpressure(void)
{
	struct tun t;
	size_t sent;
	bool ok;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!tun_start(&t))
		return false;
	ok = tun_dial(&t);
	if (ok) {
		sent = lh_fill(t.c, pattern);
		ok = ASSERT_TRUE(sent > 0) && ASSERT_TRUE(sent < (256u << 20)) &&
		     lh_read_pattern(t.s, sent, pattern);
	}
	tun_stop(&t);
	/* Two connections (outbound, inbound), two directions each. */
	return ok && ASSERT_TRUE(t.h.loop_stats.bufs_out_max <= 4);
}

/* Refusals on the outbound side: each a reset, and the loop carries on. */
static bool test_outbound_refusals(void)
{
	static const struct { const char *src, *dst; } cases[] = {
		{ IP_STRANGER, VIP_WEB },	/* unknown source */
		{ IP_CLIENT, VIP_NONE },	/* unknown service */
		{ IP_CLIENT, VIP_EMPTY },	/* no endpoints */
		/* node-x's address reaches this agent, which answers as
		 * node-t. */
		{ IP_CLIENT, VIP_STRAY },
		{ IP_INTRUDER, VIP_WEB },	/* not authorized on the far side */
		/* A workload of node-x: no pod of this node has its
		 * address, whatever identity it has. */
		{ IP_STRAY, VIP_WEB },
		/* Its one endpoint's identity is not its MeshService's. */
		{ IP_CLIENT, VIP_VETTED },
	};
	struct tun t;
	bool ok = true;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!tun_start(&t))
		return false;
	for (size_t i = 0; ok && i < sizeof(cases) / sizeof(cases[0]); i++) {
		t.c = dial(cases[i].src, cases[i].dst, port_out);
		if (!ASSERT_GE(t.c, 0)) {
			ok = false;
			break;
		}
		if (!ASSERT_EQ(lh_recv_err(t.c), -ECONNRESET)) {
			fprintf(stderr, "case %zu: %s -> %s\n", i, cases[i].src,
				cases[i].dst);
			ok = false;
		}
		close(t.c);
		t.c = -1;
	}
	/* None of them reached the server. */
	t.s = lh_accept_timeout(t.lfd, 100);
	if (t.s >= 0) {
		close(t.s);
		t.s = -1;
		ok = ASSERT_TRUE(!"a refused connection reached the server");
	}
	/* And the allowed one still does. */
	if (!tun_dial(&t) || !ASSERT_EQ(write(t.c, "x", 1), 1) ||
	    !ASSERT_EQ(recv(t.s, (char[1]){0}, 1, 0), 1))
		ok = false;
	tun_stop(&t);
	return ok && ASSERT_EQ(t.h.stats.refused_by[STATS_REFUSE_FOREIGN_SOURCE],
			       1) &&
	       ASSERT_EQ(t.h.stats.refused_by[STATS_REFUSE_UNKNOWN_SOURCE], 1) &&
	       ASSERT_EQ(t.h.stats.refused_by[STATS_REFUSE_IDENTITY_UNLISTED],
			 1) &&
	       ASSERT_EQ(t.h.stats.refused_by[STATS_REFUSE_NO_ENDPOINTS], 1);
}

/* Rule @index of service @svc by SNI @sni, and by SPIFFE ID @spiffe ("":
 * any, as an empty prefix). */
static bool sni_rule(struct rec_set *rs, uint32_t svc, uint32_t index,
		     uint8_t action, const char *spiffe, const char *sni)
{
	struct mf_authz_key k = { .service_id = svc, .index = index };
	struct mf_authz_rule v = {
		.action = action, .sni_match = MF_AUTHZ_SNI_EXACT,
		.match = spiffe[0] ? MF_AUTHZ_MATCH_EXACT :
				     MF_AUTHZ_MATCH_PREFIX,
	};

	return rh_str(v.policy, sizeof(v.policy), "by-sni") &&
	       rh_str(v.spiffe, sizeof(v.spiffe), spiffe) &&
	       rh_str(v.sni, sizeof(v.sni), sni) &&
	       rh_add(rs, REC_AUTHZ, &k, &v);
}

/* The mesh of make_policy() with web's permission by SNI: Deny the
 * client when it asks for "web", Allow it by its identity alone, Allow
 * anyone who asks for "web"; api (5) as before. */
static struct policy *make_sni_policy(void)
{
	struct rec_set rs;
	bool ok;

	rec_set_init(&rs);
	ok = rh_mesh(&rs, 1, "default", TD) &&
	     rh_service(&rs, 1, "web", VIP_WEB, port_out, 3) &&
	     rh_service(&rs, 4, "clients", "127.0.0.9", port_out, 0) &&
	     rh_service(&rs, 5, "api", VIP_API, port_out, 0) &&
	     rh_endpoint(&rs, IP_API, port_srv, "api1", 5, 3, IP_NODE_T,
			 port_tun) &&
	     rh_endpoint(&rs, IP_CLIENT, 9, "client", 4, 1, IP_NODE_T,
			 port_tun) &&
	     rh_endpoint(&rs, IP_INTRUDER, 9, "intruder", 4, 2, IP_NODE_T,
			 port_tun) &&
	     rh_endpoint(&rs, IP_WEB, port_srv, "web1", 1, 3, IP_NODE_T,
			 port_tun) &&
	     rh_node(&rs, "node-t", IP_NODE_T, port_tun) &&
	     rh_identity(&rs, 1, ID_CLIENT) &&
	     rh_identity(&rs, 2, ID_INTRUDER) &&
	     rh_identity(&rs, 3, ID_WEB) &&
	     sni_rule(&rs, 1, 0, MF_AUTHZ_DENY, ID_CLIENT, "web") &&
	     rh_rule(&rs, 1, 1, MF_AUTHZ_ALLOW, MF_AUTHZ_MATCH_EXACT,
		     "by-sni", ID_CLIENT) &&
	     sni_rule(&rs, 1, 2, MF_AUTHZ_ALLOW, "", "web");
	return rh_snapshot(&rs, ok);
}

/*
 * The tunnel's ClientHello names the destination's service and the far
 * side's permission matches it: the client, allowed by identity but
 * denied when it asks for "web", is reset; the intruder, allowed only by
 * asking for "web", gets through.  Neither would without the SNI.  A
 * tunnel client that asks for another service's name is denied.
 */
static bool test_sni_rules(void)
{
	struct policy *saved = pol;
	struct tls_ctx *ctx = NULL;
	struct tls_sess *t;
	struct tun tu;
	char b[4];
	int fd;
	bool ok = true;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	pol = make_sni_policy();
	if (!tun_start(&tu)) {
		policy_put(pol);
		pol = saved;
		return false;
	}
	tu.c = dial(IP_CLIENT, VIP_WEB, port_out);
	ok = ASSERT_GE(tu.c, 0) && ASSERT_EQ(lh_recv_err(tu.c), -ECONNRESET);
	tu.s = lh_accept_timeout(tu.lfd, 100);
	ok = ok && ASSERT_EQ(tu.s, -1);
	if (tu.c >= 0)
		close(tu.c);
	tu.c = dial(IP_INTRUDER, VIP_WEB, port_out);
	ok = ok && ASSERT_GE(tu.c, 0);
	tu.s = ok ? lh_accept_timeout(tu.lfd, 5000) : -1;
	ok = ok && ASSERT_GE(tu.s, 0) && ASSERT_EQ(write(tu.c, "sni!", 4), 4) &&
	     ASSERT_TRUE(lh_read_exact(tu.s, b, 4)) &&
	     ASSERT_MEMEQ(b, "sni!", 4);
	/* Asking for api's name on the way to web. */
	if (ok && certs_client_ctx(certs, ID_INTRUDER, NULL, &ctx))
		ctx = NULL;
	t = ok ? tc_open_ctx_sni(ctx, &fd, "api") : NULL;
	ok = ok && ASSERT_TRUE(t != NULL) &&
	     ASSERT_TRUE(tc_send_header(t, fd, IP_WEB, port_srv)) &&
	     ASSERT_EQ(lh_recv_err(fd), -ECONNRESET);
	if (t) {
		tls_sess_free(t);
		close(fd);
	}
	tun_stop(&tu);
	policy_put(pol);
	pol = saved;
	/* The client's and the forged one. */
	return ok && ASSERT_EQ(tu.h.stats.denied, 2) &&
	       ASSERT_EQ(tu.h.stats.authorized, 1);
}

/* Inbound checks against PROXY headers no honest agent sends. */
static bool test_inbound_header_checks(void)
{
	static const struct { const char *dst; int port; } cases[] = {
		/* A workload of another node: its node_ip is node-x's,
		 * not this node's. */
		{ IP_STRAY, -1 },
		{ IP_WEB, 1 },		/* a port the workload does not serve */
		{ "127.0.0.77", -1 },	/* no workload at all */
	};
	struct tun tu;
	struct tls_sess *t;
	int fd;
	bool ok = true;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!tun_start(&tu))
		return false;
	for (size_t i = 0; ok && i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t port = cases[i].port < 0 ? port_srv : (uint16_t)cases[i].port;

		t = tc_open(ID_CLIENT, &fd);
		if (!ASSERT_TRUE(t != NULL)) {
			ok = false;
			break;
		}
		if (!ASSERT_TRUE(tc_send_header(t, fd, cases[i].dst, port)) ||
		    !ASSERT_EQ(lh_recv_err(fd), -ECONNRESET))
			ok = false;
		tls_sess_free(t);
		close(fd);
	}
	/* Garbage instead of a header. */
	t = tc_open(ID_CLIENT, &fd);
	if (ASSERT_TRUE(t != NULL)) {
		if (!ASSERT_EQ(tls_write(t, "GET / HTTP/1.1\r\n\r\n", 18), 18) ||
		    !ASSERT_TRUE(ts_flush(t, fd)) ||
		    !ASSERT_EQ(lh_recv_err(fd), -ECONNRESET))
			ok = false;
		tls_sess_free(t);
		close(fd);
	} else {
		ok = false;
	}
	/* An honest header does get through, bytes after it included. */
	t = tc_open(ID_CLIENT, &fd);
	if (ASSERT_TRUE(t != NULL)) {
		char b[4];

		if (!ASSERT_TRUE(tc_send_header(t, fd, IP_WEB, port_srv)) ||
		    !ASSERT_EQ(tls_write(t, "data", 4), 4) ||
		    !ASSERT_TRUE(ts_flush(t, fd)))
			ok = false;
		tu.s = lh_accept_timeout(tu.lfd, 5000);
		if (!ASSERT_GE(tu.s, 0) ||
		    !ASSERT_TRUE(lh_read_exact(tu.s, b, 4)) ||
		    !ASSERT_MEMEQ(b, "data", 4))
			ok = false;
		tls_sess_free(t);
		close(fd);
	} else {
		ok = false;
	}
	tun_stop(&tu);
	return ok;
}

/* A tunnel client that connects and says nothing is reset at the setup
 * deadline; one that sends plaintext is reset at once. */
static bool test_tunnel_stalls_and_garbage(void)
{
	struct lh_loop h;
	struct timespec t0, t1;
	int fd, fd2;
	long ms;
	bool ok = false;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!start(&h))
		return false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = dial("127.0.0.1", "127.0.0.1", port_tun);
	fd2 = dial("127.0.0.1", "127.0.0.1", port_tun);
	if (!ASSERT_GE(fd, 0) || !ASSERT_GE(fd2, 0) ||
	    !ASSERT_EQ(write(fd2, "GET / HTTP/1.0\r\n\r\n", 18), 18) ||
	    /* The garbage gets a reset (maybe after a TLS alert). */
	    !ASSERT_TRUE(lh_recv_err(fd2) <= 0))
		goto out;
	if (!ASSERT_EQ(lh_recv_err(fd), -ECONNRESET))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (!ASSERT_GE(ms, 400) || !ASSERT_GE(3000, ms))
		goto out;
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	if (fd2 >= 0)
		close(fd2);
	lh_loop_stop(&h);
	return ok && ASSERT_EQ(h.stats.relayed, 0);
}

/* ms since @t0. */
static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Whether the agent reset @fd within @ms (a quick refusal), or, with
 * @held, kept it open that long. */
static bool reset_within(int fd, long ms, bool held)
{
	struct timespec t0;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	lh_set_timeout(fd, (unsigned int)ms);
	err = lh_recv_err(fd);
	if (held)
		return ASSERT_EQ(err, -EAGAIN);
	return ASSERT_EQ(err, -ECONNRESET) && ASSERT_GE(ms, ms_since(&t0));
}

/*
 * Admission on the tunnel port.  A bare connect is reset at the first-byte
 * deadline, having made no TLS session (no handshake counted either way);
 * one peer address holds at most its share of the listener, another still
 * gets in; the listener holds at most its budget; past the cap of TLS
 * handshakes a client that has sent its first byte is reset at once.
 * Each refusal is counted by reason.
 */
static bool test_admission(void)
{
	struct lh_loop h;
	struct timespec t0;
	int fd[6] = { -1, -1, -1, -1, -1, -1 };
	bool ok = false;
	long ms;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!ASSERT_TRUE(pol != NULL))
		return false;
	memset(&h, 0, sizeof(h));
	h.cfg.node = "node-t";
	h.cfg.policy = pol;
	h.cfg.certs = certs;
	h.cfg.listen_addr = htonl(INADDR_ANY);
	h.cfg.outbound_port = port_out;
	h.cfg.tunnel_port = port_tun;
	h.cfg.handle_signals = true;
	h.cfg.max_conns = 256;
	h.cfg.setup_timeout_ms = 3000;
	h.cfg.first_byte_timeout_ms = 1000;
	h.cfg.max_conns_per_listener = 3;
	h.cfg.max_conns_per_source = 2;
	h.cfg.max_handshakes = 1;
	if (!lh_loop_start(&h))
		return false;
	/* The first-byte deadline, not the setup one. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd[0] = dial("127.0.0.1", "127.0.0.1", port_tun);
	if (!ASSERT_GE(fd[0], 0) ||
	    !ASSERT_EQ(lh_recv_err(fd[0]), -ECONNRESET))
		goto out;
	ms = ms_since(&t0);
	if (!ASSERT_GE(ms, 900) || !ASSERT_GE(2500, ms))
		goto out;
	close(fd[0]);
	/* Two from 127.0.0.1 are held; a third is reset at once. */
	fd[0] = dial("127.0.0.1", "127.0.0.1", port_tun);
	fd[1] = dial("127.0.0.1", "127.0.0.1", port_tun);
	fd[2] = dial("127.0.0.1", "127.0.0.1", port_tun);
	if (!ASSERT_GE(fd[2], 0) || !reset_within(fd[2], 150, false) ||
	    !reset_within(fd[1], 100, true))
		goto out;
	/* Another address still gets in: the listener's third. */
	fd[3] = dial("127.0.0.2", "127.0.0.1", port_tun);
	if (!ASSERT_GE(fd[3], 0) || !reset_within(fd[3], 100, true))
		goto out;
	/* A fourth is past the listener's budget, whoever it is. */
	fd[4] = dial("127.0.0.3", "127.0.0.1", port_tun);
	if (!ASSERT_GE(fd[4], 0) || !reset_within(fd[4], 150, false))
		goto out;
	close(fd[1]);
	close(fd[2]);
	close(fd[4]);
	fd[1] = fd[2] = fd[4] = -1;
	usleep(50 * 1000);	/* fd[1]'s end is over */
	/* Handshakes: 127.0.0.2's first byte takes the one there is, so
	 * 127.0.0.1's is reset at once. */
	if (!ASSERT_EQ(write(fd[3], "\x16", 1), 1) ||
	    !reset_within(fd[3], 100, true) ||
	    !ASSERT_EQ(write(fd[0], "\x16", 1), 1) ||
	    !reset_within(fd[0], 150, false))
		goto out;
	ok = true;
out:
	for (int i = 0; i < 6; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	lh_loop_stop(&h);
	return ok &&
	       ASSERT_EQ(h.stats.refused_by[STATS_REFUSE_FIRST_BYTE], 1) &&
	       ASSERT_EQ(h.stats.refused_by[STATS_REFUSE_SOURCE_FULL], 1) &&
	       ASSERT_EQ(h.stats.refused_by[STATS_REFUSE_LISTENER_FULL], 1) &&
	       ASSERT_EQ(h.stats.refused_by[STATS_REFUSE_HANDSHAKES_FULL], 1) &&
	       ASSERT_EQ(h.stats.tls_ok, 0) && ASSERT_EQ(h.stats.relayed, 0);
}

/* ---- X.509-SVID rules on both ends ---------------------------------------- */

static char cap_path[96];

/* From now on stderr (the loop thread's log lines too) goes to cap_path,
 * at warn level.  Returns the fd to put back, or -1. */
static int cap_begin(void)
{
	int saved, fd;

	snprintf(cap_path, sizeof(cap_path), "%s/log", dir);
	fflush(stderr);
	fd = open(cap_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	saved = fd >= 0 ? dup(STDERR_FILENO) : -1;
	if (saved >= 0 && dup2(fd, STDERR_FILENO) < 0) {
		close(saved);
		saved = -1;
	}
	if (fd >= 0)
		close(fd);
	if (saved >= 0)
		log_level_max = LOG_LVL_WARN;
	return saved;
}

static void cap_end(int saved)
{
	char *text = NULL;
	size_t len;

	log_level_max = getenv("MF_TEST_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	/* In the test's own output too. */
	if (!fsio_read_all(cap_path, &text, &len))
		fputs(text, stderr);
	free(text);
}

/* The lines of the capture holding @a, their number, and the last of
 * them in @last (@n bytes). */
static int cap_lines(const char *a, char *last, size_t n)
{
	char *text = NULL, *line, *save = NULL;
	size_t len;
	int count = 0;

	last[0] = '\0';
	if (fsio_read_all(cap_path, &text, &len))
		return -1;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, a)) {
			count++;
			snprintf(last, n, "%s", line);
		}
	free(text);
	return count;
}

/* One client certificate chain at the tunnel port: @stem, which the rules
 * judge @rule as a client's.  Refused: the client gets no further, a new
 * log line names the rule; kept: its header and bytes reach the server.
 * *logged counts the lines naming a rule so far. */
static bool svid_inbound_case(struct tun *tu, const char *stem,
			      enum svid_rule rule, int *logged)
{
	char line[1024], want[96], b[4];
	struct tls_sess *t;
	int fd, n;
	bool ok;

	t = tc_open_files(stem, &fd);
	if (rule == SVID_OK) {
		ok = ASSERT_TRUE(t != NULL) &&
		     ASSERT_TRUE(tc_send_header(t, fd, IP_WEB, port_srv)) &&
		     ASSERT_EQ(tls_write(t, "data", 4), 4) &&
		     ASSERT_TRUE(ts_flush(t, fd));
		tu->s = ok ? lh_accept_timeout(tu->lfd, 5000) : -1;
		ok = ok && ASSERT_GE(tu->s, 0) &&
		     ASSERT_TRUE(lh_read_exact(tu->s, b, 4)) &&
		     ASSERT_MEMEQ(b, "data", 4);
		if (tu->s >= 0)
			close(tu->s);
		tu->s = -1;
	} else {
		/* A TLS 1.3 client is done before the server judged its
		 * certificate: what it sends next meets the refusal, an
		 * alert maybe, then the end of the connection (not a
		 * timeout). */
		if (t)
			tc_send_header(t, fd, IP_WEB, port_srv);
		do
			n = lh_recv_err(fd);
		while (fd >= 0 && n > 0);
		ok = fd < 0 || ASSERT_TRUE(n == 0 || n == -ECONNRESET);
		snprintf(want, sizeof(want), "X.509-SVID rule %s:",
			 svid_rule_name(rule));
		n = cap_lines("X.509-SVID rule", line, sizeof(line));
		ok = ok && ASSERT_EQ(n, *logged + 1) &&
		     ASSERT_TRUE(strstr(line, "event=denied") != NULL) &&
		     ASSERT_TRUE(strstr(line, want) != NULL);
		*logged = n;
	}
	tls_sess_free(t);
	if (fd >= 0)
		close(fd);
	if (!ok)
		fprintf(stderr, "  case %s\n", stem);
	return ok;
}

/*
 * A client certificate per X.509-SVID rule, every one signed by the CA the
 * agent trusts and naming an identity the policy allows: each breaking
 * one is refused at the tunnel port, with the rule in the log line and
 * counted by rule, and none reaches the server; the ones that keep the
 * rules (no extendedKeyUsage, serverAuth missing from a client's) and a
 * chain through a proper intermediate get through.  A loop serves at most
 * eight cases, within the budget of refusal lines a second.
 */
static bool test_inbound_svid_rules(void)
{
	uint64_t want[SVID_RULE_MAX] = { 0 }, got[SVID_RULE_MAX] = { 0 };
	size_t ncases = PH_SVID_NCASES + sizeof(int_cas) / sizeof(int_cas[0]);
	struct tun tu = { .c = -1, .s = -1, .lfd = -1 };
	char stem[96];
	int saved, logged = 0;
	bool ok = true, up = false;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	saved = cap_begin();
	if (!ASSERT_GE(saved, 0))
		return false;
	for (size_t i = 0; ok && i < ncases; i++) {
		enum svid_rule rule;

		if (i % 8 == 0) {
			if (up) {
				tun_stop(&tu);
				for (int r = 0; r < SVID_RULE_MAX; r++)
					got[r] += tu.h.stats.svid_refused[r];
			}
			up = ok = tun_start(&tu);
			if (!ok)
				break;
		}
		if (i < PH_SVID_NCASES) {
			snprintf(stem, sizeof(stem), "svid/%s",
				 ph_svid_cases[i].name);
			rule = ph_svid_cases[i].client;
		} else {
			snprintf(stem, sizeof(stem), "svid/via-%s",
				 int_cas[i - PH_SVID_NCASES].stem);
			rule = int_cas[i - PH_SVID_NCASES].rule;
		}
		want[rule]++;
		ok = svid_inbound_case(&tu, stem, rule, &logged);
	}
	if (up) {
		/* None of the refused reached the server. */
		tu.s = lh_accept_timeout(tu.lfd, 100);
		ok = ok && ASSERT_EQ(tu.s, -1);
		tun_stop(&tu);
		for (int r = 0; r < SVID_RULE_MAX; r++)
			got[r] += tu.h.stats.svid_refused[r];
	}
	cap_end(saved);
	for (int r = SVID_OK + 1; ok && r < SVID_RULE_MAX; r++)
		if (!ASSERT_EQ(got[r], want[r]))
			fprintf(stderr, "  rule %s\n", svid_rule_name(r));
		else
			continue;
	return ok && ASSERT_EQ(memcmp(got + 1, want + 1,
				      sizeof(got) - sizeof(got[0])), 0);
}

/* The intruder's leaf under an intermediate that names the client: the
 * peer is the intruder, whom the policy does not allow to web. */
static bool test_intermediate_id_not_identity(void)
{
	struct tun tu = { .c = -1, .s = -1, .lfd = -1 };
	char line[1024];
	struct tls_sess *t = NULL;
	int saved, fd = -1, r;
	bool ok;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	saved = cap_begin();
	if (!ASSERT_GE(saved, 0))
		return false;
	ok = tun_start(&tu);
	if (ok) {
		t = tc_open_files("svid/intruder-via-int-id", &fd);
		ok = ASSERT_TRUE(t != NULL) &&
		     ASSERT_TRUE(tc_send_header(t, fd, IP_WEB, port_srv));
		do
			r = ok ? lh_recv_err(fd) : -1;
		while (r > 0);
		ok = ok && ASSERT_TRUE(r == 0 || r == -ECONNRESET) &&
		     ASSERT_EQ(lh_accept_timeout(tu.lfd, 100), -1);
		tls_sess_free(t);
		if (fd >= 0)
			close(fd);
		tun_stop(&tu);
	}
	cap_end(saved);
	return ok && ASSERT_EQ(cap_lines("event=denied", line, sizeof(line)), 1) &&
	       ASSERT_TRUE(strstr(line, "src_spiffe=" ID_INTRUDER " ") != NULL) &&
	       ASSERT_EQ(tu.h.stats.denied, 1) &&
	       ASSERT_EQ(tu.h.stats.tls_failed, 0);
}

/*
 * The outbound end: this agent dials the tunnel port of the node behind
 * the service, which here is itself, with a node certificate that breaks
 * a rule as a server's (cA true; extendedKeyUsage without serverAuth; a
 * DNS name besides the SPIFFE ID).  The client's connection is reset,
 * never reaching the server, and the refusal names the rule.  With both
 * certificates through an intermediate, bytes flow end to end.
 */
static bool test_outbound_svid_rules(void)
{
	char sub[160], line[1024], want[96], b[2];
	bool ok = true;
	int saved, logged = 0;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	saved = cap_begin();
	if (!ASSERT_GE(saved, 0))
		return false;
	for (size_t i = 0; ok && i < sizeof(out_cases) / sizeof(out_cases[0]);
	     i++) {
		const struct ph_svid_case *c = svid_case(out_cases[i]);
		enum svid_rule rule = c ? c->server : SVID_OK;
		struct certs *cs = NULL;
		struct tun t = { .c = -1, .s = -1, .lfd = -1 };
		int n;

		snprintf(sub, sizeof(sub), "%s/out-%s", dir, out_cases[i]);
		t.lfd = server_listener();
		ok = ASSERT_GE(t.lfd, 0) && ASSERT_EQ(certs_open(&cs, sub), 0) &&
		     start_certs(&t.h, cs);
		if (!ok) {
			if (t.lfd >= 0)
				close(t.lfd);
			certs_close(cs);
			break;
		}
		t.c = dial(IP_CLIENT, VIP_WEB, port_out);
		ok = ASSERT_GE(t.c, 0);
		if (ok && rule == SVID_OK) {
			t.s = lh_accept_timeout(t.lfd, 5000);
			ok = ASSERT_GE(t.s, 0) &&
			     ASSERT_EQ(write(t.c, "hi", 2), 2) &&
			     ASSERT_TRUE(lh_read_exact(t.s, b, 2)) &&
			     ASSERT_MEMEQ(b, "hi", 2);
		} else if (ok) {
			ok = ASSERT_EQ(lh_recv_err(t.c), -ECONNRESET);
			t.s = lh_accept_timeout(t.lfd, 100);
			ok = ok && ASSERT_EQ(t.s, -1);
		}
		tun_stop(&t);
		certs_close(cs);
		if (!ok || rule == SVID_OK) {
			ok = ok && ASSERT_EQ(t.h.stats.tls_failed, 0);
			continue;
		}
		snprintf(want, sizeof(want), "X.509-SVID rule %s:",
			 svid_rule_name(rule));
		n = cap_lines("X.509-SVID rule", line, sizeof(line));
		ok = ASSERT_EQ(t.h.stats.svid_refused[rule], 1) &&
		     ASSERT_EQ(n, logged + 1) &&
		     ASSERT_TRUE(strstr(line, "event=conn_abort") != NULL) &&
		     ASSERT_TRUE(strstr(line, want) != NULL);
		logged = n;
		if (!ok)
			fprintf(stderr, "  case %s\n", out_cases[i]);
	}
	cap_end(saved);
	return ok;
}

/* Many tunnelled connections at once, then closed: every fd comes back. */
static bool test_fds_released(void)
{
	enum { N = 50 };
	struct tun t;
	int base, now = -1, c[N], s[N];
	bool ok = false;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	for (int i = 0; i < N; i++)
		c[i] = s[i] = -1;
	if (!tun_start(&t))
		return false;
	/* Warm the certificate cache: its contexts are kept for good. */
	if (!tun_dial(&t))
		goto out;
	close(t.c);
	close(t.s);
	t.c = t.s = -1;
	usleep(100 * 1000);
	base = lh_count_fds();
	for (int i = 0; i < N; i++) {
		char b;

		c[i] = dial(IP_CLIENT, VIP_WEB, port_out);
		s[i] = lh_accept_timeout(t.lfd, 5000);
		if (!ASSERT_GE(c[i], 0) || !ASSERT_GE(s[i], 0) ||
		    !ASSERT_EQ(write(c[i], "a", 1), 1) ||
		    !ASSERT_TRUE(lh_read_exact(s[i], &b, 1)))
			goto out;
	}
	for (int i = 0; i < N; i++) {
		close(c[i]);
		close(s[i]);
		c[i] = s[i] = -1;
	}
	now = lh_wait_fds(base, 300);
	if (!ASSERT_EQ(now, base))
		goto out;
	ok = true;
out:
	for (int i = 0; i < N; i++) {
		if (c[i] >= 0)
			close(c[i]);
		if (s[i] >= 0)
			close(s[i]);
	}
	tun_stop(&t);
	return ok && ASSERT_EQ(t.h.stats.conns, 0);
}

/* ---- same node: no tunnel to itself --------------------------------------- */

/* What one agent did for an allowed and a denied connection to web1 (a
 * workload of its own node): the address the server saw the allowed one
 * from, the denial's log line from `service=` on, and the loop's stats. */
struct sn_run {
	struct sockaddr_in seen;
	char denied[512];
	struct stats st;
};

static bool sn_run(bool local, struct sn_run *out)
{
	socklen_t len = sizeof(out->seen);
	char buf[8], line[512], *at;
	struct tun t;
	bool ok = false;
	int saved, n;

	same_node = local;
	if (!tun_start(&t)) {
		same_node = false;
		return false;
	}
	saved = cap_begin();
	if (!ASSERT_GE(saved, 0) || !tun_dial(&t) ||
	    !ASSERT_EQ(write(t.c, "ping", 4), 4) ||
	    !ASSERT_TRUE(lh_read_exact(t.s, buf, 4)) ||
	    !ASSERT_MEMEQ(buf, "ping", 4) ||
	    !ASSERT_EQ(write(t.s, "pong", 4), 4) ||
	    !ASSERT_TRUE(lh_read_exact(t.c, buf, 4)) ||
	    !ASSERT_MEMEQ(buf, "pong", 4) ||
	    !ASSERT_EQ(getpeername(t.s, (struct sockaddr *)&out->seen, &len),
		       0))
		goto out;
	close(t.c);
	close(t.s);
	t.s = -1;
	/* The intruder's identity has no permission for web. */
	t.c = dial(IP_INTRUDER, VIP_WEB, port_out);
	if (!ASSERT_GE(t.c, 0) || !ASSERT_EQ(lh_recv_err(t.c), -ECONNRESET))
		goto out;
	t.s = lh_accept_timeout(t.lfd, 100);
	if (!ASSERT_EQ(t.s, -1))
		goto out;
	ok = true;
out:
	tun_stop(&t);
	same_node = false;
	if (saved >= 0) {
		cap_end(saved);
		n = cap_lines("event=denied", line, sizeof(line));
		at = strstr(line, "service=");
		ok = ok && ASSERT_EQ(n, 1) && ASSERT_TRUE(at != NULL) &&
		     ASSERT_TRUE(strstr(line, "src_spiffe=" ID_INTRUDER " ") !=
				 NULL);
		snprintf(out->denied, sizeof(out->denied), "%s", at ? at : "");
	}
	out->st = t.h.stats;
	return ok;
}

/*
 * An endpoint of the agent's own node is dialled directly: the bytes go
 * both ways with no TLS handshake (none counted) and one connection where
 * the tunnel made two, counted as a local up end; the server sees the
 * same source address it sees through the tunnel; the intruder is denied
 * with the same log line (service, destination, request id, reason) and
 * counters as the tunnel's inbound half denies it, and reaches nothing.
 */
static bool test_same_node(void)
{
	struct sn_run tun, loc;
	char *rid_t, *rid_l;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!sn_run(false, &tun) || !sn_run(true, &loc))
		return false;
	/* The request ids are the outbound connections' ids: the same
	 * place in each run, past them the lines must match. */
	rid_t = strstr(tun.denied, " req_id=");
	rid_l = strstr(loc.denied, " req_id=");
	if (!ASSERT_TRUE(rid_t && rid_l))
		return false;
	*rid_t = *rid_l = '\0';
	rid_t = strchr(rid_t + 1, ' ');
	rid_l = strchr(rid_l + 1, ' ');
	return ASSERT_TRUE(rid_t && rid_l) &&
	       ASSERT_STREQ(loc.denied, tun.denied) &&
	       ASSERT_STREQ(rid_l, rid_t) &&
	       ASSERT_TRUE(strstr(rid_l, "reason=\"no-matching-rule\"") !=
			   NULL) &&
	       ASSERT_EQ(loc.seen.sin_addr.s_addr, tun.seen.sin_addr.s_addr) &&
	       /* Through the tunnel: a handshake each side. */
	       ASSERT_EQ(tun.st.tls_ok, 4) &&
	       ASSERT_EQ(tun.st.up_connects[STATS_PATH_TUNNEL], 2) &&
	       ASSERT_EQ(tun.st.up_connects[STATS_PATH_LOCAL], 0) &&
	       ASSERT_EQ(loc.st.tls_ok, 0) && ASSERT_EQ(loc.st.tls_failed, 0) &&
	       ASSERT_EQ(loc.st.up_connects[STATS_PATH_TUNNEL], 0) &&
	       ASSERT_EQ(loc.st.up_connects[STATS_PATH_LOCAL], 1) &&
	       ASSERT_EQ(loc.st.relayed, 1) &&
	       ASSERT_EQ(loc.st.authorized, tun.st.authorized) &&
	       ASSERT_EQ(loc.st.denied, tun.st.denied) &&
	       ASSERT_EQ(loc.st.authorized, 1) && ASSERT_EQ(loc.st.denied, 1);
}

/*
 * An HTTP service whose endpoint is of this node: three client
 * connections in a row, each one request, ride one plain connection to
 * the server (the pool keeps local up ends as it keeps tunnels), with no
 * handshake; the first up end is admitted once, as a tunnel is.
 */
static bool test_same_node_http(void)
{
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	static const char req[] = "GET /x HTTP/1.1\r\nHost: api\r\n"
				  "Connection: close\r\n\r\n";
	int lfd, s = -1;
	char buf[512];
	bool ok = true;
	struct lh_loop h;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	lfd = api_listen();
	same_node = true;
	if (!ASSERT_GE(lfd, 0) || !start(&h)) {
		same_node = false;
		close(lfd);
		return false;
	}
	same_node = false;
	for (int i = 0; ok && i < 3; i++) {
		int c = dial(IP_CLIENT, VIP_API, port_out);

		ok = ASSERT_GE(c, 0) &&
		     ASSERT_EQ(write(c, req, sizeof(req) - 1), sizeof(req) - 1);
		if (ok && s < 0) {
			s = lh_accept_timeout(lfd, 5000);
			ok = ASSERT_GE(s, 0);
		}
		ok = ok && ASSERT_TRUE(lh_read_head(s, buf, sizeof(buf)));
		ok = ok &&
		     ASSERT_TRUE(strncmp(buf, "GET /x HTTP/1.1\r\n", 17) == 0) &&
		     ASSERT_EQ(write(s, rsp, sizeof(rsp) - 1), sizeof(rsp) - 1);
		if (ok)
			lh_read_all(c, buf, sizeof(buf));
		ok = ok && ASSERT_TRUE(strstr(buf, "\r\n\r\nok") != NULL);
		if (c >= 0)
			close(c);
	}
	ok = ok && ASSERT_EQ(lh_accept_timeout(lfd, 200), -1);
	if (s >= 0)
		close(s);
	lh_loop_stop(&h);
	close(lfd);
	return ok && ASSERT_EQ(h.stats.tls_ok, 0) &&
	       ASSERT_EQ(h.stats.up_connects[STATS_PATH_LOCAL], 1) &&
	       ASSERT_EQ(h.stats.up_connects[STATS_PATH_TUNNEL], 0) &&
	       ASSERT_EQ(h.stats.authorized, 1) &&
	       ASSERT_EQ(h.stats.pool_reused, 2) &&
	       ASSERT_EQ(h.stats.http_requests, 3);
}

/* ---- same node: the source certificate as the handshake judges it ------ */

/*
 * Config dir @sub (under dir) for node-t: the CA, the node's pair and the
 * client's (@client_stem, e.g. "certs/" STEM_CLIENT, copied in as the
 * client's own), and with @revoke a ca.crl signed by the CA that revokes
 * that client certificate for keyCompromise.  Returns true when made.
 */
static bool sn_cert_dir(const char *sub, const char *client_stem, bool revoke)
{
	struct pki_crl_entry e = { .reason = DER_CRL_KEY_COMPROMISE };
	struct pki_cert_info ca;
	struct pki_crl_req req = { .entries = &e, .n = 1 };
	struct pki_key key;
	struct der_cert leaf;
	uint8_t *ca_der = NULL, *der = NULL, *crl = NULL, id[PKI_KEY_ID_LEN];
	size_t ca_len = 0, len = 0, crl_len = 0;
	char path[160];
	WC_RNG rng;
	bool ok;

	ok = ph_sh("cd %s && mkdir -p %s/certs && cp ca.crt %s/ && "
		   "cp certs/" STEM_NODE ".* %s/certs/ && "
		   "cp %s.crt %s/certs/" STEM_CLIENT ".crt && "
		   "cp %s.key %s/certs/" STEM_CLIENT ".key", dir, sub, sub, sub,
		   client_stem, sub, client_stem, sub) == 0;
	if (!ok || !revoke)
		return ok;
	memset(&key, 0, sizeof(key));
	if (wc_InitRng(&rng))
		return false;
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	ok = ASSERT_EQ(pki_key_load(&key, path), 0) &&
	     ASSERT_EQ(pki_key_id(&key, id), 0);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	ok = ok && ASSERT_EQ(pki_cert_load(path, &ca_der, &ca_len), 0) &&
	     ASSERT_EQ(pki_cert_parse(ca_der, ca_len, &ca), 0);
	snprintf(path, sizeof(path), "%s/%s.crt", dir, client_stem);
	ok = ok && ASSERT_EQ(pki_cert_load(path, &der, &len), 0) &&
	     ASSERT_EQ(der_cert_parse(der, len, &leaf), 0) &&
	     ASSERT_TRUE(leaf.serial.len <= PKI_SERIAL_MAX);
	if (ok) {
		memcpy(e.serial, leaf.serial.p, leaf.serial.len);
		e.serial_len = leaf.serial.len;
		e.when = time(NULL) - 60;
		req.issuer_name = ca.subject;
		req.issuer_name_len = ca.subject_len;
		req.issuer_key_id = id;
		req.this_update = e.when;
		req.next_update = e.when + 86400;
		req.number = 1;
		snprintf(path, sizeof(path), "%s/%s/ca.crl", dir, sub);
		ok = ASSERT_EQ(pki_crl_make(&req, &key, &rng, &crl, &crl_len),
			       0) &&
		     ASSERT_EQ(fsio_write_atomic(path, crl, crl_len, 0644), 0);
	}
	free(crl);
	free(der);
	free(ca_der);
	pki_key_free(&key);
	wc_FreeRng(&rng);
	return ok;
}

/* What one agent over config dir @sub did with the client's connection to
 * web1 (a workload of its node) through the tunnel or (@local) directly:
 * the client is reset and the server reached by nothing; the one denial
 * line's reason into @reason (@n bytes), the loop's stats into @st. */
static bool sn_cert_run(const char *sub, bool local, char *reason, size_t n,
			struct stats *st)
{
	struct tun t = { .c = -1, .s = -1, .lfd = -1 };
	struct certs *cs = NULL;
	char path[160], line[1024], *at, *end;
	int saved, lines;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	t.lfd = server_listener();
	same_node = local;
	ok = ASSERT_GE(t.lfd, 0) && ASSERT_EQ(certs_open(&cs, path), 0) &&
	     start_certs(&t.h, cs);
	same_node = false;
	if (!ok) {
		if (t.lfd >= 0)
			close(t.lfd);
		certs_close(cs);
		return false;
	}
	saved = cap_begin();
	t.c = dial(IP_CLIENT, VIP_WEB, port_out);
	ok = ASSERT_GE(saved, 0) && ASSERT_GE(t.c, 0) &&
	     ASSERT_EQ(lh_recv_err(t.c), -ECONNRESET);
	t.s = lh_accept_timeout(t.lfd, 100);
	ok = ok && ASSERT_EQ(t.s, -1);
	tun_stop(&t);
	certs_close(cs);
	*st = t.h.stats;
	if (saved < 0)
		return false;
	cap_end(saved);
	lines = cap_lines("event=denied", line, sizeof(line));
	at = strstr(line, " reason=\"");
	end = strrchr(line, '"');
	ok = ok && ASSERT_EQ(lines, 1) &&
	     ASSERT_TRUE(strstr(line, " src_spiffe=- service=- ") != NULL) &&
	     ASSERT_TRUE(at != NULL && end > at + 9);
	if (ok)
		snprintf(reason, n, "%.*s", (int)(end - (at + 9)), at + 9);
	return ok;
}

/*
 * A source certificate the inbound handshake refuses, @stem's (as the
 * client's own, in config dir @sub; @revoke: on the CA's list), is
 * refused on the same-node path too: after the path's own words ("tls
 * handshake: handshake: " through the tunnel, "source certificate: "
 * here) the reason is the same and says @want; counted alike (a failed
 * handshake, under X.509-SVID rule @rule, SVID_OK: none, and as revoked
 * when it is, a denial); no upstream
 * connection, nothing authorized.
 */
static bool sn_cert_case(const char *sub, const char *stem, bool revoke,
			 enum svid_rule rule, const char *want)
{
	static const char tun_pre[] = "tls handshake: handshake: ";
	static const char loc_pre[] = "source certificate: ";
	char tun[1024], loc[1024];
	struct stats ts, ls;
	bool ok;

	ok = sn_cert_dir(sub, stem, revoke) &&
	     sn_cert_run(sub, false, tun, sizeof(tun), &ts) &&
	     sn_cert_run(sub, true, loc, sizeof(loc), &ls);
	if (!ok)
		return false;
	ok = ASSERT_TRUE(!strncmp(tun, tun_pre, sizeof(tun_pre) - 1)) &&
	     ASSERT_TRUE(!strncmp(loc, loc_pre, sizeof(loc_pre) - 1)) &&
	     ASSERT_STREQ(loc + sizeof(loc_pre) - 1,
			  tun + sizeof(tun_pre) - 1) &&
	     ASSERT_TRUE(strstr(loc, want) != NULL) &&
	     ASSERT_EQ(ls.tls_failed, 1) && ASSERT_EQ(ts.tls_failed, 1) &&
	     ASSERT_EQ(ls.tls_revoked, ts.tls_revoked) &&
	     ASSERT_EQ(ls.tls_revoked, revoke ? 1 : 0) &&
	     ASSERT_EQ(ls.svid_refused[rule], 1) &&
	     ASSERT_EQ(memcmp(ls.svid_refused, ts.svid_refused,
			      sizeof(ls.svid_refused)), 0) &&
	     ASSERT_EQ(ls.denied, 1) && ASSERT_EQ(ts.denied, 1) &&
	     ASSERT_EQ(ls.authorized, 0) && ASSERT_EQ(ts.authorized, 0) &&
	     ASSERT_EQ(ls.tls_ok, 0) &&
	     ASSERT_EQ(ls.up_connects[STATS_PATH_LOCAL], 0) &&
	     ASSERT_EQ(ls.up_connects[STATS_PATH_TUNNEL], 0);
	if (!ok)
		fprintf(stderr, "  case %s\n  tunnel: %s\n  local:  %s\n", sub,
			tun, loc);
	return ok;
}

/* The client's certificate revoked: refused with its serial, identity and
 * the list's reason, through the tunnel and on the same node alike. */
static bool test_same_node_revoked(void)
{
	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	return sn_cert_case("sn-revoked", "certs/" STEM_CLIENT, true, SVID_OK,
			    ", " ID_CLIENT ") is revoked: keyCompromise since ");
}

/* The client's certificate past its notAfter: refused for the X.509-SVID
 * rule it breaks, with wolfSSL's date error, both ways alike. */
static bool test_same_node_expired(void)
{
	char want[64];

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	snprintf(want, sizeof(want), "X.509-SVID rule %s:",
		 svid_rule_name(SVID_EXPIRED));
	return sn_cert_case("sn-expired", "svid/expired", false, SVID_EXPIRED,
			    want);
}

/*
 * Every client certificate chain of the X.509-SVID cases that a rule
 * refuses (test_inbound_svid_rules' leaves and chains through an
 * intermediate), as the client's own: refused on the same-node path with
 * the tunnel's reason and counters (sn_cert_case()).  Not the leaves with
 * no usable SPIFFE ID: the store never loads them as an identity's
 * (certs_identity_mismatch), so neither path presents them; nor
 * "expired", test_same_node_expired's.
 */
static bool test_same_node_svid_rules(void)
{
	size_t ncases = PH_SVID_NCASES + sizeof(int_cas) / sizeof(int_cas[0]);
	char sub[96], stem[96], want[96];
	bool ok = true;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	for (size_t i = 0; ok && i < ncases; i++) {
		const char *name;
		enum svid_rule rule;

		if (i < PH_SVID_NCASES) {
			name = ph_svid_cases[i].name;
			rule = ph_svid_cases[i].client;
			snprintf(stem, sizeof(stem), "svid/%s", name);
		} else {
			name = int_cas[i - PH_SVID_NCASES].stem;
			rule = int_cas[i - PH_SVID_NCASES].rule;
			snprintf(stem, sizeof(stem), "svid/via-%s", name);
		}
		if (rule == SVID_OK || rule == SVID_EXPIRED ||
		    rule == SVID_LEAF_NO_URI || rule == SVID_LEAF_URIS ||
		    rule == SVID_LEAF_BAD_ID)
			continue;
		snprintf(sub, sizeof(sub), "sn-rule-%zu", i);
		snprintf(want, sizeof(want), "X.509-SVID rule %s:",
			 svid_rule_name(rule));
		ok = sn_cert_case(sub, stem, false, rule, want);
	}
	return ok;
}

/* A client certificate through a proper intermediate (out-via-int/, the
 * chain as loaded): accepted on the same-node path as at the tunnel port,
 * the bytes reaching the server with no handshake. */
static bool test_same_node_chain_ok(void)
{
	struct tun t = { .c = -1, .s = -1, .lfd = -1 };
	struct certs *cs = NULL;
	char sub[160], b[2];
	bool ok;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	snprintf(sub, sizeof(sub), "%s/out-via-int", dir);
	t.lfd = server_listener();
	same_node = true;
	ok = ASSERT_GE(t.lfd, 0) && ASSERT_EQ(certs_open(&cs, sub), 0) &&
	     start_certs(&t.h, cs);
	same_node = false;
	if (!ok) {
		if (t.lfd >= 0)
			close(t.lfd);
		certs_close(cs);
		return false;
	}
	ok = tun_dial(&t) && ASSERT_EQ(write(t.c, "hi", 2), 2) &&
	     ASSERT_TRUE(lh_read_exact(t.s, b, 2)) && ASSERT_MEMEQ(b, "hi", 2);
	tun_stop(&t);
	certs_close(cs);
	return ok && ASSERT_EQ(t.h.stats.tls_ok, 0) &&
	       ASSERT_EQ(t.h.stats.tls_failed, 0) &&
	       ASSERT_EQ(t.h.stats.up_connects[STATS_PATH_LOCAL], 1) &&
	       ASSERT_EQ(t.h.stats.authorized, 1);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	lh_signals_setup();
	log_level_max = getenv("MF_TEST_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR;

	port_out = lh_free_port();
	port_tun = lh_free_port();
	port_srv = lh_free_port();
	/* A policy that cannot be built fails the tests (start()), where
	 * missing certificates only skip them. */
	pol = make_policy();
	have_certs = make_certs() && tls_global_init() == 0 &&
		     certs_open(&certs, dir) == 0;

	TEST_RUN(test_allowed_relay);
	TEST_RUN(test_http_pool);
	TEST_RUN(test_resets_cross_tunnel);
	TEST_RUN(test_tunnel_backpressure);
	TEST_RUN(test_outbound_refusals);
	TEST_RUN(test_inbound_header_checks);
	TEST_RUN(test_tunnel_stalls_and_garbage);
	TEST_RUN(test_admission);
	TEST_RUN(test_fds_released);
	TEST_RUN(test_inbound_svid_rules);
	TEST_RUN(test_outbound_svid_rules);
	TEST_RUN(test_intermediate_id_not_identity);
	TEST_RUN(test_same_node);
	TEST_RUN(test_same_node_http);
	TEST_RUN(test_sni_rules);
	TEST_RUN(test_same_node_revoked);
	TEST_RUN(test_same_node_expired);
	TEST_RUN(test_same_node_svid_rules);
	TEST_RUN(test_same_node_chain_ok);

	if (pol)
		policy_put(pol);
	certs_close(certs);
	if (dir[0])
		ph_sh("rm -rf %s", dir);
	TEST_MAIN_END();
}
