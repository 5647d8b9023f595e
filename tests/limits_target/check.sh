#!/usr/bin/env bash
# usage: check.sh RUNNER DIR -- fits.txt (13 device nodes) must run clean with
# exit 0; over.txt (21 nodes) must stop as LIMIT TDF_MAX_NODES=16, exit 17
# (docs/REPORTS.md), never drop the nodes past the table. Ends with
# "N passed, M failed"; exit 0 only if M == 0, 2 on a usage error.
set -u
[ $# -eq 2 ] || { echo "usage: check.sh RUNNER DIR" >&2; exit 2; }
runner=$1 dir=$2 passed=0 failed=0
check() { if eval "$2"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; printf '%s\n' "$out" | sed 's/^/    /' | head -n 12; fi; }

out=$("$runner" "$dir/fits.txt" 2>&1); rc=$?
check "13 nodes: exit 0, class NONE" '[ $rc -eq 0 ] && grep -q "class=NONE" <<<"$out"'
trace=$("$runner" --trace "$dir/fits.txt" 2>&1)
check "  every node enumerated (root and 3 sub-buses with a driver, 9 leaves without)" \
    '[ "$(grep -c "EvtDriverDeviceAdd" <<<"$trace")" -eq 4 ] && [ "$(grep -c "no driver for this hardware ID" <<<"$trace")" -eq 9 ]'
out=$("$runner" "$dir/over.txt" 2>&1); rc=$?
check "21 nodes: exit 17 (LIMIT)" '[ $rc -eq 17 ]'
check "  headline names the constant and its value" 'grep -q "^==TDF== LIMIT TDF_MAX_NODES=16 " <<<"$out"'
check "  signature LIMIT/TDF_MAX_NODES" 'grep -q "^==TDF== SIGNATURE LIMIT/TDF_MAX_NODES:" <<<"$out"'
check "  detail says it is a harness limit" 'grep -q "harness limit, not a driver finding: more devices in the tree (device nodes); TDF_MAX_NODES is 16 (model/pnp/pnp.h)" <<<"$out"'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
