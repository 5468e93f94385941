// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl uninstall` on the pins and the files, in process: the maps
 * pinned under a root of the test's own go, the root once empty, what is
 * not meshforge's stays (a foreign map under one of our names, a foreign
 * pin, the root that holds it), a dry run removes nothing, and --purge
 * removes the saved policy (with the store's revision and the writers'
 * copy of the mesh beside it), the CA, the certificates and mfctl's lock but
 * not secrets/.  The attachments (TC, XDP, qdiscs) need a network
 * namespace and a running agent: tests/integration/test_uninstall.sh.
 * Every case but the first needs root (to list programs) and bpffs.
 */
#include <bpf/bpf.h>
#include <sys/stat.h>

#include "harness/test.h"
#include "harness/ctl_harness.h"
#include "harness/policy_harness.h"

static char cfg[128], state[128], run[128];

/* The options of a command on the test's pin root and dirs. */
static struct ctl_opts opts(void)
{
	struct ctl_opts o = ch_opts(false);

	o.config_dir = cfg;
	o.state_dir = state;
	o.run_dir = run;
	return o;
}

#define UN(rc, ...) ph_cmd(opts(), (rc), "uninstall", ##__VA_ARGS__, \
			   (char *)NULL)

static bool exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fsio_exists(path);
}

/* Pins a foreign array map named @name at <root>/@file. */
static bool pin_foreign(const char *name, const char *file)
{
	char path[PATH_MAX];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", ch_root, file);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, 4, 1, NULL);
	if (!ASSERT_GE(fd, 0))
		return false;
	err = bpf_obj_pin(fd, path);
	close(fd);
	return ASSERT_EQ(err, 0);
}

static bool test_refuses_a_root_not_on_bpffs(void)
{
	struct ctl_opts o = opts();

	o.bpf_root = cfg;
	return ph_cmd(o, CTL_EXIT_INVALID, "uninstall", (char *)NULL) &&
	       ph_err_has("is not a directory on bpffs");
}

static bool test_nothing_there(void)
{
	char want[160];

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	snprintf(want, sizeof(want), "nothing of meshforge's here (pin root "
		 "%s)\n", ch_root);
	return UN(CTL_EXIT_OK) && ph_out_has(want) &&
	       ASSERT_FALSE(fsio_exists(ch_root));
}

/* Every map of mf_maps pinned, as an apply leaves them; a dry run says
 * so and keeps them, the real one removes them and the root. */
static bool test_pins_and_root(void)
{
	char want[PATH_MAX];
	struct pmap pm;
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	ok = ASSERT_EQ(pmap_open(&pm, ch_root, true), 0);
	if (!ok)
		return false;
	pmap_close(&pm);
	snprintf(want, sizeof(want), "would remove pin %s/mf_config (map ",
		 ch_root);
	ok = UN(CTL_EXIT_OK, "--dry-run") && ph_out_has(want) &&
	     ASSERT_TRUE(exists(ch_root, "mf_config")) &&
	     ASSERT_TRUE(exists(ch_root, "mf_services"));
	snprintf(want, sizeof(want), "removed pin %s/mf_services (map ",
		 ch_root);
	ok = ok && UN(CTL_EXIT_OK) && ph_out_has(want) &&
	     ASSERT_FALSE(fsio_exists(ch_root));
	snprintf(want, sizeof(want), "removed dir %s\n", ch_root);
	return ok && ph_out_has(want);
}

/* A map named otherwise under one of our names, and a pin of another
 * name: both stay, and so does the root. */
static bool test_foreign_pins_stay(void)
{
	char want[PATH_MAX];
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	ok = ASSERT_EQ(mkdir(ch_root, 0700), 0) &&
	     pin_foreign("decoy", "mf_config") &&
	     pin_foreign("other", "other") &&
	     UN(CTL_EXIT_OK) &&
	     ASSERT_TRUE(exists(ch_root, "mf_config")) &&
	     ASSERT_TRUE(exists(ch_root, "other"));
	snprintf(want, sizeof(want), "kept pin %s/mf_config: not the map "
		 "meshforge pins under that name\n", ch_root);
	ok = ok && ph_out_has(want);
	snprintf(want, sizeof(want), "kept dir %s: it holds what is not "
		 "meshforge's\n", ch_root);
	ok = ok && ph_out_has(want);
	pmap_unpin_all(ch_root);
	return ok;
}

/* Writes @text to @dir/@name, the directory made first. */
static bool put(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return ASSERT_EQ(fsio_mkdirs(dir, 0755), 0) &&
	       ASSERT_EQ(fsio_write_atomic(path, text, strlen(text), 0600), 0);
}

static bool test_purge(void)
{
	char certs[160], secrets[160], want[PATH_MAX];
	bool ok;

	if (ch_skip_reason)
		TEST_SKIP(ch_skip_reason);
	snprintf(certs, sizeof(certs), "%s/certs", cfg);
	snprintf(secrets, sizeof(secrets), "%s/secrets", cfg);
	ok = put(cfg, "ca.key", "k\n") && put(cfg, "ca.crt", "c\n") &&
	     put(cfg, "trust-domain", "mesh.local\n") &&
	     put(cfg, "ca-previous.crt", "c\n") && put(cfg, "ca.crl", "l\n") &&
	     put(cfg, "issued", "01 1 spiffe://mesh.local/a\n") &&
	     put(cfg, "crl-uri", "http://127.0.0.1:15000/ca.crl\n") &&
	     put(certs, "a.crt", "c\n") && put(certs, "a.key", "k\n") &&
	     put(secrets, "gw.pem", "not ours\n") &&
	     put(state, "policy.yaml", "---\n") &&
	     put(state, "store.rev", "12\n") && put(state, "store.cache", "") &&
	     put(run, "mfctl.lock", "");
	ok = ok && UN(CTL_EXIT_OK, "--purge", "--dry-run") &&
	     ASSERT_TRUE(exists(cfg, "ca.key")) &&
	     ASSERT_TRUE(exists(certs, "a.key")) &&
	     ASSERT_TRUE(exists(state, "policy.yaml")) &&
	     ASSERT_TRUE(exists(run, "mfctl.lock"));
	snprintf(want, sizeof(want), "would remove file %s/ca.key\n", cfg);
	ok = ok && ph_out_has(want);
	ok = ok && UN(CTL_EXIT_OK, "--purge") &&
	     ASSERT_FALSE(exists(cfg, "ca.key")) &&
	     ASSERT_FALSE(exists(cfg, "ca.crt")) &&
	     ASSERT_FALSE(exists(cfg, "trust-domain")) &&
	     ASSERT_FALSE(exists(cfg, "ca-previous.crt")) &&
	     ASSERT_FALSE(exists(cfg, "ca.crl")) &&
	     ASSERT_FALSE(exists(cfg, "issued")) &&
	     ASSERT_FALSE(exists(cfg, "crl-uri")) &&
	     ASSERT_FALSE(fsio_exists(certs)) &&
	     ASSERT_TRUE(exists(secrets, "gw.pem")) &&
	     ASSERT_FALSE(fsio_exists(state)) &&
	     ASSERT_FALSE(fsio_exists(run));
	snprintf(want, sizeof(want), "removed dir %s/certs (2 files)\n", cfg);
	ok = ok && ph_out_has(want);
	snprintf(want, sizeof(want), "kept dir %s: it holds what is not "
		 "meshforge's\n", cfg);
	return ok && ph_out_has(want);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (ch_setup("/sys/fs/bpf/mf-test-un", "/tmp/mf-test-ctl-un.XXXXXX"))
		return 1;
	snprintf(cfg, sizeof(cfg), "%s/cfg", ch_tmpdir);
	snprintf(state, sizeof(state), "%s/state", ch_tmpdir);
	snprintf(run, sizeof(run), "%s/runp", ch_tmpdir);
	if (!ASSERT_EQ(fsio_mkdirs(cfg, 0755), 0))
		return 1;

	TEST_RUN(test_refuses_a_root_not_on_bpffs);
	TEST_RUN(test_nothing_there);
	TEST_RUN(test_pins_and_root);
	TEST_RUN(test_foreign_pins_stay);
	TEST_RUN(test_purge);
	TEST_MAIN_END();
}
