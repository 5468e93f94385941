#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the meshforge container image with podman from nothing but this
# machine's files: no base image is pulled.  It assembles a root file
# system in $O/image/rootfs:
#   /usr/local/bin/meshforge-agent, mfctl     the binaries of `make`
#   /usr/local/bin/meshforge-policy-sync      deploy/container/
#   /usr/lib/meshforge/bpf/*.bpf.o            the BPF objects (the binaries
#                                             embed them; here for bpftool)
#   /bin/sh (dash), /bin/sleep                what the sync script runs
#   every shared library these link, as ldd resolves them here (wolfSSL
#   from build/wolfssl included), with an ld.so.cache made by ldconfig
#   /etc/meshforge, /run/meshforge, /var/lib/meshforge, /sys/fs/bpf,
#   /sys/fs/cgroup, /tmp                      mount points
# and builds deploy/container/Containerfile (FROM scratch) over it.
#
# usage: scripts/image.sh [TAG]       (default localhost/meshforge:<version>)
# Environment: O (build dir), PODMAN (the podman command, with global
# options such as --root: tests build into a store of their own).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
read -r -a podman <<<"${PODMAN:-podman}"
version=$(git -C "$top" describe --always --dirty 2>/dev/null || echo dev)
tag=${1:-localhost/meshforge:$version}

die() { printf 'image: %s\n' "$*" >&2; exit 1; }

command -v "${podman[0]}" >/dev/null || die "podman is not installed (scripts/deps.sh installs it)"
bins=("$O/bin/meshforge-agent" "$O/bin/mfctl")
for b in "${bins[@]}"; do
	[ -x "$b" ] || die "$b is not built (make)"
done
shopt -s nullglob
objs=("$O"/bpf/*.bpf.o)
[ ${#objs[@]} -gt 0 ] || die "no BPF objects in $O/bpf (make)"

ctx=$O/image
root=$ctx/rootfs
rm -rf "$ctx"
mkdir -p "$root"/usr/{bin,lib/x86_64-linux-gnu,lib64,local/bin,lib/meshforge/bpf} \
	"$root"/{etc/meshforge,run/meshforge,var/lib/meshforge,sys/fs/bpf,sys/fs/cgroup,proc,dev,tmp}
chmod 1777 "$root/tmp"
# Debian 12's merged /usr, so the paths ldd prints resolve in the image.
ln -s usr/bin "$root/bin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"

install -m 0755 "${bins[@]}" "$top/deploy/container/meshforge-policy-sync" "$root/usr/local/bin/"
install -m 0644 "${objs[@]}" "$root/usr/lib/meshforge/bpf/"
install -m 0755 "$(readlink -f /bin/sh)" "$root/usr/bin/sh"
install -m 0755 "$(readlink -f /bin/sleep)" "$root/usr/bin/sleep"

# The libraries: where ldd found them if that is a system directory, else
# (our wolfSSL, whose rpath names the build tree) the multiarch one.
libs() {
	ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
}
for f in "${bins[@]}" /bin/sh /bin/sleep; do
	libs "$f"
done | sort -u | while read -r lib; do
	case "$lib" in
	/lib/* | /lib64/* | /usr/lib/* | /usr/lib64/*) dst=$root$lib ;;
	*) dst=$root/usr/lib/x86_64-linux-gnu/$(basename "$lib") ;;
	esac
	# A soname is often a link: the file it names, under the soname.
	cp -L "$lib" "$dst"
done
echo /usr/lib/x86_64-linux-gnu >"$root/etc/ld.so.conf"
ldconfig -r "$root" || die "ldconfig could not make the image's ld.so.cache"

cp "$top/deploy/container/Containerfile" "$ctx/Containerfile"
"${podman[@]}" build --quiet --network=none --pull=never \
	--label "org.opencontainers.image.version=$version" \
	-t "$tag" -f "$ctx/Containerfile" "$ctx" >/dev/null
printf 'image: %s (%s)\n' "$tag" "$(du -sh "$root" | cut -f1)"
