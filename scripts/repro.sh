#!/usr/bin/env bash
# scripts/repro.sh [--project DIR] TARGET INPUT [--build plain|asan|tsan] [--variant V]
# Replays one input (binary or text form) and prints the events (text form),
# the run as swimlanes (one lane per model thread, labelled with its driver)
# and the failure report. Exit status: the failure class's code, 0 if none.
source "$(dirname "$0")/lib.sh"

if tdf_take_project_flag "$@"; then shift 2; fi
[ $# -ge 2 ] || { echo "usage: scripts/repro.sh TARGET INPUT [--build plain|asan|tsan] [--variant V]" >&2; exit 2; }
target=$1 input=$2
shift 2
config=plain
variant=${TDF_VARIANT:-}
while [ $# -gt 0 ]; do
    case "$1" in
        --build) config=$2; shift 2 ;;
        --variant) variant=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
tdf_ensure_deps
build=$(tdf_build "$config" "$TDF_PROJECT")
exec "$build/bin/${target}_run" ${variant:+--variant="$variant"} --text --trace "$input"
