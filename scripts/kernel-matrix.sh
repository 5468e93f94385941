#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make kernel-matrix`: boots Debian's kernel packages under QEMU and runs
# the tests that exercise the kernel itself inside each one, so the BPF
# programs are loaded, verified and run by the kernels users have, not only
# by the one this machine runs.
#
# For each kernel package (default: the one linux-image-amd64 depends on,
# Debian 12's 6.1; KM_PACKAGES="pkg ..." names others of the archive, or
# .deb files already downloaded):
#   1. apt-get download, dpkg-deb -x into $O/kernel-matrix/<package>/;
#   2. an initramfs of our own: busybox (busybox-static), bash for
#      tests/run.sh, ip and sysctl, bpftool, the test programs of KM_TESTS
#      and the agent with every shared library ldd names, the BPF objects,
#      and the modules the tests need from the package (veth, clsact,
#      cls_bpf); its /init mounts proc, sysfs, devtmpfs, bpffs, cgroup2,
#      loads the modules, runs `meshforge-agent --check-kernel` and then
#      tests/run.sh --unit over KM_TESTS, and powers off;
#   3. qemu-system-x86_64 with TCG (no KVM is needed; none is used), the
#      serial console into $O/kernel-matrix/<package>/console.log, under
#      a timeout (KM_TIMEOUT seconds, default 900).
# The console's PASS/FAIL lines and run.sh's "N passed, N failed" line are
# the results.  Fails when a kernel does not boot, the run does not finish,
# the agent refuses the kernel or any test fails.  Not part of `make check`
# (a TCG boot is slow); scripts/deps.sh --kernel-matrix installs what it
# needs.
#
# usage: kernel-matrix.sh      (O=build by default, run from the tree)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
work="$O/kernel-matrix"
timeout_s=${KM_TIMEOUT:-900}
tests=${KM_TESTS:-"bpf/test_mf_pod lib/test_pmap lib/test_mapio agent/test_kreq"}
modules="kernel/drivers/net/veth.ko kernel/net/sched/sch_ingress.ko
	 kernel/net/sched/cls_bpf.ko"
agent="$O/bin/meshforge-agent"

log() { printf 'kernel-matrix: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in qemu-system-x86_64 busybox apt-get dpkg-deb ldd gzip; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is missing: scripts/deps.sh --kernel-matrix installs it"
done
# busybox-static: the guest has no libc of its own for a dynamic one.
busybox=$(command -v busybox)
ldd "$busybox" >/dev/null 2>&1 &&
	die "$busybox is dynamically linked: install busybox-static"

for t in $tests; do
	[ -x "$O/tests/$t" ] || die "$O/tests/$t is not built (make tests)"
done
[ -x "$agent" ] || die "$agent is not built (make)"

packages=${KM_PACKAGES:-}
if [ -z "$packages" ]; then
	packages=$(apt-cache depends linux-image-amd64 2>/dev/null |
		   sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
	[ -n "$packages" ] ||
		die "apt-cache names no package behind linux-image-amd64 (apt-get update?)"
fi

# ---- the initramfs ----------------------------------------------------------

# Copies every shared library @1 needs into the tree @2, at the paths ldd
# gives (the loader and rpaths find them where they were built).
copy_libs() {
	local bin=$1 root=$2 lib
	for lib in $(ldd "$bin" | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

# @1 at its own path in the tree @2, with its libraries.
copy_with_libs() {
	install -D -m 0755 "$1" "$2$1"
	copy_libs "$1" "$2"
}

# The guest's /init: prints its results on the serial console and powers
# off.  Every line the host reads starts at column 0.
write_init() {
	cat >"$1" <<'INIT'
#!/bin/busybox sh
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
exec </dev/console >/dev/console 2>&1
echo "km: kernel $(uname -r) up at $(cut -d' ' -f1 /proc/uptime)s"
for m in /lib/modules/*/*.ko; do
	insmod "$m" || echo "km: insmod $m failed"
done
[ -e /sys/kernel/btf/vmlinux ] || echo "km: no /sys/kernel/btf/vmlinux"
/mf/build/bin/meshforge-agent --check-kernel
echo "km: check-kernel exit $?"
cd /mf && O=/mf/build bash tests/run.sh --unit
echo "km: run.sh exit $?"
echo "km: done at $(cut -d' ' -f1 /proc/uptime)s"
sync
poweroff -f
INIT
	chmod 0755 "$1"
}

build_initramfs() {
	local kdir=$1 kver=$2 root="$1/root" m t a
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc} \
		 "$root/lib/modules/$kver" "$root/mf/tests" "$root/mf/build/bpf"
	install -m 0755 "$busybox" "$root/bin/busybox"
	for a in $("$busybox" --list); do
		[ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
	done
	# iproute2's ip (busybox's cannot make a veth pair), and bash for
	# run.sh and as /bin/sh: busybox's shell runs its own applets before
	# anything on PATH, so system("ip ...") would get busybox's ip.
	rm -f "$root/bin/ip" "$root/bin/sh"
	copy_with_libs "$(readlink -f "$(command -v ip)")" "$root"
	copy_with_libs "$(readlink -f "$(command -v bash)")" "$root"
	ln -s "$(readlink -f "$(command -v bash)")" "$root/bin/sh"
	copy_with_libs /usr/sbin/bpftool "$root"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
	for m in $modules; do
		[ -f "$kdir/pkg/lib/modules/$kver/$m" ] ||
			die "$kver has no $m"
		install -m 0644 "$kdir/pkg/lib/modules/$kver/$m" \
			"$root/lib/modules/$kver/"
	done
	install -m 0755 "$top/tests/run.sh" "$root/mf/tests/run.sh"
	for t in $tests; do
		copy_libs "$O/tests/$t" "$root"
		install -D -m 0755 "$O/tests/$t" "$root/mf/build/tests/$t"
	done
	copy_libs "$agent" "$root"
	install -D -m 0755 "$agent" "$root/mf/build/bin/meshforge-agent"
	install -m 0644 "$O"/bpf/*.bpf.o "$root/mf/build/bpf/"
	write_init "$root/init"
	(cd "$root" && find . | LC_ALL=C sort |
	 "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 >"$kdir/initramfs.gz"
}

# ---- one kernel ---------------------------------------------------------------

# Results of one boot, for the summary.
summary=()

run_kernel() {
	local pkg=$1 kdir deb="" kver vmlinuz console start rc=0
	local line pass fail skip secs
	case "$pkg" in
	*.deb)
		[ -f "$pkg" ] || die "$pkg: no such file"
		deb=$(realpath "$pkg")
		pkg=$(basename "$pkg")
		pkg=${pkg%%_*}
		;;
	esac
	kdir="$work/$pkg"
	mkdir -p "$kdir/deb"
	[ -n "$deb" ] ||
		deb=$(ls "$kdir"/deb/"$pkg"_*.deb 2>/dev/null | tail -n 1 || true)
	if [ -z "$deb" ]; then
		log "$pkg: apt-get download"
		(cd "$kdir/deb" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
			die "$pkg: apt-get download failed"
		deb=$(ls "$kdir"/deb/"$pkg"_*.deb | tail -n 1)
	fi
	if [ ! -d "$kdir/pkg/boot" ]; then
		rm -rf "$kdir/pkg"
		dpkg-deb -x "$deb" "$kdir/pkg"
	fi
	vmlinuz=$(ls "$kdir"/pkg/boot/vmlinuz-* | head -n 1)
	kver=${vmlinuz##*/vmlinuz-}
	build_initramfs "$kdir" "$kver"
	console="$kdir/console.log"
	# A QEMU that does not start must not leave the last run's results
	# to be read as this one's.
	rm -f "$console" "$console.txt"
	log "$pkg: booting $kver under TCG (timeout ${timeout_s}s; console in $console)"
	start=$SECONDS
	timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
		-accel tcg -cpu max -m 1G -smp 2 -nodefaults -no-reboot \
		-display none -monitor none -serial "file:$console" \
		-kernel "$vmlinuz" -initrd "$kdir/initramfs.gz" \
		-append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=3 mitigations=off" ||
		rc=$?
	secs=$((SECONDS - start))
	tr -d '\r' <"$console" >"$console.txt"
	grep -E '^(km: |PASS: |FAIL: |SKIP: |---- |[0-9]+ passed, )|event=kernel' \
		"$console.txt" || true
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$console.txt" | tail -n 1 || true)
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		summary+=("$kver: FAILED: no end within ${timeout_s}s")
		return 1
	fi
	if ! grep -q '^km: done' "$console.txt" || [ -z "$line" ]; then
		summary+=("$kver: FAILED: the run did not finish (qemu exit $rc; see $console)")
		return 1
	fi
	pass=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
	fail=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
	skip=$(sed -nE 's/.*, ([0-9]+) skipped.*/\1/p' <<<"$line")
	if ! grep -q '^km: check-kernel exit 0$' "$console.txt"; then
		fail=$((fail + 1))
		summary+=("$kver: the agent refused this kernel")
	fi
	summary+=("$kver: $pass passed, $fail failed, ${skip:-0} skipped in ${secs}s")
	[ "$fail" -eq 0 ]
}

failed=0
for pkg in $packages; do
	run_kernel "$pkg" || failed=1
done
echo "kernel-matrix:"
printf '  %s\n' "${summary[@]}"
exit "$failed"
