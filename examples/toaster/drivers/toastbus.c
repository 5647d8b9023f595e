/*
 * Toaster bus: enumerates toasters, exports the heat-status interface on each
 * PDO, and runs a sensor thread that reports the temperature to every
 * registered callback when the heating element changes.
 *
 * The callback slot of each PDO is guarded by a spin lock (for the pointer)
 * and, in the fixed variant, by a run-down reference held across the call, so
 * that UnregisterHeatCallback can keep its contract ("returns once no call is
 * in flight").
 */
#include <tdf/harness.h>

#include "toaster_if.h"

#define TOASTBUS_MAX_TOASTERS 4

typedef struct _TOASTBUS_CONTEXT {
    PKTHREAD SensorThread;
    KEVENT HeatEvent;
    KEVENT StopEvent;
    FAST_MUTEX ToasterLock;
    WDFDEVICE Toasters[TOASTBUS_MAX_TOASTERS];
    ULONG ToasterCount;
    ULONG Temperature;
} TOASTBUS_CONTEXT, *PTOASTBUS_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(TOASTBUS_CONTEXT, ToastBusGetContext)

typedef struct _TOASTER_PDO_CONTEXT {
    WDFDEVICE Bus;
    KSPIN_LOCK CallbackLock;
    TOASTER_HEAT_CALLBACK *Callback; /* under CallbackLock */
    PVOID CallbackContext;           /* under CallbackLock */
    EX_RUNDOWN_REF CallbackRundown;  /* held across a call (fixed variant) */
} TOASTER_PDO_CONTEXT, *PTOASTER_PDO_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(TOASTER_PDO_CONTEXT, ToasterPdoGetContext)

DRIVER_INITIALIZE ToastBus_DriverEntry;
EVT_TDF_STIMULUS ToastBus_StimulusHeat;
static EVT_WDF_DRIVER_DEVICE_ADD ToastBus_EvtDeviceAdd;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT ToastBus_EvtSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP ToastBus_EvtSelfManagedIoCleanup;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP ToastBus_EvtPdoCleanup;
static KSTART_ROUTINE ToastBus_SensorThread;
static TOASTBUS_REGISTER_HEAT_CALLBACK ToastBus_RegisterHeatCallback;
static TOASTBUS_UNREGISTER_HEAT_CALLBACK ToastBus_UnregisterHeatCallback;

NTSTATUS ToastBus_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, ToastBus_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS ToastBus_CreateToaster(WDFDEVICE Bus)
{
    static DECLARE_CONST_UNICODE_STRING(toasterId, TOASTER_HARDWARE_ID);
    PTOASTBUS_CONTEXT busContext = ToastBusGetContext(Bus);
    PWDFDEVICE_INIT init = WdfPdoInitAllocate(Bus);
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE pdo;
    NTSTATUS status;

    if (!init)
        return STATUS_INSUFFICIENT_RESOURCES;
    WdfPdoInitAssignDeviceID(init, &toasterId);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, TOASTER_PDO_CONTEXT);
    attributes.EvtCleanupCallback = ToastBus_EvtPdoCleanup;
    status = WdfDeviceCreate(&init, &attributes, &pdo);
    if (!NT_SUCCESS(status))
        return status;
    PTOASTER_PDO_CONTEXT pdoContext = ToasterPdoGetContext(pdo);
    pdoContext->Bus = Bus;
    KeInitializeSpinLock(&pdoContext->CallbackLock);
    /* Born run down: RegisterHeatCallback re-arms it (ExReInitialize... must follow a wait). */
    ExInitializeRundownProtection(&pdoContext->CallbackRundown);
    ExWaitForRundownProtectionRelease(&pdoContext->CallbackRundown);

    TOASTER_STATUS_INTERFACE iface;
    RtlZeroMemory(&iface, sizeof(iface));
    iface.InterfaceHeader.Size = sizeof(iface);
    iface.InterfaceHeader.Version = TOASTER_STATUS_INTERFACE_VERSION;
    iface.InterfaceHeader.Context = pdo;
    iface.InterfaceHeader.InterfaceReference = WdfDeviceInterfaceReferenceNoOp;
    iface.InterfaceHeader.InterfaceDereference = WdfDeviceInterfaceDereferenceNoOp;
    iface.RegisterHeatCallback = ToastBus_RegisterHeatCallback;
    iface.UnregisterHeatCallback = ToastBus_UnregisterHeatCallback;
    WDF_QUERY_INTERFACE_CONFIG qi;
    WDF_QUERY_INTERFACE_CONFIG_INIT(&qi, &iface.InterfaceHeader, &GUID_TOASTER_STATUS_INTERFACE, NULL);
    status = WdfDeviceAddQueryInterface(pdo, &qi);
    if (!NT_SUCCESS(status))
        return status;

    ExAcquireFastMutex(&busContext->ToasterLock);
    if (busContext->ToasterCount < TOASTBUS_MAX_TOASTERS)
        busContext->Toasters[busContext->ToasterCount++] = pdo;
    ExReleaseFastMutex(&busContext->ToasterLock);
    return WdfFdoAddStaticChild(Bus, pdo);
}

static NTSTATUS ToastBus_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE bus;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDeviceSelfManagedIoInit = ToastBus_EvtSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoCleanup = ToastBus_EvtSelfManagedIoCleanup;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, TOASTBUS_CONTEXT);
    NTSTATUS status = WdfDeviceCreate(&DeviceInit, &attributes, &bus);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(bus, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;
    PTOASTBUS_CONTEXT context = ToastBusGetContext(bus);
    KeInitializeEvent(&context->HeatEvent, SynchronizationEvent, FALSE);
    KeInitializeEvent(&context->StopEvent, NotificationEvent, FALSE);
    ExInitializeFastMutex(&context->ToasterLock);
    for (ULONG i = 0; i < TdfParam("toasters"); i++) {
        status = ToastBus_CreateToaster(bus);
        if (!NT_SUCCESS(status))
            return status;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS ToastBus_RegisterHeatCallback(PVOID Context, TOASTER_HEAT_CALLBACK *Callback, PVOID CallbackContext)
{
    PTOASTER_PDO_CONTEXT pdoContext = ToasterPdoGetContext((WDFDEVICE)Context);
    KIRQL irql;
    if (TdfVariant() == TOASTER_VARIANT_FIXED)
        ExReInitializeRundownProtection(&pdoContext->CallbackRundown);
    KeAcquireSpinLock(&pdoContext->CallbackLock, &irql);
    pdoContext->Callback = Callback;
    pdoContext->CallbackContext = CallbackContext;
    KeReleaseSpinLock(&pdoContext->CallbackLock, irql);
    return STATUS_SUCCESS;
}

static VOID ToastBus_UnregisterHeatCallback(PVOID Context)
{
    PTOASTER_PDO_CONTEXT pdoContext = ToasterPdoGetContext((WDFDEVICE)Context);
    KIRQL irql;
    KeAcquireSpinLock(&pdoContext->CallbackLock, &irql);
    pdoContext->Callback = NULL;
    pdoContext->CallbackContext = NULL;
    KeReleaseSpinLock(&pdoContext->CallbackLock, irql);
    /* The fix: wait out any call that copied the pointer before we cleared it. */
    if (TdfVariant() == TOASTER_VARIANT_FIXED)
        ExWaitForRundownProtectionRelease(&pdoContext->CallbackRundown);
}

static VOID ToastBus_ReportHeat(WDFDEVICE Pdo, ULONG Temperature)
{
    PTOASTER_PDO_CONTEXT pdoContext = ToasterPdoGetContext(Pdo);
    TOASTER_HEAT_CALLBACK *callback;
    PVOID callbackContext;
    KIRQL irql;

    if (TdfVariant() == TOASTER_VARIANT_FIXED && !ExAcquireRundownProtection(&pdoContext->CallbackRundown))
        return;
    /* Copy under the lock, call outside it (a callback may block). The
     * PLANTED bug: nothing keeps the toaster from unregistering, powering down
     * and unloading between the copy and the call. */
    KeAcquireSpinLock(&pdoContext->CallbackLock, &irql);
    callback = pdoContext->Callback;
    callbackContext = pdoContext->CallbackContext;
    KeReleaseSpinLock(&pdoContext->CallbackLock, irql);
    if (callback)
        callback(callbackContext, Temperature);
    if (TdfVariant() == TOASTER_VARIANT_FIXED)
        ExReleaseRundownProtection(&pdoContext->CallbackRundown);
}

static VOID ToastBus_SensorThread(PVOID StartContext)
{
    WDFDEVICE bus = (WDFDEVICE)StartContext;
    PTOASTBUS_CONTEXT context = ToastBusGetContext(bus);
    PVOID objects[2] = {&context->StopEvent, &context->HeatEvent};
    while (KeWaitForMultipleObjects(2, objects, WaitAny, Executive, KernelMode, FALSE, NULL, NULL) != STATUS_WAIT_0) {
        ExAcquireFastMutex(&context->ToasterLock);
        ULONG temperature = ++context->Temperature;
        for (ULONG i = 0; i < context->ToasterCount; i++)
            ToastBus_ReportHeat(context->Toasters[i], temperature);
        ExReleaseFastMutex(&context->ToasterLock);
    }
}

static NTSTATUS ToastBus_EvtSelfManagedIoInit(WDFDEVICE Device)
{
    PTOASTBUS_CONTEXT context = ToastBusGetContext(Device);
    HANDLE handle;
    NTSTATUS status = PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, ToastBus_SensorThread, Device);
    if (!NT_SUCCESS(status))
        return status;
    ObReferenceObjectByHandle(handle, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, (PVOID *)&context->SensorThread,
                              NULL);
    ZwClose(handle);
    return STATUS_SUCCESS;
}

static VOID ToastBus_EvtSelfManagedIoCleanup(WDFDEVICE Device)
{
    PTOASTBUS_CONTEXT context = ToastBusGetContext(Device);
    KeSetEvent(&context->StopEvent, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(context->SensorThread, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(context->SensorThread);
}

static VOID ToastBus_EvtPdoCleanup(WDFOBJECT Object)
{
    WDFDEVICE pdo = (WDFDEVICE)Object;
    PTOASTBUS_CONTEXT context = ToastBusGetContext(ToasterPdoGetContext(pdo)->Bus);
    ExAcquireFastMutex(&context->ToasterLock);
    for (ULONG i = 0; i < context->ToasterCount; i++)
        if (context->Toasters[i] == pdo)
            context->Toasters[i] = context->Toasters[--context->ToasterCount];
    ExReleaseFastMutex(&context->ToasterLock);
}

VOID ToastBus_StimulusHeat(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    KeSetEvent(&ToastBusGetContext(Device)->HeatEvent, IO_NO_INCREMENT, FALSE);
}
