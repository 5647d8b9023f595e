/*
 * Toaster function driver: maps its registers in PrepareHardware, queries the
 * bus's heat-status interface and registers a callback while the device is
 * in D0 (SelfManagedIoInit/Restart), unregisters it first thing in every
 * power-down path (SelfManagedIoSuspend), as the "sharing hardware resources"
 * pattern recommends. The callback writes the temperature to the toaster's
 * thermostat register, which needs D0.
 */
#include <tdf/harness.h>

#include "toaster_if.h"

typedef struct _TOASTER_CONTEXT {
    volatile ULONG *Registers;
    TOASTER_STATUS_INTERFACE Bus;
    BOOLEAN HaveBus;
} TOASTER_CONTEXT, *PTOASTER_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(TOASTER_CONTEXT, ToasterGetContext)

DRIVER_INITIALIZE Toaster_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD Toaster_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE Toaster_EvtPrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE Toaster_EvtReleaseHardware;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT Toaster_EvtSelfManagedIoStart;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_SUSPEND Toaster_EvtSelfManagedIoSuspend;
static TOASTER_HEAT_CALLBACK Toaster_OnHeat;

NTSTATUS Toaster_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Toaster_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Toaster_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = Toaster_EvtPrepareHardware;
    callbacks.EvtDeviceReleaseHardware = Toaster_EvtReleaseHardware;
    callbacks.EvtDeviceSelfManagedIoInit = Toaster_EvtSelfManagedIoStart;
    callbacks.EvtDeviceSelfManagedIoRestart = Toaster_EvtSelfManagedIoStart;
    callbacks.EvtDeviceSelfManagedIoSuspend = Toaster_EvtSelfManagedIoSuspend;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, TOASTER_CONTEXT);
    NTSTATUS status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;
    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    return WdfDeviceAssignS0IdleSettings(device, &idleSettings);
}

static NTSTATUS Toaster_EvtPrepareHardware(WDFDEVICE Device, WDFCMRESLIST Raw, WDFCMRESLIST Translated)
{
    PTOASTER_CONTEXT context = ToasterGetContext(Device);
    UNREFERENCED_PARAMETER(Raw);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(Translated, 0);
    if (!d || d->Type != CmResourceTypeMemory)
        return STATUS_DEVICE_NOT_READY;
    context->Registers = MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    if (!context->Registers)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS status = WdfFdoQueryForInterface(Device, &GUID_TOASTER_STATUS_INTERFACE, &context->Bus.InterfaceHeader,
                                              sizeof(context->Bus), TOASTER_STATUS_INTERFACE_VERSION, NULL);
    context->HaveBus = NT_SUCCESS(status);
    return status;
}

static NTSTATUS Toaster_EvtReleaseHardware(WDFDEVICE Device, WDFCMRESLIST Translated)
{
    PTOASTER_CONTEXT context = ToasterGetContext(Device);
    UNREFERENCED_PARAMETER(Translated);
    if (context->HaveBus) {
        context->Bus.InterfaceHeader.InterfaceDereference(context->Bus.InterfaceHeader.Context);
        context->HaveBus = FALSE;
    }
    if (context->Registers) {
        MmUnmapIoSpace((PVOID)context->Registers, 0x1000);
        context->Registers = NULL;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS Toaster_EvtSelfManagedIoStart(WDFDEVICE Device)
{
    PTOASTER_CONTEXT context = ToasterGetContext(Device);
    return context->Bus.RegisterHeatCallback(context->Bus.InterfaceHeader.Context, Toaster_OnHeat, context);
}

static NTSTATUS Toaster_EvtSelfManagedIoSuspend(WDFDEVICE Device)
{
    PTOASTER_CONTEXT context = ToasterGetContext(Device);
    context->Bus.UnregisterHeatCallback(context->Bus.InterfaceHeader.Context);
    return STATUS_SUCCESS;
}

static VOID Toaster_OnHeat(PVOID CallbackContext, ULONG Temperature)
{
    PTOASTER_CONTEXT context = CallbackContext;
    WRITE_REGISTER_ULONG(&context->Registers[0], Temperature); /* thermostat: needs D0 */
}
