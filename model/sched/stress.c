/*
 * The stress backend of the scheduler API (--schedule=stress[:SEED]): every
 * model thread is a real pthread and the OS, not a choice source, picks the
 * interleaving -- the stress test a driver team runs today, on the same
 * driver code, oracles and sanitizers (docs/INPUT.md "Schedule sources").
 *
 * Included by sched.c (not a separate unit): it shares the fiber table, the
 * choice log, the trace and the step counter, so every query of sched.h and
 * every layer above work unchanged.
 *
 * The model lock ("GIL"). Model state (kernel, framework, PnP, this table) is
 * not thread-safe, so exactly one thread runs at a time: the holder of the
 * GIL. Driver code runs under it too -- between shim calls a driver is
 * plain code, and the model cannot tell where driver code ends and a shim
 * call begins (tdf_image_enter/exit see only driver functions, not the
 * model routines drivers call), so the lock is not released there. What
 * that serializes: everything between two yield points. Switches happen
 * only where the fiber scheduler can switch (every shim call, NoFence
 * access, register access, cross-image call and return, signal), so a
 * window between two plain instructions of driver code is never split;
 * unlike the fiber scheduler, who runs next is decided by which thread the
 * OS wakes first. Races on plain fields are TSan's to report in both.
 *   - yield point: with another thread runnable, drop the GIL, then (drawn
 *     per yield from a per-thread generator seeded by SEED) retake it at
 *     once, after sched_yield(), or after a random spin of up to ~2 us;
 *     whoever takes the GIL first runs.
 *   - sched_block: a real wait on the thread's own futex word until a
 *     sched_wake (under the GIL) kicks it, then retake the GIL.
 *   - timed waits keep the model's virtual time: one expires only when no
 *     thread can run (sched.h), chosen by whoever made the run idle.
 *   - deadlock (every thread blocked) is detected as in the fiber scheduler;
 *     a real hang (a thread that never reaches a yield point, a lost
 *     wake-up) by the watchdog in sched_run: TDF_STRESS_WATCHDOG seconds
 *     (default 20) without the run ending prints every thread's driver call
 *     stack and wait, and exits with the HANG class's code (14).
 * The GIL and the kicks are futexes and relaxed/acq-rel atomics in this
 * uninstrumented file: TSan does not see them, so as with fibers only the
 * modelled primitives publish happens-before (kernel/tsan_sync.h) and TSan
 * reports the driver races no primitive orders; the GIL is an artifact of
 * the model, not a lock the driver has.
 *
 * Replayable finds: each GIL hand-over at a yield, block or exit is logged as
 * the fiber choice the fiber scheduler would have made there (the runnable
 * set when the GIL was dropped, the index of the thread that took it), data
 * choices as usual; so sched_choices_as_bytes (the runner's --save_schedule)
 * turns a stress failure into a plain input that the deterministic scheduler
 * replays step for step.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>

#define STRESS_STACK (512u * 1024u)

static struct {
    int gil;           /* futex: 0 free, 1 held, 2 held with waiters */
    int over;          /* futex: the run has ended; every thread leaves at its next step */
    int kick[SCHED_MAX_FIBERS]; /* futex per thread: bumped by sched_wake and at the end */
    pthread_t thread[SCHED_MAX_FIBERS];
    uint8_t started[SCHED_MAX_FIBERS];
    uint64_t rng[SCHED_MAX_FIBERS]; /* per thread, touched only by its own thread */
    /* The hand-over being made: the runnable set and who dropped the GIL. */
    int watchdog; /* seconds a run may take (TDF_STRESS_WATCHDOG) */
    int pending;
    uint64_t pending_mask;
    int pending_from;
    uint8_t pending_local;
} T;

static sched_report_fn *g_watchdog_report;
void sched_set_watchdog_report(sched_report_fn *fn) { g_watchdog_report = fn; }

static __thread int t_self = SCHED_NO_FIBER; /* this thread's fiber id */

static long futex(int *addr, int op, int val, const struct timespec *timeout)
{
    return syscall(SYS_futex, addr, op, val, timeout, NULL, 0);
}

static void gil_lock(void)
{
    int c = 0;
    if (__atomic_compare_exchange_n(&T.gil, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    if (c != 2)
        c = __atomic_exchange_n(&T.gil, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        futex(&T.gil, FUTEX_WAIT_PRIVATE, 2, NULL);
        c = __atomic_exchange_n(&T.gil, 2, __ATOMIC_ACQUIRE);
    }
}

static void gil_unlock(void)
{
    if (__atomic_exchange_n(&T.gil, 0, __ATOMIC_RELEASE) == 2)
        futex(&T.gil, FUTEX_WAKE_PRIVATE, 1, NULL);
}

static int run_over(void) { return __atomic_load_n(&T.over, __ATOMIC_ACQUIRE); }

static uint64_t thread_rng(int id)
{
    uint64_t x = T.rng[id];
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    T.rng[id] = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Wakes one thread's wait (its kick word), under the GIL or at the end. */
static void stress_kick(int id)
{
    __atomic_add_fetch(&T.kick[id], 1, __ATOMIC_RELEASE);
    futex(&T.kick[id], FUTEX_WAKE_PRIVATE, 1, NULL);
}

/* Ends the run (under the GIL): main is woken, every blocked thread kicked. */
static void stress_end_run(sched_outcome_t outcome)
{
    if (run_over())
        return;
    S.outcome = outcome;
    __atomic_store_n(&T.over, 1, __ATOMIC_RELEASE);
    futex(&T.over, FUTEX_WAKE_PRIVATE, 1, NULL);
    for (int i = 0; i < S.count; i++)
        stress_kick(i);
}

/* The calling thread leaves the run for good (the run is over, or it ended). */
__attribute__((noreturn)) static void stress_leave(void)
{
    gil_unlock();
    pthread_exit(NULL);
}

/* Before dropping the GIL at a yield, block or exit: what the fiber
 * scheduler's choice would have been chosen among. */
static void stress_note_handover(int from)
{
    T.pending = 1;
    T.pending_mask = S.runnable;
    T.pending_from = from;
    T.pending_local = from != SCHED_NO_FIBER && S.fibers[from].local_step;
}

/* Takes the GIL as thread `self` (SCHED_NO_FIBER: main); logs the hand-over
 * as a fiber choice; leaves if the run is over. */
static void stress_acquire(int self)
{
    gil_lock();
    if (self != SCHED_NO_FIBER && run_over())
        stress_leave();
    set_current(self);
    if (T.pending && self != SCHED_NO_FIBER) {
        uint64_t mask = T.pending_mask;
        T.pending = 0;
        if ((mask >> self & 1) && (mask & (mask - 1))) {
            unsigned n = (unsigned)__builtin_popcountll(mask);
            int from = T.pending_from;
            int cur_runnable = from != SCHED_NO_FIBER && (mask >> from & 1);
            S.choice_points++;
            log_choice((sched_choice_t){
                .n = (uint16_t)n,
                .index = (uint16_t)__builtin_popcountll(mask & ((1ull << self) - 1)),
                .is_data = 0,
                .cur = cur_runnable ? (uint16_t)__builtin_popcountll(mask & ((1ull << from) - 1))
                                    : SCHED_CHOICE_NO_CURRENT,
                .runnable = mask,
                .cur_local = cur_runnable && T.pending_local});
        }
    }
}

/* Nothing is runnable (under the GIL): expire one timed wait, or end the run,
 * with the fiber scheduler's rules (reschedule in sched.c). */
static void stress_idle(void)
{
    if (S.runnable)
        return;
    int others_blocked = 0;
    for (int i = 0; i < S.count; i++)
        others_blocked |= S.fibers[i].state == SCHED_BLOCKED && !S.fibers[i].daemon;
    for (int i = 0; i < S.count; i++) {
        fiber_t *f = &S.fibers[i];
        if (f->state == SCHED_BLOCKED && f->wait_timed && (!f->daemon || others_blocked)) {
            set_state(i, SCHED_RUNNABLE);
            f->timed_out = 1;
            f->wait_object = NULL;
            stress_kick(i);
            return;
        }
    }
    stress_end_run(others_blocked ? SCHED_OUTCOME_DEADLOCK : SCHED_OUTCOME_DONE);
}

static void stress_count_step(void)
{
    if (++S.steps >= S.config.step_cap) {
        stress_end_run(SCHED_OUTCOME_HANG);
        stress_leave();
    }
}

static void *stress_thread_main(void *arg)
{
    int id = (int)(intptr_t)arg;
    t_self = id;
    stress_acquire(id);
    fiber_t *self = &S.fibers[id];
    self->fn(self->arg);
    sched_exit_fiber();
}

static int stress_watchdog_seconds(void);

static void stress_reset(void)
{
    T.watchdog = stress_watchdog_seconds(); /* a bad value exits 2 before any thread exists */
    /* sched_run joined every thread of the previous run; main holds the GIL
     * whenever no run is in progress. */
    T.gil = 1;
    T.over = 0;
    T.pending = 0;
    memset(T.started, 0, sizeof T.started);
    t_self = SCHED_NO_FIBER;
}

static int stress_spawn(const char *name, const char *owner, sched_fiber_fn *fn, void *arg)
{
    /* No slot reuse here: one pthread per slot, joined only at the end of the
     * run, so a run has at most SCHED_MAX_FIBERS threads in all and thread
     * ids equal slots (docs/ARCHITECTURE.md "Thread ids and slots"). */
    if (S.count >= SCHED_MAX_FIBERS)
        return SCHED_NO_FIBER;
    int id = S.count++;
    fiber_t *f = &S.fibers[id];
    set_state(id, SCHED_RUNNABLE);
    (void)thread_register(id, name, owner);
    f->fn = fn;
    f->arg = arg;
    f->wait_object = NULL;
    f->wait_reason = NULL;
    f->wait_timed = 0;
    f->timed_out = 0;
    f->local_step = 0;
    f->daemon = 0;
    f->slot = NULL;
    f->tsan_fiber = NULL;
    f->pct_priority = 0;
    T.kick[id] = 0;
    T.rng[id] = (S.config.source.seed + 1) * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)id << 32 | 0x5bd1e995u);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, STRESS_STACK);
    int rc = pthread_create(&T.thread[id], &attr, stress_thread_main, (void *)(intptr_t)id);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        fprintf(stderr, "==TDF== HARNESS stress backend: pthread_create failed: %s\n", strerror(rc));
        abort();
    }
    T.started[id] = 1;
    return id;
}

/* A yield point of the running thread (under the GIL). */
static void stress_yield(int local)
{
    int self = sched_current_slot;
    fiber_t *f = &S.fibers[self];
    stress_count_step();
    if ((S.runnable & ~(1ull << self)) == 0)
        return; /* nobody else could take the GIL: no hand-over, as the fiber scheduler's n = 1 */
    f->local_step = (uint8_t)local;
    stress_note_handover(self);
    uint64_t r = thread_rng(self);
    gil_unlock();
    switch (r & 3) {
    case 0:
    case 1:
        break; /* retake at once: a waiter that is already awake may win */
    case 2:
        sched_yield();
        break;
    default:
        for (unsigned i = (unsigned)(r >> 8) % 4096u; i; i--)
            __builtin_ia32_pause();
        break;
    }
    stress_acquire(self);
    f->local_step = 0;
}

/* sched_block / sched_block_timed of the running thread. */
static int stress_block(const void *object, const char *what, int timed)
{
    int self = sched_current_slot;
    fiber_t *f = &S.fibers[self];
    wait_on(self, object);
    f->wait_reason = what;
    f->wait_timed = (uint8_t)timed;
    f->timed_out = 0;
    stress_count_step();
    stress_idle(); /* the run may have ended here, or a timed wait (ours too) expired */
    for (;;) {
        if (run_over())
            stress_leave();
        if (f->state != SCHED_BLOCKED)
            break;
        int seen = __atomic_load_n(&T.kick[self], __ATOMIC_ACQUIRE);
        stress_note_handover(SCHED_NO_FIBER);
        gil_unlock();
        /* Woken by sched_wake (or the end of the run) bumping our kick word;
         * a bump between the load and the wait makes the wait return at once. */
        while (__atomic_load_n(&T.kick[self], __ATOMIC_ACQUIRE) == seen && !run_over())
            futex(&T.kick[self], FUTEX_WAIT_PRIVATE, seen, NULL);
        stress_acquire(self);
    }
    f->wait_timed = 0;
    return f->timed_out;
}

__attribute__((noreturn)) static void stress_exit_fiber(void)
{
    set_state(sched_current_slot, SCHED_DONE);
    stress_idle();
    stress_note_handover(SCHED_NO_FIBER);
    stress_leave();
}

__attribute__((noreturn)) static void stress_abort_run(void)
{
    stress_end_run(SCHED_OUTCOME_ABORTED);
    stress_leave();
}

/* TDF_STRESS_WATCHDOG, read at every reset (a getenv per run). */
static int stress_watchdog_seconds(void)
{
    const char *v = getenv("TDF_STRESS_WATCHDOG");
    char *end;
    long x = v && *v ? strtol(v, &end, 10) : 20;
    if (v && *v && (*end || x < 1 || x > 86400)) {
        fprintf(stderr, "==TDF== TDF_STRESS_WATCHDOG=%s: expected whole seconds 1..86400\n", v);
        exit(2);
    }
    return (int)x;
}

/* The watchdog fired: report what every thread was doing and leave. The
 * other threads are stuck (or never reach a yield point), so this reads the
 * table without the GIL: a diagnostic, the process exits after it. */
__attribute__((noreturn)) static void stress_watchdog_report(void)
{
    int holder = sched_current_fiber;
    fprintf(stdout, "==TDF== HANG WATCHDOG stress step=%lu thread=%s\n", (unsigned long)S.steps,
            sched_fiber_name(holder));
    fprintf(stdout, "==TDF== SIGNATURE HANG/WATCHDOG:stress:%s\n", sched_fiber_owner(holder));
    fprintf(stdout, "==TDF== DETAIL the stress run did not end within %d s (TDF_STRESS_WATCHDOG); the model lock "
                    "is held by %s\n", T.watchdog, sched_fiber_name(holder));
    if (g_watchdog_report)
        g_watchdog_report(stdout); /* the layers above: each thread's driver call stack and wait */
    fflush(stdout);
    _exit(14); /* the HANG class (README.md "Exit codes") */
}

static sched_outcome_t stress_run(void)
{
    set_current(SCHED_NO_FIBER);
    if (S.count == 0)
        return SCHED_OUTCOME_DONE;
    stress_note_handover(SCHED_NO_FIBER);
    gil_unlock(); /* main held it through the setup */
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += T.watchdog;
    while (!run_over()) {
        struct timespec now, left;
        clock_gettime(CLOCK_MONOTONIC, &now);
        left.tv_sec = deadline.tv_sec - now.tv_sec;
        left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
        if (left.tv_nsec < 0)
            left.tv_nsec += 1000000000L, left.tv_sec--;
        if (left.tv_sec < 0)
            stress_watchdog_report();
        futex(&T.over, FUTEX_WAIT_PRIVATE, 0, &left);
    }
    for (int i = 0; i < S.count; i++)
        if (T.started[i])
            pthread_join(T.thread[i], NULL);
    /* Every thread is gone: main holds the GIL again. */
    T.gil = 1;
    T.pending = 0;
    set_current(SCHED_NO_FIBER);
    return S.outcome;
}
