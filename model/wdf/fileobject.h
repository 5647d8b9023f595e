/*
 * WDFFILEOBJECT internals (fileobject.c): one record per handle a client
 * opened on a device. KERNEL-SEMANTICS §12.
 */
#ifndef TDF_WDF_FILEOBJECT_H
#define TDF_WDF_FILEOBJECT_H

#include "wdf_internal.h"

typedef struct wdf_file_config {
    WDF_FILEOBJECT_CONFIG cfg;
    WDF_OBJECT_ATTRIBUTES attrs; /* of every WDFFILEOBJECT of the device */
    int has_attrs;
} wdf_file_config_t;

typedef struct wdf_file {
    wdf_object_t obj;
    wdf_device_t *device; /* referenced until IRP_MJ_CLOSE, as the file object references the device object */
    int handle_open;      /* the client's handle: CloseHandle sends IRP_MJ_CLEANUP */
    int cleaned;          /* EvtFileCleanup and the flush of the handle's queued requests ran */
    int closed;           /* IRP_MJ_CLOSE ran: EvtFileClose, the object deleted */
    unsigned io;          /* requests in flight on it; each references the file object */
    wdf_request_t *pending; /* the client's one request in flight (a stimulus sends one), for CancelIoEx */
    struct wdf_file *next; /* live file objects of the run, newest first */
} wdf_file_t;

/* IRP_MJ_CREATE from a client (PASSIVE_LEVEL, the calling thread): fails with
 * STATUS_DELETE_PENDING once a removal of the device is under way; else
 * EvtDeviceFileCreate (the driver completes the request; the thread waits
 * for it) or, without one, the framework's STATUS_SUCCESS. On success *out is
 * the open handle's file object. */
NTSTATUS wdf_file_open(wdf_device_t *d, wdf_file_t **out);
/* The client sends r on the handle (r references the file object). */
void wdf_file_attach(wdf_file_t *f, wdf_request_t *r);
/* The I/O manager drops a completed request's reference on its file object
 * (in the requesting thread, as IopCompleteRequest); after the handle's
 * cleanup the last one sends IRP_MJ_CLOSE. */
void wdf_file_request_done(wdf_file_t *f);
/* CloseHandle of the last handle: IRP_MJ_CLEANUP now (EvtFileCleanup, then
 * the framework cancels the handle's requests still waiting in queues),
 * IRP_MJ_CLOSE once no request of the handle is in flight. cancel_io: the
 * client first cancels its own I/O (CancelIoEx). No-op if already closed. */
void wdf_file_close_handle(wdf_file_t *f, int cancel_io);
/* A client holding a handle on d is told the device goes away (query-remove
 * or remove-complete notification) and closes it: CancelIoEx, CloseHandle.
 * Returns the number of handles closed. */
unsigned wdf_file_close_handles_of(wdf_device_t *d);
/* Image unload: a file object of the image still open is 0xCE. */
void wdf_file_unload_check(struct tdf_image *img);
void wdf_file_reset(void);

#endif
