/*
 * The PnP and power manager. The PnP thread ("pnp") applies the input's device
 * tree events in order, each as the kernel would send its IRPs across the
 * device tree (KERNEL-SEMANTICS §4 "Across stack"); idle and wake requests come
 * from each device's power policy on a model thread of their own
 * ("power-policy"), concurrently with the PnP thread, as Windows sends them
 * from the idle timer or the power policy owner, not from the PnP worker:
 *   - remove / surprise removal / stop: top-down, descendants first, in a
 *     stack FDO before PDO; QUERY_REMOVE to descendants first;
 *   - power-up: bottom-up (parents first, in a stack PDO before FDO);
 *   - power-down: leaves first (a child PDO holds a power reference on its
 *     parent, so a parent idles only once its children are in Dx).
 * An event that is illegal in the current state is skipped deterministically
 * and says so in the trace; it is never an error.
 *
 * What stays serialized, and why (docs/LIFECYCLE.md "Concurrency"):
 *   - tree events among themselves: Windows queues device-tree actions
 *     (start, query-remove/remove, surprise removal, rebalance) to one PnP
 *     worker; system sleep/hibernate lock the device tree against them;
 *   - one transition per stack at a time (node_lock): KMDF's per-device PnP,
 *     power and power-policy state machines process one event at a time and
 *     the PnP machine waits for the power machine; the one exception is
 *     EvtDeviceSurpriseRemoval, which KMDF calls from the PnP machine without
 *     synchronizing it with the power callbacks, so it runs unlocked and may
 *     overlap an idle power-down of the same device;
 *   - parent before child: a child's power-up holds its parent's lock (its
 *     power reference keeps the parent in D0), and locks nest only ancestor
 *     before descendant, so they cannot deadlock.
 */
#include "pnp.h"
#include "../wdf/interrupt.h"
#include "../kernel/tsan_sync.h"
#include "../wdf/fileobject.h"
#include "../wdf/childlist.h"
#include "../kernel/names.h"

#include <stdio.h>
#include <string.h>

#ifndef STATUS_INVALID_DEVICE_REQUEST
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
#endif

static devnode_t g_nodes[TDF_MAX_NODES];
static unsigned g_node_count;
static const tdf_target_desc_t *g_target;

unsigned pnp_node_count(void) { return g_node_count; }
const devnode_t *pnp_node(unsigned i) { return &g_nodes[i]; }

const char *pnp_state_name(pnp_state_t s)
{
    static const char *const names[] = {"Added", "Started", "Stopped", "SurpriseRemoved", "Removed", "Deleted", "Failed"};
    return s <= PNP_FAILED ? names[s] : "?";
}

const char *pnp_power_name(WDF_POWER_DEVICE_STATE s)
{
    static const char *const names[] = {"Invalid", "D0", "D1", "D2", "D3", "D3Final", "PrepareForHibernation"};
    return s < WdfPowerDeviceMaximum ? names[s] : "?";
}

/* Devnodes enumerated so far per driver (names stay unique when a slot is reused). */
#define MAX_NAMED_DRIVERS 8
static struct {
    const tdf_image_desc_t *desc;
    unsigned count;
} g_named[MAX_NAMED_DRIVERS + 1];

static int g_tree_owner;
static unsigned g_tree_depth;
static uint32_t g_tree_next_ticket, g_tree_serving;

void pnp_reset(const tdf_target_desc_t *t)
{
    memset(g_nodes, 0, sizeof g_nodes);
    g_node_count = 0;
    g_target = t;
    g_tree_owner = 0;
    g_tree_depth = 0;
    g_tree_next_ticket = g_tree_serving = 0;
    memset(g_named, 0, sizeof g_named);
}

/* ---- the device tree: one tree action at a time, in queue order ---------------------- */
/* Windows queues device-tree actions -- the input's tree events and the bus
 * relations queries and ejects that drivers request (IoInvalidateDeviceRelations,
 * IoRequestDeviceEject) -- to one PnP worker, first in first out, so they run
 * one at a time in the order they were queued; the drivers' own threads,
 * stimuli and power-policy requests keep running. A ticket is the place in
 * that queue: a driver's request takes it when it is made (tree_ticket), the
 * PnP thread when it starts an event. Taken outermost (before any
 * node_lock). Not a yield point: with no relations or eject request the PnP
 * thread is the only taker, never waits, and the schedule is the one without it. */
static uint32_t tree_ticket(void) { return g_tree_next_ticket++; }

static void tree_lock_ticket(uint32_t ticket)
{
    while (g_tree_depth || g_tree_serving != ticket)
        ke_block(&g_tree_depth, "device tree busy: an earlier PnP action in progress");
    g_tree_owner = sched_current();
    g_tree_depth = 1;
    TDF_HB_ACQUIRE(&g_tree_depth);
}

static void tree_lock(void)
{
    if (g_tree_depth && g_tree_owner == sched_current()) {
        g_tree_depth++;
        return;
    }
    tree_lock_ticket(tree_ticket());
}

static void tree_unlock(void)
{
    if (--g_tree_depth)
        return;
    g_tree_serving++;
    TDF_HB_RELEASE(&g_tree_depth);
    sched_wake(&g_tree_depth);
}

static const tdf_image_desc_t *driver_for(PCWSTR hwid);
static int has_driver(PCWSTR hwid) { return driver_for(hwid) != NULL; }

static const tdf_image_desc_t *driver_for(PCWSTR hwid)
{
    for (unsigned i = 0; hwid && i < g_target->image_count; i++)
        for (unsigned k = 0; k < TDF_MAX_HARDWARE_IDS && g_target->images[i].hardware_ids[k]; k++)
            if (tdf_wide_equal(g_target->images[i].hardware_ids[k], hwid))
                return &g_target->images[i];
    return NULL;
}

/* A devnode slot to reuse once the table is full: a removed device whose PDO
 * is deleted (nothing can reach the old node through a live object), whose
 * lock is free, and which comes after the parent, so that creation order
 * (ancestors first: system_sleep) still holds. Dynamic enumeration creates a
 * devnode per arrival; without reuse a bus that keeps plugging and unplugging
 * would run out. None for a tree whose devices are all live. */
static devnode_t *reusable_node(const devnode_t *parent)
{
    for (unsigned i = parent ? (unsigned)(parent - g_nodes) + 1 : 0; i < g_node_count; i++) {
        devnode_t *n = &g_nodes[i];
        if (n->gone && !n->lock_depth && n->pdo && n->pdo->pnp == PNP_DELETED) {
            n->pdo->node = NULL;
            memset(n, 0, sizeof *n);
            return n;
        }
    }
    return NULL;
}

static unsigned next_ordinal(const tdf_image_desc_t *desc)
{
    unsigned i = 0;
    while (i < MAX_NAMED_DRIVERS && g_named[i].count && g_named[i].desc != desc)
        i++;
    g_named[i].desc = desc; /* the last entry is shared if a target has more drivers: names only */
    return g_named[i].count++;
}

static devnode_t *node_new(devnode_t *parent, wdf_device_t *pdo, PCWSTR hwid)
{
    devnode_t *n = g_node_count < TDF_MAX_NODES ? &g_nodes[g_node_count++] : reusable_node(parent);
    if (!n) {
        /* a device left out of the tree would never start nor be removed */
        TDF_LIMIT(TDF_MAX_NODES, "model/pnp/pnp.h", "more devices in the tree (device nodes)");
        return NULL; /* only from main, which stops the run */
    }
    n->parent = parent;
    n->pdo = pdo;
    n->desc = driver_for(hwid);
    n->hardware_id = hwid;
    /* Names: the driver's image name plus its ordinal among nodes of that
     * driver; the first root of an image goes without the number ("bus"). */
    const char *base = n->desc ? n->desc->image->name : "dev";
    unsigned same = next_ordinal(n->desc);
    size_t at = 0;
    name_put(n->name, sizeof n->name, &at, base);
    if (parent || same != 0)
        name_put_u(n->name, sizeof n->name, &at, same);
    if (pdo) {
        pdo->node = n;
        name_join(pdo->name, sizeof pdo->name, n->name, "/PDO");
    }
    SCHED_TRACE1("enumerated %s", n->name);
    return n;
}

static int node_started(const devnode_t *n) { return !n->gone && n->fdo && n->fdo->pnp == PNP_STARTED; }

/* ---- one transition per stack at a time ------------------------------------------ */
/* Not a yield point by itself (a fiber that finds it taken blocks): the
 * interleavings come from the driver code the transitions run. Unlock
 * publishes the transition's writes to the next holder (TSan), as the
 * framework's state-machine lock does. */
static void node_lock(devnode_t *n)
{
    int me = sched_current();
    if (n->lock_depth && n->lock_owner == me) {
        n->lock_depth++;
        return;
    }
    while (n->lock_depth)
        ke_block(&n->lock_depth, "devnode busy: PnP/power transition in progress");
    n->lock_owner = me;
    n->lock_depth = 1;
    TDF_HB_ACQUIRE(n);
}

static void node_unlock(devnode_t *n)
{
    if (--n->lock_depth)
        return;
    TDF_HB_RELEASE(n);
    sched_wake(&n->lock_depth);
}

/* ---- start ------------------------------------------------------------------- */
static void enumerate_children(devnode_t *n);

static int start_stack(devnode_t *n);
static int start_wdm_stack(devnode_t *n, wdf_driver_t *drv);
static int hold_parent_in_d0(devnode_t *n);
static void release_parent(devnode_t *n);

static void start_node(devnode_t *n)
{
    if (!hold_parent_in_d0(n)) {
        release_parent(n);
        SCHED_TRACE1("%s: not started (parent cannot reach D0)", n->name);
        return;
    }
    node_lock(n);
    int started = start_stack(n);
    node_unlock(n);
    release_parent(n);
    if (started)
        enumerate_children(n);
}

/* A WDM driver's stack (KERNEL-SEMANTICS §16): AddDevice with a PDO of the
 * root bus, then IRP_MN_START_DEVICE to the top of the stack. The device
 * record of the top device object is the devnode's FDO from here on: the
 * per-device sequences of model/wdf/device.c send it IRPs. Root devnodes
 * only (a WDM bus driver's children are not modelled). */
static int start_wdm_stack(devnode_t *n, wdf_driver_t *drv)
{
    if (n->pdo)
        TdfUnmodelled("AddDevice", "a WDM driver for a child device (WDM stacks are root-enumerated only)");
    wdf_device_t *fdo = wdm_add_device(drv, n->name);
    if (!fdo)
        return 0;
    n->fdo = fdo;
    fdo->node = n;
    name_join(fdo->name, sizeof fdo->name, n->name, "/FDO");
    name_join(fdo->role, sizeof fdo->role, drv->image->name, "/FDO"); /* signatures: no instance number */
    NTSTATUS st = wdf_device_start(fdo);
    if (!NT_SUCCESS(st)) {
        /* a failed START: the PnP manager sends REMOVE to the stack */
        fdo->obj.refs++;
        wdf_device_remove(fdo, 1);
        n->fdo = NULL;
        wdf_object_release(&fdo->obj);
        return 0;
    }
    return 1;
}

/* Precondition: n locked. Returns 1 if the FDO started. */
static int start_stack(devnode_t *n)
{
    if (n->pdo) {
        if (!NT_SUCCESS(wdf_device_start(n->pdo))) {
            SCHED_TRACE1("%s: PDO start failed", n->name);
            return 0;
        }
    }
    if (!n->desc) {
        SCHED_TRACE1("%s: no driver for this hardware ID", n->name);
        return 0;
    }
    wdf_driver_t *drv = wdf_driver_load(n->desc);
    if (!drv)
        return 0;
    if (drv->is_wdm)
        return start_wdm_stack(n, drv);
    struct WDFDEVICE_INIT init = {.node = n, .driver = drv, .lower = n->pdo};
    SCHED_TRACE1("%s: EvtDriverDeviceAdd", n->name);
    wdf_driver_pin(drv);
    NTSTATUS st = drv->config.EvtDriverDeviceAdd((WDFDRIVER)drv, &init);
    wdf_device_t *fdo = init.created;
    if (!NT_SUCCESS(st) || !fdo) {
        SCHED_TRACE2("%s: AddDevice failed 0x%lx", n->name, (unsigned long)(uint32_t)st);
        if (fdo)
            wdf_device_remove(fdo, 1);
        wdf_driver_unpin(drv);
        return 0;
    }
    wdf_driver_unpin(drv); /* the new FDO keeps it loaded from here on */
    n->fdo = fdo;
    fdo->node = n;
    fdo->lower = n->pdo;
    name_join(fdo->name, sizeof fdo->name, n->name, "/FDO");
    wdf_device_register_hardware(fdo, 0xF0000000ULL + 0x1000ULL * (ULONGLONG)(n - g_nodes));
    st = wdf_device_start(fdo);
    if (!NT_SUCCESS(st)) {
        SCHED_TRACE2("%s: start failed 0x%lx, removing", n->name, (unsigned long)(uint32_t)st);
        wdf_device_remove(fdo, 1);
        n->fdo = NULL;
        return 0;
    }
    return 1;
}

static void surprise_remove_node(devnode_t *n);

/* QUERY_DEVICE_RELATIONS(BusRelations), under the tree lock: static children
 * not yet known become devnodes; then the child lists' changes
 * (KERNEL-SEMANTICS §11): PDOs reported missing are surprise-removed (their
 * stack torn down, the PDO deleted), PDOs of new descriptions are created
 * (EvtChildListCreateDevice) and started. */
static void enumerate_children(devnode_t *n)
{
    if (!node_started(n))
        return;
    wdf_device_t *fdo = n->fdo;
    /* a static child list locked for iteration reports no addition (pdo.c) */
    for (unsigned i = 0; fdo->static_iterations == 0 && i < fdo->static_child_count; i++) {
        wdf_device_t *pdo = fdo->static_children[i];
        if (pdo->node || pdo->obj.deleted || (pdo->cl && pdo->cl->reported_missing))
            continue;
        devnode_t *child = node_new(n, pdo, pdo->device_id);
        if (child)
            start_node(child);
    }
    if (!fdo->cl)
        return; /* no child list, nothing marked missing: the static path only */
    fdo->cl->relations_pending = 0; /* reports from here on ask for another query */
    wdf_device_t *missing[TDF_MAX_RELATIONS], *created[TDF_MAX_RELATIONS];
    unsigned nm, nc;
    wdf_childlist_bus_relations(fdo, missing, &nm, created, &nc, TDF_MAX_RELATIONS);
    for (unsigned i = 0; i < nm; i++) {
        wdf_device_t *pdo = missing[i];
        devnode_t *c = pdo->node;
        SCHED_TRACE1("%s: not in the bus relations any more", pdo->name);
        /* only a PDO PnP knew is reported missing to it */
        if (c && pdo->cl->pdo_cb.EvtDeviceReportedMissing)
            pdo->cl->pdo_cb.EvtDeviceReportedMissing((WDFDEVICE)pdo);
        if (c && !c->gone) {
            surprise_remove_node(c); /* the PDO was reported missing: SR, REMOVE, deleted */
        } else if (!c && !pdo->obj.deleted) {
            /* a static child marked missing before PnP ever saw it: the
             * framework deletes it itself, no PnP IRP reaches it */
            SCHED_TRACE1("%s: missing before it was reported: deleted", pdo->name);
            wdf_device_remove(pdo, 1);
        }
    }
    for (unsigned i = 0; i < nc; i++) {
        wdf_device_t *pdo = created[i];
        devnode_t *child = node_new(n, pdo, wdf_pdo_binding_id(pdo, has_driver));
        if (child)
            start_node(child);
    }
}

/* ---- removal ------------------------------------------------------------------- */
static void children_of(devnode_t *n, devnode_t **out, unsigned *count)
{
    *count = 0;
    for (unsigned i = 0; i < g_node_count; i++)
        if (g_nodes[i].parent == n && !g_nodes[i].gone)
            out[(*count)++] = &g_nodes[i];
}

static void mark_gone(devnode_t *n)
{
    n->gone = 1;
    n->fdo = NULL;
    SCHED_TRACE1("%s: devnode gone", n->name);
}

static int orderly_remove_node(devnode_t *n, int keep_pdo);

static void surprise_subtree(devnode_t *n)
{
    devnode_t *kids[TDF_MAX_NODES];
    unsigned k;
    children_of(n, kids, &k);
    for (unsigned i = k; i-- > 0;)
        surprise_subtree(kids[i]);
    /* FDO, then PDO. EvtDeviceSurpriseRemoval before taking the stack's lock:
     * an idle power-down of this device may be under way on a power-policy
     * thread, and KMDF does not wait for it before that callback. */
    wdf_device_t *devs[2] = {n->fdo, n->pdo};
    for (unsigned i = 0; i < 2; i++) {
        wdf_device_t *d = devs[i];
        /* FAILED: PnpEventFailedSurpriseRemoved calls EvtDeviceSurpriseRemoval too */
        if (!d || (d->pnp != PNP_STARTED && d->pnp != PNP_FAILED))
            continue;
        wdf_device_surprise_notify(d);
        node_lock(n);
        wdf_device_surprise_teardown(d);
        node_unlock(n);
    }
}

/* REMOVE for a subtree; the PDO of `n` itself survives if keep_pdo (a
 * disabled device that is still present). */
static void remove_subtree(devnode_t *n, int keep_pdo)
{
    devnode_t *kids[TDF_MAX_NODES];
    unsigned k;
    children_of(n, kids, &k);
    /* Children first; their PDOs stay (still present) until this device's
     * REMOVE deletes them (KERNEL-SEMANTICS §4: "... SelfManagedIoFlush ->
     * children removed -> purge non-power-managed -> SelfManagedIoCleanup"). */
    for (unsigned i = k; i-- > 0;)
        remove_subtree(kids[i], 1);
    node_lock(n);
    wdf_device_t *fdo = n->fdo;
    if (fdo) {
        n->fdo = NULL;
        /* KMDF's FDO package runs its whole REMOVE (cleanup callbacks
         * included) before it forwards the IRP, and deletes its device object
         * only once the IRP came back from the PDO (KMDF source:
         * fxpkgfdo.cpp, FxPkgFdo::ProcessRemoveDeviceOverload: CallDriver,
         * then DeleteDevice). This reference is that device object: the FDO
         * is destroyed (EvtDestroyCallback, its driver may unload) after the
         * PDO below it processed the REMOVE (KERNEL-SEMANTICS §4 "Across stack"). */
        fdo->obj.refs++;
        wdf_device_remove_begin(fdo);
        for (unsigned i = k; i-- > 0;) {
            node_lock(kids[i]); /* ancestor before descendant */
            if (kids[i]->pdo && kids[i]->pdo->pnp != PNP_DELETED)
                wdf_device_remove_end(kids[i]->pdo);
            if (!kids[i]->gone)
                mark_gone(kids[i]);
            node_unlock(kids[i]);
        }
        wdf_device_remove_end(fdo);
    }
    if (n->pdo && n->pdo->pnp != PNP_DELETED) {
        if (n->pdo->pnp != PNP_REMOVED)
            wdf_device_remove_begin(n->pdo);
        if (!keep_pdo)
            wdf_device_remove_end(n->pdo);
    }
    if (fdo)
        wdf_object_release(&fdo->obj); /* IoDeleteDevice of the FDO */
    if (!keep_pdo || !n->pdo)
        mark_gone(n);
    node_unlock(n);
}

static NTSTATUS query_remove_subtree(devnode_t *n)
{
    devnode_t *kids[TDF_MAX_NODES];
    unsigned k;
    children_of(n, kids, &k);
    for (unsigned i = k; i-- > 0;) {
        NTSTATUS st = query_remove_subtree(kids[i]);
        if (!NT_SUCCESS(st))
            return st;
    }
    NTSTATUS st = STATUS_SUCCESS;
    node_lock(n);
    if (n->fdo && n->fdo->pnp == PNP_STARTED)
        st = wdf_device_query_remove(n->fdo);
    node_unlock(n);
    return st;
}

/* ---- handles held on removed devices (remote I/O targets, KERNEL-SEMANTICS §5) ---- */
#define MAX_NOTIFIED 32
typedef struct target_list {
    wdf_io_target_t *t[MAX_NOTIFIED];
    unsigned n;
} target_list_t;

static void subtree_fdos(devnode_t *n, wdf_device_t **out, unsigned *count)
{
    devnode_t *kids[TDF_MAX_NODES];
    unsigned k;
    children_of(n, kids, &k);
    for (unsigned i = 0; i < k; i++)
        subtree_fdos(kids[i], out, count);
    if (n->fdo && *count < TDF_MAX_NODES)
        out[(*count)++] = n->fdo;
}

/* Handles open on the subtree's devices now (a copy: callbacks close them). */
static void open_handles(devnode_t *n, target_list_t *list)
{
    wdf_device_t *fdos[TDF_MAX_NODES];
    unsigned nf = 0;
    subtree_fdos(n, fdos, &nf);
    list->n = 0;
    for (unsigned i = 0; i < nf; i++)
        for (unsigned k = 0; k < fdos[i]->nopened_by; k++) {
            if (list->n >= MAX_NOTIFIED) { /* a handle left out would hear of no removal */
                TDF_LIMIT(MAX_NOTIFIED, "model/pnp/pnp_manager.c", "more open handles on the devices being removed");
                return; /* only from main, which stops the run */
            }
            list->t[list->n++] = fdos[i]->opened_by[k];
        }
}

/* GUID_TARGET_DEVICE_QUERY_REMOVE to every handle holder, before the IRP.
 * Returns 0 on a veto, after telling the ones already asked (RemoveCanceled). */
static void set_remove_pending(devnode_t *n, int pending)
{
    wdf_device_t *fdos[TDF_MAX_NODES];
    unsigned nf = 0;
    subtree_fdos(n, fdos, &nf);
    for (unsigned i = 0; i < nf; i++)
        fdos[i]->remove_pending = pending;
}

/* User-mode clients registered for their handle's device-change events
 * close it when told of a query-remove or a completed removal (Learn's
 * "Processing a Request to Remove a Device": close on DBT_DEVICEQUERYREMOVE,
 * close what is still open on DBT_DEVICEREMOVECOMPLETE), canceling their
 * I/O first. A file object lives on until its last request completes; for a
 * query-remove the PnP manager waits for that as long as anything can run,
 * and a handle still open then aborts the removal ("If handles remain open
 * on the device, the PnP manager cannot remove the device", Learn's
 * "Handling a GUID_TARGET_DEVICE_QUERY_REMOVE Event"). Returns 0 on that
 * veto. Not a yield point: with no handle open it does nothing. */
static int close_client_handles(devnode_t *n, int veto_if_open)
{
    wdf_device_t *fdos[TDF_MAX_NODES];
    unsigned nf = 0;
    subtree_fdos(n, fdos, &nf);
    for (unsigned i = 0; i < nf; i++)
        (void)wdf_file_close_handles_of(fdos[i]);
    if (!veto_if_open)
        return 1;
    for (unsigned i = 0; i < nf; i++) {
        wdf_device_t *d = fdos[i];
        while (d->open_files > 0) {
            if (ke_block_timed(&d->open_files, "query-remove: client handles to close")) {
                SCHED_TRACE2("%s: %lu handle(s) still open: query-remove aborted", d->name,
                             (unsigned long)d->open_files);
                return 0;
            }
        }
    }
    return 1;
}

static int notify_query_remove(devnode_t *n, target_list_t *asked)
{
    target_list_t open;
    set_remove_pending(n, 1); /* from the first notification on, new opens fail */
    open_handles(n, &open);
    asked->n = 0;
    for (unsigned i = 0; i < open.n; i++) {
        wdf_io_target_t *t = open.t[i];
        asked->t[asked->n++] = t;
        NTSTATUS st = STATUS_SUCCESS;
        SCHED_TRACE2("%s: query-remove notification to %s", t->remote->name, t->owner->name);
        if (t->params.EvtIoTargetQueryRemove)
            st = t->params.EvtIoTargetQueryRemove((WDFIOTARGET)t);
        else
            wdf_io_target_close(t, 1); /* KMDF default: close, keep the registration */
        if (!NT_SUCCESS(st)) {
            SCHED_TRACE1("query-remove vetoed by %s", t->owner->name);
            return 0;
        }
    }
    return close_client_handles(n, 1);
}

/* IRP_MN_CANCEL_REMOVE_DEVICE to the WDM stacks of the subtree whose
 * QUERY_REMOVE succeeded (a KMDF device needs nothing: the framework's
 * state machine goes back to Started by itself). Not a yield point. */
static void cancel_remove_subtree(devnode_t *n)
{
    devnode_t *kids[TDF_MAX_NODES];
    unsigned k;
    children_of(n, kids, &k);
    for (unsigned i = 0; i < k; i++)
        cancel_remove_subtree(kids[i]);
    if (n->fdo && n->fdo->wdm_driven && n->fdo->wdm_query_removed) {
        node_lock(n);
        wdm_cancel_remove(n->fdo);
        node_unlock(n);
    }
}

static void notify_remove_canceled(devnode_t *n, target_list_t *asked)
{
    cancel_remove_subtree(n);
    set_remove_pending(n, 0);
    for (unsigned i = 0; i < asked->n; i++) {
        wdf_io_target_t *t = asked->t[i];
        if (t->params.EvtIoTargetRemoveCanceled)
            t->params.EvtIoTargetRemoveCanceled((WDFIOTARGET)t);
        else
            wdf_io_target_reopen(t); /* KMDF default: reopen */
    }
}

static void notify_remove_complete(target_list_t *list)
{
    for (unsigned i = 0; i < list->n; i++) {
        wdf_io_target_t *t = list->t[i];
        if (!t->open && !t->closed_for_query_remove)
            continue; /* already closed for good */
        SCHED_TRACE1("remove-complete notification to %s", t->owner->name);
        if (t->params.EvtIoTargetRemoveComplete)
            t->params.EvtIoTargetRemoveComplete((WDFIOTARGET)t);
        else
            wdf_io_target_close(t, 0); /* KMDF default */
    }
}

/* IRP_MN_REMOVE_DEVICE goes out only once every handle is closed. */
static int wait_handles_closed(devnode_t *n)
{
    wdf_device_t *fdos[TDF_MAX_NODES];
    unsigned nf = 0;
    subtree_fdos(n, fdos, &nf);
    for (unsigned i = 0; i < nf; i++) {
        wdf_device_t *d = fdos[i];
        while (d->nopened_by > 0) {
            if (ke_block_timed(&d->nopened_by, "REMOVE: open handles to close")) {
                tdf_fail(TDF_CLASS_HANG, 0, 0, "REMOVE_WAITS_FOR_HANDLES", d->name, d->opened_by[0]->owner->name,
                         "removal of %s waits forever: %u handle(s) still open (I/O target of %s never closed)",
                         d->name, d->nopened_by, d->opened_by[0]->owner->name);
                return 0;
            }
        }
        while (d->open_files > 0) {
            if (ke_block_timed(&d->open_files, "REMOVE: client handles to close")) {
                tdf_fail(TDF_CLASS_HANG, 0, 0, "REMOVE_WAITS_FOR_HANDLES", d->name, "client",
                         "removal of %s waits forever: %u client handle(s) still open (a request on it is never "
                         "completed)",
                         d->name, d->open_files);
                return 0;
            }
        }
    }
    return 1;
}

/* ---- power ----------------------------------------------------------------------- */
static int node_in_d0(const devnode_t *n) { return n->fdo && n->fdo->power == WdfPowerDeviceD0; }

/* Precondition: n's ancestors are locked by the caller (wake_node). */
static int wake_locked(devnode_t *n)
{
    if (!node_started(n))
        return 0;
    if (node_in_d0(n))
        return 1;
    if (n->pdo)
        (void)wdf_device_power_up(n->pdo, n->pdo->power);
    (void)wdf_device_power_up(n->fdo, n->fdo->power);
    return 1;
}

/* Parents first; each parent's lock is held until the child is up, as the
 * child's power reference keeps the parent from idling in between. */
static int wake_node(devnode_t *n)
{
    int ok = 1;
    if (n->parent) {
        node_lock(n->parent);
        ok = wake_node(n->parent);
    }
    if (ok) {
        node_lock(n);
        ok = wake_locked(n);
        node_unlock(n);
    }
    if (n->parent)
        node_unlock(n->parent);
    return ok;
}

static int idle_node(devnode_t *n)
{
    node_lock(n);
    int done = 0;
    /* The idle timer of the stack's power-policy owner (the FDO) runs only
     * with S0 idle settings assigned and no power reference held
     * (KERNEL-SEMANTICS §13): otherwise the `idle` event finds nothing to do. */
    if (node_started(n) && node_in_d0(n) && !pp_idle_allowed(n->fdo)) {
        SCHED_TRACE3("%s: idle not allowed by the power policy (%s, %ld power references)", n->name,
                     n->fdo->pp.idle_assigned ? "S0 idle enabled" : "no S0 idle settings", (long)n->fdo->pp.refs);
    } else if (node_started(n) && node_in_d0(n)) {
        devnode_t *kids[TDF_MAX_NODES];
        unsigned k;
        children_of(n, kids, &k);
        done = 1;
        /* A child whose PDO is in D0 holds its power reference on us, also
         * while its own stack is being removed on another thread (the FDO
         * pointer is already gone then, the PDO's power state is not). */
        for (unsigned i = 0; i < k; i++)
            if (kids[i]->pdo ? kids[i]->pdo->power == WdfPowerDeviceD0 : node_in_d0(kids[i]))
                done = 0;
        if (done) {
            WDF_POWER_DEVICE_STATE dx = pp_idle_target(n->fdo);
            /* 0: the owner's wake arming failed and it went back to D0; its
             * PDO then stays in D0 too (the stack's Dx IRP is not sent). */
            if (wdf_device_power_down_for(n->fdo, dx, PP_DX_IDLE) && n->pdo)
                wdf_device_power_down_for(n->pdo, dx, PP_DX_IDLE);
        }
    }
    node_unlock(n);
    return done;
}

/* Every power-up of a child -- start, restart, wake, system resume -- needs
 * its parent in D0 for as long as it lasts: the child's power reference. The
 * parent's lock is held across it, so a concurrent idle of the parent waits. */
static int hold_parent_in_d0(devnode_t *n)
{
    if (!n->parent)
        return 1;
    node_lock(n->parent);
    return wake_node(n->parent);
}

static void release_parent(devnode_t *n)
{
    if (n->parent)
        node_unlock(n->parent);
}

/* ---- power policy: idle and wake requests on their own model thread ----------------- */
typedef struct power_request {
    devnode_t *node;
    uint8_t kind; /* TDF_EV_IDLE or TDF_EV_WAKE */
    int done;     /* set by the power-policy thread as it ends */
} power_request_t;

static void power_policy_main(void *p)
{
    power_request_t *r = p;
    int done;
    if (r->kind == TDF_EV_IDLE) {
        done = idle_node(r->node);
    } else {
        /* The device signalled wake (its wait-wake IRP completed): an armed
         * owner hears EvtDeviceWakeFromS0Triggered, still in Dx, first. */
        node_lock(r->node);
        if (node_started(r->node) && !node_in_d0(r->node))
            pp_wake_triggered(r->node->fdo);
        node_unlock(r->node);
        done = node_started(r->node) && !node_in_d0(r->node) && wake_node(r->node);
    }
    if (!done)
        SCHED_TRACE2("power policy %s %s: skipped (not legal in this state)",
                     r->kind == TDF_EV_IDLE ? "idle" : "wake", r->node->name);
    r->done = 1;
    sched_wake(&r->done);
}

/* A power reference (WdfDeviceStopIdle, a request at a power-managed queue)
 * on an idle device: the power policy brings the stack, parents first, back to
 * D0 on a thread of its own; the caller does not wait (power_policy.c). */
typedef struct reference_wake {
    devnode_t *node;
    wdf_device_t *owner;
} reference_wake_t;

static void reference_wake_main(void *p)
{
    reference_wake_t *w = p;
    SCHED_TRACE1("power policy: power reference wakes %s", w->node->name);
    /* Whether it is still in D0 is asked under the node's lock (wake_locked):
     * a reference taken while the idle power-down runs (the device is still
     * in D0 until its D0Exit returned) waits here for that power-down, then
     * powers the stack back up, as KMDF's idle machine does
     * (FxPowerIdleMachine's TimedOutIoIncrement / InDxIoIncrement). Asked
     * before the lock, the wake was dropped and the request waited in the
     * power-managed queue of a device nothing woke again. */
    if (w->node->fdo == w->owner)
        (void)wake_node(w->node);
    w->owner->pp.wake_posted = 0;
    pp_power_state_changed(w->owner);
}

int pnp_post_wake_for_power_reference(devnode_t *n, wdf_device_t *owner)
{
    reference_wake_t *w = pool_alloc_model(sizeof *w);
    w->node = n;
    w->owner = owner;
    return sched_spawn("power-reference", "power-policy", reference_wake_main, w) != SCHED_NO_FIBER;
}

/* Returns 0 if no model thread could be had (the request is dropped; traced). */
static int post_power_request(devnode_t *n, uint8_t kind, int overlap)
{
    power_request_t *r = pool_alloc_model(sizeof *r);
    r->node = n;
    r->kind = kind;
    int fiber = sched_spawn(kind == TDF_EV_IDLE ? "idle-timer" : "power-policy", "power-policy", power_policy_main, r);
    if (fiber == SCHED_NO_FIBER)
        return 0;
    SCHED_TRACE3("power request %s %s on thread %lu", kind == TDF_EV_IDLE ? "idle" : "wake", n->name,
                 (unsigned long)fiber);
    ke_yield(); /* the new thread may start on another processor right away */
    /* When the input's next event comes is the world's timing, so the input
     * says it, in the event (TDF_EV_ARG_OVERLAP): where a fuzzer's mutation of
     * the events finds it at once, and the schedule bytes keep meaning only
     * the interleaving. */
    if (!overlap) {
        SCHED_TRACE1("next event after the power request on %s", n->name);
        while (!r->done)
            ke_block(&r->done, "power request to finish");
    } else {
        SCHED_TRACE1("next event while the power request on %s runs", n->name);
    }
    return 1;
}

/* ---- stimuli ------------------------------------------------------------------------- */
typedef struct arrival {
    const tdf_stimulus_desc_t *stim;
    wdf_device_t *device;
    ULONG arg;
    int done; /* the routine returned (wait_for_return) */
} arrival_t;

/* A user-mode client (KERNEL-SEMANTICS §12): CreateFile, one DeviceIoControl
 * on the handle, CloseHandle. The argument's bit 7 (TDF_STIM_ARG_OVERLAPPED)
 * makes the I/O overlapped: the client closes the handle right after the
 * request is sent, while it may still be in flight (cleanup before the
 * completion, close after it); otherwise it waits for the completion first.
 * A device-change notification may close the handle meanwhile (remove
 * paths below). */
static void client_io(arrival_t *a)
{
    wdf_device_t *d = a->device;
    if (d->wdm_driven) { /* a WDM stack: an IRP to its top (wdm_device.c) */
        wdm_client_io(d, a->stim->ioctl);
        return;
    }
    wdf_file_t *f;
    if (!NT_SUCCESS(wdf_file_open(d, &f)))
        return;
    enum { BUF = 64 };
    size_t in_len = BUF;
    void *in = pool_alloc_model(a->stim->client_input ? TDF_CLIENT_INPUT_MAX : BUF);
    if (a->stim->client_input) {
        /* harness code, not a driver: no yield point, no image */
        ULONG n = a->stim->client_input(a->arg & ~TDF_STIM_ARG_OVERLAPPED, in, TDF_CLIENT_INPUT_MAX);
        in_len = n < TDF_CLIENT_INPUT_MAX ? n : TDF_CLIENT_INPUT_MAX;
    }
    wdf_request_t *r = wdf_request_new(WdfRequestTypeDeviceControl, a->stim->ioctl, in, in_len,
                                       pool_alloc_model(BUF), BUF);
    r->from_io_manager = 1;
    r->waiter = 1;
    wdf_file_attach(f, r);
    if (d->preprocess) {
        wdm_preprocess_deliver(d, r); /* EvtDeviceWdmIrpPreprocess first (wdm_escape.c) */
    } else if (d->default_queue) {
        wdf_queue_deliver(d->default_queue, r);
    } else {
        /* No queue for it: the framework fails the request (FxPkgIo). */
        r->state = REQ_OWNED;
        wdf_request_finish(r, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
    if (a->arg & TDF_STIM_ARG_OVERLAPPED)
        wdf_file_close_handle(f, 0);
    while (!r->done)
        ke_block(&r->done, "DeviceIoControl completion");
    wdf_file_request_done(f); /* may send IRP_MJ_CLOSE (handle already cleaned up) */
    wdf_file_close_handle(f, 0);
}

static void arrival_main(void *p)
{
    arrival_t *a = p;
    TDF_HB_ACQUIRE(a->device); /* the I/O manager reaches a device only after its start (device.c) */
    if (a->stim->routine) {
        /* An outside caller's call (a system service): back at its IRQL, or
         * 0x4A. Until it returned: the release below may destroy the device
         * on this thread, whose callbacks are checked as the framework's. */
        unsigned saved = image_irql_rule_begin(IRQL_RETURN_STIMULUS);
        a->stim->routine((WDFDEVICE)a->device, a->arg);
        image_irql_rule_end(saved);
        a->done = 1;
        sched_wake(&a->done);
    } else {
        client_io(a);
        a->done = 1; /* the client's DeviceIoControl returned */
        sched_wake(&a->done);
    }
    /* The I/O manager's reference for the request ends here; it may be the
     * last one of a removed device, whose destruction can unload the driver. */
    wdf_object_release(&a->device->obj);
}

static int deliver_stimulus(const tdf_stimulus_desc_t *stim, uint8_t arg)
{
    wdf_device_t *candidates[TDF_MAX_NODES];
    unsigned n = 0;
    for (unsigned i = 0; i < g_node_count; i++)
        if (node_started(&g_nodes[i]) && g_nodes[i].fdo->driver->image == stim->image)
            candidates[n++] = g_nodes[i].fdo;
    if (n == 0)
        return 0;
    /* A client's I/O keeps bit 7 of its argument for the overlapped flag. */
    wdf_device_t *d = candidates[(stim->routine ? arg : arg & ~TDF_STIM_ARG_OVERLAPPED) % n];
    arrival_t *a = pool_alloc_model(sizeof *a);
    a->stim = stim;
    a->device = d;
    a->arg = arg;
    d->obj.refs++; /* as the I/O manager holds the device object for an IRP */
    if (sched_spawn(stim->name, stim->image->name, arrival_main, a) == SCHED_NO_FIBER) {
        /* a dropped stimulus would be input the run silently ignores */
        TDF_LIMIT(SCHED_MAX_FIBERS, "model/sched/sched.h", "more model threads, starting stimulus %s", stim->name);
        d->obj.refs--;
        return 0; /* only from main, which stops the run */
    }
    SCHED_TRACE2("stimulus %s -> %s", stim->name, d->name);
    /* The world lets this one finish before the input's next event. */
    while (stim->wait_for_return && !a->done)
        ke_block(&a->done, "stimulus to return");
    return 1;
}

/* ---- events ---------------------------------------------------------------------------- */
static devnode_t *live_node(uint8_t arg)
{
    devnode_t *live[TDF_MAX_NODES];
    unsigned n = 0;
    for (unsigned i = 0; i < g_node_count; i++)
        if (!g_nodes[i].gone)
            live[n++] = &g_nodes[i];
    return n ? live[arg % n] : NULL;
}

static void rescan(void)
{
    for (unsigned i = 0; i < g_node_count; i++)
        enumerate_children(&g_nodes[i]);
}

/* Rebalance (KERNEL-SEMANTICS §4 "Stop/rebalance"): QUERY_STOP to the subtree,
 * leaves first (a veto ends it); STOP leaves first; restart parents first. */
static NTSTATUS query_stop_subtree(devnode_t *n)
{
    devnode_t *kids[TDF_MAX_NODES];
    unsigned k;
    children_of(n, kids, &k);
    for (unsigned i = k; i-- > 0;) {
        NTSTATUS st = query_stop_subtree(kids[i]);
        if (!NT_SUCCESS(st))
            return st;
    }
    node_lock(n);
    NTSTATUS st = node_started(n) ? wdf_device_query_stop(n->fdo) : STATUS_SUCCESS;
    node_unlock(n);
    return st;
}

static void stop_subtree(devnode_t *n)
{
    devnode_t *kids[TDF_MAX_NODES];
    unsigned k;
    children_of(n, kids, &k);
    for (unsigned i = k; i-- > 0;)
        stop_subtree(kids[i]);
    node_lock(n);
    if (node_started(n)) {
        wdf_device_stop(n->fdo);
        if (n->pdo && n->pdo->pnp == PNP_STARTED)
            wdf_device_stop(n->pdo);
    }
    node_unlock(n);
}

static void restart_subtree(devnode_t *n)
{
    if (n->gone)
        return;
    int parent_up = hold_parent_in_d0(n);
    node_lock(n);
    if (parent_up && n->pdo && n->pdo->pnp == PNP_STOPPED)
        (void)wdf_device_start(n->pdo);
    if (parent_up && n->fdo && n->fdo->pnp == PNP_STOPPED && !NT_SUCCESS(wdf_device_start(n->fdo)))
        SCHED_TRACE1("%s: restart failed", n->name);
    node_unlock(n);
    release_parent(n);
    devnode_t *kids[TDF_MAX_NODES];
    unsigned k;
    children_of(n, kids, &k);
    for (unsigned i = 0; i < k; i++)
        restart_subtree(kids[i]);
}

static int rebalance_node(devnode_t *n)
{
    if (!node_started(n))
        return 0;
    NTSTATUS st = query_stop_subtree(n);
    if (!NT_SUCCESS(st)) {
        SCHED_TRACE2("%s: QUERY_STOP vetoed 0x%lx", n->name, (unsigned long)(uint32_t)st);
        return 1;
    }
    if (n->parent && !wake_node(n->parent))
        return 0;
    stop_subtree(n);
    restart_subtree(n);
    return 1;
}

/* System sleep (KERNEL-SEMANTICS §4: Sx leaves first, parents first up). Each
 * started device goes down to `target`, every device in creation order
 * reversed (children were created after their parents); then all return to D0
 * in creation order. A device already idle in Dx gets no second D0Exit. */
static void system_sleep(WDF_POWER_DEVICE_STATE target)
{
    SCHED_TRACE1("system %s", target == WdfPowerDevicePrepareForHibernation ? "S4 (hibernate)" : "S3 (sleep)");
    /* The whole transition holds every stack (creation order: ancestors
     * first): a device's power policy handles the system IRP and its own idle
     * and wake requests one at a time, so a runtime wake posted meanwhile
     * waits for S0 instead of powering a child up under a sleeping parent. */
    unsigned held = g_node_count;
    for (unsigned i = 0; i < held; i++)
        node_lock(&g_nodes[i]);
    for (unsigned i = held; i-- > 0;) {
        devnode_t *n = &g_nodes[i];
        if (node_started(n)) {
            wdf_device_power_down_for(n->fdo, target, PP_DX_SX);
            if (n->pdo)
                wdf_device_power_down_for(n->pdo, target, PP_DX_SX);
        }
    }
    SCHED_TRACE0("system S0 (resume)");
    for (unsigned i = 0; i < held; i++) {
        devnode_t *n = &g_nodes[i];
        if (node_started(n)) {
            if (n->pdo)
                (void)wdf_device_power_up(n->pdo, n->pdo->power);
            (void)wdf_device_power_up(n->fdo, n->fdo->power);
        }
    }
    for (unsigned i = held; i-- > 0;)
        node_unlock(&g_nodes[i]);
}

/* Surprise removal (KERNEL-SEMANTICS §6): no QUERY_REMOVE; the SR IRP is
 * completed first, only then do handle holders hear REMOVE_COMPLETE, and the
 * REMOVE IRP waits for their handles. The PDO was reported missing: it goes. */
static void surprise_remove_node(devnode_t *n)
{
    set_remove_pending(n, 1);
    surprise_subtree(n);
    target_list_t open;
    open_handles(n, &open);
    notify_remove_complete(&open);
    (void)close_client_handles(n, 0);
    if (wait_handles_closed(n))
        remove_subtree(n, 0);
}

/* Orderly remove: query-remove notifications, QUERY_REMOVE (either may veto:
 * REMOVE_CANCELLED), wait for handles, REMOVE, REMOVE_COMPLETE. Returns 0 if
 * vetoed. keep_pdo: a disabled device's PDO stays (still present). */
static int orderly_remove_node(devnode_t *n, int keep_pdo)
{
    target_list_t asked;
    if (!notify_query_remove(n, &asked)) {
        notify_remove_canceled(n, &asked);
        return 0;
    }
    NTSTATUS st = query_remove_subtree(n);
    if (!NT_SUCCESS(st)) {
        SCHED_TRACE2("%s: QUERY_REMOVE vetoed 0x%lx", n->name, (unsigned long)(uint32_t)st);
        notify_remove_canceled(n, &asked);
        return 0;
    }
    if (!wait_handles_closed(n))
        return 0;
    remove_subtree(n, keep_pdo);
    notify_remove_complete(&asked);
    return 1;
}

/* A started stack one of whose devices reported PNP_DEVICE_FAILED or
 * PNP_DEVICE_REMOVED (WdfDeviceSetDeviceState, device_state.c). */
static int state_asks_removal(const devnode_t *n)
{
    return node_started(n) && (n->fdo->state_removal_asked || (n->pdo && n->pdo->state_removal_asked));
}

/* A device whose start or power transition failed (device.c device_failed)
 * asks to be removed (KMDF invalidates its device state, PNP_DEVICE_FAILED):
 * the PnP manager sends SURPRISE_REMOVAL to the stack, then REMOVE; the PDO
 * stays (the devnode keeps its problem code), as for a disabled device. A
 * started device whose driver reported the failed or removed state itself
 * goes the same way (IRP_MN_SURPRISE_REMOVAL documents both causes). */
static void remove_failed_devices(void)
{
    for (unsigned i = 0; i < g_node_count; i++) {
        devnode_t *n = &g_nodes[i];
        if (n->gone || !n->fdo || (n->fdo->pnp != PNP_FAILED && !state_asks_removal(n)))
            continue;
        if (n->fdo->pnp == PNP_FAILED)
            SCHED_TRACE1("%s: failed device: surprise removal and REMOVE", n->name);
        else
            SCHED_TRACE1("%s: device state failed/removed: surprise removal and REMOVE", n->name);
        set_remove_pending(n, 1);
        surprise_subtree(n);
        target_list_t open;
        open_handles(n, &open);
        notify_remove_complete(&open);
        if (wait_handles_closed(n))
            remove_subtree(n, 1);
    }
}

static void apply(const tdf_event_t *ev)
{
    unsigned kinds = tdf_event_kind_count(g_target);
    unsigned kind = ev->kind % kinds;
    const char *name = tdf_event_name(g_target, kind);
    if (kind >= TDF_EV_GENERIC_COUNT) {
        const tdf_stimulus_desc_t *stim = &g_target->stimuli[kind - TDF_EV_GENERIC_COUNT];
        if (!deliver_stimulus(stim, ev->arg))
            SCHED_TRACE1("event %s: skipped (no started device of that driver)", name);
        return;
    }
    int power_request = kind == TDF_EV_IDLE || kind == TDF_EV_WAKE;
    devnode_t *n = live_node(power_request ? ev->arg & ~TDF_EV_ARG_OVERLAP : ev->arg);
    if (!n) {
        SCHED_TRACE1("event %s: skipped (no device)", name);
        return;
    }
    SCHED_TRACE2("event %s %s", name, n->name);
    int done = 1;
    if (!power_request)
        tree_lock(); /* a tree action: after any relations query or eject in progress */
    switch ((tdf_event_kind_t)kind) {
    case TDF_EV_SURPRISE_REMOVE:
        if (!n->fdo && !n->pdo) {
            done = 0;
            break;
        }
        surprise_remove_node(n);
        break;
    case TDF_EV_REMOVE:
        if (!node_started(n)) {
            done = 0;
            break;
        }
        if (wdf_device_not_disableable(n->fdo) || (n->pdo && wdf_device_not_disableable(n->pdo))) {
            /* PNP_DEVICE_NOT_DISABLEABLE: the user cannot disable it */
            SCHED_TRACE1("event remove: %s is not disableable (WdfDeviceSetDeviceState)", n->name);
            break;
        }
        orderly_remove_node(n, 1);
        break;
    case TDF_EV_IDLE:
    case TDF_EV_WAKE:
        /* The power policy's request: it runs on its own thread, alongside
         * whatever the PnP thread does next. */
        done = post_power_request(n, (uint8_t)kind, (ev->arg & TDF_EV_ARG_OVERLAP) != 0);
        break;
    case TDF_EV_STOP:
        done = rebalance_node(n);
        break;
    case TDF_EV_SLEEP:
        system_sleep(WdfPowerDeviceD3);
        break;
    case TDF_EV_HIBERNATE:
        system_sleep(WdfPowerDevicePrepareForHibernation);
        break;
    case TDF_EV_REMOVE_VETOED: {
        /* Someone else (an application holding a handle, another driver)
         * vetoes: everybody asked so far hears REMOVE_CANCELLED. */
        if (!node_started(n)) {
            done = 0;
            break;
        }
        target_list_t asked;
        if (notify_query_remove(n, &asked))
            (void)query_remove_subtree(n);
        SCHED_TRACE1("%s: remove vetoed, REMOVE_CANCELLED", n->name);
        notify_remove_canceled(n, &asked);
        break;
    }
    case TDF_EV_INTERRUPT:
        /* Hardware, not PnP: no stack lock. The line of a device without a
         * connected interrupt (none created, or not in D0) does nothing. */
        done = wdf_interrupt_raise(n->fdo);
        break;
    case TDF_EV_ENABLE:
        if (n->fdo || !n->pdo || n->pdo->pnp != PNP_REMOVED || !n->parent || !node_started(n->parent)) {
            done = 0;
            break;
        }
        if (!wake_node(n->parent))
            break;
        start_node(n);
        break;
    default:
        done = 0;
        break;
    }
    if (!done)
        SCHED_TRACE1("event %s: skipped (not legal in this state)", name);
    if (power_request)
        tree_lock();
    remove_failed_devices();
    rescan();
    tree_unlock();
}

typedef struct pnp_args {
    const tdf_script_t *script;
} pnp_args_t;

void pnp_main(void *p)
{
    const tdf_script_t *script = ((pnp_args_t *)p)->script;
    tree_lock();
    for (unsigned r = 0; r < 4 && g_target->root_hardware_ids[r]; r++) {
        devnode_t *n = node_new(NULL, NULL, g_target->root_hardware_ids[r]);
        if (n)
            start_node(n);
    }
    tree_unlock();
    for (unsigned i = 0; i < script->event_count; i++)
        apply(&script->events[i]);
    /* End of the input: the system shuts the tree down (orderly, no veto),
     * so every driver must tear down cleanly and unload. */
    remove_failed_devices();
    SCHED_TRACE0("end of events: removing every device");
    tree_lock();
    for (unsigned i = 0; i < g_node_count; i++)
        if (!g_nodes[i].parent && !g_nodes[i].gone && !orderly_remove_node(&g_nodes[i], 0))
            surprise_remove_node(&g_nodes[i]); /* vetoed: the system takes it away regardless */
    tree_unlock();
}

/* ---- bus-initiated PnP (KERNEL-SEMANTICS §11) ------------------------------------------- */
/* A bus relations query or an eject a driver asked for, on a PnP model thread
 * of its own: it waits for the tree action in progress, then runs alongside
 * the drivers' threads (the reporter goes on at once, as
 * IoInvalidateDeviceRelations only queues the query). The request holds a
 * reference on the device object until it ran. */
typedef struct pnp_action {
    wdf_device_t *device;
    uint32_t ticket; /* its place in the PnP queue, taken when it was requested */
} pnp_action_t;

static void relations_main(void *p)
{
    pnp_action_t *a = p;
    wdf_device_t *fdo = a->device;
    tree_lock_ticket(a->ticket);
    devnode_t *n = fdo->node;
    if (n && !n->gone && n->fdo == fdo && node_started(n)) {
        SCHED_TRACE1("%s: bus relations query", n->name);
        enumerate_children(n);
    } else {
        SCHED_TRACE1("%s: bus relations query skipped (bus not started)", fdo->name);
    }
    tree_unlock();
    wdf_object_release(&fdo->obj);
}

static void spawn_pnp_action(const char *name, sched_fiber_fn *fn, wdf_device_t *d)
{
    pnp_action_t *a = pool_alloc_model(sizeof *a);
    a->device = d;
    d->obj.refs++;
    if (sched_spawn(name, "pnp-manager", fn, a) == SCHED_NO_FIBER) {
        /* a dropped PnP action would be a child that never arrives or leaves */
        TDF_LIMIT(SCHED_MAX_FIBERS, "model/sched/sched.h", "more model threads, starting %s for %s", name, d->name);
        d->obj.refs--;
        return; /* only from main, which stops the run */
    }
    a->ticket = tree_ticket(); /* queued now, behind what is queued already */
    SCHED_TRACE2("%s queued for %s", name, d->name);
}

void pnp_invalidate_bus_relations(wdf_device_t *fdo)
{
    tdf_childlist_dev_t *x = wdf_childlist_dev(fdo);
    if (x->relations_pending)
        return; /* one queued query sees every change made until it runs */
    x->relations_pending = 1;
    spawn_pnp_action("bus-relations", relations_main, fdo);
}

/* IoRequestDeviceEject: QUERY_REMOVE (a veto ends it), REMOVE (the PDO is
 * still present: kept), then IRP_MN_EJECT to the PDO if its capabilities say
 * EjectSupported; a successful EvtDeviceEject marks the child missing
 * (FxPkgPdo::PnpEventEjectHardwareOverload), so the next relations query
 * deletes the PDO. */
static void eject_main(void *p)
{
    pnp_action_t *a = p;
    wdf_device_t *pdo = a->device;
    tree_lock_ticket(a->ticket);
    devnode_t *n = pdo->node;
    int removed = n && !n->gone && pdo->pnp != PNP_DELETED;
    if (removed && node_started(n))
        removed = orderly_remove_node(n, 1);
    else if (removed)
        removed = pdo->pnp == PNP_REMOVED; /* already disabled: straight to the eject */
    if (!removed) {
        SCHED_TRACE1("%s: eject not done (vetoed, or the device is not there)", pdo->name);
    } else if (!wdf_pdo_eject_supported(pdo)) {
        SCHED_TRACE1("%s: removed for eject; no IRP_MN_EJECT (EjectSupported not set)", pdo->name);
    } else {
        NTSTATUS st = STATUS_SUCCESS;
        node_lock(n);
        SCHED_TRACE1("%s: EvtDeviceEject", pdo->name);
        if (pdo->cl->pdo_cb.EvtDeviceEject)
            st = pdo->cl->pdo_cb.EvtDeviceEject((WDFDEVICE)pdo);
        node_unlock(n);
        if (NT_SUCCESS(st))
            (void)WdfPdoMarkMissing((WDFDEVICE)pdo);
        else
            SCHED_TRACE2("%s: EvtDeviceEject failed 0x%lx", pdo->name, (unsigned long)(uint32_t)st);
    }
    tree_unlock();
    wdf_object_release(&pdo->obj);
}

void pnp_request_eject(wdf_device_t *pdo) { spawn_pnp_action("eject", eject_main, pdo); }

/* The PnP thread's argument block lives in static storage: one run at a time. */
void pnp_spawn(const tdf_script_t *script)
{
    static pnp_args_t args;
    args.script = script;
    sched_spawn("pnp", "pnp-manager", pnp_main, &args);
}
