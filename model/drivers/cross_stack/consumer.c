/*
 * The consumer: a root-enumerated FDO in another stack. It opens the
 * producer by name as a remote I/O target, queries its interface through the
 * target (WdfIoTargetQueryForInterface) handing over its OnProducerEvent
 * callback (V2, two-way), and calls the producer's Write from its own I/O
 * thread when a request arrives (stimulus consumer_call).
 *
 * Protocol (correct variant; the contract is in cross_stack_if.h):
 *  - SelfManagedIoInit: open the target (registering EvtIoTargetQueryRemove /
 *    RemoveCanceled / RemoveComplete), query V2, and check what came back:
 *    an older producer may answer a V2 query with V1 (KERNEL-SEMANTICS §3),
 *    which promises nothing about its lifetime; give it back and run without.
 *  - The I/O path registers itself in CallsInFlight under InterfaceLock
 *    before it calls, and leaves it after the call has returned into our own
 *    code (never from inside the producer). CallRundown counts the same calls
 *    for the places that must wait for them.
 *  - EvtIoTargetQueryRemove (do not block a query): if no call is running,
 *    dereference and zero the copy (KERNEL-SEMANTICS §3); if one is, keep
 *    the reference: the producer then fails the QUERY_REMOVE that follows
 *    (§3), which is what keeps it loaded under that call. Either way close
 *    for query-remove (§5), or the removal could never proceed.
 *  - EvtIoTargetRemoveCanceled: reopen, and re-query if we had released.
 *  - EvtIoTargetRemoveComplete (orderly: released already; surprise: the
 *    handle is still open and is all that keeps the producer's image loaded):
 *    wait for the calls, dereference, close for good.
 *  - SelfManagedIoCleanup (our own removal): the same, before our image can
 *    unload; our Dereference returns only once the producer no longer calls
 *    OnProducerEvent.
 */
#include <tdf/harness.h>

#include "cross_stack_if.h"
#include "variants.h"

static DECLARE_CONST_UNICODE_STRING(PRODUCER_LINK_NAME, PRODUCER_LINK_NAME_TEXT);

typedef struct _CONSUMER_CONTEXT {
    WDFIOTARGET Target;
    BOOLEAN TargetOpen;           /* changed only on the PnP thread (callbacks below) */
    FAST_MUTEX InterfaceLock;     /* Interface, HaveInterface, CallsInFlight */
    PRODUCER_INTERFACE Interface; /* our copy; zeroed once released (OSR) */
    BOOLEAN HaveInterface;        /* we hold the (base) reference of Interface */
    LONG CallsInFlight;           /* I/O threads between registering and returning from the producer */
    EX_RUNDOWN_REF CallRundown;   /* the same calls, for draining before the handle closes for good */
    volatile LONG EventsSeen;
    volatile LONG LastEvent;
    volatile LONG LastStatus;
} CONSUMER_CONTEXT, *PCONSUMER_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(CONSUMER_CONTEXT, ConsumerGetContext)

DRIVER_INITIALIZE Consumer_DriverEntry;
EVT_TDF_STIMULUS Consumer_StimulusCall;
static EVT_WDF_DRIVER_DEVICE_ADD Consumer_EvtDeviceAdd;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT Consumer_EvtDeviceSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP Consumer_EvtDeviceSelfManagedIoCleanup;
static EVT_WDF_IO_TARGET_QUERY_REMOVE Consumer_EvtIoTargetQueryRemove;
static EVT_WDF_IO_TARGET_REMOVE_CANCELED Consumer_EvtIoTargetRemoveCanceled;
static EVT_WDF_IO_TARGET_REMOVE_COMPLETE Consumer_EvtIoTargetRemoveComplete;
static CONSUMER_ON_PRODUCER_EVENT Consumer_OnProducerEvent;

NTSTATUS Consumer_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Consumer_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Consumer_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDeviceSelfManagedIoInit = Consumer_EvtDeviceSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoCleanup = Consumer_EvtDeviceSelfManagedIoCleanup;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, CONSUMER_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;

    PCONSUMER_CONTEXT context = ConsumerGetContext(device);
    ExInitializeFastMutex(&context->InterfaceLock);
    ExInitializeRundownProtection(&context->CallRundown);
    /* A child of the device: closed (at the latest) when the device is deleted. */
    return WdfIoTargetCreate(device, WDF_NO_OBJECT_ATTRIBUTES, &context->Target);
}

/* Gives the interface back and forgets it; caller holds InterfaceLock. Runs
 * on the PnP thread only, so the Dereference never lets a removal proceed
 * behind our back: the PnP manager goes on only after we return. */
static VOID Consumer_ReleaseInterfaceLocked(PCONSUMER_CONTEXT context)
{
    if (context->HaveInterface) {
        PINTERFACE header = &context->Interface.InterfaceHeader;
        header->InterfaceDereference(header->Context);
        RtlZeroMemory(&context->Interface, sizeof(context->Interface)); /* OSR: zero after release */
        context->HaveInterface = FALSE;
    }
}

/* Waits for every I/O call into the producer and refuses new ones for good.
 * Done before the handle is closed for good: after that nothing keeps the
 * producer loaded (KERNEL-SEMANTICS §5). */
static VOID Consumer_DrainCalls(PCONSUMER_CONTEXT context)
{
    ExWaitForRundownProtectionRelease(&context->CallRundown);
    ExRundownCompleted(&context->CallRundown); /* a second drain returns at once */
}

static VOID Consumer_CloseTarget(PCONSUMER_CONTEXT context)
{
    if (context->TargetOpen) {
        WdfIoTargetClose(context->Target);
        context->TargetOpen = FALSE;
    }
}

/* Opens the producer (unless open) and queries its interface (unless we still
 * hold it). PASSIVE, PnP thread (SelfManagedIoInit, RemoveCanceled). */
static NTSTATUS Consumer_Connect(WDFDEVICE Device)
{
    PCONSUMER_CONTEXT context = ConsumerGetContext(Device);
    PRODUCER_INTERFACE iface;
    NTSTATUS status;

    if (!context->TargetOpen) {
        WDF_IO_TARGET_OPEN_PARAMS openParams;
        WDF_IO_TARGET_OPEN_PARAMS_INIT_OPEN_BY_NAME(&openParams, &PRODUCER_LINK_NAME, GENERIC_READ | GENERIC_WRITE);
        /* Target-device-change notification (KERNEL-SEMANTICS §3: a
         * cross-stack querier must register for it). Reopening after a
         * canceled removal opens by name again with the same callbacks (the
         * shim has no WDF_IO_TARGET_OPEN_PARAMS_INIT_REOPEN). */
        openParams.EvtIoTargetQueryRemove = Consumer_EvtIoTargetQueryRemove;
        openParams.EvtIoTargetRemoveCanceled = Consumer_EvtIoTargetRemoveCanceled;
        openParams.EvtIoTargetRemoveComplete = Consumer_EvtIoTargetRemoveComplete;
        status = WdfIoTargetOpen(context->Target, &openParams);
        if (!NT_SUCCESS(status)) {
            DbgPrint("consumer: producer not there (0x%lx), running without it\n", (unsigned long)(ULONG)status);
            return status;
        }
        context->TargetOpen = TRUE;
    }
    if (context->HaveInterface)
        return STATUS_SUCCESS; /* kept across a vetoed removal */

    /* Our half of the two-way interface goes in with the query. */
    RtlZeroMemory(&iface, sizeof(iface));
    iface.OnProducerEvent = Consumer_OnProducerEvent;
    iface.ConsumerContext = context;
    status = WdfIoTargetQueryForInterface(context->Target, &GUID_TDF_PRODUCER_INTERFACE, &iface.InterfaceHeader,
                                          sizeof(iface), PRODUCER_INTERFACE_VERSION, NULL);
    if (!NT_SUCCESS(status)) {
        Consumer_CloseTarget(context); /* nothing to hold the handle for */
        return status;
    }
    /* The framework accepts any stored Size/Version <= the requested ones:
     * an older producer answers with V1, whose no-op references veto nothing
     * and which never imported our callback. We rely on V2's veto. */
    if (!IS_VARIANT(VARIANT_ACCEPT_V1) && /* bug: takes whatever version came back */
        (iface.InterfaceHeader.Version < PRODUCER_INTERFACE_VERSION_2 ||
         iface.InterfaceHeader.Size < sizeof(PRODUCER_INTERFACE))) {
        DbgPrint("consumer: producer interface V%u too old, not used\n", (unsigned)iface.InterfaceHeader.Version);
        iface.InterfaceHeader.InterfaceDereference(iface.InterfaceHeader.Context);
        Consumer_CloseTarget(context);
        return STATUS_NOT_SUPPORTED;
    }
    ExAcquireFastMutex(&context->InterfaceLock);
    context->Interface = iface;
    context->HaveInterface = TRUE;
    ExReleaseFastMutex(&context->InterfaceLock);
    return STATUS_SUCCESS;
}

static NTSTATUS Consumer_EvtDeviceSelfManagedIoInit(WDFDEVICE Device)
{
    /* The producer is optional: without it, requests fail and the device
     * still starts. */
    (void)Consumer_Connect(Device);
    return STATUS_SUCCESS;
}

static VOID Consumer_EvtDeviceSelfManagedIoCleanup(WDFDEVICE Device)
{
    PCONSUMER_CONTEXT context = ConsumerGetContext(Device);
    /* Our own removal: calls first (they run our code and use the producer),
     * then the reference (after which the producer no longer calls
     * OnProducerEvent), then the handle. */
    Consumer_DrainCalls(context);
    ExAcquireFastMutex(&context->InterfaceLock);
    Consumer_ReleaseInterfaceLocked(context);
    ExReleaseFastMutex(&context->InterfaceLock);
    Consumer_CloseTarget(context);
}

static NTSTATUS Consumer_EvtIoTargetQueryRemove(WDFIOTARGET IoTarget)
{
    PCONSUMER_CONTEXT context = ConsumerGetContext(WdfIoTargetGetDevice(IoTarget));

    ExAcquireFastMutex(&context->InterfaceLock);
    if (context->CallsInFlight == 0 || IS_VARIANT(VARIANT_DEREF_IN_USE)) {
        /* KERNEL-SEMANTICS §3: dereference on QUERY_REMOVE. No call can
         * start after this (HaveInterface is FALSE under the lock).
         * (deref_in_use, bug: also while a call is running: nothing keeps
         * the producer loaded under it once we close below.) */
        Consumer_ReleaseInterfaceLocked(context);
    } else {
        /* A call is running: keep the reference. The producer fails the
         * QUERY_REMOVE that follows; we hear RemoveCanceled. */
        DbgPrint("consumer: query-remove with %ld call(s) running, keeping the interface\n",
                 (long)context->CallsInFlight);
    }
    ExReleaseFastMutex(&context->InterfaceLock);
    /* KERNEL-SEMANTICS §5: close or veto; our handle must not hold up REMOVE. */
    if (!IS_VARIANT(VARIANT_NO_CLOSE_ON_QR)) { /* bug: the handle stays open, REMOVE waits for it */
        WdfIoTargetCloseForQueryRemove(IoTarget);
        context->TargetOpen = FALSE;
    }
    return STATUS_SUCCESS;
}

static VOID Consumer_EvtIoTargetRemoveCanceled(WDFIOTARGET IoTarget)
{
    /* The removal was vetoed (by the producer, because we kept the
     * interface): reopen, re-query if we had released (KERNEL-SEMANTICS §3, §5). */
    (void)Consumer_Connect(WdfIoTargetGetDevice(IoTarget));
}

static VOID Consumer_EvtIoTargetRemoveComplete(WDFIOTARGET IoTarget)
{
    PCONSUMER_CONTEXT context = ConsumerGetContext(WdfIoTargetGetDevice(IoTarget));
    /* The producer is gone for good. Calls first (after a surprise removal
     * our handle is still open: it keeps the producer's image loaded until
     * they are done), then the reference, then the handle (§5: must close). */
    Consumer_DrainCalls(context);
    ExAcquireFastMutex(&context->InterfaceLock);
    Consumer_ReleaseInterfaceLocked(context);
    ExReleaseFastMutex(&context->InterfaceLock);
    WdfIoTargetClose(IoTarget);
    context->TargetOpen = FALSE;
}

/* Imported by the producer (V2): runs on the producer's thread, in our image.
 * Takes no lock of ours: the producer's last Dereference, which we call under
 * InterfaceLock, waits for this routine to return. */
static VOID Consumer_OnProducerEvent(PVOID ConsumerContext, ULONG Event)
{
    PCONSUMER_CONTEXT context = ConsumerContext;
    InterlockedIncrement(&context->EventsSeen);
    WriteNoFence(&context->LastEvent, (LONG)Event);
}

/* Stimulus: an I/O request on the consumer; its thread calls the producer. */
VOID Consumer_StimulusCall(WDFDEVICE Device, ULONG Argument)
{
    PCONSUMER_CONTEXT context = ConsumerGetContext(Device);
    PRODUCER_INTERFACE local;
    BOOLEAN registered = FALSE;
    NTSTATUS status = STATUS_DEVICE_NOT_READY;

    if (!ExAcquireRundownProtection(&context->CallRundown))
        return; /* the producer is gone for good, or we are being removed */

    ExAcquireFastMutex(&context->InterfaceLock);
    if (context->HaveInterface) {
        /* Registered before the call: QueryRemove sees us and keeps the
         * reference this call relies on. */
        context->CallsInFlight++;
        local = context->Interface;
        registered = TRUE;
    }
    ExReleaseFastMutex(&context->InterfaceLock);

    if (registered) {
        status = local.Write(local.InterfaceHeader.Context, Argument);
        RtlZeroMemory(&local, sizeof(local));
        /* Back in our own image: only now may the reference go. */
        ExAcquireFastMutex(&context->InterfaceLock);
        context->CallsInFlight--;
        ExReleaseFastMutex(&context->InterfaceLock);
    }
    WriteNoFence(&context->LastStatus, status);
    ExReleaseRundownProtection(&context->CallRundown);
}
