/*
 * Device B: a root-enumerated driver in another PnP stack that uses part of
 * device A's register block (seed blog-sharing-hw-resources-power-callbacks).
 *
 * Connection (b_connect: A's device interface arrived; the notification runs
 * on a system worker thread): open A by name as a remote I/O target and send
 * IOCTL_INTERNAL_GET_RESOURCES with our PowerUp/PowerDown callbacks in the
 * input buffer; A returns its resources in the output buffer.
 *
 * Protocol (correct variant):
 *  - A is assumed to be in low power until our first PowerUp (the seed): the
 *    register pointer we use is the one PowerUp hands us, never the one from
 *    the hand-out (a rebalance remaps A's registers).
 *  - Each access (b_access) holds ResourcesRundown (the resources and A's
 *    handle stay valid) and A's access bracket (A's power-down waits for it),
 *    and touches the registers only if we believe A is powered.
 *  - Disconnect -- on query-remove, remove-complete (after a surprise removal)
 *    and our own removal: drain our accesses, give the resources back (A
 *    forgets our callbacks), then close the handle. Remove-canceled reopens
 *    and takes the resources again.
 */
#include <tdf/harness.h>

#include "power_share_if.h"
#include "variants.h"

static DECLARE_CONST_UNICODE_STRING(SHARE_A_NAME, SHARE_A_DEVICE_NAME);

typedef struct _SHARE_B_CONTEXT {
    WDFDEVICE Device;
    WDFIOTARGET TargetA;
    /* PASSIVE_LEVEL lock (we send synchronous requests while holding it):
     * serializes connect and disconnect. */
    WDFWAITLOCK ConnectLock;
    BOOLEAN Connected; /* guarded by ConnectLock */
    BOOLEAN Closing;   /* our own removal started: no more connects */
    BOOLEAN QueryRemovePending; /* closed for query-remove: A may be going; no connect until we hear */
    SHARE_POWER_CALLBACKS Callbacks; /* input buffer of GET_RESOURCES */
    SHARE_RESOURCES Resources;       /* output buffer: A writes it before completing */
    /* Held by each access: Resources valid, A's handle open, A's code loaded.
     * Born run down; re-armed by a connect, drained by a disconnect. */
    EX_RUNDOWN_REF ResourcesRundown;
    /* Our belief about A, written by A's callbacks. */
    BOOLEAN APowered;
    PVOID ARegisters; /* volatile ULONG *: the mapping from the last PowerUp */
    LONG Commands;
} SHARE_B_CONTEXT, *PSHARE_B_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(SHARE_B_CONTEXT, ShareBGetContext)

DRIVER_INITIALIZE ShareB_DriverEntry;
EVT_TDF_STIMULUS ShareB_StimulusConnect;
EVT_TDF_STIMULUS ShareB_StimulusAccess;
static EVT_WDF_DRIVER_DEVICE_ADD ShareB_EvtDeviceAdd;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP ShareB_EvtDeviceSelfManagedIoCleanup;
static EVT_WDF_IO_TARGET_QUERY_REMOVE ShareB_EvtIoTargetQueryRemove;
static EVT_WDF_IO_TARGET_REMOVE_CANCELED ShareB_EvtIoTargetRemoveCanceled;
static EVT_WDF_IO_TARGET_REMOVE_COMPLETE ShareB_EvtIoTargetRemoveComplete;
static SHARE_POWER_UP ShareB_PowerUp;
static SHARE_POWER_DOWN ShareB_PowerDown;

NTSTATUS ShareB_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, ShareB_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS ShareB_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDeviceSelfManagedIoCleanup = ShareB_EvtDeviceSelfManagedIoCleanup;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, SHARE_B_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;

    PSHARE_B_CONTEXT context = ShareBGetContext(device);
    context->Device = device;
    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    attributes.ParentObject = device;
    status = WdfWaitLockCreate(&attributes, &context->ConnectLock);
    if (!NT_SUCCESS(status))
        return status;
    ExInitializeRundownProtection(&context->ResourcesRundown);
    ExWaitForRundownProtectionRelease(&context->ResourcesRundown); /* no resources yet */
    /* A child of our device: closed and deleted with it at the latest. */
    return WdfIoTargetCreate(device, WDF_NO_OBJECT_ATTRIBUTES, &context->TargetA);
}

/* A synchronous internal IOCTL to A. */
static NTSTATUS ShareB_SendToA(PSHARE_B_CONTEXT context, ULONG IoctlCode, PVOID Input, size_t InputLength,
                               PVOID Output, size_t OutputLength, ULONG_PTR *Information)
{
    WDFREQUEST request;
    WDFMEMORY input = NULL, output = NULL;
    WDF_REQUEST_SEND_OPTIONS options;
    NTSTATUS status = WdfRequestCreate(WDF_NO_OBJECT_ATTRIBUTES, context->TargetA, &request);
    if (!NT_SUCCESS(status))
        return status;
    if (Input)
        WdfMemoryCreatePreallocated(WDF_NO_OBJECT_ATTRIBUTES, Input, InputLength, &input);
    if (Output)
        WdfMemoryCreatePreallocated(WDF_NO_OBJECT_ATTRIBUTES, Output, OutputLength, &output);
    status = WdfIoTargetFormatRequestForInternalIoctl(context->TargetA, request, IoctlCode, input, NULL, output, NULL);
    if (NT_SUCCESS(status)) {
        WDF_REQUEST_SEND_OPTIONS_INIT(&options, WDF_REQUEST_SEND_OPTION_SYNCHRONOUS);
        (void)WdfRequestSend(request, context->TargetA, &options);
        status = WdfRequestGetStatus(request);
        if (Information)
            *Information = WdfRequestGetInformation(request);
    }
    WdfObjectDelete(request);
    if (input)
        WdfObjectDelete(input);
    if (output)
        WdfObjectDelete(output);
    return status;
}

/* ---- A's callbacks into us (A holds its client lock) ---------------------------- */
static VOID ShareB_PowerUp(PVOID ClientContext, volatile ULONG *Registers)
{
    PSHARE_B_CONTEXT context = ClientContext;
    /* The mapping first, then the belief: an access that sees "powered" uses it. */
    WritePointerNoFence(&context->ARegisters, (PVOID)Registers);
    WriteBooleanNoFence(&context->APowered, TRUE);
}

static VOID ShareB_PowerDown(PVOID ClientContext)
{
    PSHARE_B_CONTEXT context = ClientContext;
    /* No new access touches the registers; A waits for the ones in flight. */
    WriteBooleanNoFence(&context->APowered, FALSE);
}

/* ---- connect / disconnect -------------------------------------------------------- */
static VOID ShareB_Lock(PSHARE_B_CONTEXT context) { (void)WdfWaitLockAcquire(context->ConnectLock, NULL); }

static VOID ShareB_Unlock(PSHARE_B_CONTEXT context) { WdfWaitLockRelease(context->ConnectLock); }

/* Called with ConnectLock held and the target closed (reopen: closed for a
 * query-remove that was canceled). */
static NTSTATUS ShareB_ConnectLocked(PSHARE_B_CONTEXT context, BOOLEAN reopen)
{
    WDF_IO_TARGET_OPEN_PARAMS openParams;
    NTSTATUS status;

    if (reopen) {
        WDF_IO_TARGET_OPEN_PARAMS_INIT_REOPEN(&openParams);
    } else {
        WDF_IO_TARGET_OPEN_PARAMS_INIT_OPEN_BY_NAME(&openParams, &SHARE_A_NAME, GENERIC_READ | GENERIC_WRITE);
        openParams.EvtIoTargetQueryRemove = ShareB_EvtIoTargetQueryRemove;
        openParams.EvtIoTargetRemoveCanceled = ShareB_EvtIoTargetRemoveCanceled;
        openParams.EvtIoTargetRemoveComplete = ShareB_EvtIoTargetRemoveComplete;
    }
    status = WdfIoTargetOpen(context->TargetA, &openParams);
    if (!NT_SUCCESS(status)) {
        if (reopen)
            WdfIoTargetClose(context->TargetA); /* drop the query-remove registration */
        return status; /* A is not started (yet, or any more) */
    }

    /* The seed: assume A is in low power until its first PowerUp, which may
     * come from inside the request below (A in D0 at hand-out time). */
    WritePointerNoFence(&context->ARegisters, NULL);
    WriteBooleanNoFence(&context->APowered, FALSE);
    RtlZeroMemory(&context->Resources, sizeof(context->Resources));
    RtlZeroMemory(&context->Callbacks, sizeof(context->Callbacks));
    context->Callbacks.Size = sizeof(context->Callbacks);
    context->Callbacks.PowerUp = ShareB_PowerUp;
    context->Callbacks.PowerDown = ShareB_PowerDown;
    context->Callbacks.ClientContext = context;

    BOOLEAN callbacksWithResources = !IS_VARIANT(VARIANT_HANDLE_NOTIFY_ONLY) && !IS_VARIANT(VARIANT_CALLBACKS_LATE);
    status = ShareB_SendToA(context, IOCTL_INTERNAL_GET_RESOURCES, callbacksWithResources ? &context->Callbacks : NULL,
                            sizeof(context->Callbacks), &context->Resources, sizeof(context->Resources), NULL);
    if (!NT_SUCCESS(status)) {
        WdfIoTargetClose(context->TargetA);
        return status;
    }

    switch (TdfVariant()) {
    case VARIANT_HANDLE_NOTIFY_ONLY:
        /* Bug: A is started, so "it has power" until the handle's PnP
         * notifications say otherwise -- they never say idle, Sx or stop, and
         * after a surprise removal they come after A has powered down. */
        WritePointerNoFence(&context->ARegisters, (PVOID)context->Resources.Registers);
        WriteBooleanNoFence(&context->APowered, TRUE);
        break;
    case VARIANT_CALLBACKS_LATE:
        /* Bug: the power state at hand-out time, callbacks in a second
         * request: A can power down in between with nobody to tell. */
        WritePointerNoFence(&context->ARegisters, (PVOID)context->Resources.Registers);
        WriteBooleanNoFence(&context->APowered, context->Resources.PoweredAtHandout);
        (void)ShareB_SendToA(context, IOCTL_INTERNAL_REGISTER_POWER_CALLBACKS, &context->Callbacks,
                             sizeof(context->Callbacks), NULL, 0, NULL);
        break;
    case VARIANT_B_ASSUMES_D0:
        /* Bug: A handed out its resources, so it must be in D0. It may be
         * idle in Dx; the first PowerUp comes only with its next wake. */
        WritePointerNoFence(&context->ARegisters, (PVOID)context->Resources.Registers);
        WriteBooleanNoFence(&context->APowered, TRUE);
        break;
    default:
        break;
    }
    context->Connected = TRUE;
    ExReInitializeRundownProtection(&context->ResourcesRundown); /* accesses may begin */
    return STATUS_SUCCESS;
}

/* Called with ConnectLock held. Leaves the target closed for query-remove
 * (forQueryRemove) or closed for good. */
static VOID ShareB_DisconnectLocked(PSHARE_B_CONTEXT context, BOOLEAN forQueryRemove)
{
    if (context->Connected) {
        /* 1. No access of ours is in flight (and none begins): nothing uses
         *    the resources or calls into A after this. */
        ExWaitForRundownProtectionRelease(&context->ResourcesRundown);
        /* 2. A forgets our callbacks: no call into us after this completes. */
        (void)ShareB_SendToA(context, IOCTL_INTERNAL_RELEASE_RESOURCES, NULL, 0, NULL, 0, NULL);
        WriteBooleanNoFence(&context->APowered, FALSE);
        WritePointerNoFence(&context->ARegisters, NULL);
        RtlZeroMemory(&context->Resources, sizeof(context->Resources));
        context->Connected = FALSE;
    }
    /* 3. The handle: A's removal waits for it. */
    context->QueryRemovePending = forQueryRemove;
    if (forQueryRemove)
        WdfIoTargetCloseForQueryRemove(context->TargetA);
    else
        WdfIoTargetClose(context->TargetA);
}

static NTSTATUS ShareB_EvtIoTargetQueryRemove(WDFIOTARGET IoTarget)
{
    PSHARE_B_CONTEXT context = ShareBGetContext(WdfIoTargetGetDevice(IoTarget));
    ShareB_Lock(context);
    ShareB_DisconnectLocked(context, TRUE);
    ShareB_Unlock(context);
    return STATUS_SUCCESS;
}

static VOID ShareB_EvtIoTargetRemoveCanceled(WDFIOTARGET IoTarget)
{
    PSHARE_B_CONTEXT context = ShareBGetContext(WdfIoTargetGetDevice(IoTarget));
    ShareB_Lock(context);
    if (context->QueryRemovePending) {
        /* A stays: reopen (KERNEL-SEMANTICS §5) and take the resources and register the
         * callbacks anew -- we gave them back at query-remove. */
        context->QueryRemovePending = FALSE;
        if (context->Closing)
            WdfIoTargetClose(context->TargetA);
        else
            (void)ShareB_ConnectLocked(context, TRUE);
    }
    ShareB_Unlock(context);
}

static VOID ShareB_EvtIoTargetRemoveComplete(WDFIOTARGET IoTarget)
{
    PSHARE_B_CONTEXT context = ShareBGetContext(WdfIoTargetGetDevice(IoTarget));
    ShareB_Lock(context);
    ShareB_DisconnectLocked(context, FALSE); /* after a surprise removal: still connected here */
    ShareB_Unlock(context);
}

static VOID ShareB_EvtDeviceSelfManagedIoCleanup(WDFDEVICE Device)
{
    PSHARE_B_CONTEXT context = ShareBGetContext(Device);
    /* We are going away: A must not call into us after our image unloads. */
    ShareB_Lock(context);
    context->Closing = TRUE;
    ShareB_DisconnectLocked(context, FALSE);
    ShareB_Unlock(context);
}

/* ---- stimuli ---------------------------------------------------------------------- */
/* A's device interface arrived (PnP notification, system worker thread). */
VOID ShareB_StimulusConnect(WDFDEVICE Device, ULONG Argument)
{
    PSHARE_B_CONTEXT context = ShareBGetContext(Device);
    UNREFERENCED_PARAMETER(Argument);
    ShareB_Lock(context);
    /* Not while A's removal is pending: our handle must stay closed until
     * remove-canceled or remove-complete (KERNEL-SEMANTICS §5). */
    if (!context->Closing && !context->Connected && !context->QueryRemovePending)
        (void)ShareB_ConnectLocked(context, FALSE);
    ShareB_Unlock(context);
}

/* B's thread touches A's registers: read the status, start a command, and
 * (odd argument) wait for A to report its completion. */
VOID ShareB_StimulusAccess(WDFDEVICE Device, ULONG Argument)
{
    PSHARE_B_CONTEXT context = ShareBGetContext(Device);
    if (!ExAcquireRundownProtection(&context->ResourcesRundown))
        return; /* not connected */
    PSHARE_RESOURCES resources = &context->Resources;
    if (resources->BeginAccess(resources->OwnerContext)) {
        if (ReadBooleanNoFence(&context->APowered)) {
            volatile ULONG *registers = ReadPointerNoFence(&context->ARegisters);
            ULONG status = READ_REGISTER_ULONG(&registers[SHARE_REG_STATUS]);
            WRITE_REGISTER_ULONG(&registers[SHARE_REG_COMMAND], (ULONG)InterlockedIncrement(&context->Commands) ^ status);
            if (Argument & 1) {
                ULONG_PTR result = 0;
                /* A owns the interrupt: it completes this when the command is done. */
                if (NT_SUCCESS(ShareB_SendToA(context, IOCTL_INTERNAL_WAIT_COMMAND, NULL, 0, NULL, 0, &result)))
                    WRITE_REGISTER_ULONG(&registers[SHARE_REG_RESULT], (ULONG)result);
            }
        }
        resources->EndAccess(resources->OwnerContext);
    }
    ExReleaseRundownProtection(&context->ResourcesRundown);
}
