/*
 * The child driver: function driver on each bus PDO. It queries the bus
 * interface in PrepareHardware, handing the bus its OnBusEvent callback
 * (ImportInterface), and runs an I/O thread that reads the bus status through
 * the interface when a request arrives.
 *
 * Protocol (correct variant):
 *  - D0Entry: re-arm D0Rundown (its own calls into the bus), then ask the bus
 *    to enable calls into us.
 *  - D0Exit: ask the bus to disable calls into us (returns once none is in
 *    flight), then drain our own calls into the bus. Both before D0Exit
 *    returns: after it, our hardware is off and the bus may power down too.
 *  - ReleaseHardware: dereference the interface and forget it.
 *  - SelfManagedIoCleanup: stop the I/O thread and wait for it: its code is
 *    in this image.
 */
#include <tdf/harness.h>

#include "bus_child_if.h"
#include "variants.h"

typedef struct _CHILD_CONTEXT {
    volatile ULONG *Registers;
    BUS_CHILD_INTERFACE BusInterface;
    BOOLEAN HaveBusInterface;
    EX_RUNDOWN_REF D0Rundown; /* held by the I/O thread around calls into the bus */
    BOOLEAN InD0;             /* what the child_flag_d0 mutant checks instead */
    BOOLEAN CallbacksArmed;   /* hibernate_armed: skips re-arming what it never disarmed */
    KEVENT WorkEvent;
    KEVENT StopEvent;
    KEVENT StoppedEvent; /* thread_signals_done: what that mutant waits for instead of the thread */
    PKTHREAD IoThread;
    ULONG LastEvent;
} CHILD_CONTEXT, *PCHILD_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(CHILD_CONTEXT, ChildGetContext)

DRIVER_INITIALIZE Child_DriverEntry;
EVT_TDF_STIMULUS Child_StimulusIo;
static EVT_WDF_DRIVER_DEVICE_ADD Child_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE Child_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE Child_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_ENTRY Child_EvtDeviceD0Entry;
static EVT_WDF_DEVICE_D0_EXIT Child_EvtDeviceD0Exit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT Child_EvtDeviceSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP Child_EvtDeviceSelfManagedIoCleanup;
static EVT_WDF_DEVICE_SURPRISE_REMOVAL Child_EvtDeviceSurpriseRemoval;
static KSTART_ROUTINE Child_IoThread;
static CHILD_ON_BUS_EVENT Child_OnBusEvent;

NTSTATUS Child_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Child_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Child_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = Child_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = Child_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Entry = Child_EvtDeviceD0Entry;
    callbacks.EvtDeviceD0Exit = Child_EvtDeviceD0Exit;
    callbacks.EvtDeviceSelfManagedIoInit = Child_EvtDeviceSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoCleanup = Child_EvtDeviceSelfManagedIoCleanup;
    if (IS_VARIANT(VARIANT_SR_DISARMS))
        callbacks.EvtDeviceSurpriseRemoval = Child_EvtDeviceSurpriseRemoval;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, CHILD_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;

    PCHILD_CONTEXT context = ChildGetContext(device);
    /* Not in D0 yet: run down until the first D0Entry. */
    ExInitializeRundownProtection(&context->D0Rundown);
    ExWaitForRundownProtectionRelease(&context->D0Rundown);
    KeInitializeEvent(&context->WorkEvent, SynchronizationEvent, FALSE);
    KeInitializeEvent(&context->StopEvent, NotificationEvent, FALSE);
    KeInitializeEvent(&context->StoppedEvent, NotificationEvent, FALSE);
    return STATUS_SUCCESS;
}

static NTSTATUS Child_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                               WDFCMRESLIST ResourcesTranslated)
{
    PCHILD_CONTEXT context = ChildGetContext(Device);
    NTSTATUS status;
    UNREFERENCED_PARAMETER(ResourcesRaw);

    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(ResourcesTranslated, 0);
    if (!d || d->Type != CmResourceTypeMemory)
        return STATUS_DEVICE_NOT_READY;
    /* Bug (stale_mapping): "map once" -- a restart after STOP keeps the old,
     * unmapped pointer. Resources can change on a rebalance: always remap. */
    if (!IS_VARIANT(VARIANT_STALE_MAPPING) || !context->Registers)
        context->Registers = MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    if (!context->Registers)
        return STATUS_INSUFFICIENT_RESOURCES;

    RtlZeroMemory(&context->BusInterface, sizeof(context->BusInterface));
    context->BusInterface.OnBusEvent = Child_OnBusEvent; /* imported by the bus */
    context->BusInterface.ChildContext = context;
    status = WdfFdoQueryForInterface(Device, &GUID_TDF_BUS_CHILD_INTERFACE, &context->BusInterface.InterfaceHeader,
                                     sizeof(BUS_CHILD_INTERFACE), BUS_CHILD_INTERFACE_VERSION, NULL);
    if (!NT_SUCCESS(status))
        return status;
    context->HaveBusInterface = TRUE;
    if (IS_VARIANT(VARIANT_DISABLE_LATE)) /* bug: armed for the hardware's lifetime, not D0's */
        context->BusInterface.EnableCallbacks(context->BusInterface.InterfaceHeader.Context);
    return STATUS_SUCCESS;
}

static NTSTATUS Child_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PCHILD_CONTEXT context = ChildGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    if (context->HaveBusInterface) {
        PINTERFACE header = &context->BusInterface.InterfaceHeader;
        if (IS_VARIANT(VARIANT_DISABLE_LATE))
            context->BusInterface.DisableCallbacks(header->Context);
        header->InterfaceDereference(header->Context);
        RtlZeroMemory(&context->BusInterface, sizeof(context->BusInterface)); /* OSR: zero after release */
        context->HaveBusInterface = FALSE;
    }
    if (context->Registers) {
        MmUnmapIoSpace((PVOID)context->Registers, 0x1000);
        if (!IS_VARIANT(VARIANT_STALE_MAPPING))
            context->Registers = NULL;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS Child_EvtDeviceD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    PCHILD_CONTEXT context = ChildGetContext(Device);
    UNREFERENCED_PARAMETER(PreviousState);
    WRITE_REGISTER_ULONG(&context->Registers[2], 1); /* enable the function */
    if (IS_VARIANT(VARIANT_CHILD_FLAG_D0))
        WriteBooleanNoFence(&context->InD0, TRUE);
    else
        ExReInitializeRundownProtection(&context->D0Rundown);
    if (!IS_VARIANT(VARIANT_DISABLE_LATE) && !(IS_VARIANT(VARIANT_HIBERNATE_ARMED) && context->CallbacksArmed))
        context->BusInterface.EnableCallbacks(context->BusInterface.InterfaceHeader.Context);
    context->CallbacksArmed = TRUE;
    return STATUS_SUCCESS;
}

static NTSTATUS Child_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    PCHILD_CONTEXT context = ChildGetContext(Device);
    /* Bug (hibernate_armed): a switch on the target state that forgot
     * WdfPowerDevicePrepareForHibernation. Every D0Exit must disarm. */
    BOOLEAN disarm = !IS_VARIANT(VARIANT_HIBERNATE_ARMED) || TargetState == WdfPowerDeviceD3 ||
                     TargetState == WdfPowerDeviceD3Final;
    /* sr_disarms: whoever comes first (this or EvtDeviceSurpriseRemoval)
     * disarms, the other sees CallbacksArmed FALSE: right when the two run one
     * after the other, wrong when they overlap. */
    if (!IS_VARIANT(VARIANT_DISABLE_LATE) && disarm && (!IS_VARIANT(VARIANT_SR_DISARMS) || context->CallbacksArmed)) {
        context->BusInterface.DisableCallbacks(context->BusInterface.InterfaceHeader.Context);
        context->CallbacksArmed = FALSE;
    }
    if (IS_VARIANT(VARIANT_CHILD_FLAG_D0))
        WriteBooleanNoFence(&context->InD0, FALSE); /* bug: a call already past the check goes on */
    else
        ExWaitForRundownProtectionRelease(&context->D0Rundown);
    WRITE_REGISTER_ULONG(&context->Registers[2], 0); /* save state, disable the function */
    return STATUS_SUCCESS;
}

static NTSTATUS Child_EvtDeviceSelfManagedIoInit(WDFDEVICE Device)
{
    PCHILD_CONTEXT context = ChildGetContext(Device);
    HANDLE handle;
    NTSTATUS status = PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, Child_IoThread, context);
    if (!NT_SUCCESS(status))
        return status;
    ObReferenceObjectByHandle(handle, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, (PVOID *)&context->IoThread,
                              NULL);
    ZwClose(handle);
    return STATUS_SUCCESS;
}

static VOID Child_EvtDeviceSelfManagedIoCleanup(WDFDEVICE Device)
{
    PCHILD_CONTEXT context = ChildGetContext(Device);
    if (!context->IoThread)
        return;
    KeSetEvent(&context->StopEvent, IO_NO_INCREMENT, FALSE);
    if (IS_VARIANT(VARIANT_THREAD_SIGNALS_DONE)) /* bug: the thread still runs our code after the signal */
        KeWaitForSingleObject(&context->StoppedEvent, Executive, KernelMode, FALSE, NULL);
    else if (!IS_VARIANT(VARIANT_THREAD_NOT_WAITED)) /* bug: signals stop, never waits */
        KeWaitForSingleObject(context->IoThread, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(context->IoThread);
    context->IoThread = NULL;
}

static VOID Child_ProcessRequest(PCHILD_CONTEXT context)
{
    PBUS_CHILD_INTERFACE bus = &context->BusInterface;
    if (IS_VARIANT(VARIANT_CHILD_FLAG_D0)) {
        if (ReadBooleanNoFence(&context->InD0)) { /* bug: check-then-call, nothing holds D0 */
            ULONG status = bus->ReadBusStatus(bus->InterfaceHeader.Context);
            WRITE_REGISTER_ULONG(&context->Registers[1], status);
        }
        return;
    }
    if (ExAcquireRundownProtection(&context->D0Rundown)) {
        ULONG status = bus->ReadBusStatus(bus->InterfaceHeader.Context);
        WRITE_REGISTER_ULONG(&context->Registers[1], status);
        ExReleaseRundownProtection(&context->D0Rundown);
    }
}

static VOID Child_IoThread(PVOID StartContext)
{
    PCHILD_CONTEXT context = StartContext;
    PVOID waitObjects[2] = {&context->StopEvent, &context->WorkEvent};
    for (;;) {
        NTSTATUS status = KeWaitForMultipleObjects(2, waitObjects, WaitAny, Executive, KernelMode, FALSE, NULL, NULL);
        if (status == STATUS_WAIT_0)
            break;
        Child_ProcessRequest(context);
    }
    /* Bug (thread_signals_done): "tell cleanup we are gone" as the last act.
     * The waiter can run -- and our image unload -- before this routine's
     * epilogue and return, which execute in this image. Only the thread
     * object, signalled by the kernel after the return, says "gone". */
    if (IS_VARIANT(VARIANT_THREAD_SIGNALS_DONE))
        KeSetEvent(&context->StoppedEvent, IO_NO_INCREMENT, FALSE);
}

/* sr_disarms only. Bug: "stop the bus calling us the moment we are unplugged",
 * guarded by CallbacksArmed as D0Exit is in that variant. KMDF does not
 * synchronize this callback with the power callbacks: an idle D0Exit may be
 * inside DisableCallbacks (waiting for a bus call in flight) with
 * CallbacksArmed still TRUE, and this second DisableCallbacks then waits on
 * the same rundown concurrently. One after the other, the second caller sees
 * FALSE and skips: that order alone never fails. */
static VOID Child_EvtDeviceSurpriseRemoval(WDFDEVICE Device)
{
    PCHILD_CONTEXT context = ChildGetContext(Device);
    if (context->CallbacksArmed) {
        context->BusInterface.DisableCallbacks(context->BusInterface.InterfaceHeader.Context);
        context->CallbacksArmed = FALSE;
    }
}

static VOID Child_OnBusEvent(PVOID ChildContext, ULONG Event)
{
    PCHILD_CONTEXT context = ChildContext;
    ULONG status = READ_REGISTER_ULONG(&context->Registers[0]); /* our hardware: needs D0 */
    WriteULongNoFence(&context->LastEvent, Event ^ status);
}

VOID Child_StimulusIo(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    KeSetEvent(&ChildGetContext(Device)->WorkEvent, IO_NO_INCREMENT, FALSE);
}
