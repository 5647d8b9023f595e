#!/usr/bin/env bash
# scripts/minimize.sh [--project DIR] [--build plain|asan] TARGET INPUT [--variant V] [--out FILE] [--verbose]
# Minimizes a failing input keeping its whole signature: delta debugging over
# the decoded events (drop, then lower arguments), the schedule bytes (drop,
# shorten runs, drop preemptions) and the params, in the runner (--minimize,
# fuzz/minimize.c; docs/INPUT.md "Minimizing"): in-process in the plain build;
# in the asan build in forked worker processes, so that a candidate a
# sanitizer report ends is one more candidate, and an input whose failure is
# such a report (class SANITIZER) minimizes keeping its signature; --verbose
# shows those reports (silenced without it). Deterministic: the same input
# gives the same output. Prints the counts before and after
# (events, schedule bytes, preemptions, bug depth) on stderr and writes the
# text form with its "# expect-variant" / "# expect-signature" lines (and the
# input's "# expect-tsan", kept) to FILE, or to stdout without --out.
#
# Exit status:
#   0   the minimal input was written
#   1   the input does not fail on the variant, faults the harness (FAULT), or
#       the written result did not replay with the signature
#   2   usage error (unknown option, missing or extra argument, unknown
#       --build), bad --project, INPUT missing / a directory / unreadable /
#       not a valid input, unknown target or variant, FILE not writable; asan:
#       a worker process could not be forked
#   3   the input's "# expect-signature" is not what it gives
source "$(dirname "$0")/lib.sh"

TDF_USAGE="scripts/minimize.sh [--project DIR] [--build plain|asan] TARGET INPUT [--variant V] [--out FILE] [--verbose] | --help
  TARGET      a target of the project (scripts/fuzz.sh --list)
  INPUT       a failing input, binary or text form (docs/INPUT.md)
  --build     the build whose runner minimizes (default plain; TSan cannot: its first race ends the process);
              asan runs the candidates in forked workers: a sanitizer report's signature minimizes too
  --variant   the variant (default: the input's expect-variant, else \$TDF_VARIANT, else the first)
  --out       where the minimal text form goes (default: stdout)
  --verbose   asan: show each candidate's sanitizer report on stderr (silenced by default; symbolized, slower)
  --project   a team's own project directory (docs/WRITING-A-TARGET.md)
exit: 0 written, 1 input does not fail / result does not replay, 2 usage or input error (asan: cannot fork),
      3 expectation not met"

config=plain variant="" variant_given=0 out="" verbose=0 args=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) tdf_help ;;
        --project) tdf_need_value "$1" $#; tdf_set_project "$2"; shift 2 ;;
        --project=*) tdf_set_project "${1#*=}"; shift ;;
        --build) tdf_need_value "$1" $#; config=$2; shift 2 ;;
        --build=*) config=${1#*=}; shift ;;
        --variant) tdf_need_value "$1" $#; variant=$2 variant_given=1; shift 2 ;;
        --variant=*) variant=${1#*=} variant_given=1; shift ;;
        --out) tdf_need_value "$1" $#; out=$2; [ -n "$out" ] || tdf_usage_error "--out needs a file name"; shift 2 ;;
        --out=*) out=${1#*=}; [ -n "$out" ] || tdf_usage_error "--out needs a file name"; shift ;;
        --verbose) verbose=1; shift ;;
        --verbose=*) tdf_usage_error "--verbose takes no value (got '${1#*=}')" ;;
        --) shift; args+=("$@"); break ;;
        -*) tdf_usage_error "unknown option '$1'" ;;
        *) args+=("$1"); shift ;;
    esac
done
[ $variant_given -eq 0 ] || [ -n "$variant" ] || tdf_usage_error "--variant needs a value"
[ ${#args[@]} -ge 2 ] || tdf_usage_error "TARGET and INPUT are required"
[ ${#args[@]} -le 2 ] || tdf_usage_error "too many arguments: '${args[*]:2}'"
target=${args[0]} input=${args[1]}
case "$config" in
    plain | asan) ;;
    tsan) tdf_usage_error "--build tsan cannot minimize (its first race report ends the process): use plain, then replay the result with scripts/repro.sh --build tsan" ;;
    *) tdf_usage_error "unknown build '$config' (builds: plain | asan)" ;;
esac
[ -e "$input" ] || { tdf_log "$input: no such file"; exit 2; }
[ ! -d "$input" ] || { tdf_log "$input: is a directory, not an input file"; exit 2; }
[ -f "$input" ] || { tdf_log "$input: not a regular file"; exit 2; }
[ -r "$input" ] || { tdf_log "$input: not readable"; exit 2; }
if [ -n "$out" ]; then
    [ ! -d "$out" ] || { tdf_log "--out $out: is a directory"; exit 2; }
    [ -d "$(dirname -- "$out")" ] || { tdf_log "--out $out: no directory $(dirname -- "$out")"; exit 2; }
fi

tdf_ensure_deps
build=$(tdf_configure "$config")
tdf_check_target "$build" "$target"
build=$(tdf_build "$config")
runner="$build/bin/${target}_run"
[ $variant_given -eq 0 ] || tdf_check_variant "$runner" "$variant"

dest=$out
if [ -z "$out" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    dest=$work/min.txt
fi
flags=(--minimize="$dest")
[ $variant_given -eq 0 ] || flags+=(--variant="$variant")
[ $verbose -eq 0 ] || flags+=(--minimize_verbose)
# The runner's counts go to stderr: stdout is the text form when there is no --out.
# Without --variant the runner picks it (expect-variant, else $TDF_VARIANT).
set +e
"$runner" "${flags[@]}" -- "$input" >&2
rc=$?
set -e
if [ -z "$out" ] && [ -f "$dest" ]; then
    cat "$dest"
fi
exit $rc
