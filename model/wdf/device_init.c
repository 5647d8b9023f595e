/*
 * Device-init settings and device interfaces (include/tdf/wdfdeviceinit.h),
 * and the registry read from the target's parameters (wdfregistry.h).
 */
#include "wdf_internal.h"

#include <string.h>

#include "tdf/wdfdeviceinit.h"
#include "tdf/wdfregistry.h"

VOID WdfDeviceInitSetDeviceType(PWDFDEVICE_INIT DeviceInit, DEVICE_TYPE DeviceType)
{
    DeviceInit->settings.device_type = DeviceType;
}

VOID WdfDeviceInitSetExclusive(PWDFDEVICE_INIT DeviceInit, BOOLEAN IsExclusive)
{
    DeviceInit->settings.exclusive = IsExclusive;
}

VOID WdfDeviceInitSetIoType(PWDFDEVICE_INIT DeviceInit, WDF_DEVICE_IO_TYPE IoType)
{
    DeviceInit->settings.io_type = IoType;
}

VOID WdfDeviceInitSetCharacteristics(PWDFDEVICE_INIT DeviceInit, ULONG DeviceCharacteristics, BOOLEAN OrInValues)
{
    DeviceInit->settings.characteristics =
        OrInValues ? DeviceInit->settings.characteristics | DeviceCharacteristics : DeviceCharacteristics;
}

DEVICE_TYPE WdfDeviceGetDeviceType(WDFDEVICE Device)
{
    return wdf_device_checked(Device, "WdfDeviceGetDeviceType")->settings.device_type;
}

ULONG WdfDeviceGetCharacteristics(WDFDEVICE Device)
{
    return wdf_device_checked(Device, "WdfDeviceGetCharacteristics")->settings.characteristics;
}

/* KMDF: PASSIVE_LEVEL, and a PDO's interface only once it is started... the
 * model records nothing per interface: no one is notified of interfaces. */
NTSTATUS WdfDeviceCreateDeviceInterface(WDFDEVICE Device, const GUID *InterfaceClassGUID,
                                        PCUNICODE_STRING ReferenceString)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* shared state, no yield first: footprints (sched.h) */
    wdf_device_checked(Device, "WdfDeviceCreateDeviceInterface");
    if (ke_irql() != PASSIVE_LEVEL)
        TDF_MISUSE("WdfDeviceCreateDeviceInterface", "WdfDeviceCreateDeviceInterface above PASSIVE_LEVEL");
    return InterfaceClassGUID ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

VOID WdfDeviceSetDeviceInterfaceState(WDFDEVICE Device, const GUID *InterfaceClassGUID,
                                      PCUNICODE_STRING ReferenceString, BOOLEAN IsInterfaceEnabled)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* shared state, no yield first: footprints (sched.h) */
    wdf_device_checked(Device, "WdfDeviceSetDeviceInterfaceState");
}

/* ---- registry ------------------------------------------------------------------ */
#define REGISTRY_MAX_ASSIGNED 16

typedef struct registry_key {
    wdf_object_t obj;
    int closed;
} registry_key_t;

/* Values assigned this run (by any key: the model has one value namespace). */
static struct {
    char name[32];
    ULONG value;
} g_assigned[REGISTRY_MAX_ASSIGNED];
static unsigned g_nassigned;

void wdf_registry_reset(void) { g_nassigned = 0; }

static NTSTATUS key_new(PWDF_OBJECT_ATTRIBUTES attrs, WDFKEY *Key)
{
    if (ke_irql() != PASSIVE_LEVEL)
        TDF_MISUSE("registry", "registry keys are opened at PASSIVE_LEVEL only");
    registry_key_t *k = pool_alloc_model(sizeof *k);
    memset(k, 0, sizeof *k);
    wdf_object_init(&k->obj, OBJ_REGKEY, attrs);
    *Key = (WDFKEY)k;
    return STATUS_SUCCESS;
}

NTSTATUS WdfDriverOpenParametersRegistryKey(WDFDRIVER Driver, ACCESS_MASK DesiredAccess,
                                            PWDF_OBJECT_ATTRIBUTES KeyAttributes, WDFKEY *Key)
{
    wdf_object_checked((WDFOBJECT)Driver, OBJ_DRIVER, "WdfDriverOpenParametersRegistryKey");
    return key_new(KeyAttributes, Key);
}

NTSTATUS WdfDeviceOpenRegistryKey(WDFDEVICE Device, ULONG DeviceInstanceKeyType, ACCESS_MASK DesiredAccess,
                                  PWDF_OBJECT_ATTRIBUTES KeyAttributes, WDFKEY *Key)
{
    wdf_device_checked(Device, "WdfDeviceOpenRegistryKey");
    return key_new(KeyAttributes, Key);
}

static registry_key_t *key_checked(WDFKEY Key, const char *routine)
{
    registry_key_t *k = (registry_key_t *)wdf_object_checked((WDFOBJECT)Key, OBJ_REGKEY, routine);
    if (k->closed)
        TDF_BUGCHECK(0x10D, 0x5, "WDF_VIOLATION", "%s called with a registry key already closed", routine);
    return k;
}

/* The value name as ASCII (parameter names are ASCII); FALSE if it is not. */
static int name_ascii(PCUNICODE_STRING name, char *out, size_t size)
{
    size_t n = name->Length / sizeof(WCHAR);
    if (n + 1 > size)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (name->Buffer[i] == 0 || name->Buffer[i] > 0x7e)
            return 0;
        out[i] = (char)name->Buffer[i];
    }
    out[n] = 0;
    return 1;
}

NTSTATUS WdfRegistryQueryULong(WDFKEY Key, PCUNICODE_STRING ValueName, PULONG Value)
{
    key_checked(Key, "WdfRegistryQueryULong");
    char name[32];
    if (!name_ascii(ValueName, name, sizeof name))
        return STATUS_OBJECT_NAME_NOT_FOUND;
    for (unsigned i = g_nassigned; i-- > 0;)
        if (strcmp(g_assigned[i].name, name) == 0) {
            *Value = g_assigned[i].value;
            return STATUS_SUCCESS;
        }
    return TdfParamLookup(name, Value) ? STATUS_SUCCESS : STATUS_OBJECT_NAME_NOT_FOUND;
}

NTSTATUS WdfRegistryAssignULong(WDFKEY Key, PCUNICODE_STRING ValueName, ULONG Value)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* shared state, no yield first: footprints (sched.h) */
    key_checked(Key, "WdfRegistryAssignULong");
    char name[32];
    if (!name_ascii(ValueName, name, sizeof name))
        return STATUS_INVALID_PARAMETER;
    for (unsigned i = 0; i < g_nassigned; i++)
        if (strcmp(g_assigned[i].name, name) == 0) {
            g_assigned[i].value = Value;
            return STATUS_SUCCESS;
        }
    if (g_nassigned == REGISTRY_MAX_ASSIGNED) {
        TDF_LIMIT(REGISTRY_MAX_ASSIGNED, "model/wdf/device_init.c", "registry value %s assigned", name);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    memcpy(g_assigned[g_nassigned].name, name, sizeof name);
    g_assigned[g_nassigned++].value = Value;
    return STATUS_SUCCESS;
}

VOID WdfRegistryClose(WDFKEY Key)
{
    key_checked(Key, "WdfRegistryClose")->closed = 1;
}
