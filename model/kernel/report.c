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
    snprintf(dst, size, "%s", src ? src : "");
}

void tdf_fail(tdf_class_t cls, uint32_t code, uint32_t subcode, const char *name, const char *where,
              const char *caller, const char *detail_fmt, ...)
{
    if (!g_failed) {
        char buf[96];
        g_failed = 1;
        tdf_failure_t *f = &g_failure;
        f->cls = cls;
        f->code = code;
        f->subcode = subcode;
        copy(f->name, sizeof f->name, name);
        copy(f->where, sizeof f->where, where ? where : image_current_frame(buf, sizeof buf));
        copy(f->caller, sizeof f->caller, caller ? caller : image_caller_frame(buf, sizeof buf));
        va_list ap;
        va_start(ap, detail_fmt);
        vsnprintf(f->detail, sizeof f->detail, detail_fmt, ap);
        va_end(ap);
        f->step = sched_steps();
        f->fiber = sched_current();
        SCHED_TRACE2("!! %s %s", tdf_class_name(cls), f->name);
    }
    if (sched_current() != SCHED_NO_FIBER)
        sched_abort_run();
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

void tdf_failure_reset(void)
{
    g_failed = 0;
    memset(&g_failure, 0, sizeof g_failure);
}

void tdf_failure_signature(const tdf_failure_t *f, char *buf, size_t size)
{
    /* The key leaves out steps, fibers and variant: the same bug found by a
     * different schedule dedupes to one entry. */
    char code[96];
    if (f->cls == TDF_CLASS_BUGCHECK) {
        if (f->subcode)
            snprintf(code, sizeof code, "0x%X/0x%X", f->code, f->subcode);
        else
            snprintf(code, sizeof code, "0x%X", f->code);
    } else {
        snprintf(code, sizeof code, "%s/%s", tdf_class_name(f->cls), f->name);
    }
    snprintf(buf, size, "%s:%s:%s", code, f->where, f->caller);
}
