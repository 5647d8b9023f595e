/*
 * libFuzzer entry of every target. A failure prints the TDF report and then
 * aborts, so that libFuzzer saves the input as a crash artifact; the report
 * says how to reproduce it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "report.h"
#include "target_env.h"

#ifndef TDF_FRESH_INPUTS_DEFAULT
#define TDF_FRESH_INPUTS_DEFAULT 2 /* measured: docs/BENCHMARKS.md "Fresh inputs" */
#endif
#ifndef TDF_FRESH_INPUT_MAX
/* A fresh input's length is 16..TDF_FRESH_INPUT_MAX bytes: room for the
 * params and up to ~30 events, few schedule bytes, so the random schedule
 * tail (a preemption at a quarter of the choice points) decides most choices
 * rather than random schedule bytes (a stay of 15 choice points on average).
 * Measured: docs/BENCHMARKS.md "Speed, third pass (issue 14)" (512 before). */
#define TDF_FRESH_INPUT_MAX 64
#endif
#ifndef TDF_RESCHEDULE_INPUTS_DEFAULT
#define TDF_RESCHEDULE_INPUTS_DEFAULT 2 /* measured: docs/BENCHMARKS.md "Rescheduled inputs" */
#endif

static unsigned g_variant;
static tdf_run_options_t g_options;
static sched_source_t g_tail; /* TDF_SCHEDULE_TAIL: random_tail, pct_depth, pct_steps (tdf_parse_tail) */
static unsigned g_fresh_every = TDF_FRESH_INPUTS_DEFAULT; /* TDF_FRESH_INPUTS: see LLVMFuzzerCustomMutator */
static unsigned g_reschedule_every = TDF_RESCHEDULE_INPUTS_DEFAULT; /* TDF_RESCHEDULE_INPUTS: likewise */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* A "one mutation in N" setting from the environment (unset or empty: the
 * default); a bad value ends the run as a usage error (exit 2). */
static unsigned one_in_n_from_env(const char *name, unsigned dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (*end || n > 1000000 || v[0] == '-') {
        fprintf(stderr, "==TDF== %s='%s': expected a number 0..1000000 (0: never)\n", name, v);
        exit(2);
    }
    return (unsigned)n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    g_variant = tdf_variant_resolve(tdf_target, NULL);
    /* No trace while fuzzing: nobody reads a clean exec's trace. A failing
     * input is run again with the ring (below) to print its report. */
    g_options = (tdf_run_options_t){.variant = g_variant, .full_trace = 0, .step_cap = 200000, .no_trace = 1};
    /* TDF_SCHEDULE_TAIL=random: after an input's schedule bytes, random
     * choices seeded by the input's hash, so every exec explores an
     * interleaving of its own past the bytes (scripts/fuzz.sh sets it; the
     * runner replays such finds with --schedule=input+random). pct[:D[:K]]:
     * PCT's choices there instead (--schedule=input+pct[:D[:K]]). */
    const char *tail = getenv("TDF_SCHEDULE_TAIL");
#ifdef TDF_DEFAULT_SCHEDULE_TAIL_RANDOM
    /* The ClusterFuzzLite / OSS-Fuzz build (.clusterfuzzlite/build.sh): its
     * runners set no environment, so unset means what scripts/fuzz.sh sets. */
    if (!tail || !*tail)
        tail = "random";
#endif
    if (tail && *tail && !tdf_parse_tail(tail, &g_tail)) {
        fprintf(stderr, "==TDF== TDF_SCHEDULE_TAIL='%s': expected random, pct[:DEPTH[:K]] (DEPTH 1..8, K 1..4000000000) or none\n",
                tail);
        exit(2);
    }
    g_fresh_every = one_in_n_from_env("TDF_FRESH_INPUTS", g_fresh_every);
    g_reschedule_every = one_in_n_from_env("TDF_RESCHEDULE_INPUTS", g_reschedule_every);
    tdf_install_crash_handlers(1);
    fprintf(stderr, "==TDF== target %s variant %s\n", tdf_target->name, tdf_target->variants[g_variant].name);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tdf_script_t script;
    /* The runner reads an input that looks like text as text: so does this
     * entry, so an artifact replays the same in both, and the stored text
     * corpus can seed libFuzzer directly. Text that does not parse is rejected
     * (-1: not added to the corpus), as the runner rejects it. */
    static uint8_t bin[TDF_TEXT_MAX_FILE];
    if (tdf_is_text(data, size)) {
        char err[8];
        long n = tdf_parse_text(tdf_target, (const char *)data, size, bin, sizeof bin, NULL, err, sizeof err);
        if (n < 0)
            return -1;
        data = bin;
        size = (size_t)n;
    }
    tdf_decode(tdf_target, data, size, &script);
    if (g_tail.random_tail) {
        script.schedule.random_tail = g_tail.random_tail;
        script.schedule.pct_depth = g_tail.pct_depth;
        script.schedule.pct_steps = g_tail.pct_steps;
        script.schedule.seed = tdf_input_hash(data, size);
    }
    if (tdf_run(tdf_target, &script, &g_options) != TDF_CLASS_NONE) {
        /* The same run again, with the trace ring for the report's RECENT
         * lines: runs are deterministic and the trace does not change them. */
        tdf_run_options_t traced = g_options;
        traced.no_trace = 0;
        tdf_run(tdf_target, &script, &traced);
        fflush(stdout);
        tdf_print_failure(stderr);
        fprintf(stderr, "==TDF== VARIANT %s\n", tdf_target->variants[g_variant].name);
        fflush(stderr);
        abort(); /* libFuzzer: deadly signal -> crash-<sha1> artifact */
    }
    return 0;
}

/*
 * One mutation in TDF_FRESH_INPUTS (default TDF_FRESH_INPUTS_DEFAULT; 0:
 * never) is a fresh random input of 16..TDF_FRESH_INPUT_MAX bytes instead of a
 * mutation of a corpus entry; the others are libFuzzer's own. Why: most
 * teardown races need a handful of events in a particular mix, which a random
 * script of a few dozen events has with a fair chance (one in tens to thousands), while
 * libFuzzer grows an input from the empty one a few bytes at a time, and
 * spends most of its first thousands of execs on scripts too short to reach a
 * window (docs/BENCHMARKS.md "Fresh inputs"). Deterministic: the bytes come
 * from `seed`, which libFuzzer draws from its own -seed.
 */
static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

/*
 * Each mutation is one of three, drawn from `seed` (which libFuzzer draws
 * from its own -seed, so a run is repeatable):
 * - one in TDF_FRESH_INPUTS (default TDF_FRESH_INPUTS_DEFAULT; 0: never) is a
 *   fresh random input of 16..TDF_FRESH_INPUT_MAX bytes. Why: most teardown
 *   races need a handful of events in a particular mix, which a random script
 *   of a few dozen events has with a fair chance (one in tens to thousands), while
 *   libFuzzer grows an input from the empty one a few bytes at a time, and
 *   spends most of its first thousands of execs on scripts too short to reach
 *   a window (docs/BENCHMARKS.md "Fresh inputs");
 * - of the others, one in TDF_RESCHEDULE_INPUTS (default
 *   TDF_RESCHEDULE_INPUTS_DEFAULT; 0: never) is the entry rescheduled: its
 *   events with new schedule bytes (tdf_reschedule, fuzz/input.h; why: below,
 *   and docs/BENCHMARKS.md "Rescheduled inputs");
 * - the rest are libFuzzer's own.
 */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    uint64_t x = 0x9E3779B97F4A7C15ull * ((uint64_t)seed + 1);
    x ^= x >> 31;
    if (g_fresh_every && max_size >= 16 && (x % g_fresh_every) == 0) {
        size_t cap = max_size < TDF_FRESH_INPUT_MAX ? max_size : TDF_FRESH_INPUT_MAX;
        size_t n = 16 + (size_t)(xorshift(&x) % (cap - 15));
        for (size_t k = 0; k < n; k++)
            data[k] = (uint8_t)(xorshift(&x) >> 24);
        return n;
    }
    if (g_reschedule_every && (xorshift(&x) >> 16) % g_reschedule_every == 0) {
        /* 1..4 new schedule bytes: with TDF_SCHEDULE_TAIL=random they are the
         * first choices and the input's new hash seeds the walk after them, so
         * the entry's events run under a new random interleaving, as the
         * runner's random hunt runs a seed script; a byte mutation of the entry
         * mostly replays its old schedule with one choice changed. */
        uint8_t salt[4];
        size_t salt_len = 1 + (size_t)(xorshift(&x) % sizeof salt);
        for (size_t k = 0; k < salt_len; k++)
            salt[k] = (uint8_t)(xorshift(&x) >> 24);
        size_t n = tdf_reschedule(tdf_target, data, size, max_size, salt, salt_len);
        if (n)
            return n;
    }
    return LLVMFuzzerMutate(data, size, max_size);
}
