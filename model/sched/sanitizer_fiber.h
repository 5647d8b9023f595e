/*
 * Sanitizer fiber annotations, no-ops in builds without the sanitizer.
 * ASan: __sanitizer_start/finish_switch_fiber tell it which stack is live, so
 * it neither reports false stack overflows nor misses use-after-return.
 * TSan: one TSan fiber per model fiber, switched with the no_sync flag so that
 * a switch creates NO happens-before: only the modelled primitives publish it
 * (kernel/tsan_sync.h), and TSan reports races that no modelled lock orders.
 */
#ifndef TDF_SCHED_SANITIZER_FIBER_H
#define TDF_SCHED_SANITIZER_FIBER_H

#include <stddef.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TDF_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define TDF_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TDF_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define TDF_TSAN 1
#endif
/* The scheduler itself is compiled without TSan instrumentation in the TSan
 * build (so __has_feature is false there); the build says TSan is linked. */
#if defined(TDF_TSAN_RUNTIME)
#undef TDF_TSAN
#define TDF_TSAN 1
#endif

#ifdef TDF_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
static inline void tdf_asan_start_switch(void **fake_save, const void *bottom, size_t size)
{
    __sanitizer_start_switch_fiber(fake_save, bottom, size);
}
static inline void tdf_asan_finish_switch(void *fake_save, const void **old_bottom, size_t *old_size)
{
    __sanitizer_finish_switch_fiber(fake_save, old_bottom, old_size);
}
static inline void tdf_asan_unpoison(void *p, size_t n) { ASAN_UNPOISON_MEMORY_REGION(p, n); }
#else
static inline void tdf_asan_start_switch(void **fake_save, const void *bottom, size_t size)
{
    (void)fake_save, (void)bottom, (void)size;
}
static inline void tdf_asan_finish_switch(void *fake_save, const void **old_bottom, size_t *old_size)
{
    (void)fake_save;
    if (old_bottom)
        *old_bottom = NULL;
    if (old_size)
        *old_size = 0;
}
static inline void tdf_asan_unpoison(void *p, size_t n) { (void)p, (void)n; }
#endif

/* ASan instruments every call to a noreturn function with
 * __asan_handle_no_return, which unpoisons the whole current stack and the
 * signal stack (a shadow memset plus a sigaltstack syscall). fiber_entry ends
 * in sched_exit_fiber at every model thread's exit (~8% of an asan exec);
 * the unpoisoning is redundant there because the next spawn on that stack
 * unpoisons what was used (sched.c stack_dirty_lo). */
#ifdef TDF_ASAN
#define TDF_ASAN_NO_EXIT_UNPOISON __attribute__((no_sanitize("address")))
#else
#define TDF_ASAN_NO_EXIT_UNPOISON
#endif

#ifdef TDF_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#define TDF_TSAN_SWITCH_NO_SYNC 1u /* __tsan_switch_to_fiber_no_sync */
/* The negative control (environment TDF_TSAN_ANNOTATIONS, read by
 * sched_reset, docs/ARCHITECTURE.md "TSan"): 0 turns the fiber annotations
 * off, so TSan sees every model thread as the one OS thread that runs them
 * all and can report no race between them. */
extern int tdf_tsan_fibers_on;
static inline void *tdf_tsan_get_current_fiber(void) { return __tsan_get_current_fiber(); }
static inline void *tdf_tsan_create_fiber(void) { return tdf_tsan_fibers_on ? __tsan_create_fiber(0) : NULL; }
static inline void tdf_tsan_destroy_fiber(void *f)
{
    if (f)
        __tsan_destroy_fiber(f);
}
static inline void tdf_tsan_switch_to_fiber(void *f)
{
    if (tdf_tsan_fibers_on && f)
        __tsan_switch_to_fiber(f, TDF_TSAN_SWITCH_NO_SYNC);
}
#else
static inline void *tdf_tsan_get_current_fiber(void) { return NULL; }
static inline void *tdf_tsan_create_fiber(void) { return NULL; }
static inline void tdf_tsan_destroy_fiber(void *f) { (void)f; }
static inline void tdf_tsan_switch_to_fiber(void *f) { (void)f; }
#endif

#endif
