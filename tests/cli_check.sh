# Sourced by the CLI test suites (tests/cli/run.sh, tests/cli_minimize/run.sh):
# the case counters and the one check they all make. Not run by itself.
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# check NAME WANT_RC PATTERN CMD...: CMD's exit code is WANT_RC and its
# stdout+stderr contain PATTERN (fixed string; "" matches anything). Each case
# is capped by TDF_CLI_TIMEOUT seconds (default 300): an old script that fuzzes
# without end fails its case instead of hanging the suite.
check() {
    local name=$1 want=$2 pattern=$3
    shift 3
    local out rc
    out=$(timeout "${TDF_CLI_TIMEOUT:-300}" "$@" 2>&1)
    rc=$?
    if [ "$rc" -eq "$want" ] && [[ "$out" == *"$pattern"* ]]; then
        ok
    else
        bad "$name: exit $rc (want $want), want '$pattern' in:"
        sed -n '1,6s/^/    /p' <<<"$out"
    fi
}
