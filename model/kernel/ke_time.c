/*
 * Time for drivers that read it (include/tdf/ke_time.h): no clock, the run's
 * step count. One step reads as one clock tick (15.625 ms, the Windows
 * default), so a driver that measures an interval sees one that grows with
 * the work done, deterministically. Not yield points: reading the time
 * changes nothing another thread can see.
 */
#include "kernel.h"

#include "tdf/ke_time.h"

/* 2026-01-01 00:00:00 UTC in 100-ns units since 1601-01-01. */
#define TDF_EPOCH_100NS 134116992000000000ULL
#define TDF_TICK_100NS 156250ULL

/* The value depends on how many steps ran before, whichever fiber's: a step
 * that reads the time commutes with none (footprints, sched.h). */
static LONGLONG ticks(void)
{
    sched_step_touch(NULL, SCHED_FP_GLOBAL);
    return (LONGLONG)sched_steps();
}

static ULONGLONG since_boot_100ns(void) { return (ULONGLONG)ticks() * TDF_TICK_100NS; }

VOID KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    CurrentTime->QuadPart = (LONGLONG)(TDF_EPOCH_100NS + since_boot_100ns());
}

VOID KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime) { KeQuerySystemTime(CurrentTime); }

VOID KeQueryTickCount(PLARGE_INTEGER CurrentCount) { CurrentCount->QuadPart = ticks(); }

ULONGLONG KeQueryInterruptTime(void) { return since_boot_100ns(); }

ULONGLONG KeQueryInterruptTimePrecise(PULONG64 QpcTimeStamp)
{
    ULONGLONG t = since_boot_100ns();
    if (QpcTimeStamp)
        *QpcTimeStamp = t;
    return t;
}

ULONG KeQueryTimeIncrement(void) { return (ULONG)TDF_TICK_100NS; }
