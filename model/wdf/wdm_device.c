/*
 * WDM drivers and device objects (KERNEL-SEMANTICS §16). In this layer
 * because the PnP manager drives device records of this layer: a WDM
 * driver's device object is a device record (wdf_device_t) with wdm_driven
 * set, whose embedded DEVICE_OBJECT the driver sees; the PnP/power sequences
 * of device.c send such a stack IRP_MJ_PNP / IRP_MJ_POWER IRPs instead of
 * calling KMDF callbacks. A KMDF device's record embeds the DEVICE_OBJECT
 * that WdfDeviceWdmGetDeviceObject returns.
 *
 * Lifetime as the I/O manager's: IoDeleteDevice marks the object delete-
 * pending and drops its creation reference; the object (with its extension)
 * goes with the last reference (a file object from IoGetDeviceObjectPointer,
 * IoGetAttachedDeviceReference, a dispatch in progress, a stimulus), and the
 * driver unloads -- DriverUnload, then the image checks -- once its last
 * device object went.
 */
#include "wdf_internal.h"
#include "../kernel/irp.h"
#include "../kernel/tsan_sync.h"
#include "../kernel/names.h"

#include <stdio.h>
#include <string.h>

#define DEVOBJ_MAGIC 0x44455630u
#define FILEOBJ_MAGIC 0x46494c30u
#define MAX_NAMED_DEVICES 16

static wdf_device_t *g_named[MAX_NAMED_DEVICES];
static unsigned g_nnamed;
/* The root bus's driver: it completes the PnP and power IRPs that reach a
 * root-enumerated device's PDO. Model code, in no image. */
static wdf_driver_t g_root_driver;

static NTSTATUS root_dispatch(PDEVICE_OBJECT d, PIRP irp)
{
    (void)d;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    NTSTATUS st = irp->IoStatus.Status;
    if (sp->MajorFunction == IRP_MJ_PNP) {
        switch (sp->MinorFunction) {
        case IRP_MN_START_DEVICE:
        case IRP_MN_QUERY_REMOVE_DEVICE:
        case IRP_MN_REMOVE_DEVICE:
        case IRP_MN_CANCEL_REMOVE_DEVICE:
        case IRP_MN_STOP_DEVICE:
        case IRP_MN_QUERY_STOP_DEVICE:
        case IRP_MN_CANCEL_STOP_DEVICE:
        case IRP_MN_SURPRISE_REMOVAL:
            st = STATUS_SUCCESS;
            break;
        default:
            break; /* not handled by the bus: the IRP's status stays */
        }
    } else if (sp->MajorFunction == IRP_MJ_POWER) {
        PoStartNextPowerIrp(irp);
        st = STATUS_SUCCESS;
    } else {
        st = STATUS_INVALID_DEVICE_REQUEST;
    }
    irp->IoStatus.Status = st;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return st;
}

/* An IRP sent to a KMDF device object: KMDF's own dispatch is not modelled
 * for IRPs (KMDF drivers get requests from the model's queues). */
static NTSTATUS kmdf_dispatch(PDEVICE_OBJECT d, PIRP irp)
{
    (void)d, (void)irp;
    TdfUnmodelled("IoCallDriver", "an IRP sent to a KMDF driver's device object");
}

void wdm_reset(void)
{
    memset(g_named, 0, sizeof g_named);
    g_nnamed = 0;
    memset(&g_root_driver, 0, sizeof g_root_driver);
    wdm_driver_init(&g_root_driver);
    for (unsigned i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        g_root_driver.wdm.MajorFunction[i] = root_dispatch;
}

void wdm_driver_init(wdf_driver_t *drv)
{
    DRIVER_OBJECT *o = &drv->wdm;
    memset(o, 0, sizeof *o);
    o->Type = IO_TYPE_DRIVER;
    o->Size = (CSHORT)sizeof *o;
    o->DriverExtension = &o->TdfExtension;
    o->TdfExtension.DriverObject = o;
}

static void devobj_init(wdf_device_t *d, wdf_driver_t *drv)
{
    DEVICE_OBJECT *o = &d->wdm;
    o->Type = IO_TYPE_DEVICE;
    o->Size = (USHORT)sizeof *o;
    o->DriverObject = &drv->wdm;
    o->StackSize = 1;
    o->TdfMagic = DEVOBJ_MAGIC;
    o->TdfModel = d;
    o->ReferenceCount = 0;
}

void wdm_device_init_kmdf(wdf_device_t *d)
{
    devobj_init(d, d->driver);
    d->wdm.DeviceExtension = d->obj.context;
    for (unsigned i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        d->driver->wdm.MajorFunction[i] = kmdf_dispatch;
}

wdf_device_t *wdf_device_of_wdm(PDEVICE_OBJECT o)
{
    if (!o || o->Type != IO_TYPE_DEVICE || o->TdfMagic != DEVOBJ_MAGIC)
        return NULL;
    wdf_device_t *d = o->TdfModel;
    return d && !d->obj.destroyed ? d : NULL;
}

int io_device_valid(PDEVICE_OBJECT d) { return wdf_device_of_wdm(d) != NULL; }

const char *io_device_name(PDEVICE_OBJECT o)
{
    wdf_device_t *d = wdf_device_of_wdm(o);
    return d ? d->name : "(not a device object)";
}

const char *io_device_role(PDEVICE_OBJECT o)
{
    wdf_device_t *d = wdf_device_of_wdm(o);
    return d ? d->role : NULL;
}

void io_device_reference(PDEVICE_OBJECT o)
{
    wdf_device_t *d = wdf_device_of_wdm(o);
    if (!d)
        return;
    d->obj.refs++;
    o->ReferenceCount++;
}

void io_device_dereference(PDEVICE_OBJECT o)
{
    wdf_device_t *d = wdf_device_of_wdm(o);
    if (!d)
        return;
    o->ReferenceCount--;
    wdf_object_release(&d->obj);
}

/* The last reference went (object.c's destroy): the extension goes, the
 * driver count drops after this returns (object.c). */
static void devobj_finalize(wdf_object_t *obj)
{
    wdf_device_t *d = (wdf_device_t *)obj;
    if (d->wdm.DeviceExtension) {
        pool_free_deferred(d->wdm.DeviceExtension);
        d->wdm.DeviceExtension = NULL;
    }
    d->wdm.TdfMagic = 0;
}

static wdf_driver_t *driver_checked(PDRIVER_OBJECT o, const char *routine)
{
    if (!o || o->Type != IO_TYPE_DRIVER)
        TdfUnmodelled(routine, "a DriverObject that is not the one DriverEntry got");
    return CONTAINING_RECORD(o, wdf_driver_t, wdm);
}

static wdf_device_t *devobj_checked(PDEVICE_OBJECT o, const char *routine)
{
    wdf_device_t *d = wdf_device_of_wdm(o);
    if (!d)
        TDF_BUGCHECK(0xC9, 0x4, "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
                     "%s with a pointer that is not a live device object (deleted and freed, or never one)", routine);
    return d;
}

NTSTATUS IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize, PUNICODE_STRING DeviceName,
                        DEVICE_TYPE DeviceType, ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                        PDEVICE_OBJECT *DeviceObject)
{
    ke_yield();
    wdf_driver_t *drv = driver_checked(DriverObject, "IoCreateDevice");
    *DeviceObject = NULL;
    if (DeviceName) {
        for (unsigned i = 0; i < g_nnamed; i++) {
            wdf_device_t *o = g_named[i];
            if (o && !o->obj.destroyed && !o->wdm.TdfDeletePending && o->wdm.TdfName.Length == DeviceName->Length &&
                tdf_wide_equal_counted(o->wdm.TdfName.Buffer, DeviceName->Buffer, DeviceName->Length / 2))
                return STATUS_OBJECT_NAME_COLLISION;
        }
    }
    wdf_device_t *d = pool_alloc_model(sizeof *d);
    d->obj.kind = OBJ_DEVICE;
    d->obj.refs = 1; /* the creation reference, dropped by IoDeleteDevice */
    d->obj.image = drv->image;
    d->obj.finalize = devobj_finalize;
    d->driver = drv;
    d->wdm_driven = 1;
    d->power = WdfPowerDeviceD3Final;
    devobj_init(d, drv);
    d->wdm.DeviceType = DeviceType;
    d->wdm.Characteristics = DeviceCharacteristics;
    d->wdm.Flags = DO_DEVICE_INITIALIZING;
    (void)Exclusive;
    if (DeviceExtensionSize) {
        d->wdm.DeviceExtension = pool_alloc_model(DeviceExtensionSize);
        d->obj.context_size = DeviceExtensionSize; /* the extension is the device's context (the owner lookup) */
    }
    d->wdm.NextDevice = DriverObject->DeviceObject;
    DriverObject->DeviceObject = &d->wdm;
    snprintf(d->name, sizeof d->name, "%s/devobj", drv->image->name);
    snprintf(d->role, sizeof d->role, "%s/devobj", drv->image->name); /* "/FDO" once AddDevice attached it */
    if (DeviceName && DeviceName->Length) {
        size_t bytes = DeviceName->Length;
        d->wdm.TdfName.Buffer = pool_alloc_model(bytes + 2);
        memcpy(d->wdm.TdfName.Buffer, DeviceName->Buffer, bytes);
        d->wdm.TdfName.Length = d->wdm.TdfName.MaximumLength = (USHORT)bytes;
        if (g_nnamed < MAX_NAMED_DEVICES)
            g_named[g_nnamed++] = d;
        else /* a name left out could not be opened */
            TDF_LIMIT(MAX_NAMED_DEVICES, "model/wdf/wdm_device.c", "more named WDM device objects in one run");
    }
    drv->devices++;
    *DeviceObject = &d->wdm;
    SCHED_TRACE1("IoCreateDevice (%s)", drv->image->name);
    return STATUS_SUCCESS;
}

VOID IoDeleteDevice(PDEVICE_OBJECT DeviceObject)
{
    ke_yield();
    wdf_device_t *d = devobj_checked(DeviceObject, "IoDeleteDevice");
    if (!d)
        return;
    if (!d->wdm_driven)
        TdfUnmodelled("IoDeleteDevice", "a KMDF driver's device object (the framework deletes it)");
    if (DeviceObject->TdfDeletePending) {
        TDF_MISUSE("IoDeleteDevice", "IoDeleteDevice of %s, deleted already", d->name);
        return;
    }
    if (DeviceObject->TdfLower || DeviceObject->AttachedDevice) {
        TDF_MISUSE("DELETE_WHILE_ATTACHED",
                   "IoDeleteDevice of %s while it is still %s: IoDetachDevice first (the stack would keep a "
                   "pointer to the freed device object)",
                   d->name, DeviceObject->TdfLower ? "attached to a lower device" : "the target of an attached device");
        return;
    }
    DeviceObject->TdfDeletePending = 1;
    PDEVICE_OBJECT *link = &DeviceObject->DriverObject->DeviceObject;
    while (*link && *link != DeviceObject)
        link = &(*link)->NextDevice;
    if (*link)
        *link = DeviceObject->NextDevice;
    SCHED_TRACE1("IoDeleteDevice %s", d->name);
    wdf_object_release(&d->obj);
}

PDEVICE_OBJECT IoAttachDeviceToDeviceStack(PDEVICE_OBJECT SourceDevice, PDEVICE_OBJECT TargetDevice)
{
    ke_yield();
    if (!devobj_checked(SourceDevice, "IoAttachDeviceToDeviceStack") ||
        !devobj_checked(TargetDevice, "IoAttachDeviceToDeviceStack"))
        return NULL;
    PDEVICE_OBJECT top = TargetDevice;
    while (top->AttachedDevice)
        top = top->AttachedDevice;
    if (top->TdfDeletePending)
        return NULL;
    top->AttachedDevice = SourceDevice;
    SourceDevice->TdfLower = top;
    SourceDevice->StackSize = (CCHAR)(top->StackSize + 1);
    return top;
}

VOID IoDetachDevice(PDEVICE_OBJECT TargetDevice)
{
    ke_yield();
    if (!devobj_checked(TargetDevice, "IoDetachDevice"))
        return;
    PDEVICE_OBJECT above = TargetDevice->AttachedDevice;
    if (!above) {
        TDF_MISUSE("IoDetachDevice", "IoDetachDevice of %s, which has no device attached above it",
                   io_device_name(TargetDevice));
        return;
    }
    above->TdfLower = NULL;
    TargetDevice->AttachedDevice = NULL;
}

PDEVICE_OBJECT IoGetAttachedDeviceReference(PDEVICE_OBJECT DeviceObject)
{
    ke_yield();
    if (!devobj_checked(DeviceObject, "IoGetAttachedDeviceReference"))
        return NULL;
    PDEVICE_OBJECT top = DeviceObject;
    while (top->AttachedDevice)
        top = top->AttachedDevice;
    io_device_reference(top);
    return top;
}

NTSTATUS IoGetDeviceObjectPointer(PUNICODE_STRING ObjectName, ACCESS_MASK DesiredAccess, PFILE_OBJECT *FileObject,
                                  PDEVICE_OBJECT *DeviceObject)
{
    (void)DesiredAccess;
    ke_yield();
    ke_check_may_wait("IoGetDeviceObjectPointer");
    *FileObject = NULL;
    *DeviceObject = NULL;
    for (unsigned i = 0; i < g_nnamed; i++) {
        wdf_device_t *d = g_named[i];
        if (!d || d->obj.destroyed || d->wdm.TdfDeletePending || d->wdm.TdfName.Length != ObjectName->Length ||
            !tdf_wide_equal_counted(d->wdm.TdfName.Buffer, ObjectName->Buffer, ObjectName->Length / 2))
            continue;
        if (d->pnp != PNP_STARTED)
            return STATUS_NO_SUCH_DEVICE; /* the open (IRP_MJ_CREATE) of a device not started fails */
        PDEVICE_OBJECT top = &d->wdm;
        while (top->AttachedDevice)
            top = top->AttachedDevice;
        PFILE_OBJECT f = pool_alloc_model(sizeof *f);
        f->Type = IO_TYPE_FILE;
        f->Size = (CSHORT)sizeof *f;
        f->DeviceObject = &d->wdm;
        f->TdfMagic = FILEOBJ_MAGIC;
        f->TdfReferences = 1;
        io_device_reference(&d->wdm); /* the file object's reference on the device object */
        *FileObject = f;
        *DeviceObject = top;
        return STATUS_SUCCESS;
    }
    return STATUS_OBJECT_NAME_NOT_FOUND;
}

int io_ob_reference(PVOID object, int delta)
{
    PDEVICE_OBJECT dev = object;
    if (dev && dev->Type == IO_TYPE_DEVICE && dev->TdfMagic == DEVOBJ_MAGIC) {
        if (delta > 0) {
            io_device_reference(dev);
        } else if (dev->ReferenceCount <= 0) {
            TDF_BUGCHECK(0x18, 0, "REFERENCE_BY_POINTER", "ObDereferenceObject on %s with no references left",
                         io_device_name(dev));
        } else {
            io_device_dereference(dev);
        }
        return 1;
    }
    PFILE_OBJECT f = object;
    if (f && f->Type == IO_TYPE_FILE && f->TdfMagic == FILEOBJ_MAGIC) {
        if (delta > 0) {
            f->TdfReferences++;
        } else if (f->TdfReferences <= 0) {
            TDF_BUGCHECK(0x18, 0, "REFERENCE_BY_POINTER", "ObDereferenceObject on a file object with no references left");
        } else if (--f->TdfReferences == 0) {
            /* the file object goes: its reference on the device object too.
             * A driver that goes on using the device pointer after this
             * relied on a reference it no longer holds (io_device_fail_stale). */
            wdf_device_t *d = wdf_device_of_wdm(f->DeviceObject);
            if (d && image_current()) {
                tdf_teardown_note(&d->file_released_by, "ObDereferenceObject(file object)");
                d->file_released_by.trace_index = UINT64_MAX; /* no trace event of its own */
            }
            io_device_dereference(f->DeviceObject);
        }
        return 1;
    }
    return 0;
}

int io_device_fail_stale(PVOID object, const char *routine, uint32_t code, uint32_t subcode, const char *name)
{
    PDEVICE_OBJECT o = object;
    if (!o || o->Type != IO_TYPE_DEVICE || !o->TdfModel)
        return 0;
    wdf_device_t *d = o->TdfModel; /* the record outlives the device object (object.c) */
    const tdf_teardown_t *t = &d->file_released_by;
    if (&d->wdm != o || !d->obj.destroyed || !t->event || !t->image || t->image != image_current())
        return 0;
    char released[96];
    snprintf(released, sizeof released, "%s!%s", t->image->name, symbol_name(t->fn));
    tdf_dead_t dead = {TDF_OBJ_DEVICE, d->role, t, "device object %s (deleted)", {(uintptr_t)d->name},
                       .key_access = released, .key_teardown = "early-release"};
    tdf_fail_dead(&dead, routine, TDF_CLASS_BUGCHECK, code, subcode, name, NULL, NULL,
                  "%s on %s, deleted and freed: this driver let go of its reference on it (closed its file object "
                  "in %s) and went on using the pointer",
                  routine, d->name, released);
    return 1;
}

int io_device_released_dead(tdf_dead_t *dead, PDEVICE_OBJECT sent_to, uint32_t completed_at,
                            const struct tdf_image *img, char *released, size_t size)
{
    if (!sent_to || sent_to->Type != IO_TYPE_DEVICE || !sent_to->TdfModel || !img)
        return 0;
    const wdf_device_t *d = sent_to->TdfModel; /* the record outlives the device object (object.c) */
    const tdf_teardown_t *t = &d->file_released_by;
    if (&d->wdm != sent_to || !t->event || t->image != img || t->step >= completed_at)
        return 0;
    snprintf(released, size, "%s!%s", t->image->name, symbol_name(t->fn));
    *dead = (tdf_dead_t){TDF_OBJ_DEVICE, d->role, t, "device object %s (released with an IRP in flight)",
                         {(uintptr_t)d->name}, .access_fiber = dead->access_fiber, .access_frame = dead->access_frame,
                         .key_access = released, .key_teardown = "early-release"};
    return 1;
}

/* ---- the PnP manager's side: a root devnode's WDM stack ---- */
/* The PDO the PnP manager's root enumerator makes for a root-enumerated
 * devnode: model code (g_root_driver completes its IRPs), never destroyed in
 * a run. */
static wdf_device_t *root_pdo_new(const char *node_name)
{
    wdf_device_t *pdo = pool_alloc_model_kept(sizeof *pdo); /* never freed before the run ends */
    pdo->obj.kind = OBJ_DEVICE;
    pdo->obj.refs = 1; /* the bus keeps it; never destroyed in a run */
    pdo->driver = &g_root_driver;
    pdo->is_pdo = 1;
    pdo->pnp = PNP_STARTED;
    devobj_init(pdo, &g_root_driver);
    name_join(pdo->name, sizeof pdo->name, node_name, "/PDO");
    return pdo;
}

/* A KMDF FDO's DEVICE_OBJECT goes on top of its devnode's stack at
 * WdfDeviceCreate, as FxDevice::FdoInitialize does with
 * IoAttachDeviceToDeviceStack onto its PDO (a KMDF PDO, or for a
 * root-enumerated device the root enumerator's PDO): StackSize one more than
 * the device below, the device below's AttachedDevice this one, and the
 * attach result kept for WdfDeviceWdmGetAttachedDevice (KERNEL-SEMANTICS §16
 * "KMDF's WDM escapes"). Not a yield point: nothing of the stack is visible
 * to another thread before WdfDeviceCreate returns. */
void wdm_device_attach_kmdf(wdf_device_t *d)
{
    PDEVICE_OBJECT pdo;
    if (d->lower) {
        pdo = &d->lower->wdm;
    } else {
        d->wdm_pdo = &root_pdo_new("root")->wdm;
        pdo = d->wdm_pdo;
    }
    PDEVICE_OBJECT top = pdo;
    while (top->AttachedDevice)
        top = top->AttachedDevice;
    top->AttachedDevice = &d->wdm;
    d->wdm.TdfLower = top;
    d->wdm.StackSize = (CCHAR)(top->StackSize + 1);
    d->wdm_attached = top;
}

/* Its removal (FxDevice's destroy: IoDetachDevice before IoDeleteDevice):
 * the device below no longer points at it. */
void wdm_device_detach_kmdf(wdf_device_t *d)
{
    PDEVICE_OBJECT below = d->wdm.TdfLower;
    if (below && below->AttachedDevice == &d->wdm)
        below->AttachedDevice = NULL;
    d->wdm.TdfLower = NULL;
}

wdf_device_t *wdm_add_device(wdf_driver_t *drv, const char *node_name)
{
    wdf_device_t *pdo = root_pdo_new(node_name);
    SCHED_TRACE1("%s: AddDevice (WDM)", node_name);
    wdf_driver_pin(drv);
    unsigned saved = image_irql_rule_begin(IRQL_RETURN_WORKER); /* the PnP manager's worker calls it */
    NTSTATUS st = drv->wdm.DriverExtension->AddDevice(&drv->wdm, &pdo->wdm);
    image_irql_rule_end(saved);
    PDEVICE_OBJECT top = pdo->wdm.AttachedDevice;
    while (top && top->AttachedDevice)
        top = top->AttachedDevice;
    wdf_device_t *fdo = top ? wdf_device_of_wdm(top) : NULL;
    if (!NT_SUCCESS(st) || !fdo) {
        SCHED_TRACE2("%s: AddDevice failed 0x%lx (or attached nothing)", node_name, (unsigned long)(uint32_t)st);
        wdf_driver_unpin(drv);
        return NULL;
    }
    fdo->wdm_pdo = &pdo->wdm;
    wdf_driver_unpin(drv); /* its device objects keep it loaded from here on */
    return fdo;
}

/* One PnP or power IRP from the PnP manager to the top of d's stack, waited
 * for (the PnP manager's IRPs are synchronous to it). */
static NTSTATUS send(wdf_device_t *d, UCHAR major, UCHAR minor, DEVICE_POWER_STATE dx)
{
    PDEVICE_OBJECT top = &d->wdm;
    while (top->AttachedDevice)
        top = top->AttachedDevice;
    PIRP irp = irp_model_alloc(top->StackSize);
    if (!irp)
        return STATUS_INSUFFICIENT_RESOURCES;
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = major;
    sp->MinorFunction = minor;
    if (major == IRP_MJ_POWER) {
        sp->Parameters.Power.Type = DevicePowerState;
        sp->Parameters.Power.State.DeviceState = dx;
        irp->IoStatus.Status = STATUS_SUCCESS;
    } else {
        irp->IoStatus.Status = STATUS_NOT_SUPPORTED; /* PnP IRPs start so */
    }
    static const char *const pnp_names[] = {
        [IRP_MN_START_DEVICE] = "IRP_MN_START_DEVICE", [IRP_MN_QUERY_REMOVE_DEVICE] = "IRP_MN_QUERY_REMOVE_DEVICE",
        [IRP_MN_REMOVE_DEVICE] = "IRP_MN_REMOVE_DEVICE", [IRP_MN_CANCEL_REMOVE_DEVICE] = "IRP_MN_CANCEL_REMOVE_DEVICE",
        [IRP_MN_STOP_DEVICE] = "IRP_MN_STOP_DEVICE", [IRP_MN_QUERY_STOP_DEVICE] = "IRP_MN_QUERY_STOP_DEVICE",
        [IRP_MN_SURPRISE_REMOVAL] = "IRP_MN_SURPRISE_REMOVAL"};
    if (major == IRP_MJ_PNP)
        SCHED_TRACE2("%s: %s", d->name, minor < sizeof pnp_names / sizeof *pnp_names ? pnp_names[minor] : "?");
    else
        SCHED_TRACE2("%s: IRP_MN_SET_POWER D%u", d->name, (unsigned)dx - 1);
    feedback_transition(3u, (uint32_t)d->pnp << 4 | (uint32_t)d->power, (uint32_t)major << 8 | minor);
    IO_STATUS_BLOCK iosb;
    io_device_reference(top); /* the PnP manager's reference across the IRP */
    NTSTATUS st = irp_send_and_wait(top, irp, &iosb);
    io_device_dereference(top);
    return st;
}

NTSTATUS wdm_pnp_start(wdf_device_t *d)
{
    d->power = WdfPowerDeviceD0;
    NTSTATUS st = send(d, IRP_MJ_PNP, IRP_MN_START_DEVICE, PowerDeviceD0);
    if (NT_SUCCESS(st)) {
        d->pnp = PNP_STARTED;
    } else {
        d->power = WdfPowerDeviceD3Final;
        SCHED_TRACE2("%s: IRP_MN_START_DEVICE failed 0x%lx", d->name, (unsigned long)(uint32_t)st);
    }
    return st;
}

NTSTATUS wdm_power_up(wdf_device_t *d)
{
    if (d->power == WdfPowerDeviceD0)
        return STATUS_SUCCESS;
    NTSTATUS st = send(d, IRP_MJ_POWER, IRP_MN_SET_POWER, PowerDeviceD0);
    d->power = WdfPowerDeviceD0;
    return st;
}

int wdm_power_down(wdf_device_t *d, WDF_POWER_DEVICE_STATE target)
{
    if (d->power != WdfPowerDeviceD0)
        return 1;
    (void)send(d, IRP_MJ_POWER, IRP_MN_SET_POWER, PowerDeviceD3);
    d->power = target;
    d->d0exit_step = sched_steps();
    return 1;
}

void wdm_surprise_notify(wdf_device_t *d)
{
    d->pnp = PNP_SURPRISE_REMOVED;
    d->surprise_step = sched_steps();
    (void)send(d, IRP_MJ_PNP, IRP_MN_SURPRISE_REMOVAL, PowerDeviceD3);
}

NTSTATUS wdm_query_remove(wdf_device_t *d)
{
    NTSTATUS st = send(d, IRP_MJ_PNP, IRP_MN_QUERY_REMOVE_DEVICE, PowerDeviceD0);
    d->wdm_query_removed = NT_SUCCESS(st);
    return st;
}

void wdm_cancel_remove(wdf_device_t *d)
{
    if (!d->wdm_query_removed)
        return;
    d->wdm_query_removed = 0;
    (void)send(d, IRP_MJ_PNP, IRP_MN_CANCEL_REMOVE_DEVICE, PowerDeviceD0);
}

NTSTATUS wdm_query_stop(wdf_device_t *d) { return send(d, IRP_MJ_PNP, IRP_MN_QUERY_STOP_DEVICE, PowerDeviceD0); }

void wdm_stop(wdf_device_t *d)
{
    (void)send(d, IRP_MJ_PNP, IRP_MN_STOP_DEVICE, PowerDeviceD0);
    d->pnp = PNP_STOPPED;
    d->power = WdfPowerDeviceD3Final;
}

void wdm_remove(wdf_device_t *d)
{
    if (d->pnp == PNP_DELETED)
        return;
    d->wdm_query_removed = 0;
    (void)send(d, IRP_MJ_PNP, IRP_MN_REMOVE_DEVICE, PowerDeviceD3);
    d->pnp = PNP_DELETED;
    d->power = WdfPowerDeviceD3Final;
}

/* A user-mode client's DeviceIoControl on a WDM device (the PnP manager's
 * client_io): an IRP_MJ_DEVICE_CONTROL to the top of the stack, waited for.
 * When nothing else can run any more (the wait's timeout, virtual time) the
 * client gives up and cancels it, as CancelIo or closing its handle would;
 * the check that the IRP is still live and the cancel are one step, so the
 * client never cancels an IRP that completed meanwhile. */
void wdm_client_io(wdf_device_t *d, ULONG ioctl)
{
    PDEVICE_OBJECT top = &d->wdm;
    while (top->AttachedDevice)
        top = top->AttachedDevice;
    enum { BUF = 64 };
    PIRP irp = irp_model_alloc(top->StackSize);
    if (!irp)
        return;
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = IRP_MJ_DEVICE_CONTROL;
    sp->Parameters.DeviceIoControl.IoControlCode = ioctl;
    sp->Parameters.DeviceIoControl.InputBufferLength = BUF;
    sp->Parameters.DeviceIoControl.OutputBufferLength = BUF;
    irp->AssociatedIrp.SystemBuffer = pool_alloc_model(BUF);
    KEVENT ev;
    IO_STATUS_BLOCK iosb = {.Status = STATUS_PENDING};
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    irp->UserEvent = &ev;
    irp->UserIosb = &iosb;
    io_device_reference(top);
    (void)IoCallDriver(top, irp);
    LARGE_INTEGER timeout = {.QuadPart = -10000000LL};
    int timed_out = !tdf_failure() && KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, &timeout) == STATUS_TIMEOUT;
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* model code goes on after the wait's step (footprints, sched.h) */
    if (timed_out) {
        irp_rec_t *r = irp_rec_of(irp);
        if (r && r->magic == IRP_REC_LIVE) {
            SCHED_TRACE1("client gives up: cancels IRP #%u", irp_id(irp));
            (void)irp_cancel(irp);
        }
        (void)KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, NULL);
        sched_step_touch(NULL, SCHED_FP_GLOBAL); /* model code goes on after the wait's step (footprints, sched.h) */
    }
    SCHED_TRACE1("client DeviceIoControl done: 0x%lx", (unsigned long)(uint32_t)iosb.Status);
    io_device_dereference(top);
}
