/* fuzz_toaster: the toaster bus and its toasters, described for teardown-fuzz. */
#include <tdf/harness.h>

#include "drivers/toaster_if.h"

TDF_DECLARE_IMAGE(toastbus);
TDF_DECLARE_IMAGE(toaster);
DRIVER_INITIALIZE ToastBus_DriverEntry;
DRIVER_INITIALIZE Toaster_DriverEntry;
EVT_TDF_STIMULUS ToastBus_StimulusHeat;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(toastbus), ToastBus_DriverEntry, {TOASTBUS_HARDWARE_ID}},
    {TDF_IMAGE(toaster), Toaster_DriverEntry, {TOASTER_HARDWARE_ID}},
};
static const tdf_stimulus_desc_t stimuli[] = {
    {"heat", TDF_IMAGE(toastbus), ToastBus_StimulusHeat, "the heating element changed: report to every toaster"},
};
static const tdf_variant_desc_t variants[] = {
    [TOASTER_VARIANT_FIXED] = {"fixed", "bus holds a rundown across each callback; Unregister waits for it"},
    [TOASTER_VARIANT_PLANTED] = {"planted", "bus copies the callback under its spin lock and calls it unprotected"},
};
static const tdf_param_desc_t params[] = {{"toasters", 1, 2}};

static const tdf_target_desc_t toaster_target = {
    .name = "fuzz_toaster",
    .doc = "toaster bus <-> toaster heat-status callback",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    .root_hardware_ids = {TOASTBUS_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = TDF_ARRAY_SIZE(variants),
    .params = params,
    .param_count = TDF_ARRAY_SIZE(params),
};
TDF_TARGET(toaster_target);
