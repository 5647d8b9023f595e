/*
 * WDFQUEUE: requests queued until the driver can take them, dispatched to its
 * EvtIo* callbacks on the thread that makes dispatch possible (the sender's,
 * or the one that resumes the queue), as KMDF does.
 *
 * Power-managed queues (KERNEL-SEMANTICS §4): held from the start of every
 * power-down (after SelfManagedIoSuspend) until D0Entry has run; requests the
 * driver owns get EvtIoStop and must be completed or acknowledged before the
 * power-down goes on (0x9F otherwise). Remove and surprise removal purge the
 * queues: queued requests are canceled, cancelable owned ones are canceled,
 * and the remove waits for the rest; afterwards new requests fail with
 * STATUS_INVALID_DEVICE_STATE.
 */
#include "wdf_internal.h"
#include "../kernel/tsan_sync.h"

#include <stdio.h>
#include <string.h>


static wdf_queue_t *queue_checked(WDFQUEUE h, const char *routine)
{
    return (wdf_queue_t *)wdf_object_checked((WDFOBJECT)h, OBJ_QUEUE, routine);
}

NTSTATUS WdfIoQueueCreate(WDFDEVICE Device, PWDF_IO_QUEUE_CONFIG Config, PWDF_OBJECT_ATTRIBUTES QueueAttributes,
                          WDFQUEUE *Queue)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfIoQueueCreate");
    if (Config->DefaultQueue && d->default_queue)
        return STATUS_INVALID_DEVICE_STATE;
    if (d->nqueues >= MAX_QUEUES) {
        TDF_LIMIT(MAX_QUEUES, "model/wdf/wdf_internal.h", "%s creates more queues", d->name);
        return STATUS_INSUFFICIENT_RESOURCES; /* only from main, which stops the run */
    }
    wdf_queue_t *q = pool_alloc_model(sizeof *q);
    wdf_object_init(&q->obj, OBJ_QUEUE, QueueAttributes);
    q->device = d;
    q->cfg = *Config;
    /* KMDF's default is power-managed (filters excepted, which are not modelled). */
    q->power_managed = Config->PowerManaged != WdfFalse;
    NTSTATUS st = wdf_sync_scope_init_queue(q); /* KERNEL-SEMANTICS §14 */
    if (!NT_SUCCESS(st)) {
        SCHED_TRACE0("WdfIoQueueCreate -> STATUS_INVALID_PARAMETER (Device scope, other ExecutionLevel)");
        return st;
    }
    d->queues[d->nqueues++] = q;
    if (Config->DefaultQueue)
        d->default_queue = q;
    if (Queue)
        *Queue = (WDFQUEUE)q;
    return STATUS_SUCCESS;
}

WDFDEVICE WdfIoQueueGetDevice(WDFQUEUE Queue) { return (WDFDEVICE)queue_checked(Queue, "WdfIoQueueGetDevice")->device; }

void wdf_device_hold_for_callback(wdf_device_t *d) { d->obj.refs++; }

static int held(const wdf_queue_t *q) { return q->power_managed && q->device->io_held; }

/* A power-managed queue holds one power reference on the power-policy owner
 * while it has requests, queued or owned by the driver (FxIoQueue:
 * SetTransitionFromEmpty takes it, the dispatch loop drops it once the total
 * count is 0). Taking it on an idle device brings the device back to D0
 * (KERNEL-SEMANTICS §13); the request stays queued until D0Entry has run. */
static void power_ref_update(wdf_queue_t *q)
{
    if (!q->power_managed)
        return;
    int busy = q->head != NULL || q->nowned > 0;
    if (busy && !q->power_ref)
        q->power_ref = pp_queue_reference(q->device);
    else if (!busy && q->power_ref) {
        q->power_ref = 0;
        pp_queue_dereference(q->device);
    }
}

static void own(wdf_queue_t *q, wdf_request_t *r)
{
    r->state = REQ_OWNED;
    r->queue = q;
    wdf_queue_add_owned(q, r);
}

void wdf_queue_add_owned(wdf_queue_t *q, wdf_request_t *r)
{
    wdf_request_list_make_room(&q->owned, &q->owned_cap, q->nowned, 16);
    q->owned[q->nowned++] = r;
}

static wdf_request_t *pop(wdf_queue_t *q)
{
    wdf_request_t *r = q->head;
    if (r) {
        q->head = r->next;
        if (!q->head)
            q->tail = NULL;
        r->next = NULL;
    }
    return r;
}

/* Around a queue callback other than the I/O dispatch (EvtIoStop,
 * EvtIoResume, EvtIoCanceledOnQueue, EvtRequestCancel): the presentation lock
 * with scope Device or Queue (KERNEL-SEMANTICS §14). Returns whether it took
 * it. A thread that already holds it runs the callback inline [model]: KMDF
 * defers such a callback to a DPC or work item (LIFECYCLE "Not modelled"). */
int wdf_queue_present_begin(wdf_queue_t *q, const char *what)
{
    wdf_callback_lock_t *pl = q->presentation;
    if (!pl || wdf_callback_lock_held_by_current(pl))
        return 0;
    wdf_callback_lock_acquire(pl, what);
    return 1;
}

void wdf_queue_present_end(wdf_queue_t *q, int taken, const char *what)
{
    if (taken)
        wdf_callback_lock_release(q->presentation, what);
}

static void dispatch(wdf_queue_t *q);
static void dispatch_deferred_main(void *arg)
{
    wdf_queue_t *q = arg;
    q->dispatch_deferred = 0;
    dispatch(q);
}

/* FxIoQueue::CanThreadDispatchEventsLocked: a thread above a passive queue's
 * level, or one that holds the queue's callback lock (a driver forwarding or
 * completing from inside a serialized callback, or holding
 * WdfObjectAcquireLock), does not call the driver: the dispatch moves to a
 * framework thread (KMDF: a work item for passive queues, else a DPC). With
 * the defaults (Dispatch, scope None, no WdfObjectAcquireLock) this never
 * happens, so existing drivers keep their schedules. */
static int dispatch_here_or_defer(wdf_queue_t *q)
{
    int passive = q->exec_level == WdfExecutionLevelPassive;
    if (!(passive && ke_irql() > PASSIVE_LEVEL) && !wdf_callback_lock_held_by_current(q->lock))
        return 1;
    if (!q->dispatch_deferred) {
        q->dispatch_deferred = 1;
        wdf_sync_scope_defer(passive ? "queue-workitem" : "queue-dpc", q->device,
                             passive ? PASSIVE_LEVEL : DISPATCH_LEVEL, dispatch_deferred_main, q);
    }
    return 0;
}

static void dispatch(wdf_queue_t *q)
{
    while (q->head && !held(q) && !q->purged && q->cfg.DispatchType != WdfIoQueueDispatchManual) {
        if (q->cfg.DispatchType == WdfIoQueueDispatchSequential && q->nowned > 0)
            return;
        if (!dispatch_here_or_defer(q))
            return;
        wdf_request_t *r = pop(q);
        own(q, r);
        SCHED_TRACE2("%s: dispatch request (ioctl 0x%lx)", q->device->name, (unsigned long)r->ioctl);
        /* A reference on the device across the callback: KMDF holds one on
         * the queue (a child of the device) around every callback into the
         * driver, and FxIoQueue::Dispose "will not actually complete deleting
         * until return from any outstanding event callbacks". So the device
         * and its driver's image outlive a dispatch running on the sender's
         * thread even if the request is canceled and the device removed
         * before the callback returns. */
        wdf_device_hold_for_callback(q->device);
        TDF_HB_ACQUIRE(q->device); /* dispatch follows the device's last D0Entry (device.c) */
        /* Scope Device / Queue: the request is the driver's from here on, and
         * the callback waits for the presentation lock (FxIoQueue invokes it
         * through a callback object that holds the lock). */
        wdf_callback_lock_t *pl = q->presentation;
        if (pl)
            wdf_callback_lock_acquire(pl, "queue dispatch");
        if (r->type == WdfRequestTypeDeviceControl && q->cfg.EvtIoDeviceControl)
            q->cfg.EvtIoDeviceControl((WDFQUEUE)q, wdf_request_receiver_handle(r), r->out_len, r->in_len, r->ioctl);
        else if (r->type == WdfRequestTypeDeviceControlInternal && q->cfg.EvtIoInternalDeviceControl)
            q->cfg.EvtIoInternalDeviceControl((WDFQUEUE)q, wdf_request_receiver_handle(r), r->out_len, r->in_len, r->ioctl);
        else if (r->type == WdfRequestTypeRead && q->cfg.EvtIoRead)
            q->cfg.EvtIoRead((WDFQUEUE)q, wdf_request_receiver_handle(r), r->out_len);
        else if (r->type == WdfRequestTypeWrite && q->cfg.EvtIoWrite)
            q->cfg.EvtIoWrite((WDFQUEUE)q, wdf_request_receiver_handle(r), r->in_len);
        else if (q->cfg.EvtIoDefault)
            q->cfg.EvtIoDefault((WDFQUEUE)q, wdf_request_receiver_handle(r));
        else
            wdf_request_finish(r, STATUS_INVALID_DEVICE_REQUEST, 0);
        if (pl)
            wdf_callback_lock_release(pl, "queue dispatch");
        wdf_object_release(&q->device->obj); /* may be the last reference: destroy, unload */
    }
}

void wdf_queue_deliver(wdf_queue_t *q, wdf_request_t *r)
{
    if (q->purged) {
        wdf_request_finish(r, STATUS_INVALID_DEVICE_STATE, 0);
        return;
    }
    r->state = REQ_QUEUED;
    r->queue = q;
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
    power_ref_update(q);
    /* A request canceled while the driver owned it (IoCancelIrp without a
     * cancel routine) and then forwarded here: the queue's insertion sees
     * Irp->Cancel and cancels it at once, as FxIrpQueue's insert does once it
     * has set its cancel routine. */
    if (r->cancel_requested) {
        wdf_request_cancel(r);
        return;
    }
    dispatch(q);
}

void wdf_queue_dispatch_all(wdf_device_t *d)
{
    for (unsigned i = 0; i < d->nqueues; i++)
        dispatch(d->queues[i]);
}

void wdf_queue_forget_owned(wdf_queue_t *q, wdf_request_t *r)
{
    for (unsigned i = 0; i < q->nowned; i++) {
        if (q->owned[i] == r) {
            q->owned[i] = q->owned[--q->nowned];
            break;
        }
    }
    power_ref_update(q);
    /* KMDF counts owned requests under the queue's lock: a power-down or
     * purge that sees the count drop also sees what the driver wrote while it
     * owned the request (the ACQUIREs in hold_queues and purge_queues). */
    TDF_HB_RELEASE(&q->device->io_held);
    sched_wake(&q->device->io_held); /* a power-down or purge may be waiting for it */
}

void wdf_queue_release_owned(wdf_queue_t *q, wdf_request_t *r)
{
    wdf_queue_forget_owned(q, r);
    dispatch(q); /* a sequential queue may take the next one now */
}

/* Removes r from q's pending list (a cancel of a queued request). */
void wdf_queue_unlink(wdf_queue_t *q, wdf_request_t *r)
{
    wdf_request_t **pp = &q->head, *prev = NULL;
    for (; *pp; prev = *pp, pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            if (q->tail == r)
                q->tail = prev;
            r->next = NULL;
            power_ref_update(q);
            return;
        }
    }
}

NTSTATUS WdfIoQueueRetrieveNextRequest(WDFQUEUE Queue, WDFREQUEST *OutRequest)
{
    ke_yield();
    wdf_queue_t *q = queue_checked(Queue, "WdfIoQueueRetrieveNextRequest");
    *OutRequest = NULL;
    if (held(q))
        return STATUS_NO_MORE_ENTRIES; /* a held power-managed queue presents nothing */
    wdf_request_t *r = pop(q);
    if (!r)
        return q->purged ? STATUS_INVALID_DEVICE_STATE : STATUS_NO_MORE_ENTRIES;
    own(q, r);
    *OutRequest = wdf_request_receiver_handle(r);
    return STATUS_SUCCESS;
}

NTSTATUS WdfRequestForwardToIoQueue(WDFREQUEST Request, WDFQUEUE DestinationQueue)
{
    ke_yield();
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestForwardToIoQueue");
    wdf_queue_t *dst = queue_checked(DestinationQueue, "WdfRequestForwardToIoQueue");
    if (r->state != REQ_OWNED) {
        TDF_BUGCHECK(0x10D, 0x7, "WDF_VIOLATION", "WdfRequestForwardToIoQueue on a request the driver does not own");
        return STATUS_INVALID_DEVICE_STATE;
    }
    /* FxIoQueue::VerifyForwardRequest (KERNEL-SEMANTICS §14): not to the queue
     * it is in, not to another device's queue, not while cancelable; the
     * driver still owns the request and must complete it. */
    if (dst == r->queue || dst->device != r->queue->device || r->cancel) {
        SCHED_TRACE1("WdfRequestForwardToIoQueue -> STATUS_INVALID_DEVICE_REQUEST (%s)",
                     dst == r->queue ? "same queue" : r->cancel ? "request is cancelable" : "another device's queue");
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    if (dst->purged)
        return STATUS_INVALID_DEVICE_STATE; /* the driver still owns it */
    /* A power-managed destination that is held (powering down, or in Dx)
     * keeps the request queued until its resume: the request is no longer
     * the driver's, so the power-down does not wait for it. */
    wdf_queue_forget_owned(r->queue, r);
    wdf_queue_deliver(dst, r);
    return STATUS_SUCCESS;
}

/* ---- power ------------------------------------------------------------------------- */

static unsigned count_unstopped(wdf_device_t *d)
{
    unsigned n = 0;
    for (unsigned i = 0; i < d->nqueues; i++) {
        wdf_queue_t *q = d->queues[i];
        if (!q->power_managed)
            continue;
        for (unsigned k = 0; k < q->nowned; k++)
            n += !q->owned[k]->stop_acked;
    }
    return n;
}

void wdf_device_hold_queues(wdf_device_t *d)
{
    d->io_held = 1;
    for (unsigned i = 0; i < d->nqueues; i++) {
        wdf_queue_t *q = d->queues[i];
        if (!q->power_managed)
            continue;
        for (unsigned k = 0; k < q->nowned; k++) {
            wdf_request_t *r = q->owned[k];
            if (r->stop_notified || !q->cfg.EvtIoStop)
                continue;
            r->stop_notified = 1;
            ULONG flags = WdfRequestStopActionSuspend | (r->cancel ? WdfRequestStopRequestCancelable : 0);
            SCHED_TRACE1("%s: EvtIoStop (suspend)", d->name);
            int locked = wdf_queue_present_begin(q, "EvtIoStop");
            q->cfg.EvtIoStop((WDFQUEUE)q, wdf_request_receiver_handle(r), flags);
            wdf_queue_present_end(q, locked, "EvtIoStop");
            k = (unsigned)-1; /* the callback may have completed requests: rescan */
            if (q->nowned == 0)
                break;
        }
    }
    for (;;) {
        unsigned pending = count_unstopped(d);
        if (pending == 0) {
            TDF_HB_ACQUIRE(&d->io_held);
            return;
        }
        if (ke_block_timed(&d->io_held, "power-down: requests to complete or acknowledge")) {
            char detail[200];
            snprintf(detail, sizeof detail,
                     "power-down of %s waits for %u request(s) the driver neither completes nor acknowledges "
                     "(EvtIoStop / WdfRequestStopAcknowledge)",
                     d->name, pending);
            tdf_fail(TDF_CLASS_BUGCHECK, 0x9F, 0x3, "DRIVER_POWER_STATE_FAILURE", d->name, "power", "%s", detail);
            return;
        }
    }
}

void wdf_device_resume_queues(wdf_device_t *d)
{
    d->io_held = 0;
    for (unsigned i = 0; i < d->nqueues; i++) {
        wdf_queue_t *q = d->queues[i];
        for (unsigned k = 0; k < q->nowned; k++) {
            wdf_request_t *r = q->owned[k];
            if (!r->stop_acked)
                continue;
            r->stop_acked = r->stop_notified = 0;
            if (q->cfg.EvtIoResume) {
                SCHED_TRACE1("%s: EvtIoResume", d->name);
                int locked = wdf_queue_present_begin(q, "EvtIoResume");
                q->cfg.EvtIoResume((WDFQUEUE)q, wdf_request_receiver_handle(r));
                wdf_queue_present_end(q, locked, "EvtIoResume");
            }
        }
    }
    wdf_queue_dispatch_all(d);
}

void wdf_device_purge_queues(wdf_device_t *d, int power_managed)
{
    for (unsigned i = 0; i < d->nqueues; i++) {
        wdf_queue_t *q = d->queues[i];
        if (q->power_managed != power_managed || q->purged)
            continue;
        q->purged = 1;
        SCHED_TRACE1("%s: purge queue", d->name);
        wdf_request_t *r;
        while ((r = pop(q)) != NULL) {
            if (q->cfg.EvtIoCanceledOnQueue) {
                own(q, r); /* the driver completes it from the callback */
                int locked = wdf_queue_present_begin(q, "EvtIoCanceledOnQueue");
                q->cfg.EvtIoCanceledOnQueue((WDFQUEUE)q, wdf_request_receiver_handle(r));
                wdf_queue_present_end(q, locked, "EvtIoCanceledOnQueue");
            } else {
                wdf_request_finish(r, STATUS_CANCELLED, 0);
            }
        }
        power_ref_update(q);
        for (unsigned k = 0; k < q->nowned; k++) {
            r = q->owned[k];
            if (r->cancel && !r->cancel_taken) {
                wdf_request_cancel(r);
                k = (unsigned)-1; /* the cancel routine may have completed any of them */
            }
        }
    }
    for (;;) {
        unsigned owned_total = 0;
        for (unsigned i = 0; i < d->nqueues; i++)
            if (d->queues[i]->power_managed == power_managed)
                owned_total += d->queues[i]->nowned;
        if (owned_total == 0) {
            TDF_HB_ACQUIRE(&d->io_held);
            return;
        }
        if (ke_block_timed(&d->io_held, "purge: owned requests to complete")) {
            tdf_fail(TDF_CLASS_HANG, 0, 0, "REMOVE_WAITS_FOR_REQUESTS", d->role, "requests", /* role: no instance */
                     "removal of %s waits forever for %u request(s) the driver owns and never completes", d->name,
                     owned_total);
            return;
        }
    }
}
