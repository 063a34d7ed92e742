#!/usr/bin/env bash
# Sigillum benchmark harness: RFC 3161 stamps/s of the release sigillumd, next to two
# references measured the same way on the same machine:
#   - HTTP alone:    a private nginx answering the same POST with a static body of a token's size
#   - signing alone: `openssl speed` ECDSA P-256 signatures/s on all cores
# Everything runs on 127.0.0.1, is bounded in time, and every process started here is
# stopped on exit (by PID / its own process group). See Benchmarks/README.md.
#
# Environment:
#   BENCH_DURATION     wrk duration per run, seconds (default 15; "15s" accepted)
#   BENCH_WARMUP       warm-up run against sigillumd before measuring, seconds (default 3; 0 = none)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_CONNECTIONS  connection counts to measure (default "16 64")
#   BENCH_ONLY         all (default) | references (nginx + openssl only, no daemon needed) | sigillumd
#   BENCH_TOKEN_SIZE   body size nginx serves when no daemon runs (references mode; default 1500)
#   BENCH_SPEED_SECONDS  seconds per `openssl speed` phase (default 5)
#   BENCH_KEEP=1       keep the temp dir (logs, wrk outputs, state) and print its path
#   SIGILLUMD          daemon binary (default .build/release/sigillumd)
set -euo pipefail

# --- things the Swift side defines; adjust here if they change -------------------------
LEDGER_FILE=ledger.sqlite          # inside --state-dir
LEDGER_TABLE=tsa_audit             # one row per issued token
TSA_PATH=/tsa                      # public listener: POST application/timestamp-query
HEALTH_PATH=/health                # admin listener: 200 when ready to serve
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
SIGILLUMD=${SIGILLUMD:-.build/release/sigillumd}
RESULTS_DIR=$ROOT/Benchmarks/results
RESULTS_MD=$RESULTS_DIR/latest.md

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

[[ $DURATION =~ ^[0-9]+$ && $DURATION -gt 0 ]] || die "BENCH_DURATION must be a number of seconds, got '${BENCH_DURATION}'"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a number of seconds"
[[ $THREADS =~ ^[0-9]+$ ]] || die "BENCH_THREADS must be a number"
[[ $SPEED_SECONDS =~ ^[0-9]+$ ]] || die "BENCH_SPEED_SECONDS must be a number"
for c in $CONNECTIONS; do [[ $c =~ ^[0-9]+$ && $c -ge $THREADS ]] || die "bad connection count '$c' (must be >= threads)"; done
case $ONLY in
    all) RUN_DAEMON=1; RUN_REFS=1 ;;
    references) RUN_DAEMON=0; RUN_REFS=1 ;;
    sigillumd) RUN_DAEMON=1; RUN_REFS=0 ;;
    *) die "BENCH_ONLY must be all, references or sigillumd" ;;
esac

# --- tools ------------------------------------------------------------------------------
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: run scripts/install-deps.sh bench (or make bench)"; }
need wrk; need openssl; need curl; need sqlite3; need setsid
NGINX=$(command -v nginx || true)
[[ -n $NGINX ]] || { [[ -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx; }   # /usr/sbin is not on a user's PATH
if [[ $RUN_REFS -eq 1 && -z $NGINX ]]; then die "'nginx' not found: run scripts/install-deps.sh bench"; fi
if [[ $RUN_DAEMON -eq 1 && ! -x $SIGILLUMD ]]; then
    die "$SIGILLUMD not found: run 'make bench' (it builds with 'swift build -c release' first)"
fi

# --- temp dir, process bookkeeping, cleanup ---------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sigillum-bench.XXXXXX")
DAEMON_PID=""
NGINX_PID=""
CHILD_PID=""   # the wrk / openssl speed run in progress

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

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $CHILD_PID ]]; then
        kill -TERM "$CHILD_PID" 2>/dev/null || true
        wait "$CHILD_PID" 2>/dev/null || true
    fi
    stop_pid "$DAEMON_PID" sigillumd
    stop_pid "$NGINX_PID" nginx
    if [[ $rc -ne 0 ]]; then
        [[ -s $TMP/sigillumd.log ]] && { log "last lines of the sigillumd log:"; tail -n 30 "$TMP/sigillumd.log" >&2; }
        [[ -s $TMP/nginx/error.log ]] && { log "last lines of the nginx error log:"; tail -n 10 "$TMP/nginx/error.log" >&2; }
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

# --- the request ------------------------------------------------------------------------
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

# run_wrk NAME URL CONNECTIONS DURATION: runs wrk, keeps its output in $TMP/wrk-NAME.txt.
run_wrk() {
    local name=$1 url=$2 conns=$3 dur=$4 out=$TMP/wrk-$1.txt
    local cmd=(wrk -t "$THREADS" -c "$conns" -d "${dur}s" --timeout 5s --latency -s post.lua "$url")
    log "wrk $name: ${cmd[*]}"
    run_child "$out" "$TMP" timeout $((dur + 60)) "${cmd[@]}" || { cat "$out" >&2; die "wrk failed for $name"; }
    [[ $name == *warmup* ]] || record "${cmd[*]}"
}
wrk_field() { # wrk_field NAME FIELD
    local f=$TMP/wrk-$1.txt
    case $2 in
        rps) awk '$1 == "Requests/sec:" {print $2}' "$f" ;;
        p50) awk '$1 == "50%" {print $2}' "$f" ;;
        p99) awk '$1 == "99%" {print $2}' "$f" ;;
        requests) awk '$2 == "requests" && $3 == "in" {print $1}' "$f" ;;
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

# --- sigillumd ----------------------------------------------------------------------------
TOKEN_SIZE=${BENCH_TOKEN_SIZE:-1500}
TOKEN_SIZE_SOURCE="BENCH_TOKEN_SIZE (no daemon run)"
LEDGER_COUNT=""
EXPECTED_TOKENS=0
INFLIGHT_BOUND=0
if [[ $RUN_DAEMON -eq 1 ]]; then
    PORT=$(free_port)
    APORT=$(free_port)
    log "starting $SIGILLUMD --dev (public 127.0.0.1:$PORT, admin 127.0.0.1:$APORT)"
    daemon_cmd=("$SIGILLUMD" --dev --state-dir "$TMP/state" --listen "127.0.0.1:$PORT" --admin-listen "127.0.0.1:$APORT")
    setsid "${daemon_cmd[@]}" >"$TMP/sigillumd.log" 2>&1 </dev/null &
    DAEMON_PID=$!
    record "setsid $SIGILLUMD --dev --state-dir \$TMP/state --listen 127.0.0.1:$PORT --admin-listen 127.0.0.1:$APORT"
    wait_http "http://127.0.0.1:$APORT$HEALTH_PATH" 60 "$DAEMON_PID" sigillumd
    log "sigillumd ready (pid $DAEMON_PID)"

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
        run_wrk sigillumd-warmup "$TSA_URL" "${CONNECTIONS%% *}" "$WARMUP"
        collect sigillumd-warmup
        EXPECTED_TOKENS=$((EXPECTED_TOKENS + ${REQS[sigillumd-warmup]} - ${NON2XX[sigillumd-warmup]}))
        INFLIGHT_BOUND=$((INFLIGHT_BOUND + ${CONNECTIONS%% *}))
    fi
    for c in $CONNECTIONS; do
        run_wrk "sigillumd-${c}c" "$TSA_URL" "$c" "$DURATION"
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
if [[ $RUN_REFS -eq 1 ]]; then
    NPORT=$(free_port)
    N=$TMP/nginx
    mkdir -p "$N/html" "$N/tmp"
    head -c "$TOKEN_SIZE" /dev/urandom >"$N/html/tsa"
    # When started as root, nginx workers run as "nobody": let them reach the document root
    # (traverse-only on the temp dirs, no listing).
    chmod 711 "$TMP" "$N"
    chmod 755 "$N/html"
    chmod 644 "$N/html/tsa"
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
        # Static files do not take POST (405); answer it like GET instead: the static body
        # with status 200, the request body read and discarded.
        location = /tsa {
            default_type application/timestamp-reply;
            error_page 405 =200 \$uri;
        }
    }
}
NGX
    log "starting nginx on 127.0.0.1:$NPORT (static body of $TOKEN_SIZE bytes)"
    setsid "$NGINX" -e "$N/error.log" -p "$N" -c "$N/nginx.conf" -g 'daemon off;' >"$N/stdout.log" 2>&1 </dev/null &
    NGINX_PID=$!
    record "nginx -p \$TMP/nginx -c \$TMP/nginx/nginx.conf -g 'daemon off;'  (worker_processes 2, static $TOKEN_SIZE-byte body; config in Benchmarks/README.md)"
    NGINX_URL=http://127.0.0.1:$NPORT/tsa
    wait_http "$NGINX_URL" 20 "$NGINX_PID" nginx
    # The POST must get the body back with 200, as from the TSA.
    got=$(curl -s --max-time 5 -o "$TMP/nginx-sample" -w '%{http_code} %{size_download}' \
        --data-binary @"$TMP/req.tsq" -H 'Content-Type: application/timestamp-query' "$NGINX_URL")
    [[ $got == "200 $TOKEN_SIZE" ]] || die "nginx answered the POST with '$got' (want '200 $TOKEN_SIZE')"
    for c in $CONNECTIONS; do
        run_wrk "nginx-${c}c" "$NGINX_URL" "$c" "$DURATION"
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

# --- report ---------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.3f", a / b }'; }
DASH=-
cell() { local v=${1:-}; echo "${v:-$DASH}"; }

GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo "no commit")
[[ -z $(git status --porcelain --untracked-files=no 2>/dev/null) ]] || GIT_REV+=" (uncommitted changes)"
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)

report() { # report md|text
    local fmt=$1 name c
    DASH=-
    [[ $fmt == md ]] && DASH=—
    if [[ $fmt == md ]]; then
        echo "# Sigillum benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        echo "Machine: $(nproc) cores${CPU_MODEL:+, $CPU_MODEL}, $(uname -sr). Revision: $GIT_REV."
        echo "wrk: $THREADS threads, keep-alive, ${DURATION}s per run; the same POST (req.tsq, $(stat -c %s "$TMP/req.tsq") bytes) everywhere."
        echo "nginx body: $TOKEN_SIZE bytes ($TOKEN_SIZE_SOURCE)."
        echo
        echo "| run | req/s | p50 | p99 | requests | non-2xx | socket errors |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    else
        echo
        echo "=== Sigillum benchmark ($(nproc) cores, wrk -t $THREADS, ${DURATION}s per run, nginx body $TOKEN_SIZE bytes) ==="
        printf '%-16s %12s %10s %10s %10s %8s %8s\n' run req/s p50 p99 requests non-2xx errors
    fi
    for name in sigillumd nginx; do
        for c in $CONNECTIONS; do
            local k=$name-${c}c
            if [[ $fmt == md ]]; then
                echo "| $k | $(cell "${RPS[$k]:-}") | $(cell "${P50[$k]:-}") | $(cell "${P99[$k]:-}") | $(cell "${REQS[$k]:-}") | $(cell "${NON2XX[$k]:-}") | $(cell "${ERRS[$k]:-}") |"
            else
                printf '%-16s %12s %10s %10s %10s %8s %8s\n' "$k" "$(cell "${RPS[$k]:-}")" "$(cell "${P50[$k]:-}")" \
                    "$(cell "${P99[$k]:-}")" "$(cell "${REQS[$k]:-}")" "$(cell "${NON2XX[$k]:-}")" "$(cell "${ERRS[$k]:-}")"
            fi
        done
    done
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
        echo "$speed_line"
        echo "$ledger_line"
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
