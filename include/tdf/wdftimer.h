/*
 * WDFTIMER (wdftimer.h names and signatures; KERNEL-SEMANTICS §8 "WDFTIMER").
 * Included by wdf.h. The framework's timer is a KTIMER with a KDPC
 * (tdf/ke_timer.h): expiry is a schedule choice, whatever DueTime says.
 */
#ifndef TDF_WDFTIMER_H
#define TDF_WDFTIMER_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct WDFTIMER__ *WDFTIMER;
typedef VOID EVT_WDF_TIMER(_In_ WDFTIMER Timer);
typedef EVT_WDF_TIMER *PFN_WDF_TIMER;

typedef struct _WDF_TIMER_CONFIG {
    ULONG Size;
    PFN_WDF_TIMER EvtTimerFunc;
    ULONG Period; /* milliseconds; 0: one-shot */
    /* With the parent's synchronization scope Device or Queue, EvtTimerFunc
     * runs under the parent's callback lock (KERNEL-SEMANTICS §14). */
    BOOLEAN AutomaticSerialization;
    ULONG TolerableDelay;           /* stored, ignored (no clock) */
    BOOLEAN UseHighResolutionTimer; /* stored, ignored */
} WDF_TIMER_CONFIG, *PWDF_TIMER_CONFIG;

static inline VOID WDF_TIMER_CONFIG_INIT(_Out_ PWDF_TIMER_CONFIG Config, _In_ PFN_WDF_TIMER EvtTimerFunc)
{
    RtlZeroMemory(Config, sizeof(*Config));
    Config->Size = sizeof(WDF_TIMER_CONFIG);
    Config->EvtTimerFunc = EvtTimerFunc;
    Config->Period = 0;
    Config->AutomaticSerialization = TRUE;
    Config->TolerableDelay = 0;
}

static inline VOID WDF_TIMER_CONFIG_INIT_PERIODIC(_Out_ PWDF_TIMER_CONFIG Config, _In_ PFN_WDF_TIMER EvtTimerFunc,
                                                  _In_ LONG Period)
{
    WDF_TIMER_CONFIG_INIT(Config, EvtTimerFunc);
    Config->Period = (ULONG)Period;
}

/* wdfcore.h's time helpers: relative times are negative, absolute positive
 * (100 ns units); the model treats both as "some time later". */
#ifndef WDF_REL_TIMEOUT_IN_MS
#define WDF_REL_TIMEOUT_IN_SEC(Time) ((LONGLONG)(Time) * -10000000LL)
#define WDF_ABS_TIMEOUT_IN_SEC(Time) ((LONGLONG)(Time) * 10000000LL)
#define WDF_REL_TIMEOUT_IN_MS(Time) ((LONGLONG)(Time) * -10000LL)
#define WDF_ABS_TIMEOUT_IN_MS(Time) ((LONGLONG)(Time) * 10000LL)
#define WDF_REL_TIMEOUT_IN_US(Time) ((LONGLONG)(Time) * -10LL)
#define WDF_ABS_TIMEOUT_IN_US(Time) ((LONGLONG)(Time) * 10LL)
#endif

/* Attributes->ParentObject is required and must have a WDFDEVICE among its
 * ancestors: STATUS_WDF_PARENT_NOT_SPECIFIED / STATUS_INVALID_DEVICE_REQUEST
 * otherwise. ExecutionLevel WdfExecutionLevelPassive runs EvtTimerFunc at
 * PASSIVE_LEVEL on a framework worker thread (one-shot only: a periodic
 * passive timer is STATUS_NOT_SUPPORTED). Deleting the parent stops the
 * timer and waits for a running callback (WdfTimerStop(TRUE)) before the
 * parent's cleanup. */
NTSTATUS WdfTimerCreate(_In_ PWDF_TIMER_CONFIG Config, _In_ PWDF_OBJECT_ATTRIBUTES Attributes, _Out_ WDFTIMER *Timer);
/* TRUE if the timer was already in the timer queue (it is set again). A
 * start while a WdfTimerStop(TRUE) runs is ignored (FALSE). */
BOOLEAN WdfTimerStart(_In_ WDFTIMER Timer, _In_ LONGLONG DueTime);
/* TRUE if the timer was in the timer queue. Wait: also waits for a queued or
 * running callback (PASSIVE_LEVEL, never from the timer's own callback:
 * Verifier reports both, as MISUSE here). */
BOOLEAN WdfTimerStop(_In_ WDFTIMER Timer, _In_ BOOLEAN Wait);
WDFOBJECT WdfTimerGetParentObject(_In_ WDFTIMER Timer);

#ifdef __cplusplus
}
#endif
#endif
