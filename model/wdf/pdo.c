/*
 * What a bus driver tells the framework about a PDO it creates
 * (KERNEL-SEMANTICS §11): identifiers (WdfPdoInit*), PDO callbacks, capabilities, bus
 * information; and the bus-initiated PnP of a child: WdfPdoMarkMissing,
 * WdfPdoRequestEject. Identifiers are recorded for the hardware-ID match that
 * picks the child's function driver; the device text is the description
 * property (device_property.c), the locale only validated.
 */
#include "childlist.h"

#include <string.h>

#include "../pnp/pnp.h" /* devnode_t: a removed static child is not returned */

static PCWSTR copy_string(PCUNICODE_STRING s)
{
    size_t chars = s->Length / sizeof(WCHAR);
    WCHAR *copy = pool_alloc_model((chars + 1) * sizeof(WCHAR));
    if (chars) /* an empty string may have no buffer */
        memcpy(copy, s->Buffer, chars * sizeof(WCHAR));
    return copy;
}

static tdf_childlist_init_t *pdo_init(PWDFDEVICE_INIT init, const char *routine)
{
    if (!init || init->consumed || !init->is_pdo)
        TdfUnmodelled(routine, "called on an FDO init, or on a PDO init already used (KMDF: 0x10D)");
    return wdf_childlist_init(init);
}

VOID WdfPdoInitSetEventCallbacks(PWDFDEVICE_INIT DeviceInit, PWDF_PDO_EVENT_CALLBACKS DispatchTable)
{
    ke_yield();
    pdo_init(DeviceInit, "WdfPdoInitSetEventCallbacks")->pdo_cb = *DispatchTable;
}

NTSTATUS WdfPdoInitAssignInstanceID(PWDFDEVICE_INIT DeviceInit, PCUNICODE_STRING InstanceID)
{
    ke_yield();
    pdo_init(DeviceInit, "WdfPdoInitAssignInstanceID")->instance_id = copy_string(InstanceID);
    return STATUS_SUCCESS;
}

static NTSTATUS add_id(PCWSTR *ids, unsigned *n, PCUNICODE_STRING id, const char *what)
{
    if (*n >= MAX_PDO_IDS) {
        TDF_LIMIT(MAX_PDO_IDS, "model/wdf/childlist.h", "more %s IDs on one PDO", what);
        return STATUS_INSUFFICIENT_RESOURCES; /* only from main, which stops the run */
    }
    ids[(*n)++] = copy_string(id);
    return STATUS_SUCCESS;
}

NTSTATUS WdfPdoInitAddHardwareID(PWDFDEVICE_INIT DeviceInit, PCUNICODE_STRING HardwareID)
{
    ke_yield();
    tdf_childlist_init_t *ci = pdo_init(DeviceInit, "WdfPdoInitAddHardwareID");
    return add_id(ci->hardware_ids, &ci->nhardware, HardwareID, "hardware");
}

NTSTATUS WdfPdoInitAddCompatibleID(PWDFDEVICE_INIT DeviceInit, PCUNICODE_STRING CompatibleID)
{
    ke_yield();
    tdf_childlist_init_t *ci = pdo_init(DeviceInit, "WdfPdoInitAddCompatibleID");
    return add_id(ci->compatible_ids, &ci->ncompatible, CompatibleID, "compatible");
}

NTSTATUS WdfPdoInitAddDeviceText(PWDFDEVICE_INIT DeviceInit, PCUNICODE_STRING DeviceDescription,
                                 PCUNICODE_STRING DeviceLocation, LCID LocaleId)
{
    ke_yield();
    (void)LocaleId;
    tdf_childlist_init_t *ci = pdo_init(DeviceInit, "WdfPdoInitAddDeviceText");
    if (!DeviceDescription || !DeviceLocation)
        return STATUS_INVALID_PARAMETER;
    /* The text only reaches the UI and the device's description property
     * (device_property.c); the first locale's is kept. */
    if (!ci->device_text)
        ci->device_text = copy_string(DeviceDescription);
    return STATUS_SUCCESS;
}

VOID WdfPdoInitSetDefaultLocale(PWDFDEVICE_INIT DeviceInit, LCID LocaleId)
{
    ke_yield();
    (void)LocaleId;
    pdo_init(DeviceInit, "WdfPdoInitSetDefaultLocale");
}

NTSTATUS WdfPdoInitAssignRawDevice(PWDFDEVICE_INIT DeviceInit, const GUID *DeviceClassGuid)
{
    ke_yield();
    (void)DeviceClassGuid;
    pdo_init(DeviceInit, "WdfPdoInitAssignRawDevice")->raw = 1;
    return STATUS_SUCCESS;
}

/* WdfDeviceCreate: what the init carried moves to the device. */
void wdf_childlist_device_created(wdf_device_t *d, PWDFDEVICE_INIT init)
{
    tdf_childlist_init_t *ci = init->cl;
    if (!ci)
        return;
    tdf_childlist_dev_t *x = wdf_childlist_dev(d);
    x->pdo_cb = ci->pdo_cb;
    memcpy(x->hardware_ids, ci->hardware_ids, sizeof x->hardware_ids);
    memcpy(x->compatible_ids, ci->compatible_ids, sizeof x->compatible_ids);
    x->nhardware = ci->nhardware;
    x->ncompatible = ci->ncompatible;
    x->instance_id = ci->instance_id;
    x->device_text = ci->device_text;
    x->raw = ci->raw;
    if (ci->has_default_config) {
        wdf_child_list_t *l = pool_alloc_model(sizeof *l);
        wdf_object_init(&l->obj, OBJ_CHILDLIST, ci->has_default_attrs ? &ci->default_attrs : NULL);
        l->obj.image = d->driver->image;
        l->device = d;
        l->cfg = ci->default_config;
        x->lists[x->nlists++] = l;
        x->has_default = 1;
    }
}

/* The hardware ID that binds the function driver: the device ID, then the
 * hardware IDs, then the compatible IDs, the first one `match` knows (the
 * INF search order). A raw PDO runs without one. */
PCWSTR wdf_pdo_binding_id(wdf_device_t *pdo, int (*match)(PCWSTR))
{
    if (wdf_pdo_is_raw(pdo))
        return NULL;
    if (pdo->device_id && match(pdo->device_id))
        return pdo->device_id;
    tdf_childlist_dev_t *x = pdo->cl;
    if (x) {
        for (unsigned i = 0; i < x->nhardware; i++)
            if (match(x->hardware_ids[i]))
                return x->hardware_ids[i];
        for (unsigned i = 0; i < x->ncompatible; i++)
            if (match(x->compatible_ids[i]))
                return x->compatible_ids[i];
    }
    return pdo->device_id;
}

int wdf_pdo_is_raw(wdf_device_t *pdo) { return pdo->cl && pdo->cl->raw; }

int wdf_pdo_eject_supported(wdf_device_t *pdo)
{
    return pdo->cl && pdo->cl->has_pnp_caps && pdo->cl->pnp_caps.EjectSupported == WdfTrue;
}

/* ---- capabilities ------------------------------------------------------------------ */
VOID WdfDeviceSetPnpCapabilities(WDFDEVICE Device, PWDF_DEVICE_PNP_CAPABILITIES PnpCapabilities)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceSetPnpCapabilities");
    tdf_childlist_dev_t *x = wdf_childlist_dev(d);
    x->has_pnp_caps = 1;
    x->pnp_caps = *PnpCapabilities;
}

VOID WdfDeviceSetPowerCapabilities(WDFDEVICE Device, PWDF_DEVICE_POWER_CAPABILITIES PowerCapabilities)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceSetPowerCapabilities");
    tdf_childlist_dev_t *x = wdf_childlist_dev(d);
    x->has_power_caps = 1;
    x->power_caps = *PowerCapabilities;
}

VOID WdfDeviceSetBusInformationForChildren(WDFDEVICE Device, PPNP_BUS_INFORMATION BusInformation)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceSetBusInformationForChildren");
    tdf_childlist_dev_t *x = wdf_childlist_dev(d);
    x->has_bus_info = 1;
    x->bus_info = *BusInformation;
}

/* ---- bus-initiated PnP -------------------------------------------------------------- */
NTSTATUS WdfPdoMarkMissing(WDFDEVICE Device)
{
    ke_yield();
    wdf_device_t *pdo = wdf_device_checked(Device, "WdfPdoMarkMissing");
    if (!pdo->is_pdo)
        TdfUnmodelled("WdfPdoMarkMissing", "called on an FDO (KMDF: 0x10D)");
    tdf_childlist_dev_t *x = wdf_childlist_dev(pdo);
    if (x->entry) {
        /* A dynamic child: as UpdateAsMissing of its description
         * (FxChildList::UpdateDeviceAsMissing). */
        cl_entry_t *e = x->entry;
        if (e->state == CL_HAS_PDO) {
            e->pending_remove = 1;
            wdf_childlist_reprocess(e->list);
        }
        return STATUS_SUCCESS;
    }
    wdf_device_t *fdo = pdo->parent_fdo;
    int listed = 0;
    for (unsigned i = 0; fdo && i < fdo->static_child_count; i++)
        listed |= fdo->static_children[i] == pdo;
    if (!listed)
        return STATUS_NO_SUCH_DEVICE;
    if (!x->reported_missing && !x->missing_deferred) {
        if (fdo->static_iterations > 0) {
            /* FxChildList::UpdateDeviceAsMissing queues the change; nothing
             * is processed while the list is locked for iteration */
            x->missing_deferred = 1;
            SCHED_TRACE1("%s: marked missing, applied when the static child list is unlocked", pdo->name);
        } else {
            x->reported_missing = 1;
            SCHED_TRACE1("%s: child reported missing", pdo->name);
            if (fdo->node && !fdo->obj.deleted)
                pnp_invalidate_bus_relations(fdo);
        }
    }
    return STATUS_SUCCESS;
}

VOID WdfPdoRequestEject(WDFDEVICE Device)
{
    ke_yield();
    wdf_device_t *pdo = wdf_device_checked(Device, "WdfPdoRequestEject");
    if (!pdo->is_pdo)
        TdfUnmodelled("WdfPdoRequestEject", "called on an FDO (KMDF: 0x10D)");
    pnp_request_eject(pdo);
}

/* ---- the static child list, iterated (wdffdo.h) ------------------------------------ */
/* KMDF keeps static children in a child list of its own (FxChildList
 * m_StaticList): the iteration lock is its scan count, while which no change
 * to the list is processed (FxChildList::ProcessModificationsLocked): a child
 * added meanwhile is not reported to PnP (pnp_manager.c enumerate_children
 * skips a locked list) and one marked missing, by the bus or by a successful
 * eject, stays present until the last unlock, which applies it and asks for
 * the bus relations. So a PDO the bus retrieved under the lock is not
 * removed before the unlock; a PDO already reported missing may be removed
 * (it is skipped, as KMDF skips an entry pending deletion). */
static wdf_device_t *static_fdo(WDFDEVICE Fdo, const char *routine)
{
    wdf_device_t *fdo = wdf_device_checked(Fdo, routine);
    if (fdo->is_pdo)
        TdfUnmodelled(routine, "called on a PDO (KMDF: a verifier break, nothing done)");
    return fdo;
}

void wdf_static_children_compact(wdf_device_t *fdo)
{
    if (fdo->static_iterations > 0)
        return; /* a retrieved handle's position must stay findable */
    unsigned kept = 0;
    for (unsigned i = 0; i < fdo->static_child_count; i++)
        if (!fdo->static_children[i]->obj.deleted)
            fdo->static_children[kept++] = fdo->static_children[i];
    fdo->static_child_count = kept;
}

VOID WdfFdoLockStaticChildListForIteration(WDFDEVICE Fdo)
{
    ke_yield();
    static_fdo(Fdo, "WdfFdoLockStaticChildListForIteration")->static_iterations++;
}

static ULONG static_state(const wdf_device_t *pdo)
{
    if (pdo->obj.deleted || pdo->obj.destroyed || (pdo->node && pdo->node->gone))
        return 0; /* removed: never returned */
    if (pdo->cl && pdo->cl->reported_missing)
        return WdfRetrieveMissingChildren;
    return pdo->node ? WdfRetrievePresentChildren : WdfRetrievePendingChildren;
}

WDFDEVICE WdfFdoRetrieveNextStaticChild(WDFDEVICE Fdo, WDFDEVICE PreviousChild, ULONG Flags)
{
    ke_yield();
    wdf_device_t *fdo = static_fdo(Fdo, "WdfFdoRetrieveNextStaticChild");
    if (Flags == 0 || (Flags & ~(ULONG)WdfRetrieveAllChildren))
        TdfUnmodelled("WdfFdoRetrieveNextStaticChild", "invalid WDF_RETRIEVE_CHILD_FLAGS (KMDF: a verifier break)");
    if (fdo->static_iterations == 0) {
        TDF_MISUSE("STATIC_CHILD_LIST_NOT_LOCKED",
                   "%s: WdfFdoRetrieveNextStaticChild outside WdfFdoLockStaticChildListForIteration "
                   "(KMDF asserts its scan count; the free build returns NULL)",
                   fdo->name);
        return NULL;
    }
    unsigned i = 0;
    if (PreviousChild) {
        /* as KMDF: the walk resumes after the previous handle's entry; one
         * that is not a child of this FDO ends it */
        while (i < fdo->static_child_count && (WDFDEVICE)fdo->static_children[i] != PreviousChild)
            i++;
        i++;
    }
    for (; i < fdo->static_child_count; i++) {
        wdf_device_t *pdo = fdo->static_children[i];
        if (static_state(pdo) & Flags)
            return (WDFDEVICE)pdo;
    }
    return NULL;
}

VOID WdfFdoUnlockStaticChildListFromIteration(WDFDEVICE Fdo)
{
    ke_yield();
    wdf_device_t *fdo = static_fdo(Fdo, "WdfFdoUnlockStaticChildListFromIteration");
    if (fdo->static_iterations == 0) {
        TDF_MISUSE("STATIC_CHILD_LIST_NOT_LOCKED",
                   "%s: WdfFdoUnlockStaticChildListFromIteration without a matching lock", fdo->name);
        return;
    }
    if (--fdo->static_iterations > 0)
        return;
    wdf_static_children_compact(fdo); /* PDOs deleted during the iteration */
    int changed = 0;
    for (unsigned i = 0; i < fdo->static_child_count; i++) {
        wdf_device_t *pdo = fdo->static_children[i];
        changed |= !pdo->node && !pdo->obj.deleted; /* added while locked: to be reported */
        if (pdo->cl && pdo->cl->missing_deferred) {
            pdo->cl->missing_deferred = 0;
            pdo->cl->reported_missing = 1;
            SCHED_TRACE1("%s: child reported missing", pdo->name);
            changed = 1;
        }
    }
    if (changed && fdo->node && !fdo->obj.deleted)
        pnp_invalidate_bus_relations(fdo);
}
