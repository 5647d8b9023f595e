#!/usr/bin/env bash
# scripts/test.sh   the test command (what CI runs)
# Installs what is missing, builds every configuration (plain gcc, clang-14
# ASan+UBSan+libFuzzer, clang-14 TSan), runs ctest in each (unit tests, corpus
# and repro replay, determinism), then checks that plain and asan print the
# same trace for every corpus and repro input.
source "$(dirname "$0")/lib.sh"

tdf_ensure_deps
jobs=$(nproc)
failed=0
for config in plain asan tsan; do
    tdf_log "build $config"
    build=$(tdf_build "$config")
    tdf_log "ctest $config"
    ctest --test-dir "$build" --output-on-failure -j "$jobs" || failed=1
done

tdf_log "plain vs asan: same trace for every corpus and repro input"
plain="$TDF_ROOT/build/plain" asan="$TDF_ROOT/build/asan"
same=0 differ=0
for t in $(tdf_targets "$plain"); do
    for f in "$TDF_ROOT"/corpus/"$t"/* "$TDF_ROOT"/repro/"$t"/*.txt; do
        [ -f "$f" ] || continue
        v=correct
        if [[ "$f" == */repro/* ]]; then v=$(sed -n 's/^# expect-variant //p' "$f"); fi
        a=$("$plain/bin/${t}_run" --variant="$v" --print_trace "$f" | sed '/^==TDF== RESULT/d' || true)
        b=$("$asan/bin/${t}_run" --variant="$v" --print_trace "$f" | sed '/^==TDF== RESULT/d' || true)
        if [ "$a" == "$b" ]; then same=$((same + 1)); else differ=$((differ + 1)); tdf_log "trace differs: $f"; fi
    done
done
tdf_log "cross-build traces: $same identical, $differ different"
[ "$differ" -eq 0 ] || failed=1
echo "$((same)) passed, $((differ)) failed"
exit "$failed"
