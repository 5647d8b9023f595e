/*
 * fuzz_bus_ioctl: seed forum-bidirectional-bus-interface, the other answer to
 * its question -- "IOCTL based (2 IOCTLs: a pending IOCTL for reading from
 * child to bus driver and an IOCTL for sending data to the bus)". The same
 * bus/child roles and events as fuzz_bus_child, with no interface between
 * the drivers: the child keeps an inverted call pending in the bus and sends
 * its data as IOCTLs, and the framework's queue and target rules do the
 * teardown (docs/TARGETS.md compares the two designs).
 */
#include <tdf/harness.h>

#include "bus_ioctl_if.h"
#include "variants.h"

TDF_DECLARE_IMAGE(iobus);
TDF_DECLARE_IMAGE(iochild);
DRIVER_INITIALIZE IoBus_DriverEntry;
DRIVER_INITIALIZE IoChild_DriverEntry;
EVT_TDF_STIMULUS IoBus_StimulusNotify;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(iobus), IoBus_DriverEntry, {IOBUS_HARDWARE_ID}},
    {TDF_IMAGE(iochild), IoChild_DriverEntry, {IOBUS_CHILD_HARDWARE_ID_TEXT}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"bus_notify", TDF_IMAGE(iobus), IoBus_StimulusNotify,
     "bus hardware event: the bus worker completes every child's pending IOCTL_IOBUS_WAIT_EVENT"},
    {"child_io", TDF_IMAGE(iochild), NULL,
     "a client's IOCTL_IOCHILD_IO on a child: it reads the bus status with a synchronous IOCTL_IOBUS_READ_STATUS; "
     "argument bit 7: overlapped, the client closes the handle at once",
     IOCTL_IOCHILD_IO},
};

static const tdf_variant_desc_t variants[VARIANT_COUNT] = {
    [VARIANT_CORRECT] = {"correct", "inverted call in the bus's manual queue; child purges its target (and waits) in "
                                    "D0Exit, re-arms in D0Entry; data IOCTLs from a power-managed queue"},
    [VARIANT_PURGE_NO_WAIT] = {"purge_no_wait",
                               "child's D0Exit purges its target without waiting: the bus completes the inverted "
                               "call it already took after D0Exit"},
    [VARIANT_RESEND_IGNORE_STATE] = {"resend_ignore_state",
                                     "child re-arms the inverted call with IGNORE_TARGET_STATE: it is pending in the "
                                     "bus again while D0Exit's purge waits for it"},
    [VARIANT_CTX_FREED] = {"ctx_freed", "child's D0Exit deletes the completion routine's context (its event log) "
                                        "before purging: a completion the purge waits for uses it"},
    [VARIANT_NONPM_CHILD_QUEUE] = {"nonpm_child_queue",
                                   "child's I/O queue is not power-managed: its data path touches the hardware in Dx"},
    [VARIANT_UNMARK_IGNORED] = {"unmark_ignored", "bus keeps the inverted call itself, cancelable, and completes it "
                                                  "even when WdfRequestUnmarkCancelable says the cancel routine has it"},
    [VARIANT_CANCEL_KEEPS_POINTER] = {"cancel_keeps_pointer",
                                      "bus's cancel routine completes the inverted call but leaves it in the PDO "
                                      "context: the next bus event completes it again"},
    [VARIANT_HELD_REQUEST] = {"held_request", "bus keeps the inverted call itself, not cancelable: the child's "
                                              "purge in D0Exit waits for the next bus event, forever"},
};

static const tdf_param_desc_t params[] = {
    {"children", 1, 4},
};

static const tdf_target_desc_t bus_ioctl_target = {
    .name = "fuzz_bus_ioctl",
    .doc = "bus <-> child over two IOCTLs (inverted call + data), framework teardown "
           "(seed forum-bidirectional-bus-interface)",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    .root_hardware_ids = {IOBUS_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = VARIANT_COUNT,
    .params = params,
    .param_count = TDF_ARRAY_SIZE(params),
};
TDF_TARGET(bus_ioctl_target);
