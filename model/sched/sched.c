/*
 * Deterministic fiber scheduler. One fiber runs at a time; control changes
 * hands only at yield points, blocks and fiber exits, and the next fiber is
 * picked by the choice source. The main (non-fiber) context runs sched_run()
 * and gets control back once the run is over.
 *
 * This file is compiled without TSan instrumentation in the TSan build: its
 * bookkeeping is touched by every fiber with no modelled happens-before, and
 * must not be reported (docs/ARCHITECTURE.md "TSan").
 */
#include "sched.h"
#include "context.h"
#include "sanitizer_fiber.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define STACK_SIZE (256u * 1024u) /* sanitizer frames are large */
#define CHOICE_LOG_MAX (1u << 17)
#define STEP_LOG_MAX CHOICE_LOG_MAX

typedef struct fiber {
    sched_ctx_t ctx;
    sched_state_t state;
    int thread; /* the id (per-run serial) of the thread in this slot now */
    sched_fiber_fn *fn;
    void *arg;
    const void *wait_object;
    const char *wait_reason;
    uint8_t wait_timed;
    uint8_t timed_out;
    uint8_t local_step; /* yielded at sched_yield_point_local, not resumed since */
    uint8_t daemon;     /* sched_set_daemon: its blocked state is idleness, not a deadlock */
    uint8_t start_mode; /* sched_set_start_footprint (SCHED_FP_GLOBAL unless set) */
    const void *start_obj;
    void *slot;
    uint64_t pct_priority; /* PCT: change point i sets i (1..d-1), initial ones are above d-1 */
    /* stack: mapped once per slot, reused by later runs */
    void *stack_lo;
    size_t stack_size;
    void *asan_fake_stack;
    void *tsan_fiber;
} fiber_t;

static struct {
    sched_config_t config;
    fiber_t fibers[SCHED_MAX_FIBERS];
    int count; /* slots used this run: 0..count-1 (a slot, once used, stays used) */
    /* Every thread of the run by id: ids are handed out in spawn order and
     * never reused, slots are (sched.h "Thread ids and slots"). Grows (kept
     * over runs): a few hundred threads per run at most in practice. */
    struct sched_thread {
        const char *name;
        const char *owner;
        int16_t slot;
    } *threads;
    int nthreads, threads_cap;
    /* Bit i: fiber i is SCHED_BLOCKED / SCHED_RUNNABLE, kept by every state
     * change (set_state): sched_wake visits only the blocked fibers and
     * pick_next reads the runnable set, both on the hot path. */
    uint64_t blocked, runnable;
    /* Bit i of wait_bucket[wait_bucket_of(o)]: fiber i blocked on o (set by
     * wait_on). sched_wake(o) visits only blocked & that bucket instead of
     * every blocked fiber. A bit may outlive its wait (cleared when a wake
     * finds it, not at a timeout): the bucket is a superset, filtered by
     * `blocked` and the wait_object compare, so a stale bit costs a compare. */
    uint64_t wait_bucket[64];
    sched_ctx_t main_ctx;
    const void *main_stack_bottom;
    size_t main_stack_size;
    void *main_asan_fake_stack;
    void *main_tsan_fiber;
    sched_outcome_t outcome;
    uint32_t steps;
    /* BYTES source */
    size_t bytes_left;
    uint32_t countdown;
    /* RANDOM / PCT */
    uint64_t rng;
    uint32_t pct_change_points[8]; /* choice point numbers 1..k; 0: none */
    uint8_t pct_tail_started; /* SCHED_TAIL_PCT: change points drawn (first choice past the bytes) */
    uint32_t choice_points; /* fiber choice points so far (PCT's step count) */
    /* REPLAY */
    size_t replay_pos;
    /* log + trace */
    sched_choice_t *log;
    size_t log_len;
    /* CHOICE_LOG_MAX, or 0 in a run nobody reads the record of (config.no_trace
     * without keep_full_trace): such a run logs no choice (log_dropped is set at
     * the first one) and takes most of its choices in yield_fast. */
    size_t log_cap;
    int log_dropped;
    sched_trace_event_t ring[SCHED_TRACE_RING];
    sched_trace_event_t *full;
    size_t full_cap;
    uint64_t trace_total;
    /* footprints (sched.h): the steps so far and the one running */
    sched_step_t *slog;
    size_t slog_len;
    int slog_dropped;
    int step_open;
    sched_step_t step_cur;
} S;

/* sched_source_t.footprints for this run (never with the stress backend). */
int sched_footprints_on;

/* The running thread (SCHED_NO_FIBER while main runs): its id, a per-run
 * serial, and the slot it runs in (sched.h "Thread ids and slots"); globals
 * of their own so that sched_current() and sched_current_index() are inline
 * loads, called at every driver function entry and exit. */
int sched_current_fiber = SCHED_NO_FIBER;
int sched_current_slot = SCHED_NO_FIBER;
/* 0: sched_trace records nothing and SCHED_TRACE* do not evaluate their
 * arguments (sched.h); set by sched_reset from config.no_trace. */
int sched_trace_enabled = 1;

#ifdef TDF_TSAN
/* The TSan negative control, environment TDF_TSAN_ANNOTATIONS (read once):
 *   1 (or unset)  fibers are TSan fibers, modelled primitives publish
 *                 happens-before: TSan reports the races no primitive orders;
 *   nohb          fibers without happens-before: every pair of accesses from
 *                 two model threads is reported, ordered or not;
 *   0             neither: every model thread is the one OS thread to TSan,
 *                 which then cannot report a race between them.
 * tests/tsan_only shows the mutant status_unlocked is found only with 1. */
int tdf_tsan_fibers_on = 1, tdf_tsan_hb_on = 1;
static void tsan_annotations_init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    const char *v = getenv("TDF_TSAN_ANNOTATIONS");
    if (!v || !*v || strcmp(v, "1") == 0)
        return;
    if (strcmp(v, "0") == 0) {
        tdf_tsan_fibers_on = tdf_tsan_hb_on = 0;
    } else if (strcmp(v, "nohb") == 0) {
        tdf_tsan_hb_on = 0;
    } else {
        fprintf(stderr, "==TDF== TDF_TSAN_ANNOTATIONS=%s: expected 1 (default), nohb or 0\n", v);
        exit(2);
    }
    fprintf(stderr, "==TDF== note: TDF_TSAN_ANNOTATIONS=%s: %s (a negative control, not a fuzzing mode)\n", v,
            tdf_tsan_fibers_on ? "fibers without modelled happens-before" : "no TSan fibers, no happens-before");
}
#else
static void tsan_annotations_init(void) {}
#endif

/* The stress backend (stress.c, included below): the same table, other switching. */
static int stress_on(void) { return __builtin_expect(S.config.source.kind == SCHED_SOURCE_STRESS, 0); }
static void stress_reset(void);
static int stress_spawn(const char *name, const char *owner, sched_fiber_fn *fn, void *arg);
static sched_outcome_t stress_run(void);
static void stress_yield(int local);
static int stress_block(const void *object, const char *what, int timed);
static void stress_kick(int id);
__attribute__((noreturn)) static void stress_abort_run(void);
__attribute__((noreturn)) static void stress_exit_fiber(void);

static void set_current(int slot)
{
    sched_current_slot = slot;
    sched_current_fiber = slot == SCHED_NO_FIBER ? SCHED_NO_FIBER : S.fibers[slot].thread;
}

/* The slot thread `id` runs in now, or -1: main, no such thread, or one that
 * finished and whose slot a later thread took. */
static int live_slot(int id)
{
    if (id < 0 || id >= S.nthreads)
        return -1;
    int slot = S.threads[id].slot;
    return S.fibers[slot].thread == id ? slot : -1;
}

/* Gives the next thread id to a new thread in `slot`. Precondition: the
 * table has room (S.nthreads < SCHED_MAX_THREADS). */
static int thread_register(int slot, const char *name, const char *owner)
{
    if (S.nthreads == S.threads_cap) {
        int cap = S.threads_cap ? 2 * S.threads_cap : 256;
        struct sched_thread *t = realloc(S.threads, (size_t)cap * sizeof *t);
        if (!t) {
            fprintf(stderr, "==TDF== HARNESS out of memory for the thread table\n");
            abort();
        }
        S.threads = t, S.threads_cap = cap;
    }
    int id = S.nthreads++;
    S.threads[id] = (struct sched_thread){name, owner, (int16_t)slot};
    S.fibers[slot].thread = id;
    return id;
}

static sched_slot_reuse_fn *g_slot_reuse_hook;
void sched_set_slot_reuse_hook(sched_slot_reuse_fn *fn) { g_slot_reuse_hook = fn; }

static void set_state(int id, sched_state_t state)
{
    uint64_t bit = 1ull << id;
    S.fibers[id].state = state;
    S.blocked = state == SCHED_BLOCKED ? S.blocked | bit : S.blocked & ~bit;
    S.runnable = state == SCHED_RUNNABLE ? S.runnable | bit : S.runnable & ~bit;
}

static unsigned wait_bucket_of(const void *object)
{
    return (unsigned)(((uintptr_t)object * 0x9E3779B97F4A7C15ull) >> 58); /* 0..63, the top bits mix best */
}

/* The running fiber `id` waits on `object` from now on (block, stress_block). */
static void wait_on(int id, const void *object)
{
    set_state(id, SCHED_BLOCKED);
    S.fibers[id].wait_object = object;
    S.wait_bucket[wait_bucket_of(object)] |= 1ull << id;
}

/* ---- randomness for the seeded sources ---------------------------------- */
static uint64_t rng_next(void)
{
    /* xorshift64*: tiny, deterministic, good enough for schedule sampling */
    uint64_t x = S.rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    S.rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static unsigned rng_below(unsigned n) { return (unsigned)(rng_next() % n); }

/* ---- setup ------------------------------------------------------------- */
static void fiber_stack_ensure(fiber_t *f)
{
    static size_t page;
    if (!page)
        page = (size_t)sysconf(_SC_PAGESIZE);
#ifdef TDF_TSAN
    /* TSan keeps shadow state for stack memory: a reused stack would look
     * like another fiber's frames racing with the old ones. A fresh mapping
     * (munmap/mmap are intercepted) starts with clean shadow. */
    if (f->stack_lo) {
        munmap((uint8_t *)f->stack_lo - page, f->stack_size + page);
        f->stack_lo = NULL;
    }
#endif
    if (f->stack_lo)
        return;
    /* One inaccessible guard page below the stack: overflow faults at once. */
    uint8_t *map = mmap(NULL, STACK_SIZE + page, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
        fprintf(stderr, "==TDF== HARNESS fiber stack mmap failed\n");
        abort();
    }
    mprotect(map, page, PROT_NONE);
    f->stack_lo = map + page;
    f->stack_size = STACK_SIZE;
}

void sched_reset(const sched_config_t *config)
{
    tsan_annotations_init();
    for (int i = 0; i < S.count; i++) {
        fiber_t *f = &S.fibers[i];
        tdf_tsan_destroy_fiber(f->tsan_fiber);
        f->tsan_fiber = NULL;
        f->state = SCHED_FREE;
    }
    S.config = *config;
    if (S.config.step_cap == 0)
        S.config.step_cap = 200000;
    S.count = 0;
    S.nthreads = 0;
    set_current(SCHED_NO_FIBER);
    S.blocked = S.runnable = 0;
    memset(S.wait_bucket, 0, sizeof S.wait_bucket);
    S.outcome = SCHED_OUTCOME_DONE;
    S.steps = 0;
    S.bytes_left = config->source.kind == SCHED_SOURCE_BYTES ? config->source.len : 0;
    S.countdown = 0;
    S.rng = config->source.seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
    if (S.rng == 0)
        S.rng = 1;
    S.replay_pos = 0;
    S.log_len = 0;
    S.log_dropped = 0;
    S.choice_points = 0;
    S.trace_total = 0;
    sched_trace_enabled = !config->no_trace || config->keep_full_trace;
    /* An untraced run's choices are read by nobody either: its callers (the
     * libFuzzer entry, --random_inputs, --hunt's clean execs, bench_execs) run
     * an input again traced when they need its record. */
    S.log_cap = sched_trace_enabled ? CHOICE_LOG_MAX : 0;
    if (!S.log)
        S.log = malloc(CHOICE_LOG_MAX * sizeof *S.log);
    sched_footprints_on = config->source.footprints && config->source.kind != SCHED_SOURCE_STRESS;
    S.slog_len = 0;
    S.slog_dropped = 0;
    S.step_open = 0;
    if (sched_footprints_on && !S.slog) {
        S.slog = malloc(STEP_LOG_MAX * sizeof *S.slog);
        if (!S.slog) {
            fprintf(stderr, "==TDF== HARNESS out of memory for the step log\n");
            abort();
        }
    }
    if (stress_on())
        stress_reset();
    S.pct_tail_started = 0;
    if (S.config.source.kind == SCHED_SOURCE_PCT || S.config.source.random_tail == SCHED_TAIL_PCT) {
        unsigned d = S.config.source.pct_depth ? S.config.source.pct_depth : 3;
        if (d > 8)
            d = 8;
        S.config.source.pct_depth = d;
        /* As published: the d-1 change points uniform over the k choice
         * points, so each lands on a step where a switch is possible. */
        uint32_t k = S.config.source.pct_steps;
        /* The tail's change points are drawn where it starts (pct_tail_pick). */
        for (unsigned i = 0; i + 1 < d; i++)
            S.pct_change_points[i] = k && S.config.source.kind == SCHED_SOURCE_PCT ? 1 + rng_below(k) : 0;
    }
}

int sched_spawn(const char *name, const char *owner, sched_fiber_fn *fn, void *arg);

/* The lowest address of the slot's stack that its earlier fibers may have
 * left ASan-poisoned. A frame unpoisons its redzones when it returns; what
 * stays poisoned are the frames live when the slot's last fiber last switched
 * away (abandoned at the end of a run, or finished inside switch_to), all
 * above the stack pointer that switch saved in ctx (or sched_ctx_make's, if
 * it never ran; the fiber before it was unpoisoned at its spawn). Unpoisoning
 * the whole 256 KB stack at every spawn (32 KB of shadow) was ~8% of an ASan
 * exec. STACK_DIRTY_SLACK below the saved pointer is margin. Whole stack:
 * ucontext (no saved pointer to read), or a pointer outside the stack. */
#define STACK_DIRTY_SLACK 1024u
static uint8_t *stack_dirty_lo(const fiber_t *f)
{
    uint8_t *lo = f->stack_lo;
#if !(defined(TDF_CTX_UCONTEXT) && TDF_CTX_UCONTEXT)
    uint8_t *sp = f->ctx.sp;
    if (sp >= lo + STACK_DIRTY_SLACK && sp <= lo + f->stack_size)
        return sp - STACK_DIRTY_SLACK;
#endif
    return lo;
}

/* The first code a new fiber runs. Never returns: a finished fiber switches
 * away for good. */
static void fiber_entry(void);
static void step_begin(const void *obj, unsigned mode);

int sched_spawn(const char *name, const char *owner, sched_fiber_fn *fn, void *arg)
{
    if (stress_on())
        return stress_spawn(name, owner, fn, arg);
    if (S.nthreads >= SCHED_MAX_THREADS)
        return SCHED_NO_FIBER;
    /* Thread ids go in spawn order: two steps that spawn never commute. */
    sched_step_touch(NULL, SCHED_FP_GLOBAL);
    int id;
    if (S.count < SCHED_MAX_FIBERS) {
        id = S.count++; /* as before slot reuse: every run under 64 threads keeps its ids and schedule */
    } else {
        /* Every slot used: the lowest one whose thread finished. Its stack is
         * dead: a finished fiber switched away for good (sched_exit_fiber ->
         * switch_to dying, where ASan dropped its fake stack), and only the
         * running fiber, never a finished one, can spawn. */
        id = -1;
        for (int i = 0; i < SCHED_MAX_FIBERS && id < 0; i++)
            if (S.fibers[i].state == SCHED_DONE)
                id = i;
        if (id < 0)
            return SCHED_NO_FIBER; /* SCHED_MAX_FIBERS live threads */
        /* TSan: the finished thread's fiber goes before its stack is remapped
         * (fiber_stack_ensure) and a new one is made below. */
        tdf_tsan_destroy_fiber(S.fibers[id].tsan_fiber);
        S.fibers[id].tsan_fiber = NULL;
        /* The layers above clear their per-slot state (IRQL, image stack,
         * rundown count) for the new thread. */
        if (g_slot_reuse_hook)
            g_slot_reuse_hook(id);
    }
    fiber_t *f = &S.fibers[id];
    fiber_stack_ensure(f);
    /* An abandoned fiber of an earlier run may have left ASan redzones
     * poisoned on this stack (stack_dirty_lo). */
    uint8_t *dirty = stack_dirty_lo(f);
    tdf_asan_unpoison(dirty, (size_t)((uint8_t *)f->stack_lo + f->stack_size - dirty));
    set_state(id, SCHED_RUNNABLE);
    int thread = thread_register(id, name, owner);
    f->fn = fn;
    f->arg = arg;
    f->wait_object = NULL;
    f->wait_reason = NULL;
    f->wait_timed = 0;
    f->timed_out = 0;
    f->local_step = 0;
    f->daemon = 0;
    f->start_mode = SCHED_FP_GLOBAL;
    f->start_obj = NULL;
    f->slot = NULL;
    f->asan_fake_stack = NULL;
    f->tsan_fiber = tdf_tsan_create_fiber();
    /* PCT: a random rank above every change-point priority (1..d-1); a tie
     * (2^-56 per pair) goes to the lower id. */
    f->pct_priority = S.config.source.kind == SCHED_SOURCE_PCT || S.config.source.random_tail == SCHED_TAIL_PCT
                          ? S.config.source.pct_depth + (rng_next() >> 8)
                          : 0;
    sched_ctx_make(&f->ctx, f->stack_lo, f->stack_size, fiber_entry);
    return thread;
}

/* ---- switching ---------------------------------------------------------- */
/* Precondition: `to` differs from the running context. `dying` means the
 * current fiber will never be resumed (ASan frees its fake stack). */
static void switch_to(int to, int dying)
{
    int from = sched_current_slot;
    sched_ctx_t *from_ctx = from == SCHED_NO_FIBER ? &S.main_ctx : &S.fibers[from].ctx;
    void **fake_save = from == SCHED_NO_FIBER ? &S.main_asan_fake_stack : &S.fibers[from].asan_fake_stack;
    const void *to_bottom;
    size_t to_size;
    void *to_tsan;

    if (to == SCHED_NO_FIBER) {
        to_bottom = S.main_stack_bottom;
        to_size = S.main_stack_size;
        to_tsan = S.main_tsan_fiber;
    } else {
        to_bottom = S.fibers[to].stack_lo;
        to_size = S.fibers[to].stack_size;
        to_tsan = S.fibers[to].tsan_fiber;
    }
    set_current(to);
    tdf_asan_start_switch(dying ? NULL : fake_save, to_bottom, to_size);
    tdf_tsan_switch_to_fiber(to_tsan);
    sched_ctx_swap(from_ctx, to == SCHED_NO_FIBER ? &S.main_ctx : &S.fibers[to].ctx);
    /* Resumed: sched_current_slot is us again. */
    if (from == SCHED_NO_FIBER)
        tdf_asan_finish_switch(S.main_asan_fake_stack, NULL, NULL);
    else
        tdf_asan_finish_switch(S.fibers[from].asan_fake_stack, NULL, NULL);
}

/* Not instrumented by ASan: its last call, sched_exit_fiber, is noreturn
 * (sanitizer_fiber.h TDF_ASAN_NO_EXIT_UNPOISON). It touches only scheduler
 * state, which ASan still checks in the functions it calls. */
TDF_ASAN_NO_EXIT_UNPOISON static void fiber_entry(void)
{
    /* First entry: learn the main stack's bounds from ASan (only main ever
     * starts fibers that have not run, via switch_to). */
    const void *old_bottom = NULL;
    size_t old_size = 0;
    tdf_asan_finish_switch(NULL, &old_bottom, &old_size);
    if (old_bottom) {
        /* The main context is the only non-fiber stack. */
        int from_fiber = 0;
        for (int i = 0; i < S.count; i++)
            if (S.fibers[i].stack_lo == old_bottom)
                from_fiber = 1;
        if (!from_fiber) {
            S.main_stack_bottom = old_bottom;
            S.main_stack_size = old_size;
        }
    }
    fiber_t *self = &S.fibers[sched_current_slot];
    if (sched_footprints_on)
        step_begin(self->start_obj, self->start_mode);
    self->fn(self->arg);
    sched_exit_fiber();
}

static void log_choice(sched_choice_t c)
{
    if (S.log_len < S.log_cap)
        S.log[S.log_len++] = c;
    else
        S.log_dropped = 1;
}

/* ---- footprints (sched.h) ------------------------------------------------ */
static void fp_add(sched_fp_t *fp, const void *obj, unsigned mode)
{
    if (fp->global || mode == SCHED_FP_NONE)
        return;
    if (mode != SCHED_FP_READ && mode != SCHED_FP_WRITE) {
        fp->global = 1;
        return;
    }
    for (unsigned i = 0; i < fp->n; i++) {
        if (fp->obj[i] == obj) {
            if (mode == SCHED_FP_WRITE)
                fp->mode[i] = SCHED_FP_WRITE;
            return;
        }
    }
    if (fp->n == SCHED_FP_OBJS) {
        fp->global = 1; /* too many to name: dependent with everything */
        return;
    }
    fp->obj[fp->n] = obj;
    fp->mode[fp->n++] = (uint8_t)mode;
}

void sched_fp_join(sched_fp_t *a, const sched_fp_t *b)
{
    if (b->global)
        a->global = 1;
    for (unsigned i = 0; i < b->n && !a->global; i++)
        fp_add(a, b->obj[i], b->mode[i]);
}

int sched_fp_dependent(const sched_fp_t *a, const sched_fp_t *b)
{
    if (a->global || b->global)
        return 1;
    for (unsigned i = 0; i < a->n; i++)
        for (unsigned j = 0; j < b->n; j++)
            if (a->obj[i] == b->obj[j] && (a->mode[i] == SCHED_FP_WRITE || b->mode[j] == SCHED_FP_WRITE))
                return 1;
    return 0;
}

/* The running fiber starts a step with footprint (obj, mode). */
static void step_begin(const void *obj, unsigned mode)
{
    sched_step_t *c = &S.step_cur;
    c->slot = (int16_t)sched_current_slot;
    c->ends_idle = 0;
    c->has_data = 0;
    c->ends_local = 0;
    c->fp.n = 0;
    c->fp.global = 0;
    fp_add(&c->fp, obj, mode);
    S.step_open = 1;
}

/* The running step ends at a switch point; `idle`: 1 its fiber blocks or
 * ends, 2 it yields with sched_yield_point_local, 0 another yield. */
static void step_end(int idle)
{
    if (!S.step_open)
        return;
    S.step_open = 0;
    S.step_cur.ends_idle = (uint8_t)(idle & 1);
    S.step_cur.ends_local = (uint8_t)(idle >> 1);
    if (S.slog_len < STEP_LOG_MAX)
        S.slog[S.slog_len++] = S.step_cur;
    else
        S.slog_dropped = 1;
}

void sched_step_touch_on(const void *obj, unsigned mode)
{
    if (S.step_open)
        fp_add(&S.step_cur.fp, obj, mode);
}

const sched_step_t *sched_step_log(size_t *count)
{
    *count = S.slog_len;
    return S.slog;
}

int sched_step_log_complete(void) { return !S.slog_dropped; }

/* PCT: the runnable fiber with the highest priority (the lowest id on a tie). */
static unsigned pct_top(const int *runnable, unsigned n)
{
    unsigned best = 0;
    for (unsigned k = 1; k < n; k++)
        if (S.fibers[runnable[k]].pct_priority > S.fibers[runnable[best]].pct_priority)
            best = k;
    return best;
}

/* PCT's pick among the n runnable fibers of mask: the highest priority runs;
 * at change point i (1..d-1) the fiber about to run drops to priority i, below
 * every initial one. Only choice points are counted, so none is lost on a step
 * where nothing else could run. */
static unsigned pct_pick(uint64_t mask, unsigned n);

/* Chooses among the runnable fibers; returns SCHED_NO_FIBER if none. */
/* The fiber id of runnable #idx (the idx-th set bit of mask, from bit 0). */
static int nth_runnable(uint64_t mask, unsigned idx)
{
    while (idx--)
        mask &= mask - 1;
    return __builtin_ctzll(mask);
}

static unsigned pct_pick(uint64_t mask, unsigned n)
{
    int runnable[SCHED_MAX_FIBERS];
    for (unsigned j = 0; j < n; j++)
        runnable[j] = nth_runnable(mask, j);
    unsigned best = pct_top(runnable, n);
    for (unsigned k = 0; k + 1 < S.config.source.pct_depth; k++) {
        if (S.pct_change_points[k] == S.choice_points) {
            S.fibers[runnable[best]].pct_priority = k + 1;
            best = pct_top(runnable, n);
        }
    }
    return best;
}

/* Set bits of m. Inline SWAR: without -mpopcnt (Debian's x86-64 baseline)
 * __builtin_popcountll is a call into libgcc, on every choice point. */
static inline unsigned popcount64(uint64_t m)
{
    m = m - ((m >> 1) & 0x5555555555555555ULL);
    m = (m & 0x3333333333333333ULL) + ((m >> 2) & 0x3333333333333333ULL);
    m = (m + (m >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (unsigned)((m * 0x0101010101010101ULL) >> 56);
}

static int pick_next(void)
{
    uint64_t mask = S.runnable;
    if ((mask & (mask - 1)) == 0) /* none or one runnable: no choice point */
        return mask ? __builtin_ctzll(mask) : SCHED_NO_FIBER;
    int cur = sched_current_slot;
    /* cur_bit 0 in main: then cur_runnable is 0 and cur_index unused. */
    uint64_t cur_bit = cur == SCHED_NO_FIBER ? 0 : 1ull << cur;
    int cur_runnable = (mask & cur_bit) != 0;
    unsigned n = popcount64(mask);
    unsigned cur_index = cur_runnable ? popcount64(mask & (cur_bit - 1)) : (unsigned)-1;
    S.choice_points++;

    unsigned idx = cur_runnable ? cur_index : 0;
    switch (S.config.source.kind) {
    case SCHED_SOURCE_BYTES:
        /* A byte b means: go to runnable (b & 7) % n now, then stay for b >> 3
         * further choice points. Countdown lets a short input place a
         * preemption deep into a run; once bytes run out the current fiber
         * keeps running (no preemption) and a blocked one hands over to the
         * lowest id. */
        if (cur_runnable && S.countdown > 0) {
            S.countdown--;
        } else if (S.bytes_left > 0) {
            uint8_t b = S.config.source.bytes[--S.bytes_left];
            idx = (b & 7u) % n;
            S.countdown = b >> 3;
        } else if (S.config.source.random_tail == SCHED_TAIL_PCT) {
            if (!S.pct_tail_started) {
                /* The tail's k choice points start here: its d-1 change
                 * points are drawn over this one and the k-1 after it. The
                 * priorities were drawn at spawn, as PCT draws them. */
                S.pct_tail_started = 1;
                uint32_t k = S.config.source.pct_steps;
                for (unsigned i = 0; i + 1 < S.config.source.pct_depth; i++)
                    S.pct_change_points[i] = k ? S.choice_points + rng_below(k) : 0;
            }
            idx = pct_pick(mask, n);
        } else if (S.config.source.random_tail && (!cur_runnable || rng_below(4) == 0)) {
            idx = rng_below(n); /* as SCHED_SOURCE_RANDOM below */
        }
        break;
    case SCHED_SOURCE_RANDOM:
        /* Preempt at a quarter of the choice points: long enough runs for
         * multi-step windows, frequent enough switches to open them. */
        if (!cur_runnable || rng_below(4) == 0)
            idx = rng_below(n);
        break;
    case SCHED_SOURCE_PCT:
        idx = pct_pick(mask, n);
        break;
    case SCHED_SOURCE_REPLAY:
        if (S.replay_pos < S.config.source.replay_len) {
            const sched_choice_t *c = &S.config.source.replay[S.replay_pos++];
            if (!c->is_data)
                idx = c->index % n;
        }
        break;
    case SCHED_SOURCE_STRESS: /* never here: stress.c logs who took the model lock */
        break;
    }
    log_choice((sched_choice_t){.n = (uint16_t)n,
                                .index = (uint16_t)idx,
                                .is_data = 0,
                                .cur = cur_runnable ? (uint16_t)cur_index : SCHED_CHOICE_NO_CURRENT,
                                .runnable = mask,
                                .cur_local = cur_runnable && S.fibers[cur].local_step,
                                .step = (uint32_t)S.slog_len});
    /* Staying is the common pick (a countdown, no preemption): no bit walk. */
    return idx == cur_index ? cur : nth_runnable(mask, idx);
}

/* Called when the current fiber cannot or may not continue right now. */
static void reschedule(int dying)
{
    int next = pick_next();
    if (next == SCHED_NO_FIBER) {
        /* Virtual time passes only when nothing can run: expire one timed
         * wait. A daemon's timed wait (the clock's next period) expires only
         * while some other fiber still waits for something: with every
         * ordinary fiber done, time has no reason to pass and the run ends. */
        int others_blocked = 0;
        for (int i = 0; i < S.count; i++)
            others_blocked |= S.fibers[i].state == SCHED_BLOCKED && !S.fibers[i].daemon;
        for (int i = 0; i < S.count; i++) {
            fiber_t *f = &S.fibers[i];
            if (f->state == SCHED_BLOCKED && f->wait_timed && (!f->daemon || others_blocked)) {
                /* Time passed because nothing could run: a fact about every
                 * fiber, so the step that ended here commutes with none. */
                if (sched_footprints_on && S.slog_len)
                    S.slog[S.slog_len - 1].fp.global = 1;
                set_state(i, SCHED_RUNNABLE);
                f->timed_out = 1;
                f->wait_object = NULL;
                next = i;
                break;
            }
        }
    }
    if (next == SCHED_NO_FIBER) {
        int blocked = 0;
        for (int i = 0; i < S.count; i++)
            blocked |= S.fibers[i].state == SCHED_BLOCKED && !S.fibers[i].daemon;
        S.outcome = blocked ? SCHED_OUTCOME_DEADLOCK : SCHED_OUTCOME_DONE;
        switch_to(SCHED_NO_FIBER, dying);
        return; /* only reached if main resumes us, which it never does */
    }
    if (next != sched_current_slot)
        switch_to(next, dying);
}

static void count_step(void)
{
    if (++S.steps >= S.config.step_cap) {
        S.outcome = SCHED_OUTCOME_HANG;
        switch_to(SCHED_NO_FIBER, 0);
    }
}

sched_outcome_t sched_run(void)
{
    if (stress_on())
        return stress_run();
    S.main_tsan_fiber = tdf_tsan_get_current_fiber();
    set_current(SCHED_NO_FIBER);
    int first = pick_next();
    if (first == SCHED_NO_FIBER)
        return SCHED_OUTCOME_DONE;
    switch_to(first, 0);
    /* Back in main: the run is over (done, deadlock, hang or abort). */
    set_current(SCHED_NO_FIBER);
    return S.outcome;
}

/* At a yield of the running fiber, in place of reschedule: takes the choice
 * point here when that needs neither the runnable count nor the fiber's index,
 * the same decision as pick_next's (the same bytes and random numbers consumed,
 * the same fiber run next): the fiber is the only runnable one (no choice
 * point), or no choice log is kept (an untraced run, which most execs are)
 * and a BYTES countdown stays (only BYTES sets one), the bytes have run out
 * with no tail (no preemption), or the random tail or RANDOM draws. Returns
 * 0 to leave the choice to reschedule. Most yields end here, without
 * reschedule's call chain. */
static inline int yield_fast(void)
{
    int cur = sched_current_slot;
    uint64_t cur_bit = 1ull << cur;
    uint64_t mask = S.runnable;
    if (!(mask & cur_bit))
        return 0;
    if (mask == cur_bit)
        return 1;
    if (S.log_cap != 0)
        return 0;
    if (S.countdown > 0) {
        S.choice_points++;
        S.countdown--;
        return 1;
    }
    if (S.config.source.kind == SCHED_SOURCE_BYTES && S.bytes_left == 0 &&
        S.config.source.random_tail == SCHED_TAIL_NONE) {
        S.choice_points++;
        return 1; /* past the bytes, no tail: no preemption */
    }
    if ((S.config.source.kind == SCHED_SOURCE_BYTES && S.bytes_left == 0 &&
         S.config.source.random_tail == SCHED_TAIL_RANDOM) ||
        S.config.source.kind == SCHED_SOURCE_RANDOM) {
        S.choice_points++;
        if (rng_below(4) != 0)
            return 1; /* no preemption */
        int next = nth_runnable(mask, rng_below(popcount64(mask)));
        if (next != cur)
            switch_to(next, 0);
        return 1;
    }
    return 0;
}

/* An unannotated yield: the step it starts is GLOBAL. */
void sched_yield_point(void) { sched_yield_point_on(NULL, SCHED_FP_GLOBAL); }

void sched_yield_point_on(const void *obj, unsigned mode)
{
    if (sched_current_slot == SCHED_NO_FIBER)
        return; /* model code run from main (setup, final checks) never yields */
    if (stress_on()) {
        stress_yield(0);
        return;
    }
    /* The footprint waits on this fiber's stack (obj, mode) until it resumes. */
    if (__builtin_expect(sched_footprints_on, 0))
        step_end(0);
    count_step();
    if (!yield_fast())
        reschedule(0);
    if (__builtin_expect(sched_footprints_on, 0))
        step_begin(obj, mode);
}

void sched_yield_point_local(void)
{
    if (sched_current_slot == SCHED_NO_FIBER)
        return;
    if (stress_on()) {
        stress_yield(1);
        return;
    }
    fiber_t *f = &S.fibers[sched_current_slot];
    f->local_step = 1;
    if (__builtin_expect(sched_footprints_on, 0))
        step_end(2);
    count_step();
    if (!yield_fast())
        reschedule(0);
    f->local_step = 0;
    if (__builtin_expect(sched_footprints_on, 0))
        step_begin(NULL, SCHED_FP_NONE);
}

static int block(const void *object, const char *what, int timed, const void *fp_obj, unsigned fp_mode)
{
    if (stress_on())
        return stress_block(object, what, timed);
    fiber_t *f = &S.fibers[sched_current_slot];
    wait_on(sched_current_slot, object);
    f->wait_reason = what;
    f->wait_timed = (uint8_t)timed;
    f->timed_out = 0;
    if (__builtin_expect(sched_footprints_on, 0)) {
        sched_step_touch(object, SCHED_FP_WRITE);
        step_end(1);
    }
    count_step();
    reschedule(0);
    f->wait_timed = 0;
    /* Woken (or timed out): the caller named what it re-checks, or GLOBAL. */
    if (__builtin_expect(sched_footprints_on, 0))
        step_begin(fp_obj, fp_mode);
    return f->timed_out;
}

void sched_block(const void *object, const char *what) { (void)block(object, what, 0, NULL, SCHED_FP_GLOBAL); }

int sched_block_timed(const void *object, const char *what) { return block(object, what, 1, NULL, SCHED_FP_GLOBAL); }

int sched_block_on(const void *object, const char *what, int timed, const void *fp_obj, unsigned fp_mode)
{
    return block(object, what, timed ? 1 : 0, fp_obj, fp_mode);
}

void sched_wake(const void *object)
{
    /* In slot order, as a scan of every blocked fiber would wake them. */
    uint64_t *bucket = &S.wait_bucket[wait_bucket_of(object)];
    for (uint64_t left = S.blocked & *bucket; left; left &= left - 1) {
        int i = __builtin_ctzll(left);
        fiber_t *f = &S.fibers[i];
        if (f->wait_object == object) {
            sched_step_touch(object, SCHED_FP_WRITE); /* enables a fiber: a write of what it waits on */
            *bucket &= ~(1ull << i);
            set_state(i, SCHED_RUNNABLE);
            f->wait_object = NULL;
            f->wait_reason = NULL;
            if (stress_on())
                stress_kick(i); /* a real thread waits for it */
        }
    }
}

static uint64_t current_bit(void) { return sched_current_slot == SCHED_NO_FIBER ? 0 : 1ull << sched_current_slot; }

unsigned sched_choose(unsigned n)
{
    if (n <= 1)
        return 0;
    unsigned idx = 0;
    switch (S.config.source.kind) {
    case SCHED_SOURCE_BYTES:
        if (S.bytes_left > 0)
            idx = S.config.source.bytes[--S.bytes_left] % n;
        else if (S.config.source.random_tail)
            idx = rng_below(n);
        break;
    case SCHED_SOURCE_RANDOM:
    case SCHED_SOURCE_PCT:
    case SCHED_SOURCE_STRESS:
        idx = rng_below(n);
        break;
    case SCHED_SOURCE_REPLAY:
        if (S.replay_pos < S.config.source.replay_len)
            idx = S.config.source.replay[S.replay_pos++].index % n;
        break;
    }
    if (n > 65535)
        n = 65535;
    if (sched_footprints_on && S.step_open)
        S.step_cur.has_data = 1;
    log_choice((sched_choice_t){.n = (uint16_t)n,
                                .index = (uint16_t)idx,
                                .is_data = 1,
                                .cur = SCHED_CHOICE_NO_CURRENT,
                                .runnable = current_bit(),
                                .step = (uint32_t)S.slog_len});
    return idx;
}

int sched_choose_flag(void)
{
    unsigned v = 0;
    switch (S.config.source.kind) {
    case SCHED_SOURCE_BYTES:
        if (S.bytes_left > 0)
            v = S.config.source.bytes[--S.bytes_left] >> 7;
        else if (S.config.source.random_tail)
            v = rng_below(2);
        break;
    case SCHED_SOURCE_RANDOM:
    case SCHED_SOURCE_PCT:
    case SCHED_SOURCE_STRESS:
        v = rng_below(2);
        break;
    case SCHED_SOURCE_REPLAY:
        if (S.replay_pos < S.config.source.replay_len)
            v = S.config.source.replay[S.replay_pos++].index & 1u;
        break;
    }
    if (sched_footprints_on && S.step_open)
        S.step_cur.has_data = 1;
    log_choice((sched_choice_t){.n = 2,
                                .index = (uint16_t)v,
                                .is_data = 2,
                                .cur = SCHED_CHOICE_NO_CURRENT,
                                .runnable = current_bit(),
                                .step = (uint32_t)S.slog_len});
    return (int)v;
}

void sched_abort_run(void)
{
    if (stress_on())
        stress_abort_run();
    if (sched_footprints_on) {
        sched_step_touch(NULL, SCHED_FP_GLOBAL);
        step_end(1);
    }
    S.outcome = SCHED_OUTCOME_ABORTED;
    switch_to(SCHED_NO_FIBER, 0);
    abort(); /* unreachable: main never resumes an aborted fiber */
}

void sched_exit_fiber(void)
{
    if (stress_on())
        stress_exit_fiber();
    if (sched_footprints_on)
        step_end(1);
    set_state(sched_current_slot, SCHED_DONE);
    reschedule(1);
    abort(); /* unreachable */
}

#include "stress.c"

/* ---- queries ------------------------------------------------------------- */
uint32_t sched_steps(void) { return S.steps; }
int sched_fiber_count(void) { return S.nthreads; }
int sched_fiber_index(int id)
{
    if (id < 0)
        return SCHED_MAX_FIBERS;
    int slot = live_slot(id);
    return slot >= 0 ? slot : SCHED_SLOT_FINISHED;
}
const char *sched_fiber_name(int id) { return id >= 0 && id < S.nthreads ? S.threads[id].name : "main"; }
const char *sched_fiber_owner(int id) { return id >= 0 && id < S.nthreads ? S.threads[id].owner : "harness"; }
sched_state_t sched_fiber_state(int id)
{
    int slot = live_slot(id);
    return slot >= 0 ? S.fibers[slot].state : id >= 0 && id < S.nthreads ? SCHED_DONE : SCHED_FREE;
}
void sched_set_daemon(int id)
{
    int slot = live_slot(id);
    if (slot >= 0)
        S.fibers[slot].daemon = 1;
}
void sched_set_start_footprint(int id, const void *obj, unsigned mode)
{
    int slot = live_slot(id);
    if (slot >= 0) {
        S.fibers[slot].start_obj = obj;
        S.fibers[slot].start_mode = (uint8_t)mode;
    }
}
int sched_fiber_is_daemon(int id)
{
    int slot = live_slot(id);
    return slot >= 0 && S.fibers[slot].daemon;
}
const char *sched_fiber_wait_reason(int id)
{
    int slot = live_slot(id);
    return slot >= 0 ? S.fibers[slot].wait_reason : NULL;
}
const void *sched_fiber_wait_object(int id)
{
    int slot = live_slot(id);
    return slot >= 0 ? S.fibers[slot].wait_object : NULL;
}
void **sched_fiber_slot(int id)
{
    /* A finished thread whose slot went to another: a fresh NULL, never the
     * new thread's pointer. */
    static void *finished;
    int slot = live_slot(id);
    finished = NULL;
    return slot >= 0 ? &S.fibers[slot].slot : &finished;
}

const sched_choice_t *sched_choice_log(size_t *count)
{
    *count = S.log_len;
    return S.log;
}

size_t sched_choices_as_bytes(uint8_t *out, size_t cap)
{
    /* Each byte with b >> 3 == 0 (no "stay" countdown) is consumed by
     * exactly one choice point, as the log has them. */
    size_t n = S.log_len < cap ? S.log_len : cap;
    for (size_t i = 0; i < n; i++) {
        const sched_choice_t *c = &S.log[i];
        if (c->is_data == 2)
            out[i] = (uint8_t)(c->index << 7); /* sched_choose_flag reads the top bit */
        else if (c->is_data == 1 && c->index < 256)
            out[i] = (uint8_t)c->index; /* b % n == index */
        else if (c->is_data == 1)
            return (size_t)-1;
        else if (c->index < 8)
            out[i] = (uint8_t)c->index; /* (b & 7) % n == index, stay 0 */
        else
            return (size_t)-1;
    }
    return n;
}

uint32_t sched_choice_points(void) { return S.choice_points; }
int sched_choice_log_complete(void) { return !S.log_dropped; }

size_t sched_bytes_consumed(void)
{
    return S.config.source.kind == SCHED_SOURCE_BYTES ? S.config.source.len - S.bytes_left : 0;
}

/* ---- trace ---------------------------------------------------------------- */
void sched_trace(const char *fmt, uintptr_t a0, uintptr_t a1, uintptr_t a2, uintptr_t a3)
{
    sched_trace_event_t ev = {.step = S.steps, .fiber = sched_current_fiber, .fmt = fmt, .arg = {a0, a1, a2, a3}};
    if (S.config.keep_full_trace) {
        if (S.trace_total >= S.full_cap) {
            /* Grows without a cap (a cut trace would make determinism
             * checks and swimlanes silently partial); the step cap bounds it. */
            S.full_cap = S.full_cap ? S.full_cap * 2 : 4096;
            S.full = realloc(S.full, S.full_cap * sizeof *S.full);
            if (!S.full)
                abort();
        }
        S.full[S.trace_total] = ev;
    } else {
        S.ring[S.trace_total % SCHED_TRACE_RING] = ev;
    }
    S.trace_total++;
}

uint64_t sched_trace_total(void) { return S.trace_total; }

size_t sched_trace_count(void)
{
    if (S.config.keep_full_trace)
        return S.trace_total < S.full_cap ? S.trace_total : S.full_cap;
    return S.trace_total < SCHED_TRACE_RING ? S.trace_total : SCHED_TRACE_RING;
}

const sched_trace_event_t *sched_trace_at(size_t i)
{
    if (S.config.keep_full_trace)
        return &S.full[i];
    size_t first = S.trace_total < SCHED_TRACE_RING ? 0 : S.trace_total - SCHED_TRACE_RING;
    return &S.ring[(first + i) % SCHED_TRACE_RING];
}

void sched_trace_format(const sched_trace_event_t *ev, char *buf, size_t size)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(buf, size, ev->fmt, ev->arg[0], ev->arg[1], ev->arg[2], ev->arg[3]);
#pragma GCC diagnostic pop
}
