/*
 * fuzz_power_share: seed blog-sharing-hw-resources-power-callbacks. Device A
 * shares its register block with device B in another PnP stack (two roots).
 * B opens A by name, gets the registers through IOCTL_INTERNAL_GET_RESOURCES
 * and registers power-up/power-down callbacks in the same request; A calls
 * them from SelfManagedIoRestart/SelfManagedIoSuspend and waits for B's
 * in-flight register accesses. Every way A loses power -- idle, orderly
 * remove, surprise removal, stop/rebalance, sleep, hibernate -- races with
 * B's accesses.
 */
#include <tdf/harness.h>

#include "power_share_if.h"
#include "variants.h"

TDF_DECLARE_IMAGE(share_a);
TDF_DECLARE_IMAGE(share_b);
DRIVER_INITIALIZE ShareA_DriverEntry;
DRIVER_INITIALIZE ShareB_DriverEntry;
EVT_TDF_STIMULUS ShareB_StimulusConnect;
EVT_TDF_STIMULUS ShareB_StimulusAccess;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(share_a), ShareA_DriverEntry, {SHARE_A_HARDWARE_ID}},
    {TDF_IMAGE(share_b), ShareB_DriverEntry, {SHARE_B_HARDWARE_ID}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"b_connect", TDF_IMAGE(share_b), ShareB_StimulusConnect,
     "A's device interface arrived: B's worker opens A by name, gets the resources, registers its callbacks"},
    {"b_access", TDF_IMAGE(share_b), ShareB_StimulusAccess,
     "B's thread touches A's registers (odd argument: and waits for the command's completion through A)"},
};

static const tdf_variant_desc_t variants[VARIANT_COUNT] = {
    [VARIANT_CORRECT] = {"correct",
                         "callbacks with the resources; A: PowerDown in SelfManagedIoSuspend then drain B's "
                         "accesses, PowerUp in Restart and after the hand-out; B assumes Dx until PowerUp"},
    [VARIANT_HANDLE_NOTIFY_ONLY] = {"handle_notify_only",
                                    "B registers no power callbacks, relies on the handle's PnP notifications"},
    [VARIANT_CALLBACKS_LATE] = {"callbacks_late",
                                "B takes the power state at hand-out and registers its callbacks in a second request"},
    [VARIANT_B_ASSUMES_D0] = {"b_assumes_d0", "B assumes A is in D0 once it has the resources"},
    [VARIANT_DOWN_IN_D0EXIT] = {"down_in_d0exit",
                                "A calls B's PowerDown (and drains) from D0Exit, after its queues are held"},
    [VARIANT_NO_DRAIN] = {"no_drain", "A calls B's PowerDown but does not wait for B's in-flight register access"},
    [VARIANT_HANDOUT_UNLOCKED] = {"handout_unlocked",
                                  "A calls B's first PowerUp after the hand-out outside its client lock"},
    [VARIANT_UNREGISTER_UNLOCKED] = {"unregister_unlocked",
                                     "A forgets B's callbacks on RELEASE_RESOURCES without its client lock: B's "
                                     "removal overlaps A's idle SelfManagedIoSuspend calling B's PowerDown"},
};

static const tdf_target_desc_t power_share_target = {
    .name = "fuzz_power_share",
    .doc = "A shares registers with B in another stack: power callbacks vs every power-loss path "
           "(seed blog-sharing-hw-resources-power-callbacks)",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    .root_hardware_ids = {SHARE_A_HARDWARE_ID, SHARE_B_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = VARIANT_COUNT,
    .params = NULL,
    .param_count = 0,
};
TDF_TARGET(power_share_target);
