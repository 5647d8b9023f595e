/*
 * Recorder for tests/test_lifecycle_interrupt.c: one root-enumerated FDO with
 * two WDFINTERRUPTs (the device has one interrupt resource: interrupt 1 is
 * never connected) that logs one DbgPrint line per callback, with the IRQL
 * where it matters. Lines: "recint <Callback>[(detail)]"; "... begin" /
 * "... end" pairs bracket the ISR and EvtInterruptDisable so the test can
 * check they never overlap. Registers: the ISR, the DPC and D0Exit touch
 * them, so the hardware oracle judges every one of those calls.
 *
 * Variants (REC_INT_VARIANT_*): sync_in_d0entry calls WdfInterruptSynchronize
 * in EvtDeviceD0Entry (not connected yet); create_late calls
 * WdfInterruptCreate in EvtDeviceSelfManagedIoInit and logs its status.
 */
#include <tdf/harness.h>

#include "recint.h"

typedef struct _RECINT_CONTEXT {
    volatile ULONG *Registers;
    WDFINTERRUPT Interrupt[2];
    ULONG Count;
} RECINT_CONTEXT, *PRECINT_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(RECINT_CONTEXT, RecIntGetContext)

DRIVER_INITIALIZE RecInt_DriverEntry;
EVT_TDF_STIMULUS RecInt_StimulusSync;
static EVT_WDF_DRIVER_DEVICE_ADD RecInt_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE RecInt_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE RecInt_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_ENTRY RecInt_EvtDeviceD0Entry;
static EVT_WDF_DEVICE_D0_ENTRY_POST_INTERRUPTS_ENABLED RecInt_EvtDeviceD0EntryPostInterruptsEnabled;
static EVT_WDF_DEVICE_D0_EXIT_PRE_INTERRUPTS_DISABLED RecInt_EvtDeviceD0ExitPreInterruptsDisabled;
static EVT_WDF_DEVICE_D0_EXIT RecInt_EvtDeviceD0Exit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT RecInt_EvtDeviceSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_SUSPEND RecInt_EvtDeviceSelfManagedIoSuspend;
static EVT_WDF_DEVICE_SURPRISE_REMOVAL RecInt_EvtDeviceSurpriseRemoval;
static EVT_WDF_INTERRUPT_ISR RecInt_EvtInterruptIsr;
static EVT_WDF_INTERRUPT_DPC RecInt_EvtInterruptDpc;
static EVT_WDF_INTERRUPT_ENABLE RecInt_EvtInterruptEnable;
static EVT_WDF_INTERRUPT_DISABLE RecInt_EvtInterruptDisable;
static EVT_WDF_INTERRUPT_SYNCHRONIZE RecInt_EvtSynchronize;

#define LOG(...) DbgPrint("recint " __VA_ARGS__)

NTSTATUS RecInt_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, RecInt_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static unsigned which(PRECINT_CONTEXT context, WDFINTERRUPT Interrupt)
{
    return Interrupt == context->Interrupt[1] ? 1u : 0u;
}

static NTSTATUS RecInt_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_INTERRUPT_CONFIG interruptConfig;
    WDFDEVICE device;
    UNREFERENCED_PARAMETER(Driver);
    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = RecInt_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = RecInt_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Entry = RecInt_EvtDeviceD0Entry;
    callbacks.EvtDeviceD0EntryPostInterruptsEnabled = RecInt_EvtDeviceD0EntryPostInterruptsEnabled;
    callbacks.EvtDeviceD0ExitPreInterruptsDisabled = RecInt_EvtDeviceD0ExitPreInterruptsDisabled;
    callbacks.EvtDeviceD0Exit = RecInt_EvtDeviceD0Exit;
    callbacks.EvtDeviceSelfManagedIoInit = RecInt_EvtDeviceSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoSuspend = RecInt_EvtDeviceSelfManagedIoSuspend;
    callbacks.EvtDeviceSurpriseRemoval = RecInt_EvtDeviceSurpriseRemoval;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, RECINT_CONTEXT);
    NTSTATUS status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings; /* the `idle` event needs them (KERNEL-SEMANTICS §13) */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;
    PRECINT_CONTEXT context = RecIntGetContext(device);
    for (unsigned i = 0; i < 2; i++) {
        WDF_INTERRUPT_CONFIG_INIT(&interruptConfig, RecInt_EvtInterruptIsr, RecInt_EvtInterruptDpc);
        interruptConfig.EvtInterruptEnable = RecInt_EvtInterruptEnable;
        interruptConfig.EvtInterruptDisable = RecInt_EvtInterruptDisable;
        status = WdfInterruptCreate(device, &interruptConfig, WDF_NO_OBJECT_ATTRIBUTES, &context->Interrupt[i]);
        LOG("WdfInterruptCreate(%u) in AddDevice: 0x%lx", i, (unsigned long)(ULONG)status);
        if (!NT_SUCCESS(status))
            return status;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS RecInt_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST Raw, WDFCMRESLIST Translated)
{
    PRECINT_CONTEXT context = RecIntGetContext(Device);
    UNREFERENCED_PARAMETER(Raw);
    ULONG interrupts = 0;
    for (ULONG i = 0; i < WdfCmResourceListGetCount(Translated); i++)
        if (WdfCmResourceListGetDescriptor(Translated, i)->Type == CmResourceTypeInterrupt)
            interrupts++;
    LOG("PrepareHardware(%lu interrupt resource(s))", (unsigned long)interrupts);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(Translated, 0);
    context->Registers = MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    return STATUS_SUCCESS;
}

static NTSTATUS RecInt_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST Translated)
{
    PRECINT_CONTEXT context = RecIntGetContext(Device);
    UNREFERENCED_PARAMETER(Translated);
    LOG("ReleaseHardware");
    MmUnmapIoSpace((PVOID)context->Registers, 0x1000);
    context->Registers = NULL;
    return STATUS_SUCCESS;
}

static NTSTATUS RecInt_EvtDeviceD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    PRECINT_CONTEXT context = RecIntGetContext(Device);
    UNREFERENCED_PARAMETER(PreviousState);
    LOG("D0Entry");
    if (TdfVariant() == REC_INT_VARIANT_SYNC_IN_D0ENTRY)
        WdfInterruptSynchronize(context->Interrupt[0], RecInt_EvtSynchronize, context);
    return STATUS_SUCCESS;
}

static NTSTATUS RecInt_EvtDeviceD0EntryPostInterruptsEnabled(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    UNREFERENCED_PARAMETER(Device);
    UNREFERENCED_PARAMETER(PreviousState);
    LOG("D0EntryPostInterruptsEnabled(irql %u)", (unsigned)KeGetCurrentIrql());
    return STATUS_SUCCESS;
}

static NTSTATUS RecInt_EvtDeviceD0ExitPreInterruptsDisabled(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    UNREFERENCED_PARAMETER(Device);
    UNREFERENCED_PARAMETER(TargetState);
    LOG("D0ExitPreInterruptsDisabled(irql %u)", (unsigned)KeGetCurrentIrql());
    return STATUS_SUCCESS;
}

static NTSTATUS RecInt_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    PRECINT_CONTEXT context = RecIntGetContext(Device);
    UNREFERENCED_PARAMETER(TargetState);
    LOG("D0Exit");
    WRITE_REGISTER_ULONG(&context->Registers[1], 0);
    return STATUS_SUCCESS;
}

static NTSTATUS RecInt_EvtDeviceSelfManagedIoInit(WDFDEVICE Device)
{
    LOG("SelfManagedIoInit");
    if (TdfVariant() == REC_INT_VARIANT_CREATE_LATE) {
        WDF_INTERRUPT_CONFIG interruptConfig;
        WDFINTERRUPT late;
        WDF_INTERRUPT_CONFIG_INIT(&interruptConfig, RecInt_EvtInterruptIsr, NULL);
        NTSTATUS status = WdfInterruptCreate(Device, &interruptConfig, WDF_NO_OBJECT_ATTRIBUTES, &late);
        LOG("WdfInterruptCreate in SelfManagedIoInit: 0x%lx", (unsigned long)(ULONG)status);
    }
    return STATUS_SUCCESS;
}

static NTSTATUS RecInt_EvtDeviceSelfManagedIoSuspend(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("SelfManagedIoSuspend");
    return STATUS_SUCCESS;
}

static VOID RecInt_EvtDeviceSurpriseRemoval(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("SurpriseRemoval");
}

static NTSTATUS RecInt_EvtInterruptEnable(WDFINTERRUPT Interrupt, WDFDEVICE AssociatedDevice)
{
    PRECINT_CONTEXT context = RecIntGetContext(AssociatedDevice);
    LOG("InterruptEnable(%u, irql %u)", which(context, Interrupt), (unsigned)KeGetCurrentIrql());
    WRITE_REGISTER_ULONG(&context->Registers[1], 1);
    return STATUS_SUCCESS;
}

static NTSTATUS RecInt_EvtInterruptDisable(WDFINTERRUPT Interrupt, WDFDEVICE AssociatedDevice)
{
    PRECINT_CONTEXT context = RecIntGetContext(AssociatedDevice);
    LOG("InterruptDisable begin(%u, irql %u)", which(context, Interrupt), (unsigned)KeGetCurrentIrql());
    WRITE_REGISTER_ULONG(&context->Registers[1], 0); /* a yield point inside the callback */
    LOG("InterruptDisable end");
    return STATUS_SUCCESS;
}

static BOOLEAN RecInt_EvtInterruptIsr(WDFINTERRUPT Interrupt, ULONG MessageID)
{
    PRECINT_CONTEXT context = RecIntGetContext(WdfInterruptGetDevice(Interrupt));
    UNREFERENCED_PARAMETER(MessageID);
    LOG("Isr begin(%u, irql %u)", which(context, Interrupt), (unsigned)KeGetCurrentIrql());
    WRITE_REGISTER_ULONG(&context->Registers[0], READ_REGISTER_ULONG(&context->Registers[0]));
    context->Count++;
    LOG("Isr end");
    if (!WdfInterruptQueueDpcForIsr(Interrupt))
        LOG("QueueDpcForIsr: already queued");
    return TRUE;
}

static VOID RecInt_EvtInterruptDpc(WDFINTERRUPT Interrupt, WDFOBJECT AssociatedObject)
{
    PRECINT_CONTEXT context = RecIntGetContext(AssociatedObject);
    LOG("Dpc(irql %u)", (unsigned)KeGetCurrentIrql());
    (void)READ_REGISTER_ULONG(&context->Registers[2]); /* the hardware oracle: must be in D0 */
    WdfInterruptAcquireLock(Interrupt);
    LOG("Dpc holds the interrupt lock(irql %u)", (unsigned)KeGetCurrentIrql());
    WdfInterruptReleaseLock(Interrupt);
}

static BOOLEAN RecInt_EvtSynchronize(WDFINTERRUPT Interrupt, WDFCONTEXT Context)
{
    UNREFERENCED_PARAMETER(Interrupt);
    UNREFERENCED_PARAMETER(Context);
    LOG("Synchronize(irql %u)", (unsigned)KeGetCurrentIrql());
    return TRUE;
}

/* A thread of the driver's synchronizes with the ISR (device in D0 only). */
VOID RecInt_StimulusSync(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    PRECINT_CONTEXT context = RecIntGetContext(Device);
    WdfInterruptSynchronize(context->Interrupt[0], RecInt_EvtSynchronize, context);
}
