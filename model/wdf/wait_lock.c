/*
 * WDFWAITLOCK: KMDF's passive-level lock, a synchronization event underneath.
 * Acquire and release are yield points (through the KEVENT routines) and
 * publish happens-before like the event does.
 */
#include "wdf_internal.h"

typedef struct wdf_wait_lock {
    wdf_object_t obj;
    KEVENT event; /* signalled = free */
    int owner;    /* fiber id + 1 of the holder, 0 when free */
} wdf_wait_lock_t;

static wdf_wait_lock_t *lock_checked(WDFWAITLOCK h, const char *routine)
{
    return (wdf_wait_lock_t *)wdf_object_checked((WDFOBJECT)h, OBJ_WAITLOCK, routine);
}

NTSTATUS WdfWaitLockCreate(PWDF_OBJECT_ATTRIBUTES LockAttributes, WDFWAITLOCK *Lock)
{
    wdf_wait_lock_t *l = pool_alloc_model(sizeof *l);
    wdf_object_init(&l->obj, OBJ_WAITLOCK, LockAttributes);
    KeInitializeEvent(&l->event, SynchronizationEvent, TRUE);
    *Lock = (WDFWAITLOCK)l;
    return STATUS_SUCCESS;
}

NTSTATUS WdfWaitLockAcquire(WDFWAITLOCK Lock, PLONGLONG Timeout)
{
    wdf_wait_lock_t *l = lock_checked(Lock, "WdfWaitLockAcquire");
    if (!(Timeout && *Timeout == 0))
        ke_check_may_wait("WdfWaitLockAcquire"); /* DISPATCH_LEVEL or a DPC: the wait's bugcheck */
    if (ke_irql() != PASSIVE_LEVEL && !(Timeout && *Timeout == 0))
        TDF_MISUSE("WdfWaitLockAcquire", "WdfWaitLockAcquire with a wait above PASSIVE_LEVEL");
    if (l->owner == sched_current() + 1)
        TDF_MISUSE("WdfWaitLockAcquire", "WdfWaitLockAcquire on a lock this thread already holds (self-deadlock)");
    LARGE_INTEGER t;
    if (Timeout)
        t.QuadPart = *Timeout;
    if (l->owner && !(Timeout && *Timeout == 0))
        ke_lock_waits(&l->event, "WdfWaitLockAcquire");
    NTSTATUS st = KeWaitForSingleObject(&l->event, Executive, KernelMode, FALSE, Timeout ? &t : NULL);
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* model code goes on after the wait's step (footprints, sched.h) */
    if (st == STATUS_SUCCESS) {
        l->owner = sched_current() + 1;
        ke_lock_held(&l->event, "WDFWAITLOCK", NULL);
    }
    return st;
}

VOID WdfWaitLockRelease(WDFWAITLOCK Lock)
{
    wdf_wait_lock_t *l = lock_checked(Lock, "WdfWaitLockRelease");
    sched_step_touch(&l->event, SCHED_FP_WRITE); /* written before KeSetEvent's yield (footprints, sched.h) */
    if (l->owner != sched_current() + 1)
        TDF_MISUSE("WdfWaitLockRelease", "WdfWaitLockRelease on a lock this thread does not hold");
    l->owner = 0;
    ke_lock_dropped(&l->event);
    KeSetEvent(&l->event, IO_NO_INCREMENT, FALSE);
}
