/* Deliberately wrong: driver code reaching into the model's internals. The
 * include check (cmake/CheckImageIncludes.cmake) must reject this file. */
#include <tdf/wdf.h>

#include "../../model/kernel/kernel.h"

NTSTATUS Bad_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    (void)DriverObject, (void)RegistryPath;
    return STATUS_SUCCESS;
}
