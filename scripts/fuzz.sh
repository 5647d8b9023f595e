#!/usr/bin/env bash
# scripts/fuzz.sh [TARGET] [SECONDS]   fuzz one target (default fuzz_bus_child, 60 s)
# scripts/fuzz.sh --list              one line per "TARGET VARIANT  what the variant is"
# TDF_VARIANT=<variant> selects a mutant (default: correct).
# Corpus: corpus/<target>/; crashes: artifacts/<target>/. Exit status: 0 when
# nothing was found, else the failure class's exit code (docs/REPORTS.md).
source "$(dirname "$0")/lib.sh"

tdf_ensure_deps
build=$(tdf_build asan)

if [ "${1:-}" = "--list" ]; then
    for t in $(tdf_targets "$build"); do "$build/bin/${t}_run" --list; done
    exit 0
fi

target=${1:-fuzz_bus_child}
seconds=${2:-60}
variant=${TDF_VARIANT:-correct}
[ -x "$build/bin/$target" ] || { tdf_log "no target '$target'; try: scripts/fuzz.sh --list"; exit 2; }
"$build/bin/${target}_run" --variant="$variant" --list >/dev/null # validates the variant name

corpus="$TDF_ROOT/corpus/$target"
artifacts="$TDF_ROOT/artifacts/$target"
mkdir -p "$corpus" "$artifacts"
stamp=$(mktemp)
tdf_log "fuzzing $target variant=$variant for ${seconds}s (corpus $corpus)"

set +e
TDF_VARIANT=$variant "$build/bin/$target" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/$variant-" -max_len=512 "$corpus" 2>&1 |
    grep --line-buffered -E '^#[0-9]+[[:space:]]+(INITED|pulse|DONE)|^==TDF== (BUGCHECK|HARDWARE|MISUSE|DEADLOCK|HANG|SANITIZER|FAULT|SIGNATURE)|^stat::(number_of_executed_units|average_exec_per_sec)|ERROR: (libFuzzer|AddressSanitizer)'
rc=${PIPESTATUS[0]}
set -e

crashes=$(find "$artifacts" -maxdepth 1 -type f -newer "$stamp" \( -name "$variant-crash-*" -o -name "$variant-timeout-*" -o -name "$variant-oom-*" \) | sort)
rm -f "$stamp"
if [ -z "$crashes" ]; then
    [ "$rc" -eq 0 ] && tdf_log "no failure found in ${seconds}s" || tdf_log "fuzzer exited with $rc and no artifact"
    exit "$rc"
fi
code=1
for c in $crashes; do
    echo
    tdf_log "found: $c"
    set +e
    "$build/bin/${target}_run" --variant="$variant" --text "$c"
    code=$?
    set -e
    echo
    echo "reproduce:  TDF_VARIANT=$variant scripts/repro.sh $target $c"
done
exit "$code"
