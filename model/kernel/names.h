/*
 * Object names built at creation (device nodes, devices, roles): the exec
 * path makes a handful per run, and snprintf's format machinery was ~9% of an
 * untraced exec (docs/BENCHMARKS.md "Speed, second pass (issue 14)"). These
 * write the same bytes snprintf would: at most size - 1 characters, then a
 * NUL (a longer name is cut), so the trace and report texts do not change.
 *
 * Use: size_t at = 0; name_put(buf, sizeof buf, &at, "bus"); name_put_u(buf,
 * sizeof buf, &at, 2);  -> "bus2". Precondition: size >= 1, *at < size.
 */
#ifndef TDF_KERNEL_NAMES_H
#define TDF_KERNEL_NAMES_H

#include <stddef.h>

/* Appends string s (as "%s"). */
static inline void name_put(char *buf, size_t size, size_t *at, const char *s)
{
    size_t i = *at;
    while (*s && i + 1 < size)
        buf[i++] = *s++;
    buf[i] = 0;
    *at = i;
}

/* Appends v in decimal (as "%u"). */
static inline void name_put_u(char *buf, size_t size, size_t *at, unsigned v)
{
    char digits[12];
    size_t n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    char text[12];
    for (size_t k = 0; k < n; k++)
        text[k] = digits[n - 1 - k];
    text[n] = 0;
    name_put(buf, size, at, text);
}

/* buf = a followed by b (as snprintf(buf, size, "%s%s", a, b)). */
static inline void name_join(char *buf, size_t size, const char *a, const char *b)
{
    size_t at = 0;
    name_put(buf, size, &at, a);
    name_put(buf, size, &at, b);
}

#endif
