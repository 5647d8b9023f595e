/*
 * A driver written against the WDK's own header names: every forwarding
 * header of include/tdf/wdk/ and a use of the names they bring. Built as an
 * image in every configuration (tests/CMakeLists.txt), so a forwarding header
 * that breaks is a build error.
 */
#include <ntddk.h>
#include <wdm.h>
#include <ntifs.h>
#include <wdf.h>
#include <initguid.h>
#include <ntstrsafe.h>
#include <ntintsafe.h>
#include <wdmsec.h>

DRIVER_INITIALIZE WdkNames_DriverEntry;

_Use_decl_annotations_
NTSTATUS WdkNames_DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    PAGED_CODE();
    UNREFERENCED_PARAMETER(DriverObject);
    DECLARE_UNICODE_STRING_SIZE(name, 32);
    LIST_ENTRY head;
    LARGE_INTEGER when;
    ULONG sum;
    InitializeListHead(&head);
    when.QuadPart = 0;
    when.HighPart = 1;
    if (!NT_SUCCESS(RtlULongAdd(when.LowPart, 1, &sum)))
        return STATUS_INTEGER_OVERFLOW;
    KdPrint(("WdkNames: %wZ, %u\n", RegistryPath, sum));
    return RtlUnicodeStringPrintf(&name, L"%ws%d", L"dev", (int)FILE_DEVICE_BUS_EXTENDER);
}
