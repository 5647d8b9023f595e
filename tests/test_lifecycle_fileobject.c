/*
 * File objects around I/O and removal, and request memory: docs/LIFECYCLE.md
 * rules 80-89 (KERNEL-SEMANTICS §12), one test per rule, on the recorder of
 * tests/lifecycle_fileobject (one root FDO that logs each callback).
 *
 * Scheduling: unpreempted (a client's thread runs when the PnP thread blocks
 * or ends). The event LET_CLIENTS_RUN is a wake of a device already in D0: it
 * is skipped, but the PnP thread waits for its power request, so the clients
 * posted before it run up to their first wait first.
 */
#include "lifecycle_fileobject/recfile.h"
#include "trace_lines.h"

TDF_DECLARE_IMAGE(recfile);
DRIVER_INITIALIZE RecFile_DriverEntry;
EVT_TDF_STIMULUS RecFile_StimulusTake;

static const tdf_image_desc_t k_images[] = {{TDF_IMAGE(recfile), RecFile_DriverEntry, {RECFILE_HARDWARE_ID}}};
static const tdf_stimulus_desc_t k_stimuli[] = {
    {"hold", TDF_IMAGE(recfile), NULL, "a client's IOCTL_RF_HOLD (kept in a manual queue)", IOCTL_RF_HOLD},
    {"quick", TDF_IMAGE(recfile), NULL, "a client's IOCTL_RF_COMPLETE", IOCTL_RF_COMPLETE},
    {"checks", TDF_IMAGE(recfile), NULL, "a client's IOCTL_RF_CHECKS", IOCTL_RF_CHECKS},
    {"take", TDF_IMAGE(recfile), RecFile_StimulusTake, "takes the oldest held request (arg 1: keeps it)", 0},
};
static const tdf_variant_desc_t k_variants[RF_VARIANT_COUNT] = {
    [RF_VARIANT_CORRECT] = {"correct", "logs every callback"},
    [RF_VARIANT_FAIL_CREATE] = {"fail_create", "EvtDeviceFileCreate fails the create"},
    [RF_VARIANT_USE_AFTER_COMPLETE] = {"use_after_complete", "uses a request's input memory after completing it"},
};
static const tdf_target_desc_t k_target = {
    .name = "lifecycle_fileobject_recorder",
    .doc = "test-only file-object recorder (tests/lifecycle_fileobject)",
    .images = k_images,
    .image_count = TDF_ARRAY_SIZE(k_images),
    .root_hardware_ids = {RECFILE_HARDWARE_ID},
    .stimuli = k_stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(k_stimuli),
    .variants = k_variants,
    .variant_count = RF_VARIANT_COUNT,
};
TDF_TARGET(k_target);

enum { EV_HOLD = TDF_EV_GENERIC_COUNT, EV_QUICK, EV_CHECKS, EV_TAKE };
#define LET_CLIENTS_RUN EV(TDF_EV_WAKE, 0)
#define OVERLAPPED TDF_STIM_ARG_OVERLAPPED

/* ---- the run's lines ------------------------------------------------------------- */
/* tests/trace_lines.h: the events with no parameters and no preemption. */
#define RUN(variant, ...) run_boot_events(&k_target, (variant), 0, EVENTS(__VA_ARGS__))
static int model(const char *text) { return find(text, 0); }

/* The recorder lines are exactly `want` (NULL-terminated), in this order. */
static void expect_all(const char *const *want, int line)
{
    unsigned k = 0, ok = 1;
    for (unsigned i = 0; i < g_nlines && ok; i++) {
        if (!g_lines[i].dbg)
            continue;
        ok = want[k] && strcmp(g_lines[i].text, want[k]) == 0;
        k += ok;
    }
    ok = ok && !want[k];
    if (!tdf_check(ok, __FILE__, line, "recorder lines in this order, and no others")) {
        for (unsigned i = 0; i < g_nlines; i++)
            if (g_lines[i].dbg)
                printf("    got: %s\n", g_lines[i].text);
        for (unsigned i = 0; want[i]; i++)
            printf("    want: %s\n", want[i]);
    }
}
#define EXPECT_ALL(...) expect_all((const char *const[]){__VA_ARGS__, NULL}, __LINE__)
/* Two line indices, both found, the first one earlier. */
#define EARLIER(a, b) CHECK((a) >= 0 && (b) >= 0 && (a) < (b))

/* ==== rules 80-89 ===================================================================== */

TEST(create_evtdevicefilecreate_completes_the_create_before_any_io_of_the_handle)
{
    CHECK_CLEAN(RUN(RF_VARIANT_CORRECT, EV(EV_QUICK, 0), LET_CLIENTS_RUN));
    int create = pos("Create"), opened = model("recfile/FDO: IRP_MJ_CREATE -> 0x0");
    EARLIER(create, opened);
    EARLIER(opened, pos("IoDeviceControl(complete)"));
    if (CHECK(create >= 0))
        CHECK(g_lines[create].fiber != 0); /* the client's thread, not the PnP thread */
}

TEST(create_failed_deletes_the_file_object_without_cleanup_or_close)
{
    CHECK_CLEAN(RUN(RF_VARIANT_FAIL_CREATE, EV(EV_QUICK, 0), LET_CLIENTS_RUN));
    EXPECT_ALL("Create(fail)", "FileObject EvtCleanupCallback", "FileObject EvtDestroyCallback", "QueryRemove",
               "ReleaseHardware", "SelfManagedIoCleanup", "Device EvtCleanupCallback");
    CHECK(model("recfile/FDO: IRP_MJ_CREATE -> 0xc0000001") >= 0);
}

TEST(close_cleanup_then_close_then_the_file_objects_children_cleanup_destroy)
{
    CHECK_CLEAN(RUN(RF_VARIANT_CORRECT, EV(EV_QUICK, 0), LET_CLIENTS_RUN));
    int io = pos("IoDeviceControl(complete)");
    EXPECT_ALL("Create", "IoDeviceControl(complete)", "Cleanup", "Close", "Memory EvtCleanupCallback",
               "FileObject EvtCleanupCallback", "FileObject EvtDestroyCallback", "QueryRemove",
               "ReleaseHardware", "SelfManagedIoCleanup", "Device EvtCleanupCallback");
    if (CHECK(io >= 0))
        CHECK_EQ(g_lines[pos("Close")].fiber, g_lines[io].fiber); /* all on the client's thread */
}

TEST(overlapped_close_cleanup_before_the_requests_completion_close_after_it)
{
    /* The handle is closed right after the request is sent: IRP_MJ_CLEANUP
     * comes while it waits in the manual queue; IRP_MJ_CLOSE only after it
     * completed (here: canceled by the cleanup's flush, rule 84). */
    CHECK_CLEAN(RUN(RF_VARIANT_CORRECT, EV(EV_HOLD, OVERLAPPED), LET_CLIENTS_RUN));
    int cleanup = pos("Cleanup"), completed = find_from("request completed 0xc0000120", 0, cleanup);
    EARLIER(pos("IoDeviceControl(hold)"), cleanup);
    EARLIER(cleanup, completed);
    EARLIER(completed, pos("Close"));
}

TEST(cleanup_cancels_the_handles_queued_requests_not_those_the_driver_owns)
{
    /* A: sent and kept by the driver (owned); B: overlapped, still queued
     * when its handle is cleaned up. Only B is canceled; A completes when
     * the driver completes it (ReleaseHardware, STATUS_DEVICE_REMOVED). */
    CHECK_CLEAN(RUN(RF_VARIANT_CORRECT, EV(EV_HOLD, 0), LET_CLIENTS_RUN, EV(EV_TAKE, 1), LET_CLIENTS_RUN,
                    EV(EV_HOLD, OVERLAPPED), LET_CLIENTS_RUN));
    int kept = pos("Take(keep)"), b_cleanup = find_from("Cleanup", 1, kept);
    int canceled = find_from("request completed 0xc0000120", 0, b_cleanup);
    EARLIER(kept, b_cleanup);
    EARLIER(b_cleanup, canceled);
    CHECK_EQ(find_from("request completed 0xc0000120", 0, canceled + 1), -1);
    EARLIER(pos("ReleaseHardware"), model("request completed 0xc00002b6"));
}

TEST(query_remove_the_client_cancels_and_closes_before_query_remove_new_opens_fail)
{
    CHECK_CLEAN(RUN(RF_VARIANT_CORRECT, EV(EV_HOLD, 0), LET_CLIENTS_RUN, EV(EV_QUICK, 0), EV(TDF_EV_REMOVE, 0)));
    int cancel = model("recfile/FDO: client CancelIoEx");
    EARLIER(pos("IoDeviceControl(hold)"), cancel);
    EARLIER(cancel, pos("Cleanup"));
    EARLIER(pos("Cleanup"), pos("Close"));
    EARLIER(pos("Close"), pos("QueryRemove"));
    /* The quick client's open came after the notification began. */
    CHECK(model("recfile/FDO: IRP_MJ_CREATE failed 0xc0000056") >= 0);
    CHECK_EQ(count("IoDeviceControl(complete)"), 0);
}

TEST(query_remove_a_handle_that_stays_open_vetoes_the_removal)
{
    /* The driver keeps the request (not cancelable) until ReleaseHardware:
     * the handle cannot close, so the REMOVE is aborted before QUERY_REMOVE;
     * the end of the run then removes it by surprise. */
    CHECK_CLEAN(RUN(RF_VARIANT_CORRECT, EV(EV_HOLD, 0), LET_CLIENTS_RUN, EV(EV_TAKE, 1), LET_CLIENTS_RUN,
                    EV(TDF_EV_REMOVE, 0)));
    int veto = model("recfile/FDO: 1 handle(s) still open: query-remove aborted");
    CHECK(veto >= 0);
    EARLIER(pos("Cleanup"), veto);
    CHECK(find_from("QueryRemove", 1, 0) < 0 || find_from("QueryRemove", 1, 0) > veto);
    EARLIER(veto, pos("SurpriseRemoval"));
    EARLIER(pos("ReleaseHardware"), pos("Close"));
}

TEST(surprise_removal_the_remove_waits_for_the_last_handle)
{
    CHECK_CLEAN(RUN(RF_VARIANT_CORRECT, EV(EV_HOLD, 0), LET_CLIENTS_RUN, EV(EV_TAKE, 1), LET_CLIENTS_RUN,
                    EV(TDF_EV_SURPRISE_REMOVE, 0)));
    EXPECT_ALL("Create", "IoDeviceControl(hold)", "Take(keep)", "SurpriseRemoval", "ReleaseHardware", "Cleanup",
               "Close", "Memory EvtCleanupCallback", "FileObject EvtCleanupCallback",
               "FileObject EvtDestroyCallback", "SelfManagedIoCleanup", "Device EvtCleanupCallback");
    CHECK_EQ(count("QueryRemove"), 0);
}

TEST(request_buffers_size_checks_as_kmdf)
{
    CHECK_CLEAN(RUN(RF_VARIANT_CORRECT, EV(EV_CHECKS, 0), LET_CLIENTS_RUN));
    static const char *const want[] = {
        "RetrieveInputBuffer(65)=c0000023", "RetrieveInputBuffer(64)=00000000", "RetrieveOutputBuffer(65)=c0000023",
        "CopyToBuffer(0,64)=00000000",      "CopyToBuffer(0,65)=c0000023",      "CopyToBuffer(64,1)=c0000023",
        "CopyToBuffer(0,0)=c000000d",       "CopyFromBuffer(60,4)=00000000",    "CopyFromBuffer(60,5)=c0000206",
        "CopyFromBuffer(64,1)=c0000206",    "MemoryCreate(0)=c000000d"};
    int at = pos("IoDeviceControl(checks)");
    for (unsigned i = 0; i < TDF_ARRAY_SIZE(want); i++) {
        int p = find_from(want[i], 1, at);
        if (!CHECK(p > at))
            printf("    missing in order: %s\n", want[i]);
        at = p;
    }
    CHECK(model("request completed 0x0") >= 0);
}

TEST(request_memory_used_after_completion_is_0x10d)
{
    tdf_class_t cls = RUN(RF_VARIANT_USE_AFTER_COMPLETE, EV(EV_CHECKS, 0), LET_CLIENTS_RUN);
    CHECK_EQ(cls, TDF_CLASS_BUGCHECK);
    const tdf_failure_t *f = tdf_failure();
    if (CHECK(f != NULL)) {
        CHECK_EQ(f->code, 0x10D);
        CHECK_STR_CONTAINS(f->detail, "WdfMemoryGetBuffer on the input WDFMEMORY of a request already completed");
        CHECK_STR_CONTAINS(f->where, "RecFile_Checks");
    }
}

int main(void) { return tdf_test_main(); }
