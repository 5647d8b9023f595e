/*
 * "kmdf" of the WDM-escape recorder pair (recesc.h): a KMDF function driver
 * that uses KMDF's ways down to WDM. At EvtDriverDeviceAdd it checks its
 * DEVICE_OBJECT's place in the stack (WdfDeviceWdmGetDeviceObject,
 * WdfDeviceWdmGetAttachedDevice, WdfDeviceWdmGetPhysicalDevice against
 * IoGetAttachedDeviceReference); its EvtDeviceWdmIrpPreprocess sees every
 * IRP_MJ_DEVICE_CONTROL first and either completes it (IOCTL_ESC_SELF) or
 * hands it to the framework, or keeps it pending (IOCTL_ESC_PEND) for a
 * stimulus to complete; EvtIoDeviceControl compares its request's IRP
 * (WdfRequestWdmGetIrp) with the one the callback saw; at
 * EvtDevicePrepareHardware it opens an I/O target on wdm's device object
 * (WDF_IO_TARGET_OPEN_PARAMS_INIT_EXISTING_DEVICE, keeping the file object
 * of IoGetDeviceObjectPointer as its reference) and sends it internal
 * IOCTLs on stimuli.
 */
#include "recesc.h"

typedef struct _ESC_DEVICE {
    WDFIOTARGET Target;
    PFILE_OBJECT File;        /* IoGetDeviceObjectPointer's: keeps wdm's device object */
    PIRP volatile Preprocessed; /* the IRP the preprocess callback last handed on */
    PIRP volatile Kept;         /* the IOCTL_ESC_PEND IRP the callback keeps pending */
} ESC_DEVICE, *PESC_DEVICE;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(ESC_DEVICE, EscGetDevice)

DRIVER_INITIALIZE RecEscKmdf_DriverEntry;
EVT_TDF_STIMULUS RecEscKmdf_StimulusSendHold;
EVT_TDF_STIMULUS RecEscKmdf_StimulusSendNow;
EVT_TDF_STIMULUS RecEscKmdf_StimulusClose;
EVT_TDF_STIMULUS RecEscKmdf_StimulusFinish;
static EVT_WDF_DRIVER_DEVICE_ADD RecEscKmdf_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE RecEscKmdf_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE RecEscKmdf_EvtDeviceReleaseHardware;
static EVT_WDFDEVICE_WDM_IRP_PREPROCESS RecEscKmdf_Preprocess;
static EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL RecEscKmdf_EvtIoDeviceControl;
static EVT_WDF_REQUEST_COMPLETION_ROUTINE RecEscKmdf_SendComplete;
static IO_COMPLETION_ROUTINE RecEscKmdf_PostprocessComplete;

NTSTATUS RecEscKmdf_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, RecEscKmdf_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

/* Its DEVICE_OBJECT in the stack: the top (what IoGetAttachedDeviceReference
 * of the stack's PDO returns, referenced), attached to the device below. */
static VOID log_stack(WDFDEVICE device)
{
    PDEVICE_OBJECT self = WdfDeviceWdmGetDeviceObject(device);
    PDEVICE_OBJECT below = WdfDeviceWdmGetAttachedDevice(device);
    PDEVICE_OBJECT pdo = WdfDeviceWdmGetPhysicalDevice(device);
    PDEVICE_OBJECT top = IoGetAttachedDeviceReference(pdo);
    DbgPrint("kmdf: stack: top self %u, below PDO %u, below's attached self %u, StackSize %d over %d, driver ours %u\n",
             (unsigned)(top == self), (unsigned)(below == pdo), (unsigned)(below && below->AttachedDevice == self),
             (int)self->StackSize, below ? (int)below->StackSize : -1,
             (unsigned)(self->DriverObject == WdfDriverWdmGetDriverObject(WdfDeviceGetDriver(device))));
    if (!RECESC_IS(RECESC_KEEP_TOP_REFERENCE))
        ObDereferenceObject(top);
}

static NTSTATUS RecEscKmdf_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_IO_QUEUE_CONFIG queueConfig;
    WDFDEVICE device;
    UNREFERENCED_PARAMETER(Driver);
    NTSTATUS status = WdfDeviceInitAssignWdmIrpPreprocessCallback(DeviceInit, RecEscKmdf_Preprocess,
                                                                  IRP_MJ_DEVICE_CONTROL, NULL, 0);
    if (!NT_SUCCESS(status))
        return status;
    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = RecEscKmdf_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = RecEscKmdf_EvtDeviceReleaseHardware;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, ESC_DEVICE);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;
    log_stack(device);
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queueConfig, WdfIoQueueDispatchParallel);
    queueConfig.EvtIoDeviceControl = RecEscKmdf_EvtIoDeviceControl;
    return WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
}

static NTSTATUS RecEscKmdf_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST Raw, WDFCMRESLIST Translated)
{
    PESC_DEVICE ctx = EscGetDevice(Device);
    UNICODE_STRING name = RTL_CONSTANT_STRING(RECESC_WDM_NAME);
    WDF_IO_TARGET_OPEN_PARAMS params;
    PFILE_OBJECT file;
    PDEVICE_OBJECT wdm;
    UNREFERENCED_PARAMETER(Raw);
    UNREFERENCED_PARAMETER(Translated);
    NTSTATUS status = IoGetDeviceObjectPointer(&name, FILE_ALL_ACCESS, &file, &wdm);
    if (!NT_SUCCESS(status))
        return status;
    status = WdfIoTargetCreate(Device, WDF_NO_OBJECT_ATTRIBUTES, &ctx->Target);
    if (NT_SUCCESS(status)) {
        WDF_IO_TARGET_OPEN_PARAMS_INIT_EXISTING_DEVICE(&params, wdm);
        if (!RECESC_IS(RECESC_NO_REFERENCE))
            params.TargetFileObject = file;
        status = WdfIoTargetOpen(ctx->Target, &params);
    }
    DbgPrint("kmdf: target opened on wdm's device object 0x%lx\n", (ULONG)status);
    if (NT_SUCCESS(status) && !RECESC_IS(RECESC_NO_REFERENCE))
        ctx->File = file;
    else
        ObDereferenceObject(file); /* RECESC_NO_REFERENCE: nothing keeps wdm's device object any more */
    return status;
}

static NTSTATUS RecEscKmdf_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST Translated)
{
    PESC_DEVICE ctx = EscGetDevice(Device);
    UNREFERENCED_PARAMETER(Translated);
    DbgPrint("kmdf: ReleaseHardware closes the target\n");
    PIRP kept = InterlockedExchangePointer((PVOID volatile *)&ctx->Kept, NULL);
    if (kept) { /* the client's IRP the preprocess callback kept: the device goes */
        kept->IoStatus.Status = STATUS_DELETE_PENDING;
        IoCompleteRequest(kept, IO_NO_INCREMENT);
    }
    if (ctx->Target)
        WdfIoTargetClose(ctx->Target); /* cancels what is in flight and waits for it */
    if (ctx->File)
        ObDereferenceObject(ctx->File); /* after the close: the target no longer uses the device object */
    ctx->File = NULL;
    return STATUS_SUCCESS;
}

static const char *ioctl_name(ULONG code)
{
    return code == IOCTL_ESC_DISPATCH ? "dispatch" : code == IOCTL_ESC_SELF ? "self" : code == IOCTL_ESC_PEND ? "pend" : "?";
}

/* Post-processing: runs when the framework completes the IRP it was handed. */
static NTSTATUS RecEscKmdf_PostprocessComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    DbgPrint("kmdf: postprocess completion 0x%lx (PendingReturned %u, Information %lu, own device %u)\n",
             (ULONG)Irp->IoStatus.Status, (unsigned)Irp->PendingReturned, (ULONG)Irp->IoStatus.Information,
             (unsigned)(DeviceObject == Context)); /* Context: its own DEVICE_OBJECT */
    if (Irp->PendingReturned && !RECESC_IS(RECESC_POSTPROCESS_NO_PROPAGATE))
        IoMarkIrpPending(Irp);
    return STATUS_CONTINUE_COMPLETION;
}

static NTSTATUS RecEscKmdf_Preprocess(WDFDEVICE Device, PIRP Irp)
{
    PESC_DEVICE ctx = EscGetDevice(Device);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;
    DbgPrint("kmdf: preprocess %s (major 0x%x, location %d of %d, own device %u)\n", ioctl_name(code),
             (unsigned)sp->MajorFunction, (int)Irp->CurrentLocation, (int)Irp->StackCount,
             (unsigned)(sp->DeviceObject == WdfDeviceWdmGetDeviceObject(Device)));
    if (code == IOCTL_ESC_SELF) {
        Irp->IoStatus.Status = STATUS_SUCCESS;
        Irp->IoStatus.Information = 3;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        DbgPrint("kmdf: preprocess completed it\n");
        if (RECESC_IS(RECESC_COMPLETE_AND_DISPATCH))
            return WdfDeviceWdmDispatchPreprocessedIrp(Device, Irp);
        return RECESC_IS(RECESC_SELF_PENDING) ? STATUS_PENDING : STATUS_SUCCESS;
    }
    if (code == IOCTL_ESC_PEND) { /* kept: pending, the callback's own IRP now */
        IoMarkIrpPending(Irp);
        InterlockedExchangePointer((PVOID volatile *)&ctx->Kept, Irp);
        DbgPrint("kmdf: preprocess keeps it pending\n");
        return STATUS_PENDING;
    }
    InterlockedExchangePointer((PVOID volatile *)&ctx->Preprocessed, Irp);
    if (RECESC_IS(RECESC_POSTPROCESS) || RECESC_IS(RECESC_POSTPROCESS_NO_PROPAGATE)) {
        IoCopyCurrentIrpStackLocationToNext(Irp);
        IoSetCompletionRoutine(Irp, RecEscKmdf_PostprocessComplete, WdfDeviceWdmGetDeviceObject(Device), TRUE, TRUE,
                               TRUE);
    } else if (RECESC_IS(RECESC_COPY_NEXT))
        IoCopyCurrentIrpStackLocationToNext(Irp);
    else if (!RECESC_IS(RECESC_NO_SKIP))
        IoSkipCurrentIrpStackLocation(Irp);
    NTSTATUS status = WdfDeviceWdmDispatchPreprocessedIrp(Device, Irp);
    DbgPrint("kmdf: the framework took it 0x%lx\n", (ULONG)status);
    if (RECESC_IS(RECESC_DISPATCH_AND_COMPLETE)) {
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
    }
    return RECESC_IS(RECESC_RETURN_SUCCESS) ? STATUS_SUCCESS : status;
}

static VOID RecEscKmdf_EvtIoDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                          size_t InputBufferLength, ULONG IoControlCode)
{
    PESC_DEVICE ctx = EscGetDevice(WdfIoQueueGetDevice(Queue));
    PIRP irp = WdfRequestWdmGetIrp(Request);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    PIRP seen = InterlockedExchangePointer((PVOID volatile *)&ctx->Preprocessed, NULL);
    DbgPrint("kmdf: EvtIoDeviceControl %s: its IRP is the preprocessed one %u (major 0x%x, code %u, lengths %u)\n",
             ioctl_name(IoControlCode), (unsigned)(irp == seen), (unsigned)sp->MajorFunction,
             (unsigned)(sp->Parameters.DeviceIoControl.IoControlCode == IoControlCode),
             (unsigned)(sp->Parameters.DeviceIoControl.InputBufferLength == InputBufferLength &&
                        sp->Parameters.DeviceIoControl.OutputBufferLength == OutputBufferLength));
    WdfRequestCompleteWithInformation(Request, STATUS_SUCCESS, 9);
    if (RECESC_IS(RECESC_GET_IRP_AFTER_COMPLETE))
        DbgPrint("kmdf: after the completion, its IRP %u\n", (unsigned)(WdfRequestWdmGetIrp(Request) == irp));
    if (RECESC_IS(RECESC_TOUCH_AFTER_COMPLETE)) {
        sp = IoGetCurrentIrpStackLocation(irp); /* the IRP went with the completion */
        DbgPrint("kmdf: after the completion, major 0x%x\n", (unsigned)sp->MajorFunction);
    }
}

static VOID RecEscKmdf_SendComplete(WDFREQUEST Request, WDFIOTARGET Target, PWDF_REQUEST_COMPLETION_PARAMS Params,
                                    WDFCONTEXT Context)
{
    UNREFERENCED_PARAMETER(Target);
    UNREFERENCED_PARAMETER(Context);
    DbgPrint("kmdf: sent request completed 0x%lx (Information %lu)\n", (ULONG)Params->IoStatus_Status,
             (ULONG)Params->IoStatus_Information);
    WdfObjectDelete(Request);
}

static VOID send(WDFDEVICE Device, ULONG code)
{
    PESC_DEVICE ctx = EscGetDevice(Device);
    WDFREQUEST request;
    NTSTATUS status = WdfRequestCreate(WDF_NO_OBJECT_ATTRIBUTES, ctx->Target, &request);
    if (!NT_SUCCESS(status))
        return;
    status = WdfIoTargetFormatRequestForInternalIoctl(ctx->Target, request, code, NULL, NULL, NULL, NULL);
    if (!NT_SUCCESS(status)) {
        WdfObjectDelete(request);
        return;
    }
    WdfRequestSetCompletionRoutine(request, RecEscKmdf_SendComplete, NULL);
    DbgPrint("kmdf: sends %s\n", code == IOCTL_ESC_HOLD ? "hold" : "now");
    if (!WdfRequestSend(request, ctx->Target, NULL)) {
        DbgPrint("kmdf: send failed 0x%lx\n", (ULONG)WdfRequestGetStatus(request));
        WdfObjectDelete(request);
    }
}

VOID RecEscKmdf_StimulusSendHold(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    send(Device, IOCTL_ESC_HOLD);
}

VOID RecEscKmdf_StimulusSendNow(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    send(Device, IOCTL_ESC_NOW);
}

VOID RecEscKmdf_StimulusClose(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    WdfIoTargetClose(EscGetDevice(Device)->Target);
    DbgPrint("kmdf: target closed\n");
}

VOID RecEscKmdf_StimulusFinish(WDFDEVICE Device, ULONG Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    PIRP kept = InterlockedExchangePointer((PVOID volatile *)&EscGetDevice(Device)->Kept, NULL);
    if (!kept)
        return;
    DbgPrint("kmdf: completes the IRP the preprocess callback kept\n");
    kept->IoStatus.Status = STATUS_SUCCESS;
    kept->IoStatus.Information = 4;
    IoCompleteRequest(kept, IO_NO_INCREMENT);
}
