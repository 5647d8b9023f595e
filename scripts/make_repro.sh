#!/usr/bin/env bash
# scripts/make_repro.sh [--project DIR] TARGET VARIANT CRASH_INPUT [NAME]
# scripts/make_repro.sh [--project DIR] --refresh REPRO_FILE...
# Turns a crash input into a checked-in repro: minimizes it in the plain
# runner keeping its whole signature (scripts/minimize.sh: deterministic, the
# same input gives the same file), checks that the asan build reports the same
# signature, and writes repro/<TARGET>/<NAME or VARIANT>.txt in text form with
# the "# expect-variant" / "# expect-signature" lines ctest replays (an input's
# own "# expect-tsan" line is kept). If the TSan build reports a sanitizer race
# first, add the "# expect-tsan SIGNATURE" line by hand (scripts/ctest_replay.sh).
#
# --refresh: re-records the "# expect-signature" line of existing repro files
# (repro/<target>/*.txt, target from the file's "target" line) as the plain
# build gives it now, after a change of the signature's definition: the
# input and its other lines stay as they are (no minimizing). Plain build
# only (ctest replays repro files there; scripts/test.sh checks that asan and
# tsan print the same trace). Prints "refreshed FILE: OLD -> NEW" or
# "unchanged FILE" per file.
#
# Exit status:
#   0  the repro was written
#   1  the input does not fail on VARIANT (or not as its own expect-signature
#      says), its minimized form does not replay, or plain and asan disagree
#   2  usage error, bad --project, CRASH_INPUT missing / a directory /
#      unreadable, unknown target or variant, bad NAME; --refresh: a file
#      missing, without "target" / "# expect-variant" lines, or rejected
#   (--refresh: 1 if a file no longer fails; the other files are still
#   refreshed)
source "$(dirname "$0")/lib.sh"

TDF_USAGE="scripts/make_repro.sh [--project DIR] TARGET VARIANT CRASH_INPUT [NAME] | [--project DIR] --refresh REPRO_FILE... | --help
  TARGET       a target of the project (scripts/fuzz.sh --list)
  VARIANT      the variant the input fails on
  CRASH_INPUT  the input (binary or text form), e.g. an artifact scripts/fuzz.sh wrote
  NAME         file name in repro/TARGET/ (default: VARIANT), letters, digits, _ and -
  --refresh    re-record the '# expect-signature' line of existing repro files (no minimizing)
exit: 0 written, 1 input does not fail / builds disagree, 2 usage or input error"

args=() refresh=0
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) tdf_help ;;
        --refresh) refresh=1; shift ;;
        --project) tdf_need_value "$1" $#; tdf_set_project "$2"; shift 2 ;;
        --project=*) tdf_set_project "${1#*=}"; shift ;;
        --) shift; args+=("$@"); break ;;
        -*) tdf_usage_error "unknown option '$1'" ;;
        *) args+=("$1"); shift ;;
    esac
done
if [ $refresh -eq 1 ]; then
    [ ${#args[@]} -ge 1 ] || tdf_usage_error "--refresh needs at least one REPRO_FILE"
    for f in "${args[@]}"; do
        [ -f "$f" ] || { tdf_log "$f: no such file"; exit 2; }
        grep -q '^target ' "$f" || { tdf_log "$f: no 'target' line (not a text-form input)"; exit 2; }
        grep -q '^# expect-variant ' "$f" || { tdf_log "$f: no '# expect-variant' line (not a repro file)"; exit 2; }
    done
    tdf_ensure_deps
    plain=$(tdf_build plain)
    rc=0
    for f in "${args[@]}"; do
        t=$(sed -n 's/^target //p' "$f")
        v=$(sed -n 's/^# expect-variant //p' "$f")
        [ -x "$plain/bin/${t}_run" ] || { tdf_log "$f: unknown target '$t'"; exit 2; }
        # The runner prints the run's signature whether or not the file's
        # expectation holds (exit 3 when it does not: the point here).
        set +e
        out=$(env -u TDF_VARIANT "$plain/bin/${t}_run" --variant="$v" --quiet "$f" 2>&1)
        code=$?
        set -e
        [ $code -ne 2 ] || { tdf_log "the runner rejects $f:"; printf '%s\n' "$out" >&2; exit 2; }
        sig=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$out")
        got=("${sig%%$'\n'*}")
        [ -n "${got[0]}" ] || [ $code -ne 0 ] || got=(NONE) # clean: "# expect-signature NONE" (a TSan-only race)
        if [ -z "${got[0]}" ]; then
            tdf_log "$f no longer fails on variant $v (plain build): re-make it from a crash"; rc=1; continue
        fi
        old=$(sed -n 's/^# expect-signature //p' "$f")
        if [ "$old" = "${got[0]}" ]; then
            echo "unchanged $f"
            continue
        fi
        tmp=$(mktemp "$f.XXXXXX")
        if grep -q '^# expect-signature ' "$f"; then
            awk -v s="${got[0]}" '/^# expect-signature / { print "# expect-signature " s; next } { print }' "$f" >"$tmp"
        else
            awk -v s="${got[0]}" '{ print } /^# expect-variant / { print "# expect-signature " s }' "$f" >"$tmp"
        fi
        mv "$tmp" "$f"
        echo "refreshed $f: ${old:-(none)} -> ${got[0]}"
    done
    exit $rc
fi
[ ${#args[@]} -ge 3 ] || tdf_usage_error "TARGET, VARIANT and CRASH_INPUT are required"
[ ${#args[@]} -le 4 ] || tdf_usage_error "too many arguments: '${args[*]:4}'"
target=${args[0]} variant=${args[1]} crash=${args[2]} name=${args[3]:-${args[1]}}
[[ "$name" =~ ^[A-Za-z0-9_-]+$ ]] || tdf_usage_error "NAME '$name': letters, digits, _ and - only"
[ -e "$crash" ] || { tdf_log "$crash: no such file"; exit 2; }
[ ! -d "$crash" ] || { tdf_log "$crash: is a directory, not an input file"; exit 2; }
[ -f "$crash" ] || { tdf_log "$crash: not a regular file"; exit 2; }
[ -r "$crash" ] || { tdf_log "$crash: not readable"; exit 2; }

tdf_ensure_deps
plain=$(tdf_configure plain)
tdf_check_target "$plain" "$target"
plain=$(tdf_build plain)
tdf_check_variant "$plain/bin/${target}_run" "$variant"
asan=$(tdf_build asan)

# signature BUILD INPUT: the failure's signature, empty if the run is clean.
# An input the runner rejects (exit 2) is an input error, not "no failure".
signature() {
    local out rc
    set +e
    out=$(env -u TDF_VARIANT "$1/bin/${target}_run" --variant="$variant" --quiet "$2" 2>&1)
    rc=$?
    set -e
    if [ $rc -eq 2 ]; then
        tdf_log "the runner rejects $2:"
        printf '%s\n' "$out" >&2
        exit 2
    fi
    out=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$out")
    printf '%s' "${out%%$'\n'*}"
}

want=$(signature "$plain" "$crash")
[ -n "$want" ] || { tdf_log "$crash does not fail on variant $variant (plain build: no failure)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The runner's minimizer (fuzz/minimize.c): every step keeps the whole signature.
set +e
env -u TDF_VARIANT "$plain/bin/${target}_run" --variant="$variant" --minimize="$work/best" -- "$crash" >"$work/log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
    cat "$work/log" >&2
    tdf_log "minimizing $crash failed (runner exit $rc)"
    [ $rc -eq 2 ] && exit 2
    exit 1
fi
sed -n 's/^==TDF== MINIMIZE \(before\|after\): /\1: /p' "$work/log" >&2
got=$(signature "$asan" "$work/best")
[ "$got" = "$want" ] || { tdf_log "plain says '$want' but asan says '${got:-no failure}': pick another input"; exit 1; }

out="$TDF_PROJECT/repro/$target/$name.txt"
mkdir -p "$(dirname "$out")"
{
    echo "# teardown-fuzz repro: found by fuzzing, minimized (scripts/make_repro.sh)"
    sed 1d "$work/best"
} >"$out"
tdf_log "wrote $out ($want)"
