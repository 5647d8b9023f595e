/*
 * WDM object pointers of KMDF objects: the model's device and driver records
 * stand for them (the pointers are opaque to drivers, include/tdf/wdm_bridge.h),
 * so the round trip back to the KMDF handle is a checked cast.
 */
#include "wdf_internal.h"

PDEVICE_OBJECT WdfDeviceWdmGetDeviceObject(WDFDEVICE Device)
{
    return (PDEVICE_OBJECT)wdf_device_checked(Device, "WdfDeviceWdmGetDeviceObject");
}

PDEVICE_OBJECT WdfDeviceWdmGetAttachedDevice(WDFDEVICE Device)
{
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceWdmGetAttachedDevice");
    return d->is_pdo ? NULL : (PDEVICE_OBJECT)d->lower;
}

PDEVICE_OBJECT WdfDeviceWdmGetPhysicalDevice(WDFDEVICE Device)
{
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceWdmGetPhysicalDevice");
    return (PDEVICE_OBJECT)(d->is_pdo ? d : d->lower);
}

PDRIVER_OBJECT WdfDriverWdmGetDriverObject(WDFDRIVER Driver)
{
    return (PDRIVER_OBJECT)wdf_object_checked((WDFOBJECT)Driver, OBJ_DRIVER, "WdfDriverWdmGetDriverObject");
}

WDFDRIVER WdfWdmDriverGetWdfDriverHandle(PDRIVER_OBJECT DriverObject)
{
    return (WDFDRIVER)wdf_object_checked((WDFOBJECT)DriverObject, OBJ_DRIVER, "WdfWdmDriverGetWdfDriverHandle");
}

WDFDEVICE WdfWdmDeviceGetWdfDeviceHandle(PDEVICE_OBJECT DeviceObject)
{
    return (WDFDEVICE)wdf_device_checked((WDFDEVICE)DeviceObject, "WdfWdmDeviceGetWdfDeviceHandle");
}
