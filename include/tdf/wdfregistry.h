/*
 * The registry as a driver reads it: values come from the target, not the
 * host. A ULONG value named N reads the target's parameter N (TdfParam: the
 * input chooses it within the parameter's range), or, when the target
 * declares no such parameter, is absent (STATUS_OBJECT_NAME_NOT_FOUND, as on
 * a fresh install). A value the driver assigns is read back for the rest of
 * the run. Keys are real objects: a key still open when its driver unloads
 * leaks with it. Not yield points.
 */
#ifndef TDF_WDFREGISTRY_H
#define TDF_WDFREGISTRY_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct WDFKEY__ *WDFKEY;

NTSTATUS WdfDriverOpenParametersRegistryKey(_In_ WDFDRIVER Driver, _In_ ACCESS_MASK DesiredAccess,
                                            _In_opt_ PWDF_OBJECT_ATTRIBUTES KeyAttributes, _Out_ WDFKEY *Key);
NTSTATUS WdfDeviceOpenRegistryKey(_In_ WDFDEVICE Device, _In_ ULONG DeviceInstanceKeyType,
                                  _In_ ACCESS_MASK DesiredAccess, _In_opt_ PWDF_OBJECT_ATTRIBUTES KeyAttributes,
                                  _Out_ WDFKEY *Key);
NTSTATUS WdfRegistryQueryULong(_In_ WDFKEY Key, _In_ PCUNICODE_STRING ValueName, _Out_ PULONG Value);
NTSTATUS WdfRegistryAssignULong(_In_ WDFKEY Key, _In_ PCUNICODE_STRING ValueName, _In_ ULONG Value);
VOID WdfRegistryClose(_In_ WDFKEY Key);

#ifdef __cplusplus
}
#endif
#endif
