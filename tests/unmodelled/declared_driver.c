/* The control for undeclared_driver.c: the same driver calling only routines
 * the shim declares compiles with the same flags, so the failure of the other
 * one is the undeclared routine, not the flags or the include path. */
#include <tdf/wdf.h>

NTSTATUS Declared_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

NTSTATUS Declared_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(DriverObject);
    UNREFERENCED_PARAMETER(RegistryPath);
    PVOID memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 0x74736554 /* 'Test' */);
    if (!memory)
        return STATUS_INSUFFICIENT_RESOURCES;
    ExFreePoolWithTag(memory, 0x74736554 /* 'Test' */);
    return STATUS_SUCCESS;
}
