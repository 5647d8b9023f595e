/*
 * WDFINTERRUPT in the KMDF lifecycle: one test per rule 60-69 of
 * docs/LIFECYCLE.md (KERNEL-SEMANTICS §10). A recorder driver
 * (tests/lifecycle_interrupt/recint.c: one root FDO, two interrupts, one
 * interrupt resource) logs every callback with DbgPrint; each test runs a
 * script with tdf_run() and checks the recorder lines of the full trace.
 *
 * Segments as in tests/test_lifecycle.c: the PnP thread's "event ..." markers
 * split the trace; segment 0 is the start, i+1 event i, the last the final
 * teardown. A line keeps the segment in which it was traced (a power-policy
 * or interrupt thread's lines land where the scheduler ran them).
 *
 * LIFECYCLE_TRACE=1 prints every run's lines.
 */
#include "../model/pnp/pnp.h"
#include "lifecycle_interrupt/recint.h"
#include "tdf_test.h"

TDF_DECLARE_IMAGE(recint);
DRIVER_INITIALIZE RecInt_DriverEntry;
EVT_TDF_STIMULUS RecInt_StimulusSync;

static const tdf_image_desc_t k_images[] = {
    {TDF_IMAGE(recint), RecInt_DriverEntry, {REC_INT_HARDWARE_ID}},
};
static const tdf_stimulus_desc_t k_stimuli[] = {
    {"sync", TDF_IMAGE(recint), RecInt_StimulusSync, "a driver thread calls WdfInterruptSynchronize", 0},
};
static const tdf_variant_desc_t k_variants[REC_INT_VARIANT_COUNT] = {
    [REC_INT_VARIANT_CORRECT] = {"correct", "logs every callback"},
    [REC_INT_VARIANT_SYNC_IN_D0ENTRY] = {"sync_in_d0entry", "WdfInterruptSynchronize in D0Entry"},
    [REC_INT_VARIANT_CREATE_LATE] = {"create_late", "WdfInterruptCreate in SelfManagedIoInit"},
};
static const tdf_target_desc_t k_target = {
    .name = "lifecycle_interrupt_recorder",
    .doc = "test-only interrupt recorder (tests/lifecycle_interrupt)",
    .images = k_images,
    .image_count = TDF_ARRAY_SIZE(k_images),
    .root_hardware_ids = {REC_INT_HARDWARE_ID},
    .stimuli = k_stimuli,
    .stimulus_count = TDF_ARRAY_SIZE(k_stimuli),
    .variants = k_variants,
    .variant_count = REC_INT_VARIANT_COUNT,
};
TDF_TARGET(k_target);

enum { EV_SYNC = TDF_EV_GENERIC_COUNT };
#define EV(kind) ((tdf_event_t){(uint8_t)(kind), 0})

/* ---- running and collecting ------------------------------------------------------------ */
#define MAX_LINES 4096
typedef struct line {
    char text[256]; /* the DbgPrint text after "recint " */
    int fiber;
    unsigned seg;
} line_t;
static line_t g_lines[MAX_LINES];
static unsigned g_nlines;
static tdf_script_t g_script;

static tdf_class_t run(unsigned variant, sched_source_t schedule, const tdf_event_t *ev, unsigned n)
{
    memset(&g_script, 0, sizeof g_script);
    g_script.event_count = n;
    for (unsigned i = 0; i < n; i++)
        g_script.events[i] = ev[i];
    g_script.schedule = schedule;
    tdf_run_options_t opts = {.variant = variant, .full_trace = 1};
    tdf_class_t cls = tdf_run(&k_target, &g_script, &opts);
    char buf[256];
    unsigned seg = 0;
    g_nlines = 0;
    for (size_t i = 0; i < sched_trace_count() && g_nlines < MAX_LINES; i++) {
        const sched_trace_event_t *e = sched_trace_at(i);
        sched_trace_format(e, buf, sizeof buf);
        if ((strncmp(buf, "event ", 6) == 0 && !strstr(buf, ": skipped")) || strncmp(buf, "end of events", 13) == 0)
            seg++;
        if (getenv("LIFECYCLE_TRACE"))
            printf("  %2u f%d %s\n", seg, e->fiber, buf);
        if (strncmp(buf, "DbgPrint: recint ", 17) != 0)
            continue;
        line_t *l = &g_lines[g_nlines++];
        snprintf(l->text, sizeof l->text, "%s", buf + 17);
        l->fiber = e->fiber;
        l->seg = seg;
    }
    return cls;
}
#define EVENTS(...) (const tdf_event_t[]){__VA_ARGS__}, \
                    (unsigned)(sizeof((const tdf_event_t[]){__VA_ARGS__}) / sizeof(tdf_event_t))
#define RUN(variant, schedule, ...) run((variant), (schedule), EVENTS(__VA_ARGS__))

static const sched_source_t NO_PREEMPT = {.kind = SCHED_SOURCE_BYTES};
/* Bytes 0x01: at every choice point runnable thread #1 runs, i.e. while the
 * PnP thread (#0) is runnable, the oldest other thread: a raised line is
 * serviced (or a stimulus runs) at the PnP thread's next yield point. */
static uint8_t g_second_first_bytes[1024];
static sched_source_t second_first(void)
{
    memset(g_second_first_bytes, 0x01, sizeof g_second_first_bytes);
    return (sched_source_t){.kind = SCHED_SOURCE_BYTES, .bytes = g_second_first_bytes,
                            .len = sizeof g_second_first_bytes};
}
#define OTHER_FIRST second_first()

static void check_clean(tdf_class_t cls, int line)
{
    const tdf_failure_t *f = tdf_failure();
    if (!tdf_check(cls == TDF_CLASS_NONE, __FILE__, line, "the run ends with no finding") && f)
        printf("    %s %s: %s\n", tdf_class_name(f->cls), f->name, f->detail);
}
#define CHECK_CLEAN(result) check_clean((result), __LINE__)

static void dump(void)
{
    for (unsigned i = 0; i < g_nlines; i++)
        printf("      seg %u f%d %s\n", g_lines[i].seg, g_lines[i].fiber, g_lines[i].text);
}

/* The lines of segment seg (~0u: all) that start with one of the prefixes
 * of the filter list are exactly `want`, in order. */
static int expect_seg(unsigned seg, const char *const *want, int line)
{
    unsigned k = 0;
    int ok = 1;
    for (unsigned i = 0; i < g_nlines; i++) {
        if (seg != ~0u && g_lines[i].seg != seg)
            continue;
        if (!want[k] || strcmp(g_lines[i].text, want[k]) != 0) {
            ok = 0;
            break;
        }
        k++;
    }
    ok = ok && want[k] == NULL;
    if (!tdf_check(ok, __FILE__, line, "recorder lines of the segment, exactly and in order")) {
        printf("    segment %u, want:\n", seg);
        for (unsigned i = 0; want[i]; i++)
            printf("      %s\n", want[i]);
        printf("    got (all segments):\n");
        dump();
    }
    return ok;
}
#define EXPECT_SEG(seg, ...) expect_seg((seg), (const char *const[]){__VA_ARGS__, NULL}, __LINE__)

static int pos(const char *text)
{
    for (unsigned i = 0; i < g_nlines; i++)
        if (strcmp(g_lines[i].text, text) == 0)
            return (int)i;
    return -1;
}
static int count_prefix(const char *prefix)
{
    int n = 0;
    for (unsigned i = 0; i < g_nlines; i++)
        n += strncmp(g_lines[i].text, prefix, strlen(prefix)) == 0;
    return n;
}

/* ---- rules ------------------------------------------------------------------------------- */
/* Rule 60: power-up: D0Entry -> EvtInterruptEnable (DIRQL) -> PostInterruptsEnabled (PASSIVE) -> SelfManagedIoInit. */
TEST(power_up_d0entry_then_interrupt_enable_at_dirql_then_post_interrupts_enabled)
{
    CHECK_CLEAN(run(REC_INT_VARIANT_CORRECT, NO_PREEMPT, NULL, 0));
    EXPECT_SEG(0, "WdfInterruptCreate(0) in AddDevice: 0x0", "WdfInterruptCreate(1) in AddDevice: 0x0",
               "PrepareHardware(1 interrupt resource(s))", "D0Entry", "InterruptEnable(0, irql 5)",
               "D0EntryPostInterruptsEnabled(irql 0)", "SelfManagedIoInit");
}

/* Rule 61: power-down: SelfManagedIoSuspend -> PreInterruptsDisabled (PASSIVE) -> EvtInterruptDisable (DIRQL) -> D0Exit. */
TEST(power_down_pre_interrupts_disabled_then_interrupt_disable_at_dirql_then_d0exit)
{
    CHECK_CLEAN(RUN(REC_INT_VARIANT_CORRECT, NO_PREEMPT, EV(TDF_EV_IDLE), EV(TDF_EV_WAKE)));
    EXPECT_SEG(1, "SelfManagedIoSuspend", "D0ExitPreInterruptsDisabled(irql 0)", "InterruptDisable begin(0, irql 5)",
               "InterruptDisable end", "D0Exit");
    /* and the resume after it: rule 60's order again */
    EXPECT_SEG(2, "D0Entry", "InterruptEnable(0, irql 5)", "D0EntryPostInterruptsEnabled(irql 0)");
}

/* Rule 62: the interrupt's DPC, queued by the ISR, has run before D0Exit (the disconnect flushes it). */
TEST(power_down_flushes_the_isr_dpc_before_d0exit)
{
    /* No preemption: the PnP thread raises the line, posts the idle and
     * blocks; the ISR runs first (lowest id), queues the DPC, and the
     * power-down reaches the flush while the DPC is still queued. */
    CHECK_CLEAN(RUN(REC_INT_VARIANT_CORRECT, NO_PREEMPT, EV(TDF_EV_INTERRUPT), EV(TDF_EV_IDLE)));
    int isr = pos("Isr begin(0, irql 5)"), disable = pos("InterruptDisable end"), dpc = pos("Dpc(irql 2)"),
        d0exit = pos("D0Exit");
    if (!CHECK(isr >= 0 && disable >= 0 && dpc >= 0 && d0exit >= 0)) {
        dump();
        return;
    }
    CHECK(isr < disable);
    CHECK(disable < dpc); /* the DPC was still queued when the power-down began */
    CHECK(dpc < d0exit);  /* ... and the flush waited for it */
}

/* Rule 63: no ISR while the interrupt is disconnected (the device idle in Dx, or removed). */
TEST(no_isr_while_the_interrupt_is_disconnected)
{
    CHECK_CLEAN(RUN(REC_INT_VARIANT_CORRECT, OTHER_FIRST, EV(TDF_EV_IDLE), EV(TDF_EV_INTERRUPT), EV(TDF_EV_WAKE),
                    EV(TDF_EV_INTERRUPT)));
    /* idle = segment 1, the line raised while idle (segment 2) is skipped: only the one after the wake's
     * EvtInterruptEnable is serviced */
    CHECK(count_prefix("Isr begin") == 1);
    int wake_enable = -1;
    for (unsigned i = 0; i < g_nlines; i++)
        if (g_lines[i].seg == 3 && strncmp(g_lines[i].text, "InterruptEnable(0", 17) == 0)
            wake_enable = (int)i;
    CHECK(wake_enable >= 0 && pos("Isr begin(0, irql 5)") > wake_enable);
}

/* Rule 64: the ISR runs only between EvtInterruptEnable and EvtInterruptDisable and never inside either (the
 * interrupt lock), whatever the schedule. */
TEST(isr_only_while_enabled_and_never_inside_enable_or_disable_under_random_schedules)
{
    unsigned isrs = 0, runs = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        sched_source_t random = {.kind = SCHED_SOURCE_RANDOM, .seed = seed};
        tdf_class_t cls = RUN(REC_INT_VARIANT_CORRECT, random, EV(TDF_EV_INTERRUPT), EV(TDF_EV_INTERRUPT),
                              EV(TDF_EV_IDLE | 0), EV(TDF_EV_INTERRUPT), EV(TDF_EV_WAKE), EV(TDF_EV_INTERRUPT),
                              EV(TDF_EV_STOP), EV(TDF_EV_INTERRUPT), EV(TDF_EV_SURPRISE_REMOVE), EV(TDF_EV_INTERRUPT));
        CHECK_CLEAN(cls);
        runs++;
        /* Other threads' lines may come between an ISR's begin and end
         * (another processor), but no Enable/Disable and no other ISR. */
        int enabled = 0, inside_disable = 0, inside_isr = 0, ok = 1;
        for (unsigned i = 0; i < g_nlines; i++) {
            const char *t = g_lines[i].text;
            if (strncmp(t, "InterruptEnable(0", 17) == 0)
                ok = ok && !inside_isr, enabled = 1;
            else if (strncmp(t, "InterruptDisable begin(0", 24) == 0)
                ok = ok && !inside_isr, inside_disable = 1, enabled = 0;
            else if (strcmp(t, "InterruptDisable end") == 0)
                ok = ok && !inside_isr, inside_disable = 0;
            else if (strncmp(t, "Isr begin", 9) == 0) {
                isrs++;
                ok = ok && enabled && !inside_disable && !inside_isr;
                inside_isr = 1;
            } else if (strcmp(t, "Isr end") == 0)
                inside_isr = 0;
        }
        if (!CHECK(ok)) {
            printf("    seed %lu\n", (unsigned long)seed);
            dump();
            return;
        }
    }
    CHECK(runs == 40);
    CHECK(isrs >= 40); /* the schedules did deliver interrupts (not a vacuous pass) */
}

/* Rule 65: WdfInterruptSynchronize on an interrupt that is not connected (in D0Entry) is MISUSE. */
TEST(synchronize_before_the_interrupt_is_connected_is_misuse)
{
    tdf_class_t cls = run(REC_INT_VARIANT_SYNC_IN_D0ENTRY, NO_PREEMPT, NULL, 0);
    const tdf_failure_t *f = tdf_failure();
    CHECK(cls == TDF_CLASS_MISUSE);
    CHECK(f && strcmp(f->name, "WdfInterruptSynchronize") == 0);
    CHECK(f && strstr(f->where, "RecInt_EvtDeviceD0Entry") != NULL);
    CHECK(pos("Synchronize(irql 5)") < 0); /* the callback never ran */
    /* The same call from a thread while connected runs its callback at DIRQL. */
    CHECK_CLEAN(RUN(REC_INT_VARIANT_CORRECT, OTHER_FIRST, EV(EV_SYNC)));
    CHECK(pos("Synchronize(irql 5)") >= 0);
}

/* Rule 66: WdfInterruptCreate outside EvtDriverDeviceAdd fails with STATUS_INVALID_DEVICE_STATE. */
TEST(interrupt_create_outside_add_device_is_invalid_device_state)
{
    CHECK_CLEAN(run(REC_INT_VARIANT_CREATE_LATE, NO_PREEMPT, NULL, 0));
    CHECK(pos("WdfInterruptCreate in SelfManagedIoInit: 0xc0000184") >= 0);
}

/* Rule 67: the n-th interrupt gets the n-th interrupt resource; one without a resource is never connected. */
TEST(interrupt_without_a_resource_is_never_connected)
{
    CHECK_CLEAN(RUN(REC_INT_VARIANT_CORRECT, NO_PREEMPT, EV(TDF_EV_IDLE), EV(TDF_EV_WAKE), EV(TDF_EV_INTERRUPT)));
    CHECK(count_prefix("InterruptEnable(0") == 2);
    CHECK(count_prefix("InterruptEnable(1") == 0);
    CHECK(count_prefix("InterruptDisable begin(1") == 0);
    CHECK(count_prefix("Isr begin(1") == 0);
}

/* Rule 68: surprise removal in D0: SurpriseRemoval, then the power-down with PreInterruptsDisabled and
 * EvtInterruptDisable before D0Exit, then ReleaseHardware. */
TEST(surprise_removal_in_d0_disables_the_interrupt_before_d0exit)
{
    CHECK_CLEAN(RUN(REC_INT_VARIANT_CORRECT, NO_PREEMPT, EV(TDF_EV_SURPRISE_REMOVE)));
    EXPECT_SEG(1, "SurpriseRemoval", "SelfManagedIoSuspend", "D0ExitPreInterruptsDisabled(irql 0)",
               "InterruptDisable begin(0, irql 5)", "InterruptDisable end", "D0Exit", "ReleaseHardware");
}

/* Rule 69: IRQLs: the ISR at DIRQL, its DPC at DISPATCH_LEVEL, the DPC under WdfInterruptAcquireLock at DIRQL. */
TEST(isr_at_dirql_dpc_at_dispatch_and_its_acquired_lock_at_dirql)
{
    CHECK_CLEAN(RUN(REC_INT_VARIANT_CORRECT, OTHER_FIRST, EV(TDF_EV_INTERRUPT)));
    int isr = pos("Isr begin(0, irql 5)"), dpc = pos("Dpc(irql 2)"), locked = pos("Dpc holds the interrupt lock(irql 5)");
    if (!CHECK(isr >= 0 && dpc > isr && locked > dpc))
        dump();
}

int main(void) { return tdf_test_main(); }
