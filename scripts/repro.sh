#!/usr/bin/env bash
# scripts/repro.sh [--project DIR] TARGET INPUT [--build plain|asan|tsan] [--variant V]
# Replays one input (binary or text form) and prints the events (text form),
# the run as swimlanes (one lane per model thread, labelled with its driver)
# and the failure report. The variant: --variant, else $TDF_VARIANT, else the
# input's own "# expect-variant" line or the target's first (the runner's rule).
#
# Exit status:
#   0       the input ran without a failure
#   2       usage error (unknown option, missing or extra argument, unknown
#           --build), bad --project, INPUT missing / a directory / unreadable,
#           unknown target or variant
#   3       the input's "# expect-signature" was not met (the runner says so)
#   10..17  the failure class's code (README.md)
source "$(dirname "$0")/lib.sh"

TDF_USAGE="scripts/repro.sh [--project DIR] TARGET INPUT [--build plain|asan|tsan] [--variant V] | --help
  TARGET      a target of the project (scripts/fuzz.sh --list)
  INPUT       an input file, binary or text form (docs/INPUT.md)
  --build     the build to replay in (default plain; fuzz.sh names the one that found a crash)
  --variant   the variant (default \$TDF_VARIANT, else the input's expect-variant, else the first)
  --project   a team's own project directory (docs/WRITING-A-TARGET.md)
exit: 0 no failure, 2 usage or input error, 3 expectation not met, 10..17 the failure class"

config=plain variant=${TDF_VARIANT:-} args=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) tdf_help ;;
        --project) tdf_need_value "$1" $#; tdf_set_project "$2"; shift 2 ;;
        --project=*) tdf_set_project "${1#*=}"; shift ;;
        --build) tdf_need_value "$1" $#; config=$2; shift 2 ;;
        --build=*) config=${1#*=}; shift ;;
        --variant) tdf_need_value "$1" $#; variant=$2; [ -n "$variant" ] || tdf_usage_error "--variant needs a value"; shift 2 ;;
        --variant=*) variant=${1#*=}; [ -n "$variant" ] || tdf_usage_error "--variant needs a value"; shift ;;
        --) shift; args+=("$@"); break ;;
        -*) tdf_usage_error "unknown option '$1'" ;;
        *) args+=("$1"); shift ;;
    esac
done
[ ${#args[@]} -ge 2 ] || tdf_usage_error "TARGET and INPUT are required"
[ ${#args[@]} -le 2 ] || tdf_usage_error "too many arguments: '${args[*]:2}'"
target=${args[0]} input=${args[1]}
tdf_check_config "$config"
[ -e "$input" ] || { tdf_log "$input: no such file"; exit 2; }
[ ! -d "$input" ] || { tdf_log "$input: is a directory, not an input file"; exit 2; }
[ -f "$input" ] || { tdf_log "$input: not a regular file"; exit 2; }
[ -r "$input" ] || { tdf_log "$input: not readable"; exit 2; }

tdf_ensure_deps
build=$(tdf_configure "$config")
tdf_check_target "$build" "$target"
build=$(tdf_build "$config")
runner="$build/bin/${target}_run"
[ -z "$variant" ] || tdf_check_variant "$runner" "$variant"
# No --variant: the runner applies $TDF_VARIANT (unset here) or the input's line.
if [ -n "$variant" ]; then
    exec env -u TDF_VARIANT "$runner" --variant="$variant" --text --trace "$input"
fi
exec env -u TDF_VARIANT "$runner" --text --trace "$input"
