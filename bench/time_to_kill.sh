#!/usr/bin/env bash
# bench/time_to_kill.sh [--bin DIR] [--feedback on|off|both] [--variants "V ..."] [--runs N]
#                       [--tail random|pct[:D[:K]]|none] [--dict auto|none|FILE] [TARGET] [SEEDS] [MAX_SECONDS] [-- FLAG...]
# Time (and execs) to the first crash for every mutant of TARGET, from an empty
# corpus, median over SEEDS libFuzzer seeds (docs/BENCHMARKS.md "time_to_kill.sh").
# The libFuzzer options are scripts/fuzz.sh's (TDF_LIBFUZZER_OPTIONS and
# TDF_SCHEDULE_TAIL=random from scripts/lib.sh), so the figures are what a fuzz
# run gets; FLAG... after -- are added (e.g. -len_control=100 to measure the
# default length control). Needs the libFuzzer binaries: build/fuzz (no ASan,
# the default when it exists) or build/asan (scripts/fuzz.sh builds them).
#   --bin DIR       the binaries (default: build/fuzz/bin if present, else build/asan/bin;
#                   a copy keeps a rebuild from changing them mid-run); TDF_BIN_DIR too
#   --feedback      the lifecycle / pair counters on, off, or both (default on)
#   --variants      only these mutants (default: every variant but the first)
#   --runs N        also stop a run after N execs (libFuzzer -runs; default: no cap)
#   --tail          TDF_SCHEDULE_TAIL for the runs (default random, as fuzz.sh; pct[:DEPTH[:K]]: PCT past the bytes)
#   --dict          auto: fuzz/dict/<target>.dict when it exists (as fuzz.sh); none; or a file
# Output: one line per mutant and feedback setting: kills/SEEDS, median seconds,
# median execs (a run with no kill counts as infinitely many), the per-seed execs.
# Exit: 0 done; 2 usage error.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/lib.sh"
TDF_USAGE="bench/time_to_kill.sh [--bin DIR] [--feedback on|off|both] [--variants \"V ...\"] [--runs N] [--tail random|pct[:D[:K]]|none] [--dict auto|none|FILE] [TARGET] [SEEDS] [MAX_SECONDS] [-- FLAG...]
  TARGET       default fuzz_bus_child; SEEDS default 5; MAX_SECONDS per run, default 120
exit: 0 done, 2 usage error"

bindir=${TDF_BIN_DIR:-} feedback=on variants="" runs="" tail=random dict=auto args=() extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) tdf_help ;;
        --bin) tdf_need_value "$1" $#; bindir=$2; shift 2 ;;
        --feedback) tdf_need_value "$1" $#; feedback=$2; shift 2 ;;
        --variants) tdf_need_value "$1" $#; variants=$2; shift 2 ;;
        --runs) tdf_need_value "$1" $#; runs=$2; tdf_positive_int --runs "$runs"; shift 2 ;;
        --tail) tdf_need_value "$1" $#; tail=$2; shift 2 ;;
        --dict) tdf_need_value "$1" $#; dict=$2; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        -*) tdf_usage_error "unknown option '$1'" ;;
        *) args+=("$1"); shift ;;
    esac
done
[ ${#args[@]} -le 3 ] || tdf_usage_error "too many arguments: '${args[*]:3}'"
target=${args[0]:-fuzz_bus_child} seeds=${args[1]:-5} max=${args[2]:-120}
tdf_positive_int SEEDS "$seeds"
tdf_positive_int MAX_SECONDS "$max"
case "$feedback" in on) fbs=1 ;; off) fbs=0 ;; both) fbs="1 0" ;; *) tdf_usage_error "--feedback on|off|both, not '$feedback'" ;; esac
[[ "$tail" =~ ^(random|none|pct(:[1-8](:[1-9][0-9]{0,8})?)?)$ ]] || tdf_usage_error "--tail random|pct[:DEPTH[:K]]|none, not '$tail'"
if [ -z "$bindir" ]; then
    bindir=$root/build/asan/bin
    [ -x "$root/build/fuzz/bin/$target" ] && bindir=$root/build/fuzz/bin
fi
bin="$bindir/$target"
[ -x "$bin" ] || tdf_usage_error "no libFuzzer binary $bin (build/fuzz or build/asan with TDF_LIBFUZZER=ON; --bin DIR)"
runner="$bindir/${target}_run"
[ -x "$runner" ] || tdf_usage_error "no runner $runner next to the fuzzer"
case "$dict" in
    auto) dict=$root/fuzz/dict/$target.dict; [ -f "$dict" ] || dict="" ;;
    none) dict="" ;;
    *) [ -f "$dict" ] || tdf_usage_error "--dict $dict: no such file" ;;
esac
all=$(env -u TDF_VARIANT "$runner" --list | cut -f1 | cut -d' ' -f2 | tail -n +2)
if [ -z "$variants" ]; then
    variants=$all
else
    for v in $variants; do grep -qx "$v" <<<"$all" || tdf_usage_error "'$v' is not a mutant of $target"; done
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# execs and seconds to the first crash of one run; "max inf" if none within the caps
one_run() {
    local variant=$1 fb=$2 seed=$3 corpus="$work/corpus" log="$work/log" flags=()
    rm -rf "$corpus" && mkdir -p "$corpus"
    [ -z "$runs" ] || flags+=(-runs="$runs")
    [ -z "$dict" ] || flags+=(-dict="$dict")
    local start end
    start=$(date +%s.%N)
    TDF_VARIANT=$variant TDF_STATE_FEEDBACK=$fb TDF_SCHEDULE_TAIL=$tail "$bin" -seed="$seed" -max_total_time="$max" \
        -print_final_stats=1 -artifact_prefix="$work/" "${TDF_LIBFUZZER_OPTIONS[@]}" "${flags[@]}" "${extra[@]}" \
        "$corpus" >"$log" 2>&1 || true
    end=$(date +%s.%N)
    if grep -q 'Test unit written' "$log"; then
        local execs
        # The exec count at the crash: the final stats libFuzzer prints from
        # its crash handler (the last '#N' status line can be far earlier:
        # status lines come only at new coverage and powers of two).
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#' || true)
        echo "$(echo "$end - $start" | bc) ${execs:-0}"
    else
        echo "$max inf"
    fi
    rm -f "$work"/crash-* "$work"/timeout-* "$work"/oom-*
}

printf '# %s bin=%s flags=%s tail=%s dict=%s runs=%s seeds=%s max=%ss\n' "$target" "$bindir" \
    "${TDF_LIBFUZZER_OPTIONS[*]} ${extra[*]}" "$tail" "${dict:-none}" "${runs:-none}" "$seeds" "$max"
printf '%-22s %-8s %6s %10s %12s  %s\n' mutant feedback kills median_s median_execs per_seed_execs
for variant in $variants; do
    for fb in $fbs; do
        secs=() execs=() kills=0
        for seed in $(seq 1 "$seeds"); do
            read -r s e < <(one_run "$variant" "$fb" "$seed")
            secs+=("$s") execs+=("$e")
            [ "$e" = inf ] || kills=$((kills + 1))
        done
        ms=$(printf '%s\n' "${secs[@]}" | median)
        me=$(printf '%s\n' "${execs[@]}" | sed 's/inf/999999999/' | median)
        [ "${me%.*}" -lt 100000000 ] || me=inf
        printf '%-22s %-8s %6s %10.2f %12s  %s\n' "$variant" "$([ "$fb" = 1 ] && echo on || echo off)" \
            "$kills/$seeds" "$ms" "$me" "${execs[*]}"
    done
done
