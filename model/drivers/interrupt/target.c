/*
 * fuzz_interrupt: one root device whose KMDF driver services a line-based
 * interrupt (KERNEL-SEMANTICS §10): ISR, DPC, a PASSIVE_LEVEL worker fed by
 * the DPC, a status IOCTL synchronized with the ISR. The generic `interrupt`
 * event raises the device's line at any point of any power transition, so
 * the ISR and its deferred work race every way the device loses power --
 * idle, remove, surprise removal, stop/rebalance, sleep, hibernate.
 */
#include <tdf/harness.h>

#include "intdev_if.h"
#include "variants.h"

TDF_DECLARE_IMAGE(intdev);
DRIVER_INITIALIZE Intdev_DriverEntry;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(intdev), Intdev_DriverEntry, {INTDEV_HARDWARE_ID}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"status", TDF_IMAGE(intdev), NULL,
     "a user-mode client's IOCTL_INTDEV_STATUS to the default queue (reads the status under the interrupt lock)",
     IOCTL_INTDEV_STATUS},
};

static const tdf_variant_desc_t variants[VARIANT_COUNT] = {
    [VARIANT_CORRECT] = {"correct",
                         "Enable/Disable unmask/mask, Post/PreInterrupts start/stop the function, D0Exit drains "
                         "the DPC's worker, status through the power-managed queue, ReleaseHardware stops the "
                         "worker before unmapping"},
    [VARIANT_WORKER_NOT_DRAINED] = {"worker_not_drained",
                                    "D0Exit trusts the framework's DPC flush and does not wait for the worker the "
                                    "DPC handed the data register to"},
    [VARIANT_UNMAP_IN_SURPRISE] = {"unmap_in_surprise",
                                   "EvtDeviceSurpriseRemoval unmaps the registers; the power-down that follows "
                                   "still touches them"},
    [VARIANT_NONPM_STATUS_QUEUE] = {"nonpm_status_queue",
                                    "the status queue is not power-managed: WdfInterruptSynchronize while the "
                                    "interrupt is disconnected (idle)"},
    [VARIANT_SYNC_IN_D0ENTRY] = {"sync_in_d0entry",
                                 "resets the device with WdfInterruptSynchronize in EvtDeviceD0Entry, before KMDF "
                                 "connects the interrupt"},
};

static const tdf_target_desc_t interrupt_target = {
    .name = "fuzz_interrupt",
    .doc = "a device with a WDFINTERRUPT: ISR, DPC, DPC-fed worker and a synchronized IOCTL vs every power-loss path",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    .root_hardware_ids = {INTDEV_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = VARIANT_COUNT,
    .params = NULL,
    .param_count = 0,
};
TDF_TARGET(interrupt_target);
