/*
 * WDFINTERRUPT (KERNEL-SEMANTICS §10 "Interrupts"): a line-based interrupt
 * handled at DIRQL, its spin lock, its DPC, and where the device's power
 * sequences connect and disconnect it (model/wdf/device.c calls
 * wdf_interrupts_connect after EvtDeviceD0Entry and wdf_interrupts_disconnect
 * before EvtDeviceD0Exit, as KMDF's power state machine calls
 * NotifyResourceObjectsD0 / NotifyResourceObjectsDx).
 *
 * "Connected" is KMDF's m_Connected (IoConnectInterruptEx done, a KINTERRUPT
 * exists); "enabled" is m_Enabled, set once EvtInterruptEnable returned
 * success and cleared when EvtInterruptDisable is called, both under the
 * interrupt lock. The device raises its line only when the input's
 * `interrupt` event says so; the ISR then runs on an interrupt model thread
 * that takes the interrupt lock first, as the kernel's interrupt dispatch does,
 * and calls EvtInterruptIsr only if the interrupt is still enabled: a line
 * raised before EvtInterruptDisable took the lock is serviced, one raised
 * after it is not (the driver masked it at the device).
 */
#include "interrupt.h"
#include "sync_scope.h"
#include "../kernel/tsan_sync.h"

#include <stdio.h>
#include <string.h>

#define MAX_INTERRUPTS 16

typedef struct wdf_interrupt {
    wdf_object_t obj;
    wdf_device_t *device;
    WDF_INTERRUPT_CONFIG cfg;
    unsigned index; /* among its device's interrupts: picks its resource descriptor */
    ULONG vector;   /* from the resources at connect; 0: none assigned, never connected */
    KIRQL dirql;
    int connected, enabled;
    int lock_owner; /* fiber id + 1 holding the interrupt spin lock, 0: free */
    KIRQL lock_old_irql;
    const char *lock_routine; /* who took it, for a recursion report */
    KDPC dpc; /* FxInterrupt's m_Dpc: WdfInterruptQueueDpcForIsr inserts it (model/kernel/dpc.c) */
    /* The WdfInterruptSynchronize in progress (under the lock: one at a
     * time): its thread + 1 (0: none), its callback and the driver routine
     * that called it, which keys an access the callback makes
     * (wdf_interrupt_key_origin). */
    int sync_fiber;
    PFN_WDF_INTERRUPT_SYNCHRONIZE sync_cb;
    tdf_teardown_t disconnected; /* the power-down's disconnect, until the next connect */
    const struct tdf_image *sync_img;
    const void *sync_fn;
} wdf_interrupt_t;

static wdf_interrupt_t *g_interrupts[MAX_INTERRUPTS];
static unsigned g_ninterrupts;

void wdf_interrupts_reset(void) { g_ninterrupts = 0; /* records are model pool, freed by pool_reset */ }

static wdf_interrupt_t *interrupt_checked(WDFINTERRUPT h, const char *routine)
{
    return (wdf_interrupt_t *)wdf_object_checked((WDFOBJECT)h, OBJ_INTERRUPT, routine);
}

/* ---- the interrupt spin lock ------------------------------------------------------ */
/* Taken at the caller's IRQL (another CPU spinning is modelled as a wait, as
 * model/kernel/sync.c does for spin locks), then the IRQL is raised to DIRQL. */
static void lock_acquire(wdf_interrupt_t *it, const char *routine)
{
    int me = sched_current() + 1;
    if (it->lock_owner == me) { /* as a recursive KeAcquireSpinLock (model/kernel/spinlock.c) */
        char here[96];
        image_current_frame(here, sizeof here);
        tdf_fail(TDF_CLASS_DEADLOCK, 0, 0, "SPIN_LOCK_RECURSION", here, it->lock_routine,
                 "%s in %s on the interrupt spin lock of %s, which this thread already holds (taken by %s): the "
                 "processor spins on a lock only it can release, forever",
                 routine, here, it->device->name, it->lock_routine);
    }
    if (it->lock_owner)
        ke_lock_waits(&it->lock_owner, routine);
    while (it->lock_owner)
        ke_block(&it->lock_owner, "interrupt spin lock");
    it->lock_owner = me;
    ke_lock_held(&it->lock_owner, "interrupt spin lock", it->device->name);
    it->lock_routine = routine;
    feedback_pair(it, FB_LOCK_ACQUIRE);
    TDF_HB_ACQUIRE(it);
    it->lock_old_irql = ke_irql();
    ke_set_irql(it->dirql);
}

static void lock_release(wdf_interrupt_t *it)
{
    TDF_HB_RELEASE(it);
    feedback_pair(it, FB_LOCK_RELEASE);
    KIRQL old = it->lock_old_irql;
    ke_lock_dropped(&it->lock_owner);
    it->lock_owner = 0;
    ke_set_irql(old);
    sched_wake(&it->lock_owner);
}

/* ---- the interrupt's DPC ------------------------------------------------------------ */
/* The KDPC's routine (FxInterrupt::_InterruptDpcThunk), on a DPC processor
 * at DISPATCH_LEVEL (KERNEL-SEMANTICS §8). */
static VOID interrupt_dpc_thunk(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    wdf_interrupt_t *it = DeferredContext;
    (void)Dpc, (void)SystemArgument1, (void)SystemArgument2;
    /* AutomaticSerialization: the DPC runs under the device's callback lock
     * when its synchronization scope is Device (KERNEL-SEMANTICS §14); with
     * the default scope (none) KMDF takes nothing. */
    wdf_callback_lock_t *serial =
        it->cfg.AutomaticSerialization ? wdf_sync_scope_lock_for_parent(&it->device->obj) : NULL;
    if (serial)
        wdf_callback_lock_acquire(serial, "EvtInterruptDpc");
    SCHED_TRACE1("%s: EvtInterruptDpc", it->device->name);
    it->cfg.EvtInterruptDpc((WDFINTERRUPT)it, (WDFOBJECT)it->device);
    if (serial)
        wdf_callback_lock_release(serial, "EvtInterruptDpc");
}

/* FxInterrupt::FlushQueuedDpcs is KeFlushQueuedDpcs: every DPC queued or
 * running at the call has returned afterwards -- the interrupt's own, and
 * any KDPC the driver queued from its ISR. PASSIVE_LEVEL (the power-down and
 * the deletion run there). */
static void dpc_flush(wdf_interrupt_t *it)
{
    (void)it;
    KeFlushQueuedDpcs();
}

/* ---- creation ------------------------------------------------------------------------ */
NTSTATUS WdfInterruptCreate(WDFDEVICE Device, PWDF_INTERRUPT_CONFIG Configuration, PWDF_OBJECT_ATTRIBUTES Attributes,
                            WDFINTERRUPT *Interrupt)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfInterruptCreate");
    const WDF_INTERRUPT_CONFIG *c = Configuration;
    if (c->SpinLock)
        TdfUnmodelled("WdfInterruptCreate", "a driver-supplied SpinLock (only the framework's interrupt lock)");
    if (c->PassiveHandling || c->WaitLock)
        TdfUnmodelled("WdfInterruptCreate", "passive-level interrupt handling");
    if (c->EvtInterruptWorkItem)
        TdfUnmodelled("WdfInterruptCreate", "EvtInterruptWorkItem");
    if (c->CanWakeDevice)
        TdfUnmodelled("WdfInterruptCreate", "wake interrupts (CanWakeDevice)");
    if (Attributes && Attributes->ParentObject)
        TdfUnmodelled("WdfInterruptCreate", "a ParentObject (the device is the parent)");
    /* FxInterrupt creation: in EvtDriverDeviceAdd (PnP state Init), or in
     * EvtDevicePrepareHardware with the CM resources given explicitly. */
    int in_add_device = d->pnp == PNP_ADDED && d->power == WdfPowerDeviceD3Final && d->smio == SMIO_NONE;
    int in_prepare_hardware = d->power == WdfPowerDeviceD0 && !d->hw_prepared &&
                              (d->pnp == PNP_ADDED || d->pnp == PNP_STOPPED);
    if (in_prepare_hardware)
        TdfUnmodelled("WdfInterruptCreate", "creation in EvtDevicePrepareHardware (only in EvtDriverDeviceAdd)");
    if (!in_add_device) {
        SCHED_TRACE1("WdfInterruptCreate on %s outside EvtDriverDeviceAdd: STATUS_INVALID_DEVICE_STATE", d->name);
        return STATUS_INVALID_DEVICE_STATE;
    }
    if (c->InterruptRaw || c->InterruptTranslated)
        return STATUS_INVALID_PARAMETER; /* KMDF: no CM resources in EvtDriverDeviceAdd */
    if (!c->EvtInterruptIsr)
        return STATUS_INVALID_PARAMETER;
    if (g_ninterrupts >= MAX_INTERRUPTS) {
        TDF_LIMIT(MAX_INTERRUPTS, "model/wdf/interrupt.c", "more WDFINTERRUPTs in one run, on %s", d->name);
        return STATUS_INSUFFICIENT_RESOURCES; /* only from main, which stops the run */
    }
    wdf_interrupt_t *it = pool_alloc_model(sizeof *it);
    wdf_object_init(&it->obj, OBJ_INTERRUPT, Attributes);
    it->device = d;
    it->cfg = *c;
    it->sync_fiber = 0;
    tdf_teardown_clear(&it->disconnected);
    ke_set_key_origin_hook(wdf_key_origin);
    KeInitializeDpc(&it->dpc, interrupt_dpc_thunk, it); /* owned by the calling driver's image */
    for (unsigned i = 0; i < g_ninterrupts; i++)
        if (g_interrupts[i]->device == d)
            it->index++;
    g_interrupts[g_ninterrupts++] = it;
    *Interrupt = (WDFINTERRUPT)it;
    SCHED_TRACE2("WdfInterruptCreate %s interrupt %lu", d->name, (unsigned long)it->index);
    return STATUS_SUCCESS;
}

/* The index-th CmResourceTypeInterrupt descriptor of the device's translated
 * resources (FxPkgPnp assigns them to the interrupts in creation order). */
static ULONG resource_vector(const wdf_interrupt_t *it, KIRQL *level)
{
    const wdf_reslist_t *r = it->device->resources;
    unsigned seen = 0;
    for (ULONG i = 0; r && i < r->count; i++) {
        if (r->desc[i].Type != CmResourceTypeInterrupt)
            continue;
        if (seen++ == it->index) {
            *level = (KIRQL)r->desc[i].u.Interrupt.Level;
            return r->desc[i].u.Interrupt.Vector;
        }
    }
    return 0;
}

/* ---- power sequences ------------------------------------------------------------------- */
static void disconnect_one(wdf_interrupt_t *it)
{
    if (!it->connected)
        return;
    wdf_device_t *d = it->device;
    if (it->enabled) {
        if (it->cfg.EvtInterruptDisable) {
            SCHED_TRACE1("%s: EvtInterruptDisable", d->name);
            lock_acquire(it, "EvtInterruptDisable");
            /* A failure is traced and ignored: KMDF goes on disconnecting. */
            NTSTATUS st = it->cfg.EvtInterruptDisable((WDFINTERRUPT)it, (WDFDEVICE)d);
            it->enabled = 0; /* under the lock: an ISR waiting for it sees the line masked */
            lock_release(it);
            if (!NT_SUCCESS(st))
                SCHED_TRACE2("%s: EvtInterruptDisable failed 0x%lx (ignored)", d->name, (unsigned long)(uint32_t)st);
        }
        it->enabled = 0;
    }
    dpc_flush(it); /* nobody is still synchronizing with the interrupt after this */
    it->connected = 0;
    it->vector = 0;
    SCHED_TRACE2("%s: interrupt %lu disconnected", d->name, (unsigned long)it->index);
    tdf_teardown_note_fn(&it->disconnected, "interrupt disconnected", NULL, NULL);
}

NTSTATUS wdf_interrupts_connect(wdf_device_t *d)
{
    for (unsigned i = 0; i < g_ninterrupts; i++) {
        wdf_interrupt_t *it = g_interrupts[i];
        if (it->device != d || it->obj.deleted || it->connected)
            continue;
        KIRQL level = TDF_INTERRUPT_DIRQL;
        it->vector = resource_vector(it, &level);
        if (it->vector == 0)
            continue; /* no interrupt resource: KMDF does not connect it */
        it->dirql = level;
        it->connected = 1;
        tdf_teardown_clear(&it->disconnected);
        SCHED_TRACE2("%s: interrupt %lu connected", d->name, (unsigned long)it->index);
        NTSTATUS st = STATUS_SUCCESS;
        if (it->cfg.EvtInterruptEnable) {
            SCHED_TRACE1("%s: EvtInterruptEnable", d->name);
            lock_acquire(it, "EvtInterruptEnable");
            st = it->cfg.EvtInterruptEnable((WDFINTERRUPT)it, (WDFDEVICE)d);
            if (NT_SUCCESS(st))
                it->enabled = 1;
            lock_release(it);
        } else {
            it->enabled = 1;
        }
        if (!NT_SUCCESS(st)) {
            /* FxPkgPnp::PowerConnectInterruptFailed: every interrupt of the
             * device is disconnected again, and the power-up fails. */
            SCHED_TRACE2("%s: EvtInterruptEnable failed 0x%lx", d->name, (unsigned long)(uint32_t)st);
            wdf_interrupts_disconnect(d);
            return st;
        }
    }
    return STATUS_SUCCESS;
}

void wdf_interrupts_disconnect(wdf_device_t *d)
{
    for (unsigned i = g_ninterrupts; i-- > 0;) /* reverse connection order, as NotifyResourceObjectsDx */
        if (g_interrupts[i]->device == d)
            disconnect_one(g_interrupts[i]);
}

void wdf_interrupts_delete(wdf_device_t *d)
{
    for (unsigned i = 0; i < g_ninterrupts; i++) {
        wdf_interrupt_t *it = g_interrupts[i];
        if (it->device != d || it->obj.deleted)
            continue;
        if (ke_dpc_busy(&it->dpc)) /* FxInterrupt::Dispose -> FlushAndRundown (flushed at the disconnect already) */
            dpc_flush(it);
        wdf_object_delete(&it->obj);
    }
}

/* ---- the line ----------------------------------------------------------------------------- */
static void isr_main(void *p)
{
    wdf_interrupt_t *it = p;
    wdf_device_t *d = it->device;
    lock_acquire(it, "interrupt dispatch"); /* the kernel's dispatch takes the interrupt lock */
    if (it->connected && it->enabled) {
        SCHED_TRACE1("%s: EvtInterruptIsr", d->name);
        BOOLEAN mine = it->cfg.EvtInterruptIsr((WDFINTERRUPT)it, 0);
        SCHED_TRACE2("%s: EvtInterruptIsr returned %s", d->name, mine ? "TRUE" : "FALSE");
    } else {
        SCHED_TRACE1("%s: line raised, but its interrupt is disabled: no ISR", d->name);
    }
    lock_release(it);
}

int wdf_interrupt_raise(wdf_device_t *d)
{
    if (!d)
        return 0;
    for (unsigned i = 0; i < g_ninterrupts; i++) {
        wdf_interrupt_t *it = g_interrupts[i];
        if (it->device != d || !it->connected)
            continue;
        if (sched_spawn("interrupt", it->obj.image ? it->obj.image->name : "?", isr_main, it) == SCHED_NO_FIBER) {
            TDF_LIMIT(SCHED_MAX_FIBERS, "model/sched/sched.h", "more model threads, raising the line of %s", d->name);
            return 0;
        }
        SCHED_TRACE2("%s raises its interrupt line (vector 0x%lx)", d->name, (unsigned long)it->vector);
        return 1;
    }
    return 0;
}

/* ---- driver API -------------------------------------------------------------------------- */
BOOLEAN WdfInterruptQueueDpcForIsr(WDFINTERRUPT Interrupt)
{
    ke_yield();
    wdf_interrupt_t *it = interrupt_checked(Interrupt, "WdfInterruptQueueDpcForIsr");
    if (!it->cfg.EvtInterruptDpc)
        TDF_MISUSE("WdfInterruptQueueDpcForIsr", "WdfInterruptQueueDpcForIsr on an interrupt without EvtInterruptDpc");
    BOOLEAN queued = ke_dpc_insert(&it->dpc, NULL, NULL); /* FALSE: already queued */
    SCHED_TRACE2("WdfInterruptQueueDpcForIsr %s -> %s", it->device->name, queued ? "queued" : "already queued");
    return queued;
}

/* KMDF synchronizes through the KINTERRUPT (KeSynchronizeExecution /
 * KeAcquireInterruptSpinLock); a disconnected interrupt has none
 * (FxInterrupt::AcquireLock: "Can't synchronize when WDFINTERRUPT isn't
 * connected", a verifier break, then no lock at all). */
static void require_connected(wdf_interrupt_t *it, const char *routine)
{
    if (it->connected)
        return;
    wdf_device_t *d = it->device;
    const void *fn;
    (void)image_current_fn(&fn);
    /* Disconnected by a power-down, and not called from the device's own
     * power-up callbacks (synchronizing in EvtDeviceD0Entry, before KMDF
     * connects, is its own misuse, keyed explicitly): the call is a use of
     * the device's hardware since its power-down, the same race as a
     * register access there (docs/REPORTS.md "Signatures": one key with the
     * callback's register read when the call came just before the
     * disconnect; the power-up's D0Entry running does not end it, only the
     * connect does). The class stays MISUSE. */
    const tdf_teardown_t *down = d->down.event ? &d->down : it->disconnected.event ? &it->disconnected : NULL;
    if (down && fn != (const void *)d->cb.EvtDeviceD0Entry && fn != (const void *)d->cb.EvtDevicePrepareHardware) {
        tdf_dead_t dead = {TDF_OBJ_REGISTERS, d->role, down, "interrupt of %s (disconnected by its power-down)",
                           {(uintptr_t)d->name}, .key_teardown = "power-down"};
        tdf_fail_dead(&dead, routine, TDF_CLASS_MISUSE, 0, 0, routine, NULL, NULL,
                      "%s on the WDFINTERRUPT of %s while it is not connected (disconnected by its power-down, "
                      "connected only from after EvtDeviceD0Entry to before EvtDeviceD0Exit): no interrupt lock "
                      "to take",
                      routine, d->name);
        return;
    }
    tdf_fail(TDF_CLASS_MISUSE, 0, 0, routine, NULL, NULL,
             "%s on the WDFINTERRUPT of %s while it is not connected (connected only from after "
             "EvtDeviceD0Entry to before EvtDeviceD0Exit): no interrupt lock to take",
             routine, d->name);
}

int wdf_interrupt_key_origin(int fiber, const char *frame, char *out, size_t size)
{
    for (unsigned i = 0; i < g_ninterrupts; i++) {
        const wdf_interrupt_t *it = g_interrupts[i];
        if (it->sync_fiber != fiber + 1 || !it->sync_img || !it->sync_fn)
            continue;
        char cb[96];
        snprintf(cb, sizeof cb, "%s!%s", it->sync_img->name, symbol_name((const void *)it->sync_cb));
        if (strcmp(cb, frame) != 0)
            return 0; /* in a routine the callback called: keyed as it is */
        snprintf(out, size, "%s!%s", it->sync_img->name, symbol_name(it->sync_fn));
        return 1;
    }
    return 0;
}

BOOLEAN WdfInterruptSynchronize(WDFINTERRUPT Interrupt, PFN_WDF_INTERRUPT_SYNCHRONIZE Callback, WDFCONTEXT Context)
{
    ke_yield();
    wdf_interrupt_t *it = interrupt_checked(Interrupt, "WdfInterruptSynchronize");
    if (ke_irql() > DISPATCH_LEVEL && it->lock_owner != sched_current() + 1)
        TDF_MISUSE("WdfInterruptSynchronize", "WdfInterruptSynchronize at IRQL %u (above DISPATCH_LEVEL)",
                   (unsigned)ke_irql());
    require_connected(it, "WdfInterruptSynchronize");
    lock_acquire(it, "WdfInterruptSynchronize");
    SCHED_TRACE1("%s: EvtInterruptSynchronize", it->device->name);
    /* The callback runs as part of its caller's call: an access it makes is
     * keyed by the calling routine (docs/REPORTS.md "Signatures"). */
    it->sync_img = image_current_fn(&it->sync_fn);
    it->sync_cb = Callback;
    it->sync_fiber = sched_current() + 1;
    BOOLEAN r = Callback((WDFINTERRUPT)it, Context);
    it->sync_fiber = 0;
    lock_release(it);
    ke_yield(); /* another processor waiting for the lock runs at once */
    return r;
}

VOID WdfInterruptAcquireLock(WDFINTERRUPT Interrupt)
{
    ke_yield();
    wdf_interrupt_t *it = interrupt_checked(Interrupt, "WdfInterruptAcquireLock");
    if (ke_irql() > it->dirql && it->dirql != 0)
        TDF_MISUSE("WdfInterruptAcquireLock", "WdfInterruptAcquireLock at IRQL %u (above the DIRQL %u)",
                   (unsigned)ke_irql(), (unsigned)it->dirql);
    require_connected(it, "WdfInterruptAcquireLock");
    lock_acquire(it, "WdfInterruptAcquireLock");
    SCHED_TRACE1("WdfInterruptAcquireLock %s", it->device->name);
}

VOID WdfInterruptReleaseLock(WDFINTERRUPT Interrupt)
{
    wdf_interrupt_t *it = interrupt_checked(Interrupt, "WdfInterruptReleaseLock");
    if (it->lock_owner != sched_current() + 1)
        TDF_MISUSE("WdfInterruptReleaseLock", "WdfInterruptReleaseLock of %s's interrupt lock this thread does not hold",
                   it->device->name);
    SCHED_TRACE1("WdfInterruptReleaseLock %s", it->device->name);
    lock_release(it);
    ke_yield();
}

WDFDEVICE WdfInterruptGetDevice(WDFINTERRUPT Interrupt)
{
    /* Not a yield point: KMDF returns a field of the object. */
    return (WDFDEVICE)interrupt_checked(Interrupt, "WdfInterruptGetDevice")->device;
}

/* ---- unload ------------------------------------------------------------------------------ */
void wdf_interrupts_unload_check(struct tdf_image *img)
{
    for (unsigned i = 0; i < g_ninterrupts; i++) {
        wdf_interrupt_t *it = g_interrupts[i];
        if (it->obj.image != img || !it->connected)
            continue;
        char where[64];
        snprintf(where, sizeof where, "%s!unload", img->name);
        tdf_fail(TDF_CLASS_BUGCHECK, 0xCE, 0, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where,
                 "WDFINTERRUPT",
                 "driver '%s' unloads with the WDFINTERRUPT of %s still connected: its line would call "
                 "EvtInterruptIsr %s in the unloaded image",
                 img->name, it->device->name, symbol_name((const void *)it->cfg.EvtInterruptIsr));
        return;
    }
}
