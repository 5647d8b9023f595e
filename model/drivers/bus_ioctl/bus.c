/*
 * The bus driver of the IOCTL design: a root-enumerated FDO that statically
 * enumerates N child PDOs. Each PDO has a default queue for the child's two
 * IOCTLs and a manual queue that holds the child's inverted call; the bus's
 * worker thread completes it when the bus hardware signals.
 *
 * Protocol (correct variant): the bus never calls into the child. It
 *  - answers IOCTL_IOBUS_READ_STATUS from its bus registers: the PDO's default
 *    queue is power-managed, so it dispatches only while the PDO is in D0, and
 *    a PDO in D0 keeps its parent (this FDO) in D0;
 *  - forwards IOCTL_IOBUS_WAIT_EVENT to the PDO's manual queue, a framework
 *    queue: the child's cancel (its target purge) and the PDO's purge at
 *    removal complete it there, and a power-managed manual queue presents
 *    nothing while the PDO is powered down;
 *  - on a bus event takes at most one request from each PDO's manual queue
 *    (WdfIoQueueRetrieveNextRequest) and completes it with the event number.
 * The mutants keep the inverted call in the PDO context instead (cancelable
 * or not), which is what a driver without a manual queue writes.
 */
#include <tdf/harness.h>

#include "bus_ioctl_if.h"
#include "variants.h"

#define BUS_MAX_CHILDREN 8

static DECLARE_CONST_UNICODE_STRING(IOBUS_CHILD_HARDWARE_ID, IOBUS_CHILD_HARDWARE_ID_TEXT);

typedef struct _IOBUS_FDO_CONTEXT {
    volatile ULONG *Registers; /* mapped in PrepareHardware */
    PKTHREAD WorkerThread;
    KEVENT WorkEvent;
    KEVENT StopEvent;
    FAST_MUTEX ChildLock; /* guards Children against PDO deletion */
    WDFDEVICE Children[BUS_MAX_CHILDREN];
    ULONG ChildCount;
    ULONG EventCounter;
} IOBUS_FDO_CONTEXT, *PIOBUS_FDO_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(IOBUS_FDO_CONTEXT, BusFdoGetContext)

typedef struct _IOBUS_PDO_CONTEXT {
    WDFDEVICE Parent;
    WDFQUEUE NotifyQueue;     /* manual: the child's pending IOCTL_IOBUS_WAIT_EVENT */
    WDFSPINLOCK NotifyLock;   /* the mutants' own bookkeeping of PendingNotify */
    WDFREQUEST PendingNotify; /* what the mutants keep instead of a queue */
} IOBUS_PDO_CONTEXT, *PIOBUS_PDO_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(IOBUS_PDO_CONTEXT, BusPdoGetContext)

DRIVER_INITIALIZE IoBus_DriverEntry;
EVT_TDF_STIMULUS IoBus_StimulusNotify;
static EVT_WDF_DRIVER_DEVICE_ADD Bus_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE Bus_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE Bus_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT Bus_EvtDeviceSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP Bus_EvtDeviceSelfManagedIoCleanup;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP Bus_EvtPdoCleanup;
static EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL Bus_EvtIoDeviceControl;
static EVT_WDF_REQUEST_CANCEL Bus_EvtNotifyCancel;
static KSTART_ROUTINE Bus_WorkerThread;

NTSTATUS IoBus_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Bus_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Bus_CreatePdo(WDFDEVICE Fdo)
{
    PIOBUS_FDO_CONTEXT fdoContext = BusFdoGetContext(Fdo);
    PWDFDEVICE_INIT pdoInit = WdfPdoInitAllocate(Fdo);
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_IO_QUEUE_CONFIG queueConfig;
    WDFDEVICE pdo;
    NTSTATUS status;

    if (!pdoInit)
        return STATUS_INSUFFICIENT_RESOURCES;
    status = WdfPdoInitAssignDeviceID(pdoInit, &IOBUS_CHILD_HARDWARE_ID);
    if (!NT_SUCCESS(status)) {
        WdfDeviceInitFree(pdoInit);
        return status;
    }
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, IOBUS_PDO_CONTEXT);
    attributes.EvtCleanupCallback = Bus_EvtPdoCleanup;
    status = WdfDeviceCreate(&pdoInit, &attributes, &pdo);
    if (!NT_SUCCESS(status))
        return status;
    PIOBUS_PDO_CONTEXT pdoContext = BusPdoGetContext(pdo);
    pdoContext->Parent = Fdo;

    /* The child's IOCTLs arrive here (its local target is this PDO). */
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queueConfig, WdfIoQueueDispatchParallel);
    queueConfig.PowerManaged = WdfTrue;
    queueConfig.EvtIoDeviceControl = Bus_EvtIoDeviceControl;
    status = WdfIoQueueCreate(pdo, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
    if (!NT_SUCCESS(status))
        return status;
    /* The inverted call waits here: the framework cancels it, purges it at
     * the PDO's removal and holds it while the PDO is powered down. */
    WDF_IO_QUEUE_CONFIG_INIT(&queueConfig, WdfIoQueueDispatchManual);
    queueConfig.PowerManaged = WdfTrue;
    status = WdfIoQueueCreate(pdo, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, &pdoContext->NotifyQueue);
    if (!NT_SUCCESS(status))
        return status;
    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    attributes.ParentObject = pdo;
    status = WdfSpinLockCreate(&attributes, &pdoContext->NotifyLock);
    if (!NT_SUCCESS(status))
        return status;

    ExAcquireFastMutex(&fdoContext->ChildLock);
    if (fdoContext->ChildCount < BUS_MAX_CHILDREN)
        fdoContext->Children[fdoContext->ChildCount++] = pdo;
    ExReleaseFastMutex(&fdoContext->ChildLock);
    return WdfFdoAddStaticChild(Fdo, pdo);
}

static NTSTATUS Bus_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = Bus_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = Bus_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceSelfManagedIoInit = Bus_EvtDeviceSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoCleanup = Bus_EvtDeviceSelfManagedIoCleanup;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, IOBUS_FDO_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;

    PIOBUS_FDO_CONTEXT context = BusFdoGetContext(device);
    KeInitializeEvent(&context->WorkEvent, SynchronizationEvent, FALSE);
    KeInitializeEvent(&context->StopEvent, NotificationEvent, FALSE);
    ExInitializeFastMutex(&context->ChildLock);

    ULONG children = TdfParam("children");
    for (ULONG i = 0; i < children; i++) {
        status = Bus_CreatePdo(device);
        if (!NT_SUCCESS(status))
            return status;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS Bus_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                             WDFCMRESLIST ResourcesTranslated)
{
    PIOBUS_FDO_CONTEXT context = BusFdoGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesRaw);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(ResourcesTranslated, 0);
    if (!d || d->Type != CmResourceTypeMemory)
        return STATUS_DEVICE_NOT_READY;
    context->Registers = MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    return context->Registers ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

static NTSTATUS Bus_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PIOBUS_FDO_CONTEXT context = BusFdoGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    if (context->Registers) {
        MmUnmapIoSpace((PVOID)context->Registers, 0x1000);
        context->Registers = NULL;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS Bus_EvtDeviceSelfManagedIoInit(WDFDEVICE Device)
{
    PIOBUS_FDO_CONTEXT context = BusFdoGetContext(Device);
    HANDLE handle;
    NTSTATUS status = PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, Bus_WorkerThread, Device);
    if (!NT_SUCCESS(status))
        return status;
    ObReferenceObjectByHandle(handle, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, (PVOID *)&context->WorkerThread,
                              NULL);
    ZwClose(handle);
    return STATUS_SUCCESS;
}

static VOID Bus_EvtDeviceSelfManagedIoCleanup(WDFDEVICE Device)
{
    PIOBUS_FDO_CONTEXT context = BusFdoGetContext(Device);
    if (!context->WorkerThread)
        return;
    KeSetEvent(&context->StopEvent, IO_NO_INCREMENT, FALSE);
    /* The worker's code is in this image: it must be gone before we can unload. */
    KeWaitForSingleObject(context->WorkerThread, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(context->WorkerThread);
    context->WorkerThread = NULL;
}

/* The mutants' own pending request. Cancel routine of the cancelable ones:
 * runs when the child cancels (purges its target) or the PDO's queue is
 * purged, and must complete the request. */
static VOID Bus_EvtNotifyCancel(WDFREQUEST Request)
{
    PIOBUS_PDO_CONTEXT pdoContext = BusPdoGetContext(WdfIoQueueGetDevice(WdfRequestGetIoQueue(Request)));
    WdfSpinLockAcquire(pdoContext->NotifyLock);
    /* Bug (cancel_keeps_pointer): the completed request stays in the field;
     * the worker takes a request that is gone. */
    if (!IS_VARIANT(VARIANT_CANCEL_KEEPS_POINTER) && pdoContext->PendingNotify == Request)
        pdoContext->PendingNotify = NULL;
    WdfSpinLockRelease(pdoContext->NotifyLock);
    WdfRequestComplete(Request, STATUS_CANCELLED);
}

/* The bus mutants keep the inverted call in the PDO context, not in a queue. */
static BOOLEAN Bus_KeepsNotifyItself(void)
{
    return IS_VARIANT(VARIANT_UNMARK_IGNORED) || IS_VARIANT(VARIANT_CANCEL_KEEPS_POINTER) ||
           IS_VARIANT(VARIANT_HELD_REQUEST);
}

static VOID Bus_PendNotify(WDFDEVICE Pdo, WDFREQUEST Request)
{
    PIOBUS_PDO_CONTEXT pdoContext = BusPdoGetContext(Pdo);
    NTSTATUS status;

    switch (TdfVariant()) {
    case VARIANT_UNMARK_IGNORED:
    case VARIANT_CANCEL_KEEPS_POINTER:
        /* Kept in the context, cancelable: the cancel routine completes it. */
        WdfSpinLockAcquire(pdoContext->NotifyLock);
        status = WdfRequestMarkCancelableEx(Request, Bus_EvtNotifyCancel);
        if (NT_SUCCESS(status))
            pdoContext->PendingNotify = Request;
        WdfSpinLockRelease(pdoContext->NotifyLock);
        break;
    case VARIANT_HELD_REQUEST:
        /* Bug: kept in the context and not cancelable: nothing but the next
         * bus event completes it, not the child's cancel, not a power-down. */
        WdfSpinLockAcquire(pdoContext->NotifyLock);
        pdoContext->PendingNotify = Request;
        WdfSpinLockRelease(pdoContext->NotifyLock);
        status = STATUS_SUCCESS;
        break;
    default:
        status = WdfRequestForwardToIoQueue(Request, pdoContext->NotifyQueue);
        break;
    }
    if (!NT_SUCCESS(status)) /* already canceled, or the queue is purged: still ours */
        WdfRequestComplete(Request, status);
}

static VOID Bus_EvtIoDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                   size_t InputBufferLength, ULONG IoControlCode)
{
    WDFDEVICE pdo = WdfIoQueueGetDevice(Queue);
    PIOBUS_PDO_CONTEXT pdoContext = BusPdoGetContext(pdo);
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);

    switch (IoControlCode) {
    case IOCTL_IOBUS_READ_STATUS: {
        PULONG out;
        NTSTATUS status = WdfRequestRetrieveOutputBuffer(Request, sizeof(ULONG), (PVOID *)&out, NULL);
        if (!NT_SUCCESS(status)) {
            WdfRequestComplete(Request, status);
            return;
        }
        /* Dispatched only while the PDO is in D0 (power-managed queue), which
         * keeps the bus FDO in D0 too. */
        *out = READ_REGISTER_ULONG(&BusFdoGetContext(pdoContext->Parent)->Registers[0]);
        WdfRequestCompleteWithInformation(Request, STATUS_SUCCESS, sizeof(ULONG));
        return;
    }
    case IOCTL_IOBUS_WAIT_EVENT:
        Bus_PendNotify(pdo, Request);
        return;
    default:
        WdfRequestComplete(Request, STATUS_INVALID_DEVICE_REQUEST);
        return;
    }
}

static VOID Bus_CompleteNotify(WDFREQUEST Request, ULONG Event)
{
    PIOBUS_EVENT out;
    NTSTATUS status = WdfRequestRetrieveOutputBuffer(Request, sizeof(*out), (PVOID *)&out, NULL);
    if (!NT_SUCCESS(status)) {
        WdfRequestComplete(Request, status);
        return;
    }
    out->Event = Event;
    /* The child's completion routine runs now, on this thread. */
    WdfRequestCompleteWithInformation(Request, STATUS_SUCCESS, sizeof(*out));
}

static VOID Bus_NotifyChild(WDFDEVICE Pdo, ULONG Event)
{
    PIOBUS_PDO_CONTEXT pdoContext = BusPdoGetContext(Pdo);
    WDFREQUEST request = NULL;

    if (!Bus_KeepsNotifyItself()) {
        /* Nothing while the PDO's queue is powered down or purged. */
        if (NT_SUCCESS(WdfIoQueueRetrieveNextRequest(pdoContext->NotifyQueue, &request)))
            Bus_CompleteNotify(request, Event);
        return;
    }
    WdfSpinLockAcquire(pdoContext->NotifyLock);
    request = pdoContext->PendingNotify;
    if (request && !IS_VARIANT(VARIANT_HELD_REQUEST) && WdfRequestUnmarkCancelable(request) == STATUS_CANCELLED &&
        !IS_VARIANT(VARIANT_UNMARK_IGNORED)) {
        /* The cancel routine has it: it waits for this lock, clears the
         * field and completes the request. Unmarked under the lock with the
         * field still set, as in the echo sample: cleared first and unmarked
         * after the release, the cancel routine could complete the request
         * in between and the unmark would touch a completed request -- a
         * second bug in every variant of this design. Bug (unmark_ignored):
         * completes it anyway, twice with the cancel routine's completion. */
        request = NULL;
    } else {
        pdoContext->PendingNotify = NULL;
    }
    WdfSpinLockRelease(pdoContext->NotifyLock);
    if (request)
        Bus_CompleteNotify(request, Event);
}

static VOID Bus_NotifyChildren(WDFDEVICE Fdo)
{
    PIOBUS_FDO_CONTEXT context = BusFdoGetContext(Fdo);
    ExAcquireFastMutex(&context->ChildLock);
    ULONG event = ++context->EventCounter;
    for (ULONG i = 0; i < context->ChildCount; i++)
        Bus_NotifyChild(context->Children[i], event);
    ExReleaseFastMutex(&context->ChildLock);
}

static VOID Bus_WorkerThread(PVOID StartContext)
{
    WDFDEVICE fdo = (WDFDEVICE)StartContext;
    PIOBUS_FDO_CONTEXT context = BusFdoGetContext(fdo);
    PVOID waitObjects[2] = {&context->StopEvent, &context->WorkEvent};
    for (;;) {
        NTSTATUS status = KeWaitForMultipleObjects(2, waitObjects, WaitAny, Executive, KernelMode, FALSE, NULL, NULL);
        if (status == STATUS_WAIT_0)
            return; /* stop: SelfManagedIoCleanup waits for us */
        Bus_NotifyChildren(fdo);
    }
}

static VOID Bus_EvtPdoCleanup(WDFOBJECT Object)
{
    WDFDEVICE pdo = (WDFDEVICE)Object;
    PIOBUS_FDO_CONTEXT context = BusFdoGetContext(BusPdoGetContext(pdo)->Parent);
    ExAcquireFastMutex(&context->ChildLock);
    for (ULONG i = 0; i < context->ChildCount; i++) {
        if (context->Children[i] == pdo) {
            context->Children[i] = context->Children[--context->ChildCount];
            break;
        }
    }
    ExReleaseFastMutex(&context->ChildLock);
}

VOID IoBus_StimulusNotify(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    KeSetEvent(&BusFdoGetContext(Device)->WorkEvent, IO_NO_INCREMENT, FALSE);
}
