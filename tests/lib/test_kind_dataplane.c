// SPDX-License-Identifier: Apache-2.0
/*
 * Dataplane (lib/policy/kind_dataplane.c): a Kuma 2.x proxy with tags,
 * probes and metrics, a Kuma 3.0 one with backendRefs and a zone proxy
 * with listeners parse into the expected record and print back to the same
 * bytes; addresses, ports, outbounds, refs, gateways, listeners, the admin
 * port, probes and metrics each give exactly the expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

#define DP KH_DOC("Dataplane", "dp-1")
/* networking with an address, up to its next key. */
#define NET "  networking:\n    address: 192.168.0.1\n"

static bool test_dataplane_kuma2(void)
{
	static const char *const svc[] = { "kuma.io/service", "backend",
					   "version", "v1" };
	struct model_set set;
	const struct mf_dataplane *d = kh_policy(
		DP NET
		"    advertisedAddress: 10.0.0.1\n"
		"    inbound:\n"
		"      - port: 8080\n"
		"        servicePort: 7777\n"
		"        serviceAddress: 127.0.0.1\n"
		"        tags: {kuma.io/service: backend, version: v1}\n"
		"        health: {ready: true}\n"
		"        serviceProbe: {interval: 1s, timeout: 500ms,\n"
		"                       unhealthyThreshold: 5,\n"
		"                       healthyThreshold: 2, tcp: {}}\n"
		"        state: NotReady\n"
		"        name: http\n"
		"        protocol: HTTP\n"
		"    outbound:\n"
		"      - {port: 3333, address: 127.0.0.2,\n"
		"         tags: {kuma.io/service: redis}}\n"
		"    transparentProxying:\n"
		"      redirectPortInbound: 15006\n"
		"      redirectPortOutbound: 15001\n"
		"      directAccessServices: ['*']\n"
		"      reachableServices: [redis, web]\n"
		"      ipFamilyMode: IPv4\n"
		"    admin: {port: 9901}\n"
		"  metrics:\n"
		"    name: prom\n"
		"    type: prometheus\n"
		"    conf:\n"
		"      port: 5670\n"
		"      path: /metrics\n"
		"      skipMTLS: true\n"
		"      aggregate: [{name: app, port: 123, path: /stats,\n"
		"                   enabled: false, address: 10.0.0.2}]\n"
		"      envoy: {filterRegex: '^http.*', usedOnly: true}\n"
		"      tls: {mode: disabled}\n"
		"  probes:\n"
		"    port: 9000\n"
		"    endpoints: [{inboundPort: 8080, inboundPath: /healthz,\n"
		"                 path: /8080/healthz}]\n",
		&set, &kind_dataplane, 1);
	const struct mf_dp_networking *n = d ? &d->networking : NULL;
	const struct mf_dp_inbound *in = n ? &n->inbound[0] : NULL;
	bool ok;

	ok = d && ASSERT_EQ(d->present, 0x7) &&
	     ASSERT_STREQ(n->address, "192.168.0.1") &&
	     ASSERT_STREQ(n->advertised_address, "10.0.0.1") &&
	     ASSERT_EQ(n->ninbound, 1) && ASSERT_EQ(in->port, 8080) &&
	     ASSERT_EQ(in->service_port, 7777) &&
	     ASSERT_STREQ(in->service_address, "127.0.0.1") &&
	     kh_tags_are(&set, in->tags, svc, 2) &&
	     ASSERT_EQ(in->health.ready, 1) &&
	     ASSERT_EQ(in->service_probe.interval, 1000) &&
	     ASSERT_EQ(in->service_probe.timeout, 500) &&
	     ASSERT_EQ(in->service_probe.unhealthy_threshold, 5) &&
	     ASSERT_EQ(in->service_probe.healthy_threshold, 2) &&
	     ASSERT_EQ(in->service_probe.present, 0x1f) &&
	     ASSERT_EQ(in->state, 2) && ASSERT_STREQ(in->name, "http") &&
	     ASSERT_STREQ(in->protocol, "HTTP") &&
	     ASSERT_EQ(n->noutbound, 1) &&
	     ASSERT_EQ(n->outbound[0].port, 3333) &&
	     ASSERT_STREQ(kh_tag(&set, n->outbound[0].tags, "kuma.io/service"),
			  "redis") &&
	     ASSERT_EQ(n->transparent_proxying.redirect_port_inbound, 15006) &&
	     ASSERT_EQ(n->transparent_proxying.ndirect_access_services, 1) &&
	     ASSERT_STREQ(n->transparent_proxying.reachable_services[1],
			  "web") &&
	     ASSERT_EQ(n->transparent_proxying.ip_family_mode, 3) &&
	     ASSERT_EQ(n->admin.port, 9901) &&
	     ASSERT_EQ(d->metrics.type, 1) &&
	     ASSERT_EQ(d->metrics.conf.skip_mtls, 1) &&
	     ASSERT_EQ(d->metrics.conf.naggregate, 1) &&
	     ASSERT_STREQ(d->metrics.conf.aggregate[0].address, "10.0.0.2") &&
	     ASSERT_EQ(d->metrics.conf.tls.mode, 3) &&
	     ASSERT_EQ(d->probes.port, 9000) &&
	     ASSERT_STREQ(d->probes.endpoints[0].path, "/8080/healthz");
	return kh_finish(&set, ok);
}

/* Kuma 3.0's shape: no tags, outbounds by backendRef, reachableBackends;
 * here a delegated gateway's, which has no inbound. */
static bool test_dataplane_kuma3(void)
{
	struct model_set set;
	const struct mf_dataplane *d;
	const struct mf_dp_networking *n;
	bool ok;

	d = kh_policy(DP "  networking:\n"
		      "    address: backend-1.example.com\n"
		      "    outbound:\n"
		      "      - port: 3333\n"
		      "        backendRef: {kind: MeshService, name: redis,\n"
		      "                     port: 6379}\n"
		      "      - port: 3334\n"
		      "        backendRef: {kind: MeshExternalService, "
		      "name: ext}\n"
		      "      - port: 3335\n"
		      "        backendRef: {kind: MeshMultiZoneService, "
		      "port: 80,\n"
		      "                     labels: {team: a}}\n"
		      "    gateway: {type: DELEGATED,\n"
		      "              tags: {kuma.io/service: kong}}\n"
		      "    transparentProxying:\n"
		      "      reachableBackends:\n"
		      "        refs:\n"
		      "          - {kind: MeshService, name: a, port: 9090}\n"
		      "          - {kind: MeshExternalService, name: es,\n"
		      "             namespace: es1}\n"
		      "          - {kind: MeshService,\n"
		      "             labels: {kuma.io/test: abc}}\n",
		      &set, &kind_dataplane, 1);
	n = d ? &d->networking : NULL;
	ok = d && ASSERT_EQ(d->present, 0x1) &&
	     ASSERT_STREQ(n->address, "backend-1.example.com") &&
	     ASSERT_EQ(n->noutbound, 3) &&
	     ASSERT_EQ(n->outbound[0].backend_ref.kind,
		       MF_DP_REF_MESH_SERVICE) &&
	     ASSERT_EQ(n->outbound[0].backend_ref.port, 6379) &&
	     ASSERT_STREQ(n->outbound[1].backend_ref.name, "ext") &&
	     ASSERT_EQ(n->outbound[1].backend_ref.port, 0) &&
	     ASSERT_EQ(n->outbound[2].backend_ref.kind,
		       MF_DP_REF_MESH_MULTI_ZONE_SERVICE) &&
	     ASSERT_STREQ(kh_tag(&set, n->outbound[2].backend_ref.labels,
				 "team"), "a") &&
	     ASSERT_EQ(n->gateway.type, MF_DP_GATEWAY_DELEGATED) &&
	     ASSERT_EQ(n->transparent_proxying.reachable_backends.nrefs, 3) &&
	     ASSERT_STREQ(n->transparent_proxying.reachable_backends.refs[1]
			  .namespace, "es1") &&
	     ASSERT_EQ(n->transparent_proxying.reachable_backends.refs[0].port,
		       9090);
	return kh_finish(&set, ok);
}

/* A zone ingress and egress in one proxy, next to an inbound; a builtin
 * gateway (Kuma 2.x) with nothing but its tags. */
static bool test_dataplane_listeners(void)
{
	struct model_set set;
	const struct mf_dataplane *d = kh_policy(
		DP NET
		"    inbound: [{port: 8080, name: http}]\n"
		"    listeners:\n"
		"      - {type: ZoneIngress, address: 192.168.0.1,\n"
		"         port: 10001, name: zi, state: NotReady}\n"
		"      - {type: ZoneEgress, address: zone.example.com.,\n"
		"         port: 10001}\n",
		&set, &kind_dataplane, 1);
	const struct mf_dp_networking *n = d ? &d->networking : NULL;
	bool ok;

	ok = d && ASSERT_EQ(n->nlisteners, 2) &&
	     ASSERT_EQ(n->listeners[0].type, MF_DP_LISTENER_ZONE_INGRESS) &&
	     ASSERT_EQ(n->listeners[0].state, 2) &&
	     ASSERT_STREQ(n->listeners[0].name, "zi") &&
	     ASSERT_EQ(n->listeners[1].type, MF_DP_LISTENER_ZONE_EGRESS) &&
	     ASSERT_STREQ(n->listeners[1].address, "zone.example.com.");
	if (!kh_finish(&set, ok))
		return false;
	d = kh_policy(DP NET "    gateway: {type: BUILTIN,\n"
		      "              tags: {kuma.io/service: edge}}\n",
		      &set, &kind_dataplane, 1);
	return kh_finish(&set, d && ASSERT_EQ(d->networking.gateway.type,
					      MF_DP_GATEWAY_BUILTIN));
}

/* What Kuma takes for addresses and paths, at their edges. */
static bool test_dataplane_accepts(void)
{
	static const char *const ok_docs[] = {
		/* Kuma 3.0's inbound: no tags. */
		DP NET "    inbound: [{port: 8080}]\n",
		/* govalidator's DNS names: upper case, '_', a final dot. */
		DP "  networking: {address: My_Host.Example.COM.}\n",
		DP "  networking: {address: '0:0:0:0:0:FFFF:C0A8:0001'}\n",
		/* Kuma compares the strings: another spelling of :: is an
		 * IP address like any. */
		DP "  networking: {address: '0:0::0'}\n",
		/* servicePort 0 is the port; serviceAddress differs. */
		DP NET "    inbound: [{port: 80, servicePort: 0,\n"
		"               serviceAddress: 10.0.0.9}]\n",
		/* ... or the port does. */
		DP NET "    inbound: [{port: 80, address: 10.0.0.2,\n"
		"               serviceAddress: 10.0.0.2, servicePort: 81}]\n",
		/* The admin port on 127.0.0.1 only clashes there. */
		DP NET "    admin: {port: 8080}\n"
		"    inbound: [{port: 8080, servicePort: 7777}]\n",
		DP NET "  probes:\n    port: 9000\n"
		"    endpoints: [{inboundPort: 80, inboundPath: '*',\n"
		"                 path: 'http://a/b?x=%zz'}]\n",
		/* An empty proto map is no map: no kuma.io/service needed. */
		DP NET "    gateway: {type: DELEGATED, tags: {}}\n",
		DP NET "    inbound: [{port: 80, tags: {}}]\n"
		"    outbound:\n      - port: 1\n"
		"        backendRef: {kind: MeshService, name: a, port: 1,\n"
		"                     labels: {}}\n",
		/* Kuma reads protocols in any case. */
		DP NET "    gateway:\n"
		"      tags: {kuma.io/service: kong, kuma.io/protocol: TCP}\n",
		DP NET "    inbound:\n      - port: 80\n"
		"        tags: {kuma.io/service: a, kuma.io/protocol: Kafka,\n"
		"               zone: 'eu:west'}\n",
		/* Names repeat only among the ones given. */
		DP NET "    listeners:\n"
		"      - {type: ZoneIngress, address: 10.0.0.1, port: 1}\n"
		"      - {type: ZoneIngress, address: 10.0.0.2, port: 1}\n",
	};
	bool ok = true;

	for (size_t i = 0; i < KH_NCASES(ok_docs); i++) {
		struct model_set set;

		if (!kh_policy(ok_docs[i], &set, &kind_dataplane, 1)) {
			fprintf(stderr, "  in case %zu\n", i);
			ok = false;
			continue;
		}
		ok = kh_finish(&set, true) && ok;
	}
	return ok;
}

KH_TEST_BAD(test_dataplane_networking_invalid,
	{ DP "  {}\n", "t.yaml:5:3: spec.networking: is required" },
	{ DP "  networking: {}\n",
	  "t.yaml:5:15: spec.networking.address: is required" },
	{ DP "  networking: {address: 0.0.0.0}\n",
	  "t.yaml:5:25: spec.networking.address: must not be 0.0.0.0 or ::" },
	{ DP "  networking: {address: '::'}\n",
	  "t.yaml:5:25: spec.networking.address: must not be 0.0.0.0 or ::" },
	{ DP "  networking: {address: ..>_<..}\n",
	  "t.yaml:5:25: spec.networking.address: must be an IP address or a "
	  "DNS name" },
	{ DP "  networking: {address: -a.b}\n",
	  "t.yaml:5:25: spec.networking.address: must be an IP address or a "
	  "DNS name" },
	{ DP "  networking: {address: a..b}\n",
	  "t.yaml:5:25: spec.networking.address: must be an IP address or a "
	  "DNS name" },
	{ DP "  networking: {address: 192.168.0.1, transparent_proxying: {}}\n",
	  "t.yaml:5:38: spec.networking.transparent_proxying: unknown field" },
	{ DP NET "    inbound:\n" "      - {port: 1}\n" "      - {port: 2}\n"
	  "      - {port: 3}\n" "      - {port: 4}\n" "      - {port: 5}\n",
	  "t.yaml:8:7: spec.networking.inbound: must have at most 4 entries" },
	{ DP NET "    transparentProxying:\n"
	  "      directAccessServices: [a, b, c, d, e]\n",
	  "t.yaml:8:29: spec.networking.transparentProxying."
	  "directAccessServices: must have at most 4 entries" },
	{ DP NET "    transparentProxying: {redirectPortInbound: 65536}\n",
	  "t.yaml:7:48: spec.networking.transparentProxying."
	  "redirectPortInbound: must be 0..65535" },
	{ DP NET "    transparentProxying: {ipFamilyMode: IPv5}\n",
	  "t.yaml:7:41: spec.networking.transparentProxying.ipFamilyMode: "
	  "must be UnSpecified, DualStack, IPv4 or IPv6" },
)

KH_TEST_BAD(test_dataplane_inbound_invalid,
	{ DP NET "    inbound: [{servicePort: 80}]\n",
	  "t.yaml:7:15: spec.networking.inbound[0].port: is required" },
	{ DP NET "    inbound: [{port: 65536}]\n",
	  "t.yaml:7:22: spec.networking.inbound[0].port: must be 1..65535" },
	{ DP NET "    inbound: [{port: 80, servicePort: 65536}]\n",
	  "t.yaml:7:39: spec.networking.inbound[0].servicePort: must be "
	  "0..65535" },
	{ DP NET "    inbound: [{port: 80, address: invalid-address}]\n",
	  "t.yaml:7:35: spec.networking.inbound[0].address: must be an IP "
	  "address" },
	{ DP NET "    inbound: [{port: 80, serviceAddress: INVALID}]\n",
	  "t.yaml:7:42: spec.networking.inbound[0].serviceAddress: must be "
	  "an IP address" },
	{ DP NET "    inbound: [{port: 80, address: 10.0.0.2,\n"
	  "               serviceAddress: 10.0.0.2}]\n",
	  "t.yaml:8:32: spec.networking.inbound[0].serviceAddress: "
	  "serviceAddress and servicePort must differ from address and "
	  "port" },
	{ DP NET "    inbound: [{port: 80, address: 10.0.0.2,\n"
	  "               serviceAddress: 10.0.0.2, servicePort: 80}]\n",
	  "t.yaml:8:32: spec.networking.inbound[0].serviceAddress: "
	  "serviceAddress and servicePort must differ from address and "
	  "port" },
	{ DP NET "    inbound:\n      - {port: 80}\n"
	  "      - {port: 81, serviceAddress: 192.168.0.1}\n",
	  "t.yaml:8:7: spec.networking.inbound: entry 1: serviceAddress and "
	  "servicePort must differ from networking.address and port" },
	{ DP NET "    inbound: [{port: 80, protocol: http3}]\n",
	  "t.yaml:7:36: spec.networking.inbound[0].protocol: must be tcp, "
	  "tls, http, http2, grpc, kafka or mysql" },
	{ DP NET "    inbound: [{port: 80, state: Gone}]\n",
	  "t.yaml:7:33: spec.networking.inbound[0].state: must be Ready, "
	  "NotReady or Ignored" },
	{ DP NET "    inbound: [{port: 80,\n"
	  "               name: a-very-long-name-for-an-inbound-port}]\n",
	  "t.yaml:8:22: spec.networking.inbound[0].name: must be at most 31 "
	  "characters" },
	{ DP NET "    inbound: [{port: 80, serviceProbe: {interval: '0'}}]\n",
	  "t.yaml:7:51: spec.networking.inbound[0].serviceProbe.interval: "
	  "must be 1ms..4294967295ms" },
	{ DP NET "    inbound: [{port: 80, serviceProbe: "
	  "{unhealthyThreshold: 0}}]\n",
	  "t.yaml:7:61: spec.networking.inbound[0].serviceProbe."
	  "unhealthyThreshold: must be 1..4294967295" },
)

/* Kuma 2.x's tags of a proxy: a kuma.io/service, values that are not
 * selectors, a protocol Kuma knows (a gateway's: tcp). */
KH_TEST_BAD(test_dataplane_tags_invalid,
	{ DP NET "    inbound: [{port: 80, tags: {version: v1}}]\n",
	  "t.yaml:7:32: spec.networking.inbound[0].tags: must have a "
	  "kuma.io/service tag" },
	{ DP NET "    inbound:\n      - port: 80\n"
	  "        tags: {kuma.io/service: a, kuma.io/protocol: http3}\n",
	  "t.yaml:9:54: spec.networking.inbound[0].tags.kuma.io/protocol: "
	  "must be tcp, tls, http, http2, grpc, kafka or mysql" },
	{ DP NET "    inbound:\n      - port: 80\n"
	  "        tags: {kuma.io/service: a, version: '*'}\n",
	  "t.yaml:9:45: spec.networking.inbound[0].tags.version: a proxy's "
	  "tag values are characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'" },
	{ DP NET "    outbound: [{port: 1, tags: {version: v1}}]\n",
	  "t.yaml:7:32: spec.networking.outbound[0].tags: must have a "
	  "kuma.io/service tag" },
	{ DP NET "    outbound: [{port: 1, tags: {kuma.io/service: a/b}}]\n",
	  "t.yaml:7:50: spec.networking.outbound[0].tags.kuma.io/service: a "
	  "proxy's tag values are characters of A-Z, a-z, 0-9, '.', '_', ':' "
	  "and '-'" },
	{ DP NET "    gateway: {type: BUILTIN, tags: {foo: bar}}\n",
	  "t.yaml:7:36: spec.networking.gateway.tags: must have a "
	  "kuma.io/service tag" },
	{ DP NET "    gateway:\n"
	  "      tags: {kuma.io/service: kong, kuma.io/protocol: http}\n",
	  "t.yaml:8:55: spec.networking.gateway.tags.kuma.io/protocol: must "
	  "be tcp for a gateway" },
)

KH_TEST_BAD(test_dataplane_outbound_invalid,
	{ DP NET "    outbound: [{port: 3333}]\n",
	  "t.yaml:7:16: spec.networking.outbound[0].backendRef: is required "
	  "(or tags with kuma.io/service, as in Kuma 2.x)" },
	{ DP NET "    outbound: [{backendRef: {kind: MeshService, name: a, "
	  "port: 1}}]\n",
	  "t.yaml:7:16: spec.networking.outbound[0].port: is required" },
	{ DP NET "    outbound: [{port: 1, address: invalid,\n"
	  "                tags: {kuma.io/service: a}}]\n",
	  "t.yaml:7:35: spec.networking.outbound[0].address: must be an IP "
	  "address" },
	{ DP NET "    outbound:\n      - port: 1\n"
	  "        tags: {kuma.io/service: xyz}\n"
	  "        backendRef: {kind: MeshService, name: xyz, port: 80}\n",
	  "t.yaml:10:21: spec.networking.outbound[0].backendRef: must not be "
	  "set with tags" },
	{ DP NET "    outbound: [{port: 1, backendRef: {}}]\n",
	  "t.yaml:7:38: spec.networking.outbound[0].backendRef.kind: is "
	  "required" },
	{ DP NET "    outbound: [{port: 1, backendRef: {kind: Mesh, "
	  "name: a}}]\n",
	  "t.yaml:7:45: spec.networking.outbound[0].backendRef.kind: must be "
	  "MeshService, MeshExternalService or MeshMultiZoneService" },
	{ DP NET "    outbound: [{port: 1, backendRef: {kind: MeshService, "
	  "port: 1}}]\n",
	  "t.yaml:7:38: spec.networking.outbound[0].backendRef: needs name "
	  "or labels" },
	{ DP NET "    outbound: [{port: 1, backendRef: {kind: MeshService, "
	  "name: a}}]\n",
	  "t.yaml:7:38: spec.networking.outbound[0].backendRef.port: is "
	  "required for kind MeshService and MeshMultiZoneService" },
	{ DP NET "    outbound: [{port: 1, backendRef: {kind: "
	  "MeshExternalService, name: a, port: 0}}]\n",
	  "t.yaml:7:81: spec.networking.outbound[0].backendRef.port: must be "
	  "1..65535" },
)

#define REFS NET "    transparentProxying:\n      reachableBackends:\n" \
	     "        refs:\n"

KH_TEST_BAD(test_dataplane_refs_invalid,
	{ DP REFS "          - {kind: Something, name: first}\n",
	  "t.yaml:10:20: spec.networking.transparentProxying."
	  "reachableBackends.refs[0].kind: must be MeshService, "
	  "MeshExternalService or MeshMultiZoneService" },
	{ DP REFS "          - {kind: MeshService}\n",
	  "t.yaml:10:13: spec.networking.transparentProxying."
	  "reachableBackends.refs[0]: needs name or labels" },
	{ DP REFS "          - {kind: MeshService, namespace: xyz}\n",
	  "t.yaml:10:44: spec.networking.transparentProxying."
	  "reachableBackends.refs[0].namespace: needs name" },
	{ DP REFS "          - {kind: MeshService, name: a,\n"
	  "             labels: {kuma.io/test: test}}\n",
	  "t.yaml:11:22: spec.networking.transparentProxying."
	  "reachableBackends.refs[0].labels: must not be set with name or "
	  "namespace: a ref names its backend or selects it by labels" },
	{ DP REFS "          - {kind: MeshService, name: first$-.kuma}\n",
	  "t.yaml:10:39: spec.networking.transparentProxying."
	  "reachableBackends.refs[0].name: must be a lower-case DNS name "
	  "(RFC 1123)" },
	{ DP REFS "          - {kind: MeshService, name: a}\n"
	  "          - {kind: MeshService, name: b}\n"
	  "          - {kind: MeshService, name: c}\n"
	  "          - {kind: MeshService, name: d}\n"
	  "          - {kind: MeshService, name: e}\n",
	  "t.yaml:10:11: spec.networking.transparentProxying."
	  "reachableBackends.refs: must have at most 4 entries" },
)

KH_TEST_BAD(test_dataplane_gateway_invalid,
	{ DP NET "    gateway: {tags: {kuma.io/service: kong}}\n"
	  "    inbound: [{port: 80}]\n",
	  "t.yaml:8:14: spec.networking.inbound: must be empty for a "
	  "delegated gateway" },
	{ DP NET "    gateway: {tags: {kuma.io/service: kong}}\n"
	  "    listeners: [{type: ZoneEgress, address: 10.0.0.1, port: 1}]\n",
	  "t.yaml:8:16: spec.networking.listeners: must be empty for a "
	  "delegated gateway" },
	{ DP NET "    gateway: {type: BUILTIN}\n"
	  "    outbound: [{port: 1, tags: {kuma.io/service: a}}]\n",
	  "t.yaml:8:15: spec.networking.outbound: must be empty for a builtin "
	  "gateway" },
	{ DP NET "    gateway: {type: BUILTIN}\n"
	  "    inbound: [{port: 80}]\n",
	  "t.yaml:8:14: spec.networking.inbound: must be empty for a builtin "
	  "gateway" },
	{ DP NET "    gateway: {type: BUILTIN}\n"
	  "  probes: {port: 9000}\n",
	  "t.yaml:8:11: spec.probes: must not be set for a builtin gateway" },
	{ DP NET "    gateway: {type: EXTERNAL}\n",
	  "t.yaml:7:21: spec.networking.gateway.type: must be DELEGATED or "
	  "BUILTIN" },
)

KH_TEST_BAD(test_dataplane_admin_invalid,
	{ DP NET "    admin: {port: 8080}\n"
	  "    inbound: [{port: 8080, servicePort: 7777, "
	  "address: 127.0.0.1}]\n",
	  "t.yaml:7:12: spec.networking.admin: port 8080 is taken by "
	  "inbound[0] on 127.0.0.1" },
	/* The workload's side of an inbound counts too. */
	{ DP NET "    admin: {port: 7777}\n"
	  "    inbound: [{port: 8080, servicePort: 7777,\n"
	  "               serviceAddress: '::ffff:127.0.0.1'}]\n",
	  "t.yaml:7:12: spec.networking.admin: port 7777 is taken by "
	  "inbound[0] on 127.0.0.1" },
	{ DP "  networking:\n    address: 0.0.0.1\n"
	  "    admin: {port: 8080}\n"
	  "    inbound: [{port: 8080, address: '::'}]\n",
	  "t.yaml:7:12: spec.networking.admin: port 8080 is taken by "
	  "inbound[0] on 127.0.0.1" },
	{ DP NET "    admin: {port: 3333}\n"
	  "    outbound: [{port: 3333, tags: {kuma.io/service: redis}}]\n",
	  "t.yaml:7:12: spec.networking.admin: port 3333 is taken by "
	  "outbound[0] on 127.0.0.1" },
)

KH_TEST_BAD(test_dataplane_listeners_invalid,
	{ DP NET "    listeners: [{address: 10.0.0.1, port: 1}]\n",
	  "t.yaml:7:17: spec.networking.listeners[0].type: is required" },
	{ DP NET "    listeners: [{type: Unspecified, address: 10.0.0.1, "
	  "port: 1}]\n",
	  "t.yaml:7:24: spec.networking.listeners[0].type: must be "
	  "ZoneIngress or ZoneEgress" },
	{ DP NET "    listeners: [{type: ZoneIngress, port: 1}]\n",
	  "t.yaml:7:17: spec.networking.listeners[0].address: is required" },
	{ DP NET "    listeners: [{type: ZoneIngress, address: 'not-valid!', "
	  "port: 1}]\n",
	  "t.yaml:7:46: spec.networking.listeners[0].address: must be an IP "
	  "address or a DNS name" },
	{ DP NET "    listeners: [{type: ZoneIngress, address: 10.0.0.1, "
	  "port: 0}]\n",
	  "t.yaml:7:62: spec.networking.listeners[0].port: must be 1..65535" },
	{ DP NET "    inbound: [{port: 8080, name: http}]\n"
	  "    listeners: [{type: ZoneIngress, address: 10.0.0.1, port: 1,\n"
	  "                 name: http}]\n",
	  "t.yaml:8:16: spec.networking.listeners: entry 0: name \"http\" is "
	  "inbound[0]'s (inbound and listener names are unique together)" },
	/* An inbound without a name is known by its port. */
	{ DP NET "    inbound: [{port: 8080}]\n"
	  "    listeners: [{type: ZoneIngress, address: 10.0.0.1, port: 1,\n"
	  "                 name: '8080'}]\n",
	  "t.yaml:8:16: spec.networking.listeners: entry 0: name \"8080\" is "
	  "inbound[0]'s (inbound and listener names are unique together)" },
	{ DP NET "    listeners:\n"
	  "      - {type: ZoneIngress, address: 10.0.0.1, port: 1, name: zi}\n"
	  "      - {type: ZoneIngress, address: 10.0.0.1, port: 2, name: zi}\n",
	  "t.yaml:8:7: spec.networking.listeners: entry 1: name \"zi\" is "
	  "entry 0's too" },
	{ DP NET "    listeners:\n"
	  "      - {type: ZoneIngress, address: 10.0.0.1, port: 1}\n"
	  "      - {type: ZoneIngress, address: 10.0.0.1, port: 1}\n",
	  "t.yaml:8:7: spec.networking.listeners: entry 1: 10.0.0.1:1 is "
	  "entry 0's too" },
	{ DP NET "    listeners:\n"
	  "      - {type: ZoneIngress, address: 10.0.0.1, port: 1}\n"
	  "      - {type: ZoneEgress, address: 10.0.0.1, port: 1}\n",
	  "t.yaml:8:7: spec.networking.listeners: entry 1: 10.0.0.1:1 is "
	  "entry 0's too, a listener of another type" },
	{ DP NET "    inbound: [{port: 8080}]\n"
	  "    listeners: [{type: ZoneIngress, address: 192.168.0.1,\n"
	  "                 port: 8080}]\n",
	  "t.yaml:8:16: spec.networking.listeners: entry 0: "
	  "192.168.0.1:8080 is inbound[0]'s" },
	{ DP NET "    listeners:\n"
	  "      - {type: ZoneIngress, address: 10.0.0.1, port: 1}\n"
	  "      - {type: ZoneIngress, address: 10.0.0.1, port: 2}\n"
	  "      - {type: ZoneEgress, address: 10.0.0.1, port: 3}\n",
	  "t.yaml:8:7: spec.networking.listeners: must have at most 2 "
	  "entries" },
)

KH_TEST_BAD(test_dataplane_probes_metrics_invalid,
	{ DP NET "  probes: {port: 0}\n",
	  "t.yaml:7:18: spec.probes.port: must be 1..65535" },
	{ DP NET "  probes:\n    port: 9000\n"
	  "    endpoints: [{inboundPort: 80, inboundPath: healthz, "
	  "path: /h}]\n",
	  "t.yaml:9:48: spec.probes.endpoints[0].inboundPath: must be a URL "
	  "path such as /healthz" },
	{ DP NET "  probes:\n    port: 9000\n"
	  "    endpoints: [{inboundPort: 80, inboundPath: /h, "
	  "path: /a%zz}]\n",
	  "t.yaml:9:58: spec.probes.endpoints[0].path: must be a URL path "
	  "such as /healthz" },
	{ DP NET "  probes:\n    port: 9000\n"
	  "    endpoints: [{inboundPort: 80, inboundPath: /h}]\n",
	  "t.yaml:9:17: spec.probes.endpoints[0].path: is required" },
	{ DP NET "  metrics: {type: custom-backend}\n",
	  "t.yaml:7:19: spec.metrics.type: must be prometheus" },
	{ DP NET "  metrics: {name: m}\n",
	  "t.yaml:7:12: spec.metrics.type: is required" },
	{ DP NET "  metrics:\n    type: prometheus\n    conf:\n"
	  "      aggregate: [{name: app, port: 1}, {name: app, port: 2}]\n",
	  "t.yaml:10:18: spec.metrics.conf.aggregate: entry 1: name \"app\" "
	  "is entry 0's too" },
	{ DP NET "  metrics:\n    type: prometheus\n"
	  "    conf: {skipMTLS: true, tls: {mode: activeMTLSBackend}}\n",
	  "t.yaml:9:33: spec.metrics.conf.tls: must agree with skipMTLS "
	  "(skipMTLS: true is mode disabled, false activeMTLSBackend)" },
	/* An absent mode is activeMTLSBackend. */
	{ DP NET "  metrics:\n    type: prometheus\n"
	  "    conf: {skipMTLS: true, tls: {}}\n",
	  "t.yaml:9:33: spec.metrics.conf.tls: must agree with skipMTLS "
	  "(skipMTLS: true is mode disabled, false activeMTLSBackend)" },
	{ DP NET "  metrics:\n    type: prometheus\n"
	  "    conf: {envoy: {filterRegex: '(a'}}\n",
	  "t.yaml:9:33: spec.metrics.conf.envoy.filterRegex: must be a "
	  "regular expression" },
	{ DP NET "  metrics:\n    type: prometheus\n"
	  "    conf: {unknown: 1}\n",
	  "t.yaml:9:12: spec.metrics.conf.unknown: unknown field" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_dataplane_kuma2);
	TEST_RUN(test_dataplane_kuma3);
	TEST_RUN(test_dataplane_listeners);
	TEST_RUN(test_dataplane_accepts);
	TEST_RUN(test_dataplane_networking_invalid);
	TEST_RUN(test_dataplane_inbound_invalid);
	TEST_RUN(test_dataplane_tags_invalid);
	TEST_RUN(test_dataplane_outbound_invalid);
	TEST_RUN(test_dataplane_refs_invalid);
	TEST_RUN(test_dataplane_gateway_invalid);
	TEST_RUN(test_dataplane_admin_invalid);
	TEST_RUN(test_dataplane_listeners_invalid);
	TEST_RUN(test_dataplane_probes_metrics_invalid);
	TEST_MAIN_END();
}
