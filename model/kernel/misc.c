/* Debug output and the harness's driver-facing helpers that are kernel-level. */
#include "kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DbgPrint text goes to the trace: formatted now (the arguments may not live
 * until the trace is printed) into model pool, which lives until the run ends. */
ULONG DbgPrint(PCSTR Format, ...)
{
    enum { LEN = 120 };
    char *slot = pool_alloc_model(LEN);
    va_list ap;
    va_start(ap, Format);
    vsnprintf(slot, LEN, Format, ap);
    va_end(ap);
    size_t n = strlen(slot);
    if (n && slot[n - 1] == '\n')
        slot[n - 1] = 0;
    SCHED_TRACE1("DbgPrint: %s", slot);
    return 0;
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
