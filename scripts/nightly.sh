#!/usr/bin/env bash
# scripts/nightly.sh [--project DIR] [--budget MIN] [--jobs N] [--targets T1,T2] [--variants V1,V2]
#                    [--mutants] [--out DIR]
# The nightly job: every selected target x variant fuzzed with libFuzzer in
# fork mode (asan build), crashes kept going, the run corpus merged back, every
# crash replayed and deduplicated by the model's signature, each new signature
# minimized (scripts/minimize.sh), the TSan runner replaying every crash and
# the corpus, and one report in DIR: DIR/report.md, DIR/report.json, DIR/report.sarif
# (docs/REPORTS.md "Nightly runs"). The work itself is scripts/nightly_run.py;
# this script checks the arguments, installs what is missing and builds.
#
# Default: the correct variant of every target ("does our code have a bug").
# --mutants: every mutant instead (the kill matrix: each must be found).
# Killed at any moment (SIGINT, SIGTERM, even SIGKILL) nothing already written
# is lost: the next run with the same --out triages what the killed one left,
# and the report's counts and first-seen times carry over.
#
# Exit status:
#   0  no finding on the correct variants / with --mutants: every mutant killed
#   1  findings: a signature on a correct variant / with --mutants: a mutant
#      that no job killed (the report names them)
#   2  usage error: unknown option, missing or bad value, bad --project,
#      unknown target or variant, --out not a directory
#   5  a build (asan, tsan or plain) failed
#   6  incomplete: a job could not run (fuzzer failed with no artifact,
#      seeding, merge or a replay failed) or the run was interrupted
source "$(dirname "$0")/lib.sh"

TDF_USAGE="scripts/nightly.sh [--project DIR] [--budget MIN] [--jobs N] [--targets T1,T2] [--variants V1,V2] [--mutants] [--out DIR] | --help
  --budget    wall-clock minutes for the whole run, split over the jobs (default 60; decimals allowed: 0.5)
  --jobs      jobs run in parallel, each a libFuzzer -fork=1 process (default 1)
  --targets   comma-separated targets (default: every target; scripts/fuzz.sh --list)
  --variants  comma-separated variants, restricting the selection (each must exist in some selected target)
  --mutants   every mutant of the selected targets instead of their correct variants (the kill matrix)
  --out       the run directory: corpus, artifacts, repros, state, report.{md,json,sarif} (default <project>/work/nightly)
  --project   a team's own project directory (docs/WRITING-A-TARGET.md)
exit: 0 clean / every mutant killed, 1 findings / a mutant survived, 2 usage error, 5 build failed,
      6 incomplete (a job could not run, or interrupted)"

budget=60 jobs=1 targets="" variants="" mutants=0 out=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) tdf_help ;;
        --project) tdf_need_value "$1" $#; tdf_set_project "$2"; shift 2 ;;
        --project=*) tdf_set_project "${1#*=}"; shift ;;
        --budget) tdf_need_value "$1" $#; budget=$2; shift 2 ;;
        --budget=*) budget=${1#*=}; shift ;;
        --jobs) tdf_need_value "$1" $#; jobs=$2; shift 2 ;;
        --jobs=*) jobs=${1#*=}; shift ;;
        --targets) tdf_need_value "$1" $#; targets=$2; [ -n "$targets" ] || tdf_usage_error "--targets needs a list"; shift 2 ;;
        --targets=*) targets=${1#*=}; [ -n "$targets" ] || tdf_usage_error "--targets needs a list"; shift ;;
        --variants) tdf_need_value "$1" $#; variants=$2; [ -n "$variants" ] || tdf_usage_error "--variants needs a list"; shift 2 ;;
        --variants=*) variants=${1#*=}; [ -n "$variants" ] || tdf_usage_error "--variants needs a list"; shift ;;
        --mutants) mutants=1; shift ;;
        --out) tdf_need_value "$1" $#; out=$2; [ -n "$out" ] || tdf_usage_error "--out needs a directory"; shift 2 ;;
        --out=*) out=${1#*=}; [ -n "$out" ] || tdf_usage_error "--out needs a directory"; shift ;;
        -*) tdf_usage_error "unknown option '$1'" ;;
        *) tdf_usage_error "unexpected argument '$1' (every value goes with its option)" ;;
    esac
done
# MIN: a positive decimal number of minutes, at most a week.
[[ "$budget" =~ ^[0-9]{1,5}(\.[0-9]{1,3})?$ ]] && [[ ! "$budget" =~ ^0+(\.0*)?$ ]] ||
    tdf_usage_error "--budget must be a positive number of minutes (e.g. 10 or 0.5), not '$budget'"
budget_seconds=$(awk -v m="$budget" 'BEGIN { s = int(m * 60 + 0.5); print (s < 1 ? 1 : s) }')
[ "$budget_seconds" -le 604800 ] || tdf_usage_error "--budget $budget: more than a week"
[[ "$jobs" =~ ^[1-9][0-9]?$ ]] || tdf_usage_error "--jobs must be an integer 1..99, not '$jobs'"
for list in "$targets" "$variants"; do
    [[ -z "$list" || "$list" =~ ^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$ ]] ||
        tdf_usage_error "'$list': a comma-separated list of names (letters, digits, _ and -)"
done
out=${out:-$TDF_PROJECT/work/nightly}
[ ! -e "$out" ] || [ -d "$out" ] || tdf_usage_error "--out $out: not a directory"
mkdir -p "$out" 2>/dev/null || tdf_usage_error "--out $out: cannot create it"
out=$(cd "$out" && pwd)

# python3 runs the job (Debian 12 ships it; installed like the other packages when missing).
command -v python3 >/dev/null 2>&1 || TDF_PACKAGES+=(python3)
tdf_ensure_deps

# Targets are checked against the configured asan build before anything builds.
asan=$(tdf_configure asan) || exit 5
selected=()
if [ -n "$targets" ]; then
    IFS=, read -r -a selected <<<"$targets"
    for t in "${selected[@]}"; do tdf_check_target "$asan" "$t"; done
else
    mapfile -t selected < <(tdf_targets "$asan")
fi

builds=()
for config in asan tsan plain; do
    tdf_log "build $config"
    dir=$(tdf_build "$config") || { tdf_log "nightly: the $config build failed"; exit 5; }
    builds+=("--$config=$dir")
done
asan=${builds[0]#--asan=}

# The job list: TARGET:VARIANT lines, correct variants (first of each target)
# or every mutant, narrowed by --variants.
job_args=()
want=()
[ -z "$variants" ] || IFS=, read -r -a want <<<"$variants"
declare -A matched
for t in "${selected[@]}"; do
    runner="$asan/bin/${t}_run"
    [ -x "$asan/bin/$t" ] || { tdf_log "$asan has no libFuzzer binary $t (an asan build with TDF_LIBFUZZER=ON)"; exit 5; }
    all=$(tdf_variants "$runner") || exit 5
    first=${all%%$'\n'*}
    while IFS= read -r v; do
        if [ $mutants -eq 1 ]; then [ "$v" != "$first" ] || continue; else [ "$v" = "$first" ] || continue; fi
        if [ ${#want[@]} -gt 0 ]; then
            keep=0
            for w in "${want[@]}"; do [ "$w" = "$v" ] && keep=1 && matched[$w]=1; done
            [ $keep -eq 1 ] || continue
        fi
        job_args+=(--job "$t:$v")
    done <<<"$all"
done
for w in "${want[@]}"; do
    [ -n "${matched[$w]:-}" ] || tdf_usage_error "--variants: '$w' is not a $([ $mutants -eq 1 ] && echo mutant || echo correct variant) of ${selected[*]} (scripts/fuzz.sh --list; correct variants without --mutants, mutants with it)"
done
[ ${#job_args[@]} -gt 0 ] || tdf_usage_error "no job selected (targets: ${selected[*]}$([ $mutants -eq 1 ] && echo ', mutants: none'))"

mode=correct
[ $mutants -eq 0 ] || mode=mutants
exec python3 "$TDF_ROOT/scripts/nightly_run.py" --root="$TDF_ROOT" --project="$TDF_PROJECT" --out="$out" \
    --budget-seconds="$budget_seconds" --jobs="$jobs" --mode="$mode" "${builds[@]}" "${job_args[@]}"
