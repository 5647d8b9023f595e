/*
 * clchild: the recorder function driver of tests/lifecycle_childlist/cl.h:
 * the FDO on each clbus child. Logs its PnP callbacks and its object's
 * cleanup and destroy.
 */
#include <tdf/harness.h>

#include "cl.h"

typedef struct _CLCHILD_CONTEXT {
    ULONG Id;
} CLCHILD_CONTEXT, *PCLCHILD_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(CLCHILD_CONTEXT, ClChildGetContext)

DRIVER_INITIALIZE ClChild_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD ClChild_EvtDeviceAdd;
static EVT_WDF_DRIVER_UNLOAD ClChild_EvtDriverUnload;
static EVT_WDF_DEVICE_PREPARE_HARDWARE ClChild_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE ClChild_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_EXIT ClChild_EvtDeviceD0Exit;
static EVT_WDF_DEVICE_SURPRISE_REMOVAL ClChild_EvtDeviceSurpriseRemoval;
static EVT_WDF_DEVICE_QUERY_REMOVE ClChild_EvtDeviceQueryRemove;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP ClChild_EvtCleanupCallback;
static EVT_WDF_OBJECT_CONTEXT_DESTROY ClChild_EvtDestroyCallback;

static VOID ClChild_Log(WDFOBJECT Device, PCSTR What) { DbgPrint("child%u FDO %s", ClChildGetContext(Device)->Id, What); }

NTSTATUS ClChild_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, ClChild_EvtDeviceAdd);
    config.EvtDriverUnload = ClChild_EvtDriverUnload;
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static VOID ClChild_EvtDriverUnload(WDFDRIVER Driver)
{
    UNREFERENCED_PARAMETER(Driver);
    DbgPrint("clchild EvtDriverUnload");
}

static NTSTATUS ClChild_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    UNREFERENCED_PARAMETER(Driver);
    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = ClChild_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = ClChild_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Exit = ClChild_EvtDeviceD0Exit;
    callbacks.EvtDeviceSurpriseRemoval = ClChild_EvtDeviceSurpriseRemoval;
    callbacks.EvtDeviceQueryRemove = ClChild_EvtDeviceQueryRemove;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, CLCHILD_CONTEXT);
    attributes.EvtCleanupCallback = ClChild_EvtCleanupCallback;
    attributes.EvtDestroyCallback = ClChild_EvtDestroyCallback;
    return WdfDeviceCreate(&DeviceInit, &attributes, &device);
}

static NTSTATUS ClChild_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST Raw, WDFCMRESLIST Translated)
{
    CL_IDENTITY_INTERFACE identity;
    UNREFERENCED_PARAMETER(Raw);
    UNREFERENCED_PARAMETER(Translated);
    NTSTATUS status = WdfFdoQueryForInterface(Device, &GUID_CL_IDENTITY_INTERFACE, &identity.InterfaceHeader,
                                              sizeof(identity), 1, NULL);
    if (!NT_SUCCESS(status))
        return status;
    ClChildGetContext(Device)->Id = identity.Id;
    identity.InterfaceHeader.InterfaceDereference(identity.InterfaceHeader.Context);
    ClChild_Log(Device, "PrepareHardware");
    return STATUS_SUCCESS;
}

static NTSTATUS ClChild_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST Translated)
{
    UNREFERENCED_PARAMETER(Translated);
    ClChild_Log(Device, "ReleaseHardware");
    return STATUS_SUCCESS;
}

static NTSTATUS ClChild_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    UNREFERENCED_PARAMETER(TargetState);
    ClChild_Log(Device, "D0Exit");
    return STATUS_SUCCESS;
}

static VOID ClChild_EvtDeviceSurpriseRemoval(WDFDEVICE Device) { ClChild_Log(Device, "SurpriseRemoval"); }

static NTSTATUS ClChild_EvtDeviceQueryRemove(WDFDEVICE Device)
{
    ClChild_Log(Device, "QueryRemove");
    return TdfVariant() == CL_VARIANT_VETO_QUERY_REMOVE ? STATUS_DEVICE_BUSY : STATUS_SUCCESS;
}

static VOID ClChild_EvtCleanupCallback(WDFOBJECT Object) { ClChild_Log(Object, "EvtCleanupCallback"); }
static VOID ClChild_EvtDestroyCallback(WDFOBJECT Object) { ClChild_Log(Object, "EvtDestroyCallback"); }
