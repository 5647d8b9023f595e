/*
 * Executive lookaside lists (KERNEL-SEMANTICS §9 "Lookaside lists"). The
 * kernel keeps every initialised list on a system-wide list that its
 * balancer walks, so a list must be deleted before the memory holding it
 * goes away and before its driver unloads: a list still initialised at unload
 * is BUGCHECK 0xCE. The model keeps its own table of initialised lists
 * (never the driver's memory: a list in freed memory must not make the
 * unload check read it), each with the frame that initialised it.
 * Entries are pool of the driver (allocated from its frame), so an entry the
 * driver never frees is 0xC4/0x62 at unload as any pool; cached entries are
 * freed by Delete.
 */
#include "kernel.h"
#include "tsan_sync.h"

#include <stdio.h>
#include <string.h>

#define MAX_LOOKASIDE_LISTS 32
#define LOOKASIDE_SIGNATURE 0x4c6b4173u /* 'sAkL' */

typedef struct lookaside_rec {
    TDF_LOOKASIDE_COMMON *list;
    struct tdf_image *image;
    int paged;
    ULONG tag;           /* copied: the list's memory may be gone at the unload check */
    char init_frame[96]; /* image!Routine that initialised it */
} lookaside_rec_t;

static lookaside_rec_t g_lists[MAX_LOOKASIDE_LISTS];
static unsigned g_nlists;

void lookaside_reset(void) { g_nlists = 0; }

static lookaside_rec_t *find(const TDF_LOOKASIDE_COMMON *l)
{
    for (unsigned i = 0; i < g_nlists; i++)
        if (g_lists[i].list == l)
            return &g_lists[i];
    return NULL;
}

static const char *kind_name(int paged) { return paged ? "PAGED_LOOKASIDE_LIST" : "NPAGED_LOOKASIDE_LIST"; }

static void init(TDF_LOOKASIDE_COMMON *l, int paged, PALLOCATE_FUNCTION Allocate, PFREE_FUNCTION Free, SIZE_T Size,
                 ULONG Tag, const char *routine)
{
    ke_yield();
    if (find(l)) {
        /* Re-initialising a list that is on the system list would corrupt it. */
        TDF_MISUSE(routine, "%s on a lookaside list that is already initialised (not deleted)", routine);
        return;
    }
    if (g_nlists == MAX_LOOKASIDE_LISTS) {
        TDF_LIMIT(MAX_LOOKASIDE_LISTS, "model/kernel/lookaside.c", "more lookaside lists initialised at once (%s)",
                  routine);
        return;
    }
    memset(l, 0, sizeof *l);
    l->Signature = LOOKASIDE_SIGNATURE;
    l->Type = paged ? PagedPool : NonPagedPool;
    l->Size = Size;
    l->Tag = Tag;
    l->Allocate = Allocate;
    l->Free = Free;
    lookaside_rec_t *r = &g_lists[g_nlists++];
    r->list = l;
    r->image = image_current();
    r->paged = paged;
    r->tag = Tag;
    image_current_frame(r->init_frame, sizeof r->init_frame);
    SCHED_TRACE2("%s tag 0x%lx", routine, (unsigned long)l->Tag); /* by value: the list's memory may be freed before the trace is printed */
}

static TDF_LOOKASIDE_COMMON *checked(TDF_LOOKASIDE_COMMON *l, const char *routine)
{
    if (!l || l->Signature != LOOKASIDE_SIGNATURE || !find(l)) {
        /* In an ExQueueWorkItem routine of this driver: its teardown deleted
         * the list without waiting for the routine, which holds no reference
         * on the driver. Had it not touched the list, the unload would have
         * found the work item still running (work_queue.c): one bug, keyed
         * as that one, image(<driver>):<work routine>:unload. */
        const struct tdf_image *img;
        const void *fn = work_queue_running_ex_routine(sched_current(), &img);
        if (fn && img && img == image_current()) {
            char entry[96];
            snprintf(entry, sizeof entry, "%s!%s", img->name, symbol_name(fn));
            tdf_dead_t dead = {TDF_OBJ_IMAGE, img->name, NULL, "image %s (its work routine met a lookaside list deleted)",
                               {(uintptr_t)img->name}, .access_frame = entry, .key_teardown = "unload"};
            tdf_fail_dead(&dead, routine, TDF_CLASS_MISUSE, 0, 0, routine, NULL, NULL,
                          "%s on a lookaside list that is not initialised (never, or already deleted), in the work "
                          "routine %s: the teardown deleted it without waiting for the routine",
                          routine, entry);
            return NULL;
        }
        TDF_MISUSE(routine, "%s on a lookaside list that is not initialised (never, or already deleted)", routine);
        return NULL;
    }
    return l;
}

static PVOID allocate(TDF_LOOKASIDE_COMMON *l, const char *routine)
{
    ke_yield();
    if (!checked(l, routine))
        return NULL;
    if (l->CachedCount > 0) {
        PVOID entry = l->Cached[--l->CachedCount];
        /* The kernel's lists are interlocked SLISTs: the free that pushed the
         * entry happens-before this pop (TSan must not see a race between
         * the last owner's accesses and the next one's). */
        TDF_HB_ACQUIRE(entry);
        return entry;
    }
    /* A miss allocates from pool in the caller's name (its frame is the
     * innermost driver frame), as the kernel charges the list's tag. */
    if (l->Allocate)
        return l->Allocate(l->Type, l->Size, l->Tag);
    return ExAllocatePoolWithTag(l->Type, l->Size, l->Tag);
}

static void free_entry(TDF_LOOKASIDE_COMMON *l, PVOID entry)
{
    if (l->Free)
        l->Free(entry);
    else
        ExFreePoolWithTag(entry, 0);
}

static void release(TDF_LOOKASIDE_COMMON *l, PVOID entry, const char *routine)
{
    ke_yield();
    if (!checked(l, routine))
        return;
    if (l->CachedCount < TDF_LOOKASIDE_DEPTH) {
        TDF_HB_RELEASE(entry);
        l->Cached[l->CachedCount++] = entry;
    }
    else
        free_entry(l, entry);
}

static void delete_list(TDF_LOOKASIDE_COMMON *l, const char *routine)
{
    ke_yield();
    if (!checked(l, routine))
        return;
    lookaside_rec_t *r = find(l);
    *r = g_lists[--g_nlists];
    while (l->CachedCount > 0)
        free_entry(l, l->Cached[--l->CachedCount]);
    l->Signature = 0;
    SCHED_TRACE2("%s tag 0x%lx", routine, (unsigned long)l->Tag); /* by value: the list's memory may be freed before the trace is printed */
}

void lookaside_check_unload(struct tdf_image *img)
{
    for (unsigned i = 0; i < g_nlists; i++) {
        lookaside_rec_t *r = &g_lists[i];
        if (r->image != img)
            continue;
        const char *del = r->paged ? "ExDeletePagedLookasideList" : "ExDeleteNPagedLookasideList";
        tdf_fail(TDF_CLASS_BUGCHECK, 0xCE, 0, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", r->init_frame,
                 "lookaside", "image '%s' unloaded with a %s (tag '%.4s', initialised in %s) still initialised: %s "
                 "was never called, the kernel's lookaside balancer would walk it in unloaded memory",
                 img->name, kind_name(r->paged), (const char *)&r->tag, r->init_frame, del);
        return;
    }
}

VOID ExInitializeNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate,
                                     PFREE_FUNCTION Free, ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth)
{
    (void)Flags, (void)Depth;
    init(&Lookaside->L, 0, Allocate, Free, Size, Tag, "ExInitializeNPagedLookasideList");
}

PVOID ExAllocateFromNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    return allocate(&Lookaside->L, "ExAllocateFromNPagedLookasideList");
}

VOID ExFreeToNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry)
{
    release(&Lookaside->L, Entry, "ExFreeToNPagedLookasideList");
}

VOID ExDeleteNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    delete_list(&Lookaside->L, "ExDeleteNPagedLookasideList");
}

VOID ExInitializePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate, PFREE_FUNCTION Free,
                                    ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth)
{
    (void)Flags, (void)Depth;
    init(&Lookaside->L, 1, Allocate, Free, Size, Tag, "ExInitializePagedLookasideList");
}

PVOID ExAllocateFromPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside)
{
    return allocate(&Lookaside->L, "ExAllocateFromPagedLookasideList");
}

VOID ExFreeToPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry)
{
    release(&Lookaside->L, Entry, "ExFreeToPagedLookasideList");
}

VOID ExDeletePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside)
{
    delete_list(&Lookaside->L, "ExDeletePagedLookasideList");
}
