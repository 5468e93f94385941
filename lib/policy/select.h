/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which policies apply to a proxy, in which order, and what their confs add
 * up to: Kuma's selection and precedence rules over the records of
 * include/meshforge/abi_policy.h.  mfctl (`get` of an effective conf,
 * validation hints) and the agent (building a proxy's configuration) both
 * call this, so the two can never disagree.  docs/policy.md, "Selecting and
 * merging policies", states the same rules for users.
 *
 * targetRef policies (KIND_FORM_TO_FROM, _DEFAULT, _ROUTE):
 *  1. A record applies when its spec.targetRef selects the proxy (`self`)
 *     and, for a to/from entry, the entry's targetRef selects the peer (the
 *     destination of a `to`, the source of a `from`).  A policy labelled
 *     kuma.io/effect: shadow applies to nothing.
 *  2. Applicable records are merged least precedent first, so later ones
 *     override the fields they set (sch_merge: nested objects merge field
 *     by field, lists replace).  Precedence, lowest first, compares Kuma's
 *     keys (its rules/sort and matchers/dataplane):
 *       a. specificity of spec.targetRef (sel_kind_rank); for Dataplane,
 *          by name beats by labels, and with sectionName beats without,
 *       b. the policy's origin (label kuma.io/origin): global, then none,
 *          then zone,
 *       c. the policy's role (label kuma.io/policy-role): system (or
 *          none), producer, consumer, workload-owner,
 *       d. specificity of the entry's targetRef; with sectionName beats
 *          without; for a rule, its match: an Exact spiffeID beats a
 *          Prefix, which beats none, then an sni beats none,
 *       e. the policy name, in reverse byte order: at equal rank the name
 *          that sorts FIRST ("a-policy" before "b-policy") is merged last
 *          and wins,
 *       f. the entry's index in its policy: a later entry wins.
 *
 * Legacy policies (KIND_FORM_SOURCES, _SELECTORS): no merging; the single
 * best match wins (sel_legacy_best).
 *
 * Tag matching everywhere: a selector's tags all have to be present on the
 * workload with the same value, or with any value when the selector says
 * "*".  Every workload carries the implicit tag kuma.io/service = its
 * Service name (it overrides a kuma.io/service in its own tags); a
 * selector's kuma.io/service value matches it when it names that Service
 * (svcname_answers(): its name or Kuma's generated name).
 */
#ifndef MF_SELECT_H
#define MF_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kinds.h"

#define SEL_SERVICE_TAG "kuma.io/service"

/* A proxy, or the peer of a to/from entry.  Nothing is owned: the strings
 * and the tagset belong to the caller and must outlive the call. */
struct sel_workload {
	const char *name;		/* Workload name; NULL: a Service as a
					 * whole (a `to` destination) */
	const char *service;		/* its Service; NULL: none */
	const struct mf_tagset *tags;	/* its tags; NULL: none */
	const char *gateway;		/* the MeshGateway it serves; NULL:
					 * not a gateway */
	uint16_t port;			/* the port traffic is for (the
					 * Workload's, or the Service's);
					 * 0: unknown, no sectionName
					 * selects it */
	/* The Service's namespace (NULL: "default") and port (0: unknown):
	 * Kuma's generated name for it, <service>_<ns>_svc_<port>, selects
	 * it as its name does (svcname.h). */
	const char *service_ns;
	uint16_t service_port;
	/* The MeshMultiZoneService a `to` destination is (NULL: none); it
	 * then has no @service. */
	const char *multi_zone;
};

/* The label that stands for an object's name in label selectors (Kuma
 * sets it on every object), and the one that says its namespace. */
#define SEL_DISPLAY_NAME_LABEL	"kuma.io/display-name"
#define SEL_NAMESPACE_LABEL	"k8s.kuma.io/namespace"

/* How to resolve what records refer to by id or name. */
struct sel_ctx {
	/* The tagset with id @id, or NULL when unknown: a selector whose
	 * tags cannot be resolved selects nothing.  Required. */
	const struct mf_tagset *(*tags)(void *arg, uint32_t id);
	/* The spec.targetRef of the MeshHTTPRoute called @name, or NULL when
	 * there is none.  May be NULL: a top-level MeshHTTPRoute then only
	 * needs the query's route to match. */
	const struct mf_ref *(*route_target)(void *arg, const char *name);
	/* The metadata.labels of the object of targetRef kind @kind (a
	 * Service for MF_REF_MESH_SERVICE, a Workload for MF_REF_WORKLOAD, a
	 * route for MF_REF_MESH_HTTP_ROUTE) called @name, or NULL when it has
	 * none.  May be NULL: objects have no labels but their display
	 * name. */
	const struct mf_tagset *(*labels)(void *arg, uint8_t kind,
					  const char *name);
	void *arg;
};

/* What to compute: the conf of @self's traffic in @section with @peer. */
struct sel_query {
	const struct sel_workload *self;	/* required */
	uint8_t section;		/* MF_SEC_TO, MF_SEC_FROM, MF_SEC_RULE
					 * or MF_SEC_DEFAULT */
	const struct sel_workload *peer;	/* destination (TO), source
					 * (FROM); NULL for DEFAULT, or when
					 * unknown (only `Mesh` entries match) */
	const char *route;		/* the MeshHTTPRoute the request
					 * matched, or NULL */
	/* MF_SEC_RULE (inbound `rules`): the SPIFFE ID the peer presented
	 * and the SNI it asked for, NULL when unknown (only rules without
	 * such a match apply then). */
	const char *peer_id, *sni;
};

/* One record of a kind's map: its value and the policy it came from (the
 * key's name and index).  Borrowed from the caller. */
struct sel_cand {
	const void *val;		/* struct mf_<kind>, kd->val_size bytes */
	const char *name;		/* policy name (NUL-terminated) */
	uint32_t index;			/* entry index within the policy */
	const struct mf_tagset *labels;	/* the policy's labels, NULL: none */
};

/* The precedence of one applicable record (rule 2 above), each key
 * higher for the more precedent. */
struct sel_rank {
	uint8_t target;			/* sel_kind_rank(hdr.target.kind) */
	uint8_t target_sub;		/* Dataplane: 2 by name, +1 with a
					 * sectionName */
	uint8_t origin;			/* 1 global, 2 none, 3 zone */
	uint8_t role;			/* 1 system, 2 producer, 3 consumer,
					 * 4 workload-owner */
	uint8_t entry;			/* sel_kind_rank(hdr.ref.kind), 0: none;
					 * a rule: 2 spiffeID Exact, 1 Prefix,
					 * doubled, +1 with an sni */
	uint8_t entry_sub;		/* 1: the entry has a sectionName */
	const char *name;		/* policy name */
	uint32_t index;			/* entry index */
};

/*
 * Specificity of a targetRef kind (enum mf_ref_kind): 0 for an unknown or
 * absent kind, else, least to most specific, Kuma's order:
 *   Mesh 1 < Dataplane (Workload) 2 < MeshSubset 3 < MeshGateway 4 <
 *   MeshService 5 < MeshExternalService 6 < MeshMultiZoneService 7 <
 *   MeshServiceSubset 8 < MeshHTTPRoute 9.
 */
int sel_kind_rank(uint8_t kind);

/*
 * Compares the precedence of two applicable records: < 0 when @a is merged
 * before @b (@b overrides it), > 0 when after, 0 when equal in every key.
 */
int sel_cmp(const struct sel_rank *a, const struct sel_rank *b);

/*
 * Whether targetRef @r selects @w.  For a spec.targetRef @w is the proxy;
 * for a to/from entry it is the peer.  Mesh selects everything (of its
 * proxyTypes: a gateway is a Gateway, any other workload a Sidecar);
 * MeshSubset by tags (and proxyTypes); MeshService by Service name or
 * labels; MeshServiceSubset by name and tags; Dataplane every Workload,
 * or one by name, or those of its labels; MeshGateway by w->gateway (and
 * tags); MeshHTTPRoute when @route names it (or has its labels) and (with
 * ctx->route_target) the route's own targetRef selects @w.  A namespace
 * must be the object's k8s.kuma.io/namespace label; a sectionName must be
 * w->port.  MeshMultiZoneService selects a destination that is one
 * (w->multi_zone) by name or labels; MeshExternalService names no
 * workload here, and an absent kind selects nothing.  @w NULL: only Mesh
 * selects it.
 */
bool sel_ref_selects(const struct mf_ref *r, const struct sel_workload *w,
		     const char *route, const struct sel_ctx *ctx);

/*
 * Whether selector tags @sel match workload @w (the rules of tag matching
 * above).  @sel NULL or empty matches every workload.
 */
bool sel_tags_match(const struct mf_tagset *sel, const struct sel_workload *w);

/*
 * Whether label selector @sel matches the object called @name with labels
 * @labels (NULL: none): each of its labels is on the object with the same
 * value, kuma.io/display-name standing for @name when the object does not
 * carry it.  @sel NULL or empty matches every object.
 */
bool sel_labels_match(const struct mf_tagset *sel, const char *name,
		      const struct mf_tagset *labels);

/*
 * The records of @c (@n of them, all of kind @kd) that apply to @q, in
 * merge order (least precedent first): their indexes into @c go to @order
 * (room for @n).  Returns how many apply, or -EINVAL (bad query for the
 * kind's form, or a legacy kind), -ENOMEM.
 */
int sel_select(const struct kind_desc *kd, const struct sel_cand *c, size_t n,
	       const struct sel_query *q, const struct sel_ctx *ctx,
	       size_t *order);

/*
 * The effective conf for @q: the confs (at kd->conf_off) of the records
 * that apply, merged in precedence order with sch_merge over kd->conf, into
 * @conf_out (kd->val_size - kd->conf_off bytes, caller-owned; zeroed
 * first, so with no record applying it is all absent).  When @names is not
 * NULL, the names of the contributing policies go there in merge order
 * (the last one won every field it set), borrowed from @c, at most
 * @max_names of them (a policy with two contributing entries is listed
 * twice).  Returns how many records contributed (0: none), or a -errno of
 * sel_select.
 */
int sel_effective(const struct kind_desc *kd, const struct sel_cand *c,
		  size_t n, const struct sel_query *q,
		  const struct sel_ctx *ctx, void *conf_out,
		  const char **names, size_t max_names);

/* The rank of a legacy selector match: Kuma compares the number of tags
 * first, then how many of them are exact (not "*"). */
struct sel_legacy_rank {
	uint32_t tags;			/* tags matched */
	uint32_t exact;			/* of which with an exact value */
};

/*
 * Legacy policies (TrafficRoute, RateLimit; MeshGateway and
 * MeshGatewayRoute with @dst NULL): the index in @c of the one record that
 * applies to traffic from @src to @dst.  A record matches when one of its
 * hdr.sources selectors matches @src and one of its hdr.destinations
 * selectors matches @dst; a side passed as NULL is not checked (and adds
 * nothing to the rank), a checked side with no selectors does not match.
 * Among matches, the highest rank (best source match + best destination
 * match, summed) wins: more tags first, then more exact values; at equal
 * rank the policy name that sorts first (byte order) wins.  Returns the
 * index, or -ENOENT when nothing matches.  The rank of the winner goes to
 * @rank when not NULL.
 */
int sel_legacy_best(const struct sel_cand *c, size_t n,
		    const struct sel_workload *src,
		    const struct sel_workload *dst, const struct sel_ctx *ctx,
		    struct sel_legacy_rank *rank);

#endif /* MF_SELECT_H */
