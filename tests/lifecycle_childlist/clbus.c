/*
 * clbus: the recorder bus of tests/lifecycle_childlist/cl.h. Its children are
 * dynamic: the "boot" parameter's bits are reported by
 * EvtChildListScanForChildren, the stimuli (each on a thread of its own, the
 * bus's work item) report one child present or missing, rescan, iterate or
 * request an eject. Every framework callback logs a line.
 */
#include <tdf/harness.h>

#include "cl.h"

typedef struct _CLBUS_CONTEXT {
    BOOLEAN IsPdo;
    ULONG Id;           /* PDO: the child's id */
    BOOLEAN BootScanned; /* FDO */
} CLBUS_CONTEXT, *PCLBUS_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(CLBUS_CONTEXT, ClBusGetContext)

static DECLARE_CONST_UNICODE_STRING(CL_CHILD_HARDWARE_ID, CL_CHILD_HARDWARE_ID_TEXT);

DRIVER_INITIALIZE ClBus_DriverEntry;
EVT_TDF_STIMULUS ClBus_StimulusPlug;
EVT_TDF_STIMULUS ClBus_StimulusUnplug;
EVT_TDF_STIMULUS ClBus_StimulusRescan;
EVT_TDF_STIMULUS ClBus_StimulusIterate;
EVT_TDF_STIMULUS ClBus_StimulusEject;
EVT_TDF_STIMULUS ClBus_StimulusPlugIterate;
static EVT_WDF_DRIVER_DEVICE_ADD ClBus_EvtDeviceAdd;
static EVT_WDF_CHILD_LIST_CREATE_DEVICE ClBus_EvtChildListCreateDevice;
static EVT_WDF_CHILD_LIST_SCAN_FOR_CHILDREN ClBus_EvtChildListScanForChildren;
static EVT_WDF_CHILD_LIST_IDENTIFICATION_DESCRIPTION_CLEANUP ClBus_EvtDescriptionCleanup;
static EVT_WDF_DEVICE_PREPARE_HARDWARE ClBus_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE ClBus_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_EXIT ClBus_EvtDeviceD0Exit;
static EVT_WDF_DEVICE_SURPRISE_REMOVAL ClBus_EvtDeviceSurpriseRemoval;
static EVT_WDF_DEVICE_EJECT ClBus_EvtDeviceEject;
static EVT_WDF_DEVICE_REPORTED_MISSING ClBus_EvtDeviceReportedMissing;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP ClBus_EvtCleanupCallback;

static VOID ClBus_Log(WDFOBJECT Device, PCSTR What)
{
    PCLBUS_CONTEXT c = ClBusGetContext(Device);
    if (c->IsPdo)
        DbgPrint("child%u PDO %s", c->Id, What);
    else
        DbgPrint("clbus FDO %s", What);
}

NTSTATUS ClBus_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, ClBus_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static VOID ClBus_SetPnpCallbacks(PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = ClBus_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = ClBus_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Exit = ClBus_EvtDeviceD0Exit;
    callbacks.EvtDeviceSurpriseRemoval = ClBus_EvtDeviceSurpriseRemoval;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
}

static NTSTATUS ClBus_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_CHILD_LIST_CONFIG listConfig;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    UNREFERENCED_PARAMETER(Driver);

    ClBus_SetPnpCallbacks(DeviceInit);
    WDF_CHILD_LIST_CONFIG_INIT(&listConfig, sizeof(CL_CHILD_ID), ClBus_EvtChildListCreateDevice);
    listConfig.EvtChildListScanForChildren = ClBus_EvtChildListScanForChildren;
    listConfig.EvtChildListIdentificationDescriptionCleanup = ClBus_EvtDescriptionCleanup;
    WdfFdoInitSetDefaultChildListConfig(DeviceInit, &listConfig, WDF_NO_OBJECT_ATTRIBUTES);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, CLBUS_CONTEXT);
    attributes.EvtCleanupCallback = ClBus_EvtCleanupCallback;
    return WdfDeviceCreate(&DeviceInit, &attributes, &device);
}

static NTSTATUS ClBus_EvtChildListCreateDevice(WDFCHILDLIST ChildList,
                                               PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER IdentificationDescription,
                                               PWDFDEVICE_INIT ChildInit)
{
    PCL_CHILD_ID id = CONTAINING_RECORD(IdentificationDescription, CL_CHILD_ID, Header);
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_PDO_EVENT_CALLBACKS pdoCallbacks;
    WDFDEVICE pdo;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(ChildList);

    DbgPrint("clbus EvtChildListCreateDevice(%u)", id->Id);
    if (TdfVariant() == CL_VARIANT_SLOW_CREATE) {
        LARGE_INTEGER delay;
        delay.QuadPart = -10000; /* ends once every other thread is blocked or done */
        (void)KeDelayExecutionThread(KernelMode, FALSE, &delay);
        DbgPrint("clbus EvtChildListCreateDevice(%u) goes on", id->Id);
    }
    status = WdfPdoInitAssignDeviceID(ChildInit, &CL_CHILD_HARDWARE_ID);
    if (!NT_SUCCESS(status))
        return status;
    ClBus_SetPnpCallbacks(ChildInit);
    WDF_PDO_EVENT_CALLBACKS_INIT(&pdoCallbacks);
    pdoCallbacks.EvtDeviceEject = ClBus_EvtDeviceEject;
    pdoCallbacks.EvtDeviceReportedMissing = ClBus_EvtDeviceReportedMissing;
    WdfPdoInitSetEventCallbacks(ChildInit, &pdoCallbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, CLBUS_CONTEXT);
    attributes.EvtCleanupCallback = ClBus_EvtCleanupCallback;
    status = WdfDeviceCreate(&ChildInit, &attributes, &pdo);
    if (!NT_SUCCESS(status))
        return status;
    ClBusGetContext(pdo)->IsPdo = TRUE;
    ClBusGetContext(pdo)->Id = id->Id;

    if (TdfVariant() != CL_VARIANT_NO_EJECT_CAPABILITY) {
        WDF_DEVICE_PNP_CAPABILITIES caps;
        WDF_DEVICE_PNP_CAPABILITIES_INIT(&caps);
        caps.EjectSupported = WdfTrue;
        caps.Removable = WdfTrue;
        WdfDeviceSetPnpCapabilities(pdo, &caps);
    }

    CL_IDENTITY_INTERFACE identity;
    RtlZeroMemory(&identity, sizeof(identity));
    identity.InterfaceHeader.Size = sizeof(identity);
    identity.InterfaceHeader.Version = 1;
    identity.InterfaceHeader.Context = pdo;
    identity.Id = id->Id;
    WDF_QUERY_INTERFACE_CONFIG queryConfig;
    WDF_QUERY_INTERFACE_CONFIG_INIT(&queryConfig, &identity.InterfaceHeader, &GUID_CL_IDENTITY_INTERFACE, NULL);
    return WdfDeviceAddQueryInterface(pdo, &queryConfig);
}

static VOID ClBus_EvtDescriptionCleanup(WDFCHILDLIST ChildList, PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER Description)
{
    UNREFERENCED_PARAMETER(ChildList);
    DbgPrint("clbus DescriptionCleanup(%u)", CONTAINING_RECORD(Description, CL_CHILD_ID, Header)->Id);
}

static NTSTATUS ClBus_Report(WDFCHILDLIST List, ULONG Id, BOOLEAN Present)
{
    CL_CHILD_ID id;
    WDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER_INIT(&id.Header, sizeof(id));
    id.Id = Id;
    return Present ? WdfChildListAddOrUpdateChildDescriptionAsPresent(List, &id.Header, NULL)
                   : WdfChildListUpdateChildDescriptionAsMissing(List, &id.Header);
}

/* At every power-up: the boot children the first time. */
static VOID ClBus_EvtChildListScanForChildren(WDFCHILDLIST ChildList)
{
    PCLBUS_CONTEXT c = ClBusGetContext(WdfChildListGetDevice(ChildList));
    DbgPrint("clbus EvtChildListScanForChildren");
    if (c->BootScanned)
        return;
    c->BootScanned = TRUE;
    ULONG boot = TdfParam("boot");
    WdfChildListBeginScan(ChildList);
    for (ULONG i = 0; i < 4; i++)
        if (boot & (1u << i))
            (void)ClBus_Report(ChildList, i, TRUE);
    WdfChildListEndScan(ChildList);
}

VOID ClBus_StimulusPlug(WDFDEVICE Device, ULONG Argument)
{
    NTSTATUS status = ClBus_Report(WdfFdoGetDefaultChildList(Device), Argument % 4, TRUE);
    DbgPrint("clbus plug(%u) -> 0x%x", Argument % 4, (unsigned)status);
}

VOID ClBus_StimulusUnplug(WDFDEVICE Device, ULONG Argument)
{
    NTSTATUS status = ClBus_Report(WdfFdoGetDefaultChildList(Device), Argument % 4, FALSE);
    DbgPrint("clbus unplug(%u) -> 0x%x", Argument % 4, (unsigned)status);
}

/* A scan in which the children of the mask Argument are found. */
VOID ClBus_StimulusRescan(WDFDEVICE Device, ULONG Argument)
{
    WDFCHILDLIST list = WdfFdoGetDefaultChildList(Device);
    WdfChildListBeginScan(list);
    for (ULONG i = 0; i < 4; i++)
        if (Argument & (1u << i))
            (void)ClBus_Report(list, i, TRUE);
    DbgPrint("clbus scan reported");
    WdfChildListEndScan(list);
    DbgPrint("clbus scan ended");
}

/* Walks the present children; child Argument is reported missing (and
 * child Argument+1 present) during the walk. */
VOID ClBus_StimulusIterate(WDFDEVICE Device, ULONG Argument)
{
    WDFCHILDLIST list = WdfFdoGetDefaultChildList(Device);
    WDF_CHILD_LIST_ITERATOR iterator;
    CL_CHILD_ID id;
    WDF_CHILD_RETRIEVE_INFO info;
    WDFDEVICE pdo;
    WDF_CHILD_LIST_ITERATOR_INIT(&iterator, WdfRetrievePresentChildren);
    WdfChildListBeginIteration(list, &iterator);
    (void)ClBus_Report(list, Argument % 4, FALSE);
    (void)ClBus_Report(list, (Argument + 1) % 4, TRUE);
    for (;;) {
        WDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER_INIT(&id.Header, sizeof(id));
        WDF_CHILD_RETRIEVE_INFO_INIT(&info, &id.Header);
        if (!NT_SUCCESS(WdfChildListRetrieveNextDevice(list, &iterator, &pdo, &info)))
            break;
        DbgPrint("clbus iterate child%u %s", id.Id, pdo ? "has a PDO" : "no PDO");
    }
    WdfChildListEndIteration(list, &iterator);
    DbgPrint("clbus iteration ended");
}

VOID ClBus_StimulusEject(WDFDEVICE Device, ULONG Argument)
{
    CL_CHILD_ID id;
    WDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER_INIT(&id.Header, sizeof(id));
    id.Id = Argument % 4;
    BOOLEAN requested = WdfChildListRequestChildEject(WdfFdoGetDefaultChildList(Device), &id.Header);
    DbgPrint("clbus eject(%u) -> %s", id.Id, requested ? "requested" : "no such child");
}

static NTSTATUS ClBus_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST Raw, WDFCMRESLIST Translated)
{
    UNREFERENCED_PARAMETER(Raw);
    UNREFERENCED_PARAMETER(Translated);
    ClBus_Log(Device, "PrepareHardware");
    return STATUS_SUCCESS;
}

static NTSTATUS ClBus_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST Translated)
{
    UNREFERENCED_PARAMETER(Translated);
    ClBus_Log(Device, "ReleaseHardware");
    return STATUS_SUCCESS;
}

static NTSTATUS ClBus_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    UNREFERENCED_PARAMETER(TargetState);
    ClBus_Log(Device, "D0Exit");
    return STATUS_SUCCESS;
}

static VOID ClBus_EvtDeviceSurpriseRemoval(WDFDEVICE Device) { ClBus_Log(Device, "SurpriseRemoval"); }

static NTSTATUS ClBus_EvtDeviceEject(WDFDEVICE Device)
{
    ClBus_Log(Device, "EvtDeviceEject");
    return STATUS_SUCCESS;
}

static VOID ClBus_EvtDeviceReportedMissing(WDFDEVICE Device) { ClBus_Log(Device, "ReportedMissing"); }

static VOID ClBus_EvtCleanupCallback(WDFOBJECT Object) { ClBus_Log(Object, "EvtCleanupCallback"); }

/* Reports child Argument present, then at once (its PDO not created yet: the
 * relations query runs on another thread) walks the present, then the
 * pending children. */
VOID ClBus_StimulusPlugIterate(WDFDEVICE Device, ULONG Argument)
{
    WDFCHILDLIST list = WdfFdoGetDefaultChildList(Device);
    (void)ClBus_Report(list, Argument % 4, TRUE);
    static const ULONG flags[2] = {WdfRetrievePresentChildren, WdfRetrievePendingChildren};
    for (unsigned f = 0; f < 2; f++) {
        WDF_CHILD_LIST_ITERATOR iterator;
        CL_CHILD_ID id;
        WDF_CHILD_RETRIEVE_INFO info;
        WDFDEVICE pdo;
        WDF_CHILD_LIST_ITERATOR_INIT(&iterator, flags[f]);
        WdfChildListBeginIteration(list, &iterator);
        for (;;) {
            WDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER_INIT(&id.Header, sizeof(id));
            WDF_CHILD_RETRIEVE_INFO_INIT(&info, &id.Header);
            if (!NT_SUCCESS(WdfChildListRetrieveNextDevice(list, &iterator, &pdo, &info)))
                break;
            DbgPrint("clbus %s child%u %s", f ? "pending" : "present", id.Id,
                     info.Status == WdfChildListRetrieveDeviceSuccess ? "has a PDO" : "not yet created");
        }
        WdfChildListEndIteration(list, &iterator);
    }
}
