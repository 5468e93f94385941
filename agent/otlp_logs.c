// SPDX-License-Identifier: Apache-2.0
/*
 * OTLP logs (otlp_logs.h): the queued form of a record, and the request
 * packed with libprotobuf-c from the messages protoc-c made of proto/.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "otlp_logs.h"
#include "policy/otlpval.h"

/* ---- the queued form -------------------------------------------------- */
/*
 * time_ns (8 bytes, host order), nattrs (1 byte), then the strings, each
 * NUL-terminated: service, body, and each attribute's key and value.  A
 * string that is not given is "" (none of them means anything empty).
 */
#define OTLP_LOG_HEAD	9

size_t otlp_log_encode(const struct otlp_log *r, char *buf, size_t cap)
{
	size_t at = OTLP_LOG_HEAD;

	if (cap < OTLP_LOG_HEAD || r->nattrs > OTLP_ATTRS_MAX)
		return 0;
	memcpy(buf, &r->time_ns, 8);
	buf[8] = (char)r->nattrs;
	if (!otlp_put_str(buf, cap, &at, r->service) ||
	    !otlp_put_str(buf, cap, &at, r->body))
		return 0;
	for (size_t i = 0; i < r->nattrs; i++)
		if (!otlp_put_str(buf, cap, &at, r->key[i]) ||
		    !otlp_put_str(buf, cap, &at, r->value[i]))
			return 0;
	return at;
}

/* The string at *@at of @b (@n bytes), past it.  NULL when no NUL ends
 * it. */
static const char *otlp_get_str(const char *b, size_t n, size_t *at)
{
	const char *s = b + *at;
	const char *nul = *at < n ? memchr(s, '\0', n - *at) : NULL;

	if (!nul)
		return NULL;
	*at += (size_t)(nul - s) + 1;
	return s;
}

int otlp_log_decode(const char *b, size_t n, struct otlp_log *r)
{
	size_t at = OTLP_LOG_HEAD;

	memset(r, 0, sizeof(*r));
	if (n < OTLP_LOG_HEAD || (unsigned char)b[8] > OTLP_ATTRS_MAX)
		return -EINVAL;
	memcpy(&r->time_ns, b, 8);
	r->nattrs = (unsigned char)b[8];
	r->service = otlp_get_str(b, n, &at);
	r->body = otlp_get_str(b, n, &at);
	if (!r->service || !r->body)
		return -EINVAL;
	for (size_t i = 0; i < r->nattrs; i++) {
		r->key[i] = otlp_get_str(b, n, &at);
		r->value[i] = otlp_get_str(b, n, &at);
		if (!r->key[i] || !r->value[i])
			return -EINVAL;
	}
	if (at != n)
		return -EINVAL;
	if (!r->service[0])
		r->service = NULL;
	if (!r->body[0])
		r->body = NULL;
	return 0;
}

/* ---- the request ------------------------------------------------------- */

typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;
typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;
typedef Opentelemetry__Proto__Logs__V1__LogRecord otlp_rec;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs otlp_scope_logs;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs otlp_res_logs;
typedef Opentelemetry__Proto__Resource__V1__Resource otlp_res;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope otlp_scope;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest
	otlp_req;

/* Everything one request's messages take, in one allocation: protobuf-c
 * packs from structs that point at each other. */
struct otlp_msgs {
	otlp_req req;
	otlp_scope scope;
	otlp_res_logs *rl;		/* [nres] */
	otlp_res_logs **rlp;
	otlp_scope_logs *sl;		/* [nres] */
	otlp_scope_logs **slp;
	otlp_res *res;			/* [nres] */
	otlp_kv *res_kv;		/* [nres]: service.name */
	otlp_kv **res_kvp;
	otlp_any *res_val;
	otlp_rec *rec;			/* [n] */
	otlp_rec **recp;		/* [n], grouped by resource */
	otlp_any *body;			/* [n] */
	char **body_block;		/* [n]: what each body's messages
					 * take */
	otlp_kv *kv;			/* [n * OTLP_ATTRS_MAX] */
	otlp_kv **kvp;
	otlp_any *val;
};

/* ---- a body: its form (otlpval.h) as protobuf-c's messages ------------ */

typedef Opentelemetry__Proto__Common__V1__ArrayValue otlp_array;
typedef Opentelemetry__Proto__Common__V1__KeyValueList otlp_kvlist;

/* One block a body's messages and strings are taken from, freed whole. */
struct otlp_arena {
	char *p;
	size_t at, cap;
};

static void *otlp_take(struct otlp_arena *a, size_t n)
{
	size_t at = (a->at + 15) & ~(size_t)15;

	if (at > a->cap || a->cap - at < n)
		return NULL;
	a->at = at + n;
	return a->p + at;
}

/* A block with room for a body of @nodes values in @len bytes: each
 * value at most an AnyValue, a list, a KeyValue and two pointers, each
 * aligned; its texts NUL-terminated. */
static size_t otlp_arena_size(size_t nodes, size_t len)
{
	return nodes * (sizeof(otlp_any) + sizeof(otlp_array) +
			sizeof(otlp_kvlist) + sizeof(otlp_kv) +
			2 * sizeof(void *) + 6 * 16) + len + nodes + 16;
}

/* A copy of @len bytes at @s in @a, NUL-terminated. */
static char *otlp_take_str(struct otlp_arena *a, const char *s, size_t len)
{
	char *d = otlp_take(a, len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

/* The value at @c into @out, from @a.  @c was checked whole
 * (otlpv_check()), so its depth is bounded.  Returns 0 or -EINVAL. */
static int otlp_body_value(struct otlpv_cur *c, otlp_any *out,
			   struct otlp_arena *a)
{
	struct otlpv_val v;
	otlp_array *arr;
	otlp_kvlist *kvl;
	void **items;
	word32 blen;

	opentelemetry__proto__common__v1__any_value__init(out);
	if (otlpv_next(c, &v))
		return -EINVAL;
	switch (v.type) {
	case OTLPV_STRING:
		out->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		out->string_value = otlp_take_str(a, v.s, v.len);
		return out->string_value ? 0 : -EINVAL;
	case OTLPV_BOOL:
		out->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
		out->bool_value = v.b;
		return 0;
	case OTLPV_INT:
		out->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
		out->int_value = v.i;
		return 0;
	case OTLPV_DOUBLE:
		out->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
		out->double_value = v.d;
		return 0;
	case OTLPV_BYTES:
		/* Checked base64 when the policy was read. */
		out->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
		out->bytes_value.data = otlp_take(a, v.len + 1);
		blen = (word32)v.len + 1;
		if (!out->bytes_value.data ||
		    Base64_Decode((const byte *)v.s, (word32)v.len,
				  out->bytes_value.data, &blen))
			return -EINVAL;
		out->bytes_value.len = blen;
		return 0;
	case OTLPV_ARRAY:
	case OTLPV_KVLIST:
		break;
	case OTLPV_NULL:
		return -EINVAL;	/* a JSON value's, never a body's */
	}
	items = otlp_take(a, (v.count ? v.count : 1) * sizeof(void *));
	if (!items)
		return -EINVAL;
	if (v.type == OTLPV_ARRAY) {
		arr = otlp_take(a, sizeof(*arr));
		if (!arr)
			return -EINVAL;
		opentelemetry__proto__common__v1__array_value__init(arr);
		for (size_t i = 0; i < v.count; i++) {
			otlp_any *x = otlp_take(a, sizeof(*x));

			if (!x || otlp_body_value(c, x, a))
				return -EINVAL;
			items[i] = x;
		}
		arr->values = (otlp_any **)items;
		arr->n_values = v.count;
		out->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
		out->array_value = arr;
		return 0;
	}
	kvl = otlp_take(a, sizeof(*kvl));
	if (!kvl)
		return -EINVAL;
	opentelemetry__proto__common__v1__key_value_list__init(kvl);
	for (size_t i = 0; i < v.count; i++) {
		otlp_kv *kv = otlp_take(a, sizeof(*kv));
		otlp_any *x = otlp_take(a, sizeof(*x));
		const char *k;
		size_t klen;

		if (!kv || !x || otlpv_next_key(c, &k, &klen))
			return -EINVAL;
		opentelemetry__proto__common__v1__key_value__init(kv);
		kv->key = otlp_take_str(a, k, klen);
		if (!kv->key || otlp_body_value(c, x, a))
			return -EINVAL;
		kv->value = x;
		items[i] = kv;
	}
	kvl->values = (otlp_kv **)items;
	kvl->n_values = v.count;
	out->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
	out->kvlist_value = kvl;
	return 0;
}

/* Body @s (NUL-terminated, in the otlpval.h form) into @out, its
 * messages in *@block (malloc'd, the caller frees it).  Returns 0,
 * -EINVAL for a body not well formed, or -ENOMEM. */
static int otlp_body(const char *s, otlp_any *out, char **block)
{
	size_t len = strlen(s), nodes;
	struct otlpv_cur c = { s, len, 0 };
	struct otlp_arena a = { NULL, 0, 0 };

	*block = NULL;
	if (otlpv_check(s, len, &nodes))
		return -EINVAL;
	a.cap = otlp_arena_size(nodes, len);
	a.p = malloc(a.cap);
	if (!a.p)
		return -ENOMEM;
	*block = a.p;
	return otlp_body_value(&c, out, &a);
}

static void otlp_str_any(otlp_any *a, const char *s)
{
	opentelemetry__proto__common__v1__any_value__init(a);
	a->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	a->string_value = (char *)s;
}

static void otlp_kv_set(otlp_kv *kv, otlp_any *val, const char *key,
			const char *s)
{
	opentelemetry__proto__common__v1__key_value__init(kv);
	otlp_str_any(val, s);
	kv->key = (char *)key;
	kv->value = val;
}

static bool otlp_same_service(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int otlp_logs_pack(const struct otlp_log *r, size_t n, uint8_t **out,
		   size_t *len)
{
	size_t *res_of = calloc(n ? n : 1, sizeof(*res_of));
	struct otlp_msgs m = { 0 };
	size_t nres = 0, at = 0, size, head = COLLECTOR_HEAD;
	int err = -ENOMEM;
	uint8_t *buf;

	*out = NULL;
	*len = 0;
	/* Resources: the services in the order they first come. */
	for (size_t i = 0; res_of && i < n; i++) {
		size_t k = 0;

		while (k < i && !otlp_same_service(r[k].service, r[i].service))
			k++;
		res_of[i] = k < i ? res_of[k] : nres++;
	}
	m.rl = calloc(nres, sizeof(*m.rl));
	m.rlp = calloc(nres, sizeof(*m.rlp));
	m.sl = calloc(nres, sizeof(*m.sl));
	m.slp = calloc(nres, sizeof(*m.slp));
	m.res = calloc(nres, sizeof(*m.res));
	m.res_kv = calloc(nres, sizeof(*m.res_kv));
	m.res_kvp = calloc(nres, sizeof(*m.res_kvp));
	m.res_val = calloc(nres, sizeof(*m.res_val));
	m.rec = calloc(n, sizeof(*m.rec));
	m.recp = calloc(n, sizeof(*m.recp));
	m.body = calloc(n, sizeof(*m.body));
	m.body_block = calloc(n, sizeof(*m.body_block));
	m.kv = calloc(n * OTLP_ATTRS_MAX, sizeof(*m.kv));
	m.kvp = calloc(n * OTLP_ATTRS_MAX, sizeof(*m.kvp));
	m.val = calloc(n * OTLP_ATTRS_MAX, sizeof(*m.val));
	if (!res_of || (n && (!m.rl || !m.rlp || !m.sl || !m.slp || !m.res ||
			      !m.res_kv || !m.res_kvp || !m.res_val ||
			      !m.rec || !m.recp || !m.body ||
			      !m.body_block || !m.kv ||
			      !m.kvp || !m.val)))
		goto out;

	opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(&m.req);
	opentelemetry__proto__common__v1__instrumentation_scope__init(&m.scope);
	m.scope.name = "meshforge";
	for (size_t i = 0; i < n; i++) {
		otlp_rec *rec = &m.rec[i];
		size_t k = i * OTLP_ATTRS_MAX;

		opentelemetry__proto__logs__v1__log_record__init(rec);
		rec->time_unix_nano = r[i].time_ns;
		rec->observed_time_unix_nano = r[i].time_ns;
		if (r[i].body) {
			int e = otlp_body(r[i].body, &m.body[i],
					  &m.body_block[i]);

			if (e == -ENOMEM)
				goto out;
			if (!e)
				rec->body = &m.body[i];
		}
		rec->attributes = &m.kvp[k];
		for (size_t a = 0; a < r[i].nattrs && a < OTLP_ATTRS_MAX; a++) {
			otlp_kv_set(&m.kv[k + a], &m.val[k + a], r[i].key[a],
				    r[i].value[a]);
			m.kvp[k + a] = &m.kv[k + a];
			rec->n_attributes++;
		}
	}
	for (size_t j = 0; j < nres; j++) {
		size_t first = 0;

		while (res_of[first] != j)
			first++;
		opentelemetry__proto__resource__v1__resource__init(&m.res[j]);
		otlp_kv_set(&m.res_kv[j], &m.res_val[j], "service.name",
			    r[first].service ? r[first].service : "unknown");
		m.res_kvp[j] = &m.res_kv[j];
		m.res[j].attributes = &m.res_kvp[j];
		m.res[j].n_attributes = 1;

		opentelemetry__proto__logs__v1__scope_logs__init(&m.sl[j]);
		m.sl[j].scope = &m.scope;
		m.sl[j].log_records = &m.recp[at];
		for (size_t i = first; i < n; i++)
			if (res_of[i] == j)
				m.recp[at++] = &m.rec[i];
		m.sl[j].n_log_records = (size_t)(&m.recp[at] -
						 m.sl[j].log_records);
		m.slp[j] = &m.sl[j];

		opentelemetry__proto__logs__v1__resource_logs__init(&m.rl[j]);
		m.rl[j].resource = &m.res[j];
		m.rl[j].scope_logs = &m.slp[j];
		m.rl[j].n_scope_logs = 1;
		m.rlp[j] = &m.rl[j];
	}
	m.req.resource_logs = m.rlp;
	m.req.n_resource_logs = nres;

	size = opentelemetry__proto__collector__logs__v1__export_logs_service_request__get_packed_size(&m.req);
	buf = malloc(head + size + 1);
	if (!buf)
		goto out;
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(&m.req, buf + head);
	*out = buf;
	*len = head + size;
	err = 0;
out:
	free(res_of);
	free(m.rl);
	free(m.rlp);
	free(m.sl);
	free(m.slp);
	free(m.res);
	free(m.res_kv);
	free(m.res_kvp);
	free(m.res_val);
	free(m.rec);
	free(m.recp);
	for (size_t i = 0; m.body_block && i < n; i++)
		free(m.body_block[i]);
	free(m.body_block);
	free(m.body);
	free(m.kv);
	free(m.kvp);
	free(m.val);
	return err;
}

int otlp_export_logs(struct collector *c, const struct otlp_log *r,
		     size_t n)
{
	uint8_t *buf;
	size_t len;
	int err;

	err = otlp_logs_pack(r, n, &buf, &len);
	if (err)
		return err;
	err = collector_send(c, buf, len);
	free(buf);
	return err;
}
