/*
 * bench_execs: execs per second of fuzz_bus_child, per variant
 * (docs/BENCHMARKS.md); built again as bench_execs_ioctl for fuzz_bus_ioctl
 * (bench/CMakeLists.txt), which decodes the same inputs to the same events.
 *
 * A fixed input set (seeded xorshift: --inputs inputs of 16..256 bytes) is
 * run through tdf_decode + tdf_run for every variant of tdf_target, the way
 * the libFuzzer entry runs one input (no trace, step cap 200000). A pass runs
 * the whole set once per variant, the variants one after the other; passes
 * repeat until --seconds have gone (at least three), so the machine's drift
 * touches every variant alike. Reported per variant: execs/s of its fastest
 * pass (the least disturbed one; the mean over all passes is on a '#' line),
 * mean scheduler steps per exec (sched_steps() after each run), ns per step,
 * and its execs/s divided by the correct variant's.
 *
 * Each (pass, variant) runs in a forked child, timed exec by exec into shared
 * memory: a mutant may end an exec with the process dead, in a sanitizer
 * report (the ASan build stops at a heap-use-after-free before the model's
 * oracle sees it) or a signal (a plain build without the runner's fault
 * handler). The parent counts that input as a crash, restarts after it and
 * skips it in the variant's later passes; crashed execs are not in the rate.
 * Forks and restarts are not timed. --fork=0 runs everything in this process
 * (for perf; a crash then ends the benchmark).
 *
 * Usage: bench_execs [--seconds=S (10)] [--inputs=N (2000)] [--passes=P]
 *                    [--seed=X (1)] [--fork=0|1] [--verbose=1]
 * --verbose=1 also prints every pass's rate and lets crash reports through.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../fuzz/input.h"
#include "bench_common.h"

#define MIN_LEN 16u
#define MAX_LEN 256u
#define STEP_CAP 200000u
#define CHILD_WARMUP 4
#define NO_INPUT UINT64_MAX
#define MIN_PASSES 3 /* with --seconds: the best of at least three */

/* Sanitizer reports of a crashing mutant go to /dev/null (unless --verbose):
 * no symbolization, it would cost more than the execs we measure. An explicit
 * ASAN_OPTIONS / UBSAN_OPTIONS still wins. */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__asan_default_options(void) { return "symbolize=0"; }
const char *__ubsan_default_options(void) { return "symbolize=0:print_stacktrace=0"; }

typedef struct vstats {
    uint64_t execs; /* completed execs over all passes */
    uint64_t ns;    /* their time: decode + run */
    uint64_t steps; /* sum of sched_steps() */
    uint64_t crashes;
    uint64_t classes[TDF_CLASS_COUNT]; /* first pass only: one per input */
    uint64_t first_crash_input;
    int first_crash_status;
} vstats_t;

typedef struct shared {
    volatile uint64_t current; /* input the child is running */
    vstats_t v[];
} shared_t;

static struct {
    uint8_t *data;
    uint32_t *off, *len;
    size_t count;
} In;

static shared_t *SH;
static unsigned g_correct; /* the correct variant: never crashes */
static uint8_t *g_skip; /* [variant * count + input]: crashed once, skipped later */

static void make_inputs(size_t count, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    if (!x)
        x = 1;
    In.count = count;
    In.data = malloc(count * MAX_LEN);
    In.off = malloc(count * sizeof *In.off);
    In.len = malloc(count * sizeof *In.len);
    if (!In.data || !In.off || !In.len) {
        perror("malloc");
        exit(1);
    }
    size_t pos = 0;
    for (size_t i = 0; i < count; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t len = MIN_LEN + (uint32_t)(x % (MAX_LEN - MIN_LEN + 1));
        In.off[i] = (uint32_t)pos;
        In.len[i] = len;
        for (uint32_t k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            In.data[pos++] = (uint8_t)(x >> 24);
        }
    }
}

static tdf_class_t run_one(unsigned variant, size_t i)
{
    tdf_script_t script;
    /* no_trace as LLVMFuzzerTestOneInput runs an exec (it re-runs a failing
     * input with the trace to report it; not timed here: nothing is reported). */
    tdf_run_options_t opts = {.variant = variant, .full_trace = 0, .step_cap = STEP_CAP, .no_trace = 1};
    tdf_decode(tdf_target, In.data + In.off[i], In.len[i], &script);
    return tdf_run(tdf_target, &script, &opts);
}

/* Runs inputs [start, count) of one variant, timing each exec. */
static void run_range(unsigned variant, size_t start, int first_pass)
{
    vstats_t *st = &SH->v[variant];
    const uint8_t *skip = g_skip + (size_t)variant * In.count;
    for (size_t i = start; i < In.count; i++) {
        if (skip[i])
            continue;
        SH->current = i;
        uint64_t t0 = bench_now_ns();
        tdf_class_t cls = run_one(variant, i);
        uint64_t t1 = bench_now_ns();
        st->ns += t1 - t0;
        st->execs++;
        st->steps += sched_steps();
        if (first_pass)
            st->classes[cls < TDF_CLASS_COUNT ? cls : TDF_CLASS_NONE]++;
    }
}

static void run_variant_pass(unsigned variant, int first_pass, int use_fork, int verbose)
{
    vstats_t *st = &SH->v[variant];
    size_t start = 0;
    if (!use_fork) {
        run_range(variant, 0, first_pass);
        return;
    }
    while (start < In.count) {
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            exit(1);
        }
        if (pid == 0) {
            struct rlimit no_core = {0, 0};
            setrlimit(RLIMIT_CORE, &no_core);
            if (!verbose) {
                int fd = open("/dev/null", O_WRONLY);
                if (fd >= 0)
                    dup2(fd, 2);
            }
            /* A fresh child is cold (copy-on-write faults on the stacks, the
             * heap and ASan's shadow): a few untimed execs of the correct
             * variant first, so every timed exec runs warm as in a fuzzer. */
            SH->current = NO_INPUT;
            for (size_t i = 0; i < In.count && i < CHILD_WARMUP; i++)
                (void)run_one(g_correct, i);
            run_range(variant, start, first_pass);
            _exit(0); /* no atexit work, no leak check of the child */
        }
        int status;
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR) {
                perror("waitpid");
                exit(1);
            }
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            break;
        if (SH->current == NO_INPUT) {
            fprintf(stderr, "bench_execs: the untimed warm-up (variant %s) killed the child\n",
                    tdf_target->variants[g_correct].name);
            exit(1);
        }
        size_t bad = (size_t)SH->current;
        if (st->crashes == 0) {
            st->first_crash_input = bad;
            st->first_crash_status = status;
        }
        st->crashes++;
        if (first_pass)
            st->classes[WIFSIGNALED(status) ? TDF_CLASS_FAULT : TDF_CLASS_SANITIZER]++;
        g_skip[(size_t)variant * In.count + bad] = 1;
        start = bad + 1;
    }
}

static void describe_status(int status, char *buf, size_t size)
{
    if (WIFSIGNALED(status))
        snprintf(buf, size, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "exit %d (sanitizer report)", WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
    double seconds = 10;
    size_t inputs = 2000;
    long passes = 0;
    uint64_t seed = 1;
    int use_fork = 1, verbose = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = bench_flag(argv[i], "seconds")))
            seconds = strtod(v, NULL);
        else if ((v = bench_flag(argv[i], "inputs")))
            inputs = strtoul(v, NULL, 0);
        else if ((v = bench_flag(argv[i], "passes")))
            passes = strtol(v, NULL, 0);
        else if ((v = bench_flag(argv[i], "seed")))
            seed = strtoull(v, NULL, 0);
        else if ((v = bench_flag(argv[i], "fork")))
            use_fork = atoi(v) != 0;
        else if ((v = bench_flag(argv[i], "verbose")))
            verbose = atoi(v) != 0;
        else {
            fprintf(stderr,
                    "usage: %s [--seconds=S (10)] [--inputs=N (2000)] [--passes=P (from --seconds)] [--seed=X (1)]\n"
                    "          [--fork=0|1 (1)] [--verbose=0|1 (0: crash reports to /dev/null)]\n",
                    argv[0]);
            return 2;
        }
    }
    if (inputs == 0 || inputs > 1000000) {
        fprintf(stderr, "bench_execs: --inputs must be 1..1000000\n");
        return 2;
    }
    const tdf_target_desc_t *t = tdf_target;
    unsigned nv = t->variant_count;
    for (unsigned v = 0; v < nv; v++) /* index 0 by convention; by name if present */
        if (strcmp(t->variants[v].name, "correct") == 0)
            g_correct = v;
    make_inputs(inputs, seed);
    size_t shsize = sizeof(shared_t) + nv * sizeof(vstats_t);
    SH = mmap(NULL, shsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    g_skip = calloc((size_t)nv * inputs, 1);
    if (SH == MAP_FAILED || !g_skip) {
        perror("mmap/calloc");
        return 1;
    }
    memset(SH, 0, shsize);

    printf("# bench_execs build=\"%s\" target=%s variants=%u inputs=%zu (%u..%u bytes, seed %llu) step_cap=%u "
           "fork=%d budget=%s\n",
           bench_build(), t->name, nv, inputs, MIN_LEN, MAX_LEN, (unsigned long long)seed, STEP_CAP, use_fork,
           passes > 0 ? "passes" : "seconds");

    /* Warm-up in the parent (fiber stacks mapped, pools grown; children
     * inherit them): the correct variant never crashes. */
    for (size_t i = 0; i < inputs && i < 50; i++)
        (void)run_one(g_correct, i);

    /* Per variant, the execs/s of its fastest pass is the figure: the pass
     * least disturbed by whatever else runs on the machine. */
    double *best = calloc(nv, sizeof *best), *worst = calloc(nv, sizeof *worst);
    if (!best || !worst)
        return 1;
    uint64_t t_start = bench_now_ns();
    long pass = 0;
    for (;;) {
        for (unsigned v = 0; v < nv; v++) {
            uint64_t execs0 = SH->v[v].execs, ns0 = SH->v[v].ns;
            run_variant_pass(v, pass == 0, use_fork, verbose);
            uint64_t de = SH->v[v].execs - execs0, dns = SH->v[v].ns - ns0;
            double rate = dns ? (double)de * 1e9 / (double)dns : 0;
            if (rate > best[v])
                best[v] = rate;
            if (pass == 0 || rate < worst[v])
                worst[v] = rate;
            if (verbose)
                printf("# pass %ld %-18s %.0f execs/s\n", pass + 1, t->variants[v].name, rate);
        }
        pass++;
        double elapsed = (double)(bench_now_ns() - t_start) / 1e9;
        if (passes > 0 ? pass >= passes : pass >= MIN_PASSES && elapsed >= seconds)
            break;
    }
    double wall = (double)(bench_now_ns() - t_start) / 1e9;
    printf("# %ld passes in %.2f s wall (forks, crash reports and restarts included; rates count exec time only)\n",
           pass, wall);

    for (unsigned v = 0; v < nv; v++) {
        const vstats_t *st = &SH->v[v];
        printf("# %-18s first pass:", t->variants[v].name);
        for (int c = 0; c < TDF_CLASS_COUNT; c++)
            if (st->classes[c])
                printf(" %s=%llu", tdf_class_name((tdf_class_t)c), (unsigned long long)st->classes[c]);
        if (st->crashes) {
            char how[96];
            describe_status(st->first_crash_status, how, sizeof how);
            printf("; process died at %llu input(s), first at input %llu: %s", (unsigned long long)st->crashes,
                   (unsigned long long)st->first_crash_input, how);
        }
        printf("\n");
    }
    for (unsigned v = 0; v < nv; v++) {
        const vstats_t *st = &SH->v[v];
        printf("# %-18s execs/s per pass: best %.0f, all passes %.0f, worst %.0f\n", t->variants[v].name, best[v],
               st->ns ? (double)st->execs * 1e9 / (double)st->ns : 0, worst[v]);
    }

    unsigned vc = g_correct;
    char name[128], name0[128];
    for (unsigned v = 0; v < nv; v++) {
        const vstats_t *st = &SH->v[v];
        const char *vn = t->variants[v].name;
        double steps = st->execs ? (double)st->steps / (double)st->execs : 0;
        snprintf(name, sizeof name, "execs.%s", vn);
        bench_line(name, best[v], "execs/s", st->execs);
        snprintf(name, sizeof name, "steps_per_exec.%s", vn);
        bench_line(name, steps, "steps", st->execs);
        snprintf(name, sizeof name, "ns_per_step.%s", vn);
        bench_line(name, best[v] > 0 && steps > 0 ? 1e9 / best[v] / steps : 0, "ns", st->steps);
    }
    snprintf(name0, sizeof name0, "execs.%s", t->variants[vc].name);
    for (unsigned v = 0; v < nv; v++) {
        if (v == vc)
            continue;
        snprintf(name, sizeof name, "execs.%s", t->variants[v].name);
        bench_ratio(name, name0, best[vc] > 0 ? best[v] / best[vc] : 0);
    }
    free(best);
    free(worst);
    return 0;
}
