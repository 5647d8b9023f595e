/*
 * KDPC: deferred procedure calls (wdm.h names and signatures; semantics in
 * docs/KERNEL-SEMANTICS.md §8). Included by tdf/wdk.h.
 *
 * A queued DPC runs on one of the model's DPC processors: a model thread at
 * DISPATCH_LEVEL, concurrent with every other thread (another CPU). The
 * routine's KDPC is dequeued before the routine is called, so it may be
 * queued again (and run on the other processor) while its routine runs.
 * Drivers use the routines only, never the fields.
 */
#ifndef TDF_KE_DPC_H
#define TDF_KE_DPC_H

#ifdef __cplusplus
extern "C" {
#endif

struct _KDPC;
typedef VOID KDEFERRED_ROUTINE(_In_ struct _KDPC *Dpc, _In_opt_ PVOID DeferredContext,
                               _In_opt_ PVOID SystemArgument1, _In_opt_ PVOID SystemArgument2);
typedef KDEFERRED_ROUTINE *PKDEFERRED_ROUTINE;

typedef struct _KDPC {
    UCHAR Type;       /* DPC_NORMAL once initialised */
    UCHAR Importance; /* stored; the model's queue is FIFO whatever the importance */
    volatile USHORT Number;
    PKDEFERRED_ROUTINE DeferredRoutine;
    PVOID DeferredContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    PVOID DpcData; /* non-NULL while queued (as in the kernel) */
    /* model fields */
    struct tdf_image *TdfImage; /* the driver that initialised it: the unload check's owner */
    ULONG TdfMagic;             /* set by KeInitializeDpc: tells an initialised KDPC */
} KDPC, *PKDPC, *PRKDPC;

#define DPC_NORMAL 0
typedef enum _KDPC_IMPORTANCE { LowImportance, MediumImportance, HighImportance, MediumHighImportance } KDPC_IMPORTANCE;

VOID KeInitializeDpc(_Out_ PRKDPC Dpc, _In_ PKDEFERRED_ROUTINE DeferredRoutine, _In_opt_ PVOID DeferredContext);
/* FALSE if the DPC was already queued (nothing changes then). */
BOOLEAN KeInsertQueueDpc(_Inout_ PRKDPC Dpc, _In_opt_ PVOID SystemArgument1, _In_opt_ PVOID SystemArgument2);
/* TRUE if it dequeued the DPC; FALSE if it was not queued (possibly running). */
BOOLEAN KeRemoveQueueDpc(_Inout_ PRKDPC Dpc);
/* PASSIVE_LEVEL only: returns once every DPC queued or running at the call has returned. */
VOID KeFlushQueuedDpcs(void);
VOID KeSetImportanceDpc(_Inout_ PRKDPC Dpc, _In_ KDPC_IMPORTANCE Importance); /* not a yield point */

#ifdef __cplusplus
}
#endif
#endif
