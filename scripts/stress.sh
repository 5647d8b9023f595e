#!/usr/bin/env bash
# scripts/stress.sh TARGET [--variant V] [--seconds S] [--build asan|tsan|plain] [--seed N]
#                   [--out FILE] [--project DIR]
#   The stress baseline: the target's driver code run as the stress test a
#   driver team writes today -- every model thread a real pthread, the OS
#   picking the interleaving (--schedule=stress, model/sched/stress.c), the
#   same oracles and the build's sanitizer -- over the event scripts of
#   corpus/TARGET/* round robin (seeded random inputs when it has none), for
#   S seconds or until the first failure. NOT deterministic: the same command
#   may find a failure in one run and not the next. A failure is written as a
#   plain input (--out, default under <project>/work/stress/) that the
#   deterministic scheduler replays step for step (scripts/repro.sh).
#   It is the runner's --hunt loop on the stress backend:
#     <build>/bin/TARGET_run --schedule=stress:SEED --hunt=1000000000 --hunt_seconds=S
#         --variant=V --save_schedule=FILE corpus/TARGET/*
#   and prints its one HUNT line ("found in exec E after T s", "died in exec E
#   ..." for a sanitizer report or the watchdog, "nothing in E execs, T s");
#   docs/INPUT.md "Schedule sources" and "Hunting".
#
# Exit status:
#   0       no failure within the budget
#   1       the build failed, or the runner stopped without its summary line
#   2       usage error: unknown option, bad value, unknown target or variant
#   10..17  the failure class's code (README.md); 14 also for the watchdog
#           (a run that did not end within TDF_STRESS_WATCHDOG seconds, default 20)
source "$(dirname "$0")/lib.sh"

TDF_USAGE="scripts/stress.sh TARGET [--variant V] [--seconds S] [--build asan|tsan|plain] [--seed N] [--out FILE] [--project DIR] | --help
  TARGET     a target of the project (scripts/fuzz.sh --list)
  --variant  the variant (default \$TDF_VARIANT, else the target's first)
  --seconds  time budget in whole seconds (default 60)
  --build    the build to stress (default asan)
  --seed     seeds the per-run yield policy and data choices, not the OS (default 1)
  --out      where a failing run is written as a plain input (default <project>/work/stress/TARGET-VARIANT.txt)
  --project  a team's own project directory (docs/WRITING-A-TARGET.md)
exit: 0 no failure, 1 build or runner error, 2 usage error, 10..17 the failure class"

config=asan variant=${TDF_VARIANT:-} seconds=60 seed=1 out="" args=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) tdf_help ;;
        --project) tdf_need_value "$1" $#; tdf_set_project "$2"; shift 2 ;;
        --project=*) tdf_set_project "${1#*=}"; shift ;;
        --build) tdf_need_value "$1" $#; config=$2; shift 2 ;;
        --build=*) config=${1#*=}; shift ;;
        --variant) tdf_need_value "$1" $#; variant=$2; [ -n "$variant" ] || tdf_usage_error "--variant needs a value"; shift 2 ;;
        --variant=*) variant=${1#*=}; [ -n "$variant" ] || tdf_usage_error "--variant needs a value"; shift ;;
        --seconds) tdf_need_value "$1" $#; seconds=$2; shift 2 ;;
        --seconds=*) seconds=${1#*=}; shift ;;
        --seed) tdf_need_value "$1" $#; seed=$2; shift 2 ;;
        --seed=*) seed=${1#*=}; shift ;;
        --out) tdf_need_value "$1" $#; out=$2; [ -n "$out" ] || tdf_usage_error "--out needs a path"; shift 2 ;;
        --out=*) out=${1#*=}; [ -n "$out" ] || tdf_usage_error "--out needs a path"; shift ;;
        --) shift; args+=("$@"); break ;;
        -*) tdf_usage_error "unknown option '$1'" ;;
        *) args+=("$1"); shift ;;
    esac
done
[ ${#args[@]} -ge 1 ] || tdf_usage_error "TARGET is required"
[ ${#args[@]} -le 1 ] || tdf_usage_error "unexpected argument '${args[1]}'"
target=${args[0]}
tdf_positive_int --seconds "$seconds"
[ "$seconds" -le 86400 ] || tdf_usage_error "--seconds must be at most 86400 (got $seconds)"
[[ "$seed" =~ ^[0-9]{1,18}$ ]] || tdf_usage_error "--seed must be a decimal number (got '$seed')"


tdf_check_config "$config"
dir=$(tdf_configure "$config") || exit $?
tdf_check_target "$dir" "$target"
tdf_ensure_deps
dir=$(tdf_build "$config") || exit 1
runner="$dir/bin/${target}_run"
[ -n "$variant" ] || variant=$(tdf_default_variant "$runner") || exit 1
tdf_check_variant "$runner" "$variant"
[ -n "$out" ] || out="$TDF_PROJECT/work/stress/$target-$variant.txt"
mkdir -p "$(dirname "$out")" || { tdf_log "cannot create the directory of --out $out"; exit 1; }
rm -f "$out"

inputs=()
shopt -s nullglob
for f in "$TDF_PROJECT/corpus/$target"/*; do [ -f "$f" ] && inputs+=("$f"); done
shopt -u nullglob
if [ ${#inputs[@]} -gt 0 ]; then
    tdf_log "stress $target variant=$variant build=$config: ${#inputs[@]} event scripts of corpus/$target, ${seconds} s (not deterministic)"
    set -- "${inputs[@]}"
else
    tdf_log "stress $target variant=$variant build=$config: no corpus/$target, seeded random inputs, ${seconds} s (not deterministic)"
    set -- --seed="$seed"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
env -u TDF_VARIANT "$runner" --schedule=stress:"$seed" --hunt=1000000000 --hunt_seconds="$seconds" \
    --variant="$variant" --save_schedule="$out" "$@" >"$log" 2>&1 || rc=$?
cat "$log"
if ! grep -q '^==TDF== HUNT ' "$log"; then
    tdf_log "the runner stopped without its HUNT line (exit $rc)"
    exit 1
fi
proj=""
[ "$TDF_PROJECT" = "$TDF_ROOT" ] || proj="--project $TDF_PROJECT "
found=$(sed -n 's/^==TDF== HUNT \(found\|died\) in exec [0-9]* after [0-9.]* s ([0-9]* execs\/s): \([^ ]*\).*/\2/p' "$log")
found=${found%%$'\n'*}
if [ -s "$out" ]; then
    tdf_log "reproduce (deterministic): scripts/repro.sh $proj$target $out --build $config --variant $variant"
elif [ -n "$found" ]; then
    tdf_log "not written as a plain input: a sanitizer report or the watchdog ended the process inside the run, or its choices do not fit schedule bytes (above)"
fi
exit $rc
