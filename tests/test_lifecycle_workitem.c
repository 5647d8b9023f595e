/*
 * Work items, lookaside lists and object lifetime: one test per rule 50-59 of
 * docs/LIFECYCLE.md (KERNEL-SEMANTICS §9). The recorder (tests/lifecycle_workitem/)
 * logs one DbgPrint line per callback; each test runs one scripted input (a
 * remove of the recorder's only device, then the driver's unload) with no
 * preemption: the PnP thread runs until it blocks, so a worker thread runs
 * only when the PnP thread waits (a flush, a delete waiting for a callback)
 * or is done. A line the model would run in the wrong order, or a check it
 * would not make, fails the test.
 *
 * LIFECYCLE_TRACE=1 prints every run's trace.
 */
#include "../model/pnp/pnp.h"
#include "lifecycle_workitem/recwi.h"
#include "tdf_test.h"

TDF_DECLARE_IMAGE(recwi);
DRIVER_INITIALIZE RecWi_DriverEntry;

static const tdf_image_desc_t k_images[] = {
    {TDF_IMAGE(recwi), RecWi_DriverEntry, {RECWI_HARDWARE_ID}},
};
static const tdf_variant_desc_t k_variants[RECWI_VARIANT_COUNT] = {
    [RECWI_CORRECT] = {"correct", "work items, collections, lookaside lists used the right way"},
    [RECWI_EX_QUEUE] = {"ex_queue", "ExQueueWorkItem from the device's cleanup"},
    [RECWI_DOUBLE_QUEUE] = {"double_queue", "an IO_WORKITEM queued twice"},
    [RECWI_LOOKASIDE_LEAK] = {"lookaside_leak", "an NPAGED lookaside list never deleted"},
    [RECWI_QUEUE_RUNDOWN] = {"queue_rundown", "a rundown in a queue's context"},
};
static const tdf_target_desc_t k_target = {
    .name = "lifecycle_workitem_recorder",
    .doc = "test-only recorder (tests/lifecycle_workitem): work items, objects, lookaside lists",
    .images = k_images,
    .image_count = TDF_ARRAY_SIZE(k_images),
    .root_hardware_ids = {RECWI_HARDWARE_ID},
    .variants = k_variants,
    .variant_count = RECWI_VARIANT_COUNT,
};
TDF_TARGET(k_target);

#define MAX_LINES 4000
static char g_lines[MAX_LINES][256];
static unsigned g_nlines;
static tdf_script_t g_script;

/* One remove of the device (then the end-of-run teardown unloads the driver). */
static tdf_class_t run_remove(unsigned variant)
{
    memset(&g_script, 0, sizeof g_script);
    g_script.event_count = 1;
    g_script.events[0] = (tdf_event_t){(uint8_t)TDF_EV_REMOVE, 0};
    g_script.schedule = (sched_source_t){.kind = SCHED_SOURCE_BYTES};
    tdf_run_options_t opts = {.variant = variant, .full_trace = 1};
    tdf_class_t cls = tdf_run(&k_target, &g_script, &opts);
    char buf[256];
    g_nlines = 0;
    for (size_t i = 0; i < sched_trace_count() && g_nlines < MAX_LINES; i++) {
        sched_trace_format(sched_trace_at(i), buf, sizeof buf);
        if (strncmp(buf, "DbgPrint: ", 10) == 0)
            snprintf(g_lines[g_nlines++], sizeof g_lines[0], "%s", buf + 10);
    }
    if (getenv("LIFECYCLE_TRACE"))
        for (unsigned i = 0; i < g_nlines; i++)
            printf("  | %s\n", g_lines[i]);
    return cls;
}

static int pos(const char *text)
{
    for (unsigned i = 0; i < g_nlines; i++)
        if (strcmp(g_lines[i], text) == 0)
            return (int)i;
    return -1;
}

static unsigned count(const char *text)
{
    unsigned n = 0;
    for (unsigned i = 0; i < g_nlines; i++)
        n += strcmp(g_lines[i], text) == 0;
    return n;
}

/* Each line is there once at least, in this order. */
static int in_order(const char *const *want, int line)
{
    int ok = 1, last = -1;
    for (unsigned k = 0; want[k] && ok; k++) {
        int p = pos(want[k]);
        ok = p > last;
        if (!tdf_check(ok, __FILE__, line, "recorder lines in this order"))
            printf("    \"%s\" at %d, previous at %d (-1: missing)\n", want[k], p, last);
        last = p;
    }
    return ok;
}
#define IN_ORDER(...) in_order((const char *const[]){__VA_ARGS__, NULL}, __LINE__)

static void check_clean(tdf_class_t cls, int line)
{
    const tdf_failure_t *f = tdf_failure();
    if (!tdf_check(cls == TDF_CLASS_NONE, __FILE__, line, "the run ends with no finding") && f)
        printf("    %s %s: %s\n", tdf_class_name(f->cls), f->name, f->detail);
}
#define CHECK_CLEAN(result) check_clean((result), __LINE__)

/* The run ends with this bugcheck, the detail naming each of the strings. */
static void check_bugcheck(tdf_class_t cls, uint32_t code, uint32_t subcode, const char *const *words, int line)
{
    const tdf_failure_t *f = tdf_failure();
    int ok = cls == TDF_CLASS_BUGCHECK && f && f->code == code && f->subcode == subcode;
    if (!tdf_check(ok, __FILE__, line, "the run ends with this bugcheck")) {
        if (f)
            printf("    got %s 0x%X/0x%X %s: %s\n", tdf_class_name(f->cls), f->code, f->subcode, f->name, f->detail);
        return;
    }
    for (unsigned k = 0; words[k]; k++)
        tdf_check_str_contains(f->detail, words[k], __FILE__, line, "the detail names it");
}
#define CHECK_BUGCHECK(result, code, sub, ...) \
    check_bugcheck((result), (code), (sub), (const char *const[]){__VA_ARGS__, NULL}, __LINE__)

/* Rule 50: IoQueueWorkItem holds the device object until the routine returned. */
TEST(io_workitem_holds_the_device_until_its_routine_returned_then_destroy_and_unload)
{
    CHECK_CLEAN(run_remove(RECWI_CORRECT));
    /* Queued from the device's cleanup: without the hold the last reference
     * would go right after it (destroy, unload) and the routine would run in
     * an unloaded image. */
    IN_ORDER("device cleanup", "IO_WORKITEM routine", "device destroy", "EvtDriverUnload");
}

/* Rule 51: ExQueueWorkItem holds nothing: the unload with the item queued is 0xCE. */
TEST(ex_queue_work_item_holds_nothing_unload_with_it_queued_is_0xce)
{
    CHECK_BUGCHECK(run_remove(RECWI_EX_QUEUE), 0xCE, 0, "WORK_QUEUE_ITEM", "still queued", "RecWi_ExRoutine");
    IN_ORDER("device cleanup", "device destroy", "EvtDriverUnload");
    CHECK(pos("WORK_QUEUE_ITEM routine") < 0);
}

/* Rule 52: queueing an IO_WORKITEM that is queued is 0xE4 WORKER_INVALID/0x1. */
TEST(queueing_a_queued_io_workitem_is_0xe4_worker_invalid_0x1)
{
    CHECK_BUGCHECK(run_remove(RECWI_DOUBLE_QUEUE), 0xE4, 0x1, "already queued");
    CHECK(pos("IO_WORKITEM routine") < 0);
}

/* Rule 53: WdfWorkItemEnqueue of a queued WDFWORKITEM does nothing. */
TEST(wdf_work_item_enqueue_of_a_queued_item_does_nothing)
{
    CHECK_CLEAN(run_remove(RECWI_CORRECT));
    CHECK_EQ(count("W1 callback (parent is the device: 1)"), 1);
}

/* Rule 54: WdfWorkItemFlush returns after the callback. */
TEST(wdf_work_item_flush_returns_after_the_callback)
{
    CHECK_CLEAN(run_remove(RECWI_CORRECT));
    IN_ORDER("SelfManagedIoFlush", "W2 callback (parent is the device: 1)", "W2 flushed");
    CHECK_EQ(count("W2 callback (parent is the device: 1)"), 1);
}

/* Rule 55: deleting the parent waits for a queued callback, before the item's
 * cleanup and the parent's. */
TEST(parent_delete_waits_for_the_work_item_callback_before_its_cleanup_and_the_parents)
{
    CHECK_CLEAN(run_remove(RECWI_CORRECT));
    /* W1 was enqueued in Flush and nothing waited for it: its callback runs
     * when the delete waits for it, after the device's last PnP callback. */
    IN_ORDER("SelfManagedIoCleanup", "W1 callback (parent is the device: 1)", "W1 cleanup", "device cleanup");
}

/* Rule 56: children's cleanup before the parent's, deepest first; destroys after
 * the cleanups, children before their parent. */
TEST(delete_order_children_cleanup_before_parent_deepest_first_destroy_after)
{
    CHECK_CLEAN(run_remove(RECWI_CORRECT));
    IN_ORDER("W1 cleanup", "W2 cleanup", "L cleanup", "C cleanup", "device cleanup", "W1 destroy", "W2 destroy",
             "L destroy", "C destroy", "device destroy");
}

/* Rule 57: EvtDestroyCallback only when the last reference goes. */
TEST(destroy_callback_only_when_the_last_reference_goes)
{
    CHECK_CLEAN(run_remove(RECWI_CORRECT));
    IN_ORDER("C2 cleanup", "C2 deleted", "C2 destroy", "C2 dereferenced");
}

/* Rule 58: a collection references its items. */
TEST(collection_references_its_items_until_removed)
{
    CHECK_CLEAN(run_remove(RECWI_CORRECT));
    IN_ORDER("I cleanup", "I deleted, count 1, first/last/get(0) is I: 1, get(1) NULL: 1", "I destroy",
             "I removed, count 0", "C3 cleanup", "C3 destroy");
}

/* Rule 59: a lookaside list still initialised at unload is 0xCE naming it. */
TEST(lookaside_list_not_deleted_at_unload_is_0xce)
{
    CHECK_BUGCHECK(run_remove(RECWI_LOOKASIDE_LEAK), 0xCE, 0, "NPAGED_LOOKASIDE_LIST", "ExDeleteNPagedLookasideList",
                   "RecWi_EvtDeviceAdd");
    IN_ORDER("device destroy", "EvtDriverUnload");
    /* The correct variant deletes it in the device's destroy: no finding. */
    CHECK_CLEAN(run_remove(RECWI_CORRECT));
}

/* Not a LIFECYCLE rule: whose rundown (docs/REPORTS.md "Whose rundown"). A
 * rundown in a queue's context is named by that queue and its device, as one
 * in the device's context is by the device (model/wdf/device.c addr_owner). */
TEST(a_rundown_in_a_queue_context_is_named_by_the_queue)
{
    CHECK_EQ(run_remove(RECWI_QUEUE_RUNDOWN), TDF_CLASS_NONE);
    CHECK(pos("queue rundown run down") >= 0);
    int named = 0, unnamed = 0;
    char buf[256];
    for (size_t i = 0; i < sched_trace_count(); i++) {
        sched_trace_format(sched_trace_at(i), buf, sizeof buf);
        if (!strstr(buf, "rundown") || !strchr(buf, '['))
            continue;
        if (strstr(buf, "/FDO queue context RECWI_QUEUE_CONTEXT+0x8 (recwi)]"))
            named++;
        else
            unnamed++;
    }
    if (!CHECK(named >= 2 && unnamed == 0))
        printf("    %d rundown events name the queue, %d do not\n", named, unnamed);
}

int main(void) { return tdf_test_main(); }
