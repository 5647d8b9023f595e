/*
 * fuzz_work_item: one root device whose driver defers work through a
 * WDFWORKITEM touching its registers, WDM IO_WORKITEMs carrying blocks from an
 * NPAGED lookaside list, and a WDFCOLLECTION of WDFLOOKASIDE buffers drained
 * by a second WDFWORKITEM; against every power-down, remove, surprise
 * removal and the driver's unload (KERNEL-SEMANTICS §9).
 */
#include <tdf/harness.h>

#include "variants.h"
#include "work_item_if.h"

TDF_DECLARE_IMAGE(wi_driver);
DRIVER_INITIALIZE Wi_DriverEntry;
EVT_TDF_STIMULUS Wi_StimulusHwKick;
EVT_TDF_STIMULUS Wi_StimulusWdmKick;
EVT_TDF_STIMULUS Wi_StimulusSubmit;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(wi_driver), Wi_DriverEntry, {WI_HARDWARE_ID}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"hw_kick", TDF_IMAGE(wi_driver), Wi_StimulusHwKick,
     "the device signals: enqueue the WDFWORKITEM that acknowledges in the registers (only while powered)"},
    {"wdm_kick", TDF_IMAGE(wi_driver), Wi_StimulusWdmKick,
     "a WDM event: a lookaside block handed to a new IO_WORKITEM (IoQueueWorkItem)"},
    {"submit", TDF_IMAGE(wi_driver), Wi_StimulusSubmit,
     "a WDFLOOKASIDE buffer into the pending WDFCOLLECTION, drained by a WDFWORKITEM"},
};

static const tdf_variant_desc_t variants[VARIANT_COUNT] = {
    [VARIANT_CORRECT] = {"correct",
                         "IoQueueWorkItem per event, D0Exit flushes the register work item, lookaside deleted at "
                         "the device's destroy, the drain's one reference is the driver's delete"},
    [VARIANT_EX_QUEUE_WORK_ITEM] = {"ex_queue_work_item",
                                    "ExQueueWorkItem instead of IoQueueWorkItem: the driver can unload (and its "
                                    "device context go) while the item is queued"},
    [VARIANT_SHARED_IO_WORKITEM] = {"shared_io_workitem",
                                    "one preallocated IO_WORKITEM for every event, queued again while still queued"},
    [VARIANT_NO_FLUSH_IN_D0EXIT] = {"no_flush_in_d0exit",
                                    "D0Exit stops new enqueues but does not flush: the queued callback touches the "
                                    "registers after the power is gone"},
    [VARIANT_LOOKASIDE_NOT_DELETED] = {"lookaside_not_deleted",
                                       "the NPAGED lookaside list is never deleted (no ExDeleteNPagedLookasideList)"},
    [VARIANT_DEREF_TOO_MANY] = {"deref_too_many",
                                "the drain dereferences the buffer after WdfCollectionRemove already dropped the "
                                "collection's reference"},
    [VARIANT_DELETED_EARLY] = {"deleted_early",
                               "the submitter deletes the buffer right after adding it to the collection: the "
                               "drain's Remove frees it, then reads its context"},
    [VARIANT_STOP_EXIT_LOCKED] = {"stop_exit_locked",
                                  "the drain leaves at once when the device stopped accepting, returning with the "
                                  "spin lock it just took"},
};

static const tdf_target_desc_t work_item_target = {
    .name = "fuzz_work_item",
    .doc = "work items (WDFWORKITEM, IO_WORKITEM, WORK_QUEUE_ITEM), lookaside lists and collections against "
           "power-down, removal and unload",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    .root_hardware_ids = {WI_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = VARIANT_COUNT,
};
TDF_TARGET(work_item_target);
