#!/usr/bin/env bash
# scripts/fuzz.sh [TARGET] [SECONDS]   fuzz one target (default fuzz_bus_child, 60 s)
# scripts/fuzz.sh --list              one line per "TARGET VARIANT  what the variant is"
# scripts/fuzz.sh --project DIR ...   the same for a team's own project (docs/WRITING-A-TARGET.md)
# TDF_VARIANT=<variant> selects a variant (default: the target's first, its correct protocol).
# Corpus: corpus/<target>/; crashes: artifacts/<target>/ (in the project). Exit status:
# 0 when nothing was found, else the failure class's exit code (docs/REPORTS.md).
source "$(dirname "$0")/lib.sh"

if tdf_take_project_flag "$@"; then shift 2; fi
tdf_ensure_deps
build=$(tdf_build asan "$TDF_PROJECT")

if [ "${1:-}" = "--list" ]; then
    for t in $(tdf_targets "$build"); do "$build/bin/${t}_run" --list; done
    exit 0
fi

target=${1:-$(head -n 1 "$build/tdf_targets.txt")}
seconds=${2:-60}
[ -x "$build/bin/$target" ] || { tdf_log "no target '$target'; try: scripts/fuzz.sh --list"; exit 2; }
# Default variant: the target's first, its correct protocol. A bad name exits 2 with the list.
variant=${TDF_VARIANT:-$("$build/bin/${target}_run" --list | head -n 1 | cut -f1 | cut -d' ' -f2)}
"$build/bin/${target}_run" --variant="$variant" --list >/dev/null

corpus="$TDF_PROJECT/corpus/$target"
artifacts="$TDF_PROJECT/artifacts/$target"
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
    project_flag=""
    [ "$TDF_PROJECT" != "$TDF_ROOT" ] && project_flag="--project $TDF_PROJECT "
    echo "reproduce:  TDF_VARIANT=$variant $TDF_ROOT/scripts/repro.sh $project_flag$target $c"
done
exit "$code"
