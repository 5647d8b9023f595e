/*
 * fio: a KMDF function driver with per-handle state (fuzz_file_io, see
 * target.c). Each open handle gets a WDFFILEOBJECT whose context holds a
 * WDFMEMORY buffer parented to the file object, so the framework frees it at
 * IRP_MJ_CLOSE, after the handle's last request completed; EvtFileCleanup
 * only stops the handle's stream in the device, and only while the device is
 * in D0 (InD0, under HwLock: a handle can be closed when the device idles in
 * Dx or after a surprise removal released its hardware). IOCTL_FIO_SUBMIT
 * requests wait in a manual queue (not power-managed) until the device's
 * data-ready path takes one, copies its input memory into the handle's buffer
 * and only then completes it.
 */
#include <tdf/harness.h>

#include "variants.h"

typedef struct _FIO_DEVICE {
    volatile ULONG *Registers; /* [0] function enable, [1] stream control */
    WDFWAITLOCK HwLock;        /* guards InD0 and the register accesses outside the power callbacks */
    BOOLEAN InD0;
    WDFQUEUE Pending; /* manual: submits waiting for data */
} FIO_DEVICE, *PFIO_DEVICE;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(FIO_DEVICE, FioGetDevice)

typedef struct _FIO_FILE {
    WDFMEMORY Buffer; /* FIO_RECORD_SIZE bytes, parented to the file object */
    ULONG Records;
} FIO_FILE, *PFIO_FILE;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(FIO_FILE, FioGetFile)

DRIVER_INITIALIZE Fio_DriverEntry;
EVT_TDF_STIMULUS Fio_StimulusDataReady;
static EVT_WDF_DRIVER_DEVICE_ADD Fio_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE Fio_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE Fio_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_ENTRY Fio_EvtDeviceD0Entry;
static EVT_WDF_DEVICE_D0_EXIT Fio_EvtDeviceD0Exit;
static EVT_WDF_DEVICE_FILE_CREATE Fio_EvtDeviceFileCreate;
static EVT_WDF_FILE_CLEANUP Fio_EvtFileCleanup;
static EVT_WDF_FILE_CLOSE Fio_EvtFileClose;
static EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL Fio_EvtIoDeviceControl;

NTSTATUS Fio_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Fio_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Fio_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_FILEOBJECT_CONFIG fileConfig;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_IO_QUEUE_CONFIG queueConfig;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = Fio_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = Fio_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Entry = Fio_EvtDeviceD0Entry;
    callbacks.EvtDeviceD0Exit = Fio_EvtDeviceD0Exit;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);

    WDF_FILEOBJECT_CONFIG_INIT(&fileConfig, Fio_EvtDeviceFileCreate, Fio_EvtFileClose, Fio_EvtFileCleanup);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, FIO_FILE);
    WdfDeviceInitSetFileObjectConfig(DeviceInit, &fileConfig, &attributes);

    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, FIO_DEVICE);
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;
    PFIO_DEVICE context = FioGetDevice(device);
    status = WdfWaitLockCreate(WDF_NO_OBJECT_ATTRIBUTES, &context->HwLock);
    if (!NT_SUCCESS(status))
        return status;

    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queueConfig, WdfIoQueueDispatchParallel);
    queueConfig.EvtIoDeviceControl = Fio_EvtIoDeviceControl;
    status = WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
    if (!NT_SUCCESS(status))
        return status;
    /* Not power-managed: a submit waits for data, not for D0; the REMOVE
     * purges it, and a handle's cleanup cancels its submits still in it. */
    WDF_IO_QUEUE_CONFIG_INIT(&queueConfig, WdfIoQueueDispatchManual);
    queueConfig.PowerManaged = WdfFalse;
    return WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, &context->Pending);
}

static NTSTATUS Fio_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                             WDFCMRESLIST ResourcesTranslated)
{
    PFIO_DEVICE context = FioGetDevice(Device);
    UNREFERENCED_PARAMETER(ResourcesRaw);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(ResourcesTranslated, 0);
    if (!d || d->Type != CmResourceTypeMemory)
        return STATUS_DEVICE_NOT_READY;
    context->Registers = MmMapIoSpaceEx(d->u.Memory.Start, d->u.Memory.Length, PAGE_READWRITE | PAGE_NOCACHE);
    return context->Registers ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

static NTSTATUS Fio_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PFIO_DEVICE context = FioGetDevice(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    if (context->Registers) {
        MmUnmapIoSpace((PVOID)context->Registers, 0x1000);
        context->Registers = NULL;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS Fio_EvtDeviceD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    PFIO_DEVICE context = FioGetDevice(Device);
    UNREFERENCED_PARAMETER(PreviousState);
    WRITE_REGISTER_ULONG(&context->Registers[0], 1);
    WdfWaitLockAcquire(context->HwLock, NULL);
    context->InD0 = TRUE;
    WdfWaitLockRelease(context->HwLock);
    return STATUS_SUCCESS;
}

static NTSTATUS Fio_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    PFIO_DEVICE context = FioGetDevice(Device);
    UNREFERENCED_PARAMETER(TargetState);
    /* First: a cleanup that sees InD0 finishes its access before we go on
     * (the device stays powered until D0Exit returns). */
    WdfWaitLockAcquire(context->HwLock, NULL);
    context->InD0 = FALSE;
    WdfWaitLockRelease(context->HwLock);
    WRITE_REGISTER_ULONG(&context->Registers[0], 0);
    return STATUS_SUCCESS;
}

/* The handle's stream bit in the device, where the device can take it. */
static VOID Fio_SetStream(PFIO_DEVICE context, ULONG On)
{
    if (IS_VARIANT(VARIANT_CLEANUP_TOUCHES_HW) && !On) {
        /* Bug: a handle is not always closed while the device is in D0. */
        WRITE_REGISTER_ULONG(&context->Registers[1], On);
        return;
    }
    WdfWaitLockAcquire(context->HwLock, NULL);
    if (context->InD0)
        WRITE_REGISTER_ULONG(&context->Registers[1], On);
    WdfWaitLockRelease(context->HwLock);
}

static VOID Fio_EvtDeviceFileCreate(WDFDEVICE Device, WDFREQUEST Request, WDFFILEOBJECT FileObject)
{
    PFIO_FILE file = FioGetFile(FileObject);
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    attributes.ParentObject = FileObject; /* freed with the file object, at IRP_MJ_CLOSE */
    NTSTATUS status = WdfMemoryCreate(&attributes, NonPagedPoolNx, FIO_POOL_TAG, FIO_RECORD_SIZE, &file->Buffer, NULL);
    if (NT_SUCCESS(status))
        Fio_SetStream(FioGetDevice(Device), 1);
    WdfRequestComplete(Request, status);
}

static VOID Fio_EvtFileCleanup(WDFFILEOBJECT FileObject)
{
    PFIO_FILE file = FioGetFile(FileObject);
    Fio_SetStream(FioGetDevice(WdfFileObjectGetDevice(FileObject)), 0);
    if (IS_VARIANT(VARIANT_FREE_IN_CLEANUP)) {
        /* Bug: a request of this handle may still be in flight (taken from
         * the queue before the framework's flush); close is the place. */
        WdfObjectDelete(file->Buffer);
    }
}

static VOID Fio_EvtFileClose(WDFFILEOBJECT FileObject)
{
    /* Every request of the handle has completed: the buffer goes with the
     * file object right after this returns. */
    UNREFERENCED_PARAMETER(FileObject);
}

static VOID Fio_EvtIoDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                   size_t InputBufferLength, ULONG IoControlCode)
{
    PFIO_DEVICE context = FioGetDevice(WdfIoQueueGetDevice(Queue));
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);
    NTSTATUS status;
    if (IoControlCode == IOCTL_FIO_SUBMIT) {
        WDFMEMORY input;
        size_t length = 0;
        status = WdfRequestRetrieveInputMemory(Request, &input);
        if (NT_SUCCESS(status)) {
            (void)WdfMemoryGetBuffer(input, &length);
            status = length >= FIO_RECORD_SIZE ? WdfRequestForwardToIoQueue(Request, context->Pending)
                                               : STATUS_BUFFER_TOO_SMALL;
        }
        if (!NT_SUCCESS(status))
            WdfRequestComplete(Request, status);
        return;
    }
    if (IoControlCode == IOCTL_FIO_QUERY) {
        PULONG out;
        status = WdfRequestRetrieveOutputBuffer(Request, sizeof(ULONG), (PVOID *)&out, NULL);
        if (NT_SUCCESS(status)) {
            WDFFILEOBJECT fileObject = WdfRequestGetFileObject(Request);
            *out = fileObject ? FioGetFile(fileObject)->Records : 0;
            WdfRequestSetInformation(Request, sizeof(ULONG));
        }
        WdfRequestComplete(Request, status);
        return;
    }
    WdfRequestComplete(Request, STATUS_INVALID_DEVICE_REQUEST);
}

VOID Fio_StimulusDataReady(WDFDEVICE Device, ULONG Argument)
{
    PFIO_DEVICE context = FioGetDevice(Device);
    UNREFERENCED_PARAMETER(Argument);
    WDFREQUEST request;
    if (!NT_SUCCESS(WdfIoQueueRetrieveNextRequest(context->Pending, &request)))
        return;
    /* The request references its file object: the handle's context and
     * buffer stay until it completes (close comes after). */
    PFIO_FILE file = FioGetFile(WdfRequestGetFileObject(request));
    WDFMEMORY input;
    UCHAR record[FIO_RECORD_SIZE];
    NTSTATUS status = WdfRequestRetrieveInputMemory(request, &input);
    if (!NT_SUCCESS(status)) {
        WdfRequestComplete(request, status);
        return;
    }
    if (IS_VARIANT(VARIANT_COMPLETE_EARLY)) {
        /* Bug: the input memory dies with the completion. */
        WdfRequestCompleteWithInformation(request, STATUS_SUCCESS, FIO_RECORD_SIZE);
        (void)WdfMemoryCopyToBuffer(input, 0, record, sizeof(record));
        return;
    }
    status = WdfMemoryCopyToBuffer(input, 0, record, sizeof(record));
    if (NT_SUCCESS(status))
        status = WdfMemoryCopyFromBuffer(file->Buffer, 0, record, sizeof(record));
    if (NT_SUCCESS(status))
        file->Records++;
    WdfRequestCompleteWithInformation(request, status, NT_SUCCESS(status) ? FIO_RECORD_SIZE : 0);
}
