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
 *   ph_make_dir()      a new dir of the test's own, /tmp/mf-test-<name>-*,
 *                      for the PKI a test makes itself (with openssl, or
 *                      with mfctl's PKI code); ph_remove() removes it.
 *   ph_make_pki()      the usual set in a new dir: CA "ca", leaves "client"
 *                      (PH_ID_CLIENT) and "server" (PH_ID_SERVER).
 *   ph_make_signed()   any certificate signed by a CA of that dir, with the
 *                      subject, extension lines and days given: leaves
 *                      that break a rule, intermediate CAs.
 *   ph_svid_cases[]    a leaf per X.509-SVID rule (lib/svid.h) it breaks,
 *                      or keeps, with what svid_check() must say of it as
 *                      a client's and as a server's; ph_make_svid() makes
 *                      one for an identity.
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

#include "svid.h"

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

/* A certificate in @dir: @out_stem.key and @out_stem.crt, subject @subj
 * (openssl syntax; "/" is the empty subject), signed by CA @ca_stem of
 * @dir, with extension-file lines @ext in which every "@ID" is @id, valid
 * @days days (0: notAfter is now, so it expires within a second).
 * Scratch files @out_stem.csr and .ext.  Returns 0, or non-zero. */
static inline int ph_make_signed(const char *dir, const char *ca_stem,
				 const char *out_stem, const char *subj,
				 const char *ext, const char *id, int days)
{
	char path[256];
	const char *at;
	FILE *f;
	int n;

	n = snprintf(path, sizeof(path), "%s/%s.ext", dir, out_stem);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	f = fopen(path, "w");
	if (!f)
		return -1;
	for (at = ext; *at; at++) {
		if (!strncmp(at, "@ID", 3)) {
			fputs(id, f);
			at += 2;
		} else {
			fputc(*at, f);
		}
	}
	if (fclose(f) != 0)
		return -1;
	return ph_sh("cd %s && openssl req -new -newkey ec "
		     "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s.key "
		     "-out %s.csr -subj '%s' >/dev/null 2>&1 && "
		     "openssl x509 -req -in %s.csr -CA %s.crt -CAkey %s.key "
		     "-CAcreateserial -days %d -out %s.crt -extfile %s.ext "
		     ">/dev/null 2>&1",
		     dir, out_stem, out_stem, subj, out_stem, ca_stem, ca_stem,
		     days, out_stem, out_stem);
}

/* The extension lines of a leaf that keeps every rule. */
#define PH_BC	"basicConstraints=critical,CA:FALSE\n"
#define PH_KU	"keyUsage=critical,digitalSignature\n"
#define PH_EKU	"extendedKeyUsage=serverAuth,clientAuth\n"
#define PH_URI	"subjectAltName=URI:@ID\n"

/* A leaf made for a rule, and what svid_check() says of it. */
struct ph_svid_case {
	const char *name;	/* its file stem */
	const char *subj;
	const char *ext;	/* ph_make_signed()'s */
	int days;
	enum svid_rule client, server;	/* as a client's, a server's */
};

static const struct ph_svid_case ph_svid_cases[] = {
	/* First: the later ones take the second it needs to expire. */
	{ "expired", "/CN=svid", PH_BC PH_KU PH_EKU PH_URI, 0,
	  SVID_EXPIRED, SVID_EXPIRED },
	{ "good", "/CN=svid", PH_BC PH_KU PH_EKU PH_URI, 2, SVID_OK, SVID_OK },
	{ "no-eku", "/CN=svid", PH_BC PH_KU PH_URI, 2, SVID_OK, SVID_OK },
	{ "no-basic", "/CN=svid", PH_KU PH_EKU PH_URI, 2,
	  SVID_LEAF_NO_BASIC, SVID_LEAF_NO_BASIC },
	{ "leaf-ca", "/CN=svid", "basicConstraints=critical,CA:TRUE\n"
	  PH_KU PH_EKU PH_URI, 2, SVID_LEAF_CA, SVID_LEAF_CA },
	{ "no-key-usage", "/CN=svid", PH_BC PH_EKU PH_URI, 2,
	  SVID_NO_KEY_USAGE, SVID_NO_KEY_USAGE },
	{ "key-usage-not-critical", "/CN=svid", PH_BC
	  "keyUsage=digitalSignature\n" PH_EKU PH_URI, 2,
	  SVID_KEY_USAGE_NOT_CRITICAL, SVID_KEY_USAGE_NOT_CRITICAL },
	{ "no-digital-signature", "/CN=svid", PH_BC
	  "keyUsage=critical,keyAgreement\n" PH_EKU PH_URI, 2,
	  SVID_LEAF_NO_DIGITAL_SIGNATURE, SVID_LEAF_NO_DIGITAL_SIGNATURE },
	{ "key-cert-sign", "/CN=svid", PH_BC
	  "keyUsage=critical,digitalSignature,keyCertSign\n" PH_EKU PH_URI, 2,
	  SVID_LEAF_CERT_SIGN, SVID_LEAF_CERT_SIGN },
	{ "crl-sign", "/CN=svid", PH_BC
	  "keyUsage=critical,digitalSignature,cRLSign\n" PH_EKU PH_URI, 2,
	  SVID_LEAF_CERT_SIGN, SVID_LEAF_CERT_SIGN },
	{ "no-san", "/CN=svid", PH_BC PH_KU PH_EKU, 2,
	  SVID_LEAF_NO_URI, SVID_LEAF_NO_URI },
	{ "dns-only", "/CN=svid", PH_BC PH_KU PH_EKU
	  "subjectAltName=DNS:web.mesh.local\n", 2,
	  SVID_LEAF_NO_URI, SVID_LEAF_NO_URI },
	{ "two-uris", "/CN=svid", PH_BC PH_KU PH_EKU
	  "subjectAltName=URI:@ID,URI:spiffe://mesh.local/ns/default/sa/x\n",
	  2, SVID_LEAF_URIS, SVID_LEAF_URIS },
	{ "root-id", "/CN=svid", PH_BC PH_KU PH_EKU
	  "subjectAltName=URI:spiffe://mesh.local\n", 2,
	  SVID_LEAF_BAD_ID, SVID_LEAF_BAD_ID },
	/* DNS names and addresses beside the URI, as `cert issue --dns
	 * --ip` writes them: allowed (X.509-SVID 2). */
	{ "dns-too", "/CN=svid", PH_BC PH_KU PH_EKU
	  "subjectAltName=URI:@ID,DNS:web.mesh.local\n", 2,
	  SVID_OK, SVID_OK },
	{ "ip-too", "/CN=svid", PH_BC PH_KU PH_EKU
	  "subjectAltName=URI:@ID,IP:127.0.0.11,IP:fd00::11\n", 2,
	  SVID_OK, SVID_OK },
	{ "dns-ip-two-uris", "/CN=svid", PH_BC PH_KU PH_EKU
	  "subjectAltName=URI:@ID,DNS:web.mesh.local,IP:127.0.0.11,"
	  "URI:spiffe://mesh.local/ns/default/sa/x\n", 2,
	  SVID_LEAF_URIS, SVID_LEAF_URIS },
	{ "dns-only-ip", "/CN=svid", PH_BC PH_KU PH_EKU
	  "subjectAltName=DNS:web.mesh.local,IP:127.0.0.11\n", 2,
	  SVID_LEAF_NO_URI, SVID_LEAF_NO_URI },
	{ "email-too", "/CN=svid", PH_BC PH_KU PH_EKU
	  "subjectAltName=URI:@ID,email:web@mesh.local\n", 2,
	  SVID_LEAF_OTHER_NAME, SVID_LEAF_OTHER_NAME },
	{ "empty-subject", "/", PH_BC PH_KU PH_EKU PH_URI, 2,
	  SVID_LEAF_SAN_NOT_CRITICAL, SVID_LEAF_SAN_NOT_CRITICAL },
	{ "server-only", "/CN=svid", PH_BC PH_KU
	  "extendedKeyUsage=serverAuth\n" PH_URI, 2,
	  SVID_LEAF_NO_CLIENT_AUTH, SVID_OK },
	{ "client-only", "/CN=svid", PH_BC PH_KU
	  "extendedKeyUsage=clientAuth\n" PH_URI, 2,
	  SVID_OK, SVID_LEAF_NO_SERVER_AUTH },
};

#define PH_SVID_NCASES (sizeof(ph_svid_cases) / sizeof(ph_svid_cases[0]))

/* Case @c for identity @id, signed by CA @ca_stem of @dir, as
 * @prefix<name>.crt/.key (@prefix relative to @dir, e.g. "svid-").
 * Returns 0, or non-zero. */
static inline int ph_make_svid(const char *dir, const char *ca_stem,
			       const char *prefix,
			       const struct ph_svid_case *c, const char *id)
{
	char stem[128];
	int n = snprintf(stem, sizeof(stem), "%s%s", prefix, c->name);

	if (n < 0 || (size_t)n >= sizeof(stem))
		return -1;
	return ph_make_signed(dir, ca_stem, stem, c->subj, c->ext, id,
			      c->days);
}

/* Makes the empty dir /tmp/mf-test-@name-XXXXXX, its path in @dir (@n
 * bytes).  Returns true, or false when it could not. */
static inline bool ph_make_dir(char *dir, size_t n, const char *name)
{
	return (size_t)snprintf(dir, n, "/tmp/mf-test-%s-XXXXXX", name) < n &&
	       mkdtemp(dir);
}

/* Makes /tmp/mf-test-@name-XXXXXX (ph_make_dir()) with CA "ca" and
 * leaves "client" and "server" (SANs PH_ID_CLIENT, PH_ID_SERVER).
 * Returns true, or false when openssl is missing or fails. */
static inline bool ph_make_pki(char *dir, size_t n, const char *name)
{
	if (!ph_have_openssl() || !ph_make_dir(dir, n, name))
		return false;
	return ph_make_ca(dir, "ca", "ca") == 0 &&
	       ph_make_leaf(dir, "ca", "client", "client",
			    "URI:" PH_ID_CLIENT) == 0 &&
	       ph_make_leaf(dir, "ca", "server", "server",
			    "URI:" PH_ID_SERVER) == 0;
}

/* Removes a directory ph_make_dir() made (nothing else). */
static inline void ph_remove(const char *dir)
{
	if (strncmp(dir, "/tmp/mf-test-", 13) == 0)
		ph_sh("rm -rf '%s'", dir);
}

#endif /* MF_PKI_HARNESS_H */
