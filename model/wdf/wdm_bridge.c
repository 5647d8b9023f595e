/*
 * WDM object pointers of KMDF objects: the model's device and driver records
 * stand for them (the pointers are opaque to drivers, include/tdf/wdm_bridge.h),
 * so the round trip back to the KMDF handle is a checked cast.
 */
#include "wdf_internal.h"

PDEVICE_OBJECT WdfDeviceWdmGetDeviceObject(WDFDEVICE Device)
{
    return &wdf_device_checked(Device, "WdfDeviceWdmGetDeviceObject")->wdm;
}

PDEVICE_OBJECT WdfDeviceWdmGetAttachedDevice(WDFDEVICE Device)
{
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceWdmGetAttachedDevice");
    /* FxDeviceBase::GetAttachedDevice: what the FDO's attach returned (kept
     * after it detached at its removal); a PDO attached to nothing. */
    return d->is_pdo ? NULL : d->wdm_attached;
}

PDEVICE_OBJECT WdfDeviceWdmGetPhysicalDevice(WDFDEVICE Device)
{
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceWdmGetPhysicalDevice");
    if (d->is_pdo)
        return &d->wdm;
    return d->lower ? &d->lower->wdm : d->wdm_pdo; /* a root device: the root enumerator's PDO */
}

PDRIVER_OBJECT WdfDriverWdmGetDriverObject(WDFDRIVER Driver)
{
    return &((wdf_driver_t *)wdf_object_checked((WDFOBJECT)Driver, OBJ_DRIVER, "WdfDriverWdmGetDriverObject"))->wdm;
}

WDFDRIVER WdfWdmDriverGetWdfDriverHandle(PDRIVER_OBJECT DriverObject)
{
    if (!DriverObject || DriverObject->Type != IO_TYPE_DRIVER)
        return (WDFDRIVER)wdf_object_checked(NULL, OBJ_DRIVER, "WdfWdmDriverGetWdfDriverHandle");
    return (WDFDRIVER)wdf_object_checked((WDFOBJECT)CONTAINING_RECORD(DriverObject, wdf_driver_t, wdm), OBJ_DRIVER,
                                         "WdfWdmDriverGetWdfDriverHandle");
}

WDFDEVICE WdfWdmDeviceGetWdfDeviceHandle(PDEVICE_OBJECT DeviceObject)
{
    wdf_device_t *d = wdf_device_of_wdm(DeviceObject);
    if (d && d->wdm_driven)
        return NULL; /* a WDM driver's device object has no framework device */
    return (WDFDEVICE)wdf_device_checked((WDFDEVICE)d, "WdfWdmDeviceGetWdfDeviceHandle");
}

PDEVICE_OBJECT TdfStimulusDeviceObject(WDFDEVICE Device)
{
    wdf_device_t *d = (wdf_device_t *)Device;
    if (!d || d->obj.kind != OBJ_DEVICE)
        TdfUnmodelled("TdfStimulusDeviceObject", "a handle that is not a stimulus's device");
    return &d->wdm;
}
