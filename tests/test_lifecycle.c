/*
 * KMDF lifecycle order: one test per ordering rule of KERNEL-SEMANTICS §4-§6
 * (the table in docs/LIFECYCLE.md names each). A recorder bus/child pair
 * (tests/lifecycle/) logs every callback it registers with DbgPrint; each test
 * drives tdf_run() with a scripted input, collects those lines from the full
 * trace and asserts their exact order.
 *
 * Segments, schedules (NO_PREEMPT, STIM_FIRST) and the line assertions are
 * tests/trace_lines.h's.
 *
 * LIFECYCLE_TRACE=1 prints every run's trace (segment, thread, text; "| "
 * marks a recorder line).
 */
#include "lifecycle/rec.h"
#include "trace_lines.h"

/* ---- the test-only target ---------------------------------------------------- */
TDF_DECLARE_IMAGE(recbus);
TDF_DECLARE_IMAGE(recchild);
DRIVER_INITIALIZE RecBus_DriverEntry;
DRIVER_INITIALIZE RecChild_DriverEntry;
EVT_TDF_STIMULUS RecChild_StimulusTouchHardware;

static const tdf_image_desc_t k_images[] = {
    {TDF_IMAGE(recbus), RecBus_DriverEntry, {REC_BUS_HARDWARE_ID}},
    {TDF_IMAGE(recchild), RecChild_DriverEntry, {REC_CHILD_HARDWARE_ID_TEXT}},
};

static const tdf_stimulus_desc_t k_stimuli[] = {
    {"io_complete", TDF_IMAGE(recchild), NULL, "DeviceIoControl the child completes at once", IOCTL_REC_COMPLETE},
    {"io_hold", TDF_IMAGE(recchild), NULL, "DeviceIoControl the child keeps (cancelable)", IOCTL_REC_HOLD},
    {"touch_hw", TDF_IMAGE(recchild), RecChild_StimulusTouchHardware, "reads the child's register", 0},
};

static const tdf_variant_desc_t k_variants[REC_VARIANT_COUNT] = {
    [REC_VARIANT_CORRECT] = {"correct", "logs every callback, succeeds"},
    [REC_VARIANT_VETO_QUERY_REMOVE] = {"veto_query_remove", "child0's FDO fails EvtDeviceQueryRemove"},
    [REC_VARIANT_VETO_QUERY_STOP] = {"veto_query_stop", "child0's FDO fails EvtDeviceQueryStop"},
    [REC_VARIANT_NEVER_ACK_STOP] = {"never_ack_stop", "EvtIoStop neither completes nor acknowledges"},
    [REC_VARIANT_TOUCH_AFTER_RELEASE] = {"touch_after_release", "reads the unmapped register in Flush"},
    [REC_VARIANT_MARK_CANCELABLE_LATE] = {"mark_cancelable_late", "marks a held request cancelable after ReleaseHardware"},
};

static const tdf_param_desc_t k_params[] = {{"children", 1, 3}};

static const tdf_target_desc_t k_target = {
    .name = "lifecycle_recorder",
    .doc = "test-only recorder bus/child (tests/lifecycle): every KMDF callback logs one line",
    .images = k_images,
    .image_count = TDF_ARRAY_SIZE(k_images),
    .root_hardware_ids = {REC_BUS_HARDWARE_ID},
    .stimuli = k_stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(k_stimuli),
    .variants = k_variants,
    .variant_count = REC_VARIANT_COUNT,
    .params = k_params,
    .param_count = TDF_ARRAY_SIZE(k_params),
};
TDF_TARGET(k_target);

/* Event kinds (docs/INPUT.md): generic, then the stimuli above. */
enum { EV_IO_COMPLETE = TDF_EV_GENERIC_COUNT, EV_IO_HOLD, EV_TOUCH_HW };
/* Device arguments: index among live devnodes, in creation order. */
enum { N_BUS = 0, N_CHILD0 = 1, N_CHILD1 = 2 };

/* ---- running, and the lines of the trace -------------------------------------- */
static tdf_script_t g_script;

static tdf_class_t run_events(unsigned variant, unsigned children, sched_source_t schedule, const tdf_event_t *ev,
                              unsigned n)
{
    memset(&g_script, 0, sizeof g_script);
    g_script.params[0] = (uint8_t)children;
    g_script.event_count = n;
    for (unsigned i = 0; i < n && i < TDF_MAX_EVENTS; i++)
        g_script.events[i] = ev[i];
    g_script.schedule = schedule;
    return run_script(&k_target, &g_script, variant);
}

#define RUN(variant, children, schedule, ...) run_events((variant), (children), (schedule), EVENTS(__VA_ARGS__))
#define RUN_NO_EVENTS(variant, children) run_events((variant), (children), NO_PREEMPT, NULL, 0)

/* ==== start (KERNEL-SEMANTICS §4 "Resume", "Across stack") ===================== */

TEST(start_prepare_hardware_then_d0entry_d3final_then_self_managed_io_init)
{
    CHECK_CLEAN(RUN_NO_EVENTS(REC_VARIANT_CORRECT, 1));
    EXPECT(SEG_START, 1, "bus FDO", "bus FDO PrepareHardware", "bus FDO D0Entry(D3Final)", "bus FDO SelfManagedIoInit");
    EXPECT(SEG_START, 1, "child0 PDO", "child0 PDO PrepareHardware", "child0 PDO D0Entry(D3Final)",
           "child0 PDO SelfManagedIoInit");
    EXPECT(SEG_START, 1, "child0 FDO", "child0 FDO PrepareHardware", "child0 FDO D0Entry(D3Final)",
           "child0 FDO SelfManagedIoInit");
}

TEST(start_pdo_before_fdo)
{
    CHECK_CLEAN(RUN_NO_EVENTS(REC_VARIANT_CORRECT, 1));
    EXPECT(SEG_START, 1, NULL, "recbus DriverEntry", "recbus EvtDriverDeviceAdd", "bus FDO PrepareHardware",
           "bus FDO D0Entry(D3Final)", "bus FDO SelfManagedIoInit", "child0 PDO PrepareHardware",
           "child0 PDO D0Entry(D3Final)", "child0 PDO SelfManagedIoInit", "recchild DriverEntry",
           "recchild EvtDriverDeviceAdd", "child0 FDO PrepareHardware", "child0 FDO D0Entry(D3Final)",
           "child0 FDO SelfManagedIoInit");
}

TEST(start_parent_before_child)
{
    CHECK_CLEAN(RUN_NO_EVENTS(REC_VARIANT_CORRECT, 2));
    EXPECT(SEG_START, 1, "Init", "bus FDO SelfManagedIoInit", "child0 PDO SelfManagedIoInit",
           "child0 FDO SelfManagedIoInit", "child1 PDO SelfManagedIoInit", "child1 FDO SelfManagedIoInit");
    /* The bus is fully started before its first child's stack gets anything. */
    BEFORE("bus FDO SelfManagedIoInit", "child0 PDO PrepareHardware");
    BEFORE("bus FDO SelfManagedIoInit", "child1 PDO PrepareHardware");
}

TEST(self_managed_io_init_only_on_first_start_restart_afterwards)
{
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_IDLE, N_CHILD0), EV(TDF_EV_WAKE, N_CHILD0),
                    EV(TDF_EV_STOP, N_CHILD0)));
    EXPECT(ANY_SEG, 1, "child0 FDO SelfManagedIo", "child0 FDO SelfManagedIoInit",
           "child0 FDO SelfManagedIoSuspend", "child0 FDO SelfManagedIoRestart", /* idle, wake */
           "child0 FDO SelfManagedIoSuspend", "child0 FDO SelfManagedIoRestart", /* stop, restart */
           "child0 FDO SelfManagedIoSuspend", "child0 FDO SelfManagedIoFlush", "child0 FDO SelfManagedIoCleanup");
    EXPECT(ANY_SEG, 1, "child0 PDO SelfManagedIo", "child0 PDO SelfManagedIoInit",
           "child0 PDO SelfManagedIoSuspend", "child0 PDO SelfManagedIoRestart",
           "child0 PDO SelfManagedIoSuspend", "child0 PDO SelfManagedIoRestart",
           "child0 PDO SelfManagedIoSuspend", "child0 PDO SelfManagedIoFlush", "child0 PDO SelfManagedIoCleanup");
}

/* ==== power (§4 "Power-down core", "Resume", "Across stack") ==================== */

TEST(power_down_self_managed_io_suspend_then_evtiostop_then_d0exit)
{
    /* A held request: owned by the driver when the power-down starts. A
     * system sleep, not an idle: the request's power reference keeps the
     * power-policy owner from idling (KERNEL-SEMANTICS §13). */
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, STIM_FIRST, EV(EV_IO_HOLD, 0), EV(TDF_EV_SLEEP, 0)));
    BEFORE("child0 FDO EvtIoDeviceControl(hold)", "child0 FDO SelfManagedIoSuspend");
    EXPECT(SEG_EVENT(1), 1, "child0 ", "child0 FDO SelfManagedIoSuspend", "child0 FDO EvtIoStop(Suspend,Cancelable)",
           "child0 FDO D0Exit(D3)", "child0 PDO SelfManagedIoSuspend", "child0 PDO D0Exit(D3)",
           "child0 PDO D0Entry(D3)", "child0 PDO SelfManagedIoRestart", "child0 FDO D0Entry(D3)",
           "child0 FDO EvtIoResume", "child0 FDO SelfManagedIoRestart");
}

TEST(resume_d0entry_previous_then_evtioresume_then_self_managed_io_restart)
{
    /* The resume half of a sleep with a held request (see the test above). */
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, STIM_FIRST, EV(EV_IO_HOLD, 0), EV(TDF_EV_SLEEP, 0)));
    EXPECT(SEG_EVENT(1), 1, "D0Entry", "bus FDO D0Entry(D3)", "child0 PDO D0Entry(D3)", "child0 FDO D0Entry(D3)");
    BEFORE("child0 FDO D0Entry(D3)", "child0 FDO EvtIoResume");
    BEFORE("child0 FDO EvtIoResume", "child0 FDO SelfManagedIoRestart");
}

TEST(idle_leaves_before_parents)
{
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_IDLE, N_CHILD0), EV(TDF_EV_IDLE, N_BUS)));
    EXPECT(SEG_EVENT(0), 1, NULL, "child0 FDO SelfManagedIoSuspend", "child0 FDO D0Exit(D3)",
           "child0 PDO SelfManagedIoSuspend", "child0 PDO D0Exit(D3)");
    EXPECT(SEG_EVENT(1), 1, NULL, "bus FDO SelfManagedIoSuspend", "bus FDO D0Exit(D3)");
}

TEST(idle_parent_with_a_child_in_d0_does_not_idle)
{
    /* child1 stays in D0: its power reference keeps the bus up. */
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 2, NO_PREEMPT, EV(TDF_EV_IDLE, N_CHILD0), EV(TDF_EV_IDLE, N_BUS)));
    EXPECT(SEG_EVENT(0), 1, "D0Exit", "child0 FDO D0Exit(D3)", "child0 PDO D0Exit(D3)");
    EXPECT_NONE(SEG_EVENT(1), 0, NULL);
    CHECK(find("power policy idle recbus: skipped (not legal in this state)", 0) >= 0);
}

TEST(wake_parents_first)
{
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_IDLE, N_CHILD0), EV(TDF_EV_IDLE, N_BUS),
                    EV(TDF_EV_WAKE, N_CHILD0)));
    EXPECT(SEG_EVENT(2), 1, NULL, "bus FDO D0Entry(D3)", "bus FDO SelfManagedIoRestart", "child0 PDO D0Entry(D3)",
           "child0 PDO SelfManagedIoRestart", "child0 FDO D0Entry(D3)", "child0 FDO SelfManagedIoRestart");
}

/* ==== stop / rebalance (§4 "Stop/rebalance") ==================================== */

TEST(stop_query_stop_then_power_down_d3final_release_then_restart)
{
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_STOP, N_CHILD0)));
    EXPECT(SEG_EVENT(0), 1, NULL, "child0 FDO QueryStop",
           /* STOP: top-down, FDO before PDO */
           "child0 FDO SelfManagedIoSuspend", "child0 FDO D0Exit(D3Final)", "child0 FDO ReleaseHardware",
           "child0 PDO SelfManagedIoSuspend", "child0 PDO D0Exit(D3Final)", "child0 PDO ReleaseHardware",
           /* restart: bottom-up */
           "child0 PDO PrepareHardware", "child0 PDO D0Entry(D3Final)", "child0 PDO SelfManagedIoRestart",
           "child0 FDO PrepareHardware", "child0 FDO D0Entry(D3Final)", "child0 FDO SelfManagedIoRestart");
}

TEST(stop_query_stop_descendants_first_and_a_veto_ends_it)
{
    CHECK_CLEAN(RUN(REC_VARIANT_VETO_QUERY_STOP, 2, NO_PREEMPT, EV(TDF_EV_STOP, N_BUS)));
    EXPECT(SEG_EVENT(0), 0, NULL, "child1 FDO QueryStop", "child0 FDO QueryStop(veto)");
}

/* ==== orderly remove (§4 "Orderly remove", "PDO", "Across stack") =============== */

TEST(remove_query_remove_descendants_first_before_any_remove)
{
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 2, NO_PREEMPT, EV(TDF_EV_REMOVE, N_BUS)));
    const char *got[64];
    unsigned n = select_lines(SEG_EVENT(0), 1, NULL, got, 64);
    if (CHECK(n >= 3)) {
        CHECK(strcmp(got[0], "child1 FDO QueryRemove") == 0);
        CHECK(strcmp(got[1], "child0 FDO QueryRemove") == 0);
        CHECK(strcmp(got[2], "bus FDO QueryRemove") == 0);
    }
    EXPECT(SEG_EVENT(0), 1, "QueryRemove", "child1 FDO QueryRemove", "child0 FDO QueryRemove", "bus FDO QueryRemove");
}

TEST(remove_query_remove_veto_ends_it)
{
    CHECK_CLEAN(RUN(REC_VARIANT_VETO_QUERY_REMOVE, 2, NO_PREEMPT, EV(TDF_EV_REMOVE, N_BUS)));
    EXPECT(SEG_EVENT(0), 0, NULL, "child1 FDO QueryRemove", "child0 FDO QueryRemove(veto)");
}

TEST(remove_children_first_fdo_before_pdo)
{
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 2, NO_PREEMPT, EV(TDF_EV_REMOVE, N_BUS)));
    EXPECT(SEG_EVENT(0), 1, "D0Exit", "child1 FDO D0Exit(D3Final)", "child1 PDO D0Exit(D3Final)",
           "child0 FDO D0Exit(D3Final)", "child0 PDO D0Exit(D3Final)", "bus FDO D0Exit(D3Final)");
    EXPECT(SEG_EVENT(0), 1, "ReleaseHardware", "child1 FDO ReleaseHardware", "child1 PDO ReleaseHardware",
           "child0 FDO ReleaseHardware", "child0 PDO ReleaseHardware", "bus FDO ReleaseHardware");
    /* In a stack the FDO runs its whole REMOVE (cleanup included) before the
     * PDO gets it, but its device object is deleted -- and its driver
     * unloads -- only after the PDO processed the REMOVE (fxpkgfdo.cpp). */
    BEFORE("child0 FDO EvtCleanupCallback", "child0 PDO D0Exit(D3Final)");
    BEFORE("child0 PDO SelfManagedIoFlush", "recchild EvtDriverUnload");
    /* A PDO reported missing deletes itself while it processes the REMOVE
     * (EvtCleanupCallback), before the FDO above it is deleted. */
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_SURPRISE_REMOVE, N_CHILD0)));
    EXPECT_IN_ORDER(SEG_EVENT(0), 1, "child0 FDO EvtCleanupCallback", "child0 PDO EvtCleanupCallback",
                    "recchild EvtDriverUnload");
    CHECK(find("recchild0/FDO destroyed", 0) > pos("child0 PDO EvtCleanupCallback"));
}

TEST(remove_d0exit_d3final_release_purge_flush_cleanup_evtcleanupcallback)
{
    /* A held (cancelable) request on a client's handle. The wake of a device
     * already in D0 is skipped, but its power request lets the client run
     * first (STIM_FIRST), so the request is held when the REMOVE comes. The
     * client closes its handle at the query-remove notification, canceling
     * its I/O first (KERNEL-SEMANTICS §12), so the REMOVE finds no request. */
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, STIM_FIRST, EV(EV_IO_HOLD, 0), EV(TDF_EV_WAKE, N_CHILD0),
                    EV(TDF_EV_REMOVE, N_CHILD0)));
    EXPECT(SEG_EVENT(2), 1, "child0 FDO", "child0 FDO EvtRequestCancel", "child0 FDO QueryRemove",
           "child0 FDO SelfManagedIoSuspend", "child0 FDO D0Exit(D3Final)", "child0 FDO ReleaseHardware",
           "child0 FDO SelfManagedIoFlush", "child0 FDO SelfManagedIoCleanup", "child0 FDO EvtCleanupCallback");
    int cancel_io = find("recchild0/FDO: client CancelIoEx", 0);
    CHECK(cancel_io >= 0 && cancel_io < pos("child0 FDO EvtRequestCancel"));
    /* The purge is the framework's, between ReleaseHardware and Flush. */
    int purge = find("recchild0/FDO: purge queue", 0);
    CHECK(pos("child0 FDO ReleaseHardware") >= 0 && purge > pos("child0 FDO ReleaseHardware"));
    CHECK(purge >= 0 && purge < pos("child0 FDO SelfManagedIoFlush"));
}

TEST(remove_parent_deletes_its_present_child_pdos_after_its_flush)
{
    /* §4: a child PDO that is still present survives its own REMOVE; the
     * parent's removal deletes it ("children removed"), between the parent's
     * SelfManagedIoFlush and its SelfManagedIoCleanup. */
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_REMOVE, N_BUS)));
    BEFORE("child0 PDO SelfManagedIoFlush", "bus FDO D0Exit(D3Final)");
    BEFORE("bus FDO SelfManagedIoFlush", "child0 PDO SelfManagedIoCleanup");
    BEFORE("child0 PDO SelfManagedIoCleanup", "bus FDO SelfManagedIoCleanup");
    BEFORE("bus FDO SelfManagedIoFlush", "child0 PDO EvtCleanupCallback");
    BEFORE("child0 PDO EvtCleanupCallback", "bus FDO EvtCleanupCallback");
}

TEST(remove_keeps_a_present_pdo_and_enable_restarts_it)
{
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_REMOVE, N_CHILD0), EV(TDF_EV_ENABLE, N_CHILD0)));
    /* disable: the FDO goes, the PDO is removed but not deleted */
    EXPECT_IN_ORDER(SEG_EVENT(0), 1, "child0 FDO EvtCleanupCallback", "child0 PDO D0Exit(D3Final)",
                    "child0 PDO ReleaseHardware", "recchild EvtDriverUnload");
    EXPECT_NONE(SEG_EVENT(0), 0, "child0 PDO EvtCleanupCallback");
    /* deleted (and its devnode gone) only at the teardown */
    CHECK(pos("child0 PDO EvtCleanupCallback") >= 0);
    CHECK(find("recchild0: devnode gone", 0) > pos("child0 PDO EvtCleanupCallback"));
    /* enable: the same PDO starts again, a new FDO (and a reloaded driver) on it */
    EXPECT_IN_ORDER(SEG_EVENT(1), 1, "child0 PDO PrepareHardware", "child0 PDO D0Entry(D3Final)",
                    "recchild DriverEntry", "recchild EvtDriverDeviceAdd", "child0 FDO PrepareHardware",
                    "child0 FDO D0Entry(D3Final)", "child0 FDO SelfManagedIoInit");
    CHECK_EQ(count("child0 PDO EvtCleanupCallback"), 1);
}

TEST(removed_present_pdo_is_flushed_not_cleaned_up_and_restarts_with_self_managed_io_restart)
{
    /* §4 "PDO": still present -> object kept, Cleanup only when deleted;
     * "SelfManagedIoInit only first start" (KMDF: Flushed + start -> Restart). */
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_REMOVE, N_CHILD0), EV(TDF_EV_ENABLE, N_CHILD0)));
    EXPECT(SEG_EVENT(0), 1, "child0 PDO", "child0 PDO SelfManagedIoSuspend", "child0 PDO D0Exit(D3Final)",
           "child0 PDO ReleaseHardware", "child0 PDO SelfManagedIoFlush");
    EXPECT(SEG_EVENT(1), 1, "child0 PDO", "child0 PDO PrepareHardware", "child0 PDO D0Entry(D3Final)",
           "child0 PDO SelfManagedIoRestart");
}

/* ==== surprise removal (§4 "Surprise removal", §6) ============================== */

TEST(surprise_removal_then_d0exit_d3final_release_flush_no_query_remove_pdo_deleted)
{
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_SURPRISE_REMOVE, N_CHILD0)));
    EXPECT(SEG_EVENT(0), 1, NULL,
           /* SURPRISE_REMOVAL, top-down */
           "child0 FDO SurpriseRemoval", "child0 FDO SelfManagedIoSuspend", "child0 FDO D0Exit(D3Final)",
           "child0 FDO ReleaseHardware", "child0 FDO SelfManagedIoFlush", "child0 PDO SurpriseRemoval",
           "child0 PDO SelfManagedIoSuspend", "child0 PDO D0Exit(D3Final)", "child0 PDO ReleaseHardware",
           "child0 PDO SelfManagedIoFlush",
           /* REMOVE: the FDO, then the PDO reported missing is deleted */
           "child0 FDO SelfManagedIoCleanup", "child0 FDO EvtCleanupCallback", "child0 PDO SelfManagedIoCleanup",
           "child0 PDO EvtCleanupCallback", "recchild EvtDriverUnload");
    CHECK(pos("child0 PDO EvtCleanupCallback") >= 0);
    CHECK(find("recchild0: devnode gone", 0) > pos("child0 PDO EvtCleanupCallback"));
    EXPECT_NONE(SEG_EVENT(0), 0, "QueryRemove");
}

TEST(surprise_removal_while_idle_no_second_d0exit)
{
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_IDLE, N_CHILD0),
                    EV(TDF_EV_SURPRISE_REMOVE, N_CHILD0)));
    EXPECT(SEG_EVENT(1), 1, NULL, "child0 FDO SurpriseRemoval", "child0 FDO ReleaseHardware",
           "child0 FDO SelfManagedIoFlush", "child0 PDO SurpriseRemoval", "child0 PDO ReleaseHardware",
           "child0 PDO SelfManagedIoFlush", "child0 FDO SelfManagedIoCleanup", "child0 FDO EvtCleanupCallback",
           "child0 PDO SelfManagedIoCleanup", "child0 PDO EvtCleanupCallback", "recchild EvtDriverUnload");
    CHECK_EQ(count("child0 FDO D0Exit(D3)"), 1);
    CHECK_EQ(count("child0 FDO D0Exit(D3Final)"), 0);
}

/* ==== system power (§4 "Across stack": Sx leaves first, parents first up) ====== */

TEST(sleep_every_device_d0exit_d3_leaves_first_then_d0entry_parents_first)
{
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 2, NO_PREEMPT, EV(TDF_EV_SLEEP, 0)));
    EXPECT(SEG_EVENT(0), 1, NULL, "child1 FDO SelfManagedIoSuspend", "child1 FDO D0Exit(D3)",
           "child1 PDO SelfManagedIoSuspend", "child1 PDO D0Exit(D3)", "child0 FDO SelfManagedIoSuspend",
           "child0 FDO D0Exit(D3)", "child0 PDO SelfManagedIoSuspend", "child0 PDO D0Exit(D3)",
           "bus FDO SelfManagedIoSuspend", "bus FDO D0Exit(D3)",
           /* S0 */
           "bus FDO D0Entry(D3)", "bus FDO SelfManagedIoRestart", "child0 PDO D0Entry(D3)",
           "child0 PDO SelfManagedIoRestart", "child0 FDO D0Entry(D3)", "child0 FDO SelfManagedIoRestart",
           "child1 PDO D0Entry(D3)", "child1 PDO SelfManagedIoRestart", "child1 FDO D0Entry(D3)",
           "child1 FDO SelfManagedIoRestart");
}

TEST(hibernate_target_state_prepare_for_hibernation)
{
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_HIBERNATE, 0)));
    EXPECT(SEG_EVENT(0), 1, "D0Exit", "child0 FDO D0Exit(PrepareForHibernation)",
           "child0 PDO D0Exit(PrepareForHibernation)", "bus FDO D0Exit(PrepareForHibernation)");
}

/* ==== unload (§4 "Unload") ======================================================= */

TEST(unload_only_after_the_drivers_last_device_object_is_destroyed)
{
    CHECK_CLEAN(RUN_NO_EVENTS(REC_VARIANT_CORRECT, 2));
    /* recchild: two FDOs; it unloads when the second one is deleted, at once:
     * after the PDO below it processed the REMOVE (rule 14). */
    BEFORE("child1 FDO EvtCleanupCallback", "child0 FDO EvtCleanupCallback");
    BEFORE("child0 FDO EvtCleanupCallback", "recchild EvtDriverUnload");
    CHECK_EQ(next_dbg(pos("child0 PDO SelfManagedIoFlush")), pos("recchild EvtDriverUnload"));
    CHECK_EQ(next_dbg(find("recchild0/FDO destroyed", 0)), pos("recchild EvtDriverUnload"));
    CHECK_EQ(count("recchild EvtDriverUnload"), 1);
    /* recbus: the bus FDO and both PDOs; the last line of the run. */
    BEFORE("bus FDO EvtCleanupCallback", "recbus EvtDriverUnload");
    BEFORE("child0 PDO EvtCleanupCallback", "recbus EvtDriverUnload");
    BEFORE("child1 PDO EvtCleanupCallback", "recbus EvtDriverUnload");
    CHECK_EQ(pos("recbus EvtDriverUnload"), last_dbg());
}

TEST(unload_delayed_by_a_stimulus_holding_a_device_reference)
{
    /* The request's thread holds child0's FDO and runs only after the PnP
     * thread removed everything: the driver unloads when it lets go. */
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(EV_IO_COMPLETE, 0)));
    int cleanup = pos("child0 FDO EvtCleanupCallback"), u = pos("recchild EvtDriverUnload");
    BEFORE("child0 FDO EvtCleanupCallback", "recchild EvtDriverUnload");
    BEFORE("recbus EvtDriverUnload", "recchild EvtDriverUnload");
    CHECK(next_dbg(cleanup) != u);
    if (CHECK(u >= 0 && cleanup >= 0)) {
        CHECK(g_lines[u].fiber != PNP_FIBER); /* on the stimulus's thread, as it drops the reference */
        /* STATUS_DELETE_PENDING: the client's open comes after the removal began */
        int failed = find("recchild0/FDO: IRP_MJ_CREATE failed 0xc0000056", 0);
        CHECK(failed > cleanup && failed < u && g_lines[failed].fiber == g_lines[u].fiber);
    }
}

/* ==== power-managed queues (§4, §5) ============================================== */

TEST(queue_request_arriving_while_held_is_dispatched_only_after_d0entry)
{
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, STIM_FIRST, EV(TDF_EV_IDLE, N_CHILD0), EV(EV_IO_COMPLETE, 0),
                    EV(TDF_EV_WAKE, N_CHILD0)));
    EXPECT(SEG_EVENT(2), 0, NULL, "child0 PDO D0Entry(D3)", "child0 PDO SelfManagedIoRestart",
           "child0 FDO D0Entry(D3)", "child0 FDO EvtIoDeviceControl(complete)", "child0 FDO SelfManagedIoRestart");
    /* Dispatched by the resume on the power-policy thread that runs the
     * wake: it was queued while held. */
    int io = pos("child0 FDO EvtIoDeviceControl(complete)");
    if (CHECK(io >= 0))
        CHECK(g_lines[io].fiber != PNP_FIBER && g_lines[io].pnp_side);
}

TEST(queue_evtiostop_never_acknowledged_bugchecks_0x9f)
{
    tdf_class_t cls = RUN(REC_VARIANT_NEVER_ACK_STOP, 1, STIM_FIRST, EV(EV_IO_HOLD, 0), EV(TDF_EV_SLEEP, 0));
    CHECK_EQ(cls, TDF_CLASS_BUGCHECK);
    const tdf_failure_t *f = tdf_failure();
    if (CHECK(f != NULL)) {
        CHECK_EQ(f->code, 0x9F);
        CHECK(strcmp(f->name, "DRIVER_POWER_STATE_FAILURE") == 0);
        CHECK_STR_CONTAINS(f->detail, "neither completes nor acknowledges");
    }
    EXPECT(SEG_EVENT(1), 1, "child0 ", "child0 FDO SelfManagedIoSuspend", "child0 FDO EvtIoStop(Suspend,Cancelable)");
}

TEST(queue_purge_cancels_queued_requests_and_fails_new_ones)
{
    /* Unpreempted: request A runs while the PnP thread waits for the second
     * idle request (skipped: child0 is idle already) and is queued, held
     * (its power reference posts a wake that runs too late);
     * request B only once the PnP thread blocks in the surprise removal. The
     * removal purges the held queue with A's handle still open (an orderly
     * remove's query-remove notification would have the client cancel A
     * itself, KERNEL-SEMANTICS §12); B's client finds the removal under way:
     * the I/O manager fails its open before any queue sees it. */
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_IDLE, N_CHILD0), EV(EV_IO_COMPLETE, 0),
                    EV(TDF_EV_IDLE, N_CHILD0), EV(EV_IO_COMPLETE, 0), EV(TDF_EV_SURPRISE_REMOVE, N_CHILD0)));
    EXPECT_NONE(ANY_SEG, 0, "EvtIoDeviceControl");
    int purge = find("recchild0/FDO: purge queue", 0);
    int canceled = find("request completed 0xc0000120", 0); /* STATUS_CANCELLED */
    int refused = find("recchild0/FDO: IRP_MJ_CREATE failed 0xc0000056", 0); /* STATUS_DELETE_PENDING */
    CHECK(pos("child0 FDO ReleaseHardware") >= 0 && purge > pos("child0 FDO ReleaseHardware"));
    CHECK(purge >= 0 && canceled > purge && canceled < pos("child0 FDO SelfManagedIoFlush"));
    if (CHECK(canceled >= 0))
        CHECK_EQ(g_lines[canceled].fiber, PNP_FIBER);
    CHECK(refused > purge);
    if (CHECK(refused >= 0))
        CHECK_EQ(g_lines[refused].fiber, 5); /* B: pnp is 0, the idle requests 1 and 3, A 2, the
                                                  * wake A's power reference posts 4 (KERNEL-SEMANTICS §13;
                                                  * unpreempted, it runs only once the PnP thread blocks) */
}

TEST(queue_request_marked_cancelable_while_the_purge_runs_is_canceled)
{
    /* KMDF >= 1.11: once a purge started (FxIoQueue m_CancelDispatchedRequests),
     * WdfRequestMarkCancelableEx returns STATUS_CANCELLED and the driver
     * completes the request; otherwise the purge would wait for it forever.
     * One schedule byte: the request is dispatched at the first choice point
     * (the skipped wake's power request lets it run before the removal, whose
     * start would fail the client's open); its thread then waits for
     * ReleaseHardware, which runs just before the purge. A surprise removal:
     * an orderly one's query-remove notification has the client cancel the
     * request and close its handle first (KERNEL-SEMANTICS §12). */
    CHECK_CLEAN(RUN(REC_VARIANT_MARK_CANCELABLE_LATE, 1, stim_first(1), EV(EV_IO_HOLD, 0),
                    EV(TDF_EV_WAKE, N_CHILD0), EV(TDF_EV_SURPRISE_REMOVE, N_CHILD0)));
    EXPECT_IN_ORDER(ANY_SEG, 0, "child0 FDO EvtIoDeviceControl(hold)", "child0 FDO ReleaseHardware",
                    "child0 FDO MarkCancelableEx(STATUS_CANCELLED)", "child0 FDO SelfManagedIoFlush");
}

/* ==== hardware oracle (model spec invariant 10) =================================== */

TEST(hardware_access_inside_d0exit_is_fine)
{
    /* The recorder writes its register in every D0Exit. */
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_IDLE, N_CHILD0), EV(TDF_EV_WAKE, N_CHILD0)));
    CHECK_EQ(count("child0 FDO D0Exit(D3)"), 1);
    CHECK_EQ(count("child0 FDO D0Exit(D3Final)"), 1);
}

TEST(hardware_access_after_d0exit_returned_is_not_in_d0)
{
    tdf_class_t cls = RUN(REC_VARIANT_CORRECT, 1, STIM_FIRST, EV(TDF_EV_IDLE, N_CHILD0), EV(EV_TOUCH_HW, 0));
    CHECK_EQ(cls, TDF_CLASS_HARDWARE);
    if (CHECK(tdf_failure() != NULL)) {
        CHECK(strcmp(tdf_failure()->name, "NOT_IN_D0") == 0);
        CHECK_STR_CONTAINS(tdf_failure()->detail, "recchild0/FDO is in D3");
    }
    BEFORE("child0 FDO D0Exit(D3)", "child0 FDO touch_hw");
}

TEST(hardware_access_after_release_hardware_unmapped_is_after_unmap)
{
    tdf_class_t cls = RUN(REC_VARIANT_TOUCH_AFTER_RELEASE, 1, NO_PREEMPT, EV(TDF_EV_REMOVE, N_CHILD0));
    CHECK_EQ(cls, TDF_CLASS_HARDWARE);
    if (CHECK(tdf_failure() != NULL))
        CHECK(strcmp(tdf_failure()->name, "AFTER_UNMAP") == 0);
    BEFORE("child0 FDO ReleaseHardware", "child0 FDO SelfManagedIoFlush");
    CHECK_EQ(last_dbg(), pos("child0 FDO SelfManagedIoFlush"));
}

/* ==== one state-changing PnP IRP at a time (§5 0x10D/0xC; spec invariant 8) ===== */

/* The PnP/power callbacks (not the I/O ones, which stimulus threads run). */
static int is_pnp_callback(const char *t)
{
    static const char *const k[] = {"PrepareHardware", "ReleaseHardware", "D0Entry", "D0Exit", "SelfManagedIo",
                                    "SurpriseRemoval", "QueryRemove", "QueryStop", "EvtCleanupCallback",
                                    "EvtDriverDeviceAdd"};
    for (unsigned i = 0; i < TDF_ARRAY_SIZE(k); i++)
        if (strstr(t, k[i]))
            return 1;
    return 0;
}

/* Per segment, the PnP callback lines joined: "seg|line|line...". */
static size_t pnp_signature(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < g_nlines && used + 1 < size; i++)
        if (g_lines[i].dbg && is_pnp_callback(g_lines[i].text))
            used += (size_t)snprintf(buf + used, size - used, "%u|%s\n", g_lines[i].seg, g_lines[i].text);
    return used;
}

TEST(pnp_one_state_changing_irp_at_a_time_even_with_a_preempting_schedule)
{
    /* By construction: one PnP thread applies the events one after another.
     * Under random preemption (stimulus threads dispatch I/O into the queues
     * while the devices power down, stop, go away) every PnP/power callback
     * still runs on that thread, inside its own event's segment, and each
     * event's callbacks are exactly those of the unpreempted run.
     * (idle and wake are left out: they come from the power policy on
     * threads of their own and may overlap the next event by design, see
     * the concurrency tests below;
     * io_hold is left out: a held request dispatched just before a purge
     * hangs the remove, see queue_request_marked_cancelable_while_the_purge_runs_is_canceled.) */
#define LIFECYCLE_EVENTS                                                                                       \
    EV(EV_IO_COMPLETE, 0), EV(EV_IO_COMPLETE, 1), EV(EV_IO_COMPLETE, 1),                                    \
        EV(TDF_EV_STOP, N_CHILD0), EV(EV_IO_COMPLETE, 0), EV(TDF_EV_SLEEP, 0),                                  \
        EV(EV_IO_COMPLETE, 1), EV(TDF_EV_REMOVE, N_CHILD1), EV(EV_IO_COMPLETE, 0), EV(TDF_EV_ENABLE, N_CHILD1), \
        EV(TDF_EV_HIBERNATE, 0), EV(EV_IO_COMPLETE, 1), EV(EV_IO_COMPLETE, 0),                                  \
        EV(TDF_EV_SURPRISE_REMOVE, N_CHILD0)
    static char reference[32768], preempted[32768];
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 2, NO_PREEMPT, LIFECYCLE_EVENTS));
    CHECK(pnp_signature(reference, sizeof reference) + 1 < sizeof reference);
    for (uint64_t seed = 1; seed <= 24; seed++) {
        sched_source_t random = {.kind = SCHED_SOURCE_RANDOM, .seed = seed};
        CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 2, random, LIFECYCLE_EVENTS));
        size_t choices;
        (void)sched_choice_log(&choices);
        CHECK(choices > 0); /* there were other threads to switch to */
        for (unsigned i = 0; i < g_nlines; i++)
            if (g_lines[i].dbg && is_pnp_callback(g_lines[i].text) && !CHECK_EQ(g_lines[i].fiber, PNP_FIBER))
                printf("    seed %lu: %s\n", (unsigned long)seed, g_lines[i].text);
        pnp_signature(preempted, sizeof preempted);
        if (!CHECK(strcmp(reference, preempted) == 0))
            printf("    seed %lu changed the PnP callback sequence\n", (unsigned long)seed);
    }
#undef LIFECYCLE_EVENTS
}

/* ==== concurrency: what may overlap, what stays ordered (docs/LIFECYCLE.md "Concurrency") ==== */

/* Index of the first recorder line at or after `from` with this text on a
 * power-policy thread (pnp_side, not the PnP thread), or -1. */
static int find_on_power_thread(const char *text, unsigned from)
{
    for (unsigned i = from; i < g_nlines; i++)
        if (g_lines[i].dbg && g_lines[i].fiber != PNP_FIBER && g_lines[i].pnp_side && strcmp(g_lines[i].text, text) == 0)
            return (int)i;
    return -1;
}

TEST(concurrency_surprise_removal_callback_can_run_inside_an_idle_power_down)
{
    /* KMDF does not synchronize EvtDeviceSurpriseRemoval with the power
     * callbacks: some schedule runs it between the idle thread's
     * SelfManagedIoSuspend and its D0Exit of the same device. */
    int found = 0;
    for (uint64_t seed = 1; seed <= 400 && !found; seed++) {
        sched_source_t random = {.kind = SCHED_SOURCE_RANDOM, .seed = seed};
        CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, random, EV(TDF_EV_IDLE, N_CHILD0 | TDF_EV_ARG_OVERLAP), EV(TDF_EV_SURPRISE_REMOVE, N_CHILD0)));
        int suspend = find_on_power_thread("child0 FDO SelfManagedIoSuspend", 0);
        int sr = pos("child0 FDO SurpriseRemoval");
        int exit = suspend >= 0 ? find_on_power_thread("child0 FDO D0Exit(D3)", (unsigned)suspend) : -1;
        found = suspend >= 0 && sr > suspend && exit > sr && g_lines[sr].fiber == PNP_FIBER;
    }
    CHECK(found);
}

TEST(concurrency_no_other_pnp_callback_of_a_stack_inside_its_power_transition)
{
    /* The framework's per-device serialization: while the idle thread powers
     * child0's stack down, the PnP thread runs nothing else of that stack but
     * EvtDeviceSurpriseRemoval, under every schedule. */
    unsigned overlapped = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        sched_source_t random = {.kind = SCHED_SOURCE_RANDOM, .seed = seed};
        CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 2, random, EV(TDF_EV_IDLE, N_CHILD0 | TDF_EV_ARG_OVERLAP), EV(TDF_EV_REMOVE, N_CHILD0),
                        EV(TDF_EV_IDLE, N_CHILD1 | TDF_EV_ARG_OVERLAP), EV(TDF_EV_STOP, N_CHILD1), EV(TDF_EV_IDLE, N_CHILD0 | TDF_EV_ARG_OVERLAP),
                        EV(TDF_EV_SURPRISE_REMOVE, N_CHILD0)));
        int first = -1, last = -1;
        for (unsigned i = 0; i < g_nlines; i++) {
            if (!g_lines[i].dbg || g_lines[i].fiber == PNP_FIBER || !g_lines[i].pnp_side ||
                strncmp(g_lines[i].text, "child0 ", 7) != 0)
                continue;
            if (first < 0 || g_lines[i].fiber != g_lines[first].fiber) { /* a new power transition */
                first = (int)i;
            }
            last = (int)i;
            for (int k = first + 1; k < last; k++) {
                const line_t *l = &g_lines[k];
                if (l->dbg && l->fiber == PNP_FIBER && strncmp(l->text, "child0 ", 7) == 0 && is_pnp_callback(l->text)) {
                    if (!CHECK(strstr(l->text, "SurpriseRemoval") != NULL))
                        printf("    seed %lu: '%s' inside the power transition\n", (unsigned long)seed, l->text);
                    overlapped++;
                }
            }
        }
    }
    (void)overlapped;
}

TEST(concurrency_idle_of_one_stack_overlaps_the_removal_of_another)
{
    /* child1's idle power-down and child0's removal are different devnodes:
     * some schedule interleaves their callbacks. */
    int found = 0;
    for (uint64_t seed = 1; seed <= 400 && !found; seed++) {
        sched_source_t random = {.kind = SCHED_SOURCE_RANDOM, .seed = seed};
        CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 2, random, EV(TDF_EV_IDLE, N_CHILD1 | TDF_EV_ARG_OVERLAP), EV(TDF_EV_REMOVE, N_CHILD0)));
        int suspend = find_on_power_thread("child1 FDO SelfManagedIoSuspend", 0);
        int exit = suspend >= 0 ? find_on_power_thread("child1 FDO D0Exit(D3)", (unsigned)suspend) : -1;
        for (int k = suspend + 1; suspend >= 0 && k < exit && !found; k++)
            found = g_lines[k].dbg && g_lines[k].fiber == PNP_FIBER && strncmp(g_lines[k].text, "child0 ", 7) == 0;
    }
    CHECK(found);
}

TEST(concurrency_a_parent_never_leaves_d0_while_a_child_pdo_is_in_d0)
{
    /* Under every schedule: the child's power reference (wake holds the
     * parent's lock until the child is up; idle checks the child's PDO). */
    for (uint64_t seed = 1; seed <= 400; seed++) {
        sched_source_t random = {.kind = SCHED_SOURCE_RANDOM, .seed = seed};
        /* Every kind of child power-up: wake, restart after a stop, resume
         * from sleep, start after enable; each with a bus idle around it. */
        CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, random, EV(TDF_EV_IDLE, N_CHILD0 | TDF_EV_ARG_OVERLAP), EV(TDF_EV_IDLE, N_BUS | TDF_EV_ARG_OVERLAP),
                        EV(TDF_EV_WAKE, N_CHILD0 | TDF_EV_ARG_OVERLAP), EV(TDF_EV_IDLE, N_BUS | TDF_EV_ARG_OVERLAP), EV(TDF_EV_IDLE, N_CHILD0 | TDF_EV_ARG_OVERLAP),
                        EV(TDF_EV_IDLE, N_BUS | TDF_EV_ARG_OVERLAP), EV(TDF_EV_STOP, N_CHILD0), EV(TDF_EV_IDLE, N_CHILD0 | TDF_EV_ARG_OVERLAP),
                        EV(TDF_EV_IDLE, N_BUS | TDF_EV_ARG_OVERLAP), EV(TDF_EV_SLEEP, 0), EV(TDF_EV_IDLE, N_BUS | TDF_EV_ARG_OVERLAP), EV(TDF_EV_REMOVE, N_CHILD0),
                        EV(TDF_EV_IDLE, N_BUS | TDF_EV_ARG_OVERLAP), EV(TDF_EV_ENABLE, N_CHILD0), EV(TDF_EV_IDLE, N_BUS | TDF_EV_ARG_OVERLAP),
                        EV(TDF_EV_WAKE, N_CHILD0 | TDF_EV_ARG_OVERLAP), EV(TDF_EV_REMOVE, N_CHILD0)));
        int child_pdo_in_d0 = 1, bus_in_d0 = 1;
        for (unsigned i = 0; i < g_nlines; i++) {
            const char *t = g_lines[i].text;
            if (!g_lines[i].dbg)
                continue;
            if (strncmp(t, "child0 PDO D0Entry", 18) == 0) {
                if (!CHECK(bus_in_d0))
                    printf("    seed %lu: child0 PDO powered up with the bus in Dx\n", (unsigned long)seed);
                child_pdo_in_d0 = 1;
            } else if (strncmp(t, "child0 PDO D0Exit", 17) == 0) {
                child_pdo_in_d0 = 0;
            } else if (strncmp(t, "bus FDO D0Entry", 15) == 0) {
                bus_in_d0 = 1;
            } else if (strcmp(t, "bus FDO D0Exit(D3)") == 0) {
                if (!CHECK(!child_pdo_in_d0))
                    printf("    seed %lu: bus idled with child0's PDO in D0\n", (unsigned long)seed);
                bus_in_d0 = 0;
            }
        }
    }
}

TEST(concurrency_next_event_waits_for_a_power_request_unless_the_input_overlaps_them)
{
    /* No schedule bytes: the idle request finishes before the next event. */
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_IDLE, N_CHILD0), EV(TDF_EV_SURPRISE_REMOVE, N_CHILD0)));
    BEFORE("child0 PDO D0Exit(D3)", "child0 FDO SurpriseRemoval");
    CHECK(find("next event after the power request on recchild0", 0) >= 0);
    /* TDF_EV_ARG_OVERLAP on the idle, no schedule bytes (the PnP thread keeps
     * running): the surprise removal starts before the idle thread has run. */
    CHECK_CLEAN(RUN(REC_VARIANT_CORRECT, 1, NO_PREEMPT, EV(TDF_EV_IDLE, N_CHILD0 | TDF_EV_ARG_OVERLAP),
                    EV(TDF_EV_SURPRISE_REMOVE, N_CHILD0)));
    CHECK(find("next event while the power request on recchild0 runs", 0) >= 0);
    BEFORE("child0 FDO SurpriseRemoval", "child0 FDO D0Exit(D3Final)");
}

int main(void) { return tdf_test_main(); }
