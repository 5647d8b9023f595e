#!/usr/bin/env bash
# The runner's --schedule=dfs and pct on a real target (fuzz_bus_child, one child, bus_notify then idle):
# flag_check is clean and exhausted at P=0 and found at P<=1 with a plain input that replays to the same
# signature; the correct variant is exhausted clean at P<=1; LIMIT stops with exit 4; usage errors exit 2;
# pct with and without K runs the same twice. In the TSan build TSan reports flag_check's race inside the first
# failing run (exit 15, before any input is written: docs/INPUT.md "Schedule sources"), so there the mutant checks
# are that report, and the clean search is P=0 (TSan runs are ~20x slower).
# Usage: run.sh RUNNER WORKDIR SANITIZER(none|asan|tsan)
set -u
runner=$1
work=$2
san=${3:-none}
mkdir -p "$work"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

script="$work/two_events.txt"
printf 'format 1\ntarget fuzz_bus_child\nparam children 1\nevent bus_notify 0\nevent idle 1\n' >"$script"

# check NAME WANT_EXIT WANT_TEXT CMD...
check() {
    local name=$1 want=$2 text=$3
    shift 3
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" != "$want" ]; then bad "$name: exit $rc (want $want)"; echo "$out" | tail -5 | sed 's/^/    /'; return; fi
    if ! grep -qF -- "$text" <<<"$out"; then bad "$name: no '$text' in:"; echo "$out" | tail -5 | sed 's/^/    /'; return; fi
    ok
}

if [ "$san" = tsan ]; then
    check tsan_mutant_race 15 "SANITIZER/data-race:child!Child_EvtDeviceReleaseHardware" \
        "$runner" --schedule=dfs:1 --variant=flag_check "$script"
    check tsan_correct_exhausted_p0 0 "round P<=0: 748 schedules" "$runner" --schedule=dfs:0:nopor --variant=correct "$script"
    check limit_stops 4 "stopped at LIMIT before the space was exhausted" \
        "$runner" --schedule=dfs:2:100 --variant=correct "$script"
    for s in pct:5:3 pct:5:3:40; do
        a=$("$runner" --schedule=$s --variant=correct --print_trace "$script" 2>&1)
        b=$("$runner" --schedule=$s --variant=correct --print_trace "$script" 2>&1)
        if [ -n "$a" ] && [ "$a" = "$b" ] && grep -q "RESULT" <<<"$a"; then ok; else bad "$s: two runs differ or no RESULT"; fi
    done
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
fi
check mutant_clean_at_p0 0 "exhausted: every schedule within the bound ran" \
    "$runner" --schedule=dfs:0 --variant=flag_check "$script"
rm -f "$work/found.txt"
check mutant_found_at_p1 10 "DFS failing schedule (1 preemptions) written to $work/found.txt" \
    "$runner" --schedule=dfs:2 --variant=flag_check "$script" --save_schedule="$work/found.txt"
sig=$("$runner" --schedule=dfs:1 --variant=flag_check "$script" | grep -m1 '^==TDF== SIGNATURE')
[ -n "$sig" ] || bad "found: the search printed no SIGNATURE"
# It names its variant and signature: it replays and checks itself with no flags (exit 3 if not met).
check found_replays 10 "$sig" "$runner" "$work/found.txt"
check found_expects 0 "# expect-signature ${sig#==TDF== SIGNATURE }" cat "$work/found.txt"
check found_on_stdout 10 "as a plain input (--save_schedule=PATH writes it)" \
    "$runner" --schedule=dfs:1 --variant=flag_check "$script"
check correct_exhausted_p1 0 "round P<=1: 59324 schedules" "$runner" --schedule=dfs:1:nopor --variant=correct "$script"
# With sleep sets (the default) the same space, exhausted, in fewer schedules (docs/INPUT.md "dfs").
por=$("$runner" --schedule=dfs:1 --variant=correct "$script" | sed -n 's/^==TDF== DFS round P<=1: \([0-9]*\) schedules.*exhausted.*/\1/p')
if [ -n "$por" ] && [ "$por" -lt 59324 ]; then ok; else bad "sleep sets: P<=1 gave '$por' schedules, want fewer than 59324"; fi
check mutant_found_at_p1_nopor 10 "DFS failing schedule (1 preemptions)" \
    "$runner" --schedule=dfs:2:nopor --variant=flag_check "$script"
check bad_nopor 2 "then optionally :nopor" "$runner" --schedule=dfs:1:5:por "$script"
check limit_stops 4 "stopped at LIMIT before the space was exhausted" \
    "$runner" --schedule=dfs:2:100 --variant=correct "$script"
check two_inputs 2 "--schedule=dfs explores exactly one INPUT" \
    "$runner" --schedule=dfs:1 "$script" "$script"
check with_determinism 2 "--schedule=dfs explores exactly one INPUT" \
    "$runner" --schedule=dfs:1 --determinism "$script"
check with_random_inputs 2 "--schedule=dfs explores exactly one INPUT" \
    "$runner" --schedule=dfs:1 --random_inputs=3
check bad_bound 2 "P (preemptions) must be a number 0..64" "$runner" --schedule=dfs:65 "$script"
check bad_limit 2 "LIMIT (schedules run) must be a number" "$runner" --schedule=dfs:1:0 "$script"
check bad_k 2 "K (choice points per run) must be a number" "$runner" --schedule=pct:1:3:0 "$script"
for s in pct:5:3 pct:5:3:40; do
    a=$("$runner" --schedule=$s --variant=flag_check --print_trace "$script" 2>&1)
    b=$("$runner" --schedule=$s --variant=flag_check --print_trace "$script" 2>&1)
    if [ -n "$a" ] && [ "$a" = "$b" ] && grep -q "RESULT" <<<"$a"; then ok; else bad "$s: two runs differ or no RESULT"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
