/*
 * One exec of a target: reset every layer, run the PnP thread and whatever it
 * starts until all model threads end, then judge the end state. Everything a
 * run allocates is released by the next reset (libFuzzer runs millions of
 * execs in one process).
 */
#include "pnp.h"

#include <stdio.h>
#include <string.h>

void pnp_reset(const tdf_target_desc_t *t);
void pnp_spawn(const tdf_script_t *script);

static const char *const k_generic_events[TDF_EV_GENERIC_COUNT] = {
    [TDF_EV_SURPRISE_REMOVE] = "surprise_remove", [TDF_EV_REMOVE] = "remove", [TDF_EV_IDLE] = "idle",
    [TDF_EV_WAKE] = "wake",                       [TDF_EV_ENABLE] = "enable",
    [TDF_EV_STOP] = "stop",                       [TDF_EV_SLEEP] = "sleep",
    [TDF_EV_HIBERNATE] = "hibernate",             [TDF_EV_REMOVE_VETOED] = "remove_vetoed",
    [TDF_EV_INTERRUPT] = "interrupt",
};

static unsigned g_variant;
static const tdf_script_t *g_script;
static const tdf_target_desc_t *g_run_target;

unsigned tdf_event_kind_count(const tdf_target_desc_t *t) { return TDF_EV_GENERIC_COUNT + t->stimulus_count; }

const char *tdf_event_name(const tdf_target_desc_t *t, unsigned kind)
{
    if (kind < TDF_EV_GENERIC_COUNT)
        return k_generic_events[kind];
    kind -= TDF_EV_GENERIC_COUNT;
    return kind < t->stimulus_count ? t->stimuli[kind].name : "?";
}

ULONG TdfVariant(void) { return g_variant; }

BOOLEAN TdfParamLookup(const char *name, ULONG *value)
{
    if (!g_run_target) /* outside a run (unit tests): no target, no parameters */
        return FALSE;
    for (unsigned i = 0; i < g_run_target->param_count && i < TDF_MAX_PARAMS; i++)
        if (strcmp(g_run_target->params[i].name, name) == 0) {
            *value = g_script->params[i];
            return TRUE;
        }
    return FALSE;
}

ULONG TdfParam(const char *name)
{
    for (unsigned i = 0; i < g_run_target->param_count && i < TDF_MAX_PARAMS; i++)
        if (strcmp(g_run_target->params[i].name, name) == 0)
            return g_script->params[i];
    TdfUnmodelled("TdfParam", name);
}

/* End state: every driver must have unloaded once every device is gone. */
static void final_checks(const tdf_target_desc_t *t)
{
    for (unsigned i = 0; i < t->image_count; i++) {
        struct tdf_image *img = t->images[i].image;
        if (img->state != TDF_IMAGE_LOADED)
            continue;
        wdf_driver_t *drv = img->driver;
        char where[64];
        snprintf(where, sizeof where, "%s!unload", img->name);
        tdf_fail(TDF_CLASS_BUGCHECK, 0xCE, 0, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where,
                 "device-reference",
                 "driver '%s' cannot unload after every device was removed: %u device object(s) still referenced",
                 img->name, drv ? drv->devices : 0);
        return;
    }
}

static void report_stuck(sched_outcome_t outcome)
{
    char blocked[300];
    size_t used = 0;
    blocked[0] = 0;
    /* Signature sides: the first two distinct innermost driver frames of the
     * stuck threads (deterministic: fiber order), so deadlocks dedupe by
     * where: two threads stuck in the same routine ahead of the thread they
     * wait for are one side, not two (which of them blocked first varies
     * with the schedule). Every stuck thread in one routine: it twice. */
    char sides[2][400];
    int nsides = 0, nframed = 0;
    for (int f = 0; f < sched_fiber_count() && nsides < 2; f++) {
        if (sched_fiber_state(f) != SCHED_BLOCKED || sched_fiber_is_daemon(f))
            continue; /* a blocked daemon (DPC processor, clock) is idle, not stuck */
        char stack[400];
        image_fiber_stack(f, stack, sizeof stack);
        if (strcmp(stack, "(no driver frames)") == 0)
            continue; /* blocked in the framework: its frame says nothing of the bug */
        const char *last = strrchr(stack, '>');
        last = last ? last + 2 : stack;
        nframed++;
        if (nsides == 1 && strcmp(sides[0], last) == 0)
            continue;
        snprintf(sides[nsides++], sizeof sides[0], "%s", last);
    }
    if (nsides == 1 && nframed > 1)
        memcpy(sides[1], sides[0], sizeof sides[0]), nsides = 2;
    if (nsides == 2 && strcmp(sides[0], sides[1]) > 0) { /* thread order does not matter */
        char t[400];
        memcpy(t, sides[0], sizeof t);
        memcpy(sides[0], sides[1], sizeof t);
        memcpy(sides[1], t, sizeof t);
    }
    for (int f = 0; f < sched_fiber_count() && used + 1 < sizeof blocked; f++) {
        if (sched_fiber_state(f) != SCHED_BLOCKED && !(outcome == SCHED_OUTCOME_HANG &&
                                                       sched_fiber_state(f) == SCHED_RUNNABLE))
            continue;
        if (sched_fiber_state(f) == SCHED_BLOCKED && sched_fiber_is_daemon(f))
            continue;
        const char *why = sched_fiber_wait_reason(f);
        used += (size_t)snprintf(blocked + used, sizeof blocked - used, "%s%s(%s)", used ? ", " : "",
                                 sched_fiber_name(f), why ? why : "runnable");
    }
    int first_stuck = -1;
    for (int f = 0; f < sched_fiber_count() && first_stuck < 0; f++)
        if (sched_fiber_state(f) == SCHED_BLOCKED && !sched_fiber_is_daemon(f))
            first_stuck = f;
    if (outcome == SCHED_OUTCOME_DEADLOCK) {
        /* A wait cycle through a rundown or a send, or stuck threads that
         * others wait for, key by those threads' frames (wait_graph.c). A
         * lock cycle, or a lock wait with no other edge, names each lock,
         * its holder and what each thread wants; its key is the locks by
         * kind and acquiring routine. With no thread waiting for another,
         * the stuck threads' frames are the key. The headline's thread is
         * the first stuck thread, not main. */
        char cycle[480], key[200], first[96];
        static wait_graph_report_t wg; /* ~1 KB: off the fiber-sized main stack's hot frames */
        wait_graph_kind_t kind = wait_graph_describe(&wg);
        if (kind == WAIT_GRAPH_CYCLE || kind == WAIT_GRAPH_ROOTS) {
            /* Threads wait for each other through rundowns and sends: the
             * key is the cycle's frames, or the roots' (wait_graph.c); the
             * threads that only wait for those are victims. */
            tdf_dead_t none = {TDF_OBJ_NONE, NULL, NULL, NULL, {0}, .access_fiber = wg.first_fiber + 1,
                               .access_frame = wg.first, .cycle = wg.text};
            tdf_fail_dead(&none, "blocked", TDF_CLASS_DEADLOCK, 0, 0, "ALL_THREADS_BLOCKED", wg.side[0], wg.side[1],
                          "no model thread can run: %s", wg.text);
        } else if (lock_graph_describe(cycle, sizeof cycle, key, sizeof key, first, sizeof first)) {
            tdf_dead_t dead = {TDF_OBJ_LOCK, key, NULL, "lock cycle of %s", {(uintptr_t)key},
                               .access_fiber = first_stuck + 1, .access_frame = first, .cycle = cycle};
            tdf_fail_dead(&dead, "blocked acquire", TDF_CLASS_DEADLOCK, 0, 0, "LOCK_CYCLE", first, "cycle",
                          "no model thread can run: %s", cycle);
        } else {
            tdf_dead_t none = {TDF_OBJ_NONE, NULL, NULL, NULL, {0}, .access_fiber = first_stuck + 1};
            tdf_fail_dead(&none, "blocked", TDF_CLASS_DEADLOCK, 0, 0, "ALL_THREADS_BLOCKED",
                          nsides > 0 ? sides[0] : "model", nsides > 1 ? sides[1] : "threads",
                          "no model thread can run; blocked: %s", blocked);
        }
    } else
        tdf_fail(TDF_CLASS_HANG, 0, 0, "STEP_CAP", "model", "threads",
                 "step cap reached at step %lu; unfinished: %s", (unsigned long)sched_steps(), blocked);
}

tdf_class_t tdf_run(const tdf_target_desc_t *t, const tdf_script_t *script, const tdf_run_options_t *opts)
{
    sched_config_t cfg = {.source = script->schedule,
                          .step_cap = opts->step_cap,
                          .keep_full_trace = opts->full_trace,
                          .no_trace = opts->no_trace};
    for (unsigned i = 0; i < t->image_count; i++)
        image_register(t->images[i].image);
    g_variant = opts->variant;
    g_script = script;
    g_run_target = t;
    sched_reset(&cfg);
    kernel_reset();
    wdf_reset();
    pnp_reset(t);
    if (t->param_count > TDF_MAX_PARAMS) { /* the script holds TDF_MAX_PARAMS values */
        TDF_LIMIT(TDF_MAX_PARAMS, "model/pnp/pnp.h", "target %s declares %u parameters", t->name, t->param_count);
        return TDF_CLASS_LIMIT;
    }
    pnp_spawn(script);
    sched_outcome_t outcome = sched_run();
    if (!tdf_failure()) {
        if (outcome == SCHED_OUTCOME_DEADLOCK || outcome == SCHED_OUTCOME_HANG)
            report_stuck(outcome);
        else
            final_checks(t);
    }
    const tdf_failure_t *f = tdf_failure();
    return f ? f->cls : TDF_CLASS_NONE;
}
