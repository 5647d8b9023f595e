/*
 * Safe integer arithmetic (the WDK's ntintsafe.h): the result and
 * STATUS_SUCCESS, or STATUS_INTEGER_OVERFLOW and the WDK's error value
 * (ULONG_ERROR etc.) when it does not fit. Inline, not yield points.
 */
#ifndef TDF_INTSAFE_H
#define TDF_INTSAFE_H

#include "wdk.h"

#ifndef STATUS_INTEGER_OVERFLOW
#define STATUS_INTEGER_OVERFLOW ((NTSTATUS)0xC0000095L)
#endif
#define ULONG_ERROR 0xffffffffUL
#define USHORT_ERROR 0xffffU
#define SIZET_ERROR ((size_t)-1)
#define ULONGLONG_ERROR 0xffffffffffffffffULL

#define TDF_INTSAFE_BINARY(name, type, op, error)                             \
    static inline NTSTATUS name(type a, type b, type *result)                 \
    {                                                                         \
        type r;                                                               \
        if (__builtin_##op##_overflow(a, b, &r)) {                            \
            *result = (error);                                                \
            return STATUS_INTEGER_OVERFLOW;                                   \
        }                                                                     \
        *result = r;                                                          \
        return STATUS_SUCCESS;                                                \
    }
TDF_INTSAFE_BINARY(RtlULongAdd, ULONG, add, ULONG_ERROR)
TDF_INTSAFE_BINARY(RtlULongSub, ULONG, sub, ULONG_ERROR)
TDF_INTSAFE_BINARY(RtlULongMult, ULONG, mul, ULONG_ERROR)
TDF_INTSAFE_BINARY(RtlUShortAdd, USHORT, add, USHORT_ERROR)
TDF_INTSAFE_BINARY(RtlUShortMult, USHORT, mul, USHORT_ERROR)
TDF_INTSAFE_BINARY(RtlSizeTAdd, size_t, add, SIZET_ERROR)
TDF_INTSAFE_BINARY(RtlSizeTSub, size_t, sub, SIZET_ERROR)
TDF_INTSAFE_BINARY(RtlSizeTMult, size_t, mul, SIZET_ERROR)
TDF_INTSAFE_BINARY(RtlULongLongAdd, ULONGLONG, add, ULONGLONG_ERROR)
TDF_INTSAFE_BINARY(RtlULongLongMult, ULONGLONG, mul, ULONGLONG_ERROR)
#undef TDF_INTSAFE_BINARY

static inline NTSTATUS RtlSizeTToULong(size_t value, ULONG *result)
{
    if (value > 0xffffffffUL) {
        *result = ULONG_ERROR;
        return STATUS_INTEGER_OVERFLOW;
    }
    *result = (ULONG)value;
    return STATUS_SUCCESS;
}
static inline NTSTATUS RtlULongLongToULong(ULONGLONG value, ULONG *result)
{
    if (value > 0xffffffffULL) {
        *result = ULONG_ERROR;
        return STATUS_INTEGER_OVERFLOW;
    }
    *result = (ULONG)value;
    return STATUS_SUCCESS;
}
static inline NTSTATUS RtlULongToUShort(ULONG value, USHORT *result)
{
    if (value > 0xffffU) {
        *result = USHORT_ERROR;
        return STATUS_INTEGER_OVERFLOW;
    }
    *result = (USHORT)value;
    return STATUS_SUCCESS;
}
#endif
