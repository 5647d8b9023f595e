/*
 * The scheduler tests' reference program and trace helpers, shared by
 * test_sched.c (the fiber scheduler) and test_stress.c (the pthread backend,
 * which must replay it step for step): two workers with yields and data
 * choices, a sleeper blocked until the first worker finishes, then a timed
 * wait that expires when nothing else can run.
 */
#ifndef TDF_TESTS_SCHED_REFERENCE_H
#define TDF_TESTS_SCHED_REFERENCE_H

#include <stdint.h>
#include <stdio.h>

#include "../model/sched/sched.h"

#define TRACE_TEXT_MAX (1u << 16)

static inline void start(sched_source_t src, uint32_t step_cap)
{
    sched_config_t cfg = {.source = src, .step_cap = step_cap, .keep_full_trace = 1};
    sched_reset(&cfg);
}

/* The whole trace as "step fiber text" lines. */
static inline void trace_text(char *out, size_t size)
{
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < sched_trace_count() && used + 1 < size; i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        char text[128];
        sched_trace_format(ev, text, sizeof text);
        used += (size_t)snprintf(out + used, size - used, "%u %d %s\n", (unsigned)ev->step, (int)ev->fiber, text);
    }
}

static int g_flag, g_timer;

static inline void p_worker(void *arg)
{
    const char *name = arg;
    for (unsigned long i = 0; i < 20; i++) {
        SCHED_TRACE2("%s iter %lu", name, i);
        if (i % 5 == 4)
            SCHED_TRACE2("%s chose %lu", name, (unsigned long)sched_choose(3));
        sched_yield_point();
    }
    g_flag = 1;
    sched_wake(&g_flag);
}

static inline void p_sleeper(void *arg)
{
    (void)arg;
    while (!g_flag) {
        SCHED_TRACE0("sleeper blocks");
        sched_block(&g_flag, "flag");
    }
    SCHED_TRACE0("sleeper woke");
    if (sched_block_timed(&g_timer, "timer"))
        SCHED_TRACE0("sleeper timed out");
}

/* Runs the reference program under `src`; its trace goes to trace_out. */
static inline sched_outcome_t run_program(sched_source_t src, char *trace_out)
{
    start(src, 100000);
    g_flag = 0;
    sched_spawn("sleeper", "test", p_sleeper, NULL);
    sched_spawn("a", "test", p_worker, "a");
    sched_spawn("b", "test", p_worker, "b");
    sched_outcome_t o = sched_run();
    trace_text(trace_out, TRACE_TEXT_MAX);
    return o;
}

#endif
