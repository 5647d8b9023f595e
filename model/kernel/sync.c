/*
 * Interlocked operations, shared plain reads/writes, spin locks and fast
 * mutexes. Each is a yield point first: the instant before the memory access
 * is where another CPU can get in.
 */
#include "kernel.h"
#include "tsan_sync.h"

#include <string.h>

/* Footprints (sched.h): an interlocked operation or a NoFence access is a
 * step on its address; a lock operation one on its lock. A release writes
 * the lock before its trailing yield, so it widens the step it ends
 * (sched_step_touch); the step after a release stays GLOBAL (the caller may
 * be model code). */
#define RMW_YIELD(addr)                          \
    do {                                         \
        ke_yield_on((const void *)(addr), SCHED_FP_WRITE); \
        feedback_pair((const void *)(addr), FB_INTERLOCKED); \
        TDF_HB_ACQUIRE(addr);                    \
    } while (0)
#define RMW_DONE(addr) TDF_HB_RELEASE(addr)

LONG InterlockedIncrement(LONG volatile *Addend)
{
    RMW_YIELD(Addend);
    LONG v = ++*Addend;
    RMW_DONE(Addend);
    return v;
}

LONG InterlockedDecrement(LONG volatile *Addend)
{
    RMW_YIELD(Addend);
    LONG v = --*Addend;
    RMW_DONE(Addend);
    return v;
}

LONG InterlockedExchange(LONG volatile *Target, LONG Value)
{
    RMW_YIELD(Target);
    LONG old = *Target;
    *Target = Value;
    RMW_DONE(Target);
    return old;
}

LONG InterlockedCompareExchange(LONG volatile *Destination, LONG Exchange, LONG Comparand)
{
    RMW_YIELD(Destination);
    LONG old = *Destination;
    if (old == Comparand)
        *Destination = Exchange;
    RMW_DONE(Destination);
    return old;
}

PVOID InterlockedExchangePointer(PVOID volatile *Target, PVOID Value)
{
    RMW_YIELD(Target);
    PVOID old = *Target;
    *Target = Value;
    RMW_DONE(Target);
    return old;
}

PVOID InterlockedCompareExchangePointer(PVOID volatile *Destination, PVOID Exchange, PVOID Comparand)
{
    RMW_YIELD(Destination);
    PVOID old = *Destination;
    if (old == Comparand)
        *Destination = Exchange;
    RMW_DONE(Destination);
    return old;
}

/* NoFence accesses carry no happens-before (they are relaxed in the WDK too). */
/* Traced with the value for integers; pointers only as null / non-null
 * (addresses differ between builds and runs). */
#define SHARED_READ(T, name, fmt, shown)       \
    T name(T const volatile *Source)           \
    {                                          \
        ke_yield_on((const void *)Source, SCHED_FP_READ); \
        feedback_pair((const void *)Source, FB_SHARED_READ); \
        T value = *Source;                     \
        SCHED_TRACE1(#name " -> " fmt, shown); \
        return value;                          \
    }
#define SHARED_WRITE(T, name, fmt, shown)        \
    VOID name(T volatile *Destination, T Value)  \
    {                                            \
        ke_yield_on((const void *)Destination, SCHED_FP_WRITE); \
        feedback_pair((const void *)Destination, FB_SHARED_WRITE); \
        *Destination = Value;                    \
        SCHED_TRACE1(#name " " fmt, shown);      \
    }
SHARED_READ(LONG, ReadNoFence, "%ld", (long)value)
SHARED_WRITE(LONG, WriteNoFence, "%ld", (long)Value)
SHARED_READ(ULONG, ReadULongNoFence, "%lu", (unsigned long)value)
SHARED_WRITE(ULONG, WriteULongNoFence, "%lu", (unsigned long)Value)
SHARED_READ(BOOLEAN, ReadBooleanNoFence, "%lu", (unsigned long)value)
SHARED_WRITE(BOOLEAN, WriteBooleanNoFence, "%lu", (unsigned long)Value)
SHARED_READ(PVOID, ReadPointerNoFence, "%s", value ? "non-NULL" : "NULL")
SHARED_WRITE(PVOID, WritePointerNoFence, "%s", Value ? "non-NULL" : "NULL")

/* ---- spin locks: value 0 free, else holder fiber + 1 ---------------------------- */
static ULONG_PTR self_token(void) { return (ULONG_PTR)(sched_current() + 2); }

VOID KeInitializeSpinLock(PKSPIN_LOCK SpinLock) { *SpinLock = 0; }

VOID KeAcquireSpinLock(PKSPIN_LOCK SpinLock, PKIRQL OldIrql)
{
    ke_yield_on(SpinLock, SCHED_FP_WRITE);
    ke_spin_check_recursion(SpinLock, "KeAcquireSpinLock"); /* DEADLOCK (spinlock.c) */
    if (*SpinLock != 0)
        ke_lock_waits(SpinLock, "KeAcquireSpinLock");
    while (*SpinLock != 0)
        ke_block(SpinLock, "spin lock"); /* another CPU spins: modelled as a wait */
    *SpinLock = self_token();
    feedback_pair(SpinLock, FB_LOCK_ACQUIRE);
    TDF_HB_ACQUIRE(SpinLock);
    ke_spin_note_acquired(SpinLock, "KeAcquireSpinLock");
    *OldIrql = ke_irql();
    ke_set_irql(DISPATCH_LEVEL);
    SCHED_TRACE0("KeAcquireSpinLock");
}

VOID KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    sched_step_touch(SpinLock, SCHED_FP_WRITE);
    if (*SpinLock != self_token())
        TDF_BUGCHECK(0x0, 0, "SPIN_LOCK_NOT_OWNED", "KeReleaseSpinLock on a spin lock this thread does not hold");
    TDF_HB_RELEASE(SpinLock);
    ke_spin_note_released(SpinLock);
    SCHED_TRACE0("KeReleaseSpinLock");
    *SpinLock = 0;
    ke_set_irql(NewIrql);
    sched_wake(SpinLock);
    ke_yield();
}

VOID ExInitializeFastMutex(PFAST_MUTEX FastMutex)
{
    FastMutex->Count = 1;
    FastMutex->Owner = NULL;
}

VOID ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    ke_yield_on(FastMutex, SCHED_FP_WRITE);
    ke_check_may_wait("ExAcquireFastMutex"); /* it may block: <= APC_LEVEL, never in a DPC */
    if (FastMutex->Count == 0 && FastMutex->Owner == (PVOID)self_token())
        TDF_MISUSE("ExAcquireFastMutex", "ExAcquireFastMutex on a mutex this thread already owns (self-deadlock)");
    if (FastMutex->Count == 0)
        ke_lock_waits(FastMutex, "ExAcquireFastMutex");
    while (FastMutex->Count == 0)
        ke_block(FastMutex, "fast mutex");
    ke_lock_held(FastMutex, "fast mutex", NULL);
    FastMutex->Count = 0;
    FastMutex->Owner = (PVOID)self_token();
    feedback_pair(FastMutex, FB_LOCK_ACQUIRE);
    TDF_HB_ACQUIRE(FastMutex);
    FastMutex->OldIrql = ke_irql(); /* nested mutexes: the inner release restores APC_LEVEL */
    ke_set_irql(APC_LEVEL);
    SCHED_TRACE0("ExAcquireFastMutex");
}

VOID ExReleaseFastMutex(PFAST_MUTEX FastMutex)
{
    sched_step_touch(FastMutex, SCHED_FP_WRITE);
    if (FastMutex->Count != 0 || FastMutex->Owner != (PVOID)self_token())
        TDF_MISUSE("ExReleaseFastMutex", "ExReleaseFastMutex on a mutex this thread does not own");
    TDF_HB_RELEASE(FastMutex);
    ke_lock_dropped(FastMutex);
    SCHED_TRACE0("ExReleaseFastMutex");
    FastMutex->Count = 1;
    FastMutex->Owner = NULL;
    ke_set_irql((KIRQL)FastMutex->OldIrql);
    sched_wake(FastMutex);
    ke_yield();
}

BOOLEAN IsEqualGUID(const GUID *a, const GUID *b) { return memcmp(a, b, sizeof *a) == 0; }
VOID RtlZeroMemory(PVOID Destination, SIZE_T Length) { memset(Destination, 0, Length); }
VOID RtlCopyMemory(PVOID Destination, const void *Source, SIZE_T Length) { memmove(Destination, Source, Length); }
