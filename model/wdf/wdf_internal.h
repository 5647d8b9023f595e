/*
 * model/wdf internals: framework objects, devices with their PnP/power state,
 * query interfaces, resources. The PnP manager (model/pnp) drives the
 * callbacks; this layer owns the objects and the per-device sequences.
 */
#ifndef TDF_WDF_INTERNAL_H
#define TDF_WDF_INTERNAL_H

#include "../kernel/kernel.h"
#include "tdf/harness.h"

typedef enum obj_kind { OBJ_DRIVER = 0x44525652, OBJ_DEVICE = 0x44455643, OBJ_RESLIST = 0x52534c53 } obj_kind_t;

typedef struct wdf_object {
    obj_kind_t kind;
    int deleted;   /* WdfObjectDelete / PnP delete ran: cleanup done, handle invalid */
    int destroyed; /* last reference gone: destroy callback ran, context freed */
    LONG refs;     /* framework + WdfObjectReference references; 0 -> destroy */
    const char *context_name;
    void *context;
    PFN_WDF_OBJECT_CONTEXT_CLEANUP cleanup;
    PFN_WDF_OBJECT_CONTEXT_DESTROY destroy;
    struct tdf_image *image; /* driver that created it */
} wdf_object_t;

typedef struct wdf_driver {
    wdf_object_t obj;
    WDF_DRIVER_CONFIG config;
    struct tdf_image *image;
    const tdf_image_desc_t *desc;
    unsigned devices; /* device objects not yet destroyed: unload waits for 0 */
    unsigned pins;    /* the PnP manager's references while it calls AddDevice */
} wdf_driver_t;

typedef enum pnp_state {
    PNP_ADDED = 0,
    PNP_STARTED,
    PNP_SURPRISE_REMOVED,
    PNP_REMOVED, /* REMOVE processed; a PDO that is still present stays here */
    PNP_DELETED,
} pnp_state_t;

typedef enum smio_state { SMIO_NONE = 0, SMIO_RUNNING, SMIO_SUSPENDED, SMIO_FLUSHED, SMIO_CLEANED } smio_state_t;

#define MAX_QUERY_INTERFACES 4
#define MAX_STATIC_CHILDREN 8

typedef struct query_interface {
    GUID type;
    PINTERFACE copy; /* framework's copy, Size bytes (KERNEL-SEMANTICS §3) */
    BOOLEAN import;
    PFN_WDF_DEVICE_PROCESS_QUERY_INTERFACE_REQUEST evt;
} query_interface_t;

struct devnode;

typedef struct wdf_device {
    wdf_object_t obj;
    int is_pdo;
    wdf_driver_t *driver;
    struct devnode *node;
    struct wdf_device *parent_fdo; /* PDO: the bus FDO that created it */
    struct wdf_device *lower;      /* FDO: the PDO below it in its stack (NULL for root devices) */
    WDF_PNPPOWER_EVENT_CALLBACKS cb;
    char name[32]; /* "child0 (FDO)" */
    pnp_state_t pnp;
    WDF_POWER_DEVICE_STATE power;
    smio_state_t smio;
    int hw_prepared;
    uint32_t d0exit_step, release_step, surprise_step;
    query_interface_t qi[MAX_QUERY_INTERFACES];
    unsigned qi_count;
    struct wdf_device *static_children[MAX_STATIC_CHILDREN];
    unsigned static_child_count;
    PCWSTR device_id; /* PDO: hardware ID that picks the FDO's driver */
    /* hardware (FDOs): a register block with its own physical range */
    ULONGLONG phys;
    struct wdf_reslist *resources;
} wdf_device_t;

typedef struct wdf_reslist {
    wdf_object_t obj;
    ULONG count;
    CM_PARTIAL_RESOURCE_DESCRIPTOR desc[1];
} wdf_reslist_t;

struct WDFDEVICE_INIT {
    int is_pdo;
    wdf_device_t *parent; /* PDO init: the bus FDO */
    struct devnode *node; /* FDO init: the devnode it attaches to */
    wdf_driver_t *driver;
    WDF_PNPPOWER_EVENT_CALLBACKS cb;
    PCWSTR device_id;
    int consumed;
    struct wdf_device *created; /* set by WdfDeviceCreate: AddDevice's FDO */
};

/* ---- objects ---------------------------------------------------------------- */
void wdf_object_init(wdf_object_t *o, obj_kind_t kind, PWDF_OBJECT_ATTRIBUTES attrs);
/* Returns the object if the handle is a live object of `kind`, else reports
 * 0x10D (WDF_VIOLATION, invalid handle) naming the routine. */
wdf_object_t *wdf_object_checked(WDFOBJECT h, obj_kind_t kind, const char *routine);
wdf_device_t *wdf_device_checked(WDFDEVICE h, const char *routine);
/* Runs the cleanup callback and drops the creation reference. */
void wdf_object_delete(wdf_object_t *o);
void wdf_object_release(wdf_object_t *o); /* drop one reference; 0 -> destroy */

/* ---- drivers ------------------------------------------------------------------ */
/* Loads the image and runs DriverEntry; returns NULL if it failed. */
wdf_driver_t *wdf_driver_load(const tdf_image_desc_t *desc);
/* Unloads once no device of the driver is left (EvtDriverUnload, then image
 * checks). Safe to call at any time: does nothing while devices remain. */
void wdf_driver_maybe_unload(wdf_driver_t *drv);
/* The PnP manager keeps the driver loaded across AddDevice, as the I/O
 * manager references the driver object while it calls into it. */
void wdf_driver_pin(wdf_driver_t *drv);
void wdf_driver_unpin(wdf_driver_t *drv);
wdf_driver_t *wdf_current_driver(void);

/* ---- devices: the per-device callback sequences (KERNEL-SEMANTICS §4) -------- */
/* Returns STATUS_SUCCESS or the failing callback's status. */
NTSTATUS wdf_device_start(wdf_device_t *d);
NTSTATUS wdf_device_power_up(wdf_device_t *d, WDF_POWER_DEVICE_STATE previous);
void wdf_device_power_down(wdf_device_t *d, WDF_POWER_DEVICE_STATE target);
void wdf_device_surprise_remove(wdf_device_t *d);
NTSTATUS wdf_device_query_remove(wdf_device_t *d);
/* REMOVE: the remaining teardown; `delete_object` = 0 keeps a present PDO. */
void wdf_device_remove(wdf_device_t *d, int delete_object);
void wdf_device_register_hardware(wdf_device_t *d, ULONGLONG phys);

void wdf_reset(void);

#endif
