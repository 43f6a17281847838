#!/usr/bin/env bash
#   acks-soak.sh - issue 10's full-size runs: test_delivery's tests (the
#   producer library against the real workers) at the sizes the issue
#   names, with a summary of their figures.
#
#   tests/soak/acks-soak.sh [BUILD_DIR]        (default: build)
#
#   - ingest killed: 3 producers x 100,000 events, audit-ingest SIGKILLed
#     10 times at random moments and restarted; once at 2,000 events/s per
#     producer and once at 10,000 (6,000/s and 30,000/s in all, the rates
#     of the adversarial run), AUDIT_SOAK_RATES; and once at
#     2,000/s each with audit-ingest left down 1 s after each kill;
#   - ingest down: audit-ingest stopped for 5 s while 3 producers publish
#     at 2,000 events/s each (3 x 100,000 events);
#   - producer killed: a producer process of 100,000 events SIGKILLed 10
#     times mid-stream and restarted on its outbox;
#   - rejections (test_rejections): as in CI.
#   Any AUDIT_SOAK_* variable set in the environment wins (see the head of
#   tests/integration/test_delivery.c). Exit status: the tests'.
set -eu -o pipefail

build=${1:-build}
bin=$build/tests/test_delivery
if [ ! -x "$bin" ] || [ ! -x "$build/tests/test_publisher" ] || [ ! -x "$build/tests/test_rejections" ]; then
    echo "build first: cmake --build $build --target test_delivery test_rejections" >&2
    exit 2
fi
export AUDIT_SOAK_EVENTS=${AUDIT_SOAK_EVENTS:-100000}
export AUDIT_SOAK_KILLS=${AUDIT_SOAK_KILLS:-10}
rates=${AUDIT_SOAK_RATES:-2000 10000}
export AUDIT_SOAK_OUTAGE_EVENTS=${AUDIT_SOAK_OUTAGE_EVENTS:-100000}
export AUDIT_SOAK_PRODUCER_EVENTS=${AUDIT_SOAK_PRODUCER_EVENTS:-100000}
export AUDIT_SOAK_PRODUCER_KILLS=${AUDIT_SOAK_PRODUCER_KILLS:-10}

log=$(mktemp /tmp/acks-soak.XXXXXX)
echo "acks-soak: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(uname -sr)"
echo "load before: $(uptime)"
started=$(date +%s)
status=0
#   run PROGRAM FILTER: one of the suites' tests, its output into the log
run () {
    "$build/tests/$1" --jobs 1 --timeout 1800 --verbose --filter "$2" >>"$log" 2>&1 || status=$?
}
for rate in $rates; do
    AUDIT_SOAK_RATE=$rate run test_delivery 'delivery/ingest_killed*'
done
AUDIT_SOAK_RATE=2000 AUDIT_SOAK_RESTART_DELAY_MS=1000 run test_delivery 'delivery/ingest_killed*'
run test_delivery 'delivery/ingest_down*'
run test_delivery 'delivery/producer_killed*'
run test_rejections 'rejections/*'
elapsed=$(( $(date +%s) - started ))
echo "load after:  $(uptime)"
echo
#   One block per test: its "soak:" line, one figure a line
grep '^soak: ' "$log" | sed 's/^soak: //' | while read -r line; do
    for pair in $line; do
        printf '  %-22s %s\n' "${pair%%=*}" "${pair#*=}"
    done
    echo
done
grep -E '^\[(PASS|FAIL)\]|^\[----\] .*(Assert|:[0-9]+:)' "$log" || true
echo "total: ${elapsed} s, exit status ${status}, full log: $log"
exit "$status"
