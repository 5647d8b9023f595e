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
    }
}

wdf_object_t *wdf_object_checked(WDFOBJECT h, obj_kind_t kind, const char *routine)
{
    wdf_object_t *o = (wdf_object_t *)h;
    if (!o || o->kind != kind) {
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION", "%s called with an invalid or wrong-type handle", routine);
        return NULL;
    }
    if (o->destroyed) {
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION", "%s called with the handle of an object already destroyed", routine);
        return NULL;
    }
    return o;
}

wdf_device_t *wdf_device_checked(WDFDEVICE h, const char *routine)
{
    return (wdf_device_t *)wdf_object_checked((WDFOBJECT)h, OBJ_DEVICE, routine);
}

static void destroy(wdf_object_t *o)
{
    /* EvtDestroyCallback may still read the context (KMDF documents it), so
     * the handle turns invalid only after it returns. */
    if (o->destroy)
        o->destroy((WDFOBJECT)o);
    o->destroyed = 1;
    if (o->kind == OBJ_MEMORY)
        wdf_memory_destroyed((wdf_memory_t *)o);
    if (o->context) {
        pool_free_deferred(o->context);
        o->context = NULL;
    }
    if (o->kind == OBJ_DEVICE) {
        wdf_device_t *d = (wdf_device_t *)o;
        SCHED_TRACE1("%s destroyed", d->name);
        if (d->driver->devices > 0)
            d->driver->devices--;
        wdf_driver_maybe_unload(d->driver);
    }
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

void wdf_object_delete(wdf_object_t *o)
{
    if (o->deleted)
        return;
    o->deleted = 1;
    wdf_memory_delete_children(o); /* KMDF: children first, then the object's own cleanup */
    if (o->cleanup)
        o->cleanup((WDFOBJECT)o);
    wdf_object_release(o);
}

PVOID WdfObjectGetTypedContextWorker(WDFOBJECT Handle, PCWDF_OBJECT_CONTEXT_TYPE_INFO TypeInfo)
{
    /* Not a yield point: KMDF computes the address from the handle. */
    wdf_object_t *o = (wdf_object_t *)Handle;
    if (!o || o->destroyed) {
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION", "WdfObjectGetTypedContext on a destroyed or invalid handle");
        return NULL;
    }
    if (!o->context_name || strcmp(o->context_name, TypeInfo->ContextName) != 0) {
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION", "WdfObjectGetTypedContext: object has no context of type %s",
                     TypeInfo->ContextName);
        return NULL;
    }
    return o->context;
}

VOID WdfObjectReference(WDFOBJECT Object)
{
    ke_yield();
    wdf_object_t *o = (wdf_object_t *)Object;
    if (o && !o->destroyed)
        o->refs++;
}

VOID WdfObjectDereference(WDFOBJECT Object)
{
    ke_yield();
    wdf_object_t *o = (wdf_object_t *)Object;
    if (!o || o->destroyed) {
        TDF_BUGCHECK(0x10D, 0x7, "WDF_VIOLATION", "WdfObjectDereference of a destroyed object");
        return;
    }
    wdf_object_release(o);
}

VOID WdfObjectDelete(WDFOBJECT Object)
{
    ke_yield();
    wdf_object_t *o = (wdf_object_t *)Object;
    if (o && o->kind == OBJ_DEVICE)
        TDF_BUGCHECK(0x10D, 0x7, "WDF_VIOLATION",
                     "WdfObjectDelete on a WDFDEVICE: PnP deletes devices (KERNEL-SEMANTICS §5, 0x10D/0x7)");
    if (o && !o->destroyed)
        wdf_object_delete(o);
}
