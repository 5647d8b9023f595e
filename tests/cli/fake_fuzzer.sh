#!/usr/bin/env bash
# A stand-in for a target's libFuzzer binary (tests/cli/run.sh, group scripts):
# reports a crash with the signature FAKE_FUZZ_SIGNATURE and writes the input
# FAKE_FUZZ_INPUT as its artifact, as libFuzzer does (-artifact_prefix=P:
# P"crash-<sha1>"), then exits 1. For planting "the replay does not reproduce".
prefix=""
for a in "$@"; do
    case "$a" in -artifact_prefix=*) prefix=${a#*=} ;; esac
done
[ -n "$prefix" ] || { echo "fake_fuzzer: no -artifact_prefix" >&2; exit 2; }
echo "==TDF== SIGNATURE $FAKE_FUZZ_SIGNATURE"
echo "==TDF== HARDWARE NOT_IN_D0 planted"
cp "$FAKE_FUZZ_INPUT" "${prefix}crash-0000000000000000000000000000000000000000"
echo "artifact_prefix='$prefix'; Test unit written to ${prefix}crash-0000000000000000000000000000000000000000"
exit 1
