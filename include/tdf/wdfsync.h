/*
 * wdfsync.h's locks: framework spin locks and an object's callback
 * (presentation) lock (KERNEL-SEMANTICS §14 "Locks and synchronization
 * scope"). Included by wdf.h; WDFWAITLOCK is declared there.
 */
#ifndef TDF_WDFSYNC_H
#define TDF_WDFSYNC_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct WDFSPINLOCK__ *WDFSPINLOCK;

/* Any IRQL <= DISPATCH_LEVEL. The lock is a child of ParentObject (the
 * driver when none). */
NTSTATUS WdfSpinLockCreate(_In_opt_ PWDF_OBJECT_ATTRIBUTES SpinLockAttributes, _Out_ WDFSPINLOCK *SpinLock);
/* Raises to DISPATCH_LEVEL; the release restores the IRQL of the acquire. A
 * second acquire by the holder spins forever: reported as DEADLOCK. */
VOID WdfSpinLockAcquire(_In_ WDFSPINLOCK SpinLock);
VOID WdfSpinLockRelease(_In_ WDFSPINLOCK SpinLock);

/* The callback lock of a WDFDEVICE or WDFQUEUE: the lock the framework holds
 * around the object's callbacks when its synchronization scope serializes
 * them (a spin lock, or a mutex with ExecutionLevel passive). A recursive
 * acquire is 0x10D/0x2 (WDF_RECURSIVE_LOCK). */
VOID WdfObjectAcquireLock(_In_ WDFOBJECT Object);
VOID WdfObjectReleaseLock(_In_ WDFOBJECT Object);

#ifdef __cplusplus
}
#endif
#endif
