#!/usr/bin/env bash
# Build the fuzz targets with clang's libFuzzer, ASan and UBSan (common/ is
# compiled in, instrumented) and run each for a while.
#
#   tests/fuzz/run_libfuzzer.sh [SECONDS] [TARGET...]    default: 60, all
#   tests/fuzz/run_libfuzzer.sh replay                    sanitizer replay of
#                                                         the seed corpora
# Needs clang and libclang-rt-14-dev (Debian 12). Outputs in build/fuzz/:
# fuzz_<t> (libFuzzer), replay_<t> (replay.c driver), corpus_<t>/ (what
# libFuzzer found), artifacts/ (crash-*, leak-*, timeout-* reproducers).
set -euo pipefail
cd "$(dirname "$0")/../.."
CC=${CLANG:-clang}
OUT=build/fuzz
mkdir -p "$OUT/artifacts"
CFLAGS=(-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
        -fno-sanitize-recover=undefined
        -I/usr/include/apr-1.0 -D_GNU_SOURCE -DLINUX -D_REENTRANT -Icommon)
LIBS=(-lapr-1 -laprutil-1 -ljansson -lcrypto -lpsl -lmemcachedutil -lmemcached -lpthread -lpcre2-8)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

all_targets() { ls tests/fuzz/fuzz_*.c | sed 's#.*/fuzz_\(.*\)\.c#\1#'; }

if [ "${1:-}" = replay ]; then
    shift
    rc=0
    for t in ${*:-$(all_targets)}; do
        $CC "${CFLAGS[@]}" "tests/fuzz/fuzz_$t.c" tests/fuzz/replay.c \
            common/gk_*.c -o "$OUT/replay_$t" "${LIBS[@]}"
        "$OUT/replay_$t" "tests/fuzz/corpus/$t" || rc=1
    done
    exit $rc
fi

secs=${1:-60}
[ $# -gt 0 ] && shift
rc=0
for t in ${*:-$(all_targets)}; do
    $CC "${CFLAGS[@]}" -fsanitize=fuzzer "tests/fuzz/fuzz_$t.c" common/gk_*.c \
        -o "$OUT/fuzz_$t" "${LIBS[@]}"
    mkdir -p "$OUT/corpus_$t"
    dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
    echo "== fuzz_$t for ${secs}s"
    "$OUT/fuzz_$t" -max_total_time="$secs" -max_len=10000 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t-" \
        "${dict[@]}" "$OUT/corpus_$t" "tests/fuzz/corpus/$t" \
        >"$OUT/fuzz_$t.log" 2>&1 || { rc=1; echo "fuzz_$t FAILED: see $OUT/fuzz_$t.log"; }
    grep -E '^(stat::|#[0-9]+ *DONE)' "$OUT/fuzz_$t.log" | head -5 || true
done
ls -l "$OUT/artifacts"
exit $rc
