#!/usr/bin/env bash
# scripts/validate.sh TARGET [--variant V] [--project DIR] [--minutes M]
#                     [--preemptions P] [--dfs-limit N] [--skip-tsan]
#   The reviewer's command: "is this variant right now?" Four parts, then one
#   verdict table (part, what it covered, time) and every failure with the
#   command that reproduces it.
#   (a) replay (plain build): every repro/TARGET/*.txt runs on the variant: each
#       is a known crash of some mutant, reported as fixed (runs clean) or
#       still failing; every corpus/TARGET/* input must run clean.
#   (b) dfs (plain build): --schedule=dfs:P:N (default P=2, N=5000 schedules a
#       script) over the events of every seed script (corpus/TARGET/* with
#       schedule and comment lines removed, a binary input in its text form,
#       identical scripts once) and every repro file: per script exhausted /
#       limit reached / failure (with the input it wrote), schedules summed. A script whose space is over N stops in the round it
#       was in; the table gives the deepest bound reached.
#   (c) fuzz (asan build): scripts/fuzz.sh on the variant for M minutes
#       (default 2) into a temporary corpus and artifact directory; --minutes
#       0 skips it, said so in the table.
#   (d) tsan (tsan build): the inputs of (a) replayed in the TSan build, the
#       same rules; --skip-tsan skips it, said so in the table.
#   Builds are made as the other scripts make them (<project>/build/CONFIG, or
#   TDF_BUILD_DIR_PLAIN / _ASAN / _TSAN as they are). Failing inputs (dfs and
#   fuzz finds) are kept in a work directory under <project>/work/validate/,
#   which is removed when everything is clean. TDF_JOBS: parallel dfs
#   searches (default: the number of cores).
#
# Exit status:
#   0       every part clean (a skipped part is not a failure)
#   1       a part could not run: a build failed, a runner or fuzz.sh error,
#           a fuzz crash that did not reproduce, a dfs run off its prefix
#   2       usage error: unknown option, bad value, unknown target or variant
#   10..17  a failure: the class code (README.md) of the first failure in
#           part order (a), (b), (c), (d)
source "$(dirname "$0")/lib.sh"

TDF_USAGE="scripts/validate.sh TARGET [--variant V] [--project DIR] [--minutes M] [--preemptions P] [--dfs-limit N] [--skip-tsan] | --help
  TARGET         a target of the project (scripts/fuzz.sh --list)
  --variant      the variant to validate (default: the target's first, its correct protocol)
  --project      a team's own project directory (docs/WRITING-A-TARGET.md)
  --minutes      fuzz budget in whole minutes, 0 skips fuzzing (default 2)
  --preemptions  dfs preemption bound P, 0..64 (default 2)
  --dfs-limit    schedules per script before dfs stops with 'limit' (default 5000)
  --skip-tsan    do not build or run the TSan replay (part d)
  TDF_JOBS       environment: parallel dfs searches (default: number of cores)
exit: 0 all clean, 1 a part could not run, 2 usage error, 10..17 the class code of the first failure"

variant="" minutes=2 preemptions=2 dfs_limit=5000 skip_tsan=0 args=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) tdf_help ;;
        --variant) tdf_need_value "$1" $#; variant=$2; [ -n "$variant" ] || tdf_usage_error "--variant needs a name"; shift 2 ;;
        --variant=*) variant=${1#*=}; [ -n "$variant" ] || tdf_usage_error "--variant needs a name"; shift ;;
        --project) tdf_need_value "$1" $#; tdf_set_project "$2"; shift 2 ;;
        --project=*) tdf_set_project "${1#*=}"; shift ;;
        --minutes) tdf_need_value "$1" $#; minutes=$2; shift 2 ;;
        --minutes=*) minutes=${1#*=}; shift ;;
        --preemptions) tdf_need_value "$1" $#; preemptions=$2; shift 2 ;;
        --preemptions=*) preemptions=${1#*=}; shift ;;
        --dfs-limit) tdf_need_value "$1" $#; dfs_limit=$2; shift 2 ;;
        --dfs-limit=*) dfs_limit=${1#*=}; shift ;;
        --skip-tsan) skip_tsan=1; shift ;;
        --) shift; args+=("$@"); break ;;
        -*) tdf_usage_error "unknown option '$1'" ;;
        *) args+=("$1"); shift ;;
    esac
done
[ ${#args[@]} -ge 1 ] || tdf_usage_error "TARGET is required"
[ ${#args[@]} -le 1 ] || tdf_usage_error "too many arguments: '${args[*]:1}' (TARGET only)"
target=${args[0]}
[[ "$minutes" =~ ^(0|[1-9][0-9]{0,4})$ ]] || tdf_usage_error "--minutes must be 0 or a positive integer (minutes), not '$minutes'"
[[ "$preemptions" =~ ^(0|[1-9][0-9]?)$ ]] && [ "$preemptions" -le 64 ] ||
    tdf_usage_error "--preemptions must be an integer 0..64, not '$preemptions'"
tdf_positive_int --dfs-limit "$dfs_limit"
jobs=${TDF_JOBS:-$(nproc)}
[[ "$jobs" =~ ^[1-9][0-9]{0,2}$ ]] || tdf_usage_error "TDF_JOBS must be a positive integer, not '$jobs'"

tdf_ensure_deps
plain=$(tdf_configure plain) || exit 1
tdf_check_target "$plain" "$target"
plain=$(tdf_build plain) || exit 1
R=$plain/bin/${target}_run
[ -n "$variant" ] || variant=$(tdf_default_variant "$R") || exit 1
tdf_check_variant "$R" "$variant"

mkdir -p "$TDF_PROJECT/work/validate"
work=$(mktemp -d "$TDF_PROJECT/work/validate/$target-$variant-XXXXXX")
keep=0
trap '[ $keep -eq 1 ] || rm -rf "$work"' EXIT

shopt -s nullglob
repros=("$TDF_PROJECT/repro/$target"/*.txt)
corpus=("$TDF_PROJECT/corpus/$target"/*)
shopt -u nullglob

# The exit code of a failure class (README.md, docs/REPORTS.md).
class_code() {
    case "$1" in
        BUGCHECK) echo 10 ;; HARDWARE) echo 11 ;; MISUSE) echo 12 ;; DEADLOCK) echo 13 ;;
        HANG) echo 14 ;; SANITIZER) echo 15 ;; FAULT) echo 16 ;; LIMIT) echo 17 ;; *) echo 1 ;;
    esac
}
# Verdict rows and failures, filled by the parts; the first failure's code wins.
rows=() failures=() status=0
fail_with() { [ "$status" -ne 0 ] || status=$1; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
# A path as the reviewer types it: relative to the project when inside it.
rel() { local p=$1; [[ "$p" == "$TDF_PROJECT/"* ]] && p=${p#"$TDF_PROJECT/"}; printf '%s' "$p"; }

# replay RUNNER FILE...: one line "FILE<TAB>CLASS<TAB>SIGNATURE" per file, run
# on the variant. The runner goes on after a model failure but a sanitizer
# report ends the process: the first file with no RESULT line then gets the
# last signature printed, and the runner starts again after it.
replay() {
    local runner=$1
    shift
    local files=("$@") out rc n res trailing=""
    while [ ${#files[@]} -gt 0 ]; do
        rc=0
        out=$(env -u TDF_VARIANT "$runner" --variant="$variant" --quiet "${files[@]}" 2>&1) || rc=$?
        res=$(awk '/^==TDF== SIGNATURE / { sig = substr($0, 19) }
            /^==TDF== RESULT / { c = $5; sub(/^class=/, "", c); printf "%s\t%s\t%s\n", $3, c, (c == "NONE" ? "" : sig); sig = "" }
            END { if (sig != "") printf "@END\t-\t%s\n", sig }' <<<"$out")
        n=0
        while IFS=$'\t' read -r f c s; do
            [ -n "$f" ] || continue
            [ "$f" != @END ] || { trailing=$s; continue; }
            printf '%s\t%s\t%s\n' "$f" "$c" "$s"
            n=$((n + 1))
        done <<<"$res"
        [ $n -lt ${#files[@]} ] || break
        # The process ended inside files[n]: its report is the last signature.
        local sig=${trailing:-}
        trailing=""
        if [ -z "$sig" ]; then
            tdf_log "$runner stopped at ${files[$n]} with exit $rc and no report:"
            sed -n '1,8s/^/    /p' <<<"$out" >&2
            printf '%s\tERROR\texit %s, no report\n' "${files[$n]}" "$rc"
        else
            printf '%s\t%s\t%s\n' "${files[$n]}" "${sig%%/*}" "$sig"
        fi
        files=("${files[@]:$((n + 1))}")
    done
}

# replay_part NAME BUILD: parts (a) and (d). Repros: fixed or still failing;
# corpus: must be clean.
replay_part() {
    local name=$1 build=$2 t0 f c s fixed=0 still=0 clean=0 bad=0 what
    local runner=$build/bin/${target}_run part_file="${1:1:1}-corpus-failures.txt" sig_order=()
    t0=$(now)
    declare -A sig_count=() sig_first=()
    declare -A is_repro=()
    for f in "${repros[@]}"; do is_repro[$f]=1; done
    while IFS=$'\t' read -r f c s; do
        [ -n "$f" ] || continue
        if [ "$c" = NONE ]; then
            if [ -n "${is_repro[$f]:-}" ]; then fixed=$((fixed + 1)); printf '  fixed   %s\n' "$(rel "$f")"; else clean=$((clean + 1)); fi
            continue
        fi
        if [ -n "${is_repro[$f]:-}" ]; then
            still=$((still + 1))
            printf '  FAILS   %s: %s\n' "$(rel "$f")" "$s"
            failures+=("$name: known crash still fails: $s
      $(rel "$runner") --variant=$variant $(rel "$f")")
        else
            # Corpus failures are grouped by signature (a mutant can fail
            # hundreds): the count and the first input's command; every one
            # is listed in the work directory.
            bad=$((bad + 1))
            printf '%s\t%s\n' "$s" "$(rel "$runner") --variant=$variant $(rel "$f")" >>"$work/$part_file"
            if [ -z "${sig_count[$s]:-}" ]; then sig_order+=("$s"); sig_first[$s]=$f; fi
            sig_count[$s]=$((${sig_count[$s]:-0} + 1))
        fi
        fail_with "$(class_code "$c")"
    done < <(replay "$runner" "${repros[@]}" "${corpus[@]}")
    for s in "${sig_order[@]}"; do
        failures+=("$name: ${sig_count[$s]} corpus inputs fail: $s
      $(rel "$runner") --variant=$variant $(rel "${sig_first[$s]}")")
    done
    if [ $bad -gt 0 ]; then
        keep=1
        failures+=("$name: all $bad failing corpus inputs, each with its command: $(rel "$work/$part_file")")
    fi
    rows+=("$name|${#repros[@]} known crashes: $fixed fixed, $still still fail; ${#corpus[@]} corpus inputs: $clean clean, $bad fail|$(took "$t0")|$([ $((still + bad)) -eq 0 ] && echo clean || echo FAIL)")
}

# ---- (a) replay in the plain build
tdf_log "(a) replaying ${#repros[@]} repro and ${#corpus[@]} corpus inputs on $target variant=$variant"
if [ $((${#repros[@]} + ${#corpus[@]})) -eq 0 ]; then
    rows+=("(a) replay|no repro/ or corpus/ inputs for $target: nothing to replay|0.0 s|skipped")
else
    replay_part "(a) replay" "$plain"
fi

# ---- (b) bounded exhaustive search over the event scripts
# A script: the input's header, params and events; its schedule lines and
# comments (a repro's expect lines) dropped, named by its content's hash.
t0=$(now)
mkdir -p "$work/scripts" "$work/dfs"
declare -A script_from=()
unconverted=0
for f in "${corpus[@]}" "${repros[@]}"; do
    # A corpus file not named .txt is taken as binary (libFuzzer's form): its text form.
    if [[ "$f" == *.txt ]]; then text=$(cat "$f")
    elif ! text=$(env -u TDF_VARIANT "$R" --to_text "$f" 2>&1); then
        failures+=("(b) dfs: $(rel "$f") has no text form (--to_text): ${text%%$'\n'*}")
        fail_with 1
        unconverted=$((unconverted + 1))
        continue
    fi
    body=$(sed -e '/^schedule /d' -e '/^#/d' <<<"$text")
    h=$(sha1sum <<<"$body")
    h=${h%% *}
    [ -n "${script_from[$h]:-}" ] && continue
    script_from[$h]=$f
    printf '%s\n' "$body" >"$work/scripts/$h.txt"
done
nscripts=${#script_from[@]}
tdf_log "(b) dfs:$preemptions:$dfs_limit over $nscripts event scripts, $jobs at a time"
# One search per script, TDF_JOBS at a time; each leaves NAME.out and NAME.rc.
dfs_one() {
    local s=$1 n rc=0
    n=$(basename "$s" .txt)
    env -u TDF_VARIANT "$R" --variant="$variant" --schedule="dfs:$preemptions:$dfs_limit" --quiet \
        --save_schedule="$work/dfs/$n.found.txt" "$s" >"$work/dfs/$n.out" 2>&1 || rc=$?
    echo "$rc" >"$work/dfs/$n.rc"
}
running=0
for s in "$work/scripts"/*.txt; do
    [ -e "$s" ] || continue
    if [ $running -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
    dfs_one "$s" &
    running=$((running + 1))
done
wait
# complete[k]: limited scripts whose rounds up to P<=k all finished (k=-1: not even P=0).
exhausted=0 limited=0 found=0 errors=$unconverted schedules=0
declare -A complete=()
for h in "${!script_from[@]}"; do
    out=$(cat "$work/dfs/$h.out") rc=$(cat "$work/dfs/$h.rc")
    n=$(sed -n 's/^==TDF== DFS .* variant=[^ ]*: \([0-9]*\) schedules .*/\1/p' <<<"$out")
    schedules=$((schedules + ${n:-0}))
    case "$rc" in
        0) exhausted=$((exhausted + 1)) ;;
        4) limited=$((limited + 1))
            # The round the limit stopped: its bound is as deep as this script got.
            r=$(sed -n 's/^==TDF== DFS round P<=\([0-9]*\): stopped.*/\1/p' <<<"$out")
            r=${r:-$preemptions}
            b=$((r - 1))
            complete[$b]=$((${complete[$b]:-0} + 1)) ;;
        1[0-7])
            found=$((found + 1))
            sig=$(sed -n 's/^==TDF== SIGNATURE //p' <<<"$out")
            sig=${sig%%$'\n'*}
            failures+=("(b) dfs: $sig (events of $(rel "${script_from[$h]}"))
      $(rel "$R") --variant=$variant $(rel "$work/dfs/$h.found.txt")")
            fail_with "$rc"; keep=1 ;;
        *)
            errors=$((errors + 1))
            failures+=("(b) dfs: the search on $(rel "${script_from[$h]}") exited $rc:
$(sed -n '1,6s/^/      /p' <<<"$out")")
            fail_with 1; keep=1 ;;
    esac
done
bound_note=""
for ((b = preemptions - 1; b >= -1; b--)); do
    [ -n "${complete[$b]:-}" ] || continue
    if [ "$b" -ge 0 ]; then bound_note+="; ${complete[$b]} limited after P<=$b complete"
    else bound_note+="; ${complete[$b]} limited inside P=0"; fi
done
kind="exhaustive to $preemptions preemptions"
[ $exhausted -eq $nscripts ] || kind="dfs to $preemptions preemptions, limit $dfs_limit a script"
mega=$(awk -v n="$schedules" 'BEGIN { if (n >= 1e6) printf "%.2f M", n / 1e6; else printf "%d", n }')
rows+=("(b) dfs|$kind: $nscripts scripts, $mega schedules; $exhausted complete, $limited at limit, $found failed$bound_note|$(took "$t0")|$([ $((found + errors)) -eq 0 ] && echo clean || echo FAIL)")

# ---- (c) fuzz budget
t0=$(now)
if [ "$minutes" -eq 0 ]; then
    rows+=("(c) fuzz|skipped: --minutes 0|0.0 s|skipped")
else
    tdf_log "(c) fuzzing $target variant=$variant for $minutes min"
    mkdir -p "$work/fuzz-corpus" "$work/fuzz-artifacts"
    rc=0
    TDF_VARIANT=$variant "$TDF_ROOT/scripts/fuzz.sh" --project "$TDF_PROJECT" --corpus "$work/fuzz-corpus" \
        --artifacts "$work/fuzz-artifacts" "$target" $((minutes * 60)) >"$work/fuzz.log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
    cov="${minutes} min on the asan build, ${execs:-?} execs"
    if [ $rc -eq 0 ]; then
        rows+=("(c) fuzz|$cov, nothing found|$(took "$t0")|clean")
    else
        keep=1
        asan=$(tdf_configure asan)
        sig=$(sed -n 's/^==TDF== SIGNATURE //p' "$work/fuzz.log")
        sig=${sig##*$'\n'}
        shopt -s nullglob
        found_inputs=("$work/fuzz-artifacts"/*.txt)
        shopt -u nullglob
        [ ${#found_inputs[@]} -gt 0 ] || found_inputs=("$work/fuzz-artifacts"/*)
        if [ $rc -ge 10 ] && [ $rc -le 17 ]; then
            failures+=("(c) fuzz: ${sig:-crash} ($((${#found_inputs[@]})) inputs in $(rel "$work/fuzz-artifacts"))
      $(rel "$asan/bin/${target}_run") --variant=$variant $(rel "${found_inputs[0]}")")
            fail_with "$rc"
        else
            failures+=("(c) fuzz: scripts/fuzz.sh exited $rc (log: $(rel "$work/fuzz.log")):
$(grep '^==TDF==' "$work/fuzz.log" | sed -n '1,6s/^/      /p')")
            fail_with 1
        fi
        rows+=("(c) fuzz|$cov, crash found|$(took "$t0")|FAIL")
    fi
fi

# ---- (d) TSan replay
t0=$(now)
if [ $skip_tsan -eq 1 ]; then
    rows+=("(d) tsan|skipped: --skip-tsan|0.0 s|skipped")
elif [ $((${#repros[@]} + ${#corpus[@]})) -eq 0 ]; then
    rows+=("(d) tsan|no repro/ or corpus/ inputs for $target: nothing to replay|0.0 s|skipped")
else
    tdf_log "(d) replaying in the TSan build"
    if ! tsan=$(tdf_build tsan); then
        rows+=("(d) tsan|the TSan build failed|$(took "$t0")|FAIL")
        failures+=("(d) tsan: the TSan build could not be made (see above)")
        fail_with 1
    elif ! grep -qa '__tsan_init' "$tsan/bin/${target}_run"; then
        rows+=("(d) tsan|$tsan is not a TSan build|$(took "$t0")|FAIL")
        failures+=("(d) tsan: $tsan/bin/${target}_run is not linked with TSan (TDF_BUILD_DIR_TSAN?)")
        fail_with 1
    else
        replay_part "(d) tsan" "$tsan"
    fi
fi

# ---- verdict
echo
echo "validate $target variant=$variant ($(rel "$TDF_PROJECT/corpus/$target"), $(rel "$TDF_PROJECT/repro/$target"))"
printf '%s\n' "${rows[@]}" | awk -F'|' '{ printf "  %-10s %-8s %9s  %s\n", $1, $4, $3, $2 }'
if [ ${#failures[@]} -gt 0 ]; then
    echo "failures (${#failures[@]}), each with its repro command:"
    printf '  %s\n' "${failures[@]}"
    [ $keep -eq 0 ] || echo "inputs kept in $(rel "$work")"
fi
if [ "$status" -eq 0 ]; then echo "verdict: clean"; else echo "verdict: FAIL (exit $status)"; fi
exit "$status"
