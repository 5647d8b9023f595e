/*
 * model/sched — deterministic fibers, choice sources and the trace.
 *
 * Knows nothing of drivers (docs/ARCHITECTURE.md, "layers"): it sees fibers with a name and
 * an owner label, yield points, wait objects (opaque pointers) and choices.
 * Exactly one fiber runs at a time; the only source of nondeterminism is the
 * choice source, so the same choices give the same run, step for step.
 */
#ifndef TDF_SCHED_H
#define TDF_SCHED_H

#include <stddef.h>
#include <stdint.h>

/*
 * Thread ids and slots. A model thread (fiber) has an id, a per-run serial
 * handed out in spawn order (0, 1, 2, ...) and never reused within the run:
 * the layers above key everything "per thread" by it (lock owners, wait
 * objects, trace events, report lanes), so two threads are never one. It
 * runs in a slot, 0..SCHED_MAX_FIBERS-1, which owns the stack, the
 * scheduler's runnable/blocked bits and the per-slot arrays of the layers
 * above (sched_fiber_index). The first SCHED_MAX_FIBERS threads of a run get
 * slot == id, as before slots were reused, so a run that stays under 64
 * threads has the same ids, choices and trace. Once every slot was used, a
 * new thread takes the lowest slot whose thread finished (its stack is no
 * longer live); with SCHED_MAX_FIBERS threads alive, sched_spawn fails (the
 * callers report LIMIT SCHED_MAX_FIBERS). The schedule byte "runnable #k"
 * counts runnable slots in slot order. The stress backend (stress.c) does
 * not reuse slots: at most SCHED_MAX_FIBERS threads per run there.
 */
#define SCHED_MAX_FIBERS 64   /* threads alive at once (slots) */
#define SCHED_MAX_THREADS 16384 /* threads over a run (ids); sched_spawn fails beyond */
#define SCHED_NO_FIBER (-1)
/* sched_fiber_index of a finished thread whose slot a later thread took:
 * per-slot arrays have SCHED_SLOT_COUNT entries, the main context's at
 * SCHED_MAX_FIBERS and this one, never written, reading as a fresh thread. */
#define SCHED_SLOT_FINISHED (SCHED_MAX_FIBERS + 1)
#define SCHED_SLOT_COUNT (SCHED_MAX_FIBERS + 2)

typedef enum sched_state {
    SCHED_FREE = 0,
    SCHED_RUNNABLE,
    SCHED_BLOCKED,
    SCHED_DONE,
} sched_state_t;

typedef void sched_fiber_fn(void *arg);

/* How a run ended; the numbering is internal, exit codes live in pnp/report. */
typedef enum sched_outcome {
    SCHED_OUTCOME_DONE = 0,  /* every fiber returned */
    SCHED_OUTCOME_ABORTED,   /* an oracle called sched_abort_run() */
    SCHED_OUTCOME_DEADLOCK,  /* fibers blocked, none runnable */
    SCHED_OUTCOME_HANG,      /* step cap reached (livelock or a wait that never ends) */
} sched_outcome_t;

/* ---- choice sources ------------------------------------------------------ */
typedef enum sched_source_kind {
    SCHED_SOURCE_BYTES = 0, /* fuzzer bytes, read from the END of a buffer backwards */
    SCHED_SOURCE_RANDOM,    /* seeded xorshift: --schedule random:SEED */
    SCHED_SOURCE_REPLAY,    /* a recorded list of choice indices (sched_choice_log) */
    SCHED_SOURCE_PCT,       /* PCT, depth d: random priorities and d-1 change points over k choice points */
    /* Not a choice source: the stress backend (model/sched/stress.c), every
     * fiber a pthread under one model lock, the OS picks who runs; `seed`
     * seeds data choices and the yield policy. NOT deterministic. */
    SCHED_SOURCE_STRESS,
} sched_source_kind_t;

/*
 * A choice point is a yield with n >= 2 runnable fibers (or a data choice with
 * n >= 2 values). Every choice point is logged as (n, index); a log replays
 * exactly with SCHED_SOURCE_REPLAY, and a systematic explorer can replay a
 * prefix of it and vary the next index (depth-first, preemption-bounded).
 */
#define SCHED_CHOICE_NO_CURRENT 0xFFFFu

typedef struct sched_choice {
    uint16_t n;
    uint16_t index;
    uint8_t is_data; /* 0: which fiber runs next, 1: data choice, 2: yes/no flag */
    /* Fiber choice: the running fiber's index among the n runnable ones, or
     * SCHED_CHOICE_NO_CURRENT when it blocked or ended (any pick is then free,
     * not a preemption). Data choices: SCHED_CHOICE_NO_CURRENT. */
    uint16_t cur;
    /* Fiber choice: the runnable fibers, bit i = slot i (slots in index
     * order: index j is the j-th set bit; slot == thread id in a run under
     * SCHED_MAX_FIBERS threads). Data choices: the choosing fiber's bit. */
    uint64_t runnable;
    /* Fiber choice: the running fiber yielded with sched_yield_point_local. */
    uint8_t cur_local;
    /* With footprints on (sched_source_t.footprints): the index in
     * sched_step_log of the first step after a fiber choice, or of the step
     * a data choice is made in. 0 otherwise. */
    uint32_t step;
} sched_choice_t;

/*
 * Footprints: what a step touches, for the systematic search's partial-order
 * reduction (model/sched/dfs.h). A *step* is what one fiber runs from a
 * switch point (a yield, the return from a block, its start) to the next
 * one. A yield names the footprint of the step it starts
 * (sched_yield_point_on): the object the operation right after it acts on
 * and whether it only reads it. An unannotated yield, the return from a
 * block and a fiber's start are GLOBAL: dependent with every step, so a
 * missing annotation costs pruning, never soundness. The scheduler widens a
 * step by itself: a wake that makes a fiber runnable writes its object, a
 * block writes the object waited on, a spawn or a timed wait's expiry makes
 * the step GLOBAL, and a data or flag choice marks it. Model code can widen
 * the running step (sched_step_touch) where an operation touches more than
 * its yield named. Plain memory accesses between switch points are not
 * footprints: the reduction assumes the program is data-race free there,
 * which the TSan build checks (docs/INPUT.md "dfs").
 *
 * Only recorded when the source asks (sched_source_t.footprints, which the
 * explorer sets): off, a yield stores nothing and no choice, switch or trace
 * changes either way.
 */
enum {
    SCHED_FP_GLOBAL = 0, /* dependent with everything (the default) */
    SCHED_FP_READ = 1,   /* reads the object: independent of other reads of it */
    SCHED_FP_WRITE = 2,  /* writes (or reads and writes) the object */
    SCHED_FP_NONE = 3,   /* touches nothing another fiber reads or writes */
};
#define SCHED_FP_OBJS 4 /* objects a step records; one more makes it GLOBAL */
typedef struct sched_fp {
    const void *obj[SCHED_FP_OBJS];
    uint8_t mode[SCHED_FP_OBJS]; /* SCHED_FP_READ or SCHED_FP_WRITE */
    uint8_t n;
    uint8_t global;
} sched_fp_t;

typedef struct sched_step {
    int16_t slot;      /* the fiber that ran it */
    uint8_t ends_idle; /* it ended with that fiber blocked or finished */
    uint8_t has_data;  /* it made a data or flag choice */
    uint8_t ends_local; /* it ended at sched_yield_point_local */
    sched_fp_t fp;
} sched_step_t;

/* 1 if the two footprints may not commute: either is GLOBAL, or both name
 * one object and one of them writes it. */
int sched_fp_dependent(const sched_fp_t *a, const sched_fp_t *b);
/* Adds b's objects to a (GLOBAL when they do not fit). */
void sched_fp_join(sched_fp_t *a, const sched_fp_t *b);

enum { SCHED_TAIL_NONE = 0, SCHED_TAIL_RANDOM = 1, SCHED_TAIL_PCT = 2 };

typedef struct sched_source {
    sched_source_kind_t kind;
    /* BYTES: [bytes, bytes+len) is consumed from the end towards the start. */
    const uint8_t *bytes;
    size_t len;
    /* BYTES: once the bytes run out, go on choosing as RANDOM does
     * (SCHED_TAIL_RANDOM) or as PCT does (SCHED_TAIL_PCT: depth pct_depth,
     * its d-1 change points drawn over the pct_steps choice points from the
     * first one past the bytes), seeded with `seed`, instead of never
     * preempting (SCHED_TAIL_NONE). Off for every stored input; the libFuzzer
     * entry turns it on where TDF_SCHEDULE_TAIL asks. */
    uint8_t random_tail;
    /* RANDOM / PCT */
    uint64_t seed;
    unsigned pct_depth;
    /* PCT: k, the choice points (yields with >= 2 runnable fibers) the run is
     * expected to make; the d-1 change points are drawn in 1..k (Burckhardt et
     * al., ASPLOS 2010). 0: no change points (as depth 1). */
    uint32_t pct_steps;
    /* REPLAY */
    const sched_choice_t *replay;
    size_t replay_len;
    /* Any source: record every step's footprint (sched_step_log). Changes
     * nothing about the run. */
    uint8_t footprints;
} sched_source_t;

typedef struct sched_config {
    sched_source_t source;
    uint32_t step_cap; /* yield points before the run counts as a hang */
    int keep_full_trace; /* 1: record every trace event (repro); 0: only a ring */
    /* 1 (and keep_full_trace 0): record no trace at all; SCHED_TRACE* then
     * cost a flag test (sched_trace_enabled). For execs whose trace nobody
     * reads (the libFuzzer entry re-runs a failing input with its ring to
     * report it; benchmarks). The run is the same either way: trace arguments
     * are pure (names, counters). Nor is a choice log kept then
     * (sched_choice_log_complete() 0): the choices are the same, and a caller
     * that needs them runs the input again traced. */
    int no_trace;
} sched_config_t;

/* ---- lifecycle --------------------------------------------------------- */
/* Precondition: no run in progress. Frees nothing of the previous run's fibers'
 * stacks (they are pooled), resets every counter. */
void sched_reset(const sched_config_t *config);
/* New fiber, runnable at once. Returns its thread id (0..SCHED_MAX_THREADS-1,
 * in spawn order), or SCHED_NO_FIBER when SCHED_MAX_FIBERS threads are alive
 * or SCHED_MAX_THREADS were made this run (reported by the caller). */
int sched_spawn(const char *name, const char *owner, sched_fiber_fn *fn, void *arg);
/* Called by sched_spawn with the slot a new thread takes over from a finished
 * one, before it runs: the layer above resets its per-slot state there (the
 * kernel's IRQL, image stack and rundown count, kernel_reset sets it). Not
 * called for a slot's first thread of a run (per-run resets cover those).
 * Survives sched_reset. */
typedef void sched_slot_reuse_fn(int slot);
void sched_set_slot_reuse_hook(sched_slot_reuse_fn *fn);
/* Marks a fiber as a daemon: a server loop that blocks when it has nothing
 * to do (the kernel's DPC processors and clock). A blocked daemon is idle,
 * not stuck: the run ends DONE (not DEADLOCK) when nothing can run and only
 * daemons are blocked, and a daemon's timed wait expires only while some
 * ordinary fiber is blocked. */
void sched_set_daemon(int id);
/* The footprint of a new fiber's first step, from its start to its first
 * switch point ("Footprints" below); GLOBAL unless set. Call before it runs. */
void sched_set_start_footprint(int id, const void *obj, unsigned mode);
int sched_fiber_is_daemon(int id);
/* Runs fibers until all are done or the run stops. Called from the main
 * (non-fiber) context only. */
sched_outcome_t sched_run(void);

/* ---- from inside a fiber ------------------------------------------------ */
/* A yield point: the choice source may switch to another runnable fiber. */
void sched_yield_point(void);
/* A yield point after which this fiber's next step, up to its next yield
 * point or its end, touches nothing another fiber reads or writes (no shared
 * memory, no wait, wake or spawn). Runs as sched_yield_point; the systematic
 * explorer need not preempt here (dfs.h). */
void sched_yield_point_local(void);
/* A yield point whose next step touches `obj` only, reading it
 * (SCHED_FP_READ) or writing it (SCHED_FP_WRITE); SCHED_FP_NONE: nothing
 * shared; SCHED_FP_GLOBAL: anything (as sched_yield_point). Runs as
 * sched_yield_point; only the footprint record (above) sees the difference. */
void sched_yield_point_on(const void *obj, unsigned mode);
/* Widens the running step's footprint by `obj` (SCHED_FP_READ/WRITE) or to
 * GLOBAL; not a yield point. No effect when footprints are off: inline, a
 * flag test on the exec path (pool allocation, waits, wakes). */
extern int sched_footprints_on; /* read it with sched_footprints() */
static inline int sched_footprints(void) { return sched_footprints_on; }
void sched_step_touch_on(const void *obj, unsigned mode);
static inline void sched_step_touch(const void *obj, unsigned mode)
{
    if (__builtin_expect(sched_footprints_on, 0))
        sched_step_touch_on(obj, mode);
}
/* Block the current fiber on `object` until sched_wake(object). Returns after a
 * wake; the caller re-checks its condition (waits are always in a loop). */
void sched_block(const void *object, const char *what);
/* Like sched_block, but the wait may time out. Virtual time: a timed wait
 * expires only when no fiber is runnable (every other fiber is blocked or
 * done), the lowest id first. Returns 1 if it timed out, 0 if woken. */
int sched_block_timed(const void *object, const char *what);
/* sched_block_timed (timed 1) or sched_block (timed 0) naming the footprint
 * of the step the fiber starts when it resumes ("Footprints" below; the
 * others start a GLOBAL one). Returns 1 if it timed out. */
int sched_block_on(const void *object, const char *what, int timed, const void *fp_obj, unsigned fp_mode);
/* Makes every fiber blocked on `object` runnable. Not a yield point itself. */
void sched_wake(const void *object);
/* A data choice in [0, n): recorded like a fiber choice. n <= 1 returns 0
 * without consuming anything. */
unsigned sched_choose(unsigned n);
/* A yes/no data choice, recorded as one with n = 2. The bytes source takes the
 * TOP bit of its byte (b >> 7), so that small bytes, which pick fibers, say
 * "no": a schedule made of thread choices does not turn on what the flag
 * guards. Random and PCT draw it; replay reads it back. */
int sched_choose_flag(void);
/* Stops the run from inside a fiber: the oracle has already reported. Never
 * returns; the fiber is abandoned and sched_run() returns ABORTED. */
__attribute__((noreturn)) void sched_abort_run(void);
/* Ends the current fiber (as if its function returned). */
__attribute__((noreturn)) void sched_exit_fiber(void);

/* Stress backend only: called (from main, the run's threads stuck) when a
 * run outlives TDF_STRESS_WATCHDOG seconds, to print each thread's state;
 * the process then exits with the HANG class's code. */
#include <stdio.h>
typedef void sched_report_fn(FILE *out);
void sched_set_watchdog_report(sched_report_fn *fn);

/* ---- queries ----------------------------------------------------------- */
extern int sched_current_fiber; /* read it with sched_current() */
extern int sched_current_slot;  /* read it with sched_current_index() */
/* The running thread's id; SCHED_NO_FIBER in the main context. Inline: every
 * driver function entry and exit asks (model/kernel/image.c). */
static inline int sched_current(void) { return sched_current_fiber; }
/* The running thread's slot, SCHED_MAX_FIBERS in the main context: the index
 * into a per-slot array of SCHED_SLOT_COUNT entries. */
static inline int sched_current_index(void) { return sched_current_slot < 0 ? SCHED_MAX_FIBERS : sched_current_slot; }
/* The same for any thread id: its slot while it lives (or until a later
 * thread takes the slot), SCHED_MAX_FIBERS for SCHED_NO_FIBER (main),
 * SCHED_SLOT_FINISHED for a finished thread whose slot was reused. */
int sched_fiber_index(int id);
uint32_t sched_steps(void);
const char *sched_fiber_name(int id);
const char *sched_fiber_owner(int id);
sched_state_t sched_fiber_state(int id);
const char *sched_fiber_wait_reason(int id);
const void *sched_fiber_wait_object(int id); /* what a blocked fiber waits on (NULL otherwise) */
/* Thread ids made this run: 0..count-1 (may exceed SCHED_MAX_FIBERS). The
 * queries take a thread id; a finished thread keeps its name and owner and
 * reads SCHED_DONE with no wait, even after its slot was reused. */
int sched_fiber_count(void);
/* Per-thread pointer for the layer above (the kernel's KTHREAD); NULL on
 * spawn, and for a finished thread whose slot was reused. */
void **sched_fiber_slot(int id);
const sched_choice_t *sched_choice_log(size_t *count);
/* The steps of the run so far, with footprints on (else none). A step still
 * running is not in it. */
const sched_step_t *sched_step_log(size_t *count);
/* 0 when the run made more steps than the step log holds. */
int sched_step_log_complete(void);
/* The choices of the run so far as BYTES-source bytes, in use order (the
 * input stores them reversed): the same run replays from them with no
 * other source. Returns how many, or (size_t)-1 when a fiber choice picked
 * runnable #8 or above, which one byte cannot name ((b & 7) % n). */
size_t sched_choices_as_bytes(uint8_t *out, size_t cap);
/* Fiber choice points (yields with >= 2 runnable fibers) of the run so far:
 * PCT's k. Counts past the log's capacity. */
uint32_t sched_choice_points(void);
/* 0 when the run made more choices than the log holds (CHOICE_LOG_MAX): the
 * log is then a prefix of the run's choices; and in a run with no_trace, which
 * keeps none. */
int sched_choice_log_complete(void);
/* Bytes of the schedule part consumed so far (BYTES source). */
size_t sched_bytes_consumed(void);

/* ---- trace -------------------------------------------------------------- */
/*
 * Events are stored unformatted (a printf format with %s/%ld/%lu/%lx and up to
 * four word-sized arguments) and formatted only when printed, so the exec path
 * pays a few stores per event. Arguments must be deterministic: names and
 * counters, never addresses.
 */
typedef struct sched_trace_event {
    uint32_t step;
    int32_t fiber; /* thread id (never a reused slot), SCHED_NO_FIBER: main */
    const char *fmt;
    uintptr_t arg[4];
} sched_trace_event_t;

#define SCHED_TRACE_RING 64

void sched_trace(const char *fmt, uintptr_t a0, uintptr_t a1, uintptr_t a2, uintptr_t a3);
/* 0 while a run records no trace (sched_config_t.no_trace): the macros test
 * it before evaluating any argument, so an untraced run pays a load and a
 * branch per event, no call and no symbol lookup. */
extern int sched_trace_enabled;
#define SCHED_TRACE_IF(call) (__builtin_expect(sched_trace_enabled, 1) ? (call) : (void)0)
#define SCHED_TRACE0(f) SCHED_TRACE_IF(sched_trace((f), 0, 0, 0, 0))
#define SCHED_TRACE1(f, a) SCHED_TRACE_IF(sched_trace((f), (uintptr_t)(a), 0, 0, 0))
#define SCHED_TRACE2(f, a, b) SCHED_TRACE_IF(sched_trace((f), (uintptr_t)(a), (uintptr_t)(b), 0, 0))
#define SCHED_TRACE3(f, a, b, c) SCHED_TRACE_IF(sched_trace((f), (uintptr_t)(a), (uintptr_t)(b), (uintptr_t)(c), 0))
#define SCHED_TRACE4(f, a, b, c, d) \
    SCHED_TRACE_IF(sched_trace((f), (uintptr_t)(a), (uintptr_t)(b), (uintptr_t)(c), (uintptr_t)(d)))

/* Events in order: the full trace when keep_full_trace, else the ring's last
 * SCHED_TRACE_RING events. */
size_t sched_trace_count(void);
const sched_trace_event_t *sched_trace_at(size_t i);
/* Events recorded so far this run, ring or not: the index the next event
 * gets. Event sched_trace_at(i) has index sched_trace_total() -
 * sched_trace_count() + i (the fatal pair names its two events by index). */
uint64_t sched_trace_total(void);
/* Formats one event's text (without step/fiber) into buf. */
void sched_trace_format(const sched_trace_event_t *ev, char *buf, size_t size);

#endif
