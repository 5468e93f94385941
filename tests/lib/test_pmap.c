// SPDX-License-Identifier: Apache-2.0
/*
 * The pinned maps: created with BTF under a pin root of the test's own,
 * reused on a second open, readable by bpftool with decoded fields.
 */
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "harness/bpffs_harness.h"
#include "harness/test.h"
#include "pmap.h"

static char root[128];

static bool test_create_and_reopen(void)
{
	struct pmap a, b;
	struct mf_service_key k = { .vip = { 10, 96, 0, 10 }, .port = 80,
				    .proto = MF_PROTO_TCP };
	struct mf_service v = { .id = 7, .name = "web" }, got;
	struct mf_config cfg;
	bool ok = false;

	if (geteuid() != 0)
		TEST_SKIP("needs root for bpf()");
	if (!bh_bpffs_ready())
		TEST_SKIP("bpffs is not mounted and cannot be mounted");
	if (!ASSERT_EQ(pmap_open(&a, root, false), -ENOENT))
		return false;
	if (!ASSERT_EQ(pmap_open(&a, root, true), 0))
		return false;
	if (!ASSERT_EQ(bpf_map_update_elem(a.fds[PMAP_SERVICES], &k, &v, BPF_NOEXIST), 0))
		goto out_a;
	/* A second open finds the same pinned map, with the entry in it. */
	if (!ASSERT_EQ(pmap_open(&b, root, true), 0))
		goto out_a;
	memset(&got, 0, sizeof(got));
	if (!ASSERT_EQ(bpf_map_lookup_elem(b.fds[PMAP_SERVICES], &k, &got), 0))
		goto out_b;
	if (!ASSERT_MEMEQ(&got, &v, sizeof(v)))
		goto out_b;
	if (!ASSERT_EQ(pmap_config_read(&b, &cfg), 0) ||
	    !ASSERT_EQ(cfg.epoch, 0))
		goto out_b;
	ok = true;
out_b:
	pmap_close(&b);
out_a:
	pmap_close(&a);
	return ok;
}

/* bpftool decodes the key and value through the maps' BTF. */
static bool test_bpftool_decodes(void)
{
	char cmd[256], out[4096];
	size_t n;
	FILE *f;

	if (geteuid() != 0)
		TEST_SKIP("needs root for bpf()");
	if (access("/usr/sbin/bpftool", X_OK) != 0)
		TEST_SKIP("bpftool is not installed");
	snprintf(cmd, sizeof(cmd), "bpftool map dump pinned %s/mf_services 2>&1",
		 root);
	f = popen(cmd, "r");
	if (!ASSERT_TRUE(f != NULL))
		return false;
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	return ASSERT_TRUE(strstr(out, "\"vip\": [10,96,0,10") != NULL ||
			   strstr(out, "\"vip\": [10,96,0,10]") != NULL) &&
	       ASSERT_TRUE(strstr(out, "\"port\": 80") != NULL) &&
	       ASSERT_TRUE(strstr(out, "\"name\": \"web\"") != NULL);
}

static bool test_unpin_all(void)
{
	struct stat st;

	if (geteuid() != 0)
		TEST_SKIP("needs root for bpf()");
	return ASSERT_EQ(pmap_unpin_all(root), 0) &&
	       ASSERT_EQ(stat(root, &st), -1) &&
	       ASSERT_EQ(pmap_unpin_all(root), 0);
}

int main(void)
{
	snprintf(root, sizeof(root), "/sys/fs/bpf/mf-test-pmap-%d", getpid());
	TEST_MAIN_BEGIN();
	TEST_RUN(test_create_and_reopen);
	TEST_RUN(test_bpftool_decodes);
	TEST_RUN(test_unpin_all);
	pmap_unpin_all(root);	/* again, in case a case failed midway */
	TEST_MAIN_END();
}
