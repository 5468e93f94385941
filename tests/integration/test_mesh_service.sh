#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# MeshService on the two-node testbed: b2 leaves Service "web" and becomes
# the one endpoint of MeshService "shop" (selected by its labels), whose
# VIP mfctl allocates from the Mesh's range (10.96.128.0/17, inside the
# VIP range the nodes local-route):
#  - pod a1 reaches shop at its allocated VIP and only b2 answers, while
#    web's VIP now reaches only b1;
#  - inspect shows the VIP, flagged as a MeshService's;
#  - a MeshService added later, first by name, leaves shop's VIP alone
#    and takes the next address;
#  - shop's identities: listing only another identity than b2's, a1 gets
#    503 (counted identity_unlisted on node a) and inspect marks b2;
#    listing b2's again (ServiceTag shop), b2 answers;
#  - MeshMultiZoneServices over shop and a second MeshService (b1): their
#    VIPs (http and tcp) reach both pods, inspect marks them, an
#    Unavailable member is skipped, and a MeshHTTPRoute whose `to` is one
#    of them changes what the upstream receives and where it goes;
#  - b2 declared again as a Kuma Dataplane on node b, in web: web's VIP
#    reaches it next to b1;
#  - Kuma's default MeshIdentity gives a1 an identity in another trust
#    domain; by its meshTrustCreation the mesh CA vouches for it, node b
#    authorizes a1 by it, inspect shows it; with meshTrustCreation
#    Disabled and no MeshTrust, the apply is refused.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_mesh_service
tl_require_testbed
tl_require_built "$MFCTL" "$AGENT"

tl_bed_up --apply "$TL_TOP/tests/integration/policy.yaml" --agents
for p in b1 b2; do
	tl_httpd "$p" || { fail "httpd_$p" "server did not start"; tl_finish; }
done

# The shipped policy with b2 moved from web to MeshService shop.
shop_policy() {
	python3 - "$TL_TOP/tests/integration/policy.yaml" <<'PY'
import sys
docs = open(sys.argv[1]).read().split("\n---\n")
print("\n---\n".join(d for d in docs if "metadata: {name: b2}" not in d))
PY
	cat <<'YAML'
---
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: b2, labels: {app: shop}}
spec:
  node: mf-node-b
  ip: 10.78.2.12
  port: 8080
  identity: "spiffe://mesh.local/ns/default/sa/web"
---
apiVersion: kuma.io/v1alpha1
kind: MeshService
metadata: {name: shop}
spec:
  selector: {dataplaneLabels: {matchLabels: {app: shop}}}
  ports: [{name: http, port: 80, targetPort: 8080, appProtocol: http}]
YAML
}
shop_policy | sed 's|^spec: {trustDomain: mesh.local}$|spec: {trustDomain: mesh.local, meshServices: {vipRange: 10.96.128.0/17}}|' \
	>"$TL_TMP/shop.yaml"
grep -q 'vipRange: 10.96.128.0/17' "$TL_TMP/shop.yaml" || fail shop_policy_written "no vipRange"

# Who answers @1 six times: the distinct pod names, sorted.
answers() {
	for _ in 1 2 3 4 5 6; do
		tb_exec a1 curl -sS -m 10 "http://$1/whoami" 2>&1 | cut -d' ' -f1
	done | sort -u | tr '\n' ' '
}

if "$TB" apply "$TL_TMP/shop.yaml" >"$TL_TMP/apply.out" 2>&1; then
	pass apply_mesh_service
else
	fail apply_mesh_service "$(cat "$TL_TMP/apply.out")"
	tl_finish
fi
got=$(answers 10.96.128.1)
[ "$got" = "pod=mf-pod-b2 " ] && pass vip_reaches_its_workload ||
	fail vip_reaches_its_workload "10.96.128.1 answered by: $got"
got=$(answers 10.96.0.10)
[ "$got" = "pod=mf-pod-b1 " ] && pass service_keeps_its_other_workload ||
	fail service_keeps_its_other_workload "10.96.0.10 answered by: $got"

ctl_b() { tl_ctl b "$@"; }
if ctl_b inspect 2>&1 | grep -q '^  10\.96\.128\.1:80/tcp -> id [0-9]* name shop .*(MeshService)$'; then
	pass inspect_shows_vip
else
	fail inspect_shows_vip "$(ctl_b inspect 2>&1 | grep -A4 '^mf_services')"
fi

# A MeshService first by name, applied later: shop keeps its address.
cat "$TL_TMP/shop.yaml" - >"$TL_TMP/more.yaml" <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshService
metadata: {name: aaa}
spec:
  selector: {dataplaneLabels: {matchLabels: {app: nothing}}}
  ports: [{port: 81}]
YAML
if "$TB" apply "$TL_TMP/more.yaml" >"$TL_TMP/apply2.out" 2>&1 &&
	ctl_b inspect 2>&1 | grep -q '^  10\.96\.128\.2:81/tcp -> id [0-9]* name aaa ' &&
	[ "$(answers 10.96.128.1)" = "pod=mf-pod-b2 " ]; then
	pass vip_kept_across_applies
else
	fail vip_kept_across_applies "$(cat "$TL_TMP/apply2.out"; ctl_b inspect 2>&1 | grep -A5 '^mf_services')"
fi

# spec.identities: b2 speaks as sa/web, which a list of sa/shop leaves
# out (shop then has no endpoint a client may use); ServiceTag shop (its
# service's name: b2 has no kuma.io/service tag) lets it back in.
# with_ids IDS: more.yaml with shop's identities IDS (a YAML list).
with_ids() {
	sed "s|^  ports: \[{name: http, port: 80, targetPort: 8080, appProtocol: http}\]$|&\n  identities: $1|" \
		"$TL_TMP/more.yaml" >"$TL_TMP/ids.yaml"
	grep -q '^  identities: ' "$TL_TMP/ids.yaml" &&
		"$TB" apply "$TL_TMP/ids.yaml" >"$TL_TMP/apply-ids.out" 2>&1
}
unlisted() {
	tb_exec a curl -sS -m 5 http://127.0.0.1:15000/metrics |
		awk '$1 == "meshforge_connections_refused_total{reason=\"identity_unlisted\"}" { print $2 }'
}
u0=$(unlisted)
if with_ids '[{type: SpiffeID, value: "spiffe://mesh.local/ns/default/sa/shop"}]'; then
	code=$(tb_exec a1 curl -sS -m 10 -o /dev/null -w '%{http_code}' http://10.96.128.1/whoami 2>&1)
	u1=$(unlisted)
	if [ "$code" = 503 ] && [ "${u1:-0}" -gt "${u0:-0}" ] 2>/dev/null; then
		pass identities_leave_out_other_workloads
	else
		fail identities_leave_out_other_workloads "code $code; identity_unlisted $u0 -> $u1"
	fi
	if ctl_b inspect 2>&1 | grep -q '^  10\.78\.2\.12 -> name b2 .*(identity not in its MeshService.s identities)$'; then
		pass inspect_marks_unlisted_endpoint
	else
		fail inspect_marks_unlisted_endpoint "$(ctl_b inspect 2>&1 | grep -A3 '^mf_endpoints')"
	fi
else
	fail apply_identities "$(cat "$TL_TMP/apply-ids.out")"
fi
if with_ids '[{type: ServiceTag, value: shop}]' &&
	[ "$(answers 10.96.128.1)" = "pod=mf-pod-b2 " ]; then
	pass identities_admit_listed_workload
else
	fail identities_admit_listed_workload "$(cat "$TL_TMP/apply-ids.out"; answers 10.96.128.1)"
fi

# MeshMultiZoneService "front" over MeshServices shop (b2) and shop-b1
# (b1, moved out of web for this), both labelled group: front, its VIP from
# the Mesh's range for them (10.96.64.0/18, inside the local route):
# front (port 80, http) and front-tcp (port 80, tcp) each reach both pods;
# inspect marks the VIP; shop-b1 Unavailable, only b2 answers; the
# members' permissions judge the caller's identity on node b; a
# MeshHTTPRoute whose `to` is front sets a header the upstream receives and
# sends everything to shop (b2), while front-tcp, which it does not target,
# still reaches b1.  Then b1 goes back to web.
# mzs_policy [STATE]: ids.yaml as MeshMultiZoneServices want it, shop-b1
# with spec.state STATE (none: left out).
mzs_policy() {
	python3 - "$TL_TMP/ids.yaml" "${1:-}" <<'PY'
import sys
docs = open(sys.argv[1]).read().split("\n---\n")
docs = [d for d in docs if "metadata: {name: b1}" not in d]
out = "\n---\n".join(docs)
out = out.replace("meshServices: {vipRange: 10.96.128.0/17}}",
                  "meshServices: {vipRange: 10.96.128.0/17}, "
                  "meshMultiZoneServices: {vipRange: 10.96.64.0/18}}")
out = out.replace("metadata: {name: shop}",
                  "metadata: {name: shop, labels: {group: front}}")
print(out)
state = "  state: %s\n" % sys.argv[2] if sys.argv[2] else ""
print("""---
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: b1, labels: {app: shop-b1}}
spec: {node: mf-node-b, ip: 10.78.2.11, port: 8080, identity: "spiffe://mesh.local/ns/default/sa/web"}
---
apiVersion: kuma.io/v1alpha1
kind: MeshService
metadata: {name: shop-b1, labels: {group: front}}
spec:
  selector: {dataplaneLabels: {matchLabels: {app: shop-b1}}}
  ports: [{name: http, port: 80, targetPort: 8080, appProtocol: http}]
%s---
apiVersion: kuma.io/v1alpha1
kind: MeshMultiZoneService
metadata: {name: front}
spec:
  selector: {meshService: {matchLabels: {group: front}}}
  ports: [{name: http, port: 80, appProtocol: http}]
---
apiVersion: kuma.io/v1alpha1
kind: MeshMultiZoneService
metadata: {name: front-tcp}
spec:
  selector: {meshService: {matchLabels: {group: front}}}
  ports: [{port: 80}]
---
apiVersion: kuma.io/v1alpha1
kind: MeshLoadBalancingStrategy
metadata: {name: front-rr}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshMultiZoneService, name: front}
      default: {loadBalancer: {type: RoundRobin}}""" % state)
PY
}
mzs_apply() { # FILE: apply it, or fail mzs_apply and finish
	"$TB" apply "$1" >"$TL_TMP/apply-mzs.out" 2>&1 && return 0
	fail mzs_apply "$(cat "$TL_TMP/apply-mzs.out")"
	tl_finish
}
# answers12 VIP: who answers VIP twelve times (round robin: both members
# twice over at least).  Requests to the HTTP one go round robin by the
# MeshLoadBalancingStrategy to it (without, requests go by latency, which
# may keep to the faster member); connections to the TCP one always do.
answers12() { { answers "$1"; echo; answers "$1"; } | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' '; }
mzs_policy >"$TL_TMP/mzs.yaml"
mzs_apply "$TL_TMP/mzs.yaml"
got=$(answers12 10.96.64.1)
[ "$got" = "pod=mf-pod-b1 pod=mf-pod-b2 " ] && pass mzs_vip_reaches_members ||
	fail mzs_vip_reaches_members "10.96.64.1 (http) answered by: $got"
got=$(answers12 10.96.64.2)
[ "$got" = "pod=mf-pod-b1 pod=mf-pod-b2 " ] && pass mzs_tcp_vip_reaches_members ||
	fail mzs_tcp_vip_reaches_members "10.96.64.2 (tcp) answered by: $got"
if ctl_b inspect 2>&1 | grep -q '^  10\.96\.64\.1:80/tcp -> id [0-9]* name front .*app http (MeshMultiZoneService)$' &&
	ctl_b inspect 2>&1 | grep -q '^  10\.96\.64\.2:80/tcp -> id [0-9]* name front-tcp .*app tcp (MeshMultiZoneService)$'; then
	pass inspect_shows_mzs_vip
else
	fail inspect_shows_mzs_vip "$(ctl_b inspect 2>&1 | grep -A8 '^mf_services')"
fi

mzs_policy Unavailable >"$TL_TMP/mzs-down.yaml"
mzs_apply "$TL_TMP/mzs-down.yaml"
got=$(answers12 10.96.64.1)
[ "$got" = "pod=mf-pod-b2 " ] && pass mzs_skips_unavailable_member ||
	fail mzs_skips_unavailable_member "10.96.64.1 answered by: $got"
# shop-b1 itself is still reached at its own VIP: Unavailable speaks of
# the multi-zone service's traffic only.
got=$(answers 10.96.128.3)
[ "$got" = "pod=mf-pod-b1 " ] && pass unavailable_member_keeps_own_vip ||
	fail unavailable_member_keeps_own_vip "10.96.128.3 answered by: $got"

# The members' permissions decide, on the destination's node, with the
# caller's identity: only the client's may reach shop and shop-b1, so a1
# still reaches both through front, and a2 (intruder) neither, which node
# b's agent logs as a denial for a member.
cat "$TL_TMP/mzs.yaml" - >"$TL_TMP/mzs-mtp.yaml" <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrafficPermission
metadata: {name: shop-allow}
spec:
  targetRef: {kind: MeshService, name: shop}
  from:
    - targetRef: {kind: SpiffeID, name: "spiffe://mesh.local/ns/default/sa/client"}
      default: {action: Allow}
---
apiVersion: kuma.io/v1alpha1
kind: MeshTrafficPermission
metadata: {name: shop-b1-allow}
spec:
  targetRef: {kind: MeshService, name: shop-b1}
  from:
    - targetRef: {kind: SpiffeID, name: "spiffe://mesh.local/ns/default/sa/client"}
      default: {action: Allow}
YAML
mzs_apply "$TL_TMP/mzs-mtp.yaml"
mark_b=$(tl_log_mark mf-node-b)
got=$(answers12 10.96.64.1)
a2_out=$(for _ in 1 2 3 4; do tb_exec a2 curl -sS -m 10 http://10.96.64.1/whoami 2>&1; done)
mzs_deny_line() {
	tl_log_since mf-node-b "$mark_b" | grep 'event=denied' |
		grep -F 'src_spiffe=spiffe://mesh.local/ns/default/sa/intruder ' |
		grep -E 'service=shop(-b1)? '
}
if [ "$got" = "pod=mf-pod-b1 pod=mf-pod-b2 " ] &&
	! printf '%s\n' "$a2_out" | grep -q 'pod=' &&
	wait_for 5 mzs_deny_line >/dev/null; then
	pass mzs_members_permissions_decide
else
	fail mzs_members_permissions_decide "a1 answered by: $got; a2 got: $a2_out; denials: $(mzs_deny_line | head -n 2)"
fi

cat "$TL_TMP/mzs.yaml" - >"$TL_TMP/mzs-route.yaml" <<'YAML'
---
apiVersion: kuma.io/v1alpha1
kind: MeshHTTPRoute
metadata: {name: front-route}
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshMultiZoneService, name: front}
      rules:
        - matches: [{path: {type: PathPrefix, value: /}}]
          default:
            filters:
              - type: RequestHeaderModifier
                requestHeaderModifier:
                  set: [{name: x-mzs-route, value: front-route}]
            backendRefs: [{kind: MeshService, name: shop, port: 80}]
YAML
mzs_apply "$TL_TMP/mzs-route.yaml"
got=$(answers12 10.96.64.1)
hdrs=$(tb_exec a1 curl -sS -m 10 http://10.96.64.1/headers 2>&1)
if [ "$got" = "pod=mf-pod-b2 " ] &&
	printf '%s\n' "$hdrs" | grep -qi '^x-mzs-route: front-route'; then
	pass mzs_http_route_applies
else
	fail mzs_http_route_applies "answered by: $got; headers: $hdrs"
fi
got=$(answers12 10.96.64.2)
[ "$got" = "pod=mf-pod-b1 pod=mf-pod-b2 " ] && pass mzs_route_targets_only_its_mzs ||
	fail mzs_route_targets_only_its_mzs "10.96.64.2 answered by: $got"

# b1 back in web for what follows.
cat >"$TL_TMP/b1-web.yaml" <<'YAML'
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: b1}
spec: {node: mf-node-b, ip: 10.78.2.11, port: 8080, service: web, identity: "spiffe://mesh.local/ns/default/sa/web"}
YAML
mzs_apply "$TL_TMP/b1-web.yaml"

# A Kuma Dataplane as b2, on node b, back in web: the VIP reaches it.
cat >"$TL_TMP/dp.yaml" <<'YAML'
apiVersion: kuma.io/v1alpha1
kind: Dataplane
metadata: {name: b2, labels: {meshforge.io/node: mf-node-b, app: web-dp}}
spec:
  networking:
    address: 10.78.2.12
    inbound: [{port: 8080, tags: {kuma.io/service: web}}]
---
apiVersion: kuma.io/v1alpha1
kind: MeshIdentity
metadata: {name: web-dp}
spec:
  selector: {dataplane: {matchLabels: {app: web-dp}}}
  spiffeID: {trustDomain: mesh.local, path: /ns/default/sa/web}
YAML
if tl_ctl a delete workload b2 >"$TL_TMP/apply3.out" 2>&1 &&
	tl_ctl b delete workload b2 >>"$TL_TMP/apply3.out" 2>&1 &&
	"$TB" apply "$TL_TMP/dp.yaml" >>"$TL_TMP/apply3.out" 2>&1; then
	got=$(answers 10.96.0.10)
	[ "$got" = "pod=mf-pod-b1 pod=mf-pod-b2 " ] && pass dataplane_is_a_workload ||
		fail dataplane_is_a_workload "10.96.0.10 answered by: $got"
else
	fail dataplane_is_a_workload "$(cat "$TL_TMP/apply3.out")"
fi

# Kuma's default MeshIdentity (no spiffeID) gives a1 (now without its own
# spec.identity) an identity in
# another trust domain than the Mesh's: spiffe://default.default.mesh.local
# /workload/a1.  Its meshTrustCreation (Kuma's default) has the mesh CA
# vouch for that domain: node b's agent takes a1's certificate, issued by
# the mesh CA for it, and a permission names the new identity.
A1_ID=spiffe://default.default.mesh.local/workload/a1
cat >"$TL_TMP/mid.yaml" <<YAML
apiVersion: meshforge.io/v1alpha1
kind: Workload
metadata: {name: a1}
spec: {node: mf-node-a, ip: 10.78.1.11, port: 8080, service: client}
---
apiVersion: kuma.io/v1alpha1
kind: MeshIdentity
metadata: {name: a1-default}
spec:
  selector: {dataplane: {matchLabels: {kuma.io/display-name: a1}}}
  provider: {type: Bundled, bundled: {autogenerate: {enabled: true}}}
---
apiVersion: meshforge.io/v1alpha1
kind: MeshTrafficPermission
metadata: {name: web-allow-a1}
spec:
  targetRef: {kind: MeshService, name: web}
  from:
    - targetRef: {kind: SpiffeID, name: "$A1_ID"}
      default: {action: Allow}
YAML
sed 's/meshTrustCreation: Enabled/meshTrustCreation: Disabled/; s/{type: Bundled, bundled: {autogenerate/{type: Bundled, bundled: {meshTrustCreation: Disabled, autogenerate/' \
	"$TL_TMP/mid.yaml" >"$TL_TMP/mid-disabled.yaml"
if "$TB" apply "$TL_TMP/mid.yaml" >"$TL_TMP/mid.out" 2>&1 &&
	tl_ctl a --config-dir "$TL_STATE/ca" cert issue --workload a1 \
		--out "$TL_STATE/mf-node-a" >>"$TL_TMP/mid.out" 2>&1; then
	pass mesh_identity_default_domain_applied
else
	fail mesh_identity_default_domain_applied "$(cat "$TL_TMP/mid.out")"
fi
mark=$(tl_log_mark mf-node-b)
reached() {
	tb_exec a1 curl -sS -m 5 http://10.96.0.10/whoami 2>/dev/null | grep -q '^pod=' &&
		tl_log_since mf-node-b "$mark" | grep -q "event=authorized .*src_spiffe=$A1_ID "
}
if wait_for 10 reached; then
	pass mesh_identity_trust_creation_vouches
else
	fail mesh_identity_trust_creation_vouches "$(tb_exec a1 curl -sS -m 5 http://10.96.0.10/whoami 2>&1); $(tl_log_since mf-node-b "$mark" | tail -n 3)"
fi
if tl_ctl b inspect 2>&1 | grep -q '^  also trust domains default\.default\.mesh\.local (mesh CA)$'; then
	pass mesh_identity_inspect_shows_domain
else
	fail mesh_identity_inspect_shows_domain "$(tl_ctl b inspect 2>&1 | head -n 4)"
fi
# Disabled, with no MeshTrust for the domain: no CA would vouch for a1's
# identity, so the apply is refused and the policy in force stays.
if "$TB" apply "$TL_TMP/mid-disabled.yaml" >"$TL_TMP/mid-disabled.out" 2>&1; then
	fail mesh_identity_disabled_refused "applied: $(cat "$TL_TMP/mid-disabled.out")"
elif grep -q 'is in trust domain "default.default.mesh.local", which no CA of the mesh vouches for (its meshTrustCreation is Disabled)' \
	"$TL_TMP/mid-disabled.out" && reached; then
	pass mesh_identity_disabled_refused
else
	fail mesh_identity_disabled_refused "$(cat "$TL_TMP/mid-disabled.out")"
fi

tl_finish
