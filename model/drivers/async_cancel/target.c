/*
 * fuzz_async_cancel: seed forum-cancel-pending-async-requests. Driver A (the
 * sender, its own root stack) keeps asynchronous internal IOCTLs pending in
 * driver B (the receiver, another root stack) through a remote I/O target
 * opened by name. Who cancels them, and how, when B is removed, surprise
 * removed or A goes away; B's cancel routine racing B's own completions.
 */
#include <tdf/harness.h>

#include "async_cancel_if.h"
#include "variants.h"

TDF_DECLARE_IMAGE(ac_sender);
TDF_DECLARE_IMAGE(ac_receiver);
DRIVER_INITIALIZE Snd_DriverEntry;
DRIVER_INITIALIZE Rcv_DriverEntry;
EVT_TDF_STIMULUS Snd_StimulusSend;
EVT_TDF_STIMULUS Snd_StimulusCancel;
EVT_TDF_STIMULUS Rcv_StimulusEvent;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(ac_receiver), Rcv_DriverEntry, {RCV_HARDWARE_ID}},
    {TDF_IMAGE(ac_sender), Snd_DriverEntry, {SND_HARDWARE_ID}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"a_send", TDF_IMAGE(ac_sender), Snd_StimulusSend,
     "A sends `burst` asynchronous IOCTL_RCV_WAIT_EVENT requests to B through its remote I/O target"},
    {"b_complete", TDF_IMAGE(ac_receiver), Rcv_StimulusEvent,
     "B's event source fires: B's completion worker completes the oldest request B holds"},
    {"a_cancel", TDF_IMAGE(ac_sender), Snd_StimulusCancel,
     "A cancels everything it has pending at B (WdfIoTargetPurge, then WdfIoTargetStart)"},
};

static const tdf_variant_desc_t variants[VARIANT_COUNT] = {
    [VARIANT_CORRECT] = {"correct",
                         "A purges (cancels) on query-remove/removal; B: MarkCancelableEx, cancel routine unlinks "
                         "and completes, unmark under the lock before completing, drain at flush, join worker"},
    [VARIANT_CANCEL_KEEPS_ENTRY] = {"cancel_keeps_entry",
                                    "B's EvtRequestCancel completes the request but leaves it on B's pending list: "
                                    "B later completes it again"},
    [VARIANT_NO_UNMARK] = {"no_unmark",
                           "B completes a held request without WdfRequestUnmarkCancelable (cancel routine still set)"},
    [VARIANT_WORKER_NOT_JOINED] = {"worker_not_joined",
                                   "B signals its completion worker to stop at cleanup but unloads without waiting "
                                   "for it"},
    [VARIANT_NO_PURGE] = {"no_purge",
                          "A's EvtIoTargetQueryRemove waits for its sent requests (WdfIoTargetStop, wait) instead of "
                          "purging them"},
    [VARIANT_UNMARK_IGNORED] = {"unmark_ignored",
                                "B completes a held request even when WdfRequestUnmarkCancelable returns "
                                "STATUS_CANCELLED (cancel routine racing)"},
    [VARIANT_NOT_CANCELABLE] = {"not_cancelable",
                                "B holds requests without WdfRequestMarkCancelableEx: A's purge cannot cancel them"},
};

static const tdf_param_desc_t params[] = {
    {"burst", 1, 3},
};

static const tdf_target_desc_t async_cancel_target = {
    .name = "fuzz_async_cancel",
    .doc = "A's async requests pending in B, canceled by A's purge on query-remove (seed "
           "forum-cancel-pending-async-requests)",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    /* B's stack first: A opens it by name when it starts. */
    .root_hardware_ids = {RCV_HARDWARE_ID, SND_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = VARIANT_COUNT,
    .params = params,
    .param_count = TDF_ARRAY_SIZE(params),
};
TDF_TARGET(async_cancel_target);
