/*
 * "lo" of the IRP recorder pair (recirp.h): a WDM function driver that holds
 * IOCTL_REC_HOLD IRPs pending on its own list (or, RECIRP_LO_CSQ, in a
 * cancel-safe queue) until RecLo_StimulusComplete or its removal. Logs each
 * PnP/power IRP and each completion path.
 */
#include "recirp.h"

typedef struct RECLO_EXT {
    PDEVICE_OBJECT Self, Lower;
    IO_REMOVE_LOCK RemoveLock;
    KSPIN_LOCK Lock;
    LIST_ENTRY Held;
    IO_CSQ Csq;
    BOOLEAN Removed;
} RECLO_EXT;

#define RECLO_TAG 0x6f4c6552u

DRIVER_INITIALIZE RecLo_DriverEntry;
static DRIVER_ADD_DEVICE RecLo_AddDevice;
static DRIVER_UNLOAD RecLo_Unload;
static DRIVER_DISPATCH RecLo_DispatchPnp, RecLo_DispatchPower, RecLo_DispatchInternal;
static DRIVER_CANCEL RecLo_Cancel;
static IO_COMPLETION_ROUTINE RecLo_StartComplete;
EVT_TDF_STIMULUS RecLo_StimulusComplete;

static IO_CSQ_INSERT_IRP CsqInsert;
static IO_CSQ_REMOVE_IRP CsqRemove;
static IO_CSQ_PEEK_NEXT_IRP CsqPeek;
static IO_CSQ_ACQUIRE_LOCK CsqAcquire;
static IO_CSQ_RELEASE_LOCK CsqRelease;
static IO_CSQ_COMPLETE_CANCELED_IRP CsqCompleteCanceled;

static RECLO_EXT *ext_of_csq(PIO_CSQ csq) { return CONTAINING_RECORD(csq, RECLO_EXT, Csq); }
static VOID CsqInsert(PIO_CSQ Csq, PIRP Irp) { InsertTailList(&ext_of_csq(Csq)->Held, &Irp->Tail.Overlay.ListEntry); }
static VOID CsqRemove(PIO_CSQ Csq, PIRP Irp)
{
    UNREFERENCED_PARAMETER(Csq);
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
}
static PIRP CsqPeek(PIO_CSQ Csq, PIRP Irp, PVOID PeekContext)
{
    UNREFERENCED_PARAMETER(PeekContext);
    RECLO_EXT *ext = ext_of_csq(Csq);
    PLIST_ENTRY next = Irp ? Irp->Tail.Overlay.ListEntry.Flink : ext->Held.Flink;
    return next == &ext->Held ? NULL : CONTAINING_RECORD(next, IRP, Tail.Overlay.ListEntry);
}
static VOID CsqAcquire(PIO_CSQ Csq, PKIRQL Irql) { KeAcquireSpinLock(&ext_of_csq(Csq)->Lock, Irql); }
static VOID CsqRelease(PIO_CSQ Csq, KIRQL Irql) { KeReleaseSpinLock(&ext_of_csq(Csq)->Lock, Irql); }
static VOID CsqCompleteCanceled(PIO_CSQ Csq, PIRP Irp)
{
    UNREFERENCED_PARAMETER(Csq);
    DbgPrint("lo: csq completes a canceled IRP\n");
    Irp->IoStatus.Status = STATUS_CANCELLED;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

NTSTATUS RecLo_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DbgPrint("lo: DriverEntry\n");
    DriverObject->MajorFunction[IRP_MJ_PNP] = RecLo_DispatchPnp;
    DriverObject->MajorFunction[IRP_MJ_POWER] = RecLo_DispatchPower;
    DriverObject->MajorFunction[IRP_MJ_INTERNAL_DEVICE_CONTROL] = RecLo_DispatchInternal;
    DriverObject->DriverUnload = RecLo_Unload;
    DriverObject->DriverExtension->AddDevice = RecLo_AddDevice;
    return STATUS_SUCCESS;
}

static VOID RecLo_Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("lo: DriverUnload\n");
}

static NTSTATUS RecLo_AddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT Pdo)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(RECIRP_LO_NAME);
    PDEVICE_OBJECT dev;
    NTSTATUS st = IoCreateDevice(DriverObject, sizeof(RECLO_EXT), &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &dev);
    if (!NT_SUCCESS(st))
        return st;
    RECLO_EXT *ext = dev->DeviceExtension;
    ext->Self = dev;
    IoInitializeRemoveLock(&ext->RemoveLock, RECLO_TAG, 0, 0);
    KeInitializeSpinLock(&ext->Lock);
    InitializeListHead(&ext->Held);
    IoCsqInitialize(&ext->Csq, CsqInsert, CsqRemove, CsqPeek, CsqAcquire, CsqRelease, CsqCompleteCanceled);
    ext->Lower = IoAttachDeviceToDeviceStack(dev, Pdo);
    dev->Flags &= ~DO_DEVICE_INITIALIZING;
    DbgPrint("lo: AddDevice\n");
    return STATUS_SUCCESS;
}

static VOID RecLo_Cancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    RECLO_EXT *ext = DeviceObject->DeviceExtension;
    DbgPrint("lo: cancel routine (Cancel %u, at IRQL %u, CancelIrql %u)\n", (unsigned)Irp->Cancel,
             (unsigned)KeGetCurrentIrql(), (unsigned)Irp->CancelIrql);
    if (RECIRP_IS(RECIRP_LO_CANCEL_KEEPS_LOCK))
        return;
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
    KeReleaseSpinLock(&ext->Lock, irql);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static NTSTATUS RecLo_DispatchInternal(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    RECLO_EXT *ext = DeviceObject->DeviceExtension;
    KIRQL irql;
    DbgPrint("lo: IOCTL_REC_HOLD (PendingReturned %u)\n", (unsigned)Irp->PendingReturned);
    if (RECIRP_IS(RECIRP_UP_SMALL_STACK)) { /* passes it on to its lower device */
        IoCopyCurrentIrpStackLocationToNext(Irp);
        return IoCallDriver(ext->Lower, Irp);
    }
    if (RECIRP_IS(RECIRP_LO_IRQL_LEAK)) {
        KeAcquireSpinLock(&ext->Lock, &irql);
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        KeReleaseSpinLock(&ext->Lock, DISPATCH_LEVEL); /* restores the wrong IRQL */
        return STATUS_SUCCESS;
    }
    if (RECIRP_IS(RECIRP_LO_CSQ)) {
        IoCsqInsertIrp(&ext->Csq, Irp, NULL);
        return STATUS_PENDING;
    }
    KeAcquireSpinLock(&ext->Lock, &irql);
    if (ext->Removed) {
        KeReleaseSpinLock(&ext->Lock, irql);
        Irp->IoStatus.Status = STATUS_DELETE_PENDING;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_DELETE_PENDING;
    }
    if (!RECIRP_IS(RECIRP_LO_NO_MARK))
        IoMarkIrpPending(Irp);
    InsertTailList(&ext->Held, &Irp->Tail.Overlay.ListEntry);
    (void)IoSetCancelRoutine(Irp, RecLo_Cancel);
    if (Irp->Cancel && IoSetCancelRoutine(Irp, NULL)) {
        RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
        KeReleaseSpinLock(&ext->Lock, irql);
        Irp->IoStatus.Status = STATUS_CANCELLED;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_PENDING;
    }
    KeReleaseSpinLock(&ext->Lock, irql);
    return STATUS_PENDING;
}

/* The oldest held IRP lo still owns (its cancel routine cleared), or NULL. */
static PIRP take(RECLO_EXT *ext)
{
    if (RECIRP_IS(RECIRP_LO_CSQ))
        return IoCsqRemoveNextIrp(&ext->Csq, NULL);
    KIRQL irql;
    PIRP irp = NULL;
    KeAcquireSpinLock(&ext->Lock, &irql);
    while (!irp && !IsListEmpty(&ext->Held)) {
        PLIST_ENTRY e = RemoveHeadList(&ext->Held);
        InitializeListHead(e);
        irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
        if (!RECIRP_IS(RECIRP_LO_KEEP_CANCEL) && !IoSetCancelRoutine(irp, NULL))
            irp = NULL; /* its cancel routine has it */
    }
    KeReleaseSpinLock(&ext->Lock, irql);
    return irp;
}

VOID RecLo_StimulusComplete(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    RECLO_EXT *ext = TdfStimulusDeviceObject(Device)->DeviceExtension;
    PIRP irp = take(ext);
    if (!irp)
        return;
    DbgPrint("lo: completes a held IRP\n");
    irp->IoStatus.Status = RECIRP_IS(RECIRP_LO_PENDING_STATUS) ? STATUS_PENDING : STATUS_SUCCESS;
    irp->IoStatus.Information = 7;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    if (RECIRP_IS(RECIRP_LO_COMPLETE_TWICE))
        IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static NTSTATUS RecLo_StartComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS RecLo_DispatchPnp(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    static const char *const names[] = {"START_DEVICE", "QUERY_REMOVE_DEVICE", "REMOVE_DEVICE",
                                        "CANCEL_REMOVE_DEVICE", "STOP_DEVICE", "QUERY_STOP_DEVICE",
                                        "CANCEL_STOP_DEVICE"};
    RECLO_EXT *ext = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    UCHAR minor = sp->MinorFunction;
    DbgPrint("lo: IRP_MN_%s\n", minor < 7 ? names[minor] : minor == IRP_MN_SURPRISE_REMOVAL ? "SURPRISE_REMOVAL" : "?");
    NTSTATUS st = IoAcquireRemoveLock(&ext->RemoveLock, Irp);
    if (!NT_SUCCESS(st)) {
        Irp->IoStatus.Status = st;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return st;
    }
    if (minor == IRP_MN_START_DEVICE) {
        KEVENT done;
        KeInitializeEvent(&done, NotificationEvent, FALSE);
        IoCopyCurrentIrpStackLocationToNext(Irp);
        IoSetCompletionRoutine(Irp, RecLo_StartComplete, &done, TRUE, TRUE, TRUE);
        if (IoCallDriver(ext->Lower, Irp) == STATUS_PENDING)
            KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
        st = Irp->IoStatus.Status;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        IoReleaseRemoveLock(&ext->RemoveLock, Irp);
        return st;
    }
    if (minor == IRP_MN_SURPRISE_REMOVAL || minor == IRP_MN_REMOVE_DEVICE) {
        KIRQL irql;
        KeAcquireSpinLock(&ext->Lock, &irql);
        ext->Removed = TRUE;
        KeReleaseSpinLock(&ext->Lock, irql);
        for (PIRP irp; (irp = take(ext)) != NULL;) {
            irp->IoStatus.Status = STATUS_DELETE_PENDING;
            IoCompleteRequest(irp, IO_NO_INCREMENT);
        }
    }
    Irp->IoStatus.Status = STATUS_SUCCESS;
    IoSkipCurrentIrpStackLocation(Irp);
    if (minor == IRP_MN_REMOVE_DEVICE) {
        IoReleaseRemoveLockAndWait(&ext->RemoveLock, Irp);
        st = IoCallDriver(ext->Lower, Irp);
        if (!RECIRP_IS(RECIRP_LO_DELETE_ATTACHED))
            IoDetachDevice(ext->Lower);
        IoDeleteDevice(DeviceObject);
        return st;
    }
    st = IoCallDriver(ext->Lower, Irp);
    IoReleaseRemoveLock(&ext->RemoveLock, Irp);
    return st;
}

static NTSTATUS RecLo_DispatchPower(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    RECLO_EXT *ext = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    if (sp->MinorFunction == IRP_MN_SET_POWER && sp->Parameters.Power.Type == DevicePowerState)
        DbgPrint("lo: SET_POWER D%u\n", (unsigned)sp->Parameters.Power.State.DeviceState - 1);
    PoStartNextPowerIrp(Irp);
    IoSkipCurrentIrpStackLocation(Irp);
    return PoCallDriver(ext->Lower, Irp);
}
