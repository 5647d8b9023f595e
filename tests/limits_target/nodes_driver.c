/*
 * A bus driver whose tree grows with the "children" parameter: the root bus
 * FDO enumerates `children` sub-buses, each sub-bus FDO `children` leaf PDOs
 * (no driver): 1 + c + c*c device nodes, past TDF_MAX_NODES (16) for c = 4.
 * A test of the harness limit, not a protocol under test.
 */
#include <tdf/harness.h>
#include <tdf/wdf.h>

#include "nodes_if.h"

DRIVER_INITIALIZE Nodes_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD Nodes_EvtDeviceAdd;

static ULONG g_fdos; /* FDOs added this load: the first is the root bus (set in DriverEntry) */

NTSTATUS Nodes_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    g_fdos = 0;
    WDF_DRIVER_CONFIG_INIT(&config, Nodes_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Nodes_CreatePdo(WDFDEVICE Fdo, PCUNICODE_STRING Id)
{
    PWDFDEVICE_INIT pdoInit = WdfPdoInitAllocate(Fdo);
    WDFDEVICE pdo;
    if (!pdoInit)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS status = WdfPdoInitAssignDeviceID(pdoInit, Id);
    if (!NT_SUCCESS(status)) {
        WdfDeviceInitFree(pdoInit);
        return status;
    }
    status = WdfDeviceCreate(&pdoInit, WDF_NO_OBJECT_ATTRIBUTES, &pdo);
    if (!NT_SUCCESS(status))
        return status;
    return WdfFdoAddStaticChild(Fdo, pdo);
}

static NTSTATUS Nodes_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    static const UNICODE_STRING sub = RTL_CONSTANT_STRING(NODES_SUB_ID);
    static const UNICODE_STRING leaf = RTL_CONSTANT_STRING(NODES_LEAF_ID);
    WDFDEVICE device;
    UNREFERENCED_PARAMETER(Driver);
    NTSTATUS status = WdfDeviceCreate(&DeviceInit, WDF_NO_OBJECT_ATTRIBUTES, &device);
    if (!NT_SUCCESS(status))
        return status;
    PCUNICODE_STRING id = g_fdos++ == 0 ? &sub : &leaf;
    ULONG children = TdfParam("children");
    for (ULONG i = 0; i < children; i++) {
        status = Nodes_CreatePdo(device, id);
        if (!NT_SUCCESS(status))
            return status;
    }
    return STATUS_SUCCESS;
}
