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
 */
#include "dfs.h"

#include <stdlib.h>
#include <string.h>

typedef struct frame {
    uint16_t n;
    uint8_t is_data;
    uint8_t cur_local;
    uint16_t cur;       /* SCHED_CHOICE_NO_CURRENT: no preemption possible here */
    uint16_t first;     /* the index the first run through this frame took */
    uint16_t chosen;    /* the index the current schedule takes */
    uint32_t next_alt;  /* the next index to consider as an alternative */
    uint32_t preempted; /* preemptions up to and including this frame's choice */
} frame_t;

struct sched_dfs {
    unsigned bound;
    int prune;
    frame_t *frames;
    size_t depth, cap;
    size_t prefix_len; /* frames the schedule handed out fixes (the rest are defaults) */
    sched_choice_t *prefix;
    size_t prefix_cap;
    int started;
    sched_dfs_stats_t stats;
};

sched_dfs_t *sched_dfs_create(unsigned max_preemptions, int prune)
{
    sched_dfs_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->bound = max_preemptions;
    d->prune = prune;
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

static uint32_t preempted_before(const sched_dfs_t *d, size_t i) { return i ? d->frames[i - 1].preempted : 0; }

/* Moves frame i to its next alternative within the bound; 0 if none is left. */
static int advance(sched_dfs_t *d, size_t i)
{
    frame_t *f = &d->frames[i];
    uint32_t before = preempted_before(d, i);
    for (; f->next_alt < f->n; f->next_alt++) {
        unsigned j = f->next_alt;
        if (j == f->first)
            continue;
        unsigned c = cost(f, j);
        if (c && d->prune && f->cur_local) {
            d->stats.pruned++;
            continue;
        }
        if (before + c > d->bound) {
            d->stats.over_bound++;
            continue;
        }
        f->chosen = (uint16_t)j;
        f->preempted = before + c;
        f->next_alt++;
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
    *out = (sched_source_t){.kind = SCHED_SOURCE_REPLAY, .replay = d->prefix, .replay_len = d->prefix_len};
    return 1;
}

int sched_dfs_record(sched_dfs_t *d)
{
    size_t n;
    const sched_choice_t *log = sched_choice_log(&n);
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
                       .next_alt = 0};
        /* Past the prefix the replay source takes the free default. */
        f->preempted = preempted_before(d, i) + cost(f, c->index);
    }
    d->depth = n;
    d->stats.schedules++;
    if (n > d->stats.max_depth)
        d->stats.max_depth = n;
    if (!sched_choice_log_complete())
        d->stats.incomplete = 1;
    return 1;
}

unsigned sched_dfs_preemptions(const sched_dfs_t *d)
{
    return d->prefix_len ? d->frames[d->prefix_len - 1].preempted : 0;
}

sched_dfs_stats_t sched_dfs_stats(const sched_dfs_t *d) { return d->stats; }
