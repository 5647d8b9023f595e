/*
 * WDFDPC (KERNEL-SEMANTICS §8 "WDFDPC"): a KDPC whose routine (dpc_thunk,
 * model code) calls EvtDpcFunc at DISPATCH_LEVEL, under the parent's
 * callback lock with AutomaticSerialization and a Device or Queue scope
 * (sync_scope.h), as FxDpc::DpcHandler. Enqueue and Cancel are
 * KeInsertQueueDpc and KeRemoveQueueDpc (+ KeFlushQueuedDpcs with Wait).
 * Deletion (the driver's WdfObjectDelete, or its parent's) flushes the
 * queued DPCs, so a DPC still queued runs before the parent's cleanup
 * (FxDpc::Dispose -> FlushAndRundown: KeFlushQueuedDpcs, no dequeue).
 */
#include "wdf_internal.h"

#include <string.h>

#define MAX_WDF_DPCS 32 /* WDFDPCs created in one run */

typedef struct wdf_dpc {
    wdf_object_t obj;
    wdf_object_t *parent;
    wdf_device_t *device;
    WDF_DPC_CONFIG cfg;
    wdf_callback_lock_t *lock;
    KDPC dpc;
    int running_down;
    /* Queued from a WDFTIMER's or another WDFDPC's callback: that chain's
     * first routine (NULL: none). A dead-object access in EvtDpcFunc is keyed
     * by it: the timer's routine and the DPC it queued racing with one
     * teardown are one bug (docs/REPORTS.md "Signatures"). */
    const void *origin_fn;
    const struct tdf_image *origin_img;
} wdf_dpc_t;

static unsigned g_ndpcs; /* WDFDPCs created this run (MAX_WDF_DPCS) */

/* The WDFDPC whose EvtDpcFunc each thread is in, by slot. Per thread, not
 * per DPC: a DPC queued again while its routine runs can run on the other
 * DPC processor at the same time (the kernel dequeues before the call). */
static const wdf_dpc_t *g_in_callback[SCHED_SLOT_COUNT];

static const wdf_dpc_t **in_callback_of(int fiber) { return &g_in_callback[sched_fiber_index(fiber)]; }

void wdf_dpc_reset(void)
{
    g_ndpcs = 0;
    memset(g_in_callback, 0, sizeof g_in_callback);
}

static wdf_dpc_t *dpc_checked(WDFDPC h, const char *routine)
{
    return (wdf_dpc_t *)wdf_object_checked((WDFOBJECT)h, OBJ_DPC, routine);
}

static void dpc_dispose(wdf_object_t *o);

static VOID dpc_thunk(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    (void)Dpc, (void)A1, (void)A2;
    wdf_dpc_t *d = Context;
    const wdf_dpc_t **mine = in_callback_of(sched_current());
    const wdf_dpc_t *outer = *mine;
    *mine = d;
    if (d->lock)
        wdf_callback_lock_acquire(d->lock, "EvtDpcFunc");
    d->cfg.EvtDpcFunc((WDFDPC)d); /* driver code: 0xCE at the call if its image is gone */
    if (d->lock)
        wdf_callback_lock_release(d->lock, "EvtDpcFunc");
    *in_callback_of(sched_current()) = outer;
}

/* The deferred chain the thread runs for: the WDFTIMER callback it is in,
 * else the WDFDPC callback's origin or that DPC's own routine. */
static const void *origin_of(int fiber, const struct tdf_image **img)
{
    const void *fn = wdf_timer_callback_of(fiber, img);
    if (fn)
        return fn;
    const wdf_dpc_t *d = *in_callback_of(fiber);
    if (!d)
        return NULL;
    *img = d->origin_fn ? d->origin_img : d->obj.image;
    return d->origin_fn ? d->origin_fn : (const void *)d->cfg.EvtDpcFunc;
}

/* report.c's key hook: an access in a WDFDPC's EvtDpcFunc that a timer's
 * callback (or a chain from one) queued is keyed by that first routine; one
 * in a WdfInterruptSynchronize callback by the routine that called it
 * (interrupt.c). */
int wdf_key_origin(int fiber, const char *frame, char *out, size_t size)
{
    if (wdf_interrupt_key_origin(fiber, frame, out, size))
        return 1;
    const wdf_dpc_t *d = *in_callback_of(fiber);
    if (!d || !d->origin_fn || !d->obj.image)
        return 0;
    char mine[96];
    snprintf(mine, sizeof mine, "%s!%s", d->obj.image->name, symbol_name((const void *)d->cfg.EvtDpcFunc));
    if (strcmp(mine, frame) != 0)
        return 0; /* the access is in a routine the DPC called: keyed as it is */
    snprintf(out, size, "%s!%s", d->origin_img ? d->origin_img->name : "?", symbol_name(d->origin_fn));
    return 1;
}

NTSTATUS WdfDpcCreate(PWDF_DPC_CONFIG Config, PWDF_OBJECT_ATTRIBUTES Attributes, WDFDPC *Dpc)
{
    ke_yield();
    *Dpc = NULL;
    if (!Attributes || !Attributes->ParentObject)
        return STATUS_WDF_PARENT_NOT_SPECIFIED;
    if (Config->Size != sizeof(WDF_DPC_CONFIG))
        return STATUS_INFO_LENGTH_MISMATCH;
    wdf_object_t *parent = wdf_object_from_handle(Attributes->ParentObject);
    wdf_device_t *device = wdf_parent_device(parent);
    if (!device)
        return STATUS_INVALID_DEVICE_REQUEST;
    wdf_callback_lock_t *lock = Config->AutomaticSerialization ? wdf_sync_scope_lock_for_parent(parent) : NULL;
    if (lock && lock->passive)
        return STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL; /* a DPC cannot take a mutex */
    if (g_ndpcs == MAX_WDF_DPCS) {
        TDF_LIMIT(MAX_WDF_DPCS, "model/wdf/wdfdpc.c", "more WDFDPCs in one run");
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    wdf_dpc_t *d = pool_alloc_model(sizeof *d);
    wdf_object_init(&d->obj, OBJ_DPC, Attributes);
    wdf_object_set_parent(&d->obj, parent); /* deleting the parent disposes the DPC first */
    d->obj.dispose = dpc_dispose;
    d->parent = parent;
    d->device = device;
    d->cfg = *Config;
    d->lock = lock;
    KeInitializeDpc(&d->dpc, dpc_thunk, d);
    d->dpc.TdfImage = NULL; /* framework-owned: not the driver's own KDPC */
    g_ndpcs++;
    ke_set_key_origin_hook(wdf_key_origin);
    SCHED_TRACE1("WdfDpcCreate %s", symbol_name((const void *)Config->EvtDpcFunc));
    *Dpc = (WDFDPC)d;
    return STATUS_SUCCESS;
}

BOOLEAN WdfDpcEnqueue(WDFDPC Dpc)
{
    ke_yield();
    wdf_dpc_t *d = dpc_checked(Dpc, "WdfDpcEnqueue");
    BOOLEAN queued = ke_dpc_insert(&d->dpc, NULL, NULL);
    if (queued) /* a queued DPC keeps the chain it was first queued from */
        d->origin_fn = origin_of(sched_current(), &d->origin_img);
    SCHED_TRACE2("WdfDpcEnqueue %s -> %lu", symbol_name((const void *)d->cfg.EvtDpcFunc), (unsigned long)queued);
    return queued;
}

BOOLEAN WdfDpcCancel(WDFDPC Dpc, BOOLEAN Wait)
{
    ke_yield();
    wdf_dpc_t *d = dpc_checked(Dpc, "WdfDpcCancel");
    if (Wait && ke_irql() != PASSIVE_LEVEL) {
        /* fxdpcapi.cpp: FxVerifierCheckIrqlLevel(PASSIVE_LEVEL), then FALSE */
        TDF_MISUSE("WdfDpcCancel", "WdfDpcCancel(Wait=TRUE) at IRQL %u%s: it flushes the DPCs, PASSIVE_LEVEL only "
                   "(Verifier breaks and returns FALSE)", (unsigned)ke_irql(), ke_in_dpc() ? " inside a DPC routine" : "");
        return FALSE;
    }
    BOOLEAN removed = ke_dpc_remove(&d->dpc);
    if (Wait && !removed)
        KeFlushQueuedDpcs();
    SCHED_TRACE2("WdfDpcCancel(%lu) -> %lu", (unsigned long)Wait, (unsigned long)removed);
    return removed;
}

WDFOBJECT WdfDpcGetParentObject(WDFDPC Dpc) { return (WDFOBJECT)dpc_checked(Dpc, "WdfDpcGetParentObject")->parent; }

PKDPC WdfDpcWdmGetDpc(WDFDPC Dpc) { return &dpc_checked(Dpc, "WdfDpcWdmGetDpc")->dpc; }

/* FxDpc::Dispose (the object tree calls it when the DPC or an ancestor is
 * deleted): KeFlushQueuedDpcs, so a queued DPC still runs; no dequeue. */
static void dpc_dispose(wdf_object_t *o)
{
    wdf_dpc_t *d = (wdf_dpc_t *)o;
    if (d->running_down)
        return;
    d->running_down = 1;
    ke_check_may_wait("WDFDPC deletion (KeFlushQueuedDpcs)");
    SCHED_TRACE1("WDFDPC %s disposed: flush", symbol_name((const void *)d->cfg.EvtDpcFunc));
    KeFlushQueuedDpcs();
}
