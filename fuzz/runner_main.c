/*
 * Standalone runner: replays inputs without libFuzzer (every build, plain gcc
 * included), converts between binary and text form, checks determinism and
 * runs seeded random inputs. Exit code: the class of the first failure
 * (docs/REPORTS.md), 0 if none, 2 for usage errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "input.h"
#include "report.h"
#include "target_env.h"

#define MAX_INPUT (1u << 20)

typedef struct options {
#define TDF_FLAG_STR_T const char *
#define TDF_FLAG_INT_T long
#define TDF_FLAG(kind, name, dflt, help) TDF_FLAG_##kind##_T name;
#include "flags.def"
#undef TDF_FLAG
} options_t;

static options_t g_opt = {
#define TDF_FLAG(kind, name, dflt, help) .name = dflt,
#include "flags.def"
#undef TDF_FLAG
};

static void usage(FILE *out)
{
    fprintf(out, "usage: %s_run [--flag=value ...] INPUT...\n", tdf_target->name);
#define TDF_FLAG(kind, name, dflt, help) fprintf(out, "  --%-16s %s\n", #name, help);
#include "flags.def"
#undef TDF_FLAG
}

static int parse_flag(const char *arg)
{
    char name[64];
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    if (n >= sizeof name)
        return 0;
    for (size_t i = 0; i < n; i++)
        name[i] = arg[i] == '-' ? '_' : arg[i];
    name[n] = 0;
    const char *value = eq ? eq + 1 : "1";
#define TDF_FLAG(kind, fname, dflt, help)                         \
    if (strcmp(name, #fname) == 0) {                              \
        TDF_FLAG_SET_##kind(g_opt.fname, value);                  \
        return 1;                                                 \
    }
#define TDF_FLAG_SET_STR(field, v) (field) = (v)
#define TDF_FLAG_SET_INT(field, v) (field) = strtol((v), NULL, 0)
#include "flags.def"
#undef TDF_FLAG
    return 0;
}

static long read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "==TDF== cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return (long)n;
}

/* Loads an input file in either form into binary. */
static long load_input(const char *path, uint8_t *buf, size_t cap)
{
    static uint8_t raw[MAX_INPUT + 1];
    long n = read_file(path, raw, MAX_INPUT);
    if (n < 0)
        return -1;
    if (!tdf_is_text(raw, (size_t)n)) {
        /* A text-form body behind a wrong first line (a free comment) is a
         * likely mistake: say so. A fuzzer-made printable input is not. */
        raw[n] = 0;
        if (strstr((const char *)raw, "\nevent ") || strstr((const char *)raw, "\ntarget "))
            fprintf(stderr, "==TDF== note: %s looks like the text form but does not start with "
                            "'# teardown-fuzz' or 'target ': read as a binary input\n", path);
        memcpy(buf, raw, (size_t)n);
        return n;
    }
    raw[n] = 0;
    char err[200];
    long m = tdf_parse_text(tdf_target, (const char *)raw, buf, cap, err, sizeof err);
    if (m < 0)
        fprintf(stderr, "==TDF== %s: %s\n", path, err);
    return m;
}

static int apply_schedule_override(tdf_script_t *s)
{
    unsigned long seed = 0, depth = 3;
    if (strcmp(g_opt.schedule, "input") == 0)
        return 1;
    if (sscanf(g_opt.schedule, "random:%lu", &seed) == 1) {
        s->schedule = (sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = seed};
        return 1;
    }
    if (sscanf(g_opt.schedule, "pct:%lu:%lu", &seed, &depth) >= 1) {
        s->schedule = (sched_source_t){.kind = SCHED_SOURCE_PCT, .seed = seed, .pct_depth = (unsigned)depth};
        return 1;
    }
    fprintf(stderr, "==TDF== bad --schedule '%s'\n", g_opt.schedule);
    return 0;
}

static tdf_class_t run_once(const uint8_t *data, size_t size, unsigned variant, int full_trace)
{
    tdf_script_t script;
    tdf_decode(tdf_target, data, size, &script);
    if (!apply_schedule_override(&script))
        exit(2);
    tdf_run_options_t opts = {.variant = variant, .full_trace = full_trace, .step_cap = (uint32_t)g_opt.step_cap};
    return tdf_run(tdf_target, &script, &opts);
}

/* Runs and prints everything the flags ask for into out. */
static tdf_class_t run_and_print(const char *path, const uint8_t *data, size_t size, unsigned variant, FILE *out)
{
    int full = g_opt.trace || g_opt.print_trace || g_opt.determinism;
    if (g_opt.text) {
        tdf_script_t script;
        tdf_decode(tdf_target, data, size, &script);
        tdf_write_text(tdf_target, &script, out);
    }
    tdf_class_t cls = run_once(data, size, variant, full);
    if (g_opt.trace)
        tdf_print_swimlanes(out);
    if (g_opt.print_trace || g_opt.determinism)
        tdf_print_trace(out);
    if (cls != TDF_CLASS_NONE) {
        if (g_opt.quiet) {
            char sig[320];
            tdf_failure_signature(tdf_failure(), sig, sizeof sig);
            fprintf(out, "==TDF== %s %s\n==TDF== SIGNATURE %s\n", tdf_class_name(cls), tdf_failure()->name, sig);
        } else {
            tdf_print_failure(out);
        }
    }
    fprintf(out, "==TDF== RESULT %s variant=%s class=%s steps=%lu\n", path, tdf_target->variants[variant].name,
            tdf_class_name(cls), (unsigned long)sched_steps());
    return cls;
}

static int determinism_check(const char *path, const uint8_t *data, size_t size, unsigned variant)
{
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    FILE *fa = open_memstream(&a, &na);
    run_and_print(path, data, size, variant, fa);
    fclose(fa);
    FILE *fb = open_memstream(&b, &nb);
    run_and_print(path, data, size, variant, fb);
    fclose(fb);
    int same = na == nb && memcmp(a, b, na) == 0;
    printf("==TDF== DETERMINISM %s %s (%zu bytes of trace)\n", same ? "OK" : "DIFFERS", path, na);
    free(a);
    free(b);
    return same;
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
    mkdir(g_opt.save_failures, 0777); /* EEXIST is fine */
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

int main(int argc, char **argv)
{
    /* Line-buffered: a sanitizer abort must not swallow what was printed
     * before it (the input's text form) when output goes to a pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    static uint8_t data[MAX_INPUT];
    /* Inputs are the non-flag arguments, compacted to the front of argv. */
    const char **files = (const char **)argv;
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            if (!parse_flag(argv[i] + 2)) {
                fprintf(stderr, "==TDF== unknown flag %s\n", argv[i]);
                usage(stderr);
                return 2;
            }
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (g_opt.help) {
        usage(stdout);
        return 0;
    }
    unsigned variant = tdf_variant_resolve(tdf_target, g_opt.variant); /* exits 2 on a bad name */
    extern int tdf_swimlanes_on_crash;
    tdf_swimlanes_on_crash = g_opt.trace != 0;
    if (g_opt.list) {
        tdf_print_variants(tdf_target);
        return 0;
    }
    tdf_install_crash_handlers(0);

    if (g_opt.from_text) {
        static uint8_t head[32];
        long h = read_file(g_opt.from_text, head, sizeof head);
        if (h >= 0 && !tdf_is_text(head, (size_t)h)) {
            fprintf(stderr, "==TDF== %s is not in text form: its first line must be "
                            "'# teardown-fuzz ...' or 'target <name>' (docs/INPUT.md)\n",
                    g_opt.from_text);
            return 2;
        }
        long n = load_input(g_opt.from_text, data, sizeof data);
        FILE *f = n >= 0 && g_opt.out ? fopen(g_opt.out, "wb") : NULL;
        if (!f) {
            fprintf(stderr, "==TDF== --from_text needs a valid text input and --out=PATH\n");
            return 2;
        }
        fwrite(data, 1, (size_t)n, f);
        fclose(f);
        return 0;
    }
    if (g_opt.random_inputs > 0)
        return random_inputs(variant);
    if (nfiles == 0) {
        usage(stderr);
        return 2;
    }
    int exit_code = 0;
    for (int i = 0; i < nfiles; i++) {
        long n = load_input(files[i], data, sizeof data);
        if (n < 0)
            return 2;
        if (g_opt.to_text) {
            tdf_script_t script;
            tdf_decode(tdf_target, data, (size_t)n, &script);
            tdf_write_text(tdf_target, &script, stdout);
            continue;
        }
        if (g_opt.determinism) {
            if (!determinism_check(files[i], data, (size_t)n, variant))
                exit_code = 1;
            continue;
        }
        tdf_class_t cls = run_and_print(files[i], data, (size_t)n, variant, stdout);
        if (cls != TDF_CLASS_NONE && exit_code == 0)
            exit_code = tdf_class_exit_code(cls);
    }
    return exit_code;
}
