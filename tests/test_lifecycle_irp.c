/*
 * The IRP path and WDM stacks: one test per rule 110-129 of docs/LIFECYCLE.md
 * (KERNEL-SEMANTICS §16), on the recorder pair of tests/lifecycle_irp ("lo"
 * holds IRPs, "up" sends and forwards them; two root stacks, lo first).
 *
 * Scheduling: unpreempted (a stimulus thread runs when the PnP thread blocks
 * or ends). LET_RUN is a wake of a device already in D0: skipped, but the PnP
 * thread waits for its power request, so the stimuli posted before it run
 * until they block or end.
 */
#include "lifecycle_irp/recirp.h"
#include "trace_lines.h"

TDF_DECLARE_IMAGE(reclo);
TDF_DECLARE_IMAGE(recup);
DRIVER_INITIALIZE RecLo_DriverEntry;
DRIVER_INITIALIZE RecUp_DriverEntry;
EVT_TDF_STIMULUS RecLo_StimulusComplete;
EVT_TDF_STIMULUS RecUp_StimulusSend;
EVT_TDF_STIMULUS RecUp_StimulusCancel;
EVT_TDF_STIMULUS RecUp_StimulusThreaded;

static const tdf_image_desc_t k_images[] = {
    {TDF_IMAGE(reclo), RecLo_DriverEntry, {RECIRP_LO_ID}},
    {TDF_IMAGE(recup), RecUp_DriverEntry, {RECIRP_UP_ID}},
};
static const tdf_stimulus_desc_t k_stimuli[] = {
    {"up_send", TDF_IMAGE(recup), RecUp_StimulusSend, "up sends an IRP of its own to lo"},
    {"up_cancel", TDF_IMAGE(recup), RecUp_StimulusCancel, "up cancels its IRP"},
    {"up_threaded", TDF_IMAGE(recup), RecUp_StimulusThreaded, "up sends a threaded IRP to lo and waits"},
    {"lo_complete", TDF_IMAGE(reclo), RecLo_StimulusComplete, "lo completes the oldest IRP it holds"},
    {"client", TDF_IMAGE(recup), NULL, "a client's IOCTL_REC_FORWARD to up", IOCTL_REC_FORWARD},
};
static const tdf_variant_desc_t k_variants[RECIRP_VARIANT_COUNT] = {
    [RECIRP_CORRECT] = {"correct", "logs every step"},
    [RECIRP_LO_COMPLETE_TWICE] = {"lo_complete_twice", "lo completes a held IRP twice"},
    [RECIRP_LO_KEEP_CANCEL] = {"lo_keep_cancel", "lo completes with its cancel routine set"},
    [RECIRP_LO_PENDING_STATUS] = {"lo_pending_status", "lo completes with STATUS_PENDING"},
    [RECIRP_UP_NO_PROPAGATE] = {"up_no_propagate", "up does not propagate PendingReturned"},
    [RECIRP_LO_NO_MARK] = {"lo_no_mark", "lo returns STATUS_PENDING unmarked"},
    [RECIRP_LO_CANCEL_KEEPS_LOCK] = {"lo_cancel_keeps_lock", "lo's cancel routine keeps the cancel spin lock"},
    [RECIRP_UP_FREE_THREADED] = {"up_free_threaded", "up frees a threaded IRP"},
    [RECIRP_UP_CONTINUE] = {"up_continue", "up's routine continues the completion of its own IRP"},
    [RECIRP_UP_FREE_CONTINUE] = {"up_free_continue", "up's routine frees its IRP and continues"},
    [RECIRP_UP_DOUBLE_FREE] = {"up_double_free", "up frees its IRP twice"},
    [RECIRP_LO_CSQ] = {"lo_csq", "lo holds IRPs in a cancel-safe queue"},
    [RECIRP_LO_DELETE_ATTACHED] = {"lo_delete_attached", "lo deletes its device still attached"},
    [RECIRP_LO_IRQL_LEAK] = {"lo_irql_leak", "lo's dispatch returns at DISPATCH_LEVEL"},
    [RECIRP_UP_SMALL_STACK] = {"up_small_stack", "up's IRP is a location short"},
    [RECIRP_UP_NO_CANCEL] = {"up_no_cancel", "up unloads with its IRP pending (plain completion routine)"},
};
static const tdf_target_desc_t k_target = {
    .name = "lifecycle_irp_recorder",
    .doc = "test-only IRP recorder pair (tests/lifecycle_irp)",
    .images = k_images,
    .image_count = TDF_ARRAY_SIZE(k_images),
    .root_hardware_ids = {RECIRP_LO_ID, RECIRP_UP_ID},
    .stimuli = k_stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(k_stimuli),
    .variants = k_variants,
    .variant_count = RECIRP_VARIANT_COUNT,
};
TDF_TARGET(k_target);

enum { EV_UP_SEND = TDF_EV_GENERIC_COUNT, EV_UP_CANCEL, EV_UP_THREADED, EV_LO_COMPLETE, EV_CLIENT };
#define LET_RUN EV(TDF_EV_WAKE, 0)
#define LO 0
#define UP 1

/* tests/trace_lines.h: the events with no parameters and no preemption. */
#define RUN(variant, ...) run_boot_events(&k_target, (variant), 0, EVENTS(__VA_ARGS__))
static tdf_class_t run_none(unsigned variant) { return run_boot_events(&k_target, variant, 0, NULL, 0); }

#define CHECK_BUGCHECK(cls, code, sub, word) \
    expect_finding_at((cls), TDF_CLASS_BUGCHECK, (code), (sub), NULL, (word), __FILE__, __LINE__)
#define CHECK_MISUSE(cls, name, word) expect_finding_at((cls), TDF_CLASS_MISUSE, 0, 0, (name), (word), __FILE__, __LINE__)

/* Index of a recorder line in segment seg, or -1. */
static int in_seg(const char *text, unsigned seg)
{
    for (unsigned i = 0; i < g_nlines; i++)
        if (g_lines[i].dbg && g_lines[i].seg == seg && strcmp(g_lines[i].text, text) == 0)
            return (int)i;
    return -1;
}

TEST(rule110_wdm_stack_starts_with_add_device_and_start_irp_and_unloads_after_its_last_device)
{
    CHECK_CLEAN(run_none(RECIRP_CORRECT));
    EXPECT_IN_ORDER(SEG_START, 1, "lo: DriverEntry", "lo: AddDevice", "lo: IRP_MN_START_DEVICE", "up: DriverEntry",
                    "up: AddDevice", "up: IRP_MN_START_DEVICE");
    EXPECT_IN_ORDER(SEG_END, 1, "lo: IRP_MN_QUERY_REMOVE_DEVICE", "lo: IRP_MN_REMOVE_DEVICE",
                    "up: IRP_MN_REMOVE_DEVICE proceeds", "lo: DriverUnload");
    CHECK(pos("up: DriverUnload") > pos("up: IRP_MN_REMOVE_DEVICE proceeds"));
}

TEST(rule111_vetoed_remove_sends_cancel_remove_to_the_stack_that_succeeded_its_query)
{
    CHECK_CLEAN(RUN(RECIRP_CORRECT, EV(TDF_EV_REMOVE_VETOED, LO)));
    EXPECT_IN_ORDER(SEG_EVENT(0), 1, "lo: IRP_MN_QUERY_REMOVE_DEVICE", "lo: IRP_MN_CANCEL_REMOVE_DEVICE");
    CHECK_EQ(in_seg("lo: IRP_MN_REMOVE_DEVICE", SEG_EVENT(0)), -1);
}

TEST(rule112_surprise_removal_is_surprise_removal_then_remove_without_query)
{
    CHECK_CLEAN(RUN(RECIRP_CORRECT, EV(TDF_EV_SURPRISE_REMOVE, LO)));
    EXPECT_IN_ORDER(SEG_EVENT(0), 1, "lo: IRP_MN_SURPRISE_REMOVAL", "lo: IRP_MN_REMOVE_DEVICE");
    CHECK_EQ(in_seg("lo: IRP_MN_QUERY_REMOVE_DEVICE", SEG_EVENT(0)), -1);
}

TEST(rule113_rebalance_is_query_stop_stop_start)
{
    CHECK_CLEAN(RUN(RECIRP_CORRECT, EV(TDF_EV_STOP, LO)));
    EXPECT(SEG_EVENT(0), 1, "lo: ", "lo: IRP_MN_QUERY_STOP_DEVICE", "lo: IRP_MN_STOP_DEVICE", "lo: IRP_MN_START_DEVICE");
}

TEST(rule114_system_sleep_sends_set_power_d3_leaves_first_then_d0)
{
    CHECK_CLEAN(RUN(RECIRP_CORRECT, EV(TDF_EV_SLEEP, 0)));
    EXPECT(SEG_EVENT(0), 1, "SET_POWER", "up: SET_POWER D3", "lo: SET_POWER D3", "lo: SET_POWER D0",
           "up: SET_POWER D0");
}

TEST(rule115_completion_routines_run_in_the_completers_thread_with_pending_returned)
{
    CHECK_CLEAN(RUN(RECIRP_CORRECT, EV(EV_UP_SEND, UP), LET_RUN, EV(EV_LO_COMPLETE, LO), LET_RUN));
    CHECK(pos("up: IoCallDriver returned 0x103") >= 0); /* lo kept it: STATUS_PENDING */
    int at = pos("up: completion 0x0 (PendingReturned 1)");
    if (CHECK(at >= 0))
        CHECK_STR_CONTAINS(g_lines[at].fiber_name, "lo_complete");
    BEFORE("lo: completes a held IRP", "up: completion 0x0 (PendingReturned 1)");
}

TEST(rule116_completing_an_irp_no_driver_holds_is_0x44)
{
    tdf_class_t cls = RUN(RECIRP_LO_COMPLETE_TWICE, EV(EV_UP_SEND, UP), LET_RUN, EV(EV_LO_COMPLETE, LO), LET_RUN);
    CHECK_BUGCHECK(cls, 0x44, 0, "IoCompleteRequest on IRP");
}

TEST(rule117_completing_with_a_cancel_routine_set_is_0xc9_7)
{
    tdf_class_t cls = RUN(RECIRP_LO_KEEP_CANCEL, EV(EV_UP_SEND, UP), LET_RUN, EV(EV_LO_COMPLETE, LO), LET_RUN);
    CHECK_BUGCHECK(cls, 0xC9, 0x7, "RecLo_Cancel");
}

TEST(rule118_completing_with_status_pending_is_0xc9_6)
{
    tdf_class_t cls = RUN(RECIRP_LO_PENDING_STATUS, EV(EV_UP_SEND, UP), LET_RUN, EV(EV_LO_COMPLETE, LO), LET_RUN);
    CHECK_BUGCHECK(cls, 0xC9, 0x6, "0x103");
}

TEST(rule119_status_pending_needs_the_mark_and_a_forwarder_propagates_it)
{
    CHECK_CLEAN(RUN(RECIRP_CORRECT, EV(EV_CLIENT, UP), LET_RUN, EV(EV_LO_COMPLETE, LO), LET_RUN));
    CHECK(pos("up: forward completion (PendingReturned 1)") >= 0);
    tdf_class_t cls = RUN(RECIRP_UP_NO_PROPAGATE, EV(EV_CLIENT, UP), LET_RUN, EV(EV_LO_COMPLETE, LO), LET_RUN);
    CHECK_MISUSE(cls, "PENDING_NOT_MARKED", "stack location 3");
    cls = RUN(RECIRP_LO_NO_MARK, EV(EV_UP_SEND, UP), LET_RUN, EV(EV_LO_COMPLETE, LO), LET_RUN);
    CHECK_MISUSE(cls, "PENDING_NOT_MARKED", "stack location 2");
}

TEST(rule120_io_cancel_irp_calls_the_cancel_routine_under_the_cancel_spin_lock)
{
    CHECK_CLEAN(RUN(RECIRP_CORRECT, EV(EV_UP_SEND, UP), LET_RUN, EV(EV_UP_CANCEL, UP), LET_RUN));
    EXPECT_IN_ORDER(ANY_SEG, 0, "lo: cancel routine (Cancel 1, at IRQL 2, CancelIrql 0)",
                    "up: completion 0xc0000120 (PendingReturned 1)", "up: IoCancelIrp -> 1");
    tdf_class_t cls = RUN(RECIRP_LO_CANCEL_KEEPS_LOCK, EV(EV_UP_SEND, UP), LET_RUN, EV(EV_UP_CANCEL, UP), LET_RUN);
    CHECK_BUGCHECK(cls, 0x11B, 0, "RecLo_Cancel");
}

TEST(rule121_threaded_irps_are_the_io_managers_to_free)
{
    CHECK_CLEAN(RUN(RECIRP_CORRECT, EV(EV_UP_THREADED, UP), LET_RUN, EV(EV_LO_COMPLETE, LO), LET_RUN));
    CHECK(pos("up: threaded IRP done 0x0, Information 7") >= 0);
    tdf_class_t cls = RUN(RECIRP_UP_FREE_THREADED, EV(EV_UP_THREADED, UP), LET_RUN);
    CHECK_BUGCHECK(cls, 0xC9, 0x2, "IoBuild");
}

TEST(rule122_an_owners_irp_stops_at_more_processing_required)
{
    tdf_class_t cls = RUN(RECIRP_UP_CONTINUE, EV(EV_UP_SEND, UP), LET_RUN, EV(EV_LO_COMPLETE, LO), LET_RUN);
    CHECK_MISUSE(cls, "IRP_COMPLETED_PAST_ITS_OWNER", "STATUS_MORE_PROCESSING_REQUIRED");
    cls = RUN(RECIRP_UP_FREE_CONTINUE, EV(EV_UP_SEND, UP), LET_RUN, EV(EV_LO_COMPLETE, LO), LET_RUN);
    CHECK_BUGCHECK(cls, 0x50, 0, "RecUp_Complete");
}

TEST(rule123_a_freed_irp_freed_again_is_0xc2_7)
{
    tdf_class_t cls = RUN(RECIRP_UP_DOUBLE_FREE, EV(EV_UP_SEND, UP), LET_RUN, EV(EV_LO_COMPLETE, LO), LET_RUN);
    CHECK_BUGCHECK(cls, 0xC2, 0x7, "already freed");
}

TEST(rule124_cancel_safe_queue_completes_a_canceled_irp_through_its_callback)
{
    CHECK_CLEAN(RUN(RECIRP_LO_CSQ, EV(EV_UP_SEND, UP), LET_RUN, EV(EV_UP_CANCEL, UP), LET_RUN));
    EXPECT_IN_ORDER(ANY_SEG, 0, "lo: csq completes a canceled IRP", "up: completion 0xc0000120 (PendingReturned 1)");
    CHECK_CLEAN(RUN(RECIRP_LO_CSQ, EV(EV_UP_SEND, UP), LET_RUN, EV(EV_LO_COMPLETE, LO), LET_RUN));
    CHECK(pos("up: completion 0x0 (PendingReturned 1)") >= 0);
}

TEST(rule125_a_device_object_lives_until_its_last_reference_and_is_deleted_detached)
{
    CHECK_CLEAN(run_none(RECIRP_CORRECT));
    BEFORE("lo: IRP_MN_REMOVE_DEVICE", "up: IRP_MN_REMOVE_DEVICE proceeds");
    BEFORE("up: IRP_MN_REMOVE_DEVICE proceeds", "lo: DriverUnload"); /* up's file object kept lo's device */
    tdf_class_t cls = run_none(RECIRP_LO_DELETE_ATTACHED);
    CHECK_MISUSE(cls, "DELETE_WHILE_ATTACHED", "IoDetachDevice first");
}

TEST(rule126_a_dispatch_routine_returning_at_another_irql_is_0xc9_5)
{
    tdf_class_t cls = RUN(RECIRP_LO_IRQL_LEAK, EV(EV_UP_SEND, UP), LET_RUN);
    CHECK_BUGCHECK(cls, 0xC9, 0x5, "RecLo_DispatchInternal");
}

TEST(rule127_no_stack_location_left_is_0x35)
{
    tdf_class_t cls = RUN(RECIRP_UP_SMALL_STACK, EV(EV_UP_SEND, UP), LET_RUN);
    CHECK_BUGCHECK(cls, 0x35, 0, "no location below");
}

TEST(rule128_unloading_with_a_pending_irp_holding_a_completion_routine_is_0xce)
{
    tdf_class_t cls = RUN(RECIRP_UP_NO_CANCEL, EV(EV_UP_SEND, UP), LET_RUN, EV(TDF_EV_REMOVE, UP));
    CHECK_BUGCHECK(cls, 0xCE, 0, "RecUp_Complete");
}

TEST(rule129_remove_waits_for_the_remove_lock_a_forwarded_irp_holds)
{
    CHECK_CLEAN(RUN(RECIRP_CORRECT, EV(EV_CLIENT, UP), LET_RUN, EV(TDF_EV_REMOVE, UP)));
    EXPECT_IN_ORDER(ANY_SEG, 0, "up: forwards a client IRP", "up: IRP_MN_REMOVE_DEVICE waits",
                    "lo: cancel routine (Cancel 1, at IRQL 2, CancelIrql 0)",
                    "up: forward completion (PendingReturned 1)", "up: IRP_MN_REMOVE_DEVICE proceeds");
}

int main(void) { return tdf_test_main(); }
