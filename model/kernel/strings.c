/*
 * Wide strings for the model. WCHAR is two bytes (include/tdf/wdk.h, built
 * with -fshort-wchar) while glibc's wcs* routines read four-byte units, so the
 * model compares and measures driver strings here and never through libc.
 */
#include "kernel.h"

#include <stdio.h>
#include <string.h>

#include "tdf/rtl_strings.h"

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

/* ---- %p: a stable stand-in for an address -----------------------------------
 * A driver prints pointers (its context, a WDF handle, an IRP) with %p into
 * DbgPrint and into strings. The real address differs between builds, runs
 * and allocator states, and a trace must not (same input, byte-identical
 * trace in every build), so %p prints the pointer's order of first appearance
 * in this run as a kernel-looking address: the first distinct non-NULL
 * pointer is FFFFC00000001000, the next FFFFC00000002000, ...; NULL stays 0.
 * The same pointer prints the same within a run; equal values in two runs
 * mean "the same order of first use", not the same object. Reset per run. */
#define POINTER_NAMES_MAX 1024
static uintptr_t g_pointer_seen[POINTER_NAMES_MAX];
static unsigned g_pointer_count;

void strings_reset(void) { g_pointer_count = 0; }

static uint64_t pointer_name(const void *p)
{
    if (!p)
        return 0;
    uintptr_t v = (uintptr_t)p;
    unsigned i = 0;
    while (i < g_pointer_count && g_pointer_seen[i] != v)
        i++;
    if (i == g_pointer_count) {
        if (g_pointer_count == POINTER_NAMES_MAX)
            return 0xFFFFC0FFFFFFF000ull; /* past the table: one shared stand-in, still stable */
        g_pointer_seen[g_pointer_count++] = v;
    }
    return 0xFFFFC00000000000ull + ((uint64_t)(i + 1) << 12);
}

/* ---- the Windows kernel's printf conversions -------------------------------
 * One formatter for DbgPrint(Ex) (narrow out) and the ntstrsafe printf
 * routines (narrow or wide out). Numbers go through libc's snprintf with the
 * spec rebuilt in C99 terms (I64 -> ll, I -> z); strings are copied by hand
 * because their width depends on the routine's kind (%s is wide in a wide
 * routine, as on Windows) and on w/l/h. */
typedef struct fmt_sink {
    char *narrow;
    WCHAR *wide;
    size_t cap, len; /* characters, the terminator not counted in len */
    int truncated;
    int no_terminator; /* UNICODE_STRING destinations: counted, not terminated */
} fmt_sink_t;

static void sink_put(fmt_sink_t *s, unsigned c)
{
    if (s->len + (s->no_terminator ? 0 : 1) >= s->cap) {
        s->truncated = 1;
        return;
    }
    if (s->wide)
        s->wide[s->len++] = (WCHAR)c;
    else
        s->narrow[s->len++] = (char)(c < 0x100 ? c : '?');
}

static void sink_pad(fmt_sink_t *s, int n)
{
    while (n-- > 0)
        sink_put(s, ' ');
}

/* a string of `n` units (narrow bytes or WCHARs), padded to `width` */
static void sink_string(fmt_sink_t *s, const void *str, int is_wide, long n, int width, int left)
{
    if (!str) {
        str = "(null)";
        is_wide = 0;
        n = 6;
    }
    if (n < 0) { /* terminated: measure */
        n = 0;
        if (is_wide)
            while (((const WCHAR *)str)[n])
                n++;
        else
            while (((const char *)str)[n])
                n++;
    }
    if (!left)
        sink_pad(s, width - (int)n);
    for (long i = 0; i < n; i++)
        sink_put(s, is_wide ? ((const WCHAR *)str)[i] : (unsigned char)((const char *)str)[i]);
    if (left)
        sink_pad(s, width - (int)n);
}

/* Reads the format one unit at a time, narrow or wide. */
typedef struct fmt_reader {
    const char *narrow;
    PCWSTR wide;
    size_t at;
} fmt_reader_t;

static unsigned fmt_peek(const fmt_reader_t *r) { return r->wide ? r->wide[r->at] : (unsigned char)r->narrow[r->at]; }

static void tdf_format(fmt_sink_t *sink, fmt_reader_t *r, int wide_routine, va_list ap)
{
    for (unsigned c; (c = fmt_peek(r)); ) {
        r->at++;
        if (c != '%') {
            sink_put(sink, c);
            continue;
        }
        char spec[32] = "%";
        size_t sl = 1;
        int left = 0, width = 0, precision = -1;
        while ((c = fmt_peek(r)) && strchr("-+ 0#", (int)c)) {
            left |= c == '-';
            if (sl < 8)
                spec[sl++] = (char)c;
            r->at++;
        }
        if (fmt_peek(r) == '*') {
            width = va_arg(ap, int);
            r->at++;
        } else
            while ((c = fmt_peek(r)) >= '0' && c <= '9') {
                width = width * 10 + (int)(c - '0');
                r->at++;
            }
        if (width < 0) {
            left = 1;
            width = -width;
        }
        if (fmt_peek(r) == '.') {
            r->at++;
            precision = 0;
            if (fmt_peek(r) == '*') {
                precision = va_arg(ap, int);
                r->at++;
            } else
                while ((c = fmt_peek(r)) >= '0' && c <= '9') {
                    precision = precision * 10 + (int)(c - '0');
                    r->at++;
                }
        }
        /* size: 0 int, 1 long/l, 2 long long/I64/ll, 3 size_t/I, 4 h, 5 hh, 6 w */
        int size = 0;
        for (;;) {
            c = fmt_peek(r);
            if (c == 'l') {
                size = size == 1 ? 2 : 1;
                r->at++;
            } else if (c == 'h') {
                size = size == 4 ? 5 : 4;
                r->at++;
            } else if (c == 'w') {
                size = 6;
                r->at++;
            } else if (c == 'z') {
                size = 3;
                r->at++;
            } else if (c == 'I') {
                r->at++;
                if (fmt_peek(r) == '6') {
                    r->at += 2; /* I64 */
                    size = 2;
                } else if (fmt_peek(r) == '3') {
                    r->at += 2; /* I32 */
                    size = 0;
                } else
                    size = 3;
            } else
                break;
        }
        unsigned conv = fmt_peek(r);
        if (!conv)
            break;
        r->at++;
        switch (conv) {
        case '%':
            sink_put(sink, '%');
            break;
        case 'c':
        case 'C': {
            int wide_char = conv == 'C' ? !wide_routine : (size == 1 || size == 6) ? 1 : size == 4 ? 0 : wide_routine;
            WCHAR ch = (WCHAR)va_arg(ap, int);
            (void)wide_char;
            char narrow = (char)ch;
            sink_string(sink, wide_char ? (const void *)&ch : (const void *)&narrow, wide_char, 1, width, left);
            break;
        }
        case 's':
        case 'S': {
            int is_wide = conv == 'S' ? !wide_routine : (size == 1 || size == 6) ? 1 : size == 4 ? 0 : wide_routine;
            const void *str = va_arg(ap, const void *);
            long n = -1;
            if (precision >= 0 && str) {
                n = 0;
                while (n < precision && (is_wide ? ((const WCHAR *)str)[n] : ((const char *)str)[n]))
                    n++;
            }
            sink_string(sink, str, is_wide, n, width, left);
            break;
        }
        case 'Z': { /* counted strings: %wZ UNICODE_STRING, %Z ANSI_STRING */
            const void *counted = va_arg(ap, const void *);
            if (!counted) {
                sink_string(sink, NULL, 0, -1, width, left);
            } else if (size == 6 || wide_routine) {
                const UNICODE_STRING *us = counted;
                sink_string(sink, us->Buffer, 1, us->Buffer ? us->Length / 2 : -1, width, left);
            } else {
                const struct { USHORT Length, MaximumLength; const char *Buffer; } *as = counted;
                sink_string(sink, as->Buffer, 0, as->Buffer ? as->Length : -1, width, left);
            }
            break;
        }
        case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': case 'p': {
            char num[80];
            if (width)
                sl += (size_t)snprintf(spec + sl, sizeof spec - sl, "%d", width);
            if (precision >= 0)
                sl += (size_t)snprintf(spec + sl, sizeof spec - sl, ".%d", precision);
            const char *len = conv == 'p' ? "" : size == 1 ? "l" : size == 2 ? "ll" : size == 3 ? "z" :
                              size == 4 ? "h" : size == 5 ? "hh" : "";
            snprintf(spec + sl, sizeof spec - sl, "%s%c", len, (char)conv);
            if (conv == 'p') /* Windows: 16 hex digits, uppercase, no 0x; the value: pointer_name */
                snprintf(num, sizeof num, "%016llX", (unsigned long long)pointer_name(va_arg(ap, const void *)));
            else if (size == 1)
                snprintf(num, sizeof num, spec, va_arg(ap, long));
            else if (size == 2)
                snprintf(num, sizeof num, spec, va_arg(ap, long long));
            else if (size == 3)
                snprintf(num, sizeof num, spec, va_arg(ap, size_t));
            else
                snprintf(num, sizeof num, spec, va_arg(ap, int));
            sink_string(sink, num, 0, -1, 0, 0);
            break;
        }
        default:
            TdfUnmodelled("printf-style formatting", "a conversion the Windows kernel's printf does not have");
        }
    }
    if (sink->cap && !sink->no_terminator) {
        if (sink->wide)
            sink->wide[sink->len] = 0;
        else
            sink->narrow[sink->len] = 0;
    }
}

size_t tdf_vformat_narrow(char *out, size_t cap, PCSTR format, va_list ap)
{
    fmt_sink_t sink = {.narrow = out, .cap = cap};
    fmt_reader_t r = {.narrow = format};
    tdf_format(&sink, &r, 0, ap);
    return sink.len;
}

/* ---- Rtl counted strings ------------------------------------------------------ */
VOID RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    size_t bytes = SourceString ? tdf_wide_length(SourceString) * sizeof(WCHAR) : 0;
    if (bytes > UNICODE_STRING_MAX_BYTES - sizeof(WCHAR))
        bytes = UNICODE_STRING_MAX_BYTES - sizeof(WCHAR); /* the kernel's cap */
    DestinationString->Buffer = (PWCH)SourceString;
    DestinationString->Length = (USHORT)bytes;
    DestinationString->MaximumLength = SourceString ? (USHORT)(bytes + sizeof(WCHAR)) : 0;
}

VOID RtlInitAnsiString(PANSI_STRING DestinationString, PCSTR SourceString)
{
    size_t bytes = SourceString ? strlen(SourceString) : 0;
    if (bytes > 65534)
        bytes = 65534;
    DestinationString->Buffer = (PCHAR)SourceString;
    DestinationString->Length = (USHORT)bytes;
    DestinationString->MaximumLength = SourceString ? (USHORT)(bytes + 1) : 0;
}

/* Appends `bytes` of `src` to a counted string; terminated when room is left
 * (the Rtl routines do so, and drivers rely on it). */
static NTSTATUS append_counted(PUNICODE_STRING dst, const WCHAR *src, size_t bytes)
{
    if (dst->Length + bytes > dst->MaximumLength)
        return STATUS_BUFFER_TOO_SMALL;
    memmove((char *)dst->Buffer + dst->Length, src, bytes);
    dst->Length = (USHORT)(dst->Length + bytes);
    if (dst->Length + sizeof(WCHAR) <= dst->MaximumLength)
        dst->Buffer[dst->Length / sizeof(WCHAR)] = UNICODE_NULL;
    return STATUS_SUCCESS;
}

VOID RtlCopyUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
    if (!SourceString) {
        DestinationString->Length = 0;
        return;
    }
    size_t bytes = SourceString->Length < DestinationString->MaximumLength ? SourceString->Length
                                                                             : DestinationString->MaximumLength;
    DestinationString->Length = 0;
    append_counted(DestinationString, SourceString->Buffer, bytes & ~(size_t)1);
}

NTSTATUS RtlAppendUnicodeToString(PUNICODE_STRING Destination, PCWSTR Source)
{
    return Source ? append_counted(Destination, Source, tdf_wide_length(Source) * sizeof(WCHAR)) : STATUS_SUCCESS;
}

NTSTATUS RtlAppendUnicodeStringToString(PUNICODE_STRING Destination, PCUNICODE_STRING Source)
{
    return append_counted(Destination, Source->Buffer, Source->Length);
}

/* Case folding of the Basic Latin letters only: the model's strings (IDs,
 * names) are ASCII; the kernel's full upcase table is not modelled. */
static WCHAR upcase(WCHAR c) { return c >= 'a' && c <= 'z' ? (WCHAR)(c - 'a' + 'A') : c; }

LONG RtlCompareUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    size_t n1 = String1->Length / sizeof(WCHAR), n2 = String2->Length / sizeof(WCHAR);
    for (size_t i = 0; i < n1 && i < n2; i++) {
        WCHAR a = String1->Buffer[i], b = String2->Buffer[i];
        if (CaseInSensitive) {
            a = upcase(a);
            b = upcase(b);
        }
        if (a != b)
            return (LONG)a - (LONG)b;
    }
    return (LONG)n1 - (LONG)n2;
}

BOOLEAN RtlEqualUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    return String1->Length == String2->Length && RtlCompareUnicodeString(String1, String2, CaseInSensitive) == 0;
}

/* ---- ntstrsafe ---------------------------------------------------------------- */
#define CCH_VALID(cch) ((cch) != 0 && (cch) <= NTSTRSAFE_MAX_CCH)

NTSTATUS RtlStringCchLengthW(PCWSTR psz, size_t cchMax, size_t *pcchLength)
{
    if (pcchLength)
        *pcchLength = 0;
    if (!psz || !CCH_VALID(cchMax))
        return STATUS_INVALID_PARAMETER;
    size_t n = 0;
    while (n < cchMax && psz[n])
        n++;
    if (n == cchMax)
        return STATUS_INVALID_PARAMETER; /* no terminator within cchMax */
    if (pcchLength)
        *pcchLength = n;
    return STATUS_SUCCESS;
}

NTSTATUS RtlStringCbLengthW(PCWSTR psz, size_t cbMax, size_t *pcbLength)
{
    size_t cch = 0;
    NTSTATUS status = RtlStringCchLengthW(psz, cbMax / sizeof(WCHAR), &cch);
    if (pcbLength)
        *pcbLength = NT_SUCCESS(status) ? cch * sizeof(WCHAR) : 0;
    return status;
}

NTSTATUS RtlStringCchLengthA(PCSTR psz, size_t cchMax, size_t *pcchLength)
{
    if (pcchLength)
        *pcchLength = 0;
    if (!psz || !CCH_VALID(cchMax))
        return STATUS_INVALID_PARAMETER;
    size_t n = 0;
    while (n < cchMax && psz[n])
        n++;
    if (n == cchMax)
        return STATUS_INVALID_PARAMETER;
    if (pcchLength)
        *pcchLength = n;
    return STATUS_SUCCESS;
}

/* copy at `at` of dest (cch characters), truncating with a terminator */
static NTSTATUS copy_wide(PWSTR dest, size_t cch, size_t at, PCWSTR src)
{
    if (!CCH_VALID(cch))
        return STATUS_INVALID_PARAMETER;
    if (at >= cch)
        return STATUS_BUFFER_OVERFLOW;
    while (*src && at + 1 < cch)
        dest[at++] = *src++;
    dest[at] = UNICODE_NULL;
    return *src ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

NTSTATUS RtlStringCchCopyW(PWSTR pszDest, size_t cchDest, PCWSTR pszSrc)
{
    return copy_wide(pszDest, cchDest, 0, pszSrc);
}

NTSTATUS RtlStringCbCopyW(PWSTR pszDest, size_t cbDest, PCWSTR pszSrc)
{
    return copy_wide(pszDest, cbDest / sizeof(WCHAR), 0, pszSrc);
}

NTSTATUS RtlStringCchCatW(PWSTR pszDest, size_t cchDest, PCWSTR pszSrc)
{
    size_t len = 0;
    NTSTATUS status = RtlStringCchLengthW(pszDest, cchDest, &len);
    return NT_SUCCESS(status) ? copy_wide(pszDest, cchDest, len, pszSrc) : status;
}

NTSTATUS RtlStringCbCatW(PWSTR pszDest, size_t cbDest, PCWSTR pszSrc)
{
    return RtlStringCchCatW(pszDest, cbDest / sizeof(WCHAR), pszSrc);
}

NTSTATUS RtlStringCchCopyA(PCHAR pszDest, size_t cchDest, PCSTR pszSrc)
{
    if (!CCH_VALID(cchDest))
        return STATUS_INVALID_PARAMETER;
    size_t at = 0;
    while (*pszSrc && at + 1 < cchDest)
        pszDest[at++] = *pszSrc++;
    pszDest[at] = 0;
    return *pszSrc ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

NTSTATUS RtlStringCbCopyA(PCHAR pszDest, size_t cbDest, PCSTR pszSrc)
{
    return RtlStringCchCopyA(pszDest, cbDest, pszSrc);
}

static NTSTATUS vprintf_wide(PWSTR dest, size_t cch, PCWSTR format, va_list ap)
{
    if (!CCH_VALID(cch))
        return STATUS_INVALID_PARAMETER;
    fmt_sink_t sink = {.wide = dest, .cap = cch};
    fmt_reader_t r = {.wide = format};
    tdf_format(&sink, &r, 1, ap);
    return sink.truncated ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

NTSTATUS RtlStringCchVPrintfW(PWSTR pszDest, size_t cchDest, PCWSTR pszFormat, va_list argList)
{
    return vprintf_wide(pszDest, cchDest, pszFormat, argList);
}

static NTSTATUS vprintf_narrow(PCHAR dest, size_t cch, PCSTR format, va_list ap)
{
    if (!CCH_VALID(cch))
        return STATUS_INVALID_PARAMETER;
    fmt_sink_t sink = {.narrow = dest, .cap = cch};
    fmt_reader_t r = {.narrow = format};
    tdf_format(&sink, &r, 0, ap);
    return sink.truncated ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

/* The variadic ntstrsafe printf routines: one va_list body each, the count
 * in characters (Cch) or bytes (Cb). */
#define STRSAFE_PRINTF(name, dest_type, fmt_type, impl, count)       \
    NTSTATUS name(dest_type pszDest, size_t size, fmt_type pszFormat, ...) \
    {                                                                  \
        va_list ap;                                                    \
        va_start(ap, pszFormat);                                       \
        NTSTATUS status = impl(pszDest, (count), pszFormat, ap);       \
        va_end(ap);                                                    \
        return status;                                                 \
    }
STRSAFE_PRINTF(RtlStringCchPrintfW, PWSTR, PCWSTR, vprintf_wide, size)
STRSAFE_PRINTF(RtlStringCbPrintfW, PWSTR, PCWSTR, vprintf_wide, size / sizeof(WCHAR))
STRSAFE_PRINTF(RtlStringCchPrintfA, PCHAR, PCSTR, vprintf_narrow, size)
STRSAFE_PRINTF(RtlStringCbPrintfA, PCHAR, PCSTR, vprintf_narrow, size)
#undef STRSAFE_PRINTF
/* ntstrsafe's UNICODE_STRING routines: counted, never terminated; an invalid
 * destination (odd lengths, Length > MaximumLength) is
 * STATUS_INVALID_PARAMETER. */
static int counted_valid(PCUNICODE_STRING s)
{
    return s && !(s->Length & 1) && !(s->MaximumLength & 1) && s->Length <= s->MaximumLength &&
           (s->Buffer || s->MaximumLength == 0);
}

NTSTATUS RtlUnicodeStringPrintf(PUNICODE_STRING DestinationString, PCWSTR pszFormat, ...)
{
    if (!counted_valid(DestinationString))
        return STATUS_INVALID_PARAMETER;
    fmt_sink_t sink = {.wide = DestinationString->Buffer, .cap = DestinationString->MaximumLength / sizeof(WCHAR),
                       .no_terminator = 1};
    fmt_reader_t r = {.wide = pszFormat};
    va_list ap;
    va_start(ap, pszFormat);
    tdf_format(&sink, &r, 1, ap);
    va_end(ap);
    DestinationString->Length = (USHORT)(sink.len * sizeof(WCHAR));
    return sink.truncated ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

static NTSTATUS counted_set(PUNICODE_STRING dst, size_t at_bytes, const WCHAR *src, size_t bytes)
{
    if (!counted_valid(dst))
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = STATUS_SUCCESS;
    if (at_bytes + bytes > dst->MaximumLength) {
        bytes = dst->MaximumLength - at_bytes;
        status = STATUS_BUFFER_OVERFLOW;
    }
    memmove((char *)dst->Buffer + at_bytes, src, bytes);
    dst->Length = (USHORT)(at_bytes + bytes);
    return status;
}

NTSTATUS RtlUnicodeStringCopy(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
    return counted_set(DestinationString, 0, SourceString->Buffer, SourceString->Length);
}

NTSTATUS RtlUnicodeStringCopyString(PUNICODE_STRING DestinationString, PCWSTR pszSrc)
{
    return counted_set(DestinationString, 0, pszSrc, tdf_wide_length(pszSrc) * sizeof(WCHAR));
}

NTSTATUS RtlUnicodeStringCat(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
    return counted_set(DestinationString, DestinationString->Length, SourceString->Buffer, SourceString->Length);
}

NTSTATUS RtlUnicodeStringCatString(PUNICODE_STRING DestinationString, PCWSTR pszSrc)
{
    return counted_set(DestinationString, DestinationString->Length, pszSrc, tdf_wide_length(pszSrc) * sizeof(WCHAR));
}

NTSTATUS RtlUnicodeStringInit(PUNICODE_STRING DestinationString, PCWSTR pszSrc)
{
    size_t bytes = pszSrc ? tdf_wide_length(pszSrc) * sizeof(WCHAR) : 0;
    if (bytes > UNICODE_STRING_MAX_BYTES) {
        DestinationString->Length = DestinationString->MaximumLength = 0;
        DestinationString->Buffer = NULL;
        return STATUS_INVALID_PARAMETER;
    }
    DestinationString->Buffer = (PWCH)pszSrc;
    DestinationString->Length = DestinationString->MaximumLength = (USHORT)bytes;
    return STATUS_SUCCESS;
}

/* ---- the kernel CRT's string routines (rtl_strings.h: wcslen is tdf_wcslen) ---- */
size_t tdf_wcslen(const WCHAR *s) { return tdf_wide_length(s); }

size_t tdf_wcsnlen(const WCHAR *s, size_t maxlen)
{
    size_t n = 0;
    while (n < maxlen && s[n])
        n++;
    return n;
}

WCHAR *tdf_wcscpy(WCHAR *dst, const WCHAR *src)
{
    size_t i = 0;
    do
        dst[i] = src[i];
    while (src[i++]);
    return dst;
}

/* As the C routine: pads with zeros up to n, no terminator when src is n long or longer. */
WCHAR *tdf_wcsncpy(WCHAR *dst, const WCHAR *src, size_t n)
{
    size_t i = 0;
    for (; i < n && src[i]; i++)
        dst[i] = src[i];
    for (; i < n; i++)
        dst[i] = 0;
    return dst;
}

WCHAR *tdf_wcscat(WCHAR *dst, const WCHAR *src)
{
    tdf_wcscpy(dst + tdf_wide_length(dst), src);
    return dst;
}

WCHAR *tdf_wcsncat(WCHAR *dst, const WCHAR *src, size_t n)
{
    WCHAR *d = dst + tdf_wide_length(dst);
    size_t i = 0;
    for (; i < n && src[i]; i++)
        d[i] = src[i];
    d[i] = 0;
    return dst;
}

static unsigned fold(unsigned c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

static int compare_wide(const WCHAR *a, const WCHAR *b, size_t n, int fold_case)
{
    for (size_t i = 0; i < n; i++) {
        unsigned x = a[i], y = b[i];
        if (fold_case) {
            x = fold(x);
            y = fold(y);
        }
        if (x != y)
            return x < y ? -1 : 1;
        if (!x)
            return 0;
    }
    return 0;
}

int tdf_wcscmp(const WCHAR *a, const WCHAR *b) { return compare_wide(a, b, SIZE_MAX, 0); }
int tdf_wcsncmp(const WCHAR *a, const WCHAR *b, size_t n) { return compare_wide(a, b, n, 0); }
int tdf_wcsicmp(const WCHAR *a, const WCHAR *b) { return compare_wide(a, b, SIZE_MAX, 1); }
int tdf_wcsnicmp(const WCHAR *a, const WCHAR *b, size_t n) { return compare_wide(a, b, n, 1); }

WCHAR *tdf_wcschr(const WCHAR *s, WCHAR c)
{
    for (;; s++) {
        if (*s == c)
            return (WCHAR *)s;
        if (!*s)
            return NULL;
    }
}

WCHAR *tdf_wcsrchr(const WCHAR *s, WCHAR c)
{
    const WCHAR *last = NULL;
    for (;; s++) {
        if (*s == c)
            last = s;
        if (!*s)
            return (WCHAR *)last;
    }
}

WCHAR *tdf_wcsstr(const WCHAR *haystack, const WCHAR *needle)
{
    size_t n = tdf_wide_length(needle);
    for (; *haystack; haystack++)
        if (compare_wide(haystack, needle, n, 0) == 0)
            return (WCHAR *)haystack;
    return n == 0 ? (WCHAR *)haystack : NULL;
}

static int compare_narrow_folded(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned x = fold((unsigned char)a[i]), y = fold((unsigned char)b[i]);
        if (x != y)
            return x < y ? -1 : 1;
        if (!x)
            return 0;
    }
    return 0;
}

int tdf_stricmp(const char *a, const char *b) { return compare_narrow_folded(a, b, SIZE_MAX); }
int tdf_strnicmp(const char *a, const char *b, size_t n) { return compare_narrow_folded(a, b, n); }
