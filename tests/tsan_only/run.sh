#!/usr/bin/env bash
# A race only TSan sees (fuzz_bus_child status_unlocked, issue 15 item 4) and the negative control.
#   every build  the repro runs clean on the mutant in plain and asan (exit 0, class NONE): no model
#                oracle and no ASan report; and the scheduler's random walk over its events finds
#                nothing there either (seeds 1..SEEDS)
#   tsan         the repro is a TSan "data race" whose two stacks name the two access sites of the
#                counter (Bus_ReadBusStatus's unlocked clear, Bus_NotifyChildren's locked increment);
#                the correct variant is silent on the same input and on the same seeds;
#                TDF_TSAN_ANNOTATIONS=0 (no TSan fibers) reports nothing on the mutant: the fiber
#                annotations are what lets TSan see two threads; TDF_TSAN_ANNOTATIONS=nohb (fibers
#                without the modelled happens-before) reports a race on the CORRECT variant: a false
#                one, so the modelled primitives' happens-before is what keeps it silent;
#                a bad TDF_TSAN_ANNOTATIONS value exits 2 with a message.
# Usage: run.sh RUNNER REPRO_FILE SANITIZER(none|asan|tsan)
set -u
[ $# -eq 3 ] || { echo "usage: run.sh RUNNER REPRO_FILE none|asan|tsan" >&2; exit 2; }
runner=$1 repro=$2 san=$3
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
script=$(mktemp)
trap 'rm -f "$script"' EXIT
printf 'format 1\ntarget fuzz_bus_child\nparam children 1\nevent bus_notify 0\nevent child_io 0\n' >"$script"
SEEDS=12

# run NAME WANT_EXIT ENV... -- ARGS...: the runner's output in $out, exit checked.
run() {
    local name=$1 want=$2
    shift 2
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    out=$(env -u TDF_VARIANT "${envs[@]}" "$runner" "$@" 2>&1)
    local rc=$?
    if [ "$rc" != "$want" ]; then bad "$name: exit $rc (want $want)"; tail -5 <<<"$out" | sed 's/^/    /'; return 1; fi
    return 0
}
has() { grep -qF -- "$2" <<<"$out" && ok || { bad "$1: no '$2' in the output"; tail -5 <<<"$out" | sed 's/^/    /'; }; }
hasnt() { grep -qF -- "$2" <<<"$out" && { bad "$1: '$2' in the output"; grep -F -- "$2" <<<"$out" | head -3 | sed 's/^/    /'; } || ok; }

sig=$(sed -n 's/^# expect-tsan //p' "$repro")
[ -n "$sig" ] && ok || bad "$repro has no expect-tsan line"

if [ "$san" != tsan ]; then
    run "$san: repro clean on the mutant" 0 -- --variant=status_unlocked "$repro" &&
        has "$san: repro clean on the mutant" "class=NONE"
    for s in $(seq 1 $SEEDS); do
        run "$san: random:$s clean on the mutant" 0 -- --variant=status_unlocked --schedule=random:$s "$script" || continue
        has "$san: random:$s clean on the mutant" "class=NONE"
    done
else
    run "tsan: repro is a data race" 15 -- --variant=status_unlocked "$repro"
    has "tsan: repro signature" "==TDF== SIGNATURE $sig"
    has "tsan: TSan's own report" "WARNING: ThreadSanitizer: data race"
    # The two access sites, one in each stack of the report.
    acc=$(sed -n '/WARNING: ThreadSanitizer: data race/,/Location is/p' <<<"$out")
    first=$(sed -n '/^  Write of size\|^  Read of size/,/^$/p' <<<"$acc" | sed -n 2p)
    prev=$(sed -n '/^  Previous /,/^$/p' <<<"$acc" | sed -n 2p)
    [[ "$first" == *Bus_ReadBusStatus* ]] && ok || bad "tsan: the racing access is not Bus_ReadBusStatus: '$first'"
    [[ "$prev" == *Bus_NotifyChildren* ]] && ok || bad "tsan: the previous access is not Bus_NotifyChildren: '$prev'"
    run "tsan: correct variant silent on the repro" 0 -- --variant=correct "$repro" && hasnt "tsan: correct" ThreadSanitizer
    kills=0
    for s in $(seq 1 $SEEDS); do
        run "tsan: correct silent on random:$s" 0 -- --variant=correct --schedule=random:$s "$script" &&
            hasnt "tsan: correct random:$s" ThreadSanitizer
        env -u TDF_VARIANT "$runner" --variant=status_unlocked --schedule=random:$s "$script" >/dev/null 2>&1
        [ $? -eq 15 ] && kills=$((kills + 1))
    done
    [ $kills -gt 0 ] && ok || bad "tsan: the mutant raced on none of random:1..$SEEDS"
    echo "tsan: the mutant raced on $kills of $SEEDS random schedules"
    # Negative control 1: no TSan fibers -> one TSan thread -> nothing to report, on the repro and on
    # every seed where the annotated build reported the race.
    run "annotations=0: mutant repro silent" 0 TDF_TSAN_ANNOTATIONS=0 -- --variant=status_unlocked "$repro" &&
        hasnt "annotations=0: mutant" ThreadSanitizer
    for s in $(seq 1 $SEEDS); do
        run "annotations=0: mutant random:$s silent" 0 TDF_TSAN_ANNOTATIONS=0 -- --variant=status_unlocked \
            --schedule=random:$s "$script" && hasnt "annotations=0: random:$s" ThreadSanitizer
    done
    # Negative control 2: fibers without happens-before -> false races on the correct variant.
    run "annotations=nohb: correct races" 15 TDF_TSAN_ANNOTATIONS=nohb -- --variant=correct "$repro" &&
        has "annotations=nohb: correct" "WARNING: ThreadSanitizer: data race"
    run "annotations=bad" 2 TDF_TSAN_ANNOTATIONS=yes -- --variant=correct "$repro" &&
        has "annotations=bad" "TDF_TSAN_ANNOTATIONS=yes: expected 1 (default), nohb or 0"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
