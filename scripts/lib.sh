# Shared by the scripts: argument checks, dependency install, configure and
# build of one configuration, target and variant lookup. Sourced, not run.
#
# Compiler choice (pinned): clang-14 from Debian 12 for the sanitizer and
# libFuzzer builds, gcc for the plain build. clang-14 + libclang-rt-14-dev is
# Debian 12's default LLVM and already on the machine image, so CI installs
# nothing extra.
#
# Pipelines: every script runs under pipefail, so a pipeline whose reader
# stops early (head taking the first line, `grep -q`, `grep -m1`) kills the writer with
# SIGPIPE and fails at random. Capture whole outputs instead (out=$(cmd), then
# parameter expansion or a reader that consumes everything, like awk or sed
# without q); tests/cli checks the scripts for the forbidden forms.
#
# Using an existing build: TDF_BUILD_DIR_PLAIN / _ASAN / _TSAN name a build
# directory to use as it is (not configured, not built): the CLI tests run the
# scripts against the build ctest runs in.
set -euo pipefail

TDF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TDF_CLANG=clang-14
TDF_PACKAGES=(cmake ninja-build gcc binutils clang-14 libclang-rt-14-dev python3)
TDF_CONFIGS="plain asan tsan"
# The libFuzzer options of every fuzzing run: scripts/fuzz.sh, bench/time_to_kill.sh, scripts/matrix.sh's fuzz column and the
# ClusterFuzzLite options file (.clusterfuzzlite/build.sh writes them as <target>.options). With them,
# TDF_SCHEDULE_TAIL=random (why both: scripts/fuzz.sh).
TDF_LIBFUZZER_OPTIONS=(-max_len=512 -len_control=0)

tdf_log() { printf '==TDF== %s\n' "$*" >&2; }

# tdf_usage_error MESSAGE: the message, the caller's usage line ($TDF_USAGE's
# first line), exit 2.
tdf_usage_error() {
    tdf_log "$*"
    printf 'usage: %s\n(--help for more)\n' "${TDF_USAGE%%$'\n'*}" >&2
    exit 2
}

# --help: the caller's whole usage text, exit 0.
tdf_help() {
    printf 'usage: %s\n' "$TDF_USAGE"
    exit 0
}

# tdf_need_value OPTION ARGC: an option that takes a value must have one.
tdf_need_value() { [ "$2" -ge 2 ] || tdf_usage_error "$1 needs a value"; }

# tdf_positive_int NAME VALUE: a decimal integer >= 1 (no sign, no leading 0).
tdf_positive_int() {
    [[ "$2" =~ ^[1-9][0-9]{0,8}$ ]] || tdf_usage_error "$1 must be a positive integer (1..999999999), not '$2'"
}

# tdf_set_project DIR: --project's value, checked before anything uses it
# (an unchecked `cd` that fails would leave TDF_PROJECT empty: /corpus).
TDF_PROJECT=$TDF_ROOT
tdf_set_project() {
    local dir=$1
    [ -n "$dir" ] || tdf_usage_error "--project needs a directory (got an empty value)"
    [ -e "$dir" ] || tdf_usage_error "--project $dir: no such directory"
    [ -d "$dir" ] || tdf_usage_error "--project $dir: not a directory"
    [ -f "$dir/CMakeLists.txt" ] || tdf_usage_error "--project $dir: no CMakeLists.txt there (not a project, docs/WRITING-A-TARGET.md)"
    TDF_PROJECT=$(cd "$dir" && pwd) || tdf_usage_error "--project $dir: cannot enter it"
}

# tdf_check_config NAME: one of plain | asan | tsan.
tdf_check_config() {
    case " $TDF_CONFIGS " in
        *" $1 "*) ;;
        *) tdf_usage_error "unknown build '$1' (builds: ${TDF_CONFIGS// / | })" ;;
    esac
}

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

# The override variable of a configuration: TDF_BUILD_DIR_ASAN for asan.
_tdf_override() { local v="TDF_BUILD_DIR_${1^^}"; printf '%s' "${!v:-}"; }

# tdf_configure CONFIG: configures PROJECT/build/CONFIG if it is not yet (fast
# once done) and prints the directory. Its tdf_targets.txt lists the targets,
# so a target name can be checked before the (slow) build.
tdf_configure() {
    local config=$1 src=$TDF_PROJECT over
    over=$(_tdf_override "$config")
    if [ -n "$over" ]; then
        [ -f "$over/tdf_targets.txt" ] || { tdf_log "TDF_BUILD_DIR_${config^^}=$over is not a configured build"; return 1; }
        echo "$over"
        return 0
    fi
    local dir="$src/build/$config"
    local args=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTDF_DIR="$TDF_ROOT")
    case "$config" in
        plain) args+=(-DCMAKE_C_COMPILER=gcc -DTDF_SANITIZER=none) ;;
        asan) args+=(-DCMAKE_C_COMPILER=$TDF_CLANG -DTDF_SANITIZER=asan -DTDF_LIBFUZZER=ON) ;;
        tsan) args+=(-DCMAKE_C_COMPILER=$TDF_CLANG -DTDF_SANITIZER=tsan) ;;
        # libFuzzer without ASan/UBSan (coverage only): several times the execs/s of
        # asan; its crashes are confirmed in asan (scripts/fuzz.sh --build fuzz). Not
        # one of TDF_CONFIGS: no tests of its own (test.sh builds those three).
        fuzz) args+=(-DCMAKE_C_COMPILER=$TDF_CLANG -DTDF_SANITIZER=none -DTDF_LIBFUZZER=ON -DTDF_BUILD_TESTS=OFF) ;;
        *) tdf_log "unknown build '$config' (builds: ${TDF_CONFIGS// / | })"; return 2 ;;
    esac
    # Output goes to stderr: callers capture stdout (the directory).
    if [ ! -f "$dir/build.ninja" ] || [ ! -f "$dir/tdf_targets.txt" ]; then
        cmake -S "$src" -B "$dir" "${args[@]}" >/dev/null || { tdf_log "cmake configure of $dir failed"; return 1; }
    else
        # An existing build re-runs CMake only if a CMakeLists.txt changed (ninja's
        # regeneration rule): a target added since then is in tdf_targets.txt.
        ninja -C "$dir" build.ninja >/dev/null 2>&1 ||
            cmake -S "$src" -B "$dir" "${args[@]}" >/dev/null || { tdf_log "cmake configure of $dir failed"; return 1; }
    fi
    echo "$dir"
}

# tdf_build CONFIG: configures and builds PROJECT/build/CONFIG, prints it.
tdf_build() {
    local dir
    dir=$(tdf_configure "$1") || return $?
    [ -n "$(_tdf_override "$1")" ] && { echo "$dir"; return 0; }
    ninja -C "$dir" >/dev/null 2>&1 || { ninja -C "$dir" >&2; tdf_log "build of $dir failed"; return 1; }
    echo "$dir"
}

# Targets of a build: the list CMake wrote (target name = binary = corpus dir).
tdf_targets() { cat "$1/tdf_targets.txt"; }

# tdf_check_target BUILD TARGET: exit 2 with the list unless TARGET is one.
tdf_check_target() {
    local t
    for t in $(tdf_targets "$1"); do [ "$t" = "$2" ] && return 0; done
    tdf_log "unknown target '$2'; targets: $(tdf_targets "$1" | tr '\n' ' ')"
    exit 2
}

# tdf_variants RUNNER: the variant names, first = the correct protocol. The
# runner reads TDF_VARIANT itself: unset it, or a bad value fails the listing.
tdf_variants() {
    local out
    out=$(env -u TDF_VARIANT "$1" --list) || { tdf_log "$1 --list failed"; return 1; }
    awk -F'\t' '{ split($1, w, " "); print w[2] }' <<<"$out"
}

# tdf_check_variant RUNNER VARIANT: exit 2 with the list unless VARIANT is one.
tdf_check_variant() {
    local all
    all=$(tdf_variants "$1") || exit 1
    [ -n "$2" ] || tdf_usage_error "empty variant name; variants: $(tr '\n' ' ' <<<"$all")"
    grep -qxF -- "$2" <<<"$all" && return 0
    tdf_log "unknown variant '$2' of ${1##*/}; variants: $(tr '\n' ' ' <<<"$all")"
    exit 2
}

# tdf_default_variant RUNNER: the target's first variant, its correct protocol.
tdf_default_variant() {
    local all
    all=$(tdf_variants "$1") || return 1
    printf '%s\n' "${all%%$'\n'*}"
}
