/*
 * WDFCHILDLIST: dynamic enumeration (KERNEL-SEMANTICS §11). A bus driver
 * reports identification descriptions present or missing; the framework keeps
 * them, defers changes made during a scan or an iteration to its end, and asks
 * the PnP manager for a bus-relations query whenever the set of PDOs to report
 * changed (IoInvalidateDeviceRelations). That query (model/pnp, on a PnP
 * thread of its own) creates the PDOs of new descriptions through
 * EvtChildListCreateDevice and removes the PDOs of missing ones.
 *
 * Follows FxChildList (KMDF source: fxchildlist.cpp): Add, UpdateAsMissing,
 * BeginScan/EndScan, BeginIteration/GetNextDevice/EndIteration, GetDeviceFromId,
 * ProcessModificationsLocked, ProcessBusRelations. The description and the
 * modification list of KMDF are folded into one array in report order
 * (childlist.h, cl_state_t).
 */
#include "childlist.h"

#include <string.h>

tdf_childlist_dev_t *wdf_childlist_dev(wdf_device_t *d)
{
    if (!d->cl)
        d->cl = pool_alloc_model(sizeof *d->cl);
    return d->cl;
}

tdf_childlist_init_t *wdf_childlist_init(PWDFDEVICE_INIT init)
{
    if (!init->cl)
        init->cl = pool_alloc_model(sizeof *init->cl);
    return init->cl;
}

static wdf_child_list_t *list_checked(WDFCHILDLIST h, const char *routine)
{
    return (wdf_child_list_t *)wdf_object_checked((WDFOBJECT)h, OBJ_CHILDLIST, routine);
}

/* ---- descriptions ------------------------------------------------------------ */
static int matches(wdf_child_list_t *l, PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER a,
                   PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER b)
{
    /* The driver's compare decides (a compare that ignores a field makes two
     * children one); without it the framework compares the bytes. */
    if (l->cfg.EvtChildListIdentificationDescriptionCompare)
        return l->cfg.EvtChildListIdentificationDescriptionCompare((WDFCHILDLIST)l, a, b) != FALSE;
    return a->IdentificationDescriptionSize == b->IdentificationDescriptionSize &&
           memcmp(a, b, a->IdentificationDescriptionSize) == 0;
}

static void copy_address(wdf_child_list_t *l, PWDF_CHILD_ADDRESS_DESCRIPTION_HEADER dst,
                         PWDF_CHILD_ADDRESS_DESCRIPTION_HEADER src)
{
    if (!dst || !src)
        return;
    if (l->cfg.EvtChildListAddressDescriptionCopy)
        l->cfg.EvtChildListAddressDescriptionCopy((WDFCHILDLIST)l, src, dst);
    else
        memcpy(dst, src, l->cfg.AddressDescriptionSize);
}

static void copy_id_out(wdf_child_list_t *l, PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER dst,
                        PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER src)
{
    if (l->cfg.EvtChildListIdentificationDescriptionCopy)
        l->cfg.EvtChildListIdentificationDescriptionCopy((WDFCHILDLIST)l, src, dst);
    else
        memcpy(dst, src, l->cfg.IdentificationDescriptionSize);
}

/* Descriptions taken out of the list, whose cleanup callbacks are still to
 * run: KMDF unlinks them under the list's lock and calls the driver's cleanup
 * after releasing it (FxChildList::DrainFreeListHead), so a walk that starts
 * while the callbacks run (they are driver code: yield points) never finds a
 * description half processed. */
typedef struct free_list {
    cl_entry_t *v[MAX_CHILD_DESCRIPTIONS];
    unsigned n;
} free_list_t;

static void entry_detach(cl_entry_t *e, free_list_t *fl)
{
    if (e->state == CL_FREE)
        return;
    e->state = CL_FREE;
    fl->v[fl->n++] = e; /* at most one slot per description */
}

static void drain(free_list_t *fl)
{
    for (unsigned i = 0; i < fl->n; i++) {
        cl_entry_t *e = fl->v[i];
        wdf_child_list_t *l = e->list;
        if (l->cfg.EvtChildListIdentificationDescriptionCleanup)
            l->cfg.EvtChildListIdentificationDescriptionCleanup((WDFCHILDLIST)l, e->id);
        if (e->addr && l->cfg.EvtChildListAddressDescriptionCleanup)
            l->cfg.EvtChildListAddressDescriptionCleanup((WDFCHILDLIST)l, e->addr);
        SCHED_TRACE1("%s: child description freed", l->device->name);
    }
    fl->n = 0;
}

static void entry_free(cl_entry_t *e)
{
    free_list_t fl = {.n = 0};
    entry_detach(e, &fl);
    drain(&fl);
}

/* Drops FREE entries; not while a scan, an iteration or a relations query
 * holds positions in the array. */
static void compact(wdf_child_list_t *l)
{
    if (l->scan_count || l->hold)
        return;
    unsigned k = 0;
    for (unsigned i = 0; i < l->nentries; i++)
        if (l->entries[i]->state != CL_FREE)
            l->entries[k++] = l->entries[i];
    l->nentries = k;
}

static cl_entry_t *entry_new(wdf_child_list_t *l, PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER id,
                             PWDF_CHILD_ADDRESS_DESCRIPTION_HEADER addr, NTSTATUS *status)
{
    compact(l);
    if (l->nentries >= MAX_CHILD_DESCRIPTIONS) {
        /* KMDF has no bound: a failure status here would be the model's lie. */
        TDF_LIMIT(MAX_CHILD_DESCRIPTIONS, "model/wdf/childlist.h", "%s: more child descriptions", l->device->name);
        *status = STATUS_INSUFFICIENT_RESOURCES; /* only from main, which stops the run */
        return NULL;
    }
    cl_entry_t *e = pool_alloc_model(sizeof *e);
    e->list = l;
    e->id = pool_alloc_model(l->cfg.IdentificationDescriptionSize);
    *status = STATUS_SUCCESS;
    if (l->cfg.EvtChildListIdentificationDescriptionDuplicate)
        *status = l->cfg.EvtChildListIdentificationDescriptionDuplicate((WDFCHILDLIST)l, id, e->id);
    else
        memcpy(e->id, id, l->cfg.IdentificationDescriptionSize);
    if (NT_SUCCESS(*status) && l->cfg.AddressDescriptionSize) {
        e->addr = pool_alloc_model(l->cfg.AddressDescriptionSize);
        if (addr && l->cfg.EvtChildListAddressDescriptionDuplicate)
            *status = l->cfg.EvtChildListAddressDescriptionDuplicate((WDFCHILDLIST)l, addr, e->addr);
        else if (addr)
            memcpy(e->addr, addr, l->cfg.AddressDescriptionSize);
    }
    if (!NT_SUCCESS(*status))
        return NULL; /* FxChildList::Add: a failed duplicate is not added */
    e->state = CL_PENDING_INSERT;
    e->found = 1;
    l->entries[l->nentries++] = e;
    return e;
}

static int is_present(const cl_entry_t *e) { return e->state == CL_NEEDS_PDO || e->state == CL_HAS_PDO; }

/* The latest pending insert or pending removal for this description. */
static cl_entry_t *find_modification(wdf_child_list_t *l, PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER id)
{
    for (unsigned i = l->nentries; i-- > 0;) {
        cl_entry_t *e = l->entries[i];
        if ((e->state == CL_PENDING_INSERT || e->pending_remove) && matches(l, id, e->id))
            return e;
    }
    return NULL;
}

static cl_entry_t *find_description(wdf_child_list_t *l, PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER id)
{
    for (unsigned i = l->nentries; i-- > 0;) {
        cl_entry_t *e = l->entries[i];
        if (e->state != CL_FREE && e->state != CL_PENDING_INSERT && matches(l, id, e->id))
            return e;
    }
    return NULL;
}

/* FxChildList::ProcessModificationsLocked: nothing while a scan or an
 * iteration is open, nor while a relations query instantiates the list's
 * descriptions (KMDF's ListLockedForEnum: a description being handed to
 * EvtChildListCreateDevice is not freed under it; the query applies the
 * changes when it is done); then inserts become present, removals of present
 * children not yet instantiated vanish, of instantiated ones become
 * not-present, and a change asks PnP for the bus relations. */
static void process(wdf_child_list_t *l)
{
    if (l->scan_count > 0 || l->hold > 0)
        return;
    int invalidate = 0;
    free_list_t fl = {.n = 0};
    for (unsigned i = 0; i < l->nentries; i++) {
        cl_entry_t *e = l->entries[i];
        if (e->state == CL_PENDING_INSERT) {
            e->state = CL_NEEDS_PDO;
            invalidate = 1;
        } else if (e->pending_remove) {
            e->pending_remove = 0;
            if (e->state == CL_NEEDS_PDO) {
                entry_detach(e, &fl);
            } else if (e->state == CL_HAS_PDO) {
                e->state = CL_NOT_PRESENT;
                SCHED_TRACE1("%s: child reported missing", e->pdo->name);
                invalidate = 1;
            }
        }
    }
    drain(&fl); /* every change made first, then the driver's cleanups */
    compact(l);
    if (invalidate || l->invalidation_needed) {
        wdf_device_t *fdo = l->device;
        /* IoInvalidateDeviceRelations needs the PDO under the bus FDO, i.e. a
         * bus that PnP has added; before that, the start's own query finds
         * the change (m_InvalidationNeeded). */
        if (fdo->node && fdo->pnp != PNP_DELETED && !fdo->obj.deleted) {
            l->invalidation_needed = 0;
            pnp_invalidate_bus_relations(fdo);
        } else {
            l->invalidation_needed = 1;
        }
    }
}

void wdf_childlist_reprocess(wdf_child_list_t *l) { process(l); }

void wdf_childlist_scan_for_children(wdf_device_t *d)
{
    tdf_childlist_dev_t *x = d->cl;
    for (unsigned i = 0; x && i < x->nlists; i++)
        if (x->lists[i]->cfg.EvtChildListScanForChildren)
            x->lists[i]->cfg.EvtChildListScanForChildren((WDFCHILDLIST)x->lists[i]);
}

static NTSTATUS validate_config(PWDF_CHILD_LIST_CONFIG c)
{
    /* FxChildList::_ValidateConfig */
    if (!c || c->IdentificationDescriptionSize < sizeof(WDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER) ||
        !c->EvtChildListCreateDevice)
        return STATUS_INVALID_PARAMETER;
    if (c->AddressDescriptionSize && c->AddressDescriptionSize < sizeof(WDF_CHILD_ADDRESS_DESCRIPTION_HEADER))
        return STATUS_INVALID_PARAMETER;
    return STATUS_SUCCESS;
}

static wdf_child_list_t *list_new(wdf_device_t *fdo, PWDF_CHILD_LIST_CONFIG cfg, PWDF_OBJECT_ATTRIBUTES attrs)
{
    tdf_childlist_dev_t *x = wdf_childlist_dev(fdo);
    if (x->nlists >= MAX_CHILD_LISTS) {
        TDF_LIMIT(MAX_CHILD_LISTS, "model/wdf/childlist.h", "%s creates more child lists", fdo->name);
        return NULL; /* only from main, which stops the run */
    }
    wdf_child_list_t *l = pool_alloc_model(sizeof *l);
    wdf_object_init(&l->obj, OBJ_CHILDLIST, attrs);
    l->device = fdo;
    l->cfg = *cfg;
    x->lists[x->nlists++] = l;
    return l;
}

/* ---- creation ------------------------------------------------------------------ */
VOID WdfFdoInitSetDefaultChildListConfig(PWDFDEVICE_INIT DeviceInit, PWDF_CHILD_LIST_CONFIG Config,
                                         PWDF_OBJECT_ATTRIBUTES DefaultChildListAttributes)
{
    ke_yield();
    if (DeviceInit->is_pdo || !NT_SUCCESS(validate_config(Config)))
        TdfUnmodelled("WdfFdoInitSetDefaultChildListConfig", "a PDO init or an invalid WDF_CHILD_LIST_CONFIG (KMDF: 0x10D)");
    tdf_childlist_init_t *ci = wdf_childlist_init(DeviceInit);
    ci->has_default_config = 1;
    ci->default_config = *Config;
    if (DefaultChildListAttributes) {
        ci->has_default_attrs = 1;
        ci->default_attrs = *DefaultChildListAttributes;
    }
}

NTSTATUS WdfChildListCreate(WDFDEVICE Device, PWDF_CHILD_LIST_CONFIG Config, PWDF_OBJECT_ATTRIBUTES ChildListAttributes,
                            WDFCHILDLIST *ChildList)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfChildListCreate");
    NTSTATUS st = validate_config(Config);
    if (!NT_SUCCESS(st))
        return st;
    if (d->is_pdo)
        return STATUS_INVALID_DEVICE_REQUEST;
    wdf_child_list_t *l = list_new(d, Config, ChildListAttributes);
    if (!l)
        return STATUS_INSUFFICIENT_RESOURCES;
    *ChildList = (WDFCHILDLIST)l;
    return STATUS_SUCCESS;
}

WDFCHILDLIST WdfFdoGetDefaultChildList(WDFDEVICE Fdo)
{
    wdf_device_t *d = wdf_device_checked(Fdo, "WdfFdoGetDefaultChildList");
    return d && d->cl && d->cl->has_default ? (WDFCHILDLIST)d->cl->lists[0] : NULL;
}

WDFDEVICE WdfChildListGetDevice(WDFCHILDLIST ChildList)
{
    wdf_child_list_t *l = list_checked(ChildList, "WdfChildListGetDevice");
    return (WDFDEVICE)l->device;
}

/* ---- reporting ------------------------------------------------------------------ */
NTSTATUS WdfChildListAddOrUpdateChildDescriptionAsPresent(WDFCHILDLIST ChildList,
                                                          PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER Id,
                                                          PWDF_CHILD_ADDRESS_DESCRIPTION_HEADER Addr)
{
    ke_yield();
    wdf_child_list_t *l = list_checked(ChildList, "WdfChildListAddOrUpdateChildDescriptionAsPresent");
    if (!Id || Id->IdentificationDescriptionSize != l->cfg.IdentificationDescriptionSize)
        return STATUS_INVALID_DEVICE_REQUEST;
    if (l->cfg.AddressDescriptionSize && (!Addr || Addr->AddressDescriptionSize != l->cfg.AddressDescriptionSize))
        return STATUS_INVALID_PARAMETER;
    cl_entry_t *e = find_modification(l, Id);
    if (e && e->state == CL_PENDING_INSERT) {
        copy_address(l, e->addr, Addr);
        e->found = 1;
        return STATUS_OBJECT_NAME_EXISTS;
    }
    if (!e) {
        e = find_description(l, Id);
        if (e && is_present(e)) {
            copy_address(l, e->addr, Addr);
            e->found = 1;
            return STATUS_OBJECT_NAME_EXISTS;
        }
    }
    /* New, or the same child again after a pending removal: a new description. */
    NTSTATUS st;
    if (!entry_new(l, Id, Addr, &st))
        return st;
    SCHED_TRACE1("%s: child description reported present", l->device->name);
    process(l);
    return STATUS_SUCCESS;
}

NTSTATUS WdfChildListUpdateChildDescriptionAsMissing(WDFCHILDLIST ChildList,
                                                     PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER Id)
{
    ke_yield();
    wdf_child_list_t *l = list_checked(ChildList, "WdfChildListUpdateChildDescriptionAsMissing");
    if (!Id || Id->IdentificationDescriptionSize != l->cfg.IdentificationDescriptionSize)
        return STATUS_INVALID_DEVICE_REQUEST;
    cl_entry_t *e = find_modification(l, Id);
    if (e) {
        if (e->state == CL_PENDING_INSERT)
            entry_free(e); /* never took effect */
    } else {
        e = find_description(l, Id);
        if (!e)
            return STATUS_NO_SUCH_DEVICE;
        if (is_present(e))
            e->pending_remove = 1;
    }
    process(l);
    return STATUS_SUCCESS;
}

VOID WdfChildListUpdateAllChildDescriptionsAsPresent(WDFCHILDLIST ChildList)
{
    ke_yield();
    wdf_child_list_t *l = list_checked(ChildList, "WdfChildListUpdateAllChildDescriptionsAsPresent");
    for (unsigned i = 0; i < l->nentries; i++)
        if (is_present(l->entries[i]) || l->entries[i]->state == CL_PENDING_INSERT)
            l->entries[i]->found = 1;
}

VOID WdfChildListBeginScan(WDFCHILDLIST ChildList)
{
    ke_yield();
    wdf_child_list_t *l = list_checked(ChildList, "WdfChildListBeginScan");
    l->scan_count++;
    for (unsigned i = 0; i < l->nentries; i++)
        l->entries[i]->found = 0;
}

/* FxChildList::EndScan: the outermost end marks what was not reported since
 * BeginScan missing, then applies every deferred change. */
static void end_scan(wdf_child_list_t *l, const char *routine)
{
    if (l->scan_count == 0) {
        TDF_BUGCHECK(0x10D, 0x7, "WDF_VIOLATION", "%s without a matching begin", routine);
        return;
    }
    if (--l->scan_count > 0)
        return;
    free_list_t fl = {.n = 0};
    for (unsigned i = 0; i < l->nentries; i++) {
        cl_entry_t *e = l->entries[i];
        if (e->found)
            continue;
        if (e->state == CL_PENDING_INSERT)
            entry_detach(e, &fl);
        else if (is_present(e))
            e->pending_remove = 1;
    }
    drain(&fl);
    process(l);
}

VOID WdfChildListEndScan(WDFCHILDLIST ChildList)
{
    ke_yield();
    end_scan(list_checked(ChildList, "WdfChildListEndScan"), "WdfChildListEndScan");
}

/* ---- iteration and retrieval ---------------------------------------------------- */
VOID WdfChildListBeginIteration(WDFCHILDLIST ChildList, PWDF_CHILD_LIST_ITERATOR Iterator)
{
    ke_yield();
    wdf_child_list_t *l = list_checked(ChildList, "WdfChildListBeginIteration");
    if (!Iterator || Iterator->Size != sizeof(*Iterator) || (Iterator->Flags & ~(ULONG)WdfRetrieveAllChildren) ||
        !Iterator->Flags)
        TdfUnmodelled("WdfChildListBeginIteration", "an invalid WDF_CHILD_LIST_ITERATOR (KMDF: 0x10D)");
    Iterator->Reserved[0] = NULL; /* position: entries already returned */
    l->scan_count++;              /* changes wait for EndIteration, as in KMDF */
}

/* FxDeviceDescriptionEntry::MatchStateToFlags: "present" is a description
 * with its PDO; one reported present whose PDO the next relations query has
 * yet to create is pending, as an insert not yet applied is. */
static int state_matches(const cl_entry_t *e, ULONG flags)
{
    switch (e->state) {
    case CL_PENDING_INSERT:
    case CL_NEEDS_PDO: return (flags & WdfRetrievePendingChildren) != 0;
    case CL_HAS_PDO: return (flags & WdfRetrievePresentChildren) != 0;
    case CL_NOT_PRESENT: return (flags & WdfRetrieveMissingChildren) != 0;
    default: return 0;
    }
}

NTSTATUS WdfChildListRetrieveNextDevice(WDFCHILDLIST ChildList, PWDF_CHILD_LIST_ITERATOR Iterator, WDFDEVICE *Device,
                                        PWDF_CHILD_RETRIEVE_INFO Info)
{
    ke_yield();
    wdf_child_list_t *l = list_checked(ChildList, "WdfChildListRetrieveNextDevice");
    *Device = NULL;
    if (l->scan_count == 0)
        return STATUS_INVALID_DEVICE_STATE; /* not between Begin/EndIteration */
    /* Entries are not freed nor compacted while the list is held by the
     * iteration (process() does nothing then), so an index stays valid. */
    for (uintptr_t i = (uintptr_t)Iterator->Reserved[0]; i < l->nentries; i++) {
        cl_entry_t *e = l->entries[i];
        if (!state_matches(e, Iterator->Flags))
            continue;
        if (Info && Info->EvtChildListIdentificationDescriptionCompare && Info->IdentificationDescription &&
            !Info->EvtChildListIdentificationDescriptionCompare(ChildList, Info->IdentificationDescription, e->id))
            continue;
        Iterator->Reserved[0] = (PVOID)(i + 1);
        WDF_CHILD_LIST_RETRIEVE_DEVICE_STATUS ds = WdfChildListRetrieveDeviceNotYetCreated;
        if (e->pdo && e->state != CL_PENDING_INSERT) {
            *Device = (WDFDEVICE)e->pdo;
            ds = WdfChildListRetrieveDeviceSuccess;
        }
        if (Info) {
            if (Info->IdentificationDescription)
                copy_id_out(l, Info->IdentificationDescription, e->id);
            copy_address(l, Info->AddressDescription, e->addr);
            Info->Status = ds;
        }
        return STATUS_SUCCESS;
    }
    Iterator->Reserved[0] = (PVOID)(uintptr_t)l->nentries;
    return STATUS_NO_MORE_ENTRIES;
}

VOID WdfChildListEndIteration(WDFCHILDLIST ChildList, PWDF_CHILD_LIST_ITERATOR Iterator)
{
    ke_yield();
    wdf_child_list_t *l = list_checked(ChildList, "WdfChildListEndIteration");
    RtlZeroMemory(Iterator->Reserved, sizeof(Iterator->Reserved));
    end_scan(l, "WdfChildListEndIteration");
}

/* FxChildList::GetDeviceFromId */
WDFDEVICE WdfChildListRetrievePdo(WDFCHILDLIST ChildList, PWDF_CHILD_RETRIEVE_INFO Info)
{
    ke_yield();
    wdf_child_list_t *l = list_checked(ChildList, "WdfChildListRetrievePdo");
    WDFDEVICE device = NULL;
    cl_entry_t *e = find_modification(l, Info->IdentificationDescription);
    if (e && e->state == CL_PENDING_INSERT) {
        Info->Status = WdfChildListRetrieveDeviceNotYetCreated;
    } else {
        e = find_description(l, Info->IdentificationDescription);
        if (!e) {
            Info->Status = WdfChildListRetrieveDeviceNoSuchDevice;
        } else if (e->state == CL_NEEDS_PDO) {
            Info->Status = WdfChildListRetrieveDeviceNotYetCreated;
        } else {
            /* Also a child reported missing whose PDO PnP has not removed yet. */
            Info->Status = WdfChildListRetrieveDeviceSuccess;
            device = (WDFDEVICE)e->pdo;
        }
    }
    if (e)
        copy_address(l, Info->AddressDescription, e->addr);
    return device;
}

NTSTATUS WdfChildListRetrieveAddressDescription(WDFCHILDLIST ChildList,
                                                PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER Id,
                                                PWDF_CHILD_ADDRESS_DESCRIPTION_HEADER Addr)
{
    ke_yield();
    wdf_child_list_t *l = list_checked(ChildList, "WdfChildListRetrieveAddressDescription");
    if (!l->cfg.AddressDescriptionSize)
        return STATUS_INVALID_DEVICE_REQUEST;
    cl_entry_t *e = find_modification(l, Id);
    if (!e)
        e = find_description(l, Id);
    if (!e)
        return STATUS_NO_SUCH_DEVICE;
    copy_address(l, Addr, e->addr);
    return STATUS_SUCCESS;
}

BOOLEAN WdfChildListRequestChildEject(WDFCHILDLIST ChildList, PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER Id)
{
    ke_yield();
    wdf_child_list_t *l = list_checked(ChildList, "WdfChildListRequestChildEject");
    cl_entry_t *e = find_description(l, Id);
    if (!e || e->state != CL_HAS_PDO)
        return FALSE;
    pnp_request_eject(e->pdo);
    return TRUE;
}

/* ---- the PnP manager's side ------------------------------------------------------ */
static void add_dev(wdf_device_t **v, unsigned *n, unsigned max, wdf_device_t *d)
{
    if (*n >= max) {
        TDF_LIMIT(TDF_MAX_RELATIONS, "model/wdf/childlist.h", "more children in one bus-relations query");
        return;
    }
    v[(*n)++] = d;
}

/* FxChildList::ProcessBusRelations + FxPkgFdo's static children. */
void wdf_childlist_bus_relations(wdf_device_t *fdo, wdf_device_t **missing, unsigned *nmissing,
                                 wdf_device_t **created, unsigned *ncreated, unsigned max)
{
    *nmissing = *ncreated = 0;
    for (unsigned i = 0; i < fdo->static_child_count; i++) {
        wdf_device_t *pdo = fdo->static_children[i];
        if (pdo->cl && pdo->cl->reported_missing && !pdo->cl->missing_processed) {
            pdo->cl->missing_processed = 1;
            add_dev(missing, nmissing, max, pdo);
        }
    }
    tdf_childlist_dev_t *x = fdo->cl;
    for (unsigned li = 0; x && li < x->nlists; li++) {
        wdf_child_list_t *l = x->lists[li];
        for (unsigned i = 0; i < l->nentries; i++) {
            cl_entry_t *e = l->entries[i];
            if (e->state == CL_NOT_PRESENT && e->pdo && !e->pdo->cl->missing_processed) {
                e->pdo->cl->missing_processed = 1;
                add_dev(missing, nmissing, max, e->pdo);
            }
        }
        /* New descriptions: EvtChildListCreateDevice on this (PnP) thread. A
         * report made meanwhile from another thread is appended and waits for
         * the next query (it asked for one). */
        unsigned n = l->nentries;
        l->hold++;
        for (unsigned i = 0; i < n; i++) {
            cl_entry_t *e = l->entries[i];
            if (e->state != CL_NEEDS_PDO)
                continue;
            struct WDFDEVICE_INIT *init = pool_alloc_model(sizeof *init);
            init->is_pdo = 1;
            init->parent = fdo;
            init->driver = fdo->driver;
            SCHED_TRACE1("%s: EvtChildListCreateDevice", fdo->name);
            NTSTATUS st = l->cfg.EvtChildListCreateDevice((WDFCHILDLIST)l, e->id, init);
            wdf_device_t *pdo = init->created;
            if (!NT_SUCCESS(st) || !pdo) {
                SCHED_TRACE2("%s: EvtChildListCreateDevice failed 0x%lx: description dropped", fdo->name,
                             (unsigned long)(uint32_t)st);
                if (pdo)
                    wdf_device_remove(pdo, 1);
                entry_free(e);
                continue;
            }
            e->pdo = pdo;
            e->state = CL_HAS_PDO;
            wdf_childlist_dev(pdo)->entry = e;
            add_dev(created, ncreated, max, pdo);
        }
        l->hold--;
        process(l); /* what was reported meanwhile (compacts too) */
    }
}

void wdf_childlist_pdo_deleted(wdf_device_t *pdo)
{
    if (pdo->parent_fdo)
        wdf_static_children_compact(pdo->parent_fdo); /* a static child: its slot is free */
    if (!pdo->cl || !pdo->cl->entry)
        return;
    cl_entry_t *e = pdo->cl->entry;
    pdo->cl->entry = NULL;
    e->pdo = NULL;
    entry_free(e);
    compact(e->list);
}

void wdf_childlist_fdo_deleted(wdf_device_t *fdo)
{
    /* Static children the PnP manager never heard of (added, then the bus
     * went before a relations query) have no REMOVE coming: the framework
     * deletes them with their parent (KMDF's static list is a child list). */
    for (unsigned i = 0; i < fdo->static_child_count; i++) {
        wdf_device_t *pdo = fdo->static_children[i];
        if (!pdo->node && !pdo->obj.deleted) {
            SCHED_TRACE1("%s: never reported to PnP: deleted with its bus", pdo->name);
            wdf_device_remove(pdo, 1);
        }
    }
    tdf_childlist_dev_t *x = fdo->cl;
    for (unsigned li = 0; x && li < x->nlists; li++) {
        wdf_child_list_t *l = x->lists[li];
        for (unsigned i = 0; i < l->nentries; i++) {
            cl_entry_t *e = l->entries[i];
            if (e->pdo && e->pdo->cl)
                e->pdo->cl->entry = NULL;
            entry_free(e);
        }
        l->nentries = 0;
        /* The list is a child object of the device: deleted before it. */
        wdf_object_delete(&l->obj);
    }
}
