/*
 * EX_RUNDOWN_REF with the kernel's encoding and rules (KERNEL-SEMANTICS §1).
 * Count = 2n while active with n holders; a waiter sets Count to the address
 * of a wait block on its own stack | EX_RUNDOWN_ACTIVE; after the wait, Count
 * is exactly EX_RUNDOWN_ACTIVE (run down). Each routine is a yield point
 * before it touches the count, where a real CPU could be preempted.
 *
 * Misuse that the real kernel would turn into silent corruption (underflow,
 * a stale stack wait block, an early wake) is reported at once as MISUSE with
 * an exact message naming the routine, the caller and the step.
 */
#include "kernel.h"
#include "tsan_sync.h"

#include <string.h>

#define EX_RUNDOWN_ACTIVE ((ULONG_PTR)0x1)
#define EX_RUNDOWN_COUNT_INC ((ULONG_PTR)0x2)

typedef struct rundown_wait_block {
    ULONG_PTR count; /* holders still to release */
    KEVENT wake;     /* model: blocked on &count */
    char caller[96]; /* model: the waiter's caller (image_caller_frame), for a second waiter's key */
} rundown_wait_block_t;

/* Rundown protections each thread holds now (acquired, not yet released by
 * it): the fatal pair's key says whether an access was made under one. A
 * release by another thread than the acquirer (legal) only lowers the
 * releaser's count if it has one. */
static uint16_t g_held[SCHED_SLOT_COUNT]; /* by slot (sched.h "Thread ids and slots") */

static uint16_t *held_of(int fiber) { return &g_held[sched_fiber_index(fiber)]; }

void rundown_reset(void) { memset(g_held, 0, sizeof g_held); }

/* A slot's new thread holds nothing. A count left by the slot's finished
 * thread is no leak to report: a protection it acquired may legally be
 * released by another thread (see above), so the count is attribution for
 * the fatal pair's key, not ownership. */
void rundown_slot_reset(int slot) { g_held[slot] = 0; }

int ke_rundown_held(int fiber) { return *held_of(fiber) != 0; }

static void misuse(const char *routine, const char *what)
{
    char here[96];
    image_current_frame(here, sizeof here);
    tdf_fail(TDF_CLASS_MISUSE, 0, 0, routine, here, NULL, "%s %s (%s, step %lu)", routine, what, here,
             (unsigned long)sched_steps());
}

/* After a wait that had to drain holders, the kernel leaves Count pointing at
 * the waiter's (now dead) stack wait block | EX_RUNDOWN_ACTIVE until
 * ExRundownCompleted or ExReInitializeRundownProtection. The model stores
 * this marker instead of the dead address, so every later use of the stale
 * block is reported instead of read. */
static rundown_wait_block_t g_stale_wait_block;
#define RUNDOWN_DRAINED ((ULONG_PTR)&g_stale_wait_block | EX_RUNDOWN_ACTIVE)

static int in_wait(ULONG_PTR c) { return (c & EX_RUNDOWN_ACTIVE) && c != EX_RUNDOWN_ACTIVE && c != RUNDOWN_DRAINED; }
static int run_down(ULONG_PTR c) { return c == EX_RUNDOWN_ACTIVE || c == RUNDOWN_DRAINED; }

VOID ExInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    /* Not a yield point: initialisation precedes publication of the object. */
    if (ke_irql() > APC_LEVEL)
        misuse("ExInitializeRundownProtection", "above APC_LEVEL");
    RunRef->Count = 0;
}

VOID ExReInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    ke_yield();
    ULONG_PTR c = RunRef->Count;
    if (c == 0)
        misuse("ExReInitializeRundownProtection", "without a prior ExWaitForRundownProtectionRelease");
    else if (in_wait(c))
        misuse("ExReInitializeRundownProtection", "while ExWaitForRundownProtectionRelease is still waiting");
    else if (!(c & EX_RUNDOWN_ACTIVE))
        misuse("ExReInitializeRundownProtection", "while the rundown is active with holders (not run down)");
    feedback_pair(RunRef, FB_RUNDOWN_REINIT);
    SCHED_TRACE0("rundown reinit");
    TDF_HB_RELEASE(RunRef); /* interlocked in the kernel: publishes what came before */
    RunRef->Count = 0;
}

BOOLEAN ExAcquireRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
    ke_yield();
    if (ke_irql() > DISPATCH_LEVEL)
        misuse("ExAcquireRundownProtection", "above DISPATCH_LEVEL");
    ULONG_PTR c = RunRef->Count;
    feedback_pair(RunRef, FB_RUNDOWN_ACQUIRE);
    if (c & EX_RUNDOWN_ACTIVE) {
        SCHED_TRACE0("rundown acquire -> FALSE (run down)");
        return FALSE;
    }
    RunRef->Count = c + (ULONG_PTR)Count * EX_RUNDOWN_COUNT_INC;
    (*held_of(sched_current()))++;
    TDF_HB_ACQUIRE(RunRef);
    SCHED_TRACE1("rundown acquire -> TRUE (%lu held)", (unsigned long)(RunRef->Count >> 1));
    return TRUE;
}

BOOLEAN ExAcquireRundownProtection(PEX_RUNDOWN_REF RunRef) { return ExAcquireRundownProtectionEx(RunRef, 1); }

VOID ExReleaseRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
    ke_yield();
    ULONG_PTR c = RunRef->Count;
    feedback_pair(RunRef, FB_RUNDOWN_RELEASE);
    TDF_HB_RELEASE(RunRef);
    if (run_down(c)) {
        misuse("ExReleaseRundownProtection", "after the rundown completed (no holder can exist)");
        return;
    }
    if (in_wait(c)) {
        rundown_wait_block_t *wb = (rundown_wait_block_t *)(c & ~EX_RUNDOWN_ACTIVE);
        if (wb->count < Count) {
            misuse("ExReleaseRundownProtection", "without a matching acquire");
            return;
        }
        wb->count -= Count;
        if (*held_of(sched_current()))
            (*held_of(sched_current()))--;
        SCHED_TRACE1("rundown release (waiter pending, %lu left)", (unsigned long)wb->count);
        if (wb->count == 0)
            KeSetEvent(&wb->wake, IO_NO_INCREMENT, FALSE); /* last holder wakes the waiter */
        return;
    }
    if ((c >> 1) < Count) {
        misuse("ExReleaseRundownProtection", "without a matching acquire");
        return;
    }
    RunRef->Count = c - (ULONG_PTR)Count * EX_RUNDOWN_COUNT_INC;
    if (*held_of(sched_current()))
        (*held_of(sched_current()))--;
    SCHED_TRACE1("rundown release (%lu held)", (unsigned long)(RunRef->Count >> 1));
}

VOID ExReleaseRundownProtection(PEX_RUNDOWN_REF RunRef) { ExReleaseRundownProtectionEx(RunRef, 1); }

VOID ExWaitForRundownProtectionRelease(PEX_RUNDOWN_REF RunRef)
{
    ke_yield();
    if (ke_irql() > APC_LEVEL)
        misuse("ExWaitForRundownProtectionRelease", "above APC_LEVEL (it blocks)");
    ULONG_PTR c = RunRef->Count;
    feedback_pair(RunRef, FB_RUNDOWN_WAIT);
    if (c == EX_RUNDOWN_ACTIVE) {
        SCHED_TRACE0("rundown wait: already run down");
        return; /* documented: no effect, not an error */
    }
    if (c == RUNDOWN_DRAINED) {
        misuse("ExWaitForRundownProtectionRelease",
               "again after a wait that drained holders, without ExRundownCompleted (stale wait block)");
        return;
    }
    if (in_wait(c)) {
        /* Two waits at once are equals: which of them came second is the
         * schedule's, so the key's other side is both callers, sorted
         * (docs/REPORTS.md "Signatures"). */
        const rundown_wait_block_t *first = (const rundown_wait_block_t *)(c & ~(ULONG_PTR)EX_RUNDOWN_ACTIVE);
        char here[96], mine[96], both[200];
        image_current_frame(here, sizeof here);
        image_caller_frame(mine, sizeof mine);
        const char *a = strncmp(mine, "thread:", 7) == 0 ? "thread" : mine;
        const char *b = strncmp(first->caller, "thread:", 7) == 0 ? "thread" : first->caller;
        if (strcmp(a, b) > 0) {
            const char *t = a;
            a = b;
            b = t;
        }
        snprintf(both, sizeof both, "%s+%s", a, b);
        tdf_fail(TDF_CLASS_MISUSE, 0, 0, "ExWaitForRundownProtectionRelease", here, both,
                 "ExWaitForRundownProtectionRelease while another wait on the same rundown is in progress (%s, "
                 "step %lu; the first waiter was called from %s)",
                 here, (unsigned long)sched_steps(), first->caller);
        return;
    }
    if (c == 0) {
        RunRef->Count = EX_RUNDOWN_ACTIVE;
        TDF_HB_ACQUIRE(RunRef);
        SCHED_TRACE0("rundown wait: no holders, run down");
        return;
    }
    rundown_wait_block_t wb = {.count = c >> 1};
    image_caller_frame(wb.caller, sizeof wb.caller);
    KeInitializeEvent(&wb.wake, NotificationEvent, FALSE);
    RunRef->Count = (ULONG_PTR)&wb | EX_RUNDOWN_ACTIVE;
    SCHED_TRACE1("rundown wait: %lu holder(s) to drain", (unsigned long)wb.count);
    KeWaitForSingleObject(&wb.wake, Executive, KernelMode, FALSE, NULL);
    RunRef->Count = RUNDOWN_DRAINED;
    TDF_HB_ACQUIRE(RunRef);
    SCHED_TRACE0("rundown wait: drained, run down");
}

VOID ExRundownCompleted(PEX_RUNDOWN_REF RunRef)
{
    ke_yield();
    ULONG_PTR c = RunRef->Count;
    if (!(c & EX_RUNDOWN_ACTIVE))
        misuse("ExRundownCompleted", "before ExWaitForRundownProtectionRelease");
    else if (in_wait(c))
        misuse("ExRundownCompleted", "while ExWaitForRundownProtectionRelease is still waiting");
    RunRef->Count = EX_RUNDOWN_ACTIVE;
}
