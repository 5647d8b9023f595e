#!/usr/bin/env bash
# scripts/test.sh   the test command (what CI runs, .ci/run)
# Installs what is missing, builds every configuration first (plain gcc,
# clang-14 ASan+UBSan+libFuzzer, clang-14 TSan), then runs ctest in each (unit
# tests, CLI tests, corpus and repro replay, determinism), then checks that
# plain and asan print the same trace for every corpus and repro input.
# Then the fuzz build with a 3-second scripts/fuzz.sh --build fuzz, and the
# ClusterFuzzLite build (scripts/cflite_check.sh; TDF_SKIP_CFLITE=1 skips it
# with a message). The last line counts checks: one per configuration's ctest
# run, one per input of the cross-build comparison, one for the fuzz build,
# one for the ClusterFuzzLite check ("N passed, M failed").
#
# Exit status: 0 everything passed, 1 a build, a ctest run or a trace
# comparison failed, 2 usage error (it takes no arguments).
source "$(dirname "$0")/lib.sh"

TDF_USAGE="scripts/test.sh | --help   (no arguments: builds plain, asan, tsan and runs every test)
exit: 0 all passed, 1 something failed, 2 usage error"
case "${1:-}" in -h | --help) tdf_help ;; esac
[ $# -eq 0 ] || tdf_usage_error "unexpected argument '$1' (scripts/test.sh takes none)"

# The tests also need python3 (tests/nightly) and npm, which installs Microsoft's SARIF validator
# (tests/nightly: nightly.sarif). Debian's nodejs and npm only where no npm is on the PATH: a
# machine with another Node.js distribution (NodeSource's ships npm inside its nodejs package)
# cannot take Debian's npm package beside it, and needs none.
# Debian's chromium loads the timeline page in the html.chromium test (tests/html/run.sh, skipped
# with a message where it is absent).
TDF_PACKAGES+=(python3 chromium)
command -v npm >/dev/null 2>&1 || TDF_PACKAGES+=(nodejs npm)
tdf_ensure_deps
jobs=$(nproc)
declare -A dirs
for config in $TDF_CONFIGS; do
    tdf_log "build $config"
    dirs[$config]=$(tdf_build "$config") || { tdf_log "build $config failed"; echo "0 passed, 1 failed"; exit 1; }
done

passed=0 failed=0
for config in $TDF_CONFIGS; do
    tdf_log "ctest $config"
    if ctest --test-dir "${dirs[$config]}" --output-on-failure -j "$jobs"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        tdf_log "ctest $config: FAILED"
    fi
done

tdf_log "plain vs asan: same trace for every corpus and repro input"
plain=${dirs[plain]} asan=${dirs[asan]}
same=0 differ=0
for t in $(tdf_targets "$plain"); do
    correct=$(tdf_default_variant "$plain/bin/${t}_run")
    for f in "$TDF_ROOT"/corpus/"$t"/* "$TDF_ROOT"/repro/"$t"/*.txt; do
        [ -f "$f" ] || continue
        v=$correct
        if [[ "$f" == */repro/* ]]; then v=$(sed -n 's/^# expect-variant //p' "$f"); fi
        # sed reads everything (no SIGPIPE); a failing run is compared too.
        a=$(env -u TDF_VARIANT "$plain/bin/${t}_run" --variant="$v" --print_trace "$f" 2>/dev/null | sed '/^==TDF== RESULT/d' || true)
        b=$(env -u TDF_VARIANT "$asan/bin/${t}_run" --variant="$v" --print_trace "$f" 2>/dev/null | sed '/^==TDF== RESULT/d' || true)
        if [ "$a" == "$b" ]; then same=$((same + 1)); else differ=$((differ + 1)); tdf_log "trace differs: $f"; fi
    done
done
tdf_log "cross-build traces: $same identical, $differ different"

# The ClusterFuzzLite build (docs/REPORTS.md "ClusterFuzzLite"): .clusterfuzzlite/build.sh run with the
# builder's variables, then each fuzzer over its seed corpus. A whole ASan build of its own (a few
# minutes), hence here and not in ctest; TDF_SKIP_CFLITE=1 skips it, said so.
# The fuzz build (libFuzzer without ASan; scripts/fuzz.sh --build fuzz) has no
# tests of its own, so nothing else would notice that it stopped building or that
# its way from a crash to the asan confirmation broke: build it and run that way
# on a mutant the fuzzer kills in its first execs (fuzz_bus_child's
# thread_not_waited, docs/TARGETS.md): a model class exit (10-14) with the
# confirmation line, within a 60 s cap.
tdf_log "build fuzz, and scripts/fuzz.sh --build fuzz on fuzz_bus_child thread_not_waited"
fuzz_work=$(mktemp -d)
fuzz_rc=0
if tdf_build fuzz >/dev/null; then
    TDF_VARIANT=thread_not_waited "$TDF_ROOT/scripts/fuzz.sh" --build fuzz --corpus "$fuzz_work/corpus" \
        --artifacts "$fuzz_work/artifacts" fuzz_bus_child 60 >"$fuzz_work/log" 2>&1 || fuzz_rc=$?
else
    fuzz_rc=1
fi
if [ $fuzz_rc -ge 10 ] && [ $fuzz_rc -le 14 ] && grep -q '^==TDF== confirmed in asan: ' "$fuzz_work/log"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    [ ! -f "$fuzz_work/log" ] || tail -n 30 "$fuzz_work/log" >&2
    tdf_log "the fuzz build or scripts/fuzz.sh --build fuzz: FAILED (exit $fuzz_rc, or no 'confirmed in asan' line)"
fi
rm -rf "$fuzz_work"

if [ "${TDF_SKIP_CFLITE:-0}" = 1 ]; then
    tdf_log "SKIPPED: the ClusterFuzzLite check (TDF_SKIP_CFLITE=1)"
elif "$TDF_ROOT/scripts/cflite_check.sh" --jobs "$jobs"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    tdf_log "ClusterFuzzLite check: FAILED"
fi
echo "$((passed + same)) passed, $((failed + differ)) failed"
[ $((failed + differ)) -eq 0 ]
