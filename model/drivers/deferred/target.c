/*
 * fuzz_deferred: timers and DPCs across the device lifecycle
 * (KERNEL-SEMANTICS §8). One root device whose driver polls its registers from a periodic
 * WDFTIMER, hands samples to a WDFDPC, arms a WDM watchdog (KTIMER + KDPC in
 * the device context) on request, and keeps a driver-wide periodic KTIMER.
 * Every power-down (idle, sleep, stop, remove, surprise removal) races the
 * timer's expiry and the DPCs; removal and unload race the WDM objects.
 */
#include <tdf/harness.h>

#include "deferred_if.h"
#include "variants.h"

TDF_DECLARE_IMAGE(dfr);
DRIVER_INITIALIZE Dfr_DriverEntry;
EVT_TDF_STIMULUS Dfr_StimulusArm;

static const tdf_image_desc_t images[] = {
    {TDF_IMAGE(dfr), Dfr_DriverEntry, {DFR_HARDWARE_ID}},
};

static const tdf_stimulus_desc_t stimuli[] = {
    {"arm", TDF_IMAGE(dfr), Dfr_StimulusArm, "a client arms the device's watchdog KTIMER (one-shot, its KDPC)"},
};

static const tdf_variant_desc_t variants[VARIANT_COUNT] = {
    [VARIANT_CORRECT] = {"correct",
                         "D0Exit: WdfTimerStop(TRUE) then WdfDpcCancel(TRUE); cleanup cancels the watchdog and "
                         "flushes DPCs; unload cancels the stats KTIMER and flushes; the DPC takes a spin lock"},
    [VARIANT_TIMER_IN_DX] = {"timer_in_dx", "D0Exit does not stop the periodic poll WDFTIMER: it reads registers in Dx"},
    [VARIANT_STOP_NO_WAIT] = {"stop_no_wait",
                              "D0Exit stops the poll timer with Wait=FALSE: a callback in flight reads registers "
                              "after D0Exit"},
    [VARIANT_WATCHDOG_NO_FLUSH] = {"watchdog_no_flush",
                                   "device cleanup cancels the watchdog KTIMER but does not flush its KDPC: the DPC "
                                   "is queued (or runs) in the context being freed"},
    [VARIANT_DPC_WAITS] = {"dpc_waits", "EvtDpcFunc acquires a WDFWAITLOCK: a wait inside a DPC routine"},
    [VARIANT_UNLOAD_TIMER_SET] = {"unload_timer_set",
                                  "EvtDriverUnload does not cancel the driver's periodic KTIMER"},
    [VARIANT_UNLOAD_NO_FLUSH] = {"unload_no_flush",
                                 "EvtDriverUnload cancels the periodic KTIMER but does not flush its KDPC"},
    [VARIANT_WATCHDOG_NOT_CANCELLED] = {"watchdog_not_cancelled",
                                        "device cleanup does not cancel the watchdog KTIMER in the device context"},
};

static const tdf_target_desc_t deferred_target = {
    .name = "fuzz_deferred",
    .doc = "a periodic WDFTIMER polling registers, a WDFDPC, a WDM watchdog KTIMER+KDPC and a driver-wide KTIMER "
           "across power-downs, removal and unload",
    .images = images,
    .image_count = TDF_ARRAY_SIZE(images),
    .root_hardware_ids = {DFR_HARDWARE_ID},
    .stimuli = stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(stimuli),
    .variants = variants,
    .variant_count = VARIANT_COUNT,
    .params = NULL,
    .param_count = 0,
};
TDF_TARGET(deferred_target);
