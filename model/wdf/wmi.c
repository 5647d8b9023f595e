/*
 * WMI, accepted and ignored (include/tdf/wmi.h): real objects with their
 * contexts, no WMI request ever delivered. The objects are not children of
 * the device in the model's object tree, so their EvtCleanupCallback does
 * not run; their contexts are model pool, released with the run.
 */
#include "wdf_internal.h"

#include <string.h>

#include "tdf/wmi.h"

typedef struct wmi_provider {
    wdf_object_t obj;
    wdf_device_t *device;
    WDF_WMI_PROVIDER_CONFIG config;
} wmi_provider_t;

typedef struct wmi_instance {
    wdf_object_t obj;
    wdf_device_t *device;
    wmi_provider_t *provider;
    int registered;
} wmi_instance_t;

static wmi_provider_t *provider_new(wdf_device_t *d, const WDF_WMI_PROVIDER_CONFIG *config,
                                    PWDF_OBJECT_ATTRIBUTES attrs)
{
    wmi_provider_t *p = pool_alloc_model(sizeof *p);
    memset(p, 0, sizeof *p);
    wdf_object_init(&p->obj, OBJ_WMI_PROVIDER, attrs);
    p->device = d;
    p->config = *config;
    return p;
}

NTSTATUS WdfWmiProviderCreate(WDFDEVICE Device, PWDF_WMI_PROVIDER_CONFIG WmiProviderConfig,
                              PWDF_OBJECT_ATTRIBUTES ProviderAttributes, WDFWMIPROVIDER *WmiProvider)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* shared state, no yield first: footprints (sched.h) */
    wdf_device_t *d = wdf_device_checked(Device, "WdfWmiProviderCreate");
    if (!WmiProviderConfig || WmiProviderConfig->Size != sizeof(WDF_WMI_PROVIDER_CONFIG) ||
        (WmiProviderConfig->Flags & ~(ULONG)WdfWmiProviderValidFlags))
        return STATUS_INVALID_PARAMETER;
    *WmiProvider = (WDFWMIPROVIDER)provider_new(d, WmiProviderConfig, ProviderAttributes);
    return STATUS_SUCCESS;
}

WDFDEVICE WdfWmiProviderGetDevice(WDFWMIPROVIDER WmiProvider)
{
    wmi_provider_t *p = (wmi_provider_t *)wdf_object_checked((WDFOBJECT)WmiProvider, OBJ_WMI_PROVIDER,
                                                             "WdfWmiProviderGetDevice");
    return (WDFDEVICE)p->device;
}

/* No WMI client ever enables a provider. */
BOOLEAN WdfWmiProviderIsEnabled(WDFWMIPROVIDER WmiProvider, WDF_WMI_PROVIDER_CONTROL ProviderControl)
{
    wdf_object_checked((WDFOBJECT)WmiProvider, OBJ_WMI_PROVIDER, "WdfWmiProviderIsEnabled");
    return FALSE;
}

NTSTATUS WdfWmiInstanceCreate(WDFDEVICE Device, PWDF_WMI_INSTANCE_CONFIG InstanceConfig,
                              PWDF_OBJECT_ATTRIBUTES InstanceAttributes, WDFWMIINSTANCE *Instance)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* shared state, no yield first: footprints (sched.h) */
    wdf_device_t *d = wdf_device_checked(Device, "WdfWmiInstanceCreate");
    if (!InstanceConfig || InstanceConfig->Size != sizeof(WDF_WMI_INSTANCE_CONFIG))
        return STATUS_INVALID_PARAMETER;
    /* KMDF: exactly one of Provider and ProviderConfig. */
    if ((InstanceConfig->Provider == NULL) == (InstanceConfig->ProviderConfig == NULL))
        return STATUS_INVALID_PARAMETER;
    wmi_provider_t *p;
    if (InstanceConfig->Provider)
        p = (wmi_provider_t *)wdf_object_checked((WDFOBJECT)InstanceConfig->Provider, OBJ_WMI_PROVIDER,
                                                 "WdfWmiInstanceCreate");
    else
        p = provider_new(d, InstanceConfig->ProviderConfig, NULL);
    wmi_instance_t *w = pool_alloc_model(sizeof *w);
    memset(w, 0, sizeof *w);
    wdf_object_init(&w->obj, OBJ_WMI_INSTANCE, InstanceAttributes);
    w->device = d;
    w->provider = p;
    w->registered = InstanceConfig->Register;
    if (Instance)
        *Instance = (WDFWMIINSTANCE)w;
    return STATUS_SUCCESS;
}

static wmi_instance_t *instance_checked(WDFWMIINSTANCE h, const char *routine)
{
    return (wmi_instance_t *)wdf_object_checked((WDFOBJECT)h, OBJ_WMI_INSTANCE, routine);
}

NTSTATUS WdfWmiInstanceRegister(WDFWMIINSTANCE WmiInstance)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* shared state, no yield first: footprints (sched.h) */
    instance_checked(WmiInstance, "WdfWmiInstanceRegister")->registered = 1;
    return STATUS_SUCCESS;
}

VOID WdfWmiInstanceDeregister(WDFWMIINSTANCE WmiInstance)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* shared state, no yield first: footprints (sched.h) */
    instance_checked(WmiInstance, "WdfWmiInstanceDeregister")->registered = 0;
}

WDFDEVICE WdfWmiInstanceGetDevice(WDFWMIINSTANCE WmiInstance)
{
    return (WDFDEVICE)instance_checked(WmiInstance, "WdfWmiInstanceGetDevice")->device;
}

WDFWMIPROVIDER WdfWmiInstanceGetProvider(WDFWMIINSTANCE WmiInstance)
{
    return (WDFWMIPROVIDER)instance_checked(WmiInstance, "WdfWmiInstanceGetProvider")->provider;
}

NTSTATUS WdfWmiInstanceFireEvent(WDFWMIINSTANCE WmiInstance, ULONG EventDataSize, PVOID EventData)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* shared state, no yield first: footprints (sched.h) */
    instance_checked(WmiInstance, "WdfWmiInstanceFireEvent");
    return STATUS_SUCCESS;
}

NTSTATUS WdfDeviceAssignMofResourceName(WDFDEVICE Device, PCUNICODE_STRING MofResourceName)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* shared state, no yield first: footprints (sched.h) */
    wdf_device_checked(Device, "WdfDeviceAssignMofResourceName");
    return STATUS_SUCCESS;
}

NTSTATUS WDF_WMI_BUFFER_APPEND_STRING(PVOID Buffer, ULONG BufferLength, PCUNICODE_STRING String,
                                      PULONG RequiredSize)
{
    *RequiredSize = (ULONG)(sizeof(USHORT) + String->Length);
    if (BufferLength < *RequiredSize)
        return STATUS_BUFFER_TOO_SMALL;
    USHORT length = String->Length;
    memcpy(Buffer, &length, sizeof length);
    memcpy((UCHAR *)Buffer + sizeof length, String->Buffer, String->Length);
    return STATUS_SUCCESS;
}

/* On success WMI owns the event's WNODE and frees it. */
NTSTATUS IoWMIWriteEvent(PVOID WnodeEventItem)
{
    ExFreePool(WnodeEventItem);
    return STATUS_SUCCESS;
}

ULONG IoWMIDeviceObjectToProviderId(PDEVICE_OBJECT DeviceObject)
{
    /* Windows: the device object's address as a number; any stable value will do. */
    return (ULONG)(ULONG_PTR)DeviceObject;
}
