// SPDX-License-Identifier: Apache-2.0
/*
 * TrafficRoute, the legacy kind of source/destination selectors
 * (lib/policy/kind_traffic_route.c), through mfctl's reader and printer: a
 * split and a single destination, with every load balancer, http routes
 * and the proto spellings of fields, parse into the expected records and
 * print back to the same bytes; the exactly-one rules, weights, balancer
 * settings and http routes each give exactly the expected diagnostic.
 */
#include <stdio.h>

#include "harness/test.h"
#include "harness/kinds_harness.h"

#define TR_HEAD KH_API "kind: TrafficRoute\nmetadata:\n  name: route\nspec:\n"

static const char tr_full[] =
	TR_HEAD
	"  sources:\n"
	"    - match:\n"
	"        kuma.io/service: '*'\n"
	"    - match:\n"
	"        kuma.io/service: frontend\n"
	"        kuma.io/zone: east\n"
	"  destinations:\n"
	"    - match:\n"
	"        kuma.io/service: web\n"
	"  conf:\n"
	"    split:\n"
	"      - weight: 90\n"
	"        destination:\n"
	"          kuma.io/service: web\n"
	"          version: v1\n"
	"      - weight: 0\n"
	"        destination: {kuma.io/service: web, version: v2}\n"
	"    loadBalancer:\n"
	"      ringHash:\n"
	"        hashFunction: MURMUR_HASH_2\n"
	"        minRingSize: 64\n"
	"        maxRingSize: 1024\n";

static const char *const web[] = { "kuma.io/service", "web" };

static bool test_traffic_route_full(void)
{
	static const char *const any[] = { "kuma.io/service", "*" };
	static const char *const front[] = { "kuma.io/service", "frontend",
					     "kuma.io/zone", "east" };
	static const char *const v1[] = { "kuma.io/service", "web",
					  "version", "v1" };
	static const char *const v2[] = { "kuma.io/service", "web",
					  "version", "v2" };
	struct model_set s;
	const struct mf_traffic_route *r = kh_policy(tr_full, &s,
						     &kind_traffic_route, 1);
	const struct mf_tr_conf *c = r ? &r->conf : NULL;
	bool ok;

	ok = r && ASSERT_EQ(r->hdr.section, MF_SEC_CONF) &&
	     ASSERT_EQ(r->hdr.nsources, 2) &&
	     ASSERT_EQ(r->hdr.ndestinations, 1) &&
	     kh_tags_are(&s, r->hdr.sources[0], any, 1) &&
	     kh_tags_are(&s, r->hdr.sources[1], front, 2) &&
	     kh_tags_are(&s, r->hdr.destinations[0], web, 1) &&
	     ASSERT_EQ(c->nsplit, 2) &&
	     ASSERT_EQ(c->split[0].weight, 90) &&
	     kh_tags_are(&s, c->split[0].destination, v1, 2) &&
	     ASSERT_EQ(c->split[1].weight, 0) &&
	     ASSERT_EQ(c->split[1].present, 3) &&
	     kh_tags_are(&s, c->split[1].destination, v2, 2) &&
	     ASSERT_EQ(c->destination, 0) &&
	     ASSERT_EQ(c->load_balancer.present, 1u << 2) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.hash_function,
		       MF_LB_HASH_MURMUR2) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.min_ring_size, 64) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.max_ring_size, 1024);
	return kh_finish(&s, ok);
}

/* destination instead of split, and the balancers without settings. */
static bool test_traffic_route_destination(void)
{
	static const char *const lbs[] = { "roundRobin: {}", "random: {}",
					   "leastRequest: {choiceCount: 3}",
					   "maglev: {tableSize: 65537}",
					   "round_robin: {}",
					   "least_request: {choice_count: 2}" };

	for (size_t i = 0; i < KH_NCASES(lbs); i++) {
		struct model_set s;
		const struct mf_traffic_route *r;
		char *doc;
		bool ok;

		if (!ASSERT_TRUE(asprintf(&doc, TR_HEAD
				"  sources: [{match: {kuma.io/service: '*'}}]\n"
				"  destinations:\n"
				"    - match: {kuma.io/service: web}\n"
				"  conf:\n"
				"    destination: {kuma.io/service: web}\n"
				"    loadBalancer: {%s}\n", lbs[i]) > 0))
			return false;
		r = kh_policy(doc, &s, &kind_traffic_route, 1);
		free(doc);
		ok = r && kh_tags_are(&s, r->conf.destination, web, 1) &&
		     ASSERT_EQ(r->conf.nsplit, 0) &&
		     ASSERT_EQ(__builtin_popcount(
				       r->conf.load_balancer.present), 1);
		if (!kh_finish(&s, ok))
			return false;
	}
	return true;
}

/* Kuma's balancer is a oneof that may be left unset: the default. */
static bool test_traffic_route_default_balancer(void)
{
	struct model_set s;
	const struct mf_traffic_route *r;
	bool ok;

	r = kh_policy(TR_HEAD
		      "  sources: [{match: {kuma.io/service: '*'}}]\n"
		      "  destinations: [{match: {kuma.io/service: web}}]\n"
		      "  conf:\n"
		      "    destination: {kuma.io/service: web}\n"
		      "    loadBalancer: {}\n",
		      &s, &kind_traffic_route, 1);
	ok = r && ASSERT_EQ(r->conf.present, 1u << 1 | 1u << 2) &&
	     ASSERT_EQ(r->conf.load_balancer.present, 0);
	return kh_finish(&s, ok);
}

static const char tr_http_yaml[] =
	TR_HEAD
	"  sources: [{match: {kuma.io/service: '*'}}]\n"
	"  destinations: [{match: {kuma.io/service: web}}]\n"
	"  conf:\n"
	"    http:\n"
	"      - match:\n"
	"          method: {exact: GET}\n"
	"          path: {prefix: /offers}\n"
	"        modify:\n"
	"          path: {rewritePrefix: /v2/offers}\n"
	"          host: {value: offers.internal}\n"
	"          requestHeaders:\n"
	"            add:\n"
	"              - {name: x-route, value: offers, append: true}\n"
	"              - {name: x-zone, value: east}\n"
	"            remove: [{name: x-debug}, {name: x-trace}]\n"
	"          responseHeaders:\n"
	"            add: [{name: x-served-by, value: offers}]\n"
	"        split:\n"
	"          - {weight: 20, destination: {kuma.io/service: offers}}\n"
	"          - {weight: 80, destination: {kuma.io/service: web}}\n"
	"      - match:\n"
	"          path: {regex: \"^/static/.*\"}\n"
	"          headers: {x-custom-header: {regex: \"^xyz$\"}}\n"
	"        modify:\n"
	"          path: {regex: {pattern: \"^/static/(.*)$\", "
	"substitution: \"/\\\\1\"}}\n"
	"          host: {fromPath: {pattern: \"^/(.+)/.+$\", "
	"substitution: \"\\\\1\"}}\n"
	"        destination: {kuma.io/service: cdn}\n"
	"    destination: {kuma.io/service: web}\n"
	"    load_balancer:\n"
	"      ring_hash: {hash_function: XX_HASH, min_ring_size: 8, "
	"maxRingSize: 16}\n";

static bool test_traffic_route_http(void)
{
	static const char *const offers[] = { "kuma.io/service", "offers" };
	static const char *const cdn[] = { "kuma.io/service", "cdn" };
	struct model_set s;
	const struct mf_traffic_route *r = kh_policy(tr_http_yaml, &s,
						     &kind_traffic_route, 1);
	const struct mf_tr_conf *c = r ? &r->conf : NULL;
	const struct mf_tr_http *h = c ? &c->http[0] : NULL;
	bool ok;

	ok = r && ASSERT_EQ(c->nhttp, 2) &&
	     kh_tags_are(&s, c->destination, web, 1) &&
	     ASSERT_EQ(c->present, 1u << 1 | 1u << 3 | 1u << 4) &&
	     ASSERT_EQ(c->load_balancer.present, 1u << 7) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.present,
		       1u << 2 | 1u << 3 | 1u << 4) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.hash_function,
		       MF_LB_HASH_XX) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.min_ring_size, 8) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.max_ring_size, 16) &&
	     ASSERT_EQ(h->match.method.present, 1u << 1) &&
	     ASSERT_STREQ(h->match.method.value, "GET") &&
	     ASSERT_EQ(h->match.path.present, 1u << 0) &&
	     ASSERT_STREQ(h->match.path.value, "/offers") &&
	     ASSERT_STREQ(h->modify.path.rewrite_prefix, "/v2/offers") &&
	     ASSERT_STREQ(h->modify.host.value, "offers.internal") &&
	     ASSERT_EQ(h->modify.request_headers.nadd, 2) &&
	     ASSERT_EQ(h->modify.request_headers.add[0].append, 1) &&
	     ASSERT_STREQ(h->modify.request_headers.add[1].value, "east") &&
	     ASSERT_EQ(h->modify.request_headers.nremove, 2) &&
	     ASSERT_STREQ(h->modify.request_headers.remove[1].name,
			  "x-trace") &&
	     ASSERT_STREQ(h->modify.response_headers.add[0].name,
			  "x-served-by") &&
	     ASSERT_EQ(h->nsplit, 2) &&
	     kh_tags_are(&s, h->split[0].destination, offers, 1) &&
	     ASSERT_EQ(h->split[1].weight, 80) &&
	     ASSERT_EQ(c->http[1].match.path.present, 1u << 2) &&
	     ASSERT_STREQ(c->http[1].modify.path.regex.substitution, "/\\1") &&
	     ASSERT_STREQ(c->http[1].modify.host.from_path.pattern,
			  "^/(.+)/.+$") &&
	     ASSERT_EQ(c->http[0].match.nheaders, 0) &&
	     ASSERT_EQ(c->http[1].match.nheaders, 1) &&
	     ASSERT_STREQ(c->http[1].match.headers[0].name,
			  "x-custom-header") &&
	     ASSERT_EQ(c->http[1].match.headers[0].matcher.present,
		       1u << 2) &&
	     ASSERT_STREQ(c->http[1].match.headers[0].matcher.value,
			  "^xyz$") &&
	     kh_tags_are(&s, c->http[1].destination, cdn, 1);
	return kh_finish(&s, ok);
}

#define TR_CONF(conf)                                                         \
	TR_HEAD "  sources:\n    - match: {kuma.io/service: '*'}\n"           \
		"  destinations:\n    - match: {kuma.io/service: web}\n"      \
		"  conf:\n" conf
/* conf.destination and the loadBalancer (line 12) @lb. */
#define TR_LB(lb)                                                             \
	TR_CONF("    destination: {kuma.io/service: web}\n"                   \
		"    loadBalancer:" lb "\n")

KH_TEST_BAD(test_traffic_route_invalid,
	{ TR_CONF("    destination: {kuma.io/service: web}\n"
	          "    split:\n"
	          "      - {weight: 1, destination: {kuma.io/service: web}}\n"),
	  "t.yaml:11:5: spec.conf: "
	  "must have exactly one of split, destination" },
	{ TR_CONF("    loadBalancer: {random: {}}\n"),
	  "t.yaml:11:5: spec.conf: "
	  "must have exactly one of split, destination" },
	{ TR_CONF("    split:\n"
	          "      - {weight: 0, destination: {kuma.io/service: a}}\n"
	          "      - {weight: 0, destination: {kuma.io/service: b}}\n"),
	  "t.yaml:11:5: spec.conf: "
	  "split must have at least one weight above 0" },
	{ TR_CONF("    split: []\n"),
	  "t.yaml:11:5: spec.conf: "
	  "split must have at least one entry" },
	{ TR_CONF("    split:\n"
	          "      - {destination: {kuma.io/service: a}}\n"),
	  "t.yaml:12:9: spec.conf.split[0].weight: "
	  "is required" },
	{ TR_LB(" {random: {}, roundRobin: {}}"),
	  "t.yaml:12:19: spec.conf.loadBalancer: "
	  "must have at most one of roundRobin, leastRequest, ringHash, "
	  "random, maglev" },
	{ TR_LB(" {ringHash: {hashFunction: XX_HASH}, "
		"ring_hash: {hashFunction: XX_HASH}}"),
	  "t.yaml:12:19: spec.conf.loadBalancer: "
	  "must have at most one of roundRobin, leastRequest, ringHash, "
	  "random, maglev" },
	{ TR_CONF("    destination: {kuma.io/service: web}\n"
		  "    loadBalancer: {random: {}}\n"
		  "    load_balancer: {random: {}}\n"),
	  "t.yaml:11:5: spec.conf: "
	  "loadBalancer and load_balancer are one field: write one" },
	{ TR_LB(" {ringHash: {hashFunction: XX_HASH, "
		"hash_function: XX_HASH}}"),
	  "t.yaml:12:30: spec.conf.loadBalancer.ringHash: "
	  "hashFunction and hash_function are one field: write one" },
	{ TR_LB(" {ring_hash: {hash_function: XX_HASH, "
		"min_ring_size: 9, max_ring_size: 8}}"),
	  "t.yaml:12:31: spec.conf.loadBalancer.ring_hash: "
	  "minRingSize must not be above maxRingSize" },
	{ TR_LB(" {ringHash: {hash_function: FNV}}"),
	  "t.yaml:12:46: spec.conf.loadBalancer.ringHash.hash_function: "
	  "must be XX_HASH or MURMUR_HASH_2" },
	{ TR_LB("\n      ringHash: {hashFunction: XX_HASH, "
	        "minRingSize: 2048, maxRingSize: 1024}"),
	  "t.yaml:13:17: spec.conf.loadBalancer.ringHash: "
	  "minRingSize must not be above maxRingSize" },
	{ TR_LB(" {ringHash: {minRingSize: 8}}"),
	  "t.yaml:12:30: spec.conf.loadBalancer.ringHash.hashFunction: "
	  "is required" },
	{ TR_LB(" {maglev: {tableSize: 1000}}"),
	  "t.yaml:12:28: spec.conf.loadBalancer.maglev: "
	  "tableSize must be a prime number" },
	{ TR_LB(" {leastRequest: {choiceCount: 1}}"),
	  "t.yaml:12:48: spec.conf.loadBalancer.leastRequest.choiceCount: "
	  "must be 2..4294967295" },
	{ TR_LB(" {leastRequest: {choice_count: 1}}"),
	  "t.yaml:12:49: spec.conf.loadBalancer.leastRequest.choice_count: "
	  "must be 2..4294967295" },	/* Traffic goes to a service: Kuma wants its tag in each
	 * destination. */
	{ TR_CONF("    destination: {version: v1}\n"),
	  "t.yaml:11:18: spec.conf.destination: "
	  "must have the tag kuma.io/service" },
	{ TR_CONF("    split:\n"
	          "      - {weight: 1, destination: {kuma.io/service: a}}\n"
	          "      - {weight: 1, destination: {version: v1}}\n"),
	  "t.yaml:13:34: spec.conf.split[1].destination: "
	  "must have the tag kuma.io/service" },
	{ TR_CONF("    destination: {}\n"),
	  "t.yaml:11:18: spec.conf.destination: must have 1..8 tags" },
)

/* conf.destination and http route @route (from line 12). */
#define TR_HTTP(route)                                                        \
	TR_CONF("    destination: {kuma.io/service: web}\n"                   \
		"    http:\n" route)

KH_TEST_BAD(test_traffic_route_http_invalid,
	{ TR_HTTP("      - match: {path: {prefix: /a}}\n"),
	  "t.yaml:13:9: spec.conf.http[0]: "
	  "must have exactly one of split, destination" },
	{ TR_HTTP("      - match: {path: {prefix: /a}}\n"
		  "        destination: {kuma.io/service: a}\n"
		  "        split: [{weight: 1, destination: "
		  "{kuma.io/service: a}}]\n"),
	  "t.yaml:13:9: spec.conf.http[0]: "
	  "must have exactly one of split, destination" },
	{ TR_HTTP("      - match: {path: {prefix: /a}}\n"
		  "        split: [{weight: 0, destination: "
		  "{kuma.io/service: a}}]\n"),
	  "t.yaml:13:9: spec.conf.http[0]: "
	  "split must have at least one weight above 0" },
	{ TR_HTTP("      - destination: {kuma.io/service: a}\n"),
	  "t.yaml:13:9: spec.conf.http[0].match: is required" },
	{ TR_HTTP("      - match: {}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:13:16: spec.conf.http[0].match: "
	  "needs method, path or headers" },
	{ TR_HTTP("      - match: {method: {}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:13:25: spec.conf.http[0].match.method: "
	  "needs exactly one of prefix, exact and regex" },
	{ TR_HTTP("      - match: {path: {prefix: /a, exact: /a}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:13:23: spec.conf.http[0].match.path: "
	  "needs exactly one of prefix, exact and regex" },
	{ TR_HTTP("      - match: {path: {prefix: \"\"}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:13:32: spec.conf.http[0].match.path.prefix: "
	  "must not be empty" },
	{ TR_HTTP("      - match: {path: {regex: \"a(\"}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:13:23: spec.conf.http[0].match.path: "
	  "regex is not a valid regular expression" },
	{ TR_HTTP("      - match: {path: {exact: /a}}\n"
		  "        modify: {path: {rewritePrefix: /b}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:14:17: spec.conf.http[0].modify: "
	  "path.rewritePrefix needs a match on a path prefix "
	  "(match.path.prefix)" },
	{ TR_HTTP("      - match: {path: {prefix: /a}}\n"
		  "        modify: {path: {}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:14:24: spec.conf.http[0].modify.path: "
	  "needs exactly one of rewritePrefix and regex" },
	{ TR_HTTP("      - match: {path: {prefix: /a}}\n"
		  "        modify: {host: {}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:14:24: spec.conf.http[0].modify.host: "
	  "needs exactly one of value and fromPath" },
	{ TR_HTTP("      - match: {path: {prefix: /a}}\n"
		  "        modify: {host: {fromPath: {pattern: x}}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:14:35: spec.conf.http[0].modify.host.fromPath.substitution: "
	  "is required" },
	{ TR_HTTP("      - match: {path: {prefix: /a}}\n"
		  "        modify: {requestHeaders: {add: "
		  "[{name: Host, value: b}]}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:14:48: spec.conf.http[0].modify.requestHeaders.add[0].name: "
	  "host header and HTTP/2 pseudo-headers are not allowed to be "
	  "modified" },
	{ TR_HTTP("      - match: {path: {prefix: /a}}\n"
		  "        modify: {responseHeaders: {remove: "
		  "[{name: \":path\"}]}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:14:52: spec.conf.http[0].modify.responseHeaders.remove[0]."
	  "name: host header and HTTP/2 pseudo-headers are not allowed to be "
	  "modified" },
	{ TR_HTTP("      - match: {path: {prefix: /a}}\n"
		  "        modify: {requestHeaders: {add: [{name: a}]}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:14:41: spec.conf.http[0].modify.requestHeaders.add[0].value: "
	  "is required" },
	{ TR_HTTP("      - match: {path: {prefix: /a}}\n"
		  "        destination: {kuma.io/service: a}\n"
		  "      - match: {path: {prefix: /b}}\n"
		  "        destination: {kuma.io/service: b}\n"
		  "      - match: {path: {prefix: /c}}\n"
		  "        destination: {kuma.io/service: c}\n"),
	  "t.yaml:13:7: spec.conf.http: must have at most 2 entries" },
	{ TR_HTTP("      - match: {headers: {}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:13:26: spec.conf.http[0].match.headers: "
	  "must have at least one entry" },
	{ TR_HTTP("      - match: {headers: {x-a: {}}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:13:32: spec.conf.http[0].match.headers.x-a: "
	  "needs exactly one of prefix, exact and regex" },
	{ TR_HTTP("      - match: {headers: {x-a: {regex: \"a(\"}}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:13:32: spec.conf.http[0].match.headers.x-a: "
	  "regex is not a valid regular expression" },
	{ TR_HTTP("      - match: {headers: {\"x a\": {exact: b}}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:13:27: spec.conf.http[0].match.headers.x a: must be an "
	  "HTTP header name (letters, digits and !#$%&'*+-.^_`|~)" },
	{ TR_HTTP("      - match: {headers: {x-a: {exact: b}, "
		  "x-b: {exact: c}}}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:13:26: spec.conf.http[0].match.headers: "
	  "must have at most 1 entries" },
	{ TR_HTTP("      - match: {headers: [x-a]}\n"
		  "        destination: {kuma.io/service: a}\n"),
	  "t.yaml:13:26: spec.conf.http[0].match.headers: "
	  "must be a mapping, not a list" },	{ TR_HTTP("      - match: {path: {prefix: /a}}\n"
		  "        destination: {version: v2}\n"),
	  "t.yaml:14:22: spec.conf.http[0].destination: "
	  "must have the tag kuma.io/service" },
	{ TR_HTTP("      - match: {path: {prefix: /a}}\n"
		  "        split: [{weight: 1, destination: {version: v2}}]\n"),
	  "t.yaml:14:42: spec.conf.http[0].split[0].destination: "
	  "must have the tag kuma.io/service" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_traffic_route_full);
	TEST_RUN(test_traffic_route_destination);
	TEST_RUN(test_traffic_route_default_balancer);
	TEST_RUN(test_traffic_route_http);
	TEST_RUN(test_traffic_route_invalid);
	TEST_RUN(test_traffic_route_http_invalid);
	TEST_MAIN_END();
}
