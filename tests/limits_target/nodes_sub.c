/* A sub-bus of the limits test's tree: `children` leaf PDOs (no driver). */
#include "nodes_if.h"

DRIVER_INITIALIZE NodesSub_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD NodesSub_EvtDeviceAdd;

NTSTATUS NodesSub_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, NodesSub_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS NodesSub_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    static const UNICODE_STRING leaf = RTL_CONSTANT_STRING(NODES_LEAF_ID);
    UNREFERENCED_PARAMETER(Driver);
    return Nodes_AddDevice(DeviceInit, &leaf);
}
