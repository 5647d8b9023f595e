/*
 * The device of fuzz_sync_scope: a root device whose driver relies on KMDF's
 * Device synchronization scope (KERNEL-SEMANTICS §14 "Synchronization
 * scope"). Its default queue's callbacks (and the cancel routine of the
 * request they keep) are serialized by the framework under the device's
 * callback lock, a spin lock (ExecutionLevel Dispatch): they run at
 * DISPATCH_LEVEL and touch the device context without a lock of their own.
 *
 * Protocol (correct variant):
 *  - IOCTL_SS_START: the client's request is kept (ctx->Pending, marked
 *    cancelable) until IOCTL_SS_ABORT, the timeout routine, or a cancel.
 *  - The timeout routine (stimulus `timeout`: a watchdog timer's routine, on
 *    a thread of its own) is not a queue callback: Device scope does not
 *    serialize it, so it takes the same lock with WdfObjectAcquireLock.
 *  - IOCTL_SS_SEND: one internal request to the lower device (remote I/O
 *    target) at a time, remembered in ctx->Sent under SentLock, a WDFSPINLOCK
 *    (its completion routine is not serialized either, and may run inside
 *    WdfRequestSend on this thread: it cannot take the device lock, which
 *    the sending callback holds, and the sender drops SentLock before it
 *    sends). The completion routine forgets and deletes it.
 *  - Stimulus `cancel_sent` (e.g. the client went away): takes a reference on
 *    ctx->Sent under SentLock, drops the lock, then
 *    WdfRequestCancelSentRequest and the reference
 *    ("Synchronizing Cancellation of Sent Requests").
 *  - Counters under StatsLock, an in-stack queued spin lock; the serialized
 *    callbacks are at DISPATCH_LEVEL and use the AtDpcLevel form, the
 *    completion routine (any IRQL <= DISPATCH_LEVEL) the raising form.
 *  - Own removal (SelfManagedIoFlush): complete the kept request (under the
 *    device lock), purge (cancel and wait) and close the target.
 */
#include <tdf/harness.h>

#include "sync_scope_if.h"
#include "variants.h"

typedef struct _SS_STATS {
    LONG Started, Aborted, TimedOut, Canceled, SentDone;
} SS_STATS;

typedef struct _SS_CONTEXT {
    WDFDEVICE Device;
    WDFREQUEST Pending;   /* the kept client request; the device callback lock guards it and Flushed */
    BOOLEAN Flushed;      /* SelfManagedIoFlush ran: keep nothing more */
    WDFIOTARGET Target;
    WDFSPINLOCK SentLock; /* guards Sent */
    WDFREQUEST Sent;
    KSPIN_LOCK StatsLock; /* in-stack queued; guards Stats */
    SS_STATS Stats;
    KEVENT TargetLock;    /* passive: open/purge/close of Target do not overlap */
    BOOLEAN TargetOpen;
} SS_CONTEXT, *PSS_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(SS_CONTEXT, SsGetContext)

static DECLARE_CONST_UNICODE_STRING(SS_LOWER_LINK, SS_LOWER_SYMBOLIC_LINK_NAME);

DRIVER_INITIALIZE Ss_DriverEntry;
EVT_TDF_STIMULUS Ss_StimulusTimeout;
EVT_TDF_STIMULUS Ss_StimulusCancelSent;
static EVT_WDF_DRIVER_DEVICE_ADD Ss_EvtDeviceAdd;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT Ss_EvtDeviceSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_FLUSH Ss_EvtDeviceSelfManagedIoFlush;
static EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL Ss_EvtIoDeviceControl;
static EVT_WDF_REQUEST_CANCEL Ss_EvtRequestCancel;
static EVT_WDF_REQUEST_COMPLETION_ROUTINE Ss_EvtSentCompletion;

NTSTATUS Ss_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Ss_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Ss_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_IO_QUEUE_CONFIG queueConfig;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDeviceSelfManagedIoInit = Ss_EvtDeviceSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoFlush = Ss_EvtDeviceSelfManagedIoFlush;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, SS_CONTEXT);
    /* The framework serializes the queue callbacks of this device. */
    attributes.SynchronizationScope = WdfSynchronizationScopeDevice;
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    PSS_CONTEXT context = SsGetContext(device);
    context->Device = device;
    KeInitializeSpinLock(&context->StatsLock);
    KeInitializeEvent(&context->TargetLock, SynchronizationEvent, TRUE);
    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    attributes.ParentObject = device;
    status = WdfSpinLockCreate(&attributes, &context->SentLock);
    if (!NT_SUCCESS(status))
        return status;

    /* Not power-managed: a kept request waits for abort, timeout or cancel,
     * not for D0. Scope inherited from the device. */
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queueConfig, WdfIoQueueDispatchParallel);
    queueConfig.PowerManaged = WdfFalse;
    queueConfig.EvtIoDeviceControl = Ss_EvtIoDeviceControl;
    status = WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
    if (!NT_SUCCESS(status))
        return status;
    return WdfIoTargetCreate(device, WDF_NO_OBJECT_ATTRIBUTES, &context->Target);
}

/* Counters from the serialized callbacks: already at DISPATCH_LEVEL (the
 * device callback lock is a spin lock). */
static VOID Ss_CountAtDpcLevel(PSS_CONTEXT context, LONG *counter)
{
    KLOCK_QUEUE_HANDLE lockHandle;
    KeAcquireInStackQueuedSpinLockAtDpcLevel(&context->StatsLock, &lockHandle);
    (*counter)++;
    KeReleaseInStackQueuedSpinLockFromDpcLevel(&lockHandle);
}

/* Counters from anywhere at IRQL <= DISPATCH_LEVEL. */
static VOID Ss_Count(PSS_CONTEXT context, LONG *counter)
{
    KLOCK_QUEUE_HANDLE lockHandle;
    KeAcquireInStackQueuedSpinLock(&context->StatsLock, &lockHandle);
    (*counter)++;
    KeReleaseInStackQueuedSpinLock(&lockHandle);
}

static NTSTATUS Ss_EvtDeviceSelfManagedIoInit(WDFDEVICE Device)
{
    PSS_CONTEXT context = SsGetContext(Device);
    WDF_IO_TARGET_OPEN_PARAMS openParams;
    KeWaitForSingleObject(&context->TargetLock, Executive, KernelMode, FALSE, NULL);
    /* Framework defaults for the lower device's removal: close for
     * query-remove, reopen on cancel, close on remove-complete. */
    WDF_IO_TARGET_OPEN_PARAMS_INIT_OPEN_BY_NAME(&openParams, &SS_LOWER_LINK, GENERIC_READ | GENERIC_WRITE);
    context->TargetOpen = NT_SUCCESS(WdfIoTargetOpen(context->Target, &openParams));
    KeSetEvent(&context->TargetLock, IO_NO_INCREMENT, FALSE);
    return STATUS_SUCCESS;
}

static VOID Ss_FinishPending(PSS_CONTEXT context, WDFREQUEST request, NTSTATUS status);

/* Our removal: nothing we sent may complete after this returns, and the kept
 * client request is completed here: the queue is not power-managed, so a
 * surprise removal does not purge it, and the REMOVE waits for the client's
 * handle, which closes only once its request completes. A PnP callback is
 * not serialized with the queue callbacks: take the device lock. */
static VOID Ss_EvtDeviceSelfManagedIoFlush(WDFDEVICE Device)
{
    PSS_CONTEXT context = SsGetContext(Device);
    WdfObjectAcquireLock(Device);
    /* A request the framework already dispatched may be waiting for the
     * lock: it must not be kept after this (the queue still dispatches). */
    context->Flushed = TRUE;
    if (context->Pending)
        Ss_FinishPending(context, context->Pending, STATUS_DELETE_PENDING);
    WdfObjectReleaseLock(Device);
    KeWaitForSingleObject(&context->TargetLock, Executive, KernelMode, FALSE, NULL);
    if (context->TargetOpen) {
        WdfIoTargetPurge(context->Target, WdfIoTargetPurgeIoAndWait); /* completion routines have run */
        WdfIoTargetClose(context->Target);
        context->TargetOpen = FALSE;
    }
    KeSetEvent(&context->TargetLock, IO_NO_INCREMENT, FALSE);
}

/* Serialized with the queue callbacks (Device scope), at DISPATCH_LEVEL. */
static VOID Ss_EvtRequestCancel(WDFREQUEST Request)
{
    PSS_CONTEXT context = SsGetContext(WdfIoQueueGetDevice(WdfRequestGetIoQueue(Request)));
    if (context->Pending == Request)
        context->Pending = NULL;
    Ss_CountAtDpcLevel(context, &context->Stats.Canceled);
    WdfRequestComplete(Request, STATUS_CANCELLED);
}

/* Caller holds the device callback lock. Takes the kept request and
 * completes it unless its cancel routine has it. */
static VOID Ss_FinishPending(PSS_CONTEXT context, WDFREQUEST request, NTSTATUS status)
{
    context->Pending = NULL;
    if (WdfRequestUnmarkCancelable(request) != STATUS_CANCELLED) /* else Ss_EvtRequestCancel completes it */
        WdfRequestComplete(request, status);
}

static VOID Ss_Send(PSS_CONTEXT context, WDFREQUEST client)
{
    WDFREQUEST request = NULL;
    WDF_OBJECT_ATTRIBUTES attributes;
    NTSTATUS status;
    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    status = WdfRequestCreate(&attributes, context->Target, &request);
    if (NT_SUCCESS(status))
        status = WdfIoTargetFormatRequestForInternalIoctl(context->Target, request, IOCTL_SS_LOWER_WORK, NULL, NULL,
                                                          NULL, NULL);
    if (!NT_SUCCESS(status)) {
        if (request)
            WdfObjectDelete(request);
        WdfRequestComplete(client, status);
        return;
    }
    WdfRequestSetCompletionRoutine(request, Ss_EvtSentCompletion, context);
    WdfSpinLockAcquire(context->SentLock);
    if (context->Sent) {
        WdfSpinLockRelease(context->SentLock);
        WdfObjectDelete(request);
        WdfRequestComplete(client, STATUS_DEVICE_BUSY);
        return;
    }
    context->Sent = request;
    /* Dropped before the send: the completion routine may run inside it. */
    WdfSpinLockRelease(context->SentLock);
    if (!WdfRequestSend(request, context->Target, WDF_NO_SEND_OPTIONS)) {
        WdfSpinLockAcquire(context->SentLock);
        if (context->Sent == request)
            context->Sent = NULL;
        WdfSpinLockRelease(context->SentLock);
        status = WdfRequestGetStatus(request);
        WdfObjectDelete(request);
        WdfRequestComplete(client, status);
        return;
    }
    WdfRequestComplete(client, STATUS_SUCCESS);
}

/* Serialized (Device scope), at DISPATCH_LEVEL. */
static VOID Ss_EvtIoDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                  size_t InputBufferLength, ULONG IoControlCode)
{
    PSS_CONTEXT context = SsGetContext(WdfIoQueueGetDevice(Queue));
    WDFREQUEST pending;
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);

    switch (IoControlCode) {
    case IOCTL_SS_START:
        if (context->Flushed || context->Pending) {
            WdfRequestComplete(Request, context->Flushed ? STATUS_DELETE_PENDING : STATUS_DEVICE_BUSY);
            return;
        }
        if (WdfRequestMarkCancelableEx(Request, Ss_EvtRequestCancel) == STATUS_CANCELLED) {
            WdfRequestComplete(Request, STATUS_CANCELLED);
            return;
        }
        context->Pending = Request;
        Ss_CountAtDpcLevel(context, &context->Stats.Started);
        return;
    case IOCTL_SS_ABORT:
        pending = context->Pending;
        if (pending) {
            Ss_FinishPending(context, pending, STATUS_CANCELLED);
            Ss_CountAtDpcLevel(context, &context->Stats.Aborted);
        }
        WdfRequestComplete(Request, STATUS_SUCCESS);
        return;
    case IOCTL_SS_SEND:
        Ss_Send(context, Request);
        return;
    default:
        WdfRequestComplete(Request, STATUS_NOT_SUPPORTED);
        return;
    }
}

/* timeout: the watchdog's routine, on a thread of its own at PASSIVE_LEVEL.
 * Not a queue callback: Device scope does not cover it. */
VOID Ss_StimulusTimeout(WDFDEVICE Device, ULONG Argument)
{
    PSS_CONTEXT context = SsGetContext(Device);
    UNREFERENCED_PARAMETER(Argument);
    BOOLEAN locked = !IS_VARIANT(VARIANT_TIMEOUT_UNLOCKED); /* bug: "the framework serializes this" */
    if (locked)
        WdfObjectAcquireLock(Device);
    WDFREQUEST pending = context->Pending;
    if (pending != NULL && !WdfRequestIsCanceled(pending)) {
        Ss_FinishPending(context, pending, STATUS_IO_TIMEOUT);
        Ss_Count(context, &context->Stats.TimedOut);
    }
    if (locked)
        WdfObjectReleaseLock(Device);
}

/* Not serialized: runs on the completing thread (the lower device's
 * stimulus thread, a canceler, the PnP thread), at any IRQL <= DISPATCH_LEVEL,
 * maybe inside WdfRequestSend. */
static VOID Ss_EvtSentCompletion(WDFREQUEST Request, WDFIOTARGET Target, PWDF_REQUEST_COMPLETION_PARAMS Params,
                                 WDFCONTEXT Context)
{
    PSS_CONTEXT context = Context;
    UNREFERENCED_PARAMETER(Target);
    UNREFERENCED_PARAMETER(Params);
    WdfSpinLockAcquire(context->SentLock);
    if (context->Sent == Request)
        context->Sent = NULL;
    WdfSpinLockRelease(context->SentLock);
    if (IS_VARIANT(VARIANT_COMPLETION_AT_DPC_LEVEL))
        Ss_CountAtDpcLevel(context, &context->Stats.SentDone); /* bug: "completion routines run at DISPATCH_LEVEL" */
    else
        Ss_Count(context, &context->Stats.SentDone);
    WdfObjectDelete(Request);
}

/* cancel_sent: the client that asked for the lower device's work went away
 * (a thread of its own at PASSIVE_LEVEL). */
VOID Ss_StimulusCancelSent(WDFDEVICE Device, ULONG Argument)
{
    PSS_CONTEXT context = SsGetContext(Device);
    UNREFERENCED_PARAMETER(Argument);
    WdfSpinLockAcquire(context->SentLock);
    WDFREQUEST sent = context->Sent;
    if (sent == NULL) {
        WdfSpinLockRelease(context->SentLock);
        return;
    }
    if (IS_VARIANT(VARIANT_CANCEL_UNDER_SPINLOCK)) {
        /* bug: the lower device's cancel routine completes the request on
         * this thread, and our completion routine takes SentLock. */
        (void)WdfRequestCancelSentRequest(sent);
        WdfSpinLockRelease(context->SentLock);
        return;
    }
    /* Our own reference: the completion routine may delete the request as
     * soon as the lock drops. */
    if (!IS_VARIANT(VARIANT_CANCEL_UNREFERENCED)) /* bug: no reference */
        WdfObjectReference(sent);
    WdfSpinLockRelease(context->SentLock);
    (void)WdfRequestCancelSentRequest(sent);
    if (!IS_VARIANT(VARIANT_CANCEL_UNREFERENCED))
        WdfObjectDereference(sent);
}
