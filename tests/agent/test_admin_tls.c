// SPDX-License-Identifier: Apache-2.0
/*
 * MeshMetric's Prometheus ports over TLS (agent/admin.c), in process: a
 * loop of node n1 serves a snapshot whose MeshMetrics name three ports of
 * 127.0.0.1, one per tls.mode, with an identity store and the operator's
 * certificate made here with openssl.  The test is the scraper, over
 * ordinary sockets, with the agent's own TLS sessions as clients:
 *  - ProvidedTLS: TLS 1.3 with the operator's certificate (verified to
 *    its CA, for 127.0.0.1), the page answered; plain HTTP gets no page;
 *  - ActiveMTLSBackend: a client certificate of the mesh (any identity)
 *    gets the page from node n1's mesh identity; no client certificate,
 *    or one of another CA for the same identity, gets none;
 *  - a client that stops in its handshake is reset at the head's
 *    deadline; one that sends its head a byte a record (more than
 *    ADMIN_TLS_IN_MAX of ciphertext) is reset before an answer, where the
 *    same head in one record is answered;
 *  - ADMIN_TLS_ACCEPTS_PER_S TLS connections a second, the next ones
 *    reset before any handshake, and served again the second after;
 *  - without the operator's certificate or an identity store, the TLS
 *    ports are not listened on at all, while the plain one is.
 * Skips when openssl is missing (no PKI).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/pki_harness.h"
#include "harness/loop_harness.h"
#include "harness/records_harness.h"
#include "harness/tls_sock_harness.h"
#include "../../agent/admin.h"
#include "../../agent/certs.h"
#include "../../agent/tls.h"
#include "../../agent/tlsfile.h"
#include "fsio.h"
#include "log.h"

#define NODE_ID		"spiffe://mesh.local/ns/meshforge-system/sa/n1"
#define STEM_NODE	"mesh.local+ns+meshforge-system+sa+n1"
#define SCRAPER_ID	"spiffe://mesh.local/ns/monitoring/sa/prometheus"
#define STEM_SCRAPER	"mesh.local+ns+monitoring+sa+prometheus"
#define TIMEOUT_MS	300

static char dir[64];
static bool have_pki;
static struct certs *certs;		/* the mesh's, in dir */
static struct tlsfile *provided;	/* the operator's certificate */
static struct policy *pol;
static uint16_t port_plain, port_provided, port_active;

static const char get_req[] = "GET /metrics HTTP/1.1\r\nHost: n1\r\n\r\n";

/* ---- set-up -------------------------------------------------------------- */

/* The mesh CA "ca" with node n1's and the scraper's identities in certs/;
 * the operator's CA "op-ca" and its certificate "op" for 127.0.0.1;
 * another CA "evil" with a certificate "evil-scraper" for the scraper's
 * identity. */
static bool make_pki(void)
{
	return ph_have_openssl() && ph_make_dir(dir, sizeof(dir), "admin-tls") &&
	       ph_sh("mkdir %s/certs", dir) == 0 &&
	       ph_make_ca(dir, "ca", "mesh-ca") == 0 &&
	       ph_make_leaf(dir, "ca", "certs/" STEM_NODE, "node",
			    "URI:" NODE_ID) == 0 &&
	       ph_make_leaf(dir, "ca", "certs/" STEM_SCRAPER, "scraper",
			    "URI:" SCRAPER_ID) == 0 &&
	       ph_make_ca(dir, "op-ca", "operator-ca") == 0 &&
	       ph_make_leaf(dir, "op-ca", "op", "op", "IP:127.0.0.1") == 0 &&
	       ph_make_ca(dir, "evil", "evil-ca") == 0 &&
	       ph_make_leaf(dir, "evil", "evil-scraper", "evil-scraper",
			    "URI:" SCRAPER_ID) == 0;
}

/* web's workload w1 on 127.0.0.1:port_plain (plain) and port_provided
 * (ProvidedTLS), api's a1 on port_active (ActiveMTLSBackend); n1 is the
 * loop's node. */
static struct policy *make_policy(void)
{
	char yaml[4096];
	int n;

	n = snprintf(yaml, sizeof(yaml), "%s"
		RH_KUMA("MeshMetric", "web-metrics")
		"  targetRef: {kind: MeshService, name: web}\n"
		"  default:\n"
		"    backends:\n"
		"      - type: Prometheus\n"
		"        prometheus: {port: %u, path: /metrics}\n"
		"      - type: Prometheus\n"
		"        prometheus: {port: %u, path: /metrics, "
		"tls: {mode: ProvidedTLS}}\n"
		RH_KUMA("MeshMetric", "api-metrics")
		"  targetRef: {kind: MeshService, name: api}\n"
		"  default:\n"
		"    backends:\n"
		"      - type: Prometheus\n"
		"        prometheus: {port: %u, path: /metrics, "
		"tls: {mode: ActiveMTLSBackend}}\n",
		RH_MESH4, port_plain, port_provided, port_active);
	if (n < 0 || (size_t)n >= sizeof(yaml))
		return NULL;
	return rh_yaml_snapshot(yaml, 1);
}

/* Node n1's loop serving pol with the admin endpoint, MeshMetric ports on
 * 127.0.0.1, identity store @cs and the operator's certificate @op (each
 * NULL: none). */
static bool start(struct lh_loop *h, struct certs *cs, struct tlsfile *op)
{
	memset(h, 0, sizeof(*h));
	h->cfg = (struct agent_config){
		.node = "n1", .policy = pol, .certs = cs,
		.listen_addr = htonl(INADDR_LOOPBACK),
		.handle_signals = true, .max_conns = 64,
		.admin_on = true, .admin_timeout_ms = TIMEOUT_MS,
		.metrics_addr = htonl(INADDR_LOOPBACK), .metrics_tls = op,
	};
	return lh_loop_start(h);
}

/* Whether 127.0.0.1:@port takes a connection within about 3 s: the
 * ports open at the admin endpoint's first tick. */
static bool listening(uint16_t port)
{
	struct timespec ts = { .tv_nsec = 50 * 1000000 };

	for (int i = 0; i < 60; i++) {
		int fd = lh_client(port);

		if (fd >= 0) {
			close(fd);
			return true;
		}
		nanosleep(&ts, NULL);
	}
	return false;
}

/* ---- a scraper ----------------------------------------------------------- */

struct scrape {
	int fd;
	struct tls_sess *s;
	int hs;			/* ts_handshake()'s result */
	ssize_t got;		/* ts_read_all()'s */
	char resp[16384];
};

/* Connects to @port and shakes hands on session @s (taken: freed by
 * scrape_end()). */
static void scrape_open(struct scrape *c, uint16_t port, struct tls_sess *s)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->fd = lh_client(port);
	c->hs = -ENOTCONN;
	if (c->fd >= 0) {
		int one = 1;

		lh_set_timeout(c->fd, 5000);
		/* As scrapers do: else the request waits for the ACK of the
		 * handshake's last flight (Nagle), 40 ms of delayed ACK. */
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
		if (s)
			c->hs = ts_handshake(s, c->fd);
	}
}

/* Sends @req (@n bytes) in records of @rec bytes at most, then reads the
 * answer to the end into c->resp. */
static void scrape_ask(struct scrape *c, const char *req, size_t n, size_t rec)
{
	c->got = -ENOTCONN;
	if (c->hs)
		return;
	for (size_t off = 0; off < n; off += rec) {
		size_t k = n - off < rec ? n - off : rec;

		if (tls_write(c->s, req + off, k) != (ssize_t)k)
			return;
		/* Flushed as they come: a reset may end it half way. */
		if ((off / rec) % 64 == 63 && !ts_flush(c->s, c->fd))
			break;
	}
	(void)ts_flush(c->s, c->fd);
	c->got = ts_read_all(c->s, c->fd, c->resp, sizeof(c->resp));
}

static void scrape_end(struct scrape *c)
{
	tls_sess_free(c->s);
	if (c->fd >= 0)
		close(c->fd);
	c->s = NULL;
	c->fd = -1;
}

/* Whether the answer read is the page: 200 and Prometheus text. */
static bool is_page(const struct scrape *c)
{
	return c->got > 0 && !strncmp(c->resp, "HTTP/1.1 200 OK\r\n", 17) &&
	       strstr(c->resp, "Content-Type: text/plain; version=0.0.4");
}

/* A client session of origin context trusting CA @ca_stem of dir, with
 * client certificate @crt_stem (NULL: none), which the server's
 * certificate must name 127.0.0.1 when @ip (any name otherwise).  NULL
 * when it cannot be made. */
static struct tls_sess *origin_sess(const char *ca_stem, const char *crt_stem,
				    bool ip)
{
	static const struct tls_name lo = { TLS_NAME_IP, "127.0.0.1" };
	char path[160], *ca = NULL, *crt = NULL, *key = NULL;
	struct tls_origin o = { 0 };
	struct tls_ctx *ctx = NULL;
	struct tls_sess *s = NULL;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s.crt", dir, ca_stem);
	ok = !fsio_read_all(path, &ca, &o.ca_len);
	if (ok && crt_stem) {
		snprintf(path, sizeof(path), "%s/%s.crt", dir, crt_stem);
		ok = !fsio_read_all(path, &crt, &o.crt_len);
		snprintf(path, sizeof(path), "%s/%s.key", dir, crt_stem);
		ok = ok && !fsio_read_all(path, &key, &o.key_len);
	}
	o.ca_pem = ca;
	o.crt = crt;
	o.key = key;
	if (ok && !tls_ctx_new_origin(&ctx, &o) &&
	    tls_sess_new_origin(&s, ctx, NULL, ip ? &lo : NULL, ip ? 1 : 0))
		s = NULL;
	tls_ctx_put(ctx);	/* a session holds its own */
	free(ca);
	free(crt);
	free(key);
	return s;
}

/* A client session as the scraper, from the mesh's identity store. */
static struct tls_sess *mesh_sess(void)
{
	struct tls_ctx *ctx = NULL;
	struct tls_sess *s = NULL;

	if (certs_client_ctx(certs, SCRAPER_ID, NULL, &ctx))
		return NULL;
	if (tls_sess_new(&s, ctx))
		s = NULL;
	tls_ctx_put(ctx);
	return s;
}

/* Plain HTTP to @port: whether an HTTP answer came back. */
static bool plain_answered(uint16_t port)
{
	char buf[512];
	ssize_t n;
	int fd = lh_client(port);

	if (fd < 0)
		return false;
	lh_set_timeout(fd, 5000);
	if (send(fd, get_req, sizeof(get_req) - 1, MSG_NOSIGNAL) < 0) {
		close(fd);
		return false;
	}
	n = recv(fd, buf, sizeof(buf) - 1, MSG_WAITALL);
	close(fd);
	return n >= 5 && !memcmp(buf, "HTTP/", 5);
}

/* ---- cases --------------------------------------------------------------- */

#define SKIP_WITHOUT_PKI()                                                   \
	do {                                                                  \
		if (!have_pki)                                                \
			TEST_SKIP("openssl cannot make the test PKI");       \
	} while (0)

static bool test_provided(void)
{
	struct lh_loop h;
	struct scrape c;
	bool ok;

	SKIP_WITHOUT_PKI();
	if (!start(&h, certs, provided))
		return false;
	ok = ASSERT_TRUE(listening(port_provided)) &&
	     ASSERT_TRUE(listening(port_plain));
	/* The operator's certificate, checked to its CA and address. */
	scrape_open(&c, port_provided, origin_sess("op-ca", NULL, true));
	scrape_ask(&c, get_req, sizeof(get_req) - 1, sizeof(get_req));
	ok = ok && ASSERT_EQ(c.hs, 0) &&
	     ASSERT_STREQ(tls_version_name(c.s), "TLSv1.3") &&
	     ASSERT_TRUE(is_page(&c));
	scrape_end(&c);
	/* Plain HTTP to it: no answer in HTTP; the plain port answers. */
	ok = ok && ASSERT_FALSE(plain_answered(port_provided)) &&
	     ASSERT_TRUE(plain_answered(port_plain));
	lh_loop_stop(&h);
	return ok && ASSERT_EQ(h.loop_stats.stale_cqes, 0);
}

static bool test_active(void)
{
	char peer[MF_SPIFFE_MAX] = "";
	struct lh_loop h;
	struct scrape c;
	bool ok;

	SKIP_WITHOUT_PKI();
	if (!start(&h, certs, provided))
		return false;
	ok = ASSERT_TRUE(listening(port_active));
	/* A certificate of the mesh: the page, from node n1's identity. */
	scrape_open(&c, port_active, mesh_sess());
	if (!c.hs)
		(void)tls_peer_spiffe(c.s, peer, sizeof(peer));
	scrape_ask(&c, get_req, sizeof(get_req) - 1, sizeof(get_req));
	ok = ok && ASSERT_EQ(c.hs, 0) && ASSERT_STREQ(peer, NODE_ID) &&
	     ASSERT_TRUE(is_page(&c));
	scrape_end(&c);
	/* No client certificate (the server verified to the mesh CA). */
	scrape_open(&c, port_active, origin_sess("ca", NULL, false));
	scrape_ask(&c, get_req, sizeof(get_req) - 1, sizeof(get_req));
	ok = ok && ASSERT_FALSE(is_page(&c)) && ASSERT_GE(0, c.got);
	scrape_end(&c);
	/* The scraper's identity, from another CA. */
	scrape_open(&c, port_active, origin_sess("ca", "evil-scraper", false));
	scrape_ask(&c, get_req, sizeof(get_req) - 1, sizeof(get_req));
	ok = ok && ASSERT_FALSE(is_page(&c)) && ASSERT_GE(0, c.got);
	scrape_end(&c);
	/* The port is the mesh's: the operator's certificate is not the
	 * one it presents. */
	scrape_open(&c, port_active, origin_sess("op-ca", NULL, true));
	ok = ok && ASSERT_NE(c.hs, 0);
	scrape_end(&c);
	lh_loop_stop(&h);
	return ok && ASSERT_EQ(h.loop_stats.stale_cqes, 0);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A handshake that stops half way is reset at the head's deadline; a head
 * a byte a record is reset past ADMIN_TLS_IN_MAX of ciphertext. */
static bool test_limits(void)
{
	/* A record header of a handshake record, and no more. */
	static const uint8_t part[] = { 0x16, 0x03, 0x01 };
	char head[4096], buf[64];
	struct lh_loop h;
	struct scrape c;
	uint64_t t0, dt = 0;
	ssize_t n = 1;
	size_t len;
	bool ok;
	int fd;

	SKIP_WITHOUT_PKI();
	if (!start(&h, certs, provided))
		return false;
	ok = ASSERT_TRUE(listening(port_active));
	fd = lh_client(port_active);
	ok = ok && ASSERT_GE(fd, 0);
	if (ok) {
		lh_set_timeout(fd, 5000);
		t0 = mono_ms();
		ok = ASSERT_EQ(send(fd, part, sizeof(part), 0),
			       (ssize_t)sizeof(part));
		n = recv(fd, buf, sizeof(buf), 0);
		dt = mono_ms() - t0;
	}
	/* Reset, not answered, at the deadline (the timer's slack and a
	 * busy machine: within a second of it). */
	ok = ok && ASSERT_TRUE(n < 0 ? errno == ECONNRESET : n == 0) &&
	     ASSERT_GE(dt, TIMEOUT_MS - 20) && ASSERT_GE(TIMEOUT_MS + 1000, dt);
	if (fd >= 0)
		close(fd);

	/* A head of 4,000 bytes: answered in one record; a byte a record
	 * (about 22 bytes of ciphertext each: 88 KB) reset. */
	len = (size_t)snprintf(head, sizeof(head),
			       "GET /metrics HTTP/1.1\r\nHost: n1\r\nX-Pad: ");
	memset(head + len, 'a', 4000 - len - 4);
	memcpy(head + 4000 - 4, "\r\n\r\n", 4);
	scrape_open(&c, port_active, mesh_sess());
	scrape_ask(&c, head, 4000, 4000);
	ok = ok && ASSERT_EQ(c.hs, 0) && ASSERT_TRUE(is_page(&c));
	scrape_end(&c);
	scrape_open(&c, port_active, mesh_sess());
	scrape_ask(&c, head, 4000, 1);
	ok = ok && ASSERT_EQ(c.hs, 0) && ASSERT_FALSE(is_page(&c)) &&
	     ASSERT_GE(0, c.got);
	scrape_end(&c);
	lh_loop_stop(&h);
	return ok && ASSERT_EQ(h.loop_stats.stale_cqes, 0);
}

/* ADMIN_TLS_ACCEPTS_PER_S TLS connections in a second (all of them well
 * within one: under a millisecond each), then resets; the second after,
 * served again. */
static bool test_tls_rate(void)
{
	struct timespec later = { .tv_sec = 1, .tv_nsec = 100 * 1000000 };
	int pages = 0, refused = 0;
	struct lh_loop h;
	struct scrape c;
	bool ok;

	SKIP_WITHOUT_PKI();
	if (!start(&h, certs, provided))
		return false;
	/* Probed on the plain port: a probe of a TLS one would count.  All
	 * ports of a plan open in the same tick. */
	ok = ASSERT_TRUE(listening(port_plain));
	for (int i = 0; ok && i < ADMIN_TLS_ACCEPTS_PER_S + 8; i++) {
		scrape_open(&c, port_active, mesh_sess());
		scrape_ask(&c, get_req, sizeof(get_req) - 1, sizeof(get_req));
		pages += is_page(&c);
		refused += c.hs != 0;
		scrape_end(&c);
	}
	ok = ok && ASSERT_EQ(pages, ADMIN_TLS_ACCEPTS_PER_S) &&
	     ASSERT_EQ(refused, 8);
	nanosleep(&later, NULL);
	scrape_open(&c, port_active, mesh_sess());
	scrape_ask(&c, get_req, sizeof(get_req) - 1, sizeof(get_req));
	ok = ok && ASSERT_TRUE(is_page(&c));
	scrape_end(&c);
	lh_loop_stop(&h);
	return ok && ASSERT_EQ(h.loop_stats.stale_cqes, 0);
}

/* Nothing to serve the TLS modes with: their ports closed, never plain. */
static bool test_not_served(void)
{
	struct lh_loop h;
	int fd1, fd2;
	bool ok;

	SKIP_WITHOUT_PKI();
	if (!start(&h, NULL, NULL))
		return false;
	/* All ports of a plan open in the same tick. */
	ok = ASSERT_TRUE(listening(port_plain));
	fd1 = lh_client(port_provided);
	fd2 = lh_client(port_active);
	ok = ok && ASSERT_TRUE(fd1 < 0) && ASSERT_TRUE(fd2 < 0);
	if (fd1 >= 0)
		close(fd1);
	if (fd2 >= 0)
		close(fd2);
	lh_loop_stop(&h);
	return ok && ASSERT_EQ(h.loop_stats.stale_cqes, 0);
}

/* Whether a new session, checked against CA @ca_stem, gets the page of
 * the ProvidedTLS port within about 3 s (the files are looked at once a
 * tick). */
static bool provided_verifies_within(const char *ca_stem)
{
	for (int i = 0; i < 30; i++) {
		struct scrape c;
		bool page;

		scrape_open(&c, port_provided, origin_sess(ca_stem, NULL, true));
		scrape_ask(&c, get_req, sizeof(get_req) - 1, sizeof(get_req));
		page = c.hs == 0 && is_page(&c);
		scrape_end(&c);
		if (page)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

/* Whether a session checked against CA @ca_stem fails its handshake. */
static bool provided_refused_by(const char *ca_stem)
{
	struct scrape c;
	bool refused;

	scrape_open(&c, port_provided, origin_sess(ca_stem, NULL, true));
	scrape_ask(&c, get_req, sizeof(get_req) - 1, sizeof(get_req));
	refused = c.hs != 0;
	scrape_end(&c);
	return refused;
}

/*
 * The operator renews the certificate on disk under a running agent, as a
 * Secret's symlink swap or certbot does (a new file renamed over the old
 * one): new connections get the new certificate with no signal, and a
 * pair that does not load (a key
 * of another certificate) leaves the last good one in force.  (SIGHUP,
 * which reads them whatever their stamps, is test_meshmetric.sh's.)
 */
static bool test_provided_renewed(void)
{
	struct lh_loop h;
	bool ok;

	SKIP_WITHOUT_PKI();
	if (!start(&h, certs, provided))
		return false;
	ok = ASSERT_TRUE(listening(port_provided)) &&
	     ASSERT_TRUE(provided_verifies_within("op-ca"));
	/* Renewed under another CA, each file renamed into place. */
	ok = ok && ASSERT_EQ(ph_make_ca(dir, "op-ca2", "operator-ca-2"), 0) &&
	     ASSERT_EQ(ph_make_leaf(dir, "op-ca2", "op2", "op", "IP:127.0.0.1"),
		       0) &&
	     ASSERT_EQ(ph_sh("cd %s && cp op2.key op.key.new && "
			     "cp op2.crt op.crt.new && mv op.key.new op.key && "
			     "mv op.crt.new op.crt", dir), 0);
	ok = ok && ASSERT_TRUE(provided_verifies_within("op-ca2")) &&
	     ASSERT_TRUE(provided_refused_by("op-ca"));
	/* A key that is not the certificate's: the renewed pair stays. */
	ok = ok && ASSERT_EQ(ph_sh("cd %s && cp evil-scraper.key op.key.new && "
				   "mv op.key.new op.key", dir), 0);
	usleep(2500 * 1000);
	ok = ok && ASSERT_TRUE(provided_verifies_within("op-ca2"));
	lh_loop_stop(&h);
	return ok && ASSERT_EQ(h.loop_stats.stale_cqes, 0);
}

int main(void)
{
	char crt[128], key[128];

	TEST_MAIN_BEGIN();
	lh_signals_setup();
	log_level_max = getenv("MF_TEST_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR;
	port_plain = lh_free_port();
	port_provided = lh_free_port();
	port_active = lh_free_port();
	pol = make_policy();
	have_pki = make_pki() && tls_global_init() == 0 &&
		   certs_open(&certs, dir) == 0;
	snprintf(crt, sizeof(crt), "%s/op.crt", dir);
	snprintf(key, sizeof(key), "%s/op.key", dir);
	have_pki = have_pki && pol &&
		   tlsfile_open(&provided, crt, key) == 0;

	TEST_RUN(test_provided);
	TEST_RUN(test_active);
	TEST_RUN(test_limits);
	TEST_RUN(test_tls_rate);
	TEST_RUN(test_not_served);
	TEST_RUN(test_provided_renewed);

	tlsfile_close(provided);
	certs_close(certs);
	if (pol)
		policy_put(pol);
	ph_remove(dir);
	TEST_MAIN_END();
}
