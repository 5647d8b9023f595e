#!/usr/bin/env bash
# tests/signatures/run.sh BUILD_DIR: one race, one key, whichever oracle fired (docs/REPORTS.md
# "Signatures"). Each pair is two inputs of one mutant whose runs meet the same race at a different
# point of the teardown: they must print the same SIGNATURE while their headlines and FATAL access
# lines differ (the exit classes are kept):
#   nr_unload / nr_regs   fuzz_bus_child no_rundown: the bus's unprotected call into the child lands on
#                         the unloaded image (0xCE) or on its powered-down registers (0x50):
#                         call(child):child!Child_OnBusEvent:callee-teardown
#   snw_dpc / snw_timer   fuzz_deferred stop_no_wait: the register read after D0Exit is made by the DPC
#                         the timer's callback queued (AFTER_UNMAP) or by that callback itself (0x50):
#                         registers(dfr/FDO):dfr!Dfr_EvtPollTimer:power-down
# Ends with "N passed, M failed"; exit 0 all passed, 1 a check failed, 2 usage.
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: tests/signatures/run.sh BUILD_DIR" >&2; exit 2; }
bindir=$(cd "$1" && pwd) || exit 2
here=$(cd "$(dirname "$0")" && pwd)
unset TDF_VARIANT
pass=0 fail=0
pairs=("fuzz_bus_child|nr_unload|nr_regs|call(child):child!Child_OnBusEvent:callee-teardown"
       "fuzz_deferred|snw_dpc|snw_timer|registers(dfr/FDO):dfr!Dfr_EvtPollTimer:power-down")
for p in "${pairs[@]}"; do
    IFS='|' read -r target a b want <<<"$p"
    ra=$("$bindir/bin/${target}_run" "$here/$a.txt" 2>&1); ca=$?
    rb=$("$bindir/bin/${target}_run" "$here/$b.txt" 2>&1); cb=$?
    sa=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$ra") sb=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$rb")
    ha=$(sed -n 1p <<<"$ra" | sed 's/ step=.*//') hb=$(sed -n 1p <<<"$rb" | sed 's/ step=.*//')
    fa=$(sed -n 's/^==TDF== FATAL access *step [0-9]* //p' <<<"$ra") fb=$(sed -n 's/^==TDF== FATAL access *step [0-9]* //p' <<<"$rb")
    if [ "$sa" = "$want" ] && [ "$sb" = "$want" ]; then pass=$((pass + 1))
    else fail=$((fail + 1)); echo "FAIL $target $a/$b: signatures '$sa' and '$sb', want '$want'"; fi
    if [ "$ha" != "$hb" ] && [ "$fa" != "$fb" ] && [ $ca -ge 10 ] && [ $cb -ge 10 ]; then pass=$((pass + 1))
    else fail=$((fail + 1)); echo "FAIL $target $a/$b: not two forms of the race (exit $ca/$cb, '$ha' / '$hb', '$fa' / '$fb')"; fi
    echo "$target: '$ha' (exit $ca) and '$hb' (exit $cb): $sa"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
