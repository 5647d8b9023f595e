#!/usr/bin/env bash
# tests/cli_matrix/run.sh BUILD_DIR: scripts/matrix.sh and the runner's --hunt
# (the random/PCT baselines it runs), on the build given (plain; registered
# there), in a few seconds:
#   hunt      --hunt finds a mutant over its seed scripts (the HUNT line, the
#             class's exit code), runs clean to --hunt_seconds on the correct
#             variant (exit 0), writes the failing exec with --save_schedule
#             when it can; every bad flag combination exits 2 with its message
#   usage     every bad argument of matrix.sh exits 2 with its message
#   tiny run  one target, two variants, strategies random and dfs, 1 s a run:
#             the JSON's schema, rows, cells (the mutant killed by both with a
#             signature, the correct variant clean), the start cost apart, the
#             markdown tables
#   pool      --pool random: the hunts over seeded random inputs, said so
#   update    --update measures one strategy again into that matrix.json, the
#             other strategy's runs kept; mismatched settings refused; every
#             cell measured again: nothing of the old run kept
#   false positive  a target whose correct variant fails every input (the
#             internal fuzz_unmodelled_check, in a build directory listing only
#             it): the cell says FALSE POSITIVE and matrix.sh exits 1
# Ends with "N passed, M failed".
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: tests/cli_matrix/run.sh BUILD_DIR" >&2; exit 2; }
bindir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
M=$root/scripts/matrix.sh
# ctest never builds: the plain build is this one; asan and tsan are not used
# (no fuzz or tsan strategy), an empty override would build them.
export TDF_BUILD_DIR_PLAIN=$bindir TDF_BUILD_DIR_ASAN=/nonexistent TDF_BUILD_DIR_TSAN=/nonexistent
unset TDF_VARIANT
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/../cli_check.sh" # pass/fail, ok, bad, check
T=fuzz_file_io
R=$bindir/bin/${T}_run
seeds=("$root/corpus/$T"/*)

# --- the runner's --hunt
# kills NAME CMD...: exit 10..17 (a failure class) and the HUNT line naming that signature.
kills() {
    local name=$1 out rc sig
    shift
    out=$(timeout 60 "$@" 2>&1)
    rc=$?
    sig=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$out")
    if [ $rc -ge 10 ] && [ $rc -le 17 ] && [ -n "$sig" ] && grep -qF "==TDF== HUNT found in exec " <<<"$out" &&
        grep -qF "): $sig (input " <<<"$out"; then ok
    else bad "$name: exit $rc (want 10..17) or no HUNT line with the signature:"; sed -n '1,6s/^/    /p' <<<"$out"; fi
}
kills "hunt finds a mutant" "$R" --variant=cleanup_touches_hw --hunt=100000 --hunt_seconds=20 --schedule=random:1 "${seeds[@]}"
kills "hunt pct finds a mutant" "$R" --variant=cleanup_touches_hw --hunt=100000 --hunt_seconds=20 --schedule=pct:2:3 "${seeds[@]}"
kills "hunt over random inputs finds a mutant" "$R" --variant=cleanup_touches_hw --hunt=100000 --hunt_seconds=20 --seed=1
check "hunt random inputs" 0 "==TDF== HUNT nothing in 300 execs" "$R" --hunt=300 --seed=2
check "hunt clean to its time cap" 0 "variant correct, schedule random:1" \
    "$R" --variant=correct --hunt=1000000000 --hunt_seconds=1 --schedule=random:1 "${seeds[@]}"
check "hunt without a seeded schedule" 2 "--hunt over INPUT files needs --schedule=random:SEED" "$R" --hunt=5 "${seeds[0]}"
check "hunt and dfs" 2 "--schedule=dfs does not apply" "$R" --hunt=5 --schedule=dfs:1 "${seeds[0]}"
check "hunt and a printing flag" 2 "--trace has no effect with --hunt" "$R" --hunt=5 --trace
check "hunt and random_inputs" 2 "--random_inputs and --hunt exclude each other" "$R" --hunt=5 --random_inputs=5
check "hunt_seconds alone" 2 "--hunt_seconds is used with --hunt only" "$R" --hunt_seconds=5 "${seeds[0]}"
check "hunt zero" 2 "--hunt=0: expected a whole number in 1..1000000000" "$R" --hunt=0
check "hunt seed with files" 2 "--seed seeds --hunt's random inputs" "$R" --hunt=5 --seed=3 --schedule=random:1 "${seeds[0]}"
# The same (SEED, exec) is the same run: the found exec and its signature repeat.
a=$("$R" --variant=cleanup_touches_hw --hunt=100000 --schedule=random:7 "${seeds[@]}" 2>&1 | grep '^==TDF== HUNT found' | sed 's/ after .* s (.* execs\/s)//')
b=$("$R" --variant=cleanup_touches_hw --hunt=100000 --schedule=random:7 "${seeds[@]}" 2>&1 | grep '^==TDF== HUNT found' | sed 's/ after .* s (.* execs\/s)//')
[ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "hunt not deterministic: '$a' vs '$b'"

# --- matrix.sh usage errors
check "help" 0 "exit: 0 ran, no false positive" "$M" --help
check "unknown option" 2 "unknown option '--minutes'" "$M" --minutes 3
check "stray argument" 2 "unexpected argument 'fuzz_file_io'" "$M" fuzz_file_io
check "seconds zero" 2 "--seconds must be a whole number of seconds 1..99999" "$M" --seconds 0
check "seconds word" 2 "--seconds must be a whole number of seconds 1..99999" "$M" --seconds ten
check "seeds 100" 2 "--seeds must be an integer 1..99" "$M" --seeds 100
check "jobs 0" 2 "--jobs must be an integer 1..64" "$M" --jobs 0
check "preemptions 65" 2 "--preemptions must be an integer 0..64" "$M" --preemptions 65
check "dfs-limit 0" 2 "--dfs-limit must be an integer 1..4000000000" "$M" --dfs-limit 0
check "missing value" 2 "--seconds needs a value" "$M" --seconds
check "unknown strategy" 2 "unknown strategy 'afl'" "$M" --strategies fuzz,afl
check "strategy twice" 2 "--strategies names 'dfs' twice" "$M" --strategies dfs,dfs
check "bad list" 2 "a comma-separated list of names" "$M" --targets "a b"
check "unknown target" 2 "unknown target 'fuzz_nothing'" "$M" --targets fuzz_nothing --strategies dfs
check "target twice" 2 "--targets names '$T' twice" "$M" --targets $T,$T --strategies dfs
check "unknown variant" 2 "--variants: 'nope' is not a variant" "$M" --targets $T --variants nope --strategies dfs
check "bad pool" 2 "--pool must be seeds or random, not 'corpus'" "$M" --pool corpus
check "bad fuzz corpus" 2 "--fuzz-corpus must be seeds or empty, not 'none'" "$M" --fuzz-corpus none
check "fuzz corpus, no value" 2 "--fuzz-corpus needs a value" "$M" --fuzz-corpus
touch "$work/file"
check "out a file" 2 "--out $work/file: not a directory" "$M" --out "$work/file"

# --- a tiny run
out=$(timeout 120 "$M" --targets $T --variants correct,cleanup_touches_hw --strategies random,dfs --seconds 1 \
    --seeds 1 --jobs 2 --out "$work/out" 2>&1)
rc=$?
[ $rc -eq 0 ] && ok || { bad "tiny run: exit $rc (want 0):"; sed -n '1,12s/^/    /p' <<<"$out"; }
if python3 - "$work/out/matrix.json" <<'PY'; then ok; else bad "tiny run: matrix.json is not what the run measured"; fi
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "teardown-fuzz-matrix/1", d["schema"]
assert d["strategies"] == ["random", "dfs"] and d["seconds"] == 1 and d["seeds"] == 1
rows = {r["variant"]: r for r in d["rows"]}
assert set(rows) == {"correct", "cleanup_touches_hw"}, rows.keys()
assert rows["correct"]["correct"] and not rows["cleanup_touches_hw"]["correct"]
for st in ("random", "dfs"):
    c = rows["cleanup_touches_hw"]["cells"][st]
    assert c["runs"] == 1 and c["kills"] == 1 and c["signatures"], (st, c)
    assert c["median_execs"] >= 1 and c["median_seconds"] is not None, (st, c)
    k = rows["correct"]["cells"][st]
    assert k["kills"] == 0 and k["false_positive"] is False and k["clean_seconds"] > 0, (st, k)
dfs = rows["cleanup_touches_hw"]["cells"]["dfs"]
assert dfs["script"].startswith(("corpus/fuzz_file_io/", "repro/fuzz_file_io/")) and dfs["preemptions"] is not None, dfs
assert len(d["runs"]) == 4 and all(not r["error"] for r in d["runs"]), d["runs"]
assert all(r["cpu_seconds"] is not None and 0 <= r["cpu_seconds"] <= r["seconds"] * 2 + 1 for r in d["runs"]), d["runs"]
assert d["goals"]["false_positives"] == [] and d["goals"]["dfs_killed"] == 1
# The start cost apart: each random run carries its target's (the plain runner's --list, a few ms) and its
# search CPU is its CPU less it; dfs (one process a script) has none.
for r in d["runs"]:
    if r["strategy"] == "random":
        assert 0 < r["start_cpu_seconds"] < 1, r
        assert abs(r["search_cpu_seconds"] - max(0.0, r["cpu_seconds"] - r["start_cpu_seconds"])) < 1e-3, r
    else:
        assert "start_cpu_seconds" not in r, r
c = rows["cleanup_touches_hw"]["cells"]["random"]
assert c["median_search_cpu_seconds"] is not None and c["median_search_cpu_seconds"] <= c["median_cpu_seconds"], c
# A kill within the first execs may take less CPU than the start cost measured apart: a search of 0.
assert c["search_cpu_per_exec"] is not None and c["search_cpu_per_exec"] >= 0 and d["fuzz_corpus"] is None, (c, d.get("fuzz_corpus"))
PY
grep -q '^| fuzz_file_io | cleanup_touches_hw | 1/1 ' "$work/out/matrix.md" && grep -q '^| fuzz_file_io | correct | clean: ' "$work/out/matrix.md" &&
    [[ "$out" == *"| fuzz_file_io | cleanup_touches_hw |"* ]] && ok || bad "tiny run: matrix.md (or the printed table) lacks the rows"
grep -q '^Start cost and exec cost (CPU)' "$work/out/matrix.md" && grep -Eq '^\| fuzz_file_io \| [0-9]+ ms / [0-9.k]+ us \|$' "$work/out/matrix.md" &&
    ok || bad "tiny run: matrix.md lacks the start cost table"

# --- --update: the random column measured again (2 seeds now refused: the settings must match), dfs kept
check "update, no matrix.json" 2 "--update: no $work/none/matrix.json to merge into" "$M" --update --out "$work/none" --strategies dfs
check "update, other seeds" 2 "it was made with seeds 1, not 2" "$M" --update --out "$work/out" --seeds 2 --seconds 1 --strategies random
dfs_before=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([r for r in d["runs"] if r["strategy"] == "dfs"]))' "$work/out/matrix.json")
out=$(timeout 120 "$M" --update --targets $T --variants correct,cleanup_touches_hw --strategies random --seconds 1 \
    --seeds 1 --out "$work/out" 2>&1)
rc=$?
dfs_after=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([r for r in d["runs"] if r["strategy"] == "dfs"]))' "$work/out/matrix.json")
n=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["runs"]), d["strategies"], " + " in d["command"])' "$work/out/matrix.json")
if [ $rc -eq 0 ] && [ "$dfs_before" = "$dfs_after" ] && [ "$n" = "4 ['random', 'dfs'] True" ]; then ok
else bad "update: exit $rc, runs/strategies '$n', dfs runs kept: $([ "$dfs_before" = "$dfs_after" ] && echo yes || echo no)"; fi

# --- --update that measures every cell again keeps none of the old runs, nor their command, wall time or load
out=$(timeout 120 "$M" --update --targets $T --variants correct,cleanup_touches_hw --strategies random,dfs --seconds 1 \
    --seeds 1 --out "$work/out" 2>&1)
rc=$?
n=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["runs"]), " + " in d["command"], ", then " in d["load"])' "$work/out/matrix.json")
[ $rc -eq 0 ] && [ "$n" = "4 False False" ] && ok || bad "update of every cell: exit $rc, runs / old command / old load kept: '$n'"

# --- --pool random: the hunt takes seeded random inputs (none of the corpus) and still kills
out=$(timeout 120 "$M" --pool random --targets $T --variants cleanup_touches_hw --strategies random --seconds 5 \
    --seeds 1 --out "$work/pool" 2>&1)
rc=$?
p=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["runs"][0]; print(d["pool"], r["killed"], r["execs"] > 0)' "$work/pool/matrix.json" 2>&1)
[ $rc -eq 0 ] && [ "$p" = "random True True" ] && grep -q 'over seeded random inputs (no corpus)' "$work/pool/matrix.md" && ok ||
    bad "pool random: exit $rc, '$p'"

# --- a false positive is flagged: a build directory whose only target's correct variant always fails
fake=$work/fakebuild
mkdir -p "$fake/bin"
echo fuzz_unmodelled_check >"$fake/tdf_targets.txt"
ln -s "$bindir/bin/fuzz_unmodelled_check_run" "$fake/bin/fuzz_unmodelled_check_run"
out=$(TDF_BUILD_DIR_PLAIN=$fake timeout 120 "$M" --strategies random --seconds 1 --seeds 1 --out "$work/fp" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q '^| fuzz_unmodelled_check | correct | \*\*FALSE POSITIVE\*\* MISUSE/UNMODELLED' "$work/fp/matrix.md" &&
    grep -q 'false positives on correct variants: \*\*1\*\*' "$work/fp/matrix.md"; then ok
else bad "false positive: exit $rc (want 1) or no FALSE POSITIVE cell:"; sed -n '1,30s/^/    /p' <<<"$out"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
