/*
 * Who waits for whom when every thread is blocked (docs/REPORTS.md
 * "Signatures", DEADLOCK). A stuck thread's wait object alone names no
 * other thread, so the report used to key a deadlock by the first two stuck
 * frames in thread order: a bystander, or a third thread of the same
 * deadlock, could take a side, and two different deadlocks whose victims
 * stood in the same frames shared a key. Here each stuck thread gets its
 * edges to the stuck threads it waits for:
 *   - a lock: its holder (lock_graph.c);
 *   - a rundown (ExWaitForRundownProtectionRelease): the threads holding the
 *     rundown now (rundown.c);
 *   - a synchronous send: every stuck thread inside a PnP or power callback of
 *     the receiving device, whose transition holds the device's queues or
 *     whose dispatch is stuck, so the request cannot complete before it.
 * An event (KeWaitForSingleObject on a driver's KEVENT) has no edge: who
 * would set it is the driver's business. Threads on a cycle are the
 * deadlock; with no cycle, the threads others wait for and that wait for
 * no stuck thread (the roots) are. Threads that only wait for those are
 * victims, not part of the key. No yield points: nothing here changes a
 * schedule, and the per-thread notes are plain stores.
 */
#include "kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEP_NONE = 0, DEP_RUNDOWN, DEP_DEVICE };

/* What each slot's thread waits for now (set just before it blocks). */
static struct wait_dep {
    uint8_t kind;
    const void *obj;
    const char *role; /* DEP_DEVICE: the receiving device's role */
} g_dep[SCHED_SLOT_COUNT];

/* The PnP or power callback each slot's thread entered last. It is still
 * inside it at a deadlock when its outermost driver frame is in that
 * device's driver (the callback's own routine or one it called). */
static struct device_callback {
    const void *device;
    const struct tdf_image *image;
    const char *callback;
} g_cb[SCHED_SLOT_COUNT];

void wait_graph_reset(void)
{
    memset(g_dep, 0, sizeof g_dep);
    memset(g_cb, 0, sizeof g_cb);
}

void wait_graph_slot_reset(int slot)
{
    g_dep[slot] = (struct wait_dep){0};
    g_cb[slot] = (struct device_callback){0};
}

static struct wait_dep *my_dep(void) { return &g_dep[sched_current_index()]; }

void ke_wait_for_rundown(const void *ref) { *my_dep() = (struct wait_dep){DEP_RUNDOWN, ref, NULL}; }

void ke_wait_for_device(const void *device, const char *role) { *my_dep() = (struct wait_dep){DEP_DEVICE, device, role}; }

void ke_wait_done(void) { my_dep()->kind = DEP_NONE; }

void ke_device_callback(const void *device, const struct tdf_image *image, const char *callback)
{
    if (sched_current() == SCHED_NO_FIBER)
        return; /* setup from main: no thread to note */
    g_cb[sched_current_index()] = (struct device_callback){device, image, callback};
}

#define MAX_NODES SCHED_MAX_FIBERS

typedef struct graph {
    int fiber[MAX_NODES]; /* node -> thread id: the stuck threads, in thread order */
    unsigned n;
    uint64_t out[MAX_NODES];      /* node -> the nodes it waits for */
    uint64_t lock_out[MAX_NODES]; /* the same, lock edges only */
    /* What each node's wait names, for the text: the lock's holder (-1 none)
     * and the lock, a rundown's first holder, the thread in the receiving
     * device's callback (-1 none). */
    int lock_holder[MAX_NODES], rundown_holder[MAX_NODES], callback_thread[MAX_NODES];
    char lock[MAX_NODES][160];
} graph_t;

static int node_of(const graph_t *g, int fiber)
{
    for (unsigned i = 0; i < g->n; i++)
        if (g->fiber[i] == fiber)
            return (int)i;
    return -1;
}

static int stuck(int f) { return sched_fiber_state(f) == SCHED_BLOCKED && !sched_fiber_is_daemon(f); }

/* Is thread F inside a PnP or power callback of DEVICE? */
static int in_callback_of(int f, const void *device)
{
    const struct device_callback *c = &g_cb[sched_fiber_index(f)];
    return c->device == device && c->image && image_fiber_outer(f) == c->image;
}

/* Closure of the edges: reach[i] is every node i waits for, directly or not. */
static void closure(const graph_t *g, const uint64_t *edges, uint64_t *reach)
{
    for (unsigned i = 0; i < g->n; i++)
        reach[i] = edges[i];
    for (unsigned k = 0; k < g->n; k++)
        for (unsigned i = 0; i < g->n; i++)
            if (reach[i] >> k & 1)
                reach[i] |= reach[k];
}

/* The innermost driver frame of a thread ("a!f"), or "" without one. */
static void innermost(int f, char *buf, size_t size)
{
    char stack[400];
    image_fiber_stack(f, stack, sizeof stack);
    if (strcmp(stack, "(no driver frames)") == 0) {
        buf[0] = 0;
        return;
    }
    const char *last = strrchr(stack, '>');
    snprintf(buf, size, "%.*s", (int)size - 1, last ? last + 2 : stack); /* a frame is ~40 bytes */
}

static int cmp_frame(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* The key's sides from the frames of the nodes in SET: sorted, distinct; the
 * second side joins the rest with '+'. One frame only: the other side is
 * ALONE (what that thread waits for), or the frame again when several
 * threads stand in it. */
static void sides_of(const graph_t *g, uint64_t set, const char *alone, wait_graph_report_t *out)
{
    char frames[MAX_NODES][96];
    unsigned n = 0, threads = 0;
    int fiber_of_first = -1;
    char best[96] = "";
    for (unsigned i = 0; i < g->n; i++) {
        if (!(set >> i & 1))
            continue;
        innermost(g->fiber[i], frames[n], sizeof frames[0]);
        if (!frames[n][0])
            continue;
        /* The headline's thread: the lowest id among those in the first
         * frame in sort order (nodes are in thread order: a tie keeps it). */
        if (fiber_of_first < 0 || strcmp(frames[n], best) < 0) {
            fiber_of_first = g->fiber[i];
            memcpy(best, frames[n], sizeof best);
        }
        n++, threads++;
    }
    qsort(frames, n, sizeof frames[0], cmp_frame);
    unsigned d = 0;
    for (unsigned i = 0; i < n; i++)
        if (d == 0 || strcmp(frames[i], frames[d - 1]) != 0)
            memmove(frames[d++], frames[i], sizeof frames[0]);
    if (d == 0) {
        snprintf(out->side[0], sizeof out->side[0], "model");
        snprintf(out->side[1], sizeof out->side[1], "threads");
    } else {
        snprintf(out->side[0], sizeof out->side[0], "%s", frames[0]);
        if (d == 1) {
            snprintf(out->side[1], sizeof out->side[1], "%s", threads > 1 || !alone ? frames[0] : alone);
        } else {
            size_t used = 0;
            out->side[1][0] = 0;
            for (unsigned i = 1; i < d && used + 1 < sizeof out->side[1]; i++)
                used += (size_t)snprintf(out->side[1] + used, sizeof out->side[1] - used, "%s%s", i > 1 ? "+" : "",
                                         frames[i]);
        }
    }
    snprintf(out->first, sizeof out->first, "%.*s", (int)sizeof out->first - 1, out->side[0]);
    out->first_fiber = fiber_of_first >= 0 ? fiber_of_first : g->fiber[0];
}

/* "b_access (share_b!ShareB_SendToA) waits for its request to share_a/FDO,
 * in whose EvtDeviceD0Exit idle-timer is stuck" ... one clause per stuck thread. */
static void describe_threads(const graph_t *g, char *text, size_t size)
{
    size_t used = 0;
    text[0] = 0;
    for (unsigned i = 0; i < g->n && used + 1 < size; i++) {
        int f = g->fiber[i];
        char frame[96], what[200];
        innermost(f, frame, sizeof frame);
        const struct wait_dep *d = &g_dep[sched_fiber_index(f)];
        if (g->lock_holder[i] >= 0) {
            snprintf(what, sizeof what, "%s held by %s", g->lock[i], sched_fiber_name(g->lock_holder[i]));
        } else if (d->kind == DEP_RUNDOWN) {
            snprintf(what, sizeof what, "rundown [%s] held by %s", ke_rundown_owner_text(d->obj),
                     g->rundown_holder[i] >= 0 ? sched_fiber_name(g->rundown_holder[i]) : "no thread it could name");
        } else if (d->kind == DEP_DEVICE) {
            int in = g->callback_thread[i];
            if (in >= 0)
                snprintf(what, sizeof what, "its request to %s, whose %s is stuck in %s", d->role,
                         g_cb[sched_fiber_index(in)].callback, sched_fiber_name(in));
            else
                snprintf(what, sizeof what, "its request to %s, which nothing completes", d->role);
        } else {
            const char *why = sched_fiber_wait_reason(f);
            snprintf(what, sizeof what, "%s", why ? why : "?");
        }
        used += (size_t)snprintf(text + used, size - used, "%s%s%s%s%s waits for %s", used ? "; " : "",
                                 sched_fiber_name(f), frame[0] ? " (" : "", frame, frame[0] ? ")" : "", what);
    }
}

wait_graph_kind_t wait_graph_describe(wait_graph_report_t *out)
{
    static graph_t g; /* ~12 KB, once per deadlock report: off the stack */
    memset(&g, 0, sizeof g);
    memset(out, 0, sizeof *out);
    for (int f = 0; f < sched_fiber_count() && g.n < MAX_NODES; f++)
        if (stuck(f))
            g.fiber[g.n++] = f;
    int edges = 0, lock_edges = 0, other_edges = 0;
    for (unsigned i = 0; i < g.n; i++) {
        int f = g.fiber[i];
        int holder = lock_graph_holder(sched_fiber_wait_object(f), g.lock[i], sizeof g.lock[i]);
        g.lock_holder[i] = holder;
        g.rundown_holder[i] = g.callback_thread[i] = -1;
        int j = holder >= 0 ? node_of(&g, holder) : -1;
        if (j >= 0) {
            g.out[i] |= 1ull << j;
            g.lock_out[i] |= 1ull << j;
            lock_edges++;
        }
        const struct wait_dep *d = &g_dep[sched_fiber_index(f)];
        if (d->kind == DEP_RUNDOWN) {
            int h[MAX_NODES];
            int nh = ke_rundown_holders(d->obj, h, MAX_NODES);
            if (nh < 0)
                return WAIT_GRAPH_NONE; /* holders not all known: no claim about who waits for whom */
            if (nh > 0)
                g.rundown_holder[i] = h[0];
            for (int k = 0; k < nh; k++)
                if ((j = node_of(&g, h[k])) >= 0 && (unsigned)j != i)
                    g.out[i] |= 1ull << j;
        } else if (d->kind == DEP_DEVICE) {
            for (unsigned k = 0; k < g.n; k++) {
                if (k == i || !in_callback_of(g.fiber[k], d->obj))
                    continue;
                g.out[i] |= 1ull << k;
                if (g.callback_thread[i] < 0)
                    g.callback_thread[i] = g.fiber[k];
            }
        }
        edges += g.out[i] != 0;
        other_edges += (g.out[i] & ~g.lock_out[i]) != 0;
    }
    if (!edges)
        return WAIT_GRAPH_NONE;
    uint64_t reach[MAX_NODES], lock_reach[MAX_NODES], cycle = 0, lock_cycle = 0, waited_for = 0, waits = 0;
    closure(&g, g.out, reach);
    closure(&g, g.lock_out, lock_reach);
    for (unsigned i = 0; i < g.n; i++) {
        cycle |= (uint64_t)(reach[i] >> i & 1) << i;
        lock_cycle |= (uint64_t)(lock_reach[i] >> i & 1) << i;
        waited_for |= g.out[i];
        waits |= (uint64_t)(g.out[i] != 0) << i;
    }
    /* Locks alone close every cycle there is, or there is no cycle and every
     * edge is a lock wait: the lock report (its key and cycle text are the
     * locks'). A lock wait behind a rundown or a send is a victim's. */
    if ((cycle && (cycle & ~lock_cycle) == 0) || (!cycle && lock_edges && !other_edges))
        return WAIT_GRAPH_LOCKS;
    describe_threads(&g, out->text, sizeof out->text);
    if (cycle) {
        sides_of(&g, cycle, NULL, out);
        return WAIT_GRAPH_CYCLE;
    }
    uint64_t roots = waited_for & ~waits;
    /* One root: the other side is what it waits for, e.g. "sent(share_a/FDO)". */
    char alone[96] = "threads";
    for (unsigned i = 0; i < g.n; i++) {
        if (!(roots >> i & 1))
            continue;
        const struct wait_dep *d = &g_dep[sched_fiber_index(g.fiber[i])];
        if (d->kind == DEP_DEVICE)
            snprintf(alone, sizeof alone, "sent(%s)", d->role);
        else if (d->kind == DEP_RUNDOWN)
            snprintf(alone, sizeof alone, "rundown");
        break;
    }
    sides_of(&g, roots, alone, out);
    return WAIT_GRAPH_ROOTS;
}
