#!/usr/bin/env bash
# scripts/cflite_check.sh [--out DIR] [--jobs N]
#   Runs the ClusterFuzzLite / OSS-Fuzz build (.clusterfuzzlite/build.sh) here,
#   with the variables the builder image sets (CC=clang-14, CFLAGS with
#   -fsanitize=address,fuzzer-no-link as OSS-Fuzz's ASan build has them,
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer, SRC, WORK, OUT), then proves what it
#   wrote: for every target of the build, $OUT/<target> is a libFuzzer binary,
#   $OUT/<target>.options holds the libFuzzer options scripts/fuzz.sh uses,
#   $OUT/<target>_seed_corpus.zip holds every corpus/<target>/* input in
#   binary form, $OUT/<target>.dict is there when fuzz/dict/<target>.dict is,
#   and the binary, run as ClusterFuzzLite runs it (the options file's flags,
#   the dictionary) with -runs=0 over the unzipped seed corpus, reads every
#   seed and exits 0 (the correct variant is clean on its own corpus).
#   OUT is a temporary directory unless --out DIR (then kept); the build goes
#   to a temporary WORK. Prints one line per target and "N passed, M failed".
#
# Exit status:
#   0  the build and every check passed
#   1  the build failed, or a check failed (each is printed)
#   2  usage error: unknown option, bad value, --out not a directory
source "$(dirname "$0")/lib.sh"

TDF_USAGE="scripts/cflite_check.sh [--out DIR] [--jobs N] | --help
  --out   keep what build.sh writes (\$OUT) in DIR (default: a temporary directory, removed)
  --jobs  parallel compile jobs of the build (default: the number of cores)
exit: 0 built and every check passed, 1 the build or a check failed, 2 usage error"

out="" jobs=$(nproc)
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) tdf_help ;;
        --out) tdf_need_value "$1" $#; out=$2; [ -n "$out" ] || tdf_usage_error "--out needs a directory"; shift 2 ;;
        --out=*) out=${1#*=}; [ -n "$out" ] || tdf_usage_error "--out needs a directory"; shift ;;
        --jobs) tdf_need_value "$1" $#; jobs=$2; shift 2 ;;
        --jobs=*) jobs=${1#*=}; shift ;;
        -*) tdf_usage_error "unknown option '$1'" ;;
        *) tdf_usage_error "unexpected argument '$1' (it takes options only)" ;;
    esac
done
[[ "$jobs" =~ ^[1-9][0-9]?$ ]] || tdf_usage_error "--jobs must be an integer 1..99, not '$jobs'"
if [ -n "$out" ]; then
    [ ! -e "$out" ] || [ -d "$out" ] || tdf_usage_error "--out $out: not a directory"
    mkdir -p "$out" 2>/dev/null || tdf_usage_error "--out $out: cannot create it"
    out=$(cd "$out" && pwd)
fi
tdf_ensure_deps

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src" "$tmp/work"
ln -s "$TDF_ROOT" "$tmp/src/teardown-fuzz"
[ -n "$out" ] || { out=$tmp/out; mkdir -p "$out"; }

# The builder image's variables (OSS-Fuzz's ASan build: its CFLAGS, its engine flag).
export CC=$TDF_CLANG CXX=${TDF_CLANG/clang/clang++} SRC=$tmp/src WORK=$tmp/work OUT=$out
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS=$CFLAGS LIB_FUZZING_ENGINE=-fsanitize=fuzzer
tdf_log "building with .clusterfuzzlite/build.sh: CC=$CC LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE OUT=$OUT"
tdf_log "CFLAGS=$CFLAGS"
t0=$(date +%s)
# TDF_BUILD_JOBS: build.sh's compile jobs (the builder's default is every core; here they are shared).
if ! (cd "$TDF_ROOT" && env -u TDF_VARIANT -u TDF_SCHEDULE_TAIL TDF_BUILD_JOBS="$jobs" bash .clusterfuzzlite/build.sh) \
    >"$tmp/build.log" 2>&1; then
    tail -n 30 "$tmp/build.log" >&2
    tdf_log "build.sh failed (last 30 lines above)"
    echo "0 passed, 1 failed"
    exit 1
fi
tdf_log "build.sh: $(tail -n 1 "$tmp/build.log") ($(($(date +%s) - t0)) s)"

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
mapfile -t targets <"$WORK/teardown-fuzz-build/tdf_targets.txt"
want_options=$(printf '[libfuzzer]\n'; for o in "${TDF_LIBFUZZER_OPTIONS[@]}"; do printf '%s\n' "${o#-}"; done)
printf '%-20s %6s %8s  %s\n' target seeds read "result (libFuzzer's last line)"
for t in "${targets[@]}"; do
    f=$OUT/$t
    [ -x "$f" ] || { bad "$t: no executable $f"; continue; }
    [ "$(cat "$f.options" 2>/dev/null)" = "$want_options" ] && ok || bad "$t: $f.options is not: $want_options"
    dict=()
    if [ -f "$TDF_ROOT/fuzz/dict/$t.dict" ]; then
        cmp -s "$TDF_ROOT/fuzz/dict/$t.dict" "$f.dict" && ok || bad "$t: $f.dict is not fuzz/dict/$t.dict"
        dict=(-dict="$f.dict")
    elif [ -e "$f.dict" ]; then bad "$t: $f.dict written but the project has no fuzz/dict/$t.dict"; fi
    shopt -s nullglob
    seeds=("$TDF_ROOT/corpus/$t"/*)
    shopt -u nullglob
    run=$tmp/run/$t
    mkdir -p "$run"
    if [ ${#seeds[@]} -eq 0 ]; then
        [ ! -e "${f}_seed_corpus.zip" ] && ok || bad "$t: a seed corpus zip for an empty corpus/"
    else
        python3 - "${f}_seed_corpus.zip" "$run" <<'PY' || { bad "$t: ${f}_seed_corpus.zip cannot be read"; continue; }
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
        n=$(find "$run" -type f | wc -l)
        [ "$n" -eq ${#seeds[@]} ] && ok || bad "$t: the zip holds $n inputs, corpus/$t has ${#seeds[@]}"
        # Binary form: no file starts as the text form does (docs/INPUT.md "Text form").
        texts=$(python3 - "$run" <<'PY'
import os, sys
d = sys.argv[1]
print(sum(1 for n in os.listdir(d) if open(os.path.join(d, n), "rb").read(16).startswith((b"# teardown-fuzz", b"format ", b"target "))))
PY
)
        [ "$texts" -eq 0 ] && ok || bad "$t: $texts inputs of the zip are still in text form"
    fi
    # As ClusterFuzzLite runs it: the options file's flags, the dictionary, the corpus; -runs=0 reads
    # every seed once and stops.
    flags=()
    for o in "${TDF_LIBFUZZER_OPTIONS[@]}"; do flags+=("$o"); done
    rc=0
    log=$(env -u TDF_VARIANT -u TDF_SCHEDULE_TAIL ASAN_OPTIONS=symbolize=0 timeout 300 "$f" "${flags[@]}" "${dict[@]}" -runs=0 "$run" 2>&1) || rc=$?
    read_n=$(sed -n 's/^INFO: *\([0-9]*\) files found in .*/\1/p' <<<"$log")
    # libFuzzer lists only non-empty files (it runs the empty input by itself first).
    nonempty=$(find "$run" -type f -size +0 | wc -l)
    inited=$(grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' <<<"$log" || true)
    inited=${inited##*$'\n'}
    if [ $rc -eq 0 ] && [ -n "$inited" ] && [ "${read_n:-0}" -eq "$nonempty" ] && ! grep -q '^==TDF== SIGNATURE' <<<"$log"; then
        ok
        printf '%-20s %6d %8s  ok: %s\n' "$t" ${#seeds[@]} "${read_n:-0}" "$(tr -s ' \t' ' ' <<<"$inited")"
    else
        bad "$t: -runs=0 over its seed corpus: exit $rc, ${read_n:-no} files read of $nonempty non-empty:"
        grep -E 'TDF|ERROR|INFO: .*files found|INITED|DONE' <<<"$log" | sed -n '1,8s/^/    /p'
    fi
done
[ ${#targets[@]} -gt 0 ] && ok || bad "no targets built"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
