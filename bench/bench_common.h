/*
 * Shared by the benchmark programs (docs/BENCHMARKS.md): the clock, the
 * build's description and the output format.
 *
 * Every measurement is one line
 *     BENCH name=<x> value=<v> unit=<u> n=<count>
 * and every comparison one line
 *     BENCH ratio name=<a>/<b> value=<a divided by b>
 * with both sides measured in the same process run (machines are noisy: only
 * ratios from one run are compared, raw values only within a build). Lines
 * starting with '#' are context for humans.
 */
#ifndef TDF_BENCH_COMMON_H
#define TDF_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define BENCH_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define BENCH_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) || defined(TDF_TSAN_RUNTIME)
#define BENCH_TSAN 1
#endif

/* "clang-14.0.6 sanitizer=asan -O2": which build the figures came from. */
static inline const char *bench_build(void)
{
    static char buf[128];
    const char *san = "none";
#if defined(BENCH_ASAN)
    san = "asan";
#elif defined(BENCH_TSAN)
    san = "tsan";
#endif
#if defined(__clang__)
    snprintf(buf, sizeof buf, "clang-%d.%d.%d sanitizer=%s", __clang_major__, __clang_minor__,
             __clang_patchlevel__, san);
#elif defined(__GNUC__)
    snprintf(buf, sizeof buf, "gcc-%d.%d.%d sanitizer=%s", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__, san);
#else
    snprintf(buf, sizeof buf, "cc sanitizer=%s", san);
#endif
#if defined(__OPTIMIZE__)
    strncat(buf, " optimized", sizeof buf - strlen(buf) - 1);
#else
    strncat(buf, " -O0", sizeof buf - strlen(buf) - 1);
#endif
    return buf;
}

static inline void bench_line(const char *name, double value, const char *unit, uint64_t n)
{
    printf("BENCH name=%s value=%.2f unit=%s n=%llu\n", name, value, unit, (unsigned long long)n);
}

static inline void bench_ratio(const char *a, const char *b, double value)
{
    printf("BENCH ratio name=%s/%s value=%.3f\n", a, b, value);
}

/* "--name=value": returns the value, or NULL if arg is not that flag. */
static inline const char *bench_flag(const char *arg, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0 || arg[2 + n] != '=')
        return NULL;
    return arg + 3 + n;
}

#endif
