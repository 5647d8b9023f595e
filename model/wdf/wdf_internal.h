/*
 * model/wdf internals: framework objects, devices with their PnP/power state,
 * query interfaces, resources. The PnP manager (model/pnp) drives the
 * callbacks; this layer owns the objects and the per-device sequences.
 */
#ifndef TDF_WDF_INTERNAL_H
#define TDF_WDF_INTERNAL_H

#include "../kernel/kernel.h"
#include "tdf/harness.h"
#include "sync_scope.h"
#include "power_policy.h"

typedef enum obj_kind {
    OBJ_DRIVER = 0x44525652,
    OBJ_DEVICE = 0x44455643,
    OBJ_RESLIST = 0x52534c53,
    OBJ_QUEUE = 0x51554555,
    OBJ_REQUEST = 0x52455155,
    OBJ_IOTARGET = 0x494f5447,
    OBJ_MEMORY = 0x4d454d4f,
    OBJ_WAITLOCK = 0x574c434b,
    OBJ_FILE = 0x46494c45, /* WDFFILEOBJECT (fileobject.c) */
    OBJ_SPINLOCK = 0x53504c4b,
    OBJ_WORKITEM = 0x574b4954,   /* WDFWORKITEM (workitem.c) */
    OBJ_COLLECTION = 0x434f4c4c, /* WDFCOLLECTION (collection.c) */
    OBJ_LOOKASIDE = 0x4c4b4153,  /* WDFLOOKASIDE (lookaside.c) */
    OBJ_WMI_PROVIDER = 0x574d4950, /* accepted and ignored (wmi.c) */
    OBJ_WMI_INSTANCE = 0x574d4949,
    OBJ_REGKEY = 0x5245474b, /* WDFKEY (device_init.c) */
    OBJ_CHILDLIST = 0x43484c44,
    OBJ_INTERRUPT = 0x494e5452,
    OBJ_TIMER = 0x544d4552, /* WDFTIMER (timer.c) */
    OBJ_DPC = 0x57445043,   /* WDFDPC (wdfdpc.c) */
} obj_kind_t;

typedef struct wdf_object {
    obj_kind_t kind;
    int deleted;   /* WdfObjectDelete / PnP delete ran: cleanup done, handle invalid */
    int destroyed; /* last reference gone: destroy callback ran, context freed */
    LONG refs;     /* framework + WdfObjectReference references; 0 -> destroy */
    const char *context_name;
    void *context;
    size_t context_size; /* its size: which object's context an address is in (the trace's rundown owners) */
    PFN_WDF_OBJECT_CONTEXT_CLEANUP cleanup;
    PFN_WDF_OBJECT_CONTEXT_DESTROY destroy;
    struct tdf_image *image; /* driver that created it */
    /* WDF_OBJECT_ATTRIBUTES as given (InheritFromParent without attributes):
     * resolved against the parent by sync_scope.c */
    WDF_EXECUTION_LEVEL exec_level;
    WDF_SYNCHRONIZATION_SCOPE sync_scope;
    /* Object tree (KERNEL-SEMANTICS §9 "Object lifetime"): a child holds a
     * reference on its parent until it is destroyed; deleting the parent
     * deletes the children first. Only the kinds that call
     * wdf_object_set_parent are linked (work items, collections, lookaside
     * lists and their memory); the older kinds keep their own rules
     * (docs/LIFECYCLE.md "Not modelled"). */
    struct wdf_object *parent, *first_child, *next_sibling;
    tdf_teardown_t gone; /* the destroy (last reference): the fatal pair of a use of a destroyed handle */
    int dropped; /* the creation reference was released (delete) */
    /* KMDF's Dispose of the object's type: runs after the children's cleanup
     * and before this object's EvtCleanupCallback (e.g. a work item's flush). */
    void (*dispose)(struct wdf_object *o);
    /* At destroy, after EvtDestroyCallback (e.g. a lookaside buffer's return). */
    void (*finalize)(struct wdf_object *o);
} wdf_object_t;

typedef struct wdf_driver {
    wdf_object_t obj;
    WDF_DRIVER_CONFIG config;
    struct tdf_image *image;
    const tdf_image_desc_t *desc;
    unsigned devices; /* device objects not yet destroyed: unload waits for 0 */
    unsigned pins;    /* the PnP manager's references while it calls AddDevice */
    int unloading;    /* EvtDriverUnload under way: a new load waits for the unload (driver.c) */
    /* The WDM driver object DriverEntry gets (wdm_device.c): a KMDF driver's
     * stands for it, a WDM driver (DriverExtension->AddDevice set, no
     * WdfDriverCreate) fills its MajorFunction[] and DriverUnload. */
    DRIVER_OBJECT wdm;
    int is_wdm;
} wdf_driver_t;

typedef enum pnp_state {
    PNP_ADDED = 0,
    PNP_STARTED,
    PNP_STOPPED, /* IRP_MN_STOP_DEVICE: hardware released, to be restarted */
    PNP_SURPRISE_REMOVED,
    PNP_REMOVED, /* REMOVE processed; a PDO that is still present stays here */
    PNP_DELETED,
    PNP_FAILED, /* a start or power-up failed: torn down by the framework, waits for its REMOVE */
} pnp_state_t;

typedef enum smio_state { SMIO_NONE = 0, SMIO_RUNNING, SMIO_SUSPENDED, SMIO_FLUSHED, SMIO_CLEANED } smio_state_t;

#define MAX_QUERY_INTERFACES 4
/* Static children of one bus FDO, the missing ones still listed until the
 * PnP manager's next relations query removes them: the static toaster bus
 * with four serials, ejected and plugged again before that query runs,
 * needs more than 8 (a 10-minute run of its correct code ended there). */
#define MAX_STATIC_CHILDREN 32

typedef struct query_interface {
    GUID type;
    PINTERFACE copy; /* framework's copy, Size bytes (KERNEL-SEMANTICS §3) */
    BOOLEAN import;
    PFN_WDF_DEVICE_PROCESS_QUERY_INTERFACE_REQUEST evt;
} query_interface_t;

struct devnode;
struct wdf_device;
typedef struct wdf_queue wdf_queue_t;
typedef struct wdf_io_target wdf_io_target_t;

typedef enum req_state { REQ_IDLE = 0, REQ_QUEUED, REQ_OWNED, REQ_COMPLETED } req_state_t;

/* A sender's completion routine running (request.c): its request, the
 * target it came back from, and what tells whether a WdfIoTargetPurgeIo let
 * it run late. */
typedef struct late_completion {
    tdf_teardown_t purge;                 /* the request's: a purge while it was in flight */
    const struct wdf_io_target *target;   /* alive while its routine runs (it counts as completing) */
    unsigned purges_before;               /* target->purges_unwaited when the routine started */
    const struct tdf_image *image;
    const void *routine;
} late_completion_t;

typedef struct wdf_request {
    wdf_object_t obj;
    req_state_t state;
    WDF_REQUEST_TYPE type;
    ULONG ioctl;
    void *in, *out;
    size_t in_len, out_len;
    NTSTATUS status;
    ULONG_PTR information;
    wdf_queue_t *queue;             /* receiving queue while queued or owned */
    PFN_WDF_REQUEST_CANCEL cancel;  /* set while marked cancelable */
    int cancel_requested;           /* IoCancelIrp ran */
    int cancel_taken;               /* the cancel routine claimed the request */
    int stop_notified, stop_acked;  /* EvtIoStop delivered / acknowledged */
    /* sender side */
    wdf_io_target_t *target;        /* sent to, until completion */
    wdf_io_target_t *pended_on;     /* kept by that stopped target, not delivered yet (io_target.c pend) */
    PFN_WDF_REQUEST_COMPLETION_ROUTINE completion;
    WDFCONTEXT completion_context;
    int waiter;                     /* a thread blocks on &done until completion */
    tdf_teardown_t purged_unwaited; /* a WdfIoTargetPurge(WdfIoTargetPurgeIo) of this send's target, which
                                       did not wait for it (its completion routine is late: request.c) */
    int late_send_set;              /* this send was made by a late completion routine: */
    late_completion_t late_send;    /* which (wdf_request_fail_pending keys a clash with it by it) */
    int done;
    /* file objects and request memory (fileobject.c, memory.c; KERNEL-SEMANTICS §12) */
    struct wdf_file *file;          /* the handle it was sent on (references it until completion) */
    int from_io_manager;            /* an IRP of a client: its buffers and handle die at completion */
    struct wdf_memory *in_mem, *out_mem; /* WdfRequestRetrieve*Memory's objects, stale after completion */
    struct wdf_request *next;       /* queue order */
    /* KMDF's WDM escapes (wdm_escape.c, KERNEL-SEMANTICS §16 "KMDF's WDM escapes") */
    PIRP wdm_irp;    /* sent to a WDM device object (WdfIoTargetOpen on an existing device): its IRP */
    PIRP shadow_irp; /* WdfRequestWdmGetIrp's IRP, valid until the completion */
    int in_preprocess; /* in the device's EvtDeviceWdmIrpPreprocess: not dispatched yet */
    int preprocess_handed_on; /* the callback called WdfDeviceWdmDispatchPreprocessedIrp for it */
    int preprocess_walked;    /* and its IRP's completion walk ran (a completion routine of the callback) */
    tdf_teardown_t completed_by;    /* the completion: the fatal pair of a use after it */
    unsigned completions;           /* completions so far, kept across WdfRequestReuse: the life of a receiver's
                                       handle (wdf_request_life) and of a retrieved buffer (request.c g_retrieved) */
    int completed_locked;           /* the completing thread held its queue's callback lock (signatures) */
    tdf_teardown_t cancel_set;      /* WdfRequestMarkCancelableEx, naming the cancel routine: the other side
                                       of a completion with it still set (0xC9, complete_checks) */
    const char *owner_role;         /* the receiving device's role at completion (signatures) */
    char context_role[64];          /* "<device role>/request": a rundown in its context (device.c addr_owner) */
} wdf_request_t;

struct wdf_queue {
    wdf_object_t obj;
    struct wdf_device *device;
    WDF_IO_QUEUE_CONFIG cfg;
    int power_managed;
    int purged;                   /* new requests fail STATUS_INVALID_DEVICE_STATE */
    int power_ref;                /* holds a power reference on the power-policy owner (power_policy.c) */
    wdf_request_t *head, *tail;   /* queued, not yet dispatched */
    wdf_request_t **owned;        /* dispatched to the driver, not completed (grows) */
    unsigned nowned, owned_cap;
    /* KERNEL-SEMANTICS §14 (sync_scope.c) */
    WDF_EXECUTION_LEVEL exec_level;     /* effective: Passive or Dispatch */
    WDF_SYNCHRONIZATION_SCOPE sync_scope; /* effective: Device, Queue or None */
    wdf_callback_lock_t own_lock;       /* the queue's own callback lock */
    wdf_callback_lock_t *lock;          /* WdfObjectAcquireLock's: the device's under Device scope */
    wdf_callback_lock_t *presentation;  /* held around its callbacks; NULL with scope None */
    int dispatch_deferred;              /* a deferred dispatch thread is on its way */
    char context_role[64];              /* "<device role>/queue": a rundown in its context (device.c addr_owner) */
};

struct wdf_io_target {
    wdf_object_t obj;
    struct wdf_device *owner;  /* the device that created it (a child object) */
    struct wdf_device *remote; /* the opened device, while open or closed-for-query-remove */
    int open;
    int closing; /* a close is canceling and waiting: new sends fail (KMDF marks it closed first) */
    int closed_for_query_remove;
    int stopped, purged;
    WDF_IO_TARGET_OPEN_PARAMS params;
    PDEVICE_OBJECT wdm; /* opened on an existing WDM device object (not referenced: KMDF takes none), else NULL */
    PFILE_OBJECT wdm_file; /* and its TargetFileObject, referenced while open (NULL: none given) */
    wdf_request_t **sent; /* in flight (grows: KMDF has no bound) */
    unsigned nsent, sent_cap;
    /* Sent while the target was stopped, kept in send order until a start
     * delivers, or a purge, close or cancel fails, them (io_target.c pend). */
    wdf_request_t **pended;
    unsigned npended, pended_cap;
    /* Completed, off the sent list, their completion routine still running:
     * close, purge and stop(wait) wait for these too (KERNEL-SEMANTICS §15
     * "Re-sending from the completion routine"). */
    unsigned completing;
    /* WdfIoTargetPurgeIo calls made while some completion routine was
     * running (counted), and the last one: that routine is late from then on
     * (request.c late_completion_t). */
    unsigned purges_unwaited;
    tdf_teardown_t purged_unwaited;
    int local; /* an FDO's default target (local_target.c): no handle, no reference on the lower device */
};

typedef struct wdf_memory {
    wdf_object_t obj;
    void *buffer;
    size_t size;
    int owns_buffer;             /* WdfMemoryCreate: the buffer goes with the object */
    struct wdf_request *request; /* a request's buffer: valid until its completion */
    wdf_object_t *parent;        /* WdfMemoryCreate's parent: deleting it deletes the memory */
} wdf_memory_t;

#define MAX_QUEUES 4
#define MAX_TARGETS 8

/* What WdfDeviceInitSet{DeviceType,Exclusive,IoType,Characteristics} record
 * (device_init.c): kept and returned, no other effect. */
typedef struct wdf_device_settings {
    ULONG device_type;
    ULONG characteristics;
    BOOLEAN exclusive;
    int io_type;
} wdf_device_settings_t;

typedef struct wdf_device {
    wdf_object_t obj; /* first: a WDFDEVICE handle is the object's address */
    wdf_device_settings_t settings;
    int is_pdo;
    wdf_driver_t *driver;
    struct devnode *node;
    struct wdf_device *parent_fdo; /* PDO: the bus FDO that created it */
    struct wdf_device *lower;      /* FDO: the PDO below it in its stack (NULL for root devices) */
    WDF_PNPPOWER_EVENT_CALLBACKS cb;
    char name[32]; /* "child0 (FDO)" */
    char role[48]; /* "<driver image>/FDO|PDO": the owner in signatures (no instance number) */
    tdf_teardown_t file_released_by; /* WDM: the last ObDereferenceObject that closed a file object on it
                                        (IoGetDeviceObjectPointer's), by a driver routine */
    pnp_state_t pnp;
    WDF_POWER_DEVICE_STATE power;
    smio_state_t smio;
    int hw_prepared;
    uint32_t d0exit_step, release_step, surprise_step;
    tdf_teardown_t down; /* the first step of the current down phase (D0Exit, ReleaseHardware): the fatal pair's
                            teardown of a register access; cleared when the device powers up */
    query_interface_t qi[MAX_QUERY_INTERFACES];
    unsigned qi_count;
    struct wdf_device *static_children[MAX_STATIC_CHILDREN];
    unsigned static_child_count;
    PCWSTR device_id; /* PDO: hardware ID that picks the FDO's driver */
    /* hardware (FDOs): a register block with its own physical range */
    ULONGLONG phys;
    struct wdf_reslist *resources;
    /* I/O */
    wdf_queue_t *queues[MAX_QUEUES];
    unsigned nqueues;
    wdf_queue_t *default_queue;
    int io_held; /* power-managed queues hold: powering down or in Dx */
    PWCH symbolic_link;
    wdf_io_target_t *opened_by[MAX_TARGETS]; /* targets holding a handle on this device */
    unsigned nopened_by;
    wdf_io_target_t *targets[MAX_TARGETS]; /* targets this device created */
    unsigned ntargets;
    wdf_io_target_t *local_target; /* WdfDeviceGetIoTarget's, once asked for (local_target.c) */
    uint32_t feedback_state; /* lifecycle tuple at the last callback (feedback.c) */
    int remove_pending;      /* query-remove or surprise removal under way: new opens fail */
    struct wdf_file_config *file_cfg; /* WdfDeviceInitSetFileObjectConfig, or NULL (fileobject.c) */
    unsigned open_files;     /* file objects not yet closed (IRP_MJ_CLOSE): the REMOVE waits for 0 */
    /* KERNEL-SEMANTICS §14 (sync_scope.c) */
    WDF_EXECUTION_LEVEL exec_level;
    WDF_SYNCHRONIZATION_SCOPE sync_scope;
    wdf_callback_lock_t cb_lock;
    wdf_power_policy_t pp;   /* power policy (power_policy.c, KERNEL-SEMANTICS §13) */
    struct tdf_childlist_dev *cl; /* child lists (FDO), description/capabilities (PDO): childlist.h */
    /* WdfDeviceSetDeviceState (device_state.c): the bits the PnP manager reads */
    WDF_DEVICE_STATE pnp_device_state;
    int state_removal_asked; /* Failed/Removed reported: the PnP manager tears the stack down */
    unsigned static_iterations; /* FDO: WdfFdoLockStaticChildListForIteration nesting (pdo.c) */
    /* The WDM device object (wdm_device.c, KERNEL-SEMANTICS §16): a KMDF
     * device's stands for it; a WDM driver's IoCreateDevice makes a record
     * with wdm_driven set, and the PnP/power sequences of this layer send it
     * IRPs instead of calling KMDF callbacks. */
    DEVICE_OBJECT wdm;
    int wdm_driven;
    int wdm_query_removed;  /* QUERY_REMOVE succeeded: a veto sends CANCEL_REMOVE */
    PDEVICE_OBJECT wdm_pdo; /* the root PDO the model made for its stack (a WDM stack, a root KMDF FDO) */
    PDEVICE_OBJECT wdm_attached; /* KMDF FDO: what IoAttachDeviceToDeviceStack returned (WdfDeviceWdmGetAttachedDevice) */
    PFN_WDFDEVICE_WDM_IRP_PREPROCESS preprocess; /* WdfDeviceInitAssignWdmIrpPreprocessCallback */
} wdf_device_t;

typedef struct wdf_reslist {
    wdf_object_t obj;
    ULONG count;
    CM_PARTIAL_RESOURCE_DESCRIPTOR desc[2]; /* registers, interrupt (device.c) */
} wdf_reslist_t;

struct WDFDEVICE_INIT {
    wdf_device_settings_t settings;
    int is_pdo;
    wdf_device_t *parent; /* PDO init: the bus FDO */
    struct devnode *node; /* FDO init: the devnode it attaches to */
    struct wdf_device *lower; /* FDO init: that devnode's PDO (NULL for a root device) */
    wdf_driver_t *driver;
    WDF_PNPPOWER_EVENT_CALLBACKS cb;
    PCWSTR device_id;
    struct wdf_file_config *file_cfg;
    WDF_POWER_POLICY_EVENT_CALLBACKS pp_cb; /* WdfDeviceInitSetPowerPolicyEventCallbacks */
    int pp_cb_set;
    int consumed;
    struct wdf_device *created; /* set by WdfDeviceCreate: AddDevice's FDO */
    struct tdf_childlist_init *cl; /* child-list config, PDO IDs/callbacks (childlist.h) */
    PFN_WDFDEVICE_WDM_IRP_PREPROCESS preprocess; /* IRP_MJ_DEVICE_CONTROL only (wdm_escape.c) */
};

void wdf_object_fail_destroyed(struct wdf_object *o, const char *routine);
/* 0x10D on a completed request, with the fatal pair (the completion). */
void wdf_request_fail_completed(wdf_request_t *r, uint32_t subcode, const char *routine, const char *detail);

/* ---- handles ---------------------------------------------------------------- */
/* A received request's handle carries the request's life: KMDF makes a new
 * WDFREQUEST for every I/O a driver receives and frees it at the completion,
 * while the model keeps one record for the sender and every receiver of the
 * request (and for every re-send of it). So the handle a receiver is given
 * (a dispatch, a retrieval from a queue, a cancel, stop or resume callback)
 * is the record's address with bits 48-63 set to the life it was given in:
 * r->completions + 1 (mod 0x8000), never 0. A call with a handle of an
 * earlier life -- a pointer a driver kept past the completion, which the
 * sender then reused and sent again -- is a use of the freed WDFREQUEST,
 * caught at that call (wdf_object_checked), not a call on the request's next
 * life. A sender's own handle (WdfRequestCreate, its completion routine) has
 * no life bits: its object outlives every completion. Drivers never
 * dereference handles; the model turns one into its object through
 * wdf_object_from_handle only. */
#define WDF_HANDLE_LIFE_SHIFT 48
static inline unsigned wdf_request_life(const wdf_request_t *r) { return (r->completions & 0x7fffu) + 1u; }
static inline WDFREQUEST wdf_request_receiver_handle(const wdf_request_t *r)
{
    return (WDFREQUEST)((uintptr_t)r | (uintptr_t)wdf_request_life(r) << WDF_HANDLE_LIFE_SHIFT);
}
static inline unsigned wdf_handle_life(const void *h) { return (unsigned)((uintptr_t)h >> WDF_HANDLE_LIFE_SHIFT); }
static inline wdf_object_t *wdf_object_from_handle(const void *h)
{
    return (wdf_object_t *)((uintptr_t)h & (((uintptr_t)1 << WDF_HANDLE_LIFE_SHIFT) - 1));
}
/* 0x10D on a received request's handle of an earlier life (above). */
void wdf_request_fail_stale_handle(wdf_request_t *r, const char *routine);

/* ---- objects ---------------------------------------------------------------- */
void wdf_object_init(wdf_object_t *o, obj_kind_t kind, PWDF_OBJECT_ATTRIBUTES attrs);
/* Returns the object if the handle is a live object of `kind`, else reports
 * 0x10D (WDF_VIOLATION, invalid handle) naming the routine. */
wdf_object_t *wdf_object_checked(WDFOBJECT h, obj_kind_t kind, const char *routine);
wdf_device_t *wdf_device_checked(WDFDEVICE h, const char *routine);
/* A live object of any kind (0x10D/0x4 NULL, 0x10D/0x5 destroyed). */
wdf_object_t *wdf_object_checked_any(WDFOBJECT h, const char *routine);
/* Runs the cleanup callback and drops the creation reference. */
void wdf_object_delete(wdf_object_t *o);
void wdf_object_release(wdf_object_t *o); /* drop one reference; 0 -> destroy */
/* Makes `parent` the object's parent (a reference on it until o's destroy).
 * NULL: the current driver, KMDF's default parent. Call once, at create. */
void wdf_object_set_parent(wdf_object_t *o, wdf_object_t *parent);
/* Delete of an object's children, in two steps (driver unload uses them on
 * the WDFDRIVER): dispose = cleanup callbacks deepest first; drop = release
 * the creation references (destroy callbacks once nothing else holds them). */
void wdf_object_dispose_children(wdf_object_t *o);
void wdf_object_drop_children(wdf_object_t *o);
/* Nearest WDFDEVICE at or above o in the tree (queues count as their
 * device's), or NULL. */
wdf_device_t *wdf_object_device_ancestor(wdf_object_t *o);

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
/* The power-down core for a reason (power_policy.h): wake arming before
 * D0Exit; a failing SelfManagedIoSuspend/D0Exit of an idle or Sx power-down
 * tears the device down. Returns 0 if the arming failed and the device went
 * back to D0 instead. */
int wdf_device_power_down_for(wdf_device_t *d, WDF_POWER_DEVICE_STATE target, pp_dx_reason_t reason);
/* Surprise removal in two parts: the EvtDeviceSurpriseRemoval callback, which
 * KMDF does not synchronize with the device's other PnP/power callbacks (the
 * PnP state machine calls it while the power state machine may be in a
 * power-down), then, in the framework's per-device order, the power-down core,
 * ReleaseHardware, the purge of power-managed queues and Flush. */
void wdf_device_surprise_notify(wdf_device_t *d);
void wdf_device_surprise_teardown(wdf_device_t *d);
NTSTATUS wdf_device_query_remove(wdf_device_t *d);
NTSTATUS wdf_device_query_stop(wdf_device_t *d);
/* STOP (rebalance): power-down core to D3Final, ReleaseHardware. Restart with
 * wdf_device_start (PrepareHardware, D0Entry, SelfManagedIoRestart). */
void wdf_device_stop(wdf_device_t *d);
/* REMOVE (KERNEL-SEMANTICS §4 "Orderly remove"), in two halves because a bus
 * deletes its children in between: begin = power-down core D3Final,
 * ReleaseHardware, purge power-managed queues, SelfManagedIoFlush; end =
 * purge the other queues, SelfManagedIoCleanup, delete. A still-present PDO
 * gets only the first half on its own REMOVE; its parent's REMOVE ends it. */
void wdf_device_remove_begin(wdf_device_t *d);
void wdf_device_remove_end(wdf_device_t *d);
void wdf_device_remove(wdf_device_t *d, int delete_object); /* begin, then end if delete_object */
void wdf_device_register_hardware(wdf_device_t *d, ULONGLONG phys);

void wdf_reset(void);
void wdf_registry_reset(void); /* device_init.c: values assigned in the run */

/* ---- I/O (queue.c, request.c, io_target.c) ------------------------------------- */
wdf_request_t *wdf_request_checked(WDFREQUEST h, const char *routine);
wdf_request_t *wdf_request_new(WDF_REQUEST_TYPE type, ULONG ioctl, void *in, size_t in_len, void *out,
                               size_t out_len);
/* Delivers a request to a queue (dispatching it if the queue can). */
void wdf_queue_deliver(wdf_queue_t *q, wdf_request_t *r);
void wdf_queue_dispatch_all(wdf_device_t *d);
/* Power-down: hold power-managed queues, EvtIoStop per owned request, wait
 * until each completes or is acknowledged (0x9F if never). */
void wdf_device_hold_queues(wdf_device_t *d);
/* Power-up, after D0Entry: EvtIoResume for acknowledged requests, dispatch. */
void wdf_device_resume_queues(wdf_device_t *d);
/* Remove/surprise: purge (power-managed or the others), wait for owned requests. */
void wdf_device_purge_queues(wdf_device_t *d, int power_managed);
/* Deleted PDOs leave the FDO's static child list, unless an iteration holds
 * it (KMDF removes an entry once no scan is open; pdo.c). */
void wdf_static_children_compact(wdf_device_t *fdo);
/* WdfDeviceSetDeviceState said NotDisableable (device_state.c). */
int wdf_device_not_disableable(const wdf_device_t *d);
/* An owned request leaves the driver: forget it (wakes power-down/purge
 * waiters); release also lets a sequential queue dispatch the next one. */
void wdf_queue_forget_owned(wdf_queue_t *q, wdf_request_t *r);
void wdf_queue_release_owned(wdf_queue_t *q, wdf_request_t *r);
/* Records r as owned by q's driver: any number (a dropped one would be
 * invisible to purge and EvtIoStop). */
void wdf_queue_add_owned(wdf_queue_t *q, wdf_request_t *r);
/* A growing list of requests (a queue's owned ones, a target's sent ones):
 * makes room for one more after `count`, doubling from `first_cap`. Model
 * pool, released with the run; an outgrown array stays until then. */
void wdf_request_list_make_room(wdf_request_t ***list, unsigned *cap, unsigned count, unsigned first_cap);
/* The presentation lock around a non-dispatch queue callback (queue.c):
 * begin returns whether it was taken, end releases it if so. */
int wdf_queue_present_begin(wdf_queue_t *q, const char *what);
void wdf_queue_present_end(wdf_queue_t *q, int taken, const char *what);
/* Removes a queued (not yet dispatched) request from its queue. */
void wdf_queue_unlink(wdf_queue_t *q, wdf_request_t *r);
/* A reference on the device across a framework callback into its driver. */
void wdf_device_hold_for_callback(wdf_device_t *d);
/* A sent request completes: begin takes it off the target's sent list and
 * counts it as completing while its completion routine runs (which may send
 * it again); done ends that and wakes the target's waiters. */
void wdf_io_target_sent_begin(wdf_io_target_t *t, wdf_request_t *r);
void wdf_io_target_sent_done(wdf_io_target_t *t);
/* A request a stopped target kept (r->pended_on) completes with `status`
 * without being sent: a cancel of it (STATUS_CANCELLED); io_target.c's
 * purge and close fail the target's all. */
void wdf_io_target_fail_pended_request(wdf_request_t *r, NTSTATUS status);
/* IoCancelIrp: the queue or the driver's cancel routine completes it. */
void wdf_request_cancel(wdf_request_t *r);
/* Completes (status, information): to the sender's completion routine, a
 * waiting thread, or nobody. */
void wdf_request_finish(wdf_request_t *r, NTSTATUS status, ULONG_PTR information);
/* Query a stack from `top` down (FDO, then its PDO). */
NTSTATUS wdf_query_stack(wdf_device_t *top, LPCGUID type, PINTERFACE iface, USHORT size, USHORT version,
                         PVOID specific);
/* Closes (cancels sent I/O, waits, releases the handle); keep_registration for
 * close-for-query-remove. */
void wdf_io_target_close(wdf_io_target_t *t, int keep_registration);
void wdf_io_target_reopen(wdf_io_target_t *t);
wdf_device_t *wdf_device_by_symbolic_link(PCUNICODE_STRING name);

/* ---- WDM drivers and device objects (wdm_device.c; KERNEL-SEMANTICS §16) ---------- */
wdf_device_t *wdf_device_of_wdm(PDEVICE_OBJECT d); /* the record of a live device object, else NULL */
void wdm_device_init_kmdf(wdf_device_t *d);        /* WdfDeviceCreate: its DEVICE_OBJECT fields */
void wdm_device_attach_kmdf(wdf_device_t *d);      /* WdfDeviceCreate of an FDO: on top of its stack */
void wdm_device_detach_kmdf(wdf_device_t *d);      /* its deletion: off the stack */
void wdm_driver_init(wdf_driver_t *drv);           /* before DriverEntry */
/* AddDevice of a WDM driver for a root devnode: the stack's top device
 * record, or NULL (failed: traced). */
wdf_device_t *wdm_add_device(wdf_driver_t *drv, const char *node_name);
/* The PnP/power sequences of device.c for a WDM stack: IRPs to its top. */
NTSTATUS wdm_pnp_start(wdf_device_t *d);
NTSTATUS wdm_power_up(wdf_device_t *d);
int wdm_power_down(wdf_device_t *d, WDF_POWER_DEVICE_STATE target);
void wdm_surprise_notify(wdf_device_t *d);
NTSTATUS wdm_query_remove(wdf_device_t *d);
void wdm_cancel_remove(wdf_device_t *d);
NTSTATUS wdm_query_stop(wdf_device_t *d);
void wdm_stop(wdf_device_t *d);
void wdm_remove(wdf_device_t *d);
void wdm_client_io(wdf_device_t *d, ULONG ioctl); /* a client's DeviceIoControl (pnp_manager.c client_io) */
/* KMDF's WDM escapes (wdm_escape.c). */
void wdm_request_finished(wdf_request_t *r, NTSTATUS status, ULONG_PTR information);       /* wdf_request_finish: its IRPs go */
/* A client's request to a device with a preprocess callback: through it. */
void wdm_preprocess_deliver(wdf_device_t *d, wdf_request_t *r);
/* A request sent through a target opened on a WDM device object: an IRP. */
void wdm_target_send(wdf_io_target_t *t, wdf_request_t *r);
void wdm_target_cancel(wdf_request_t *r); /* IoCancelIrp of its IRP */
int wdm_target_cancelable(wdf_request_t *r); /* its IRP has a cancel routine */
void wdm_reset(void);

/* ---- WDFMEMORY (memory.c) --------------------------------------------------------- */
/* Deletes the WdfMemoryCreate objects whose parent is `parent` (before the
 * parent's own cleanup callback). */
void wdf_memory_delete_children(wdf_object_t *parent);

/* ---- WDFTIMER / WDFDPC (timer.c, wdfdpc.c; KERNEL-SEMANTICS §8) ------------------- */
/* The WDFDEVICE among `parent` and its ancestors, NULL if none (KMDF's
 * FxDeviceBase::_SearchForDevice): wdf_object_device_ancestor, and a file
 * object's device. */
wdf_device_t *wdf_parent_device(wdf_object_t *parent);
void wdf_timer_reset(void);
void wdf_dpc_reset(void);
/* Late completion routines (request.c): the reset at run start, and the key
 * hook report.c calls (ke_set_late_completion_hook, set by a
 * WdfIoTargetPurge that does not wait). */
void wdf_request_late_reset(void);
/* The freed-buffer hook (ke_set_freed_buffer_hook): the dead request when addr
 * is in the buffer the running thread last took from a request that has been
 * completed since; NULL otherwise. */
const tdf_dead_t *wdf_request_freed_buffer_dead(const void *addr);
/* WdfRequestSend: notes whether a late completion routine makes this send. */
void wdf_request_note_send(wdf_request_t *r);
/* 0x10D/0x7 for a call that needs the request not pending; keyed as the
 * late completion routine that sent it again, when one did. */
void wdf_request_fail_pending(wdf_request_t *r, const char *detail);
int wdf_request_late_completion_key(int fiber, char *owner, size_t owner_size, char *routine, size_t routine_size,
                                    char *purger, size_t purger_size);
const void *wdf_timer_callback_of(int fiber, const struct tdf_image **img);
/* The key hook report.c calls (ke_set_key_origin_hook, wdfdpc.c): a DPC's
 * timer origin, or the caller of the WdfInterruptSynchronize whose callback
 * the access is in (wdf_interrupt_key_origin, interrupt.c). */
int wdf_key_origin(int fiber, const char *frame, char *out, size_t size);
int wdf_interrupt_key_origin(int fiber, const char *frame, char *out, size_t size);
void wdf_memory_destroyed(wdf_memory_t *m); /* last reference gone: the buffer goes */
void wdf_memory_reset(void);

#endif
