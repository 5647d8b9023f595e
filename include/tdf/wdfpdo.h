/*
 * KMDF PDO routines (wdfpdo.h): the bus driver's side of a child it
 * enumerated -- its identifiers, its PDO callbacks, and the child's
 * bus-initiated PnP (reported missing, eject; KERNEL-SEMANTICS §11).
 * WdfPdoInitAllocate, WdfPdoInitAssignDeviceID and WdfPdoGetParent are in
 * wdf.h. Included by wdf.h.
 */
#ifndef TDF_WDFPDO_H
#define TDF_WDFPDO_H

#ifdef __cplusplus
extern "C" {
#endif

typedef NTSTATUS EVT_WDF_DEVICE_RESOURCES_QUERY(_In_ WDFDEVICE Device, _In_ WDFCMRESLIST Resources);
typedef EVT_WDF_DEVICE_RESOURCES_QUERY *PFN_WDF_DEVICE_RESOURCES_QUERY;
typedef NTSTATUS EVT_WDF_DEVICE_RESOURCE_REQUIREMENTS_QUERY(_In_ WDFDEVICE Device, _In_ PVOID IoResourceRequirementsList);
typedef EVT_WDF_DEVICE_RESOURCE_REQUIREMENTS_QUERY *PFN_WDF_DEVICE_RESOURCE_REQUIREMENTS_QUERY;
/* IRP_MN_EJECT: the bus ejects the child's hardware. */
typedef NTSTATUS EVT_WDF_DEVICE_EJECT(_In_ WDFDEVICE Device);
typedef EVT_WDF_DEVICE_EJECT *PFN_WDF_DEVICE_EJECT;
typedef NTSTATUS EVT_WDF_DEVICE_SET_LOCK(_In_ WDFDEVICE Device, _In_ BOOLEAN IsLocked);
typedef EVT_WDF_DEVICE_SET_LOCK *PFN_WDF_DEVICE_SET_LOCK;
typedef NTSTATUS EVT_WDF_DEVICE_ENABLE_WAKE_AT_BUS(_In_ WDFDEVICE Device, _In_ SYSTEM_POWER_STATE PowerState);
typedef EVT_WDF_DEVICE_ENABLE_WAKE_AT_BUS *PFN_WDF_DEVICE_ENABLE_WAKE_AT_BUS;
typedef VOID EVT_WDF_DEVICE_DISABLE_WAKE_AT_BUS(_In_ WDFDEVICE Device);
typedef EVT_WDF_DEVICE_DISABLE_WAKE_AT_BUS *PFN_WDF_DEVICE_DISABLE_WAKE_AT_BUS;
/* The PnP manager learnt the child is gone (its relations no longer list it). */
typedef VOID EVT_WDF_DEVICE_REPORTED_MISSING(_In_ WDFDEVICE Device);
typedef EVT_WDF_DEVICE_REPORTED_MISSING *PFN_WDF_DEVICE_REPORTED_MISSING;

/* Only EvtDeviceEject and EvtDeviceReportedMissing are called by the model;
 * the others are recorded and never called (KERNEL-SEMANTICS §11). */
typedef struct _WDF_PDO_EVENT_CALLBACKS {
    ULONG Size;
    PFN_WDF_DEVICE_RESOURCES_QUERY EvtDeviceResourcesQuery;
    PFN_WDF_DEVICE_RESOURCE_REQUIREMENTS_QUERY EvtDeviceResourceRequirementsQuery;
    PFN_WDF_DEVICE_EJECT EvtDeviceEject;
    PFN_WDF_DEVICE_SET_LOCK EvtDeviceSetLock;
    PFN_WDF_DEVICE_ENABLE_WAKE_AT_BUS EvtDeviceEnableWakeAtBus;
    PFN_WDF_DEVICE_DISABLE_WAKE_AT_BUS EvtDeviceDisableWakeAtBus;
    PFN_WDF_DEVICE_REPORTED_MISSING EvtDeviceReportedMissing;
} WDF_PDO_EVENT_CALLBACKS, *PWDF_PDO_EVENT_CALLBACKS;

static inline VOID WDF_PDO_EVENT_CALLBACKS_INIT(PWDF_PDO_EVENT_CALLBACKS Callbacks)
{
    RtlZeroMemory(Callbacks, sizeof(*Callbacks));
    Callbacks->Size = sizeof(*Callbacks);
}

VOID WdfPdoInitSetEventCallbacks(_In_ PWDFDEVICE_INIT DeviceInit, _In_ PWDF_PDO_EVENT_CALLBACKS DispatchTable);
NTSTATUS WdfPdoInitAssignInstanceID(_In_ PWDFDEVICE_INIT DeviceInit, _In_ PCUNICODE_STRING InstanceID);
/* Hardware IDs in order of preference; the first one that a target image
 * lists binds the function driver (after the device ID). */
NTSTATUS WdfPdoInitAddHardwareID(_In_ PWDFDEVICE_INIT DeviceInit, _In_ PCUNICODE_STRING HardwareID);
NTSTATUS WdfPdoInitAddCompatibleID(_In_ PWDFDEVICE_INIT DeviceInit, _In_ PCUNICODE_STRING CompatibleID);
NTSTATUS WdfPdoInitAddDeviceText(_In_ PWDFDEVICE_INIT DeviceInit, _In_ PCUNICODE_STRING DeviceDescription,
                                 _In_ PCUNICODE_STRING DeviceLocation, _In_ LCID LocaleId);
VOID WdfPdoInitSetDefaultLocale(_In_ PWDFDEVICE_INIT DeviceInit, _In_ LCID LocaleId);
/* A raw PDO: started with no function driver. */
NTSTATUS WdfPdoInitAssignRawDevice(_In_ PWDFDEVICE_INIT DeviceInit, _In_ const GUID *DeviceClassGuid);

/* The child is gone: as WdfChildListUpdateChildDescriptionAsMissing for its
 * description (static children too). STATUS_NO_SUCH_DEVICE if not listed. */
NTSTATUS WdfPdoMarkMissing(_In_ WDFDEVICE Device);
/* Asks the PnP manager to eject the child: QUERY_REMOVE, REMOVE, EJECT. */
VOID WdfPdoRequestEject(_In_ WDFDEVICE Device);

#ifdef __cplusplus
}
#endif
#endif
