/*
 * WdfDeviceQueryProperty / WdfDeviceAllocAndQueryProperty (IoGetDeviceProperty
 * underneath; KERNEL-SEMANTICS §11 "Device properties"). The values are the
 * devnode's as the model built it, never the host's: the IDs the bus gave the
 * PDO (or a root device's ID from the target description), the bus's device
 * text, the parent's bus information. What the devnode lacks is absent, as a
 * registry value an INF did not write.
 */
#include "childlist.h"

#include <string.h>

#include "../pnp/pnp.h"

typedef struct prop_value {
    const void *data;
    ULONG size;
    WCHAR text[64]; /* built strings (multi-sz or the devnode's name) */
    ULONG number;
    GUID guid;
} prop_value_t;

/* IDs as REG_MULTI_SZ: each terminated, one more terminator at the end. */
static ULONG multi_sz(WCHAR *out, size_t cap, PCWSTR const *ids, unsigned n)
{
    size_t at = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t len = tdf_wide_length(ids[i]);
        if (at + len + 2 > cap) {
            TDF_LIMIT(64, "model/wdf/device_property.c", "a device's IDs longer than the property buffer");
            break;
        }
        memcpy(out + at, ids[i], len * sizeof(WCHAR));
        at += len;
        out[at++] = 0;
    }
    out[at++] = 0;
    return (ULONG)(at * sizeof(WCHAR));
}

static void set_string(prop_value_t *v, PCWSTR s)
{
    v->data = s;
    v->size = (ULONG)((tdf_wide_length(s) + 1) * sizeof(WCHAR));
}

/* STATUS_SUCCESS with the value, or why there is none. */
static NTSTATUS property_of(wdf_device_t *d, DEVICE_REGISTRY_PROPERTY p, prop_value_t *v)
{
    devnode_t *n = d->node;
    wdf_device_t *pdo = d->is_pdo ? d : (n ? n->pdo : NULL);
    tdf_childlist_dev_t *x = pdo ? pdo->cl : NULL;
    wdf_device_t *bus = pdo ? pdo->parent_fdo : NULL;
    tdf_childlist_dev_t *bx = bus ? bus->cl : NULL;
    switch (p) {
    case DevicePropertyHardwareID:
        if (x && x->nhardware) {
            v->size = multi_sz(v->text, TDF_ARRAY_SIZE(v->text), x->hardware_ids, x->nhardware);
        } else if (pdo && pdo->device_id) {
            v->size = multi_sz(v->text, TDF_ARRAY_SIZE(v->text), &pdo->device_id, 1);
        } else if (!pdo && n && n->hardware_id) {
            v->size = multi_sz(v->text, TDF_ARRAY_SIZE(v->text), &n->hardware_id, 1);
        } else {
            return STATUS_OBJECT_NAME_NOT_FOUND;
        }
        v->data = v->text;
        return STATUS_SUCCESS;
    case DevicePropertyCompatibleIDs:
        if (!x || !x->ncompatible)
            return STATUS_OBJECT_NAME_NOT_FOUND;
        v->size = multi_sz(v->text, TDF_ARRAY_SIZE(v->text), x->compatible_ids, x->ncompatible);
        v->data = v->text;
        return STATUS_SUCCESS;
    case DevicePropertyDeviceDescription:
        if (x && x->device_text) {
            set_string(v, x->device_text);
        } else if (n) {
            /* an installed device always has one (its INF's): the devnode's name */
            size_t i = 0;
            for (; n->name[i] && i + 1 < TDF_ARRAY_SIZE(v->text); i++)
                v->text[i] = (WCHAR)(unsigned char)n->name[i];
            v->text[i] = 0;
            set_string(v, v->text);
        } else {
            return STATUS_OBJECT_NAME_NOT_FOUND;
        }
        return STATUS_SUCCESS;
    case DevicePropertyEnumeratorName:
        if (pdo)
            return STATUS_OBJECT_NAME_NOT_FOUND; /* the bus's enumerator name is not in the target description */
        set_string(v, L"ROOT");
        return STATUS_SUCCESS;
    case DevicePropertyBusTypeGuid:
    case DevicePropertyLegacyBusType:
    case DevicePropertyBusNumber:
        if (!bx || !bx->has_bus_info)
            return STATUS_OBJECT_NAME_NOT_FOUND;
        if (p == DevicePropertyBusTypeGuid) {
            v->guid = bx->bus_info.BusTypeGuid;
            v->data = &v->guid;
            v->size = sizeof(GUID);
        } else {
            v->number = p == DevicePropertyBusNumber ? bx->bus_info.BusNumber : (ULONG)bx->bus_info.LegacyBusType;
            v->data = &v->number;
            v->size = sizeof(ULONG);
        }
        return STATUS_SUCCESS;
    case DevicePropertyBootConfiguration:
    case DevicePropertyBootConfigurationTranslated:
    case DevicePropertyClassName:
    case DevicePropertyClassGuid:
    case DevicePropertyDriverKeyName:
    case DevicePropertyManufacturer:
    case DevicePropertyFriendlyName:
    case DevicePropertyLocationInformation:
    case DevicePropertyPhysicalDeviceObjectName:
    case DevicePropertyAddress:
    case DevicePropertyUINumber:
    case DevicePropertyInstallState:
    case DevicePropertyRemovalPolicy:
    case DevicePropertyResourceRequirements:
    case DevicePropertyAllocatedResources:
    case DevicePropertyContainerID:
        return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    return STATUS_INVALID_PARAMETER_2;
}

NTSTATUS WdfDeviceQueryProperty(WDFDEVICE Device, DEVICE_REGISTRY_PROPERTY DeviceProperty, ULONG BufferLength,
                                PVOID PropertyBuffer, PULONG ResultLength)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceQueryProperty");
    *ResultLength = 0;
    prop_value_t v;
    memset(&v, 0, sizeof v);
    NTSTATUS st = property_of(d, DeviceProperty, &v);
    if (!NT_SUCCESS(st))
        return st;
    *ResultLength = v.size;
    if (BufferLength < v.size || !PropertyBuffer)
        return STATUS_BUFFER_TOO_SMALL;
    memcpy(PropertyBuffer, v.data, v.size);
    return STATUS_SUCCESS;
}

NTSTATUS WdfDeviceAllocAndQueryProperty(WDFDEVICE Device, DEVICE_REGISTRY_PROPERTY DeviceProperty, POOL_TYPE PoolType,
                                        PWDF_OBJECT_ATTRIBUTES PropertyMemoryAttributes, WDFMEMORY *PropertyMemory)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceAllocAndQueryProperty");
    *PropertyMemory = NULL;
    prop_value_t v;
    memset(&v, 0, sizeof v);
    NTSTATUS st = property_of(d, DeviceProperty, &v);
    if (!NT_SUCCESS(st))
        return st;
    /* The memory's parent is the device unless the attributes name one (KMDF). */
    WDF_OBJECT_ATTRIBUTES attrs;
    if (PropertyMemoryAttributes) {
        attrs = *PropertyMemoryAttributes;
    } else {
        WDF_OBJECT_ATTRIBUTES_INIT(&attrs);
    }
    if (!attrs.ParentObject)
        attrs.ParentObject = Device;
    PVOID buffer;
    st = WdfMemoryCreate(&attrs, PoolType, 0, v.size, PropertyMemory, &buffer);
    if (NT_SUCCESS(st))
        memcpy(buffer, v.data, v.size);
    return st;
}
