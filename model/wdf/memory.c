/*
 * WDFMEMORY and a request's buffers (KERNEL-SEMANTICS §12).
 *
 * WdfMemoryCreate's buffer belongs to the object and goes with it: by
 * WdfObjectDelete or when its parent (ParentObject, default the WDFDRIVER)
 * is deleted, children before the parent's own EvtCleanupCallback. Copies
 * check bounds as KMDF's IFxMemory::_CopyPtrToPtr does.
 *
 * A request from a client (the I/O manager's IRP) owns its buffers only
 * until it is completed: completion frees them (request.c) and makes the
 * request's WDFMEMORY objects stale, so a later WdfMemory* call on them is
 * 0x10D in every build, as the verifier reports for the freed FxRequest's
 * memory; a raw pointer kept past completion is caught by ASan (asan build)
 * and reads 0xDD in the plain build (pool_free_deferred), without a report.
 */
#include "wdf_internal.h"

#include <stdio.h>
#include <string.h>

static wdf_memory_t **g_created; /* WdfMemoryCreate objects of the run, for parent deletion (grows) */
static unsigned g_ncreated, g_created_cap;

void wdf_memory_reset(void)
{
    g_created = NULL; /* model pool: released with the run */
    g_ncreated = g_created_cap = 0;
}

static wdf_memory_t *memory_checked(WDFMEMORY h, const char *routine)
{
    wdf_memory_t *m = (wdf_memory_t *)wdf_object_checked((WDFOBJECT)h, OBJ_MEMORY, routine);
    if (m && m->request && m->request->from_io_manager && m->request->state == REQ_COMPLETED) {
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION",
                     "%s on the %s WDFMEMORY of a request already completed (its buffer was freed at completion)",
                     routine, m == m->request->in_mem ? "input" : "output");
        return NULL;
    }
    if (m && m->obj.deleted && m->owns_buffer) {
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION", "%s on a WDFMEMORY already deleted%s", routine,
                     m->parent && m->parent->deleted ? " (with its parent)" : "");
        return NULL;
    }
    return m;
}

NTSTATUS WdfMemoryCreate(PWDF_OBJECT_ATTRIBUTES Attributes, POOL_TYPE PoolType, ULONG PoolTag, size_t BufferSize,
                         WDFMEMORY *Memory, PVOID *Buffer)
{
    (void)PoolType;
    (void)PoolTag; /* framework-owned memory: not the driver's pool, no unload leak of its own */
    ke_yield();
    *Memory = NULL;
    if (BufferSize == 0)
        return STATUS_INVALID_PARAMETER;
    wdf_object_t *parent = Attributes && Attributes->ParentObject ? wdf_object_from_handle(Attributes->ParentObject)
                                                                  : (wdf_object_t *)wdf_current_driver();
    if (parent && (parent->destroyed || parent->deleted)) {
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION", "WdfMemoryCreate with a parent object already deleted");
        return STATUS_INVALID_PARAMETER;
    }
    wdf_memory_t *m = pool_alloc_model(sizeof *m);
    wdf_object_init(&m->obj, OBJ_MEMORY, Attributes);
    m->buffer = pool_alloc_model(BufferSize);
    m->size = BufferSize;
    m->owns_buffer = 1;
    m->parent = parent;
    if (g_ncreated == g_created_cap) { /* no fixed bound: a dropped one would outlive its parent */
        unsigned cap = g_created_cap ? 2 * g_created_cap : 16;
        wdf_memory_t **grown = pool_alloc_model(cap * sizeof *grown);
        if (g_ncreated)
            memcpy(grown, g_created, g_ncreated * sizeof *grown);
        g_created = grown;
        g_created_cap = cap;
    }
    g_created[g_ncreated++] = m;
    *Memory = (WDFMEMORY)m;
    if (Buffer)
        *Buffer = m->buffer;
    return STATUS_SUCCESS;
}

NTSTATUS WdfMemoryCreatePreallocated(PWDF_OBJECT_ATTRIBUTES Attributes, PVOID Buffer, size_t BufferSize,
                                     WDFMEMORY *Memory)
{
    wdf_memory_t *m = pool_alloc_model(sizeof *m);
    wdf_object_init(&m->obj, OBJ_MEMORY, Attributes);
    m->buffer = Buffer;
    m->size = BufferSize;
    *Memory = (WDFMEMORY)m;
    return STATUS_SUCCESS;
}

void wdf_memory_delete_children(wdf_object_t *parent)
{
    for (unsigned i = 0; i < g_ncreated; i++) {
        wdf_memory_t *m = g_created[i];
        if (m->parent == parent && !m->obj.deleted) {
            wdf_object_delete(&m->obj); /* its cleanup callback may delete others: rescan */
            i = (unsigned)-1;
        }
    }
}

void wdf_memory_destroyed(wdf_memory_t *m)
{
    if (m->owns_buffer && m->buffer) {
        pool_free_deferred(m->buffer);
        m->buffer = NULL;
    }
}

PVOID WdfMemoryGetBuffer(WDFMEMORY Memory, size_t *BufferSize)
{
    wdf_memory_t *m = memory_checked(Memory, "WdfMemoryGetBuffer");
    if (BufferSize)
        *BufferSize = m->size;
    return m->buffer;
}

NTSTATUS WdfMemoryCopyToBuffer(WDFMEMORY SourceMemory, size_t SourceOffset, PVOID Buffer, size_t NumBytesToCopyTo)
{
    ke_yield();
    wdf_memory_t *m = memory_checked(SourceMemory, "WdfMemoryCopyToBuffer");
    if (!Buffer || NumBytesToCopyTo == 0)
        return STATUS_INVALID_PARAMETER;
    if (SourceOffset != 0 && SourceOffset >= m->size)
        return STATUS_BUFFER_TOO_SMALL;
    if (NumBytesToCopyTo > m->size - SourceOffset)
        return STATUS_BUFFER_TOO_SMALL;
    memcpy(Buffer, (const UCHAR *)m->buffer + SourceOffset, NumBytesToCopyTo);
    return STATUS_SUCCESS;
}

NTSTATUS WdfMemoryCopyFromBuffer(WDFMEMORY DestinationMemory, size_t DestinationOffset, PVOID Buffer,
                                 size_t NumBytesToCopyFrom)
{
    ke_yield();
    wdf_memory_t *m = memory_checked(DestinationMemory, "WdfMemoryCopyFromBuffer");
    if (!Buffer || NumBytesToCopyFrom == 0)
        return STATUS_INVALID_PARAMETER;
    if (DestinationOffset != 0 && DestinationOffset >= m->size)
        return STATUS_INVALID_BUFFER_SIZE;
    if (NumBytesToCopyFrom > m->size - DestinationOffset)
        return STATUS_INVALID_BUFFER_SIZE;
    memcpy((UCHAR *)m->buffer + DestinationOffset, Buffer, NumBytesToCopyFrom);
    return STATUS_SUCCESS;
}

/* FxRequest::GetMemoryObject / GetDeviceControlOutputMemoryObject: a
 * zero-length buffer is STATUS_BUFFER_TOO_SMALL. */
static NTSTATUS request_memory(WDFREQUEST Request, int output, WDFMEMORY *Memory, const char *routine)
{
    wdf_request_t *r = wdf_request_checked(Request, routine);
    *Memory = NULL;
    if (r->from_io_manager && r->state == REQ_COMPLETED) {
        {
        char detail[120];
        snprintf(detail, sizeof detail, "%s on a request already completed", routine);
        wdf_request_fail_completed(r, 0x5, routine, detail);
    }
        return STATUS_INVALID_DEVICE_STATE;
    }
    void *buf = output ? r->out : r->in;
    size_t len = output ? r->out_len : r->in_len;
    if (!buf || len == 0)
        return STATUS_BUFFER_TOO_SMALL;
    wdf_memory_t **slot = output ? &r->out_mem : &r->in_mem;
    if (!*slot) {
        wdf_memory_t *m = pool_alloc_model(sizeof *m);
        wdf_object_init(&m->obj, OBJ_MEMORY, NULL);
        m->buffer = buf;
        m->size = len;
        m->request = r;
        *slot = m;
    }
    *Memory = (WDFMEMORY)*slot;
    return STATUS_SUCCESS;
}

NTSTATUS WdfRequestRetrieveInputMemory(WDFREQUEST Request, WDFMEMORY *Memory)
{
    return request_memory(Request, 0, Memory, "WdfRequestRetrieveInputMemory");
}

NTSTATUS WdfRequestRetrieveOutputMemory(WDFREQUEST Request, WDFMEMORY *Memory)
{
    return request_memory(Request, 1, Memory, "WdfRequestRetrieveOutputMemory");
}
