/*
 * The fatal pair (docs/REPORTS.md "Fatal pair", "Signatures"): teardown
 * records and what the oracles hand over (model/kernel/report.c, image.c),
 * the signature made from them, and the lock graph of a deadlock
 * (model/kernel/lock_graph.c). Functions of this file stand in for driver
 * routines, entered through the image hooks as test_image.c does.
 */
#include "../model/kernel/kernel.h"
#include "fiber_harness.h"
#include "tdf_test.h"

#include <stdio.h>

static struct tdf_image g_a = {.name = "imga"};
static KEVENT g_never;
static FAST_MUTEX g_m1, g_m2;
static EX_RUNDOWN_REF g_r1, g_r2, g_r3; /* r3: held by a cycle thread, drained by a victim */
static KEVENT g_r_taken; /* both rundowns are held: the waits may begin */
static LONG g_r_holders;

void Imga_Worker(void);
void Imga_Worker(void) {}
void Imga_TakeOneThenTwo(void);
void Imga_TakeOneThenTwo(void) {}
void Imga_TakeTwoThenOne(void);
void Imga_TakeTwoThenOne(void) {}
void Imga_DrainOne(void);
void Imga_DrainOne(void) {}
void Imga_DrainTwo(void);
void Imga_DrainTwo(void) {}
void Imga_Bystander(void);
void Imga_Bystander(void) {}
void Imga_Victim(void);
void Imga_Victim(void) {}

static struct tdf_image g_b = {.name = "imgb"};
void Imga_CallsB(void);
void Imga_CallsB(void) {}
void Imgb_Callback(void);
void Imgb_Callback(void) {}

static void reset_globals(void)
{
    KeInitializeEvent(&g_never, NotificationEvent, FALSE);
    ExInitializeFastMutex(&g_m1);
    ExInitializeFastMutex(&g_m2);
    ExInitializeRundownProtection(&g_r1);
    ExInitializeRundownProtection(&g_r2);
    ExInitializeRundownProtection(&g_r3);
    KeInitializeEvent(&g_r_taken, NotificationEvent, FALSE);
    g_r_holders = 0;
    image_register(&g_a);
    image_load(&g_a);
    image_register(&g_b);
    image_load(&g_b);
}

static void parked_in_a(void *arg)
{
    (void)arg;
    tdf_image_enter(&g_a, (void *)Imga_Worker, NULL);
    KeWaitForSingleObject(&g_never, Executive, KernelMode, FALSE, NULL);
}

static void unloader(void *arg)
{
    (void)arg;
    image_unload(&g_a);
}

/* The access side is the thread still inside, not the unloading one: the
 * failure's thread, its frame; the teardown is the unload by the other. */
TEST(unload_with_a_thread_inside_pairs_that_thread_with_the_unload)
{
    sched_fiber_fn *f[] = {parked_in_a, unloader};
    fh_run(f, 2, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals);
    const tdf_failure_t *fl = tdf_failure();
    CHECK(fl != NULL);
    if (!fl)
        return;
    CHECK_EQ(fl->fiber, 0);
    CHECK_EQ(fl->obj_kind, TDF_OBJ_IMAGE);
    CHECK_STR_CONTAINS(fl->obj_owner, "imga");
    CHECK_STR_CONTAINS(fl->access.frame, "imga!Imga_Worker");
    CHECK_EQ(fl->access.fiber, 0);
    CHECK(fl->teardown.present);
    CHECK_EQ(fl->teardown.fiber, 1);
    CHECK_STR_CONTAINS(fl->teardown.event, "unload image");
    CHECK(fl->teardown.step <= fl->step);
    char sig[320];
    tdf_failure_signature(fl, sig, sizeof sig);
    CHECK_STR_CONTAINS(sig, "image(imga):imga!Imga_Worker:unload");
}

/* docs/REPORTS.md "Signatures": a call from imga into imgb's callback that
 * finds imgb dead is keyed by the call, however far imgb's teardown had got:
 * the call landing on the unloaded image (0xCE at the call) and the thread
 * inside the callback when imgb unloads (0xCE at the unload) are one key. */
static void b_unloader(void *arg)
{
    (void)arg;
    image_unload(&g_b);
}


static void a_calls_b_now(void *arg)
{
    (void)arg;
    tdf_image_enter(&g_a, (void *)Imga_CallsB, NULL);
    tdf_image_enter(&g_b, (void *)Imgb_Callback, NULL); /* imgb unloaded by the first fiber: 0xCE here */
}

static void a_inside_b(void *arg)
{
    (void)arg;
    tdf_image_enter(&g_a, (void *)Imga_CallsB, NULL);
    tdf_image_enter(&g_b, (void *)Imgb_Callback, NULL);
    KeWaitForSingleObject(&g_never, Executive, KernelMode, FALSE, NULL); /* blocked inside imgb */
}

static void b_inside_from_harness(void *arg)
{
    (void)arg;
    tdf_image_enter(&g_b, (void *)Imgb_Callback, NULL);
    KeWaitForSingleObject(&g_never, Executive, KernelMode, FALSE, NULL);
}

static void signature_of_run(sched_fiber_fn **f, int n, char *sig, size_t size)
{
    sig[0] = 0;
    fh_run(f, n, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals);
    const tdf_failure_t *fl = tdf_failure();
    if (fl)
        tdf_failure_signature(fl, sig, size);
}

TEST(a_cross_driver_call_keys_by_the_call_whether_it_meets_the_unload_or_is_inside_at_it)
{
    char at_call[320], inside[320], harness[320];
    sched_fiber_fn *call[] = {b_unloader, a_calls_b_now};
    signature_of_run(call, 2, at_call, sizeof at_call);
    CHECK_EQ(tdf_failure() ? tdf_failure()->obj_kind : TDF_OBJ_NONE, TDF_OBJ_IMAGE); /* the pair still names it */
    sched_fiber_fn *in[] = {a_inside_b, b_unloader};
    signature_of_run(in, 2, inside, sizeof inside);
    CHECK_STR_CONTAINS(at_call, "call(imgb):imgb!Imgb_Callback:callee-teardown");
    CHECK_EQ(strcmp(at_call, inside), 0);
    /* entered from the harness, not from another driver: the image key as before */
    sched_fiber_fn *h[] = {b_inside_from_harness, b_unloader};
    signature_of_run(h, 2, harness, sizeof harness);
    CHECK_STR_CONTAINS(harness, "image(imgb):imgb!Imgb_Callback:unload");
}

/* AB-BA on two fast mutexes: every thread blocked, the lock graph names both
 * locks, their holders and the cycle; the key does not depend on which
 * thread blocked first. */
static void one_then_two(void *arg)
{
    (void)arg;
    tdf_image_enter(&g_a, (void *)Imga_TakeOneThenTwo, NULL);
    ExAcquireFastMutex(&g_m1);
    ExAcquireFastMutex(&g_m2);
    ExReleaseFastMutex(&g_m2);
    ExReleaseFastMutex(&g_m1);
}

static void two_then_one(void *arg)
{
    (void)arg;
    tdf_image_enter(&g_a, (void *)Imga_TakeTwoThenOne, NULL);
    ExAcquireFastMutex(&g_m2);
    ExAcquireFastMutex(&g_m1);
    ExReleaseFastMutex(&g_m1);
    ExReleaseFastMutex(&g_m2);
}

TEST(ab_ba_lock_cycle_names_each_lock_its_holder_and_the_cycle)
{
    sched_fiber_fn *f[] = {one_then_two, two_then_one};
    int found = 0;
    char first_key[200] = "";
    for (uint64_t seed = 1; seed <= 200 && found < 2; seed++) {
        sched_outcome_t o = fh_run(f, 2, (sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = seed}, reset_globals);
        if (o != SCHED_OUTCOME_DEADLOCK)
            continue;
        char cycle[240], key[200], first[96];
        int edges = lock_graph_describe(cycle, sizeof cycle, key, sizeof key, first, sizeof first);
        CHECK_EQ(edges, 2);
        CHECK_STR_CONTAINS(cycle, "holds L1 fast mutex (taken in imga!Imga_Take");
        CHECK_STR_CONTAINS(cycle, "wants L2 (held by test)");
        CHECK_STR_CONTAINS(cycle, "wants L1 (held by test)");
        CHECK_STR_CONTAINS(key, "fast-mutex@imga!Imga_TakeOneThenTwo+fast-mutex@imga!Imga_TakeTwoThenOne");
        if (found == 0)
            snprintf(first_key, sizeof first_key, "%s", key);
        else
            CHECK(strcmp(first_key, key) == 0);
        /* the blocked acquisitions are in the trace */
        CHECK(fh_trace_has("ExAcquireFastMutex blocks: fast mutex held by test"));
        found++;
    }
    CHECK(found >= 1);
}

/* No lock held by anyone: not a lock cycle (0 edges). */
static void waits_forever(void *arg)
{
    (void)arg;
    KeWaitForSingleObject(&g_never, Executive, KernelMode, FALSE, NULL);
}

TEST(all_blocked_on_an_event_is_not_a_lock_cycle)
{
    sched_fiber_fn *f[] = {waits_forever};
    CHECK_EQ(fh_run(f, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals), SCHED_OUTCOME_DEADLOCK);
    char cycle[240], key[200], first[96];
    CHECK_EQ(lock_graph_describe(cycle, sizeof cycle, key, sizeof key, first, sizeof first), 0);
    CHECK_STR_CONTAINS(cycle, "waits on KeWaitForSingleObject");
}

/* Rundown AB-BA: each thread holds one rundown and drains the other. The
 * wait graph sees the cycle through the rundowns' holders (wait_graph.c),
 * whatever the thread order; a bystander parked on its own event and a
 * victim draining a rundown a cycle thread holds are in the text, not in
 * the key. */
static void hold_then_drain(PEX_RUNDOWN_REF mine, PEX_RUNDOWN_REF other, void *fn)
{
    tdf_image_enter(&g_a, fn, NULL);
    ExAcquireRundownProtection(mine);
    ExAcquireRundownProtection(&g_r3);
    if (InterlockedIncrement(&g_r_holders) == 2)
        KeSetEvent(&g_r_taken, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(&g_r_taken, Executive, KernelMode, FALSE, NULL);
    ExWaitForRundownProtectionRelease(other);
}
static void drain_one(void *arg) { (void)arg; hold_then_drain(&g_r2, &g_r1, (void *)Imga_DrainOne); }
static void drain_two(void *arg) { (void)arg; hold_then_drain(&g_r1, &g_r2, (void *)Imga_DrainTwo); }
static void bystander(void *arg)
{
    (void)arg;
    tdf_image_enter(&g_a, (void *)Imga_Bystander, NULL);
    KeWaitForSingleObject(&g_never, Executive, KernelMode, FALSE, NULL);
}
static void victim(void *arg)
{
    (void)arg;
    tdf_image_enter(&g_a, (void *)Imga_Victim, NULL);
    KeWaitForSingleObject(&g_r_taken, Executive, KernelMode, FALSE, NULL);
    ExWaitForRundownProtectionRelease(&g_r3);
}

TEST(a_rundown_cycle_is_keyed_by_its_threads_not_by_victims_or_bystanders)
{
    sched_fiber_fn *orders[2][4] = {{drain_one, drain_two, bystander, victim}, {victim, bystander, drain_two, drain_one}};
    for (int o = 0; o < 2; o++) {
        CHECK_EQ(fh_run(orders[o], 4, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals),
                 SCHED_OUTCOME_DEADLOCK);
        wait_graph_report_t r;
        CHECK_EQ(wait_graph_describe(&r), WAIT_GRAPH_CYCLE);
        CHECK_STR_CONTAINS(r.side[0], "imga!Imga_DrainOne");
        CHECK_STR_CONTAINS(r.side[1], "imga!Imga_DrainTwo");
        CHECK(strstr(r.side[1], "Victim") == NULL && strstr(r.side[1], "Bystander") == NULL);
        CHECK_STR_CONTAINS(r.text, "(imga!Imga_Victim) waits for rundown");
        CHECK_STR_CONTAINS(r.text, "(imga!Imga_Bystander) waits for KeWaitForSingleObject");
    }
}

/* No cycle: the victim drains a rundown that a thread parked on an event
 * holds. That holder is the root, the victim is not in the key. */
static void holder_parks(void *arg)
{
    (void)arg;
    tdf_image_enter(&g_a, (void *)Imga_Bystander, NULL);
    ExAcquireRundownProtection(&g_r3);
    KeSetEvent(&g_r_taken, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(&g_never, Executive, KernelMode, FALSE, NULL);
}

TEST(a_rundown_wait_behind_a_parked_holder_is_keyed_by_the_holder)
{
    sched_fiber_fn *f[] = {victim, holder_parks};
    CHECK_EQ(fh_run(f, 2, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals), SCHED_OUTCOME_DEADLOCK);
    wait_graph_report_t r;
    CHECK_EQ(wait_graph_describe(&r), WAIT_GRAPH_ROOTS);
    CHECK_STR_CONTAINS(r.side[0], "imga!Imga_Bystander");
    CHECK_STR_CONTAINS(r.side[1], "threads"); /* one root, waiting on an event: nothing more to name */
    CHECK_STR_CONTAINS(r.text, "held by test");
}

/* Nobody waits for anybody: the old key of the stuck frames applies. */
TEST(threads_on_their_own_events_have_no_wait_graph)
{
    sched_fiber_fn *f[] = {bystander, waits_forever};
    CHECK_EQ(fh_run(f, 2, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals), SCHED_OUTCOME_DEADLOCK);
    wait_graph_report_t r;
    CHECK_EQ(wait_graph_describe(&r), WAIT_GRAPH_NONE);
}

int main(void) { return tdf_test_main(); }
