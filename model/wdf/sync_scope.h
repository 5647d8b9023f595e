/*
 * Callback (presentation) locks and synchronization scope (docs/KERNEL-SEMANTICS.md
 * §14). Every WDFDEVICE and WDFQUEUE has a callback lock: a spin lock, or a
 * mutex when the object's ExecutionLevel is passive. With
 * SynchronizationScope Device or Queue the framework holds it around the
 * queue's I/O callbacks and cancel routines; WdfObjectAcquireLock takes the
 * same lock. Scope None (the default) takes no lock and adds no yield point.
 *
 * For the timer / DPC / work-item code: an object created with
 * AutomaticSerialization runs its callback under
 * wdf_sync_scope_lock_for_parent(parent): acquire it with
 * wdf_callback_lock_acquire before calling the driver, release after, and
 * defer (wdf_sync_scope_defer) when the current thread already holds it.
 */
#ifndef TDF_WDF_SYNC_SCOPE_H
#define TDF_WDF_SYNC_SCOPE_H

#include "../kernel/kernel.h"

struct wdf_object;

typedef struct wdf_callback_lock {
    int owner;      /* fiber id + 1 of the holder, 0 when free */
    int passive;    /* ExecutionLevel passive: a mutex (IRQL unchanged), else a spin lock (DISPATCH_LEVEL) */
    KIRQL old_irql; /* the holder's IRQL before a spin-lock acquire */
    const char *owner_name; /* "WDFDEVICE" / "WDFQUEUE", for reports */
} wdf_callback_lock_t;

/* The effective level and scope of a new device (from its attributes, else
 * its driver's, else KMDF's default Dispatch/None) or queue (else its
 * device's). A queue asking for Device scope with another ExecutionLevel than
 * its device's fails: STATUS_INVALID_PARAMETER, as FxIoQueue does. */
struct wdf_device;
struct wdf_queue;
void wdf_sync_scope_init_device(struct wdf_device *d);
NTSTATUS wdf_sync_scope_init_queue(struct wdf_queue *q);

/* The lock the framework holds around an automatically serialized callback
 * of a child of `parent` (a device or a queue): the parent's presentation
 * lock if its scope is Device or Queue, else NULL (nothing to take). */
wdf_callback_lock_t *wdf_sync_scope_lock_for_parent(struct wdf_object *parent);

int wdf_callback_lock_held_by_current(const wdf_callback_lock_t *l);
/* Yield point, then waits while another thread holds it. A recursive
 * acquire is 0x10D/0x2 (WDF_RECURSIVE_LOCK), as FxCallbackSpinLock/MutexLock. */
void wdf_callback_lock_acquire(wdf_callback_lock_t *l, const char *routine);
void wdf_callback_lock_release(wdf_callback_lock_t *l, const char *routine);

/* Runs fn(arg) on a new framework thread (KMDF's DPC or system work item) at
 * `irql`, with a reference on device `d` for its duration: for a callback the
 * framework cannot make on the current thread because it holds the lock the
 * callback needs, or is above the callback's ExecutionLevel. */
void wdf_sync_scope_defer(const char *name, struct wdf_device *d, KIRQL irql, void (*fn)(void *), void *arg);

#endif
