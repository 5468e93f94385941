// SPDX-License-Identifier: Apache-2.0
/*
 * TrafficRoute (legacy, source/destination selectors): where the selected
 * sources' traffic to the selected destinations goes, and how it is
 * balanced.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: TrafficRoute
 *   metadata: {name: web-split}
 *   spec:
 *     sources:
 *       - match: {kuma.io/service: '*'}
 *     destinations:
 *       - match: {kuma.io/service: web}
 *     conf:
 *       split:
 *         - weight: 90
 *           destination: {kuma.io/service: web, version: v1}
 *         - weight: 10
 *           destination: {kuma.io/service: web, version: v2}
 *       loadBalancer:
 *         ringHash:
 *           hashFunction: MURMUR_HASH_2
 *           minRingSize: 64
 *           maxRingSize: 1024
 *
 * Instead of split, `destination: {kuma.io/service: web}` sends everything
 * to one subset.  As in Kuma: exactly one of split and destination; every
 * split entry needs weight and destination; weights are relative (they
 * need not sum to 100) and at least one must be above 0.  Kuma bounds no
 * single weight; here their sum must fit in 32 bits, as the proxy's total
 * weight must.  loadBalancer, when given, is exactly one of roundRobin: {},
 * leastRequest: {choiceCount >= 2}, ringHash: {hashFunction XX_HASH or
 * MURMUR_HASH_2 (required, as Kuma checks it), minRingSize <= maxRingSize,
 * each 1..8388608}, random: {}, maglev: {tableSize: a prime <= 5000011}.
 * Kuma's conf.http (per-route matches) is not in the record and is not
 * read.  That split destinations name kuma.io/service is left to
 * validation, which can read tag sets.
 */
#include <stddef.h>

#include "kinds.h"

#define TR_RING_MAX 8388608u	/* the proxy's limit on ring entries */
#define TR_MAGLEV_MAX 5000011u	/* the proxy's largest Maglev table */

static const char *const tr_hash_functions[] = { "XX_HASH", "MURMUR_HASH_2",
						 NULL };

static const struct sch_object tr_empty = {
	.name = "TrafficRoute loadBalancer (no settings)",
};

static const struct sch_field tr_least_fields[] = {
	SCH_F_INT("choiceCount", mf_lb_least_request, choice_count, 2,
		  UINT32_MAX),
};
SCH_OBJECT_DEF(tr_least, "TrafficRoute leastRequest");

enum { TR_RING_HASH, TR_RING_MIN, TR_RING_MAXSZ };

static const char *tr_ring_check(const void *obj)
{
	const struct mf_lb_ring_hash *r = obj;

	if (sch_has(obj, TR_RING_MIN) && sch_has(obj, TR_RING_MAXSZ) &&
	    r->min_ring_size > r->max_ring_size)
		return "minRingSize must not be above maxRingSize";
	return NULL;
}

static const struct sch_field tr_ring_fields[] = {
	[TR_RING_HASH] = SCH_F_ENUM("hashFunction", mf_lb_ring_hash,
				    hash_function, tr_hash_functions,
				    SCH_REQUIRED),
	[TR_RING_MIN] = SCH_F_INT("minRingSize", mf_lb_ring_hash,
				  min_ring_size, 1, TR_RING_MAX),
	[TR_RING_MAXSZ] = SCH_F_INT("maxRingSize", mf_lb_ring_hash,
				    max_ring_size, 1, TR_RING_MAX),
};
SCH_OBJECT_DEF(tr_ring, "TrafficRoute ringHash", .check = tr_ring_check);

/* Maglev needs a prime table size (the proxy refuses others). */
static const char *tr_maglev_check(const void *obj)
{
	const struct mf_lb_maglev *m = obj;

	if (!sch_has(obj, 0) || kind_is_prime(m->table_size))
		return NULL;
	return "tableSize must be a prime number";
}

static const struct sch_field tr_maglev_fields[] = {
	SCH_F_INT("tableSize", mf_lb_maglev, table_size, 2, TR_MAGLEV_MAX),
};
SCH_OBJECT_DEF(tr_maglev, "TrafficRoute maglev", .check = tr_maglev_check);

static const char *tr_balancer_check(const void *obj)
{
	uint32_t p = sch_present(obj);

	if (!p || (p & (p - 1)))
		return "must have exactly one of roundRobin, leastRequest, "
		       "ringHash, random, maglev";
	return NULL;
}

static const struct sch_field tr_balancer_fields[] = {
	SCH_F_OBJECT("roundRobin", mf_tr_balancer, round_robin, &tr_empty),
	SCH_F_OBJECT("leastRequest", mf_tr_balancer, least_request,
		     &tr_least),
	SCH_F_OBJECT("ringHash", mf_tr_balancer, ring_hash, &tr_ring),
	SCH_F_OBJECT("random", mf_tr_balancer, random, &tr_empty),
	SCH_F_OBJECT("maglev", mf_tr_balancer, maglev, &tr_maglev),
};
SCH_OBJECT_DEF(tr_balancer, "TrafficRoute loadBalancer",
	       .check = tr_balancer_check);

static const struct sch_field tr_split_fields[] = {
	SCH_F_INT("weight", mf_tr_split, weight, 0, UINT32_MAX, SCH_REQUIRED),
	SCH_F_TAGS("destination", mf_tr_split, destination, SCH_REQUIRED),
};
SCH_OBJECT_DEF(tr_split, "TrafficRoute split entry");

enum { TR_SPLIT, TR_DESTINATION, TR_BALANCER };

static const char *tr_conf_check(const void *obj)
{
	const struct mf_tr_conf *c = obj;
	uint64_t total = 0;

	if (sch_has(obj, TR_SPLIT) == sch_has(obj, TR_DESTINATION))
		return "must have exactly one of split, destination";
	if (!sch_has(obj, TR_SPLIT))
		return NULL;
	if (!c->nsplit)
		return "split must have at least one entry";
	for (unsigned i = 0; i < c->nsplit && i < MF_SPLIT_MAX; i++)
		total += c->split[i].weight;
	if (!total)
		return "split must have at least one weight above 0";
	if (total > UINT32_MAX)
		return "split weights must sum to at most 4294967295";
	return NULL;
}

static const struct sch_field tr_conf_fields[] = {
	[TR_SPLIT] = SCH_F_LIST("split", mf_tr_conf, split, &tr_split),
	[TR_DESTINATION] = SCH_F_TAGS("destination", mf_tr_conf, destination),
	[TR_BALANCER] = SCH_F_OBJECT("loadBalancer", mf_tr_conf, load_balancer,
				     &tr_balancer),
};
SCH_OBJECT_DEF(tr_conf, "TrafficRoute conf", .check = tr_conf_check);

/* KIND_FORM_SOURCES: selectors instead of targetRefs, so no sections and
 * no ref kinds. */
const struct kind_desc kind_traffic_route = {
	.name = "TrafficRoute", .plural = "trafficroutes",
	.form = KIND_FORM_SOURCES,
	KIND_RECORD(mf_traffic_route, conf, &tr_conf),
};
