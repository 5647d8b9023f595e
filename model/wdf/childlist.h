/*
 * model/wdf child lists and PDO extras (KERNEL-SEMANTICS §11): the state a
 * WDFCHILDLIST keeps per identification description, what a PDO created from
 * one remembers, and the hooks between the framework side (childlist.c,
 * pdo.c) and the PnP manager (model/pnp/pnp_manager.c, "bus relations").
 */
#ifndef TDF_WDF_CHILDLIST_H
#define TDF_WDF_CHILDLIST_H

#include "wdf_internal.h"

/* A description's life, after FxChildList's description and modification
 * states (KMDF source: fxchildlist.cpp), folded into one:
 *   PENDING_INSERT  reported present during a scan or iteration: takes effect
 *                   at its end (ModificationInsert);
 *   NEEDS_PDO       present, the next bus-relations query creates its PDO
 *                   (DescriptionPresentNeedsInstantiation);
 *   HAS_PDO         present, PDO created and reported (DescriptionInstantiatedHasObject);
 *   NOT_PRESENT     reported missing, its PDO not yet removed by PnP (DescriptionNotPresent);
 *   FREE            gone: its cleanup callbacks ran. */
typedef enum cl_state { CL_PENDING_INSERT = 0, CL_NEEDS_PDO, CL_HAS_PDO, CL_NOT_PRESENT, CL_FREE } cl_state_t;

typedef struct cl_entry {
    cl_state_t state;
    int pending_remove; /* reported missing during a scan/iteration: at its end (ModificationRemove) */
    int found;          /* reported since the last BeginScan (m_FoundInLastScan) */
    PWDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER id;
    PWDF_CHILD_ADDRESS_DESCRIPTION_HEADER addr;
    wdf_device_t *pdo;
    struct wdf_child_list *list;
} cl_entry_t;

#define MAX_CHILD_DESCRIPTIONS 16
#define MAX_CHILD_LISTS 2

typedef struct wdf_child_list {
    wdf_object_t obj;
    wdf_device_t *device; /* the bus FDO */
    WDF_CHILD_LIST_CONFIG cfg;
    unsigned scan_count;     /* BeginScan/BeginIteration nesting: modifications wait */
    int invalidation_needed; /* a change is waiting for a relations query */
    cl_entry_t *entries[MAX_CHILD_DESCRIPTIONS]; /* description order (FREE ones compacted out) */
    unsigned nentries;
    unsigned hold; /* a relations query walks entries[]: no compaction */
} wdf_child_list_t;

#define TDF_MAX_RELATIONS 16 /* PDOs created or removed by one relations query */

#define MAX_PDO_IDS 4

/* Per device, allocated on first use (wdf_device_t.cl). */
typedef struct tdf_childlist_dev {
    /* FDO */
    wdf_child_list_t *lists[MAX_CHILD_LISTS]; /* [0] the default list if configured */
    unsigned nlists;
    int has_default;
    int relations_pending; /* a bus-relations query is queued (coalesced as IoInvalidateDeviceRelations) */
    int has_bus_info;
    PNP_BUS_INFORMATION bus_info;
    /* PDO */
    cl_entry_t *entry;      /* dynamic child: its description */
    int reported_missing;   /* static child: WdfPdoMarkMissing */
    int missing_deferred;   /* static child marked missing while its list was locked: at the unlock */
    int missing_processed;  /* PnP took it out of the relations */
    WDF_PDO_EVENT_CALLBACKS pdo_cb;
    int has_pnp_caps, has_power_caps;
    WDF_DEVICE_PNP_CAPABILITIES pnp_caps;
    WDF_DEVICE_POWER_CAPABILITIES power_caps;
    PCWSTR hardware_ids[MAX_PDO_IDS], compatible_ids[MAX_PDO_IDS];
    unsigned nhardware, ncompatible;
    PCWSTR instance_id;
    PCWSTR device_text; /* WdfPdoInitAddDeviceText's first description: DevicePropertyDeviceDescription */
    int raw;
} tdf_childlist_dev_t;

/* What WdfPdoInit* and WdfFdoInitSetDefaultChildListConfig leave on the init
 * (WDFDEVICE_INIT.cl) for WdfDeviceCreate. */
typedef struct tdf_childlist_init {
    int has_default_config;
    WDF_CHILD_LIST_CONFIG default_config;
    WDF_OBJECT_ATTRIBUTES default_attrs;
    int has_default_attrs;
    WDF_PDO_EVENT_CALLBACKS pdo_cb;
    PCWSTR hardware_ids[MAX_PDO_IDS], compatible_ids[MAX_PDO_IDS];
    unsigned nhardware, ncompatible;
    PCWSTR instance_id;
    PCWSTR device_text;
    int raw;
} tdf_childlist_init_t;

tdf_childlist_dev_t *wdf_childlist_dev(wdf_device_t *d);
tdf_childlist_init_t *wdf_childlist_init(PWDFDEVICE_INIT init);
/* WdfDeviceCreate: the default child list, PDO callbacks and IDs. */
void wdf_childlist_device_created(wdf_device_t *d, PWDFDEVICE_INIT init);

/* Power-up after D0Entry: EvtChildListScanForChildren of each child list
 * that has one (KMDF: FxPkgPnp::PowerDmaEnableAndScan). */
void wdf_childlist_scan_for_children(wdf_device_t *d);
/* Applies deferred changes (FxChildList::ProcessModificationsLocked). */
void wdf_childlist_reprocess(wdf_child_list_t *l);

/* ---- for the PnP manager (bus relations) --------------------------------------- */
/* Called under the tree lock on a PnP thread, the bus FDO started: the
 * framework's IRP_MN_QUERY_DEVICE_RELATIONS(BusRelations) processing. Fills
 * `missing` with the PDOs reported missing that PnP must remove, then
 * creates the PDOs of new descriptions (EvtChildListCreateDevice) into
 * `created`. Both in description order. */
void wdf_childlist_bus_relations(wdf_device_t *fdo, wdf_device_t **missing, unsigned *nmissing,
                                 wdf_device_t **created, unsigned *ncreated, unsigned max);
/* A PDO created from a description was deleted: the description goes too
 * (FxDeviceDescriptionEntry::ProcessDeviceRemoved). */
void wdf_childlist_pdo_deleted(wdf_device_t *pdo);
/* The bus FDO is deleted: every description left is cleaned up. */
void wdf_childlist_fdo_deleted(wdf_device_t *fdo);
/* The hardware ID that binds the child's function driver: the device ID,
 * else the first hardware ID, then compatible IDs, that `match` accepts. */
PCWSTR wdf_pdo_binding_id(wdf_device_t *pdo, int (*match)(PCWSTR));
int wdf_pdo_is_raw(wdf_device_t *pdo);
int wdf_pdo_eject_supported(wdf_device_t *pdo);

/* model/pnp: queue a bus-relations query for this FDO on a PnP thread of its
 * own (IoInvalidateDeviceRelations); the eject of a PDO (IoRequestDeviceEject). */
void pnp_invalidate_bus_relations(wdf_device_t *fdo);
void pnp_request_eject(wdf_device_t *pdo);

#endif
