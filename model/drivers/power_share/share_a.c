/*
 * Device A: a root-enumerated function driver that owns a register block and
 * shares part of it with device B in another PnP stack (seed
 * blog-sharing-hw-resources-power-callbacks).
 *
 * Protocol (correct variant), see power_share_if.h:
 *  - AddDevice creates the symbolic link B opens, a non-power-managed default
 *    queue for B's internal IOCTLs (the hand-out must work while A idles in
 *    Dx) and a power-managed queue for command completions (they touch the
 *    registers: only in D0).
 *  - IOCTL_INTERNAL_GET_RESOURCES takes B's callbacks from the input buffer
 *    and returns the register mapping in the same request, then -- if A is in
 *    D0 -- calls B's PowerUp once, all under the client lock, so that no
 *    power-down can slip between "A is in D0" and B hearing it.
 *  - SelfManagedIoSuspend (first in every power-down path, KERNEL-SEMANTICS §4)
 *    calls B's PowerDown and then waits for B's in-flight register accesses
 *    (run-down protection, §1, §6 "Fix"); only then may the queues be held and
 *    D0Exit save and disable the hardware. SelfManagedIoInit/Restart (last in
 *    every power-up path) call B's PowerUp with the current mapping.
 *  - IOCTL_INTERNAL_RELEASE_RESOURCES forgets B's callbacks under the lock:
 *    once it completed, A never calls into B again (B may unload).
 */
#include <tdf/harness.h>

#include "power_share_if.h"
#include "variants.h"

#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)

static DECLARE_CONST_UNICODE_STRING(SHARE_A_LINK, SHARE_A_DEVICE_NAME);

typedef struct _SHARE_A_CONTEXT {
    WDFDEVICE Device;
    volatile ULONG *Registers; /* mapped in PrepareHardware; guarded by ClientLock for the hand-out */
    ULONG SavedControl;        /* our own CONTROL register across Dx */
    WDFQUEUE CommandQueue;     /* power-managed: WAIT_COMMAND completions read the registers */
    /* The client (B). ClientLock is held across every call into B, so that
     * registering, unregistering and the power transitions are serialized. */
    FAST_MUTEX ClientLock;
    BOOLEAN ClientRegistered;
    SHARE_POWER_CALLBACKS Client; /* PowerUp == NULL: a client without callbacks */
    BOOLEAN ClientPowered;        /* between PowerUp and PowerDown: B may touch the registers */
    BOOLEAN HardwareMapped;       /* between PrepareHardware and ReleaseHardware */
    /* B's register accesses in flight (BeginAccess/EndAccess). Not a power
     * state: it is only drained, in our power-down path, and re-armed at once. */
    EX_RUNDOWN_REF AccessGuard;
} SHARE_A_CONTEXT, *PSHARE_A_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(SHARE_A_CONTEXT, ShareAGetContext)

DRIVER_INITIALIZE ShareA_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD ShareA_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE ShareA_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE ShareA_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_ENTRY ShareA_EvtDeviceD0Entry;
static EVT_WDF_DEVICE_D0_EXIT ShareA_EvtDeviceD0Exit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT ShareA_EvtDeviceSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_RESTART ShareA_EvtDeviceSelfManagedIoRestart;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_SUSPEND ShareA_EvtDeviceSelfManagedIoSuspend;
static EVT_WDF_IO_QUEUE_IO_INTERNAL_DEVICE_CONTROL ShareA_EvtIoInternalDeviceControl;
static EVT_WDF_IO_QUEUE_IO_INTERNAL_DEVICE_CONTROL ShareA_EvtCommandComplete;
static SHARE_BEGIN_ACCESS ShareA_BeginAccess;
static SHARE_END_ACCESS ShareA_EndAccess;

NTSTATUS ShareA_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, ShareA_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS ShareA_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_IO_QUEUE_CONFIG queueConfig;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = ShareA_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = ShareA_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Entry = ShareA_EvtDeviceD0Entry;
    callbacks.EvtDeviceD0Exit = ShareA_EvtDeviceD0Exit;
    callbacks.EvtDeviceSelfManagedIoInit = ShareA_EvtDeviceSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoRestart = ShareA_EvtDeviceSelfManagedIoRestart;
    callbacks.EvtDeviceSelfManagedIoSuspend = ShareA_EvtDeviceSelfManagedIoSuspend;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, SHARE_A_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13). */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;

    PSHARE_A_CONTEXT context = ShareAGetContext(device);
    context->Device = device;
    ExInitializeFastMutex(&context->ClientLock);
    ExInitializeRundownProtection(&context->AccessGuard); /* active: accesses count, nothing drains yet */

    /* B's internal IOCTLs. Not power-managed: B asks for the resources (and
     * gives them back) whatever our power state; nothing here touches the
     * hardware. */
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queueConfig, WdfIoQueueDispatchParallel);
    queueConfig.PowerManaged = WdfFalse;
    queueConfig.EvtIoInternalDeviceControl = ShareA_EvtIoInternalDeviceControl;
    status = WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
    if (!NT_SUCCESS(status))
        return status;

    /* Command completions read the registers: power-managed, so they are
     * dispatched only in D0 and held from the start of every power-down. */
    WDF_IO_QUEUE_CONFIG_INIT(&queueConfig, WdfIoQueueDispatchParallel);
    queueConfig.PowerManaged = WdfTrue;
    queueConfig.EvtIoInternalDeviceControl = ShareA_EvtCommandComplete;
    status = WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, &context->CommandQueue);
    if (!NT_SUCCESS(status))
        return status;

    return WdfDeviceCreateSymbolicLink(device, &SHARE_A_LINK);
}

static NTSTATUS ShareA_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                                WDFCMRESLIST ResourcesTranslated)
{
    PSHARE_A_CONTEXT context = ShareAGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesRaw);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(ResourcesTranslated, 0);
    if (!d || d->Type != CmResourceTypeMemory)
        return STATUS_DEVICE_NOT_READY;
    /* Mapped again at every start: a rebalance can move the block. */
    volatile ULONG *registers = MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    if (!registers)
        return STATUS_INSUFFICIENT_RESOURCES;
    ExAcquireFastMutex(&context->ClientLock);
    context->Registers = registers;
    context->HardwareMapped = TRUE;
    ExReleaseFastMutex(&context->ClientLock);
    return STATUS_SUCCESS;
}

static NTSTATUS ShareA_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PSHARE_A_CONTEXT context = ShareAGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    /* After the power-down core (B was told and drained in Suspend): no new
     * hand-out of a mapping we are about to unmap. */
    ExAcquireFastMutex(&context->ClientLock);
    volatile ULONG *registers = context->Registers;
    context->Registers = NULL;
    context->HardwareMapped = FALSE;
    ExReleaseFastMutex(&context->ClientLock);
    if (registers)
        MmUnmapIoSpace((PVOID)registers, SHARE_REG_BLOCK_SIZE);
    return STATUS_SUCCESS;
}

/* ---- telling B ------------------------------------------------------------------ */
static VOID ShareA_NotifyPowerUp(PSHARE_A_CONTEXT context)
{
    ExAcquireFastMutex(&context->ClientLock);
    context->ClientPowered = TRUE;
    if (context->ClientRegistered && context->Client.PowerUp)
        context->Client.PowerUp(context->Client.ClientContext, context->Registers);
    ExReleaseFastMutex(&context->ClientLock);
}

static VOID ShareA_NotifyPowerDown(PSHARE_A_CONTEXT context)
{
    ExAcquireFastMutex(&context->ClientLock);
    context->ClientPowered = FALSE;
    if (context->ClientRegistered && context->Client.PowerDown)
        context->Client.PowerDown(context->Client.ClientContext); /* B starts no new access */
    ExReleaseFastMutex(&context->ClientLock);

    if (IS_VARIANT(VARIANT_NO_DRAIN))
        return; /* bug: an access B began before PowerDown is still touching the registers */
    /* KERNEL-SEMANTICS §6 "Fix": wait for B's accesses that began before
     * PowerDown; any access that begins after it sees B's belief "A is
     * powered down" and touches nothing. Then re-arm at once: the guard only
     * counts, B's belief is the gate. (§1: ReInitialize after a Wait.) */
    ExWaitForRundownProtectionRelease(&context->AccessGuard);
    ExReInitializeRundownProtection(&context->AccessGuard);
}

static NTSTATUS ShareA_EvtDeviceD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    PSHARE_A_CONTEXT context = ShareAGetContext(Device);
    UNREFERENCED_PARAMETER(PreviousState);
    WRITE_REGISTER_ULONG(&context->Registers[SHARE_REG_CONTROL], context->SavedControl | 1); /* restore, enable */
    if (IS_VARIANT(VARIANT_DOWN_IN_D0EXIT))
        ShareA_NotifyPowerUp(context); /* bug's other half: before the queues resume */
    return STATUS_SUCCESS;
}

static NTSTATUS ShareA_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    PSHARE_A_CONTEXT context = ShareAGetContext(Device);
    UNREFERENCED_PARAMETER(TargetState);
    /* Bug (down_in_d0exit): by now the power-managed queues are held (§4), so
     * a command B started before PowerDown cannot complete, and B's access --
     * which the drain below waits for -- waits for that command. */
    if (IS_VARIANT(VARIANT_DOWN_IN_D0EXIT))
        ShareA_NotifyPowerDown(context);
    /* Save our state and disable the function: B must be done by now. */
    context->SavedControl = READ_REGISTER_ULONG(&context->Registers[SHARE_REG_CONTROL]) & ~1u;
    WRITE_REGISTER_ULONG(&context->Registers[SHARE_REG_CONTROL], 0);
    return STATUS_SUCCESS;
}

static NTSTATUS ShareA_EvtDeviceSelfManagedIoInit(WDFDEVICE Device)
{
    /* First start: the last step of the power-up path, queues running. */
    if (!IS_VARIANT(VARIANT_DOWN_IN_D0EXIT))
        ShareA_NotifyPowerUp(ShareAGetContext(Device));
    return STATUS_SUCCESS;
}

static NTSTATUS ShareA_EvtDeviceSelfManagedIoRestart(WDFDEVICE Device)
{
    if (!IS_VARIANT(VARIANT_DOWN_IN_D0EXIT))
        ShareA_NotifyPowerUp(ShareAGetContext(Device));
    return STATUS_SUCCESS;
}

static NTSTATUS ShareA_EvtDeviceSelfManagedIoSuspend(WDFDEVICE Device)
{
    /* First step of every power-down path -- idle, Sx, stop, remove and
     * surprise removal alike (§4) -- before the queues are held. */
    if (!IS_VARIANT(VARIANT_DOWN_IN_D0EXIT))
        ShareA_NotifyPowerDown(ShareAGetContext(Device));
    return STATUS_SUCCESS;
}

/* ---- B's requests -------------------------------------------------------------- */
static VOID ShareA_GetResources(PSHARE_A_CONTEXT context, WDFREQUEST Request, size_t InputBufferLength)
{
    PSHARE_RESOURCES resources;
    PSHARE_POWER_CALLBACKS callbacks = NULL;
    NTSTATUS status = WdfRequestRetrieveOutputBuffer(Request, sizeof(*resources), (PVOID *)&resources, NULL);
    if (!NT_SUCCESS(status)) {
        WdfRequestComplete(Request, status);
        return;
    }
    if (InputBufferLength >= sizeof(SHARE_POWER_CALLBACKS) &&
        !NT_SUCCESS(WdfRequestRetrieveInputBuffer(Request, sizeof(*callbacks), (PVOID *)&callbacks, NULL)))
        callbacks = NULL;

    ExAcquireFastMutex(&context->ClientLock);
    if (!context->HardwareMapped || context->ClientRegistered) {
        /* Stopped or removed (nothing to hand out), or one client already. */
        ExReleaseFastMutex(&context->ClientLock);
        WdfRequestComplete(Request, STATUS_INVALID_DEVICE_STATE);
        return;
    }
    /* The callbacks are registered in the very request that hands out the
     * resources: no window in which B has them and we could power down
     * without telling it (the seed). */
    RtlZeroMemory(&context->Client, sizeof(context->Client));
    if (callbacks)
        RtlCopyMemory(&context->Client, callbacks, sizeof(context->Client));
    context->ClientRegistered = TRUE;

    resources->Size = sizeof(*resources);
    resources->Registers = context->Registers;
    resources->RegisterCount = SHARE_REG_BLOCK_SIZE / sizeof(ULONG);
    resources->BeginAccess = ShareA_BeginAccess;
    resources->EndAccess = ShareA_EndAccess;
    resources->OwnerContext = context;
    BOOLEAN powered = context->ClientPowered;
    resources->PoweredAtHandout = powered;
    SHARE_POWER_UP *powerUp = context->Client.PowerUp;
    PVOID clientContext = context->Client.ClientContext;
    volatile ULONG *registers = context->Registers;

    if (IS_VARIANT(VARIANT_HANDOUT_UNLOCKED)) {
        /* Bug: "don't call out under our lock". Between the release and the
         * call, SelfManagedIoSuspend can run to the end -- B hears PowerDown,
         * then this stale PowerUp, and believes A is powered while it is in Dx. */
        ExReleaseFastMutex(&context->ClientLock);
        WdfRequestCompleteWithInformation(Request, STATUS_SUCCESS, sizeof(*resources));
        if (powered && powerUp)
            powerUp(clientContext, registers);
        return;
    }
    WdfRequestCompleteWithInformation(Request, STATUS_SUCCESS, sizeof(*resources));
    /* In D0 now: B's first PowerUp comes right after the hand-out, still under
     * the lock, so no SelfManagedIoSuspend can come between (the seed). */
    if (powered && powerUp)
        powerUp(clientContext, registers);
    ExReleaseFastMutex(&context->ClientLock);
}

static VOID ShareA_RegisterCallbacks(PSHARE_A_CONTEXT context, WDFREQUEST Request)
{
    PSHARE_POWER_CALLBACKS callbacks;
    NTSTATUS status = WdfRequestRetrieveInputBuffer(Request, sizeof(*callbacks), (PVOID *)&callbacks, NULL);
    if (!NT_SUCCESS(status)) {
        WdfRequestComplete(Request, status);
        return;
    }
    ExAcquireFastMutex(&context->ClientLock);
    if (!context->ClientRegistered) {
        ExReleaseFastMutex(&context->ClientLock);
        WdfRequestComplete(Request, STATUS_INVALID_DEVICE_STATE);
        return;
    }
    RtlCopyMemory(&context->Client, callbacks, sizeof(context->Client));
    WdfRequestComplete(Request, STATUS_SUCCESS);
    if (context->ClientPowered && context->Client.PowerUp)
        context->Client.PowerUp(context->Client.ClientContext, context->Registers);
    ExReleaseFastMutex(&context->ClientLock);
}

static VOID ShareA_ReleaseResources(PSHARE_A_CONTEXT context, WDFREQUEST Request)
{
    /* Under the lock: a call into B in progress finishes first, none starts
     * after. From the completion on, B's image may unload. */
    if (IS_VARIANT(VARIANT_UNREGISTER_UNLOCKED)) {
        /* Bug: "a store of FALSE is atomic". B's removal runs on the PnP
         * thread while our idle power-down runs on the power policy's: a
         * NotifyPowerDown already past its ClientRegistered check calls into
         * B after this request completed and B unloaded. */
        context->ClientRegistered = FALSE;
        RtlZeroMemory(&context->Client, sizeof(context->Client));
        WdfRequestComplete(Request, STATUS_SUCCESS);
        return;
    }
    ExAcquireFastMutex(&context->ClientLock);
    context->ClientRegistered = FALSE;
    RtlZeroMemory(&context->Client, sizeof(context->Client));
    ExReleaseFastMutex(&context->ClientLock);
    WdfRequestComplete(Request, STATUS_SUCCESS);
}

static VOID ShareA_EvtIoInternalDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                              size_t InputBufferLength, ULONG IoControlCode)
{
    PSHARE_A_CONTEXT context = ShareAGetContext(WdfIoQueueGetDevice(Queue));
    NTSTATUS status;
    UNREFERENCED_PARAMETER(OutputBufferLength);

    switch (IoControlCode) {
    case IOCTL_INTERNAL_GET_RESOURCES:
        ShareA_GetResources(context, Request, InputBufferLength);
        break;
    case IOCTL_INTERNAL_REGISTER_POWER_CALLBACKS:
        ShareA_RegisterCallbacks(context, Request);
        break;
    case IOCTL_INTERNAL_RELEASE_RESOURCES:
        ShareA_ReleaseResources(context, Request);
        break;
    case IOCTL_INTERNAL_WAIT_COMMAND:
        /* Completed from the power-managed queue: only in D0. */
        status = WdfRequestForwardToIoQueue(Request, context->CommandQueue);
        if (!NT_SUCCESS(status))
            WdfRequestComplete(Request, status);
        break;
    default:
        WdfRequestComplete(Request, STATUS_INVALID_DEVICE_REQUEST);
        break;
    }
}

/* The command's completion: in the real device, A's ISR/DPC would see the
 * done bit; here the command completes as soon as the request is dispatched,
 * which the power-managed queue does only in D0. */
static VOID ShareA_EvtCommandComplete(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                      size_t InputBufferLength, ULONG IoControlCode)
{
    PSHARE_A_CONTEXT context = ShareAGetContext(WdfIoQueueGetDevice(Queue));
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);
    UNREFERENCED_PARAMETER(IoControlCode);
    ULONG status = READ_REGISTER_ULONG(&context->Registers[SHARE_REG_STATUS]);
    WRITE_REGISTER_ULONG(&context->Registers[SHARE_REG_STATUS], status + 1); /* acknowledge the interrupt */
    WdfRequestCompleteWithInformation(Request, STATUS_SUCCESS, status);
}

/* ---- B's access bracket --------------------------------------------------------- */
static BOOLEAN ShareA_BeginAccess(PVOID OwnerContext)
{
    PSHARE_A_CONTEXT context = OwnerContext;
    return ExAcquireRundownProtection(&context->AccessGuard);
}

static VOID ShareA_EndAccess(PVOID OwnerContext)
{
    PSHARE_A_CONTEXT context = OwnerContext;
    ExReleaseRundownProtection(&context->AccessGuard);
}
