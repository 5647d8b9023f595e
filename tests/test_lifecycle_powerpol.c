/*
 * Power policy and failure paths: one test per rule 90-99 of docs/LIFECYCLE.md
 * (KERNEL-SEMANTICS §13). The recorder (tests/lifecycle_powerpol/recpp.c) is
 * one root FDO that logs every PnP, power and power-policy callback; each test
 * drives tdf_run() with a scripted input and asserts the order of its lines,
 * with the segments, schedules and assertions of tests/trace_lines.h.
 *
 * LIFECYCLE_TRACE=1 prints every run's trace.
 */
#include "lifecycle_powerpol/recpp.h"
#include "trace_lines.h"

TDF_DECLARE_IMAGE(recpp);
DRIVER_INITIALIZE RecPp_DriverEntry;
EVT_TDF_STIMULUS RecPp_StimulusStopIdle;
EVT_TDF_STIMULUS RecPp_StimulusResumeIdle;
EVT_TDF_STIMULUS RecPp_StimulusTouch;

static const tdf_image_desc_t k_images[] = {
    {TDF_IMAGE(recpp), RecPp_DriverEntry, {RECPP_HARDWARE_ID}},
};

static const tdf_stimulus_desc_t k_stimuli[] = {
    {"io", TDF_IMAGE(recpp), NULL, "DeviceIoControl to the power-managed default queue (reads the register)",
     IOCTL_RECPP_TOUCH},
    {"stopidle", TDF_IMAGE(recpp), RecPp_StimulusStopIdle,
     "WdfDeviceStopIdle(TRUE), register read, WdfDeviceResumeIdle (odd argument: no ResumeIdle)"},
    {"resumeidle", TDF_IMAGE(recpp), RecPp_StimulusResumeIdle, "WdfDeviceResumeIdle alone"},
    {"touch", TDF_IMAGE(recpp), RecPp_StimulusTouch, "reads the register with no power reference"},
};

static const tdf_variant_desc_t k_variants[RECPP_VARIANT_COUNT] = {
    [RECPP_CORRECT] = {"correct", "S0 idle settings (cannot wake), every callback succeeds"},
    [RECPP_NO_IDLE_SETTINGS] = {"no_idle_settings", "never assigns S0 idle settings"},
    [RECPP_WAKE_S0] = {"wake_s0", "IdleCanWakeFromS0"},
    [RECPP_ARM_FAILS] = {"arm_fails", "IdleCanWakeFromS0, EvtDeviceArmWakeFromS0 fails"},
    [RECPP_WAKE_SX] = {"wake_sx", "Sx wake settings"},
    [RECPP_FAIL_PREPARE] = {"fail_prepare", "EvtDevicePrepareHardware fails"},
    [RECPP_FAIL_D0ENTRY_START] = {"fail_d0entry_start", "every EvtDeviceD0Entry fails"},
    [RECPP_FAIL_D0ENTRY_RESUME] = {"fail_d0entry_resume", "the second EvtDeviceD0Entry fails"},
    [RECPP_FAIL_SMIO_INIT] = {"fail_smio_init", "EvtDeviceSelfManagedIoInit fails"},
    [RECPP_FAIL_D0EXIT] = {"fail_d0exit", "EvtDeviceD0Exit fails unless D3Final"},
};

static const tdf_target_desc_t k_target = {
    .name = "lifecycle_powerpol_recorder",
    .doc = "test-only power-policy recorder (tests/lifecycle_powerpol)",
    .images = k_images,
    .image_count = TDF_ARRAY_SIZE(k_images),
    .root_hardware_ids = {RECPP_HARDWARE_ID},
    .stimuli = k_stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(k_stimuli),
    .variants = k_variants,
    .variant_count = RECPP_VARIANT_COUNT,
};
TDF_TARGET(k_target);

enum { EV_IO = TDF_EV_GENERIC_COUNT, EV_STOPIDLE, EV_RESUMEIDLE, EV_TOUCH };
enum { N_PP = 0 };

/* ---- running, and the lines of the trace -------------------------------------- */
static tdf_script_t g_script;

static tdf_class_t run_events(unsigned variant, sched_source_t schedule, const tdf_event_t *ev, unsigned n)
{
    memset(&g_script, 0, sizeof g_script);
    g_script.event_count = n;
    for (unsigned i = 0; i < n && i < TDF_MAX_EVENTS; i++)
        g_script.events[i] = ev[i];
    g_script.schedule = schedule;
    return run_script(&k_target, &g_script, variant);
}

#define RUN(variant, schedule, ...) run_events((variant), (schedule), EVENTS(__VA_ARGS__))
#define RUN_NO_EVENTS(variant) run_events((variant), NO_PREEMPT, NULL, 0)

/* ==== rules 90-99 (KERNEL-SEMANTICS §13) ===================================== */

/* rule 90 */
TEST(idle_only_with_s0_idle_settings)
{
    CHECK_CLEAN(RUN(RECPP_NO_IDLE_SETTINGS, NO_PREEMPT, EV(TDF_EV_IDLE, N_PP)));
    EXPECT_NONE(SEG_EVENT(0), 1, NULL);
    CHECK(find("recpp: idle not allowed by the power policy (no S0 idle settings, 0 power references)", 0) >= 0);
    CHECK_CLEAN(RUN(RECPP_CORRECT, NO_PREEMPT, EV(TDF_EV_IDLE, N_PP)));
    EXPECT(SEG_EVENT(0), 1, NULL, "pp FDO SelfManagedIoSuspend", "pp FDO D0Exit(D3)");
}

/* rule 91 */
TEST(stop_idle_holds_off_idle_until_resume_idle_and_resume_idle_alone_is_misuse)
{
    /* stopidle(1): StopIdle without its ResumeIdle, before the idle timer fires */
    CHECK_CLEAN(RUN(RECPP_CORRECT, STIM_FIRST, EV(EV_STOPIDLE, 1), EV(TDF_EV_IDLE, N_PP)));
    CHECK_EQ(count("pp FDO StopIdle returned success"), 1u);
    CHECK_EQ(count("pp FDO D0Exit(D3)"), 0u);
    CHECK(find("recpp: idle not allowed by the power policy (S0 idle enabled, 1 power references)", 0) >= 0);
    /* stopidle(0): the matching ResumeIdle lets it idle */
    CHECK_CLEAN(RUN(RECPP_CORRECT, STIM_FIRST, EV(EV_STOPIDLE, 0), EV(TDF_EV_IDLE, N_PP)));
    BEFORE("pp FDO StopIdle returned success", "pp FDO D0Exit(D3)");
    tdf_class_t cls = RUN(RECPP_CORRECT, STIM_FIRST, EV(EV_RESUMEIDLE, 0), EV(TDF_EV_IDLE, N_PP));
    CHECK_EQ(cls, TDF_CLASS_MISUSE);
    const tdf_failure_t *f = tdf_failure();
    if (CHECK(f != NULL)) {
        CHECK(strcmp(f->name, "RESUME_IDLE_WITHOUT_STOP_IDLE") == 0);
        CHECK_STR_CONTAINS(f->detail, "without a matching WdfDeviceStopIdle");
    }
}

/* rule 92 */
TEST(stop_idle_wait_powers_an_idle_device_up_before_it_returns)
{
    /* The second idle is where the stimulus runs (its power request's yield);
     * it finds the stimulus's reference and does nothing. */
    CHECK_CLEAN(RUN(RECPP_CORRECT, STIM_FIRST, EV(TDF_EV_IDLE, N_PP), EV(EV_STOPIDLE, 0), EV(TDF_EV_IDLE, N_PP)));
    EXPECT(ANY_SEG, 0, "pp FDO", "pp FDO PrepareHardware", "pp FDO D0Entry(D3Final)", "pp FDO SelfManagedIoInit",
           "pp FDO SelfManagedIoSuspend", "pp FDO D0Exit(D3)", /* idle */
           "pp FDO D0Entry(D3)", "pp FDO SelfManagedIoRestart", "pp FDO StopIdle returned success",
           "pp FDO SelfManagedIoSuspend", "pp FDO D0Exit(D3Final)", "pp FDO ReleaseHardware",
           "pp FDO SelfManagedIoFlush", "pp FDO SelfManagedIoCleanup", "pp FDO EvtCleanupCallback");
}

/* rule 93 */
TEST(request_at_a_power_managed_queue_wakes_an_idle_device_and_is_dispatched_after_d0entry)
{
    CHECK_CLEAN(RUN(RECPP_CORRECT, STIM_FIRST, EV(TDF_EV_IDLE, N_PP), EV(EV_IO, 0), EV(TDF_EV_IDLE, N_PP)));
    BEFORE("pp FDO D0Exit(D3)", "pp FDO D0Entry(D3)");
    BEFORE("pp FDO D0Entry(D3)", "pp FDO EvtIoDeviceControl");
    BEFORE("pp FDO SelfManagedIoRestart", "pp FDO D0Exit(D3Final)");
    /* the same device touched with no power reference: no wake */
    tdf_class_t cls = RUN(RECPP_CORRECT, STIM_FIRST, EV(TDF_EV_IDLE, N_PP), EV(EV_TOUCH, 0), EV(TDF_EV_IDLE, N_PP));
    CHECK_EQ(cls, TDF_CLASS_HARDWARE);
    const tdf_failure_t *f = tdf_failure();
    if (CHECK(f != NULL)) {
        CHECK(strcmp(f->name, "NOT_IN_D0") == 0);
        CHECK_STR_CONTAINS(f->detail, "recpp/FDO is in D3");
    }
    CHECK_EQ(count("pp FDO D0Entry(D3)"), 0u);
}

/* rule 94 */
TEST(idle_wake_capable_arms_before_d0exit_and_disarms_after_d0entry)
{
    CHECK_CLEAN(RUN(RECPP_WAKE_S0, NO_PREEMPT, EV(TDF_EV_IDLE, N_PP), EV(TDF_EV_WAKE, N_PP)));
    EXPECT(SEG_EVENT(0), 1, NULL, "pp FDO SelfManagedIoSuspend", "pp FDO ArmWakeFromS0", "pp FDO D0Exit(D3)");
    EXPECT(SEG_EVENT(1), 1, NULL, "pp FDO WakeFromS0Triggered", "pp FDO D0Entry(D3)", "pp FDO DisarmWakeFromS0",
           "pp FDO SelfManagedIoRestart");
    /* woken by I/O instead: disarmed, no Triggered */
    CHECK_CLEAN(RUN(RECPP_WAKE_S0, STIM_FIRST, EV(TDF_EV_IDLE, N_PP), EV(EV_IO, 0), EV(TDF_EV_IDLE, N_PP)));
    CHECK_EQ(count("pp FDO WakeFromS0Triggered"), 0u);
    BEFORE("pp FDO D0Entry(D3)", "pp FDO DisarmWakeFromS0");
    BEFORE("pp FDO DisarmWakeFromS0", "pp FDO EvtIoDeviceControl");
}

/* rule 95 */
TEST(arm_wake_from_s0_failure_returns_to_d0_without_d0exit)
{
    CHECK_CLEAN(RUN(RECPP_ARM_FAILS, NO_PREEMPT, EV(TDF_EV_IDLE, N_PP)));
    EXPECT(SEG_EVENT(0), 1, NULL, "pp FDO SelfManagedIoSuspend", "pp FDO ArmWakeFromS0",
           "pp FDO SelfManagedIoRestart");
    CHECK_EQ(count("pp FDO DisarmWakeFromS0"), 0u);
}

/* rule 96 */
TEST(sleep_with_sx_wake_arms_before_d0exit_and_disarms_after_d0entry)
{
    CHECK_CLEAN(RUN(RECPP_WAKE_SX, NO_PREEMPT, EV(TDF_EV_SLEEP, 0)));
    EXPECT(SEG_EVENT(0), 1, NULL, "pp FDO SelfManagedIoSuspend", "pp FDO ArmWakeFromSx", "pp FDO D0Exit(D3)",
           "pp FDO D0Entry(D3)", "pp FDO DisarmWakeFromSx", "pp FDO SelfManagedIoRestart");
    CHECK_CLEAN(RUN(RECPP_CORRECT, NO_PREEMPT, EV(TDF_EV_SLEEP, 0)));
    CHECK_EQ(count("pp FDO ArmWakeFromSx"), 0u);
}

/* rule 97 */
TEST(prepare_hardware_failure_release_hardware_then_deleted_no_d0entry)
{
    CHECK_CLEAN(RUN_NO_EVENTS(RECPP_FAIL_PREPARE));
    EXPECT(SEG_START, 1, "pp FDO", "pp FDO PrepareHardware", "pp FDO ReleaseHardware", "pp FDO EvtCleanupCallback");
    CHECK(pos("recpp EvtDriverUnload") >= 0);
}

/* rule 98 */
TEST(d0entry_failure_gets_no_d0exit_and_the_device_is_torn_down)
{
    CHECK_CLEAN(RUN_NO_EVENTS(RECPP_FAIL_D0ENTRY_START));
    EXPECT(SEG_START, 1, "pp FDO", "pp FDO PrepareHardware", "pp FDO D0Entry(D3Final)", "pp FDO ReleaseHardware",
           "pp FDO EvtCleanupCallback");
    /* on resume: out of D0, ReleaseHardware, Flush; then SURPRISE_REMOVAL and REMOVE */
    CHECK_CLEAN(RUN(RECPP_FAIL_D0ENTRY_RESUME, NO_PREEMPT, EV(TDF_EV_IDLE, N_PP), EV(TDF_EV_WAKE, N_PP)));
    EXPECT(SEG_EVENT(1), 1, "pp FDO", "pp FDO D0Entry(D3)", "pp FDO ReleaseHardware", "pp FDO SelfManagedIoFlush",
           "pp FDO SurpriseRemoval", "pp FDO SelfManagedIoCleanup", "pp FDO EvtCleanupCallback");
    CHECK_EQ(count("pp FDO D0Exit(D3Final)"), 0u);
    CHECK_EQ(count("pp FDO SelfManagedIoRestart"), 0u);
}

/* rule 99 */
TEST(self_managed_io_init_or_idle_d0exit_failure_tears_the_device_down)
{
    CHECK_CLEAN(RUN_NO_EVENTS(RECPP_FAIL_SMIO_INIT));
    EXPECT(SEG_START, 1, "pp FDO", "pp FDO PrepareHardware", "pp FDO D0Entry(D3Final)", "pp FDO SelfManagedIoInit",
           "pp FDO D0Exit(D3Final)", "pp FDO ReleaseHardware", "pp FDO SelfManagedIoFlush",
           "pp FDO SelfManagedIoCleanup", "pp FDO EvtCleanupCallback");
    CHECK_CLEAN(RUN(RECPP_FAIL_D0EXIT, NO_PREEMPT, EV(TDF_EV_IDLE, N_PP)));
    EXPECT(SEG_EVENT(0), 1, "pp FDO", "pp FDO SelfManagedIoSuspend", "pp FDO D0Exit(D3)", "pp FDO ReleaseHardware",
           "pp FDO SelfManagedIoFlush", "pp FDO SurpriseRemoval", "pp FDO SelfManagedIoCleanup",
           "pp FDO EvtCleanupCallback");
}

int main(void) { return tdf_test_main(); }
