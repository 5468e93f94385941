#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The two-node meshforge testbed, built from network namespaces:
#
#   mf-pod-a1 10.78.1.11 --eth0|mfpa1--+                 +--mfpb1|eth0-- mf-pod-b1 10.78.2.11
#                                      mf-node-a ==wire== mf-node-b
#   mf-pod-a2 10.78.1.12 --eth0|mfpa2--+ mfwa       mfwb +--mfpb2|eth0-- mf-pod-b2 10.78.2.12
#                                      10.77.0.1  10.77.0.2
#
# Each node routes its pods with /32 host routes, forwards between pods and
# the wire, reaches the other node's pod range over the wire and local-routes
# the service VIP range 10.96.0.0/16, so an agent listener accepting a
# sk_assign'ed VIP connection sees the VIP as its local address.  Pods reach
# their node through a gateway address (10.78.1.1 on node a, 10.78.2.1 on
# node b) kept on the node's lo; the node answers ARP for it on the pod veth.
# Each pod also gets a cgroup v2 of its own.
#
# usage: testbed.sh up [--net-only] [--apply FILE] [--agents]
#        testbed.sh down
#        testbed.sh agents-start [NODE...] | agents-stop
#        testbed.sh apply FILE          on every node; waits for its agent if up
#        testbed.sh exec NAME CMD...    NAME: mf-pod-a1 | a1 | mf-node-a | a ...
#        testbed.sh status
#        testbed.sh pid NODE            the agent's pid on NODE
#        testbed.sh cgroup NAME         the cgroup v2 directory of pod NAME
#
# Environment: O (build dir, default build), MF_AGENT_THREADS (the agents'
# --threads, default 1), MF_AGENT_ARGS (extra agent
# arguments, e.g. "--log-level debug"), MF_AGENT_WRAP (a command the agent
# is run under, e.g. setpriv with a unit's capability bounding set),
# MF_TB_READY_TIMEOUT (seconds, 15).
set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
MFCTL=${MFCTL:-$O/bin/mfctl}
AGENT=${AGENT:-$O/bin/meshforge-agent}

TB_STATE=/run/mf-testbed
TB_RUN=$TB_STATE/run		# mfctl's run dir (its writers' lock), and the agents'
TB_BPFFS=/sys/fs/bpf
TB_CG_OWN=/run/meshforge/cgroup	# our cgroup2 mount when the host has none
TB_TD=mesh.local
TB_VIPS=10.96.0.0/16
TB_READY_TIMEOUT=${MF_TB_READY_TIMEOUT:-15}

TB_NODES=(mf-node-a mf-node-b)
TB_PODS=(a1 a2 b1 b2)

declare -A TB_NODE_ADDR=([mf-node-a]=10.77.0.1 [mf-node-b]=10.77.0.2)
declare -A TB_NODE_WIRE=([mf-node-a]=mfwa [mf-node-b]=mfwb)
declare -A TB_NODE_GW=([mf-node-a]=10.78.1.1 [mf-node-b]=10.78.2.1)
declare -A TB_NODE_CIDR=([mf-node-a]=10.78.1.0/24 [mf-node-b]=10.78.2.0/24)
declare -A TB_NODE_PEER=([mf-node-a]=mf-node-b [mf-node-b]=mf-node-a)

declare -A TB_POD_IP=([a1]=10.78.1.11 [a2]=10.78.1.12 [b1]=10.78.2.11 [b2]=10.78.2.12)
declare -A TB_POD_NODE=([a1]=mf-node-a [a2]=mf-node-a [b1]=mf-node-b [b2]=mf-node-b)
declare -A TB_POD_ID=(
	[a1]=spiffe://$TB_TD/ns/default/sa/client
	[a2]=spiffe://$TB_TD/ns/default/sa/intruder
	[b1]=spiffe://$TB_TD/ns/default/sa/web
	[b2]=spiffe://$TB_TD/ns/default/sa/web
)

tb_log() { printf 'testbed: %s\n' "$*" >&2; }
tb_die() { tb_log "error: $*"; exit 1; }

# Runs a command and dies with its text when it fails: setup steps must not
# fail silently, or a test would later fail for a reason far from the cause.
tb_run() {
	"$@" || tb_die "failed: $*"
}

# nsenter, never `ip netns exec`: the latter remounts /sys in a private mount
# namespace, which hides /sys/fs/bpf from the command.
tb_nsexec() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

tb_node_id() { printf 'spiffe://%s/ns/meshforge-system/sa/%s' "$TB_TD" "$1"; }
tb_pod_ns() { printf 'mf-pod-%s\n' "$1"; }
tb_pod_veth() { printf 'mfp%s\n' "$1"; }

# The node's pod veth names, e.g. "mfpa1 mfpa2".
tb_node_pod_ifaces() {
	local node=$1 p out=()
	for p in "${TB_PODS[@]}"; do
		[ "${TB_POD_NODE[$p]}" = "$node" ] && out+=("$(tb_pod_veth "$p")")
	done
	echo "${out[*]}"
}

# Maps a short or long name to the netns name; fails for anything that is not
# one of ours, so `exec` cannot be pointed at a foreign namespace.
tb_resolve() {
	case "$1" in
	a | b) echo "mf-node-$1" ;;
	mf-node-a | mf-node-b) echo "$1" ;;
	a1 | a2 | b1 | b2) echo "mf-pod-$1" ;;
	mf-pod-a1 | mf-pod-a2 | mf-pod-b1 | mf-pod-b2) echo "$1" ;;
	*) return 1 ;;
	esac
}

tb_fstype() { stat -fc %T "$1" 2>/dev/null; }

# The cgroup v2 root the pods' cgroups live under.  With $1 = create, mounts
# one of our own when the host's /sys/fs/cgroup is not cgroup2 (a hybrid or
# v1 host); otherwise only reports an existing one.
tb_cgroot() {
	if [ "$(tb_fstype /sys/fs/cgroup)" = cgroup2fs ]; then
		echo /sys/fs/cgroup
		return 0
	fi
	if [ "$(tb_fstype "$TB_CG_OWN")" = cgroup2fs ]; then
		echo "$TB_CG_OWN"
		return 0
	fi
	[ "${1:-}" = create ] || return 1
	if [ ! -d /run/meshforge ]; then
		mkdir -p /run/meshforge || return 1
		touch "$TB_STATE/made-run-meshforge"
	fi
	mkdir -p "$TB_CG_OWN" || return 1
	mount -t cgroup2 none "$TB_CG_OWN" || return 1
	touch "$TB_STATE/mounted-cgroup2"
	echo "$TB_CG_OWN"
}

tb_bpffs() {
	[ "$(tb_fstype "$TB_BPFFS")" = bpf_fs ] && return 0
	# Left mounted by down: other users may pin there too, and an empty
	# bpffs mount changes nothing for anyone.
	mount -t bpf bpf "$TB_BPFFS"
}

# ---- processes -------------------------------------------------------------

# True while pid $1 runs.  A zombie counts as gone: processes we start in the
# background are reaped by init, which may take its time.
tb_alive() {
	local st
	[ -n "$1" ] || return 1
	st=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Waits up to $2 tenths of a second for pid $1 to be gone.
tb_wait_gone() {
	local pid=$1 n=$2
	while tb_alive "$pid" && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	! tb_alive "$pid"
}

tb_stop_pid() {
	local pid=$1
	tb_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	tb_wait_gone "$pid" 50 && return 0
	tb_log "pid $pid ignored SIGTERM for 5 s; killing it"
	kill -KILL "$pid" 2>/dev/null
	tb_wait_gone "$pid" 50
}

# The agent's pid for node $1, only when that pid still is that agent (a pid
# file can outlive its process and the number be reused).
tb_agent_pid() {
	local node=$1 pid
	pid=$(cat "$TB_STATE/$node/agent.pid" 2>/dev/null) || return 1
	tb_alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--node $node " || return 1
	echo "$pid"
}

# Every process left in our namespaces (servers, tcpdump, agents).
tb_kill_netns_pids() {
	local ns pids pid
	for ns in "$@"; do
		[ -e "/run/netns/$ns" ] || continue
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] || continue
		# shellcheck disable=SC2086 # one pid per word
		kill -TERM $pids 2>/dev/null
		for pid in $pids; do
			tb_wait_gone "$pid" 30 || kill -KILL "$pid" 2>/dev/null
		done
		for pid in $pids; do
			tb_wait_gone "$pid" 30
		done
	done
}

# ---- up --------------------------------------------------------------------

tb_sysctl() {
	local ns=$1
	shift
	tb_run tb_nsexec "$ns" sysctl -qw "$@"
}

tb_net_up() {
	local ns node pod peer gw ip pns veth
	for ns in "${TB_NODES[@]}" $(for pod in "${TB_PODS[@]}"; do tb_pod_ns "$pod"; done); do
		tb_run ip netns add "$ns"
		tb_run ip -n "$ns" link set lo up
		# No IPv6 chatter (router solicitations, DAD) on the wire: captures
		# then hold only what a test sent.
		tb_sysctl "$ns" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done

	tb_run ip -n mf-node-a link add mfwa type veth peer name mfwb netns mf-node-b
	for node in "${TB_NODES[@]}"; do
		peer=${TB_NODE_PEER[$node]}
		tb_run ip -n "$node" addr add "${TB_NODE_ADDR[$node]}/24" dev "${TB_NODE_WIRE[$node]}"
		tb_run ip -n "$node" link set "${TB_NODE_WIRE[$node]}" up
		tb_run ip -n "$node" addr add "${TB_NODE_GW[$node]}/32" dev lo
		tb_run ip -n "$node" route add "${TB_NODE_CIDR[$peer]}" via "${TB_NODE_ADDR[$peer]}"
		tb_run ip -n "$node" route add local "$TB_VIPS" dev lo
		# What the pods' TC program hands the agent for a
		# MeshPassthrough Domain match is marked: local too, whatever
		# its destination (include/meshforge/abi.h).
		tb_run ip -n "$node" rule add fwmark 0x6d660002 lookup 0x6d66 pref 100
		tb_run ip -n "$node" route add local 0.0.0.0/0 dev lo table 0x6d66
		# ... over IPv6 too (a pod with an IPv6 address): the route
		# needs IPv6 on lo, the one interface that carries it.
		tb_sysctl "$node" net.ipv6.conf.lo.disable_ipv6=0
		tb_run ip -n "$node" -6 rule add fwmark 0x6d660002 lookup 0x6d66 pref 100
		tb_run ip -n "$node" -6 route add local ::/0 dev lo table 0x6d66
		tb_sysctl "$node" net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0
	done

	for pod in "${TB_PODS[@]}"; do
		node=${TB_POD_NODE[$pod]}
		pns=$(tb_pod_ns "$pod")
		veth=$(tb_pod_veth "$pod")
		ip=${TB_POD_IP[$pod]}
		gw=${TB_NODE_GW[$node]}
		tb_run ip -n "$node" link add "$veth" type veth peer name eth0 netns "$pns"
		tb_run ip -n "$node" link set "$veth" up
		tb_run ip -n "$node" route add "$ip/32" dev "$veth" src "$gw"
		tb_run ip -n "$pns" addr add "$ip/32" dev eth0
		tb_run ip -n "$pns" link set eth0 up
		tb_run ip -n "$pns" route add "$gw/32" dev eth0 scope link
		tb_run ip -n "$pns" route add default via "$gw" dev eth0 src "$ip"
	done
}

tb_cgroups_up() {
	local root pod
	root=$(tb_cgroot create) || tb_die "no cgroup v2 hierarchy and cannot mount one at $TB_CG_OWN"
	for pod in "${TB_PODS[@]}"; do
		tb_run mkdir "$root/$(tb_pod_ns "$pod")"
	done
}

# The mesh CA under $TB_STATE/ca, then per node a config dir holding the CA
# certificate, the trust domain, the node's own identity (the tunnel server
# certificate) and the identities of the pods it hosts (the source agent
# presents the pod's identity as its client certificate).
tb_certs_up() {
	local node pod dir
	[ -x "$MFCTL" ] || tb_die "$MFCTL is not built (make mfctl)"
	tb_run "$MFCTL" --config-dir "$TB_STATE/ca" ca init --trust-domain "$TB_TD" >/dev/null
	for node in "${TB_NODES[@]}"; do
		dir=$TB_STATE/$node
		# cert issue --out makes $dir a complete agent config dir: it
		# copies ca.crt and trust-domain there too (never ca.key).
		tb_run "$MFCTL" --config-dir "$TB_STATE/ca" cert issue \
			--identity "$(tb_node_id "$node")" --out "$dir" >/dev/null
		for pod in "${TB_PODS[@]}"; do
			[ "${TB_POD_NODE[$pod]}" = "$node" ] || continue
			tb_run "$MFCTL" --config-dir "$TB_STATE/ca" cert issue \
				--identity "${TB_POD_ID[$pod]}" --out "$dir" >/dev/null
		done
	done
}

cmd_up() {
	local net_only=0 agents=0 policy=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--net-only) net_only=1 ;;
		--agents) agents=1 ;;
		--apply) policy=${2:?--apply needs a file}; shift ;;
		*) tb_die "up: unknown option $1" ;;
		esac
		shift
	done
	[ "$(id -u)" = 0 ] || tb_die "must run as root"
	# A failed or interrupted earlier run may have left pieces behind.
	cmd_down
	tb_run mkdir -p "$TB_STATE"
	tb_bpffs || tb_die "bpffs is not mounted at $TB_BPFFS and cannot be mounted"
	tb_net_up
	tb_cgroups_up
	[ "$net_only" = 1 ] && { tb_log "up (network only)"; return 0; }
	tb_certs_up
	[ -n "$policy" ] && cmd_apply "$policy"
	[ "$agents" = 1 ] && cmd_agents_start
	tb_log "up"
}

# ---- agents ----------------------------------------------------------------

cmd_agents_start() {
	local node log pid iface args deadline
	local nodes=("${TB_NODES[@]}")
	declare -A from
	[ -x "$AGENT" ] || tb_die "$AGENT is not built (make agent)"
	# Some nodes only (an agent restarted by a test): by name.
	if [ $# -gt 0 ]; then
		nodes=()
		for node in "$@"; do
			node=$(tb_resolve "$node") || tb_die "agents-start: unknown node"
			case "$node" in mf-node-*) ;; *) tb_die "agents-start: $node is no node" ;; esac
			nodes+=("$node")
		done
	fi
	for node in "${nodes[@]}"; do
		[ -d "$TB_STATE/$node" ] || tb_die "no config dir for $node: run up first"
		tb_agent_pid "$node" >/dev/null && tb_die "agent on $node already running"
		log=$TB_STATE/$node/agent.log
		# The log is appended to across restarts: only lines after this
		# one count as this agent's.
		from[$node]=$(($( (wc -l <"$log") 2>/dev/null || echo 0) + 1))
		# Each node keeps its own last-applied policy, as a real node
		# does in /var/lib/meshforge.
		args=(--node "$node" --bpf-root "$TB_BPFFS/$node" --config-dir "$TB_STATE/$node"
			--state-dir "$TB_STATE/$node/state")
		for iface in $(tb_node_pod_ifaces "$node"); do
			args+=(--pod-iface "$iface")
		done
		# The wire is the node's uplink: its firewall runs there.
		args+=(--uplink "${TB_NODE_WIRE[$node]}")
		# One event loop unless asked (MF_AGENT_THREADS): the tests
		# count limits, pools and per-loop metrics of one loop, and
		# the agent's own default (a loop per CPU) would make them
		# depend on the machine.
		args+=(--threads "${MF_AGENT_THREADS:-1}")
		# MeshMetric's Prometheus ports on the node's address, where
		# a scraper on the wire reaches them.
		args+=(--metrics-address "${TB_NODE_ADDR[$node]}")
		# shellcheck disable=SC2206 # MF_AGENT_ARGS is split on purpose
		args+=(${MF_AGENT_ARGS:-})
		# fd 9 may be a caller's lock; the agent must not keep it held.
		# The agents' restore at start takes mfctl's lock in the
		# testbed's run dir, not the host's /run/meshforge.
		# shellcheck disable=SC2086 # MF_AGENT_WRAP is split on purpose
		MF_RUN_DIR=$TB_RUN nsenter --net="/run/netns/$node" -- ${MF_AGENT_WRAP:-} "$AGENT" "${args[@]}" \
			>>"$log" 2>&1 </dev/null 9<&- &
		echo $! >"$TB_STATE/$node/agent.pid"
	done
	for node in "${nodes[@]}"; do
		log=$TB_STATE/$node/agent.log
		pid=$(cat "$TB_STATE/$node/agent.pid")
		deadline=$((SECONDS + TB_READY_TIMEOUT))
		while ! tail -n +"${from[$node]}" "$log" 2>/dev/null | grep -q 'event=ready'; do
			if ! tb_alive "$pid"; then
				tb_log "agent on $node exited before ready; log:"
				tail -n 30 "$log" >&2
				tb_die "agent on $node failed to start"
			fi
			[ "$SECONDS" -lt "$deadline" ] ||
				tb_die "agent on $node not ready after ${TB_READY_TIMEOUT}s (see $log)"
			sleep 0.1
		done
		tb_log "agent on $node ready (pid $pid)"
	done
}

cmd_agents_stop() {
	local node pid
	for node in "${TB_NODES[@]}"; do
		pid=$(tb_agent_pid "$node") || continue
		tb_stop_pid "$pid"
		rm -f "$TB_STATE/$node/agent.pid"
	done
}

cmd_apply() {
	local file=${1:?apply needs a policy file} node
	[ -x "$MFCTL" ] || tb_die "$MFCTL is not built (make mfctl)"
	tb_bpffs || tb_die "bpffs is not mounted at $TB_BPFFS"
	for node in "${TB_NODES[@]}"; do
		# With the node's agent up, apply returns once the agent serves
		# the new policy: asked at its admin port, in the node's netns.
		if tb_agent_pid "$node" >/dev/null; then
			tb_run tb_nsexec "$node" "$MFCTL" --bpf-root "$TB_BPFFS/$node" \
				--state-dir "$TB_STATE/$node/state" --run-dir "$TB_RUN" \
				apply -f "$file" --wait
		else
			tb_run "$MFCTL" --bpf-root "$TB_BPFFS/$node" \
				--state-dir "$TB_STATE/$node/state" --run-dir "$TB_RUN" \
				apply -f "$file"
		fi
	done
}

# ---- down ------------------------------------------------------------------

tb_rmdir_cgroup() {
	local dir=$1 n=50
	[ -d "$dir" ] || return 0
	# A killed process leaves its cgroup a moment after it is reaped.
	while ! rmdir "$dir" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { tb_log "cannot remove cgroup $dir"; return 1; }
		sleep 0.1
	done
}

cmd_down() {
	local ns pod node root all=() rc=0
	[ "$(id -u)" = 0 ] || tb_die "must run as root"
	# Ctrl-C reaches the whole process group, down included: finish the
	# cleanup (every wait in it is bounded) rather than leave half a bed.
	trap '' INT TERM
	cmd_agents_stop
	for pod in "${TB_PODS[@]}"; do all+=("$(tb_pod_ns "$pod")"); done
	all+=("${TB_NODES[@]}")
	tb_kill_netns_pids "${all[@]}"
	for ns in "${all[@]}"; do
		[ -e "/run/netns/$ns" ] || continue
		ip netns del "$ns" || rc=1
	done
	if root=$(tb_cgroot); then
		for pod in "${TB_PODS[@]}"; do
			tb_rmdir_cgroup "$root/$(tb_pod_ns "$pod")" || rc=1
		done
	fi
	if [ -f "$TB_STATE/mounted-cgroup2" ]; then
		umount "$TB_CG_OWN" 2>/dev/null && rmdir "$TB_CG_OWN" 2>/dev/null
	fi
	[ -f "$TB_STATE/made-run-meshforge" ] && rmdir /run/meshforge 2>/dev/null
	if [ "$(tb_fstype "$TB_BPFFS")" = bpf_fs ]; then
		for node in "${TB_NODES[@]}"; do
			[ -e "$TB_BPFFS/$node" ] || continue
			rm -rf "${TB_BPFFS:?}/$node" || rc=1
		done
	fi
	rm -rf "$TB_STATE"
	return $rc
}

# ---- exec / status ---------------------------------------------------------

cmd_exec() {
	local ns root
	[ $# -ge 2 ] || tb_die "usage: exec NAME CMD..."
	ns=$(tb_resolve "$1") || tb_die "exec: unknown name $1"
	shift
	[ -e "/run/netns/$ns" ] || tb_die "exec: $ns does not exist (testbed not up?)"
	case "$ns" in
	mf-pod-*)
		root=$(tb_cgroot) || tb_die "exec: no cgroup v2 hierarchy"
		# This shell moves first; exec keeps its pid, so the command and
		# everything it forks stay in the pod's cgroup.
		echo $$ >"$root/$ns/cgroup.procs" || tb_die "exec: cannot enter cgroup $root/$ns"
		;;
	esac
	exec nsenter --net="/run/netns/$ns" -- "$@"
}

cmd_status() {
	local ns node pid up=1
	for ns in "${TB_NODES[@]}" mf-pod-a1 mf-pod-a2 mf-pod-b1 mf-pod-b2; do
		if [ -e "/run/netns/$ns" ]; then
			printf '%-10s %s\n' "$ns" "$(ip -n "$ns" -4 -br addr show | awk '$1 != "lo" {print $1, $3}' | tr '\n' ' ')"
		else
			printf '%-10s absent\n' "$ns"
			up=0
		fi
	done
	for node in "${TB_NODES[@]}"; do
		if pid=$(tb_agent_pid "$node"); then
			printf 'agent %-10s pid %s\n' "$node" "$pid"
		else
			printf 'agent %-10s not running\n' "$node"
		fi
	done
	[ "$up" = 1 ]
}

cmd_pid() {
	local node
	node=$(tb_resolve "${1:?pid needs a node}") || tb_die "pid: unknown node $1"
	tb_agent_pid "$node"
}

cmd_cgroup() {
	local ns root
	ns=$(tb_resolve "${1:?cgroup needs a pod}") || tb_die "cgroup: unknown pod $1"
	root=$(tb_cgroot) || return 1
	echo "$root/$ns"
}

main() {
	local cmd=${1:-}
	[ $# -gt 0 ] && shift
	case "$cmd" in
	up) cmd_up "$@" ;;
	down) cmd_down ;;
	agents-start) cmd_agents_start "$@" ;;
	agents-stop) cmd_agents_stop ;;
	apply) cmd_apply "$@" ;;
	exec) cmd_exec "$@" ;;
	status) cmd_status ;;
	pid) cmd_pid "$@" ;;
	cgroup) cmd_cgroup "$@" ;;
	*)
		sed -n '/^# usage:/,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2
		exit 2
		;;
	esac
}

main "$@"
