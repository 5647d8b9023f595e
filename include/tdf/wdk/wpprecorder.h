/* <wpprecorder.h>: WPP recorder, no-trace mode (include/tdf/wpp.h). */
#include <tdf/wpp.h>
