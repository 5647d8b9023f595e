/*
 * Shared by the primitive and unit tests (rundown, remove lock, request, image,
 * hardware, ...): run test functions as
 * model threads from a clean model, and look for a line in the trace.
 */
#ifndef TDF_TESTS_FIBER_HARNESS_H
#define TDF_TESTS_FIBER_HARNESS_H

#include <stdio.h>
#include <string.h>

#include "../model/kernel/kernel.h"
#include "tdf_test.h"

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

/* The run stopped at a model failure of this class, code and subcode whose
 * detail contains `detail`; `name` (the failure's name) and `where` (its
 * driver!routine) are checked when not NULL. Reported at the test's file:line. */
static inline void fh_check_failure(sched_outcome_t outcome, tdf_class_t cls, uint32_t code, uint32_t subcode,
                                    const char *name, const char *where, const char *detail, const char *file,
                                    int line)
{
    const tdf_failure_t *f = tdf_failure();
    if (!tdf_check(outcome == SCHED_OUTCOME_ABORTED, file, line, "outcome == SCHED_OUTCOME_ABORTED"))
        printf("    outcome = %d\n", (int)outcome);
    if (!tdf_check(f != NULL, file, line, "tdf_failure() != NULL"))
        return;
    if (!tdf_check(f->cls == cls && f->code == code && f->subcode == subcode && (!name || strcmp(f->name, name) == 0),
                   file, line, "failure class/code/subcode/name"))
        printf("    got %s 0x%X/0x%X %s (%s)\n", tdf_class_name(f->cls), f->code, f->subcode, f->name, f->detail);
    if (where && !tdf_check(strcmp(f->where, where) == 0, file, line, "failure where"))
        printf("    where: \"%s\", expected \"%s\"\n", f->where, where);
    if (!tdf_check(strstr(f->detail, detail) != NULL, file, line, "failure detail"))
        printf("    detail:   \"%s\"\n    expected: \"%s\"\n", f->detail, detail);
}

/* The run ended by itself with no model failure (else the failure's detail is printed). */
#define CHECK_CLEAN(outcome)                                                               \
    do {                                                                                   \
        CHECK_EQ((outcome), SCHED_OUTCOME_DONE);                                           \
        if (!CHECK(tdf_failure() == NULL))                                                 \
            printf("    unexpected failure: %s\n", tdf_failure()->detail);                 \
    } while (0)

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
