#!/bin/sh
# The whole test suite: C unit tests and corpus replays (meson), then the
# integration tests that drive the real daemon with real RADIUS clients
# (pytest, Debian's /usr/bin/python3).  Ends with one summary line:
#   "N passed, M failed"
# Usage: tests/run-all.sh [BUILD_DIR]   (default: build)
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$here/$build" ;; esac
cd "$here" || exit 1

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

echo "== unit tests and fuzz corpus replay (meson)"
meson test -C "$build" --print-errorlogs --suite unit --suite fuzz-replay 2>&1 | tee "$logdir/meson.txt"
meson_ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$logdir/meson.txt" | tail -1)
meson_fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$logdir/meson.txt" | tail -1)
meson_to=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$logdir/meson.txt" | tail -1)
meson_ok=${meson_ok:-0}
meson_fail=$(( ${meson_fail:-0} + ${meson_to:-0} ))
if [ "$meson_ok" -eq 0 ] && [ "$meson_fail" -eq 0 ]; then
    echo "meson ran no test" >&2
    meson_fail=1
fi

echo "== integration tests (pytest, real daemon, radclient and pyrad)"
M2MGUARD_BIN="$build/m2mguard" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    tests/integration 2>&1 | tee "$logdir/pytest.txt"
py_pass=$(grep -Eo '[0-9]+ passed' "$logdir/pytest.txt" | tail -1 | grep -Eo '[0-9]+')
py_fail=$(grep -Eo '[0-9]+ (failed|error|errors)' "$logdir/pytest.txt" | awk '{s += $1} END {print s + 0}')
py_pass=${py_pass:-0}
py_fail=${py_fail:-0}
if [ "$py_pass" -eq 0 ] && [ "$py_fail" -eq 0 ]; then
    echo "pytest ran no test" >&2
    py_fail=1
fi

passed=$((meson_ok + py_pass))
failed=$((meson_fail + py_fail))
echo
echo "unit+replay: $meson_ok passed, $meson_fail failed; integration: $py_pass passed, $py_fail failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
