/*
 * Remote I/O targets (KERNEL-SEMANTICS §5): a driver opens another stack's
 * device by name, holds a handle on it (which keeps that device's removal
 * from completing), sends requests and queries interfaces through it, and
 * hears about the remote device's removal through EvtIoTargetQueryRemove /
 * RemoveCanceled / RemoveComplete. Close and purge cancel every sent request
 * and wait for them; stop/purge make later sends fail until Start.
 */
#include "wdf_internal.h"
#include "../kernel/irp.h"
#include "../kernel/tsan_sync.h"

#include <stdio.h>
#include <string.h>

static wdf_io_target_t *target_checked(WDFIOTARGET h, const char *routine)
{
    return (wdf_io_target_t *)wdf_object_checked((WDFOBJECT)h, OBJ_IOTARGET, routine);
}

NTSTATUS WdfDeviceCreateSymbolicLink(WDFDEVICE Device, PCUNICODE_STRING SymbolicLinkName)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceCreateSymbolicLink");
    size_t chars = SymbolicLinkName->Length / sizeof(WCHAR);
    d->symbolic_link = pool_alloc_model((chars + 1) * sizeof(WCHAR));
    memcpy(d->symbolic_link, SymbolicLinkName->Buffer, chars * sizeof(WCHAR));
    return STATUS_SUCCESS;
}

NTSTATUS WdfIoTargetCreate(WDFDEVICE Device, PWDF_OBJECT_ATTRIBUTES IoTargetAttributes, WDFIOTARGET *IoTarget)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfIoTargetCreate");
    if (d->ntargets >= MAX_TARGETS) {
        TDF_LIMIT(MAX_TARGETS, "model/wdf/wdf_internal.h", "%s creates more I/O targets", d->name);
        return STATUS_INSUFFICIENT_RESOURCES; /* only from main, which stops the run */
    }
    wdf_io_target_t *t = pool_alloc_model(sizeof *t);
    wdf_object_init(&t->obj, OBJ_IOTARGET, IoTargetAttributes);
    t->owner = d;
    d->targets[d->ntargets++] = t;
    *IoTarget = (WDFIOTARGET)t;
    return STATUS_SUCCESS;
}

static void attach(wdf_io_target_t *t, wdf_device_t *remote)
{
    t->remote = remote;
    t->open = 1;
    t->closed_for_query_remove = 0;
    t->stopped = t->purged = 0;
    remote->obj.refs++; /* the handle keeps the device object */
    if (remote->nopened_by < MAX_TARGETS)
        remote->opened_by[remote->nopened_by++] = t;
    else /* an unlisted handle would get no query-remove notification */
        TDF_LIMIT(MAX_TARGETS, "model/wdf/wdf_internal.h", "more open handles (I/O targets) on %s", remote->name);
}

NTSTATUS WdfIoTargetOpen(WDFIOTARGET IoTarget, PWDF_IO_TARGET_OPEN_PARAMS OpenParams)
{
    ke_yield();
    wdf_io_target_t *t = target_checked(IoTarget, "WdfIoTargetOpen");
    if (t->open)
        return STATUS_INVALID_DEVICE_STATE;
    if (OpenParams->Type == WdfIoTargetOpenReopen) {
        /* Reopen with the parameters of the last open (EvtIoTargetRemoveCanceled). */
        if (!t->params.Size)
            return STATUS_INVALID_DEVICE_STATE;
        WDF_IO_TARGET_OPEN_PARAMS again = t->params;
        return WdfIoTargetOpen(IoTarget, &again);
    }
    if (OpenParams->Type == WdfIoTargetOpenUseExistingDevice) {
        /* KERNEL-SEMANTICS §16 "KMDF's WDM escapes": the target references
         * the device object while open; no PnP notifications. A KMDF device's
         * object opens as its device record would by name. */
        wdf_device_t *dev = wdf_device_of_wdm(OpenParams->TargetDeviceObject);
        if (!dev)
            return STATUS_INVALID_PARAMETER;
        t->params = *OpenParams;
        if (!dev->wdm_driven) {
            attach(t, dev);
            return STATUS_SUCCESS;
        }
        /* FxIoTargetRemote::Open: no reference on the device object (the
         * driver keeps it alive), one on TargetFileObject while open. */
        if (OpenParams->TargetFileObject && !io_ob_reference(OpenParams->TargetFileObject, 1))
            TdfUnmodelled("WdfIoTargetOpen", "a TargetFileObject that is not a file object");
        t->wdm = OpenParams->TargetDeviceObject;
        t->wdm_file = OpenParams->TargetFileObject;
        t->open = 1;
        t->closed_for_query_remove = 0;
        t->stopped = t->purged = 0;
        SCHED_TRACE2("WdfIoTargetOpen %s -> %s (existing WDM device)", t->owner->name, dev->name);
        return STATUS_SUCCESS;
    }
    if (OpenParams->Type != WdfIoTargetOpenByName)
        TdfUnmodelled("WdfIoTargetOpen", "an open type other than by name, existing device and reopen");
    wdf_device_t *remote = wdf_device_by_symbolic_link(&OpenParams->TargetDeviceName);
    if (!remote) {
        SCHED_TRACE0("WdfIoTargetOpen -> STATUS_NO_SUCH_DEVICE");
        return STATUS_NO_SUCH_DEVICE;
    }
    if (remote->remove_pending) {
        /* The I/O manager fails creates on a device whose removal started
         * (remove pending): no handle can slip in after the notifications. */
        SCHED_TRACE0("WdfIoTargetOpen -> STATUS_DELETE_PENDING");
        return STATUS_DELETE_PENDING;
    }
    t->params = *OpenParams;
    attach(t, remote);
    SCHED_TRACE2("WdfIoTargetOpen %s -> %s", t->owner->name, remote->name);
    return STATUS_SUCCESS;
}

void wdf_io_target_sent_begin(wdf_io_target_t *t, wdf_request_t *r)
{
    for (unsigned i = 0; i < t->nsent; i++) {
        if (t->sent[i] == r) {
            t->sent[i] = t->sent[--t->nsent];
            break;
        }
    }
    t->completing++;
}

void wdf_io_target_sent_done(wdf_io_target_t *t)
{
    /* The routine's writes happen before a Purge(AndWait)/Close that waited
     * for it (KMDF: the target's lock and m_SentIoEvent). */
    TDF_HB_RELEASE(&t->nsent);
    t->completing--;
    sched_wake(&t->nsent);
}

/* ---- a stopped target keeps what is sent to it ---------------------------------------
 * KMDF (FxIoTarget::SubmitLocked): a send to a stopped target is queued in the
 * target (STATUS_WDF_QUEUED; WdfRequestSend returns TRUE). WdfIoTargetStart
 * sends the kept requests in order (SubmitPendedRequests); a purge, a close
 * or the target's removal completes them with
 * STATUS_WDF_DEVICE_REMOVED_NOT_SENT, a cancel with STATUS_CANCELLED
 * (FailPendedRequest), the completion routine called on the thread that did
 * it. A kept request is the sender's, in flight: REQ_QUEUED with no queue. */
static void deliver(wdf_io_target_t *t, wdf_request_t *r);

static void pend(wdf_io_target_t *t, wdf_request_t *r)
{
    wdf_request_list_make_room(&t->pended, &t->pended_cap, t->npended, 8);
    r->state = REQ_QUEUED;
    r->queue = NULL;
    r->pended_on = t;
    t->pended[t->npended++] = r;
    SCHED_TRACE2("WdfRequestSend %s: target stopped, request kept (%u kept)", t->owner->name, t->npended);
}

static void unpend(wdf_io_target_t *t, wdf_request_t *r)
{
    for (unsigned i = 0; i < t->npended; i++) {
        if (t->pended[i] == r) {
            /* send order kept: Start delivers them in it */
            memmove(&t->pended[i], &t->pended[i + 1], (t->npended - i - 1) * sizeof t->pended[0]);
            t->npended--;
            break;
        }
    }
    r->pended_on = NULL;
}

void wdf_io_target_fail_pended_request(wdf_request_t *r, NTSTATUS status)
{
    unpend(r->pended_on, r);
    SCHED_TRACE1("kept request failed 0x%lx, never sent", (unsigned long)(uint32_t)status);
    wdf_request_finish(r, status, 0); /* the sender's completion routine, on this thread */
}

/* Fails every kept request; the routines may send again (to a target that
 * is no longer stopped, or is closing: those fail at once). */
static void fail_pended(wdf_io_target_t *t, NTSTATUS status)
{
    while (t->npended > 0)
        wdf_io_target_fail_pended_request(t->pended[0], status);
}

/* Cancels every sent request and waits until all have completed. */
static void cancel_sent_and_wait(wdf_io_target_t *t, int cancel)
{
    if (cancel) {
        for (unsigned i = 0; i < t->nsent; i++) {
            unsigned before = t->nsent;
            wdf_request_cancel(t->sent[i]);
            if (t->nsent < before)
                i = (unsigned)-1; /* completed synchronously: the array changed */
        }
    }
    while (t->nsent > 0 || t->completing > 0) {
        if (ke_block_timed(&t->nsent, "I/O target: sent requests to complete")) {
            /* Keyed by the devices' roles: which instance (iochild0/1/...) hangs is the schedule's. */
            tdf_fail(TDF_CLASS_HANG, 0, 0, "SENT_IO_NEVER_COMPLETES", t->remote ? t->remote->role : "target",
                     t->owner->role, "%s waits forever for %u request(s) sent to %s (canceled, never completed)",
                     t->owner->name, t->nsent, t->remote ? t->remote->name : "?");
            return;
        }
    }
    TDF_HB_ACQUIRE(&t->nsent); /* after every completion routine that ran (wdf_io_target_sent_done) */
}

static void detach(wdf_io_target_t *t)
{
    if (t->wdm) { /* an existing WDM device object: the file object's reference goes */
        PFILE_OBJECT f = t->wdm_file;
        t->open = 0;
        t->wdm = NULL;
        t->wdm_file = NULL;
        SCHED_TRACE1("I/O target of %s on an existing WDM device closed", t->owner->name);
        if (f)
            (void)io_ob_reference(f, -1); /* may be the device object's last: its driver unloads */
        return;
    }
    wdf_device_t *remote = t->remote;
    if (t->local) { /* no handle to release (local_target.c) */
        t->open = 0;
        SCHED_TRACE1("local I/O target of %s closed", t->owner->name);
        return;
    }
    for (unsigned i = 0; i < remote->nopened_by; i++)
        if (remote->opened_by[i] == t)
            remote->opened_by[i] = remote->opened_by[--remote->nopened_by];
    t->open = 0;
    sched_wake(&remote->nopened_by);
    SCHED_TRACE2("handle on %s closed by %s", remote->name, t->owner->name);
    wdf_object_release(&remote->obj); /* may be the last reference of a removed device */
}

void wdf_io_target_close(wdf_io_target_t *t, int keep_registration)
{
    if (!t->open || t->closing)
        return;
    t->closing = 1; /* from here on WdfRequestSend fails: nothing new slips in while we wait */
    fail_pended(t, STATUS_WDF_DEVICE_REMOVED_NOT_SENT); /* FxIoTarget::GotoRemoveState drains them first */
    cancel_sent_and_wait(t, 1);
    t->closing = 0;
    if (!t->open)
        return;
    wdf_device_t *remote = t->remote;
    detach(t);
    t->closed_for_query_remove = keep_registration;
    if (!keep_registration)
        t->remote = NULL;
    else
        t->remote = remote; /* remembered for RemoveCanceled's reopen */
}

void wdf_io_target_reopen(wdf_io_target_t *t)
{
    if (t->closed_for_query_remove && t->remote && !t->open)
        attach(t, t->remote);
}

VOID WdfIoTargetCloseForQueryRemove(WDFIOTARGET IoTarget)
{
    ke_yield();
    wdf_io_target_close(target_checked(IoTarget, "WdfIoTargetCloseForQueryRemove"), 1);
}

VOID WdfIoTargetClose(WDFIOTARGET IoTarget)
{
    ke_yield();
    wdf_io_target_t *t = target_checked(IoTarget, "WdfIoTargetClose");
    wdf_io_target_close(t, 0);
    t->closed_for_query_remove = 0;
    t->remote = NULL;
}

NTSTATUS WdfIoTargetStart(WDFIOTARGET IoTarget)
{
    ke_yield();
    wdf_io_target_t *t = target_checked(IoTarget, "WdfIoTargetStart");
    t->stopped = t->purged = 0;
    if (!t->open)
        return STATUS_INVALID_DEVICE_STATE;
    /* The kept requests go now, oldest first; one its completion routine
     * sends again while this loop runs joins the end (or is sent at once). */
    while (t->npended > 0 && !t->stopped && !t->purged && t->open && !t->closing) {
        wdf_request_t *r = t->pended[0];
        unpend(t, r);
        r->state = REQ_IDLE;
        deliver(t, r);
    }
    return STATUS_SUCCESS;
}

VOID WdfIoTargetStop(WDFIOTARGET IoTarget, WDF_IO_TARGET_SENT_IO_ACTION Action)
{
    ke_yield();
    wdf_io_target_t *t = target_checked(IoTarget, "WdfIoTargetStop");
    t->stopped = 1;
    if (Action == WdfIoTargetCancelSentIo || Action == WdfIoTargetWaitForSentIoToComplete)
        cancel_sent_and_wait(t, Action == WdfIoTargetCancelSentIo);
}

VOID WdfIoTargetPurge(WDFIOTARGET IoTarget, WDF_IO_TARGET_PURGE_IO_ACTION Action)
{
    ke_yield();
    wdf_io_target_t *t = target_checked(IoTarget, "WdfIoTargetPurge");
    t->purged = 1;
    SCHED_TRACE1("WdfIoTargetPurge (%s)", Action == WdfIoTargetPurgeIoAndWait ? "and wait" : "no wait");
    fail_pended(t, STATUS_WDF_DEVICE_REMOVED_NOT_SENT); /* FxIoTarget::GotoPurgeState: drained, never sent */
    if (Action == WdfIoTargetPurgeIoAndWait) {
        cancel_sent_and_wait(t, 1);
    } else {
        /* Every send in flight now completes whenever its receiver gets to
         * it, after this returns: its completion routine is late from here
         * on (wdf_request_late_completion_key). Before the cancels, which may
         * complete some at once. */
        for (unsigned i = 0; i < t->nsent; i++)
            tdf_teardown_note(&t->sent[i]->purged_unwaited, "WdfIoTargetPurge(WdfIoTargetPurgeIo)");
        /* A completion routine running now is not waited for either. */
        if (t->completing) {
            t->purges_unwaited++;
            tdf_teardown_note(&t->purged_unwaited, "WdfIoTargetPurge(WdfIoTargetPurgeIo)");
        }
        if (t->nsent || t->completing)
            ke_set_late_completion_hook(wdf_request_late_completion_key);
        for (unsigned i = 0; i < t->nsent; i++) {
            unsigned before = t->nsent;
            wdf_request_cancel(t->sent[i]);
            if (t->nsent < before)
                i = (unsigned)-1;
        }
    }
}

WDFDEVICE WdfIoTargetGetDevice(WDFIOTARGET IoTarget)
{
    return (WDFDEVICE)target_checked(IoTarget, "WdfIoTargetGetDevice")->owner;
}

NTSTATUS WdfIoTargetFormatRequestForInternalIoctl(WDFIOTARGET IoTarget, WDFREQUEST Request, ULONG IoctlCode,
                                                  WDFMEMORY InputBuffer, PVOID InputBufferOffset,
                                                  WDFMEMORY OutputBuffer, PVOID OutputBufferOffset)
{
    ke_yield();
    (void)target_checked(IoTarget, "WdfIoTargetFormatRequestForInternalIoctl");
    if (InputBufferOffset || OutputBufferOffset)
        TdfUnmodelled("WdfIoTargetFormatRequestForInternalIoctl", "buffer offsets");
    wdf_request_t *r = wdf_request_checked(Request, "WdfIoTargetFormatRequestForInternalIoctl");
    if (r->state != REQ_IDLE && r->state != REQ_COMPLETED) {
        wdf_request_fail_pending(r, "formatting a request that is still pending");
        return STATUS_INVALID_DEVICE_STATE;
    }
    wdf_memory_t *in = InputBuffer ? (wdf_memory_t *)wdf_object_checked((WDFOBJECT)InputBuffer, OBJ_MEMORY, "format") : NULL;
    wdf_memory_t *out =
        OutputBuffer ? (wdf_memory_t *)wdf_object_checked((WDFOBJECT)OutputBuffer, OBJ_MEMORY, "format") : NULL;
    r->type = WdfRequestTypeDeviceControlInternal;
    r->ioctl = IoctlCode;
    r->in = in ? in->buffer : NULL;
    r->in_len = in ? in->size : 0;
    r->out = out ? out->buffer : NULL;
    r->out_len = out ? out->size : 0;
    return STATUS_SUCCESS;
}

/* The request goes to the target's device now: onto the sent list, then to
 * its default queue or, for a WDM device object, as an IRP. */
static void deliver(wdf_io_target_t *t, wdf_request_t *r)
{
    /* KMDF has no bound (a fixed table failed sends: the model's lie). */
    wdf_request_list_make_room(&t->sent, &t->sent_cap, t->nsent, 32);
    t->sent[t->nsent++] = r;
    if (t->wdm) {
        SCHED_TRACE1("WdfRequestSend %s -> a WDM device object", t->owner->name);
        wdm_target_send(t, r); /* an IRP to it, on the sender's thread (wdm_escape.c) */
    } else {
        SCHED_TRACE2("WdfRequestSend %s -> %s", t->owner->name, t->remote->name);
        wdf_queue_deliver(t->remote->default_queue, r); /* KMDF dispatches on the sender's thread */
    }
}

BOOLEAN WdfRequestSend(WDFREQUEST Request, WDFIOTARGET Target, PWDF_REQUEST_SEND_OPTIONS Options)
{
    ke_yield();
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestSend");
    wdf_io_target_t *t = target_checked(Target, "WdfRequestSend");
    ULONG flags = Options ? Options->Flags : 0;
    if (r->state == REQ_QUEUED || r->state == REQ_OWNED) {
        wdf_request_fail_pending(r, "WdfRequestSend of a request that is still pending");
        return FALSE;
    }
    int ignore_state = (flags & WDF_REQUEST_SEND_OPTION_IGNORE_TARGET_STATE) != 0;
    if (!t->open || t->closing || (t->purged && !ignore_state)) {
        r->status = STATUS_INVALID_DEVICE_STATE;
        SCHED_TRACE0("WdfRequestSend -> FALSE (target purged or closed)");
        return FALSE;
    }
    wdf_device_t *remote = t->remote;
    if (!t->wdm && !remote->default_queue) {
        r->status = STATUS_INVALID_DEVICE_STATE;
        return FALSE;
    }
    r->target = t;
    r->done = 0;
    r->cancel_requested = r->cancel_taken = 0;
    tdf_teardown_clear(&r->purged_unwaited); /* a new send: no purge has let it go yet */
    wdf_request_note_send(r);
    TDF_HB_RELEASE(r);
    if (t->stopped && !ignore_state)
        pend(t, r);
    else
        deliver(t, r);
    if (flags & WDF_REQUEST_SEND_OPTION_SYNCHRONOUS) {
        if (!t->wdm && !r->pended_on) /* the deadlock report's edge: a stuck callback of the receiver holds this up */
            ke_wait_for_device(remote, remote->role);
        while (!r->done)
            ke_block(&r->done, "synchronous WdfRequestSend");
        ke_wait_done();
        TDF_HB_ACQUIRE(r);
    }
    return TRUE;
}

NTSTATUS WdfIoTargetQueryForInterface(WDFIOTARGET IoTarget, LPCGUID InterfaceType, PINTERFACE Interface, USHORT Size,
                                      USHORT Version, PVOID InterfaceSpecificData)
{
    ke_yield();
    /* KERNEL-SEMANTICS §3: WdfFdoQueryForInterface and WdfIoTargetQueryForInterface
     * are both PASSIVE_LEVEL (IRP_MN_QUERY_INTERFACE); the Fdo variant already
     * checked it, this one did not. */
    if (ke_irql() != PASSIVE_LEVEL)
        TDF_MISUSE("WdfIoTargetQueryForInterface", "WdfIoTargetQueryForInterface above PASSIVE_LEVEL");
    wdf_io_target_t *t = target_checked(IoTarget, "WdfIoTargetQueryForInterface");
    if (!t->open)
        return STATUS_INVALID_DEVICE_STATE;
    Interface->Size = Size;
    Interface->Version = Version;
    return wdf_query_stack(t->remote, InterfaceType, Interface, Size, Version, InterfaceSpecificData);
}
