/*
 * Driver B of fuzz_wdm_cancel: a WDM function driver that holds IOCTL_WC_WAIT
 * IRPs on its own list, cancelable, until its event source fires
 * (WcB_StimulusComplete) or it is removed. The list is protected by B's spin
 * lock; the cancel routine and the completion path agree on who owns an IRP
 * through IoSetCancelRoutine's result (Learn, "Cancel Routines in Drivers
 * with Their Own Queues" pattern): whoever takes the routine out of the IRP
 * completes it. An IRP taken off the list is re-linked to itself, so a
 * cancel routine that runs afterwards finds nothing to unlink.
 */
#include <tdf/harness.h>

#include "variants.h"
#include "wdm_cancel_if.h"

typedef struct WC_B_EXT {
    PDEVICE_OBJECT Self;
    PDEVICE_OBJECT Lower;
    IO_REMOVE_LOCK RemoveLock; /* one hold per IRP B holds or works on */
    KSPIN_LOCK Lock;           /* Held, Removed */
    LIST_ENTRY Held;
    BOOLEAN Removed; /* surprise-removed or removed: new IRPs fail */
    ULONG Events;
} WC_B_EXT;

DRIVER_INITIALIZE WcB_DriverEntry;
static DRIVER_ADD_DEVICE WcB_AddDevice;
static DRIVER_UNLOAD WcB_Unload;
static DRIVER_DISPATCH WcB_DispatchPnp;
static DRIVER_DISPATCH WcB_DispatchPower;
static DRIVER_DISPATCH WcB_DispatchInternal;
static DRIVER_CANCEL WcB_Cancel;
static IO_COMPLETION_ROUTINE WcB_StartComplete;
EVT_TDF_STIMULUS WcB_StimulusComplete;

NTSTATUS WcB_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_PNP] = WcB_DispatchPnp;
    DriverObject->MajorFunction[IRP_MJ_POWER] = WcB_DispatchPower;
    DriverObject->MajorFunction[IRP_MJ_INTERNAL_DEVICE_CONTROL] = WcB_DispatchInternal;
    DriverObject->DriverUnload = WcB_Unload;
    DriverObject->DriverExtension->AddDevice = WcB_AddDevice;
    return STATUS_SUCCESS;
}

static VOID WcB_Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("B: unload\n");
}

static NTSTATUS WcB_AddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT PhysicalDeviceObject)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(WC_B_DEVICE_NAME);
    PDEVICE_OBJECT dev;
    NTSTATUS status = IoCreateDevice(DriverObject, sizeof(WC_B_EXT), &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &dev);
    if (!NT_SUCCESS(status))
        return status;
    WC_B_EXT *ext = dev->DeviceExtension;
    ext->Self = dev;
    IoInitializeRemoveLock(&ext->RemoveLock, WC_B_LOCK_TAG, 0, 0);
    KeInitializeSpinLock(&ext->Lock);
    InitializeListHead(&ext->Held);
    ext->Lower = IoAttachDeviceToDeviceStack(dev, PhysicalDeviceObject);
    if (!ext->Lower) {
        IoDeleteDevice(dev);
        return STATUS_NO_SUCH_DEVICE;
    }
    dev->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}

static VOID WcB_Cancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    WC_B_EXT *ext = DeviceObject->DeviceExtension;
    KIRQL irql;
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    KeAcquireSpinLock(&ext->Lock, &irql);
    /* Taken off the list already (self-linked) by a completion that then
     * lost the race for the cancel routine: nothing to unlink. */
    if (!WC_IS(WC_CANCEL_KEEPS_ENTRY) && !IsListEmpty(&Irp->Tail.Overlay.ListEntry)) {
        RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
        InitializeListHead(&Irp->Tail.Overlay.ListEntry);
    }
    KeReleaseSpinLock(&ext->Lock, irql);
    DbgPrint("B: cancel routine completes IRP\n");
    Irp->IoStatus.Status = STATUS_CANCELLED;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    IoReleaseRemoveLock(&ext->RemoveLock, Irp);
}

/* Under ext->Lock: takes the oldest held IRP whose cancel routine B still
 * owns, or NULL. An IRP whose routine is already taken stays with its
 * canceller (self-linked, so the routine unlinks nothing). */
static PIRP take_held(WC_B_EXT *ext)
{
    while (!IsListEmpty(&ext->Held)) {
        PLIST_ENTRY entry = RemoveHeadList(&ext->Held);
        InitializeListHead(entry);
        PIRP irp = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
        if (IoSetCancelRoutine(irp, NULL) != NULL || WC_IS(WC_UNCHECKED_CLEAR))
            return irp;
    }
    return NULL;
}

static VOID complete_held(WC_B_EXT *ext, PIRP irp, NTSTATUS status, ULONG_PTR information)
{
    irp->IoStatus.Status = status;
    irp->IoStatus.Information = information;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    IoReleaseRemoveLock(&ext->RemoveLock, irp);
}

/* Removal: no new IRPs from here on, and every held one completed. */
static VOID drain(WC_B_EXT *ext)
{
    KIRQL irql;
    for (;;) {
        KeAcquireSpinLock(&ext->Lock, &irql);
        ext->Removed = TRUE;
        PIRP irp = take_held(ext);
        KeReleaseSpinLock(&ext->Lock, irql);
        if (!irp)
            return;
        DbgPrint("B: removal completes a held IRP\n");
        complete_held(ext, irp, STATUS_DELETE_PENDING, 0);
    }
}

VOID WcB_StimulusComplete(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    WC_B_EXT *ext = TdfStimulusDeviceObject(Device)->DeviceExtension;
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    PIRP irp = take_held(ext);
    ULONG n = ++ext->Events;
    KeReleaseSpinLock(&ext->Lock, irql);
    if (!irp)
        return;
    DbgPrint("B: event %lu completes a held IRP\n", n);
    complete_held(ext, irp, STATUS_SUCCESS, n);
}

static NTSTATUS WcB_DispatchInternal(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    WC_B_EXT *ext = DeviceObject->DeviceExtension;
    NTSTATUS status = IoAcquireRemoveLock(&ext->RemoveLock, Irp);
    if (!NT_SUCCESS(status)) {
        Irp->IoStatus.Status = status;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return status;
    }
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    if (sp->Parameters.DeviceIoControl.IoControlCode != IOCTL_WC_WAIT) {
        complete_held(ext, Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    if (ext->Removed) {
        KeReleaseSpinLock(&ext->Lock, irql);
        complete_held(ext, Irp, STATUS_DELETE_PENDING, 0);
        return STATUS_DELETE_PENDING;
    }
    IoMarkIrpPending(Irp);
    InsertTailList(&ext->Held, &Irp->Tail.Overlay.ListEntry);
    (void)IoSetCancelRoutine(Irp, WcB_Cancel);
    /* Canceled before the routine was set: IoCancelIrp found none to call. */
    if (Irp->Cancel && IoSetCancelRoutine(Irp, NULL) != NULL) {
        RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
        KeReleaseSpinLock(&ext->Lock, irql);
        complete_held(ext, Irp, STATUS_CANCELLED, 0);
        return STATUS_PENDING;
    }
    KeReleaseSpinLock(&ext->Lock, irql);
    return STATUS_PENDING;
}

static NTSTATUS WcB_StartComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS WcB_DispatchPnp(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    WC_B_EXT *ext = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status = IoAcquireRemoveLock(&ext->RemoveLock, Irp);
    if (!NT_SUCCESS(status)) {
        Irp->IoStatus.Status = status;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return status;
    }
    switch (sp->MinorFunction) {
    case IRP_MN_START_DEVICE: {
        KEVENT done;
        KeInitializeEvent(&done, NotificationEvent, FALSE);
        IoCopyCurrentIrpStackLocationToNext(Irp);
        IoSetCompletionRoutine(Irp, WcB_StartComplete, &done, TRUE, TRUE, TRUE);
        if (IoCallDriver(ext->Lower, Irp) == STATUS_PENDING)
            KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
        status = Irp->IoStatus.Status;
        DbgPrint("B: started\n");
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        IoReleaseRemoveLock(&ext->RemoveLock, Irp);
        return status;
    }
    case IRP_MN_SURPRISE_REMOVAL:
        drain(ext);
        break;
    case IRP_MN_REMOVE_DEVICE:
        drain(ext);
        IoReleaseRemoveLockAndWait(&ext->RemoveLock, Irp);
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoSkipCurrentIrpStackLocation(Irp);
        status = IoCallDriver(ext->Lower, Irp);
        IoDetachDevice(ext->Lower);
        DbgPrint("B: removed\n");
        IoDeleteDevice(DeviceObject);
        return status;
    default:
        break;
    }
    /* the PnP IRPs B takes part in succeed; others keep the status below sets */
    if (sp->MinorFunction <= IRP_MN_CANCEL_STOP_DEVICE || sp->MinorFunction == IRP_MN_SURPRISE_REMOVAL)
        Irp->IoStatus.Status = STATUS_SUCCESS;
    IoSkipCurrentIrpStackLocation(Irp);
    status = IoCallDriver(ext->Lower, Irp);
    IoReleaseRemoveLock(&ext->RemoveLock, Irp);
    return status;
}

static NTSTATUS WcB_DispatchPower(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    WC_B_EXT *ext = DeviceObject->DeviceExtension;
    PoStartNextPowerIrp(Irp);
    IoSkipCurrentIrpStackLocation(Irp);
    return PoCallDriver(ext->Lower, Irp);
}
