/*
 * The shim's string and list routines (model/kernel/strings.c,
 * include/tdf/rtl_strings.h, list_entry.h, kd_print.h): WCHAR is 2 bytes,
 * counted-string lengths are bytes, ntstrsafe truncates with
 * STATUS_BUFFER_OVERFLOW, the kernel's printf conversions (%ws, %wZ, %I64x)
 * and DbgPrint's trace line, PAGED_CODE's IRQL check, LIST_ENTRY corruption;
 * the kernel CRT's wcs* routines on 2-byte WCHARs, the time queries (the step
 * count), WDF_PTR_ADD_OFFSET and WDFVERIFY.
 */
#include "fiber_harness.h"
#include "tdf/rtl_strings.h"
#include "tdf/wdf.h"

static int wide_is(PCWSTR got, const char *want)
{
    size_t i = 0;
    for (; want[i]; i++)
        if (got[i] != (WCHAR)(unsigned char)want[i])
            return 0;
    return got[i] == 0;
}

TEST(wchar_is_two_bytes_and_init_counts_bytes)
{
    CHECK(sizeof(WCHAR) == 2);
    CHECK(sizeof(L"abc") == 8);
    UNICODE_STRING s;
    RtlInitUnicodeString(&s, L"abc");
    CHECK(s.Length == 6 && s.MaximumLength == 8);
    RtlInitUnicodeString(&s, NULL);
    CHECK(s.Length == 0 && s.MaximumLength == 0 && s.Buffer == NULL);
    DECLARE_CONST_UNICODE_STRING(c, L"\\Device\\X");
    CHECK(c.Length == 18);
}

TEST(copy_append_compare)
{
    DECLARE_UNICODE_STRING_SIZE(dst, 6);
    UNICODE_STRING abc;
    RtlInitUnicodeString(&abc, L"abc");
    RtlCopyUnicodeString(&dst, &abc);
    CHECK(dst.Length == 6 && wide_is(dst.Buffer, "abc"));
    CHECK(RtlAppendUnicodeToString(&dst, L"de") == STATUS_SUCCESS && dst.Length == 10 && wide_is(dst.Buffer, "abcde"));
    CHECK(RtlAppendUnicodeToString(&dst, L"fg") == STATUS_BUFFER_TOO_SMALL && dst.Length == 10);
    UNICODE_STRING upper;
    RtlInitUnicodeString(&upper, L"ABC");
    CHECK(RtlCompareUnicodeString(&abc, &upper, FALSE) > 0);
    CHECK(RtlCompareUnicodeString(&abc, &upper, TRUE) == 0);
    CHECK(RtlEqualUnicodeString(&abc, &upper, TRUE) && !RtlEqualUnicodeString(&abc, &upper, FALSE));
    CHECK(RtlEqualUnicodeString(&abc, &dst, FALSE) == FALSE);
}

TEST(ntstrsafe_truncates_with_buffer_overflow)
{
    WCHAR buf[4];
    CHECK(RtlStringCchCopyW(buf, 4, L"abc") == STATUS_SUCCESS && wide_is(buf, "abc"));
    CHECK(RtlStringCchCopyW(buf, 4, L"abcd") == STATUS_BUFFER_OVERFLOW && wide_is(buf, "abc"));
    CHECK(RtlStringCbCopyW(buf, sizeof buf, L"xy") == STATUS_SUCCESS && wide_is(buf, "xy"));
    CHECK(RtlStringCchCatW(buf, 4, L"zz") == STATUS_BUFFER_OVERFLOW && wide_is(buf, "xyz"));
    CHECK(RtlStringCchCopyW(buf, 0, L"a") == STATUS_INVALID_PARAMETER);
    size_t n = 99;
    CHECK(RtlStringCchLengthW(L"abc", 10, &n) == STATUS_SUCCESS && n == 3);
    CHECK(RtlStringCchLengthW(L"abc", 3, &n) == STATUS_INVALID_PARAMETER && n == 0);
    char a[5];
    CHECK(RtlStringCchPrintfA(a, sizeof a, "%d-%s", 12, "xyz") == STATUS_BUFFER_OVERFLOW && strcmp(a, "12-x") == 0);
}

TEST(printf_has_the_kernel_conversions)
{
    WCHAR w[64];
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, L"Toaster");
    CHECK(RtlStringCchPrintfW(w, 64, L"%s/%ws/%wZ/%S/%04x/%I64u/%Iu/%-3d|", L"a", L"b", &name, "n", 0xbeef,
                              (ULONGLONG)1 << 40, (size_t)7, 5) == STATUS_SUCCESS);
    CHECK(wide_is(w, "a/b/Toaster/n/beef/1099511627776/7/5  |"));
    DECLARE_UNICODE_STRING_SIZE(id, 8);
    CHECK(RtlUnicodeStringPrintf(&id, L"Dev%02d", 3) == STATUS_SUCCESS && id.Length == 10);
    CHECK(RtlUnicodeStringPrintf(&id, L"%ws", L"0123456789") == STATUS_BUFFER_OVERFLOW && id.Length == 16);
    CHECK(id.Buffer[7] == '7');
    /* %p as Windows prints it, 16 uppercase hex digits with no 0x (a driver's "0x%p" reads 0x...), but
     * of a stand-in: the pointer's order of first use in the run, never the address (the trace must be
     * the same in every build); NULL stays 0, the same pointer prints the same, kernel_reset renumbers. */
    CHAR a[64];
    int x, y;
    kernel_reset();
    CHECK(RtlStringCchPrintfA(a, 64, "0x%p", (void *)&x) == STATUS_SUCCESS);
    CHECK(strcmp(a, "0xFFFFC00000001000") == 0);
    CHECK(RtlStringCchPrintfA(a, 64, "%p %p %p", (void *)&y, (void *)&x, (void *)0) == STATUS_SUCCESS);
    CHECK(strcmp(a, "FFFFC00000002000 FFFFC00000001000 0000000000000000") == 0);
    kernel_reset();
    CHECK(RtlStringCchPrintfA(a, 64, "%p", (void *)&y) == STATUS_SUCCESS);
    CHECK(strcmp(a, "FFFFC00000001000") == 0);
}

static void print_fiber(void *arg)
{
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, L"bus");
    KdPrint(("hello %wZ %ws %I64x\n", &u, L"w", (ULONGLONG)0x123456789));
    DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, "ex %d\n", 4);
}

TEST(kdprint_goes_to_the_trace_with_kernel_conversions)
{
    sched_fiber_fn *fns[] = {print_fiber};
    sched_outcome_t o = fh_run(fns, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, NULL);
    CHECK(o == SCHED_OUTCOME_DONE);
    CHECK(fh_trace_has("DbgPrint: hello bus w 123456789"));
    CHECK(fh_trace_has("DbgPrint: ex 4"));
}

static void paged_routine(void) { PAGED_CODE(); }

static void paged_at_dispatch(void *arg)
{
    paged_routine(); /* at PASSIVE: fine */
    KSPIN_LOCK lock;
    KIRQL old;
    KeInitializeSpinLock(&lock);
    KeAcquireSpinLock(&lock, &old);
    paged_routine();
}

TEST(paged_code_above_apc_level_is_0xd1)
{
    sched_fiber_fn *fns[] = {paged_at_dispatch};
    sched_outcome_t o = fh_run(fns, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, NULL);
    fh_check_failure(o, TDF_CLASS_BUGCHECK, 0xD1, DISPATCH_LEVEL, "DRIVER_IRQL_NOT_LESS_OR_EQUAL", NULL,
                     "pageable routine paged_routine (PAGED_CODE) entered at IRQL 2", __FILE__, __LINE__);
}

typedef struct item {
    int value;
    LIST_ENTRY link;
} item_t;

TEST(list_entry_routines)
{
    LIST_ENTRY head;
    item_t a = {1}, b = {2}, c = {3};
    InitializeListHead(&head);
    CHECK(IsListEmpty(&head));
    InsertTailList(&head, &a.link);
    InsertTailList(&head, &b.link);
    InsertHeadList(&head, &c.link);
    CHECK(CONTAINING_RECORD(head.Flink, item_t, link)->value == 3);
    CHECK(CONTAINING_RECORD(RemoveTailList(&head), item_t, link)->value == 2);
    CHECK(CONTAINING_RECORD(RemoveHeadList(&head), item_t, link)->value == 3);
    CHECK(RemoveEntryList(&a.link) == TRUE && IsListEmpty(&head));
}

static void corrupt_list(void *arg)
{
    LIST_ENTRY head;
    item_t a = {1}, b = {2};
    InitializeListHead(&head);
    InsertTailList(&head, &a.link);
    InsertTailList(&head, &b.link);
    RemoveEntryList(&a.link);
    RemoveEntryList(&a.link); /* twice: its neighbours no longer point back at it */
}

TEST(list_entry_corruption_is_0x139)
{
    sched_fiber_fn *fns[] = {corrupt_list};
    sched_outcome_t o = fh_run(fns, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, NULL);
    fh_check_failure(o, TDF_CLASS_BUGCHECK, 0x139, 3, "KERNEL_SECURITY_CHECK_FAILURE", NULL,
                     "RemoveEntryList: LIST_ENTRY corrupted", __FILE__, __LINE__);
}

TEST(kernel_crt_wide_routines_use_two_byte_units)
{
    /* wcslen is the shim's (a macro), not glibc's 4-byte one */
    CHECK_EQ(wcslen(L"Aishwarya\0\0"), 9);
    CHECK_EQ(wcsnlen(L"abcdef", 4), 4);
    WCHAR buf[16];
    CHECK(wcscpy(buf, L"toast") == buf && wide_is(buf, "toast"));
    CHECK(wcscat(buf, L"er") == buf && wide_is(buf, "toaster"));
    CHECK(wcsncat(buf, L"-abc", 2) == buf && wide_is(buf, "toaster-a"));
    WCHAR pad[6] = {9, 9, 9, 9, 9, 9};
    wcsncpy(pad, L"ab", 5);
    CHECK(pad[0] == 'a' && pad[1] == 'b' && pad[2] == 0 && pad[4] == 0 && pad[5] == 9);
    CHECK(wcscmp(L"abc", L"abd") < 0 && wcscmp(L"abc", L"abc") == 0 && wcscmp(L"b", L"a") > 0);
    CHECK(wcsncmp(L"abcX", L"abcY", 3) == 0 && wcsncmp(L"abcX", L"abcY", 4) < 0);
    CHECK(_wcsicmp(L"MsToaster", L"mstoaster") == 0 && _wcsnicmp(L"ROOT\\x", L"root\\y", 5) == 0);
    CHECK(_stricmp("PCI", "pci") == 0 && _strnicmp("abcD", "ABCE", 3) == 0 && _stricmp("a", "b") < 0);
    const WCHAR *s = L"{guid}\\MsToaster";
    CHECK(wcschr(s, '\\') == s + 6 && wcsrchr(s, 'a') == s + 11 && wcschr(s, 'z') == NULL);
    CHECK(wcsstr(s, L"Toast") == s + 9 && wcsstr(s, L"Bread") == NULL && wcsstr(s, L"") == s);
}

static LONGLONG g_t0, g_t1;
static ULONGLONG g_it0, g_it1;
static void time_reader(void *arg)
{
    (void)arg;
    LARGE_INTEGER t;
    KeQuerySystemTime(&t);
    g_t0 = t.QuadPart;
    g_it0 = KeQueryInterruptTime();
    for (int i = 0; i < 3; i++)
        ke_yield();
    KeQuerySystemTime(&t);
    g_t1 = t.QuadPart;
    g_it1 = KeQueryInterruptTime();
}

TEST(time_is_the_step_count_and_only_moves_forward)
{
    sched_fiber_fn *fns[] = {time_reader};
    CHECK(fh_run(fns, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, NULL) == SCHED_OUTCOME_DONE);
    /* 2026-01-01 as the epoch, one 15.625 ms tick per step */
    CHECK(g_t0 >= 134116992000000000LL && g_t1 > g_t0);
    CHECK(g_t1 - g_t0 == (LONGLONG)(g_it1 - g_it0));
    CHECK((g_t1 - g_t0) % KeQueryTimeIncrement() == 0);
    LONGLONG first = g_t0;
    CHECK(fh_run(fns, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, NULL) == SCHED_OUTCOME_DONE);
    CHECK(g_t0 == first); /* the same run reads the same time */
}

static void verify_fails(void *arg)
{
    (void)arg;
    WDFVERIFY(1 + 1 == 2);
    WDFVERIFY(sizeof(WCHAR) == 4);
}

TEST(wdf_ptr_add_offset_and_wdfverify)
{
    ULONG block[4] = {1, 2, 3, 4};
    CHECK(*(PULONG)WDF_PTR_ADD_OFFSET(block, 2 * sizeof(ULONG)) == 3);
    CHECK(WDF_PTR_GET_OFFSET(block, &block[3]) == 3 * sizeof(ULONG));
    CHECK(WDF_ALIGN_SIZE_UP(13, 8) == 16 && WDF_ALIGN_SIZE_DOWN(13, 8) == 8);
    /* the verifier is on: a failed WDFVERIFY is the driver's assertion */
    sched_fiber_fn *fns[] = {verify_fails};
    sched_outcome_t o = fh_run(fns, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, NULL);
    fh_check_failure(o, TDF_CLASS_BUGCHECK, 0x0, 0, "NT_ASSERT", NULL, "NT_ASSERT(sizeof(WCHAR) == 4) failed",
                     __FILE__, __LINE__);
}

int main(void) { return tdf_test_main(); }
