#!/usr/bin/env bash
# tests/html/run.sh GROUP BUILD_DIR WORK_DIR: the machine-readable trace and the timeline page.
#   json      the runner's --trace_json on one repro file and one corpus input of every target of
#             BUILD_DIR: valid JSON (python3 -m json.tool), byte-identical across two runs, and
#             consistent with the run (one step per --print_trace line, the failure's signature,
#             one lane per model thread with a unique label, the fatal pair's events in range, every
#             rundown event naming whose rundown it is; fuzz_bus_child's sr_disarms repro must have them)
#   chromium  scripts/repro.sh --html on a minimized repro and on a long crash (a corpus input of a
#             mutant), each page loaded in headless Chromium (Debian's chromium): the DOM it renders
#             (--dump-dom) has every lane, the fatal pair's two cells and the line joining them, the
#             input events, every rundown cell's tooltip naming whose rundown; and a screenshot (--screenshot, kept in WORK_DIR). Exit 77 (skipped, said
#             so) where chromium is not installed (scripts/test.sh installs it).
#   asan|tsan a run the sanitizer's report ends (BUILD_DIR an asan or a tsan build): its --trace_json and
#             --failure_json are still written, with the SANITIZER failure (tests/html/check_death.py),
#             and scripts/repro.sh --build asan|tsan --html writes its page
# The checks of the DOM are tests/html/check_page.py. Ends with "N passed, M failed".
set -uo pipefail
[ $# -eq 3 ] || { echo "usage: tests/html/run.sh json|chromium|asan|tsan BUILD_DIR WORK_DIR" >&2; exit 2; }
group=$1 bindir=$(cd "$2" && pwd) work=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
export TDF_BUILD_DIR_PLAIN=$bindir TDF_BUILD_DIR_ASAN=$bindir TDF_BUILD_DIR_TSAN=$bindir
unset TDF_VARIANT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

case "$group" in
json)
    for t in $(cat "$bindir/tdf_targets.txt"); do
        runner=$bindir/bin/${t}_run
        r=$(ls "$root/repro/$t"/*.txt 2>/dev/null | sed -n 1p)
        c=$(ls "$root/corpus/$t"/* 2>/dev/null | sed -n 1p)
        # fuzz_bus_child's sr_disarms too: rundowns of two drivers' contexts, its fatal pair a rundown's
        [ "$t" = fuzz_bus_child ] && r="$r $root/repro/$t/sr_disarms.txt"
        for f in $r $c; do
            name=$t.$(basename "$f")
            need=""; [ "$(basename "$f")" = sr_disarms.txt ] && need=rundown
            "$runner" --trace_json="$work/$name.1.json" "$f" >/dev/null 2>&1
            rc=$?
            "$runner" --trace_json="$work/$name.2.json" "$f" >/dev/null 2>&1
            "$runner" --print_trace --quiet "$f" >"$work/$name.trace" 2>/dev/null
            if python3 -m json.tool "$work/$name.1.json" >/dev/null 2>"$work/$name.err"; then ok
            else bad "json_valid $name: $(head -c 300 "$work/$name.err")"; continue; fi
            if cmp -s "$work/$name.1.json" "$work/$name.2.json"; then ok; else bad "json_deterministic $name: two runs differ"; fi
            if out=$(python3 "$here/check_json.py" "$work/$name.1.json" "$work/$name.trace" "$rc" $need 2>&1); then ok
            else bad "json_consistent $name: $out"; fi
        done
    done
    ;;
chromium)
    chrome=$(command -v chromium || command -v chromium-browser || true)
    if [ -z "$chrome" ]; then
        echo "SKIPPED: chromium is not installed (Debian's chromium package; scripts/test.sh installs it)"
        exit 77
    fi
    # A minimized crash (tens of events) and a long one: thread_not_waited on a corpus input of
    # fuzz_bus_child that runs ~500 events on 37 model threads (stimuli and I/O threads) before the bug shows.
    cases=("flag_check|fuzz_bus_child|$root/repro/fuzz_bus_child/flag_check.txt|flag_check"
           "long|fuzz_bus_child|$root/corpus/fuzz_bus_child/d59d4f3ccbaf198b4178e4362c2ed6279f585d38.txt|thread_not_waited")
    for c in "${cases[@]}"; do
        IFS='|' read -r name target input variant <<<"$c"
        page=$work/$name.html
        "$root/scripts/repro.sh" "$target" "$input" --variant "$variant" --html "$page" >"$work/$name.out" 2>&1
        rc=$?
        if [ -s "$page" ] && [ $rc -ge 10 ]; then ok; else bad "page $name: repro.sh exit $rc, page $(ls -l "$page" 2>&1)"; continue; fi
        "$bindir/bin/${target}_run" --variant="$variant" --trace_json="$work/$name.json" "$input" >/dev/null 2>&1
        # Headless, no sandbox (CI containers run as root), a throw-away profile, no network use at all.
        flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions
               --disable-background-networking --user-data-dir="$work/profile" --window-size=1600,1000
               --virtual-time-budget=5000)
        timeout 120 "$chrome" "${flags[@]}" --dump-dom "file://$page" >"$work/$name.dom.html" 2>"$work/$name.chrome.err"
        if out=$(python3 "$here/check_page.py" "$work/$name.dom.html" "$work/$name.json" 2>&1); then ok; echo "$name: $out"
        else bad "dom $name: $out"; fi
        rm -f "$work/$name.png"
        timeout 120 "$chrome" "${flags[@]}" --screenshot="$work/$name.png" "file://$page" >/dev/null 2>>"$work/$name.chrome.err"
        if [ "$(head -c 8 "$work/$name.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
           [ "$(stat -c %s "$work/$name.png")" -gt 20000 ]; then ok; echo "$name: screenshot $work/$name.png"
        else bad "screenshot $name: no PNG written ($(tail -n 3 "$work/$name.chrome.err"))"; fi
    done
    ;;
asan | tsan)
    # A run that the sanitizer's report ends (exit 15) writes its --trace_json and --failure_json from the
    # death hook (fuzz/runner_main.c), and repro.sh --html draws the page from it. asan: an input ASan
    # stops with a use-after-free before the model's oracle (tests/html/asan_uaf.txt); tsan: a repro whose
    # "# expect-tsan" is a data race (fuzz_bus_child no_rundown).
    if [ "$group" = asan ]; then input=$here/asan_uaf.txt kind=heap-use-after-free
    else input=$root/repro/fuzz_bus_child/no_rundown.txt kind=data-race; fi
    runner=$bindir/bin/fuzz_bus_child_run
    "$runner" --trace_json="$work/death.json" --failure_json "$input" >"$work/death.out" 2>"$work/death.err"
    rc=$?
    if out=$(python3 "$here/check_death.py" "$kind" "$work/death.json" "$work/death.out" "$work/death.err" "$rc" 2>&1); then
        ok; echo "$out"
    else bad "json at the sanitizer's report: $out"; fi
    if python3 -m json.tool "$work/death.json" >/dev/null 2>&1; then ok; else bad "death.json is not valid JSON"; fi
    "$root/scripts/repro.sh" fuzz_bus_child "$input" --build "$group" --html "$work/death.html" >"$work/repro.out" 2>&1
    rc=$?
    if [ $rc = 15 ] && grep -q '"class": *"SANITIZER"' "$work/death.html" 2>/dev/null; then ok
    else bad "repro.sh --build $group --html: exit $rc, page $(ls -l "$work/death.html" 2>&1); $(tail -n 2 "$work/repro.out")"; fi
    ;;
*) echo "unknown group '$group' (json | chromium | asan | tsan)" >&2; exit 2 ;;
esac
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
