/*
 * WDFREQUEST: ownership, completion, cancellation (KERNEL-SEMANTICS §5).
 *
 * Cancellation follows the I/O manager's handshake: the canceler (IoCancelIrp,
 * here wdf_request_cancel) takes the cancel routine atomically; a request
 * still in a queue is completed by the framework; a request the driver owns
 * is completed by the driver's EvtRequestCancel. WdfRequestUnmarkCancelable
 * returns STATUS_CANCELLED when the cancel routine has the request, and then
 * the driver must not complete it. Completing twice is 0x10D; completing with
 * the cancel routine still set is 0xC9.
 */
#include "wdf_internal.h"
#include "../kernel/tsan_sync.h"

#include <stdio.h>
#include <string.h>

/* The sender's completion routines each thread is running, innermost last:
 * when a WdfIoTargetPurgeIo did not wait for one, a failure inside it is
 * keyed by that purge (wdf_request_late_completion_key). Static, not in
 * wdf_request_finish's frame: an ASan build would put redzones around a local
 * whose address escapes, at every completion. Routines nested deeper than
 * LATE_NEST are not tracked (their failures keep their own keys). */
#define LATE_NEST 4
static late_completion_t g_late_store[SCHED_SLOT_COUNT][LATE_NEST];
static unsigned g_late_depth[SCHED_SLOT_COUNT];
/* wdf_request_fail_pending's: the late routine that sent the request again */
static const late_completion_t *g_late_override[SCHED_SLOT_COUNT];

/* The run count of the retrieved-buffer records (below), bumped at each run's start. */
static unsigned g_retrieve_run = 1;

static const late_completion_t *late_current(int fiber)
{
    int i = sched_fiber_index(fiber);
    if (g_late_override[i])
        return g_late_override[i];
    unsigned d = g_late_depth[i];
    return d && d <= LATE_NEST ? &g_late_store[i][d - 1] : NULL;
}

/* The purge that did not wait for l's routine: one while its request was in
 * flight, or one while the routine ran (its target's record); NULL: none. */
static const tdf_teardown_t *late_purge(const late_completion_t *l)
{
    return l->purge.event                                    ? &l->purge
           : l->target->purges_unwaited != l->purges_before ? &l->target->purged_unwaited
                                                             : NULL;
}

/* At run start: a run aborted inside a completion routine leaves its
 * thread's depth (and an override) set. */
void wdf_request_late_reset(void)
{
    g_retrieve_run++; /* every thread's retrieved buffer is of the last run */
    memset(g_late_depth, 0, sizeof g_late_depth);
    memset(g_late_override, 0, sizeof g_late_override);
}

void wdf_request_note_send(wdf_request_t *r)
{
    const late_completion_t *l = late_current(sched_current());
    const tdf_teardown_t *purge = l ? late_purge(l) : NULL;
    r->late_send_set = purge != NULL;
    if (purge) {
        r->late_send = *l;
        r->late_send.purge = *purge; /* resolved: the target's count may move on */
    }
}

void wdf_request_fail_pending(wdf_request_t *r, const char *detail)
{
    /* Sent again by a late completion routine: the call that finds it
     * pending (the next power-up's own send) met that routine's send, and
     * is keyed by it, as a failure inside the routine is. */
    const late_completion_t **slot = &g_late_override[sched_current_index()];
    if (r->late_send_set)
        *slot = &r->late_send;
    TDF_BUGCHECK(0x10D, 0x7, "WDF_VIOLATION", "%s", detail);
    *slot = NULL; /* from the main context the failure returns */
}

int wdf_request_late_completion_key(int fiber, char *owner, size_t owner_size, char *routine, size_t routine_size,
                                    char *purger, size_t purger_size)
{
    const late_completion_t *l = late_current(fiber);
    const tdf_teardown_t *purge = l ? late_purge(l) : NULL;
    if (!purge)
        return 0;
    snprintf(owner, owner_size, "%s", l->target->owner->role);
    snprintf(routine, routine_size, "%s!%s", l->image ? l->image->name : "?", symbol_name(l->routine));
    if (purge->image)
        snprintf(purger, purger_size, "%s!%s", purge->image->name, symbol_name(purge->fn));
    else
        snprintf(purger, purger_size, "purge-no-wait");
    return 1;
}

wdf_request_t *wdf_request_checked(WDFREQUEST h, const char *routine)
{
    return (wdf_request_t *)wdf_object_checked((WDFOBJECT)h, OBJ_REQUEST, routine);
}

wdf_request_t *wdf_request_new(WDF_REQUEST_TYPE type, ULONG ioctl, void *in, size_t in_len, void *out, size_t out_len)
{
    wdf_request_t *r = pool_alloc_model(sizeof *r);
    wdf_object_init(&r->obj, OBJ_REQUEST, NULL);
    r->type = type;
    r->ioctl = ioctl;
    r->in = in;
    r->in_len = in_len;
    r->out = out;
    r->out_len = out_len;
    return r;
}

/* The dead object of a use of r after its completion, with the buffers its
 * key parts point into: filled by completed_dead, read by tdf_fail_dead. */
typedef struct {
    tdf_dead_t dead;
    char here[96], completer[96];
} completed_dead_t;

static void completed_dead(const wdf_request_t *r, completed_dead_t *d)
{
    d->dead = (tdf_dead_t){TDF_OBJ_REQUEST, r->owner_role, &r->completed_by, "request of %s (completed)",
                           {(uintptr_t)r->owner_role}};
    /* Two routines of the driver that completed the request race over it
     * as equals (a cancel routine and a worker both think they own it):
     * whichever completed first, the other's call is the use after the
     * completion, so the key is one for both orders. A use from another
     * image keeps the order (the completer tore the request down under a
     * driver that had no say in it). */
    d->dead.unordered = r->completed_by.image && r->completed_by.image == image_current();
    /* Of two such routines, where the queue's callbacks run under its
     * callback lock (synchronization scope Device or Queue, the lock
     * WdfObjectAcquireLock takes): a side without the lock is the bug,
     * whichever partner it raced (a locked one, or itself on another thread)
     * and whichever came first. The key names it (of two unlocked ones, the
     * first by name), "unlocked" as its last part. */
    const wdf_queue_t *q = r->queue;
    if (d->dead.unordered && q && q->presentation && q->lock) {
        int access_locked = wdf_callback_lock_held_by_current(q->lock);
        if (!access_locked || !r->completed_locked) {
            image_current_frame(d->here, sizeof d->here);
            snprintf(d->completer, sizeof d->completer, "%s!%s", r->completed_by.image->name,
                     symbol_name(r->completed_by.fn));
            const char *side = access_locked                        ? d->completer
                               : r->completed_locked                 ? d->here
                               : strcmp(d->here, d->completer) <= 0 ? d->here
                                                                      : d->completer;
            d->dead.unordered = 0;
            d->dead.key_access = side;
            d->dead.key_teardown = "unlocked";
        }
    }
}

void wdf_request_fail_completed(wdf_request_t *r, uint32_t subcode, const char *routine, const char *detail)
{
    completed_dead_t d;
    completed_dead(r, &d);
    tdf_fail_dead(&d.dead, routine, TDF_CLASS_BUGCHECK, 0x10D, subcode, "WDF_VIOLATION", NULL, NULL, "%s", detail);
}

void wdf_request_fail_stale_handle(wdf_request_t *r, const char *routine)
{
    char detail[200];
    snprintf(detail, sizeof detail,
             "%s on a request handle kept past the request's completion (the request was completed, then reused and "
             "sent again: the WDFREQUEST the handle named is gone)",
             routine);
    wdf_request_fail_completed(r, 0x5, routine, detail);
}

/* The buffer each thread last took from a request (WdfRequestRetrieve{Input,
 * Output}Buffer): a driver that writes its answer into a buffer it took
 * before the request was completed under it (a cancel routine's completion,
 * then the sender's removal freeing its memory) makes a sanitizer's use of
 * freed memory, and that use is the use after the completion, the key a
 * 0x10D on the handle would give (wdf_request_freed_buffer_dead). One buffer
 * a thread: the last one it took. */
typedef struct {
    const wdf_request_t *r; /* request records live until the run's end (object.c frees contexts only) */
    const char *lo, *hi;
    unsigned completions; /* r->completions when it was taken */
    unsigned run;         /* g_retrieve_run then: a record of an earlier run is stale */
    int fiber;            /* the thread that took it (a slot is reused by later threads) */
} retrieved_t;
static retrieved_t g_retrieved[SCHED_SLOT_COUNT];

const tdf_dead_t *wdf_request_freed_buffer_dead(const void *addr)
{
    const retrieved_t *t = &g_retrieved[sched_current_index()];
    const char *a = addr;
    if (t->run != g_retrieve_run || t->fiber != sched_current() || a < t->lo || a >= t->hi ||
        t->r->completions == t->completions)
        return NULL;
    static completed_dead_t d; /* the failure's record points into it until the process ends */
    completed_dead(t->r, &d);
    return &d.dead;
}

void wdf_request_finish(wdf_request_t *r, NTSTATUS status, ULONG_PTR information)
{
    wdm_request_finished(r, status, information); /* WdfRequestWdmGetIrp's IRP goes with the completion */
    wdf_queue_t *q = r->state == REQ_OWNED ? r->queue : NULL;
    r->completed_locked = q && q->lock && wdf_callback_lock_held_by_current(q->lock);
    r->state = REQ_COMPLETED;
    r->completions++;
    r->owner_role = q ? q->device->role : r->obj.image ? r->obj.image->name : "client";
    r->status = status;
    r->information = information;
    r->cancel = NULL;
    if (r->from_io_manager) {
        /* The I/O manager copies the system buffer back and frees it at
         * completion, and KMDF frees the WDFREQUEST with its memory objects
         * and the driver's objects parented to it (KERNEL-SEMANTICS §12). */
        if (r->in)
            pool_free_deferred(r->in);
        if (r->out && r->out != r->in)
            pool_free_deferred(r->out);
        wdf_memory_delete_children(&r->obj);
    }
    TDF_HB_RELEASE(r); /* completion publishes the receiver's writes to the sender */
    SCHED_TRACE1("request completed 0x%lx", (unsigned long)(uint32_t)status);
    tdf_teardown_note(&r->completed_by, "request completed");
    if (q)
        wdf_queue_release_owned(q, r);
    wdf_io_target_t *t = r->target;
    if (t) {
        r->target = NULL;
        /* Off the sent list before the routine, counted as completing until
         * it returns: the routine may re-send this very request
         * (WdfRequestReuse + WdfRequestSend, the inverted call's re-arm),
         * which puts it on a sent list again as a new send. */
        wdf_io_target_sent_begin(t, r);
        if (r->completion) {
            WDF_REQUEST_COMPLETION_PARAMS params = {sizeof params, r->type, status, information};
            TDF_HB_ACQUIRE(r);
            int slot = sched_current_index();
            unsigned depth = g_late_depth[slot]++;
            if (depth < LATE_NEST) {
                /* The purge record is copied only when there is one (every
                 * completion runs this): the routine may re-send the request,
                 * which clears the request's. */
                late_completion_t *late = &g_late_store[slot][depth];
                late->purge.event = NULL;
                late->target = t;
                late->purges_before = t->purges_unwaited;
                late->image = r->obj.image;
                late->routine = (const void *)r->completion;
                if (r->purged_unwaited.event)
                    late->purge = r->purged_unwaited;
                else if (r->late_send_set) /* a late routine's send: a chain no purge waited for */
                    late->purge = r->late_send.purge;
            }
            /* The sender's routine, in the sender's image: after its unload, 0xCE. */
            unsigned saved = image_callback_begin(); /* the sender's routine: entered from the framework */
            r->completion((WDFREQUEST)r, (WDFIOTARGET)t, &params, r->completion_context);
            image_callback_end(saved);
            g_late_depth[slot]--;
        }
        /* Only now does the request stop counting as sent I/O: KMDF's
         * FxIoTarget::RequestCompletionRoutine calls the driver's completion
         * routine (CompleteRequest) before it sets m_SentIoEvent and drops
         * the target's I/O count, so WdfIoTargetClose / Purge(AndWait) / the
         * device's deletion return only after every completion routine has
         * returned (KERNEL-SEMANTICS §5 "Close cancels sent I/O, ... waits").
         * Waking the waiter first let the sender unload while its routine
         * was still running on the completing thread (a false 0xCE). */
        wdf_io_target_sent_done(t);
        if (r->target)
            return; /* sent again from its completion routine: in flight, not done */
    }
    r->done = 1;
    sched_wake(&r->done);
}

/* A call that needs the request owned, on one the driver does not own. If
 * the request was completed (now, or before a WdfRequestReuse and a second
 * send), the handle is stale and the fatal pair is that completion: keyed as
 * a use after it, the same bug whether or not the request was re-sent in
 * between. Otherwise (never delivered to this driver) a bare 0x10D. */
static void fail_not_owned(wdf_request_t *r, const char *routine)
{
    if (r->state == REQ_COMPLETED || r->completed_by.event) {
        char detail[200];
        snprintf(detail, sizeof detail, "%s on a request the driver does not own (%s)", routine,
                 r->state == REQ_COMPLETED ? "already completed"
                                           : "completed, then reused and sent again: the handle is stale");
        wdf_request_fail_completed(r, 0x7, routine, detail);
        return;
    }
    TDF_BUGCHECK(0x10D, 0x7, "WDF_VIOLATION", "%s on a request the driver does not own", routine);
}

static int complete_checks(wdf_request_t *r, const char *routine)
{
    if (r->state == REQ_COMPLETED) {
        char detail[160];
        snprintf(detail, sizeof detail, "%s on a request that was already completed%s", routine,
                 r->cancel_taken ? " (by its cancel routine)" : "");
        wdf_request_fail_completed(r, 0x7, routine, detail);
        return 0;
    }
    if (r->state != REQ_OWNED) {
        fail_not_owned(r, routine);
        return 0;
    }
    if (r->cancel) {
        /* The cancel routine still set is the race the completion opens: it
         * may run and complete the request too. The fatal pair is this
         * completion and the cancel routine, keyed as two routines of one
         * driver that both finish the request (docs/REPORTS.md
         * "Signatures"): the same key as when the cancel routine did
         * complete it first and this call came after. */
        tdf_dead_t dead = {TDF_OBJ_REQUEST, r->queue ? r->queue->device->role : "client", &r->cancel_set,
                           "request of %s (cancel routine still set)",
                           {(uintptr_t)(r->queue ? r->queue->device->role : "client")}};
        dead.unordered = r->cancel_set.image && r->cancel_set.image == image_current();
        char detail[200];
        snprintf(detail, sizeof detail, "%s with the cancel routine still set (%s: marked cancelable, never unmarked)",
                 routine, symbol_name((const void *)r->cancel));
        tdf_fail_dead(&dead, routine, TDF_CLASS_BUGCHECK, 0xC9, 0, "DRIVER_VERIFIER_IOMANAGER_VIOLATION", NULL, NULL,
                      "%s", detail);
        return 0;
    }
    return 1;
}

VOID WdfRequestCompleteWithInformation(WDFREQUEST Request, NTSTATUS Status, ULONG_PTR Information)
{
    ke_yield();
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestComplete");
    if (complete_checks(r, "WdfRequestComplete")) {
        wdf_request_finish(r, Status, Information);
        /* After the completion the sender (its completion routine, or a
         * waiting client) may run on another processor before the completing
         * driver's next instruction (ARCHITECTURE.md, "Yield points"). */
        ke_yield();
    }
}

VOID WdfRequestComplete(WDFREQUEST Request, NTSTATUS Status)
{
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestComplete");
    WdfRequestCompleteWithInformation(Request, Status, r ? r->information : 0);
}

VOID WdfRequestSetInformation(WDFREQUEST Request, ULONG_PTR Information)
{
    wdf_request_checked(Request, "WdfRequestSetInformation")->information = Information;
}

void wdf_request_cancel(wdf_request_t *r)
{
    if (r->state == REQ_COMPLETED || r->state == REQ_IDLE)
        return;
    if (r->wdm_irp) { /* sent to a WDM device object: IoCancelIrp of its IRP */
        r->cancel_requested = 1;
        wdm_target_cancel(r);
        return;
    }
    r->cancel_requested = 1;
    if (r->pended_on) { /* kept by a stopped target: never delivered, failed now (io_target.c) */
        wdf_io_target_fail_pended_request(r, STATUS_CANCELLED);
        return;
    }
    if (r->state == REQ_QUEUED) {
        wdf_queue_t *q = r->queue;
        wdf_queue_unlink(q, r);
        if (q->cfg.EvtIoCanceledOnQueue) {
            r->state = REQ_OWNED;
            wdf_queue_add_owned(q, r);
            wdf_device_hold_for_callback(q->device); /* as for every queue callback (queue.c dispatch) */
            int locked = wdf_queue_present_begin(q, "EvtIoCanceledOnQueue");
            q->cfg.EvtIoCanceledOnQueue((WDFQUEUE)q, wdf_request_receiver_handle(r));
            wdf_queue_present_end(q, locked, "EvtIoCanceledOnQueue");
            wdf_object_release(&q->device->obj);
        } else {
            wdf_request_finish(r, STATUS_CANCELLED, 0);
        }
        return;
    }
    PFN_WDF_REQUEST_CANCEL routine = r->cancel;
    if (!routine || r->cancel_taken)
        return; /* not cancelable now: the driver sees WdfRequestIsCanceled / MarkCancelableEx */
    r->cancel_taken = 1; /* taken atomically, as IoCancelIrp's exchange of the routine */
    r->cancel = NULL;
    SCHED_TRACE0("cancel routine runs");
    /* KMDF invokes EvtRequestCancel from its queue's event processing, with
     * the queue referenced (queue.c dispatch): the receiver's device and image
     * outlive the routine, even when it completes the request (the sender's
     * close returns) before it returns. */
    wdf_queue_t *q = r->queue;
    wdf_device_t *d = q->device;
    wdf_device_hold_for_callback(d);
    /* With scope Device / Queue, EvtRequestCancel runs under the queue's
     * presentation lock too (FxIoQueue's m_IoCancelCallbackLockPtr). */
    int locked = wdf_queue_present_begin(q, "EvtRequestCancel");
    routine(wdf_request_receiver_handle(r)); /* the receiver's EvtRequestCancel: it must complete the request */
    wdf_queue_present_end(q, locked, "EvtRequestCancel");
    wdf_object_release(&d->obj);
}

/* FxRequestBase::Cancel: FALSE once the request's completion has started
 * (its I/O completion reference is gone), else IoCancelIrp's answer: TRUE if
 * a cancel routine ran (or the request was still queued and the framework
 * canceled it), FALSE if the receiver holds it without one (it sees the
 * cancel at its next WdfRequestMarkCancelableEx / WdfRequestIsCanceled). The
 * handle must still be valid: a request its completion routine deleted is
 * 0x10D (and its context freed, for ASan). */
BOOLEAN WdfRequestCancelSentRequest(WDFREQUEST Request)
{
    ke_yield();
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestCancelSentRequest");
    if (!r->target || r->state == REQ_COMPLETED || r->state == REQ_IDLE) {
        SCHED_TRACE0("WdfRequestCancelSentRequest -> FALSE (not in flight: completing or completed)");
        return FALSE;
    }
    int would_cancel = r->wdm_irp ? wdm_target_cancelable(r) : r->state == REQ_QUEUED || (r->cancel && !r->cancel_taken);
    wdf_request_cancel(r);
    SCHED_TRACE1("WdfRequestCancelSentRequest -> %s", would_cancel ? "TRUE" : "FALSE (no cancel routine set)");
    return (BOOLEAN)would_cancel;
}

NTSTATUS WdfRequestMarkCancelableEx(WDFREQUEST Request, PFN_WDF_REQUEST_CANCEL EvtRequestCancel)
{
    ke_yield();
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestMarkCancelableEx");
    if (r->state != REQ_OWNED) {
        fail_not_owned(r, "WdfRequestMarkCancelableEx"); /* the fatal pair: its completion */
        return STATUS_INVALID_DEVICE_STATE;
    }
    /* KMDF 1.11+: once the request's queue is being purged, marking it
     * cancelable fails too, and the driver completes it itself. */
    if (r->cancel_requested || (r->queue && r->queue->purged)) {
        SCHED_TRACE0("MarkCancelableEx -> STATUS_CANCELLED (already canceled or queue purged)");
        return STATUS_CANCELLED;
    }
    r->cancel = EvtRequestCancel;
    r->cancel_taken = 0;
    SCHED_TRACE0("MarkCancelableEx");
    tdf_teardown_note_fn(&r->cancel_set, "cancel routine set (WdfRequestMarkCancelableEx)", image_current(),
                         (const void *)EvtRequestCancel);
    return STATUS_SUCCESS;
}

NTSTATUS WdfRequestUnmarkCancelable(WDFREQUEST Request)
{
    ke_yield();
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestUnmarkCancelable");
    if (r->state != REQ_OWNED) {
        /* A completed request is gone from the receiver's point of view: KMDF
         * frees the WDFREQUEST of an I/O-manager IRP at completion (and its
         * WdfRequestUnmarkCancelable refuses m_Completed requests), so the
         * handle is stale; as WdfRequestMarkCancelableEx above, 0x10D. Without
         * this, a cancel_taken left over from the completed request made the
         * call look like a clean STATUS_CANCELLED. */
        fail_not_owned(r, "WdfRequestUnmarkCancelable");
        return STATUS_INVALID_DEVICE_STATE;
    }
    if (r->cancel_taken) {
        SCHED_TRACE0("UnmarkCancelable -> STATUS_CANCELLED (cancel routine has it)");
        return STATUS_CANCELLED;
    }
    r->cancel = NULL;
    SCHED_TRACE0("UnmarkCancelable");
    return STATUS_SUCCESS;
}

BOOLEAN WdfRequestIsCanceled(WDFREQUEST Request)
{
    ke_yield();
    return (BOOLEAN)wdf_request_checked(Request, "WdfRequestIsCanceled")->cancel_requested;
}

VOID WdfRequestStopAcknowledge(WDFREQUEST Request, BOOLEAN Requeue)
{
    ke_yield();
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestStopAcknowledge");
    if (r->state != REQ_OWNED)
        return;
    if (Requeue) {
        wdf_queue_t *q = r->queue;
        r->stop_notified = 0;
        /* back to the head (first dispatched on resume) before it stops
         * counting as owned: the queue never looks empty in between, so its
         * power reference is kept (queue.c power_ref_update) */
        r->next = q->head;
        q->head = r;
        if (!q->tail)
            q->tail = r;
        wdf_queue_forget_owned(q, r);
        r->state = REQ_QUEUED;
    } else {
        r->stop_acked = 1;
    }
    sched_wake(&r->queue->device->io_held);
}

VOID WdfRequestGetParameters(WDFREQUEST Request, PWDF_REQUEST_PARAMETERS Parameters)
{
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestGetParameters");
    Parameters->Type = r->type;
    Parameters->Parameters.DeviceIoControl.IoControlCode = r->ioctl;
    Parameters->Parameters.DeviceIoControl.InputBufferLength = r->in_len;
    Parameters->Parameters.DeviceIoControl.OutputBufferLength = r->out_len;
}

/* A call on a request the caller received and no longer has: completed, or
 * completed and reused by its sender since (not sent again). KMDF frees the
 * WDFREQUEST it made for a received I/O at the completion, with the client's
 * buffers of an IRP; a sender's request is its own and outlives it. So a
 * call from any driver but the sender's, or any call on a client's IRP, is a
 * use after that completion -- typically a cancel routine, or a worker that
 * ignored WdfRequestUnmarkCancelable's STATUS_CANCELLED, reaching for a
 * request the other one completed. */
static int receiver_handle_stale(const wdf_request_t *r)
{
    int completed = r->state == REQ_COMPLETED || (r->state == REQ_IDLE && r->completed_by.event);
    return completed && (r->from_io_manager || image_current() != r->obj.image);
}

/* KMDF's WdfRequestRetrieve{Input,Output}Buffer: no (or a zero-length)
 * buffer, or one shorter than the minimum, is STATUS_BUFFER_TOO_SMALL
 * (FxRequest::GetMemoryObject, fxrequestapi.cpp). */
static NTSTATUS retrieve(wdf_request_t *r, void *buf, size_t len, size_t min, PVOID *out, size_t *out_len,
                         const char *routine)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (receiver_handle_stale(r)) {
        char detail[120];
        snprintf(detail, sizeof detail, "%s on a request already completed", routine);
        wdf_request_fail_completed(r, 0x5, routine, detail);
        return STATUS_INVALID_DEVICE_STATE;
    }
    if (!buf || len == 0 || len < min)
        return STATUS_BUFFER_TOO_SMALL;
    g_retrieved[sched_current_index()] =
        (retrieved_t){r, buf, (const char *)buf + len, r->completions, g_retrieve_run, sched_current()};
    ke_set_freed_buffer_hook(wdf_request_freed_buffer_dead);
    *out = buf;
    if (out_len)
        *out_len = len;
    return STATUS_SUCCESS;
}

NTSTATUS WdfRequestRetrieveInputBuffer(WDFREQUEST Request, size_t Min, PVOID *Buffer, size_t *Length)
{
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestRetrieveInputBuffer");
    return retrieve(r, r->in, r->in_len, Min, Buffer, Length, "WdfRequestRetrieveInputBuffer");
}

NTSTATUS WdfRequestRetrieveOutputBuffer(WDFREQUEST Request, size_t Min, PVOID *Buffer, size_t *Length)
{
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestRetrieveOutputBuffer");
    return retrieve(r, r->out, r->out_len, Min, Buffer, Length, "WdfRequestRetrieveOutputBuffer");
}

WDFQUEUE WdfRequestGetIoQueue(WDFREQUEST Request)
{
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestGetIoQueue");
    /* A receiver asking for the queue after the completion (receiver_handle_stale)
     * -- typically a cancel routine that runs after the driver completed the
     * request anyway -- is a use after that completion, not a bare bad-handle
     * 0x10D on the NULL queue it would pass on. */
    if (receiver_handle_stale(r)) {
        wdf_request_fail_completed(r, 0x5, "WdfRequestGetIoQueue", "WdfRequestGetIoQueue on a request already completed");
        return NULL;
    }
    return (WDFQUEUE)r->queue;
}

NTSTATUS WdfRequestGetStatus(WDFREQUEST Request) { return wdf_request_checked(Request, "WdfRequestGetStatus")->status; }

ULONG_PTR WdfRequestGetInformation(WDFREQUEST Request)
{
    return wdf_request_checked(Request, "WdfRequestGetInformation")->information;
}

/* ---- sender side ------------------------------------------------------------------- */
NTSTATUS WdfRequestCreate(PWDF_OBJECT_ATTRIBUTES RequestAttributes, WDFIOTARGET IoTarget, WDFREQUEST *Request)
{
    (void)IoTarget;
    ke_yield();
    wdf_request_t *r = pool_alloc_model(sizeof *r);
    wdf_object_init(&r->obj, OBJ_REQUEST, RequestAttributes);
    r->state = REQ_IDLE;
    *Request = (WDFREQUEST)r;
    return STATUS_SUCCESS;
}

VOID WdfRequestSetCompletionRoutine(WDFREQUEST Request, PFN_WDF_REQUEST_COMPLETION_ROUTINE CompletionRoutine,
                                    WDFCONTEXT CompletionContext)
{
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestSetCompletionRoutine");
    r->completion = CompletionRoutine;
    r->completion_context = CompletionContext;
}

NTSTATUS WdfRequestReuse(WDFREQUEST Request, PWDF_REQUEST_REUSE_PARAMS ReuseParams)
{
    ke_yield();
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestReuse");
    if (r->state != REQ_COMPLETED && r->state != REQ_IDLE) {
        wdf_request_fail_pending(r, "WdfRequestReuse on a request that is still pending");
        return STATUS_INVALID_DEVICE_STATE;
    }
    PFN_WDF_REQUEST_COMPLETION_ROUTINE completion = r->completion;
    WDFCONTEXT context = r->completion_context;
    wdf_object_t obj = r->obj;
    /* Kept across the reuse: a stale call from the first send's receiver
     * (its handle to the completed request) is a use after that completion
     * (fail_not_owned), not a bare 0x10D with no fatal pair. */
    tdf_teardown_t completed_by = r->completed_by;
    int completed_locked = r->completed_locked;
    const char *owner_role = r->owner_role;
    unsigned completions = r->completions; /* a buffer taken before the reuse is stale after it */
    memset(r, 0, sizeof *r);
    r->obj = obj;
    r->completed_by = completed_by;
    r->completed_locked = completed_locked;
    r->owner_role = owner_role;
    r->completions = completions;
    r->completion = completion;
    r->completion_context = context;
    r->status = ReuseParams->Status;
    return STATUS_SUCCESS;
}

void wdf_request_list_make_room(wdf_request_t ***list, unsigned *cap, unsigned count, unsigned first_cap)
{
    if (count < *cap)
        return;
    unsigned grown_cap = *cap ? 2 * *cap : first_cap;
    wdf_request_t **grown = pool_alloc_model(grown_cap * sizeof *grown);
    if (count)
        memcpy(grown, *list, count * sizeof *grown);
    *list = grown;
    *cap = grown_cap;
}
