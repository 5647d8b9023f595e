/*
 * The work-item driver (fuzz_work_item): one root-enumerated device with a
 * register block that defers work three ways, the ways real KMDF drivers do.
 *
 *  - hw_kick: an event (an interrupt's DPC would do the same) enqueues the
 *    WDFWORKITEM HwWork, whose callback touches the registers at
 *    PASSIVE_LEVEL. Enqueue only while powered, under the device's spin lock;
 *    D0Exit clears Powered under the lock and then WdfWorkItemFlush-es: a
 *    callback enqueued before D0Exit has returned before the power goes.
 *  - wdm_kick: a WDM-style event takes a block from the device's NPAGED
 *    lookaside list and hands it to a per-event IO_WORKITEM
 *    (IoAllocateWorkItem on the WDFDEVICE's device object): IoQueueWorkItem
 *    holds the device object, so the device (whose context holds the
 *    lookaside list) and the driver outlive the routine. The routine frees
 *    its IO_WORKITEM and gives the block back. The list is deleted in the
 *    device's EvtDestroyCallback: after the last reference, so after every
 *    routine.
 *  - submit: a WDFMEMORY from the WDFLOOKASIDE BufferList goes into the
 *    WDFCOLLECTION Pending (the collection references it) and the WDFWORKITEM
 *    DrainWork is enqueued; the drain takes each buffer off the collection
 *    (WdfCollectionRemove drops the collection's reference), reads it, then
 *    WdfObjectDelete-s it (the driver's own reference). All under the spin
 *    lock while Accepting, which SelfManagedIoFlush clears: the framework
 *    deletes the children (and waits for DrainWork) only after Flush.
 * Everything else (cleanup of the collection, the lookaside, the work items)
 * is the framework's: they are children of the device.
 */
#include <tdf/harness.h>

#include "variants.h"
#include "work_item_if.h"

typedef struct _WI_BLOCK {
    WORK_QUEUE_ITEM ExItem;  /* ex_queue_work_item */
    PIO_WORKITEM IoItem;
    struct _WI_CONTEXT *Context;
    ULONG Sequence;
} WI_BLOCK, *PWI_BLOCK;

typedef struct _WI_CONTEXT {
    WDFDEVICE Device;
    KSPIN_LOCK Lock;         /* guards Powered, Accepting, Pending */
    BOOLEAN Powered;         /* D0Entry .. D0Exit: HwWork may be enqueued */
    BOOLEAN Accepting;       /* until SelfManagedIoFlush: submit may create buffers */
    volatile ULONG *Registers;
    WDFWORKITEM HwWork;
    WDFWORKITEM DrainWork;
    WDFCOLLECTION Pending;
    WDFLOOKASIDE BufferList;
    NPAGED_LOOKASIDE_LIST BlockList;
    BOOLEAN BlockListReady;
    PIO_WORKITEM SharedItem; /* shared_io_workitem */
    volatile LONG Sequence;
    volatile LONG WdmDone;
    volatile LONG Drained;
} WI_CONTEXT, *PWI_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(WI_CONTEXT, WiGetContext)

typedef struct _WI_BUFFER_CONTEXT {
    ULONG Sequence;
} WI_BUFFER_CONTEXT, *PWI_BUFFER_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(WI_BUFFER_CONTEXT, WiGetBufferContext)

DRIVER_INITIALIZE Wi_DriverEntry;
EVT_TDF_STIMULUS Wi_StimulusHwKick;
EVT_TDF_STIMULUS Wi_StimulusWdmKick;
EVT_TDF_STIMULUS Wi_StimulusSubmit;
static EVT_WDF_DRIVER_DEVICE_ADD Wi_EvtDeviceAdd;
static EVT_WDF_DEVICE_PREPARE_HARDWARE Wi_EvtDevicePrepareHardware;
static EVT_WDF_DEVICE_RELEASE_HARDWARE Wi_EvtDeviceReleaseHardware;
static EVT_WDF_DEVICE_D0_ENTRY Wi_EvtDeviceD0Entry;
static EVT_WDF_DEVICE_D0_EXIT Wi_EvtDeviceD0Exit;
static EVT_WDF_DEVICE_SELF_MANAGED_IO_FLUSH Wi_EvtDeviceSelfManagedIoFlush;
static EVT_WDF_OBJECT_CONTEXT_DESTROY Wi_EvtDeviceDestroy;
static EVT_WDF_WORKITEM Wi_EvtHwWork;
static EVT_WDF_WORKITEM Wi_EvtDrainWork;
static IO_WORKITEM_ROUTINE Wi_WdmWorkRoutine;
static WORKER_THREAD_ROUTINE Wi_ExWorkRoutine;

NTSTATUS Wi_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Wi_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Wi_CreateWorkItem(WDFDEVICE Device, PFN_WDF_WORKITEM Callback, WDFWORKITEM *WorkItem)
{
    WDF_WORKITEM_CONFIG config;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDF_WORKITEM_CONFIG_INIT(&config, Callback);
    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    attributes.ParentObject = Device; /* flushed and deleted with the device */
    return WdfWorkItemCreate(&config, &attributes, WorkItem);
}

static NTSTATUS Wi_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDF_PNPPOWER_EVENT_CALLBACKS callbacks;
    WDF_OBJECT_ATTRIBUTES attributes, memoryAttributes;
    WDFDEVICE device;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(Driver);

    WDF_PNPPOWER_EVENT_CALLBACKS_INIT(&callbacks);
    callbacks.EvtDevicePrepareHardware = Wi_EvtDevicePrepareHardware;
    callbacks.EvtDeviceReleaseHardware = Wi_EvtDeviceReleaseHardware;
    callbacks.EvtDeviceD0Entry = Wi_EvtDeviceD0Entry;
    callbacks.EvtDeviceD0Exit = Wi_EvtDeviceD0Exit;
    callbacks.EvtDeviceSelfManagedIoFlush = Wi_EvtDeviceSelfManagedIoFlush;
    WdfDeviceInitSetPnpPowerEventCallbacks(DeviceInit, &callbacks);
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, WI_CONTEXT);
    attributes.EvtDestroyCallback = Wi_EvtDeviceDestroy;
    status = WdfDeviceCreate(&DeviceInit, &attributes, &device);
    if (!NT_SUCCESS(status))
        return status;

    /* The power-policy owner idles only with S0 idle settings (KERNEL-SEMANTICS §13):
     * idle is one more way D0Exit comes while HwWork may be queued. */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idleSettings;
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS_INIT(&idleSettings, IdleCannotWakeFromS0);
    status = WdfDeviceAssignS0IdleSettings(device, &idleSettings);
    if (!NT_SUCCESS(status))
        return status;

    PWI_CONTEXT context = WiGetContext(device);
    context->Device = device;
    KeInitializeSpinLock(&context->Lock);
    context->Accepting = TRUE;
    /* Before anything can fail: the destroy callback deletes what is ready. */
    ExInitializeNPagedLookasideList(&context->BlockList, NULL, NULL, 0, sizeof(WI_BLOCK), WI_POOL_TAG, 0);
    context->BlockListReady = TRUE;
    if (IS_VARIANT(VARIANT_SHARED_IO_WORKITEM)) {
        context->SharedItem = IoAllocateWorkItem(WdfDeviceWdmGetDeviceObject(device));
        if (!context->SharedItem)
            return STATUS_INSUFFICIENT_RESOURCES;
    }

    status = Wi_CreateWorkItem(device, Wi_EvtHwWork, &context->HwWork);
    if (!NT_SUCCESS(status))
        return status;
    status = Wi_CreateWorkItem(device, Wi_EvtDrainWork, &context->DrainWork);
    if (!NT_SUCCESS(status))
        return status;
    WDF_OBJECT_ATTRIBUTES_INIT(&attributes);
    attributes.ParentObject = device;
    status = WdfCollectionCreate(&attributes, &context->Pending);
    if (!NT_SUCCESS(status))
        return status;
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&memoryAttributes, WI_BUFFER_CONTEXT);
    memoryAttributes.ParentObject = device;
    return WdfLookasideListCreate(&attributes, WI_BUFFER_SIZE, NonPagedPoolNx, &memoryAttributes, WI_POOL_TAG,
                                  &context->BufferList);
}

/* The device's last reference is gone: every IO_WORKITEM routine has
 * returned (each held the device object), so nothing uses BlockList now. */
static VOID Wi_EvtDeviceDestroy(WDFOBJECT Object)
{
    PWI_CONTEXT context = WiGetContext(Object);
    if (context->SharedItem)
        IoFreeWorkItem(context->SharedItem);
    if (context->BlockListReady && !IS_VARIANT(VARIANT_LOOKASIDE_NOT_DELETED)) /* bug: forgotten */
        ExDeleteNPagedLookasideList(&context->BlockList);
}

static NTSTATUS Wi_EvtDevicePrepareHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesRaw,
                                            WDFCMRESLIST ResourcesTranslated)
{
    PWI_CONTEXT context = WiGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesRaw);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = WdfCmResourceListGetDescriptor(ResourcesTranslated, 0);
    if (!d || d->Type != CmResourceTypeMemory)
        return STATUS_DEVICE_NOT_READY;
    context->Registers = MmMapIoSpaceEx(d->u.Memory.Start, WI_REG_BLOCK_SIZE, PAGE_READWRITE | PAGE_NOCACHE);
    return context->Registers ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

static NTSTATUS Wi_EvtDeviceReleaseHardware(WDFDEVICE Device, WDFCMRESLIST ResourcesTranslated)
{
    PWI_CONTEXT context = WiGetContext(Device);
    UNREFERENCED_PARAMETER(ResourcesTranslated);
    /* After D0Exit, which flushed HwWork: nothing reads Registers now. */
    MmUnmapIoSpace((PVOID)context->Registers, WI_REG_BLOCK_SIZE);
    context->Registers = NULL;
    return STATUS_SUCCESS;
}

static NTSTATUS Wi_EvtDeviceD0Entry(WDFDEVICE Device, WDF_POWER_DEVICE_STATE PreviousState)
{
    PWI_CONTEXT context = WiGetContext(Device);
    KIRQL irql;
    UNREFERENCED_PARAMETER(PreviousState);
    KeAcquireSpinLock(&context->Lock, &irql);
    context->Powered = TRUE;
    KeReleaseSpinLock(&context->Lock, irql);
    return STATUS_SUCCESS;
}

static NTSTATUS Wi_EvtDeviceD0Exit(WDFDEVICE Device, WDF_POWER_DEVICE_STATE TargetState)
{
    PWI_CONTEXT context = WiGetContext(Device);
    KIRQL irql;
    UNREFERENCED_PARAMETER(TargetState);
    KeAcquireSpinLock(&context->Lock, &irql);
    context->Powered = FALSE; /* no new HwWork from here on */
    KeReleaseSpinLock(&context->Lock, irql);
    /* One enqueued before may still be queued or running: the registers stay
     * powered until we return, so wait for it here. */
    if (!IS_VARIANT(VARIANT_NO_FLUSH_IN_D0EXIT)) /* bug: the callback outlives the power */
        WdfWorkItemFlush(context->HwWork);
    return STATUS_SUCCESS;
}

static VOID Wi_EvtDeviceSelfManagedIoFlush(WDFDEVICE Device)
{
    PWI_CONTEXT context = WiGetContext(Device);
    KIRQL irql;
    /* The framework deletes our children (the lookaside, the collection, the
     * work items) after this: no submit may create a buffer past it. */
    KeAcquireSpinLock(&context->Lock, &irql);
    context->Accepting = FALSE;
    KeReleaseSpinLock(&context->Lock, irql);
}

/* ---- hw_kick: WDFWORKITEM touching the registers --------------------------------- */
VOID Wi_StimulusHwKick(WDFDEVICE Device, ULONG Argument)
{
    PWI_CONTEXT context = WiGetContext(Device);
    KIRQL irql;
    UNREFERENCED_PARAMETER(Argument);
    KeAcquireSpinLock(&context->Lock, &irql);
    if (context->Powered)
        WdfWorkItemEnqueue(context->HwWork); /* DISPATCH_LEVEL is fine; a queued one is not queued twice */
    KeReleaseSpinLock(&context->Lock, irql);
}

static VOID Wi_EvtHwWork(WDFWORKITEM WorkItem)
{
    PWI_CONTEXT context = WiGetContext(WdfWorkItemGetParentObject(WorkItem));
    /* Enqueued while powered, and D0Exit waits for us: powered now. */
    ULONG status = READ_REGISTER_ULONG(&context->Registers[WI_REG_STATUS]);
    WRITE_REGISTER_ULONG(&context->Registers[WI_REG_ACK], status | 1);
}

/* ---- wdm_kick: IO_WORKITEM with a lookaside block ------------------------------- */
VOID Wi_StimulusWdmKick(WDFDEVICE Device, ULONG Argument)
{
    PWI_CONTEXT context = WiGetContext(Device);
    UNREFERENCED_PARAMETER(Argument);
    PWI_BLOCK block = ExAllocateFromNPagedLookasideList(&context->BlockList);
    if (!block)
        return;
    block->Context = context;
    block->Sequence = (ULONG)InterlockedIncrement(&context->Sequence);
    if (IS_VARIANT(VARIANT_EX_QUEUE_WORK_ITEM)) { /* bug: no reference on the device or the driver */
        ExInitializeWorkItem(&block->ExItem, Wi_ExWorkRoutine, block);
        ExQueueWorkItem(&block->ExItem, DelayedWorkQueue);
        return;
    }
    if (IS_VARIANT(VARIANT_SHARED_IO_WORKITEM)) { /* bug: may still be queued from the last event */
        block->IoItem = NULL;
        IoQueueWorkItem(context->SharedItem, Wi_WdmWorkRoutine, DelayedWorkQueue, block);
        return;
    }
    block->IoItem = IoAllocateWorkItem(WdfDeviceWdmGetDeviceObject(Device));
    if (!block->IoItem) {
        ExFreeToNPagedLookasideList(&context->BlockList, block);
        return;
    }
    IoQueueWorkItem(block->IoItem, Wi_WdmWorkRoutine, DelayedWorkQueue, block);
}

static VOID Wi_FinishBlock(PWI_BLOCK block)
{
    PWI_CONTEXT context = block->Context;
    InterlockedIncrement(&context->WdmDone);
    if (block->IoItem)
        IoFreeWorkItem(block->IoItem); /* from its own routine: allowed, the worker is done with it */
    ExFreeToNPagedLookasideList(&context->BlockList, block);
}

static VOID Wi_WdmWorkRoutine(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Wi_FinishBlock(Context);
}

static VOID Wi_ExWorkRoutine(PVOID Parameter) { Wi_FinishBlock(Parameter); }

/* ---- submit: WDFLOOKASIDE buffers through a WDFCOLLECTION ------------------------ */
VOID Wi_StimulusSubmit(WDFDEVICE Device, ULONG Argument)
{
    PWI_CONTEXT context = WiGetContext(Device);
    WDFMEMORY memory = NULL;
    KIRQL irql;
    KeAcquireSpinLock(&context->Lock, &irql);
    if (!context->Accepting || WdfCollectionGetCount(context->Pending) >= WI_MAX_PENDING) {
        KeReleaseSpinLock(&context->Lock, irql);
        return;
    }
    if (NT_SUCCESS(WdfMemoryCreateFromLookaside(context->BufferList, &memory))) {
        WiGetBufferContext(memory)->Sequence = Argument;
        if (NT_SUCCESS(WdfCollectionAdd(context->Pending, memory))) {
            WdfWorkItemEnqueue(context->DrainWork);
            if (IS_VARIANT(VARIANT_DELETED_EARLY)) /* bug: "the collection keeps it" -- until the drain's Remove */
                WdfObjectDelete(memory);
        } else {
            WdfObjectDelete(memory);
        }
    }
    KeReleaseSpinLock(&context->Lock, irql);
}

static VOID Wi_EvtDrainWork(WDFWORKITEM WorkItem)
{
    PWI_CONTEXT context = WiGetContext(WdfWorkItemGetParentObject(WorkItem));
    KIRQL irql;
    for (;;) {
        KeAcquireSpinLock(&context->Lock, &irql);
        if (IS_VARIANT(VARIANT_STOP_EXIT_LOCKED) && !context->Accepting)
            return; /* bug: "the device is going, leave the rest to its teardown" skips the release */
        WDFMEMORY memory = (WDFMEMORY)WdfCollectionGetFirstItem(context->Pending);
        if (memory)
            WdfCollectionRemove(context->Pending, memory); /* the collection's reference goes */
        KeReleaseSpinLock(&context->Lock, irql);
        if (!memory)
            return;
        if (IS_VARIANT(VARIANT_DEREF_TOO_MANY)) /* bug: Remove already dropped the collection's reference */
            WdfObjectDereference(memory);
        InterlockedExchange(&context->Drained, (LONG)WiGetBufferContext(memory)->Sequence);
        WdfObjectDelete(memory); /* ours: the creation reference */
    }
}
