/*
 * KDPC and KTIMER (model/kernel/dpc.c, ke_timer.c; KERNEL-SEMANTICS §8):
 * insert/remove/flush return values, the DPC's IRQL and thread, waits in a
 * DPC or at DISPATCH_LEVEL, timer set/cancel/expiry, periodic timers that
 * end, freed memory holding a queued DPC or set timer. Test functions run as
 * model threads (no images); the BYTES source with no bytes never preempts:
 * the running thread goes on until it blocks or ends, then the lowest
 * runnable id runs.
 */
#include "fiber_harness.h"

static KDPC g_dpc;
static KTIMER g_timer;
static KEVENT g_ev;
static int g_runs;
static KIRQL g_irql_in_dpc;
static int g_dpc_fiber_daemon;
static BOOLEAN g_r[8];
static int g_requeue;

static VOID count_dpc(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    (void)Dpc, (void)Context, (void)A1, (void)A2;
    g_runs++;
    g_irql_in_dpc = KeGetCurrentIrql();
    g_dpc_fiber_daemon = sched_fiber_is_daemon(sched_current());
    if (g_requeue-- > 0)
        KeInsertQueueDpc(Dpc, NULL, NULL); /* dequeued before the call: may be queued again */
}

static VOID waiting_dpc(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    (void)Dpc, (void)Context, (void)A1, (void)A2;
    KeWaitForSingleObject(&g_ev, Executive, KernelMode, FALSE, NULL);
}

static void reset(void)
{
    g_runs = 0;
    g_irql_in_dpc = 0xFF;
    g_dpc_fiber_daemon = -1;
    g_requeue = 0;
    memset(g_r, 0xEE, sizeof g_r);
    KeInitializeDpc(&g_dpc, count_dpc, NULL);
    KeInitializeTimer(&g_timer);
    KeInitializeEvent(&g_ev, NotificationEvent, FALSE);
}

static sched_outcome_t run1(sched_fiber_fn *fn)
{
    return fh_run(&fn, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset);
}

#define CHECK_FAILURE(outcome, cls, code, sub, name, detail) \
    fh_check_failure((outcome), (cls), (code), (sub), (name), NULL, (detail), __FILE__, __LINE__)

static void insert_twice(void *arg)
{
    (void)arg;
    g_r[0] = KeInsertQueueDpc(&g_dpc, NULL, NULL);
    g_r[1] = KeInsertQueueDpc(&g_dpc, NULL, NULL);
}

TEST(insert_queues_once_and_the_dpc_runs_at_dispatch_on_a_dpc_thread)
{
    CHECK_CLEAN(run1(insert_twice));
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_r[1], FALSE); /* already queued */
    CHECK_EQ(g_runs, 1);
    CHECK_EQ(g_irql_in_dpc, DISPATCH_LEVEL);
    CHECK_EQ(g_dpc_fiber_daemon, 1);
    CHECK(fh_trace_has("DPC count_dpc runs"));
}

static void insert_remove(void *arg)
{
    (void)arg;
    g_r[0] = KeRemoveQueueDpc(&g_dpc); /* not queued */
    KeInsertQueueDpc(&g_dpc, NULL, NULL);
    g_r[1] = KeRemoveQueueDpc(&g_dpc); /* no preemption: still queued */
    g_r[2] = KeRemoveQueueDpc(&g_dpc);
}

TEST(remove_returns_true_only_when_it_dequeued_and_the_routine_never_runs)
{
    CHECK_CLEAN(run1(insert_remove));
    CHECK_EQ(g_r[0], FALSE);
    CHECK_EQ(g_r[1], TRUE);
    CHECK_EQ(g_r[2], FALSE);
    CHECK_EQ(g_runs, 0);
}

static void insert_flush(void *arg)
{
    (void)arg;
    g_requeue = 1; /* the routine queues itself once more: the flush waits for the first run only */
    KeInsertQueueDpc(&g_dpc, NULL, NULL);
    KeFlushQueuedDpcs();
    g_r[0] = (BOOLEAN)g_runs;
}

TEST(flush_returns_after_every_earlier_dpc_ran)
{
    CHECK_CLEAN(run1(insert_flush));
    CHECK(g_r[0] >= 1); /* the re-queued run may come before or after the flush returns */
    CHECK_EQ(g_runs, 2);
}

static void insert_waiting(void *arg)
{
    (void)arg;
    KeInitializeDpc(&g_dpc, waiting_dpc, NULL);
    KeInsertQueueDpc(&g_dpc, NULL, NULL);
}

TEST(a_wait_inside_a_dpc_routine_is_0xB8)
{
    CHECK_FAILURE(run1(insert_waiting), TDF_CLASS_BUGCHECK, 0xB8, 0, "ATTEMPTED_SWITCH_FROM_DPC",
                  "KeWaitForSingleObject would wait inside a DPC routine");
}

static KSPIN_LOCK g_lock;
static void flush_under_spin_lock(void *arg)
{
    (void)arg;
    KIRQL old;
    KeInitializeSpinLock(&g_lock);
    KeAcquireSpinLock(&g_lock, &old);
    KeFlushQueuedDpcs();
}

TEST(flush_at_dispatch_level_is_0xA)
{
    CHECK_FAILURE(run1(flush_under_spin_lock), TDF_CLASS_BUGCHECK, 0xA, 0, "IRQL_NOT_LESS_OR_EQUAL",
                  "KeFlushQueuedDpcs would wait at IRQL 2");
}

static void poll_under_spin_lock(void *arg)
{
    (void)arg;
    KIRQL old;
    LARGE_INTEGER zero = {.QuadPart = 0};
    KeInitializeSpinLock(&g_lock);
    KeAcquireSpinLock(&g_lock, &old);
    g_r[0] = KeWaitForSingleObject(&g_ev, Executive, KernelMode, FALSE, &zero) == STATUS_TIMEOUT;
    KeReleaseSpinLock(&g_lock, old);
    FAST_MUTEX m;
    ExInitializeFastMutex(&m);
    KeAcquireSpinLock(&g_lock, &old);
    ExAcquireFastMutex(&m);
}

TEST(a_zero_timeout_polls_at_dispatch_but_a_fast_mutex_there_is_0xA)
{
    CHECK_FAILURE(run1(poll_under_spin_lock), TDF_CLASS_BUGCHECK, 0xA, 0, "IRQL_NOT_LESS_OR_EQUAL",
                  "ExAcquireFastMutex would wait at IRQL 2");
    CHECK_EQ(g_r[0], 1);
}

static void set_cancel(void *arg)
{
    (void)arg;
    LARGE_INTEGER due = {.QuadPart = -10000};
    g_r[0] = KeSetTimer(&g_timer, due, &g_dpc);
    g_r[1] = KeSetTimer(&g_timer, due, &g_dpc); /* still set: set again */
    g_r[2] = KeCancelTimer(&g_timer);
    g_r[3] = KeCancelTimer(&g_timer);
    KeSetTimer(&g_timer, due, &g_dpc);
    KeWaitForSingleObject(&g_timer, Executive, KernelMode, FALSE, NULL); /* expiry signals it */
    g_r[4] = KeCancelTimer(&g_timer); /* expired: no longer set */
    g_r[5] = KeReadStateTimer(&g_timer);
    KeFlushQueuedDpcs();
}

TEST(set_and_cancel_return_whether_the_timer_was_set_and_expiry_signals_and_queues_the_dpc)
{
    CHECK_CLEAN(run1(set_cancel));
    CHECK_EQ(g_r[0], FALSE);
    CHECK_EQ(g_r[1], TRUE);
    CHECK_EQ(g_r[2], TRUE);
    CHECK_EQ(g_r[3], FALSE);
    CHECK_EQ(g_r[4], FALSE);
    CHECK_EQ(g_r[5], TRUE);
    CHECK_EQ(g_runs, 1);
}

static void cancel_after_expiry_leaves_dpc(void *arg)
{
    (void)arg;
    LARGE_INTEGER due = {.QuadPart = -1};
    KeSetTimerEx(&g_timer, due, 10, &g_dpc);                           /* periodic */
    KeWaitForSingleObject(&g_timer, Executive, KernelMode, FALSE, NULL); /* first expiry: DPC queued */
    g_r[0] = KeCancelTimer(&g_timer);                                  /* periodic: still set */
    g_r[1] = KeRemoveQueueDpc(&g_dpc);                                 /* KeCancelTimer left the DPC queued */
}

TEST(cancel_does_not_remove_a_dpc_already_queued)
{
    CHECK_CLEAN(run1(cancel_after_expiry_leaves_dpc));
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_r[1], TRUE);
    CHECK_EQ(g_runs, 0);
}

static void periodic_waiter(void *arg)
{
    (void)arg;
    KeInitializeTimerEx(&g_timer, SynchronizationTimer);
    LARGE_INTEGER due = {.QuadPart = -1};
    KeSetTimerEx(&g_timer, due, 1, &g_dpc);
    for (int i = 0; i < 5; i++) /* a waiter with nothing else to do: virtual time gives the periods */
        KeWaitForSingleObject(&g_timer, Executive, KernelMode, FALSE, NULL);
    KeCancelTimer(&g_timer);
    KeFlushQueuedDpcs();
    g_r[0] = (BOOLEAN)g_runs;
}

TEST(a_periodic_timer_fires_again_for_a_waiter_and_the_run_ends_after_cancel)
{
    CHECK_CLEAN(run1(periodic_waiter));
    CHECK(g_r[0] >= 5);
}

static void periodic_left_set(void *arg)
{
    (void)arg;
    LARGE_INTEGER due = {.QuadPart = -1};
    KeSetTimerEx(&g_timer, due, 1, &g_dpc);
    for (int i = 0; i < 200; i++)
        KeReadStateTimer(&g_timer); /* ordinary steps: each PERIOD_STEPS make the timer due again */
}

TEST(a_periodic_timer_left_set_neither_hangs_nor_deadlocks_the_run)
{
    /* Random preemptions let the clock and the DPC run between the steps. */
    sched_fiber_fn *fn = periodic_left_set;
    sched_outcome_t o = fh_run(&fn, 1, (sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = 1}, reset);
    CHECK_CLEAN(o);
    CHECK(g_runs >= 2);
    CHECK(g_runs <= 200 / 16 + 2); /* bounded by the ordinary steps, not the step cap */
}

static void forever_waiter(void *arg)
{
    (void)arg;
    LARGE_INTEGER due = {.QuadPart = -1};
    KeSetTimerEx(&g_timer, due, 1, &g_dpc);
    KeWaitForSingleObject(&g_ev, Executive, KernelMode, FALSE, NULL); /* nobody sets it */
}

TEST(a_thread_waiting_forever_beside_a_periodic_timer_is_a_deadlock_not_a_hang)
{
    CHECK_EQ(run1(forever_waiter), SCHED_OUTCOME_DEADLOCK);
    CHECK(g_runs >= 1 && g_runs <= 6);
}

static void free_queued(void *arg)
{
    (void)arg;
    PKDPC d = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *d, 0x74736554u);
    KeInitializeDpc(d, count_dpc, NULL);
    KeInsertQueueDpc(d, NULL, NULL);
    ExFreePoolWithTag(d, 0x74736554u);
}

TEST(freeing_pool_that_holds_a_queued_dpc_is_0xC7)
{
    CHECK_FAILURE(run1(free_queued), TDF_CLASS_BUGCHECK, 0xC7, 0x1, "TIMER_OR_DPC_INVALID",
                  "pool freed while it holds a queued KDPC (routine count_dpc)");
}

static void free_set_timer(void *arg)
{
    (void)arg;
    PKTIMER t = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *t, 0x74736554u);
    KeInitializeTimer(t);
    LARGE_INTEGER due = {.QuadPart = -1};
    KeSetTimer(t, due, NULL);
    ExFreePoolWithTag(t, 0x74736554u);
}

TEST(freeing_pool_that_holds_a_set_timer_is_0xC7)
{
    CHECK_FAILURE(run1(free_set_timer), TDF_CLASS_BUGCHECK, 0xC7, 0x0, "TIMER_OR_DPC_INVALID",
                  "pool freed while it holds a KTIMER that is still set");
}

int main(void) { return tdf_test_main(); }
