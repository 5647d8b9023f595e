/*
 * Framework objects: handles, typed contexts, cleanup/destroy, references.
 * Object records are model memory that lives until the end of the run, so a
 * stale handle is recognised deterministically (0x10D); contexts are freed at
 * destroy (ASan reports a stale context pointer).
 */
#include "wdf_internal.h"
#include "../kernel/tsan_sync.h"

#include <string.h>

void wdf_object_init(wdf_object_t *o, obj_kind_t kind, PWDF_OBJECT_ATTRIBUTES attrs)
{
    o->kind = kind;
    o->refs = 1; /* the creation reference, dropped by delete */
    o->image = image_current();
    o->exec_level = WdfExecutionLevelInheritFromParent;
    o->sync_scope = WdfSynchronizationScopeInheritFromParent;
    if (!attrs)
        return;
    o->exec_level = attrs->ExecutionLevel;
    o->sync_scope = attrs->SynchronizationScope;
    o->cleanup = attrs->EvtCleanupCallback;
    o->destroy = attrs->EvtDestroyCallback;
    if (attrs->ContextTypeInfo) {
        size_t size = attrs->ContextSizeOverride ? attrs->ContextSizeOverride : attrs->ContextTypeInfo->ContextSize;
        o->context_name = attrs->ContextTypeInfo->ContextName;
        /* Own allocation (not model pool): freed for real at destroy. */
        o->context = pool_alloc_model(size);
        o->context_size = size;
    }
}

/* 0x10D/0x5 on a destroyed handle, with the fatal pair (the destroy). */
void wdf_object_fail_destroyed(wdf_object_t *o, const char *routine)
{
    /* A request completed to another driver: for the receiver the request
     * was gone at its completion, the sender's delete came after. Its first
     * invalidating step is the completion, so the key is the request's (as a
     * use right after the completion keys), not which of the sender's
     * routines happened to delete it by then. */
    if (o->kind == OBJ_REQUEST) {
        wdf_request_t *r = (wdf_request_t *)o;
        if (r->state == REQ_COMPLETED && r->completed_by.event && image_current() != o->image) {
            char detail[160];
            snprintf(detail, sizeof detail,
                     "%s called with the handle of a request already completed (and deleted by its sender)",
                     routine);
            wdf_request_fail_completed(r, 0x5, routine, detail);
            return;
        }
    }
    const char *owner = o->image ? o->image->name : "framework";
    tdf_dead_t dead = {TDF_OBJ_HANDLE, owner, &o->gone, "%s object of %s (destroyed)",
                       {(uintptr_t)(o->context_name ? o->context_name : "a WDF"), (uintptr_t)owner}};
    tdf_fail_dead(&dead, routine, TDF_CLASS_BUGCHECK, 0x10D, 0x5, "WDF_VIOLATION", NULL, NULL,
                  "%s called with the handle of an object already destroyed", routine);
}

/* A received request's handle of an earlier life (wdf_internal.h "handles")
 * while the request is in flight again: the WDFREQUEST it names was freed at
 * that life's completion. A request still completed, or reused and not sent
 * again, is left to the routine's own checks, which say which (a second
 * completion, a call on a completed request, a request the driver does not
 * own); only a later life makes a stale handle look like a good one. */
static int stale_request_handle(const void *h, wdf_object_t *o, const char *routine)
{
    unsigned life = wdf_handle_life(h);
    if (__builtin_expect(!life, 1) || o->kind != OBJ_REQUEST)
        return 0;
    const wdf_request_t *r = (const wdf_request_t *)o;
    if (life == wdf_request_life(r) || r->state == REQ_COMPLETED || r->state == REQ_IDLE)
        return 0;
    wdf_request_fail_stale_handle((wdf_request_t *)o, routine);
    return 1;
}

wdf_object_t *wdf_object_checked(WDFOBJECT h, obj_kind_t kind, const char *routine)
{
    wdf_object_t *o = wdf_object_from_handle(h);
    if (!o || o->kind != kind) {
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION", "%s called with an invalid or wrong-type handle", routine);
        return NULL;
    }
    if (o->destroyed) {
        wdf_object_fail_destroyed(o, routine);
        return NULL;
    }
    if (stale_request_handle(h, o, routine))
        return NULL;
    return o;
}

wdf_object_t *wdf_object_checked_any(WDFOBJECT h, const char *routine)
{
    wdf_object_t *o = wdf_object_from_handle(h);
    if (!o) {
        TDF_BUGCHECK(0x10D, 0x4, "WDF_VIOLATION", "%s called with a NULL handle", routine);
        return NULL;
    }
    if (o->destroyed) {
        wdf_object_fail_destroyed(o, routine);
        return NULL;
    }
    if (stale_request_handle(h, o, routine))
        return NULL;
    return o;
}

wdf_device_t *wdf_device_checked(WDFDEVICE h, const char *routine)
{
    return (wdf_device_t *)wdf_object_checked((WDFOBJECT)h, OBJ_DEVICE, routine);
}

void wdf_object_set_parent(wdf_object_t *o, wdf_object_t *parent)
{
    if (!parent) {
        wdf_driver_t *drv = wdf_current_driver();
        parent = drv ? &drv->obj : NULL;
    }
    if (!parent || o->parent)
        return;
    if (parent->destroyed) {
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION", "ParentObject is the handle of an object already destroyed");
        return;
    }
    o->parent = parent;
    parent->refs++; /* released by the child's destroy */
    /* Appended: children are disposed in creation order (KMDF documents the
     * order as unpredictable; the model fixes one). */
    wdf_object_t **pp = &parent->first_child;
    while (*pp)
        pp = &(*pp)->next_sibling;
    *pp = o;
}

static void unlink_child(wdf_object_t *o)
{
    wdf_object_t *parent = o->parent;
    for (wdf_object_t **pp = &parent->first_child; *pp; pp = &(*pp)->next_sibling) {
        if (*pp == o) {
            *pp = o->next_sibling;
            break;
        }
    }
    o->parent = NULL;
    o->next_sibling = NULL;
    wdf_object_release(parent);
}

wdf_device_t *wdf_object_device_ancestor(wdf_object_t *o)
{
    for (; o; o = o->parent) {
        if (o->kind == OBJ_DEVICE)
            return (wdf_device_t *)o;
        if (o->kind == OBJ_QUEUE)
            return ((wdf_queue_t *)o)->device;
    }
    return NULL;
}

static void destroy(wdf_object_t *o)
{
    /* EvtDestroyCallback may still read the context (KMDF documents it), so
     * the handle turns invalid only after it returns. */
    if (o->destroy)
        o->destroy((WDFOBJECT)o);
    o->destroyed = 1;
    tdf_teardown_note(&o->gone, "object destroyed");
    o->gone.trace_index = UINT64_MAX; /* no trace event of its own (a device's follows) */
    if (o->kind == OBJ_MEMORY)
        wdf_memory_destroyed((wdf_memory_t *)o);
    if (o->finalize)
        o->finalize(o);
    if (o->context) {
        pool_free_deferred(o->context);
        o->context = NULL;
    }
    if (o->kind == OBJ_DEVICE) {
        wdf_device_t *d = (wdf_device_t *)o;
        SCHED_TRACE1("%s destroyed", d->name);
        o->gone.trace_index = sched_trace_total() - 1;
        if (d->driver->devices > 0)
            d->driver->devices--;
        wdf_driver_maybe_unload(d->driver);
    }
    if (o->parent) /* last: may destroy the parent (and unload its driver) */
        unlink_child(o);
}

void wdf_object_release(wdf_object_t *o)
{
    if (o->refs <= 0) {
        TDF_BUGCHECK(0x10D, 0x7, "WDF_VIOLATION", "object dereferenced with no references left");
        return;
    }
    /* Reference counts order memory like the kernel's interlocked
     * ObDereferenceObject: every release happens-before the destruction. */
    TDF_HB_RELEASE(o);
    if (--o->refs == 0) {
        TDF_HB_ACQUIRE(o);
        destroy(o);
    }
}

/* KMDF's dispose of a tree (fxobjectstatemachine.cpp DisposeChildrenWorker):
 * every child's EvtCleanupCallback has returned before its parent's, so a
 * child may use its parent until its own cleanup. */
static void dispose(wdf_object_t *o)
{
    o->deleted = 1;
    wdf_object_dispose_children(o);
    wdf_memory_delete_children(o); /* WdfMemoryCreate's children (memory.c's own list) */
    if (o->dispose)
        o->dispose(o);
    if (o->cleanup)
        o->cleanup((WDFOBJECT)o);
}

void wdf_object_dispose_children(wdf_object_t *o)
{
    for (wdf_object_t *c = o->first_child; c; c = c->next_sibling)
        if (!c->deleted)
            dispose(c);
}

/* The parent releases its children only after its own dispose: children's
 * destroy callbacks run after every cleanup callback of the tree. */
static void drop(wdf_object_t *o)
{
    wdf_object_drop_children(o);
    o->dropped = 1;
    wdf_object_release(o);
}

void wdf_object_drop_children(wdf_object_t *o)
{
    for (wdf_object_t *c = o->first_child, *next; c; c = next) {
        next = c->next_sibling; /* the release may unlink c */
        if (c->deleted && !c->dropped)
            drop(c);
    }
}

void wdf_object_delete(wdf_object_t *o)
{
    if (o->deleted)
        return;
    dispose(o); /* the creation reference keeps o alive meanwhile */
    wdf_object_drop_children(o);
    o->dropped = 1;
    wdf_object_release(o);
}

PVOID WdfObjectGetTypedContextWorker(WDFOBJECT Handle, PCWDF_OBJECT_CONTEXT_TYPE_INFO TypeInfo)
{
    /* Not a yield point: KMDF computes the address from the handle. */
    wdf_object_t *o = wdf_object_from_handle(Handle);
    if (o && o->destroyed) {
        wdf_object_fail_destroyed(o, "WdfObjectGetTypedContext");
        return NULL;
    }
    if (o && stale_request_handle(Handle, o, "WdfObjectGetTypedContext"))
        return NULL;
    if (!o) {
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION", "WdfObjectGetTypedContext on a destroyed or invalid handle");
        return NULL;
    }
    /* The same type info's name pointer is the usual case: no strcmp then. */
    if (!o->context_name ||
        (o->context_name != TypeInfo->ContextName && strcmp(o->context_name, TypeInfo->ContextName) != 0)) {
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION", "WdfObjectGetTypedContext: object has no context of type %s",
                     TypeInfo->ContextName);
        return NULL;
    }
    return o->context;
}

/* WdfObjectReference / ...WithTag are the WDK's macros over the Actual
 * routines; the tag, line and file go to KMDF's optional tag tracker, which
 * records history and checks nothing: the model ignores them. */
VOID WdfObjectReferenceActual(WDFOBJECT Handle, PVOID Tag, LONG Line, PCSTR File)
{
    (void)Tag, (void)Line, (void)File;
    ke_yield();
    wdf_object_t *o = wdf_object_checked_any(Handle, "WdfObjectReference");
    if (o)
        o->refs++;
}

VOID WdfObjectDereferenceActual(WDFOBJECT Handle, PVOID Tag, LONG Line, PCSTR File)
{
    (void)Tag, (void)Line, (void)File;
    ke_yield();
    wdf_object_t *o = wdf_object_checked_any(Handle, "WdfObjectDereference");
    if (!o)
        return;
    if (o->refs == 1 && !o->deleted) {
        /* The creation reference belongs to WdfObjectDelete (or the parent's
         * delete): a dereference that takes it frees an object that still
         * has its parent association, KMDF's FxObject destructor bugchecks
         * (fxobject.cpp, "freed using WdfObjectDereference, not
         * WdfObjectDelete"). */
        TDF_BUGCHECK(0x10D, 0x7, "WDF_VIOLATION",
                     "WdfObjectDereference dropped the last reference of an object that was never deleted: it was "
                     "freed using WdfObjectDereference, not WdfObjectDelete (one dereference too many)");
        return;
    }
    wdf_object_release(o);
}

static int driver_may_not_delete(const wdf_object_t *o)
{
    switch (o->kind) {
    case OBJ_DEVICE: /* PnP deletes devices (KERNEL-SEMANTICS §5); no control devices in the model */
    case OBJ_DRIVER:
    case OBJ_RESLIST:
        return 1;
    case OBJ_QUEUE: {
        const wdf_queue_t *q = (const wdf_queue_t *)o;
        return q->device && q->device->default_queue == q;
    }
    default:
        return 0;
    }
}

VOID WdfObjectDelete(WDFOBJECT Object)
{
    ke_yield();
    wdf_object_t *o = wdf_object_checked_any(Object, "WdfObjectDelete");
    if (!o)
        return;
    if (driver_may_not_delete(o)) {
        TDF_BUGCHECK(0x10D, 0x7, "WDF_VIOLATION",
                     "WdfObjectDelete on a %s: the framework always deletes it (WdfObjectDelete's remarks; "
                     "KERNEL-SEMANTICS §9)",
                     o->kind == OBJ_DEVICE ? "WDFDEVICE" : o->kind == OBJ_DRIVER ? "WDFDRIVER"
                     : o->kind == OBJ_QUEUE ? "default WDFQUEUE" : "WDFCMRESLIST");
        return;
    }
    if (o->deleted) {
        /* KMDF ignores a second delete of an object that is still referenced
         * (its state machine drops the event). */
        return;
    }
    wdf_object_delete(o);
}
