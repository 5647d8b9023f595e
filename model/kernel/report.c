/*
 * The run's failure record. Oracles call tdf_fail() at the point of detection;
 * the runner prints the report after the run (fuzz/report.c), off the
 * exec path.
 */
#include "kernel.h"

#include <stdio.h>
#include <string.h>

static tdf_failure_t g_failure;
static int g_failed;

static const char *const k_class_names[TDF_CLASS_COUNT] = {
    [TDF_CLASS_NONE] = "NONE",         [TDF_CLASS_BUGCHECK] = "BUGCHECK",   [TDF_CLASS_HARDWARE] = "HARDWARE",
    [TDF_CLASS_MISUSE] = "MISUSE",     [TDF_CLASS_DEADLOCK] = "DEADLOCK",   [TDF_CLASS_HANG] = "HANG",
    [TDF_CLASS_SANITIZER] = "SANITIZER", [TDF_CLASS_FAULT] = "FAULT",     [TDF_CLASS_LIMIT] = "LIMIT",
};

static const int k_exit_codes[TDF_CLASS_COUNT] = {
    [TDF_CLASS_NONE] = TDF_EXIT_OK,         [TDF_CLASS_BUGCHECK] = TDF_EXIT_BUGCHECK,
    [TDF_CLASS_HARDWARE] = TDF_EXIT_HARDWARE, [TDF_CLASS_MISUSE] = TDF_EXIT_MISUSE,
    [TDF_CLASS_DEADLOCK] = TDF_EXIT_DEADLOCK, [TDF_CLASS_HANG] = TDF_EXIT_HANG,
    [TDF_CLASS_SANITIZER] = TDF_EXIT_SANITIZER, [TDF_CLASS_FAULT] = TDF_EXIT_FAULT,
    [TDF_CLASS_LIMIT] = TDF_EXIT_LIMIT,
};

const char *tdf_class_name(tdf_class_t cls) { return cls < TDF_CLASS_COUNT ? k_class_names[cls] : "?"; }
int tdf_class_exit_code(tdf_class_t cls) { return cls < TDF_CLASS_COUNT ? k_exit_codes[cls] : 1; }

static void copy(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0; /* cut to the field, as snprintf would */
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
}

static const char *const k_obj_names[TDF_OBJ_COUNT] = {
    [TDF_OBJ_NONE] = "none",       [TDF_OBJ_IMAGE] = "image",     [TDF_OBJ_REGISTERS] = "registers",
    [TDF_OBJ_POOL] = "pool",       [TDF_OBJ_REQUEST] = "request", [TDF_OBJ_HANDLE] = "handle",
    [TDF_OBJ_RUNDOWN] = "rundown", [TDF_OBJ_LOCK] = "lock",       [TDF_OBJ_WORK] = "work",
    [TDF_OBJ_DEVICE] = "device",   [TDF_OBJ_IRP] = "irp",
};

const char *tdf_obj_kind_name(tdf_obj_kind_t kind) { return kind < TDF_OBJ_COUNT ? k_obj_names[kind] : "?"; }

/* ---- teardown records: a few stores at the teardown, text only at a failure ---- */
static void note(tdf_teardown_t *t, const char *event, const struct tdf_image *img, const void *fn)
{
    uint64_t n = sched_trace_total();
    t->event = event;
    t->image = img;
    t->fn = fn;
    t->trace_index = n ? n - 1 : UINT64_MAX; /* the caller traced the teardown just before */
    t->step = sched_steps();
    t->fiber = sched_current();
}

void tdf_teardown_note(tdf_teardown_t *t, const char *event)
{
    const void *fn = NULL;
    const struct tdf_image *img = image_current_fn(&fn);
    note(t, event, img, fn);
}

void tdf_teardown_note_fn(tdf_teardown_t *t, const char *event, const struct tdf_image *img, const void *fn)
{
    if (!fn)
        img = NULL; /* no driver callback: the framework did it itself */
    note(t, event, img, fn);
}

/* The teardown side's frame: the driver routine, else the thread's role
 * (the PnP manager's "pnp-manager", a system worker ...). */
static void teardown_frame(const tdf_teardown_t *t, char *buf, size_t size)
{
    if (t->image)
        snprintf(buf, size, "%s!%s", t->image->name, symbol_name(t->fn));
    else
        snprintf(buf, size, "%s", t->fiber >= 0 ? sched_fiber_owner(t->fiber) : "model");
}

/* A driver's direct call into another driver (an interface or callback
 * pointer) that finds the callee's own object dead: its registers powered
 * down or unmapped, its image unloaded, its framework object destroyed. Which
 * of these the call meets is how far the callee's teardown had got when the
 * unprotected call landed: one race, one key, named by the call (the routine
 * it entered the callee with) and the caller's protection, whichever oracle
 * fired (docs/REPORTS.md "Signatures"). The fatal pair still says which
 * object and which teardown step. */
static tdf_key_origin_fn *g_key_origin;
void ke_set_key_origin_hook(tdf_key_origin_fn *fn) { g_key_origin = fn; }
static tdf_late_completion_fn *g_late_completion;
void ke_set_late_completion_hook(tdf_late_completion_fn *fn) { g_late_completion = fn; }
static tdf_freed_buffer_fn *g_freed_buffer;
void ke_set_freed_buffer_hook(tdf_freed_buffer_fn *fn) { g_freed_buffer = fn; }
const tdf_dead_t *ke_freed_buffer_dead(const void *addr) { return g_freed_buffer ? g_freed_buffer(addr) : NULL; }

/* A call into the callee that finds its object dead, made while the
 * caller's own device had been powering down since before the callee's
 * teardown (and not from that power-down's own callbacks): the caller's work
 * should have stopped at its own D0Exit, and the callee's death came after.
 * The first step that made the call wrong was the caller's power-down, so
 * the key is the caller's own register race, the one its next register
 * access would have hit: registers(<caller device>):<calling routine>:
 * power-down (fuzz_bus_child child_flag_d0: the child's I/O thread past its
 * InD0 check calls the bus's Bus_ReadBusStatus after both powered down, or
 * writes its own registers: one key). The fatal pair still names the
 * callee's object and teardown. */
static void caller_down_key(tdf_failure_t *f, const tdf_dead_t *dead, const char *callee)
{
    const char *role;
    f->key_caller[0] = 0;
    /* The callee's hardware only: a device may use another's registers
     * (its parent's, through an interface) only while it is in D0 itself;
     * a call landing on an unloaded image or a destroyed object is the
     * caller's missing protection whatever its own power state (a bus's
     * worker may run past its D0Exit without touching hardware). */
    if (dead->kind != TDF_OBJ_REGISTERS || !dead->teardown || !dead->teardown->event)
        return;
    /* The frame just outside the innermost run of callee frames: the
     * calling routine. */
    char caller[96];
    const struct tdf_image *from = image_caller_of(f->fiber, callee, caller, sizeof caller);
    if (!from)
        return;
    const char *image = from->name;
    if (!hw_image_down_before(image, dead->teardown->step, f->fiber, &role))
        return;
    copy(f->key_caller_owner, sizeof f->key_caller_owner, role);
    copy(f->key_caller, sizeof f->key_caller, caller);
}

static void cross_call_key(tdf_failure_t *f, const tdf_dead_t *dead)
{
    char callee[40];
    if (!dead->owner)
        return;
    if (dead->kind == TDF_OBJ_REGISTERS) /* "child/FDO": the device's driver */
        snprintf(callee, sizeof callee, "%.*s", (int)strcspn(dead->owner, "/"), dead->owner);
    else if (dead->kind == TDF_OBJ_IMAGE || dead->kind == TDF_OBJ_HANDLE || dead->kind == TDF_OBJ_POOL)
        snprintf(callee, sizeof callee, "%s", dead->owner); /* pool: its driver, or the driver whose context it was */
    else
        return;
    if (image_cross_entry(f->fiber, callee, f->key_call, sizeof f->key_call)) {
        copy(f->key_callee, sizeof f->key_callee, callee);
        caller_down_key(f, dead, callee);
    } else if (dead->kind == TDF_OBJ_IMAGE && strcmp(f->access.event, "call") == 0 &&
               f->fiber == sched_current() && image_calling_from_driver(callee)) {
        /* the call into the unloaded image itself: the callee's frame is not pushed */
        copy(f->key_call, sizeof f->key_call, f->where);
        copy(f->key_callee, sizeof f->key_callee, callee);
    } else {
        f->key_call[0] = 0;
    }
}

static void record(const tdf_dead_t *dead, const char *access_event, tdf_class_t cls, uint32_t code,
                   uint32_t subcode, const char *name, const char *where, const char *caller, const char *detail_fmt,
                   va_list ap)
{
    if (!g_failed) {
        char buf[96];
        g_failed = 1;
        tdf_failure_t *f = &g_failure;
        memset(f, 0, sizeof *f); /* here, not at every reset: a clean exec never touches it */
        f->cls = cls;
        f->code = code;
        f->subcode = subcode;
        copy(f->name, sizeof f->name, name);
        copy(f->where, sizeof f->where, where ? where : image_current_frame(buf, sizeof buf));
        copy(f->caller, sizeof f->caller, caller ? caller : image_caller_frame(buf, sizeof buf));
        vsnprintf(f->detail, sizeof f->detail, detail_fmt, ap);
        f->step = sched_steps();
        f->fiber = dead && dead->access_fiber ? dead->access_fiber - 1 : sched_current();
        SCHED_TRACE2("!! %s %s", tdf_class_name(cls), f->name);
        /* The access side: this thread, this step, the trace event just
         * written; its frame is the routine the oracle names. */
        f->access.present = 1;
        f->access.step = f->step;
        f->access.fiber = f->fiber;
        f->access.trace_index = sched_trace_total() - 1;
        if (dead && dead->access_fiber) {
            /* Another thread's access: its last event is where it stands. */
            size_t n = sched_trace_count();
            uint64_t first = sched_trace_total() - n;
            for (size_t i = n; i-- > 0;) {
                const sched_trace_event_t *ev = sched_trace_at(i);
                if (ev->fiber == f->fiber) {
                    f->access.trace_index = first + i;
                    f->access.step = ev->step;
                    break;
                }
            }
        }
        copy(f->access.frame, sizeof f->access.frame, dead && dead->access_frame ? dead->access_frame : f->where);
        f->access_protected = ke_rundown_held(f->fiber);
        if (dead && dead->cycle)
            copy(f->lock_cycle, sizeof f->lock_cycle, dead->cycle);
        copy(f->access.event, sizeof f->access.event, access_event ? access_event : f->name);
        f->teardown.present = 0;
        f->teardown.trace_index = UINT64_MAX;
        f->obj_kind = TDF_OBJ_NONE;
        if (dead && dead->kind != TDF_OBJ_NONE) {
            f->obj_kind = dead->kind;
            copy(f->obj_owner, sizeof f->obj_owner, dead->owner);
            if (dead->text_fmt) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                snprintf(f->obj_text, sizeof f->obj_text, dead->text_fmt, dead->args[0], dead->args[1],
                         dead->args[2]);
#pragma GCC diagnostic pop
            } else {
                snprintf(f->obj_text, sizeof f->obj_text, "%s of %s", tdf_obj_kind_name(dead->kind),
                         dead->owner ? dead->owner : "?");
            }
            const tdf_teardown_t *t = dead->teardown;
            if (t && t->event) {
                f->teardown.present = 1;
                f->teardown.step = t->step;
                f->teardown.fiber = t->fiber;
                f->teardown.trace_index = t->trace_index;
                teardown_frame(t, f->teardown.frame, sizeof f->teardown.frame);
                copy(f->teardown.event, sizeof f->teardown.event, t->event);
            }
            /* The key's teardown: the oracle's class of teardown, else the
             * driver routine that did it, else what the model did (not the
             * thread's role: which thread dropped the last reference or
             * unloaded varies with the schedule). */
            if (dead->key_teardown)
                copy(f->key_teardown, sizeof f->key_teardown, dead->key_teardown);
            else if (t && t->event && t->image)
                copy(f->key_teardown, sizeof f->key_teardown, f->teardown.frame);
            else if (t && t->event)
                copy(f->key_teardown, sizeof f->key_teardown, t->event);
            else
                copy(f->key_teardown, sizeof f->key_teardown, "none");
            for (char *c = f->key_teardown; *c; c++)
                if (*c == ' ' || *c == ':')
                    *c = '-';
            f->key_unordered = dead->unordered && t && t->event && t->image;
            cross_call_key(f, dead);
            if (dead->key_access)
                copy(f->key_access, sizeof f->key_access, dead->key_access);
            else if (!(g_key_origin && dead->kind != TDF_OBJ_LOCK &&
                  g_key_origin(f->fiber, f->access.frame, f->key_access, sizeof f->key_access)))
                f->key_access[0] = 0;
        }
        /* A completion routine the purge did not wait for: whatever it met
         * (the powered-down registers, an object the power-down deleted, its
         * request re-sent by the next power-up) came from that purge. A
         * deadlock or a hang is no access of the routine's own. */
        if (!(g_late_completion && (cls == TDF_CLASS_BUGCHECK || cls == TDF_CLASS_HARDWARE ||
                                    cls == TDF_CLASS_MISUSE || cls == TDF_CLASS_SANITIZER ||
                                    cls == TDF_CLASS_FAULT) &&
              g_late_completion(f->fiber, f->key_late_owner, sizeof f->key_late_owner, f->key_late_routine,
                                sizeof f->key_late_routine, f->key_late_purger, sizeof f->key_late_purger)))
            f->key_late_routine[0] = 0;
    }
}

void tdf_fail(tdf_class_t cls, uint32_t code, uint32_t subcode, const char *name, const char *where,
              const char *caller, const char *detail_fmt, ...)
{
    va_list ap;
    va_start(ap, detail_fmt);
    record(NULL, NULL, cls, code, subcode, name, where, caller, detail_fmt, ap);
    va_end(ap);
    if (sched_current() != SCHED_NO_FIBER)
        sched_abort_run();
}

void tdf_fail_dead(const tdf_dead_t *dead, const char *access_event, tdf_class_t cls, uint32_t code,
                   uint32_t subcode, const char *name, const char *where, const char *caller, const char *detail_fmt,
                   ...)
{
    va_list ap;
    va_start(ap, detail_fmt);
    record(dead, access_event, cls, code, subcode, name, where, caller, detail_fmt, ap);
    va_end(ap);
    if (sched_current() != SCHED_NO_FIBER)
        sched_abort_run();
}

void tdf_fail_external(tdf_class_t cls, const char *name, const char *where, const char *caller,
                       const char *detail_fmt, ...)
{
    va_list ap;
    va_start(ap, detail_fmt);
    record(NULL, NULL, cls, 0, 0, name, where, caller, detail_fmt, ap);
    va_end(ap);
}

void tdf_fail_external_dead(const tdf_dead_t *dead, const char *access_event, tdf_class_t cls, const char *name,
                            const char *where, const char *caller, const char *detail_fmt, ...)
{
    va_list ap;
    va_start(ap, detail_fmt);
    record(dead, access_event, cls, 0, 0, name, where, caller, detail_fmt, ap);
    va_end(ap);
}

void tdf_limit(const char *constant, unsigned long value, const char *defined_in, const char *what_fmt, ...)
{
    char what[240];
    va_list ap;
    va_start(ap, what_fmt);
    vsnprintf(what, sizeof what, what_fmt, ap);
    va_end(ap);
    /* subcode carries the value for the headline (fuzz/report.c); the
     * signature keeps only the constant's name, so raising it does not
     * change how the same overflow dedupes. */
    tdf_fail(TDF_CLASS_LIMIT, 0, (uint32_t)value, constant, NULL, NULL,
             "harness limit, not a driver finding: %s; %s is %lu (%s): raise it and rebuild", what, constant, value,
             defined_in);
}

const tdf_failure_t *tdf_failure(void) { return g_failed ? &g_failure : NULL; }

void tdf_failure_reset(void) { g_failed = 0; }

void tdf_failure_signature(const tdf_failure_t *f, char *buf, size_t size)
{
    /* The key leaves out steps, fibers, instance numbers and variant: the
     * same bug found by a different schedule dedupes to one entry. */
    if (f->key_late_routine[0]) {
        snprintf(buf, size, "target(%s):%s:%s", f->key_late_owner, f->key_late_routine, f->key_late_purger);
        return;
    }
    if (f->obj_kind != TDF_OBJ_NONE) {
        /* The fatal pair's key (docs/REPORTS.md "Signatures"): the dead
         * object by kind and owner role, the access routine, the teardown
         * step. No class or code: one race caught as NOT_IN_D0, AFTER_UNMAP
         * or a 0x50 through the zeroed pointer is one key. */
        if (f->key_call[0] && f->key_caller[0]) {
            snprintf(buf, size, "registers(%s%s):%s:power-down", f->key_caller_owner,
                     f->access_protected ? ",under-rundown" : "", f->key_caller);
            return;
        }
        if (f->key_call[0]) {
            snprintf(buf, size, "call(%s%s):%s:callee-teardown", f->key_callee,
                     f->access_protected ? ",under-rundown" : "", f->key_call);
            return;
        }
        const char *first = f->key_access[0] ? f->key_access : f->access.frame,
                   *last = f->obj_kind == TDF_OBJ_LOCK ? "cycle" : f->key_teardown;
        if (f->key_unordered && strcmp(first, last) > 0) { /* two completions: either may come first */
            const char *t = first;
            first = last;
            last = t;
        }
        /* under-rundown tells two bugs of one dead-object access apart; a
         * lock cycle or a rundown's own misuse is no such access. */
        int protected_access = f->access_protected && f->obj_kind != TDF_OBJ_LOCK &&
                               f->obj_kind != TDF_OBJ_RUNDOWN && strcmp(last, "early-unmap") != 0 &&
                               strcmp(last, "early-release") != 0; /* the release is the bug, not the access */
        snprintf(buf, size, "%s(%s%s):%s:%s", tdf_obj_kind_name(f->obj_kind), f->obj_owner,
                 protected_access ? ",under-rundown" : "", first, last);
        return;
    }
    char code[96];
    if (f->cls == TDF_CLASS_BUGCHECK) {
        if (f->subcode)
            snprintf(code, sizeof code, "0x%X/0x%X", f->code, f->subcode);
        else
            snprintf(code, sizeof code, "0x%X", f->code);
    } else {
        snprintf(code, sizeof code, "%s/%s", tdf_class_name(f->cls), f->name);
    }
    /* A thread's role as the other side ("thread:pnp-manager") names which
     * thread happened to run the routine, which varies with the schedule:
     * the key keeps "thread". */
    /* A sanitizer's or a signal's key is printed by fuzz/report.c as it is. */
    int external = f->cls == TDF_CLASS_SANITIZER || f->cls == TDF_CLASS_FAULT;
    snprintf(buf, size, "%s:%s:%s", code, f->where,
             !external && strncmp(f->caller, "thread:", 7) == 0 ? "thread" : f->caller);
}
