/*
 * ppdev: a root-enumerated function driver that idles with wake from S0
 * (the power-policy owner of its stack), for fuzz_power_policy.
 *
 * Protocol (correct variant), KERNEL-SEMANTICS §13:
 *  - S0 idle settings IdleCanWakeFromS0: the device idles when no power
 *    reference is held; EvtDeviceArmWakeFromS0 enables the wake signal in the
 *    control register before D0Exit, EvtDeviceDisarmWakeFromS0 reads and
 *    clears the wake status after D0Entry. EvtDeviceWakeFromS0Triggered runs
 *    while the device is still in Dx: it only notes that a wake came.
 *  - The default queue is NOT power-managed (status queries must be answered
 *    in any power state): a status query takes its own power reference,
 *    WdfDeviceStopIdle(WaitForD0=TRUE), so an idle device comes back to D0,
 *    then reads the registers under D0Rundown (re-armed at the end of D0Entry,
 *    drained in D0Exit), since a power reference holds off only the idle: a
 *    stop, sleep or removal powers the device down regardless. Then
 *    WdfDeviceResumeIdle. A StopIdle that fails (the device is stopping, being
 *    removed or failed) took no reference: the request fails and nothing is
 *    resumed; a run-down D0Rundown fails it too.
 *  - Transfers are forwarded to the power-managed data queue: its power
 *    reference wakes an idle device and the framework dispatches the request
 *    after D0Entry.
 *  - D0Entry allocates the shadow buffer the hardware state is kept in and
 *    programs the device; D0Exit frees it. On a return from hibernation the
 *    device's firmware is gone and D0Entry fails: it frees what it allocated
 *    itself, since the framework calls no D0Exit after a failed D0Entry.
 */
#include <tdf/harness.h>

#include "power_policy_if.h"
#include "variants.h"

#define PPDEV_TAG 0x62735050u /* 'PPsb' in a pool dump (multi-character constants warn in gcc) */
#define PPDEV_SHADOW_BYTES 64

typedef struct _PPDEV_CONTEXT {
    volatile ULONG *Registers; /* mapped in PrepareHardware, unmapped in ReleaseHardware */
    PULONG Shadow;             /* D0Entry .. D0Exit */
    EX_RUNDOWN_REF D0Rundown;  /* register accesses of the status path; run down outside D0 */
    WDFQUEUE DataQueue;        /* power-managed */
    volatile LONG WakeSignals; /* EvtDeviceWakeFromS0Triggered count */
} PPDEV_CONTEXT, *PPPDEV_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(PPDEV_CONTEXT, PpDevGetContext)

DRIVER_INITIALIZE PpDev_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD PpDev_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE PpDev_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE PpDev_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_ENTRY PpDev_EvtDeviceD0Entry;
static EVT_WDF_DEVICE_D0_EXIT PpDev_EvtDeviceD0Exit;
static EVT_WDF_DEVICE_ARM_WAKE_FROM_S0 PpDev_EvtDeviceArmWakeFromS0;
static EVT_WDF_DEVICE_DISARM_WAKE_FROM_S0 PpDev_EvtDeviceDisarmWakeFromS0;
static EVT_WDF_DEVICE_WAKE_FROM_S0_TRIGGERED PpDev_EvtDeviceWakeFromS0Triggered;
static EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL PpDev_EvtIoDeviceControl;
static EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL PpDev_EvtIoDataControl;

NTSTATUS PpDev_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, PpDev_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS PpDev_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    UNREFERENCED_PARAMETER(Driver);
    WDF_PNPPOWER_EVENT_CALLBACKS pnp;
    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&pnp);
    pnp.EvtDevicePrepareHardware = PpDev_EvtDevicePrepareHardware;
    pnp.EvtDeviceReleaseHardware = PpDev_EvtDeviceReleaseHardware;
    pnp.EvtDeviceD0Entry = PpDev_EvtDeviceD0Entry;
    pnp.EvtDeviceD0Exit = PpDev_EvtDeviceD0Exit;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &pnp);

    WDF_POWER_POLICY_EVENT_CALLBACKS pp;
    WDF_POWER_POLICY_EVENT_CALLBACKS_INIT(&pp);
    pp.EvtDeviceArmWakeFromS0 = PpDev_EvtDeviceArmWakeFromS0;
    pp.EvtDeviceDisarmWakeFromS0 = PpDev_EvtDeviceDisarmWakeFromS0;
    pp.EvtDeviceWakeFromS0Triggered = PpDev_EvtDeviceWakeFromS0Triggered;
    WdfDeviceInitSetPowerPolicyEventCallbacks(DeviceInit, &pp);

    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, PPDEV_CONTEXT);
    WDFDEVICE device;
    NTSTATUS status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* Not in D0 yet: run down until the first D0Entry. */
    ExInitializeRundownProtection(&PpDevGetContext(device)->D0Rundown);
    ExWaitForRundownProtectionRelease(&PpDevGetContext(device)->D0Rundown);

    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idle;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idle, IdleCanWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idle);
    if (!NT_SUCCESS(status))
        return status;

    WDF_IO_QUEUE_CONFIG queue;
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queue, WdfIoQueueDispatchParallel);
    queue.PowerManaged = WdfFalse;
    queue.EvtIoDeviceControl = PpDev_EvtIoDeviceControl;
    status = WdfIoQueueCreate(device, &queue, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
    if (!NT_SUCCESS(status))
        return status;
    WDF_IO_QUEUE_CONFIG_INIT(&queue, WdfIoQueueDispatchSequential);
    queue.EvtIoDeviceControl = PpDev_EvtIoDataControl; /* power-managed: the default */
    return WdfIoQueueCreate(device, &queue, WDF_NO_OBJECT_ATTRIBUTES, &PpDevGetContext(device)->DataQueue);
}

static NTSTATUS PpDev_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST Raw, WDFCMRESLIST Translated)
{
    UNREFERENCED_PARAMETER(Raw);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(Translated, 0);
    if (!d)
        return STATUS_INSUFFICIENT_RESOURCES;
    PpDevGetContext(Device)->Registers =
        MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    return PpDevGetContext(Device)->Registers ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

static NTSTATUS PpDev_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST Translated)
{
    UNREFERENCED_PARAMETER(Translated);
    PPPDEV_CONTEXT context = PpDevGetContext(Device);
    if (context->Registers)
        MmUnmapIoSpace((PVOID)context->Registers, 0x1000);
    context->Registers = NULL;
    return STATUS_SUCCESS;
}

static NTSTATUS PpDev_EvtDeviceD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    PPPDEV_CONTEXT context = PpDevGetContext(Device);
    context->Shadow = ExAllocatePoolWithTag(NonPagedPoolNx, PPDEV_SHADOW_BYTES, PPDEV_TAG);
    if (!context->Shadow)
        return STATUS_INSUFFICIENT_RESOURCES;
    WRITE_REGISTER_ULONG(&context->Registers[PPDEV_REG_CONTROL], 1);
    if (PreviousState == WdfPowerDevicePrepareForHibernation) {
        /* the firmware did not survive hibernation: the device cannot run */
        if (!IS_VARIANT(VARIANT_D0ENTRY_FAIL_LEAK)) {
            ExFreePoolWithTag(context->Shadow, PPDEV_TAG);
            context->Shadow = NULL;
        } /* bug: D0Exit would free it, but a failed D0Entry gets no D0Exit */
        return STATUS_DEVICE_NOT_READY;
    }
    ExReInitializeRundownProtection(&context->D0Rundown);
    return STATUS_SUCCESS;
}

static NTSTATUS PpDev_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    UNREFERENCED_PARAMETER(TargetState);
    PPPDEV_CONTEXT context = PpDevGetContext(Device);
    ExWaitForRundownProtectionRelease(&context->D0Rundown); /* status reads in flight finish in D0 */
    WRITE_REGISTER_ULONG(&context->Registers[PPDEV_REG_CONTROL], 0);
    if (context->Shadow)
        ExFreePoolWithTag(context->Shadow, PPDEV_TAG);
    context->Shadow = NULL;
    return STATUS_SUCCESS;
}

static NTSTATUS PpDev_EvtDeviceArmWakeFromS0(WDFDEVICE Device)
{
    /* called in partial Dx, before D0Exit: the registers are still powered */
    WRITE_REGISTER_ULONG(&PpDevGetContext(Device)->Registers[PPDEV_REG_CONTROL], 3);
    return STATUS_SUCCESS;
}

static VOID PpDev_EvtDeviceDisarmWakeFromS0(WDFDEVICE Device)
{
    PPPDEV_CONTEXT context = PpDevGetContext(Device);
    /* after D0Entry: read why we woke, clear it */
    (void)READ_REGISTER_ULONG(&context->Registers[PPDEV_REG_WAKE_STATUS]);
    WRITE_REGISTER_ULONG(&context->Registers[PPDEV_REG_WAKE_STATUS], 0);
}

static VOID PpDev_EvtDeviceWakeFromS0Triggered(WDFDEVICE Device)
{
    PPPDEV_CONTEXT context = PpDevGetContext(Device);
    InterlockedIncrement(&context->WakeSignals);
    if (IS_VARIANT(VARIANT_TRIGGERED_TOUCHES_HW)) /* bug: the device is still in Dx here */
        (void)READ_REGISTER_ULONG(&context->Registers[PPDEV_REG_WAKE_STATUS]);
}

/* A status query: the registers under a power reference of our own. */
static VOID PpDev_ReadStatus(WDFDEVICE Device, WDFREQUEST Request)
{
    PPPDEV_CONTEXT context = PpDevGetContext(Device);
    if (IS_VARIANT(VARIANT_NO_POWER_REF)) {
        /* bug: "mapped" is taken for "powered"; a non-power-managed queue
         * gives no power guarantee and no reference was taken */
        if (context->Registers)
            (void)READ_REGISTER_ULONG(&context->Registers[PPDEV_REG_STATUS]);
        WdfRequestComplete(Request, STATUS_SUCCESS);
        return;
    }
    NTSTATUS status = WdfDeviceStopIdle(Device, TRUE);
    if (!NT_SUCCESS(status)) {
        WdfRequestComplete(Request, status);
        if (IS_VARIANT(VARIANT_RESUME_AFTER_FAILED_STOP)) /* bug: the failed StopIdle took no reference */
            WdfDeviceResumeIdle(Device);
        return;
    }
    status = STATUS_DEVICE_NOT_READY; /* powered down for a stop, sleep or removal meanwhile */
    if (ExAcquireRundownProtection(&context->D0Rundown)) {
        (void)READ_REGISTER_ULONG(&context->Registers[PPDEV_REG_STATUS]);
        ExReleaseRundownProtection(&context->D0Rundown);
        status = STATUS_SUCCESS;
    }
    WdfDeviceResumeIdle(Device);
    WdfRequestComplete(Request, status);
}

static VOID PpDev_EvtIoDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                     size_t InputBufferLength, ULONG IoControlCode)
{
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);
    WDFDEVICE device = WdfIoQueueGetDevice(Queue);
    switch (IoControlCode) {
    case IOCTL_PPDEV_READ_STATUS:
        PpDev_ReadStatus(device, Request);
        return;
    case IOCTL_PPDEV_TRANSFER: {
        NTSTATUS status = WdfRequestForwardToIoQueue(Request, PpDevGetContext(device)->DataQueue);
        if (!NT_SUCCESS(status))
            WdfRequestComplete(Request, status);
        return;
    }
    default:
        WdfRequestComplete(Request, STATUS_INVALID_DEVICE_REQUEST);
    }
}

/* The power-managed data queue: dispatched only in D0. */
static VOID PpDev_EvtIoDataControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                   size_t InputBufferLength, ULONG IoControlCode)
{
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);
    UNREFERENCED_PARAMETER(IoControlCode);
    PPPDEV_CONTEXT context = PpDevGetContext(WdfIoQueueGetDevice(Queue));
    WRITE_REGISTER_ULONG(&context->Registers[PPDEV_REG_DATA], 0x5A);
    WdfRequestComplete(Request, STATUS_SUCCESS);
}
