/*
 * Locks and synchronization scope (KERNEL-SEMANTICS §14; docs/LIFECYCLE.md
 * rules 100-109): callback serialization under Device / Queue scope, the
 * callback lock's IRQL, WdfObjectAcquireLock, deferred dispatch, cancel
 * under the presentation lock, WdfRequestForwardToIoQueue,
 * WdfRequestCancelSentRequest, spin-lock forms and in-stack queued locks.
 *
 * As tests/test_request.c: each test builds one device and its queues from
 * main (model setup never yields), runs harness-code callbacks on model
 * threads, and checks from main. Serialization is checked over many seeded
 * random schedules, each with the scope that serializes and with scope None,
 * which must overlap (else the test could not fail).
 */
#include "../model/wdf/wdf_internal.h"
#include "fiber_harness.h"
#include "tdf_test.h"

#include <stdio.h>

#define SEEDS 200

static wdf_device_t *g_dev;
static WDFQUEUE g_q[2];
static int g_inside[2], g_inside_all, g_max_inside[2], g_max_all;
static KIRQL g_cb_irql;
static int g_cb_fiber[2];
static NTSTATUS g_status[4];
static int g_reached_end;
static WDFREQUEST g_held;            /* a request a callback keeps */
static int g_cancel_ran, g_cancel_inside; /* the cancel routine ran; a dispatch callback was inside then */
static int g_forward_from_callback; /* queue 0's callback forwards to queue 1 */

/* Setup parameters (set by each test before the run). */
static WDF_SYNCHRONIZATION_SCOPE g_dev_scope, g_queue_scope;
static WDF_EXECUTION_LEVEL g_dev_level, g_queue_level;
static int g_nqueues;
static int g_hold_in_callback; /* the callback keeps its request (cancelable) instead of completing */

static void enter(int qi)
{
    g_inside[qi]++;
    g_inside_all++;
    if (g_inside[qi] > g_max_inside[qi])
        g_max_inside[qi] = g_inside[qi];
    if (g_inside_all > g_max_all)
        g_max_all = g_inside_all;
}

static void leave(int qi)
{
    g_inside[qi]--;
    g_inside_all--;
}

static VOID on_cancel(WDFREQUEST Request)
{
    g_cancel_ran = 1;
    g_cancel_inside = g_inside_all;
    WdfRequestComplete(Request, STATUS_CANCELLED);
}

static void io(WDFQUEUE Queue, WDFREQUEST Request)
{
    int qi = Queue == g_q[1];
    g_cb_irql = KeGetCurrentIrql();
    g_cb_fiber[qi] = sched_current();
    enter(qi);
    for (int i = 0; i < 3; i++)
        ke_yield(); /* another processor could enter here if nothing serializes */
    if (g_forward_from_callback && qi == 0) {
        g_status[1] = WdfRequestForwardToIoQueue(Request, g_q[1]);
        leave(qi);
        return;
    }
    if (g_hold_in_callback) {
        g_held = Request;
        g_status[2] = WdfRequestMarkCancelableEx(Request, on_cancel);
        for (int i = 0; i < 3; i++)
            ke_yield();
        leave(qi);
        return;
    }
    leave(qi);
    WdfRequestComplete(Request, STATUS_SUCCESS);
}

static VOID on_io_default(WDFQUEUE Queue, WDFREQUEST Request) { io(Queue, Request); }

static void reset_globals(void)
{
    memset(g_inside, 0, sizeof g_inside);
    memset(g_max_inside, 0, sizeof g_max_inside);
    g_inside_all = g_max_all = 0;
    g_cb_irql = 0xFF;
    g_cb_fiber[0] = g_cb_fiber[1] = -1;
    for (unsigned i = 0; i < TDF_ARRAY_SIZE(g_status); i++)
        g_status[i] = (NTSTATUS)0xEEEEEEEE;
    g_reached_end = 0;
    g_held = NULL;
    g_cancel_ran = g_cancel_inside = 0;
    g_q[0] = g_q[1] = NULL;

    /* A started FDO (extra references: no driver object needed) with the
     * requested attributes, and g_nqueues parallel, non-power-managed queues. */
    g_dev = pool_alloc_model(sizeof *g_dev);
    WDF_OBJECT_ATTRIBUTES da;
    WDF_OBJECT_ATTRIBUTES_INIT(&da);
    da.SynchronizationScope = g_dev_scope;
    da.ExecutionLevel = g_dev_level;
    wdf_object_init(&g_dev->obj, OBJ_DEVICE, &da);
    g_dev->obj.refs = 1000;
    snprintf(g_dev->name, sizeof g_dev->name, "test (FDO)");
    g_dev->pnp = PNP_STARTED;
    g_dev->power = WdfPowerDeviceD0;
    wdf_sync_scope_init_device(g_dev);
    for (int i = 0; i < g_nqueues; i++) {
        WDF_IO_QUEUE_CONFIG cfg;
        if (i == 0)
            WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&cfg, WdfIoQueueDispatchParallel);
        else
            WDF_IO_QUEUE_CONFIG_INIT(&cfg, WdfIoQueueDispatchParallel);
        cfg.EvtIoDefault = on_io_default;
        cfg.PowerManaged = WdfFalse;
        WDF_OBJECT_ATTRIBUTES qa;
        WDF_OBJECT_ATTRIBUTES_INIT(&qa);
        qa.SynchronizationScope = g_queue_scope;
        qa.ExecutionLevel = g_queue_level;
        g_status[3] = WdfIoQueueCreate((WDFDEVICE)g_dev, &cfg, &qa, &g_q[i]);
    }
}

static void setup(WDF_SYNCHRONIZATION_SCOPE dev_scope, WDF_SYNCHRONIZATION_SCOPE queue_scope, int nqueues)
{
    g_dev_scope = dev_scope;
    g_queue_scope = queue_scope;
    g_dev_level = WdfExecutionLevelInheritFromParent;
    g_queue_level = WdfExecutionLevelInheritFromParent;
    g_nqueues = nqueues;
    g_hold_in_callback = 0;
    g_forward_from_callback = 0;
}

static wdf_request_t *deliver_to(int qi)
{
    wdf_request_t *r = wdf_request_new(WdfRequestTypeDeviceControl, 0x222000, NULL, 0, NULL, 0);
    wdf_queue_deliver((wdf_queue_t *)g_q[qi], r);
    return r;
}

static void deliver_q0(void *arg) { (void)arg; deliver_to(0); }
static void deliver_q1(void *arg) { (void)arg; deliver_to(1); }

static sched_outcome_t run_seed(sched_fiber_fn *const *fns, unsigned n, uint64_t seed)
{
    return fh_run(fns, n, (sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = seed}, reset_globals);
}

static sched_outcome_t run_bytes(sched_fiber_fn *const *fns, unsigned n)
{
    return fh_run(fns, n, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals);
}

/* Over SEEDS random schedules: the largest number of callbacks inside at once
 * (per queue 0, and over all queues), and whether every run was clean. */
static void sweep(sched_fiber_fn *const *fns, unsigned n, int *max_q0, int *max_all, int *clean)
{
    *max_q0 = *max_all = 0;
    *clean = 1;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        sched_outcome_t o = run_seed(fns, n, seed);
        if (o != SCHED_OUTCOME_DONE || tdf_failure()) {
            if (*clean && tdf_failure())
                printf("    seed %llu: %s %s\n", (unsigned long long)seed, tdf_failure()->name, tdf_failure()->detail);
            *clean = 0;
        }
        if (g_max_inside[0] > *max_q0)
            *max_q0 = g_max_inside[0];
        if (g_max_all > *max_all)
            *max_all = g_max_all;
    }
}

/* ---- rule 100: Device scope serializes a queue's I/O callbacks ------------------------- */
TEST(rule100_device_scope_serializes_the_queue_callbacks)
{
    sched_fiber_fn *fns[] = {deliver_q0, deliver_q0, deliver_q0};
    int max_q0, max_all, clean;
    setup(WdfSynchronizationScopeDevice, WdfSynchronizationScopeInheritFromParent, 1);
    sweep(fns, 3, &max_q0, &max_all, &clean);
    CHECK(clean);
    CHECK_EQ(max_q0, 1);
    setup(WdfSynchronizationScopeNone, WdfSynchronizationScopeInheritFromParent, 1);
    sweep(fns, 3, &max_q0, &max_all, &clean);
    CHECK(clean);
    CHECK(max_q0 >= 2); /* without the scope the same schedules overlap */
}

/* ---- rule 101: Device scope spans queues, Queue scope does not --------------------------- */
TEST(rule101_device_scope_spans_queues_queue_scope_only_its_own)
{
    sched_fiber_fn *fns[] = {deliver_q0, deliver_q1, deliver_q0, deliver_q1};
    int max_q0, max_all, clean;
    setup(WdfSynchronizationScopeDevice, WdfSynchronizationScopeInheritFromParent, 2);
    sweep(fns, 4, &max_q0, &max_all, &clean);
    CHECK(clean);
    CHECK_EQ(max_all, 1);
    setup(WdfSynchronizationScopeNone, WdfSynchronizationScopeQueue, 2);
    sweep(fns, 4, &max_q0, &max_all, &clean);
    CHECK(clean);
    CHECK_EQ(max_q0, 1);  /* each queue serialized ... */
    CHECK(max_all >= 2);  /* ... but the two queues overlap */
}

/* ---- rule 102: execution level: spin lock at DISPATCH, mutex at PASSIVE ------------------ */
TEST(rule102_callback_lock_irql_follows_execution_level)
{
    sched_fiber_fn *fns[] = {deliver_q0};
    setup(WdfSynchronizationScopeDevice, WdfSynchronizationScopeInheritFromParent, 1);
    CHECK_EQ(run_bytes(fns, 1), SCHED_OUTCOME_DONE);
    CHECK_EQ(g_cb_irql, DISPATCH_LEVEL);
    setup(WdfSynchronizationScopeDevice, WdfSynchronizationScopeInheritFromParent, 1);
    g_dev_level = WdfExecutionLevelPassive;
    CHECK_EQ(run_bytes(fns, 1), SCHED_OUTCOME_DONE);
    CHECK_EQ(g_cb_irql, PASSIVE_LEVEL);
    CHECK(tdf_failure() == NULL);
    setup(WdfSynchronizationScopeNone, WdfSynchronizationScopeInheritFromParent, 1);
    CHECK_EQ(run_bytes(fns, 1), SCHED_OUTCOME_DONE);
    CHECK_EQ(g_cb_irql, PASSIVE_LEVEL); /* no lock: the sender's IRQL */
}

static void create_only(void *arg) { (void)arg; g_reached_end = 1; }

TEST(rule102_device_scope_queue_with_another_execution_level_fails)
{
    sched_fiber_fn *fns[] = {create_only};
    setup(WdfSynchronizationScopeDevice, WdfSynchronizationScopeInheritFromParent, 1);
    g_queue_level = WdfExecutionLevelPassive; /* device: Dispatch (the driver's default) */
    CHECK_EQ(run_bytes(fns, 1), SCHED_OUTCOME_DONE);
    CHECK_EQ(g_status[3], STATUS_INVALID_PARAMETER);
    CHECK(g_q[0] == NULL);
}

/* ---- rule 103: WdfObjectAcquireLock takes the presentation lock; recursion is 0x10D/0x2 --- */
static void hold_device_lock(void *arg)
{
    (void)arg;
    WdfObjectAcquireLock((WDFOBJECT)g_dev);
    g_status[0] = KeGetCurrentIrql();
    enter(1); /* "inside" as a callback would be */
    for (int i = 0; i < 6; i++)
        ke_yield();
    leave(1);
    WdfObjectReleaseLock((WDFOBJECT)g_dev);
    g_status[1] = KeGetCurrentIrql();
    g_reached_end = 1;
}

TEST(rule103_object_lock_excludes_the_serialized_callbacks)
{
    sched_fiber_fn *fns[] = {hold_device_lock, deliver_q0, deliver_q0};
    int max_q0, max_all, clean;
    setup(WdfSynchronizationScopeDevice, WdfSynchronizationScopeInheritFromParent, 1);
    sweep(fns, 3, &max_q0, &max_all, &clean);
    CHECK(clean);
    CHECK_EQ(max_all, 1);
    CHECK_EQ(g_status[0], DISPATCH_LEVEL);
    CHECK_EQ(g_status[1], PASSIVE_LEVEL);
    setup(WdfSynchronizationScopeNone, WdfSynchronizationScopeInheritFromParent, 1);
    sweep(fns, 3, &max_q0, &max_all, &clean);
    CHECK(clean);
    CHECK(max_all >= 2); /* scope None: the callbacks do not take the device's lock */
}

static void acquire_twice(void *arg)
{
    (void)arg;
    WdfObjectAcquireLock((WDFOBJECT)g_q[0]); /* Device scope: the device's lock */
    WdfObjectAcquireLock((WDFOBJECT)g_dev);
    g_reached_end = 1;
}

TEST(rule103_recursive_object_lock_is_0x10D_2)
{
    sched_fiber_fn *fns[] = {acquire_twice};
    setup(WdfSynchronizationScopeDevice, WdfSynchronizationScopeInheritFromParent, 1);
    fh_check_failure(run_bytes(fns, 1), TDF_CLASS_BUGCHECK, 0x10D, 0x2, "WDF_VIOLATION", NULL,
                     "recursive acquire of the WDFDEVICE callback lock", __FILE__, __LINE__);
    CHECK(!g_reached_end);
}

static void lock_a_spin_lock_object(void *arg)
{
    (void)arg;
    WDFSPINLOCK l;
    WdfSpinLockCreate(NULL, &l);
    WdfObjectAcquireLock((WDFOBJECT)l);
    g_reached_end = 1;
}

TEST(rule103_object_lock_on_an_object_without_callbacks_is_0x10D_B)
{
    sched_fiber_fn *fns[] = {lock_a_spin_lock_object};
    setup(WdfSynchronizationScopeNone, WdfSynchronizationScopeInheritFromParent, 1);
    fh_check_failure(run_bytes(fns, 1), TDF_CLASS_BUGCHECK, 0x10D, 0xB, "WDF_VIOLATION", NULL,
                     "has no callback lock (WDF_INVALID_LOCK_OPERATION)", __FILE__, __LINE__);
    CHECK(!g_reached_end);
}

/* ---- rule 104: a dispatch from inside the lock moves to a framework thread -------------- */
TEST(rule104_forward_from_a_serialized_callback_is_dispatched_on_another_thread)
{
    sched_fiber_fn *fns[] = {deliver_q0};
    setup(WdfSynchronizationScopeDevice, WdfSynchronizationScopeInheritFromParent, 2);
    g_forward_from_callback = 1;
    CHECK_EQ(run_bytes(fns, 1), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK_EQ(g_status[1], STATUS_SUCCESS);
    CHECK(g_cb_fiber[1] >= 0 && g_cb_fiber[1] != g_cb_fiber[0]); /* not recursively on the sender's thread */
    CHECK(fh_trace_has("queue-dpc deferred to a framework thread"));
    CHECK_EQ(g_max_all, 1);
}

/* ---- rule 105: EvtRequestCancel runs under the presentation lock ---------------------------- */
static void cancel_held(void *arg)
{
    (void)arg;
    while (!g_held)
        ke_yield();
    wdf_request_cancel((wdf_request_t *)wdf_object_from_handle(g_held)); /* a received handle carries its life */
    g_reached_end = 1;
}

TEST(rule105_cancel_routine_waits_for_the_serialized_callback)
{
    sched_fiber_fn *fns[] = {deliver_q0, cancel_held};
    int ran = 0, overlapped = 0;
    setup(WdfSynchronizationScopeDevice, WdfSynchronizationScopeInheritFromParent, 1);
    g_hold_in_callback = 1;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        setup(WdfSynchronizationScopeDevice, WdfSynchronizationScopeInheritFromParent, 1);
        g_hold_in_callback = 1;
        run_seed(fns, 2, seed);
        CHECK(tdf_failure() == NULL);
        ran += g_cancel_ran;
        overlapped += g_cancel_ran && g_cancel_inside;
    }
    CHECK(ran > 0);
    CHECK_EQ(overlapped, 0);
    ran = overlapped = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        setup(WdfSynchronizationScopeNone, WdfSynchronizationScopeInheritFromParent, 1);
        g_hold_in_callback = 1;
        run_seed(fns, 2, seed);
        ran += g_cancel_ran;
        overlapped += g_cancel_ran && g_cancel_inside;
    }
    CHECK(overlapped > 0); /* scope None: the cancel routine runs inside the callback's window */
}

/* ---- rule 106: WdfRequestForwardToIoQueue's checks -------------------------------------------- */
static WDFREQUEST g_fw;
static VOID keep_request(WDFQUEUE Queue, WDFREQUEST Request)
{
    (void)Queue;
    g_fw = Request;
}

static void forward_checks(void *arg)
{
    (void)arg;
    /* a second device with a queue of its own */
    wdf_device_t *other = pool_alloc_model(sizeof *other);
    wdf_object_init(&other->obj, OBJ_DEVICE, NULL);
    other->obj.refs = 1000;
    snprintf(other->name, sizeof other->name, "other (FDO)");
    wdf_sync_scope_init_device(other);
    WDF_IO_QUEUE_CONFIG cfg;
    WDF_IO_QUEUE_CONFIG_INIT(&cfg, WdfIoQueueDispatchParallel);
    cfg.EvtIoDefault = keep_request;
    cfg.PowerManaged = WdfFalse;
    WDFQUEUE other_q;
    WdfIoQueueCreate((WDFDEVICE)other, &cfg, NULL, &other_q);
    /* queue 0 keeps what it gets */
    ((wdf_queue_t *)g_q[0])->cfg.EvtIoDefault = keep_request;
    ((wdf_queue_t *)g_q[1])->cfg.EvtIoDefault = keep_request;
    ((wdf_queue_t *)g_q[1])->power_managed = 1; /* queue 1: power-managed, and the device is powering down */
    wdf_request_t *r = deliver_to(0);
    g_status[0] = WdfRequestForwardToIoQueue(g_fw, g_q[0]);
    g_status[1] = WdfRequestForwardToIoQueue(g_fw, other_q);
    WdfRequestMarkCancelableEx(g_fw, on_cancel);
    g_status[2] = WdfRequestForwardToIoQueue(g_fw, g_q[1]);
    WdfRequestUnmarkCancelable(g_fw);
    CHECK_EQ(r->state, REQ_OWNED); /* after each failure the driver still owns it */
    g_dev->io_held = 1;
    WDFREQUEST before = g_fw;
    g_fw = NULL;
    g_status[3] = WdfRequestForwardToIoQueue(before, g_q[1]);
    CHECK_EQ(r->state, REQ_QUEUED); /* held: queued, not presented */
    CHECK(g_fw == NULL);
    CHECK_EQ(((wdf_queue_t *)g_q[0])->nowned, 0);
    wdf_device_resume_queues(g_dev);
    CHECK(g_fw == before); /* presented by the resume */
    WdfRequestComplete(g_fw, STATUS_SUCCESS);
    g_reached_end = 1;
}

TEST(rule106_forward_to_io_queue_same_device_other_queue_only)
{
    sched_fiber_fn *fns[] = {forward_checks};
    setup(WdfSynchronizationScopeNone, WdfSynchronizationScopeInheritFromParent, 2);
    CHECK_EQ(run_bytes(fns, 1), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK(g_reached_end);
    CHECK_EQ(g_status[0], STATUS_INVALID_DEVICE_REQUEST); /* same queue */
    CHECK_EQ(g_status[1], STATUS_INVALID_DEVICE_REQUEST); /* another device */
    CHECK_EQ(g_status[2], STATUS_INVALID_DEVICE_REQUEST); /* cancelable */
    CHECK_EQ(g_status[3], STATUS_SUCCESS);
}

/* ---- rule 107: WdfRequestCancelSentRequest ---------------------------------------------------- */
static wdf_io_target_t *make_target(void)
{
    wdf_io_target_t *t = pool_alloc_model(sizeof *t);
    wdf_object_init(&t->obj, OBJ_IOTARGET, NULL);
    t->owner = g_dev;
    t->remote = g_dev;
    t->open = 1;
    return t;
}

static int g_completions;
static int g_delete_in_completion;
static VOID on_sent_complete(WDFREQUEST Request, WDFIOTARGET Target, PWDF_REQUEST_COMPLETION_PARAMS Params,
                             WDFCONTEXT Context)
{
    (void)Target, (void)Context;
    g_completions++;
    g_status[2] = Params->IoStatus_Status;
    if (g_delete_in_completion)
        WdfObjectDelete(Request);
}

static void cancel_sent(void *arg)
{
    (void)arg;
    wdf_io_target_t *t = make_target();
    WDFREQUEST req;
    WdfRequestCreate(NULL, (WDFIOTARGET)t, &req);
    WdfRequestSetCompletionRoutine(req, on_sent_complete, NULL);
    WdfRequestSend(req, (WDFIOTARGET)t, NULL); /* the receiver (queue 0) holds it cancelable */
    g_status[0] = WdfRequestCancelSentRequest(req); /* cancel routine completes it: completion runs */
    g_status[1] = WdfRequestCancelSentRequest(req); /* completed: FALSE */
    g_reached_end = 1;
}

TEST(rule107_cancel_sent_request_true_then_false_after_completion)
{
    sched_fiber_fn *fns[] = {cancel_sent};
    setup(WdfSynchronizationScopeNone, WdfSynchronizationScopeInheritFromParent, 1);
    g_hold_in_callback = 1;
    g_completions = 0;
    g_delete_in_completion = 0;
    CHECK_EQ(run_bytes(fns, 1), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK_EQ(g_status[0], TRUE);
    CHECK_EQ(g_status[1], FALSE);
    CHECK_EQ(g_completions, 1);
    CHECK_EQ(g_status[2], STATUS_CANCELLED);
}

TEST(rule107_cancel_of_a_request_its_completion_deleted_is_0x10D)
{
    sched_fiber_fn *fns[] = {cancel_sent};
    setup(WdfSynchronizationScopeNone, WdfSynchronizationScopeInheritFromParent, 1);
    g_hold_in_callback = 1;
    g_completions = 0;
    g_delete_in_completion = 1;
    fh_check_failure(run_bytes(fns, 1), TDF_CLASS_BUGCHECK, 0x10D, 0x5, "WDF_VIOLATION", NULL,
                     "WdfRequestCancelSentRequest called with the handle of an object already destroyed", __FILE__,
                     __LINE__);
    CHECK_EQ(g_completions, 1);
}

/* ---- rule 108: spin-lock forms ------------------------------------------------------------------- */
static KSPIN_LOCK g_spin;
static void at_dpc_level_at_passive(void *arg)
{
    (void)arg;
    KeInitializeSpinLock(&g_spin);
    KeAcquireSpinLockAtDpcLevel(&g_spin);
    g_reached_end = 1;
}

static void at_dpc_level_at_dispatch(void *arg)
{
    (void)arg;
    KIRQL old;
    KSPIN_LOCK outer;
    KeInitializeSpinLock(&outer);
    KeInitializeSpinLock(&g_spin);
    KeAcquireSpinLock(&outer, &old); /* now at DISPATCH_LEVEL */
    KeAcquireSpinLockAtDpcLevel(&g_spin);
    g_status[0] = KeGetCurrentIrql();
    KeReleaseSpinLockFromDpcLevel(&g_spin);
    g_status[1] = KeGetCurrentIrql();
    KeReleaseSpinLock(&outer, old);
    g_status[2] = KeGetCurrentIrql();
    g_reached_end = 1;
}

static void release_from_dpc_at_passive(void *arg)
{
    (void)arg;
    KIRQL old;
    KeInitializeSpinLock(&g_spin);
    KeAcquireSpinLock(&g_spin, &old);
    (void)old;
    ke_set_irql(PASSIVE_LEVEL); /* back below DISPATCH_LEVEL with the lock still held */
    KeReleaseSpinLockFromDpcLevel(&g_spin);
    g_reached_end = 1;
}

static void recursive_spin(void *arg)
{
    (void)arg;
    KIRQL a, b;
    KeInitializeSpinLock(&g_spin);
    KeAcquireSpinLock(&g_spin, &a);
    KeAcquireSpinLock(&g_spin, &b);
    g_reached_end = 1;
}

static void recursive_wdf_spin(void *arg)
{
    (void)arg;
    WDFSPINLOCK l;
    WdfSpinLockCreate(NULL, &l);
    WdfSpinLockAcquire(l);
    g_status[0] = KeGetCurrentIrql();
    WdfSpinLockAcquire(l);
    g_reached_end = 1;
}

TEST(rule108_at_dpc_level_forms_need_dispatch_level_and_recursion_deadlocks)
{
    sched_fiber_fn *f1[] = {at_dpc_level_at_passive};
    setup(WdfSynchronizationScopeNone, WdfSynchronizationScopeInheritFromParent, 1);
    fh_check_failure(run_bytes(f1, 1), TDF_CLASS_BUGCHECK, 0xC4, 0x40, "DRIVER_VERIFIER_DETECTED_VIOLATION", NULL,
                     "KeAcquireSpinLockAtDpcLevel at IRQL 0", __FILE__, __LINE__);
    sched_fiber_fn *f2[] = {at_dpc_level_at_dispatch};
    CHECK_EQ(run_bytes(f2, 1), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK_EQ(g_status[0], DISPATCH_LEVEL);
    CHECK_EQ(g_status[1], DISPATCH_LEVEL); /* the FromDpcLevel release does not lower */
    CHECK_EQ(g_status[2], PASSIVE_LEVEL);
    sched_fiber_fn *f3[] = {release_from_dpc_at_passive};
    fh_check_failure(run_bytes(f3, 1), TDF_CLASS_BUGCHECK, 0xC4, 0x41, "DRIVER_VERIFIER_DETECTED_VIOLATION", NULL,
                     "KeReleaseSpinLockFromDpcLevel at IRQL 0", __FILE__, __LINE__);
    sched_fiber_fn *f4[] = {recursive_spin};
    fh_check_failure(run_bytes(f4, 1), TDF_CLASS_DEADLOCK, 0, 0, "SPIN_LOCK_RECURSION", NULL,
                     "taken with KeAcquireSpinLock", __FILE__, __LINE__);
    sched_fiber_fn *f5[] = {recursive_wdf_spin};
    fh_check_failure(run_bytes(f5, 1), TDF_CLASS_DEADLOCK, 0, 0, "SPIN_LOCK_RECURSION", NULL,
                     "a spin lock this thread already holds", __FILE__, __LINE__);
    CHECK_EQ(g_status[0], DISPATCH_LEVEL);
}

/* ---- rule 109: in-stack queued spin locks ---------------------------------------------------------- */
static int g_queued_inside, g_queued_max;
static void queued_user(void *arg)
{
    (void)arg;
    KLOCK_QUEUE_HANDLE h;
    KeAcquireInStackQueuedSpinLock(&g_spin, &h);
    if (++g_queued_inside > g_queued_max)
        g_queued_max = g_queued_inside;
    if (KeGetCurrentIrql() != DISPATCH_LEVEL)
        g_status[0] = -1;
    for (int i = 0; i < 3; i++)
        ke_yield();
    g_queued_inside--;
    KeReleaseInStackQueuedSpinLock(&h);
    if (KeGetCurrentIrql() != PASSIVE_LEVEL)
        g_status[0] = -2;
}

static void queued_bad_release(void *arg)
{
    (void)arg;
    KLOCK_QUEUE_HANDLE h;
    KeAcquireInStackQueuedSpinLock(&g_spin, &h);
    KeReleaseInStackQueuedSpinLock(&h);
    KeReleaseInStackQueuedSpinLock(&h); /* the handle holds nothing any more */
    g_reached_end = 1;
}

TEST(rule109_in_stack_queued_spin_lock_excludes_restores_irql_and_checks_its_handle)
{
    sched_fiber_fn *fns[] = {queued_user, queued_user, queued_user};
    int clean = 1;
    g_queued_max = 0;
    setup(WdfSynchronizationScopeNone, WdfSynchronizationScopeInheritFromParent, 1);
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        g_queued_inside = 0;
        KeInitializeSpinLock(&g_spin);
        if (run_seed(fns, 3, seed) != SCHED_OUTCOME_DONE || tdf_failure())
            clean = 0;
        if (g_status[0] != (NTSTATUS)0xEEEEEEEE)
            clean = 0;
    }
    CHECK(clean);
    CHECK_EQ(g_queued_max, 1);
    sched_fiber_fn *bad[] = {queued_bad_release};
    KeInitializeSpinLock(&g_spin);
    fh_check_failure(run_bytes(bad, 1), TDF_CLASS_BUGCHECK, 0xC4, 0x40007, "DRIVER_VERIFIER_DETECTED_VIOLATION", NULL,
                     "handle that holds no spin lock", __FILE__, __LINE__);
}

int main(void) { return tdf_test_main(); }
