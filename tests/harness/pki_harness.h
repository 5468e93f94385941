/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test PKI the TLS tests share (test_tls, test_tls_mem, test_tls_record,
 * test_certs, test_tunnel), made at test time with the openssl CLI in a
 * directory the test owns (and removes):
 *   ph_sh()            run a printf-formatted shell command (system()).
 *   ph_have_openssl()  whether the openssl CLI runs at all, so a test can
 *                      skip rather than fail on a machine without it.
 *   ph_make_ca()       a self-signed ECDSA P-256 CA, <stem>.crt/.key.
 *   ph_make_leaf()     an ECDSA P-256 leaf signed by a CA of that dir, with
 *                      a subjectAltName (URI SANs for SPIFFE ids), usable
 *                      as both TLS client and server.
 *   ph_make_pki()      the usual set in a new dir: CA "ca", leaves "client"
 *                      (PH_ID_CLIENT) and "server" (PH_ID_SERVER);
 *                      ph_remove() removes the dir.
 * Both certificates are valid for 2 days.  Paths are relative to the dir,
 * so a leaf may be written to certs/<stem> (the identity-store layout).
 *
 * Include after "harness/test.h".  Everything is static inline so a test that
 * uses only part of it still builds with -Werror.
 */
#ifndef MF_PKI_HARNESS_H
#define MF_PKI_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PH_ID_CLIENT "spiffe://mesh.local/ns/default/sa/client"
#define PH_ID_SERVER "spiffe://mesh.local/ns/meshforge-system/sa/mf-node-b"

/* Runs the command @fmt formats through the shell.  Returns system()'s
 * status (0 when the command succeeded), or -1 when the command does not
 * fit the buffer: a truncated command must never run. */
static inline int ph_sh(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline int ph_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	return system(cmd);
}

static inline bool ph_have_openssl(void)
{
	return ph_sh("openssl version >/dev/null 2>&1") == 0;
}

/* A self-signed CA in @dir: @stem.key and @stem.crt, subject /CN=@cn,
 * critical basicConstraints CA:TRUE and keyUsage keyCertSign,cRLSign.
 * Returns 0, or non-zero when openssl failed. */
static inline int ph_make_ca(const char *dir, const char *stem,
			     const char *cn)
{
	return ph_sh("cd %s && openssl req -x509 -newkey ec "
		     "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s.key "
		     "-out %s.crt -days 2 -subj /CN=%s "
		     "-addext basicConstraints=critical,CA:TRUE "
		     "-addext keyUsage=critical,keyCertSign,cRLSign "
		     ">/dev/null 2>&1", dir, stem, stem, cn);
}

/* A leaf in @dir: @out_stem.key and @out_stem.crt (@out_stem relative to
 * @dir, e.g. "client" or "certs/<stem>"), subject /CN=@cn, signed by the CA
 * @ca_stem.crt/.key of @dir (serial in @ca_stem.srl).  Extensions:
 * subjectAltName=@san in openssl syntax (e.g. "URI:spiffe://..."; none when
 * @san is NULL), critical CA:FALSE, critical keyUsage digitalSignature,
 * extendedKeyUsage serverAuth,clientAuth.  The request and extension file
 * are scratch files @cn.csr and @cn.ext in @dir, overwritten by the next
 * leaf with the same @cn.  Returns 0, or non-zero on failure. */
static inline int ph_make_leaf(const char *dir, const char *ca_stem,
			       const char *out_stem, const char *cn,
			       const char *san)
{
	char ext[256];
	FILE *f;
	int n;

	n = snprintf(ext, sizeof(ext), "%s/%s.ext", dir, cn);
	if (n < 0 || (size_t)n >= sizeof(ext))
		return -1;
	f = fopen(ext, "w");
	if (!f)
		return -1;
	if (san)
		fprintf(f, "subjectAltName=%s\n", san);
	fprintf(f, "basicConstraints=critical,CA:FALSE\n"
		   "keyUsage=critical,digitalSignature\n"
		   "extendedKeyUsage=serverAuth,clientAuth\n");
	if (fclose(f) != 0)
		return -1;
	return ph_sh("cd %s && openssl req -new -newkey ec "
		     "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s.key "
		     "-out %s.csr -subj /CN=%s >/dev/null 2>&1 && "
		     "openssl x509 -req -in %s.csr -CA %s.crt -CAkey %s.key "
		     "-CAcreateserial -days 2 -out %s.crt -extfile %s.ext "
		     ">/dev/null 2>&1",
		     dir, out_stem, cn, cn, cn, ca_stem, ca_stem, out_stem, cn);
}

/* Makes /tmp/mf-test-@name-XXXXXX, its path in @dir (@n bytes), with CA
 * "ca" and leaves "client" and "server" (SANs PH_ID_CLIENT, PH_ID_SERVER).
 * Returns true, or false when openssl is missing or fails. */
static inline bool ph_make_pki(char *dir, size_t n, const char *name)
{
	if (!ph_have_openssl() ||
	    (size_t)snprintf(dir, n, "/tmp/mf-test-%s-XXXXXX", name) >= n ||
	    !mkdtemp(dir))
		return false;
	return ph_make_ca(dir, "ca", "ca") == 0 &&
	       ph_make_leaf(dir, "ca", "client", "client",
			    "URI:" PH_ID_CLIENT) == 0 &&
	       ph_make_leaf(dir, "ca", "server", "server",
			    "URI:" PH_ID_SERVER) == 0;
}

/* Removes a directory ph_make_pki() made (nothing else). */
static inline void ph_remove(const char *dir)
{
	if (strncmp(dir, "/tmp/mf-test-", 13) == 0)
		ph_sh("rm -rf '%s'", dir);
}

#endif /* MF_PKI_HARNESS_H */
