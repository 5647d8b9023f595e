/*
 * recchild: the recorder function driver on each recbus PDO
 * (tests/lifecycle/rec.h). Its FDO logs every PnP/power callback, owns one
 * register block (mapped in PrepareHardware, written in D0Entry and D0Exit,
 * unmapped in ReleaseHardware) and a power-managed default queue whose
 * EvtIoDeviceControl, EvtIoStop, EvtIoResume and EvtRequestCancel log too.
 *
 * Requests: IOCTL_REC_COMPLETE is completed at once; IOCTL_REC_HOLD is kept,
 * marked cancelable, until it is canceled (the purge of a remove or surprise
 * removal cancels it). EvtIoStop acknowledges a held request (Suspend) so it
 * stays owned across a power-down, or completes it (Purge).
 */
#include <tdf/harness.h>

#include "rec.h"

#define RECCHILD_MAX_HELD 8

typedef struct _RECCHILD_CONTEXT {
    BOOLEAN Named; /* Index is known (identity interface, first PrepareHardware) */
    ULONG Index;
    volatile ULONG *Registers;
    KSPIN_LOCK HeldLock; /* guards Held/HeldCount: dispatch, cancel and EvtIoStop race */
    KEVENT Released;     /* mark_cancelable_late: set by ReleaseHardware */
    WDFREQUEST Held[RECCHILD_MAX_HELD];
    ULONG HeldCount;
} RECCHILD_CONTEXT, *PRECCHILD_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(RECCHILD_CONTEXT, RecChildGetContext)

DRIVER_INITIALIZE RecChild_DriverEntry;
EVT_TDF_STIMULUS RecChild_StimulusTouchHardware;
static EVT_WDF_DRIVER_DEVICE_ADD RecChild_EvtDeviceAdd;
static EVT_WDF_DRIVER_UNLOAD RecChild_EvtDriverUnload;
static EVT_WDF_DEVICE_PREPARE_HARDWARE RecChild_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE RecChild_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_ENTRY RecChild_EvtDeviceD0Entry;
static EVT_WDF_DEVICE_D0_EXIT RecChild_EvtDeviceD0Exit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT RecChild_EvtDeviceSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_SUSPEND RecChild_EvtDeviceSelfManagedIoSuspend;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_RESTART RecChild_EvtDeviceSelfManagedIoRestart;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_FLUSH RecChild_EvtDeviceSelfManagedIoFlush;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP RecChild_EvtDeviceSelfManagedIoCleanup;
static EVT_WDF_DEVICE_SURPRISE_REMOVAL RecChild_EvtDeviceSurpriseRemoval;
static EVT_WDF_DEVICE_QUERY_REMOVE RecChild_EvtDeviceQueryRemove;
static EVT_WDF_DEVICE_QUERY_STOP RecChild_EvtDeviceQueryStop;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP RecChild_EvtCleanupCallback;
static EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL RecChild_EvtIoDeviceControl;
static EVT_WDF_IO_QUEUE_IO_STOP RecChild_EvtIoStop;
static EVT_WDF_IO_QUEUE_IO_RESUME RecChild_EvtIoResume;
static EVT_WDF_REQUEST_CANCEL RecChild_EvtRequestCancel;

/* "child<i> FDO <What>[(<Argument>)]" */
static VOID RecChild_Log(WDFOBJECT Device, PCSTR What, PCSTR Argument)
{
    PRECCHILD_CONTEXT context = RecChildGetContext(Device);
    if (context->Named)
        DbgPrint("child%u FDO %s%s%s%s", context->Index, What, Argument ? "(" : "", Argument ? Argument : "",
                 Argument ? ")" : "");
    else
        DbgPrint("child? FDO %s%s%s%s", What, Argument ? "(" : "", Argument ? Argument : "", Argument ? ")" : "");
}

NTSTATUS RecChild_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    DbgPrint("recchild DriverEntry");
    WDF_DRIVER_CONFIG_INIT(&config, RecChild_EvtDeviceAdd);
    config.EvtDriverUnload = RecChild_EvtDriverUnload;
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static VOID RecChild_EvtDriverUnload(WDFDRIVER Driver)
{
    UNREFERENCED_PARAMETER(Driver);
    DbgPrint("recchild EvtDriverUnload");
}

static NTSTATUS RecChild_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_IO_QUEUE_CONFIG queueConfig;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    DbgPrint("recchild EvtDriverDeviceAdd");
    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = RecChild_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = RecChild_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Entry = RecChild_EvtDeviceD0Entry;
    callbacks.EvtDeviceD0Exit = RecChild_EvtDeviceD0Exit;
    callbacks.EvtDeviceSelfManagedIoInit = RecChild_EvtDeviceSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoSuspend = RecChild_EvtDeviceSelfManagedIoSuspend;
    callbacks.EvtDeviceSelfManagedIoRestart = RecChild_EvtDeviceSelfManagedIoRestart;
    callbacks.EvtDeviceSelfManagedIoFlush = RecChild_EvtDeviceSelfManagedIoFlush;
    callbacks.EvtDeviceSelfManagedIoCleanup = RecChild_EvtDeviceSelfManagedIoCleanup;
    callbacks.EvtDeviceSurpriseRemoval = RecChild_EvtDeviceSurpriseRemoval;
    callbacks.EvtDeviceQueryRemove = RecChild_EvtDeviceQueryRemove;
    callbacks.EvtDeviceQueryStop = RecChild_EvtDeviceQueryStop;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, RECCHILD_CONTEXT);
    attributes.EvtCleanupCallback = RecChild_EvtCleanupCallback;
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;
    KeInitializeSpinLock(&RecChildGetContext(device)->HeldLock);
    KeInitializeEvent(&RecChildGetContext(device)->Released, NotificationEvent, FALSE);

    /* Power-managed (the default for a function driver's queue). */
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queueConfig, WdfIoQueueDispatchParallel);
    queueConfig.EvtIoDeviceControl = RecChild_EvtIoDeviceControl;
    queueConfig.EvtIoStop = RecChild_EvtIoStop;
    queueConfig.EvtIoResume = RecChild_EvtIoResume;
    return WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
}

static NTSTATUS RecChild_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                                  WDFCMRESLIST ResourcesTranslated)
{
    PRECCHILD_CONTEXT context = RecChildGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesRaw);

    if (!context->Named) {
        /* Which child are we? The PDO below says (its stack answers from the top). */
        REC_IDENTITY_INTERFACE identity;
        RtlZeroMemory(&identity, sizeof(identity));
        NTSTATUS status = WdfFdoQueryForInterface(Device, &GUID_REC_IDENTITY_INTERFACE, &identity.InterfaceHeader,
                                                  sizeof(identity), REC_IDENTITY_INTERFACE_VERSION, NULL);
        if (NT_SUCCESS(status)) {
            context->Index = identity.Index;
            context->Named = TRUE;
            identity.InterfaceHeader.InterfaceDereference(identity.InterfaceHeader.Context);
        }
    }
    RecChild_Log(Device, "PrepareHardware", NULL);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(ResourcesTranslated, 0);
    if (!d || d->Type != CmResourceTypeMemory)
        return STATUS_DEVICE_NOT_READY;
    context->Registers = MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    return context->Registers ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

static NTSTATUS RecChild_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PRECCHILD_CONTEXT context = RecChildGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    RecChild_Log(Device, "ReleaseHardware", NULL);
    if (context->Registers) {
        MmUnmapIoSpace((PVOID)context->Registers, 0x1000);
        /* Bug (touch_after_release): the stale pointer survives the unmap. */
        if (TdfVariant() != REC_VARIANT_TOUCH_AFTER_RELEASE)
            context->Registers = NULL;
    }
    if (TdfVariant() == REC_VARIANT_MARK_CANCELABLE_LATE)
        KeSetEvent(&context->Released, IO_NO_INCREMENT, FALSE);
    return STATUS_SUCCESS;
}

static NTSTATUS RecChild_EvtDeviceD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    PRECCHILD_CONTEXT context = RecChildGetContext(Device);
    RecChild_Log(Device, "D0Entry", Rec_PowerStateName(PreviousState));
    WRITE_REGISTER_ULONG(&context->Registers[0], 1); /* powered: program the function */
    return STATUS_SUCCESS;
}

static NTSTATUS RecChild_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    PRECCHILD_CONTEXT context = RecChildGetContext(Device);
    RecChild_Log(Device, "D0Exit", Rec_PowerStateName(TargetState));
    WRITE_REGISTER_ULONG(&context->Registers[0], 0); /* still powered until D0Exit returns: save state */
    return STATUS_SUCCESS;
}

static NTSTATUS RecChild_EvtDeviceSelfManagedIoInit(WDFDEVICE Device)
{
    RecChild_Log(Device, "SelfManagedIoInit", NULL);
    return STATUS_SUCCESS;
}

static NTSTATUS RecChild_EvtDeviceSelfManagedIoSuspend(WDFDEVICE Device)
{
    RecChild_Log(Device, "SelfManagedIoSuspend", NULL);
    return STATUS_SUCCESS;
}

static NTSTATUS RecChild_EvtDeviceSelfManagedIoRestart(WDFDEVICE Device)
{
    RecChild_Log(Device, "SelfManagedIoRestart", NULL);
    return STATUS_SUCCESS;
}

static VOID RecChild_EvtDeviceSelfManagedIoFlush(WDFDEVICE Device)
{
    PRECCHILD_CONTEXT context = RecChildGetContext(Device);
    RecChild_Log(Device, "SelfManagedIoFlush", NULL);
    if (TdfVariant() == REC_VARIANT_TOUCH_AFTER_RELEASE && context->Registers)
        (void)READ_REGISTER_ULONG(&context->Registers[0]); /* bug: unmapped in ReleaseHardware */
}

static VOID RecChild_EvtDeviceSelfManagedIoCleanup(WDFDEVICE Device)
{
    RecChild_Log(Device, "SelfManagedIoCleanup", NULL);
}

static VOID RecChild_EvtDeviceSurpriseRemoval(WDFDEVICE Device) { RecChild_Log(Device, "SurpriseRemoval", NULL); }

static NTSTATUS RecChild_EvtDeviceQueryRemove(WDFDEVICE Device)
{
    PRECCHILD_CONTEXT context = RecChildGetContext(Device);
    if (TdfVariant() == REC_VARIANT_VETO_QUERY_REMOVE && context->Index == 0) {
        RecChild_Log(Device, "QueryRemove", "veto");
        return STATUS_UNSUCCESSFUL;
    }
    RecChild_Log(Device, "QueryRemove", NULL);
    return STATUS_SUCCESS;
}

static NTSTATUS RecChild_EvtDeviceQueryStop(WDFDEVICE Device)
{
    PRECCHILD_CONTEXT context = RecChildGetContext(Device);
    if (TdfVariant() == REC_VARIANT_VETO_QUERY_STOP && context->Index == 0) {
        RecChild_Log(Device, "QueryStop", "veto");
        return STATUS_UNSUCCESSFUL;
    }
    RecChild_Log(Device, "QueryStop", NULL);
    return STATUS_SUCCESS;
}

static VOID RecChild_EvtCleanupCallback(WDFOBJECT Object) { RecChild_Log(Object, "EvtCleanupCallback", NULL); }

/* ---- I/O ----------------------------------------------------------------------- */
static VOID RecChild_Forget(PRECCHILD_CONTEXT Context, WDFREQUEST Request)
{
    KIRQL irql;
    KeAcquireSpinLock(&Context->HeldLock, &irql);
    for (ULONG i = 0; i < Context->HeldCount; i++) {
        if (Context->Held[i] == Request) {
            Context->Held[i] = Context->Held[--Context->HeldCount];
            break;
        }
    }
    KeReleaseSpinLock(&Context->HeldLock, irql);
}

static VOID RecChild_EvtIoDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                        size_t InputBufferLength, ULONG IoControlCode)
{
    WDFDEVICE device = WdfIoQueueGetDevice(Queue);
    PRECCHILD_CONTEXT context = RecChildGetContext(device);
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);

    if (IoControlCode != IOCTL_REC_HOLD) {
        RecChild_Log(device, "EvtIoDeviceControl", "complete");
        WdfRequestComplete(Request, STATUS_SUCCESS);
        return;
    }
    RecChild_Log(device, "EvtIoDeviceControl", "hold");
    /* Recorded before it becomes cancelable: the cancel routine finds it. */
    KIRQL irql;
    KeAcquireSpinLock(&context->HeldLock, &irql);
    BOOLEAN room = context->HeldCount < RECCHILD_MAX_HELD;
    if (room)
        context->Held[context->HeldCount++] = Request;
    KeReleaseSpinLock(&context->HeldLock, irql);
    if (!room) {
        WdfRequestComplete(Request, STATUS_INSUFFICIENT_RESOURCES);
        return;
    }
    if (TdfVariant() == REC_VARIANT_MARK_CANCELABLE_LATE) /* slow path: the queue may be purging by now */
        KeWaitForSingleObject(&context->Released, Executive, KernelMode, FALSE, NULL);
    if (!NT_SUCCESS(WdfRequestMarkCancelableEx(Request, RecChild_EvtRequestCancel))) {
        RecChild_Log(device, "MarkCancelableEx", "STATUS_CANCELLED");
        RecChild_Forget(context, Request); /* already canceled: ours to complete */
        WdfRequestComplete(Request, STATUS_CANCELLED);
    }
}

static VOID RecChild_EvtRequestCancel(WDFREQUEST Request)
{
    WDFDEVICE device = WdfIoQueueGetDevice(WdfRequestGetIoQueue(Request));
    RecChild_Log(device, "EvtRequestCancel", NULL);
    RecChild_Forget(RecChildGetContext(device), Request);
    WdfRequestComplete(Request, STATUS_CANCELLED);
}

static VOID RecChild_EvtIoStop(WDFQUEUE Queue, WDFREQUEST Request, ULONG ActionFlags)
{
    WDFDEVICE device = WdfIoQueueGetDevice(Queue);
    BOOLEAN purge = (ActionFlags & WdfRequestStopActionPurge) != 0;
    BOOLEAN cancelable = (ActionFlags & WdfRequestStopRequestCancelable) != 0;
    RecChild_Log(device, "EvtIoStop",
                 purge ? (cancelable ? "Purge,Cancelable" : "Purge") : (cancelable ? "Suspend,Cancelable" : "Suspend"));
    if (TdfVariant() == REC_VARIANT_NEVER_ACK_STOP)
        return; /* bug: the power-down waits for this request forever */
    if (!purge) {
        WdfRequestStopAcknowledge(Request, FALSE); /* stays ours, held; EvtIoResume after D0Entry */
        return;
    }
    if (cancelable && WdfRequestUnmarkCancelable(Request) == STATUS_CANCELLED)
        return; /* the cancel routine completes it */
    RecChild_Forget(RecChildGetContext(device), Request);
    WdfRequestComplete(Request, STATUS_CANCELLED);
}

static VOID RecChild_EvtIoResume(WDFQUEUE Queue, WDFREQUEST Request)
{
    UNREFERENCED_PARAMETER(Request);
    RecChild_Log(WdfIoQueueGetDevice(Queue), "EvtIoResume", NULL);
}

/* Stimulus "touch_hw": reads the device's register from another thread, in
 * whatever state the device is (the hardware oracle judges the access). */
VOID RecChild_StimulusTouchHardware(WDFDEVICE Device, ULONG Argument)
{
    PRECCHILD_CONTEXT context = RecChildGetContext(Device);
    UNREFERENCED_PARAMETER(Argument);
    RecChild_Log(Device, "touch_hw", NULL);
    if (context->Registers)
        (void)READ_REGISTER_ULONG(&context->Registers[0]);
}
