/*
 * model/sched/dfs.c: the preemption-bounded systematic search, on tiny fiber
 * programs run straight on the scheduler (as tests/test_sched.c does).
 * - a planted bug that needs exactly 2 preemptions: not found at P=1 (the
 *   space exhausted), found at P=2, and its choices replay it as BYTES;
 * - the number of schedules at each bound equals an independent count of the
 *   step interleavings with at most P preemptions, and no schedule repeats;
 * - data and flag choices are enumerated at no preemption cost;
 * - pruning of local steps keeps the planted bug and runs fewer schedules;
 * - a program that does not follow its prefix is reported.
 */
#include "../model/sched/dfs.h"
#include "../model/sched/sched.h"
#include "tdf_test.h"

#include <stdint.h>

/* ---- running a program under a source ------------------------------------ */
typedef void program_fn(void);

static sched_outcome_t run(program_fn *spawn, sched_source_t src)
{
    sched_config_t cfg = {.source = src, .step_cap = 100000, .keep_full_trace = 1};
    sched_reset(&cfg);
    spawn();
    return sched_run();
}

/* The run as the fibers' step order, one letter per trace event. */
static void order_text(char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < sched_trace_count() && n + 1 < size; i++) {
        char text[64];
        sched_trace_format(sched_trace_at(i), text, sizeof text);
        out[n++] = text[0];
    }
    out[n] = 0;
}

typedef struct search_result {
    unsigned long schedules, pruned;
    int found, exhausted, diverged;
    unsigned found_preemptions;
    uint8_t bytes[256]; /* the failing run's choices as BYTES-source bytes, in use order */
    size_t nbytes;
    int distinct; /* every schedule's step order differed from every other's */
} search_result_t;

#define MAX_ORDERS 4096
static char g_orders[MAX_ORDERS][64];

/* Runs the search; a run "fails" when it ends ABORTED (the program's oracle). */
static search_result_t search(program_fn *spawn, unsigned bound, int prune)
{
    search_result_t r = {.distinct = 1};
    sched_dfs_t *d = sched_dfs_create(bound, prune);
    sched_source_t src;
    unsigned long n = 0;
    while (sched_dfs_next(d, &src)) {
        sched_outcome_t o = run(spawn, src);
        if (!sched_dfs_record(d)) {
            r.diverged = 1;
            break;
        }
        if (n < MAX_ORDERS) {
            order_text(g_orders[n], sizeof g_orders[n]);
            for (unsigned long k = 0; k < n; k++)
                if (strcmp(g_orders[k], g_orders[n]) == 0)
                    r.distinct = 0;
        }
        n++;
        if (o == SCHED_OUTCOME_ABORTED) {
            r.found = 1;
            r.found_preemptions = sched_dfs_preemptions(d);
            r.nbytes = sched_choices_as_bytes(r.bytes, sizeof r.bytes);
            break;
        }
    }
    if (!r.found && !r.diverged)
        r.exhausted = 1;
    sched_dfs_stats_t st = sched_dfs_stats(d);
    r.schedules = st.schedules;
    r.pruned = st.pruned;
    sched_dfs_destroy(d);
    return r;
}

/* ---- the planted bug: A writes s=1 then s=2; B latches s==1, then fails if
 * it sees s==2. It needs A preempted after s=1 (B latches) and B preempted
 * after latching (A writes 2): two preemptions, no fewer. A's local steps
 * (g_local_steps of them, each after a sched_yield_point_local) sit between
 * s=1 and the yield before s=2: a preemption there is never needed. ---- */
static int g_s, g_t;
static unsigned g_local_steps;
static int g_bug_off; /* 1: B never fails (a clean program of the same shape) */

static void bug_a(void *arg)
{
    (void)arg;
    SCHED_TRACE0("A s=1");
    g_s = 1;
    for (unsigned i = 0; i < g_local_steps; i++) {
        sched_yield_point_local();
        SCHED_TRACE0("A local");
    }
    sched_yield_point();
    SCHED_TRACE0("A s=2");
    g_s = 2;
}

static void bug_b(void *arg)
{
    (void)arg;
    SCHED_TRACE0("B latch");
    if (g_s == 1)
        g_t = 1;
    sched_yield_point();
    SCHED_TRACE0("B check");
    if (g_t == 1 && g_s == 2 && !g_bug_off) {
        SCHED_TRACE0("BUG");
        sched_abort_run();
    }
}

static void spawn_bug(void)
{
    g_s = g_t = 0;
    sched_spawn("A", "test", bug_a, NULL);
    sched_spawn("B", "test", bug_b, NULL);
}

TEST(planted_bug_needs_exactly_two_preemptions)
{
    g_local_steps = 0;
    search_result_t r0 = search(spawn_bug, 0, 0);
    search_result_t r1 = search(spawn_bug, 1, 0);
    search_result_t r2 = search(spawn_bug, 2, 0);
    CHECK(r0.exhausted && !r0.found);
    CHECK(r1.exhausted && !r1.found);
    CHECK(r2.found);
    CHECK_EQ(r2.found_preemptions, 2);
    CHECK(r1.schedules > r0.schedules);
    /* The failing run's choices, as an input's schedule bytes, replay it. */
    if (CHECK(r2.nbytes != (size_t)-1 && r2.nbytes > 0)) {
        uint8_t stored[256];
        for (size_t i = 0; i < r2.nbytes; i++)
            stored[r2.nbytes - 1 - i] = r2.bytes[i]; /* the source reads from the end */
        CHECK_EQ(run(spawn_bug, (sched_source_t){.kind = SCHED_SOURCE_BYTES, .bytes = stored, .len = r2.nbytes}),
                 SCHED_OUTCOME_ABORTED);
    }
    printf("planted bug: P=0 %lu schedules, P=1 %lu (clean, exhausted), P=2 found after %lu\n", r0.schedules,
           r1.schedules, r2.schedules);
}

/* ---- counting: fibers with a given number of steps, a yield between steps ---- */
static unsigned g_steps[3];
static unsigned g_nfibers;

static void counted(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < g_steps[id]; i++) {
        if (i)
            sched_yield_point();
        SCHED_TRACE1("%c", "abc"[id]);
    }
}

static void spawn_counted(void)
{
    for (unsigned i = 0; i < g_nfibers; i++)
        sched_spawn("f", "test", counted, (void *)(uintptr_t)i);
}

/* Independent count: step sequences where a switch away from a fiber with
 * steps left costs one, switches after a fiber's last step are free. */
static unsigned long brute(unsigned *left, int cur, unsigned budget)
{
    unsigned total = 0;
    for (unsigned i = 0; i < g_nfibers; i++)
        total += left[i];
    if (total == 0)
        return 1;
    unsigned long count = 0;
    for (unsigned i = 0; i < g_nfibers; i++) {
        if (!left[i])
            continue;
        unsigned c = cur >= 0 && (unsigned)cur != i && left[cur] > 0;
        if (c > budget)
            continue;
        left[i]--;
        count += brute(left, (int)i, budget - c);
        left[i]++;
    }
    return count;
}

TEST(schedule_counts_match_an_independent_count)
{
    static const unsigned shapes[][4] = {{2, 3, 3, 0}, {3, 2, 2, 2}, {2, 4, 1, 0}};
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        g_nfibers = shapes[s][0];
        for (unsigned i = 0; i < 3; i++)
            g_steps[i] = shapes[s][1 + i];
        for (unsigned p = 0; p <= 3; p++) {
            unsigned left[3] = {g_steps[0], g_steps[1], g_steps[2]};
            unsigned long want = brute(left, -1, p);
            search_result_t r = search(spawn_counted, p, 0);
            CHECK(r.exhausted);
            CHECK(r.distinct);
            if (!CHECK_EQ(r.schedules, want))
                printf("    shape %u bound %u\n", s, p);
        }
    }
}

/* ---- data and flag choices: a fiber choice point between them ---- */
static void chooser(void *arg)
{
    (void)arg;
    SCHED_TRACE1("%lu", (unsigned long)sched_choose(3));
    sched_yield_point();
    SCHED_TRACE1("%lu", (unsigned long)sched_choose_flag());
}

static void other(void *arg)
{
    (void)arg;
    SCHED_TRACE0("o");
}

static void spawn_chooser(void)
{
    sched_spawn("c", "test", chooser, NULL);
    sched_spawn("o", "test", other, NULL);
}

TEST(data_and_flag_choices_cost_no_preemption)
{
    /* Orders at P=0: c first (c's yield keeps c: o last) or o first; each
     * with 3 x 2 values. P=1 adds c preempted at its yield (o between). */
    search_result_t r0 = search(spawn_chooser, 0, 0);
    search_result_t r1 = search(spawn_chooser, 1, 0);
    CHECK(r0.exhausted && r0.distinct);
    CHECK_EQ(r0.schedules, 2 * 3 * 2);
    CHECK(r1.exhausted && r1.distinct);
    CHECK_EQ(r1.schedules, 3 * 3 * 2);
}

TEST(pruning_local_steps_keeps_the_bug_and_saves_schedules)
{
    g_local_steps = 4;
    search_result_t full1 = search(spawn_bug, 1, 0), pruned1 = search(spawn_bug, 1, 1);
    search_result_t pruned2 = search(spawn_bug, 2, 1);
    CHECK(full1.exhausted && !full1.found && pruned1.exhausted && !pruned1.found);
    CHECK(pruned2.found);
    CHECK_EQ(pruned2.found_preemptions, 2);
    CHECK(pruned1.schedules < full1.schedules);
    CHECK(pruned1.pruned > 0);
    /* The whole space of the same program without its bug. */
    g_bug_off = 1;
    unsigned long full[4], pruned[4];
    for (unsigned p = 0; p <= 3; p++) {
        search_result_t f = search(spawn_bug, p, 0), q = search(spawn_bug, p, 1);
        CHECK(f.exhausted && q.exhausted);
        full[p] = f.schedules, pruned[p] = q.schedules;
        CHECK(p == 0 ? q.schedules == f.schedules : q.schedules < f.schedules);
    }
    g_bug_off = 0;
    printf("pruning %u local steps, clean program, schedules without -> with pruning: P=0 %lu -> %lu, P=1 %lu -> %lu, "
           "P=2 %lu -> %lu, P=3 %lu -> %lu\n",
           g_local_steps, full[0], pruned[0], full[1], pruned[1], full[2], pruned[2], full[3], pruned[3]);
    g_local_steps = 0;
}

/* ---- a program whose shape changes from run to run ---- */
static unsigned g_runs;

static void spawn_drifting(void)
{
    unsigned n = 2 + (g_runs++ & 1); /* 2 fibers, then 3, ...: not a function of the choices */
    for (unsigned i = 0; i < n; i++)
        sched_spawn("d", "test", other, NULL);
}

TEST(a_run_that_leaves_its_prefix_is_reported)
{
    g_runs = 0;
    search_result_t r = search(spawn_drifting, 0, 0);
    CHECK(r.diverged);
    CHECK(!r.exhausted);
}

int main(void)
{
    (void)tdf_check_str_contains; /* a framework helper these tests do not need */
    return tdf_test_main();
}
