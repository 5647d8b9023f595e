/*
 * recpp: the recorder of tests/test_lifecycle_powerpol.c, for
 * KERNEL-SEMANTICS §13. One root-enumerated FDO ("pp") that logs every PnP, power and
 * power-policy callback as "pp FDO <Callback>[(<argument>)]", maps one
 * register block (PrepareHardware .. ReleaseHardware) and has a power-managed
 * default queue (every request: reads the register, completes). The variant
 * (TdfVariant(), rec_pp_variant in recpp.h) picks the settings and which
 * callback fails. Test-only: never a fuzz target.
 */
#include <tdf/harness.h>

#include "recpp.h"

typedef struct _RECPP_CONTEXT {
    volatile ULONG *Registers;
    ULONG D0Entries; /* fail_d0entry_resume fails the second one */
} RECPP_CONTEXT, *PRECPP_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(RECPP_CONTEXT, RecPpGetContext)

/* A stimulus thread's view of the register pointer (interlocked: see ReleaseHardware). */
static volatile ULONG *regs_of(PRECPP_CONTEXT context)
{
    return (volatile ULONG *)InterlockedCompareExchangePointer((PVOID volatile *)&context->Registers, NULL, NULL);
}

DRIVER_INITIALIZE RecPp_DriverEntry;
EVT_TDF_STIMULUS RecPp_StimulusStopIdle;
EVT_TDF_STIMULUS RecPp_StimulusResumeIdle;
EVT_TDF_STIMULUS RecPp_StimulusTouch;
static EVT_WDF_DRIVER_DEVICE_ADD RecPp_EvtDeviceAdd;
static EVT_WDF_DRIVER_UNLOAD RecPp_EvtDriverUnload;

#define V(x) (TdfVariant() == (x))
#define LOG(what) DbgPrint("pp FDO %s", (what))
#define LOG_ARG(what, arg) DbgPrint("pp FDO %s(%s)", (what), (arg))

NTSTATUS RecPp_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, RecPp_EvtDeviceAdd);
    config.EvtDriverUnload = RecPp_EvtDriverUnload;
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static VOID RecPp_EvtDriverUnload(WDFDRIVER Driver)
{
    UNREFERENCED_PARAMETER(Driver);
    DbgPrint("recpp EvtDriverUnload");
}

static NTSTATUS RecPp_EvtPrepareHardware(WDFDEVICE Device, WDFCMRESLIST Raw, WDFCMRESLIST Translated)
{
    UNREFERENCED_PARAMETER(Raw);
    LOG("PrepareHardware");
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(Translated, 0);
    RecPpGetContext(Device)->Registers =
        MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    return V(RECPP_FAIL_PREPARE) ? STATUS_INSUFFICIENT_RESOURCES : STATUS_SUCCESS;
}

static NTSTATUS RecPp_EvtReleaseHardware(WDFDEVICE Device, WDFCMRESLIST Translated)
{
    UNREFERENCED_PARAMETER(Translated);
    PRECPP_CONTEXT context = RecPpGetContext(Device);
    LOG("ReleaseHardware");
    /* Interlocked: stimulus threads read the pointer (regs_of) with no other
     * synchronization with ReleaseHardware. */
    PVOID registers = InterlockedExchangePointer((PVOID volatile *)&context->Registers, NULL);
    if (registers)
        MmUnmapIoSpace(registers, 0x1000);
    return STATUS_SUCCESS;
}

static NTSTATUS RecPp_EvtD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE Previous)
{
    PRECPP_CONTEXT context = RecPpGetContext(Device);
    LOG_ARG("D0Entry", Rec_PpPowerStateName(Previous));
    WRITE_REGISTER_ULONG(&context->Registers[0], 1);
    if (V(RECPP_FAIL_D0ENTRY_START) || (V(RECPP_FAIL_D0ENTRY_RESUME) && ++context->D0Entries == 2))
        return STATUS_DEVICE_NOT_READY;
    return STATUS_SUCCESS;
}

static NTSTATUS RecPp_EvtD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE Target)
{
    LOG_ARG("D0Exit", Rec_PpPowerStateName(Target));
    WRITE_REGISTER_ULONG(&RecPpGetContext(Device)->Registers[0], 0);
    return V(RECPP_FAIL_D0EXIT) && Target != WdfPowerDeviceD3Final ? STATUS_DEVICE_NOT_READY : STATUS_SUCCESS;
}

static NTSTATUS RecPp_EvtSelfManagedIoInit(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("SelfManagedIoInit");
    return V(RECPP_FAIL_SMIO_INIT) ? STATUS_INSUFFICIENT_RESOURCES : STATUS_SUCCESS;
}

static NTSTATUS RecPp_EvtSelfManagedIoSuspend(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("SelfManagedIoSuspend");
    return STATUS_SUCCESS;
}

static NTSTATUS RecPp_EvtSelfManagedIoRestart(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("SelfManagedIoRestart");
    return STATUS_SUCCESS;
}

static VOID RecPp_EvtSelfManagedIoFlush(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("SelfManagedIoFlush");
}

static VOID RecPp_EvtSelfManagedIoCleanup(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("SelfManagedIoCleanup");
}

static VOID RecPp_EvtSurpriseRemoval(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("SurpriseRemoval");
}

static VOID RecPp_EvtCleanupCallback(WDFOBJECT Object)
{
    UNREFERENCED_PARAMETER(Object);
    LOG("EvtCleanupCallback");
}

static NTSTATUS RecPp_EvtArmWakeFromS0(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("ArmWakeFromS0");
    return V(RECPP_ARM_FAILS) ? STATUS_INSUFFICIENT_RESOURCES : STATUS_SUCCESS;
}

static VOID RecPp_EvtDisarmWakeFromS0(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("DisarmWakeFromS0");
}

static VOID RecPp_EvtWakeFromS0Triggered(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("WakeFromS0Triggered");
}

static NTSTATUS RecPp_EvtArmWakeFromSx(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("ArmWakeFromSx");
    return STATUS_SUCCESS;
}

static VOID RecPp_EvtDisarmWakeFromSx(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    LOG("DisarmWakeFromSx");
}

static VOID RecPp_EvtIoDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                     size_t InputBufferLength, ULONG IoControlCode)
{
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);
    UNREFERENCED_PARAMETER(IoControlCode);
    WDFDEVICE device = WdfIoQueueGetDevice(Queue);
    PRECPP_CONTEXT context = RecPpGetContext(device);
    LOG("EvtIoDeviceControl");
    (void)READ_REGISTER_ULONG(&regs_of(context)[0]);
    WdfRequestComplete(Request, STATUS_SUCCESS);
}

static NTSTATUS RecPp_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    UNREFERENCED_PARAMETER(Driver);
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = RecPp_EvtPrepareHardware;
    callbacks.EvtDeviceReleaseHardware = RecPp_EvtReleaseHardware;
    callbacks.EvtDeviceD0Entry = RecPp_EvtD0Entry;
    callbacks.EvtDeviceD0Exit = RecPp_EvtD0Exit;
    callbacks.EvtDeviceSelfManagedIoInit = RecPp_EvtSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoSuspend = RecPp_EvtSelfManagedIoSuspend;
    callbacks.EvtDeviceSelfManagedIoRestart = RecPp_EvtSelfManagedIoRestart;
    callbacks.EvtDeviceSelfManagedIoFlush = RecPp_EvtSelfManagedIoFlush;
    callbacks.EvtDeviceSelfManagedIoCleanup = RecPp_EvtSelfManagedIoCleanup;
    callbacks.EvtDeviceSurpriseRemoval = RecPp_EvtSurpriseRemoval;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);

    WDF_POWER_POLICY_EVENT_CALLBACKS ppCallbacks;
    WDF_POWER_POLICY_EVENT_CALLBACKS_INIT(&ppCallbacks);
    ppCallbacks.EvtDeviceArmWakeFromS0 = RecPp_EvtArmWakeFromS0;
    ppCallbacks.EvtDeviceDisarmWakeFromS0 = RecPp_EvtDisarmWakeFromS0;
    ppCallbacks.EvtDeviceWakeFromS0Triggered = RecPp_EvtWakeFromS0Triggered;
    ppCallbacks.EvtDeviceArmWakeFromSx = RecPp_EvtArmWakeFromSx;
    ppCallbacks.EvtDeviceDisarmWakeFromSx = RecPp_EvtDisarmWakeFromSx;
    WdfDeviceInitSetPowerPolicyEventCallbacks(DeviceInit, &ppCallbacks);

    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, RECPP_CONTEXT);
    attributes.EvtCleanupCallback = RecPp_EvtCleanupCallback;
    WDFDEVICE device;
    NTSTATUS status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    if (!V(RECPP_NO_IDLE_SETTINGS)) {
        WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idle;
        WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(
            &idle, V(RECPP_WAKE_S0) || V(RECPP_ARM_FAILS) ? IdleCanWakeFromS0 : IdleCannotWakeFromS0);
        status = WdfDeviceAssignS0IdleSettings(device, &idle);
        if (!NT_SUCCESS(status))
            return status;
    }
    if (V(RECPP_WAKE_SX)) {
        WDF_DEVICE_POWER_POLICY_WAKE_SETTINGS wake;
        WDF_DEVICE_POWER_POLICY_WAKE_SETTINGS_INIT(&wake);
        status = WdfDeviceAssignSxWakeSettings(device, &wake);
        if (!NT_SUCCESS(status))
            return status;
    }

    WDF_IO_QUEUE_CONFIG queueConfig;
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queueConfig, WdfIoQueueDispatchParallel);
    queueConfig.EvtIoDeviceControl = RecPp_EvtIoDeviceControl;
    return WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
}

/* stopidle: WdfDeviceStopIdle(WaitForD0=TRUE), then a register read and
 * WdfDeviceResumeIdle; the argument's bit 0 skips the ResumeIdle (a held
 * reference for the test to observe). */
VOID RecPp_StimulusStopIdle(WDFDEVICE Device, ULONG Argument)
{
    NTSTATUS status = WdfDeviceStopIdle(Device, TRUE);
    DbgPrint("pp FDO StopIdle returned %s", status == STATUS_SUCCESS ? "success" : "failure");
    if (!NT_SUCCESS(status))
        return;
    (void)READ_REGISTER_ULONG(&regs_of(RecPpGetContext(Device))[0]);
    if (!(Argument & 1))
        WdfDeviceResumeIdle(Device);
}

/* resumeidle: a WdfDeviceResumeIdle with no StopIdle of its own. */
VOID RecPp_StimulusResumeIdle(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    LOG("ResumeIdle");
    WdfDeviceResumeIdle(Device);
}

/* touch: reads the register with no power reference. */
VOID RecPp_StimulusTouch(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    (void)READ_REGISTER_ULONG(&regs_of(RecPpGetContext(Device))[0]);
}
