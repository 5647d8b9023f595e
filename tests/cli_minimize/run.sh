#!/usr/bin/env bash
# tests/cli_minimize/run.sh BUILD_DIR: semantic minimization (the runner's
# --minimize, scripts/minimize.sh, make_repro.sh's use of it; issue 13 item 2).
#   planted   a repro with 31 irrelevant bus_notify stimuli on other devices put
#             before its events (the text form's limit is 32 events) shrinks to
#             at most 2 events with the same signature, fewer schedule bytes,
#             and the written file replays as its expect-signature
#   random    a --schedule=random find of the repro's events, saved as bytes,
#             shrinks in schedule bytes and preemptions (asan too, where the
#             candidates run in forked workers: one an ASan report ends is just
#             another signature, tests/cli_minimize/sanitizer.sh)
#   determinism  the same input twice, and in binary form, gives byte-identical
#             output; the counts line says depth = preemptions + 1
#   make_repro  writes the same file twice, minimize.sh's body
#   expectations  expect-tsan is kept; a clean input exits 1, an unmet
#             expect-signature 3; every usage error exits 2 with its message
# In the TSan build only the refusal is checked (a race report would end the
# process at its first candidate). Ends with "N passed, M failed".
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: tests/cli_minimize/run.sh BUILD_DIR" >&2; exit 2; }
bindir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
S=$root/scripts
export TDF_BUILD_DIR_PLAIN=$bindir TDF_BUILD_DIR_ASAN=$bindir
unset TDF_VARIANT
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/../cli_check.sh" # pass/fail, ok, bad, check
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

target=fuzz_bus_child
R=$bindir/bin/${target}_run
sanitizer=$(sed -n 's/^TDF_SANITIZER:[A-Z]*=//p' "$bindir/CMakeCache.txt")
repro=$root/repro/$target/no_rundown.txt
flag=$root/repro/$target/flag_check.txt

if [ "$sanitizer" = tsan ]; then
    check "tsan refuses" 2 "does not run in the TSan build" "$R" --minimize="$work/o.txt" "$repro"
    finish
fi

# --- planted: irrelevant events before the repro's own, then filler bytes (f8:
# pick the lowest runnable, stay 31: what an empty schedule does at a block)
# so that the repro's bytes reach its own choice points; the first filler count
# 0..200 that gives the repro's signature is the planted crash.
want=$(sed -n 's/^# expect-signature //p' "$repro")
variant=$(sed -n 's/^# expect-variant //p' "$repro")
sched=$(sed -n 's/^schedule //p' "$repro")
planted=$work/planted.txt
found=""
for fill in $(seq 0 200); do
    {
        echo "target $target"
        echo "param children 4"
        for i in $(seq 1 31); do echo "event bus_notify $((i % 3 + 1))"; done
        sed -n 's/^event /event /p' "$repro"
        printf 'schedule'
        for _ in $(seq 1 "$fill"); do printf ' f8'; done
        echo " $sched"
    } >"$planted"
    got=$("$R" --variant="$variant" --quiet "$planted" 2>&1)
    if [[ "$got" == *"SIGNATURE $want"* ]]; then
        found=$fill
        break
    fi
done
if [ -z "$found" ]; then
    bad "planted: no filler count 0..200 makes the 31 extra events keep $want (repro $repro)"
    finish
fi
ev_before=$(grep -c '^event ' "$planted")
[ "$ev_before" -eq 32 ] && ok || bad "planted: $ev_before events, want 32"
check "planted minimizes" 0 "MINIMIZE after:" "$S/minimize.sh" "$target" "$planted" --variant "$variant" --out "$work/min.txt"
ev_after=$(grep -c '^event ' "$work/min.txt")
[ "$ev_after" -le 2 ] && ok || bad "planted: $ev_after events after minimizing, want at most 2"
grep -qxF "# expect-signature $want" "$work/min.txt" && ok || bad "planted: no '# expect-signature $want' line"
grep -qxF "# expect-variant $variant" "$work/min.txt" && ok || bad "planted: no '# expect-variant $variant' line"
sb() { sed -n 's/^schedule //p' "$1" | wc -w; }
[ "$(sb "$work/min.txt")" -lt "$(sb "$planted")" ] && ok || bad "planted: schedule bytes $(sb "$planted") -> $(sb "$work/min.txt"), want fewer"
# The written file replays with its expectation met: the class's exit code, not 3.
"$R" --quiet "$work/min.txt" >"$work/replay" 2>&1
rc=$?
if [ $rc -ge 10 ] && grep -qF "SIGNATURE $want" "$work/replay"; then ok; else bad "planted: replay exit $rc"; sed 's/^/    /' "$work/replay"; fi
echo "planted: $ev_before events, $(sb "$planted") schedule bytes -> $ev_after events, $(sb "$work/min.txt") schedule bytes"

# --- a random-schedule find: the repro's events on 3 children under
# --schedule=random:SEED (a quarter of the choice points preempt), written back
# with --save_schedule: the first seed 1..100 that gives the signature. Its
# schedule must shrink, and its preemptions drop.
grep -v '^schedule ' "$repro" | sed 's/^param children .*/param children 3/' >"$work/events.txt"
found=""
for seed in $(seq 1 100); do
    rm -f "$work/rnd.txt"
    got=$("$R" --quiet --schedule=random:$seed --save_schedule="$work/rnd.txt" "$work/events.txt" 2>&1)
    if [ -f "$work/rnd.txt" ] && [[ "$got" == *"SIGNATURE $want"* ]]; then found=$seed; break; fi
done
if [ -n "$found" ]; then
    "$R" --variant="$variant" --minimize="$work/rndmin.txt" "$work/rnd.txt" >"$work/rndlog" 2>&1
    rc=$?
    counts() { sed -n "s/^==TDF== MINIMIZE $1: .* events\{0,1\}, \([0-9]*\) schedule bytes\{0,1\}.*, \([0-9]*\) preemptions\{0,1\}.*/\1 \2/p" "$work/rndlog"; }
    read -r b_before p_before <<<"$(counts before)"
    read -r b_after p_after <<<"$(counts after)"
    if [ $rc -eq 0 ] && [ -n "${b_after:-}" ] && [ "$b_after" -lt "$b_before" ] && [ "$p_after" -lt "$p_before" ]; then
        ok
    else
        bad "random find (seed $found): exit $rc, schedule bytes ${b_before:-?} -> ${b_after:-?}, preemptions ${p_before:-?} -> ${p_after:-?}"
        sed -n '1,4s/^/    /p' "$work/rndlog"
    fi
    echo "random find (seed $found): $b_before schedule bytes, $p_before preemptions -> $b_after bytes, $p_after preemptions"
else
    bad "random find: no seed 1..100 gives $want with a writable schedule"
fi

# --- determinism: same input, same bytes; binary form, same bytes
"$R" --variant="$variant" --minimize="$work/min2.txt" "$planted" >"$work/log2" 2>&1
cmp -s "$work/min.txt" "$work/min2.txt" && ok || bad "determinism: two minimizations of the planted input differ"
"$R" --from_text="$planted" --out="$work/planted.bin" >/dev/null 2>&1
"$R" --variant="$variant" --minimize="$work/min3.txt" "$work/planted.bin" >/dev/null 2>&1
cmp -s "$work/min.txt" "$work/min3.txt" && ok || bad "determinism: the binary form minimizes to other bytes"
"$R" --minimize="$work/f1.txt" "$flag" >"$work/flog" 2>&1
"$R" --minimize="$work/f2.txt" "$flag" >/dev/null 2>&1
cmp -s "$work/f1.txt" "$work/f2.txt" && ok || bad "determinism: $flag minimizes to other bytes the second time"
# after: N events, B schedule bytes, P preemptions, bug depth D with D = P + 1
line=$(sed -n 's/^==TDF== MINIMIZE after: //p' "$work/flog")
if [[ "$line" =~ ([0-9]+)\ preemptions?,\ bug\ depth\ ([0-9]+) ]] && [ "${BASH_REMATCH[2]}" -eq $((BASH_REMATCH[1] + 1)) ]; then
    ok
else
    bad "counts: '$line'"
fi

# --- make_repro.sh: the same minimizer, the same file twice, asan's signature checked
mkdir -p "$work/proj"
echo "# a project directory for --project (the builds come from TDF_BUILD_DIR_*)" >"$work/proj/CMakeLists.txt"
check "make_repro" 0 "wrote $work/proj/repro/$target/planted.txt" \
    "$S/make_repro.sh" --project "$work/proj" "$target" "$variant" "$planted" planted
cp "$work/proj/repro/$target/planted.txt" "$work/mr1.txt" 2>/dev/null
check "make_repro again" 0 "wrote" "$S/make_repro.sh" --project "$work/proj" "$target" "$variant" "$planted" planted
cmp -s "$work/mr1.txt" "$work/proj/repro/$target/planted.txt" && ok || bad "make_repro: two runs wrote different files"
# The body (after make_repro's own first line) is minimize.sh's.
if cmp -s <(sed 1d "$work/mr1.txt") <(sed 1d "$work/min.txt"); then ok; else bad "make_repro: not minimize.sh's result"; fi
check "make_repro clean" 1 "does not fail on variant correct" \
    "$S/make_repro.sh" --project "$work/proj" "$target" correct "$planted" clean

# --- expectations
tsan_line=$(grep '^# expect-tsan ' "$flag")
if [ -n "$tsan_line" ]; then
    grep -qxF "$tsan_line" "$work/f1.txt" && ok || bad "expect-tsan: '$tsan_line' not kept"
fi
grep -v '^#' "$repro" >"$work/plain_input.txt"
check "clean input" 1 "does not fail on variant correct" "$R" --variant=correct --minimize="$work/o.txt" "$work/plain_input.txt"
sed "s/^# expect-signature .*/# expect-signature NONE/" "$repro" >"$work/unmet.txt"
check "unmet expectation" 3 "EXPECTATION FAILED expected NONE" "$R" --minimize="$work/o.txt" "$work/unmet.txt"
check "script unmet" 3 "EXPECTATION FAILED" "$S/minimize.sh" "$target" "$work/unmet.txt"

# --- usage errors: the runner
check "no value" 2 "--minimize needs a value" "$R" --minimize
check "empty value" 2 "--minimize needs an output path" "$R" --minimize= "$repro"
check "two inputs" 2 "exactly one INPUT (got 2)" "$R" --minimize="$work/o.txt" "$repro" "$flag"
check "no input" 2 "exactly one INPUT (got 0)" "$R" --minimize="$work/o.txt"
check "with --trace" 2 "--minimize runs alone" "$R" --minimize="$work/o.txt" --trace "$repro"
check "with --to_text" 2 "" "$R" --minimize="$work/o.txt" --to_text "$repro"
check "random schedule" 2 "does not apply" "$R" --minimize="$work/o.txt" --schedule=random:1 "$repro"
check "verbose alone" 2 "--minimize_verbose is used with --minimize only" "$R" --minimize_verbose "$repro"
check "missing input" 2 "cannot open input" "$R" --minimize="$work/o.txt" "$work/nope.txt"
check "bad output" 2 "cannot write" "$R" --minimize="$work/no/such/dir/o.txt" "$repro"
# --- usage errors: the script
check "script --help" 0 "usage: scripts/minimize.sh" "$S/minimize.sh" --help
check "script no args" 2 "TARGET and INPUT are required" "$S/minimize.sh"
check "script extra" 2 "too many arguments: 'x'" "$S/minimize.sh" "$target" "$repro" x
check "script unknown option" 2 "unknown option '--bogus'" "$S/minimize.sh" --bogus "$target" "$repro"
check "script --out no value" 2 "--out needs a value" "$S/minimize.sh" "$target" "$repro" --out
check "script --out empty" 2 "--out needs a file name" "$S/minimize.sh" "$target" "$repro" --out=
check "script --out dir" 2 "is a directory" "$S/minimize.sh" "$target" "$repro" --out "$work"
check "script --verbose value" 2 "--verbose takes no value (got '1')" "$S/minimize.sh" "$target" "$repro" --verbose=1
check "script --build tsan" 2 "--build tsan cannot minimize" "$S/minimize.sh" --build tsan "$target" "$repro"
check "script --build bad" 2 "unknown build 'x'" "$S/minimize.sh" --build x "$target" "$repro"
check "script --variant empty" 2 "--variant needs a value" "$S/minimize.sh" "$target" "$repro" --variant=
check "script unknown variant" 2 "unknown variant 'nope'" "$S/minimize.sh" "$target" "$repro" --variant nope
check "script unknown target" 2 "unknown target 'nope'" "$S/minimize.sh" nope "$repro"
check "script missing input" 2 "no such file" "$S/minimize.sh" "$target" "$work/nope.txt"
check "script input dir" 2 "is a directory" "$S/minimize.sh" "$target" "$work"
check "script stdout" 0 "# expect-signature $want" "$S/minimize.sh" "$target" "$repro"
check "script --build asan" 0 "MINIMIZE after:" "$S/minimize.sh" --build asan "$target" "$repro" --out "$work/o.txt"
check "script --project" 0 "MINIMIZE after:" "$S/minimize.sh" --project "$work/proj" "$target" "$repro" --out "$work/o.txt"
check "script --project missing" 2 "no such directory" "$S/minimize.sh" --project "$work/nope" "$target" "$repro"
check "script --project no value" 2 "--project needs a value" "$S/minimize.sh" --project
finish
