/*
 * Cancel-safe IRP queues (IoCsq*; KERNEL-SEMANTICS §16 "Cancel-safe
 * queues"): the driver supplies the queue and its lock, the kernel the
 * cancel-routine handshake. What the routines do is the documented contract
 * (Learn, "Cancel-Safe IRP Queues"): insert marks the IRP pending, sets the
 * queue's cancel routine under the driver's lock, and completes it through
 * CsqCompleteCanceledIrp at once if it was canceled meanwhile; a removal
 * skips an IRP whose cancel routine is already taken (the canceller owns
 * it); the cancel routine drops the cancel spin lock first, then removes the
 * IRP under the driver's lock and hands it to CsqCompleteCanceledIrp.
 * DriverContext[3] of a queued IRP holds its IO_CSQ_IRP_CONTEXT (or the
 * queue), as the kernel's does.
 */
#include "irp.h"

#define IO_TYPE_CSQ_IRP_CONTEXT 1
#define IO_TYPE_CSQ 2

static PIO_CSQ csq_of(PIRP irp)
{
    PVOID p = irp->Tail.Overlay.DriverContext[3];
    if (p && ((PIO_CSQ_IRP_CONTEXT)p)->Type == IO_TYPE_CSQ_IRP_CONTEXT)
        return ((PIO_CSQ_IRP_CONTEXT)p)->Csq;
    return p;
}

static void csq_forget(PIRP irp)
{
    PVOID p = irp->Tail.Overlay.DriverContext[3];
    if (p && ((PIO_CSQ_IRP_CONTEXT)p)->Type == IO_TYPE_CSQ_IRP_CONTEXT)
        ((PIO_CSQ_IRP_CONTEXT)p)->Irp = NULL;
    irp->Tail.Overlay.DriverContext[3] = NULL;
}

/* The driver's lock callbacks raise and lower the IRQL by contract (they
 * take and drop its queue lock): their return IRQL is not checked. */
static void csq_lock(PIO_CSQ csq, PKIRQL irql)
{
    unsigned saved = image_irql_rule_begin(IRQL_RETURN_CALLER);
    csq->CsqAcquireLock(csq, irql);
    image_irql_rule_end(saved);
}

static void csq_unlock(PIO_CSQ csq, KIRQL irql)
{
    unsigned saved = image_irql_rule_begin(IRQL_RETURN_CALLER);
    csq->CsqReleaseLock(csq, irql);
    image_irql_rule_end(saved);
}

static VOID csq_cancel_routine(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    (void)DeviceObject;
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    PIO_CSQ csq = csq_of(Irp);
    KIRQL irql;
    csq_lock(csq, &irql);
    csq->CsqRemoveIrp(csq, Irp);
    csq_forget(Irp);
    csq_unlock(csq, irql);
    csq->CsqCompleteCanceledIrp(csq, Irp);
}

NTSTATUS IoCsqInitialize(PIO_CSQ Csq, PIO_CSQ_INSERT_IRP CsqInsertIrp, PIO_CSQ_REMOVE_IRP CsqRemoveIrp,
                         PIO_CSQ_PEEK_NEXT_IRP CsqPeekNextIrp, PIO_CSQ_ACQUIRE_LOCK CsqAcquireLock,
                         PIO_CSQ_RELEASE_LOCK CsqReleaseLock, PIO_CSQ_COMPLETE_CANCELED_IRP CsqCompleteCanceledIrp)
{
    Csq->Type = IO_TYPE_CSQ;
    Csq->CsqInsertIrp = CsqInsertIrp;
    Csq->CsqRemoveIrp = CsqRemoveIrp;
    Csq->CsqPeekNextIrp = CsqPeekNextIrp;
    Csq->CsqAcquireLock = CsqAcquireLock;
    Csq->CsqReleaseLock = CsqReleaseLock;
    Csq->CsqCompleteCanceledIrp = CsqCompleteCanceledIrp;
    Csq->ReservePointer = NULL;
    return STATUS_SUCCESS;
}

static PIO_CSQ csq_checked(PIO_CSQ csq, const char *routine)
{
    if (!csq || csq->Type != IO_TYPE_CSQ)
        TdfUnmodelled(routine, "an IO_CSQ that IoCsqInitialize did not initialize");
    return csq;
}

VOID IoCsqInsertIrp(PIO_CSQ Csq, PIRP Irp, PIO_CSQ_IRP_CONTEXT Context)
{
    ke_yield();
    csq_checked(Csq, "IoCsqInsertIrp");
    if (!irp_live(Irp, "IoCsqInsertIrp"))
        return;
    KIRQL irql;
    csq_lock(Csq, &irql);
    if (Context) {
        Context->Type = IO_TYPE_CSQ_IRP_CONTEXT;
        Context->Irp = Irp;
        Context->Csq = Csq;
        Irp->Tail.Overlay.DriverContext[3] = Context;
    } else {
        Irp->Tail.Overlay.DriverContext[3] = Csq;
    }
    (void)IoSetCancelRoutine(Irp, csq_cancel_routine);
    IoMarkIrpPending(Irp);
    Csq->CsqInsertIrp(Csq, Irp);
    if (Irp->Cancel && IoSetCancelRoutine(Irp, NULL)) {
        /* canceled before the routine was set: nobody else will complete it */
        Csq->CsqRemoveIrp(Csq, Irp);
        csq_forget(Irp);
        csq_unlock(Csq, irql);
        Csq->CsqCompleteCanceledIrp(Csq, Irp);
        return;
    }
    csq_unlock(Csq, irql);
}

PIRP IoCsqRemoveNextIrp(PIO_CSQ Csq, PVOID PeekContext)
{
    ke_yield();
    csq_checked(Csq, "IoCsqRemoveNextIrp");
    KIRQL irql;
    csq_lock(Csq, &irql);
    PIRP irp = Csq->CsqPeekNextIrp(Csq, NULL, PeekContext);
    while (irp) {
        if (IoSetCancelRoutine(irp, NULL)) {
            Csq->CsqRemoveIrp(Csq, irp);
            csq_forget(irp);
            break;
        }
        /* being canceled: its cancel routine removes and completes it */
        irp = Csq->CsqPeekNextIrp(Csq, irp, PeekContext);
    }
    csq_unlock(Csq, irql);
    return irp;
}

PIRP IoCsqRemoveIrp(PIO_CSQ Csq, PIO_CSQ_IRP_CONTEXT Context)
{
    ke_yield();
    csq_checked(Csq, "IoCsqRemoveIrp");
    KIRQL irql;
    csq_lock(Csq, &irql);
    PIRP irp = Context->Irp;
    if (irp && IoSetCancelRoutine(irp, NULL)) {
        Csq->CsqRemoveIrp(Csq, irp);
        csq_forget(irp);
    } else {
        irp = NULL; /* completed already, or its cancel routine runs */
    }
    csq_unlock(Csq, irql);
    return irp;
}
