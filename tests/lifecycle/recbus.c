/*
 * recbus: the recorder bus driver (tests/lifecycle/rec.h). A root FDO ("bus")
 * that statically enumerates TdfParam("children") PDOs ("child<i>"), each
 * exporting the identity interface. Every callback registered on the FDO and
 * on the PDOs logs one trace line and succeeds; the bus has no hardware and
 * no queues of its own.
 */
#include <tdf/harness.h>

#include "rec.h"

typedef struct _RECBUS_DEVICE_CONTEXT {
    BOOLEAN IsPdo;
    ULONG Index; /* PDO: child index on the bus */
} RECBUS_DEVICE_CONTEXT, *PRECBUS_DEVICE_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(RECBUS_DEVICE_CONTEXT, RecBusGetContext)

static DECLARE_CONST_UNICODE_STRING(REC_CHILD_HARDWARE_ID, REC_CHILD_HARDWARE_ID_TEXT);

DRIVER_INITIALIZE RecBus_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD RecBus_EvtDeviceAdd;
static EVT_WDF_DRIVER_UNLOAD RecBus_EvtDriverUnload;
static EVT_WDF_DEVICE_PREPARE_HARDWARE RecBus_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE RecBus_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_ENTRY RecBus_EvtDeviceD0Entry;
static EVT_WDF_DEVICE_D0_EXIT RecBus_EvtDeviceD0Exit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT RecBus_EvtDeviceSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_SUSPEND RecBus_EvtDeviceSelfManagedIoSuspend;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_RESTART RecBus_EvtDeviceSelfManagedIoRestart;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_FLUSH RecBus_EvtDeviceSelfManagedIoFlush;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP RecBus_EvtDeviceSelfManagedIoCleanup;
static EVT_WDF_DEVICE_SURPRISE_REMOVAL RecBus_EvtDeviceSurpriseRemoval;
static EVT_WDF_DEVICE_QUERY_REMOVE RecBus_EvtDeviceQueryRemove;
static EVT_WDF_DEVICE_QUERY_STOP RecBus_EvtDeviceQueryStop;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP RecBus_EvtCleanupCallback;

/* "bus FDO <What>" or "child<i> PDO <What>", with "(<Argument>)" if given. */
static VOID RecBus_Log(WDFOBJECT Device, PCSTR What, PCSTR Argument)
{
    PRECBUS_DEVICE_CONTEXT context = RecBusGetContext(Device);
    if (context->IsPdo)
        DbgPrint("child%u PDO %s%s%s%s", context->Index, What, Argument ? "(" : "", Argument ? Argument : "",
                 Argument ? ")" : "");
    else
        DbgPrint("bus FDO %s%s%s%s", What, Argument ? "(" : "", Argument ? Argument : "", Argument ? ")" : "");
}

static VOID RecBus_SetCallbacks(PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = RecBus_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = RecBus_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Entry = RecBus_EvtDeviceD0Entry;
    callbacks.EvtDeviceD0Exit = RecBus_EvtDeviceD0Exit;
    callbacks.EvtDeviceSelfManagedIoInit = RecBus_EvtDeviceSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoSuspend = RecBus_EvtDeviceSelfManagedIoSuspend;
    callbacks.EvtDeviceSelfManagedIoRestart = RecBus_EvtDeviceSelfManagedIoRestart;
    callbacks.EvtDeviceSelfManagedIoFlush = RecBus_EvtDeviceSelfManagedIoFlush;
    callbacks.EvtDeviceSelfManagedIoCleanup = RecBus_EvtDeviceSelfManagedIoCleanup;
    callbacks.EvtDeviceSurpriseRemoval = RecBus_EvtDeviceSurpriseRemoval;
    callbacks.EvtDeviceQueryRemove = RecBus_EvtDeviceQueryRemove;
    callbacks.EvtDeviceQueryStop = RecBus_EvtDeviceQueryStop;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
}

NTSTATUS RecBus_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    DbgPrint("recbus DriverEntry");
    WDF_DRIVER_CONFIG_INIT(&config, RecBus_EvtDeviceAdd);
    config.EvtDriverUnload = RecBus_EvtDriverUnload;
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static VOID RecBus_EvtDriverUnload(WDFDRIVER Driver)
{
    UNREFERENCED_PARAMETER(Driver);
    DbgPrint("recbus EvtDriverUnload");
}

static NTSTATUS RecBus_CreatePdo(WDFDEVICE Fdo, ULONG Index)
{
    PWDFDEVICE_INIT pdoInit = WdfPdoInitAllocate(Fdo);
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE pdo;
    NTSTATUS status;

    if (!pdoInit)
        return STATUS_INSUFFICIENT_RESOURCES;
    status = WdfPdoInitAssignDeviceID(pdoInit, &REC_CHILD_HARDWARE_ID);
    if (!NT_SUCCESS(status)) {
        WdfDeviceInitFree(pdoInit);
        return status;
    }
    RecBus_SetCallbacks(pdoInit);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, RECBUS_DEVICE_CONTEXT);
    attributes.EvtCleanupCallback = RecBus_EvtCleanupCallback;
    status = WdfDeviceCreate(&pdoInit, &attributes, &pdo);
    if (!NT_SUCCESS(status))
        return status;
    RecBusGetContext(pdo)->IsPdo = TRUE;
    RecBusGetContext(pdo)->Index = Index;

    REC_IDENTITY_INTERFACE identity;
    RtlZeroMemory(&identity, sizeof(identity));
    identity.InterfaceHeader.Size = sizeof(identity);
    identity.InterfaceHeader.Version = REC_IDENTITY_INTERFACE_VERSION;
    identity.InterfaceHeader.Context = pdo;
    identity.Index = Index; /* NULL reference/dereference: the framework's no-ops */
    WDF_QUERY_INTERFACE_CONFIG queryConfig;
    WDF_QUERY_INTERFACE_CONFIG_INIT(&queryConfig, &identity.InterfaceHeader, &GUID_REC_IDENTITY_INTERFACE, NULL);
    status = WdfDeviceAddQueryInterface(pdo, &queryConfig);
    if (!NT_SUCCESS(status))
        return status;
    return WdfFdoAddStaticChild(Fdo, pdo);
}

static NTSTATUS RecBus_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    DbgPrint("recbus EvtDriverDeviceAdd");
    RecBus_SetCallbacks(DeviceInit);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, RECBUS_DEVICE_CONTEXT);
    attributes.EvtCleanupCallback = RecBus_EvtCleanupCallback;
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;
    ULONG children = TdfParam("children");
    for (ULONG i = 0; i < children; i++) {
        status = RecBus_CreatePdo(device, i);
        if (!NT_SUCCESS(status))
            return status;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS RecBus_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                                WDFCMRESLIST ResourcesTranslated)
{
    UNREFERENCED_PARAMETER(ResourcesRaw);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    RecBus_Log(Device, "PrepareHardware", NULL);
    return STATUS_SUCCESS;
}

static NTSTATUS RecBus_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    RecBus_Log(Device, "ReleaseHardware", NULL);
    return STATUS_SUCCESS;
}

static NTSTATUS RecBus_EvtDeviceD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    RecBus_Log(Device, "D0Entry", Rec_PowerStateName(PreviousState));
    return STATUS_SUCCESS;
}

static NTSTATUS RecBus_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    RecBus_Log(Device, "D0Exit", Rec_PowerStateName(TargetState));
    return STATUS_SUCCESS;
}

static NTSTATUS RecBus_EvtDeviceSelfManagedIoInit(WDFDEVICE Device)
{
    RecBus_Log(Device, "SelfManagedIoInit", NULL);
    return STATUS_SUCCESS;
}

static NTSTATUS RecBus_EvtDeviceSelfManagedIoSuspend(WDFDEVICE Device)
{
    RecBus_Log(Device, "SelfManagedIoSuspend", NULL);
    return STATUS_SUCCESS;
}

static NTSTATUS RecBus_EvtDeviceSelfManagedIoRestart(WDFDEVICE Device)
{
    RecBus_Log(Device, "SelfManagedIoRestart", NULL);
    return STATUS_SUCCESS;
}

static VOID RecBus_EvtDeviceSelfManagedIoFlush(WDFDEVICE Device) { RecBus_Log(Device, "SelfManagedIoFlush", NULL); }

static VOID RecBus_EvtDeviceSelfManagedIoCleanup(WDFDEVICE Device)
{
    RecBus_Log(Device, "SelfManagedIoCleanup", NULL);
}

static VOID RecBus_EvtDeviceSurpriseRemoval(WDFDEVICE Device) { RecBus_Log(Device, "SurpriseRemoval", NULL); }

static NTSTATUS RecBus_EvtDeviceQueryRemove(WDFDEVICE Device)
{
    RecBus_Log(Device, "QueryRemove", NULL);
    return STATUS_SUCCESS;
}

static NTSTATUS RecBus_EvtDeviceQueryStop(WDFDEVICE Device)
{
    RecBus_Log(Device, "QueryStop", NULL);
    return STATUS_SUCCESS;
}

static VOID RecBus_EvtCleanupCallback(WDFOBJECT Object) { RecBus_Log(Object, "EvtCleanupCallback", NULL); }
