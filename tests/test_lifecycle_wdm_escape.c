/*
 * KMDF's WDM escapes: one test per rule 150-158 of docs/LIFECYCLE.md
 * (KERNEL-SEMANTICS §16 "KMDF's WDM escapes"), on the recorder pair of
 * tests/lifecycle_wdm_escape ("wdm" a WDM driver with a named device object,
 * "kmdf" a KMDF driver with a preprocess callback and an I/O target on wdm's
 * device object; two root stacks, wdm first). Every rule's check has a
 * variant of the pair that must fail it.
 *
 * Scheduling: unpreempted (a stimulus thread runs when the PnP thread blocks
 * or ends). LET_RUN is a wake of a device already in D0: skipped, but the PnP
 * thread waits for its power request, so the stimuli posted before it run
 * until they block or end.
 */
#include "lifecycle_wdm_escape/recesc.h"
#include "trace_lines.h"

TDF_DECLARE_IMAGE(escwdm);
TDF_DECLARE_IMAGE(esckmdf);
DRIVER_INITIALIZE RecEscWdm_DriverEntry;
DRIVER_INITIALIZE RecEscKmdf_DriverEntry;
EVT_TDF_STIMULUS RecEscWdm_StimulusComplete;
EVT_TDF_STIMULUS RecEscKmdf_StimulusSendHold;
EVT_TDF_STIMULUS RecEscKmdf_StimulusSendNow;
EVT_TDF_STIMULUS RecEscKmdf_StimulusClose;
EVT_TDF_STIMULUS RecEscKmdf_StimulusFinish;

static const tdf_image_desc_t k_images[] = {
    {TDF_IMAGE(escwdm), RecEscWdm_DriverEntry, {RECESC_WDM_ID}},
    {TDF_IMAGE(esckmdf), RecEscKmdf_DriverEntry, {RECESC_KMDF_ID}},
};
static const tdf_stimulus_desc_t k_stimuli[] = {
    {"client_dispatch", TDF_IMAGE(esckmdf), NULL, "a client's IOCTL the preprocess callback hands on",
     IOCTL_ESC_DISPATCH},
    {"client_self", TDF_IMAGE(esckmdf), NULL, "a client's IOCTL the preprocess callback completes", IOCTL_ESC_SELF},
    {"send_hold", TDF_IMAGE(esckmdf), RecEscKmdf_StimulusSendHold, "kmdf sends wdm an IOCTL wdm holds"},
    {"send_now", TDF_IMAGE(esckmdf), RecEscKmdf_StimulusSendNow, "kmdf sends wdm an IOCTL wdm completes at once"},
    {"close", TDF_IMAGE(esckmdf), RecEscKmdf_StimulusClose, "kmdf closes its target"},
    {"wdm_complete", TDF_IMAGE(escwdm), RecEscWdm_StimulusComplete, "wdm completes the oldest IRP it holds"},
    {"client_pend", TDF_IMAGE(esckmdf), NULL, "a client's IOCTL the preprocess callback keeps pending",
     IOCTL_ESC_PEND},
    {"finish", TDF_IMAGE(esckmdf), RecEscKmdf_StimulusFinish, "kmdf completes the IRP its callback kept"},
};
static const tdf_variant_desc_t k_variants[RECESC_VARIANT_COUNT] = {
    [RECESC_CORRECT] = {"correct", "logs every step"},
    [RECESC_TOUCH_AFTER_COMPLETE] = {"touch_after_complete", "reads its request's IRP after completing it"},
    [RECESC_GET_IRP_AFTER_COMPLETE] = {"get_irp_after_complete", "asks for its request's IRP after completing it"},
    [RECESC_COMPLETE_AND_DISPATCH] = {"complete_and_dispatch", "preprocess completes an IRP and dispatches it"},
    [RECESC_DISPATCH_AND_COMPLETE] = {"dispatch_and_complete", "preprocess dispatches an IRP and completes it"},
    [RECESC_NO_SKIP] = {"no_skip", "preprocess dispatches without skipping its location"},
    [RECESC_COPY_NEXT] = {"copy_next", "preprocess copies its location to the next"},
    [RECESC_NO_REFERENCE] = {"no_reference", "nothing keeps the target's device object"},
    [RECESC_KEEP_TOP_REFERENCE] = {"keep_top_reference", "keeps IoGetAttachedDeviceReference's reference"},
    [RECESC_RETURN_SUCCESS] = {"return_success", "preprocess hands an IRP on and returns STATUS_SUCCESS"},
    [RECESC_SELF_PENDING] = {"self_pending", "preprocess completes an IRP and returns STATUS_PENDING"},
    [RECESC_POSTPROCESS] = {"postprocess", "preprocess sets a completion routine and hands the IRP on"},
    [RECESC_POSTPROCESS_NO_PROPAGATE] = {"postprocess_no_propagate", "that routine does not propagate pending"},
};
static const tdf_target_desc_t k_target = {
    .name = "lifecycle_wdm_escape_recorder",
    .doc = "test-only WDM-escape recorder pair (tests/lifecycle_wdm_escape)",
    .images = k_images,
    .image_count = TDF_ARRAY_SIZE(k_images),
    .root_hardware_ids = {RECESC_WDM_ID, RECESC_KMDF_ID},
    .stimuli = k_stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(k_stimuli),
    .variants = k_variants,
    .variant_count = RECESC_VARIANT_COUNT,
};
TDF_TARGET(k_target);

enum {
    EV_CLIENT_DISPATCH = TDF_EV_GENERIC_COUNT,
    EV_CLIENT_SELF,
    EV_SEND_HOLD,
    EV_SEND_NOW,
    EV_CLOSE,
    EV_WDM_COMPLETE,
    EV_CLIENT_PEND,
    EV_FINISH,
};
#define LET_RUN EV(TDF_EV_WAKE, 0)
#define WDM 0

/* tests/trace_lines.h: the events with no parameters and no preemption. */
#define RUN(variant, ...) run_boot_events(&k_target, (variant), 0, EVENTS(__VA_ARGS__))
static tdf_class_t run_none(unsigned variant) { return run_boot_events(&k_target, variant, 0, NULL, 0); }

#define CHECK_BUGCHECK(cls, code, sub, word) \
    expect_finding_at((cls), TDF_CLASS_BUGCHECK, (code), (sub), NULL, (word), __FILE__, __LINE__)
#define CHECK_MISUSE(cls, name, word) expect_finding_at((cls), TDF_CLASS_MISUSE, 0, 0, (name), (word), __FILE__, __LINE__)

/* The model's trace line `text` at or after recorder line `after` (-1: anywhere). */
static int model_line_after(const char *text, int after) { return find_from(text, 0, after < 0 ? 0 : after); }

#define STACK_LINE "kmdf: stack: top self 1, below PDO 1, below's attached self 1, StackSize 3 over 1, driver ours 1"
#define EVT_IO_DISPATCH                                                                                              \
    "kmdf: EvtIoDeviceControl dispatch: its IRP is the preprocessed one 1 (major 0xe, code 1, lengths 1)"

TEST(rule150_wdm_get_irp_is_the_requests_irp_valid_until_its_completion)
{
    CHECK_CLEAN(RUN(RECESC_CORRECT, EV(EV_CLIENT_DISPATCH, 0), LET_RUN));
    int at = pos(EVT_IO_DISPATCH);
    if (CHECK(at >= 0))
        CHECK(model_line_after("request completed 0x0", at) > at);
    /* Read after WdfRequestComplete: the IRP went with the completion. */
    tdf_class_t cls = RUN(RECESC_TOUCH_AFTER_COMPLETE, EV(EV_CLIENT_DISPATCH, 0), LET_RUN);
    CHECK_BUGCHECK(cls, 0x50, 0, "IoGetCurrentIrpStackLocation");
    CHECK_EQ(pos("kmdf: after the completion, major 0xe"), -1);
    /* Asked for after the completion: the client's request is gone with it. */
    cls = RUN(RECESC_GET_IRP_AFTER_COMPLETE, EV(EV_CLIENT_DISPATCH, 0), LET_RUN);
    CHECK_BUGCHECK(cls, 0x10D, 0x5, "WdfRequestWdmGetIrp on a request already completed");
}

TEST(rule151_the_preprocess_callback_sees_the_irp_first_and_hands_it_to_the_queue)
{
    CHECK_CLEAN(RUN(RECESC_CORRECT, EV(EV_CLIENT_DISPATCH, 0), LET_RUN));
    EXPECT(ANY_SEG, 0, "kmdf: preprocess", "kmdf: preprocess dispatch (major 0xe, location 3 of 3, own device 1)");
    EXPECT_IN_ORDER(ANY_SEG, 0, "kmdf: preprocess dispatch (major 0xe, location 3 of 3, own device 1)",
                    EVT_IO_DISPATCH, "kmdf: the framework took it 0x103");
    /* Handed on, then completed by the callback as well: the framework
     * completed it already (the IRP is gone), a second completion. */
    tdf_class_t cls = RUN(RECESC_DISPATCH_AND_COMPLETE, EV(EV_CLIENT_DISPATCH, 0), LET_RUN);
    CHECK_BUGCHECK(cls, 0x44, 0, "IoCompleteRequest on IRP");
}

TEST(rule152_a_preprocess_callback_that_completes_the_irp_keeps_it_from_the_framework)
{
    CHECK_CLEAN(RUN(RECESC_CORRECT, EV(EV_CLIENT_SELF, 0), LET_RUN));
    EXPECT(ANY_SEG, 0, "kmdf: ", STACK_LINE,
           "kmdf: target opened on wdm's device object 0x0",
           "kmdf: preprocess self (major 0xe, location 3 of 3, own device 1)", "kmdf: preprocess completed it",
           "kmdf: ReleaseHardware closes the target");
    int at = pos("kmdf: preprocess self (major 0xe, location 3 of 3, own device 1)");
    CHECK(at >= 0 && model_line_after("request completed 0x0", at) > at);
    /* Completed, then handed to the framework too: the IRP is freed. */
    tdf_class_t cls = RUN(RECESC_COMPLETE_AND_DISPATCH, EV(EV_CLIENT_SELF, 0), LET_RUN);
    CHECK_BUGCHECK(cls, 0x50, 0, "WdfDeviceWdmDispatchPreprocessedIrp");
}

TEST(rule153_dispatching_a_preprocessed_irp_needs_its_next_location_set_up)
{
    CHECK_CLEAN(RUN(RECESC_COPY_NEXT, EV(EV_CLIENT_DISPATCH, 0), LET_RUN));
    CHECK(pos(EVT_IO_DISPATCH) >= 0);
    tdf_class_t cls = RUN(RECESC_NO_SKIP, EV(EV_CLIENT_DISPATCH, 0), LET_RUN);
    CHECK_MISUSE(cls, "PREPROCESSED_IRP_NOT_SKIPPED", "IoSkipCurrentIrpStackLocation");
    CHECK_EQ(pos(EVT_IO_DISPATCH), -1);
}

TEST(rule154_a_target_on_an_existing_device_object_sends_irps_to_its_dispatch_routine)
{
    CHECK_CLEAN(RUN(RECESC_CORRECT, EV(EV_SEND_NOW, 0), LET_RUN, EV(EV_SEND_HOLD, 0), LET_RUN,
                    EV(EV_WDM_COMPLETE, WDM), LET_RUN));
    EXPECT(ANY_SEG, 0, "sen", "kmdf: sends now", "kmdf: sent request completed 0x0 (Information 5)",
           "kmdf: sends hold", "kmdf: sent request completed 0x0 (Information 7)");
    EXPECT_IN_ORDER(ANY_SEG, 0, "kmdf: sends now", "wdm: internal IOCTL now (location 2 of 2, own device 1)",
                    "kmdf: sent request completed 0x0 (Information 5)", "kmdf: sends hold",
                    "wdm: internal IOCTL hold (location 2 of 2, own device 1)", "wdm: completes a held IRP",
                    "kmdf: sent request completed 0x0 (Information 7)");
    /* The close cancels the IRP in flight (IoCancelIrp: wdm's cancel
     * routine), waits for it, and fails later sends. */
    CHECK_CLEAN(RUN(RECESC_CORRECT, EV(EV_SEND_HOLD, 0), LET_RUN, EV(EV_CLOSE, 0), LET_RUN, EV(EV_SEND_NOW, 0),
                    LET_RUN));
    EXPECT_IN_ORDER(ANY_SEG, 0, "wdm: internal IOCTL hold (location 2 of 2, own device 1)", "wdm: cancel routine",
                    "kmdf: sent request completed 0xc0000120 (Information 0)", "kmdf: target closed",
                    "kmdf: sends now", "kmdf: send failed 0xc0000184");
    CHECK_EQ(count("wdm: internal IOCTL now (location 2 of 2, own device 1)"), 0u);
}

TEST(rule155_a_target_on_an_existing_device_object_holds_no_reference_on_it)
{
    /* kmdf's file object keeps wdm's deleted device object: the send reaches
     * wdm's dispatch routine, which fails it; wdm unloads once kmdf let go. */
    CHECK_CLEAN(RUN(RECESC_CORRECT, EV(TDF_EV_REMOVE, WDM), EV(EV_SEND_NOW, 0), LET_RUN));
    EXPECT_IN_ORDER(ANY_SEG, 0, "wdm: IRP_MN_REMOVE_DEVICE deletes its device", "kmdf: sends now",
                    "wdm: fails an IRP after its removal", "kmdf: sent request completed 0xc0000056 (Information 0)",
                    "kmdf: ReleaseHardware closes the target", "wdm: DriverUnload");
    /* Nothing keeps it: deleted, freed and its driver unloaded under the open target. */
    tdf_class_t cls = RUN(RECESC_NO_REFERENCE, EV(TDF_EV_REMOVE, WDM), EV(EV_SEND_NOW, 0), LET_RUN);
    CHECK_BUGCHECK(cls, 0xC9, 0x4, "deleted and freed");
    BEFORE("wdm: DriverUnload", "kmdf: sends now");
}

TEST(rule156_wdm_get_device_object_is_the_top_of_its_stack_over_the_attached_device)
{
    CHECK_CLEAN(run_none(RECESC_CORRECT));
    CHECK(pos(STACK_LINE) >= 0);
    /* IoGetAttachedDeviceReference's reference on the top (kmdf's own
     * device object) is the caller's to drop: kept, kmdf cannot unload. */
    tdf_class_t cls = run_none(RECESC_KEEP_TOP_REFERENCE);
    CHECK_BUGCHECK(cls, 0xCE, 0, "1 device object(s) still referenced");
}

TEST(rule157_the_preprocess_callback_returns_what_its_dispatch_routine_would)
{
    /* Kept pending: marked, STATUS_PENDING; completed later from another
     * thread, the client gets that status (the framework never saw it). */
    CHECK_CLEAN(RUN(RECESC_CORRECT, EV(EV_CLIENT_PEND, 0), LET_RUN, EV(EV_FINISH, 0), LET_RUN));
    EXPECT_IN_ORDER(ANY_SEG, 0, "kmdf: preprocess pend (major 0xe, location 3 of 3, own device 1)",
                    "kmdf: preprocess keeps it pending", "kmdf: completes the IRP the preprocess callback kept");
    int at = pos("kmdf: completes the IRP the preprocess callback kept");
    CHECK(at >= 0 && model_line_after("request completed 0x0", at) > at);
    CHECK_EQ(count("kmdf: EvtIoDeviceControl pend"), 0u);
    /* Handed on (the framework marked it pending), then STATUS_SUCCESS returned. */
    tdf_class_t cls = RUN(RECESC_RETURN_SUCCESS, EV(EV_CLIENT_DISPATCH, 0), LET_RUN);
    CHECK_MISUSE(cls, "MARKED_PENDING_NOT_RETURNED", "what the DDI returned");
    /* Completed by the callback, then STATUS_PENDING returned unmarked. */
    cls = RUN(RECESC_SELF_PENDING, EV(EV_CLIENT_SELF, 0), LET_RUN);
    CHECK_MISUSE(cls, "PENDING_NOT_MARKED", "without IoMarkIrpPending");
}

TEST(rule158_a_completion_routine_of_the_preprocess_callback_runs_when_the_framework_completes_the_irp)
{
    CHECK_CLEAN(RUN(RECESC_POSTPROCESS, EV(EV_CLIENT_DISPATCH, 0), LET_RUN));
    EXPECT_IN_ORDER(ANY_SEG, 0, "kmdf: preprocess dispatch (major 0xe, location 3 of 3, own device 1)",
                    EVT_IO_DISPATCH,
                    "kmdf: postprocess completion 0x0 (PendingReturned 1, Information 9, own device 1)",
                    "kmdf: the framework took it 0x103");
    /* The routine does not propagate the framework's pending mark. */
    tdf_class_t cls = RUN(RECESC_POSTPROCESS_NO_PROPAGATE, EV(EV_CLIENT_DISPATCH, 0), LET_RUN);
    CHECK_MISUSE(cls, "PENDING_NOT_MARKED", "did not propagate");
}

int main(void) { return tdf_test_main(); }
