/*
 * Device-init settings and device interfaces a driver declares with no
 * teardown behaviour of their own in the model: the device type, exclusive
 * access, the I/O type, characteristics, and device interfaces. They are
 * recorded and returned, and have no other effect: exclusivity is not
 * enforced on opens, and no device-interface arrival or removal notification
 * is delivered to anyone (docs/WRITING-A-TARGET.md, "What the model cannot
 * find"). Not yield points.
 */
#ifndef TDF_WDFDEVICEINIT_H
#define TDF_WDFDEVICEINIT_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum _WDF_DEVICE_IO_TYPE {
    WdfDeviceIoUndefined = 0,
    WdfDeviceIoNeither,
    WdfDeviceIoBuffered,
    WdfDeviceIoDirect,
    WdfDeviceIoBufferedOrDirect = 4,
    WdfDeviceIoMaximum,
} WDF_DEVICE_IO_TYPE;

VOID WdfDeviceInitSetDeviceType(_In_ PWDFDEVICE_INIT DeviceInit, _In_ DEVICE_TYPE DeviceType);
VOID WdfDeviceInitSetExclusive(_In_ PWDFDEVICE_INIT DeviceInit, _In_ BOOLEAN IsExclusive);
VOID WdfDeviceInitSetIoType(_In_ PWDFDEVICE_INIT DeviceInit, _In_ WDF_DEVICE_IO_TYPE IoType);
VOID WdfDeviceInitSetCharacteristics(_In_ PWDFDEVICE_INIT DeviceInit, _In_ ULONG DeviceCharacteristics,
                                     _In_ BOOLEAN OrInValues);
/* The settings a created device got from its init (0 / FALSE / undefined if none). */
DEVICE_TYPE WdfDeviceGetDeviceType(_In_ WDFDEVICE Device);
ULONG WdfDeviceGetCharacteristics(_In_ WDFDEVICE Device);

NTSTATUS WdfDeviceCreateDeviceInterface(_In_ WDFDEVICE Device, _In_ const GUID *InterfaceClassGUID,
                                        _In_opt_ PCUNICODE_STRING ReferenceString);
VOID WdfDeviceSetDeviceInterfaceState(_In_ WDFDEVICE Device, _In_ const GUID *InterfaceClassGUID,
                                      _In_opt_ PCUNICODE_STRING ReferenceString, _In_ BOOLEAN IsInterfaceEnabled);

#ifdef __cplusplus
}
#endif
#endif
