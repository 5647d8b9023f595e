# Shared by the scripts: dependency install, configure and build of one
# configuration. Sourced, not run.
#
# Compiler choice (pinned): clang-14 from Debian 12 for the sanitizer and
# libFuzzer builds, gcc for the plain build. clang-14 + libclang-rt-14-dev is
# Debian 12's default LLVM and already on the machine image, so CI installs
# nothing extra; newer clang (16, 19) would add per-load/store coverage
# callbacks (docs/DECISIONS.md) but is not needed for what the model yields on.
set -euo pipefail

TDF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TDF_CLANG=clang-14
TDF_PACKAGES=(cmake ninja-build gcc binutils clang-14 libclang-rt-14-dev)

tdf_log() { printf '==TDF== %s\n' "$*" >&2; }

# Installs the Debian packages that are missing (apt-get as root, else sudo).
tdf_ensure_deps() {
    local missing=()
    for p in "${TDF_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    tdf_log "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# tdf_build CONFIG [PROJECT_DIR]: CONFIG is plain | asan | tsan; PROJECT_DIR is a
# team's own project that uses teardown-fuzz (default: this tree). Builds in
# PROJECT_DIR/build/CONFIG and prints that directory.
tdf_build() {
    local config=$1 src=${2:-$TDF_ROOT}
    local dir="$src/build/$config"
    local args=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTDF_DIR="$TDF_ROOT")
    case "$config" in
        plain) args+=(-DCMAKE_C_COMPILER=gcc -DTDF_SANITIZER=none) ;;
        asan) args+=(-DCMAKE_C_COMPILER=$TDF_CLANG -DTDF_SANITIZER=asan -DTDF_LIBFUZZER=ON) ;;
        tsan) args+=(-DCMAKE_C_COMPILER=$TDF_CLANG -DTDF_SANITIZER=tsan) ;;
        *) tdf_log "unknown build '$config' (plain | asan | tsan)"; return 2 ;;
    esac
    # Output goes to stderr: callers capture stdout (the directory).
    if [ ! -f "$dir/build.ninja" ]; then
        cmake -S "$src" -B "$dir" "${args[@]}" >/dev/null || { tdf_log "cmake configure of $dir failed"; return 1; }
    fi
    ninja -C "$dir" >/dev/null 2>&1 || { ninja -C "$dir" >&2; tdf_log "build of $dir failed"; return 1; }
    echo "$dir"
}

# Targets of a build: the list CMake wrote (target name = binary = corpus dir).
tdf_targets() { cat "$1/tdf_targets.txt"; }

# --project DIR, accepted first by fuzz.sh and repro.sh: sets TDF_PROJECT.
TDF_PROJECT=$TDF_ROOT
tdf_take_project_flag() {
    if [ "${1:-}" = "--project" ]; then
        TDF_PROJECT=$(cd "$2" && pwd)
        return 0
    fi
    return 1
}
