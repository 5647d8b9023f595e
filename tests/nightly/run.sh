#!/usr/bin/env bash
# tests/nightly/run.sh GROUP BUILD_DIR [WORK_DIR]: scripts/nightly.sh end to end (issue 13 item 4), in the
# asan/libFuzzer build (registered there, like cli.fuzz). BUILD_DIR is used as it is: TDF_BUILD_DIR_ASAN
# and _PLAIN point at it (the asan runner minimizes model findings as the plain one would), _TSAN at the
# sibling build/tsan when it is built (scripts/test.sh builds it first), else at BUILD_DIR too (said so).
#   usage    every bad argument exits 2 with its message, before anything runs
#   run      a tiny --mutants run over fuzz_bus_child's stale_mapping: exit 0 (killed), one report row
#            per signature with class, code, routine and its source line, the JSON's fields, the SARIF's
#            rule/result/location, the minimal input replays with the signature (the row's command)
#   fold     a tiny run over no_rundown: the TSan races of its crashes are listed with the model
#            finding of the same input (alsoReported), not as rows; fewer rows than findings in state
#   sigkill  a complete run, then a run killed with SIGKILL (its whole process group) mid-fuzz, then a
#            third: every artifact and corpus entry written before the kill is still there and counted,
#            the counts add up and first-seen carries over; no process of the killed run is left
#   sarif    WORK_DIR/report.sarif (the run group's) through Microsoft's validator, npm's
#            @microsoft/sarif-multitool, installed under BUILD_DIR/npm-sarif-multitool; exit 77 (ctest
#            SKIP_RETURN_CODE) with a message when npm is absent or the install fails
# Ends with "N passed, M failed".
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: tests/nightly/run.sh usage|run|fold|sigkill|sarif BUILD_DIR [WORK_DIR]" >&2; exit 2; }
group=$1 bindir=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
N=$root/scripts/nightly.sh
T=fuzz_bus_child
export TDF_BUILD_DIR_ASAN=$bindir TDF_BUILD_DIR_PLAIN=$bindir TDF_BUILD_DIR_TSAN=$bindir
tsan_dir=$(cd "$bindir/.." && pwd)/tsan
if [ -x "$tsan_dir/bin/${T}_run" ] && [ -f "$tsan_dir/tdf_targets.txt" ]; then
    export TDF_BUILD_DIR_TSAN=$tsan_dir
else
    echo "note: no TSan build at $tsan_dir: the asan runner stands in for the TSan replays"
fi
export TDF_NIGHTLY_PROGRESS_SECONDS=5
unset TDF_VARIANT
source "$here/../cli_check.sh" # pass/fail, ok, bad, check
work=${3:-}
if [ -z "$work" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
elif [ "$group" != sarif ]; then # sarif reads the run group's directory
    rm -rf "$work"
    mkdir -p "$work"
fi
[ -x "$bindir/bin/$T" ] || [ "$group" = sarif ] || { echo "no libFuzzer binary in $bindir: the nightly tests need the asan build"; exit 2; }

# json FILE EXPR: prints a Python expression over the parsed JSON file (d).
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

case "$group" in
usage)
    check "help" 0 "usage: scripts/nightly.sh" "$N" --help
    check "unknown option" 2 "unknown option '--seconds'" "$N" --seconds 5
    check "stray argument" 2 "unexpected argument 'fuzz_bus_child'" "$N" fuzz_bus_child
    for b in 0 abc -1 0.0 1e3 ""; do
        check "budget '$b'" 2 "--budget must be a positive number of minutes" "$N" --budget "$b"
    done
    check "budget no value" 2 "--budget needs a value" "$N" --budget
    for j in 0 x 100 ""; do check "jobs '$j'" 2 "--jobs must be an integer 1..99" "$N" --jobs "$j"; done
    check "targets empty" 2 "--targets needs a list" "$N" --targets=
    check "targets bad list" 2 "a comma-separated list" "$N" --targets "a,,b"
    check "unknown target" 2 "unknown target 'nosuch'" "$N" --targets nosuch --out "$work/u"
    check "unknown variant" 2 "--variants: 'nosuch' is not a correct variant" "$N" --targets $T --variants nosuch --out "$work/u"
    check "mutant without --mutants" 2 "'flag_check' is not a correct variant" "$N" --targets $T --variants flag_check --out "$work/u"
    check "correct with --mutants" 2 "'correct' is not a mutant" "$N" --mutants --targets $T --variants correct --out "$work/u"
    : >"$work/file"
    check "out is a file" 2 "--out $work/file: not a directory" "$N" --out "$work/file"
    check "bad project" 2 "--project $work/none: no such directory" "$N" --project "$work/none"
    # Nothing ran: no state, no report.
    if [ ! -e "$work/u/state.json" ] && [ ! -e "$work/u/report.md" ]; then ok; else bad "usage: a run started"; fi
    ;;
run)
    out=$work
    log=$(timeout 300 "$N" --budget 0.2 --mutants --targets $T --variants stale_mapping --out "$out" 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && [[ "$log" == *"every mutant killed (1)"* ]]; then ok; else bad "run: exit $rc (want 0, every mutant killed):"; tail -n 8 <<<"$log" | sed 's/^/    /'; fi
    # The progress line: elapsed/budget, execs, signatures, per job.
    if grep -Eq '^==TDF== nightly: [0-9ms]+/12s execs=[0-9]+ signatures=[0-9]+ \| fuzz_bus_child/stale_mapping [a-z]+ execs=' <<<"$log"; then ok
    else bad "run: no progress line"; fi
    for f in "$out/report.md" "$out/report.json" "$out/report.sarif" "$out/state.json"; do [ -s "$f" ] && ok || bad "run: no $f"; done
    line=$(grep -n '^Child_EvtDeviceD0Entry(' "$root/model/drivers/bus_child/child.c" | cut -d: -f1)
    [ -n "$line" ] || line=$(awk '/Child_EvtDeviceD0Entry\(/ && !/;/ { print NR; exit }' "$root/model/drivers/bus_child/child.c")
    row=$(grep -F '| HARDWARE | AFTER_UNMAP | `child!Child_EvtDeviceD0Entry`' "$out/report.md")
    if [ -n "$row" ]; then ok; else bad "the markdown report: no HARDWARE AFTER_UNMAP row"; sed -n '1,20s/^/    /p' "$out/report.md"; fi
    [[ "$row" == *"(model/drivers/bus_child/child.c:"* ]] && ok || bad "the markdown report: the row has no source location: $row"
    [[ "$row" == *"fuzz_bus_child/stale_mapping (asan)"* ]] && ok || bad "the markdown report: first seen does not name the job: $row"
    # One row per signature: as many table rows as findings in the JSON, no signature twice.
    rows=$(grep -c '^| [0-9]* | ' "$out/report.md")
    n=$(json "$out/report.json" 'len(d["findings"])')
    uniq=$(json "$out/report.json" 'len({f["signature"] for f in d["findings"]})')
    [ "$rows" = "$n" ] && [ "$n" = "$uniq" ] && [ "$n" -ge 1 ] && ok || bad "report: $rows rows, $n findings, $uniq distinct"
    # other_side: power-down, also when the stale mapping is used after the restart (docs/REPORTS.md
    # "Signatures": the unmap in the power-down keys by the power-down).
    r=$(json "$out/report.json" 'd["schema"], d["verdict"]["exit"], [ (f["class"], f["code"], f["where"], f["other_side"], f["count"] >= 1, f["first_seen"]["job"], f["location"]["uri"] if f["location"] else None) for f in d["findings"] if f["code"] == "AFTER_UNMAP"][0]')
    want="teardown-fuzz-nightly-report/1 0 ('HARDWARE', 'AFTER_UNMAP', 'child!Child_EvtDeviceD0Entry', 'power-down', True, 'fuzz_bus_child/stale_mapping', 'model/drivers/bus_child/child.c')"
    [ "$r" = "$want" ] && ok || bad "report.json: got $r"
    killed=$(json "$out/report.json" '[ (j["job"], j["killed"], j["execs"] > 0) for j in d["jobs"]]')
    [ "$killed" = "[('fuzz_bus_child/stale_mapping', True, True)]" ] && ok || bad "report.json jobs: $killed"
    # The minimal input replays with the signature, through the row's own command.
    cmd=$(json "$out/report.json" '[f["repro_command"] for f in d["findings"] if f["code"] == "AFTER_UNMAP"][0]')
    check "repro command" 11 "SIGNATURE registers(child/FDO):child!Child_EvtDeviceD0Entry:power-down" bash -c "$cmd"
    mi=$(json "$out/report.json" '[f["minimal_input"] for f in d["findings"] if f["code"] == "AFTER_UNMAP"][0]')
    grep -qF '# expect-signature registers(child/FDO):child!Child_EvtDeviceD0Entry:power-down' "$out/$mi" && ok ||
        bad "minimal input $mi has no expect-signature line"
    s=$(json "$out/report.sarif" 'd["version"], d["runs"][0]["tool"]["driver"]["name"], sorted(r["id"] for r in d["runs"][0]["tool"]["driver"]["rules"]) == sorted({r["ruleId"] for r in d["runs"][0]["results"]}), [ (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in d["runs"][0]["results"] if r["ruleId"] == "HARDWARE/AFTER_UNMAP"]')
    want="2.1.0 teardown-fuzz True [('HARDWARE/AFTER_UNMAP', 'model/drivers/bus_child/child.c', $line)]"
    [ "$s" = "$want" ] && ok || bad "report.sarif: got $s, want $want"
    ;;
fold)
    # One bug, one row: no_rundown's crashes replay in TSan as data races on the way to the model's
    # crash; those races are listed with the model finding of the same input (alsoReported), not as rows
    # of their own. A race that never came with a model finding keeps its row.
    # Without a TSan build the asan runner stands in for the TSan replays and reports no race, so
    # there is nothing to fold: a skip (exit 77, ctest lists it as skipped), not a failure.
    if [ "$TDF_BUILD_DIR_TSAN" = "$bindir" ]; then
        echo "SKIP: fold needs the TSan build at $tsan_dir (scripts/test.sh builds it before this ctest)"
        exit 77
    fi
    out=$work
    log=$(timeout 300 "$N" --budget 0.3 --mutants --targets $T --variants no_rundown --out "$out" 2>&1)
    rc=$?
    [ $rc -eq 0 ] && ok || { bad "fold run: exit $rc"; tail -n 8 <<<"$log" | sed 's/^/    /'; }
    also=$(json "$out/report.json" 'sum(len(f.get("also_reported", [])) for f in d["findings"] if not f["signature"].startswith("SANITIZER/"))')
    [ "${also:-0}" -ge 1 ] && ok || bad "fold: no model finding lists a sanitizer report of its inputs (alsoReported)"
    cnt=$(json "$out/report.json" 'sum(f["also_reported_count"] for f in d["findings"])')
    [ "${cnt:-0}" -ge 1 ] && ok || bad "fold: no sanitizer finding folded into a model row (also_reported_count)"
    dup=$(json "$out/report.json" 'sorted({a.rsplit(" (", 1)[0] for f in d["findings"] for a in f.get("also_reported", [])} & {f["signature"] for f in d["findings"]})')
    [ "$dup" = "[]" ] && ok || bad "fold: sanitizer findings listed with a model finding and as rows too: $dup"
    rows=$(grep -c '^| [0-9]* | ' "$out/report.md")
    n=$(json "$out/report.json" 'len(d["findings"])')
    all=$(json "$out/state.json" 'len(d["findings"])')
    [ "$rows" = "$n" ] && [ "$n" -lt "$all" ] && ok || bad "fold: $rows rows, $n report findings, $all in state (want fewer rows than findings)"
    ;;
sigkill)
    out=$work
    n1() { "$N" --budget "$1" --mutants --targets $T --variants stale_mapping --out "$out"; }
    log=$(timeout 300 bash -c "$(declare -f n1); N='$N' T=$T out='$out'; n1 0.1" 2>&1)
    rc=$?
    [ $rc -eq 0 ] && ok || { bad "first run: exit $rc"; tail -n 5 <<<"$log" | sed 's/^/    /'; }
    c1=$(json "$out/state.json" 'sum(f["count"] for f in d["findings"].values())')
    f1=$(json "$out/state.json" 'sorted((s, f["first_seen"]["time"]) for s, f in d["findings"].items())')
    a1=$(find "$out/artifacts" -name 'crash-*' ! -name '*.txt' | wc -l)
    # The second run in its own process group, killed with SIGKILL as a CI timeout kills a job.
    setsid bash -c "exec '$N' --budget 2 --mutants --targets $T --variants stale_mapping --out '$out'" >"$work/kill.log" 2>&1 &
    pid=$!
    # Mid-fuzz: new crashes written and the job corpus growing.
    for _ in $(seq 240); do
        sleep 0.5
        a=$(find "$out/artifacts" -name 'crash-*' ! -name '*.txt' | wc -l)
        [ "$a" -ge $((a1 + 5)) ] && grep -q 'stale_mapping fuzz' "$work/kill.log" && break
    done
    sleep 1
    find "$out/artifacts" -name 'crash-*' ! -name '*.txt' | sort >"$work/arts_before"
    find "$out/corpus" "$out/jobs" -path '*/corpus/*' -type f | sort >"$work/corpus_before"
    kill -KILL -- "-$pid"
    wait $pid 2>/dev/null
    a2=$(wc -l <"$work/arts_before")
    [ "$a2" -gt "$a1" ] && ok || bad "the killed run wrote no new crash before the kill ($a1 -> $a2):"
    for _ in $(seq 20); do
        left=$(ps -o pid=,stat=,args= -g "$pid" | grep -v ' Z' || true)
        [ -z "$left" ] && break
        sleep 0.5
    done
    [ -z "$left" ] && ok || bad "processes of the killed run are left: $left"
    grep -q '"status": "running"' "$out/state.json" && ok || bad "state.json does not show the killed run (status running)"
    # The third run triages what the killed one left, and appends.
    log=$(timeout 300 bash -c "$(declare -f n1); N='$N' T=$T out='$out'; n1 0.1" 2>&1)
    rc=$?
    [ $rc -eq 0 ] && ok || { bad "third run: exit $rc"; tail -n 5 <<<"$log" | sed 's/^/    /'; }
    missing=$(comm -23 "$work/arts_before" <(find "$out/artifacts" -name 'crash-*' ! -name '*.txt' | sort))
    [ -z "$missing" ] && ok || bad "crashes lost: $missing"
    missing=$(comm -23 "$work/corpus_before" <(find "$out/corpus" "$out/jobs" -path '*/corpus/*' -type f | sort))
    [ -z "$missing" ] && ok || bad "corpus entries lost: $missing"
    unrec=$(python3 -c '
import json, os, sys
d = json.load(open(sys.argv[1] + "/state.json"))
arts = [l.strip() for l in open(sys.argv[2]) if l.strip()]
print(sum(1 for a in arts if os.path.relpath(a, sys.argv[1]) not in d["processed"]))' "$out" "$work/arts_before")
    [ "$unrec" = 0 ] && ok || bad "$unrec crashes written before the kill are not counted in state.json"
    c3=$(json "$out/state.json" 'sum(f["count"] for f in d["findings"].values())')
    [ "$c3" -ge $((c1 + a2 - a1)) ] && ok || bad "counts do not add up: $c1 after run 1, $((a2 - a1)) crashes in run 2, $c3 after run 3"
    f3=$(json "$out/state.json" 'sorted((s, f["first_seen"]["time"]) for s, f in d["findings"].items() if f["first_seen"]["run"] == 1)')
    [ "$f3" = "$f1" ] && ok || bad "first-seen changed: $f1 -> $f3"
    runs=$(json "$out/report.json" '[r["status"] for r in d["runs"]]')
    [ "$runs" = "['complete', 'running', 'complete']" ] && ok || bad "report.json runs: $runs"
    grep -q "3 run(s)" "$out/report.md" && ok || bad "the markdown report does not count 3 runs"
    ;;
sarif)
    sarif=$work/report.sarif
    [ -s "$sarif" ] || { bad "no $sarif (the nightly.run test writes it)"; echo "$pass passed, $fail failed"; exit 1; }
    if ! command -v npm >/dev/null 2>&1; then
        echo "SKIPPED: npm is absent, so Microsoft's SARIF validator (@microsoft/sarif-multitool) cannot be installed; scripts/test.sh installs nodejs and npm (apt-get) on Debian 12"
        exit 77
    fi
    prefix=$bindir/npm-sarif-multitool
    tool=$prefix/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
    if [ ! -f "$tool" ]; then
        if ! npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error @microsoft/sarif-multitool >"$work/npm.log" 2>&1; then
            echo "SKIPPED: npm install @microsoft/sarif-multitool failed (no registry access?):"
            sed -n '1,10s/^/    /p' "$work/npm.log"
            exit 77
        fi
    fi
    [ -x "$tool" ] || chmod u+x "$tool" # its postinstall does this; npm may not run install scripts
    # The validator exits 0 even when it reports errors: its own SARIF log is read instead.
    DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$prefix/node_modules/.bin/sarif-multitool" validate "$sarif" \
        -o "$work/validation.sarif" >"$work/validate.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] && [ -s "$work/validation.sarif" ] && ok || { bad "sarif-multitool validate: exit $rc"; sed -n '1,10s/^/    /p' "$work/validate.log"; }
    issues=$(json "$work/validation.sarif" '"; ".join("%s %s: %s" % (r["ruleId"], r.get("level", "warning"), r["message"].get("text", r["message"].get("id", ""))) for r in d["runs"][0].get("results", []) if r.get("level", "warning") in ("error", "warning"))')
    [ -z "$issues" ] && ok || bad "SARIF validator: $issues"
    # The validator does find errors: a report without its tool is rejected.
    echo '{"version": "2.1.0", "runs": [{"tool": {}}]}' >"$work/broken.sarif"
    DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$prefix/node_modules/.bin/sarif-multitool" validate "$work/broken.sarif" \
        -o "$work/broken.validation.sarif" >/dev/null 2>&1
    nerr=$(json "$work/broken.validation.sarif" 'sum(1 for r in d["runs"][0].get("results", []) if r.get("level", "warning") == "error")')
    [ "$nerr" -ge 1 ] && ok || bad "the validator accepted a broken SARIF file"
    echo "validated $sarif with $(ls "$prefix/node_modules/@microsoft/") $(json "$prefix/node_modules/@microsoft/sarif-multitool/package.json" 'd["version"]')"
    ;;
*) echo "unknown group '$group' (usage | run | fold | sigkill | sarif)" >&2; exit 2 ;;
esac
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
