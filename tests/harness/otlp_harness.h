/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For the tests that unpack what the agent sends an OpenTelemetry
 * collector (OTLP, agent/otlp.h): the string value of an attribute.
 *
 * Include after "harness/test.h".
 */
#ifndef MF_OTLP_HARNESS_H
#define MF_OTLP_HARNESS_H

#include <stddef.h>
#include <string.h>

#include "opentelemetry/proto/common/v1/common.pb-c.h"

/* The string value of attribute @key of @kv[0..@n), or NULL. */
static inline const char *
otlp_attr(Opentelemetry__Proto__Common__V1__KeyValue *const *kv, size_t n,
	  const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key))
			return kv[i]->value->string_value;
	return NULL;
}

#endif /* MF_OTLP_HARNESS_H */
