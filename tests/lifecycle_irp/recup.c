/*
 * "up" of the IRP recorder pair (recirp.h): a WDM function driver that opens
 * lo's device object at its start and sends it one IRP of its own at a time
 * (RecUp_StimulusSend, with a reference count against its canceller,
 * RecUp_StimulusCancel), a threaded IRP (RecUp_StimulusThreaded), and
 * forwards clients' IOCTL_REC_FORWARD. Logs each step.
 */
#include "recirp.h"

typedef struct RECUP_EXT {
    PDEVICE_OBJECT Self, Lower;
    IO_REMOVE_LOCK RemoveLock;
    KSPIN_LOCK Lock;
    PDEVICE_OBJECT Target;
    PFILE_OBJECT TargetFile;
    PIRP Own;          /* the IRP of its own in flight, or NULL */
    volatile LONG OwnRefs; /* completion routine + canceller */
    KEVENT OwnBack;    /* set while no own IRP exists */
    LONG TornDown; /* set by the PnP thread's teardown, read by the stimulus threads: interlocked */
} RECUP_EXT;

#define RECUP_TAG 0x70556552u

DRIVER_INITIALIZE RecUp_DriverEntry;
static DRIVER_ADD_DEVICE RecUp_AddDevice;
static DRIVER_UNLOAD RecUp_Unload;
static DRIVER_DISPATCH RecUp_DispatchPnp, RecUp_DispatchPower, RecUp_DispatchDeviceControl;
static IO_COMPLETION_ROUTINE RecUp_Complete, RecUp_ForwardComplete, RecUp_StartComplete;
EVT_TDF_STIMULUS RecUp_StimulusSend;
EVT_TDF_STIMULUS RecUp_StimulusCancel;
EVT_TDF_STIMULUS RecUp_StimulusThreaded;

NTSTATUS RecUp_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DbgPrint("up: DriverEntry\n");
    DriverObject->MajorFunction[IRP_MJ_PNP] = RecUp_DispatchPnp;
    DriverObject->MajorFunction[IRP_MJ_POWER] = RecUp_DispatchPower;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = RecUp_DispatchDeviceControl;
    DriverObject->DriverUnload = RecUp_Unload;
    DriverObject->DriverExtension->AddDevice = RecUp_AddDevice;
    return STATUS_SUCCESS;
}

static VOID RecUp_Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("up: DriverUnload\n");
}

static NTSTATUS RecUp_AddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT Pdo)
{
    PDEVICE_OBJECT dev;
    NTSTATUS st = IoCreateDevice(DriverObject, sizeof(RECUP_EXT), NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &dev);
    if (!NT_SUCCESS(st))
        return st;
    RECUP_EXT *ext = dev->DeviceExtension;
    ext->Self = dev;
    IoInitializeRemoveLock(&ext->RemoveLock, RECUP_TAG, 0, 0);
    KeInitializeSpinLock(&ext->Lock);
    KeInitializeEvent(&ext->OwnBack, NotificationEvent, TRUE);
    ext->Lower = IoAttachDeviceToDeviceStack(dev, Pdo);
    dev->Flags &= ~DO_DEVICE_INITIALIZING;
    DbgPrint("up: AddDevice\n");
    return STATUS_SUCCESS;
}

/* ---- its own IRP ---- */
static VOID drop_own(RECUP_EXT *ext, PIRP irp)
{
    if (InterlockedDecrement(&ext->OwnRefs) != 0)
        return;
    IoFreeIrp(irp);
    if (RECIRP_IS(RECIRP_UP_DOUBLE_FREE))
        IoFreeIrp(irp);
    KeSetEvent(&ext->OwnBack, IO_NO_INCREMENT, FALSE);
}

static NTSTATUS RecUp_Complete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    RECUP_EXT *ext = Context;
    DbgPrint("up: completion 0x%lx (PendingReturned %u)\n", (ULONG)Irp->IoStatus.Status, (unsigned)Irp->PendingReturned);
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    ext->Own = NULL;
    KeReleaseSpinLock(&ext->Lock, irql);
    if (RECIRP_IS(RECIRP_UP_CONTINUE))
        return STATUS_CONTINUE_COMPLETION;
    if (RECIRP_IS(RECIRP_UP_FREE_CONTINUE)) {
        IoFreeIrp(Irp);
        return STATUS_SUCCESS;
    }
    drop_own(ext, Irp);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

VOID RecUp_StimulusSend(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    RECUP_EXT *ext = TdfStimulusDeviceObject(Device)->DeviceExtension;
    if (ext->Own || !ext->Target || InterlockedCompareExchange(&ext->TornDown, 0, 0))
        return;
    CCHAR size = ext->Target->StackSize;
    PIRP irp = IoAllocateIrp(RECIRP_IS(RECIRP_UP_SMALL_STACK) ? (CCHAR)(size - 1) : size, FALSE);
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(irp);
    next->MajorFunction = IRP_MJ_INTERNAL_DEVICE_CONTROL;
    next->Parameters.DeviceIoControl.IoControlCode = IOCTL_REC_HOLD;
    ext->OwnRefs = 1;
    KeClearEvent(&ext->OwnBack);
    ext->Own = irp;
    if (RECIRP_IS(RECIRP_UP_NO_CANCEL)) /* nothing keeps up loaded for the routine */
        IoSetCompletionRoutine(irp, RecUp_Complete, ext, TRUE, TRUE, TRUE);
    else
        (void)IoSetCompletionRoutineEx(ext->Self, irp, RecUp_Complete, ext, TRUE, TRUE, TRUE);
    DbgPrint("up: sends its IRP\n");
    NTSTATUS st = IoCallDriver(ext->Target, irp);
    DbgPrint("up: IoCallDriver returned 0x%lx\n", (ULONG)st);
}

static VOID cancel_own(RECUP_EXT *ext)
{
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    PIRP irp = ext->Own;
    if (irp)
        InterlockedIncrement(&ext->OwnRefs);
    KeReleaseSpinLock(&ext->Lock, irql);
    if (!irp)
        return;
    BOOLEAN canceled = IoCancelIrp(irp);
    DbgPrint("up: IoCancelIrp -> %u\n", (unsigned)canceled);
    drop_own(ext, irp);
}

VOID RecUp_StimulusCancel(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    cancel_own(TdfStimulusDeviceObject(Device)->DeviceExtension);
}

VOID RecUp_StimulusThreaded(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    RECUP_EXT *ext = TdfStimulusDeviceObject(Device)->DeviceExtension;
    if (!ext->Target || InterlockedCompareExchange(&ext->TornDown, 0, 0))
        return;
    KEVENT done;
    IO_STATUS_BLOCK iosb = {0};
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(IOCTL_REC_HOLD, ext->Target, NULL, 0, NULL, 0, TRUE, &done, &iosb);
    DbgPrint("up: sends a threaded IRP\n");
    NTSTATUS st = IoCallDriver(ext->Target, irp);
    if (RECIRP_IS(RECIRP_UP_FREE_THREADED))
        IoFreeIrp(irp);
    if (st == STATUS_PENDING)
        KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
    DbgPrint("up: threaded IRP done 0x%lx, Information %lu\n", (ULONG)iosb.Status, (ULONG)iosb.Information);
}

/* ---- forwarding a client's IOCTL ---- */
static NTSTATUS RecUp_ForwardComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    RECUP_EXT *ext = Context;
    DbgPrint("up: forward completion (PendingReturned %u)\n", (unsigned)Irp->PendingReturned);
    if (Irp->PendingReturned && !RECIRP_IS(RECIRP_UP_NO_PROPAGATE))
        IoMarkIrpPending(Irp);
    IoReleaseRemoveLock(&ext->RemoveLock, Irp);
    return STATUS_CONTINUE_COMPLETION;
}

static NTSTATUS RecUp_DispatchDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    RECUP_EXT *ext = DeviceObject->DeviceExtension;
    NTSTATUS st = IoAcquireRemoveLock(&ext->RemoveLock, Irp);
    if (!NT_SUCCESS(st) || !ext->Target) {
        if (NT_SUCCESS(st))
            IoReleaseRemoveLock(&ext->RemoveLock, Irp);
        Irp->IoStatus.Status = NT_SUCCESS(st) ? STATUS_NO_SUCH_DEVICE : st;
        st = Irp->IoStatus.Status;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return st;
    }
    IoCopyCurrentIrpStackLocationToNext(Irp);
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(Irp);
    next->MajorFunction = IRP_MJ_INTERNAL_DEVICE_CONTROL;
    next->Parameters.DeviceIoControl.IoControlCode = IOCTL_REC_HOLD;
    (void)IoSetCompletionRoutineEx(DeviceObject, Irp, RecUp_ForwardComplete, ext, TRUE, TRUE, TRUE);
    DbgPrint("up: forwards a client IRP\n");
    return IoCallDriver(ext->Target, Irp);
}

/* ---- PnP and power ---- */
static NTSTATUS RecUp_StartComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static VOID teardown(RECUP_EXT *ext)
{
    if (InterlockedExchange(&ext->TornDown, TRUE))
        return;
    if (!RECIRP_IS(RECIRP_UP_NO_CANCEL)) {
        cancel_own(ext);
        KeWaitForSingleObject(&ext->OwnBack, Executive, KernelMode, FALSE, NULL);
    }
}

static NTSTATUS RecUp_DispatchPnp(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    RECUP_EXT *ext = DeviceObject->DeviceExtension;
    UCHAR minor = IoGetCurrentIrpStackLocation(Irp)->MinorFunction;
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
        IoSetCompletionRoutine(Irp, RecUp_StartComplete, &done, TRUE, TRUE, TRUE);
        if (IoCallDriver(ext->Lower, Irp) == STATUS_PENDING)
            KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
        UNICODE_STRING name = RTL_CONSTANT_STRING(RECIRP_LO_NAME);
        if (!ext->Target && NT_SUCCESS(IoGetDeviceObjectPointer(&name, FILE_ALL_ACCESS, &ext->TargetFile, &ext->Target)))
            DeviceObject->StackSize = (CCHAR)(ext->Target->StackSize + 1);
        DbgPrint("up: IRP_MN_START_DEVICE\n");
        st = Irp->IoStatus.Status;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        IoReleaseRemoveLock(&ext->RemoveLock, Irp);
        return st;
    }
    if (minor == IRP_MN_SURPRISE_REMOVAL)
        teardown(ext);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    IoSkipCurrentIrpStackLocation(Irp);
    if (minor == IRP_MN_REMOVE_DEVICE) {
        DbgPrint("up: IRP_MN_REMOVE_DEVICE waits\n");
        teardown(ext);
        IoReleaseRemoveLockAndWait(&ext->RemoveLock, Irp);
        DbgPrint("up: IRP_MN_REMOVE_DEVICE proceeds\n");
        if (ext->TargetFile)
            ObDereferenceObject(ext->TargetFile);
        st = IoCallDriver(ext->Lower, Irp);
        IoDetachDevice(ext->Lower);
        IoDeleteDevice(DeviceObject);
        return st;
    }
    st = IoCallDriver(ext->Lower, Irp);
    IoReleaseRemoveLock(&ext->RemoveLock, Irp);
    return st;
}

static NTSTATUS RecUp_DispatchPower(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    RECUP_EXT *ext = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    if (sp->MinorFunction == IRP_MN_SET_POWER && sp->Parameters.Power.Type == DevicePowerState)
        DbgPrint("up: SET_POWER D%u\n", (unsigned)sp->Parameters.Power.State.DeviceState - 1);
    PoStartNextPowerIrp(Irp);
    IoSkipCurrentIrpStackLocation(Irp);
    return PoCallDriver(ext->Lower, Irp);
}
