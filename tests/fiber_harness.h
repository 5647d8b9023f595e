/*
 * Shared by the primitive tests (rundown, remove lock): run test functions as
 * model threads from a clean model, and look for a line in the trace.
 */
#ifndef TDF_TESTS_FIBER_HARNESS_H
#define TDF_TESTS_FIBER_HARNESS_H

#include <string.h>

#include "../model/kernel/kernel.h"

/* Resets every layer, lets the test reset its globals (reset may be NULL),
 * and runs fns[0..n) as fibers 0..n-1 under the given schedule source. */
static inline sched_outcome_t fh_run(sched_fiber_fn *const *fns, unsigned n, sched_source_t src,
                                     void (*reset)(void))
{
    sched_config_t cfg = {.source = src, .step_cap = 10000, .keep_full_trace = 1};
    sched_reset(&cfg);
    kernel_reset();
    if (reset)
        reset();
    for (unsigned i = 0; i < n; i++)
        sched_spawn("test", "test", fns[i], NULL);
    return sched_run();
}

/* Whether any trace event of the last run contains `text`. */
static inline int fh_trace_has(const char *text)
{
    char buf[256];
    for (size_t i = 0; i < sched_trace_count(); i++) {
        sched_trace_format(sched_trace_at(i), buf, sizeof buf);
        if (strstr(buf, text))
            return 1;
    }
    return 0;
}

#endif
