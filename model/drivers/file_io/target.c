/*
 * fuzz_file_io: one function driver (fio) whose clients open handles,
 * submit requests that stay pending in a manual queue until the device has
 * data, and close their handles, while the device idles, is removed or
 * surprise removed (KERNEL-SEMANTICS §12). The per-handle state lives in the
 * WDFFILEOBJECT's context and a WDFMEMORY parented to it; the device's
 * "data ready" path (a stimulus) copies a pending request's input memory into
 * the handle's buffer and completes it.
 */
#include <tdf/harness.h>

#include "variants.h"

TDF_DECLARE_IMAGE(fio);
DRIVER_INITIALIZE Fio_DriverEntry;
EVT_TDF_STIMULUS Fio_StimulusDataReady;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(fio), Fio_DriverEntry, {FIO_HARDWARE_ID}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"submit", TDF_IMAGE(fio), NULL,
     "a client opens a handle and sends IOCTL_FIO_SUBMIT (kept pending); argument bit 7: overlapped, the client "
     "closes the handle at once",
     IOCTL_FIO_SUBMIT},
    {"query", TDF_IMAGE(fio), NULL, "a client opens a handle and sends IOCTL_FIO_QUERY (completed at once)",
     IOCTL_FIO_QUERY},
    {"data_ready", TDF_IMAGE(fio), Fio_StimulusDataReady,
     "the device has data: the driver takes the oldest pending submit, copies its input into the handle's buffer, "
     "completes it",
     0},
};

static const tdf_variant_desc_t variants[VARIANT_COUNT] = {
    [VARIANT_CORRECT] = {"correct",
                         "per-handle buffer parented to the file object (freed at close, after the handle's last "
                         "request); input copied before completion; registers touched only in D0, under the lock"},
    [VARIANT_COMPLETE_EARLY] = {"complete_early",
                                "the data-ready path completes the pending request first, to release the client, "
                                "then copies the request's input memory"},
    [VARIANT_FREE_IN_CLEANUP] = {"free_in_cleanup",
                                 "EvtFileCleanup deletes the handle's buffer, assuming no request of the handle is "
                                 "left; the data-ready path took one from the queue just before"},
    [VARIANT_CLEANUP_TOUCHES_HW] = {"cleanup_touches_hw",
                                    "EvtFileCleanup stops the handle's stream in the registers unconditionally, "
                                    "assuming a handle is closed while the device is in D0 (not after a surprise "
                                    "removal or an idle power-down)"},
};

static const tdf_target_desc_t file_io_target = {
    .name = "fuzz_file_io",
    .doc = "clients' handles and pending requests on a KMDF function driver across idle, remove and surprise "
           "removal: file object create/cleanup/close, request memory",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    .root_hardware_ids = {FIO_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = VARIANT_COUNT,
};
TDF_TARGET(file_io_target);
