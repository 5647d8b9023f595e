#!/usr/bin/env bash
# bench/ab_execs.sh [--rounds N] [--inputs N] [--targets "T1 T2 ..."] BASE_BIN NEW_BIN
#   Same-run comparison of two builds' bin/ directories (docs/BENCHMARKS.md "A/B"):
#   for every target both have, ROUNDS interleaved rounds (base, new, base, new ...)
#   of `<target>_run --random_inputs=N --seed=R`, timed as user+system CPU seconds
#   of the process (getrusage via bash's `time`; CPU time, not wall time, so the
#   other jobs on the machine move it less). Prints one line per target: the
#   median CPU seconds of each side, execs/s from them, and base/new (the speed-up).
#   Both sides run the same seeded inputs (the runner's generator), so the ratio is
#   per exec of the same work.
# Exit: 0 done; 2 usage error (bad option or count, a directory without runners).
set -euo pipefail
usage() {
    echo "usage: bench/ab_execs.sh [--rounds N] [--inputs N] [--targets \"T ...\"] BASE_BIN NEW_BIN" >&2
    echo "  BASE_BIN, NEW_BIN: bin/ directories of two builds (e.g. /tmp/base/bin build/plain/bin)" >&2
    exit 2
}
rounds=5 inputs=20000 targets="" args=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) usage ;;
        --rounds) [ $# -ge 2 ] || usage; rounds=$2; shift 2 ;;
        --inputs) [ $# -ge 2 ] || usage; inputs=$2; shift 2 ;;
        --targets) [ $# -ge 2 ] || usage; targets=$2; shift 2 ;;
        -*) echo "bench/ab_execs.sh: unknown option '$1'" >&2; usage ;;
        *) args+=("$1"); shift ;;
    esac
done
[ ${#args[@]} -eq 2 ] || { echo "bench/ab_execs.sh: need BASE_BIN and NEW_BIN (got ${#args[@]} arguments)" >&2; usage; }
for v in rounds inputs; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench/ab_execs.sh: --$v '${!v}' is not a positive integer" >&2; exit 2; }
done
base=${args[0]} new=${args[1]}
for d in "$base" "$new"; do
    compgen -G "$d/*_run" >/dev/null || { echo "bench/ab_execs.sh: $d has no *_run runner" >&2; exit 2; }
done
if [ -z "$targets" ]; then
    for r in "$new"/*_run; do
        t=$(basename "$r" _run)
        [ -x "$base/${t}_run" ] && targets+="$t "
    done
fi

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
cpu() { # CPU seconds (user+sys) of one runner invocation
    local TIMEFORMAT='%U %S' t
    t=$({ time "$@" >/dev/null 2>&1; } 2>&1) || true
    awk '{print $1 + $2}' <<<"$t"
}

printf '# rounds=%s inputs=%s base=%s new=%s\n' "$rounds" "$inputs" "$base" "$new"
printf '%-20s %10s %10s %12s %12s %8s\n' target base_cpu_s new_cpu_s base_execs/s new_execs/s speedup
for t in $targets; do
    [ -x "$base/${t}_run" ] && [ -x "$new/${t}_run" ] || { echo "bench/ab_execs.sh: no ${t}_run in both" >&2; exit 2; }
    a=() b=()
    for r in $(seq 1 "$rounds"); do
        a+=("$(cpu "$base/${t}_run" --random_inputs="$inputs" --seed="$r")")
        b+=("$(cpu "$new/${t}_run" --random_inputs="$inputs" --seed="$r")")
    done
    ma=$(printf '%s\n' "${a[@]}" | median) mb=$(printf '%s\n' "${b[@]}" | median)
    awk -v t="$t" -v a="$ma" -v b="$mb" -v n="$inputs" \
        'BEGIN { printf "%-20s %10.3f %10.3f %12.0f %12.0f %8.2f\n", t, a, b, (a > 0 ? n / a : 0), (b > 0 ? n / b : 0), (b > 0 ? a / b : 0) }'
done
