#!/usr/bin/env bash
# bench/signatures.sh: how well signatures dedupe (docs/BENCHMARKS.md "Signatures per mutant").
#
#   bench/signatures.sh fuzz --bin DIR --out DIR [--seconds N] [--targets T1,T2] [--mutants M1,M2]
#       A libFuzzer fork run (-fork=1 -ignore_crashes=1: a crash ends only the child, the run goes on and keeps
#       every crash) of N seconds (default 30) for every mutant of every target (or of the --targets), seeded
#       from the committed corpus/<target>/, TDF_SCHEDULE_TAIL=random, as scripts/nightly.sh runs a job.
#       --mutants keeps only the mutants of those names (in the selected targets; a name no selected target
#       has is a usage error), e.g. to spend a long run on the mutants whose keys are in question.
#       Artifacts go to OUT/<target>/<mutant>/. DIR is a build's bin directory with the libFuzzer binaries and
#       the runners (an asan build with TDF_LIBFUZZER=ON).
#   bench/signatures.sh key --bin DIR --out DIR > KEYS.tsv
#       Replays every artifact under OUT with DIR's runner (--schedule=input+random, how the fuzzer ran it)
#       and prints "target<TAB>mutant<TAB>artifact<TAB>signature" per artifact. Replaying the same artifacts
#       with two builds compares two signature definitions on the same crashes.
#   bench/signatures.sh table KEYS.tsv
#       Signatures per mutant and mutants per signature, as markdown.
#
# Exit: 0 done; 2 usage error (unknown mode or option, a missing value, DIR without the binaries, a missing
# KEYS file); 1 a fuzzer or runner could not be started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage="bench/signatures.sh fuzz --bin DIR --out DIR [--seconds N] [--targets T1,T2] [--mutants M1,M2] | key --bin DIR --out DIR | table KEYS.tsv"
die() { printf '==TDF== %s\nusage: %s\n' "$1" "$usage" >&2; exit 2; }

[ $# -ge 1 ] || die "no mode given"
mode=$1
shift
case "$mode" in
    fuzz | key | table) ;;
    -h | --help) printf 'usage: %s\n' "$usage"; exit 0 ;;
    *) die "unknown mode '$mode' (fuzz, key or table)" ;;
esac

bin="" out="" seconds=30 targets="" mutants="" keys=""
while [ $# -gt 0 ]; do
    case "$1" in
        --bin | --out | --seconds | --targets | --mutants)
            [ $# -ge 2 ] || die "$1 needs a value"
            v=$2
            case "$1" in
                --bin) bin=$v ;; --out) out=$v ;; --seconds) seconds=$v ;; --targets) targets=$v ;;
                --mutants) [ "$mode" = fuzz ] || die "--mutants is an option of fuzz only"; mutants=$v ;;
            esac
            shift 2 ;;
        -*) die "unknown option '$1'" ;;
        *) [ "$mode" = table ] && [ -z "$keys" ] || die "unexpected argument '$1'"; keys=$1; shift ;;
    esac
done

if [ "$mode" = table ]; then
    [ -n "$keys" ] || die "table needs a KEYS.tsv file"
    [ -f "$keys" ] || die "$keys: no such file"
    python3 - "$keys" <<'EOF'
import sys, collections
per_mutant = collections.defaultdict(collections.Counter)
per_sig = collections.defaultdict(set)
mutants = set()
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) != 4:
        continue
    t, m, _, s = f
    mutants.add((t, m))
    if s == "-":
        continue  # an artifact that did not reproduce
    per_mutant[(t, m)][s] += 1
    per_sig[s].add((t, m))
n1 = sum(1 for k in mutants if len(per_mutant[k]) == 1)
shared = [s for s in per_sig if len(per_sig[s]) > 1]
print(f"mutants: {len(mutants)}, with 1 signature: {n1}, with none: {sum(1 for k in mutants if not per_mutant[k])}, "
      f"signatures: {len(per_sig)}, shared by 2+ mutants: {len(shared)}\n")
print("| target | mutant | signatures | artifacts per signature |")
print("|---|---|---|---|")
for (t, m) in sorted(mutants):
    c = per_mutant[(t, m)]
    print(f"| {t} | {m} | {len(c)} | " + "<br>".join(f"{n}× `{s}`" for s, n in c.most_common()) + " |")
if shared:
    print("\n| signature shared by | mutants |")
    print("|---|---|")
    for s in sorted(shared):
        print(f"| `{s}` | " + ", ".join(f"{t}/{m}" for t, m in sorted(per_sig[s])) + " |")
EOF
    exit 0
fi

[ -n "$bin" ] || die "$mode needs --bin DIR"
[ -n "$out" ] || die "$mode needs --out DIR"
[ -d "$bin" ] || die "--bin $bin: not a directory"
bin=$(cd "$bin" && pwd) # absolute: the fuzz runs cd into each mutant's directory
[[ "$seconds" =~ ^[1-9][0-9]{0,5}$ ]] || die "--seconds must be a positive integer, not '$seconds'"
shopt -s nullglob
runners=("$bin"/fuzz_*_run)
shopt -u nullglob
[ ${#runners[@]} -gt 0 ] || die "--bin $bin: no fuzz_*_run runner there"
all=()
for r in "${runners[@]}"; do
    t=${r##*/}
    all+=("${t%_run}")
done
if [ -n "$targets" ]; then
    IFS=, read -r -a sel <<<"$targets"
    for t in "${sel[@]}"; do
        [ -x "$bin/${t}_run" ] || die "--targets: no runner $bin/${t}_run"
    done
else
    sel=("${all[@]}")
fi

mutants_of() { # TARGET: its variants but the first (the correct one), only the --mutants ones if given
    local list
    list=$(env -u TDF_VARIANT "$bin/${1}_run" --list) || { echo "==TDF== $bin/${1}_run --list failed" >&2; exit 1; }
    awk -v keep=",$mutants," 'NR > 1 && (keep == ",," || index(keep, "," $2 ",")) { print $2 }' <<<"$list"
}
if [ -n "$mutants" ]; then # every name must be a mutant of a selected target: a typo would measure nothing
    IFS=, read -r -a msel <<<"$mutants"
    for m in "${msel[@]}"; do
        found=0
        for t in "${sel[@]}"; do
            env -u TDF_VARIANT "$bin/${t}_run" --list | awk -v m="$m" 'NR > 1 && $2 == m { f = 1 } END { exit !f }' &&
                found=1
        done
        [ $found -eq 1 ] || die "--mutants: '$m' is no mutant of ${sel[*]}"
    done
fi

# No symbolized ASan stacks (the model's report is what is keyed): a mutant that
# crashes at once spends most of its fork run in llvm-symbolizer otherwise, as
# scripts/nightly_run.py notes.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}symbolize=0"

if [ "$mode" = fuzz ]; then
    mkdir -p "$out"
    for t in "${sel[@]}"; do
        [ -x "$bin/$t" ] || die "--bin $bin: no libFuzzer binary $t (an asan build with TDF_LIBFUZZER=ON)"
        seeds="$out/$t/.seeds"
        rm -rf "$seeds" && mkdir -p "$seeds"
        shopt -s nullglob
        committed=("$root/corpus/$t"/*)
        shopt -u nullglob
        [ ${#committed[@]} -eq 0 ] || env -u TDF_VARIANT "$bin/${t}_run" --to_binary="$seeds" "${committed[@]}" >/dev/null
        for m in $(mutants_of "$t"); do
            dir="$out/$t/$m"
            mkdir -p "$dir/corpus"
            cp "$seeds"/* "$dir/corpus/" 2>/dev/null || true
            printf '==TDF== %s %s: %ss fork run\n' "$t" "$m" "$seconds" >&2
            (cd "$dir" && TDF_SCHEDULE_TAIL=random TDF_VARIANT=$m "$bin/$t" -fork=1 -ignore_crashes=1 \
                -max_total_time="$seconds" -artifact_prefix="$dir/" -max_len=512 -len_control=0 corpus \
                >"$dir/fuzz.log" 2>&1) || true
            n=$(find "$dir" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'timeout-*' | wc -l)
            printf '==TDF== %s %s: %s artifacts\n' "$t" "$m" "$n" >&2
        done
    done
    exit 0
fi

# key: the artifacts of a mutant in one runner process each batch; a sanitizer
# finding ends the process, so the input it died on gets the report it printed
# (its SIGNATURE line, SANITIZER/... or FAULT/...) and the batch goes on after it.
for t in "${sel[@]}"; do
    [ -d "$out/$t" ] || continue
    for m in $(mutants_of "$t"); do
        dir="$out/$t/$m"
        [ -d "$dir" ] || continue
        python3 - "$bin/${t}_run" "$t" "$m" "$dir" <<'PYEOF'
import glob, os, subprocess, sys
runner, t, m, d = sys.argv[1:]
arts = sorted(glob.glob(os.path.join(d, "crash-*")) + glob.glob(os.path.join(d, "timeout-*")))
if not arts:
    print(f"{t}\t{m}\t(none)\t-")
i = 0
while i < len(arts):
    batch = arts[i:i + 200]
    env = dict(os.environ)
    env.pop("TDF_VARIANT", None)
    # stderr too: a sanitizer report that ends the process prints its SIGNATURE there
    # (fuzz/report.c), after the RESULT lines of the inputs before it.
    out = subprocess.run([runner, f"--variant={m}", "--schedule=input+random", "--quiet", *batch],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                         env=env).stdout
    sig, done = None, 0
    for line in out.splitlines():
        if line.startswith("==TDF== SIGNATURE "):
            sig = line[len("==TDF== SIGNATURE "):]
        elif line.startswith("==TDF== RESULT "):
            print(f"{t}\t{m}\t{os.path.basename(batch[done])}\t{sig or '-'}")
            sig, done = None, done + 1
    if done < len(batch):  # the process died in batch[done]: its report's signature
        print(f"{t}\t{m}\t{os.path.basename(batch[done])}\t{sig or '-'}")
        done += 1
    i += done
PYEOF
    done
done
