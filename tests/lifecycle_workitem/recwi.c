/*
 * Recorder for the work-item, lookaside and object-lifetime rules (see
 * recwi.h). The correct variant, on the device's orderly remove:
 *  - SelfManagedIoFlush (PnP thread): enqueue W2 and WdfWorkItemFlush it
 *    ("W2 flushed"); enqueue W1 twice; a reference/delete/dereference round
 *    on a standalone collection C2; a collection C3 holding an item I.
 *  - The device's delete: W1's callback must run (the framework waits) before
 *    W1's cleanup and the device's; L (child of C, child of the device) is
 *    cleaned up before C, C before the device; destroys come after.
 *  - The device's EvtCleanupCallback queues an IO_WORKITEM: its routine runs
 *    before the device is destroyed and the driver unloads.
 */
#include "recwi.h"

typedef struct _RECWI_CONTEXT {
    WDFWORKITEM W1, W2;
    WDFCOLLECTION C;
    WDFLOOKASIDE L;
    PIO_WORKITEM IoItem;
    WORK_QUEUE_ITEM ExItem;
    NPAGED_LOOKASIDE_LIST List;
    WDFQUEUE Queue; /* RECWI_QUEUE_RUNDOWN */
} RECWI_CONTEXT, *PRECWI_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(RECWI_CONTEXT, RecWiGetContext)

/* RECWI_QUEUE_RUNDOWN: a rundown in a queue's context, not the device's
 * (docs/REPORTS.md "Whose rundown"). */
typedef struct _RECWI_QUEUE_CONTEXT {
    ULONG_PTR Before;
    EX_RUNDOWN_REF Ref;
} RECWI_QUEUE_CONTEXT, *PRECWI_QUEUE_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(RECWI_QUEUE_CONTEXT, RecWiGetQueueContext)

typedef struct _RECWI_NAME {
    PCSTR Name;
} RECWI_NAME, *PRECWI_NAME;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(RECWI_NAME, RecWiGetName)

DRIVER_INITIALIZE RecWi_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD RecWi_EvtDeviceAdd;
static EVT_WDF_DRIVER_UNLOAD RecWi_EvtDriverUnload;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_FLUSH RecWi_EvtDeviceSelfManagedIoFlush;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP RecWi_EvtDeviceSelfManagedIoCleanup;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP RecWi_EvtCleanup;
static EVT_WDF_OBJECT_CONTEXT_DESTROY RecWi_EvtDestroy;
static EVT_WDF_OBJECT_CONTEXT_CLEANUP RecWi_EvtDeviceCleanup;
static EVT_WDF_OBJECT_CONTEXT_DESTROY RecWi_EvtDeviceDestroy;
static EVT_WDF_WORKITEM RecWi_EvtWorkItem;
static IO_WORKITEM_ROUTINE RecWi_IoRoutine;
static WORKER_THREAD_ROUTINE RecWi_ExRoutine;

#define V(v) (TdfVariant() == (v))

NTSTATUS RecWi_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, RecWi_EvtDeviceAdd);
    config.EvtDriverUnload = RecWi_EvtDriverUnload;
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static VOID RecWi_EvtDriverUnload(WDFDRIVER Driver)
{
    UNREFERENCED_PARAMETER(Driver);
    DbgPrint("EvtDriverUnload");
}

/* Attributes with a name context and logging cleanup/destroy callbacks. */
static PWDF_OBJECT_ATTRIBUTES RecWi_Attributes(PWDF_OBJECT_ATTRIBUTES a, WDFOBJECT Parent)
{
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(a, RECWI_NAME);
    a->EvtCleanupCallback = RecWi_EvtCleanup;
    a->EvtDestroyCallback = RecWi_EvtDestroy;
    a->ParentObject = Parent;
    return a;
}

static VOID RecWi_EvtCleanup(WDFOBJECT Object) { DbgPrint("%s cleanup", RecWiGetName(Object)->Name); }
static VOID RecWi_EvtDestroy(WDFOBJECT Object) { DbgPrint("%s destroy", RecWiGetName(Object)->Name); }

static NTSTATUS RecWi_CreateWorkItem(WDFDEVICE Device, PCSTR Name, WDFWORKITEM *WorkItem)
{
    WDF_WORKITEM_CONFIG config;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_WORKITEM_CONFIG_INIT(&config, RecWi_EvtWorkItem);
    NTSTATUS status = WdfWorkItemCreate(&config, RecWi_Attributes(&attributes, Device), WorkItem);
    if (NT_SUCCESS(status))
        RecWiGetName(*WorkItem)->Name = Name;
    return status;
}

static NTSTATUS RecWi_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDeviceSelfManagedIoFlush = RecWi_EvtDeviceSelfManagedIoFlush;
    callbacks.EvtDeviceSelfManagedIoCleanup = RecWi_EvtDeviceSelfManagedIoCleanup;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, RECWI_CONTEXT);
    attributes.EvtCleanupCallback = RecWi_EvtDeviceCleanup;
    attributes.EvtDestroyCallback = RecWi_EvtDeviceDestroy;
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;
    PRECWI_CONTEXT context = RecWiGetContext(device);
    if (V(RECWI_LOOKASIDE_LEAK) || V(RECWI_CORRECT))
        ExInitializeNPagedLookasideList(&context->List, NULL, NULL, 0, 32, 0x69577252 /* 'RrWi' */, 0);
    if (V(RECWI_QUEUE_RUNDOWN)) {
        WDF_IO_QUEUE_CONFIG queueConfig;
        WDF_IO_QUEUE_CONFIG_INIT(&queueConfig, WdfIoQueueDispatchManual);
        WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, RECWI_QUEUE_CONTEXT);
        return WdfIoQueueCreate(device, &queueConfig, &attributes, &context->Queue);
    }
    if (!V(RECWI_CORRECT))
        return STATUS_SUCCESS;
    if (!NT_SUCCESS(status = RecWi_CreateWorkItem(device, "W1", &context->W1)) ||
        !NT_SUCCESS(status = RecWi_CreateWorkItem(device, "W2", &context->W2)))
        return status;
    /* C, a child of the device, with L, a child of C. */
    status = WdfCollectionCreate(RecWi_Attributes(&attributes, device), &context->C);
    if (!NT_SUCCESS(status))
        return status;
    RecWiGetName(context->C)->Name = "C";
    status = WdfLookasideListCreate(RecWi_Attributes(&attributes, context->C), 16, NonPagedPoolNx, NULL, 0,
                                    &context->L);
    if (!NT_SUCCESS(status))
        return status;
    RecWiGetName(context->L)->Name = "L";
    return STATUS_SUCCESS;
}

static VOID RecWi_EvtWorkItem(WDFWORKITEM WorkItem)
{
    DbgPrint("%s callback (parent is the device: %d)", RecWiGetName(WorkItem)->Name,
             WdfWorkItemGetParentObject(WorkItem) != NULL);
}

static WDFCOLLECTION RecWi_Collection(PCSTR Name)
{
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFCOLLECTION c;
    if (!NT_SUCCESS(WdfCollectionCreate(RecWi_Attributes(&attributes, NULL), &c)))
        return NULL;
    RecWiGetName(c)->Name = Name;
    return c;
}

static VOID RecWi_EvtDeviceSelfManagedIoFlush(WDFDEVICE Device)
{
    if (V(RECWI_QUEUE_RUNDOWN)) {
        PRECWI_QUEUE_CONTEXT q = RecWiGetQueueContext(RecWiGetContext(Device)->Queue);
        ExInitializeRundownProtection(&q->Ref);
        if (ExAcquireRundownProtection(&q->Ref))
            ExReleaseRundownProtection(&q->Ref);
        ExWaitForRundownProtectionRelease(&q->Ref);
        DbgPrint("queue rundown run down");
        return;
    }
    PRECWI_CONTEXT context = RecWiGetContext(Device);
    DbgPrint("SelfManagedIoFlush");
    if (!V(RECWI_CORRECT))
        return;
    WdfWorkItemEnqueue(context->W2);
    WdfWorkItemFlush(context->W2);
    DbgPrint("W2 flushed");
    WdfWorkItemEnqueue(context->W1);
    WdfWorkItemEnqueue(context->W1); /* queued: no second callback */

    /* A delete with a reference outstanding: destroy waits for the dereference. */
    WDFCOLLECTION c2 = RecWi_Collection("C2");
    WdfObjectReferenceWithTag(c2, (PVOID)RecWi_EvtDeviceSelfManagedIoFlush);
    WdfObjectDelete(c2);
    DbgPrint("C2 deleted");
    WdfObjectDereferenceWithTag(c2, (PVOID)RecWi_EvtDeviceSelfManagedIoFlush);
    DbgPrint("C2 dereferenced");

    /* A collection references its items. */
    WDFCOLLECTION c3 = RecWi_Collection("C3");
    WDFCOLLECTION item = RecWi_Collection("I");
    WdfCollectionAdd(c3, item);
    WdfObjectDelete(item);
    DbgPrint("I deleted, count %lu, first/last/get(0) is I: %d, get(1) NULL: %d",
             (unsigned long)WdfCollectionGetCount(c3),
             WdfCollectionGetFirstItem(c3) == item && WdfCollectionGetLastItem(c3) == item &&
                 WdfCollectionGetItem(c3, 0) == item,
             WdfCollectionGetItem(c3, 1) == NULL);
    WdfCollectionRemove(c3, item);
    DbgPrint("I removed, count %lu", (unsigned long)WdfCollectionGetCount(c3));
    WdfObjectDelete(c3);
}

static VOID RecWi_EvtDeviceSelfManagedIoCleanup(WDFDEVICE Device)
{
    UNREFERENCED_PARAMETER(Device);
    DbgPrint("SelfManagedIoCleanup");
}

static VOID RecWi_IoRoutine(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    PRECWI_CONTEXT context = Context;
    UNREFERENCED_PARAMETER(DeviceObject);
    DbgPrint("IO_WORKITEM routine");
    IoFreeWorkItem(context->IoItem);
}

static VOID RecWi_ExRoutine(PVOID Parameter)
{
    UNREFERENCED_PARAMETER(Parameter);
    DbgPrint("WORK_QUEUE_ITEM routine");
}

/* PnP deleted the device; the context stays until the destroy. */
static VOID RecWi_EvtDeviceCleanup(WDFOBJECT Object)
{
    PRECWI_CONTEXT context = RecWiGetContext(Object);
    DbgPrint("device cleanup");
    if (V(RECWI_EX_QUEUE)) {
        ExInitializeWorkItem(&context->ExItem, RecWi_ExRoutine, context);
        ExQueueWorkItem(&context->ExItem, DelayedWorkQueue);
        return;
    }
    if (V(RECWI_CORRECT) || V(RECWI_DOUBLE_QUEUE)) {
        context->IoItem = IoAllocateWorkItem(WdfDeviceWdmGetDeviceObject((WDFDEVICE)Object));
        IoQueueWorkItem(context->IoItem, RecWi_IoRoutine, DelayedWorkQueue, context);
        if (V(RECWI_DOUBLE_QUEUE))
            IoQueueWorkItem(context->IoItem, RecWi_IoRoutine, DelayedWorkQueue, context);
    }
}

static VOID RecWi_EvtDeviceDestroy(WDFOBJECT Object)
{
    PRECWI_CONTEXT context = RecWiGetContext(Object);
    DbgPrint("device destroy");
    if (V(RECWI_CORRECT))
        ExDeleteNPagedLookasideList(&context->List);
}
