/*
 * WDFLOOKASIDE and WdfMemoryCreateFromLookaside (KERNEL-SEMANTICS §9
 * "Lookaside lists"; KMDF fxlookasidelistapi.cpp,
 * fxmemorybufferfromlookaside.cpp). The framework's list is its own (no
 * executive list of the driver's), so nothing of it is the driver's pool.
 * Each memory object made from the list references the list until the
 * memory is destroyed, when its buffer goes back; memory objects take the
 * list's MemoryAttributes (parent default: the driver).
 */
#include "wdf_internal.h"
#include "../kernel/tsan_sync.h"

typedef struct wdf_lookaside {
    wdf_object_t obj;
    size_t size;
    ULONG tag;
    WDF_OBJECT_ATTRIBUTES memory_attrs;
    int has_memory_attrs;
    void *cached[TDF_LOOKASIDE_DEPTH];
    unsigned ncached;
} wdf_lookaside_t;

typedef struct lookaside_memory {
    wdf_memory_t mem; /* first: the handle is a WDFMEMORY */
    wdf_lookaside_t *list;
} lookaside_memory_t;

static void memory_finalize(wdf_object_t *o)
{
    lookaside_memory_t *m = (lookaside_memory_t *)o;
    wdf_lookaside_t *l = m->list;
    if (l->ncached < TDF_LOOKASIDE_DEPTH) {
        TDF_HB_RELEASE(m->mem.buffer); /* an interlocked list: the return happens-before the reuse */
        l->cached[l->ncached++] = m->mem.buffer;
    }
    else
        pool_free_deferred(m->mem.buffer);
    m->mem.buffer = NULL;
    wdf_object_release(&l->obj);
}

NTSTATUS WdfLookasideListCreate(PWDF_OBJECT_ATTRIBUTES LookasideAttributes, size_t BufferSize, POOL_TYPE PoolType,
                                PWDF_OBJECT_ATTRIBUTES MemoryAttributes, ULONG PoolTag, WDFLOOKASIDE *Lookaside)
{
    (void)PoolType;
    ke_yield();
    if (BufferSize == 0)
        return STATUS_INVALID_PARAMETER;
    wdf_lookaside_t *l = pool_alloc_model(sizeof *l);
    wdf_object_init(&l->obj, OBJ_LOOKASIDE, LookasideAttributes);
    wdf_object_set_parent(&l->obj, LookasideAttributes ? wdf_object_from_handle(LookasideAttributes->ParentObject) : NULL);
    l->size = BufferSize;
    l->tag = PoolTag;
    if (MemoryAttributes) {
        l->memory_attrs = *MemoryAttributes;
        l->has_memory_attrs = 1;
    }
    *Lookaside = (WDFLOOKASIDE)l;
    return STATUS_SUCCESS;
}

NTSTATUS WdfMemoryCreateFromLookaside(WDFLOOKASIDE Lookaside, WDFMEMORY *Memory)
{
    ke_yield();
    wdf_lookaside_t *l = (wdf_lookaside_t *)wdf_object_checked((WDFOBJECT)Lookaside, OBJ_LOOKASIDE,
                                                              "WdfMemoryCreateFromLookaside");
    if (!l)
        return STATUS_INVALID_PARAMETER;
    if (l->obj.deleted) {
        TDF_BUGCHECK(0x10D, 0x7, "WDF_VIOLATION", "WdfMemoryCreateFromLookaside on a lookaside list that is deleted");
        return STATUS_INVALID_PARAMETER;
    }
    lookaside_memory_t *m = pool_alloc_model(sizeof *m);
    wdf_object_init(&m->mem.obj, OBJ_MEMORY, l->has_memory_attrs ? &l->memory_attrs : NULL);
    wdf_object_set_parent(&m->mem.obj, l->has_memory_attrs ? wdf_object_from_handle(l->memory_attrs.ParentObject) : NULL);
    if (l->ncached) {
        m->mem.buffer = l->cached[--l->ncached];
        TDF_HB_ACQUIRE(m->mem.buffer);
    } else {
        m->mem.buffer = pool_alloc_model(l->size);
    }
    m->mem.size = l->size;
    m->list = l;
    m->mem.obj.finalize = memory_finalize;
    l->obj.refs++; /* released when the memory is destroyed */
    *Memory = (WDFMEMORY)m;
    return STATUS_SUCCESS;
}
