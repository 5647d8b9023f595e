#!/usr/bin/env bash
# A stand-in for a target's runner (NAME_run), for planting faults under
# scripts/ctest_replay.sh (tests/cli/run.sh, group replay). It speaks the
# runner's interface: --list, --variant=V, --quiet, --determinism,
# --print_trace, INPUT... The fault is chosen by FAKE_MODE:
#   ok            every input runs clean (corpus) / deterministically
#   crash_midway  dies of SIGSEGV after the third input's RESULT/DETERMINISM line
#   crash_first   dies of SIGSEGV before the first input's RESULT line
#   exit_nonzero  every input clean, but exits 1
#   skip_one      prints no RESULT / DETERMINISM line for the second input
#   differs       the second input's determinism check DIFFERS (exit 1)
#   nondet        --print_trace prints a different ==TDF== line each run
# A repro input (a *.txt whose lines "# fake-signature S" and "# fake-exit N"
# say what a run of it gives) prints "==TDF== SIGNATURE S" and exits N.
# --to_binary=DIR copies each input to DIR/<name without .txt>; --text is
# accepted (fuzz.sh's report of a crash); --schedule=input+random is accepted
# and --save_schedule=PATH copies the input to PATH (fuzz.sh's plain repro).
mode=${FAKE_MODE:-ok}
variant=correct quiet=0 det=0 trace=0 to_binary="" save="" files=()
for a in "$@"; do
    case "$a" in
        --list) printf 'fake correct\tthe correct protocol\nfake bug\ta mutant\n'; exit 0 ;;
        --variant=*) variant=${a#*=} ;;
        --quiet) quiet=1 ;;
        --determinism) det=1 ;;
        --print_trace) trace=1 ;;
        --text | --schedule=input+random) ;;
        --save_schedule=*) save=${a#*=} ;;
        --to_binary=*) to_binary=${a#*=} ;;
        --*) echo "==TDF== unknown flag $a" >&2; exit 2 ;;
        *) files+=("$a") ;;
    esac
done
if [ -n "$to_binary" ]; then
    mkdir -p "$to_binary"
    for f in "${files[@]}"; do b=${f##*/}; cp "$f" "$to_binary/${b%.txt}" || exit 2; done
    exit 0
fi
[ -z "$save" ] || cp "${files[0]}" "$save" || exit 2
rc=0 i=0
for f in "${files[@]}"; do
    i=$((i + 1))
    [ "$mode" = crash_first ] && kill -SEGV $$
    [ "$mode" = crash_midway ] && [ $i -eq 4 ] && kill -SEGV $$
    sig=$(sed -n 's/^# fake-signature //p' "$f")
    code=$(sed -n 's/^# fake-exit //p' "$f")
    if [ $trace -eq 1 ]; then
        [ "$mode" = nondet ] && echo "==TDF== RECENT step $RANDOM$RANDOM" || echo "==TDF== RECENT step 1"
    fi
    if [ $det -eq 1 ]; then
        if [ "$mode" = skip_one ] && [ $i -eq 2 ]; then continue; fi
        if [ "$mode" = differs ] && [ $i -eq 2 ]; then echo "==TDF== DETERMINISM DIFFERS $f (10 bytes of trace)"; rc=1; continue; fi
        echo "==TDF== DETERMINISM OK $f (10 bytes of trace)"
        continue
    fi
    if [ -n "$sig" ]; then
        echo "==TDF== SIGNATURE $sig"
        echo "==TDF== RESULT $f variant=$variant class=${sig%%/*} steps=1"
        [ $rc -ne 0 ] || rc=${code:-10}
    else
        if [ "$mode" = skip_one ] && [ $i -eq 2 ]; then continue; fi
        echo "==TDF== RESULT $f variant=$variant class=NONE steps=1"
    fi
done
[ "$mode" = exit_nonzero ] && exit 1
exit $rc
