/*
 * WDFREQUEST (model/wdf/request.c): ownership, completion and the cancel
 * handshake (KERNEL-SEMANTICS §5), and a queue's owned requests (any number).
 * Each test builds one device and one queue inside a model thread (no PnP
 * manager, no driver image: the callbacks below are harness code), runs the
 * scenario, and checks the outcome and the failure record from main.
 */
#include "../model/wdf/wdf_internal.h"
#include "fiber_harness.h"
#include "tdf_test.h"

#include <stdio.h>

static wdf_device_t *g_dev;
static WDFQUEUE g_queue;
static WDFREQUEST g_owned[128]; /* requests the "driver" received, in order */
static unsigned g_nreceived;
static int g_cancel_completes;            /* the cancel routine completes at once */
static WDFREQUEST g_cancel_seen;          /* the request the cancel routine got */
static NTSTATUS g_status[4];
static int g_reached_end;

static VOID on_io_default(WDFQUEUE Queue, WDFREQUEST Request)
{
    (void)Queue;
    if (g_nreceived < TDF_ARRAY_SIZE(g_owned))
        g_owned[g_nreceived++] = Request;
}

static VOID on_cancel(WDFREQUEST Request)
{
    g_cancel_seen = Request;
    if (g_cancel_completes)
        WdfRequestComplete(Request, STATUS_CANCELLED);
}

static void reset_globals(void)
{
    g_dev = NULL;
    g_queue = NULL;
    memset(g_owned, 0, sizeof g_owned);
    g_nreceived = 0;
    g_cancel_completes = 1;
    g_cancel_seen = NULL;
    for (unsigned i = 0; i < TDF_ARRAY_SIZE(g_status); i++)
        g_status[i] = (NTSTATUS)0xEEEEEEEE;
    g_reached_end = 0;
}

/* A started FDO with one queue of `dispatch` type; never destroyed in the
 * run (an extra reference), so no driver object is needed. */
static void make_device_and_queue(WDF_IO_QUEUE_DISPATCH_TYPE dispatch)
{
    g_dev = pool_alloc_model(sizeof *g_dev);
    wdf_object_init(&g_dev->obj, OBJ_DEVICE, NULL);
    g_dev->obj.refs = 1000;
    snprintf(g_dev->name, sizeof g_dev->name, "test (FDO)");
    g_dev->pnp = PNP_STARTED;
    g_dev->power = WdfPowerDeviceD0;
    WDF_IO_QUEUE_CONFIG cfg;
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&cfg, dispatch);
    cfg.EvtIoDefault = on_io_default;
    cfg.PowerManaged = WdfFalse;
    g_status[3] = WdfIoQueueCreate((WDFDEVICE)g_dev, &cfg, NULL, &g_queue);
}

static wdf_request_t *deliver_one(void)
{
    wdf_request_t *r = wdf_request_new(WdfRequestTypeDeviceControl, 0x222000, NULL, 0, NULL, 0);
    wdf_queue_deliver((wdf_queue_t *)g_queue, r);
    return r;
}

static sched_outcome_t run1(sched_fiber_fn *fn) { return fh_run(&fn, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals); }

static void check_clean(sched_outcome_t outcome, int line)
{
    if (!tdf_check(outcome == SCHED_OUTCOME_DONE, __FILE__, line, "outcome == SCHED_OUTCOME_DONE"))
        printf("    outcome = %d\n", (int)outcome);
    if (!tdf_check(tdf_failure() == NULL, __FILE__, line, "tdf_failure() == NULL"))
        printf("    unexpected failure: %s %s\n", tdf_failure()->name, tdf_failure()->detail);
    tdf_check(g_reached_end, __FILE__, line, "the fiber reached its end");
}

/* The run stopped at a failure of class `cls`, `code`/`subcode`, whose detail
 * contains `detail`, and did not go on after the call. */
static void check_failure(sched_outcome_t outcome, tdf_class_t cls, uint32_t code, uint32_t subcode,
                          const char *detail, int line)
{
    fh_check_failure(outcome, cls, code, subcode, NULL, NULL, detail, __FILE__, line);
    tdf_check(!g_reached_end, __FILE__, line, "the fiber stopped at the failure");
}

/* ---- completion ------------------------------------------------------------------ */
static void complete_once(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchParallel);
    wdf_request_t *r = deliver_one();
    WdfRequestCompleteWithInformation(g_owned[0], STATUS_SUCCESS, 7);
    g_status[0] = r->status;
    g_status[1] = (NTSTATUS)r->information;
    g_status[2] = (NTSTATUS)((wdf_queue_t *)g_queue)->nowned;
    g_reached_end = 1;
}

TEST(complete_once_is_clean_and_releases_ownership)
{
    check_clean(run1(complete_once), __LINE__);
    CHECK_EQ(g_status[3], STATUS_SUCCESS);
    CHECK_EQ(g_nreceived, 1);
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    CHECK_EQ(g_status[1], 7);
    CHECK_EQ(g_status[2], 0); /* no longer owned */
}

static void complete_twice(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchParallel);
    deliver_one();
    WdfRequestComplete(g_owned[0], STATUS_SUCCESS);
    WdfRequestComplete(g_owned[0], STATUS_SUCCESS);
    g_reached_end = 1;
}

TEST(second_completion_is_0x10D)
{
    check_failure(run1(complete_twice), TDF_CLASS_BUGCHECK, 0x10D, 0x7,
                  "WdfRequestComplete on a request that was already completed", __LINE__);
    CHECK(strstr(tdf_failure() ? tdf_failure()->detail : "", "cancel routine") == NULL);
}

static void complete_queued(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchManual); /* stays queued: the driver never owned it */
    wdf_request_t *r = deliver_one();
    WdfRequestComplete((WDFREQUEST)r, STATUS_SUCCESS);
    g_reached_end = 1;
}

TEST(completing_a_request_the_driver_does_not_own_is_0x10D)
{
    check_failure(run1(complete_queued), TDF_CLASS_BUGCHECK, 0x10D, 0x7,
                  "WdfRequestComplete on a request the driver does not own", __LINE__);
}

static void complete_while_cancelable(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchParallel);
    deliver_one();
    g_status[0] = WdfRequestMarkCancelableEx(g_owned[0], on_cancel);
    WdfRequestComplete(g_owned[0], STATUS_SUCCESS);
    g_reached_end = 1;
}

TEST(completing_with_the_cancel_routine_set_is_0xC9)
{
    check_failure(run1(complete_while_cancelable), TDF_CLASS_BUGCHECK, 0xC9, 0,
                  "with the cancel routine still set", __LINE__);
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    /* Its fatal pair: the completion and the cancel routine it leaves armed,
     * keyed as the request race of the two (docs/REPORTS.md "Signatures"). */
    const tdf_failure_t *f = tdf_failure();
    if (f) {
        char sig[256];
        tdf_failure_signature(f, sig, sizeof sig);
        CHECK_EQ(f->obj_kind, TDF_OBJ_REQUEST);
        CHECK_STR_CONTAINS(f->teardown.event, "cancel routine set");
        CHECK_STR_CONTAINS(sig, "request("); /* no image here: the driver case is signatures.unify's nu_c9 */
    }
}

/* ---- the cancel handshake ------------------------------------------------------------ */
/* The cancel routine completes the request; the driver's own path then
 * completes it again: the race fuzz_async_cancel's unmark_ignored and
 * no_unmark variants lose. */
static void cancel_then_complete(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchParallel);
    wdf_request_t *r = deliver_one();
    g_status[0] = WdfRequestMarkCancelableEx(g_owned[0], on_cancel);
    wdf_request_cancel(r);
    g_status[1] = r->status;
    WdfRequestComplete(g_owned[0], STATUS_SUCCESS);
    g_reached_end = 1;
}

TEST(completion_after_the_cancel_routine_completed_is_0x10D)
{
    check_failure(run1(cancel_then_complete), TDF_CLASS_BUGCHECK, 0x10D, 0x7,
                  "WdfRequestComplete on a request that was already completed (by its cancel routine)", __LINE__);
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    CHECK(g_cancel_seen == g_owned[0]);
    CHECK_EQ(g_status[1], STATUS_CANCELLED); /* the cancel routine's completion stood */
    if (tdf_failure())
        CHECK_STR_CONTAINS(tdf_failure()->name, "WDF_VIOLATION");
}

static void cancel_then_unmark(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchParallel);
    wdf_request_t *r = deliver_one();
    WdfRequestMarkCancelableEx(g_owned[0], on_cancel);
    wdf_request_cancel(r);
    WdfRequestUnmarkCancelable(g_owned[0]);
    g_reached_end = 1;
}

TEST(unmark_after_the_cancel_routine_completed_is_0x10D)
{
    check_failure(run1(cancel_then_unmark), TDF_CLASS_BUGCHECK, 0x10D, 0x7,
                  "WdfRequestUnmarkCancelable on a request the driver does not own (already completed)", __LINE__);
}

/* The cancel routine took the request but completes it later: Unmark says
 * STATUS_CANCELLED, the driver leaves it alone, the routine's side completes. */
static void cancel_pending_unmark(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchParallel);
    g_cancel_completes = 0;
    wdf_request_t *r = deliver_one();
    WdfRequestMarkCancelableEx(g_owned[0], on_cancel);
    wdf_request_cancel(r);
    g_status[0] = WdfRequestUnmarkCancelable(g_owned[0]);
    g_status[1] = WdfRequestIsCanceled(g_owned[0]);
    WdfRequestComplete(g_cancel_seen, STATUS_CANCELLED); /* the cancel side's deferred completion */
    g_status[2] = r->status;
    g_reached_end = 1;
}

TEST(unmark_while_the_cancel_routine_has_it_returns_cancelled)
{
    check_clean(run1(cancel_pending_unmark), __LINE__);
    CHECK_EQ(g_status[0], STATUS_CANCELLED);
    CHECK_EQ(g_status[1], TRUE);
    CHECK_EQ(g_status[2], STATUS_CANCELLED);
}

static void unmark_before_cancel(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchParallel);
    wdf_request_t *r = deliver_one();
    WdfRequestMarkCancelableEx(g_owned[0], on_cancel);
    g_status[0] = WdfRequestUnmarkCancelable(g_owned[0]);
    wdf_request_cancel(r); /* not cancelable any more: only the flag is set */
    g_status[1] = WdfRequestIsCanceled(g_owned[0]);
    WdfRequestComplete(g_owned[0], STATUS_SUCCESS);
    g_status[2] = r->status;
    g_reached_end = 1;
}

TEST(unmark_before_cancel_keeps_the_request_with_the_driver)
{
    check_clean(run1(unmark_before_cancel), __LINE__);
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    CHECK(g_cancel_seen == NULL);
    CHECK_EQ(g_status[1], TRUE);
    CHECK_EQ(g_status[2], STATUS_SUCCESS);
}

static void mark_after_cancel(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchParallel);
    wdf_request_t *r = deliver_one();
    wdf_request_cancel(r); /* before the driver marks it: nothing to call */
    g_status[0] = WdfRequestMarkCancelableEx(g_owned[0], on_cancel);
    g_status[1] = r->cancel != NULL;
    WdfRequestComplete(g_owned[0], STATUS_CANCELLED);
    g_reached_end = 1;
}

TEST(mark_cancelable_after_cancel_returns_cancelled_and_sets_no_routine)
{
    check_clean(run1(mark_after_cancel), __LINE__);
    CHECK_EQ(g_status[0], STATUS_CANCELLED);
    CHECK_EQ(g_status[1], 0);
    CHECK(g_cancel_seen == NULL);
}

static void cancel_queued(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchManual);
    wdf_request_t *r = deliver_one();
    wdf_request_cancel(r); /* still in the queue: the framework completes it */
    g_status[0] = r->status;
    g_status[1] = r->state == REQ_COMPLETED;
    WDFREQUEST next = NULL;
    g_status[2] = WdfIoQueueRetrieveNextRequest(g_queue, &next);
    g_reached_end = 1;
}

TEST(cancel_of_a_queued_request_is_completed_by_the_framework)
{
    check_clean(run1(cancel_queued), __LINE__);
    CHECK_EQ(g_status[0], STATUS_CANCELLED);
    CHECK_EQ(g_status[1], 1);
    CHECK_EQ(g_status[2], STATUS_NO_MORE_ENTRIES); /* unlinked from the queue */
}

static void reuse_pending(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchParallel);
    deliver_one();
    WDF_REQUEST_REUSE_PARAMS p = {0};
    WdfRequestReuse(g_owned[0], &p);
    g_reached_end = 1;
}

TEST(reuse_of_a_pending_request_is_0x10D)
{
    check_failure(run1(reuse_pending), TDF_CLASS_BUGCHECK, 0x10D, 0x7,
                  "WdfRequestReuse on a request that is still pending", __LINE__);
}

/* ---- any number of owned requests (the table grows) ------------------------------------ */
/* fuzz_async_cancel's correct variant owns more than 16 requests at once: a
 * fixed table of 16 dropped the rest, which then escaped the purge. */
enum { MANY = 100 };
static unsigned g_deliver_count, g_cancel_calls;

static VOID on_cancel_count(WDFREQUEST Request)
{
    g_cancel_calls++;
    WdfRequestComplete(Request, STATUS_CANCELLED);
}

static void own_many_then_purge(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchParallel);
    for (unsigned i = 0; i < g_deliver_count; i++)
        deliver_one();
    g_status[0] = (NTSTATUS)((wdf_queue_t *)g_queue)->nowned;
    for (unsigned i = 0; i < g_nreceived; i++)
        WdfRequestMarkCancelableEx(g_owned[i], on_cancel_count);
    wdf_device_purge_queues(g_dev, 0); /* cancels every cancelable owned request, waits for all */
    g_status[1] = (NTSTATUS)((wdf_queue_t *)g_queue)->nowned;
    g_reached_end = 1;
}

TEST(a_driver_owning_many_requests_has_every_one_purged)
{
    g_deliver_count = MANY;
    g_cancel_calls = 0;
    check_clean(run1(own_many_then_purge), __LINE__);
    CHECK_EQ(g_nreceived, MANY);
    CHECK_EQ(g_status[0], MANY); /* each one tracked as owned */
    CHECK_EQ(g_cancel_calls, MANY); /* and each one reached by the purge */
    CHECK_EQ(g_status[1], 0);
}

/* ---- a received handle's life (wdf_internal.h "handles") --------------------------- */
/* The receiver keeps the handle of its first delivery past the completion;
 * the sender reuses the request and sends it again, so the receiver gets it
 * a second time. The kept handle names the WDFREQUEST KMDF freed at the first
 * completion: a call with it is a use after that completion, even though the
 * request is in flight again; the second delivery's handle works. */
static void deliver_twice(void)
{
    make_device_and_queue(WdfIoQueueDispatchParallel);
    deliver_one();
    WdfRequestComplete(g_owned[0], STATUS_SUCCESS);
    wdf_request_t *r = (wdf_request_t *)wdf_object_from_handle(g_owned[0]);
    WDF_REQUEST_REUSE_PARAMS p;
    WDF_REQUEST_REUSE_PARAMS_INIT(&p, WDF_REQUEST_REUSE_NO_FLAGS, STATUS_SUCCESS);
    WdfRequestReuse((WDFREQUEST)r, &p); /* the sender's handle: its own object */
    wdf_queue_deliver((wdf_queue_t *)g_queue, r);
}

static void stale_handle_in_the_next_life(void *arg)
{
    (void)arg;
    deliver_twice();
    g_status[0] = g_owned[1] != g_owned[0] && wdf_object_from_handle(g_owned[1]) == wdf_object_from_handle(g_owned[0]);
    WdfRequestUnmarkCancelable(g_owned[0]); /* the first life's handle */
    g_reached_end = 1;
}

TEST(a_received_handle_kept_past_its_completion_is_0x10D_in_the_next_life)
{
    check_failure(run1(stale_handle_in_the_next_life), TDF_CLASS_BUGCHECK, 0x10D, 0x5,
                  "WdfRequestUnmarkCancelable on a request handle kept past the request's completion", __LINE__);
    CHECK_EQ(g_nreceived, 2);
    CHECK_EQ(g_status[0], 1); /* two handles of one record */
    const tdf_failure_t *f = tdf_failure();
    CHECK(f && f->teardown.present && strcmp(f->teardown.event, "request completed") == 0);
}

static void next_life_handle_works(void *arg)
{
    (void)arg;
    deliver_twice();
    WdfRequestCompleteWithInformation(g_owned[1], STATUS_SUCCESS, 3);
    g_status[0] = ((wdf_request_t *)wdf_object_from_handle(g_owned[1]))->state == REQ_COMPLETED;
    g_reached_end = 1;
}

TEST(the_next_lifes_handle_completes_the_request_cleanly)
{
    check_clean(run1(next_life_handle_works), __LINE__);
    CHECK_EQ(g_nreceived, 2);
    CHECK_EQ(g_status[0], 1);
}

/* A receiver that takes the output buffer of a request another routine of
 * it already completed (a worker that ignored WdfRequestUnmarkCancelable's
 * STATUS_CANCELLED, after the cancel routine completed it): the sender's
 * request outlives the completion, the receiver's WDFREQUEST does not. */
static struct tdf_image g_sender = {.name = "sender"};
static void retrieve_after_completion(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchParallel);
    static ULONG out;
    wdf_request_t *r = wdf_request_new(WdfRequestTypeDeviceControl, 0x222000, NULL, 0, &out, sizeof out);
    r->obj.image = &g_sender; /* made by another driver */
    wdf_queue_deliver((wdf_queue_t *)g_queue, r);
    WDFREQUEST kept = g_owned[0];
    WdfRequestComplete(g_owned[0], STATUS_CANCELLED); /* the cancel routine's completion */
    PVOID buffer;
    g_status[0] = WdfRequestRetrieveOutputBuffer(kept, sizeof(ULONG), &buffer, NULL);
    g_reached_end = 1;
}

TEST(a_receivers_retrieval_from_a_completed_request_of_another_driver_is_0x10D)
{
    check_failure(run1(retrieve_after_completion), TDF_CLASS_BUGCHECK, 0x10D, 0x5,
                  "WdfRequestRetrieveOutputBuffer on a request already completed", __LINE__);
}

/* The freed-buffer hook (request.c g_retrieved; fuzz/report.c asks it about
 * a sanitizer's use of freed memory): a buffer the thread took before the
 * request's completion names that completion once the request is completed,
 * and nothing before it, nor outside the buffer. */
static const tdf_dead_t *g_dead_before, *g_dead_after, *g_dead_outside;
static uint32_t g_completion_step;
static void buffer_taken_then_completed(void *arg)
{
    (void)arg;
    make_device_and_queue(WdfIoQueueDispatchParallel);
    static ULONG out[2];
    wdf_request_t *r = wdf_request_new(WdfRequestTypeDeviceControl, 0x222000, NULL, 0, out, sizeof out[0]);
    r->obj.image = &g_sender;
    wdf_queue_deliver((wdf_queue_t *)g_queue, r);
    PVOID buffer;
    g_status[0] = WdfRequestRetrieveOutputBuffer(g_owned[0], sizeof(ULONG), &buffer, NULL);
    g_dead_before = ke_freed_buffer_dead(buffer);
    WdfRequestComplete(g_owned[0], STATUS_CANCELLED);
    g_completion_step = r->completed_by.step;
    g_dead_after = ke_freed_buffer_dead(buffer);
    g_dead_outside = ke_freed_buffer_dead(&out[1]);
    g_reached_end = 1;
}

TEST(a_buffer_taken_before_the_completion_names_the_completion_after_it)
{
    g_dead_before = g_dead_after = g_dead_outside = NULL;
    check_clean(run1(buffer_taken_then_completed), __LINE__);
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    CHECK(g_dead_before == NULL);
    CHECK(g_dead_outside == NULL);
    CHECK(g_dead_after != NULL);
    if (g_dead_after) {
        CHECK_EQ(g_dead_after->kind, TDF_OBJ_REQUEST);
        CHECK(g_dead_after->teardown && g_dead_after->teardown->step == g_completion_step);
    }
}

int main(void) { return tdf_test_main(); }
