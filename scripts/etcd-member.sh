# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The one spelling of an etcd member on loopback that the store's tests
# and bench start (Debian's etcd-server), sourced by them.
#
# etcd_member NAME DATA_DIR CLIENT_URL PEER_URL CLUSTER LOG [FLAG...]
#   starts member NAME in the background: clients on CLIENT_URL (http://
#   or https://, advertised as it is), peers on PEER_URL, in the cluster
#   CLUSTER (NAME=PEER_URL,... of every member; "" for a member alone),
#   its data in DATA_DIR, its output appended to LOG, zap's errors only;
#   FLAGs are etcd's own (--initial-cluster-token, TLS, limits).  Its pid
#   in ETCD_MEMBER_PID.  Standard input is /dev/null and fd 9 (the test
#   bed's lock) is closed, so a member outliving its starter holds
#   neither.
etcd_member() {
	local name=$1 dir=$2 client=$3 peer=$4 cluster=${5:-$1=$4} log=$6
	shift 6
	etcd --name "$name" --data-dir "$dir" \
		--listen-client-urls "$client" --advertise-client-urls "$client" \
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
		--initial-cluster "$cluster" \
		--logger zap --log-level error "$@" >>"$log" 2>&1 </dev/null 9<&- &
	ETCD_MEMBER_PID=$!
}
