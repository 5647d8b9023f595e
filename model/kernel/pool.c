/*
 * Pool: every allocation is tagged with its owner image (the driver frame that
 * called ExAllocatePool*), so an unload with pool left is 0xC4/0x62, and every
 * allocation of a run is released at its end (libFuzzer runs millions of execs
 * in one process). Block records live apart from the payload: a double free
 * is found without touching freed memory.
 */
#include "kernel.h"

#include <stdlib.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#endif
/* The plain build carves payloads out of chunks kept across runs instead of
 * calloc/free per block (malloc was ~8% of an exec). Not under ASan (its
 * allocator is the use-after-free oracle) nor TSan (a reused address would
 * keep the shadow of the previous run's accesses: malloc/free reset it).
 * ASan takes only pool_alloc_model_kept blocks (register blocks, framework
 * objects that outlive their deletion) from the chunks: they are never freed
 * within a run, so its allocator has no use after free to see there, and
 * its calloc of fresh blocks (page faults: the quarantine hands out new
 * memory) was ~15% of an ASan exec for the register blocks alone. The chunks
 * are poisoned but for the blocks taken, each followed by a poisoned gap, so
 * an overflow is still reported. */
#if !defined(POOL_ASAN) && !defined(TDF_TSAN_RUNTIME)
#define POOL_ARENA 1
#endif
#if defined(POOL_ARENA) || defined(POOL_ASAN)
#define POOL_CHUNKS 1
#endif
#ifdef POOL_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_GAP 32u /* poisoned bytes after each block, as ASan's own redzone */
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ARENA_GAP 0u
#endif

typedef struct block {
    void *p;
    size_t size;
    ULONG tag;
    struct tdf_image *owner; /* NULL: model memory */
    struct block *next;
    int in_arena; /* payload in an arena chunk: not freed, the chunk is reused */
} block_t;

static block_t *g_live;
static block_t *g_free_records;
static void **g_quarantine;
static size_t g_quarantine_len, g_quarantine_cap;

static block_t *record_new(void)
{
    block_t *b = g_free_records;
    if (b)
        g_free_records = b->next;
    else if (!(b = malloc(sizeof *b)))
        abort();
    return b;
}

#ifdef POOL_CHUNKS
/* Chunks of ARENA_CHUNK bytes, allocated on first need and kept; a run
 * takes payloads from them in order and pool_reset rewinds to the first.
 * Freed payloads are not reused within the run (as the quarantine below: a
 * stale pointer reads 0xDD). Blocks over ARENA_CHUNK / 4 get their own calloc. */
#define ARENA_CHUNK (256u * 1024u)
#define ARENA_MAX_CHUNKS 4096 /* 1 GiB: past it, calloc as before */
static uint8_t *g_chunks[ARENA_MAX_CHUNKS];
static unsigned g_chunk, g_nchunks; /* chunk in use; chunks allocated */
static size_t g_chunk_used;

static void *arena_take(size_t size)
{
    size_t need = ((size + 15u) & ~(size_t)15u) + ARENA_GAP; /* malloc's alignment */
    if (need > ARENA_CHUNK / 4)
        return NULL;
    if (g_nchunks && g_chunk_used + need > ARENA_CHUNK) {
        g_chunk++;
        g_chunk_used = 0;
    }
    if (g_chunk >= g_nchunks) {
        if (g_nchunks == ARENA_MAX_CHUNKS || !(g_chunks[g_nchunks] = malloc(ARENA_CHUNK)))
            return NULL;
        ASAN_POISON_MEMORY_REGION(g_chunks[g_nchunks], ARENA_CHUNK); /* unpoisoned block by block */
        g_chunk = g_nchunks++;
        g_chunk_used = 0;
    }
    void *p = g_chunks[g_chunk] + g_chunk_used;
    g_chunk_used += need;
    ASAN_UNPOISON_MEMORY_REGION(p, size);
    return memset(p, 0, size); /* calloc's contract: a block starts zeroed */
}

/* Rewinds to the first chunk (pool_reset). ASan: the blocks of the run
 * poisoned again, so that a pointer kept from this run reads a poisoned
 * byte in the next. */
static void arena_rewind(void)
{
    for (unsigned c = 0; g_nchunks && c <= g_chunk; c++)
        ASAN_POISON_MEMORY_REGION(g_chunks[c], c == g_chunk ? g_chunk_used : ARENA_CHUNK);
    g_chunk = 0;
    g_chunk_used = 0;
}
#endif

/* kept: the caller never frees the block before pool_reset
 * (pool_alloc_model_kept), so ASan may take it from the chunks too. */
static void *alloc(size_t size, ULONG tag, struct tdf_image *owner, int kept)
{
    /* Footprints (sched.h): the pool's list and addresses follow the order
     * of allocations, so a step that allocates commutes with none. */
    sched_step_touch(NULL, SCHED_FP_GLOBAL);
    block_t *b = record_new();
    b->p = NULL;
    (void)kept;
#if defined(POOL_ARENA)
    b->p = arena_take(size ? size : 1);
#elif defined(POOL_ASAN)
    if (kept)
        b->p = arena_take(size ? size : 1);
#endif
    b->in_arena = b->p != NULL;
    if (!b->p)
        b->p = calloc(1, size ? size : 1);
    if (!b->p)
        abort();
    b->size = size;
    b->tag = tag;
    b->owner = owner;
    b->next = g_live;
    g_live = b;
    return b->p;
}

__attribute__((unused)) static void quarantine_push(void *p)
{
    if (g_quarantine_len == g_quarantine_cap) {
        g_quarantine_cap = g_quarantine_cap ? g_quarantine_cap * 2 : 256;
        g_quarantine = realloc(g_quarantine, g_quarantine_cap * sizeof *g_quarantine);
        if (!g_quarantine)
            abort();
    }
    g_quarantine[g_quarantine_len++] = p;
}

/* The link (g_live or a record's next) that points to p's live record, or
 * NULL: one walk for a free, which checks the block and then unlinks it. */
static block_t **find_link(const void *p)
{
    for (block_t **pp = &g_live; *pp; pp = &(*pp)->next)
        if ((*pp)->p == p)
            return pp;
    return NULL;
}

/* Removes p from the live list; returns its record or NULL. */
static block_t *unlink_block(void *p)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* a free: teardown (sched.h "Footprints") */
    for (block_t **pp = &g_live; *pp; pp = &(*pp)->next) {
        if ((*pp)->p == p) {
            block_t *b = *pp;
            *pp = b->next;
            return b;
        }
    }
    return NULL;
}

/* The free as the teardown of a KDPC/KTIMER inside the block (the fatal
 * pair, docs/REPORTS.md): the driver routine that called ExFreePool, or the
 * framework's free of an object context at its destroy ("object destroyed",
 * as a destroyed handle keys). Called only by a check that fails: a clean
 * free stores nothing. */
const tdf_teardown_t *pool_note_free(int driver_free)
{
    static tdf_teardown_t freed; /* one failure per run: the first check that fails stops it */
    if (driver_free)
        tdf_teardown_note(&freed, "ExFreePool");
    else
        tdf_teardown_note_fn(&freed, "object destroyed", NULL, NULL);
    freed.trace_index = UINT64_MAX; /* no trace event of its own */
    return &freed;
}

/* Verifier's checks of a free, while the block is still live: a check that
 * fails stops the run with the block on the live list, so pool_reset still
 * releases it (a block unlinked first would leak). 0xC7: freed memory must
 * hold no queued KDPC or set KTIMER (the kernel would later run or expire it
 * from freed memory); 0xE4: nor a queued work item (driver frees only). */
static void check_free(const block_t *b, int driver_free)
{
    if (driver_free)
        work_queue_check_free(b->p, b->size);
    dpc_check_free(b->p, b->size, driver_free);
    ke_timer_check_free(b->p, b->size, driver_free);
}

#ifdef POOL_ASAN
/* The last blocks freed for real, with who freed them: ASan's report of a
 * later use gives the address, and pool_freed_at turns it into the pool's
 * dead object and teardown, so a use of freed pool keys as the model's own
 * oracles key it (docs/REPORTS.md "Signatures"), whichever of the two saw it
 * first. ASan build only: the plain build cannot see such a use. */
#define FREED_RING 64
static struct freed_block {
    const uint8_t *lo, *hi;
    const struct tdf_image *owner;
    tdf_teardown_t freed_by;
} g_freed[FREED_RING];
static unsigned g_freed_next;

static void note_freed(const block_t *b, int driver_free)
{
    struct freed_block *f = &g_freed[g_freed_next++ % FREED_RING];
    f->lo = b->p;
    f->hi = (const uint8_t *)b->p + (b->size ? b->size : 1);
    f->owner = b->owner;
    if (driver_free)
        tdf_teardown_note(&f->freed_by, "ExFreePool");
    else
        tdf_teardown_note_fn(&f->freed_by, "object destroyed", NULL, NULL);
}
#else
static void note_freed(const block_t *b, int driver_free) { (void)b, (void)driver_free; }
#endif

int pool_freed_at(const void *addr, const struct tdf_image **owner, const tdf_teardown_t **freed_by)
{
#ifdef POOL_ASAN
    const uint8_t *a = addr;
    for (unsigned k = 1; k <= FREED_RING && k <= g_freed_next; k++) { /* newest first: the address's last owner */
        const struct freed_block *f = &g_freed[(g_freed_next - k) % FREED_RING];
        if (a >= f->lo && a < f->hi) {
            *owner = f->owner;
            *freed_by = &f->freed_by;
            return 1;
        }
    }
#else
    (void)addr, (void)owner, (void)freed_by;
#endif
    return 0;
}

static void release_payload(block_t *b, int driver_free)
{
    note_freed(b, driver_free);
#ifdef POOL_ASAN
    if (b->in_arena) /* a kept block a driver freed anyway: ExFreePool of its registers */
        ASAN_POISON_MEMORY_REGION(b->p, b->size ? b->size : 1);
    else
        free(b->p); /* ASan reports any later use, with both stacks */
#else
    memset(b->p, 0xDD, b->size); /* a stale read sees the same bytes in every run */
    if (!b->in_arena)
        quarantine_push(b->p);
#endif
    b->next = g_free_records;
    g_free_records = b;
}

/* Unlinks *link's record after check_free. The checks allocate nothing on
 * the way to a clean return, so *link is still the record; should a report
 * have put a block in front of it, the walk finds it again. */
static block_t *unlink_at(block_t **link, block_t *b)
{
    if (*link != b)
        return unlink_block(b->p);
    *link = b->next;
    return b;
}

void pool_free_deferred(void *p)
{
    block_t **link = find_link(p);
    if (!link)
        return;
    block_t *b = *link;
    check_free(b, 0);
    release_payload(unlink_at(link, b), 0);
}

void pool_reset(void)
{
#ifdef POOL_ASAN
    g_freed_next = 0;
#endif
    while (g_live) {
        block_t *b = g_live;
        g_live = b->next;
        if (!b->in_arena)
            free(b->p);
        b->next = g_free_records;
        g_free_records = b;
    }
    for (size_t i = 0; i < g_quarantine_len; i++)
        free(g_quarantine[i]);
    g_quarantine_len = 0;
#ifdef POOL_CHUNKS
    arena_rewind();
#endif
}

void *pool_alloc_model(size_t size) { return alloc(size, 0, NULL, 0); }
void *pool_alloc_model_kept(size_t size) { return alloc(size, 0, NULL, 1); }

size_t pool_leaks_of(const struct tdf_image *img, ULONG *first_tag, size_t *bytes)
{
    size_t n = 0;
    *bytes = 0;
    for (block_t *b = g_live; b; b = b->next) {
        if (b->owner != img)
            continue;
        *first_tag = b->tag; /* list is newest first: ends on the oldest */
        *bytes += b->size;
        n++;
    }
    return n;
}

/* The driver pool block holding p (not model memory: a framework object's
 * context is named by its device, rundown.c asks the wdf layer first). For
 * the trace's owner names only, off the exec path. */
const struct tdf_image *pool_owner_of(const void *p, ULONG *tag, size_t *offset)
{
    for (block_t *b = g_live; b; b = b->next) {
        if (b->owner && (const uint8_t *)p >= (const uint8_t *)b->p &&
            (const uint8_t *)p < (const uint8_t *)b->p + b->size) {
            *tag = b->tag;
            *offset = (size_t)((const uint8_t *)p - (const uint8_t *)b->p);
            return b->owner;
        }
    }
    return NULL;
}

PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    (void)Flags;
    ke_yield();
    struct tdf_image *img = image_current();
    if (img && img->state != TDF_IMAGE_LOADED)
        TDF_BUGCHECK(0xC4, 0x61, "DRIVER_VERIFIER_DETECTED_VIOLATION", "pool allocated by image '%s' during its unload",
                     img->name);
    return alloc(NumberOfBytes, Tag, img, 0);
}

PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    (void)PoolType;
    return ExAllocatePool2(POOL_FLAG_NON_PAGED, NumberOfBytes, Tag);
}

VOID ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    ke_yield();
    block_t **link = find_link(P);
    block_t *b = link ? *link : NULL;
    if (!b) {
        TDF_BUGCHECK(0xC2, 0x7, "BAD_POOL_CALLER", "ExFreePool of memory that is not allocated pool (double free?)");
        return;
    }
    if (Tag && b->tag != Tag) {
        TDF_BUGCHECK(0xC2, 0xA, "BAD_POOL_CALLER", "ExFreePoolWithTag with tag '%.4s' on a block tagged '%.4s'",
                     (const char *)&Tag, (const char *)&b->tag);
        return;
    }
    check_free(b, 1);
    release_payload(unlink_at(link, b), 1);
}

VOID ExFreePool(PVOID P) { ExFreePoolWithTag(P, 0); }
