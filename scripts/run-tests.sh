#!/usr/bin/env bash
# Runs the Swift Testing suites for `make test` and prints "N passed, N failed".
#
#   scripts/run-tests.sh LOG [swift test arguments...]
#
# Without arguments the suites run in three processes, one after the other:
#   1. the suites whose fixtures call the openssl CLI and other tools synchronously (KeyFileTests, SigningTests,
#      PKCS11SigningTests, PKIMessagesTests): each such call holds one of the cooperative pool's threads, and a
#      2-core machine has two;
#   2. ClockDisciplineTests, which check that probes and chronyc calls end within their timeouts: alone, so that
#      what they measure is the code and not a starved pool;
#   3. everything else (the daemons, the integration tests, the pollers).
# Run together, the first group starved the others for tens of seconds. With arguments (e.g. --filter X) one
# process runs exactly what was asked.
set -uo pipefail

log=$1
shift
swift=${SWIFT:-swift}
blocking='KeyFileTests|SigningTests|PKCS11SigningTests|PKIMessagesTests'
: >"$log"

run() {
    echo "== swift test --skip-build $*" | tee -a "$log"
    "$swift" test --skip-build "$@" 2>&1 | tee -a "$log"
    return "${PIPESTATUS[0]}"
}

rc=0
if [ $# -gt 0 ]; then
    run "$@" || rc=$?
else
    run --filter "$blocking" || rc=$?
    run --filter ClockDisciplineTests || rc=$?
    run --skip "$blocking|ClockDisciplineTests" || rc=$?
fi

total=0
while read -r count; do total=$((total + count)); done < <(grep -aoE 'Test run with [0-9]+ tests?' "$log" | grep -oE '[0-9]+')
failed=$(awk '/✘ Test .* failed after/ && !/Test run with/ && !seen[$0]++ {n++} END {print n+0}' "$log")
echo
echo "== summary"
grep -aE '✘ Test .*(recorded an issue|failed after)|: error: ' "$log" | grep -av 'Test run with' | awk '!seen[$0]++' \
    | head -n 40 | sed 's/^/     /' || true
echo "$((total - failed)) passed, $failed failed" | tee "$log.counts"
exit $rc
