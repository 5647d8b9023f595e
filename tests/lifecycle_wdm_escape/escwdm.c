/*
 * "wdm" of the WDM-escape recorder pair (recesc.h): a WDM function driver
 * with the named device object \Device\TdfEscWdm. Internal IOCTLs:
 * IOCTL_ESC_HOLD is held pending and cancelable until RecEscWdm_StimulusComplete,
 * a cancel, or the device's removal; IOCTL_ESC_NOW is completed at once. After
 * IRP_MN_REMOVE_DEVICE (the object deleted but still referenced) it fails
 * every IRP with STATUS_DELETE_PENDING, as a remove lock would.
 */
#include "recesc.h"

typedef struct ESCWDM_EXT {
    PDEVICE_OBJECT Self, Lower;
    KSPIN_LOCK Lock;
    LIST_ENTRY Held;
    BOOLEAN Removed;
} ESCWDM_EXT;

DRIVER_INITIALIZE RecEscWdm_DriverEntry;
static DRIVER_ADD_DEVICE RecEscWdm_AddDevice;
static DRIVER_UNLOAD RecEscWdm_Unload;
static DRIVER_DISPATCH RecEscWdm_DispatchPnp, RecEscWdm_DispatchPower, RecEscWdm_DispatchInternal;
static DRIVER_CANCEL RecEscWdm_Cancel;
static IO_COMPLETION_ROUTINE RecEscWdm_StartComplete;
EVT_TDF_STIMULUS RecEscWdm_StimulusComplete;

NTSTATUS RecEscWdm_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_PNP] = RecEscWdm_DispatchPnp;
    DriverObject->MajorFunction[IRP_MJ_POWER] = RecEscWdm_DispatchPower;
    DriverObject->MajorFunction[IRP_MJ_INTERNAL_DEVICE_CONTROL] = RecEscWdm_DispatchInternal;
    DriverObject->DriverUnload = RecEscWdm_Unload;
    DriverObject->DriverExtension->AddDevice = RecEscWdm_AddDevice;
    return STATUS_SUCCESS;
}

static VOID RecEscWdm_Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("wdm: DriverUnload\n");
}

static NTSTATUS RecEscWdm_AddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT Pdo)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(RECESC_WDM_NAME);
    PDEVICE_OBJECT dev;
    NTSTATUS st = IoCreateDevice(DriverObject, sizeof(ESCWDM_EXT), &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &dev);
    if (!NT_SUCCESS(st))
        return st;
    ESCWDM_EXT *ext = dev->DeviceExtension;
    ext->Self = dev;
    KeInitializeSpinLock(&ext->Lock);
    InitializeListHead(&ext->Held);
    ext->Lower = IoAttachDeviceToDeviceStack(dev, Pdo);
    dev->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}

static VOID RecEscWdm_Cancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    ESCWDM_EXT *ext = DeviceObject->DeviceExtension;
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    DbgPrint("wdm: cancel routine\n");
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
    KeReleaseSpinLock(&ext->Lock, irql);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static NTSTATUS complete(PIRP Irp, NTSTATUS st, ULONG_PTR info)
{
    Irp->IoStatus.Status = st;
    Irp->IoStatus.Information = info;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return st;
}

static NTSTATUS RecEscWdm_DispatchInternal(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    ESCWDM_EXT *ext = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;
    DbgPrint("wdm: internal IOCTL %s (location %d of %d, own device %u)\n",
             code == IOCTL_ESC_HOLD ? "hold" : code == IOCTL_ESC_NOW ? "now" : "?", (int)Irp->CurrentLocation,
             (int)Irp->StackCount, (unsigned)(sp->DeviceObject == DeviceObject));
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    if (ext->Removed) {
        KeReleaseSpinLock(&ext->Lock, irql);
        DbgPrint("wdm: fails an IRP after its removal\n");
        return complete(Irp, STATUS_DELETE_PENDING, 0);
    }
    if (code != IOCTL_ESC_HOLD) {
        KeReleaseSpinLock(&ext->Lock, irql);
        return complete(Irp, code == IOCTL_ESC_NOW ? STATUS_SUCCESS : STATUS_INVALID_DEVICE_REQUEST, 5);
    }
    IoMarkIrpPending(Irp);
    InsertTailList(&ext->Held, &Irp->Tail.Overlay.ListEntry);
    (void)IoSetCancelRoutine(Irp, RecEscWdm_Cancel);
    if (Irp->Cancel && IoSetCancelRoutine(Irp, NULL)) {
        RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
        KeReleaseSpinLock(&ext->Lock, irql);
        (void)complete(Irp, STATUS_CANCELLED, 0);
        return STATUS_PENDING;
    }
    KeReleaseSpinLock(&ext->Lock, irql);
    return STATUS_PENDING;
}

/* The oldest held IRP wdm still owns (its cancel routine cleared), or NULL. */
static PIRP take(ESCWDM_EXT *ext)
{
    KIRQL irql;
    PIRP irp = NULL;
    KeAcquireSpinLock(&ext->Lock, &irql);
    while (!irp && !IsListEmpty(&ext->Held)) {
        PLIST_ENTRY e = RemoveHeadList(&ext->Held);
        InitializeListHead(e);
        irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
        if (!IoSetCancelRoutine(irp, NULL))
            irp = NULL; /* its cancel routine has it */
    }
    KeReleaseSpinLock(&ext->Lock, irql);
    return irp;
}

VOID RecEscWdm_StimulusComplete(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    PIRP irp = take(TdfStimulusDeviceObject(Device)->DeviceExtension);
    if (!irp)
        return;
    DbgPrint("wdm: completes a held IRP\n");
    (void)complete(irp, STATUS_SUCCESS, 7);
}

static NTSTATUS RecEscWdm_StartComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS RecEscWdm_DispatchPnp(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    ESCWDM_EXT *ext = DeviceObject->DeviceExtension;
    UCHAR minor = IoGetCurrentIrpStackLocation(Irp)->MinorFunction;
    NTSTATUS st;
    if (minor == IRP_MN_START_DEVICE) {
        KEVENT done;
        KeInitializeEvent(&done, NotificationEvent, FALSE);
        IoCopyCurrentIrpStackLocationToNext(Irp);
        IoSetCompletionRoutine(Irp, RecEscWdm_StartComplete, &done, TRUE, TRUE, TRUE);
        if (IoCallDriver(ext->Lower, Irp) == STATUS_PENDING)
            KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
        st = Irp->IoStatus.Status;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return st;
    }
    if (minor == IRP_MN_SURPRISE_REMOVAL || minor == IRP_MN_REMOVE_DEVICE) {
        KIRQL irql;
        KeAcquireSpinLock(&ext->Lock, &irql);
        ext->Removed = TRUE;
        KeReleaseSpinLock(&ext->Lock, irql);
        for (PIRP irp; (irp = take(ext)) != NULL;)
            (void)complete(irp, STATUS_DELETE_PENDING, 0);
    }
    Irp->IoStatus.Status = STATUS_SUCCESS;
    IoSkipCurrentIrpStackLocation(Irp);
    st = IoCallDriver(ext->Lower, Irp);
    if (minor == IRP_MN_REMOVE_DEVICE) {
        DbgPrint("wdm: IRP_MN_REMOVE_DEVICE deletes its device\n");
        IoDetachDevice(ext->Lower);
        IoDeleteDevice(DeviceObject);
    }
    return st;
}

static NTSTATUS RecEscWdm_DispatchPower(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    ESCWDM_EXT *ext = DeviceObject->DeviceExtension;
    PoStartNextPowerIrp(Irp);
    IoSkipCurrentIrpStackLocation(Irp);
    return PoCallDriver(ext->Lower, Irp);
}
