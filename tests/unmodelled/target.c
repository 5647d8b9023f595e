/* fuzz_unmodelled_check: one root-enumerated device whose driver calls
 * WdfFdoInitSetFilter in AddDevice. A test of the harness, not a fuzz target:
 * every input fails at the first AddDevice with MISUSE UNMODELLED. */
#include <tdf/harness.h>

#define UNMODELLED_CHECK_HARDWARE_ID L"ROOT\\TdfUnmodelledCheck"

TDF_DECLARE_IMAGE(unmodelled_check);
DRIVER_INITIALIZE Filter_DriverEntry;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(unmodelled_check), Filter_DriverEntry, {UNMODELLED_CHECK_HARDWARE_ID}},
};
static const tdf_variant_desc_t variants[] = {
    {"correct", "the only variant: AddDevice asks for a filter device, which is not modelled"},
};

static const tdf_target_desc_t unmodelled_check_target = {
    .name = "fuzz_unmodelled_check",
    .doc = "a declared but unmodelled routine (WdfFdoInitSetFilter) fails the run as MISUSE UNMODELLED",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    .root_hardware_ids = {UNMODELLED_CHECK_HARDWARE_ID},
    .variants = variants,
    .variant_count = TDF_ARRAY_SIZE(variants),
};
TDF_TARGET(unmodelled_check_target);
