/*
 * Static children, device state, device properties, a driver needed while it
 * unloads (KERNEL-SEMANTICS §11 "Static children", "Device state", "Device
 * properties", §4 "Unload"; docs/LIFECYCLE.md rules 140-149): one test per
 * rule. The recorder pair of tests/lifecycle_staticbus/ logs every callback
 * with DbgPrint; each test runs tdf_run() on a scripted input and checks the
 * order of those lines and the model thread each ran on. The bus's stimuli
 * wait for their return (wait_for_return), so an input reads as a sequence.
 *
 * LIFECYCLE_TRACE=1 prints every run's lines (tests/trace_lines.h).
 */
#include "lifecycle_staticbus/sb.h"
#include "trace_lines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TDF_DECLARE_IMAGE(sbbus);
TDF_DECLARE_IMAGE(sbchild);
DRIVER_INITIALIZE SbBus_DriverEntry;
DRIVER_INITIALIZE SbChild_DriverEntry;
EVT_TDF_STIMULUS SbBus_StimulusPlug;
EVT_TDF_STIMULUS SbBus_StimulusUnplug;
EVT_TDF_STIMULUS SbBus_StimulusEject;
EVT_TDF_STIMULUS SbBus_StimulusIterate;
EVT_TDF_STIMULUS SbBus_StimulusPlugUnplug;
EVT_TDF_STIMULUS SbChild_StimulusFail;
EVT_TDF_STIMULUS SbChild_StimulusNoDisable;
EVT_TDF_STIMULUS SbChild_StimulusHold;

static const tdf_image_desc_t k_images[] = {
    {TDF_IMAGE(sbbus), SbBus_DriverEntry, {SB_BUS_HARDWARE_ID}},
    {TDF_IMAGE(sbchild), SbChild_DriverEntry, {SB_CHILD_HARDWARE_ID}},
};

static const tdf_stimulus_desc_t k_stimuli[] = {
    {"plug", TDF_IMAGE(sbbus), SbBus_StimulusPlug, "static child arg%4 created and added", 0, 1},
    {"unplug", TDF_IMAGE(sbbus), SbBus_StimulusUnplug, "child arg%4 marked missing under the lock", 0, 1},
    {"eject", TDF_IMAGE(sbbus), SbBus_StimulusEject, "eject of child arg%4, the lock held while it runs", 0, 1},
    {"iterate", TDF_IMAGE(sbbus), SbBus_StimulusIterate, "walks by flag; child arg%4 added during it", 0, 1},
    {"plug_unplug", TDF_IMAGE(sbbus), SbBus_StimulusPlugUnplug, "child arg%4 added then missing at once", 0, 1},
    {"fail", TDF_IMAGE(sbchild), SbChild_StimulusFail, "the child FDO reports the failed state", 0, 1},
    {"nodisable", TDF_IMAGE(sbchild), SbChild_StimulusNoDisable, "the child FDO reports not disableable", 0, 1},
    {"hold", TDF_IMAGE(sbchild), SbChild_StimulusHold, "a device reference held across a delay", 0, 0},
};

static const tdf_variant_desc_t k_variants[SB_VARIANT_COUNT] = {
    [SB_VARIANT_CORRECT] = {"correct", "logs every callback, succeeds"},
    [SB_VARIANT_UNLOCKED_RETRIEVE] = {"unlocked_retrieve", "iterate walks the static children without the lock"},
};

static const tdf_param_desc_t k_params[] = {{"boot", 0, 15}};

static const tdf_target_desc_t k_target = {
    .name = "lifecycle_staticbus_recorder",
    .doc = "test-only recorder bus with static children (tests/lifecycle_staticbus)",
    .images = k_images,
    .image_count = TDF_ARRAY_SIZE(k_images),
    .root_hardware_ids = {SB_BUS_HARDWARE_ID},
    .stimuli = k_stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(k_stimuli),
    .variants = k_variants,
    .variant_count = SB_VARIANT_COUNT,
    .params = k_params,
    .param_count = TDF_ARRAY_SIZE(k_params),
};
TDF_TARGET(k_target);

enum { EV_PLUG = TDF_EV_GENERIC_COUNT, EV_UNPLUG, EV_EJECT, EV_ITERATE, EV_PLUG_UNPLUG, EV_FAIL, EV_NODISABLE, EV_HOLD };

/* ---- running, and the lines of the trace (tests/trace_lines.h) ----------------- */
#define RUN(variant, boot, ...) run_boot_events(&k_target, (variant), (boot), EVENTS(__VA_ARGS__))
#define IN_ORDER(...) EXPECT_IN_ORDER(ANY_SEG, 0, __VA_ARGS__)
#define ON_THREAD(text, name) on_thread((text), (name), __FILE__, __LINE__)

/* ==== rules 140-149 =============================================================== */

TEST(rule140_static_children_retrieved_by_state_under_the_lock_only)
{
    /* rule 140: boot children 0 and 1 are reported at the start; child 2,
     * added during the walk, is pending until the unlock, then reported */
    CHECK_CLEAN(RUN(SB_VARIANT_CORRECT, 3, EV(EV_ITERATE, 2)));
    IN_ORDER("sbbus present child0", "sbbus present child1", "sbbus pending child2", "sbbus unlocked",
             "child2 PDO PrepareHardware");
    CHECK_EQ(count("sbbus present child2"), 0);
    CHECK_EQ(count("sbbus pending child0"), 0);
    CHECK_EQ(count("sbbus missing child0") + count("sbbus missing child1"), 0);
    /* a walk without the lock is the verifier's complaint */
    tdf_class_t cls = RUN(SB_VARIANT_UNLOCKED_RETRIEVE, 3, EV(EV_ITERATE, 2));
    const tdf_failure_t *f = tdf_failure();
    CHECK(cls == TDF_CLASS_MISUSE && f && strcmp(f->name, "STATIC_CHILD_LIST_NOT_LOCKED") == 0);
}

TEST(rule141_static_child_marked_missing_under_the_lock_waits_for_the_unlock)
{
    /* rule 141: the change is applied at the unlock; then surprise removal
     * and deletion of the PDO on a PnP thread */
    CHECK_CLEAN(RUN(SB_VARIANT_CORRECT, 3, EV(EV_UNPLUG, 1)));
    IN_ORDER("sbbus unplug(1) -> 0x0", "sbbus child1 not missing under the lock", "sbbus unlocked",
             "child1 PDO ReportedMissing", "child1 FDO SurpriseRemoval", "child1 PDO EvtCleanupCallback");
    ON_THREAD("child1 FDO SurpriseRemoval", "bus-relations");
    /* the relations query is asked for at the unlock, not at the mark */
    int marked = pos("sbbus child1 not missing under the lock"), queued = -1;
    for (int i = marked; i >= 0 && i < (int)g_nlines && queued < 0; i++)
        if (!g_lines[i].dbg && strcmp(g_lines[i].text, "bus-relations queued for sbbus/FDO") == 0)
            queued = i;
    CHECK(marked >= 0 && queued > marked && queued < pos("sbbus unlocked"));
    CHECK(find("sbchild1/PDO: marked missing, applied when the static child list is unlocked", 0) >= 0);
    CHECK_EQ(count("child1 FDO QueryRemove"), 0);
}

TEST(rule142_eject_under_the_static_list_lock_keeps_the_pdo_until_the_unlock)
{
    /* rule 142: the eject runs while the bus holds the lock (QueryRemove,
     * REMOVE, EvtDeviceEject); the PDO is still returned, and deleted only
     * after the unlock */
    CHECK_CLEAN(RUN(SB_VARIANT_CORRECT, 3, EV(EV_EJECT, 1)));
    IN_ORDER("sbbus eject(1) -> requested", "child1 FDO QueryRemove", "child1 PDO EvtDeviceEject",
             "sbbus child1 present after the eject, under the lock", "sbbus unlocked", "child1 PDO EvtCleanupCallback");
    ON_THREAD("child1 PDO EvtDeviceEject", "eject");
}

TEST(rule143_static_child_pnp_never_saw_is_deleted_without_pnp)
{
    /* rule 143: marked missing before a relations query: deleted, no IRP */
    CHECK_CLEAN(RUN(SB_VARIANT_CORRECT, 1, EV(EV_PLUG_UNPLUG, 2)));
    IN_ORDER("sbbus plug_unplug(2) -> 0x0", "child2 PDO EvtCleanupCallback");
    CHECK_EQ(count("child2 PDO PrepareHardware") + count("child2 PDO ReportedMissing"), 0);
    CHECK(pos("child2 PDO EvtCleanupCallback") < pos("sbbus FDO EvtCleanupCallback"));
    /* one added by the bus that goes before any query is deleted with it */
    CHECK_CLEAN(RUN(SB_VARIANT_CORRECT, 1, EV(TDF_EV_REMOVE, 0), EV(EV_PLUG, 3)));
}

TEST(rule144_failed_device_state_is_surprise_removal_then_remove)
{
    /* rule 144: at the PnP thread's next event boundary; the PDO stays */
    CHECK_CLEAN(RUN(SB_VARIANT_CORRECT, 1, EV(EV_FAIL, 0), EV(TDF_EV_IDLE, 0)));
    IN_ORDER("child0 FDO state failed, displayed", "child0 FDO SurpriseRemoval", "child0 FDO ReleaseHardware",
             "child0 FDO EvtCleanupCallback", "sbbus FDO EvtCleanupCallback");
    CHECK_EQ(count("child0 FDO QueryRemove"), 0);
    ON_THREAD("child0 FDO SurpriseRemoval", "pnp");
    CHECK(pos("child0 PDO EvtCleanupCallback") > pos("child0 FDO EvtCleanupCallback"));
    CHECK(find("sbchild0: device state failed/removed: surprise removal and REMOVE", 0) >= 0);
}

TEST(rule145_not_disableable_device_is_not_disabled)
{
    /* rule 145: the remove (disable) event leaves it started; the final
     * teardown still removes it */
    CHECK_CLEAN(RUN(SB_VARIANT_CORRECT, 1, EV(EV_NODISABLE, 0), EV(TDF_EV_REMOVE, 1)));
    CHECK(find("event remove: sbchild0 is not disableable (WdfDeviceSetDeviceState)", 0) >= 0);
    CHECK(pos("child0 FDO QueryRemove") > find("end of events: removing every device", 0));
}

TEST(rule146_device_properties_come_from_the_devnode)
{
    /* rule 146 */
    CHECK_CLEAN(RUN(SB_VARIANT_CORRECT, 2));
    CHECK(pos("child1 FDO AddDevice (description 14 bytes)") >= 0);
    CHECK(pos("child1 HardwareID TDF\\SbChild|TDF\\SbFamily| (52 bytes)") >= 0);
    CHECK(pos("child1 CompatibleIDs TDF\\SbCompatible| (36 bytes)") >= 0);
    CHECK(pos("child1 HardwareID in 4 bytes -> 0xc0000023, 52 needed") >= 0);
    CHECK(pos("child1 BusNumber -> 0x0, 7") >= 0);
    CHECK(pos("child1 FriendlyName -> 0xc0000034") >= 0);
}

TEST(rule147_device_added_while_its_driver_unloads_gets_a_fresh_load)
{
    /* rule 147: child0's last reference goes on the hold thread, whose
     * EvtDriverUnload waits; child1 needs the driver meanwhile: its AddDevice
     * waits for the unload and runs on a new load */
    CHECK_CLEAN(RUN(SB_VARIANT_CORRECT, 1, EV(EV_HOLD, 0), EV(EV_UNPLUG, 0), EV(EV_PLUG, 1)));
    IN_ORDER("sbchild DriverEntry", "child0 FDO hold begins", "child0 FDO SurpriseRemoval", "sbchild hold ends",
             "sbchild EvtDriverUnload begins", "sbchild EvtDriverUnload ends", "sbchild DriverEntry",
             "child1 FDO AddDevice (description 14 bytes)");
    ON_THREAD("sbchild EvtDriverUnload begins", "hold");
    ON_THREAD("child1 FDO AddDevice (description 14 bytes)", "bus-relations");
    CHECK(find("unload image sbchild", 0) >= 0 && find("unload image sbchild", 0) < find("load image sbchild (load #2)", 0));
    CHECK_EQ(count("sbchild DriverEntry"), 2);
}

int main(void) { return tdf_test_main(); }
