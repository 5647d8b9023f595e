/*
 * System worker threads and executive work items (KERNEL-SEMANTICS §9 "Work
 * items"). Every queued item runs on a model thread of its own at
 * PASSIVE_LEVEL: Windows has several worker threads per queue, so two items
 * (or the same item queued again once it started) may run in any order and
 * concurrently; a thread per item lets the schedule choose every order.
 *
 * ExQueueWorkItem takes no reference on anything: the driver must make sure
 * its image stays loaded until the routine has returned. The model keeps a
 * table of active items (queued, or their routine running) with the image
 * that queued them, never reading the driver's WORK_QUEUE_ITEM after the
 * routine started (the routine may free it), and reports an unload with an
 * active item of the image as 0xCE. Queueing an active item, or freeing the
 * pool that holds one, are the kernel's 0xE4 WORKER_INVALID.
 */
#include "kernel.h"
#include "tsan_sync.h"

#include <stdio.h>
#include <string.h>

#define MAX_ACTIVE_WORK_ITEMS 32

typedef struct active_item {
    const void *item; /* the driver's WORK_QUEUE_ITEM, or a model IO_WORKITEM */
    const void *routine;
    struct tdf_image *image; /* the image that queued it */
    int running;             /* 0 queued, 1 its routine started */
    int fiber;               /* the worker thread running it (running only) */
    int in_use;
    const char *kind;
    char queued_by[96]; /* image!Routine that queued it */
} active_item_t;

static active_item_t g_active[MAX_ACTIVE_WORK_ITEMS];
/* Slots 0..g_used-1 were taken this run; the ones above are as the reset
 * left them (zero). A submit takes the lowest free slot, so g_used is the
 * most items active at once: the scans and the reset stop there instead of
 * walking (and clearing, 4.5 KB per exec) all MAX_ACTIVE_WORK_ITEMS. */
static unsigned g_used;

void work_queue_reset(void)
{
    memset(g_active, 0, g_used * sizeof *g_active);
    g_used = 0;
}

static active_item_t *find(const void *item)
{
    for (unsigned i = 0; i < g_used; i++)
        if (g_active[i].in_use && g_active[i].item == item)
            return &g_active[i];
    return NULL;
}

int work_queue_item_active(const void *item, int *running)
{
    active_item_t *a = find(item);
    if (a && running)
        *running = a->running;
    return a != NULL;
}

/* Marks `item` queued (0xE4/0x1 if it is queued already) and starts a worker
 * thread for it. Returns the slot, or NULL if the run stopped. */
void *work_queue_submit(const void *item, const void *routine, const char *kind, sched_fiber_fn *fn, void *arg)
{
    active_item_t *a = find(item);
    if (a && !a->running) {
        TDF_BUGCHECK(0xE4, 0x1, "WORKER_INVALID", "%s queued while it is already queued (routine %s, queued by %s)",
                     kind, symbol_name(routine), a->queued_by);
        return NULL;
    }
    /* An item whose routine runs may be queued again: a second slot. */
    active_item_t *slot = NULL;
    for (unsigned i = 0; i < MAX_ACTIVE_WORK_ITEMS && !slot; i++)
        if (!g_active[i].in_use) {
            slot = &g_active[i];
            if (i >= g_used)
                g_used = i + 1;
        }
    if (!slot) {
        TDF_LIMIT(MAX_ACTIVE_WORK_ITEMS, "model/kernel/work_queue.c", "more work items queued or running at once (%s)",
                  symbol_name(routine));
        return NULL;
    }
    slot->item = item;
    slot->routine = routine;
    slot->image = image_current();
    slot->running = 0;
    slot->in_use = 1;
    slot->kind = kind;
    image_current_frame(slot->queued_by, sizeof slot->queued_by);
    TDF_HB_RELEASE(slot); /* everything before the queueing is visible to the routine */
    if (sched_spawn(symbol_name(routine), "system-worker", fn, arg) == SCHED_NO_FIBER) {
        slot->in_use = 0;
        TDF_LIMIT(SCHED_MAX_FIBERS, "model/sched/sched.h", "more model threads, queueing work item %s",
                  symbol_name(routine));
        return NULL;
    }
    SCHED_TRACE2("%s queued: %s", kind, symbol_name(routine));
    return slot;
}

void work_queue_started(void *slot)
{
    active_item_t *a = slot;
    TDF_HB_ACQUIRE(a);
    a->running = 1;
    a->fiber = sched_current();
}

const void *work_queue_running_ex_routine(int fiber, const struct tdf_image **img)
{
    for (unsigned i = 0; i < g_used; i++) {
        const active_item_t *a = &g_active[i];
        if (a->in_use && a->running && a->fiber == fiber && strcmp(a->kind, "WORK_QUEUE_ITEM") == 0) {
            *img = a->image;
            return a->routine;
        }
    }
    return NULL;
}

void work_queue_finished(void *slot)
{
    active_item_t *a = slot;
    a->in_use = 0;
    a->item = NULL;
}

void work_queue_check_unload(struct tdf_image *img)
{
    for (unsigned i = 0; i < g_used; i++) {
        active_item_t *a = &g_active[i];
        if (!a->in_use || a->image != img)
            continue;
        char where[96];
        snprintf(where, sizeof where, "%s!%s", img->name, symbol_name(a->routine));
        /* The fatal pair: the worker would call the routine in the unloaded image. */
        tdf_dead_t dead = {TDF_OBJ_IMAGE, img->name, &img->unloaded_by, "image %s (a work item of it still active)",
                           {(uintptr_t)img->name}, .key_teardown = "unload"};
        tdf_fail_dead(&dead, a->running ? "work item running" : "work item queued", TDF_CLASS_BUGCHECK, 0xCE, 0,
                 "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where,
                 a->kind, "image '%s' unloaded with a %s %s (queued by %s): the worker thread would call %s in the "
                 "unloaded image", img->name, a->kind, a->running ? "whose routine is still running" : "still queued",
                 a->queued_by, where);
        return;
    }
}

/* Pool that holds an active item is being freed: 0xE4/0x0. */
void work_queue_check_free(const void *p, size_t size)
{
    for (unsigned i = 0; i < g_used; i++) {
        active_item_t *a = &g_active[i];
        /* Only a queued item: the routine may free its own item (the worker
         * thread took it off the queue before calling it). */
        if (!a->in_use || a->running || strcmp(a->kind, "WORK_QUEUE_ITEM") != 0)
            continue;
        const char *item = a->item, *start = p;
        if (item >= start && item < start + size) {
            TDF_BUGCHECK(0xE4, 0x0, "WORKER_INVALID", "pool freed while it holds a queued WORK_QUEUE_ITEM (routine %s, queued by %s)",
                         symbol_name(a->routine), a->queued_by);
            return;
        }
    }
}

/* ---- WORK_QUEUE_ITEM ------------------------------------------------------------- */
typedef struct ex_run {
    PWORKER_THREAD_ROUTINE routine;
    PVOID parameter;
    void *slot;
} ex_run_t;

static void ex_worker_main(void *arg)
{
    ex_run_t *r = arg;
    work_queue_started(r->slot);
    /* From here on the item belongs to the driver again: the routine may
     * free or requeue it. The routine runs at PASSIVE_LEVEL, and returns at
     * it into the worker thread (0xE1 otherwise). */
    unsigned saved = image_irql_rule_begin(IRQL_RETURN_WORKER);
    r->routine(r->parameter);
    image_irql_rule_end(saved);
    work_queue_finished(r->slot);
}

VOID ExInitializeWorkItem(PWORK_QUEUE_ITEM Item, PWORKER_THREAD_ROUTINE Routine, PVOID Context)
{
    Item->List.Flink = NULL;
    Item->List.Blink = NULL;
    Item->WorkerRoutine = Routine;
    Item->Parameter = Context;
}

VOID ExQueueWorkItem(PWORK_QUEUE_ITEM WorkItem, WORK_QUEUE_TYPE QueueType)
{
    ke_yield();
    if ((unsigned)QueueType >= MaximumWorkQueue) {
        TDF_BUGCHECK(0xE4, 0x6, "WORKER_INVALID", "ExQueueWorkItem with an invalid queue type %d", (int)QueueType);
        return;
    }
    if (!WorkItem->WorkerRoutine) {
        TDF_BUGCHECK(0xE4, 0x7, "WORKER_INVALID", "ExQueueWorkItem of an item with no worker routine");
        return;
    }
    ex_run_t *r = pool_alloc_model(sizeof *r);
    r->routine = WorkItem->WorkerRoutine;
    r->parameter = WorkItem->Parameter;
    r->slot = work_queue_submit(WorkItem, (const void *)WorkItem->WorkerRoutine, "WORK_QUEUE_ITEM", ex_worker_main, r);
}
