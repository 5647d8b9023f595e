/*
 * model/sched: replay, outcomes, reset between execs, virtual time, data
 * choices, the fiber table limit and the BYTES source's byte order.
 */
#include "../model/sched/sched.h"
#include "sched_reference.h"
#include "tdf_test.h"

#include <stdint.h>

#define TDF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Copy of the current choice log (the scheduler reuses its buffer). */
static sched_choice_t *log_copy(size_t *n)
{
    const sched_choice_t *log = sched_choice_log(n);
    sched_choice_t *copy = malloc((*n ? *n : 1) * sizeof *copy);
    memcpy(copy, log, *n * sizeof *copy);
    return copy;
}

static int logs_equal(const sched_choice_t *a, size_t na, const sched_choice_t *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (a[i].n != b[i].n || a[i].index != b[i].index || a[i].is_data != b[i].is_data)
            return 0;
    return 1;
}

/* Number of times consecutive trace events come from different fibers. */
static unsigned fiber_switches(void)
{
    unsigned s = 0;
    for (size_t i = 1; i < sched_trace_count(); i++)
        s += sched_trace_at(i)->fiber != sched_trace_at(i - 1)->fiber;
    return s;
}


static char g_t1[TRACE_TEXT_MAX], g_t2[TRACE_TEXT_MAX];

TEST(random_run_replays_identically)
{
    CHECK_EQ(run_program((sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = 7}, g_t1), SCHED_OUTCOME_DONE);
    size_t n1, n2;
    sched_choice_t *log1 = log_copy(&n1);
    CHECK(fiber_switches() > 6); /* the run really interleaves */
    CHECK_STR_CONTAINS(g_t1, "sleeper timed out");

    sched_source_t replay = {.kind = SCHED_SOURCE_REPLAY, .replay = log1, .replay_len = n1};
    CHECK_EQ(run_program(replay, g_t2), SCHED_OUTCOME_DONE);
    sched_choice_t *log2 = log_copy(&n2);
    CHECK(strcmp(g_t1, g_t2) == 0);
    CHECK(logs_equal(log1, n1, log2, n2));

    /* Sanity: another seed gives another interleaving, so equality above means something. */
    int differs = 0;
    for (uint64_t seed = 8; seed < 16 && !differs; seed++) {
        run_program((sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = seed}, g_t2);
        differs = strcmp(g_t1, g_t2) != 0;
    }
    CHECK(differs);
    free(log1);
    free(log2);
}

TEST(bytes_run_replays_identically)
{
    uint8_t bytes[64];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof bytes; i++) {
        x = x * 1103515245u + 12345u;
        bytes[i] = (uint8_t)(x >> 16) & 0x0f; /* stay at most 1 choice point: many switches */
    }
    CHECK_EQ(run_program((sched_source_t){.kind = SCHED_SOURCE_BYTES, .bytes = bytes, .len = sizeof bytes}, g_t1),
             SCHED_OUTCOME_DONE);
    CHECK(sched_bytes_consumed() > 0);
    CHECK(fiber_switches() > 3);
    size_t n1, n2;
    sched_choice_t *log1 = log_copy(&n1);
    sched_source_t replay = {.kind = SCHED_SOURCE_REPLAY, .replay = log1, .replay_len = n1};
    CHECK_EQ(run_program(replay, g_t2), SCHED_OUTCOME_DONE);
    sched_choice_t *log2 = log_copy(&n2);
    CHECK(strcmp(g_t1, g_t2) == 0);
    CHECK(logs_equal(log1, n1, log2, n2));
    free(log1);
    free(log2);
}

TEST(bytes_random_tail_is_off_by_default_and_deterministic_when_on)
{
    static const uint8_t two[] = {0x01, 0x01};
    /* Off: past the bytes the running fiber is never preempted. */
    run_program((sched_source_t){.kind = SCHED_SOURCE_BYTES, .bytes = two, .len = sizeof two}, g_t1);
    unsigned plain_switches = fiber_switches();
    /* On: the same bytes, then random choices; the same seed gives the same
     * run, another seed (some seed) another one. */
    sched_source_t tail = {.kind = SCHED_SOURCE_BYTES, .bytes = two, .len = sizeof two, .random_tail = 1, .seed = 3};
    CHECK_EQ(run_program(tail, g_t1), SCHED_OUTCOME_DONE);
    CHECK(fiber_switches() > plain_switches);
    CHECK_EQ(run_program(tail, g_t2), SCHED_OUTCOME_DONE);
    CHECK(strcmp(g_t1, g_t2) == 0);
    int differs = 0;
    for (uint64_t seed = 4; seed < 12 && !differs; seed++) {
        tail.seed = seed;
        run_program(tail, g_t2);
        differs = strcmp(g_t1, g_t2) != 0;
    }
    CHECK(differs);
}

/* ---- untraced runs ---------------------------------------------------------- */
/* What the fibers did, in order, recorded by themselves: an untraced run has
 * no trace to compare. A worker appends its name at each iteration, a yield
 * of its own after every third is local, and the waiter appends 'w' when it
 * wakes. */
static char g_seq[512];
static size_t g_seq_len;
static int g_seq_done;

static void seq_note(char c)
{
    if (g_seq_len < sizeof g_seq - 1)
        g_seq[g_seq_len++] = c;
}

static void seq_worker(void *arg)
{
    for (unsigned i = 0; i < 30; i++) {
        seq_note(*(const char *)arg);
        if (i % 3 == 2)
            sched_yield_point_local();
        else
            sched_yield_point();
        if (i % 10 == 9)
            seq_note((char)('0' + sched_choose(3)));
    }
    g_seq_done++;
    sched_wake(&g_seq_done);
}

static void seq_waiter(void *arg)
{
    (void)arg;
    while (g_seq_done < 2)
        sched_block(&g_seq_done, "workers");
    seq_note('w');
}

static void run_seq(sched_source_t src, int no_trace, char *order)
{
    sched_config_t cfg = {.source = src, .step_cap = 100000, .no_trace = no_trace};
    sched_reset(&cfg);
    g_seq_len = 0;
    g_seq_done = 0;
    sched_spawn("waiter", "test", seq_waiter, NULL);
    sched_spawn("a", "test", seq_worker, "a");
    sched_spawn("b", "test", seq_worker, "b");
    sched_spawn("c", "test", seq_worker, "c");
    CHECK_EQ(sched_run(), SCHED_OUTCOME_DONE);
    memcpy(order, g_seq, g_seq_len);
    order[g_seq_len] = 0;
}

/* An untraced run keeps no choice log (nobody reads it) and takes its stays
 * on shorter paths: it must still make every choice as the traced run does,
 * under each source those paths serve (a BYTES countdown, the random tail,
 * RANDOM) and the ones they leave alone. */
TEST(untraced_runs_choose_as_traced_runs)
{
    static char traced[sizeof g_seq], untraced[sizeof g_seq], first[sizeof g_seq];
    uint8_t bytes[24];
    uint32_t x = 777;
    for (size_t i = 0; i < sizeof bytes; i++) {
        x = x * 1103515245u + 12345u;
        bytes[i] = (uint8_t)(x >> 16); /* stays of 0..31 choice points */
    }
    sched_source_t sources[] = {
        {.kind = SCHED_SOURCE_BYTES, .bytes = bytes, .len = sizeof bytes},
        {.kind = SCHED_SOURCE_BYTES, .bytes = bytes, .len = 4}, /* runs out: no preemption after */
        {.kind = SCHED_SOURCE_BYTES, .bytes = bytes, .len = sizeof bytes, .random_tail = SCHED_TAIL_RANDOM, .seed = 5},
        {.kind = SCHED_SOURCE_BYTES, .bytes = bytes, .len = 4, .random_tail = SCHED_TAIL_RANDOM, .seed = 9},
        {.kind = SCHED_SOURCE_BYTES, .bytes = bytes, .len = 4, .random_tail = SCHED_TAIL_PCT, .pct_depth = 3,
         .pct_steps = 50, .seed = 2},
        {.kind = SCHED_SOURCE_RANDOM, .seed = 11},
        {.kind = SCHED_SOURCE_PCT, .pct_depth = 3, .pct_steps = 60, .seed = 4},
    };
    int differs = 0;
    for (size_t k = 0; k < TDF_ARRAY_LEN(sources); k++) {
        run_seq(sources[k], 0, traced);
        uint32_t steps = sched_steps(), choice_points = sched_choice_points();
        size_t consumed = sched_bytes_consumed();
        CHECK(sched_choice_log_complete());
        run_seq(sources[k], 1, untraced);
        CHECK(strcmp(traced, untraced) == 0);
        CHECK_EQ(sched_steps(), steps);
        CHECK_EQ(sched_choice_points(), choice_points);
        CHECK_EQ(sched_bytes_consumed(), consumed);
        CHECK(!sched_choice_log_complete()); /* no log: a reader sees it is not there */
        if (k == 0)
            memcpy(first, traced, sizeof first);
        else
            differs |= strcmp(first, traced) != 0;
    }
    CHECK(differs); /* the sources really schedule differently */
}

/* ---- outcomes -------------------------------------------------------------- */
static int g_obj_a, g_obj_b;

static void f_block_on(void *arg) { sched_block(arg, arg == &g_obj_a ? "a" : "b"); }

TEST(deadlock_when_every_fiber_blocks)
{
    start((sched_source_t){.kind = SCHED_SOURCE_BYTES}, 1000);
    sched_spawn("x", "test", f_block_on, &g_obj_a);
    sched_spawn("y", "test", f_block_on, &g_obj_b);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_DEADLOCK);
    CHECK_EQ(sched_fiber_state(0), SCHED_BLOCKED);
    CHECK_EQ(sched_fiber_state(1), SCHED_BLOCKED);
    CHECK(sched_fiber_wait_reason(0) && strcmp(sched_fiber_wait_reason(0), "a") == 0);
    CHECK(sched_fiber_wait_reason(1) && strcmp(sched_fiber_wait_reason(1), "b") == 0);
    CHECK_EQ(sched_current(), SCHED_NO_FIBER);
}

static void f_spin_forever(void *arg)
{
    for (;;)
        sched_yield_point();
}

TEST(step_cap_ends_a_livelock_as_hang)
{
    start((sched_source_t){.kind = SCHED_SOURCE_BYTES}, 1000);
    sched_spawn("spin", "test", f_spin_forever, NULL);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_HANG);
    CHECK_EQ(sched_steps(), 1000);
}

/* ---- reset between execs -------------------------------------------------------- */
static int g_never;

static void f_abort_midway(void *arg)
{
    for (unsigned long i = 0; i < 30; i++) {
        SCHED_TRACE1("aborter %lu", i);
        (void)sched_choose(5);
        sched_yield_point();
    }
    sched_abort_run(); /* the other fibers are left blocked / runnable mid-way */
}

static void f_timed_forever(void *arg)
{
    while (sched_block_timed(&g_never, "timed"))
        ;
}

static void f_busy(void *arg)
{
    for (int i = 0; i < 40; i++) {
        SCHED_TRACE0("busy");
        sched_yield_point();
    }
}

static void run_aborted(sched_source_t src)
{
    start(src, 100000);
    sched_spawn("blocked", "test", f_block_on, &g_obj_a);
    sched_spawn("timed", "test", f_timed_forever, NULL);
    sched_spawn("busy", "test", f_busy, NULL);
    sched_spawn("aborter", "test", f_abort_midway, NULL);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_ABORTED);
    CHECK_EQ(sched_current(), SCHED_NO_FIBER);
}

TEST(aborted_run_leaves_nothing_behind)
{
    static const uint8_t bytes[] = {0x31, 0x02, 0xf9, 0x44, 0x13, 0x88, 0x07, 0x5a, 0x21, 0x10, 0xc3, 0x01};
    static const uint8_t hot[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}; /* countdown 31 left at the abort */
    size_t nr;
    run_program((sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = 4}, g_t1);
    sched_choice_t *replay_log = log_copy(&nr);
    /* Every source kind on both sides: what the reference run starts from
     * (rng, byte position, replay position) and what the aborted run leaves. */
    const sched_source_t refs[] = {
        {.kind = SCHED_SOURCE_RANDOM, .seed = 3},
        {.kind = SCHED_SOURCE_BYTES, .bytes = bytes, .len = sizeof bytes},
        {.kind = SCHED_SOURCE_BYTES, .bytes = bytes, .len = 4}, /* runs out: no preemption after */
        {.kind = SCHED_SOURCE_REPLAY, .replay = replay_log, .replay_len = nr},
    };
    const sched_source_t dirty[] = {
        {.kind = SCHED_SOURCE_RANDOM, .seed = 5},
        {.kind = SCHED_SOURCE_BYTES, .bytes = hot, .len = sizeof hot},
        {.kind = SCHED_SOURCE_REPLAY, .replay = replay_log, .replay_len = nr},
        {.kind = SCHED_SOURCE_PCT, .seed = 2, .pct_depth = 3},
    };
    for (size_t r = 0; r < TDF_ARRAY_LEN(refs); r++) {
        for (size_t d = 0; d < TDF_ARRAY_LEN(dirty); d++) {
            size_t n1, n2;
            CHECK_EQ(run_program(refs[r], g_t1), SCHED_OUTCOME_DONE); /* reference, before the abort */
            sched_choice_t *log1 = log_copy(&n1);
            run_aborted(dirty[d]);
            CHECK_EQ(run_program(refs[r], g_t2), SCHED_OUTCOME_DONE);
            sched_choice_t *log2 = log_copy(&n2);
            if (!CHECK(strcmp(g_t1, g_t2) == 0))
                printf("    reference source %zu after aborted source %zu\n", r, d);
            CHECK(logs_equal(log1, n1, log2, n2));
            CHECK_EQ(sched_fiber_count(), 3);
            free(log1);
            free(log2);
        }
    }
    free(replay_log);
}

/* ---- virtual time ------------------------------------------------------------------ */
static int g_timed_result, g_other_done_at_expiry, g_other_done;
static char g_order[64];

static void f_timed_waiter(void *arg)
{
    g_timed_result = sched_block_timed(&g_timer, "timed");
    g_other_done_at_expiry = g_other_done;
}

static void f_yielder(void *arg)
{
    for (int i = 0; i < 50; i++) {
        if (arg && i == 10)
            sched_wake(&g_timer);
        sched_yield_point();
    }
    g_other_done = 1;
}

static void run_timed(void *yielder_arg)
{
    start((sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = 11}, 10000);
    g_timed_result = -1;
    g_other_done = g_other_done_at_expiry = 0;
    sched_spawn("timed", "test", f_timed_waiter, NULL);
    sched_spawn("yielder", "test", f_yielder, yielder_arg);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_DONE);
}

TEST(timed_wait_expires_only_when_nothing_else_can_run)
{
    run_timed(NULL);
    CHECK_EQ(g_timed_result, 1);
    CHECK_EQ(g_other_done_at_expiry, 1); /* not while the yielder was still runnable */
}

TEST(timed_wait_woken_returns_zero)
{
    run_timed(&g_timer);
    CHECK_EQ(g_timed_result, 0);
}

static int g_go;

static void f_timed_late(void *arg)
{
    sched_block(&g_go, "go"); /* blocks timed only after fiber 1 */
    if (sched_block_timed(&g_timer, "late"))
        strcat(g_order, "0;");
}

static void f_timed_early(void *arg)
{
    if (sched_block_timed(&g_never, "early"))
        strcat(g_order, "1;");
}

static void f_release_go(void *arg) { sched_wake(&g_go); }

TEST(timed_waits_expire_lowest_id_first)
{
    start((sched_source_t){.kind = SCHED_SOURCE_BYTES}, 10000);
    g_order[0] = 0;
    sched_spawn("late", "test", f_timed_late, NULL);
    sched_spawn("early", "test", f_timed_early, NULL);
    sched_spawn("go", "test", f_release_go, NULL);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_DONE);
    CHECK(strcmp(g_order, "0;1;") == 0);
}

/* ---- data choices ---------------------------------------------------------------- */
static unsigned g_values[16];

static void f_choose_bytes(void *arg)
{
    g_values[0] = sched_choose(5);
    g_values[1] = sched_choose(1); /* n <= 1: 0, consumes and logs nothing */
    g_values[2] = sched_choose(3);
    g_values[3] = sched_choose(4);
    g_values[4] = sched_choose(4); /* bytes exhausted: 0 */
}

TEST(data_choices_from_bytes_are_logged_as_data)
{
    static const uint8_t bytes[] = {9, 2, 7}; /* used last to first: 7, 2, 9 */
    start((sched_source_t){.kind = SCHED_SOURCE_BYTES, .bytes = bytes, .len = sizeof bytes}, 1000);
    sched_spawn("chooser", "test", f_choose_bytes, NULL);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_DONE);
    CHECK_EQ(g_values[0], 7 % 5);
    CHECK_EQ(g_values[1], 0);
    CHECK_EQ(g_values[2], 2 % 3);
    CHECK_EQ(g_values[3], 9 % 4);
    CHECK_EQ(g_values[4], 0);
    CHECK_EQ(sched_bytes_consumed(), 3);
    size_t n;
    const sched_choice_t *log = sched_choice_log(&n);
    static const uint16_t want_n[] = {5, 3, 4, 4}, want_i[] = {2, 2, 1, 0};
    if (CHECK_EQ(n, 4))
        for (size_t i = 0; i < 4; i++) {
            CHECK_EQ(log[i].is_data, 1);
            CHECK_EQ(log[i].n, want_n[i]);
            CHECK_EQ(log[i].index, want_i[i]);
        }
}

static void f_choose_many(void *arg)
{
    for (int i = 0; i < 10; i++)
        g_values[i] = sched_choose(7);
}

TEST(data_choices_replay)
{
    unsigned first[10];
    start((sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = 99}, 1000);
    sched_spawn("chooser", "test", f_choose_many, NULL);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_DONE);
    memcpy(first, g_values, sizeof first);
    size_t n;
    sched_choice_t *log = log_copy(&n);
    int distinct = 0;
    CHECK_EQ(n, 10);
    for (size_t i = 0; i < n && i < 10; i++) {
        CHECK(log[i].is_data == 1 && log[i].n == 7 && log[i].index == first[i]);
        distinct |= first[i] != first[0];
    }
    CHECK(distinct); /* the values really come from the source */

    /* Replay gives the same values; an edited log gives the edited value. */
    log[3].index = (uint16_t)((first[3] + 1) % 7);
    memset(g_values, 0xff, sizeof g_values);
    start((sched_source_t){.kind = SCHED_SOURCE_REPLAY, .replay = log, .replay_len = n}, 1000);
    sched_spawn("chooser", "test", f_choose_many, NULL);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_DONE);
    for (int i = 0; i < 10; i++)
        CHECK_EQ(g_values[i], (i == 3 ? (first[3] + 1) % 7 : first[i]));
    free(log);
}

/* ---- fiber table -------------------------------------------------------------------- */
static int g_ran;

static void f_count(void *arg) { g_ran++; }

TEST(spawn_beyond_max_fibers_fails)
{
    start((sched_source_t){.kind = SCHED_SOURCE_BYTES}, 1000);
    g_ran = 0;
    int bad_ids = 0;
    for (int i = 0; i < SCHED_MAX_FIBERS; i++)
        bad_ids += sched_spawn("f", "test", f_count, NULL) != i;
    CHECK_EQ(bad_ids, 0);
    CHECK_EQ(sched_spawn("one too many", "test", f_count, NULL), SCHED_NO_FIBER);
    CHECK_EQ(sched_fiber_count(), SCHED_MAX_FIBERS);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_DONE);
    CHECK_EQ(g_ran, SCHED_MAX_FIBERS);
}

/* ---- BYTES source: read from the END; b -> runnable (b & 7) % n, stay b >> 3 ----------- */
static void f_letter(void *arg)
{
    for (unsigned long i = 0; i < 4; i++) {
        SCHED_TRACE2("%s%lu", arg, i);
        sched_yield_point();
    }
}

static void run_letters(const uint8_t *bytes, size_t len, unsigned fibers, char *out)
{
    static const char *const names[] = {"A", "B", "C"};
    start((sched_source_t){.kind = SCHED_SOURCE_BYTES, .bytes = bytes, .len = len}, 1000);
    for (unsigned i = 0; i < fibers; i++)
        sched_spawn(names[i], "test", f_letter, (void *)names[i]);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_DONE);
    out[0] = 0;
    for (size_t i = 0; i < sched_trace_count(); i++) {
        char text[16];
        sched_trace_format(sched_trace_at(i), text, sizeof text);
        strcat(strcat(out, text), " ");
    }
}

TEST(bytes_source_reads_from_the_end)
{
    char out[256];
    /* Last byte first: 0x09 -> runnable 1 (B), stay 1 more choice point; then
     * 0x10 -> runnable 0 (A), stay 2; then bytes are out: A keeps running.
     * Read from the front it would start A0 A1 A2. */
    static const uint8_t two[] = {0x10, 0x09};
    run_letters(two, sizeof two, 2, out);
    CHECK(strcmp(out, "B0 B1 A0 A1 A2 A3 B2 B3 ") == 0);
    CHECK_EQ(sched_bytes_consumed(), 2);
    size_t n;
    const sched_choice_t *log = sched_choice_log(&n);
    if (CHECK(n >= 3)) {
        CHECK(log[0].n == 2 && log[0].index == 1 && log[0].is_data == 0);
        CHECK(log[1].n == 2 && log[1].index == 1); /* stayed: countdown */
        CHECK(log[2].n == 2 && log[2].index == 0);
    }

    /* (b & 7) % n with n = 3: 0x0d & 7 = 5, 5 % 3 = 2 -> C runs first, stays 1. */
    static const uint8_t three[] = {0x0d};
    run_letters(three, sizeof three, 3, out);
    CHECK(strncmp(out, "C0 C1 C2 C3 ", 12) == 0);
}

int main(void) { return tdf_test_main(); }
