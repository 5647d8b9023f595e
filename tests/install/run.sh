#!/usr/bin/env bash
# The package path (tests/CMakeLists.txt registers it for the plain build):
# `cmake --install` of this build into a fresh prefix, then examples/toaster
# configured with find_package(teardown_fuzz) from that prefix only, built and
# its own ctest run; a project configured differently from the package is
# refused; the presets configure as scripts/lib.sh does; a fresh configure of
# the checkout with -DTDF_DIR (what lib.sh passes) prints no CMake warning.
#
# usage: run.sh SOURCE_DIR BUILD_DIR C_COMPILER WORK_DIR
# Ends with "N passed, M failed"; exit 0 only if M == 0, 2 on a usage error.
set -u
if [ $# -ne 4 ]; then
    echo "usage: run.sh SOURCE_DIR BUILD_DIR C_COMPILER WORK_DIR" >&2
    exit 2
fi
src=$1 build=$2 cc=$3 work=$4
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/    /' | tail -n 20; }
check() { if eval "$2"; then ok "$1"; else bad "$1" "${3:-}"; fi; }
# CMake wraps its messages: compare with the lines joined.
joined() { tr -s ' \n' '  ' <<<"$1"; }

rm -rf "$work" && mkdir -p "$work" || { echo "cannot create $work" >&2; exit 2; }
prefix=$work/prefix

out=$(cmake --install "$build" --prefix "$prefix" 2>&1)
check "cmake --install into a fresh prefix" '[ $? -eq 0 ]' "$out"
for f in lib/libtdf_model.a lib/cmake/teardown_fuzz/teardown_fuzzConfig.cmake \
         lib/cmake/teardown_fuzz/teardown_fuzzTargets.cmake include/tdf/wdf.h \
         share/teardown_fuzz/cmake/TdfTarget.cmake share/teardown_fuzz/cmake/CheckImageIncludes.cmake \
         share/teardown_fuzz/fuzz/runner_main.c share/teardown_fuzz/fuzz/fuzz_main.c \
         share/teardown_fuzz/model/kernel/image.h share/teardown_fuzz/include/tdf/harness.h; do
    check "installed $f" '[ -f "$prefix/$f" ]'
done
check "installed scripts/ctest_replay.sh is executable" '[ -x "$prefix/share/teardown_fuzz/scripts/ctest_replay.sh" ]'

# The example from the prefix alone: no TDF_DIR, nothing of the checkout but
# the example's own sources.
tb=$work/toaster
out=$(cmake -S "$src/examples/toaster" -B "$tb" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" 2>&1)
rc=$?
check "toaster configures with find_package(teardown_fuzz) from the prefix" '[ $rc -eq 0 ]' "$out"
check "  with no CMake warning" '! grep -q "CMake Warning" <<<"$out"' "$out"
out=$(cmake --build "$tb" -j 2 2>&1)
rc=$?
check "toaster builds against the installed package" '[ $rc -eq 0 ] && [ -x "$tb/bin/fuzz_toaster_run" ]' "$out"
leaks=$(grep -o "$src/\(fuzz\|model\|include\|cmake\|scripts\)/[^ ]*" "$tb/build.ninja" "$tb/CTestTestfile.cmake" 2>/dev/null | sort -u)
check "  and uses no file of the checkout" '[ -z "$leaks" ]' "$leaks"
check "  its hooks file includes the installed image.h" \
    'grep -qF "#include \"$prefix/share/teardown_fuzz/model/kernel/image.h\"" "$tb/tdf_image_toaster_hooks.c"'
out=$(cd "$tb" && ctest 2>&1)
rc=$?
check "toaster's own ctest (corpus, repro, random inputs) passes" \
    '[ $rc -eq 0 ] && grep -q "100% tests passed" <<<"$out" && grep -q "fuzz_toaster.repro" <<<"$out"' "$out"

# A project configured differently from the package is refused.
out=$(cmake -S "$src/examples/toaster" -B "$work/toaster_asan" -G Ninja -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_PREFIX_PATH="$prefix" -DTDF_SANITIZER=asan 2>&1)
rc=$?
check "a different TDF_SANITIZER than the package's is refused" \
    '[ $rc -ne 0 ] && joined "$out" | grep -q "was built with TDF_SANITIZER=none, this project asks for TDF_SANITIZER=asan"' "$out"
out=$(cmake -S "$src/examples/toaster" -B "$work/toaster_baddir" -G Ninja -DCMAKE_C_COMPILER="$cc" \
        -DTDF_DIR="$work/nonexistent" 2>&1)
rc=$?
check "TDF_DIR that is no checkout is refused by name" \
    '[ $rc -ne 0 ] && joined "$out" | grep -q "is not a teardown-fuzz checkout"' "$out"

# Presets: the same flags as scripts/lib.sh (tdf_build_dir), configured only.
for p in plain asan tsan; do
    out=$(cd "$src" && cmake --preset "$p" -B "$work/preset_$p" 2>&1)
    rc=$?
    cache=$work/preset_$p/CMakeCache.txt
    case $p in
        plain) want_cc=gcc want_san=none want_fz=OFF ;;
        asan) want_cc=clang-14 want_san=asan want_fz=ON ;;
        tsan) want_cc=clang-14 want_san=tsan want_fz=OFF ;;
    esac
    check "preset $p configures (compiler $want_cc, TDF_SANITIZER=$want_san, TDF_LIBFUZZER=$want_fz)" \
        '[ $rc -eq 0 ] && grep -q "^CMAKE_C_COMPILER:[A-Z]*=.*$want_cc$" "$cache" &&
         grep -q "^TDF_SANITIZER:[A-Z]*=$want_san$" "$cache" &&
         grep -q "^TDF_LIBFUZZER:[A-Z]*=$want_fz$" "$cache" &&
         grep -q "^CMAKE_GENERATOR:INTERNAL=Ninja$" "$cache"' "$out"
done

# What scripts/lib.sh passes: -DTDF_DIR=<this checkout>. Used, so no warning;
# a different directory is an error that says why.
out=$(cmake -S "$src" -B "$work/fresh" -G Ninja -DCMAKE_C_COMPILER="$cc" -DTDF_SANITIZER=none -DTDF_DIR="$src" 2>&1)
rc=$?
check "fresh configure of the checkout with -DTDF_DIR prints no CMake warning" \
    '[ $rc -eq 0 ] && ! grep -q "CMake Warning" <<<"$out"' "$out"
out=$(cmake -S "$src" -B "$work/fresh_other" -G Ninja -DCMAKE_C_COMPILER="$cc" -DTDF_DIR="$work" 2>&1)
rc=$?
check "  -DTDF_DIR naming another directory is refused" '[ $rc -ne 0 ] && joined "$out" | grep -q "is not this checkout"' "$out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
