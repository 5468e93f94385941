// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl ca init` and `mfctl cert issue` into a temporary directory: the
 * files and their modes, the certificate contents (URI SAN = the SPIFFE
 * ID, CA basicConstraints critical), the chain verifying with wolfSSL and
 * with the openssl CLI, the key loading into a wolfSSL context as the
 * agent will load it, a reissue that replaces the pair whole and keeps
 * the others, and every refusal with its exit code; `cert verify` naming
 * the X.509-SVID rule each of a set of leaves breaks, leaves the openssl
 * CLI signs with the mesh CA's key, and `cert issue` refusing to sign
 * with a CA that breaks one.  `ca revoke`: by identity (every certificate
 * `cert issue` recorded for it), by serial, by certificate file, into one
 * list signed by the CA that grows and that `ca export` carries; its
 * refusals; the entries of ended certificates dropped.  `ca init
 * --crl-uri` and `ca set --crl-uri`: the cRLDistributionPoints of what is
 * issued after, read back by wolfSSL and openssl.  `cert issue --dns
 * --ip`: the SANs read back by wolfSSL and openssl, matched by `openssl
 * verify -verify_ip/-verify_hostname`, the X.509-SVID rules kept; bad
 * names refused.  The DER writer's
 * own encodings are tests/lib/test_der.c's; how certs/ is replaced,
 * tests/lib/test_certdir.c's.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>

#include "harness/test.h"
#include "harness/pki_harness.h"

#include "../../ctl/ctl.h"
#include "../../ctl/pki.h"
#include "der.h"
#include "fsio.h"

#ifndef GEN_URI
#define GEN_URI 6
#endif
#ifndef GEN_DNS
#define GEN_DNS 2
#endif
#ifndef GEN_IPADD
#define GEN_IPADD 7
#endif

#define ID_WEB "spiffe://mesh.local/ns/default/sa/web"
#define STEM_WEB "mesh.local+ns+default+sa+web"

static char dir[64];		/* the config dir of this run */

/* Runs the mfctl command line @argv with config dir @cfg. */
static int run_cmd(const char *cfg, char **argv)
{
	struct ctl_opts o = { .config_dir = cfg, .bpf_root = "/nonexistent" };
	int argc = 0;

	while (argv[argc])
		argc++;
	return ctl_run(&o, argc, argv);
}

static int ca_init(const char *cfg, const char *td, bool force)
{
	char *argv[] = { "ca", "init", "--trust-domain", (char *)td,
			 force ? "--force" : NULL, NULL };

	return run_cmd(cfg, argv);
}

static int cert_issue(const char *cfg, const char *id, const char *out,
		      const char *days)
{
	char *argv[9] = { "cert", "issue", "--identity", (char *)id };
	int n = 4;

	if (out) {
		argv[n++] = "--out";
		argv[n++] = (char *)out;
	}
	if (days) {
		argv[n++] = "--days";
		argv[n++] = (char *)days;
	}
	return run_cmd(cfg, argv);
}

static int file_mode(const char *dirname, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dirname, name);
	if (stat(path, &st))
		return -1;
	return st.st_mode & 07777;
}

/* Runs @cmd through the shell; returns its exit status and the first
 * @n - 1 bytes of its standard output in @out. */
static int shell(const char *cmd, char *out, size_t n)
{
	FILE *p = popen(cmd, "r");
	size_t got = 0;
	int st;

	if (!p)
		return -1;
	if (out && n) {
		got = fread(out, 1, n - 1, p);
		out[got] = '\0';
	}
	while (fgetc(p) != EOF)
		;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool have_openssl(void)
{
	return shell("command -v openssl >/dev/null 2>&1", NULL, 0) == 0;
}

static bool test_ca_init(void)
{
	char path[128], text[1024], *td = NULL;
	size_t len;
	bool ok;

	snprintf(path, sizeof(path), "%s/trust-domain", dir);
	ok = ASSERT_EQ(ca_init(dir, "mesh.local", false), CTL_EXIT_OK) &&
	     ASSERT_EQ(file_mode(dir, "ca.crt"), 0644) &&
	     ASSERT_EQ(file_mode(dir, "ca.key"), 0600) &&
	     ASSERT_EQ(file_mode(dir, "trust-domain"), 0644) &&
	     ASSERT_EQ(fsio_read_all(path, &td, &len), 0) &&
	     ASSERT_STREQ(td, "mesh.local\n");
	free(td);
	if (!ok || !have_openssl())
		return ok;
	snprintf(path, sizeof(path),
		 "openssl x509 -noout -subject -ext basicConstraints,keyUsage "
		 "-in %s/ca.crt", dir);
	ok = ASSERT_EQ(shell(path, text, sizeof(text)), 0) &&
	     ASSERT_TRUE(strstr(text, "CN = meshforge root CA mesh.local")) &&
	     ASSERT_TRUE(strstr(text, "Basic Constraints: critical\n    CA:TRUE")) &&
	     ASSERT_TRUE(strstr(text, "Key Usage: critical\n    Certificate Sign, CRL Sign"));
	if (!ok)
		fprintf(stderr, "%s\n", text);
	return ok;
}

static bool test_ca_init_refuses_overwrite(void)
{
	char path[128], *before = NULL, *after = NULL;
	size_t lb, la;
	bool ok;

	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	ok = ASSERT_EQ(fsio_read_all(path, &before, &lb), 0) &&
	     ASSERT_EQ(ca_init(dir, "mesh.local", false), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(fsio_read_all(path, &after, &la), 0) &&
	     ASSERT_TRUE(la == lb && !memcmp(before, after, la));
	free(after);
	after = NULL;
	/* --force replaces it. */
	ok = ok && ASSERT_EQ(ca_init(dir, "mesh.local", true), CTL_EXIT_OK) &&
	     ASSERT_EQ(fsio_read_all(path, &after, &la), 0) &&
	     ASSERT_FALSE(la == lb && !memcmp(before, after, la));
	free(after);
	free(before);
	return ok;
}

static bool test_ca_init_bad_trust_domain(void)
{
	char other[80];

	snprintf(other, sizeof(other), "%s/other", dir);
	return ASSERT_EQ(ca_init(other, "Mesh.Local", false), CTL_EXIT_INVALID) &&
	       ASSERT_EQ(ca_init(other, "a/b", false), CTL_EXIT_INVALID) &&
	       ASSERT_FALSE(fsio_exists(other));
}

/* The URI SANs of @der, via wolfSSL: must be exactly @want. */
static bool check_san(const char *pem_path, const char *want)
{
	WOLFSSL_X509 *x = wolfSSL_X509_load_certificate_file(pem_path,
							     WOLFSSL_FILETYPE_PEM);
	WOLFSSL_STACK *names;
	bool ok;

	if (!ASSERT_TRUE(x))
		return false;
	names = wolfSSL_X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	ok = ASSERT_TRUE(names) &&
	     ASSERT_EQ(wolfSSL_sk_GENERAL_NAME_num(names), 1);
	if (ok) {
		WOLFSSL_GENERAL_NAME *gn = wolfSSL_sk_GENERAL_NAME_value(names, 0);
		WOLFSSL_ASN1_STRING *s = gn->d.uniformResourceIdentifier;
		char buf[300] = "";
		int n;

		ok = ASSERT_EQ(gn->type, GEN_URI);
		n = ok ? wolfSSL_ASN1_STRING_length(s) : 0;
		if (ok && ASSERT_TRUE(n > 0 && n < (int)sizeof(buf)))
			memcpy(buf, wolfSSL_ASN1_STRING_data(s), (size_t)n);
		ok = ok && ASSERT_STREQ(buf, want);
	}
	if (names)
		wolfSSL_GENERAL_NAMES_free(names);
	wolfSSL_X509_free(x);
	return ok;
}

/* The chain verifies with wolfSSL's certificate manager. */
static bool check_chain_wolfssl(const char *ca, const char *leaf)
{
	WOLFSSL_CERT_MANAGER *cm = wolfSSL_CertManagerNew();
	bool ok;

	if (!ASSERT_TRUE(cm))
		return false;
	ok = ASSERT_EQ(wolfSSL_CertManagerLoadCA(cm, ca, NULL), WOLFSSL_SUCCESS) &&
	     ASSERT_EQ(wolfSSL_CertManagerVerify(cm, leaf, WOLFSSL_FILETYPE_PEM),
		       WOLFSSL_SUCCESS);
	wolfSSL_CertManagerFree(cm);
	return ok;
}

/* The agent loads cert + key into a TLS context; the key must match. */
static bool check_loads_in_ctx(const char *crt, const char *key)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfTLSv1_3_server_method());
	bool ok;

	if (!ASSERT_TRUE(ctx))
		return false;
	ok = ASSERT_EQ(wolfSSL_CTX_use_certificate_file(ctx, crt,
							WOLFSSL_FILETYPE_PEM),
		       WOLFSSL_SUCCESS) &&
	     ASSERT_EQ(wolfSSL_CTX_use_PrivateKey_file(ctx, key,
						       WOLFSSL_FILETYPE_PEM),
		       WOLFSSL_SUCCESS) &&
	     ASSERT_EQ(wolfSSL_CTX_check_private_key(ctx), WOLFSSL_SUCCESS);
	wolfSSL_CTX_free(ctx);
	return ok;
}

static bool test_cert_issue(void)
{
	char ca[128], crt[160], key[160], cmd[1024], text[2048];
	bool ok;

	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/certs/" STEM_WEB ".crt", dir);
	snprintf(key, sizeof(key), "%s/certs/" STEM_WEB ".key", dir);
	ok = ASSERT_EQ(cert_issue(dir, ID_WEB, NULL, NULL), CTL_EXIT_OK) &&
	     ASSERT_EQ(file_mode(dir, "certs/" STEM_WEB ".key"), 0600) &&
	     ASSERT_EQ(file_mode(dir, "certs/" STEM_WEB ".crt"), 0644) &&
	     check_san(crt, ID_WEB) && check_chain_wolfssl(ca, crt) &&
	     check_loads_in_ctx(crt, key);
	if (!ok)
		return false;
	if (!have_openssl()) {
		TEST_SKIP("openssl CLI not installed (wolfSSL checks passed)");
	}
	snprintf(cmd, sizeof(cmd), "openssl verify -x509_strict -purpose sslclient "
		 "-CAfile %s %s && openssl verify -purpose sslserver -CAfile %s %s",
		 ca, crt, ca, crt);
	ok = ASSERT_EQ(shell(cmd, NULL, 0), 0);
	snprintf(cmd, sizeof(cmd), "openssl x509 -noout -subject -ext "
		 "subjectAltName,basicConstraints,keyUsage,extendedKeyUsage "
		 "-in %s", crt);
	ok = ok && ASSERT_EQ(shell(cmd, text, sizeof(text)), 0) &&
	     ASSERT_TRUE(strstr(text, "URI:" ID_WEB "\n")) &&
	     ASSERT_TRUE(strstr(text, "subject=CN = /ns/default/sa/web")) &&
	     ASSERT_TRUE(strstr(text, "Basic Constraints: critical\n    CA:FALSE")) &&
	     ASSERT_TRUE(strstr(text, "Key Usage: critical\n    Digital Signature\n")) &&
	     ASSERT_TRUE(strstr(text, "TLS Web Server Authentication, TLS Web Client Authentication"));
	if (!ok)
		fprintf(stderr, "%s\n", text);
	return ok;
}

/* --out elsewhere: a complete agent config dir (ca.crt, trust-domain,
 * certs/), and --days sets the validity. */
static bool test_cert_issue_out_dir(void)
{
	char out[96], ca[128], crt[200], cmd[1024], text[256];
	bool ok;

	snprintf(out, sizeof(out), "%s/node-b", dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", out);
	snprintf(crt, sizeof(crt),
		 "%s/certs/mesh.local+ns+meshforge-system+sa+mf-node-b.crt", out);
	ok = ASSERT_EQ(cert_issue(dir, "spiffe://mesh.local/ns/meshforge-system/sa/mf-node-b",
				  out, "2"), CTL_EXIT_OK) &&
	     ASSERT_EQ(file_mode(out, "ca.crt"), 0644) &&
	     ASSERT_EQ(file_mode(out, "trust-domain"), 0644) &&
	     check_chain_wolfssl(ca, crt) &&
	     check_san(crt, "spiffe://mesh.local/ns/meshforge-system/sa/mf-node-b");
	if (!ok || !have_openssl())
		return ok;
	/* Valid for 2 days and 5 minutes, from 5 minutes ago. */
	snprintf(cmd, sizeof(cmd),
		 "openssl x509 -noout -checkend %d -in %s && "
		 "! openssl x509 -noout -checkend %d -in %s", 2 * 86400 - 60,
		 crt, 2 * 86400 + 60, crt);
	ok = ASSERT_EQ(shell(cmd, text, sizeof(text)), 0);
	return ok;
}

/* Reissuing replaces the pair with a new one that matches (its key, not
 * the old), keeps the other pairs in certs/ as they were, and leaves no
 * next version behind. */
static bool test_cert_reissue(void)
{
	char crt[160], key[160], node[200], *c0 = NULL, *c1 = NULL;
	char *n0 = NULL, *n1 = NULL, *k0 = NULL, *k1 = NULL;
	size_t lc0, lc1, ln0, ln1, lk0, lk1;
	bool ok;

	snprintf(crt, sizeof(crt), "%s/certs/" STEM_WEB ".crt", dir);
	snprintf(key, sizeof(key), "%s/certs/" STEM_WEB ".key", dir);
	snprintf(node, sizeof(node),
		 "%s/certs/mesh.local+ns+meshforge-system+sa+mf-node-a.crt", dir);
	ok = ASSERT_EQ(cert_issue(dir, "spiffe://mesh.local/ns/meshforge-system/sa/mf-node-a",
				  NULL, NULL), CTL_EXIT_OK) &&
	     ASSERT_EQ(fsio_read_all(crt, &c0, &lc0), 0) &&
	     ASSERT_EQ(fsio_read_all(key, &k0, &lk0), 0) &&
	     ASSERT_EQ(fsio_read_all(node, &n0, &ln0), 0) &&
	     ASSERT_EQ(cert_issue(dir, ID_WEB, NULL, NULL), CTL_EXIT_OK) &&
	     ASSERT_EQ(fsio_read_all(crt, &c1, &lc1), 0) &&
	     ASSERT_EQ(fsio_read_all(key, &k1, &lk1), 0) &&
	     ASSERT_EQ(fsio_read_all(node, &n1, &ln1), 0) &&
	     ASSERT_FALSE(lc0 == lc1 && !memcmp(c0, c1, lc0)) &&
	     ASSERT_FALSE(lk0 == lk1 && !memcmp(k0, k1, lk0)) &&
	     ASSERT_TRUE(ln0 == ln1 && !memcmp(n0, n1, ln0)) &&
	     check_loads_in_ctx(crt, key) &&
	     ASSERT_EQ(file_mode(dir, "certs/" STEM_WEB ".key"), 0600) &&
	     ASSERT_EQ(file_mode(dir, ".certs.next"), -1);
	free(c0);
	free(c1);
	free(k0);
	free(k1);
	free(n0);
	free(n1);
	return ok;
}

/* A certs/ that cannot be replaced whole (it holds a directory) is
 * refused as a system error, and the pair in it stays. */
static bool test_cert_issue_keeps_pair_on_failure(void)
{
	char crt[160], sub[128], *before = NULL, *after = NULL;
	size_t lb, la;
	bool ok;

	snprintf(crt, sizeof(crt), "%s/certs/" STEM_WEB ".crt", dir);
	snprintf(sub, sizeof(sub), "%s/certs/subdir", dir);
	ok = ASSERT_EQ(fsio_read_all(crt, &before, &lb), 0) &&
	     ASSERT_EQ(mkdir(sub, 0755), 0) &&
	     ASSERT_EQ(cert_issue(dir, ID_WEB, NULL, NULL), CTL_EXIT_SYSTEM) &&
	     ASSERT_EQ(fsio_read_all(crt, &after, &la), 0) &&
	     ASSERT_TRUE(la == lb && !memcmp(before, after, la)) &&
	     ASSERT_EQ(file_mode(dir, ".certs.next"), -1);
	rmdir(sub);
	free(before);
	free(after);
	return ok;
}

/* True when /proc/locks lists process @pid as waiting for a lock. */
static bool waits_for_lock(pid_t pid)
{
	char line[256], want[32];
	FILE *f = fopen("/proc/locks", "re");
	bool found = false;

	if (!f)
		return false;
	snprintf(want, sizeof(want), " %d ", (int)pid);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "->") && strstr(line, want);
	fclose(f);
	return found;
}

/* While `ca init` holds the config dir (its lock taken here, as it holds
 * it between writing ca.key and ca.crt), `cert issue` waits and writes
 * nothing: it never signs with half of a CA being replaced.  Into another
 * --out, so that only the CA's lock can hold it up. */
static bool test_cert_issue_waits_for_ca_init(void)
{
	char out[96], crt[200];
	int lock, status = -1;
	bool ok;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/waits", dir);
	snprintf(crt, sizeof(crt), "%s/certs/" STEM_WEB ".crt", out);
	lock = fsio_dir_lock(dir, true);
	fflush(NULL);
	pid = lock >= 0 ? fork() : -1;
	if (pid == 0) {
		/* The lock is the open file's: a copy kept here would hold
		 * it after the parent lets go. */
		close(lock);
		_exit(cert_issue(dir, ID_WEB, out, NULL));
	}
	/* Waiting on a condition the kernel shows: the child blocked. */
	for (int i = 0; pid > 0 && i < 5000 && !waits_for_lock(pid); i++)
		usleep(1000);
	ok = ASSERT_TRUE(lock >= 0) && ASSERT_TRUE(pid > 0) &&
	     ASSERT_TRUE(waits_for_lock(pid)) &&
	     ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) &&
	     ASSERT_FALSE(fsio_exists(crt));
	if (lock >= 0)
		close(lock);
	if (pid > 0)
		waitpid(pid, &status, 0);
	return ok && ASSERT_TRUE(WIFEXITED(status)) &&
	       ASSERT_EQ(WEXITSTATUS(status), CTL_EXIT_OK) &&
	       ASSERT_TRUE(fsio_exists(crt));
}

static bool test_cert_issue_refusals(void)
{
	char empty[96];

	snprintf(empty, sizeof(empty), "%s/empty", dir);
	return ASSERT_EQ(cert_issue(dir, "spiffe://other.td/ns/a/sa/b", NULL, NULL),
			 CTL_EXIT_INVALID) &&
	       ASSERT_EQ(cert_issue(dir, "spiffe://mesh.local", NULL, NULL),
			 CTL_EXIT_INVALID) &&
	       ASSERT_EQ(cert_issue(dir, "http://mesh.local/a", NULL, NULL),
			 CTL_EXIT_INVALID) &&
	       ASSERT_EQ(cert_issue(dir, ID_WEB, NULL, "0"), CTL_EXIT_INVALID) &&
	       ASSERT_EQ(cert_issue(dir, ID_WEB, NULL, "3651"), CTL_EXIT_INVALID) &&
	       ASSERT_EQ(cert_issue(dir, ID_WEB, NULL, "1x"), CTL_EXIT_INVALID) &&
	       /* No CA in that config dir. */
	       ASSERT_EQ(cert_issue(empty, ID_WEB, NULL, NULL), CTL_EXIT_INVALID);
}

/* A CA that does not match its key is a broken install: system error. */
static bool test_cert_issue_mismatched_ca(void)
{
	char other[96], cmd[300];

	snprintf(other, sizeof(other), "%s/mismatch", dir);
	snprintf(cmd, sizeof(cmd), "cp %s/ca.key %s/ca.key", dir, other);
	return ASSERT_EQ(ca_init(other, "mesh.local", false), CTL_EXIT_OK) &&
	       ASSERT_EQ(shell(cmd, NULL, 0), 0) &&
	       ASSERT_EQ(cert_issue(other, ID_WEB, NULL, NULL), CTL_EXIT_SYSTEM);
}

/* `mfctl cert verify` with @args (NULL-terminated, after "cert verify"),
 * its standard output in @out (@n bytes).  Returns its exit code. */
static int cert_verify(char **args, char *out, size_t n)
{
	char *argv[8] = { "cert", "verify" }, path[128];
	int argc = 2, saved, fd, rc;
	ssize_t got;

	while (*args && argc < 7)
		argv[argc++] = *args++;
	snprintf(path, sizeof(path), "%s/verify.out", dir);
	fflush(stdout);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	saved = dup(STDOUT_FILENO);
	if (fd < 0 || saved < 0 || dup2(fd, STDOUT_FILENO) < 0)
		return -1;
	rc = run_cmd(dir, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	got = pread(fd, out, n - 1, 0);
	out[got > 0 ? got : 0] = '\0';
	close(fd);
	fputs(out, stdout);
	return rc;
}

/* Each leaf of ph_svid_cases, signed by the mesh CA `ca init` made: 0
 * when it keeps the rules as a client's and a server's, else 1 and the
 * rule it breaks named; --role asks for one role; what `cert issue`
 * made passes, alone and with the CA above it. */
static bool test_cert_verify(void)
{
	char path[160], chain[160], out[1024], want[96], cmd[400];
	char *role_client[] = { "--role", "client", path, NULL };
	char *role_server[] = { "--role", "server", path, NULL };
	char *plain[] = { path, NULL };
	char *chained[] = { chain, NULL };
	bool ok = true;

	if (!have_openssl())
		TEST_SKIP("openssl CLI not installed");
	for (size_t i = 0; ok && i < PH_SVID_NCASES; i++) {
		const struct ph_svid_case *c = &ph_svid_cases[i];
		enum svid_rule both = c->client ? c->client : c->server;
		int rc;

		time_t made = time(NULL);

		snprintf(path, sizeof(path), "%s/svid-%s.crt", dir, c->name);
		ok = ASSERT_EQ(ph_make_svid(dir, "ca", "svid-", c, ID_WEB), 0);
		/* "expired" is past once the clock moved a whole second
		 * beyond its making. */
		while (ok && c->days == 0 && time(NULL) < made + 2)
			usleep(50 * 1000);
		rc = cert_verify(plain, out, sizeof(out));
		snprintf(want, sizeof(want), "breaks X.509-SVID rule %s:",
			 svid_rule_name(both));
		ok = ok && (both == SVID_OK ?
			    ASSERT_EQ(rc, CTL_EXIT_OK) &&
			    ASSERT_TRUE(strstr(out, ID_WEB) != NULL) :
			    ASSERT_EQ(rc, CTL_EXIT_INVALID) &&
			    ASSERT_TRUE(strstr(out, want) != NULL) &&
			    ASSERT_TRUE(strstr(out, "(the leaf)") != NULL));
		ok = ok && ASSERT_EQ(cert_verify(role_client, out, sizeof(out)),
				     c->client ? CTL_EXIT_INVALID : CTL_EXIT_OK) &&
		     ASSERT_EQ(cert_verify(role_server, out, sizeof(out)),
			       c->server ? CTL_EXIT_INVALID : CTL_EXIT_OK);
		if (!ok)
			fprintf(stderr, "  case %s\n", c->name);
	}
	snprintf(path, sizeof(path), "%s/certs/" STEM_WEB ".crt", dir);
	snprintf(chain, sizeof(chain), "%s/chain.pem", dir);
	snprintf(cmd, sizeof(cmd), "cat %s %s/ca.crt > %s", path, dir, chain);
	ok = ok && ASSERT_EQ(cert_verify(plain, out, sizeof(out)), CTL_EXIT_OK) &&
	     ASSERT_EQ(shell(cmd, NULL, 0), 0) &&
	     ASSERT_EQ(cert_verify(chained, out, sizeof(out)), CTL_EXIT_OK) &&
	     ASSERT_TRUE(strstr(out, "1 signing certificate above") != NULL);
	/* The CA alone is no leaf. */
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	ok = ok && ASSERT_EQ(cert_verify(plain, out, sizeof(out)),
			     CTL_EXIT_INVALID) &&
	     ASSERT_TRUE(strstr(out, "rule leaf_ca:") != NULL);
	/* Not a certificate, no file, no such role. */
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	ok = ok && ASSERT_EQ(cert_verify(plain, out, sizeof(out)),
			     CTL_EXIT_INVALID);
	snprintf(path, sizeof(path), "%s/nope.crt", dir);
	ok = ok && ASSERT_EQ(cert_verify(plain, out, sizeof(out)),
			     CTL_EXIT_SYSTEM);
	role_client[1] = "peer";
	return ok && ASSERT_EQ(cert_verify(role_client, out, sizeof(out)),
			       CTL_EXIT_INVALID);
}

/* A CA whose certificate breaks a signing rule (its keyUsage is not
 * critical) issues nothing: an agent would refuse what it signs. */
static bool test_cert_issue_refuses_bad_ca(void)
{
	char soft[96], cmd[512], crt[192];

	if (!have_openssl())
		TEST_SKIP("openssl CLI not installed");
	snprintf(soft, sizeof(soft), "%s/soft-ca", dir);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -x509 -key ca.key -subj /CN=soft "
		 "-days 2 -addext basicConstraints=critical,CA:TRUE "
		 "-addext keyUsage=keyCertSign,cRLSign -out ca.crt "
		 ">/dev/null 2>&1", soft);
	snprintf(crt, sizeof(crt), "%s/certs/" STEM_WEB ".crt", soft);
	return ASSERT_EQ(ca_init(soft, "mesh.local", false), CTL_EXIT_OK) &&
	       ASSERT_EQ(cert_issue(soft, ID_WEB, NULL, NULL), CTL_EXIT_OK) &&
	       ASSERT_EQ(unlink(crt), 0) &&
	       ASSERT_EQ(shell(cmd, NULL, 0), 0) &&
	       ASSERT_EQ(cert_issue(soft, ID_WEB, NULL, NULL),
			 CTL_EXIT_INVALID) &&
	       ASSERT_FALSE(fsio_exists(crt));
}

/* ca rotate keeps the replaced root beside the new one (ca-previous.crt,
 * which a second rotation extends), ca export carries both to an agent's
 * directory and, once pruned, takes the old root away there too; without
 * a CA or without --out they refuse. */
static bool test_ca_rotate_export_prune(void)
{
	char empty[] = "/tmp/mf-test-pki-empty-XXXXXX", out[128], path[192];
	char *rotate[] = { "ca", "rotate", NULL };
	char *prune[] = { "ca", "prune", NULL };
	char *export_no_out[] = { "ca", "export", NULL };
	char *export[] = { "ca", "export", "--out", out, NULL };
	char *old = NULL, *prev = NULL, *cur = NULL, *prev2 = NULL;
	size_t old_len, prev_len, cur_len, prev2_len;
	bool ok;

	snprintf(out, sizeof(out), "%s/agent-x", dir);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	ok = ASSERT_TRUE(mkdtemp(empty) != NULL) &&
	     ASSERT_EQ(run_cmd(empty, rotate), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(run_cmd(dir, export_no_out), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(fsio_read_all(path, &old, &old_len), 0) &&
	     ASSERT_EQ(run_cmd(dir, rotate), CTL_EXIT_OK) &&
	     ASSERT_EQ(fsio_read_all(path, &cur, &cur_len), 0) &&
	     ASSERT_FALSE(cur_len == old_len && !memcmp(cur, old, old_len));
	rmdir(empty);
	snprintf(path, sizeof(path), "%s/ca-previous.crt", dir);
	ok = ok && ASSERT_EQ(fsio_read_all(path, &prev, &prev_len), 0) &&
	     ASSERT_EQ(prev_len, old_len) && ASSERT_MEMEQ(prev, old, old_len) &&
	     ASSERT_EQ(run_cmd(dir, export), CTL_EXIT_OK) &&
	     ASSERT_EQ(file_mode(out, "ca-previous.crt"), 0644) &&
	     ASSERT_EQ(file_mode(out, "ca.crt"), 0644) &&
	     /* A second rotation: both older roots stay. */
	     ASSERT_EQ(run_cmd(dir, rotate), CTL_EXIT_OK) &&
	     ASSERT_EQ(fsio_read_all(path, &prev2, &prev2_len), 0) &&
	     ASSERT_EQ(prev2_len, cur_len + old_len) &&
	     ASSERT_MEMEQ(prev2, cur, cur_len) &&
	     ASSERT_EQ(run_cmd(dir, prune), CTL_EXIT_OK) &&
	     ASSERT_EQ(file_mode(dir, "ca-previous.crt"), -1) &&
	     ASSERT_EQ(run_cmd(dir, export), CTL_EXIT_OK) &&
	     ASSERT_EQ(file_mode(out, "ca-previous.crt"), -1);
	free(old);
	free(prev);
	free(cur);
	free(prev2);
	return ok;
}

/* The serial of the certificate in @path into @out (hex). */
static bool serial_of(const char *path, char *out, size_t n)
{
	struct der_cert c;
	uint8_t *der = NULL;
	size_t len;
	bool ok;

	ok = ASSERT_EQ(pki_cert_load(path, &der, &len), 0) &&
	     ASSERT_EQ(der_cert_parse(der, len, &c), 0);
	if (ok)
		der_serial_hex(c.serial.p, c.serial.len, out, n);
	free(der);
	return ok;
}

/* Whether @cfg's ca.crl lists the serials @want (hex, NULL-ended) and
 * nothing else, with cRLNumber @number. */
static bool crl_lists(const char *cfg, const char *const *want,
		      uint64_t number)
{
	char path[192], hex[2 * PKI_SERIAL_MAX + 1], *buf = NULL;
	struct der_crl_entry e;
	struct der_crl crl;
	size_t len, n = 0, w = 0;
	bool ok;

	while (want[w])
		w++;
	snprintf(path, sizeof(path), "%s/ca.crl", cfg);
	ok = ASSERT_EQ(fsio_read_all(path, &buf, &len), 0) &&
	     ASSERT_EQ(der_crl_parse((uint8_t *)buf, len, &crl), 0) &&
	     ASSERT_EQ(crl.number, number) &&
	     ASSERT_TRUE(crl.next_update > crl.this_update);
	while (ok && der_crl_next(&crl.revoked, &e) > 0) {
		bool found = false;

		der_serial_hex(e.serial.p, e.serial.len, hex, sizeof(hex));
		for (size_t i = 0; i < w; i++)
			found = found || !strcmp(want[i], hex);
		ok = ASSERT_TRUE(found);
		if (!ok)
			printf("  unexpected serial %s\n", hex);
		n++;
	}
	free(buf);
	return ok && ASSERT_EQ(n, w);
}

static bool test_ca_revoke(void)
{
	char cfg[] = "/tmp/mf-test-pki-revoke-XXXXXX", o1[96], o2[96];
	char c1[160], c2[160], other[96], oc[160], cmd[512];
	char s1[2 * PKI_SERIAL_MAX + 1], s2[2 * PKI_SERIAL_MAX + 1];
	char *by_id[] = { "ca", "revoke", "--identity", ID_WEB, "--reason",
			  "keyCompromise", NULL };
	char *by_serial[] = { "ca", "revoke", "--serial", "0x00ABCDEF", NULL };
	char *by_cert[] = { "ca", "revoke", "--cert", c1, NULL };
	char *foreign[] = { "ca", "revoke", "--cert", oc, NULL };
	char *two[] = { "ca", "revoke", "--serial", "01", "--cert", c1, NULL };
	char *reason[] = { "ca", "revoke", "--serial", "01", "--reason",
			   "certificateHold", NULL };
	char *bad_serial[] = { "ca", "revoke", "--serial", "12:34", NULL };
	char *nobody[] = { "ca", "revoke", "--identity",
			   "spiffe://mesh.local/ns/default/sa/nobody", NULL };
	char *resign[] = { "ca", "revoke", "--days", "2", NULL };
	char *export[] = { "ca", "export", "--out", o1, NULL };
	const char *after_id[3], *after_serial[4];
	bool ok;

	if (!ASSERT_TRUE(mkdtemp(cfg) != NULL))
		return false;
	snprintf(o1, sizeof(o1), "%s/one", cfg);
	snprintf(o2, sizeof(o2), "%s/two", cfg);
	snprintf(other, sizeof(other), "%s/other", cfg);
	snprintf(c1, sizeof(c1), "%s/certs/" STEM_WEB ".crt", o1);
	snprintf(c2, sizeof(c2), "%s/certs/" STEM_WEB ".crt", o2);
	snprintf(oc, sizeof(oc), "%s/certs/" STEM_WEB ".crt", other);
	/* Two certificates of one identity, in two places. */
	ok = ASSERT_EQ(ca_init(cfg, "mesh.local", false), CTL_EXIT_OK) &&
	     ASSERT_EQ(cert_issue(cfg, ID_WEB, o1, NULL), CTL_EXIT_OK) &&
	     ASSERT_EQ(cert_issue(cfg, ID_WEB, o2, NULL), CTL_EXIT_OK) &&
	     ASSERT_EQ(ca_init(other, "mesh.local", false), CTL_EXIT_OK) &&
	     ASSERT_EQ(cert_issue(other, ID_WEB, NULL, NULL), CTL_EXIT_OK) &&
	     serial_of(c1, s1, sizeof(s1)) && serial_of(c2, s2, sizeof(s2)) &&
	     /* Refusals, before any list: none made. */
	     ASSERT_EQ(run_cmd(cfg, two), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(run_cmd(cfg, reason), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(run_cmd(cfg, bad_serial), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(run_cmd(cfg, nobody), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(run_cmd(cfg, foreign), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(file_mode(cfg, "ca.crl"), -1);
	after_id[0] = s1;
	after_id[1] = s2;
	after_id[2] = NULL;
	after_serial[0] = s1;
	after_serial[1] = s2;
	after_serial[2] = "abcdef";
	after_serial[3] = NULL;
	/* By identity: both; by serial: one more; by a certificate already
	 * there, and signed again: no more. */
	ok = ok && ASSERT_EQ(run_cmd(cfg, by_id), CTL_EXIT_OK) &&
	     ASSERT_EQ(file_mode(cfg, "ca.crl"), 0644) &&
	     crl_lists(cfg, after_id, 1) &&
	     ASSERT_EQ(run_cmd(cfg, by_serial), CTL_EXIT_OK) &&
	     crl_lists(cfg, after_serial, 2) &&
	     ASSERT_EQ(run_cmd(cfg, by_cert), CTL_EXIT_OK) &&
	     ASSERT_EQ(run_cmd(cfg, resign), CTL_EXIT_OK) &&
	     crl_lists(cfg, after_serial, 4) &&
	     ASSERT_EQ(run_cmd(cfg, export), CTL_EXIT_OK) &&
	     ASSERT_EQ(file_mode(o1, "ca.crl"), 0644);
	/* The list verifies with the CA (openssl's own reading). */
	if (ok && have_openssl()) {
		snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in "
			 "%s/ca.crl -CAfile %s/ca.crt -noout 2>&1", cfg, cfg);
		ok = ASSERT_EQ(shell(cmd, NULL, 0), 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cfg);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", cfg);
	return ok;
}

/* The cRLDistributionPoints URI of certificate @pem_path, as wolfSSL's
 * certificate parser reads it, into @buf: "" when it has none. */
static bool crl_dp_wolfssl(const char *pem_path, char *buf, size_t n)
{
	struct DecodedCert dc;
	uint8_t *der = NULL;
	size_t len;
	bool ok;

	buf[0] = '\0';
	if (!ASSERT_EQ(pki_cert_load(pem_path, &der, &len), 0))
		return false;
	wc_InitDecodedCert(&dc, der, (word32)len, NULL);
	ok = ASSERT_EQ(wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL), 0);
	if (ok && dc.extCrlInfo) {
		ok = ASSERT_TRUE(dc.extCrlInfoSz > 0 &&
				 (size_t)dc.extCrlInfoSz < n);
		if (ok) {
			memcpy(buf, dc.extCrlInfo, (size_t)dc.extCrlInfoSz);
			buf[dc.extCrlInfoSz] = '\0';
		}
	}
	wc_FreeDecodedCert(&dc);
	free(der);
	return ok;
}

/*
 * `ca init --crl-uri` and `ca set --crl-uri`: the URI kept in crl-uri,
 * and every certificate `cert issue` makes after carries it in a
 * cRLDistributionPoints extension that wolfSSL and openssl read back as
 * that URI (openssl: a DistributionPoint with a Full Name URI); `ca set
 * ""` removes it; bad URIs refused (exit 1) with nothing changed.
 */
static bool test_crl_uri(void)
{
	char cfg[] = "/tmp/mf-test-pki-crluri-XXXXXX", crt[160], got[300];
	char path[96], cmd[512], text[2048], *line = NULL;
	char *init[] = { "ca", "init", "--trust-domain", "mesh.local",
			 "--crl-uri", "http://127.0.0.1:15000/ca.crl", NULL };
	char *set2[] = { "ca", "set", "--crl-uri",
			 "http://crl.mesh.local:8080/mesh/ca.crl", NULL };
	char *unset[] = { "ca", "set", "--crl-uri", "", NULL };
	char *bad_set[] = { "ca", "set", "--crl-uri", "ldap://x/y", NULL };
	char *bad_set2[] = { "ca", "set", "--crl-uri", "http://a b/c", NULL };
	char *bad_set3[] = { "ca", "set", "--crl-uri", "http:///ca.crl", NULL };
	char *no_uri[] = { "ca", "set", NULL };
	char bad_dir[96];
	char *bad_init[] = { "ca", "init", "--trust-domain", "mesh.local",
			     "--crl-uri", "https://x/ca.crl", NULL };
	size_t len;
	bool ok;

	if (!ASSERT_TRUE(mkdtemp(cfg) != NULL))
		return false;
	snprintf(crt, sizeof(crt), "%s/certs/" STEM_WEB ".crt", cfg);
	snprintf(path, sizeof(path), "%s/crl-uri", cfg);
	snprintf(bad_dir, sizeof(bad_dir), "%s/bad", cfg);
	ok = ASSERT_EQ(run_cmd(bad_dir, bad_init), CTL_EXIT_INVALID) &&
	     ASSERT_FALSE(fsio_exists(bad_dir)) &&
	     ASSERT_EQ(run_cmd(cfg, init), CTL_EXIT_OK) &&
	     ASSERT_EQ(file_mode(cfg, "crl-uri"), 0644) &&
	     ASSERT_EQ(fsio_read_all(path, &line, &len), 0) &&
	     ASSERT_STREQ(line, "http://127.0.0.1:15000/ca.crl\n") &&
	     ASSERT_EQ(cert_issue(cfg, ID_WEB, NULL, NULL), CTL_EXIT_OK) &&
	     crl_dp_wolfssl(crt, got, sizeof(got)) &&
	     ASSERT_STREQ(got, "http://127.0.0.1:15000/ca.crl");
	free(line);
	line = NULL;
	if (ok && have_openssl()) {
		snprintf(cmd, sizeof(cmd), "openssl x509 -noout -ext "
			 "crlDistributionPoints -in %s", crt);
		ok = ASSERT_EQ(shell(cmd, text, sizeof(text)), 0) &&
		     ASSERT_TRUE(strstr(text, "X509v3 CRL Distribution "
				       "Points:")) &&
		     ASSERT_TRUE(strstr(text, "Full Name:\n") &&
				 strstr(text, "URI:http://127.0.0.1:15000/"
					"ca.crl\n"));
		if (!ok)
			fprintf(stderr, "%s\n", text);
	}
	/* Refusals leave the URI as it was. */
	ok = ok && ASSERT_EQ(run_cmd(cfg, bad_set), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(run_cmd(cfg, bad_set2), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(run_cmd(cfg, bad_set3), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(run_cmd(cfg, no_uri), CTL_EXIT_INVALID) &&
	     ASSERT_EQ(fsio_read_all(path, &line, &len), 0) &&
	     ASSERT_STREQ(line, "http://127.0.0.1:15000/ca.crl\n");
	free(line);
	/* Changed: the next certificate names the new URI. */
	ok = ok && ASSERT_EQ(run_cmd(cfg, set2), CTL_EXIT_OK) &&
	     ASSERT_EQ(cert_issue(cfg, ID_WEB, NULL, NULL), CTL_EXIT_OK) &&
	     crl_dp_wolfssl(crt, got, sizeof(got)) &&
	     ASSERT_STREQ(got, "http://crl.mesh.local:8080/mesh/ca.crl");
	/* Removed: none. */
	ok = ok && ASSERT_EQ(run_cmd(cfg, unset), CTL_EXIT_OK) &&
	     ASSERT_FALSE(fsio_exists(path)) &&
	     ASSERT_EQ(cert_issue(cfg, ID_WEB, NULL, NULL), CTL_EXIT_OK) &&
	     crl_dp_wolfssl(crt, got, sizeof(got)) && ASSERT_STREQ(got, "");
	/* A new CA without --crl-uri starts without one. */
	ok = ok && ASSERT_EQ(run_cmd(cfg, set2), CTL_EXIT_OK) &&
	     ASSERT_EQ(ca_init(cfg, "mesh.local", true), CTL_EXIT_OK) &&
	     ASSERT_FALSE(fsio_exists(path));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cfg);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", cfg);
	return ok;
}

/* cert issue with the extra names of @dns and @ips (NULL-ended). */
static int cert_issue_names(const char *cfg, const char *id,
			    const char *const *dns, const char *const *ips)
{
	char *argv[32] = { "cert", "issue", "--identity", (char *)id };
	int n = 4;

	for (; dns && *dns && n < 29; dns++) {
		argv[n++] = "--dns";
		argv[n++] = (char *)*dns;
	}
	for (; ips && *ips && n < 29; ips++) {
		argv[n++] = "--ip";
		argv[n++] = (char *)*ips;
	}
	return run_cmd(cfg, argv);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The subjectAltName of @pem_path as wolfSSL reads it, one line per name
 * ("URI:...", "DNS:...", "IP:<dotted or 16 hex bytes>"), into @buf. */
static bool san_list(const char *pem_path, char *buf, size_t n)
{
	WOLFSSL_X509 *x = wolfSSL_X509_load_certificate_file(pem_path,
							     WOLFSSL_FILETYPE_PEM);
	WOLFSSL_STACK *names;
	size_t o = 0;
	bool ok;

	buf[0] = '\0';
	if (!ASSERT_TRUE(x))
		return false;
	names = wolfSSL_X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	ok = ASSERT_TRUE(names);
	for (int i = 0; ok && i < wolfSSL_sk_GENERAL_NAME_num(names); i++) {
		WOLFSSL_GENERAL_NAME *gn = wolfSSL_sk_GENERAL_NAME_value(names, i);
		WOLFSSL_ASN1_STRING *s = gn->d.ia5;
		const unsigned char *d = wolfSSL_ASN1_STRING_data(s);
		int len = wolfSSL_ASN1_STRING_length(s);

		if (gn->type == GEN_URI || gn->type == GEN_DNS) {
			o += (size_t)snprintf(buf + o, n - o, "%s:%.*s\n",
					      gn->type == GEN_URI ? "URI" :
					      "DNS", len, (const char *)d);
		} else if (gn->type == GEN_IPADD && len == 4) {
			o += (size_t)snprintf(buf + o, n - o,
					      "IP:%u.%u.%u.%u\n", d[0], d[1],
					      d[2], d[3]);
		} else if (gn->type == GEN_IPADD) {
			o += (size_t)snprintf(buf + o, n - o, "IP:");
			for (int k = 0; k < len && o < n; k++)
				o += (size_t)snprintf(buf + o, n - o, "%02x",
						      d[k]);
			o += (size_t)snprintf(buf + o, n - o, "\n");
		} else {
			o += (size_t)snprintf(buf + o, n - o, "type %d\n",
					      gn->type);
		}
		ok = ASSERT_TRUE(o < n);
	}
	if (names)
		wolfSSL_GENERAL_NAMES_free(names);
	wolfSSL_X509_free(x);
	return ok;
}

/*
 * `cert issue --dns --ip`: the SANs the URI first, then each name given,
 * as wolfSSL and openssl read them; the certificate keeps the X.509-SVID
 * rules (`cert verify`), its SPIFFE ID is what the agent reads, openssl
 * matches it to the address and name (verify -verify_ip, -verify_hostname);
 * bad names refused (exit 1) before anything is issued.
 */
static bool test_cert_issue_names(void)
{
	static const char *const dns[] = { "node-a.mesh.local", "node-a",
					   NULL };
	static const char *const ips[] = { "127.0.0.1", "fd00::a", NULL };
	static const char *const bad_dns[][2] = {
		{ "Node-A.mesh.local", NULL }, { "*.mesh.local", NULL },
		{ "a..b", NULL }, { "-a.b", NULL }, { "", NULL },
	};
	static const char *const bad_ips[][2] = {
		{ "127.0.0", NULL }, { "localhost", NULL },
		{ "127.0.0.1/8", NULL }, { "fd00::a::1", NULL },
	};
	char cfg[] = "/tmp/mf-test-pki-names-XXXXXX", crt[160], got[1024];
	char cmd[1200], text[2048], id[300];
	char *verify[] = { "cert", "verify", crt, NULL };
	uint8_t *der = NULL;
	size_t len;
	bool ok;

	if (!ASSERT_TRUE(mkdtemp(cfg) != NULL))
		return false;
	snprintf(crt, sizeof(crt), "%s/certs/" STEM_WEB ".crt", cfg);
	ok = ASSERT_EQ(ca_init(cfg, "mesh.local", false), CTL_EXIT_OK);
	for (size_t i = 0; ok && i < sizeof(bad_dns) / sizeof(bad_dns[0]); i++)
		ok = ASSERT_EQ(cert_issue_names(cfg, ID_WEB, bad_dns[i], NULL),
			       CTL_EXIT_INVALID);
	for (size_t i = 0; ok && i < sizeof(bad_ips) / sizeof(bad_ips[0]); i++)
		ok = ASSERT_EQ(cert_issue_names(cfg, ID_WEB, NULL, bad_ips[i]),
			       CTL_EXIT_INVALID);
	ok = ok && ASSERT_FALSE(fsio_exists(crt)) &&
	     ASSERT_EQ(cert_issue_names(cfg, ID_WEB, dns, ips), CTL_EXIT_OK) &&
	     san_list(crt, got, sizeof(got)) &&
	     /* wolfSSL's list need not keep the certificate's order
	      * (openssl's text below shows it). */
	     ASSERT_TRUE(strstr(got, "URI:" ID_WEB "\n")) &&
	     ASSERT_TRUE(strstr(got, "DNS:node-a.mesh.local\n")) &&
	     ASSERT_TRUE(strstr(got, "DNS:node-a\n")) &&
	     ASSERT_TRUE(strstr(got, "IP:127.0.0.1\n")) &&
	     ASSERT_TRUE(strstr(got, "IP:fd00000000000000000000000000000a\n")) &&
	     ASSERT_EQ(count_lines(got), 5) &&
	     ASSERT_EQ(run_cmd(cfg, verify), CTL_EXIT_OK) &&
	     ASSERT_EQ(pki_cert_load(crt, &der, &len), 0) &&
	     ASSERT_EQ(der_cert_spiffe(der, len, id, sizeof(id)), 0) &&
	     ASSERT_STREQ(id, ID_WEB);
	free(der);
	if (ok && have_openssl()) {
		snprintf(cmd, sizeof(cmd), "openssl x509 -noout -ext "
			 "subjectAltName -in %s && openssl verify -CAfile "
			 "%s/ca.crt -verify_ip 127.0.0.1 %s >/dev/null && "
			 "openssl verify -CAfile %s/ca.crt -verify_hostname "
			 "node-a.mesh.local %s >/dev/null && ! openssl verify "
			 "-CAfile %s/ca.crt -verify_ip 127.0.0.2 %s "
			 ">/dev/null 2>&1", crt, cfg, crt, cfg, crt, cfg, crt);
		ok = ASSERT_EQ(shell(cmd, text, sizeof(text)), 0) &&
		     ASSERT_TRUE(strstr(text, "URI:" ID_WEB ", "
				       "DNS:node-a.mesh.local, DNS:node-a, "
				       "IP Address:127.0.0.1, IP Address:"
				       "FD00:0:0:0:0:0:0:A"));
		if (!ok)
			fprintf(stderr, "%s\n", text);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cfg);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", cfg);
	return ok;
}

/* Appends line @line to @cfg's record of what was issued. */
static bool issued_append(const char *cfg, const char *line)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/issued", cfg);
	f = fopen(path, "a");
	if (!ASSERT_TRUE(f))
		return false;
	fputs(line, f);
	return ASSERT_EQ(fclose(f), 0);
}

/*
 * `ca revoke` drops the entries of certificates that have ended, as the
 * record of what was issued says (more than PKI_BACKDATE ago), and keeps
 * those of certificates still valid, ended only just, or not recorded
 * (their end unknown).
 */
static bool test_ca_revoke_prunes_ended(void)
{
	char cfg[] = "/tmp/mf-test-pki-prune-XXXXXX", crt[160], line[256];
	char s1[2 * PKI_SERIAL_MAX + 1], cmd[128];
	char *by_id[] = { "ca", "revoke", "--identity", ID_WEB, NULL };
	char *ended[] = { "ca", "revoke", "--serial", "7a01", NULL };
	char *just[] = { "ca", "revoke", "--serial", "7a02", NULL };
	char *unknown[] = { "ca", "revoke", "--serial", "7a03", NULL };
	char *resign[] = { "ca", "revoke", NULL };
	const char *before[] = { NULL, "7a01", "7a02", "7a03", NULL };
	const char *after[] = { NULL, "7a02", "7a03", NULL };
	time_t now = time(NULL);
	bool ok;

	if (!ASSERT_TRUE(mkdtemp(cfg) != NULL))
		return false;
	snprintf(crt, sizeof(crt), "%s/certs/" STEM_WEB ".crt", cfg);
	ok = ASSERT_EQ(ca_init(cfg, "mesh.local", false), CTL_EXIT_OK) &&
	     ASSERT_EQ(cert_issue(cfg, ID_WEB, NULL, NULL), CTL_EXIT_OK) &&
	     serial_of(crt, s1, sizeof(s1)) &&
	     ASSERT_EQ(run_cmd(cfg, by_id), CTL_EXIT_OK) &&
	     ASSERT_EQ(run_cmd(cfg, ended), CTL_EXIT_OK) &&
	     ASSERT_EQ(run_cmd(cfg, just), CTL_EXIT_OK) &&
	     ASSERT_EQ(run_cmd(cfg, unknown), CTL_EXIT_OK);
	before[0] = after[0] = s1;
	ok = ok && crl_lists(cfg, before, 4);
	/* 7a01 ended an hour ago, 7a02 a minute ago; 7a03 is not recorded. */
	snprintf(line, sizeof(line), "7a01 %lld " ID_WEB "\n7a02 %lld " ID_WEB
		 "\n", (long long)(now - 3600), (long long)(now - 60));
	ok = ok && issued_append(cfg, line) &&
	     ASSERT_EQ(run_cmd(cfg, resign), CTL_EXIT_OK) &&
	     crl_lists(cfg, after, 5);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cfg);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", cfg);
	return ok;
}

int main(void)
{
	char cmd[128];

	TEST_MAIN_BEGIN();
	strcpy(dir, "/tmp/mf-test-ctl-pki.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	wolfSSL_Init();
	TEST_RUN(test_ca_init);
	TEST_RUN(test_ca_init_refuses_overwrite);
	TEST_RUN(test_ca_init_bad_trust_domain);
	TEST_RUN(test_ca_rotate_export_prune);
	TEST_RUN(test_cert_issue);
	TEST_RUN(test_cert_issue_out_dir);
	TEST_RUN(test_cert_reissue);
	TEST_RUN(test_cert_issue_keeps_pair_on_failure);
	TEST_RUN(test_cert_issue_waits_for_ca_init);
	TEST_RUN(test_cert_issue_refusals);
	TEST_RUN(test_cert_issue_mismatched_ca);
	TEST_RUN(test_cert_verify);
	TEST_RUN(test_cert_issue_refuses_bad_ca);
	TEST_RUN(test_ca_revoke);
	TEST_RUN(test_ca_revoke_prunes_ended);
	TEST_RUN(test_crl_uri);
	TEST_RUN(test_cert_issue_names);
	wolfSSL_Cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	TEST_MAIN_END();
}
