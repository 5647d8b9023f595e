/*
 * KTIMER: kernel timers (wdm.h names and signatures; semantics in
 * docs/KERNEL-SEMANTICS.md §8). Included by tdf/wdk.h after tdf/ke_dpc.h.
 *
 * There is no clock: a set timer is due at once, and its expiry is a step of
 * the model's clock thread that the schedule may place at any yield point
 * ("some time later", whatever DueTime says). At expiry the timer is
 * signalled (a dispatcher object: waits on it work) and its DPC, if any, is
 * queued. A periodic timer is due again once the other threads made progress
 * (docs/KERNEL-SEMANTICS.md §8 "Periods"). Drivers use the routines only,
 * never the fields.
 */
#ifndef TDF_KE_TIMER_H
#define TDF_KE_TIMER_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum _TIMER_TYPE { NotificationTimer, SynchronizationTimer } TIMER_TYPE;

typedef struct _KTIMER {
    DISPATCHER_HEADER Header; /* first: waits take it as the object */
    LARGE_INTEGER DueTime;    /* stored as given */
    struct _KDPC *Dpc;
    LONG Period;              /* milliseconds; 0: one-shot */
    /* model fields */
    struct tdf_image *TdfImage; /* the driver that initialised it: the unload check's owner */
    ULONG TdfMagic;
    UCHAR TdfInserted;          /* in the timer queue (set, not yet expired or periodic) */
} KTIMER, *PKTIMER, *PRKTIMER;

VOID KeInitializeTimer(_Out_ PKTIMER Timer); /* a notification timer */
VOID KeInitializeTimerEx(_Out_ PKTIMER Timer, _In_ TIMER_TYPE Type);
/* TRUE if the timer was already set (it is cancelled and set again). */
BOOLEAN KeSetTimer(_Inout_ PKTIMER Timer, _In_ LARGE_INTEGER DueTime, _In_opt_ struct _KDPC *Dpc);
BOOLEAN KeSetTimerEx(_Inout_ PKTIMER Timer, _In_ LARGE_INTEGER DueTime, _In_ LONG Period, _In_opt_ struct _KDPC *Dpc);
/* TRUE if the timer was set. Does not remove or wait for its DPC if that is
 * already queued or running. */
BOOLEAN KeCancelTimer(_Inout_ PKTIMER Timer);
BOOLEAN KeReadStateTimer(_In_ PKTIMER Timer);

#ifdef __cplusplus
}
#endif
#endif
