/*
 * Preemption-bounded depth-first exploration over the choice log (dfs.h).
 *
 * The stack holds one frame per choice point of the schedule being explored:
 * the choice the run took there and the next alternative still to try. A new
 * schedule is the stack's choices up to the deepest frame that has an untried
 * alternative within the bound, with that alternative in its place; the run
 * then appends frames for the choice points past it. Alternatives are tried in
 * index order, so the order of schedules (and hence the first failure) is a
 * function of the program alone.
 *
 * Sleep sets (SCHED_DFS_SLEEP_SETS; Godefroid's sleep sets over the steps'
 * footprints, sched.h "Footprints"). Each fiber-choice frame keeps
 *   sleep: fibers whose next step is covered elsewhere: not to be picked here;
 *   done:  one entry per alternative already explored here, with what that
 *          alternative's fiber ran (its entry, below);
 * and the sleep set of the next fiber-choice frame is sleep + done minus
 * every entry whose fiber ran in between or whose footprint is dependent with
 * a step that ran in between. Data and flag frames pass it on unchanged. An
 * alternative whose fiber is asleep is not run (stats.pruned); a run whose
 * default choice picks a sleeping fiber is redundant from that frame on
 * (stats.sleep_blocked): its deeper frames get no alternatives.
 *
 * Entries, and why each is sound under the preemption bound (the known
 * trouble with sleep sets and context bounding: the equivalent schedule that
 * pruning relies on may need more preemptions than the one pruned). Let E be
 * a schedule pruned at frame s because fiber F, asleep there, would run; its
 * entry was made at the ancestor frame a, where F's alternative was explored
 * first, and every step from a to s (call them S) is independent of the
 * entry. E' = F's steps moved in front of S is equivalent to E (same steps,
 * independent ones swapped) and lies in the subtree explored under F at a.
 * Counting switches away from a fiber that could go on, E' has no more
 * preemptions than E if:
 *   (A) F was the running fiber at a (a preemption frame) and its entry is
 *       its next step alone: E' runs F first at a (free) where E preempted F
 *       (cost 1); E' pays at most 1 for switching from F to S, and moving a
 *       step out from between two others never adds a switch;
 *   (B) the entry is F's whole run up to the point it blocked or ended (the
 *       run the explorer makes first under F: no preemption past a prefix):
 *       E' switches from F to S for free (F is idle), and where E switched
 *       away from F before F's run was over E paid 1 that E' does not; the
 *       pick of F at a costs what the pick of S's first fiber cost in E,
 *       except at a preemption frame where S starts with the running fiber:
 *       that is the first alternative explored there, before any entry.
 * An entry whose steps made a data or flag choice, or touched more than a
 * footprint holds, is not made (another value could touch other objects).
 * F's steps in E behave as in the explored run because nothing between
 * touches what they touch. Induction over the schedules in DFS order (E' is
 * explored before E, or pruned in favour of an earlier one) gives: every
 * failure within the bound is found, with no more preemptions than without
 * the reduction. tests/test_dfs.c checks it against the unreduced search.
 */
#include "dfs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLEEP_MAX 8 /* entries a frame keeps; dropping one only prunes less */

typedef struct entry {
    int16_t slot;
    sched_fp_t fp;
} entry_t;

typedef struct frame {
    uint16_t n;
    uint8_t is_data;
    uint8_t cur_local;
    uint16_t cur;       /* SCHED_CHOICE_NO_CURRENT: no preemption possible here */
    uint16_t first;     /* the index the first run through this frame took */
    uint16_t chosen;    /* the index the current schedule takes */
    uint32_t next_alt;  /* the next index to consider as an alternative */
    uint32_t preempted; /* preemptions up to and including this frame's choice */
    uint64_t runnable;  /* fiber choice: the runnable slots (index j = the j-th set bit) */
    uint32_t step;      /* fiber choice: the first step after it (sched_step_log) */
    /* sleep sets (fiber choices only) */
    uint8_t nsleep, ndone;
    uint8_t has_entry; /* `entry` holds what the chosen alternative ran (A or B above) */
    entry_t entry;
    entry_t sleep[SLEEP_MAX];
    entry_t done[SLEEP_MAX];
} frame_t;

struct sched_dfs {
    unsigned bound;
    unsigned flags;
    frame_t *frames;
    size_t depth, cap;
    size_t prefix_len; /* frames the schedule handed out fixes (the rest are defaults) */
    sched_choice_t *prefix;
    size_t prefix_cap;
    int started;
    sched_dfs_stats_t stats;
};

sched_dfs_t *sched_dfs_create(unsigned max_preemptions, unsigned flags)
{
    sched_dfs_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->bound = max_preemptions;
    d->flags = flags;
    d->stats.shallowest = SIZE_MAX;
    return d;
}

void sched_dfs_destroy(sched_dfs_t *d)
{
    if (!d)
        return;
    free(d->frames);
    free(d->prefix);
    free(d);
}

static unsigned cost(const frame_t *f, unsigned index)
{
    return f->is_data == 0 && f->cur != SCHED_CHOICE_NO_CURRENT && index != f->cur;
}

static unsigned kind_of(const frame_t *f)
{
    return f->is_data == 1   ? SCHED_DFS_KIND_DATA
           : f->is_data == 2 ? SCHED_DFS_KIND_FLAG
           : f->cur != SCHED_CHOICE_NO_CURRENT ? SCHED_DFS_KIND_PREEMPT
                                               : SCHED_DFS_KIND_FREE;
}

static uint32_t preempted_before(const sched_dfs_t *d, size_t i) { return i ? d->frames[i - 1].preempted : 0; }

/* The slot of runnable #idx (the idx-th set bit of mask). */
static int slot_of(uint64_t mask, unsigned idx)
{
    while (idx-- && mask)
        mask &= mask - 1;
    return mask ? __builtin_ctzll(mask) : -1;
}

static int asleep(const frame_t *f, int slot)
{
    for (unsigned k = 0; k < f->nsleep; k++)
        if (f->sleep[k].slot == slot)
            return 1;
    return 0;
}

/* Moves frame i to its next alternative within the bound; 0 if none is left. */
static int advance(sched_dfs_t *d, size_t i)
{
    frame_t *f = &d->frames[i];
    uint32_t before = preempted_before(d, i);
    /* The alternative just explored becomes an entry for its siblings. */
    if (f->has_entry && f->ndone < SLEEP_MAX)
        f->done[f->ndone++] = f->entry;
    f->has_entry = 0;
    for (; f->next_alt < f->n; f->next_alt++) {
        unsigned j = f->next_alt;
        if (j == f->first)
            continue;
        unsigned c = cost(f, j);
        if (c && (d->flags & SCHED_DFS_PRUNE_LOCAL) && f->cur_local) {
            d->stats.pruned++;
            continue;
        }
        if (before + c > d->bound) {
            d->stats.over_bound++;
            continue;
        }
        if (f->is_data == 0 && f->nsleep && asleep(f, slot_of(f->runnable, j))) {
            d->stats.pruned++;
            continue;
        }
        f->chosen = (uint16_t)j;
        f->preempted = before + c;
        f->next_alt++;
        d->stats.branched[kind_of(f)]++;
        if (i < d->stats.shallowest)
            d->stats.shallowest = i;
        return 1;
    }
    return 0;
}

int sched_dfs_next(sched_dfs_t *d, sched_source_t *out)
{
    if (d->started) {
        while (d->depth > 0 && !advance(d, d->depth - 1))
            d->depth--;
        if (d->depth == 0)
            return 0;
    }
    d->started = 1;
    d->prefix_len = d->depth;
    if (d->prefix_len > d->prefix_cap) {
        size_t cap = d->prefix_len * 2;
        sched_choice_t *p = realloc(d->prefix, cap * sizeof *p);
        if (!p)
            abort(); /* the frames of the same size already fit */
        d->prefix = p;
        d->prefix_cap = cap;
    }
    for (size_t i = 0; i < d->prefix_len; i++) {
        const frame_t *f = &d->frames[i];
        d->prefix[i] = (sched_choice_t){.n = f->n, .index = f->chosen, .is_data = f->is_data, .cur = f->cur};
    }
    *out = (sched_source_t){.kind = SCHED_SOURCE_REPLAY,
                            .replay = d->prefix,
                            .replay_len = d->prefix_len,
                            .footprints = (d->flags & SCHED_DFS_SLEEP_SETS) != 0};
    return 1;
}

/* Per step of the last run: 1 if a (B) entry can start there: the steps
 * from it on, up to the first one that leaves its fiber idle, are all that
 * fiber's, with no data choice and no GLOBAL step. One backward pass a run. */
static uint8_t *g_ok_to_idle;
static size_t g_ok_cap;

static int ok_to_idle_pass(const sched_step_t *steps, size_t n)
{
    if (n > g_ok_cap) {
        size_t cap = n > 2 * g_ok_cap ? n : 2 * g_ok_cap;
        uint8_t *p = realloc(g_ok_to_idle, cap);
        if (!p)
            return 0;
        g_ok_to_idle = p, g_ok_cap = cap;
    }
    for (size_t k = n; k-- > 0;) {
        const sched_step_t *st = &steps[k];
        int clean = !st->has_data && !st->fp.global;
        g_ok_to_idle[k] = (uint8_t)(clean && (st->ends_idle || (k + 1 < n && steps[k + 1].slot == st->slot &&
                                                                 g_ok_to_idle[k + 1])));
    }
    return 1;
}

/* What the chosen alternative of fiber frame f ran, as an entry (A or B in
 * the comment at the top), from this run's steps; 0 if it cannot be one. */
static int make_entry(const frame_t *f, const sched_step_t *steps, size_t nsteps, entry_t *e)
{
    int slot = slot_of(f->runnable, f->chosen);
    if (slot < 0 || f->step >= nsteps || steps[f->step].slot != slot)
        return 0;
    *e = (entry_t){.slot = (int16_t)slot};
    const sched_step_t *first = &steps[f->step];
    if (f->cur != SCHED_CHOICE_NO_CURRENT && f->chosen == f->cur) { /* (A) */
        /* Ending at a local yield: with SCHED_DFS_PRUNE_LOCAL the moved
         * schedule's switch there would not be explored. */
        if (first->has_data || first->fp.global || first->ends_local)
            return 0;
        e->fp = first->fp;
        return 1;
    }
    if (!g_ok_to_idle[f->step]) /* (B) */
        return 0;
    for (size_t k = f->step; k < nsteps; k++) {
        sched_fp_join(&e->fp, &steps[k].fp);
        if (e->fp.global)
            return 0; /* more objects than a footprint holds */
        if (steps[k].ends_idle)
            return 1;
    }
    return 0;
}

/* sleep(next fiber frame) = sleep(f) + done(f), minus what ran in [from, to). */
static void pass_sleep(const frame_t *f, frame_t *next, const sched_step_t *steps, size_t from, size_t to)
{
    next->nsleep = 0;
    for (unsigned src = 0; src < 2; src++) {
        const entry_t *list = src ? f->done : f->sleep;
        unsigned cnt = src ? f->ndone : f->nsleep;
        for (unsigned k = 0; k < cnt && next->nsleep < SLEEP_MAX; k++) {
            const entry_t *e = &list[k];
            int keep = 1;
            for (size_t t = from; t < to && keep; t++)
                keep = steps[t].slot != e->slot && !sched_fp_dependent(&steps[t].fp, &e->fp);
            for (unsigned m = 0; m < next->nsleep && keep; m++)
                keep = next->sleep[m].slot != e->slot;
            if (keep)
                next->sleep[next->nsleep++] = *e;
        }
    }
}

/* Sleep sets for the frames from `first` on (the advanced frame and the new
 * ones); returns the depth past which the run is redundant (a frame's
 * default picked a sleeping fiber), or n. */
static size_t sleep_sets(sched_dfs_t *d, size_t first, size_t n)
{
    size_t nsteps;
    const sched_step_t *steps = sched_step_log(&nsteps);
    if (!sched_step_log_complete() || !ok_to_idle_pass(steps, nsteps))
        return n; /* (the frames past the log keep empty sleep sets: no pruning) */
    /* The fiber frame before `first`, whose sets carry on. */
    size_t prev = first;
    while (prev > 0 && d->frames[prev - 1].is_data)
        prev--;
    prev = prev > 0 ? prev - 1 : SIZE_MAX;
    for (size_t i = first; i < n; i++) {
        frame_t *f = &d->frames[i];
        if (f->is_data)
            continue;
        if (f->step > nsteps)
            return n;
        if (i >= d->prefix_len) { /* new: its sleep set from the previous fiber frame */
            f->nsleep = f->ndone = 0;
            if (prev != SIZE_MAX)
                pass_sleep(&d->frames[prev], f, steps, d->frames[prev].step, f->step);
            if (f->nsleep && asleep(f, slot_of(f->runnable, f->chosen))) {
                d->stats.sleep_blocked++;
                return i + 1;
            }
        }
        f->has_entry = (uint8_t)make_entry(f, steps, nsteps, &f->entry);
        d->stats.entries += f->has_entry;
        prev = i;
    }
    return n;
}

int sched_dfs_record(sched_dfs_t *d)
{
    size_t n;
    const sched_choice_t *log = sched_choice_log(&n);
    return sched_dfs_record_log(d, log, n, sched_choice_log_complete());
}

int sched_dfs_record_log(sched_dfs_t *d, const sched_choice_t *log, size_t n, int complete)
{
    /* The sleep sets read the run's step log, which only the scheduler
     * holds: a log from elsewhere cannot feed them. */
    size_t own_n;
    if ((d->flags & SCHED_DFS_SLEEP_SETS) && log != sched_choice_log(&own_n))
        return 0;
    if (n < d->prefix_len)
        return 0;
    for (size_t i = 0; i < d->prefix_len; i++) {
        const frame_t *f = &d->frames[i];
        if (log[i].n != f->n || log[i].is_data != f->is_data || log[i].index != f->chosen || log[i].cur != f->cur)
            return 0;
    }
    if (n > d->cap) {
        size_t cap = n > 2 * d->cap ? n : 2 * d->cap;
        frame_t *fr = realloc(d->frames, cap * sizeof *fr);
        if (!fr)
            abort();
        d->frames = fr;
        d->cap = cap;
    }
    for (size_t i = d->prefix_len; i < n; i++) {
        const sched_choice_t *c = &log[i];
        frame_t *f = &d->frames[i];
        *f = (frame_t){.n = c->n,
                       .is_data = c->is_data,
                       .cur_local = c->cur_local,
                       .cur = c->is_data ? SCHED_CHOICE_NO_CURRENT : c->cur,
                       .first = c->index,
                       .chosen = c->index,
                       .next_alt = 0,
                       .runnable = c->runnable,
                       .step = c->step};
        /* Past the prefix the replay source takes the free default. */
        f->preempted = preempted_before(d, i) + cost(f, c->index);
        unsigned k = kind_of(f);
        d->stats.frames[k]++;
        d->stats.n_sum[k] += f->n;
    }
    /* The advanced frame ran a new alternative: its step index is this run's. */
    if (d->prefix_len > 0)
        d->frames[d->prefix_len - 1].step = log[d->prefix_len - 1].step;
    if (d->flags & SCHED_DFS_SLEEP_SETS) {
        size_t keep = sleep_sets(d, d->prefix_len ? d->prefix_len - 1 : 0, n);
        /* Redundant past `keep`: the frames there are covered elsewhere. */
        for (size_t i = keep; i < n; i++)
            d->frames[i].next_alt = d->frames[i].n, d->frames[i].has_entry = 0;
    }
    d->depth = n;
    d->stats.schedules++;
    if (n > d->stats.max_depth)
        d->stats.max_depth = n;
    if (!complete)
        d->stats.incomplete = 1;
    return 1;
}

unsigned sched_dfs_preemptions(const sched_dfs_t *d)
{
    return d->prefix_len ? d->frames[d->prefix_len - 1].preempted : 0;
}

sched_dfs_stats_t sched_dfs_stats(const sched_dfs_t *d) { return d->stats; }
