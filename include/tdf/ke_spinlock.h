/*
 * wdm.h's spin-lock forms beyond KeAcquireSpinLock: the AtDpcLevel forms (the
 * caller is already at DISPATCH_LEVEL: no IRQL change) and in-stack queued
 * spin locks with their KLOCK_QUEUE_HANDLE (KERNEL-SEMANTICS §14). Included
 * by wdk.h.
 */
#ifndef TDF_KE_SPINLOCK_H
#define TDF_KE_SPINLOCK_H

#ifdef __cplusplus
extern "C" {
#endif

/* At IRQL >= DISPATCH_LEVEL only: below it, the caller could be preempted by
 * a thread that spins on the lock on the same processor (0xC4, Verifier). */
VOID KeAcquireSpinLockAtDpcLevel(_Inout_ PKSPIN_LOCK SpinLock);
VOID KeReleaseSpinLockFromDpcLevel(_Inout_ PKSPIN_LOCK SpinLock);

/* The waiter's queue entry lives in the caller's KLOCK_QUEUE_HANDLE (on its
 * stack), with the IRQL to restore. */
typedef struct _KSPIN_LOCK_QUEUE {
    struct _KSPIN_LOCK_QUEUE *volatile Next;
    PKSPIN_LOCK volatile Lock;
} KSPIN_LOCK_QUEUE, *PKSPIN_LOCK_QUEUE;
typedef struct _KLOCK_QUEUE_HANDLE {
    KSPIN_LOCK_QUEUE LockQueue;
    KIRQL OldIrql;
} KLOCK_QUEUE_HANDLE, *PKLOCK_QUEUE_HANDLE;

/* IRQL <= DISPATCH_LEVEL; raises to DISPATCH_LEVEL. */
VOID KeAcquireInStackQueuedSpinLock(_Inout_ PKSPIN_LOCK SpinLock, _Out_ PKLOCK_QUEUE_HANDLE LockHandle);
VOID KeReleaseInStackQueuedSpinLock(_In_ PKLOCK_QUEUE_HANDLE LockHandle);
/* IRQL >= DISPATCH_LEVEL, as KeAcquireSpinLockAtDpcLevel. */
VOID KeAcquireInStackQueuedSpinLockAtDpcLevel(_Inout_ PKSPIN_LOCK SpinLock, _Out_ PKLOCK_QUEUE_HANDLE LockHandle);
VOID KeReleaseInStackQueuedSpinLockFromDpcLevel(_In_ PKLOCK_QUEUE_HANDLE LockHandle);

#ifdef __cplusplus
}
#endif
#endif
