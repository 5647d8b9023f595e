/*
 * model/sched/dfs.c: the preemption-bounded systematic search, on tiny fiber
 * programs run straight on the scheduler (as tests/test_sched.c does).
 * - a planted bug that needs exactly 2 preemptions: not found at P=1 (the
 *   space exhausted), found at P=2, and its choices replay it as BYTES;
 * - the number of schedules at each bound equals an independent count of the
 *   step interleavings with at most P preemptions, and no schedule repeats;
 * - data and flag choices are enumerated at no preemption cost;
 * - pruning of local steps keeps the planted bug and runs fewer schedules;
 * - sleep sets over footprints (SCHED_DFS_SLEEP_SETS): fibers on disjoint
 *   objects are explored with far fewer schedules and the same set of final
 *   states at every bound; a planted bug on a shared object is still found
 *   at exactly the same bound, among fibers that do independent work;
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

/* The final state of a run, when the program keeps one (g_final_state), is
 * collected into g_states (the distinct ones). */
typedef uint64_t final_state_fn(void);
static final_state_fn *g_final_state;
#define MAX_STATES 256
static uint64_t g_states[MAX_STATES];
static unsigned g_nstates;

static void note_state(void)
{
    uint64_t v = g_final_state();
    for (unsigned i = 0; i < g_nstates; i++)
        if (g_states[i] == v)
            return;
    if (g_nstates < MAX_STATES)
        g_states[g_nstates++] = v;
}

/* Runs the search; a run "fails" when it ends ABORTED (the program's oracle).
 * `flags`: SCHED_DFS_PRUNE_LOCAL, SCHED_DFS_SLEEP_SETS. */
static search_result_t search(program_fn *spawn, unsigned bound, unsigned flags)
{
    search_result_t r = {.distinct = 1};
    g_nstates = 0;
    sched_dfs_t *d = sched_dfs_create(bound, flags);
    sched_source_t src;
    unsigned long n = 0;
    while (sched_dfs_next(d, &src)) {
        sched_outcome_t o = run(spawn, src);
        if (!sched_dfs_record(d)) {
            r.diverged = 1;
            break;
        }
        if (g_final_state && o == SCHED_OUTCOME_DONE)
            note_state();
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

/* ---- sleep sets over footprints ---------------------------------------------
 * Fiber i: g_own_steps steps on its own object (a yield naming it, then a
 * write of it), one step on the shared object in the middle, and it ends.
 * Only the order of the shared steps shows in the final state. ---- */
static uint64_t g_own[3], g_shared;
static unsigned g_own_steps, g_disjoint_fibers;

static void disjoint(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    for (unsigned k = 0; k < g_own_steps; k++) {
        sched_yield_point_on(&g_own[i], SCHED_FP_WRITE);
        g_own[i] = g_own[i] * 3 + k + 1;
        if (k == g_own_steps / 2) {
            sched_yield_point_on(&g_shared, SCHED_FP_WRITE);
            g_shared = g_shared * 7 + i + 1;
        }
    }
}

static void spawn_disjoint(void)
{
    g_shared = 0;
    for (unsigned i = 0; i < g_disjoint_fibers; i++) {
        g_own[i] = 0;
        /* Its first step is empty: it yields first (unset, it would be GLOBAL). */
        sched_set_start_footprint(sched_spawn("d", "test", disjoint, (void *)(uintptr_t)i), NULL, SCHED_FP_NONE);
    }
}

static uint64_t disjoint_state(void)
{
    return g_shared * 1000003u + (g_own[0] ^ g_own[1] << 16 ^ g_own[2] << 32);
}

static int same_states(const uint64_t *a, unsigned na, const uint64_t *b, unsigned nb)
{
    if (na != nb)
        return 0;
    for (unsigned i = 0; i < na; i++) {
        unsigned j = 0;
        while (j < nb && b[j] != a[i])
            j++;
        if (j == nb)
            return 0;
    }
    return 1;
}

TEST(sleep_sets_keep_every_final_state_with_far_fewer_schedules)
{
    g_final_state = disjoint_state;
    g_own_steps = 3;
    g_disjoint_fibers = 3;
    unsigned long full[4], reduced[4];
    unsigned states[4];
    for (unsigned p = 0; p <= 3; p++) {
        search_result_t f = search(spawn_disjoint, p, 0);
        uint64_t want[MAX_STATES];
        unsigned nwant = g_nstates;
        memcpy(want, g_states, sizeof want);
        search_result_t q = search(spawn_disjoint, p, SCHED_DFS_SLEEP_SETS);
        CHECK(f.exhausted && q.exhausted);
        CHECK(nwant > 0 && nwant < MAX_STATES);
        if (!CHECK(same_states(want, nwant, g_states, g_nstates)))
            printf("    bound %u: %u final states without sleep sets, %u with\n", p, nwant, g_nstates);
        full[p] = f.schedules, reduced[p] = q.schedules, states[p] = nwant;
        CHECK(q.schedules <= f.schedules);
    }
    g_final_state = NULL;
    /* Far fewer: at P=2 and P=3 at least 5x (measured: see the line printed). */
    CHECK(reduced[2] * 5 <= full[2]);
    CHECK(reduced[3] * 5 <= full[3]);
    printf("3 fibers on disjoint objects (+1 shared step each), schedules without -> with sleep sets (final states): "
           "P=0 %lu -> %lu (%u), P=1 %lu -> %lu (%u), P=2 %lu -> %lu (%u), P=3 %lu -> %lu (%u)\n",
           full[0], reduced[0], states[0], full[1], reduced[1], states[1], full[2], reduced[2], states[2], full[3],
           reduced[3], states[3]);
}

/* The planted bug of the first test on footprints (A and B name g_s and g_t,
 * which they share), with fiber C doing independent work on its own object
 * meanwhile: sleep sets prune C's orders, never the bug's. */
static unsigned g_c_steps;
static uint64_t g_c_obj;

static void fp_bug_a(void *arg)
{
    (void)arg;
    sched_yield_point_on(&g_s, SCHED_FP_WRITE);
    g_s = 1;
    sched_yield_point_on(&g_s, SCHED_FP_WRITE);
    g_s = 2;
}

static void fp_bug_b(void *arg)
{
    (void)arg;
    sched_yield_point_on(&g_s, SCHED_FP_READ);
    if (g_s == 1)
        g_t = 1;
    sched_yield_point_on(&g_s, SCHED_FP_READ);
    if (g_t == 1 && g_s == 2)
        sched_abort_run();
}

static void fp_c(void *arg)
{
    (void)arg;
    for (unsigned k = 0; k < g_c_steps; k++) {
        sched_yield_point_on(&g_c_obj, SCHED_FP_WRITE);
        g_c_obj++;
    }
}

static void spawn_fp_bug(void)
{
    g_s = g_t = 0;
    g_c_obj = 0;
    sched_set_start_footprint(sched_spawn("A", "test", fp_bug_a, NULL), NULL, SCHED_FP_NONE);
    sched_set_start_footprint(sched_spawn("B", "test", fp_bug_b, NULL), NULL, SCHED_FP_NONE);
    sched_set_start_footprint(sched_spawn("C", "test", fp_c, NULL), NULL, SCHED_FP_NONE);
}

TEST(sleep_sets_find_a_shared_object_bug_at_the_same_bound)
{
    g_c_steps = 4;
    for (unsigned flags = 0; flags <= SCHED_DFS_SLEEP_SETS; flags += SCHED_DFS_SLEEP_SETS) {
        search_result_t r1 = search(spawn_fp_bug, 1, flags), r2 = search(spawn_fp_bug, 2, flags);
        CHECK(r1.exhausted && !r1.found);
        CHECK(r2.found);
        CHECK_EQ(r2.found_preemptions, 2);
    }
    search_result_t full1 = search(spawn_fp_bug, 1, 0), red1 = search(spawn_fp_bug, 1, SCHED_DFS_SLEEP_SETS);
    search_result_t full2 = search(spawn_fp_bug, 2, 0), red2 = search(spawn_fp_bug, 2, SCHED_DFS_SLEEP_SETS);
    CHECK(red1.schedules < full1.schedules);
    CHECK(red1.pruned > 0);
    printf("planted bug with an independent fiber: P=1 clean %lu -> %lu schedules, P=2 found after %lu -> %lu\n",
           full1.schedules, red1.schedules, full2.schedules, red2.schedules);
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
