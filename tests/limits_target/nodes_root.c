/* The root bus of the limits test's tree: `children` sub-bus PDOs. */
#include "nodes_if.h"

DRIVER_INITIALIZE NodesRoot_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD NodesRoot_EvtDeviceAdd;

NTSTATUS NodesRoot_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, NodesRoot_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS NodesRoot_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    static const UNICODE_STRING sub = RTL_CONSTANT_STRING(NODES_SUB_ID);
    UNREFERENCED_PARAMETER(Driver);
    return Nodes_AddDevice(DeviceInit, &sub);
}
