/*
 * Driver images: load (DriverEntry, WdfDriverCreate) and unload once the last
 * device object of the driver is destroyed (KERNEL-SEMANTICS §4, "Unload":
 * only with no device objects; KMDF: EvtDriverUnload, then the WDFDRIVER's
 * cleanup and destroy).
 */
#include "wdf_internal.h"
#include "fileobject.h"
#include "interrupt.h"


wdf_driver_t *wdf_current_driver(void)
{
    struct tdf_image *img = image_current();
    return img ? img->driver : NULL;
}

wdf_driver_t *wdf_driver_load(const tdf_image_desc_t *desc)
{
    struct tdf_image *img = desc->image;
    /* A device that needs the driver while its unload runs (EvtDriverUnload
     * yields) waits for the unload, then gets a fresh load: the I/O manager
     * does not hand a driver object whose unload was invoked to AddDevice. */
    wdf_driver_t *old = img->driver;
    while (img->state == TDF_IMAGE_LOADED && old && img->driver == old && old->unloading)
        ke_block(&old->unloading, "driver unload to finish");
    if (img->state == TDF_IMAGE_LOADED)
        return img->driver;
    wdf_driver_t *drv = pool_alloc_model_kept(sizeof *drv); /* an unloaded driver's stays for its handles */
    drv->obj.kind = OBJ_DRIVER;
    drv->obj.refs = 1;
    drv->obj.image = img;
    drv->image = img;
    drv->desc = desc;
    image_load(img);
    img->driver = drv;
    wdm_driver_init(drv);
    static UNICODE_STRING registry_path = RTL_CONSTANT_STRING(L"\\Registry\\Machine\\System\\CurrentControlSet\\Services\\tdf");
    /* The I/O manager's load worker calls DriverEntry (and a WDM driver's
     * DriverUnload): one left raised is 0xE1 when that worker returns. */
    unsigned saved = image_irql_rule_begin(IRQL_RETURN_WORKER);
    NTSTATUS st = desc->DriverEntry(&drv->wdm, &registry_path);
    image_irql_rule_end(saved);
    SCHED_TRACE2("DriverEntry %s -> 0x%lx", img->name, (unsigned long)(uint32_t)st);
    /* A WDM driver: AddDevice set, no WdfDriverCreate (KERNEL-SEMANTICS §16). */
    drv->is_wdm = !drv->config.EvtDriverDeviceAdd && drv->wdm.DriverExtension->AddDevice;
    if (!NT_SUCCESS(st) || (!drv->config.EvtDriverDeviceAdd && !drv->is_wdm)) {
        image_unload(img);
        img->driver = NULL;
        return NULL;
    }
    return drv;
}

void wdf_driver_maybe_unload(wdf_driver_t *drv)
{
    struct tdf_image *img = drv->image;
    if (drv->devices > 0 || drv->pins > 0 || drv->unloading || img->state != TDF_IMAGE_LOADED || img->driver != drv)
        return;
    SCHED_TRACE1("unloading driver %s (last device gone)", img->name);
    drv->unloading = 1;
    if (drv->is_wdm && drv->wdm.DriverUnload) {
        unsigned saved = image_irql_rule_begin(IRQL_RETURN_WORKER);
        drv->wdm.DriverUnload(&drv->wdm);
        image_irql_rule_end(saved);
    }
    if (drv->config.EvtDriverUnload)
        drv->config.EvtDriverUnload((WDFDRIVER)drv);
    drv->obj.deleted = 1;
    /* The WDFDRIVER's delete: its children (objects created with no other
     * parent) are cleaned up before it and released after its cleanup
     * (KERNEL-SEMANTICS §9 "Object lifetime"). */
    wdf_object_dispose_children(&drv->obj);
    wdf_memory_delete_children(&drv->obj); /* WDFMEMORY parented to the driver (the default parent) */
    if (drv->obj.cleanup)
        drv->obj.cleanup((WDFOBJECT)drv);
    wdf_object_drop_children(&drv->obj);
    drv->obj.destroyed = 1;
    if (drv->obj.destroy)
        drv->obj.destroy((WDFOBJECT)drv);
    if (drv->obj.context) {
        pool_free_deferred(drv->obj.context);
        drv->obj.context = NULL;
    }
    wdf_file_unload_check(img);
    wdf_interrupts_unload_check(img); /* KERNEL-SEMANTICS §10 */
    image_unload(img);
    sched_wake(&drv->unloading); /* a load that waited goes on, and finds the image unloaded */
}

NTSTATUS WdfDriverCreate(PDRIVER_OBJECT DriverObject, PCUNICODE_STRING RegistryPath,
                         PWDF_OBJECT_ATTRIBUTES DriverAttributes, PWDF_DRIVER_CONFIG DriverConfig, WDFDRIVER *Driver)
{
    (void)RegistryPath;
    ke_yield();
    wdf_driver_t *drv = CONTAINING_RECORD(DriverObject, wdf_driver_t, wdm);
    drv->config = *DriverConfig;
    if (DriverAttributes) {
        wdf_object_init(&drv->obj, OBJ_DRIVER, DriverAttributes);
        drv->obj.image = drv->image;
    }
    if (Driver)
        *Driver = (WDFDRIVER)drv;
    return STATUS_SUCCESS;
}

void wdf_driver_pin(wdf_driver_t *drv) { drv->pins++; }

void wdf_driver_unpin(wdf_driver_t *drv)
{
    drv->pins--;
    wdf_driver_maybe_unload(drv);
}

WDFDRIVER WdfGetDriver(void) { return (WDFDRIVER)wdf_current_driver(); }

WDFDRIVER WdfDeviceGetDriver(WDFDEVICE Device)
{
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceGetDriver");
    return (WDFDRIVER)d->driver;
}
