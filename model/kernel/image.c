/*
 * Loaded images and the per-thread driver call stack.
 *
 * Every driver image is compiled with -finstrument-functions and its
 * __cyg_profile_func_enter/exit renamed to hooks of its own (CMake
 * tdf_add_image), so each function entry and exit in driver code lands here
 * knowing its image. That catches a call through a raw function pointer into
 * an unloaded driver at the call itself, as the kernel's page fault would
 * (docs/ARCHITECTURE.md "Images"; KERNEL-SEMANTICS §5 0xCE), with a full stack trace.
 */
#include "kernel.h"
#include "irp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 48

typedef struct frame {
    struct tdf_image *image;
    void *fn;
} frame_t;

typedef struct call_stack {
    unsigned depth; /* may exceed MAX_DEPTH: deeper frames are counted, not kept */
    unsigned callback_base; /* depth at which the framework entered the innermost callback (image_callback_begin) */
    unsigned completion_base; /* 1 + the depth at which the I/O manager entered the innermost IRP completion
                                 routine (image_completion_begin); 0: none */
    uint32_t checked_generation;
    /* The footprint of the step after the outermost driver routine returns
     * into the framework (image_set_return_footprint; GLOBAL unless set). */
    uint8_t ret_mode;
    /* The IRQL the outermost driver routine was entered at, and who checks
     * its return IRQL (image_irql_rule_begin; IRQL_RETURN_CALLBACK unless set). */
    uint8_t entry_irql;
    uint8_t irql_rule;
    const void *ret_obj;
    frame_t frames[MAX_DEPTH];
} call_stack_t;

static call_stack_t g_stacks[SCHED_SLOT_COUNT]; /* by slot (sched.h "Thread ids and slots") */
static struct tdf_image **g_images; /* grows: any number of images per target */
static unsigned g_image_count, g_image_cap;
static uint32_t g_unload_generation = 1;

static call_stack_t *stack_of(int fiber) { return &g_stacks[sched_fiber_index(fiber)]; }
/* The running thread's: inline, on every driver function entry and exit. */
static call_stack_t *my_stack(void) { return &g_stacks[sched_current_index()]; }

/* A slot's new thread has no driver frames. Its finished thread may have
 * left some: PsTerminateSystemThread ends a thread from inside driver code. */
static void stack_slot_reset(int slot)
{
    g_stacks[slot].depth = 0;
    g_stacks[slot].callback_base = 0; /* a run aborted inside a callback leaves it set */
    g_stacks[slot].completion_base = 0;
    g_stacks[slot].checked_generation = 0;
    g_stacks[slot].ret_mode = SCHED_FP_GLOBAL;
    g_stacks[slot].ret_obj = NULL;
    g_stacks[slot].irql_rule = IRQL_RETURN_CALLBACK;
}

void image_set_return_footprint(const void *object, unsigned mode)
{
    call_stack_t *s = my_stack();
    s->ret_obj = object;
    s->ret_mode = (uint8_t)mode;
}

/* sched_spawn reuses a finished thread's slot: every per-slot array of the
 * kernel starts clean for the new thread. */
static void kernel_slot_reuse(int slot)
{
    stack_slot_reset(slot);
    thread_slot_reset(slot);
    rundown_slot_reset(slot);
    wait_graph_slot_reset(slot);
}

static const frame_t *top_frame(const call_stack_t *s)
{
    unsigned d = s->depth < MAX_DEPTH ? s->depth : MAX_DEPTH;
    return d ? &s->frames[d - 1] : NULL;
}

static void frame_text(const frame_t *fr, char *buf, size_t size)
{
    if (fr)
        snprintf(buf, size, "%s!%s", fr->image->name, symbol_name(fr->fn));
    else
        snprintf(buf, size, "harness");
}

void image_register(struct tdf_image *img)
{
    for (unsigned i = 0; i < g_image_count; i++)
        if (g_images[i] == img)
            return;
    if (g_image_count == g_image_cap) {
        g_image_cap = g_image_cap ? 2 * g_image_cap : 16;
        g_images = realloc(g_images, g_image_cap * sizeof *g_images);
        if (!g_images) {
            fprintf(stderr, "==TDF== out of memory registering image '%s'\n", img->name);
            abort();
        }
    }
    g_images[g_image_count++] = img;
}

void kernel_reset(void)
{
    /* Only the counts: frames at and above depth are never read. (A memset
     * of the whole table was 50 KB per exec.) */
    for (int i = 0; i < SCHED_SLOT_COUNT; i++)
        stack_slot_reset(i);
    sched_set_slot_reuse_hook(kernel_slot_reuse);
    for (unsigned i = 0; i < g_image_count; i++) {
        g_images[i]->state = TDF_IMAGE_UNLOADED;
        g_images[i]->loads = 0;
        g_images[i]->unloaded_at = 0;
        g_images[i]->driver = NULL;
        tdf_teardown_clear(&g_images[i]->unloaded_by);
    }
    g_unload_generation = 1;
    thread_reset();
    spinlock_reset();
    lock_graph_reset();
    wait_graph_reset();
    rundown_reset();
    dpc_reset();
    ke_timer_reset();
    hw_reset();
    work_queue_reset();
    lookaside_reset();
    strings_reset();
    irp_reset();
    feedback_reset();
    pool_reset();
    tdf_failure_reset();
}

void image_load(struct tdf_image *img)
{
    img->state = TDF_IMAGE_LOADED;
    img->loads++;
    SCHED_TRACE2("load image %s (load #%lu)", img->name, (unsigned long)img->loads);
}

void image_unload(struct tdf_image *img)
{
    img->state = TDF_IMAGE_UNLOADED;
    img->unloaded_at = sched_steps();
    g_unload_generation++;
    SCHED_TRACE1("unload image %s", img->name);
    tdf_teardown_note(&img->unloaded_by, "unload image");

    /* Rule (KERNEL-SEMANTICS §3, last line): no thread may still execute in an
     * image when it unloads. A thread blocked or preempted inside it would
     * fault on its next instruction there. */
    for (int f = 0; f < sched_fiber_count(); f++) {
        sched_state_t st = sched_fiber_state(f);
        if (st == SCHED_DONE || st == SCHED_FREE)
            continue;
        call_stack_t *s = stack_of(f);
        unsigned d = s->depth < MAX_DEPTH ? s->depth : MAX_DEPTH;
        for (unsigned i = d; i-- > 0;) {
            if (s->frames[i].image != img)
                continue;
            char where[96], caller[96], entry[96];
            frame_text(&s->frames[i], where, sizeof where);
            snprintf(caller, sizeof caller, "thread:%s", sched_fiber_owner(f));
            /* The key's access: the routine the thread entered the image
             * with (the outermost of its frames there), stable whichever
             * inner routine it was preempted in. */
            unsigned e = i;
            while (e > 0 && s->frames[e - 1].image == img)
                e--;
            frame_text(&s->frames[e], entry, sizeof entry);
            /* The access side is that thread, not the unloading one: its
             * frame, its step (now), the trace event of the failure. */
            tdf_dead_t dead = {TDF_OBJ_IMAGE, img->name, &img->unloaded_by, "image %s (thread %s still inside)",
                               {(uintptr_t)img->name, (uintptr_t)sched_fiber_name(f)}, .access_fiber = f + 1,
                               .access_frame = entry, .key_teardown = "unload"};
            /* Inside an IRP completion routine of this image whose IRP went
             * to a device the image let go of: that release without a wait
             * is the key (irp.h io_device_released_dead). */
            char released[96];
            uint32_t completed_at;
            PDEVICE_OBJECT sent_to = irp_completion_sent_to(f, &completed_at);
            if (image_completion_entry(f, img, NULL, 0))
                io_device_released_dead(&dead, sent_to, completed_at, img, released, sizeof released);
            tdf_fail_dead(&dead, st == SCHED_BLOCKED ? "blocked inside" : "preempted inside", TDF_CLASS_BUGCHECK,
                          0xCE, 0, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where, caller,
                          "image '%s' unloaded while thread '%s' still executes in %s (%s)", img->name,
                          sched_fiber_name(f), where, st == SCHED_BLOCKED ? "blocked there" : "preempted there");
            return;
        }
    }
    /* Driver Verifier's 0xCE list: DPCs and timers not cancelled before unload. */
    ke_timer_unload_check(img); /* first: a set timer is the cause of the DPC it queued */
    dpc_unload_check(img);
    if (tdf_failure())
        return;
    /* Pending operations of the image's own objects (KERNEL-SEMANTICS §9),
     * before the pool check: their memory is usually the pool left over. */
    work_queue_check_unload(img);
    lookaside_check_unload(img);
    irp_unload_check(img); /* KERNEL-SEMANTICS §16: IRPs holding its cancel or completion routines */
    if (tdf_failure())
        return;
    ULONG tag = 0;
    size_t bytes = 0;
    size_t leaks = pool_leaks_of(img, &tag, &bytes);
    if (leaks) {
        char where[96];
        snprintf(where, sizeof where, "%s!unload", img->name);
        tdf_dead_t dead = {TDF_OBJ_POOL, img->name, &img->unloaded_by, "pool of image %s (tag '%.4s')",
                           {(uintptr_t)img->name, (uintptr_t)&tag}, .key_teardown = "unload"};
        tdf_fail_dead(&dead, "left allocated", TDF_CLASS_BUGCHECK, 0xC4, 0x62, "DRIVER_VERIFIER_DETECTED_VIOLATION",
                 where, "pool",
                 "image '%s' unloaded with %zu pool allocation(s) still allocated (%zu bytes, first tag '%.4s')",
                 img->name, leaks, bytes, (const char *)&tag);
    }
}

const struct tdf_image *image_current_fn(const void **fn)
{
    const frame_t *fr = top_frame(my_stack());
    *fn = fr ? fr->fn : NULL;
    return fr ? fr->image : NULL;
}

struct tdf_image *image_current(void)
{
    const frame_t *fr = top_frame(my_stack());
    return fr ? fr->image : NULL;
}

const char *image_current_frame(char *buf, size_t size)
{
    frame_text(top_frame(my_stack()), buf, size);
    return buf;
}

const char *image_caller_frame(char *buf, size_t size)
{
    const call_stack_t *s = my_stack();
    unsigned d = s->depth < MAX_DEPTH ? s->depth : MAX_DEPTH;
    if (d == 0) {
        snprintf(buf, size, "thread:%s", sched_fiber_owner(sched_current()));
        return buf;
    }
    const frame_t *top = &s->frames[d - 1];
    /* Frames below the callback base belong to whoever made the framework
     * call the callback (the driver that completed a request, for its
     * sender's completion routine): the callback was entered from the
     * framework, the thread's role is the other side. */
    unsigned base = s->callback_base < d ? s->callback_base : 0;
    for (unsigned i = d - 1; i-- > base;) {
        if (s->frames[i].image != top->image) {
            frame_text(&s->frames[i], buf, size);
            return buf;
        }
    }
    /* Entered from the harness: the thread's role is the other side. */
    snprintf(buf, size, "thread:%s", sched_fiber_owner(sched_current()));
    return buf;
}

unsigned image_callback_begin(void)
{
    call_stack_t *s = my_stack();
    unsigned old = s->callback_base;
    s->callback_base = s->depth;
    return old;
}

void image_callback_end(unsigned saved) { my_stack()->callback_base = saved; }

unsigned image_completion_begin(void)
{
    call_stack_t *s = my_stack();
    unsigned old = s->completion_base;
    s->completion_base = s->depth + 1;
    return old;
}

void image_completion_end(unsigned saved) { my_stack()->completion_base = saved; }

int image_completion_entry(int fiber, const struct tdf_image *img, char *entry, size_t size)
{
    const call_stack_t *s = stack_of(fiber);
    if (!s->completion_base)
        return 0;
    unsigned i = s->completion_base - 1; /* the routine's own frame */
    if (i >= s->depth || i >= MAX_DEPTH || s->frames[i].image != img)
        return 0;
    frame_text(&s->frames[i], entry, size);
    return 1;
}

int image_cross_entry(int fiber, const char *callee, char *entry, size_t size)
{
    const call_stack_t *s = stack_of(fiber);
    unsigned d = s->depth < MAX_DEPTH ? s->depth : MAX_DEPTH;
    unsigned base = s->callback_base < d ? s->callback_base : 0;
    for (unsigned i = d; i-- > base;) {
        if (!s->frames[i].image || strcmp(s->frames[i].image->name, callee) != 0)
            continue;
        unsigned e = i; /* the outermost of that run of callee frames */
        while (e > base && s->frames[e - 1].image == s->frames[i].image)
            e--;
        if (e == base || !s->frames[e - 1].image)
            return 0; /* entered from the harness or the framework */
        frame_text(&s->frames[e], entry, size);
        return 1;
    }
    return 0;
}

const struct tdf_image *image_caller_of(int fiber, const char *callee, char *caller, size_t size)
{
    const call_stack_t *s = stack_of(fiber);
    unsigned d = s->depth < MAX_DEPTH ? s->depth : MAX_DEPTH;
    unsigned i = d;
    while (i > 0 && strcmp(s->frames[i - 1].image->name, callee) != 0)
        i--; /* to the innermost run of callee frames */
    while (i > 0 && strcmp(s->frames[i - 1].image->name, callee) == 0)
        i--; /* past it */
    if (i == 0)
        return NULL;
    frame_text(&s->frames[i - 1], caller, size);
    return s->frames[i - 1].image;
}

int image_calling_from_driver(const char *callee)
{
    const call_stack_t *s = my_stack();
    unsigned d = s->depth < MAX_DEPTH ? s->depth : MAX_DEPTH;
    unsigned base = s->callback_base < d ? s->callback_base : 0;
    if (d == 0 || d <= base)
        return 0; /* the harness or the framework is calling */
    const frame_t *top = &s->frames[d - 1];
    return top->image && strcmp(top->image->name, callee) != 0;
}

void image_fiber_stack(int fiber, char *buf, size_t size)
{
    const call_stack_t *s = stack_of(fiber);
    unsigned d = s->depth < MAX_DEPTH ? s->depth : MAX_DEPTH;
    size_t used = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < d && used + 1 < size; i++) {
        char fr[96];
        frame_text(&s->frames[i], fr, sizeof fr);
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " > " : "", fr);
    }
    if (d == 0)
        snprintf(buf, size, "(no driver frames)");
}

const struct tdf_image *image_fiber_outer(int fiber)
{
    const call_stack_t *s = stack_of(fiber);
    return s->depth ? s->frames[0].image : NULL;
}

void image_fiber_entry(int fiber, char *buf, size_t size)
{
    const call_stack_t *s = stack_of(fiber);
    frame_text(s->depth ? &s->frames[0] : NULL, buf, size);
}

/* check_resumed's scan, out of line: it runs once per thread per unload
 * (the generation moved), while the test in check_resumed runs at every
 * yield; inlined, this body's frame (the message buffer) would be set up at
 * every yield too. */
__attribute__((noinline)) static void check_resumed_scan(call_stack_t *s)
{
    s->checked_generation = g_unload_generation;
    unsigned d = s->depth < MAX_DEPTH ? s->depth : MAX_DEPTH;
    for (unsigned i = d; i-- > 0;) {
        if (s->frames[i].image->state == TDF_IMAGE_LOADED)
            continue;
        char where[96];
        frame_text(&s->frames[i], where, sizeof where);
        struct tdf_image *img = s->frames[i].image;
        tdf_dead_t dead = {TDF_OBJ_IMAGE, img->name, &img->unloaded_by, NULL, {0}, .key_teardown = "unload"};
        tdf_fail_dead(&dead, "resumed inside", TDF_CLASS_BUGCHECK, 0xCE, 0,
                      "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where, NULL,
                      "thread '%s' resumed in %s after image '%s' unloaded", sched_fiber_name(sched_current()), where,
                      img->name);
    }
}

/* After a switch: did an image we are executing in unload meanwhile? Every
 * unload bumps g_unload_generation, so a thread whose stack was checked at
 * the current generation has nothing to look at. */
static inline void check_resumed(void)
{
    call_stack_t *s = my_stack();
    if (__builtin_expect(s->checked_generation != g_unload_generation, 0))
        check_resumed_scan(s);
}

/* An unannotated yield (a GLOBAL step for the systematic search). */
void ke_yield(void) { ke_yield_on(NULL, SCHED_FP_GLOBAL); }

void ke_yield_on(const void *object, unsigned mode)
{
    if (g_clock_waiting)
        ke_clock_step(); /* a periodic timer's next period counts ordinary steps */
    sched_yield_point_on(object, mode);
    check_resumed();
}

int ke_block_on(const void *object, const char *what, int timed, const void *fp_obj, unsigned fp_mode)
{
    int timed_out = sched_block_on(object, what, timed, fp_obj, fp_mode);
    check_resumed();
    return timed_out;
}

void ke_block(const void *object, const char *what)
{
    sched_block(object, what);
    check_resumed();
}

int ke_block_timed(const void *object, const char *what)
{
    int timed_out = sched_block_timed(object, what);
    check_resumed();
    return timed_out;
}

/* ---- the hooks (declared in image.h) ------------------------------------------- */

/* The hooks' slow paths: a call or return across images (a yield point),
 * an unloaded image, a stack at or past MAX_DEPTH. Out of line so that the
 * fast paths below (a call or return inside one loaded image, most of the
 * hooks' calls) set up no frame for the message buffers. */
__attribute__((noinline)) static void image_enter_slow(call_stack_t *s, struct tdf_image *img, void *fn)
{
    const frame_t *caller = top_frame(s);
    int cross = !caller || caller->image != img;
    if (cross) {
        /* A call from another image (or from the harness) is a yield point
         * right before the callee's first instruction: the window between
         * fetching a function pointer and executing its target. The step it
         * starts is driver code up to its next shim call, which yields
         * first: plain accesses (the search's data-race-free assumption,
         * docs/INPUT.md "dfs") and this image's state, which only GLOBAL
         * steps (unload) write: footprint NONE. */
        ke_yield_on(NULL, SCHED_FP_NONE);
    }
    if (img->state != TDF_IMAGE_LOADED) {
        char where[96], from[96];
        snprintf(where, sizeof where, "%s!%s", img->name, symbol_name(fn));
        frame_text(caller, from, sizeof from);
        if (!caller)
            snprintf(from, sizeof from, "thread:%s", sched_fiber_owner(sched_current()));
        tdf_dead_t dead = {TDF_OBJ_IMAGE, img->name, &img->unloaded_by, NULL, {0}, .key_teardown = "unload"};
        tdf_fail_dead(&dead, "call", TDF_CLASS_BUGCHECK, 0xCE, 0, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where, from,
                 "call into unloaded image '%s' (%s, unloaded at step %lu) from %s", img->name, where,
                 (unsigned long)img->unloaded_at, from);
    }
    if (!caller) /* entered from the framework or the harness: its return must restore this */
        s->entry_irql = ke_irql();
    if (s->depth < MAX_DEPTH)
        s->frames[s->depth] = (frame_t){img, fn};
    else /* deeper frames would be invisible to the unload check (0xCE) */
        TDF_LIMIT(MAX_DEPTH, "model/kernel/image.c", "a thread's driver call stack is deeper, at %s!%s", img->name,
                  symbol_name(fn));
    s->depth++;
    if (cross)
        SCHED_TRACE2("-> %s!%s", img->name, symbol_name(fn));
}

void tdf_image_enter(struct tdf_image *img, void *fn, void *call_site)
{
    (void)call_site;
    call_stack_t *s = my_stack();
    unsigned d = s->depth;
    /* Fast path, as image_enter_slow would do it: the caller's frame
     * (frames[d - 1], kept as d <= MAX_DEPTH) is of this image, so no
     * yield and no trace; the image is loaded, so no 0xCE; d < MAX_DEPTH,
     * so the frame is kept. */
    if (__builtin_expect(d - 1u < MAX_DEPTH - 1u && s->frames[d - 1].image == img && img->state == TDF_IMAGE_LOADED,
                         1)) {
        s->frames[d] = (frame_t){img, fn};
        s->depth = d + 1;
        return;
    }
    image_enter_slow(s, img, fn);
}

/* The outermost driver routine returns at another IRQL than it was entered
 * at (docs/LIFECYCLE.md rule 160): a spin lock still held, or released with
 * another old IRQL than its acquire returned, a lock released that the
 * routine did not take.
 * The code is the check that catches it in Windows, by who called the
 * routine (image_irql_rule_begin). */
__attribute__((noinline, cold)) static void irql_return_fail(const call_stack_t *s, const struct tdf_image *img,
                                                            void *fn)
{
    char where[96], held[160], still[200] = "";
    snprintf(where, sizeof where, "%s!%s", img->name, symbol_name(fn));
    if (lock_graph_held_by(sched_current(), held, sizeof held))
        snprintf(still, sizeof still, "; still held: %s", held);
    unsigned now = ke_irql(), then = s->entry_irql;
    switch ((irql_return_rule_t)s->irql_rule) {
    case IRQL_RETURN_WORKER:
        tdf_fail(TDF_CLASS_BUGCHECK, 0xE1, 0, "WORKER_THREAD_RETURNED_AT_BAD_IRQL", where, NULL,
                 "%s returned at IRQL %u into the system worker thread that called it at IRQL %u%s", where, now, then,
                 still);
        break;
    case IRQL_RETURN_SYSTEM_THREAD:
        tdf_fail(TDF_CLASS_BUGCHECK, 0x20, 0, "KERNEL_APC_PENDING_DURING_EXIT", where, NULL,
                 "system thread start routine %s returned at IRQL %u: the thread exits above PASSIVE_LEVEL%s", where,
                 now, still);
        break;
    case IRQL_RETURN_STIMULUS:
        tdf_fail(TDF_CLASS_BUGCHECK, 0x4A, 0, "IRQL_GT_ZERO_AT_SYSTEM_SERVICE", where, NULL,
                 "%s, called for an outside caller at IRQL %u, returned at IRQL %u%s", where, then, now, still);
        break;
    default: /* a KMDF event callback: the framework's verifier compares its entry and exit IRQL */
        tdf_fail(TDF_CLASS_BUGCHECK, 0x10D, 0xE, "WDF_VIOLATION", where, NULL,
                 "WDF_VERIFIER_IRQL_MISMATCH: event callback %s entered at IRQL %u returned at IRQL %u%s", where, then,
                 now, still);
        break;
    }
}

unsigned image_irql_rule_begin(irql_return_rule_t rule)
{
    call_stack_t *s = my_stack();
    unsigned old = s->irql_rule;
    s->irql_rule = (uint8_t)rule;
    return old;
}

void image_irql_rule_end(unsigned saved) { my_stack()->irql_rule = (uint8_t)saved; }

__attribute__((noinline)) static void image_exit_slow(call_stack_t *s, struct tdf_image *img, void *fn)
{
    if (s->depth == 0)
        return; /* a frame entered before this run's reset: ignore */
    /* Frames deeper than MAX_DEPTH are counted, not kept: no yield for them. */
    const frame_t *self = s->depth <= MAX_DEPTH ? &s->frames[s->depth - 1] : NULL;
    const frame_t *caller = self && s->depth >= 2 ? &s->frames[s->depth - 2] : NULL;
    if (self && self->image == img && (!caller || caller->image != img)) {
        /* A return across images (or into the framework/harness) is a yield
         * point while the frame is still ours: the epilogue and the return
         * instruction execute in this image, so an unload that another
         * thread completes now catches this thread inside it (0xCE), as the
         * kernel's page fault on the next instruction would. Into another
         * driver image the step is driver code (footprint NONE, as on
         * entry); into the framework or the harness it is model code that
         * may touch anything before its next yield: GLOBAL, unless the
         * thread's framework code named what it does there
         * (image_set_return_footprint). */
        if (caller) {
            ke_yield_on(NULL, SCHED_FP_NONE);
        } else {
            /* Checked before the yield: the report's step is the return. */
            if (__builtin_expect(ke_irql() != s->entry_irql, 0) && s->irql_rule != IRQL_RETURN_CALLER)
                irql_return_fail(s, img, fn);
            ke_yield_on(s->ret_obj, s->ret_mode);
        }
    }
    s->depth--;
    const frame_t *back = top_frame(s);
    if (back && back->image != img && back->image->state != TDF_IMAGE_LOADED) {
        char where[96];
        frame_text(back, where, sizeof where);
        tdf_dead_t dead = {TDF_OBJ_IMAGE, back->image->name, &back->image->unloaded_by, NULL, {0},
                           .key_teardown = "unload"};
        tdf_fail_dead(&dead, "return", TDF_CLASS_BUGCHECK, 0xCE, 0, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where, NULL,
                 "return from %s!%s into unloaded image '%s' (%s)", img->name, symbol_name(fn), back->image->name,
                 where);
    }
}

void tdf_image_exit(struct tdf_image *img, void *fn, void *call_site)
{
    (void)call_site;
    call_stack_t *s = my_stack();
    unsigned d = s->depth;
    /* Fast path, as image_exit_slow would do it: this frame and its caller's
     * (both kept: 2 <= d <= MAX_DEPTH) are of this image, so the return
     * crosses no image (no yield), and the unload check is for a return
     * into another image only. */
    if (__builtin_expect(d - 2u < MAX_DEPTH - 1u && s->frames[d - 1].image == img && s->frames[d - 2].image == img, 1)) {
        s->depth = d - 1;
        return;
    }
    image_exit_slow(s, img, fn);
}
