#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what meshforge needs on Debian 12, idempotently:
#  - build and test packages from Debian's archive (node-llhttp for the
#    generated C of llhttp, which the Makefile compiles into the agent;
#    libcurl for mfctl's mesh store client, the agent's exporters and its
#    MeshMetric application scrapes, protobuf-c-compiler and
#    libprotobuf-c-dev for the OTLP messages the agent sends (proto/),
#    etcd-server and etcd-client for the store's tests, docs/store.md;
#    protobuf-compiler and python3-grpcio for the tests' OpenTelemetry
#    collector;
#    testssl.sh for the scan of the tunnel port, docs/tls-scan.md);
#  - podman and runc, which `make image` builds the container image with
#    and tests/integration/test_container.sh runs it with (runc: crun
#    refuses hosts whose cgroup v1 layout has a cgroup2 with controllers
#    beside it), and python3-yaml, with which the tests read the
#    Kubernetes manifests (deploy/kubernetes/) and
#    scripts/kuma-conformance.py reads Kuma's tests, and
#    python3-jsonschema, with which that script checks specs against
#    Kuma's OpenAPI schemas;
#  - wolfSSL built from Debian's source package with AES-NI and Intel
#    assembly into build/wolfssl (31x faster AES-GCM than the binary package).
#    If that build fails we say so loudly and fall back to libwolfssl-dev.
#  - with --bench, also the benchmark peers and tools (`make bench`):
#    nginx, haproxy, wrk, gnuplot-nox and hping3 (the SYN flood), without letting their packages
#    start a service in the host's namespace;
#  - with --kernel-matrix, also what `make kernel-matrix` boots kernels
#    with: qemu-system-x86 and busybox-static (the kernels themselves are
#    downloaded by scripts/kernel-matrix.sh into build/).
#
# usage: deps.sh [--bench] [--kernel-matrix]
set -euo pipefail

bench=0
kernel_matrix=0
for arg in "$@"; do
	case "$arg" in
	--bench) bench=1 ;;
	--kernel-matrix) kernel_matrix=1 ;;
	*) echo "usage: deps.sh [--bench] [--kernel-matrix]" >&2; exit 2 ;;
	esac
done

top=$(cd "$(dirname "$0")/.." && pwd)
prefix="$top/build/wolfssl"
stamp="$prefix/.meshforge-built"

pkgs=(
	make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libmnl-dev
	libxxhash-dev liburing-dev libyaml-dev libnghttp2-dev node-llhttp pkg-config
	libcurl4-openssl-dev protobuf-c-compiler libprotobuf-c-dev
	etcd-server etcd-client protobuf-compiler python3-grpcio
	autoconf automake libtool dpkg-dev
	iproute2 curl openssl tcpdump python3 procps util-linux slowhttptest testssl.sh
	nghttp2-server
	podman runc python3-yaml python3-jsonschema
	prometheus
)

log() { printf 'deps: %s\n' "$*" >&2; }

need_install() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 0
	done
	return 1
}

apt_updated=0
apt_update() {
	[ "$apt_updated" = 1 ] && return 0
	# A third-party source that is unreachable must not stop us: Debian's
	# own indexes are what we need, and apt-get install tells if they are not there.
	apt-get update -qq || log "apt-get update reported errors; continuing"
	apt_updated=1
}

if need_install "${pkgs[@]}"; then
	had_prometheus=0
	need_install prometheus || had_prometheus=1
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
	# The tests run prometheus (and its promtool) themselves: the
	# server the package starts under systemd is not ours to keep.
	if [ "$had_prometheus" = 0 ] && [ -d /run/systemd/system ]; then
		systemctl disable --now prometheus.service >/dev/null 2>&1 || true
	fi
fi

build_wolfssl() {
	local src="$top/build/wolfssl-src"
	if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null &&
	   ! grep -rqs '^deb-src ' /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null; then
		log "adding a deb-src entry for Debian's source packages"
		cat > /etc/apt/sources.list.d/meshforge-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		apt_updated=0
	fi
	apt_update
	rm -rf "$src" && mkdir -p "$src"
	(cd "$src" && apt-get source --download-only -qq wolfssl) || return 1
	local orig
	orig=$(ls "$src"/wolfssl_*.orig.tar.* 2>/dev/null | head -n 1)
	[ -n "$orig" ] || return 1
	tar -C "$src" -xf "$orig" || return 1
	local dir
	dir=$(find "$src" -mindepth 1 -maxdepth 1 -type d -name 'wolfssl-*' | head -n 1)
	[ -n "$dir" ] || return 1
	(
		cd "$dir"
		./autogen.sh >/dev/null 2>&1
		# distro: the API set Debian ships (OpenSSL compat, certgen, alt names,
		# session tickets, TLS 1.3); then the assembly that makes AES-GCM fast.
		./configure -q --enable-distro --enable-aesni --enable-intelasm \
			--enable-sp-asm --enable-certgen --enable-certext \
			--enable-session-ticket --enable-tls13 \
			--disable-examples --disable-crypttests \
			--prefix="$prefix" >/dev/null
		make -s -j"$(nproc)" >/dev/null 2>&1
		rm -rf "$prefix"
		make -s install >/dev/null
		# A distro build does not install options.h, but applications must
		# include it first to see the same configuration the library has.
		install -m 0644 wolfssl/options.h "$prefix/include/wolfssl/options.h"
	) || return 1
	touch "$stamp"
}

if [ ! -f "$stamp" ]; then
	log "building wolfSSL from Debian's source package into $prefix"
	if ! build_wolfssl; then
		cat >&2 <<'LOUD'
deps: ********************************************************************
deps: WARNING: building wolfSSL from source FAILED.
deps: Falling back to Debian's libwolfssl-dev: it works, but AES-GCM is
deps: about 30x slower. Benchmarks from this machine are not representative.
deps: ********************************************************************
LOUD
		rm -rf "$prefix"
		apt_update
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libwolfssl-dev
	fi
fi

# ---- benchmark peers (--bench) ---------------------------------------------
bench_pkgs=(nginx haproxy wrk gnuplot-nox hping3 rt-tests)
policy_rc=/usr/sbin/policy-rc.d
policy_saved=$policy_rc.meshforge-saved
policy_ours=0

# pids of the nginx and haproxy binaries running now, one per line.
peer_pids() {
	local p exe
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case "$exe" in
		/usr/sbin/nginx | /usr/sbin/haproxy) echo "${p#/proc/}" ;;
		esac
	done
	return 0
}

policy_restore() {
	[ "$policy_ours" = 1 ] || return 0
	rm -f "$policy_rc"
	if [ -e "$policy_saved" ]; then mv -f "$policy_saved" "$policy_rc"; fi
	policy_ours=0
}

install_bench() {
	local before after pid
	need_install "${bench_pkgs[@]}" || return 0
	# Debian's nginx and haproxy start their service from postinst; a
	# policy-rc.d answering 101 ("action forbidden") stops that.  Keep a
	# policy that already forbids everything; otherwise put ours in its
	# place for the install and give the old one back after.
	if ! { [ -x "$policy_rc" ] && { "$policy_rc" nginx start >/dev/null 2>&1; [ $? = 101 ]; }; }; then
		if [ -e "$policy_rc" ]; then mv -f "$policy_rc" "$policy_saved"; fi
		policy_ours=1
		trap policy_restore EXIT
		printf '#!/bin/sh\n# meshforge deps.sh: no service starts during the install\nexit 101\n' >"$policy_rc"
		chmod 0755 "$policy_rc"
	fi
	before=$(peer_pids)
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${bench_pkgs[@]}"
	policy_restore
	# Belt and braces: a server the install started anyway (an init system
	# that ignores policy-rc.d) must not stay in the host's namespace.
	# Only pids that were not there before, so nobody else's server dies.
	after=$(peer_pids)
	for pid in $after; do
		grep -qx "$pid" <<<"$before" && continue
		[ "$(readlink "/proc/$pid/ns/net")" = "$(readlink /proc/self/ns/net)" ] || continue
		log "stopping $(readlink "/proc/$pid/exe") (pid $pid) that the install started"
		kill -TERM "$pid" 2>/dev/null || true
	done
	# The packages enable their services for the next boot; this machine's
	# nginx and haproxy are benchmark peers only, started by scripts/bench.sh.
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now nginx haproxy >/dev/null 2>&1 || true
	fi
}

[ "$bench" = 1 ] && install_bench

# ---- kernels under QEMU (--kernel-matrix) -----------------------------------
# No service, nothing started: an install as any other.
kernel_matrix_pkgs=(qemu-system-x86 busybox-static)
if [ "$kernel_matrix" = 1 ] && need_install "${kernel_matrix_pkgs[@]}"; then
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${kernel_matrix_pkgs[@]}"
fi
log "ready"
