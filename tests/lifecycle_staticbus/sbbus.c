/*
 * sbbus: the recorder bus of tests/lifecycle_staticbus/sb.h. Its children are
 * static PDOs (WdfFdoAddStaticChild), one per serial number: the "boot"
 * parameter's bits at AddDevice, then the stimuli (each on a thread of its
 * own): plug, unplug (marked missing under the list's lock), eject (requested
 * under the lock, the lock held while the eject runs), iterate (a walk with
 * each retrieval flag, a child plugged during it), plug_unplug (a child marked
 * missing before PnP heard of it). Two sources (sbbus_walk.c has the
 * stimuli), so the image also checks tdf_add_image with several files and a
 * define (SB_BUS_NUMBER, tests/CMakeLists.txt).
 */
#include <tdf/harness.h>

#include "sb.h"

DRIVER_INITIALIZE SbBus_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD SbBus_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE SbBus_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_SURPRISE_REMOVAL SbBus_EvtDeviceSurpriseRemoval;
static EVT_WDF_DEVICE_EJECT SbBus_EvtDeviceEject;
static EVT_WDF_DEVICE_REPORTED_MISSING SbBus_EvtDeviceReportedMissing;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP SbBus_EvtCleanupCallback;

static VOID SbBus_Log(WDFOBJECT Device, PCSTR What)
{
    PSBBUS_CONTEXT c = SbBusGetContext(Device);
    if (c->IsPdo)
        DbgPrint("child%u PDO %s", c->Serial, What);
    else
        DbgPrint("sbbus FDO %s", What);
}

NTSTATUS SbBus_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, SbBus_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static VOID SbBus_SetPnpCallbacks(PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = SbBus_EvtDevicePrepareHardware;
    callbacks.EvtDeviceSurpriseRemoval = SbBus_EvtDeviceSurpriseRemoval;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
}

/* A PDO for this serial: IDs, device text "child<n>", eject capability. */
NTSTATUS SbBus_CreatePdo(WDFDEVICE Device, ULONG Serial)
{
    DECLARE_CONST_UNICODE_STRING(deviceId, SB_CHILD_HARDWARE_ID);
    DECLARE_CONST_UNICODE_STRING(familyId, SB_FAMILY_HARDWARE_ID);
    DECLARE_CONST_UNICODE_STRING(compatibleId, SB_COMPATIBLE_ID);
    DECLARE_CONST_UNICODE_STRING(location, L"Static bus slot");
    DECLARE_UNICODE_STRING_SIZE(text, 16);
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_PDO_EVENT_CALLBACKS pdoCallbacks;
    WDFDEVICE pdo;
    NTSTATUS status;

    PWDFDEVICE_INIT init = WdfPdoInitAllocate(Device);
    if (!init)
        return STATUS_INSUFFICIENT_RESOURCES;
    (void)WdfPdoInitAssignDeviceID(init, &deviceId);
    (void)WdfPdoInitAddHardwareID(init, &deviceId);
    (void)WdfPdoInitAddHardwareID(init, &familyId);
    (void)WdfPdoInitAddCompatibleID(init, &compatibleId);
    (void)RtlUnicodeStringPrintf(&text, L"child%u", (unsigned)Serial);
    (void)WdfPdoInitAddDeviceText(init, &text, &location, 0x409);
    SbBus_SetPnpCallbacks(init);
    WDF_PDO_EVENT_CALLBACKS_INIT(&pdoCallbacks);
    pdoCallbacks.EvtDeviceEject = SbBus_EvtDeviceEject;
    pdoCallbacks.EvtDeviceReportedMissing = SbBus_EvtDeviceReportedMissing;
    WdfPdoInitSetEventCallbacks(init, &pdoCallbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, SBBUS_CONTEXT);
    attributes.EvtCleanupCallback = SbBus_EvtCleanupCallback;
    status = WdfDeviceCreate(&init, &attributes, &pdo);
    if (!NT_SUCCESS(status)) {
        WdfDeviceInitFree(init);
        return status;
    }
    SbBusGetContext(pdo)->IsPdo = TRUE;
    SbBusGetContext(pdo)->Serial = Serial;
    WDF_DEVICE_PNP_CAPABILITIES caps;
    WDF_DEVICE_PNP_CAPABILITIES_INIT(&caps);
    caps.EjectSupported = WdfTrue;
    caps.Removable = WdfTrue;
    WdfDeviceSetPnpCapabilities(pdo, &caps);
    return WdfFdoAddStaticChild(Device, pdo);
}

static NTSTATUS SbBus_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    UNREFERENCED_PARAMETER(Driver);

    SbBus_SetPnpCallbacks(DeviceInit);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, SBBUS_CONTEXT);
    attributes.EvtCleanupCallback = SbBus_EvtCleanupCallback;
    NTSTATUS status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;
    PNP_BUS_INFORMATION busInfo;
    RtlZeroMemory(&busInfo, sizeof(busInfo));
    busInfo.LegacyBusType = Internal;
    busInfo.BusNumber = SB_BUS_NUMBER;
    WdfDeviceSetBusInformationForChildren(device, &busInfo);
    ULONG boot = TdfParam("boot");
    for (ULONG i = 0; i < 4; i++)
        if (boot & (1u << i))
            (void)SbBus_CreatePdo(device, i);
    return STATUS_SUCCESS;
}

static NTSTATUS SbBus_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST Raw, WDFCMRESLIST Translated)
{
    UNREFERENCED_PARAMETER(Raw);
    UNREFERENCED_PARAMETER(Translated);
    SbBus_Log(Device, "PrepareHardware");
    return STATUS_SUCCESS;
}

static VOID SbBus_EvtDeviceSurpriseRemoval(WDFDEVICE Device) { SbBus_Log(Device, "SurpriseRemoval"); }

static NTSTATUS SbBus_EvtDeviceEject(WDFDEVICE Device)
{
    SbBus_Log(Device, "EvtDeviceEject");
    return STATUS_SUCCESS;
}

static VOID SbBus_EvtDeviceReportedMissing(WDFDEVICE Device) { SbBus_Log(Device, "ReportedMissing"); }

static VOID SbBus_EvtCleanupCallback(WDFOBJECT Object) { SbBus_Log(Object, "EvtCleanupCallback"); }
