/*
 * The child driver of the IOCTL design: function driver on each bus PDO. No
 * interface and no thread: it talks to the bus only with IOCTLs sent to its
 * PDO through its local I/O target (WdfDeviceGetIoTarget).
 *  - bus -> child: an inverted call. One driver-created request,
 *    IOCTL_IOBUS_WAIT_EVENT, is kept pending in the bus; the bus completes it
 *    on a bus event and the completion routine handles the event (reads our
 *    registers) and sends the same request again (WdfRequestReuse).
 *  - child -> bus: a client's request on our power-managed default queue
 *    (the child_io event) is served with a synchronous IOCTL_IOBUS_READ_STATUS.
 *
 * Protocol (correct variant), all of it framework rules:
 *  - D0Entry: start the target (a purge left it purged), arm the inverted call.
 *  - D0Exit: WdfIoTargetPurge(PurgeIoAndWait): cancels the pending inverted
 *    call (the bus's manual queue completes it STATUS_CANCELLED) or, if the
 *    bus already took it, waits until the bus has completed it and our
 *    completion routine has returned; a re-send from that routine fails
 *    (purged). D0Exit returns with nothing of ours in the bus.
 *  - Our data path needs no code: the power-managed queue dispatches only in
 *    D0, and the power-down waits for the request we own.
 *  - Removal: the framework closes the local target when the device is
 *    deleted (sent I/O canceled and waited for).
 */
#include <tdf/harness.h>

#include "bus_ioctl_if.h"
#include "variants.h"

#define IOCHILD_TAG_NOTIFY 0x6e436f49u /* 'IoCn' in a pool dump (multi-character constants warn in gcc) */
#define IOCHILD_TAG_LOG 0x6c436f49u    /* 'IoCl' */

typedef struct _IOCHILD_CONTEXT {
    volatile ULONG *Registers;
    WDFIOTARGET Target;       /* our PDO: its queues are the bus driver's */
    WDFREQUEST NotifyRequest; /* the inverted call */
    WDFMEMORY NotifyMemory;   /* its output buffer: one IOBUS_EVENT */
    WDFMEMORY EventLog;       /* per D0 period: the completion routine's context */
    ULONG LastEvent;
} IOCHILD_CONTEXT, *PIOCHILD_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(IOCHILD_CONTEXT, ChildGetContext)

DRIVER_INITIALIZE IoChild_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD Child_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE Child_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE Child_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_ENTRY Child_EvtDeviceD0Entry;
static EVT_WDF_DEVICE_D0_EXIT Child_EvtDeviceD0Exit;
static EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL Child_EvtIoDeviceControl;
static EVT_WDF_REQUEST_COMPLETION_ROUTINE Child_NotifyComplete;

NTSTATUS IoChild_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Child_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Child_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_IO_QUEUE_CONFIG queueConfig;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = Child_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = Child_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Entry = Child_EvtDeviceD0Entry;
    callbacks.EvtDeviceD0Exit = Child_EvtDeviceD0Exit;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, IOCHILD_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;

    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queueConfig, WdfIoQueueDispatchParallel);
    /* Bug (nonpm_child_queue): "I/O must not wait for the device to wake":
     * the queue then dispatches in Dx, and the handler touches the hardware. */
    queueConfig.PowerManaged = IS_VARIANT(VARIANT_NONPM_CHILD_QUEUE) ? WdfFalse : WdfTrue;
    queueConfig.EvtIoDeviceControl = Child_EvtIoDeviceControl;
    status = WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
    if (!NT_SUCCESS(status))
        return status;

    PIOCHILD_CONTEXT context = ChildGetContext(device);
    context->Target = WdfDeviceGetIoTarget(device);
    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    attributes.ParentObject = device;
    status = WdfRequestCreate(&attributes, context->Target, &context->NotifyRequest);
    if (!NT_SUCCESS(status))
        return status;
    return WdfMemoryCreate(&attributes, NonPagedPoolNx, IOCHILD_TAG_NOTIFY, sizeof(IOBUS_EVENT), &context->NotifyMemory, NULL);
}

static NTSTATUS Child_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                               WDFCMRESLIST ResourcesTranslated)
{
    PIOCHILD_CONTEXT context = ChildGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesRaw);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(ResourcesTranslated, 0);
    if (!d || d->Type != CmResourceTypeMemory)
        return STATUS_DEVICE_NOT_READY;
    context->Registers = MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    return context->Registers ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

static NTSTATUS Child_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PIOCHILD_CONTEXT context = ChildGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    if (context->Registers) {
        MmUnmapIoSpace((PVOID)context->Registers, 0x1000);
        context->Registers = NULL;
    }
    return STATUS_SUCCESS;
}

/* Arms the inverted call: the bus keeps it until its next event. Resend: from
 * the completion routine (the re-arm after an event). */
static VOID Child_SendNotify(PIOCHILD_CONTEXT context, BOOLEAN Resend)
{
    WDF_REQUEST_REUSE_PARAMS reuse;
    WDF_REQUEST_SEND_OPTIONS options;
    WDFREQUEST request = context->NotifyRequest;

    WDF_REQUEST_REUSE_PARAMS_INIT(&reuse, WDF_REQUEST_REUSE_NO_FLAGS, STATUS_SUCCESS);
    if (!NT_SUCCESS(WdfRequestReuse(request, &reuse)))
        return;
    if (!NT_SUCCESS(WdfIoTargetFormatRequestForIoctl(context->Target, request, IOCTL_IOBUS_WAIT_EVENT, NULL, NULL,
                                                     context->NotifyMemory, NULL)))
        return;
    WdfRequestSetCompletionRoutine(request, Child_NotifyComplete, context->EventLog);
    /* Bug (resend_ignore_state): "never lose an event while the target is
     * stopped": the re-arm ignores the purge D0Exit is doing, and the request
     * is pending in the bus again while that purge waits for it. */
    WDF_REQUEST_SEND_OPTIONS_INIT(&options, Resend && IS_VARIANT(VARIANT_RESEND_IGNORE_STATE)
                                                ? WDF_REQUEST_SEND_OPTION_IGNORE_TARGET_STATE
                                                : 0);
    /* FALSE: the target is purged (our D0Exit) or the PDO's queue is: not
     * pending; the next D0Entry arms it again. */
    (void)WdfRequestSend(request, context->Target, &options);
}

static VOID Child_NotifyComplete(WDFREQUEST Request, WDFIOTARGET Target, PWDF_REQUEST_COMPLETION_PARAMS Params,
                                 WDFCONTEXT Context)
{
    PIOCHILD_CONTEXT context = ChildGetContext(WdfIoTargetGetDevice(Target));
    WDFMEMORY eventLog = (WDFMEMORY)Context;
    UNREFERENCED_PARAMETER(Params);

    /* Canceled (our purge, the PDO's purge) or failed: not re-armed here. */
    if (!NT_SUCCESS(WdfRequestGetStatus(Request)))
        return;
    PIOBUS_EVENT event = WdfMemoryGetBuffer(context->NotifyMemory, NULL);
    ULONG number = event->Event;
    ULONG status = READ_REGISTER_ULONG(&context->Registers[0]); /* our hardware: needs D0 */
    WriteULongNoFence(&context->LastEvent, number ^ status);
    WdfMemoryCopyFromBuffer(eventLog, 0, &number, sizeof(number)); /* this D0 period's log */
    Child_SendNotify(context, TRUE);
}

static NTSTATUS Child_EvtDeviceD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    PIOCHILD_CONTEXT context = ChildGetContext(Device);
    WDF_OBJECT_ATTRIBUTES attributes;
    UNREFERENCED_PARAMETER(PreviousState);

    WRITE_REGISTER_ULONG(&context->Registers[2], 1); /* enable the function */
    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    attributes.ParentObject = Device;
    NTSTATUS status =
        WdfMemoryCreate(&attributes, NonPagedPoolNx, IOCHILD_TAG_LOG, sizeof(ULONG), &context->EventLog, NULL);
    if (!NT_SUCCESS(status))
        return status;
    (void)WdfIoTargetStart(context->Target); /* the last D0Exit purged it */
    Child_SendNotify(context, FALSE);
    return STATUS_SUCCESS;
}

static NTSTATUS Child_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    PIOCHILD_CONTEXT context = ChildGetContext(Device);
    UNREFERENCED_PARAMETER(TargetState);

    /* Bug (ctx_freed): "free this period's state, then stop the I/O": the
     * purge below waits for a completion routine that uses the log. */
    if (IS_VARIANT(VARIANT_CTX_FREED)) {
        WdfObjectDelete(context->EventLog);
        context->EventLog = NULL;
    }
    /* Bug (purge_no_wait): cancels what is still queued in the bus, but
     * returns while the bus completes the one it already took: our
     * completion routine runs after D0Exit. */
    WdfIoTargetPurge(context->Target,
                     IS_VARIANT(VARIANT_PURGE_NO_WAIT) ? WdfIoTargetPurgeIo : WdfIoTargetPurgeIoAndWait);
    if (context->EventLog) { /* nothing of ours is in the bus now: no routine can use it */
        WdfObjectDelete(context->EventLog);
        context->EventLog = NULL;
    }
    WRITE_REGISTER_ULONG(&context->Registers[2], 0); /* save state, disable the function */
    return STATUS_SUCCESS;
}

static VOID Child_EvtIoDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                     size_t InputBufferLength, ULONG IoControlCode)
{
    PIOCHILD_CONTEXT context = ChildGetContext(WdfIoQueueGetDevice(Queue));
    WDF_MEMORY_DESCRIPTOR output;
    ULONG busStatus = 0;
    ULONG_PTR bytes;
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);

    if (IoControlCode != IOCTL_IOCHILD_IO) {
        WdfRequestComplete(Request, STATUS_INVALID_DEVICE_REQUEST);
        return;
    }
    WRITE_REGISTER_ULONG(&context->Registers[1], 0); /* start the transfer: our hardware, needs D0 */
    WDF_MEMORY_DESCRIPTOR_INIT_BUFFER(&output, &busStatus, sizeof(busStatus));
    NTSTATUS status = WdfIoTargetSendIoctlSynchronously(context->Target, NULL, IOCTL_IOBUS_READ_STATUS, NULL,
                                                        &output, NULL, &bytes);
    if (NT_SUCCESS(status))
        WRITE_REGISTER_ULONG(&context->Registers[1], busStatus);
    WdfRequestComplete(Request, status);
}
