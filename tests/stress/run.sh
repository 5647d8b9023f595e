#!/usr/bin/env bash
# The stress backend (--schedule=stress, model/sched/stress.c) end to end, in the build it is given:
#   - every target with a corpus runs its correct variant over corpus/<target>/* for SECONDS (the runner's
#     --hunt loop) with no report (exit 0, "HUNT nothing"; in the TSan build also no TSan report);
#   - it is not a no-op: fuzz_bus_child no_rundown is killed within 30 s (HARDWARE/0x50/0xCE; in a sanitizer
#     build the sanitizer's own report, exit 15, may come first); unless the sanitizer ended it, the failing
#     run is written as a plain input that the deterministic scheduler replays to the same signature, twice;
#   - the runner's usage errors (exit 2): --determinism with stress, a bad SEED, a bad TDF_STRESS_WATCHDOG;
#     scripts/stress.sh's own (unknown option, bad --seconds, no TARGET, bad --build).
# Usage: run.sh BUILD_DIR SANITIZER(none|asan|tsan) REPO_ROOT SECONDS
set -u
[ $# -eq 4 ] || { echo "usage: run.sh BUILD_DIR none|asan|tsan REPO_ROOT SECONDS" >&2; exit 2; }
bin=$1/bin san=$2 root=$3 secs=$4
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# check NAME WANT_EXIT_REGEX WANT_TEXT CMD...
check() {
    local name=$1 want=$2 text=$3
    shift 3
    out=$("$@" 2>&1)
    rc=$?  # global: the caller reads it after a check
    if ! [[ "$rc" =~ ^($want)$ ]]; then bad "$name: exit $rc (want $want)"; tail -6 <<<"$out" | sed 's/^/    /'; return 1; fi
    if ! grep -qF -- "$text" <<<"$out"; then bad "$name: no '$text' in:"; tail -6 <<<"$out" | sed 's/^/    /'; return 1; fi
    ok
}

# --- every target's correct variant, clean
ntargets=0
for dir in "$root"/corpus/*/; do
    t=$(basename "$dir")
    [ -x "$bin/${t}_run" ] || continue
    ntargets=$((ntargets + 1))
    if check "$t correct" 0 "==TDF== HUNT nothing in" env -u TDF_VARIANT "$bin/${t}_run" --schedule=stress:1 \
        --hunt=1000000000 --hunt_seconds="$secs" --variant=correct "$dir"*; then
        grep -q ThreadSanitizer <<<"$out" && bad "$t correct: a TSan report" || ok
        echo "$t: $(grep '^==TDF== HUNT' <<<"$out")"
    fi
done
[ $ntargets -ge 5 ] && ok || bad "only $ntargets targets with a corpus and a runner in $bin"

# --- an easy mutant is killed
r=$bin/fuzz_bus_child_run
# One-child scripts: few threads, so the failing exec's hand-overs mostly fit schedule bytes; a choice
# among 9+ runnable threads cannot be written (the runner says so and keeps the class exit), about one
# seed in five: then only the kill is checked.
one_child=$(grep -l '^param children 1$' "$root"/corpus/fuzz_bus_child/*)
want='10|11'
# Under a sanitizer, its own report (exit 15) may come first: TSan's race on the child context, or ASan's
# use-after-free on it when the real threads free the context before the model's pool check runs.
[ "$san" != none ] && want='10|11|15'
if check "no_rundown killed" "$want" "==TDF== HUNT " env -u TDF_VARIANT "$r" --schedule=stress:1 --hunt=1000000000 \
    --hunt_seconds=30 --variant=no_rundown --save_schedule="$work/found.txt" $one_child; then
    line=$(grep '^==TDF== HUNT' <<<"$out")
    echo "no_rundown: $line"
    [[ "$line" == *" nothing in "* ]] && bad "no_rundown: the hunt found nothing" || ok
    sig=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$out" | head -1)
    # A sanitizer's report ends the process inside the exec: nothing is written then; nor when a
    # choice did not fit a schedule byte.
    if [ "$rc" != 15 ] && ! grep -q '^==TDF== HUNT failing exec not written' <<<"$out"; then
        [ -s "$work/found.txt" ] && ok || bad "no_rundown: no plain input written"
        a=$(env -u TDF_VARIANT "$r" --variant=no_rundown --quiet "$work/found.txt" 2>&1 | sed -n 's/^==TDF== SIGNATURE //p')
        b=$(env -u TDF_VARIANT "$r" --variant=no_rundown --quiet "$work/found.txt" 2>&1 | sed -n 's/^==TDF== SIGNATURE //p')
        [ "$a" = "$sig" ] && [ "$b" = "$sig" ] && ok || bad "no_rundown: the written input replays as '$a' / '$b', not '$sig'"
    fi
fi

# --- usage errors
in1=$(ls "$root"/corpus/fuzz_bus_child/* | head -1)
check "determinism with stress" 2 "not deterministic" "$r" --schedule=stress --determinism "$in1"
check "bad seed" 2 "SEED must be a decimal number" "$r" --schedule=stress:x "$in1"
check "bad watchdog" 2 "TDF_STRESS_WATCHDOG=abc" env TDF_STRESS_WATCHDOG=abc "$r" --schedule=stress "$in1"
S=$root/scripts/stress.sh
check "stress.sh unknown option" 2 "unknown option '--bogus'" "$S" fuzz_bus_child --bogus
check "stress.sh bad seconds" 2 "--seconds" "$S" fuzz_bus_child --seconds 0
check "stress.sh no target" 2 "TARGET is required" "$S"
check "stress.sh bad build" 2 "unknown build 'x'" "$S" fuzz_bus_child --build x
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
