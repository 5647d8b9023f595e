/* The same driver written through the public API only: the check passes. */
#include <tdf/harness.h>

NTSTATUS Good_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    (void)DriverObject, (void)RegistryPath;
    return STATUS_SUCCESS;
}
