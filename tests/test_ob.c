/*
 * Object references (model/kernel/dispatcher.c): ObReferenceObjectByHandle,
 * ObDereferenceObject and ZwClose on thread objects, the only
 * reference-counted kernel objects of the model, and on pointers that are no
 * such object (an event, driver memory), which the kernel would bugcheck on.
 */
#include "../model/kernel/kernel.h"
#include "fiber_harness.h"
#include "tdf_test.h"

#include <stdio.h>

static KEVENT g_never, g_event;
static NTSTATUS g_status[4];
static int g_reached_end;

static VOID worker(PVOID ctx)
{
    (void)ctx;
    KeWaitForSingleObject(&g_never, Executive, KernelMode, FALSE, NULL);
}

static void reset_globals(void)
{
    KeInitializeEvent(&g_never, NotificationEvent, FALSE);
    KeInitializeEvent(&g_event, SynchronizationEvent, FALSE);
    for (unsigned i = 0; i < 4; i++)
        g_status[i] = (NTSTATUS)0xEEEEEEEE;
    g_reached_end = 0;
}

static sched_outcome_t run1(sched_fiber_fn *fn)
{
    return fh_run(&fn, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals);
}

static void check_bugcheck(sched_outcome_t outcome, uint32_t code, const char *detail, int line)
{
    const tdf_failure_t *f = tdf_failure();
    tdf_check(outcome == SCHED_OUTCOME_ABORTED, __FILE__, line, "outcome == SCHED_OUTCOME_ABORTED");
    if (!tdf_check(f != NULL, __FILE__, line, "tdf_failure() != NULL"))
        return;
    if (!tdf_check(f->cls == TDF_CLASS_BUGCHECK && f->code == code, __FILE__, line, "bugcheck code"))
        printf("    got %s 0x%X (%s)\n", tdf_class_name(f->cls), f->code, f->detail);
    if (!tdf_check(strstr(f->detail, detail) != NULL, __FILE__, line, "failure detail"))
        printf("    detail:   \"%s\"\n    expected: \"%s\"\n", f->detail, detail);
    tdf_check(!g_reached_end, __FILE__, line, "the fiber stopped at the failure");
}

/* Handle + one reference, both dropped: clean. One drop too many: 0x18. */
static int g_extra_drop;

static void thread_refs(void *arg)
{
    (void)arg;
    HANDLE h = NULL;
    PVOID obj = NULL;
    g_status[0] = PsCreateSystemThread(&h, THREAD_ALL_ACCESS, NULL, NULL, NULL, worker, NULL);
    g_status[1] = ObReferenceObjectByHandle(h, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, &obj, NULL);
    g_status[2] = ZwClose(h);
    KeSetEvent(&g_never, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(obj, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(obj);
    if (g_extra_drop)
        ObDereferenceObject(obj);
    g_reached_end = 1;
}

TEST(thread_references_balance_and_one_drop_too_many_is_0x18)
{
    g_extra_drop = 0;
    CHECK_EQ(run1(thread_refs), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK(g_reached_end);
    CHECK_EQ(g_status[0], STATUS_SUCCESS);
    CHECK_EQ(g_status[1], STATUS_SUCCESS);
    CHECK_EQ(g_status[2], STATUS_SUCCESS);
    g_extra_drop = 1;
    check_bugcheck(run1(thread_refs), 0x18, "ObDereferenceObject on an object with no references left", __LINE__);
}

static void deref_event(void *arg)
{
    (void)arg;
    ObDereferenceObject(&g_event);
    g_reached_end = 1;
}

TEST(dereferencing_an_event_is_0x18_not_a_thread_count)
{
    check_bugcheck(run1(deref_event), 0x18, "which is not a reference-counted object", __LINE__);
    if (tdf_failure())
        CHECK_STR_CONTAINS(tdf_failure()->name, "REFERENCE_BY_POINTER");
}

static ULONG g_memory[16];

static void deref_memory(void *arg)
{
    (void)arg;
    g_memory[0] = 6; /* a first byte that looks like a thread's header type */
    ObDereferenceObject(g_memory);
    g_reached_end = 1;
}

TEST(dereferencing_driver_memory_is_0x18_even_with_a_thread_like_type_byte)
{
    check_bugcheck(run1(deref_memory), 0x18, "which is not a reference-counted object", __LINE__);
}

static void reference_event_handle(void *arg)
{
    (void)arg;
    PVOID obj = (PVOID)1;
    g_status[0] = ObReferenceObjectByHandle((HANDLE)&g_event, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, &obj,
                                            NULL);
    g_status[1] = obj == NULL;
    g_reached_end = 1;
}

TEST(referencing_by_a_handle_that_is_none_fails_with_invalid_handle)
{
    CHECK_EQ(run1(reference_event_handle), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK_EQ(g_status[0], (NTSTATUS)0xC0000008L); /* STATUS_INVALID_HANDLE */
    CHECK_EQ(g_status[1], 1);
}

static void close_event(void *arg)
{
    (void)arg;
    ZwClose((HANDLE)&g_event);
    g_reached_end = 1;
}

TEST(zwclose_of_a_handle_that_is_none_is_0x93)
{
    check_bugcheck(run1(close_event), 0x93, "ZwClose of a handle that is not a thread handle", __LINE__);
}

int main(void) { return tdf_test_main(); }
