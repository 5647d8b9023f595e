/*
 * WDM work items (wdm.h): IO_WORKITEM (IoAllocateWorkItem / IoQueueWorkItem[Ex]
 * / IoFreeWorkItem, IoSizeofWorkItem + IoInitializeWorkItem /
 * IoUninitializeWorkItem) and the executive's WORK_QUEUE_ITEM
 * (ExInitializeWorkItem / ExQueueWorkItem). Included by wdk.h.
 * KERNEL-SEMANTICS §9 for what the model does: each queued item runs its
 * routine at PASSIVE_LEVEL on a system worker thread (a model thread of its
 * own, so items may run in any order and concurrently); an IO_WORKITEM holds
 * its device object (and so the driver) until the routine returned, a
 * WORK_QUEUE_ITEM holds nothing.
 */
#ifndef TDF_IO_WORKITEM_H
#define TDF_IO_WORKITEM_H

#include "list_entry.h" /* WORK_QUEUE_ITEM's List */

typedef enum _WORK_QUEUE_TYPE {
    CriticalWorkQueue = 0,
    DelayedWorkQueue = 1,
    HyperCriticalWorkQueue = 2,
    NormalWorkQueue = 3,
    BackgroundWorkQueue = 4,
    RealTimeWorkQueue = 5,
    SuperCriticalWorkQueue = 6,
    MaximumWorkQueue = 7,
} WORK_QUEUE_TYPE;

/* ---- IO_WORKITEM ---------------------------------------------------------------- */
typedef struct _IO_WORKITEM IO_WORKITEM, *PIO_WORKITEM; /* opaque: IoSizeofWorkItem bytes */
typedef VOID IO_WORKITEM_ROUTINE(_In_ PDEVICE_OBJECT DeviceObject, _In_opt_ PVOID Context);
typedef IO_WORKITEM_ROUTINE *PIO_WORKITEM_ROUTINE;
typedef VOID IO_WORKITEM_ROUTINE_EX(_In_ PVOID IoObject, _In_opt_ PVOID Context, _In_ PIO_WORKITEM IoWorkItem);
typedef IO_WORKITEM_ROUTINE_EX *PIO_WORKITEM_ROUTINE_EX;

/* DeviceObject: a WDFDEVICE's WdfDeviceWdmGetDeviceObject (the model's only
 * device objects). Not a yield point's worth of state: allocation only. */
PIO_WORKITEM IoAllocateWorkItem(_In_ PDEVICE_OBJECT DeviceObject);
/* A queued (not yet started) item: BUGCHECK 0xE4 WORKER_INVALID/0x2. */
VOID IoFreeWorkItem(_In_ PIO_WORKITEM IoWorkItem);
ULONG IoSizeofWorkItem(void);
/* IoObject: a device object or the driver object (DriverEntry's). */
VOID IoInitializeWorkItem(_In_ PVOID IoObject, _Out_ PIO_WORKITEM IoWorkItem);
VOID IoUninitializeWorkItem(_Inout_ PIO_WORKITEM IoWorkItem);
/* Queueing an item that is already queued: BUGCHECK 0xE4 WORKER_INVALID/0x1
 * (an item may be queued again once its routine started). */
VOID IoQueueWorkItem(_Inout_ PIO_WORKITEM IoWorkItem, _In_ PIO_WORKITEM_ROUTINE WorkerRoutine,
                     _In_ WORK_QUEUE_TYPE QueueType, _In_opt_ PVOID Context);
VOID IoQueueWorkItemEx(_Inout_ PIO_WORKITEM IoWorkItem, _In_ PIO_WORKITEM_ROUTINE_EX WorkerRoutine,
                       _In_ WORK_QUEUE_TYPE QueueType, _In_opt_ PVOID Context);

/* ---- WORK_QUEUE_ITEM (executive work items) ---------------------------------------- */
typedef VOID WORKER_THREAD_ROUTINE(_In_ PVOID Parameter);
typedef WORKER_THREAD_ROUTINE *PWORKER_THREAD_ROUTINE;
typedef struct _WORK_QUEUE_ITEM {
    LIST_ENTRY List; /* model: Flink is non-NULL while the item is queued */
    PWORKER_THREAD_ROUTINE WorkerRoutine;
    volatile PVOID Parameter;
} WORK_QUEUE_ITEM, *PWORK_QUEUE_ITEM;
/* A macro in the WDK; a routine here, not a yield point. */
VOID ExInitializeWorkItem(_Out_ PWORK_QUEUE_ITEM Item, _In_ PWORKER_THREAD_ROUTINE Routine, _In_opt_ PVOID Context);
/* Nothing keeps the driver loaded: an image that unloads while the item is
 * queued or its routine runs is 0xCE (KERNEL-SEMANTICS §9). Queueing an
 * item that is queued: 0xE4/0x1. */
VOID ExQueueWorkItem(_Inout_ PWORK_QUEUE_ITEM WorkItem, _In_ WORK_QUEUE_TYPE QueueType);

#endif
