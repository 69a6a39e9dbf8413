#!/bin/sh
# Build the libFuzzer harnesses with clang (ASan + UBSan) and run each for
# FUZZ_SECONDS seconds on a scratch copy of its seed corpus.  The codec's
# harnesses link the codec sources alone; those of the parsers above it
# (config, policy, CSV import) link the daemon's core: every src/**/*.c but
# src/main.c, compiled once into build-fuzz/core/, with SQLite, jansson,
# libcrypto, libmicrohttpd, libcurl, libseccomp and libcbor from pkg-config.  The
# SenML decoder is in the codec but needs jansson and libcbor.  A harness's dictionary, if any, is
# tests/fuzz/<name without fuzz_>.dict.
#
#   scripts/fuzz.sh [HARNESS...]        (default: every tests/fuzz/fuzz_*.c)
#
#   FUZZ_SECONDS=60   time per harness
#   FUZZ_SAVE=1       fuzz in tests/fuzz/corpus/<harness>/ itself, so new
#                     inputs land in the repository (review before commit)
#   FUZZ_JOBS=1       parallel libFuzzer workers per harness (-fork=N)
#   CC=clang          the compiler; it needs libclang-rt-*-dev for libFuzzer
#
# Binaries go to build-fuzz/, crash inputs to build-fuzz/artifacts/<harness>/
# (replay one with: build-fuzz/<harness> <file>, or with the ordinary build's
# build/tests/replay_<name> <file> under gdb).  Exits non-zero when a
# harness finds a crash, a leak or a broken property.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
CC=${CC:-clang}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_SAVE=${FUZZ_SAVE:-0}
FUZZ_JOBS=${FUZZ_JOBS:-1}
out=build-fuzz
codec="src/core/ident.c src/radius/packet.c src/radius/crypto.c src/radius/gpp.c \
 src/coap/oscore.c src/coap/senml.c src/coap/profile.c"
codec_libs="$(pkg-config --libs libcrypto jansson libcbor) -lm"
# -fno-sanitize-recover: a UBSan finding must stop the run like a crash does.
cflags="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1 \
 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Isrc -Itests/fuzz"
# The core's objects: instrumented alike, but without libFuzzer's main().
core_cflags=$(echo "$cflags" | sed 's/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,/')
core_libs="$(pkg-config --libs sqlite3 jansson libcrypto libmicrohttpd libcurl libseccomp libcbor) -lpthread -lm"

if [ $# -gt 0 ]; then
    harnesses="$*"
else
    harnesses=$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c; done)
fi

# Inputs longer than any real one only slow the search down.
max_len() {
    case $1 in
        fuzz_radius_packet|fuzz_policy|fuzz_csv_import) echo 4096 ;;
        fuzz_config) echo 8192 ;;   # past the 4096-character line limit
        fuzz_oscore) echo 600 ;;    # an option (255) and a payload past it
        fuzz_senml) echo 1200 ;;    # past a CoAP block of 1024
        *) echo 64 ;;
    esac
}

# Harnesses that need the daemon's core rather than the codec alone.
needs_core() {
    case $1 in
        fuzz_config|fuzz_policy|fuzz_csv_import|fuzz_api) return 0 ;;
        *) return 1 ;;
    esac
}

# Compile every core source (all of src/ but main.c) once per run.
build_core() {
    [ -n "${core_objs:-}" ] && return 0
    echo "== building the core for the fuzzers"
    mkdir -p "$out/core"
    core_objs=""
    # shellcheck disable=SC2046
    for src in $(find src -name '*.c' ! -path src/main.c | sort); do
        obj="$out/core/$(echo "${src#src/}" | tr / _ | sed 's/\.c$/.o/')"
        # shellcheck disable=SC2086
        $CC $core_cflags $(pkg-config --cflags sqlite3 jansson libcrypto libmicrohttpd libcurl libseccomp libcbor) \
            -c -o "$obj" "$src"
        core_objs="$core_objs $obj"
    done
}

mkdir -p "$out"
for h in $harnesses; do
    echo "== building $h"
    if needs_core "$h"; then
        build_core
        # shellcheck disable=SC2086
        $CC $cflags -o "$out/$h" "tests/fuzz/$h.c" $core_objs $core_libs
    else
        # shellcheck disable=SC2086
        $CC $cflags -o "$out/$h" "tests/fuzz/$h.c" $codec $codec_libs
    fi
done

status=0
for h in $harnesses; do
    seeds="tests/fuzz/corpus/$h"
    [ -d "$seeds" ] || { echo "fuzz.sh: no seed corpus $seeds" >&2; exit 1; }
    artifacts="$out/artifacts/$h"
    mkdir -p "$artifacts"
    if [ "$FUZZ_SAVE" = 1 ]; then
        work="$seeds"
    else
        work="$out/corpus/$h"
        rm -rf "$work"
        mkdir -p "$work"
        cp "$seeds"/* "$work"/
    fi
    echo "== fuzzing $h for ${FUZZ_SECONDS}s (corpus $work)"
    if [ "$FUZZ_JOBS" -gt 1 ]; then
        par="-fork=$FUZZ_JOBS"
    else
        par=""
    fi
    dict="tests/fuzz/${h#fuzz_}.dict"
    if [ -f "$dict" ]; then
        par="$par -dict=$dict"
    fi
    # shellcheck disable=SC2086
    if "$out/$h" -max_total_time="$FUZZ_SECONDS" -max_len="$(max_len "$h")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" $par "$work" >"$out/$h.log" 2>&1; then
        echo "   ok: $(grep -E '^stat::number_of_executed_units' "$out/$h.log" | awk '{print $2}') runs," \
             "corpus $(find "$work" -type f | wc -l) inputs"
    else
        status=1
        echo "   FAILED: see $out/$h.log and $artifacts/" >&2
        grep -E 'ERROR|property failed|SUMMARY' "$out/$h.log" | head -5 >&2 || true
    fi
done
exit $status
