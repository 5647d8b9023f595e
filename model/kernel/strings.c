/*
 * Wide strings for the model. WCHAR is two bytes (include/tdf/wdk.h, built
 * with -fshort-wchar) while glibc's wcs* routines read four-byte units, so the
 * model compares and measures driver strings here and never through libc.
 */
#include "kernel.h"

size_t tdf_wide_length(PCWSTR s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int tdf_wide_equal(PCWSTR a, PCWSTR b)
{
    for (;; a++, b++) {
        if (*a != *b)
            return 0;
        if (!*a)
            return 1;
    }
}

int tdf_wide_equal_counted(PCWSTR terminated, PCWSTR counted, size_t chars)
{
    for (size_t i = 0; i < chars; i++)
        if (terminated[i] != counted[i] || !terminated[i])
            return 0;
    return terminated[chars] == 0;
}
