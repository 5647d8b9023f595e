/*
 * The bus driver: a root-enumerated FDO that statically enumerates N child
 * PDOs, exports a two-way interface on each, and has a worker thread that
 * calls every child's imported OnBusEvent when the bus hardware signals.
 *
 * Protocol (correct variant): each PDO has a run-down reference guarding the
 * child's imported callback. It starts run down; the child enables it in
 * D0Entry (ExReInitializeRundownProtection) and disables it in D0Exit
 * (ExWaitForRundownProtectionRelease), so D0Exit returns only after every bus
 * call into the child has returned, and no new call starts until the next
 * D0Entry. The worker holds the reference for the whole call.
 */
#include <tdf/harness.h>

#include "bus_child_if.h"
#include "variants.h"

#define BUS_MAX_CHILDREN 8

static DECLARE_CONST_UNICODE_STRING(BUS_CHILD_HARDWARE_ID, BUS_CHILD_HARDWARE_ID_TEXT);

typedef struct _BUS_FDO_CONTEXT {
    volatile ULONG *Registers; /* mapped in PrepareHardware */
    PKTHREAD WorkerThread;
    KEVENT WorkEvent;
    KEVENT StopEvent;
    FAST_MUTEX ChildLock; /* guards Children against PDO deletion */
    WDFDEVICE Children[BUS_MAX_CHILDREN];
    ULONG ChildCount;
    ULONG EventCounter;
    /* Bus events since a child last read the bus status: counted by the
     * worker and read-and-cleared by ReadBusStatus, both under ChildLock (a
     * read-modify-write from two threads). */
    ULONG PendingEvents;
} BUS_FDO_CONTEXT, *PBUS_FDO_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(BUS_FDO_CONTEXT, BusFdoGetContext)

typedef struct _BUS_PDO_CONTEXT {
    WDFDEVICE Parent;
    EX_RUNDOWN_REF CallbackRundown; /* held across every call into the child */
    BOOLEAN CallbacksEnabled;       /* what the flag-based mutants check instead */
    CHILD_ON_BUS_EVENT *ChildOnBusEvent;
    PVOID ChildContext;
    LONG InterfaceReferences;
} BUS_PDO_CONTEXT, *PBUS_PDO_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(BUS_PDO_CONTEXT, BusPdoGetContext)

DRIVER_INITIALIZE Bus_DriverEntry;
EVT_TDF_STIMULUS Bus_StimulusNotify;
static EVT_WDF_DRIVER_DEVICE_ADD Bus_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE Bus_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE Bus_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT Bus_EvtDeviceSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP Bus_EvtDeviceSelfManagedIoCleanup;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP Bus_EvtPdoCleanup;
static EVT_WDF_DEVICE_PROCESS_QUERY_INTERFACE_REQUEST Bus_EvtProcessQueryInterface;
static KSTART_ROUTINE Bus_WorkerThread;
static BUS_READ_STATUS Bus_ReadBusStatus;
static BUS_ENABLE_CALLBACKS Bus_EnableCallbacks;
static BUS_DISABLE_CALLBACKS Bus_DisableCallbacks;
static VOID Bus_InterfaceReference(PVOID Context);
static VOID Bus_InterfaceDereference(PVOID Context);

NTSTATUS Bus_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Bus_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Bus_CreatePdo(WDFDEVICE Fdo)
{
    PBUS_FDO_CONTEXT fdoContext = BusFdoGetContext(Fdo);
    PWDFDEVICE_INIT pdoInit = WdfPdoInitAllocate(Fdo);
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE pdo;
    NTSTATUS status;

    if (!pdoInit)
        return STATUS_INSUFFICIENT_RESOURCES;
    status = WdfPdoInitAssignDeviceID(pdoInit, &BUS_CHILD_HARDWARE_ID);
    if (!NT_SUCCESS(status)) {
        WdfDeviceInitFree(pdoInit);
        return status;
    }
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, BUS_PDO_CONTEXT);
    attributes.EvtCleanupCallback = Bus_EvtPdoCleanup;
    status = WdfDeviceCreate(&pdoInit, &attributes, &pdo);
    if (!NT_SUCCESS(status))
        return status;

    PBUS_PDO_CONTEXT pdoContext = BusPdoGetContext(pdo);
    pdoContext->Parent = Fdo;
    /* Born run down: no call into a child before it enables callbacks. */
    ExInitializeRundownProtection(&pdoContext->CallbackRundown);
    ExWaitForRundownProtectionRelease(&pdoContext->CallbackRundown);

    BUS_CHILD_INTERFACE busInterface;
    RtlZeroMemory(&busInterface, sizeof(busInterface));
    busInterface.InterfaceHeader.Size = sizeof(busInterface);
    busInterface.InterfaceHeader.Version = BUS_CHILD_INTERFACE_VERSION;
    busInterface.InterfaceHeader.Context = pdo;
    busInterface.InterfaceHeader.InterfaceReference = Bus_InterfaceReference;
    busInterface.InterfaceHeader.InterfaceDereference = Bus_InterfaceDereference;
    busInterface.ReadBusStatus = Bus_ReadBusStatus;
    busInterface.EnableCallbacks = Bus_EnableCallbacks;
    busInterface.DisableCallbacks = Bus_DisableCallbacks;

    WDF_QUERY_INTERFACE_CONFIG queryConfig;
    WDF_QUERY_INTERFACE_CONFIG_INIT(&queryConfig, &busInterface.InterfaceHeader, &GUID_TDF_BUS_CHILD_INTERFACE,
                                    Bus_EvtProcessQueryInterface);
    queryConfig.ImportInterface = TRUE; /* the child's buffer carries its callback in */
    status = WdfDeviceAddQueryInterface(pdo, &queryConfig);
    if (!NT_SUCCESS(status))
        return status;

    ExAcquireFastMutex(&fdoContext->ChildLock);
    if (fdoContext->ChildCount < BUS_MAX_CHILDREN)
        fdoContext->Children[fdoContext->ChildCount++] = pdo;
    ExReleaseFastMutex(&fdoContext->ChildLock);
    return WdfFdoAddStaticChild(Fdo, pdo);
}

static NTSTATUS Bus_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = Bus_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = Bus_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceSelfManagedIoInit = Bus_EvtDeviceSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoCleanup = Bus_EvtDeviceSelfManagedIoCleanup;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, BUS_FDO_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;

    PBUS_FDO_CONTEXT context = BusFdoGetContext(device);
    KeInitializeEvent(&context->WorkEvent, SynchronizationEvent, FALSE);
    KeInitializeEvent(&context->StopEvent, NotificationEvent, FALSE);
    ExInitializeFastMutex(&context->ChildLock);

    ULONG children = TdfParam("children");
    for (ULONG i = 0; i < children; i++) {
        status = Bus_CreatePdo(device);
        if (!NT_SUCCESS(status))
            return status;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS Bus_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                             WDFCMRESLIST ResourcesTranslated)
{
    PBUS_FDO_CONTEXT context = BusFdoGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesRaw);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(ResourcesTranslated, 0);
    if (!d || d->Type != CmResourceTypeMemory)
        return STATUS_DEVICE_NOT_READY;
    context->Registers = MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    return context->Registers ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

static NTSTATUS Bus_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PBUS_FDO_CONTEXT context = BusFdoGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    if (context->Registers) {
        MmUnmapIoSpace((PVOID)context->Registers, 0x1000);
        context->Registers = NULL;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS Bus_EvtDeviceSelfManagedIoInit(WDFDEVICE Device)
{
    PBUS_FDO_CONTEXT context = BusFdoGetContext(Device);
    HANDLE handle;
    NTSTATUS status = PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, Bus_WorkerThread, Device);
    if (!NT_SUCCESS(status))
        return status;
    ObReferenceObjectByHandle(handle, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, (PVOID *)&context->WorkerThread,
                              NULL);
    ZwClose(handle);
    return STATUS_SUCCESS;
}

static VOID Bus_EvtDeviceSelfManagedIoCleanup(WDFDEVICE Device)
{
    PBUS_FDO_CONTEXT context = BusFdoGetContext(Device);
    if (!context->WorkerThread)
        return;
    KeSetEvent(&context->StopEvent, IO_NO_INCREMENT, FALSE);
    /* The worker's code is in this image: it must be gone before we can unload. */
    KeWaitForSingleObject(context->WorkerThread, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(context->WorkerThread);
    context->WorkerThread = NULL;
}

static NTSTATUS Bus_EvtProcessQueryInterface(WDFDEVICE Device, LPGUID InterfaceType, PINTERFACE ExposedInterface,
                                             PVOID ExposedInterfaceSpecificData)
{
    PBUS_PDO_CONTEXT pdoContext = BusPdoGetContext(Device);
    PBUS_CHILD_INTERFACE childInterface = (PBUS_CHILD_INTERFACE)ExposedInterface;
    UNREFERENCED_PARAMETER(InterfaceType);
    UNREFERENCED_PARAMETER(ExposedInterfaceSpecificData);

    if (ExposedInterface->Size < sizeof(BUS_CHILD_INTERFACE))
        return STATUS_INVALID_BUFFER_SIZE;
    /* ImportInterface: nothing was copied for us; fill in our half and take
     * the child's half. */
    childInterface->InterfaceHeader.Version = BUS_CHILD_INTERFACE_VERSION;
    childInterface->InterfaceHeader.Context = Device;
    childInterface->InterfaceHeader.InterfaceReference = Bus_InterfaceReference;
    childInterface->InterfaceHeader.InterfaceDereference = Bus_InterfaceDereference;
    childInterface->ReadBusStatus = Bus_ReadBusStatus;
    childInterface->EnableCallbacks = Bus_EnableCallbacks;
    childInterface->DisableCallbacks = Bus_DisableCallbacks;
    pdoContext->ChildOnBusEvent = childInterface->OnBusEvent;
    pdoContext->ChildContext = childInterface->ChildContext;
    return STATUS_SUCCESS;
}

static VOID Bus_InterfaceReference(PVOID Context)
{
    InterlockedIncrement(&BusPdoGetContext((WDFDEVICE)Context)->InterfaceReferences);
}

static VOID Bus_InterfaceDereference(PVOID Context)
{
    InterlockedDecrement(&BusPdoGetContext((WDFDEVICE)Context)->InterfaceReferences);
}

static ULONG Bus_ReadBusStatus(PVOID Context)
{
    PBUS_PDO_CONTEXT pdoContext = BusPdoGetContext((WDFDEVICE)Context);
    PBUS_FDO_CONTEXT fdoContext = BusFdoGetContext(pdoContext->Parent);
    ULONG status = READ_REGISTER_ULONG(&fdoContext->Registers[0]);
    ULONG pending;
    if (IS_VARIANT(VARIANT_STATUS_UNLOCKED)) {
        /* Bug: "a status read is only a counter": read and clear with no lock
         * while the worker increments under ChildLock. On a real CPU an
         * increment between the read and the clear is lost; the model runs
         * both as one step each, so only a race detector sees it. */
        pending = fdoContext->PendingEvents;
        fdoContext->PendingEvents = 0;
    } else {
        ExAcquireFastMutex(&fdoContext->ChildLock);
        pending = fdoContext->PendingEvents;
        fdoContext->PendingEvents = 0;
        ExReleaseFastMutex(&fdoContext->ChildLock);
    }
    return status | (pending ? 0x80000000u : 0);
}

static VOID Bus_EnableCallbacks(PVOID Context)
{
    PBUS_PDO_CONTEXT pdoContext = BusPdoGetContext((WDFDEVICE)Context);
    if (IS_VARIANT(VARIANT_NO_RUNDOWN) || IS_VARIANT(VARIANT_FLAG_CHECK))
        WriteBooleanNoFence(&pdoContext->CallbacksEnabled, TRUE);
    else
        ExReInitializeRundownProtection(&pdoContext->CallbackRundown);
}

static VOID Bus_DisableCallbacks(PVOID Context)
{
    PBUS_PDO_CONTEXT pdoContext = BusPdoGetContext((WDFDEVICE)Context);
    if (IS_VARIANT(VARIANT_NO_RUNDOWN) || IS_VARIANT(VARIANT_FLAG_CHECK))
        WriteBooleanNoFence(&pdoContext->CallbacksEnabled, FALSE); /* returns with calls still in flight */
    else
        ExWaitForRundownProtectionRelease(&pdoContext->CallbackRundown);
}

static VOID Bus_NotifyChild(WDFDEVICE Pdo, ULONG Event)
{
    PBUS_PDO_CONTEXT pdoContext = BusPdoGetContext(Pdo);
    CHILD_ON_BUS_EVENT *onBusEvent;
    PVOID childContext;

    switch (TdfVariant()) {
    case VARIANT_NO_RUNDOWN:
        /* Bug: calls whatever the child once imported, armed or not. */
        if (pdoContext->ChildOnBusEvent)
            pdoContext->ChildOnBusEvent(pdoContext->ChildContext, Event);
        break;
    case VARIANT_FLAG_CHECK:
        /* Bug: check-a-flag-then-call; the child can disable and power down
         * between the check and the call. */
        if (ReadBooleanNoFence(&pdoContext->CallbacksEnabled))
            pdoContext->ChildOnBusEvent(pdoContext->ChildContext, Event);
        break;
    case VARIANT_RELEASE_EARLY:
        /* Bug: the protection covers fetching the pointer, not the call. */
        if (ExAcquireRundownProtection(&pdoContext->CallbackRundown)) {
            onBusEvent = pdoContext->ChildOnBusEvent;
            childContext = pdoContext->ChildContext;
            ExReleaseRundownProtection(&pdoContext->CallbackRundown);
            onBusEvent(childContext, Event);
        }
        break;
    default:
        if (ExAcquireRundownProtection(&pdoContext->CallbackRundown)) {
            pdoContext->ChildOnBusEvent(pdoContext->ChildContext, Event);
            ExReleaseRundownProtection(&pdoContext->CallbackRundown);
        }
        break;
    }
}

static VOID Bus_NotifyChildren(WDFDEVICE Fdo)
{
    PBUS_FDO_CONTEXT context = BusFdoGetContext(Fdo);
    ExAcquireFastMutex(&context->ChildLock);
    ULONG event = ++context->EventCounter;
    context->PendingEvents++;
    for (ULONG i = 0; i < context->ChildCount; i++)
        Bus_NotifyChild(context->Children[i], event);
    ExReleaseFastMutex(&context->ChildLock);
}

static VOID Bus_WorkerThread(PVOID StartContext)
{
    WDFDEVICE fdo = (WDFDEVICE)StartContext;
    PBUS_FDO_CONTEXT context = BusFdoGetContext(fdo);
    PVOID waitObjects[2] = {&context->StopEvent, &context->WorkEvent};
    for (;;) {
        NTSTATUS status = KeWaitForMultipleObjects(2, waitObjects, WaitAny, Executive, KernelMode, FALSE, NULL, NULL);
        if (status == STATUS_WAIT_0)
            return; /* stop: SelfManagedIoCleanup waits for us */
        Bus_NotifyChildren(fdo);
    }
}

static VOID Bus_EvtPdoCleanup(WDFOBJECT Object)
{
    WDFDEVICE pdo = (WDFDEVICE)Object;
    PBUS_FDO_CONTEXT context = BusFdoGetContext(BusPdoGetContext(pdo)->Parent);
    ExAcquireFastMutex(&context->ChildLock);
    for (ULONG i = 0; i < context->ChildCount; i++) {
        if (context->Children[i] == pdo) {
            context->Children[i] = context->Children[--context->ChildCount];
            break;
        }
    }
    ExReleaseFastMutex(&context->ChildLock);
}

VOID Bus_StimulusNotify(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    KeSetEvent(&BusFdoGetContext(Device)->WorkEvent, IO_NO_INCREMENT, FALSE);
}
