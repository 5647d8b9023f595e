/*
 * model/kernel internals of the IRP path (irp.c, irp_cancel.c, csq.c): the
 * model's record in front of every IRP, and the hooks the device-object side
 * (model/wdf/wdm_device.c) provides. KERNEL-SEMANTICS §16.
 */
#ifndef TDF_KERNEL_IRP_H
#define TDF_KERNEL_IRP_H

#include "kernel.h"

/* Stack locations per IRP: a WDM stack of the model is at most a few devices
 * deep; IoAllocateIrp beyond it is LIMIT, not a driver finding. */
#define TDF_IRP_MAX_STACK 8

typedef enum irp_kind {
    IRP_KIND_DRIVER = 0, /* IoAllocateIrp: its owner frees or reuses it (its top completion routine
                            returns STATUS_MORE_PROCESSING_REQUIRED) */
    IRP_KIND_THREADED,   /* IoBuild*Request: the I/O manager frees it after the last completion routine */
    IRP_KIND_MODEL,      /* the PnP manager's and a client's: like THREADED, the model waits on it */
    IRP_KIND_KMDF,       /* a WDFREQUEST's IRP (WdfRequestWdmGetIrp): KMDF completes it */
} irp_kind_t;

typedef struct irp_rec {
    uint32_t magic;   /* IRP_REC_LIVE, or IRP_REC_FREED once freed: the record outlives the IRP */
    uint32_t id;      /* 1, 2, ... in allocation order within the run: traces name IRPs by it (no addresses) */
    uint8_t kind;     /* irp_kind_t */
    uint8_t completing; /* a completion walk is under way (nested IoCompleteRequest is legal only
                           from a completion routine that returned MORE_PROCESSING before) */
    uint8_t done;     /* the walk reached the top, or the top routine returned MORE_PROCESSING */
    struct tdf_image *owner; /* who allocated it (NULL: the model) */
    uint32_t complete_step;  /* the last IoCompleteRequest */
    char completer[96];      /* and where it ran */
    tdf_teardown_t completed_by; /* that IoCompleteRequest, as the teardown side of a later use by a driver
                                    that does not own the IRP (irp_fail_completed) */
    const char *completed_role;  /* the completing location's device by role ("wc_b/FDO"), NULL: none */
    char freer[96];          /* where IoFreeIrp ran */
    tdf_teardown_t freed_by; /* the free, as the fatal pair's teardown side of a later use */
    /* IoMarkIrpPending per location (1-based CurrentLocation): the stack
     * location's Control is zeroed as completion passes it, the model's
     * record of the mark is not. */
    uint8_t marked[TDF_IRP_MAX_STACK + 2];
    PDEVICE_OBJECT ex_device[TDF_IRP_MAX_STACK + 2]; /* IoSetCompletionRoutineEx's referenced device */
    uint8_t returned_pending[TDF_IRP_MAX_STACK + 2]; /* that location's dispatch returned STATUS_PENDING */
    struct tdf_image *completion_image[TDF_IRP_MAX_STACK + 2]; /* who set the location's completion routine */
    struct tdf_image *cancel_image; /* who set the cancel routine */
    struct irp_rec *next; /* every IRP of the run */
    void *request;        /* IRP_KIND_KMDF: its WDFREQUEST's record; a model IRP: the request sent with it */
    size_t body;  /* bytes of IRP + stack locations */
    IRP irp;      /* followed by the stack locations */
} irp_rec_t;

#define IRP_REC_LIVE 0x49525021u
#define IRP_REC_FREED 0x49525046u

/* The record of an IRP the model made, or NULL (not one of ours). */
irp_rec_t *irp_rec_of(PIRP irp);
unsigned irp_id(PIRP irp); /* its id, 0 for a pointer that is no IRP of the model */
/* A live IRP, else the bugcheck `routine`'s kernel raises for a stale one. */
irp_rec_t *irp_live(PIRP irp, const char *routine);
/* An IRP of the model itself (PnP manager, client I/O): threaded-style. */
PIRP irp_model_alloc(CCHAR stack_size);
/* Sends it and waits until the I/O manager's final completion: returns the
 * final status (the IRP is freed by then). */
NTSTATUS irp_send_and_wait(PDEVICE_OBJECT top, PIRP irp, PIO_STATUS_BLOCK iosb);
void irp_reset(void);
/* Image unload (image.c): a live IRP still holding a cancel or completion
 * routine of the image is 0xCE. */
void irp_unload_check(struct tdf_image *img);
/* IoCancelIrp without its yield point: for the model's client, which checked
 * that the IRP is live in the same step. */
BOOLEAN irp_cancel(PIRP irp);
/* A KMDF request's IRP: stack_size locations (its device's StackSize), the
 * top one current (wdm_escape.c fills it); NULL past TDF_IRP_MAX_STACK (LIMIT). */
PIRP irp_kmdf_alloc(void *request, CCHAR stack_size);
/* The framework completes a request's IRP that carries a completion routine
 * of the preprocess callback: IoCompleteRequest's checks and walk, from its
 * current location (wdm_escape.c). */
void irp_kmdf_complete(PIRP irp);
/* The model frees one of its own IRPs (or a request's) without the checks. */
void irp_free(PIRP irp);
/* IoCompleteRequest of a request's IRP: 1 if KMDF lets the driver complete
 * it (in its preprocess callback), 0 if not (wdm_escape.c). */
int wdm_kmdf_irp_complete(PIRP irp);

/* Device-object side (model/wdf/wdm_device.c). */
int io_device_valid(PDEVICE_OBJECT d); /* a device object the model made, not yet freed */
void io_device_reference(PDEVICE_OBJECT d);
void io_device_dereference(PDEVICE_OBJECT d);
const char *io_device_name(PDEVICE_OBJECT d);
/* Its role in signatures ("<driver image>/FDO|PDO", no instance number;
 * the string lives until the run ends), NULL for no live device object. */
const char *io_device_role(PDEVICE_OBJECT d);
/* A driver's use of a device object deleted since, after that driver closed
 * its file object on it (IoGetDeviceObjectPointer's reference): the release
 * is the first step that made its pointer stale, so the key names it,
 * device(<device role>):<releasing routine>:early-release, whichever routine
 * used the pointer and whichever check saw it (docs/REPORTS.md
 * "Signatures"). Fails with `code`/`subcode`/`name` and returns 1; 0 (the
 * caller reports as before) for anything else. */
int io_device_fail_stale(PVOID object, const char *routine, uint32_t code, uint32_t subcode, const char *name);
/* An IRP completion routine of `img`, at img's unload (still held by the
 * IRP, or running), whose IRP went to a device object img had let go of
 * (closed its file object on it) while the IRP was in flight, i.e. before
 * step `completed_at`, the IRP's IoCompleteRequest (UINT32_MAX: not
 * completed): the teardown released the device without waiting for its IRPs,
 * and that release is the key, as a send that meets the deleted device is
 * keyed (io_device_fail_stale): one missing wait, one key at both ends. A
 * release after the completion (a teardown that waited, woken by the routine
 * itself, which then still runs in the image) keeps the image's key. On a
 * match, *dead becomes the device object, keeping its access side
 * (access_fiber, access_frame; its key strings in `released`), and 1 is
 * returned; otherwise *dead is left as it is and 0 returned. */
int io_device_released_dead(tdf_dead_t *dead, PDEVICE_OBJECT sent_to, uint32_t completed_at,
                            const struct tdf_image *img, char *released, size_t size);
/* The device object the IRP of the completion routine `fiber` is running
 * went to (the location the walk left), or NULL outside one; *completed_at:
 * the step of the IoCompleteRequest whose walk called it. */
PDEVICE_OBJECT irp_completion_sent_to(int fiber, uint32_t *completed_at);

/* ObReferenceObject/ObDereferenceObject on device and file objects
 * (dispatcher.c asks first): 1 if it was one. */
int io_ob_reference(PVOID object, int delta);

/* Cancel spin lock (irp_cancel.c). */
void irp_cancel_reset(void);
int irp_cancel_lock_held_by_me(void);

#endif
