/* Deliberately wrong: driver code calling a routine the shim does not declare
 * (IoAllocateWorkItem: work items are not modelled). Compiled like a driver
 * image, with -Werror=implicit-function-declaration, it must not compile
 * (tests/unmodelled/compile_check.cmake; docs/WRITING-A-TARGET.md). */
#include <tdf/wdf.h>

NTSTATUS Undeclared_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

NTSTATUS Undeclared_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    PDEVICE_OBJECT deviceObject = NULL;
    UNREFERENCED_PARAMETER(DriverObject);
    UNREFERENCED_PARAMETER(RegistryPath);
    PVOID workItem = IoAllocateWorkItem(deviceObject);
    return workItem ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}
