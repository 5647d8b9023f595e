/*
 * The sender (driver A of the seed): a root-enumerated device that opens the
 * receiver by name as a remote I/O target and keeps asynchronous
 * IOCTL_RCV_WAIT_EVENT requests pending there (stimulus a_send); its
 * completion routine runs in this image, on whatever thread completes the
 * request (the receiver's worker, or the thread that cancels).
 *
 * Protocol (correct variant), KERNEL-SEMANTICS §5 "Remote target":
 *  - The sender, not the receiver, cancels what it sent: WdfIoTargetPurge
 *    cancels every sent request (IoCancelIrp), which makes the framework call
 *    the receiver's EvtRequestCancel; PurgeIoAndWait returns once every
 *    completion routine has run. Afterwards new sends fail until
 *    WdfIoTargetStart (so a racing a_send cannot slip a request in).
 *  - EvtIoTargetQueryRemove: purge, then WdfIoTargetCloseForQueryRemove, so
 *    the receiver's QUERY_REMOVE / REMOVE can go on (REMOVE waits for every
 *    open handle). EvtIoTargetRemoveCanceled: reopen. EvtIoTargetRemoveComplete
 *    (after a remove, or after a surprise removal with the target still open):
 *    purge if open, WdfIoTargetClose.
 *  - Own removal (SelfManagedIoFlush): purge and close, before the device and
 *    the image can go: no completion routine may run after that.
 *  - A request is created per send and deleted by the completion routine (or
 *    at once if WdfRequestSend fails): nothing in the receiver can reach it
 *    after its completion.
 *  - Start/Stop/Purge/Close of the target never overlap: TargetLock, a
 *    passive-level lock (WdfIoTargetPurge with PurgeIoAndWait is PASSIVE_LEVEL).
 */
#include <tdf/harness.h>

#include "async_cancel_if.h"
#include "variants.h"

typedef enum _SND_TARGET_STATE {
    SndTargetClosed = 0,
    SndTargetOpen,
    SndTargetClosedForQueryRemove,
} SND_TARGET_STATE;

typedef struct _SND_CONTEXT {
    WDFIOTARGET Target;
    KEVENT TargetLock;              /* SynchronizationEvent, signalled = free; guards TargetState */
    SND_TARGET_STATE TargetState;
    volatile LONG Outstanding;      /* sent, completion routine not yet run */
    volatile LONG Succeeded, Cancelled, Failed;
} SND_CONTEXT, *PSND_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(SND_CONTEXT, SndGetContext)

static DECLARE_CONST_UNICODE_STRING(RCV_SYMBOLIC_LINK, RCV_SYMBOLIC_LINK_NAME);

DRIVER_INITIALIZE Snd_DriverEntry;
EVT_TDF_STIMULUS Snd_StimulusSend;
EVT_TDF_STIMULUS Snd_StimulusCancel;
static EVT_WDF_DRIVER_DEVICE_ADD Snd_EvtDeviceAdd;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT Snd_EvtDeviceSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_FLUSH Snd_EvtDeviceSelfManagedIoFlush;
static EVT_WDF_IO_TARGET_QUERY_REMOVE Snd_EvtIoTargetQueryRemove;
static EVT_WDF_IO_TARGET_REMOVE_CANCELED Snd_EvtIoTargetRemoveCanceled;
static EVT_WDF_IO_TARGET_REMOVE_COMPLETE Snd_EvtIoTargetRemoveComplete;
static EVT_WDF_REQUEST_COMPLETION_ROUTINE Snd_EvtRequestCompletion;

NTSTATUS Snd_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Snd_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static VOID Snd_LockTarget(PSND_CONTEXT context)
{
    KeWaitForSingleObject(&context->TargetLock, Executive, KernelMode, FALSE, NULL);
}

static VOID Snd_UnlockTarget(PSND_CONTEXT context)
{
    KeSetEvent(&context->TargetLock, IO_NO_INCREMENT, FALSE);
}

static NTSTATUS Snd_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDeviceSelfManagedIoInit = Snd_EvtDeviceSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoFlush = Snd_EvtDeviceSelfManagedIoFlush;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, SND_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;

    PSND_CONTEXT context = SndGetContext(device);
    KeInitializeEvent(&context->TargetLock, SynchronizationEvent, TRUE);
    /* A child of the device: deleting the device would close it too; we
     * close it ourselves, earlier (SelfManagedIoFlush). */
    return WdfIoTargetCreate(device, WDF_NO_OBJECT_ATTRIBUTES, &context->Target);
}

/* Caller holds TargetLock. */
static NTSTATUS Snd_OpenTarget(PSND_CONTEXT context)
{
    WDF_IO_TARGET_OPEN_PARAMS openParams;
    WDF_IO_TARGET_OPEN_PARAMS_INIT_OPEN_BY_NAME(&openParams, &RCV_SYMBOLIC_LINK, GENERIC_READ | GENERIC_WRITE);
    openParams.EvtIoTargetQueryRemove = Snd_EvtIoTargetQueryRemove;
    openParams.EvtIoTargetRemoveCanceled = Snd_EvtIoTargetRemoveCanceled;
    openParams.EvtIoTargetRemoveComplete = Snd_EvtIoTargetRemoveComplete;
    NTSTATUS status = WdfIoTargetOpen(context->Target, &openParams);
    context->TargetState = NT_SUCCESS(status) ? SndTargetOpen : SndTargetClosed;
    return status;
}

/* Caller holds TargetLock. Cancels every request sent and waits until each
 * completion routine has run (the receiver's EvtRequestCancel completes
 * them); new sends fail until WdfIoTargetStart. */
static VOID Snd_PurgeTarget(PSND_CONTEXT context)
{
    WdfIoTargetPurge(context->Target, WdfIoTargetPurgeIoAndWait);
}

static NTSTATUS Snd_EvtDeviceSelfManagedIoInit(WDFDEVICE Device)
{
    PSND_CONTEXT context = SndGetContext(Device);
    Snd_LockTarget(context);
    /* The receiver's stack starts first; if it is not there, we run without
     * it (a_send fails its requests). */
    (void)Snd_OpenTarget(context);
    Snd_UnlockTarget(context);
    return STATUS_SUCCESS;
}

/* Our own surprise removal or remove: nothing we sent may complete after
 * this returns, since after it our device and image may go. */
static VOID Snd_EvtDeviceSelfManagedIoFlush(WDFDEVICE Device)
{
    PSND_CONTEXT context = SndGetContext(Device);
    Snd_LockTarget(context);
    if (context->TargetState == SndTargetOpen)
        Snd_PurgeTarget(context); /* purge first: sends racing the close now fail */
    if (context->TargetState != SndTargetClosed)
        WdfIoTargetClose(context->Target);
    context->TargetState = SndTargetClosed;
    Snd_UnlockTarget(context);
}

/* GUID_TARGET_DEVICE_QUERY_REMOVE for the receiver: cancel what we sent and
 * release the handle, or its REMOVE waits forever. */
static NTSTATUS Snd_EvtIoTargetQueryRemove(WDFIOTARGET IoTarget)
{
    PSND_CONTEXT context = SndGetContext(WdfIoTargetGetDevice(IoTarget));
    Snd_LockTarget(context);
    if (IS_VARIANT(VARIANT_NO_PURGE))
        /* bug: lets the receiver "finish" what it holds; it holds them until
         * its next events, which never come while its removal waits. */
        WdfIoTargetStop(IoTarget, WdfIoTargetWaitForSentIoToComplete);
    else
        Snd_PurgeTarget(context); /* each cancel runs the receiver's EvtRequestCancel */
    WdfIoTargetCloseForQueryRemove(IoTarget);
    context->TargetState = SndTargetClosedForQueryRemove;
    Snd_UnlockTarget(context);
    return STATUS_SUCCESS;
}

/* Someone vetoed the receiver's removal: open it again. */
static VOID Snd_EvtIoTargetRemoveCanceled(WDFIOTARGET IoTarget)
{
    PSND_CONTEXT context = SndGetContext(WdfIoTargetGetDevice(IoTarget));
    Snd_LockTarget(context);
    if (context->TargetState == SndTargetClosedForQueryRemove)
        (void)Snd_OpenTarget(context);
    Snd_UnlockTarget(context);
}

/* The receiver is gone (after its remove, or its surprise removal, when the
 * target is still open): close for good. */
static VOID Snd_EvtIoTargetRemoveComplete(WDFIOTARGET IoTarget)
{
    PSND_CONTEXT context = SndGetContext(WdfIoTargetGetDevice(IoTarget));
    Snd_LockTarget(context);
    if (context->TargetState == SndTargetOpen)
        Snd_PurgeTarget(context);
    WdfIoTargetClose(IoTarget);
    context->TargetState = SndTargetClosed;
    Snd_UnlockTarget(context);
}

/* Runs in this image on the completing thread, at up to DISPATCH_LEVEL: no
 * waits. The request is ours (WdfRequestCreate): delete it here. */
static VOID Snd_EvtRequestCompletion(WDFREQUEST Request, WDFIOTARGET Target, PWDF_REQUEST_COMPLETION_PARAMS Params,
                                     WDFCONTEXT Context)
{
    PSND_CONTEXT context = Context;
    UNREFERENCED_PARAMETER(Target);

    if (NT_SUCCESS(Params->IoStatus_Status))
        InterlockedIncrement(&context->Succeeded);
    else if (Params->IoStatus_Status == STATUS_CANCELLED)
        InterlockedIncrement(&context->Cancelled);
    else
        InterlockedIncrement(&context->Failed);
    InterlockedDecrement(&context->Outstanding);
    WdfObjectDelete(Request);
}

static VOID Snd_SendOne(PSND_CONTEXT context)
{
    WDFREQUEST request;
    NTSTATUS status = WdfRequestCreate(WDF_NO_OBJECT_ATTRIBUTES, context->Target, &request);
    if (!NT_SUCCESS(status))
        return;
    status = WdfIoTargetFormatRequestForInternalIoctl(context->Target, request, IOCTL_RCV_WAIT_EVENT, NULL, NULL,
                                                      NULL, NULL);
    if (!NT_SUCCESS(status)) {
        WdfObjectDelete(request);
        return;
    }
    WdfRequestSetCompletionRoutine(request, Snd_EvtRequestCompletion, context);
    InterlockedIncrement(&context->Outstanding);
    /* No lock: the framework refuses sends to a purged or closed target
     * (FALSE, and the completion routine is not called). A stopped one (the
     * no_purge variant's) keeps them; its close completes them with
     * STATUS_WDF_DEVICE_REMOVED_NOT_SENT, counted as failed below. */
    if (!WdfRequestSend(request, context->Target, NULL)) {
        InterlockedDecrement(&context->Outstanding);
        InterlockedIncrement(&context->Failed);
        WdfObjectDelete(request);
    }
}

/* a_send: the sender's client asks to be told about the receiver's next
 * event(s): `burst` asynchronous requests. */
VOID Snd_StimulusSend(WDFDEVICE Device, ULONG Argument)
{
    PSND_CONTEXT context = SndGetContext(Device);
    ULONG burst = TdfParam("burst");
    UNREFERENCED_PARAMETER(Argument);
    for (ULONG i = 0; i < burst; i++)
        Snd_SendOne(context);
}

/* a_cancel: the sender's client went away: cancel everything pending at the
 * receiver and keep the target usable. */
VOID Snd_StimulusCancel(WDFDEVICE Device, ULONG Argument)
{
    PSND_CONTEXT context = SndGetContext(Device);
    UNREFERENCED_PARAMETER(Argument);
    Snd_LockTarget(context);
    if (context->TargetState == SndTargetOpen) {
        Snd_PurgeTarget(context);
        (void)WdfIoTargetStart(context->Target); /* sends work again */
    }
    Snd_UnlockTarget(context);
}
