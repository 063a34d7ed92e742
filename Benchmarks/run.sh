#!/usr/bin/env bash
# Sigillum benchmark harness, in three parts, each next to references measured the same way on
# the same machine in the same run:
#   TSA:  RFC 3161 stamps/s of the release sigillumd, next to
#     - HTTP alone:    a private nginx answering the same POST with a static body of a token's size
#     - signing alone: `openssl speed` ECDSA P-256 signatures/s on all cores
#   OCSP: RFC 6960 answers/s (POST and GET from the pre-signed cache, live-signed POST with a
#         nonce), next to
#     - `openssl ocsp -index … -port` serving the same CA (the common open-source responder)
#     - a private nginx serving the same pre-signed DER response as a static file
#   HSM:  RFC 3161 stamps/s with the TSU key on a SoftHSM2 token (PKCS#11 signer), next to the
#         software signer with the same key (imported into the token) and certificate, both daemons
#         up at once and their wrk runs interleaved
#   CARD: RFC 3161 stamps/s with the TSU key on an emulated PIV card (the test suite's emulator in
#         vpcd, behind a pcscd of its own), at a few concurrencies: one card in 9C (PIN before every
#         signature), 9D (PIN once), a pool of two cards, and the same with a simulated real card's
#         signature time; next to the software signer with the same key, measured in the same run.
#         Only with BENCH_ONLY=card (it needs the debug test build, for the emulator)
# Everything runs on 127.0.0.1 (openssl ocsp, which can only bind every address, runs in a
# private network namespace), is bounded in time, and every process started here is stopped
# on exit (by PID / its own process group). See Benchmarks/README.md.
#
# Environment:
#   BENCH_DURATION     wrk duration per run, seconds (default 15; "15s" accepted)
#   BENCH_WARMUP       warm-up run against sigillumd before measuring, seconds (default 3; 0 = none)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_CONNECTIONS  connection counts to measure (default "16 64")
#   BENCH_ONLY         all (default: TSA, OCSP, then HSM part) | tsa | ocsp | hsm | card | references
#                      (no daemon measured) | sigillumd (no references)
#   BENCH_HSM_SESSIONS PKCS#11 session pool of the token signer in the HSM part (default 4)
#   BENCH_SOFTHSM_MODULE  the SoftHSM2 module (default /usr/lib/softhsm/libsofthsm2.so)
#   BENCH_CARD_CONNECTIONS  connection counts of the card part (default "1 4 16"; at most 32, the card queue)
#   BENCH_CARD_DELAY_MS  a real card's time per signature, simulated in the card part's "slow" rows
#                      (default 100; 0 = no slow rows)
#   BENCH_TOKEN_SIZE   body size nginx serves when no daemon runs (references mode; default 1500)
#   BENCH_SPEED_SECONDS  seconds per `openssl speed` phase (default 5)
#   BENCH_OCSP_MULTI   worker processes for the `openssl ocsp` reference (-multi N; default 2, 0 = one process)
#   BENCH_OCSP_ANY_ADDRESS=1  run the `openssl ocsp` reference without a network namespace; it then
#                      listens on every address for the length of its runs (default 0: skip it instead
#                      when no namespace can be made)
#   BENCH_KEEP=1       keep the temp dir (logs, wrk outputs, state) and print its path
#   SIGILLUMD          daemon binary (default .build/release/sigillumd)
set -euo pipefail

# --- things the Swift side defines; adjust here if they change -------------------------
LEDGER_FILE=ledger.sqlite          # inside --state-dir
LEDGER_TABLE=tsa_audit             # one row per issued token
TSA_PATH=/tsa                      # public listener: POST application/timestamp-query
HEALTH_PATH=/health                # admin listener: 200 when ready to serve
OCSP_PATH=/ocsp                    # public listener: POST application/ocsp-request, GET /ocsp/{base64}
# --dev state: STATE/pki/{root-ca,issuing-ca,ocsp,ee-good}.pem, STATE/pki/index.txt, STATE/keys/ocsp.key
# ---------------------------------------------------------------------------------------

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

DURATION=${BENCH_DURATION:-15}
DURATION=${DURATION%s}
WARMUP=${BENCH_WARMUP:-3}
WARMUP=${WARMUP%s}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-16 64}
ONLY=${BENCH_ONLY:-all}
SPEED_SECONDS=${BENCH_SPEED_SECONDS:-5}
OCSP_MULTI=${BENCH_OCSP_MULTI:-2}
OCSP_ANY_ADDRESS=${BENCH_OCSP_ANY_ADDRESS:-0}
SIGILLUMD=${SIGILLUMD:-.build/release/sigillumd}
RESULTS_DIR=$ROOT/Benchmarks/results
RESULTS_MD=$RESULTS_DIR/latest.md

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

[[ $DURATION =~ ^[0-9]+$ && $DURATION -gt 0 ]] || die "BENCH_DURATION must be a number of seconds, got '${BENCH_DURATION}'"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a number of seconds"
[[ $THREADS =~ ^[0-9]+$ ]] || die "BENCH_THREADS must be a number"
[[ $SPEED_SECONDS =~ ^[0-9]+$ ]] || die "BENCH_SPEED_SECONDS must be a number"
[[ $OCSP_MULTI =~ ^[0-9]+$ ]] || die "BENCH_OCSP_MULTI must be a number (0 = no -multi)"
for c in $CONNECTIONS; do [[ $c =~ ^[0-9]+$ && $c -ge $THREADS ]] || die "bad connection count '$c' (must be >= threads)"; done
case $ONLY in
    all) RUN_TSA=1; RUN_OCSP=1; RUN_DAEMON=1; RUN_REFS=1; RUN_HSM=1 ;;
    tsa) RUN_TSA=1; RUN_OCSP=0; RUN_DAEMON=1; RUN_REFS=1; RUN_HSM=0 ;;
    ocsp) RUN_TSA=0; RUN_OCSP=1; RUN_DAEMON=1; RUN_REFS=1; RUN_HSM=0 ;;
    hsm) RUN_TSA=0; RUN_OCSP=0; RUN_DAEMON=1; RUN_REFS=0; RUN_HSM=1 ;;
    card) RUN_TSA=0; RUN_OCSP=0; RUN_DAEMON=1; RUN_REFS=0; RUN_HSM=0 ;;
    references) RUN_TSA=1; RUN_OCSP=1; RUN_DAEMON=0; RUN_REFS=1; RUN_HSM=0 ;;
    sigillumd) RUN_TSA=1; RUN_OCSP=1; RUN_DAEMON=1; RUN_REFS=0; RUN_HSM=1 ;;
    *) die "BENCH_ONLY must be all, tsa, ocsp, hsm, card, references or sigillumd" ;;
esac
# The card part runs only when asked for: it needs the debug test build (the emulator is test support).
RUN_CARD=0
[[ $ONLY == card ]] && RUN_CARD=1
CARD_CONNECTIONS=${BENCH_CARD_CONNECTIONS:-1 4 16}
CARD_DELAY_MS=${BENCH_CARD_DELAY_MS:-100}
for c in $CARD_CONNECTIONS; do
    [[ $c =~ ^[0-9]+$ && $c -ge 1 && $c -le 32 ]] ||
        die "bad card connection count '$c' (1 to 32: more wait than the card queue takes, and are refused)"
done
[[ $CARD_DELAY_MS =~ ^[0-9]+$ && $CARD_DELAY_MS -le 2000 ]] || die "BENCH_CARD_DELAY_MS must be 0 to 2000"
HSM_SESSIONS=${BENCH_HSM_SESSIONS:-4}
SOFTHSM_MODULE=${BENCH_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
[[ $HSM_SESSIONS =~ ^[0-9]+$ && $HSM_SESSIONS -ge 1 && $HSM_SESSIONS -le 64 ]] || die "BENCH_HSM_SESSIONS must be 1 to 64"

# --- tools ------------------------------------------------------------------------------
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: run scripts/install-deps.sh bench (or make bench)"; }
need wrk; need openssl; need curl; need sqlite3; need setsid
NGINX=$(command -v nginx || true)
[[ -n $NGINX ]] || { [[ -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx; }   # /usr/sbin is not on a user's PATH
if [[ $RUN_REFS -eq 1 && -z $NGINX ]]; then die "'nginx' not found: run scripts/install-deps.sh bench"; fi
if [[ $RUN_DAEMON -eq 1 && ! -x $SIGILLUMD ]]; then
    die "$SIGILLUMD not found: run 'make bench' (it builds with 'swift build -c release' first)"
fi
# The OCSP references serve the daemon's development PKI and its pre-signed response, so even
# BENCH_ONLY=references starts the daemon for the OCSP part (setup only, not measured) when it exists.
OCSP_SETUP_DAEMON=0
OCSP_REFS_SKIPPED=""
# The HSM part needs SoftHSM2 (scripts/install-deps.sh bench installs it): BENCH_ONLY=hsm fails
# without it, `all` and `sigillumd` skip the part and say so.
HSM_SKIPPED=""
if [[ $RUN_HSM -eq 1 ]] && { [[ ! -f $SOFTHSM_MODULE ]] || ! command -v softhsm2-util >/dev/null 2>&1; }; then
    [[ $ONLY == hsm ]] && die "SoftHSM2 not found ($SOFTHSM_MODULE, softhsm2-util): run scripts/install-deps.sh bench"
    HSM_SKIPPED="HSM part skipped: SoftHSM2 not installed ($SOFTHSM_MODULE, softhsm2-util)"
    log "$HSM_SKIPPED"
    RUN_HSM=0
fi
# The card part: pcscd, vpcd, and the test build whose test support holds the card emulator.
SWIFT=${SWIFT:-swift}
CARD_TESTS=.build/debug/sigillumPackageTests.xctest
if [[ $RUN_CARD -eq 1 ]]; then
    [[ -x /usr/sbin/pcscd && -f /usr/lib/pcsc/drivers/serial/libifdvpcd.so ]] ||
        die "pcscd or vsmartcard-vpcd not installed: run scripts/install-deps.sh test"
    [[ -e $CARD_TESTS ]] || die "$CARD_TESTS not found: the card part borrows the tests' PIV card emulator; run 'swift build --build-tests' first"
    command -v "$SWIFT" >/dev/null 2>&1 || die "'$SWIFT' not found (the card emulator runs through swift test)"
fi
if [[ $RUN_OCSP -eq 1 ]]; then
    if [[ -x $SIGILLUMD ]]; then
        OCSP_SETUP_DAEMON=1
    else
        OCSP_REFS_SKIPPED="OCSP references skipped: no daemon binary ($SIGILLUMD) to make the development PKI and the pre-signed response"
        log "$OCSP_REFS_SKIPPED"
    fi
fi

# --- temp dir, process bookkeeping, cleanup ---------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sigillum-bench.XXXXXX")
# How busy the machine is without us: share of all cores used during one second (from /proc/stat).
cpu_busy() {
    local a b
    a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit}' /proc/stat 2>/dev/null) || return 0
    sleep 1
    b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit}' /proc/stat 2>/dev/null) || return 0
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; idle = y[2] - x[2]
        if (busy + idle > 0) printf "%d%%", 100 * busy / (busy + idle) }'
}
BUSY_START=$(cpu_busy)
if [[ -n $BUSY_START && ${BUSY_START%\%} -ge 25 ]]; then
    log "WARNING: the CPUs are ${BUSY_START} busy before the harness starts: other work will skew the figures"
fi
DAEMON_PID=""
HSM_PID=""     # the daemon signing on the token (HSM part)
DAEMON_LOG=$TMP/sigillumd.log
NGINX_PID=""
OCSPD_PID=""   # the `openssl ocsp` responder (reference)
CHILD_PID=""   # the wrk / openssl speed run in progress
CARD_PIDS=""   # the daemons signing on the emulated card (card part)
CARD_HOST_PID=""   # swift test running the card emulator and its pcscd (card part)
CARD_HOST_DIR=""

# run_child OUT DIR CMD...: run CMD in DIR with output to OUT, in the background, and wait
# for it. Waiting with the `wait` builtin lets a Ctrl-C / SIGTERM stop the harness at once
# (bash defers traps until a foreground command ends); cleanup then stops the child.
run_child() {
    local out=$1 dir=$2 rc=0
    shift 2
    (cd "$dir" && exec "$@") >"$out" 2>&1 </dev/null &
    CHILD_PID=$!
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=""
    return "$rc"
}

# Stop a process we started with setsid: it leads its own process group, so the group
# (the process and any children, e.g. nginx workers) gets the signal. TERM, then KILL after 10 s.
stop_pid() {
    local pid=$1 name=$2 i
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    local target=$pid
    [[ $(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ') == "$pid" ]] && target=-$pid
    kill -TERM -- "$target" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
        kill -KILL -- "$target" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# The card emulator stops its cards and pcscd when asked through its folder; if it does not within
# 15 s, its process group (swift test, the test process, pcscd) is stopped like the others.
stop_card_host() {
    [[ -n $CARD_HOST_PID ]] || return 0
    if kill -0 "$CARD_HOST_PID" 2>/dev/null; then
        [[ -n $CARD_HOST_DIR && -d $CARD_HOST_DIR ]] && : >"$CARD_HOST_DIR/stop"
        local i
        for ((i = 0; i < 150; i++)); do
            kill -0 "$CARD_HOST_PID" 2>/dev/null || break
            sleep 0.1
        done
    fi
    stop_pid "$CARD_HOST_PID" "card emulator (swift test)"
    CARD_HOST_PID=""
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $CHILD_PID ]]; then
        kill -TERM "$CHILD_PID" 2>/dev/null || true
        wait "$CHILD_PID" 2>/dev/null || true
    fi
    stop_pid "$DAEMON_PID" sigillumd
    stop_pid "$HSM_PID" "sigillumd (token)"
    stop_pid "$NGINX_PID" nginx
    stop_pid "$OCSPD_PID" "openssl ocsp"
    local p
    for p in $CARD_PIDS; do stop_pid "$p" "sigillumd (card)"; done
    stop_card_host
    if [[ $rc -ne 0 ]]; then
        [[ -s $DAEMON_LOG ]] && { log "last lines of the sigillumd log:"; tail -n 30 "$DAEMON_LOG" >&2; }
        [[ -s $TMP/sigillumd-hsm-pkcs11.log ]] && { log "last lines of the token daemon's log:"; tail -n 20 "$TMP/sigillumd-hsm-pkcs11.log" >&2; }
        [[ -s $TMP/nginx/error.log ]] && { log "last lines of the nginx error log:"; tail -n 10 "$TMP/nginx/error.log" >&2; }
        [[ -s $TMP/openssl-ocsp.log ]] && { log "last lines of the openssl ocsp log:"; tail -n 10 "$TMP/openssl-ocsp.log" >&2; }
        [[ -s $TMP/card-host.log ]] && { log "last lines of the card emulator's log:"; tail -n 20 "$TMP/card-host.log" >&2; }
    fi
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        log "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free TCP port on 127.0.0.1, distinct from the ones already handed out.
USED_PORTS=" "
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        if command -v python3 >/dev/null 2>&1; then
            p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        else
            p=$((20000 + RANDOM % 30000))
        fi
        [[ $USED_PORTS == *" $p "* ]] && continue
        port_in_use "$p" && continue
        USED_PORTS+="$p "
        echo "$p"
        return 0
    done
    die "no free port found"
}

# Wait until URL answers 2xx, or fail after TIMEOUT seconds (or when PID dies).
wait_http() {
    local url=$1 timeout=$2 pid=$3 name=$4 start=$SECONDS
    until curl -sf --max-time 2 -o /dev/null "$url"; do
        kill -0 "$pid" 2>/dev/null || die "$name exited before it was ready"
        ((SECONDS - start < timeout)) || die "$name not ready at $url after ${timeout}s"
        sleep 0.25
    done
}

COMMANDS=()
record() { COMMANDS+=("$*"); }

# run_wrk NAME URL CONNECTIONS DURATION SCRIPT [WRK ARGS...]: runs wrk (SCRIPT "-" = plain GET),
# keeps its output in $TMP/wrk-NAME.txt. WRK_PREFIX (an array, normally empty) runs it through
# another command (nsenter into the openssl ocsp responder's network namespace).
WRK_PREFIX=()
WRK_NOTE=""
run_wrk() {
    local name=$1 url=$2 conns=$3 dur=$4 script=$5 out=$TMP/wrk-$1.txt
    shift 5
    local threads=$((THREADS < conns ? THREADS : conns))   # wrk wants at least one connection per thread
    local cmd=(wrk -t "$threads" -c "$conns" -d "${dur}s" --timeout 5s --latency)
    [[ $script == - ]] || cmd+=(-s "$script")
    cmd+=("$@" "$url")
    log "wrk $name: ${cmd[*]}"
    run_child "$out" "$TMP" timeout $((dur + 60)) "${WRK_PREFIX[@]}" "${cmd[@]}" || { cat "$out" >&2; die "wrk failed for $name"; }
    [[ $name == *warmup* ]] || record "${cmd[*]}${WRK_NOTE:+  $WRK_NOTE}"
}
wrk_field() { # wrk_field NAME FIELD
    local f=$TMP/wrk-$1.txt
    case $2 in
        rps) awk '$1 == "Requests/sec:" {print $2}' "$f" ;;
        p50) awk '$1 == "50%" {print $2}' "$f" ;;
        p99) awk '$1 == "99%" {print $2}' "$f" ;;
        requests) awk '$2 == "requests" && $3 == "in" {print $1}' "$f" ;;
        # wrk counts every response with a status >= 400 here
        non2xx) awk '/Non-2xx or 3xx responses:/ {n = $NF} END {print n + 0}' "$f" ;;
        errors) awk '/Socket errors:/ {gsub(",", ""); n = $4 + $6 + $8 + $10} END {print n + 0}' "$f" ;;
    esac
}

declare -A RPS P50 P99 REQS NON2XX ERRS
collect() {
    local name=$1
    RPS[$name]=$(wrk_field "$name" rps)
    P50[$name]=$(wrk_field "$name" p50)
    P99[$name]=$(wrk_field "$name" p99)
    REQS[$name]=$(wrk_field "$name" requests)
    NON2XX[$name]=$(wrk_field "$name" non2xx)
    ERRS[$name]=$(wrk_field "$name" errors)
    [[ -n ${RPS[$name]} ]] || { cat "$TMP/wrk-$name.txt" >&2; die "could not parse wrk output for $name"; }
    log "$name: ${RPS[$name]} req/s, p50 ${P50[$name]}, p99 ${P99[$name]}, ${REQS[$name]} requests, non-2xx ${NON2XX[$name]}, socket errors ${ERRS[$name]}"
}

# start_daemon LABEL [ARGS...]: sigillumd --dev [ARGS...] on two free ports, state in $TMP/state (kept
# between the parts: the second start reuses the development PKI and the ledger). Sets PORT, APORT,
# DAEMON_PID.
start_daemon() {
    local label=$1
    shift
    PORT=$(free_port)
    APORT=$(free_port)
    DAEMON_LOG=$TMP/sigillumd-$label.log
    log "starting $SIGILLUMD --dev for the $label part (public 127.0.0.1:$PORT, admin 127.0.0.1:$APORT)"
    setsid "$SIGILLUMD" --dev --state-dir "$TMP/state" --listen "127.0.0.1:$PORT" --admin-listen "127.0.0.1:$APORT" \
        "$@" >"$DAEMON_LOG" 2>&1 </dev/null &
    DAEMON_PID=$!
    record "setsid $SIGILLUMD --dev --state-dir \$TMP/state --listen 127.0.0.1:$PORT --admin-listen 127.0.0.1:$APORT${*:+ $*}"
    wait_http "http://127.0.0.1:$APORT$HEALTH_PATH" 60 "$DAEMON_PID" sigillumd
    log "sigillumd ready (pid $DAEMON_PID)"
}

# start_nginx WHAT: a private nginx (worker_processes 2, no access log, keep-alive without a request
# limit, everything in $TMP/nginx) on a free port. It serves $N/html/tsa at /tsa and $N/html/ocsp at
# /ocsp (POST) and /ocsp/* (GET), whichever exists. Sets NPORT, NGINX_PID.
start_nginx() {
    local what=$1
    NPORT=$(free_port)
    N=$TMP/nginx
    mkdir -p "$N/html" "$N/tmp"
    # When started as root, nginx workers run as "nobody": let them reach the document root
    # (traverse-only on the temp dirs, no listing).
    chmod 711 "$TMP" "$N"
    chmod 755 "$N/html"
    chmod 644 "$N/html/"* 2>/dev/null || true
    cat >"$N/nginx.conf" <<NGX
worker_processes 2;
error_log $N/error.log warn;
pid $N/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $N/tmp/body;
    proxy_temp_path $N/tmp/proxy;
    fastcgi_temp_path $N/tmp/fastcgi;
    uwsgi_temp_path $N/tmp/uwsgi;
    scgi_temp_path $N/tmp/scgi;
    keepalive_requests 100000000;  # like sigillumd: never close a busy keep-alive connection
    keepalive_timeout 75s;
    server {
        listen 127.0.0.1:$NPORT;
        root $N/html;
        location = /ready { return 204; }
        # Static files do not take POST (405); answer it like GET instead: the static body
        # with status 200, the request body read and discarded.
        location = /tsa {
            default_type application/timestamp-reply;
            error_page 405 =200 \$uri;
        }
        # OCSP POST: the pre-signed response (the file "ocsp"), the same trick.
        location = /ocsp {
            default_type application/ocsp-response;
            error_page 405 =200 \$uri;
        }
        # OCSP GET /ocsp/{url-encoded base64}: the same file, with a cache header like sigillumd's.
        location ^~ /ocsp/ {
            default_type application/ocsp-response;
            add_header Cache-Control "max-age=43200, public, no-transform, must-revalidate";
            try_files /ocsp =404;
        }
    }
}
NGX
    log "starting nginx on 127.0.0.1:$NPORT ($what)"
    setsid "$NGINX" -e "$N/error.log" -p "$N" -c "$N/nginx.conf" -g 'daemon off;' >"$N/stdout.log" 2>&1 </dev/null &
    NGINX_PID=$!
    record "nginx -p \$TMP/nginx -c \$TMP/nginx/nginx.conf -g 'daemon off;'  (worker_processes 2, $what; config in Benchmarks/README.md)"
    wait_http "http://127.0.0.1:$NPORT/ready" 20 "$NGINX_PID" nginx
}

# ===================================== TSA part =====================================
TOKEN_SIZE=${BENCH_TOKEN_SIZE:-1500}
TOKEN_SIZE_SOURCE="BENCH_TOKEN_SIZE (no daemon run)"
LEDGER_COUNT=""
EXPECTED_TOKENS=0
INFLIGHT_BOUND=0
if [[ $RUN_TSA -eq 1 || $RUN_HSM -eq 1 || $RUN_CARD -eq 1 ]]; then
    # --- the request ----------------------------------------------------------------------
    head -c 4096 /dev/urandom >"$TMP/data.bin"
    openssl ts -query -data "$TMP/data.bin" -sha256 -cert -no_nonce -out "$TMP/req.tsq" 2>/dev/null
    record "openssl ts -query -data data.bin -sha256 -cert -no_nonce -out req.tsq"
    cat >"$TMP/post.lua" <<LUA
-- POST the bytes of req.tsq as an RFC 3161 query (same request on every call).
local f = assert(io.open("$TMP/req.tsq", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/timestamp-query"
LUA
fi

# --- sigillumd ----------------------------------------------------------------------------
if [[ $RUN_TSA -eq 1 && $RUN_DAEMON -eq 1 ]]; then
    start_daemon tsa
    TSA_URL=http://127.0.0.1:$PORT$TSA_PATH
    curl -sf --max-time 10 --data-binary @"$TMP/req.tsq" -H 'Content-Type: application/timestamp-query' \
        "$TSA_URL" -o "$TMP/resp.tsr" || die "sample request to $TSA_URL failed"
    record "curl -s --data-binary @req.tsq -H 'Content-Type: application/timestamp-query' $TSA_URL -o resp.tsr"
    EXPECTED_TOKENS=1
    status=$(openssl ts -reply -in "$TMP/resp.tsr" -text 2>/dev/null | awk -F': ' '/^Status:/ {print $2; exit}')
    [[ $status == Granted* ]] || die "sample response is not granted (status: '${status:-unparseable}'); see $TMP/resp.tsr"
    TOKEN_SIZE=$(stat -c %s "$TMP/resp.tsr")
    TOKEN_SIZE_SOURCE="sample response from sigillumd"
    log "sample response: status $status, $TOKEN_SIZE bytes"

    if [[ $WARMUP -gt 0 ]]; then
        run_wrk sigillumd-warmup "$TSA_URL" "${CONNECTIONS%% *}" "$WARMUP" post.lua
        collect sigillumd-warmup
        EXPECTED_TOKENS=$((EXPECTED_TOKENS + ${REQS[sigillumd-warmup]} - ${NON2XX[sigillumd-warmup]}))
        INFLIGHT_BOUND=$((INFLIGHT_BOUND + ${CONNECTIONS%% *}))
    fi
    for c in $CONNECTIONS; do
        run_wrk "sigillumd-${c}c" "$TSA_URL" "$c" "$DURATION" post.lua
        collect "sigillumd-${c}c"
        EXPECTED_TOKENS=$((EXPECTED_TOKENS + ${REQS[sigillumd-${c}c]} - ${NON2XX[sigillumd-${c}c]}))
        INFLIGHT_BOUND=$((INFLIGHT_BOUND + c))
    done

    # Every token answered must be in the ledger. wrk counts completed responses only; a
    # request in flight when a run ends may be logged without being counted (at most one
    # per connection per run).
    LEDGER_DB=$TMP/state/$LEDGER_FILE
    [[ -f $LEDGER_DB ]] || die "ledger $LEDGER_DB not found (LEDGER_FILE at the top of $0)"
    LEDGER_COUNT=$(sqlite3 -readonly "$LEDGER_DB" "select count(*) from $LEDGER_TABLE" 2>"$TMP/sqlite.err") || {
        cat "$TMP/sqlite.err" >&2; die "could not count $LEDGER_TABLE in $LEDGER_DB (LEDGER_TABLE at the top of $0)"; }
    record "sqlite3 \$TMP/state/$LEDGER_FILE 'select count(*) from $LEDGER_TABLE'"
    stop_pid "$DAEMON_PID" sigillumd
    DAEMON_PID=""

    bad=0
    for c in $CONNECTIONS; do
        n=${NON2XX[sigillumd-${c}c]}
        [[ $n -eq 0 ]] || { log "FAIL: sigillumd answered $n non-2xx responses at ${c} connections"; bad=1; }
        e=${ERRS[sigillumd-${c}c]}
        [[ $e -eq 0 ]] || log "WARNING: $e socket errors (connect/read/write/timeout) against sigillumd at ${c} connections"
    done
    if [[ ${NON2XX[sigillumd-warmup]:-0} -ne 0 ]]; then
        log "FAIL: sigillumd answered ${NON2XX[sigillumd-warmup]} non-2xx responses during warm-up"; bad=1
    fi
    log "ledger: $LEDGER_COUNT rows in $LEDGER_TABLE; 2xx responses (sample + wrk runs): $EXPECTED_TOKENS"
    if ((LEDGER_COUNT < EXPECTED_TOKENS)); then
        log "FAIL: fewer ledger rows ($LEDGER_COUNT) than tokens answered ($EXPECTED_TOKENS)"; bad=1
        LEDGER_VERDICT="FAIL: $((EXPECTED_TOKENS - LEDGER_COUNT)) answered tokens missing from the ledger"
    elif ((LEDGER_COUNT > EXPECTED_TOKENS + INFLIGHT_BOUND)); then
        log "WARNING: $((LEDGER_COUNT - EXPECTED_TOKENS)) more ledger rows than answered tokens (in-flight bound $INFLIGHT_BOUND)"
        LEDGER_VERDICT="WARNING: $((LEDGER_COUNT - EXPECTED_TOKENS)) rows more than answered tokens (more than the $INFLIGHT_BOUND requests that can be in flight)"
    else
        LEDGER_VERDICT="OK: every answered token is logged ($((LEDGER_COUNT - EXPECTED_TOKENS)) extra rows from requests in flight when wrk stopped; at most $INFLIGHT_BOUND possible)"
    fi
    [[ $bad -eq 0 ]] || die "sigillumd run failed (see above); BENCH_KEEP=1 keeps the logs and wrk outputs"
fi

# --- reference 1: HTTP alone (nginx) -----------------------------------------------------
if [[ $RUN_TSA -eq 1 && $RUN_REFS -eq 1 ]]; then
    mkdir -p "$TMP/nginx/html"
    head -c "$TOKEN_SIZE" /dev/urandom >"$TMP/nginx/html/tsa"
    start_nginx "static $TOKEN_SIZE-byte body at /tsa"
    NGINX_URL=http://127.0.0.1:$NPORT/tsa
    # The POST must get the body back with 200, as from the TSA.
    got=$(curl -s --max-time 5 -o "$TMP/nginx-sample" -w '%{http_code} %{size_download}' \
        --data-binary @"$TMP/req.tsq" -H 'Content-Type: application/timestamp-query' "$NGINX_URL")
    [[ $got == "200 $TOKEN_SIZE" ]] || die "nginx answered the POST with '$got' (want '200 $TOKEN_SIZE')"
    for c in $CONNECTIONS; do
        run_wrk "nginx-${c}c" "$NGINX_URL" "$c" "$DURATION" post.lua
        collect "nginx-${c}c"
        [[ ${NON2XX[nginx-${c}c]} -eq 0 ]] || log "WARNING: nginx answered ${NON2XX[nginx-${c}c]} non-2xx responses"
    done
    stop_pid "$NGINX_PID" nginx
    NGINX_PID=""

    # --- reference 2: signing alone (openssl speed) ----------------------------------------
    CORES=$(nproc)
    speed_cmd=(openssl speed -multi "$CORES" -seconds "$SPEED_SECONDS" ecdsap256)
    log "${speed_cmd[*]} (about $((2 * SPEED_SECONDS)) s)"
    run_child "$TMP/speed.txt" "$TMP" timeout $((4 * SPEED_SECONDS + 60)) "${speed_cmd[@]}" || { cat "$TMP/speed.txt" >&2; die "openssl speed failed"; }
    record "${speed_cmd[*]}"
    SIGN_PER_S=$(awk '/ecdsa \(nistp256\)/ {print $(NF - 1)}' "$TMP/speed.txt" | tail -n 1)
    [[ -n $SIGN_PER_S ]] || { cat "$TMP/speed.txt" >&2; die "could not parse openssl speed output"; }
    log "openssl: $SIGN_PER_S ECDSA P-256 signatures/s on $CORES cores"
fi

# ===================================== OCSP part ====================================
PKI=$TMP/state/pki
KEYS=$TMP/state/keys

# check_ocsp LABEL RESPONSE REQUEST: RESPONSE (DER) must be a successful OCSP response saying
# "good", signed by a responder that chains to the development root, and, when REQUEST has a
# nonce, echo it. Dies otherwise.
check_ocsp() {
    local label=$1 resp=$2 req=$3 text verify qn rn
    text=$(openssl ocsp -respin "$resp" -resp_text -noverify 2>&1) || {
        echo "$text" | head -n 20 >&2; die "$label: the body is not an OCSP response ($resp)"; }
    if ! grep -q 'OCSP Response Status: successful' <<<"$text" || ! grep -q 'Cert Status: good' <<<"$text"; then
        echo "$text" | head -n 30 >&2
        die "$label: the response is not successful / 'Cert Status: good'"
    fi
    verify=$(openssl ocsp -respin "$resp" -reqin "$req" -CAfile "$PKI/root-ca.pem" -verify_other "$PKI/issuing-ca.pem" 2>&1) || true
    grep -q 'Response verify OK' <<<"$verify" || { echo "$verify" >&2; die "$label: the response does not verify"; }
    qn=$(openssl ocsp -reqin "$req" -req_text 2>/dev/null | awk '/OCSP Nonce:/ {getline; gsub(/[ \t]/, ""); print; exit}')
    rn=$(awk '/OCSP Nonce:/ {getline; gsub(/[ \t]/, ""); print; exit}' <<<"$text")
    if [[ -n $qn && $rn != "$qn" ]]; then
        die "$label: the request's nonce $qn is not echoed (response: ${rn:-no nonce})"
    fi
    log "$label: 200, successful, Cert Status: good, signature verified${qn:+, nonce echoed}, $(stat -c %s "$resp") bytes"
}

# ocsp_fetch NAME URL REQUEST|- [PREFIX...]: one request with curl (POST of REQUEST, or GET with
# "-"), optionally through PREFIX (nsenter). Status must be 200 and the type application/ocsp-response;
# the body goes to $TMP/NAME.der.
ocsp_fetch() {
    local name=$1 url=$2 req=$3 got
    shift 3
    local args=(-s --max-time 10 -o "$TMP/$name.der" -w '%{http_code} %{content_type}')
    [[ $req == - ]] || args+=(--data-binary @"$TMP/$req" -H 'Content-Type: application/ocsp-request')
    got=$("$@" curl "${args[@]}" "$url") || true
    [[ $got == "200 application/ocsp-response" ]] || die "$name: $url answered '$got' (want '200 application/ocsp-response')"
}

OCSP_GET_PATH=""
OCSP_RESP_SIZE=""
OCSP_MULTI_USED=""
OCSP_NS_NOTE=""
if [[ $RUN_OCSP -eq 1 && ($RUN_DAEMON -eq 1 || $OCSP_SETUP_DAEMON -eq 1) ]]; then
    measured=$RUN_DAEMON
    start_daemon ocsp
    [[ -f $PKI/issuing-ca.pem && -f $PKI/ee-good.pem && -f $PKI/index.txt && -f $PKI/ocsp.pem && -f $KEYS/ocsp.key ]] ||
        die "the development PKI is not where the harness expects it ($PKI, $KEYS)"
    # --- the requests: nonce-less (answered from the cache) and with a 16-octet nonce (signed live)
    openssl ocsp -issuer "$PKI/issuing-ca.pem" -cert "$PKI/ee-good.pem" -no_nonce -reqout "$TMP/req-nonce-less.der" >/dev/null 2>&1 ||
        die "openssl ocsp could not write the request"
    openssl ocsp -issuer "$PKI/issuing-ca.pem" -cert "$PKI/ee-good.pem" -reqout "$TMP/req-nonce.der" >/dev/null 2>&1 ||
        die "openssl ocsp could not write the request"
    record "openssl ocsp -issuer \$STATE/pki/issuing-ca.pem -cert \$STATE/pki/ee-good.pem -no_nonce -reqout req-nonce-less.der"
    record "openssl ocsp -issuer \$STATE/pki/issuing-ca.pem -cert \$STATE/pki/ee-good.pem -reqout req-nonce.der"
    # GET path: base64 of the DER, url-encoded (RFC 6960 App. A.1)
    OCSP_GET_PATH=$OCSP_PATH/$(base64 -w0 "$TMP/req-nonce-less.der" | sed 's/+/%2B/g; s,/,%2F,g; s/=/%3D/g')
    for kind in nonce-less nonce; do
        cat >"$TMP/ocsp-$kind.lua" <<LUA
-- POST the bytes of req-$kind.der as an OCSP request (same request on every call).
local f = assert(io.open("$TMP/req-$kind.der", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/ocsp-request"
LUA
    done

    SOCSP=http://127.0.0.1:$PORT
    ocsp_fetch ocsp-post-cache "$SOCSP$OCSP_PATH" req-nonce-less.der
    check_ocsp "sigillumd POST (cache)" "$TMP/ocsp-post-cache.der" "$TMP/req-nonce-less.der"
    ocsp_fetch ocsp-get-cache "$SOCSP$OCSP_GET_PATH" -
    check_ocsp "sigillumd GET (cache)" "$TMP/ocsp-get-cache.der" "$TMP/req-nonce-less.der"
    ocsp_fetch ocsp-live "$SOCSP$OCSP_PATH" req-nonce.der
    check_ocsp "sigillumd POST with nonce (live)" "$TMP/ocsp-live.der" "$TMP/req-nonce.der"
    record "curl -s --data-binary @req-nonce-less.der -H 'Content-Type: application/ocsp-request' $SOCSP$OCSP_PATH -o ocsp-post-cache.der   (and req-nonce.der -> ocsp-live.der)"
    record "curl -s $SOCSP$OCSP_GET_PATH -o ocsp-get-cache.der"
    record "openssl ocsp -respin ocsp-*.der -resp_text -noverify | grep 'Cert Status: good'; openssl ocsp -respin ocsp-*.der -reqin req-*.der -CAfile \$STATE/pki/root-ca.pem -verify_other \$STATE/pki/issuing-ca.pem"
    if cmp -s "$TMP/ocsp-post-cache.der" "$TMP/ocsp-get-cache.der"; then
        log "POST and GET answers from the cache are byte-identical"
    else
        log "NOTE: the POST and GET answers from the cache differ (a refresh in between?)"
    fi
    OCSP_RESP_SIZE=$(stat -c %s "$TMP/ocsp-get-cache.der")

    if [[ $measured -eq 1 ]]; then
        OCSP_RUNS=("ocsp-post-cache $OCSP_PATH ocsp-nonce-less.lua" "ocsp-get-cache $OCSP_GET_PATH -" "ocsp-live $OCSP_PATH ocsp-nonce.lua")
        if [[ $WARMUP -gt 0 ]]; then
            run_wrk sigillumd-ocsp-warmup-cache "$SOCSP$OCSP_PATH" "${CONNECTIONS%% *}" "$WARMUP" ocsp-nonce-less.lua
            collect sigillumd-ocsp-warmup-cache
            run_wrk sigillumd-ocsp-warmup-live "$SOCSP$OCSP_PATH" "${CONNECTIONS%% *}" "$WARMUP" ocsp-nonce.lua
            collect sigillumd-ocsp-warmup-live
        fi
        for run in "${OCSP_RUNS[@]}"; do
            read -r kind path script <<<"$run"
            for c in $CONNECTIONS; do
                run_wrk "sigillumd-$kind-${c}c" "$SOCSP$path" "$c" "$DURATION" "$script"
                collect "sigillumd-$kind-${c}c"
            done
        done
    fi
    stop_pid "$DAEMON_PID" sigillumd
    DAEMON_PID=""
    if [[ $measured -eq 1 ]]; then
        bad=0
        for k in "${!NON2XX[@]}"; do
            [[ $k == sigillumd-ocsp-* ]] || continue
            [[ ${NON2XX[$k]} -eq 0 ]] || { log "FAIL: $k: sigillumd answered ${NON2XX[$k]} non-2xx responses"; bad=1; }
            [[ ${ERRS[$k]} -eq 0 ]] || log "WARNING: $k: ${ERRS[$k]} socket errors (connect/read/write/timeout) against sigillumd"
        done
        [[ $bad -eq 0 ]] || die "sigillumd OCSP run failed (see above); BENCH_KEEP=1 keeps the logs and wrk outputs"
    fi

    if [[ $RUN_REFS -eq 1 ]]; then
        # --- reference 1: openssl ocsp -index … -port ------------------------------------------
        # OpenSSL 3.0 takes only a port number and listens on every address ([::]). To stay on
        # loopback it runs in a private network namespace (a user namespace when not root; only
        # "lo" inside), and curl/wrk join that namespace with nsenter.
        IP_CMD=$(command -v ip || true)
        for p in /usr/sbin/ip /sbin/ip; do   # /usr/sbin is not on a user's PATH
            if [[ -z $IP_CMD && -x $p ]]; then IP_CMD=$p; fi
        done
        use_ns=0
        if [[ -n $IP_CMD ]] && command -v unshare >/dev/null && command -v nsenter >/dev/null &&
            unshare --user --map-root-user --net -- "$IP_CMD" link set lo up >/dev/null 2>&1; then
            use_ns=1
        elif [[ $OCSP_ANY_ADDRESS == 1 ]]; then
            log "WARNING: no private network namespace (unshare/nsenter/ip); openssl ocsp listens on every address during its runs (BENCH_OCSP_ANY_ADDRESS=1)"
        else
            OCSP_REFS_SKIPPED="openssl ocsp reference skipped: it can only listen on every address and no private network namespace could be made (needs unshare, nsenter, ip; BENCH_OCSP_ANY_ADDRESS=1 runs it anyway)"
            log "$OCSP_REFS_SKIPPED"
        fi
        # start_openssl_ocsp MULTI: the responder on $OPORT (-multi MULTI when > 0), in its own network
        # namespace when use_ns=1; waits until it answers. Sets OCSPD_PID and NS (the nsenter prefix).
        # Not setsid: with -multi the parent makes its own process group (setpgid), which a session
        # leader cannot do (it exits at once); stop_pid then signals that group.
        start_openssl_ocsp() {
            local multi=$1 i code
            ocsp_cmd=(openssl ocsp -index "$PKI/index.txt" -port "$OPORT" -rsigner "$PKI/ocsp.pem" -rkey "$KEYS/ocsp.key"
                -CA "$PKI/issuing-ca.pem" -nmin 60 -ignore_err)
            if [[ $multi -gt 0 ]]; then ocsp_cmd+=(-multi "$multi"); fi
            if [[ $use_ns -eq 1 ]]; then
                # shellcheck disable=SC2016  # $0 and $@ belong to the inner sh
                unshare --user --map-root-user --net -- sh -c '"$0" link set lo up && exec "$@"' "$IP_CMD" "${ocsp_cmd[@]}" \
                    >>"$TMP/openssl-ocsp.log" 2>&1 </dev/null &
                OCSPD_PID=$!
                NS=(nsenter --preserve-credentials --user --net --target "$OCSPD_PID" --)
                OCSP_NS_NOTE="in a private network namespace: unshare --user --map-root-user --net; ip link set lo up"
            else
                "${ocsp_cmd[@]}" >>"$TMP/openssl-ocsp.log" 2>&1 </dev/null &
                OCSPD_PID=$!
                NS=()
                OCSP_NS_NOTE="listening on every address (BENCH_OCSP_ANY_ADDRESS=1)"
            fi
            if [[ $multi -gt 0 ]]; then mdesc="-multi $multi"; else mdesc="one process"; fi
            log "started openssl ocsp (pid $OCSPD_PID, port $OPORT, $mdesc) $OCSP_NS_NOTE"
            for ((i = 0; i < 80; i++)); do
                kill -0 "$OCSPD_PID" 2>/dev/null || return 1
                code=$("${NS[@]}" curl -s --max-time 2 -o /dev/null -w '%{http_code}' --data-binary @"$TMP/req-nonce-less.der" \
                    -H 'Content-Type: application/ocsp-request' "http://127.0.0.1:$OPORT/" 2>/dev/null) || true
                if [[ $code == 200 ]]; then return 0; fi
                sleep 0.25
            done
            return 1
        }
        if [[ $use_ns -eq 1 || $OCSP_ANY_ADDRESS == 1 ]]; then
            OPORT=$(free_port)
            if start_openssl_ocsp "$OCSP_MULTI"; then
                OCSP_MULTI_USED=$OCSP_MULTI
            elif [[ $OCSP_MULTI -gt 0 ]]; then
                log "openssl ocsp ($mdesc) did not come up; trying one process. Log:"
                tail -n 5 "$TMP/openssl-ocsp.log" >&2
                stop_pid "$OCSPD_PID" "openssl ocsp"
                OCSPD_PID=""
                start_openssl_ocsp 0 || die "openssl ocsp did not start"
                OCSP_MULTI_USED=0
            else
                die "openssl ocsp did not start"
            fi
            ocsp_desc="${ocsp_cmd[*]}"
            record "${ocsp_desc//$TMP\/state/\$STATE}  ($OCSP_NS_NOTE; a fresh one for each wrk run)"
            ocsp_fetch openssl-ocsp-sample "http://127.0.0.1:$OPORT/" req-nonce-less.der "${NS[@]}"
            check_ocsp "openssl ocsp POST" "$TMP/openssl-ocsp-sample.der" "$TMP/req-nonce-less.der"
            # openssl ocsp (3.0) answers HTTP/1.0 and closes after every response, whatever the
            # request's Connection header says: wrk reconnects for every request (no error, no
            # Connection: close needed). When wrk stops, connections it has opened but not yet
            # written to are closed; an openssl ocsp worker that accepts one spins on it forever
            # (CLOSE_WAIT, 100 % CPU; openssl/openssl#23934, #31129), so every run gets a fresh responder.
            first=1
            for c in $CONNECTIONS; do
                if [[ $first -eq 0 ]]; then
                    start_openssl_ocsp "$OCSP_MULTI_USED" || die "openssl ocsp did not start again"
                fi
                first=0
                WRK_PREFIX=("${NS[@]}")
                if [[ $use_ns -eq 1 ]]; then WRK_NOTE="(run with nsenter --preserve-credentials --user --net --target <openssl ocsp pid>)"; fi
                run_wrk "openssl-ocsp-${c}c" "http://127.0.0.1:$OPORT/" "$c" "$DURATION" ocsp-nonce-less.lua
                WRK_PREFIX=()
                WRK_NOTE=""
                collect "openssl-ocsp-${c}c"
                [[ ${NON2XX[openssl-ocsp-${c}c]} -eq 0 ]] || log "WARNING: openssl ocsp answered ${NON2XX[openssl-ocsp-${c}c]} non-2xx responses"
                [[ ${ERRS[openssl-ocsp-${c}c]} -eq 0 ]] || log "WARNING: ${ERRS[openssl-ocsp-${c}c]} socket errors against openssl ocsp at $c connections"
                [[ ${REQS[openssl-ocsp-${c}c]} -gt 0 ]] || die "openssl ocsp answered no request at $c connections (see $TMP/wrk-openssl-ocsp-${c}c.txt)"
                stop_pid "$OCSPD_PID" "openssl ocsp"
                OCSPD_PID=""
            done
        fi

        # --- reference 2: nginx serving the pre-signed response as a static file -----------
        mkdir -p "$TMP/nginx/html"
        cp "$TMP/ocsp-get-cache.der" "$TMP/nginx/html/ocsp"
        start_nginx "sigillumd's pre-signed $OCSP_RESP_SIZE-byte OCSP response as a static file at /ocsp and /ocsp/*"
        NOCSP=http://127.0.0.1:$NPORT
        ocsp_fetch nginx-ocsp-post "$NOCSP$OCSP_PATH" req-nonce-less.der
        ocsp_fetch nginx-ocsp-get "$NOCSP$OCSP_GET_PATH" -
        if ! cmp -s "$TMP/nginx-ocsp-post.der" "$TMP/ocsp-get-cache.der" || ! cmp -s "$TMP/nginx-ocsp-get.der" "$TMP/ocsp-get-cache.der"; then
            die "nginx does not send the pre-signed response's bytes"
        fi
        log "nginx: POST and GET answer 200 with the pre-signed response ($OCSP_RESP_SIZE bytes)"
        for c in $CONNECTIONS; do
            run_wrk "nginx-ocsp-${c}c" "$NOCSP$OCSP_PATH" "$c" "$DURATION" ocsp-nonce-less.lua
            collect "nginx-ocsp-${c}c"
        done
        for c in $CONNECTIONS; do
            run_wrk "nginx-ocsp-get-${c}c" "$NOCSP$OCSP_GET_PATH" "$c" "$DURATION" -
            collect "nginx-ocsp-get-${c}c"
        done
        for k in "${!NON2XX[@]}"; do
            if [[ $k == nginx-ocsp-* && ${NON2XX[$k]} -ne 0 ]]; then log "WARNING: $k: nginx answered ${NON2XX[$k]} non-2xx responses"; fi
        done
        stop_pid "$NGINX_PID" nginx
        NGINX_PID=""
    fi
fi

# ===================================== HSM part =====================================
# The TSA signing on a PKCS#11 token (SoftHSM2) next to the software signer, with the same key and
# certificate: the development TSU key (EC P-256) is imported into a fresh token, so the two
# daemons differ only in `tsa.signer`. Both run at once (the idle one costs nothing: no clock
# probes, a token health check every 5 s) and their wrk runs alternate, so that the machine's
# drift hits both alike. For each daemon the harness also reads its CPU time (utime + stime from
# /proc/PID/stat) around every run: server CPU per stamp.
declare -A CPU_US
# cpu_ticks PID: utime + stime of PID, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
HSM_LEDGER=()
HSM_SIGNER_LINE=""
# signer_config DIR NAME SIGNER PORT APORT: DIR/NAME.yaml, a config file like the development default's
# TSA (same policies, accuracy, TSA name, no chain; clock gate off) signing with SIGNER (a YAML flow
# mapping), with its own state folder DIR/state-NAME (ledger).
signer_config() {
    local dir=$1 name=$2 signer=$3 port=$4 aport=$5
    mkdir -p "$dir/state-$name"
    cat >"$dir/$name.yaml" <<YAML
stateDirectory: $dir/state-$name
listen: 127.0.0.1:$port
adminListen: 127.0.0.1:$aport
ledger: { path: $LEDGER_FILE }
tsa:
  signer: $signer
  policies:
    - { oid: 1.3.6.1.4.1.32473.1.1, default: true, qualified: false }
    - { oid: 0.4.0.2023.1.1, default: false, qualified: true }
  accuracy: { seconds: 0, millis: 500, micros: 0 }
  ordering: false
  includeTSAName: true
  includeChain: false
clock:
  enforce: false
  servers: []
  chrony: off
  probeInterval: 1
YAML
}
# dev_pki_for PART: makes sure $TMP/state holds the development PKI (a --dev start, not measured, makes
# it when no earlier part did) and that its TSU key is EC P-256; sets KEYS and PKI.
dev_pki_for() {
    if [[ ! -f $TMP/state/keys/tsa.key ]]; then
        start_daemon "$1-setup" --probe-interval 1
        stop_pid "$DAEMON_PID" sigillumd
        DAEMON_PID=""
    fi
    KEYS=$TMP/state/keys
    PKI=$TMP/state/pki
    [[ -f $KEYS/tsa.key && -f $PKI/tsa.pem && -f $PKI/issuing-ca.pem && -f $PKI/root-ca.pem ]] ||
        die "the development PKI is not where the harness expects it ($PKI, $KEYS)"
    [[ $(openssl pkey -in "$KEYS/tsa.key" -noout -text 2>/dev/null | head -n 1) == *"(256 bit)"* ]] ||
        die "the development TSU key is not EC P-256: the $1 part compares P-256 signers"
}
if [[ $RUN_HSM -eq 1 ]]; then
    H=$TMP/hsm
    mkdir -p "$H/tokens"
    # BENCH_ONLY=hsm: a --dev start (not measured) makes the development PKI.
    dev_pki_for HSM

    # A private SoftHSM2 (its own configuration and token folder), one token, the TSU key imported.
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
        "$H/tokens" >"$H/softhsm2.conf"
    export SOFTHSM2_CONF=$H/softhsm2.conf
    printf '1234\n' >"$H/user.pin"
    chmod 600 "$H/user.pin"   # sigillumd refuses a PIN file open to other users
    softhsm2-util --init-token --free --label sigillum-bench --pin 1234 --so-pin 5678 >"$H/init.log" 2>&1 ||
        { cat "$H/init.log" >&2; die "softhsm2-util --init-token failed"; }
    softhsm2-util --import "$KEYS/tsa.key" --token sigillum-bench --label tsa --id 01 --pin 1234 >>"$H/init.log" 2>&1 ||
        { cat "$H/init.log" >&2; die "softhsm2-util --import failed"; }
    record "SOFTHSM2_CONF=\$TMP/hsm/softhsm2.conf softhsm2-util --init-token --free --label sigillum-bench --pin 1234 --so-pin 5678"
    record "softhsm2-util --import \$STATE/keys/tsa.key --token sigillum-bench --label tsa --id 01 --pin 1234"

    hsm_config() { signer_config "$H" "$@"; }
    SW_PORT=$(free_port)
    SW_APORT=$(free_port)
    TK_PORT=$(free_port)
    TK_APORT=$(free_port)
    hsm_config software "{ type: software, keyFile: $KEYS/tsa.key, certificateFile: $PKI/tsa.pem, chainFile: $PKI/issuing-ca.pem }" "$SW_PORT" "$SW_APORT"
    hsm_config pkcs11 "{ type: pkcs11, module: $SOFTHSM_MODULE, tokenLabel: sigillum-bench, keyLabel: tsa, pinFile: $H/user.pin, certificateFile: $PKI/tsa.pem, chainFile: $PKI/issuing-ca.pem, sessions: $HSM_SESSIONS }" "$TK_PORT" "$TK_APORT"

    log "starting $SIGILLUMD --config hsm/software.yaml (public 127.0.0.1:$SW_PORT) and hsm/pkcs11.yaml (public 127.0.0.1:$TK_PORT)"
    DAEMON_LOG=$TMP/sigillumd-hsm-software.log
    setsid "$SIGILLUMD" --config "$H/software.yaml" >"$DAEMON_LOG" 2>&1 </dev/null &
    DAEMON_PID=$!
    setsid "$SIGILLUMD" --config "$H/pkcs11.yaml" >"$TMP/sigillumd-hsm-pkcs11.log" 2>&1 </dev/null &
    HSM_PID=$!
    record "setsid $SIGILLUMD --config \$TMP/hsm/software.yaml   (tsa.signer: software, keyFile \$STATE/keys/tsa.key)"
    record "setsid $SIGILLUMD --config \$TMP/hsm/pkcs11.yaml     (tsa.signer: pkcs11, SoftHSM2 token sigillum-bench, key tsa, sessions $HSM_SESSIONS; SOFTHSM2_CONF set)"
    wait_http "http://127.0.0.1:$SW_APORT$HEALTH_PATH" 60 "$DAEMON_PID" "sigillumd (software signer)"
    wait_http "http://127.0.0.1:$TK_APORT$HEALTH_PATH" 60 "$HSM_PID" "sigillumd (token signer)"
    grep -q 'PKCS#11 signer ready' "$TMP/sigillumd-hsm-pkcs11.log" || die "the token daemon did not log 'PKCS#11 signer ready'"
    HSM_SIGNER_LINE="mechanism $(grep -o 'pkcs11.mechanism=[^ ]*' "$TMP/sigillumd-hsm-pkcs11.log" | head -n 1 | cut -d= -f2), $(grep -o 'pkcs11.sessions=[^ ]*' "$TMP/sigillumd-hsm-pkcs11.log" | head -n 1 | cut -d= -f2) sessions"
    log "both daemons ready (software pid $DAEMON_PID, token pid $HSM_PID; token signer: $HSM_SIGNER_LINE)"

    # One sample stamp from each, verified by openssl against the development root.
    for name in software pkcs11; do
        if [[ $name == software ]]; then port=$SW_PORT; else port=$TK_PORT; fi
        curl -sf --max-time 10 --data-binary @"$TMP/req.tsq" -H 'Content-Type: application/timestamp-query' \
            "http://127.0.0.1:$port$TSA_PATH" -o "$TMP/resp-hsm-$name.tsr" || die "sample request to the $name daemon failed"
        verify=$(openssl ts -verify -in "$TMP/resp-hsm-$name.tsr" -data "$TMP/data.bin" -CAfile "$PKI/root-ca.pem" \
            -untrusted "$PKI/issuing-ca.pem" 2>&1) || true
        grep -q 'Verification: OK' <<<"$verify" || { echo "$verify" >&2; die "the $name daemon's sample stamp does not verify"; }
        log "$name signer: sample stamp verified by openssl ts -verify ($(stat -c %s "$TMP/resp-hsm-$name.tsr") bytes)"
    done
    record "curl … -o resp-hsm-{software,pkcs11}.tsr; openssl ts -verify -in resp-hsm-*.tsr -data data.bin -CAfile \$STATE/pki/root-ca.pem -untrusted \$STATE/pki/issuing-ca.pem"

    declare -A HSM_EXPECTED=([software]=1 [pkcs11]=1) HSM_INFLIGHT=([software]=0 [pkcs11]=0)
    # hsm_run NAME CONNECTIONS SECONDS RUN: one wrk run against one of the two daemons, with its CPU time.
    hsm_run() {
        local name=$1 c=$2 dur=$3 run=$4 pid port before after
        if [[ $name == software ]]; then pid=$DAEMON_PID; port=$SW_PORT; else pid=$HSM_PID; port=$TK_PORT; fi
        before=$(cpu_ticks "$pid")
        run_wrk "$run" "http://127.0.0.1:$port$TSA_PATH" "$c" "$dur" post.lua
        after=$(cpu_ticks "$pid")
        collect "$run"
        CPU_US[$run]=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="${REQS[$run]}" \
            'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n }')
        log "$run: server CPU ${CPU_US[$run]:-?} µs per stamp"
        HSM_EXPECTED[$name]=$((${HSM_EXPECTED[$name]} + ${REQS[$run]} - ${NON2XX[$run]}))
        HSM_INFLIGHT[$name]=$((${HSM_INFLIGHT[$name]} + c))
    }
    if [[ $WARMUP -gt 0 ]]; then
        hsm_run software "${CONNECTIONS%% *}" "$WARMUP" hsm-software-warmup
        hsm_run pkcs11 "${CONNECTIONS%% *}" "$WARMUP" hsm-pkcs11-warmup
    fi
    for c in $CONNECTIONS; do
        hsm_run software "$c" "$DURATION" "hsm-software-${c}c"
        hsm_run pkcs11 "$c" "$DURATION" "hsm-pkcs11-${c}c"
    done
    HSM_THREADS=$(awk '/^Threads:/ {print $2}' "/proc/$HSM_PID/status" 2>/dev/null || true)
    SW_THREADS=$(awk '/^Threads:/ {print $2}' "/proc/$DAEMON_PID/status" 2>/dev/null || true)
    stop_pid "$DAEMON_PID" "sigillumd (software signer)"
    DAEMON_PID=""
    stop_pid "$HSM_PID" "sigillumd (token signer)"
    HSM_PID=""

    # Every stamp answered must be in that daemon's ledger (a refused stamp is HTTP 200 too, but
    # writes no row: this is what catches signatures that failed on the token).
    bad=0
    for name in software pkcs11; do
        db=$H/state-$name/$LEDGER_FILE
        rows=$(sqlite3 -readonly "$db" "select count(*) from $LEDGER_TABLE" 2>"$TMP/sqlite.err") || {
            cat "$TMP/sqlite.err" >&2; die "could not count $LEDGER_TABLE in $db"; }
        want=${HSM_EXPECTED[$name]}
        if ((rows < want)); then
            log "FAIL: $name signer: $rows ledger rows for $want answered stamps (refused stamps?)"; bad=1
            HSM_LEDGER+=("$name signer: FAIL, $rows ledger rows for $want HTTP 200 answers: $((want - rows)) were not tokens")
        else
            HSM_LEDGER+=("$name signer: OK, $rows ledger rows for $want answered stamps (at most ${HSM_INFLIGHT[$name]} more from requests in flight)")
        fi
        for c in $CONNECTIONS; do
            n=${NON2XX[hsm-$name-${c}c]}
            [[ $n -eq 0 ]] || { log "FAIL: $name signer answered $n non-2xx responses at $c connections"; bad=1; }
        done
    done
    record "sqlite3 \$TMP/hsm/state-{software,pkcs11}/$LEDGER_FILE 'select count(*) from $LEDGER_TABLE'"
    printf '%s\n' "${HSM_LEDGER[@]}" | while read -r line; do log "ledger: $line"; done
    [[ $bad -eq 0 ]] || die "HSM part failed (see above); BENCH_KEEP=1 keeps the logs"
fi

# ===================================== card part =====================================
# The TSA signing on an emulated PIV card over the real PC/SC stack, next to the software signer with
# the same key. The card is the test suite's emulator (Tests/SmartCardSigningTests), run through
# `swift test --filter PIVBenchmarkCardHost`: it starts a pcscd of its own with vpcd (its own socket,
# given to the card daemons as PCSCLITE_CSOCK_NAME), puts two emulated cards into vpcd's two readers,
# each holding the development TSU key (EC P-256) in 9C, 9D and 9A with its certificate, and reports
# per-card counters (APDUs by instruction, signatures, time spent in the emulator). Four daemons from
# config files that differ only in `tsa.signer`, all up at once, their wrk runs alternating:
#   software  the key from its file
#   9c        one card, slot 9C: VERIFY (the PIN) before every signature, as SP 800-73-4 wants
#   9d        one card, slot 9D: the PIN once per connection
#   pool      two cards (one per reader), slot 9C
# Then the same 9c and pool daemons with the emulator taking BENCH_CARD_DELAY_MS per signature, as a
# real card does (rows slow, slowpool). For each run: stamps/s, the card's APDUs and VERIFYs per
# signature, and CPU per stamp of the daemon, of pcscd and of the emulator's process.
declare -A PCSCD_US HOST_US CARD_SIGS CARD_SIGRATE CARD_APDU CARD_VERIFY CARD_EMU_US
CARD_LEDGER=()
CARD_ROWS=""
CARD_LINE=""
# card_stat FIELD: FIELD summed over the cards in the emulator's stats file
card_stat() { awk -v f="$1" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) n += kv[2] } } END { printf "%.0f\n", n }' "$CARD_HOST_DIR/stats" 2>/dev/null || echo 0; }
if [[ $RUN_CARD -eq 1 ]]; then
    C=$TMP/card
    CARD_HOST_DIR=$C/host
    mkdir -p "$CARD_HOST_DIR"
    dev_pki_for card
    printf '123456\n' >"$C/pin"   # the emulated cards' PIN (testPIN in the test support)
    chmod 600 "$C/pin"

    log "starting the card emulator: $SWIFT test --skip-build --filter PIVBenchmarkCardHost (log: card-host.log)"
    SIGILLUM_BENCH_CARD_DIR=$CARD_HOST_DIR SIGILLUM_BENCH_CARD_KEY=$KEYS/tsa.key SIGILLUM_BENCH_CARD_CERT=$PKI/tsa.pem \
        SIGILLUM_BENCH_CARDS=2 setsid "$SWIFT" test --skip-build --filter PIVBenchmarkCardHost \
        >"$TMP/card-host.log" 2>&1 </dev/null &
    CARD_HOST_PID=$!
    record "SIGILLUM_BENCH_CARD_DIR=\$TMP/card/host SIGILLUM_BENCH_CARD_KEY=\$STATE/keys/tsa.key SIGILLUM_BENCH_CARD_CERT=\$STATE/pki/tsa.pem SIGILLUM_BENCH_CARDS=2 setsid $SWIFT test --skip-build --filter PIVBenchmarkCardHost"
    start=$SECONDS
    until [[ -f $CARD_HOST_DIR/ready ]]; do
        kill -0 "$CARD_HOST_PID" 2>/dev/null || { cat "$TMP/card-host.log" >&2; die "the card emulator exited before it was ready"; }
        ((SECONDS - start < 120)) || die "the card emulator was not ready after 120 s (card-host.log)"
        sleep 0.25
    done
    CARD_SOCKET=$(awk -F= '$1 == "PCSCLITE_CSOCK_NAME" {print $2}' "$CARD_HOST_DIR/ready")
    PCSCD_PID=$(awk -F= '$1 == "pcscd_pid" {print $2}' "$CARD_HOST_DIR/ready")
    HOST_PID=$(awk -F= '$1 == "host_pid" {print $2}' "$CARD_HOST_DIR/ready")
    log "card emulator ready: pcscd pid ${PCSCD_PID:-?} (socket ${CARD_SOCKET:-/run/pcscd/pcscd.comm}), emulator pid ${HOST_PID:-?}"

    declare -A CARD_PORT CARD_APORT CARD_PID
    READER0='"Virtual PCD 00 00"'
    READER1='"Virtual PCD 00 01"'
    PIV_COMMON="pinFile: $C/pin, chainFile: $PKI/issuing-ca.pem, queueWaitMillis: 60000"
    for name in software 9c 9d pool; do
        CARD_PORT[$name]=$(free_port)
        CARD_APORT[$name]=$(free_port)
    done
    signer_config "$C" software "{ type: software, keyFile: $KEYS/tsa.key, certificateFile: $PKI/tsa.pem, chainFile: $PKI/issuing-ca.pem }" "${CARD_PORT[software]}" "${CARD_APORT[software]}"
    signer_config "$C" 9c "{ type: piv, readers: [$READER0], slot: 9c, $PIV_COMMON }" "${CARD_PORT[9c]}" "${CARD_APORT[9c]}"
    signer_config "$C" 9d "{ type: piv, readers: [$READER0], slot: 9d, $PIV_COMMON }" "${CARD_PORT[9d]}" "${CARD_APORT[9d]}"
    signer_config "$C" pool "{ type: piv, readers: [$READER0, $READER1], slot: 9c, $PIV_COMMON }" "${CARD_PORT[pool]}" "${CARD_APORT[pool]}"
    for name in software 9c 9d pool; do
        if [[ -n $CARD_SOCKET ]]; then
            PCSCLITE_CSOCK_NAME=$CARD_SOCKET setsid "$SIGILLUMD" --config "$C/$name.yaml" >"$TMP/sigillumd-card-$name.log" 2>&1 </dev/null &
        else
            setsid "$SIGILLUMD" --config "$C/$name.yaml" >"$TMP/sigillumd-card-$name.log" 2>&1 </dev/null &
        fi
        CARD_PID[$name]=$!
        CARD_PIDS+=" ${CARD_PID[$name]}"
        record "${CARD_SOCKET:+PCSCLITE_CSOCK_NAME=(socket of the emulator pcscd) }setsid $SIGILLUMD --config \$TMP/card/$name.yaml   (tsa.signer: $(sed -n 's/^  signer: //p' "$C/$name.yaml" | sed "s|$KEYS|\$STATE/keys|g; s|$PKI|\$STATE/pki|g; s|$TMP|\$TMP|g"))"
    done
    DAEMON_LOG=$TMP/sigillumd-card-9c.log
    for name in software 9c 9d pool; do
        wait_http "http://127.0.0.1:${CARD_APORT[$name]}$HEALTH_PATH" 60 "${CARD_PID[$name]}" "sigillumd ($name signer)"
        [[ $name == software ]] || grep -q 'PIV smart-card signer ready' "$TMP/sigillumd-card-$name.log" ||
            die "the $name daemon did not log 'PIV smart-card signer ready'"
    done
    CARD_LINE=$(grep -o 'piv.algorithm=[^]]*piv.readers=[^]]*]' "$TMP/sigillumd-card-pool.log" | head -n 1 || true)
    log "card daemons ready (software ${CARD_PID[software]}, 9c ${CARD_PID[9c]}, 9d ${CARD_PID[9d]}, pool ${CARD_PID[pool]})"

    # One sample stamp from each, verified by openssl against the development root.
    for name in software 9c 9d pool; do
        curl -sf --max-time 10 --data-binary @"$TMP/req.tsq" -H 'Content-Type: application/timestamp-query' \
            "http://127.0.0.1:${CARD_PORT[$name]}$TSA_PATH" -o "$TMP/resp-card-$name.tsr" || die "sample request to the $name daemon failed"
        verify=$(openssl ts -verify -in "$TMP/resp-card-$name.tsr" -data "$TMP/data.bin" -CAfile "$PKI/root-ca.pem" \
            -untrusted "$PKI/issuing-ca.pem" 2>&1) || true
        grep -q 'Verification: OK' <<<"$verify" || { echo "$verify" >&2; die "the $name daemon's sample stamp does not verify"; }
    done
    log "sample stamps of the four daemons verified by openssl ts -verify"
    record "curl … -o resp-card-{software,9c,9d,pool}.tsr; openssl ts -verify -in resp-card-*.tsr -data data.bin -CAfile \$STATE/pki/root-ca.pem -untrusted \$STATE/pki/issuing-ca.pem"

    declare -A CARD_EXPECTED=([software]=1 [9c]=1 [9d]=1 [pool]=1) CARD_INFLIGHT=([software]=0 [9c]=0 [9d]=0 [pool]=0)
    # card_delay MS: every GENERAL AUTHENTICATE of the emulator takes MS from now on (it reads the file every 100 ms).
    card_delay() { echo "$1" >"$CARD_HOST_DIR/delay-ms"; sleep 0.5; }
    # card_run DAEMON CONNECTIONS SECONDS RUN: one wrk run against one daemon, with the CPU time of the
    # daemon, pcscd and the emulator's process, and the emulator's counters.
    card_run() {
        local name=$1 c=$2 dur=$3 run=$4 pid port before after pb pa hb ha sb sa ab aa vb va eb ea
        pid=${CARD_PID[$name]}
        port=${CARD_PORT[$name]}
        sleep 0.2   # the emulator's stats file is rewritten every 100 ms: let it catch up with the last run
        before=$(cpu_ticks "$pid"); pb=$(cpu_ticks "${PCSCD_PID:-0}"); hb=$(cpu_ticks "${HOST_PID:-0}")
        sb=$(card_stat signatures); ab=$(card_stat apdus); vb=$(card_stat verify); eb=$(card_stat emulator_ns)
        run_wrk "$run" "http://127.0.0.1:$port$TSA_PATH" "$c" "$dur" post.lua
        after=$(cpu_ticks "$pid"); pa=$(cpu_ticks "${PCSCD_PID:-0}"); ha=$(cpu_ticks "${HOST_PID:-0}")
        sleep 0.2
        sa=$(card_stat signatures); aa=$(card_stat apdus); va=$(card_stat verify); ea=$(card_stat emulator_ns)
        collect "$run"
        local n=${REQS[$run]}
        CPU_US[$run]=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n }')
        PCSCD_US[$run]=$(awk -v t=$((pa - pb)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n }')
        HOST_US[$run]=$(awk -v t=$((ha - hb)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n }')
        CARD_SIGS[$run]=$((sa - sb))
        # Signatures per second on the cards' side: unlike wrk's rate, it counts the requests still in
        # flight when wrk stops, which matters when a stamp takes a large part of a second (slow rows).
        CARD_SIGRATE[$run]=$(awk -v s=$((sa - sb)) -v d="$dur" 'BEGIN { printf "%.1f", s / d }')
        CARD_APDU[$run]=$(awk -v a=$((aa - ab)) -v s=$((sa - sb)) 'BEGIN { if (s > 0) printf "%.2f", a / s }')
        CARD_VERIFY[$run]=$(awk -v a=$((va - vb)) -v s=$((sa - sb)) 'BEGIN { if (s > 0) printf "%.2f", a / s }')
        CARD_EMU_US[$run]=$(awk -v a=$((ea - eb)) -v s=$((sa - sb)) 'BEGIN { if (s > 0) printf "%.0f", a / s / 1000 }')
        log "$run: CPU per stamp: daemon ${CPU_US[$run]:-?} µs, pcscd ${PCSCD_US[$run]:-?} µs, emulator process ${HOST_US[$run]:-?} µs; card: ${CARD_SIGS[$run]} signatures, ${CARD_APDU[$run]:-0} APDUs and ${CARD_VERIFY[$run]:-0} VERIFY per signature, ${CARD_EMU_US[$run]:-?} µs in the emulator per signature"
        CARD_EXPECTED[$name]=$((${CARD_EXPECTED[$name]} + ${REQS[$run]} - ${NON2XX[$run]}))
        CARD_INFLIGHT[$name]=$((${CARD_INFLIGHT[$name]} + c))
    }
    first=${CARD_CONNECTIONS%% *}
    if [[ $WARMUP -gt 0 ]]; then
        for name in software 9c 9d pool; do card_run "$name" "$first" "$WARMUP" "card-$name-warmup"; done
    fi
    CARD_ROWS="card-software card-9c card-9d card-pool"
    for c in $CARD_CONNECTIONS; do
        for name in software 9c 9d pool; do card_run "$name" "$c" "$DURATION" "card-$name-${c}c"; done
    done
    if [[ $CARD_DELAY_MS -gt 0 ]]; then
        card_delay "$CARD_DELAY_MS"
        record "echo $CARD_DELAY_MS > \$TMP/card/host/delay-ms   (every GENERAL AUTHENTICATE of the emulator takes $CARD_DELAY_MS ms: rows card-slow, card-slowpool)"
        CARD_ROWS+=" card-slow card-slowpool"
        for c in $CARD_CONNECTIONS; do
            card_run 9c "$c" "$DURATION" "card-slow-${c}c"
            card_run pool "$c" "$DURATION" "card-slowpool-${c}c"
        done
        card_delay 0
    fi
    for name in software 9c 9d pool; do
        stop_pid "${CARD_PID[$name]}" "sigillumd ($name signer)"
    done
    CARD_PIDS=""
    stop_card_host

    # Every stamp answered must be in that daemon's ledger (a stamp refused because the card failed or
    # the queue wait ran out is HTTP 200 too, but writes no row).
    bad=0
    for name in software 9c 9d pool; do
        db=$C/state-$name/$LEDGER_FILE
        rows=$(sqlite3 -readonly "$db" "select count(*) from $LEDGER_TABLE" 2>"$TMP/sqlite.err") || {
            cat "$TMP/sqlite.err" >&2; die "could not count $LEDGER_TABLE in $db"; }
        want=${CARD_EXPECTED[$name]}
        if ((rows < want)); then
            log "FAIL: $name signer: $rows ledger rows for $want answered stamps (refused stamps?)"; bad=1
            CARD_LEDGER+=("$name signer: FAIL, $rows ledger rows for $want HTTP 200 answers: $((want - rows)) were not tokens")
        else
            CARD_LEDGER+=("$name signer: OK, $rows ledger rows for $want answered stamps (at most ${CARD_INFLIGHT[$name]} more from requests in flight)")
        fi
    done
    for k in "${!NON2XX[@]}"; do
        [[ $k == card-* && ${NON2XX[$k]} -ne 0 ]] && { log "FAIL: $k: ${NON2XX[$k]} non-2xx responses"; bad=1; }
    done
    record "sqlite3 \$TMP/card/state-{software,9c,9d,pool}/$LEDGER_FILE 'select count(*) from $LEDGER_TABLE'"
    printf '%s\n' "${CARD_LEDGER[@]}" | while read -r line; do log "ledger: $line"; done
    [[ $bad -eq 0 ]] || die "card part failed (see above); BENCH_KEEP=1 keeps the logs"
fi

# --- report ---------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.3f", a / b }'; }
# wrk's latency ("850.00us", "1.23ms", "1.02s") in milliseconds
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v == "") { print ""; exit }
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        f = u == "us" ? 0.001 : u == "ms" ? 1 : u == "s" ? 1000 : u == "m" ? 60000 : u == "h" ? 3600000 : -1
        if (f < 0) print ""; else printf "%.3f", n * f }'
}
# verdict VALUE ge|lt TARGET: PASS / MISS / n/a
verdict() {
    awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
        if (v == "" || v == "n/a") { print "n/a"; exit }
        ok = op == "ge" ? v + 0 >= t + 0 : v + 0 < t + 0
        print ok ? "PASS" : "MISS" }'
}
DASH=-
cell() { local v=${1:-}; echo "${v:-$DASH}"; }

GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo "no commit")
[[ -z $(git status --porcelain --untracked-files=no 2>/dev/null) ]] || GIT_REV+=" (uncommitted changes)"
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
BUSY_END=$(cpu_busy)   # everything of ours is stopped by now

# The OCSP targets of issue 4, one line each: "label|value|target text|verdict"
OCSP_CHECKS=()
OCSP_RATIOS=()
if [[ $RUN_OCSP -eq 1 ]]; then
    for c in $CONNECTIONS; do
        r=$(ratio "${RPS[sigillumd-ocsp-post-cache-${c}c]:-}" "${RPS[nginx-ocsp-${c}c]:-}")
        OCSP_CHECKS+=("from cache, POST ÷ nginx POST, ${c} connections|$r|≥ 0.7|$(verdict "$r" ge 0.7)")
        r=$(ratio "${RPS[sigillumd-ocsp-get-cache-${c}c]:-}" "${RPS[nginx-ocsp-get-${c}c]:-}")
        OCSP_CHECKS+=("from cache, GET ÷ nginx GET, ${c} connections|$r|≥ 0.7|$(verdict "$r" ge 0.7)")
        r=$(ratio "${RPS[sigillumd-ocsp-live-${c}c]:-}" "${RPS[nginx-ocsp-${c}c]:-}")
        OCSP_CHECKS+=("live-signed (nonce) ÷ nginx POST, ${c} connections|$r|≥ 0.45|$(verdict "$r" ge 0.45)")
    done
    if [[ " $CONNECTIONS " == *" 64 "* ]]; then
        for kind in post-cache get-cache; do
            ms=$(to_ms "${P99[sigillumd-ocsp-$kind-64c]:-}")
            OCSP_CHECKS+=("p99 from cache ($kind), 64 connections|${ms:+$ms ms}|< 5 ms|$(verdict "$ms" lt 5)")
        done
    else
        OCSP_CHECKS+=("p99 from cache, 64 connections|not measured (BENCH_CONNECTIONS)|< 5 ms|n/a")
    fi
    for c in $CONNECTIONS; do
        OCSP_RATIOS+=("nginx POST ÷ openssl ocsp, ${c} connections|$(ratio "${RPS[nginx-ocsp-${c}c]:-}" "${RPS[openssl-ocsp-${c}c]:-}")")
        OCSP_RATIOS+=("sigillumd from cache (POST) ÷ openssl ocsp, ${c} connections|$(ratio "${RPS[sigillumd-ocsp-post-cache-${c}c]:-}" "${RPS[openssl-ocsp-${c}c]:-}")")
        OCSP_RATIOS+=("sigillumd live-signed ÷ openssl ocsp, ${c} connections|$(ratio "${RPS[sigillumd-ocsp-live-${c}c]:-}" "${RPS[openssl-ocsp-${c}c]:-}")")
    done
fi

# table_rows md|text NAME...: one row per NAME and connection count
# (TABLE_CONNECTIONS, when set, replaces BENCH_CONNECTIONS: the card part has its own.)
table_rows() {
    local fmt=$1 name c k
    shift
    for name in "$@"; do
        for c in ${TABLE_CONNECTIONS:-$CONNECTIONS}; do
            k=$name-${c}c
            if [[ $fmt == md ]]; then
                echo "| $k | $(cell "${RPS[$k]:-}") | $(cell "${P50[$k]:-}") | $(cell "${P99[$k]:-}") | $(cell "${REQS[$k]:-}") | $(cell "${NON2XX[$k]:-}") | $(cell "${ERRS[$k]:-}") |"
            else
                printf '%-32s %12s %10s %10s %10s %8s %8s\n' "$k" "$(cell "${RPS[$k]:-}")" "$(cell "${P50[$k]:-}")" \
                    "$(cell "${P99[$k]:-}")" "$(cell "${REQS[$k]:-}")" "$(cell "${NON2XX[$k]:-}")" "$(cell "${ERRS[$k]:-}")"
            fi
        done
    done
}
table_head() {
    if [[ $1 == md ]]; then
        echo "| run | req/s | p50 | p99 | requests | non-2xx | socket errors |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    else
        printf '%-32s %12s %10s %10s %10s %8s %8s\n' run req/s p50 p99 requests non-2xx errors
    fi
}

report() { # report md|text
    local fmt=$1 c line label value target v
    DASH=-
    [[ $fmt == md ]] && DASH=—
    if [[ $fmt == md ]]; then
        echo "# Sigillum benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        echo "Machine: $(nproc) cores${CPU_MODEL:+, $CPU_MODEL}, $(uname -sr). Revision: $GIT_REV."
        echo "CPU busy (all cores, 1 s sample, nothing of the harness running) before: ${BUSY_START:-?}; after: ${BUSY_END:-?}. Other work on the machine skews every figure."
        echo "wrk: $THREADS threads, keep-alive, ${DURATION}s per run, --timeout 5s --latency. BENCH_ONLY=$ONLY."
    else
        echo
        echo "=== Sigillum benchmark ($(nproc) cores, wrk -t $THREADS, ${DURATION}s per run, BENCH_ONLY=$ONLY, CPU busy before/after: ${BUSY_START:-?}/${BUSY_END:-?}) ==="
    fi
    if [[ $RUN_TSA -eq 1 ]]; then
        if [[ $fmt == md ]]; then
            echo
            echo "## TSA (POST $TSA_PATH)"
            echo
            echo "The same POST (req.tsq, $(stat -c %s "$TMP/req.tsq") bytes) everywhere. nginx body: $TOKEN_SIZE bytes ($TOKEN_SIZE_SOURCE)."
            echo
        else
            echo
            echo "--- TSA (nginx body $TOKEN_SIZE bytes) ---"
        fi
        table_head "$fmt"
        table_rows "$fmt" sigillumd nginx
        [[ $fmt == md ]] && { echo; echo "| ratio | value |"; echo "| --- | ---: |"; } || echo
        for c in $CONNECTIONS; do
            local r1 r2
            r1=$(ratio "${RPS[sigillumd-${c}c]:-}" "${RPS[nginx-${c}c]:-}")
            r2=$(ratio "${RPS[sigillumd-${c}c]:-}" "${SIGN_PER_S:-}")
            if [[ $fmt == md ]]; then
                echo "| stamps/s ÷ nginx req/s, ${c} connections | $r1 |"
                echo "| stamps/s ÷ openssl ECDSA P-256 sign/s, ${c} connections | $r2 |"
            else
                printf '%-52s %s\n' "stamps/s / nginx req/s (${c}c):" "$r1" "stamps/s / openssl sign/s (${c}c):" "$r2"
            fi
        done
        local speed_line ledger_line answered=""
        [[ $RUN_DAEMON -eq 1 ]] && answered=$EXPECTED_TOKENS
        speed_line="openssl ECDSA P-256 sign/s ($(nproc) processes): $(cell "${SIGN_PER_S:-}")"
        ledger_line="ledger ($LEDGER_TABLE): $(cell "$LEDGER_COUNT") rows; answered tokens (sample + wrk, warm-up included): $(cell "$answered"); ${LEDGER_VERDICT:-not run}"
        if [[ $fmt == md ]]; then
            echo
            echo "- $speed_line"
            echo "- $ledger_line"
        else
            echo "$speed_line"
            echo "$ledger_line"
        fi
    fi
    if [[ $RUN_OCSP -eq 1 ]]; then
        local req_sizes multi_text
        req_sizes="$(stat -c %s "$TMP/req-nonce-less.der" 2>/dev/null || echo ?) bytes without nonce, $(stat -c %s "$TMP/req-nonce.der" 2>/dev/null || echo ?) with"
        if [[ -z $OCSP_MULTI_USED ]]; then multi_text="not run"
        elif [[ $OCSP_MULTI_USED -gt 0 ]]; then multi_text="-multi $OCSP_MULTI_USED"
        else multi_text="one process (no -multi)"; fi
        if [[ $fmt == md ]]; then
            echo
            echo "## OCSP (POST $OCSP_PATH, GET $OCSP_PATH/{base64})"
            echo
            echo "Request: ee-good.pem of the development issuing CA ($req_sizes; the nonce is 16 octets and the same on every call)."
            echo "Pre-signed response: $(cell "$OCSP_RESP_SIZE") bytes (what nginx serves). openssl ocsp: $multi_text${OCSP_NS_NOTE:+, $OCSP_NS_NOTE}; it answers HTTP/1.0 and closes every connection, so wrk reconnects for each request there (no Connection: close needed)."
            [[ -n $OCSP_REFS_SKIPPED ]] && echo "Note: $OCSP_REFS_SKIPPED."
            echo
        else
            echo
            echo "--- OCSP (requests: $req_sizes; pre-signed response $(cell "$OCSP_RESP_SIZE") bytes; openssl ocsp: $multi_text) ---"
            [[ -n $OCSP_REFS_SKIPPED ]] && echo "note: $OCSP_REFS_SKIPPED"
        fi
        table_head "$fmt"
        table_rows "$fmt" sigillumd-ocsp-post-cache sigillumd-ocsp-get-cache sigillumd-ocsp-live openssl-ocsp nginx-ocsp nginx-ocsp-get
        if [[ $fmt == md ]]; then
            echo
            echo "| issue 4 target | value | target | verdict |"
            echo "| --- | ---: | ---: | --- |"
        else
            echo
            echo "issue 4 targets (informational):"
        fi
        for line in "${OCSP_CHECKS[@]}"; do
            IFS='|' read -r label value target v <<<"$line"
            if [[ $fmt == md ]]; then
                echo "| $label | $(cell "$value") | $target | $v |"
            else
                printf '  %-52s %12s  %-7s %s\n' "$label" "$(cell "$value")" "$target" "$v"
            fi
        done
        if [[ $fmt == md ]]; then
            echo
            echo "| ratio | value |"
            echo "| --- | ---: |"
        else
            echo "other ratios (the issue expects nginx at about 4x openssl ocsp):"
        fi
        for line in "${OCSP_RATIOS[@]}"; do
            IFS='|' read -r label value <<<"$line"
            if [[ $fmt == md ]]; then echo "| $label | $value |"; else printf '  %-52s %12s\n' "$label" "$value"; fi
        done
    fi
    if [[ $RUN_HSM -eq 1 || -n $HSM_SKIPPED ]]; then
        if [[ $fmt == md ]]; then
            echo
            echo "## TSA on a PKCS#11 token (SoftHSM2) next to the software signer"
            echo
        else
            echo
            echo "--- HSM (stamps signed on a SoftHSM2 token vs the software signer; same EC P-256 key and certificate) ---"
        fi
        if [[ -n $HSM_SKIPPED ]]; then
            echo "$HSM_SKIPPED"
        else
            if [[ $fmt == md ]]; then
                echo "The same POST (req.tsq) to two daemons whose config files differ only in \`tsa.signer\`: \`software\` with the development TSU key (EC P-256), and \`pkcs11\` with that key imported into a SoftHSM2 token (\`softhsm2-util --import\`), both up at once, wrk runs alternating. Token signer: ${HSM_SIGNER_LINE:-?} (BENCH_HSM_SESSIONS). Threads at the end: software ${SW_THREADS:-?}, token ${HSM_THREADS:-?}."
                echo
            fi
            table_head "$fmt"
            table_rows "$fmt" hsm-software hsm-pkcs11
            if [[ $fmt == md ]]; then echo; echo "| ratio / figure | value |"; echo "| --- | ---: |"; else echo; fi
            local sw tk line
            for c in $CONNECTIONS; do
                sw=hsm-software-${c}c
                tk=hsm-pkcs11-${c}c
                local r p cpu
                r=$(ratio "${RPS[$tk]:-}" "${RPS[$sw]:-}")
                p=$(ratio "$(to_ms "${P99[$tk]:-}")" "$(to_ms "${P99[$sw]:-}")")
                cpu="$(cell "${CPU_US[$sw]:-}") µs / $(cell "${CPU_US[$tk]:-}") µs"
                if [[ $fmt == md ]]; then
                    echo "| token ÷ software stamps/s, ${c} connections | $r |"
                    echo "| token p99 ÷ software p99, ${c} connections | $p |"
                    echo "| server CPU per stamp, software / token, ${c} connections | $cpu |"
                else
                    printf '%-52s %s\n' "token / software stamps/s (${c}c):" "$r" "token / software p99 (${c}c):" "$p" \
                        "server CPU per stamp, software / token (${c}c):" "$cpu"
                fi
            done
            [[ $fmt == md ]] && echo
            for line in "${HSM_LEDGER[@]}"; do
                if [[ $fmt == md ]]; then echo "- ledger, $line"; else echo "ledger, $line"; fi
            done
        fi
    fi
    if [[ $RUN_CARD -eq 1 ]]; then
        local name k conns=$CARD_CONNECTIONS
        if [[ $fmt == md ]]; then
            echo
            echo "## TSA on an emulated PIV card (PC/SC, vpcd) next to the software signer"
            echo
            echo "The same POST (req.tsq) to four daemons whose config files differ only in \`tsa.signer\`: \`software\` (the development TSU key, EC P-256, from its file); \`piv\` with that key on the tests' PIV card emulator in vpcd's readers behind a pcscd of its own: **9c** (one card, slot 9C: VERIFY before every signature), **9d** (one card, slot 9D: the PIN once per connection), **pool** (two cards, slot 9C). Rows **slow** and **slowpool** are the 9c and pool daemons while every GENERAL AUTHENTICATE of the emulator takes ${CARD_DELAY_MS} ms, like a real card's signature. All up at once, wrk runs alternating. Signer: ${CARD_LINE:-?}."
            echo
        else
            echo
            echo "--- card (stamps signed on an emulated PIV card over pcscd + vpcd vs the software signer; same EC P-256 key; slow rows: ${CARD_DELAY_MS} ms per card signature) ---"
        fi
        table_head "$fmt"
        TABLE_CONNECTIONS=$conns table_rows "$fmt" $CARD_ROWS
        if [[ $fmt == md ]]; then
            echo
            echo "| run | card signatures | card signatures/s | APDUs per signature | VERIFY per signature | emulator µs per signature | CPU µs per stamp: daemon / pcscd / emulator process |"
            echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        else
            echo
            printf '%-24s %10s %8s %8s %8s %10s %s\n' run signatures sig/s apdu/sig verify/sig emu-µs/sig "CPU µs/stamp daemon/pcscd/emulator"
        fi
        for name in $CARD_ROWS; do
            for c in $conns; do
                k=$name-${c}c
                if [[ $fmt == md ]]; then
                    echo "| $k | $(cell "${CARD_SIGS[$k]:-}") | $(cell "${CARD_SIGRATE[$k]:-}") | $(cell "${CARD_APDU[$k]:-}") | $(cell "${CARD_VERIFY[$k]:-}") | $(cell "${CARD_EMU_US[$k]:-}") | $(cell "${CPU_US[$k]:-}") / $(cell "${PCSCD_US[$k]:-}") / $(cell "${HOST_US[$k]:-}") |"
                else
                    printf '%-24s %10s %8s %8s %8s %10s %s\n' "$k" "$(cell "${CARD_SIGS[$k]:-}")" "$(cell "${CARD_SIGRATE[$k]:-}")" "$(cell "${CARD_APDU[$k]:-}")" \
                        "$(cell "${CARD_VERIFY[$k]:-}")" "$(cell "${CARD_EMU_US[$k]:-}")" \
                        "$(cell "${CPU_US[$k]:-}") / $(cell "${PCSCD_US[$k]:-}") / $(cell "${HOST_US[$k]:-}")"
                fi
            done
        done
        if [[ $fmt == md ]]; then echo; echo "| ratio | value |"; echo "| --- | ---: |"; else echo; fi
        local label value
        for c in $conns; do
            for name in 9c 9d pool; do
                label="$name ÷ software stamps/s, ${c} connections"
                value=$(ratio "${RPS[card-$name-${c}c]:-}" "${RPS[card-software-${c}c]:-}")
                if [[ $fmt == md ]]; then echo "| $label | $value |"; else printf '%-52s %s\n' "$label:" "$value"; fi
            done
            label="9c ÷ 9d stamps/s (the PIN before every signature), ${c} connections"
            value=$(ratio "${RPS[card-9c-${c}c]:-}" "${RPS[card-9d-${c}c]:-}")
            if [[ $fmt == md ]]; then echo "| $label | $value |"; else printf '%-52s %s\n' "$label:" "$value"; fi
            if [[ $CARD_DELAY_MS -gt 0 ]]; then
                label="slowpool ÷ slow stamps/s (two cards ÷ one), ${c} connections"
                value=$(ratio "${RPS[card-slowpool-${c}c]:-}" "${RPS[card-slow-${c}c]:-}")
                if [[ $fmt == md ]]; then echo "| $label | $value |"; else printf '%-52s %s\n' "$label:" "$value"; fi
                label="slowpool ÷ slow card signatures/s, ${c} connections"
                value=$(ratio "${CARD_SIGRATE[card-slowpool-${c}c]:-}" "${CARD_SIGRATE[card-slow-${c}c]:-}")
                if [[ $fmt == md ]]; then echo "| $label | $value |"; else printf '%-52s %s\n' "$label:" "$value"; fi
            fi
        done
        [[ $fmt == md ]] && echo
        for line in "${CARD_LEDGER[@]}"; do
            if [[ $fmt == md ]]; then echo "- ledger, $line"; else echo "ledger, $line"; fi
        done
    fi
    if [[ $fmt == md ]]; then
        echo
        echo "Commands:"
        echo
        echo '```'
        printf '%s\n' "${COMMANDS[@]}"
        echo '```'
        echo
        echo "<details><summary>raw wrk and openssl output</summary>"
        echo
        echo '```'
        local f
        for f in "$TMP"/wrk-*.txt "$TMP/speed.txt"; do
            [[ -f $f ]] || continue
            echo "## $(basename "$f")"
            grep -v '^Got: ' "$f"
        done
        echo '```'
        echo
        echo "</details>"
    else
        echo
        echo "commands:"
        printf '  %s\n' "${COMMANDS[@]}"
    fi
}

report text
mkdir -p "$RESULTS_DIR"
report md >"$RESULTS_MD"
echo
echo "Markdown written to ${RESULTS_MD#"$ROOT"/}"
