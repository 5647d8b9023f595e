/*
 * WDFTIMER and WDFDPC (KERNEL-SEMANTICS §8; docs/LIFECYCLE.md rules 40-49):
 * creation rules, start/stop/period, passive timers, Stop(Wait) misuse,
 * parent deletion, DPC enqueue/cancel, automatic serialization, and the
 * KDPC/KTIMER unload check.
 *
 * As tests/test_lifecycle_locks.c: each test builds a started device from
 * main (model setup never yields) and creates its timers and DPCs there with
 * harness callbacks that yield inside; model threads start, stop, cancel and
 * delete, and main checks. A "never after" rule is checked over SEEDS random
 * schedules together with its counterpart (Stop(FALSE), no wait) on the same
 * schedules, which must break it at least once, else the check could not fail.
 */
#include "../model/wdf/wdf_internal.h"
#include "fiber_harness.h"
#include "tdf_test.h"

#include <stdio.h>

#define SEEDS 200

static wdf_device_t *g_dev;
static WDFTIMER g_timer;
static WDFDPC g_dpc;
static WDFQUEUE g_queue;
static NTSTATUS g_status[4];
static BOOLEAN g_r[8];
static int g_runs, g_inside, g_after_stop, g_stopped, g_cleanup_saw_inside, g_cleanup_runs_before;
static int g_cleanup_ran, g_dpc_runs, g_lock_held;
static KIRQL g_irql;
static int g_daemon;
static int g_stop_in_callback;

/* Setup parameters (set before each run). */
static WDF_SYNCHRONIZATION_SCOPE g_scope;
static ULONG g_period;
static int g_passive;

static void body(void)
{
    g_runs++;
    g_inside++;
    if (g_stopped)
        g_after_stop++; /* a callback started after Stop(TRUE) returned */
    g_irql = KeGetCurrentIrql();
    g_daemon = sched_fiber_is_daemon(sched_current());
    g_lock_held = wdf_callback_lock_held_by_current(&g_dev->cb_lock);
    for (int i = 0; i < 3; i++)
        ke_yield(); /* another processor could stop or delete here */
    g_inside--;
}

static VOID on_timer(WDFTIMER Timer)
{
    body();
    if (g_stop_in_callback)
        g_r[7] = WdfTimerStop(Timer, TRUE);
}

static VOID on_dpc(WDFDPC Dpc)
{
    (void)Dpc;
    g_dpc_runs++;
    body();
}

static VOID on_device_cleanup(WDFOBJECT Object)
{
    (void)Object;
    g_cleanup_ran = 1;
    g_cleanup_saw_inside = g_inside;
    g_cleanup_runs_before = g_runs;
}

static VOID on_io(WDFQUEUE Queue, WDFREQUEST Request)
{
    (void)Queue;
    WdfRequestComplete(Request, STATUS_SUCCESS);
}

static void reset_globals(void)
{
    for (unsigned i = 0; i < TDF_ARRAY_SIZE(g_status); i++)
        g_status[i] = (NTSTATUS)0xEEEEEEEE;
    memset(g_r, 0xEE, sizeof g_r);
    g_runs = g_inside = g_after_stop = g_stopped = g_cleanup_saw_inside = g_cleanup_runs_before = 0;
    g_cleanup_ran = g_dpc_runs = g_lock_held = 0;
    g_irql = 0xFF;
    g_daemon = -1;
    g_stop_in_callback = 0;
    wdf_reset();

    /* A started FDO in D0 (extra references: no driver object needed). */
    g_dev = pool_alloc_model(sizeof *g_dev);
    WDF_OBJECT_ATTRIBUTES da;
    WDF_OBJECT_ATTRIBUTES_INIT(&da);
    da.SynchronizationScope = g_scope;
    da.EvtCleanupCallback = on_device_cleanup;
    wdf_object_init(&g_dev->obj, OBJ_DEVICE, &da);
    g_dev->obj.refs = 1000;
    snprintf(g_dev->name, sizeof g_dev->name, "test (FDO)");
    g_dev->pnp = PNP_STARTED;
    g_dev->power = WdfPowerDeviceD0;
    wdf_sync_scope_init_device(g_dev);
    WDF_IO_QUEUE_CONFIG qc;
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&qc, WdfIoQueueDispatchParallel);
    qc.EvtIoDefault = on_io;
    qc.PowerManaged = WdfFalse;
    g_status[2] = WdfIoQueueCreate((WDFDEVICE)g_dev, &qc, WDF_NO_OBJECT_ATTRIBUTES, &g_queue);

    WDF_TIMER_CONFIG tc;
    WDF_TIMER_CONFIG_INIT(&tc, on_timer);
    tc.Period = g_period;
    WDF_OBJECT_ATTRIBUTES ta;
    WDF_OBJECT_ATTRIBUTES_INIT(&ta);
    ta.ParentObject = (WDFOBJECT)g_dev;
    if (g_passive)
        ta.ExecutionLevel = WdfExecutionLevelPassive;
    g_status[0] = WdfTimerCreate(&tc, &ta, &g_timer);
    WDF_DPC_CONFIG dc;
    WDF_DPC_CONFIG_INIT(&dc, on_dpc);
    WDF_OBJECT_ATTRIBUTES_INIT(&ta);
    ta.ParentObject = (WDFOBJECT)g_dev;
    g_status[1] = WdfDpcCreate(&dc, &ta, &g_dpc);
}

static void setup(ULONG period, int passive, WDF_SYNCHRONIZATION_SCOPE scope)
{
    g_period = period;
    g_passive = passive;
    g_scope = scope;
}

static sched_outcome_t run_seed(sched_fiber_fn *const *fns, unsigned n, uint64_t seed)
{
    return fh_run(fns, n, (sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = seed}, reset_globals);
}

static sched_outcome_t run_bytes(sched_fiber_fn *fn)
{
    return fh_run(&fn, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals);
}

/* ---- rule 40: a WDFTIMER / WDFDPC needs a device ancestor ------------------------------ */
static void create_variants(void *arg)
{
    (void)arg;
    WDF_TIMER_CONFIG tc;
    WDF_DPC_CONFIG dc;
    WDF_OBJECT_ATTRIBUTES a;
    WDFTIMER t;
    WDFDPC d;
    WDF_TIMER_CONFIG_INIT(&tc, on_timer);
    g_status[0] = WdfTimerCreate(&tc, WDF_NO_OBJECT_ATTRIBUTES, &t); /* no parent */
    wdf_driver_t *drv = pool_alloc_model(sizeof *drv);
    drv->obj.kind = OBJ_DRIVER;
    drv->obj.refs = 1;
    WDF_OBJECT_ATTRIBUTES_INIT(&a);
    a.ParentObject = (WDFOBJECT)drv;
    g_status[1] = WdfTimerCreate(&tc, &a, &t); /* a WDFDRIVER parent */
    WDF_DPC_CONFIG_INIT(&dc, on_dpc);
    g_status[2] = WdfDpcCreate(&dc, &a, &d);
    WDF_TIMER_CONFIG_INIT_PERIODIC(&tc, on_timer, 10);
    WDF_OBJECT_ATTRIBUTES_INIT(&a);
    a.ParentObject = (WDFOBJECT)g_queue; /* a queue: its device is the ancestor */
    a.ExecutionLevel = WdfExecutionLevelPassive;
    g_status[3] = WdfTimerCreate(&tc, &a, &t); /* passive and periodic */
    a.ExecutionLevel = WdfExecutionLevelInheritFromParent;
    g_r[0] = NT_SUCCESS(WdfTimerCreate(&tc, &a, &t)) && WdfTimerGetParentObject(t) == (WDFOBJECT)g_queue;
}

TEST(rule40_timer_and_dpc_need_a_device_ancestor)
{
    setup(0, 0, WdfSynchronizationScopeNone);
    CHECK_CLEAN(run_bytes(create_variants));
    CHECK_EQ(g_status[0], STATUS_WDF_PARENT_NOT_SPECIFIED);
    CHECK_EQ(g_status[1], STATUS_INVALID_DEVICE_REQUEST);
    CHECK_EQ(g_status[2], STATUS_INVALID_DEVICE_REQUEST);
    CHECK_EQ(g_status[3], STATUS_NOT_SUPPORTED);
    CHECK_EQ(g_r[0], TRUE);
}

/* ---- rule 41: one-shot start/stop return values, the callback's IRQL and thread --------- */
static void one_shot(void *arg)
{
    (void)arg;
    g_r[0] = WdfTimerStart(g_timer, WDF_REL_TIMEOUT_IN_MS(5));
    g_r[1] = WdfTimerStart(g_timer, WDF_REL_TIMEOUT_IN_MS(5)); /* still in the queue */
    g_r[2] = WdfTimerStop(g_timer, FALSE);
    g_r[3] = WdfTimerStop(g_timer, FALSE);
    WdfTimerStart(g_timer, WDF_ABS_TIMEOUT_IN_MS(5)); /* absolute: also "some time later" */
    LARGE_INTEGER forever = {.QuadPart = -1};
    while (g_runs == 0)
        KeDelayExecutionThread(KernelMode, FALSE, &forever);
    g_r[4] = WdfTimerStop(g_timer, TRUE); /* expired: not in the queue */
}

TEST(rule41_one_shot_start_stop_return_values_and_callback_at_dispatch_on_a_dpc_thread)
{
    setup(0, 0, WdfSynchronizationScopeNone);
    CHECK_CLEAN(run_bytes(one_shot));
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    CHECK_EQ(g_r[0], FALSE);
    CHECK_EQ(g_r[1], TRUE);
    CHECK_EQ(g_r[2], TRUE);
    CHECK_EQ(g_r[3], FALSE);
    CHECK_EQ(g_r[4], FALSE);
    CHECK_EQ(g_runs, 1);
    CHECK_EQ(g_irql, DISPATCH_LEVEL);
    CHECK_EQ(g_daemon, 1);
}

/* ---- rule 42: periodic; Stop(TRUE) waits for the callback, Stop(FALSE) does not ------------ */
static int g_wait;
static void periodic_then_stop(void *arg)
{
    (void)arg;
    WdfTimerStart(g_timer, WDF_REL_TIMEOUT_IN_MS(1));
    for (int i = 0; i < 60; i++)
        ke_yield(); /* ordinary steps: the period comes round */
    g_r[0] = WdfTimerStop(g_timer, (BOOLEAN)g_wait);
    g_stopped = 1;
    g_after_stop += g_inside > 0; /* a callback still inside once the stop returned */
    for (int i = 0; i < 20; i++)
        ke_yield();
}

static void sweep_stop(int wait, int *runs_max, int *after_stop, int *clean)
{
    sched_fiber_fn *fn = periodic_then_stop;
    *runs_max = 0;
    *after_stop = 0;
    *clean = 1;
    g_wait = wait;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        sched_outcome_t o = run_seed(&fn, 1, seed);
        if (o != SCHED_OUTCOME_DONE || tdf_failure())
            *clean = 0;
        if (g_runs > *runs_max)
            *runs_max = g_runs;
        *after_stop += g_after_stop;
    }
}

TEST(rule42_periodic_timer_repeats_and_stop_with_wait_outlasts_its_callback)
{
    int runs_max, after_stop, clean;
    setup(10, 0, WdfSynchronizationScopeNone);
    sweep_stop(1, &runs_max, &after_stop, &clean);
    CHECK(clean);
    CHECK(runs_max >= 2); /* periodic: it fires again after its callback */
    CHECK_EQ(after_stop, 0); /* no callback inside or starting once Stop(TRUE) returned */
    sweep_stop(0, &runs_max, &after_stop, &clean);
    CHECK(clean);
    CHECK(after_stop > 0); /* the same schedules with Stop(FALSE): a callback goes on */
}

/* ---- rule 43: ExecutionLevel passive ---------------------------------------------------- */
static void passive_start_stop(void *arg)
{
    (void)arg;
    WdfTimerStart(g_timer, WDF_REL_TIMEOUT_IN_MS(1));
    LARGE_INTEGER forever = {.QuadPart = -1};
    while (g_runs == 0 && g_inside == 0)
        KeDelayExecutionThread(KernelMode, FALSE, &forever);
    g_r[0] = WdfTimerStop(g_timer, TRUE);
    g_r[1] = (BOOLEAN)(g_inside == 0);
}

TEST(rule43_passive_timer_runs_at_passive_on_the_framework_worker_and_stop_waits_for_it)
{
    int bad = 0;
    setup(0, 1, WdfSynchronizationScopeNone);
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        sched_fiber_fn *fn = passive_start_stop;
        sched_outcome_t o = run_seed(&fn, 1, seed);
        bad += o != SCHED_OUTCOME_DONE || tdf_failure() || g_r[1] != TRUE || g_irql != PASSIVE_LEVEL || g_daemon != 1;
    }
    CHECK_EQ(bad, 0);
    CHECK(fh_trace_has("WDFTIMER passive callback on_timer"));
}

/* ---- rule 44: Stop(TRUE) from the callback or above PASSIVE_LEVEL is Verifier's misuse ----- */
static void start_and_wait(void *arg)
{
    (void)arg;
    g_stop_in_callback = 1;
    WdfTimerStart(g_timer, WDF_REL_TIMEOUT_IN_MS(1));
    LARGE_INTEGER forever = {.QuadPart = -1};
    KeDelayExecutionThread(KernelMode, FALSE, &forever);
}

static void stop_at_dispatch(void *arg)
{
    (void)arg;
    KSPIN_LOCK l;
    KIRQL old;
    KeInitializeSpinLock(&l);
    KeAcquireSpinLock(&l, &old);
    g_r[0] = WdfTimerStop(g_timer, FALSE); /* fine at DISPATCH_LEVEL */
    WdfTimerStop(g_timer, TRUE);
}

TEST(rule44_stop_with_wait_from_its_own_callback_or_at_dispatch_is_misuse)
{
    setup(0, 0, WdfSynchronizationScopeNone);
    fh_check_failure(run_bytes(start_and_wait), TDF_CLASS_MISUSE, 0, 0, "WdfTimerStop", NULL,
                     "WdfTimerStop(Wait=TRUE) from the timer's own callback on_timer", __FILE__, __LINE__);
    fh_check_failure(run_bytes(stop_at_dispatch), TDF_CLASS_MISUSE, 0, 0, "WdfTimerStop", NULL,
                     "WdfTimerStop(Wait=TRUE) at IRQL 2", __FILE__, __LINE__);
    CHECK_EQ(g_r[0], FALSE);
}

/* ---- rule 45: deleting the parent stops the timer (waits) and flushes the DPC ------------- */
static void start_then_delete_parent(void *arg)
{
    (void)arg;
    WdfTimerStart(g_timer, WDF_REL_TIMEOUT_IN_MS(1));
    WdfDpcEnqueue(g_dpc);
    for (int i = 0; i < 4; i++)
        ke_yield();
    wdf_object_delete(&g_dev->obj); /* the PnP manager's delete of the device object */
    g_r[0] = (BOOLEAN)(g_inside == 0);
}

TEST(rule45_parent_deletion_stops_the_timer_and_flushes_the_dpc_before_the_parents_cleanup)
{
    int bad = 0, dpc_ran_each = 1, timer_inside_seen = 0;
    setup(10, 0, WdfSynchronizationScopeNone);
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        sched_fiber_fn *fn = start_then_delete_parent;
        sched_outcome_t o = run_seed(&fn, 1, seed);
        bad += o != SCHED_OUTCOME_DONE || tdf_failure() || !g_cleanup_ran || g_cleanup_saw_inside != 0 ||
               g_r[0] != TRUE;
        dpc_ran_each &= g_dpc_runs == 1; /* queued at the delete: it still ran (a flush, not a dequeue) */
        timer_inside_seen |= g_runs > 0;
    }
    CHECK_EQ(bad, 0);
    CHECK(dpc_ran_each);
    CHECK(timer_inside_seen);
    CHECK(fh_trace_has("WDFTIMER on_timer disposed: stop and wait"));
}

/* ---- rule 46: WDFDPC enqueue / cancel --------------------------------------------------- */
static void dpc_enqueue_cancel(void *arg)
{
    (void)arg;
    g_r[0] = WdfDpcEnqueue(g_dpc);
    g_r[1] = WdfDpcEnqueue(g_dpc); /* already queued */
    g_r[2] = WdfDpcCancel(g_dpc, FALSE); /* dequeued: never runs */
    g_r[3] = WdfDpcCancel(g_dpc, TRUE);  /* not queued: flushes, FALSE */
    WdfDpcEnqueue(g_dpc);
    g_r[4] = WdfDpcCancel(g_dpc, TRUE);
    g_r[5] = (BOOLEAN)(WdfDpcWdmGetDpc(g_dpc) != NULL && WdfDpcGetParentObject(g_dpc) == (WDFOBJECT)g_dev);
}

static void dpc_cancel_wait_while_running(void *arg)
{
    (void)arg;
    WdfDpcEnqueue(g_dpc);
    LARGE_INTEGER forever = {.QuadPart = -1};
    while (g_inside == 0 && g_dpc_runs == 0)
        KeDelayExecutionThread(KernelMode, FALSE, &forever);
    g_r[0] = WdfDpcCancel(g_dpc, TRUE);
    g_r[1] = (BOOLEAN)(g_inside == 0);
}

TEST(rule46_dpc_enqueue_once_cancel_true_only_when_dequeued_and_wait_outlasts_the_routine)
{
    setup(0, 0, WdfSynchronizationScopeNone);
    CHECK_CLEAN(run_bytes(dpc_enqueue_cancel));
    CHECK_EQ(g_status[1], STATUS_SUCCESS);
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_r[1], FALSE);
    CHECK_EQ(g_r[2], TRUE);
    CHECK_EQ(g_r[3], FALSE);
    CHECK_EQ(g_r[4], TRUE);
    CHECK_EQ(g_r[5], TRUE);
    CHECK_EQ(g_dpc_runs, 0);
    int bad = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        sched_fiber_fn *fn = dpc_cancel_wait_while_running;
        sched_outcome_t o = run_seed(&fn, 1, seed);
        bad += o != SCHED_OUTCOME_DONE || tdf_failure() || g_r[1] != TRUE;
    }
    CHECK_EQ(bad, 0);
}

/* ---- rule 47: AutomaticSerialization under the parent's scope ----------------------------- */
static void fire_both(void *arg)
{
    (void)arg;
    WdfTimerStart(g_timer, WDF_REL_TIMEOUT_IN_MS(1));
    WdfTimerStop(g_timer, TRUE);
    WdfTimerStart(g_timer, WDF_REL_TIMEOUT_IN_MS(1));
    LARGE_INTEGER forever = {.QuadPart = -1};
    while (g_runs == 0)
        KeDelayExecutionThread(KernelMode, FALSE, &forever);
    g_r[0] = (BOOLEAN)g_lock_held;
    g_lock_held = -1;
    WdfDpcEnqueue(g_dpc);
    while (g_dpc_runs == 0)
        KeDelayExecutionThread(KernelMode, FALSE, &forever);
    g_r[1] = (BOOLEAN)g_lock_held;
}

TEST(rule47_automatic_serialization_takes_the_device_lock_only_under_device_scope)
{
    setup(0, 0, WdfSynchronizationScopeDevice);
    CHECK_CLEAN(run_bytes(fire_both));
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_r[1], TRUE);
    CHECK_EQ(g_dpc_runs, 1);
    setup(0, 0, WdfSynchronizationScopeNone);
    CHECK_CLEAN(run_bytes(fire_both));
    CHECK_EQ(g_r[0], FALSE);
    CHECK_EQ(g_r[1], FALSE);
}

/* ---- rule 48: a KTIMER set / a KDPC queued when its image unloads is 0xCE ------------------- */
static struct tdf_image g_img = {.name = "unloading"};
static KTIMER g_ktimer;
static KDPC g_kdpc;
static VOID on_kdpc(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2) { (void)Dpc, (void)Context, (void)A1, (void)A2; }

static void set_then_unload(void *arg)
{
    (void)arg;
    KeInitializeDpc(&g_kdpc, on_kdpc, NULL);
    KeInitializeTimer(&g_ktimer);
    g_ktimer.TdfImage = g_kdpc.TdfImage = &g_img; /* as if the driver image initialised them */
    LARGE_INTEGER due = {.QuadPart = -1};
    KeSetTimerEx(&g_ktimer, due, 10, &g_kdpc);
    image_unload(&g_img);
}

static void queue_then_unload(void *arg)
{
    (void)arg;
    KeInitializeDpc(&g_kdpc, on_kdpc, NULL);
    g_kdpc.TdfImage = &g_img;
    KeInsertQueueDpc(&g_kdpc, NULL, NULL);
    image_unload(&g_img);
}

TEST(rule48_unload_with_a_ktimer_set_or_a_kdpc_queued_is_0xCE)
{
    setup(0, 0, WdfSynchronizationScopeNone);
    image_register(&g_img);
    image_load(&g_img);
    fh_check_failure(run_bytes(set_then_unload), TDF_CLASS_BUGCHECK, 0xCE, 0,
                     "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", "unloading!unload",
                     "unloaded with a KTIMER still set (periodic): at expiry its DPC routine on_kdpc", __FILE__,
                     __LINE__);
    image_load(&g_img);
    fh_check_failure(run_bytes(queue_then_unload), TDF_CLASS_BUGCHECK, 0xCE, 0,
                     "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", "unloading!unload",
                     "unloaded with a KDPC still queued: its routine on_kdpc", __FILE__, __LINE__);
}

/* ---- rule 49: WdfDpcCancel(TRUE) above PASSIVE_LEVEL; a wait lock in a DPC is 0xB8 --------- */
static WDFWAITLOCK g_wl;
static VOID on_dpc_waits(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    (void)Dpc, (void)Context, (void)A1, (void)A2;
    WdfWaitLockAcquire(g_wl, NULL);
}

static void dpc_takes_wait_lock(void *arg)
{
    (void)arg;
    WdfWaitLockCreate(WDF_NO_OBJECT_ATTRIBUTES, &g_wl);
    KeInitializeDpc(&g_kdpc, on_dpc_waits, NULL);
    KeInsertQueueDpc(&g_kdpc, NULL, NULL);
}

static void cancel_wait_at_dispatch(void *arg)
{
    (void)arg;
    KSPIN_LOCK l;
    KIRQL old;
    KeInitializeSpinLock(&l);
    KeAcquireSpinLock(&l, &old);
    WdfDpcCancel(g_dpc, TRUE);
}

TEST(rule49_a_wait_lock_in_a_dpc_is_0xB8_and_dpc_cancel_with_wait_at_dispatch_is_misuse)
{
    setup(0, 0, WdfSynchronizationScopeNone);
    fh_check_failure(run_bytes(dpc_takes_wait_lock), TDF_CLASS_BUGCHECK, 0xB8, 0, "ATTEMPTED_SWITCH_FROM_DPC", NULL,
                     "WdfWaitLockAcquire would wait inside a DPC routine", __FILE__, __LINE__);
    fh_check_failure(run_bytes(cancel_wait_at_dispatch), TDF_CLASS_MISUSE, 0, 0, "WdfDpcCancel", NULL,
                     "WdfDpcCancel(Wait=TRUE) at IRQL 2", __FILE__, __LINE__);
}

int main(void) { return tdf_test_main(); }
