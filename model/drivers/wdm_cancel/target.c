/*
 * fuzz_wdm_cancel: seed forum-cancel-pending-async-requests in WDM. Driver A
 * (its own root stack) keeps IRPs it allocated pending in driver B (another
 * root stack, another image) and forwards its clients' IOCTLs there; B holds
 * them cancelable on its own list until its event source fires. Who cancels
 * what, and when: A cancels its own IRPs (IoCancelIrp) at its teardown and on
 * request, B completes what it holds at its removal, a client gives up on
 * its forwarded IRP; A's completion routines run in B's (or the canceller's)
 * context, in A's image.
 */
#include <tdf/harness.h>

#include "variants.h"
#include "wdm_cancel_if.h"

TDF_DECLARE_IMAGE(wc_b);
TDF_DECLARE_IMAGE(wc_a);
DRIVER_INITIALIZE WcB_DriverEntry;
DRIVER_INITIALIZE WcA_DriverEntry;
EVT_TDF_STIMULUS WcA_StimulusSend;
EVT_TDF_STIMULUS WcA_StimulusCancel;
EVT_TDF_STIMULUS WcB_StimulusComplete;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(wc_b), WcB_DriverEntry, {WC_B_HARDWARE_ID}},
    {TDF_IMAGE(wc_a), WcA_DriverEntry, {WC_A_HARDWARE_ID}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"a_send", TDF_IMAGE(wc_a), WcA_StimulusSend,
     "A sends `burst` IRPs of its own (IoAllocateIrp, IOCTL_WC_WAIT) to B, which keeps them pending"},
    {"b_complete", TDF_IMAGE(wc_b), WcB_StimulusComplete,
     "B's event source fires: B completes the oldest IRP it holds"},
    {"a_cancel", TDF_IMAGE(wc_a), WcA_StimulusCancel, "A cancels every IRP of its own in flight (IoCancelIrp)"},
    {"client", TDF_IMAGE(wc_a), NULL,
     "a client's DeviceIoControl(IOCTL_WA_FORWARD) to A, which forwards it to B; the client cancels it when "
     "nothing else happens any more",
     IOCTL_WA_FORWARD},
};

static const tdf_variant_desc_t variants[WC_VARIANT_COUNT] = {
    [WC_CORRECT] = {"correct",
                    "A: references B's device (file object), cancels its IRPs with a reference held, waits for them "
                    "(IoSetCompletionRoutineEx), propagates pending; B: cancel routine and completion agree through "
                    "IoSetCancelRoutine's result, drains at removal"},
    [WC_UNCHECKED_CLEAR] = {"unchecked_clear",
                            "B completes a held IRP although IoSetCancelRoutine(Irp, NULL) returned NULL (its cancel "
                            "routine already owns it): completed twice"},
    [WC_CANCEL_KEEPS_ENTRY] = {"cancel_keeps_entry",
                               "B's cancel routine completes the IRP but leaves it on B's list: B later takes the "
                               "freed IRP again"},
    [WC_NO_PROPAGATE] = {"no_propagate",
                         "A's completion routine for a forwarded IRP does not call IoMarkIrpPending when "
                         "Irp->PendingReturned is set"},
    [WC_FREE_AND_CONTINUE] = {"free_and_continue",
                              "A's completion routine frees its IRP (IoFreeIrp) and returns STATUS_SUCCESS, not "
                              "STATUS_MORE_PROCESSING_REQUIRED"},
    [WC_FREE_UNREFERENCED] = {"free_unreferenced",
                              "A's completion routine frees its IRP at once, while A's canceller may be about to "
                              "IoCancelIrp it (no reference count)"},
    [WC_NO_REFERENCE] = {"no_reference",
                         "A dereferences the file object of IoGetDeviceObjectPointer at once and keeps B's raw device "
                         "pointer: B's device object and driver can go while A still sends"},
    [WC_NO_CANCEL] = {"no_cancel",
                      "A's teardown neither cancels nor waits for its IRPs in flight (its completion routine set "
                      "with IoSetCompletionRoutine): A unloads while B still holds them"},
};

static const tdf_param_desc_t params[] = {
    {"burst", 1, 3},
};

static const tdf_target_desc_t wdm_cancel_target = {
    .name = "fuzz_wdm_cancel",
    .doc = "WDM driver A's IRPs pending in WDM driver B: IoCancelIrp, cancel routines, completion routines across "
           "images (seed forum-cancel-pending-async-requests)",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    /* B's stack first: A opens B's device object when it starts. */
    .root_hardware_ids = {WC_B_HARDWARE_ID, WC_A_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = WC_VARIANT_COUNT,
    .params = params,
    .param_count = TDF_ARRAY_SIZE(params),
};
TDF_TARGET(wdm_cancel_target);
