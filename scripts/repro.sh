#!/usr/bin/env bash
# scripts/repro.sh [--project DIR] TARGET INPUT [--build plain|asan|tsan] [--variant V] [--html FILE]
# Replays one input (binary or text form) and prints the events (text form),
# the run as swimlanes (one lane per model thread, labelled with its driver)
# and the failure report. The variant: --variant, else $TDF_VARIANT, else the
# input's own "# expect-variant" line or the target's first (the runner's rule).
# --html FILE also writes the run as one self-contained page (the runner's
# --trace_json drawn by scripts/trace_html.py; docs/REPORTS.md "The timeline
# page"); FILE is checked before anything is built or run.
#
# Exit status:
#   0       the input ran without a failure
#   2       usage error (unknown option, missing or extra argument, unknown
#           --build, --html without a FILE), bad --project, INPUT missing / a
#           directory / unreadable, unknown target or variant, --html FILE not
#           writable (a directory, no such directory, cannot be created) or the
#           page could not be written
#   3       the input's "# expect-signature" was not met (the runner says so)
#   10..17  the failure class's code (README.md)
source "$(dirname "$0")/lib.sh"

TDF_USAGE="scripts/repro.sh [--project DIR] TARGET INPUT [--build plain|asan|tsan] [--variant V] [--html FILE] | --help
  TARGET      a target of the project (scripts/fuzz.sh --list)
  INPUT       an input file, binary or text form (docs/INPUT.md)
  --build     the build to replay in (default plain; fuzz.sh names the one that found a crash)
  --variant   the variant (default \$TDF_VARIANT, else the input's expect-variant, else the first)
  --project   a team's own project directory (docs/WRITING-A-TARGET.md)
  --html      also write the run as one self-contained HTML page (timeline, fatal pair) to FILE
exit: 0 no failure, 2 usage or input error (an unwritable --html FILE too), 3 expectation not met,
      10..17 the failure class"

config=plain variant=${TDF_VARIANT:-} args=() html="" html_given=0
# --html's value is a file: an option name there means FILE was left out.
set_html() {
    [ -n "$1" ] || tdf_usage_error "--html needs a file path"
    [[ "$1" != -* ]] || tdf_usage_error "--html needs a file path, not the option '$1'"
    html=$1 html_given=1
}
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) tdf_help ;;
        --project) tdf_need_value "$1" $#; tdf_set_project "$2"; shift 2 ;;
        --project=*) tdf_set_project "${1#*=}"; shift ;;
        --build) tdf_need_value "$1" $#; config=$2; shift 2 ;;
        --build=*) config=${1#*=}; shift ;;
        --variant) tdf_need_value "$1" $#; variant=$2; [ -n "$variant" ] || tdf_usage_error "--variant needs a value"; shift 2 ;;
        --variant=*) variant=${1#*=}; [ -n "$variant" ] || tdf_usage_error "--variant needs a value"; shift ;;
        --html) tdf_need_value "$1" $#; set_html "$2"; shift 2 ;;
        --html=*) set_html "${1#*=}"; shift ;;
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
if [ $html_given = 1 ]; then
    # Checked by creating it (appending nothing): the run is not wasted on a
    # page that cannot be written. A file made here is removed if no page is.
    [ ! -d "$html" ] || { tdf_log "--html $html: is a directory, not a file"; exit 2; }
    html_dir=$(dirname -- "$html")
    [ -d "$html_dir" ] || { tdf_log "--html $html: no such directory '$html_dir'"; exit 2; }
    html_new=0
    [ -e "$html" ] || html_new=1
    ( : >>"$html" ) 2>/dev/null || { tdf_log "--html $html: cannot write it"; exit 2; }
    json=""
    trap 'rm -f "$json"; [ "$html_new" = 0 ] || [ -s "$html" ] || rm -f "$html"' EXIT
fi

tdf_ensure_deps
build=$(tdf_configure "$config")
tdf_check_target "$build" "$target"
build=$(tdf_build "$config")
runner="$build/bin/${target}_run"
[ -z "$variant" ] || tdf_check_variant "$runner" "$variant"
# No --variant: the runner applies $TDF_VARIANT (unset here) or the input's line.
vflag=()
[ -z "$variant" ] || vflag=(--variant="$variant")
if [ $html_given = 0 ]; then
    exec env -u TDF_VARIANT "$runner" "${vflag[@]}" --text --trace "$input"
fi

json=$(mktemp "${TMPDIR:-/tmp}/tdf-trace.XXXXXX.json")
rc=0
env -u TDF_VARIANT "$runner" "${vflag[@]}" --text --trace --trace_json="$json" "$input" || rc=$?
if [ ! -s "$json" ]; then
    # The runner writes the trace even when a sanitizer report or a signal
    # ends it (its death hook); should it die some other way, the plain
    # build's run of the same input has it.
    [ $rc = 2 ] || tdf_log "--html: no timeline, the $config runner ended (exit $rc) before writing the trace; the plain build writes it: --build plain"
    exit $rc
fi
python3 "$TDF_ROOT/scripts/trace_html.py" "$json" "$html" || { tdf_log "--html $html: the page was not written"; exit 2; }
tdf_log "timeline written to $html"
exit $rc
