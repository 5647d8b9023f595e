/*
 * WPP in the shim's no-trace form (include/tdf/wpp.h): a trace call puts its
 * format text into the trace, and recorder logs are distinct non-NULL
 * handles. The text is the driver's string literal, which lives as long as
 * the image's code, so the trace stores the pointer.
 */
#include "kernel.h"

#include "tdf/wpp.h"

VOID TdfWppMessage(PCSTR Function, PCSTR Format) { SCHED_TRACE2("WPP %s: %s", Function, Format); }

/* One static byte stands for every log: drivers only pass the handle back. */
static char g_recorder_log;

VOID WppRecorderConfigure(PRECORDER_CONFIGURE_PARAMS ConfigureParams) { (void)ConfigureParams; }

NTSTATUS WppRecorderLogCreate(PRECORDER_LOG_CREATE_PARAMS CreateParams, RECORDER_LOG *RecorderLog)
{
    if (!CreateParams || CreateParams->Size != sizeof(*CreateParams))
        return STATUS_INVALID_PARAMETER;
    *RecorderLog = (RECORDER_LOG)&g_recorder_log;
    return STATUS_SUCCESS;
}

VOID WppRecorderLogDelete(RECORDER_LOG RecorderLog) { (void)RecorderLog; }

RECORDER_LOG WppRecorderLogGetDefault(void) { return (RECORDER_LOG)&g_recorder_log; }
