/*
 * WDFWORKITEM (KERNEL-SEMANTICS §9 "WDFWORKITEM"; KMDF fxworkitem.cpp,
 * fxworkitemapi.cpp). Enqueue takes a reference on the work item object and
 * pins the driver (KMDF references its driver globals) until the callback
 * returned, and the item holds a reference on its parent from creation to
 * destroy, so neither can go away under a queued or running callback.
 * Deleting the item (itself or through its parent) waits for it first: its
 * dispose is KMDF's FlushAndRundown, before its cleanup callback and before
 * the parent's. The callback runs on a system worker thread (work_queue.c),
 * under the parent's synchronization-scope lock with AutomaticSerialization.
 */
#include "wdf_internal.h"
#include "../kernel/tsan_sync.h"

typedef struct wdf_workitem {
    wdf_object_t obj;
    WDF_WORKITEM_CONFIG cfg;
    wdf_object_t *assoc;  /* Attributes->ParentObject: GetParentObject's answer */
    wdf_driver_t *driver;
    int enqueued;         /* queued, callback not yet started */
    int running;          /* callbacks in progress (a requeued item may overlap itself) */
    int callback_fiber;   /* fiber running the callback, -1 none: flush/delete from it must not wait */
    int rundown;          /* deleted: Enqueue is refused */
    int waiters;
    /* AutomaticSerialization: the parent's synchronization-scope lock (a
     * passive-level one, KERNEL-SEMANTICS §14), held around the callback; NULL: none. */
    wdf_callback_lock_t *lock;
} wdf_workitem_t;

static wdf_workitem_t *item_checked(WDFWORKITEM h, const char *routine)
{
    return (wdf_workitem_t *)wdf_object_checked((WDFOBJECT)h, OBJ_WORKITEM, routine);
}

static int idle(const wdf_workitem_t *w) { return !w->enqueued && w->running == 0; }

static void wait_idle(wdf_workitem_t *w, const char *what)
{
    while (!idle(w)) {
        w->waiters++;
        ke_block(&w->running, what);
        w->waiters--;
    }
    TDF_HB_ACQUIRE(&w->running); /* the callback's writes are visible to the flusher */
}

static void dispose(wdf_object_t *o)
{
    wdf_workitem_t *w = (wdf_workitem_t *)o;
    w->rundown = 1;
    /* From the item's own callback KMDF skips the wait (it would deadlock). */
    if (w->callback_fiber != sched_current())
        wait_idle(w, "WDFWORKITEM delete: waiting for its callback (FlushAndRundown)");
}

typedef struct wi_run {
    wdf_workitem_t *w;
    void *slot;
} wi_run_t;

static void worker_main(void *arg)
{
    wi_run_t *r = arg;
    wdf_workitem_t *w = r->w;
    work_queue_started(r->slot);
    w->enqueued = 0; /* before the callback: it may enqueue the item again */
    w->running++;
    int outer = w->callback_fiber;
    w->callback_fiber = sched_current();
    if (w->lock)
        wdf_callback_lock_acquire(w->lock, "EvtWorkItemFunc (AutomaticSerialization)");
    w->cfg.EvtWorkItemFunc((WDFWORKITEM)w);
    if (w->lock)
        wdf_callback_lock_release(w->lock, "EvtWorkItemFunc (AutomaticSerialization)");
    w->callback_fiber = outer;
    w->running--;
    work_queue_finished(r->slot);
    /* Every callback's end is released (not only the last one's): a flush
     * after two overlapping callbacks happens-after both. */
    TDF_HB_RELEASE(&w->running);
    if (idle(w))
        sched_wake(&w->running);
    wdf_driver_t *drv = w->driver;
    wdf_object_release(&w->obj); /* Enqueue's reference: may destroy the item */
    wdf_driver_unpin(drv);       /* may unload the driver now */
}

NTSTATUS WdfWorkItemCreate(PWDF_WORKITEM_CONFIG Config, PWDF_OBJECT_ATTRIBUTES Attributes, WDFWORKITEM *WorkItem)
{
    ke_yield();
    if (!Attributes || !Attributes->ParentObject)
        return STATUS_WDF_PARENT_NOT_SPECIFIED;
    wdf_object_t *parent = wdf_object_checked_any(Attributes->ParentObject, "WdfWorkItemCreate");
    if (!parent)
        return STATUS_INVALID_PARAMETER;
    if (!Config || !WorkItem)
        TDF_BUGCHECK(0x10D, 0x4, "WDF_VIOLATION", "WdfWorkItemCreate with a NULL %s", Config ? "WorkItem" : "Config");
    if (Config->Size != sizeof(WDF_WORKITEM_CONFIG))
        return STATUS_INFO_LENGTH_MISMATCH;
    if (!Config->EvtWorkItemFunc)
        return STATUS_INVALID_PARAMETER;
    if (!wdf_object_device_ancestor(parent))
        return STATUS_INVALID_DEVICE_REQUEST; /* KMDF: the item needs a device's IO_WORKITEM */
    /* KMDF FxWorkItem::Initialize / _GetEffectiveLock: with AutomaticSerialization
     * the parent's scope lock is taken around the callback, which runs at
     * PASSIVE_LEVEL: a spin-lock scope cannot serialize it. */
    wdf_callback_lock_t *lock = Config->AutomaticSerialization ? wdf_sync_scope_lock_for_parent(parent) : NULL;
    if (lock && !lock->passive)
        return STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL;
    wdf_workitem_t *w = pool_alloc_model(sizeof *w);
    w->lock = lock;
    wdf_object_init(&w->obj, OBJ_WORKITEM, Attributes);
    wdf_object_set_parent(&w->obj, parent);
    w->cfg = *Config;
    w->assoc = parent;
    w->driver = wdf_current_driver();
    w->callback_fiber = -1;
    w->obj.dispose = dispose;
    *WorkItem = (WDFWORKITEM)w;
    return STATUS_SUCCESS;
}

VOID WdfWorkItemEnqueue(WDFWORKITEM WorkItem)
{
    ke_yield();
    wdf_workitem_t *w = item_checked(WorkItem, "WdfWorkItemEnqueue");
    if (!w)
        return;
    if (w->enqueued) {
        SCHED_TRACE1("WdfWorkItemEnqueue: %s already queued (ignored)", symbol_name((const void *)w->cfg.EvtWorkItemFunc));
        return;
    }
    if (w->rundown) {
        TDF_MISUSE("WdfWorkItemEnqueue", "WdfWorkItemEnqueue of a work item that is deleted (its callback %s)",
                   symbol_name((const void *)w->cfg.EvtWorkItemFunc));
        return;
    }
    w->enqueued = 1;
    w->obj.refs++;
    wdf_driver_pin(w->driver);
    wi_run_t *r = pool_alloc_model(sizeof *r);
    r->w = w;
    r->slot = work_queue_submit(w, (const void *)w->cfg.EvtWorkItemFunc, "WDFWORKITEM", worker_main, r);
}

VOID WdfWorkItemFlush(WDFWORKITEM WorkItem)
{
    ke_yield();
    wdf_workitem_t *w = item_checked(WorkItem, "WdfWorkItemFlush");
    if (!w)
        return;
    if (w->callback_fiber == sched_current()) {
        TDF_MISUSE("WdfWorkItemFlush", "WdfWorkItemFlush from the work item's own callback %s would deadlock",
                   symbol_name((const void *)w->cfg.EvtWorkItemFunc));
        return;
    }
    if (ke_irql() != PASSIVE_LEVEL) {
        TDF_MISUSE("WdfWorkItemFlush", "WdfWorkItemFlush above PASSIVE_LEVEL (it waits)");
        return;
    }
    wait_idle(w, "WdfWorkItemFlush");
}

WDFOBJECT WdfWorkItemGetParentObject(WDFWORKITEM WorkItem)
{
    wdf_workitem_t *w = item_checked(WorkItem, "WdfWorkItemGetParentObject");
    return w ? (WDFOBJECT)w->assoc : NULL;
}
