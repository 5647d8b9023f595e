/*
 * The producer: a root-enumerated FDO in its own stack that exports
 * GUID_TDF_PRODUCER_INTERFACE to drivers of other stacks (OSR, "Bus Interfaces
 * Aren't Just for Buses"), and a named device (symbolic link) they can open.
 *
 * Protocol (correct variant, interface V2):
 *  - InterfaceReference / InterfaceDereference count the references handed
 *    out, under InterfaceLock. The count does two things:
 *      * EvtDeviceQueryRemove fails while it is non-zero (KERNEL-SEMANTICS §3),
 *        so an orderly removal cannot unload us under a consumer that is
 *        still calling us;
 *      * EventRundown, which every call into the consumer's imported callback
 *        holds, is armed on 0 -> 1 and drained on 1 -> 0: after the last
 *        Dereference returns, we never call into the consumer again, and no
 *        such call is still running (the consumer may unload right after).
 *  - Dereference only counts down (and drains EventRundown): it never drops
 *    the last reference that keeps this driver loaded. The article's warning
 *    ("The producer must be careful to not trigger its own unload from
 *    directly within the dereference callback") and KERNEL-SEMANTICS §3 ("the
 *    thread that drops the reference blocking an unload must run no further
 *    instructions in that image"). What keeps our image loaded is the
 *    consumer's open handle, or our veto while it has closed it for a
 *    query-remove; WdfObjectReference on our own device would keep it too,
 *    but then the Dereference that drops it can be the one that unloads us
 *    (self_unload).
 *  - Write touches our registers under D0Rundown, armed in D0Entry and
 *    drained in D0Exit (so also before SR/remove power the device off).
 *
 * With param old_producer = 1 this is the older V1 build of the driver: the
 * article's sample, copied interface with WdfDeviceInterfaceReferenceNoOp /
 * DereferenceNoOp, no veto, no callback.
 */
#include <tdf/harness.h>

#include "cross_stack_if.h"
#include "variants.h"

static DECLARE_CONST_UNICODE_STRING(PRODUCER_LINK_NAME, PRODUCER_LINK_NAME_TEXT);

typedef struct _PRODUCER_CONTEXT {
    volatile ULONG *Registers; /* mapped in PrepareHardware */
    EX_RUNDOWN_REF D0Rundown;  /* held by Write while it touches the registers */
    FAST_MUTEX InterfaceLock;  /* References, and arming/draining EventRundown with it */
    LONG References;           /* interface references handed out and not yet dropped */
    EX_RUNDOWN_REF EventRundown; /* held across every call into the consumer; armed while References > 0 */
    CONSUMER_ON_PRODUCER_EVENT *ImportedOnEvent; /* the consumer's half of the V2 buffer */
    PVOID ImportedContext;
    PVOID ActiveOnEvent; /* revoke_no_wait: what that mutant checks instead of EventRundown */
    volatile LONG EventCounter;
} PRODUCER_CONTEXT, *PPRODUCER_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(PRODUCER_CONTEXT, ProducerGetContext)

DRIVER_INITIALIZE Producer_DriverEntry;
EVT_TDF_STIMULUS Producer_StimulusNotify;
static EVT_WDF_DRIVER_DEVICE_ADD Producer_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE Producer_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE Producer_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_ENTRY Producer_EvtDeviceD0Entry;
static EVT_WDF_DEVICE_D0_EXIT Producer_EvtDeviceD0Exit;
static EVT_WDF_DEVICE_QUERY_REMOVE Producer_EvtDeviceQueryRemove;
static EVT_WDF_DEVICE_PROCESS_QUERY_INTERFACE_REQUEST Producer_EvtProcessQueryInterface;
static PRODUCER_WRITE Producer_Write;
static VOID Producer_InterfaceReference(PVOID Context);
static VOID Producer_InterfaceDereference(PVOID Context);

NTSTATUS Producer_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Producer_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

/* The reference routines this producer hands out: its own (V2), or the
 * framework's no-ops (the V1 build, and the noop_refs mutant). */
static PINTERFACE_REFERENCE Producer_ReferenceRoutine(void)
{
    return IS_VARIANT(VARIANT_NOOP_REFS) ? WdfDeviceInterfaceReferenceNoOp : Producer_InterfaceReference;
}

static PINTERFACE_DEREFERENCE Producer_DereferenceRoutine(void)
{
    return IS_VARIANT(VARIANT_NOOP_REFS) ? WdfDeviceInterfaceDereferenceNoOp : Producer_InterfaceDereference;
}

static NTSTATUS Producer_AddInterfaceV1(WDFDEVICE Device)
{
    /* The article's sample, verbatim in spirit: a copied interface, no
     * per-instance state, the framework's no-op reference routines. */
    PRODUCER_INTERFACE_V1 v1;
    WDF_QUERY_INTERFACE_CONFIG queryConfig;

    RtlZeroMemory(&v1, sizeof(v1));
    v1.InterfaceHeader.Size = sizeof(PRODUCER_INTERFACE_V1);
    v1.InterfaceHeader.Version = PRODUCER_INTERFACE_VERSION_1;
    v1.InterfaceHeader.Context = Device;
    v1.InterfaceHeader.InterfaceReference = WdfDeviceInterfaceReferenceNoOp;
    v1.InterfaceHeader.InterfaceDereference = WdfDeviceInterfaceDereferenceNoOp;
    v1.Write = Producer_Write;
    WDF_QUERY_INTERFACE_CONFIG_INIT(&queryConfig, &v1.InterfaceHeader, &GUID_TDF_PRODUCER_INTERFACE,
                                    WDF_NO_EVENT_CALLBACK);
    return WdfDeviceAddQueryInterface(Device, &queryConfig);
}

static NTSTATUS Producer_AddInterfaceV2(WDFDEVICE Device)
{
    PRODUCER_INTERFACE v2;
    WDF_QUERY_INTERFACE_CONFIG queryConfig;

    /* Registered for the framework's Size/Version check (stored <= requested,
     * KERNEL-SEMANTICS §3): consumers asking for less than V2 are refused
     * before our callback runs. With ImportInterface nothing of this is
     * copied: Producer_EvtProcessQueryInterface fills the consumer's buffer. */
    RtlZeroMemory(&v2, sizeof(v2));
    v2.InterfaceHeader.Size = sizeof(PRODUCER_INTERFACE);
    v2.InterfaceHeader.Version = PRODUCER_INTERFACE_VERSION_2;
    v2.InterfaceHeader.Context = Device;
    v2.InterfaceHeader.InterfaceReference = Producer_ReferenceRoutine();
    v2.InterfaceHeader.InterfaceDereference = Producer_DereferenceRoutine();
    v2.Write = Producer_Write;
    WDF_QUERY_INTERFACE_CONFIG_INIT(&queryConfig, &v2.InterfaceHeader, &GUID_TDF_PRODUCER_INTERFACE,
                                    Producer_EvtProcessQueryInterface);
    queryConfig.ImportInterface = TRUE; /* two-way: the consumer's callback comes in in the same buffer */
    return WdfDeviceAddQueryInterface(Device, &queryConfig);
}

static NTSTATUS Producer_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = Producer_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = Producer_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Entry = Producer_EvtDeviceD0Entry;
    callbacks.EvtDeviceD0Exit = Producer_EvtDeviceD0Exit;
    callbacks.EvtDeviceQueryRemove = Producer_EvtDeviceQueryRemove;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, PRODUCER_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;

    PPRODUCER_CONTEXT context = ProducerGetContext(device);
    /* Not in D0 yet, and not referenced yet: both run down until armed. */
    ExInitializeRundownProtection(&context->D0Rundown);
    ExWaitForRundownProtectionRelease(&context->D0Rundown);
    ExInitializeRundownProtection(&context->EventRundown);
    ExWaitForRundownProtectionRelease(&context->EventRundown);
    ExInitializeFastMutex(&context->InterfaceLock);

    /* Both before the device starts: the name makes us openable once started
     * (then a query can arrive at any time). */
    status = WdfDeviceCreateSymbolicLink(device, &PRODUCER_LINK_NAME);
    if (!NT_SUCCESS(status))
        return status;
    return TdfParam("old_producer") ? Producer_AddInterfaceV1(device) : Producer_AddInterfaceV2(device);
}

static NTSTATUS Producer_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                                  WDFCMRESLIST ResourcesTranslated)
{
    PPRODUCER_CONTEXT context = ProducerGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesRaw);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(ResourcesTranslated, 0);
    if (!d || d->Type != CmResourceTypeMemory)
        return STATUS_DEVICE_NOT_READY;
    context->Registers = MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    return context->Registers ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

static NTSTATUS Producer_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PPRODUCER_CONTEXT context = ProducerGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    /* D0Exit already drained D0Rundown: no Write is using the mapping. */
    if (context->Registers) {
        MmUnmapIoSpace((PVOID)context->Registers, 0x1000);
        context->Registers = NULL;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS Producer_EvtDeviceD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    PPRODUCER_CONTEXT context = ProducerGetContext(Device);
    UNREFERENCED_PARAMETER(PreviousState);
    WRITE_REGISTER_ULONG(&context->Registers[1], 1); /* enable the function */
    ExReInitializeRundownProtection(&context->D0Rundown); /* Write may touch the hardware from now on */
    return STATUS_SUCCESS;
}

static NTSTATUS Producer_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    PPRODUCER_CONTEXT context = ProducerGetContext(Device);
    UNREFERENCED_PARAMETER(TargetState);
    /* Every power-down path (idle, surprise removal, remove) comes here
     * first (KERNEL-SEMANTICS §4): wait for Writes in flight, refuse new ones
     * until the next D0Entry. */
    ExWaitForRundownProtectionRelease(&context->D0Rundown);
    WRITE_REGISTER_ULONG(&context->Registers[1], 0);
    return STATUS_SUCCESS;
}

static NTSTATUS Producer_EvtDeviceQueryRemove(WDFDEVICE Device)
{
    PPRODUCER_CONTEXT context = ProducerGetContext(Device);
    LONG references;

    /* KERNEL-SEMANTICS §3: fail QUERY_REMOVE while a handed-out interface is
     * referenced. The consumer's EvtIoTargetQueryRemove (sent before this
     * IRP) closed its handle and dereferenced, unless one of its threads is
     * calling us: then it kept its reference, and this veto is all that
     * keeps us loaded under that call. The V1 build (and noop_refs) counts
     * nothing and so never vetoes. */
    ExAcquireFastMutex(&context->InterfaceLock);
    references = context->References;
    ExReleaseFastMutex(&context->InterfaceLock);
    if (IS_VARIANT(VARIANT_SELF_UNLOAD))
        return STATUS_SUCCESS; /* bug: relies on the device references taken in Reference instead */
    if (references > 0) {
        DbgPrint("producer: QUERY_REMOVE vetoed, %ld interface reference(s) out\n", (long)references);
        return STATUS_UNSUCCESSFUL;
    }
    return STATUS_SUCCESS;
}

/* ImportInterface: ExposedInterface is the consumer's own buffer, carrying the
 * Size and Version it asked for and its half of the interface. */
static NTSTATUS Producer_EvtProcessQueryInterface(WDFDEVICE Device, LPGUID InterfaceType, PINTERFACE ExposedInterface,
                                                  PVOID ExposedInterfaceSpecificData)
{
    PPRODUCER_CONTEXT context = ProducerGetContext(Device);
    PPRODUCER_INTERFACE iface = (PPRODUCER_INTERFACE)ExposedInterface;
    UNREFERENCED_PARAMETER(InterfaceType);
    UNREFERENCED_PARAMETER(ExposedInterfaceSpecificData);

    /* Never write (or read) beyond what the consumer said its buffer holds. */
    if (ExposedInterface->Size < sizeof(PRODUCER_INTERFACE) ||
        ExposedInterface->Version < PRODUCER_INTERFACE_VERSION_2)
        return STATUS_INVALID_BUFFER_SIZE;

    /* One consumer callback at a time: while references are out, only the
     * same consumer (re-querying after a canceled removal) may query again. */
    ExAcquireFastMutex(&context->InterfaceLock);
    if (context->References > 0 && (context->ImportedOnEvent != iface->OnProducerEvent ||
                                    context->ImportedContext != iface->ConsumerContext)) {
        ExReleaseFastMutex(&context->InterfaceLock);
        return STATUS_INVALID_DEVICE_STATE;
    }
    context->ImportedOnEvent = iface->OnProducerEvent;
    context->ImportedContext = iface->ConsumerContext;
    ExReleaseFastMutex(&context->InterfaceLock);

    iface->InterfaceHeader.Size = sizeof(PRODUCER_INTERFACE);
    iface->InterfaceHeader.Version = PRODUCER_INTERFACE_VERSION_2;
    iface->InterfaceHeader.Context = Device;
    iface->InterfaceHeader.InterfaceReference = Producer_ReferenceRoutine();
    iface->InterfaceHeader.InterfaceDereference = Producer_DereferenceRoutine();
    iface->Write = Producer_Write;
    /* The framework calls InterfaceReference for the consumer when we return
     * success (KERNEL-SEMANTICS §3): that arms the callback. */
    return STATUS_SUCCESS;
}

static VOID Producer_InterfaceReference(PVOID Context)
{
    WDFDEVICE device = (WDFDEVICE)Context;
    PPRODUCER_CONTEXT context = ProducerGetContext(device);

    ExAcquireFastMutex(&context->InterfaceLock);
    if (context->References++ == 0) {
        /* First reference: calls into the consumer may start. */
        if (IS_VARIANT(VARIANT_REVOKE_NO_WAIT))
            WritePointerNoFence(&context->ActiveOnEvent, (PVOID)context->ImportedOnEvent);
        else
            ExReInitializeRundownProtection(&context->EventRundown);
    }
    ExReleaseFastMutex(&context->InterfaceLock);
    if (IS_VARIANT(VARIANT_SELF_UNLOAD))
        WdfObjectReference(device); /* bug (with the missing veto): "keeps us loaded while referenced" */
}

static VOID Producer_InterfaceDereference(PVOID Context)
{
    WDFDEVICE device = (WDFDEVICE)Context;
    PPRODUCER_CONTEXT context = ProducerGetContext(device);

    ExAcquireFastMutex(&context->InterfaceLock);
    NT_ASSERT(context->References > 0);
    if (--context->References == 0) {
        /* Last reference: the consumer may unload as soon as we return, so no
         * call into it may still be running then, nor start later. */
        if (IS_VARIANT(VARIANT_REVOKE_NO_WAIT))
            WritePointerNoFence(&context->ActiveOnEvent, NULL); /* bug: a call already past the check goes on */
        else
            ExWaitForRundownProtectionRelease(&context->EventRundown);
    }
    ExReleaseFastMutex(&context->InterfaceLock);
    if (IS_VARIANT(VARIANT_SELF_UNLOAD)) {
        /* Bug: after REMOVE this can be the device's last reference. Its
         * destruction unloads the driver right here, on the consumer's
         * thread, while that thread still executes this routine. */
        WdfObjectDereference(device);
    }
    /* Correct: called on the consumer's PnP-notification path or its
     * teardown (the PnP manager goes on only after we return), with its
     * handle open or our veto pending: returning from here is safe. */
}

static NTSTATUS Producer_Write(PVOID Context, ULONG Value)
{
    PPRODUCER_CONTEXT context = ProducerGetContext((WDFDEVICE)Context);
    /* The caller's reference keeps us loaded; our power state is ours to check. */
    if (!ExAcquireRundownProtection(&context->D0Rundown))
        return STATUS_DEVICE_NOT_READY; /* idle, or powered off for removal */
    WRITE_REGISTER_ULONG(&context->Registers[0], Value);
    ExReleaseRundownProtection(&context->D0Rundown);
    return STATUS_SUCCESS;
}

/* Stimulus: a producer hardware event, reported to the consumer through the
 * callback it handed us (V2). Runs on its own thread. */
VOID Producer_StimulusNotify(WDFDEVICE Device, ULONG Argument)
{
    PPRODUCER_CONTEXT context = ProducerGetContext(Device);
    ULONG event = (ULONG)InterlockedIncrement(&context->EventCounter) ^ Argument;

    if (IS_VARIANT(VARIANT_REVOKE_NO_WAIT)) {
        /* Bug: check-the-pointer-then-call; the last Dereference can clear it
         * and the consumer unload between the check and the call's end. */
        CONSUMER_ON_PRODUCER_EVENT *onEvent = (CONSUMER_ON_PRODUCER_EVENT *)ReadPointerNoFence(&context->ActiveOnEvent);
        if (onEvent)
            onEvent(context->ImportedContext, event);
        return;
    }
    /* Armed only while the consumer holds a reference: then its image is
     * loaded, and its last Dereference waits for this call to return. */
    if (ExAcquireRundownProtection(&context->EventRundown)) {
        if (context->ImportedOnEvent)
            context->ImportedOnEvent(context->ImportedContext, event);
        ExReleaseRundownProtection(&context->EventRundown);
    }
}
