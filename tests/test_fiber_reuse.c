/*
 * Thread ids and slots (model/sched/sched.h "Thread ids and slots"): a run may
 * make more than SCHED_MAX_FIBERS model threads over its life once earlier
 * ones finished; a new thread takes the lowest finished slot and starts with
 * the per-slot state of a fresh thread (IRQL, image stack, rundown count);
 * SCHED_MAX_FIBERS live threads stay a LIMIT; a finished thread keeps its id,
 * name and state for the reports, and its trace events are never merged with
 * those of the thread that took its slot. Runs that stay under
 * SCHED_MAX_FIBERS threads keep slot == id (their traces are unchanged: the
 * corpus and repro replay tests show it for every target).
 */
#include "../fuzz/report.h"
#include "../model/kernel/kernel.h"
#include "fiber_harness.h"
#include "tdf_test.h"

#include <stdio.h>

#define MANY 200

/* Exact string equality, printing both on failure. */
#define CHECK_STR_EQ(a, b)                                                                   \
    do {                                                                                     \
        const char *a_ = (a), *b_ = (b);                                                     \
        if (!CHECK(a_ && strcmp(a_, b_) == 0))                                               \
            printf("    \"%s\" != \"%s\"\n", a_ ? a_ : "(null)", b_);                         \
    } while (0)

static KEVENT g_never;
static int g_reached_end, g_made, g_ran;
static int g_ids[MANY + 8];
static int g_slots[MANY + 8];

static struct tdf_image g_img = {.name = "reuseimg"};
void Reuse_Routine(void);
void Reuse_Routine(void) {}
#define FN ((void *)Reuse_Routine)

static void reset_globals(void)
{
    KeInitializeEvent(&g_never, NotificationEvent, FALSE);
    g_reached_end = g_made = g_ran = 0;
    memset(g_ids, 0xff, sizeof g_ids);
    memset(g_slots, 0xff, sizeof g_slots);
    image_register(&g_img);
}

static sched_outcome_t run1(sched_fiber_fn *fn)
{
    return fh_run(&fn, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals);
}

/* Creates a system thread running `start` and waits until it ended. */
static int make_and_join(PKSTART_ROUTINE start, PVOID context)
{
    HANDLE h = NULL;
    PVOID obj = NULL;
    if (PsCreateSystemThread(&h, THREAD_ALL_ACCESS, NULL, NULL, NULL, start, context) != STATUS_SUCCESS)
        return 0;
    if (ObReferenceObjectByHandle(h, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, &obj, NULL) != STATUS_SUCCESS)
        return 0;
    ZwClose(h);
    KeWaitForSingleObject(obj, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(obj);
    return 1;
}

static int make_parked(PKSTART_ROUTINE start)
{
    HANDLE h = NULL;
    if (PsCreateSystemThread(&h, THREAD_ALL_ACCESS, NULL, NULL, NULL, start, NULL) != STATUS_SUCCESS)
        return 0;
    ZwClose(h);
    return 1;
}

/* ---- 200 short-lived threads in sequence ------------------------------------------- */
static VOID short_lived(PVOID arg)
{
    int i = (int)(intptr_t)arg;
    g_ids[i] = sched_current();
    g_slots[i] = sched_current_index();
    g_ran++;
    SCHED_TRACE1("short-lived %lu", (unsigned long)i);
}

static void many_in_sequence(void *arg)
{
    (void)arg;
    for (int i = 0; i < MANY; i++) {
        if (!make_and_join(short_lived, (PVOID)(intptr_t)i))
            return;
        g_made++;
    }
    g_reached_end = 1;
}

TEST(two_hundred_short_lived_threads_in_sequence_complete)
{
    CHECK_EQ(run1(many_in_sequence), SCHED_OUTCOME_DONE);
    if (!CHECK(tdf_failure() == NULL))
        printf("    %s %s\n", tdf_failure()->name, tdf_failure()->detail);
    CHECK(g_reached_end);
    CHECK_EQ(g_made, MANY);
    CHECK_EQ(g_ran, MANY);
    CHECK_EQ(sched_fiber_count(), MANY + 1); /* the creator (id 0) and one id per thread */
    int bad = 0;
    for (int i = 0; i < MANY; i++) {
        bad += g_ids[i] != i + 1;                                                        /* ids: spawn order */
        bad += i + 1 < SCHED_MAX_FIBERS ? g_slots[i] != i + 1 : g_slots[i] >= SCHED_MAX_FIBERS; /* slot == id first */
        bad += sched_fiber_state(i + 1) != SCHED_DONE;
        bad += strcmp(sched_fiber_name(i + 1), "short_lived") != 0;
    }
    CHECK_EQ(bad, 0);
    /* Slots reused: threads 64.. ran in a slot an earlier thread had. */
    CHECK(g_slots[MANY - 1] < g_ids[MANY - 1]);
    /* Each thread's trace event carries its own id, never its slot. */
    unsigned found = 0, wrong = 0;
    char buf[128];
    for (size_t i = 0; i < sched_trace_count(); i++) {
        unsigned long k;
        sched_trace_format(sched_trace_at(i), buf, sizeof buf);
        if (sscanf(buf, "short-lived %lu", &k) == 1) {
            found++;
            wrong += sched_trace_at(i)->fiber != (int)k + 1;
        }
    }
    CHECK_EQ(found, MANY);
    CHECK_EQ(wrong, 0u);
    /* The swimlanes: one lane per thread id, 200 of them named short_lived. */
    char *lanes = NULL;
    size_t lanes_len = 0;
    FILE *mem = open_memstream(&lanes, &lanes_len);
    tdf_print_swimlanes(mem);
    fclose(mem);
    char *eol = strchr(lanes, '\n');
    if (eol)
        *eol = 0;
    unsigned named = 0;
    for (const char *p = lanes; (p = strstr(p, "short_lived#")) != NULL; p++)
        named++;
    CHECK_EQ(named, MANY);
    CHECK_STR_CONTAINS(lanes, "short_lived#200 ");
    free(lanes);
    /* A finished thread whose slot went to another reads as a fresh one. */
    CHECK_EQ(sched_fiber_index(1), SCHED_SLOT_FINISHED);
    CHECK(sched_fiber_wait_reason(1) == NULL);
    CHECK(*sched_fiber_slot(1) == NULL);
}

/* ---- 65 live threads are a LIMIT, after slots were reused -------------------------- */
static VOID parked(PVOID arg)
{
    (void)arg;
    KeWaitForSingleObject(&g_never, Executive, KernelMode, FALSE, NULL);
}

static void reuse_then_park(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) /* ids 1..100 finished: every slot was used */
        if (!make_and_join(short_lived, (PVOID)(intptr_t)i))
            return;
    for (int i = 0; i < SCHED_MAX_FIBERS; i++) { /* the 64th live thread (with this one, the 65th) fails */
        if (!make_parked(parked))
            return;
        g_made++;
    }
    g_reached_end = 1;
}

TEST(sixty_five_live_threads_are_a_limit_after_reuse)
{
    sched_outcome_t o = run1(reuse_then_park);
    CHECK_EQ(o, SCHED_OUTCOME_ABORTED);
    const tdf_failure_t *f = tdf_failure();
    if (CHECK(f != NULL)) {
        CHECK_EQ(f->cls, TDF_CLASS_LIMIT);
        CHECK_STR_EQ(f->name, "SCHED_MAX_FIBERS");
        CHECK_STR_CONTAINS(f->detail, "PsCreateSystemThread");
    }
    CHECK_EQ(g_made, SCHED_MAX_FIBERS - 1); /* the creator is the 64th live thread */
    CHECK(!g_reached_end);
}

/* ---- a reused slot starts clean ---------------------------------------------------- */
static EX_RUNDOWN_REF g_ref;
static int g_dirty_slot, g_clean_slot, g_clean_irql, g_clean_held, g_old_held;
static char g_clean_frame[96], g_clean_stack[128];

/* Leaves per-slot state dirty: a rundown protection it does not release and
 * a driver frame (it ends inside the image with PsTerminateSystemThread,
 * which never returns). Not the IRQL: a thread that exits above
 * PASSIVE_LEVEL is 0x20 (the next test). */
static VOID dirty(PVOID arg)
{
    (void)arg;
    g_dirty_slot = sched_current_index();
    (void)ExAcquireRundownProtection(&g_ref);
    tdf_image_enter(&g_img, FN, NULL);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

static VOID clean(PVOID arg)
{
    (void)arg;
    g_clean_slot = sched_current_index();
    g_clean_irql = KeGetCurrentIrql();
    g_clean_held = ke_rundown_held(sched_current());
    image_current_frame(g_clean_frame, sizeof g_clean_frame);
    image_fiber_stack(sched_current(), g_clean_stack, sizeof g_clean_stack);
}

static void reuse_one_slot(void *arg)
{
    (void)arg;
    image_load(&g_img);
    ExInitializeRundownProtection(&g_ref);
    /* Slots 1..62 parked, slot 63 the dirty thread: the only finished slot
     * when the clean thread is made. */
    for (int i = 1; i < SCHED_MAX_FIBERS - 1; i++)
        if (!make_parked(parked))
            return;
    if (!make_and_join(dirty, NULL))
        return;
    int dirty_id = SCHED_MAX_FIBERS - 1;
    g_old_held = ke_rundown_held(dirty_id);
    if (!make_and_join(clean, NULL))
        return;
    /* The image unloads with no thread inside: the dirty thread's frame went
     * with it, none was handed to the clean one. */
    ExReleaseRundownProtection(&g_ref);
    image_unload(&g_img);
    KeSetEvent(&g_never, IO_NO_INCREMENT, FALSE);
    g_reached_end = 1;
}

TEST(a_reused_slot_starts_with_clean_per_thread_state)
{
    g_dirty_slot = g_clean_slot = -1;
    g_clean_irql = g_clean_held = g_old_held = -1;
    sched_outcome_t o = run1(reuse_one_slot);
    CHECK_EQ(o, SCHED_OUTCOME_DONE);
    if (!CHECK(tdf_failure() == NULL))
        printf("    %s %s\n", tdf_failure()->name, tdf_failure()->detail);
    CHECK(g_reached_end);
    CHECK_EQ(g_dirty_slot, SCHED_MAX_FIBERS - 1);
    CHECK_EQ(g_clean_slot, g_dirty_slot); /* the one finished slot */
    CHECK_EQ(g_clean_irql, PASSIVE_LEVEL);
    CHECK_EQ(g_clean_held, 0);
    CHECK_EQ(g_old_held, 1); /* before the reuse, the count was the dirty thread's */
    CHECK_STR_EQ(g_clean_frame, "harness");
    CHECK_STR_EQ(g_clean_stack, "(no driver frames)");
    CHECK_EQ(sched_fiber_count(), SCHED_MAX_FIBERS + 1);
    CHECK_EQ(sched_fiber_state(SCHED_MAX_FIBERS - 1), SCHED_DONE);
    CHECK_STR_EQ(sched_fiber_name(SCHED_MAX_FIBERS - 1), "dirty");
    CHECK_STR_EQ(sched_fiber_name(SCHED_MAX_FIBERS), "clean");
}

/* ---- the scheduler alone: spawns from a fiber once the table is full ------------- */
static int g_token;

static void count_one(void *arg)
{
    (void)arg;
    g_ran++;
    sched_wake(&g_token);
}

static void respawner(void *arg)
{
    (void)arg;
    /* Three rounds: wait until the 63 others ended, then spawn 63 more
     * (their slots are free again). */
    for (int round = 0; round < 3; round++) {
        while (g_ran < (round + 1) * (SCHED_MAX_FIBERS - 1))
            sched_block(&g_token, "the others");
        for (int i = 0; i < SCHED_MAX_FIBERS - 1; i++) {
            int id = sched_spawn("again", "test", count_one, NULL);
            if (id == SCHED_NO_FIBER)
                return;
            if (round == 0 && i < 2)
                g_slots[i] = sched_fiber_index(id), g_ids[i] = id;
        }
    }
    g_reached_end = 1;
}

TEST(sched_reuses_the_lowest_finished_slot_for_new_ids)
{
    sched_config_t cfg = {.source = {.kind = SCHED_SOURCE_BYTES}, .step_cap = 100000, .keep_full_trace = 1};
    sched_reset(&cfg);
    g_ran = 0, g_reached_end = 0;
    memset(g_ids, 0xff, sizeof g_ids);
    memset(g_slots, 0xff, sizeof g_slots);
    CHECK_EQ(sched_spawn("respawner", "test", respawner, NULL), 0);
    for (int i = 1; i < SCHED_MAX_FIBERS; i++)
        CHECK_EQ(sched_spawn("first", "test", count_one, NULL), i);
    CHECK_EQ(sched_spawn("no slot", "test", count_one, NULL), SCHED_NO_FIBER); /* 64 alive */
    CHECK_EQ(sched_run(), SCHED_OUTCOME_DONE);
    CHECK(g_reached_end);
    CHECK_EQ(g_ran, 4 * (SCHED_MAX_FIBERS - 1));
    CHECK_EQ(sched_fiber_count(), 4 * (SCHED_MAX_FIBERS - 1) + 1);
    /* The first new ids took slots 1 and 2, the lowest finished ones. */
    CHECK_EQ(g_ids[0], SCHED_MAX_FIBERS);
    CHECK_EQ(g_slots[0], 1);
    CHECK_EQ(g_ids[1], SCHED_MAX_FIBERS + 1);
    CHECK_EQ(g_slots[1], 2);
    CHECK_EQ(sched_fiber_index(SCHED_MAX_FIBERS), SCHED_SLOT_FINISHED); /* slot 1 went on to a later id */
    CHECK_EQ(sched_fiber_index(4 * (SCHED_MAX_FIBERS - 1)), SCHED_MAX_FIBERS - 1); /* the last id: the last slot */
    CHECK_STR_EQ(sched_fiber_name(5), "first");
    CHECK_STR_EQ(sched_fiber_name(SCHED_MAX_FIBERS + 5), "again");
    /* The next run starts from id 0 = slot 0 again. */
    sched_reset(&cfg);
    CHECK_EQ(sched_spawn("x", "test", count_one, NULL), 0);
    CHECK_EQ(sched_fiber_index(0), 0);
    CHECK_EQ(sched_fiber_count(), 1);
    CHECK_EQ(sched_run(), SCHED_OUTCOME_DONE);
}

int main(void) { return tdf_test_main(); }
