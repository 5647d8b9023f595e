/*
 * dynchild: the function driver of a dynamic bus slot device. It queries the
 * slot interface in PrepareHardware and releases it in ReleaseHardware; its
 * I/O path (the child_io stimulus: an I/O request handled in the caller's
 * thread) reads the slot through the interface.
 *
 * Protocol (correct variant): calls into the bus hold run-down protection;
 * ReleaseHardware waits for the calls in flight before it dereferences the
 * interface, so no call reaches the bus once the child's stack has been torn
 * down -- in particular not after the bus reported the child missing and PnP
 * deleted the PDO (and the per-child state the interface serves).
 */
#include <tdf/harness.h>

#include "dynamic_bus_if.h"
#include "variants.h"

typedef struct _DYNCHILD_CONTEXT {
    DYNBUS_SLOT_INTERFACE Bus;
    BOOLEAN HaveBus;        /* what the child_flag_check mutant checks instead */
    EX_RUNDOWN_REF BusCalls; /* held across every call into the bus */
} DYNCHILD_CONTEXT, *PDYNCHILD_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(DYNCHILD_CONTEXT, DynChildGetContext)

DRIVER_INITIALIZE DynChild_DriverEntry;
EVT_TDF_STIMULUS DynChild_StimulusIo;
static EVT_WDF_DRIVER_DEVICE_ADD DynChild_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE DynChild_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE DynChild_EvtDeviceReleaseHardware;

NTSTATUS DynChild_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, DynChild_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS DynChild_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = DynChild_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = DynChild_EvtDeviceReleaseHardware;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, DYNCHILD_CONTEXT);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;
    PDYNCHILD_CONTEXT context = DynChildGetContext(device);
    /* No interface yet: run down until PrepareHardware has one. */
    ExInitializeRundownProtection(&context->BusCalls);
    ExWaitForRundownProtectionRelease(&context->BusCalls);
    return STATUS_SUCCESS;
}

static NTSTATUS DynChild_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                                  WDFCMRESLIST ResourcesTranslated)
{
    PDYNCHILD_CONTEXT context = DynChildGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesRaw);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    RtlZeroMemory(&context->Bus, sizeof(context->Bus));
    NTSTATUS status = WdfFdoQueryForInterface(Device, &GUID_TDF_DYNBUS_SLOT_INTERFACE, &context->Bus.InterfaceHeader,
                                              sizeof(DYNBUS_SLOT_INTERFACE), DYNBUS_SLOT_INTERFACE_VERSION, NULL);
    if (!NT_SUCCESS(status))
        return status;
    WriteBooleanNoFence(&context->HaveBus, TRUE);
    if (!IS_DYNBUS_VARIANT(DYNBUS_VARIANT_CHILD_FLAG_CHECK)) /* the mutant relies on the flag alone */
        ExReInitializeRundownProtection(&context->BusCalls);
    return STATUS_SUCCESS;
}

static NTSTATUS DynChild_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PDYNCHILD_CONTEXT context = DynChildGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    if (!context->HaveBus)
        return STATUS_SUCCESS;
    WriteBooleanNoFence(&context->HaveBus, FALSE);
    if (!IS_DYNBUS_VARIANT(DYNBUS_VARIANT_CHILD_FLAG_CHECK))
        ExWaitForRundownProtectionRelease(&context->BusCalls); /* calls in flight return first */
    PINTERFACE header = &context->Bus.InterfaceHeader;
    header->InterfaceDereference(header->Context);
    return STATUS_SUCCESS;
}

/* An I/O request, handled in the requestor's thread. */
VOID DynChild_StimulusIo(WDFDEVICE Device, ULONG Argument)
{
    PDYNCHILD_CONTEXT context = DynChildGetContext(Device);
    UNREFERENCED_PARAMETER(Argument);
    if (IS_DYNBUS_VARIANT(DYNBUS_VARIANT_CHILD_FLAG_CHECK)) {
        /* Bug: check-a-flag-then-call. ReleaseHardware clears the flag and
         * returns with this call still in flight; the bus reporting the
         * child missing then deletes the PDO and its state under it. */
        if (ReadBooleanNoFence(&context->HaveBus))
            (void)context->Bus.ReadSlot(context->Bus.InterfaceHeader.Context);
        return;
    }
    if (ExAcquireRundownProtection(&context->BusCalls)) {
        /* The value is not kept: two I/O threads storing it into the context
         * would be a data race of their own (TSan). */
        (void)context->Bus.ReadSlot(context->Bus.InterfaceHeader.Context);
        ExReleaseRundownProtection(&context->BusCalls);
    }
}
