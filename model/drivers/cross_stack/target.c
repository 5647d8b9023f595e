/*
 * fuzz_cross_stack: seed article-bus-interfaces-driver-to-driver. A producer
 * FDO in one stack exports a driver-defined interface; a consumer in another
 * stack opens it as a remote I/O target and queries it. Nothing in PnP orders
 * the two stacks' teardown: either side can go while the other still holds a
 * pointer into it.
 */
#include <tdf/harness.h>

#include "cross_stack_if.h"
#include "variants.h"

TDF_DECLARE_IMAGE(producer);
TDF_DECLARE_IMAGE(consumer);
DRIVER_INITIALIZE Producer_DriverEntry;
DRIVER_INITIALIZE Consumer_DriverEntry;
EVT_TDF_STIMULUS Producer_StimulusNotify;
EVT_TDF_STIMULUS Consumer_StimulusCall;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(producer), Producer_DriverEntry, {PRODUCER_HARDWARE_ID}},
    {TDF_IMAGE(consumer), Consumer_DriverEntry, {CONSUMER_HARDWARE_ID}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"consumer_call", TDF_IMAGE(consumer), Consumer_StimulusCall,
     "I/O request on the consumer: its thread calls the producer's Write through the interface"},
    {"producer_notify", TDF_IMAGE(producer), Producer_StimulusNotify,
     "producer hardware event: its thread calls the consumer's imported OnProducerEvent"},
};

static const tdf_variant_desc_t variants[VARIANT_COUNT] = {
    [VARIANT_CORRECT] = {"correct",
                         "producer counts references, vetoes QUERY_REMOVE while referenced, drains its calls into the "
                         "consumer at the last Dereference; consumer derefs on query-remove unless a call is "
                         "running, always closes, drains its calls before closing for good"},
    [VARIANT_NOOP_REFS] = {"noop_refs",
                           "producer hands out WdfDeviceInterfaceReference/DereferenceNoOp (the article's sample) to "
                           "a cross-stack consumer: nothing vetoes the removal under a running call"},
    [VARIANT_SELF_UNLOAD] = {"self_unload",
                             "producer pins its WDFDEVICE in InterfaceReference instead of vetoing; the last "
                             "InterfaceDereference drops the last device reference and unloads the producer inside it"},
    [VARIANT_REVOKE_NO_WAIT] = {"revoke_no_wait",
                                "producer's last Dereference clears the imported callback pointer but does not wait "
                                "for a call into the consumer already past the check"},
    [VARIANT_DEREF_IN_USE] = {"deref_in_use",
                              "consumer's EvtIoTargetQueryRemove dereferences although its I/O thread is still "
                              "calling through the interface: the call runs on after the dereference"},
    [VARIANT_NO_CLOSE_ON_QR] = {"no_close_on_qr",
                                "consumer's EvtIoTargetQueryRemove dereferences but does not close the target: "
                                "REMOVE waits forever for the handle"},
    [VARIANT_ACCEPT_V1] = {"accept_v1",
                           "consumer asks for V2 but accepts the V1 an older producer answers with, and relies on "
                           "V2's reference counting that V1 does not have"},
};

static const tdf_param_desc_t params[] = {
    {"old_producer", 0, 1}, /* 1: the installed producer is the older V1 build */
};

static const tdf_target_desc_t cross_stack_target = {
    .name = "fuzz_cross_stack",
    .doc = "cross-stack driver-defined interface via a remote I/O target (seed article-bus-interfaces-driver-to-driver)",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    /* Two roots = two stacks; the producer starts first so the consumer can open it. */
    .root_hardware_ids = {PRODUCER_HARDWARE_ID, CONSUMER_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = VARIANT_COUNT,
    .params = params,
    .param_count = TDF_ARRAY_SIZE(params),
};
TDF_TARGET(cross_stack_target);
