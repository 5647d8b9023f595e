/*
 * The WDM objects under KMDF ones, and KMDF's other WDM escapes. A KMDF
 * device's DEVICE_OBJECT and a KMDF driver's DRIVER_OBJECT are real objects
 * of the IRP model (include/tdf/irp.h, KERNEL-SEMANTICS §16); the getters are
 * not yield points.
 */
#ifndef TDF_WDM_BRIDGE_H
#define TDF_WDM_BRIDGE_H

#ifdef __cplusplus
extern "C" {
#endif

PDEVICE_OBJECT WdfDeviceWdmGetDeviceObject(_In_ WDFDEVICE Device);
/* The device object below this one in its stack: what the FDO's
 * IoAttachDeviceToDeviceStack returned (its PDO's stack top; a root device:
 * the root enumerator's PDO); NULL for a PDO. */
PDEVICE_OBJECT WdfDeviceWdmGetAttachedDevice(_In_ WDFDEVICE Device);
/* The stack's PDO (the device itself for a PDO; a root-enumerated FDO: the
 * root enumerator's PDO). */
PDEVICE_OBJECT WdfDeviceWdmGetPhysicalDevice(_In_ WDFDEVICE Device);
PDRIVER_OBJECT WdfDriverWdmGetDriverObject(_In_ WDFDRIVER Driver);
WDFDRIVER WdfWdmDriverGetWdfDriverHandle(_In_ PDRIVER_OBJECT DriverObject);
WDFDEVICE WdfWdmDeviceGetWdfDeviceHandle(_In_ PDEVICE_OBJECT DeviceObject);

/* The request's IRP, valid until the request completes: the driver may read
 * it (stack location, buffers); completing, freeing or sending it on is the
 * framework's (MISUSE / UNMODELLED), except inside the preprocess callback. */
PIRP WdfRequestWdmGetIrp(_In_ WDFREQUEST Request);

/* A preprocess callback sees an IRP before the framework does; it either
 * hands it on (IoSkipCurrentIrpStackLocation or
 * IoCopyCurrentIrpStackLocationToNext first, then
 * WdfDeviceWdmDispatchPreprocessedIrp, whose status it returns), completes it
 * (IoCompleteRequest), or marks it pending and keeps it. Modelled for
 * IRP_MJ_DEVICE_CONTROL only: the model's clients' DeviceIoControl requests
 * (the model sends KMDF devices no PnP or power IRPs). */
typedef NTSTATUS EVT_WDFDEVICE_WDM_IRP_PREPROCESS(_In_ WDFDEVICE Device, _Inout_ PIRP Irp);
typedef EVT_WDFDEVICE_WDM_IRP_PREPROCESS *PFN_WDFDEVICE_WDM_IRP_PREPROCESS;
NTSTATUS WdfDeviceInitAssignWdmIrpPreprocessCallback(_In_ PWDFDEVICE_INIT DeviceInit,
                                                     _In_ PFN_WDFDEVICE_WDM_IRP_PREPROCESS EvtDeviceWdmIrpPreprocess,
                                                     _In_ UCHAR MajorFunction, _In_opt_ PUCHAR MinorFunctions,
                                                     _In_ ULONG NumMinorFunctions);
NTSTATUS WdfDeviceWdmDispatchPreprocessedIrp(_In_ WDFDEVICE Device, _In_ PIRP Irp);

#ifdef __cplusplus
}
#endif
#endif
