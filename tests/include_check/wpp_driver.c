/*
 * A driver traced with WPP: its .tmh is generated from wpp_trace.h
 * (tdf_add_image WPP_CONFIG). Built twice (tests/CMakeLists.txt): tracing to
 * the run's trace, and with TDF_WPP_NO_TRACE. `not_declared_anywhere` is an
 * argument of every trace call: the build passes only because the generated
 * macros never evaluate the arguments.
 */
#include <ntddk.h>
#include <wdf.h>
#include <wpprecorder.h>

#include "wpp_trace.h"
#include "wpp_driver.tmh"

DRIVER_INITIALIZE WppCheck_DriverEntry;

NTSTATUS WppCheck_DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    RECORDER_LOG log;
    RECORDER_LOG_CREATE_PARAMS params;
    WPP_INIT_TRACING(DriverObject, RegistryPath);
    RECORDER_LOG_CREATE_PARAMS_INIT(&params, "check");
    NTSTATUS status = WppRecorderLogCreate(&params, &log);
    KdPrint(("entry %!STATUS!\n", not_declared_anywhere));
    TraceEvents(TRACE_LEVEL_ERROR, TRACE_DRIVER, "events %d\n", not_declared_anywhere);
    WppPrintDevice(log, "device %p\n", not_declared_anywhere);
    DoTraceMessage(TRACE_DRIVER, "message %d\n", not_declared_anywhere);
    WppRecorderLogDelete(log);
    WPP_CLEANUP(DriverObject);
    return status;
}
