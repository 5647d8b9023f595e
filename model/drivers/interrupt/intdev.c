/*
 * intdev: a KMDF function driver for a device that interrupts when it has
 * data (seed: the KMDF interrupt model, KERNEL-SEMANTICS §10). The ISR
 * acknowledges the interrupt and saves its status under the interrupt lock;
 * the DPC takes the saved status (WdfInterruptAcquireLock) and hands the
 * reading of the data register to a PASSIVE_LEVEL worker thread; a status
 * IOCTL reads the status register synchronized with the ISR.
 *
 * Protocol (correct variant):
 *  - EvtInterruptEnable / EvtInterruptDisable unmask / mask the interrupt at
 *    the device; EvtDeviceD0EntryPostInterruptsEnabled starts the device's
 *    function, EvtDeviceD0ExitPreInterruptsDisabled stops it (KMDF calls them
 *    with the interrupt connected).
 *  - D0Exit waits until the worker has processed every item a DPC handed it:
 *    the framework flushed the interrupt's DPC before D0Exit, but not the work
 *    the DPC passed on.
 *  - The status IOCTL comes through the power-managed default queue, so it is
 *    dispatched only while the interrupt is connected.
 *  - ReleaseHardware stops the worker and waits for it, then unmaps.
 */
#include <tdf/harness.h>

#include "intdev_if.h"
#include "variants.h"

typedef struct _INTDEV_CONTEXT {
    volatile ULONG *Registers;
    BOOLEAN Unmapped; /* unmap_in_surprise: the mapping went in SurpriseRemoval */
    WDFINTERRUPT Interrupt;
    ULONG IsrStatus;       /* saved by the ISR, taken by the DPC: under the interrupt lock */
    volatile LONG Pending; /* items the DPC handed to the worker, not yet processed */
    KEVENT WorkEvent;      /* DPC -> worker */
    KEVENT StopEvent;      /* ReleaseHardware -> worker */
    KEVENT IdleEvent;      /* worker -> D0Exit: Pending reached 0 */
    PKTHREAD Worker;
    ULONG Data;
} INTDEV_CONTEXT, *PINTDEV_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(INTDEV_CONTEXT, IntdevGetContext)

DRIVER_INITIALIZE Intdev_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD Intdev_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE Intdev_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE Intdev_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_ENTRY Intdev_EvtDeviceD0Entry;
static EVT_WDF_DEVICE_D0_ENTRY_POST_INTERRUPTS_ENABLED Intdev_EvtDeviceD0EntryPostInterruptsEnabled;
static EVT_WDF_DEVICE_D0_EXIT_PRE_INTERRUPTS_DISABLED Intdev_EvtDeviceD0ExitPreInterruptsDisabled;
static EVT_WDF_DEVICE_D0_EXIT Intdev_EvtDeviceD0Exit;
static EVT_WDF_DEVICE_SURPRISE_REMOVAL Intdev_EvtDeviceSurpriseRemoval;
static EVT_WDF_INTERRUPT_ISR Intdev_EvtInterruptIsr;
static EVT_WDF_INTERRUPT_DPC Intdev_EvtInterruptDpc;
static EVT_WDF_INTERRUPT_ENABLE Intdev_EvtInterruptEnable;
static EVT_WDF_INTERRUPT_DISABLE Intdev_EvtInterruptDisable;
static EVT_WDF_INTERRUPT_SYNCHRONIZE Intdev_EvtReadStatus;
static EVT_WDF_INTERRUPT_SYNCHRONIZE Intdev_EvtResetDevice;
static EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL Intdev_EvtIoDeviceControl;
static KSTART_ROUTINE Intdev_Worker;

NTSTATUS Intdev_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Intdev_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Intdev_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_INTERRUPT_CONFIG interruptConfig;
    WDF_IO_QUEUE_CONFIG queueConfig;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = Intdev_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = Intdev_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Entry = Intdev_EvtDeviceD0Entry;
    callbacks.EvtDeviceD0EntryPostInterruptsEnabled = Intdev_EvtDeviceD0EntryPostInterruptsEnabled;
    callbacks.EvtDeviceD0ExitPreInterruptsDisabled = Intdev_EvtDeviceD0ExitPreInterruptsDisabled;
    callbacks.EvtDeviceD0Exit = Intdev_EvtDeviceD0Exit;
    if (IS_VARIANT(VARIANT_UNMAP_IN_SURPRISE))
        callbacks.EvtDeviceSurpriseRemoval = Intdev_EvtDeviceSurpriseRemoval;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, INTDEV_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;
    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;
    PINTDEV_CONTEXT context = IntdevGetContext(device);
    KeInitializeEvent(&context->WorkEvent, SynchronizationEvent, FALSE);
    KeInitializeEvent(&context->StopEvent, NotificationEvent, FALSE);
    KeInitializeEvent(&context->IdleEvent, NotificationEvent, TRUE);

    /* In EvtDriverDeviceAdd, with no resources: the framework assigns the
     * device's interrupt resource at start. */
    WDF_INTERRUPT_CONFIG_INIT(&interruptConfig, Intdev_EvtInterruptIsr, Intdev_EvtInterruptDpc);
    interruptConfig.EvtInterruptEnable = Intdev_EvtInterruptEnable;
    interruptConfig.EvtInterruptDisable = Intdev_EvtInterruptDisable;
    status = WdfInterruptCreate(device, &interruptConfig, WDF_NO_OBJECT_ATTRIBUTES, &context->Interrupt);
    if (!NT_SUCCESS(status))
        return status;

    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queueConfig, WdfIoQueueDispatchParallel);
    queueConfig.EvtIoDeviceControl = Intdev_EvtIoDeviceControl;
    /* Bug (nonpm_status_queue): "status must answer even while the device
     * idles" -- the request then reaches the driver with the interrupt
     * disconnected, and nothing to synchronize with. */
    if (IS_VARIANT(VARIANT_NONPM_STATUS_QUEUE))
        queueConfig.PowerManaged = WdfFalse;
    return WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
}

static NTSTATUS Intdev_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                                WDFCMRESLIST ResourcesTranslated)
{
    PINTDEV_CONTEXT context = IntdevGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesRaw);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(ResourcesTranslated, 0);
    if (!d || d->Type != CmResourceTypeMemory)
        return STATUS_DEVICE_NOT_READY;
    context->Registers = MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    if (!context->Registers)
        return STATUS_INSUFFICIENT_RESOURCES;
    context->Unmapped = FALSE;
    KeClearEvent(&context->StopEvent);
    HANDLE handle;
    NTSTATUS status = PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, Intdev_Worker, context);
    if (!NT_SUCCESS(status))
        return status;
    ObReferenceObjectByHandle(handle, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, (PVOID *)&context->Worker, NULL);
    ZwClose(handle);
    return STATUS_SUCCESS;
}

static NTSTATUS Intdev_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PINTDEV_CONTEXT context = IntdevGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    if (context->Worker) { /* its code is in this image, and it reads the registers */
        KeSetEvent(&context->StopEvent, IO_NO_INCREMENT, FALSE);
        KeWaitForSingleObject(context->Worker, Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(context->Worker);
        context->Worker = NULL;
    }
    if (context->Registers && !context->Unmapped)
        MmUnmapIoSpace((PVOID)context->Registers, 0x1000);
    context->Registers = NULL;
    return STATUS_SUCCESS;
}

static NTSTATUS Intdev_EvtDeviceD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    PINTDEV_CONTEXT context = IntdevGetContext(Device);
    UNREFERENCED_PARAMETER(PreviousState);
    /* Bug (sync_in_d0entry): "reset the device synchronized with the ISR" --
     * but KMDF connects the interrupt only after D0Entry returns. */
    if (IS_VARIANT(VARIANT_SYNC_IN_D0ENTRY))
        WdfInterruptSynchronize(context->Interrupt, Intdev_EvtResetDevice, context);
    else
        WRITE_REGISTER_ULONG(&context->Registers[INTDEV_REG_CONTROL], 0); /* reset the function */
    return STATUS_SUCCESS;
}

static NTSTATUS Intdev_EvtDeviceD0EntryPostInterruptsEnabled(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    PINTDEV_CONTEXT context = IntdevGetContext(Device);
    UNREFERENCED_PARAMETER(PreviousState);
    WRITE_REGISTER_ULONG(&context->Registers[INTDEV_REG_CONTROL], 1); /* start: the device may now interrupt */
    return STATUS_SUCCESS;
}

static NTSTATUS Intdev_EvtDeviceD0ExitPreInterruptsDisabled(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    PINTDEV_CONTEXT context = IntdevGetContext(Device);
    UNREFERENCED_PARAMETER(TargetState);
    WRITE_REGISTER_ULONG(&context->Registers[INTDEV_REG_CONTROL], 0); /* stop generating interrupts */
    return STATUS_SUCCESS;
}

static NTSTATUS Intdev_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    PINTDEV_CONTEXT context = IntdevGetContext(Device);
    UNREFERENCED_PARAMETER(TargetState);
    /* No DPC runs any more (the framework flushed it with the disconnect),
     * so Pending only goes down: one wait for the worker's idle signal. Bug
     * (worker_not_drained): trusting the framework's DPC flush to cover what
     * the DPC passed on. */
    if (!IS_VARIANT(VARIANT_WORKER_NOT_DRAINED)) {
        /* A loop, not one wait: the idle signal of an earlier item can be seen
         * while the worker still has the last one (found by the 15-min run). */
        while (ReadNoFence(&context->Pending) != 0) {
            KeClearEvent(&context->IdleEvent);
            if (ReadNoFence(&context->Pending) != 0)
                KeWaitForSingleObject(&context->IdleEvent, Executive, KernelMode, FALSE, NULL);
        }
    }
    return STATUS_SUCCESS;
}

/* unmap_in_surprise only. Bug: "the device is gone, release its mapping
 * now". KMDF still runs the power-down of a device surprise-removed in D0:
 * PreInterruptsDisabled, EvtInterruptDisable and D0Exit touch the registers. */
static VOID Intdev_EvtDeviceSurpriseRemoval(WDFDEVICE Device)
{
    PINTDEV_CONTEXT context = IntdevGetContext(Device);
    if (context->Registers && !context->Unmapped) {
        MmUnmapIoSpace((PVOID)context->Registers, 0x1000);
        context->Unmapped = TRUE;
    }
}

/* ---- interrupt ---------------------------------------------------------------------- */
static NTSTATUS Intdev_EvtInterruptEnable(WDFINTERRUPT Interrupt, WDFDEVICE AssociatedDevice)
{
    PINTDEV_CONTEXT context = IntdevGetContext(AssociatedDevice);
    UNREFERENCED_PARAMETER(Interrupt);
    WRITE_REGISTER_ULONG(&context->Registers[INTDEV_REG_MASK], 1);
    return STATUS_SUCCESS;
}

static NTSTATUS Intdev_EvtInterruptDisable(WDFINTERRUPT Interrupt, WDFDEVICE AssociatedDevice)
{
    PINTDEV_CONTEXT context = IntdevGetContext(AssociatedDevice);
    UNREFERENCED_PARAMETER(Interrupt);
    WRITE_REGISTER_ULONG(&context->Registers[INTDEV_REG_MASK], 0);
    return STATUS_SUCCESS;
}

static BOOLEAN Intdev_EvtInterruptIsr(WDFINTERRUPT Interrupt, ULONG MessageID)
{
    PINTDEV_CONTEXT context = IntdevGetContext(WdfInterruptGetDevice(Interrupt));
    UNREFERENCED_PARAMETER(MessageID);
    ULONG status = READ_REGISTER_ULONG(&context->Registers[INTDEV_REG_STATUS]);
    WRITE_REGISTER_ULONG(&context->Registers[INTDEV_REG_STATUS], status); /* acknowledge */
    /* The model's registers read back what was written; count every raised
     * line as "data ready". */
    context->IsrStatus |= status | 1u;
    WdfInterruptQueueDpcForIsr(Interrupt);
    return TRUE;
}

static VOID Intdev_EvtInterruptDpc(WDFINTERRUPT Interrupt, WDFOBJECT AssociatedObject)
{
    PINTDEV_CONTEXT context = IntdevGetContext(AssociatedObject);
    WdfInterruptAcquireLock(Interrupt);
    ULONG status = context->IsrStatus;
    context->IsrStatus = 0;
    WdfInterruptReleaseLock(Interrupt);
    if (status) {
        InterlockedIncrement(&context->Pending);
        KeSetEvent(&context->WorkEvent, IO_NO_INCREMENT, FALSE);
    }
}

static BOOLEAN Intdev_EvtReadStatus(WDFINTERRUPT Interrupt, WDFCONTEXT Context)
{
    PINTDEV_CONTEXT context = Context;
    UNREFERENCED_PARAMETER(Interrupt);
    return READ_REGISTER_ULONG(&context->Registers[INTDEV_REG_STATUS]) != 0 || context->IsrStatus != 0;
}

static BOOLEAN Intdev_EvtResetDevice(WDFINTERRUPT Interrupt, WDFCONTEXT Context)
{
    PINTDEV_CONTEXT context = Context;
    UNREFERENCED_PARAMETER(Interrupt);
    WRITE_REGISTER_ULONG(&context->Registers[INTDEV_REG_CONTROL], 0);
    context->IsrStatus = 0;
    return TRUE;
}

/* ---- worker and I/O ----------------------------------------------------------------- */
static VOID Intdev_Worker(PVOID StartContext)
{
    PINTDEV_CONTEXT context = StartContext;
    PVOID waitObjects[2] = {&context->StopEvent, &context->WorkEvent};
    for (;;) {
        NTSTATUS status = KeWaitForMultipleObjects(2, waitObjects, WaitAny, Executive, KernelMode, FALSE, NULL, NULL);
        if (status == STATUS_WAIT_0)
            break;
        while (ReadNoFence(&context->Pending) > 0) {
            WriteULongNoFence(&context->Data, READ_REGISTER_ULONG(&context->Registers[INTDEV_REG_DATA]));
            if (InterlockedDecrement(&context->Pending) == 0)
                KeSetEvent(&context->IdleEvent, IO_NO_INCREMENT, FALSE);
        }
    }
}

static VOID Intdev_EvtIoDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                      size_t InputBufferLength, ULONG IoControlCode)
{
    PINTDEV_CONTEXT context = IntdevGetContext(WdfIoQueueGetDevice(Queue));
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);
    if (IoControlCode != IOCTL_INTDEV_STATUS) {
        WdfRequestComplete(Request, STATUS_NOT_SUPPORTED);
        return;
    }
    BOOLEAN pending = WdfInterruptSynchronize(context->Interrupt, Intdev_EvtReadStatus, context);
    WdfRequestCompleteWithInformation(Request, STATUS_SUCCESS, pending);
}
