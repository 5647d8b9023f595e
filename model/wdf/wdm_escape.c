/*
 * KMDF's WDM escapes (KERNEL-SEMANTICS §16 "KMDF's WDM escapes"): a request's
 * IRP (WdfRequestWdmGetIrp), a preprocess callback in front of the
 * framework's dispatch (WdfDeviceInitAssignWdmIrpPreprocessCallback), and an
 * I/O target opened on an existing WDM device object, whose sends are IRPs.
 *
 * The model's KMDF requests are not IRPs: a request's IRP is made when the
 * driver asks for it (or the preprocess callback gets it), as the I/O manager
 * would have sent it to the top of the device's stack (the device's
 * StackSize, its own location current with the request's parameters), and
 * freed at the request's completion -- after the completion walk when the
 * preprocess callback set a completion routine on it -- so a pointer kept
 * past it is a freed IRP to every IRP routine (0x50 / 0x44). Tested by
 * docs/LIFECYCLE.md rules 150-158.
 */
#include "wdf_internal.h"
#include "../kernel/irp.h"
#include "../kernel/tsan_sync.h"

static void fill_location(wdf_request_t *r, PIRP irp, PIO_STACK_LOCATION sp)
{
    sp->MajorFunction = (UCHAR)r->type; /* WDF_REQUEST_TYPE values are the IRP_MJ_ codes */
    sp->Parameters.DeviceIoControl.IoControlCode = r->ioctl;
    sp->Parameters.DeviceIoControl.InputBufferLength = (ULONG)r->in_len;
    sp->Parameters.DeviceIoControl.OutputBufferLength = (ULONG)r->out_len;
    sp->Parameters.DeviceIoControl.Type3InputBuffer = r->in;
    irp->AssociatedIrp.SystemBuffer = r->in ? r->in : r->out;
    irp->UserBuffer = r->out;
}

/* The request's IRP as the I/O manager sent it to the top of the device's
 * stack: one location per device of the stack (the device's StackSize), the
 * device's own (the top) current; a request without a device (one the
 * driver created and never sent) gets one. */
static PIRP shadow_of(wdf_request_t *r, wdf_device_t *d)
{
    if (!r->shadow_irp) {
        PIRP irp = irp_kmdf_alloc(r, d ? d->wdm.StackSize : 1);
        if (!irp)
            return NULL;
        PIO_STACK_LOCATION sp = irp->Tail.Overlay.CurrentStackLocation;
        fill_location(r, irp, sp);
        sp->DeviceObject = d ? &d->wdm : NULL;
        r->shadow_irp = irp;
    }
    return r->shadow_irp;
}

PIRP WdfRequestWdmGetIrp(WDFREQUEST Request)
{
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestWdmGetIrp");
    if (r->from_io_manager && r->state == REQ_COMPLETED) {
        /* A client's request is freed with its completion: a stale handle,
         * as every other call on it (the completion's teardown record keys it). */
        wdf_request_fail_completed(r, 0x5, "WdfRequestWdmGetIrp", "WdfRequestWdmGetIrp on a request already completed");
        return NULL;
    }
    if (r->state == REQ_COMPLETED || r->state == REQ_IDLE) {
        /* Learn: the IRP is valid only until the request is completed; KMDF's
         * I/O verifier (FxRequest::GetIrp) fails the call and breaks in. */
        TDF_BUGCHECK(0x10D, 0x7, "WDF_VIOLATION", "WdfRequestWdmGetIrp on a request that is not pending (%s)",
                     r->state == REQ_COMPLETED ? "completed" : "never sent or delivered");
        return NULL;
    }
    return shadow_of(r, r->queue ? r->queue->device : NULL);
}

void wdm_request_finished(wdf_request_t *r, NTSTATUS status, ULONG_PTR information)
{
    PIRP irp = r->shadow_irp;
    if (!irp)
        return;
    r->shadow_irp = NULL;
    irp_rec_t *rec = irp_rec_of(irp);
    int loc = irp->CurrentLocation;
    if (r->preprocess_handed_on && rec->magic == IRP_REC_LIVE && loc <= irp->StackCount &&
        irp->Tail.Overlay.CurrentStackLocation->CompletionRoutine) {
        /* The preprocess callback set a completion routine before handing the
         * IRP on (post-processing): KMDF completes the IRP with the request's
         * status, and the routine runs in the walk, on the completing thread. */
        irp->IoStatus.Status = status;
        irp->IoStatus.Information = information;
        r->preprocess_walked = 1;
        irp_kmdf_complete(irp);
        if (tdf_failure() || rec->magic != IRP_REC_LIVE)
            return;
        if (!rec->done)
            TdfUnmodelled("IoCompleteRequest", "a preprocess callback's completion routine that keeps the IRP "
                                               "(STATUS_MORE_PROCESSING_REQUIRED) of a request KMDF completed");
    }
    irp_free(irp);
}

/* ---- preprocess callback ---- */
NTSTATUS WdfDeviceInitAssignWdmIrpPreprocessCallback(PWDFDEVICE_INIT DeviceInit,
                                                     PFN_WDFDEVICE_WDM_IRP_PREPROCESS EvtDeviceWdmIrpPreprocess,
                                                     UCHAR MajorFunction, PUCHAR MinorFunctions,
                                                     ULONG NumMinorFunctions)
{
    (void)MinorFunctions;
    ke_yield();
    if (MajorFunction != IRP_MJ_DEVICE_CONTROL || NumMinorFunctions)
        TdfUnmodelled("WdfDeviceInitAssignWdmIrpPreprocessCallback",
                      "a major function other than IRP_MJ_DEVICE_CONTROL, or minor functions (the model sends "
                      "KMDF devices no other IRPs)");
    DeviceInit->preprocess = EvtDeviceWdmIrpPreprocess;
    return STATUS_SUCCESS;
}

static void deliver(wdf_device_t *d, wdf_request_t *r)
{
    if (d->default_queue) {
        wdf_queue_deliver(d->default_queue, r);
    } else { /* no queue for it: the framework fails the request (FxPkgIo) */
        r->state = REQ_OWNED;
        wdf_request_finish(r, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

void wdm_preprocess_deliver(wdf_device_t *d, wdf_request_t *r)
{
    r->in_preprocess = 1;
    PIRP irp = shadow_of(r, d);
    if (!irp)
        return;
    irp->IoStatus.Status = STATUS_SUCCESS;
    int loc = irp->CurrentLocation;
    irp_rec_t *rec = irp_rec_of(irp);
    wdf_device_hold_for_callback(d);
    SCHED_TRACE1("%s: EvtDeviceWdmIrpPreprocess", d->name);
    NTSTATUS st = d->preprocess((WDFDEVICE)d, irp);
    /* The callback is the device's dispatch routine: the pending contract
     * of IoCallDriver (irp.c) holds for what it returns. Handed on, the
     * framework marked the IRP pending (FxIoQueue::QueueRequest) and the DDI
     * returned STATUS_PENDING: the callback returns that. */
    if (!tdf_failure()) {
        const char *who = symbol_name((const void *)d->preprocess);
        if (r->preprocess_handed_on && st != STATUS_PENDING)
            tdf_fail(TDF_CLASS_MISUSE, 0, 0, "MARKED_PENDING_NOT_RETURNED", who, NULL,
                     "%s handed IRP #%u to the framework, which marked it pending (WdfDeviceWdmDispatchPreprocessedIrp "
                     "returned STATUS_PENDING), and returned 0x%lx: it must return what the DDI returned",
                     who, irp_id(irp), (unsigned long)(uint32_t)st);
        else if (!r->preprocess_handed_on && st == STATUS_PENDING && !rec->marked[loc])
            tdf_fail(TDF_CLASS_MISUSE, 0, 0, "PENDING_NOT_MARKED", who, NULL,
                     "%s returned STATUS_PENDING for IRP #%u without IoMarkIrpPending: the I/O manager completes "
                     "it as if it finished synchronously",
                     who, irp_id(irp));
        else if (r->preprocess_handed_on && st == STATUS_PENDING && r->preprocess_walked && !rec->marked[loc])
            /* its completion routine ran already (the request was completed
             * inside the DDI) and did not propagate PendingReturned */
            tdf_fail(TDF_CLASS_MISUSE, 0, 0, "PENDING_NOT_MARKED", who, NULL,
                     "IRP #%u: %s returned STATUS_PENDING but its location was not marked pending when completion "
                     "left it (its completion routine did not propagate Irp->PendingReturned with IoMarkIrpPending)",
                     irp_id(irp), who);
        else if (st == STATUS_PENDING && rec->magic == IRP_REC_LIVE)
            rec->returned_pending[loc] = 1; /* the completion walk to come checks the mark (irp.c) */
    }
    wdf_object_release(&d->obj);
}

NTSTATUS WdfDeviceWdmDispatchPreprocessedIrp(WDFDEVICE Device, PIRP Irp)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceWdmDispatchPreprocessedIrp");
    irp_rec_t *rec = irp_live(Irp, "WdfDeviceWdmDispatchPreprocessedIrp");
    if (!rec)
        return STATUS_INVALID_PARAMETER;
    wdf_request_t *r = rec->kind == IRP_KIND_KMDF ? rec->request : NULL;
    if (!r || !r->in_preprocess)
        TdfUnmodelled("WdfDeviceWdmDispatchPreprocessedIrp", "an IRP that is not in this device's preprocess callback");
    r->in_preprocess = 0;
    /* FxDevice::DispatchPreprocessedIrp's contract is IoCallDriver's: the
     * callback sets up the next location (IoSkipCurrentIrpStackLocation, or
     * IoCopyCurrentIrpStackLocationToNext), the DDI advances to it and the
     * framework dispatches what it finds there. Without either, that is the
     * blank location of the device below (major 0, IRP_MJ_CREATE), or none. */
    int loc = Irp->CurrentLocation - 1;
    PIO_STACK_LOCATION sp = loc >= 1 && loc <= Irp->StackCount ? Irp->Tail.Overlay.CurrentStackLocation - 1 : NULL;
    if (!sp || sp->MajorFunction != IRP_MJ_DEVICE_CONTROL) {
        TDF_MISUSE("PREPROCESSED_IRP_NOT_SKIPPED",
                   "WdfDeviceWdmDispatchPreprocessedIrp of IRP #%u: the framework advances to the next stack "
                   "location as IoCallDriver does and finds %s there: the preprocess callback calls "
                   "IoSkipCurrentIrpStackLocation (or IoCopyCurrentIrpStackLocationToNext) first",
                   irp_id(Irp), !sp ? "no location" : "another major function (a blank location)");
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    IoSetNextIrpStackLocation(Irp);
    r->preprocess_handed_on = 1;
    sp->DeviceObject = &d->wdm;
    /* The framework's dispatch queues the request: it marks the IRP pending
     * and returns STATUS_PENDING (FxIoQueue::QueueRequest), so a completion
     * routine above sees PendingReturned. */
    sp->Control |= SL_PENDING_RETURNED;
    rec->marked[(int)Irp->CurrentLocation] = 1;
    rec->returned_pending[(int)Irp->CurrentLocation] = 1;
    r->ioctl = sp->Parameters.DeviceIoControl.IoControlCode; /* a copied location may carry another code */
    deliver(d, r);
    return STATUS_PENDING;
}

int wdm_kmdf_irp_complete(PIRP irp)
{
    irp_rec_t *rec = irp_rec_of(irp);
    wdf_request_t *r = rec->request;
    if (!r->in_preprocess)
        return 0;
    /* The preprocess callback completes the IRP itself: the client's request
     * ends with its status; the framework never sees it. */
    if (irp->IoStatus.Status == STATUS_PENDING) { /* IoCompleteRequest's own check (irp.c) */
        TDF_BUGCHECK(0xC9, 0x6, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                     "IoCompleteRequest of IRP #%u with IoStatus.Status 0x103 (pending)", irp_id(irp));
        return 1;
    }
    r->in_preprocess = 0;
    r->state = REQ_OWNED;
    wdf_request_finish(r, irp->IoStatus.Status, irp->IoStatus.Information);
    return 1;
}

/* ---- an I/O target on an existing WDM device object ---- */
static NTSTATUS sent_irp_complete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    (void)DeviceObject;
    wdf_request_t *r = Context;
    NTSTATUS st = Irp->IoStatus.Status;
    ULONG_PTR info = Irp->IoStatus.Information;
    r->wdm_irp = NULL;
    irp_free(Irp); /* the framework's IRP for the request: back with the completion */
    r->state = REQ_OWNED;
    wdf_request_finish(r, st, info);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

void wdm_target_send(wdf_io_target_t *t, wdf_request_t *r)
{
    PDEVICE_OBJECT dev = t->wdm;
    if (!io_device_valid(dev)) {
        /* KMDF took no reference on it (FxIoTargetRemote::Open references
         * only TargetFileObject): the device object was deleted and freed
         * while the target was open, and the framework's IoCallDriver gets the
         * stale pointer -- what IoCallDriver reports for one (irp.c). */
        TDF_BUGCHECK(0xC9, 0x4, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                     "WdfRequestSend of %s through an I/O target opened on an existing device object that was "
                     "deleted and freed since: IoCallDriver with a pointer that is not a live device object (the "
                     "target holds no reference on it; keep one, e.g. pass the file object of "
                     "IoGetDeviceObjectPointer as TargetFileObject)",
                     t->owner->name);
        return;
    }
    PIRP irp = irp_model_alloc(dev->StackSize);
    if (!irp)
        return;
    irp_rec_of(irp)->request = r;
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(irp);
    fill_location(r, irp, next);
    irp->IoStatus.Status = STATUS_NOT_SUPPORTED;
    IoSetCompletionRoutine(irp, sent_irp_complete, r, TRUE, TRUE, TRUE);
    r->wdm_irp = irp;
    r->queue = NULL; /* no receiving queue: a WDM driver has it */
    r->state = REQ_QUEUED; /* in flight below the target: not the driver's */
    (void)IoCallDriver(dev, irp);
}

void wdm_target_cancel(wdf_request_t *r)
{
    irp_rec_t *rec = irp_rec_of(r->wdm_irp);
    if (rec && rec->magic == IRP_REC_LIVE)
        (void)irp_cancel(r->wdm_irp);
}

int wdm_target_cancelable(wdf_request_t *r)
{
    irp_rec_t *rec = irp_rec_of(r->wdm_irp);
    return rec && rec->magic == IRP_REC_LIVE && r->wdm_irp->CancelRoutine != NULL;
}
