/*
 * fuzz_deferred's driver (image "dfr"): a device with a register block that
 * the driver polls from a periodic WDFTIMER, hands to a WDFDPC, and guards
 * with a WDM watchdog (KTIMER + KDPC in the device context); plus a
 * driver-wide periodic statistics KTIMER + KDPC in driver globals.
 *
 * Protocol (correct variant):
 *  - D0Entry starts the poll timer; D0Exit stops it with WdfTimerStop(TRUE)
 *    (a callback in flight finishes before D0Exit returns), then cancels the
 *    DPC the callback may have queued with WdfDpcCancel(TRUE). Registers are
 *    touched by the callback and the DPC only between the two.
 *  - The watchdog is armed by the `arm` stimulus under the context's spin
 *    lock unless the device is being removed; the device's cleanup sets
 *    Removed under the same lock, then KeCancelTimer and KeFlushQueuedDpcs
 *    before the context is freed.
 *  - The statistics timer is set in DriverEntry and, in EvtDriverUnload,
 *    cancelled and its DPC flushed before the image goes.
 *  - The DPC synchronises with a spin lock; nothing at DISPATCH_LEVEL waits.
 */
#include <tdf/harness.h>

#include "deferred_if.h"
#include "variants.h"

typedef struct _DFR_CONTEXT {
    WDFDEVICE Device;
    volatile ULONG *Registers; /* PrepareHardware .. ReleaseHardware */
    WDFTIMER PollTimer;
    WDFDPC DataDpc;
    WDFWAITLOCK ConfigLock; /* PASSIVE_LEVEL only */
    KSPIN_LOCK DataLock;    /* the DPC's and the poll's shared counters */
    ULONG Samples, Batches;
    /* the watchdog (WDM) */
    KSPIN_LOCK WatchdogLock;
    BOOLEAN Removed; /* guarded by WatchdogLock: no arm after the cleanup began */
    KTIMER Watchdog;
    KDPC WatchdogDpc;
    LONG WatchdogFired;
} DFR_CONTEXT, *PDFR_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(DFR_CONTEXT, DfrGetContext)

/* Driver-wide statistics: set in every DriverEntry (globals survive loads). */
static KTIMER g_StatsTimer;
static KDPC g_StatsDpc;
static LONG g_StatsTicks;

DRIVER_INITIALIZE Dfr_DriverEntry;
EVT_TDF_STIMULUS Dfr_StimulusArm;
static EVT_WDF_DRIVER_DEVICE_ADD Dfr_EvtDeviceAdd;
static EVT_WDF_DRIVER_UNLOAD Dfr_EvtDriverUnload;
static EVT_WDF_DEVICE_PREPARE_HARDWARE Dfr_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE Dfr_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_ENTRY Dfr_EvtDeviceD0Entry;
static EVT_WDF_DEVICE_D0_EXIT Dfr_EvtDeviceD0Exit;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP Dfr_EvtDeviceCleanup;
static EVT_WDF_TIMER Dfr_EvtPollTimer;
static EVT_WDF_DPC Dfr_EvtDataDpc;
static KDEFERRED_ROUTINE Dfr_WatchdogDpc;
static KDEFERRED_ROUTINE Dfr_StatsDpc;

static VOID Dfr_StatsDpc(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    UNREFERENCED_PARAMETER(Dpc), UNREFERENCED_PARAMETER(Context), UNREFERENCED_PARAMETER(A1),
        UNREFERENCED_PARAMETER(A2);
    InterlockedIncrement(&g_StatsTicks);
}

NTSTATUS Dfr_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Dfr_EvtDeviceAdd);
    config.EvtDriverUnload = Dfr_EvtDriverUnload;
    NTSTATUS status = WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
    if (!NT_SUCCESS(status))
        return status;
    g_StatsTicks = 0;
    KeInitializeDpc(&g_StatsDpc, Dfr_StatsDpc, NULL);
    KeInitializeTimer(&g_StatsTimer);
    LARGE_INTEGER due = {.QuadPart = WDF_REL_TIMEOUT_IN_SEC(1)};
    KeSetTimerEx(&g_StatsTimer, due, 1000, &g_StatsDpc);
    return STATUS_SUCCESS;
}

static VOID Dfr_EvtDriverUnload(WDFDRIVER Driver)
{
    UNREFERENCED_PARAMETER(Driver);
    if (IS_VARIANT(VARIANT_UNLOAD_TIMER_SET))
        return; /* BUG: the periodic timer stays in the timer queue */
    KeCancelTimer(&g_StatsTimer);
    if (IS_VARIANT(VARIANT_UNLOAD_NO_FLUSH))
        return; /* BUG: a DPC the timer queued before the cancel may still be queued or running */
    KeFlushQueuedDpcs();
}

static NTSTATUS Dfr_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_TIMER_CONFIG timerConfig;
    WDF_DPC_CONFIG dpcConfig;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = Dfr_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = Dfr_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Entry = Dfr_EvtDeviceD0Entry;
    callbacks.EvtDeviceD0Exit = Dfr_EvtDeviceD0Exit;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, DFR_CONTEXT);
    attributes.EvtCleanupCallback = Dfr_EvtDeviceCleanup;
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    PDFR_CONTEXT context = DfrGetContext(device);
    context->Device = device;
    KeInitializeSpinLock(&context->DataLock);
    KeInitializeSpinLock(&context->WatchdogLock);
    KeInitializeTimer(&context->Watchdog);
    KeInitializeDpc(&context->WatchdogDpc, Dfr_WatchdogDpc, context);

    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    attributes.ParentObject = device;
    status = WdfWaitLockCreate(&attributes, &context->ConfigLock);
    if (!NT_SUCCESS(status))
        return status;

    WDF_TIMER_CONFIG_INIT_PERIODIC(&timerConfig, Dfr_EvtPollTimer, 10);
    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    attributes.ParentObject = device; /* a WDFDEVICE ancestor is required */
    status = WdfTimerCreate(&timerConfig, &attributes, &context->PollTimer);
    if (!NT_SUCCESS(status))
        return status;

    WDF_DPC_CONFIG_INIT(&dpcConfig, Dfr_EvtDataDpc);
    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    attributes.ParentObject = device;
    return WdfDpcCreate(&dpcConfig, &attributes, &context->DataDpc);
}

static NTSTATUS Dfr_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                             WDFCMRESLIST ResourcesTranslated)
{
    PDFR_CONTEXT context = DfrGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesRaw);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(ResourcesTranslated, 0);
    if (!d || d->Type != CmResourceTypeMemory)
        return STATUS_DEVICE_NOT_READY;
    context->Registers = MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    return context->Registers ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

static NTSTATUS Dfr_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PDFR_CONTEXT context = DfrGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    volatile ULONG *registers = context->Registers;
    context->Registers = NULL;
    if (registers)
        MmUnmapIoSpace((PVOID)registers, DFR_REG_BLOCK_SIZE);
    return STATUS_SUCCESS;
}

static NTSTATUS Dfr_EvtDeviceD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    PDFR_CONTEXT context = DfrGetContext(Device);
    UNREFERENCED_PARAMETER(PreviousState);
    WRITE_REGISTER_ULONG(&context->Registers[DFR_REG_CONTROL], 1); /* enable sampling */
    WdfTimerStart(context->PollTimer, WDF_REL_TIMEOUT_IN_MS(10));
    return STATUS_SUCCESS;
}

static NTSTATUS Dfr_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    PDFR_CONTEXT context = DfrGetContext(Device);
    UNREFERENCED_PARAMETER(TargetState);
    if (IS_VARIANT(VARIANT_STOP_NO_WAIT))
        WdfTimerStop(context->PollTimer, FALSE); /* BUG: a callback in flight goes on reading registers */
    else if (!IS_VARIANT(VARIANT_TIMER_IN_DX))   /* BUG (timer_in_dx): the timer keeps firing in Dx */
        WdfTimerStop(context->PollTimer, TRUE);
    /* WdfTimerStop(TRUE) flushed the DPCs already (KeFlushQueuedDpcs); the
     * cancel documents that the DPC is ours to stop, and costs nothing. */
    WdfDpcCancel(context->DataDpc, TRUE);
    WRITE_REGISTER_ULONG(&context->Registers[DFR_REG_CONTROL], 0);
    return STATUS_SUCCESS;
}

/* Periodic, at DISPATCH_LEVEL, only between D0Entry and D0Exit: sample, and
 * hand every second sample to the DPC. */
static VOID Dfr_EvtPollTimer(WDFTIMER Timer)
{
    PDFR_CONTEXT context = DfrGetContext(WdfTimerGetParentObject(Timer));
    ULONG status = READ_REGISTER_ULONG(&context->Registers[DFR_REG_STATUS]);
    KIRQL old;
    KeAcquireSpinLock(&context->DataLock, &old);
    ULONG samples = ++context->Samples;
    KeReleaseSpinLock(&context->DataLock, old);
    WRITE_REGISTER_ULONG(&context->Registers[DFR_REG_STATUS], status); /* acknowledge the sample */
    if (samples % 2 == 0)
        WdfDpcEnqueue(context->DataDpc);
}

static VOID Dfr_EvtDataDpc(WDFDPC Dpc)
{
    PDFR_CONTEXT context = DfrGetContext(WdfDpcGetParentObject(Dpc));
    ULONG data = READ_REGISTER_ULONG(&context->Registers[DFR_REG_DATA]);
    UNREFERENCED_PARAMETER(data);
    if (IS_VARIANT(VARIANT_DPC_WAITS)) {
        /* BUG: a PASSIVE_LEVEL lock in a DPC routine */
        WdfWaitLockAcquire(context->ConfigLock, NULL);
        context->Batches++;
        WdfWaitLockRelease(context->ConfigLock);
        return;
    }
    KIRQL old;
    KeAcquireSpinLock(&context->DataLock, &old);
    context->Batches++;
    KeReleaseSpinLock(&context->DataLock, old);
}

static VOID Dfr_WatchdogDpc(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    PDFR_CONTEXT context = Context;
    UNREFERENCED_PARAMETER(Dpc), UNREFERENCED_PARAMETER(A1), UNREFERENCED_PARAMETER(A2);
    InterlockedIncrement(&context->WatchdogFired);
}

/* `arm`: a client asks for a watchdog (one-shot, re-armed by each request). */
VOID Dfr_StimulusArm(WDFDEVICE Device, ULONG Argument)
{
    PDFR_CONTEXT context = DfrGetContext(Device);
    LARGE_INTEGER due = {.QuadPart = WDF_REL_TIMEOUT_IN_MS(100 + (Argument & 0x7F))};
    KIRQL old;
    KeAcquireSpinLock(&context->WatchdogLock, &old);
    if (!context->Removed)
        KeSetTimer(&context->Watchdog, due, &context->WatchdogDpc);
    KeReleaseSpinLock(&context->WatchdogLock, old);
}

/* The device object is being deleted (PASSIVE_LEVEL); its context is freed
 * when the last reference goes. */
static VOID Dfr_EvtDeviceCleanup(WDFOBJECT Object)
{
    PDFR_CONTEXT context = DfrGetContext(Object);
    KIRQL old;
    KeAcquireSpinLock(&context->WatchdogLock, &old);
    context->Removed = TRUE;
    KeReleaseSpinLock(&context->WatchdogLock, old);
    if (IS_VARIANT(VARIANT_WATCHDOG_NOT_CANCELLED))
        return; /* BUG: the context goes with the KTIMER still set */
    KeCancelTimer(&context->Watchdog);
    if (IS_VARIANT(VARIANT_WATCHDOG_NO_FLUSH))
        return; /* BUG: KeCancelTimer does not remove a DPC the timer already queued */
    KeFlushQueuedDpcs(); /* a watchdog DPC already queued or running touches the context */
}
