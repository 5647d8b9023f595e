#!/usr/bin/env bash
# tests/cli/run.sh GROUP BUILD_DIR: the scripts' user path (issue 9 items 1-5,
# 11 and 14's replay checks). Each case runs a script with one bad (or good)
# argument or input and checks its exit code and a piece of its message.
#   scripts  usage, --help, --project, targets, variants, inputs, the pipeline
#            audit (every build)
#   replay   scripts/ctest_replay.sh on planted faults: tests/cli/fake_runner.sh
#   fuzz     scripts/fuzz.sh runs: 50 in a row exit 0 (SIGPIPE), a found crash's
#            reproduce command, a clean working tree (asan build with libFuzzer)
# BUILD_DIR is the build ctest runs in: TDF_BUILD_DIR_PLAIN/_ASAN/_TSAN all
# point at it, so no script configures or builds anything from inside ctest.
# TDF_CLI_ROOT runs the cases against another tree's scripts (e.g. an older
# commit's, to see the cases fail there; TDF_CLI_TIMEOUT caps each case, default
# 300 s, for old scripts that fuzz without end). Ends with "N passed, M failed".
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: tests/cli/run.sh scripts|replay|fuzz BUILD_DIR" >&2; exit 2; }
group=$1 bindir=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=${TDF_CLI_ROOT:-$(cd "$here/../.." && pwd)}
S=$root/scripts
export TDF_BUILD_DIR_PLAIN=$bindir TDF_BUILD_DIR_ASAN=$bindir TDF_BUILD_DIR_TSAN=$bindir
unset TDF_VARIANT TDF_REPRO_ALLOW_SANITIZER
work=$(mktemp -d)
trap 'chmod -R u+rwx "$work"; rm -rf "$work"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/../cli_check.sh" # pass/fail, ok, bad, check

target=fuzz_bus_child
repro=$root/repro/$target/flag_check.txt
seed=$(ls "$root/corpus/$target" | sed -n 1p)
seed=$root/corpus/$target/$seed

case "$group" in
scripts)
    # --- item 1: no pipeline whose reader stops early (SIGPIPE under pipefail)
    audit=$(grep -nE '(^|[^|])\|[[:space:]]*(head|grep[[:space:]]+(-[A-Za-z]*[qm]|--quiet|--max-count))' \
        "$S"/*.sh "$root"/bench/*.sh | grep -vE '^[^:]+:[0-9]+:[[:space:]]*#')
    if [ -z "$audit" ]; then ok; else bad "pipeline_audit: readers that stop early:"; sed 's/^/    /' <<<"$audit"; fi

    # --- item 2: --project values, never the machine's root
    : >"$work/a_file"
    mkdir -p "$work/empty_dir"
    root_before=$(ls -d /corpus /artifacts 2>/dev/null)
    for s in fuzz.sh repro.sh make_repro.sh; do
        rest=()
        [ $s = repro.sh ] && rest=($target "$repro")
        [ $s = make_repro.sh ] && rest=($target flag_check "$repro")
        [ $s = fuzz.sh ] && rest=($target 1)
        check "$s project_no_value" 2 "--project needs a value" "$S/$s" --project
        check "$s project_empty" 2 "--project needs a directory" "$S/$s" --project "" "${rest[@]}"
        check "$s project_missing" 2 "--project /nonexistent-a1: no such directory" "$S/$s" --project /nonexistent-a1 "${rest[@]}"
        check "$s project_file" 2 "not a directory" "$S/$s" --project "$work/a_file" "${rest[@]}"
        check "$s project_not_a_project" 2 "no CMakeLists.txt" "$S/$s" --project "$work/empty_dir" "${rest[@]}"
    done
    if [ "$(ls -d /corpus /artifacts 2>/dev/null)" = "$root_before" ]; then ok; else bad "project: /corpus or /artifacts appeared"; fi

    # --- item 3: --help, usage errors
    for s in fuzz.sh repro.sh make_repro.sh test.sh ctest_replay.sh; do
        check "$s --help" 0 "usage: " "$S/$s" --help
        check "$s -h" 0 "usage: " "$S/$s" -h
    done
    check "fuzz.sh unknown_option" 2 "unknown option '--bogus'" "$S/fuzz.sh" --bogus
    check "fuzz.sh extra_argument" 2 "too many arguments: 'extra'" "$S/fuzz.sh" $target 1 extra
    for v in abc 0 -5 1.5 00 ""; do
        check "fuzz.sh seconds '$v'" 2 "SECONDS must be a positive integer" "$S/fuzz.sh" $target "$v"
    done
    check "fuzz.sh usage_line" 2 "usage: scripts/fuzz.sh" "$S/fuzz.sh" $target abc
    check "fuzz.sh help_not_a_target" 0 "TARGET" "$S/fuzz.sh" --help
    check "fuzz.sh list_extra" 2 "--list takes no arguments" "$S/fuzz.sh" --list $target
    check "fuzz.sh unknown_target" 2 "unknown target 'nosuch'; targets: $target" "$S/fuzz.sh" nosuch 1
    check "fuzz.sh unknown_variant" 2 "unknown variant 'nosuch' of ${target}_run; variants: correct no_rundown" \
        env TDF_VARIANT=nosuch "$S/fuzz.sh" $target 1
    check "fuzz.sh corpus_is_file" 2 "--corpus $work/a_file: not a directory" "$S/fuzz.sh" --corpus "$work/a_file" $target 1
    check "fuzz.sh corpus_no_value" 2 "--corpus needs a value" "$S/fuzz.sh" --corpus
    check "fuzz.sh bad_build" 2 "--build asan|fuzz, not 'tsan'" "$S/fuzz.sh" --build tsan $target 1
    check "time_to_kill.sh bad_feedback" 2 "--feedback on|off|both, not 'x'" "$root/bench/time_to_kill.sh" --feedback x
    check "time_to_kill.sh bad_seeds" 2 "SEEDS must be a positive integer" "$root/bench/time_to_kill.sh" $target 0
    check "time_to_kill.sh unknown_option" 2 "unknown option '--bogus'" "$root/bench/time_to_kill.sh" --bogus
    check "time_to_kill.sh no_fuzzer" 2 "no libFuzzer binary $work/fuzz_bus_child" "$root/bench/time_to_kill.sh" --bin "$work" $target 1 1
    check "ab_execs.sh one_dir" 2 "need BASE_BIN and NEW_BIN (got 1 arguments)" "$root/bench/ab_execs.sh" "$work"
    check "ab_execs.sh bad_rounds" 2 "--rounds '0' is not a positive integer" "$root/bench/ab_execs.sh" --rounds 0 a b
    check "ab_execs.sh no_runner" 2 "$work has no *_run runner" "$root/bench/ab_execs.sh" "$work" "$work"
    check "repro.sh no_arguments" 2 "TARGET and INPUT are required" "$S/repro.sh"
    check "repro.sh one_argument" 2 "usage: scripts/repro.sh" "$S/repro.sh" $target
    check "repro.sh extra_argument" 2 "too many arguments: 'extra'" "$S/repro.sh" $target "$repro" extra
    check "repro.sh unknown_option" 2 "unknown option '--bogus'" "$S/repro.sh" $target "$repro" --bogus
    check "repro.sh unknown_build" 2 "unknown build 'debug' (builds: plain | asan | tsan)" "$S/repro.sh" $target "$repro" --build debug
    check "repro.sh build_no_value" 2 "--build needs a value" "$S/repro.sh" $target "$repro" --build
    check "repro.sh variant_no_value" 2 "--variant needs a value" "$S/repro.sh" $target "$repro" --variant
    check "repro.sh unknown_variant" 2 "unknown variant 'nosuch' of ${target}_run; variants: correct" "$S/repro.sh" $target "$repro" --variant nosuch
    check "repro.sh env_unknown_variant" 2 "unknown variant 'nosuch'" env TDF_VARIANT=nosuch "$S/repro.sh" $target "$repro"
    # --html FILE: checked before anything is built or run; exit 2, no page and no file left behind
    check "repro.sh html_no_value" 2 "--html needs a value" "$S/repro.sh" $target "$repro" --html
    check "repro.sh html_empty" 2 "--html needs a file path" "$S/repro.sh" $target "$repro" --html=
    check "repro.sh html_value_is_option" 2 "--html needs a file path, not the option '--build'" "$S/repro.sh" $target "$repro" --html --build plain
    check "repro.sh html_directory" 2 "--html $work: is a directory, not a file" "$S/repro.sh" $target "$repro" --html "$work"
    check "repro.sh html_no_directory" 2 "--html $work/nosuch/t.html: no such directory '$work/nosuch'" "$S/repro.sh" $target "$repro" --html "$work/nosuch/t.html"
    mkdir -p "$work/ro" && chmod 555 "$work/ro"
    if [ "$(id -u)" -ne 0 ]; then
        check "repro.sh html_unwritable" 2 "--html $work/ro/t.html: cannot write it" "$S/repro.sh" $target "$repro" --html "$work/ro/t.html"
    else # root writes into a mode-555 directory: /proc takes no new file from anybody
        check "repro.sh html_unwritable" 2 "--html /proc/tdf-t.html: cannot write it" "$S/repro.sh" $target "$repro" --html /proc/tdf-t.html
    fi
    check "repro.sh html_unknown_variant" 2 "unknown variant 'nosuch'" "$S/repro.sh" $target "$repro" --variant nosuch --html "$work/v.html"
    if [ -e "$work/v.html" ]; then bad "repro.sh html_refused_leaves_no_file: $work/v.html exists"; else ok; fi
    check "repro.sh html_writes" 11 "timeline written to $work/p.html" "$S/repro.sh" $target "$repro" --html "$work/p.html"
    if grep -qF 'id="trace-data"' "$work/p.html" 2>/dev/null && ! grep -qiE '(src|href)="(https?:)?//' "$work/p.html"; then ok
    else bad "repro.sh html_page: $work/p.html has no embedded trace, or names a network resource"; fi
    check "make_repro.sh no_arguments" 2 "TARGET, VARIANT and CRASH_INPUT are required" "$S/make_repro.sh"
    check "make_repro.sh extra_argument" 2 "too many arguments: 'extra'" "$S/make_repro.sh" $target flag_check "$repro" name extra
    check "make_repro.sh unknown_option" 2 "unknown option '--bogus'" "$S/make_repro.sh" --bogus $target flag_check "$repro"
    check "make_repro.sh bad_name" 2 "NAME '../x'" "$S/make_repro.sh" $target flag_check "$repro" ../x
    check "test.sh extra_argument" 2 "unexpected argument 'plain'" "$S/test.sh" plain
    check "ctest_replay.sh no_arguments" 2 "expected 3 arguments, got 0" "$S/ctest_replay.sh"
    check "ctest_replay.sh unknown_mode" 2 "unknown mode 'bogus'" "$S/ctest_replay.sh" bogus "$bindir/bin/${target}_run" "$root/corpus/$target"
    check "ctest_replay.sh runner_missing" 2 "is not an executable file" "$S/ctest_replay.sh" corpus "$work/nosuch_run" "$root/corpus/$target"

    # --- item 5: inputs that are not files, unknown targets (no shell error 127)
    check "repro.sh input_directory" 2 "is a directory, not an input file" "$S/repro.sh" $target "$root/repro/$target"
    check "repro.sh input_missing" 2 "$work/nosuch.txt: no such file" "$S/repro.sh" $target "$work/nosuch.txt"
    check "repro.sh unknown_target" 2 "unknown target 'nosuch'; targets: $target" "$S/repro.sh" nosuch "$repro"
    # The file's own expectation: in the TSan build its expect-tsan race.
    want_sig=$(sed -n 's/^# expect-signature //p' "$repro") want_rc=11
    if grep -qa __tsan_init "$bindir/bin/${target}_run"; then
        t=$(sed -n 's/^# expect-tsan //p' "$repro")
        [ -z "$t" ] || want_sig=$t want_rc=15
    fi
    check "repro.sh replays" $want_rc "==TDF== SIGNATURE $want_sig" "$S/repro.sh" $target "$repro" --variant flag_check
    check "make_repro.sh input_missing" 2 "$work/nosuch.bin: no such file" "$S/make_repro.sh" $target flag_check "$work/nosuch.bin"
    check "make_repro.sh input_directory" 2 "is a directory" "$S/make_repro.sh" $target flag_check "$root/repro/$target"
    if [ "$(id -u)" -ne 0 ]; then
        cp "$repro" "$work/unreadable.txt" && chmod 000 "$work/unreadable.txt"
        check "make_repro.sh input_unreadable" 2 "not readable" "$S/make_repro.sh" $target flag_check "$work/unreadable.txt"
    else
        echo "skipped make_repro.sh input_unreadable: root reads every file"
    fi
    check "make_repro.sh unknown_target" 2 "unknown target 'nosuch'" "$S/make_repro.sh" nosuch flag_check "$repro"
    check "make_repro.sh unknown_variant" 2 "unknown variant 'nosuch'" "$S/make_repro.sh" $target nosuch "$repro"
    check "make_repro.sh does_not_fail" 1 "does not fail on variant correct" "$S/make_repro.sh" $target correct "$seed"
    # bench/signatures.sh (docs/BENCHMARKS.md "Signatures per mutant"): arguments, and the table of a key file.
    B=$root/bench/signatures.sh
    check "signatures.sh no_mode" 2 "no mode given" "$B"
    check "signatures.sh unknown_mode" 2 "unknown mode 'bogus'" "$B" bogus
    check "signatures.sh unknown_option" 2 "unknown option '--bogus'" "$B" key --bogus
    check "signatures.sh key_without_bin" 2 "key needs --bin DIR" "$B" key --out "$work"
    check "signatures.sh bad_seconds" 2 "--seconds must be a positive integer, not '0'" "$B" fuzz --bin "$bindir/bin" --out "$work" --seconds 0
    check "signatures.sh mutants_not_fuzz" 2 "--mutants is an option of fuzz only" "$B" key --mutants flag_check
    check "signatures.sh unknown_mutant" 2 "--mutants: 'nosuch' is no mutant of fuzz_bus_child" \
        "$B" fuzz --bin "$bindir/bin" --out "$work" --targets fuzz_bus_child --mutants flag_check,nosuch
    check "signatures.sh table_missing" 2 "$work/nosuch.tsv: no such file" "$B" table "$work/nosuch.tsv"
    printf 't\ta\tc1\tS1\nt\ta\tc2\tS1\nt\tb\tc3\tS1\nt\tb\tc4\tS2\nt\tc\t(none)\t-\n' >"$work/keys.tsv"
    check "signatures.sh table" 0 "mutants: 3, with 1 signature: 1, with none: 1, signatures: 2, shared by 2+ mutants: 1" \
        "$B" table "$work/keys.tsv"
    # --refresh: re-records a repro file's expect-signature, nothing else (the SIGNATURE of the tree's build).
    check "make_repro.sh refresh_no_file" 2 "--refresh needs at least one REPRO_FILE" "$S/make_repro.sh" --refresh
    check "make_repro.sh refresh_missing" 2 "$work/nosuch.txt: no such file" "$S/make_repro.sh" --refresh "$work/nosuch.txt"
    check "make_repro.sh refresh_not_a_repro" 2 "no '# expect-variant' line" "$S/make_repro.sh" --refresh "$seed"
    sed 's/^# expect-signature .*/# expect-signature stale:sig:nature/' "$repro" >"$work/stale.txt"
    check "make_repro.sh refresh_rewrites" 0 "refreshed $work/stale.txt: stale:sig:nature -> $want_sig" \
        "$S/make_repro.sh" --refresh "$work/stale.txt"
    if diff <(grep -v '^# expect-signature' "$repro") <(grep -v '^# expect-signature' "$work/stale.txt") >/dev/null &&
        grep -qxF "# expect-signature $want_sig" "$work/stale.txt"; then ok; else
        bad "make_repro.sh refresh_rewrites: the file differs in more than its expect-signature line"; fi
    check "make_repro.sh refresh_unchanged" 0 "unchanged $work/stale.txt" "$S/make_repro.sh" --refresh "$work/stale.txt"

    # --- item 4: fuzz.sh replays what the fuzzer found and says if it does not
    # reproduce (a planted fuzzer/runner pair, tests/cli/fake_fuzzer.sh)
    fb=$work/fakebuild
    mkdir -p "$fb/bin"
    echo fake >"$fb/tdf_targets.txt"
    ln -s "$here/fake_fuzzer.sh" "$fb/bin/fake"
    ln -s "$here/fake_runner.sh" "$fb/bin/fake_run"
    psig='HARDWARE/NOT_IN_D0:child!Child_OnBusEvent:bus!Bus_NotifyChild'
    printf '# fake-signature %s\n# fake-exit 11\n' "$psig" >"$work/same.txt"
    printf '# fake-signature %s:other\n# fake-exit 11\n' "$psig" >"$work/other.txt"
    printf 'no failure here\n' >"$work/clean.txt"
    fz() { # fz NAME WANT_RC PATTERN INPUT
        check "fuzz.sh $1" "$2" "$3" env TDF_BUILD_DIR_ASAN="$fb" FAKE_FUZZ_SIGNATURE="$psig" FAKE_FUZZ_INPUT="$4" \
            "$S/fuzz.sh" --corpus "$work/fcorpus" --artifacts "$work/fart" fake 1
    }
    fz replay_reproduces 11 "==TDF== reproduces: the asan runner replays it as $psig (exit 11)" "$work/same.txt"
    fz reproduce_names_asan 11 " --build asan --variant correct" "$work/same.txt"
    fz replay_clean 1 "does NOT reproduce: the fuzzer saw '$psig', the asan runner gives 'no failure' (exit 0)" "$work/clean.txt"
    fz replay_other_signature 1 "the asan runner gives '$psig:other'" "$work/other.txt"
    # --build fuzz: found by the fuzz build, replayed there, confirmed in asan
    check "fuzz.sh build_fuzz_confirmed" 11 "==TDF== confirmed in asan: $psig (exit 11)" \
        env TDF_BUILD_DIR_ASAN="$fb" TDF_BUILD_DIR_FUZZ="$fb" FAKE_FUZZ_SIGNATURE="$psig" FAKE_FUZZ_INPUT="$work/same.txt" \
        "$S/fuzz.sh" --build fuzz --corpus "$work/fcorpus" --artifacts "$work/fart" fake 1
    ;;

replay)
    R=$S/ctest_replay.sh fake=$here/fake_runner.sh
    tree=$work/tree
    export TDF_REPLAY_BUILTIN_ROOT=$tree
    mkdir -p "$tree/corpus/fake" "$tree/corpus/empty" "$tree/repro/fake" "$tree/repro/empty" "$work/own/corpus/fake"
    for i in 1 2 3 4 5; do echo "input $i" >"$tree/corpus/fake/in$i"; done
    # replay_case NAME MODE FAKE_MODE DIR WANT_RC PATTERN [ENV...]
    rc_case() {
        local name=$1 mode=$2 fm=$3 dir=$4 want=$5 pattern=$6
        shift 6
        check "$name" "$want" "$pattern" env FAKE_MODE="$fm" "$@" "$R" "$mode" "$fake" "$dir"
    }
    # controls: a clean fake passes, so the failures below are the plants'
    rc_case corpus_ok corpus ok "$tree/corpus/fake" 0 "5 passed, 0 failed"
    rc_case determinism_ok determinism ok "$tree/corpus/fake" 0 "5 passed, 0 failed"
    # --- item 14, first bullet: crash, exit code, count of RESULT lines
    rc_case corpus_crash_midway corpus crash_midway "$tree/corpus/fake" 1 "3 passed, 3 failed"
    rc_case corpus_crash_first corpus crash_first "$tree/corpus/fake" 1 "0 passed, 6 failed"
    rc_case corpus_exit_nonzero corpus exit_nonzero "$tree/corpus/fake" 1 "the runner exited with 1"
    rc_case corpus_missing_result corpus skip_one "$tree/corpus/fake" 1 "in2: no RESULT line"
    rc_case determinism_differs determinism differs "$tree/corpus/fake" 1 "DETERMINISM DIFFERS"
    rc_case determinism_missing_line determinism skip_one "$tree/corpus/fake" 1 "in2: no 'DETERMINISM OK' line"
    rc_case determinism_crash determinism crash_midway "$tree/corpus/fake" 1 "failed"
    # --- second bullet: empty or missing folders of a built-in target fail
    rc_case corpus_empty_builtin corpus ok "$tree/corpus/empty" 1 "no inputs in $tree/corpus/empty"
    rc_case corpus_missing_builtin corpus ok "$tree/corpus/renamed" 1 "does not exist"
    rc_case repro_empty_builtin repro ok "$tree/repro/empty" 1 "a built-in target needs"
    rc_case determinism_missing_builtin determinism ok "$tree/corpus/renamed" 1 "does not exist"
    rc_case corpus_empty_own_project corpus ok "$work/own/corpus/fake" 77 "skipped until it has inputs"
    # --- third bullet: whole signature, class exit code, expect lines, TSan
    mk() { # mk NAME LINES...: a repro file in the fake tree
        local f=$tree/repro/$1
        shift
        mkdir -p "$(dirname "$f")"
        printf '%s\n' "$@" >"$f"
        echo "$(dirname "$f")"
    }
    sig='HARDWARE/NOT_IN_D0:child!Child_OnBusEvent:bus!Bus_NotifyChild'
    race='SANITIZER/data-race:bus!Bus_NotifyChild:thread:bus'
    d=$(mk good/a.txt "# expect-variant bug" "# expect-signature $sig" "# fake-signature $sig" "# fake-exit 11")
    rc_case repro_ok repro ok "$d" 0 "1 passed, 0 failed"
    d=$(mk prefix/a.txt "# expect-variant bug" "# expect-signature ${sig%:*}" "# fake-signature $sig" "# fake-exit 11")
    rc_case repro_signature_prefix repro ok "$d" 1 "expected signature '${sig%:*}', got '$sig'"
    d=$(mk longer/a.txt "# expect-variant bug" "# expect-signature $sig:extra" "# fake-signature $sig" "# fake-exit 11")
    rc_case repro_signature_longer repro ok "$d" 1 "got '$sig'"
    d=$(mk code/a.txt "# expect-variant bug" "# expect-signature $sig" "# fake-signature $sig" "# fake-exit 15")
    rc_case repro_wrong_exit repro ok "$d" 1 "but exit 15 (its class's code is 11)"
    d=$(mk code10/a.txt "# expect-variant bug" "# expect-signature 0xCE:a!F:thread:a" "# fake-signature 0xCE:a!F:thread:a" "# fake-exit 14")
    rc_case repro_bugcheck_wrong_exit repro ok "$d" 1 "its class's code is 10"
    d=$(mk nosig/a.txt "# expect-variant bug" "# fake-signature $sig" "# fake-exit 11")
    rc_case repro_no_signature_line repro ok "$d" 1 "needs one '# expect-variant V' and one '# expect-signature S'"
    d=$(mk novar/a.txt "# expect-signature $sig" "# fake-signature $sig" "# fake-exit 11")
    rc_case repro_no_variant_line repro ok "$d" 1 "needs one '# expect-variant V'"
    d=$(mk twice/a.txt "# expect-variant bug" "# expect-signature $sig" "# expect-signature $sig" "# fake-signature $sig" "# fake-exit 11")
    rc_case repro_signature_twice repro ok "$d" 1 "more than once"
    d=$(mk badvar/a.txt "# expect-variant nosuch" "# expect-signature $sig" "# fake-signature $sig" "# fake-exit 11")
    rc_case repro_unknown_variant repro ok "$d" 1 "expect-variant 'nosuch' is not a variant"
    d=$(mk nofail/a.txt "# expect-variant bug" "# expect-signature $sig")
    rc_case repro_no_failure repro ok "$d" 1 "got 'none'"
    d=$(mk notxt/a.bin "# expect-variant bug")
    rc_case repro_not_txt repro ok "$d" 1 "not a repro file"
    d=$(mk crash/a.txt "# expect-variant bug" "# expect-signature $sig" "# fake-signature $sig" "# fake-exit 11")
    rc_case repro_crash repro crash_first "$d" 1 "got 'none'"
    d=$(mk tsan_unsaid/a.txt "# expect-variant bug" "# expect-signature $sig" "# fake-signature $race" "# fake-exit 15")
    rc_case repro_tsan_report_unsaid repro ok "$d" 1 "if it is expected, the file says so" TDF_REPRO_ALLOW_SANITIZER=1
    d=$(mk tsan_said/a.txt "# expect-variant bug" "# expect-signature $sig" "# expect-tsan $race" "# fake-signature $race" "# fake-exit 15")
    rc_case repro_tsan_report_said repro ok "$d" 0 "1 passed, 0 failed" TDF_REPRO_ALLOW_SANITIZER=1
    rc_case repro_tsan_line_outside_tsan repro ok "$d" 1 "expected signature '$sig'"
    d=$(mk tsan_other/a.txt "# expect-variant bug" "# expect-signature $sig" "# expect-tsan $race" "# fake-signature ${race}x" "# fake-exit 15")
    rc_case repro_tsan_other_race repro ok "$d" 1 "expected signature '$race'" TDF_REPRO_ALLOW_SANITIZER=1
    d=$(mk tsan_nondet/a.txt "# expect-variant bug" "# expect-signature $sig" "# expect-tsan $race" "# fake-signature $race" "# fake-exit 15")
    rc_case repro_tsan_nondeterministic repro nondet "$d" 1 "not deterministic" TDF_REPRO_ALLOW_SANITIZER=1
    # A race only TSan sees: NONE outside TSan, its race in TSan; NONE alone is no repro.
    d=$(mk tsan_only/a.txt "# expect-variant bug" "# expect-signature NONE" "# expect-tsan $race")
    rc_case repro_tsan_only_clean_outside_tsan repro ok "$d" 0 "1 passed, 0 failed"
    rc_case repro_tsan_only_clean_in_tsan repro ok "$d" 1 "expected signature '$race', got 'none'" TDF_REPRO_ALLOW_SANITIZER=1
    d=$(mk tsan_only_race/a.txt "# expect-variant bug" "# expect-signature NONE" "# expect-tsan $race" "# fake-signature $race" "# fake-exit 15")
    rc_case repro_tsan_only_race_in_tsan repro ok "$d" 0 "1 passed, 0 failed" TDF_REPRO_ALLOW_SANITIZER=1
    rc_case repro_tsan_only_race_outside_tsan repro ok "$d" 1 "expected signature 'NONE', got '$race'"
    d=$(mk none_alone/a.txt "# expect-variant bug" "# expect-signature NONE")
    rc_case repro_none_without_tsan repro ok "$d" 1 "expect-signature NONE needs an expect-tsan line"
    ;;

fuzz)
    [ -x "$bindir/bin/$target" ] || { echo "no libFuzzer binary in $bindir: group fuzz needs the asan build"; exit 2; }
    # --- item 1: the README's command, 50 times (it died of SIGPIPE about half the time)
    n0=0
    for i in $(seq 50); do
        "$S/fuzz.sh" --corpus "$work/run" --artifacts "$work/art" $target 1 >"$work/log" 2>&1 && n0=$((n0 + 1))
    done
    if [ $n0 -eq 50 ]; then ok; else bad "fuzz_50_times: $n0 of 50 exited 0"; sed -n '1,6s/^/    /p' "$work/log"; fi
    echo "fuzz.sh $target 1: $n0 of 50 exited 0"
    check "fuzz.sh empty_TDF_VARIANT" 0 "no failure found in 1s" env TDF_VARIANT= "$S/fuzz.sh" --corpus "$work/run" --artifacts "$work/art" $target 1
    # --- item 4: a found crash's reproduce command names the build and reproduces
    out=$(TDF_VARIANT=flag_check timeout 300 "$S/fuzz.sh" --corpus "$work/run4" --artifacts "$work/art4" $target 120 2>&1)
    rc=$?
    cmd=$(sed -n 's/^reproduce:  //p' <<<"$out")
    cmd=${cmd%%$'\n'*}
    if [ $rc -eq 11 ]; then ok; else bad "fuzz_crash: exit $rc (want 11, HARDWARE)"; fi
    if [[ "$cmd" == *" --build asan "* ]]; then ok; else bad "fuzz_crash: the reproduce command does not name the asan build: '$cmd'"; fi
    if [[ "$out" == *"==TDF== reproduces: the asan runner replays it as HARDWARE/"* ]]; then ok; else bad "fuzz_crash: fuzz.sh did not check the replay"; fi
    if [ -n "$cmd" ]; then
        check "fuzz_crash printed_command" 11 "class=HARDWARE" bash -c "$cmd"
    else
        bad "fuzz_crash: no reproduce line"; sed -n '1,6s/^/    /p' <<<"$out"
    fi
    # --- TDF_FRESH_INPUTS and TDF_RESCHEDULE_INPUTS (fuzz/fuzz_main.c's custom mutator): a bad value
    # is a usage error; 1 (every mutation of that kind) and 0 (never) both run. Rescheduling a text
    # entry (the committed corpus is text) converts it: the seeded run must take it too.
    for var in TDF_FRESH_INPUTS TDF_RESCHEDULE_INPUTS; do
        check "$var bad" 2 "$var='x1': expected a number" env $var=x1 "$bindir/bin/$target" -runs=10 "$work/empty_fresh"
        check "$var negative" 2 "$var='-1': expected a number" env $var=-1 "$bindir/bin/$target" -runs=10 "$work/empty_fresh"
        for f in 0 1; do
            mkdir -p "$work/$var$f"
            check "$var=$f runs" 0 "Done 300 runs" env $var=$f TDF_VARIANT=correct \
                "$bindir/bin/$target" -runs=300 -seed=1 -max_len=512 "$work/$var$f"
        done
    done
    # --- TDF_SCHEDULE_TAIL: pct[:DEPTH[:K]] beside random and none; the runner replays with input+TAIL
    for bad_tail in pct:9 pct:0 pct:3:0 pct:3:x pct: bogus; do
        check "TDF_SCHEDULE_TAIL=$bad_tail" 2 "TDF_SCHEDULE_TAIL='$bad_tail': expected random, pct" \
            env TDF_SCHEDULE_TAIL=$bad_tail "$bindir/bin/$target" -runs=1 "$work/empty_fresh"
        check "runner input+$bad_tail" 2 "expected input+random or input+pct" \
            "$bindir/bin/${target}_run" --schedule=input+$bad_tail "$seed"
    done
    check "runner input+none" 2 "expected input+random or input+pct" "$bindir/bin/${target}_run" --schedule=input+none "$seed"
    mkdir -p "$work/pct_tail"
    check "TDF_SCHEDULE_TAIL=pct:3:50 runs" 0 "Done 300 runs" env TDF_SCHEDULE_TAIL=pct:3:50 TDF_VARIANT=correct \
        "$bindir/bin/$target" -runs=300 -seed=1 -max_len=512 "$work/pct_tail"
    a=$("$bindir/bin/${target}_run" --schedule=input+pct:3:50 --variant=flag_check --print_trace "$seed" 2>&1)
    b=$("$bindir/bin/${target}_run" --schedule=input+pct:3:50 --variant=flag_check --print_trace "$seed" 2>&1)
    c=$("$bindir/bin/${target}_run" --schedule=input+random --variant=flag_check --print_trace "$seed" 2>&1)
    if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$c" ]; then ok; else bad "input+pct:3:50: two runs differ, or the same as input+random"; fi
    check "fuzz.sh bad TDF_SCHEDULE_TAIL" 2 "TDF_SCHEDULE_TAIL=random|pct[:DEPTH[:K]]|none, not 'pct:9'" \
        env TDF_SCHEDULE_TAIL=pct:9 "$S/fuzz.sh" $target 1
    check "fuzz.sh pct tail: found, replayed with input+pct" 10 "==TDF== reproduces: the asan runner replays it as" \
        env TDF_VARIANT=thread_not_waited TDF_SCHEDULE_TAIL=pct:3:50 "$S/fuzz.sh" --corpus "$work/run_pct" \
        --artifacts "$work/art_pct" $target 60
    mkdir -p "$work/resched_text"
    ls "$root/corpus/$target" | sed -n 1,5p | while read -r f; do cp "$root/corpus/$target/$f" "$work/resched_text/"; done
    check "TDF_RESCHEDULE_INPUTS=1 on the text corpus" 0 "Done 300 runs" env TDF_FRESH_INPUTS=0 TDF_RESCHEDULE_INPUTS=1 \
        TDF_VARIANT=correct "$bindir/bin/$target" -runs=300 -seed=1 -max_len=512 "$work/resched_text"
    # --- item 11: the committed corpus is only read; the tree stays clean
    state() {
        ls -la "$root/corpus/$target" | md5sum
        if git -C "$root" rev-parse 2>/dev/null; then
            git -C "$root" status --porcelain --untracked-files=all -- corpus artifacts work
        fi
    }
    before=$(state)
    check "fuzz.sh default_run_corpus" 0 "run corpus $root/work/corpus/$target" "$S/fuzz.sh" --artifacts "$work/art" $target 2
    after=$(state)
    if [ "$before" = "$after" ]; then ok; else bad "fuzz_tree_clean: corpus/ or git status changed:"; diff <(echo "$before") <(echo "$after") | sed 's/^/    /'; fi
    if [ -n "$(ls "$root/work/corpus/$target")" ]; then ok; else bad "fuzz_tree_clean: run corpus not seeded"; fi
    ;;
*) echo "unknown group '$group' (scripts | replay | fuzz)" >&2; exit 2 ;;
esac
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
