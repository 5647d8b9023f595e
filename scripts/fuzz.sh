#!/usr/bin/env bash
# scripts/fuzz.sh [--project DIR] [--corpus DIR] [--artifacts DIR] [--build asan|fuzz] [TARGET] [SECONDS]
#   Fuzzes one target (default: the first one, fuzz_bus_child; 60 s) with
#   libFuzzer in the asan build, or with --build fuzz in the fuzz build
#   (libFuzzer without ASan/UBSan, several times the execs/s: the model's own
#   oracles find 0xCE, register, rundown and request bugs); its crashes are
#   replayed in the fuzz build's runner and confirmed in the asan runner.
#   TDF_VARIANT=<variant> selects a variant (default: the target's first, its
#   correct protocol). TDF_SCHEDULE_TAIL=random (default) | pct[:DEPTH[:K]] |
#   none: what chooses past an input's schedule bytes (docs/INPUT.md "Schedule
#   sources"); the replays use the same (--schedule=input+TAIL).
# scripts/fuzz.sh [--project DIR] --list   one line per "TARGET VARIANT  doc"
#
# Corpora: the committed corpus/<target>/ is the seed corpus and is only read.
# libFuzzer works in the run corpus, <project>/work/corpus/<target>/ (git
# ignored) or --corpus DIR, seeded from the committed inputs (converted to
# binary by the runner's --to_binary) at every start. Crashes go to
# <project>/artifacts/<target>/ (git ignored) or --artifacts DIR. Each crash is replayed with the runner of
# the build that found it, and the printed reproduce command names that build; with --build fuzz the asan
# runner replays it too and must report a failure (its signature may differ: ASan can see a use after free
# before the model's oracle does).
#
# Exit status:
#   0       nothing found in SECONDS
#   1       a crash was found but its replay does not reproduce it (with
#           --build fuzz: or the asan runner runs it clean), or the
#           fuzzer failed with no artifact (its own exit code is printed)
#   2       usage error: unknown option, extra argument, bad SECONDS, bad
#           --project / --corpus, unknown target or variant, bad TDF_SCHEDULE_TAIL
#   10..17  a crash that reproduces: its failure class's code (README.md)
source "$(dirname "$0")/lib.sh"

TDF_USAGE="scripts/fuzz.sh [--project DIR] [--corpus DIR] [--artifacts DIR] [--build asan|fuzz] [TARGET] [SECONDS] | --list | --help
  TARGET      a target of the project (scripts/fuzz.sh --list); default: the first
  SECONDS     positive integer, default 60
  --project   a team's own project directory (docs/WRITING-A-TARGET.md)
  --corpus    libFuzzer's run corpus (default <project>/work/corpus/TARGET)
  --artifacts where crashes are written (default <project>/artifacts/TARGET)
  --build     asan (default): libFuzzer with ASan+UBSan; fuzz: without them (faster), crashes confirmed in asan
  --list      print every target's variants and exit
  TDF_VARIANT environment: the variant to fuzz (default: the target's first)
exit: 0 nothing found, 1 crash not reproduced, 2 usage error, 10..17 the class of a reproduced crash"

list=0 corpus="" artifacts="" fbuild=asan args=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) tdf_help ;;
        --list) list=1; shift ;;
        --project) tdf_need_value "$1" $#; tdf_set_project "$2"; shift 2 ;;
        --project=*) tdf_set_project "${1#*=}"; shift ;;
        --corpus) tdf_need_value "$1" $#; corpus=$2; shift 2 ;;
        --corpus=*) corpus=${1#*=}; shift ;;
        --artifacts) tdf_need_value "$1" $#; artifacts=$2; shift 2 ;;
        --artifacts=*) artifacts=${1#*=}; shift ;;
        --build) tdf_need_value "$1" $#; fbuild=$2; shift 2 ;;
        --build=*) fbuild=${1#*=}; shift ;;
        --) shift; args+=("$@"); break ;;
        -[0-9]*) args+=("$1"); shift ;; # a negative SECONDS: said so below
        -*) tdf_usage_error "unknown option '$1'" ;;
        *) args+=("$1"); shift ;;
    esac
done
[ $list -eq 0 ] || [ ${#args[@]} -eq 0 ] || tdf_usage_error "--list takes no arguments (got '${args[*]}')"
[ ${#args[@]} -le 2 ] || tdf_usage_error "too many arguments: '${args[*]:2}' (TARGET and SECONDS only)"
target=${args[0]-} seconds=60
[ ${#args[@]} -lt 2 ] || seconds=${args[1]}
tdf_positive_int SECONDS "$seconds"
case "$fbuild" in asan | fuzz) ;; *) tdf_usage_error "--build asan|fuzz, not '$fbuild'" ;; esac
sched_tail=${TDF_SCHEDULE_TAIL:-random}
[[ "$sched_tail" =~ ^(random|none|pct(:[1-8](:[1-9][0-9]{0,8})?)?)$ ]] ||
    tdf_usage_error "TDF_SCHEDULE_TAIL=random|pct[:DEPTH[:K]]|none, not '$sched_tail'"
# The runner's schedule that replays what this tail found.
replay_schedule=input+$sched_tail
[ "$sched_tail" != none ] || replay_schedule=input
for d in corpus artifacts; do
    [ -z "${!d}" ] || [ ! -e "${!d}" ] || [ -d "${!d}" ] || tdf_usage_error "--$d ${!d}: not a directory"
done

tdf_ensure_deps
build=$(tdf_configure asan)
[ ${#args[@]} -gt 0 ] || { all=$(tdf_targets "$build"); target=${all%%$'\n'*}; }
[ $list -eq 1 ] || tdf_check_target "$build" "$target"
build=$(tdf_build asan)
asan_runner_dir=$build
[ "$fbuild" = asan ] || build=$(tdf_build fuzz)

if [ $list -eq 1 ]; then
    for t in $(tdf_targets "$build"); do env -u TDF_VARIANT "$build/bin/${t}_run" --list; done
    exit 0
fi

fuzzer="$build/bin/$target" runner="$build/bin/${target}_run"
variant=${TDF_VARIANT:-}
[ -n "$variant" ] || variant=$(tdf_default_variant "$runner")
tdf_check_variant "$runner" "$variant"
[ -x "$fuzzer" ] || { tdf_log "$build has no libFuzzer binary $target (a build with TDF_LIBFUZZER=ON)"; exit 2; }
asan_runner="$asan_runner_dir/bin/${target}_run"

seeds="$TDF_PROJECT/corpus/$target"
corpus=${corpus:-$TDF_PROJECT/work/corpus/$target}
artifacts=${artifacts:-$TDF_PROJECT/artifacts/$target}
mkdir -p "$corpus" "$artifacts"
# Seeding: the committed inputs (text form) in libFuzzer's binary form. Names
# are the seeds' own, so seeding again overwrites rather than adds.
shopt -s nullglob
seed_files=("$seeds"/*)
shopt -u nullglob
if [ ${#seed_files[@]} -gt 0 ]; then
    env -u TDF_VARIANT "$runner" --to_binary="$corpus" "${seed_files[@]}" >/dev/null ||
        { tdf_log "cannot seed $corpus from $seeds (runner --to_binary failed)"; exit 1; }
fi

stamp=$(mktemp)
log=$(mktemp)
trap 'rm -f "$stamp" "$log"' EXIT
tdf_log "fuzzing $target variant=$variant for ${seconds}s (run corpus $corpus, seeds $seeds)"

# awk reads all of the fuzzer's output (no SIGPIPE), keeps it in the log and
# shows the progress and report lines as they come. TDF_LIBFUZZER_OPTIONS
# (scripts/lib.sh): -max_len=512 -len_control=0, as bench/time_to_kill.sh
# measures them.
# TDF_SCHEDULE_TAIL=random (unless the caller set another): past its schedule
# bytes every input goes on with random choices seeded by its own hash, so each
# exec tries an interleaving of its own (docs/BENCHMARKS.md, "Random schedule
# tail"); a crash is then saved as a plain input whose schedule bytes are that
# run's choices (below).
# The target's libFuzzer dictionary when the project has one (dict/TARGET.dict under
# its fuzz directory; docs/BENCHMARKS.md "Dictionaries").
dict_flag=()
[ ! -f "$TDF_PROJECT/fuzz/dict/$target.dict" ] || dict_flag=(-dict="$TDF_PROJECT/fuzz/dict/$target.dict")
set +e
TDF_SCHEDULE_TAIL=$sched_tail TDF_VARIANT=$variant "$fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/$variant-" "${TDF_LIBFUZZER_OPTIONS[@]}" "${dict_flag[@]}" "$corpus" 2>&1 |
    awk -v logf="$log" '{ print > logf }
        /^#[0-9]+[[:space:]]+(INITED|pulse|DONE)|^==TDF== (BUGCHECK|HARDWARE|MISUSE|DEADLOCK|HANG|SANITIZER|FAULT|LIMIT|SIGNATURE)|^stat::(number_of_executed_units|average_exec_per_sec)|ERROR: (libFuzzer|AddressSanitizer)/ { print; fflush() }'
rc=${PIPESTATUS[0]}
set -e

crashes=$(find "$artifacts" -maxdepth 1 -type f -newer "$stamp" \( -name "$variant-crash-*" -o -name "$variant-timeout-*" -o -name "$variant-oom-*" \) | sort)
if [ -z "$crashes" ]; then
    if [ "$rc" -eq 0 ]; then
        tdf_log "no failure found in ${seconds}s"
        exit 0
    fi
    tdf_log "fuzzer exited with $rc and no artifact"
    exit 1
fi
# What the fuzzer saw: the last SIGNATURE line before it wrote the artifact.
seen=$(sed -n 's/^==TDF== SIGNATURE //p' "$log")
seen=${seen##*$'\n'}
project_flag=""
[ "$TDF_PROJECT" != "$TDF_ROOT" ] && project_flag="--project $TDF_PROJECT "
code=0
for c in $crashes; do
    echo
    tdf_log "found: $c"
    # The artifact as the fuzzer ran it (its bytes, then the random tail),
    # written as a plain input: the run's choices become its schedule bytes.
    plain="$c.txt"
    set +e
    "$runner" --variant="$variant" --schedule=$replay_schedule --quiet --save_schedule="$plain" "$c" >/dev/null 2>&1
    saved=$?
    set -e
    if [ "$saved" -eq 2 ] || [ ! -s "$plain" ]; then
        tdf_log "cannot write $c as a plain input (a choice one schedule byte cannot name): replay it with --schedule=$replay_schedule"
        plain=$c
    fi
    set +e
    if [ "$plain" = "$c" ]; then
        "$runner" --variant="$variant" --schedule=$replay_schedule --text "$c"
    else
        "$runner" --variant="$variant" --text "$plain"
    fi
    set -e
    # The check behind the printed command: the same runner, quiet.
    set +e
    if [ "$plain" = "$c" ]; then
        out=$("$runner" --variant="$variant" --schedule=$replay_schedule --quiet "$c" 2>&1)
    else
        out=$("$runner" --variant="$variant" --quiet "$plain" 2>&1)
    fi
    got=$?
    set -e
    sig=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$out")
    sig=${sig%%$'\n'*}
    echo
    if [ "$plain" = "$c" ]; then
        echo "reproduce:  $runner --variant=$variant --schedule=$replay_schedule --trace $c"
    else
        echo "reproduce:  $TDF_ROOT/scripts/repro.sh $project_flag$target $plain --build asan --variant $variant"
    fi
    if [ "$got" -ge 10 ] && { [ -z "$seen" ] || [ "$sig" = "$seen" ]; }; then
        # The headline ("HARDWARE NOT_IN_D0") says what the oracle saw; the
        # signature (the fatal pair) is the dedupe key.
        headline=$(sed -n -E '/^==TDF== (SIGNATURE|RESULT) /d; s/^==TDF== ([A-Z]+) (.*)$/\1\/\2/p' <<<"$out")
        headline=${headline%%$'\n'*}
        if [ -n "$headline" ] && [ "$headline" != "$sig" ]; then
            tdf_log "reproduces: the $fbuild runner replays it as $headline (signature $sig, exit $got)"
        else
            tdf_log "reproduces: the $fbuild runner replays it as $sig (exit $got)"
        fi
        if [ "$fbuild" = fuzz ]; then
            # Confirmed in asan: the same input must fail there too (ASan may
            # stop at a use after free before the model's oracle: another
            # signature, still a failure).
            set +e
            if [ "$plain" = "$c" ]; then
                aout=$("$asan_runner" --variant="$variant" --schedule=$replay_schedule --quiet "$c" 2>&1)
            else
                aout=$("$asan_runner" --variant="$variant" --quiet "$plain" 2>&1)
            fi
            agot=$?
            set -e
            asig=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$aout")
            asig=${asig%%$'\n'*}
            if [ "$agot" -ge 10 ]; then
                tdf_log "confirmed in asan: $asig (exit $agot)"
            else
                tdf_log "NOT confirmed in asan: the asan runner gives '${asig:-no failure}' (exit $agot)"
                got=1
            fi
        fi
        [ "$got" -lt 10 ] || [ "$code" -ne 0 ] || code=$got
        [ "$got" -ge 10 ] || code=1
    else
        tdf_log "does NOT reproduce: the fuzzer saw '${seen:-a crash}', the $fbuild runner gives '${sig:-no failure}' (exit $got)"
        code=1
    fi
done
exit "$code"
