/*
 * Standalone runner: replays inputs without libFuzzer (every build, plain gcc
 * included), converts between binary and text form, checks determinism and
 * runs seeded random inputs. Exit codes (docs/REPORTS.md): 0 no failure, the
 * class code of the first failure, 1 a determinism check differed, 2 a usage
 * error or a bad input (nothing is run then), 3 an input's expectation was not
 * met.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../model/sched/dfs.h"
#include "input.h"
#include "minimize.h"
#include "report.h"
#include "target_env.h"
#include "trace_json.h"

#define MAX_INPUT TDF_TEXT_MAX_FILE /* bytes of one input file, either form */
#define EXIT_DIFFERS 1
#define EXIT_USAGE 2
#define EXIT_EXPECTATION 3

typedef struct options {
#define TDF_FLAG_STR_T const char *
#define TDF_FLAG_INT_T long
#define TDF_FLAG_BOOL_T int
#define TDF_FLAG(kind, name, dflt, lo, hi, help) TDF_FLAG_##kind##_T name;
#include "flags.def"
#undef TDF_FLAG
} options_t;

static options_t g_opt = {
#define TDF_FLAG(kind, name, dflt, lo, hi, help) .name = dflt,
#include "flags.def"
#undef TDF_FLAG
};

/* Which flags the command line gave (for conflicts and overrides). */
static struct {
#define TDF_FLAG(kind, name, dflt, lo, hi, help) int name;
#include "flags.def"
#undef TDF_FLAG
} g_given;

/* The TSan build: a race is often reported before the model's oracle fires,
 * so there an input's expect-tsan replaces its expect-signature. */
#if defined(__SANITIZE_THREAD__)
#define RUNNER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RUNNER_TSAN 1
#endif
#endif
#ifndef RUNNER_TSAN
#define RUNNER_TSAN 0
#endif

static sched_source_t g_schedule; /* kind SCHED_SOURCE_BYTES: the input's own */
/* --trace_json=FILE, opened before anything runs (an unwritable path is a
 * usage error with nothing run); written by run_and_print. */
static FILE *g_trace_json;

static void usage(FILE *out)
{
    fprintf(out, "usage: %s_run [--flag=value | --flag value ...] INPUT...\n", tdf_target->name);
#define TDF_FLAG(kind, name, dflt, lo, hi, help) fprintf(out, "  --%-16s %s\n", #name, help);
#include "flags.def"
#undef TDF_FLAG
    fprintf(out, "INPUT: a file in text or binary form (docs/INPUT.md).\n"
                 "exit: 0 no failure; 10..17 the class of the first failure (docs/REPORTS.md); 1 --determinism\n"
                 "      differed; 2 usage error or bad input (nothing run); 3 an input's expect-signature not met;\n"
                 "      4 --schedule=dfs stopped before its space was exhausted (LIMIT reached, or a run too long)\n");
}

/* An argument, escaped for a message (four rotating buffers). */
static const char *esc(const char *s)
{
    static char buf[4][200];
    static unsigned k;
    char *b = buf[k++ % 4];
    tdf_escape(s, strlen(s), 120, b, sizeof buf[0]);
    return b;
}

/* Prints "==TDF== <message> (... --help lists the flags)"; returns 0. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "==TDF== ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (%s_run --help lists the flags)\n", tdf_target->name);
    return 0;
}

/* Strict decimal into lo..hi; a sign, spaces or a suffix is not a number. */
static int parse_int(const char *flag, const char *v, long lo, long hi, long *out)
{
    unsigned long long x = 0;
    int ok = *v != 0;
    for (const char *p = v; *p && ok; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (*p < '0' || *p > '9' || x > ((unsigned long long)hi - d) / 10)
            ok = 0; /* not a digit, or above hi (never overflows) */
        else
            x = x * 10 + d;
    }
    if (!ok || x < (unsigned long long)lo || x > (unsigned long long)hi)
        return usage_error("--%s=%s: expected a whole number in %ld..%ld", flag, esc(v), lo, hi);
    *out = (long)x;
    return 1;
}

/* One flag; *consumed is set when it took the next argument as its value. */
static int parse_flag(const char *arg, const char *next, int *consumed)
{
    char name[64];
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    *consumed = 0;
    if (n == 0 || n >= sizeof name)
        return usage_error("unknown flag --%s", esc(arg));
    for (size_t i = 0; i < n; i++)
        name[i] = arg[i] == '-' ? '_' : arg[i];
    name[n] = 0;
    const char *value = eq ? eq + 1 : NULL;
/* Per kind: BOOL takes no value; INT and STR take "=VALUE" or the next argument. */
#define TDF_TAKE_VALUE(fname)                                                                   \
    if (!value) {                                                                               \
        if (!next || (next[0] == '-' && next[1] == '-'))                                        \
            return usage_error("--%s needs a value: --%s=VALUE or --%s VALUE", fname, fname, fname); \
        value = next;                                                                           \
        *consumed = 1;                                                                          \
    }
#define TDF_PARSE_BOOL(fname, lo, hi)                                                      \
    if (value)                                                                             \
        return usage_error("--%s takes no value (got '%s')", #fname, esc(value));          \
    g_opt.fname = 1;                                                                       \
    return 1;
#define TDF_PARSE_INT(fname, lo, hi) \
    TDF_TAKE_VALUE(#fname)           \
    return parse_int(#fname, value, (lo), (hi), &g_opt.fname);
#define TDF_PARSE_STR(fname, lo, hi) \
    TDF_TAKE_VALUE(#fname)           \
    g_opt.fname = value;             \
    return 1;
#define TDF_FLAG(kind, fname, dflt, lo, hi, help) \
    if (strcmp(name, #fname) == 0) {              \
        g_given.fname = 1;                        \
        TDF_PARSE_##kind(fname, lo, hi)           \
    }
#include "flags.def"
#undef TDF_FLAG
    return usage_error("unknown flag --%s", esc(arg));
}

/* --schedule=dfs:P[:LIMIT][:nopor]: the systematic search (explore() below). */
static struct {
    int on;
    unsigned long bound, limit; /* limit 0: none */
    int nopor; /* :nopor: no sleep sets (to measure what they save) */
} g_dfs;

/* --schedule: input | random:SEED | pct:SEED[:DEPTH[:K]] | dfs:P[:LIMIT][:nopor] | stress[:SEED], every part checked. */
static int parse_schedule(const char *s)
{
    g_schedule = (sched_source_t){.kind = SCHED_SOURCE_BYTES};
    if (strcmp(s, "input") == 0)
        return 1;
    if (strcmp(s, "stress") == 0 || strncmp(s, "stress:", 7) == 0) {
        unsigned long long seed = 0;
        const char *p = s + 6;
        if (*p == ':' && (p++, !tdf_parse_number(&p, 0, ~0ull, &seed) || *p))
            return usage_error("--schedule '%s': SEED must be a decimal number 0..18446744073709551615", esc(s));
        g_schedule = (sched_source_t){.kind = SCHED_SOURCE_STRESS, .seed = seed};
        return 1;
    }
    if (strncmp(s, "input+", 6) == 0) {
        /* As TDF_SCHEDULE_TAIL gives the libFuzzer entry: replays its finds.
         * Seeded per input in run_once. */
        if (!tdf_parse_tail(s + 6, &g_schedule) || g_schedule.random_tail == SCHED_TAIL_NONE)
            return usage_error("--schedule '%s': expected input+random or input+pct[:DEPTH[:K]] (DEPTH 1..8, K "
                               "1..4000000000)",
                               esc(s));
        return 1;
    }
    unsigned long long a = 0, b = 0;
    if (strncmp(s, "dfs:", 4) == 0) {
        const char *p = s + 4;
        if (!tdf_parse_number(&p, 0, 64, &a) || (*p && *p != ':'))
            return usage_error("--schedule '%s': P (preemptions) must be a number 0..64", esc(s));
        /* dfs:P[:LIMIT][:nopor] */
        int nopor = 0;
        size_t len = strlen(p);
        if (len >= 6 && strcmp(p + len - 6, ":nopor") == 0)
            nopor = 1;
        char head[64];
        if (nopor) {
            if (len - 6 >= sizeof head)
                return usage_error("--schedule '%s': LIMIT (schedules run) must be a number 1..4000000000", esc(s));
            memcpy(head, p, len - 6);
            head[len - 6] = 0;
            p = head;
        }
        if (*p == ':' && (p++, !tdf_parse_number(&p, 1, 4000000000ull, &b) || *p))
            return usage_error("--schedule '%s': LIMIT (schedules run) must be a number 1..4000000000, then "
                               "optionally :nopor",
                               esc(s));
        g_dfs.nopor = nopor;
        g_dfs.on = 1;
        g_dfs.bound = (unsigned long)a;
        g_dfs.limit = (unsigned long)b;
        /* Not the input's bytes: a mode that needs them refuses it as any other source. */
        g_schedule = (sched_source_t){.kind = SCHED_SOURCE_REPLAY};
        return 1;
    }
    int pct = strncmp(s, "pct:", 4) == 0;
    if (!pct && strncmp(s, "random:", 7) != 0)
        return usage_error("--schedule '%s': expected input, random:SEED, pct:SEED[:DEPTH[:K]], dfs:P[:LIMIT][:nopor] or "
                           "stress[:SEED]",
                           esc(s));
    const char *p = s + (pct ? 4 : 7);
    unsigned long long seed = 0, depth = 3, k = 0;
    if (!tdf_parse_number(&p, 0, ~0ull, &seed) || (*p && !(pct && *p == ':')))
        return usage_error("--schedule '%s': SEED must be a decimal number 0..18446744073709551615", esc(s));
    if (pct && *p == ':' && (p++, !tdf_parse_number(&p, 1, 8, &depth) || (*p && *p != ':')))
        return usage_error("--schedule '%s': DEPTH must be a number 1..8", esc(s));
    if (pct && *p == ':' && (p++, !tdf_parse_number(&p, 1, 4000000000ull, &k) || *p))
        return usage_error("--schedule '%s': K (choice points per run) must be a number 1..4000000000", esc(s));
    g_schedule = (sched_source_t){.kind = pct ? SCHED_SOURCE_PCT : SCHED_SOURCE_RANDOM,
                                  .seed = seed,
                                  .pct_depth = (unsigned)depth,
                                  .pct_steps = (uint32_t)k};
    return 1;
}

/* One loaded input: binary data and what a text form said about itself. */
typedef struct input {
    long size;
    int is_text;
    tdf_text_meta_t meta;
} input_t;

static int read_file(const char *path, uint8_t *buf, size_t cap, long *size)
{
    struct stat st;
    char show[300];
    tdf_escape(path, strlen(path), 200, show, sizeof show);
    if (stat(path, &st) != 0) {
        fprintf(stderr, "==TDF== cannot open input %s: %s\n", show, strerror(errno));
        return 0;
    }
    if (S_ISDIR(st.st_mode)) {
        fprintf(stderr, "==TDF== input %s is a directory: give the files in it (%s/*)\n", show, show);
        return 0;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "==TDF== cannot open input %s: %s\n", show, strerror(errno));
        return 0;
    }
    errno = 0;
    size_t n = fread(buf, 1, cap, f);
    int bad = ferror(f), err = errno;
    fclose(f);
    if (bad) {
        fprintf(stderr, "==TDF== cannot read input %s: %s\n", show, err ? strerror(err) : "read error");
        return 0;
    }
    *size = (long)n;
    return 1;
}

/* Loads an input file in either form into binary (cap MAX_INPUT). */
static int load_input(const char *path, uint8_t *buf, input_t *in)
{
    static uint8_t raw[MAX_INPUT + 2];
    char show[300];
    tdf_escape(path, strlen(path), 200, show, sizeof show);
    memset(in, 0, sizeof *in);
    long n;
    if (!read_file(path, raw, MAX_INPUT + 1, &n)) /* one byte more: tells "over the limit" */
        return 0;
    in->is_text = tdf_is_text(raw, (size_t)n);
    if (!in->is_text) {
        if (n > (long)MAX_INPUT) {
            fprintf(stderr, "==TDF== input %s is larger than the runner's limit of %u bytes\n", show, MAX_INPUT);
            return 0;
        }
        /* A text-form body behind a wrong first line (a free comment) is a
         * likely mistake: say so. A fuzzer-made printable input is not. */
        raw[n] = 0;
        if (memmem(raw, (size_t)n, "\nevent ", 7) || memmem(raw, (size_t)n, "\ntarget ", 8))
            fprintf(stderr, "==TDF== note: %s looks like the text form but does not start with "
                            "'# teardown-fuzz', 'format ' or 'target ' and has no 'target' line: read as a binary "
                            "input\n", show);
        memcpy(buf, raw, (size_t)n);
        in->size = n;
        return 1;
    }
    char err[512];
    in->size = tdf_parse_text(tdf_target, (const char *)raw, (size_t)n, buf, MAX_INPUT, &in->meta, err, sizeof err);
    if (in->size < 0) {
        fprintf(stderr, "==TDF== %s: %s\n", show, err);
        return 0;
    }
    return 1;
}

/* A build whose execs can end in a sanitizer report (fuzz/report.c prints
 * the trace's RECENT lines there). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TDF_RUNNER_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define TDF_RUNNER_SANITIZED 1
#endif
#endif
#ifndef TDF_RUNNER_SANITIZED
#define TDF_RUNNER_SANITIZED 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define RUNNER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RUNNER_ASAN 1
#endif
#endif
#ifndef RUNNER_ASAN
#define RUNNER_ASAN 0
#endif

/* --minimize in the ASan build runs its candidates in worker processes and
 * silences their reports (fuzz/minimize.c), yet ASan symbolizes a report's
 * stacks before it ends the worker, starting llvm-symbolizer anew in each:
 * ~70 ms a report, most of the time an input whose failure is a report
 * takes. ASan reads its options once, at start: run again with symbolize=0
 * appended to ASAN_OPTIONS (the last value of a flag wins). Returns if it
 * is appended already, or the exec failed (the reports are then symbolized:
 * slower, the same result). */
#if RUNNER_ASAN
static void reexec_unsymbolized(char *const *argv)
{
    static const char flag[] = "symbolize=0";
    const char *old = getenv("ASAN_OPTIONS");
    size_t n = old ? strlen(old) : 0;
    if (n >= sizeof flag - 1 && strcmp(old + n - (sizeof flag - 1), flag) == 0)
        return;
    char *opts = malloc(n + sizeof flag + 1);
    if (!opts)
        return;
    sprintf(opts, "%s%s%s", old ? old : "", n ? ":" : "", flag);
    if (setenv("ASAN_OPTIONS", opts, 1) == 0) {
        fflush(stdout);
        execv("/proc/self/exe", argv);
    }
    fprintf(stderr, "==TDF== note: cannot run again with ASAN_OPTIONS=%s (%s): each candidate's report is "
                    "symbolized, which is slower\n", opts, strerror(errno));
    free(opts);
}
#endif

/* 1 while --hunt runs an exec that may go untraced (hunt() below). */
static int g_hunt_untraced;

static tdf_class_t run_once(const uint8_t *data, size_t size, unsigned variant, int full_trace)
{
    tdf_script_t script;
    tdf_decode(tdf_target, data, size, &script);
    if (g_schedule.kind != SCHED_SOURCE_BYTES) {
        script.schedule = g_schedule;
    } else if (g_schedule.random_tail) {
        /* As the libFuzzer entry with TDF_SCHEDULE_TAIL: replays its finds. */
        script.schedule.random_tail = g_schedule.random_tail;
        script.schedule.pct_depth = g_schedule.pct_depth;
        script.schedule.pct_steps = g_schedule.pct_steps;
        script.schedule.seed = tdf_input_hash(data, size);
    }
    /* --random_inputs prints only a histogram (and saves inputs): no trace;
     * nor --hunt's clean execs (hunt() below). */
    tdf_run_options_t opts = {.variant = variant,
                              .full_trace = full_trace,
                              .step_cap = (uint32_t)g_opt.step_cap,
                              .no_trace = (g_given.random_inputs || g_hunt_untraced) && !full_trace};
    if (script.schedule.kind == SCHED_SOURCE_PCT && script.schedule.pct_steps == 0 && script.schedule.pct_depth > 1) {
        /* PCT's k not given: estimated by a first run of the same seed with
         * no change points (depth 1), the choice points it made. */
        tdf_script_t probe = script;
        probe.schedule.pct_depth = 1;
        tdf_run(tdf_target, &probe, &opts);
        script.schedule.pct_steps = sched_choice_points() ? sched_choice_points() : 1;
    }
    return tdf_run(tdf_target, &script, &opts);
}

/* --save_schedule: the input just run, with the choices the run made as its
 * schedule bytes, so that a random, PCT or dfs find replays with no
 * --schedule. path NULL: stdout. `head` (NULL: none): comment lines put
 * before the body in place of its first line (a find's expectations). */
static int save_schedule_as(const char *path, const uint8_t *data, size_t size, const char *head)
{
    static uint8_t use[4096], stored[4096];
    size_t n = sched_choices_as_bytes(use, sizeof use);
    if (n == (size_t)-1) {
        fprintf(stderr, "==TDF== --save_schedule: a choice of this run cannot be written as a schedule byte "
                        "(runnable #8 or above, or a data choice over 255)\n");
        return 0;
    }
    size_t total;
    (void)sched_choice_log(&total);
    if (total > n) {
        fprintf(stderr, "==TDF== --save_schedule: the run made %zu choices, over the text form's %zu schedule bytes\n",
                total, sizeof use);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        stored[n - 1 - i] = use[i]; /* the input keeps them reversed: the last byte is used first */
    tdf_script_t script;
    tdf_decode(tdf_target, data, size, &script);
    script.schedule = (sched_source_t){.kind = SCHED_SOURCE_BYTES, .bytes = stored, .len = n};
    FILE *f = path ? fopen(path, "w") : stdout;
    if (!f) {
        fprintf(stderr, "==TDF== cannot write %s: %s\n", path, strerror(errno));
        return 0;
    }
    if (head) {
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        if (!mem)
            abort();
        tdf_write_text(tdf_target, &script, mem);
        fclose(mem);
        const char *body = strncmp(text, "# teardown-fuzz input", 21) == 0 && strchr(text, '\n') ? strchr(text, '\n') + 1
                                                                                                : text;
        fputs(head, f);
        fputs(body, f);
        free(text);
    } else {
        tdf_write_text(tdf_target, &script, f);
    }
    if (path ? fclose(f) != 0 : fflush(f) != 0) {
        fprintf(stderr, "==TDF== cannot write %s: %s\n", path, strerror(errno));
        return 0;
    }
    return 1;
}

static int save_schedule(const char *path, const uint8_t *data, size_t size)
{
    return save_schedule_as(path, data, size, NULL);
}

static void write_trace_json(const char *path, const uint8_t *data, size_t size, unsigned variant, int exit_code)
{
    tdf_script_t script;
    tdf_decode(tdf_target, data, size, &script);
    tdf_trace_json_run_t jr = {.input_path = path, .variant = tdf_target->variants[variant].name, .script = &script,
                               .exit_code = exit_code};
    if (!tdf_write_trace_json(g_trace_json, &jr) || fclose(g_trace_json) != 0)
        fprintf(stderr, "==TDF== cannot write --trace_json=%s: %s\n", esc(g_opt.trace_json), strerror(errno));
    g_trace_json = NULL;
}

/* A sanitizer report (ASan's death callback, TSan's on_report) or a fatal
 * signal ends the process inside the run; fuzz/report.c has recorded it as
 * the run's failure (SANITIZER or FAULT) and calls tdf_death_hook: the JSON
 * the flags ask for is written from there with what the run has by then (the
 * trace up to the report), with the exit code the process is about to end
 * with. */
static struct {
    int armed;
    const char *path;
    const uint8_t *data;
    size_t size;
    unsigned variant;
    FILE *out;
    void (*prev)(void);
} g_dying;

static void write_at_death(void)
{
    if (g_dying.armed) {
        g_dying.armed = 0;
        const tdf_failure_t *f = tdf_failure();
        int code = f ? tdf_class_exit_code(f->cls) : TDF_EXIT_SANITIZER;
        if (g_trace_json)
            write_trace_json(g_dying.path, g_dying.data, g_dying.size, g_dying.variant, code);
        if (g_opt.failure_json) {
            tdf_print_failure_json(g_dying.out);
            fflush(g_dying.out);
        }
    }
    if (g_dying.prev)
        g_dying.prev();
}

/* Runs and prints everything the flags ask for into out. */
static tdf_class_t run_and_print(const char *path, const uint8_t *data, size_t size, unsigned variant, FILE *out)
{
    int full = g_opt.trace || g_opt.print_trace || g_opt.determinism || g_trace_json;
    if (g_opt.text) {
        tdf_script_t script;
        tdf_decode(tdf_target, data, size, &script);
        tdf_write_text(tdf_target, &script, out);
    }
    int arm = g_trace_json || g_opt.failure_json;
    if (arm) {
        fflush(out); /* what is written so far stays ahead of the JSON a death writes */
        g_dying.path = path, g_dying.data = data, g_dying.size = size, g_dying.variant = variant, g_dying.out = out;
        g_dying.prev = tdf_death_hook;
        g_dying.armed = 1;
        tdf_death_hook = write_at_death;
    }
    tdf_class_t cls = run_once(data, size, variant, full);
    if (arm) {
        g_dying.armed = 0;
        tdf_death_hook = g_dying.prev;
    }
    if (g_opt.trace)
        tdf_print_swimlanes(out);
    if (g_opt.print_trace || g_opt.determinism)
        tdf_print_trace(out);
    if (g_trace_json)
        write_trace_json(path, data, size, variant, tdf_class_exit_code(cls));
    if (cls != TDF_CLASS_NONE) {
        if (g_opt.quiet) {
            char sig[320];
            tdf_failure_signature(tdf_failure(), sig, sizeof sig);
            fprintf(out, "==TDF== %s %s\n==TDF== SIGNATURE %s\n", tdf_class_name(cls), tdf_failure()->name, sig);
        } else {
            tdf_print_failure(out);
        }
        if (g_opt.failure_json)
            tdf_print_failure_json(out);
    }
    fprintf(out, "==TDF== RESULT %s variant=%s class=%s steps=%lu\n", path, tdf_target->variants[variant].name,
            tdf_class_name(cls), (unsigned long)sched_steps());
    return cls;
}

/* Returns the class of the first run; *same says whether both runs printed the same. */
static tdf_class_t determinism_check(const char *path, const uint8_t *data, size_t size, unsigned variant, int *same,
                                     char *sig, size_t sigsz)
{
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    FILE *fa = open_memstream(&a, &na);
    tdf_class_t cls = run_and_print(path, data, size, variant, fa);
    if (cls != TDF_CLASS_NONE)
        tdf_failure_signature(tdf_failure(), sig, sigsz); /* before the second run resets it */
    fclose(fa);
    FILE *fb = open_memstream(&b, &nb);
    run_and_print(path, data, size, variant, fb);
    fclose(fb);
    *same = na == nb && memcmp(a, b, na) == 0;
    printf("==TDF== DETERMINISM %s %s (%zu bytes of trace)\n", *same ? "OK" : "DIFFERS", path, na);
    free(a);
    free(b);
    return cls;
}

/* Keeps the first input of each signature seen (up to 64 signatures). */
static void save_failure(const uint8_t *data, size_t len)
{
    static char seen[64][320];
    static unsigned nseen;
    char sig[320], path[512];
    tdf_failure_signature(tdf_failure(), sig, sizeof sig);
    for (unsigned i = 0; i < nseen; i++)
        if (strcmp(seen[i], sig) == 0)
            return;
    if (nseen == 64)
        return;
    snprintf(seen[nseen], sizeof seen[nseen], "%s", sig);
    snprintf(path, sizeof path, "%s/%s-%u.bin", g_opt.save_failures, tdf_class_name(tdf_failure()->cls), nseen);
    nseen++;
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "==TDF== cannot write %s: %s\n", path, strerror(errno));
        return;
    }
    fwrite(data, 1, len, f);
    fclose(f);
    printf("==TDF== NEW %s -> %s\n", sig, path);
}

static int random_inputs(unsigned variant)
{
    unsigned long counts[TDF_CLASS_COUNT] = {0};
    uint64_t x = (uint64_t)g_opt.seed * 0x9E3779B97F4A7C15ULL + 1;
    static uint8_t buf[1024];
    for (long i = 0; i < g_opt.random_inputs; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = (size_t)(x % sizeof buf);
        for (size_t k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[k] = (uint8_t)(x >> 24);
        }
        tdf_class_t cls = run_once(buf, len, variant, 0);
        counts[cls]++;
        if (cls != TDF_CLASS_NONE && g_opt.save_failures)
            save_failure(buf, len);
    }
    printf("==TDF== RANDOM %ld inputs, seed %ld, variant %s:", g_opt.random_inputs, g_opt.seed,
           tdf_target->variants[variant].name);
    for (int c = 0; c < TDF_CLASS_COUNT; c++)
        if (counts[c])
            printf(" %s=%lu", tdf_class_name((tdf_class_t)c), counts[c]);
    printf("\n");
    return 0;
}

/* A directory the runner writes into: created if missing, must be a directory. */
static int output_dir(const char *flag, const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "==TDF== %s: cannot create directory %s: %s\n", flag, dir, strerror(errno));
        return 0;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "==TDF== %s: %s exists and is not a directory\n", flag, dir);
        return 0;
    }
    return 1;
}

/* DIR/<basename of path without .txt>. */
static void binary_name(const char *path, char *out, size_t outsz)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".txt") == 0)
        n -= 4;
    snprintf(out, outsz, "%s/%.*s", g_opt.to_binary, (int)n, base);
}

static int write_file(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, n, f) == n;
    ok = f && fclose(f) == 0 && ok;
    if (!ok)
        fprintf(stderr, "==TDF== cannot write %s: %s\n", path, strerror(errno));
    return ok;
}

/* Flags that only make sense with a run, or with one mode: a conflict is a
 * usage error, never silently ignored. */
static int check_flag_combinations(int nfiles, const char *files0)
{
    static const char *const run_only[] = {"trace", "print_trace", "text", "determinism", "quiet", "failure_json",
                                           "schedule", "step_cap", "save_schedule", "trace_json"};
    int run_given[] = {g_given.trace, g_given.print_trace, g_given.text, g_given.determinism, g_given.quiet,
                       g_given.failure_json, g_given.schedule, g_given.step_cap, g_given.save_schedule,
                       g_given.trace_json};
    const char *mode = NULL;
    int modes = 0;
    if (g_given.list)
        mode = "list", modes++;
    if (g_given.from_text)
        mode = "from_text", modes++;
    if (g_given.to_text)
        mode = "to_text", modes++;
    if (g_given.to_binary)
        mode = "to_binary", modes++;
    if (g_given.random_inputs)
        mode = "random_inputs", modes++;
    if (g_given.hunt)
        mode = "hunt", modes++;
    if (modes > 1)
        return usage_error("--list, --from_text, --to_text, --to_binary, --random_inputs and --hunt exclude each other");
    if (g_given.minimize_verbose && !g_given.minimize)
        return usage_error("--minimize_verbose is used with --minimize only");
    if (g_given.hunt_seconds && !g_given.hunt)
        return usage_error("--hunt_seconds is used with --hunt only");
    /* --hunt prints only its HUNT line (and the failure's headline): the printing flags do nothing there. */
    for (unsigned i = 0; g_given.hunt && i < 5; i++)
        if (run_given[i])
            return usage_error("--%s has no effect with --hunt (it prints only the HUNT line)", run_only[i]);
    int converting = mode && strcmp(mode, "random_inputs") != 0 && strcmp(mode, "hunt") != 0;
    for (unsigned i = 0; converting && i < sizeof run_only / sizeof run_only[0]; i++)
        if (run_given[i])
            return usage_error("--%s has no effect with --%s (nothing is run)", run_only[i], mode);
    /* --random_inputs prints only its histogram: the printing flags do nothing there. */
    for (unsigned i = 0; g_given.random_inputs && i < 6; i++)
        if (run_given[i])
            return usage_error("--%s has no effect with --random_inputs (it prints only the histogram)", run_only[i]);
    if (converting && g_given.variant && strcmp(mode, "list") != 0)
        return usage_error("--variant has no effect with --%s (nothing is run)", mode);
    if (g_given.trace_json && !*g_opt.trace_json)
        return usage_error("--trace_json needs a file path");
    if (g_given.trace_json && (g_given.random_inputs || g_given.determinism || g_given.minimize ||
                               strncmp(g_opt.schedule, "dfs:", 4) == 0))
        return usage_error("--trace_json writes one run of one INPUT (not with --random_inputs, --determinism, "
                           "--minimize or --schedule=dfs)");
    if (g_given.trace_json && nfiles != 1)
        return usage_error("--trace_json takes exactly one INPUT (got %d)", nfiles);
    if (g_given.out && !g_given.from_text)
        return usage_error("--out is the output of --from_text only");
    if (g_given.from_text && !g_given.out)
        return usage_error("--from_text needs --out=PATH");
    if (g_given.seed && !g_given.random_inputs && !g_given.hunt)
        return usage_error("--seed is used with --random_inputs and --hunt only");
    if (g_given.save_failures && !g_given.random_inputs)
        return usage_error("--save_failures is used with --random_inputs only");
    if (g_given.save_failures && !*g_opt.save_failures)
        return usage_error("--save_failures needs a directory");
    if (g_given.to_binary && !*g_opt.to_binary)
        return usage_error("--to_binary needs a directory");
    if (g_given.from_text && (!*g_opt.from_text || !*g_opt.out))
        return usage_error("--from_text and --out need a path");
    if (nfiles && (g_given.list || g_given.from_text || g_given.random_inputs))
        return usage_error("--%s takes no INPUT arguments (got %d, the first '%s')", mode, nfiles, esc(files0));
    return 1;
}

/* --minimize=OUT: one INPUT, bytes schedule, no other mode or printing flag. */
static int minimize_flags_ok(int nfiles)
{
    int other = g_given.list || g_given.from_text || g_given.to_text || g_given.to_binary || g_given.random_inputs ||
                g_given.trace || g_given.print_trace || g_given.text || g_given.determinism || g_given.quiet ||
                g_given.failure_json || g_given.save_schedule;
    if (!*g_opt.minimize)
        return usage_error("--minimize needs an output path");
    if (other)
        return usage_error("--minimize runs alone: it takes --variant and --step_cap, no other mode or printing flag");
    if (g_schedule.kind != SCHED_SOURCE_BYTES || g_schedule.random_tail)
        return usage_error("--minimize works on the input's own schedule bytes: --schedule=%s does not apply",
                           esc(g_opt.schedule));
    if (nfiles != 1)
        return usage_error("--minimize takes exactly one INPUT (got %d)", nfiles);
    return 1;
}

/* The variant an input runs on, and whether its expect-signature applies. */
static unsigned input_variant(const char *path, const input_t *in, unsigned flag_variant, unsigned env_variant,
                              int *check)
{
    const tdf_text_meta_t *m = &in->meta;
    unsigned want = 0; /* an expectation without expect-variant is for the first variant */
    if (m->expect_variant[0])
        want = tdf_variant_resolve(tdf_target, m->expect_variant); /* the parser checked the name */
    *check = m->expect_signature[0] != 0 || (RUNNER_TSAN && m->expect_tsan[0]);
    if (g_given.variant) {
        if (flag_variant != want && (m->expect_variant[0] || *check)) {
            if (m->expect_variant[0])
                fprintf(stderr, "==TDF== note: %s expects variant %s (line %u); --variant=%s overrides it: "
                                "its expectations do not apply\n",
                        path, m->expect_variant, m->expect_variant_line, tdf_target->variants[flag_variant].name);
            else
                fprintf(stderr, "==TDF== note: %s names no variant, so its expectation (line %u) is for %s; "
                                "--variant=%s: its expectations do not apply\n",
                        path, m->expect_signature_line, tdf_target->variants[0].name,
                        tdf_target->variants[flag_variant].name);
            *check = 0;
        }
        return flag_variant;
    }
    if (!m->expect_variant[0])
        return env_variant;
    if (env_variant != want && getenv("TDF_VARIANT") && *getenv("TDF_VARIANT"))
        fprintf(stderr, "==TDF== note: TDF_VARIANT=%s not used for %s: it names variant %s (line %u)\n",
                tdf_target->variants[env_variant].name, path, m->expect_variant, m->expect_variant_line);
    return want;
}

/* Compares the whole signature; prints and returns 0 on a mismatch. */
static int check_expectation(const char *path, const input_t *in, tdf_class_t cls, const char *sig, unsigned variant)
{
    int tsan = RUNNER_TSAN && in->meta.expect_tsan[0];
    const char *want = tsan ? in->meta.expect_tsan : in->meta.expect_signature;
    unsigned line = tsan ? in->meta.expect_tsan_line : in->meta.expect_signature_line;
    const char *got = cls == TDF_CLASS_NONE ? "NONE" : sig;
    if (strcmp(want, got) == 0)
        return 1;
    printf("==TDF== EXPECTATION FAILED expected %s got %s%s (%s line %u, variant %s)\n", want, got,
           cls == TDF_CLASS_NONE ? " (no failure)" : "", path, line,
           tdf_target->variants[variant].name);
    return 0;
}

/*
 * --hunt=N: the random and PCT baselines of scripts/matrix.sh. Exec i runs
 * the INPUTs in turn (i % count), or a seeded random input when none is
 * given, with the --schedule source reseeded for that exec (random:/pct: a
 * seed mixed from SEED and i, so exec i of seed SEED is reproducible alone),
 * and the hunt stops at the first failure, at N execs or at --hunt_seconds.
 * A sanitizer report or fault ends the process inside an exec: the death
 * hook (fuzz/report.c) prints the HUNT line there, after the report.
 */
static struct {
    long execs;
    struct timespec t0;
    const char *input;
    uint64_t seed;
} g_hunt;

static double hunt_elapsed(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - g_hunt.t0.tv_sec) + (double)(t.tv_nsec - g_hunt.t0.tv_nsec) / 1e9;
}

/* splitmix64: neighbouring (SEED, i) pairs give unrelated schedule seeds. */
static uint64_t hunt_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static void hunt_died(void)
{
    /* Async-signal context (a fault) or inside the sanitizer's death: stdio
     * on stdout is what the rest of the runner uses; it is line buffered. */
    double t = hunt_elapsed();
    printf("==TDF== HUNT died in exec %ld after %.3f s (%.0f execs/s): the report above (input %s, schedule seed "
           "%llu)\n",
           g_hunt.execs, t, t > 0 ? (double)g_hunt.execs / t : 0.0, g_hunt.input,
           (unsigned long long)g_hunt.seed);
    fflush(stdout);
}

static int hunt(const char *const *files, int nfiles, unsigned flag_variant, unsigned env_variant)
{
    typedef struct {
        uint8_t *data;
        size_t size;
        unsigned variant;
    } pooled_t;
    static uint8_t buf[MAX_INPUT];
    pooled_t *pool = nfiles ? calloc((size_t)nfiles, sizeof *pool) : NULL;
    if (nfiles && !pool)
        abort();
    for (int i = 0; i < nfiles; i++) {
        input_t in;
        int check;
        if (!load_input(files[i], buf, &in))
            return EXIT_USAGE;
        /* The input's expect-variant applies as for a replay; its expectation does not (the schedule is not its own). */
        pool[i].variant = input_variant(files[i], &in, flag_variant, env_variant, &check);
        pool[i].size = (size_t)in.size;
        pool[i].data = malloc(pool[i].size ? pool[i].size : 1);
        if (!pool[i].data)
            abort();
        memcpy(pool[i].data, buf, pool[i].size);
    }
    unsigned variant = env_variant; /* --variant if given, else $TDF_VARIANT, else the first */
    (void)flag_variant;
    const sched_source_t base = g_schedule;
    /* stress: the seed of its yield policy and data choices (the OS decides the rest). */
    const int reseed = base.kind == SCHED_SOURCE_RANDOM || base.kind == SCHED_SOURCE_PCT || base.kind == SCHED_SOURCE_STRESS;
    uint64_t x = (uint64_t)g_opt.seed * 0x9E3779B97F4A7C15ULL + 1; /* random inputs: as --random_inputs */
    clock_gettime(CLOCK_MONOTONIC, &g_hunt.t0);
    g_hunt.input = "(none)";
    tdf_death_hook = hunt_died;
    /* Clean execs record no trace (nobody reads it; ~20% of an exec of the
     * plain build), a failing one is run again traced (below). Kept traced:
     * the stress backend, whose run is not a function of its seed, and builds
     * with a sanitizer, where an exec can end in a sanitizer report whose
     * RECENT lines come from the trace (a fault in the plain build prints
     * none: the HUNT line names the exec's input and seed to replay it). */
    const int untraced = base.kind != SCHED_SOURCE_STRESS && !TDF_RUNNER_SANITIZED;
    tdf_class_t cls = TDF_CLASS_NONE;
    const uint8_t *data = NULL;
    size_t size = 0;
    for (g_hunt.execs = 0; g_hunt.execs < g_opt.hunt;) {
        if (g_opt.hunt_seconds && hunt_elapsed() >= (double)g_opt.hunt_seconds)
            break;
        long i = g_hunt.execs;
        if (nfiles) {
            const pooled_t *p = &pool[i % nfiles];
            data = p->data, size = p->size, variant = p->variant;
            g_hunt.input = files[i % nfiles];
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size = (size_t)(x % 1024);
            for (size_t k = 0; k < size; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                buf[k] = (uint8_t)(x >> 24);
            }
            data = buf;
            g_hunt.input = "(random input)";
        }
        g_schedule = base;
        if (reseed)
            g_schedule.seed = hunt_mix(base.seed ^ hunt_mix((uint64_t)i));
        g_hunt.seed = g_schedule.seed;
        g_hunt.execs = i + 1; /* counts the exec in flight: a death inside it reports it */
        g_hunt_untraced = untraced;
        cls = run_once(data, size, variant, 0);
        g_hunt_untraced = 0;
        if (cls != TDF_CLASS_NONE) {
            /* The failing exec again with the trace ring, as the libFuzzer
             * entry does: the run is a function of its input and seed (the
             * trace does not change it), so the same failure and choice log. */
            if (untraced)
                cls = run_once(data, size, variant, 0);
            break;
        }
    }
    tdf_death_hook = NULL;
    double t = hunt_elapsed();
    double rate = t > 0 ? (double)g_hunt.execs / t : 0.0;
    int rc = 0;
    if (cls != TDF_CLASS_NONE) {
        char sig[320];
        tdf_failure_signature(tdf_failure(), sig, sizeof sig);
        printf("==TDF== %s %s\n==TDF== SIGNATURE %s\n", tdf_class_name(cls), tdf_failure()->name, sig);
        printf("==TDF== HUNT found in exec %ld after %.3f s (%.0f execs/s): %s (input %s, schedule seed %llu)\n",
               g_hunt.execs, t, rate, sig, g_hunt.input, (unsigned long long)g_hunt.seed);
        rc = tdf_class_exit_code(cls);
        if (g_opt.save_schedule) {
            /* The failing exec as a plain input that checks itself (the choice log is the run's). */
            char head[1024];
            snprintf(head, sizeof head,
                     "# teardown-fuzz input found by --hunt (exec %ld, --schedule=%s), text form (docs/INPUT.md)\n"
                     "# expect-variant %s\n# expect-signature %s\n",
                     g_hunt.execs, g_opt.schedule, tdf_target->variants[variant].name, sig);
            /* A find that cannot be written (said above) is still a find: the
             * exit stays the failure's class, not a usage error. */
            if (!save_schedule_as(g_opt.save_schedule, data, size, head))
                printf("==TDF== HUNT failing exec not written to %s (see above); the exit is the failure's\n",
                       g_opt.save_schedule);
            else
                printf("==TDF== HUNT failing exec written to %s\n", g_opt.save_schedule);
        }
    } else {
        printf("==TDF== HUNT nothing in %ld execs, %.3f s (%.0f execs/s), variant %s, schedule %s\n", g_hunt.execs, t,
               rate, tdf_target->variants[variant].name, g_opt.schedule);
    }
    for (int i = 0; i < nfiles; i++)
        free(pool[i].data);
    free(pool);
    return rc;
}

/*
 * --schedule=dfs:P[:LIMIT][:nopor]: every schedule of one input's events with at most
 * P preemptions (model/sched/dfs.h), in rounds of bound 0, 1, ..., P
 * (iterative context bounding): the first failure found is one with the
 * fewest preemptions, and each round says whether its bound was exhausted.
 * Round c re-runs the schedules of rounds < c (the search is stateless), so
 * "new" counts the schedules with exactly c preemptions. It stops at the
 * first failure, which is run once more with the printing flags and written
 * as a plain input (--save_schedule, else stdout), or after LIMIT runs.
 * Sleep sets over the steps' footprints skip schedules equivalent to one run
 * already (model/sched/dfs.c); :nopor turns them off, to measure them.
 */
#define EXIT_DFS_INCOMPLETE 4

/* What a round's tree branched on (docs/INPUT.md "dfs"): per kind of choice
 * point, the points recorded (the new frames of every run), their average n,
 * and the alternatives run there (where the schedules went). */
static void print_dfs_tree(unsigned long round, const sched_dfs_stats_t *st)
{
    static const char *const kind[4] = {"preemptible", "free picks", "data", "flags"};
    char buf[512];
    size_t u = 0;
    for (int k = 0; k < 4 && u < sizeof buf; k++)
        u += (size_t)snprintf(buf + u, sizeof buf - u, "%s%s %lu (n %.2f, %lu run)", k ? ", " : "", kind[k],
                              st->frames[k], st->frames[k] ? (double)st->n_sum[k] / (double)st->frames[k] : 0.0,
                              st->branched[k]);
    if (st->shallowest == SIZE_MAX)
        printf("==TDF== DFS tree P<=%lu: choice points %s; no alternative run", round, buf);
    else
        printf("==TDF== DFS tree P<=%lu: choice points %s; shallowest varied %zu of %zu", round, buf, st->shallowest,
               st->max_depth);
    printf("; sleep sets: %lu entries, %lu pruned, %lu runs redundant past a sleeping pick\n", st->entries,
           st->pruned, st->sleep_blocked);
}
static int explore(const char *path, const uint8_t *data, size_t size, unsigned variant)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tdf_class_t cls = TDF_CLASS_NONE;
    int exhausted = 0, diverged = 0, incomplete = 0;
    unsigned long runs = 0, prev = 0, pruned = 0;
    unsigned found_pre = 0;
    sched_dfs_t *dfs = NULL;
    for (unsigned long c = 0; c <= g_dfs.bound && cls == TDF_CLASS_NONE && !diverged; c++) {
        sched_dfs_destroy(dfs);
        dfs = sched_dfs_create((unsigned)c, SCHED_DFS_PRUNE_LOCAL | (g_dfs.nopor ? 0 : SCHED_DFS_SLEEP_SETS));
        if (!dfs) {
            fprintf(stderr, "==TDF== dfs: out of memory\n");
            return EXIT_USAGE;
        }
        exhausted = 0;
        for (;;) {
            if (g_dfs.limit && runs >= g_dfs.limit)
                break;
            if (!sched_dfs_next(dfs, &g_schedule)) {
                exhausted = 1;
                break;
            }
            cls = run_once(data, size, variant, 0);
            runs++;
            if (!sched_dfs_record(dfs)) {
                diverged = 1;
                break;
            }
            if (cls != TDF_CLASS_NONE) {
                found_pre = sched_dfs_preemptions(dfs);
                break;
            }
        }
        sched_dfs_stats_t st = sched_dfs_stats(dfs);
        incomplete |= st.incomplete;
        pruned = st.pruned;
        if (exhausted)
            printf("==TDF== DFS round P<=%lu: %lu schedules (%lu with exactly %lu preemptions), exhausted; %lu "
                   "alternatives pruned (local steps, sleep sets), deepest run %zu choice points\n",
                   c, st.schedules, st.schedules - prev, c, st.pruned, st.max_depth);
        else
            printf("==TDF== DFS round P<=%lu: stopped after %lu schedules; %lu alternatives pruned (local steps, "
                   "sleep sets), deepest run %zu choice points\n",
                   c, st.schedules, st.pruned, st.max_depth);
        print_dfs_tree(c, &st);
        prev = st.schedules;
        if (!exhausted)
            break;
    }
    sched_dfs_stats_t st = sched_dfs_stats(dfs);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    int rc = 0;
    if (cls != TDF_CLASS_NONE && !diverged) {
        run_and_print(path, data, size, variant, stdout); /* the same schedule: g_schedule still holds it */
        /* The written input names its variant and signature: it replays and checks itself. */
        char sig[320], head[1024];
        tdf_failure_signature(tdf_failure(), sig, sizeof sig);
        snprintf(head, sizeof head,
                 "# teardown-fuzz input found by --schedule=dfs:%lu (%u preemptions), text form (docs/INPUT.md)\n"
                 "# expect-variant %s\n# expect-signature %s\n",
                 g_dfs.bound, found_pre, tdf_target->variants[variant].name, sig);
        /* As in the hunt: a failing schedule that cannot be written (said
         * above) is still a failure, and the exit is its class. */
        if (g_opt.save_schedule) {
            if (!save_schedule_as(g_opt.save_schedule, data, size, head))
                printf("==TDF== DFS failing schedule not written to %s (see above)\n", g_opt.save_schedule);
            else
                printf("==TDF== DFS failing schedule (%u preemptions) written to %s\n", found_pre, g_opt.save_schedule);
        } else {
            printf("==TDF== DFS failing schedule (%u preemptions) as a plain input (--save_schedule=PATH writes it):\n",
                   found_pre);
            (void)save_schedule_as(NULL, data, size, head);
        }
        rc = tdf_class_exit_code(cls);
    }
    const char *how = diverged               ? "stopped: a run did not follow its prefix (the run is not deterministic)"
                      : cls != TDF_CLASS_NONE ? "stopped at the first failure"
                      : incomplete            ? "incomplete: a run made more choices than the log holds"
                      : exhausted             ? "exhausted: every schedule within the bound ran"
                                              : "stopped at LIMIT before the space was exhausted";
    printf("==TDF== DFS %s P=%lu%s variant=%s: %lu schedules (%lu runs), %s; %lu alternatives pruned, %.2f s "
           "(%.0f runs/s)\n",
           path, g_dfs.bound, g_dfs.nopor ? " (sleep sets off)" : "", tdf_target->variants[variant].name, st.schedules, runs, how, pruned, secs,
           secs > 0 ? (double)runs / secs : 0.0);
    sched_dfs_destroy(dfs);
    if (diverged)
        return EXIT_DIFFERS;
    if (rc)
        return rc;
    return exhausted && !incomplete ? 0 : EXIT_DFS_INCOMPLETE;
}

int main(int argc, char **argv)
{
    /* Line-buffered: a sanitizer abort must not swallow what was printed
     * before it (the input's text form) when output goes to a pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* No libFuzzer in this binary: nobody reads the extra counters. */
    feedback_disable();
    static uint8_t data[MAX_INPUT];
    /* The command line as given, for reexec_unsymbolized: argv is compacted
     * below. Static: LeakSanitizer sees it in use until the exit. */
    static char **given_argv;
    given_argv = malloc(((size_t)argc + 1) * sizeof *given_argv);
    if (given_argv)
        memcpy(given_argv, argv, ((size_t)argc + 1) * sizeof *given_argv);
    /* Inputs are the non-flag arguments, compacted to the front of argv. */
    const char **files = (const char **)argv;
    int nfiles = 0, flags_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!flags_done && strcmp(a, "--") == 0) {
            flags_done = 1; /* the rest are inputs, even if they start with - */
        } else if (!flags_done && strncmp(a, "--", 2) == 0) {
            int consumed;
            if (!parse_flag(a + 2, i + 1 < argc ? argv[i + 1] : NULL, &consumed))
                return EXIT_USAGE;
            i += consumed;
        } else if (!flags_done && a[0] == '-' && a[1]) {
            usage_error("unknown flag %s: flags start with -- (an input named so: put -- before it)", esc(a));
            return EXIT_USAGE;
        } else {
            files[nfiles++] = a;
        }
    }
    if (g_opt.help) {
        usage(stdout);
        return 0;
    }
    if (!check_flag_combinations(nfiles, nfiles ? files[0] : "") || !parse_schedule(g_opt.schedule))
        return EXIT_USAGE;
    /* --variant= (empty) is the first variant, ignoring $TDF_VARIANT. */
    unsigned flag_variant = g_given.variant ? tdf_variant_resolve(tdf_target, g_opt.variant) : 0; /* exits 2 on a bad name */
    /* $TDF_VARIANT only matters without --variant: a stale one does not stop an explicit run. */
    unsigned env_variant = g_given.variant ? flag_variant : tdf_variant_resolve(tdf_target, NULL);
    unsigned variant = g_given.variant ? flag_variant : env_variant;
    extern int tdf_swimlanes_on_crash;
    tdf_swimlanes_on_crash = g_opt.trace != 0;
    if (g_given.minimize) { /* fuzz/minimize.c; exit codes in minimize.h */
        input_t in;
        int check;
        if (!minimize_flags_ok(nfiles))
            return EXIT_USAGE;
#if RUNNER_ASAN
        if (!g_opt.minimize_verbose && given_argv) /* verbose: the reports are shown, symbolized */
            reexec_unsymbolized(given_argv);
#endif
        if (!load_input(files[0], data, &in))
            return EXIT_USAGE;
        tdf_install_crash_handlers(0); /* the alternate stack its fault guard runs on */
        unsigned v = input_variant(files[0], &in, flag_variant, env_variant, &check);
        tdf_minimize_args_t ma = {.target = tdf_target, .input_path = files[0], .data = data, .size = (size_t)in.size,
                                  .meta = &in.meta, .check = check, .variant = v,
                                  .step_cap = (uint32_t)g_opt.step_cap, .out = g_opt.minimize,
                                  .verbose = g_opt.minimize_verbose != 0};
        return tdf_minimize(&ma);
    }
    if (g_opt.list) {
        tdf_print_variants(tdf_target);
        return 0;
    }
    tdf_install_crash_handlers(0);

    if (g_opt.from_text) {
        static uint8_t head[32];
        long h;
        input_t in;
        if (!read_file(g_opt.from_text, head, sizeof head, &h))
            return EXIT_USAGE;
        if (!tdf_is_text(head, (size_t)h)) {
            fprintf(stderr, "==TDF== %s is not in text form: its first line must be "
                            "'# teardown-fuzz ...', 'format N' or 'target <name>' (docs/INPUT.md)\n",
                    g_opt.from_text);
            return EXIT_USAGE;
        }
        if (!load_input(g_opt.from_text, data, &in) || !write_file(g_opt.out, data, (size_t)in.size))
            return EXIT_USAGE;
        return 0;
    }
    if (g_schedule.kind == SCHED_SOURCE_STRESS && g_opt.determinism) {
        fprintf(stderr, "==TDF== --schedule=stress is not deterministic: --determinism does not apply\n");
        return EXIT_USAGE;
    }
    if (g_dfs.on && g_given.random_inputs) {
        fprintf(stderr, "==TDF== --schedule=dfs explores exactly one INPUT (not --determinism or --random_inputs)\n");
        return EXIT_USAGE;
    }
    if (g_given.hunt) {
        if (g_dfs.on)
            return usage_error("--hunt runs many execs of its own: --schedule=dfs does not apply"), EXIT_USAGE;
        if (nfiles && g_schedule.kind == SCHED_SOURCE_BYTES)
            return usage_error("--hunt over INPUT files needs --schedule=random:SEED or pct:SEED[...] (with the "
                               "input's own schedule every round of the files would run the same execs)"),
                   EXIT_USAGE;
        if (g_given.seed && nfiles)
            return usage_error("--seed seeds --hunt's random inputs: with INPUT files give the seed in --schedule"),
                   EXIT_USAGE;
        return hunt(files, nfiles, flag_variant, env_variant);
    }
    if (g_opt.random_inputs > 0) {
        if (g_opt.save_failures && !output_dir("--save_failures", g_opt.save_failures))
            return EXIT_USAGE;
        return random_inputs(variant);
    }
    if (g_dfs.on) {
        input_t in;
        int check;
        if (nfiles != 1 || g_opt.determinism || g_given.random_inputs) {
            fprintf(stderr, "==TDF== --schedule=dfs explores exactly one INPUT (not --determinism or --random_inputs)\n");
            return EXIT_USAGE;
        }
        if (!load_input(files[0], data, &in))
            return EXIT_USAGE;
        /* Its expectation is about its own schedule, not about the search. */
        return explore(files[0], data, (size_t)in.size, input_variant(files[0], &in, flag_variant, env_variant, &check));
    }
    if (g_opt.save_schedule && (nfiles != 1 || g_opt.determinism || g_opt.random_inputs)) {
        fprintf(stderr, "==TDF== --save_schedule takes exactly one INPUT run once (not --determinism or --random_inputs)\n");
        return EXIT_USAGE;
    }
    if (nfiles == 0) {
        fprintf(stderr, "==TDF== no INPUT given\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    /* Every input is checked before any runs: a bad one is a usage error with
     * nothing printed for the others. */
    for (int i = 0; i < nfiles; i++) {
        input_t in;
        if (!load_input(files[i], data, &in))
            return EXIT_USAGE;
        tdf_script_t script;
        char err[300];
        tdf_decode(tdf_target, data, (size_t)in.size, &script);
        if (g_opt.to_text && !tdf_text_fits(&script, err, sizeof err)) {
            fprintf(stderr, "==TDF== %s has no text form: %s\n", files[i], err);
            return EXIT_USAGE;
        }
        if (g_opt.to_binary) {
            char out_i[1024], out_k[1024];
            binary_name(files[i], out_i, sizeof out_i);
            for (int k = 0; k < i; k++) {
                binary_name(files[k], out_k, sizeof out_k);
                if (strcmp(out_i, out_k) == 0) {
                    fprintf(stderr, "==TDF== --to_binary: %s and %s would both be written to %s\n", files[k],
                            files[i], out_i);
                    return EXIT_USAGE;
                }
            }
        }
    }
    if (g_opt.to_binary && !output_dir("--to_binary", g_opt.to_binary))
        return EXIT_USAGE;

    if (g_given.trace_json && !(g_trace_json = fopen(g_opt.trace_json, "w"))) {
        fprintf(stderr, "==TDF== --trace_json: cannot write %s: %s\n", esc(g_opt.trace_json), strerror(errno));
        return EXIT_USAGE;
    }
    int exit_code = 0, unmet = 0, differs = 0;
    for (int i = 0; i < nfiles; i++) {
        input_t in;
        if (!load_input(files[i], data, &in)) /* changed since the check above */
            return EXIT_USAGE;
        if (g_opt.to_text) {
            tdf_script_t script;
            tdf_decode(tdf_target, data, (size_t)in.size, &script);
            tdf_write_text(tdf_target, &script, stdout);
            continue;
        }
        if (g_opt.to_binary) {
            char out[1024];
            binary_name(files[i], out, sizeof out);
            if (!write_file(out, data, (size_t)in.size))
                return EXIT_USAGE;
            continue;
        }
        int check;
        unsigned v = input_variant(files[i], &in, flag_variant, env_variant, &check);
        tdf_class_t cls;
        char sig[320] = "";
        if (g_opt.determinism) {
            int same;
            cls = determinism_check(files[i], data, (size_t)in.size, v, &same, sig, sizeof sig);
            differs |= !same;
        } else {
            cls = run_and_print(files[i], data, (size_t)in.size, v, stdout);
            if (g_opt.save_schedule && !save_schedule(g_opt.save_schedule, data, (size_t)in.size))
                return EXIT_USAGE;
            if (cls != TDF_CLASS_NONE)
                tdf_failure_signature(tdf_failure(), sig, sizeof sig);
            if (cls != TDF_CLASS_NONE && exit_code == 0)
                exit_code = tdf_class_exit_code(cls);
        }
        if (check && !check_expectation(files[i], &in, cls, sig, v))
            unmet = 1;
    }
    if (unmet)
        return EXIT_EXPECTATION;
    if (differs)
        return EXIT_DIFFERS;
    return exit_code;
}
