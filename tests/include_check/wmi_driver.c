/*
 * A driver with WMI: its classes' header is generated from wmi_check.mof
 * (tdf_add_image MOF wmi_check.mof=WmiCheckMof.h), with the names the WDK's
 * wmimofck gives; WMI itself is accepted and ignored (include/tdf/wmi.h).
 * Built in every configuration, so a generator or WMI header that breaks is a
 * build error.
 */
#include <ntddk.h>
#include <wdf.h>
#include <wmistr.h>

#include <WmiCheckMof.h>

_Static_assert(WmiCheckControl_SIZE == sizeof(ULONG), "fixed-size class: _SIZE");
_Static_assert(WmiCheckInformation_DebugPrintLevel_ID == 2, "item ids");
_Static_assert(WmiCheckMethod == 1 && WmiCheckMethod_OUT_OutData_ID == 2, "method and parameter ids");

#define WmiCheckInformation_SIZE UFIELD_OFFSET(WmiCheckInformation, VariableData)

WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(WmiCheckInformation, WmiCheckGetData)

NTSTATUS WmiCheck_Register(WDFDEVICE Device);

NTSTATUS WmiCheck_Register(WDFDEVICE Device)
{
    WDF_WMI_PROVIDER_CONFIG provider;
    WDF_WMI_INSTANCE_CONFIG instance;
    WDF_OBJECT_ATTRIBUTES attributes;
    WDFWMIINSTANCE handle;
    WDF_WMI_PROVIDER_CONFIG_INIT(&provider, &WmiCheckInformation_GUID);
    provider.MinInstanceBufferSize = WmiCheckInformation_SIZE;
    WDF_WMI_INSTANCE_CONFIG_INIT_PROVIDER_CONFIG(&instance, &provider);
    instance.Register = TRUE;
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&attributes, WmiCheckInformation);
    NTSTATUS status = WdfWmiInstanceCreate(Device, &instance, &attributes, &handle);
    if (NT_SUCCESS(status))
        WmiCheckGetData(handle)->ErrorCount = 0;
    return status;
}
