/*
 * Child lists and bus-initiated PnP (KERNEL-SEMANTICS §11; docs/LIFECYCLE.md
 * rules 70-79): one test per rule. The recorder bus/child pair of
 * tests/lifecycle_childlist/ logs every callback with DbgPrint; each test runs
 * tdf_run() on a scripted input and checks the order of those lines and the
 * model thread each ran on. The bus's stimuli wait for their return
 * (wait_for_return), so an input reads as a sequence: report, then the next
 * event; the PnP requests a report makes run on threads of their own
 * ("bus-relations", "eject").
 *
 * LIFECYCLE_TRACE=1 prints every run's trace ("| " marks a recorder line).
 */
#include "lifecycle_childlist/cl.h"
#include "trace_lines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TDF_DECLARE_IMAGE(clbus);
TDF_DECLARE_IMAGE(clchild);
DRIVER_INITIALIZE ClBus_DriverEntry;
DRIVER_INITIALIZE ClChild_DriverEntry;
EVT_TDF_STIMULUS ClBus_StimulusPlug;
EVT_TDF_STIMULUS ClBus_StimulusUnplug;
EVT_TDF_STIMULUS ClBus_StimulusRescan;
EVT_TDF_STIMULUS ClBus_StimulusIterate;
EVT_TDF_STIMULUS ClBus_StimulusEject;
EVT_TDF_STIMULUS ClBus_StimulusPlugIterate;

static const tdf_image_desc_t k_images[] = {
    {TDF_IMAGE(clbus), ClBus_DriverEntry, {CL_BUS_HARDWARE_ID}},
    {TDF_IMAGE(clchild), ClChild_DriverEntry, {CL_CHILD_HARDWARE_ID_TEXT}},
};

static const tdf_stimulus_desc_t k_stimuli[] = {
    {"plug", TDF_IMAGE(clbus), ClBus_StimulusPlug, "child arg%4 reported present", 0, 1},
    {"unplug", TDF_IMAGE(clbus), ClBus_StimulusUnplug, "child arg%4 reported missing", 0, 1},
    {"rescan", TDF_IMAGE(clbus), ClBus_StimulusRescan, "a scan finding the children of the mask arg", 0, 1},
    {"iterate", TDF_IMAGE(clbus), ClBus_StimulusIterate, "iterate; arg missing, arg+1 present meanwhile", 0, 1},
    {"eject", TDF_IMAGE(clbus), ClBus_StimulusEject, "eject child arg%4", 0, 1},
    {"plug_iterate", TDF_IMAGE(clbus), ClBus_StimulusPlugIterate, "child arg%4 present, then walks at once", 0, 1},
};

static const tdf_variant_desc_t k_variants[CL_VARIANT_COUNT] = {
    [CL_VARIANT_CORRECT] = {"correct", "logs every callback, succeeds"},
    [CL_VARIANT_VETO_QUERY_REMOVE] = {"veto_query_remove", "the child FDO fails EvtDeviceQueryRemove"},
    [CL_VARIANT_NO_EJECT_CAPABILITY] = {"no_eject_capability", "PDOs without EjectSupported"},
    [CL_VARIANT_SLOW_CREATE] = {"slow_create", "EvtChildListCreateDevice waits for the other threads"},
};

static const tdf_param_desc_t k_params[] = {{"boot", 0, 15}};

static const tdf_target_desc_t k_target = {
    .name = "lifecycle_childlist_recorder",
    .doc = "test-only recorder bus with a child list (tests/lifecycle_childlist)",
    .images = k_images,
    .image_count = TDF_ARRAY_SIZE(k_images),
    .root_hardware_ids = {CL_BUS_HARDWARE_ID},
    .stimuli = k_stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(k_stimuli),
    .variants = k_variants,
    .variant_count = CL_VARIANT_COUNT,
    .params = k_params,
    .param_count = TDF_ARRAY_SIZE(k_params),
};
TDF_TARGET(k_target);

enum { EV_PLUG = TDF_EV_GENERIC_COUNT, EV_UNPLUG, EV_RESCAN, EV_ITERATE, EV_EJECT, EV_PLUG_ITERATE };

/* ---- running, and the lines of the trace (tests/trace_lines.h) ----------------- */
#define RUN(variant, boot, ...) run_boot_events(&k_target, (variant), (boot), EVENTS(__VA_ARGS__))
#define IN_ORDER(...) EXPECT_IN_ORDER(ANY_SEG, 0, __VA_ARGS__)
#define ON_THREAD(text, name) on_thread((text), (name), __FILE__, __LINE__)

/* ==== rules 70-79 ================================================================= */

TEST(childlist_present_child_gets_its_pdo_from_evtchildlistcreatedevice_on_a_pnp_thread_then_starts)
{
    /* rule 70 */
    CHECK_CLEAN(RUN(CL_VARIANT_CORRECT, 0, EV(EV_PLUG, 1)));
    IN_ORDER("clbus plug(1) -> 0x0", "clbus EvtChildListCreateDevice(1)", "child1 PDO PrepareHardware",
             "child1 FDO PrepareHardware");
    /* The reporter returns at once; the framework's relations query runs on
     * a PnP thread of its own. */
    ON_THREAD("clbus plug(1) -> 0x0", "plug");
    ON_THREAD("clbus EvtChildListCreateDevice(1)", "bus-relations");
    ON_THREAD("child1 FDO PrepareHardware", "bus-relations");
    /* and the boot children come from EvtChildListScanForChildren at the start */
    CHECK_CLEAN(RUN(CL_VARIANT_CORRECT, 5));
    IN_ORDER("clbus FDO PrepareHardware", "clbus EvtChildListScanForChildren", "clbus EvtChildListCreateDevice(0)",
             "clbus EvtChildListCreateDevice(2)", "child0 PDO PrepareHardware", "child0 FDO PrepareHardware",
             "child2 PDO PrepareHardware");
    CHECK_EQ(count("clbus EvtChildListCreateDevice(1)"), 0);
}

TEST(childlist_same_description_again_is_object_name_exists_and_no_second_pdo)
{
    /* rule 71 */
    CHECK_CLEAN(RUN(CL_VARIANT_CORRECT, 0, EV(EV_PLUG, 1), EV(EV_PLUG, 1)));
    IN_ORDER("clbus plug(1) -> 0x0", "clbus plug(1) -> 0x40000000");
    CHECK_EQ(count("clbus EvtChildListCreateDevice(1)"), 1);
    CHECK_EQ(count("child1 PDO PrepareHardware"), 1);
}

TEST(childlist_end_scan_reports_unfound_children_missing_and_changes_wait_for_the_end)
{
    /* rule 72: boot children 0 and 1; a scan finds 1 and 2. */
    CHECK_CLEAN(RUN(CL_VARIANT_CORRECT, 3, EV(EV_RESCAN, 6)));
    IN_ORDER("clbus scan reported", "clbus scan ended", "clbus EvtChildListCreateDevice(2)");
    IN_ORDER("clbus scan ended", "child0 FDO SurpriseRemoval", "child0 PDO EvtCleanupCallback");
    CHECK_EQ(count("child1 FDO SurpriseRemoval"), 0);
    /* nothing was queued before the scan ended */
    int queued = -1;
    for (unsigned i = (unsigned)pos("clbus scan reported"); i < g_nlines; i++)
        if (!g_lines[i].dbg && strncmp(g_lines[i].text, "bus-relations queued", 20) == 0) {
            queued = (int)i;
            break;
        }
    CHECK(queued > pos("clbus scan reported"));
    CHECK(queued < pos("clbus scan ended"));
    CHECK(find("bus-relations queued for clbus/FDO", 0) >= 0);
}

TEST(childlist_missing_child_is_surprise_removed_on_a_pnp_thread_and_its_pdo_deleted)
{
    /* rule 73 */
    CHECK_CLEAN(RUN(CL_VARIANT_CORRECT, 2, EV(EV_UNPLUG, 1)));
    IN_ORDER("clbus unplug(1) -> 0x0", "child1 PDO ReportedMissing", "child1 FDO SurpriseRemoval",
             "child1 FDO D0Exit", "child1 FDO ReleaseHardware", "child1 PDO SurpriseRemoval", "child1 PDO D0Exit",
             "child1 PDO ReleaseHardware", "child1 FDO EvtCleanupCallback", "child1 PDO EvtCleanupCallback",
             "clbus DescriptionCleanup(1)");
    ON_THREAD("clbus unplug(1) -> 0x0", "unplug");
    ON_THREAD("child1 FDO SurpriseRemoval", "bus-relations");
    ON_THREAD("child1 PDO EvtCleanupCallback", "bus-relations");
    CHECK_EQ(count("child1 FDO QueryRemove"), 0);
    /* a second report of the same child is STATUS_NO_SUCH_DEVICE once it is gone */
    CHECK_CLEAN(RUN(CL_VARIANT_CORRECT, 2, EV(EV_UNPLUG, 1), EV(EV_UNPLUG, 1)));
    IN_ORDER("clbus unplug(1) -> 0x0", "clbus DescriptionCleanup(1)", "clbus unplug(1) -> 0xc000000e");
}

TEST(childlist_missing_pdo_is_deleted_before_the_fdo_above_it_is_destroyed)
{
    /* rule 74 (and 14): FDO cleanup, PDO cleanup, FDO object destroyed, its driver unloaded */
    CHECK_CLEAN(RUN(CL_VARIANT_CORRECT, 2, EV(EV_UNPLUG, 1)));
    IN_ORDER("child1 FDO EvtCleanupCallback", "child1 PDO EvtCleanupCallback", "child1 FDO EvtDestroyCallback",
             "clchild EvtDriverUnload");
}

TEST(childlist_eject_is_query_remove_remove_eject_then_the_pdo_is_deleted)
{
    /* rule 75. The idle request after it (the bus stays in D0: child0's PDO
     * holds it) only lets time pass: the input's next tree action is then
     * queued behind the relations query the eject's success asked for. */
    CHECK_CLEAN(RUN(CL_VARIANT_CORRECT, 3, EV(EV_EJECT, 1), EV(TDF_EV_IDLE, 0)));
    IN_ORDER("clbus eject(1) -> requested", "child1 FDO QueryRemove", "child1 FDO D0Exit", "child1 FDO ReleaseHardware",
             "child1 FDO EvtCleanupCallback", "child1 PDO D0Exit", "child1 PDO ReleaseHardware",
             "child1 PDO EvtDeviceEject", "child1 PDO EvtCleanupCallback", "clbus DescriptionCleanup(1)");
    ON_THREAD("child1 FDO QueryRemove", "eject");
    ON_THREAD("child1 PDO EvtDeviceEject", "eject");
    ON_THREAD("child1 PDO EvtCleanupCallback", "bus-relations");
    CHECK_EQ(count("child1 FDO SurpriseRemoval"), 0);
}

TEST(childlist_eject_vetoed_by_query_remove_removes_and_ejects_nothing)
{
    /* rule 76 */
    CHECK_CLEAN(RUN(CL_VARIANT_VETO_QUERY_REMOVE, 2, EV(EV_EJECT, 1)));
    int qr = pos("child1 FDO QueryRemove");
    CHECK(qr >= 0);
    ON_THREAD("child1 FDO QueryRemove", "eject");
    CHECK_EQ(count("child1 PDO EvtDeviceEject"), 0);
    /* the first D0Exit of child1 is the end-of-input teardown's, on the PnP thread */
    ON_THREAD("child1 FDO D0Exit", "pnp");
}

TEST(childlist_eject_without_eject_supported_removes_but_sends_no_eject)
{
    /* rule 77 */
    CHECK_CLEAN(RUN(CL_VARIANT_NO_EJECT_CAPABILITY, 2, EV(EV_EJECT, 1)));
    IN_ORDER("child1 FDO QueryRemove", "child1 FDO EvtCleanupCallback", "child1 PDO ReleaseHardware");
    ON_THREAD("child1 PDO ReleaseHardware", "eject");
    CHECK_EQ(count("child1 PDO EvtDeviceEject"), 0);
    /* still present: the PDO is deleted only by the parent's removal */
    ON_THREAD("child1 PDO EvtCleanupCallback", "pnp");
}

TEST(childlist_iteration_returns_the_present_children_and_defers_changes_to_its_end)
{
    /* rule 78: boot children 0 and 1; during the walk 1 goes missing and 2 arrives */
    CHECK_CLEAN(RUN(CL_VARIANT_CORRECT, 3, EV(EV_ITERATE, 1)));
    IN_ORDER("clbus iterate child0 has a PDO", "clbus iterate child1 has a PDO", "clbus iteration ended",
             "clbus EvtChildListCreateDevice(2)");
    CHECK_EQ(count("clbus iterate child2 has a PDO") + count("clbus iterate child2 no PDO"), 0);
    IN_ORDER("clbus iteration ended", "child1 FDO SurpriseRemoval");
    CHECK(pos("clbus iteration ended") < pos("child1 PDO ReportedMissing"));
}

TEST(childlist_parent_removal_deletes_its_children_and_cleans_up_each_description_once)
{
    /* rule 79: children 0 and 1 stay until the end-of-input teardown */
    CHECK_CLEAN(RUN(CL_VARIANT_CORRECT, 3, EV(EV_PLUG, 3)));
    IN_ORDER("child0 PDO EvtCleanupCallback", "clbus DescriptionCleanup(0)", "clbus FDO EvtCleanupCallback");
    IN_ORDER("child1 PDO EvtCleanupCallback", "clbus DescriptionCleanup(1)", "clbus FDO EvtCleanupCallback");
    IN_ORDER("child3 PDO EvtCleanupCallback", "clbus DescriptionCleanup(3)", "clbus FDO EvtCleanupCallback");
    CHECK_EQ(count("clbus DescriptionCleanup(0)"), 1);
    CHECK_EQ(count("clbus DescriptionCleanup(1)"), 1);
    CHECK_EQ(count("clbus DescriptionCleanup(3)"), 1);
    CHECK_EQ(count("child0 FDO SurpriseRemoval"), 0);
    ON_THREAD("child0 PDO EvtCleanupCallback", "pnp");
}

/* ==== rules 148-149 (docs/LIFECYCLE.md, with the static list's 140-147) ============= */

TEST(rule148_reported_child_without_its_pdo_is_pending_not_present)
{
    /* rule 148: child 0 has its PDO; child 1, just reported, has none yet */
    CHECK_CLEAN(RUN(CL_VARIANT_CORRECT, 1, EV(EV_PLUG_ITERATE, 1)));
    IN_ORDER("clbus present child0 has a PDO", "clbus pending child1 not yet created",
             "clbus EvtChildListCreateDevice(1)");
    CHECK_EQ(count("clbus present child1 has a PDO") + count("clbus present child1 not yet created"), 0);
    CHECK_EQ(count("clbus pending child0 has a PDO"), 0);
}

TEST(rule149_description_being_instantiated_outlives_a_missing_report)
{
    /* rule 149: child 1 is reported missing while EvtChildListCreateDevice
     * works on its description: the report waits for the end of the query,
     * then the new PDO is surprise-removed and the description cleaned up
     * (the idle request only lets the second relations query run before the
     * end-of-input teardown, as in rule 75) */
    CHECK_CLEAN(RUN(CL_VARIANT_SLOW_CREATE, 0, EV(EV_PLUG, 1), EV(EV_UNPLUG, 1), EV(TDF_EV_IDLE, 0)));
    IN_ORDER("clbus EvtChildListCreateDevice(1)", "clbus unplug(1) -> 0x0", "clbus EvtChildListCreateDevice(1) goes on",
             "child1 PDO PrepareHardware", "child1 PDO ReportedMissing", "child1 FDO SurpriseRemoval",
             "clbus DescriptionCleanup(1)");
    CHECK_EQ(count("clbus DescriptionCleanup(1)"), 1);
}

int main(void) { return tdf_test_main(); }
