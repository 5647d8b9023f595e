/*
 * IO_WORKITEM (KERNEL-SEMANTICS §9 "Work items"). A device object is
 * embedded in its device record (WdfDeviceWdmGetDeviceObject, wdm_device.c),
 * so the I/O manager's reference on the device object while an item is
 * queued or its routine runs is a reference on the WDFDEVICE: its destroy,
 * and with it the driver's unload, waits until the routine has returned.
 * An item initialised on the driver object pins the driver instead.
 * The worker thread reads nothing of the item after calling the routine:
 * the routine may free (or requeue) it.
 */
#include "wdf_internal.h"

#include <string.h>

#define IO_WORKITEM_MAGIC 0x496f576bu /* 'kWoI' */

struct _IO_WORKITEM {
    uint32_t magic;
    int allocated;         /* IoAllocateWorkItem (model memory) vs IoInitializeWorkItem (driver memory) */
    wdf_device_t *device;  /* the device object it was made for, or NULL */
    wdf_driver_t *driver;  /* IoInitializeWorkItem on the driver object */
};

typedef struct io_run {
    PIO_WORKITEM item;
    PIO_WORKITEM_ROUTINE routine;
    PIO_WORKITEM_ROUTINE_EX routine_ex;
    PVOID context;
    wdf_device_t *device;
    wdf_driver_t *driver;
    void *slot;
} io_run_t;

/* WdfDeviceWdmGetDeviceObject: model/wdf/wdm_bridge.c (the record's embedded DEVICE_OBJECT). */

static PIO_WORKITEM item_checked(PIO_WORKITEM item, const char *routine)
{
    if (!item || item->magic != IO_WORKITEM_MAGIC) {
        TDF_BUGCHECK(0xE4, 0x3, "WORKER_INVALID", "%s on memory that is not an initialised IO_WORKITEM", routine);
        return NULL;
    }
    return item;
}

static void bind(PIO_WORKITEM item, PVOID IoObject, const char *routine)
{
    wdf_device_t *d = wdf_device_of_wdm((PDEVICE_OBJECT)IoObject);
    memset(item, 0, sizeof *item);
    if (d)
        item->device = d;
    else if (IoObject && ((PDRIVER_OBJECT)IoObject)->Type == IO_TYPE_DRIVER)
        item->driver = CONTAINING_RECORD((PDRIVER_OBJECT)IoObject, wdf_driver_t, wdm);
    else {
        TDF_BUGCHECK(0xE4, 0x3, "WORKER_INVALID", "%s with an object that is neither a device nor a driver object",
                     routine);
        return;
    }
    item->magic = IO_WORKITEM_MAGIC;
}

PIO_WORKITEM IoAllocateWorkItem(PDEVICE_OBJECT DeviceObject)
{
    ke_yield();
    if (!wdf_device_of_wdm(DeviceObject)) {
        TDF_BUGCHECK(0xE4, 0x3, "WORKER_INVALID", "IoAllocateWorkItem with something that is not a device object");
        return NULL;
    }
    PIO_WORKITEM item = pool_alloc_model(sizeof *item);
    bind(item, DeviceObject, "IoAllocateWorkItem");
    item->allocated = 1;
    return item;
}

ULONG IoSizeofWorkItem(void) { return (ULONG)sizeof(struct _IO_WORKITEM); }

VOID IoInitializeWorkItem(PVOID IoObject, PIO_WORKITEM IoWorkItem)
{
    ke_yield();
    bind(IoWorkItem, IoObject, "IoInitializeWorkItem");
}

static void retire(PIO_WORKITEM item, const char *routine)
{
    if (!item_checked(item, routine))
        return;
    int running = 0;
    if (work_queue_item_active(item, &running) && !running) {
        TDF_BUGCHECK(0xE4, 0x2, "WORKER_INVALID", "%s of an IO_WORKITEM that is still queued", routine);
        return;
    }
    item->magic = 0;
}

VOID IoFreeWorkItem(PIO_WORKITEM IoWorkItem)
{
    ke_yield();
    retire(IoWorkItem, "IoFreeWorkItem");
}

VOID IoUninitializeWorkItem(PIO_WORKITEM IoWorkItem)
{
    ke_yield();
    retire(IoWorkItem, "IoUninitializeWorkItem");
}

static void io_worker_main(void *arg)
{
    io_run_t *r = arg;
    work_queue_started(r->slot);
    /* Until the routine returned: the release below may run the device's
     * destroy callbacks and the driver's unload on this thread, which are
     * checked as whoever calls them. */
    unsigned saved = image_irql_rule_begin(IRQL_RETURN_WORKER);
    if (r->routine_ex)
        r->routine_ex(r->device ? (PVOID)&r->device->wdm : (PVOID)&r->driver->wdm, r->context, r->item);
    else
        r->routine(&r->device->wdm, r->context);
    image_irql_rule_end(saved);
    work_queue_finished(r->slot);
    /* The I/O manager's reference ends after the routine returned: it may be
     * the last one of a removed device (destroy, then the driver's unload). */
    if (r->device)
        wdf_object_release(&r->device->obj);
    else
        wdf_driver_unpin(r->driver);
}

static void queue(PIO_WORKITEM item, PIO_WORKITEM_ROUTINE routine, PIO_WORKITEM_ROUTINE_EX routine_ex,
                  WORK_QUEUE_TYPE type, PVOID context, const char *name)
{
    ke_yield();
    if (!item_checked(item, name))
        return;
    if ((unsigned)type >= MaximumWorkQueue) {
        TDF_BUGCHECK(0xE4, 0x6, "WORKER_INVALID", "%s with an invalid queue type %d", name, (int)type);
        return;
    }
    if (!routine && !routine_ex) {
        TDF_BUGCHECK(0xE4, 0x7, "WORKER_INVALID", "%s with no worker routine", name);
        return;
    }
    int running = 0;
    if (work_queue_item_active(item, &running) && !running) {
        TDF_BUGCHECK(0xE4, 0x1, "WORKER_INVALID", "%s of an IO_WORKITEM that is already queued", name);
        return;
    }
    io_run_t *r = pool_alloc_model(sizeof *r);
    r->item = item;
    r->routine = routine;
    r->routine_ex = routine_ex;
    r->context = context;
    r->device = item->device;
    r->driver = item->driver;
    /* The reference is taken before the item can run: the routine's device
     * (and so its driver's code) outlives it. */
    if (r->device)
        wdf_device_hold_for_callback(r->device);
    else
        wdf_driver_pin(r->driver);
    r->slot = work_queue_submit(item, routine_ex ? (const void *)routine_ex : (const void *)routine, "IO_WORKITEM",
                                io_worker_main, r);
}

VOID IoQueueWorkItem(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE WorkerRoutine, WORK_QUEUE_TYPE QueueType,
                     PVOID Context)
{
    queue(IoWorkItem, WorkerRoutine, NULL, QueueType, Context, "IoQueueWorkItem");
}

VOID IoQueueWorkItemEx(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE_EX WorkerRoutine, WORK_QUEUE_TYPE QueueType,
                       PVOID Context)
{
    queue(IoWorkItem, NULL, WorkerRoutine, QueueType, Context, "IoQueueWorkItemEx");
}
