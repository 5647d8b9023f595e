/*
 * Spin-lock forms beyond KeAcquireSpinLock (sync.c): the AtDpcLevel forms and
 * in-stack queued spin locks (KERNEL-SEMANTICS §14). Same encoding as sync.c:
 * the KSPIN_LOCK holds 0 when free, else the holder's token (fiber + 2), so a
 * lock taken with one form and released with another stays consistent.
 *
 * Every spin lock a thread holds is also noted here (lock, thread, routine,
 * step) so that a recursive acquire, which on Windows spins forever on its
 * own processor, is reported at once as DEADLOCK naming where the lock was
 * first taken, instead of ending as a step-cap HANG with no culprit.
 */
#include "kernel.h"
#include "tsan_sync.h"

#include <string.h>

#define MAX_HELD_SPIN_LOCKS 64

static struct held_spin_lock {
    const void *lock;
    int fiber;
    const char *routine;
    uint32_t step;
} g_held[MAX_HELD_SPIN_LOCKS];
static unsigned g_nheld;

void spinlock_reset(void) { g_nheld = 0; }

static ULONG_PTR self_token(void) { return (ULONG_PTR)(sched_current() + 2); }

void ke_spin_check_recursion(const void *lock, const char *routine)
{
    if (*(const volatile ULONG_PTR *)lock != self_token())
        return;
    const char *first = "an earlier acquire";
    uint32_t step = 0;
    for (unsigned i = 0; i < g_nheld; i++) {
        if (g_held[i].lock == lock && g_held[i].fiber == sched_current()) {
            first = g_held[i].routine;
            step = g_held[i].step;
        }
    }
    char here[96];
    image_current_frame(here, sizeof here);
    tdf_fail(TDF_CLASS_DEADLOCK, 0, 0, "SPIN_LOCK_RECURSION", here, first,
             "%s in %s on a spin lock this thread already holds (taken with %s at step %lu): the processor spins "
             "on a lock only it can release, forever",
             routine, here, first, (unsigned long)step);
}

void ke_spin_note_acquired(const void *lock, const char *routine)
{
    if (g_nheld >= MAX_HELD_SPIN_LOCKS) {
        TDF_LIMIT(MAX_HELD_SPIN_LOCKS, "model/kernel/spinlock.c", "more spin locks held at once");
        return;
    }
    g_held[g_nheld++] = (struct held_spin_lock){lock, sched_current(), routine, sched_steps()};
    ke_lock_held(lock, strncmp(routine, "Wdf", 3) == 0 ? "WDFSPINLOCK" : "spin lock", NULL);
}

void ke_spin_note_released(const void *lock)
{
    for (unsigned i = g_nheld; i-- > 0;) {
        if (g_held[i].lock == lock) {
            g_held[i] = g_held[--g_nheld];
            ke_lock_dropped(lock);
            return;
        }
    }
}

/* The acquire itself: one yield point before it (another CPU may take the
 * lock first), then a wait while someone else holds it. */
static void take(PKSPIN_LOCK lock, const char *routine)
{
    ke_spin_check_recursion(lock, routine);
    if (*lock != 0)
        ke_lock_waits(lock, routine);
    while (*lock != 0)
        ke_block(lock, "spin lock"); /* another CPU spins: modelled as a wait */
    *lock = self_token();
    feedback_pair(lock, FB_LOCK_ACQUIRE);
    TDF_HB_ACQUIRE(lock);
    ke_spin_note_acquired(lock, routine);
}

static int give_back(PKSPIN_LOCK lock, const char *routine)
{
    /* The release writes the lock before its yield: the step it ends does
     * (footprints, sched.h; KeAcquireSpinLock's step names the lock). */
    sched_step_touch(lock, SCHED_FP_WRITE);
    if (*lock != self_token()) {
        TDF_BUGCHECK(0x0, 0, "SPIN_LOCK_NOT_OWNED", "%s on a spin lock this thread does not hold", routine);
        return 0;
    }
    TDF_HB_RELEASE(lock);
    feedback_pair(lock, FB_LOCK_RELEASE);
    ke_spin_note_released(lock);
    *lock = 0;
    sched_wake(lock);
    return 1;
}

/* Below DISPATCH_LEVEL the AtDpcLevel forms leave the caller preemptible
 * while it holds (or spins on) the lock: a thread scheduled on the same
 * processor that wants the lock spins forever. Driver Verifier's IRQL
 * checking stops it at the call (0xC4, 0x40 acquire / 0x41 release). */
static void dpc_level_required(const char *routine, uint32_t subcode)
{
    if (ke_irql() >= DISPATCH_LEVEL)
        return;
    TDF_BUGCHECK(0xC4, subcode, "DRIVER_VERIFIER_DETECTED_VIOLATION",
                 "%s at IRQL %u: the caller must already run at DISPATCH_LEVEL (KeAcquireSpinLock / "
                 "KeAcquireInStackQueuedSpinLock raise it themselves)",
                 routine, (unsigned)ke_irql());
}

VOID KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    ke_yield();
    dpc_level_required("KeAcquireSpinLockAtDpcLevel", 0x40);
    take(SpinLock, "KeAcquireSpinLockAtDpcLevel");
    SCHED_TRACE0("KeAcquireSpinLockAtDpcLevel");
}

VOID KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    dpc_level_required("KeReleaseSpinLockFromDpcLevel", 0x41);
    if (!give_back(SpinLock, "KeReleaseSpinLockFromDpcLevel"))
        return;
    SCHED_TRACE0("KeReleaseSpinLockFromDpcLevel");
    ke_yield();
}

static void queued_acquire(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle, const char *routine)
{
    take(SpinLock, routine);
    LockHandle->LockQueue.Next = NULL;
    LockHandle->LockQueue.Lock = SpinLock;
}

/* The handle must be the one its acquire filled: it names the lock. A release
 * with a handle that holds nothing (never acquired, or released already)
 * breaks the strict acquire/release alternation Verifier's
 * QueuedSpinLockRelease rule checks (0xC4, 0x40007). */
static PKSPIN_LOCK queued_release(PKLOCK_QUEUE_HANDLE LockHandle, const char *routine)
{
    PKSPIN_LOCK lock = LockHandle->LockQueue.Lock;
    if (!lock || *lock != self_token()) {
        TDF_BUGCHECK(0xC4, 0x40007, "DRIVER_VERIFIER_DETECTED_VIOLATION",
                     "%s with a lock queue handle that holds no spin lock of this thread (not acquired, or "
                     "released already)",
                     routine);
        return NULL;
    }
    LockHandle->LockQueue.Lock = NULL;
    give_back(lock, routine);
    return lock;
}

VOID KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    ke_yield();
    if (ke_irql() > DISPATCH_LEVEL)
        TDF_MISUSE("KeAcquireInStackQueuedSpinLock", "KeAcquireInStackQueuedSpinLock above DISPATCH_LEVEL");
    queued_acquire(SpinLock, LockHandle, "KeAcquireInStackQueuedSpinLock");
    LockHandle->OldIrql = ke_irql();
    ke_set_irql(DISPATCH_LEVEL);
    SCHED_TRACE0("KeAcquireInStackQueuedSpinLock");
}

VOID KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle)
{
    if (!queued_release(LockHandle, "KeReleaseInStackQueuedSpinLock"))
        return;
    SCHED_TRACE0("KeReleaseInStackQueuedSpinLock");
    ke_set_irql(LockHandle->OldIrql);
    ke_yield();
}

VOID KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    ke_yield();
    dpc_level_required("KeAcquireInStackQueuedSpinLockAtDpcLevel", 0x40);
    queued_acquire(SpinLock, LockHandle, "KeAcquireInStackQueuedSpinLockAtDpcLevel");
    LockHandle->OldIrql = ke_irql();
    SCHED_TRACE0("KeAcquireInStackQueuedSpinLockAtDpcLevel");
}

VOID KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle)
{
    dpc_level_required("KeReleaseInStackQueuedSpinLockFromDpcLevel", 0x41);
    if (!queued_release(LockHandle, "KeReleaseInStackQueuedSpinLockFromDpcLevel"))
        return;
    SCHED_TRACE0("KeReleaseInStackQueuedSpinLockFromDpcLevel");
    ke_yield();
}
