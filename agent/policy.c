// SPDX-License-Identifier: Apache-2.0
/*
 * Policy snapshots.  A snapshot copies every policy map into sorted arrays
 * once, so the data path answers each question with a binary search over
 * memory and never makes a bpf() syscall:
 *   services   sorted by (vip, port, proto)     policy_service_by_vip()
 *   svc_by_id  indexes into services, by id     policy_service_by_id()
 *   eps        sorted by ip                     policy_endpoint_by_ip()
 *   ep_by_svc  endpoint indexes sorted by (service id, unlisted,
 *              priority, ip, port): each service owns a contiguous run
 *              of the endpoints a client may use, then those its
 *              MeshService's identities leave out; round robin walks
 *              the head of its lowest priority
 *   idents     sorted by id;  nodes  sorted by name
 *   node_by_ip indexes into nodes, by (ip, name): an endpoint names its
 *              node by address               policy_node_name_by_ip()
 *   rules      sorted by (service id, index): each service's rules are a
 *              contiguous run found by bisection
 *   gws        the builtin gateway instances, sorted by name
 *
 * Authorization (policy_authorize) follows include/meshforge/abi.h.  A
 * prefix rule is a plain string prefix, as "prefix*" reads in Kuma and
 * Istio: "spiffe://mesh.local/ns/def" matches ".../ns/default/sa/x" too.
 * Authors who mean a namespace write the trailing '/' (".../ns/default/"),
 * which is what `kind: Mesh` compiles to ("spiffe://<td>/").  Everything
 * that cannot be decided cleanly (an unknown service, a rule of unknown
 * kind, no identity) is denied.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy.h"
#include "polkinds.h"
#include "policy/mapio.h"
#include "policy/store.h"
#include "spiffe.h"

struct pol_svc {
	struct mf_service_key key;
	struct mf_service svc;
	uint32_t ep_first, ep_count;	/* run in ep_by_svc */
	uint32_t ep_unlisted;		/* after the run: its endpoints
					 * MF_ENDPOINT_F_UNLISTED, never
					 * picked */
	uint32_t ep_first_level;	/* how many of the run are of its
					 * lowest priority (all but a
					 * MeshExternalService's) */
	uint32_t rr;			/* round robin cursor (atomic) */
};

struct pol_ep {
	struct mf_endpoint_key key;
	struct mf_endpoint ep;
};

struct pol_ident {
	uint32_t id;
	struct mf_identity v;
};

struct pol_node {
	struct mf_node_key key;
	struct mf_node v;
};

struct pol_rule {
	struct mf_authz_key key;
	struct mf_authz_rule r;
	size_t len;			/* strlen(r.spiffe) */
	const char *why;		/* "policy=<name> rule=<spiffe>",
					 * " sni=<name>" after it for a rule
					 * by SNI */
};

/* What a MeshExternalService's endpoint has beyond its mf_endpoint
 * (policy_external()). */
struct pol_ext {
	const struct mf_mesh_external_service *mes;	/* in @kinds */
	char host[MF_HOST_MAX];
	uint8_t priority;				/* 0 first */
};

struct policy {
	int refs;			/* atomic */
	struct mf_config config;
	struct pol_svc *svcs;
	uint32_t *svc_by_id;
	size_t n_svcs;
	/* The workloads' endpoints, by IP (n_eps), then the
	 * MeshExternalServices' (n_ext, as ext[]): lookups by IP see only
	 * the first. */
	struct pol_ep *eps;
	uint32_t *ep_by_svc;
	size_t n_eps, n_ext;
	struct pol_ext *ext;
	struct pol_ident *idents;
	size_t n_idents;
	struct pol_node *nodes;
	uint32_t *node_by_ip;
	size_t n_nodes;
	struct pol_rule *rules;
	size_t n_rules;
	struct mf_gw_instance *gws;
	size_t n_gws;
	char *why_pool;			/* the rules' why strings */
	struct polkinds *kinds;		/* the schema-driven kinds, owned */
	/* pol_tickets_per() per record of the kinds router.c picks by
	 * (TrafficRoute, MeshHTTPRoute...): the mutable state of their
	 * splits, as the services' round robin cursors (atomic). */
	uint32_t *tickets[POLICY_TICKET_KINDS];
	size_t n_tickets[POLICY_TICKET_KINDS];
	uint32_t *svc_by_name;		/* services by name, then key */
};

/* ---- building ------------------------------------------------------------ */

/* Counters a record of ticket kind @kind has (policy.h). */
static unsigned int pol_tickets_per(enum policy_ticket_kind kind)
{
	return kind == POLICY_TICKET_GW_ROUTE ? POLICY_TICKETS_GW_ROUTE :
						POLICY_TICKETS;
}

static int cmp_svc(const void *a, const void *b)
{
	const struct pol_svc *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static int cmp_ep(const void *a, const void *b)
{
	const struct pol_ep *x = a, *y = b;

	return memcmp(x->key.ip, y->key.ip, 4);
}

static int cmp_svc_name(const void *a, const void *b, void *arg)
{
	const struct policy *p = arg;
	const struct pol_svc *x = &p->svcs[*(const uint32_t *)a];
	const struct pol_svc *y = &p->svcs[*(const uint32_t *)b];
	int r = strcmp(x->svc.name, y->svc.name);

	return r ? r : memcmp(&x->key, &y->key, sizeof(x->key));
}

static int cmp_ident(const void *a, const void *b)
{
	const struct pol_ident *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_node(const void *a, const void *b)
{
	const struct pol_node *x = a, *y = b;

	return strcmp(x->key.name, y->key.name);
}

static int cmp_gw(const void *a, const void *b)
{
	return strcmp(((const struct mf_gw_instance *)a)->name,
		      ((const struct mf_gw_instance *)b)->name);
}

static int cmp_rule(const void *a, const void *b)
{
	const struct pol_rule *x = a, *y = b;

	if (x->key.service_id != y->key.service_id)
		return x->key.service_id < y->key.service_id ? -1 : 1;
	return x->key.index < y->key.index ? -1 : x->key.index > y->key.index;
}

/* Orders of indexes into the snapshot's arrays (glibc qsort_r). */
static int cmp_svc_id(const void *a, const void *b, void *arg)
{
	const struct policy *p = arg;
	uint32_t x = p->svcs[*(const uint32_t *)a].svc.id;
	uint32_t y = p->svcs[*(const uint32_t *)b].svc.id;

	return x < y ? -1 : x > y;
}

static int cmp_node_ip(const void *a, const void *b, void *arg)
{
	const struct policy *p = arg;
	const struct pol_node *x = &p->nodes[*(const uint32_t *)a];
	const struct pol_node *y = &p->nodes[*(const uint32_t *)b];
	int r = memcmp(x->v.ip, y->v.ip, 4);

	return r ? r : strcmp(x->key.name, y->key.name);
}

/* The priority of the endpoint at index @i of p->eps: a
 * MeshExternalService's as its spec says, any other's 0. */
static unsigned int pol_ep_priority(const struct policy *p, size_t i)
{
	return i >= p->n_eps ? p->ext[i - p->n_eps].priority : 0;
}

static int cmp_ep_svc(const void *a, const void *b, void *arg)
{
	const struct policy *p = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct pol_ep *x = &p->eps[i], *y = &p->eps[j];
	unsigned int px = pol_ep_priority(p, i), py = pol_ep_priority(p, j);
	int r;

	if (x->ep.service_id != y->ep.service_id)
		return x->ep.service_id < y->ep.service_id ? -1 : 1;
	if ((x->ep.flags ^ y->ep.flags) & MF_ENDPOINT_F_UNLISTED)
		return x->ep.flags & MF_ENDPOINT_F_UNLISTED ? 1 : -1;
	if (px != py)
		return px < py ? -1 : 1;
	r = memcmp(x->key.ip, y->key.ip, 4);
	return r ? r : (x->ep.port > y->ep.port) - (x->ep.port < y->ep.port);
}

/* Forces NUL termination: map contents come from another process. */
#define POL_TERMINATE(s) ((s)[sizeof(s) - 1] = '\0')

/* Sorts @n elements of @size at @v with @cmp and drops adjacent duplicates
 * (a hash map walked while it changed can yield a key twice).  Returns the
 * new count. */
static size_t pol_sort_unique(void *v, size_t n, size_t size,
			      int (*cmp)(const void *, const void *))
{
	char *base = v;
	size_t i, out = 0;

	if (n == 0)
		return 0;
	qsort(base, n, size, cmp);
	for (i = 1; i < n; i++) {
		if (cmp(base + out * size, base + i * size) == 0)
			continue;
		out++;
		if (out != i)
			memcpy(base + out * size, base + i * size, size);
	}
	return out + 1;
}

static void policy_free(struct policy *p)
{
	free(p->svcs);
	free(p->svc_by_id);
	free(p->eps);
	free(p->ext);
	free(p->ep_by_svc);
	free(p->idents);
	free(p->nodes);
	free(p->node_by_ip);
	free(p->rules);
	free(p->gws);
	free(p->why_pool);
	polkinds_free(p->kinds);
	for (size_t k = 0; k < POLICY_TICKET_KINDS; k++)
		free(p->tickets[k]);
	free(p->svc_by_name);
	free(p);
}

/* Allocates @n elements of @size, at least one so that NULL means ENOMEM. */
static void *pol_alloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

/* Record @i of map @m of @rs, as key and value of their types. */
#define POL_KEY(rs, m, i) rec_key((rs), (m), (i))
#define POL_VAL(rs, m, i) rec_val((rs), (m), (i))

static int policy_build_rules(struct policy *p, const struct rec_set *rs)
{
	size_t i, n = rec_count(rs, REC_AUTHZ), pool = 0, off = 0;

	p->rules = pol_alloc(n, sizeof(*p->rules));
	if (!p->rules)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct pol_rule *x = &p->rules[i];

		memcpy(&x->key, POL_KEY(rs, REC_AUTHZ, i), sizeof(x->key));
		memcpy(&x->r, POL_VAL(rs, REC_AUTHZ, i), sizeof(x->r));
		POL_TERMINATE(x->r.policy);
		POL_TERMINATE(x->r.spiffe);
		POL_TERMINATE(x->r.sni);
		x->len = strlen(x->r.spiffe);
	}
	p->n_rules = pol_sort_unique(p->rules, n, sizeof(*p->rules), cmp_rule);
	for (i = 0; i < p->n_rules; i++)
		pool += strlen(p->rules[i].r.policy) + p->rules[i].len +
			strlen(p->rules[i].r.sni) +
			sizeof("policy= rule= sni=");
	p->why_pool = malloc(pool ? pool : 1);
	if (!p->why_pool)
		return -ENOMEM;
	for (i = 0; i < p->n_rules; i++) {
		struct pol_rule *x = &p->rules[i];

		x->why = p->why_pool + off;
		off += sprintf(p->why_pool + off, "policy=%s rule=%s%s%s",
			       x->r.policy, x->r.spiffe,
			       x->r.sni_match ? " sni=" : "",
			       x->r.sni_match ? x->r.sni : "") + 1;
	}
	return 0;
}

/* The MeshExternalService record named @name in @rs, or NULL. */
static const struct mf_mesh_external_service *
pol_mes_rec(const struct rec_set *rs, const char *name)
{
	const int m = REC_EXT_SERVICES;

	for (size_t i = 0; i < rec_count(rs, m); i++) {
		const struct mf_pol_key *k = POL_KEY(rs, m, i);

		if (!strncmp(k->name, name, sizeof(k->name)))
			return POL_VAL(rs, m, i);
	}
	return NULL;
}

/* How many endpoints the MeshExternalServices of @rs give at most. */
static size_t pol_ext_count(const struct rec_set *rs)
{
	size_t n = 0;

	for (size_t i = 0; i < rec_count(rs, REC_EXT_SERVICES); i++) {
		const struct mf_mesh_external_service *e =
			POL_VAL(rs, REC_EXT_SERVICES, i);

		n += e->nendpoints < MF_MES_ENDPOINTS_MAX ? e->nendpoints :
			MF_MES_ENDPOINTS_MAX;
	}
	return n;
}

/* @host's IPv4 address into @ip: an address as it is, a name by the
 * resolver (a snapshot is built off the loop, where it may block).
 * Returns 0 or -ENOENT. */
static int pol_resolve(const char *host, uint8_t ip[4])
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;

	if (inet_pton(AF_INET, host, ip) == 1)
		return 0;
	if (getaddrinfo(host, NULL, &hints, &res) || !res) {
		log_warn("event=external_endpoint_unresolved host=%s", host);
		return -ENOENT;
	}
	memcpy(ip, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
	freeaddrinfo(res);
	return 0;
}

/* The endpoints of the MeshExternalServices of @rs, after p->eps's n_eps
 * (room made for pol_ext_count()), every priority's: the balancer fails
 * over from one level to the next (balance.h). */
static void pol_add_ext(struct policy *p, const struct rec_set *rs)
{
	for (size_t i = 0; i < p->n_svcs; i++) {
		const struct mf_service *svc = &p->svcs[i].svc;
		const struct mf_mesh_external_service *e;

		if (!(svc->flags & MF_SERVICE_F_EXTERNAL))
			continue;
		e = pol_mes_rec(rs, svc->name);
		if (!e)
			continue;
		for (unsigned j = 0; j < e->nendpoints &&
				     j < MF_MES_ENDPOINTS_MAX; j++) {
			const struct mf_mes_endpoint *me = &e->endpoints[j];
			struct pol_ep *pe = &p->eps[p->n_eps + p->n_ext];
			struct pol_ext *x = &p->ext[p->n_ext];

			/* Same size; terminated here, as it came from
			 * another process. */
			memcpy(x->host, me->address, sizeof(x->host));
			POL_TERMINATE(x->host);
			if (pol_resolve(x->host, pe->key.ip))
				continue;
			memcpy(pe->ep.node_ip, pe->key.ip, 4);
			pe->ep.service_id = svc->id;
			pe->ep.port = me->port;
			pe->ep.flags = MF_ENDPOINT_F_EXTERNAL;
			/* Same size, and terminated (POL_TERMINATE). */
			memcpy(pe->ep.name, svc->name, sizeof(pe->ep.name));
			x->priority = me->priority;
			p->n_ext++;
		}
	}
}

/* Each external endpoint's spec, in the snapshot's own records. */
static void pol_link_ext(struct policy *p)
{
	size_t kind = SIZE_MAX;

	for (size_t i = 0; i < kinds_count; i++)
		if (kinds_all[i] == &kind_mesh_external_service)
			kind = i;
	for (size_t i = 0; kind != SIZE_MAX && i < p->n_ext; i++) {
		const struct mf_endpoint *ep = &p->eps[p->n_eps + i].ep;

		for (size_t r = 0; r < polkinds_count(p->kinds, kind); r++) {
			const struct mf_pol_key *k;
			const void *v = polkinds_record(p->kinds, kind, r, &k);

			if (!strncmp(k->name, ep->name, sizeof(k->name)))
				p->ext[i].mes = v;
		}
	}
}

int policy_from_rec_set(struct policy **out, const struct rec_set *rs)
{
	size_t n_svcs = rec_count(rs, REC_SERVICES);
	size_t n_eps = rec_count(rs, REC_ENDPOINTS);
	size_t n_ext = pol_ext_count(rs);
	size_t n_idents = rec_count(rs, REC_IDENTITIES);
	size_t n_nodes = rec_count(rs, REC_NODES);
	size_t n_gws = rec_count(rs, REC_GW_INSTANCES);
	struct policy *p;
	size_t i, j;
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->refs = 1;
	p->config = rs->config;
	POL_TERMINATE(p->config.mesh);
	POL_TERMINATE(p->config.trust_domain);
	for (size_t i = 0; i < MF_MID_DOMAINS_MAX; i++)
		POL_TERMINATE(p->config.mid_domains[i]);

	p->svcs = pol_alloc(n_svcs, sizeof(*p->svcs));
	p->svc_by_id = pol_alloc(n_svcs, sizeof(*p->svc_by_id));
	p->eps = pol_alloc(n_eps + n_ext, sizeof(*p->eps));
	p->ext = pol_alloc(n_ext, sizeof(*p->ext));
	p->ep_by_svc = pol_alloc(n_eps + n_ext, sizeof(*p->ep_by_svc));
	p->idents = pol_alloc(n_idents, sizeof(*p->idents));
	p->nodes = pol_alloc(n_nodes, sizeof(*p->nodes));
	p->node_by_ip = pol_alloc(n_nodes, sizeof(*p->node_by_ip));
	p->gws = pol_alloc(n_gws, sizeof(*p->gws));
	if (!p->svcs || !p->svc_by_id || !p->eps || !p->ep_by_svc ||
	    !p->idents || !p->nodes || !p->node_by_ip || !p->gws || !p->ext)
		goto err;

	for (i = 0; i < n_svcs; i++) {
		memcpy(&p->svcs[i].key, POL_KEY(rs, REC_SERVICES, i),
		       sizeof(p->svcs[i].key));
		memcpy(&p->svcs[i].svc, POL_VAL(rs, REC_SERVICES, i),
		       sizeof(p->svcs[i].svc));
		POL_TERMINATE(p->svcs[i].svc.name);
	}
	p->n_svcs = pol_sort_unique(p->svcs, n_svcs, sizeof(*p->svcs), cmp_svc);
	for (i = 0; i < n_eps; i++) {
		memcpy(&p->eps[i].key, POL_KEY(rs, REC_ENDPOINTS, i),
		       sizeof(p->eps[i].key));
		memcpy(&p->eps[i].ep, POL_VAL(rs, REC_ENDPOINTS, i),
		       sizeof(p->eps[i].ep));
		POL_TERMINATE(p->eps[i].ep.name);
	}
	p->n_eps = pol_sort_unique(p->eps, n_eps, sizeof(*p->eps), cmp_ep);
	pol_add_ext(p, rs);
	for (i = 0; i < n_idents; i++) {
		const struct mf_identity_key *k = POL_KEY(rs, REC_IDENTITIES, i);

		p->idents[i].id = k->id;
		memcpy(&p->idents[i].v, POL_VAL(rs, REC_IDENTITIES, i),
		       sizeof(p->idents[i].v));
		POL_TERMINATE(p->idents[i].v.spiffe);
	}
	p->n_idents = pol_sort_unique(p->idents, n_idents, sizeof(*p->idents),
				      cmp_ident);
	for (i = 0; i < n_nodes; i++) {
		memcpy(&p->nodes[i].key, POL_KEY(rs, REC_NODES, i),
		       sizeof(p->nodes[i].key));
		memcpy(&p->nodes[i].v, POL_VAL(rs, REC_NODES, i),
		       sizeof(p->nodes[i].v));
		POL_TERMINATE(p->nodes[i].key.name);
	}
	p->n_nodes = pol_sort_unique(p->nodes, n_nodes, sizeof(*p->nodes),
				     cmp_node);
	for (i = 0; i < n_gws; i++) {
		memcpy(&p->gws[i], POL_VAL(rs, REC_GW_INSTANCES, i),
		       sizeof(p->gws[i]));
		POL_TERMINATE(p->gws[i].name);
		POL_TERMINATE(p->gws[i].node);
	}
	p->n_gws = pol_sort_unique(p->gws, n_gws, sizeof(*p->gws), cmp_gw);
	if (policy_build_rules(p, rs) < 0)
		goto err;

	/* Secondary orders, then each service's run of endpoints. */
	for (i = 0; i < p->n_svcs; i++)
		p->svc_by_id[i] = i;
	qsort_r(p->svc_by_id, p->n_svcs, sizeof(*p->svc_by_id), cmp_svc_id, p);
	for (i = 0; i < p->n_eps + p->n_ext; i++)
		p->ep_by_svc[i] = i;
	qsort_r(p->ep_by_svc, p->n_eps + p->n_ext, sizeof(*p->ep_by_svc),
		cmp_ep_svc, p);
	for (i = 0; i < p->n_nodes; i++)
		p->node_by_ip[i] = i;
	qsort_r(p->node_by_ip, p->n_nodes, sizeof(*p->node_by_ip),
		cmp_node_ip, p);
	for (i = 0, j = 0; i < p->n_svcs; i++) {
		struct pol_svc *s = &p->svcs[p->svc_by_id[i]];
		const struct pol_svc *prev =
			i ? &p->svcs[p->svc_by_id[i - 1]] : NULL;

		/* The ports of a MeshService are records of one id: each
		 * has all of its endpoints, whichever a lookup finds. */
		if (prev && prev->svc.id == s->svc.id) {
			s->ep_first = prev->ep_first;
			s->ep_count = prev->ep_count;
			s->ep_unlisted = prev->ep_unlisted;
			s->ep_first_level = prev->ep_first_level;
			continue;
		}
		/* Both lists ascend by service id: merge them. */
		while (j < p->n_eps + p->n_ext &&
		       p->eps[p->ep_by_svc[j]].ep.service_id < s->svc.id)
			j++;
		s->ep_first = j;
		while (j < p->n_eps + p->n_ext &&
		       p->eps[p->ep_by_svc[j]].ep.service_id == s->svc.id &&
		       !(p->eps[p->ep_by_svc[j]].ep.flags &
			 MF_ENDPOINT_F_UNLISTED))
			j++;
		s->ep_count = j - s->ep_first;
		while (j < p->n_eps + p->n_ext &&
		       p->eps[p->ep_by_svc[j]].ep.service_id == s->svc.id) {
			s->ep_unlisted++;
			j++;
		}
		while (s->ep_first_level < s->ep_count &&
		       pol_ep_priority(p, p->ep_by_svc[s->ep_first +
						       s->ep_first_level]) ==
		       pol_ep_priority(p, p->ep_by_svc[s->ep_first]))
			s->ep_first_level++;
	}
	err = polkinds_build(&p->kinds, rs);
	if (err) {
		policy_free(p);
		return err;
	}
	pol_link_ext(p);
	for (i = 0; i < kinds_count; i++) {
		if (kinds_all[i] == &kind_traffic_route)
			p->n_tickets[POLICY_TICKET_TR] =
				polkinds_count(p->kinds, i);
		if (kinds_all[i] == &kind_mesh_http_route)
			p->n_tickets[POLICY_TICKET_HTTP_ROUTE] =
				polkinds_count(p->kinds, i);
		if (kinds_all[i] == &kind_mesh_tcp_route)
			p->n_tickets[POLICY_TICKET_TCP_ROUTE] =
				polkinds_count(p->kinds, i);
		if (kinds_all[i] == &kind_mesh_gateway_route)
			p->n_tickets[POLICY_TICKET_GW_ROUTE] =
				polkinds_count(p->kinds, i);
	}
	for (i = 0; i < POLICY_TICKET_KINDS; i++) {
		p->tickets[i] = pol_alloc(p->n_tickets[i] * pol_tickets_per(i),
					  sizeof(*p->tickets[i]));
		if (!p->tickets[i]) {
			policy_free(p);
			return -ENOMEM;
		}
	}
	p->svc_by_name = pol_alloc(p->n_svcs, sizeof(*p->svc_by_name));
	if (!p->svc_by_name) {
		policy_free(p);
		return -ENOMEM;
	}
	for (i = 0; i < p->n_svcs; i++)
		p->svc_by_name[i] = i;
	qsort_r(p->svc_by_name, p->n_svcs, sizeof(*p->svc_by_name),
		cmp_svc_name, p);
	*out = p;
	return 0;
err:
	policy_free(p);
	return -ENOMEM;
}

/* ---- loading from the maps ---------------------------------------------- */

int policy_load(struct policy **out, const struct pmap *pm)
{
	struct store *s;
	struct rec_set rs;
	struct diag d;
	struct policy *p;
	int err;

	/* The one reader of the two halves (lib/policy/mapio.h): the half
	 * in force, read again when an apply flipped while it read. */
	diag_init(&d);
	rec_set_init(&rs);
	err = store_bpf_wrap(&s, pm);
	if (!err) {
		err = mapio_read(s, &rs, &d);
		store_close(s);
	}
	if (!err)
		err = policy_from_rec_set(&p, &rs);
	rec_set_free(&rs);
	for (size_t i = 0; err && i < d.n; i++)
		log_warn("event=policy_load_failed reason=\"%s\"", d.msgs[i]);
	diag_free(&d);
	if (err)
		return err;
	log_info("event=policy_loaded epoch=%llu services=%zu endpoints=%zu "
		 "identities=%zu rules=%zu gw_instances=%zu",
		 (unsigned long long)p->config.epoch, p->n_svcs, p->n_eps,
		 p->n_idents, p->n_rules, p->n_gws);
	*out = p;
	return 0;
}

/* ---- references ---------------------------------------------------------- */

struct policy *policy_get(struct policy *p)
{
	__atomic_fetch_add(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void policy_put(struct policy *p)
{
	if (!p)
		return;
	/* Release pairs with the acquire below so the last owner sees every
	 * earlier owner's reads finished before it frees. */
	if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_RELEASE) == 0) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		policy_free(p);
	}
}

/* ---- lookups ------------------------------------------------------------- */

uint64_t policy_epoch(const struct policy *p)
{
	return p->config.epoch;
}

uint64_t policy_store_rev(const struct policy *p)
{
	return p->config.store_rev;
}

uint32_t policy_config_flags(const struct policy *p)
{
	return p->config.flags;
}

const char *policy_trust_domain(const struct policy *p)
{
	return p->config.trust_domain;
}

const struct mf_tls_profile *policy_tls_profile(const struct policy *p)
{
	return &p->config.tls;
}

const struct mf_prom_conf *policy_mesh_prometheus(const struct policy *p,
						  bool *mtls)
{
	const struct mf_mesh_metrics *m = &p->config.kuma.metrics;

	*mtls = p->config.mtls_enabled[0] != 0;
	if (!m->enabled_backend[0])
		return NULL;
	for (size_t i = 0; i < m->nbackends && i < MF_MESH_METRICS_MAX; i++)
		if (!strncmp(m->backends[i].name, m->enabled_backend,
			     sizeof(m->backends[i].name)))
			return m->backends[i].type ==
				       MF_MESH_METRICS_PROMETHEUS ?
				       &m->backends[i].conf : NULL;
	return NULL;
}

size_t policy_mid_domain_count(const struct policy *p)
{
	return p->config.nmid_domains < MF_MID_DOMAINS_MAX ?
	       p->config.nmid_domains : MF_MID_DOMAINS_MAX;
}

const char *policy_mid_domain(const struct policy *p, size_t i)
{
	return p->config.mid_domains[i];
}

bool policy_mid_domain_ca(const struct policy *p, size_t i)
{
	return p->config.mid_domain_ca & 1u << i;
}

bool policy_mesh_member(const struct policy *p, const char *id)
{
	const char *td = p->config.trust_domain;

	if (!td[0] || spiffe_in_trust_domain(id, td))
		return true;
	for (size_t i = 0; i < policy_mid_domain_count(p); i++)
		if (spiffe_in_trust_domain(id, p->config.mid_domains[i]))
			return true;
	return false;
}

const struct mf_service *policy_service_by_vip(const struct policy *p,
					       uint32_t vip, uint16_t port)
{
	struct pol_svc k;
	const struct pol_svc *s;

	memset(&k.key, 0, sizeof(k.key));
	memcpy(k.key.vip, &vip, 4);
	k.key.port = port;
	k.key.proto = MF_PROTO_TCP;
	s = bsearch(&k, p->svcs, p->n_svcs, sizeof(*p->svcs), cmp_svc);
	return s ? &s->svc : NULL;
}

/* The snapshot's entry for service @id, or NULL. */
static struct pol_svc *pol_svc_by_id(const struct policy *p, uint32_t id)
{
	size_t lo = 0, hi = p->n_svcs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct pol_svc *s = &p->svcs[p->svc_by_id[mid]];

		if (s->svc.id == id)
			return s;
		if (s->svc.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct mf_service *policy_service_by_id(const struct policy *p,
					      uint32_t id)
{
	const struct pol_svc *s = pol_svc_by_id(p, id);

	return s ? &s->svc : NULL;
}

const struct mf_endpoint *policy_endpoint_by_ip(const struct policy *p,
						uint32_t ip)
{
	struct pol_ep k;
	const struct pol_ep *e;

	memcpy(k.key.ip, &ip, 4);
	e = bsearch(&k, p->eps, p->n_eps, sizeof(*p->eps), cmp_ep);
	return e ? &e->ep : NULL;
}

/* The index in p->eps of endpoint @ep, which came from @p; SIZE_MAX when
 * it did not. */
static size_t pol_ep_index(const struct policy *p,
			   const struct mf_endpoint *ep)
{
	uintptr_t a = (uintptr_t)ep, lo = (uintptr_t)p->eps;

	if (a < lo || a >= (uintptr_t)(p->eps + p->n_eps + p->n_ext) ||
	    (a - lo) % sizeof(*p->eps) != offsetof(struct pol_ep, ep))
		return SIZE_MAX;
	return (a - lo) / sizeof(*p->eps);
}

unsigned int policy_endpoint_priority(const struct policy *p,
				      const struct mf_endpoint *ep)
{
	size_t i;

	if (!(ep->flags & MF_ENDPOINT_F_EXTERNAL))
		return 0;
	i = pol_ep_index(p, ep);
	return i == SIZE_MAX ? 0 : pol_ep_priority(p, i);
}

uint32_t policy_endpoint_ip(const struct policy *p,
			    const struct mf_endpoint *ep)
{
	/* Only pointers this snapshot handed out have a key next to them. */
	size_t i = pol_ep_index(p, ep);
	uint32_t ip;

	if (i == SIZE_MAX)
		return 0;
	memcpy(&ip, p->eps[i].key.ip, 4);
	return ip;
}

const char *policy_identity(const struct policy *p, uint32_t identity_id)
{
	struct pol_ident k = { .id = identity_id };
	const struct pol_ident *e;

	e = bsearch(&k, p->idents, p->n_idents, sizeof(*p->idents),
		    cmp_ident);
	return e ? e->v.spiffe : NULL;
}

const struct mf_node *policy_node(const struct policy *p, const char *name)
{
	struct pol_node k;
	const struct pol_node *e;

	if (strlen(name) >= sizeof(k.key.name))
		return NULL;
	strcpy(k.key.name, name);
	e = bsearch(&k, p->nodes, p->n_nodes, sizeof(*p->nodes), cmp_node);
	return e ? &e->v : NULL;
}

const char *policy_node_name_by_ip(const struct policy *p,
				   const uint8_t ip[4])
{
	size_t lo = 0, hi = p->n_nodes;

	/* The first of (ip, name) order at or after @ip: with two Nodes on
	 * one address (mfctl refuses that) the answer is still stable. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(p->nodes[p->node_by_ip[mid]].v.ip, ip, 4) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == p->n_nodes ||
	    memcmp(p->nodes[p->node_by_ip[lo]].v.ip, ip, 4))
		return NULL;
	return p->nodes[p->node_by_ip[lo]].key.name;
}

const struct mf_endpoint *policy_pick_endpoint(struct policy *p,
					       uint32_t service_id)
{
	struct pol_svc *s = pol_svc_by_id(p, service_id);
	uint32_t i;

	if (!s || s->ep_count == 0)
		return NULL;
	/* Threads sharing a snapshot share the cursor; relaxed is enough,
	 * each caller only needs a distinct ticket.  Without the balancer
	 * nothing says a level is down: the lowest priority's. */
	i = __atomic_fetch_add(&s->rr, 1, __ATOMIC_RELAXED) %
	    s->ep_first_level;
	return &p->eps[p->ep_by_svc[s->ep_first + i]].ep;
}

uint32_t policy_service_ticket(struct policy *p, const struct mf_service *s)
{
	struct pol_svc *ps = (struct pol_svc *)
		((char *)(uintptr_t)s - offsetof(struct pol_svc, svc));

	(void)p;
	/* As policy_pick_endpoint(): a distinct ticket is all a caller
	 * needs. */
	return __atomic_fetch_add(&ps->rr, 1, __ATOMIC_RELAXED);
}

/* ---- authorization ------------------------------------------------------- */

/* First rule of service @id in p->rules (or where it would be). */
static size_t pol_rules_first(const struct policy *p, uint32_t id)
{
	size_t lo = 0, hi = p->n_rules;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->rules[mid].key.service_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* At equal specificity the stricter rule decides: Deny over a shadow deny
 * over Allow; an unknown action counts as Deny. */
static int pol_action_rank(uint8_t action)
{
	switch (action) {
	case MF_AUTHZ_ALLOW:
		return 0;
	case MF_AUTHZ_ALLOW_SHADOW_DENY:
		return 1;
	default:
		return 2;
	}
}

/* Whether rule @r is for traffic to @endpoint: it is for every endpoint
 * (@any), or for this one.  @endpoint NULL: every rule applies. */
static bool pol_rule_applies(const struct pol_rule *r, const uint8_t *endpoint,
			     const uint8_t *any)
{
	return !endpoint || !memcmp(r->r.endpoint, any, 4) ||
	       !memcmp(r->r.endpoint, endpoint, 4);
}

enum mf_authz_action policy_authorize(const struct policy *p,
				      uint32_t service_id,
				      const uint8_t endpoint[4],
				      const char *spiffe, const char **why)
{
	return policy_authorize_sni(p, service_id, endpoint, spiffe, NULL,
				    why);
}

enum mf_authz_action policy_authorize_sni(const struct policy *p,
					  uint32_t service_id,
					  const uint8_t endpoint[4],
					  const char *spiffe, const char *sni,
					  const char **why)
{
	static const uint8_t any_endpoint[4];
	const struct pol_rule *best = NULL;
	size_t i, best_spec = 0, nrules, napply = 0;
	bool best_sni = false;
	const struct pol_svc *s;
	const char *reason;
	enum mf_authz_action act = MF_AUTHZ_DENY;

	s = pol_svc_by_id(p, service_id);
	if (!s) {
		reason = "unknown-service";
		goto out;
	}
	if (!spiffe || !spiffe[0]) {
		reason = "no-identity";
		goto out;
	}
	i = pol_rules_first(p, service_id);
	for (nrules = 0; i + nrules < p->n_rules &&
	     p->rules[i + nrules].key.service_id == service_id; nrules++)
		;
	/* Rules for other Workloads of the service do not apply here. */
	for (size_t j = i; j < i + nrules; j++)
		napply += pol_rule_applies(&p->rules[j], endpoint,
					   any_endpoint);
	/* The service's own count says rules exist even if the walk found
	 * none: then they went missing, and missing rules must not open the
	 * service to everyone. */
	if (napply == 0 && nrules == s->svc.authz_rules) {
		if (!policy_mesh_member(p, spiffe)) {
			reason = "foreign-trust-domain";
			goto out;
		}
		reason = "no-permissions";
		act = MF_AUTHZ_ALLOW;
		goto out;
	}
	for (; nrules > 0; i++, nrules--) {
		const struct pol_rule *r = &p->rules[i];
		size_t spec;

		if (!pol_rule_applies(r, endpoint, any_endpoint))
			continue;
		if (r->r.sni_match == MF_AUTHZ_SNI_EXACT) {
			if (!sni || strcmp(sni, r->r.sni) != 0)
				continue;
		} else if (r->r.sni_match != MF_AUTHZ_SNI_NONE) {
			reason = "invalid-rule";
			goto out;
		}
		if (r->r.match == MF_AUTHZ_MATCH_EXACT) {
			if (strcmp(spiffe, r->r.spiffe) != 0)
				continue;
			spec = SIZE_MAX;	/* exact beats any prefix */
		} else if (r->r.match == MF_AUTHZ_MATCH_PREFIX) {
			if (strncmp(spiffe, r->r.spiffe, r->len) != 0)
				continue;
			spec = r->len;
		} else {
			/* A rule we cannot read might have been a Deny. */
			reason = "invalid-rule";
			goto out;
		}
		/* Kuma's order: the SPIFFE ID match first, then one by
		 * SNI beats one without, then the stricter action. */
		if (!best || spec > best_spec ||
		    (spec == best_spec && r->r.sni_match && !best_sni) ||
		    (spec == best_spec && !r->r.sni_match == !best_sni &&
		     pol_action_rank(r->r.action) >
			     pol_action_rank(best->r.action))) {
			best = r;
			best_spec = spec;
			best_sni = r->r.sni_match != MF_AUTHZ_SNI_NONE;
		}
	}
	if (!best) {
		reason = "no-matching-rule";
		goto out;
	}
	reason = best->why;
	/* Anything but an explicit Allow (or a shadow deny, which admits)
	 * denies. */
	act = best->r.action == MF_AUTHZ_ALLOW ||
		      best->r.action == MF_AUTHZ_ALLOW_SHADOW_DENY ?
		      (enum mf_authz_action)best->r.action :
		      MF_AUTHZ_DENY;
out:
	if (why)
		*why = reason;
	return act;
}

/* ---- iteration (admin config dump) ---------------------------------------- */

uint32_t policy_ticket(struct policy *p, enum policy_ticket_kind kind,
		       size_t rec, unsigned int counter)
{
	if ((unsigned int)kind >= POLICY_TICKET_KINDS ||
	    rec >= p->n_tickets[kind] || counter >= pol_tickets_per(kind))
		return 0;
	return __atomic_fetch_add(&p->tickets[kind][rec *
						    pol_tickets_per(kind) +
						    counter], 1,
				  __ATOMIC_RELAXED);
}

const struct mf_service *policy_service_by_name(const struct policy *p,
						const char *name)
{
	size_t lo = 0, hi = p->n_svcs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pol_svc *s = &p->svcs[p->svc_by_name[mid]];
		int r = strcmp(s->svc.name, name);

		if (r == 0) {
			/* The first of a MeshService's ports: same id. */
			while (mid > 0 &&
			       !strcmp(p->svcs[p->svc_by_name[mid - 1]].svc.name,
				       name))
				mid--;
			return &p->svcs[p->svc_by_name[mid]].svc;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t policy_endpoint_count(const struct policy *p)
{
	return p->n_eps + p->n_ext;
}

const struct mf_endpoint *policy_endpoint_at(const struct policy *p, size_t i)
{
	return i < p->n_eps + p->n_ext ? &p->eps[i].ep : NULL;
}

int policy_external(const struct policy *p, const struct mf_endpoint *ep,
		    const struct mf_mesh_external_service **mes,
		    const char **host)
{
	uintptr_t a = (uintptr_t)ep, lo = (uintptr_t)(p->eps + p->n_eps);
	size_t i;

	if (a < lo || a >= (uintptr_t)(p->eps + p->n_eps + p->n_ext) ||
	    (a - lo) % sizeof(*p->eps) != offsetof(struct pol_ep, ep))
		return -ENOENT;
	i = (a - lo) / sizeof(*p->eps);
	if (!p->ext[i].mes)
		return -ENOENT;
	*mes = p->ext[i].mes;
	*host = p->ext[i].host;
	return 0;
}

size_t policy_gw_instance_count(const struct policy *p)
{
	return p->n_gws;
}

const struct mf_gw_instance *policy_gw_instance_at(const struct policy *p,
						   size_t i)
{
	return i < p->n_gws ? &p->gws[i] : NULL;
}

const struct polkinds *policy_kinds(const struct policy *p)
{
	return p->kinds;
}

const char *policy_mesh(const struct policy *p)
{
	return p->config.mesh;
}

size_t policy_service_count(const struct policy *p)
{
	return p->n_svcs;
}

uint16_t policy_service_port(const struct policy *p,
			     const struct mf_service *s)
{
	const struct pol_svc *ps = (const struct pol_svc *)
		((const char *)s - offsetof(struct pol_svc, svc));

	(void)p;
	return ps->key.port;
}

const struct mf_service *policy_service_at(const struct policy *p, size_t i,
					   struct mf_service_key *key)
{
	if (i >= p->n_svcs)
		return NULL;
	if (key)
		*key = p->svcs[i].key;
	return &p->svcs[i].svc;
}

size_t policy_service_unlisted(const struct policy *p, uint32_t service_id)
{
	const struct pol_svc *s = pol_svc_by_id(p, service_id);

	return s ? s->ep_unlisted : 0;
}

const struct mf_endpoint *policy_service_endpoint_at(const struct policy *p,
						     uint32_t service_id,
						     size_t i)
{
	const struct pol_svc *s = pol_svc_by_id(p, service_id);

	if (!s || i >= s->ep_count)
		return NULL;
	return &p->eps[p->ep_by_svc[s->ep_first + i]].ep;
}

const struct mf_authz_rule *policy_authz_rule_at(const struct policy *p,
						 uint32_t service_id, size_t i)
{
	size_t first = pol_rules_first(p, service_id);

	if (first + i >= p->n_rules ||
	    p->rules[first + i].key.service_id != service_id)
		return NULL;
	return &p->rules[first + i].r;
}
