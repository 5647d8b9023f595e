/*
 * The lines of one scripted run's full trace, for the lifecycle tests: each
 * test drives tdf_run() with a scripted input, then asserts the order of the
 * recorder drivers' DbgPrint lines (and, where a rule is about the model, of
 * its own trace lines).
 *
 * Segments: the PnP thread traces a marker at every event ("event <name> <node>",
 * "stimulus <name> -> <device>", "event <name>: skipped (no ...)") and at the
 * final teardown ("end of events ..."). Segment 0 is the start of the tree,
 * segment i+1 is event i, the last one the teardown. A power-policy thread's
 * lines belong to the event that posted it, wherever they land. PnP-side
 * selections keep the lines of the "pnp" model thread (fiber 0) and of the
 * power-policy threads: the framework's PnP/power callbacks; I/O dispatched
 * on a stimulus thread is left out.
 *
 * Schedules: NO_PREEMPT (no schedule bytes: the PnP thread runs until it blocks
 * or ends; a stimulus thread runs only then) and STIM_FIRST (bytes 0x01: at
 * every choice point runnable thread #1 runs, i.e. while the PnP thread (#0)
 * is runnable, the oldest stimulus thread: a stimulus happens as soon as the
 * PnP thread reaches a yield point, and runs until it blocks or ends).
 * stim_first(n) gives only n such bytes, then no preemption.
 *
 * LIFECYCLE_TRACE=1 prints every run's lines (segment, thread, text; "| "
 * marks a recorder line).
 */
#ifndef TDF_TESTS_TRACE_LINES_H
#define TDF_TESTS_TRACE_LINES_H

#include "../model/pnp/pnp.h"
#include "tdf_test.h"

#define EV(kind, arg) ((tdf_event_t){(uint8_t)(kind), (uint8_t)(arg)})
#define EVENTS(...) (const tdf_event_t[]){__VA_ARGS__}, \
                    (unsigned)(sizeof((const tdf_event_t[]){__VA_ARGS__}) / sizeof(tdf_event_t))

#define STIM_FIRST stim_first(~(size_t)0)

#define PNP_FIBER 0
#define MAX_LINES 20000
#define ANY_SEG (~0u)

typedef struct line {
    char text[256];       /* DbgPrint text without "DbgPrint: ", or the model's trace text */
    char fiber_name[32];  /* the model thread's name: "pnp", "bus-relations", a stimulus... */
    int fiber;
    int pnp_side; /* the PnP thread or a power-policy thread: framework callbacks */
    int dbg;      /* a DbgPrint line of the recorder */
    unsigned seg; /* segment: 0 start, i+1 event i, last: teardown */
} line_t;

#define SEG_START 0u
#define SEG_EVENT(i) ((unsigned)(i) + 1u)
#define SEG_END (g_nevents + 1u)

#define CHECK_CLEAN(result) check_clean_at((result), __FILE__, __LINE__)

#define EXPECT(seg, pnp_only, filter, ...) \
    expect_lines((seg), (pnp_only), (filter), (const char *const[]){__VA_ARGS__, NULL}, __FILE__, __LINE__)
#define EXPECT_NONE(seg, pnp_only, filter) \
    expect_lines((seg), (pnp_only), (filter), (const char *const[]){NULL}, __FILE__, __LINE__)

#define EXPECT_IN_ORDER(seg, pnp_only, ...) \
    expect_subsequence((seg), (pnp_only), (const char *const[]){__VA_ARGS__, NULL}, __FILE__, __LINE__)

#define BEFORE(a, b) before_at((a), (b), __FILE__, __LINE__)

/* ---- definitions: static, as in tdf_test.h (a test program is one translation unit) ---- */

static const sched_source_t NO_PREEMPT = {.kind = SCHED_SOURCE_BYTES};

static inline sched_source_t stim_first(size_t bytes)
{
    static uint8_t ones[1024];
    memset(ones, 0x01, sizeof ones);
    return (sched_source_t){.kind = SCHED_SOURCE_BYTES, .bytes = ones,
                            .len = bytes < sizeof ones ? bytes : sizeof ones};
}

static line_t g_lines[MAX_LINES];
static unsigned g_nlines, g_nevents;

static inline int is_marker(const char *t)
{
    if (strncmp(t, "event ", 6) == 0)
        return strstr(t, ": skipped (not legal") == NULL; /* follows its own "event <name> <node>" */
    return strncmp(t, "stimulus ", 9) == 0 || strncmp(t, "end of events", 13) == 0;
}

static inline void collect(void)
{
    char buf[256];
    unsigned seg = 0;
    /* A power-policy thread's lines belong to the event that posted it
     * ("power request <kind> <node> on thread <id>"), wherever they land. */
    static unsigned fiber_seg[SCHED_MAX_THREADS];
    static int fiber_has_seg[SCHED_MAX_THREADS];
    memset(fiber_has_seg, 0, sizeof fiber_has_seg);
    g_nlines = 0;
    for (size_t i = 0; i < sched_trace_count() && g_nlines < MAX_LINES; i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        sched_trace_format(ev, buf, sizeof buf);
        if (is_marker(buf))
            seg++;
        line_t *l = &g_lines[g_nlines++];
        l->dbg = strncmp(buf, "DbgPrint: ", 10) == 0;
        snprintf(l->text, sizeof l->text, "%s", l->dbg ? buf + 10 : buf);
        l->fiber = ev->fiber;
        snprintf(l->fiber_name, sizeof l->fiber_name, "%s", ev->fiber >= 0 ? sched_fiber_name(ev->fiber) : "main");
        l->pnp_side = ev->fiber == PNP_FIBER || strcmp(sched_fiber_owner(ev->fiber), "power-policy") == 0;
        l->seg = seg;
        unsigned long posted;
        if (sscanf(buf, "power request %*s %*s on thread %lu", &posted) == 1 && posted < SCHED_MAX_THREADS) {
            fiber_seg[posted] = seg;
            fiber_has_seg[posted] = 1;
        }
        if (ev->fiber >= 0 && ev->fiber < SCHED_MAX_THREADS && fiber_has_seg[ev->fiber])
            l->seg = fiber_seg[ev->fiber];
    }
    if (getenv("LIFECYCLE_TRACE")) { /* debugging a test: every run's lines, "segment fiber text" */
        printf("== run in %s\n", tdf_test_state.current);
        for (unsigned i = 0; i < g_nlines; i++)
            printf("  %2u %-14s %s%s\n", g_lines[i].seg, g_lines[i].fiber_name, g_lines[i].dbg ? "| " : "",
                   g_lines[i].text);
    }
}

/* Runs the script's events (its params and schedule as given) on `variant`
 * with the full trace, then collects its lines. */
static inline tdf_class_t run_script(const tdf_target_desc_t *target, tdf_script_t *script, unsigned variant)
{
    g_nevents = script->event_count;
    tdf_run_options_t opts = {.variant = variant, .full_trace = 1};
    tdf_class_t cls = tdf_run(target, script, &opts);
    collect();
    return cls;
}

/* A run that must end with no finding. */
static inline void check_clean_at(tdf_class_t cls, const char *file, int line)
{
    const tdf_failure_t *f = tdf_failure();
    if (!tdf_check(cls == TDF_CLASS_NONE, file, line, "the run ends with no finding") && f)
        printf("    %s %s: %s\n", tdf_class_name(f->cls), f->name, f->detail);
}

/* Index of the first line equal to text (a recorder line if dbg, a model
 * line if not) at or after `from`, or -1. */
static inline int find_from(const char *text, int dbg, int from)
{
    for (unsigned i = from < 0 ? 0u : (unsigned)from; i < g_nlines; i++)
        if (g_lines[i].dbg == dbg && strcmp(g_lines[i].text, text) == 0)
            return (int)i;
    return -1;
}

static inline int find(const char *text, int dbg) { return find_from(text, dbg, 0); }
static inline int pos(const char *text) { return find_from(text, 1, 0); }

/* How many recorder lines equal text. */
static inline unsigned count(const char *text)
{
    unsigned n = 0;
    for (unsigned i = 0; i < g_nlines; i++)
        n += g_lines[i].dbg && strcmp(g_lines[i].text, text) == 0;
    return n;
}

/* The recorder line after line index i, or -1. */
static inline int next_dbg(int i)
{
    for (unsigned k = (unsigned)i + 1; i >= 0 && k < g_nlines; k++)
        if (g_lines[k].dbg)
            return (int)k;
    return -1;
}

/* The last recorder line, or -1. */
static inline int last_dbg(void)
{
    for (unsigned k = g_nlines; k-- > 0;)
        if (g_lines[k].dbg)
            return (int)k;
    return -1;
}

/* Recorder lines of segment `seg` (ANY_SEG: all), of the PnP side only if
 * pnp_only, containing `filter` if not NULL, into out[max]; returns how many. */
static inline unsigned select_lines(unsigned seg, int pnp_only, const char *filter, const char **out, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < g_nlines && n < max; i++) {
        const line_t *l = &g_lines[i];
        if (!l->dbg || (seg != ANY_SEG && l->seg != seg) || (pnp_only && !l->pnp_side))
            continue;
        if (filter && !strstr(l->text, filter))
            continue;
        out[n++] = l->text;
    }
    return n;
}

static inline void print_list(const char *title, const char *const *v, unsigned n)
{
    printf("    %s (%u):\n", title, n);
    for (unsigned i = 0; i < n; i++)
        printf("      %s\n", v[i]);
}

/* The selected lines are exactly `want` (NULL-terminated), in order. */
static inline int expect_lines(unsigned seg, int pnp_only, const char *filter, const char *const *want, const char *file, int line)
{
    const char *got[512];
    unsigned ngot = select_lines(seg, pnp_only, filter, got, 512), nwant = 0;
    while (want[nwant])
        nwant++;
    int ok = ngot == nwant;
    for (unsigned i = 0; ok && i < nwant; i++)
        ok = strcmp(got[i], want[i]) == 0;
    if (!tdf_check(ok, file, line, "recorder lines in this order, and no others")) {
        printf("    segment %d%s%s%s\n", seg == ANY_SEG ? -1 : (int)seg, pnp_only ? ", PnP thread" : "",
               filter ? ", containing " : "", filter ? filter : "");
        print_list("want", want, nwant);
        print_list("got", got, ngot);
    }
    return ok;
}

/* `want` (NULL-terminated) appears in this order among the selected lines,
 * others may come in between. */
static inline int expect_subsequence(unsigned seg, int pnp_only, const char *const *want, const char *file, int line)
{
    const char *got[512];
    unsigned ngot = select_lines(seg, pnp_only, NULL, got, 512), k = 0;
    for (unsigned i = 0; i < ngot && want[k]; i++)
        if (strcmp(got[i], want[k]) == 0)
            k++;
    int ok = want[k] == NULL;
    if (!tdf_check(ok, file, line, "recorder lines appear in this order")) {
        printf("    first missing: %s\n", want[k]);
        print_list("got", got, ngot);
    }
    return ok;
}

/* Both recorder lines are there, the first one earlier. */
static inline int before_at(const char *a, const char *b, const char *file, int line)
{
    int pa = pos(a), pb = pos(b);
    int ok = pa >= 0 && pb >= 0 && pa < pb;
    if (!tdf_check(ok, file, line, "first line comes before the second"))
        printf("    \"%s\" at %d, \"%s\" at %d (-1: missing)\n", a, pa, b, pb);
    return ok;
}

/* ---- event-list runs and thread checks (the bus lifecycle tests) ---- */

static tdf_script_t g_boot_script;

/* Runs `n` events with parameter 0 = `boot` (the bus's boot children) and no
 * preemption (NO_PREEMPT). */
static inline tdf_class_t run_boot_events(const tdf_target_desc_t *target, unsigned variant, unsigned boot,
                                          const tdf_event_t *ev, unsigned n)
{
    memset(&g_boot_script, 0, sizeof g_boot_script);
    g_boot_script.params[0] = (uint8_t)boot;
    g_boot_script.event_count = n;
    for (unsigned i = 0; i < n && i < TDF_MAX_EVENTS; i++)
        g_boot_script.events[i] = ev[i];
    g_boot_script.schedule = NO_PREEMPT;
    return run_script(target, &g_boot_script, variant);
}

/* The model thread the first recorder line `text` ran on. */
static inline const char *thread_of(const char *text)
{
    int i = pos(text);
    return i >= 0 ? g_lines[i].fiber_name : "(missing)";
}

/* The first recorder line `text` ran on the model thread `name`. */
static inline int on_thread(const char *text, const char *name, const char *file, int line)
{
    int ok = strcmp(thread_of(text), name) == 0;
    if (!tdf_check(ok, file, line, "the line ran on this model thread"))
        printf("    \"%s\": on %s, want %s\n", text, thread_of(text), name);
    return ok;
}

/* The run ended with this finding: class `want`, code and subcode (0 for a
 * MISUSE), name when not NULL, and a detail containing `word` when not NULL. */
static inline void expect_finding_at(tdf_class_t cls, tdf_class_t want, uint32_t code, uint32_t sub, const char *name,
                                     const char *word, const char *file, int line)
{
    const tdf_failure_t *f = tdf_failure();
    int ok = cls == want && f && f->code == code && f->subcode == sub && (!name || strcmp(f->name, name) == 0);
    if (!tdf_check(ok, file, line, "the run ends with this finding")) {
        if (f)
            printf("    got %s 0x%X/0x%X %s: %s\n", tdf_class_name(f->cls), f->code, f->subcode, f->name, f->detail);
        return;
    }
    if (word)
        tdf_check_str_contains(f->detail, word, file, line, "the detail names it");
}

#endif
