/*
 * EX_RUNDOWN_REF with the kernel's encoding and rules (KERNEL-SEMANTICS §1).
 * Count = 2n while active with n holders; a waiter sets Count to the address
 * of a wait block on its own stack | EX_RUNDOWN_ACTIVE; after the wait, Count
 * is exactly EX_RUNDOWN_ACTIVE (run down). Each routine is a yield point
 * before it touches the count, where a real CPU could be preempted.
 *
 * Misuse that the real kernel would turn into silent corruption (underflow,
 * a stale stack wait block, an early wake) is reported at once as MISUSE with
 * an exact message naming the routine, the caller and the step.
 */
#include "kernel.h"
#include "tsan_sync.h"

#include <string.h>

#define EX_RUNDOWN_ACTIVE ((ULONG_PTR)0x1)
#define EX_RUNDOWN_COUNT_INC ((ULONG_PTR)0x2)

typedef struct rundown_wait_block {
    ULONG_PTR count; /* holders still to release */
    KEVENT wake;     /* model: blocked on &count */
} rundown_wait_block_t;

/* ---- per rundown: its owner (the trace's names) and its first wait ---------- */
/* A record per rundown the run used, by address and owner (another object at
 * a reused address is a record of its own). It holds the owner's text the
 * trace events point at, and the wait that ran the rundown down with holders
 * to drain: a second wait's fatal pair names it (its caller, its step). Reset
 * with the run; past the table a rundown is named by a fixed text and its
 * second wait has no teardown side (the key does not depend on it). */
#define MAX_RUNDOWN_RECORDS 64
typedef struct rundown_rec {
    const void *ref;
    int resolved;        /* the owner below was looked up (rec_resolve) */
    tdf_addr_owner_t o;  /* o.ident NULL: no device context holds it (pool, static) */
    const char *image;   /* no device: the pool block's image, else the driver frame that first used it */
    ULONG tag;           /* the pool block's tag (0: not pool) */
    unsigned long off;   /* ... and the offset in it */
    char text[128];      /* whose rundown, for the trace: "child0/FDO context CHILD_CONTEXT+0x40 (child)" */
    tdf_teardown_t wait; /* the wait that had holders to drain (event NULL: none yet) */
    char wait_caller[96];
} rundown_rec_t;
static rundown_rec_t g_recs[MAX_RUNDOWN_RECORDS];
static unsigned g_nrecs;
static tdf_owner_fn *g_owner_hook;

void ke_set_owner_hook(tdf_owner_fn *fn) { g_owner_hook = fn; }

static void rec_text(rundown_rec_t *r)
{
    if (r->o.ident && r->o.object)
        snprintf(r->text, sizeof r->text, "%s %s context %s+0x%lx (%s)", r->o.device, r->o.object, r->o.container,
                 r->o.offset, r->o.driver);
    else if (r->o.ident)
        snprintf(r->text, sizeof r->text, "%s context %s+0x%lx (%s)", r->o.device, r->o.container, r->o.offset,
                 r->o.driver);
    else if (r->tag)
        snprintf(r->text, sizeof r->text, "pool '%.4s' of %s +0x%lx", (const char *)&r->tag, r->image, r->off);
    else
        snprintf(r->text, sizeof r->text, "%s (no device context or driver pool holds it)", r->image);
}

/* The record of the rundown at ref: the newest of that address, made on
 * first use (ExInitializeRundownProtection retires the address's older ones:
 * a new object there). NULL when the table is full. No owner lookup here:
 * the exec path notes a first wait through it (rec_resolve names it). */
static rundown_rec_t *rec_of(const void *ref)
{
    for (unsigned i = g_nrecs; i-- > 0;)
        if (g_recs[i].ref == ref)
            return &g_recs[i];
    if (g_nrecs == MAX_RUNDOWN_RECORDS)
        return NULL;
    rundown_rec_t *r = &g_recs[g_nrecs++];
    memset(r, 0, sizeof *r);
    r->ref = ref;
    return r;
}

/* Whose rundown: a device's context, else a driver's pool block, else the
 * driver that first used it (a static one). Once per record, while the
 * object is alive (at its first traced event, or at a failure). */
static void rec_resolve(rundown_rec_t *r)
{
    if (r->resolved)
        return;
    r->resolved = 1;
    if (g_owner_hook && g_owner_hook(r->ref, &r->o))
        return;
    size_t off = 0;
    const struct tdf_image *img = pool_owner_of(r->ref, &r->tag, &off);
    r->off = (unsigned long)off;
    if (!img)
        img = image_current();
    r->image = img ? img->name : "harness";
}

/* The trace's name of the rundown (traced runs only: the SCHED_TRACE macros
 * evaluate their arguments only then). */
static const char *owner_text(const void *ref)
{
    rundown_rec_t *r = rec_of(ref);
    if (!r)
        return "a rundown past MAX_RUNDOWN_RECORDS (model/kernel/rundown.c)";
    rec_resolve(r);
    rec_text(r);
    return r->text;
}

void ke_rundown_owners_final(void)
{
    for (unsigned i = 0; i < g_nrecs; i++)
        if (g_recs[i].resolved)
            rec_text(&g_recs[i]);
}

/* Rundown protections each thread holds now (acquired, not yet released by
 * it): the fatal pair's key says whether an access was made under one. A
 * release by another thread than the acquirer (legal) only lowers the
 * releaser's count if it has one. */
static uint16_t g_held[SCHED_SLOT_COUNT]; /* by slot (sched.h "Thread ids and slots") */

static uint16_t *held_of(int fiber) { return &g_held[sched_fiber_index(fiber)]; }

/* Who holds each rundown now, for the deadlock report's wait-for edges
 * (wait_graph.c): one (ref, thread) per acquire not yet released. A release
 * drops the releasing thread's entry for the ref, else (a release by another
 * thread than the acquirer, legal) the ref's oldest one. Past
 * MAX_RUNDOWN_HOLDS the holders are no longer all known, and the report
 * falls back to the stuck frames (ke_rundown_holders returns -1). */
#define MAX_RUNDOWN_HOLDS 256
static struct rundown_hold {
    const void *ref;
    int fiber;
} g_holds[MAX_RUNDOWN_HOLDS];
static unsigned g_nholds;
static int g_holds_lost;

static void hold_add(const void *ref)
{
    if (g_nholds == MAX_RUNDOWN_HOLDS) {
        g_holds_lost = 1;
        return;
    }
    g_holds[g_nholds++] = (struct rundown_hold){ref, sched_current()};
}

static void hold_drop(const void *ref)
{
    int me = sched_current();
    unsigned any = g_nholds;
    for (unsigned i = g_nholds; i-- > 0;) {
        if (g_holds[i].ref != ref)
            continue;
        any = i;
        if (g_holds[i].fiber == me)
            break;
    }
    if (any < g_nholds) /* order does not matter: the report sorts what it names */
        g_holds[any] = g_holds[--g_nholds];
}

int ke_rundown_holders(const void *ref, int *fibers, int max)
{
    if (g_holds_lost)
        return -1;
    int n = 0;
    for (unsigned i = 0; i < g_nholds && n < max; i++)
        if (g_holds[i].ref == ref)
            fibers[n++] = g_holds[i].fiber;
    return n;
}

const char *ke_rundown_owner_text(const void *ref) { return owner_text(ref); }

void rundown_reset(void)
{
    memset(g_held, 0, sizeof g_held);
    g_nrecs = 0;
    g_nholds = 0;
    g_holds_lost = 0;
}

/* A slot's new thread holds nothing. A count left by the slot's finished
 * thread is no leak to report: a protection it acquired may legally be
 * released by another thread (see above), so the count is attribution for
 * the fatal pair's key, not ownership. */
void rundown_slot_reset(int slot) { g_held[slot] = 0; }

int ke_rundown_held(int fiber) { return *held_of(fiber) != 0; }

static void misuse(const char *routine, const char *what)
{
    char here[96];
    image_current_frame(here, sizeof here);
    tdf_fail(TDF_CLASS_MISUSE, 0, 0, routine, here, NULL, "%s %s (%s, step %lu)", routine, what, here,
             (unsigned long)sched_steps());
}

/* After a wait that had to drain holders, the kernel leaves Count pointing at
 * the waiter's (now dead) stack wait block | EX_RUNDOWN_ACTIVE until
 * ExRundownCompleted or ExReInitializeRundownProtection. The model stores
 * this marker instead of the dead address, so every later use of the stale
 * block is reported instead of read. */
static rundown_wait_block_t g_stale_wait_block;
#define RUNDOWN_DRAINED ((ULONG_PTR)&g_stale_wait_block | EX_RUNDOWN_ACTIVE)

static int in_wait(ULONG_PTR c) { return (c & EX_RUNDOWN_ACTIVE) && c != EX_RUNDOWN_ACTIVE && c != RUNDOWN_DRAINED; }
static int run_down(ULONG_PTR c) { return c == EX_RUNDOWN_ACTIVE || c == RUNDOWN_DRAINED; }

VOID ExInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    /* Not a yield point: initialisation precedes publication of the object. */
    if (ke_irql() > APC_LEVEL)
        misuse("ExInitializeRundownProtection", "above APC_LEVEL");
    RunRef->Count = 0;
    /* A fresh rundown: a record of this address was another object's (its
     * text stays, for the trace events that name it). */
    for (unsigned i = 0; i < g_nrecs; i++)
        if (g_recs[i].ref == RunRef)
            g_recs[i].ref = NULL;
}

VOID ExReInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    ke_yield_on(RunRef, SCHED_FP_WRITE); /* footprint (sched.h): this rundown only */
    ULONG_PTR c = RunRef->Count;
    if (c == 0)
        misuse("ExReInitializeRundownProtection", "without a prior ExWaitForRundownProtectionRelease");
    else if (in_wait(c))
        misuse("ExReInitializeRundownProtection", "while ExWaitForRundownProtectionRelease is still waiting");
    else if (!(c & EX_RUNDOWN_ACTIVE))
        misuse("ExReInitializeRundownProtection", "while the rundown is active with holders (not run down)");
    feedback_pair(RunRef, FB_RUNDOWN_REINIT);
    SCHED_TRACE1("rundown reinit [%s]", owner_text(RunRef));
    TDF_HB_RELEASE(RunRef); /* interlocked in the kernel: publishes what came before */
    RunRef->Count = 0;
}

BOOLEAN ExAcquireRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
    ke_yield_on(RunRef, SCHED_FP_WRITE);
    if (ke_irql() > DISPATCH_LEVEL)
        misuse("ExAcquireRundownProtection", "above DISPATCH_LEVEL");
    ULONG_PTR c = RunRef->Count;
    feedback_pair(RunRef, FB_RUNDOWN_ACQUIRE);
    if (c & EX_RUNDOWN_ACTIVE) {
        SCHED_TRACE1("rundown acquire -> FALSE (run down) [%s]", owner_text(RunRef));
        return FALSE;
    }
    RunRef->Count = c + (ULONG_PTR)Count * EX_RUNDOWN_COUNT_INC;
    (*held_of(sched_current()))++;
    hold_add(RunRef);
    TDF_HB_ACQUIRE(RunRef);
    SCHED_TRACE2("rundown acquire -> TRUE (%lu held) [%s]", (unsigned long)(RunRef->Count >> 1), owner_text(RunRef));
    return TRUE;
}

BOOLEAN ExAcquireRundownProtection(PEX_RUNDOWN_REF RunRef) { return ExAcquireRundownProtectionEx(RunRef, 1); }

VOID ExReleaseRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
    /* The step ends at KeSetEvent's yield when it wakes the waiter. */
    ke_yield_on(RunRef, SCHED_FP_WRITE);
    ULONG_PTR c = RunRef->Count;
    feedback_pair(RunRef, FB_RUNDOWN_RELEASE);
    TDF_HB_RELEASE(RunRef);
    if (run_down(c)) {
        misuse("ExReleaseRundownProtection", "after the rundown completed (no holder can exist)");
        return;
    }
    if (in_wait(c)) {
        rundown_wait_block_t *wb = (rundown_wait_block_t *)(c & ~EX_RUNDOWN_ACTIVE);
        if (wb->count < Count) {
            misuse("ExReleaseRundownProtection", "without a matching acquire");
            return;
        }
        wb->count -= Count;
        if (*held_of(sched_current()))
            (*held_of(sched_current()))--;
        hold_drop(RunRef);
        SCHED_TRACE2("rundown release (waiter pending, %lu left) [%s]", (unsigned long)wb->count, owner_text(RunRef));
        if (wb->count == 0)
            KeSetEvent(&wb->wake, IO_NO_INCREMENT, FALSE); /* last holder wakes the waiter */
        return;
    }
    if ((c >> 1) < Count) {
        misuse("ExReleaseRundownProtection", "without a matching acquire");
        return;
    }
    RunRef->Count = c - (ULONG_PTR)Count * EX_RUNDOWN_COUNT_INC;
    if (*held_of(sched_current()))
        (*held_of(sched_current()))--;
    hold_drop(RunRef);
    SCHED_TRACE2("rundown release (%lu held) [%s]", (unsigned long)(RunRef->Count >> 1), owner_text(RunRef));
}

VOID ExReleaseRundownProtection(PEX_RUNDOWN_REF RunRef) { ExReleaseRundownProtectionEx(RunRef, 1); }

/* A second wait on a rundown that a wait is running down (in_progress) or
 * ran down with holders to drain, with no ExRundownCompleted or
 * ExReInitializeRundownProtection between (the stale wait block): one bug
 * either way, two callers each thinking it alone disarms the rundown; which
 * form a schedule shows, and which caller comes second, is the schedule's.
 * So the key is the rundown's owner, the waiting routine and "second-wait"
 * (docs/REPORTS.md "Signatures"); both callers are in the detail and the
 * fatal pair (the first wait as its teardown side). */
static void second_wait(PEX_RUNDOWN_REF RunRef, int in_progress)
{
    char here[96], mine[96], role[64], first[160];
    image_current_frame(here, sizeof here);
    image_caller_frame(mine, sizeof mine);
    rundown_rec_t *r = rec_of(RunRef);
    const tdf_teardown_t *td = NULL;
    if (r) {
        rec_resolve(r);
        rec_text(r);
        if (r->wait.event)
            td = &r->wait;
    }
    if (r && r->o.ident)
        snprintf(role, sizeof role, "%s", r->o.role);
    else
        snprintf(role, sizeof role, "%s", r && r->image ? r->image : "unowned");
    if (td)
        snprintf(first, sizeof first, "the first wait was called from %s at step %lu", r->wait_caller,
                 (unsigned long)td->step);
    else
        snprintf(first, sizeof first, "the first wait's caller is not recorded");
    tdf_dead_t dead = {TDF_OBJ_RUNDOWN, role, td, "rundown in %s",
                       {(uintptr_t)(r ? r->text : "a rundown past MAX_RUNDOWN_RECORDS")}};
    dead.key_teardown = "second-wait";
    /* The detail keeps misuse()'s "(where, step n" (test_rundown.c checks it). */
    tdf_fail_dead(&dead, "ExWaitForRundownProtectionRelease", TDF_CLASS_MISUSE, 0, 0,
                  "ExWaitForRundownProtectionRelease", here, mine, "%s (%s, step %lu; called from %s; %s)",
                  in_progress ? "ExWaitForRundownProtectionRelease while another wait on the same rundown is in "
                                "progress"
                              : "ExWaitForRundownProtectionRelease again after a wait that drained holders, without "
                                "ExRundownCompleted (stale wait block)",
                  here, (unsigned long)sched_steps(), mine, first);
}

VOID ExWaitForRundownProtectionRelease(PEX_RUNDOWN_REF RunRef)
{
    ke_yield();
    if (ke_irql() > APC_LEVEL)
        misuse("ExWaitForRundownProtectionRelease", "above APC_LEVEL (it blocks)");
    ULONG_PTR c = RunRef->Count;
    feedback_pair(RunRef, FB_RUNDOWN_WAIT);
    if (c == EX_RUNDOWN_ACTIVE) {
        SCHED_TRACE1("rundown wait: already run down [%s]", owner_text(RunRef));
        return; /* documented: no effect, not an error */
    }
    if (c == RUNDOWN_DRAINED || in_wait(c)) {
        second_wait(RunRef, in_wait(c));
        return;
    }
    if (c == 0) {
        RunRef->Count = EX_RUNDOWN_ACTIVE;
        TDF_HB_ACQUIRE(RunRef);
        SCHED_TRACE1("rundown wait: no holders, run down [%s]", owner_text(RunRef));
        return;
    }
    rundown_wait_block_t wb = {.count = c >> 1};
    KeInitializeEvent(&wb.wake, NotificationEvent, FALSE);
    RunRef->Count = (ULONG_PTR)&wb | EX_RUNDOWN_ACTIVE;
    SCHED_TRACE2("rundown wait: %lu holder(s) to drain [%s]", (unsigned long)wb.count, owner_text(RunRef));
    /* The wait that runs it down, for a second wait's fatal pair (after the
     * trace event: the record names it). */
    rundown_rec_t *r = rec_of(RunRef);
    if (r) {
        tdf_teardown_note(&r->wait, "ExWaitForRundownProtectionRelease");
        image_caller_frame(r->wait_caller, sizeof r->wait_caller);
    }
    ke_wait_for_rundown(RunRef); /* the deadlock report's edge to the holders */
    KeWaitForSingleObject(&wb.wake, Executive, KernelMode, FALSE, NULL);
    ke_wait_done();
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* model code goes on after the wait's step (footprints, sched.h) */
    RunRef->Count = RUNDOWN_DRAINED;
    TDF_HB_ACQUIRE(RunRef);
    SCHED_TRACE1("rundown wait: drained, run down [%s]", owner_text(RunRef));
}

VOID ExRundownCompleted(PEX_RUNDOWN_REF RunRef)
{
    ke_yield();
    ULONG_PTR c = RunRef->Count;
    if (!(c & EX_RUNDOWN_ACTIVE))
        misuse("ExRundownCompleted", "before ExWaitForRundownProtectionRelease");
    else if (in_wait(c))
        misuse("ExRundownCompleted", "while ExWaitForRundownProtectionRelease is still waiting");
    RunRef->Count = EX_RUNDOWN_ACTIVE;
}
