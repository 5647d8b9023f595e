/*
 * Images and driver call stacks (model/kernel/image.c): the unload checks
 * (0xCE for a thread still in the image or a call into it afterwards,
 * 0xC4/0x62 for its pool left allocated), frame names, the registration of
 * any number of images, and the call-depth LIMIT. The test calls the hooks
 * tdf_add_image generates (tdf_image_enter/exit) itself, with functions of
 * this file standing in for driver routines.
 */
#include "../model/kernel/kernel.h"
#include "fiber_harness.h"
#include "tdf_test.h"

#include <stdio.h>

static struct tdf_image g_a = {.name = "imga"}, g_b = {.name = "imgb"};
static KEVENT g_never;
static char g_text[2][128];
static int g_reached_end;

/* Stand-ins for driver routines: only their addresses (and names) matter. */
void Imga_Routine(void);
void Imgb_Callback(void);
void Imga_Routine(void) {}
void Imgb_Callback(void) {}
#define FN_A ((void *)Imga_Routine)
#define FN_B ((void *)Imgb_Callback)

static void reset_globals(void)
{
    KeInitializeEvent(&g_never, NotificationEvent, FALSE);
    memset(g_text, 0, sizeof g_text);
    g_reached_end = 0;
    image_register(&g_a);
    image_register(&g_b);
}

static sched_outcome_t run(sched_fiber_fn *const *fns, unsigned n)
{
    return fh_run(fns, n, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals);
}

static void check_failure(sched_outcome_t outcome, tdf_class_t cls, uint32_t code, uint32_t subcode,
                          const char *where, const char *detail, int line)
{
    fh_check_failure(outcome, cls, code, subcode, NULL, where, detail, __FILE__, line);
}

/* ---- frames ------------------------------------------------------------------------- */
static void nested_frames(void *arg)
{
    (void)arg;
    image_load(&g_a);
    image_load(&g_b);
    tdf_image_enter(&g_a, FN_A, NULL);
    tdf_image_enter(&g_b, FN_B, NULL);
    image_current_frame(g_text[0], sizeof g_text[0]);
    image_caller_frame(g_text[1], sizeof g_text[1]);
    tdf_image_exit(&g_b, FN_B, NULL);
    tdf_image_exit(&g_a, FN_A, NULL);
    image_unload(&g_b);
    image_unload(&g_a);
    g_reached_end = image_current() == NULL;
}

TEST(frames_name_the_innermost_routine_and_its_caller_in_another_image)
{
    sched_fiber_fn *f = nested_frames;
    CHECK_EQ(run(&f, 1), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK_STR_CONTAINS(g_text[0], "imgb!Imgb_Callback");
    CHECK_STR_CONTAINS(g_text[1], "imga!Imga_Routine");
    CHECK(g_reached_end); /* stack empty again after the exits */
}

/* ---- unload while a thread is inside (0xCE) ---------------------------------------- */
static void parked_in_a(void *arg)
{
    (void)arg;
    tdf_image_enter(&g_a, FN_A, NULL);
    KeWaitForSingleObject(&g_never, Executive, KernelMode, FALSE, NULL); /* blocked inside imga */
}

static void unloader(void *arg)
{
    (void)arg;
    image_unload(&g_a);
    g_reached_end = 1;
}

static void load_then_park(void *arg)
{
    image_load(&g_a);
    parked_in_a(arg);
}

TEST(unload_with_a_thread_blocked_inside_is_0xCE)
{
    sched_fiber_fn *f[] = {load_then_park, unloader};
    check_failure(run(f, 2), TDF_CLASS_BUGCHECK, 0xCE, 0, "imga!Imga_Routine", "blocked there", __LINE__);
    CHECK(!g_reached_end);
    if (tdf_failure())
        CHECK_STR_CONTAINS(tdf_failure()->detail, "image 'imga' unloaded while thread");
}

static void load_enter_exit(void *arg)
{
    (void)arg;
    image_load(&g_a);
    tdf_image_enter(&g_a, FN_A, NULL);
    tdf_image_exit(&g_a, FN_A, NULL);
}

TEST(unload_after_every_thread_left_is_clean)
{
    sched_fiber_fn *f[] = {load_enter_exit, unloader};
    CHECK_EQ(run(f, 2), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK(g_reached_end);
    CHECK_EQ(g_a.state, TDF_IMAGE_UNLOADED);
    CHECK_EQ(g_a.loads, 1);
}

/* ---- call into an unloaded image (0xCE at the call) ---------------------------------- */
static void call_after_unload(void *arg)
{
    (void)arg;
    image_load(&g_a);
    image_load(&g_b);
    image_unload(&g_b);
    tdf_image_enter(&g_a, FN_A, NULL);
    tdf_image_enter(&g_b, FN_B, NULL); /* through a stale function pointer */
    g_reached_end = 1;
}

TEST(call_into_an_unloaded_image_is_0xCE_at_the_call)
{
    sched_fiber_fn *f = call_after_unload;
    check_failure(run(&f, 1), TDF_CLASS_BUGCHECK, 0xCE, 0, "imgb!Imgb_Callback",
                  "call into unloaded image 'imgb'", __LINE__);
    CHECK(!g_reached_end);
    if (tdf_failure())
        CHECK_STR_CONTAINS(tdf_failure()->caller, "imga!Imga_Routine");
}

/* ---- pool left at unload (0xC4/0x62) -------------------------------------------------- */
static int g_free_it;
#define TAG_LEAK 0x6B61654Cu /* 'Leak' in memory order */

static void allocate_in_a(void *arg)
{
    (void)arg;
    image_load(&g_a);
    tdf_image_enter(&g_a, FN_A, NULL);
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 24, TAG_LEAK);
    if (g_free_it)
        ExFreePoolWithTag(p, TAG_LEAK);
    tdf_image_exit(&g_a, FN_A, NULL);
    image_unload(&g_a);
    g_reached_end = 1;
}

TEST(unload_with_pool_still_allocated_is_0xC4_0x62)
{
    sched_fiber_fn *f = allocate_in_a;
    g_free_it = 0;
    check_failure(run(&f, 1), TDF_CLASS_BUGCHECK, 0xC4, 0x62, "imga!unload",
                  "1 pool allocation(s) still allocated (24 bytes, first tag 'Leak')", __LINE__);
    g_free_it = 1;
    CHECK_EQ(run(&f, 1), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK(g_reached_end);
}

/* ---- any number of images ---------------------------------------------------------- */
enum { MANY = 40 };
static struct tdf_image g_many[MANY];
static char g_many_names[MANY][8];

static void load_many(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < MANY; i++)
        image_load(&g_many[i]);
}

TEST(every_registered_image_is_reset_between_runs_however_many)
{
    for (unsigned i = 0; i < MANY; i++) {
        snprintf(g_many_names[i], sizeof g_many_names[i], "m%u", i);
        g_many[i].name = g_many_names[i];
        image_register(&g_many[i]);
        image_register(&g_many[i]); /* idempotent */
    }
    sched_fiber_fn *f = load_many;
    CHECK_EQ(run(&f, 1), SCHED_OUTCOME_DONE);
    CHECK_EQ(g_many[MANY - 1].state, TDF_IMAGE_LOADED);
    kernel_reset(); /* what the next run starts with */
    unsigned still_loaded = 0, loads = 0;
    for (unsigned i = 0; i < MANY; i++) {
        still_loaded += g_many[i].state != TDF_IMAGE_UNLOADED;
        loads += g_many[i].loads;
    }
    CHECK_EQ(still_loaded, 0);
    CHECK_EQ(loads, 0);
}

/* ---- call depth: a LIMIT, never frames the unload check cannot see ----------------- */
static unsigned g_depth;

static void deep_calls(void *arg)
{
    (void)arg;
    image_load(&g_a);
    for (unsigned i = 0; i < g_depth; i++)
        tdf_image_enter(&g_a, FN_A, NULL);
    for (unsigned i = 0; i < g_depth; i++)
        tdf_image_exit(&g_a, FN_A, NULL);
    image_unload(&g_a);
    g_reached_end = 1;
}

TEST(call_depth_up_to_the_limit_works_one_more_is_a_limit)
{
    sched_fiber_fn *f = deep_calls;
    g_depth = 48;
    CHECK_EQ(run(&f, 1), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK(g_reached_end);
    g_depth = 49;
    check_failure(run(&f, 1), TDF_CLASS_LIMIT, 0, 48, "imga!Imga_Routine",
                  "a thread's driver call stack is deeper, at imga!Imga_Routine; MAX_DEPTH is 48", __LINE__);
    CHECK(!g_reached_end);
}

int main(void) { return tdf_test_main(); }
