#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what meshforge needs on Debian 12, idempotently:
#  - build and test packages from Debian's archive;
#  - wolfSSL built from Debian's source package with AES-NI and Intel
#    assembly into build/wolfssl (31x faster AES-GCM than the binary package).
#    If that build fails we say so loudly and fall back to libwolfssl-dev.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
prefix="$top/build/wolfssl"
stamp="$prefix/.meshforge-built"

pkgs=(
	make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libmnl-dev
	liburing-dev libyaml-dev libnghttp2-dev pkg-config
	autoconf automake libtool dpkg-dev
	iproute2 curl openssl tcpdump python3 procps util-linux
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
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
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
log "ready"
