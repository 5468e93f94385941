// SPDX-License-Identifier: Apache-2.0
/*
 * pt6src (agent/pt6src.c): the pod an IPv6 MeshPassthrough connection
 * comes from, taken from the map the pods' TC program notes it in
 * (mf_pt6_clients), as the agent makes and pins it (kern_open() under a
 * pin root of the test's, /sys/fs/bpf/mf-test-pt6-<pid>, removed at exit;
 * the note is written here in the program's place: test_mf_pod shows the
 * program writing it).  Checked:
 *   - a note under the connection's 4-tuple gives the pod's IPv4 address,
 *     once: taken, the next take finds none;
 *   - a note of another 4-tuple (another client port, destination port
 *     or address) is not this connection's, and stays;
 *   - no map pinned under the root: -ENOENT;
 *   - what it is for: the workload at that address is the one the
 *     MeshPassthroughs are selected for, so a name only its MeshSubset
 *     MeshPassthrough admits passes for the connection with the note, and
 *     is refused for one without (the Mesh-wide policy alone) and for one
 *     noted as another workload's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "harness/bpffs_harness.h"
#include "harness/test.h"
#include "harness/records_harness.h"

#include "../../agent/kern.h"
#include "../../agent/passthru.h"
#include "../../agent/pt6src.h"

static char pin_root[64];	/* /sys/fs/bpf/mf-test-pt6-<pid>, once set */
static const char *setup_skip;	/* why every case skips, or NULL */
static struct kern *kern;	/* the agent's programs and maps there */

static void pin_root_remove(void)
{
	kern_close(kern);
	kern = NULL;
	bh_pin_root_remove(pin_root);
}

static void cleanup_signal(int sig)
{
	pin_root_remove();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void setup(void)
{
	int err;

	if (geteuid() != 0) {
		setup_skip = "needs root (BPF maps pinned in bpffs)";
		return;
	}
	if (!bh_bpffs_ready()) {
		setup_skip = "bpffs is not mounted and cannot be mounted";
		return;
	}
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/mf-test-pt6-%d",
		 (int)getpid());
	atexit(pin_root_remove);
	signal(SIGINT, cleanup_signal);
	signal(SIGTERM, cleanup_signal);
	err = kern_open(&kern, pin_root, NULL, 15101);
	if (err) {
		fprintf(stderr, "kern_open %s: %s\n", pin_root, strerror(-err));
		kern = NULL;	/* the cases fail */
	}
}

/* The pinned map, opened anew (the caller closes it), or -errno. */
static int map_fd(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", pin_root, PT6SRC_MAP);
	return bpf_obj_get(path);
}

/* An IPv6 socket address. */
static struct sockaddr_in6 sa6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 a;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &a.sin6_addr);
	return a;
}

/* Notes, as the pods' program does, that the connection from @client to
 * @dst comes from the pod at IPv4 address @pod (an assertion). */
static bool note(int fd, const struct sockaddr_in6 *client,
		 const struct sockaddr_in6 *dst, const char *pod)
{
	struct mf_pt6_client v;
	struct mf_pt6_key k;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	memcpy(k.client, &client->sin6_addr, 16);
	memcpy(k.dst, &dst->sin6_addr, 16);
	k.client_port = ntohs(client->sin6_port);
	k.dst_port = ntohs(dst->sin6_port);
	inet_pton(AF_INET, pod, v.pod);
	return ASSERT_EQ(bpf_map_update_elem(fd, &k, &v, BPF_ANY), 0);
}

/* How many notes the map holds. */
static int notes(int fd)
{
	struct mf_pt6_key k, next;
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

#define CASE_PROLOGUE()                                                       \
	do {                                                                  \
		if (setup_skip)                                               \
			TEST_SKIP(setup_skip);                                \
		if (!ASSERT_TRUE(kern != NULL))                               \
			return false;                                         \
	} while (0)

/* A note is its 4-tuple's, and is taken once. */
static bool test_take(void)
{
	const struct sockaddr_in6 cl = sa6("fd00:78:1::11", 40000),
				  cl_port = sa6("fd00:78:1::11", 40001),
				  dst = sa6("2001:db8:9::5", 443),
				  dst_port = sa6("2001:db8:9::5", 444),
				  dst_addr = sa6("2001:db8:9::6", 443);
	uint32_t pod = 0;
	bool ok;
	int fd;

	CASE_PROLOGUE();
	fd = map_fd();
	if (!ASSERT_GE(fd, 0))
		return false;
	ok = note(fd, &cl, &dst, "10.1.0.9") &&
	     ASSERT_EQ(pt6src_take(pin_root, &cl_port, &dst, &pod), -ENOENT) &&
	     ASSERT_EQ(pt6src_take(pin_root, &cl, &dst_port, &pod), -ENOENT) &&
	     ASSERT_EQ(pt6src_take(pin_root, &cl, &dst_addr, &pod), -ENOENT) &&
	     ASSERT_EQ(pod, 0) && ASSERT_EQ(notes(fd), 1) &&
	     ASSERT_EQ(pt6src_take(pin_root, &cl, &dst, &pod), 0) &&
	     ASSERT_EQ(pod, rh_ip4("10.1.0.9")) && ASSERT_EQ(notes(fd), 0) &&
	     ASSERT_EQ(pt6src_take(pin_root, &cl, &dst, &pod), -ENOENT);
	close(fd);
	return ok;
}

/* No map under the root: nothing to take. */
static bool test_no_map(void)
{
	const struct sockaddr_in6 cl = sa6("fd00:78:1::11", 40000),
				  dst = sa6("2001:db8:9::5", 443);
	uint32_t pod = 0;

	CASE_PROLOGUE();
	return ASSERT_EQ(pt6src_take("/sys/fs/bpf/mf-test-pt6-none", &cl, &dst,
				     &pod), -ENOENT);
}

/* The Mesh admits all.test on port 80 over HTTP; a MeshSubset
 * MeshPassthrough admits only-c1.test there for c1 (client) alone. */
#define PT6_DOC                                                               \
	RH_MESH4                                                              \
	RH_KUMA("MeshPassthrough", "mesh-wide")                               \
	"  targetRef: {kind: Mesh}\n"                                         \
	"  default:\n    passthroughMode: Matched\n    appendMatch:\n"        \
	"      - {type: Domain, value: all.test, port: 80, protocol: http}\n" \
	RH_KUMA("MeshPassthrough", "client-only")                             \
	"  targetRef: {kind: MeshSubset, tags: {kuma.io/service: client}}\n"  \
	"  default:\n    appendMatch:\n"                                      \
	"      - {type: Domain, value: only-c1.test, port: 80, "              \
	"protocol: http}\n"

/* What the agent does with a connection (tunnel.c tunnel_pt_source()):
 * the workload at the noted address, NULL without a note. */
static const struct mf_endpoint *source(struct policy *p,
					const struct sockaddr_in6 *cl,
					const struct sockaddr_in6 *dst)
{
	uint32_t pod = 0;

	if (pt6src_take(pin_root, cl, dst, &pod))
		return NULL;
	return policy_endpoint_by_ip(p, pod);
}

/* The note picks the workload whose MeshPassthroughs judge the name. */
static bool test_note_picks_policy(void)
{
	const struct sockaddr_in6 c1 = sa6("fd00:78:1::9", 41000),
				  w1 = sa6("fd00:78:1::1", 41000),
				  anon = sa6("fd00:78:1::7", 41000),
				  dst = sa6("2001:db8:9::5", 80);
	struct policy *p = rh_yaml_snapshot(PT6_DOC, 1);
	const struct mf_endpoint *src;
	const char *why = "";
	bool ok;
	int fd;

	CASE_PROLOGUE();
	fd = map_fd();
	ok = ASSERT_TRUE(p != NULL) && ASSERT_GE(fd, 0) &&
	     note(fd, &c1, &dst, "10.1.0.9") &&
	     note(fd, &w1, &dst, "10.1.0.1");
	/* c1's connection: c1's own match admits the name. */
	src = ok ? source(p, &c1, &dst) : NULL;
	ok = ok && ASSERT_TRUE(src != NULL) && ASSERT_STREQ(src->name, "c1") &&
	     ASSERT_TRUE(passthru_admit(p, src, 80, MF_PASSTHROUGH_HTTP,
					"only-c1.test", 0, &why)) &&
	     ASSERT_TRUE(passthru_admit(p, src, 80, MF_PASSTHROUGH_HTTP,
					"all.test", 0, &why));
	/* w1's: the Mesh's only. */
	src = ok ? source(p, &w1, &dst) : NULL;
	ok = ok && ASSERT_TRUE(src != NULL) && ASSERT_STREQ(src->name, "w1") &&
	     ASSERT_FALSE(passthru_admit(p, src, 80, MF_PASSTHROUGH_HTTP,
					 "only-c1.test", 0, &why)) &&
	     ASSERT_STREQ(why, "no Domain match has the name") &&
	     ASSERT_TRUE(passthru_admit(p, src, 80, MF_PASSTHROUGH_HTTP,
					"all.test", 0, &why));
	/* No note (and c1's taken already): the Mesh's only. */
	ok = ok && ASSERT_TRUE(source(p, &anon, &dst) == NULL) &&
	     ASSERT_TRUE(source(p, &c1, &dst) == NULL) &&
	     ASSERT_FALSE(passthru_admit(p, NULL, 80, MF_PASSTHROUGH_HTTP,
					 "only-c1.test", 0, &why)) &&
	     ASSERT_TRUE(passthru_admit(p, NULL, 80, MF_PASSTHROUGH_HTTP,
					"all.test", 0, &why));
	if (fd >= 0)
		close(fd);
	if (p)
		policy_put(p);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	setup();
	TEST_RUN(test_take);
	TEST_RUN(test_no_map);
	TEST_RUN(test_note_picks_policy);
	TEST_MAIN_END();
}
