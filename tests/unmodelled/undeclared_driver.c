/* Deliberately wrong: driver code calling a routine the shim does not declare
 * (MmAllocateContiguousMemory: contiguous physical memory is not modelled). Compiled like a driver
 * image, with -Werror=implicit-function-declaration, it must not compile
 * (tests/unmodelled/compile_check.cmake; docs/WRITING-A-TARGET.md). */
#include <tdf/wdf.h>

NTSTATUS Undeclared_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

NTSTATUS Undeclared_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    PHYSICAL_ADDRESS highest = {.QuadPart = -1};
    UNREFERENCED_PARAMETER(DriverObject);
    UNREFERENCED_PARAMETER(RegistryPath);
    PVOID memory = MmAllocateContiguousMemory(4096, highest);
    return memory ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}
