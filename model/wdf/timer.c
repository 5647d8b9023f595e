/*
 * WDFTIMER (KERNEL-SEMANTICS §8 "WDFTIMER"): a KTIMER with a KDPC, as
 * FxTimer is. The KDPC's routine is the framework's (timer_dpc, model code):
 * it calls EvtTimerFunc at DISPATCH_LEVEL on the DPC processor, or, for
 * ExecutionLevel passive, hands the timer to the framework's passive worker
 * (FxSystemWorkItem: queued only if not already queued), which calls it at
 * PASSIVE_LEVEL. With AutomaticSerialization and a parent whose
 * synchronization scope is Device or Queue, the callback runs under the
 * parent's callback lock (sync_scope.h); with the default scope (None)
 * nothing is taken and no yield point is added.
 *
 * Deletion (the driver's WdfObjectDelete, or its parent's) stops the timer
 * and waits for its callback as WdfTimerStop(TRUE) does, before the parent's
 * cleanup and before any context goes (FxTimer::Dispose -> FlushAndRundown).
 */
#include "wdf_internal.h"
#include "fileobject.h"
#include "../kernel/tsan_sync.h"

#include <string.h>

#define MAX_TIMERS 32 /* WDFTIMERs created in one run */

typedef struct wdf_timer {
    wdf_object_t obj;
    wdf_object_t *parent;
    wdf_device_t *device;
    WDF_TIMER_CONFIG cfg;
    int passive;                 /* ExecutionLevel passive: the worker calls it */
    wdf_callback_lock_t *lock;   /* AutomaticSerialization under the parent's scope, else NULL */
    KTIMER timer;
    KDPC dpc;
    int stop_fiber;              /* fiber id + 1 of a WdfTimerStop(TRUE) in progress */
    int stop_again, start_aborted;
    int running_down;            /* deletion began: a start is Verifier's "will lead to a crash" */
    int work_queued, work_running; /* passive: on the worker's queue / in the callback */
} wdf_timer_t;

static struct {
    wdf_timer_t *all[MAX_TIMERS];
    unsigned n;
    /* the passive worker (FxSystemWorkItem): a daemon model thread */
    wdf_timer_t *work[MAX_TIMERS];
    unsigned nwork;
    int worker_fiber, worker_idle;
    int work_token; /* woken when a passive callback finished */
} W;

/* The WDFTIMER whose EvtTimerFunc each thread is in, by slot. Per thread, not
 * per timer: a periodic timer's DPC can fire again on the other DPC
 * processor while its callback still runs, and a per-timer field would be
 * cleared by the first callback to return while the other is still inside. */
static const struct wdf_timer *g_in_callback[SCHED_SLOT_COUNT];

static const struct wdf_timer **in_callback_of(int fiber) { return &g_in_callback[sched_fiber_index(fiber)]; }

/* Is the running thread inside T's own EvtTimerFunc? */
static int in_own_callback(const wdf_timer_t *t) { return *in_callback_of(sched_current()) == t; }

void wdf_timer_reset(void)
{
    memset(&W, 0, sizeof W);
    memset(g_in_callback, 0, sizeof g_in_callback);
    W.worker_fiber = SCHED_NO_FIBER;
}

/* The WDFTIMER whose EvtTimerFunc the thread is in (a DPC it queues is
 * keyed by it, wdfdpc.c), or NULL. */
const void *wdf_timer_callback_of(int fiber, const struct tdf_image **img)
{
    const wdf_timer_t *t = *in_callback_of(fiber);
    if (!t)
        return NULL;
    *img = t->obj.image;
    return (const void *)t->cfg.EvtTimerFunc;
}

static wdf_timer_t *timer_checked(WDFTIMER h, const char *routine)
{
    return (wdf_timer_t *)wdf_object_checked((WDFOBJECT)h, OBJ_TIMER, routine);
}

/* FxTimer::TimerHandler: EvtTimerFunc, under the callback lock if any. */
static void timer_handler(wdf_timer_t *t)
{
    const wdf_timer_t **mine = in_callback_of(sched_current());
    const wdf_timer_t *outer = *mine; /* a DPC routine's callback inside another's: restored after */
    *mine = t;
    if (t->lock)
        wdf_callback_lock_acquire(t->lock, "EvtTimerFunc");
    t->cfg.EvtTimerFunc((WDFTIMER)t); /* driver code: 0xCE at the call if its image is gone */
    if (t->lock)
        wdf_callback_lock_release(t->lock, "EvtTimerFunc");
    *in_callback_of(sched_current()) = outer;
}

static void worker_main(void *arg)
{
    (void)arg;
    for (;;) {
        while (W.nwork > 0) {
            wdf_timer_t *t = W.work[0];
            memmove(&W.work[0], &W.work[1], (W.nwork - 1) * sizeof W.work[0]);
            W.nwork--;
            t->work_queued = 0;
            t->work_running = 1;
            TDF_HB_ACQUIRE(t); /* the DPC's enqueue happens-before the callback */
            SCHED_TRACE1("WDFTIMER passive callback %s", symbol_name((const void *)t->cfg.EvtTimerFunc));
            timer_handler(t);
            t->work_running = 0;
            TDF_HB_RELEASE(&W.work_token); /* the callback happens-before a stop's return */
            sched_wake(&W.work_token);
        }
        W.worker_idle = 1;
        ke_block(&W.worker_idle, "WDFTIMER worker idle");
        W.worker_idle = 0;
    }
}

static void enqueue_passive(wdf_timer_t *t)
{
    if (t->work_queued)
        return; /* FxSystemWorkItem::TryToEnqueue: once until it runs */
    t->work_queued = 1;
    TDF_HB_RELEASE(t);
    W.work[W.nwork++] = t; /* at most one entry per timer: MAX_TIMERS bounds it */
    if (W.worker_fiber == SCHED_NO_FIBER) {
        int f = sched_spawn("WdfTimer worker", "framework", worker_main, NULL);
        if (f == SCHED_NO_FIBER) {
            TDF_LIMIT(SCHED_MAX_FIBERS, "model/sched/sched.h", "more model threads (the WDFTIMER worker)");
            return;
        }
        W.worker_fiber = f;
        sched_set_daemon(f);
    } else if (W.worker_idle) {
        sched_wake(&W.worker_idle);
    }
}

/* The KDPC routine of every WDFTIMER (FxTimer::_FxTimerDpcThunk). */
static VOID timer_dpc(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    (void)Dpc, (void)A1, (void)A2;
    wdf_timer_t *t = Context;
    if (t->passive)
        enqueue_passive(t);
    else
        timer_handler(t);
}

wdf_device_t *wdf_parent_device(wdf_object_t *parent)
{
    if (parent && parent->kind == OBJ_FILE)
        return ((wdf_file_t *)parent)->device; /* not linked in the object tree */
    return wdf_object_device_ancestor(parent);
}

static void timer_dispose(wdf_object_t *o);

NTSTATUS WdfTimerCreate(PWDF_TIMER_CONFIG Config, PWDF_OBJECT_ATTRIBUTES Attributes, WDFTIMER *Timer)
{
    ke_yield();
    *Timer = NULL;
    if (!Attributes || !Attributes->ParentObject)
        return STATUS_WDF_PARENT_NOT_SPECIFIED;
    if (Config->Size != sizeof(WDF_TIMER_CONFIG))
        return STATUS_INFO_LENGTH_MISMATCH;
    if (Config->Period > 0x7FFFFFFFu || Config->TolerableDelay > 0x7FFFFFFFu)
        return STATUS_INVALID_PARAMETER;
    if (Config->UseHighResolutionTimer && Config->TolerableDelay > 0)
        return STATUS_INVALID_PARAMETER;
    int passive = Attributes->ExecutionLevel == WdfExecutionLevelPassive;
    if (Config->Period > 0 && passive)
        return STATUS_NOT_SUPPORTED; /* KMDF: no passive periodic timer */
    wdf_object_t *parent = wdf_object_from_handle(Attributes->ParentObject);
    wdf_device_t *device = wdf_parent_device(parent);
    if (!device)
        return STATUS_INVALID_DEVICE_REQUEST;
    wdf_callback_lock_t *lock = Config->AutomaticSerialization ? wdf_sync_scope_lock_for_parent(parent) : NULL;
    if (lock && lock->passive && !passive)
        return STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL; /* a DPC cannot take a mutex */
    if (W.n == MAX_TIMERS) {
        TDF_LIMIT(MAX_TIMERS, "model/wdf/timer.c", "more WDFTIMERs in one run");
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    wdf_timer_t *t = pool_alloc_model(sizeof *t);
    wdf_object_init(&t->obj, OBJ_TIMER, Attributes);
    wdf_object_set_parent(&t->obj, parent); /* deleting the parent disposes the timer first */
    t->obj.dispose = timer_dispose;
    t->parent = parent;
    t->device = device;
    t->cfg = *Config;
    t->passive = passive;
    t->lock = lock;
    KeInitializeTimerEx(&t->timer, NotificationTimer);
    KeInitializeDpc(&t->dpc, timer_dpc, t);
    /* Framework-owned: the image unload check is for the driver's own KTIMER/KDPC. */
    t->timer.TdfImage = NULL;
    t->dpc.TdfImage = NULL;
    W.all[W.n++] = t;
    SCHED_TRACE2("WdfTimerCreate %s%s", symbol_name((const void *)Config->EvtTimerFunc),
                 Config->Period ? " (periodic)" : passive ? " (passive)" : "");
    *Timer = (WDFTIMER)t;
    return STATUS_SUCCESS;
}

BOOLEAN WdfTimerStart(WDFTIMER Timer, LONGLONG DueTime)
{
    ke_yield();
    wdf_timer_t *t = timer_checked(Timer, "WdfTimerStart");
    if (t->running_down || t->obj.deleted) {
        TDF_MISUSE("WdfTimerStart", "WdfTimerStart on a WDFTIMER that is being deleted (%s): Verifier breaks, "
                   "\"will lead to a crash\"", symbol_name((const void *)t->cfg.EvtTimerFunc));
        return FALSE;
    }
    if (t->stop_fiber) {
        t->start_aborted = 1; /* FxTimer::Start: ignored while a stop with wait runs */
        SCHED_TRACE0("WdfTimerStart ignored: WdfTimerStop(TRUE) in progress");
        return FALSE;
    }
    /* FxTimer::Start checks under the object lock, drops it, then sets the
     * KTIMER: a stop can begin in between, and then runs its cancel again. */
    ke_yield();
    LARGE_INTEGER due = {.QuadPart = DueTime};
    BOOLEAN was = ke_timer_set(&t->timer, due, (LONG)t->cfg.Period, &t->dpc);
    if (t->stop_fiber)
        t->stop_again = 1;
    SCHED_TRACE2("WdfTimerStart %s -> %lu", symbol_name((const void *)t->cfg.EvtTimerFunc), (unsigned long)was);
    return was;
}

/* FxTimer::Stop(TRUE): cancel, flush the DPCs, wait for the passive worker;
 * again if the callback restarted the timer meanwhile. */
static BOOLEAN stop_and_wait(wdf_timer_t *t)
{
    BOOLEAN result;
    t->start_aborted = 0;
    t->stop_fiber = sched_current() + 1;
    do {
        t->stop_again = 0;
        result = ke_timer_cancel(&t->timer);
        KeFlushQueuedDpcs();
        while (t->work_queued || t->work_running)
            ke_block(&W.work_token, "WdfTimerStop: passive callback to finish");
        TDF_HB_ACQUIRE(&W.work_token);
    } while (!result && t->stop_again);
    t->stop_fiber = 0;
    if (t->start_aborted) {
        result = TRUE;
        t->start_aborted = 0;
    }
    return result;
}

BOOLEAN WdfTimerStop(WDFTIMER Timer, BOOLEAN Wait)
{
    ke_yield();
    wdf_timer_t *t = timer_checked(Timer, "WdfTimerStop");
    BOOLEAN result;
    if (!Wait) {
        result = ke_timer_cancel(&t->timer);
        SCHED_TRACE1("WdfTimerStop(FALSE) -> %lu", (unsigned long)result);
        return result;
    }
    if (in_own_callback(t)) {
        TDF_MISUSE("WdfTimerStop", "WdfTimerStop(Wait=TRUE) from the timer's own callback %s: it would wait for "
                   "itself (Verifier breaks and returns FALSE)", symbol_name((const void *)t->cfg.EvtTimerFunc));
        return FALSE;
    }
    if (ke_irql() != PASSIVE_LEVEL) {
        TDF_MISUSE("WdfTimerStop", "WdfTimerStop(Wait=TRUE) at IRQL %u%s: it waits for the callback, PASSIVE_LEVEL "
                   "only (Verifier breaks and returns FALSE)", (unsigned)ke_irql(),
                   ke_in_dpc() ? " inside a DPC routine" : "");
        return FALSE;
    }
    if (t->stop_fiber) {
        TDF_MISUSE("WdfTimerStop", "two WdfTimerStop(Wait=TRUE) on one WDFTIMER at once (Verifier breaks)");
        return FALSE;
    }
    result = stop_and_wait(t);
    SCHED_TRACE1("WdfTimerStop(TRUE) -> %lu", (unsigned long)result);
    return result;
}

WDFOBJECT WdfTimerGetParentObject(WDFTIMER Timer)
{
    wdf_timer_t *t = timer_checked(Timer, "WdfTimerGetParentObject");
    return (WDFOBJECT)t->parent;
}

/* FxTimer::Dispose at PASSIVE_LEVEL (the object tree calls it when the timer
 * or an ancestor is deleted, before the timer's EvtCleanupCallback and the
 * parent's): deleting from the timer's own callback would deadlock
 * (Verifier's break), then Stop(TRUE). */
static void timer_dispose(wdf_object_t *o)
{
    wdf_timer_t *t = (wdf_timer_t *)o;
    if (t->running_down)
        return;
    t->running_down = 1;
    if (in_own_callback(t))
        TDF_MISUSE("WdfObjectDelete", "WDFTIMER deleted from within its own callback %s: the framework's stop "
                   "would wait for itself", symbol_name((const void *)t->cfg.EvtTimerFunc));
    ke_check_may_wait("WDFTIMER deletion (WdfTimerStop(TRUE))");
    SCHED_TRACE1("WDFTIMER %s disposed: stop and wait", symbol_name((const void *)t->cfg.EvtTimerFunc));
    (void)stop_and_wait(t);
}
