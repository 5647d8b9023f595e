#!/bin/bash -eu
# .clusterfuzzlite/build.sh: the ClusterFuzzLite / OSS-Fuzz build (docs/REPORTS.md "ClusterFuzzLite").
# Builds every target of the project (its build's tdf_targets.txt) from the environment the builder sets:
#   CC, CFLAGS             compiler and flags, sanitizers and -fsanitize=fuzzer-no-link included
#   LIB_FUZZING_ENGINE     how a fuzzer links the engine (-fsanitize=fuzzer)
#   SRC, WORK, OUT         sources (this project at the working directory or $SRC/teardown-fuzz),
#                          scratch space, where everything ClusterFuzzLite runs goes
#   TDF_BUILD_JOBS         optional: compile jobs (default: every core)
# and writes into $OUT, per target (every name of the build's tdf_targets.txt):
#   <target>               the libFuzzer binary (fuzz/fuzz_main.c), the random schedule tail on by default
#                          (TDF_DEFAULT_SCHEDULE_TAIL_RANDOM: as scripts/fuzz.sh's TDF_SCHEDULE_TAIL=random)
#   <target>_seed_corpus.zip  corpus/<target>/* in binary form (the target's runner, --to_binary)
#   <target>.options       [libfuzzer] with scripts/lib.sh's TDF_LIBFUZZER_OPTIONS, what fuzz.sh passes
#   <target>.dict          fuzz/dict/<target>.dict, when the project has one
# The variant: TDF_VARIANT in the fuzzer's environment, unset = the target's first, its correct protocol
# (what a continuous fuzzing job should fuzz). scripts/cflite_check.sh runs this here and proves it.
src=$(pwd)
[ -f "$src/CMakeLists.txt" ] && [ -d "$src/model" ] || src=$SRC/teardown-fuzz
cd "$src"
source scripts/lib.sh # TDF_LIBFUZZER_OPTIONS (and nothing is installed or built by sourcing it)

build=$WORK/teardown-fuzz-build
# TDF_SANITIZER=none: the sanitizers are the builder's ($CFLAGS, read by CMake as CMAKE_C_FLAGS), not
# the project's own asan configuration; CXX is not used (a C project).
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$CC" \
    -DCMAKE_C_FLAGS="$CFLAGS -DTDF_DEFAULT_SCHEDULE_TAIL_RANDOM=1" -DTDF_SANITIZER=none -DTDF_LIBFUZZER=ON \
    -DTDF_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" -DTDF_BUILD_TESTS=OFF
mapfile -t targets <"$build/tdf_targets.txt"
[ ${#targets[@]} -gt 0 ] || { echo "build.sh: no targets in $build/tdf_targets.txt" >&2; exit 1; }
ninja_targets=()
for t in "${targets[@]}"; do ninja_targets+=("$t" "${t}_run"); done
cmake --build "$build" --target "${ninja_targets[@]}" -- -j"${TDF_BUILD_JOBS:-$(nproc)}"

options=""
for o in "${TDF_LIBFUZZER_OPTIONS[@]}"; do options+="${o#-}"$'\n'; done
for t in "${targets[@]}"; do
    cp "$build/bin/$t" "$OUT/$t"
    printf '[libfuzzer]\n%s' "$options" >"$OUT/$t.options"
    if [ -f "fuzz/dict/$t.dict" ]; then cp "fuzz/dict/$t.dict" "$OUT/$t.dict"; fi
    rm -f "$OUT/${t}_seed_corpus.zip"
    shopt -s nullglob
    seeds=(corpus/"$t"/*)
    shopt -u nullglob
    [ ${#seeds[@]} -gt 0 ] || continue
    bin=$WORK/seeds/$t
    rm -rf "$bin" && mkdir -p "$bin"
    env -u TDF_VARIANT "$build/bin/${t}_run" --to_binary="$bin" "${seeds[@]}" >/dev/null
    # Flat archive (names only), sorted: the same corpus gives the same zip listing.
    python3 - "$OUT/${t}_seed_corpus.zip" "$bin" <<'PY'
import os, sys, zipfile
out, d = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for n in sorted(os.listdir(d)):
        z.write(os.path.join(d, n), n)
PY
done
echo "build.sh: ${#targets[@]} fuzzers in $OUT: ${targets[*]}"
