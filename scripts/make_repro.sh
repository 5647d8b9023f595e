#!/usr/bin/env bash
# scripts/make_repro.sh [--project DIR] TARGET VARIANT CRASH_INPUT [NAME]
# Turns a crash input into a checked-in repro: minimizes it with libFuzzer
# (keeping the same signature), checks that the plain and asan builds report
# the same signature, and writes repro/<TARGET>/<NAME or VARIANT>.txt in text
# form with the "# expect-variant" / "# expect-signature" lines ctest replays.
source "$(dirname "$0")/lib.sh"

if tdf_take_project_flag "$@"; then shift 2; fi
[ $# -ge 3 ] || { echo "usage: scripts/make_repro.sh [--project DIR] TARGET VARIANT CRASH_INPUT [NAME]" >&2; exit 2; }
target=$1 variant=$2 crash=$3 name=${4:-$2}
tdf_ensure_deps
plain=$(tdf_build plain "$TDF_PROJECT")
asan=$(tdf_build asan "$TDF_PROJECT")
signature() { { "$1/bin/${target}_run" --variant="$variant" --quiet "$2" 2>&1 || true; } | sed -n 's/^==TDF== SIGNATURE //p' | head -n 1; }

want=$(signature "$plain" "$crash")
[ -n "$want" ] || { tdf_log "$crash does not fail on variant $variant"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$crash" "$work/best"
# libFuzzer's minimizer keeps any crash; keep its result only if the signature is the same.
if TDF_VARIANT=$variant "$asan/bin/$target" -minimize_crash=1 -max_total_time=20 \
    -exact_artifact_path="$work/min" "$crash" >/dev/null 2>&1 || [ -f "$work/min" ]; then
    [ -f "$work/min" ] && [ "$(signature "$plain" "$work/min")" = "$want" ] && cp "$work/min" "$work/best"
fi
got=$(signature "$asan" "$work/best")
[ "$got" = "$want" ] || { tdf_log "plain says '$want' but asan says '$got': pick another input"; exit 1; }

out="$TDF_PROJECT/repro/$target/$name.txt"
mkdir -p "$(dirname "$out")"
doc=$("$plain/bin/${target}_run" --list | awk -v v="$variant" '$2 == v' | cut -f2)
{
    echo "# teardown-fuzz repro: found by fuzzing, minimized (scripts/make_repro.sh)"
    echo "# bug: $doc"
    echo "# expect-variant $variant"
    echo "# expect-signature $want"
    "$plain/bin/${target}_run" --to_text "$work/best" | grep -v '^# teardown-fuzz input'
} >"$out"
tdf_log "wrote $out ($want)"
