/*
 * The PnP and power manager: one model thread ("pnp") that applies the input's
 * events in order, each as the kernel would send its IRPs across the device
 * tree (KERNEL-SEMANTICS §4 "Across stack"):
 *   - remove / surprise removal / stop: top-down, descendants first, in a
 *     stack FDO before PDO; QUERY_REMOVE to descendants first;
 *   - power-up: bottom-up (parents first, in a stack PDO before FDO);
 *   - power-down: leaves first (a child PDO holds a power reference on its
 *     parent, so a parent idles only once its children are in Dx).
 * An event that is illegal in the current state is skipped deterministically
 * and says so in the trace; it is never an error.
 */
#include "pnp.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

static devnode_t g_nodes[TDF_MAX_NODES];
static unsigned g_node_count;
static const tdf_target_desc_t *g_target;

unsigned pnp_node_count(void) { return g_node_count; }
const devnode_t *pnp_node(unsigned i) { return &g_nodes[i]; }

const char *pnp_state_name(pnp_state_t s)
{
    static const char *const names[] = {"Added", "Started", "SurpriseRemoved", "Removed", "Deleted"};
    return s <= PNP_DELETED ? names[s] : "?";
}

const char *pnp_power_name(WDF_POWER_DEVICE_STATE s)
{
    static const char *const names[] = {"Invalid", "D0", "D1", "D2", "D3", "D3Final", "Hibernate"};
    return s < WdfPowerDeviceMaximum ? names[s] : "?";
}

void pnp_reset(const tdf_target_desc_t *t)
{
    memset(g_nodes, 0, sizeof g_nodes);
    g_node_count = 0;
    g_target = t;
}

static const tdf_image_desc_t *driver_for(PCWSTR hwid)
{
    for (unsigned i = 0; hwid && i < g_target->image_count; i++)
        for (unsigned k = 0; k < TDF_MAX_HARDWARE_IDS && g_target->images[i].hardware_ids[k]; k++)
            if (wcscmp(g_target->images[i].hardware_ids[k], hwid) == 0)
                return &g_target->images[i];
    return NULL;
}

static devnode_t *node_new(devnode_t *parent, wdf_device_t *pdo, PCWSTR hwid)
{
    if (g_node_count >= TDF_MAX_NODES)
        return NULL;
    devnode_t *n = &g_nodes[g_node_count++];
    n->parent = parent;
    n->pdo = pdo;
    n->desc = driver_for(hwid);
    /* Names: the driver's image name plus its ordinal among nodes of that
     * driver; the first root of an image goes without the number ("bus"). */
    const char *base = n->desc ? n->desc->image->name : "dev";
    unsigned same = 0;
    for (unsigned i = 0; i + 1 < g_node_count; i++)
        same += g_nodes[i].desc == n->desc;
    if (!parent && same == 0)
        snprintf(n->name, sizeof n->name, "%s", base);
    else
        snprintf(n->name, sizeof n->name, "%s%u", base, same);
    if (pdo) {
        pdo->node = n;
        snprintf(pdo->name, sizeof pdo->name, "%s/PDO", n->name);
    }
    SCHED_TRACE1("enumerated %s", n->name);
    return n;
}

static int node_started(const devnode_t *n) { return !n->gone && n->fdo && n->fdo->pnp == PNP_STARTED; }

/* ---- start ------------------------------------------------------------------- */
static void enumerate_children(devnode_t *n);

static void start_node(devnode_t *n)
{
    if (n->pdo) {
        n->pdo->smio = SMIO_NONE; /* a restarted PDO starts over (SelfManagedIoInit again) */
        if (!NT_SUCCESS(wdf_device_start(n->pdo))) {
            SCHED_TRACE1("%s: PDO start failed", n->name);
            return;
        }
    }
    if (!n->desc) {
        SCHED_TRACE1("%s: no driver for this hardware ID", n->name);
        return;
    }
    wdf_driver_t *drv = wdf_driver_load(n->desc);
    if (!drv)
        return;
    struct WDFDEVICE_INIT init = {.node = n, .driver = drv};
    SCHED_TRACE1("%s: EvtDriverDeviceAdd", n->name);
    wdf_driver_pin(drv);
    NTSTATUS st = drv->config.EvtDriverDeviceAdd((WDFDRIVER)drv, &init);
    wdf_device_t *fdo = init.created;
    if (!NT_SUCCESS(st) || !fdo) {
        SCHED_TRACE2("%s: AddDevice failed 0x%lx", n->name, (unsigned long)(uint32_t)st);
        if (fdo)
            wdf_device_remove(fdo, 1);
        wdf_driver_unpin(drv);
        return;
    }
    wdf_driver_unpin(drv); /* the new FDO keeps it loaded from here on */
    n->fdo = fdo;
    fdo->node = n;
    fdo->lower = n->pdo;
    snprintf(fdo->name, sizeof fdo->name, "%s/FDO", n->name);
    wdf_device_register_hardware(fdo, 0xF0000000ULL + 0x1000ULL * (ULONGLONG)(n - g_nodes));
    st = wdf_device_start(fdo);
    if (!NT_SUCCESS(st)) {
        SCHED_TRACE2("%s: start failed 0x%lx, removing", n->name, (unsigned long)(uint32_t)st);
        wdf_device_remove(fdo, 1);
        n->fdo = NULL;
        return;
    }
    enumerate_children(n);
}

/* QUERY_DEVICE_RELATIONS: static children not yet known become devnodes. */
static void enumerate_children(devnode_t *n)
{
    if (!node_started(n))
        return;
    wdf_device_t *fdo = n->fdo;
    for (unsigned i = 0; i < fdo->static_child_count; i++) {
        wdf_device_t *pdo = fdo->static_children[i];
        if (pdo->node || pdo->obj.deleted)
            continue;
        devnode_t *child = node_new(n, pdo, pdo->device_id);
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

static void surprise_subtree(devnode_t *n)
{
    devnode_t *kids[TDF_MAX_NODES];
    unsigned k;
    children_of(n, kids, &k);
    for (unsigned i = k; i-- > 0;)
        surprise_subtree(kids[i]);
    if (n->fdo && n->fdo->pnp == PNP_STARTED)
        wdf_device_surprise_remove(n->fdo);
    if (n->pdo && n->pdo->pnp == PNP_STARTED)
        wdf_device_surprise_remove(n->pdo);
}

/* REMOVE for a subtree; the PDO of `n` itself survives if keep_pdo (a
 * disabled device that is still present). */
static void remove_subtree(devnode_t *n, int keep_pdo)
{
    devnode_t *kids[TDF_MAX_NODES];
    unsigned k;
    children_of(n, kids, &k);
    for (unsigned i = k; i-- > 0;)
        remove_subtree(kids[i], 0); /* parent going away: child PDOs are deleted */
    if (n->fdo) {
        wdf_device_t *fdo = n->fdo;
        n->fdo = NULL;
        wdf_device_remove(fdo, 1);
    }
    if (n->pdo && n->pdo->pnp != PNP_DELETED)
        wdf_device_remove(n->pdo, !keep_pdo);
    if (!keep_pdo || !n->pdo)
        mark_gone(n);
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
    if (n->fdo && n->fdo->pnp == PNP_STARTED)
        return wdf_device_query_remove(n->fdo);
    return STATUS_SUCCESS;
}

/* ---- power ----------------------------------------------------------------------- */
static int node_in_d0(const devnode_t *n) { return n->fdo && n->fdo->power == WdfPowerDeviceD0; }

static int wake_node(devnode_t *n)
{
    if (!node_started(n))
        return 0;
    if (node_in_d0(n))
        return 1;
    if (n->parent && !wake_node(n->parent)) /* parents first */
        return 0;
    if (n->pdo)
        (void)wdf_device_power_up(n->pdo, n->pdo->power);
    (void)wdf_device_power_up(n->fdo, n->fdo->power);
    return 1;
}

static int idle_node(devnode_t *n)
{
    if (!node_started(n) || !node_in_d0(n))
        return 0;
    devnode_t *kids[TDF_MAX_NODES];
    unsigned k;
    children_of(n, kids, &k);
    for (unsigned i = 0; i < k; i++)
        if (node_started(kids[i]) && node_in_d0(kids[i]))
            return 0; /* a child in D0 holds its power reference on us */
    wdf_device_power_down(n->fdo, WdfPowerDeviceD3);
    if (n->pdo)
        wdf_device_power_down(n->pdo, WdfPowerDeviceD3);
    return 1;
}

/* ---- stimuli ------------------------------------------------------------------------- */
typedef struct arrival {
    const tdf_stimulus_desc_t *stim;
    wdf_device_t *device;
    ULONG arg;
} arrival_t;

static void arrival_main(void *p)
{
    arrival_t *a = p;
    a->stim->routine((WDFDEVICE)a->device, a->arg);
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
    wdf_device_t *d = candidates[arg % n];
    arrival_t *a = pool_alloc_model(sizeof *a);
    a->stim = stim;
    a->device = d;
    a->arg = arg;
    d->obj.refs++; /* as the I/O manager holds the device object for an IRP */
    if (sched_spawn(stim->name, stim->image->name, arrival_main, a) == SCHED_NO_FIBER) {
        d->obj.refs--;
        return 0;
    }
    SCHED_TRACE2("stimulus %s -> %s", stim->name, d->name);
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
    devnode_t *n = live_node(ev->arg);
    if (!n) {
        SCHED_TRACE1("event %s: skipped (no device)", name);
        return;
    }
    SCHED_TRACE2("event %s %s", name, n->name);
    int done = 1;
    switch ((tdf_event_kind_t)kind) {
    case TDF_EV_SURPRISE_REMOVE:
        if (!n->fdo && !n->pdo) {
            done = 0;
            break;
        }
        surprise_subtree(n);
        /* No QUERY_REMOVE for SR; REMOVE once every handle is closed, which in
         * the model is at once. The PDO was reported missing: it goes. */
        remove_subtree(n, 0);
        break;
    case TDF_EV_REMOVE: {
        if (!node_started(n)) {
            done = 0;
            break;
        }
        NTSTATUS st = query_remove_subtree(n);
        if (!NT_SUCCESS(st)) {
            SCHED_TRACE2("%s: QUERY_REMOVE vetoed 0x%lx", n->name, (unsigned long)(uint32_t)st);
            break;
        }
        remove_subtree(n, 1);
        break;
    }
    case TDF_EV_IDLE:
        done = idle_node(n);
        break;
    case TDF_EV_WAKE:
        done = node_started(n) && !node_in_d0(n) && wake_node(n);
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
    rescan();
}

typedef struct pnp_args {
    const tdf_script_t *script;
} pnp_args_t;

void pnp_main(void *p)
{
    const tdf_script_t *script = ((pnp_args_t *)p)->script;
    for (unsigned r = 0; r < 4 && g_target->root_hardware_ids[r]; r++) {
        devnode_t *n = node_new(NULL, NULL, g_target->root_hardware_ids[r]);
        if (n)
            start_node(n);
    }
    for (unsigned i = 0; i < script->event_count; i++)
        apply(&script->events[i]);
    /* End of the input: the system shuts the tree down (orderly, no veto),
     * so every driver must tear down cleanly and unload. */
    SCHED_TRACE0("end of events: removing every device");
    for (unsigned i = 0; i < g_node_count; i++)
        if (!g_nodes[i].parent && !g_nodes[i].gone)
            remove_subtree(&g_nodes[i], 0);
}

/* The PnP thread's argument block lives in static storage: one run at a time. */
void pnp_spawn(const tdf_script_t *script)
{
    static pnp_args_t args;
    args.script = script;
    sched_spawn("pnp", "pnp-manager", pnp_main, &args);
}
