/*
 * Happens-before for the TSan build. Fiber switches carry no synchronisation
 * (sched/sanitizer_fiber.h), so every modelled primitive that orders memory in
 * the real kernel says so here: release on unlock/signal/rundown release,
 * acquire on lock/wait/successful rundown acquire. Model code itself is built
 * without TSan; driver images are built with it, so TSan reports exactly the
 * races between driver routines that no modelled primitive orders.
 * Model code calls intercepted libc (memset, free, snprintf) on driver memory
 * as bookkeeping: the runner sets ignore_interceptors_accesses=1 so those are
 * not reported (fuzz/report.c); driver memory errors are ASan's job.
 */
#ifndef TDF_KERNEL_TSAN_SYNC_H
#define TDF_KERNEL_TSAN_SYNC_H

#if defined(TDF_TSAN_RUNTIME)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
/* 0 under TDF_TSAN_ANNOTATIONS=0 or =nohb (the negative control, model/sched/sched.c):
 * with no modelled happens-before every access pair of two threads races. */
extern int tdf_tsan_hb_on;
#define TDF_HB_ACQUIRE(p) (tdf_tsan_hb_on ? __tsan_acquire((void *)(p)) : (void)0)
#define TDF_HB_RELEASE(p) (tdf_tsan_hb_on ? __tsan_release((void *)(p)) : (void)0)
#else
#define TDF_HB_ACQUIRE(p) ((void)(p))
#define TDF_HB_RELEASE(p) ((void)(p))
#endif

#endif
