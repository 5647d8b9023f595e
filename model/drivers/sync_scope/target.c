/*
 * fuzz_sync_scope: a device whose driver relies on KMDF's Device
 * synchronization scope (KERNEL-SEMANTICS §14) for its queue callbacks and
 * must still lock what the framework does not serialize: a watchdog's
 * routine, the completion routine of a request it sent to a lower device
 * (another root stack, opened by name), and the client thread that cancels
 * that request.
 */
#include <tdf/harness.h>

#include "sync_scope_if.h"
#include "variants.h"

TDF_DECLARE_IMAGE(ss_lower);
TDF_DECLARE_IMAGE(ss_dev);
DRIVER_INITIALIZE Low_DriverEntry;
DRIVER_INITIALIZE Ss_DriverEntry;
EVT_TDF_STIMULUS Low_StimulusComplete;
EVT_TDF_STIMULUS Ss_StimulusTimeout;
EVT_TDF_STIMULUS Ss_StimulusCancelSent;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(ss_lower), Low_DriverEntry, {SS_LOWER_HARDWARE_ID}},
    {TDF_IMAGE(ss_dev), Ss_DriverEntry, {SS_DEV_HARDWARE_ID}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"io_start", TDF_IMAGE(ss_dev), NULL,
     "a client's IOCTL_SS_START: the device keeps it (cancelable) until abort, timeout or cancel", IOCTL_SS_START},
    {"io_abort", TDF_IMAGE(ss_dev), NULL, "a client's IOCTL_SS_ABORT: completes the kept request", IOCTL_SS_ABORT},
    {"io_send", TDF_IMAGE(ss_dev), NULL,
     "a client's IOCTL_SS_SEND: the device sends one internal request to the lower device", IOCTL_SS_SEND},
    {"timeout", TDF_IMAGE(ss_dev), Ss_StimulusTimeout,
     "the device's watchdog routine (own thread): times out the kept request"},
    {"cancel_sent", TDF_IMAGE(ss_dev), Ss_StimulusCancelSent,
     "the device cancels the request it sent to the lower device (WdfRequestCancelSentRequest)"},
    {"lower_complete", TDF_IMAGE(ss_lower), Low_StimulusComplete,
     "the lower device's hardware finishes its oldest held request (the sender's completion routine runs)"},
};

static const tdf_variant_desc_t variants[VARIANT_COUNT] = {
    [VARIANT_CORRECT] = {"correct",
                         "Device scope for the queue callbacks; WdfObjectAcquireLock in the watchdog; the sent "
                         "request under a WDFSPINLOCK, referenced while canceled, canceled outside the lock"},
    [VARIANT_TIMEOUT_UNLOCKED] = {"timeout_unlocked",
                                  "the watchdog routine takes the kept request without WdfObjectAcquireLock, as if "
                                  "Device scope serialized it too: it and IOCTL_SS_ABORT complete it twice"},
    [VARIANT_CANCEL_UNREFERENCED] = {"cancel_unreferenced",
                                     "cancels its sent request without a reference of its own: the completion "
                                     "routine deletes it first (WdfRequestCancelSentRequest on a stale handle)"},
    [VARIANT_CANCEL_UNDER_SPINLOCK] = {"cancel_under_spinlock",
                                       "calls WdfRequestCancelSentRequest holding the spin lock its completion "
                                       "routine takes: the completion runs on the same thread"},
    [VARIANT_COMPLETION_AT_DPC_LEVEL] = {"completion_at_dpc_level",
                                         "the completion routine counts with KeAcquireInStackQueuedSpinLockAtDpcLevel"
                                         ", assuming DISPATCH_LEVEL; it also runs at PASSIVE_LEVEL"},
};

static const tdf_target_desc_t sync_scope_target = {
    .name = "fuzz_sync_scope",
    .doc = "a Device-scope driver: serialized queue callbacks vs. its watchdog, its sent request's completion "
           "routine and cancel (KERNEL-SEMANTICS §14)",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    /* The lower stack first: the device opens it by name when it starts. */
    .root_hardware_ids = {SS_LOWER_HARDWARE_ID, SS_DEV_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = VARIANT_COUNT,
};
TDF_TARGET(sync_scope_target);
