/*
 * fuzz_dynamic_bus: a bus with dynamic enumeration (a KMDF child list) whose
 * worker thread reports children present and missing as its hardware says;
 * each report of a missing child makes PnP surprise-remove that child on a
 * thread of its own, concurrently with the child's I/O and the bus's worker
 * (KERNEL-SEMANTICS §11). Children read their slot through a bus interface
 * whose per-child state lives and dies with the child's PDO.
 */
#include <tdf/harness.h>

#include "dynamic_bus_if.h"
#include "variants.h"

TDF_DECLARE_IMAGE(dynbus);
TDF_DECLARE_IMAGE(dynchild);
DRIVER_INITIALIZE DynBus_DriverEntry;
DRIVER_INITIALIZE DynChild_DriverEntry;
EVT_TDF_STIMULUS DynBus_StimulusPlug;
EVT_TDF_STIMULUS DynBus_StimulusUnplug;
EVT_TDF_STIMULUS DynBus_StimulusRescan;
EVT_TDF_STIMULUS DynBus_StimulusEject;
EVT_TDF_STIMULUS DynChild_StimulusIo;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(dynbus), DynBus_DriverEntry, {DYNBUS_HARDWARE_ID}},
    {TDF_IMAGE(dynchild), DynChild_DriverEntry, {DYNBUS_CHILD_DEVICE_ID_TEXT}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"bus_plug", TDF_IMAGE(dynbus), DynBus_StimulusPlug,
     "a device appears in slot arg%4: the bus's work item reports it present (a new PDO)", 0, 1},
    {"bus_unplug", TDF_IMAGE(dynbus), DynBus_StimulusUnplug,
     "the device in slot arg%4 disappears: the bus's work item reports it missing (surprise removal)", 0, 1},
    {"bus_rescan", TDF_IMAGE(dynbus), DynBus_StimulusRescan,
     "the bus rescans: slots in the mask arg&15 are occupied, the others' children are missing", 0, 1},
    {"bus_eject", TDF_IMAGE(dynbus), DynBus_StimulusEject,
     "the eject button of slot arg%4: the bus requests the child's eject", 0, 1},
    {"child_io", TDF_IMAGE(dynchild), DynChild_StimulusIo,
     "an I/O request on a child: read the slot through the bus interface"},
};

static const tdf_variant_desc_t variants[DYNBUS_VARIANT_COUNT] = {
    [DYNBUS_VARIANT_CORRECT] = {"correct",
                                "child holds run-down across bus calls, drained in ReleaseHardware; bus never "
                                "touches a PDO it reported missing"},
    [DYNBUS_VARIANT_CHILD_FLAG_CHECK] = {"child_flag_check",
                                         "child checks a flag then calls the bus: the bus reports it missing and "
                                         "PnP deletes the PDO (and its per-child state) under the call"},
    [DYNBUS_VARIANT_TOUCH_AFTER_MISSING] = {"touch_after_missing",
                                            "bus's unplug work item writes a child's PDO context after reporting the child "
                                            "missing: PnP may have deleted the PDO already"},
};

static const tdf_param_desc_t params[] = {
    {"occupied", 0, 15}, /* slots holding a device at boot (a bit mask) */
};

static const tdf_target_desc_t dynamic_bus_target = {
    .name = "fuzz_dynamic_bus",
    .doc = "dynamic enumeration: child list, bus-initiated surprise removal and eject, PDO-owned per-child state",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    .root_hardware_ids = {DYNBUS_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = DYNBUS_VARIANT_COUNT,
    .params = params,
    .param_count = TDF_ARRAY_SIZE(params),
};
TDF_TARGET(dynamic_bus_target);
