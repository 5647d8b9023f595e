#!/usr/bin/env bash
# tests/cli_validate/run.sh BUILD_DIR: scripts/validate.sh end to end on
# fuzz_bus_child with tiny budgets (issue 15 item 5), in the plain build only
# (registered there; it uses BUILD_DIR as it is, TDF_BUILD_DIR_PLAIN).
#   usage     every bad argument exits 2 with its message
#   mutant    flag_check fails part (a) on its own repro: exit 11 (HARDWARE),
#             the printed repro command reproduces it
#   dfs find  a one-child two-event seed script: (b) finds flag_check at P<=1
#             (bugcheck 0xCE), writes the input, the printed command replays
#             it (exit 10)
#   correct   the correct variant is clean with --minutes 0 (fuzzing skipped,
#             said so) and a small --dfs-limit: every known crash fixed
# Ends with "N passed, M failed".
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: tests/cli_validate/run.sh BUILD_DIR" >&2; exit 2; }
bindir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
V=$root/scripts/validate.sh
# ctest never builds: the plain build is this one; fuzz (asan) and TSan are
# not used (--minutes 0, --skip-tsan), an empty override would make them.
export TDF_BUILD_DIR_PLAIN=$bindir TDF_BUILD_DIR_ASAN=/nonexistent TDF_BUILD_DIR_TSAN=/nonexistent TDF_JOBS=2
unset TDF_VARIANT
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/../cli_check.sh" # pass/fail, ok, bad, check
T=fuzz_bus_child
R=$bindir/bin/${T}_run
tiny=(--minutes 0 --skip-tsan --dfs-limit 20)

# --- usage errors
check "no target" 2 "TARGET is required" "$V"
check "two targets" 2 "too many arguments" "$V" $T $T
check "unknown option" 2 "unknown option '--seconds'" "$V" $T --seconds 5
check "minutes word" 2 "--minutes must be 0 or a positive integer" "$V" $T --minutes two
check "minutes negative" 2 "--minutes must be 0 or a positive integer" "$V" $T --minutes -1
check "preemptions 65" 2 "--preemptions must be an integer 0..64" "$V" $T --preemptions 65
check "dfs-limit 0" 2 "--dfs-limit must be a positive integer" "$V" $T --dfs-limit 0
check "missing value" 2 "--variant needs a value" "$V" $T --variant
check "empty variant" 2 "--variant needs a name" "$V" $T --variant=
check "bad project" 2 "--project $work/none: no such directory" "$V" $T --project "$work/none"
check "bad jobs" 2 "TDF_JOBS must be a positive integer" env TDF_JOBS=0 "$V" $T
check "unknown target" 2 "unknown target 'fuzz_nothing'" "$V" fuzz_nothing "${tiny[@]}"
check "unknown variant" 2 "unknown variant 'nope'" "$V" $T --variant nope "${tiny[@]}"
check "help" 0 "exit: 0 all clean" "$V" --help

# A hang guard, not a speed check: under a loaded parallel ctest one
# validate.sh run took over 120 s (it builds nothing, but replays and runs
# dfs over every seed script), so the bound is generous.
guard=${TDF_CLI_VALIDATE_TIMEOUT:-900}

# --- a mutant: its own repro still fails; exit = its class code
out=$(timeout "$guard" "$V" $T --variant flag_check "${tiny[@]}" 2>&1)
rc=$?
if [ $rc -eq 11 ] && [[ "$out" == *"FAILS   repro/$T/flag_check.txt: call(child):child!Child_OnBusEvent"* ]] &&
    [[ "$out" == *"(a) replay FAIL"* ]] && [[ "$out" == *"verdict: FAIL (exit 11)"* ]]; then ok
else bad "mutant: exit $rc (want 11) or no FAILS/verdict line:"; sed -n '1,12s/^/    /p' <<<"$out"; fi
# The corpus failures' list is kept under the project's work/: this run's only.
kept=$(sed -n 's/^inputs kept in \(work\/validate\/[^ /]*\)$/\1/p' <<<"$out")
[ -n "$kept" ] && [ -d "$root/$kept" ] && ok || bad "mutant: no 'inputs kept in work/validate/...' line"
[ -z "$kept" ] || rm -rf "${root:?}/$kept"
cmd=$(grep -F -- "--variant=flag_check repro/$T/flag_check.txt" <<<"$out" | sed -n '1s/^ *//p')
if [ -n "$cmd" ]; then
    # The printed command, run from the project root as the reviewer would.
    check "mutant repro command" 11 "SIGNATURE call(child):child!Child_OnBusEvent" bash -c "cd '$root' && $cmd"
else bad "mutant: no repro command for flag_check.txt in the failures"; fi

# --- a dfs find: a project whose only seed script needs a preemption
proj=$work/proj
mkdir -p "$proj/corpus/$T"
echo "# a project: only its corpus/ and repro/ are read (the build is given)" >"$proj/CMakeLists.txt"
printf 'format 1\ntarget %s\nparam children 1\nevent bus_notify 0\nevent idle 1\n' $T >"$proj/corpus/$T/two.txt"
out=$(timeout "$guard" "$V" $T --project "$proj" --variant flag_check --preemptions 1 --dfs-limit 5000 --minutes 0 --skip-tsan 2>&1)
rc=$?
found=$(sed -n 's/^ *[^ ]*_run --variant=flag_check \(.*dfs\/.*\.found\.txt\)$/\1/p' <<<"$out")
if [ $rc -eq 10 ] && [[ "$out" == *"(b) dfs    FAIL"* ]] && [[ "$out" == *"(b) dfs: call(child):child!Child_OnBusEvent"* ]] && [[ "$out" == *"1 failed"* ]] && [ -n "$found" ]; then
    ok
    check "dfs find replays" 10 "SIGNATURE call(child):child!Child_OnBusEvent" bash -c "cd '$proj' && '$R' --variant=flag_check '$found'"
else bad "dfs find: exit $rc (want 10), no (b) failure or no written input:"; sed -n '1,12s/^/    /p' <<<"$out"; fi
rm -rf "$proj/work"

# --- the correct variant: clean
out=$(timeout "$guard" "$V" $T "${tiny[@]}" 2>&1)
rc=$?
[ $rc -eq 0 ] || { bad "correct: exit $rc (want 0):"; sed -n '1,12s/^/    /p' <<<"$out"; }
n=$(ls "$root/repro/$T"/*.txt | wc -l)
for want in "verdict: clean" "$n known crashes: $n fixed, 0 still fail" "skipped: --minutes 0" "skipped: --skip-tsan" "0 failed"; do
    [[ "$out" == *"$want"* ]] && ok || bad "correct: no '$want' in the verdict"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
