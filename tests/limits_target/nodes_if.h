/*
 * The limits test's two bus drivers (nodes_root.c, nodes_sub.c; target.c):
 * each FDO enumerates "children" PDOs of the next level's hardware ID. Code
 * shared by both images (compiled into each), no globals: a driver's globals
 * outlive runs, and the next run's write would race the last one's (TSan).
 */
#ifndef TDF_TESTS_NODES_IF_H
#define TDF_TESTS_NODES_IF_H

#include <tdf/harness.h>
#include <tdf/wdf.h>

#define NODES_ROOT_ID L"ROOT\\TdfLimitNodes"
#define NODES_SUB_ID L"TDFLIMIT\\Sub"
#define NODES_LEAF_ID L"TDFLIMIT\\Leaf" /* no driver: a PDO-only node */

static inline NTSTATUS Nodes_CreatePdo(WDFDEVICE Fdo, PCUNICODE_STRING Id)
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

/* AddDevice of either level: the FDO, then its "children" PDOs. */
static inline NTSTATUS Nodes_AddDevice(PWDFDEVICE_INIT DeviceInit, PCUNICODE_STRING ChildId)
{
    WDFDEVICE device;
    NTSTATUS status = WdfDeviceCreate(&DeviceInit, WDF_NO_OBJECT_ATTRIBUTES, &device);
    if (!NT_SUCCESS(status))
        return status;
    ULONG children = TdfParam("children");
    for (ULONG i = 0; i < children; i++) {
        status = Nodes_CreatePdo(device, ChildId);
        if (!NT_SUCCESS(status))
            return status;
    }
    return STATUS_SUCCESS;
}

#endif
