/*
 * The WDM objects under KMDF ones. A KMDF driver passes them on to WDM
 * routines (IoWMIDeviceObjectToProviderId, IoGetDeviceProperty ...) and
 * compares them; it never reads their fields here: DEVICE_OBJECT and
 * DRIVER_OBJECT stay opaque until the IRP path models them. Not yield points.
 */
#ifndef TDF_WDM_BRIDGE_H
#define TDF_WDM_BRIDGE_H

#ifdef __cplusplus
extern "C" {
#endif

PDEVICE_OBJECT WdfDeviceWdmGetDeviceObject(_In_ WDFDEVICE Device);
/* The device object below this one in its stack (an FDO's PDO); NULL for a PDO. */
PDEVICE_OBJECT WdfDeviceWdmGetAttachedDevice(_In_ WDFDEVICE Device);
/* The stack's PDO (the device itself for a PDO; NULL for a root-enumerated FDO). */
PDEVICE_OBJECT WdfDeviceWdmGetPhysicalDevice(_In_ WDFDEVICE Device);
PDRIVER_OBJECT WdfDriverWdmGetDriverObject(_In_ WDFDRIVER Driver);
WDFDRIVER WdfWdmDriverGetWdfDriverHandle(_In_ PDRIVER_OBJECT DriverObject);
WDFDEVICE WdfWdmDeviceGetWdfDeviceHandle(_In_ PDEVICE_OBJECT DeviceObject);

#ifdef __cplusplus
}
#endif
#endif
