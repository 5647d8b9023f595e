/*
 * IRPs (KERNEL-SEMANTICS §16): allocation, the stack-location walk of
 * IoCallDriver into the next driver's MajorFunction[], IoCompleteRequest's
 * bottom-up walk of completion routines in the completer's context, and the
 * I/O manager's final stage for the IRPs it owns. The loop follows the
 * kernel's (the Windows Research Kernel's IopfCompleteRequest; facts
 * only): each location's routine runs with the IRP's current location already
 * moved up to its caller's, PendingReturned is that location's
 * SL_PENDING_RETURNED, a location without a routine propagates the pending
 * mark itself, and STATUS_MORE_PROCESSING_REQUIRED stops the walk.
 *
 * Every IRP has a model record in front of it that outlives it (until the
 * run ends): after IoFreeIrp the record says "freed", so a model routine
 * handed a stale IRP reports the kernel's bugcheck, the same in every build.
 */
#include "irp.h"
#include "tsan_sync.h"

#include <stdio.h>
#include <string.h>

static irp_rec_t *g_irps; /* every IRP of the run, newest first (records live until the run ends) */
static uint32_t g_next_id;

/* The completion routine each thread's I/O manager walk is calling, from
 * just before the call (the cross-image yield comes before the routine's
 * frame exists) until it returns; innermost only, the outer one restored
 * after. Static, not a local whose address escapes (ASan redzones). */
typedef struct {
    const struct tdf_image *image; /* NULL: none */
    PIO_COMPLETION_ROUTINE routine;
    PDEVICE_OBJECT sent_to; /* the location the walk left: where the IRP went (irp_completion_sent_to) */
    uint32_t completed_at;  /* the step of the IoCompleteRequest of this walk */
} completion_call_t;
static completion_call_t g_completion_call[SCHED_SLOT_COUNT];

PDEVICE_OBJECT irp_completion_sent_to(int fiber, uint32_t *completed_at)
{
    const completion_call_t *c = &g_completion_call[sched_fiber_index(fiber)];
    *completed_at = c->completed_at;
    return c->sent_to;
}

/* A thread the image's unload finds between the walk's call of one of its
 * completion routines and the routine's first frame: it would enter the
 * unloaded image next (0xCE, as if the IRP still held the routine). */
static void completion_entering_check(struct tdf_image *img)
{
    for (int f = 0; f < sched_fiber_count(); f++) {
        sched_state_t st = sched_fiber_state(f);
        const completion_call_t *c = &g_completion_call[sched_fiber_index(f)];
        if (st == SCHED_DONE || st == SCHED_FREE || c->image != img)
            continue;
        char where[96], released[96];
        snprintf(where, sizeof where, "%s!%s", img->name, symbol_name((const void *)c->routine));
        tdf_dead_t dead = {TDF_OBJ_IMAGE, img->name, &img->unloaded_by,
                           "image %s (an IRP's completion routine is being called)", {(uintptr_t)img->name},
                           .access_fiber = f + 1, .access_frame = where, .key_teardown = "unload"};
        io_device_released_dead(&dead, c->sent_to, c->completed_at, img, released, sizeof released);
        tdf_fail_dead(&dead, "completion routine called", TDF_CLASS_BUGCHECK, 0xCE, 0,
                      "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where, "IRP",
                      "image '%s' unloaded while thread '%s' is calling its completion routine %s: it would run in "
                      "the unloaded image", img->name, sched_fiber_name(f), where);
        return;
    }
}

void irp_reset(void)
{
    g_irps = NULL;
    g_next_id = 0;
    memset(g_completion_call, 0, sizeof g_completion_call); /* a run aborted inside a routine leaves it set */
    irp_cancel_reset();
}

void irp_unload_check(struct tdf_image *img)
{
    completion_entering_check(img);
    for (irp_rec_t *r = g_irps; r; r = r->next) {
        if (r->magic != IRP_REC_LIVE)
            continue;
        PIRP irp = &r->irp;
        /* The fatal pair, as a work item's or a DPC's at unload: the routine
         * that would run in the unloaded image is the access, so this and
         * the routine's call once the image is gone are one key
         * (image(<image>):<routine>:unload). */
        char where[96];
        tdf_dead_t dead = {TDF_OBJ_IMAGE, img->name, &img->unloaded_by, "image %s (an IRP still holds a routine of it)",
                           {(uintptr_t)img->name}, .key_teardown = "unload"};
        if (irp->CancelRoutine && r->cancel_image == img) {
            snprintf(where, sizeof where, "%s!%s", img->name, symbol_name((const void *)irp->CancelRoutine));
            tdf_fail_dead(&dead, "cancel routine set", TDF_CLASS_BUGCHECK, 0xCE, 0,
                          "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where, "IRP",
                          "image '%s' unloaded while it holds IRP #%u pending: its cancel routine %s would run in "
                          "the unloaded image", img->name, irp_id(irp), where);
            return;
        }
        PIO_STACK_LOCATION base = (PIO_STACK_LOCATION)(irp + 1);
        for (int loc = irp->CurrentLocation; loc <= irp->StackCount; loc++) {
            PIO_STACK_LOCATION sp = &base[loc - 1];
            if (sp->CompletionRoutine && r->completion_image[loc] == img) {
                snprintf(where, sizeof where, "%s!%s", img->name, symbol_name((const void *)sp->CompletionRoutine));
                /* The location's device is where the IRP went (IoCallDriver
                 * set it): let go of by this driver, the release is the key. */
                char released[96];
                dead.access_frame = where;
                io_device_released_dead(&dead, sp->DeviceObject, UINT32_MAX, img, released, sizeof released);
                tdf_fail_dead(&dead, "completion routine set", TDF_CLASS_BUGCHECK, 0xCE, 0,
                              "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where, "IRP",
                              "image '%s' unloaded while IRP #%u it sent is still pending: its completion routine "
                              "%s would run in the unloaded image", img->name, irp_id(irp), where);
                return;
            }
        }
    }
}

irp_rec_t *irp_rec_of(PIRP irp)
{
    if (!irp)
        return NULL;
    irp_rec_t *r = CONTAINING_RECORD(irp, irp_rec_t, irp);
    return r->magic == IRP_REC_LIVE || r->magic == IRP_REC_FREED ? r : NULL;
}

unsigned irp_id(PIRP irp)
{
    irp_rec_t *r = irp_rec_of(irp);
    return r ? r->id : 0;
}

/* A driver that did not allocate the IRP hands it to the kernel again after
 * an IoCompleteRequest passed its location: the IRP was no longer its to use
 * (for every driver but its owner an IRP ends at the completion that hands
 * it back; the owner's lives until its IoFreeIrp). The fatal pair is this use
 * and that completion, keyed as a request's (docs/REPORTS.md "Signatures"):
 * irp(<completing device>):<user>:<completer>, whether the IRP is still
 * there (0x44 at a second IoCompleteRequest) or freed since by its owner's
 * completion routine or the I/O manager (`state`): how far the completion
 * had got when the stale use landed, not another bug. A second completion by
 * the completer's own driver is unordered: either routine may come first.
 * Returns 0, for the caller's own report, when no completion is recorded or
 * the user is the IRP's owner. */
static int irp_fail_completed(irp_rec_t *r, const char *routine, uint32_t code, const char *name, const char *state)
{
    const struct tdf_image *me = image_current();
    if (!r->completed_by.event || !me || me == r->owner)
        return 0;
    const char *role = r->completed_role    ? r->completed_role
                       : r->completed_by.image ? r->completed_by.image->name
                                               : "io-manager";
    int second_completion = strcmp(routine, "IoCompleteRequest") == 0;
    tdf_dead_t dead = {TDF_OBJ_IRP, role, &r->completed_by, "IRP #%lu completed by %s",
                       {(uintptr_t)(unsigned long)r->id, (uintptr_t)role},
                       .unordered = second_completion && r->completed_by.image == me};
    tdf_fail_dead(&dead, routine, TDF_CLASS_BUGCHECK, code, 0, name, NULL, NULL,
                  "%s on IRP #%u, %s: it was completed by %s at step %lu and is no longer this driver's", routine,
                  (unsigned)r->id, state, r->completer, (unsigned long)r->complete_step);
    return 1;
}

irp_rec_t *irp_live(PIRP irp, const char *routine)
{
    irp_rec_t *r = irp_rec_of(irp);
    if (!r) {
        TDF_BUGCHECK(0xC9, 0x3, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                     "%s on a pointer that is not an IRP (Type is not IO_TYPE_IRP)", routine);
        return NULL;
    }
    if (r->magic == IRP_REC_FREED) {
        /* The kernel reads a freed IRP: with Driver Verifier's special pool
         * the page is gone (0x50); IoCompleteRequest's own check is 0x44.
         * The fatal pair: this use and the free (irp_release's record); the
         * IRP is pool of the driver that allocated it (the I/O manager's for
         * the model's own IRPs). */
        int completion = strcmp(routine, "IoCompleteRequest") == 0;
        if (irp_fail_completed(r, routine, completion ? 0x44 : 0x50,
                               completion ? "MULTIPLE_IRP_COMPLETE_REQUESTS" : "PAGE_FAULT_IN_NONPAGED_AREA",
                               "freed since"))
            return NULL;
        const char *owner = r->owner ? r->owner->name : "io-manager";
        tdf_dead_t dead = {TDF_OBJ_POOL, owner, &r->freed_by, "IRP #%lu of %s (freed)",
                           {(uintptr_t)(unsigned long)r->id, (uintptr_t)owner}};
        if (completion)
            tdf_fail_dead(&dead, routine, TDF_CLASS_BUGCHECK, 0x44, 0, "MULTIPLE_IRP_COMPLETE_REQUESTS", NULL, NULL,
                          "IoCompleteRequest on IRP #%u, already completed and freed (freed by %s)", irp_id(irp),
                          r->freer);
        else
            tdf_fail_dead(&dead, routine, TDF_CLASS_BUGCHECK, 0x50, 0, "PAGE_FAULT_IN_NONPAGED_AREA", NULL, NULL,
                          "%s on IRP #%u, which was freed (by %s)", routine, irp_id(irp), r->freer);
        return NULL;
    }
    return r;
}

static void irp_release(irp_rec_t *r, const char *who);

static PIRP irp_new(CCHAR stack_size, irp_kind_t kind, const char *routine)
{
    if (stack_size < 1 || stack_size > TDF_IRP_MAX_STACK) {
        if (stack_size < 1)
            TdfUnmodelled(routine, "a StackSize below 1");
        TDF_LIMIT(TDF_IRP_MAX_STACK, "model/kernel/irp.h", "%s with StackSize %d", routine, (int)stack_size);
        return NULL;
    }
    size_t body = sizeof(IRP) + (size_t)stack_size * sizeof(IO_STACK_LOCATION);
    irp_rec_t *r = pool_alloc_model(offsetof(irp_rec_t, irp) + body);
    r->magic = IRP_REC_LIVE;
    r->kind = (uint8_t)kind;
    r->owner = kind == IRP_KIND_MODEL ? NULL : image_current();
    r->body = body;
    r->next = g_irps;
    g_irps = r;
    r->id = ++g_next_id;
    PIRP irp = &r->irp;
    irp->Type = IO_TYPE_IRP;
    irp->Size = (USHORT)body;
    irp->StackCount = stack_size;
    irp->CurrentLocation = (CCHAR)(stack_size + 1);
    irp->Tail.Overlay.CurrentStackLocation = (PIO_STACK_LOCATION)(irp + 1) + stack_size;
    irp->IoStatus.Status = STATUS_SUCCESS;
    return irp;
}

PIRP irp_model_alloc(CCHAR stack_size) { return irp_new(stack_size, IRP_KIND_MODEL, "IoCallDriver"); }

PIRP irp_kmdf_alloc(void *request, CCHAR stack_size)
{
    PIRP irp = irp_new(stack_size, IRP_KIND_KMDF, "WdfRequestWdmGetIrp");
    if (!irp)
        return NULL;
    irp_rec_of(irp)->request = request;
    irp->CurrentLocation = stack_size; /* the top location: the KMDF device's, as the I/O manager sent it */
    irp->Tail.Overlay.CurrentStackLocation--;
    return irp;
}

void irp_free(PIRP irp)
{
    irp_rec_t *r = irp_rec_of(irp);
    if (r && r->magic == IRP_REC_LIVE)
        irp_release(r, "the framework");
}

PIRP IoAllocateIrp(CCHAR StackSize, BOOLEAN ChargeQuota)
{
    (void)ChargeQuota;
    ke_yield();
    PIRP irp = irp_new(StackSize, IRP_KIND_DRIVER, "IoAllocateIrp");
    SCHED_TRACE2("IoAllocateIrp(%d) -> #%u", (int)StackSize, irp_id(irp));
    return irp;
}

USHORT IoSizeOfIrp(CCHAR StackSize) { return (USHORT)(sizeof(IRP) + (size_t)StackSize * sizeof(IO_STACK_LOCATION)); }

static void irp_release(irp_rec_t *r, const char *who)
{
    snprintf(r->freer, sizeof r->freer, "%s", who);
    tdf_teardown_note(&r->freed_by, "IRP freed");
    r->magic = IRP_REC_FREED;
    /* The bytes stay as they were (not poisoned, not filled): a driver that
     * reads a stale IRP reads the same in every build, and the model routine
     * it hands the IRP to next reports it (docs/WRITING-A-TARGET.md "What the
     * model cannot find": the read itself is not reported). */
}

VOID IoFreeIrp(PIRP Irp)
{
    ke_yield();
    irp_rec_t *r = irp_rec_of(Irp);
    if (r && r->magic == IRP_REC_FREED) {
        TDF_BUGCHECK(0xC2, 0x7, "BAD_POOL_CALLER", "IoFreeIrp of IRP #%u, already freed (by %s)", irp_id(Irp),
                     r->freer);
        return;
    }
    if (!(r = irp_live(Irp, "IoFreeIrp")))
        return;
    if (r->kind == IRP_KIND_KMDF) {
        TDF_MISUSE("IoFreeIrp", "IoFreeIrp of IRP #%u, a WDFREQUEST's (WdfRequestWdmGetIrp): the framework frees it",
                   irp_id(Irp));
        return;
    }
    if (r->kind != IRP_KIND_DRIVER) {
        TDF_BUGCHECK(0xC9, 0x2, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                     "IoFreeIrp of IRP #%u, built by IoBuild*Request: it belongs to the I/O manager, which frees "
                     "it after its completion",
                     irp_id(Irp));
        return;
    }
    if (Irp->CancelRoutine) {
        TDF_BUGCHECK(0xC9, 0x7, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                     "IoFreeIrp of IRP #%u with cancel routine %s still set", irp_id(Irp),
                     symbol_name((const void *)Irp->CancelRoutine));
        return;
    }
    if (Irp->CurrentLocation <= Irp->StackCount) {
        /* some driver's location is current: a lower driver still holds it */
        TDF_MISUSE("IRP_FREED_WHILE_IN_USE",
                   "IoFreeIrp of IRP #%u while a driver below still owns it (current location %d of %d): the "
                   "owner frees its IRP only once it came back (its completion routine ran)",
                   irp_id(Irp), (int)Irp->CurrentLocation, (int)Irp->StackCount);
        return;
    }
    char where[96];
    image_current_frame(where, sizeof where);
    SCHED_TRACE1("IoFreeIrp #%u", irp_id(Irp));
    irp_release(r, where);
}

VOID IoReuseIrp(PIRP Irp, NTSTATUS Iostatus)
{
    ke_yield();
    irp_rec_t *r = irp_live(Irp, "IoReuseIrp");
    if (!r)
        return;
    if (Irp->CancelRoutine) {
        TDF_BUGCHECK(0xC9, 0x7, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                     "IoReuseIrp of IRP #%u with cancel routine %s still set", irp_id(Irp),
                     symbol_name((const void *)Irp->CancelRoutine));
        return;
    }
    if (Irp->CurrentLocation <= Irp->StackCount) {
        TDF_MISUSE("IRP_REUSED_WHILE_IN_USE",
                   "IoReuseIrp of IRP #%u while a driver below still owns it (current location %d of %d)",
                   irp_id(Irp), (int)Irp->CurrentLocation, (int)Irp->StackCount);
        return;
    }
    CCHAR n = Irp->StackCount;
    memset(Irp, 0, r->body);
    Irp->Type = IO_TYPE_IRP;
    Irp->Size = (USHORT)r->body;
    Irp->StackCount = n;
    Irp->CurrentLocation = (CCHAR)(n + 1);
    Irp->Tail.Overlay.CurrentStackLocation = (PIO_STACK_LOCATION)(Irp + 1) + n;
    Irp->IoStatus.Status = Iostatus;
    memset(r->marked, 0, sizeof r->marked);
    memset(r->ex_device, 0, sizeof r->ex_device);
    memset(r->returned_pending, 0, sizeof r->returned_pending);
    memset(r->completion_image, 0, sizeof r->completion_image);
    r->done = 0;
    r->completing = 0;
}

/* ---- stack locations (not yield points) ---- */
static PIO_STACK_LOCATION stack_base(PIRP irp) { return (PIO_STACK_LOCATION)(irp + 1); }

PIO_STACK_LOCATION IoGetCurrentIrpStackLocation(PIRP Irp)
{
    if (!irp_live(Irp, "IoGetCurrentIrpStackLocation"))
        return NULL;
    return Irp->Tail.Overlay.CurrentStackLocation;
}

PIO_STACK_LOCATION IoGetNextIrpStackLocation(PIRP Irp)
{
    if (!irp_live(Irp, "IoGetNextIrpStackLocation"))
        return NULL;
    if (Irp->CurrentLocation <= 1) {
        TDF_BUGCHECK(0x35, 0, "NO_MORE_IRP_STACK_LOCATIONS",
                     "IoGetNextIrpStackLocation on IRP #%u at its last location: no location below", irp_id(Irp));
        return NULL;
    }
    return Irp->Tail.Overlay.CurrentStackLocation - 1;
}

VOID IoCopyCurrentIrpStackLocationToNext(PIRP Irp)
{
    PIO_STACK_LOCATION cur = IoGetCurrentIrpStackLocation(Irp), next = IoGetNextIrpStackLocation(Irp);
    if (!cur || !next)
        return;
    /* everything but the completion routine, its context and Control */
    memcpy(next, cur, offsetof(IO_STACK_LOCATION, CompletionRoutine));
    next->Control = 0;
    next->CompletionRoutine = NULL;
    next->Context = NULL;
}

VOID IoSkipCurrentIrpStackLocation(PIRP Irp)
{
    if (!irp_live(Irp, "IoSkipCurrentIrpStackLocation"))
        return;
    if (Irp->CurrentLocation > Irp->StackCount) {
        TdfUnmodelled("IoSkipCurrentIrpStackLocation", "an IRP that no driver received yet (no current location)");
    }
    Irp->CurrentLocation++;
    Irp->Tail.Overlay.CurrentStackLocation++;
}

VOID IoSetNextIrpStackLocation(PIRP Irp)
{
    if (!irp_live(Irp, "IoSetNextIrpStackLocation"))
        return;
    Irp->CurrentLocation--;
    Irp->Tail.Overlay.CurrentStackLocation--;
}

VOID IoMarkIrpPending(PIRP Irp)
{
    irp_rec_t *r = irp_live(Irp, "IoMarkIrpPending");
    if (!r)
        return;
    if (Irp->CurrentLocation > Irp->StackCount) {
        TDF_MISUSE("IoMarkIrpPending", "IoMarkIrpPending on IRP #%u at its top: no driver's location is current",
                   irp_id(Irp));
        return;
    }
    Irp->Tail.Overlay.CurrentStackLocation->Control |= SL_PENDING_RETURNED;
    r->marked[(int)Irp->CurrentLocation] = 1;
}

static void set_completion(PIRP Irp, PIO_COMPLETION_ROUTINE routine, PVOID context, BOOLEAN on_success,
                           BOOLEAN on_error, BOOLEAN on_cancel)
{
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(Irp);
    if (!next)
        return;
    next->CompletionRoutine = routine;
    next->Context = context;
    irp_rec_of(Irp)->completion_image[Irp->CurrentLocation - 1] = image_current();
    next->Control = 0;
    if (on_success)
        next->Control |= SL_INVOKE_ON_SUCCESS;
    if (on_error)
        next->Control |= SL_INVOKE_ON_ERROR;
    if (on_cancel)
        next->Control |= SL_INVOKE_ON_CANCEL;
}

VOID IoSetCompletionRoutine(PIRP Irp, PIO_COMPLETION_ROUTINE CompletionRoutine, PVOID Context,
                            BOOLEAN InvokeOnSuccess, BOOLEAN InvokeOnError, BOOLEAN InvokeOnCancel)
{
    set_completion(Irp, CompletionRoutine, Context, InvokeOnSuccess, InvokeOnError, InvokeOnCancel);
}

NTSTATUS IoSetCompletionRoutineEx(PDEVICE_OBJECT DeviceObject, PIRP Irp, PIO_COMPLETION_ROUTINE CompletionRoutine,
                                  PVOID Context, BOOLEAN InvokeOnSuccess, BOOLEAN InvokeOnError,
                                  BOOLEAN InvokeOnCancel)
{
    ke_yield();
    irp_rec_t *r = irp_live(Irp, "IoSetCompletionRoutineEx");
    if (!r)
        return STATUS_INVALID_PARAMETER;
    if (!io_device_valid(DeviceObject))
        TdfUnmodelled("IoSetCompletionRoutineEx", "a DeviceObject that is not a live device object");
    set_completion(Irp, CompletionRoutine, Context, InvokeOnSuccess, InvokeOnError, InvokeOnCancel);
    /* The I/O manager's wrapper holds the device object until the routine
     * ran: the routine's driver cannot unload under it. */
    int loc = Irp->CurrentLocation - 1;
    if (r->ex_device[loc])
        io_device_dereference(r->ex_device[loc]);
    io_device_reference(DeviceObject);
    r->ex_device[loc] = DeviceObject;
    return STATUS_SUCCESS;
}

/* ---- build requests (threaded IRPs) ---- */
PIRP IoBuildDeviceIoControlRequest(ULONG IoControlCode, PDEVICE_OBJECT DeviceObject, PVOID InputBuffer,
                                   ULONG InputBufferLength, PVOID OutputBuffer, ULONG OutputBufferLength,
                                   BOOLEAN InternalDeviceIoControl, PKEVENT Event, PIO_STATUS_BLOCK IoStatusBlock)
{
    ke_yield();
    if (!io_device_valid(DeviceObject)) {
        TDF_BUGCHECK(0xC9, 0x4, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                     "IoBuildDeviceIoControlRequest with a pointer that is not a live device object");
        return NULL;
    }
    PIRP irp = irp_new(DeviceObject->StackSize, IRP_KIND_THREADED, "IoBuildDeviceIoControlRequest");
    if (!irp)
        return NULL;
    PIO_STACK_LOCATION sp = irp->Tail.Overlay.CurrentStackLocation - 1;
    sp->MajorFunction = InternalDeviceIoControl ? IRP_MJ_INTERNAL_DEVICE_CONTROL : IRP_MJ_DEVICE_CONTROL;
    sp->Parameters.DeviceIoControl.IoControlCode = IoControlCode;
    sp->Parameters.DeviceIoControl.InputBufferLength = InputBufferLength;
    sp->Parameters.DeviceIoControl.OutputBufferLength = OutputBufferLength;
    /* Every transfer type is given the caller's buffers as they are (no
     * system buffer copy, no MDL): METHOD_BUFFERED drivers read and write
     * SystemBuffer, the others Type3InputBuffer / UserBuffer. */
    irp->AssociatedIrp.SystemBuffer = InputBuffer ? InputBuffer : OutputBuffer;
    sp->Parameters.DeviceIoControl.Type3InputBuffer = InputBuffer;
    irp->UserBuffer = OutputBuffer;
    irp->UserEvent = Event;
    irp->UserIosb = IoStatusBlock;
    return irp;
}

PIRP IoBuildSynchronousFsdRequest(ULONG MajorFunction, PDEVICE_OBJECT DeviceObject, PVOID Buffer, ULONG Length,
                                  PLARGE_INTEGER StartingOffset, PKEVENT Event, PIO_STATUS_BLOCK IoStatusBlock)
{
    ke_yield();
    if (!io_device_valid(DeviceObject)) {
        TDF_BUGCHECK(0xC9, 0x4, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                     "IoBuildSynchronousFsdRequest with a pointer that is not a live device object");
        return NULL;
    }
    if (MajorFunction != IRP_MJ_READ && MajorFunction != IRP_MJ_WRITE && MajorFunction != IRP_MJ_FLUSH_BUFFERS &&
        MajorFunction != IRP_MJ_SHUTDOWN && MajorFunction != IRP_MJ_PNP && MajorFunction != IRP_MJ_POWER)
        TdfUnmodelled("IoBuildSynchronousFsdRequest", "a MajorFunction it does not take");
    PIRP irp = irp_new(DeviceObject->StackSize, IRP_KIND_THREADED, "IoBuildSynchronousFsdRequest");
    if (!irp)
        return NULL;
    PIO_STACK_LOCATION sp = irp->Tail.Overlay.CurrentStackLocation - 1;
    sp->MajorFunction = (UCHAR)MajorFunction;
    if (MajorFunction == IRP_MJ_READ || MajorFunction == IRP_MJ_WRITE) {
        sp->Parameters.Read.Length = Length;
        if (StartingOffset)
            sp->Parameters.Read.ByteOffset = *StartingOffset;
        irp->AssociatedIrp.SystemBuffer = Buffer;
        irp->UserBuffer = Buffer;
    }
    if (MajorFunction == IRP_MJ_PNP)
        irp->IoStatus.Status = STATUS_NOT_SUPPORTED; /* PnP IRPs start so (Learn's rule for senders) */
    irp->UserEvent = Event;
    irp->UserIosb = IoStatusBlock;
    return irp;
}

/* ---- sending ---- */
static NTSTATUS invalid_request(PDEVICE_OBJECT d, PIRP irp)
{
    (void)d;
    irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return STATUS_INVALID_DEVICE_REQUEST;
}

/* Found when the dispatch routine returns (completed past its location
 * already) or when completion leaves the location (returned before): one
 * bug, named in both by the location's dispatch routine, image!routine, so
 * the two forms are one key. */
static void pending_not_marked(irp_rec_t *r, int loc, PDEVICE_OBJECT dev, PDRIVER_DISPATCH dispatch)
{
    char who[96];
    const char *role = io_device_role(dev);
    if (role && dispatch)
        snprintf(who, sizeof who, "%.*s!%s", (int)strcspn(role, "/"), role, symbol_name((const void *)dispatch));
    else /* the device object is gone: its name is all there is */
        snprintf(who, sizeof who, "%s", io_device_name(dev));
    tdf_fail(TDF_CLASS_MISUSE, 0, 0, "PENDING_NOT_MARKED", who, NULL,
             "IRP #%u: the dispatch routine at stack location %d returned STATUS_PENDING but the location was not "
             "marked pending when completion left it (no IoMarkIrpPending in the dispatch routine, or its "
             "completion routine did not propagate Irp->PendingReturned): the I/O manager completes it as if "
             "it finished synchronously",
             irp_id(&r->irp), loc);
}

NTSTATUS IoCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    ke_yield(); /* the window between building the IRP and the lower driver's dispatch */
    irp_rec_t *r = irp_live(Irp, "IoCallDriver");
    if (!r)
        return STATUS_INVALID_PARAMETER;
    if (r->kind == IRP_KIND_KMDF)
        TdfUnmodelled("IoCallDriver", "a WDFREQUEST's IRP (WdfRequestWdmGetIrp) sent on with IoCallDriver");
    if (!io_device_valid(DeviceObject)) {
        if (!io_device_fail_stale(DeviceObject, "IoCallDriver", 0xC9, 0x4, "DRIVER_VERIFIER_IOMANAGER_VIOLATION"))
            TDF_BUGCHECK(0xC9, 0x4, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                         "IoCallDriver with a pointer that is not a live device object (deleted, or never one)");
        return STATUS_INVALID_PARAMETER;
    }
    KIRQL before = ke_irql();
    if (before > DISPATCH_LEVEL) {
        TDF_BUGCHECK(0xC9, 0x10, "DRIVER_VERIFIER_IOMANAGER_VIOLATION", "IoCallDriver at IRQL %u",
                     (unsigned)before);
        return STATUS_INVALID_PARAMETER;
    }
    if (Irp->CurrentLocation <= 1) {
        TDF_BUGCHECK(0x35, 0, "NO_MORE_IRP_STACK_LOCATIONS",
                     "IoCallDriver of IRP #%u to %s: no stack location left for it (StackCount %d)", irp_id(Irp),
                     io_device_name(DeviceObject), (int)Irp->StackCount);
        return STATUS_INVALID_PARAMETER;
    }
    Irp->CurrentLocation--;
    Irp->Tail.Overlay.CurrentStackLocation--;
    int loc = Irp->CurrentLocation;
    PIO_STACK_LOCATION sp = Irp->Tail.Overlay.CurrentStackLocation;
    sp->DeviceObject = DeviceObject;
    r->marked[loc] = 0;
    PDRIVER_DISPATCH dispatch = DeviceObject->DriverObject->MajorFunction[sp->MajorFunction];
    if (!dispatch)
        dispatch = invalid_request;
    SCHED_TRACE3("IoCallDriver #%u -> %s major 0x%x", irp_id(Irp), io_device_name(DeviceObject),
                 (unsigned)sp->MajorFunction);
    /* The device object stays referenced across the dispatch routine (the
     * caller's reference, which IoCallDriver's callers must hold). */
    io_device_reference(DeviceObject);
    unsigned saved = image_irql_rule_begin(IRQL_RETURN_CALLER); /* checked below: 0xC9/0x5 */
    NTSTATUS st = dispatch(DeviceObject, Irp);
    image_irql_rule_end(saved);
    io_device_dereference(DeviceObject);
    KIRQL after = ke_irql();
    if (after != before) {
        TDF_BUGCHECK(0xC9, 0x5, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                     "the dispatch routine %s for %s returned at IRQL %u, entered at %u",
                     symbol_name((const void *)dispatch), io_device_name(DeviceObject), (unsigned)after,
                     (unsigned)before);
        return st;
    }
    /* The pending contract (Learn, IoMarkIrpPending): STATUS_PENDING only
     * with the location marked -- in the dispatch routine, or, for an IRP
     * passed down, by the completion routine propagating PendingReturned --
     * and a mark only with STATUS_PENDING. */
    if (st == STATUS_PENDING) {
        r->returned_pending[loc] = 1;
        /* Completed past this location already: its mark is final. */
        if (!r->marked[loc] && (r->magic == IRP_REC_FREED || Irp->CurrentLocation > loc))
            pending_not_marked(r, loc, DeviceObject, dispatch); /* sp is cleared once completion passed it */
    } else if (st != STATUS_PENDING && r->marked[loc])
        tdf_fail(TDF_CLASS_MISUSE, 0, 0, "MARKED_PENDING_NOT_RETURNED", symbol_name((const void *)dispatch), NULL,
                 "%s marked IRP #%u pending and returned 0x%lx, not STATUS_PENDING", symbol_name((const void *)dispatch),
                 irp_id(Irp), (unsigned long)(uint32_t)st);
    return st;
}

NTSTATUS PoCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp) { return IoCallDriver(DeviceObject, Irp); }

VOID PoStartNextPowerIrp(PIRP Irp)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* shared state, no yield first: footprints (sched.h) */
    if (irp_live(Irp, "PoStartNextPowerIrp"))
        SCHED_TRACE1("PoStartNextPowerIrp #%u", irp_id(Irp));
}

/* ---- completing ---- */
/* A completion routine that had to stop the walk returned something other
 * than STATUS_MORE_PROCESSING_REQUIRED: it freed the IRP (the walk goes on
 * with freed memory, 0x50), or it is the owner's routine of an IRP from
 * IoAllocateIrp (the walk reaches the top of an IRP the I/O manager has no
 * thread for, MISUSE). One bug, whichever the schedule shows (a canceller's
 * reference may keep the IRP from being freed): keyed by that routine,
 * irp(<its driver>):<routine>:not-more-processing. `freed_by`: the free,
 * the fatal pair's teardown side, NULL when there is none. */
static void fail_walk_not_stopped(irp_rec_t *r, const struct tdf_image *img, PIO_COMPLETION_ROUTINE routine,
                                  const tdf_teardown_t *freed_by, tdf_class_t cls, uint32_t code, const char *name,
                                  const char *where, const char *caller, const char *detail)
{
    char frame[96];
    snprintf(frame, sizeof frame, "%s!%s", img ? img->name : "model", symbol_name((const void *)routine));
    tdf_dead_t dead = {TDF_OBJ_IRP, img ? img->name : "model", freed_by, "IRP #%lu (its completion walk not stopped)",
                       {(uintptr_t)(unsigned long)r->id}, .key_access = frame,
                       .key_teardown = "not-more-processing"};
    tdf_fail_dead(&dead, "completion routine returned", cls, code, 0, name, where, caller, "%s", detail);
}

/* The I/O manager's final stage for the IRPs it owns: the status block, the
 * event, the IRP freed. `last`/`last_img`: the walk's last completion routine
 * that ran (NULL: none). */
static void final_completion(irp_rec_t *r, PIO_COMPLETION_ROUTINE last, const struct tdf_image *last_img)
{
    PIRP irp = &r->irp;
    if (r->kind == IRP_KIND_DRIVER) {
        char here[96], detail[320];
        image_current_frame(here, sizeof here);
        const char *owner = r->owner ? r->owner->name : "model";
        snprintf(detail, sizeof detail,
                 "IRP #%u from IoAllocateIrp completed to its top%s%s: its owner's completion routine must return "
                 "STATUS_MORE_PROCESSING_REQUIRED and free or reuse it (the I/O manager would queue the "
                 "completion to a thread the IRP does not have)",
                 irp_id(irp), last ? ", past " : "", last ? symbol_name((const void *)last) : "");
        if (last)
            fail_walk_not_stopped(r, last_img, last, NULL, TDF_CLASS_MISUSE, 0, "IRP_COMPLETED_PAST_ITS_OWNER", here,
                                  owner, detail);
        else
            tdf_fail(TDF_CLASS_MISUSE, 0, 0, "IRP_COMPLETED_PAST_ITS_OWNER", here, owner, "%s", detail);
        return;
    }
    PIO_STATUS_BLOCK iosb = irp->UserIosb;
    PKEVENT ev = irp->UserEvent;
    IO_STATUS_BLOCK st = irp->IoStatus;
    irp_release(r, "the I/O manager");
    if (iosb)
        *iosb = st;
    if (ev) {
        KeSetEvent(ev, IO_NO_INCREMENT, FALSE);
        sched_step_touch(NULL, SCHED_FP_GLOBAL); /* model code goes on after KeSetEvent's step (footprints, sched.h) */
    }
}

static void complete_walk(irp_rec_t *r, PIRP Irp);

VOID IoCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    (void)PriorityBoost;
    ke_yield();
    irp_rec_t *r = irp_live(Irp, "IoCompleteRequest");
    if (!r)
        return;
    if (r->kind == IRP_KIND_KMDF) {
        if (!wdm_kmdf_irp_complete(Irp))
            TDF_MISUSE("IoCompleteRequest",
                       "IoCompleteRequest of IRP #%u, a WDFREQUEST's dispatched to the framework: complete the "
                       "request (WdfRequestComplete)", irp_id(Irp));
        return;
    }
    complete_walk(r, Irp);
}

void irp_kmdf_complete(PIRP irp)
{
    irp_rec_t *r = irp_rec_of(irp);
    if (r && r->magic == IRP_REC_LIVE)
        complete_walk(r, irp);
}

/* IoCompleteRequest's checks and its bottom-up walk of the completion
 * routines, from the IRP's current location. */
static void complete_walk(irp_rec_t *r, PIRP Irp)
{
    char here[96];
    image_current_frame(here, sizeof here);
    KIRQL irql = ke_irql();
    if (irql > DISPATCH_LEVEL) {
        TDF_BUGCHECK(0xC9, 0xE, "DRIVER_VERIFIER_IOMANAGER_VIOLATION", "IoCompleteRequest at IRQL %u",
                     (unsigned)irql);
        return;
    }
    if (Irp->CurrentLocation > Irp->StackCount) {
        if (irp_fail_completed(r, "IoCompleteRequest", 0x44, "MULTIPLE_IRP_COMPLETE_REQUESTS",
                               "which no driver holds"))
            return;
        tdf_fail(TDF_CLASS_BUGCHECK, 0x44, 0, "MULTIPLE_IRP_COMPLETE_REQUESTS", here, r->completer,
                 "IoCompleteRequest on IRP #%u, which no driver holds: it was completed already (by %s at step %lu)",
                 irp_id(Irp), r->completer, (unsigned long)r->complete_step);
        return;
    }
    if (Irp->IoStatus.Status == STATUS_PENDING || Irp->IoStatus.Status == -1) {
        TDF_BUGCHECK(0xC9, 0x6, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                     "IoCompleteRequest of IRP #%u with IoStatus.Status 0x%lx (pending)", irp_id(Irp),
                     (unsigned long)(uint32_t)Irp->IoStatus.Status);
        return;
    }
    if (Irp->CancelRoutine) {
        TDF_BUGCHECK(0xC9, 0x7, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                     "IoCompleteRequest of IRP #%u with its cancel routine %s still set", irp_id(Irp),
                     symbol_name((const void *)Irp->CancelRoutine));
        return;
    }
    snprintf(r->completer, sizeof r->completer, "%s", here);
    r->complete_step = sched_steps();
    SCHED_TRACE2("IoCompleteRequest #%u status 0x%lx", irp_id(Irp), (unsigned long)(uint32_t)Irp->IoStatus.Status);
    /* After the trace event: the teardown side points at it. The location
     * completing is the current one (checked above). */
    tdf_teardown_note(&r->completed_by, "IoCompleteRequest");
    r->completed_role = io_device_role(Irp->Tail.Overlay.CurrentStackLocation->DeviceObject);
    TDF_HB_RELEASE(Irp); /* the completer's writes reach the completion routines and the waiter */
    r->completing = 1;
    PIO_STACK_LOCATION sp = Irp->Tail.Overlay.CurrentStackLocation;
    PIO_COMPLETION_ROUTINE last = NULL; /* the last routine that ran, and its driver */
    const struct tdf_image *last_img = NULL;
    for (;;) {
        int leaving = Irp->CurrentLocation;
        if (r->returned_pending[leaving] && !r->marked[leaving]) {
            PIO_STACK_LOCATION base = stack_base(Irp);
            PDEVICE_OBJECT dev = base[leaving - 1].DeviceObject; /* not cleared yet: the walk leaves it next */
            pending_not_marked(r, leaving, dev,
                               dev && dev->DriverObject ? dev->DriverObject->MajorFunction[base[leaving - 1].MajorFunction]
                                                        : NULL);
            return;
        }
        Irp->CurrentLocation++;
        Irp->Tail.Overlay.CurrentStackLocation++;
        if (Irp->CurrentLocation > Irp->StackCount + 1)
            break;
        int loc = Irp->CurrentLocation;
        Irp->PendingReturned = (sp->Control & SL_PENDING_RETURNED) != 0;
        NTSTATUS status = Irp->IoStatus.Status;
        PIO_COMPLETION_ROUTINE routine = sp->CompletionRoutine;
        PVOID context = sp->Context;
        int invoke = routine && ((NT_SUCCESS(status) && (sp->Control & SL_INVOKE_ON_SUCCESS)) ||
                                 (!NT_SUCCESS(status) && (sp->Control & SL_INVOKE_ON_ERROR)) ||
                                 (Irp->Cancel && (sp->Control & SL_INVOKE_ON_CANCEL)));
        PDEVICE_OBJECT ex = r->ex_device[loc - 1];
        r->ex_device[loc - 1] = NULL;
        PDEVICE_OBJECT sent_to = sp->DeviceObject; /* the location left: where the IRP went */
        memset(sp, 0, sizeof *sp);
        if (invoke) {
            PDEVICE_OBJECT dev = loc == Irp->StackCount + 1 ? NULL : Irp->Tail.Overlay.CurrentStackLocation->DeviceObject;
            TDF_HB_ACQUIRE(Irp);
            SCHED_TRACE1("completion routine %s", symbol_name((const void *)routine));
            last = routine;
            last_img = r->completion_image[loc - 1];
            /* Called by the I/O manager, not by the completing driver: a
             * completion routine is entered from the kernel (no cross-driver
             * call key for what it meets), as a framework callback is. */
            unsigned saved = image_callback_begin(), saved_completion = image_completion_begin();
            completion_call_t *call = &g_completion_call[sched_current_index()], outer = *call;
            *call = (completion_call_t){last_img, routine, sent_to, r->completed_by.step};
            /* No verifier compares its IRQLs: one it leaves raised stays with
             * the completing thread, whose worker returns with it (0xE1). */
            unsigned saved_rule = image_irql_rule_begin(IRQL_RETURN_WORKER);
            NTSTATUS rs = routine(dev, Irp, context);
            image_irql_rule_end(saved_rule);
            *call = outer;
            image_completion_end(saved_completion);
            image_callback_end(saved);
            if (ex)
                io_device_dereference(ex);
            if (r->magic == IRP_REC_FREED) {
                if (rs == STATUS_MORE_PROCESSING_REQUIRED)
                    return; /* freed by its owner, who stopped the walk: fine */
                char detail[320];
                snprintf(detail, sizeof detail,
                         "completion routine %s freed IRP #%u (IoFreeIrp in %s) and returned 0x%lx, not "
                         "STATUS_MORE_PROCESSING_REQUIRED: IoCompleteRequest goes on with the freed IRP",
                         symbol_name((const void *)routine), irp_id(Irp), r->freer, (unsigned long)(uint32_t)rs);
                fail_walk_not_stopped(r, last_img, routine, &r->freed_by, TDF_CLASS_BUGCHECK, 0x50,
                                      "PAGE_FAULT_IN_NONPAGED_AREA", symbol_name((const void *)routine), r->freer,
                                      detail);
                return;
            }
            if (rs == STATUS_MORE_PROCESSING_REQUIRED) {
                r->completing = 0;
                if (loc == Irp->StackCount + 1)
                    r->done = 1;
                return;
            }
        } else {
            if (ex)
                io_device_dereference(ex);
            if (Irp->PendingReturned && loc <= Irp->StackCount) {
                Irp->Tail.Overlay.CurrentStackLocation->Control |= SL_PENDING_RETURNED;
                r->marked[loc] = 1;
            }
        }
        sp = Irp->Tail.Overlay.CurrentStackLocation;
    }
    /* past the top location: the I/O manager's part */
    Irp->CurrentLocation = (CCHAR)(Irp->StackCount + 1);
    Irp->Tail.Overlay.CurrentStackLocation = stack_base(Irp) + Irp->StackCount;
    r->completing = 0;
    r->done = 1;
    final_completion(r, last, last_img);
}

/* ---- the model's own IRPs ---- */
NTSTATUS irp_send_and_wait(PDEVICE_OBJECT top, PIRP irp, PIO_STATUS_BLOCK iosb)
{
    KEVENT ev;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    irp->UserEvent = &ev;
    irp->UserIosb = iosb;
    iosb->Status = STATUS_PENDING;
    NTSTATUS st = IoCallDriver(top, irp);
    if (tdf_failure())
        return st;
    /* Whatever the dispatch returned, the final status is the IRP's. */
    (void)KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, NULL);
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* model code goes on after the wait's step (footprints, sched.h) */
    return iosb->Status;
}
