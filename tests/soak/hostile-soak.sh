#!/usr/bin/env bash
#   hostile-soak.sh - issue 12's hostile run again, items 1 and 2, in the
#   shapes of the issue, against the real workers on loopback:
#     - mq flood: 10,000 mq messages of 256 KiB -> ingest's peak RSS;
#     - frames: one message of 300 frames of 1 MiB to ingest and to query,
#       and one of 3,000 frames of 128 KiB (what query's frame limit
#       lets in) to query -> their peak RSS, and the connections the
#       memory guard dropped (README "Memory bounds");
#     - exports: 60 exports of 50,000 rows never read -> query's peak RSS;
#     - hog: one DEALER keeping 3,000 stats requests outstanding for 20 s
#       -> its answers, and another client's health p50/p99/max meanwhile;
#     - fd limit: both workers started under `ulimit -n 256`, 600
#       connections to each for 10 s -> each worker's CPU, and health on
#       a connection it had before.
#   Each figure is printed with the bound it is held to.
#
#   tests/soak/hostile-soak.sh [BUILD_DIR]        (default: build)
#   Needs /usr/bin/python3 with python3-zmq (Debian) and sqlite3.
set -eu -o pipefail

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
if ! $py -c 'import zmq' 2>/dev/null || ! command -v sqlite3 >/dev/null; then
    echo "hostile-soak: needs python3-zmq and sqlite3 (apt-get install python3-zmq sqlite3)" >&2
    exit 2
fi
work=$(mktemp -d /tmp/hostile-soak.XXXXXX)
secret=hostile-soak-secret-0123456789abcdef-xyz
export AUDIT_JWT_SECRET=$secret AUDIT_SIGNING_KEY_FILE=$work/log_signing_key AUDIT_LOG_LEVEL=warn
port () { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ingest_ep=tcp://127.0.0.1:$(port); ack_ep=tcp://127.0.0.1:$(port); query_ep=tcp://127.0.0.1:$(port)
pids=()
cleanup () { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

#   start [PREFIX...]: both workers on a fresh data directory
start () {
    rm -rf "$work/data"
    "$@" "$build/bin/audit-ingest" --data-dir "$work/data" --ingest-endpoint "$ingest_ep" \
        --ack-endpoint "$ack_ep" 2>>"$work/ingest.log" &
    ingest=$!
    sleep 0.5
    "$@" "$build/bin/audit-query" --data-dir "$work/data" --query-endpoint "$query_ep" 2>>"$work/query.log" &
    query=$!
    pids+=("$ingest" "$query")
    sleep 1
}
stop () { kill "$ingest" "$query"; wait "$ingest" "$query" 2>/dev/null || true; }
hwm_mib () { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
count () { sqlite3 "$work/data/$1" "$2" 2>/dev/null || echo 0; }
wait_count () {     # DB SQL WANT SECONDS
    local until=$(( $(date +%s) + $4 ))
    while [ "$(count "$1" "$2")" -lt "$3" ] && [ "$(date +%s)" -lt "$until" ]; do sleep 0.5; done
    count "$1" "$2"
}

echo "hostile-soak: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(uname -sr), commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo -)"
echo "load before: $(uptime)"
started=$(date +%s)

start
t0=$(date +%s)
$py "$here/hostile.py" mqflood "$ingest_ep" 10000 262144
stored=$(wait_count queue.db 'SELECT count(*) FROM message' 10000 300)
echo "soak: scenario=mq_flood stored=$stored of=10000 seconds=$(( $(date +%s) - t0 )) ingest_peak_rss_mib=$(hwm_mib "$ingest") bound_mib=128"
stop

#   Fresh workers: VmHWM is the peak of a process's life
start
$py "$here/hostile.py" frames "$ingest_ep" 300 1048576 pub
$py "$here/hostile.py" frames "$query_ep" 300 1048576 dealer
$py "$here/hostile.py" frames "$query_ep" 3000 131072 dealer
sleep 1.5     # counters reach audit.db at least once a second
echo "soak: scenario=frames_300x1MiB_and_3000x128KiB ingest_peak_rss_mib=$(hwm_mib "$ingest") query_peak_rss_mib=$(hwm_mib "$query") bound_mib=128" \
     "dropped_ingest=$(count audit.db "SELECT coalesce(sum(value),0) FROM counter WHERE name='ingest.connections_dropped_for_memory'")" \
     "dropped_query=$(count audit.db "SELECT coalesce(sum(value),0) FROM counter WHERE name='query.connections_dropped_for_memory'")"
stop

start
$py "$here/hostile.py" seed "$ingest_ep" 100000 org-soak
wait_count audit.db 'SELECT count(*) FROM event' 100000 120 >/dev/null
$py "$here/hostile.py" exports "$query_ep" "$secret" org-soak 60 15
echo "soak: scenario=exports_60_unread query_peak_rss_mib=$(hwm_mib "$query") bound_mib=128"
$py "$here/hostile.py" hog "$query_ep" "$secret" 3000 20 | sed 's/^soak: /soak: scenario=hog_3000 bound_p99_ms=50 /'
echo "soak: scenario=after_hog query_peak_rss_mib=$(hwm_mib "$query")"
stop

start sh -c 'ulimit -n 256 && exec "$@"' sh
#   A client connected before the flood: health every 5 ms throughout it
$py "$here/hostile.py" health "$query_ep" 1500 >"$work/fd-health.txt" &
kept=$!
sleep 1
$py "$here/hostile.py" conns "$query_ep" 600 12 &
flood_query=$!
$py "$here/hostile.py" conns "$ingest_ep" 600 12 &
flood_ingest=$!
sleep 3
qa=$(ticks "$query"); ia=$(ticks "$ingest")
sleep 5
qb=$(ticks "$query"); ib=$(ticks "$ingest")
wait "$kept" || true
sed 's/^soak: /soak: scenario=fd_limit_kept_client /' "$work/fd-health.txt"
wait "$flood_query" "$flood_ingest" || true
hz=$(getconf CLK_TCK)
echo "soak: scenario=fd_limit_256_600conns query_cpu_pct=$(( (qb - qa) * 100 / (5 * hz) )) ingest_cpu_pct=$(( (ib - ia) * 100 / (5 * hz) ))" \
     "refused_query=$(count audit.db "SELECT coalesce(sum(value),0) FROM counter WHERE name='query.connections_refused'")" \
     "refused_ingest=$(count audit.db "SELECT coalesce(sum(value),0) FROM counter WHERE name='ingest.connections_refused'")"
stop
echo "load after:  $(uptime)"
echo "elapsed: $(( $(date +%s) - started )) s"
grep -h 'connection_cap\|connections_refused\|replies_dropped' "$work/query.log" "$work/ingest.log" | tail -6 || true
