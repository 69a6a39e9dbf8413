#!/usr/bin/env bash
# bench/run.sh — m2mguard's RADIUS benchmark, the one command (`make bench`).
#
# In one run, on one machine, with one load generator (bench/radload) pinned
# to one CPU and each server pinned to another, it measures side by side:
#   ceiling   bench/udp_ceiling, the bare responder: decode, verify the
#             Message-Authenticator, sign an Access-Accept; nothing else;
#   m2mguard  build/m2mguard serve with BENCH_SIMS SIMs provisioned;
#   FreeRADIUS  a private FreeRADIUS 3.2 (`freeradius -f -d DIR`, its config
#             written by bench/fr-setup.py under the work directory, never
#             /etc/freeradius) with the same BENCH_SIMS SIMs and the same
#             policy (known IMSI, 3GPP-IMEISV core = the IMEI bound to it),
#             in up to three variants: users (rlm_files), passwd
#             (rlm_passwd), sql (rlm_sql on SQLite); reject_delay 0, a 4 MiB
#             receive buffer, no detail / linelog / auth logging;
# first at full window (as fast as BENCH_WINDOW outstanding requests allow),
# then paced at BENCH_RATE requests/s.  It prints a table with the ratios
# m2mguard / ceiling and m2mguard / FreeRADIUS (the best file variant and the
# SQL variant) — absolute numbers on a shared machine are noise, the
# ratio is the figure (DESIGN.md §6) — and m2mguard's resident memory per
# provisioned SIM: VmRSS with BENCH_SIMS SIMs minus VmRSS with a one-SIM
# database (same tenant, group and client), divided by the extra SIMs;
# and FreeRADIUS's start-up time (exec to "Ready to process requests") and
# VmRSS with BENCH_SIMS SIMs.
#
# Environment (defaults in brackets):
#   BENCH_SIMS [1000000]    SIMs provisioned in m2mguard and FreeRADIUS (and radload's population)
#   BENCH_SECONDS [10]      measured seconds per run
#   BENCH_WARMUP [2]        unmeasured seconds before each run
#   BENCH_WINDOW [256]      outstanding requests in the full-window runs
#   BENCH_RATE [5000]       requests/s in the paced runs (0 skips them)
#   BENCH_ROUNDS [1]        rounds of each run, servers taking turns; medians shown
#   BENCH_GEN_CPU [0]       CPU of the generator
#   BENCH_SERVER_CPU [1]    CPU of the servers
#   BENCH_READY_TIMEOUT [300]  seconds to wait for `m2mguard stats` to answer
#   BENCH_KEEP [0]          1 keeps the work directory (logs, CSV, databases)
#   BENCH_PRIME [1]         1: every SIM attaches once, unmeasured, before the runs
#   BENCH_ACCT [1]          1: also measure accounting (durable commits): Interim-Updates
#                           of mostly new sessions (random over BENCH_SIMS), of
#                           BENCH_ACCT_SESSIONS established sessions, and Access-Requests
#                           while BENCH_ACCT_RATE Interim-Updates/s run beside them
#   BENCH_ACCT_SESSIONS [100000]  sessions in the established-session runs
#   BENCH_ACCT_RATE [20000] Interim-Updates/s of the background accounting load
#   BENCH_TRIGGERS [1000]   trigger-to-Disconnect: SIMs that attach from a foreign device
#                           (IMEI lock enforce, response reject + disconnect) while their
#                           session is open and the background accounting load runs; the
#                           Disconnect-Requests go to bench/da_responder.py, which ACKs
#   BENCH_TRIGGER_RATE [500] those attaches per second
#   BENCH_FREERADIUS [1]    1: also measure FreeRADIUS (0 skips it; when the freeradius
#                           binary is not installed the run says so and goes on without it)
#   BENCH_FR_VARIANTS [users passwd sql]  the FreeRADIUS variants, in that order
#   BENCH_FR_THREADS [0]    0: FreeRADIUS single-threaded (`-t`, like m2mguard's `workers 1`
#                           and the fastest on one pinned CPU); N: a pool of N threads
#   BUILD [build]           the Meson build directory (relative to the repo)
# Options: --only-ceiling (skip m2mguard and FreeRADIUS), -h / --help.
#
# Exit status: 0 when every run ran (whatever the figures; FreeRADIUS not
# installed is not a failure, the report says it was not measured), 1 when
# something could not run (missing binary, failed import, daemon or
# FreeRADIUS not ready, a generator run that got no reply at all), 2 on a
# usage error.
set -uo pipefail

usage() {
    sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"
}

only_ceiling=0
for arg in "$@"; do
    case $arg in
    --only-ceiling) only_ceiling=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $arg (see --help)" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
[[ $build = /* ]] || build=$root/$build

sims=${BENCH_SIMS:-1000000}
duration=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-2}
window=${BENCH_WINDOW:-256}
rate=${BENCH_RATE:-5000}
gen_cpu=${BENCH_GEN_CPU:-0}
srv_cpu=${BENCH_SERVER_CPU:-1}
ready_timeout=${BENCH_READY_TIMEOUT:-300}
rounds=${BENCH_ROUNDS:-1}
keep=${BENCH_KEEP:-0}

# 32 characters: m2mguard warns about secrets under 16 (Blast-RADIUS advice).
secret='m2mguard-bench-secret-0123456789'
imsi_base=001010000000000
imei_base=35000000000000

radload=$build/bench/radload
ceiling=$build/bench/udp_ceiling
m2mguard=$build/m2mguard
genfleet=$root/bench/gen-fleet.py
frsetup=$root/bench/fr-setup.py
da_responder=$root/bench/da_responder.py

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

acct_sessions=${BENCH_ACCT_SESSIONS:-100000}
acct_rate=${BENCH_ACCT_RATE:-20000}
triggers=${BENCH_TRIGGERS:-1000}
trigger_rate=${BENCH_TRIGGER_RATE:-500}
for v in sims duration warmup window rate gen_cpu srv_cpu ready_timeout rounds acct_sessions \
         acct_rate triggers trigger_rate; do
    [[ ${!v} =~ ^[0-9]+([.][0-9]+)?$ ]] || { say "run.sh: $v must be a number: ${!v}"; exit 2; }
done
[[ $sims =~ ^[0-9]+$ && $sims -ge 1 ]] || { say "run.sh: BENCH_SIMS must be a whole number >= 1"; exit 2; }
[[ $rounds =~ ^[0-9]+$ && $rounds -ge 1 ]] || { say "run.sh: BENCH_ROUNDS must be a whole number >= 1"; exit 2; }
fr_enabled=${BENCH_FREERADIUS:-1}
fr_variants=${BENCH_FR_VARIANTS:-users passwd sql}
fr_threads=${BENCH_FR_THREADS:-0}
[[ $fr_enabled = 0 || $fr_enabled = 1 ]] || { say "run.sh: BENCH_FREERADIUS must be 0 or 1"; exit 2; }
[[ $fr_threads =~ ^[0-9]+$ ]] || { say "run.sh: BENCH_FR_THREADS must be a whole number"; exit 2; }
for v in $fr_variants; do
    [[ $v = users || $v = passwd || $v = sql ]] ||
        { say "run.sh: BENCH_FR_VARIANTS: unknown variant $v (users, passwd, sql)"; exit 2; }
done

[[ -x $radload && -x $ceiling ]] ||
    die "$radload or $ceiling missing: build first (ninja -C ${build#"$root"/})"
if [[ $only_ceiling = 0 && ! -x $m2mguard ]]; then
    die "$m2mguard missing: build the daemon (ninja -C ${build#"$root"/}), or run with --only-ceiling"
fi
command -v python3 >/dev/null || die "python3 is needed for bench/gen-fleet.py"

# Pinning: the generator on one CPU, the server under test on another, so
# that neither steals the other's cycles and every server gets the same one.
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
    gen_pin=(taskset -c "$gen_cpu")
    srv_pin=(taskset -c "$srv_cpu")
    pinning="generator on CPU $gen_cpu, servers on CPU $srv_cpu"
else
    gen_pin=()
    srv_pin=()
    pinning="NOT pinned (taskset missing or a single CPU): ratios are less reliable"
    say "run.sh: warning: $pinning"
fi

# /proc/stat totals in ticks: "busy all", busy = all but idle and iowait.
stat_ticks() {
    local c
    read -r -a c </proc/stat
    echo "$((c[1] + c[2] + c[3] + c[6] + c[7] + c[8])) $((c[1] + c[2] + c[3] + c[4] + c[5] + c[6] + c[7] + c[8]))"
}

# Anything else running skews both servers, and not always equally: say so.
cpu_busy_pct() {    # all CPUs, over one second
    local a b
    read -r -a a <<<"$(stat_ticks)"
    sleep 1
    read -r -a b <<<"$(stat_ticks)"
    awk -v u="$((b[0] - a[0]))" -v t="$((b[1] - a[1]))" \
        'BEGIN { printf "%.0f", (t > 0 ? 100 * u / t : 0) }'
}
background=$(cpu_busy_pct)
if ((background > 5)); then
    say "run.sh: warning: the CPUs are ${background} % busy before the benchmark starts:"
    say "         other work competes with the servers and the generator; figures will be noisy"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/m2mguard-bench.XXXXXX") || die "mktemp failed"
pids=()

stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        stop_pid "$pid"
    done
    if [[ $keep = 1 ]]; then
        say "run.sh: work directory kept: $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_udp_port() {
    python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# A process and all its descendants (a daemon that forks workers is
# measured whole), one PID a line.
proc_tree() {
    local root_pid=$1 f line rest pid changed p
    local -A parent=() in_tree=([$root_pid]=1)
    for f in /proc/[0-9]*/stat; do
        read -r line 2>/dev/null <"$f" || continue
        pid=${f#/proc/}
        pid=${pid%/stat}
        rest=${line##*) }
        read -r _ p _ <<<"$rest"
        parent[$pid]=$p
    done
    changed=1
    while [[ $changed = 1 ]]; do
        changed=0
        for pid in "${!parent[@]}"; do
            if [[ -z ${in_tree[$pid]:-} && -n ${in_tree[${parent[$pid]}]:-} ]]; then
                in_tree[$pid]=1
                changed=1
            fi
        done
    done
    printf '%s\n' "${!in_tree[@]}"
}

# Resident memory of a process tree in kB (shared pages counted per process).
rss_tree_kb() {
    local pid total=0 kb
    for pid in $(proc_tree "$1"); do
        kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}

# CPU time (user + system, clock ticks) used so far by a process tree.
cpu_tree_ticks() {
    local pid total=0 line rest f
    for pid in $(proc_tree "$1"); do
        read -r line 2>/dev/null <"/proc/$pid/stat" || continue
        rest=${line##*) }
        read -r -a f <<<"$rest"
        total=$((total + f[11] + f[12]))      # utime, stime (fields 14, 15)
    done
    echo "$total"
}

clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)

# CPU time used by this shell's finished children (radload runs), in ticks,
# into $children.  `times` must run in this shell, not in $(...): a
# subshell's children start from zero.
children_ticks() {
    times >"$work/times"
    children=$(awk -v hz="$clk_tck" 'NR == 2 {
        s = 0
        for (i = 1; i <= 2; i++) { split($i, t, "m"); sub("s", "", t[2]); s += t[1] * 60 + t[2] }
        printf "%d", s * hz }' "$work/times")
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- results: res[<run>.<key>] from radload's `result k=v ...` line ----
declare -A res=()
failed=0

# load NAME PORT SERVER_PID [--rate R]: one radload run against
# 127.0.0.1:PORT.  Also records res[NAME.others]: the share of the machine's
# CPU time used by anything but the generator and that server meanwhile.
load() {
    local name=$1 port=$2 spid=$3 out=$work/$1.radload rc kv line
    local st0 st1 sv0 sv1 g0 g1
    shift 3
    say "== $name: ${duration} s after ${warmup} s warm-up $*"
    read -r -a st0 <<<"$(stat_ticks)"
    sv0=$(cpu_tree_ticks "$spid")
    children_ticks
    g0=$children
    "${gen_pin[@]}" "$radload" --server "127.0.0.1:$port" --secret "$secret" \
        --sims "$sims" --imsi-base "$imsi_base" --imei-base "$imei_base" \
        --duration "$duration" --warmup "$warmup" --window "$window" "$@" \
        >"$out" 2>&1
    rc=$?
    read -r -a st1 <<<"$(stat_ticks)"
    sv1=$(cpu_tree_ticks "$spid")
    children_ticks
    g1=$children
    res[$name.others]=$(awk -v b="$((st1[0] - st0[0]))" -v t="$((st1[1] - st0[1]))" \
        -v own="$((sv1 - sv0 + g1 - g0))" 'BEGIN {
        o = b - own; if (o < 0) o = 0; printf "%.0f", (t > 0 ? 100 * o / t : 0) }')
    parse_result "$name" "$out" "$rc"
}

# parse_result NAME FILE EXIT: res[NAME.key] from a radload output file.
parse_result() {
    local name=$1 out=$2 rc=$3 line kv
    line=$(grep '^result ' "$out" | tail -n 1)
    grep '^radload: [0-9]' "$out" >&2
    if [[ $rc != 0 || -z $line ]]; then
        say "run.sh: $name: radload failed (exit $rc):"
        sed 's/^/    /' "$out" >&2
        failed=1
        return 1
    fi
    res[$name.ok]=1
    for kv in ${line#result }; do
        res[$name.${kv%%=*}]=${kv#*=}
    done
    return 0
}

# ---- the ceiling ----
ceiling_port=$(free_udp_port) || die "cannot find a free UDP port"
"${srv_pin[@]}" "$ceiling" --listen "127.0.0.1:$ceiling_port" --secret "$secret" \
    2>"$work/ceiling.log" &
ceiling_pid=$!
pids+=("$ceiling_pid")
for ((i = 0; i < 50; i++)); do
    grep -q listening "$work/ceiling.log" 2>/dev/null && break
    kill -0 "$ceiling_pid" 2>/dev/null || break
    sleep 0.1
done
grep -q listening "$work/ceiling.log" ||
    die "udp_ceiling did not start: $(cat "$work/ceiling.log")"

# ---- m2mguard: write the config, provision, start ----
write_conf() {     # DIR PORT
    cat >"$1/m2mguard.conf" <<EOF
# written by bench/run.sh
database   $1/m2mguard.db
control    $1/control.sock
log        stderr
events     $1/events.jsonl
workers    1
listen auth 127.0.0.1:$2
client bench {
    address 127.0.0.1/32
    secret  "$secret"
    tenant  bench
    da-port $da_port
}
EOF
    # It holds the secret: serve refuses a file every user can read.  As
    # root, serve would switch to the account m2mguard, which cannot reach
    # this private directory: the benchmark stays root.
    chmod 600 "$1/m2mguard.conf"
    if [ "$(id -u)" -eq 0 ]; then
        echo "user root" >>"$1/m2mguard.conf"
    fi
}

# The bench group's policy: the IMEI lock enforced, a SIM seen in a foreign
# device refused and its live sessions cut (the trigger-to-Disconnect run).
write_policy() {
    cat >"$1" <<EOF
{
  "description": "bench: IMEI lock enforced; a foreign device is refused and its SIM's sessions cut",
  "imei_lock": { "mode": "enforce" },
  "response": { "imei_mismatch": ["reject", "disconnect"] }
}
EOF
}

# provision DIR N: a database with SIMs 0..N-1.
provision() {
    local dir=$1 n=$2 t
    mkdir -p "$dir"
    write_conf "$dir" "$m2mguard_port"
    say "== provisioning $n SIMs (gen-fleet + m2mguard sim import)"
    python3 "$genfleet" --sims "$n" --imsi-base "$imsi_base" \
        --imei-base "$imei_base" -o "$dir/fleet.csv" ||
        { say "run.sh: gen-fleet.py failed"; return 1; }
    t=$(now)
    if ! "$m2mguard" -c "$dir/m2mguard.conf" sim import "$dir/fleet.csv" \
            --create-missing >"$dir/import.log" 2>&1; then
        say "run.sh: m2mguard sim import failed:"
        tail -n 20 "$dir/import.log" | sed 's/^/    /' >&2
        return 1
    fi
    import_secs[$n]=$(elapsed "$t")
    say "   $(tail -n 1 "$dir/import.log")"
    write_policy "$dir/policy.json"
    "$m2mguard" -c "$dir/m2mguard.conf" policy set bench "$dir/policy.json" --tenant bench \
        >>"$dir/import.log" 2>&1 || { say "run.sh: m2mguard policy set failed"; return 1; }
    rm -f "$dir/fleet.csv"
    return 0
}

# serve DIR: start the daemon pinned, wait until `stats` answers; sets serve_pid.
serve() {
    local dir=$1 t deadline
    "${srv_pin[@]}" "$m2mguard" -c "$dir/m2mguard.conf" serve 2>"$dir/serve.log" &
    serve_pid=$!
    pids+=("$serve_pid")
    t=$(now)
    deadline=$((SECONDS + ready_timeout))
    while ! "$m2mguard" -c "$dir/m2mguard.conf" stats >/dev/null 2>&1; do
        if ! kill -0 "$serve_pid" 2>/dev/null; then
            say "run.sh: m2mguard serve exited before it was ready:"
            tail -n 20 "$dir/serve.log" | sed 's/^/    /' >&2
            return 1
        fi
        if ((SECONDS >= deadline)); then
            say "run.sh: m2mguard serve not ready after ${ready_timeout} s (BENCH_READY_TIMEOUT)"
            tail -n 20 "$dir/serve.log" | sed 's/^/    /' >&2
            return 1
        fi
        sleep 0.2
    done
    say "   ready after $(elapsed "$t") s"
    sleep 1         # let start-up work (page faults, caches) settle before VmRSS
    return 0
}

declare -A import_secs=()
m2mguard_up=0
rss_base="" rss_full="" rss_after=""
if [[ $only_ceiling = 0 ]]; then
    m2mguard_port=$(free_udp_port) || die "cannot find a free UDP port"
    da_port=$(free_udp_port) || die "cannot find a free UDP port"
    # Baseline: one SIM, so the tenant, group and client resolve as in the full run.
    if provision "$work/base" 1 && serve "$work/base"; then
        rss_base=$(rss_tree_kb "$serve_pid")
        say "   VmRSS with 1 SIM: $rss_base kB"
        stop_pid "$serve_pid"
        if provision "$work/full" "$sims" && serve "$work/full"; then
            rss_full=$(rss_tree_kb "$serve_pid")
            say "   VmRSS with $sims SIMs: $rss_full kB"
            m2mguard_up=1
            # Prime: every SIM attaches once, unmeasured.  A SIM's first
            # attach ever stores its device's software version (one write in
            # its lifetime); the measured runs are the steady state after it.
            if [[ ${BENCH_PRIME:-1} = 1 ]]; then
                say "== prime: each SIM attaches once (sequential)"
                "${gen_pin[@]}" "$radload" --server "127.0.0.1:$m2mguard_port" --secret "$secret" \
                    --sims "$sims" --imsi-base "$imsi_base" --imei-base "$imei_base" \
                    --sequential --count "$sims" --duration 3600 --warmup 0 --window "$window" \
                    >"$work/prime.radload" 2>&1 || say "run.sh: prime run failed (see $work/prime.radload)"
                "$m2mguard" -c "$work/full/m2mguard.conf" stats >/dev/null 2>&1
            fi
        fi
    fi
    [[ $m2mguard_up = 1 ]] || failed=1
fi

# ---- FreeRADIUS: a private instance per variant, all started before the runs ----
# Each variant's configuration and data live in $work/fr-<variant>; it runs
# in the foreground (-f), pinned like the other servers, single-threaded
# (-t) unless BENCH_FR_THREADS says otherwise.  Start-up time = from exec to
# its "Ready to process requests" (loading BENCH_SIMS SIMs included).
declare -A fr_pid=() fr_port=() fr_gen_secs=() fr_start_secs=() fr_rss=()
fr_up=()
fr_note=""
fr_start() {    # VARIANT
    local v=$1 dir=$work/fr-$1 port t pid deadline
    local -a topt=(-t)
    ((fr_threads > 0)) && topt=()
    port=$(free_udp_port) || { say "run.sh: cannot find a free UDP port"; return 1; }
    say "== FreeRADIUS $v: configuration and $sims SIMs (bench/fr-setup.py)"
    t=$(now)
    python3 "$frsetup" --variant "$v" --dir "$dir" --port "$port" --secret "$secret" \
        --sims "$sims" --imsi-base "$imsi_base" --imei-base "$imei_base" \
        --threads "$((fr_threads > 0 ? fr_threads : 1))" ||
        { say "run.sh: fr-setup.py failed ($v)"; return 1; }
    fr_gen_secs[$v]=$(elapsed "$t")
    t=$(now)
    "${srv_pin[@]}" "$frbin" -f "${topt[@]}" -d "$dir" >"$dir/radiusd.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    deadline=$((SECONDS + ready_timeout))
    until grep -q 'Ready to process requests' "$dir/radiusd.log" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "run.sh: FreeRADIUS ($v) exited before it was ready:"
            tail -n 20 "$dir/radiusd.log" | sed 's/^/    /' >&2
            return 1
        fi
        if ((SECONDS >= deadline)); then
            say "run.sh: FreeRADIUS ($v) not ready after ${ready_timeout} s (BENCH_READY_TIMEOUT)"
            tail -n 20 "$dir/radiusd.log" | sed 's/^/    /' >&2
            return 1
        fi
        sleep 0.05
    done
    fr_start_secs[$v]=$(elapsed "$t")
    say "   ready after ${fr_start_secs[$v]} s"
    sleep 1
    fr_rss[$v]=$(rss_tree_kb "$pid")
    fr_pid[$v]=$pid
    fr_port[$v]=$port
    fr_up+=("$v")
    return 0
}
if [[ $only_ceiling = 0 && $fr_enabled = 1 ]]; then
    frbin=$(PATH=$PATH:/usr/sbin:/usr/local/sbin command -v freeradius ||
            PATH=$PATH:/usr/sbin:/usr/local/sbin command -v radiusd) || frbin=""
    if [[ -z $frbin ]]; then
        fr_note="FreeRADIUS: not measured, not installed (apt-get install freeradius; BENCH_FREERADIUS=0 skips it)"
        say "run.sh: $fr_note"
    else
        for v in $fr_variants; do
            fr_start "$v" || failed=1
        done
    fi
fi

# ---- the runs: same generator, same run, side by side ----
# With BENCH_ROUNDS > 1 the two servers take turns, round after round, so
# that a slow spell of the machine hits both; the table shows medians.
for ((r = 1; r <= rounds; r++)); do
    load "ceiling.window.$r" "$ceiling_port" "$ceiling_pid"
    [[ $m2mguard_up = 1 ]] && load "m2mguard.window.$r" "$m2mguard_port" "$serve_pid"
    for v in "${fr_up[@]}"; do
        load "fr_$v.window.$r" "${fr_port[$v]}" "${fr_pid[$v]}"
    done
done
if [[ $rate != 0 ]]; then
    for ((r = 1; r <= rounds; r++)); do
        load "ceiling.paced.$r" "$ceiling_port" "$ceiling_pid" --rate "$rate"
        [[ $m2mguard_up = 1 ]] && load "m2mguard.paced.$r" "$m2mguard_port" "$serve_pid" --rate "$rate"
        for v in "${fr_up[@]}"; do
            load "fr_$v.paced.$r" "${fr_port[$v]}" "${fr_pid[$v]}" --rate "$rate"
        done
    done
fi

# Accounting, with durable commits (each record answered only once it is on
# disk), to m2mguard's accounting port (auth port + 1):
#   acctnew   Interim-Updates for random SIMs of all BENCH_SIMS: mostly
#             sessions seen for the first time (a session row each);
#   acct      Interim-Updates of BENCH_ACCT_SESSIONS established sessions;
#   mixed     Access-Requests (window) while BENCH_ACCT_RATE Interim-Updates/s
#             of those sessions run beside them (mixedacct: that load).
acct_port=$((${m2mguard_port:-0} + 1))
((acct_sessions > sims)) && acct_sessions=$sims
((triggers > acct_sessions)) && triggers=$acct_sessions
bg_pid=""
# bg_acct NAME SECONDS: the paced background accounting load, in the background.
bg_acct() {
    "${gen_pin[@]}" "$radload" --server "127.0.0.1:$acct_port" --secret "$secret" \
        --sims "$acct_sessions" --imsi-base "$imsi_base" --imei-base "$imei_base" --acct \
        --rate "$acct_rate" --duration "$2" --warmup 0 --window "$window" \
        >"$work/$1.radload" 2>&1 &
    bg_pid=$!
    pids+=("$bg_pid")
}
if [[ $m2mguard_up = 1 && ${BENCH_ACCT:-1} = 1 ]]; then
    for ((r = 1; r <= rounds; r++)); do
        load "m2mguard.acctnew.$r" "$acct_port" "$serve_pid" --acct
    done
    say "== prime: $acct_sessions accounting sessions (one Interim-Update each)"
    "${gen_pin[@]}" "$radload" --server "127.0.0.1:$acct_port" --secret "$secret" \
        --sims "$acct_sessions" --imsi-base "$imsi_base" --imei-base "$imei_base" --acct \
        --sequential --count "$acct_sessions" --duration 3600 --warmup 0 --window "$window" \
        >"$work/acctprime.radload" 2>&1 || say "run.sh: accounting prime failed (see $work/acctprime.radload)"
    for ((r = 1; r <= rounds; r++)); do
        load "m2mguard.acct.$r" "$acct_port" "$serve_pid" --acct --sims "$acct_sessions"
    done
    for ((r = 1; r <= rounds; r++)); do
        bg_acct "m2mguard.mixedacct.$r" "$(awk -v d="$duration" -v w="$warmup" 'BEGIN { print d + w + 1 }')"
        load "m2mguard.mixed.$r" "$m2mguard_port" "$serve_pid"
        wait "$bg_pid"
        parse_result "m2mguard.mixedacct.$r" "$work/m2mguard.mixedacct.$r.radload" "$?"
        # The same interval as the auth run beside it.
        res[m2mguard.mixedacct.$r.others]=${res[m2mguard.mixed.$r.others]:-0}
    done
fi

# Trigger to Disconnect: BENCH_TRIGGERS SIMs with an open session attach
# from a foreign device (another IMEI) at BENCH_TRIGGER_RATE/s while the
# background accounting load runs.  Each is refused and its session cut: the
# daemon records, per Disconnect outcome, the time from the Access-Request's
# arrival to the Disconnect-Request on the wire (actions.detail
# trigger_to_wire_us); da_responder.py plays the GGSN and ACKs.
trig_summary=""
if [[ $m2mguard_up = 1 && ${BENCH_ACCT:-1} = 1 && $triggers -gt 0 ]]; then
    say "== trigger to Disconnect: $triggers foreign-device attaches at $trigger_rate/s under $acct_rate acct/s"
    "${gen_pin[@]}" python3 "$da_responder" --port "$da_port" --secret "$secret" \
        >"$work/da_responder.log" 2>&1 &
    da_pid=$!
    pids+=("$da_pid")
    db=$work/full/m2mguard.db
    before=$(python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT coalesce(max(id), 0) FROM actions").fetchone()[0])' "$db")
    trig_secs=$(( triggers / trigger_rate + 4 ))
    bg_acct trigger.acct "$trig_secs"
    sleep 1
    "${gen_pin[@]}" "$radload" --server "127.0.0.1:$m2mguard_port" --secret "$secret" \
        --sims "$triggers" --imsi-base "$imsi_base" --imei-base "$((imei_base + 50000000))" \
        --sequential --count "$triggers" --rate "$trigger_rate" --duration 3600 --warmup 0 \
        --window "$window" >"$work/trigger.radload" 2>&1 ||
        say "run.sh: trigger run failed (see $work/trigger.radload)"
    wait "$bg_pid"
    parse_result trigger.acct "$work/trigger.acct.radload" "$?"
    trig_summary=$(python3 - "$db" "$before" "$triggers" <<'PY'
import json, sqlite3, sys, time
db, before, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + 10
while True:
    con = sqlite3.connect(db, timeout=10)
    rows = con.execute("SELECT outcome, detail FROM actions WHERE id > ? AND kind = 'disconnect'"
                       " AND outcome IN ('ack', 'nak', 'timeout', 'failed')", (before,)).fetchall()
    con.close()
    if len(rows) >= want or time.monotonic() > deadline:
        break
    time.sleep(0.2)
lat = sorted(json.loads(d).get("trigger_to_wire_us", -1) for _, d in rows)
lat = [v for v in lat if v >= 0]
acks = sum(1 for o, _ in rows if o == "ack")
def q(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else "-"
print("%d %d %s %s %s %s" % (len(rows), acks, q(0.50), q(0.99), q(0.999), lat[-1] if lat else "-"))
PY
)
    stop_pid "$da_pid"
fi

# res[NAME.key] from the rounds res[NAME.<r>.key]: medians of the figures,
# sums of the counts.
combine() {
    local name=$1 key r v
    local -a vals
    for key in rps p50_us p99_us p999_us others; do
        vals=()
        for ((r = 1; r <= rounds; r++)); do
            [[ -n ${res[$name.$r.ok]:-} ]] && vals+=("${res[$name.$r.$key]}")
        done
        ((${#vals[@]})) || return 0
        res[$name.$key]=$(printf '%s\n' "${vals[@]}" | sort -g | awk '
            { v[NR] = $1 }
            END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                  printf (m == int(m) ? "%d" : "%.1f"), m }')
    done
    for key in sent replies accepts rejects lost bad; do
        v=0
        for ((r = 1; r <= rounds; r++)); do
            [[ -n ${res[$name.$r.ok]:-} ]] && v=$((v + res[$name.$r.$key]))
        done
        res[$name.$key]=$v
    done
    res[$name.ok]=1
}
for name in ceiling.window m2mguard.window ceiling.paced m2mguard.paced m2mguard.acctnew \
            m2mguard.acct m2mguard.mixed m2mguard.mixedacct; do
    combine "$name"
done
for v in "${fr_up[@]}"; do
    combine "fr_$v.window"
    combine "fr_$v.paced"
    kill -0 "${fr_pid[$v]}" 2>/dev/null || { say "run.sh: FreeRADIUS ($v) died during the runs"; failed=1; }
done
if [[ $m2mguard_up = 1 ]]; then
    rss_after=$(rss_tree_kb "$serve_pid")
    kill -0 "$serve_pid" 2>/dev/null || { say "run.sh: m2mguard died during the runs"; failed=1; }
fi

# ---- the report ----
ratio() {   # a / b with 2 decimals (3 significant digits under 0.1), "-" when either is missing or b is 0
    awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {
        if (a == "" || b == "" || b + 0 == 0) print "-"
        else if (a / b < 0.1) printf "%.3g", a / b
        else printf "%.2f", a / b }'
}
tabrow() {  # the table's ten columns
    printf '| %-14s | %-18s | %9s | %9s | %9s | %9s | %15s | %6s | %4s | %6s |\n' "$@"
}
row() {     # MODE SERVER RUN
    local r=$3
    if [[ -n ${res[$r.ok]:-} ]]; then
        tabrow "$1" "$2" \
            "${res[$r.rps]}" "${res[$r.p50_us]}" "${res[$r.p99_us]}" "${res[$r.p999_us]}" \
            "${res[$r.accepts]}/${res[$r.replies]}" "${res[$r.lost]}" "${res[$r.bad]}" \
            "${res[$r.others]} %"
    else
        tabrow "$1" "$2" "-" "-" "-" "-" "-" "-" "-" "-"
    fi
}
ratio_row2() {  # MODE LABEL RUN_A RUN_B: a / b
    local a=$3 b=$4
    tabrow "$1" "$2" \
        "$(ratio "${res[$a.rps]:-}" "${res[$b.rps]:-}")" \
        "$(ratio "${res[$a.p50_us]:-}" "${res[$b.p50_us]:-}")" \
        "$(ratio "${res[$a.p99_us]:-}" "${res[$b.p99_us]:-}")" \
        "$(ratio "${res[$a.p999_us]:-}" "${res[$b.p999_us]:-}")" "" "" "" ""
}
ratio_row() {   # MODE KIND
    local mg=m2mguard.$2 ce=ceiling.$2
    tabrow "$1" "m2mguard/ceiling" \
        "$(ratio "${res[$mg.rps]:-}" "${res[$ce.rps]:-}")" \
        "$(ratio "${res[$mg.p50_us]:-}" "${res[$ce.p50_us]:-}")" \
        "$(ratio "${res[$mg.p99_us]:-}" "${res[$ce.p99_us]:-}")" \
        "$(ratio "${res[$mg.p999_us]:-}" "${res[$ce.p999_us]:-}")" "" "" "" ""
}
# fr_best_file MODE: the file-based FreeRADIUS variant (users, passwd) with
# the best figure in that mode: the highest rps at full window, the lowest
# p50 when paced.  Empty when none ran.
fr_best_file() {
    local mode=$1 v best="" bv="" x
    for v in users passwd; do
        [[ -n ${res[fr_$v.$mode.ok]:-} ]] || continue
        if [[ $mode = window ]]; then x=${res[fr_$v.$mode.rps]}; else x=-${res[fr_$v.$mode.p50_us]}; fi
        if [[ -z $best ]] || awk -v a="$x" -v b="$bv" 'BEGIN { exit !(a > b) }'; then
            best=$v
            bv=$x
        fi
    done
    echo "$best"
}
fr_rows() {     # MODE_LABEL MODE
    local v best
    for v in "${fr_up[@]}"; do
        row "$1" "FreeRADIUS $v" "fr_$v.$2"
    done
    best=$(fr_best_file "$2")
    [[ -n $best ]] && ratio_row2 "$1" "m2mguard/FR $best" "m2mguard.$2" "fr_$best.$2"
    [[ -n ${res[fr_sql.$2.ok]:-} ]] && ratio_row2 "$1" "m2mguard/FR sql" "m2mguard.$2" "fr_sql.$2"
    return 0
}

echo
echo "m2mguard RADIUS benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
echo "$sims SIMs, ${duration} s per run after ${warmup} s warm-up$( ((rounds > 1)) && echo ", median of $rounds rounds"); $pinning"
echo "CPU load before the run (other processes): ${background} %"
echo
echo "| load           | server             |       rps |    p50 us |    p99 us |  p99.9 us |        accepted |   lost |  bad | others |"
echo "|----------------|--------------------|-----------|-----------|-----------|-----------|-----------------|--------|------|--------|"
row "window $window" ceiling ceiling.window
if [[ $only_ceiling = 0 ]]; then
    row "window $window" m2mguard m2mguard.window
    ratio_row "window $window" window
    fr_rows "window $window" window
fi
if [[ $rate != 0 ]]; then
    row "paced $rate/s" ceiling ceiling.paced
    if [[ $only_ceiling = 0 ]]; then
        row "paced $rate/s" m2mguard m2mguard.paced
        ratio_row "paced $rate/s" paced
        fr_rows "paced $rate/s" paced
    fi
fi
if [[ -n ${res[m2mguard.acctnew.ok]:-} ]]; then
    row "acct new sess." "m2mguard (durable)" m2mguard.acctnew
fi
if [[ -n ${res[m2mguard.acct.ok]:-} ]]; then
    row "acct interim" "m2mguard (durable)" m2mguard.acct
fi
if [[ -n ${res[m2mguard.mixed.ok]:-} ]]; then
    row "auth + acct" "m2mguard (auth)" m2mguard.mixed
    row "auth + acct" "m2mguard (acct bg)" m2mguard.mixedacct
    tabrow "auth + acct" "auth/auth alone" "$(ratio "${res[m2mguard.mixed.rps]:-}" "${res[m2mguard.window.rps]:-}")" \
        "" "" "" "" "" "" ""
fi
echo
echo "acct runs: window $window, durable group commit (one fsync per batch); acct new sess.: random"
echo "SIMs of $sims (mostly sessions seen for the first time); acct interim: $acct_sessions"
echo "established sessions; auth + acct: Access-Requests (window $window) while $acct_rate"
echo "Interim-Updates/s of those sessions run beside them, on the same server CPU."
if [[ -n $trig_summary ]]; then
    read -r t_n t_ack t_p50 t_p99 t_p999 t_max <<<"$trig_summary"
    echo
    echo "trigger to Disconnect-Request on the wire ($triggers foreign-device attaches at $trigger_rate/s,"
    echo "with ${res[trigger.acct.rps]:-?} Interim-Updates/s beside them): $t_n outcomes, $t_ack ACKed;"
    echo "latency p50 $t_p50 us, p99 $t_p99 us, p99.9 $t_p999 us, max $t_max us"
fi
echo
echo "rps ratio below 1 = m2mguard slower than the ceiling; latency ratios above 1 = m2mguard slower."
if ((${#fr_up[@]})); then
    echo "m2mguard/FR: rps ratio above 1 = m2mguard faster than FreeRADIUS; latency ratios below 1 ="
    echo "m2mguard faster.  FR file = the better file variant (users, passwd) in that mode: highest"
    echo "rps at full window, lowest p50 paced.  FreeRADIUS $(if ((fr_threads > 0)); then echo "with $fr_threads threads"; else echo "single-threaded (-t)"; fi)," \
         "reject_delay 0, 4 MiB receive buffer."
fi
echo "others = CPU time used inside this machine by other processes during the run, % of all"
echo "CPUs (contention from outside a virtual machine does not show there: compare rounds)."
if ((rounds > 1)) && [[ $only_ceiling = 0 ]]; then
    for mode in window paced; do
        line=""
        for ((r = 1; r <= rounds; r++)); do
            line+=" $(ratio "${res[m2mguard.$mode.$r.rps]:-}" "${res[ceiling.$mode.$r.rps]:-}")"
        done
        [[ $mode = paced && $rate = 0 ]] || echo "rps ratio m2mguard/ceiling per round, $mode:$line"
        for v in "${fr_up[@]}"; do
            line=""
            for ((r = 1; r <= rounds; r++)); do
                line+=" $(ratio "${res[m2mguard.$mode.$r.rps]:-}" "${res[fr_$v.$mode.$r.rps]:-}")"
            done
            [[ $mode = paced ]] || echo "rps ratio m2mguard/FreeRADIUS $v per round, $mode:$line"
        done
    done
fi
noisy=0
checked=(ceiling.window m2mguard.window ceiling.paced m2mguard.paced)
for v in "${fr_up[@]}"; do
    checked+=("fr_$v.window" "fr_$v.paced")
done
for r in "${checked[@]}"; do
    [[ -n ${res[$r.others]:-} ]] && ((${res[$r.others]%.*} > 10)) && noisy=1
done
if [[ $noisy = 1 ]]; then
    echo "WARNING: other work used more than 10 % of the CPUs during a run: the figures and"
    echo "         the ratios are unreliable; run again on a quiet machine."
fi

if [[ $only_ceiling = 0 ]]; then
    echo
    if [[ -n $rss_base && -n $rss_full ]]; then
        echo "m2mguard VmRSS: ${rss_base} kB with 1 SIM, ${rss_full} kB with $sims SIMs" \
             "(after load, before traffic)${rss_after:+, ${rss_after} kB after the runs}"
        if ((sims > 1)); then
            awk -v b="$rss_base" -v f="$rss_full" -v n="$sims" 'BEGIN {
                printf "resident memory per provisioned SIM: %.0f bytes ((%d - %d) kB / %d SIMs; DESIGN.md §6 target < 512)\n",
                       (f - b) * 1024 / (n - 1), f, b, n - 1 }'
        fi
        [[ -n ${import_secs[$sims]:-} ]] && echo "import of $sims SIMs: ${import_secs[$sims]} s"
    else
        echo "m2mguard memory: not measured (the daemon did not start; see above)"
    fi
    for r in m2mguard.window m2mguard.paced; do
        if [[ -n ${res[$r.ok]:-} && ${res[$r.rejects]:-0} != 0 ]]; then
            echo "note: m2mguard rejected ${res[$r.rejects]} of ${res[$r.replies]} requests in $r:" \
                 "those figures include the reject path (check the import and the group's policy)"
        fi
    done
fi

if [[ $only_ceiling = 0 && $fr_enabled = 1 ]]; then
    echo
    [[ -n $fr_note ]] && echo "$fr_note"
    for v in $fr_variants; do
        if [[ -n ${fr_start_secs[$v]:-} ]]; then
            echo "FreeRADIUS $v, $sims SIMs: start-up (exec to \"Ready to process requests\") ${fr_start_secs[$v]} s;" \
                 "VmRSS ${fr_rss[$v]} kB; data written by fr-setup.py in ${fr_gen_secs[$v]} s"
        elif [[ -z $fr_note ]]; then
            echo "FreeRADIUS $v: did not start (see above)"
        fi
        for m in window paced; do
            r=fr_$v.$m
            if [[ -n ${res[$r.ok]:-} && ${res[$r.rejects]:-0} != 0 ]]; then
                echo "WARNING: FreeRADIUS $v rejected ${res[$r.rejects]} of ${res[$r.replies]} requests in the" \
                     "$m run: those figures measure rejects (check its data and policy)"
            fi
        done
    done
fi

exit "$failed"
