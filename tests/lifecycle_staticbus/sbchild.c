/*
 * sbchild: the function driver of sbbus's children (tests/lifecycle_staticbus/sb.h).
 * Its AddDevice reads the device properties (its name is the description the
 * bus gave the PDO) and logs them; its stimuli set the device state (failed,
 * not disableable); "hold" keeps the I/O manager's reference on the device
 * until the device's cleanup ran, so the device is destroyed (and the driver
 * unloads) on the hold thread; EvtDriverUnload waits, so another device can
 * need the driver while its unload runs.
 */
#include <tdf/harness.h>

#include "sb.h"

typedef struct _SBCHILD_CONTEXT {
    CHAR Name[16];
} SBCHILD_CONTEXT, *PSBCHILD_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(SBCHILD_CONTEXT, SbChildGetContext)

/* Set by a device's cleanup; "hold" waits for it. Initialized at every load
 * (driver globals are not reset between loads, WRITING-A-TARGET §2). */
static KEVENT g_CleanedUp;

DRIVER_INITIALIZE SbChild_DriverEntry;
EVT_TDF_STIMULUS SbChild_StimulusFail;
EVT_TDF_STIMULUS SbChild_StimulusNoDisable;
EVT_TDF_STIMULUS SbChild_StimulusHold;
static EVT_WDF_DRIVER_DEVICE_ADD SbChild_EvtDeviceAdd;
static EVT_WDF_DRIVER_UNLOAD SbChild_EvtDriverUnload;
static EVT_WDF_DEVICE_SURPRISE_REMOVAL SbChild_EvtDeviceSurpriseRemoval;
static EVT_WDF_DEVICE_QUERY_REMOVE SbChild_EvtDeviceQueryRemove;
static EVT_WDF_DEVICE_RELEASE_HARDWARE SbChild_EvtDeviceReleaseHardware;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP SbChild_EvtCleanupCallback;

static VOID SbChild_Delay(void)
{
    LARGE_INTEGER delay;
    delay.QuadPart = -10000; /* ends once every other thread is blocked or done */
    (void)KeDelayExecutionThread(KernelMode, FALSE, &delay);
}

NTSTATUS SbChild_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, SbChild_EvtDeviceAdd);
    config.EvtDriverUnload = SbChild_EvtDriverUnload;
    KeInitializeEvent(&g_CleanedUp, NotificationEvent, FALSE);
    DbgPrint("sbchild DriverEntry");
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static VOID SbChild_EvtDriverUnload(WDFDRIVER Driver)
{
    UNREFERENCED_PARAMETER(Driver);
    DbgPrint("sbchild EvtDriverUnload begins");
    SbChild_Delay();
    DbgPrint("sbchild EvtDriverUnload ends");
}

/* A REG_MULTI_SZ as "a|b|" (ASCII IDs). */
static VOID SbChild_LogMultiSz(PCSTR Name, PCSTR What, const WCHAR *Ids, ULONG Bytes)
{
    CHAR text[96];
    ULONG n = 0;
    for (ULONG i = 0; i + 1 < Bytes / sizeof(WCHAR) && n + 1 < sizeof(text); i++)
        text[n++] = Ids[i] ? (CHAR)Ids[i] : '|';
    text[n] = 0;
    DbgPrint("%s %s %s (%u bytes)", Name, What, text, (unsigned)Bytes);
}

static NTSTATUS SbChild_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    WDFMEMORY memory;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDeviceSurpriseRemoval = SbChild_EvtDeviceSurpriseRemoval;
    callbacks.EvtDeviceQueryRemove = SbChild_EvtDeviceQueryRemove;
    callbacks.EvtDeviceReleaseHardware = SbChild_EvtDeviceReleaseHardware;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, SBCHILD_CONTEXT);
    attributes.EvtCleanupCallback = SbChild_EvtCleanupCallback;
    NTSTATUS status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;
    PSBCHILD_CONTEXT c = SbChildGetContext(device);

    /* The name: DeviceDescription, the bus's device text, in a WDFMEMORY
     * parented to the device (deleted with it: no leak at unload). */
    status = WdfDeviceAllocAndQueryProperty(device, DevicePropertyDeviceDescription, NonPagedPoolNx,
                                            WDF_NO_OBJECT_ATTRIBUTES, &memory);
    if (!NT_SUCCESS(status))
        return status;
    size_t size;
    const WCHAR *name = WdfMemoryGetBuffer(memory, &size);
    ULONG i = 0;
    for (; i + 1 < sizeof(c->Name) && name[i]; i++)
        c->Name[i] = (CHAR)name[i];
    c->Name[i] = 0;
    DbgPrint("%s FDO AddDevice (description %u bytes)", c->Name, (unsigned)size);

    WCHAR ids[64];
    ULONG length = 0;
    status = WdfDeviceQueryProperty(device, DevicePropertyHardwareID, sizeof(ids), ids, &length);
    if (NT_SUCCESS(status))
        SbChild_LogMultiSz(c->Name, "HardwareID", ids, length);
    status = WdfDeviceQueryProperty(device, DevicePropertyCompatibleIDs, sizeof(ids), ids, &length);
    if (NT_SUCCESS(status))
        SbChild_LogMultiSz(c->Name, "CompatibleIDs", ids, length);
    status = WdfDeviceQueryProperty(device, DevicePropertyHardwareID, 4, ids, &length);
    DbgPrint("%s HardwareID in 4 bytes -> 0x%x, %u needed", c->Name, (unsigned)status, (unsigned)length);
    ULONG number = 0;
    status = WdfDeviceQueryProperty(device, DevicePropertyBusNumber, sizeof(number), &number, &length);
    DbgPrint("%s BusNumber -> 0x%x, %u", c->Name, (unsigned)status, (unsigned)number);
    status = WdfDeviceQueryProperty(device, DevicePropertyFriendlyName, sizeof(ids), ids, &length);
    DbgPrint("%s FriendlyName -> 0x%x", c->Name, (unsigned)status);
    return STATUS_SUCCESS;
}

static VOID SbChild_Log(WDFDEVICE Device, PCSTR What) { DbgPrint("%s FDO %s", SbChildGetContext(Device)->Name, What); }

VOID SbChild_StimulusFail(WDFDEVICE Device, ULONG Argument)
{
    WDF_DEVICE_STATE state;
    UNREFERENCED_PARAMETER(Argument);
    WDF_DEVICE_STATE_INIT(&state);
    state.Failed = WdfTrue;
    state.DontDisplayInUI = WdfTrue;
    WdfDeviceSetDeviceState(Device, &state);
    WDF_DEVICE_STATE_INIT(&state);
    state.DontDisplayInUI = WdfFalse; /* Failed: WdfUseDefault keeps it */
    WdfDeviceSetDeviceState(Device, &state);
    WDF_DEVICE_STATE_INIT(&state);
    WdfDeviceGetDeviceState(Device, &state);
    SbChild_Log(Device, state.Failed == WdfTrue && state.DontDisplayInUI == WdfFalse ? "state failed, displayed"
                                                                                      : "state not as set");
}

VOID SbChild_StimulusNoDisable(WDFDEVICE Device, ULONG Argument)
{
    WDF_DEVICE_STATE state;
    UNREFERENCED_PARAMETER(Argument);
    WDF_DEVICE_STATE_INIT(&state);
    state.NotDisableable = WdfTrue;
    WdfDeviceSetDeviceState(Device, &state);
    SbChild_Log(Device, "not disableable");
}

/* Holds the I/O manager's device reference until the device's cleanup ran. */
VOID SbChild_StimulusHold(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    SbChild_Log(Device, "hold begins");
    (void)KeWaitForSingleObject(&g_CleanedUp, Executive, KernelMode, FALSE, NULL);
    DbgPrint("sbchild hold ends");
}

static VOID SbChild_EvtDeviceSurpriseRemoval(WDFDEVICE Device) { SbChild_Log(Device, "SurpriseRemoval"); }

static NTSTATUS SbChild_EvtDeviceQueryRemove(WDFDEVICE Device)
{
    SbChild_Log(Device, "QueryRemove");
    return STATUS_SUCCESS;
}

static NTSTATUS SbChild_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST Translated)
{
    UNREFERENCED_PARAMETER(Translated);
    SbChild_Log(Device, "ReleaseHardware");
    return STATUS_SUCCESS;
}

static VOID SbChild_EvtCleanupCallback(WDFOBJECT Object)
{
    SbChild_Log((WDFDEVICE)Object, "EvtCleanupCallback");
    KeSetEvent(&g_CleanedUp, IO_NO_INCREMENT, FALSE);
}
