/*
 * fuzz_bus_child: seed forum-bidirectional-bus-interface. A bus driver and
 * its dynamically enumerated children exchange function pointers both ways;
 * teardown runs top-down; the bus may call a child that is in D0 exit or
 * already unloaded, and a child may call a bus that powered down.
 */
#include <tdf/harness.h>

#include "bus_child_if.h"
#include "variants.h"

TDF_DECLARE_IMAGE(bus);
TDF_DECLARE_IMAGE(child);
DRIVER_INITIALIZE Bus_DriverEntry;
DRIVER_INITIALIZE Child_DriverEntry;
EVT_TDF_STIMULUS Bus_StimulusNotify;
EVT_TDF_STIMULUS Child_StimulusIo;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(bus), Bus_DriverEntry, {BUS_HARDWARE_ID}},
    {TDF_IMAGE(child), Child_DriverEntry, {BUS_CHILD_HARDWARE_ID_TEXT}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"bus_notify", TDF_IMAGE(bus), Bus_StimulusNotify,
     "bus hardware event: the bus worker calls every child's imported OnBusEvent"},
    {"child_io", TDF_IMAGE(child), Child_StimulusIo,
     "I/O request on a child: its I/O thread reads the bus status through the interface"},
};

static const tdf_variant_desc_t variants[VARIANT_COUNT] = {
    [VARIANT_CORRECT] = {"correct", "rundown both ways; disarm and drain in D0Exit; threads joined before unload"},
    [VARIANT_NO_RUNDOWN] = {"no_rundown", "bus calls the child's imported callback with no protection at all"},
    [VARIANT_FLAG_CHECK] = {"flag_check",
                            "bus checks an 'enabled' flag then calls; child clears the flag in D0Exit and returns"},
    [VARIANT_RELEASE_EARLY] = {"release_early",
                               "bus holds rundown only to fetch the callback pointer, releases before calling"},
    [VARIANT_DISABLE_LATE] = {"disable_late",
                              "child disarms bus callbacks in ReleaseHardware, not D0Exit: calls arrive in Dx"},
    [VARIANT_THREAD_NOT_WAITED] = {"thread_not_waited",
                                   "child signals its I/O thread to stop but unloads without waiting for it"},
    [VARIANT_CHILD_FLAG_D0] = {"child_flag_d0",
                               "child I/O checks an InD0 flag instead of holding rundown; bus powers down mid-call"},
    [VARIANT_HIBERNATE_ARMED] = {"hibernate_armed",
                                 "child's D0Exit disarms bus callbacks for D3/D3Final only: hibernate leaves them armed"},
    [VARIANT_STALE_MAPPING] = {"stale_mapping",
                               "child maps registers only if not yet mapped, unmaps without forgetting: stale after a rebalance"},
    [VARIANT_THREAD_SIGNALS_DONE] = {"thread_signals_done",
                                     "child's I/O thread sets a 'stopped' event as its last act; cleanup waits for "
                                     "that event, not the thread: the image unloads under the thread's return"},
    [VARIANT_SR_DISARMS] = {"sr_disarms",
                            "child's EvtDeviceSurpriseRemoval also disarms the bus callbacks if still armed: it "
                            "overlaps an idle D0Exit doing the same (two waits on one rundown)"},
    [VARIANT_STATUS_UNLOCKED] = {"status_unlocked",
                                 "bus's ReadBusStatus reads and clears the pending-event count without ChildLock, "
                                 "which the worker holds to count: a lost update only TSan reports"},
};

static const tdf_param_desc_t params[] = {
    {"children", 1, 4},
};

static const tdf_target_desc_t bus_child_target = {
    .name = "fuzz_bus_child",
    .doc = "bus <-> child two-way interface, teardown races (seed forum-bidirectional-bus-interface)",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    .root_hardware_ids = {BUS_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = VARIANT_COUNT,
    .params = params,
    .param_count = TDF_ARRAY_SIZE(params),
};
TDF_TARGET(bus_child_target);
