#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The meshforge image (scripts/image.sh) run with podman on the two-node
# testbed as deploy/kubernetes/daemonset.yaml runs it: each node's
# network namespace as the host network, and the capabilities, security
# options, mounts, command and probes read from the manifest
# (tests/tools/mf_k8s.py), so they cannot drift.  The pod's host paths
# are the testbed node's: bpffs is /sys/fs/bpf/mf-node-X (the agent's pin
# root inside is /sys/fs/bpf/meshforge), /etc/meshforge the node's
# config dir, cgroup2 the testbed's, /run/meshforge and
# /var/lib/meshforge directories of the test.  The ConfigMap is a
# directory laid out as the kubelet mounts one (..data, a link per key).
#  - policy-init applies the ConfigMap before the agent starts;
#  - the agent container becomes live and ready on the manifest's probes,
#    and keeps only CAP_NET_ADMIN, CAP_BPF and CAP_NET_BIND_SERVICE;
#  - pod a1 reaches the web service on node b through both containerised
#    agents (a token of this run, answers from b1 and b2), node b logs the
#    verified identity, pod a2 is refused;
#  - the ConfigMap changed as the kubelet changes it (..data swapped):
#    policy-sync applies it and a2 gets through.
# Machine notes: crun refuses this host's hybrid cgroup layout (a cgroup2
# with a controller beside the v1 tmpfs), so runc runs the containers,
# with podman's cgroupfs manager; podman cannot raise rlimits here (no
# CAP_SYS_RESOURCE in the host's bounding set), so the containers get the
# host's own open-file limit and a small process limit.  Images live in a
# podman store of the test's own (vfs), removed on exit.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_container
tl_require_testbed
tl_require_cmd podman runc
"$TL_PY" -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
tl_require_built "$MFCTL" "$AGENT"

K8S=${MF_K8S_DIR:-$TL_TOP/deploy/kubernetes}	# another copy: to try a change
IMAGE=localhost/mf-meshforge-test:$$
VIP=10.96.0.10
INTRUDER_ID=spiffe://mesh.local/ns/default/sa/intruder
CLIENT_ID=spiffe://mesh.local/ns/default/sa/client
TOKEN=mf-token-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$TL_TMP/token"

# Everything podman keeps for this run is under $TL_TMP/podman.
PODMAN=(podman --root "$TL_TMP/podman/root" --runroot "$TL_TMP/podman/run"
	--tmpdir "$TL_TMP/podman/tmp" --storage-driver vfs --runtime runc
	--cgroup-manager cgroupfs)

# Containers, then the image; tl_cleanup removes the directory.  (Not
# `system reset`: it also removes networks the host's podman defined.)
ct_cleanup() {
	"${PODMAN[@]}" rm -af -t 2 >/dev/null 2>&1
	"${PODMAN[@]}" rmi -af >/dev/null 2>&1
	umount -R "$TL_TMP/podman" 2>/dev/null
	return 0
}
trap 'rc=$?; ct_cleanup; (exit $rc); tl_cleanup' EXIT

if ! PODMAN="${PODMAN[*]}" "$TL_TOP/scripts/image.sh" "$IMAGE" >"$TL_TMP/image.log" 2>&1; then
	cat "$TL_TMP/image.log" >&2
	fail image_builds "scripts/image.sh failed"
	tl_finish
fi
pass image_builds

tl_bed_up
CGROOT=$(dirname "$("$TB" cgroup a1)")

# The ConfigMap as the kubelet lays it out: the keys are links into
# ..data, which links to the current version's directory.
CM=$TL_TMP/configmap
cm_version() {
	local v=$CM/..$1
	mkdir -p "$v"
	cat >"$v/policy.yaml"
	ln -sfn "..$1" "$CM/..data.tmp"
	mv -T "$CM/..data.tmp" "$CM/..data"	# the kubelet's atomic swap
	[ -e "$CM/policy.yaml" ] || ln -s ..data/policy.yaml "$CM/policy.yaml"
}
mkdir -p "$CM"
cm_version 1 <"$TL_TOP/tests/integration/policy.yaml"

# ct_args NODE CONTAINER: podman run's arguments for CONTAINER of the
# DaemonSet on testbed node NODE (a, b), one per line.
ct_args() {
	local n=mf-node-$1 d=$TL_TMP/node-$1
	"$TL_PY" "$TL_TOOLS/mf_k8s.py" podman "$K8S" "$2" "$n" \
		--map "/sys/fs/bpf=/sys/fs/bpf/$n" --map "/sys/fs/cgroup=$CGROOT" \
		--map "/run/meshforge=$d/run" --map "/var/lib/meshforge=$d/state" \
		--map "/etc/meshforge=$TL_STATE/$n" --configmap "meshforge-policy=$CM"
}

# ct_run NODE CONTAINER [PODMAN RUN OPTIONS...]: runs it in NODE's netns;
# the testbed's pods are veths named mfp*, where a cluster's are veth*.
ct_run() {
	local node=$1 name=$2 a args=() pre=()
	shift 2
	mapfile -t args < <(ct_args "$node" "$name") || return 1
	[ ${#args[@]} -gt 0 ] || return 1
	for a in "${args[@]}"; do
		case "$a" in
		IMAGE) pre+=("$@" "$IMAGE") ;;
		"veth*") pre+=("mfp*") ;;
		*) pre+=("$a") ;;
		esac
	done
	"${PODMAN[@]}" run --network "ns:/run/netns/mf-node-$node" \
		--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=1024:1024 \
		"${pre[@]}"
}

for node in a b; do
	mkdir -p "$TL_TMP/node-$node/run" "$TL_TMP/node-$node/state" "/sys/fs/bpf/mf-node-$node"
done

# ---- policy-init, then the agent and policy-sync ---------------------------
bad=""
for node in a b; do
	ct_run "$node" policy-init --rm --name "mf-ct-$node-init" >"$TL_TMP/init-$node.log" 2>&1 ||
		bad="$bad $node: $(cat "$TL_TMP/init-$node.log")"
done
if [ -z "$bad" ] && [ -e /sys/fs/bpf/mf-node-a/meshforge ] && [ -e /sys/fs/bpf/mf-node-b/meshforge ]; then
	pass policy_init_applies
else
	fail policy_init_applies "${bad:-no pins under /sys/fs/bpf/mf-node-X/meshforge}"
	tl_finish
fi
for node in a b; do
	ct_run "$node" agent -d --name "mf-ct-$node-agent" >/dev/null 2>"$TL_TMP/run-$node.log" ||
		{ fail "agent_${node}_starts" "$(cat "$TL_TMP/run-$node.log")"; tl_finish; }
	ct_run "$node" policy-sync -d --name "mf-ct-$node-sync" >/dev/null 2>"$TL_TMP/sync-$node.log" ||
		{ fail "sync_${node}_starts" "$(cat "$TL_TMP/sync-$node.log")"; tl_finish; }
done
ct_log() { "${PODMAN[@]}" logs "mf-ct-$1-agent" 2>&1; }

# ---- the probes, as the manifest says -------------------------------------------
mapfile -t probes < <("$TL_PY" "$TL_TOOLS/mf_k8s.py" probes "$K8S" agent)
probe_ok() { [ "$(tb_exec "$1" curl -s -o /dev/null -w '%{http_code}' -m 2 "$2")" = 200 ]; }
bad=""
[ ${#probes[@]} = 2 ] || bad="probes: ${probes[*]}"
for node in a b; do
	for p in "${probes[@]}"; do
		read -r kind host port path <<<"$p"
		wait_for 15 probe_ok "$node" "http://$host:$port$path" || bad="$bad $node:$kind($path)"
	done
done
if [ -z "$bad" ]; then
	pass agents_live_and_ready_on_manifest_probes
else
	fail agents_live_and_ready_on_manifest_probes "not 200:$bad"
	ct_log a | tail -n 20 >&2
	tl_finish
fi

# ---- the capabilities it kept ----------------------------------------------------
want=$(printf '%016x' $(((1 << 10) | (1 << 12) | (1 << 38) | (1 << 39))))
bad=""
for node in a b; do
	pid=$("${PODMAN[@]}" inspect --format '{{.State.Pid}}' "mf-ct-$node-agent")
	eff=$(awk '$1 == "CapEff:" {print $2}' "/proc/$pid/status" 2>/dev/null)
	prm=$(awk '$1 == "CapPrm:" {print $2}' "/proc/$pid/status" 2>/dev/null)
	[ "$eff" = "$want" ] && [ "$prm" = "$want" ] || bad="$bad $node: eff=$eff prm=$prm"
done
if [ -z "$bad" ]; then pass agent_keeps_four_capabilities; else fail agent_keeps_four_capabilities "want $want:$bad"; fi

# ---- the mesh through the containers --------------------------------------------
for p in b1 b2; do
	tl_httpd "$p" "$TL_TMP/token" || { fail "httpd_$p" "server did not start"; tl_finish; }
done
bad=""
for i in 1 2 3; do
	body=$(tb_exec a1 curl -sS -m 10 "http://$VIP/token" 2>&1)
	[ "$body" = "$TOKEN" ] || { bad="request $i: got '$body'"; break; }
done
if [ -z "$bad" ]; then pass vip_token_through_containers; else fail vip_token_through_containers "$bad"; fi
seen=""
for i in 1 2 3 4 5 6; do
	who=$(tb_exec a1 curl -sS -m 10 "http://$VIP/whoami" 2>&1)
	seen="$seen ${who%% *}"
done
if [[ "$seen" == *pod=mf-pod-b1* ]] && [[ "$seen" == *pod=mf-pod-b2* ]]; then
	pass vip_balances_over_b1_b2
else
	fail vip_balances_over_b1_b2 "answers from:$seen"
fi
client_line() { ct_log b | grep 'event=authorized' | grep -qF "src_spiffe=$CLIENT_ID "; }
if wait_for 5 client_line; then
	pass node_b_logs_source_identity
else
	fail node_b_logs_source_identity "no authorized line with $CLIENT_ID in node b's container log"
fi
tb_exec a2 curl -sS -m 10 -o /dev/null "http://$VIP/token" 2>"$TL_TMP/a2.err"
rc=$?
# Node a relays, node b refuses and resets, node a resets a2: curl says
# so as a reset while reading (56), an empty reply (52), or, when the
# reset beats its look at the connect on a busy machine, a failed connect
# (7).  Whichever, node b must have refused a2's identity.
denied_line() { ct_log b | grep 'event=denied' | grep -q 'src_spiffe=spiffe://mesh.local/ns/default/sa/intruder '; }
case "$rc" in
7 | 52 | 56)
	if wait_for 5 denied_line; then
		pass unpermitted_identity_refused
	else
		fail unpermitted_identity_refused "curl exit $rc ($(cat "$TL_TMP/a2.err")), but node b logged no denial of a2's identity"
	fi
	;;
*) fail unpermitted_identity_refused "curl exit $rc: $(cat "$TL_TMP/a2.err")" ;;
esac

# ---- the ConfigMap changes ------------------------------------------------------
{
	cat "$TL_TOP/tests/integration/policy.yaml"
	printf '    - targetRef: {kind: SpiffeID, name: "%s"}\n      default: {action: Allow}\n' "$INTRUDER_ID"
} | cm_version 2
a2_served() { [ "$(tb_exec a2 curl -sS -m 5 "http://$VIP/token" 2>/dev/null)" = "$TOKEN" ]; }
start=$SECONDS
if wait_for 30 a2_served; then
	tl_log "the changed ConfigMap was in force after $((SECONDS - start)) s"
	pass configmap_change_applied
else
	fail configmap_change_applied "a2 still refused; policy-sync: $("${PODMAN[@]}" logs mf-ct-a-sync 2>&1 | tail -n 5)"
fi
body=$(tb_exec a1 curl -sS -m 10 "http://$VIP/token" 2>&1)
if [ "$body" = "$TOKEN" ]; then pass client_still_served; else fail client_still_served "got '$body'"; fi

tl_finish
