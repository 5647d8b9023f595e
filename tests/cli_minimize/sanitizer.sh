#!/usr/bin/env bash
# tests/cli_minimize/sanitizer.sh BUILD_DIR (an asan build): an input whose failure IS a sanitizer
# report minimizes there, keeping the signature the runner prints for that report (issue 13 item 2):
# SANITIZER/<kind>:..., or for a use of freed model pool its dead-object key (docs/REPORTS.md
# "Signatures"). The asan build's --minimize runs its candidates in forked workers
# (fuzz/minimize.c): a report ends only the worker. The input: tests/html/asan_uaf.txt's event
# (ASan's heap-use-after-free in child!Child_IoThread, before the model's oracle fires) between
# stimuli of other devices, on 3 children, with schedule bytes; it must
#   premise    replay in asan as a SANITIZER failure (exit 15, the "==TDF== SANITIZER" headline);
#              if it stops doing so the test fails: it would no longer test anything
#   minimizes  exit 0, fewer events, "# expect-signature" the input's signature, and the written
#              file replays in asan as a failure with that signature. Its class may differ: a use of
#              freed pool keys as the model's own oracle of that bug does (here the thread inside the
#              image at unload, exit 10), and the smallest input may meet that oracle first
#   workers    the counts line says how many runs a report ended: some, or no worker was needed
#   determinism  two minimizations (run side by side) write the same bytes
#   silenced   their output has no AddressSanitizer report; with --minimize_verbose (cut off after
#              5 s: symbolized, the reports take ~70 ms each) the candidates' reports come through
# Ends with "N passed, M failed".
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: tests/cli_minimize/sanitizer.sh BUILD_DIR" >&2; exit 2; }
bindir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
unset TDF_VARIANT
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/../cli_check.sh" # pass/fail, ok, bad, check
R=$bindir/bin/fuzz_bus_child_run
variant=thread_not_waited

input=$work/planted.txt
{
    echo "target fuzz_bus_child"
    echo "param children 3"
    echo "event bus_notify 1"
    echo "event stop 2"
    grep '^event ' "$root/tests/html/asan_uaf.txt"
    echo "event remove 3"
    echo "event bus_notify 2"
    echo "schedule 09 11 1a"
} >"$input"
"$R" --variant=$variant --quiet "$input" >"$work/premise" 2>&1
rc=$?
want=$(sed -n 's/^==TDF== SIGNATURE //p' "$work/premise" | head -n 1)
if [ $rc -ne 15 ] || ! grep -q '^==TDF== SANITIZER ' "$work/premise" || [ -z "$want" ]; then
    bad "premise: $input replays in $bindir with exit $rc, signature '$want': not a sanitizer report's"
    echo "$pass passed, $fail failed"
    exit 1
fi
ok

# Two minimizations at once: the machine's two cores, and a check that they share nothing.
"$R" --variant=$variant --minimize="$work/min1.txt" "$input" >"$work/log1" 2>&1 &
pid1=$!
"$R" --variant=$variant --minimize="$work/min2.txt" "$input" >"$work/log2" 2>&1
rc2=$?
wait $pid1
rc1=$?
if [ $rc1 -eq 0 ] && grep -q '^==TDF== MINIMIZE after:' "$work/log1"; then ok
else bad "minimizes: exit $rc1 (want 0)"; sed -n '1,6s/^/    /p' "$work/log1"; fi
[ $rc2 -eq 0 ] && ok || bad "second minimization: exit $rc2 (want 0)"
ev_before=$(grep -c '^event ' "$input") ev_after=$(grep -c '^event ' "$work/min1.txt" 2>/dev/null)
[ "${ev_after:-99}" -lt "$ev_before" ] && ok || bad "minimizes: $ev_before events -> ${ev_after:-none}, want fewer"
grep -qxF "# expect-signature $want" "$work/min1.txt" && ok || bad "minimizes: no '# expect-signature $want' line"
"$R" --quiet "$work/min1.txt" >"$work/replay" 2>&1
rc=$?
if [ $rc -ge 10 ] && [ $rc -le 17 ] && grep -qxF "==TDF== SIGNATURE $want" "$work/replay"; then ok
else bad "replay of the result: exit $rc (want a failure, 10..17, with $want)"; grep '^==TDF==' "$work/replay" | sed -n '1,4s/^/    /p'; fi
deaths=$(sed -n 's/^==TDF== MINIMIZE \([0-9]*\) of [0-9]* runs ended in a sanitizer report.*/\1/p' "$work/log1")
[ "${deaths:-0}" -gt 0 ] && ok || bad "workers: no 'N of M runs ended in a sanitizer report' line with N > 0"
cmp -s "$work/min1.txt" "$work/min2.txt" && ok || bad "determinism: two minimizations of $input differ"
! grep -q 'ERROR: AddressSanitizer' "$work/log1" && ok || bad "silenced: a candidate's ASan report reached the output"
timeout 5 "$R" --variant=$variant --minimize_verbose --minimize="$work/v.txt" "$input" >/dev/null 2>"$work/verbose"
grep -q 'ERROR: AddressSanitizer' "$work/verbose" && ok || bad "--minimize_verbose: no ASan report on stderr in 5 s"
echo "$(grep -c '^event ' "$input") events, $(sed -n 's/^schedule //p' "$input" | wc -w) schedule bytes ->" \
    "$(sed -n 's/^# minimal: //p' "$work/min1.txt"); $(sed -n 's/^==TDF== MINIMIZE \([0-9]* of [0-9]* runs\).*/\1/p' "$work/log1") ended in a report"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
