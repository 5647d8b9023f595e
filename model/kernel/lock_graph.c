/*
 * Who holds which lock, for the deadlock report (docs/REPORTS.md "Fatal
 * pair", DEADLOCK). Every lock form of the model (KSPIN_LOCK in all its
 * acquire forms, WDFSPINLOCK, FAST_MUTEX, the interrupt spin lock, a
 * device's callback lock, WDFWAITLOCK) notes here, by the object its waiters
 * block on, the thread that took it and the driver routine that did, and a
 * thread about to wait for a lock traces the acquisition that blocks (so the
 * trace shows the blocked acquisitions). When every thread is blocked,
 * lock_graph_describe() turns the table into the cycle "A holds X wants Y;
 * B holds Y wants X" and a key made of the locks by kind and acquiring
 * routine. No yield points: noting a lock never changes a schedule.
 */
#include "kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HELD_LOCKS 64

typedef struct held_lock {
    const void *object; /* what a waiter blocks on (ke_block's object) */
    const char *kind;   /* static: "spin lock", "fast mutex", "callback lock" ... */
    const char *owner;  /* static or run-stable: the device whose lock it is, or NULL */
    const struct tdf_image *image; /* the driver routine that took it (NULL: the framework) */
    const void *fn;
    int fiber;
    uint32_t step;
} held_lock_t;

static held_lock_t g_locks[MAX_HELD_LOCKS];
static unsigned g_nlocks;

void lock_graph_reset(void) { g_nlocks = 0; }

void ke_lock_held(const void *object, const char *kind, const char *owner)
{
    if (g_nlocks >= MAX_HELD_LOCKS) {
        TDF_LIMIT(MAX_HELD_LOCKS, "model/kernel/lock_graph.c", "more locks held at once (all threads)");
        return;
    }
    const void *fn = NULL;
    const struct tdf_image *img = image_current_fn(&fn);
    g_locks[g_nlocks++] = (held_lock_t){object, kind, owner, img, fn, sched_current(), sched_steps()};
}

void ke_lock_dropped(const void *object)
{
    for (unsigned i = g_nlocks; i-- > 0;) {
        if (g_locks[i].object == object) {
            g_locks[i] = g_locks[--g_nlocks];
            return;
        }
    }
}

static const held_lock_t *holder_of(const void *object)
{
    for (unsigned i = 0; i < g_nlocks; i++)
        if (g_locks[i].object == object)
            return &g_locks[i];
    return NULL;
}

/* "spin lock of child0/FDO taken in bus!Bus_Lock" */
static void lock_text(const held_lock_t *l, char *buf, size_t size)
{
    char by[96];
    if (l->image)
        snprintf(by, sizeof by, "%s!%s", l->image->name, symbol_name(l->fn));
    else
        snprintf(by, sizeof by, "the framework");
    snprintf(buf, size, "%s%s%s (taken in %s)", l->kind, l->owner ? " of " : "", l->owner ? l->owner : "", by);
}

int lock_graph_holder(const void *object, char *text, size_t size)
{
    const held_lock_t *l = holder_of(object);
    if (!l)
        return -1;
    lock_text(l, text, size);
    return l->fiber;
}

int lock_graph_held_by(int fiber, char *text, size_t size)
{
    const held_lock_t *last = NULL;
    for (unsigned i = 0; i < g_nlocks; i++) /* ke_lock_dropped reorders: the latest step is the last taken */
        if (g_locks[i].fiber == fiber && (!last || g_locks[i].step >= last->step))
            last = &g_locks[i];
    if (!last)
        return 0;
    lock_text(last, text, size);
    return 1;
}

void ke_lock_waits(const void *object, const char *routine)
{
    const held_lock_t *l = holder_of(object);
    if (l)
        SCHED_TRACE3("%s blocks: %s held by %s", routine, l->kind, sched_fiber_name(l->fiber));
    else
        SCHED_TRACE1("%s blocks", routine);
}

/* The key's name of a lock: kind and acquiring routine, no spaces. */
static void lock_key(const held_lock_t *l, char *buf, size_t size)
{
    char kind[40];
    snprintf(kind, sizeof kind, "%s", l->kind);
    for (char *c = kind; *c; c++)
        if (*c == ' ')
            *c = '-';
    if (l->image)
        snprintf(buf, size, "%s@%s!%s", kind, l->image->name, symbol_name(l->fn));
    else
        snprintf(buf, size, "%s@%s", kind, l->owner ? l->owner : "framework");
}

static int cmp_str(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

int lock_graph_describe(char *cycle, size_t csize, char *key, size_t ksize, char *first_routine, size_t rsize)
{
    /* Locks get names L1, L2 ... in the order the stuck threads mention them. */
    const void *named[MAX_HELD_LOCKS];
    unsigned nnamed = 0, edges = 0;
    char keys[8][120];
    unsigned nkeys = 0;
    size_t used = 0;
    cycle[0] = key[0] = first_routine[0] = 0;
#define NAME_OF(obj, out)                                                                                              \
    do {                                                                                                               \
        unsigned k_ = 0;                                                                                               \
        while (k_ < nnamed && named[k_] != (obj))                                                                      \
            k_++;                                                                                                      \
        if (k_ == nnamed && nnamed < MAX_HELD_LOCKS)                                                                   \
            named[nnamed++] = (obj);                                                                                   \
        (out) = k_ + 1;                                                                                                \
    } while (0)
    for (int f = 0; f < sched_fiber_count() && used + 1 < csize; f++) {
        if (sched_fiber_state(f) != SCHED_BLOCKED || sched_fiber_is_daemon(f))
            continue;
        const held_lock_t *want = holder_of(sched_fiber_wait_object(f));
        used += (size_t)snprintf(cycle + used, csize - used, "%s%s", used ? "; " : "", sched_fiber_name(f));
        int holds = 0;
        for (unsigned i = 0; i < g_nlocks && used + 1 < csize; i++) {
            if (g_locks[i].fiber != f)
                continue;
            unsigned n;
            NAME_OF(g_locks[i].object, n);
            char t[200];
            lock_text(&g_locks[i], t, sizeof t);
            used += (size_t)snprintf(cycle + used, csize - used, "%s L%u %s", holds ? "," : " holds", n, t);
            holds = 1;
        }
        if (used + 1 >= csize)
            break;
        if (want) {
            unsigned n;
            NAME_OF(want->object, n);
            used += (size_t)snprintf(cycle + used, csize - used, " wants L%u (held by %s%s)", n,
                                     sched_fiber_name(want->fiber),
                                     want->fiber >= 0 && sched_fiber_state(want->fiber) == SCHED_DONE
                                         ? ", which ended holding it"
                                         : "");
            if (nkeys < 8)
                lock_key(want, keys[nkeys++], sizeof keys[0]);
            edges++;
        } else {
            const char *why = sched_fiber_wait_reason(f);
            used += (size_t)snprintf(cycle + used, csize - used, " waits on %s", why ? why : "?");
        }
    }
#undef NAME_OF
    if (!edges)
        return 0;
    /* The key: the wanted locks by kind@routine, sorted (thread order and
     * which thread blocked first do not matter). */
    qsort(keys, nkeys, sizeof keys[0], cmp_str);
    size_t k = 0;
    for (unsigned i = 0; i < nkeys && k + 1 < ksize; i++)
        if (i == 0 || strcmp(keys[i], keys[i - 1]) != 0)
            k += (size_t)snprintf(key + k, ksize - k, "%s%s", k ? "+" : "", keys[i]);
    const char *at = strchr(keys[0], '@');
    snprintf(first_routine, rsize, "%s", at ? at + 1 : keys[0]);
    return (int)edges;
}
