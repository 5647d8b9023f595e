/*
 * The return IRQL of a thread's outermost driver routine (docs/LIFECYCLE.md
 * rule 160; model/kernel/image.c irql_return_fail): a routine that the
 * framework, the kernel or the harness entered returns at the IRQL it was
 * entered at, and the code of the report is the check that catches it in
 * Windows, by who called the routine. Test functions run as model threads;
 * "driver routines" are test functions bracketed by the image hooks, as the
 * generated hooks bracket real driver code.
 */
#include "fiber_harness.h"

static struct tdf_image g_img = {.name = "irqlimg"};
void Irql_Routine(void);
void Irql_Routine(void) {}
#define FN ((void *)Irql_Routine)

static KSPIN_LOCK g_lock;
static KEVENT g_done;
static WORK_QUEUE_ITEM g_item;
static KDPC g_dpc;
static int g_returned;

/* A driver routine's body: enter the image, leave the IRQL raised by taking
 * g_lock (take_lock) or to raise_to (the shim has no KeRaiseIrql: set
 * directly), leave the image. */
static void driver_routine(int take_lock, KIRQL raise_to)
{
    tdf_image_enter(&g_img, FN, NULL);
    KIRQL old;
    if (take_lock)
        KeAcquireSpinLock(&g_lock, &old);
    else if (raise_to)
        ke_set_irql(raise_to);
    tdf_image_exit(&g_img, FN, NULL);
    g_returned = 1;
}

static void reset(void)
{
    image_register(&g_img);
    KeInitializeSpinLock(&g_lock);
    KeInitializeEvent(&g_done, NotificationEvent, FALSE);
    g_returned = 0;
}

static sched_outcome_t run1(sched_fiber_fn *fn)
{
    return fh_run(&fn, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset);
}

#define CHECK_FAILURE(outcome, code, sub, name, detail) \
    fh_check_failure((outcome), TDF_CLASS_BUGCHECK, (code), (sub), (name), "irqlimg!Irql_Routine", (detail), \
                     __FILE__, __LINE__)

/* ---- a routine the framework called (the default rule): KMDF's verifier, 0x10D/0xE ---------- */
static void callback_keeps_lock(void *arg)
{
    (void)arg;
    image_load(&g_img);
    driver_routine(1, 0);
}

TEST(a_callback_that_returns_holding_a_spin_lock_is_0x10d_0xe_naming_the_lock)
{
    CHECK_FAILURE(run1(callback_keeps_lock), 0x10D, 0xE, "WDF_VIOLATION",
                  "event callback irqlimg!Irql_Routine entered at IRQL 0 returned at IRQL 2; still held: spin lock");
    CHECK_EQ(g_returned, 0); /* stopped at the return */
}

static void callback_balanced(void *arg)
{
    (void)arg;
    image_load(&g_img);
    tdf_image_enter(&g_img, FN, NULL);
    KIRQL old;
    KeAcquireSpinLock(&g_lock, &old);
    KeReleaseSpinLock(&g_lock, old);
    ke_set_irql(DISPATCH_LEVEL); /* raised and lowered again inside: fine */
    ke_set_irql(old);
    tdf_image_exit(&g_img, FN, NULL);
    g_returned = 1;
}

TEST(a_callback_that_restores_its_irql_is_silent)
{
    CHECK_CLEAN(run1(callback_balanced));
    CHECK_EQ(g_returned, 1);
}

/* Entered at DISPATCH_LEVEL (a DPC-level callback): leaving at PASSIVE is as wrong as the other way. */
static void callback_drops_callers_irql(void *arg)
{
    (void)arg;
    image_load(&g_img);
    ke_set_irql(DISPATCH_LEVEL);
    tdf_image_enter(&g_img, FN, NULL);
    ke_set_irql(PASSIVE_LEVEL);
    tdf_image_exit(&g_img, FN, NULL);
    g_returned = 1;
}

TEST(a_callback_entered_at_dispatch_that_returns_at_passive_is_0x10d_0xe)
{
    CHECK_FAILURE(run1(callback_drops_callers_irql), 0x10D, 0xE, "WDF_VIOLATION",
                  "entered at IRQL 2 returned at IRQL 0");
}

/* Only the outermost routine: a nested one (a driver's own helper) may return raised. */
static void nested_helper_raises(void *arg)
{
    (void)arg;
    image_load(&g_img);
    tdf_image_enter(&g_img, FN, NULL);
    driver_routine(1, 0); /* the helper returns holding the lock */
    KeReleaseSpinLock(&g_lock, PASSIVE_LEVEL);
    tdf_image_exit(&g_img, FN, NULL);
}

TEST(a_nested_helper_may_return_raised_when_the_outer_routine_restores_it)
{
    CHECK_CLEAN(run1(nested_helper_raises));
    CHECK_EQ(g_returned, 1);
}

/* ---- a system thread's start routine: 0x20 --------------------------------------------------- */
static VOID thread_start_raised(PVOID arg)
{
    (void)arg;
    driver_routine(0, APC_LEVEL);
}

static VOID thread_terminates_raised(PVOID arg)
{
    (void)arg;
    tdf_image_enter(&g_img, FN, NULL);
    KIRQL old;
    KeAcquireSpinLock(&g_lock, &old);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

static void start_thread(PKSTART_ROUTINE start)
{
    image_load(&g_img);
    HANDLE h = NULL;
    if (PsCreateSystemThread(&h, THREAD_ALL_ACCESS, NULL, NULL, NULL, start, NULL) == STATUS_SUCCESS)
        ZwClose(h);
}

static void start_raised(void *arg) { (void)arg, start_thread(thread_start_raised); }
static void start_terminating(void *arg) { (void)arg, start_thread(thread_terminates_raised); }

TEST(a_system_thread_whose_start_routine_returns_raised_is_0x20)
{
    CHECK_FAILURE(run1(start_raised), 0x20, 0, "KERNEL_APC_PENDING_DURING_EXIT",
                  "system thread start routine irqlimg!Irql_Routine returned at IRQL 1");
}

TEST(a_system_thread_that_calls_ps_terminate_system_thread_raised_is_0x20)
{
    CHECK_FAILURE(run1(start_terminating), 0x20, 0, "KERNEL_APC_PENDING_DURING_EXIT",
                  "PsTerminateSystemThread at IRQL 2");
}

/* ---- a system worker's routine (ExQueueWorkItem): 0xE1 --------------------------------------- */
static VOID worker_raised(PVOID arg)
{
    (void)arg;
    driver_routine(1, 0);
}

static void queue_raised_worker(void *arg)
{
    (void)arg;
    image_load(&g_img);
    ExInitializeWorkItem(&g_item, worker_raised, NULL);
    ExQueueWorkItem(&g_item, DelayedWorkQueue);
}

TEST(a_work_item_routine_that_returns_raised_is_0xe1)
{
    CHECK_FAILURE(run1(queue_raised_worker), 0xE1, 0, "WORKER_THREAD_RETURNED_AT_BAD_IRQL",
                  "returned at IRQL 2 into the system worker thread that called it at IRQL 0; still held: spin lock");
}

/* ---- callers that check with their own code, or whose routine changes the IRQL by contract ---- */
static VOID dpc_lowers(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    (void)Dpc, (void)Context, (void)A1, (void)A2;
    tdf_image_enter(&g_img, FN, NULL);
    ke_set_irql(PASSIVE_LEVEL);
    tdf_image_exit(&g_img, FN, NULL);
}

static void queue_lowering_dpc(void *arg)
{
    (void)arg;
    image_load(&g_img);
    KeInitializeDpc(&g_dpc, dpc_lowers, NULL);
    KeInsertQueueDpc(&g_dpc, NULL, NULL);
}

TEST(a_dpc_routine_keeps_its_own_check_0xc8)
{
    sched_outcome_t o = run1(queue_lowering_dpc);
    fh_check_failure(o, TDF_CLASS_BUGCHECK, 0xC8, 0, "IRQL_UNEXPECTED_VALUE", NULL,
                     "returned at IRQL 0 instead of DISPATCH_LEVEL", __FILE__, __LINE__);
}

/* A routine bracketed as IRQL_RETURN_CALLER (a cancel routine, a CSQ lock callback) is not checked here. */
static void caller_checks(void *arg)
{
    (void)arg;
    image_load(&g_img);
    unsigned saved = image_irql_rule_begin(IRQL_RETURN_CALLER);
    driver_routine(1, 0);
    image_irql_rule_end(saved);
    KeReleaseSpinLock(&g_lock, PASSIVE_LEVEL); /* the caller's own protocol, as the CSQ's release callback */
    /* The rule is back to the default: the next routine that returns raised is reported. */
    driver_routine(1, 0);
}

TEST(a_routine_whose_caller_checks_is_not_reported_and_the_rule_is_restored)
{
    CHECK_FAILURE(run1(caller_checks), 0x10D, 0xE, "WDF_VIOLATION", "returned at IRQL 2");
    CHECK_EQ(g_returned, 1); /* the first, bracketed, routine returned */
}

int main(void) { return tdf_test_main(); }
