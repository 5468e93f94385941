#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the whole suite: C test programs under $O/tests, then the shell tests
# under tests/integration.  Every program prints one line per case:
#   PASS: name | FAIL: name | SKIP: name: reason
# A program that exits non-zero without printing a FAIL line counts as one
# failure of its own.  Ends with the line "N passed, N failed, N skipped".
# With --unit, only the C test programs run (no testbed).
set -u
unit_only=0
[ "${1:-}" = --unit ] && unit_only=1
top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
cd "$top" || exit 2

pass=0 fail=0 skip=0
logdir="$O/test-logs"
mkdir -p "$logdir"

run_one() {
	local name=$1; shift
	local log="$logdir/$(echo "$name" | tr '/' '_').log"
	local start=$SECONDS rc
	"$@" >"$log.out" 2>"$log" </dev/null
	rc=$?
	local p f s
	p=$(grep -c '^PASS: ' "$log.out")
	f=$(grep -c '^FAIL: ' "$log.out")
	s=$(grep -c '^SKIP: ' "$log.out")
	grep -E '^(PASS|FAIL|SKIP): ' "$log.out"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name (exit $rc, no case reported a failure)"
		f=1
	fi
	if [ "$f" -gt 0 ]; then
		# What the test said of its failures first: the agents' logs
		# that an integration test dumps at its end would push them
		# out of the tail.
		echo "---- $name: stderr without agent log lines (first 40) ----"
		grep -v -e '^ts=' -e '^---- .* agent.log ' "$log" | head -n 40
		echo "---- $name: stderr (last 40 lines) ----"
		tail -n 40 "$log"
		echo "----"
	fi
	printf '  (%s: %ds)\n' "$name" $((SECONDS - start))
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

for t in $(find "$O/tests" -type f -perm -u+x -name 'test_*' 2>/dev/null | sort); do
	run_one "${t#"$O/tests/"}" "$t"
done
for t in tests/integration/test_*.sh; do
	[ "$unit_only" = 1 ] && break
	[ -f "$t" ] || continue
	run_one "${t#tests/}" bash "$t"
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
