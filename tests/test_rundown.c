/*
 * EX_RUNDOWN_REF: one test per rule of KERNEL-SEMANTICS §1 and one per misuse
 * message of model/kernel/rundown.c. Every rundown call runs inside a fiber
 * (the routines are yield points); results are recorded in globals and
 * checked from main after the run.
 *
 * Default schedule: the BYTES source with no bytes, i.e. the running fiber
 * keeps running until it blocks or ends, then the lowest runnable id runs.
 * Multi-fiber tests rely on that order and also assert it via g_log.
 */
#include "../model/kernel/kernel.h"
#include "fiber_harness.h"
#include "tdf_test.h"

static EX_RUNDOWN_REF g_ref;
static KEVENT g_go;    /* holder -> waiter handshake: set by the waiter just before it waits */
static KEVENT g_never; /* never set: parks a fiber for good */
static ULONG_PTR g_count[8];
static BOOLEAN g_ok[8];
static int g_reached_end; /* set after the call under test; must stay 0 after a misuse */
static char g_log[256];

static void log_ev(const char *s)
{
    strncat(g_log, s, sizeof g_log - strlen(g_log) - 2);
    strcat(g_log, ";");
}

/* Resets every layer and runs fns[0..n) as fibers 0..n-1. */
static void reset_globals(void)
{
    ExInitializeRundownProtection(&g_ref); /* not a yield point: fine from main; fibers may start in any order */
    memset(g_count, 0xEE, sizeof g_count);
    memset(g_ok, 0xEE, sizeof g_ok);
    g_reached_end = 0;
    g_log[0] = 0;
    KeInitializeEvent(&g_go, NotificationEvent, FALSE);
    KeInitializeEvent(&g_never, NotificationEvent, FALSE);
}

static sched_outcome_t run_source(sched_fiber_fn *const *fns, unsigned n, sched_source_t src)
{
    return fh_run(fns, n, src, reset_globals);
}

static sched_outcome_t run(sched_fiber_fn *const *fns, unsigned n)
{
    return run_source(fns, n, (sched_source_t){.kind = SCHED_SOURCE_BYTES});
}

static sched_outcome_t run1(sched_fiber_fn *fn) { return run(&fn, 1); }

#define trace_has fh_trace_has

/* A run that must end cleanly. */
/* A run that must stop at a MISUSE of `routine` whose detail contains `msg`. */
static void check_misuse(sched_outcome_t outcome, const char *routine, const char *msg, int line)
{
    const tdf_failure_t *f = tdf_failure();
    if (!tdf_check(outcome == SCHED_OUTCOME_ABORTED, __FILE__, line, "outcome == SCHED_OUTCOME_ABORTED"))
        printf("    outcome = %d\n", (int)outcome);
    if (!tdf_check(f != NULL, __FILE__, line, "tdf_failure() != NULL"))
        return;
    tdf_check(f->cls == TDF_CLASS_MISUSE, __FILE__, line, "failure class == TDF_CLASS_MISUSE");
    tdf_check(strcmp(f->name, routine) == 0, __FILE__, line, "failure name == routine");
    tdf_check_str_contains(f->detail, msg, __FILE__, line, "detail contains the exact message");
    /* The detail names the caller frame (no driver image here) and the step. */
    tdf_check_str_contains(f->detail, "(harness, step ", __FILE__, line, "detail names caller and step");
    tdf_check(g_reached_end == 0, __FILE__, line, "the misusing fiber stopped at the misuse");
}
#define CHECK_MISUSE(outcome, routine, msg) check_misuse((outcome), (routine), (msg), __LINE__)

/* ==== rules (§1) ============================================================= */

static void f_init(void *arg)
{
    g_ref.Count = 0xA5A5A5A4; /* Init must overwrite whatever was there */
    ExInitializeRundownProtection(&g_ref);
    g_count[0] = g_ref.Count;
}

TEST(init_sets_count_zero)
{
    CHECK_CLEAN(run1(f_init));
    CHECK_EQ(g_count[0], 0);
}

static void f_acquire_two(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    g_ok[0] = ExAcquireRundownProtection(&g_ref);
    g_count[0] = g_ref.Count;
    g_ok[1] = ExAcquireRundownProtection(&g_ref);
    g_count[1] = g_ref.Count;
}

TEST(acquire_true_adds_two_per_holder)
{
    CHECK_CLEAN(run1(f_acquire_two));
    CHECK_EQ(g_ok[0], TRUE);
    CHECK_EQ(g_count[0], 2);
    CHECK_EQ(g_ok[1], TRUE);
    CHECK_EQ(g_count[1], 4);
}

static void f_acquire_ex(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    g_ok[0] = ExAcquireRundownProtectionEx(&g_ref, 3);
    g_count[0] = g_ref.Count;
    ExReleaseRundownProtectionEx(&g_ref, 2);
    g_count[1] = g_ref.Count;
}

TEST(acquire_ex_adds_n_holders_and_release_ex_removes_n)
{
    CHECK_CLEAN(run1(f_acquire_ex));
    CHECK_EQ(g_ok[0], TRUE);
    CHECK_EQ(g_count[0], 6);
    CHECK_EQ(g_count[1], 2);
}

static void f_release(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ExAcquireRundownProtection(&g_ref);
    ExAcquireRundownProtection(&g_ref);
    ExReleaseRundownProtection(&g_ref);
    g_count[0] = g_ref.Count;
    ExReleaseRundownProtection(&g_ref);
    g_count[1] = g_ref.Count;
}

TEST(release_removes_one_holder)
{
    CHECK_CLEAN(run1(f_release));
    CHECK_EQ(g_count[0], 2);
    CHECK_EQ(g_count[1], 0);
}

static void f_acquire_at_dispatch(void *arg)
{
    KSPIN_LOCK lock;
    KIRQL old;
    ExInitializeRundownProtection(&g_ref);
    KeInitializeSpinLock(&lock);
    KeAcquireSpinLock(&lock, &old);
    g_count[1] = ke_irql();
    g_ok[0] = ExAcquireRundownProtection(&g_ref); /* <= DISPATCH_LEVEL: allowed */
    ExReleaseRundownProtection(&g_ref);
    KeReleaseSpinLock(&lock, old);
    g_count[0] = g_ref.Count;
}

TEST(acquire_and_release_allowed_at_dispatch_level)
{
    CHECK_CLEAN(run1(f_acquire_at_dispatch));
    CHECK_EQ(g_count[1], DISPATCH_LEVEL);
    CHECK_EQ(g_ok[0], TRUE);
    CHECK_EQ(g_count[0], 0);
}

static void f_wait_no_holders(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ExAcquireRundownProtection(&g_ref);
    ExReleaseRundownProtection(&g_ref);
    ExWaitForRundownProtectionRelease(&g_ref);
    g_count[0] = g_ref.Count;
}

TEST(wait_with_no_holders_returns_at_once_and_runs_down)
{
    CHECK_CLEAN(run1(f_wait_no_holders));
    CHECK_EQ(g_count[0], 1); /* EX_RUNDOWN_ACTIVE: run down */
    CHECK(trace_has("rundown wait: no holders, run down"));
    CHECK(!trace_has("holder(s) to drain")); /* it never blocked */
}

static void f_acquire_after_wait(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ExWaitForRundownProtectionRelease(&g_ref);
    g_ok[0] = ExAcquireRundownProtection(&g_ref);
    g_ok[1] = ExAcquireRundownProtectionEx(&g_ref, 2);
    g_count[0] = g_ref.Count;
}

TEST(acquire_after_wait_returns_false)
{
    CHECK_CLEAN(run1(f_acquire_after_wait));
    CHECK_EQ(g_ok[0], FALSE);
    CHECK_EQ(g_ok[1], FALSE);
    CHECK_EQ(g_count[0], 1); /* a refused acquire adds nothing */
}

/*
 * Fibers 0 and 1 hold protection, fiber 2 waits. Order (default schedule):
 * h0 acquires, blocks on g_go; h1 acquires, blocks on g_go; w sets g_go and
 * waits (2 holders to drain); h0 resumes, tries a new acquire (refused: the
 * wait started), releases; h1 releases last and wakes w.
 */
static void f_holder(void *arg)
{
    int me = sched_current();
    if (!ExAcquireRundownProtection(&g_ref)) {
        log_ev(me ? "h1 refused" : "h0 refused");
        return;
    }
    log_ev(me ? "h1 acquired" : "h0 acquired");
    KeWaitForSingleObject(&g_go, Executive, KernelMode, FALSE, NULL);
    g_ok[me] = ExAcquireRundownProtection(&g_ref); /* default schedule: a wait is in progress, FALSE */
    if (g_ok[me])
        ExReleaseRundownProtection(&g_ref); /* random schedules: granted before the wait, give it back */
    if (sched_fiber_count() > 2)
        g_count[me] = (ULONG_PTR)sched_fiber_state(2); /* the waiter, in the 3-fiber tests */
    log_ev(me ? "h1 releases" : "h0 releases");
    ExReleaseRundownProtection(&g_ref);
}

static void f_waiter(void *arg)
{
    log_ev("w waits");
    KeSetEvent(&g_go, IO_NO_INCREMENT, FALSE);
    ExWaitForRundownProtectionRelease(&g_ref);
    g_count[2] = g_ref.Count;
    log_ev("w done");
    ExRundownCompleted(&g_ref);
    g_count[3] = g_ref.Count;
}

TEST(wait_blocks_until_the_last_holder_releases)
{
    sched_fiber_fn *fns[] = {f_holder, f_holder, f_waiter};
    CHECK_CLEAN(run(fns, 3));
    CHECK_STR_CONTAINS(g_log, "h0 acquired;h1 acquired;w waits;h0 releases;h1 releases;w done;");
    CHECK(trace_has("rundown wait: 2 holder(s) to drain"));
    CHECK(trace_has("rundown release (waiter pending, 1 left)"));
    CHECK(trace_has("rundown release (waiter pending, 0 left)"));
    CHECK_EQ(g_count[0], SCHED_BLOCKED); /* the waiter was blocked when h0 released */
    CHECK_EQ(g_count[1], SCHED_BLOCKED); /* ... and when h1 released */
    CHECK_EQ(g_count[2] & 1, 1);         /* run down after the drain: active bit set ... */
    CHECK(g_count[2] != 1);              /* ... and Count still names the (stale) wait block */
    CHECK_EQ(g_count[3], 1);             /* ExRundownCompleted after the wait: Count 1 */
}

TEST(no_new_protection_once_a_wait_started)
{
    sched_fiber_fn *fns[] = {f_holder, f_holder, f_waiter};
    CHECK_CLEAN(run(fns, 3));
    CHECK_EQ(g_ok[0], FALSE);
    CHECK_EQ(g_ok[1], FALSE);
}

/* Any interleaving: the waiter returns only after every granted holder
 * released. Fixed seeds, so the same interleavings every time. */
TEST(wait_returns_after_all_releases_under_random_schedules)
{
    sched_fiber_fn *fns[] = {f_holder, f_holder, f_waiter};
    int drained = 0, bad = 0;
    for (uint64_t seed = 1; seed <= 64; seed++) {
        sched_outcome_t o = run_source(fns, 3, (sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = seed});
        const char *done = strstr(g_log, "w done");
        const char *r0 = strstr(g_log, "h0 releases"), *r1 = strstr(g_log, "h1 releases");
        if (o != SCHED_OUTCOME_DONE || tdf_failure() || !done || (r0 && r0 > done) || (r1 && r1 > done)) {
            if (!bad++)
                printf("    seed %lu: outcome %d log %s\n", (unsigned long)seed, (int)o, g_log);
        }
        drained += trace_has("holder(s) to drain");
    }
    CHECK_EQ(bad, 0);
    CHECK(drained > 0); /* some seeds really blocked the waiter */
}

static void f_wait_twice(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ExWaitForRundownProtectionRelease(&g_ref); /* no holders: run down */
    ExWaitForRundownProtectionRelease(&g_ref); /* already run down: no effect */
    g_count[0] = g_ref.Count;
    ExRundownCompleted(&g_ref);
    ExWaitForRundownProtectionRelease(&g_ref); /* after Completed: no effect */
    g_count[1] = g_ref.Count;
    g_reached_end = 1;
}

TEST(wait_on_run_down_ref_returns_at_once_without_error)
{
    CHECK_CLEAN(run1(f_wait_twice));
    CHECK(trace_has("rundown wait: already run down"));
    CHECK_EQ(g_count[0], 1);
    CHECK_EQ(g_count[1], 1);
    CHECK_EQ(g_reached_end, 1);
}

static void f_completed(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ExWaitForRundownProtectionRelease(&g_ref);
    ExRundownCompleted(&g_ref);
    g_count[0] = g_ref.Count;
    g_ok[0] = ExAcquireRundownProtection(&g_ref);
}

TEST(rundown_completed_after_wait)
{
    CHECK_CLEAN(run1(f_completed));
    CHECK_EQ(g_count[0], 1);
    CHECK_EQ(g_ok[0], FALSE); /* later acquires fail */
}

static void f_reinit(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ExAcquireRundownProtection(&g_ref);
    ExReleaseRundownProtection(&g_ref);
    ExWaitForRundownProtectionRelease(&g_ref);
    ExReInitializeRundownProtection(&g_ref); /* Completed is optional */
    g_count[0] = g_ref.Count;
    g_ok[0] = ExAcquireRundownProtection(&g_ref);
    g_count[1] = g_ref.Count;
    ExReleaseRundownProtection(&g_ref);
    ExWaitForRundownProtectionRelease(&g_ref);
    ExRundownCompleted(&g_ref);
    ExReInitializeRundownProtection(&g_ref); /* ... and allowed */
    g_ok[1] = ExAcquireRundownProtection(&g_ref);
    g_count[2] = g_ref.Count;
}

TEST(reinitialize_after_wait_lets_acquire_succeed)
{
    CHECK_CLEAN(run1(f_reinit));
    CHECK_EQ(g_count[0], 0);
    CHECK_EQ(g_ok[0], TRUE);
    CHECK_EQ(g_count[1], 2);
    CHECK_EQ(g_ok[1], TRUE);
    CHECK_EQ(g_count[2], 2);
}

/* After a wait that drained holders, reinitialising (without Completed) must
 * be allowed too: the state is "run down". */
static void f_waiter_reinit(void *arg)
{
    KeSetEvent(&g_go, IO_NO_INCREMENT, FALSE);
    ExWaitForRundownProtectionRelease(&g_ref);
    ExReInitializeRundownProtection(&g_ref);
    g_ok[2] = ExAcquireRundownProtection(&g_ref);
    g_count[2] = g_ref.Count;
}

TEST(reinitialize_after_draining_wait)
{
    sched_fiber_fn *fns[] = {f_holder, f_waiter_reinit};
    CHECK_CLEAN(run(fns, 2));
    CHECK(trace_has("rundown wait: 1 holder(s) to drain"));
    CHECK_EQ(g_ok[2], TRUE);
    CHECK_EQ(g_count[2], 2);
}

/* ==== misuse: one test per message of rundown.c ================================ */

static void f_reinit_no_wait(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ExReInitializeRundownProtection(&g_ref);
    g_reached_end = 1;
}

TEST(misuse_reinitialize_without_prior_wait)
{
    CHECK_MISUSE(run1(f_reinit_no_wait), "ExReInitializeRundownProtection",
                 "ExReInitializeRundownProtection without a prior ExWaitForRundownProtectionRelease");
}

static void f_reinit_holders(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ExAcquireRundownProtection(&g_ref);
    ExReInitializeRundownProtection(&g_ref);
    g_reached_end = 1;
}

TEST(misuse_reinitialize_while_holders_exist)
{
    CHECK_MISUSE(run1(f_reinit_holders), "ExReInitializeRundownProtection",
                 "ExReInitializeRundownProtection while the rundown is active with holders (not run down)");
}

/*
 * Wait in progress: fiber 0 acquires, blocks on g_go; fiber 1 sets g_go and
 * waits for the rundown (blocks, 1 holder); fiber 0 resumes with the wait in
 * progress and runs g_action.
 */
static void (*g_action)(void);

static void f_holder_then_action(void *arg)
{
    ExAcquireRundownProtection(&g_ref);
    KeWaitForSingleObject(&g_go, Executive, KernelMode, FALSE, NULL);
    g_count[0] = (g_ref.Count & 1) && g_ref.Count != 1; /* 1: a wait block is installed */
    g_action();
    g_reached_end = 1;
}

static void f_plain_waiter(void *arg)
{
    KeSetEvent(&g_go, IO_NO_INCREMENT, FALSE);
    ExWaitForRundownProtectionRelease(&g_ref);
}

static sched_outcome_t run_with_wait_in_progress(void (*action)(void))
{
    sched_fiber_fn *fns[] = {f_holder_then_action, f_plain_waiter};
    g_action = action;
    sched_outcome_t o = run(fns, 2);
    CHECK_EQ(g_count[0], 1); /* precondition: the action ran while the wait was in progress */
    return o;
}

static void act_reinit(void) { ExReInitializeRundownProtection(&g_ref); }

TEST(misuse_reinitialize_while_wait_in_progress)
{
    CHECK_MISUSE(run_with_wait_in_progress(act_reinit), "ExReInitializeRundownProtection",
                 "ExReInitializeRundownProtection while ExWaitForRundownProtectionRelease is still waiting");
}

static void f_release_no_acquire(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ExReleaseRundownProtection(&g_ref);
    g_reached_end = 1;
}

TEST(misuse_release_without_acquire)
{
    CHECK_MISUSE(run1(f_release_no_acquire), "ExReleaseRundownProtection",
                 "ExReleaseRundownProtection without a matching acquire");
}

static void f_release_ex_too_many(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ExAcquireRundownProtectionEx(&g_ref, 2);
    ExReleaseRundownProtectionEx(&g_ref, 3);
    g_reached_end = 1;
}

TEST(misuse_release_ex_more_than_acquired)
{
    CHECK_MISUSE(run1(f_release_ex_too_many), "ExReleaseRundownProtection",
                 "ExReleaseRundownProtection without a matching acquire");
}

static void act_release_two(void) { ExReleaseRundownProtectionEx(&g_ref, 2); /* holds 1 */ }

TEST(misuse_release_without_acquire_while_wait_in_progress)
{
    CHECK_MISUSE(run_with_wait_in_progress(act_release_two), "ExReleaseRundownProtection",
                 "ExReleaseRundownProtection without a matching acquire");
}

static void f_release_after_rundown(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ExWaitForRundownProtectionRelease(&g_ref);
    ExReleaseRundownProtection(&g_ref);
    g_reached_end = 1;
}

TEST(misuse_release_after_rundown_completed)
{
    CHECK_MISUSE(run1(f_release_after_rundown), "ExReleaseRundownProtection",
                 "ExReleaseRundownProtection after the rundown completed (no holder can exist)");
}

/* A second waiter (fiber 2, spawned mid-run) while fiber 1 waits. */
static void f_second_waiter(void *arg)
{
    ExWaitForRundownProtectionRelease(&g_ref);
    g_reached_end = 1;
}

static void act_spawn_second_waiter(void)
{
    sched_spawn("w2", "test", f_second_waiter, NULL);
    KeWaitForSingleObject(&g_never, Executive, KernelMode, FALSE, NULL); /* hand over to w2 */
}

TEST(misuse_concurrent_wait_while_another_wait_in_progress)
{
    CHECK_MISUSE(run_with_wait_in_progress(act_spawn_second_waiter), "ExWaitForRundownProtectionRelease",
                 "ExWaitForRundownProtectionRelease while another wait on the same rundown is in progress");
    CHECK_EQ(tdf_failure() ? tdf_failure()->fiber : -1, 2);
}

static void f_completed_before_wait(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ExAcquireRundownProtection(&g_ref);
    ExRundownCompleted(&g_ref);
    g_reached_end = 1;
}

TEST(misuse_rundown_completed_before_wait)
{
    CHECK_MISUSE(run1(f_completed_before_wait), "ExRundownCompleted",
                 "ExRundownCompleted before ExWaitForRundownProtectionRelease");
}

static void act_completed(void) { ExRundownCompleted(&g_ref); }

TEST(misuse_rundown_completed_while_wait_in_progress)
{
    CHECK_MISUSE(run_with_wait_in_progress(act_completed), "ExRundownCompleted",
                 "ExRundownCompleted while ExWaitForRundownProtectionRelease is still waiting");
}

static void f_wait_at_dispatch(void *arg)
{
    KSPIN_LOCK lock;
    KIRQL old;
    ExInitializeRundownProtection(&g_ref);
    KeInitializeSpinLock(&lock);
    KeAcquireSpinLock(&lock, &old); /* raises to DISPATCH_LEVEL */
    ExWaitForRundownProtectionRelease(&g_ref);
    g_reached_end = 1;
}

TEST(misuse_wait_above_apc_level)
{
    CHECK_MISUSE(run1(f_wait_at_dispatch), "ExWaitForRundownProtectionRelease",
                 "ExWaitForRundownProtectionRelease above APC_LEVEL (it blocks)");
}

static void f_acquire_above_dispatch(void *arg)
{
    ExInitializeRundownProtection(&g_ref);
    ke_set_irql(DISPATCH_LEVEL + 1); /* a device IRQL */
    ExAcquireRundownProtection(&g_ref);
    g_reached_end = 1;
}

TEST(misuse_acquire_above_dispatch_level)
{
    CHECK_MISUSE(run1(f_acquire_above_dispatch), "ExAcquireRundownProtection",
                 "ExAcquireRundownProtection above DISPATCH_LEVEL");
}

/*
 * §1 Misuse: "waiting twice only defined after Completed or when first wait
 * found no holders, else stale stack wait block". After a wait that drained
 * holders, the real Count still points at the first waiter's (now dead) stack
 * wait block | 1 until ExRundownCompleted; a second wait uses that stale block.
 */
static void f_waiter_waits_twice(void *arg)
{
    KeSetEvent(&g_go, IO_NO_INCREMENT, FALSE);
    ExWaitForRundownProtectionRelease(&g_ref); /* drains fiber 0's hold */
    ExWaitForRundownProtectionRelease(&g_ref); /* no ExRundownCompleted in between */
    g_reached_end = 1;
}

TEST(misuse_second_wait_after_draining_wait_without_completed)
{
    sched_fiber_fn *fns[] = {f_holder, f_waiter_waits_twice};
    sched_outcome_t o = run(fns, 2);
    CHECK(trace_has("rundown wait: 1 holder(s) to drain")); /* precondition: the first wait drained */
    const tdf_failure_t *f = tdf_failure();
    CHECK_EQ(o, SCHED_OUTCOME_ABORTED);
    CHECK(f && f->cls == TDF_CLASS_MISUSE && strcmp(f->name, "ExWaitForRundownProtectionRelease") == 0);
    CHECK_EQ(g_reached_end, 0);
}

/* docs/REPORTS.md "Signatures": a second wait is one key in both forms (a
 * wait in progress, or the stale block of a wait that drained), named by the
 * rundown's owner, the waiting routine and "second-wait", with the first
 * wait as the fatal pair's teardown side, whichever caller came second. */
TEST(second_wait_keys_the_same_in_progress_or_stale)
{
    char in_progress[256] = "", stale[256] = "";
    CHECK_MISUSE(run_with_wait_in_progress(act_spawn_second_waiter), "ExWaitForRundownProtectionRelease",
                 "while another wait on the same rundown is in progress");
    const tdf_failure_t *f = tdf_failure();
    if (f) {
        tdf_failure_signature(f, in_progress, sizeof in_progress);
        CHECK_EQ(f->obj_kind, TDF_OBJ_RUNDOWN);
        CHECK(f->teardown.present && f->teardown.step < f->access.step); /* the first wait */
        CHECK_STR_CONTAINS(f->detail, "the first wait was called from");
    }
    sched_fiber_fn *fns[] = {f_holder, f_waiter_waits_twice};
    run(fns, 2);
    f = tdf_failure();
    CHECK(f && strstr(f->detail, "stale wait block"));
    if (f) {
        tdf_failure_signature(f, stale, sizeof stale);
        CHECK(f->teardown.present && f->teardown.step < f->access.step);
    }
    CHECK_STR_CONTAINS(in_progress, ":second-wait");
    CHECK_STR_CONTAINS(in_progress, "rundown(");
    CHECK_EQ(strcmp(in_progress, stale), 0);
}

int main(void) { return tdf_test_main(); }
