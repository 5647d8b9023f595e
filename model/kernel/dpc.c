/*
 * KDPC: the DPC queue and the model's DPC processors (KERNEL-SEMANTICS §8).
 *
 * A queued DPC runs on a "DPC processor": a daemon model thread that drains
 * the queue at DISPATCH_LEVEL and blocks, idle, when it is empty. There are
 * DPC_PROCESSORS of them, spawned on the first insert that finds none idle,
 * so a DPC runs concurrently with every ordinary thread and with a DPC on the
 * other processor (including its own KDPC, queued again while it runs: the
 * kernel dequeues a DPC before calling its routine). A target that never
 * queues a DPC has no DPC thread: its schedules are unchanged.
 *
 * The queue is a model-side FIFO of pointers into driver memory (a KDPC lives
 * in the driver's storage); each entry keeps the insert sequence number so
 * KeFlushQueuedDpcs waits for exactly the DPCs queued before it. Freeing pool
 * that holds a queued KDPC is 0xC7 (ke_deferred_check_free), so the queue
 * never points to freed memory.
 */
#include "kernel.h"
#include "tsan_sync.h"

#include <stdio.h>
#include <string.h>

#define DPC_PROCESSORS 2     /* DPC threads: enough for a DPC to race itself */
#define MAX_QUEUED_DPCS 64   /* distinct KDPCs queued at once (each KDPC at most once) */
#define KDPC_MAGIC 0x4B445043u

typedef struct dpc_cpu {
    int fiber;                 /* SCHED_NO_FIBER until spawned */
    int idle;                  /* blocked on itself, waiting for work */
    PKDPC running;             /* dequeued, routine called or about to be */
    uint32_t running_seq;
} dpc_cpu_t;

static struct {
    PKDPC queue[MAX_QUEUED_DPCS];
    uint32_t seq[MAX_QUEUED_DPCS];
    unsigned n;
    uint32_t next_seq;
    dpc_cpu_t cpu[DPC_PROCESSORS];
    unsigned ncpu;
    int flush_token;
} D;

static const char *const g_cpu_names[DPC_PROCESSORS] = {"DPC0", "DPC1"};

void dpc_reset(void)
{
    memset(&D, 0, sizeof D);
    for (unsigned i = 0; i < DPC_PROCESSORS; i++)
        D.cpu[i].fiber = SCHED_NO_FIBER;
}

int ke_in_dpc(void)
{
    /* By thread id (ids exceed 63 in runs that reuse slots, sched.h). */
    int f = sched_current(), dpc = 0;
    for (unsigned i = 0; i < D.ncpu; i++)
        dpc |= f != SCHED_NO_FIBER && D.cpu[i].fiber == f;
    return dpc && ke_irql() >= DISPATCH_LEVEL;
}

void ke_check_may_wait(const char *routine)
{
    char here[96];
    if (ke_in_dpc()) {
        image_current_frame(here, sizeof here);
        /* The dispatcher refuses to switch away from a DPC: bugcheck 0xB8. */
        tdf_fail(TDF_CLASS_BUGCHECK, 0xB8, 0, "ATTEMPTED_SWITCH_FROM_DPC", here, NULL,
                 "%s would wait inside a DPC routine (%s, IRQL DISPATCH_LEVEL)", routine, here);
    } else if (ke_irql() > APC_LEVEL) {
        image_current_frame(here, sizeof here);
        tdf_fail(TDF_CLASS_BUGCHECK, 0xA, 0, "IRQL_NOT_LESS_OR_EQUAL", here, NULL,
                 "%s would wait at IRQL %u (%s): waits need IRQL <= APC_LEVEL", routine, (unsigned)ke_irql(), here);
    }
}

static int queued_index(PKDPC dpc)
{
    for (unsigned i = 0; i < D.n; i++)
        if (D.queue[i] == dpc)
            return (int)i;
    return -1;
}

static void dequeue_at(unsigned i)
{
    D.queue[i]->DpcData = NULL;
    memmove(&D.queue[i], &D.queue[i + 1], (D.n - i - 1) * sizeof D.queue[0]);
    memmove(&D.seq[i], &D.seq[i + 1], (D.n - i - 1) * sizeof D.seq[0]);
    D.n--;
}

/* The body of a DPC processor: drain the queue, then wait idle. */
static void dpc_cpu_main(void *arg)
{
    dpc_cpu_t *cpu = arg;
    for (;;) {
        while (D.n > 0) {
            PKDPC dpc = D.queue[0];
            cpu->running = dpc;
            cpu->running_seq = D.seq[0];
            PKDEFERRED_ROUTINE routine = dpc->DeferredRoutine;
            PVOID context = dpc->DeferredContext, a1 = dpc->SystemArgument1, a2 = dpc->SystemArgument2;
            dequeue_at(0);
            SCHED_TRACE1("DPC %s runs", symbol_name((const void *)routine));
            TDF_HB_ACQUIRE(dpc); /* the insert happens-before the routine */
            ke_set_irql(DISPATCH_LEVEL);
            /* Driver code: the image's entry hook yields first (the window
             * between the dequeue and the routine's first instruction) and
             * reports a routine in an unloaded image as 0xCE at the call. */
            unsigned saved = image_irql_rule_begin(IRQL_RETURN_CALLER); /* checked below: 0xC8 */
            routine(dpc, context, a1, a2);
            image_irql_rule_end(saved);
            if (ke_irql() != DISPATCH_LEVEL) {
                char where[96];
                snprintf(where, sizeof where, "%s", symbol_name((const void *)routine));
                tdf_fail(TDF_CLASS_BUGCHECK, 0xC8, 0, "IRQL_UNEXPECTED_VALUE", where, NULL,
                         "DPC routine %s returned at IRQL %u instead of DISPATCH_LEVEL", where, (unsigned)ke_irql());
            }
            ke_set_irql(PASSIVE_LEVEL);
            TDF_HB_RELEASE(&D.flush_token); /* what the routine wrote happens-before a flush's return */
            cpu->running = NULL;
            sched_wake(&D.flush_token);
        }
        cpu->idle = 1;
        ke_block(cpu, "DPC processor idle");
        cpu->idle = 0;
    }
}

/* Makes a processor take the queue: wake an idle one, else start one more.
 * With every processor busy, the next one to finish its routine takes it. */
static void kick_processor(void)
{
    for (unsigned i = 0; i < D.ncpu; i++) {
        if (D.cpu[i].idle) {
            D.cpu[i].idle = 0; /* one wake per insert is enough */
            sched_wake(&D.cpu[i]);
            return;
        }
    }
    if (D.ncpu == DPC_PROCESSORS)
        return;
    dpc_cpu_t *cpu = &D.cpu[D.ncpu];
    int f = sched_spawn(g_cpu_names[D.ncpu], "kernel", dpc_cpu_main, cpu);
    if (f == SCHED_NO_FIBER) {
        TDF_LIMIT(SCHED_MAX_FIBERS, "model/sched/sched.h", "more model threads (DPC processor %u)", D.ncpu);
        return;
    }
    D.ncpu++;
    cpu->fiber = f;
    sched_set_daemon(f);
}

VOID KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    /* Not a yield point: it only fills the caller's structure. */
    if (Dpc->TdfMagic == KDPC_MAGIC && Dpc->DpcData && queued_index(Dpc) >= 0)
        TDF_MISUSE("KeInitializeDpc", "KeInitializeDpc on a KDPC that is queued (routine %s): the queue would be corrupted",
                   symbol_name((const void *)Dpc->DeferredRoutine));
    memset(Dpc, 0, sizeof *Dpc);
    Dpc->Type = DPC_NORMAL;
    Dpc->Importance = MediumImportance;
    Dpc->DeferredRoutine = DeferredRoutine;
    Dpc->DeferredContext = DeferredContext;
    Dpc->TdfImage = image_current();
    Dpc->TdfMagic = KDPC_MAGIC;
}

VOID KeSetImportanceDpc(PRKDPC Dpc, KDPC_IMPORTANCE Importance) { Dpc->Importance = (UCHAR)Importance; }

static void check_initialized(PKDPC dpc, const char *routine)
{
    if (!dpc || dpc->TdfMagic != KDPC_MAGIC)
        TDF_MISUSE(routine, "%s on a KDPC that KeInitializeDpc did not initialise", routine);
}

BOOLEAN ke_dpc_insert(PKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
    if (Dpc->DpcData)
        return FALSE;
    if (D.n == MAX_QUEUED_DPCS) {
        TDF_LIMIT(MAX_QUEUED_DPCS, "model/kernel/dpc.c", "more KDPCs queued at once (%s)",
                  symbol_name((const void *)Dpc->DeferredRoutine));
        return FALSE;
    }
    Dpc->SystemArgument1 = SystemArgument1;
    Dpc->SystemArgument2 = SystemArgument2;
    Dpc->DpcData = &D;
    D.queue[D.n] = Dpc;
    D.seq[D.n] = D.next_seq++;
    D.n++;
    TDF_HB_RELEASE(Dpc);
    feedback_pair(Dpc, FB_DPC_INSERT);
    SCHED_TRACE1("KeInsertQueueDpc %s", symbol_name((const void *)Dpc->DeferredRoutine));
    kick_processor();
    return TRUE;
}

BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
    ke_yield();
    check_initialized(Dpc, "KeInsertQueueDpc");
    return ke_dpc_insert(Dpc, SystemArgument1, SystemArgument2);
}

BOOLEAN ke_dpc_remove(PKDPC Dpc)
{
    int i = queued_index(Dpc);
    if (i < 0)
        return FALSE;
    dequeue_at((unsigned)i);
    feedback_pair(Dpc, FB_DPC_REMOVE);
    SCHED_TRACE1("KeRemoveQueueDpc %s: dequeued", symbol_name((const void *)Dpc->DeferredRoutine));
    return TRUE;
}

BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc)
{
    ke_yield();
    check_initialized(Dpc, "KeRemoveQueueDpc");
    return ke_dpc_remove(Dpc);
}

int ke_dpc_busy(PKDPC Dpc)
{
    if (Dpc->DpcData)
        return 1;
    for (unsigned i = 0; i < D.ncpu; i++)
        if (D.cpu[i].running == Dpc)
            return 1;
    return 0;
}

/* 1 while a DPC inserted before sequence number `upto` is queued or running. */
static int pending_before(uint32_t upto)
{
    for (unsigned i = 0; i < D.n; i++)
        if (D.seq[i] < upto)
            return 1;
    for (unsigned i = 0; i < D.ncpu; i++)
        if (D.cpu[i].running && D.cpu[i].running_seq < upto)
            return 1;
    return 0;
}

void ke_dpc_wait_one(PKDPC Dpc, const char *what)
{
    while (ke_dpc_busy(Dpc))
        ke_block(&D.flush_token, what);
}

VOID KeFlushQueuedDpcs(void)
{
    ke_check_may_wait("KeFlushQueuedDpcs");
    ke_yield();
    uint32_t upto = D.next_seq;
    while (pending_before(upto))
        ke_block(&D.flush_token, "KeFlushQueuedDpcs");
    feedback_pair(&D.flush_token, FB_DPC_FLUSH);
    TDF_HB_ACQUIRE(&D.flush_token);
    SCHED_TRACE0("KeFlushQueuedDpcs: every earlier DPC has run");
}

void dpc_unload_check(struct tdf_image *img)
{
    for (unsigned i = 0; i < D.n; i++) {
        PKDPC dpc = D.queue[i];
        if (dpc->TdfImage != img)
            continue;
        char where[96], routine[96];
        snprintf(where, sizeof where, "%s!unload", img->name);
        snprintf(routine, sizeof routine, "%s!%s", img->name, symbol_name((const void *)dpc->DeferredRoutine));
        /* The fatal pair: the DPC routine would run in the unloaded image. */
        tdf_dead_t dead = {TDF_OBJ_IMAGE, img->name, &img->unloaded_by, "image %s (a KDPC of it still queued)",
                           {(uintptr_t)img->name}, .access_frame = routine, .key_teardown = "unload"};
        tdf_fail_dead(&dead, "KDPC queued", TDF_CLASS_BUGCHECK, 0xCE, 0,
                 "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where, "KDPC",
                 "image '%s' unloaded with a KDPC still queued: its routine %s would run in the unloaded image",
                 img->name, symbol_name((const void *)dpc->DeferredRoutine));
        return;
    }
}

void dpc_check_free(const void *p, size_t size, int driver_free)
{
    const char *lo = p, *hi = lo + size;
    for (unsigned i = 0; i < D.n; i++) {
        PKDPC dpc = D.queue[i];
        const char *q = (const char *)dpc;
        if (q < lo || q >= hi)
            continue;
        const char *owner = dpc->TdfImage ? dpc->TdfImage->name : "model";
        char routine[96];
        snprintf(routine, sizeof routine, "%s!%s", owner, symbol_name((const void *)dpc->DeferredRoutine));
        /* The fatal pair: the queued DPC's routine is the access (it would
         * run from the freed block), the free its teardown: as a KDPC queued
         * at unload keys by its routine. */
        tdf_dead_t dead = {TDF_OBJ_POOL, owner, pool_note_free(driver_free), "pool of %s freed with a KDPC queued in it",
                           {(uintptr_t)owner}, .access_frame = routine};
        tdf_fail_dead(&dead, "KDPC queued", TDF_CLASS_BUGCHECK, 0xC7, 0x1, "TIMER_OR_DPC_INVALID", NULL, NULL,
                      "pool freed while it holds a queued KDPC (routine %s): the DPC would run from freed memory",
                      symbol_name((const void *)dpc->DeferredRoutine));
        return;
    }
}
