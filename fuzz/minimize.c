/*
 * Semantic minimization: delta debugging over a decoded input, in-process.
 *
 * A candidate is params + events + schedule bytes (in use order). Each step
 * builds one candidate from the best so far and keeps it only if its run
 * gives the WHOLE signature of the original and it is smaller by the measure
 * (events + preemptions, preemptions, schedule bytes, sum of values)
 * compared in that order. The measure only goes down, so the loop ends, and every pass walks
 * in a fixed order, so the same input gives the same output. tdf_run resets
 * the model between runs: in the plain build nothing forks.
 *
 * Passes, repeated until a round changes nothing: drop event chunks (halving
 * sizes, from the end), drop schedule-byte chunks, zero/lower event
 * arguments, shorten runs (the stay count b >> 3), change the pick (b & 7:
 * drops a preemption, or a smaller byte), lower params; at a fixpoint of
 * those, drop one event and search its schedule again (seeded random), then
 * the fewest preemptions of these events (dfs). docs/INPUT.md "Minimizing".
 *
 * A candidate that faults (a signal, in a build without a sanitizer) or hangs
 * (step cap: HANG, a signature of its own) is simply "different". In the
 * asan build a sanitizer report ends the process it happens in, so there
 * the candidates run in a forked worker process that hands each outcome back
 * (the report's signature when a report ended it, and a fresh worker
 * for the next): an input whose failure is such a report minimizes keeping
 * it, and for any other input a candidate that dies in one is "different".
 */
#define _GNU_SOURCE /* open_memstream */
#include "minimize.h"

#include "../model/sched/dfs.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MIN_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MIN_SANITIZER 1
#endif
#endif
#ifndef MIN_SANITIZER
#define MIN_SANITIZER 0
#endif
/* The TSan build links the runtime into model code built without
 * -fsanitize=thread (TDF_TSAN_RUNTIME, tdf_apply_model_flags). */
#if defined(__SANITIZE_THREAD__) || defined(TDF_TSAN_RUNTIME)
#define MIN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MIN_TSAN 1
#endif
#endif
#ifndef MIN_TSAN
#define MIN_TSAN 0
#endif
#if MIN_SANITIZER
#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

typedef struct cand {
    uint8_t params[TDF_MAX_PARAMS];
    unsigned nev;
    tdf_event_t ev[TDF_MAX_EVENT_COUNT];
    size_t nsch;
    uint8_t sch[TDF_TEXT_MAX_SCHEDULE]; /* use order: sch[0] is read first */
} cand_t;

typedef struct outcome {
    int faulted;                        /* a signal ended the run: never the same */
    char sig[TDF_TEXT_MAX_SIGNATURE];   /* "NONE" for a clean run */
    size_t consumed;                    /* schedule bytes the run read */
    unsigned preempt;                   /* choices that switched away from a runnable fiber */
} outcome_t;

static struct {
    const tdf_minimize_args_t *a;
    char want[TDF_TEXT_MAX_SIGNATURE];
    unsigned long runs;
    cand_t best;
    outcome_t best_out;
    cand_t dfs_done; /* pass_min_depth searched these events and params */
    unsigned dfs_below; /* below this many preemptions */
    int dfs_have;
    sigjmp_buf jmp;
    volatile sig_atomic_t guarded;
    unsigned long sanitizer_deaths; /* asan: runs a sanitizer report ended (each ended its worker) */
} M;

static const char *plural(unsigned long n, const char *one, const char *many) { return n == 1 ? one : many; }

/* ---- one run --------------------------------------------------------------------- */
static unsigned count_preemptions(const sched_choice_t *log, size_t n)
{
    unsigned p = 0;
    for (size_t i = 0; i < n; i++)
        p += log[i].is_data == 0 && log[i].cur != SCHED_CHOICE_NO_CURRENT && log[i].index != log[i].cur;
    return p;
}

/* What a candidate is compared by, from the model as its run left it (or as
 * it is at the sanitizer report that ends it): f is its failure, NULL if none. */
static void read_outcome(const tdf_failure_t *f, outcome_t *o)
{
    if (f)
        tdf_failure_signature(f, o->sig, sizeof o->sig);
    else
        snprintf(o->sig, sizeof o->sig, "NONE");
    o->consumed = sched_bytes_consumed();
    size_t n;
    const sched_choice_t *log = sched_choice_log(&n);
    o->preempt = count_preemptions(log, n);
}

#if !MIN_SANITIZER
static void on_candidate_fault(int sig)
{
    if (M.guarded)
        siglongjmp(M.jmp, sig);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Runs one script in-process; the outcome is what a candidate is compared by. */
static void run_script(const tdf_script_t *s, outcome_t *o)
{
    tdf_run_options_t opts = {.variant = M.a->variant, .full_trace = 0, .step_cap = M.a->step_cap};
    memset(o, 0, sizeof *o);
    M.runs++;
    /* The model is reset by the next tdf_run: jumping out of a fiber leaves
     * nothing that run depends on (the same as an aborted run). */
    if (sigsetjmp(M.jmp, 1) != 0) {
        M.guarded = 0;
        o->faulted = 1;
        return;
    }
    M.guarded = 1;
    tdf_class_t cls = tdf_run(M.a->target, s, &opts);
    M.guarded = 0;
    read_outcome(cls == TDF_CLASS_NONE ? NULL : tdf_failure(), o);
}

/* The choice log of the last run: the scheduler's own. */
static const sched_choice_t *last_log(size_t *n, int *complete)
{
    *complete = sched_choice_log_complete();
    return sched_choice_log(n);
}
#else
/* A sanitizer report ends the process it happens in, so the runs happen in a
 * worker process forked from the minimizer: it runs candidates one after
 * another, in-process as the plain build does (tdf_run resets the model),
 * and hands back each one's outcome and choice log (the reschedule and dfs
 * passes read it) through this MAP_SHARED block, from the death callback
 * when a report ends the run. The next candidate then gets a fresh worker.
 * A fork per candidate costs 3-4 ms here (the kernel copies the page
 * tables of ASan's shadow): repro/fuzz_bus_child/flag_check.txt's 33,454
 * runs took 260 s so, 4.9 s with a worker that forks once per report
 * (docs/INPUT.md "Minimizing"). The minimizer runs
 * no model code itself, so every worker starts from the same state. */
#define CHILD_LOG_MAX (1u << 17) /* model/sched/sched.c's CHOICE_LOG_MAX: a longer log is incomplete there too */
enum { CHILD_NOTHING, CHILD_RAN, CHILD_DIED };
typedef struct child_block {
    /* The candidate, with the arrays its schedule source points to: the
     * worker's copy of the minimizer's memory dates from its fork. */
    tdf_script_t script;
    uint8_t bytes[TDF_TEXT_MAX_FILE];
    sched_choice_t replay[CHILD_LOG_MAX];
    /* Its outcome. */
    int state; /* CHILD_NOTHING until the worker wrote the rest */
    outcome_t out;
    size_t nlog;
    int log_complete;
    sched_choice_t log[CHILD_LOG_MAX];
} child_block_t;
static child_block_t *g_child;
static struct {
    pid_t pid;     /* 0: none running */
    int req, ack;  /* the minimizer's ends: a byte per candidate, a byte per outcome */
} g_worker;
static int g_in_worker; /* this process is the worker */

static void child_report(int state, const tdf_failure_t *f)
{
    read_outcome(f, &g_child->out);
    size_t n;
    const sched_choice_t *log = sched_choice_log(&n);
    g_child->log_complete = sched_choice_log_complete() && n <= CHILD_LOG_MAX;
    g_child->nlog = n <= CHILD_LOG_MAX ? n : CHILD_LOG_MAX;
    memcpy(g_child->log, log, g_child->nlog * sizeof log[0]);
    g_child->state = state; /* last: the minimizer reads nothing of a run that did not get here */
}

/* The sanitizer's death callback, after its report: fuzz/report.c recorded
 * the report as the run's failure, whose signature (SANITIZER/<kind>:
 * <frame>:<caller>, or a freed pool block's key) is the SIGNATURE line a
 * replay prints. A report with no
 * such record (a UBSan report, or one after the model's own failure) has no
 * signature to keep: "different". */
static void on_death(void)
{
    if (g_in_worker) {
        const tdf_failure_t *f = tdf_failure();
        int keyed = f && f->cls == TDF_CLASS_SANITIZER;
        child_report(CHILD_DIED, keyed ? f : NULL);
        g_child->out.faulted = !keyed;
    }
    fflush(stderr);
}

static void worker_main(int req, int ack)
{
    g_in_worker = 1;
    if (!M.a->verbose) { /* the sanitizer's reports, and the runner's lines about them */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDERR_FILENO);
    }
    tdf_run_options_t opts = {.variant = M.a->variant, .full_trace = 0, .step_cap = M.a->step_cap};
    char go;
    while (read(req, &go, 1) == 1) {
        tdf_class_t cls = tdf_run(M.a->target, &g_child->script, &opts);
        child_report(CHILD_RAN, cls == TDF_CLASS_NONE ? NULL : tdf_failure());
        if (write(ack, &go, 1) != 1)
            break;
    }
    _exit(0); /* no atexit work: LeakSanitizer's check is the minimizer's, at its own exit */
}

/* Waits for the worker's end; it has none running after. */
static void worker_reap(void)
{
    close(g_worker.req);
    close(g_worker.ack);
    int status;
    while (waitpid(g_worker.pid, &status, 0) < 0 && errno == EINTR)
        ;
    g_worker.pid = 0;
}

static void worker_start(void)
{
    int req[2], ack[2];
    if (pipe(req) != 0 || pipe(ack) != 0) {
        fprintf(stderr, "==TDF== --minimize: cannot make the worker's pipes: %s\n", strerror(errno));
        exit(TDF_MINIMIZE_BAD); /* going on would make the result depend on the machine */
    }
    fflush(stdout); /* nothing buffered is written twice */
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "==TDF== --minimize: cannot fork a worker for run %lu: %s\n", M.runs, strerror(errno));
        exit(TDF_MINIMIZE_BAD);
    }
    if (pid == 0) {
        close(req[1]);
        close(ack[0]);
        worker_main(req[0], ack[1]);
    }
    close(req[0]);
    close(ack[1]);
    g_worker.pid = pid, g_worker.req = req[1], g_worker.ack = ack[0];
}

static void run_script(const tdf_script_t *s, outcome_t *o)
{
    memset(o, 0, sizeof *o);
    M.runs++;
    g_child->script = *s;
    const sched_source_t *src = &s->schedule;
    /* Never longer: an input has at most TDF_TEXT_MAX_FILE bytes, and a dfs
     * prefix is taken from a log the worker handed back. */
    if ((src->bytes && src->len > sizeof g_child->bytes) || (src->replay && src->replay_len > CHILD_LOG_MAX)) {
        fprintf(stderr, "==TDF== --minimize: run %lu's schedule does not fit the worker's block\n", M.runs);
        exit(TDF_MINIMIZE_BAD);
    }
    if (src->bytes) {
        memcpy(g_child->bytes, src->bytes, src->len);
        g_child->script.schedule.bytes = g_child->bytes;
    }
    if (src->replay) {
        memcpy(g_child->replay, src->replay, src->replay_len * sizeof src->replay[0]);
        g_child->script.schedule.replay = g_child->replay;
    }
    g_child->state = CHILD_NOTHING;
    g_child->nlog = 0;
    if (!g_worker.pid)
        worker_start();
    char go = 1;
    if (write(g_worker.req, &go, 1) != 1 || read(g_worker.ack, &go, 1) != 1)
        worker_reap(); /* it died in this run (its report ends it), or before */
    if (g_child->state == CHILD_NOTHING) {
        o->faulted = 1; /* killed before it could say anything */
        return;
    }
    *o = g_child->out;
    M.sanitizer_deaths += g_child->state == CHILD_DIED;
}

/* The choice log of the last run: the worker's copy. */
static const sched_choice_t *last_log(size_t *n, int *complete)
{
    *n = g_child->nlog;
    *complete = g_child->log_complete;
    return g_child->log;
}
#endif

static void script_of(const cand_t *c, tdf_script_t *s, uint8_t *rev)
{
    memset(s, 0, sizeof *s);
    memcpy(s->params, c->params, sizeof s->params);
    s->event_count = c->nev;
    memcpy(s->events, c->ev, c->nev * sizeof c->ev[0]);
    for (size_t i = 0; i < c->nsch; i++)
        rev[c->nsch - 1 - i] = c->sch[i]; /* the source reads from the end backwards */
    s->schedule = (sched_source_t){.kind = SCHED_SOURCE_BYTES, .bytes = rev, .len = c->nsch};
}

/* A script in candidate form: its first n schedule bytes in use order. */
static void cand_of(const tdf_script_t *s, size_t n, cand_t *c)
{
    memset(c, 0, sizeof *c);
    memcpy(c->params, s->params, sizeof c->params);
    c->nev = s->event_count;
    memcpy(c->ev, s->events, s->event_count * sizeof s->events[0]);
    c->nsch = n;
    for (size_t i = 0; i < n; i++)
        c->sch[i] = s->schedule.bytes[s->schedule.len - 1 - i];
}

static void run(const cand_t *c, outcome_t *o)
{
    static uint8_t rev[TDF_TEXT_MAX_SCHEDULE];
    static tdf_script_t s;
    script_of(c, &s, rev);
    run_script(&s, o);
}

static unsigned long value_sum(const cand_t *c)
{
    unsigned long sum = 0;
    for (unsigned i = 0; i < M.a->target->param_count; i++)
        sum += c->params[i];
    for (unsigned i = 0; i < c->nev; i++)
        sum += c->ev[i].arg;
    for (size_t i = 0; i < c->nsch; i++)
        sum += c->sch[i];
    return sum;
}

/* Two measures, each compared in order. EVENTS_FIRST: events, preemptions,
 * schedule bytes, the sum of all values (drops an event even at the price of
 * preemptions: it gets out of local minima). COST: events + preemptions
 * (what a reader must follow), then preemptions (the bug depth), schedule
 * bytes, values. The result is the better by COST of two searches. */
enum { EVENTS_FIRST, COST };
static int g_measure;

static int smaller(const cand_t *c, const outcome_t *o)
{
    unsigned long cost = c->nev + o->preempt, best_cost = M.best.nev + M.best_out.preempt;
    if (g_measure == COST && cost != best_cost)
        return cost < best_cost;
    if (g_measure == EVENTS_FIRST && c->nev != M.best.nev)
        return c->nev < M.best.nev;
    if (o->preempt != M.best_out.preempt)
        return o->preempt < M.best_out.preempt;
    if (c->nsch != M.best.nsch)
        return c->nsch < M.best.nsch;
    return value_sum(c) < value_sum(&M.best);
}

/* Runs c; keeps it as the best if it gives the signature and is smaller.
 * Bytes past what the run read are dropped first: they change nothing. */
static int try_cand(cand_t *c)
{
    outcome_t o;
    run(c, &o);
    if (o.faulted || strcmp(o.sig, M.want) != 0)
        return 0;
    if (o.consumed < c->nsch)
        c->nsch = o.consumed;
    if (!smaller(c, &o))
        return 0;
    M.best = *c;
    M.best_out = o;
    return 1;
}

/* ---- passes ---------------------------------------------------------------------- */
static size_t top_chunk(size_t n)
{
    size_t k = 1;
    while (k * 2 <= n)
        k *= 2;
    return k;
}

static int pass_drop_events(void)
{
    static cand_t c;
    int changed = 0;
    for (size_t chunk = top_chunk(M.best.nev); M.best.nev && chunk >= 1; chunk /= 2) {
        for (long i = (long)M.best.nev - (long)chunk; i >= 0; i -= (long)chunk) {
            c = M.best;
            memmove(&c.ev[i], &c.ev[i + (long)chunk], (c.nev - (size_t)i - chunk) * sizeof c.ev[0]);
            c.nev -= (unsigned)chunk;
            changed |= try_cand(&c);
        }
    }
    return changed;
}

static int pass_drop_schedule(void)
{
    static cand_t c;
    int changed = 0;
    for (size_t chunk = top_chunk(M.best.nsch); M.best.nsch && chunk >= 1; chunk /= 2) {
        for (long i = (long)M.best.nsch - (long)chunk; i >= 0; i -= (long)chunk) {
            if ((size_t)i + chunk > M.best.nsch) /* a keep trimmed the unread tail */
                continue;
            c = M.best;
            memmove(&c.sch[i], &c.sch[(size_t)i + chunk], c.nsch - (size_t)i - chunk);
            c.nsch -= chunk;
            changed |= try_cand(&c);
        }
    }
    return changed;
}

/* Arguments pick a device modulo the live ones or feed a stimulus: small
 * values first, the first that keeps the signature wins. */
static int pass_event_args(void)
{
    static cand_t c;
    int changed = 0;
    for (unsigned i = 0; i < M.best.nev; i++) {
        unsigned arg = M.best.ev[i].arg;
        for (unsigned v = 0; v < arg && v < 16; v++) {
            c = M.best;
            c.ev[i].arg = (uint8_t)v;
            if (try_cand(&c)) {
                changed = 1;
                break;
            }
        }
    }
    return changed;
}

/* Shorter runs: the stay count b >> 3 to 0, half, one less. */
static int pass_shorten_runs(void)
{
    static cand_t c;
    int changed = 0;
    for (size_t i = 0; i < M.best.nsch; i++) {
        unsigned b = M.best.sch[i], stay = b >> 3;
        unsigned tries[3] = {0, stay / 2, stay - 1};
        for (unsigned k = 0; stay && k < 3 && i < M.best.nsch; k++) {
            if (tries[k] >= stay || (k && tries[k] == tries[k - 1]))
                continue;
            c = M.best;
            c.sch[i] = (uint8_t)((b & 7u) | (tries[k] << 3));
            if (try_cand(&c)) {
                changed = 1;
                break;
            }
        }
    }
    return changed;
}

/* Another pick (b & 7) at the same stay: one of them is the running fiber,
 * which drops a preemption; else a smaller byte. */
static int pass_picks(void)
{
    static cand_t c;
    int changed = 0;
    for (size_t i = 0; i < M.best.nsch; i++) {
        unsigned b = M.best.sch[i];
        for (unsigned k = 0; k < 8 && i < M.best.nsch; k++) {
            if (k == (b & 7u))
                continue;
            c = M.best;
            c.sch[i] = (uint8_t)((b & ~7u) | k);
            if (try_cand(&c)) {
                changed = 1;
                b = M.best.sch[i];
            }
        }
    }
    return changed;
}

/* The last run's choices as schedule bytes, in use order, with the stay
 * count folded in: a fiber choice that keeps the running fiber extends the
 * previous fiber byte's stay (b >> 3, up to 31) instead of taking a byte of
 * its own, as the countdown of pick_next reads it. The countdown spans data
 * choices (they read bytes of their own) but not a choice where the running
 * fiber blocked (that one reads a byte). Returns the count, or (size_t)-1
 * when a choice cannot be named by one byte or there are more than cap. */
static size_t choices_as_runs(uint8_t *out, size_t cap)
{
    size_t n, k = 0;
    int complete; /* a cut log gives the bytes of its prefix: the replay in try_cand checks them */
    const sched_choice_t *log = last_log(&n, &complete);
    long run = -1; /* the fiber byte whose countdown is still going */
    for (size_t i = 0; i < n; i++) {
        const sched_choice_t *c = &log[i];
        if (c->is_data == 0 && c->cur != SCHED_CHOICE_NO_CURRENT && c->index == c->cur && run >= 0 &&
            (out[run] >> 3) < 31) {
            out[run] = (uint8_t)(out[run] + 8);
            continue;
        }
        if (k == cap)
            return (size_t)-1;
        if (c->is_data == 2) {
            out[k++] = (uint8_t)(c->index << 7); /* sched_choose_flag reads the top bit */
        } else if (c->is_data == 1) {
            if (c->index > 255)
                return (size_t)-1;
            out[k++] = (uint8_t)c->index; /* b % n == index */
        } else {
            if (c->index > 7)
                return (size_t)-1;
            run = (long)k;
            out[k++] = (uint8_t)c->index; /* (b & 7) % n == index */
        }
    }
    return k;
}

/* An event the interleaving needs no longer, once the others move: without
 * event i the old bytes land on other choice points, so seeded random
 * schedules (--schedule random:1..RESEED) are tried, and the first that
 * gives the signature is kept as bytes (the choices it made); the byte
 * passes then shrink it. Run only at a fixpoint of the others. */
#define RESEED 1024
static int pass_drop_events_reschedule(void)
{
    static cand_t c;
    static uint8_t bytes[TDF_TEXT_MAX_SCHEDULE];
    int changed = 0;
    for (long i = (long)M.best.nev - 1; i >= 0; i--) {
        for (uint64_t seed = 1; seed <= RESEED && i < (long)M.best.nev; seed++) {
            c = M.best;
            memmove(&c.ev[i], &c.ev[i + 1], (c.nev - (size_t)i - 1) * sizeof c.ev[0]);
            c.nev--;
            c.nsch = 0; /* replaced by the random run's choices below */
            static uint8_t none[1];
            static tdf_script_t s;
            script_of(&c, &s, none);
            s.schedule = (sched_source_t){.kind = SCHED_SOURCE_RANDOM, .seed = seed};
            outcome_t o;
            run_script(&s, &o);
            if (o.faulted || strcmp(o.sig, M.want) != 0)
                continue;
            size_t n = choices_as_runs(bytes, sizeof bytes);
            if (n == (size_t)-1)
                continue; /* a pick one byte cannot name */
            memcpy(c.sch, bytes, n);
            c.nsch = n;
            if (try_cand(&c)) { /* the bytes replay it: checked, not assumed */
                changed = 1;
                break;
            }
        }
    }
    return changed;
}

/* The fewest preemptions these events need: every schedule with at most P
 * preemptions, P = 0, 1, ... below the best's (model/sched/dfs.h, up to
 * DFS_LIMIT schedules per bound); the first that gives the signature is kept
 * as bytes. Run only at a fixpoint of the others. */
#define DFS_LIMIT 5000
static int pass_min_depth(void)
{
    static cand_t c;
    static uint8_t bytes[TDF_TEXT_MAX_SCHEDULE], none[1];
    static tdf_script_t s;
    /* The same events and params searched before, below as many preemptions:
     * the search would find nothing again (both searches reach it). */
    if (M.dfs_have && M.dfs_done.nev == M.best.nev && M.best_out.preempt <= M.dfs_below &&
        memcmp(M.dfs_done.ev, M.best.ev, M.best.nev * sizeof M.best.ev[0]) == 0 &&
        memcmp(M.dfs_done.params, M.best.params, sizeof M.best.params) == 0)
        return 0;
    M.dfs_done = M.best;
    M.dfs_below = M.best_out.preempt;
    M.dfs_have = 1;
    for (unsigned p = 0; p < M.best_out.preempt; p++) {
        sched_dfs_t *d = sched_dfs_create(p, 0);
        if (!d)
            return 0;
        sched_source_t src;
        int found = 0;
        for (unsigned long k = 0; !found && k < DFS_LIMIT && sched_dfs_next(d, &src); k++) {
            c = M.best;
            c.nsch = 0;
            script_of(&c, &s, none);
            s.schedule = src;
            outcome_t o;
            run_script(&s, &o);
            size_t nlog;
            int complete;
            const sched_choice_t *log = last_log(&nlog, &complete);
            if (o.faulted || !sched_dfs_record_log(d, log, nlog, complete))
                break; /* a fault leaves a cut log: the search cannot go on from it */
            if (strcmp(o.sig, M.want) != 0)
                continue;
            size_t n = choices_as_runs(bytes, sizeof bytes);
            if (n == (size_t)-1)
                continue;
            memcpy(c.sch, bytes, n);
            c.nsch = n;
            found = try_cand(&c); /* the bytes replay it: checked, not assumed */
        }
        sched_dfs_destroy(d);
        if (found)
            return 1;
    }
    return 0;
}

static int pass_params(void)
{
    static cand_t c;
    int changed = 0;
    const tdf_target_desc_t *t = M.a->target;
    for (unsigned p = 0; p < t->param_count; p++) {
        for (unsigned v = t->params[p].min; v < M.best.params[p]; v++) {
            c = M.best;
            c.params[p] = (uint8_t)v;
            if (try_cand(&c)) {
                changed = 1;
                break;
            }
        }
    }
    return changed;
}

/* Passes until a round changes nothing; returns the rounds. */
static unsigned search(int measure, char name)
{
    unsigned rounds = 0;
    g_measure = measure;
    for (int changed = 1; changed;) {
        rounds++;
        changed = 0;
        changed |= pass_drop_events();
        changed |= pass_drop_schedule();
        changed |= pass_event_args();
        changed |= pass_shorten_runs();
        changed |= pass_picks();
        changed |= pass_params();
        if (!changed)
            changed |= pass_drop_events_reschedule();
        if (!changed)
            changed |= pass_min_depth();
        printf("==TDF== MINIMIZE %c %s round %u: %u %s, %zu schedule %s, %u %s\n", name,
               measure == COST ? "cost" : "events", rounds, M.best.nev, plural(M.best.nev, "event", "events"),
               M.best.nsch, plural(M.best.nsch, "byte", "bytes"), M.best_out.preempt,
               plural(M.best_out.preempt, "preemption", "preemptions"));
    }
    return rounds;
}

/* ---- output ---------------------------------------------------------------------- */
static void print_params(FILE *out, const cand_t *c)
{
    const tdf_target_desc_t *t = M.a->target;
    for (unsigned p = 0; p < t->param_count; p++)
        fprintf(out, "%s%s=%u", p ? " " : "", t->params[p].name, c->params[p]);
    if (!t->param_count)
        fprintf(out, "none");
}

/* The text form with the expectation lines: the runner's own text, its
 * "# teardown-fuzz input" line replaced by the header. */
static int write_out(const char *path, const cand_t *c, const outcome_t *o)
{
    const tdf_minimize_args_t *a = M.a;
    static uint8_t rev[TDF_TEXT_MAX_SCHEDULE];
    tdf_script_t s;
    script_of(c, &s, rev);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return 0;
    tdf_write_text(a->target, &s, mem);
    fclose(mem);
    const char *body = text;
    if (strncmp(body, "# teardown-fuzz input", 21) == 0 && strchr(body, '\n'))
        body = strchr(body, '\n') + 1;
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "==TDF== --minimize: cannot write %s: %s\n", path, strerror(errno));
        free(text);
        return 0;
    }
    fprintf(f, "# teardown-fuzz repro: minimized keeping its signature (scripts/minimize.sh)\n");
    fprintf(f, "# bug: %s\n", a->target->variants[a->variant].doc);
    fprintf(f, "# expect-variant %s\n", a->target->variants[a->variant].name);
    fprintf(f, "# expect-signature %s\n", M.want);
    if (a->check && a->meta->expect_tsan[0])
        fprintf(f, "# expect-tsan %s\n", a->meta->expect_tsan);
    fprintf(f, "# minimal: %u %s, %zu schedule %s, %u %s, bug depth %u\n", c->nev, plural(c->nev, "event", "events"),
            c->nsch, plural(c->nsch, "byte", "bytes"), o->preempt, plural(o->preempt, "preemption", "preemptions"),
            o->preempt + 1);
    fputs(body, f);
    free(text);
    if (fclose(f) != 0) {
        fprintf(stderr, "==TDF== --minimize: cannot write %s: %s\n", path, strerror(errno));
        return 0;
    }
    return 1;
}

/* Parses OUT back and runs it: what is written must replay as the signature. */
static int replays(const char *path, outcome_t *o)
{
    static char text[TDF_TEXT_MAX_FILE + 1];
    static uint8_t bin[TDF_TEXT_MAX_FILE];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    char err[512];
    long size = tdf_parse_text(M.a->target, text, n, bin, sizeof bin, NULL, err, sizeof err);
    if (size < 0) {
        fprintf(stderr, "==TDF== --minimize: %s does not parse back: %s\n", path, err);
        return 0;
    }
    tdf_script_t s;
    tdf_decode(M.a->target, bin, (size_t)size, &s);
    static cand_t c;
    cand_of(&s, s.schedule.len, &c);
    run(&c, o);
    return !o->faulted && strcmp(o->sig, M.want) == 0;
}

/* The minimization proper, between tdf_minimize's setup and teardown. */
static int minimize(const tdf_minimize_args_t *a)
{
    const char *vname = a->target->variants[a->variant].name;
    /* The input as given, then as a candidate: the schedule bytes it never
     * reads are dropped (the run is the same). */
    tdf_script_t s;
    tdf_decode(a->target, a->data, a->size, &s);
    outcome_t first;
    run_script(&s, &first);
    if (first.faulted) {
        fprintf(stderr, "==TDF== --minimize: %s faults the harness (%s): there is no signature to keep; replay it "
                        "without --minimize\n", a->input_path,
                MIN_SANITIZER ? "a signal, or a sanitizer report the runner records no SANITIZER failure for"
                              : "a signal, class FAULT");
        return TDF_MINIMIZE_NO_FAILURE;
    }
    if (a->check && a->meta->expect_signature[0] && strcmp(a->meta->expect_signature, first.sig) != 0) {
        printf("==TDF== EXPECTATION FAILED expected %s got %s (%s line %u, variant %s): nothing to minimize\n",
               a->meta->expect_signature, first.sig, a->input_path, a->meta->expect_signature_line, vname);
        return TDF_MINIMIZE_UNMET;
    }
    if (strcmp(first.sig, "NONE") == 0) {
        fprintf(stderr, "==TDF== --minimize: %s does not fail on variant %s: no signature to keep\n", a->input_path,
                vname);
        return TDF_MINIMIZE_NO_FAILURE;
    }
    if (first.consumed > TDF_TEXT_MAX_SCHEDULE) {
        fprintf(stderr, "==TDF== --minimize: %s reads %zu schedule bytes, over the text form's %u\n", a->input_path,
                first.consumed, TDF_TEXT_MAX_SCHEDULE);
        return TDF_MINIMIZE_BAD;
    }
    snprintf(M.want, sizeof M.want, "%s", first.sig);
    cand_of(&s, first.consumed, &M.best);
    M.best_out = first;
    printf("==TDF== MINIMIZE %s variant=%s signature=%s\n", a->input_path, vname, M.want);
    printf("==TDF== MINIMIZE before: %u %s, %zu schedule %s (%zu read), %u %s, params ", M.best.nev,
           plural(M.best.nev, "event", "events"), s.schedule.len, plural(s.schedule.len, "byte", "bytes"),
           first.consumed, first.preempt, plural(first.preempt, "preemption", "preemptions"));
    print_params(stdout, &M.best);
    printf("\n");

    /* A: events first, then COST from there; B: COST from the input. */
    static cand_t start, a_best;
    outcome_t start_out, a_out;
    start = M.best;
    start_out = M.best_out;
    unsigned rounds = search(EVENTS_FIRST, 'A');
    rounds += search(COST, 'A');
    a_best = M.best;
    a_out = M.best_out;
    M.best = start;
    M.best_out = start_out;
    rounds += search(COST, 'B');
    if (smaller(&a_best, &a_out)) { /* g_measure is COST: A only if strictly smaller */
        M.best = a_best;
        M.best_out = a_out;
    }

    int code = TDF_MINIMIZE_WRITTEN;
    outcome_t o;
    if (!write_out(a->out, &M.best, &M.best_out)) {
        code = TDF_MINIMIZE_BAD;
    } else if (!replays(a->out, &o)) {
        fprintf(stderr, "==TDF== --minimize: %s, as written, replays as %s, not %s\n", a->out,
                o.faulted ? "a harness fault" : o.sig, M.want);
        code = TDF_MINIMIZE_NO_FAILURE;
    } else {
        printf("==TDF== MINIMIZE after: %u %s, %zu schedule %s, %u %s, bug depth %u, params ", M.best.nev,
               plural(M.best.nev, "event", "events"), M.best.nsch, plural(M.best.nsch, "byte", "bytes"),
               M.best_out.preempt, plural(M.best_out.preempt, "preemption", "preemptions"), M.best_out.preempt + 1);
        print_params(stdout, &M.best);
        printf(" (%lu runs, %u %s)\n", M.runs, rounds, plural(rounds, "round", "rounds"));
        if (MIN_SANITIZER) /* the runs in worker processes: how many a sanitizer report ended */
            printf("==TDF== MINIMIZE %lu of %lu runs ended in a sanitizer report (the runs in forked workers; "
                   "--minimize_verbose shows their reports)\n", M.sanitizer_deaths, M.runs);
        printf("==TDF== MINIMIZE wrote %s\n", a->out);
    }
    return code;
}

int tdf_minimize(const tdf_minimize_args_t *a)
{
    memset(&M, 0, sizeof M);
    M.a = a;
#if MIN_TSAN
    fprintf(stderr, "==TDF== --minimize does not run in the TSan build: its first race report would end the "
                    "process; minimize in the plain build and check the result here\n");
    return TDF_MINIMIZE_BAD;
#endif
#if !MIN_SANITIZER
    struct sigaction sa, old[4];
    static const int sigs[4] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_candidate_fault;
    sa.sa_flags = SA_ONSTACK | SA_NODEFER; /* the runner installed the alternate stack */
    for (int i = 0; i < 4; i++)
        sigaction(sigs[i], &sa, &old[i]);
#else
    /* A worker that died leaves its pipes broken: an error to see, not a signal. */
    struct sigaction ignore, old_pipe;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &old_pipe);
    g_child = mmap(NULL, sizeof *g_child, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g_child == MAP_FAILED) {
        fprintf(stderr, "==TDF== --minimize: cannot map the block the workers share: %s\n", strerror(errno));
        sigaction(SIGPIPE, &old_pipe, NULL);
        return TDF_MINIMIZE_BAD;
    }
    __sanitizer_set_death_callback(on_death);
#endif
    int code = minimize(a);
#if !MIN_SANITIZER
    for (int i = 0; i < 4; i++)
        sigaction(sigs[i], &old[i], NULL);
#else
    if (g_worker.pid)
        worker_reap(); /* its request pipe closed: it exits */
    munmap(g_child, sizeof *g_child);
    g_child = NULL;
    sigaction(SIGPIPE, &old_pipe, NULL);
#endif
    return code;
}
