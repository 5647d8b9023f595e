/*
 * Counted and safe strings (the WDK's Rtl*UnicodeString* routines and
 * ntstrsafe.h). Pure computations with no teardown meaning: none is a yield
 * point. WCHAR is 2 bytes (wdk.h). The printf-style routines take the
 * Windows kernel's conversions: %d %i %u %x %X %o %c %p, the l/ll/h/I64/z
 * sizes, %s/%S (narrow or wide by the routine's kind, as on Windows), %ws and
 * %ls (wide), %wZ (PCUNICODE_STRING), %Z (counted ANSI string: unsupported,
 * TdfUnmodelled) and %%. Output is truncated to the destination as
 * ntstrsafe does, with STATUS_BUFFER_OVERFLOW.
 */
#ifndef TDF_RTL_STRINGS_H
#define TDF_RTL_STRINGS_H

#include <stdarg.h>

#include "wdk.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UNICODE_NULL ((WCHAR)0)
#define ANSI_NULL ((CHAR)0)
#define UNICODE_STRING_MAX_BYTES ((USHORT)65534)
#define UNICODE_STRING_MAX_CHARS (32767)
#define NTSTRSAFE_MAX_CCH 2147483647
#ifndef STATUS_BUFFER_OVERFLOW
#define STATUS_BUFFER_OVERFLOW ((NTSTATUS)0x80000005L)
#endif
#ifndef STATUS_OBJECT_NAME_NOT_FOUND
#define STATUS_OBJECT_NAME_NOT_FOUND ((NTSTATUS)0xC0000034L)
#endif

/* A UNICODE_STRING `name` over a WCHAR buffer of `size` characters (the WDK's macro). */
#define DECLARE_UNICODE_STRING_SIZE(name, size) \
    WCHAR name##_buffer[size];                  \
    UNICODE_STRING name = {0, (USHORT)((size) * sizeof(WCHAR)), name##_buffer}

typedef struct _STRING {
    USHORT Length;
    USHORT MaximumLength;
    PCHAR Buffer;
} STRING, ANSI_STRING, *PANSI_STRING, *PSTRING;
typedef const STRING *PCANSI_STRING;

VOID RtlInitUnicodeString(_Out_ PUNICODE_STRING DestinationString, _In_opt_ PCWSTR SourceString);
VOID RtlCopyUnicodeString(_Inout_ PUNICODE_STRING DestinationString, _In_opt_ PCUNICODE_STRING SourceString);
NTSTATUS RtlAppendUnicodeToString(_Inout_ PUNICODE_STRING Destination, _In_opt_ PCWSTR Source);
NTSTATUS RtlAppendUnicodeStringToString(_Inout_ PUNICODE_STRING Destination, _In_ PCUNICODE_STRING Source);
LONG RtlCompareUnicodeString(_In_ PCUNICODE_STRING String1, _In_ PCUNICODE_STRING String2,
                             _In_ BOOLEAN CaseInSensitive);
BOOLEAN RtlEqualUnicodeString(_In_ PCUNICODE_STRING String1, _In_ PCUNICODE_STRING String2,
                              _In_ BOOLEAN CaseInSensitive);
VOID RtlInitAnsiString(_Out_ PANSI_STRING DestinationString, _In_opt_ PCSTR SourceString);

/* ntstrsafe.h: Cch counts characters, Cb bytes, both including the terminator. */
NTSTATUS RtlStringCchLengthW(_In_ PCWSTR psz, _In_ size_t cchMax, _Out_opt_ size_t *pcchLength);
NTSTATUS RtlStringCbLengthW(_In_ PCWSTR psz, _In_ size_t cbMax, _Out_opt_ size_t *pcbLength);
NTSTATUS RtlStringCchCopyW(_Out_writes_(cchDest) PWSTR pszDest, _In_ size_t cchDest, _In_ PCWSTR pszSrc);
NTSTATUS RtlStringCbCopyW(_Out_writes_bytes_(cbDest) PWSTR pszDest, _In_ size_t cbDest, _In_ PCWSTR pszSrc);
NTSTATUS RtlStringCchCatW(_Inout_updates_(cchDest) PWSTR pszDest, _In_ size_t cchDest, _In_ PCWSTR pszSrc);
NTSTATUS RtlStringCbCatW(_Inout_updates_bytes_(cbDest) PWSTR pszDest, _In_ size_t cbDest, _In_ PCWSTR pszSrc);
NTSTATUS RtlStringCchPrintfW(_Out_writes_(cchDest) PWSTR pszDest, _In_ size_t cchDest,
                             _In_ _Printf_format_string_ PCWSTR pszFormat, ...);
NTSTATUS RtlStringCbPrintfW(_Out_writes_bytes_(cbDest) PWSTR pszDest, _In_ size_t cbDest,
                            _In_ _Printf_format_string_ PCWSTR pszFormat, ...);
NTSTATUS RtlStringCchVPrintfW(_Out_writes_(cchDest) PWSTR pszDest, _In_ size_t cchDest, _In_ PCWSTR pszFormat,
                              _In_ va_list argList);
NTSTATUS RtlStringCchLengthA(_In_ PCSTR psz, _In_ size_t cchMax, _Out_opt_ size_t *pcchLength);
NTSTATUS RtlStringCchCopyA(_Out_writes_(cchDest) PCHAR pszDest, _In_ size_t cchDest, _In_ PCSTR pszSrc);
NTSTATUS RtlStringCbCopyA(_Out_writes_bytes_(cbDest) PCHAR pszDest, _In_ size_t cbDest, _In_ PCSTR pszSrc);
NTSTATUS RtlStringCchPrintfA(_Out_writes_(cchDest) PCHAR pszDest, _In_ size_t cchDest,
                             _In_ _Printf_format_string_ PCSTR pszFormat, ...);
NTSTATUS RtlStringCbPrintfA(_Out_writes_bytes_(cbDest) PCHAR pszDest, _In_ size_t cbDest,
                            _In_ _Printf_format_string_ PCSTR pszFormat, ...);
NTSTATUS RtlUnicodeStringPrintf(_Inout_ PUNICODE_STRING DestinationString,
                                _In_ _Printf_format_string_ PCWSTR pszFormat, ...);
NTSTATUS RtlUnicodeStringCopy(_Inout_ PUNICODE_STRING DestinationString, _In_ PCUNICODE_STRING SourceString);
NTSTATUS RtlUnicodeStringCopyString(_Inout_ PUNICODE_STRING DestinationString, _In_ PCWSTR pszSrc);
NTSTATUS RtlUnicodeStringCat(_Inout_ PUNICODE_STRING DestinationString, _In_ PCUNICODE_STRING SourceString);
NTSTATUS RtlUnicodeStringCatString(_Inout_ PUNICODE_STRING DestinationString, _In_ PCWSTR pszSrc);
NTSTATUS RtlUnicodeStringInit(_Out_ PUNICODE_STRING DestinationString, _In_opt_ PCWSTR pszSrc);

/* ---- the C runtime's string routines the kernel exports ----------------------
 * (ntoskrnl's wcslen, wcscpy, _wcsicmp, ...). With a 2-byte WCHAR glibc's wcs*
 * routines read the wrong unit size, so each name is a macro onto the model's
 * own (model/kernel/strings.c); a later <wchar.h> then declares the same
 * routines under the same macro names, compatibly. Case-insensitive compares
 * fold A-Z only, as the kernel CRT does for the C locale. Pure: no yield. */
size_t tdf_wcslen(const WCHAR *s);
size_t tdf_wcsnlen(const WCHAR *s, size_t maxlen);
WCHAR *tdf_wcscpy(WCHAR *dst, const WCHAR *src);
WCHAR *tdf_wcsncpy(WCHAR *dst, const WCHAR *src, size_t n);
WCHAR *tdf_wcscat(WCHAR *dst, const WCHAR *src);
WCHAR *tdf_wcsncat(WCHAR *dst, const WCHAR *src, size_t n);
int tdf_wcscmp(const WCHAR *a, const WCHAR *b);
int tdf_wcsncmp(const WCHAR *a, const WCHAR *b, size_t n);
int tdf_wcsicmp(const WCHAR *a, const WCHAR *b);
int tdf_wcsnicmp(const WCHAR *a, const WCHAR *b, size_t n);
WCHAR *tdf_wcschr(const WCHAR *s, WCHAR c);
WCHAR *tdf_wcsrchr(const WCHAR *s, WCHAR c);
WCHAR *tdf_wcsstr(const WCHAR *haystack, const WCHAR *needle);
int tdf_stricmp(const char *a, const char *b);
int tdf_strnicmp(const char *a, const char *b, size_t n);
#define wcslen tdf_wcslen
#define wcsnlen tdf_wcsnlen
#define wcscpy tdf_wcscpy
#define wcsncpy tdf_wcsncpy
#define wcscat tdf_wcscat
#define wcsncat tdf_wcsncat
#define wcscmp tdf_wcscmp
#define wcsncmp tdf_wcsncmp
#define _wcsicmp tdf_wcsicmp
#define _wcsnicmp tdf_wcsnicmp
#define wcschr tdf_wcschr
#define wcsrchr tdf_wcsrchr
#define wcsstr tdf_wcsstr
#define _stricmp tdf_stricmp
#define _strnicmp tdf_strnicmp

#ifdef __cplusplus
}
#endif
#endif
