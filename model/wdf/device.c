/*
 * WDFDEVICE creation and the per-device callback sequences of KMDF
 * (KERNEL-SEMANTICS §4). The PnP manager decides which sequence runs when and
 * in which order across the stack; this file decides what one device does.
 *
 * Power state meaning: `power` is whether the hardware is powered, so that the
 * register oracle can judge an access. It is D0 from the start IRP on
 * (PrepareHardware runs in the uninitialized D0), stays D0 throughout
 * D0Exit (the driver may save state there) and becomes the target state only
 * once D0Exit returns.
 */
#include "wdf_internal.h"
#include "fileobject.h"
#include "childlist.h"
#include "interrupt.h"
#include "../kernel/tsan_sync.h"
#include "../kernel/names.h"

#include <stdio.h>
#include <string.h>

static const char *const k_power_names[] = {"Invalid", "D0", "D1", "D2", "D3", "D3Final", "PrepareForHibernation", "?"};
static const char *power_name(WDF_POWER_DEVICE_STATE s)
{
    return k_power_names[s < WdfPowerDeviceMaximum ? s : WdfPowerDeviceMaximum];
}

/* Every device object of the run, for lookups by name (open by symbolic link). */
#define MAX_DEVICES 64
static wdf_device_t *g_devices[MAX_DEVICES];
static unsigned g_ndevices;

wdf_device_t *wdf_device_by_symbolic_link(PCUNICODE_STRING name)
{
    size_t chars = name->Length / sizeof(WCHAR);
    for (unsigned i = 0; i < g_ndevices; i++) {
        wdf_device_t *d = g_devices[i];
        if (d->symbolic_link && (d->pnp == PNP_STARTED || d->pnp == PNP_STOPPED) && !d->obj.deleted &&
            tdf_wide_equal_counted(d->symbolic_link, name->Buffer, chars))
            return d;
    }
    return NULL;
}

/* p in the typed context of framework object o (a queue's, a request's) of
 * device d: the owner is that object, named by its device ("child0/FDO
 * default queue context QUEUE_CONTEXT+0x8") and keyed by the device's role
 * and the object's kind ("child/FDO/queue", into role_buf: the signature
 * names no instance). */
static int object_owner(const wdf_device_t *d, const wdf_object_t *o, const char *object, const char *kind,
                        char *role_buf, size_t role_size, const void *p, tdf_addr_owner_t *out)
{
    const uint8_t *c = o->context;
    if (!c || (const uint8_t *)p < c || (const uint8_t *)p >= c + o->context_size)
        return 0;
    snprintf(role_buf, role_size, "%s/%s", d->role, kind);
    out->ident = o;
    out->device = d->name;
    out->role = role_buf;
    out->driver = d->driver->image->name;
    out->object = object;
    out->container = o->context_name ? o->context_name : "WDF";
    out->offset = (unsigned long)((const uint8_t *)p - c);
    return 1;
}

/* Which device's context holds p (the trace's rundown owners, rundown.c): a
 * device's typed context, or a WDM device's extension; else the context of
 * one of its queues, or of a request in one of them (queued or dispatched).
 * A destroyed object's context is gone (NULL) and matches nothing; a request
 * the driver created and holds outside its queues is not found (the owner is
 * then the driver that first used the rundown). Failure and traced runs only. */
static int addr_owner(const void *p, tdf_addr_owner_t *out)
{
    for (unsigned i = 0; i < g_ndevices; i++) {
        const wdf_device_t *d = g_devices[i];
        const uint8_t *c = d->obj.context ? d->obj.context : d->wdm.DeviceExtension;
        if (!c || (const uint8_t *)p < c || (const uint8_t *)p >= c + d->obj.context_size)
            continue;
        out->ident = d;
        out->device = d->name;
        out->role = d->role;
        out->driver = d->driver->image->name;
        out->object = NULL;
        out->container = d->obj.context && d->obj.context_name ? d->obj.context_name : "device extension";
        out->offset = (unsigned long)((const uint8_t *)p - c);
        return 1;
    }
    for (unsigned i = 0; i < g_ndevices; i++) {
        wdf_device_t *d = g_devices[i];
        for (unsigned k = 0; k < d->nqueues && k < MAX_QUEUES; k++) {
            wdf_queue_t *q = d->queues[k];
            if (!q)
                continue;
            if (object_owner(d, &q->obj, q == d->default_queue ? "default queue" : "queue", "queue",
                             q->context_role, sizeof q->context_role, p, out))
                return 1;
            for (wdf_request_t *r = q->head; r; r = r->next)
                if (object_owner(d, &r->obj, "request", "request", r->context_role, sizeof r->context_role, p, out))
                    return 1;
            for (unsigned j = 0; j < q->nowned; j++)
                if (q->owned[j] && object_owner(d, &q->owned[j]->obj, "request", "request", q->owned[j]->context_role,
                                                sizeof q->owned[j]->context_role, p, out))
                    return 1;
        }
    }
    return 0;
}

/* ---- creation --------------------------------------------------------------- */
VOID WdfDeviceInitSetPnpPowerEventCallbacks(PWDFDEVICE_INIT DeviceInit, PWDF_PNPPOWER_EVENT_CALLBACKS cb)
{
    DeviceInit->cb = *cb;
}

VOID WdfFdoInitSetFilter(PWDFDEVICE_INIT DeviceInit)
{
    (void)DeviceInit;
    TdfUnmodelled("WdfFdoInitSetFilter", "filter drivers are not modelled yet (one FDO per stack)");
}

PWDFDEVICE_INIT WdfPdoInitAllocate(WDFDEVICE ParentDevice)
{
    ke_yield();
    wdf_device_t *parent = wdf_device_checked(ParentDevice, "WdfPdoInitAllocate");
    PWDFDEVICE_INIT init = pool_alloc_model_kept(sizeof *init); /* WdfDeviceInitFree only marks it */
    init->is_pdo = 1;
    init->parent = parent;
    init->driver = parent->driver;
    return init;
}

NTSTATUS WdfPdoInitAssignDeviceID(PWDFDEVICE_INIT DeviceInit, PCUNICODE_STRING DeviceID)
{
    size_t chars = DeviceID->Length / sizeof(WCHAR);
    WCHAR *copy = pool_alloc_model((chars + 1) * sizeof(WCHAR));
    if (chars) /* an empty string may have no buffer */
        memcpy(copy, DeviceID->Buffer, chars * sizeof(WCHAR));
    DeviceInit->device_id = copy;
    return STATUS_SUCCESS;
}

VOID WdfDeviceInitFree(PWDFDEVICE_INIT DeviceInit) { DeviceInit->consumed = 1; }

NTSTATUS WdfDeviceCreate(PWDFDEVICE_INIT *DeviceInit, PWDF_OBJECT_ATTRIBUTES DeviceAttributes, WDFDEVICE *Device)
{
    ke_yield();
    PWDFDEVICE_INIT init = *DeviceInit;
    if (!init || init->consumed)
        TdfUnmodelled("WdfDeviceCreate", "DeviceInit already used or freed");
    wdf_device_t *d = pool_alloc_model_kept(sizeof *d); /* stays after deletion: handles are checked against it */
    wdf_object_init(&d->obj, OBJ_DEVICE, DeviceAttributes);
    d->is_pdo = init->is_pdo;
    d->driver = init->driver ? init->driver : wdf_current_driver();
    d->obj.image = d->driver->image;
    d->node = init->node;
    /* FDO: attached on top of its PDO at creation (KMDF's FxDevice attaches
     * in WdfDeviceCreate), so its local I/O target exists from AddDevice on. */
    d->lower = init->lower;
    d->parent_fdo = init->parent;
    d->cb = init->cb;
    d->device_id = init->device_id;
    d->file_cfg = init->file_cfg;
    d->preprocess = init->preprocess;
    d->power = WdfPowerDeviceD3Final;
    wdf_sync_scope_init_device(d); /* KERNEL-SEMANTICS §14 */
    pp_device_created(d, init->pp_cb_set ? &init->pp_cb : NULL);
    name_join(d->name, sizeof d->name, d->is_pdo ? "PDO" : "FDO", "");
    wdm_device_init_kmdf(d); /* the DEVICE_OBJECT WdfDeviceWdmGetDeviceObject returns */
    if (!d->is_pdo && init->node)
        wdm_device_attach_kmdf(d); /* onto its PDO's stack (a control device has none) */
    if (d->preprocess) /* FxDevice's create: a location of the device's own for the callback's completion routine */
        d->wdm.StackSize++;
    name_join(d->role, sizeof d->role, d->driver->image->name, d->is_pdo ? "/PDO" : "/FDO");
    d->driver->devices++;
    wdf_childlist_device_created(d, init); /* default child list, PDO IDs and callbacks */
    init->consumed = 1;
    init->created = d;
    d->settings = init->settings;
    ke_set_owner_hook(addr_owner);
    if (g_ndevices < MAX_DEVICES)
        g_devices[g_ndevices++] = d;
    else /* a device missing from the table cannot be opened by name */
        TDF_LIMIT(MAX_DEVICES, "model/wdf/device.c", "more device objects created in one run");
    *DeviceInit = NULL; /* as KMDF: the init structure belongs to the framework now */
    *Device = (WDFDEVICE)d;
    SCHED_TRACE2("WdfDeviceCreate %s (%s)", d->is_pdo ? "PDO" : "FDO", d->driver->image->name);
    return STATUS_SUCCESS;
}

NTSTATUS WdfFdoAddStaticChild(WDFDEVICE Fdo, WDFDEVICE Child)
{
    ke_yield();
    wdf_device_t *fdo = wdf_device_checked(Fdo, "WdfFdoAddStaticChild");
    wdf_device_t *child = wdf_device_checked(Child, "WdfFdoAddStaticChild");
    wdf_static_children_compact(fdo);
    if (fdo->static_child_count >= MAX_STATIC_CHILDREN) {
        /* KMDF would succeed: a failure status here would be the model's lie. */
        TDF_LIMIT(MAX_STATIC_CHILDREN, "model/wdf/wdf_internal.h", "%s adds more static children", fdo->name);
        return STATUS_INSUFFICIENT_RESOURCES; /* only from main, which stops the run */
    }
    fdo->static_children[fdo->static_child_count++] = child;
    /* A child added once the bus runs is reported by a
     * relations query the framework asks for (FxChildList::Add processes the
     * change and invalidates the relations), unless an iteration holds the
     * list: then at its unlock (pdo.c). */
    if (fdo->pnp == PNP_STARTED && fdo->static_iterations == 0 && !fdo->obj.deleted)
        pnp_invalidate_bus_relations(fdo); /* before: the start's own query reports it */
    return STATUS_SUCCESS;
}

WDFDEVICE WdfPdoGetParent(WDFDEVICE Device)
{
    wdf_device_t *d = wdf_device_checked(Device, "WdfPdoGetParent");
    return (WDFDEVICE)d->parent_fdo;
}

/* ---- hardware -------------------------------------------------------------------- */
/* The down phase's first step, while the hardware is unusable. */
static const tdf_teardown_t *hw_down(tdf_hw_block_t *block, const char **role)
{
    wdf_device_t *d = (wdf_device_t *)block;
    *role = d->role;
    return d->power != WdfPowerDeviceD0 || !d->hw_prepared ? &d->down : NULL;
}

static void note_down(wdf_device_t *d, const char *event, const void *fn)
{
    if (!d->down.event)
        tdf_teardown_note_fn(&d->down, event, d->driver->image, fn);
}

static const char *hw_check(tdf_hw_block_t *block, char *detail, size_t size)
{
    wdf_device_t *d = (wdf_device_t *)block;
    if (!d->hw_prepared) {
        snprintf(detail, size, "%s released its hardware at step %lu (ReleaseHardware)", d->name,
                 (unsigned long)d->release_step);
        return "AFTER_RELEASE_HARDWARE";
    }
    if (d->power != WdfPowerDeviceD0 && d->pp.power_failed) {
        snprintf(detail, size, "%s is in %s (its power-up failed at step %lu)", d->name, power_name(d->power),
                 (unsigned long)d->pp.fail_step);
        return "NOT_IN_D0";
    }
    if (d->power != WdfPowerDeviceD0) {
        snprintf(detail, size, "%s is in %s (D0Exit returned at step %lu)", d->name, power_name(d->power),
                 (unsigned long)d->d0exit_step);
        return "NOT_IN_D0";
    }
    return NULL;
}

void wdf_device_register_hardware(wdf_device_t *d, ULONGLONG phys)
{
    d->phys = phys;
    wdf_reslist_t *r = pool_alloc_model_kept(sizeof *r); /* the device's, as long as the device */
    r->obj.kind = OBJ_RESLIST;
    r->obj.refs = 1;
    r->count = 2;
    r->desc[0].Type = CmResourceTypeMemory;
    r->desc[0].ShareDisposition = CmResourceShareDeviceExclusive;
    r->desc[0].u.Memory.Start.QuadPart = (LONGLONG)phys;
    r->desc[0].u.Memory.Length = 0x1000;
    /* One line-based interrupt per device with registers, after the memory
     * range (drivers find the registers at index 0); its vector is made from
     * the physical address, so it is the same in every run. */
    r->desc[1].Type = CmResourceTypeInterrupt;
    r->desc[1].ShareDisposition = CmResourceShareDeviceExclusive;
    r->desc[1].Flags = CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE;
    r->desc[1].u.Interrupt.Level = TDF_INTERRUPT_DIRQL;
    r->desc[1].u.Interrupt.Vector = 0x50u + (ULONG)((phys >> 12) & 0x7f);
    r->desc[1].u.Interrupt.Affinity = 1;
    d->resources = r;
    hw_register_block((tdf_hw_block_t *)d, phys, 0x1000, hw_check, d->name);
    hw_set_down_hook(hw_down);
}

ULONG WdfCmResourceListGetCount(WDFCMRESLIST List)
{
    wdf_reslist_t *r = (wdf_reslist_t *)List;
    return r ? r->count : 0;
}

PCM_PARTIAL_RESOURCE_DESCRIPTOR WdfCmResourceListGetDescriptor(WDFCMRESLIST List, ULONG Index)
{
    wdf_reslist_t *r = (wdf_reslist_t *)List;
    return r && Index < r->count ? &r->desc[Index] : NULL;
}

/* ---- sequences ------------------------------------------------------------------- */
#define CALLBACK_STATUS(d, name, ...) ((d)->cb.name ? (d)->cb.name(__VA_ARGS__) : STATUS_SUCCESS)
#define CALLBACK_VOID(d, name, ...)  \
    do {                             \
        if ((d)->cb.name)            \
            (d)->cb.name(__VA_ARGS__); \
    } while (0)

/* The device's lifecycle tuple, for the state-transition feedback. */
static uint32_t lifecycle_state(const wdf_device_t *d)
{
    return (uint32_t)d->driver->image->state | (uint32_t)d->pnp << 2 | (uint32_t)d->power << 5 |
           (uint32_t)d->smio << 8 | (uint32_t)d->io_held << 11 | (uint32_t)d->hw_prepared << 12;
}

/* Every callback the framework makes is a step of the lifecycle: the
 * transition from the state before the previous callback to now counts. */
static void trace_cb(wdf_device_t *d, const char *what)
{
    /* Without feedback (the standalone runner) nobody reads the tuple: its
     * loads, spread over the device, were ~3% of an untraced exec. The
     * setting holds for the whole process, so feedback_state is never
     * stale when it counts. */
    if (tdf_feedback_on) {
        uint32_t now = lifecycle_state(d);
        feedback_transition(d->is_pdo ? 1u : 2u, d->feedback_state, now);
        d->feedback_state = now;
    }
    ke_device_callback(d, d->driver->image, what); /* the deadlock report: whose callback a stuck thread is in */
    SCHED_TRACE2("%s: %s", d->name, what);
}

static void release_hardware(wdf_device_t *d);
static void flush(wdf_device_t *d);

/* A start or power transition failed (KERNEL-SEMANTICS §13 "Failure paths"):
 * the PnP state machine goes FailedOwnHardware (EvtDeviceReleaseHardware)
 * -> Failed (PnpCleanupForRemove: purge the power-managed queues,
 * SelfManagedIoFlush) and waits for its REMOVE, which the PnP manager sends
 * (pnp_manager.c remove_failed_devices) and which ends with
 * SelfManagedIoCleanup and the deletion. The device stays out of D0. */
static void device_failed(wdf_device_t *d, const char *what, NTSTATUS st)
{
    SCHED_TRACE3("%s: %s failed 0x%lx: the framework tears the device down", d->name, what,
                 (unsigned long)(uint32_t)st);
    d->pp.power_failed = 1;
    d->pp.fail_step = sched_steps();
    d->pp.in_d0 = 0;
    d->pnp = PNP_FAILED;
    release_hardware(d);
    wdf_device_purge_queues(d, 1);
    flush(d);
    pp_power_state_changed(d); /* WdfDeviceStopIdle(Wait) waiters fail */
}

NTSTATUS wdf_device_power_up(wdf_device_t *d, WDF_POWER_DEVICE_STATE previous)
{
    if (d->wdm_driven) /* a WDM stack: IRPs instead of callbacks (wdm_device.c) */
        return wdm_power_up(d);
    if (d->pp.power_failed)
        return STATUS_POWER_STATE_INVALID; /* waits for its REMOVE (device_failed) */
    if (d->power == WdfPowerDeviceD0 && d->smio == SMIO_RUNNING)
        return STATUS_SUCCESS;
    d->power = WdfPowerDeviceD0; /* powered before D0Entry: it programs the hardware */
    tdf_teardown_clear(&d->down);
    trace_cb(d, "EvtDeviceD0Entry");
    NTSTATUS st = CALLBACK_STATUS(d, EvtDeviceD0Entry, (WDFDEVICE)d, previous);
    if (!NT_SUCCESS(st)) {
        /* powerstatemachine.cpp PowerD0Starting / PowerWaking: a failing
         * EvtDeviceD0Entry gets no EvtDeviceD0Exit (only a framework
         * extension's failure after the driver's success does). */
        d->power = previous;
        device_failed(d, "EvtDeviceD0Entry", st);
        return st;
    }
    /* KERNEL-SEMANTICS §10: interrupts connected and enabled, then
     * PostInterruptsEnabled, before the queues restart. Neither yields nor
     * traces for a device without interrupts or without the callback. */
    const char *failed = "EvtInterruptEnable";
    st = wdf_interrupts_connect(d);
    if (NT_SUCCESS(st) && d->cb.EvtDeviceD0EntryPostInterruptsEnabled) {
        trace_cb(d, "EvtDeviceD0EntryPostInterruptsEnabled");
        st = d->cb.EvtDeviceD0EntryPostInterruptsEnabled((WDFDEVICE)d, previous);
        failed = "EvtDeviceD0EntryPostInterruptsEnabled";
    }
    if (!NT_SUCCESS(st)) {
        /* FxPkgPnp::PowerConnectInterruptFailed: disconnect every interrupt,
         * EvtDeviceD0Exit(D3Final), the device in D3Final; the power-up fails. */
        wdf_interrupts_disconnect(d);
        trace_cb(d, "EvtDeviceD0Exit(D3Final)");
        note_down(d, "EvtDeviceD0Exit(D3Final)", (const void *)d->cb.EvtDeviceD0Exit);
        (void)CALLBACK_STATUS(d, EvtDeviceD0Exit, (WDFDEVICE)d, WdfPowerDeviceD3Final);
        d->power = WdfPowerDeviceD3Final;
        d->d0exit_step = sched_steps();
        device_failed(d, failed, st);
        return st;
    }
    /* The framework's power state machine publishes everything up to D0Entry
     * (PrepareHardware included) to whoever it later dispatches I/O to. */
    TDF_HB_RELEASE(d);
    pp_disarm_after_d0(d); /* partial D0: disarm before the queues are released */
    wdf_childlist_scan_for_children(d); /* KERNEL-SEMANTICS §4 "Resume": child lists scanned */
    wdf_device_resume_queues(d); /* EvtIoResume, then queued requests dispatch */
    const char *smio_cb = NULL;
    if (d->smio == SMIO_NONE) {
        trace_cb(d, smio_cb = "EvtDeviceSelfManagedIoInit");
        st = CALLBACK_STATUS(d, EvtDeviceSelfManagedIoInit, (WDFDEVICE)d);
        d->smio = SMIO_RUNNING;
    } else if (d->smio == SMIO_SUSPENDED || d->smio == SMIO_FLUSHED) {
        /* FLUSHED: a disabled PDO that stayed present starts again (KMDF's
         * self-managed I/O state machine: Flushed -> Restarting). */
        trace_cb(d, smio_cb = "EvtDeviceSelfManagedIoRestart");
        st = CALLBACK_STATUS(d, EvtDeviceSelfManagedIoRestart, (WDFDEVICE)d);
        d->smio = SMIO_RUNNING;
    }
    if (!NT_SUCCESS(st)) {
        /* PowerInitialSelfManagedIoFailed / PowerStartSelfManagedIoFailed:
         * hold the power-managed queues, then down the power-up failure
         * path, whose power-down calls EvtDeviceD0Exit(D3Final). */
        wdf_device_hold_queues(d);
        trace_cb(d, "EvtDeviceD0Exit(D3Final)");
        note_down(d, "EvtDeviceD0Exit(D3Final)", (const void *)d->cb.EvtDeviceD0Exit);
        (void)CALLBACK_STATUS(d, EvtDeviceD0Exit, (WDFDEVICE)d, WdfPowerDeviceD3Final);
        d->power = WdfPowerDeviceD3Final;
        d->d0exit_step = sched_steps();
        device_failed(d, smio_cb, st);
        return st;
    }
    d->pp.in_d0 = 1;
    d->pp.idle_dx = 0;
    pp_power_state_changed(d);
    return st;
}

void wdf_device_power_down(wdf_device_t *d, WDF_POWER_DEVICE_STATE target)
{
    (void)wdf_device_power_down_for(d, target, PP_DX_NONE);
}

int wdf_device_power_down_for(wdf_device_t *d, WDF_POWER_DEVICE_STATE target, pp_dx_reason_t reason)
{
    if (d->wdm_driven)
        return wdm_power_down(d, target);
    TDF_HB_ACQUIRE(&d->pp); /* after the last WdfDeviceResumeIdle (power_policy.c) */
    if (d->power != WdfPowerDeviceD0)
        return 1; /* KERNEL-SEMANTICS §4: idle in Dx -> no second D0Exit */
    d->pp.in_d0 = 0; /* from the idle decision on, WdfDeviceStopIdle(FALSE) is PENDING */
    d->pp.idle_dx = reason == PP_DX_IDLE;
    NTSTATUS suspend = STATUS_SUCCESS;
    if (d->smio == SMIO_RUNNING) {
        trace_cb(d, "EvtDeviceSelfManagedIoSuspend");
        suspend = CALLBACK_STATUS(d, EvtDeviceSelfManagedIoSuspend, (WDFDEVICE)d);
        d->smio = SMIO_SUSPENDED;
    }
    wdf_device_hold_queues(d); /* EvtIoStop; wait for completion or acknowledgement */
    if (!pp_arm_before_dx(d, reason)) {
        /* ArmWakeFromS0 failed: KMDF undoes the partial Dx (I/O stopped) and
         * returns to D0 without D0Exit/D0Entry. */
        wdf_device_resume_queues(d);
        trace_cb(d, "EvtDeviceSelfManagedIoRestart");
        (void)CALLBACK_STATUS(d, EvtDeviceSelfManagedIoRestart, (WDFDEVICE)d);
        d->smio = SMIO_RUNNING;
        d->pp.in_d0 = 1;
        d->pp.idle_dx = 0;
        pp_power_state_changed(d);
        return 0;
    }
    /* KERNEL-SEMANTICS §10: PreInterruptsDisabled, then per interrupt
     * EvtInterruptDisable, the DPC flush and the disconnect, then D0Exit. */
    if (d->cb.EvtDeviceD0ExitPreInterruptsDisabled) {
        trace_cb(d, "EvtDeviceD0ExitPreInterruptsDisabled");
        (void)d->cb.EvtDeviceD0ExitPreInterruptsDisabled((WDFDEVICE)d, target);
    }
    wdf_interrupts_disconnect(d);
    static const char *const exit_names[] = {"EvtDeviceD0Exit(?)", "EvtDeviceD0Exit(D0)", "EvtDeviceD0Exit(D1)",
                                             "EvtDeviceD0Exit(D2)", "EvtDeviceD0Exit(D3)", "EvtDeviceD0Exit(D3Final)",
                                             "EvtDeviceD0Exit(PrepareForHibernation)"};
    trace_cb(d, exit_names[target < WdfPowerDeviceMaximum ? target : 0]);
    note_down(d, exit_names[target < WdfPowerDeviceMaximum ? target : 0], (const void *)d->cb.EvtDeviceD0Exit);
    NTSTATUS st = CALLBACK_STATUS(d, EvtDeviceD0Exit, (WDFDEVICE)d, target);
    d->power = target;
    d->d0exit_step = sched_steps();
    /* powerstatemachine.cpp: a failed SelfManagedIoSuspend (m_IoCallbackFailure)
     * or D0Exit does not stop the power-down; the device state is set, then
     * the power-down is reported failed and the device is torn down. On the
     * way to D3Final (stop, remove) the removal goes on regardless. */
    if (reason != PP_DX_NONE && (!NT_SUCCESS(suspend) || !NT_SUCCESS(st)))
        device_failed(d, !NT_SUCCESS(suspend) ? "EvtDeviceSelfManagedIoSuspend" : "EvtDeviceD0Exit",
                      !NT_SUCCESS(suspend) ? suspend : st);
    pp_power_state_changed(d);
    return 1;
}

NTSTATUS wdf_device_start(wdf_device_t *d)
{
    if (d->wdm_driven)
        return wdm_pnp_start(d);
    d->io_held = 1;              /* power-managed queues wait for D0Entry */
    d->power = WdfPowerDeviceD0; /* the uninitialized D0 of the start IRP */
    d->pp.power_failed = 0;      /* a kept PDO that failed before is started afresh */
    trace_cb(d, "EvtDevicePrepareHardware");
    NTSTATUS st = CALLBACK_STATUS(d, EvtDevicePrepareHardware, (WDFDEVICE)d, (WDFCMRESLIST)d->resources,
                                  (WDFCMRESLIST)d->resources);
    if (!NT_SUCCESS(st)) {
        d->power = WdfPowerDeviceD3Final;
        /* PnpEventHardwareAvailable -> FailedOwnHardware: KMDF calls
         * EvtDeviceReleaseHardware although EvtDevicePrepareHardware failed
         * (the driver undoes what it did before failing), then Failed. */
        d->hw_prepared = 1;
        device_failed(d, "EvtDevicePrepareHardware", st);
        return st;
    }
    d->hw_prepared = 1;
    d->power = WdfPowerDeviceD3Final;
    st = wdf_device_power_up(d, WdfPowerDeviceD3Final);
    if (NT_SUCCESS(st))
        d->pnp = PNP_STARTED;
    return st;
}

static void release_hardware(wdf_device_t *d)
{
    if (!d->hw_prepared)
        return;
    trace_cb(d, "EvtDeviceReleaseHardware");
    note_down(d, "EvtDeviceReleaseHardware", (const void *)d->cb.EvtDeviceReleaseHardware);
    (void)CALLBACK_STATUS(d, EvtDeviceReleaseHardware, (WDFDEVICE)d, (WDFCMRESLIST)d->resources);
    d->hw_prepared = 0;
    d->release_step = sched_steps();
}

static void flush(wdf_device_t *d)
{
    if (d->smio != SMIO_RUNNING && d->smio != SMIO_SUSPENDED)
        return;
    trace_cb(d, "EvtDeviceSelfManagedIoFlush");
    CALLBACK_VOID(d, EvtDeviceSelfManagedIoFlush, (WDFDEVICE)d);
    d->smio = SMIO_FLUSHED;
}

void wdf_device_surprise_notify(wdf_device_t *d)
{
    if (d->wdm_driven) {
        wdm_surprise_notify(d);
        return;
    }
    d->pnp = PNP_SURPRISE_REMOVED;
    d->surprise_step = sched_steps();
    pp_power_state_changed(d); /* a WdfDeviceStopIdle(Wait) waiter fails */
    trace_cb(d, "EvtDeviceSurpriseRemoval");
    CALLBACK_VOID(d, EvtDeviceSurpriseRemoval, (WDFDEVICE)d);
}

void wdf_device_surprise_teardown(wdf_device_t *d)
{
    if (d->wdm_driven)
        return; /* the driver's IRP_MN_SURPRISE_REMOVAL handler did its part */
    wdf_device_power_down(d, WdfPowerDeviceD3Final);
    release_hardware(d);
    wdf_device_purge_queues(d, 1);
    flush(d);
}

NTSTATUS wdf_device_query_remove(wdf_device_t *d)
{
    if (d->wdm_driven)
        return wdm_query_remove(d);
    trace_cb(d, "EvtDeviceQueryRemove");
    return CALLBACK_STATUS(d, EvtDeviceQueryRemove, (WDFDEVICE)d);
}

NTSTATUS wdf_device_query_stop(wdf_device_t *d)
{
    if (d->wdm_driven)
        return wdm_query_stop(d);
    trace_cb(d, "EvtDeviceQueryStop");
    return CALLBACK_STATUS(d, EvtDeviceQueryStop, (WDFDEVICE)d);
}

void wdf_device_stop(wdf_device_t *d)
{
    if (d->wdm_driven) {
        wdm_stop(d);
        return;
    }
    wdf_device_power_down(d, WdfPowerDeviceD3Final);
    release_hardware(d);
    d->pnp = PNP_STOPPED;
    pp_power_state_changed(d);
}

void wdf_device_remove_begin(wdf_device_t *d)
{
    if (d->wdm_driven) { /* the whole REMOVE is one IRP, sent by remove_end */
        if (d->pnp != PNP_DELETED)
            d->pnp = PNP_REMOVED;
        return;
    }
    /* SURPRISE_REMOVED, FAILED: the power-down, release and flush happened */
    if (d->pnp != PNP_SURPRISE_REMOVED && d->pnp != PNP_FAILED) {
        wdf_device_power_down(d, WdfPowerDeviceD3Final);
        release_hardware(d);
        wdf_device_purge_queues(d, 1);
        flush(d);
    }
    d->pnp = PNP_REMOVED;
    pp_power_state_changed(d);
}

void wdf_device_remove_end(wdf_device_t *d)
{
    if (d->wdm_driven) {
        wdm_remove(d);
        return;
    }
    wdf_device_purge_queues(d, 0); /* non-power-managed queues: after the children, before cleanup */
    if (d->smio != SMIO_NONE && d->smio != SMIO_CLEANED) {
        trace_cb(d, "EvtDeviceSelfManagedIoCleanup");
        CALLBACK_VOID(d, EvtDeviceSelfManagedIoCleanup, (WDFDEVICE)d);
        d->smio = SMIO_CLEANED;
    }
    d->pnp = PNP_DELETED;
    /* I/O targets are children of the device: deleting it closes them
     * (cancel sent I/O, wait, release the handle). */
    for (unsigned i = 0; i < d->ntargets; i++)
        wdf_io_target_close(d->targets[i], 0);
    wdf_interrupts_delete(d); /* children of the device */
    trace_cb(d, "deleted");
    wdm_device_detach_kmdf(d);
    if (!d->is_pdo)
        wdf_childlist_fdo_deleted(d); /* its child lists are child objects: disposed first */
    wdf_object_delete(&d->obj);
    if (d->is_pdo)
        wdf_childlist_pdo_deleted(d); /* after the PDO's cleanup: its description goes */
}

void wdf_device_remove(wdf_device_t *d, int delete_object)
{
    wdf_device_remove_begin(d);
    if (delete_object)
        wdf_device_remove_end(d);
}

void wdf_reset(void)
{
    g_ndevices = 0;
    wdm_reset();
    wdf_file_reset();
    wdf_memory_reset();
    wdf_registry_reset();
    wdf_interrupts_reset();
    wdf_timer_reset();
    wdf_dpc_reset();
    wdf_request_late_reset();
}
