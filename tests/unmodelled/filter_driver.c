/* A declared routine used in a way the model does not support: KMDF filter
 * drivers (WdfFdoInitSetFilter) are declared in <tdf/wdf.h> but not modelled
 * (one FDO per stack), so the run must fail with class MISUSE, name
 * UNMODELLED and a message naming the routine (model/wdf/device.c). */
#include <tdf/harness.h>

DRIVER_INITIALIZE Filter_DriverEntry;
static EVT_WDF_DRIVER_DEVICE_ADD Filter_EvtDeviceAdd;

NTSTATUS Filter_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WDF_DRIVER_CONFIG config;
    WDF_DRIVER_CONFIG_INIT(&config, Filter_EvtDeviceAdd);
    return WdfDriverCreate(DriverObject, RegistryPath, WDF_NO_OBJECT_ATTRIBUTES, &config, WDF_NO_HANDLE);
}

static NTSTATUS Filter_EvtDeviceAdd(WDFDRIVER Driver, PWDFDEVICE_INIT DeviceInit)
{
    WDFDEVICE device;
    UNREFERENCED_PARAMETER(Driver);
    WdfFdoInitSetFilter(DeviceInit); /* an upper filter, as in a real filter driver's AddDevice */
    return WdfDeviceCreate(&DeviceInit, WDF_NO_OBJECT_ATTRIBUTES, &device);
}
