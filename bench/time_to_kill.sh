#!/usr/bin/env bash
# bench/time_to_kill.sh [TARGET] [SEEDS] [MAX_SECONDS]
# Time (and execs) to the first crash for every mutant of TARGET, from an empty
# corpus, with and without the state-transition feedback (TDF_STATE_FEEDBACK),
# median over SEEDS libFuzzer seeds. Needs build/asan (scripts/fuzz.sh builds it).
# Output: one line per mutant, feedback on vs off, and the ratio of medians.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:-fuzz_bus_child}
seeds=${2:-5}
max=${3:-120}
bindir=${TDF_BIN_DIR:-$root/build/asan/bin} # a copy keeps a rebuild from changing it mid-run
bin="$bindir/$target"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# execs and seconds to the first crash of one run; "max" if none within the cap
one_run() {
    local variant=$1 feedback=$2 seed=$3 corpus="$work/corpus" log="$work/log"
    rm -rf "$corpus" && mkdir -p "$corpus"
    local start end
    start=$(date +%s.%N)
    TDF_VARIANT=$variant TDF_STATE_FEEDBACK=$feedback "$bin" -seed="$seed" -max_total_time="$max" \
        -artifact_prefix="$work/" -max_len=512 "$corpus" >"$log" 2>&1 || true
    end=$(date +%s.%N)
    if grep -q 'Test unit written' "$log"; then
        local execs
        execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#' || true)
        echo "$(echo "$end - $start" | bc) ${execs:-0}"
    else
        echo "$max inf"
    fi
    rm -f "$work"/crash-*
}

printf '%-20s %-10s %12s %12s\n' mutant feedback median_s median_execs
for variant in $("$bindir/${target}_run" --list | cut -f1 | cut -d' ' -f2 | tail -n +2); do
    declare -A med_s
    for feedback in 1 0; do
        secs=() execs=()
        for seed in $(seq 1 "$seeds"); do
            read -r s e < <(one_run "$variant" "$feedback" "$seed")
            secs+=("$s") execs+=("$e")
        done
        ms=$(printf '%s\n' "${secs[@]}" | median)
        me=$(printf '%s\n' "${execs[@]}" | sed 's/inf/999999999/' | median)
        med_s[$feedback]=$ms
        printf '%-20s %-10s %12.2f %12s\n' "$variant" "$([ $feedback = 1 ] && echo on || echo off)" "$ms" "$me"
    done
    printf '%-20s %-10s %12s\n' "$variant" "off/on" "$(echo "scale=2; ${med_s[0]} / ${med_s[1]}" | bc)"
done
