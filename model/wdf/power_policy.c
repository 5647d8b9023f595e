/*
 * Power policy of a KMDF device (KERNEL-SEMANTICS §13): S0 idle settings,
 * Sx wake settings, the wake-arming callbacks, and the power reference count
 * of the power-policy owner's idle machine (FxPowerIdleMachine): the driver's
 * WdfDeviceStopIdle/ResumeIdle and one reference per non-empty power-managed
 * queue (FxIoQueue::SetTransitionFromEmpty). The device idles only while the
 * count is 0; a reference taken while it is idle brings it back to D0 on a
 * power-policy thread (a request at a power-managed queue of an idle device
 * is dispatched after D0Entry).
 *
 * Yield points: none of these routines yields by itself, so drivers that only
 * assign settings keep their schedules; WdfDeviceStopIdle(Wait=TRUE) blocks
 * only when the device is not in D0.
 */
#include "wdf_internal.h"
#include "../kernel/tsan_sync.h"

#include <stdio.h>

#ifndef STATUS_INVALID_DEVICE_REQUEST
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
#endif

#define PP_TRACE_CB(d, what) SCHED_TRACE2("%s: %s", (d)->name, (what))

void pp_device_created(wdf_device_t *d, const WDF_POWER_POLICY_EVENT_CALLBACKS *cb)
{
    /* KMDF: the FDO owns its stack's power policy unless it gives it up; a
     * PDO only if it is raw (neither is modelled: one FDO per stack). */
    d->pp.owner = !d->is_pdo;
    if (cb)
        d->pp.cb = *cb;
}

wdf_device_t *pp_owner_of(wdf_device_t *d)
{
    if (d->pp.owner)
        return d;
    return NULL;
}

VOID WdfDeviceInitSetPowerPolicyEventCallbacks(PWDFDEVICE_INIT DeviceInit, PWDF_POWER_POLICY_EVENT_CALLBACKS cb)
{
    DeviceInit->pp_cb = *cb;
    DeviceInit->pp_cb_set = 1;
}

NTSTATUS WdfDeviceAssignS0IdleSettings(WDFDEVICE Device, PWDF_DEVICE_POWER_POLICY_IDLE_SETTINGS Settings)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* shared state, no yield first: footprints (sched.h) */
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceAssignS0IdleSettings");
    if (!d->pp.owner)
        return STATUS_INVALID_DEVICE_REQUEST; /* FxDeviceApi: not the power-policy owner */
    if (Settings->Size != sizeof *Settings)
        TdfUnmodelled("WdfDeviceAssignS0IdleSettings", "a settings structure of an older KMDF version (Size)");
    if (Settings->DxState < PowerDeviceD1 || Settings->DxState > PowerDeviceMaximum ||
        Settings->IdleCaps < IdleCannotWakeFromS0 || Settings->IdleCaps > IdleUsbSelectiveSuspend ||
        Settings->UserControlOfIdleSettings < IdleDoNotAllowUserControl ||
        Settings->UserControlOfIdleSettings > IdleAllowUserControl || Settings->Enabled < WdfFalse ||
        Settings->Enabled > WdfUseDefault)
        return STATUS_INVALID_PARAMETER;
    if (Settings->IdleCaps == IdleUsbSelectiveSuspend)
        TdfUnmodelled("WdfDeviceAssignS0IdleSettings", "USB selective suspend (IdleUsbSelectiveSuspend)");
    d->pp.idle = *Settings;
    /* Enabled WdfUseDefault = enabled unless the user turned it off in the
     * registry (IdleInWorkingState), which the model's machine never does. */
    d->pp.idle_assigned = Settings->Enabled != WdfFalse;
    SCHED_TRACE2("%s: S0 idle settings %s", d->name, d->pp.idle_assigned ? "enabled" : "disabled");
    return STATUS_SUCCESS;
}

NTSTATUS WdfDeviceAssignSxWakeSettings(WDFDEVICE Device, PWDF_DEVICE_POWER_POLICY_WAKE_SETTINGS Settings)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* shared state, no yield first: footprints (sched.h) */
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceAssignSxWakeSettings");
    if (!d->pp.owner)
        return STATUS_INVALID_DEVICE_REQUEST;
    if (Settings->Size != sizeof *Settings)
        TdfUnmodelled("WdfDeviceAssignSxWakeSettings", "a settings structure of an older KMDF version (Size)");
    if (Settings->DxState < PowerDeviceD1 || Settings->DxState > PowerDeviceMaximum ||
        Settings->Enabled < WdfFalse || Settings->Enabled > WdfUseDefault)
        return STATUS_INVALID_PARAMETER;
    d->pp.wake = *Settings;
    d->pp.wake_assigned = Settings->Enabled != WdfFalse;
    SCHED_TRACE2("%s: Sx wake settings %s", d->name, d->pp.wake_assigned ? "enabled" : "disabled");
    return STATUS_SUCCESS;
}

int pp_idle_allowed(const wdf_device_t *d)
{
    return d->pp.owner && d->pp.idle_assigned && d->pp.refs == 0;
}

WDF_POWER_DEVICE_STATE pp_idle_target(const wdf_device_t *d)
{
    switch (d->pp.idle.DxState) {
    case PowerDeviceD1: return WdfPowerDeviceD1;
    case PowerDeviceD2: return WdfPowerDeviceD2;
    default: return WdfPowerDeviceD3; /* D3, or Maximum: the deepest wake-capable state (D3 here) */
    }
}

int pp_arm_before_dx(wdf_device_t *d, pp_dx_reason_t reason)
{
    if (!d->pp.owner)
        return 1;
    if (reason == PP_DX_IDLE && d->pp.idle_assigned && d->pp.idle.IdleCaps == IdleCanWakeFromS0) {
        /* powerpolicystatemachine.cpp: TimerExpiredWakeCapablePowerDown puts
         * the device in partial Dx (I/O stopped), sends the wait-wake IRP,
         * then ...WakeArrived calls EvtDeviceArmWakeFromS0; D0Exit follows. */
        NTSTATUS st = STATUS_SUCCESS;
        PP_TRACE_CB(d, "EvtDeviceArmWakeFromS0");
        if (d->pp.cb.EvtDeviceArmWakeFromS0)
            st = d->pp.cb.EvtDeviceArmWakeFromS0((WDFDEVICE)d);
        if (!NT_SUCCESS(st)) {
            SCHED_TRACE2("%s: EvtDeviceArmWakeFromS0 failed 0x%lx: idle undone", d->name, (unsigned long)(uint32_t)st);
            return 0;
        }
        d->pp.armed_s0 = 1;
    } else if (reason == PP_DX_SX && d->pp.wake_assigned) {
        NTSTATUS st = STATUS_SUCCESS;
        PP_TRACE_CB(d, "EvtDeviceArmWakeFromSx");
        if (d->pp.cb.EvtDeviceArmWakeFromSxWithReason)
            st = d->pp.cb.EvtDeviceArmWakeFromSxWithReason((WDFDEVICE)d, TRUE, FALSE);
        else if (d->pp.cb.EvtDeviceArmWakeFromSx)
            st = d->pp.cb.EvtDeviceArmWakeFromSx((WDFDEVICE)d);
        /* A failed Sx arming: KMDF goes on to Dx without wake. */
        if (NT_SUCCESS(st))
            d->pp.armed_sx = 1;
        else
            SCHED_TRACE2("%s: EvtDeviceArmWakeFromSx failed 0x%lx: sleeps unarmed", d->name,
                         (unsigned long)(uint32_t)st);
    }
    return 1;
}

void pp_disarm_after_d0(wdf_device_t *d)
{
    /* PowerPolS0WakeDisarm: the device is in partial D0 (D0Entry ran), the
     * queues are not yet released; disarm, then complete the D0 transition. */
    if (d->pp.armed_s0) {
        d->pp.armed_s0 = 0;
        PP_TRACE_CB(d, "EvtDeviceDisarmWakeFromS0");
        if (d->pp.cb.EvtDeviceDisarmWakeFromS0)
            d->pp.cb.EvtDeviceDisarmWakeFromS0((WDFDEVICE)d);
    }
    if (d->pp.armed_sx) {
        d->pp.armed_sx = 0;
        PP_TRACE_CB(d, "EvtDeviceDisarmWakeFromSx");
        if (d->pp.cb.EvtDeviceDisarmWakeFromSx)
            d->pp.cb.EvtDeviceDisarmWakeFromSx((WDFDEVICE)d);
    }
}

void pp_wake_triggered(wdf_device_t *d)
{
    /* The wait-wake IRP completed with success: the device signalled wake.
     * KMDF tells the driver before it powers the device up (still in Dx). */
    if (d->pp.armed_s0) {
        PP_TRACE_CB(d, "EvtDeviceWakeFromS0Triggered");
        if (d->pp.cb.EvtDeviceWakeFromS0Triggered)
            d->pp.cb.EvtDeviceWakeFromS0Triggered((WDFDEVICE)d);
    }
}

void pp_power_state_changed(wdf_device_t *d) { sched_wake(&d->pp); }

/* FxPowerIdleMachine::IoIncrement: fails without counting when the machine is
 * not started or a power transition failed; otherwise counts, and if the
 * device is not in D0 asks for a power-up (PENDING). */
static NTSTATUS reference(wdf_device_t *d)
{
    if (d->pp.power_failed || d->pnp != PNP_STARTED)
        return STATUS_POWER_STATE_INVALID;
    d->pp.refs++;
    if (d->pp.in_d0)
        return STATUS_SUCCESS;
    /* Only an idle device is woken by a reference: in a system sleep, a stop
     * or a removal the idle machine is disabled and the count just waits for
     * the resume or restart (FxPowerIdleMachine's Disabled states). */
    if (d->pp.idle_dx && !d->pp.wake_posted && d->node) {
        d->pp.wake_posted = 1;
        if (!pnp_post_wake_for_power_reference(d->node, d)) {
            d->pp.wake_posted = 0;
            /* a dropped wake would leave the request or the waiter stuck: not a driver finding */
            TDF_LIMIT(SCHED_MAX_FIBERS, "model/sched/sched.h", "more model threads, waking %s for a power reference",
                      d->name);
        }
    }
    return STATUS_PENDING;
}

static void dereference(wdf_device_t *d)
{
    d->pp.refs--;
    /* count 0: the idle timer restarts; the `idle` event is its expiry */
}

int pp_queue_reference(wdf_device_t *d)
{
    wdf_device_t *o = pp_owner_of(d);
    return o && NT_SUCCESS(reference(o));
}

void pp_queue_dereference(wdf_device_t *d)
{
    wdf_device_t *o = pp_owner_of(d);
    if (o && o->pp.refs > 0)
        dereference(o);
}

NTSTATUS WdfDeviceStopIdle(WDFDEVICE Device, BOOLEAN WaitForD0)
{
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceStopIdle");
    if (WaitForD0 && ke_irql() > PASSIVE_LEVEL) {
        TDF_BUGCHECK(0x10D, 0x0, "WDF_VIOLATION", "WdfDeviceStopIdle(WaitForD0=TRUE) at IRQL %u (PASSIVE_LEVEL only)",
                     (unsigned)ke_irql());
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    if (!d->pp.owner)
        return STATUS_INVALID_DEVICE_STATE; /* StopIdleWorker: not the power-policy owner */
    NTSTATUS st = reference(d);
    if (!NT_SUCCESS(st))
        return st;
    d->pp.driver_refs++;
    SCHED_TRACE3("%s: WdfDeviceStopIdle(%s): %s", d->name, WaitForD0 ? "wait" : "no wait",
                 st == STATUS_SUCCESS ? "in D0" : "powering up");
    if (st == STATUS_PENDING && WaitForD0) {
        /* FxPowerIdleMachine::PowerReference: WaitForD0, then fail (and drop
         * the reference) if the power-up failed or the device stopped. */
        /* The wake (if any) was posted by reference(); a sleep's resume or a
         * restart also ends the wait. A stop, removal or failure changes the
         * PnP state and wakes the waiter (pp_power_state_changed). */
        while (!d->pp.in_d0 && !d->pp.power_failed && d->pnp == PNP_STARTED)
            ke_block(&d->pp, "WdfDeviceStopIdle: waiting for D0");
        if (!d->pp.in_d0) {
            d->pp.driver_refs--;
            dereference(d);
            return STATUS_POWER_STATE_INVALID;
        }
        return STATUS_SUCCESS;
    }
    return st;
}

VOID WdfDeviceResumeIdle(WDFDEVICE Device)
{
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceResumeIdle");
    if (!d->pp.owner)
        return; /* ResumeIdleWorker: traced and ignored */
    if (d->pp.driver_refs == 0) {
        /* FxPowerIdleMachine::IoDecrement with a count of 0: KMDF's verifier
         * breaks in ("power-dereferenced without a matching
         * power-reference"), then the count underflows and the device never
         * idles again; with the framework's own queue references in the count
         * it would instead drop one of those and idle under pending I/O. */
        TDF_MISUSE("RESUME_IDLE_WITHOUT_STOP_IDLE",
                   "WdfDeviceResumeIdle on %s without a matching WdfDeviceStopIdle (KMDF verifier break in "
                   "FxPowerIdleMachine::IoDecrement: the device is power-dereferenced without a matching "
                   "power-reference)",
                   d->name);
        return;
    }
    d->pp.driver_refs--;
    /* KMDF drops the reference with an interlocked decrement the power-down
     * reads (FxPowerIdleMachine): what the driver did under it happens
     * before that power-down (the ACQUIRE in wdf_device_power_down_for). */
    TDF_HB_RELEASE(&d->pp);
    dereference(d);
    SCHED_TRACE2("%s: WdfDeviceResumeIdle (%ld references left)", d->name, (long)d->pp.refs);
}
