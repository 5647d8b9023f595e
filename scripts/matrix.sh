#!/usr/bin/env bash
# scripts/matrix.sh [--seconds S] [--seeds K] [--targets T1,T2] [--variants V1,V2]
#                   [--strategies fuzz,random,pct,dfs,stress,tsan] [--jobs N]
#                   [--preemptions P] [--dfs-limit N] [--pool seeds|random] [--fuzz-corpus seeds|empty]
#                   [--out DIR] [--update] [--project DIR]
#   The kill matrix: every target x every variant x every strategy, whether
#   and how fast each strategy finds each mutant, and that none reports
#   anything on a correct variant. Per cell over K seeds (capped at S seconds
#   of wall time each): kills/K, median and spread of the time and the execs
#   to the first kill, execs/s; for a correct variant the time it ran with no
#   report (a report there is a FALSE POSITIVE). Strategies (what each runs:
#   scripts/matrix_run.py's header, docs/BENCHMARKS.md "Kill matrix"):
#     fuzz    libFuzzer as scripts/fuzz.sh runs it (asan build, its options, its run corpus seeded with
#             corpus/<target>); --fuzz-corpus empty: from an empty corpus instead
#     random  the runner's --hunt, --schedule=random:SEED over the seed scripts (plain); with
#             --pool random over seeded random inputs instead (nothing of the corpus; also pct,
#             tsan, stress), the baseline that starts from nothing as fuzz does
#     pct     the same with --schedule=pct:SEED:3 (plain)
#     dfs     --schedule=dfs:P:N over the seed and repro scripts' events (plain; one run, not seeded)
#     stress  the pthread stress backend, --schedule=stress:SEED over the seed scripts (asan), where the
#             runner has it ("not available" otherwise)
#     tsan    the random hunt in the TSan build
#   Every seeded strategy's start cost (CPU before its first exec) is measured apart, and the
#   table shows it with the CPU an exec costs after it.
#   Writes DIR/matrix.md and DIR/matrix.json (default DIR: <project>/bench/results)
#   and prints the table. --update merges into the DIR/matrix.json there: its
#   runs of every cell not run now (target x variant x strategy) are kept (the
#   same --seconds, --seeds, --preemptions and --dfs-limit), so a strategy or a
#   target can be measured again, or later, into the same table. The work is scripts/matrix_run.py; this script checks
#   the arguments, installs what is missing and builds what the strategies need.
#
# Exit status:
#   0  the matrix ran, and no strategy reported anything on a correct variant
#   1  a FALSE POSITIVE: some strategy reported a failure on a correct variant
#   2  usage error: unknown option, missing or bad value, unknown target,
#      variant or strategy, bad --project, --out not a directory
#   5  a build the strategies need failed
#   6  a run could not complete (a runner or libFuzzer error; matrix.json
#      names it), or the run was interrupted
source "$(dirname "$0")/lib.sh"

TDF_USAGE="scripts/matrix.sh [--seconds S] [--seeds K] [--targets T1,T2] [--variants V1,V2] [--strategies LIST] [--jobs N] [--preemptions P] [--dfs-limit N] [--pool seeds|random] [--fuzz-corpus seeds|empty] [--out DIR] [--update] [--project DIR] | --help
  --seconds      cap of every run, whole seconds of wall time (default 10)
  --seeds        seeds per cell, 1..99 (default 3; dfs is deterministic: one run)
  --targets      comma-separated targets (default: every target; scripts/fuzz.sh --list)
  --variants     comma-separated variants to keep (each must exist in a selected target)
  --strategies   comma-separated, of fuzz,random,pct,dfs,stress,tsan (default: all)
  --jobs         runs at once, 1..64 (default: the number of cores)
  --preemptions  dfs bound P, 0..64 (default 2)
  --dfs-limit    dfs schedules per script (default 5000)
  --pool         what random, pct, tsan and stress run: seeds (the seed scripts, default) or random (seeded random inputs)
  --fuzz-corpus  fuzz's run corpus: seeds (corpus/<target>, as scripts/fuzz.sh does; default) or empty
  --out          where matrix.md and matrix.json go (default <project>/bench/results)
  --update       keep DIR/matrix.json's runs of the cells not run now (same S, K, P, N): add or redo some
  --project      a team's own project directory (docs/WRITING-A-TARGET.md)
exit: 0 ran, no false positive; 1 a false positive on a correct variant; 2 usage error; 5 a build failed;
      6 a run could not complete, or interrupted"

seconds=10 seeds=3 targets="" variants="" strategies="fuzz,random,pct,dfs,stress,tsan" jobs=$(nproc)
preemptions=2 dfs_limit=5000 out="" update=0 pool=seeds fuzz_corpus=seeds
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) tdf_help ;;
        --project) tdf_need_value "$1" $#; tdf_set_project "$2"; shift 2 ;;
        --project=*) tdf_set_project "${1#*=}"; shift ;;
        --seconds) tdf_need_value "$1" $#; seconds=$2; shift 2 ;;
        --seconds=*) seconds=${1#*=}; shift ;;
        --seeds) tdf_need_value "$1" $#; seeds=$2; shift 2 ;;
        --seeds=*) seeds=${1#*=}; shift ;;
        --targets) tdf_need_value "$1" $#; targets=$2; [ -n "$targets" ] || tdf_usage_error "--targets needs a list"; shift 2 ;;
        --targets=*) targets=${1#*=}; [ -n "$targets" ] || tdf_usage_error "--targets needs a list"; shift ;;
        --variants) tdf_need_value "$1" $#; variants=$2; [ -n "$variants" ] || tdf_usage_error "--variants needs a list"; shift 2 ;;
        --variants=*) variants=${1#*=}; [ -n "$variants" ] || tdf_usage_error "--variants needs a list"; shift ;;
        --strategies) tdf_need_value "$1" $#; strategies=$2; [ -n "$strategies" ] || tdf_usage_error "--strategies needs a list"; shift 2 ;;
        --strategies=*) strategies=${1#*=}; [ -n "$strategies" ] || tdf_usage_error "--strategies needs a list"; shift ;;
        --jobs) tdf_need_value "$1" $#; jobs=$2; shift 2 ;;
        --jobs=*) jobs=${1#*=}; shift ;;
        --preemptions) tdf_need_value "$1" $#; preemptions=$2; shift 2 ;;
        --preemptions=*) preemptions=${1#*=}; shift ;;
        --dfs-limit) tdf_need_value "$1" $#; dfs_limit=$2; shift 2 ;;
        --dfs-limit=*) dfs_limit=${1#*=}; shift ;;
        --out) tdf_need_value "$1" $#; out=$2; [ -n "$out" ] || tdf_usage_error "--out needs a directory"; shift 2 ;;
        --out=*) out=${1#*=}; [ -n "$out" ] || tdf_usage_error "--out needs a directory"; shift ;;
        --update) update=1; shift ;;
        --pool) tdf_need_value "$1" $#; pool=$2; shift 2 ;;
        --pool=*) pool=${1#*=}; shift ;;
        --fuzz-corpus) tdf_need_value "$1" $#; fuzz_corpus=$2; shift 2 ;;
        --fuzz-corpus=*) fuzz_corpus=${1#*=}; shift ;;
        -*) tdf_usage_error "unknown option '$1'" ;;
        *) tdf_usage_error "unexpected argument '$1' (every value goes with its option)" ;;
    esac
done
[[ "$seconds" =~ ^[1-9][0-9]{0,4}$ ]] || tdf_usage_error "--seconds must be a whole number of seconds 1..99999, not '$seconds'"
[[ "$seeds" =~ ^[1-9][0-9]?$ ]] || tdf_usage_error "--seeds must be an integer 1..99, not '$seeds'"
[[ "$jobs" =~ ^[1-9][0-9]?$ ]] && [ "$jobs" -le 64 ] || tdf_usage_error "--jobs must be an integer 1..64, not '$jobs'"
[[ "$preemptions" =~ ^(0|[1-9][0-9]?)$ ]] && [ "$preemptions" -le 64 ] ||
    tdf_usage_error "--preemptions must be an integer 0..64, not '$preemptions'"
[[ "$dfs_limit" =~ ^[1-9][0-9]{0,9}$ ]] && [ "$dfs_limit" -le 4000000000 ] ||
    tdf_usage_error "--dfs-limit must be an integer 1..4000000000, not '$dfs_limit'"
case "$pool" in seeds | random) ;; *) tdf_usage_error "--pool must be seeds or random, not '$pool'" ;; esac
case "$fuzz_corpus" in seeds | empty) ;; *) tdf_usage_error "--fuzz-corpus must be seeds or empty, not '$fuzz_corpus'" ;; esac
for list in "$targets" "$variants" "$strategies"; do
    [[ -z "$list" || "$list" =~ ^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$ ]] ||
        tdf_usage_error "'$list': a comma-separated list of names (letters, digits, _ and -)"
done
IFS=, read -r -a chosen <<<"$strategies"
declare -A use=()
for s in "${chosen[@]}"; do
    case "$s" in
        fuzz | random | pct | dfs | stress | tsan) ;;
        *) tdf_usage_error "unknown strategy '$s' (strategies: fuzz, random, pct, dfs, stress, tsan)" ;;
    esac
    [ -z "${use[$s]:-}" ] || tdf_usage_error "--strategies names '$s' twice"
    use[$s]=1
done
out=${out:-$TDF_PROJECT/bench/results}
[ ! -e "$out" ] || [ -d "$out" ] || tdf_usage_error "--out $out: not a directory"
mkdir -p "$out" 2>/dev/null || tdf_usage_error "--out $out: cannot create it"
out=$(cd "$out" && pwd)
if [ $update -eq 1 ]; then
    [ -f "$out/matrix.json" ] || tdf_usage_error "--update: no $out/matrix.json to merge into"
    why=$(python3 - "$out/matrix.json" "$seconds" "$seeds" "$preemptions" "$dfs_limit" "$pool" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print("it cannot be read: %s" % e); sys.exit(0)
if d.get("schema") != "teardown-fuzz-matrix/1":
    print("it is not a matrix.json (schema %r)" % d.get("schema")); sys.exit(0)
for k, v in zip(("seconds", "seeds", "preemptions", "dfs_limit", "pool"), sys.argv[2:]):
    if str(d.get(k, "seeds" if k == "pool" else None)) != v:
        print("it was made with %s %s, not %s" % (k.replace("_", "-"), d.get(k), v)); sys.exit(0)
PY
)
    [ -z "$why" ] || tdf_usage_error "--update: $out/matrix.json: $why"
fi

command -v python3 >/dev/null 2>&1 || TDF_PACKAGES+=(python3)
tdf_ensure_deps

# The builds the strategies need: plain (random, pct, dfs), asan (fuzz, stress), tsan (tsan).
need=()
[ -z "${use[random]:-}${use[pct]:-}${use[dfs]:-}" ] || need+=(plain)
[ -z "${use[fuzz]:-}${use[stress]:-}" ] || need+=(asan)
[ -z "${use[tsan]:-}" ] || need+=(tsan)
first=$(tdf_configure "${need[0]}") || exit 5
selected=()
if [ -n "$targets" ]; then
    IFS=, read -r -a selected <<<"$targets"
    declare -A dup=()
    for t in "${selected[@]}"; do
        tdf_check_target "$first" "$t"
        [ -z "${dup[$t]:-}" ] || tdf_usage_error "--targets names '$t' twice"
        dup[$t]=1
    done
else
    mapfile -t selected < <(tdf_targets "$first")
fi
declare -A dir=()
for config in "${need[@]}"; do
    tdf_log "build $config"
    dir[$config]=$(tdf_build "$config") || { tdf_log "matrix: the $config build failed"; exit 5; }
done
if [ -n "${use[fuzz]:-}" ]; then
    for t in "${selected[@]}"; do
        [ -x "${dir[asan]}/bin/$t" ] || { tdf_log "${dir[asan]} has no libFuzzer binary $t (an asan build with TDF_LIBFUZZER=ON)"; exit 5; }
    done
fi
# --variants: each must be a variant of some selected target.
if [ -n "$variants" ]; then
    IFS=, read -r -a want <<<"$variants"
    all=""
    for t in "${selected[@]}"; do all+=$(tdf_variants "${dir[${need[0]}]}/bin/${t}_run")$'\n' || exit 5; done
    for w in "${want[@]}"; do
        grep -qxF -- "$w" <<<"$all" || tdf_usage_error "--variants: '$w' is not a variant of ${selected[*]} (scripts/fuzz.sh --list)"
    done
fi

# The stress backend: the asan runner's --hunt on --schedule=stress over the seed scripts, as
# scripts/stress.sh runs it (docs/INPUT.md "Schedule sources"), where the build has it; the column
# says "not available" otherwise, and no run is made. The asan build is fuzz's: the same sanitizers
# see the same driver code.
stress_build="" stress_missing=""
if [ -n "${use[stress]:-}" ]; then
    sb=${dir[asan]}
    help=$(env -u TDF_VARIANT "$sb/bin/${selected[0]}_run" --help 2>&1 || true)
    if [[ "$help" == *"stress[:SEED]"* ]]; then stress_build=$sb
    else stress_missing="the runner has no --schedule=stress (the pthread backend of issue 15 item 3)"; fi
fi

args=(--root="$TDF_ROOT" --project="$TDF_PROJECT" --out="$out" --seconds="$seconds" --seeds="$seeds"
    --jobs="$jobs" --preemptions="$preemptions" --dfs-limit="$dfs_limit" --strategies="$strategies"
    --targets="$(IFS=,; echo "${selected[*]}")" --variants="$variants"
    --plain="${dir[plain]:-}" --asan="${dir[asan]:-}" --tsan="${dir[tsan]:-}"
    --stress-build="$stress_build" --stress-missing="$stress_missing"
    --libfuzzer-options="${TDF_LIBFUZZER_OPTIONS[*]}" --pool="$pool" --fuzz-corpus="$fuzz_corpus"
    --command="scripts/matrix.sh --seconds $seconds --seeds $seeds${targets:+ --targets $targets}${variants:+ --variants $variants} --strategies $strategies$([ "$pool" = seeds ] || echo " --pool $pool")$([ "$fuzz_corpus" = seeds ] || echo " --fuzz-corpus $fuzz_corpus") --jobs $jobs")
[ $update -eq 0 ] || args+=(--update)
exec python3 "$TDF_ROOT/scripts/matrix_run.py" "${args[@]}"
