// SPDX-License-Identifier: Apache-2.0
/*
 * kuma.io/service values to services (svcname.h has the rules).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mesh_service.h"
#include "select.h"
#include "svcname.h"

bool svcname_answers(const char *value, size_t vlen, const char *name,
		     const char *ns, uint16_t port)
{
	/* <name>_<namespace>_svc_<port>, each part in full: the longest a
	 * name, a namespace and a port make stays below this. */
	char gen[2 * MF_NAME_MAX + 16];
	size_t nlen = strlen(name);
	int glen;

	if (vlen == nlen && memcmp(value, name, nlen) == 0)
		return true;
	if (!port)
		return false;
	glen = snprintf(gen, sizeof(gen), "%s_%s_svc_%u", name,
			ns ? ns : SVCNAME_DEFAULT_NS, port);
	return glen > 0 && (size_t)glen == vlen &&
	       memcmp(value, gen, vlen) == 0;
}

const char *svcname_namespace(const struct model_set *set,
			      const struct model_obj *o)
{
	const struct mf_tagset *ts = model_tags_get(set, o->labels);

	for (uint32_t i = 0; ts && i < ts->n && i < MF_TAGS_MAX; i++) {
		const struct mf_tag *t = &ts->tags[i];

		/* Label values are NUL-terminated when they are names,
		 * which a namespace is (doc.c reads it as one). */
		if (!strncmp(t->key, SEL_NAMESPACE_LABEL, MF_TAG_KEY_MAX) &&
		    memchr(t->value, '\0', MF_TAG_VALUE_MAX))
			return t->value;
	}
	return SVCNAME_DEFAULT_NS;
}

/* The Service or MeshService called @name (@len bytes), or NULL. */
static const struct model_obj *svcname_find(const struct model_set *set,
					    const char *name, size_t len)
{
	char buf[MF_NAME_MAX];
	const struct model_obj *o;

	if (!len || len >= sizeof(buf))
		return NULL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	o = model_set_find(set, MODEL_SERVICE, buf);
	return o ? o : model_set_find(set, msvc_kind(), buf);
}

int svcname_resolve(const struct model_set *set, const char *value,
		    const struct model_obj **out,
		    const struct model_obj **other)
{
	size_t vlen = strlen(value);
	const char *us = strchr(value, '_');
	/* The only two services that can answer: the one of that name, and
	 * the one whose generated name it may be (names have no '_', so
	 * that name ends at the first one).  Lookups, not a scan: every
	 * Dataplane resolves its inbound's value. */
	const struct model_obj *cand[2] = {
		svcname_find(set, value, vlen),
		us ? svcname_find(set, value, (size_t)(us - value)) : NULL,
	};

	*out = NULL;
	for (size_t i = 0; i < 2; i++) {
		const struct model_obj *o = cand[i];

		if (!o || o == *out ||
		    !svcname_answers(value, vlen, o->name,
				     svcname_namespace(set, o),
				     msvc_service_port(o)))
			continue;
		if (*out) {
			if (other)
				*other = o;
			return -EEXIST;
		}
		*out = o;
	}
	return *out ? 0 : -ENOENT;
}

void svcname_fill(const struct model_set *set, struct sel_workload *w)
{
	const struct model_obj *o;

	if (!w->service)
		return;
	o = model_set_find(set, MODEL_SERVICE, w->service);
	if (!o)
		o = model_set_find(set, msvc_kind(), w->service);
	if (!o)
		return;
	w->service_ns = svcname_namespace(set, o);
	w->service_port = msvc_service_port(o);
}
