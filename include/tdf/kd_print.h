/*
 * Debug output and the pageable-code check. KdPrint, KdPrintEx and DbgPrintEx
 * go to the run's trace as DbgPrint does (wdk.h): always, whatever the
 * component filter, since the trace is only printed for a report.
 *
 * PAGED_CODE() is a real IRQL check: a routine the driver marks pageable runs
 * with its code paged out at any time (Driver Verifier's "Force IRQL checking"
 * pages it out), so entering one above APC_LEVEL is the page fault at raised
 * IRQL: BUGCHECK 0xD1 DRIVER_IRQL_NOT_LESS_OR_EQUAL at the routine. Not a
 * yield point. `#pragma alloc_text(PAGE, ...)` and `code_seg` are ignored
 * (GCC does not know them); the check is what carries their meaning.
 */
#ifndef TDF_KD_PRINT_H
#define TDF_KD_PRINT_H

#ifdef __cplusplus
extern "C" {
#endif

#define DPFLTR_ERROR_LEVEL 0
#define DPFLTR_WARNING_LEVEL 1
#define DPFLTR_TRACE_LEVEL 2
#define DPFLTR_INFO_LEVEL 3
#define DPFLTR_MASK 0x80000000
#define DPFLTR_IHVDRIVER_ID 77
#define DPFLTR_IHVBUS_ID 78
#define DPFLTR_DEFAULT_ID 101

ULONG DbgPrintEx(_In_ ULONG ComponentId, _In_ ULONG Level, _In_ PCSTR Format, ...);
/* KdPrint((fmt, ...)): the WDK's double parentheses. */
#define KdPrint(args) ((void)DbgPrint args)
#define KdPrintEx(args) ((void)DbgPrintEx args)
#define DbgBreakPoint() TdfAssertFailed("DbgBreakPoint()", __FILE__, __LINE__)

void TdfPagedCode(const char *routine);
#define PAGED_CODE() TdfPagedCode(__func__)
#define PAGED_CODE_LOCKED() ((void)0)

#ifdef __cplusplus
}
#endif
#endif
