#!/usr/bin/env bash
# tests/cli_runner/run.sh RUNNER ROOT: the standalone runner's command line and
# input checks (issue 9 items 5, 6, 7, 10 and the runner half of 4). Each case
# runs RUNNER with one bad (or good) flag or input and checks the exit code
# and a piece of the message. Uses fuzz_bus_child's runner and its repro file.
# Ends with "N passed, M failed"; exits 0 only if M == 0.
set -uo pipefail
runner=$1 root=$2
repro=$root/repro/fuzz_bus_child/flag_check.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0

# check NAME WANT_RC PATTERN CMD...: CMD's exit code is WANT_RC and its stdout+stderr contain PATTERN.
check() {
    local name=$1 want=$2 pattern=$3
    shift 3
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq "$want" ] && grep -qF -- "$pattern" <<<"$out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name: exit $rc (want $want), want '$pattern' in:"
        head -n 5 <<<"$out" | sed 's/^/    /'
    fi
}
# Like check, and the output has no byte outside printable ASCII, tab and newline.
check_clean() {
    check "$@"
    local name=$1
    shift 3
    if "$@" 2>&1 | LC_ALL=C grep -q '[^[:print:][:space:]]'; then
        fail=$((fail + 1))
        echo "FAIL $name: raw control or non-ASCII bytes in the output"
    fi
}
text() { printf '# teardown-fuzz input\ntarget fuzz_bus_child\n'; printf "$@"; }

# --- item 5: flags
text 'event remove 0\n' >"$work/plain.txt"
check variant_space_form 14 "RESULT $work/plain.txt variant=flag_check class=HANG" "$runner" --variant flag_check --quiet --step_cap=5 "$work/plain.txt"
check variant_bad 2 "unknown variant 'nosuch'" "$runner" --variant=nosuch "$repro"
check variant_env_bad 2 "unknown variant 'nosuch'" env TDF_VARIANT=nosuch "$runner" "$repro"
check variant_env_bad_overridden 0 "class=NONE" env TDF_VARIANT=nosuch "$runner" --variant=correct "$repro"
check variant_missing_value 2 "--variant needs a value" "$runner" --variant
check variant_value_is_flag 2 "--variant needs a value" "$runner" --variant --quiet "$repro"
check step_cap_abc 2 "--step_cap=abc: expected a whole number in 1..4294967295" "$runner" --step_cap=abc "$repro"
check step_cap_zero 2 "--step_cap=0: expected a whole number in 1..4294967295" "$runner" --step_cap=0 "$repro"
check step_cap_trailing 2 "--step_cap=12x: expected a whole number" "$runner" --step_cap 12x "$repro"
check step_cap_too_big 2 "--step_cap=4294967296: expected" "$runner" --step_cap=4294967296 "$repro"
check step_cap_space_form 14 "class=HANG" "$runner" --variant=correct --quiet --step_cap 5 "$repro"
check seed_x 2 "--seed=x: expected a whole number in 0..9223372036854775807" "$runner" --random_inputs=1 --seed=x
check random_inputs_negative 2 "--random_inputs=-1: expected a whole number in 1..1000000000" "$runner" --random_inputs=-1
check random_inputs_hex 2 "--random_inputs=0x10: expected" "$runner" --random_inputs=0x10
check random_inputs_ok 0 "==TDF== RANDOM 5 inputs, seed 3" "$runner" --random_inputs=5 --seed=3
check random_inputs_with_input 2 "--random_inputs takes no INPUT arguments" "$runner" --random_inputs=5 "$repro"
check random_inputs_with_trace 2 "--print_trace has no effect with --random_inputs" "$runner" --random_inputs=5 --print_trace
check random_inputs_with_step_cap 0 "HANG=5" "$runner" --random_inputs=5 --step_cap 1
check seed_without_random 2 "--seed is used with --random_inputs and --hunt only" "$runner" --seed=3 "$repro"
check bool_with_value 2 "--quiet takes no value (got '1')" "$runner" --quiet=1 "$repro"
check bool_with_value_list 2 "--list takes no value (got 'abc')" "$runner" --list=abc
check unknown_flag 2 "unknown flag --bogus" "$runner" --bogus "$repro"
check single_dash 2 "unknown flag -x: flags start with --" "$runner" -x "$repro"
check list_with_input 2 "--list takes no INPUT arguments" "$runner" --list "$repro"
check out_without_from_text 2 "--out is the output of --from_text only" "$runner" --out=x "$repro"
check from_text_without_out 2 "--from_text needs --out=PATH" "$runner" --from_text="$repro"
check to_text_with_trace 2 "--trace has no effect with --to_text" "$runner" --to_text --trace "$repro"
check two_modes 2 "exclude each other" "$runner" --to_text --to_binary="$work/b" "$repro"
check no_input 2 "no INPUT given" "$runner"
check help 0 "3 an input's expect-signature not met" "$runner" --help
for s in random:abc random: random:-1 random:18446744073709551616 random:1x pct:1:0 pct:1:9 pct:1:2x pct: pct:x bogus; do
    check "schedule_$s" 2 "--schedule '$s'" "$runner" --schedule="$s" "$repro"
done
check schedule_pct_ok 0 "RESULT" "$runner" --variant=correct --schedule pct:7:2 "$repro"

# --- item 5: inputs that are not files
check input_directory 2 "is a directory: give the files in it" "$runner" "$root/repro/fuzz_bus_child"
check to_text_directory 2 "is a directory" "$runner" --to_text "$root/repro/fuzz_bus_child"
check to_binary_directory 2 "is a directory" "$runner" --to_binary="$work/b" "$root/repro"
check input_missing 2 "cannot open input $work/nosuch: No such file or directory" "$runner" "$work/nosuch"
check good_then_missing 2 "cannot open input" "$runner" "$repro" "$work/nosuch"
if "$runner" "$repro" "$work/nosuch" 2>/dev/null | grep -q RESULT; then
    fail=$((fail + 1)); echo "FAIL good_then_missing: ran the good input before refusing"
else pass=$((pass + 1)); fi
printf 'x' >"$work/unreadable" && chmod 000 "$work/unreadable"
if [ -r "$work/unreadable" ]; then
    echo "skip input_unreadable: running as root, permissions do not apply"
else
    check input_unreadable 2 "cannot open input $work/unreadable: Permission denied" "$runner" "$work/unreadable"
fi
# Unreadable for root too: reading /proc/self/mem at offset 0 fails with EIO.
check input_read_error 2 "cannot read input /proc/self/mem: Input/output error" "$runner" /proc/self/mem
head -c $((1048576 + 1)) /dev/zero >"$work/huge.bin"
check binary_over_limit 2 "is larger than the runner's limit of 1048576 bytes" "$runner" "$work/huge.bin"
{ printf '\x00\x00'; head -c 5000 /dev/zero; } >"$work/longsched.bin"
check to_text_schedule_over_limit 2 "over the text form's limit of 4096 schedule bytes" "$runner" --to_text "$work/longsched.bin"
printf '\x01\x02\x03' >"$work/b.bin"
check from_text_binary 2 "is not in text form" "$runner" --from_text="$work/b.bin" --out="$work/o"

# --- item 6 and the runner half of item 4: expectations. The failing runs
# here are step-cap hangs (HANG/STEP_CAP after 5 steps), so they fail the
# same way in every build, TSan included (a race report would end the
# process before the comparison).
hang='HANG/STEP_CAP:model:threads'
text '# expect-variant flag_check\nevent bus_notify 0\nevent remove 0\n' >"$work/names_variant.txt"
check expect_variant_selects 14 "variant=flag_check class=HANG" "$runner" --quiet --step_cap=5 "$work/names_variant.txt"
check expect_variant_env 14 "TDF_VARIANT=correct not used for" env TDF_VARIANT=correct "$runner" --quiet --step_cap=5 "$work/names_variant.txt"
check expect_variant_overridden 0 "--variant=correct overrides it: its expectations do not apply" "$runner" --variant=correct "$repro"
text "# expect-signature $hang\nevent remove 0\n" >"$work/sig_met.txt"
check expect_signature_met 14 "SIGNATURE $hang" "$runner" --quiet --step_cap=5 "$work/sig_met.txt"
text '# expect-signature HANG/STEP_CAP:model:other\nevent remove 0\n' >"$work/wrong_sig.txt"
check expect_signature_mismatch 3 "==TDF== EXPECTATION FAILED expected HANG/STEP_CAP:model:other got $hang ($work/wrong_sig.txt line 3, variant correct)" "$runner" --quiet --step_cap=5 "$work/wrong_sig.txt"
text "# expect-signature $hang:extra\nevent remove 0\n" >"$work/longer_sig.txt"
check expect_signature_longer_fails 3 "EXPECTATION FAILED" "$runner" --quiet --step_cap=5 "$work/longer_sig.txt"
text '# expect-signature HANG/STEP_CAP\nevent remove 0\n' >"$work/short_sig.txt"
check expect_signature_start_is_not_enough 3 "EXPECTATION FAILED" "$runner" --quiet --step_cap=5 "$work/short_sig.txt"
check expect_signature_determinism 3 "EXPECTATION FAILED" "$runner" --determinism --step_cap=5 "$work/wrong_sig.txt"
check expect_signature_wins_over_class 3 "EXPECTATION FAILED" "$runner" --quiet --step_cap=5 "$work/sig_met.txt" "$work/wrong_sig.txt"
check expect_signature_clean_run 3 "got NONE (no failure)" "$runner" --quiet "$work/sig_met.txt"
check expect_signature_other_variant 14 "its expectations do not apply" "$runner" --variant=flag_check --step_cap=5 "$work/sig_met.txt"
text '# expect-signature NONE\nevent remove 0\n' >"$work/expect_none.txt"
check expect_none_met 0 "class=NONE" "$runner" "$work/expect_none.txt"
text '# expect-variant nosuch\n' >"$work/bad_variant.txt"
check expect_variant_unknown 2 "line 3: expect-variant 'nosuch' is not a variant of fuzz_bus_child" "$runner" "$work/bad_variant.txt"
text '# expect-sig X\n' >"$work/typo.txt"
check expectation_typo 2 "line 3: unknown expectation 'expect-sig'" "$runner" "$work/typo.txt"
text '# expect-signature A\n# expect-signature B\n' >"$work/twice.txt"
check expectation_twice 2 "line 4: a second expect-signature line (the first is line 3)" "$runner" "$work/twice.txt"

# --- item 7: the text form is strict
text 'event remove 4294967297\n' >"$work/t1.txt"
check text_event_wraps 2 "line 3: event remove argument 4294967297 out of range 0..255" "$runner" "$work/t1.txt"
text 'param children 4294967298\n' >"$work/t2.txt"
check text_param_wraps 2 "line 3: param children value 4294967298 out of range 1..4" "$runner" "$work/t2.txt"
text 'event remove 1\n\0event remove 2\n' >"$work/t3.txt"
check text_nul 2 "line 4: NUL byte at column 1" "$runner" "$work/t3.txt"
{ text '# '; head -c 16400 /dev/zero | tr '\0' a; printf '\n'; } >"$work/t4.txt"
check text_long_line 2 "line 3: line of 16402 characters, over the text form's limit of 16384" "$runner" "$work/t4.txt"
{ text 'schedule'; for i in $(seq 4097); do printf ' 0a'; done; printf '\n'; } >"$work/t5.txt"
check text_schedule_limit 2 "line 3: more than 4096 schedule bytes (the text form's limit)" "$runner" "$work/t5.txt"
{ text ''; head -c 1048576 /dev/zero | tr '\0' '\n'; } >"$work/t6.txt"
check text_file_limit 2 "the file is over the text form's limit of 1048576 bytes" "$runner" "$work/t6.txt"
printf '# teardown-fuzz input\ntarget\n' >"$work/t7.txt"
check text_bare_target 2 "line 2: expected 'target NAME' (one word)" "$runner" "$work/t7.txt"
text 'event remove 1 junk\n' >"$work/t8.txt"
check text_trailing_garbage 2 "line 3: expected 'event NAME ARG'" "$runner" "$work/t8.txt"
text 'param children 2x\n' >"$work/t9.txt"
check text_number_suffix 2 "line 3: param children value '2x' is not a decimal number" "$runner" "$work/t9.txt"
text '\033[31mred \033]0;title\007\n' >"$work/t10.txt"
check_clean text_escape_sequence 2 "line 3: control byte \\x1b at column 1" "$runner" "$work/t10.txt"
text '\377\376garbage\n' >"$work/t11.txt"
check_clean text_invalid_utf8 2 "line 3: byte \\xff at column 1 is not valid UTF-8" "$runner" "$work/t11.txt"
text 'bogus\xc3\xa9 1\n' >"$work/t12.txt"
check_clean text_utf8_word_escaped 2 "line 3: unknown keyword 'bogus\\xc3\\xa9'" "$runner" "$work/t12.txt"
printf 'format 2\ntarget fuzz_bus_child\n' >"$work/t13.txt"
check text_unknown_format 2 "line 1: format 2 is not known to this build (it reads format 1)" "$runner" "$work/t13.txt"
printf '# teardown-fuzz input\ntarget fuzz_toaster\n' >"$work/t14.txt"
check text_other_target 2 "line 2: input is for target 'fuzz_toaster', this is fuzz_bus_child" "$runner" "$work/t14.txt"
printf '# my own first line\nparam children 2\ntarget fuzz_bus_child\n' >"$work/t16.txt"
check text_free_first_comment 2 "line 2: 'param' before the 'target fuzz_bus_child' line" "$runner" "$work/t16.txt"
text 'schedule 0a 1ff\n' >"$work/t15.txt"
check text_schedule_byte 2 "line 3: schedule byte 2 '1ff' is not one or two hex digits" "$runner" "$work/t15.txt"

# --- item 10: --to_binary, the text form as the stored form
mkdir -p "$work/in"
cp "$repro" "$work/in/flag_check.txt"
check to_binary_writes 0 "" "$runner" --to_binary="$work/bin" "$work/in/flag_check.txt"
# The binary replays as the text does (whatever this build reports for it:
# a sanitizer report ends the run before the RESULT line).
replay() { "$runner" --variant=flag_check --quiet "$1" 2>&1 | sed -n 's/^==TDF== SIGNATURE //p; s/^==TDF== RESULT [^ ]* //p'; echo "exit ${PIPESTATUS[0]}"; }
a=$(replay "$repro") b=$(replay "$work/bin/flag_check")
if [ "$(wc -l <<<"$a")" -ge 2 ] && [ "$a" = "$b" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL to_binary_replays: '$a' vs '$b'"; fi
if cmp -s <("$runner" --to_text "$repro") <("$runner" --to_text "$work/bin/flag_check"); then
    pass=$((pass + 1))
else fail=$((fail + 1)); echo "FAIL to_binary_same_script: text and binary decode differently"; fi
check to_binary_bad_input 2 "line 3: event remove argument 4294967297" "$runner" --to_binary="$work/bin2" "$work/in/flag_check.txt" "$work/t1.txt"
if [ -e "$work/bin2/flag_check" ]; then fail=$((fail + 1)); echo "FAIL to_binary_bad_input: wrote before refusing"; else pass=$((pass + 1)); fi
cp "$repro" "$work/flag_check.txt"
check to_binary_same_name 2 "would both be written to" "$runner" --to_binary="$work/bin3" "$work/in/flag_check.txt" "$work/flag_check.txt"
check to_binary_not_a_dir 2 "exists and is not a directory" "$runner" --to_binary="$repro" "$work/in/flag_check.txt"
check to_binary_empty 2 "--to_binary needs a directory" "$runner" --to_binary= "$work/in/flag_check.txt"
check to_text_writes_format 0 "format 1" "$runner" --to_text "$work/bin/flag_check"

# --failure_json: one JSON object per failing run, with the fatal pair (docs/REPORTS.md "Fatal pair").
check failure_json_with_random_inputs 2 "--failure_json has no effect with --random_inputs" "$runner" --random_inputs=5 --failure_json
check failure_json_with_to_text 2 "--failure_json has no effect with --to_text" "$runner" --to_text --failure_json "$repro"
# flag_check: a fatal pair and no TSan race (release_early has one, which TSan reports first).
json=$("$runner" --quiet --failure_json "$root/repro/fuzz_bus_child/flag_check.txt" 2>&1 | sed -n '/^{/p')
if python3 -c '
import json, sys
f = json.loads(sys.argv[1])
o, a, t = f["object"], f["access"], f["teardown"]
assert o["kind"] == "registers" and o["owner"].startswith("child"), o
assert a["frame"] == "child!Child_OnBusEvent" and a["lane"].startswith("Bus_WorkerThread"), a
assert t["frame"] == "child!Child_EvtDeviceD0Exit" and t["step"] < a["step"], t
assert isinstance(a["trace_index"], int) and isinstance(t["trace_index"], int)
' "$json"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL failure_json_fatal_pair: $json"; fi
# The trace marks the two steps of the pair with ">>" (two lines exactly).
marks=$("$runner" --print_trace "$root/repro/fuzz_bus_child/flag_check.txt" 2>&1 | grep -c '^>>')
if [ "$marks" = 2 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL trace_marks_fatal_pair: $marks lines marked"; fi
# --trace_json=FILE (fuzz/trace_json.c): one run of one INPUT; a bad FILE is a usage error with nothing run.
check trace_json_empty 2 "--trace_json needs a file path" "$runner" --trace_json= "$repro"
check trace_json_no_value 2 "--trace_json needs a value" "$runner" --trace_json
check trace_json_two_inputs 2 "--trace_json takes exactly one INPUT (got 2)" "$runner" --trace_json="$work/t.json" "$repro" "$repro"
check trace_json_determinism 2 "--trace_json writes one run of one INPUT" "$runner" --trace_json="$work/t.json" --determinism "$repro"
check trace_json_random 2 "--trace_json writes one run of one INPUT" "$runner" --trace_json="$work/t.json" --random_inputs=3
check trace_json_dfs 2 "--trace_json writes one run of one INPUT" "$runner" --trace_json="$work/t.json" --schedule=dfs:1 "$repro"
check trace_json_to_text 2 "--trace_json has no effect with --to_text" "$runner" --trace_json="$work/t.json" --to_text "$repro"
check trace_json_dir 2 "--trace_json: cannot write $work: Is a directory" "$runner" --trace_json="$work" "$repro"
check trace_json_no_dir 2 "--trace_json: cannot write $work/nosuch/t.json: No such file or directory" "$runner" --trace_json="$work/nosuch/t.json" "$repro"
if [ -e "$work/t.json" ]; then fail=$((fail + 1)); echo "FAIL trace_json_refused_writes: $work/t.json written by a refused command"; else pass=$((pass + 1)); fi
check trace_json_writes 11 "class=HARDWARE" "$runner" --variant=flag_check --quiet --trace_json="$work/t.json" "$repro"
if python3 -m json.tool "$work/t.json" >/dev/null 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL trace_json_valid: $work/t.json is not JSON"; fi

# The libFuzzer binary (built with TDF_LIBFUZZER=ON) reads a text input as the runner does.
fuzzer=${runner%_run}
if [ -x "$fuzzer" ]; then
    want=$("$runner" --variant=flag_check --quiet "$repro" 2>&1 | sed -n 's/^==TDF== SIGNATURE //p' | head -n 1)
    got=$(TDF_VARIANT=flag_check "$fuzzer" -runs=1 "$repro" 2>&1 | sed -n 's/^==TDF== SIGNATURE //p' | head -n 1)
    if [ -n "$want" ] && [ "$got" = "$want" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL libfuzzer_reads_text: runner '$want', libFuzzer binary '$got'"; fi
else
    echo "skip libfuzzer_reads_text: no libFuzzer binary $fuzzer in this build"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
