/* Debug output and the harness's driver-facing helpers that are kernel-level. */
#include "kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DbgPrint text goes to the trace: formatted now (the arguments may not live
 * until the trace is printed) into model pool, which lives until the run ends.
 * Formatted even when the run records no trace: %p's stand-ins (strings.c)
 * are numbered in call order across DbgPrint and the Rtl printf routines, so
 * skipping the untraced ones would change what a driver's later
 * RtlStringCbPrintf("%p") gives between an untraced exec and its traced
 * re-run (the libFuzzer entry re-runs a failure with the trace on). */
static ULONG trace_print(PCSTR Format, va_list ap)
{
    enum { LEN = 120 };
    char *slot = pool_alloc_model(LEN);
    /* the kernel's conversions (%ws, %wZ, %I64x), not glibc's */
    tdf_vformat_narrow(slot, LEN, Format, ap);
    size_t n = strlen(slot);
    if (n && slot[n - 1] == '\n')
        slot[n - 1] = 0;
    SCHED_TRACE1("DbgPrint: %s", slot);
    return 0;
}

ULONG DbgPrint(PCSTR Format, ...)
{
    va_list ap;
    va_start(ap, Format);
    trace_print(Format, ap);
    va_end(ap);
    return 0;
}

/* Every component and level is printed: the trace is read only for a report. */
ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
{
    va_list ap;
    va_start(ap, Format);
    trace_print(Format, ap);
    va_end(ap);
    return 0;
}

/* PAGED_CODE(): the routine's code may be paged out, so running it above
 * APC_LEVEL is a page fault at raised IRQL (include/tdf/kd_print.h). */
void TdfPagedCode(const char *routine)
{
    KIRQL irql = ke_irql();
    if (irql > APC_LEVEL)
        tdf_fail(TDF_CLASS_BUGCHECK, 0xD1, irql, "DRIVER_IRQL_NOT_LESS_OR_EQUAL", NULL, NULL,
                 "pageable routine %s (PAGED_CODE) entered at IRQL %u: its code may be paged out, and a page "
                 "fault above APC_LEVEL is this bugcheck (Driver Verifier forces it)",
                 routine, (unsigned)irql);
}

/* LIST_ENTRY integrity checks of the inline list routines (list_entry.h). */
void TdfListCorrupted(const char *routine)
{
    tdf_fail(TDF_CLASS_BUGCHECK, 0x139, 3, "KERNEL_SECURITY_CHECK_FAILURE", NULL, NULL,
             "%s: LIST_ENTRY corrupted (a neighbour does not point back at the entry)", routine);
    abort();
}

void TdfAssertFailed(const char *expr, const char *file, int line)
{
    tdf_fail(TDF_CLASS_BUGCHECK, 0x0, 0, "NT_ASSERT", NULL, NULL, "NT_ASSERT(%s) failed at %s:%d", expr, file, line);
    abort(); /* only reached from the main context, where no driver code runs */
}

void TdfUnmodelled(const char *routine, const char *what)
{
    tdf_fail(TDF_CLASS_MISUSE, 0, 0, "UNMODELLED", NULL, NULL, "%s: not modelled by teardown-fuzz: %s", routine, what);
    abort();
}

VOID TdfYield(void) { ke_yield(); }
