/*
 * The local I/O target and the inverted call (KERNEL-SEMANTICS §15;
 * docs/LIFECYCLE.md rules 130-139): an FDO's requests to its PDO through
 * WdfDeviceGetIoTarget, a manual queue holding the sender's request, the
 * sender's purge and cancel of it, re-sending from the completion routine,
 * the synchronous IOCTL, the close at the FDO's deletion, the receiver's
 * purge, and a stopped target that keeps what is sent to it.
 *
 * As tests/test_lifecycle_deferred.c: main builds a started PDO (a default
 * queue whose handler is harness code, and a manual queue) and an FDO on top
 * of it, with no driver image; model threads send, retrieve, complete, purge;
 * main checks. A "never before" rule is checked over SEEDS random schedules
 * together with its counterpart (the no-wait purge) on the same schedules,
 * which must break it at least once, else the check could not fail.
 */
#include "../model/wdf/wdf_internal.h"
#include "../model/kernel/image.h"
#include "fiber_harness.h"
#include "tdf_test.h"

#include <stdio.h>

#define SEEDS 200
#define IOCTL_WAIT 0x222004u /* forwarded to the manual queue */
#define IOCTL_READ 0x222008u /* completed at once with information 4 */

static wdf_device_t *g_pdo, *g_fdo;
static WDFQUEUE g_manual;
static WDFIOTARGET g_target;
static WDFREQUEST g_req;
static ULONG g_out;
static WDFMEMORY g_out_mem;
static NTSTATUS g_status[6];
static int g_routine_runs, g_routine_inside, g_purge_returned, g_routine_after_purge;
static NTSTATUS g_routine_status;
static unsigned g_dispatch_fiber, g_send_fiber;
static int g_resend; /* the completion routine re-sends (once per count) */
static int g_cleanup_ran, g_cleanup_saw_routines;
static BOOLEAN g_r[4];

static VOID on_pdo_io(WDFQUEUE Queue, WDFREQUEST Request, size_t OutLen, size_t InLen, ULONG Code)
{
    (void)Queue, (void)OutLen, (void)InLen;
    g_dispatch_fiber = sched_current();
    if (Code == IOCTL_WAIT) {
        NTSTATUS st = WdfRequestForwardToIoQueue(Request, g_manual);
        if (!NT_SUCCESS(st))
            WdfRequestComplete(Request, st);
        return;
    }
    PULONG out;
    if (!NT_SUCCESS(WdfRequestRetrieveOutputBuffer(Request, sizeof(ULONG), (PVOID *)&out, NULL))) {
        WdfRequestComplete(Request, STATUS_BUFFER_TOO_SMALL);
        return;
    }
    *out = 0x1234;
    WdfRequestCompleteWithInformation(Request, STATUS_SUCCESS, sizeof(ULONG));
}

static void send_wait(ULONG flags);

static VOID on_complete(WDFREQUEST Request, WDFIOTARGET Target, PWDF_REQUEST_COMPLETION_PARAMS Params,
                        WDFCONTEXT Context)
{
    (void)Target, (void)Params, (void)Context;
    g_routine_inside++;
    g_routine_runs++;
    g_routine_status = WdfRequestGetStatus(Request);
    if (g_purge_returned)
        g_routine_after_purge++;
    for (int i = 0; i < 3; i++)
        ke_yield(); /* another processor could return from the purge here */
    if (g_resend > 0 && NT_SUCCESS(g_routine_status)) {
        g_resend--;
        send_wait(0);
    }
    g_routine_inside--;
}

static VOID on_fdo_cleanup(WDFOBJECT Object)
{
    (void)Object;
    g_cleanup_ran = 1;
    g_cleanup_saw_routines = g_routine_runs;
}

static wdf_device_t *make_device(const char *name, int is_pdo)
{
    wdf_device_t *d = pool_alloc_model(sizeof *d);
    WDF_OBJECT_ATTRIBUTES a;
    WDF_OBJECT_ATTRIBUTES_INIT(&a);
    if (!is_pdo)
        a.EvtCleanupCallback = on_fdo_cleanup;
    wdf_object_init(&d->obj, OBJ_DEVICE, &a);
    d->obj.refs = 1000; /* never destroyed in the run: the driver is never unloaded */
    /* A driver record for the framework's callback bookkeeping (device.c
     * trace_cb); its image stays loaded (nothing unloads it). */
    static struct tdf_image image = {.name = "test", .state = TDF_IMAGE_LOADED};
    d->driver = pool_alloc_model(sizeof *d->driver);
    d->driver->obj.kind = OBJ_DRIVER;
    d->driver->obj.refs = 1;
    d->driver->image = &image;
    d->is_pdo = is_pdo;
    snprintf(d->name, sizeof d->name, "%s", name);
    d->pnp = PNP_STARTED;
    d->power = WdfPowerDeviceD0;
    wdf_sync_scope_init_device(d);
    return d;
}

static void reset_globals(void)
{
    for (unsigned i = 0; i < TDF_ARRAY_SIZE(g_status); i++)
        g_status[i] = (NTSTATUS)0xEEEEEEEE;
    memset(g_r, 0xEE, sizeof g_r);
    g_routine_runs = g_routine_inside = g_purge_returned = g_routine_after_purge = 0;
    g_routine_status = (NTSTATUS)0xEEEEEEEE;
    g_dispatch_fiber = g_send_fiber = (unsigned)-1;
    g_resend = 0;
    g_cleanup_ran = g_cleanup_saw_routines = 0;
    g_out = 0;
    wdf_reset();

    g_pdo = make_device("child (PDO)", 1);
    WDF_IO_QUEUE_CONFIG qc;
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&qc, WdfIoQueueDispatchParallel);
    qc.EvtIoDeviceControl = on_pdo_io;
    qc.PowerManaged = WdfTrue;
    g_status[5] = WdfIoQueueCreate((WDFDEVICE)g_pdo, &qc, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
    WDF_IO_QUEUE_CONFIG_INIT(&qc, WdfIoQueueDispatchManual);
    qc.PowerManaged = WdfTrue;
    WdfIoQueueCreate((WDFDEVICE)g_pdo, &qc, WDF_NO_OBJECT_ATTRIBUTES, &g_manual);

    g_fdo = make_device("child (FDO)", 0);
    g_fdo->lower = g_pdo;
    g_target = WdfDeviceGetIoTarget((WDFDEVICE)g_fdo);
    WdfRequestCreate(WDF_NO_OBJECT_ATTRIBUTES, g_target, &g_req);
    WdfMemoryCreatePreallocated(WDF_NO_OBJECT_ATTRIBUTES, &g_out, sizeof g_out, &g_out_mem);
}

/* Formats g_req for IOCTL_WAIT (after a reuse) and sends it; g_status[0] = sent. */
static void send_wait(ULONG flags)
{
    WDF_REQUEST_REUSE_PARAMS reuse;
    WDF_REQUEST_REUSE_PARAMS_INIT(&reuse, WDF_REQUEST_REUSE_NO_FLAGS, STATUS_SUCCESS);
    WdfRequestReuse(g_req, &reuse);
    WdfIoTargetFormatRequestForIoctl(g_target, g_req, IOCTL_WAIT, NULL, NULL, g_out_mem, NULL);
    WdfRequestSetCompletionRoutine(g_req, on_complete, NULL);
    WDF_REQUEST_SEND_OPTIONS o;
    WDF_REQUEST_SEND_OPTIONS_INIT(&o, flags);
    g_send_fiber = sched_current();
    g_status[0] = WdfRequestSend(g_req, g_target, &o) ? STATUS_SUCCESS : WdfRequestGetStatus(g_req);
}

static sched_outcome_t run_bytes(sched_fiber_fn *fn)
{
    return fh_run(&fn, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals);
}

static sched_outcome_t run_seed(sched_fiber_fn *const *fns, unsigned n, uint64_t seed)
{
    return fh_run(fns, n, (sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = seed}, reset_globals);
}

/* ---- rule 130: the local target is the PDO; a send is dispatched there on the sender's thread ---- */
static void local_target(void *arg)
{
    (void)arg;
    g_r[0] = WdfDeviceGetIoTarget((WDFDEVICE)g_fdo) == g_target && g_target != NULL;
    g_r[1] = WdfDeviceGetIoTarget((WDFDEVICE)g_pdo) == NULL;
    g_r[2] = WdfIoTargetGetDevice(g_target) == (WDFDEVICE)g_fdo && WdfIoTargetGetState(g_target) == WdfIoTargetStarted;
    send_wait(0);
    g_r[3] = ((wdf_queue_t *)g_manual)->head == (wdf_request_t *)g_req; /* waits in the PDO's manual queue */
}

TEST(rule130_local_target_is_the_pdo_and_a_send_is_dispatched_there_on_the_senders_thread)
{
    CHECK_CLEAN(run_bytes(local_target));
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_r[1], TRUE);
    CHECK_EQ(g_r[2], TRUE);
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    CHECK_EQ(g_dispatch_fiber, g_send_fiber);
    CHECK_EQ(g_r[3], TRUE);
    CHECK_EQ(g_routine_runs, 0);
}

/* ---- rule 131: the manual queue presents the request; a held power-managed one presents nothing ---- */
static void manual_queue(void *arg)
{
    (void)arg;
    WDFREQUEST r;
    g_status[1] = WdfIoQueueRetrieveNextRequest(g_manual, &r); /* empty */
    send_wait(0);
    wdf_device_hold_queues(g_pdo); /* the PDO powers down (no owned request: returns at once) */
    g_status[2] = WdfIoQueueRetrieveNextRequest(g_manual, &r);
    wdf_device_resume_queues(g_pdo);
    g_status[3] = WdfIoQueueRetrieveNextRequest(g_manual, &r);
    g_r[0] = wdf_object_from_handle(r) == wdf_object_from_handle(g_req); /* the receiver's handle carries the life */
    WdfRequestCompleteWithInformation(r, STATUS_SUCCESS, sizeof(ULONG));
}

TEST(rule131_a_manual_queue_presents_the_request_and_nothing_while_powered_down)
{
    CHECK_CLEAN(run_bytes(manual_queue));
    CHECK_EQ(g_status[1], STATUS_NO_MORE_ENTRIES);
    CHECK_EQ(g_status[2], STATUS_NO_MORE_ENTRIES);
    CHECK_EQ(g_status[3], STATUS_SUCCESS);
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_routine_runs, 1);
    CHECK_EQ(g_routine_status, STATUS_SUCCESS);
}

/* ---- rule 132: the sender's purge cancels a queued request at once; one the receiver took: AndWait waits ---- */
static WDF_IO_TARGET_PURGE_IO_ACTION g_purge_action;
static void purge_queued(void *arg)
{
    (void)arg;
    send_wait(0);
    WdfIoTargetPurge(g_target, WdfIoTargetPurgeIo); /* still in the manual queue: canceled, completed now */
    g_r[0] = g_routine_runs == 1 && g_routine_status == STATUS_CANCELLED;
    g_r[1] = ((wdf_queue_t *)g_manual)->head == NULL;
}

static void sender_purges(void *arg)
{
    (void)arg;
    send_wait(0);
    ke_yield();
    WdfIoTargetPurge(g_target, g_purge_action);
    g_purge_returned = 1;
    if (g_routine_inside)
        g_routine_after_purge++; /* returned while the routine still ran */
}

static void receiver_completes(void *arg)
{
    (void)arg;
    WDFREQUEST r;
    while (!NT_SUCCESS(WdfIoQueueRetrieveNextRequest(g_manual, &r))) {
        if (g_routine_runs) /* canceled while still queued */
            return;
        ke_yield();
    }
    for (int i = 0; i < 3; i++)
        ke_yield(); /* the receiver owns it: not cancelable */
    WdfRequestCompleteWithInformation(r, STATUS_SUCCESS, sizeof(ULONG));
}

TEST(rule132_purge_cancels_a_queued_request_at_once_and_and_wait_outlasts_one_the_receiver_took)
{
    CHECK_CLEAN(run_bytes(purge_queued));
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_r[1], TRUE);
    sched_fiber_fn *fns[] = {sender_purges, receiver_completes};
    int broke_without_wait = 0, taken = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        g_purge_action = WdfIoTargetPurgeIoAndWait;
        CHECK_CLEAN(run_seed(fns, 2, seed));
        CHECK_EQ(g_routine_after_purge, 0);
        CHECK_EQ(g_routine_runs, 1);
        taken += g_routine_status == STATUS_SUCCESS;
        g_purge_action = WdfIoTargetPurgeIo;
        CHECK_CLEAN(run_seed(fns, 2, seed));
        broke_without_wait += g_routine_after_purge > 0;
    }
    CHECK(taken > 0);              /* schedules where the receiver took it first */
    CHECK(broke_without_wait > 0); /* the counterpart can fail: the check can */
}

/* ---- rule 133: a purged target fails sends until WdfIoTargetStart; IGNORE_TARGET_STATE sends anyway ---- */
static void purged_target(void *arg)
{
    (void)arg;
    WdfIoTargetPurge(g_target, WdfIoTargetPurgeIoAndWait);
    g_r[0] = WdfIoTargetGetState(g_target) == WdfIoTargetPurged;
    send_wait(0);
    g_status[1] = g_status[0];
    g_r[1] = g_routine_runs == 0; /* not sent: no completion routine */
    send_wait(WDF_REQUEST_SEND_OPTION_IGNORE_TARGET_STATE);
    g_status[2] = g_status[0];
    WDFREQUEST r;
    WdfIoQueueRetrieveNextRequest(g_manual, &r);
    WdfRequestCompleteWithInformation(r, STATUS_SUCCESS, sizeof(ULONG));
    g_status[3] = WdfIoTargetStart(g_target);
    g_r[2] = WdfIoTargetGetState(g_target) == WdfIoTargetStarted;
    send_wait(0);
}

TEST(rule133_a_purged_target_fails_sends_until_start_and_ignore_target_state_sends_anyway)
{
    CHECK_CLEAN(run_bytes(purged_target));
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_status[1], STATUS_INVALID_DEVICE_STATE);
    CHECK_EQ(g_r[1], TRUE);
    CHECK_EQ(g_status[2], STATUS_SUCCESS);
    CHECK_EQ(g_status[3], STATUS_SUCCESS);
    CHECK_EQ(g_r[2], TRUE);
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    CHECK_EQ(g_routine_runs, 1);
}

/* ---- rule 134: a re-send from the completion routine is a new send the target's waits cover ---- */
static void resend_then_purge(void *arg)
{
    (void)arg;
    g_resend = 1;
    send_wait(0);
    WDFREQUEST r;
    WdfIoQueueRetrieveNextRequest(g_manual, &r);
    WdfRequestCompleteWithInformation(r, STATUS_SUCCESS, sizeof(ULONG)); /* the routine re-sends it */
    g_r[0] = ((wdf_queue_t *)g_manual)->head == (wdf_request_t *)g_req && ((wdf_io_target_t *)g_target)->nsent == 1;
    WdfIoTargetPurge(g_target, WdfIoTargetPurgeIoAndWait); /* cancels the re-sent one */
    g_r[1] = ((wdf_io_target_t *)g_target)->nsent == 0 && ((wdf_io_target_t *)g_target)->completing == 0;
}

TEST(rule134_a_resend_from_the_completion_routine_is_a_new_send_the_purge_cancels)
{
    CHECK_CLEAN(run_bytes(resend_then_purge));
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_r[1], TRUE);
    CHECK_EQ(g_routine_runs, 2);
    CHECK_EQ(g_routine_status, STATUS_CANCELLED);
}

/* ---- rule 135: WdfIoTargetSendIoctlSynchronously ---- */
static void sync_ioctl(void *arg)
{
    (void)arg;
    ULONG value = 0;
    ULONG_PTR bytes = 99;
    WDF_MEMORY_DESCRIPTOR out;
    WDF_MEMORY_DESCRIPTOR_INIT_BUFFER(&out, &value, sizeof value);
    g_status[1] = WdfIoTargetSendIoctlSynchronously(g_target, NULL, IOCTL_READ, NULL, &out, NULL, &bytes);
    g_r[0] = value == 0x1234 && bytes == sizeof(ULONG);
    WdfIoTargetPurge(g_target, WdfIoTargetPurgeIoAndWait);
    bytes = 99;
    g_status[2] = WdfIoTargetSendIoctlSynchronously(g_target, NULL, IOCTL_READ, NULL, &out, NULL, &bytes);
    g_r[1] = bytes == 0;
}

static void sync_ioctl_at_dispatch(void *arg)
{
    (void)arg;
    KSPIN_LOCK l;
    KIRQL old;
    KeInitializeSpinLock(&l);
    KeAcquireSpinLock(&l, &old);
    WdfIoTargetSendIoctlSynchronously(g_target, NULL, IOCTL_READ, NULL, NULL, NULL, NULL);
}

TEST(rule135_send_ioctl_synchronously_returns_the_completion_fails_on_a_purged_target_passive_only)
{
    CHECK_CLEAN(run_bytes(sync_ioctl));
    CHECK_EQ(g_status[1], STATUS_SUCCESS);
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_status[2], STATUS_INVALID_DEVICE_STATE);
    CHECK_EQ(g_r[1], TRUE);
    fh_check_failure(run_bytes(sync_ioctl_at_dispatch), TDF_CLASS_MISUSE, 0, 0, "WdfIoTargetSendIoctlSynchronously",
                     NULL, "above PASSIVE_LEVEL", __FILE__, __LINE__);
}

/* ---- rule 136: the FDO's deletion closes its local target: a pending request is canceled first ---- */
static void delete_fdo(void *arg)
{
    (void)arg;
    send_wait(0);
    wdf_device_remove_end(g_fdo);
    g_r[0] = WdfIoTargetGetState(g_target) == WdfIoTargetClosed;
    send_wait(0);
    g_status[1] = g_status[0];
}

TEST(rule136_the_fdos_deletion_cancels_its_pending_requests_before_its_cleanup_and_closes_the_target)
{
    CHECK_CLEAN(run_bytes(delete_fdo));
    CHECK_EQ(g_routine_runs, 1);
    CHECK_EQ(g_routine_status, STATUS_CANCELLED);
    CHECK_EQ(g_cleanup_ran, 1);
    CHECK_EQ(g_cleanup_saw_routines, 1); /* the routine ran before EvtCleanupCallback */
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_status[1], STATUS_INVALID_DEVICE_STATE);
}

/* ---- rule 137: the receiver's purge (the PDO's removal) cancels the request in its manual queue ---- */
static void pdo_purge(void *arg)
{
    (void)arg;
    send_wait(0);
    wdf_device_purge_queues(g_pdo, 1); /* power-managed queues: the PDO's REMOVE */
    g_r[0] = g_routine_runs == 1 && g_routine_status == STATUS_CANCELLED;
    send_wait(0); /* its queues now fail new requests */
    g_status[1] = g_status[0];
}

TEST(rule137_the_receivers_purge_cancels_the_request_in_its_manual_queue_and_fails_new_ones)
{
    CHECK_CLEAN(run_bytes(pdo_purge));
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_status[1], STATUS_SUCCESS); /* sent, then failed by the purged queue: */
    CHECK_EQ(g_routine_runs, 2);
    CHECK_EQ(g_routine_status, STATUS_INVALID_DEVICE_STATE);
}

/* ---- rule 138: a stopped target keeps the request; WdfIoTargetStart sends it ---- */
static WDFREQUEST g_req2;
static int g_order[2], g_norder;
static NTSTATUS g_tag_status[3]; /* by the tag send_read gave */

static VOID on_complete_order(WDFREQUEST Request, WDFIOTARGET Target, PWDF_REQUEST_COMPLETION_PARAMS Params,
                              WDFCONTEXT Context)
{
    (void)Request, (void)Target, (void)Params;
    if (g_norder < 2)
        g_order[g_norder++] = (int)(intptr_t)Context;
    g_tag_status[(intptr_t)Context % 3] = WdfRequestGetStatus(Request);
    g_routine_runs++;
    g_routine_status = WdfRequestGetStatus(Request);
}

/* Formats `req` for IOCTL_READ (completed at once by the PDO) and sends it, tagged `tag`. */
static BOOLEAN send_read(WDFREQUEST req, int tag)
{
    WDF_REQUEST_REUSE_PARAMS reuse;
    WDF_REQUEST_REUSE_PARAMS_INIT(&reuse, WDF_REQUEST_REUSE_NO_FLAGS, STATUS_SUCCESS);
    WdfRequestReuse(req, &reuse);
    WdfIoTargetFormatRequestForIoctl(g_target, req, IOCTL_READ, NULL, NULL, g_out_mem, NULL);
    WdfRequestSetCompletionRoutine(req, on_complete_order, (WDFCONTEXT)(intptr_t)tag);
    return WdfRequestSend(req, g_target, WDF_NO_SEND_OPTIONS);
}

static void stopped_target_keeps(void *arg)
{
    (void)arg;
    WdfRequestCreate(WDF_NO_OBJECT_ATTRIBUTES, g_target, &g_req2);
    g_norder = 0;
    WdfIoTargetStop(g_target, WdfIoTargetLeaveSentIoPending);
    g_r[0] = WdfIoTargetGetState(g_target) == WdfIoTargetStopped;
    g_r[1] = send_read(g_req, 1) && send_read(g_req2, 2); /* kept: TRUE */
    g_r[2] = g_routine_runs == 0 && g_dispatch_fiber == (unsigned)-1; /* nothing reached the PDO */
    g_status[1] = WdfIoTargetStart(g_target);
    g_r[3] = g_routine_runs == 2 && g_order[0] == 1 && g_order[1] == 2; /* delivered at the start, in order */
}

TEST(rule138_a_stopped_target_keeps_the_request_and_its_start_sends_it)
{
    CHECK_CLEAN(run_bytes(stopped_target_keeps));
    CHECK_EQ(g_r[0], TRUE);
    CHECK_EQ(g_r[1], TRUE);
    CHECK_EQ(g_r[2], TRUE);
    CHECK_EQ(g_status[1], STATUS_SUCCESS);
    CHECK_EQ(g_r[3], TRUE);
    CHECK_EQ(g_routine_status, STATUS_SUCCESS);
    CHECK_EQ(g_out, 0x1234u);
}

/* ---- rule 139: a purge or close fails the kept requests, a cancel cancels one ---- */
static int g_end; /* 0 purge, 1 close, 2 cancel */

static void stopped_target_ends(void *arg)
{
    (void)arg;
    WdfRequestCreate(WDF_NO_OBJECT_ATTRIBUTES, g_target, &g_req2);
    g_norder = 0;
    WdfIoTargetStop(g_target, WdfIoTargetCancelSentIo);
    send_read(g_req, 1);
    if (g_end == 0) {
        WdfIoTargetPurge(g_target, WdfIoTargetPurgeIo);
    } else if (g_end == 1) {
        WdfIoTargetClose(g_target);
    } else {
        g_r[0] = WdfRequestCancelSentRequest(g_req);
        g_r[1] = send_read(g_req2, 2); /* still stopped: kept */
        g_status[2] = WdfIoTargetStart(g_target);
    }
    g_r[2] = g_routine_runs >= 1 && g_order[0] == 1; /* on this thread, before the call returned */
    g_r[3] = g_dispatch_fiber == (unsigned)-1 || g_end == 2; /* never reached the PDO (but req2, sent at the start) */
}

TEST(rule139_a_purge_or_close_fails_the_kept_requests_and_a_cancel_cancels_one)
{
    static const char *ends[] = {"purge", "close", "cancel"};
    for (g_end = 0; g_end < 3; g_end++) {
        printf("  %s\n", ends[g_end]);
        CHECK_CLEAN(run_bytes(stopped_target_ends));
        CHECK_EQ(g_r[2], TRUE);
        CHECK_EQ(g_r[3], TRUE);
        CHECK_EQ(g_order[0], 1);
        if (g_end < 2) {
            CHECK_EQ(g_routine_runs, 1);
            CHECK_EQ(g_routine_status, STATUS_WDF_DEVICE_REMOVED_NOT_SENT);
        } else {
            CHECK_EQ(g_r[0], TRUE);
            CHECK_EQ(g_r[1], TRUE);
            CHECK_EQ(g_routine_runs, 2);
            CHECK_EQ(g_order[1], 2);
            CHECK_EQ(g_tag_status[1], STATUS_CANCELLED);
            CHECK_EQ(g_tag_status[2], STATUS_SUCCESS); /* req2, delivered at the start */
        }
    }
}

int main(void) { return tdf_test_main(); }
