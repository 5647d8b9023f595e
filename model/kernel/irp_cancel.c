/*
 * IRP cancellation (KERNEL-SEMANTICS §16 "Cancel"): the cancel spin lock,
 * IoSetCancelRoutine's exchange and IoCancelIrp, as the kernel does them
 * (the Windows Research Kernel's IoCancelIrp; facts only): under the cancel spin lock, set
 * Irp->Cancel, take the routine out of the IRP with an exchange, and call it
 * with the lock held and its IRQL in Irp->CancelIrql; the routine releases
 * the lock. Whoever gets the routine out of the IRP first owns the IRP: the
 * canceller (IoCancelIrp) or the driver completing it (IoSetCancelRoutine(Irp,
 * NULL) returned non-NULL).
 */
#include "irp.h"

static KSPIN_LOCK g_cancel_lock;

void irp_cancel_reset(void) { g_cancel_lock = 0; }

int irp_cancel_lock_held_by_me(void) { return g_cancel_lock == (ULONG_PTR)(sched_current() + 2); }

VOID IoAcquireCancelSpinLock(PKIRQL Irql) { KeAcquireSpinLock(&g_cancel_lock, Irql); }

VOID IoReleaseCancelSpinLock(KIRQL Irql) { KeReleaseSpinLock(&g_cancel_lock, Irql); }

PDRIVER_CANCEL IoSetCancelRoutine(PIRP Irp, PDRIVER_CANCEL CancelRoutine)
{
    ke_yield(); /* an interlocked exchange: the canceller may take the routine first */
    irp_rec_t *r = irp_live(Irp, "IoSetCancelRoutine");
    if (!r)
        return NULL;
    PDRIVER_CANCEL old = Irp->CancelRoutine;
    if (CancelRoutine)
        r->cancel_image = image_current();
    Irp->CancelRoutine = CancelRoutine;
    feedback_pair(Irp, FB_INTERLOCKED);
    return old;
}

BOOLEAN IoCancelIrp(PIRP Irp)
{
    ke_yield();
    if (!irp_live(Irp, "IoCancelIrp"))
        return FALSE;
    return irp_cancel(Irp);
}

BOOLEAN irp_cancel(PIRP Irp)
{
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    /* Model code goes on in the step the lock's yield began (footprint: the
     * lock only, sched.h): it touches the IRP and calls out, so GLOBAL. */
    sched_step_touch(NULL, SCHED_FP_GLOBAL);
    Irp->Cancel = TRUE;
    PDRIVER_CANCEL routine = Irp->CancelRoutine;
    Irp->CancelRoutine = NULL;
    feedback_pair(Irp, FB_INTERLOCKED);
    SCHED_TRACE2("IoCancelIrp #%u: %s", irp_id(Irp), routine ? symbol_name((const void *)routine) : "no cancel routine");
    if (!routine) {
        IoReleaseCancelSpinLock(irql);
        return FALSE;
    }
    if (Irp->CurrentLocation > Irp->StackCount + 1) {
        TDF_BUGCHECK(0x48, 0, "CANCEL_STATE_IN_COMPLETED_IRP",
                     "IoCancelIrp of IRP #%u, completed already, still has cancel routine %s", irp_id(Irp),
                     symbol_name((const void *)routine));
        return FALSE;
    }
    Irp->CancelIrql = irql;
    /* Model decision (KERNEL-SEMANTICS §16 "Cancel"): the device object the
     * routine gets stays referenced until the routine returned, so its
     * driver cannot unload under its own cancel routine. The kernel's
     * IoCancelIrp takes no such reference; without it no WDM cancel routine
     * could complete an IRP safely under the model's unload rule. */
    PDEVICE_OBJECT dev = Irp->Tail.Overlay.CurrentStackLocation->DeviceObject;
    io_device_reference(dev);
    /* It returns at Irp->CancelIrql, below the DISPATCH_LEVEL it was entered
     * at, once it released the cancel spin lock (0x11B below if not). */
    unsigned saved = image_irql_rule_begin(IRQL_RETURN_CALLER);
    routine(dev, Irp);
    image_irql_rule_end(saved);
    io_device_dereference(dev);
    if (irp_cancel_lock_held_by_me()) {
        TDF_BUGCHECK(0x11B, 0, "DRIVER_RETURNED_HOLDING_CANCEL_LOCK",
                     "cancel routine %s returned holding the cancel spin lock (IRP #%u)",
                     symbol_name((const void *)routine), irp_id(Irp));
        return TRUE;
    }
    return TRUE;
}
