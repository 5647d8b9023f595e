/*
 * Driver A of fuzz_wdm_cancel: a WDM function driver that opens B's device
 * object when it starts (IoGetDeviceObjectPointer: the file object keeps B's
 * device object, and so B's driver, alive) and
 *   - sends B IRPs of its own (IoAllocateIrp) that B keeps pending; each has
 *     a context with a reference count: one for the completion routine, one
 *     per canceller, so that IoCancelIrp never runs on an IRP the completion
 *     routine freed (Learn, "Canceling IRPs": the sender must keep the IRP
 *     valid across IoCancelIrp). The last reference frees the IRP;
 *   - forwards its clients' IOCTL_WA_FORWARD to B (IoCopyCurrentIrpStackLocationToNext,
 *     a completion routine that propagates PendingReturned and releases the
 *     remove lock).
 * Completion routines are set with IoSetCompletionRoutineEx: A's device
 * object, and so A's image, stays until the routine returned. At its
 * teardown (surprise removal or REMOVE) A cancels its own IRPs, waits until
 * they are all back, and only then drops its reference on B.
 */
#include <tdf/harness.h>

#include "variants.h"
#include "wdm_cancel_if.h"

typedef struct WC_A_EXT WC_A_EXT;

typedef struct WC_A_REQ {
    LIST_ENTRY Link; /* ext->InFlight while B may hold it */
    PIRP Irp;
    volatile LONG Refs; /* the completion routine's + each canceller's */
    WC_A_EXT *Ext;
} WC_A_REQ;

struct WC_A_EXT {
    PDEVICE_OBJECT Self;
    PDEVICE_OBJECT Lower;
    IO_REMOVE_LOCK RemoveLock; /* dispatch routines and forwarded IRPs */
    KSPIN_LOCK Lock;           /* InFlight, InFlightCount, Stopping, Target */
    LIST_ENTRY InFlight;
    LONG InFlightCount; /* own IRPs not yet freed */
    KEVENT AllBack;     /* set while InFlightCount is 0 */
    BOOLEAN Stopping;   /* teardown started: no new sends */
    BOOLEAN TornDown;
    PDEVICE_OBJECT Target; /* top of B's stack */
    PFILE_OBJECT TargetFile;
};

DRIVER_INITIALIZE WcA_DriverEntry;
static DRIVER_ADD_DEVICE WcA_AddDevice;
static DRIVER_UNLOAD WcA_Unload;
static DRIVER_DISPATCH WcA_DispatchPnp;
static DRIVER_DISPATCH WcA_DispatchPower;
static DRIVER_DISPATCH WcA_DispatchDeviceControl;
static IO_COMPLETION_ROUTINE WcA_Complete;
static IO_COMPLETION_ROUTINE WcA_ForwardComplete;
static IO_COMPLETION_ROUTINE WcA_StartComplete;
EVT_TDF_STIMULUS WcA_StimulusSend;
EVT_TDF_STIMULUS WcA_StimulusCancel;

NTSTATUS WcA_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_PNP] = WcA_DispatchPnp;
    DriverObject->MajorFunction[IRP_MJ_POWER] = WcA_DispatchPower;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = WcA_DispatchDeviceControl;
    DriverObject->DriverUnload = WcA_Unload;
    DriverObject->DriverExtension->AddDevice = WcA_AddDevice;
    return STATUS_SUCCESS;
}

static VOID WcA_Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("A: unload\n");
}

static NTSTATUS WcA_AddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT PhysicalDeviceObject)
{
    PDEVICE_OBJECT dev;
    NTSTATUS status = IoCreateDevice(DriverObject, sizeof(WC_A_EXT), NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &dev);
    if (!NT_SUCCESS(status))
        return status;
    WC_A_EXT *ext = dev->DeviceExtension;
    ext->Self = dev;
    IoInitializeRemoveLock(&ext->RemoveLock, WC_A_LOCK_TAG, 0, 0);
    KeInitializeSpinLock(&ext->Lock);
    InitializeListHead(&ext->InFlight);
    KeInitializeEvent(&ext->AllBack, NotificationEvent, TRUE);
    ext->Lower = IoAttachDeviceToDeviceStack(dev, PhysicalDeviceObject);
    if (!ext->Lower) {
        IoDeleteDevice(dev);
        return STATUS_NO_SUCH_DEVICE;
    }
    dev->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}

/* ---- A's own IRPs ---- */
/* One IRP fewer in flight. The count and the event change together under
 * the lock: a decrement to 0 whose KeSetEvent came after a new send's
 * increment and KeClearEvent would let the teardown go with an IRP out. */
static VOID in_flight_done(WC_A_EXT *ext)
{
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    if (--ext->InFlightCount == 0)
        KeSetEvent(&ext->AllBack, IO_NO_INCREMENT, FALSE);
    KeReleaseSpinLock(&ext->Lock, irql);
}

static VOID drop_ref(WC_A_REQ *req)
{
    WC_A_EXT *ext = req->Ext;
    if (InterlockedDecrement(&req->Refs) != 0)
        return;
    IoFreeIrp(req->Irp);
    ExFreePoolWithTag(req, WC_A_POOL_TAG);
    in_flight_done(ext);
}

static NTSTATUS WcA_Complete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    WC_A_REQ *req = Context;
    WC_A_EXT *ext = req->Ext;
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    RemoveEntryList(&req->Link);
    KeReleaseSpinLock(&ext->Lock, irql);
    DbgPrint("A: own IRP back: 0x%lx\n", (ULONG)Irp->IoStatus.Status);
    /* An IRP of A's own: no stack location of A's, nothing to propagate. */
    if (WC_IS(WC_FREE_AND_CONTINUE)) {
        drop_ref(req); /* frees the IRP */
        return STATUS_SUCCESS;
    }
    if (WC_IS(WC_FREE_UNREFERENCED)) {
        IoFreeIrp(Irp);
        ExFreePoolWithTag(req, WC_A_POOL_TAG);
        in_flight_done(ext);
        return STATUS_MORE_PROCESSING_REQUIRED;
    }
    drop_ref(req);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

VOID WcA_StimulusSend(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    WC_A_EXT *ext = TdfStimulusDeviceObject(Device)->DeviceExtension;
    ULONG burst = TdfParam("burst");
    for (ULONG i = 0; i < burst; i++) {
        KIRQL irql;
        KeAcquireSpinLock(&ext->Lock, &irql);
        PDEVICE_OBJECT target = ext->Target;
        KeReleaseSpinLock(&ext->Lock, irql);
        if (!target)
            return;
        WC_A_REQ *req = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *req, WC_A_POOL_TAG);
        PIRP irp = IoAllocateIrp(target->StackSize, FALSE);
        req->Irp = irp;
        req->Refs = 1;
        req->Ext = ext;
        PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(irp);
        next->MajorFunction = IRP_MJ_INTERNAL_DEVICE_CONTROL;
        next->Parameters.DeviceIoControl.IoControlCode = IOCTL_WC_WAIT;
        irp->IoStatus.Status = STATUS_NOT_SUPPORTED;
        /* Counted and on the list in one step with the Stopping check, before
         * it is sent: a teardown from here on cancels it (Irp->Cancel stays
         * set; B checks it after setting its routine) and waits for it. */
        KeAcquireSpinLock(&ext->Lock, &irql);
        if (ext->Stopping || ext->Target != target || ext->InFlightCount >= WA_MAX_IN_FLIGHT) {
            KeReleaseSpinLock(&ext->Lock, irql);
            IoFreeIrp(irp);
            ExFreePoolWithTag(req, WC_A_POOL_TAG);
            return;
        }
        if (ext->InFlightCount++ == 0)
            KeClearEvent(&ext->AllBack);
        InsertTailList(&ext->InFlight, &req->Link);
        KeReleaseSpinLock(&ext->Lock, irql);
        /* Only for an IRP that is sent: the Ex form's device reference is
         * dropped by the completion, and a freed IRP would leak it. */
        if (WC_IS(WC_NO_CANCEL))
            IoSetCompletionRoutine(irp, WcA_Complete, req, TRUE, TRUE, TRUE);
        else
            (void)IoSetCompletionRoutineEx(ext->Self, irp, WcA_Complete, req, TRUE, TRUE, TRUE);
        DbgPrint("A: sends an IRP\n");
        (void)IoCallDriver(target, irp);
    }
}

/* IoCancelIrp on each own IRP in flight, each with a reference held so the
 * completion routine cannot free it under IoCancelIrp. `stop`: the teardown
 * (no sends after this). */
static VOID cancel_in_flight(WC_A_EXT *ext, BOOLEAN stop)
{
    WC_A_REQ *held[WA_MAX_IN_FLIGHT];
    PIRP irps[WA_MAX_IN_FLIGHT];
    ULONG n = 0;
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    if (stop)
        ext->Stopping = TRUE;
    for (PLIST_ENTRY e = ext->InFlight.Flink; e != &ext->InFlight && n < WA_MAX_IN_FLIGHT; e = e->Flink) {
        WC_A_REQ *req = CONTAINING_RECORD(e, WC_A_REQ, Link);
        if (!WC_IS(WC_FREE_UNREFERENCED))
            InterlockedIncrement(&req->Refs);
        irps[n] = req->Irp;
        held[n++] = req;
    }
    KeReleaseSpinLock(&ext->Lock, irql);
    for (ULONG i = 0; i < n; i++) {
        DbgPrint("A: cancels an IRP\n");
        (void)IoCancelIrp(irps[i]);
        if (!WC_IS(WC_FREE_UNREFERENCED))
            drop_ref(held[i]);
    }
}

VOID WcA_StimulusCancel(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    cancel_in_flight(TdfStimulusDeviceObject(Device)->DeviceExtension, FALSE);
}

/* Surprise removal or REMOVE, once: cancel own IRPs, wait for them, let go of B. */
static VOID teardown(WC_A_EXT *ext)
{
    if (ext->TornDown)
        return;
    ext->TornDown = TRUE;
    if (WC_IS(WC_NO_CANCEL)) {
        KIRQL irql;
        KeAcquireSpinLock(&ext->Lock, &irql);
        ext->Stopping = TRUE;
        KeReleaseSpinLock(&ext->Lock, irql);
    } else {
        cancel_in_flight(ext, TRUE);
        KeWaitForSingleObject(&ext->AllBack, Executive, KernelMode, FALSE, NULL);
    }
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    PFILE_OBJECT file = ext->TargetFile;
    ext->TargetFile = NULL;
    ext->Target = NULL;
    KeReleaseSpinLock(&ext->Lock, irql);
    if (file)
        ObDereferenceObject(file);
    DbgPrint("A: torn down\n");
}

/* ---- forwarding a client's IOCTL ---- */
static NTSTATUS WcA_ForwardComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    WC_A_EXT *ext = Context;
    if (Irp->PendingReturned && !WC_IS(WC_NO_PROPAGATE))
        IoMarkIrpPending(Irp);
    IoReleaseRemoveLock(&ext->RemoveLock, Irp);
    return STATUS_CONTINUE_COMPLETION;
}

static NTSTATUS WcA_DispatchDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    WC_A_EXT *ext = DeviceObject->DeviceExtension;
    NTSTATUS status = IoAcquireRemoveLock(&ext->RemoveLock, Irp);
    if (!NT_SUCCESS(status)) {
        Irp->IoStatus.Status = status;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return status;
    }
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    PDEVICE_OBJECT target = ext->Stopping ? NULL : ext->Target;
    if (target)
        ObReferenceObject(target); /* across the call: the teardown may let go of B meanwhile */
    KeReleaseSpinLock(&ext->Lock, irql);
    if (sp->Parameters.DeviceIoControl.IoControlCode != IOCTL_WA_FORWARD || !target) {
        if (target)
            ObDereferenceObject(target);
        status = target ? STATUS_INVALID_DEVICE_REQUEST : STATUS_NO_SUCH_DEVICE;
        Irp->IoStatus.Status = status;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        IoReleaseRemoveLock(&ext->RemoveLock, Irp);
        return status;
    }
    IoCopyCurrentIrpStackLocationToNext(Irp);
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(Irp);
    next->MajorFunction = IRP_MJ_INTERNAL_DEVICE_CONTROL;
    next->Parameters.DeviceIoControl.IoControlCode = IOCTL_WC_WAIT;
    (void)IoSetCompletionRoutineEx(DeviceObject, Irp, WcA_ForwardComplete, ext, TRUE, TRUE, TRUE);
    DbgPrint("A: forwards a client IRP\n");
    status = IoCallDriver(target, Irp);
    ObDereferenceObject(target);
    return status;
}

/* ---- PnP and power ---- */
static NTSTATUS WcA_StartComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static VOID open_target(WC_A_EXT *ext)
{
    if (ext->Target || ext->TornDown)
        return; /* a restart after a stop keeps what it has */
    UNICODE_STRING name = RTL_CONSTANT_STRING(WC_B_DEVICE_NAME);
    PFILE_OBJECT file;
    PDEVICE_OBJECT target;
    if (!NT_SUCCESS(IoGetDeviceObjectPointer(&name, FILE_ALL_ACCESS, &file, &target))) {
        DbgPrint("A: B not there, runs without it\n");
        return;
    }
    if (WC_IS(WC_NO_REFERENCE)) {
        ObDereferenceObject(file);
        file = NULL;
    }
    /* IRPs A forwards need a location for A and B's whole stack. */
    ext->Self->StackSize = (CCHAR)(target->StackSize + 1);
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    ext->Target = target;
    ext->TargetFile = file;
    KeReleaseSpinLock(&ext->Lock, irql);
}

static NTSTATUS WcA_DispatchPnp(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    WC_A_EXT *ext = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status = IoAcquireRemoveLock(&ext->RemoveLock, Irp);
    if (!NT_SUCCESS(status)) {
        Irp->IoStatus.Status = status;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return status;
    }
    UCHAR minor = sp->MinorFunction;
    switch (minor) {
    case IRP_MN_START_DEVICE: {
        KEVENT done;
        KeInitializeEvent(&done, NotificationEvent, FALSE);
        IoCopyCurrentIrpStackLocationToNext(Irp);
        IoSetCompletionRoutine(Irp, WcA_StartComplete, &done, TRUE, TRUE, TRUE);
        if (IoCallDriver(ext->Lower, Irp) == STATUS_PENDING)
            KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
        status = Irp->IoStatus.Status;
        if (NT_SUCCESS(status))
            open_target(ext);
        DbgPrint("A: started\n");
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        IoReleaseRemoveLock(&ext->RemoveLock, Irp);
        return status;
    }
    case IRP_MN_SURPRISE_REMOVAL:
        teardown(ext);
        break;
    case IRP_MN_REMOVE_DEVICE:
        teardown(ext);
        IoReleaseRemoveLockAndWait(&ext->RemoveLock, Irp);
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoSkipCurrentIrpStackLocation(Irp);
        status = IoCallDriver(ext->Lower, Irp);
        IoDetachDevice(ext->Lower);
        DbgPrint("A: removed\n");
        IoDeleteDevice(DeviceObject);
        return status;
    default:
        break;
    }
    if (minor <= IRP_MN_CANCEL_STOP_DEVICE || minor == IRP_MN_SURPRISE_REMOVAL)
        Irp->IoStatus.Status = STATUS_SUCCESS;
    IoSkipCurrentIrpStackLocation(Irp);
    status = IoCallDriver(ext->Lower, Irp);
    IoReleaseRemoveLock(&ext->RemoveLock, Irp);
    return status;
}

static NTSTATUS WcA_DispatchPower(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    WC_A_EXT *ext = DeviceObject->DeviceExtension;
    PoStartNextPowerIrp(Irp);
    IoSkipCurrentIrpStackLocation(Irp);
    return PoCallDriver(ext->Lower, Irp);
}
