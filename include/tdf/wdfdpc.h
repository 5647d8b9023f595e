/*
 * WDFDPC (wdfdpc.h names and signatures; KERNEL-SEMANTICS §8 "WDFDPC").
 * Included by wdf.h. The framework's DPC is a KDPC (tdf/ke_dpc.h) whose
 * routine calls EvtDpcFunc at DISPATCH_LEVEL on a DPC processor.
 */
#ifndef TDF_WDFDPC_H
#define TDF_WDFDPC_H

#ifdef __cplusplus
extern "C" {
#endif

#ifndef STATUS_INFO_LENGTH_MISMATCH
#define STATUS_INFO_LENGTH_MISMATCH ((NTSTATUS)0xC0000004L)
#endif
#ifndef STATUS_WDF_PARENT_NOT_SPECIFIED
#define STATUS_WDF_PARENT_NOT_SPECIFIED ((NTSTATUS)0xC0200212L)
#endif
#ifndef STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL
#define STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL ((NTSTATUS)0xC020020CL)
#endif

typedef struct WDFDPC__ *WDFDPC;
typedef VOID EVT_WDF_DPC(_In_ WDFDPC Dpc);
typedef EVT_WDF_DPC *PFN_WDF_DPC;

typedef struct _WDF_DPC_CONFIG {
    ULONG Size;
    PFN_WDF_DPC EvtDpcFunc;
    /* With the parent's synchronization scope Device or Queue, EvtDpcFunc runs
     * under the parent's callback lock (KERNEL-SEMANTICS §14). */
    BOOLEAN AutomaticSerialization;
} WDF_DPC_CONFIG, *PWDF_DPC_CONFIG;

static inline VOID WDF_DPC_CONFIG_INIT(_Out_ PWDF_DPC_CONFIG Config, _In_ PFN_WDF_DPC EvtDpcFunc)
{
    RtlZeroMemory(Config, sizeof(*Config));
    Config->Size = sizeof(WDF_DPC_CONFIG);
    Config->EvtDpcFunc = EvtDpcFunc;
    Config->AutomaticSerialization = TRUE;
}

/* Attributes->ParentObject is required and must have a WDFDEVICE among its
 * ancestors (the device, a queue, ...): STATUS_WDF_PARENT_NOT_SPECIFIED /
 * STATUS_INVALID_DEVICE_REQUEST otherwise. Deleting the parent flushes the
 * DPC (a queued one still runs) before the parent's cleanup. */
NTSTATUS WdfDpcCreate(_In_ PWDF_DPC_CONFIG Config, _In_ PWDF_OBJECT_ATTRIBUTES Attributes, _Out_ WDFDPC *Dpc);
/* KeInsertQueueDpc: FALSE if already queued. */
BOOLEAN WdfDpcEnqueue(_In_ WDFDPC Dpc);
/* KeRemoveQueueDpc; with Wait and not dequeued, KeFlushQueuedDpcs (PASSIVE_LEVEL only). */
BOOLEAN WdfDpcCancel(_In_ WDFDPC Dpc, _In_ BOOLEAN Wait);
WDFOBJECT WdfDpcGetParentObject(_In_ WDFDPC Dpc);
PKDPC WdfDpcWdmGetDpc(_In_ WDFDPC Dpc);

#ifdef __cplusplus
}
#endif
#endif
