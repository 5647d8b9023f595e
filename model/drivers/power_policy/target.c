/*
 * fuzz_power_policy: a function driver that idles with wake from S0
 * (ppdev.c), driven by the power policy of KERNEL-SEMANTICS §13: status
 * queries on a non-power-managed queue that must take their own power
 * reference, transfers on a power-managed queue that wake an idle device,
 * wake arming around idle, and a D0Entry that fails on the return from
 * hibernation. Every idle, wake (the device signalling), sleep, hibernate,
 * stop and removal races with the queries and transfers.
 */
#include <tdf/harness.h>

#include "power_policy_if.h"
#include "variants.h"

TDF_DECLARE_IMAGE(ppdev);
DRIVER_INITIALIZE PpDev_DriverEntry;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(ppdev), PpDev_DriverEntry, {PPDEV_HARDWARE_ID}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"status", TDF_IMAGE(ppdev), NULL,
     "an application's status query (IOCTL_PPDEV_READ_STATUS, non-power-managed default queue)",
     IOCTL_PPDEV_READ_STATUS},
    {"transfer", TDF_IMAGE(ppdev), NULL,
     "an application's transfer (IOCTL_PPDEV_TRANSFER, forwarded to the power-managed data queue)",
     IOCTL_PPDEV_TRANSFER},
};

static const tdf_variant_desc_t variants[VARIANT_COUNT] = {
    [VARIANT_CORRECT] = {"correct",
                         "status queries under WdfDeviceStopIdle(TRUE)/ResumeIdle and a D0 run-down, transfers on "
                         "a power-managed queue, wake disarmed after D0Entry, a failing D0Entry frees what it "
                         "allocated"},
    [VARIANT_NO_POWER_REF] = {"no_power_ref",
                              "the non-power-managed queue reads registers whenever they are mapped, without "
                              "WdfDeviceStopIdle"},
    [VARIANT_RESUME_AFTER_FAILED_STOP] = {"resume_after_failed_stop",
                                          "WdfDeviceResumeIdle also when WdfDeviceStopIdle failed (no reference)"},
    [VARIANT_D0ENTRY_FAIL_LEAK] = {"d0entry_fail_leak",
                                   "a failing D0Entry leaves its buffer for D0Exit, which KMDF does not call"},
    [VARIANT_TRIGGERED_TOUCHES_HW] = {"triggered_touches_hw",
                                      "EvtDeviceWakeFromS0Triggered reads the wake status register while in Dx"},
};

static const tdf_target_desc_t power_policy_target = {
    .name = "fuzz_power_policy",
    .doc = "an idle-with-wake function driver: power references, wake on I/O, wake arming, D0Entry failure",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    .root_hardware_ids = {PPDEV_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = VARIANT_COUNT,
    .params = NULL,
    .param_count = 0,
};
TDF_TARGET(power_policy_target);
