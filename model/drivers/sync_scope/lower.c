/*
 * The lower device of fuzz_sync_scope: a root device that takes
 * IOCTL_SS_LOWER_WORK requests and holds them, marked cancelable, until its
 * hardware finishes one (stimulus lower_complete, oldest first) or the
 * sender cancels it (EvtRequestCancel completes it with STATUS_CANCELLED).
 * Scope None: the list is guarded by an in-stack queued spin lock of its own
 * (KERNEL-SEMANTICS §14 "Spin locks"); callers run at PASSIVE_LEVEL (stimulus
 * threads, the PnP thread) or DISPATCH_LEVEL (the sender's serialized
 * callback), so it uses the raising form.
 */
#include <tdf/harness.h>

#include "sync_scope_if.h"
#include "variants.h"

typedef struct _LOW_CONTEXT {
    KSPIN_LOCK HeldLock; /* guards Held, HeldCount, Accepting */
    WDFREQUEST Held[SS_LOWER_MAX_HELD];
    ULONG HeldCount;
    BOOLEAN Accepting; /* FALSE from SelfManagedIoFlush on */
} LOW_CONTEXT, *PLOW_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(LOW_CONTEXT, LowGetContext)

static DECLARE_CONST_UNICODE_STRING(LOW_SYMBOLIC_LINK, SS_LOWER_SYMBOLIC_LINK_NAME);

DRIVER_INITIALIZE Low_DriverEntry;
EVT_TDF_STIMULUS Low_StimulusComplete;
static EVT_WDF_DRIVER_DEVICE_ADD Low_EvtDeviceAdd;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_FLUSH Low_EvtDeviceSelfManagedIoFlush;
static EVT_WDF_IO_QUEUE_IO_INTERNAL_DEVICE_CONTROL Low_EvtIoInternalDeviceControl;
static EVT_WDF_REQUEST_CANCEL Low_EvtRequestCancel;

NTSTATUS Low_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Low_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Low_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_IO_QUEUE_CONFIG queueConfig;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDeviceSelfManagedIoFlush = Low_EvtDeviceSelfManagedIoFlush;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, LOW_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;
    PLOW_CONTEXT context = LowGetContext(device);
    KeInitializeSpinLock(&context->HeldLock);
    context->Accepting = TRUE;

    /* Not power-managed: held requests wait for the hardware, not for D0; the
     * framework purges the queue at remove and cancels what we hold. */
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queueConfig, WdfIoQueueDispatchParallel);
    queueConfig.PowerManaged = WdfFalse;
    queueConfig.EvtIoInternalDeviceControl = Low_EvtIoInternalDeviceControl;
    status = WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
    if (!NT_SUCCESS(status))
        return status;
    return WdfDeviceCreateSymbolicLink(device, &LOW_SYMBOLIC_LINK);
}

/* Caller holds HeldLock. FALSE if the request is not on the list. */
static BOOLEAN Low_HeldRemove(PLOW_CONTEXT context, WDFREQUEST request)
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

static VOID Low_EvtIoInternalDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                           size_t InputBufferLength, ULONG IoControlCode)
{
    PLOW_CONTEXT context = LowGetContext(WdfIoQueueGetDevice(Queue));
    KLOCK_QUEUE_HANDLE lockHandle;
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);

    if (IoControlCode != IOCTL_SS_LOWER_WORK) {
        WdfRequestComplete(Request, STATUS_NOT_SUPPORTED);
        return;
    }
    KeAcquireInStackQueuedSpinLock(&context->HeldLock, &lockHandle);
    if (!context->Accepting || context->HeldCount == SS_LOWER_MAX_HELD) {
        NTSTATUS refused = context->Accepting ? STATUS_INSUFFICIENT_RESOURCES : STATUS_DELETE_PENDING;
        KeReleaseInStackQueuedSpinLock(&lockHandle);
        WdfRequestComplete(Request, refused);
        return;
    }
    /* Marked under the lock, listed before it drops: the cancel routine,
     * which may run as soon as MarkCancelableEx returns, waits for the lock
     * and finds it. Already canceled (the sender's cancel came first): ours
     * to complete. */
    if (WdfRequestMarkCancelableEx(Request, Low_EvtRequestCancel) == STATUS_CANCELLED) {
        KeReleaseInStackQueuedSpinLock(&lockHandle);
        WdfRequestComplete(Request, STATUS_CANCELLED);
        return;
    }
    context->Held[context->HeldCount++] = Request;
    KeReleaseInStackQueuedSpinLock(&lockHandle);
}

static VOID Low_EvtRequestCancel(WDFREQUEST Request)
{
    PLOW_CONTEXT context = LowGetContext(WdfIoQueueGetDevice(WdfRequestGetIoQueue(Request)));
    KLOCK_QUEUE_HANDLE lockHandle;
    KeAcquireInStackQueuedSpinLock(&context->HeldLock, &lockHandle);
    (void)Low_HeldRemove(context, Request); /* absent: a completer took it and saw STATUS_CANCELLED */
    KeReleaseInStackQueuedSpinLock(&lockHandle);
    WdfRequestComplete(Request, STATUS_CANCELLED);
}

/* Completes the oldest held request; FALSE when nothing is held. */
static BOOLEAN Low_CompleteOldest(PLOW_CONTEXT context, NTSTATUS Status)
{
    KLOCK_QUEUE_HANDLE lockHandle;
    KeAcquireInStackQueuedSpinLock(&context->HeldLock, &lockHandle);
    if (context->HeldCount == 0) {
        KeReleaseInStackQueuedSpinLock(&lockHandle);
        return FALSE;
    }
    WDFREQUEST request = context->Held[0];
    (void)Low_HeldRemove(context, request);
    /* Under the lock: a cancel routine that has the request is blocked on it
     * and has not completed it yet, so the handle is valid. */
    NTSTATUS status = WdfRequestUnmarkCancelable(request);
    KeReleaseInStackQueuedSpinLock(&lockHandle);
    if (status != STATUS_CANCELLED) /* else Low_EvtRequestCancel completes it */
        WdfRequestComplete(request, Status);
    return TRUE;
}

/* lower_complete: the lower device's hardware finished the oldest work item;
 * the sender's completion routine runs on this (passive) thread. */
VOID Low_StimulusComplete(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    (void)Low_CompleteOldest(LowGetContext(Device), STATUS_SUCCESS);
}

/* Surprise removal or remove: nothing stays pending once the device goes. */
static VOID Low_EvtDeviceSelfManagedIoFlush(WDFDEVICE Device)
{
    PLOW_CONTEXT context = LowGetContext(Device);
    KLOCK_QUEUE_HANDLE lockHandle;
    KeAcquireInStackQueuedSpinLock(&context->HeldLock, &lockHandle);
    context->Accepting = FALSE;
    KeReleaseInStackQueuedSpinLock(&lockHandle);
    while (Low_CompleteOldest(context, STATUS_CANCELLED))
        ;
}
