#!/usr/bin/env bash
# Used by ctest (registered per target by tdf_add_target), not by hand:
#   ctest_replay.sh corpus      RUNNER DIR   every input runs clean on the correct variant
#   ctest_replay.sh determinism RUNNER DIR   every input replays to a byte-identical report+trace
#   ctest_replay.sh repro       RUNNER DIR   every *.txt reproduces its "# expect-signature"
#                                            on its "# expect-variant", with the class's exit code,
#                                            and replays deterministically
set -uo pipefail
mode=$1 runner=$2 dir=$3
pass=0 fail=0
# The corpus is the correct protocol's: the target's first variant, whatever TDF_VARIANT says.
correct=$("$runner" --variant= --list | head -n 1 | cut -f1 | cut -d' ' -f2)
shopt -s nullglob
case "$mode" in
corpus)
    files=("$dir"/*)
    if [ ${#files[@]} -gt 0 ]; then
        out=$("$runner" --variant="$correct" --quiet "${files[@]}")
        rc=$?
        pass=$(grep -c 'class=NONE' <<<"$out")
        fail=$(grep -c '^==TDF== RESULT' <<<"$out")
        fail=$((fail - pass))
        [ $rc -eq 0 ] || grep -B2 'RESULT.*class=[A-Z]' <<<"$out" | grep -v 'class=NONE'
    fi
    ;;
determinism)
    files=("$dir"/*)
    if [ ${#files[@]} -gt 0 ]; then
        out=$("$runner" --variant="$correct" --determinism "${files[@]}")
        pass=$(grep -c 'DETERMINISM OK' <<<"$out")
        fail=$(grep -c 'DETERMINISM DIFFERS' <<<"$out")
        grep 'DIFFERS' <<<"$out"
    fi
    ;;
repro)
    for f in "$dir"/*.txt; do
        v=$(sed -n 's/^# expect-variant //p' "$f")
        sig=$(sed -n 's/^# expect-signature //p' "$f")
        out=$("$runner" --variant="$v" --quiet "$f" 2>&1)
        rc=$?
        if grep -qF "==TDF== SIGNATURE $sig" <<<"$out" && [ $rc -ge 10 ] &&
            "$runner" --variant="$v" --determinism "$f" | grep -q 'DETERMINISM OK'; then
            pass=$((pass + 1))
        elif [ -n "${TDF_REPRO_ALLOW_SANITIZER:-}" ] && grep -q '^==TDF== SIGNATURE SANITIZER/' <<<"$out" && [ $rc -eq 15 ]; then
            # TSan build: the race behind the bug is reported before the model's
            # oracle fires (in any schedule, not only the corrupting one).
            pass=$((pass + 1))
            echo "ok $f: $(grep -m1 '^==TDF== SIGNATURE' <<<"$out")"
        else
            fail=$((fail + 1))
            echo "FAIL $f (variant $v, exit $rc): expected $sig"
            echo "$out" | head -5
        fi
    done
    ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
echo "$pass passed, $fail failed"
if [ $((pass + fail)) -eq 0 ]; then
    echo "no inputs in $dir"
    exit 77 # ctest SKIP_RETURN_CODE: nothing to replay is not a pass
fi
[ "$fail" -eq 0 ]
