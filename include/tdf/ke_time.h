/*
 * teardown-fuzz kernel shim: the time queries (KeQuerySystemTime,
 * KeQueryTickCount, KeQueryInterruptTime, KeQueryTimeIncrement). The model has
 * no clock (timers expire where the schedule says, KERNEL-SEMANTICS §8): time
 * is derived from the run's step count, so it only moves forward, the same
 * input reads the same values in every build, and nothing about it is a yield
 * point. A driver that needs real elapsed time to be right cannot be judged
 * by it (docs/WRITING-A-TARGET.md "What the model cannot find").
 */
#ifndef TDF_KE_TIME_H
#define TDF_KE_TIME_H

#ifdef __cplusplus
extern "C" {
#endif

/* 100-ns units since 1601-01-01 (the model's epoch: 2026-01-01 00:00 UTC at step 0). */
VOID KeQuerySystemTime(_Out_ PLARGE_INTEGER CurrentTime);
VOID KeQuerySystemTimePrecise(_Out_ PLARGE_INTEGER CurrentTime);
/* Clock ticks since boot (one tick = KeQueryTimeIncrement() 100-ns units). */
VOID KeQueryTickCount(_Out_ PLARGE_INTEGER CurrentCount);
ULONGLONG KeQueryInterruptTime(void);
ULONGLONG KeQueryInterruptTimePrecise(_Out_ PULONG64 QpcTimeStamp);
ULONG KeQueryTimeIncrement(void);

#ifdef __cplusplus
}
#endif
#endif
