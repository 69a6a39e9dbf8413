#!/usr/bin/env bash
# bench/callgrind.sh — where an Access-Request's instructions go, counted by
# valgrind's callgrind: m2mguard beside the bare responder (bench/udp_ceiling).
#
# Instruction counts do not depend on what else the machine runs, so this is
# the figure to compare before / after a change on a shared, noisy machine
# (throughput is bench/run.sh's).  Both servers run under callgrind with
# instrumentation off; it is switched on (callgrind_control -i on) for
# exactly CG_COUNT Access-Requests from bench/radload (random SIMs, after
# every SIM attached once uninstrumented), then off again.  Printed:
# instructions per request for each and their ratio, and the functions of
# m2mguard's request path with the most instructions (self and inclusive).
#
# Environment (defaults in brackets):
#   CG_SIMS [100000]     SIMs provisioned (and radload's population)
#   CG_COUNT [50000]     requests counted
#   CG_TOP [25]          functions listed
#   CG_KEEP [0]          1 keeps the work directory (the callgrind.out files,
#                        for callgrind_annotate / kcachegrind)
#   BUILD [build]        the Meson build directory
# Exit status: 0 when both servers were measured, 1 otherwise, 2 on a usage error.
set -uo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
"") ;;
*) echo "callgrind.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
[[ $build = /* ]] || build=$root/$build
sims=${CG_SIMS:-100000}
count=${CG_COUNT:-50000}
top=${CG_TOP:-25}
m2mguard=$build/m2mguard
radload=$build/bench/radload
ceiling=$build/bench/udp_ceiling
secret=callgrind-bench-secret
imsi_base=001010000000000
imei_base=35000000000000
for tool in valgrind callgrind_control callgrind_annotate python3; do
    command -v "$tool" >/dev/null || { echo "callgrind.sh: $tool is not installed (apt-get install valgrind)" >&2; exit 1; }
done
for b in "$m2mguard" "$radload" "$ceiling"; do
    [[ -x $b ]] || { echo "callgrind.sh: $b is missing (make build)" >&2; exit 1; }
done
[[ $sims =~ ^[0-9]+$ && $sims -ge 1 && $count =~ ^[0-9]+$ && $count -ge 1 ]] ||
    { echo "callgrind.sh: CG_SIMS and CG_COUNT must be whole numbers >= 1" >&2; exit 2; }

work=$(mktemp -d /tmp/m2mguard-callgrind.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [[ ${CG_KEEP:-0} = 1 ]] && echo "work directory kept: $work" || rm -rf "$work"
}
trap cleanup EXIT
say() { echo "$@" >&2; }
free_udp_port() {
    python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Start a server under callgrind, instrumentation off; sets server_pid.
start_under_callgrind() {    # NAME LOGFILE CMD...
    local name=$1 log=$2
    shift 2
    valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$work/callgrind.$name.out" "$@" >/dev/null 2>"$log" &
    server_pid=$!
    pids+=("$server_pid")
}

# measure NAME PID PORT: instrument exactly `count` requests; sets ir.
measure() {
    local name=$1 pid=$2 port=$3
    say "== $name: every SIM once (not counted)"
    "$radload" --server "127.0.0.1:$port" --secret "$secret" --sims "$sims" \
        --imsi-base "$imsi_base" --imei-base "$imei_base" --sequential --count "$sims" \
        --window 16 --warmup 0 --duration 3600 >"$work/$name.prime.log" 2>&1 ||
        { say "callgrind.sh: priming $name failed: $(tail -n 3 "$work/$name.prime.log")"; return 1; }
    callgrind_control -i on "$pid" >/dev/null 2>&1 || { say "callgrind.sh: cannot switch $name's instrumentation on"; return 1; }
    say "== $name: $count requests, instrumented"
    "$radload" --server "127.0.0.1:$port" --secret "$secret" --sims "$sims" \
        --imsi-base "$imsi_base" --imei-base "$imei_base" --count "$count" \
        --window 16 --warmup 0 --duration 3600 >"$work/$name.run.log" 2>&1 ||
        { say "callgrind.sh: the $name run failed: $(tail -n 3 "$work/$name.run.log")"; return 1; }
    callgrind_control -i off "$pid" >/dev/null 2>&1
    grep -q " lost=0 " <(tail -n 1 "$work/$name.run.log") ||
        say "callgrind.sh: warning: $name lost requests: $(tail -n 1 "$work/$name.run.log")"
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
    ir=$(callgrind_annotate "$work/callgrind.$name.out" 2>/dev/null |
        sed -n 's/^ *\([0-9,]*\) (100.0%) *PROGRAM TOTALS.*/\1/p' | tr -d ,)
}

# ---- m2mguard: 1 worker, the bench group's policy (IMEI lock enforced) ----
mkdir -p "$work/m"
mport=$(free_udp_port)
cat >"$work/m/m2mguard.conf" <<EOF
# written by bench/callgrind.sh
database   $work/m/m2mguard.db
control    $work/m/control.sock
log        stderr
events     none
workers    1
listen auth 127.0.0.1:$mport
client bench {
    address 127.0.0.1/32
    secret  "$secret"
    tenant  bench
    da-port $(free_udp_port)
}
EOF
cat >"$work/m/policy.json" <<EOF
{ "description": "bench: IMEI lock enforced", "imei_lock": { "mode": "enforce" } }
EOF
say "== provisioning $sims SIMs"
python3 "$root/bench/gen-fleet.py" --sims "$sims" --imsi-base "$imsi_base" \
    --imei-base "$imei_base" -o "$work/m/fleet.csv" || exit 1
"$m2mguard" -c "$work/m/m2mguard.conf" sim import "$work/m/fleet.csv" --create-missing \
    >"$work/m/import.log" 2>&1 || { say "import failed: $(tail -n 5 "$work/m/import.log")"; exit 1; }
"$m2mguard" -c "$work/m/m2mguard.conf" policy set bench "$work/m/policy.json" --tenant bench \
    >>"$work/m/import.log" 2>&1 || { say "policy set failed"; exit 1; }

say "== m2mguard under callgrind (start-up is slow: about 30 s per million SIMs)"
start_under_callgrind m2mguard "$work/m/serve.log" "$m2mguard" -c "$work/m/m2mguard.conf" serve
mpid=$server_pid
for ((i = 0; i < 1800; i++)); do
    "$m2mguard" -c "$work/m/m2mguard.conf" stats >/dev/null 2>&1 && break
    kill -0 "$mpid" 2>/dev/null || { say "m2mguard exited: $(tail -n 5 "$work/m/serve.log")"; exit 1; }
    sleep 0.5
done
measure m2mguard "$mpid" "$mport" || exit 1
m_ir=$ir

say "== udp_ceiling under callgrind"
cport=$(free_udp_port)
start_under_callgrind ceiling "$work/ceiling.log" "$ceiling" --listen "127.0.0.1:$cport" --secret "$secret"
cpid=$server_pid
for ((i = 0; i < 100; i++)); do
    grep -q listening "$work/ceiling.log" 2>/dev/null && break
    sleep 0.2
done
measure ceiling "$cpid" "$cport" || exit 1
c_ir=$ir
[[ -n $m_ir && -n $c_ir ]] || { say "callgrind.sh: no instruction totals"; exit 1; }

echo
echo "callgrind: instructions per Access-Request ($count requests, $sims SIMs, window 16)"
printf '| %-10s | %12s | %10s |\n' server "Ir total" "Ir/request"
printf '|%s|%s|%s|\n' ------------ -------------- ------------
printf '| %-10s | %12s | %10s |\n' ceiling "$c_ir" "$((c_ir / count))"
printf '| %-10s | %12s | %10s |\n' m2mguard "$m_ir" "$((m_ir / count))"
echo "m2mguard / ceiling: $(python3 -c "print(f'{$m_ir / $c_ir:.2f}')")"
echo
echo "m2mguard, the $top functions with the most instructions (self), and inclusive:"
callgrind_annotate --threshold=100 "$work/callgrind.m2mguard.out" 2>/dev/null |
    sed -n '/^Ir /,$p' | sed -n "3,$((top + 2))p"
echo
callgrind_annotate --inclusive=yes --threshold=100 "$work/callgrind.m2mguard.out" 2>/dev/null |
    sed -n '/^Ir /,$p' | sed -n "3,$((top + 2))p"
