/*
 * Synchronization scope, execution level and callback locks
 * (KERNEL-SEMANTICS §14; KMDF source: FxDeviceBase::ConfigureConstraints in
 * core/fxdevicebase.cpp, FxIoQueue::ConfigureConstraints and
 * CanThreadDispatchEventsLocked in irphandlers/io/fxioqueue.cpp,
 * fxcallbackspinlock.hpp / fxcallbackmutexlock.hpp, WdfObjectAcquireLock in
 * object/fxobjectapi.cpp, FxSpinLock in support/fxspinlock.cpp).
 *
 * Resolution: a device takes its own attributes' level and scope, else its
 * driver's (WdfDriverCreate's attributes), else KMDF's defaults, Dispatch and
 * None; a queue takes its own, else its device's. Device scope makes the
 * device's callback lock the presentation lock of each such queue; Queue
 * scope makes the queue's own lock its presentation lock; None takes none.
 */
#include "wdf_internal.h"
#include "../kernel/tsan_sync.h"

#include <string.h>

/* Invalid (0) is read as InheritFromParent [model]: KMDF validates the
 * attributes' Size, a zeroed structure is a driver's mistake the model does
 * not report. */
static WDF_EXECUTION_LEVEL level_or(WDF_EXECUTION_LEVEL own, WDF_EXECUTION_LEVEL parent)
{
    return (own == WdfExecutionLevelPassive || own == WdfExecutionLevelDispatch) ? own : parent;
}

static WDF_SYNCHRONIZATION_SCOPE scope_or(WDF_SYNCHRONIZATION_SCOPE own, WDF_SYNCHRONIZATION_SCOPE parent)
{
    return (own == WdfSynchronizationScopeDevice || own == WdfSynchronizationScopeQueue ||
            own == WdfSynchronizationScopeNone)
               ? own
               : parent;
}

void wdf_sync_scope_init_device(wdf_device_t *d)
{
    WDF_EXECUTION_LEVEL drv_level = WdfExecutionLevelDispatch; /* FxDriver's defaults */
    WDF_SYNCHRONIZATION_SCOPE drv_scope = WdfSynchronizationScopeNone;
    if (d->driver) {
        drv_level = level_or(d->driver->obj.exec_level, drv_level);
        drv_scope = scope_or(d->driver->obj.sync_scope, drv_scope);
    }
    d->exec_level = level_or(d->obj.exec_level, drv_level);
    /* Queue scope on a device is the default for its queues; the device
     * itself presents no callbacks under it. */
    d->sync_scope = scope_or(d->obj.sync_scope, drv_scope);
    memset(&d->cb_lock, 0, sizeof d->cb_lock);
    d->cb_lock.passive = d->exec_level == WdfExecutionLevelPassive;
    d->cb_lock.owner_name = "WDFDEVICE";
}

NTSTATUS wdf_sync_scope_init_queue(wdf_queue_t *q)
{
    wdf_device_t *d = q->device;
    q->exec_level = level_or(q->obj.exec_level, d->exec_level);
    q->sync_scope = scope_or(q->obj.sync_scope, d->sync_scope);
    memset(&q->own_lock, 0, sizeof q->own_lock);
    q->own_lock.passive = q->exec_level == WdfExecutionLevelPassive;
    q->own_lock.owner_name = "WDFQUEUE";
    /* Every queue has a lock, even with scope None (KMDF keeps one for
     * WdfObjectAcquireLock); only Device / Queue scope present under it. */
    q->lock = &q->own_lock;
    q->presentation = NULL;
    if (q->sync_scope == WdfSynchronizationScopeDevice) {
        if (q->exec_level != d->exec_level)
            return STATUS_INVALID_PARAMETER; /* FxIoQueue::ConfigureConstraints */
        q->lock = q->presentation = &d->cb_lock;
    } else if (q->sync_scope == WdfSynchronizationScopeQueue) {
        q->presentation = &q->own_lock;
    }
    return STATUS_SUCCESS;
}

wdf_callback_lock_t *wdf_sync_scope_lock_for_parent(wdf_object_t *parent)
{
    if (!parent)
        return NULL;
    if (parent->kind == OBJ_QUEUE)
        return ((wdf_queue_t *)parent)->presentation;
    if (parent->kind == OBJ_DEVICE) {
        wdf_device_t *d = (wdf_device_t *)parent;
        return d->sync_scope == WdfSynchronizationScopeDevice ? &d->cb_lock : NULL;
    }
    return NULL;
}

int wdf_callback_lock_held_by_current(const wdf_callback_lock_t *l)
{
    return l && l->owner == sched_current() + 1;
}

void wdf_callback_lock_acquire(wdf_callback_lock_t *l, const char *routine)
{
    ke_yield();
    if (wdf_callback_lock_held_by_current(l)) {
        TDF_BUGCHECK(0x10D, 0x2, "WDF_VIOLATION",
                     "%s: recursive acquire of the %s callback lock by the thread that holds it (WDF_RECURSIVE_LOCK)",
                     routine, l->owner_name);
        return;
    }
    if (l->passive ? ke_irql() > PASSIVE_LEVEL : ke_irql() > DISPATCH_LEVEL)
        TDF_MISUSE(routine, "%s: the %s callback lock is a %s, acquired at IRQL %u", routine, l->owner_name,
                   l->passive ? "mutex (ExecutionLevel passive)" : "spin lock", (unsigned)ke_irql());
    if (l->owner != 0)
        ke_lock_waits(l, routine);
    while (l->owner != 0)
        ke_block(l, l->passive ? "callback lock (mutex)" : "callback lock (spin lock)");
    l->owner = sched_current() + 1;
    ke_lock_held(l, "callback lock", l->owner_name);
    feedback_pair(l, FB_LOCK_ACQUIRE);
    TDF_HB_ACQUIRE(l);
    if (!l->passive) {
        l->old_irql = ke_irql();
        ke_set_irql(DISPATCH_LEVEL);
    }
    SCHED_TRACE1("%s callback lock acquired", l->owner_name);
}

void wdf_callback_lock_release(wdf_callback_lock_t *l, const char *routine)
{
    if (!wdf_callback_lock_held_by_current(l)) {
        TDF_BUGCHECK(0x10D, 0xB, "WDF_VIOLATION",
                     "%s: the %s callback lock is released by a thread that does not hold it "
                     "(WDF_INVALID_LOCK_OPERATION)",
                     routine, l->owner_name);
        return;
    }
    TDF_HB_RELEASE(l);
    feedback_pair(l, FB_LOCK_RELEASE);
    ke_lock_dropped(l);
    l->owner = 0;
    if (!l->passive)
        ke_set_irql(l->old_irql);
    SCHED_TRACE1("%s callback lock released", l->owner_name);
    sched_wake(l);
    ke_yield();
}

/* ---- deferral: KMDF's DPC / system work item ------------------------------------- */
typedef struct deferred_call {
    void (*fn)(void *);
    void *arg;
    wdf_device_t *device;
    KIRQL irql;
} deferred_call_t;

static void deferred_main(void *p)
{
    deferred_call_t *c = p;
    ke_set_irql(c->irql);
    c->fn(c->arg);
    ke_set_irql(PASSIVE_LEVEL);
    wdf_object_release(&c->device->obj); /* may be the last reference: destroy, unload */
}

void wdf_sync_scope_defer(const char *name, wdf_device_t *d, KIRQL irql, void (*fn)(void *), void *arg)
{
    deferred_call_t *c = pool_alloc_model(sizeof *c);
    *c = (deferred_call_t){fn, arg, d, irql};
    wdf_device_hold_for_callback(d);
    SCHED_TRACE1("%s deferred to a framework thread", name);
    if (sched_spawn(name, "framework", deferred_main, c) == SCHED_NO_FIBER) {
        wdf_object_release(&d->obj);
        TDF_LIMIT(SCHED_MAX_FIBERS, "model/sched/sched.h", "a deferred framework callback (%s) finds no fiber", name);
    }
}

/* ---- WdfObjectAcquireLock / WdfObjectReleaseLock ------------------------------------- */
static wdf_callback_lock_t *object_lock(WDFOBJECT Object, const char *routine)
{
    wdf_object_t *o = wdf_object_from_handle(Object);
    if (!o || o->destroyed) {
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION", "%s called with an invalid or destroyed handle", routine);
        return NULL;
    }
    if (o->kind == OBJ_DEVICE)
        return &((wdf_device_t *)o)->cb_lock;
    if (o->kind == OBJ_QUEUE)
        return ((wdf_queue_t *)o)->lock;
    /* Objects without callbacks of their own have no callback lock
     * (FxGetCallbackLock returns NULL): WDF_INVALID_LOCK_OPERATION. */
    TDF_BUGCHECK(0x10D, 0xB, "WDF_VIOLATION", "%s on an object that has no callback lock (WDF_INVALID_LOCK_OPERATION)",
                 routine);
    return NULL;
}

VOID WdfObjectAcquireLock(WDFOBJECT Object)
{
    wdf_callback_lock_t *l = object_lock(Object, "WdfObjectAcquireLock");
    if (l)
        wdf_callback_lock_acquire(l, "WdfObjectAcquireLock");
}

VOID WdfObjectReleaseLock(WDFOBJECT Object)
{
    wdf_callback_lock_t *l = object_lock(Object, "WdfObjectReleaseLock");
    if (l)
        wdf_callback_lock_release(l, "WdfObjectReleaseLock");
}

/* ---- WDFSPINLOCK ------------------------------------------------------------------------ */
typedef struct wdf_spin_lock {
    wdf_object_t obj;
    KSPIN_LOCK lock;
    KIRQL old_irql;
} wdf_spin_lock_t;

static wdf_spin_lock_t *spin_checked(WDFSPINLOCK h, const char *routine)
{
    return (wdf_spin_lock_t *)wdf_object_checked((WDFOBJECT)h, OBJ_SPINLOCK, routine);
}

NTSTATUS WdfSpinLockCreate(PWDF_OBJECT_ATTRIBUTES SpinLockAttributes, WDFSPINLOCK *SpinLock)
{
    ke_yield();
    if (ke_irql() > DISPATCH_LEVEL)
        TDF_MISUSE("WdfSpinLockCreate", "WdfSpinLockCreate above DISPATCH_LEVEL");
    wdf_spin_lock_t *l = pool_alloc_model(sizeof *l);
    wdf_object_init(&l->obj, OBJ_SPINLOCK, SpinLockAttributes);
    KeInitializeSpinLock(&l->lock);
    *SpinLock = (WDFSPINLOCK)l;
    return STATUS_SUCCESS;
}

/* A KSPIN_LOCK underneath (MxLock), in the encoding of model/kernel/sync.c
 * (0 free, else holder fiber + 2): the same yield point, wait, recursion
 * DEADLOCK (naming WdfSpinLockAcquire) and IRQL raise as KeAcquireSpinLock. */
VOID WdfSpinLockAcquire(WDFSPINLOCK SpinLock)
{
    ke_yield();
    wdf_spin_lock_t *l = spin_checked(SpinLock, "WdfSpinLockAcquire");
    if (ke_irql() > DISPATCH_LEVEL)
        TDF_MISUSE("WdfSpinLockAcquire", "WdfSpinLockAcquire above DISPATCH_LEVEL");
    ke_spin_check_recursion(&l->lock, "WdfSpinLockAcquire");
    if (l->lock != 0)
        ke_lock_waits(&l->lock, "WdfSpinLockAcquire");
    while (l->lock != 0)
        ke_block(&l->lock, "spin lock (WDFSPINLOCK)");
    l->lock = (KSPIN_LOCK)(sched_current() + 2);
    feedback_pair(&l->lock, FB_LOCK_ACQUIRE);
    TDF_HB_ACQUIRE(&l->lock);
    ke_spin_note_acquired(&l->lock, "WdfSpinLockAcquire");
    l->old_irql = ke_irql();
    ke_set_irql(DISPATCH_LEVEL);
    SCHED_TRACE0("WdfSpinLockAcquire");
}

VOID WdfSpinLockRelease(WDFSPINLOCK SpinLock)
{
    wdf_spin_lock_t *l = spin_checked(SpinLock, "WdfSpinLockRelease");
    if (l->lock != (KSPIN_LOCK)(sched_current() + 2)) {
        /* FxSpinLock's ownership history (the verifier's): param 2 = 0x1. */
        TDF_BUGCHECK(0x10D, 0xB, "WDF_VIOLATION",
                     "WdfSpinLockRelease on a WDFSPINLOCK this thread does not hold (WDF_INVALID_LOCK_OPERATION)");
        return;
    }
    TDF_HB_RELEASE(&l->lock);
    feedback_pair(&l->lock, FB_LOCK_RELEASE);
    ke_spin_note_released(&l->lock);
    SCHED_TRACE0("WdfSpinLockRelease");
    l->lock = 0;
    ke_set_irql(l->old_irql);
    sched_wake(&l->lock);
    ke_yield();
}
