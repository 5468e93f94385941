/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_attach: which routes a builtin gateway's listeners take, the one rule
 * for the agent (agent/gwroute.h, which serves them) and mfctl (`effective`
 * of a gateway instance, which shows them).
 *
 * An instance runs the MeshGateway whose selectors match its tags best
 * (sel_legacy_best()).  A listener's tags are the instance's, then the
 * MeshGateway's spec.tags, then its own (a later value of a key wins); as
 * selectors see it, it is a workload named after the instance, of its
 * kuma.io/service, serving that MeshGateway, at the listener's port.
 *
 * Two forms of route, as in Kuma:
 *   - MeshGatewayRoute (legacy): one of its selectors matches the
 *     listener's tags;
 *   - MeshHTTPRoute, MeshTCPRoute: spec.targetRef {kind: MeshGateway} by
 *     name, its tags (none: every listener) against the listener's tags,
 *     with a to[] entry {kind: Mesh}; attached in merge order
 *     (sel_select()).  A MeshGateway ref has no sectionName (apply
 *     refuses one, as Kuma does).
 * Once a MeshHTTPRoute is attached to one HTTP or HTTPS listener of an
 * instance, MeshHTTPRoutes alone route all of them, its MeshGatewayRoutes'
 * http rules left out (Kuma's gateway plugin skips the listeners of a
 * proxy that has MeshHTTPRoute gateway rules); likewise MeshTCPRoute on
 * TCP and TLS listeners.
 */
#ifndef MF_POLICY_GW_ATTACH_H
#define MF_POLICY_GW_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"
#include "select.h"

/* A listener of an instance as selectors see it.  @tags is its own copy;
 * @w points into it (and at the caller's strings). */
struct gwa_listener {
	const struct mf_gw_listener *l;
	struct mf_tagset tags;
	struct sel_workload w;
};

/* The best MeshGateway of @gc (@n) for the instance called @name with tags
 * @tags: its index, or -ENOENT. */
int gwa_gateway(const struct sel_cand *gc, size_t n, const char *name,
		const struct mf_tagset *tags, const struct sel_ctx *ctx);

/* Listener @l of gateway @gw (policy @gw_name), run by the instance called
 * @inst with tags @inst_tags, into @out. */
void gwa_listener(struct gwa_listener *out, const struct sel_ctx *ctx,
		  const char *inst, const struct mf_tagset *inst_tags,
		  const struct mf_gateway *gw, const char *gw_name,
		  const struct mf_gw_listener *l);

/* Whether @l speaks HTTP (an HTTP or HTTPS listener); else TCP or TLS. */
bool gwa_is_http(const struct mf_gw_listener *l);

/* Whether one of the selectors of MeshGatewayRoute @r matches @gl. */
bool gwa_gwr_selects(const struct mf_gateway_route *r,
		     const struct gwa_listener *gl, const struct sel_ctx *ctx);

/* The records of @kd (MeshHTTPRoute, MeshTCPRoute; @c, @n) attached to
 * @gl, merge order (least precedent first) into @order (room for @n).
 * Returns how many, or -ENOMEM. */
int gwa_attached(const struct kind_desc *kd, const struct sel_cand *c,
		 size_t n, const struct gwa_listener *gl,
		 const struct sel_ctx *ctx, size_t *order);

/* Of the @m MeshTCPRoute records @c[@order[i]] attached to a listener,
 * the index in @c of the one that decides (the most precedent with
 * backendRefs, as merging gives), -1 when none has backendRefs. */
int gwa_tcp_decider(const struct sel_cand *c, const size_t *order, int m);

/* Which form routes the listeners of an instance (the rule above). */
/* The route records a gateway's listeners are routed by, each kind's
 * candidates (the caller owns them all; gwa_cands_free()). */
struct gwa_cands {
	struct sel_cand *gwr, *http, *tcp;	/* MeshGatewayRoute,
						 * MeshHTTPRoute, MeshTCPRoute */
	size_t ngwr, nhttp, ntcp;
	size_t *order;			/* room for the most of them */
};

void gwa_cands_free(struct gwa_cands *c);

struct gwa_forms {
	bool http;			/* MeshHTTPRoute, not MeshGatewayRoute */
	bool tcp;			/* MeshTCPRoute, not MeshGatewayRoute */
};

/* The forms of the instance called @inst (tags @inst_tags) running @gw
 * (@gw_name), from the MeshHTTPRoute (@hc, @nh) and MeshTCPRoute (@tc,
 * @nt) records; @order has room for the most of them.  Returns 0 or
 * -ENOMEM. */
int gwa_forms(struct gwa_forms *out, const struct sel_ctx *ctx,
	      const char *inst, const struct mf_tagset *inst_tags,
	      const struct mf_gateway *gw, const char *gw_name,
	      const struct sel_cand *hc, size_t nh, const struct sel_cand *tc,
	      size_t nt, size_t *order);

#endif /* MF_POLICY_GW_ATTACH_H */
