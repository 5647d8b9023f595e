/*
 * model/sched/stress.c, the pthread backend (--schedule=stress): the OS's
 * interleaving logged as choices replays step for step on the deterministic
 * scheduler; blocks, wakes, virtual-time timeouts, deadlock, the step cap and
 * an abort end a run as the fiber scheduler's do, with every thread joined
 * (hundreds of runs in one process); the watchdog reports a thread that
 * never yields and exits with the HANG code.
 */
#include "../model/sched/sched.h"
#include "sched_reference.h"
#include "tdf_test.h"

#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

static const sched_source_t STRESS = {.kind = SCHED_SOURCE_STRESS, .seed = 1};

static char g_t1[TRACE_TEXT_MAX], g_t2[TRACE_TEXT_MAX], g_first[TRACE_TEXT_MAX];

TEST(stress_runs_replay_identically_on_the_deterministic_scheduler)
{
    int differ = 0, switched = 0;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        sched_source_t src = STRESS;
        src.seed = seed;
        CHECK_EQ(run_program(src, g_t1), SCHED_OUTCOME_DONE);
        CHECK_STR_CONTAINS(g_t1, "sleeper timed out");
        size_t n;
        const sched_choice_t *log = sched_choice_log(&n);
        sched_choice_t *copy = malloc((n ? n : 1) * sizeof *copy);
        memcpy(copy, log, n * sizeof *copy);
        for (size_t i = 0; i < n; i++)
            switched |= !copy[i].is_data && copy[i].cur != SCHED_CHOICE_NO_CURRENT && copy[i].index != copy[i].cur;
        sched_source_t replay = {.kind = SCHED_SOURCE_REPLAY, .replay = copy, .replay_len = n};
        CHECK_EQ(run_program(replay, g_t2), SCHED_OUTCOME_DONE);
        if (strcmp(g_t1, g_t2) != 0) {
            CHECK(!"the stress run's log replays to a different trace");
            fprintf(stderr, "seed %lu:\n--- stress\n%.2000s\n--- replay\n%.2000s\n", (unsigned long)seed, g_t1, g_t2);
            free(copy);
            break;
        }
        if (seed == 1)
            memcpy(g_first, g_t1, sizeof g_first);
        else
            differ |= strcmp(g_first, g_t1) != 0;
        free(copy);
    }
    CHECK(switched); /* some hand-over preempted a runnable thread: the OS did interleave */
    CHECK(differ);   /* and not always the same way */
}

/* ---- outcomes ------------------------------------------------------------- */
static int g_a, g_b;
static void f_block_on(void *arg) { sched_block(arg, arg == &g_a ? "a" : "b"); }

TEST(stress_deadlock_when_every_thread_blocks)
{
    start(STRESS, 1000);
    sched_spawn("x", "test", f_block_on, &g_a);
    sched_spawn("y", "test", f_block_on, &g_b);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_DEADLOCK);
    CHECK_EQ(sched_fiber_state(0), SCHED_BLOCKED);
    CHECK_EQ(sched_fiber_state(1), SCHED_BLOCKED);
    CHECK(sched_fiber_wait_reason(1) && strcmp(sched_fiber_wait_reason(1), "b") == 0);
    CHECK_EQ(sched_current(), SCHED_NO_FIBER);
}

static void f_spin(void *arg)
{
    for (;;)
        sched_yield_point();
}

TEST(stress_step_cap_ends_a_livelock_as_hang)
{
    start(STRESS, 1000);
    sched_spawn("spin1", "test", f_spin, NULL);
    sched_spawn("spin2", "test", f_spin, NULL);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_HANG);
    CHECK_EQ(sched_steps(), 1000);
}

static void f_abort_after(void *arg)
{
    for (int i = 0; i < 10; i++)
        sched_yield_point();
    sched_abort_run();
}

static int g_wake_count;
static void f_waker(void *arg)
{
    for (int i = 0; i < 50; i++) {
        g_wake_count++;
        sched_wake(&g_wake_count);
        sched_yield_point();
    }
}

static void f_waiter(void *arg)
{
    for (;;)
        sched_block(&g_wake_count, "wake");
}

TEST(stress_abort_tears_down_every_thread_and_runs_repeat)
{
    /* Hundreds of runs in one process: every run's threads are joined (or
     * the process would run out of them), blocked, runnable and spinning
     * ones alike. */
    for (int run = 0; run < 300; run++) {
        start((sched_source_t){.kind = SCHED_SOURCE_STRESS, .seed = (uint64_t)run}, 100000);
        g_wake_count = 0;
        sched_spawn("blocked", "test", f_block_on, &g_a);
        sched_spawn("waiter", "test", f_waiter, NULL);
        sched_spawn("waker", "test", f_waker, NULL);
        sched_spawn("spin", "test", f_spin, NULL);
        sched_spawn("aborter", "test", f_abort_after, NULL);
        sched_outcome_t o = sched_run();
        if (o != SCHED_OUTCOME_ABORTED) {
            CHECK_EQ(o, SCHED_OUTCOME_ABORTED);
            break;
        }
    }
    CHECK_EQ(sched_current(), SCHED_NO_FIBER);
    /* And a normal run right after. */
    CHECK_EQ(run_program(STRESS, g_t1), SCHED_OUTCOME_DONE);
}

/* ---- the watchdog ------------------------------------------------------------ */
static void f_never_yields(void *arg)
{
    for (volatile unsigned long i = 0;; i++)
        ;
}

static void f_report(FILE *out) { fprintf(out, "==TDF== THREAD report from the layers above\n"); }

TEST(stress_watchdog_reports_a_thread_that_never_yields)
{
    int fds[2];
    CHECK_EQ(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        setenv("TDF_STRESS_WATCHDOG", "1", 1);
        sched_set_watchdog_report(f_report);
        start(STRESS, 1000);
        sched_spawn("stuck", "test", f_never_yields, NULL);
        sched_spawn("waiting", "test", f_block_on, &g_a);
        sched_run();
        _exit(99); /* not reached: the watchdog exits 14 */
    }
    close(fds[1]);
    char buf[4096];
    size_t used = 0;
    ssize_t got;
    while (used + 1 < sizeof buf && (got = read(fds[0], buf + used, sizeof buf - 1 - used)) > 0)
        used += (size_t)got;
    buf[used] = 0;
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 14);
    CHECK_STR_CONTAINS(buf, "==TDF== HANG WATCHDOG stress");
    CHECK_STR_CONTAINS(buf, "==TDF== SIGNATURE HANG/WATCHDOG:stress:test");
    CHECK_STR_CONTAINS(buf, "within 1 s (TDF_STRESS_WATCHDOG)");
    CHECK_STR_CONTAINS(buf, "report from the layers above");
}

int main(void) { return tdf_test_main(); }
