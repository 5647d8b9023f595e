#!/usr/bin/env bash
# tests/cli_matrix/fuzz.sh BUILD_DIR: scripts/matrix.sh's fuzz strategy in the libFuzzer build given (asan,
# TDF_LIBFUZZER=ON; registered there as cli.matrix_fuzz), in a few seconds:
#   seeds     the default: libFuzzer's run corpus is seeded with corpus/<target> (libFuzzer itself says it
#             read that many files), the mutant killed, the correct variant clean, matrix.md says so
#   start     every fuzz run carries the start cost (-runs=0 on an empty corpus, a few tens of ms) and its
#             search CPU is its CPU less it; libFuzzer's own wall times to its first exec and, for the kill,
#             from it to the report lie inside the run
#   empty     --fuzz-corpus empty: libFuzzer starts from nothing (no seed file read), said so
#   mixed     --update of one variant's fuzz cell from the other kind of corpus: the table says it mixes them
# Ends with "N passed, M failed".
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: tests/cli_matrix/fuzz.sh BUILD_DIR" >&2; exit 2; }
bindir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
M=$root/scripts/matrix.sh
# ctest never builds: this build is the asan one the fuzz strategy uses; the others are not needed.
export TDF_BUILD_DIR_ASAN=$bindir TDF_BUILD_DIR_PLAIN=/nonexistent TDF_BUILD_DIR_TSAN=/nonexistent
unset TDF_VARIANT TDF_SCHEDULE_TAIL
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/../cli_check.sh" # pass/fail, ok, bad, check
T=fuzz_file_io
nseeds=$(find "$root/corpus/$T" -maxdepth 1 -type f | wc -l)

# check_runs DIR KIND NSEEDS: the fuzz runs of DIR/matrix.json are of corpus KIND, libFuzzer read NSEEDS seed
# files, the start cost is apart, the mutant is killed and the correct variant is clean.
check_runs() {
    python3 - "$1/matrix.json" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
kind, n = sys.argv[2], int(sys.argv[3])
assert d["fuzz_corpus"] == kind, d["fuzz_corpus"]
runs = [r for r in d["runs"] if r["strategy"] == "fuzz"]
assert len(runs) == 2 and all(not r["error"] for r in runs), runs
for r in runs:
    assert r["corpus"] == kind and r["seed_inputs"] == n and r["libfuzzer_seed_files"] == n, r
    assert 0.005 < r["start_cpu_seconds"] < 2, r
    assert abs(r["search_cpu_seconds"] - max(0.0, r["cpu_seconds"] - r["start_cpu_seconds"])) < 1e-3, r
    # "seconds" is rounded to 1 ms (matrix_run.py result), the marks to 0.1 ms: a run that ends right
    # after its first exec can round below it.
    assert r["first_exec_seconds"] is not None and 0 < r["first_exec_seconds"] <= r["seconds"] + 1e-3, r
    if r["killed"]:
        assert r["variant"] == "cleanup_touches_hw" and r["execs"] >= 1 and r["signature"], r
        assert r["search_seconds"] is not None and r["first_exec_seconds"] + r["search_seconds"] <= r["seconds"] + 1e-3, r
    else:
        assert r["variant"] == "correct" and r["execs"] > n, r
rows = {r["variant"]: r for r in d["rows"]}
c = rows["cleanup_touches_hw"]["cells"]["fuzz"]
assert c["kills"] == 1 and c["corpus"] == kind and c["median_search_cpu_seconds"] <= c["median_cpu_seconds"], c
assert c["start_cpu_seconds"] > 0 and c["search_cpu_per_exec"] is not None and c["search_cpu_per_exec"] >= 0, c
assert rows["correct"]["cells"]["fuzz"]["false_positive"] is False
PY
}

out=$(timeout 120 "$M" --targets $T --variants correct,cleanup_touches_hw --strategies fuzz --seconds 2 --seeds 1 \
    --jobs 1 --out "$work/seeds" 2>&1)
rc=$?
[ $rc -eq 0 ] && check_runs "$work/seeds" seeds "$nseeds" && ok || { bad "seeds: exit $rc or matrix.json wrong:"; sed -n '1,12s/^/    /p' <<<"$out"; }
grep -qF 'fuzz from its run corpus seeded with corpus/<target> (as scripts/fuzz.sh does)' "$work/seeds/matrix.md" &&
    grep -Eq '^\| fuzz_file_io \| [0-9]+ ms / [0-9.k]+ us \|$' "$work/seeds/matrix.md" && ok ||
    bad "seeds: matrix.md does not say the corpus, or lacks the start cost table"

out=$(timeout 120 "$M" --targets $T --variants correct,cleanup_touches_hw --strategies fuzz --seconds 2 --seeds 1 \
    --jobs 1 --fuzz-corpus empty --out "$work/empty" 2>&1)
rc=$?
[ $rc -eq 0 ] && check_runs "$work/empty" empty 0 && ok || { bad "empty: exit $rc or matrix.json wrong:"; sed -n '1,12s/^/    /p' <<<"$out"; }
grep -qF 'fuzz from an empty corpus' "$work/empty/matrix.md" && grep -qF -- '--fuzz-corpus empty' "$work/empty/matrix.md" && ok ||
    bad "empty: matrix.md does not say the corpus or the option"

# --update: the mutant's fuzz cell again from the seeds, the correct variant's empty-corpus run kept.
out=$(timeout 120 "$M" --update --targets $T --variants cleanup_touches_hw --strategies fuzz --seconds 2 --seeds 1 \
    --jobs 1 --out "$work/empty" 2>&1)
rc=$?
k=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["fuzz_corpus"], sorted(r["corpus"] for r in d["runs"]))' "$work/empty/matrix.json" 2>&1)
[ $rc -eq 0 ] && [ "$k" = "mixed ['empty', 'seeds']" ] && grep -qF 'fuzz from run corpora of both kinds' "$work/empty/matrix.md" && ok ||
    bad "mixed: exit $rc, '$k'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
