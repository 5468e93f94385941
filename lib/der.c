// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "der.h"

const uint8_t der_oid_san[3] = { 0x55, 0x1d, 0x11 };
const uint8_t der_oid_key_usage[3] = { 0x55, 0x1d, 0x0f };
const uint8_t der_oid_basic[3] = { 0x55, 0x1d, 0x13 };
const uint8_t der_oid_eku[3] = { 0x55, 0x1d, 0x25 };
const uint8_t der_oid_crl_dp[3] = { 0x55, 0x1d, 0x1f };
const uint8_t der_oid_server_auth[8] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07,
					 0x03, 0x01 };
const uint8_t der_oid_client_auth[8] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07,
					 0x03, 0x02 };

void der_init(struct der *d)
{
	memset(d, 0, sizeof(*d));
}

void der_free(struct der *d)
{
	free(d->p);
	memset(d, 0, sizeof(*d));
}

/* Room for @n more bytes.  Returns false (and sets d->err) on ENOMEM. */
static bool der_room(struct der *d, size_t n)
{
	if (d->err)
		return false;
	if (d->cap - d->len < n) {
		size_t cap = d->cap ? d->cap : 256;
		uint8_t *p;

		while (cap - d->len < n)
			cap *= 2;
		p = realloc(d->p, cap);
		if (!p) {
			d->err = -ENOMEM;
			return false;
		}
		d->p = p;
		d->cap = cap;
	}
	return true;
}

void der_raw(struct der *d, const void *p, size_t n)
{
	if (!n || !der_room(d, n))
		return;
	memcpy(d->p + d->len, p, n);
	d->len += n;
}

size_t der_begin(struct der *d, uint8_t tag)
{
	/* One length byte for now; der_end() widens it when needed. */
	uint8_t hdr[2] = { tag, 0 };

	der_raw(d, hdr, 2);
	return d->len;
}

void der_end(struct der *d, size_t mark)
{
	size_t n, k = 0;

	if (d->err)
		return;
	n = d->len - mark;
	if (n < 0x80) {
		d->p[mark - 1] = (uint8_t)n;
		return;
	}
	for (size_t v = n; v; v >>= 8)
		k++;
	if (!der_room(d, k))
		return;
	memmove(d->p + mark + k, d->p + mark, n);
	d->p[mark - 1] = (uint8_t)(0x80 | k);
	for (size_t i = 0; i < k; i++)
		d->p[mark + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
	d->len += k;
}

void der_tlv(struct der *d, uint8_t tag, const void *p, size_t n)
{
	size_t m = der_begin(d, tag);

	der_raw(d, p, n);
	der_end(d, m);
}

void der_uint_bytes(struct der *d, const uint8_t *p, size_t n)
{
	size_t m;

	while (n > 1 && p[0] == 0) {
		p++;
		n--;
	}
	m = der_begin(d, DER_INTEGER);
	/* A set top bit would read as negative. */
	if (n == 0 || p[0] & 0x80)
		der_raw(d, "\0", 1);
	der_raw(d, p, n);
	der_end(d, m);
}

void der_uint(struct der *d, uint64_t v)
{
	uint8_t b[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
	der_uint_bytes(d, b, sizeof(b));
}

void der_bool(struct der *d, bool v)
{
	uint8_t b = v ? 0xff : 0x00;

	der_tlv(d, DER_BOOLEAN, &b, 1);
}

void der_bits(struct der *d, const uint8_t *p, size_t n, unsigned unused)
{
	size_t m = der_begin(d, DER_BIT_STRING);
	uint8_t u = (uint8_t)unused;

	der_raw(d, &u, 1);
	der_raw(d, p, n);
	der_end(d, m);
}

void der_time(struct der *d, time_t t)
{
	char buf[32];
	struct tm tm;
	int year;

	if (!gmtime_r(&t, &tm)) {
		d->err = d->err ? d->err : -EOVERFLOW;
		return;
	}
	year = tm.tm_year + 1900;
	if (year >= 1950 && year < 2050) {
		snprintf(buf, sizeof(buf), "%02d%02d%02d%02d%02d%02dZ",
			 year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec);
		der_tlv(d, DER_UTC_TIME, buf, strlen(buf));
	} else {
		snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02dZ",
			 year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec);
		der_tlv(d, DER_GEN_TIME, buf, strlen(buf));
	}
}

int der_next(struct der_rd *r, uint8_t *tag, struct der_rd *content,
	     struct der_rd *whole)
{
	size_t hdr = 2, n;

	/* High tag numbers (low bits all set) never occur in X.509. */
	if (r->len < 2 || (r->p[0] & 0x1f) == 0x1f)
		return -EBADMSG;
	n = r->p[1];
	if (n & 0x80) {
		size_t k = n & 0x7f;

		/* 0x80 alone is BER's indefinite length, not DER. */
		if (k == 0 || k > 4 || r->len < 2 + k)
			return -EBADMSG;
		n = 0;
		for (size_t i = 0; i < k; i++)
			n = n << 8 | r->p[2 + i];
		hdr += k;
	}
	if (n > r->len - hdr)
		return -EBADMSG;
	*tag = r->p[0];
	content->p = r->p + hdr;
	content->len = n;
	if (whole) {
		whole->p = r->p;
		whole->len = hdr + n;
	}
	r->p += hdr + n;
	r->len -= hdr + n;
	return 0;
}

int der_expect(struct der_rd *r, uint8_t want, struct der_rd *content)
{
	uint8_t tag;

	if (der_next(r, &tag, content, NULL) || tag != want)
		return -EBADMSG;
	return 0;
}

bool der_oid_is(struct der_rd oid, const uint8_t *want, size_t n)
{
	return oid.len == n && memcmp(oid.p, want, n) == 0;
}

int der_cert_parse(const uint8_t *der, size_t len, struct der_cert *out)
{
	struct der_rd r = { der, len }, cert, tbs, f;
	uint8_t tag;

	memset(out, 0, sizeof(*out));
	if (der_expect(&r, DER_SEQUENCE, &cert) ||
	    der_expect(&cert, DER_SEQUENCE, &tbs) ||
	    der_next(&tbs, &tag, &f, NULL))
		return -EBADMSG;
	/* version [0] is absent from a v1 certificate; the serial follows. */
	if (tag == DER_CTX(0) && der_next(&tbs, &tag, &f, NULL))
		return -EBADMSG;
	out->serial = f;
	if (tag != DER_INTEGER ||
	    der_expect(&tbs, DER_SEQUENCE, &f) ||	/* signature */
	    der_next(&tbs, &tag, &f, &out->issuer) || tag != DER_SEQUENCE ||
	    der_expect(&tbs, DER_SEQUENCE, &out->validity) ||
	    der_next(&tbs, &tag, &f, &out->subject) || tag != DER_SEQUENCE ||
	    der_next(&tbs, &tag, &f, &out->spki) || tag != DER_SEQUENCE)
		return -EBADMSG;
	/* Then the optional unique IDs [1] [2] and extensions [3]: once,
	 * holding exactly one SEQUENCE, else which one counts is unclear. */
	while (tbs.len) {
		if (der_next(&tbs, &tag, &f, NULL))
			return -EBADMSG;
		if (tag == DER_CTX(3) &&
		    (out->exts.p || der_expect(&f, DER_SEQUENCE, &out->exts) ||
		     f.len))
			return -EBADMSG;
	}
	return 0;
}

int der_cert_ext(struct der_rd *exts, struct der_rd *oid, struct der_rd *val,
		 bool *critical)
{
	struct der_rd ext;
	bool crit = false;
	uint8_t tag;

	if (!exts->len)
		return 0;
	/* Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE,
	 * extnValue OCTET STRING } */
	if (der_expect(exts, DER_SEQUENCE, &ext) ||
	    der_expect(&ext, DER_OID, oid) ||
	    der_next(&ext, &tag, val, NULL))
		return -EBADMSG;
	if (tag == DER_BOOLEAN) {
		if (val->len != 1)
			return -EBADMSG;
		crit = val->p[0] != 0;
		if (der_next(&ext, &tag, val, NULL))
			return -EBADMSG;
	}
	if (tag != DER_OCTET_STRING || ext.len)
		return -EBADMSG;
	if (critical)
		*critical = crit;
	return 1;
}

int der_cert_spiffe(const uint8_t *der, size_t len, char *buf, size_t n)
{
	struct der_rd oid, val, names, gn;
	int n_uri = 0, n_spiffe = 0, ret;
	bool fits = false;
	struct der_cert c;
	uint8_t tag;

	if (der_cert_parse(der, len, &c))
		return -EBADMSG;
	while ((ret = der_cert_ext(&c.exts, &oid, &val, NULL)) > 0) {
		if (!der_oid_is(oid, der_oid_san, sizeof(der_oid_san)))
			continue;
		/* GeneralNames: every uniformResourceIdentifier [6] counts,
		 * in every SAN extension. */
		if (der_expect(&val, DER_SEQUENCE, &names))
			return -EBADMSG;
		while (names.len) {
			if (der_next(&names, &tag, &gn, NULL))
				return -EBADMSG;
			if (tag != DER_CTX_PRIM(6))
				continue;
			n_uri++;
			if (gn.len < 9 || memcmp(gn.p, "spiffe://", 9) != 0 ||
			    n_spiffe++)
				continue;
			/* An embedded NUL would let "spiffe://a\0..." pass as
			 * a shorter ID: refuse it. */
			if (memchr(gn.p, 0, gn.len))
				return -EBADMSG;
			fits = gn.len < n;
			if (fits) {
				memcpy(buf, gn.p, gn.len);
				buf[gn.len] = '\0';
			}
		}
	}
	if (ret < 0)
		return ret;
	if (n_uri > 1)
		return -EINVAL;
	if (n_spiffe == 0)
		return -ENOENT;
	return fits ? 0 : -ENAMETOOLONG;
}

/* ---- revocation ---------------------------------------------------------- */

const uint8_t der_oid_crl_number[3] = { 0x55, 0x1d, 0x14 };
const uint8_t der_oid_crl_reason[3] = { 0x55, 0x1d, 0x15 };

static const char *const der_crl_reasons[DER_CRL_REASON_MAX] = {
	[DER_CRL_UNSPECIFIED] = "unspecified",
	[DER_CRL_KEY_COMPROMISE] = "keyCompromise",
	[DER_CRL_CA_COMPROMISE] = "cACompromise",
	[DER_CRL_AFFILIATION_CHANGED] = "affiliationChanged",
	[DER_CRL_SUPERSEDED] = "superseded",
	[DER_CRL_CESSATION] = "cessationOfOperation",
	[DER_CRL_CERTIFICATE_HOLD] = "certificateHold",
	[DER_CRL_REMOVE_FROM_CRL] = "removeFromCRL",
	[DER_CRL_PRIVILEGE_WITHDRAWN] = "privilegeWithdrawn",
	[DER_CRL_AA_COMPROMISE] = "aACompromise",
};

const char *der_crl_reason_name(int reason)
{
	if (reason < 0 || reason >= DER_CRL_REASON_MAX ||
	    !der_crl_reasons[reason])
		return "unknown";
	return der_crl_reasons[reason];
}

int der_crl_reason_parse(const char *name)
{
	for (int i = 0; i < DER_CRL_REASON_MAX; i++)
		if (der_crl_reasons[i] && !strcmp(der_crl_reasons[i], name))
			return i;
	return -EINVAL;
}

/* @n decimal digits at @p as a number, or -1. */
static int der_digits(const uint8_t *p, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

int der_time_read(struct der_rd *r, time_t *t)
{
	struct der_rd c;
	struct tm tm;
	uint8_t tag;
	size_t y;
	int year;

	if (der_next(r, &tag, &c, NULL))
		return -EBADMSG;
	/* YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ: RFC 5280 allows no other form. */
	if (tag == DER_UTC_TIME && c.len == 13)
		y = 2;
	else if (tag == DER_GEN_TIME && c.len == 15)
		y = 4;
	else
		return -EBADMSG;
	if (c.p[c.len - 1] != 'Z')
		return -EBADMSG;
	year = der_digits(c.p, y);
	if (year < 0)
		return -EBADMSG;
	if (y == 2)	/* 50..99 are 19xx (RFC 5280 4.1.2.5.1) */
		year += year >= 50 ? 1900 : 2000;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = der_digits(c.p + y, 2) - 1;
	tm.tm_mday = der_digits(c.p + y + 2, 2);
	tm.tm_hour = der_digits(c.p + y + 4, 2);
	tm.tm_min = der_digits(c.p + y + 6, 2);
	tm.tm_sec = der_digits(c.p + y + 8, 2);
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 ||
	    tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 ||
	    tm.tm_sec > 60)
		return -EBADMSG;
	*t = timegm(&tm);
	return 0;
}

int der_crl_parse(const uint8_t *der, size_t len, struct der_crl *out)
{
	struct der_rd r = { der, len }, crl, tbs, f, oid, val;
	uint8_t tag;
	int ret;

	memset(out, 0, sizeof(*out));
	if (der_expect(&r, DER_SEQUENCE, &crl) || r.len ||
	    der_next(&crl, &tag, &tbs, &out->tbs) || tag != DER_SEQUENCE ||
	    der_next(&crl, &tag, &f, &out->sig_alg) || tag != DER_SEQUENCE ||
	    der_expect(&crl, DER_BIT_STRING, &out->sig) || crl.len ||
	    out->sig.len < 1 || out->sig.p[0] != 0)
		return -EBADMSG;
	out->sig.p++;
	out->sig.len--;
	/* version is there in a v2 list, which extensions need. */
	if (der_next(&tbs, &tag, &f, NULL))
		return -EBADMSG;
	if (tag == DER_INTEGER && der_next(&tbs, &tag, &f, NULL))
		return -EBADMSG;
	if (tag != DER_SEQUENCE ||				/* signature */
	    der_next(&tbs, &tag, &f, &out->issuer) || tag != DER_SEQUENCE ||
	    der_time_read(&tbs, &out->this_update))
		return -EBADMSG;
	while (tbs.len) {
		struct der_rd save = tbs;

		if (der_next(&tbs, &tag, &f, NULL))
			return -EBADMSG;
		if (tag == DER_UTC_TIME || tag == DER_GEN_TIME) {
			tbs = save;
			if (out->next_update || out->revoked.p ||
			    der_time_read(&tbs, &out->next_update))
				return -EBADMSG;
		} else if (tag == DER_SEQUENCE && !out->revoked.p) {
			out->revoked = f;
		} else if (tag == DER_CTX(0) && !tbs.len) {
			struct der_rd exts;

			if (der_expect(&f, DER_SEQUENCE, &exts) || f.len)
				return -EBADMSG;
			while ((ret = der_cert_ext(&exts, &oid, &val,
						   NULL)) > 0) {
				struct der_rd n;

				if (!der_oid_is(oid, der_oid_crl_number,
						sizeof(der_oid_crl_number)))
					continue;
				if (der_expect(&val, DER_INTEGER, &n))
					return -EBADMSG;
				out->number = 0;
				for (size_t i = 0; i < n.len && n.len <= 8;
				     i++)
					out->number = out->number << 8 | n.p[i];
			}
			if (ret < 0)
				return ret;
		} else {
			return -EBADMSG;
		}
	}
	return 0;
}

int der_crl_next(struct der_rd *revoked, struct der_crl_entry *e)
{
	struct der_rd item, exts, oid, val, v;
	uint8_t tag;
	int ret;

	if (!revoked->len)
		return 0;
	memset(e, 0, sizeof(*e));
	e->reason = -1;
	if (der_expect(revoked, DER_SEQUENCE, &item) ||
	    der_expect(&item, DER_INTEGER, &e->serial) || !e->serial.len ||
	    der_time_read(&item, &e->when))
		return -EBADMSG;
	if (!item.len)
		return 1;
	if (der_next(&item, &tag, &exts, NULL) || tag != DER_SEQUENCE ||
	    item.len)
		return -EBADMSG;
	while ((ret = der_cert_ext(&exts, &oid, &val, NULL)) > 0) {
		if (!der_oid_is(oid, der_oid_crl_reason,
				sizeof(der_oid_crl_reason)))
			continue;
		if (der_expect(&val, DER_ENUMERATED, &v) || v.len != 1)
			return -EBADMSG;
		e->reason = v.p[0];
	}
	return ret < 0 ? ret : 1;
}

void der_serial_hex(const uint8_t *serial, size_t len, char *buf, size_t n)
{
	size_t o = 0;

	if (!n)
		return;
	/* A sign byte is not part of the number people compare. */
	if (len > 1 && serial[0] == 0) {
		serial++;
		len--;
	}
	for (size_t i = 0; i < len && o + 3 <= n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%02x", serial[i]);
	buf[o] = '\0';
}
