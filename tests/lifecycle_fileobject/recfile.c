/*
 * recfile: the file-object recorder (recfile.h). Lines:
 *   "Create", "Cleanup", "Close", "FileObject EvtCleanupCallback",
 *   "FileObject EvtDestroyCallback", "Memory EvtCleanupCallback" (a WDFMEMORY
 *   parented to the file object), "IoDeviceControl(hold|complete|checks)",
 *   "Take(complete|keep)", "QueryRemove", "SurpriseRemoval",
 *   "ReleaseHardware", "SelfManagedIoCleanup", "Device EvtCleanupCallback",
 *   and for IOCTL_RF_CHECKS "<check>=<status>".
 * ReleaseHardware completes a request the "take" stimulus kept.
 */
#include <tdf/harness.h>

#include "recfile.h"

typedef struct _RF_DEVICE {
    WDFQUEUE Held;
    WDFREQUEST Kept; /* taken from Held and not completed: not cancelable */
} RF_DEVICE, *PRF_DEVICE;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(RF_DEVICE, RfGetDevice)

typedef struct _RF_FILE {
    WDFMEMORY Scratch;
} RF_FILE, *PRF_FILE;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(RF_FILE, RfGetFile)

DRIVER_INITIALIZE RecFile_DriverEntry;
EVT_TDF_STIMULUS RecFile_StimulusTake;
static EVT_WDF_DRIVER_DEVICE_ADD RecFile_EvtDeviceAdd;
static EVT_WDF_DEVICE_QUERY_REMOVE RecFile_EvtDeviceQueryRemove;
static EVT_WDF_DEVICE_SURPRISE_REMOVAL RecFile_EvtDeviceSurpriseRemoval;
static EVT_WDF_DEVICE_RELEASE_HARDWARE RecFile_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT RecFile_EvtDeviceSelfManagedIoInit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP RecFile_EvtDeviceSelfManagedIoCleanup;
static EVT_WDF_DEVICE_FILE_CREATE RecFile_EvtDeviceFileCreate;
static EVT_WDF_FILE_CLEANUP RecFile_EvtFileCleanup;
static EVT_WDF_FILE_CLOSE RecFile_EvtFileClose;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP RecFile_EvtDeviceCleanupCallback;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP RecFile_EvtFileObjectCleanupCallback;
static EVT_WDF_OBJECT_CONTEXT_DESTROY RecFile_EvtFileObjectDestroyCallback;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP RecFile_EvtMemoryCleanupCallback;
static EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL RecFile_EvtIoDeviceControl;

NTSTATUS RecFile_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, RecFile_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS RecFile_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_FILEOBJECT_CONFIG fileConfig;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_IO_QUEUE_CONFIG queueConfig;
    WDFDEVICE device;
    UNREFERENCED_PARAMETER(Driver);
    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDeviceQueryRemove = RecFile_EvtDeviceQueryRemove;
    callbacks.EvtDeviceSurpriseRemoval = RecFile_EvtDeviceSurpriseRemoval;
    callbacks.EvtDeviceReleaseHardware = RecFile_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceSelfManagedIoInit = RecFile_EvtDeviceSelfManagedIoInit;
    callbacks.EvtDeviceSelfManagedIoCleanup = RecFile_EvtDeviceSelfManagedIoCleanup;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_FILEOBJECT_CONFIG_INIT(&fileConfig, RecFile_EvtDeviceFileCreate, RecFile_EvtFileClose, RecFile_EvtFileCleanup);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, RF_FILE);
    attributes.EvtCleanupCallback = RecFile_EvtFileObjectCleanupCallback;
    attributes.EvtDestroyCallback = RecFile_EvtFileObjectDestroyCallback;
    WdfDeviceInitSetFileObjectConfig(DeviceInit, &fileConfig, &attributes);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, RF_DEVICE);
    attributes.EvtCleanupCallback = RecFile_EvtDeviceCleanupCallback;
    NTSTATUS status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(&queueConfig, WdfIoQueueDispatchParallel);
    queueConfig.EvtIoDeviceControl = RecFile_EvtIoDeviceControl;
    status = WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, WDF_NO_HANDLE);
    if (!NT_SUCCESS(status))
        return status;
    WDF_IO_QUEUE_CONFIG_INIT(&queueConfig, WdfIoQueueDispatchManual);
    queueConfig.PowerManaged = WdfFalse;
    return WdfIoQueueCreate(device, &queueConfig, WDF_NO_OBJECT_ATTRIBUTES, &RfGetDevice(device)->Held);
}

static NTSTATUS RecFile_EvtDeviceQueryRemove(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    DbgPrint("QueryRemove");
    return STATUS_SUCCESS;
}

static VOID RecFile_EvtDeviceSurpriseRemoval(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    DbgPrint("SurpriseRemoval");
}

static NTSTATUS RecFile_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PRF_DEVICE context = RfGetDevice(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    DbgPrint("ReleaseHardware");
    /* Interlocked: the take stimulus may have stored it on its own thread. */
    WDFREQUEST kept = (WDFREQUEST)InterlockedExchangePointer((PVOID volatile *)&context->Kept, NULL);
    if (kept) {
        WdfRequestComplete(kept, STATUS_DEVICE_REMOVED);
    }
    return STATUS_SUCCESS;
}

static NTSTATUS RecFile_EvtDeviceSelfManagedIoInit(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    return STATUS_SUCCESS;
}

static VOID RecFile_EvtDeviceSelfManagedIoCleanup(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    DbgPrint("SelfManagedIoCleanup");
}

static VOID RecFile_EvtDeviceCleanupCallback(WDFOBJECT Object)
{
    UNREFERENCED_PARAMETER(Object);
    DbgPrint("Device EvtCleanupCallback");
}

static VOID RecFile_EvtFileObjectCleanupCallback(WDFOBJECT Object)
{
    UNREFERENCED_PARAMETER(Object);
    DbgPrint("FileObject EvtCleanupCallback");
}

static VOID RecFile_EvtFileObjectDestroyCallback(WDFOBJECT Object)
{
    UNREFERENCED_PARAMETER(Object);
    DbgPrint("FileObject EvtDestroyCallback");
}

static VOID RecFile_EvtMemoryCleanupCallback(WDFOBJECT Object)
{
    UNREFERENCED_PARAMETER(Object);
    DbgPrint("Memory EvtCleanupCallback");
}

static VOID RecFile_EvtDeviceFileCreate(WDFDEVICE Device, WDFREQUEST Request, WDFFILEOBJECT FileObject)
{
    UNREFERENCED_PARAMETER(Device);
    if (TdfVariant() == RF_VARIANT_FAIL_CREATE) {
        DbgPrint("Create(fail)");
        WdfRequestComplete(Request, STATUS_UNSUCCESSFUL);
        return;
    }
    DbgPrint("Create");
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    attributes.ParentObject = FileObject;
    attributes.EvtCleanupCallback = RecFile_EvtMemoryCleanupCallback;
    WdfRequestComplete(Request, WdfMemoryCreate(&attributes, NonPagedPoolNx, 0, 16, &RfGetFile(FileObject)->Scratch,
                                                NULL));
}

static VOID RecFile_EvtFileCleanup(WDFFILEOBJECT FileObject)
{
    UNREFERENCED_PARAMETER(FileObject);
    DbgPrint("Cleanup");
}

static VOID RecFile_EvtFileClose(WDFFILEOBJECT FileObject)
{
    UNREFERENCED_PARAMETER(FileObject);
    DbgPrint("Close");
}

static VOID RecFile_Checks(WDFREQUEST Request)
{
    PVOID buffer;
    size_t length;
    WDFMEMORY input, output, created;
    UCHAR bytes[80];
    DbgPrint("RetrieveInputBuffer(65)=%08lx",
             (unsigned long)(ULONG)WdfRequestRetrieveInputBuffer(Request, 65, &buffer, &length));
    DbgPrint("RetrieveInputBuffer(64)=%08lx",
             (unsigned long)(ULONG)WdfRequestRetrieveInputBuffer(Request, 64, &buffer, &length));
    DbgPrint("RetrieveOutputBuffer(65)=%08lx",
             (unsigned long)(ULONG)WdfRequestRetrieveOutputBuffer(Request, 65, &buffer, NULL));
    (void)WdfRequestRetrieveInputMemory(Request, &input);
    (void)WdfRequestRetrieveOutputMemory(Request, &output);
    DbgPrint("CopyToBuffer(0,64)=%08lx", (unsigned long)(ULONG)WdfMemoryCopyToBuffer(input, 0, bytes, 64));
    DbgPrint("CopyToBuffer(0,65)=%08lx", (unsigned long)(ULONG)WdfMemoryCopyToBuffer(input, 0, bytes, 65));
    DbgPrint("CopyToBuffer(64,1)=%08lx", (unsigned long)(ULONG)WdfMemoryCopyToBuffer(input, 64, bytes, 1));
    DbgPrint("CopyToBuffer(0,0)=%08lx", (unsigned long)(ULONG)WdfMemoryCopyToBuffer(input, 0, bytes, 0));
    DbgPrint("CopyFromBuffer(60,4)=%08lx", (unsigned long)(ULONG)WdfMemoryCopyFromBuffer(output, 60, bytes, 4));
    DbgPrint("CopyFromBuffer(60,5)=%08lx", (unsigned long)(ULONG)WdfMemoryCopyFromBuffer(output, 60, bytes, 5));
    DbgPrint("CopyFromBuffer(64,1)=%08lx", (unsigned long)(ULONG)WdfMemoryCopyFromBuffer(output, 64, bytes, 1));
    DbgPrint("MemoryCreate(0)=%08lx",
             (unsigned long)(ULONG)WdfMemoryCreate(WDF_NO_OBJECT_ATTRIBUTES, NonPagedPoolNx, 0, 0, &created, NULL));
    WdfRequestSetInformation(Request, 4);
    WdfRequestComplete(Request, STATUS_SUCCESS);
    if (TdfVariant() == RF_VARIANT_USE_AFTER_COMPLETE)
        (void)WdfMemoryGetBuffer(input, NULL); /* bug: the request's memory died with it */
}

static VOID RecFile_EvtIoDeviceControl(WDFQUEUE Queue, WDFREQUEST Request, size_t OutputBufferLength,
                                       size_t InputBufferLength, ULONG IoControlCode)
{
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InputBufferLength);
    if (IoControlCode == IOCTL_RF_HOLD) {
        DbgPrint("IoDeviceControl(hold)");
        NTSTATUS status = WdfRequestForwardToIoQueue(Request, RfGetDevice(WdfIoQueueGetDevice(Queue))->Held);
        if (!NT_SUCCESS(status))
            WdfRequestComplete(Request, status);
    } else if (IoControlCode == IOCTL_RF_CHECKS) {
        DbgPrint("IoDeviceControl(checks)");
        RecFile_Checks(Request);
    } else {
        DbgPrint("IoDeviceControl(complete)");
        WdfRequestComplete(Request, STATUS_SUCCESS);
    }
}

/* Argument 0: take the oldest held request and complete it; 1: keep it
 * (owned, not cancelable) until ReleaseHardware. */
VOID RecFile_StimulusTake(WDFDEVICE Device, ULONG Argument)
{
    PRF_DEVICE context = RfGetDevice(Device);
    WDFREQUEST request;
    if (!NT_SUCCESS(WdfIoQueueRetrieveNextRequest(context->Held, &request)))
        return;
    if (Argument & 1) {
        DbgPrint("Take(keep)");
        InterlockedExchangePointer((PVOID volatile *)&context->Kept, request);
        return;
    }
    DbgPrint("Take(complete)");
    WdfRequestComplete(request, STATUS_SUCCESS);
}
