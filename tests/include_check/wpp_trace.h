/* A driver's WPP configuration, as the WDK's samples write it. */
#pragma once
#define WPP_CONTROL_GUIDS \
    WPP_DEFINE_CONTROL_GUID(WppCheck, (11111111, 2222, 3333, 4444, 555555555555), WPP_DEFINE_BIT(TRACE_DRIVER))
// begin_wpp config
// FUNC KdPrint{LEVEL=TRACE_LEVEL_INFORMATION, FLAGS=TRACE_DRIVER}((MSG, ...));
// FUNC TraceEvents(LEVEL, FLAGS, MSG, ...);
// FUNC WppPrintDevice{LEVEL=TRACE_LEVEL_INFORMATION, FLAGS=TRACE_DRIVER}(IFRLOG, MSG, ...);
// end_wpp
