#!/usr/bin/env bash
# scripts/ctest_replay.sh MODE RUNNER DIR   (registered per target by tdf_add_target)
#   corpus       every input in DIR runs clean on the correct variant (the
#                target's first): one RESULT class=NONE line per input, exit 0
#   determinism  every input in DIR replays to a byte-identical report+trace
#   repro        every DIR/*.txt reproduces its expectation: the WHOLE
#                signature line and the class's exit code, deterministically
#
# A repro file carries "# expect-variant V" and "# expect-signature S" (both
# required, once each). In the TSan build a race is often reported before the
# model's oracle fires; a file where that happens says so with
# "# expect-tsan SANITIZER/data-race:..." (its whole signature), which then
# replaces expect-signature in that build only. A TSan report on a file with no
# such line fails. A race only TSan sees (no model oracle or ASan report in any
# schedule the file has) says "# expect-signature NONE" with its expect-tsan
# line: the other builds then expect a clean run (exit 0); NONE without an
# expect-tsan line fails (a repro must fail somewhere). The TSan build is recognised by TDF_REPRO_ALLOW_SANITIZER=1
# (set by tdf_add_target there) or by the runner being linked with TSan.
# Determinism of a sanitizer report: two separate runs (the sanitizer ends
# the process) print the same ==TDF== lines.
#
# Empty or missing DIR: a FAILURE for a built-in target (DIR is
# <teardown-fuzz>/corpus/T or /repro/T; TDF_REPLAY_BUILTIN_ROOT overrides that
# root for the CLI tests), skipped (exit 77) with a message for a team's own
# out-of-tree target, whose corpus and repros may not exist yet.
#
# Exit status: 0 all passed, 1 a failure, 2 usage error, 77 skipped.
set -uo pipefail

usage="usage: scripts/ctest_replay.sh corpus|determinism|repro RUNNER DIR"
case "${1:-}" in -h | --help) echo "$usage"; sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ $# -eq 3 ] || { echo "ctest_replay: expected 3 arguments, got $#" >&2; echo "$usage" >&2; exit 2; }
mode=$1 runner=$2 dir=$3
case "$mode" in corpus | determinism | repro) ;; *) echo "ctest_replay: unknown mode '$mode'" >&2; echo "$usage" >&2; exit 2 ;; esac
[ -f "$runner" ] && [ -x "$runner" ] || { echo "ctest_replay: runner '$runner' is not an executable file" >&2; exit 2; }

root=${TDF_REPLAY_BUILTIN_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
builtin=0
[ "$(realpath -m "$dir/../..")" = "$(realpath -m "$root")" ] && builtin=1

pass=0 fail=0
failed() { fail=$((fail + 1)); echo "FAIL $*"; }
# The first lines of a run's output, for a failure message (sed reads all).
show() { sed -n '1,8s/^/    /p' <<<"$1"; }

files=()
if [ -d "$dir" ]; then
    shopt -s nullglob
    for f in "$dir"/*; do files+=("$f"); done
    shopt -u nullglob
elif [ -e "$dir" ]; then
    echo "FAIL $dir is not a directory"
    echo "0 passed, 1 failed"
    exit 1
fi
if [ ${#files[@]} -eq 0 ]; then
    what="no inputs in $dir"
    [ -d "$dir" ] || what="$dir does not exist"
    if [ $builtin -eq 1 ]; then
        echo "FAIL $what: a built-in target needs its $mode inputs"
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "$what (a project's own target: skipped until it has inputs)"
    exit 77
fi

listing=$(env -u TDF_VARIANT "$runner" --list 2>&1) || { echo "FAIL $runner --list:"; show "$listing"; echo "0 passed, 1 failed"; exit 1; }
correct=$(awk -F'\t' 'NR == 1 { split($1, w, " "); print w[2] }' <<<"$listing")

# per_file OUT PREFIX: for every input, the rest of its line "PREFIX<path> ..."
# (exactly one line per input is expected), checked by the caller.
declare -A seen
collect() {
    local line p
    seen=()
    while IFS= read -r line; do
        [[ "$line" == "$2"* ]] || continue
        p=${line#"$2"}
        p=${p%% *}
        seen[$p]="${seen[$p]:-}${seen[$p]:+$'\n'}$line"
    done <<<"$1"
}

case "$mode" in
corpus)
    out=$(env -u TDF_VARIANT "$runner" --variant="$correct" --quiet "${files[@]}" 2>&1)
    rc=$?
    collect "$out" "==TDF== RESULT "
    for f in "${files[@]}"; do
        r=${seen[$f]:-}
        if [ -z "$r" ]; then failed "$f: no RESULT line (the runner stopped before it)"
        elif [[ "$r" == *$'\n'* ]]; then failed "$f: more than one RESULT line"
        elif [[ "$r" != *" class=NONE "* ]]; then failed "$f: ${r#==TDF== RESULT }"
        else pass=$((pass + 1)); fi
    done
    if [ $rc -ne 0 ]; then
        failed "the runner exited with $rc (expected 0 for a clean corpus)"
        show "$(grep -v '^==TDF== RESULT .* class=NONE ' <<<"$out")"
    fi
    ;;
determinism)
    out=$(env -u TDF_VARIANT "$runner" --variant="$correct" --determinism "${files[@]}" 2>&1)
    rc=$?
    collect "$out" "==TDF== DETERMINISM OK "
    for f in "${files[@]}"; do
        if [ -n "${seen[$f]:-}" ]; then pass=$((pass + 1)); else failed "$f: no 'DETERMINISM OK' line"; fi
    done
    grep 'DETERMINISM DIFFERS' <<<"$out"
    [ $rc -eq 0 ] || failed "the runner exited with $rc (expected 0)"
    ;;
repro)
    tsan=0
    if [ -n "${TDF_REPRO_ALLOW_SANITIZER:-}" ] || grep -qa '__tsan_init' "$runner"; then tsan=1; fi
    # The exit code of a signature's class (README.md, docs/REPORTS.md).
    class_code() {
        case "$1" in
            0x*) echo 10 ;; HARDWARE/*) echo 11 ;; MISUSE/*) echo 12 ;; DEADLOCK/*) echo 13 ;;
            HANG/*) echo 14 ;; SANITIZER/*) echo 15 ;; FAULT/*) echo 16 ;; LIMIT/*) echo 17 ;; NONE) echo 0 ;;
            *) echo "" ;;
        esac
    }
    # A fatal-pair signature ("registers(child/FDO):...", docs/REPORTS.md "Signatures") names the dead
    # object, not the class: its exit code is that of the class in the run's headline.
    fatal_pair_key() { [[ "$1" =~ ^[a-z]+\([^\)]*\): ]]; }
    headline_code() {
        local c
        c=$(sed -n 's/^==TDF== \(BUGCHECK\|HARDWARE\|MISUSE\|DEADLOCK\|HANG\|SANITIZER\|FAULT\|LIMIT\) .*/\1/p' <<<"$1")
        c=${c%%$'\n'*}
        case "$c" in
            BUGCHECK) echo 10 ;; HARDWARE) echo 11 ;; MISUSE) echo 12 ;; DEADLOCK) echo 13 ;; HANG) echo 14 ;;
            SANITIZER) echo 15 ;; FAULT) echo 16 ;; LIMIT) echo 17 ;; *) echo "" ;;
        esac
    }
    # The ==TDF== lines of one run: what must not change between runs.
    tdf_lines() { env -u TDF_VARIANT "$runner" --variant="$1" --print_trace "$2" 2>&1 | sed -n '/^==TDF==/p'; }
    for f in "${files[@]}"; do
        if [[ "$f" != *.txt ]] || [ ! -f "$f" ]; then failed "$f: not a repro file (repro/<target>/*.txt)"; continue; fi
        vs=$(sed -n 's/^# expect-variant //p' "$f")
        ss=$(sed -n 's/^# expect-signature //p' "$f")
        ts=$(sed -n 's/^# expect-tsan //p' "$f")
        if [ -z "$vs" ] || [ -z "$ss" ]; then failed "$f: needs one '# expect-variant V' and one '# expect-signature S' line"; continue; fi
        if [[ "$vs" == *$'\n'* || "$ss" == *$'\n'* || "$ts" == *$'\n'* ]]; then failed "$f: an expect line is given more than once"; continue; fi
        if [ "$ss" = NONE ] && [ -z "$ts" ]; then
            failed "$f: expect-signature NONE needs an expect-tsan line (a race only TSan sees); a repro must fail"; continue
        fi
        v=$vs exp=$ss
        [ $tsan -eq 1 ] && [ -n "$ts" ] && exp=$ts
        code=$(class_code "$exp")
        if [ -z "$code" ] && ! fatal_pair_key "$exp"; then failed "$f: '$exp' names no failure class"; continue; fi
        if ! grep -qxF -- "$v" <<<"$(awk -F'\t' '{ split($1, w, " "); print w[2] }' <<<"$listing")"; then
            failed "$f: expect-variant '$v' is not a variant of the target"; continue
        fi
        out=$(env -u TDF_VARIANT "$runner" --variant="$v" --quiet "$f" 2>&1)
        rc=$?
        got=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$out")
        got=${got%%$'\n'*}
        shown=${got:-none}
        got=${got:-NONE} # a clean run: what "# expect-signature NONE" asks for
        if [ "$got" != "$exp" ]; then
            failed "$f (variant $v, exit $rc): expected signature '$exp', got '$shown'"
            [ $tsan -eq 1 ] && [ -z "$ts" ] && [[ "$got" == SANITIZER/* ]] &&
                echo "    (a TSan report: if it is expected, the file says so with '# expect-tsan $got')"
            show "$out"
            continue
        fi
        [ -n "$code" ] || code=$(headline_code "$out")
        if [ -z "$code" ]; then failed "$f: signature '$exp' but no class in the run's headline"; show "$out"; continue; fi
        if [ $rc -ne "$code" ]; then failed "$f: signature '$exp' but exit $rc (its class's code is $code)"; continue; fi
        if [[ "$exp" == SANITIZER/* ]]; then
            a=$(tdf_lines "$v" "$f") b=$(tdf_lines "$v" "$f")
            if [ -z "$a" ] || [ "$a" != "$b" ]; then failed "$f: two runs print different ==TDF== lines (not deterministic)"; continue; fi
        else
            det=$(env -u TDF_VARIANT "$runner" --variant="$v" --determinism "$f" 2>&1)
            drc=$?
            if [ $drc -ne 0 ] || [[ "$det" != *"==TDF== DETERMINISM OK "* ]]; then
                failed "$f: determinism check failed (exit $drc)"; show "$det"; continue
            fi
        fi
        pass=$((pass + 1))
        echo "ok $f: $exp (exit $rc)"
    done
    ;;
esac
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
