/*
 * WDFFILEOBJECT: a client's handle on a device and the file callbacks
 * (KERNEL-SEMANTICS §12). The order is KMDF's FxPkgGeneral: OnCreate calls
 * EvtDeviceFileCreate with the create request (without one the framework
 * completes the create with STATUS_SUCCESS); OnCleanup calls EvtFileCleanup
 * and then FxPkgIo::FlushAllQueuesByFileObject, which cancels the handle's
 * requests still waiting in a queue (dispatched ones stay the driver's to
 * complete); OnClose calls EvtFileClose and then destroys the WDFFILEOBJECT
 * (its EvtCleanupCallback, EvtDestroyCallback, context). IRP_MJ_CLOSE comes
 * only once the file object's last reference is gone: every request sent on
 * the handle holds one until the I/O manager finishes its completion.
 *
 * No yield point of its own: the callbacks are driver code, which yields in
 * its shim calls; a driver without file callbacks runs exactly as before.
 */
#include "fileobject.h"
#include "../kernel/tsan_sync.h"

#include <stdio.h>
#include <string.h>

static wdf_file_t *g_live; /* open (not yet closed) file objects, newest first */

void wdf_file_reset(void) { g_live = NULL; }

static wdf_file_t *file_checked(WDFFILEOBJECT h, const char *routine)
{
    return (wdf_file_t *)wdf_object_checked((WDFOBJECT)h, OBJ_FILE, routine);
}

VOID WdfDeviceInitSetFileObjectConfig(PWDFDEVICE_INIT DeviceInit, PWDF_FILEOBJECT_CONFIG FileObjectConfig,
                                      PWDF_OBJECT_ATTRIBUTES FileObjectAttributes)
{
    if (FileObjectConfig->AutoForwardCleanupClose == WdfTrue)
        TdfUnmodelled("WdfDeviceInitSetFileObjectConfig",
                      "AutoForwardCleanupClose = WdfTrue (forwarding create/cleanup/close down the stack)");
    wdf_file_config_t *c = pool_alloc_model(sizeof *c);
    c->cfg = *FileObjectConfig;
    if (FileObjectAttributes) {
        c->attrs = *FileObjectAttributes;
        c->has_attrs = 1;
    }
    DeviceInit->file_cfg = c;
}

/* KMDF creates a WDFFILEOBJECT unless the class says none is required
 * (FxFileObject::_CreateFileObject); the model keeps its record either way,
 * for the handle's lifetime, and hides it from the driver then. */
static int visible(const wdf_file_t *f)
{
    const wdf_file_config_t *c = f->device->file_cfg;
    return c && (c->cfg.FileObjectClass & ~WdfFileObjectCanBeOptional) != WdfFileObjectNotRequired;
}

WDFFILEOBJECT WdfRequestGetFileObject(WDFREQUEST Request)
{
    wdf_request_t *r = wdf_request_checked(Request, "WdfRequestGetFileObject");
    if (r->from_io_manager && r->state == REQ_COMPLETED)
        wdf_request_fail_completed(r, 0x5, "WdfRequestGetFileObject",
                                   "WdfRequestGetFileObject on a request already completed");
    return r->file && visible(r->file) ? (WDFFILEOBJECT)r->file : NULL;
}

WDFDEVICE WdfFileObjectGetDevice(WDFFILEOBJECT FileObject)
{
    return (WDFDEVICE)file_checked(FileObject, "WdfFileObjectGetDevice")->device;
}

static void unlink_live(wdf_file_t *f)
{
    for (wdf_file_t **pp = &g_live; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            return;
        }
}

/* The file object's end: deleted (its own cleanup/destroy callbacks, its
 * context and WDFMEMORY children), uncounted, the device reference dropped
 * (which may destroy a removed device and unload its driver). */
static void file_delete(wdf_file_t *f)
{
    wdf_device_t *d = f->device;
    f->closed = 1;
    unlink_live(f);
    wdf_object_delete(&f->obj);
    d->open_files--;
    sched_wake(&d->open_files);
    wdf_object_release(&d->obj);
}

NTSTATUS wdf_file_open(wdf_device_t *d, wdf_file_t **out)
{
    *out = NULL;
    /* The PnP manager marks the device objects remove-pending from the
     * query-remove notification (and at a surprise removal) on: the I/O
     * manager fails new opens before they reach the driver. */
    if (d->remove_pending || d->obj.deleted || (d->pnp != PNP_STARTED && d->pnp != PNP_STOPPED)) {
        SCHED_TRACE1("%s: IRP_MJ_CREATE failed 0xc0000056", d->name);
        return STATUS_DELETE_PENDING;
    }
    const wdf_file_config_t *c = d->file_cfg;
    wdf_file_t *f = pool_alloc_model(sizeof *f);
    wdf_object_init(&f->obj, OBJ_FILE, c && c->has_attrs ? (PWDF_OBJECT_ATTRIBUTES)&c->attrs : NULL);
    f->obj.image = d->driver->image;
    f->device = d;
    d->obj.refs++; /* the file object references the device object until it is closed */
    d->open_files++;
    f->next = g_live;
    g_live = f;
    NTSTATUS st = STATUS_SUCCESS;
    if (c && c->cfg.EvtDeviceFileCreate) {
        wdf_request_t *r = wdf_request_new(WdfRequestTypeCreate, 0, NULL, 0, NULL, 0);
        r->from_io_manager = 1;
        r->state = REQ_OWNED; /* presented to the driver, which must complete it */
        r->file = f;
        r->waiter = 1;
        SCHED_TRACE1("%s: EvtDeviceFileCreate", d->name);
        c->cfg.EvtDeviceFileCreate((WDFDEVICE)d, wdf_request_receiver_handle(r), (WDFFILEOBJECT)f);
        while (!r->done)
            ke_block(&r->done, "CreateFile: the create request to complete");
        st = r->status;
    }
    SCHED_TRACE2("%s: IRP_MJ_CREATE -> 0x%lx", d->name, (unsigned long)(uint32_t)st);
    if (!NT_SUCCESS(st)) {
        /* FxPkgGeneral: DeleteFileObjectFromFailedCreate; no cleanup or
         * close follows a failed create. */
        file_delete(f);
        return st;
    }
    /* Only now does the client hold a handle (and hear of removals): a
     * notification during the create leaves it alone, and a query-remove
     * then finds the handle open once the create returns. */
    f->handle_open = 1;
    *out = f;
    return STATUS_SUCCESS;
}

void wdf_file_attach(wdf_file_t *f, wdf_request_t *r)
{
    r->file = f;
    f->io++;
    f->pending = r;
}

static void file_close(wdf_file_t *f)
{
    const wdf_file_config_t *c = f->device->file_cfg;
    SCHED_TRACE1("%s: IRP_MJ_CLOSE", f->device->name);
    if (c && c->cfg.EvtFileClose)
        c->cfg.EvtFileClose(visible(f) ? (WDFFILEOBJECT)f : NULL);
    file_delete(f);
}

void wdf_file_request_done(wdf_file_t *f)
{
    f->io--;
    f->pending = NULL;
    if (f->io == 0 && f->cleaned && !f->closed)
        file_close(f);
}

/* FlushAllQueuesByFileObject: every request of the handle still waiting in
 * one of the device's queues is canceled (EvtIoCanceledOnQueue or
 * STATUS_CANCELLED); a cancellation may change any queue, so restart. */
static void flush_queues(wdf_file_t *f)
{
    wdf_device_t *d = f->device;
    for (unsigned i = 0; i < d->nqueues; i++) {
        for (wdf_request_t *r = d->queues[i]->head; r; r = r->next) {
            if (r->file == f) {
                wdf_request_cancel(r);
                i = (unsigned)-1;
                break;
            }
        }
    }
}

void wdf_file_close_handle(wdf_file_t *f, int cancel_io)
{
    if (!f->handle_open)
        return;
    f->handle_open = 0; /* first: a second closer (the client, a notification) does nothing */
    if (cancel_io && f->pending) {
        SCHED_TRACE1("%s: client CancelIoEx", f->device->name);
        wdf_request_cancel(f->pending);
    }
    const wdf_file_config_t *c = f->device->file_cfg;
    SCHED_TRACE1("%s: IRP_MJ_CLEANUP", f->device->name);
    if (c && c->cfg.EvtFileCleanup)
        c->cfg.EvtFileCleanup(visible(f) ? (WDFFILEOBJECT)f : NULL);
    flush_queues(f);
    f->cleaned = 1;
    if (f->io == 0 && !f->closed)
        file_close(f);
}

unsigned wdf_file_close_handles_of(wdf_device_t *d)
{
    unsigned n = 0;
    /* A client that already closed its handle (overlapped I/O) but still
     * waits for the request cancels it too: the notification is about the
     * device, not the handle. Each cancel may run driver code that changes
     * the list: restart after it. */
    for (;;) {
        wdf_file_t *f = g_live;
        while (f && !(f->device == d && !f->handle_open && f->pending && f->pending->state != REQ_COMPLETED &&
                      f->pending->state != REQ_IDLE && !f->pending->cancel_requested))
            f = f->next;
        if (!f)
            break;
        SCHED_TRACE1("%s: client CancelIoEx (handle already closed, I/O pending)", d->name);
        wdf_request_cancel(f->pending); /* sets cancel_requested: not picked again */
    }
    for (;;) {
        wdf_file_t *f = g_live;
        while (f && !(f->device == d && f->handle_open))
            f = f->next;
        if (!f)
            return n;
        SCHED_TRACE1("%s: the client closes its handle (device change notification)", d->name);
        wdf_file_close_handle(f, 1);
        n++;
    }
}

void wdf_file_unload_check(struct tdf_image *img)
{
    for (wdf_file_t *f = g_live; f; f = f->next) {
        if (f->device->driver->image != img)
            continue;
        const wdf_file_config_t *c = f->device->file_cfg;
        const void *routine = c ? (f->cleaned ? (const void *)c->cfg.EvtFileClose : (const void *)c->cfg.EvtFileCleanup)
                                : NULL;
        char where[96];
        snprintf(where, sizeof where, "%s!unload", img->name);
        tdf_fail(TDF_CLASS_BUGCHECK, 0xCE, 0, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where,
                 "WDFFILEOBJECT", "image '%s' unloaded with a WDFFILEOBJECT of %s still open: its %s would call %s",
                 img->name, f->device->name, f->cleaned ? "IRP_MJ_CLOSE" : "IRP_MJ_CLEANUP",
                 routine ? symbol_name(routine) : "the framework's default handler");
        return;
    }
}
