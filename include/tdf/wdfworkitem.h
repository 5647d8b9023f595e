/*
 * KMDF work items (wdfworkitem.h). Included by wdf.h. KERNEL-SEMANTICS §9:
 * the parent must be a WDFDEVICE or have one as ancestor (a queue counts);
 * Enqueue of a queued item does nothing; the callback runs at PASSIVE_LEVEL
 * on a system worker thread, and the item (with its parent) and the driver
 * stay referenced while it is queued or running; deleting the item or its
 * parent waits for the callback (the framework's flush) before the item's
 * cleanup and the parent's. AutomaticSerialization takes the parent's
 * callback lock around the callback when the parent has a synchronization
 * scope (KERNEL-SEMANTICS §14); a spin-lock (non-passive) scope fails the
 * create with STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL.
 */
#ifndef TDF_WDFWORKITEM_H
#define TDF_WDFWORKITEM_H

typedef struct WDFWORKITEM__ *WDFWORKITEM;
typedef VOID EVT_WDF_WORKITEM(_In_ WDFWORKITEM WorkItem);
typedef EVT_WDF_WORKITEM *PFN_WDF_WORKITEM;

typedef struct _WDF_WORKITEM_CONFIG {
    ULONG Size;
    PFN_WDF_WORKITEM EvtWorkItemFunc;
    BOOLEAN AutomaticSerialization;
} WDF_WORKITEM_CONFIG, *PWDF_WORKITEM_CONFIG;

static inline VOID WDF_WORKITEM_CONFIG_INIT(_Out_ PWDF_WORKITEM_CONFIG Config, _In_ PFN_WDF_WORKITEM EvtWorkItemFunc)
{
    RtlZeroMemory(Config, sizeof(*Config));
    Config->Size = sizeof(*Config);
    Config->EvtWorkItemFunc = EvtWorkItemFunc;
    Config->AutomaticSerialization = TRUE; /* as the WDK's initializer */
}

#define STATUS_WDF_PARENT_NOT_SPECIFIED ((NTSTATUS)0xC0200212L)
#ifndef STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL
#define STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL ((NTSTATUS)0xC020020CL)
#endif
#ifndef STATUS_INVALID_DEVICE_REQUEST
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
#endif
#ifndef STATUS_INFO_LENGTH_MISMATCH
#define STATUS_INFO_LENGTH_MISMATCH ((NTSTATUS)0xC0000004L)
#endif

/* Attributes->ParentObject is required (STATUS_WDF_PARENT_NOT_SPECIFIED);
 * without a device ancestor: STATUS_INVALID_DEVICE_REQUEST. */
NTSTATUS WdfWorkItemCreate(_In_ PWDF_WORKITEM_CONFIG Config, _In_ PWDF_OBJECT_ATTRIBUTES Attributes,
                           _Out_ WDFWORKITEM *WorkItem);
VOID WdfWorkItemEnqueue(_In_ WDFWORKITEM WorkItem);
/* Waits until the item is neither queued nor running. From the item's own
 * callback it would deadlock: MISUSE (KMDF's verifier breaks in). */
VOID WdfWorkItemFlush(_In_ WDFWORKITEM WorkItem);
WDFOBJECT WdfWorkItemGetParentObject(_In_ WDFWORKITEM WorkItem);

/* wdfdevice.h in the WDK: the WDM device object under a WDFDEVICE (for
 * IoAllocateWorkItem and the other WDM routines that take one). */
PDEVICE_OBJECT WdfDeviceWdmGetDeviceObject(_In_ WDFDEVICE Device);

#endif
