// SPDX-License-Identifier: Apache-2.0
/*
 * The X.509-SVID rules (svid.h): each certificate of a chain is read once
 * into the facts the rules look at (svid_read()), then the rules of its
 * place in the chain are applied in the order svid.h lists them, so the
 * first rule broken is the one reported.
 */
#include <errno.h>
#include <string.h>

#include "der.h"
#include "spiffe.h"
#include "svid.h"

/* What the rules look at in one certificate. */
struct svid_facts {
	bool basic, ca;		/* basicConstraints present; its cA */
	int path_len;		/* its pathLenConstraint, -1: none */
	bool ku, ku_crit;	/* keyUsage present; marked critical */
	uint8_t ku_bits;	/* its first byte (DER_KU_*) */
	bool eku, eku_client, eku_server;
	bool san_crit, empty_subject;
	unsigned int uris;	/* URI SANs */
	unsigned int others;	/* SANs of a type other than URI, DNS and
				 * IP address */
	struct der_rd uri;	/* the first URI SAN */
	time_t not_before, not_after;
};

/* Bits seen so far of the extensions read (each at most once). */
enum {
	SVID_SEEN_BASIC = 1u << 0,
	SVID_SEEN_KU = 1u << 1,
	SVID_SEEN_EKU = 1u << 2,
	SVID_SEEN_SAN = 1u << 3,
};

/* BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE,
 *                                 pathLenConstraint INTEGER OPTIONAL } */
static int svid_basic(struct der_rd v, struct svid_facts *f)
{
	struct der_rd in, x;
	uint8_t tag;

	if (der_expect(&v, DER_SEQUENCE, &in) || v.len)
		return -EBADMSG;
	f->basic = true;
	while (in.len) {
		if (der_next(&in, &tag, &x, NULL))
			return -EBADMSG;
		if (tag == DER_BOOLEAN && x.len == 1) {
			f->ca = x.p[0] != 0;
		} else if (tag == DER_INTEGER && x.len >= 1 && x.len <= 2 &&
			   !(x.p[0] & 0x80)) {
			f->path_len = x.len == 1 ? x.p[0] : x.p[0] << 8 | x.p[1];
		} else {
			return -EBADMSG;
		}
	}
	return 0;
}

/* KeyUsage ::= BIT STRING: a count of unused bits, then the bits. */
static int svid_key_usage(struct der_rd v, struct svid_facts *f)
{
	struct der_rd bits;

	if (der_expect(&v, DER_BIT_STRING, &bits) || v.len || bits.len < 1 ||
	    bits.p[0] > 7)
		return -EBADMSG;
	f->ku = true;
	f->ku_bits = bits.len > 1 ? bits.p[1] : 0;
	return 0;
}

/* ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId */
static int svid_eku(struct der_rd v, struct svid_facts *f)
{
	struct der_rd seq, oid;

	if (der_expect(&v, DER_SEQUENCE, &seq) || v.len || !seq.len)
		return -EBADMSG;
	f->eku = true;
	while (seq.len) {
		if (der_expect(&seq, DER_OID, &oid))
			return -EBADMSG;
		if (der_oid_is(oid, der_oid_client_auth,
			       sizeof(der_oid_client_auth)))
			f->eku_client = true;
		else if (der_oid_is(oid, der_oid_server_auth,
				    sizeof(der_oid_server_auth)))
			f->eku_server = true;
	}
	return 0;
}

/* GeneralNames: the URIs ([6]) counted apart; dNSName ([2]) and
 * iPAddress ([7]) allowed beside (X.509-SVID 2: "other SAN field types,
 * including DNS SANs"), every other type counted as other. */
static int svid_san(struct der_rd v, struct svid_facts *f)
{
	struct der_rd names, gn;
	uint8_t tag;

	if (der_expect(&v, DER_SEQUENCE, &names) || v.len || !names.len)
		return -EBADMSG;
	while (names.len) {
		if (der_next(&names, &tag, &gn, NULL))
			return -EBADMSG;
		if (tag == DER_CTX_PRIM(2) || tag == DER_CTX_PRIM(7)) {
			continue;
		} else if (tag != DER_CTX_PRIM(6)) {
			f->others++;
		} else if (f->uris++ == 0) {
			f->uri = gn;
		}
	}
	return 0;
}

/* Reads certificate @c into @f.  Returns 0 or -EBADMSG. */
static int svid_read(const struct svid_cert *c, struct svid_facts *f)
{
	struct der_rd oid, val, validity;
	struct der_cert dc;
	unsigned int seen = 0, bit;
	bool crit;
	int ret, err;

	memset(f, 0, sizeof(*f));
	f->path_len = -1;
	if (der_cert_parse(c->der, c->len, &dc))
		return -EBADMSG;
	validity = dc.validity;
	if (der_time_read(&validity, &f->not_before) ||
	    der_time_read(&validity, &f->not_after) || validity.len)
		return -EBADMSG;
	/* Name ::= SEQUENCE OF RDN: the whole TLV of an empty one is 30 00. */
	f->empty_subject = dc.subject.len == 2;
	while ((ret = der_cert_ext(&dc.exts, &oid, &val, &crit)) > 0) {
		if (der_oid_is(oid, der_oid_basic, sizeof(der_oid_basic))) {
			bit = SVID_SEEN_BASIC;
			err = svid_basic(val, f);
		} else if (der_oid_is(oid, der_oid_key_usage,
				      sizeof(der_oid_key_usage))) {
			bit = SVID_SEEN_KU;
			err = svid_key_usage(val, f);
			f->ku_crit = crit;
		} else if (der_oid_is(oid, der_oid_eku, sizeof(der_oid_eku))) {
			bit = SVID_SEEN_EKU;
			err = svid_eku(val, f);
		} else if (der_oid_is(oid, der_oid_san, sizeof(der_oid_san))) {
			bit = SVID_SEEN_SAN;
			err = svid_san(val, f);
			f->san_crit = crit;
		} else {
			continue;
		}
		/* Twice, which one would count is a reader's guess. */
		if (err || (seen & bit))
			return -EBADMSG;
		seen |= bit;
	}
	return ret < 0 ? -EBADMSG : 0;
}

/* The rules of the leaf, for @roles. */
static enum svid_rule svid_leaf(const struct svid_facts *f, unsigned int roles)
{
	char id[MF_SPIFFE_MAX];

	if (!f->basic)
		return SVID_LEAF_NO_BASIC;
	if (f->ca)
		return SVID_LEAF_CA;
	if (!f->ku)
		return SVID_NO_KEY_USAGE;
	if (!f->ku_crit)
		return SVID_KEY_USAGE_NOT_CRITICAL;
	if (!(f->ku_bits & DER_KU_DIGITAL_SIGNATURE))
		return SVID_LEAF_NO_DIGITAL_SIGNATURE;
	if (f->ku_bits & (DER_KU_KEY_CERT_SIGN | DER_KU_CRL_SIGN))
		return SVID_LEAF_CERT_SIGN;
	if (!f->uris)
		return SVID_LEAF_NO_URI;
	if (f->uris > 1)
		return SVID_LEAF_URIS;
	/* A NUL inside would pass a shorter ID than the certificate says. */
	if (f->uri.len >= sizeof(id) || memchr(f->uri.p, 0, f->uri.len))
		return SVID_LEAF_BAD_ID;
	memcpy(id, f->uri.p, f->uri.len);
	id[f->uri.len] = '\0';
	if (spiffe_parse(id, NULL))
		return SVID_LEAF_BAD_ID;
	if (f->others)
		return SVID_LEAF_OTHER_NAME;
	if (f->empty_subject && !f->san_crit)
		return SVID_LEAF_SAN_NOT_CRITICAL;
	if (f->eku && (roles & SVID_CLIENT) && !f->eku_client)
		return SVID_LEAF_NO_CLIENT_AUTH;
	if (f->eku && (roles & SVID_SERVER) && !f->eku_server)
		return SVID_LEAF_NO_SERVER_AUTH;
	return SVID_OK;
}

/* The rules of a signing certificate with @below signing certificates
 * between it and the leaf. */
static enum svid_rule svid_signer(const struct svid_facts *f, size_t below)
{
	if (!f->basic || !f->ca)
		return SVID_CA_NOT_CA;
	if (!f->ku)
		return SVID_NO_KEY_USAGE;
	if (!f->ku_crit)
		return SVID_KEY_USAGE_NOT_CRITICAL;
	if (!(f->ku_bits & DER_KU_KEY_CERT_SIGN))
		return SVID_CA_NO_CERT_SIGN;
	if (f->path_len >= 0 && (size_t)f->path_len < below)
		return SVID_CA_PATH_LEN;
	return SVID_OK;
}

enum svid_rule svid_check(const struct svid_cert *v, size_t n,
			  unsigned int roles, time_t now, size_t *at)
{
	enum svid_rule r = n ? SVID_OK : SVID_MALFORMED;
	struct svid_facts f;
	size_t i;

	for (i = 0; i < n && r == SVID_OK; i++) {
		if (svid_read(&v[i], &f)) {
			r = SVID_MALFORMED;
			break;
		}
		r = i == 0 ? svid_leaf(&f, roles) : svid_signer(&f, i - 1);
		if (r == SVID_OK && now < f.not_before)
			r = SVID_NOT_YET_VALID;
		if (r == SVID_OK && now > f.not_after)
			r = SVID_EXPIRED;
		if (r != SVID_OK)
			break;
	}
	if (at)
		*at = i < n ? i : 0;
	return r;
}

static const struct {
	const char *name, *text;
} svid_rules[SVID_RULE_MAX] = {
	[SVID_OK] = { "ok", "follows the X.509-SVID rules" },
	[SVID_MALFORMED] = { "malformed",
		"not a DER X.509 certificate that can be read, or one with "
		"basicConstraints, keyUsage, extendedKeyUsage or "
		"subjectAltName twice" },
	[SVID_LEAF_NO_BASIC] = { "leaf_no_basic_constraints",
		"the leaf has no basicConstraints; an X.509-SVID leaf must "
		"have it, with cA false" },
	[SVID_LEAF_CA] = { "leaf_ca",
		"the leaf's basicConstraints says cA true; an X.509-SVID leaf "
		"must say false" },
	[SVID_NO_KEY_USAGE] = { "no_key_usage",
		"no keyUsage extension; every X.509-SVID must have one" },
	[SVID_KEY_USAGE_NOT_CRITICAL] = { "key_usage_not_critical",
		"keyUsage is not marked critical; an X.509-SVID's must be" },
	[SVID_LEAF_NO_DIGITAL_SIGNATURE] = { "leaf_no_digital_signature",
		"the leaf's keyUsage lacks digitalSignature" },
	[SVID_LEAF_CERT_SIGN] = { "leaf_cert_sign",
		"the leaf's keyUsage has keyCertSign or cRLSign, which only a "
		"signing certificate may have" },
	[SVID_LEAF_NO_URI] = { "leaf_no_uri_san",
		"the leaf has no URI SAN: it names no SPIFFE ID" },
	[SVID_LEAF_URIS] = { "leaf_uri_sans",
		"the leaf has more than one URI SAN; an X.509-SVID has "
		"exactly one" },
	[SVID_LEAF_BAD_ID] = { "leaf_bad_spiffe_id",
		"the leaf's URI SAN is not a valid SPIFFE ID with a path "
		"(spiffe://<trust-domain>/<path>)" },
	[SVID_LEAF_OTHER_NAME] = { "leaf_other_name",
		"the leaf's subjectAltName has a name of a type other than "
		"URI, DNS and IP address (an e-mail, otherName, "
		"directoryName...)" },
	[SVID_LEAF_SAN_NOT_CRITICAL] = { "leaf_san_not_critical",
		"the leaf's subject is empty and its subjectAltName is not "
		"marked critical (RFC 5280 4.2.1.6)" },
	[SVID_LEAF_NO_CLIENT_AUTH] = { "leaf_no_client_auth",
		"the leaf's extendedKeyUsage lacks clientAuth: it cannot "
		"authenticate a client" },
	[SVID_LEAF_NO_SERVER_AUTH] = { "leaf_no_server_auth",
		"the leaf's extendedKeyUsage lacks serverAuth: it cannot "
		"authenticate a server" },
	[SVID_NOT_YET_VALID] = { "not_yet_valid",
		"its notBefore is in the future" },
	[SVID_EXPIRED] = { "expired", "its notAfter is in the past" },
	[SVID_CA_NOT_CA] = { "ca_not_ca",
		"a signing certificate without basicConstraints cA true" },
	[SVID_CA_NO_CERT_SIGN] = { "ca_no_cert_sign",
		"a signing certificate whose keyUsage lacks keyCertSign" },
	[SVID_CA_PATH_LEN] = { "ca_path_len",
		"a signing certificate whose pathLenConstraint does not allow "
		"the signing certificates below it" },
};

const char *svid_rule_name(enum svid_rule r)
{
	return (unsigned int)r < SVID_RULE_MAX ? svid_rules[r].name : "?";
}

const char *svid_rule_text(enum svid_rule r)
{
	return (unsigned int)r < SVID_RULE_MAX ? svid_rules[r].text : "?";
}
