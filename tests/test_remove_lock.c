/*
 * IO_REMOVE_LOCK: one test per rule of KERNEL-SEMANTICS §2 and one per
 * bugcheck / misuse message of model/kernel/remove_lock.c. Every remove lock
 * call runs inside a fiber (the routines are yield points); results are
 * recorded in globals and checked from main after the run.
 *
 * Default schedule: the BYTES source with no bytes, i.e. the running fiber
 * keeps running until it blocks or ends, then the lowest runnable id runs.
 * Multi-fiber tests rely on that order and also assert it via g_log.
 */
#include "../model/kernel/kernel.h"
#include "fiber_harness.h"
#include "tdf_test.h"

#define TAG_A ((PVOID)&g_tag_objects[0])
#define TAG_B ((PVOID)&g_tag_objects[1])
#define TAG_C ((PVOID)&g_tag_objects[2])

static int g_tag_objects[32]; /* distinct addresses used as tags */
static IO_REMOVE_LOCK g_lock;
static KEVENT g_go;    /* holder -> remover handshake: set by the remover just before it waits */
static KEVENT g_never; /* never set: parks a fiber for good */
static long g_val[8];
static NTSTATUS g_status[8];
static int g_reached_end; /* set after the call under test; must stay 0 after a failure */
static char g_log[256];

static void log_ev(const char *s)
{
    strncat(g_log, s, sizeof g_log - strlen(g_log) - 2);
    strcat(g_log, ";");
}

/* Resets every layer and runs fns[0..n) as fibers 0..n-1. The lock is zeroed
 * first: it is static storage reused across runs, and initialising a lock that
 * is already initialised is 0xC4/0xD7 (a driver's lock lives in a fresh device
 * context). */
static void reset_globals(void)
{
    memset(&g_lock, 0, sizeof g_lock);
    memset(g_val, 0xEE, sizeof g_val);
    memset(g_status, 0xEE, sizeof g_status);
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

static void init_lock(void) { IoInitializeRemoveLock(&g_lock, 0x6B634C52u, 0, 0); }

/* A run that must end cleanly. */
/* A run that must stop at 0xC4/`subcode` in `routine` with exactly `msg`. */
static void check_bugcheck(sched_outcome_t outcome, uint32_t subcode, const char *routine, const char *msg, int line)
{
    const tdf_failure_t *f = tdf_failure();
    char expect[400];
    if (!tdf_check(outcome == SCHED_OUTCOME_ABORTED, __FILE__, line, "outcome == SCHED_OUTCOME_ABORTED"))
        printf("    outcome = %d\n", (int)outcome);
    if (!tdf_check(f != NULL, __FILE__, line, "tdf_failure() != NULL"))
        return;
    tdf_check(f->cls == TDF_CLASS_BUGCHECK, __FILE__, line, "failure class == TDF_CLASS_BUGCHECK");
    tdf_check_eq(f->code, 0xC4, __FILE__, line, "f->code", "0xC4");
    tdf_check_eq(f->subcode, subcode, __FILE__, line, "f->subcode", "subcode");
    tdf_check(strcmp(f->name, "DRIVER_VERIFIER_DETECTED_VIOLATION") == 0, __FILE__, line,
              "failure name == DRIVER_VERIFIER_DETECTED_VIOLATION");
    /* Routine, exact message, the caller frame (no driver image here), the step. */
    snprintf(expect, sizeof expect, "%s %s (harness, step %lu)", routine, msg, (unsigned long)f->step);
    if (!tdf_check(strcmp(f->detail, expect) == 0, __FILE__, line, "detail == exact message"))
        printf("    detail: \"%s\"\n    expect: \"%s\"\n", f->detail, expect);
    tdf_check(g_reached_end == 0, __FILE__, line, "the misusing fiber stopped at the bugcheck");
}
#define CHECK_BUGCHECK(outcome, sub, routine, msg) check_bugcheck((outcome), (sub), (routine), (msg), __LINE__)

/* A run that must stop at a MISUSE of `routine` with exactly `msg`. */
static void check_misuse(sched_outcome_t outcome, const char *routine, const char *msg, int line)
{
    const tdf_failure_t *f = tdf_failure();
    char expect[400];
    if (!tdf_check(outcome == SCHED_OUTCOME_ABORTED, __FILE__, line, "outcome == SCHED_OUTCOME_ABORTED"))
        printf("    outcome = %d\n", (int)outcome);
    if (!tdf_check(f != NULL, __FILE__, line, "tdf_failure() != NULL"))
        return;
    tdf_check(f->cls == TDF_CLASS_MISUSE, __FILE__, line, "failure class == TDF_CLASS_MISUSE");
    tdf_check(strcmp(f->name, routine) == 0, __FILE__, line, "failure name == routine");
    snprintf(expect, sizeof expect, "%s %s (harness, step %lu)", routine, msg, (unsigned long)f->step);
    if (!tdf_check(strcmp(f->detail, expect) == 0, __FILE__, line, "detail == exact message"))
        printf("    detail: \"%s\"\n    expect: \"%s\"\n", f->detail, expect);
    tdf_check(g_reached_end == 0, __FILE__, line, "the misusing fiber stopped at the misuse");
}
#define CHECK_MISUSE(outcome, routine, msg) check_misuse((outcome), (routine), (msg), __LINE__)

/* ==== rules (§2) ============================================================= */

static void f_init(void *arg)
{
    memset(&g_lock, 0xA5, sizeof g_lock); /* Init must overwrite whatever was there */
    IoInitializeRemoveLock(&g_lock, 0x6B634C52u, 5, 100);
    g_val[0] = g_lock.Common.IoCount;
    g_val[1] = g_lock.Common.Removed;
    g_val[2] = g_lock.Common.RemoveEvent.Header.SignalState;
    g_val[3] = g_lock.Dbg.UntrackedCount;
    g_val[4] = g_lock.Dbg.Tags[0].Count;
    g_val[5] = g_lock.Dbg.HighWatermark;
}

TEST(init_sets_bias_and_not_removed)
{
    CHECK_CLEAN(run1(f_init));
    CHECK_EQ(g_val[0], 1);
    CHECK_EQ(g_val[1], FALSE);
    CHECK_EQ(g_val[2], 0);
    CHECK_EQ(g_val[3], 0);
    CHECK_EQ(g_val[4], 0);
    CHECK_EQ(g_val[5], 100);
    CHECK(trace_has("IoInitializeRemoveLock (count 1)"));
}

static void f_acquire_two(void *arg)
{
    init_lock();
    g_status[0] = IoAcquireRemoveLock(&g_lock, TAG_A);
    g_val[0] = g_lock.Common.IoCount;
    g_status[1] = IoAcquireRemoveLock(&g_lock, TAG_B);
    g_val[1] = g_lock.Common.IoCount;
    g_status[2] = IoAcquireRemoveLock(&g_lock, TAG_A); /* same tag again: same slot */
    g_val[2] = g_lock.Common.IoCount;
    g_val[3] = g_lock.Dbg.Tags[0].Count;
    g_val[4] = g_lock.Dbg.Tags[1].Count;
    g_val[5] = g_lock.Common.Removed;
}

TEST(acquire_increments_and_returns_success)
{
    CHECK_CLEAN(run1(f_acquire_two));
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    CHECK_EQ(g_val[0], 2);
    CHECK_EQ(g_status[1], STATUS_SUCCESS);
    CHECK_EQ(g_val[1], 3);
    CHECK_EQ(g_status[2], STATUS_SUCCESS);
    CHECK_EQ(g_val[2], 4);
    CHECK_EQ(g_val[3], 2); /* TAG_A twice in slot 0 */
    CHECK_EQ(g_val[4], 1); /* TAG_B in slot 1 */
    CHECK_EQ(g_val[5], FALSE);
    CHECK(trace_has("IoAcquireRemoveLock tag#0 -> STATUS_SUCCESS (count 2)"));
    CHECK(trace_has("IoAcquireRemoveLock tag#1 -> STATUS_SUCCESS (count 3)"));
    CHECK(trace_has("IoAcquireRemoveLock tag#0 -> STATUS_SUCCESS (count 4)"));
}

static void f_release(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    IoAcquireRemoveLock(&g_lock, TAG_B);
    IoReleaseRemoveLock(&g_lock, TAG_A);
    g_val[0] = g_lock.Common.IoCount;
    IoReleaseRemoveLock(&g_lock, TAG_B);
    g_val[1] = g_lock.Common.IoCount;
    g_val[2] = g_lock.Common.RemoveEvent.Header.SignalState; /* not removed: no event */
    g_val[3] = g_lock.Dbg.Tags[0].Count + g_lock.Dbg.Tags[1].Count;
    /* A freed slot is reused: the next new tag is tag#0 again. */
    IoAcquireRemoveLock(&g_lock, TAG_C);
    IoReleaseRemoveLock(&g_lock, TAG_C);
    g_val[4] = g_lock.Common.IoCount;
}

TEST(release_decrements_without_setting_the_event_before_removal)
{
    CHECK_CLEAN(run1(f_release));
    CHECK_EQ(g_val[0], 2);
    CHECK_EQ(g_val[1], 1); /* back to the bias */
    CHECK_EQ(g_val[2], 0);
    CHECK_EQ(g_val[3], 0);
    CHECK_EQ(g_val[4], 1);
    CHECK(trace_has("IoReleaseRemoveLock tag#0 (count 2)"));
    CHECK(trace_has("IoReleaseRemoveLock tag#1 (count 1)"));
    CHECK(!trace_has("KeSetEvent"));
}

static void f_null_tag(void *arg)
{
    init_lock();
    g_status[0] = IoAcquireRemoveLock(&g_lock, NULL); /* documented: NULL when no tag */
    g_val[0] = g_lock.Common.IoCount;
    IoReleaseRemoveLock(&g_lock, NULL);
    g_val[1] = g_lock.Common.IoCount;
    g_reached_end = 1;
}

TEST(null_tag_is_a_tag)
{
    CHECK_CLEAN(run1(f_null_tag));
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    CHECK_EQ(g_val[0], 2);
    CHECK_EQ(g_val[1], 1);
    CHECK_EQ(g_reached_end, 1);
}

static void f_at_dispatch(void *arg)
{
    KSPIN_LOCK lock;
    KIRQL old;
    init_lock();
    KeInitializeSpinLock(&lock);
    KeAcquireSpinLock(&lock, &old);
    g_val[1] = ke_irql();
    g_status[0] = IoAcquireRemoveLock(&g_lock, TAG_A); /* <= DISPATCH_LEVEL: allowed */
    g_val[2] = g_lock.Common.IoCount;
    IoReleaseRemoveLock(&g_lock, TAG_A); /* <= DISPATCH_LEVEL: allowed */
    KeReleaseSpinLock(&lock, old);
    g_val[0] = g_lock.Common.IoCount;
}

TEST(acquire_and_release_allowed_at_dispatch_level)
{
    CHECK_CLEAN(run1(f_at_dispatch));
    CHECK_EQ(g_val[1], DISPATCH_LEVEL);
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    CHECK_EQ(g_val[2], 2);
    CHECK_EQ(g_val[0], 1);
}

static void f_remove_alone(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A); /* IRP_MN_REMOVE_DEVICE's own acquisition */
    IoReleaseRemoveLockAndWait(&g_lock, TAG_A);
    g_val[0] = g_lock.Common.IoCount;
    g_val[1] = g_lock.Common.Removed;
    g_val[2] = g_lock.Dbg.Tags[0].Count;
    g_reached_end = 1;
}

TEST(release_and_wait_without_other_holders_returns_at_once)
{
    CHECK_CLEAN(run1(f_remove_alone));
    CHECK_EQ(g_val[0], 0); /* own acquisition and bias dropped */
    CHECK_EQ(g_val[1], TRUE);
    CHECK_EQ(g_val[2], 0);
    CHECK_EQ(g_reached_end, 1);
    CHECK(trace_has("IoReleaseRemoveLockAndWait tag#0: removed, no other holder"));
    CHECK(trace_has("IoReleaseRemoveLockAndWait: drained, lock removed"));
    CHECK(!trace_has("to drain")); /* it never blocked */
}

static void f_acquire_after_remove(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    IoReleaseRemoveLockAndWait(&g_lock, TAG_A);
    g_status[0] = IoAcquireRemoveLock(&g_lock, TAG_B);
    g_status[1] = IoAcquireRemoveLock(&g_lock, TAG_A);
    g_val[0] = g_lock.Common.IoCount;
    g_val[1] = g_lock.Dbg.Tags[0].Count + g_lock.Dbg.Tags[1].Count;
}

TEST(acquire_after_release_and_wait_returns_delete_pending)
{
    CHECK_CLEAN(run1(f_acquire_after_remove));
    CHECK_EQ(g_status[0], STATUS_DELETE_PENDING);
    CHECK_EQ(g_status[1], STATUS_DELETE_PENDING);
    CHECK_EQ(g_val[0], 0); /* a refused acquire adds nothing */
    CHECK_EQ(g_val[1], 0); /* ... and tracks no tag */
    CHECK(trace_has("IoAcquireRemoveLock -> STATUS_DELETE_PENDING (removed)"));
}

/*
 * Fiber 0 holds the lock (an I/O in flight), fiber 1 handles
 * IRP_MN_REMOVE_DEVICE. Order (default schedule): h acquires, blocks on g_go;
 * r acquires, sets g_go, IoReleaseRemoveLockAndWait (1 holder to drain,
 * blocks); h resumes with the wait in progress: a new acquire is refused
 * (STATUS_DELETE_PENDING), then h releases its acquisition and wakes r.
 */
static void f_holder(void *arg)
{
    g_status[0] = IoAcquireRemoveLock(&g_lock, TAG_A);
    if (g_status[0] != STATUS_SUCCESS) {
        log_ev("h refused");
        return;
    }
    log_ev("h acquired");
    KeWaitForSingleObject(&g_go, Executive, KernelMode, FALSE, NULL);
    g_status[1] = IoAcquireRemoveLock(&g_lock, TAG_C); /* default schedule: the wait started, refused */
    g_val[3] = g_lock.Common.IoCount;
    if (g_status[1] == STATUS_SUCCESS)
        IoReleaseRemoveLock(&g_lock, TAG_C); /* random schedules: granted before the wait, give it back */
    g_val[0] = sched_fiber_state(1); /* the remover */
    g_val[1] = g_lock.Common.Removed;
    log_ev("h releases");
    IoReleaseRemoveLock(&g_lock, TAG_A);
}

static void f_remover(void *arg)
{
    g_status[2] = IoAcquireRemoveLock(&g_lock, TAG_B); /* the dispatch routine's acquisition */
    log_ev("r waits");
    KeSetEvent(&g_go, IO_NO_INCREMENT, FALSE);
    IoReleaseRemoveLockAndWait(&g_lock, TAG_B);
    g_val[2] = g_lock.Common.IoCount;
    log_ev("r done");
}

static sched_outcome_t run_holder_remover(sched_source_t src)
{
    sched_fiber_fn *fns[] = {f_holder, f_remover};
    /* Initialised from main (a yield point there is a no-op): AddDevice ran
     * before any I/O could arrive. */
    sched_reset(&(sched_config_t){.source = src, .step_cap = 10000, .keep_full_trace = 1});
    kernel_reset();
    memset(&g_lock, 0, sizeof g_lock);
    init_lock();
    memset(g_val, 0xEE, sizeof g_val);
    memset(g_status, 0xEE, sizeof g_status);
    g_reached_end = 0;
    g_log[0] = 0;
    KeInitializeEvent(&g_go, NotificationEvent, FALSE);
    for (unsigned i = 0; i < 2; i++)
        sched_spawn("test", "test", fns[i], NULL);
    return sched_run();
}

TEST(release_and_wait_blocks_until_the_holder_releases)
{
    CHECK_CLEAN(run_holder_remover((sched_source_t){.kind = SCHED_SOURCE_BYTES}));
    CHECK_STR_CONTAINS(g_log, "h acquired;r waits;h releases;r done;");
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    CHECK_EQ(g_status[2], STATUS_SUCCESS);
    CHECK_EQ(g_val[0], SCHED_BLOCKED); /* the remover was blocked when h released */
    CHECK_EQ(g_val[1], TRUE);          /* Removed was set before the wait */
    CHECK_EQ(g_val[2], 0);
    CHECK(trace_has("IoReleaseRemoveLockAndWait tag#1: removed, 1 acquisition(s) to drain"));
    CHECK(trace_has("IoReleaseRemoveLock tag#0 (count 0: last holder after removal, sets the remove event)"));
    CHECK(trace_has("IoReleaseRemoveLockAndWait: drained, lock removed"));
}

TEST(acquire_after_release_and_wait_started_returns_delete_pending)
{
    CHECK_CLEAN(run_holder_remover((sched_source_t){.kind = SCHED_SOURCE_BYTES}));
    CHECK_EQ(g_status[1], STATUS_DELETE_PENDING);
    CHECK_EQ(g_val[3], 1); /* the refused acquire left the count alone: h's acquisition only */
}

/* Any interleaving: the remover returns only after every granted holder
 * released. Fixed seeds, so the same interleavings every time. */
TEST(release_and_wait_returns_after_all_releases_under_random_schedules)
{
    int drained = 0, refused = 0, bad = 0;
    for (uint64_t seed = 1; seed <= 64; seed++) {
        sched_outcome_t o = run_holder_remover((sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = seed});
        const char *done = strstr(g_log, "r done");
        const char *rel = strstr(g_log, "h releases");
        if (o != SCHED_OUTCOME_DONE || tdf_failure() || !done || (rel && rel > done) || g_val[2] != 0) {
            if (!bad++)
                printf("    seed %lu: outcome %d log %s\n", (unsigned long)seed, (int)o, g_log);
        }
        drained += trace_has("acquisition(s) to drain");
        refused += strstr(g_log, "h refused") != NULL;
    }
    CHECK_EQ(bad, 0);
    CHECK(drained > 0); /* some seeds really blocked the remover */
    CHECK(refused > 0); /* some seeds removed before the holder's first acquire */
}

/* A holder that never releases: the remover stays blocked, named as such. */
static void f_holder_forever(void *arg)
{
    IoAcquireRemoveLock(&g_lock, TAG_A);
    KeWaitForSingleObject(&g_never, Executive, KernelMode, FALSE, NULL);
}

static void f_remover_simple(void *arg)
{
    IoAcquireRemoveLock(&g_lock, TAG_B);
    IoReleaseRemoveLockAndWait(&g_lock, TAG_B);
    g_reached_end = 1;
}

static void f_init_then_spawn(void *arg)
{
    init_lock();
    sched_spawn("holder", "test", f_holder_forever, NULL);
    sched_spawn("remover", "test", f_remover_simple, NULL);
}

TEST(release_and_wait_with_a_leaked_acquisition_deadlocks_in_release_and_wait)
{
    sched_outcome_t o = run1(f_init_then_spawn);
    CHECK_EQ(o, SCHED_OUTCOME_DEADLOCK);
    CHECK_EQ(g_reached_end, 0);
    CHECK_EQ(sched_fiber_state(2), SCHED_BLOCKED);
    CHECK_STR_CONTAINS(sched_fiber_wait_reason(2), "IoReleaseRemoveLockAndWait");
    CHECK_EQ(g_lock.Common.IoCount, 1);
}

static void f_table_overflow(void *arg)
{
    init_lock();
    for (int i = 0; i < IO_REMOVE_LOCK_TAG_SLOTS + 1; i++)
        IoAcquireRemoveLock(&g_lock, &g_tag_objects[i]);
    g_val[0] = g_lock.Common.IoCount;
    g_val[1] = g_lock.Dbg.UntrackedCount;
    /* Slots are full: the 17th is counted without its tag. A release of a tag
     * that was never acquired then consumes that untagged count, unchecked. */
    IoReleaseRemoveLock(&g_lock, &g_tag_objects[30]);
    g_val[2] = g_lock.Common.IoCount;
    g_val[3] = g_lock.Dbg.UntrackedCount;
    for (int i = 0; i < IO_REMOVE_LOCK_TAG_SLOTS; i++)
        IoReleaseRemoveLock(&g_lock, &g_tag_objects[i]);
    g_val[4] = g_lock.Common.IoCount;
    g_reached_end = 1;
    IoReleaseRemoveLock(&g_lock, &g_tag_objects[30]); /* nothing untagged left: checked again */
    g_reached_end = 2;
}

TEST(tag_table_overflow_counts_untagged_and_checks_again_once_drained)
{
    sched_outcome_t o = run1(f_table_overflow);
    CHECK_EQ(g_val[0], IO_REMOVE_LOCK_TAG_SLOTS + 2);
    CHECK_EQ(g_val[1], 1);
    CHECK_EQ(g_val[2], IO_REMOVE_LOCK_TAG_SLOTS + 1);
    CHECK_EQ(g_val[3], 0);
    CHECK_EQ(g_val[4], 1);
    CHECK(trace_has("IoAcquireRemoveLock tag#15 -> STATUS_SUCCESS (count 17)"));
    CHECK(trace_has("IoAcquireRemoveLock tag#untracked -> STATUS_SUCCESS (count 18)"));
    CHECK(trace_has("IoReleaseRemoveLock tag#untracked (count 17)"));
    CHECK_EQ(g_reached_end, 1);
    CHECK_EQ(o, SCHED_OUTCOME_ABORTED);
    CHECK(tdf_failure() && tdf_failure()->cls == TDF_CLASS_BUGCHECK && tdf_failure()->subcode == 0xD5);
}

/* ==== bugchecks: 0xC4/0xD5, 0xD6, 0xD7 ========================================= */

#define MSG_D5 "with a tag that holds no acquisition of this lock (never acquired with this tag, or released more often than acquired)"
#define MSG_D6 "with a tag that holds no acquisition of this lock (the caller must hold one, acquired with this tag)"

static void f_release_other_tag(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    g_val[0] = 1;
    IoReleaseRemoveLock(&g_lock, TAG_B); /* B was never acquired */
    g_reached_end = 1;
}

TEST(bugcheck_d5_release_with_tag_never_acquired)
{
    CHECK_BUGCHECK(run1(f_release_other_tag), 0xD5, "IoReleaseRemoveLock", MSG_D5);
    CHECK_EQ(g_val[0], 1);
    CHECK_EQ(g_lock.Common.IoCount, 2); /* untouched: A still holds */
    CHECK_EQ(g_lock.Dbg.Tags[0].Count, 1);
}

static void f_release_twice(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    IoReleaseRemoveLock(&g_lock, TAG_A);
    g_val[0] = g_lock.Common.IoCount;
    IoReleaseRemoveLock(&g_lock, TAG_A); /* released more often than acquired */
    g_reached_end = 1;
}

TEST(bugcheck_d5_release_more_often_than_acquired)
{
    CHECK_BUGCHECK(run1(f_release_twice), 0xD5, "IoReleaseRemoveLock", MSG_D5);
    CHECK_EQ(g_val[0], 1);
    CHECK_EQ(g_lock.Common.IoCount, 1); /* the bias is never released by IoReleaseRemoveLock */
}

static void f_release_without_any_acquire(void *arg)
{
    init_lock();
    IoReleaseRemoveLock(&g_lock, NULL);
    g_reached_end = 1;
}

TEST(bugcheck_d5_release_without_any_acquire)
{
    CHECK_BUGCHECK(run1(f_release_without_any_acquire), 0xD5, "IoReleaseRemoveLock", MSG_D5);
    CHECK_EQ(g_lock.Common.IoCount, 1);
    CHECK_EQ(g_lock.Common.Removed, FALSE);
}

static void f_release_after_remove(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    IoReleaseRemoveLockAndWait(&g_lock, TAG_A);
    IoReleaseRemoveLock(&g_lock, TAG_A); /* the wait already dropped A */
    g_reached_end = 1;
}

TEST(bugcheck_d5_release_after_release_and_wait_never_underflows)
{
    CHECK_BUGCHECK(run1(f_release_after_remove), 0xD5, "IoReleaseRemoveLock", MSG_D5);
    CHECK_EQ(g_lock.Common.IoCount, 0); /* not -1 */
}

static void f_wait_other_tag(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    IoReleaseRemoveLockAndWait(&g_lock, TAG_B);
    g_reached_end = 1;
}

TEST(bugcheck_d6_release_and_wait_with_tag_not_held)
{
    CHECK_BUGCHECK(run1(f_wait_other_tag), 0xD6, "IoReleaseRemoveLockAndWait", MSG_D6);
    CHECK_EQ(g_lock.Common.IoCount, 2); /* untouched */
    CHECK_EQ(g_lock.Common.Removed, FALSE);
}

static void f_wait_without_acquire(void *arg)
{
    init_lock();
    IoReleaseRemoveLockAndWait(&g_lock, NULL);
    g_reached_end = 1;
}

TEST(bugcheck_d6_release_and_wait_without_any_acquire)
{
    CHECK_BUGCHECK(run1(f_wait_without_acquire), 0xD6, "IoReleaseRemoveLockAndWait", MSG_D6);
    CHECK_EQ(g_lock.Common.IoCount, 1); /* the bias alone is not the caller's: no underflow */
    CHECK_EQ(g_lock.Common.Removed, FALSE);
}

static void f_wait_twice(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    IoAcquireRemoveLock(&g_lock, TAG_B);
    IoReleaseRemoveLock(&g_lock, TAG_B);
    IoReleaseRemoveLockAndWait(&g_lock, TAG_A);
    g_val[0] = 1;
    IoReleaseRemoveLockAndWait(&g_lock, TAG_A);
    g_reached_end = 1;
}

TEST(bugcheck_d7_release_and_wait_twice)
{
    CHECK_BUGCHECK(run1(f_wait_twice), 0xD7, "IoReleaseRemoveLockAndWait",
                   "a second time on the same lock (a remove lock is one-shot)");
    CHECK_EQ(g_val[0], 1);
    CHECK_EQ(g_lock.Common.IoCount, 0);
}

/* Two removers: fiber 0 holds A and, once fiber 1 waits, calls
 * IoReleaseRemoveLockAndWait itself. */
static void f_holder_then_wait(void *arg)
{
    IoAcquireRemoveLock(&g_lock, TAG_A);
    KeWaitForSingleObject(&g_go, Executive, KernelMode, FALSE, NULL);
    g_val[0] = g_lock.Dbg.State; /* 1: the other wait is in progress */
    IoReleaseRemoveLockAndWait(&g_lock, TAG_A);
    g_reached_end = 1;
}

static void f_remover_plain(void *arg)
{
    IoAcquireRemoveLock(&g_lock, TAG_B);
    KeSetEvent(&g_go, IO_NO_INCREMENT, FALSE);
    IoReleaseRemoveLockAndWait(&g_lock, TAG_B);
}

static void f_init_then_two_removers(void *arg)
{
    init_lock();
    sched_spawn("holder", "test", f_holder_then_wait, NULL);
    sched_spawn("remover", "test", f_remover_plain, NULL);
}

TEST(bugcheck_d7_release_and_wait_while_another_waits)
{
    CHECK_BUGCHECK(run1(f_init_then_two_removers), 0xD7, "IoReleaseRemoveLockAndWait",
                   "while another IoReleaseRemoveLockAndWait on the same lock is still waiting (a remove lock is "
                   "one-shot)");
    CHECK_EQ(g_val[0], 1);
    CHECK_EQ(tdf_failure() ? tdf_failure()->fiber : -1, 1); /* the holder, second fiber of the run */
    CHECK_EQ(g_lock.Common.IoCount, 1);                      /* A still held, untouched */
}

static void f_reinit_after_wait(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    IoReleaseRemoveLockAndWait(&g_lock, TAG_A);
    init_lock();
    g_reached_end = 1;
}

TEST(bugcheck_d7_reinitialize_after_release_and_wait)
{
    CHECK_BUGCHECK(run1(f_reinit_after_wait), 0xD7, "IoInitializeRemoveLock",
                   "on a remove lock after IoReleaseRemoveLockAndWait (a remove lock is initialised once, in "
                   "AddDevice, and is deleted with the device extension)");
    CHECK_EQ(g_lock.Common.Removed, TRUE); /* not reset */
}

static void f_reinit_in_use(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    init_lock();
    g_reached_end = 1;
}

TEST(bugcheck_d7_reinitialize_while_in_use)
{
    CHECK_BUGCHECK(run1(f_reinit_in_use), 0xD7, "IoInitializeRemoveLock",
                   "on a remove lock that is already initialised (other threads may be using it)");
    CHECK_EQ(g_lock.Common.IoCount, 2); /* not reset */
}

/* ==== misuse (MISUSE class): IRQL, uninitialised or overwritten locks ========== */

static void f_acquire_above_dispatch(void *arg)
{
    init_lock();
    ke_set_irql(DISPATCH_LEVEL + 1); /* a device IRQL */
    IoAcquireRemoveLock(&g_lock, TAG_A);
    g_reached_end = 1;
}

TEST(misuse_acquire_above_dispatch_level)
{
    CHECK_MISUSE(run1(f_acquire_above_dispatch), "IoAcquireRemoveLock", "above DISPATCH_LEVEL");
    CHECK_EQ(g_lock.Common.IoCount, 1);
}

static void f_release_above_dispatch(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    ke_set_irql(DISPATCH_LEVEL + 1);
    IoReleaseRemoveLock(&g_lock, TAG_A);
    g_reached_end = 1;
}

TEST(misuse_release_above_dispatch_level)
{
    CHECK_MISUSE(run1(f_release_above_dispatch), "IoReleaseRemoveLock", "above DISPATCH_LEVEL");
    CHECK_EQ(g_lock.Common.IoCount, 2);
}

static void f_wait_at_apc(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    ke_set_irql(APC_LEVEL); /* a wait would be allowed here; the routine still wants PASSIVE_LEVEL */
    IoReleaseRemoveLockAndWait(&g_lock, TAG_A);
    g_reached_end = 1;
}

TEST(misuse_release_and_wait_above_passive_level)
{
    CHECK_MISUSE(run1(f_wait_at_apc), "IoReleaseRemoveLockAndWait",
                 "above PASSIVE_LEVEL (it blocks; it belongs in IRP_MN_REMOVE_DEVICE, at PASSIVE_LEVEL)");
    CHECK_EQ(g_lock.Common.Removed, FALSE);
    CHECK_EQ(g_lock.Common.IoCount, 2);
}

static void f_init_at_dispatch(void *arg)
{
    KSPIN_LOCK lock;
    KIRQL old;
    KeInitializeSpinLock(&lock);
    KeAcquireSpinLock(&lock, &old);
    init_lock();
    g_reached_end = 1;
}

TEST(misuse_initialize_above_passive_level)
{
    CHECK_MISUSE(run1(f_init_at_dispatch), "IoInitializeRemoveLock", "above PASSIVE_LEVEL");
    CHECK_EQ(g_lock.Common.IoCount, 0); /* not initialised */
}

static void f_init_bad_watermark(void *arg)
{
    IoInitializeRemoveLock(&g_lock, 0x6B634C52u, 0, 0x80000000u);
    g_reached_end = 1;
}

TEST(misuse_initialize_high_watermark_out_of_range)
{
    CHECK_MISUSE(run1(f_init_bad_watermark), "IoInitializeRemoveLock", "with HighWatermark above 0x7FFFFFFF");
}

static void f_acquire_uninitialised(void *arg)
{
    IoAcquireRemoveLock(&g_lock, TAG_A); /* zeroed, never initialised */
    g_reached_end = 1;
}

TEST(misuse_acquire_on_uninitialised_lock)
{
    CHECK_MISUSE(run1(f_acquire_uninitialised), "IoAcquireRemoveLock",
                 "on a remove lock that IoInitializeRemoveLock never initialised");
    CHECK_EQ(g_lock.Common.IoCount, 0);
}

static void f_release_uninitialised(void *arg)
{
    IoReleaseRemoveLock(&g_lock, TAG_A);
    g_reached_end = 1;
}

TEST(misuse_release_on_uninitialised_lock)
{
    CHECK_MISUSE(run1(f_release_uninitialised), "IoReleaseRemoveLock",
                 "on a remove lock that IoInitializeRemoveLock never initialised");
    CHECK_EQ(g_lock.Common.IoCount, 0); /* not -1 */
}

static void f_overwritten(void *arg)
{
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    g_lock.Common.IoCount = 0; /* e.g. the device context re-zeroed in part while in use */
    IoReleaseRemoveLock(&g_lock, TAG_A);
    g_reached_end = 1;
}

TEST(misuse_release_on_overwritten_counts_never_underflows)
{
    CHECK_MISUSE(run1(f_overwritten), "IoReleaseRemoveLock",
                 "on a remove lock whose counts were overwritten since IoInitializeRemoveLock");
    CHECK_EQ(g_lock.Common.IoCount, 0); /* not -1 */
}

TEST(misuse_release_and_wait_that_must_block_outside_a_fiber)
{
    /* From main (no model thread can block): reported, and it returns. */
    sched_reset(&(sched_config_t){.source = {.kind = SCHED_SOURCE_BYTES}, .step_cap = 10000, .keep_full_trace = 1});
    kernel_reset();
    memset(&g_lock, 0, sizeof g_lock);
    init_lock();
    IoAcquireRemoveLock(&g_lock, TAG_A);
    IoAcquireRemoveLock(&g_lock, TAG_B);
    IoReleaseRemoveLockAndWait(&g_lock, TAG_A);
    const tdf_failure_t *f = tdf_failure();
    if (!CHECK(f != NULL))
        return;
    CHECK_EQ(f->cls, TDF_CLASS_MISUSE);
    CHECK_STR_CONTAINS(f->detail, "IoReleaseRemoveLockAndWait has to block but runs outside a model thread (harness");
    CHECK_EQ(g_lock.Common.IoCount, 3); /* nothing changed */
    CHECK_EQ(g_lock.Common.Removed, FALSE);
}

int main(void) { return tdf_test_main(); }
