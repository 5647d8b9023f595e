/*
 * The receiver (driver B of the seed): a root-enumerated software device that
 * publishes a symbolic link and keeps the sender's IOCTL_RCV_WAIT_EVENT
 * requests pending until its event source fires. Events (stimulus
 * b_complete) are turned into completions by the receiver's completion
 * worker thread, the receiver's own context, as a DPC or work item would.
 *
 * Protocol (correct variant), KERNEL-SEMANTICS §5 "Cancellation":
 *  - The default queue is parallel and not power-managed: a held request is
 *    a waiting notification, not hardware I/O, so idling must not stop it.
 *  - EvtIoInternalDeviceControl: under HeldLock, WdfRequestMarkCancelableEx
 *    (STATUS_CANCELLED: already canceled, complete it ourselves) and put the
 *    request on the Held list. MarkCancelableEx never calls the cancel
 *    routine itself, so holding the lock the routine takes is allowed.
 *  - Rcv_EvtRequestCancel (the sender's WdfIoTargetPurge cancels the IRP and
 *    the framework calls us): take the request off Held under HeldLock, then
 *    complete it with STATUS_CANCELLED. It always completes: whoever took the
 *    request off the list first, the cancel routine owns it now.
 *  - Completing a held request (worker, flush): under HeldLock take it off
 *    Held and WdfRequestUnmarkCancelable it; STATUS_CANCELLED means the cancel
 *    routine has it (it waits for HeldLock) and will complete it: we must not.
 *    Unmarking under the lock is what makes the handle safe to use: the cancel
 *    routine cannot have completed (and freed) it while we hold the lock.
 *  - SelfManagedIoFlush (surprise removal or remove): stop accepting, complete
 *    everything still held with STATUS_CANCELLED: the receiver does not rely
 *    on the sender to cancel before it goes away.
 *  - SelfManagedIoCleanup: stop the worker and wait for it: its code is in
 *    this image (KERNEL-SEMANTICS §3, last line).
 */
#include <tdf/harness.h>

#include "async_cancel_if.h"
#include "variants.h"

typedef struct _RCV_CONTEXT {
    KSPIN_LOCK HeldLock;            /* guards Held, HeldCount, Accepting */
    WDFREQUEST Held[RCV_MAX_HELD];  /* pending, marked cancelable; oldest first */
    ULONG HeldCount;
    BOOLEAN Accepting;              /* FALSE from SelfManagedIoFlush on */
    volatile LONG EventCredits;     /* b_complete events not yet turned into completions */
    volatile LONG EventSequence;
    KEVENT WorkEvent;
    KEVENT StopEvent;
    PKTHREAD Worker;
} RCV_CONTEXT, *PRCV_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(RCV_CONTEXT, RcvGetContext)

static DECLARE_CONST_UNICODE_STRING(RCV_SYMBOLIC_LINK, RCV_SYMBOLIC_LINK_NAME);

DRIVER_INITIALIZE Rcv_DriverEntry;
EVT_TDF_STIMULUS Rcv_StimulusEvent;
static EVT_WDF_DRIVER_DEVICE_ADD Rcv_EvtDeviceAdd;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT Rcv_EvtDeviceSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_FLUSH Rcv_EvtDeviceSelfManagedIoFlush;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP Rcv_EvtDeviceSelfManagedIoCleanup;
static EVT_WDF_IO_QUEUE_IO_INTERNAL_DEVICE_CONTROL Rcv_EvtIoInternalDeviceControl;
static EVT_WDF_REQUEST_CANCEL Rcv_EvtRequestCancel;
static KSTART_ROUTINE Rcv_WorkerThread;

NTSTATUS Rcv_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Rcv_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Rcv_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_IO_QUEUE_CONFIG queueConfig;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDeviceSelfManagedIoInit = Rcv_EvtDeviceSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoFlush = Rcv_EvtDeviceSelfManagedIoFlush;
    callbacks.EvtDeviceSelfManagedIoCleanup = Rcv_EvtDeviceSelfManagedIoCleanup;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, RCV_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;

    PRCV_CONTEXT context = RcvGetContext(device);
    KeInitializeSpinLock(&context->HeldLock);
    KeInitializeEvent(&context->WorkEvent, SynchronizationEvent, FALSE);
    KeInitializeEvent(&context->StopEvent, NotificationEvent, FALSE);
    context->Accepting = TRUE;

    /* Not power-managed: held requests wait for events, not for D0; the
     * framework still purges this queue at remove (after the children,
     * before SelfManagedIoCleanup) and cancels what we hold. */
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queueConfig, WdfIoQueueDispatchParallel);
    queueConfig.PowerManaged = WdfFalse;
    queueConfig.EvtIoInternalDeviceControl = Rcv_EvtIoInternalDeviceControl;
    status = WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
    if (!NT_SUCCESS(status))
        return status;
    return WdfDeviceCreateSymbolicLink(device, &RCV_SYMBOLIC_LINK);
}

/* Caller holds HeldLock. */
static VOID Rcv_HeldPush(PRCV_CONTEXT context, WDFREQUEST request)
{
    context->Held[context->HeldCount++] = request;
}

/* Caller holds HeldLock. Returns FALSE if the request is not on the list. */
static BOOLEAN Rcv_HeldRemove(PRCV_CONTEXT context, WDFREQUEST request)
{
    for (ULONG i = 0; i < context->HeldCount; i++) {
        if (context->Held[i] != request)
            continue;
        for (ULONG k = i + 1; k < context->HeldCount; k++)
            context->Held[k - 1] = context->Held[k];
        context->Held[--context->HeldCount] = NULL;
        return TRUE;
    }
    return FALSE;
}

static VOID Rcv_EvtIoInternalDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                           size_t InputBufferLength, ULONG IoControlCode)
{
    PRCV_CONTEXT context = RcvGetContext(WdfIoQueueGetDevice(Queue));
    NTSTATUS status;
    KIRQL irql;
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);

    if (IoControlCode != IOCTL_RCV_WAIT_EVENT) {
        WdfRequestComplete(Request, STATUS_NOT_SUPPORTED);
        return;
    }
    KeAcquireSpinLock(&context->HeldLock, &irql);
    if (!context->Accepting || context->HeldCount == RCV_MAX_HELD) {
        /* Read under the lock: the PnP thread clears Accepting under it (a
         * read after the release is a data race, TSan's report). */
        NTSTATUS refused = context->Accepting ? STATUS_INSUFFICIENT_RESOURCES : STATUS_DELETE_PENDING;
        KeReleaseSpinLock(&context->HeldLock, irql);
        WdfRequestComplete(Request, refused);
        return;
    }
    if (!IS_VARIANT(VARIANT_NOT_CANCELABLE)) { /* bug: nothing can cancel what we hold */
        /* The sender may have canceled it already (its purge ran while the
         * framework dispatched it to us): then the routine is not set and it
         * is ours to complete. */
        status = WdfRequestMarkCancelableEx(Request, Rcv_EvtRequestCancel);
        if (status == STATUS_CANCELLED) {
            KeReleaseSpinLock(&context->HeldLock, irql);
            WdfRequestComplete(Request, STATUS_CANCELLED);
            return;
        }
    }
    /* On the list before the lock drops: the cancel routine, which may run as
     * soon as MarkCancelableEx returned, waits for the lock and finds it. */
    Rcv_HeldPush(context, Request);
    KeReleaseSpinLock(&context->HeldLock, irql);
}

/* The framework calls this once the sender cancels the request (IoCancelIrp
 * from WdfIoTargetPurge / Close), or when it purges our queue at remove. */
static VOID Rcv_EvtRequestCancel(WDFREQUEST Request)
{
    PRCV_CONTEXT context = RcvGetContext(WdfIoQueueGetDevice(WdfRequestGetIoQueue(Request)));
    KIRQL irql;

    KeAcquireSpinLock(&context->HeldLock, &irql);
    if (!IS_VARIANT(VARIANT_CANCEL_KEEPS_ENTRY)) /* bug: a completed request stays on the list */
        (void)Rcv_HeldRemove(context, Request); /* absent: a completer took it and saw STATUS_CANCELLED */
    KeReleaseSpinLock(&context->HeldLock, irql);
    WdfRequestComplete(Request, STATUS_CANCELLED);
}

/* Completes the oldest held request with Status. Returns FALSE when nothing
 * is held. */
static BOOLEAN Rcv_CompleteOldest(PRCV_CONTEXT context, NTSTATUS Status, ULONG_PTR Information)
{
    WDFREQUEST request;
    NTSTATUS status = STATUS_SUCCESS;
    KIRQL irql;

    KeAcquireSpinLock(&context->HeldLock, &irql);
    if (context->HeldCount == 0) {
        KeReleaseSpinLock(&context->HeldLock, irql);
        return FALSE;
    }
    request = context->Held[0];
    (void)Rcv_HeldRemove(context, request);
    /* Still under the lock: if the cancel routine has the request, it is
     * blocked on HeldLock and has not completed it, so the handle is valid. */
    if (!IS_VARIANT(VARIANT_NO_UNMARK) && !IS_VARIANT(VARIANT_NOT_CANCELABLE)) /* no_unmark: bug */
        status = WdfRequestUnmarkCancelable(request);
    KeReleaseSpinLock(&context->HeldLock, irql);

    if (status == STATUS_CANCELLED && !IS_VARIANT(VARIANT_UNMARK_IGNORED)) /* unmark_ignored: bug */
        return TRUE; /* Rcv_EvtRequestCancel completes it */
    WdfRequestCompleteWithInformation(request, Status, Information);
    return TRUE;
}

static NTSTATUS Rcv_EvtDeviceSelfManagedIoInit(WDFDEVICE Device)
{
    PRCV_CONTEXT context = RcvGetContext(Device);
    HANDLE handle;
    NTSTATUS status = PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, Rcv_WorkerThread, context);
    if (!NT_SUCCESS(status))
        return status;
    ObReferenceObjectByHandle(handle, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, (PVOID *)&context->Worker, NULL);
    ZwClose(handle);
    return STATUS_SUCCESS;
}

/* Surprise removal or remove: the last point where the device is still ours.
 * Nothing may stay pending here once the device is gone. */
static VOID Rcv_EvtDeviceSelfManagedIoFlush(WDFDEVICE Device)
{
    PRCV_CONTEXT context = RcvGetContext(Device);
    KIRQL irql;

    KeAcquireSpinLock(&context->HeldLock, &irql);
    context->Accepting = FALSE; /* new requests fail from here on */
    KeReleaseSpinLock(&context->HeldLock, irql);
    while (Rcv_CompleteOldest(context, STATUS_CANCELLED, 0))
        ;
}

static VOID Rcv_EvtDeviceSelfManagedIoCleanup(WDFDEVICE Device)
{
    PRCV_CONTEXT context = RcvGetContext(Device);
    if (!context->Worker)
        return;
    KeSetEvent(&context->StopEvent, IO_NO_INCREMENT, FALSE);
    /* The worker's code is in this image, and it may still be inside a
     * completion (running the sender's completion routine): wait for it. */
    if (!IS_VARIANT(VARIANT_WORKER_NOT_JOINED)) /* bug: signals stop, never waits */
        KeWaitForSingleObject(context->Worker, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(context->Worker);
    context->Worker = NULL;
}

/* One completion per event; an event with nothing held is dropped. */
static VOID Rcv_WorkerThread(PVOID StartContext)
{
    PRCV_CONTEXT context = StartContext;
    PVOID waitObjects[2] = {&context->StopEvent, &context->WorkEvent};
    for (;;) {
        NTSTATUS status = KeWaitForMultipleObjects(2, waitObjects, WaitAny, Executive, KernelMode, FALSE, NULL, NULL);
        if (status == STATUS_WAIT_0)
            return; /* stop: SelfManagedIoCleanup waits for us */
        LONG credits;
        while ((credits = ReadNoFence(&context->EventCredits)) > 0) {
            if (InterlockedCompareExchange(&context->EventCredits, credits - 1, credits) != credits)
                continue;
            LONG sequence = InterlockedIncrement(&context->EventSequence);
            (void)Rcv_CompleteOldest(context, STATUS_SUCCESS, (ULONG_PTR)sequence);
        }
    }
}

/* The receiver's event source fires (an interrupt, a message from its own
 * client): one held request is to be completed, by the worker. */
VOID Rcv_StimulusEvent(WDFDEVICE Device, ULONG Argument)
{
    PRCV_CONTEXT context = RcvGetContext(Device);
    UNREFERENCED_PARAMETER(Argument);
    InterlockedIncrement(&context->EventCredits);
    KeSetEvent(&context->WorkEvent, IO_NO_INCREMENT, FALSE);
}
