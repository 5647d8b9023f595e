/*
 * model/sched — systematic exploration: every schedule of one program with at
 * most P preemptions (iterative context bounding, Musuvathi & Qadeer, PLDI
 * 2007), depth-first over the choice log.
 *
 * Stateless: each schedule is a fresh run from the start. The explorer hands
 * out a REPLAY source holding a prefix of an earlier run's choices with the
 * last one changed; past the prefix the replay source neither preempts nor
 * varies data (the running fiber keeps running, a blocked one hands over to
 * runnable #0, data and flag choices take 0), so each run adds no preemption
 * the explorer did not ask for. A preemption is a fiber choice that switches
 * away from a running fiber that could go on (sched_choice_t.cur); a pick when
 * it blocked or ended, and every data or flag value, costs nothing.
 *
 * The program must be deterministic given its choices: a run that does not
 * follow its prefix (another n or kind of choice at the same position) stops
 * the search (sched_dfs_record returns 0).
 */
#ifndef TDF_SCHED_DFS_H
#define TDF_SCHED_DFS_H

#include "sched.h"

typedef struct sched_dfs sched_dfs_t;

typedef struct sched_dfs_stats {
    unsigned long schedules;   /* runs recorded */
    unsigned long pruned;      /* alternatives skipped by a reduction (see sched_dfs_create) */
    unsigned long sleep_blocked; /* runs whose default picked a sleeping fiber: redundant past it */
    unsigned long entries;     /* explored alternatives that became sleep-set entries (dfs.c (A), (B)) */
    unsigned long over_bound;  /* alternatives skipped because they would exceed P preemptions */
    size_t max_depth;          /* most choice points in one run */
    int incomplete;            /* a run made more choices than the log holds: its tail was not explored */
    /* What the tree branches on, by kind of choice point (SCHED_DFS_KIND_*):
     * frames: choice points recorded (each run's frames past its prefix);
     * n_sum: their n summed (the average n is n_sum / frames);
     * branched: alternatives run there (each a schedule: where LIMIT went). */
    unsigned long frames[4], n_sum[4], branched[4];
    size_t shallowest; /* the lowest frame index an alternative was run at (SIZE_MAX: none) */
} sched_dfs_stats_t;

/* Kinds of choice point, as counted in sched_dfs_stats_t. */
enum {
    SCHED_DFS_KIND_PREEMPT = 0, /* fiber choice with the running fiber still runnable: a switch costs 1 */
    SCHED_DFS_KIND_FREE,        /* fiber choice after a block or an exit: any pick is free */
    SCHED_DFS_KIND_DATA,        /* sched_choose */
    SCHED_DFS_KIND_FLAG,        /* sched_choose_flag */
};

/*
 * Flags:
 * SCHED_DFS_PRUNE_LOCAL: never preempt a fiber at a yield it declared local
 *   (sched_yield_point_local: its next step touches nothing another fiber
 *   reads or writes). Such a step commutes with every other fiber's step, so
 *   the schedule that preempts it at its next yield instead runs the same
 *   steps in an equivalent order, with no more preemptions (none if the step
 *   ends the fiber).
 * SCHED_DFS_SLEEP_SETS: sleep sets over the steps' footprints (sched.h
 *   "Footprints"; the sources handed out record them): an alternative whose
 *   fiber's next steps are independent of everything run since the frame
 *   where they were explored is not run again. Sound with the bound: every
 *   failure within P preemptions is still found (dfs.c says why).
 * Returns NULL when out of memory.
 */
enum { SCHED_DFS_PRUNE_LOCAL = 1, SCHED_DFS_SLEEP_SETS = 2 };
sched_dfs_t *sched_dfs_create(unsigned max_preemptions, unsigned flags);
void sched_dfs_destroy(sched_dfs_t *d);
/* The source of the next schedule to run (valid until the next call).
 * Returns 0 when every schedule within the bound has been run. */
int sched_dfs_next(sched_dfs_t *d, sched_source_t *out);
/* After the run the last sched_dfs_next source started: records its choices
 * (sched_choice_log). Returns 0 if the run did not follow its prefix. */
int sched_dfs_record(sched_dfs_t *d);
/* The same from a copy of a run's choice log (n entries; complete: 0 when the
 * run made more choices than it holds): a run made in another process
 * (fuzz/minimize.c forks each candidate in the sanitizer builds). Only for a
 * search without SCHED_DFS_SLEEP_SETS, which read the scheduler's own step
 * log: with them it returns 0 unless log is the scheduler's. */
int sched_dfs_record_log(sched_dfs_t *d, const sched_choice_t *log, size_t n, int complete);
/* The preemptions of the schedule last handed out. */
unsigned sched_dfs_preemptions(const sched_dfs_t *d);
sched_dfs_stats_t sched_dfs_stats(const sched_dfs_t *d);

#endif
